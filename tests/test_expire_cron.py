# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from datetime import datetime
from datetime import timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import PaymentRequestCommon
from .test_post_processing import PostProcessingCommon

NOW = datetime(2026, 5, 4, 12, 0, 0)


@tagged("post_install", "-at_install", "is_query_count")
class TestExpireCron(PaymentRequestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Requests left open by demo data or other modules must not blur the counts.
        cls.env["payment.request"].search([("state", "=", "open")]).sudo().write(
            {"state": "cancelled"}
        )

    def _make_open_requests(self, count, expiration):
        """Create `count` open requests expiring at `expiration`, in one batch."""
        requests = self.env["payment.request"].create(
            [{"partner_id": self.customer.id, "amount": 10.0 + i} for i in range(count)]
        )
        requests.sudo().write({"state": "open", "expiration_date": expiration})
        return requests

    def _expire(self, **kwargs):
        with freeze_time(NOW):
            return self.env["payment.request"]._cron_expire_requests(**kwargs)

    def test_only_past_due_open_requests_expire(self):
        due = self._make_open_requests(3, NOW - timedelta(minutes=1))
        not_yet = self._make_open_requests(2, NOW + timedelta(hours=1))
        draft = self._create_request()
        paid = self._make_open_requests(1, NOW - timedelta(days=1))
        paid.sudo().state = "paid"
        self.assertEqual(self._expire(), 0)
        self.assertEqual(set(due.mapped("state")), {"expired"})
        self.assertEqual(set(not_yet.mapped("state")), {"open"})
        self.assertEqual(draft.state, "draft")
        self.assertEqual(paid.state, "paid")

    def test_expiry_is_in_chatter_and_unread(self):
        request = self._make_open_requests(1, NOW - timedelta(hours=2))
        self._expire()
        self.assertFalse(request.is_read)
        self.assertIn("expired", request.message_ids[0].body)

    def test_rerun_is_harmless(self):
        requests = self._make_open_requests(4, NOW - timedelta(hours=1))
        self._expire()
        messages = requests.message_ids
        self.assertEqual(self._expire(), 0)
        self.assertEqual(set(requests.mapped("state")), {"expired"})
        self.assertEqual(requests.message_ids, messages, "a rerun must not log again")

    def test_batches(self):
        requests = self._make_open_requests(7, NOW - timedelta(hours=1))
        self.assertEqual(self._expire(batch_size=3), 4)
        self.assertEqual(len(requests.filtered(lambda r: r.state == "expired")), 3)
        self.assertEqual(self._expire(batch_size=3), 1)
        self.assertEqual(self._expire(batch_size=3), 0)
        self.assertEqual(set(requests.mapped("state")), {"expired"})

    def test_oldest_expire_first(self):
        late = self._make_open_requests(1, NOW - timedelta(minutes=5))
        early = self._make_open_requests(1, NOW - timedelta(days=2))
        self._expire(batch_size=1)
        self.assertEqual(early.state, "expired")
        self.assertEqual(late.state, "open")

    def test_cron_progress_is_reported(self):
        self._make_open_requests(5, NOW - timedelta(hours=1))
        cron = self.env.ref("payment_request.ir_cron_expire_payment_requests")
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id})
        with freeze_time(NOW):
            self.env["payment.request"].with_context(
                ir_cron_progress_id=progress.id
            )._cron_expire_requests(batch_size=2)
        self.assertEqual((progress.done, progress.remaining), (2, 3))

    def test_queries_per_batch_do_not_grow(self):
        """Expiring 10 or 100 requests costs the same 5 queries.

        Search, update, chatter log, remaining count, and the orders whose deposit marker
        depends on the state.
        """
        self._make_open_requests(1, NOW - timedelta(hours=1))
        self._expire()  # warm the caches of the author and company
        for size in (10, 100):
            requests = self._make_open_requests(size, NOW - timedelta(hours=1))
            self.env["payment.request"].invalidate_model()
            with self.subTest(size=size), freeze_time(NOW), self.assertQueryCount(5):
                self.env["payment.request"]._cron_expire_requests(batch_size=size)
            self.assertEqual(set(requests.mapped("state")), {"expired"})

    def test_queries_per_batch_do_not_grow_with_orders(self):
        """Requests of sales orders: the orders' deposit marker is recomputed in one query,
        whatever the number of requests of the orders (not by reading each of them)."""
        product = self.env["product.product"].create({"name": "Deposit product", "list_price": 50})
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": self.customer.id,
                    "order_line": [Command.create({"product_id": product.id})],
                }
                for _i in range(2)
            ]
        )
        paid_deposit = self._make_open_requests(1, NOW - timedelta(hours=1))
        paid_deposit.sudo().write(
            {"sale_order_id": orders[0].id, "purpose": "deposit", "state": "paid"}
        )
        self.assertEqual(orders[0].payment_request_deposit_state, "received")

        def make(count):
            requests = self._make_open_requests(count, NOW - timedelta(hours=1))
            for index, request in enumerate(requests):
                request.sudo().write({"sale_order_id": orders[index % 2].id, "purpose": "order"})
            return requests

        self._expire(batch_size=10**6)  # warm the caches
        counts = []
        for size in (10, 50):
            requests = make(size)
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            self._expire(batch_size=size)
            self.env.flush_all()
            counts.append(self.cr.sql_log_count - before)
            self.assertEqual(set(requests.mapped("state")), {"expired"})
        self.assertEqual(counts[0], counts[1], f"queries per batch of 10 and 50: {counts}")
        self.assertLessEqual(counts[1], 10, f"queries per batch of 10 and 50: {counts}")
        self.assertEqual(orders.mapped("payment_request_deposit_state"), ["received", False])


