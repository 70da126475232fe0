# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import Command
from odoo.tests import Form
from odoo.tests import HttpCase
from odoo.tests import JsonRpcException
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import MockSMS

from .common import CustomerCardsCommon


class CardRightsCommon(CustomerCardsCommon, MockEmail, MockSMS):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = cls._create_demo_token()
        # The salesman's own order, with no card yet, and an auto-pay order whose invoice failed.
        cls.order = cls._create_order(user=cls.salesman)
        cls.autopay_order = cls._create_order(cls.token, autopay=True, user=cls.salesman)
        cls.invoice = cls.autopay_order._create_invoices()
        cls.invoice.action_post()
        cls.invoice.sudo().payment_request_autopay_state = False
        cls.env["ir.cron.trigger"].search([]).unlink()
        cls.demo_line = cls._demo_payment_method_line()

    @classmethod
    def _demo_payment_method_line(cls):
        journal = cls.demo_provider.journal_id or cls.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", cls.company.id)], limit=1
        )
        line = journal.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == cls.demo_provider
        )
        if not line:
            method = cls.env["account.payment.method"].search([("code", "=", "demo")], limit=1)
            line = cls.env["account.payment.method.line"].create(
                {
                    "payment_method_id": method.id,
                    "payment_provider_id": cls.demo_provider.id,
                    "journal_id": journal.id,
                }
            )
        return line[:1]

    def _charges(self):
        return self.env["payment.transaction"].sudo().search([("token_id", "=", self.token.id)])


