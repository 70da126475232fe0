# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The numbers at a glance: one row per payment request, with the measures of its outcome."""

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

from .. import const


class PaymentRequestReport(models.Model):
    _name = "payment.request.report"
    _description = "Payment Request Analysis"
    _auto = False
    _rec_name = "name"
    _order = "date desc"
    # What the query reads: flushed before the report is searched.
    _depends = {
        "payment.request": [
            "name",
            "create_date",
            "paid_date",
            "state",
            "purpose",
            "channel",
            "is_automatic",
            "user_id",
            "partner_id",
            "company_id",
            "currency_id",
            "amount",
            "view_count",
            "reminder_count",
            "reminder_step",
        ],
        "res.partner": ["commercial_partner_id"],
        "mail.message": ["model", "res_id", "subtype_id", "date"],
    }

    name = fields.Char(string="Number", readonly=True)
    request_id = fields.Many2one(
        string="Payment Request", comodel_name="payment.request", readonly=True
    )
    date = fields.Datetime(string="Creation Date", readonly=True)
    sent_date = fields.Datetime(
        string="First Sent", readonly=True, help="When the link was first sent to the customer."
    )
    paid_date = fields.Datetime(readonly=True)
    state = fields.Selection(selection=const.STATES, string="Status", readonly=True)
    purpose = fields.Selection(selection=const.PURPOSES, readonly=True)
    channel = fields.Selection(selection=const.CHANNELS, string="Sent by", readonly=True)
    is_automatic = fields.Boolean(string="Automatic", readonly=True)
    user_id = fields.Many2one(string="Requested by", comodel_name="res.users", readonly=True)
    partner_id = fields.Many2one(string="Customer", comodel_name="res.partner", readonly=True)
    commercial_partner_id = fields.Many2one(
        string="Customer Entity", comodel_name="res.partner", readonly=True
    )
    company_id = fields.Many2one(comodel_name="res.company", readonly=True)
    currency_id = fields.Many2one(comodel_name="res.currency", readonly=True)
    amount = fields.Monetary(string="Amount Requested", currency_field="currency_id", readonly=True)
    amount_paid = fields.Monetary(currency_field="currency_id", readonly=True)
    paid_rate = fields.Float(
        string="Paid Rate (%)",
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="Share of the requests that were paid, in percent.",
    )
    hours_to_pay = fields.Float(
        string="Hours to Pay",
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="Hours from the first sending of the link to the payment, for paid requests; "
        "the average of the requests grouped (the median per channel is in Payment Times by "
        "Channel).",
    )
    views_before_payment = fields.Float(
        string="Views of Paid Requests",
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="How many times the customer opened the pay page of a paid request (the visit "
        "that paid included); the average of the requests grouped.",
    )
    reminders_before_payment = fields.Float(
        string="Reminders before Payment",
        digits=(16, 1),
        aggregator="avg",
        readonly=True,
        help="Reminders sent before a paid request was paid; the average of the requests grouped.",
    )
    reminder_step = fields.Selection(
        string="Last Reminder", selection=const.REMINDER_STEPS, readonly=True
    )

    @property
    def _table_query(self):
        return SQL("%s %s", self._select(), self._from())

    @api.model
    def _select(self):
        """Return the SELECT clause: one row per request, measures NULL where they do not
        apply, so that averages leave those rows out."""
        return SQL(
            """
            SELECT
                request.id AS id,
                request.id AS request_id,
                request.name AS name,
                request.create_date AS date,
                sent.date AS sent_date,
                request.paid_date AS paid_date,
                request.state AS state,
                request.purpose AS purpose,
                request.channel AS channel,
                COALESCE(request.is_automatic, FALSE) AS is_automatic,
                request.user_id AS user_id,
                request.partner_id AS partner_id,
                partner.commercial_partner_id AS commercial_partner_id,
                request.company_id AS company_id,
                request.currency_id AS currency_id,
                request.amount AS amount,
                CASE WHEN request.state = 'paid' THEN request.amount ELSE 0 END AS amount_paid,
                CASE WHEN request.state = 'paid' THEN 100.0 ELSE 0.0 END AS paid_rate,
                CASE WHEN request.state = 'paid'
                    THEN EXTRACT(EPOCH FROM request.paid_date - sent.date) / 3600.0
                END AS hours_to_pay,
                CASE WHEN request.state = 'paid'
                    THEN COALESCE(request.view_count, 0)
                END AS views_before_payment,
                -- Reminders stop once a request is paid: all of them came before.
                CASE WHEN request.state = 'paid'
                    THEN COALESCE(request.reminder_count, 0)
                END AS reminders_before_payment,
                COALESCE(request.reminder_step, 'none') AS reminder_step
            """
        )

    @api.model
    def _from(self):
        """Return the FROM clause; the first sending is the first chatter message of subtype
        "Payment Request Sent" (`payment.request._send_link`)."""
        return SQL(
            """
            FROM payment_request request
            JOIN res_partner partner ON partner.id = request.partner_id
            LEFT JOIN LATERAL (
                SELECT MIN(message.date) AS date
                  FROM mail_message message
                  JOIN ir_model_data subtype_data
                    ON subtype_data.model = 'mail.message.subtype'
                   AND subtype_data.res_id = message.subtype_id
                   AND subtype_data.module = 'payment_request'
                   AND subtype_data.name = 'mt_payment_request_sent'
                 WHERE message.model = 'payment.request'
                   AND message.res_id = request.id
            ) sent ON TRUE
            """
        )
