# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    payment_request_validity_hours = fields.Integer(
        string="Payment Request Validity (hours)",
        default=24,
        required=True,
        help="How long the link of a payment request can be paid after it is sent.",
    )

    @api.constrains("payment_request_validity_hours")
    def _check_payment_request_validity_hours(self):
        for company in self:
            if company.payment_request_validity_hours <= 0:
                raise ValidationError(
                    self.env._(
                        "The validity of payment requests of %(company)s must be at least one "
                        "hour.",
                        company=company.name,
                    )
                )
