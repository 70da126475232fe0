# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import MockSMS


@tagged("post_install", "-at_install")
class TestPaymentRequestTours(MockEmail, MockSMS):
    def test_send_deposit_request_from_order(self):
        admin = self.env.ref("base.user_admin")
        self.env.company.country_id = self.env.ref("base.us")
        customer = self.env["res.partner"].create(
            {
                "name": "Tour Customer",
                "email": "tour@example.com",
                "mobile": "+1 415-555-2671",
                "country_id": self.env.ref("base.us").id,
            }
        )
        product = self.env["product.product"].create({"name": "Kayak tour", "list_price": 400.0})
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "user_id": admin.id,
                "require_payment": True,
                "prepayment_percent": 0.25,
                "order_line": [(0, 0, {"product_id": product.id})],
            }
        )
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.start_tour(
                f"/odoo/sales/{order.id}", "payment_request_send_from_order", login="admin"
            )
        request = self.env["payment.request"].search([("sale_order_id", "=", order.id)])
        self.assertEqual(len(request), 1)
        self.assertRecordValues(
            request,
            [
                {
                    "state": "open",
                    "purpose": "deposit",
                    "channel": "both",
                    "user_id": admin.id,
                    "amount": order._get_prepayment_required_amount(),
                }
            ],
        )
        self.assertEqual(self._new_sms.number, "+14155552671")
        self.assertTrue(self._new_mails.filtered(lambda mail: mail.res_id == request.id))
