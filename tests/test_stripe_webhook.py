# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import hashlib
import hmac
import json
import time

from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.payment_stripe.controllers.main import StripeController

from .test_post_processing import PostProcessingCommon

WEBHOOK_SECRET = "whsec_payment_request_tests"


@tagged("post_install", "-at_install")
class TestStripeWebhook(PostProcessingCommon, HttpCase):
    """Stripe delivers the same event several times and out of order: one payment, one receipt."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stripe = cls.env.ref("payment.payment_provider_stripe")
        cls.stripe.write(
            {
                "state": "test",
                "stripe_secret_key": "sk_test_payment_request_webhook",
                "stripe_publishable_key": "pk_test_payment_request_webhook",
                "stripe_webhook_secret": WEBHOOK_SECRET,
            }
        )
        cls.card = cls.env.ref("payment.payment_method_card")

    def _create_stripe_tx(self, request):
        values = request._get_transaction_values()
        Transaction = self.env["payment.transaction"].sudo()
        return Transaction.create(
            {
                "provider_id": self.stripe.id,
                "payment_method_id": self.card.id,
                "reference": Transaction._compute_reference(
                    "stripe", **values["custom_create_values"]
                ),
                "amount": values["amount"],
                "currency_id": values["currency_id"],
                "partner_id": values["partner_id"],
                "operation": "online_direct",
                **values["custom_create_values"],
            }
        )

    def _post_event(self, tx, event_type, status, secret=WEBHOOK_SECRET):
        """Post a Stripe event signed as Stripe signs it (t=timestamp, v1=HMAC-SHA256)."""
        payload = json.dumps(
            {
                "id": f"evt_{event_type}_{status}",
                "type": event_type,
                "data": {
                    "object": {
                        "id": "pi_payment_request_webhook",
                        "object": "payment_intent",
                        "description": tx.reference,
                        "status": status,
                        "payment_method": "pm_payment_request_webhook",
                        "amount": int(tx.amount * 100),
                    }
                },
            }
        )
        timestamp = int(time.time())
        signature = hmac.new(
            secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
        ).hexdigest()
        response = self.url_open(
            StripeController._webhook_url,
            data=payload,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": f"t={timestamp},v1={signature}",
            },
        )
        self.env.invalidate_all()
        return response

    def _post_process_as_the_cron(self, request):
        """What payment's post-processing cron does, without its commits."""
        self.env["payment.transaction"].search(
            [("payment_request_id", "=", request.id), ("is_post_processed", "=", False)]
        )._post_process()
        self.env["payment.request"]._cron_send_receipts()

    @mute_logger("odoo.addons.payment_stripe.controllers.main", "odoo.addons.payment.models")
    def test_replayed_succeeded_event_pays_once(self):
        request = self._open(amount=55.0)
        tx = self._create_stripe_tx(request)
        with self.mock_mail_gateway():
            for __ in range(2):
                self.assertEqual(
                    self._post_event(tx, "payment_intent.succeeded", "succeeded").status_code,
                    200,
                )
            self.assertEqual(tx.state, "done")
            self._post_process_as_the_cron(request)
            # A third delivery, and an older event arriving late.
            self._post_event(tx, "payment_intent.succeeded", "succeeded")
            self._post_event(tx, "payment_intent.processing", "processing")
            self._post_process_as_the_cron(request)
        self.assertEqual(tx.state, "done")
        self.assertEqual(request.state, "paid")
        self.assertFalse(request.is_paid_twice)
        self.assertEqual(
            self.env["account.payment"].search_count([("payment_transaction_id", "=", tx.id)]), 1
        )
        receipts = self._new_mails.filtered(
            lambda mail: mail.res_id == request.id and "receipt" in (mail.subject or "").lower()
        )
        self.assertEqual(len(receipts), 1)
        self.assertEqual(len(request.message_ids.filtered(lambda m: "Paid by" in m.body)), 1)

    @mute_logger("odoo.addons.payment_stripe.controllers.main", "odoo.http")
    def test_event_with_a_wrong_signature_is_refused(self):
        request = self._open()
        tx = self._create_stripe_tx(request)
        response = self._post_event(tx, "payment_intent.succeeded", "succeeded", secret="whsec_x")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(tx.state, "draft")
        self.assertEqual(request.state, "open")
