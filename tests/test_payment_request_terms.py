# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import re

from odoo.exceptions import AccessError
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import const
from .test_pay_page import PayPageCommon
from .test_payment_request_wizard import RequestSendingCommon
from .test_quote_approval import QuoteCommon

TERMS_URL = "https://example.com/terms"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) TermsTest/1.0"


def _require_terms(company, url=TERMS_URL):
    company.write({"payment_request_terms_url": url, "payment_request_terms_required": True})


@tagged("post_install", "-at_install")
class TestTermsSettings(RequestSendingCommon):
    """The company's default, its address, and each request's own choice."""

    def test_request_takes_the_company_default(self):
        self.assertFalse(self._create_request().terms_required)
        _require_terms(self.company)
        self.assertTrue(self._create_request().terms_required)
        # The default of the request's own company.
        self.assertFalse(self._create_request(company_id=self.company_2.id).terms_required)

    def test_request_overrides_the_company_default(self):
        _require_terms(self.company)
        request = self._create_request(terms_required=False)
        self.assertFalse(request.terms_required)
        request.action_open()
        request.terms_required = True  # still open: the salesperson may change it
        self.assertTrue(request.terms_required)
        self.company.payment_request_terms_required = False
        self.assertTrue(self._create_request(terms_required=True).terms_required)

    def test_company_requires_the_address_of_its_terms(self):
        with self.assertRaisesRegex(ValidationError, "address of the terms and conditions"):
            self.company.payment_request_terms_required = True
        with self.assertRaisesRegex(ValidationError, "must start with https://"):
            self.company.payment_request_terms_url = "javascript:alert(1)"
        _require_terms(self.company, url="/terms")
        with self.assertRaisesRegex(ValidationError, "address of the terms and conditions"):
            self.company.payment_request_terms_url = False

    def test_request_requires_the_address_of_the_terms(self):
        with self.assertRaisesRegex(ValidationError, "enter the address of"):
            self._create_request(terms_required=True)

    def test_acceptance_is_not_written_by_hand(self):
        _require_terms(self.company)
        request = self._create_request()
        request.action_open()
        with self.assertRaises(AccessError):
            request.write({"terms_accepted_date": "2026-01-01 10:00:00"})
        with self.assertRaises(AccessError):
            request.write({"terms_accepted_ip": "10.0.0.1"})

    def test_first_acceptance_is_kept_and_noted(self):
        _require_terms(self.company)
        request = self._create_request()
        request.action_open()
        self.assertTrue(request._record_terms_acceptance("203.0.113.7", "x" * 5000 + "\x00"))
        self.assertEqual(request.terms_accepted_ip, "203.0.113.7")
        self.assertEqual(len(request.terms_accepted_user_agent), const.TERMS_USER_AGENT_MAX_LENGTH)
        accepted = request.terms_accepted_date
        self.assertTrue(accepted)
        self.assertFalse(request._record_terms_acceptance("198.51.100.1", "Other"))
        self.assertRecordValues(
            request, [{"terms_accepted_date": accepted, "terms_accepted_ip": "203.0.113.7"}]
        )
        notes = request.message_ids.filtered(lambda m: "Terms and conditions accepted" in m.body)
        self.assertEqual(len(notes), 1)
        self.assertIn("203.0.113.7", notes.body)

    def test_nothing_recorded_when_not_required(self):
        request = self._create_request()
        request.action_open()
        self.assertFalse(request._record_terms_acceptance("203.0.113.7", USER_AGENT))
        self.assertFalse(request.terms_accepted_date)

    def test_copies_keep_the_choice_not_the_acceptance(self):
        _require_terms(self.company)
        request = self._create_request()
        request.action_open()
        request._record_terms_acceptance("203.0.113.7", USER_AGENT)
        copy = request.copy()
        self.assertTrue(copy.terms_required)
        self.assertFalse(copy.terms_accepted_date)
        self.assertFalse(copy.terms_accepted_ip)
        self.assertFalse(copy.terms_accepted_user_agent)

    # === THE REQUEST PAYMENT WIZARD === #

    def test_wizard_proposes_the_company_default(self):
        _require_terms(self.company)
        form = self._wizard(self.customer, purpose="free", amount=50.0)
        self.assertTrue(form.terms_required)
        _action, request = self._send(form)
        self.assertTrue(request.terms_required)

    def test_wizard_overrides_the_company_default(self):
        _require_terms(self.company)
        _action, request = self._send(
            self._wizard(self.customer, purpose="free", amount=50.0, terms_required=False)
        )
        self.assertFalse(request.terms_required)
        self.company.payment_request_terms_required = False
        _action, request = self._send(
            self._wizard(self.customer, purpose="free", amount=60.0, terms_required=True)
        )
        self.assertTrue(request.terms_required)

    def test_wizard_resend_and_amend_change_the_open_request(self):
        self.company.payment_request_terms_url = TERMS_URL
        _action, request = self._send(self._wizard(self.customer, purpose="free", amount=50.0))
        self.assertFalse(request.terms_required)
        form = self._request_wizard(request, "resend", terms_required=True)
        self._send(form)
        self.assertTrue(request.terms_required)
        _action, new = self._send(
            self._request_wizard(request, "amend", amount=40.0, terms_required=False)
        )
        self.assertEqual(request.replaced_by_id, new)
        self.assertFalse(new.terms_required)


