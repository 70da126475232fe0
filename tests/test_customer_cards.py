# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import json

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import HttpCase
from odoo.tests import JsonRpcException
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.sms.tests.common import MockSMS

from .common import CustomerCardsCommon
from .common import LocalStripeCommon

CARD_FIELDS = ("card_brand", "card_exp_month", "card_exp_year", "card_holder_name")


@tagged("post_install", "-at_install")
class TestStripeCards(LocalStripeCommon, HttpCase):
    """Card details and detaching, through the `stripe` SDK against localstripe."""

    def test_tokenization_stores_card_details_from_stripe(self):
        token = self._tokenize_stripe_card(
            exp_month=7, exp_year=2032, name="Claire Customer", postal_code="1000"
        )
        self.assertRecordValues(
            token,
            [
                {
                    "partner_id": self.customer.id,
                    "payment_details": "4242",
                    "card_brand": "visa",
                    "card_exp_month": 7,
                    "card_exp_year": 2032,
                    "card_holder_name": "Claire Customer",
                    "card_postal_code": "1000",
                    "is_expired": False,
                }
            ],
        )
        self.assertTrue(token.stripe_payment_method.startswith("pm_"))

    def test_card_page_offers_stripe_to_save_a_card(self):
        card_request = self.env["payment.card.request"].create({"partner_id": self.customer.id})
        card_request._portal_ensure_token()
        response = self.url_open(card_request.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertIn('data-provider-code="stripe"', response.text)
        self.assertIn('data-mode="validation"', response.text)

    def test_no_field_holds_a_card_number_or_cvc(self):
        token = self._tokenize_stripe_card()
        values = token.read(list(token._fields))[0]
        for name, value in values.items():
            with self.subTest(field=name):
                self.assertNotIn("4242424242424242", str(value))
                self.assertNotEqual(value, "123")
        self.assertFalse(
            [name for name in self.env["payment.token"]._fields if "cvc" in name or "cvv" in name]
        )

    @mute_logger("odoo.addons.payment_request.models.payment_provider")
    def test_unknown_payment_method_keeps_the_token_without_details(self):
        token = self._create_demo_token()
        stripe_token = token.copy(
            {
                "provider_id": self.stripe_provider.id,
                "payment_method_id": self.env.ref("payment.payment_method_card").id,
                "stripe_payment_method": "pm_unknown",
            }
        )
        self.assertTrue(stripe_token.exists())
        self.assertFalse(stripe_token.card_brand)

    def test_delete_detaches_the_payment_method_at_stripe(self):
        token = self._tokenize_stripe_card()
        token.sudo().transaction_ids.unlink()  # a card saved without any payment
        payment_method_id = token.stripe_payment_method
        self.assertEqual(
            self.localstripe.retrieve_payment_method(payment_method_id).customer,
            token.provider_ref,
        )
        token.with_user(self.card_user).action_payment_request_delete()
        self.assertFalse(token.exists())
        self.assertIsNone(self.localstripe.retrieve_payment_method(payment_method_id).customer)

    def test_unlink_over_rpc_cannot_skip_the_detach_with_a_context_key(self):
        token = self._tokenize_stripe_card()
        token.sudo().transaction_ids.unlink()
        payment_method_id = token.stripe_payment_method
        token.with_user(self.card_user).with_context(payment_request_detached=True).unlink()
        self.assertFalse(token.exists())
        self.assertIsNone(self.localstripe.retrieve_payment_method(payment_method_id).customer)

    def test_delete_card_with_payments_detaches_and_keeps_it_archived(self):
        token = self._tokenize_stripe_card()
        self.assertTrue(token.sudo().transaction_ids)
        token.with_user(self.card_user).action_payment_request_delete()
        self.assertRecordValues(token, [{"active": False, "card_deleted": True}])
        self.assertIsNone(
            self.localstripe.retrieve_payment_method(token.stripe_payment_method).customer
        )
        self.assertNotIn(token, self.customer.with_user(self.card_user).payment_request_card_ids)
        with self.assertRaisesRegex(UserError, "cannot be reactivated"):
            token.with_user(self.card_user).action_unarchive()

    def test_delete_refused_while_an_order_pays_with_the_card(self):
        token = self._tokenize_stripe_card()
        order = self._create_order(token, autopay=True)
        with self.assertRaisesRegex(UserError, order.name):
            token.with_user(self.card_user).unlink()
        self.assertTrue(token.exists())
        # Nothing was detached at Stripe.
        self.assertEqual(
            self.localstripe.retrieve_payment_method(token.stripe_payment_method).customer,
            token.provider_ref,
        )
        order.with_user(self.card_user).action_disable_autopay()
        token.with_user(self.card_user).action_payment_request_delete()
        self.assertTrue(token.card_deleted)

    def test_delete_a_card_already_removed_at_stripe(self):
        token = self._tokenize_stripe_card()
        self.localstripe.retrieve_payment_method(token.stripe_payment_method).detach()
        token.sudo().transaction_ids.unlink()
        token.with_user(self.card_user).unlink()
        self.assertFalse(token.exists())


@tagged("post_install", "-at_install")
class TestCustomerCards(CustomerCardsCommon):
    def test_expired_cards_are_flagged_and_searchable(self):
        last_month = self._create_demo_token()
        this_month = self._create_demo_token()
        no_expiry = self._create_demo_token()
        last_month.sudo().write({"card_exp_month": 5, "card_exp_year": 2026})
        this_month.sudo().write({"card_exp_month": 6, "card_exp_year": 2026})
        tokens = last_month | this_month | no_expiry
        with freeze_time("2026-06-15"):
            tokens.invalidate_recordset(["is_expired"])
            self.assertEqual(tokens.filtered("is_expired"), last_month)
            self.assertEqual(
                self.env["payment.token"].search(
                    [("id", "in", tokens.ids), ("is_expired", "=", True)]
                ),
                last_month,
            )
            self.assertEqual(
                self.env["payment.token"].search(
                    [("id", "in", tokens.ids), ("is_expired", "=", False)]
                ),
                this_month | no_expiry,
            )

    def test_staff_cannot_type_card_details(self):
        token = self._create_demo_token()
        for field in CARD_FIELDS:
            with self.subTest(field=field), self.assertRaises(AccessError):
                token.with_user(self.card_user).write({field: 1 if "exp" in field else "x"})

    def test_deactivate_pauses_autopay_and_card_can_be_reactivated(self):
        token = self._create_demo_token()
        order = self._create_order(token, autopay=True)
        self.assertEqual(token.autopay_order_count, 1)
        token.with_user(self.card_user).action_archive()
        self.assertFalse(token.active)
        self.assertEqual(order.payment_request_autopay_state, "paused")
        self.assertIn("deactivated", order.payment_request_autopay_pause_reason)
        token.with_user(self.card_user).action_unarchive()
        self.assertTrue(token.active)

    def test_cards_tab_lists_active_and_inactive_cards(self):
        active = self._create_demo_token()
        inactive = self._create_demo_token()
        inactive.active = False
        partner = self.customer.with_user(self.card_user)
        self.assertEqual(partner.payment_request_card_ids, active | inactive)
        self._create_order(active, autopay=True)
        self.assertEqual(active.with_user(self.card_user).autopay_order_count, 1)
        self.assertEqual(inactive.with_user(self.card_user).autopay_order_count, 0)

    def test_cards_tab_read_with_the_smart_buttons(self):
        """The query of the smart buttons says which partners have cards: a customer without
        any costs no search of cards; one with cards lists the active and inactive ones, not
        those deleted, in one more query."""
        active = self._create_demo_token()
        inactive = self._create_demo_token()
        inactive.active = False
        deleted = self._create_demo_token()
        deleted.write({"active": False, "card_deleted": True})
        partners = (self.customer | self.customer_2).with_user(self.card_user)
        figures = ["payment_request_card_ids", "payment_request_count"]
        partners.mapped("payment_request_card_ids")  # the rights and rules, read once
        partners.invalidate_recordset(figures)
        with self.assertQueryCount(2):
            cards = partners.mapped("payment_request_card_ids")
        self.assertEqual(cards, active | inactive)
        self.assertFalse(partners[1].payment_request_card_ids)
        partners.invalidate_recordset(figures)
        with self.assertQueryCount(1):
            self.assertFalse(partners[1].payment_request_card_ids)
            self.assertEqual(partners[1].payment_request_count, 0)

    def test_cards_tab_for_a_user_of_the_cards_group_only(self):
        """The cards come with the request count and the balance, which such a user may not
        read: reading the cards does not need the right to read requests."""
        user = mail_new_test_user(
            self.env,
            login="pr_cards_only",
            groups="base.group_user,payment_request.group_customer_cards",
            company_id=self.company.id,
            company_ids=[(6, 0, self.company.ids)],
        )
        token = self._create_demo_token()
        self.assertFalse(self.env["payment.request"].with_user(user).has_access("read"))
        self.assertEqual(self.customer.with_user(user).payment_request_card_ids, token)


@tagged("post_install", "-at_install")
class TestCustomerCardsRights(CustomerCardsCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls._create_demo_token()

    def _rpc_read(self, user, token):
        self.authenticate(user.login, user.login)
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw/payment.token/read",
            {
                "model": "payment.token",
                "method": "read",
                "args": [token.ids, ["payment_details", "card_brand", "partner_id"]],
                "kwargs": {},
            },
        )

    def _form_arch(self, user):
        return (
            self.env["res.partner"]
            .with_user(user)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )

    def test_autopay_settings_only_for_the_group(self):
        def order_arch(user):
            views = self.env["sale.order"].with_user(user).get_views([(False, "form")])
            return views["views"]["form"]["arch"]

        self.assertNotIn("action_enable_autopay", order_arch(self.salesman))
        self.assertNotIn('name="payment_request_token_id"', order_arch(self.salesman))
        self.assertIn("action_enable_autopay", order_arch(self.card_user))
        self.assertIn('name="payment_request_token_id"', order_arch(self.card_user))

    def test_cards_tab_only_for_the_group(self):
        self.assertNotIn('name="payment_request_cards"', self._form_arch(self.salesman))
        self.assertNotIn("payment_request_card_ids", self._form_arch(self.salesman))
        arch = self._form_arch(self.card_user)
        self.assertIn('name="payment_request_cards"', arch)
        self.assertIn("action_payment_request_request_card", arch)
        self.assertIn("action_payment_request_add_card", arch)

    @mute_logger("odoo.http")
    def test_reading_tokens_over_rpc_needs_the_group(self):
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.AccessError"):
            self._rpc_read(self.salesman, self.token)
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.AccessError"):
            self._rpc_read(self.biller, self.token)
        self.assertEqual(self._rpc_read(self.card_user, self.token)[0]["payment_details"], "4242")

    def test_cards_group_cannot_read_cards_of_other_companies(self):
        provider_2 = self.demo_provider.copy({"company_id": self.company_2.id, "state": "test"})
        token_2 = self._create_demo_token(provider_id=provider_2.id)
        with self.assertRaises(AccessError):
            token_2.with_user(self.card_user).read(["payment_details"])
        self.assertEqual(
            self.env["payment.token"]
            .with_user(self.card_user)
            .search([("partner_id", "=", self.customer.id)]),
            self.token,
        )
        self.card_user.company_ids |= self.company_2
        self.assertEqual(
            token_2.with_user(self.card_user)
            .with_context(allowed_company_ids=(self.company | self.company_2).ids)
            .payment_details,
            "4242",
        )


@tagged("post_install", "-at_install")
class TestCardRequests(MockEmail, MockSMS, CustomerCardsCommon, HttpCase):
    """The link that lets a customer save a card, and its public page."""

    def _request_card(self):
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.customer.with_user(self.card_user).action_payment_request_request_card()
        return self.env["payment.card.request"].search([("partner_id", "=", self.customer.id)])

    def _save_card(self, card_request, token=None, **params):
        values = {
            "provider_id": self.demo_provider.id,
            "payment_method_id": self.demo_method.id,
            "token_id": None,
            "amount": 999.0,
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": "/somewhere/else",
            "is_validation": True,
            "access_token": card_request.access_token if token is None else token,
            **params,
        }
        response = self.url_open(
            f"/payment_request/card/{card_request.id}/transaction",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": values}),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        return response.json()

    def test_request_card_sends_the_link_by_email_and_sms(self):
        card_request = self._request_card()
        self.assertRecordValues(
            card_request,
            [{"state": "open", "channel": "both", "user_id": self.card_user.id}],
        )
        link = card_request.get_portal_url()
        self.assertIn("access_token=", link)
        mail = self._new_mails.filtered(lambda mail: mail.res_id == card_request.id)
        self.assertEqual(mail.recipient_ids, self.customer)
        self.assertIn(link.replace("&", "&amp;"), mail.body_html)
        # Wrapped in Odoo's light email layout, as the company's other customer emails.
        model = self.env["ir.model"]._get(card_request._name).name
        self.assertIn(f"Your {model}", mail.body_html)
        self.assertEqual(self._new_sms.number, "+32470123456")
        self.assertIn(link, self._new_sms.body)

    def test_request_card_needs_a_way_to_reach_the_customer(self):
        with self.assertRaisesRegex(UserError, "neither an email address nor a mobile"):
            self.customer_2.with_user(self.card_user).action_payment_request_request_card()

    def test_add_card_now_opens_the_card_page(self):
        action = self.customer.with_user(self.card_user).action_payment_request_add_card()
        card_request = self.env["payment.card.request"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertEqual(action["target"], "new")
        self.assertEqual(action["url"], card_request.get_portal_url())
        self.assertFalse(card_request.channel)

    def test_one_open_card_request_per_customer(self):
        first = self._request_card()
        self.customer.with_user(self.card_user).action_payment_request_add_card()
        self.assertEqual(
            self.env["payment.card.request"].search([("partner_id", "=", self.customer.id)]),
            first,
        )

    def test_card_page_shows_the_provider_form_in_validation_mode(self):
        card_request = self._request_card()
        response = self.url_open(card_request.get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertIn('data-mode="validation"', response.text)
        self.assertIn(f"/payment_request/card/{card_request.id}/transaction", response.text)
        self.assertIn('data-payment-method-code="demo"', response.text)

    @mute_logger("odoo.http")
    def test_card_page_needs_the_access_token(self):
        card_request = self._request_card()
        for token in ("", "wrong", card_request.access_token[:-1]):
            with self.subTest(token=token):
                response = self.url_open(
                    f"/payment_request/card/{card_request.id}?access_token={token}"
                )
                self.assertEqual(response.status_code, 404)
        answer = self._save_card(card_request, token="wrong")
        self.assertIn("access token is invalid", answer["error"]["data"]["message"])

    def test_saving_a_card_makes_a_validation_for_the_customer(self):
        card_request = self._request_card()
        answer = self._save_card(card_request)
        self.assertNotIn("error", answer)
        tx = self.env["payment.transaction"].search(
            [("payment_card_request_id", "=", card_request.id)]
        )
        self.assertRecordValues(
            tx,
            [
                {
                    "operation": "validation",
                    "tokenize": True,
                    "partner_id": self.customer.id,
                    "amount": 0.0,  # not the one sent by the browser
                    "landing_route": card_request.get_portal_url(),
                }
            ],
        )
        tx._handle_notification_data(
            "demo",
            {"reference": tx.reference, "simulated_state": "done", "payment_details": "4242"},
        )
        tx._post_process()
        self.assertRecordValues(card_request, [{"state": "done", "token_id": tx.token_id.id}])
        self.assertEqual(tx.token_id.partner_id, self.customer)
        self.assertIn(tx.token_id, self.customer.with_user(self.card_user).payment_request_card_ids)
        page = self.url_open(card_request.get_portal_url())
        self.assertIn("your card is saved", page.text)
        self.assertNotIn("o_payment_form", page.text)
        answer = self._save_card(card_request)
        self.assertIn("already used", answer["error"]["data"]["message"])

    def test_card_page_refuses_another_customer(self):
        card_request = self._request_card()
        answer = self._save_card(card_request, partner_id=self.customer_2.id)
        self.assertIn("not whitelisted: partner_id", answer["error"]["data"]["message"])
        self.assertFalse(
            self.env["payment.transaction"].search(
                [("payment_card_request_id", "=", card_request.id)]
            )
        )

    def test_saved_cards_cannot_be_used_from_the_card_page(self):
        card_request = self._request_card()
        token = self._create_demo_token()
        answer = self._save_card(card_request, flow="token", token_id=token.id)
        self.assertIn("Enter a new card", answer["error"]["data"]["message"])
