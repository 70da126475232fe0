# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger
from odoo.tools.misc import hmac

from odoo.addons.payment_request.controllers.portal import PaymentRequestPortal

from .test_pay_page import PayPageCommon

_logger = logging.getLogger(__name__)

BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


class SeenCommon(PayPageCommon):
    def _open(self, request=None, user_agent=BROWSER, token=None):
        request = request or self.request
        token = request.access_token if token is None else token
        return self.url_open(
            f"/payment_request/{request.id}?access_token={token}",
            headers={"User-Agent": user_agent},
        )

    def _opened_messages(self, request=None):
        request = request or self.request
        return request.message_ids.filtered(lambda msg: "Opened by the customer" in msg.body)


@tagged("post_install", "-at_install")
class TestPayPageViews(SeenCommon):
    def test_first_and_later_views_are_recorded_once_in_chatter(self):
        self.assertFalse(self.request.is_viewed)
        self.assertEqual(self._open().status_code, 200)
        self.assertEqual(self.request.view_count, 1)
        self.assertTrue(self.request.is_viewed)
        first = self.request.first_viewed_date
        self.assertTrue(first)
        self.assertEqual(self.request.last_viewed_date, first)
        self.assertEqual(len(self._opened_messages()), 1)

        self.assertEqual(self._open().status_code, 200)
        self.assertEqual(self._open().status_code, 200)
        self.assertEqual(self.request.view_count, 3)
        self.assertEqual(self.request.first_viewed_date, first)
        self.assertGreaterEqual(self.request.last_viewed_date, first)
        self.assertEqual(len(self._opened_messages()), 1, "the chatter is told once")

    def test_portal_customer_view_counts(self):
        self.customer.user_ids = [(4, self.customer_user.id)]
        self.authenticate("pr_customer", "pr_customer")
        self._open()
        self.assertEqual(self.request.view_count, 1)

    def test_staff_views_are_ignored(self):
        for login in ("pr_salesman", "pr_employee", "admin"):
            self.authenticate(login, login)
            self.assertEqual(self._open().status_code, 200)
        self.assertEqual(self.request.view_count, 0)
        self.assertFalse(self.request.first_viewed_date)
        self.assertFalse(self._opened_messages())

    def test_link_previews_are_ignored(self):
        for agent in (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "WhatsApp/2.23.20.0",
            "TelegramBot (like TwitterBot)",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko; "
            "Microsoft Outlook 16.0; ms-office; MSOffice 16)",
            "",
        ):
            with self.subTest(agent=agent):
                self.assertEqual(self._open(user_agent=agent).status_code, 200)
        self.assertEqual(self.request.view_count, 0)

    def test_head_request_is_ignored(self):
        response = self.opener.head(
            f"{self.base_url()}/payment_request/{self.request.id}"
            f"?access_token={self.request.access_token}",
            headers={"User-Agent": BROWSER},
            timeout=30,
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.request.view_count, 0)

    @mute_logger("odoo.http")
    def test_wrong_token_is_not_a_view(self):
        self.assertEqual(self._open(token="wrong").status_code, 404)
        self.assertEqual(self.request.view_count, 0)

    def test_not_viewed_filter(self):
        other = self._create_request(amount=7.0)
        other.action_open()
        self._open()
        domain = [("id", "in", (self.request | other).ids)]
        Request = self.env["payment.request"]
        self.assertEqual(Request.search(domain + [("is_viewed", "=", False)]), other)
        self.assertEqual(Request.search(domain + [("is_viewed", "=", True)]), self.request)
        not_viewed = [("state", "!=", "draft"), ("first_viewed_date", "=", False)]
        self.assertEqual(Request.search(domain + not_viewed), other)

    def test_staff_cannot_write_views(self):
        with self.assertRaises(AccessError):
            self.request.with_user(self.salesman).write({"view_count": 5})


@tagged("post_install", "-at_install", "is_query_count")
class TestPayPageViewQueries(SeenCommon):
    def _count(self, url):
        """Return the queries of a warm GET of `url` (the second of two)."""
        self.assertEqual(self.url_open(url, headers={"User-Agent": BROWSER}).status_code, 200)
        before = self.cr.sql_log_count
        self.assertEqual(self.url_open(url, headers={"User-Agent": BROWSER}).status_code, 200)
        return self.cr.sql_log_count - before

    def test_view_tracking_costs_one_query(self):
        request = self.request
        values = (request.partner_id.id, request.amount, request.currency_id.id)
        token = hmac(self.env(su=True), "generate_access_token", "|".join(map(str, values)))
        native = self._count(
            f"/payment/pay?amount={request.amount}&currency_id={request.currency_id.id}"
            f"&partner_id={request.partner_id.id}&company_id={request.company_id.id}"
            f"&access_token={token}"
        )
        url = f"/payment_request/{request.id}?access_token={request.access_token}"
        with patch.object(PaymentRequestPortal, "_is_customer_view", return_value=False):
            untracked = self._count(url)
        self.assertEqual(request.view_count, 0)
        tracked = self._count(url)
        self.assertEqual(request.view_count, 2, "both GETs were counted")
        _logger.info(
            "Queries of a warm GET: pay page %s with view tracking, %s without, "
            "native /payment/pay %s",
            tracked,
            untracked,
            native,
        )
        self.assertLessEqual(tracked, untracked + 1, "the view costs one UPDATE at most")
