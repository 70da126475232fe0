# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from contextlib import contextmanager
from unittest.mock import patch

import requests
import stripe

from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.payment.models.payment_transaction import PaymentTransaction
from odoo.addons.sms.tests.common import MockSMS

from .common import CustomerCardsCommon
from .common import LocalStripeCommon


class AutopayCommon(MockEmail, MockSMS):
    @contextmanager
    def mock_gateways(self):
        with self.mock_mail_gateway(), self.mockSMSGateway():
            yield

    def _post_invoice(self, order):
        """Post the order's invoice, then run the auto-pay cron that posting triggered."""
        invoice = order._create_invoices()
        with self.mock_gateways():
            invoice.with_user(self.card_user).action_post()
        self.assertFalse(self._autopay_txs(invoice), "posting charges nothing by itself")
        self._run_autopay_cron()
        return invoice

    def _run_autopay_cron(self):
        with self.mock_gateways():
            self.env["account.move"]._cron_payment_request_autopay()

    def _charge_card(self, invoice):
        """Click the invoice's "Charge saved card" button, then let the cron charge."""
        with self.mock_gateways():
            invoice.with_user(self.card_user).action_payment_request_charge_card()
        self._run_autopay_cron()

    def _autopay_txs(self, invoice):
        return invoice.sudo().transaction_ids.filtered(lambda tx: tx.operation == "offline")

    def assertChargeFailed(self, order, invoice, reason):
        """The order's auto-pay is paused, the customer got a request, the salesperson knows."""
        self.assertEqual(order.payment_request_autopay_state, "paused")
        self.assertIn(reason, order.payment_request_autopay_pause_reason)
        self.assertEqual(invoice.payment_state, "not_paid")
        request = self.env["payment.request"].search([("invoice_ids", "=", invoice.id)])
        self.assertRecordValues(
            request,
            [
                {
                    "purpose": "invoice",
                    "state": "open",
                    "amount": invoice.amount_residual,
                    "partner_id": self.customer.id,
                    "channel": "both",
                    "user_id": order.user_id.id,
                }
            ],
        )
        self.assertTrue(self._new_mails.filtered(lambda mail: mail.res_id == request.id))
        self.assertEqual(self._new_sms.number, "+32470123456")
        notified = order.message_ids.filtered(
            lambda message: order.user_id.partner_id in message.partner_ids
        )
        self.assertIn("Auto-pay paused", notified[:1].body)
        self.assertEqual(order.activity_ids.user_id, order.user_id)
        return request


