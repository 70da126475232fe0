# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    payment_request_id = fields.Many2one(
        string="Payment Request",
        comodel_name="payment.request",
        index="btree_not_null",
        readonly=True,
        ondelete="restrict",
    )
