# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Invoices ask what their payment terms make due now: the overdue installments, else the next
one, else the amount less the early-payment discount; paid through a request, the installment
is reconciled first and the discount written off, as Odoo's invoice portal does."""

from datetime import timedelta

from freezegun import freeze_time

from odoo import Command
from odoo import fields
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .test_post_processing import PostProcessingCommon


class InvoiceDueCommon(PostProcessingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.term_30_70 = cls.env.ref("account.account_payment_term_advance_60days")
        cls.term_2_7 = cls.env.ref("account.account_payment_term_30days_early_discount")
        cls.term_thirds = cls.env["account.payment.term"].create(
            {
                "name": "Three monthly thirds",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 33.0, "nb_days": 0}),
                    Command.create({"value": "percent", "value_amount": 33.0, "nb_days": 30}),
                    Command.create({"value": "percent", "value_amount": 34.0, "nb_days": 60}),
                ],
            }
        )
        cls.today = fields.Date.context_today(cls.env["payment.request"])
        # Links valid for a month: the discount may lapse while they are open.
        cls.company.payment_request_validity_hours = 24 * 30
        cls.eur = cls.env.ref("base.EUR")
        cls.eur.active = True
        cls.env["res.currency.rate"].create(
            {"currency_id": cls.eur.id, "rate": 0.5, "name": "2020-01-01"}
        )

    def _term_invoice(self, term, amount=1000.0, days_ago=0, partner=None, currency=None):
        values = {
            "move_type": "out_invoice",
            "partner_id": (partner or self.customer).id,
            "invoice_date": self.today - timedelta(days=days_ago),
            "invoice_payment_term_id": term.id,
            "invoice_user_id": self.salesman.id,
            "invoice_line_ids": [
                Command.create({"name": "Campsite", "price_unit": amount, "tax_ids": []})
            ],
        }
        if currency:
            values["currency_id"] = currency.id
        invoice = self.env["account.move"].create(values)
        invoice.action_post()
        return invoice

    def _request_for(self, document, purpose="invoice", **overrides):
        values = document._get_payment_request_values(purpose)
        request = self.env["payment.request"].create(
            self.env["payment.request"]._prepare_values_from_document(
                purpose, values, user_id=self.salesman.id, **overrides
            )
        )
        request.action_open()
        return request

    def _term_lines(self, invoice):
        return invoice.line_ids.filtered(lambda line: line.display_type == "payment_term").sorted(
            "date_maturity"
        )


