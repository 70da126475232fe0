# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Partial payments: the customer chooses how much to pay, at least the minimum, until nothing
remains; the amount is checked by the transaction route and bound to the page's signature."""

import html
import re

from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import const
from .test_pay_page import PayPageCommon


class PartialPaymentCommon(PayPageCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partial = cls._create_request(
            amount=120.0,
            description="Storage unit B12, by instalments",
            allow_partial_payment=True,
            minimum_amount=50.0,
        )
        cls.partial.action_open()

    def _page_with_amount(self, amount, request=None):
        request = request or self.partial
        return self.url_open(
            f"/payment_request/{request.id}?access_token={request.access_token}&amount={amount}"
        )

    def _route_for(self, amount, request=None):
        page = self._page_with_amount(amount, request).text
        return html.unescape(re.search(r'data-transaction-route="([^"]*)"', page)[1])

    def _confirm(self, tx):
        tx._set_done()
        tx._post_process()
        return tx

    def _error(self, answer):
        return answer.get("error", {}).get("data", {}).get("message", "")


@tagged("post_install", "-at_install")
class TestPartialPayment(PartialPaymentCommon):
    def test_page_offers_an_amount_field_within_the_bounds(self):
        page = self._page(self.partial).text
        self.assertIn('name="amount"', page)
        self.assertIn('value="120.00"', page)
        help_text = re.search(r'id="payment_request_amount_help"[^>]*>(.*?)</div>', page, re.S)[1]
        self.assertIn("At least", help_text)
        self.assertIn("50.00", help_text)
        self.assertIn("at most", help_text)
        self.assertIn("120.00", help_text)
        self.assertNotIn('name="amount"', self._page().text, "partial payment is off by default")

    def test_chosen_amount_is_offered_and_paid(self):
        page = self._page_with_amount("70.50").text
        self.assertIn('data-amount="70.5"', page)
        self.assertIn('value="70.50"', page)
        self.assertRegex(
            page,
            r'o_payment_request_amount_to_pay"[^>]*>\$\xa0<span class="oe_currency_value">70\.50<',
        )
        answer = self._pay(self.partial, route=self._route_for("70.50"), amount=70.5)
        self.assertNotIn("error", answer)
        tx = self._tx(self.partial)
        self.assertEqual(tx.amount, 70.5)
        self._confirm(tx)
        self.assertEqual(self.partial.state, "open")
        self.assertEqual((self.partial.amount_paid, self.partial.amount_remaining), (70.5, 49.5))
        self.assertTrue(self.partial.is_partly_paid)
        self.assertEqual(self.partial.state_display, "Partly paid")
        self.assertIn("Partly paid by", self.partial.message_ids[0].body)
        self.assertEqual(self.partial.receipt_state, "to_send")
        receipt = self.url_open(
            f"/payment_request/{self.partial.id}/receipt?access_token={self.partial.access_token}"
        )
        self.assertEqual(receipt.status_code, 200)
        self.assertIn("Remaining", receipt.text)
        # What remains is below the minimum: it is paid whole.
        page = self._page(self.partial).text
        self.assertIn('value="49.50"', page)
        self._age(tx, const.PAYMENT_ATTEMPT_WINDOW)
        answer = self._pay(self.partial, route=self._route_for("49.50"), amount=49.5)
        self.assertNotIn("error", answer)
        self._confirm(self._tx(self.partial))
        self.assertEqual(self.partial.state, "paid")
        self.assertEqual((self.partial.amount_paid, self.partial.amount_remaining), (120.0, 0.0))
        done = self.partial.sudo().transaction_ids.filtered(lambda tx: tx.state == "done")
        self.assertEqual(len(done.payment_id), 2, "each payment is its own account.payment")

    @mute_logger("odoo.http")
    def test_bad_amounts_are_refused_with_a_message(self):
        route = self._route_for("60")
        for amount, message in (
            (10.0, "Pay at least"),
            (120.01, "more than what remains"),
            (0, "greater than zero"),
            (-5, "greater than zero"),
            ("abc", "as a number"),
            ([60], "as a number"),
            (True, "as a number"),
            ("1e400", "as a number"),
            ("NaN", "as a number"),
        ):
            with self.subTest(amount=amount):
                answer = self._pay(self.partial, route=route, amount=amount)
                self.assertIn(message, self._error(answer))
        self.assertFalse(self.partial.sudo().transaction_ids, "a refused amount made an attempt")

    def test_amount_typed_is_read_in_the_page_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        request = self.partial.sudo()
        self.assertEqual(request.with_context(lang="en_US")._get_payment_amount("1,00.5"), 100.5)
        self.assertEqual(request.with_context(lang="en_US")._get_payment_amount(" 70.50 "), 70.5)
        french = request.with_context(lang="fr_FR")
        self.assertEqual(french._get_payment_amount("70,50"), 70.5)
        self.assertEqual(french._get_payment_amount("70.50"), 70.5)
        self.assertEqual(french._get_payment_amount("1\u202f00,25"), 100.25)
        with self.assertRaisesRegex(ValidationError, "more than what remains"):
            request.with_context(lang="en_US")._get_payment_amount("1,000.00")
        self.partial.partner_id.lang = "fr_FR"
        page = self._page_with_amount("70,50").text
        self.assertIn('data-amount="70.5"', page)
        self.assertIn('value="70,50"', page)

    @mute_logger("odoo.http")
    def test_amount_other_than_the_signed_one_is_refused(self):
        answer = self._pay(self.partial, route=self._route_for("60"), amount=80.0)
        self.assertIn("reload the page", self._error(answer))
        self.assertFalse(self.partial.sudo().transaction_ids)

    def test_page_with_a_bad_amount_says_so_and_offers_what_remains(self):
        page = self._page_with_amount("5").text
        self.assertIn("o_payment_request_amount_error", page)
        self.assertIn("Pay at least", page)
        self.assertIn('data-amount="120.0"', page)

    def test_without_partial_payment_the_browser_amount_is_ignored(self):
        answer = self._pay(self.request, amount=1.0)
        self.assertNotIn("error", answer)
        self.assertEqual(self._tx().amount, 120.0)
        # ... and so is an amount in the page's address.
        self.assertIn('data-amount="120.0"', self._page_with_amount("5", self.request).text)

    def test_a_done_payment_not_counted_yet_holds_the_next_one(self):
        self._pay(self.partial, route=self._route_for("60"), amount=60.0)
        tx = self._tx(self.partial)
        tx._set_done()
        self._age(tx, const.PAYMENT_ATTEMPT_WINDOW)
        answer = self._pay(self.partial, route=self._route_for("60"), amount=60.0)
        self.assertIn("already in progress or done", self._error(answer))
        tx._post_process()
        self.assertEqual(self.partial.amount_remaining, 60.0)
        answer = self._pay(self.partial, route=self._route_for("60"), amount=60.0)
        self.assertNotIn("error", answer)

    def test_a_late_attempt_paying_more_than_remains_is_flagged(self):
        self._pay(self.partial, route=self._route_for("100"), amount=100.0)
        stale = self._tx(self.partial)
        self._age(stale, const.PAYMENT_ATTEMPT_WINDOW)
        self._pay(self.partial, route=self._route_for("60"), amount=60.0)
        self._confirm(self._tx(self.partial))
        self.assertEqual(self.partial.amount_remaining, 60.0)
        self._confirm(stale)  # the abandoned form's payment went through after all
        self.assertEqual(self.partial.state, "paid")
        self.assertEqual(self.partial.amount_paid, 160.0)
        notes = self.partial.message_ids.filtered(lambda m: "more than asked" in (m.body or ""))
        self.assertEqual(len(notes), 1)
        self.assertIn("40.00", notes.body)
        self.assertIn(stale.reference, notes.body)
        self.assertIn("more than asked", self.partial.activity_ids.note)

    def test_cancel_of_a_partly_paid_request_keeps_what_was_paid(self):
        self._pay(self.partial, route=self._route_for("80"), amount=80.0)
        self._confirm(self._tx(self.partial))
        with self.assertRaisesRegex(UserError, "partly paid"):
            self.partial.action_amend(100.0)
        self.partial.with_user(self.salesman).action_cancel()
        self.assertEqual(self.partial.state, "cancelled")
        self.assertEqual(self.partial.amount_paid, 80.0)
        self.assertIn("stays booked", self.partial.message_ids[0].body)
        self.assertIn("You have paid", self._page(self.partial).text)

    def test_expiry_of_a_partly_paid_request_says_so(self):
        self._pay(self.partial, route=self._route_for("80"), amount=80.0)
        self._confirm(self._tx(self.partial))
        self.partial._expire()
        self.assertEqual(self.partial.state, "expired")
        self.assertIn("expired partly paid", self.partial.message_ids[0].body)

    def test_purposes_paid_whole_refuse_partial_payment(self):
        with self.assertRaisesRegex(ValidationError, "paid whole"):
            self._create_request(amount=50.0, purpose="wallet", allow_partial_payment=True)
        with self.assertRaisesRegex(ValidationError, "minimum amount"):
            self._create_request(amount=50.0, allow_partial_payment=True, minimum_amount=60.0)
        with self.assertRaisesRegex(ValidationError, "negative"):
            self._create_request(amount=50.0, allow_partial_payment=True, minimum_amount=-1.0)

    def test_amount_paid_is_not_writable_over_rpc(self):
        with self.assertRaises(AccessError):
            self.partial.with_user(self.salesman).write({"amount_paid": 120.0})


@tagged("post_install", "-at_install")
class TestPartialPaymentTour(PartialPaymentCommon):
    def test_customer_types_an_amount_and_pays_it(self):
        self.start_tour(
            f"/payment_request/{self.partial.id}?access_token={self.partial.access_token}",
            "payment_request_pay_part",
        )
        self.assertEqual(self.partial.state, "open")
        self.assertEqual((self.partial.amount_paid, self.partial.amount_remaining), (70.5, 49.5))
        self.assertEqual(self.partial.sudo().transaction_ids.mapped("state"), ["done"])
