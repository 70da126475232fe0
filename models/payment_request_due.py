# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a request for invoices asks today: their installments and early-payment discounts
(`account.move._get_payment_request_due_now`). A discount holds while its last day has not
passed and only for the whole amount paid at once: after that, the request asks the full
amount."""

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import format_amount
from odoo.tools import format_date


class PaymentRequest(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    early_discount_amount = fields.Monetary(
        string="Early Payment Discount",
        currency_field="currency_id",
        compute="_compute_early_discount",
        store=True,
        precompute=True,
        copy=False,
        help="The early-payment discount of the invoices that the amount asked takes off.",
    )
    early_discount_date = fields.Date(
        string="Discount Until",
        compute="_compute_early_discount",
        store=True,
        precompute=True,
        copy=False,
        help="The last day on which the discounted amount settles the invoices.",
    )

    # === COMPUTE METHODS === #

    @api.depends("amount", "invoice_ids", "purpose")
    def _compute_early_discount(self):
        """The discount that the amount takes off, when it is what the invoices ask with their
        discounts: read from the invoices when the amount is set, not followed afterwards (the
        discount lapses with its date, see `_check_early_discount`)."""
        for request in self:
            discount, date = 0.0, False
            invoices = request.invoice_ids
            if request.purpose in ("invoice", "invoices") and invoices:
                dues, asked = invoices._get_payment_request_asked()
                discounted = [due for due in dues.values() if due["state"] == "epd"]
                if discounted and not request.currency_id.compare_amounts(request.amount, asked):
                    discount = sum(due["discount"] for due in discounted)
                    date = min(due["discount_date"] for due in discounted)
            request.early_discount_amount = discount
            request.early_discount_date = date

    # === BUSINESS METHODS === #

    def _is_early_discount_lapsed(self):
        """Whether the request asks a discounted amount that no longer settles its invoices:
        the discount's last day has passed, or part of the amount was paid."""
        self.ensure_one()
        if not self.early_discount_date:
            return False
        return bool(
            self.early_discount_date < fields.Date.context_today(self)
            or self.currency_id.compare_amounts(self.amount_paid, 0) > 0
        )

    def _check_early_discount(self):
        """Ask the full amount of the invoices once the discount of the request has lapsed, and
        tell the requester: a lapsed discount is never granted, nor left open on the invoice."""
        for request in self:
            if not request._is_early_discount_lapsed():
                continue
            currency = request.currency_id
            discount, date = request.early_discount_amount, request.early_discount_date
            residual = sum(request.invoice_ids.mapped("amount_residual"))
            amount = currency.round(min(request.amount + discount, request.amount_paid + residual))
            request.sudo().write({"amount": amount})
            if request.amount_paid:
                reason = self.env._(
                    "A part was paid: the early-payment discount (%(discount)s) held only for the "
                    "whole amount paid at once.",
                    discount=format_amount(self.env, discount, currency),
                )
            else:
                reason = self.env._(
                    "The early-payment discount (%(discount)s) ended on %(date)s.",
                    discount=format_amount(self.env, discount, currency),
                    date=format_date(self.env, date),
                )
            request._notify_requester(
                self.env._(
                    "%(reason)s The request now asks %(amount)s.",
                    reason=reason,
                    amount=format_amount(self.env, amount, currency),
                )
            )

    def _get_invoice_dues(self):
        """Return, for the customer's page, each invoice the request settles with what it asks
        of it: [(invoice, amount, label)], the label naming its installment or its discount.

        When the request asks another amount than the invoices' due one (the requester changed
        it), each invoice shows what remains due on it."""
        self.ensure_one()
        invoices = self._get_settled_invoices()
        if not invoices:
            return []
        dues, asked = invoices._get_payment_request_asked()
        if self.purpose == "quote" or self.currency_id.compare_amounts(self.amount, asked):
            return [(invoice, invoice.amount_residual, "") for invoice in invoices]
        return [
            (
                invoice,
                dues[invoice.id]["amount"],
                invoice._get_payment_request_due_label(dues[invoice.id]),
            )
            for invoice in invoices
        ]
