# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tests import HttpCase
from odoo.tests import JsonRpcException
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import PaymentRequestCommon


@tagged("post_install", "-at_install")
class TestPaymentRequestRpc(PaymentRequestCommon, HttpCase):
    """The rights hold when the methods are called over RPC, as the web client does."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.request = cls._create_request(user=cls.salesman)
        cls.request.sudo().write({"state": "paid", "is_read": False})

    def _call(self, method, args=None, kwargs=None):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/payment.request/{method}",
            {
                "model": "payment.request",
                "method": method,
                "args": args or [],
                "kwargs": kwargs or {},
            },
        )

    @mute_logger("odoo.http")
    def test_consolidate_over_rpc_needs_the_group(self):
        self.authenticate(self.salesman.login, self.salesman.login)
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.AccessError"):
            self._call("action_consolidate", [self.request.ids])
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.AccessError"):
            self._call("write", [self.request.ids, {"consolidated": True}])
        self.assertFalse(self.request.consolidated)

        self.authenticate(self.manager.login, self.manager.login)
        self._call("action_consolidate", [self.request.ids])
        self.assertTrue(self.request.consolidated)
        self.assertEqual(self.request.consolidated_by_id, self.manager)

    @mute_logger("odoo.http")
    def test_mark_read_over_rpc_only_by_requester(self):
        self.authenticate(self.manager.login, self.manager.login)
        with self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.UserError"):
            self._call("action_mark_read", [self.request.ids])
        self.assertFalse(self.request.is_read)
        self.authenticate(self.salesman.login, self.salesman.login)
        self._call("action_mark_read", [self.request.ids])
        self.assertTrue(self.request.is_read)

    @mute_logger("odoo.http")
    def test_portal_user_has_no_rpc_access(self):
        self.authenticate(self.portal_user.login, self.portal_user.login)
        for method, args in (
            ("search_read", [[]]),
            ("read", [self.request.ids, ["name"]]),
            ("create", [{"partner_id": self.customer.id, "amount": 1.0}]),
        ):
            with self.subTest(method=method), self.assertRaises(JsonRpcException):
                self._call(method, args)

    @mute_logger("odoo.http")
    def test_create_over_rpc_meets_the_rules_of_the_document(self):
        product = self.env["product.product"].create({"name": "Kayak", "list_price": 100.0})
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "user_id": self.salesman.id,
                "order_line": [(0, 0, {"product_id": product.id, "tax_id": [(5, 0, 0)]})],
            }
        )
        self.authenticate(self.salesman.login, self.salesman.login)
        values = {"partner_id": self.customer.id, "purpose": "order", "sale_order_id": order.id}
        for refused in (
            {**values, "amount": 100.01},  # more than what is due
            {**values, "purpose": "invoices", "amount": 50.0},  # not offered by an order
            {**values, "sale_order_id": False, "amount": 50.0},  # an order's purpose, no order
        ):
            with (
                self.subTest(values=refused),
                self.assertRaisesRegex(JsonRpcException, "odoo.exceptions.UserError"),
            ):
                self._call("create", [refused])
        self.assertFalse(order.payment_request_ids)
        self._call("create", [{**values, "amount": 100.0}])
        self.assertEqual(order.payment_request_ids.amount, 100.0)
