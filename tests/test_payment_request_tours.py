# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).


from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.mail.tests.common import mail_new_test_user
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


@tagged("post_install", "-at_install")
class TestCustomerCardsTour(MockEmail, MockSMS):
    def test_add_a_card_enable_autopay_and_post_the_invoice(self):
        self.env.ref("payment.payment_provider_demo").write(
            {"state": "test", "is_published": True, "allow_tokenization": True}
        )
        customer = self.env["res.partner"].create(
            {"name": "Storage Customer", "email": "storage@example.com"}
        )
        self.start_tour(
            f"/odoo/action-base.action_partner_form/{customer.id}",
            "payment_request_cards_add_card",
            login="admin",
        )
        card_request = self.env["payment.card.request"].search([("partner_id", "=", customer.id)])
        self.assertEqual(len(card_request), 1)

        # The customer, present, types their card in the provider's form opened by staff.
        self.start_tour(
            card_request.get_portal_url(), "payment_request_cards_save_card", login="admin"
        )
        token = card_request.token_id
        self.assertEqual(card_request.state, "done")
        self.assertEqual(token.partner_id, customer)

        product = self.env["product.product"].create(
            {"name": "Storage unit", "list_price": 90.0, "invoice_policy": "order"}
        )
        order = self.env["sale.order"].create(
            {"partner_id": customer.id, "order_line": [(0, 0, {"product_id": product.id})]}
        )
        order.action_confirm()
        self.start_tour(f"/odoo/sales/{order.id}", "payment_request_cards_autopay", login="admin")
        self.assertEqual(order.payment_request_token_id, token)
        self.assertEqual(order.payment_request_autopay_state, "on")

        invoice = order._create_invoices()
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.start_tour(
                f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}",
                "payment_request_cards_post_invoice",
                login="admin",
            )
            self.assertFalse(invoice.transaction_ids, "posting charges nothing by itself")
            self.env["account.move"]._cron_payment_request_autopay()
            self.start_tour(
                f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}",
                "payment_request_cards_invoice_paid",
                login="admin",
            )
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.transaction_ids.token_id, token)


@tagged("post_install", "-at_install")
class TestOpportunityDepositTour(MockEmail, MockSMS):
    def test_salesperson_requests_a_deposit_from_the_pipeline(self):
        dealer = mail_new_test_user(
            self.env,
            login="tour_dealer",
            name="Dave Dealer",
            groups="sales_team.group_sale_salesman",
        )
        self.env.company.payment_request_deposit_percent = 0.1
        customer = self.env["res.partner"].create(
            {"name": "Tour Buyer", "email": "buyer@example.com"}
        )
        lead = self.env["crm.lead"].create(
            {
                "name": "Tour hatchback",
                "type": "opportunity",
                "partner_id": customer.id,
                "user_id": dealer.id,
                "expected_revenue": 12000.0,
            }
        )
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.start_tour("/odoo/crm", "payment_request_opportunity_deposit", login="tour_dealer")
        request = self.env["payment.request"].search([("opportunity_id", "=", lead.id)])
        self.assertRecordValues(
            request,
            [
                {
                    "state": "open",
                    "purpose": "deposit",
                    "amount": 1500.0,
                    "partner_id": customer.id,
                    "user_id": dealer.id,
                }
            ],
        )
        self.assertTrue(self._new_mails.filtered(lambda mail: mail.res_id == request.id))
        self.assertTrue(lead.message_ids.filtered(lambda m: request.name in (m.body or "")))
