# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from unittest.mock import patch

import psycopg2

from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .. import const
from ..models import payment_request_receipt
from .test_payment_request_wizard import RequestSendingCommon


class PostProcessingCommon(RequestSendingCommon):
    """Requests paid through payment_demo, post-processed as the payment cron does."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider = cls.env.ref("payment.payment_provider_demo")
        cls.provider.write({"state": "test"})
        cls.method = cls.provider.payment_method_ids[:1]

    def _open(self, **values):
        request = self.env["payment.request"].create(
            {
                "partner_id": self.customer.id,
                "amount": 100.0,
                "purpose": "free",
                "user_id": self.salesman.id,
                **values,
            }
        )
        request.action_open()
        return request

    def _create_tx(self, request):
        """Create a draft attempt the way the pay page does."""
        values = request._get_transaction_values()
        Transaction = self.env["payment.transaction"].sudo()
        return Transaction.create(
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.method.id,
                "reference": Transaction._compute_reference(
                    self.provider.code, **values["custom_create_values"]
                ),
                "amount": values["amount"],
                "currency_id": values["currency_id"],
                "partner_id": values["partner_id"],
                "operation": "online_direct",
                **values["custom_create_values"],
            }
        )

    def _render_real_pdfs(self):
        """Odoo renders reports as HTML in tests unless asked for real PDFs."""
        self.env = self.env(context=dict(self.env.context, force_report_rendering=True))

    def _pay(self, request, state="done", tx=None):
        """Create an attempt (or take `tx`), confirm it and post-process it."""
        tx = tx or self._create_tx(request)
        if state == "done":
            tx._set_done()
        else:
            tx._set_error("Declined")
        tx._post_process()
        # The receipt is made by its cron, after the post-processing (triggered there).
        self.env["payment.request"]._cron_send_receipts()
        return tx


@tagged("post_install", "-at_install")
class TestPostProcessing(PostProcessingCommon):
    """What a confirmed payment does, with real accounting, for each purpose."""

    def test_request_becomes_paid_and_requester_is_told(self):
        request = self._open()
        tx = self._pay(request)
        self.assertEqual(request.state, "paid")
        self.assertTrue(request.paid_date)
        self.assertFalse(request.is_read)
        self.assertTrue(tx.reference.startswith(request.name))
        message = request.message_ids.filtered(lambda m: "Paid by" in (m.body or ""))
        self.assertIn(self.salesman.partner_id, message.partner_ids)
        request.with_user(self.salesman).action_mark_read()
        self.assertTrue(request.is_read)

    def test_failed_attempt_keeps_the_request_open(self):
        request = self._open()
        # Each attempt started as the pay page starts it (`_check_payable` counts it).
        request.sudo()._check_payable()
        self._pay(request, state="error")
        self.assertEqual(request.state, "open")
        request.sudo()._check_payable()
        self._pay(request)
        self.assertEqual(request.state, "paid")
        self.assertEqual(request.attempt_count, 2)
        self.assertEqual(request.state_display, "Paid (2 attempts)")

    def test_free_amount_is_a_posted_payment_left_as_credit(self):
        request = self._open(amount=60.0)
        tx = self._pay(request)
        payment = tx.payment_id
        self.assertIn(payment.state, ("in_process", "paid"))
        self.assertIn(request.name, payment.memo)
        self.assertEqual(payment.amount, 60.0)
        self.assertEqual(self.customer.payment_request_wallet_balance, 60.0)

    def test_wallet_top_up_shows_prepaid_balance(self):
        before = self.customer.payment_request_wallet_balance
        self._pay(self._open(purpose="wallet", amount=250.0))
        self.customer.invalidate_recordset(["payment_request_wallet_balance"])
        self.assertEqual(self.customer.payment_request_wallet_balance, before + 250.0)
        # The credit is then offered on the customer's next invoice.
        invoice = self._create_invoice(self.customer, 100.0)
        self.assertTrue(invoice.invoice_has_outstanding)

    def test_invoice_paid_in_full(self):
        invoice = self._create_invoice(self.customer, 200.0)
        request = self._open(purpose="invoice", amount=200.0, invoice_ids=[(6, 0, invoice.ids)])
        self._pay(request)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_invoice_paid_another_way_cannot_be_paid_again_by_the_link(self):
        invoice = self._create_invoice(self.customer, 200.0)
        request = self._open(purpose="invoice", amount=200.0, invoice_ids=[(6, 0, invoice.ids)])
        # Paid by a transfer (or a charge of the saved card) while the link was out.
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        with self.assertRaisesRegex(ValidationError, "already paid"):
            request._check_payable()

    def test_invoice_paid_in_part(self):
        invoice = self._create_invoice(self.customer, 200.0)
        request = self._open(purpose="invoice", amount=80.0, invoice_ids=[(6, 0, invoice.ids)])
        self._pay(request)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(invoice.amount_residual, 120.0)

    def test_several_invoices_in_one_payment(self):
        first = self._create_invoice(self.customer, 70.0)
        second = self._create_invoice(self.customer, 30.0)
        request = self._open(
            purpose="invoices", amount=100.0, invoice_ids=[(6, 0, (first | second).ids)]
        )
        tx = self._pay(request)
        self.assertEqual(len(tx.payment_id), 1)
        for invoice in first | second:
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_deposit_confirms_quotation_and_marks_order(self):
        self.order.write({"require_payment": True, "prepayment_percent": 0.3})
        request = self._open(purpose="deposit", amount=150.0, sale_order_id=self.order.id)
        tx = self._pay(request)
        self.assertEqual(self.order.state, "sale")
        self.assertEqual(self.order.payment_request_deposit_state, "received")
        self.assertEqual(self.order.payment_request_amount_received, 150.0)
        self.assertEqual(self.order.amount_paid, 150.0)
        self.assertIn(self.order, tx.sale_order_ids)
        # The money waited as customer credit and settles part of the order's invoice.
        invoice = self.order._create_invoices()
        invoice.action_post()
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(invoice.amount_residual, 350.0)

    def test_deposit_below_prepayment_keeps_quotation(self):
        self.order.write({"require_payment": True, "prepayment_percent": 0.5})
        self._pay(self._open(purpose="deposit", amount=100.0, sale_order_id=self.order.id))
        self.assertEqual(self.order.state, "draft")
        self.assertEqual(self.order.payment_request_deposit_state, "received")

    # === DOCUMENTS CHANGED UNDER AN OPEN REQUEST === #

    def _assert_withdrawn(self, request):
        self.assertEqual(request.state, "cancelled")
        self.assertEqual(request.cancel_reason, "withdrawn")
        self.assertFalse(request.is_read)
        note = request.message_ids[0]
        self.assertIn("Withdrawn", note.body)
        self.assertIn(self.salesman.partner_id, note.partner_ids)

    def test_order_cancelled_withdraws_request(self):
        request = self._open(purpose="order", amount=500.0, sale_order_id=self.order.id)
        self.order._action_cancel()
        self._assert_withdrawn(request)

    def test_order_total_below_request_withdraws_it(self):
        deposit = self._open(purpose="deposit", amount=100.0, sale_order_id=self.order.id)
        balance = self._open(purpose="order", amount=500.0, sale_order_id=self.order.id)
        self.order.order_line.product_uom_qty = 4  # 400.00
        self._assert_withdrawn(balance)
        self.assertEqual(deposit.state, "open")
        self.order.order_line.product_uom_qty = 6  # raising the total withdraws nothing
        self.assertEqual(deposit.state, "open")

    def test_invoice_reset_or_cancelled_withdraws_request(self):
        for action in ("button_draft", "button_cancel"):
            with self.subTest(action=action):
                invoice = self._create_invoice(self.customer, 90.0)
                request = self._open(
                    purpose="invoice", amount=90.0, invoice_ids=[(6, 0, invoice.ids)]
                )
                getattr(invoice, action)()
                self._assert_withdrawn(request)

    # === RECEIPTS === #

    def test_receipt_emailed_with_pdf(self):
        self._render_real_pdfs()
        request = self._open(amount=45.0, description="Bike repair")
        with self.mock_mail_gateway():
            tx = self._pay(request)
        mail = self._new_mails.filtered(lambda m: m.res_id == request.id and m.attachment_ids)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.customer)
        self.assertIn("receipt", mail.subject.lower())
        # Wrapped in Odoo's light email layout, as the company's other customer emails.
        model = self.env["ir.model"]._get(request._name).name
        self.assertIn(f"Your {model}", mail.body_html)
        attachment = mail.attachment_ids
        self.assertEqual(attachment.mimetype, "application/pdf")
        self.assertTrue(attachment.raw.startswith(b"%PDF-"))
        self.assertTrue(tx.reference.startswith(request.name))

    def test_receipt_pdf_content(self):
        invoice = self._create_invoice(self.customer, 75.0)
        request = self._open(
            purpose="invoice",
            amount=75.0,
            invoice_ids=[(6, 0, invoice.ids)],
            external_reference="CTR-7",
        )
        tx = self._pay(request)
        report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        pdf, report_format = report._render_qweb_pdf(
            "payment_request.action_report_payment_request_receipt", request.ids
        )
        self.assertEqual(report_format, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF-"))
        html = report._render_qweb_html(
            "payment_request.action_report_payment_request_receipt", request.ids
        )[0].decode()
        for expected in (
            "Payment Receipt",
            request.name,
            self.company.name,
            "Claire Customer",
            "75.00",
            tx.reference,
            self.method.name,
            invoice.name,
            "CTR-7",
        ):
            self.assertIn(expected, html)

    def test_staff_print_receipt(self):
        request = self._open()
        self._pay(request)
        action = request.with_user(self.salesman).action_print_receipt()
        self.assertEqual(action["report_name"], "payment_request.report_payment_request_receipt")


@tagged("post_install", "-at_install")
class TestReceiptOffCriticalPath(PostProcessingCommon):
    """The receipt is made after the request is paid, by its cron; a failure shows and retries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Report = type(cls.env["ir.actions.report"])

    def _receipt_mails(self, request):
        return self._new_mails.filtered(
            lambda mail: mail.res_id == request.id and "receipt" in (mail.subject or "").lower()
        )

    def test_receipt_cron_stops_at_its_time_budget(self):
        """On a saturated server (PDFs of 12-16 s), a call stops once its time budget is spent,
        keeps what it made and leaves the rest to the next run, within the worker's limit."""
        requests = self.env["payment.request"]
        for _index in range(3):
            request = self._open()
            tx = self._create_tx(request)
            tx._set_done()
            tx._post_process()
            requests |= request
        clock = iter([0.0, 1.0, const.RECEIPT_CRON_TIME_BUDGET + 1.0])
        with (
            self.mock_mail_gateway(),
            patch.object(payment_request_receipt, "monotonic", lambda: next(clock)),
        ):
            remaining = self.env["payment.request"]._cron_send_receipts()
        self.assertEqual(remaining, 1)
        self.assertEqual(sorted(requests.mapped("receipt_state")), ["sent", "sent", "to_send"])
        cron = self.env.ref("payment_request.ir_cron_send_payment_request_receipts")
        self.assertTrue(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]))

    def test_receipt_cron_works_in_small_committed_batches(self):
        """Each call makes at most one small batch and reports what is left, so a slow report
        engine cannot make one call outlive the cron worker's time limit (and lose it all)."""
        requests = self.env["payment.request"]
        for _index in range(const.RECEIPT_BATCH_SIZE + 2):
            request = self._open()
            tx = self._create_tx(request)
            tx._set_done()
            tx._post_process()
            requests |= request
        self.assertEqual(set(requests.mapped("receipt_state")), {"to_send"})
        with self.mock_mail_gateway():
            remaining = self.env["payment.request"]._cron_send_receipts()
        self.assertEqual(remaining, 2)
        cron = self.env.ref("payment_request.ir_cron_send_payment_request_receipts")
        self.assertTrue(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            "the rest is left to the next run of the job",
        )
        self.assertEqual(
            len(requests.filtered(lambda request: request.receipt_state == "sent")),
            const.RECEIPT_BATCH_SIZE,
        )
        self.assertLessEqual(const.RECEIPT_BATCH_SIZE, 20)
        # One batch per run of the job, which is triggered again for the rest.
        cron = self.env.ref("payment_request.ir_cron_send_payment_request_receipts")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        triggers.unlink()
        with self.mock_mail_gateway():
            self.assertEqual(self.env["payment.request"]._cron_send_receipts(), 0)
        self.assertFalse(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            "nothing left: not triggered again",
        )
        self.assertEqual(set(requests.mapped("receipt_state")), {"sent"})

    def test_receipt_hit_by_a_concurrent_transaction_is_retried_not_failed(self):
        """A serialization failure is the database's, not the receipt's: the cron stops its
        batch and runs again later; the receipt is not marked in error nor the requester told."""
        request = self._open()
        tx = self._create_tx(request)
        tx._set_done()
        tx._post_process()
        Request = type(self.env["payment.request"])
        with (
            patch.object(
                Request,
                "message_post_with_source",
                side_effect=psycopg2.errors.SerializationFailure("could not serialize access"),
            ),
        ):
            self.assertEqual(self.env["payment.request"]._cron_send_receipts(), 1)
        self.assertEqual(request.receipt_state, "to_send")
        cron = self.env.ref("payment_request.ir_cron_send_payment_request_receipts")
        self.assertTrue(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]))
        self.assertFalse(request.receipt_error)
        self.assertFalse(
            request.message_ids.filtered(lambda m: "receipt could not be made" in m.body)
        )

    def test_post_processing_does_not_render_the_receipt(self):
        request = self._open()
        tx = self._create_tx(request)
        tx._set_done()
        with patch.object(self.Report, "_render_qweb_pdf", side_effect=AssertionError) as render:
            tx._post_process()
        render.assert_not_called()
        self.assertEqual(request.state, "paid")
        self.assertEqual(request.receipt_state, "to_send")
        cron = self.env.ref("payment_request.ir_cron_send_payment_request_receipts")
        self.assertTrue(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            "the receipt cron is triggered",
        )

    def test_report_error_leaves_request_paid_then_retry_works(self):
        self._render_real_pdfs()
        request = self._open(amount=30.0)
        with (
            self.mock_mail_gateway(),
            patch.object(
                self.Report, "_render_qweb_pdf", side_effect=UserError("Report engine down")
            ),
        ):
            tx = self._pay(request)
        self.assertEqual(request.state, "paid")
        self.assertEqual(tx.payment_id.amount, 30.0)
        self.assertEqual(request.receipt_state, "error")
        self.assertIn("Report engine down", request.receipt_error)
        self.assertFalse(self._receipt_mails(request))
        note = request.message_ids.filtered(lambda m: "receipt could not be made" in m.body)
        self.assertEqual(len(note), 1)
        self.assertIn(self.salesman.partner_id, note.partner_ids)
        self.assertEqual(
            self.env["payment.request"].search([("receipt_state", "=", "error")]), request
        )
        # Failing again does not post the note again.
        with patch.object(self.Report, "_render_qweb_pdf", side_effect=UserError("Still down")):
            self.env["payment.request"]._cron_send_receipts()
        self.assertEqual(request.receipt_error, "Still down")
        self.assertEqual(
            len(request.message_ids.filtered(lambda m: "receipt could not be made" in m.body)), 1
        )
        # Rendering works again: the cron's next run sends it.
        with self.mock_mail_gateway():
            self.env["payment.request"]._cron_send_receipts()
        self.assertEqual(request.receipt_state, "sent")
        self.assertFalse(request.receipt_error)
        mail = self._receipt_mails(request)
        self.assertEqual(len(mail), 1)
        self.assertTrue(mail.attachment_ids.raw.startswith(b"%PDF-"))
        self.assertEqual(mail.state, "outgoing", "queued for the mail scheduler")

    def test_wkhtmltopdf_missing_then_send_receipt_by_hand(self):
        self._render_real_pdfs()
        request = self._open(amount=20.0)
        with patch.object(self.Report, "get_wkhtmltopdf_state", return_value="install"):
            self._pay(request)
        self.assertEqual(request.state, "paid")
        self.assertEqual(request.receipt_state, "error")
        self.assertIn("Wkhtmltopdf", request.receipt_error)
        with self.mock_mail_gateway():
            self.assertIs(request.with_user(self.salesman).action_send_receipt(), True)
        self.assertEqual(request.receipt_state, "sent")
        self.assertEqual(len(self._receipt_mails(request)), 1)

    def test_send_receipt_by_hand_shows_the_error(self):
        request = self._open()
        self._pay(request)
        self.assertEqual(request.receipt_state, "sent")
        with patch.object(self.Report, "_render_qweb_pdf", side_effect=UserError("Broken")):
            action = request.with_user(self.salesman).action_send_receipt()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("Broken", action["params"]["message"])
        self.assertEqual(request.receipt_state, "error")

    def test_no_receipt_without_email(self):
        self.customer.email = False
        request = self._open()
        self._pay(request)
        self.assertEqual(request.state, "paid")
        self.assertEqual(request.receipt_state, "none")
