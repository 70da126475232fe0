# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api
from odoo import models

from .. import const

# The fields of a notification whose change may make the sending of a link fail or succeed.
DELIVERY_FIELDS = {"notification_status", "notification_type", "mail_message_id", "res_partner_id"}


class MailNotification(models.Model):
    """Keep `is_undelivered` of the records that send links up to date with their
    notifications, however the status changes: email sent, bounced or failed, SMS delivered
    or in error (`sms.tracker`), resent, cancelled."""

    _inherit = "mail.notification"

    @api.model_create_multi
    def create(self, vals_list):
        notifications = super().create(vals_list)
        # A new notification is the last of its record and type: a failed one sets the flag,
        # one that did not fail can only clear it.
        failed = notifications.filtered(
            lambda notification: (
                notification.notification_status in const.FAILED_NOTIFICATION_STATES
            )
        )
        sending = self.env["payment.request.sending.mixin"]
        sending._update_is_undelivered_of_messages(failed.mail_message_id)
        sending._update_is_undelivered_of_messages(
            (notifications - failed).mail_message_id, flagged_only=True
        )
        return notifications

    def write(self, vals):
        result = super().write(vals)
        if DELIVERY_FIELDS.intersection(vals):
            self.env["payment.request.sending.mixin"]._update_is_undelivered_of_messages(
                self.mail_message_id,
                flagged_only=set(vals).isdisjoint(DELIVERY_FIELDS - {"notification_status"})
                and vals["notification_status"] not in const.FAILED_NOTIFICATION_STATES,
            )
        return result

    def unlink(self):
        # The notification before a deleted one may have failed.
        sendings = self.env["payment.request.sending.mixin"]._get_link_sending_records(
            self.mail_message_id
        )
        result = super().unlink()
        for records in sendings:
            records._update_is_undelivered()
        return result
