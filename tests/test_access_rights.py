# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import PaymentRequestCommon


@tagged("post_install", "-at_install")
class TestAccessRights(PaymentRequestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.own_request = cls._create_request(user=cls.salesman)
        cls.other_request = cls._create_request(user=cls.salesman_2)
        cls.biller_request = cls._create_request(user=cls.biller)
        cls.company_2_request = cls.env["payment.request"].create(
            {
                "partner_id": cls.customer.id,
                "amount": 10.0,
                "company_id": cls.company_2.id,
                "user_id": cls.salesman.id,
            }
        )

    def _search(self, user, companies=None):
        """Search as `user` with the companies selected in the switcher (their main one)."""
        companies = companies or user.company_id
        env = self.env(user=user, context=dict(self.env.context, allowed_company_ids=companies.ids))
        return env["payment.request"].search([])

    # === INTERNAL USERS === #

    def test_salesman_and_biller_read_all_of_their_company(self):
        mine = self.own_request | self.other_request | self.biller_request
        for user in (self.salesman, self.salesman_2, self.biller):
            with self.subTest(user=user.login):
                found = self._search(user)
                self.assertLessEqual(mine, found)
                self.assertNotIn(self.company_2_request, found)
                self.own_request.with_user(user).read(["name", "amount", "state"])

    def test_users_create_their_own_requests(self):
        for user in (self.salesman, self.biller, self.manager):
            with self.subTest(user=user.login):
                request = self._create_request(user=user)
                self.assertEqual(request.user_id, user)

    def test_users_create_no_request_for_someone_else(self):
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            self._create_request(user=self.salesman, user_id=self.salesman_2.id)

    def test_users_edit_only_their_own(self):
        self.own_request.with_user(self.salesman).write({"amount": 55.0})
        self.assertEqual(self.own_request.amount, 55.0)
        for user, request in (
            (self.salesman, self.other_request),
            (self.biller, self.own_request),
            (self.salesman_2, self.biller_request),
        ):
            with (
                self.subTest(user=user.login),
                self.assertRaises(AccessError),
                mute_logger("odoo.addons.base.models.ir_rule"),
            ):
                request.with_user(user).write({"amount": 1.0})

    def test_users_act_only_on_their_own(self):
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            self.other_request.with_user(self.salesman).action_open()
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            self.other_request.with_user(self.salesman).action_cancel()
        self.assertEqual(self.other_request.state, "draft")

    def test_manager_reads_and_edits_all(self):
        found = self._search(self.manager)
        self.assertLessEqual(self.own_request | self.other_request | self.biller_request, found)
        for request in self.own_request | self.other_request | self.biller_request:
            request.with_user(self.manager).write({"description": "checked"})
        self.other_request.with_user(self.manager).action_open()
        self.assertEqual(self.other_request.state, "open")

    def test_employee_without_sales_or_invoicing_has_no_access(self):
        env = self.env(user=self.employee)
        with self.assertRaises(AccessError):
            env["payment.request"].search([])
        with self.assertRaises(AccessError):
            self.own_request.with_user(self.employee).read(["name"])
        with self.assertRaises(AccessError):
            env["payment.request"].create({"partner_id": self.customer.id, "amount": 5.0})

    def test_salesman_cannot_read_transactions(self):
        # Transactions are accounting data: the field is restricted as sale restricts it.
        self.assertNotIn(
            "transaction_ids",
            self.env["payment.request"].with_user(self.salesman).fields_get(),
        )
        self.assertIn(
            "transaction_ids",
            self.env["payment.request"].with_user(self.biller).fields_get(),
        )

    # === MULTI-COMPANY === #

    def test_record_rules_across_companies(self):
        self.assertNotIn(self.company_2_request, self._search(self.salesman))
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            self.company_2_request.with_user(self.salesman).with_company(self.company).read(
                ["name"]
            )
        both = self.company | self.company_2
        self.assertIn(self.company_2_request, self._search(self.salesman, companies=both))
        self.assertNotIn(self.company_2_request, self._search(self.manager))
        self.assertNotIn(self.company_2_request, self._search(self.salesman_2))

    def test_partner_of_other_company_refused(self):
        partner_2 = self.env["res.partner"].create(
            {"name": "Only in company 2", "company_id": self.company_2.id}
        )
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            self.env["payment.request"].create({"partner_id": partner_2.id, "amount": 5.0})

    # === PORTAL AND PUBLIC === #

    def test_portal_and_public_have_no_access(self):
        for user in (self.portal_user, self.public_user):
            env = self.env(user=user)
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    env["payment.request"].search([])
                with self.assertRaises(AccessError):
                    self.own_request.with_user(user).read(["name", "amount"])
                with self.assertRaises(AccessError):
                    env["payment.request"].create({"partner_id": self.customer.id, "amount": 1.0})
                with self.assertRaises(AccessError):
                    self.own_request.with_user(user).write({"amount": 1.0})
                with self.assertRaises(AccessError):
                    self.own_request.with_user(user).action_cancel()