@tagged("post_install", "-at_install")
class TestTermsOnThePayPage(PayPageCommon):
    """The box on the page, the refusal of the transaction route, and the acceptance kept."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        _require_terms(cls.company)
        cls.terms_request = cls._create_request(amount=80.0, description="Kayak rental")
        cls.terms_request.action_open()

    def setUp(self):
        super().setUp()
        self.opener.headers["User-Agent"] = USER_AGENT

    def test_page_shows_the_box_and_the_link_only_when_required(self):
        page = self._page(self.terms_request).text
        box = re.search(r"<input[^>]*id=\"payment_request_terms\"[^>]*>", page)
        self.assertTrue(box, "the box of the terms is on the page")
        self.assertIn('name="terms_accepted"', box[0])
        self.assertIn("required", box[0])
        self.assertIn('<label for="payment_request_terms"', page)
        self.assertIn(f'href="{TERMS_URL}"', page)
        self.assertIn("terms and conditions", page)
        link = re.search(r'<a[^>]*href="https://example.com/terms"[^>]*>', page)
        self.assertIn('target="_blank"', link[0])
        self.assertIn("text-decoration-underline", link[0])
        page = self._page(self.request).text  # created before the company asked for terms
        self.assertFalse(self.request.terms_required)
        self.assertIn("o_payment_form", page)
        self.assertNotIn("payment_request_terms", page)
        self.assertNotIn(TERMS_URL, page)

    def test_no_box_when_the_request_cannot_be_paid(self):
        self.terms_request.action_cancel()
        page = self._page(self.terms_request).text
        self.assertNotIn('id="payment_request_terms"', page)

    @mute_logger("odoo.http")
    def test_payment_refused_without_the_terms(self):
        for params in ({}, {"terms_accepted": False}):
            with self.subTest(params=params):
                answer = self._pay(self.terms_request, **params)
                self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.ValidationError")
                self.assertIn(
                    "Accept the terms and conditions to pay this request.",
                    answer["error"]["data"]["message"],
                )
        for junk in ("true", 1, None, [True], {"accepted": True}):
            with self.subTest(terms_accepted=junk):
                answer = self._pay(self.terms_request, terms_accepted=junk)
                self.assertIn("payment data sent is invalid", answer["error"]["data"]["message"])
        self.assertFalse(self.terms_request.sudo().transaction_ids)
        self.assertFalse(self.terms_request.terms_accepted_date)
        self.assertEqual(self.terms_request.attempt_count, 0)

    def test_payment_with_the_terms_records_the_acceptance(self):
        answer = self._pay(self.terms_request, terms_accepted=True)
        self.assertNotIn("error", answer)
        tx = self._tx(self.terms_request)
        self.assertEqual(tx.amount, 80.0)
        self.assertEqual(answer["result"]["reference"], tx.reference)
        request = self.terms_request
        self.assertTrue(request.terms_accepted_date)
        self.assertEqual(request.terms_accepted_ip, "127.0.0.1")
        self.assertEqual(request.terms_accepted_user_agent, USER_AGENT)
        self.assertTrue(
            request.message_ids.filtered(lambda m: "Terms and conditions accepted" in m.body)
        )

    @mute_logger("odoo.http")
    def test_terms_turned_on_after_the_page_was_opened(self):
        """The page showed no box; the request requires the terms since: refused, the page
        opened again shows the box."""
        route = self._transaction_route()
        self.request.terms_required = True
        answer = self._pay(route=route)
        self.assertIn("Accept the terms", answer["error"]["data"]["message"])
        self.assertIn('id="payment_request_terms"', self._page().text)
        self.assertNotIn("error", self._pay(terms_accepted=True))

    def test_not_required_no_refusal_and_nothing_recorded(self):
        self.assertNotIn("error", self._pay())
        self._tx()._set_error("Card declined")
        self.assertNotIn("error", self._pay(terms_accepted=True))
        self.assertFalse(self.request.terms_accepted_date)
        self.assertFalse(self.request.terms_accepted_ip)

    def _receipt_html(self, request):
        html, _format = self.env["ir.actions.report"]._render_qweb_html(
            "payment_request.action_report_payment_request_receipt", request.ids
        )
        return html.decode()

    def test_receipt_prints_the_acceptance(self):
        self.customer.tz = "Europe/Brussels"
        request = self.terms_request
        request._record_terms_acceptance("203.0.113.7", USER_AGENT)
        html = self._receipt_html(request)
        self.assertIn("Terms and conditions accepted on", html)
        self.assertIn("203.0.113.7", html)
        self.assertIn("TermsTest/1.0", html)
        self.assertIn("Europe/Brussels", html)
        other = self._create_request(amount=10.0, terms_required=False)
        self.assertNotIn("Terms and conditions accepted", self._receipt_html(other))


@tagged("post_install", "-at_install")
class TestTermsOfAnApprovedQuotation(QuoteCommon):
    """A quotation is approved first, then paid on the same page: the box comes with the
    payment form."""

    def setUp(self):
        _require_terms(self.env.company)
        super().setUp()

    @mute_logger("odoo.http")
    def test_box_after_approval_and_payment_refused_without_it(self):
        self.assertTrue(self.quote.terms_required)
        self.assertNotIn('id="payment_request_terms"', self._page(self.quote).text)
        self._approve()
        self.assertIn('id="payment_request_terms"', self._page(self.quote).text)
        answer = self._pay(self.quote)
        self.assertIn("Accept the terms", answer["error"]["data"]["message"])
        self.assertNotIn("error", self._pay(self.quote, terms_accepted=True))
        self.assertTrue(self.quote.terms_accepted_date)


@tagged("post_install", "-at_install")
class TestTermsTour(PayPageCommon):
    def test_customer_accepts_the_terms_and_pays(self):
        _require_terms(self.company)
        request = self._create_request(amount=120.0, description="Kayak rental")
        request.action_open()
        self.start_tour(
            f"/payment_request/{request.id}?access_token={request.access_token}",
            "payment_request_terms_pay",
        )
        self.assertEqual(request.state, "paid")
        self.assertTrue(request.terms_accepted_date)
        self.assertEqual(request.terms_accepted_ip, "127.0.0.1")
        self.assertIn("Chrome", request.terms_accepted_user_agent)