@tagged("post_install", "-at_install")
class TestAutopay(CustomerCardsCommon, AutopayCommon):
    # === ENABLING === #

    def test_enable_autopay_needs_the_cards_group(self):
        order = self._create_order(self._create_demo_token())
        with self.assertRaises(AccessError):
            order.with_user(self.salesman).action_enable_autopay()
        self.assertEqual(order.payment_request_autopay_state, "off")

    def test_enable_autopay_needs_an_active_unexpired_card(self):
        order = self._create_order()
        with self.assertRaisesRegex(UserError, "Choose the saved card"):
            order.with_user(self.card_user).action_enable_autopay()
        token = self._create_demo_token()
        token.sudo().write({"card_exp_month": 1, "card_exp_year": 2020})
        order.write({"payment_request_use_card": True, "payment_request_token_id": token.id})
        with self.assertRaisesRegex(UserError, "expired"):
            order.with_user(self.card_user).action_enable_autopay()

    def test_card_of_another_customer_refused(self):
        token = self._create_demo_token(partner=self.customer_2)
        with self.assertRaisesRegex(Exception, "not a card of the customer"):
            self._create_order(token)

    def test_enable_and_disable_autopay_are_tracked(self):
        order = self._create_order(self._create_demo_token())
        self.env.cr.precommit.run()  # as if enabled in a later transaction
        order.with_user(self.card_user).action_enable_autopay()
        self.assertEqual(order.payment_request_autopay_state, "on")
        self.env.cr.precommit.run()
        order.with_user(self.card_user).action_disable_autopay()
        self.assertEqual(order.payment_request_autopay_state, "off")
        self.env.cr.precommit.run()
        tracked = order.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "payment_request_autopay_state"
        )
        self.assertEqual(
            sorted(tracked.mapped("new_value_char")), ["Active", "Off"], "both changes tracked"
        )

    def test_autopay_state_changes_only_through_the_buttons(self):
        order = self._create_order(self._create_demo_token())
        with self.assertRaises(AccessError):
            order.with_user(self.card_user).write({"payment_request_autopay_state": "on"})
        order.with_user(self.card_user).action_enable_autopay()
        with self.assertRaisesRegex(UserError, "Disable auto-pay"):
            order.with_user(self.card_user).write(
                {"payment_request_token_id": self._create_demo_token().id}
            )

    # === CHARGING === #

    def test_posting_the_invoice_charges_the_card(self):
        token = self._create_demo_token()
        order = self._create_order(token, autopay=True)
        invoice = self._post_invoice(order)
        tx = self._autopay_txs(invoice)
        self.assertRecordValues(
            tx,
            [
                {
                    "state": "done",
                    "token_id": token.id,
                    "amount": invoice.amount_total,
                    "partner_id": self.customer.id,
                    "is_post_processed": True,
                }
            ],
        )
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(tx.payment_id)
        self.assertEqual(tx.payment_id.reconciled_invoice_ids, invoice)
        receipt = self._new_mails.filtered(
            lambda mail: mail.model == "account.payment" and mail.res_id == tx.payment_id.id
        )
        self.assertEqual(receipt.recipient_ids, self.customer)
        self.assertIn("Auto-pay", order.message_ids[:1].body)
        self.assertEqual(order.payment_request_autopay_state, "on")

    def test_posting_again_or_retrying_never_charges_twice(self):
        order = self._create_order(self._create_demo_token(), autopay=True)
        invoice = self._post_invoice(order)
        self.assertEqual(len(self._autopay_txs(invoice)), 1)
        self._charge_card(invoice)
        with self.mock_gateways():
            invoice.button_draft()
            invoice.action_post()
        self._run_autopay_cron()
        self.assertEqual(len(self._autopay_txs(invoice)), 1)

    def test_pending_charge_blocks_another_one(self):
        order = self._create_order(self._create_demo_token(simulated_state="pending"), autopay=True)
        invoice = self._post_invoice(order)
        tx = self._autopay_txs(invoice)
        self.assertEqual(tx.state, "pending")
        self.assertEqual(order.payment_request_autopay_state, "on")
        self._charge_card(invoice)
        self.assertEqual(self._autopay_txs(invoice), tx)

    def test_pending_charge_settled_later_by_the_provider(self):
        order = self._create_order(self._create_demo_token(simulated_state="pending"), autopay=True)
        invoice = self._post_invoice(order)
        tx = self._autopay_txs(invoice)
        tx._handle_notification_data("demo", {"reference": tx.reference, "simulated_state": "done"})
        with self.mock_gateways():
            tx._post_process()  # what the post-processing cron does for it
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertTrue(
            self._new_mails.filtered(
                lambda mail: mail.model == "account.payment" and mail.res_id == tx.payment_id.id
            )
        )

    def test_pending_charge_refused_later_pauses_autopay(self):
        order = self._create_order(self._create_demo_token(simulated_state="pending"), autopay=True)
        invoice = self._post_invoice(order)
        tx = self._autopay_txs(invoice)
        tx._handle_notification_data(
            "demo", {"reference": tx.reference, "simulated_state": "error"}
        )
        with self.mock_gateways():
            tx._post_process()
        self.assertChargeFailed(order, invoice, invoice.name)

    def test_declined_card_pauses_autopay_and_sends_a_request(self):
        order = self._create_order(self._create_demo_token(simulated_state="error"), autopay=True)
        invoice = self._post_invoice(order)
        self.assertEqual(self._autopay_txs(invoice).state, "error")
        self.assertChargeFailed(order, invoice, invoice.name)

    def test_retry_after_a_failure_charges_once(self):
        token = self._create_demo_token(simulated_state="error")
        order = self._create_order(token, autopay=True)
        invoice = self._post_invoice(order)
        token.sudo().demo_simulated_state = "done"
        order.with_user(self.card_user).action_enable_autopay()
        self._charge_card(invoice)
        self._charge_card(invoice)
        self.assertEqual(self._autopay_txs(invoice).sorted("id").mapped("state"), ["error", "done"])
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_expired_card_is_not_charged(self):
        token = self._create_demo_token()
        order = self._create_order(token, autopay=True)
        token.sudo().write({"card_exp_month": 1, "card_exp_year": 2020})
        invoice = self._post_invoice(order)
        self.assertFalse(self._autopay_txs(invoice))
        self.assertChargeFailed(order, invoice, "expired")

    # === CHARGES OUTSIDE INVOICE POSTING === #

    def test_posting_only_schedules_the_charge(self):
        order = self._create_order(self._create_demo_token(), autopay=True)
        invoice = order._create_invoices()
        cron = self.env.ref("payment_request.ir_cron_payment_request_autopay")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        with self.mock_gateways():
            invoice.with_user(self.card_user).action_post()
        new_triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        self.assertTrue(new_triggers, "the cron is woken at once")
        self.assertEqual(invoice.payment_request_autopay_state, "to_charge")
        self.assertFalse(self._autopay_txs(invoice))
        self.assertEqual(invoice.payment_state, "not_paid")
        self._run_autopay_cron()
        self.assertEqual(self._autopay_txs(invoice).state, "done")
        self.assertEqual(invoice.payment_request_autopay_state, "done")

    def test_posting_rolled_back_charges_nothing(self):
        order = self._create_order(self._create_demo_token(), autopay=True)
        invoice = order._create_invoices()
        with (
            self.assertRaisesRegex(RuntimeError, "another module refuses"),
            self.env.cr.savepoint(),
            self.mock_gateways(),
        ):
            invoice.with_user(self.card_user).action_post()
            raise RuntimeError("another module refuses")
        self.assertFalse(self._autopay_txs(invoice), "nothing was charged before the cron")
        self._run_autopay_cron()
        self.assertFalse(self._autopay_txs(invoice))
        self.assertEqual(invoice.state, "draft")
        with self.mock_gateways():
            invoice.action_post()
        self._run_autopay_cron()
        self._run_autopay_cron()
        self.assertEqual(self._autopay_txs(invoice).mapped("state"), ["done"])

    def test_batch_posting_charges_each_invoice_once(self):
        token = self._create_demo_token()
        orders = self._create_order(token, autopay=True) | self._create_order(token, autopay=True)
        invoices = orders[0]._create_invoices() | orders[1]._create_invoices()
        with self.mock_gateways():
            invoices.with_user(self.card_user).action_post()
        self._run_autopay_cron()
        self._run_autopay_cron()
        for invoice in invoices:
            tx = self._autopay_txs(invoice)
            self.assertRecordValues(
                tx, [{"state": "done", "amount": invoice.amount_total, "invoice_ids": invoice.ids}]
            )
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_crash_after_the_charge_is_sent_again_not_twice(self):
        order = self._create_order(self._create_demo_token(), autopay=True)
        invoice = order._create_invoices()
        with self.mock_gateways():
            invoice.action_post()
        sent = []
        send = PaymentTransaction._send_payment_request

        def send_then_crash(tx):
            send(tx)
            sent.append(tx.reference)
            if len(sent) == 1:
                raise RuntimeError("worker killed before the commit")

        with (
            patch.object(PaymentTransaction, "_send_payment_request", send_then_crash),
            mute_logger("odoo.addons.payment_request.models.account_move"),
        ):
            self._run_autopay_cron()
            tx = self._autopay_txs(invoice)
            self.assertRecordValues(tx, [{"state": "draft"}])
            self.assertEqual(invoice.payment_request_autopay_state, "charging")
            self._run_autopay_cron()
        self.assertEqual(self._autopay_txs(invoice), tx, "the transaction is reused")
        self.assertEqual(sent, [tx.reference, tx.reference])
        self.assertEqual(tx.state, "done")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_charge_in_flight_is_not_charged_by_a_retry(self):
        order = self._create_order(self._create_demo_token(), autopay=True)
        invoice = order._create_invoices()
        with self.mock_gateways():
            invoice.action_post()
        with patch.object(
            PaymentTransaction, "_send_payment_request", side_effect=requests.Timeout("slow")
        ):
            self._run_autopay_cron()
            self._charge_card(invoice)
        tx = self._autopay_txs(invoice)
        self.assertEqual(len(tx), 1)
        self.assertEqual(tx.state, "draft")
        self.assertEqual(invoice.payment_request_autopay_state, "charging")
        self.assertEqual(order.payment_request_autopay_state, "on", "no failure: unknown outcome")
        self.assertIn("will be retried", invoice.message_ids[:1].body)
        self._run_autopay_cron()
        self.assertEqual(self._autopay_txs(invoice).mapped("state"), ["done"])

    def test_invoice_of_an_order_without_autopay_is_not_charged(self):
        order = self._create_order(self._create_demo_token())
        invoice = self._post_invoice(order)
        self.assertFalse(invoice.sudo().transaction_ids)
        self.assertEqual(invoice.payment_state, "not_paid")


