# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Whether a channel pays off: paid rate and median time to pay per channel and reminder step.

Odoo's `read_group` aggregates averages but no median; this view computes the median in SQL
(`percentile_cont`) per company, channel and last reminder step, one row each: a company sees
whether its SMS reminders pay off.
"""

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL

from .. import const


class PaymentRequestChannelReport(models.Model):
    _name = "payment.request.channel.report"
    _description = "Payment Times by Channel"
    _auto = False
    _rec_name = "channel"
    _order = "company_id, channel, reminder_step"
    _depends = {
        "payment.request": ["company_id", "channel", "state", "paid_date", "reminder_step"],
        "mail.message": ["model", "res_id", "subtype_id", "date"],
    }

    company_id = fields.Many2one(comodel_name="res.company", readonly=True)
    channel = fields.Selection(selection=const.CHANNELS, string="Sent by", readonly=True)
    reminder_step = fields.Selection(
        string="Last Reminder", selection=const.REMINDER_STEPS, readonly=True
    )
    request_count = fields.Integer(string="Sent", readonly=True, help="Requests sent.")
    paid_count = fields.Integer(string="Paid", readonly=True, help="Requests sent and paid.")
    # Rates and medians of groups cannot be summed or averaged into the rate or median of
    # their union: no aggregate.
    paid_rate = fields.Float(string="Paid Rate (%)", digits=(16, 1), aggregator=None, readonly=True)
    median_hours_to_pay = fields.Float(
        string="Median Hours to Pay",
        digits=(16, 1),
        aggregator=None,
        readonly=True,
        help="Half the paid requests were paid within this many hours of their first sending.",
    )
    avg_hours_to_pay = fields.Float(
        string="Average Hours to Pay", digits=(16, 1), aggregator=None, readonly=True
    )

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT
                MIN(report.id) AS id,
                report.company_id AS company_id,
                report.channel AS channel,
                report.reminder_step AS reminder_step,
                COUNT(*) AS request_count,
                COUNT(*) FILTER (WHERE report.state = 'paid') AS paid_count,
                ROUND(AVG(report.paid_rate), 1) AS paid_rate,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY report.hours_to_pay)
                    AS median_hours_to_pay,
                AVG(report.hours_to_pay) AS avg_hours_to_pay
            FROM (%s) AS report
            WHERE report.channel IS NOT NULL
            GROUP BY report.company_id, report.channel, report.reminder_step
            """,
            self._get_request_rows(),
        )

    @api.model
    def _get_request_rows(self):
        """Return the query of one row per request that this view aggregates."""
        return self.env["payment.request.report"]._table_query
