# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models


class AccountMove(models.Model):
    # The invoices of orders paid by a payment plan; files by concern, as Odoo's payment addons.
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    def _payment_request_get_autopay_order(self):
        """Override: an order with a payment plan is charged step by step by the plan, never
        for its invoice as a whole (the steps' payments settle the invoice)."""
        order = super()._payment_request_get_autopay_order()
        return order.filtered(lambda order: not order.payment_request_plan_id)
