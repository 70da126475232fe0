# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import base64
import io
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from lxml import html as lxml_html
from PIL import Image

from odoo import fields
from odoo.tests import tagged

from .. import const
from .test_pay_page import PayPageCommon
from .test_payment_request_wizard import RequestSendingCommon


class QrCodeCommon(RequestSendingCommon):
    """Requests for a quotation and an invoice, and a spy on Odoo's barcode drawing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._create_invoice(cls.customer, 200.0)

    def _open_request(self, **values):
        request = self._create_request(**values)
        request.action_open()
        return request

    def _deposit(self, order=None):
        return self._open_request(
            purpose="deposit", sale_order_id=(order or self.order).id, amount=50.0
        )

    def _invoice_request(self):
        return self._open_request(
            purpose="invoice", invoice_ids=[(6, 0, self.invoice.ids)], amount=200.0
        )

    def _spy_barcode(self):
        report_class = self.registry["ir.actions.report"]
        return patch.object(
            report_class, "barcode", autospec=True, side_effect=report_class.barcode
        )

    def _render_html(self, report_ref, records):
        records.invalidate_recordset(["payment_request_qr_id"])
        html = self.env["ir.actions.report"]._render_qweb_html(report_ref, records.ids)[0]
        return lxml_html.fromstring(html)

    def _qr_blocks(self, tree):
        return tree.xpath("//div[@name='payment_request_qr']")

    def _assert_png(self, data, size):
        image = Image.open(io.BytesIO(base64.b64decode(data)))
        self.assertEqual(image.format, "PNG")
        self.assertEqual(image.size, (size, size))


def code_difference(png, other_png):
    """Return how many pixels of two QR code PNGs differ visibly (by more than a quarter of
    the grey scale): two drawings of one code differ only in the anti-aliasing of a few edge
    pixels (by 1 or 2 levels), two codes in whole modules."""
    pixels, other_pixels = (Image.open(io.BytesIO(data)).convert("L") for data in (png, other_png))
    if pixels.size != other_pixels.size:
        return pixels.size[0] * pixels.size[1]
    return sum(
        abs(value - other_value) > 64
        for value, other_value in zip(pixels.getdata(), other_pixels.getdata(), strict=True)
    )


@tagged("post_install", "-at_install")
class TestPaymentRequestQr(QrCodeCommon):
    # === FORM === #

    def test_form_qr_code_is_the_payment_link(self):
        """The form's QR code is Odoo's drawing of the request's whole link: its company's base
        URL, its page and its access token; another link draws another code."""
        request = self._open_request()
        link = request.get_base_url() + f"/payment_request/{request.id}"
        link += f"?access_token={request.access_token}"
        with self._spy_barcode() as barcode:
            qr_code = request.with_user(self.salesman).qr_code
        barcode.assert_called_once()
        self.assertEqual(barcode.call_args.args[1:], ("QR", link))
        size = request._get_qr_code_pixels(link, const.QR_CODE_SIZE)
        self.assertEqual(
            barcode.call_args.kwargs, {"width": size, "height": size, **const.QR_CODE_OPTIONS}
        )
        self.assertEqual(request.payment_link, link)
        self.assertTrue(request.access_token)
        self._assert_png(qr_code, size)
        drawn = base64.b64decode(qr_code)
        redrawn = request._get_qr_code_png(const.QR_CODE_SIZE)
        self.assertEqual(code_difference(drawn, redrawn), 0)
        other = self._open_request()
        self.assertGreater(code_difference(drawn, base64.b64decode(other.qr_code)), 1000)

    def test_qr_code_is_sharp(self):
        """The code is drawn at a whole number of pixels per module, near the size asked:
        black and white only, without the grey lines between rows that reportlab's
        anti-aliasing draws at other sizes (and that scanners trip on)."""
        request = self._open_request()
        link = request._get_payment_link()
        # Version 6 at level M (41 modules) and its 4-module margins on each side.
        value = "https://example.com/payment_request/42?access_token=" + "5f0c7a7e" * 4 + "abcd"
        self.assertEqual(request._get_qr_code_pixels(value, 300), 49 * 6)
        self.assertEqual(request._get_qr_code_pixels(value, 150), 49 * 3)
        # Version 15 (77 modules): never less than a pixel a module.
        self.assertEqual(request._get_qr_code_pixels("x" * 400, 10), 85)
        image = Image.open(io.BytesIO(base64.b64decode(request.qr_code))).convert("L")
        self.assertFalse([value for value in image.getdata() if 40 < value < 215])
        blurred = self.env["ir.actions.report"].barcode(
            "QR", link, width=300, height=300, **const.QR_CODE_OPTIONS
        )
        image = Image.open(io.BytesIO(blurred)).convert("L")
        self.assertTrue([value for value in image.getdata() if 40 < value < 215])

    def test_no_qr_code_unless_the_link_can_be_paid(self):
        """Draft, cancelled, paid and expired requests have no QR code nor link to give; an
        open one partly paid still has them."""
        draft = self._create_request()
        self.assertFalse(draft.qr_code)
        self.assertFalse(draft.payment_link)
        self.assertFalse(draft.access_token, "computing the QR code made no token")
        cancelled = self._open_request()
        cancelled.action_cancel()
        paid = self._open_request()
        paid.sudo().write({"state": "paid"})
        expired = self._open_request()
        expired.sudo().write({"state": "expired"})
        lapsed = self._open_request()
        lapsed.sudo().expiration_date = fields.Datetime.now() - timedelta(minutes=1)
        for request in cancelled | paid | expired | lapsed:
            with self.subTest(state=request.state):
                self.assertFalse(request.qr_code)
                self.assertFalse(request._get_qr_code_url())
        partly_paid = self._open_request(allow_partial_payment=True)
        partly_paid.sudo().amount_paid = 40.0
        self.assertTrue(partly_paid.is_partly_paid)
        self.assertTrue(partly_paid.qr_code)

    # === EMAIL === #

    def test_email_shows_the_qr_code_of_the_link(self):
        """The request's email shows the QR code under the pay button, drawn by Odoo's public
        barcode route on the company's base URL, for the whole link (URL-encoded)."""
        form = self._wizard(self.customer, purpose="free", amount=20.0)
        request = self._send(form)[1]
        self.assertEqual(len(self._new_mails), 1)
        body = self._new_mails.body_html
        tree = lxml_html.fromstring(body)
        images = tree.xpath("//img[contains(@src, '/report/barcode')]")
        self.assertEqual(len(images), 1)
        self.assertEqual(images[0].get("alt"), "QR code of the payment link")
        src = urlsplit(images[0].get("src"))
        self.assertEqual(f"{src.scheme}://{src.netloc}", request.get_base_url())
        self.assertEqual(src.path, "/report/barcode")
        query = parse_qs(src.query)
        link = request.get_base_url() + request.get_portal_url()
        self.assertEqual(query["value"], [link])
        self.assertEqual(query["barcode_type"], ["QR"])
        size = request._get_qr_code_pixels(link, const.QR_CODE_EMAIL_SIZE)
        self.assertEqual((query["width"], query["height"]), ([str(size)], [str(size)]))
        self.assertEqual(images[0].get("width"), "150")
        self.assertIn("value=http", images[0].get("src"))
        self.assertIn("access_token%3D" + request.access_token, images[0].get("src"))
        self.assertIn("Or scan this code with your phone", body)

    # === PDFS === #

    def test_quotation_pdf_shows_the_qr_code_of_its_open_request(self):
        """The quotation's PDF shows the QR code and the link of its most recent payable
        request; none without one, nor once it is cancelled or paid."""
        report = "sale.action_report_saleorder"
        self.assertFalse(self._qr_blocks(self._render_html(report, self.order)))
        older = self._deposit()
        request = self._deposit()
        block = self._qr_blocks(self._render_html(report, self.order))
        self.assertEqual(len(block), 1)
        self.assertIn("Pay online:", block[0].text_content())
        self.assertEqual(block[0].xpath(".//a/@href"), [request._get_payment_link()])
        image = block[0].xpath(".//img/@src")[0]
        self.assertTrue(image.startswith("data:image/png;base64,"))
        self.assertEqual(image.split(",", 1)[1], request.qr_code.decode())
        request.action_cancel()
        block = self._qr_blocks(self._render_html(report, self.order))
        self.assertEqual(block[0].xpath(".//a/@href"), [older._get_payment_link()])
        older.sudo().write({"state": "paid"})
        self.assertFalse(self._qr_blocks(self._render_html(report, self.order)))

    def test_invoice_pdf_shows_the_qr_code_of_its_open_request(self):
        report = "account.account_invoices"
        self.assertFalse(self._qr_blocks(self._render_html(report, self.invoice)))
        request = self._invoice_request()
        block = self._qr_blocks(self._render_html(report, self.invoice))
        self.assertEqual(len(block), 1)
        self.assertEqual(block[0].xpath(".//a/@href"), [request._get_payment_link()])
        self.assertEqual(
            block[0].xpath(".//img/@src"), [f"data:image/png;base64,{request.qr_code.decode()}"]
        )
        other_invoice = self._create_invoice(self.customer, 80.0)
        self.assertFalse(self._qr_blocks(self._render_html(report, other_invoice)))
        request.action_cancel()
        self.assertFalse(self._qr_blocks(self._render_html(report, self.invoice)))

    def test_printing_many_orders_searches_their_requests_once(self):
        """The requests of all the orders printed at once are found in one search: reading the
        QR code of 2 or 6 orders costs the same queries."""
        orders = self.order
        for _index in range(5):
            orders |= self._create_order(self.customer, quantity=2)
        for order in orders:
            self._deposit(order)
        counts = []
        for batch in (orders[:2], orders):
            self.env.invalidate_all()
            batch = batch.browse(batch.ids)
            before = self.cr.sql_log_count
            requests = self.env["payment.request"]
            for order in batch:
                request = order._get_payment_request_qr_request()
                self.assertTrue(request.qr_code)
                request._get_payment_link()
                requests |= request
            counts.append(self.cr.sql_log_count - before)
            self.assertEqual(len(requests), len(batch))
        self.assertEqual(counts[0], counts[1])
        with patch.object(
            self.registry["payment.request"],
            "_get_payable_by_document",
            autospec=True,
            side_effect=self.registry["payment.request"]._get_payable_by_document,
        ) as search:
            tree = self._render_html("sale.action_report_saleorder", orders)
        self.assertEqual(search.call_count, 1)
        self.assertEqual(len(self._qr_blocks(tree)), len(orders))


