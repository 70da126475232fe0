# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models
from odoo.exceptions import UserError

from .. import const


class AccountMove(models.Model):
    _inherit = "account.move"

    def write(self, vals):
        result = super().write(vals)
        if vals.get("state") in ("draft", "cancel"):
            self._withdraw_payment_requests(vals["state"])
        return result

    def _withdraw_payment_requests(self, state):
        """Withdraw the open requests of invoices reset to draft or cancelled."""
        requests = (
            self.env["payment.request"]
            .sudo()
            .search([("invoice_ids", "in", self.ids), ("state", "in", ("draft", "open"))])
        )
        for request in requests:
            invoices = ", ".join((request.invoice_ids & self).mapped("display_name"))
            if state == "draft":
                reason = self.env._(
                    "the invoice %(invoices)s was reset to draft", invoices=invoices
                )
            else:
                reason = self.env._("the invoice %(invoices)s was cancelled", invoices=invoices)
            request._withdraw(reason)

    # === PAYMENT REQUESTS === #

    def _get_payment_request_purposes(self):
        """Return the purposes of the payment requests the invoices offer, the default first.

        :return: purposes of `payment.request`
        :rtype: list
        """
        return list(const.PURPOSES_BY_MODEL[self._name])

    def _get_payment_request_customers(self):
        """Return the partners whose contacts a request for the invoice may be sent to."""
        return self.partner_id

    def _get_payment_request_values(self, purpose=None, **kwargs):
        """Return what a payment request of the invoice asks (its residual), or refuse it.

        :param str purpose: 'invoice', or None to only check the invoice
        :param kwargs: ignored (the values of other documents' hooks)
        :return: the values of the request (see `payment.request._prepare_values_from_document`)
            and `max_amount`, the most it may ask
        :rtype: dict
        :raise UserError: when the invoice is no posted customer invoice with something due
        """
        self.ensure_one()
        if self.move_type != "out_invoice":
            raise UserError(
                self.env._(
                    "%(document)s is not a customer invoice: request payments on customer "
                    "invoices only.",
                    document=self.display_name,
                )
            )
        if self.state != "posted":
            raise UserError(
                self.env._(
                    "The invoice %(invoice)s is not posted: confirm it before requesting its "
                    "payment.",
                    invoice=self.display_name,
                )
            )
        due = self.amount_residual
        if self.currency_id.compare_amounts(due, 0) <= 0 or self.payment_state not in (
            "not_paid",
            "partial",
        ):
            raise UserError(
                self.env._("Nothing is due on the invoice %(invoice)s.", invoice=self.name)
            )
        return {
            "partner_id": self.partner_id,
            "company_id": self.company_id,
            "currency_id": self.currency_id,
            "sale_order_id": self.env["sale.order"],
            "invoice_ids": self,
            "amount": due,
            "max_amount": due,
            "description": self.env._("Payment of invoice %(invoice)s", invoice=self.name),
            "external_reference": self.ref or "",
        }
