# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models


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
