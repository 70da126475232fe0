# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The steps of an order's payment plan: one request per step, with the date its money is due
and the date it is sent (or charged on the order's saved card) by the plan cron."""

import logging
from datetime import datetime
from datetime import time
from time import monotonic

import pytz
import requests
from markupsafe import Markup

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models
from odoo import modules
from odoo import tools
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools import format_amount
from odoo.tools import format_date
from odoo.tools import split_every

from .. import const

_logger = logging.getLogger(__name__)


class PaymentRequest(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    due_date = fields.Date(
        readonly=True,
        copy=False,
        help="When the money of this step of the order's payment plan is due: its link can be "
        "paid until the end of that day at least.",
    )
    scheduled_date = fields.Date(
        readonly=True,
        copy=False,
        # Set on the steps of payment plans only: the cron's search reads a small index.
        index="btree_not_null",
        help="When this step of the order's payment plan is sent to the customer, or charged "
        "on the order's saved card.",
    )
    plan_id = fields.Many2one(
        string="Payment Plan",
        comodel_name="payment.request.plan",
        readonly=True,
        copy=False,
        ondelete="restrict",
    )
    plan_step = fields.Integer(
        string="Step", readonly=True, copy=False, help="The number of the step in its plan."
    )
    plan_step_count = fields.Integer(string="Steps", readonly=True, copy=False)
    plan_step_label = fields.Char(string="Payment", compute="_compute_plan_step_label")
    plan_charge_state = fields.Selection(
        string="Auto-pay Charge",
        selection=const.PLAN_CHARGE_STATES,
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The charge of the step on the order's saved card, when its auto-pay is on.",
    )
    cancel_reason = fields.Selection(
        selection_add=[
            ("plan", "Payment plan updated"),
            ("covered", "Covered by earlier payments"),
        ]
    )

    # === COMPUTE METHODS === #

    @api.depends("plan_step", "plan_step_count")
    @api.depends_context("lang")
    def _compute_plan_step_label(self):
        for request in self:
            request.plan_step_label = (
                self.env._(
                    "%(step)s of %(count)s", step=request.plan_step, count=request.plan_step_count
                )
                if request.plan_step
                else ""
            )

    # === ACTION METHODS === #

    def action_open(self):
        """Override to keep the link of a step payable until the end of its due date."""
        result = super().action_open()
        for step in self.filtered("due_date"):
            end = step._get_due_date_end()
            if not step.expiration_date or step.expiration_date < end:
                step.sudo().expiration_date = end
        return result

    def action_recreate(self):
        """Override to make a new step of an expired or cancelled one, sent at once by the
        channel of the order's plan, due today at the earliest."""
        if not self.plan_step:
            return super().action_recreate()
        action = super().action_recreate()
        new_step = self.browse(action["res_id"])
        today = fields.Date.context_today(self)
        due_date = max(self.due_date or today, today)
        step = {"number": self.plan_step, "amount": new_step.amount, "due_date": due_date}
        new_step.sudo().write(
            {
                "plan_id": self.plan_id.id,
                "plan_step": self.plan_step,
                "plan_step_count": self.plan_step_count,
                "due_date": due_date,
                "scheduled_date": today,
                "description": self.sale_order_id._payment_request_step_values(
                    step, self.plan_step_count
                )["description"],
            }
        )
        new_step._send_plan_steps()
        return action

    # === BUSINESS METHODS === #

    def _get_due_date_end(self):
        """Return the end of the step's due date in the customer's time zone (UTC, naive)."""
        self.ensure_one()
        tz = pytz.timezone(self.customer_tz or "UTC")
        end = tz.localize(datetime.combine(self.due_date, time.max))
        return end.astimezone(pytz.UTC).replace(tzinfo=None, microsecond=0)

    def _get_link_templates(self):
        if self.plan_step and self.purpose != "quote":
            return (
                "payment_request.mail_template_payment_request",
                "payment_request.sms_template_payment_request_plan",
            )
        return super()._get_link_templates()

    def _is_awaiting_quote_invoice(self):
        # An approved quotation with a plan is paid step by step, its first step on its page.
        return super()._is_awaiting_quote_invoice() and not self.plan_step

    def _get_quote_approved_message(self, name):
        if not self.plan_step:
            return super()._get_quote_approved_message(name)
        return self.env._(
            "%(name)s approved and signed the quotation %(order)s; its first payment "
            "(%(amount)s) awaits their payment, the others follow its payment plan.",
            name=name,
            order=self.sale_order_id.name,
            amount=format_amount(self.env, self.amount, self.currency_id),
        )

    def _get_transaction_values(self, amount=None):
        """Override to count a step's payment on its order, and on the order's invoices once
        it is invoiced (the payment then settles them)."""
        values = super()._get_transaction_values(amount=amount)
        if self.plan_step and self.sale_order_id:
            create_values = values["custom_create_values"]
            create_values["sale_order_ids"] = [Command.set(self.sale_order_id.ids)]
            invoices = self.sale_order_id._payment_request_get_open_invoices()
            if invoices and "invoice_ids" not in create_values:
                create_values["invoice_ids"] = [Command.set(invoices.ids)]
        return values

    def _get_portal_page_values(self):
        values = super()._get_portal_page_values()
        order = self.sale_order_id
        if self.plan_step or (order.payment_request_plan_id and self._is_quote_to_approve()):
            values["plan_schedule"] = self._get_plan_schedule()
        return values

    def _get_plan_schedule(self):
        """Return the schedule of the request's order, as its pay page shows it.

        :return: [{'number', 'count', 'amount', 'due_date' (text), 'status'}], status being
            'paid', 'current' (this request), 'next' or 'later'
        :rtype: list
        """
        self.ensure_one()
        order = self.sale_order_id
        rows = []
        if not self.plan_step:
            # A quotation to approve: the steps it will have if confirmed today.
            today = fields.Date.context_today(self)
            for step in order._payment_request_plan_schedule(today):
                rows.append(
                    {
                        "number": step["number"],
                        "count": len(order.payment_request_plan_id.line_ids),
                        "amount": step["amount"],
                        "due_date": format_date(self.env, step["due_date"]),
                        "status": "current" if step["number"] == 1 else "later",
                    }
                )
            return rows
        steps = order.sudo()._payment_request_get_steps()
        next_found = False
        for step in steps:
            if step.state == "paid":
                status = "paid"
            elif step == self:
                status = "current"
                next_found = True
            elif not next_found:
                status = "next"
                next_found = True
            else:
                status = "later"
            rows.append(
                {
                    "number": step.plan_step,
                    "count": step.plan_step_count,
                    "amount": step.amount,
                    "due_date": format_date(self.env, step.due_date),
                    "status": status,
                }
            )
        return rows

    def _expire(self):
        steps = self.filtered("plan_step")
        result = super()._expire()
        for step in steps:
            order = step.sale_order_id
            body = self.env._(
                "Step %(step)s of the payment plan of %(order)s expired unpaid (%(amount)s due "
                "on %(date)s). Recreate it to send the customer a new link.",
                step=step.plan_step_label,
                order=order.name,
                amount=format_amount(self.env, step.amount_remaining, step.currency_id),
                date=format_date(self.env, step.due_date),
            )
            step._notify_requester(body)
            if salesperson := order.user_id or step.user_id:
                step.sudo().activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Payment plan step expired"),
                    note=Markup("<p>%s</p>") % body,
                    user_id=salesperson.id,
                )
        return result

    def _notify_requester(self, body):
        """Override: the salesperson of a step's order hears of it too."""
        if not self.plan_step or self.purpose == "quote":
            return super()._notify_requester(body)
        partners = self.user_id.partner_id | self.sale_order_id.user_id.partner_id
        self.sudo().message_post(
            body=body,
            partner_ids=partners.ids,
            subtype_xmlid="mail.mt_note",
            message_type="comment",
        )

    def _is_plan_step_movable(self):
        """Whether the step may still be asked again (another amount or date): nothing of it
        is paid, nor on its way."""
        self.ensure_one()
        if self.state == "draft":
            return True
        return (
            self.state == "open"
            and not self.amount_paid
            and self.plan_charge_state not in (*const.PLAN_CHARGE_IN_FLIGHT, "pending")
            and not self.sudo().transaction_ids.filtered(
                lambda tx: tx.state in const.BLOCKING_TX_STATES
            )
        )

    def _dispatch_plan_steps(self):
        """Send the draft steps scheduled today or before; those of orders with auto-pay on
        are charged by the plan cron, woken up for them."""
        today = fields.Date.context_today(self)
        due = self.filtered(
            lambda step: (
                step.state == "draft" and step.scheduled_date and step.scheduled_date <= today
            )
        )
        to_charge = due.filtered(lambda step: step.sale_order_id._payment_request_can_charge())
        (due - to_charge)._send_plan_steps()
        if to_charge:
            to_charge._schedule_plan_charge()
            self.env.ref("payment_request.ir_cron_payment_request_plan")._trigger()

    # === PLAN CRON === #

    @api.model
    def _cron_send_plan_steps(self, batch_size=const.PLAN_BATCH_SIZE):
        """Send one batch of the steps of payment plans scheduled today or before, and charge
        those of orders with auto-pay on.

        Each step is sent once: its row is locked (rows held by another run are skipped) and
        it leaves the draft state in the transaction that sends it, so that a second run,
        concurrent or later, finds nothing more to send. Steps covered by payments received
        meanwhile are shrunk or dropped first. The batch goes in chunks, each committed: a
        chunk that meets a concurrent update (a customer paying, a partner written by another
        worker) is rolled back alone and sent by the next run, the others are kept. A call
        stops after `const.PLAN_CRON_TIME_BUDGET` seconds and triggers the job again.

        :param int batch_size: how many steps to send in this call
        :return: the number of steps still to send
        """
        today = fields.Date.context_today(self)
        domain = [("state", "=", "draft"), ("scheduled_date", "<=", today)]
        candidates = self.search(domain, limit=batch_size, order="scheduled_date, id")
        done = 0
        deadline = monotonic() + const.PLAN_CRON_TIME_BUDGET
        for chunk in split_every(const.PLAN_SEND_CHUNK, candidates.ids, self.browse):
            if done and monotonic() > deadline:
                break
            try:
                with self.env.cr.savepoint():
                    done += chunk._send_due_plan_steps(today)
                    self.env.flush_all()
            except const.CONCURRENCY_ERRORS:
                _logger.info("Plan steps %s met a concurrent update: sent later", chunk.ids)
                self._plan_rollback()
                continue
            self._plan_commit()
        self._charge_plan_steps()
        remaining = self.search_count(domain)
        # One batch per run of the job, the job triggered again for the rest: the scheduler
        # would call it again up to ten times in the same run, past the cron worker's time
        # limit on a loaded server, and the killed run would leave the rest to the next call.
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)
        if remaining:
            self.env.ref("payment_request.ir_cron_payment_request_plan")._trigger()
        return remaining

    def _send_due_plan_steps(self, today):
        """Lock the steps still to send, reschedule their orders, then send them (or schedule
        their charge on the saved card).

        :return: how many steps were sent or scheduled for a charge
        :rtype: int
        """
        steps = self._lock_plan_steps(today)
        if not steps:
            return 0
        steps.sale_order_id._payment_request_reschedule_plan()
        # Rescheduled meanwhile: dropped as covered, or moved to a later date.
        steps = steps.filtered(lambda step: step.state == "draft" and step.scheduled_date <= today)
        to_charge = steps.filtered(lambda step: step.sale_order_id._payment_request_can_charge())
        (steps - to_charge)._send_plan_steps(queue=True)
        to_charge._schedule_plan_charge()
        return len(steps)

    def _lock_plan_steps(self, today):
        """Lock the rows of the steps still to send; skip those another transaction holds.

        :return: the steps locked, their state read again
        """
        if not self:
            return self
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM payment_request
                 WHERE id IN %s AND state = 'draft' AND scheduled_date <= %s
                   FOR UPDATE SKIP LOCKED
                """,
                tuple(self.ids),
                today,
            )
        )
        locked = self.browse(row[0] for row in self.env.cr.fetchall())
        locked.invalidate_recordset(["state", "scheduled_date", "amount"])
        return locked

    def _send_plan_steps(self, queue=False):
        """Send the links of the steps by the channel of their order's plan.

        A customer who cannot be reached gets their step opened all the same; the salesperson
        is told to send it.

        :param bool queue: leave the emails and SMS to their schedulers (the cron)
        """
        by_channel, numbers = {}, {}
        for step in self:
            channel, number = step.sale_order_id._payment_request_plan_channel(step.partner_id)
            by_channel.setdefault(channel, self.browse())
            by_channel[channel] |= step
            numbers[step.id] = number
        for channel, channel_steps in by_channel.items():
            if not channel:
                channel_steps.filtered(lambda step: step.state == "draft").action_open()
                for step in channel_steps:
                    step._notify_requester(
                        self.env._(
                            "The customer has neither an email address nor a mobile number: "
                            "send them this payment yourself."
                        )
                    )
                continue
            channel_steps._send_link(
                channel,
                {step.id: step.partner_id for step in channel_steps},
                {step.id: numbers[step.id] for step in channel_steps},
                queue=queue,
            )

    # === AUTO-PAY OF STEPS === #

    def _schedule_plan_charge(self):
        """Open the steps to charge on their order's saved card, for the charge phase."""
        if not self:
            return
        self.action_open()
        self.sudo().write({"plan_charge_state": "to_charge"})

    @api.model
    def _charge_plan_steps(self, limit=const.PLAN_CHARGE_BATCH):
        """Charge the steps scheduled for a charge, each in a transaction of its own, as the
        auto-pay of invoices does (`account.move._cron_payment_request_autopay`): the payment
        transaction is committed before it is sent, under an idempotency key made of its
        reference, so that a crash in between sends the same charge again, never a second one.
        """
        steps = self.search(
            [("plan_charge_state", "in", const.PLAN_CHARGE_IN_FLIGHT)], order="id", limit=limit
        )
        Move = self.env["account.move"]
        for step in steps:
            try:
                with self.env.cr.savepoint():
                    tx = step._plan_charge_prepare()
                self._plan_commit()
                if tx:
                    try:
                        with self.env.cr.savepoint():
                            step._plan_charge_send(tx)
                    except (UserError, ValidationError, requests.exceptions.RequestException) as e:
                        if Move._payment_request_autopay_is_unreachable(e):
                            _logger.warning(
                                "Charge of the plan step %s (%s) failed: %s", step.name, tx.id, e
                            )
                        else:
                            message = e.args[0] if e.args else str(e)
                            tx.invalidate_recordset()
                            tx._set_error(str(message))
                            tx._post_process()
                    self._plan_commit()
            except Exception:
                # Unknown outcome: the step stays to charge; a draft transaction is sent again
                # under the same idempotency key by the next run.
                _logger.exception("Charge of the plan step %s failed; retried later", step.id)
                self._plan_rollback()

    def _plan_commit(self):
        """Commit the work done on one step, as Odoo's crons do; tests keep their savepoints."""
        if not tools.config["test_enable"] and not modules.module.current_test:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _plan_rollback(self):
        if not tools.config["test_enable"] and not modules.module.current_test:
            self.env.cr.rollback()
        self.env.invalidate_all()

    def _plan_charge_prepare(self):
        """Return the off-session transaction that charges the step, created if needed.

        :return: the transaction to send, or an empty recordset (nothing to charge: charged,
            under way, or fallen back to a link)
        :rtype: payment.transaction
        """
        self.ensure_one()
        transactions = self.env["payment.transaction"].sudo()
        self.env.cr.execute(
            SQL("SELECT id FROM payment_request WHERE id = %s FOR UPDATE SKIP LOCKED", self.id)
        )
        if not self.env.cr.fetchone():
            return transactions  # Another run is charging it.
        self.invalidate_recordset()
        step = self.sudo()
        if step.plan_charge_state not in const.PLAN_CHARGE_IN_FLIGHT:
            return transactions
        charges = step.transaction_ids.filtered(lambda tx: tx.operation == "offline")
        in_flight = charges.filtered(lambda tx: tx.state == "draft")[:1]
        if step.state != "open" or step.transaction_ids.filtered(
            lambda tx: tx.state in const.BLOCKING_TX_STATES
        ):
            # Paid, closed, or paid meanwhile on its page: the outcome comes by its own way.
            step.plan_charge_state = "pending" if step.state == "open" else False
            return transactions
        order = step.sale_order_id
        if in_flight:
            sent_since = fields.Datetime.now() - in_flight.create_date
            if sent_since.total_seconds() <= const.AUTOPAY_RESEND_HOURS * 3600:
                return in_flight
            # The provider may have lost its idempotency key: a resend could charge twice.
            in_flight._set_canceled(
                state_message=self.env._("first sent long ago, its outcome is unknown")
            )
            in_flight.is_post_processed = True
            step.plan_charge_state = "failed"
            message = self.env._(
                "Auto-pay: the interrupted charge %(reference)s of this step is not sent again "
                "(first sent more than %(hours)s hours ago). Check the charge at %(provider)s, "
                "then send the customer the link if it was not made.",
                reference=in_flight.reference,
                hours=const.AUTOPAY_RESEND_HOURS,
                provider=in_flight.provider_id.name,
            )
            step._notify_requester(message)
            step._schedule_payment_check(message, order.user_id or step.user_id)
            return transactions
        if not order._payment_request_can_charge():
            step._plan_charge_failed(self.env._("auto-pay was turned off or its card is invalid"))
            return transactions
        token = order.payment_request_token_id
        step.write({"plan_charge_state": "charging", "attempt_count": step.attempt_count + 1})
        values = step._get_transaction_values()
        tx_values = {
            "provider_id": token.provider_id.id,
            "payment_method_id": token.payment_method_id.id,
            "reference": transactions._compute_reference(
                token.provider_id.code,
                prefix=step._get_transaction_reference_prefix(step.attempt_count),
            ),
            "amount": values["amount"],
            "currency_id": values["currency_id"],
            "partner_id": values["partner_id"],
            "token_id": token.id,
            "operation": "offline",
            **values["custom_create_values"],
        }
        return transactions.create(tx_values)

    def _plan_charge_send(self, tx):
        """Send the charge to its provider and settle what its answer settles at once."""
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM payment_transaction WHERE id = %s AND state = 'draft' "
                "FOR UPDATE SKIP LOCKED",
                tx.id,
            )
        )
        if not self.env.cr.fetchone():
            return
        tx.invalidate_recordset()
        tx._send_payment_request()
        if tx.state == "draft":
            # 3-D Secure asked: impossible off-session.
            tx._set_error(self.env._("the card requires the customer's authentication"))
        if tx.state in ("done", "error", "cancel"):
            tx._post_process()
        else:
            self.sudo().plan_charge_state = "pending"

    def _plan_charge_succeeded(self, tx):
        """Log the charge of the step on its order."""
        self.ensure_one()
        self.sudo().plan_charge_state = "done"
        self.sale_order_id.message_post(
            body=self.env._(
                "Auto-pay: %(amount)s charged to %(card)s for the payment %(step)s of the plan "
                "(transaction %(reference)s).",
                amount=format_amount(self.env, tx.amount, tx.currency_id),
                card=tx.token_id.display_name,
                step=self.plan_step_label,
                reference=tx.reference,
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _plan_charge_failed(self, reason):
        """Fall back to the step's link: pause the order's auto-pay (its salesperson gets an
        activity) and send the customer the link of the step.

        :param str reason: why the card could not be charged
        """
        self.ensure_one()
        step = self.sudo()
        step.plan_charge_state = "failed"
        order = step.sale_order_id
        order._payment_request_pause_autopay(
            self.env._(
                "the charge of the payment %(step)s of the plan failed (%(reason)s)",
                step=step.plan_step_label,
                reason=reason,
            )
        )
        if order.user_id and order.payment_request_autopay_state != "paused":
            # Auto-pay was already off: the salesperson still has to follow the payment up.
            order.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("Payment plan charge failed"),
                note=Markup("<p>%s</p>") % reason,
                user_id=order.user_id.id,
            )
        if step.state == "open":
            step._send_plan_steps()
        step.message_post(
            body=self.env._(
                "The saved card could not be charged (%(reason)s): the link was sent to the "
                "customer.",
                reason=reason,
            ),
            subtype_xmlid="mail.mt_note",
        )
