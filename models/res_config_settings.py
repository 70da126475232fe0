# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields
from odoo import models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    payment_request_validity_hours = fields.Integer(
        related="company_id.payment_request_validity_hours", readonly=False
    )
    payment_request_deposit_percent = fields.Float(
        related="company_id.payment_request_deposit_percent", readonly=False
    )
    payment_request_lead_won_on_deposit = fields.Boolean(
        related="company_id.payment_request_lead_won_on_deposit", readonly=False
    )
    payment_request_plan_notice_days = fields.Integer(
        related="company_id.payment_request_plan_notice_days", readonly=False
    )
    payment_request_message = fields.Text(
        related="company_id.payment_request_message", readonly=False
    )
    payment_request_legal_url = fields.Char(
        related="company_id.payment_request_legal_url", readonly=False
    )
    payment_request_privacy_url = fields.Char(
        related="company_id.payment_request_privacy_url", readonly=False
    )
    payment_request_terms_required = fields.Boolean(
        related="company_id.payment_request_terms_required", readonly=False
    )
    payment_request_terms_url = fields.Char(
        related="company_id.payment_request_terms_url", readonly=False
    )
    payment_request_auto_refund_duplicates = fields.Boolean(
        related="company_id.payment_request_auto_refund_duplicates", readonly=False
    )

    # === REMINDERS === #
    payment_request_reminder = fields.Boolean(
        related="company_id.payment_request_reminder", readonly=False
    )
    payment_request_reminder_email = fields.Boolean(
        related="company_id.payment_request_reminder_email", readonly=False
    )
    payment_request_reminder_email_percent = fields.Integer(
        related="company_id.payment_request_reminder_email_percent", readonly=False
    )
    payment_request_reminder_sms = fields.Boolean(
        related="company_id.payment_request_reminder_sms", readonly=False
    )
    payment_request_reminder_sms_hours = fields.Integer(
        related="company_id.payment_request_reminder_sms_hours", readonly=False
    )

    # === OVERDUE INVOICES === #
    payment_request_overdue_auto = fields.Boolean(
        related="company_id.payment_request_overdue_auto", readonly=False
    )
    payment_request_overdue_days = fields.Integer(
        related="company_id.payment_request_overdue_days", readonly=False
    )
    payment_request_overdue_interval = fields.Integer(
        related="company_id.payment_request_overdue_interval", readonly=False
    )
    payment_request_overdue_sms = fields.Boolean(
        related="company_id.payment_request_overdue_sms", readonly=False
    )
