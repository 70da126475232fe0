# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import json
from datetime import timedelta
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

from odoo.tests import HttpCase
from odoo.tests import tagged
from odoo.tools import SQL
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
        route = self._transaction_route()  # the page, opened while the provider was published
        self.provider.is_published = False
        answer = self._pay(route=route)
        self.assertIn("not available", answer["error"]["data"]["message"])
        self.assertFalse(self.request.sudo().transaction_ids)
        self.assertNotIn("o_payment_form", self._page().text)

    @mute_logger("odoo.http")
    def test_disabled_provider_refused(self):
        route = self._transaction_route()
        self.provider.state = "disabled"
        answer = self._pay(route=route)
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
class TestSignedOfferOfThePayPage(PayPageCommon):
    """The pay page signs the options it offers into the route its payment form posts to; the
    route takes only those, unchanged, for the same request, user, customer and amount."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.allow_tokenization = True
        cls.customer.user_ids = [(4, cls.customer_user.id)]
        cls.token = cls._create_token(cls.customer, "4242")

    @classmethod
    def _create_token(cls, partner, details):
        return cls.env["payment.token"].create(
            {
                "provider_id": cls.provider.id,
                "payment_method_id": cls.method.id,
                "partner_id": partner.id,
                "payment_details": details,
                "provider_ref": f"demo-{details}",
            }
        )

    @staticmethod
    def _with_query(route, **changes):
        """Return `route` with some values of its query string replaced."""
        url = urlsplit(route)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        query.update(changes)
        return f"{url.path}?{urlencode(query, safe=',')}"

    @staticmethod
    def _offer(route):
        return parse_qs(urlsplit(route).query)["offer"][0]

    def _assert_refused(self, answer, message="not available"):
        self.assertIn(message, answer["error"]["data"]["message"])
        self.assertFalse(self.request.sudo().transaction_ids)
        self.assertEqual(self.request.state, "open")

    def _bump_write_date(self, records):
        """Date a change of `records` after the page was shown, as a later transaction would
        (a test runs in one transaction, where every write has the same date)."""
        records.flush_recordset()
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET write_date = write_date + interval '1 second' WHERE id IN %s",
                SQL.identifier(records._table),
                tuple(records.ids),
            )
        )
        records.invalidate_recordset(["write_date"])

    def test_the_page_signs_what_it_offers(self):
        route = self._transaction_route()
        self.assertTrue(route.startswith(f"/payment_request/{self.request.id}/transaction?"))
        self.assertEqual(self._offer(route), f"{self.provider.id}.{self.method.id}")
        self.authenticate("pr_customer", "pr_customer")
        offer = self._offer(self._transaction_route())
        self.assertEqual(offer, f"{self.provider.id}.{self.method.id},t{self.token.id}")
        self.assertNotIn("error", self._pay(flow="token", token_id=self.token.id))
        self.assertEqual(self._tx().token_id, self.token)

    @mute_logger("odoo.http")
    def test_no_signature_or_a_tampered_one_refused(self):
        route = self._transaction_route()
        signature = parse_qs(urlsplit(route).query)["signature"][0]
        tampered = ("0" if signature[0] != "0" else "1") + signature[1:]
        for bad_route in (
            f"/payment_request/{self.request.id}/transaction",
            self._with_query(route, signature=tampered),
            self._with_query(route, signature=""),
            self._with_query(route, signature="é" * 64),
            self._with_query(route, signature=signature.upper()),
        ):
            with self.subTest(route=bad_route):
                self._assert_refused(self._pay(route=bad_route), "reload the page")

    @mute_logger("odoo.http")
    def test_an_option_added_to_the_offer_refused(self):
        """An option that the page did not offer, added to its offer, breaks the signature."""
        route = self._transaction_route()
        foreign = self.env.ref("payment.payment_method_card")
        offer = f"{self._offer(route)},{self.provider.id}.{foreign.id}"
        answer = self._pay(route=self._with_query(route, offer=offer), payment_method_id=foreign.id)
        self._assert_refused(answer, "reload the page")

    @mute_logger("odoo.http")
    def test_malformed_offers_refused(self):
        route = self._transaction_route()
        for offer in (
            "",
            "x",
            f"{self.provider.id}",
            f"{self.provider.id}.{self.method.id},",
            f"{self.provider.id}.{self.method.id};DROP TABLE",
            f"{2**31}.{self.method.id}",
            f"0.{self.method.id}",
            "t",
            f"{self.provider.id}.{self.method.id}," * 1000,
            "99999999.99999999",
        ):
            with self.subTest(offer=offer[:40]):
                self._assert_refused(
                    self._pay(route=self._with_query(route, offer=offer)), "reload the page"
                )

    @mute_logger("odoo.http")
    def test_the_offer_of_another_request_refused(self):
        other = self._create_request(amount=self.request.amount, description="Same amount")
        other.action_open()
        route = self._transaction_route(other)
        answer = self._pay(route=route.replace(f"/{other.id}/", f"/{self.request.id}/"))
        self._assert_refused(answer, "reload the page")

    @mute_logger("odoo.http")
    def test_the_offer_made_to_another_user_refused(self):
        """The customer's page offers their saved card: its offer, sent by a visitor of the
        link (or by another portal user), is not theirs."""
        self.authenticate("pr_customer", "pr_customer")
        route = self._transaction_route()
        self.assertIn(f"t{self.token.id}", self._offer(route))
        self.authenticate(None, None)
        self._assert_refused(self._pay(route=route), "reload the page")
        self.authenticate("pr_portal", "pr_portal")
        self._assert_refused(self._pay(route=route), "reload the page")

    @mute_logger("odoo.http")
    def test_a_saved_card_of_another_customer_refused(self):
        other_card = self._create_token(self.portal_user.partner_id, "1881")
        self.authenticate("pr_customer", "pr_customer")
        route = self._transaction_route()
        self.assertNotIn(f"t{other_card.id}", self._offer(route))
        answer = self._pay(route=route, flow="token", token_id=other_card.id)
        self._assert_refused(answer, "choose another one")
        # Added to the offer, it breaks the signature.
        offer = f"{self._offer(route)},t{other_card.id}"
        answer = self._pay(
            route=self._with_query(route, offer=offer), flow="token", token_id=other_card.id
        )
        self._assert_refused(answer, "reload the page")

    @mute_logger("odoo.http")
    def test_a_saved_card_given_to_another_customer_after_the_page_refused(self):
        self.authenticate("pr_customer", "pr_customer")
        route = self._transaction_route()
        self.token.partner_id = self.portal_user.partner_id
        answer = self._pay(route=route, flow="token", token_id=self.token.id)
        self._assert_refused(answer, "choose another one")

    @mute_logger("odoo.http")
    def test_a_saved_card_archived_after_the_page_refused(self):
        self.authenticate("pr_customer", "pr_customer")
        route = self._transaction_route()
        self.token.active = False
        answer = self._pay(route=route, flow="token", token_id=self.token.id)
        self._assert_refused(answer, "choose another one")

    @mute_logger("odoo.http")
    def test_a_provider_disabled_after_the_page_refused_even_with_its_signature(self):
        """What the signature cannot see (a change that keeps the write dates, made here in SQL)
        is checked again: enabled, published, of the request's company; the method active.
        Through the ORM, such a change also breaks the signature (test_disabled_provider_refused).
        """
        changes = {
            "disabled": ("payment_provider", SQL("state = 'disabled'")),
            "unpublished": ("payment_provider", SQL("is_published = FALSE")),
            "other company": ("payment_provider", SQL("company_id = %s", self.company_2.id)),
            "method archived": ("payment_method", SQL("active = FALSE")),
        }
        records = {"payment_provider": self.provider, "payment_method": self.method}
        for name, (table, assignment) in changes.items():
            with self.subTest(change=name):
                savepoint = self.env.cr.savepoint(flush=False)
                try:
                    route = self._transaction_route()
                    write_dates = (self.provider.write_date, self.method.write_date)
                    self.env.cr.execute(
                        SQL(
                            "UPDATE %s SET %s WHERE id = %s",
                            SQL.identifier(table),
                            assignment,
                            records[table].id,
                        )
                    )
                    self.env.invalidate_all()
                    self.assertEqual(
                        (self.provider.write_date, self.method.write_date), write_dates
                    )
                    self._assert_refused(self._pay(route=route), "choose another one")
                finally:
                    savepoint.close(rollback=True)
                    self.env.invalidate_all()

    @mute_logger("odoo.http")
    def test_a_provider_changed_after_the_page_refused(self):
        """A provider restricted to other countries since: the page would not offer it; its
        signature, made with the provider's last change, no longer matches."""
        route = self._transaction_route()
        self.customer.country_id = self.env.ref("base.be")
        self.provider.available_country_ids = self.env.ref("base.fr")
        self._bump_write_date(self.provider)
        self._assert_refused(self._pay(route=route), "reload the page")
        self.assertNotIn("o_payment_form", self._page().text)

    @mute_logger("odoo.http")
    def test_an_amount_changed_after_the_page_refused(self):
        route = self._transaction_route()
        self.request.sudo().amount = 99.0
        self._assert_refused(self._pay(route=route), "reload the page")
        answer = self._pay(amount=1.0)  # the page opened again; the amount sent is ignored
        self.assertNotIn("error", answer)
        self.assertEqual(self._tx().amount, 99.0)

    def test_an_old_page_pays_while_nothing_changed(self):
        route = self._transaction_route()
        self.request.sudo().expiration_date += timedelta(days=1)  # not what the offer is for
        self.assertNotIn("error", self._pay(route=route))
        self.assertEqual(self._tx().provider_id, self.provider)


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
