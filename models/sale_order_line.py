# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def write(self, vals):
        orders = self.order_id
        totals = orders._get_totals_under_payment_requests()
        result = super().write(vals)
        orders._withdraw_if_total_lowered(totals)
        return result

    def unlink(self):
        orders = self.order_id
        totals = orders._get_totals_under_payment_requests()
        result = super().unlink()
        orders._withdraw_if_total_lowered(totals)
        return result
