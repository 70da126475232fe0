# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import MockSMS

from .common import PaymentRequestCommon


@tagged("post_install", "-at_install")
class TestOverdueRequests(PaymentRequestCommon, MockEmail, MockSMS):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Customers of demo data and of the common fixtures have overdue invoices of their own:
        # only the customers made here are asked.
        cls.env["res.partner"].with_context(active_test=False).search([]).write(
            {"payment_request_no_auto": True}
        )
        cls.usa = cls.env.ref("base.us")
        cls.company.write(
            {
                "country_id": cls.usa.id,
                "payment_request_overdue_auto": True,
                "payment_request_overdue_days": 3,
                "payment_request_overdue_interval": 7,
            }
        )
        cls.alice = cls.env["res.partner"].create(
            {"name": "Alice Overdue", "email": "alice@example.com", "country_id": cls.usa.id}
        )
        cls.bob = cls.env["res.partner"].create(
            {"name": "Bob Overdue", "email": "bob@example.com", "country_id": cls.usa.id}
        )
        cls.today = fields.Date.context_today(cls.env["payment.request"])

    def _invoice(self, partner, amount, days_late, company=None, currency=None, post=True):
        """Post an invoice of `partner` due `days_late` days ago."""
        company = company or self.company
        due = self.today - timedelta(days=days_late)
        values = {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": due,
            "invoice_date_due": due,
            "invoice_user_id": self.salesman.id,
            "invoice_line_ids": [
                (0, 0, {"name": "Storage", "price_unit": amount, "tax_ids": [(5, 0, 0)]})
            ],
        }
        if currency:
            values["currency_id"] = currency.id
        invoice = self.env["account.move"].with_company(company).create(values)
        if post:
            invoice.action_post()
            # the payment term of the customer could move the due date: keep the one asked
            invoice.invoice_date_due = due
        return invoice

    def _run(self, **kwargs):
        with self.mock_mail_gateway(), self.mockSMSGateway():
            return self.env["payment.request"]._cron_send_overdue_requests(**kwargs)

    def _requests(self, partner):
        return self.env["payment.request"].search(
            [("partner_id", "child_of", partner.commercial_partner_id.id)], order="id"
        )

    # === WHO IS ASKED, FOR WHAT === #

    def test_one_request_per_customer_for_all_overdue_invoices(self):
        late = self._invoice(self.alice, 100.0, days_late=10)
        later = self._invoice(self.alice, 50.0, days_late=3)
        self._invoice(self.alice, 70.0, days_late=2)  # due less than 3 days ago
        self._invoice(self.alice, 80.0, days_late=30, post=False)  # a draft
        bob_invoice = self._invoice(self.bob, 20.0, days_late=4)
        self.assertEqual(self._run(), 0)
        alice_request = self._requests(self.alice)
        self.assertRecordValues(
            alice_request,
            [
                {
                    "state": "open",
                    "purpose": "invoices",
                    "partner_id": self.alice.id,
                    "amount": 150.0,
                    "channel": "email",
                    "is_automatic": True,
                    "user_id": self.salesman.id,
                    "currency_id": self.company.currency_id.id,
                }
            ],
        )
        self.assertEqual(alice_request.invoice_ids, late | later)
        self.assertTrue(alice_request.auto_sent_date)
        self.assertEqual(self._requests(self.bob).invoice_ids, bob_invoice)
        mail = self.env["mail.mail"].search(
            [
                ("model", "=", "payment.request"),
                ("res_id", "=", alice_request.id),
                ("subtype_id", "=", self.env.ref("payment_request.mt_payment_request_sent").id),
            ]
        )
        self.assertEqual(mail.recipient_ids, self.alice)
        self.assertEqual(mail.state, "outgoing", "queued for the mail scheduler")
        self.assertFalse(
            self.env["mail.mail"].search(
                [
                    ("model", "=", "payment.request"),
                    ("res_id", "in", (alice_request | self._requests(self.bob)).ids),
                    ("recipient_ids", "in", self.salesman.partner_id.ids),
                ]
            ),
            "no 'assigned to you' email to the salesperson for each automatic request",
        )
        self.assertIn(self.salesman.partner_id, alice_request.message_partner_ids)

    def test_partial_payment_asks_for_the_residual(self):
        invoice = self._invoice(self.alice, 100.0, days_late=5)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"amount": 40.0})._create_payments()
        self.assertEqual(invoice.payment_state, "partial")
        self._run()
        self.assertEqual(self._requests(self.alice).amount, 60.0)

    def test_setting_off_asks_nothing(self):
        self.company.payment_request_overdue_auto = False
        self._invoice(self.alice, 100.0, days_late=10)
        self._run()
        self.assertFalse(self._requests(self.alice))

    def test_customer_flagged_is_skipped_with_its_contacts(self):
        firm = self.env["res.partner"].create(
            {"name": "Firm Inc", "is_company": True, "email": "firm@example.com"}
        )
        contact = self.env["res.partner"].create(
            {"name": "Accounts Payable", "parent_id": firm.id, "email": "ap@example.com"}
        )
        self._invoice(contact, 100.0, days_late=10)
        self._invoice(self.alice, 100.0, days_late=10)
        firm.payment_request_no_auto = True
        self.assertTrue(contact.payment_request_no_auto, "set on the company, held by contacts")
        self.alice.payment_request_no_auto = True
        self._run()
        self.assertFalse(self._requests(firm))
        self.assertFalse(self._requests(self.alice))

    def test_contact_of_the_invoices_receives_the_request(self):
        firm = self.env["res.partner"].create({"name": "Firm Inc", "is_company": True})
        contact = self.env["res.partner"].create(
            {"name": "Accounts Payable", "parent_id": firm.id, "email": "ap@example.com"}
        )
        self._invoice(contact, 100.0, days_late=10)
        self._invoice(contact, 30.0, days_late=8)
        self._run()
        self.assertRecordValues(self._requests(firm), [{"partner_id": contact.id, "amount": 130.0}])

    def test_disputed_customer_is_skipped(self):
        self._invoice(self.alice, 100.0, days_late=10)
        disputed = self._invoice(self.alice, 40.0, days_late=1)
        disputed.action_toggle_block_payment()
        self.assertEqual(disputed.payment_state, "blocked")
        self._invoice(self.bob, 20.0, days_late=10)
        self._run()
        self.assertFalse(self._requests(self.alice))
        self.assertTrue(self._requests(self.bob))

    def test_customer_without_email_gets_an_sms_or_nothing(self):
        carol = self.env["res.partner"].create(
            {"name": "Carol Mobile", "mobile": "(415) 555-2671", "country_id": self.usa.id}
        )
        dave = self.env["res.partner"].create({"name": "Dave Unreachable"})
        self._invoice(carol, 100.0, days_late=10)
        self._invoice(dave, 100.0, days_late=10)
        self.assertEqual(self._run(), 0, "an unreachable customer is not left to do")
        request = self._requests(carol)
        self.assertEqual(request.channel, "sms")
        self.assertEqual(
            # The SMS goes to the number (Odoo's SMS API with sms_numbers), not to a partner.
            self._new_sms.filtered(lambda sms: sms.mail_message_id.res_id == request.id).number,
            "+14155552671",
        )
        self.assertFalse(self._requests(dave))

    def test_sms_too_when_the_company_says_so(self):
        self.alice.mobile = "(415) 555-2671"
        self._invoice(self.alice, 100.0, days_late=10)
        self._invoice(self.bob, 100.0, days_late=10)
        self.company.payment_request_overdue_sms = True
        self._run()
        self.assertEqual(self._requests(self.alice).channel, "both")
        self.assertEqual(self._requests(self.bob).channel, "email", "Bob has no mobile")

    def test_without_the_sms_setting_email_is_enough(self):
        self.alice.mobile = "(415) 555-2671"
        self._invoice(self.alice, 100.0, days_late=10)
        self._run()
        self.assertEqual(self._requests(self.alice).channel, "email")

    # === NOT ASKED TWICE === #

    def test_customer_is_asked_at_most_every_interval(self):
        self._invoice(self.alice, 100.0, days_late=10)
        self._run()
        first = self._requests(self.alice)
        first._expire()
        newer = self._invoice(self.alice, 30.0, days_late=5)
        self._run()
        self.assertEqual(self._requests(self.alice), first, "asked less than 7 days ago")
        with freeze_time(fields.Datetime.now() + timedelta(days=6, hours=23)):
            self._run()
        self.assertEqual(self._requests(self.alice), first)
        with freeze_time(fields.Datetime.now() + timedelta(days=7, hours=1)):
            self._run()
        second = self._requests(self.alice) - first
        self.assertEqual(len(second), 1)
        self.assertEqual(second.amount, 130.0)
        self.assertIn(newer, second.invoice_ids)

    def test_open_request_of_the_same_invoices_is_sent_again(self):
        invoices = self._invoice(self.alice, 100.0, days_late=10) | self._invoice(
            self.alice, 20.0, days_late=4
        )
        manual = self.env["payment.request"].create(
            {
                "partner_id": self.alice.id,
                "purpose": "invoices",
                "invoice_ids": [(6, 0, invoices.ids)],
                "amount": 120.0,
            }
        )
        manual.action_open()
        sent_before = manual.message_ids
        self._run()
        self.assertEqual(self._requests(self.alice), manual, "no new request")
        self.assertTrue(manual.auto_sent_date)
        self.assertFalse(manual.is_automatic, "made by a person")
        self.assertEqual(manual.channel, "email")
        new_messages = manual.message_ids - sent_before
        self.assertEqual(
            new_messages.subtype_id, self.env.ref("payment_request.mt_payment_request_sent")
        )

    def test_invoice_of_an_open_request_is_not_asked_again(self):
        covered = self._invoice(self.alice, 100.0, days_late=10)
        other = self._invoice(self.alice, 20.0, days_late=4)
        manual = self.env["payment.request"].create(
            {
                "partner_id": self.alice.id,
                "purpose": "invoice",
                "invoice_ids": [(6, 0, covered.ids)],
                "amount": 100.0,
            }
        )
        manual.action_open()
        self._run()
        new = self._requests(self.alice) - manual
        self.assertEqual(new.invoice_ids, other)
        self.assertEqual(new.amount, 20.0)
        self.assertFalse(manual.auto_sent_date, "not sent again: it has other invoices")

    def test_all_invoices_covered_asks_nothing(self):
        invoice = self._invoice(self.alice, 100.0, days_late=10)
        manual = self.env["payment.request"].create(
            {
                "partner_id": self.alice.id,
                "purpose": "invoices",
                "invoice_ids": [(6, 0, invoice.ids)],
                "amount": 60.0,  # a part of it
            }
        )
        manual.action_open()
        self._run()
        self.assertEqual(self._requests(self.alice), manual)
        self.assertFalse(manual.auto_sent_date)

    # === BATCHES, CURRENCIES, COMPANIES === #

    def test_customers_are_asked_in_batches(self):
        self._invoice(self.alice, 100.0, days_late=10)
        self._invoice(self.alice, 10.0, days_late=9)
        self._invoice(self.bob, 20.0, days_late=10)
        self.assertEqual(self._run(batch_size=1), 1)
        self.assertEqual(len(self._requests(self.alice)), 1, "the whole customer in one batch")
        self.assertFalse(self._requests(self.bob))
        self.assertEqual(self._run(batch_size=1), 0)
        self.assertEqual(len(self._requests(self.bob)), 1)
        self.assertEqual(self._run(batch_size=1), 0)
        self.assertEqual(len(self._requests(self.alice) | self._requests(self.bob)), 2)

    def test_finding_the_customers_to_ask_costs_the_same_for_many(self):
        def jobs_queries(customer_count):
            customers = self.env["res.partner"].create(
                [
                    {"name": f"Customer {i}", "email": f"customer{i}@example.com"}
                    for i in range(customer_count)
                ]
            )
            for customer in customers:
                self._invoice(customer, 10.0, days_late=10)
                self._invoice(customer, 5.0, days_late=5)
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            jobs = self.env["payment.request"]._get_overdue_jobs(self.company)
            queries = self.cr.sql_log_count - before
            return len(jobs), queries

        jobs, few = jobs_queries(1)
        self.assertEqual(jobs, 1)
        jobs, many = jobs_queries(5)
        self.assertEqual(jobs, 6)
        self.assertEqual(many, few, "no query per customer")

    def _term_invoice(self, partner, term, amount, days_ago):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": self.today - timedelta(days=days_ago),
                "invoice_payment_term_id": term.id,
                "invoice_user_id": self.salesman.id,
                "invoice_line_ids": [
                    (0, 0, {"name": "Storage", "price_unit": amount, "tax_ids": [(5, 0, 0)]})
                ],
            }
        )
        invoice.action_post()
        return invoice

    def test_first_installment_late_is_asked_alone(self):
        term = self.env.ref("account.account_payment_term_advance_60days")
        invoice = self._term_invoice(self.alice, term, 1000.0, days_ago=40)
        # The last installment is due in 20 days: the invoice's due date is not past.
        self.assertGreater(invoice.invoice_date_due, self.today)
        self._run()
        request = self._requests(self.alice)
        self.assertEqual(len(request), 1)
        self.assertEqual(request.invoice_ids, invoice)
        self.assertEqual(request.amount, 300.0)
        [(_invoice, amount, label)] = request._get_invoice_dues()
        self.assertEqual(amount, 300.0)
        self.assertIn(f"{invoice.name}-1", label)

    def test_invoice_with_nothing_overdue_is_not_asked(self):
        term = self.env.ref("account.account_payment_term_advance_60days")
        self._term_invoice(self.alice, term, 1000.0, days_ago=2)  # 300 late by 2 days only
        self._term_invoice(self.bob, term, 1000.0, days_ago=0)
        self._run()
        self.assertFalse(self._requests(self.alice) | self._requests(self.bob))

    def test_paid_installment_is_not_asked_again(self):
        term = self.env.ref("account.account_payment_term_advance_60days")
        invoice = self._term_invoice(self.alice, term, 1000.0, days_ago=70)
        payment = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"amount": 300.0, "payment_difference_handling": "open"})
        )
        payment._create_payments()
        self._run()
        request = self._requests(self.alice)
        self.assertEqual(request.amount, 700.0, "the second installment, 10 days late")

    def test_finding_installments_costs_the_same_for_many(self):
        term = self.env.ref("account.account_payment_term_advance_60days")

        def jobs_queries(customer_count):
            customers = self.env["res.partner"].create(
                [
                    {"name": f"Debtor {i}", "email": f"debtor{i}@example.com"}
                    for i in range(customer_count)
                ]
            )
            for customer in customers:
                self._term_invoice(customer, term, 100.0, days_ago=40)
                self._invoice(customer, 5.0, days_late=5)
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            jobs = self.env["payment.request"]._get_overdue_jobs(self.company)
            self.assertTrue(all(job[2][0][1] for job in jobs))
            values = [
                self.env["payment.request"]._prepare_overdue_request_values(
                    self.company, recipient, currency, invoices
                )
                for _partner, recipient, currency_jobs in jobs
                for currency, invoices, _request in currency_jobs
            ]
            queries = self.cr.sql_log_count - before
            return values, queries

        values, few = jobs_queries(1)
        self.assertEqual([vals["amount"] for vals in values], [35.0])
        values, many = jobs_queries(5)
        self.assertEqual(len(values), 6)
        self.assertEqual(many, few, "no query per customer")

    def test_one_request_per_currency(self):
        euro = self.env.ref("base.EUR")
        euro.active = True
        self.env["res.currency.rate"].create(
            {"currency_id": euro.id, "rate": 0.9, "name": self.today - timedelta(days=60)}
        )
        usd_invoice = self._invoice(self.alice, 100.0, days_late=10)
        eur_invoice = self._invoice(self.alice, 200.0, days_late=10, currency=euro)
        self._run()
        requests = self._requests(self.alice)
        self.assertEqual(len(requests), 2)
        eur_request = requests.filtered(lambda request: request.currency_id == euro)
        self.assertRecordValues(eur_request, [{"amount": 200.0}])
        self.assertEqual(eur_request.invoice_ids, eur_invoice)
        self.assertEqual((requests - eur_request).invoice_ids, usd_invoice)
        self.assertTrue(all(requests.mapped("auto_sent_date")))

    def test_each_company_asks_for_its_own_invoices(self):
        company_2 = self.company_2
        self.env["account.chart.template"].try_loading(
            "generic_coa", company=company_2, install_demo=False
        )
        self.env.user.company_ids |= company_2
        invoice_1 = self._invoice(self.alice, 100.0, days_late=10)
        invoice_2 = self._invoice(self.alice, 300.0, days_late=10, company=company_2)
        self._run()
        self.assertEqual(self._requests(self.alice).invoice_ids, invoice_1, "company 2 is off")
        company_2.payment_request_overdue_auto = True
        self._run()
        request_2 = self._requests(self.alice).filtered(lambda r: r.company_id == company_2)
        self.assertRecordValues(
            request_2, [{"amount": 300.0, "currency_id": company_2.currency_id.id}]
        )
        self.assertEqual(request_2.invoice_ids, invoice_2)

    def test_settings_are_checked(self):
        with self.assertRaises(ValidationError):
            self.company.payment_request_overdue_interval = 0
        with self.assertRaises(ValidationError):
            self.company.payment_request_overdue_days = -1
        cron = self.env.ref("payment_request.ir_cron_payment_request_overdue")
        self.assertEqual(cron.code, "model._cron_send_overdue_requests()")
