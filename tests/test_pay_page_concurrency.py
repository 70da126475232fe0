# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Two tabs paying the same request at the same instant, served by two workers: two
transactions of the database on real cursors, with committed data (removed afterwards), the
second one waiting for the row lock of the first as it does on a prefork server. `make load`
does the same over HTTP, 20 times, without control over the timing."""

import threading
import time

from odoo import SUPERUSER_ID
from odoo import api
from odoo.exceptions import ValidationError
from odoo.modules.registry import Registry
from odoo.service.model import retrying
from odoo.tests import BaseCase
from odoo.tests import get_db_name
from odoo.tests import tagged
from odoo.tools import SQL
from odoo.tools import mute_logger

# How long the test waits for the second tab to wait for the lock, or to finish.
WAIT_SECONDS = 30


@tagged("post_install", "-at_install")
class TestTwoTabsAtOnce(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            partner = env["res.partner"].create({"name": "Tina Two-Tabs"})
            request = env["payment.request"].create(
                {"partner_id": partner.id, "amount": 80.0, "purpose": "free"}
            )
            request.action_open()
            self.partner_id, self.request_id = partner.id, request.id
        self.addCleanup(self._remove_data)

    def _remove_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            request = env["payment.request"].browse(self.request_id)
            env["payment.transaction"].search([("payment_request_id", "=", request.id)]).unlink()
            request.action_cancel()
            request.unlink()
            env["res.partner"].browse(self.partner_id).unlink()

    def _start_attempt(self, env, amount=None):
        """Do what the transaction route does for one tab before the provider is called:
        check that the request can be paid (its row locked) and the amount chosen, then create
        the attempt."""
        request = env["payment.request"].browse(self.request_id)
        request._check_payable()
        values = request._get_transaction_values(request._get_payment_amount(amount))
        provider = env.ref("payment.payment_provider_demo")
        Transaction = env["payment.transaction"]
        return Transaction.create(
            {
                "provider_id": provider.id,
                "payment_method_id": provider.payment_method_ids[:1].id,
                "reference": Transaction._compute_reference(
                    provider.code, **values["custom_create_values"]
                ),
                "amount": values["amount"],
                "currency_id": values["currency_id"],
                "partner_id": values["partner_id"],
                "operation": "online_direct",
                **values["custom_create_values"],
            }
        )

    def _second_tab(self, outcome, amount=None):
        """The second tab, in a worker of its own: its attempt, retried by Odoo as a request's
        transaction is after a serialization failure."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})

            def attempt():
                outcome["tries"] += 1
                return self._start_attempt(env, amount).id

            try:
                # Odoo logs the failed query before it retries it.
                with mute_logger("odoo.sql_db"):
                    outcome["result"] = retrying(attempt, env)
            except Exception as error:  # noqa: BLE001 - reported by the test
                outcome["error"] = error

    def _wait_for_lock_wait(self):
        """Wait until a transaction of the database waits for a lock (the second tab), in the
        statement that starts its attempt (`_lock_for_payment`)."""
        deadline = time.monotonic() + WAIT_SECONDS
        with self.registry.cursor() as cr:
            while time.monotonic() < deadline:
                cr.execute(
                    SQL(
                        "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND query ILIKE %s",
                        "%UPDATE payment_request%attempt_count%",
                    )
                )
                if cr.fetchone():
                    return
                cr.rollback()
                time.sleep(0.05)
        self.fail("the second tab did not wait for the lock of the first one")

    def _two_tabs(self, first_tab_outcome=None, amounts=(None, None)):
        """Run two tabs at once: the first locks the request and creates its attempt; the
        second starts while the first holds the lock, and waits for it.

        :param first_tab_outcome: what becomes of the first attempt before its transaction
            commits, if anything (a card declined at once)
        :param tuple amounts: the amounts that the two tabs chose to pay (partial payments)
        :return: the outcome of the second tab: ``result`` (its attempt's id) or ``error``, and
            ``tries`` (how many times Odoo ran it)
        """
        outcome = {"tries": 0}
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            first = self._start_attempt(env, amounts[0])
            if first_tab_outcome:
                first_tab_outcome(first)
            env.flush_all()
            second_tab = threading.Thread(target=self._second_tab, args=(outcome, amounts[1]))
            second_tab.start()
            try:
                self._wait_for_lock_wait()
            finally:
                # The first tab's worker ends its request: a test cursor of its own, the data
                # is removed by the cleanup.
                cr.commit()  # pylint: disable=invalid-commit
                second_tab.join(WAIT_SECONDS)
        self.assertFalse(second_tab.is_alive(), "the second tab did not finish")
        return outcome

    def _attempt_states(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return (
                env["payment.transaction"]
                .search([("payment_request_id", "=", self.request_id)], order="id")
                .mapped("state")
            )

    def test_second_tab_waits_then_is_refused(self):
        """The second tab waits for the first one's lock; the first one's attempt changed the
        request's row, so the second one fails to serialize, is retried by Odoo (not an error
        for the customer) and then refused with a message, before any money moves."""
        outcome = self._two_tabs()
        self.assertNotIn("result", outcome, "both tabs started a payment")
        self.assertIsInstance(outcome["error"], ValidationError)
        self.assertIn("was started a moment ago, maybe in another window", str(outcome["error"]))
        self.assertEqual(outcome["tries"], 2, "the waiting tab was not retried once by Odoo")
        self.assertEqual(self._attempt_states(), ["draft"])

    def test_second_tab_pays_after_a_declined_first_one(self):
        outcome = self._two_tabs(lambda tx: tx._set_error("Card declined"))
        self.assertNotIn("error", outcome)
        self.assertEqual(outcome["tries"], 2)
        self.assertEqual(self._attempt_states(), ["error", "draft"])

    def test_two_tabs_paying_parts_never_take_more_than_the_amount(self):
        """Two tabs each paying 60 of a request of 80 at once: the first one's payment is
        confirmed (not counted yet) before the second one starts; the second one is refused,
        and the payments confirmed never add up to more than the request's amount."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["payment.request"].browse(self.request_id).sudo().write(
                {"allow_partial_payment": True, "minimum_amount": 20.0}
            )
        outcome = self._two_tabs(lambda tx: tx._set_done(), amounts=(60.0, 60.0))
        self.assertNotIn("result", outcome, "both tabs started a payment")
        self.assertIn("already in progress or done", str(outcome["error"]))
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            request = env["payment.request"].browse(self.request_id)
            request.transaction_ids._post_process()
            self.assertEqual((request.amount_paid, request.amount_remaining), (60.0, 20.0))
            with self.assertRaisesRegex(ValidationError, "more than what remains"):
                self._start_attempt(env, 60.0)
            done = request.transaction_ids.filtered(lambda tx: tx.state == "done")
            self.assertLessEqual(sum(done.mapped("amount")), request.amount)
            cr.rollback()
