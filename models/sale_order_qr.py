# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The QR code of an open payment request of the order, on its PDF."""

from odoo import api
from odoo import fields
from odoo import models


class SaleOrder(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "sale.order"  # pylint: disable=consider-merging-classes-inherited

    payment_request_qr_id = fields.Many2one(
        string="Payment Request to Scan",
        comodel_name="payment.request",
        compute="_compute_payment_request_qr_id",
        help="The most recent request of the order whose link can be paid now: its QR code is "
        "printed on the order.",
    )

    # === COMPUTE METHODS === #

    @api.depends("payment_request_ids.state", "payment_request_ids.expiration_date")
    def _compute_payment_request_qr_id(self):
        # One search for all the orders printed at once (the report reads it on each).
        by_order = self.env["payment.request"]._get_payable_by_document(self, "sale_order_id")
        for order in self:
            order.payment_request_qr_id = by_order.get(order._origin.id, False)

    # === BUSINESS METHODS === #

    def _get_payment_request_qr_request(self):
        """Return the request whose QR code the order's PDF shows, or nothing.

        :return: `payment.request`, as superuser (see `_get_payable_by_document`)
        """
        self.ensure_one()
        return self.payment_request_qr_id.sudo()
