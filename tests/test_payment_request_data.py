# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import psycopg2

from odoo import SUPERUSER_ID
from odoo import api
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase
from odoo.tests import tagged
from odoo.tools import convert_file
from odoo.tools import mute_logger

from .common import PaymentRequestCommon

TEMPLATES = (
    "payment_request.mail_template_payment_request",
    "payment_request.mail_template_payment_request_receipt",
    "payment_request.mail_template_payment_card_request",
    "payment_request.sms_template_payment_request",
    "payment_request.sms_template_payment_request_quote",
    "payment_request.sms_template_payment_card_request",
)


@tagged("post_install", "-at_install")
class TestTemplatesAreUserData(TransactionCase):
    def _xmlid(self, xmlid):
        module, name = xmlid.split(".")
        return self.env["ir.model.data"].search([("module", "=", module), ("name", "=", name)])

    def test_templates_are_noupdate(self):
        for xmlid in TEMPLATES:
            with self.subTest(xmlid=xmlid):
                self.assertTrue(self._xmlid(xmlid).noupdate)

    def test_update_keeps_what_the_company_wrote(self):
        mail = self.env.ref("payment_request.mail_template_payment_request")
        sms = self.env.ref("payment_request.sms_template_payment_request")
        mail.subject = "Our own subject {{ object.name }}"
        sms.body = "Our own SMS {{ object.name }}"
        for filename in ("data/mail_template_data.xml", "data/sms_template_data.xml"):
            convert_file(self.env, "payment_request", filename, {}, mode="update")
        self.env.invalidate_all()
        self.assertEqual(mail.subject, "Our own subject {{ object.name }}")
        self.assertEqual(sms.body, "Our own SMS {{ object.name }}")

    def test_templates_installed_updatable_are_protected_at_update(self):
        data = self._xmlid("payment_request.mail_template_payment_request")
        data.noupdate = False
        convert_file(
            self.env, "payment_request", "data/payment_request_data.xml", {}, mode="update"
        )
        self.assertTrue(data.noupdate)


@tagged("post_install", "-at_install")
class TestRequestNumbering(PaymentRequestCommon):
    def test_company_gets_its_sequence_when_created(self):
        company = self.env["res.company"].create({"name": "Brand New Company"})
        sequence = company.payment_request_sequence_id
        self.assertTrue(sequence)
        self.assertEqual((sequence.code, sequence.company_id), ("payment.request", company))
        count = self.env["ir.sequence"].search_count([("code", "=", "payment.request")])
        requests = self.env["payment.request"].create(
            [
                {"partner_id": self.customer.id, "amount": 10.0, "company_id": company.id}
                for __ in range(2)
            ]
        )
        self.assertEqual(
            self.env["ir.sequence"].search_count([("code", "=", "payment.request")]), count
        )
        self.assertEqual(len(set(requests.mapped("name"))), 2)

    def test_main_company_numbers_with_the_data_sequence(self):
        sequence = self.env.ref("payment_request.seq_payment_request")
        self.assertEqual(self.env.ref("base.main_company").payment_request_sequence_id, sequence)
        expected = sequence.get_next_char(sequence.number_next_actual)
        request = self.env["payment.request"].create(
            {"partner_id": self.customer.id, "amount": 10.0, "company_id": sequence.company_id.id}
        )
        self.assertEqual(request.name, expected)

    def test_update_adopts_a_sequence_made_before_it_was_data(self):
        """A database numbered before the data record: its sequence becomes the record."""
        sequence = self.env.ref("payment_request.seq_payment_request")
        self.env["ir.model.data"].search(
            [("module", "=", "payment_request"), ("name", "=", "seq_payment_request")]
        ).unlink()
        count = self.env["ir.sequence"].search_count([("code", "=", "payment.request")])
        convert_file(
            self.env, "payment_request", "data/payment_request_data.xml", {}, mode="update"
        )
        self.assertEqual(self.env.ref("payment_request.seq_payment_request"), sequence)
        self.assertEqual(
            self.env["ir.sequence"].search_count([("code", "=", "payment.request")]), count
        )

    def test_update_adopts_a_sequence_made_before_the_company_field(self):
        """Older versions made the main company's sequence on first use and did not link it to
        the company: the update adopts it too, instead of failing on the unique index."""
        sequence = self.env.ref("payment_request.seq_payment_request")
        self.env["ir.model.data"].search(
            [("module", "=", "payment_request"), ("name", "=", "seq_payment_request")]
        ).unlink()
        self.env.ref("base.main_company").payment_request_sequence_id = False
        count = self.env["ir.sequence"].search_count([("code", "=", "payment.request")])
        convert_file(
            self.env, "payment_request", "data/payment_request_data.xml", {}, mode="update"
        )
        self.assertEqual(self.env.ref("payment_request.seq_payment_request"), sequence)
        self.assertEqual(self.env.ref("base.main_company").payment_request_sequence_id, sequence)
        self.assertEqual(
            self.env["ir.sequence"].search_count([("code", "=", "payment.request")]), count
        )

    def test_update_keeps_a_changed_prefix(self):
        sequence = self.env.ref("payment_request.seq_payment_request")
        sequence.prefix = "PAY-%(year)s-"
        convert_file(
            self.env, "payment_request", "data/payment_request_data.xml", {}, mode="update"
        )
        self.env.invalidate_all()
        self.assertEqual(sequence.prefix, "PAY-%(year)s-")

    def test_existing_companies_have_theirs(self):
        companies = self.env["res.company"].with_context(active_test=False).search([])
        self.assertTrue(all(companies.mapped("payment_request_sequence_id")))

    @mute_logger("odoo.sql_db")
    def test_database_refuses_a_second_sequence(self):
        with self.assertRaises(psycopg2.errors.UniqueViolation):
            self.env["ir.sequence"].create(
                {"name": "Second", "code": "payment.request", "company_id": self.company.id}
            )
            self.env.flush_all()

    def test_sequence_made_on_first_use_is_adopted(self):
        company = self.company_2
        old = company.payment_request_sequence_id
        company.sudo().payment_request_sequence_id = False
        self.assertEqual(company._payment_request_ensure_sequence(), old)
        self.assertEqual(company.payment_request_sequence_id, old)


