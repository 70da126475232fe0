# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tests import tagged
from odoo.tools import SQL

from .test_payment_request_wizard import RequestSendingCommon


@tagged("post_install", "-at_install")
class TestDeliveryFlag(RequestSendingCommon):
    """ "Not Delivered" is a stored flag that follows the notifications of the sendings,
    whatever changes them, so that the list filters on it with an index."""

    def _send_free(self, **values):
        form = self._wizard(self.customer, purpose="free", amount=20.0, **values)
        return self._send(form)[1]

    def _stored_flag(self, record):
        """Return the flag as the table holds it (what the list's filter reads)."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                "SELECT COALESCE(is_undelivered, FALSE) FROM %s WHERE id = %s",
                SQL.identifier(record._table),
                record.id,
            )
        )
        return rows[0][0]

    def _assert_undelivered(self, record, expected):
        self.assertEqual(self._stored_flag(record), expected)
        record.invalidate_recordset()
        self.assertEqual(record.is_undelivered, expected)
        found = self.env[record._name].search([("is_undelivered", "=", True)])
        self.assertEqual(record in found, expected)

    def _notification(self, record, kind):
        return (
            self.env["mail.notification"]
            .sudo()
            .search(
                [
                    ("mail_message_id.model", "=", record._name),
                    ("mail_message_id.res_id", "=", record.id),
                    ("notification_type", "=", kind),
                ],
                order="id desc",
                limit=1,
            )
        )

    def _bounce(self, notification):
        # What Odoo's bounce handling writes on the notification.
        notification.write(
            {
                "notification_status": "bounce",
                "failure_type": "mail_bounce",
                "failure_reason": "550 5.1.1 No such user",
            }
        )

    def test_filter_reads_the_flag_not_the_notifications(self):
        field = self.env["payment.request"]._fields["is_undelivered"]
        self.assertTrue(field.store)
        query = self.env["payment.request"]._search([("is_undelivered", "=", True)])
        self.assertNotIn("mail_notification", query.select().code)
        for table in ("payment_request", "payment_card_request"):
            [[predicate]] = self.env.execute_query(
                SQL(
                    "SELECT pg_get_expr(indpred, indrelid) FROM pg_index "
                    "WHERE indexrelid = %s::regclass",
                    f"{table}__undelivered_id_index",
                )
            )
            self.assertIn("is_undelivered = true", predicate)

    def test_bounce_then_resend_then_late_bounce_of_the_old_email(self):
        request = self._send_free()
        first = self._notification(request, "email")
        self._assert_undelivered(request, False)
        self._bounce(first)
        self._assert_undelivered(request, True)
        # Sent again to a good address: the latest sending decides.
        self._send(self._request_wizard(request, "resend", email="claire.ok@example.com"))
        self._assert_undelivered(request, False)
        # A late bounce of the first email does not flag it again.
        first.write({"notification_status": "exception", "failure_type": "unknown"})
        self._assert_undelivered(request, False)
        # The last one bounces too.
        self._bounce(self._notification(request, "email"))
        self._assert_undelivered(request, True)

    def test_sms_error_then_delivered(self):
        request = self._send_free(channel="sms")
        tracker = self._notification(request, "sms").sms_tracker_ids
        tracker._action_update_from_provider_error("wrong_number_format")
        self._assert_undelivered(request, True)
        # The gateway reports it delivered after all.
        tracker._action_update_from_sms_state("sent")
        self._assert_undelivered(request, False)

    def test_sms_service_error_at_sending_then_resend(self):
        form = self._wizard(self.customer, purpose="free", amount=42.0, channel="sms")
        before = self.env["payment.request"].search([])
        with self.mock_mail_gateway(), self.mockSMSGateway(sim_error="server_error"):
            form.save().action_send()
        request = self.env["payment.request"].search([]) - before
        self._assert_undelivered(request, True)
        self._send(self._request_wizard(request, "resend", channel="sms"))
        self._assert_undelivered(request, False)

    def test_blacklisted_number(self):
        self.env["phone.blacklist"].sudo().add("+14155552671")
        request = self._send_free(channel="sms")
        self._assert_undelivered(request, True)

    def test_a_failure_of_either_channel_flags_it(self):
        request = self._send_free(channel="both")
        self._assert_undelivered(request, False)
        self._bounce(self._notification(request, "email"))
        self._assert_undelivered(request, True)
        # The SMS sent again does not clear the email's failure.
        self._send(self._request_wizard(request, "resend", channel="sms"))
        self._assert_undelivered(request, True)
        self._send(self._request_wizard(request, "resend", channel="email"))
        self._assert_undelivered(request, False)

    def test_deleting_the_last_sending_shows_the_previous_failure(self):
        request = self._send_free()
        self._bounce(self._notification(request, "email"))
        self._send(self._request_wizard(request, "resend"))
        self._assert_undelivered(request, False)
        self._notification(request, "email").mail_message_id.unlink()
        self._assert_undelivered(request, True)
        self._notification(request, "email").unlink()
        self._assert_undelivered(request, False)

    def test_card_request_follows_its_sms(self):
        card_request = self.env["payment.card.request"].create({"partner_id": self.customer.id})
        with self.mockSMSGateway(sim_error="credit"):
            card_request._send_link_messages(
                "sms", {card_request.id: self.customer}, {card_request.id: "+14155552671"}
            )
        self._assert_undelivered(card_request, True)
        with self.mockSMSGateway():
            card_request._send_link_messages(
                "sms", {card_request.id: self.customer}, {card_request.id: "+14155552671"}
            )
        self._assert_undelivered(card_request, False)

    def test_update_fills_the_flag_of_existing_records(self):
        bounced = self._send_free()
        self._bounce(self._notification(bounced, "email"))
        delivered = self._send_free()
        self.env.flush_all()
        # As a database before the flag was stored: nothing filled.
        self.env.execute_query(SQL("UPDATE payment_request SET is_undelivered = NULL"))
        self.env.invalidate_all()
        changed = self.env["payment.request"]._update_is_undelivered(all_records=True)
        # Only the undelivered rows are written.
        self.assertEqual(changed, bounced.ids)
        self._assert_undelivered(bounced, True)
        self._assert_undelivered(delivered, False)