@tagged("post_install", "-at_install")
class TestCardRightsRpc(CardRightsCommon, HttpCase):
    """No RPC path lets a user without the Customer cards right read or charge a customer's card.

    Every public method of the addon that works in sudo mode after a check, called as the web
    client does, as each kind of user.
    """

    def _call(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def _assert_refused(self, model, method, args, kwargs=None):
        with self.subTest(model=model, method=method), self.assertRaises(JsonRpcException):
            self._call(model, method, args, kwargs)

    def _attempts(self):
        token, order, invoice = self.token, self.order, self.invoice
        context = {"active_model": "account.move", "active_ids": invoice.ids}
        return [
            ("payment.token", "read", [token.ids, ["payment_details", "partner_id"]]),
            ("payment.token", "get_linked_records_info", [token.ids]),
            ("payment.token", "action_payment_request_delete", [token.ids]),
            ("payment.token", "write", [token.ids, {"active": False}]),
            ("sale.order", "read", [order.ids, ["payment_request_token_id"]]),
            ("sale.order", "read", [self.autopay_order.ids, ["payment_request_token_id"]]),
            (
                "sale.order",
                "write",
                [
                    order.ids,
                    {"payment_request_use_card": True, "payment_request_token_id": token.id},
                ],
            ),
            ("sale.order", "action_enable_autopay", [self.autopay_order.ids]),
            ("account.move", "action_payment_request_charge_card", [invoice.ids]),
            ("res.partner", "action_payment_request_request_card", [self.customer.ids]),
            ("res.partner", "action_payment_request_add_card", [self.customer.ids]),
            ("payment.card.request", "search_read", [[]]),
            (
                "account.payment",
                "create",
                [
                    {
                        "payment_type": "inbound",
                        "partner_type": "customer",
                        "partner_id": self.customer.id,
                        "amount": 10.0,
                        "journal_id": self.demo_line.journal_id.id,
                        "payment_method_line_id": self.demo_line.id,
                        "payment_token_id": token.id,
                    }
                ],
            ),
            (
                "account.payment.register",
                "create",
                [
                    {
                        "journal_id": self.demo_line.journal_id.id,
                        "payment_method_line_id": self.demo_line.id,
                        "payment_token_id": token.id,
                    }
                ],
                {"context": context},
            ),
        ]

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_rule", "odoo.models")
    def test_users_without_the_cards_right_neither_read_nor_charge_cards(self):
        for user in (self.salesman, self.biller, self.manager, self.employee, self.portal_user):
            self.authenticate(user.login, user.login)
            with self.subTest(user=user.login):
                found = self._call("payment.token", "search_read", [[], ["id"]])
                self.assertNotIn(self.token.id, [token["id"] for token in found])
                for attempt in self._attempts():
                    self._assert_refused(*attempt)
        self.assertFalse(self._charges())
        self.assertFalse(self.order.payment_request_token_id)
        self.assertEqual(self.invoice.payment_state, "not_paid")
        self.assertFalse(self.invoice.payment_request_autopay_state)
        self.assertFalse(
            self.env["account.payment"].search([("partner_id", "=", self.customer.id)])
        )

    @mute_logger("odoo.http")
    def test_card_user_reads_cards_and_their_orders(self):
        self.authenticate(self.card_user.login, self.card_user.login)
        info = self._call("payment.token", "get_linked_records_info", [self.token.ids])
        self.assertEqual([record["id"] for record in info], self.autopay_order.ids)
        read = self._call(
            "sale.order", "read", [self.autopay_order.ids, ["payment_request_token_id"]]
        )
        self.assertEqual(read[0]["payment_request_token_id"][0], self.token.id)

    @mute_logger("odoo.http")
    def test_portal_user_reads_the_linked_records_of_their_own_card(self):
        own = self._create_demo_token(partner=self.portal_user.partner_id)
        self.authenticate(self.portal_user.login, self.portal_user.login)
        self.assertEqual(self._call("payment.token", "get_linked_records_info", [own.ids]), [])


@tagged("post_install", "-at_install")
class TestCardRightsInOdooScreens(CardRightsCommon):
    """The rule that hides customers' cards breaks none of Odoo's own screens."""

    def _register_payment(self, user, method_line=None):
        wizard_form = Form(
            self.env["account.payment.register"]
            .with_user(user)
            .with_context(active_model="account.move", active_ids=self.invoice.ids)
        )
        if method_line:
            wizard_form.journal_id = method_line.journal_id
            wizard_form.payment_method_line_id = method_line
        return wizard_form

    def test_billing_user_registers_a_payment_of_a_customer_with_a_card(self):
        wizard_form = self._register_payment(self.biller)
        wizard = wizard_form.save()
        with self.mock_mail_gateway():
            wizard.action_create_payments()
        self.assertIn(self.invoice.payment_state, ("paid", "in_payment"))
        self.assertFalse(self._charges())

    def test_billing_user_is_offered_no_customer_card(self):
        wizard_form = self._register_payment(self.biller, self.demo_line)
        self.assertFalse(wizard_form.payment_token_id)
        wizard = wizard_form.save()
        self.assertFalse(wizard.sudo().suitable_payment_token_ids)
        with self.mock_mail_gateway():
            wizard.action_create_payments()
        self.assertFalse(self._charges(), "the card is not charged")
        payment = self.env["account.payment"].search([("partner_id", "=", self.customer.id)])
        self.assertFalse(payment.payment_token_id)

    def test_card_user_is_offered_the_customer_card(self):
        wizard_form = self._register_payment(self.card_user, self.demo_line)
        self.assertEqual(wizard_form.payment_token_id, self.token)

    def test_billing_user_opens_a_payment_form_of_a_customer_with_a_card(self):
        payment_form = Form(
            self.env["account.payment"]
            .with_user(self.biller)
            .with_context(default_payment_type="inbound", default_partner_type="customer")
        )
        payment_form.partner_id = self.customer
        payment_form.amount = 10.0
        payment_form.journal_id = self.demo_line.journal_id
        payment_form.payment_method_line_id = self.demo_line
        self.assertFalse(payment_form.payment_token_id)
        payment = payment_form.save()
        payment.action_post()
        self.assertFalse(self._charges())

    def test_salesman_confirms_an_order_of_a_customer_with_a_card(self):
        order_form = Form(self.env["sale.order"].with_user(self.salesman))
        order_form.partner_id = self.customer
        with order_form.order_line.new() as line:
            line.product_id = self.product
        order = order_form.save()
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_salesman_edits_and_confirms_an_order_paid_by_card(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "user_id": self.salesman.id,
                "order_line": [Command.create({"product_id": self.product.id})],
                "payment_request_use_card": True,
                "payment_request_token_id": self.token.id,
            }
        )
        order_form = Form(order.with_user(self.salesman))
        with order_form.order_line.edit(0) as line:
            line.product_uom_qty = 2
        order_form.save()
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.payment_request_token_id, self.token)
