# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from unittest.mock import patch

import requests
import stripe

from odoo.exceptions import RedirectWarning
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import LocalStripeCommon
from .test_autopay import AutopayCommon

PROVIDER_LOGGER = "odoo.addons.payment_request.models.payment_provider"


def _timeout(*args, **kwargs):
    raise stripe.APIConnectionError("Request timed out")


def _refusal(*args, **kwargs):
    raise stripe.InvalidRequestError(
        "This PaymentMethod is locked.", param=None, code="payment_method_unexpected_state"
    )


@tagged("post_install", "-at_install")
class TestStripeFaults(LocalStripeCommon, AutopayCommon):
    """Stripe timing out or refusing: a message a clerk understands, nothing left half-done."""

    def setUp(self):
        super().setUp()
        self.stripe_requests.idempotent_responses.clear()

    def _customer_of(self, token):
        return self.localstripe.retrieve_payment_method(token.stripe_payment_method).customer

    def _card_without_payments(self, **card):
        token = self._tokenize_stripe_card(**card)
        token.sudo().transaction_ids.unlink()
        return token

    # === DELETING === #

    @mute_logger(PROVIDER_LOGGER)
    def test_delete_when_stripe_times_out_deletes_nothing(self):
        token = self._card_without_payments()
        for operation in ("retrieve", "detach"):
            with (
                self.subTest(operation=operation),
                patch.object(stripe.PaymentMethod, operation, side_effect=_timeout),
                self.assertRaisesRegex(RedirectWarning, "could not be reached") as caught,
            ):
                token.with_user(self.card_user).action_payment_request_delete()
            self.assertIn("was not deleted", caught.exception.args[0])
            self.assertEqual(caught.exception.args[2], "Delete here anyway")
            self.assertTrue(token.exists() and token.active)
            self.assertEqual(self._customer_of(token), token.provider_ref, "still at Stripe")

    @mute_logger(PROVIDER_LOGGER)
    def test_delete_when_stripe_refuses_deletes_nothing(self):
        token = self._tokenize_stripe_card()  # with a payment: it would be archived
        with (
            patch.object(stripe.PaymentMethod, "detach", side_effect=_refusal),
            self.assertRaisesRegex(RedirectWarning, "Stripe refused the operation: This Pay"),
        ):
            token.with_user(self.card_user).action_payment_request_delete()
        self.assertRecordValues(token, [{"active": True, "card_deleted": False}])
        # Odoo's own deletion path refuses as well, with the same message.
        token.sudo().transaction_ids.unlink()
        with (
            patch.object(stripe.PaymentMethod, "detach", side_effect=_refusal),
            self.assertRaisesRegex(ValidationError, "Stripe refused the operation"),
        ):
            token.with_user(self.card_user).unlink()
        self.assertTrue(token.exists())

    @mute_logger(PROVIDER_LOGGER)
    def test_delete_here_anyway_after_confirmation(self):
        token = self._card_without_payments()
        payment_method_id = token.stripe_payment_method
        action = self.env.ref("payment_request.payment_token_action_delete_anyway")
        with patch.object(stripe.PaymentMethod, "detach", side_effect=_timeout):
            action.with_user(self.card_user).with_context(
                active_model="payment.token", active_ids=token.ids, active_id=token.id
            ).run()
        self.assertFalse(token.exists())
        self.assertTrue(self.localstripe.retrieve_payment_method(payment_method_id).customer)
        note = self.customer.message_ids[:1]
        self.assertIn("deleted in Odoo only", note.body)
        self.assertIn("pm_", note.body)

    def test_delete_here_anyway_needs_the_cards_right(self):
        action = self.env.ref("payment_request.payment_token_action_delete_anyway")
        self.assertEqual(action.groups_id, self.env.ref("payment_request.group_customer_cards"))

    @mute_logger(PROVIDER_LOGGER)
    def test_interrupted_deletion_of_several_cards_is_retried(self):
        first = self._card_without_payments()
        second = self._card_without_payments(number="5555555555554444")
        detach = stripe.PaymentMethod.detach
        calls = []

        def detach_first_only(payment_method_id, **kwargs):
            calls.append(payment_method_id)
            if payment_method_id == second.stripe_payment_method:
                _timeout()
            return detach(payment_method_id, **kwargs)

        with (
            patch.object(stripe.PaymentMethod, "detach", side_effect=detach_first_only),
            self.assertRaises(RedirectWarning),
        ):
            (first | second).with_user(self.card_user).action_payment_request_delete()
        self.assertTrue((first | second).exists(), "nothing deleted in Odoo")
        self.assertIsNone(self._customer_of(first))
        calls.clear()
        second_pm = second.stripe_payment_method
        with patch.object(  # Stripe is back.
            stripe.PaymentMethod,
            "detach",
            side_effect=lambda pm, **kw: calls.append(pm) or detach(pm, **kw),
        ):
            (first | second).with_user(self.card_user).action_payment_request_delete()
        self.assertEqual(calls, [second_pm], "the first card is not detached twice")
        self.assertFalse((first | second).exists())

    # === ADDING AND READING === #

    @mute_logger(PROVIDER_LOGGER, "odoo.addons.payment_request.models.payment_token")
    def test_card_saved_while_stripe_times_out_keeps_the_card(self):
        with patch.object(stripe.PaymentMethod, "retrieve", side_effect=_timeout):
            token = self._tokenize_stripe_card()
        self.assertTrue(token.active)
        self.assertFalse(token.card_brand, "details are read later, never invented")

    @mute_logger(PROVIDER_LOGGER)
    def test_reading_a_card_when_stripe_times_out_says_so(self):
        token = self._tokenize_stripe_card()
        with (
            patch.object(stripe.PaymentMethod, "retrieve", side_effect=requests.Timeout("slow")),
            self.assertRaisesRegex(ValidationError, "Stripe could not be reached"),
        ):
            token.provider_id._payment_request_stripe_call(
                "PaymentMethod", "retrieve", token.stripe_payment_method
            )

    # === CHARGING === #

    @mute_logger("odoo.addons.payment_request.models.account_move")
    def test_charge_when_stripe_times_out_is_retried_once_under_the_same_key(self):
        token = self._tokenize_stripe_card()
        order = self._create_order(token, autopay=True)
        invoice = order._create_invoices()
        with self.mock_gateways():
            invoice.action_post()
        intents_before = len(stripe.PaymentIntent.list(**self.localstripe._options()).data)
        request = type(self.stripe_requests).request
        timed_out = []

        def time_out_after_sending(this, method, url, **kwargs):
            response = request(this, method, url, **kwargs)
            if url.endswith("/v1/payment_intents") and not timed_out:
                timed_out.append(url)
                raise requests.exceptions.ReadTimeout("no answer in time")
            return response

        with patch.object(type(self.stripe_requests), "request", time_out_after_sending):
            self._run_autopay_cron()
            tx = self._autopay_txs(invoice)
            self.assertEqual(tx.state, "draft")
            self.assertEqual(invoice.payment_request_autopay_state, "charging")
            self.assertIn("will be retried automatically", invoice.message_ids[:1].body)
            self.assertEqual(order.payment_request_autopay_state, "on")
            self._run_autopay_cron()
        self.assertEqual(self._autopay_txs(invoice), tx)
        self.assertEqual(tx.state, "done")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        intents = stripe.PaymentIntent.list(**self.localstripe._options()).data
        self.assertEqual(len(intents), intents_before + 1, "charged once")
