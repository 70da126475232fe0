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
