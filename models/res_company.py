# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    payment_request_validity_hours = fields.Integer(
        string="Payment Request Validity (hours)",
        default=24,
        required=True,
        help="How long the link of a payment request can be paid after it is sent.",
    )
    payment_request_deposit_percent = fields.Float(
        string="Default Deposit",
        default=0.3,
        help="Share of the order total proposed as deposit when the order has no prepayment.",
    )
    payment_request_message = fields.Text(
        translate=True,
        help="Your own words, added to the payment request email and shown on the pay page.",
    )
    payment_request_legal_url = fields.Char(
        string="Legal Notice URL", help="Linked from the payment request messages and page."
    )
    payment_request_privacy_url = fields.Char(
        string="Privacy Policy URL", help="Linked from the payment request messages and page."
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

    @api.constrains("payment_request_deposit_percent")
    def _check_payment_request_deposit_percent(self):
        for company in self:
            if not 0 < company.payment_request_deposit_percent <= 1:
                raise ValidationError(
                    self.env._(
                        "The default deposit of %(company)s must be more than 0 and at most 100 "
                        "percent of the order.",
                        company=company.name,
                    )
                )

    @api.constrains("payment_request_legal_url", "payment_request_privacy_url")
    def _check_payment_request_urls(self):
        for company in self:
            for url in (company.payment_request_legal_url, company.payment_request_privacy_url):
                if url and not url.startswith(("https://", "http://", "/")):
                    raise ValidationError(
                        self.env._(
                            "The address %(url)s must start with https://, http:// or /.",
                            url=url,
                        )
                    )
