# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from contextlib import contextmanager

from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_payment_request_wizard import RequestSendingCommon


@tagged("post_install", "-at_install")
class TestDocumentRules(RequestSendingCommon):
    """A request made without the wizard (the form, an integration) meets the rules of its
    document: `payment.request` enforces them in create, write and action_open."""

    def _create(self, user=None, **values):
        vals = {"partner_id": self.customer.id, "amount": 100.0, "purpose": "free", **values}
        return self.env["payment.request"].with_user(user or self.salesman).create(vals)

    @contextmanager
    def assertRefused(self, message):
        """Assert a UserError matching `message`; what the refused call did is rolled back."""
        with self.assertRaises(UserError) as error:
            yield
        self.assertRegex(str(error.exception), message)

    def _pay_invoice(self, invoice):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()

    # === AMOUNT DUE === #

    def test_more_than_due_on_the_order_refused(self):
        for purpose in ("order", "deposit"):
            with (
                self.subTest(purpose=purpose),
                self.assertRefused("more than what is due"),
            ):
                self._create(purpose=purpose, sale_order_id=self.order.id, amount=500.01)
        request = self._create(purpose="order", sale_order_id=self.order.id, amount=500.0)
        self.assertEqual(request.amount, 500.0)

    def test_more_than_the_residual_of_invoices_refused(self):
        invoice = self._create_invoice(self.customer, 80.0)
        other = self._create_invoice(self.customer, 40.0)
        with self.assertRefused("more than what is due"):
            self._create(
                user=self.biller, purpose="invoice", amount=80.01, invoice_ids=[(6, 0, invoice.ids)]
            )
        with self.assertRefused("more than what is due"):
            self._create(
                user=self.biller,
                purpose="invoices",
                amount=120.01,
                invoice_ids=[(6, 0, (invoice | other).ids)],
            )
        request = self._create(
            user=self.biller,
            purpose="invoices",
            amount=120.0,
            invoice_ids=[(6, 0, (invoice | other).ids)],
        )
        self.assertEqual(request.invoice_ids, invoice | other)

    def test_raising_the_amount_of_a_draft_refused(self):
        request = self._create(purpose="order", sale_order_id=self.order.id, amount=100.0)
        with self.assertRefused("more than what is due"):
            request.write({"amount": 600.0})
        request.write({"amount": 500.0})
        self.assertEqual(request.amount, 500.0)

    def test_quotation_asks_its_total(self):
        with self.assertRefused("approved and paid whole"):
            self._create(purpose="quote", sale_order_id=self.order.id, amount=100.0)
        request = self._create(purpose="quote", sale_order_id=self.order.id, amount=500.0)
        self.assertEqual(request.amount, 500.0)
        self.order.action_confirm()
        with self.assertRefused("already confirmed"):
            self._create(purpose="quote", sale_order_id=self.order.id, amount=500.0)

    # === PURPOSES === #

    def test_purpose_not_offered_by_the_document_refused(self):
        invoice = self._create_invoice(self.customer, 80.0)
        cases = (
            ({"purpose": "deposit"}, "cannot be requested from Claire Customer"),
            ({"purpose": "quote", "amount": 500.0}, "cannot be requested from Claire Customer"),
            ({"purpose": "free", "sale_order_id": self.order.id}, "cannot be requested from S"),
            ({"purpose": "invoices", "sale_order_id": self.order.id}, "cannot be requested"),
            ({"purpose": "invoice"}, "link exactly one"),
            ({"purpose": "free", "invoice_ids": [(6, 0, invoice.ids)]}, "pays no invoice"),
            (
                {
                    "purpose": "order",
                    "sale_order_id": self.order.id,
                    "invoice_ids": [(6, 0, invoice.ids)],
                },
                "pays no invoice",
            ),
        )
        count = self.env["payment.request"].search_count([])
        for values, message in cases:
            with self.subTest(values=values), self.assertRefused(message):
                self._create(user=self.biller, **values)
        self.assertEqual(self.env["payment.request"].search_count([]), count)

    def test_changing_the_purpose_of_a_draft_refused(self):
        request = self._create(purpose="order", sale_order_id=self.order.id)
        with self.assertRefused("cannot be requested"):
            request.write({"purpose": "wallet"})
        self.assertEqual(request.purpose, "order")

    # === CUSTOMER, COMPANY, CURRENCY === #

    def test_customer_of_the_document_only(self):
        with self.assertRefused("Dan Debtor is not the customer of"):
            self._create(
                partner_id=self.customer_2.id, purpose="order", sale_order_id=self.order.id
            )
        # A contact of the customer is one of theirs.
        request = self._create(
            partner_id=self.customer_contact.id, purpose="order", sale_order_id=self.order.id
        )
        self.assertEqual(request.partner_id, self.customer_contact)

    def test_currency_of_the_document_only(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        with self.assertRefused("must be in USD"):
            self._create(purpose="order", sale_order_id=self.order.id, currency_id=eur.id)
        # A free amount is asked in any currency.
        self.assertEqual(self._create(currency_id=eur.id).currency_id, eur)

    def test_open_invoices_of_the_customer_only(self):
        mine = self._create_invoice(self.customer, 80.0)
        theirs = self._create_invoice(self.customer_2, 30.0)
        with self.assertRefused("not open invoices of Claire Customer"):
            self._create(
                user=self.biller,
                purpose="invoices",
                amount=30.0,
                invoice_ids=[(6, 0, (mine | theirs).ids)],
            )

    # === DOCUMENTS CHANGED SINCE === #

    def test_draft_opened_after_its_invoice_was_paid_refused(self):
        invoice = self._create_invoice(self.customer, 80.0)
        draft = self._create(
            user=self.biller, purpose="invoice", amount=80.0, invoice_ids=[(6, 0, invoice.ids)]
        )
        self._pay_invoice(invoice)
        with self.assertRefused("Nothing is due on the invoice"):
            draft.action_open()
        self.assertEqual(draft.state, "draft")

    def test_recreated_after_its_invoice_was_paid_refused(self):
        invoice = self._create_invoice(self.customer, 80.0)
        request = self._create(
            user=self.biller, purpose="invoice", amount=80.0, invoice_ids=[(6, 0, invoice.ids)]
        )
        request.action_open()
        request.action_cancel()
        self._pay_invoice(invoice)
        with self.assertRefused("Nothing is due on the invoice"):
            request.action_recreate()
        self.assertFalse(request.replaced_by_id)

    def test_workflow_changes_of_an_open_request_not_checked(self):
        """The workflow changes open requests in sudo mode (here the invoice of an approved
        quotation, and its amount): the rules bound what users ask, not these."""
        request = self._create(purpose="quote", sale_order_id=self.order.id, amount=500.0)
        request.action_open()
        self.order.action_confirm()
        self.assertEqual(request.invoice_ids, self.order.invoice_ids)
        self.assertEqual(request.state, "open")
        request.write({"description": "Deck repair"})
        with self.assertRefused("already confirmed"):
            request.write({"amount": 400.0})

    # === AMENDING === #

    def test_amend_sends_the_new_link(self):
        request = self._create(amount=60.0, description="Bike repair")
        with self.mock_gateways():
            request._send_link("email", {request.id: self.customer})
            action = request.action_amend(45.0, channel="sms", phone="+1 202 555 0143")
        new = self.env["payment.request"].browse(action["res_id"])
        self.assertRecordValues(
            new,
            [{"amount": 45.0, "state": "open", "channel": "sms", "description": "Bike repair"}],
        )
        self.assertRecordValues(
            request,
            [{"state": "cancelled", "cancel_reason": "replaced", "replaced_by_id": new.id}],
        )
        self.assertEqual(self._new_sms.number, "+12025550143")
        self.assertIn(new.get_portal_url(), self._new_sms.body)
        self.assertIn(new.name, request.message_ids[0].body)

    def test_amend_refuses_the_same_amount_and_a_quotation_part(self):
        request = self._create(purpose="quote", sale_order_id=self.order.id, amount=500.0)
        with self.mock_gateways():
            request._send_link("email", {request.id: self.customer})
            with self.assertRefused("Enter the new amount"):
                request.action_amend(500.0)
            with self.assertRefused("approved and paid whole"):
                request.action_amend(200.0)
        self.assertEqual(request.state, "open")