@tagged("post_install", "-at_install")
class TestInstallments(InvoiceDueCommon):
    def test_30_70_asks_the_first_installment_up_to_the_residual(self):
        invoice = self._term_invoice(self.term_30_70)
        values = invoice._get_payment_request_values("invoice")
        self.assertEqual(values["amount"], 300.0)
        self.assertEqual(values["max_amount"], 1000.0)
        self.assertIn(f"installment {invoice.name}-1 due", values["description"])
        # What Odoo's invoice portal asks.
        self.assertEqual(invoice._get_invoice_next_payment_values()["next_amount_to_pay"], 300.0)
        wizard = self._wizard(invoice, user=self.biller).save()
        self.assertEqual((wizard.amount, wizard.max_amount), (300.0, 1000.0))

    def test_paying_the_installment_reconciles_it_then_asks_the_next(self):
        invoice = self._term_invoice(self.term_30_70)
        request = self._request_for(invoice)
        self.assertEqual(request.amount, 300.0)
        self._pay(request)
        self.assertEqual(request.state, "paid")
        first, second = self._term_lines(invoice)
        self.assertTrue(first.reconciled, "the first installment was not reconciled first")
        self.assertFalse(second.reconciled)
        self.assertEqual(invoice.amount_residual, 700.0)
        self.assertEqual(invoice.payment_state, "partial")
        values = invoice._get_payment_request_values("invoice")
        self.assertEqual(values["amount"], 700.0)
        self.assertIn(f"{invoice.name}-2", values["description"])

    def test_three_installments_two_overdue_ask_both(self):
        invoice = self._term_invoice(self.term_thirds, days_ago=45)
        dues = invoice._get_payment_request_due_now()[invoice.id]
        self.assertEqual(dues["state"], "overdue")
        self.assertEqual(dues["amount"], 660.0)
        values = invoice._get_payment_request_values("invoice")
        self.assertEqual((values["amount"], values["max_amount"]), (660.0, 1000.0))
        self.assertIn(f"overdue installments from {invoice.name}-1", values["description"])
        request = self._request_for(invoice)
        self._pay(request)
        first, second, third = self._term_lines(invoice)
        self.assertTrue(first.reconciled and second.reconciled)
        self.assertFalse(third.reconciled)
        self.assertEqual(invoice.amount_residual, 340.0)

    def test_the_user_may_ask_the_whole_residual_or_less(self):
        invoice = self._term_invoice(self.term_30_70)
        request = self._request_for(invoice, amount=1000.0)
        self.assertEqual(request.amount, 1000.0)
        self.assertFalse(request._get_invoice_dues()[0][2], "a whole residual names no installment")
        self._pay(request)
        self.assertEqual(invoice.payment_state, "paid")
        lower = self._term_invoice(self.term_30_70)
        self.assertEqual(self._request_for(lower, amount=100.0).amount, 100.0)
        with self.assertRaisesRegex(UserError, "more than what is due"):
            self._request_for(lower, amount=1000.01)

    def test_installment_in_a_foreign_currency(self):
        invoice = self._term_invoice(self.term_30_70, amount=800.0, currency=self.eur)
        request = self._request_for(invoice)
        self.assertEqual(request.currency_id, self.eur)
        self.assertEqual(request.amount, 240.0)
        tx = self._pay(request)
        self.assertEqual(tx.currency_id, self.eur)
        self.assertEqual(invoice.amount_residual, 560.0)
        self.assertTrue(self._term_lines(invoice)[0].reconciled)

    def test_description_is_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["payment_request"], ["fr_FR"], overwrite=True
        )
        self.customer.lang = "fr_FR"
        invoice = self._term_invoice(self.term_30_70)
        values = invoice.with_context(lang="en_US")._get_payment_request_values("invoice")
        self.assertIn(f"Paiement de la facture {invoice.name} : échéance", values["description"])

    def test_page_names_the_installment(self):
        invoice = self._term_invoice(self.term_30_70)
        request = self._request_for(invoice)
        [(shown, amount, label)] = request._get_invoice_dues()
        self.assertEqual((shown, amount), (invoice, 300.0))
        self.assertIn(f"{invoice.name}-1", label)