@tagged("post_install", "-at_install")
class TestAutopayStripe(LocalStripeCommon, AutopayCommon):
    """Off-session charges made by Odoo's Stripe module, against localstripe."""

    def test_stripe_card_is_charged_off_session(self):
        token = self._tokenize_stripe_card()
        order = self._create_order(token, autopay=True)
        invoice = self._post_invoice(order)
        tx = self._autopay_txs(invoice)
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.provider_reference.startswith("pi_"))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    @mute_logger("odoo.addons.payment_stripe.models.payment_transaction")
    def test_declined_stripe_card_pauses_autopay(self):
        # localstripe accepts to save this test card but declines its charges.
        token = self._tokenize_stripe_card(number="4000000000000341")
        order = self._create_order(token, autopay=True)
        invoice = self._post_invoice(order)
        self.assertEqual(self._autopay_txs(invoice).state, "error")
        self.assertChargeFailed(order, invoice, invoice.name)

    @mute_logger("odoo.addons.payment_stripe.models.payment_transaction")
    def test_stripe_card_needing_authentication_pauses_autopay(self):
        # A 3-D Secure card cannot be charged while the customer is away.
        token = self._tokenize_stripe_card(number="4000002500003155")
        order = self._create_order(token, autopay=True)
        invoice = self._post_invoice(order)
        self.assertNotEqual(self._autopay_txs(invoice).state, "done")
        self.assertChargeFailed(order, invoice, invoice.name)

    def setUp(self):
        super().setUp()
        # Invoice names, hence references and idempotency keys, repeat from a test to the next.
        self.stripe_requests.idempotent_responses.clear()

    def _payment_intents(self):
        return stripe.PaymentIntent.list(**self.localstripe._options()).data

    def test_stripe_crash_after_the_charge_makes_one_payment_intent(self):
        token = self._tokenize_stripe_card()
        order = self._create_order(token, autopay=True)
        invoice = order._create_invoices()
        with self.mock_gateways():
            invoice.action_post()
        intents_before = len(self._payment_intents())
        crashed = []
        post_process = PaymentTransaction._post_process

        def crash_once(txs):
            if not crashed:
                crashed.append(True)
                raise RuntimeError("worker killed before the commit")
            return post_process(txs)

        with (
            patch.object(PaymentTransaction, "_post_process", crash_once),
            mute_logger("odoo.addons.payment_request.models.account_move"),
        ):
            self._run_autopay_cron()
            self.assertEqual(self._autopay_txs(invoice).state, "draft")
            self._run_autopay_cron()
        tx = self._autopay_txs(invoice)
        self.assertEqual(tx.state, "done")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(len(self._payment_intents()), intents_before + 1, "charged once")
        keys = self.stripe_requests.idempotency_keys[-2:]
        self.assertEqual(len(set(keys)), 1, "both sendings carried the same idempotency key")


