# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api
from odoo import models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.order_id._payment_request_lines_changed()
        return lines

    def write(self, vals):
        orders = self.order_id
        totals = orders._get_totals_under_payment_requests()
        result = super().write(vals)
        orders._payment_request_lines_changed(totals)
        return result

    def unlink(self):
        orders = self.order_id
        totals = orders._get_totals_under_payment_requests()
        result = super().unlink()
        orders._payment_request_lines_changed(totals)
        return result
