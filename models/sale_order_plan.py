# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Payment plans on orders: confirming an order expands its plan into one payment request per
step; a change of the order reschedules the steps not paid yet."""

import hashlib
import json
from datetime import timedelta

from markupsafe import Markup

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import format_amount
from odoo.tools import format_date


class SaleOrder(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "sale.order"  # pylint: disable=consider-merging-classes-inherited

    payment_request_plan_id = fields.Many2one(
        string="Payment Plan",
        comodel_name="payment.request.plan",
        check_company=True,
        tracking=True,
        domain="[('company_id', 'in', (False, company_id))]",
        help="Ask the payment of the order in steps: each step is a payment request sent (or "
        "charged on the saved card, with auto-pay) on its date, from the confirmation on.",
    )
    payment_request_step_ids = fields.One2many(
        string="Payment Schedule",
        comodel_name="payment.request",
        inverse_name="sale_order_id",
        domain=[("plan_step", ">", 0)],
        readonly=True,
    )
    payment_request_plan_locked = fields.Boolean(
        string="Plan Locked",
        compute="_compute_payment_request_plan_state",
        help="A step of the plan is paid: the plan can no longer change.",
    )
    payment_request_plan_next = fields.Char(
        string="Next Payment", compute="_compute_payment_request_plan_state"
    )

    # === COMPUTE METHODS === #

    @api.depends(
        "payment_request_step_ids.state",
        "payment_request_step_ids.amount_paid",
        "payment_request_step_ids.due_date",
    )
    @api.depends_context("lang")
    def _compute_payment_request_plan_state(self):
        for order in self:
            steps = order.sudo().payment_request_step_ids
            order.payment_request_plan_locked = any(
                step.state == "paid" or step.amount_paid for step in steps
            )
            upcoming = steps.filtered(lambda step: step.state in ("draft", "open")).sorted(
                lambda step: (step.due_date or fields.Date.today(), step.plan_step)
            )[:1]
            order.payment_request_plan_next = (
                self.env._(
                    "%(amount)s on %(date)s",
                    amount=format_amount(self.env, upcoming.amount_remaining, order.currency_id),
                    date=format_date(self.env, upcoming.due_date),
                )
                if upcoming
                else False
            )

    # === CRUD METHODS === #

    def write(self, vals):
        if "payment_request_plan_id" in vals:
            locked = self.filtered(
                lambda order: (
                    order.payment_request_plan_locked
                    and order.payment_request_plan_id.id != vals["payment_request_plan_id"]
                )
            )
            if locked:
                raise UserError(
                    self.env._(
                        "A payment of the plan of %(orders)s is already paid: its plan can no "
                        "longer change. Change the amounts of its requests instead.",
                        orders=", ".join(locked.mapped("name")),
                    )
                )
        plans = {order.id: order.payment_request_plan_id for order in self}
        dates = {order.id: order.commitment_date for order in self}
        result = super().write(vals)
        confirmed = self.filtered(lambda order: order.state == "sale")
        replanned = confirmed.filtered(
            lambda order: order.payment_request_plan_id != plans[order.id]
        )
        if replanned:
            replanned._payment_request_replan()
        moved = (confirmed - replanned).filtered(
            lambda order: order.payment_request_plan_id and order.commitment_date != dates[order.id]
        )
        if moved:
            moved._payment_request_reschedule_plan(
                self.env._("the delivery date of the order changed")
            )
        return result

    # === ACTION METHODS === #

    def action_confirm(self):
        """Override of `sale` to expand the payment plans of the orders into their steps."""
        self.filtered("payment_request_plan_id")._payment_request_check_plan()
        result = super().action_confirm()
        self._payment_request_expand_plan()
        return result

    # === HOOKS OF THE REQUESTS === #

    def _get_payment_request_values(self, purpose=None, **kwargs):
        """Override: a quotation with a plan asks its first step, not its total."""
        values = super()._get_payment_request_values(purpose, **kwargs)
        if purpose == "quote" and self.payment_request_plan_id:
            self._payment_request_check_plan()
            schedule = self._payment_request_plan_schedule(fields.Date.context_today(self))
            first = schedule[0]
            values["amount"] = first["amount"]
            values["description"] = self.env._(
                "Approval of quotation %(order)s and its first payment (%(step)s of %(count)s)",
                order=self.name,
                step=1,
                count=len(schedule),
            )
        return values

    def _get_payment_request_fingerprint(self):
        """Override: the plan of a quotation is part of what its customer approves."""
        digest = super()._get_payment_request_fingerprint()
        plan = self.payment_request_plan_id
        if not plan:
            return digest
        content = [
            digest,
            plan.id,
            [
                [line.value, line.value_amount, line.delay_type, line.nb_days]
                for line in plan.line_ids.sorted("sequence")
            ],
            self.commitment_date,
        ]
        return hashlib.sha256(json.dumps(content, default=str).encode()).hexdigest()

    def _get_payment_request_quotes_to_invoice(self):
        """Override: an approved quotation with a plan is paid step by step, not invoiced."""
        requests = super()._get_payment_request_quotes_to_invoice()
        return requests.filtered(lambda request: not request.sale_order_id.payment_request_plan_id)

    def _payment_request_lines_changed(self, totals=None):
        """Override: the steps not paid yet follow the new total."""
        result = super()._payment_request_lines_changed(totals)
        changed = self.filtered(
            lambda order: (
                order.state == "sale"
                and order.payment_request_plan_id
                and (
                    totals is None
                    or order.id not in totals
                    or order.currency_id.compare_amounts(order.amount_total, totals[order.id])
                )
            )
        )
        if changed:
            changed._payment_request_reschedule_plan(self.env._("the order's total changed"))
        return result

    # === BUSINESS METHODS === #

    def _payment_request_check_plan(self):
        """Refuse a plan that asks a step before the delivery date of an order without one, or
        more than the order.

        :raise UserError: naming the order and what to change
        """
        for order in self:
            plan = order.payment_request_plan_id
            if not order.commitment_date and "days_before_commitment" in plan.line_ids.mapped(
                "delay_type"
            ):
                raise UserError(
                    self.env._(
                        "Set the delivery date of %(order)s: its payment plan %(plan)s asks a "
                        "payment some days before it.",
                        order=order.name,
                        plan=plan.name,
                    )
                )
            order._payment_request_plan_schedule(fields.Date.context_today(order))

    def _payment_request_plan_schedule(self, confirmation_date=None):
        """Return the steps of the order's plan on its current total.

        :param date confirmation_date: when the order is (or would be) confirmed; by default the
            date of its confirmation
        :return: see `payment.request.plan._compute_steps`
        :rtype: list
        """
        self.ensure_one()
        plan = self.payment_request_plan_id.with_company(self.company_id)
        if not plan:
            return []
        confirmation_date = confirmation_date or fields.Date.context_today(self, self.date_order)
        commitment = (
            fields.Date.context_today(self, self.commitment_date) if self.commitment_date else None
        )
        return plan._compute_steps(
            self.amount_total, self.currency_id, confirmation_date, commitment
        )

    def _payment_request_get_steps(self):
        """Return the steps of the order's plan that count: of its current plan, neither
        cancelled nor replaced."""
        self.ensure_one()
        plan = self.payment_request_plan_id
        return self.payment_request_step_ids.filtered(
            lambda step: (
                step.state != "cancelled" and not step.replaced_by_id and step.plan_id == plan
            )
        ).sorted(lambda step: (step.plan_step, step.id))

    def _payment_request_get_open_invoices(self):
        """Return the posted invoices of the order that remain to pay."""
        self.ensure_one()
        return self.invoice_ids.filtered(
            lambda move: (
                move.move_type == "out_invoice"
                and move.state == "posted"
                and move.payment_state in ("not_paid", "partial")
            )
        )

    def _payment_request_can_charge(self):
        """Whether the steps of the order are charged on its saved card (auto-pay on)."""
        self.ensure_one()
        token = self.sudo().payment_request_token_id
        return bool(
            self.payment_request_autopay_state == "on"
            and token
            and token.active
            and not token.is_expired
        )

    def _payment_request_plan_channel(self, partner):
        """Return how the steps of the order reach `partner`: by the channel of its first step
        sent, else by every way their contact allows (as auto-pay's fallback does), within
        what their contact allows.

        :return: (channel or False, E.164 number or False)
        :rtype: tuple
        """
        self.ensure_one()
        sent = (
            self.sudo()
            .payment_request_step_ids.filtered("channel")
            .sorted(lambda step: (step.plan_step, step.id))[:1]
        )
        available, number = partner._payment_request_get_channel(self.company_id)
        if not available:
            return False, False
        wanted = sent.channel or available
        if wanted == "both" and available == "both":
            return "both", number
        if wanted == "sms" and number:
            return "sms", number
        if partner.email:
            return "email", False
        return "sms", number

    def _payment_request_step_values(self, step, count):
        """Return the create values of the request of one step of the order's plan.

        :param dict step: see `payment.request.plan._compute_steps`, with its `amount` to ask
        :param int count: the number of steps of the plan
        :rtype: dict
        """
        self.ensure_one()
        partner = self.partner_invoice_id or self.partner_id
        today = fields.Date.context_today(self)
        notice = timedelta(days=self.company_id.payment_request_plan_notice_days)
        description = self.env._(
            "Payment %(step)s of %(count)s of order %(order)s, due on %(date)s",
            step=step["number"],
            count=count,
            order=self.name,
            date=format_date(self.with_context(lang=partner.lang).env, step["due_date"]),
        )
        return {
            "purpose": "deposit" if step["number"] == 1 and count > 1 else "order",
            "partner_id": partner.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "sale_order_id": self.id,
            "amount": step["amount"],
            "description": description,
            "external_reference": self.client_order_ref or False,
            "user_id": (self.user_id or self.env.user).id,
            "plan_id": self.payment_request_plan_id.id,
            "plan_step": step["number"],
            "plan_step_count": count,
            "due_date": step["due_date"],
            "scheduled_date": max(step["due_date"] - notice, today),
        }

    def _payment_request_expand_plan(self):
        """Make the steps of the plans of the confirmed orders and send those due now.

        The open approval link of a quotation is its first step, already sent; the steps
        scheduled today are sent at once (charged by the plan cron when auto-pay is on), the
        others wait in draft for their date.
        """
        Request = self.env["payment.request"].sudo()
        new_steps = Request
        for order in self.filtered(lambda order: order.payment_request_plan_id):
            if order.state != "sale" or order._payment_request_get_steps():
                continue
            schedule = order._payment_request_plan_schedule()
            asked = order._payment_request_allocate(schedule, Request)
            quote = order.sudo().payment_request_ids.filtered(
                lambda request: request.purpose == "quote" and request.state == "open"
            )[:1]
            vals_list = []
            for step in schedule:
                amount = asked.get(step["number"], 0.0)
                if order.currency_id.compare_amounts(amount, 0) <= 0:
                    continue
                values = order._payment_request_step_values(
                    dict(step, amount=amount), len(schedule)
                )
                if quote and step["number"] == 1:
                    quote.write(
                        {
                            key: values[key]
                            for key in (
                                "amount",
                                "plan_id",
                                "plan_step",
                                "plan_step_count",
                                "due_date",
                                "scheduled_date",
                            )
                        }
                    )
                    end = quote._get_due_date_end()
                    if quote.expiration_date < end:
                        quote.expiration_date = end
                    continue
                vals_list.append(values)
            new_steps |= Request.with_context(mail_auto_subscribe_no_notify=True).create(vals_list)
            order.message_post(
                body=order._payment_request_schedule_message(
                    self.env._("Payment plan %(plan)s:", plan=order.payment_request_plan_id.name)
                ),
                subtype_xmlid="mail.mt_note",
            )
        new_steps._dispatch_plan_steps()

    def _payment_request_allocate(self, schedule, steps):
        """Return what each step of `schedule` asks, once the money received or asked by other
        means is counted: it covers the first steps, the last step takes the balance.

        :param list schedule: the plan's steps on the order (`_payment_request_plan_schedule`)
        :param payment.request steps: the steps to ask again (not paid, nothing under way); the
            order's other steps that count are paid or under way
        :return: {step number: amount}
        :rtype: dict
        """
        self.ensure_one()
        currency = self.currency_id
        others = self.sudo()._payment_request_get_steps() - steps
        # What the order received (its transactions), and what its other steps still ask.
        covered = self.amount_paid + sum(
            others.filtered(lambda step: step.state in ("open", "expired")).mapped(
                "amount_remaining"
            )
        )
        numbers = set(steps.mapped("plan_step")) if steps else {s["number"] for s in schedule}
        last = max(numbers) if numbers else 0
        asked, cumulative = {}, 0.0
        for step in schedule:
            cumulative += step["amount"]
            if step["number"] not in numbers:
                continue
            if step["number"] == last:
                amount = self.amount_total - covered
            else:
                amount = min(step["amount"], cumulative - covered)
            amount = currency.round(max(amount, 0.0))
            asked[step["number"]] = amount
            covered += amount
        return asked

    def _payment_request_reschedule_plan(self, reason=None):
        """Ask again the steps of the plans not paid yet, on the orders as they are now: their
        amounts (covered first by the money received) and their dates. A draft step is
        updated; a step already sent is closed and replaced; a step covered is dropped. The
        order's chatter says what changed.

        :param str reason: what changed, for the chatter; None for payments received
        """
        Request = self.env["payment.request"].sudo()
        new_steps = Request
        planned = self.filtered(
            lambda order: order.payment_request_plan_id and order.state == "sale"
        )
        # What tells whether a step sent can move, read for all the orders at once.
        planned.sudo().payment_request_step_ids.filtered(
            lambda step: step.state == "open"
        ).transaction_ids.mapped("state")
        for order in planned:
            steps = order.sudo()._payment_request_get_steps()
            movable = steps.filtered(lambda step: step._is_plan_step_movable())
            if not movable:
                continue
            schedule = {step["number"]: step for step in order._payment_request_plan_schedule()}
            asked = order._payment_request_allocate(list(schedule.values()), movable)
            changes = []
            for step in movable:
                target = schedule.get(step.plan_step)
                amount = asked.get(step.plan_step, 0.0)
                due_date = target["due_date"] if target else step.due_date
                if (
                    not order.currency_id.compare_amounts(amount, step.amount)
                    and due_date == step.due_date
                ):
                    continue
                changes.append((step.plan_step_label, step.amount, step.due_date, amount, due_date))
                if order.currency_id.compare_amounts(amount, 0) <= 0:
                    step.write({"state": "cancelled", "cancel_reason": "covered"})
                    continue
                values = order._payment_request_step_values(
                    dict(target or {}, number=step.plan_step, amount=amount, due_date=due_date),
                    step.plan_step_count,
                )
                if step.state == "draft":
                    step.write(
                        {
                            key: values[key]
                            for key in ("amount", "due_date", "scheduled_date", "description")
                        }
                    )
                    continue
                # Sent: its link asked the old amount or date, so a new one goes.
                replacement = Request.with_context(mail_auto_subscribe_no_notify=True).create(
                    {**values, "purpose": step.purpose if step.purpose != "quote" else "order"}
                )
                step.write(
                    {
                        "state": "cancelled",
                        "cancel_reason": "plan",
                        "replaced_by_id": replacement.id,
                    }
                )
                new_steps |= replacement
            if changes:
                intro = (
                    self.env._("Payment plan updated (%(reason)s):", reason=reason)
                    if reason
                    else self.env._("Payment plan updated (payments received):")
                )
                order.message_post(
                    body=order._payment_request_changes_message(intro, changes),
                    subtype_xmlid="mail.mt_note",
                )
        new_steps._dispatch_plan_steps()

    def _payment_request_replan(self):
        """Cancel the steps not paid yet of orders whose plan changed, and expand the new plan.
        The steps of the former plan no longer count (`_payment_request_get_steps`)."""
        self.sudo().payment_request_step_ids.filtered(
            lambda step: step.state in ("draft", "open")
        ).write({"state": "cancelled", "cancel_reason": "plan"})
        self._payment_request_expand_plan()

    def _payment_request_schedule_message(self, intro):
        """Return the chatter message that lists the order's steps."""
        self.ensure_one()
        items = Markup("").join(
            Markup("<li>%s</li>")
            % self.env._(
                "%(step)s: %(amount)s due on %(date)s",
                step=step.plan_step_label,
                amount=format_amount(self.env, step.amount, step.currency_id),
                date=format_date(self.env, step.due_date),
            )
            for step in self.sudo()._payment_request_get_steps()
        )
        return Markup("<p>%s</p><ul>%s</ul>") % (intro, items)

    def _payment_request_changes_message(self, intro, changes):
        """Return the chatter message of a rescheduling.

        :param list changes: [(step label, old amount, old due date, amount, due date)]
        """
        self.ensure_one()
        currency = self.currency_id
        items = Markup("").join(
            Markup("<li>%s</li>")
            % (
                self.env._(
                    "%(step)s: %(old)s due on %(old_date)s, now %(new)s due on %(new_date)s",
                    step=label,
                    old=format_amount(self.env, old_amount, currency),
                    old_date=format_date(self.env, old_date),
                    new=format_amount(self.env, amount, currency),
                    new_date=format_date(self.env, due_date),
                )
                if currency.compare_amounts(amount, 0) > 0
                else self.env._("%(step)s: covered by the payments received, not asked", step=label)
            )
            for label, old_amount, old_date, amount, due_date in changes
        )
        return Markup("<p>%s</p><ul>%s</ul>") % (intro, items)
