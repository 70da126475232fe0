# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models

# The fields of a message that decide whether its notifications are link sendings to the
# customer (see `payment.request.sending.mixin._sql_customer_notifications`).
SENDING_FIELDS = {"model", "res_id", "subtype_id", "partner_ids"}


class MailMessage(models.Model):
    """Keep `is_undelivered` of the records that send links up to date when a message of a
    sending is deleted (its notifications go with it) or moved."""

    _inherit = "mail.message"

    def write(self, vals):
        sending = self.env["payment.request.sending.mixin"]
        if SENDING_FIELDS.isdisjoint(vals):
            return super().write(vals)
        before = sending._get_link_sending_records(self)
        result = super().write(vals)
        for records in before + sending._get_link_sending_records(self):
            records._update_is_undelivered()
        return result

    def unlink(self):
        sendings = self.env["payment.request.sending.mixin"]._get_link_sending_records(self)
        result = super().unlink()
        for records in sendings:
            records._update_is_undelivered()
        return result
