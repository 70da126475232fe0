# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    payment_request_validity_hours = fields.Integer(
        related="company_id.payment_request_validity_hours", readonly=False
    )