@tagged("post_install", "-at_install")
class TestAutopayReview(CustomerCardsCommon, AutopayCommon):
    """A draft charge left by an earlier run: checked again, not resent too late or twice."""

    def _leave_draft_charge(self):
        """Post an auto-pay invoice whose charge the provider did not answer: a draft is left."""
        order = self._create_order(self._create_demo_token(), autopay=True)
        invoice = order._create_invoices()
        with self.mock_gateways():
            invoice.action_post()
        with (
            patch.object(
                PaymentTransaction, "_send_payment_request", side_effect=requests.Timeout("slow")
            ),
            mute_logger("odoo.addons.payment_request.models.account_move"),
        ):
            self._run_autopay_cron()
        tx = self._autopay_txs(invoice)
        self.assertRecordValues(tx, [{"state": "draft"}])
        self.assertEqual(invoice.payment_request_autopay_state, "charging")
        return order, invoice, tx

    def _assert_not_sent(self, invoice):
        with patch.object(PaymentTransaction, "_send_payment_request") as send:
            self._run_autopay_cron()
        send.assert_not_called()

    def test_draft_charge_of_an_invoice_paid_meanwhile_is_cancelled(self):
        order, invoice, tx = self._leave_draft_charge()
        invoice.sudo().button_draft()
        invoice.sudo().button_cancel()
        invoice.sudo().payment_request_autopay_state = "charging"
        self._assert_not_sent(invoice)
        self.assertEqual(tx.state, "cancel")
        self.assertFalse(invoice.payment_request_autopay_state)
        self.assertIn("Check the charge", invoice.message_ids[:1].body)
        self.assertEqual(order.payment_request_autopay_state, "on")

    def test_draft_charge_after_autopay_turned_off_is_cancelled(self):
        order, invoice, tx = self._leave_draft_charge()
        order.sudo().payment_request_autopay_state = "off"
        invoice.invalidate_recordset()
        self._assert_not_sent(invoice)
        self.assertEqual(tx.state, "cancel")
        self.assertFalse(invoice.payment_request_autopay_state)

    def test_draft_charge_on_an_archived_card_is_cancelled(self):
        order, invoice, tx = self._leave_draft_charge()
        tx.token_id.sudo().active = False  # Pauses the order's auto-pay.
        self._assert_not_sent(invoice)
        self.assertEqual(tx.state, "cancel")
        self.assertFalse(invoice.payment_request_autopay_state)
        self.assertEqual(order.payment_request_autopay_state, "paused")

    def test_draft_charge_on_an_expired_card_is_cancelled(self):
        order, invoice, tx = self._leave_draft_charge()
        tx.token_id.sudo().write({"card_exp_month": 1, "card_exp_year": 2001})
        self.assertTrue(tx.token_id.is_expired)
        self._assert_not_sent(invoice)
        self.assertEqual(tx.state, "cancel")
        self.assertEqual(invoice.payment_request_autopay_state, "failed")
        self.assertChargeFailed(order, invoice, "expired")

    def test_draft_charge_first_sent_over_20_hours_ago_is_not_resent(self):
        order, invoice, tx = self._leave_draft_charge()
        self.env.cr.execute(
            "UPDATE payment_transaction SET create_date = now() - interval '21 hours' "
            "WHERE id = %s",
            [tx.id],
        )
        tx.invalidate_recordset()
        self._assert_not_sent(invoice)
        self.assertEqual(tx.state, "cancel")
        self.assertEqual(invoice.payment_request_autopay_state, "failed")
        self.assertIn("Check the charge", invoice.message_ids[:1].body)
        self._assert_not_sent(invoice)

    def test_retry_note_posted_on_the_first_failure_only(self):
        order, invoice, tx = self._leave_draft_charge()
        with (
            patch.object(
                PaymentTransaction, "_send_payment_request", side_effect=requests.Timeout("slow")
            ),
            mute_logger("odoo.addons.payment_request.models.account_move"),
        ):
            self._run_autopay_cron()
            self._run_autopay_cron()
        notes = invoice.message_ids.filtered(lambda m: "will be retried" in (m.body or ""))
        self.assertEqual(len(notes), 1)
        self.assertEqual(tx.state, "draft")

    def test_transaction_settled_by_another_run_is_not_sent_again(self):
        order, invoice, tx = self._leave_draft_charge()
        prepare = type(invoice)._payment_request_autopay_prepare

        def prepare_then_other_run_sends(move):
            result = prepare(move)
            # Another run sent it meanwhile (the ORM cache of this run still says draft).
            self.env.cr.execute(
                "UPDATE payment_transaction SET state = 'pending' WHERE id = %s", [tx.id]
            )
            return result

        with patch.object(
            type(invoice), "_payment_request_autopay_prepare", prepare_then_other_run_sends
        ):
            self._assert_not_sent(invoice)

    def test_refusal_of_the_sending_fails_the_charge(self):
        order = self._create_order(self._create_demo_token(), autopay=True)
        invoice = order._create_invoices()
        with self.mock_gateways():
            invoice.action_post()
        with (
            patch.object(
                PaymentTransaction,
                "_send_payment_request",
                side_effect=UserError("Stripe: The transaction is not linked to a token."),
            ),
            mute_logger("odoo.addons.payment_request.models.account_move"),
        ):
            self._run_autopay_cron()
        tx = self._autopay_txs(invoice)
        self.assertEqual(tx.state, "error")
        self.assertEqual(invoice.payment_request_autopay_state, "failed")
        self.assertChargeFailed(order, invoice, invoice.name)

    def test_stripe_connection_error_is_retried(self):
        order = self._create_order(self._create_demo_token(), autopay=True)
        invoice = order._create_invoices()
        with self.mock_gateways():
            invoice.action_post()

        def unreachable(tx):
            try:
                raise requests.exceptions.ConnectionError("refused")
            except requests.exceptions.ConnectionError:
                # As Odoo's Stripe module does: the connection error is the context only.
                raise ValidationError(tx.env._("Stripe: no connection to the API."))  # noqa: B904

        with (
            patch.object(PaymentTransaction, "_send_payment_request", unreachable),
            mute_logger("odoo.addons.payment_request.models.account_move"),
        ):
            self._run_autopay_cron()
        self.assertEqual(self._autopay_txs(invoice).state, "draft")
        self.assertEqual(invoice.payment_request_autopay_state, "charging")
        self.assertEqual(order.payment_request_autopay_state, "on")