@tagged("post_install", "-at_install")
class TestExpiryDuringPayment(PostProcessingCommon):
    """A payment under way holds the expiry; a payment confirmed too late is booked."""

    def _past_due(self, request):
        request.sudo().expiration_date = NOW - timedelta(minutes=5)

    def test_pending_or_authorized_attempt_holds_the_expiry(self):
        for state in ("pending", "authorized"):
            with self.subTest(state=state):
                request = self._open()
                tx = self._create_tx(request)
                getattr(tx, f"_set_{state}")()
                self._past_due(request)
                with freeze_time(NOW):
                    self.env["payment.request"]._cron_expire_requests()
                self.assertEqual(request.state, "open")
                # Once the attempt failed, the request expires.
                tx._set_canceled()
                with freeze_time(NOW):
                    self.env["payment.request"]._cron_expire_requests()
                self.assertEqual(request.state, "expired")

    def test_payment_pending_for_days_does_not_hold_the_expiry_for_ever(self):
        # A bank transfer stays pending until the money arrives, maybe never.
        request = self._open()
        tx = self._create_tx(request)
        tx._set_pending()
        tx.last_state_change = NOW - timedelta(days=2)
        self._past_due(request)
        with freeze_time(NOW):
            self.env["payment.request"]._cron_expire_requests()
        self.assertEqual(request.state, "expired")

    def test_payment_confirmed_after_expiry_withdraws_the_recreated_request(self):
        request = self._open(amount=70.0)
        tx = self._create_tx(request)
        tx._set_pending()
        request.sudo()._expire()
        request.action_recreate()
        replacement = request.replaced_by_id
        replacement.action_open()
        self.assertEqual(replacement.state, "open")
        self._pay(request, tx=tx)
        self.assertEqual(request.state, "paid")
        self.assertEqual(replacement.state, "cancelled")
        self.assertEqual(replacement.cancel_reason, "withdrawn")
        with self.assertRaises(ValidationError):
            replacement._check_payable()

    def _assert_paid_late(self, request, tx):
        self.assertEqual(request.state, "paid")
        self.assertTrue(request.paid_late)
        self.assertIn(tx.payment_id.state, ("in_process", "paid"))
        self.assertEqual(tx.payment_id.amount, request.amount)
        note = request.message_ids.filtered(lambda m: "Paid late" in m.body)
        self.assertEqual(len(note), 1)
        self.assertIn(self.salesman.partner_id, note.partner_ids)
        self.assertFalse(request.is_read)
        activity = request.activity_ids.filtered(
            lambda a: (
                a.activity_type_id
                == self.env.ref("payment_request.mail_activity_type_payment_request_check")
            )
        )
        self.assertEqual(activity.user_id, self.salesman)
        self.assertEqual(self.env["payment.request"].search([("paid_late", "=", True)]), request)

    def test_payment_confirmed_after_expiry_is_booked(self):
        request = self._open(amount=70.0)
        tx = self._create_tx(request)
        tx._set_pending()
        request.sudo()._expire()  # expired anyway (e.g. by an older version of the cron)
        self._pay(request, tx=tx)
        self._assert_paid_late(request, tx)

    def test_payment_confirmed_after_cancellation_is_booked(self):
        invoice = self._create_invoice(self.customer, 90.0)
        request = self._open(purpose="invoice", amount=90.0, invoice_ids=[(6, 0, invoice.ids)])
        tx = self._create_tx(request)
        request.action_cancel()
        self._pay(request, tx=tx)
        self._assert_paid_late(request, tx)
        self.assertIn(
            "cancelled", request.message_ids.filtered(lambda m: "Paid late" in m.body).body
        )
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
