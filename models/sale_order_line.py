# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api
from odoo import models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.order_id._check_payment_request_quotes()
        return lines

    def write(self, vals):
        orders = self.order_id
        totals = orders._get_totals_under_payment_requests()
        result = super().write(vals)
        if totals:
            orders.browse(list(totals))._check_payment_request_quotes()
        orders._withdraw_if_total_lowered(totals)
        return result

    def unlink(self):
        orders = self.order_id
        totals = orders._get_totals_under_payment_requests()
        result = super().unlink()
        if totals:
            orders.browse(list(totals))._check_payment_request_quotes()
        orders._withdraw_if_total_lowered(totals)
        return result
