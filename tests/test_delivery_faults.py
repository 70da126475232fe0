# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import smtplib
from unittest.mock import patch

from odoo.tests import tagged

from .test_payment_request_wizard import RequestSendingCommon


@tagged("post_install", "-at_install")
class TestDeliveryFaults(RequestSendingCommon):
    """The mail server or the SMS service fails: the request stays open, says so, and resends."""

    def _send_failing(self, channel, smtp_error=None, sms_error=None):
        form = self._wizard(self.customer, purpose="free", amount=42.0, channel=channel)
        before = self.env["payment.request"].search([]).ids
        with self.mock_mail_gateway(), self.mockSMSGateway(sim_error=sms_error):
            if smtp_error:
                with patch.object(
                    type(self.env["ir.mail_server"]), "connect", side_effect=smtp_error
                ):
                    form.save().action_send()
            else:
                form.save().action_send()
        return self.env["payment.request"].search([("id", "not in", before)])

    def _assert_resend_works(self, request, channel, status_field):
        self._send(self._request_wizard(request, "resend", channel=channel))
        request.invalidate_recordset()
        self.assertEqual(request[status_field], "sent")
        self.assertFalse(request.is_undelivered)
        self.assertEqual(request.state, "open")

    def test_mail_server_refuses(self):
        request = self._send_failing(
            "email", smtp_error=smtplib.SMTPConnectError(421, "Service not available")
        )
        self.assertEqual(len(request), 1)
        self.assertEqual(request.state, "open")
        self.assertEqual(request.email_status, "error")
        self.assertIn("outgoing mail server", request.delivery_failure_reason)
        self.assertTrue(request.is_undelivered)
        self.assertIn(request, self.env["payment.request"].search([("is_undelivered", "=", True)]))
        self._assert_resend_works(request, "email", "email_status")

    def test_sms_service_answers_an_error(self):
        request = self._send_failing("sms", sms_error="server_error")
        self.assertEqual(len(request), 1)
        self.assertEqual(request.state, "open")
        self.assertEqual(request.sms_status, "error")
        self.assertTrue(request.delivery_failure_reason)
        self.assertTrue(request.is_undelivered)
        self._assert_resend_works(request, "sms", "sms_status")

    def test_sms_without_credit(self):
        request = self._send_failing("sms", sms_error="credit")
        self.assertEqual(request.state, "open")
        self.assertEqual(request.sms_status, "error")
        self.assertTrue(request.is_undelivered)
