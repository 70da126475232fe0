# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import json

from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.sms.tests.common import MockSMS

from .common import CustomerCardsCommon
from .test_pay_page import PayPageCommon


@tagged("post_install", "-at_install")
class TestSavedCardsOnThePayPage(PayPageCommon):
    """A forwarded link pays with a new card only: saved cards are the logged-in customer's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.allow_tokenization = True
        cls.customer.user_ids = [(4, cls.customer_user.id)]
        cls.token = cls.env["payment.token"].create(
            {
                "provider_id": cls.provider.id,
                "payment_method_id": cls.method.id,
                "partner_id": cls.customer.id,
                "payment_details": "4242",
                "provider_ref": "demo-token",
            }
        )

    def _pay_with_token(self):
        return self._pay(flow="token", token_id=self.token.id, payment_method_id=None)

    def _assert_refused(self, answer, message):
        self.assertIn(message, answer["error"]["data"]["message"])
        self.assertFalse(self.request.sudo().transaction_ids)
        self.assertEqual(self.request.state, "open")

    @mute_logger("odoo.http")
    def test_forwarded_link_cannot_pay_with_the_saved_card(self):
        self._assert_refused(self._pay_with_token(), "to pay with a saved card")

    @mute_logger("odoo.http")
    def test_another_portal_user_cannot_pay_with_the_saved_card(self):
        self.authenticate("pr_portal", "pr_portal")
        self._assert_refused(self._pay_with_token(), "to pay with a saved card")

    def test_logged_in_customer_pays_with_the_saved_card(self):
        self.authenticate("pr_customer", "pr_customer")
        answer = self._pay_with_token()
        self.assertNotIn("error", answer)
        self.assertEqual(self._tx().token_id, self.token)

    @mute_logger("odoo.http")
    def test_saved_card_is_not_charged_while_another_tab_pays(self):
        """The saved card is charged by the transaction route itself: a second tab paying
        with it while the first pays with a new card is refused before the charge."""
        self.authenticate("pr_customer", "pr_customer")
        self.assertNotIn("error", self._pay())  # the first tab, a new card
        answer = self._pay_with_token()
        self.assertIn("started a moment ago", answer["error"]["data"]["message"])
        transactions = self.request.sudo().transaction_ids
        self.assertEqual(transactions.mapped("state"), ["draft"])
        self.assertFalse(transactions.token_id)

    @mute_logger("odoo.http")
    def test_a_second_tab_cannot_pay_after_the_saved_card_was_charged(self):
        self.token.demo_simulated_state = "done"
        self.authenticate("pr_customer", "pr_customer")
        self.assertNotIn("error", self._pay_with_token())
        charged = self._tx()
        self.assertEqual(charged.state, "done")  # not post-processed yet: the request is open
        self.assertEqual(self.request.state, "open")
        answer = self._pay()
        self.assertIn("already in progress or done", answer["error"]["data"]["message"])
        self.assertEqual(self.request.sudo().transaction_ids, charged)

    @mute_logger("odoo.http")
    def test_a_colleague_cannot_pay_with_the_customers_own_card(self):
        company = self.env["res.partner"].create({"name": "Claire Corp", "is_company": True})
        self.customer.parent_id = company
        colleague = self.env["res.partner"].create(
            {"name": "Colin Colleague", "parent_id": company.id, "email": "colin@example.com"}
        )
        user = mail_new_test_user(
            self.env, login="pr_colleague", groups="base.group_portal", name="Colin Colleague"
        )
        user.partner_id = colleague
        self.authenticate("pr_colleague", "pr_colleague")
        page = self.url_open(self.request.get_portal_url()).text
        self.assertNotIn(self.token.payment_details, page)
        self._assert_refused(self._pay_with_token(), "not available")

    @mute_logger("odoo.http")
    def test_customer_cannot_pay_with_an_archived_card(self):
        self.token.active = False
        self.authenticate("pr_customer", "pr_customer")
        self._assert_refused(self._pay_with_token(), "not available")

    @mute_logger("odoo.http")
    def test_forwarded_link_cannot_save_a_card(self):
        self._assert_refused(self._pay(tokenization_requested=True), "to save a card")

    @mute_logger("odoo.http")
    def test_another_portal_user_cannot_save_a_card_onto_the_customer(self):
        self.authenticate("pr_portal", "pr_portal")
        self._assert_refused(self._pay(tokenization_requested=True), "to save a card")

    def test_logged_in_customer_saves_the_card(self):
        self.authenticate("pr_customer", "pr_customer")
        answer = self._pay(tokenization_requested=True)
        self.assertNotIn("error", answer)
        self.assertTrue(self._tx().tokenize)


@tagged("post_install", "-at_install")
class TestProvidersOfThePayPage(PayPageCommon):
    """The provider and payment method come from the browser: only those offered are taken."""

    @mute_logger("odoo.http")
    def test_unpublished_provider_refused(self):
        self.provider.is_published = False
        answer = self._pay()
        self.assertIn("not available", answer["error"]["data"]["message"])
        self.assertFalse(self.request.sudo().transaction_ids)

    @mute_logger("odoo.http")
    def test_disabled_provider_refused(self):
        self.provider.state = "disabled"
        answer = self._pay()
        self.assertIn("not available", answer["error"]["data"]["message"])
        self.assertFalse(self.request.sudo().transaction_ids)

    @mute_logger("odoo.http")
    def test_provider_of_another_company_refused(self):
        other = self.provider.copy({"company_id": self.company_2.id, "state": "test"})
        other.is_published = True
        answer = self._pay(provider_id=other.id)
        self.assertIn("not available", answer["error"]["data"]["message"])
        self.assertFalse(self.request.sudo().transaction_ids)

    @mute_logger("odoo.http")
    def test_payment_method_of_another_provider_refused(self):
        foreign = self.env.ref("payment.payment_method_card")
        self.assertNotIn(self.provider, foreign.provider_ids)
        answer = self._pay(payment_method_id=foreign.id)
        self.assertIn("not available", answer["error"]["data"]["message"])
        self.assertFalse(self.request.sudo().transaction_ids)


@tagged("post_install", "-at_install")
class TestCardRequestSavers(MockEmail, MockSMS, CustomerCardsCommon, HttpCase):
    """Who may save a card onto the customer through the card request's link."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_user = mail_new_test_user(
            cls.env, login="pr_card_customer", name="Claire Customer", groups="base.group_portal"
        )
        cls.customer.user_ids = [(4, cls.customer_user.id)]

    def setUp(self):
        super().setUp()
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.customer.with_user(self.card_user).action_payment_request_request_card()
        self.card_request = self.env["payment.card.request"].search(
            [("partner_id", "=", self.customer.id)]
        )

    def _save_card(self, **params):
        values = {
            "provider_id": self.demo_provider.id,
            "payment_method_id": self.demo_method.id,
            "token_id": None,
            "amount": None,
            "flow": "direct",
            "tokenization_requested": True,
            "landing_route": "/somewhere/else",
            "is_validation": True,
            "reference_prefix": "V-123",
            "access_token": self.card_request.access_token,
            **params,
        }
        response = self.url_open(
            f"/payment_request/card/{self.card_request.id}/transaction",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": values}),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        return response.json()

    def _transactions(self):
        return self.env["payment.transaction"].search(
            [("payment_card_request_id", "=", self.card_request.id)]
        )

    def _assert_saves(self):
        answer = self._save_card()
        self.assertNotIn("error", answer)
        self.assertEqual(self._transactions().partner_id, self.customer)

    def _assert_refused(self, message="log out to save a card", **params):
        answer = self._save_card(**params)
        self.assertIn(message, answer["error"]["data"]["message"])
        self.assertFalse(self._transactions())

    def test_the_customer_saves_a_card_logged_out(self):
        self._assert_saves()

    def test_the_customer_saves_a_card_logged_in(self):
        self.authenticate("pr_card_customer", "pr_card_customer")
        self._assert_saves()

    def test_staff_with_the_customer_cards_group_save_a_card_for_a_present_customer(self):
        self.authenticate("pr_card_user", "pr_card_user")
        self._assert_saves()

    @mute_logger("odoo.http")
    def test_another_portal_user_cannot_save_a_card_onto_the_customer(self):
        self.authenticate("pr_portal", "pr_portal")
        self._assert_refused()

    def _page(self):
        response = self.url_open(self.card_request.get_portal_url())
        self.assertEqual(response.status_code, 200)
        return response.text

    def test_the_page_shows_the_form_to_the_customer_and_to_card_staff(self):
        self.assertIn("o_payment_form", self._page())
        self.authenticate("pr_card_customer", "pr_card_customer")
        self.assertIn("o_payment_form", self._page())
        self.authenticate("pr_card_user", "pr_card_user")
        page = self._page()
        self.assertIn("o_payment_form", page)
        self.assertNotIn("o_payment_card_request_third_party", page)

    def test_the_page_tells_a_third_party_to_log_out_instead_of_a_form(self):
        for login in ("pr_portal", "pr_salesman"):
            self.authenticate(login, login)
            page = self._page()
            self.assertIn("o_payment_card_request_third_party", page)
            self.assertIn("log out to save a card", page)
            self.assertNotIn("o_payment_form", page)

    @mute_logger("odoo.http")
    def test_an_employee_without_the_customer_cards_group_cannot_save_a_card(self):
        self.authenticate("pr_salesman", "pr_salesman")
        self._assert_refused()

    @mute_logger("odoo.http")
    def test_unpublished_provider_refused(self):
        self.demo_provider.is_published = False
        self._assert_refused("not available")

    @mute_logger("odoo.http")
    def test_provider_without_tokenization_refused(self):
        self.demo_provider.allow_tokenization = False
        self._assert_refused("not available")

    def test_reference_is_named_by_the_server(self):
        self._save_card(reference_prefix="INV/2026/0001")
        self.assertTrue(self._transactions().reference.startswith("V-"))
        self.assertNotIn("INV/2026/0001", self._transactions().reference)
