# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The QR code of an open payment request of the invoice, on its PDF."""

from odoo import fields
from odoo import models


class AccountMove(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    payment_request_qr_id = fields.Many2one(
        string="Payment Request to Scan",
        comodel_name="payment.request",
        compute="_compute_payment_request_qr_id",
        help="The most recent request of the invoice whose link can be paid now: its QR code is "
        "printed on the invoice.",
    )

    # === COMPUTE METHODS === #

    def _compute_payment_request_qr_id(self):
        # One search for all the invoices printed at once (the report reads it on each).
        invoices = self.filtered(lambda move: move.move_type == "out_invoice")
        by_invoice = self.env["payment.request"]._get_payable_by_document(invoices, "invoice_ids")
        for move in self:
            move.payment_request_qr_id = by_invoice.get(move._origin.id, False)

    # === BUSINESS METHODS === #

    def _get_payment_request_qr_request(self):
        """Return the request whose QR code the invoice's PDF shows, or nothing.

        :return: `payment.request`, as superuser (see `_get_payable_by_document`)
        """
        self.ensure_one()
        return self.payment_request_qr_id.sudo()
