# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .test_payment_request_wizard import RequestSendingCommon


@tagged("post_install", "-at_install")
class TestPaymentRequestSending(RequestSendingCommon):
    """Links are posted through mail.thread: followers, layout and blacklist come from Odoo."""

    def _send_free(self, **values):
        form = self._wizard(self.customer, purpose="free", amount=20.0, **values)
        return self._send(form)[1]

    def _sent_messages(self, request):
        subtype = self.env.ref("payment_request.mt_payment_request_sent")
        return request.message_ids.filtered(lambda message: message.subtype_id == subtype)

    def test_followers_get_the_sending_only_when_subscribed_to_it(self):
        """The requester follows the request without the "Payment Request Sent" subtype (not a
        default one): the message is in the chatter, nothing in their inbox and no copy of the
        customer's email. A follower who subscribed to it is notified as they chose (here by
        email), and their notification does not count in the delivery status."""
        request = self._send_free()
        self.assertIn(self.salesman.partner_id, request.message_partner_ids)
        message = self._sent_messages(request)
        self.assertEqual(len(message), 1)
        self.assertEqual(message.notification_ids.res_partner_id, self.customer)
        self.assertEqual(message.partner_ids, self.customer)
        subtype = self.env.ref("payment_request.mt_payment_request_sent")
        self.salesman_2.notification_type = "email"
        request.message_subscribe(self.salesman_2.partner_id.ids, subtype_ids=subtype.ids)
        self._send(self._request_wizard(request, "resend"))
        message = self._sent_messages(request)[0]
        follower_notification = message.notification_ids.filtered(
            lambda notification: notification.res_partner_id == self.salesman_2.partner_id
        )
        self.assertEqual(follower_notification.notification_type, "email")
        self.assertFalse(
            message.notification_ids.filtered(
                lambda notification: notification.res_partner_id == self.salesman.partner_id
            )
        )
        # The follower's copy bounces: the customer still got the link.
        follower_notification.write(
            {"notification_status": "bounce", "failure_type": "mail_bounce"}
        )
        request.invalidate_recordset()
        self.assertEqual(request.email_status, "sent")
        self.assertFalse(request.is_undelivered)
        self.assertNotIn(
            request, self.env["payment.request"].search([("is_undelivered", "=", True)])
        )

    def test_both_channels_one_message(self):
        """By email and SMS, a sending is one message of the requester, notified to the
        customer both ways, answered at the address Odoo gives the request."""
        self.customer.mobile = "+14155552671"
        request = self._send_free(channel="both")
        message = self._sent_messages(request)
        self.assertEqual(len(message), 1)
        self.assertEqual(message.author_id, self.salesman.partner_id)
        self.assertEqual(
            sorted(message.notification_ids.mapped("notification_type")), ["email", "sms"]
        )
        sms_notification = message.notification_ids.filtered(
            lambda notification: notification.notification_type == "sms"
        )
        self.assertEqual(sms_notification.sms_number, "+14155552671")
        sms = self.env["sms.sms"].sudo().browse(sms_notification.sms_id_int)
        self.assertIn(f"/payment_request/{request.id}", sms.body)
        self.assertEqual(
            message.reply_to,
            request._notify_get_reply_to(default=message.email_from)[request.id],
        )
        self.assertEqual((request.email_status, request.sms_status), ("sent", "sent"))

    def test_sending_needs_the_right_to_post(self):
        """The link is posted for the whole batch as superuser only after the sender's right
        to post on every request was checked: a request of a company the user is not in is
        refused, and nothing is sent."""
        request = self.env["payment.request"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company_2.id,
                "amount": 15.0,
                "user_id": self.salesman.id,
            }
        )
        with self.mock_gateways(), self.assertRaises(AccessError):
            request.with_user(self.salesman_2)._send_link("email", {request.id: self.customer})
        self.assertFalse(self._new_mails)
        self.assertFalse(self._sent_messages(request))

    def test_sms_blacklist_stops_the_link(self):
        self.env["phone.blacklist"].sudo().add("+14155552671")
        request = self._send_free(channel="sms")
        self.assertFalse(self._new_sms.filtered(lambda sms: sms.state == "sent"))
        self.assertEqual(request.sms_status, "error")
        self.assertEqual(request.delivery_failure_reason, "Blacklisted number")
        self.assertEqual(
            self.env["sms.sms"].sudo().search([("number", "=", "+14155552671")]).failure_type,
            "sms_blacklist",
        )
        self.assertIn(request, self.env["payment.request"].search([("is_undelivered", "=", True)]))
        # Another number is not blacklisted.
        self._send(self._request_wizard(request, "resend", channel="sms", phone="+1 613 555 0123"))
        request.invalidate_recordset()
        self.assertEqual(request.sms_status, "sent")
        self.assertFalse(request.is_undelivered)

    def test_email_in_the_layout_of_the_request_company(self):
        self.company_2.write({"email": "desk@company2.example.com"})
        request = self.env["payment.request"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company_2.id,
                "amount": 15.0,
                "user_id": self.salesman.id,
            }
        )
        with self.mock_gateways():
            request._send_link("email", {request.id: self.customer})
        mail = self._new_mails.filtered(lambda mail: mail.res_id == request.id)
        self.assertIn(f"<b>{self.company_2.name}</b>", mail.body_html)
        self.assertIn("desk@company2.example.com", mail.body_html)
        self.assertIn("Powered by", mail.body_html)
        self.assertEqual(mail.recipient_ids, self.customer)

    def _bulk_queries(self, size):
        partners = self.env["res.partner"].create(
            [
                {
                    "name": f"Bulk {size} {i}",
                    "email": f"bulk{size}.{i}@example.com",
                    "mobile": f"+1{415 if size == 50 else 202}555{i:04d}",
                }
                for i in range(size)
            ]
        )
        wizard = self._wizard(partners, purpose="free", amount=5.0, channel="both").save()
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        with self.mock_gateways():
            wizard.action_send()
            self.env.flush_all()
        queries = self.env.cr.sql_log_count - before
        requests = self.env["payment.request"].search([("partner_id", "in", partners.ids)])
        self.assertEqual(len(requests), size)
        self.assertEqual(set(requests.mapped("email_status")), {"queued"})
        self.assertEqual(set(requests.mapped("sms_status")), {"queued"})
        return queries

    def test_bulk_queries_constant_per_request(self):
        """The queries of a bulk send grow linearly: the 150 more requests of a send of 200
        cost no more per request than a send of 50 (issue 14's bound of 15 per request is
        checked by test_bulk_queries_per_request)."""
        small, large = self._bulk_queries(50), self._bulk_queries(200)
        self.assertLessEqual((large - small) / 150, small / 50, (small, large))
        self.assertLessEqual(large / 200, 15, (small, large))
