# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import math

from freezegun import freeze_time

from odoo.tests import tagged

from .test_payment_request_wizard import RequestSendingCommon

# GSM 03.38 basic character set and its extension (each extension character costs two septets).
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = set("^{}\\[~]|€")


def sms_segments(text):
    """Return how many SMS segments carry `text` (GSM-7 when possible, else UCS-2).

    As GSM 03.38 counts them: 160 septets in one segment, 153 per segment beyond (characters
    of the extension table take two); 70 UTF-16 units in UCS-2, 67 per segment beyond.
    """
    if all(char in GSM_BASIC or char in GSM_EXTENSION for char in text):
        septets = sum(2 if char in GSM_EXTENSION else 1 for char in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


@tagged("post_install", "-at_install")
class TestPaymentRequestMessages(RequestSendingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "payment_request_message": "Thank you for camping with us!",
                "payment_request_legal_url": "https://example.com/legal",
                "payment_request_privacy_url": "https://example.com/privacy",
            }
        )
        cls.customer.tz = "Europe/Paris"

    def _send_free(self, amount=1234.5, **values):
        form = self._wizard(
            self.customer, purpose="free", amount=amount, description="Pitch 12, 3 nights", **values
        )
        return self._send(form)[1]

    def _request_mail(self, request):
        return self._new_mails.filtered(lambda mail: mail.res_id == request.id)

    @freeze_time("2026-03-10 08:00:00")
    def test_email_in_english(self):
        request = self._send_free(external_reference="BK-99")
        mail = self._request_mail(request)
        self.assertIn(request.name, mail.subject)
        body = mail.body_html
        for expected in (
            "Hello Claire Customer",
            "Pitch 12, 3 nights",
            "BK-99",
            "1,234.50",
            "Pay now",
            f"{request.get_base_url()}{request.get_portal_url()}",
            "/logo.png?company=",
            "Thank you for camping with us!",
            "https://example.com/legal",
            "https://example.com/privacy",
            # Expires 24 h later, shown in the customer's time zone (UTC+1 in March).
            "Mar 11, 2026, 9:00:00",
            "Europe/Paris",
        ):
            self.assertIn(expected, body)

    @freeze_time("2026-03-10 08:00:00")
    def test_email_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["payment_request"], ["fr_FR"], overwrite=True
        )
        self.company.with_context(lang="fr_FR").payment_request_message = "Merci et à bientôt !"
        self.customer.lang = "fr_FR"
        request = self._send_free()
        mail = self._request_mail(request)
        body = mail.body_html
        self.assertIn("Bonjour Claire Customer", body)
        self.assertIn("Payer maintenant", body)
        self.assertNotIn("Pay now", body)
        self.assertIn("Merci et à bientôt !", body)
        self.assertIn("11 mars 2026", body)
        self.assertIn("demande de paiement", mail.subject.lower())
        sms = self._new_sms
        self.assertFalse(sms)
        request2 = self._send_free(channel="sms")
        self.assertIn(request2.name, self._new_sms.body)
        self.assertIn("veuillez régler", self._new_sms.body)

    def test_sms_fits_two_segments(self):
        self.company.name = "Les Pins Camping & Storage"
        self.env["ir.config_parameter"].sudo().set_param(
            "web.base.url", "https://erp.lespins-camping-storage.example.com"
        )
        for lang in ("en_US", "fr_FR"):
            with self.subTest(lang=lang):
                self.env["res.lang"]._activate_lang(lang)
                self.env["ir.module.module"]._load_module_terms(["payment_request"], [lang])
                self.customer.lang = lang
                request = self._send_free(channel="sms", amount=12345.67)
                body = self._new_sms.body
                self.assertIn(request.get_portal_url(), body)
                self.assertIn("Les Pins Camping & Storage", body)
                self.assertLessEqual(sms_segments(body), 2, body)

    # === DELIVERY STATUS === #

    def test_status_after_sending_both(self):
        request = self._send_free(channel="both")
        self.assertEqual(request.email_status, "sent")
        self.assertEqual(request.sms_status, "sent")
        self.assertFalse(request.is_undelivered)
        # The gateway reports the SMS delivered.
        self.env["sms.tracker"].sudo().search(
            [("mail_notification_id.mail_message_id.res_id", "=", request.id)]
        )._action_update_from_sms_state("sent")
        request.invalidate_recordset()
        self.assertEqual(request.sms_status, "delivered")

    def test_status_sms_error_and_not_delivered_filter(self):
        request = self._send_free(channel="sms")
        self.env["sms.tracker"].sudo().search(
            [("mail_notification_id.mail_message_id.res_id", "=", request.id)]
        )._action_update_from_provider_error("wrong_number_format")
        request.invalidate_recordset()
        self.assertEqual(request.sms_status, "error")
        self.assertTrue(request.delivery_failure_reason)
        self.assertTrue(request.is_undelivered)
        found = self.env["payment.request"].search([("is_undelivered", "=", True)])
        self.assertIn(request, found)
        self.assertNotIn(
            request, self.env["payment.request"].search([("is_undelivered", "=", False)])
        )

    def test_status_email_bounce_then_resend(self):
        request = self._send_free()
        notification = (
            self.env["mail.notification"]
            .sudo()
            .search(
                [
                    ("mail_message_id.res_id", "=", request.id),
                    ("notification_type", "=", "email"),
                    ("mail_message_id.model", "=", "payment.request"),
                ]
            )
        )
        # What Odoo's bounce handling writes on the notification.
        notification.write(
            {
                "notification_status": "bounce",
                "failure_type": "mail_bounce",
                "failure_reason": "550 5.1.1 No such user",
            }
        )
        request.invalidate_recordset()
        self.assertEqual(request.email_status, "bounced")
        self.assertIn("No such user", request.delivery_failure_reason)
        self.assertIn(request, self.env["payment.request"].search([("is_undelivered", "=", True)]))
        # Sent again to a good address: the latest sending decides.
        self._send(self._request_wizard(request, "resend", email="claire.ok@example.com"))
        request.invalidate_recordset()
        self.assertEqual(request.email_status, "sent")
        self.assertFalse(request.is_undelivered)
        self.assertNotIn(
            request, self.env["payment.request"].search([("is_undelivered", "=", True)])
        )

    def test_status_queued_in_bulk(self):
        other = self.env["res.partner"].create({"name": "Other", "email": "o@example.com"})
        _action, requests = self._send(
            self._wizard(self.customer | other, purpose="wallet", amount=10.0)
        )
        self.assertEqual(set(requests.mapped("email_status")), {"queued"})
        self.assertEqual(set(requests.mapped("sms_status")), {"none"})
