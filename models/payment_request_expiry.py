# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Open requests expire when their validity period ends (cron, in committed batches)."""

from markupsafe import Markup

from odoo import api
from odoo import fields
from odoo import models

from .. import const


class PaymentRequest(models.Model):
    # One concern of the model per file (issue 13), as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    # === BUSINESS METHODS: EXPIRY === #

    @api.model
    def _cron_expire_requests(self, batch_size=const.EXPIRY_BATCH_SIZE):
        """Expire one batch of open requests whose validity has passed.

        The scheduler calls it again while some remain (progress API), so a large backlog is
        processed in bounded batches, each committed on its own. Queries do not depend on the
        batch size: one search, one update, one batch of chatter messages.

        :param int batch_size: how many requests to expire in this call
        :return: the number of requests still to expire
        """
        # A request whose payment is under way (authorized, or pending for less than a day)
        # waits for its outcome; a payment confirmed after the expiry is booked all the same
        # (payment.transaction._payment_request_mark_paid).
        now = fields.Datetime.now()
        domain = [
            ("state", "=", "open"),
            ("expiration_date", "<=", now),
            (
                "transaction_ids",
                "not any",
                [
                    "|",
                    ("state", "=", "authorized"),
                    "&",
                    ("state", "=", "pending"),
                    ("last_state_change", ">", now - const.PENDING_PAYMENT_GRACE),
                ],
            ),
        ]
        requests = self.search(domain, limit=batch_size, order="expiration_date, id")
        if not requests:
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return 0
        requests._expire()
        remaining = self.search_count(domain)
        self.env["ir.cron"]._notify_progress(done=len(requests), remaining=remaining)
        return remaining

    def _expire(self):
        """Set the requests expired and log it on each of them in batch."""
        self.sudo().with_context(tracking_disable=True).write(
            {"state": "expired", "is_read": False}
        )
        body = Markup("<p>%s</p>") % self.env._(
            "The request expired: its validity period ended without payment."
        )
        self._message_log_batch(bodies=dict.fromkeys(self.ids, body))
