# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from lxml import etree

from odoo.exceptions import AccessError
from odoo.tests import Form
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .test_post_processing import PostProcessingCommon


@tagged("post_install", "-at_install")
class TestDuplicatePayment(PostProcessingCommon):
    """Two tabs paid the same request: paid once, the second payment shown and refunded."""

    def _pay_twice(self, request):
        """Two attempts started before either is confirmed, then both confirmed."""
        first = self._create_tx(request)
        second = self._create_tx(request)
        self._pay(request, tx=first)
        self._pay(request, tx=second)
        return first, second

    def _activities(self, request):
        return request.activity_ids.filtered(
            lambda activity: (
                activity.activity_type_id
                == self.env.ref("payment_request.mail_activity_type_payment_request_check")
            )
        )

    def test_provider_of_the_tests_supports_refunds(self):
        self.assertEqual(self.provider.support_refund, "partial")

    def test_second_success_is_recorded_as_duplicate(self):
        request = self._open(amount=80.0)
        first, second = self._pay_twice(request)
        self.assertEqual(request.state, "paid")
        self.assertEqual(request.paid_transaction_id, first)
        self.assertTrue(request.is_paid_twice)
        self.assertEqual(request.duplicate_transaction_ids, second)
        self.assertEqual(second.payment_request_duplicate_state, "detected")
        # Both are booked: the second as customer credit.
        self.assertEqual(second.payment_id.amount, 80.0)
        self.assertEqual(self.customer.payment_request_wallet_balance, 160.0)
        # One receipt, one "paid" note; the duplicate is told to the requester...
        self.assertEqual(len(request.message_ids.filtered(lambda m: "Paid by" in m.body)), 1)
        note = request.message_ids.filtered(lambda m: "Paid twice" in m.body)
        self.assertEqual(len(note), 1)
        self.assertIn(second.reference, note.body)
        self.assertIn(self.salesman.partner_id, note.partner_ids)
        self.assertFalse(request.is_read)
        # ... and to the accountants, by activities.
        users = self._activities(request).mapped("user_id")
        self.assertIn(self.salesman, users)
        self.assertIn(self.manager, users)
        self.assertNotIn(self.salesman_2, users)
        self.assertEqual(
            users - self.salesman,
            self.env.ref("payment_request.group_payment_manager").users.filtered(
                lambda u: self.company in u.company_ids
            ),
        )
        # The "Paid twice" filter of the search view finds it.
        search_view = self.env.ref("payment_request.payment_request_view_search")
        [node] = etree.fromstring(search_view.arch).xpath("//filter[@name='paid_twice']")
        self.assertEqual(self.env["payment.request"].search(safe_eval(node.get("domain"))), request)

    def test_post_processing_twice_is_not_a_duplicate(self):
        request = self._open()
        tx = self._pay(request)
        tx._post_process()
        tx.sudo()._payment_request_mark_paid()
        self.assertFalse(request.is_paid_twice)
        self.assertFalse(tx.payment_request_duplicate_state)

    def test_request_paid_before_the_upgrade_is_not_a_duplicate_of_itself(self):
        request = self._open()
        tx = self._pay(request)
        request.sudo().paid_transaction_id = False  # as paid by an earlier version
        tx.sudo()._payment_request_mark_paid()
        self.assertFalse(request.is_paid_twice)
        second = self._pay(request, tx=self._create_tx(request))
        self.assertTrue(request.is_paid_twice)
        self.assertEqual(request.duplicate_transaction_ids, second)

    def test_duplicate_refunded_in_one_click(self):
        request = self._open(amount=80.0)
        __, second = self._pay_twice(request)
        with self.assertRaises(AccessError):
            request.with_user(self.salesman).action_refund_duplicates()
        request.with_user(self.manager).action_refund_duplicates()
        self.assertEqual(second.payment_request_duplicate_state, "refunded")
        refund = second.child_transaction_ids.filtered(lambda tx: tx.operation == "refund")
        self.assertEqual(refund.state, "done")
        self.assertEqual(refund.amount, -80.0)
        self.assertTrue(request.message_ids.filtered(lambda m: "Refund of the duplicate" in m.body))
        # Once the refund is booked, only the first payment remains as customer credit.
        refund._post_process()
        self.assertEqual(refund.payment_id.amount, 80.0)
        self.customer.invalidate_recordset(["payment_request_wallet_balance"])
        self.assertEqual(self.customer.payment_request_wallet_balance, 80.0)
        # Nothing left to refund.
        with self.assertRaisesRegex(Exception, "no duplicate payment left"):
            request.with_user(self.manager).action_refund_duplicates()

    def test_what_was_refunded_meanwhile_is_not_refunded_again(self):
        request = self._open(amount=80.0)
        __, second = self._pay_twice(request)
        # Refunded in part with Odoo's own Refund button before the manager's click.
        second.sudo()._send_refund_request(amount_to_refund=30.0)
        request.with_user(self.manager).action_refund_duplicates()
        refunds = second.child_transaction_ids.filtered(lambda tx: tx.operation == "refund")
        self.assertEqual(sorted(refunds.mapped("amount")), [-50.0, -30.0])
        # Refunded in full: a retry of the cron sends nothing more.
        second.payment_request_duplicate_state = "to_refund"
        self.env["payment.request"]._cron_refund_duplicates()
        self.assertEqual(
            len(second.child_transaction_ids.filtered(lambda tx: tx.operation == "refund")), 2
        )
        self.assertEqual(second.payment_request_duplicate_state, "refunded")

    def test_duplicate_refunded_automatically_when_company_says_so(self):
        self.company.payment_request_auto_refund_duplicates = True
        request = self._open(amount=80.0)
        __, second = self._pay_twice(request)
        self.assertEqual(second.payment_request_duplicate_state, "to_refund")
        cron = self.env.ref("payment_request.ir_cron_refund_payment_request_duplicates")
        self.assertTrue(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]))
        self.env["payment.request"]._cron_refund_duplicates()
        self.assertEqual(second.payment_request_duplicate_state, "refunded")
        refund = second.child_transaction_ids.filtered(lambda tx: tx.operation == "refund")
        self.assertEqual(refund.state, "done")

    def test_auto_refund_setting_in_settings(self):
        # Set in the settings form, as an administrator does (Form refuses a field that the
        # form does not show or makes read-only).
        settings = Form(self.env["res.config.settings"])
        settings.payment_request_auto_refund_duplicates = True
        settings.save().execute()
        self.assertTrue(self.company.payment_request_auto_refund_duplicates)

    def test_refund_failure_is_recorded(self):
        request = self._open(amount=80.0)
        __, second = self._pay_twice(request)
        self.provider.state = "disabled"  # _send_refund_request refuses a disabled provider
        request.with_user(self.manager).action_refund_duplicates()
        self.assertEqual(second.payment_request_duplicate_state, "error")
        self.assertTrue(
            request.message_ids.filtered(lambda m: "refund of the duplicate" in m.body.lower())
        )
