# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import json
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo import http
from odoo.exceptions import UserError
from odoo.tests import Form
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import MockSMS

from .test_pay_page import PayPageCommon

# A 1x1 PNG, as the signature widget sends one (base64, without the data URL prefix).
SIGNATURE = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6"
    "kgAAAABJRU5ErkJggg=="
)


class QuoteCommon(PayPageCommon, MockEmail, MockSMS):
    """A quotation sent for approval and payment, and helpers for the customer's routes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.country_id = cls.env.ref("base.us")
        cls.customer.write({"mobile": "+1 415-555-2671", "country_id": cls.env.ref("base.us").id})
        cls.tax = cls.env["account.tax"].create(
            {"name": "Sales tax 10%", "amount": 10.0, "company_id": cls.company.id}
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Deck repair",
                "list_price": 500.0,
                "type": "service",
                "invoice_policy": "order",
                "taxes_id": [(6, 0, cls.tax.ids)],
            }
        )

    def setUp(self):
        super().setUp()
        self.order = self._quotation()
        self.quote = self._send_quote(self.order)

    def _quotation(self, product=None, qty=2, **values):
        return (
            self.env["sale.order"]
            .with_user(self.salesman)
            .create(
                {
                    "partner_id": self.customer.id,
                    "user_id": self.salesman.id,
                    "validity_date": fields.Date.today() + timedelta(days=10),
                    "note": "<p>Work starts within two weeks of approval.</p>",
                    "order_line": [
                        (
                            0,
                            0,
                            {
                                "product_id": (product or self.product).id,
                                "product_uom_qty": qty,
                                "tax_id": [(6, 0, self.tax.ids)],
                            },
                        )
                    ],
                    **values,
                }
            )
        )

    def _send_quote(self, order, channel="email"):
        """Send the quotation from its Request Payment button as the salesman."""
        wizard = Form(
            self.env["payment.request.wizard"]
            .with_user(self.salesman)
            .with_context(active_model="sale.order", active_ids=order.ids, active_id=order.id)
        )
        self.assertEqual(wizard.purpose, "quote")
        wizard.channel = channel
        with self.mock_mail_gateway(), self.mockSMSGateway():
            action = wizard.save().action_send()
        return self.env["payment.request"].browse(action["res_id"])

    def _json(self, url, **params):
        response = self.url_open(
            url,
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        return response.json()["result"]

    def _approve(self, request=None, token=None, name="Claire Customer", signature=SIGNATURE):
        request = request or self.quote
        token = request.access_token if token is None else token
        return self._json(
            f"/payment_request/{request.id}/approve?access_token={token}",
            name=name,
            signature=signature,
        )

    def _decline(self, request=None, reason="Too expensive", token=None):
        request = request or self.quote
        self.authenticate(None, None)  # a visitor's session, for its CSRF token
        return self.url_open(
            f"/payment_request/{request.id}/decline",
            data={
                "access_token": request.access_token if token is None else token,
                "decline_reason": reason,
                "csrf_token": http.Request.csrf_token(self),
            },
        )

    def _settle(self, request):
        """Pay the approved quotation through the transaction route and confirm the payment."""
        answer = self._pay(request)
        self.assertNotIn("error", answer)
        tx = self._tx(request)
        tx._set_done()
        tx._post_process()
        # The receipt is made by its cron, after the post-processing (triggered there).
        self.env["payment.request"]._cron_send_receipts()
        return tx


@tagged("post_install", "-at_install")
class TestQuoteSending(QuoteCommon):
    def test_quote_is_the_default_for_a_quotation(self):
        self.assertRecordValues(
            self.quote,
            [
                {
                    "purpose": "quote",
                    "state": "open",
                    "sale_order_id": self.order.id,
                    "amount": self.order.amount_total,
                    "partner_id": self.customer.id,
                }
            ],
        )
        self.assertEqual(self.order.amount_total, 1100.0)
        self.assertTrue(self.quote.quote_fingerprint)
        self.assertFalse(self.quote.invoice_ids)

    def test_quote_sms_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["payment_request"], ["fr_FR"])
        self.customer.lang = "fr_FR"
        order = self._quotation()
        request = self._send_quote(order, channel="sms")
        body = self._new_sms.body
        self.assertIn("approuver et régler votre devis", body)
        self.assertIn(order.name, body)
        self.assertIn(request.get_portal_url(), body)

    def test_amount_is_the_total_whatever_the_form_says(self):
        order = self._quotation()
        wizard = Form(
            self.env["payment.request.wizard"]
            .with_user(self.salesman)
            .with_context(active_model="sale.order", active_ids=order.ids, active_id=order.id)
        ).save()
        wizard.amount = 10.0
        with self.mock_mail_gateway():
            action = wizard.action_send()
        self.assertEqual(self.env["payment.request"].browse(action["res_id"]).amount, 1100.0)

    def test_confirmed_order_is_no_quote(self):
        order = self._quotation()
        order.action_confirm()
        wizard = Form(
            self.env["payment.request.wizard"]
            .with_user(self.salesman)
            .with_context(active_model="sale.order", active_ids=order.ids, active_id=order.id)
        )
        self.assertEqual(wizard.purpose, "deposit")
        wizard.purpose = "quote"
        with self.assertRaisesRegex(UserError, "already confirmed"):
            wizard.save().action_send()

    def test_expired_quotation_cannot_be_sent(self):
        order = self._quotation(validity_date=fields.Date.today() - timedelta(days=1))
        with self.assertRaisesRegex(UserError, "expired"):
            self._send_quote(order)

    def test_expiry_is_the_earlier_of_request_validity_and_quotation_validity(self):
        now = fields.Datetime.now()
        # 24 hours of validity, the quotation's lasts 10 days: 24 hours.
        self.assertAlmostEqual(
            self.quote.expiration_date, now + timedelta(hours=24), delta=timedelta(minutes=5)
        )
        self.company.payment_request_validity_hours = 24 * 30
        self.customer.tz = "Europe/Paris"
        order = self._quotation(validity_date=fields.Date.today() + timedelta(days=3))
        request = self._send_quote(order)
        end = order._get_payment_request_validity_end()
        self.assertEqual(request.expiration_date, end)
        self.assertLess(request.expiration_date, now + timedelta(days=4, hours=2))
        self.assertGreater(request.expiration_date, now + timedelta(days=2))


@tagged("post_install", "-at_install")
class TestQuotePage(QuoteCommon):
    def test_page_shows_the_quotation_to_approve_logged_out(self):
        response = self._page(self.quote)
        self.assertEqual(response.status_code, 200)
        page = response.text
        for expected in (
            self.order.name,
            "Deck repair",
            "Sales tax 10%",
            "1,100.00",
            "Work starts within two weeks of approval.",
            "Expiration Date",
            "o_payment_request_approve",
            "o_payment_request_decline",
            "portal.signature_form",
        ):
            self.assertIn(expected, page)
        self.assertNotIn("o_payment_form", page)

    @mute_logger("odoo.http")
    def test_paying_before_approval_is_refused(self):
        answer = self._pay(self.quote)
        self.assertIn("Approve the quotation first", answer["error"]["data"]["message"])
        self.assertFalse(self.quote.sudo().transaction_ids)

    def test_approve_confirms_invoices_and_offers_payment(self):
        answer = self._approve()
        self.assertNotIn("error", answer)
        self.assertTrue(answer["force_refresh"])
        order = self.order
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.signed_by, "Claire Customer")
        self.assertTrue(order.signature)
        self.assertTrue(order.signed_on)
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertRecordValues(
            invoice, [{"state": "posted", "amount_total": 1100.0, "payment_state": "not_paid"}]
        )
        self.assertEqual(self.quote.invoice_ids, invoice)
        self.assertEqual(self.quote.amount, 1100.0)
        self.assertEqual(self.quote.state, "open")
        signed = order.message_ids.filtered(lambda m: "signed by Claire Customer" in m.body)
        self.assertTrue(signed.attachment_ids, "the signed quotation is kept in the chatter")
        self.assertEqual(signed.author_id, self.customer)
        self.assertTrue(self.quote.message_ids.filtered(lambda m: "approved and signed" in m.body))
        page = self._page(self.quote).text
        self.assertIn("o_payment_form", page)
        self.assertIn(invoice.name, page)
        self.assertNotIn("o_payment_request_approve", page)

    def test_approving_twice_is_harmless(self):
        self._approve()
        invoice = self.order.invoice_ids
        answer = self._approve()
        self.assertNotIn("error", answer)
        self.assertEqual(self.order.invoice_ids, invoice)
        self.assertEqual(self.quote.invoice_ids, invoice)

    def test_approval_refusals_change_nothing(self):
        self.assertIn("invalid", self._approve(token="wrong")["error"])
        self.assertIn("signature", self._approve(signature="")["error"])
        self.assertIn("name", self._approve(name=" ")["error"])
        self.assertIn("base64", self._approve(signature="not an image")["error"])
        self.assertEqual(self.order.state, "draft")
        self.assertFalse(self.order.signature)
        self.assertFalse(self.order.invoice_ids)
        with freeze_time(fields.Datetime.now() + timedelta(days=2)):
            self.assertIn("expired", self._approve()["error"])
        self.assertEqual(self.order.state, "draft")

    def test_expired_quotation_cannot_be_approved_even_before_the_request_expires(self):
        self.order.validity_date = fields.Date.today() - timedelta(days=1)
        self.assertIn("expired", self._approve()["error"])
        self.assertIn("o_payment_request_status_expired", self._page(self.quote).text)
        self.assertEqual(self.order.state, "draft")

    def test_salesperson_confirmation_skips_approval(self):
        self.order.with_user(self.salesman).action_confirm()
        invoice = self.order.invoice_ids
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(self.quote.invoice_ids, invoice)
        page = self._page(self.quote).text
        self.assertNotIn("o_payment_request_approve", page)
        self.assertIn("o_payment_form", page)
        self.assertEqual(
            self._approve(), {"force_refresh": True, "redirect_url": self.quote.get_portal_url()}
        )

    def test_nothing_invoiceable_on_order_gives_a_down_payment_invoice(self):
        product = self.env["product.product"].create(
            {
                "name": "Fence (delivered)",
                "list_price": 300.0,
                "type": "consu",
                "invoice_policy": "delivery",
            }
        )
        order = self._quotation(product=product, qty=1)
        request = self._send_quote(order)
        self._approve(request)
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, order.amount_total)
        self.assertTrue(invoice.invoice_line_ids.sale_line_ids.is_downpayment)
        self.assertEqual(request.amount, order.amount_total)

    def test_approve_then_pay_settles_the_invoice(self):
        self._approve()
        invoice = self.order.invoice_ids
        with self.mock_mail_gateway():
            tx = self._settle(self.quote)
        self.assertEqual(tx.invoice_ids, invoice)
        self.assertFalse(tx.sale_order_ids, "the invoice alone is paid: no second invoice")
        self.assertEqual(self.quote.state, "paid")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(tx.payment_id.state, "paid")
        self.assertEqual(len(self.order.invoice_ids), 1)
        receipt = self._new_mails.filtered(lambda mail: "receipt" in (mail.subject or "").lower())
        self.assertTrue(receipt)
        page = self._page(self.quote).text
        self.assertIn("o_payment_request_status_paid", page)
        self.assertIn("o_payment_request_invoice_pdf", page)

    def test_automatic_invoicing_does_not_invoice_twice(self):
        self.env["ir.config_parameter"].sudo().set_param("sale.automatic_invoice", True)
        self._approve()
        with self.mock_mail_gateway():
            self._settle(self.quote)
        self.assertEqual(len(self.order.invoice_ids), 1)
        self.assertEqual(self.order.invoice_ids.payment_state, "paid")

    @mute_logger("odoo.http")
    def test_one_payment_only_after_approval(self):
        self._approve()
        self._pay(self.quote)
        self._tx(self.quote)._set_pending()
        answer = self._pay(self.quote)
        self.assertIn("already in progress or done", answer["error"]["data"]["message"])


@tagged("post_install", "-at_install")
class TestQuoteDeclineAndUpdate(QuoteCommon):
    def test_decline_cancels_the_quotation_with_the_reason(self):
        response = self._decline(reason="We chose another contractor")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.order.state, "cancel")
        self.assertRecordValues(
            self.quote,
            [
                {
                    "state": "cancelled",
                    "cancel_reason": "declined",
                    "decline_reason": "We chose another contractor",
                    "is_read": False,
                }
            ],
        )
        reason = self.order.message_ids.filtered(lambda m: "another contractor" in m.body)
        self.assertEqual(reason.author_id, self.customer)
        note = self.quote.message_ids.filtered(lambda m: "declined the quotation" in m.body)
        self.assertIn("We chose another contractor", note.body)
        self.assertIn(self.salesman.partner_id, note.partner_ids)
        self.assertIn("o_payment_request_status_declined", self._page(self.quote).text)
        self.assertIn("declined", self._approve()["error"])

    def test_decline_needs_a_reason(self):
        response = self._decline(reason="   ")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_payment_request_error", response.text)
        self.assertEqual(self.order.state, "draft")
        self.assertEqual(self.quote.state, "open")

    def test_decline_with_a_wrong_token_is_not_found(self):
        self.assertEqual(self._decline(token="wrong").status_code, 404)
        self.assertEqual(self.order.state, "draft")

    def test_updated_quotation_closes_the_old_link(self):
        self.order.order_line.with_user(self.salesman).product_uom_qty = 3
        self.assertRecordValues(
            self.quote, [{"state": "cancelled", "cancel_reason": "updated", "quote_outdated": True}]
        )
        self.assertTrue(self.order.payment_request_quote_outdated)
        self.assertIn("o_payment_request_status_updated", self._page(self.quote).text)
        self.assertIn("updated", self._approve()["error"])
        self.assertEqual(self.order.state, "draft")
        self.assertTrue(
            self.quote.message_ids.filtered(lambda m: "Send updated quotation" in m.body)
        )

    def test_price_change_or_new_line_also_updates(self):
        self.order.order_line.price_unit = 450.0
        self.assertEqual(self.quote.cancel_reason, "updated")
        other = self._quotation()
        request = self._send_quote(other)
        self.env["sale.order.line"].create(
            {"order_id": other.id, "product_id": self.product.id, "product_uom_qty": 1}
        )
        self.assertEqual(request.cancel_reason, "updated")

    def test_unrelated_changes_keep_the_link(self):
        self.order.write({"client_order_ref": "PO-77", "note": "<p>Other terms</p>"})
        self.order.action_quotation_sent()
        self.assertEqual(self.quote.state, "open")
        self.assertIn("o_payment_request_approve", self._page(self.quote).text)

    def test_send_updated_quotation_in_one_click(self):
        self.order.order_line.product_uom_qty = 3
        with self.mock_mail_gateway():
            action = self.order.with_user(self.salesman).action_send_updated_quotation()
        new = self.env["payment.request"].browse(action["res_id"])
        self.assertRecordValues(
            new,
            [{"state": "open", "purpose": "quote", "amount": 1650.0, "channel": "email"}],
        )
        self.assertEqual(self.quote.replaced_by_id, new)
        self.assertFalse(self.order.payment_request_quote_outdated)
        self.assertIn("o_payment_request_status_updated", self._page(self.quote).text)
        self.assertNotIn("error", self._approve(new))
        self.assertEqual(self.order.state, "sale")
        with self.assertRaises(UserError):
            self.quote.with_user(self.salesman).action_send_updated_quotation()

    def test_updated_quotation_sent_by_the_same_channel_without_a_wizard(self):
        order = self._quotation()
        request = self._send_quote(order, channel="both")
        order.order_line.product_uom_qty = 3
        wizard_model = self.registry["payment.request.wizard"]
        with (
            patch.object(wizard_model, "create", side_effect=AssertionError("a wizard was built")),
            self.mock_mail_gateway(),
            self.mockSMSGateway(),
        ):
            action = request.with_user(self.salesman).action_send_updated_quotation()
        new = self.env["payment.request"].browse(action["res_id"])
        self.assertRecordValues(
            new,
            [
                {
                    "state": "open",
                    "purpose": "quote",
                    "channel": "both",
                    "amount": 1650.0,
                    "partner_id": self.customer.id,
                    "user_id": self.salesman.id,
                }
            ],
        )
        self.assertEqual(request.replaced_by_id, new)
        self.assertEqual(self._new_sms.number, "+14155552671")
        self.assertEqual(
            self._new_mails.filtered(lambda m: m.res_id == new.id).recipient_ids, self.customer
        )
        self.assertIn(new.name, order.message_ids[0].body)


@tagged("post_install", "-at_install")
class TestQuoteTours(QuoteCommon):
    """The quotation flow as the customer and the salesperson live it, in a browser."""

    def _start(self, tour):
        url = f"/payment_request/{self.quote.id}?access_token={self.quote.access_token}"
        with self.mock_mail_gateway():
            self.start_tour(url, tour)

    def test_customer_approves_signs_and_pays(self):
        self._start("payment_request_quote_approve_and_pay")
        invoice = self.order.invoice_ids
        self.assertEqual(self.order.state, "sale")
        self.assertEqual(self.order.signed_by, "Claire Customer")
        self.assertTrue(self.order.signature)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(self.quote.state, "paid")
        self.assertEqual(self.quote.sudo().transaction_ids.invoice_ids, invoice)
        response = self.url_open(
            f"/payment_request/{self.quote.id}/receipt?access_token={self.quote.access_token}"
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn(invoice.name, response.text)

    def test_customer_declines_with_a_reason(self):
        self._start("payment_request_quote_decline")
        self.assertEqual(self.order.state, "cancel")
        self.assertEqual(self.quote.cancel_reason, "declined")
        self.assertEqual(self.quote.decline_reason, "We chose another contractor")

    def test_salesperson_sends_the_quotation_by_email_and_sms(self):
        order = self._quotation()
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.start_tour(
                f"/odoo/sales/{order.id}", "payment_request_send_quotation", login="pr_salesman"
            )
        request = self.env["payment.request"].search([("sale_order_id", "=", order.id)])
        self.assertRecordValues(
            request,
            [{"state": "open", "purpose": "quote", "channel": "both", "amount": 1100.0}],
        )
        self.assertEqual(self._new_sms.number, "+14155552671")
        self.assertIn("approve", self._new_sms.body)
        mail = self._new_mails.filtered(lambda m: m.res_id == request.id)
        self.assertIn("Review and approve", mail.body_html)