@tagged("post_install", "-at_install")
class TestRequestNumberingConcurrency(TransactionCase):
    """Two transactions that both find no sequence: the second one is retried, not doubled.

    Runs on committed rows with cursors of its own (the main company, whose sequence is put
    back afterwards).
    """

    def _env(self, cr):
        cr.execute("SET LOCAL lock_timeout = '10s'")
        return api.Environment(cr, SUPERUSER_ID, {})

    def test_concurrent_first_use(self):
        company_id = self.env.ref("base.main_company").id
        db = db_connect(self.env.cr.dbname)
        with db.cursor() as cr:
            original = self._env(cr)["res.company"].browse(company_id).payment_request_sequence_id
            original_id = original.id
            original.company_id.payment_request_sequence_id = False

        def restore():
            with db.cursor() as cr:
                company = self._env(cr)["res.company"].browse(company_id)
                made = company.payment_request_sequence_id
                company.payment_request_sequence_id = original_id
                if made.id != original_id:
                    made.unlink()

        self.addCleanup(restore)
        with db.cursor() as cr_a, db.cursor() as cr_b:
            env_a, env_b = self._env(cr_a), self._env(cr_b)
            # Both transactions start before either made the sequence.
            self.assertFalse(env_b["res.company"].browse(company_id).payment_request_sequence_id)
            made = env_a["res.company"].browse(company_id)._payment_request_ensure_sequence()
            cr_a.commit()
            with self.assertRaises(psycopg2.errors.SerializationFailure):
                env_b["res.company"].browse(company_id)._payment_request_ensure_sequence()
            # What Odoo does on a serialization failure: roll back and run again.
            cr_b.rollback()
            env_b = self._env(cr_b)
            again = env_b["res.company"].browse(company_id)._payment_request_ensure_sequence()
            self.assertEqual(again.id, made.id)
            self.assertEqual(
                env_b["ir.sequence"].search_count(
                    [("code", "=", "payment.request"), ("company_id", "=", company_id)]
                ),
                1,
            )


@tagged("post_install", "-at_install")
class TestWalletPerCompany(PaymentRequestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["account.chart.template"].try_loading(
            "generic_coa", company=cls.company_2, install_demo=False
        )

    def _credit(self, company, amount):
        """Post a payment received from the customer in `company`, applied to nothing."""
        env = self.env(context=dict(self.env.context, allowed_company_ids=company.ids))
        receivable = self.customer.with_company(company).property_account_receivable_id
        other = env["account.account"].search(
            [("company_ids", "in", company.ids), ("account_type", "=", "asset_current")], limit=1
        )
        journal = env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "general")], limit=1
        )
        move = env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": journal.id,
                "company_id": company.id,
                "line_ids": [
                    (0, 0, {"account_id": other.id, "debit": amount}),
                    (
                        0,
                        0,
                        {
                            "account_id": receivable.id,
                            "partner_id": self.customer.id,
                            "credit": amount,
                        },
                    ),
                ],
            }
        )
        move.action_post()

    def test_balance_of_the_current_company_in_its_currency(self):
        self._credit(self.company, 60.0)
        self._credit(self.company_2, 40.0)
        for company, amount in ((self.company, 60.0), (self.company_2, 40.0)):
            with self.subTest(company=company.name):
                partner = self.customer.with_context(
                    allowed_company_ids=(company | self.company | self.company_2).ids
                )
                self.assertEqual(partner.payment_request_wallet_balance, amount)
                self.assertEqual(partner.payment_request_wallet_currency_id, company.currency_id)
