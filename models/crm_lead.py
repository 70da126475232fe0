# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Deposits on opportunities: a payment asked before any quotation exists, held as the
customer's prepayment, then carried to the opportunity's oldest order and its invoice."""

from collections import defaultdict

from markupsafe import Markup

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from .. import const


class CrmLead(models.Model):
    _inherit = "crm.lead"

    payment_request_ids = fields.One2many(
        string="Payment Requests",
        comodel_name="payment.request",
        inverse_name="opportunity_id",
        groups=const.REQUEST_GROUPS,
    )
    payment_request_count = fields.Integer(
        compute="_compute_payment_request_count", groups=const.REQUEST_GROUPS
    )
    payment_request_amount_received = fields.Monetary(
        string="Deposit Received",
        compute="_compute_payment_request_amount_received",
        store=True,
        currency_field="company_currency",
        help="What the customer paid on the opportunity's payment requests, less what was "
        "refunded or cancelled: their prepayment for the deal.",
    )
    payment_request_deposit_state = fields.Selection(
        string="Deposit",
        selection=[("received", "Deposit received")],
        compute="_compute_payment_request_amount_received",
        store=True,
    )

    # === COMPUTE METHODS === #

    def _compute_payment_request_count(self):
        groups = self.env["payment.request"]._read_group(
            [("opportunity_id", "in", self._origin.ids)],
            groupby=["opportunity_id"],
            aggregates=["__count"],
        )
        counts = {lead.id: count for lead, count in groups}
        for lead in self:
            lead.payment_request_count = counts.get(lead._origin.id, 0)

    @api.depends("payment_request_ids.amount_paid")
    def _compute_payment_request_amount_received(self):
        received = defaultdict(float)
        for tx in self._origin._get_payment_request_deposit_transactions():
            received[tx._get_payment_request_opportunity().id] += tx.amount
        for lead in self:
            amount = lead.company_currency.round(received[lead._origin.id])
            lead.payment_request_amount_received = amount
            lead.payment_request_deposit_state = (
                "received" if lead.company_currency.compare_amounts(amount, 0) > 0 else False
            )

    # === BUSINESS METHODS: DEPOSITS === #

    def _get_payment_request_deposit_transactions(self):
        """Return the money received on the opportunities' payment requests: the confirmed
        payments counted by their request and their refunds (negative amounts), less those
        whose accounting payment was cancelled, reset to draft or reversed.

        :rtype: payment.transaction
        """
        return self._get_payment_request_deposit_moves()[2]

    def _get_payment_request_deposit_moves(self):
        """Return the payments of the opportunities' requests counted by their request, all
        their refunds, and the money of both that stands (see
        `_get_payment_request_deposit_transactions`).

        :rtype: tuple
        """
        Transaction = self.env["payment.transaction"].sudo()
        if not self.ids:
            return Transaction, Transaction, Transaction
        paid = Transaction.search(
            [
                ("payment_request_id.opportunity_id", "in", self.ids),
                ("payment_request_counted", "=", True),
            ]
        )
        refunds = Transaction.search(
            [("source_transaction_id", "in", paid.ids), ("operation", "=", "refund")]
        )
        done_refunds = refunds.filtered(lambda refund: refund.state == "done")
        void = (paid | done_refunds).filtered(lambda tx: not tx._payment_request_is_booked())
        kept = (
            (paid | done_refunds)
            - void
            - done_refunds.filtered(lambda refund: refund.source_transaction_id in void)
        )
        return paid, refunds, kept

    def _payment_request_allocate_deposits(self):
        """Carry the opportunities' deposits to their orders: each payment counts on one order,
        the oldest one not cancelled in its company and currency, and stays there while that
        order is the opportunity's; its refunds follow it. Sale then counts it as paid on the
        order and reconciles it with the order's invoices when they are posted.

        Cancelled, reversed or reset payments leave their orders. An order invoiced before the
        deposit arrived gets it on its posted invoices at once. Run in sudo mode: it follows
        a payment or a change of the opportunity's orders, whoever made it.
        """
        leads = self.sudo().exists()
        if not leads:
            return
        all_paid, all_refunds, kept = leads._get_payment_request_deposit_moves()
        orders_to_refresh = self.env["sale.order"]
        for tx in all_paid:
            lead = tx.payment_request_id.opportunity_id
            current = tx.sale_order_ids
            if tx not in kept:
                target = self.env["sale.order"]
            elif current and all(
                order.opportunity_id == lead
                and order.state != "cancel"
                and order.company_id == tx.company_id
                and order.currency_id == tx.currency_id
                for order in current
            ):
                target = current
            else:
                target = lead._payment_request_deposit_order(tx)
            group = tx | all_refunds.filtered(
                lambda refund, tx=tx: refund.source_transaction_id == tx
            )
            stale = group.filtered(lambda other, target=target: other.sale_order_ids != target)
            if not stale:
                continue
            orders_to_refresh |= stale.sale_order_ids | target
            stale.sale_order_ids = [Command.set(target.ids)]
            if target and current != target:
                target._payment_request_apply_deposit(group)
        if orders_to_refresh:
            # sale computes amount_paid from the transactions, without depending on their link.
            orders_to_refresh.invalidate_recordset(["amount_paid"])
        for request in leads.payment_request_ids:
            money = kept.filtered(
                lambda tx, request=request: (
                    (tx.payment_request_id or tx.source_transaction_id.payment_request_id)
                    == request
                )
            )
            target = self.env["sale.order"]
            if request.currency_id.compare_amounts(sum(money.mapped("amount")), 0) > 0:
                target = money.sale_order_ids[:1]
            if request.deposit_order_id != target:
                request.deposit_order_id = target

    def _payment_request_deposit_order(self, transaction):
        """Return the order that the deposit `transaction` counts on: the oldest one of the
        opportunity not cancelled, in the deposit's company and currency; none if there is none.
        """
        self.ensure_one()
        return self.order_ids.filtered(
            lambda order: (
                order.state != "cancel"
                and order.company_id == transaction.company_id
                and order.currency_id == transaction.currency_id
            )
        ).sorted("id")[:1]

    def _payment_request_refresh_deposits(self):
        """Recompute what the opportunities received and carry it again to their orders, after
        a deposit was refunded, cancelled or reversed in accounting."""
        leads = self.sudo().exists()
        if not leads:
            return
        self.env.add_to_compute(self._fields["payment_request_amount_received"], leads)
        self.env.add_to_compute(self._fields["payment_request_deposit_state"], leads)
        leads._payment_request_allocate_deposits()

    def _payment_request_log_payment(self, request, transaction):
        """Log on the opportunity the payment received on one of its requests."""
        self.ensure_one()
        self.sudo()._message_log(
            body=Markup(
                self.env._(
                    "Payment of %(amount)s received on payment request %(link)s (transaction "
                    "%(reference)s).",
                    amount=format_amount(self.env, transaction.amount, transaction.currency_id),
                    link=request._get_html_link(),
                    reference=transaction.reference,
                )
            )
        )

    def _payment_request_mark_won(self):
        """Mark the opportunities won when their company asks for it on a paid deposit."""
        leads = self.sudo().filtered(
            lambda lead: (
                (lead.company_id or self.env.company).payment_request_lead_won_on_deposit
                and lead.active
                and lead.type == "opportunity"
                and not lead.stage_id.is_won
            )
        )
        if leads:
            leads.action_set_won()

    # === ACTION METHODS === #

    def action_set_lost(self, **additional_values):
        """Override of `crm` to withdraw the links not paid yet of the opportunities lost."""
        result = super().action_set_lost(**additional_values)
        for lead in self:
            lead.sudo().payment_request_ids._withdraw(
                self.env._("the opportunity %(lead)s was lost", lead=lead.name)
            )
        return result

    def action_view_payment_requests(self):
        """Open the payment requests of the opportunity."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "payment_request.payment_request_action"
        )
        action["domain"] = [("opportunity_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # === PAYMENT REQUESTS === #

    def _get_payment_request_purposes(self):
        """Return the purposes of the payment requests an opportunity offers, the default first.

        :return: purposes of `payment.request`
        :rtype: list
        """
        return list(const.PURPOSES_BY_MODEL[self._name])

    def _get_payment_request_customers(self):
        """Return the partners whose contacts a request for the opportunity may be sent to."""
        return self.partner_id

    def _check_payment_request_opportunity(self):
        """Refuse an opportunity that cannot be asked a payment, saying what to do.

        :raise UserError: a lead not converted, a lost opportunity, one without customer or
            of a company the user is not working in
        """
        self.ensure_one()
        company = self.sudo().company_id
        if company and company not in self.env.companies:
            # Neither the opportunity's name nor a company the user does not belong to is told.
            raise UserError(
                self.env._(
                    "This opportunity belongs to %(company)s: select that company in the "
                    "company switcher to request its payment.",
                    company=company.name
                    if company in self.env.user.company_ids
                    else self.env._("another company"),
                )
            )
        self.check_access("read")
        if self.type != "opportunity":
            raise UserError(
                self.env._(
                    "%(lead)s is a lead: convert it to an opportunity before requesting a deposit.",
                    lead=self.name,
                )
            )
        if not self.active:
            raise UserError(
                self.env._(
                    "The opportunity %(lead)s is lost: restore it before requesting a payment.",
                    lead=self.name,
                )
            )
        if not self.partner_id:
            raise UserError(
                self.env._(
                    "The opportunity %(lead)s has no customer: set its Customer (create it from "
                    "the contact's name if needed) before requesting a payment.",
                    lead=self.name,
                )
            )

    def _get_payment_request_deposit_amount(self):
        """Return the deposit proposed for the opportunity: the company's default percentage of
        its expected revenue; nothing without an expected revenue."""
        self.ensure_one()
        company = self.company_id or self.env.company
        currency = self.company_currency or company.currency_id
        return currency.round(self.expected_revenue * company.payment_request_deposit_percent)

    def _get_payment_request_values(self, purpose=None, **kwargs):
        """Return what a payment request of the opportunity for `purpose` asks, or refuse it.

        :param str purpose: 'deposit' or 'free'; None to only check the opportunity
        :param kwargs: ignored (the values of other documents' hooks)
        :return: the values of the request (see `payment.request._prepare_values_from_document`),
            `max_amount` (None: no limit), `opportunity_id`, and the `email` and `phone` of the
            opportunity to propose when its customer has none
        :rtype: dict
        :raise UserError: when the opportunity cannot be asked
        """
        self.ensure_one()
        self._check_payment_request_opportunity()
        company = self.company_id or self.env.company
        if purpose == "free":
            description = self.env._("Payment for %(lead)s", lead=self.name)
        else:
            description = self.env._("Deposit for %(lead)s", lead=self.name)
        return {
            "partner_id": self.partner_id,
            "company_id": company,
            "currency_id": self.company_currency or company.currency_id,
            "sale_order_id": self.env["sale.order"],
            "invoice_ids": self.env["account.move"],
            "opportunity_id": self,
            "amount": self._get_payment_request_deposit_amount() if purpose != "free" else 0.0,
            "max_amount": None,
            "description": description,
            "external_reference": "",
            "email": self.email_from or "",
            "phone": self.mobile or self.phone or "",
        }