@tagged("post_install", "-at_install")
class TestPaymentRequestQrRoute(PayPageCommon):
    def test_email_qr_code_url_answers_logged_out(self):
        """The email's image is served to anyone (a mail client has no session): Odoo's
        barcode route draws the PNG of the link."""
        url = urlsplit(self.request._get_qr_code_url())
        response = self.url_open(f"{url.path}?{url.query}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "image/png")
        link = self.request._get_payment_link()
        size = self.request._get_qr_code_pixels(link, const.QR_CODE_EMAIL_SIZE)
        image = Image.open(io.BytesIO(response.content))
        self.assertEqual(image.size, (size, size))
        expected = self.env["ir.actions.report"].barcode(
            "QR", link, width=size, height=size, **const.QR_CODE_OPTIONS
        )
        self.assertEqual(code_difference(response.content, expected), 0)

    def test_customer_sees_the_qr_code_on_their_quotation_from_the_portal(self):
        """The customer's quotation, printed from its portal link, shows its request's code:
        the report runs as superuser there, and the link is the customer's own."""
        product = self.env["product.product"].create({"name": "Kayak rental", "list_price": 80.0})
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [(0, 0, {"product_id": product.id})],
            }
        )
        request = self.env["payment.request"].create(
            {
                "partner_id": self.customer.id,
                "purpose": "deposit",
                "sale_order_id": order.id,
                "amount": 20.0,
            }
        )
        request.action_open()
        response = self.url_open(order.get_portal_url(report_type="html"))
        self.assertEqual(response.status_code, 200)
        tree = lxml_html.fromstring(response.text)
        block = tree.xpath("//div[@name='payment_request_qr']")
        self.assertEqual(len(block), 1)
        self.assertEqual(block[0].xpath(".//a/@href"), [request._get_payment_link()])