@tagged("post_install", "-at_install")
class TestEarlyPaymentDiscount(InvoiceDueCommon):
    def _discount_lines(self, payment):
        account = self.company.account_journal_early_pay_discount_loss_account_id
        return payment.move_id.line_ids.filtered(lambda line: line.account_id == account)

    def test_asks_the_discounted_amount_while_the_discount_holds(self):
        invoice = self._term_invoice(self.term_2_7)
        values = invoice._get_payment_request_values("invoice")
        self.assertEqual((values["amount"], values["max_amount"]), (980.0, 1000.0))
        self.assertIn("2% discount if paid by", values["description"])
        self.assertIn("1,000.00", values["description"])
        request = self._request_for(invoice)
        self.assertEqual(request.early_discount_amount, 20.0)
        self.assertEqual(request.early_discount_date, self.today + timedelta(days=7))

    def test_paying_the_discounted_amount_settles_and_writes_off(self):
        invoice = self._term_invoice(self.term_2_7)
        request = self._request_for(invoice)
        tx = self._pay(request)
        self.assertEqual(tx.amount, 980.0)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(sum(self._discount_lines(tx.payment_id).mapped("debit")), 20.0)

    def test_after_the_discount_date_asks_the_full_amount(self):
        invoice = self._term_invoice(self.term_2_7, days_ago=10)
        values = invoice._get_payment_request_values("invoice")
        self.assertEqual(values["amount"], 1000.0)
        request = self._request_for(invoice)
        self.assertFalse(request.early_discount_date)

    def test_a_discount_lapsed_while_open_is_never_granted(self):
        invoice = self._term_invoice(self.term_2_7)
        request = self._request_for(invoice)
        with freeze_time(self.today + timedelta(days=8)):
            self.assertTrue(request._is_early_discount_lapsed())
            with self.assertRaisesRegex(ValidationError, "discount ended"):
                request._check_payable()
            request._check_early_discount()
            self.assertEqual(request.amount, 1000.0)
            self.assertFalse(request.early_discount_amount)
            self.assertIn("now asks", request.message_ids[0].body)
            self.assertIn(self.salesman.partner_id, request.message_ids[0].partner_ids)
            tx = self._pay(request)
        self.assertEqual(tx.amount, 1000.0)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertFalse(self._discount_lines(tx.payment_id))

    def test_started_in_time_and_confirmed_late_is_granted(self):
        invoice = self._term_invoice(self.term_2_7)
        request = self._request_for(invoice)
        tx = self._create_tx(request)
        with freeze_time(self.today + timedelta(days=9)):
            self._pay(request, tx=tx)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(sum(self._discount_lines(tx.payment_id).mapped("debit")), 20.0)

    def test_discount_in_a_foreign_currency(self):
        invoice = self._term_invoice(self.term_2_7, amount=500.0, currency=self.eur)
        request = self._request_for(invoice)
        self.assertEqual((request.amount, request.early_discount_amount), (490.0, 10.0))
        self._pay(request)
        self.assertEqual(invoice.payment_state, "paid")


@tagged("post_install", "-at_install")
class TestOpenInvoicesDueNow(InvoiceDueCommon):
    def test_each_invoice_asks_what_is_due_summed(self):
        plain = self._create_invoice(self.customer, 200.0)
        installments = self._term_invoice(self.term_30_70)
        values = self.customer._get_payment_request_values(
            "invoices", invoices=plain | installments
        )
        self.assertEqual((values["amount"], values["max_amount"]), (500.0, 1200.0))
        request = self._request_for(self.customer, purpose="invoices")
        dues = {invoice: (amount, label) for invoice, amount, label in request._get_invoice_dues()}
        self.assertEqual(dues[plain], (200.0, ""))
        self.assertEqual(dues[installments][0], 300.0)
        self.assertIn(f"{installments.name}-1", dues[installments][1])

    def test_discounts_of_invoices_settled_whole_are_written_off(self):
        plain = self._create_invoice(self.customer, 200.0)
        discounted = self._term_invoice(self.term_2_7, amount=500.0)
        request = self._request_for(self.customer, purpose="invoices")
        self.assertEqual(request.invoice_ids, plain | discounted)
        self.assertEqual((request.amount, request.early_discount_amount), (690.0, 10.0))
        tx = self._pay(request)
        self.assertEqual(plain.payment_state, "paid")
        self.assertEqual(discounted.payment_state, "paid")
        account = self.company.account_journal_early_pay_discount_loss_account_id
        lines = tx.payment_id.move_id.line_ids.filtered(lambda line: line.account_id == account)
        self.assertEqual(sum(lines.mapped("debit")), 10.0)

    def test_no_discount_beside_an_invoice_paid_in_part(self):
        installments = self._term_invoice(self.term_30_70)
        discounted = self._term_invoice(self.term_2_7, amount=500.0)
        request = self._request_for(self.customer, purpose="invoices")
        self.assertEqual(request.invoice_ids, installments | discounted)
        self.assertEqual(request.amount, 800.0)
        self.assertFalse(request.early_discount_amount)
