# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from contextlib import contextmanager

from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import Form
from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import MockSMS

from .common import PaymentRequestCommon


class RequestSendingCommon(PaymentRequestCommon, MockEmail, MockSMS):
    """Documents to request payments for, with the mail and SMS gateways mocked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.france = cls.env.ref("base.fr")
        cls.canada = cls.env.ref("base.ca")
        cls.usa = cls.env.ref("base.us")
        cls.company.country_id = cls.usa
        cls.customer.write({"mobile": "(415) 555-2671", "country_id": cls.usa.id})
        cls.customer_contact.write({"email": "colin@example.com", "mobile": "+1 202 555 0143"})
        cls.product = cls.env["product.product"].create(
            {
                "name": "Campsite night",
                "list_price": 100.0,
                "invoice_policy": "order",
                "taxes_id": [(5, 0, 0)],
            }
        )
        cls.order = cls._create_order(cls.customer, quantity=5)  # 500.00

    @classmethod
    def _create_order(cls, partner, quantity=1, **values):
        return cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "user_id": cls.salesman.id,
                "order_line": [(0, 0, {"product_id": cls.product.id, "product_uom_qty": quantity})],
                **values,
            }
        )

    @classmethod
    def _create_invoice(cls, partner, amount, post=True):
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Storage",
                            "price_unit": amount,
                            "quantity": 1,
                            "tax_ids": [(5, 0, 0)],
                        },
                    )
                ],
            }
        )
        if post:
            invoice.action_post()
        return invoice

    def _wizard(self, records, user=None, **values):
        """Open the wizard on `records` as `user` (the salesman) and fill it like a user."""
        context = {
            "active_model": records._name,
            "active_ids": records.ids,
            "active_id": records[:1].id,
        }
        form = Form(
            self.env["payment.request.wizard"]
            .with_user(user or self.salesman)
            .with_context(**context)
        )
        for name, value in values.items():
            setattr(form, name, value)
        return form

    def _request_wizard(self, request, mode, user=None, **values):
        context = {
            "active_model": "payment.request",
            "active_id": request.id,
            "active_ids": request.ids,
            "payment_request_mode": mode,
        }
        form = Form(
            self.env["payment.request.wizard"]
            .with_user(user or self.salesman)
            .with_context(**context)
        )
        for name, value in values.items():
            setattr(form, name, value)
        return form

    @contextmanager
    def mock_gateways(self):
        with self.mock_mail_gateway(), self.mockSMSGateway():
            yield

    def _send(self, form):
        """Save the wizard and send; return the action and the requests created."""
        before = self.env["payment.request"].search([]).ids
        with self.mock_gateways():
            action = form.save().action_send()
        created = self.env["payment.request"].search([("id", "not in", before)])
        return action, created


@tagged("post_install", "-at_install", "is_query_count")
class TestRequestPaymentWizard(RequestSendingCommon):
    # === PURPOSES FROM EACH DOCUMENT === #

    def test_customer_free_amount_by_email(self):
        form = self._wizard(
            self.customer,
            purpose="free",
            amount=75.0,
            description="Bike repair",
            external_reference="WO-7",
        )
        self.assertEqual(form.channel, "email")
        self.assertEqual(form.email, "claire@example.com")
        action, request = self._send(form)
        self.assertEqual(len(request), 1)
        self.assertRecordValues(
            request,
            [
                {
                    "partner_id": self.customer.id,
                    "purpose": "free",
                    "amount": 75.0,
                    "description": "Bike repair",
                    "external_reference": "WO-7",
                    "state": "open",
                    "user_id": self.salesman.id,
                    "channel": "email",
                }
            ],
        )
        self.assertTrue(request.expiration_date)
        self.assertEqual(action["res_id"], request.id)
        mail = self._new_mails.filtered(lambda m: m.model == "payment.request")
        self.assertEqual(mail.recipient_ids, self.customer)
        self.assertIn(request.get_portal_url(), mail.body_html)
        self.assertIn("Pay now", mail.body_html)
        self.assertFalse(self._new_sms)
        # Logged on the request and on the customer.
        self.assertIn(request.name, self.customer.message_ids[0].body)

    def test_customer_wallet_by_sms(self):
        form = self._wizard(self.customer, purpose="wallet", amount=200.0, channel="sms")
        self.assertEqual(form.phone, "(415) 555-2671")
        _action, request = self._send(form)
        self.assertEqual(request.purpose, "wallet")
        self.assertEqual(request.channel, "sms")
        self.assertEqual(self._new_sms.number, "+14155552671")
        self.assertIn(request.get_portal_url(), self._new_sms.body)
        self.assertFalse(self._new_mails.filtered(lambda m: m.model == "payment.request"))

    def test_customer_invoices(self):
        first = self._create_invoice(self.customer, 100.0)
        second = self._create_invoice(self.customer_contact, 40.0)
        self._create_invoice(self.customer, 30.0, post=False)
        self._create_invoice(self.customer_2, 70.0)
        form = self._wizard(self.customer, user=self.biller, purpose="invoices")
        self.assertEqual(set(form.invoice_ids.ids), {first.id, second.id})
        self.assertEqual(form.amount, 140.0)
        form.invoice_ids.remove(id=second.id)
        self.assertEqual(form.amount, 100.0)
        _action, request = self._send(form)
        self.assertEqual(request.invoice_ids, first)
        self.assertEqual(request.amount, 100.0)

    def test_customer_invoices_nothing_due(self):
        form = self._wizard(self.customer_2, user=self.biller, purpose="invoices")
        self.assertFalse(form.invoice_ids)
        self._assert_refused(form, "Dan Debtor has no open invoice in USD: nothing is due")

    def test_order_deposit_from_prepayment(self):
        self.order.write({"require_payment": True, "prepayment_percent": 0.2})
        form = self._wizard(self.order)
        self.assertEqual(form.purpose, "quote", "a quotation is sent for approval by default")
        form.purpose = "deposit"
        form.channel = "both"
        self.assertEqual(form.amount, 100.0)
        self.assertEqual(form.max_amount, 500.0)
        _action, request = self._send(form)
        self.assertRecordValues(
            request,
            [
                {
                    "purpose": "deposit",
                    "sale_order_id": self.order.id,
                    "amount": 100.0,
                    "currency_id": self.order.currency_id.id,
                    "company_id": self.order.company_id.id,
                }
            ],
        )
        self.assertEqual(len(self._new_sms), 1)
        self.assertTrue(self._new_mails.filtered(lambda m: m.model == "payment.request"))
        self.assertIn(request.name, self.order.message_ids[0].body)

    def test_order_deposit_company_default(self):
        self.order.require_payment = False
        self.company.payment_request_deposit_percent = 0.5
        form = self._wizard(self.order, purpose="deposit")
        self.assertEqual(form.amount, 250.0)

    def test_order_rest_and_billing_contact(self):
        order = self._create_order(
            self.customer, quantity=3, partner_invoice_id=self.customer_contact.id
        )
        form = self._wizard(order, purpose="order")
        self.assertEqual(form.partner_id, self.customer_contact)
        self.assertEqual(form.email, "colin@example.com")
        self.assertEqual(form.amount, 300.0)
        form.amount = 300.01
        self._assert_refused(form, "more than what is due")
        form.amount = 120.0
        _action, request = self._send(form)
        self.assertEqual(request.partner_id, self.customer_contact)
        self.assertEqual(request.purpose, "order")

    def test_order_other_currency_and_company(self):
        pricelist = self.env["product.pricelist"].create(
            {
                "name": "CAD",
                "currency_id": self.env.ref("base.CAD").id,
                "company_id": self.company_2.id,
            }
        )
        customer = self.env["res.partner"].create(
            {"name": "Québec Camping", "email": "qc@example.com", "country_id": self.canada.id}
        )
        order = (
            self.env["sale.order"]
            .with_company(self.company_2)
            .create(
                {
                    "partner_id": customer.id,
                    "pricelist_id": pricelist.id,
                    "user_id": self.salesman.id,
                    "company_id": self.company_2.id,
                    "order_line": [(0, 0, {"product_id": self.product.id, "product_uom_qty": 1})],
                }
            )
        )
        form = Form(
            self.env["payment.request.wizard"]
            .with_user(self.salesman)
            .with_context(
                active_model="sale.order",
                active_ids=order.ids,
                allowed_company_ids=self.company_2.ids,
            )
        )
        form.purpose = "order"
        _action, request = self._send(form)
        self.assertEqual(request.currency_id, self.env.ref("base.CAD"))
        self.assertEqual(request.company_id, self.company_2)

    def test_invoice_residual_and_smaller_amount(self):
        invoice = self._create_invoice(self.customer, 250.0)
        form = self._wizard(invoice, user=self.biller)
        self.assertEqual(form.purpose, "invoice")
        self.assertEqual(form.amount, 250.0)
        form.amount = 250.5
        self._assert_refused(form, "more than what is due")
        form.amount = 90.0
        _action, request = self._send(form)
        self.assertEqual(request.invoice_ids, invoice)
        self.assertEqual(request.amount, 90.0)
        self.assertIn(request.name, invoice.message_ids[0].body)

    # === REFUSALS: NOTHING CREATED, NOTHING QUEUED === #

    def _assert_refused(self, form, message):
        """Assert that sending is refused with `message` and that nothing was created or queued.

        :param form: the wizard form, or a function that opens it (a document that nothing can
            be requested from is refused as soon as the wizard opens)
        """
        count = self.env["payment.request"].search_count([])
        with self.mock_gateways(), self.assertRaisesRegex(UserError, message):
            (form() if callable(form) else form).save().action_send()
        self.assertEqual(self.env["payment.request"].search_count([]), count)
        self.assertFalse(self._new_mails)
        self.assertFalse(self._new_sms)

    def test_refuse_missing_email(self):
        form = self._wizard(self.customer_2, purpose="free", amount=10.0)
        self._assert_refused(form, "Dan Debtor has no email address")

    def test_refuse_invalid_email(self):
        form = self._wizard(self.customer, purpose="free", amount=10.0, email="claire@")
        self._assert_refused(form, "not a valid address")

    def test_refuse_missing_number(self):
        form = self._wizard(self.customer_2, purpose="free", amount=10.0, channel="sms")
        self._assert_refused(form, "Dan Debtor has no mobile number")

    def test_refuse_invalid_number(self):
        form = self._wizard(self.customer, purpose="free", amount=10.0, channel="both", phone="12")
        self._assert_refused(form, "Mobile 12 of Claire Customer is not a valid phone number")

    def test_refuse_amount_not_positive(self):
        for amount in (0.0, -10.0):
            with self.subTest(amount=amount):
                form = self._wizard(self.customer, purpose="free", amount=amount)
                self._assert_refused(form, "must be greater than zero")

    def test_refuse_nothing_due_on_paid_order(self):
        self.order.action_confirm()
        provider = self.env.ref("payment.payment_provider_demo")
        self.env["payment.transaction"].sudo().create(
            {
                "provider_id": provider.id,
                "payment_method_id": self.env.ref("payment.payment_method_unknown").id,
                "reference": "paid-order",
                "amount": 500.0,
                "currency_id": self.order.currency_id.id,
                "partner_id": self.customer.id,
                "sale_order_ids": [(6, 0, self.order.ids)],
                "state": "done",
            }
        )
        self._assert_refused(lambda: self._wizard(self.order, purpose="order"), "Nothing is due")

    def test_refuse_cancelled_order(self):
        self.order._action_cancel()
        self._assert_refused(lambda: self._wizard(self.order), "is cancelled")

    def test_refuse_draft_invoice(self):
        invoice = self._create_invoice(self.customer, 50.0, post=False)
        self._assert_refused(lambda: self._wizard(invoice, user=self.biller), "is not posted")

    def test_refuse_paid_invoice(self):
        invoice = self._create_invoice(self.customer, 50.0)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self._assert_refused(lambda: self._wizard(invoice, user=self.biller), "Nothing is due")

    def test_user_without_sales_or_invoicing_rights_cannot_send(self):
        with self.assertRaises(AccessError):
            self.env["payment.request.wizard"].with_user(self.employee).with_context(
                active_model="res.partner", active_ids=self.customer.ids
            ).create({"purpose": "free", "amount": 5.0})

    # === PHONE NUMBERS === #

    def test_phone_numbers_stored_in_e164(self):
        cases = [
            (self.france, "06 12 34 56 78", "+33612345678"),
            (self.france, "+33 6 12 34 56 78", "+33612345678"),
            (self.canada, "(613) 555-0123", "+16135550123"),
            (self.canada, "+1 613 555 0123", "+16135550123"),
            (self.usa, "415 555 2671", "+14155552671"),
            (self.usa, "+1 (202) 555-0143", "+12025550143"),
        ]
        for country, typed, e164 in cases:
            with self.subTest(country=country.code, typed=typed):
                partner = self.env["res.partner"].create(
                    {"name": f"Customer {typed}", "country_id": country.id}
                )
                form = self._wizard(
                    partner,
                    purpose="free",
                    amount=10.0,
                    channel="sms",
                    phone=typed,
                    save_contact=True,
                )
                _action, request = self._send(form)
                self.assertEqual(self._new_sms.number, e164)
                self.assertEqual(partner.mobile, e164)
                self.assertEqual(request.sms_status, "sent")

    def test_phone_uses_company_country_without_customer_country(self):
        self.company.country_id = self.france
        partner = self.env["res.partner"].create({"name": "No country"})
        form = self._wizard(
            partner, purpose="free", amount=10.0, channel="sms", phone="06 12 34 56 78"
        )
        self._send(form)
        self.assertEqual(self._new_sms.number, "+33612345678")

    def test_edited_contact_not_saved_without_the_box(self):
        form = self._wizard(
            self.customer,
            purpose="free",
            amount=10.0,
            channel="both",
            email="claire.work@example.com",
            phone="+1 202 555 0143",
        )
        self.assertTrue(form.contact_edited)
        _action, request = self._send(form)
        self.assertEqual(self.customer.email, "claire@example.com")
        self.assertEqual(self.customer.mobile, "(415) 555-2671")
        mail = self._new_mails.filtered(lambda m: m.model == "payment.request")
        self.assertEqual(mail.recipient_ids.email, "claire.work@example.com")
        self.assertEqual(mail.recipient_ids.commercial_partner_id, self.customer)
        self.assertEqual(self._new_sms.number, "+12025550143")

    # === RESEND AND AMEND === #

    def _send_to_customer(self, **values):
        form = self._wizard(self.customer, purpose="free", amount=60.0, **values)
        return self._send(form)[1]

    def test_resend_same_request_other_address(self):
        request = self._send_to_customer()
        link = request.get_portal_url()
        messages = request.message_ids
        form = self._request_wizard(
            request, "resend", channel="both", email="other@example.com", phone="+1 613 555 0123"
        )
        self.assertEqual(form.amount, 60.0)
        action, created = self._send(form)
        self.assertFalse(created)
        self.assertEqual(action["type"], "ir.actions.act_window_close")
        self.assertEqual(request.get_portal_url(), link)
        self.assertEqual(request.state, "open")
        self.assertEqual(self._new_sms.number, "+16135550123")
        mail = self._new_mails.filtered(lambda m: m.model == "payment.request")
        self.assertEqual(mail.recipient_ids.email, "other@example.com")
        self.assertGreater(len(request.message_ids), len(messages))

    def test_resend_refused_on_closed_request(self):
        request = self._send_to_customer()
        request.action_cancel()
        form = self._request_wizard(request, "resend")
        with self.assertRaisesRegex(UserError, "Only open"):
            form.save().action_send()

    def test_amend_amount(self):
        request = self._send_to_customer()
        form = self._request_wizard(request, "amend", amount=45.0)
        _action, new = self._send(form)
        self.assertEqual(len(new), 1)
        self.assertEqual(new.amount, 45.0)
        self.assertEqual(new.state, "open")
        self.assertNotEqual(new.access_token, request.access_token)
        self.assertEqual(request.state, "cancelled")
        self.assertEqual(request.replaced_by_id, new)
        self.assertIn(new.name, request.message_ids[0].body)
        self.assertTrue(self._new_mails.filtered(lambda m: m.res_id == new.id))

    def test_amend_refuses_more_than_due(self):
        invoice = self._create_invoice(self.customer, 80.0)
        _action, request = self._send(self._wizard(invoice, user=self.biller, amount=50.0))
        form = self._request_wizard(request, "amend", user=self.biller, amount=81.0)
        with self.assertRaisesRegex(UserError, "more than what is due"):
            form.save().action_send()
        self.assertEqual(request.state, "open")

    # === BULK === #

    def test_bulk_from_customers_skips_bad_records(self):
        good = self.env["res.partner"].create({"name": "Good", "email": "good@example.com"})
        bad = self.customer_2  # no email
        form = self._wizard(self.customer | good | bad, purpose="wallet", amount=30.0)
        action, created = self._send(form)
        self.assertEqual(created.partner_id, self.customer | good)
        self.assertEqual(set(created.mapped("amount")), {30.0})
        self.assertEqual(set(created.mapped("state")), {"open"})
        message = action["params"]["message"]
        self.assertIn("2 payment requests sent", message)
        self.assertIn("Dan Debtor", message)
        self.assertIn("no email address", message)

    def test_bulk_from_invoices(self):
        invoices = self._create_invoice(self.customer, 10.0) | self._create_invoice(
            self.customer, 20.0
        )
        draft = self._create_invoice(self.customer, 5.0, post=False)
        action, created = self._send(
            self._wizard(invoices | draft, user=self.biller, channel="sms")
        )
        self.assertEqual(sorted(created.mapped("amount")), [10.0, 20.0])
        self.assertEqual(created.invoice_ids, invoices)
        self.assertEqual(len(self._new_sms), 2)
        self.assertIn(draft.display_name, action["params"]["message"])

    def test_bulk_queries_per_request(self):
        """Sending 50 requests from a list by email and SMS stays within the scale issue's
        bound of 15 queries per request (750 for 50), posted through mail.thread: one message
        per request notified by email and by SMS.
        """
        partners = self.env["res.partner"].create(
            [
                {"name": f"Bulk {i}", "email": f"bulk{i}@example.com", "mobile": f"+1415555{i:04d}"}
                for i in range(50)
            ]
        )
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "user_id": self.salesman.id,
                    "order_line": [(0, 0, {"product_id": self.product.id, "product_uom_qty": 1})],
                }
                for partner in partners
            ]
        )
        wizard = self._wizard(orders, purpose="order", channel="both").save()
        self.env.invalidate_all()
        with self.mock_gateways(), self.assertQueryCount(750):
            wizard.action_send()
        requests = self.env["payment.request"].search([("sale_order_id", "in", orders.ids)])
        self.assertEqual(len(requests), 50)
        self.assertEqual(len(self._new_sms), 50)
