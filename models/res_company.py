# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import re

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

HEX_COLOR = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
# WCAG 2.1: 4.5:1 for the button's text (1.4.3), 3:1 for the button against the white page
# (1.4.11, non-text contrast).
TEXT_CONTRAST = 4.5
BUTTON_CONTRAST = 3.0


def parse_hex_color(value):
    """Return ``(r, g, b)`` (0-255) of a ``#rrggbb`` or ``#rgb`` colour, or None."""
    match = HEX_COLOR.match((value or "").strip())
    if not match:
        return None
    digits = match[1] if len(match[1]) == 6 else "".join(char * 2 for char in match[1])
    return tuple(int(digits[index : index + 2], 16) for index in (0, 2, 4))


def relative_luminance(rgb):
    """The relative luminance of an sRGB colour, as WCAG 2.1 defines it."""

    def channel(value):
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first, second):
    """The contrast ratio of two sRGB colours (1 to 21)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def mix(rgb, other, share):
    """`rgb` moved towards `other` by `share` (0 to 1)."""
    return tuple(
        round(value + (target - value) * share) for value, target in zip(rgb, other, strict=True)
    )


def hex_color(rgb):
    red, green, blue = rgb
    return f"#{red:02x}{green:02x}{blue:02x}"


def accessible_button_colors(color):
    """Return the colours of a button in the brand colour `color`, or None (not a colour).

    The colour is darkened until the button stands out on the white page (3:1); its text is
    white or black, whichever contrasts more (always at least 4.5:1, whatever the colour); on
    hover the button moves away from its text's colour, so the contrast only grows.

    :return: ``{"background", "text", "hover"}``, as ``#rrggbb``
    """
    rgb = parse_hex_color(color)
    if rgb is None:
        return None
    white, black = (255, 255, 255), (0, 0, 0)
    while contrast_ratio(rgb, white) < BUTTON_CONTRAST:
        rgb = mix(rgb, black, 0.05)
    text = max((white, black), key=lambda candidate: contrast_ratio(rgb, candidate))
    hover = mix(rgb, black if text == white else white, 0.15)
    return {"background": hex_color(rgb), "text": hex_color(text), "hover": hex_color(hover)}


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
    payment_request_lead_won_on_deposit = fields.Boolean(
        string="Mark the opportunity won when its deposit is paid",
        help="An opportunity whose deposit request is paid in full moves to its won stage.",
    )
    payment_request_plan_notice_days = fields.Integer(
        string="Payment Plan Notice (days)",
        default=7,
        help="How many days before its due date a step of a payment plan is sent to the "
        "customer (or charged on their saved card).",
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
    # === TERMS AND CONDITIONS === #
    payment_request_terms_required = fields.Boolean(
        string="Customers Accept the Terms",
        help="New payment requests ask the customer to accept your terms and conditions before "
        "paying; each request can change it.",
    )
    payment_request_terms_url = fields.Char(
        string="Terms and Conditions URL",
        help="The page of your terms and conditions, linked from the box that the customer "
        "ticks on the payment page.",
    )

    payment_request_auto_refund_duplicates = fields.Boolean(
        string="Refund Duplicate Payments",
        help="Refund at once a payment confirmed after its payment request was already paid "
        "(two tabs, a slow 3-D Secure), when the provider can refund.",
    )
    # === OVERDUE INVOICES === #
    payment_request_overdue_auto = fields.Boolean(
        string="Ask for Overdue Invoices",
        help="Send customers a payment request for their overdue invoices automatically.",
    )
    payment_request_overdue_days = fields.Integer(
        string="Days After Due Date",
        default=3,
        help="How many days after its due date an invoice is asked to be paid.",
    )
    payment_request_overdue_interval = fields.Integer(
        string="Days Between Requests",
        default=7,
        help="The least number of days between two automatic requests to the same customer.",
    )
    payment_request_overdue_sms = fields.Boolean(
        string="Also by SMS",
        help="Send the automatic requests by SMS too to customers who have both an email "
        "address and a mobile number. Customers without email address get an SMS anyway.",
    )

    payment_request_sequence_id = fields.Many2one(
        string="Payment Request Sequence",
        comodel_name="ir.sequence",
        readonly=True,
        copy=False,
        help="Numbers the payment requests of the company.",
    )

    # === REMINDERS === #
    payment_request_reminder = fields.Boolean(
        string="Payment Request Reminders",
        help="Remind customers who did not pay their payment request yet, as scheduled.",
    )
    payment_request_reminder_email = fields.Boolean(
        string="Email Reminder",
        default=True,
        help="Email a reminder once a share of the validity has passed.",
    )
    payment_request_reminder_email_percent = fields.Integer(
        string="Email Reminder After (% of validity)",
        default=50,
        help="Share of the validity of the link, in percent, after which the email goes.",
    )
    payment_request_reminder_sms = fields.Boolean(
        string="SMS Reminder",
        default=True,
        help="Text a reminder shortly before expiry to customers with a valid mobile number.",
    )
    payment_request_reminder_sms_hours = fields.Integer(
        string="SMS Reminder Before Expiry (hours)",
        default=2,
        help="How many hours before the link expires the SMS goes.",
    )
    # --- End of reminders ---

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._payment_request_ensure_sequence()
        return companies

    # === BUSINESS METHODS === #

    def _payment_request_ensure_sequence(self):
        """Return the numbering sequences of payment requests of the companies, made if missing.

        The main company's is the data record ``payment_request.seq_payment_request``; other
        companies get theirs when created (and at install), so that numbering never creates
        one on the fly. Where one is still missing, the company row is locked and then written:
        a concurrent transaction that also found none waits for the lock and then fails with a
        serialization error, which Odoo retries, instead of making a second sequence.

        :return: the `ir.sequence` records, in the order of the companies
        """
        Sequence = self.env["ir.sequence"].sudo()
        sequences = Sequence
        for company in self.sudo():
            if not company.payment_request_sequence_id:
                self.env.cr.execute(
                    SQL("SELECT id FROM res_company WHERE id = %s FOR UPDATE", company.id)
                )
                company.invalidate_recordset(["payment_request_sequence_id"])
            if not company.payment_request_sequence_id:
                # Sequences made on first use by earlier versions are adopted.
                sequence = Sequence.search(
                    [("code", "=", "payment.request"), ("company_id", "=", company.id)],
                    order="id",
                    limit=1,
                ) or Sequence.create(
                    {
                        "name": self.env._("Payment Requests (%(company)s)", company=company.name),
                        "code": "payment.request",
                        "company_id": company.id,
                        "prefix": "PR/%(year)s/",
                        "padding": 5,
                        "implementation": "standard",
                    }
                )
                company.payment_request_sequence_id = sequence
            sequences |= company.payment_request_sequence_id
        return sequences

    def _get_payment_request_brand_colors(self):
        """Return the colours of the pay page's buttons in the company's primary colour (its
        documents' brand colour), made accessible, or None when it has none."""
        self.ensure_one()
        return accessible_button_colors(self.primary_color)

    @api.model
    def _payment_request_adopt_main_sequence(self):
        """Give the main company's sequence the XML id of the data sequence, if it has none.

        Databases that numbered requests before ``payment_request.seq_payment_request`` was
        a data record have a sequence for their main company already: it becomes the data
        record, which keeps its numbers and does not make a second sequence at update.
        """
        if self.env.ref("payment_request.seq_payment_request", raise_if_not_found=False):
            return
        company = self.env.ref("base.main_company", raise_if_not_found=False)
        if not company:
            return
        # Versions before the company's field made it on first use, without linking it.
        Sequence = self.env["ir.sequence"].sudo()
        sequence = company.sudo().payment_request_sequence_id or Sequence.search(
            [("code", "=", "payment.request"), ("company_id", "=", company.id)], order="id", limit=1
        )
        if sequence:
            self.env["ir.model.data"]._update_xmlids(
                [
                    {
                        "xml_id": "payment_request.seq_payment_request",
                        "record": sequence,
                        "noupdate": True,
                    }
                ]
            )

    @api.model
    def _payment_request_init_sequences(self):
        """Give every company its payment request sequence (called at install and update)."""
        self.with_context(active_test=False).search([])._payment_request_ensure_sequence()

    # === CONSTRAINT METHODS === #

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

    @api.constrains("payment_request_plan_notice_days")
    def _check_payment_request_plan_notice_days(self):
        for company in self:
            if company.payment_request_plan_notice_days < 0:
                raise ValidationError(
                    self.env._(
                        "The notice of payment plan steps of %(company)s cannot be negative.",
                        company=company.name,
                    )
                )

    @api.constrains("payment_request_overdue_days", "payment_request_overdue_interval")
    def _check_payment_request_overdue_delays(self):
        for company in self:
            if (
                company.payment_request_overdue_days < 0
                or company.payment_request_overdue_interval < 1
            ):
                raise ValidationError(
                    self.env._(
                        "Automatic payment requests of %(company)s: the days after the due date "
                        "cannot be negative and the days between requests must be at least one.",
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

    @api.constrains(
        "payment_request_legal_url", "payment_request_privacy_url", "payment_request_terms_url"
    )
    def _check_payment_request_urls(self):
        for company in self:
            for url in (
                company.payment_request_legal_url,
                company.payment_request_privacy_url,
                company.payment_request_terms_url,
            ):
                if url and not url.startswith(("https://", "http://", "/")):
                    raise ValidationError(
                        self.env._(
                            "The address %(url)s must start with https://, http:// or /.",
                            url=url,
                        )
                    )

    @api.constrains("payment_request_terms_required", "payment_request_terms_url")
    def _check_payment_request_terms(self):
        for company in self:
            if company.payment_request_terms_required and not company.payment_request_terms_url:
                raise ValidationError(
                    self.env._(
                        "Enter the address of the terms and conditions of %(company)s that "
                        "customers accept before paying.",
                        company=company.name,
                    )
                )

    # === REMINDERS === #
    @api.constrains("payment_request_reminder_email_percent", "payment_request_reminder_sms_hours")
    def _check_payment_request_reminder_schedule(self):
        for company in self:
            if not 0 < company.payment_request_reminder_email_percent < 100:
                raise ValidationError(
                    self.env._(
                        "The email reminder of %(company)s goes after more than 0 and less than "
                        "100 percent of the validity.",
                        company=company.name,
                    )
                )
            if company.payment_request_reminder_sms_hours <= 0:
                raise ValidationError(
                    self.env._(
                        "The SMS reminder of %(company)s goes at least one hour before expiry.",
                        company=company.name,
                    )
                )
