# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tests import TransactionCase

from odoo.addons.mail.tests.common import mail_new_test_user


class PaymentRequestCommon(TransactionCase):
    """Companies, users of each kind and customers shared by the payment request tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.company = cls.env.company
        cls.company_2 = cls.env["res.company"].create(
            {"name": "Second Company", "currency_id": cls.env.ref("base.CAD").id}
        )
        both = [(6, 0, (cls.company | cls.company_2).ids)]
        cls.salesman = mail_new_test_user(
            cls.env,
            login="pr_salesman",
            name="Sally Salesman",
            groups="sales_team.group_sale_salesman,base.group_partner_manager",
            company_id=cls.company.id,
            company_ids=both,
        )
        cls.salesman_2 = mail_new_test_user(
            cls.env,
            login="pr_salesman_2",
            name="Sam Salesman",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        cls.biller = mail_new_test_user(
            cls.env,
            login="pr_biller",
            name="Bill Biller",
            groups="account.group_account_invoice,base.group_partner_manager",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        cls.manager = mail_new_test_user(
            cls.env,
            login="pr_manager",
            name="Mona Manager",
            groups="payment_request.group_payment_manager",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        cls.employee = mail_new_test_user(
            cls.env,
            login="pr_employee",
            name="Emma Employee",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        cls.portal_user = mail_new_test_user(
            cls.env, login="pr_portal", name="Paul Portal", groups="base.group_portal"
        )
        cls.public_user = cls.env.ref("base.public_user")
        cls.customer = cls.env["res.partner"].create(
            {"name": "Claire Customer", "email": "claire@example.com"}
        )
        cls.customer_contact = cls.env["res.partner"].create(
            {"name": "Colin Contact", "parent_id": cls.customer.id, "type": "invoice"}
        )
        cls.customer_2 = cls.env["res.partner"].create({"name": "Dan Debtor"})

    @classmethod
    def _create_request(cls, user=None, **values):
        """Create a request as `user` (the salesman by default)."""
        vals = {"partner_id": cls.customer.id, "amount": 100.0, "purpose": "free"}
        vals.update(values)
        return cls.env["payment.request"].with_user(user or cls.salesman).create(vals)
