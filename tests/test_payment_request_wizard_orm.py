# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tests import Form
from odoo.tests import tagged

from .test_payment_request_wizard import RequestSendingCommon

# The fields the form fills by itself, compared between the form and `create`.
DEFAULT_FIELDS = (
    "mode",
    "res_model",
    "res_ids",
    "purpose",
    "partner_id",
    "company_id",
    "currency_id",
    "sale_order_id",
    "available_invoice_ids",
    "invoice_ids",
    "amount",
    "description",
    "external_reference",
    "channel",
    "email",
    "phone",
)
# What an integration gives: each field alone, and a few together.
GIVEN_VALUES = (
    {},
    {"channel": "email"},
    {"channel": "sms"},
    {"email": "other@example.com"},
    {"phone": "+1 202 555 0199"},
    {"description": "Given by a server action"},
    {"external_reference": "PO-4242"},
    {"amount": 12.5},
    {"channel": "both", "email": "other@example.com"},
)


@tagged("post_install", "-at_install")
class TestWizardOverTheOrm(RequestSendingCommon):
    """payment.request.wizard created over the ORM (an integration, a server action) gets the
    same defaults as the form for every field not given."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"email": "claire@example.com"})
        cls.confirmed_order = cls._create_order(cls.customer, quantity=2, client_order_ref="REF-9")
        cls.confirmed_order.action_confirm()
        cls.invoice = cls._create_invoice(cls.customer, 80.0)

    def _context(self, records):
        return {
            "active_model": records._name,
            "active_ids": records.ids,
            "active_id": records[:1].id,
        }

    def _values(self, wizard):
        values = wizard.read(list(DEFAULT_FIELDS))[0]
        values.pop("id")
        return values

    def _assert_same_as_the_form(self, records):
        wizard_model = self.env["payment.request.wizard"].with_context(**self._context(records))
        expected = self._values(Form(wizard_model).save())
        for given in GIVEN_VALUES:
            with self.subTest(model=records._name, given=given):
                wizard = wizard_model.create(given)
                self.assertEqual(self._values(wizard), {**expected, **given})

    def test_from_a_customer(self):
        self._assert_same_as_the_form(self.customer)

    def test_from_a_customer_with_a_mobile_only(self):
        self.customer_2.write({"mobile": "+1 415 555 0100", "country_id": self.usa.id})
        self._assert_same_as_the_form(self.customer_2)

    def test_from_a_quotation(self):
        self._assert_same_as_the_form(self.order)

    def test_from_a_confirmed_order(self):
        self._assert_same_as_the_form(self.confirmed_order)

    def test_from_an_invoice(self):
        self._assert_same_as_the_form(self.invoice)

    def test_channel_given_keeps_the_customer_email(self):
        wizard = (
            self.env["payment.request.wizard"]
            .with_context(**self._context(self.order))
            .create({"channel": "email"})
        )
        self.assertEqual(wizard.email, "claire@example.com")
        self.assertEqual(wizard.partner_id, self.customer)
