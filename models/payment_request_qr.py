# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The QR code of a request's link: on its form for a customer at the counter or on the phone,
in its email, and on the PDFs of the quotation or invoice it asks to pay.

Odoo draws it (``ir.actions.report.barcode``, its public route ``/report/barcode``): no other
service sees the link."""

import base64
from urllib.parse import urlencode

from reportlab.graphics.barcode.qr import QrCodeWidget

from odoo import api
from odoo import fields
from odoo import models

from .. import const


class PaymentRequest(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    payment_link = fields.Char(
        compute="_compute_payment_link",
        help="The link of the request's page while it can be paid, to give the customer.",
    )
    qr_code = fields.Binary(
        string="QR Code",
        compute="_compute_qr_code",
        attachment=False,
        help="The payment link as a QR code, while it can be paid: the customer scans it with "
        "their phone to open the request's page.",
    )

    # === COMPUTE METHODS === #

    @api.depends("state", "expiration_date", "access_token", "company_id")
    def _compute_payment_link(self):
        for request in self:
            request.payment_link = request._is_link_payable() and request._get_payment_link()

    @api.depends("state", "expiration_date", "access_token", "company_id")
    def _compute_qr_code(self):
        for request in self:
            request.qr_code = request._is_link_payable() and base64.b64encode(
                request._get_qr_code_png(const.QR_CODE_SIZE)
            )

    # === BUSINESS METHODS === #

    def _is_link_payable(self):
        """Whether the request's link can be paid now (partly paid included): only then is it
        worth a QR code. A draft has no link yet; an expired, cancelled or paid one only says so.
        """
        self.ensure_one()
        return self.state == "open" and bool(self.access_token) and not self._is_past_expiration()

    def _get_payment_link(self):
        """Return the full URL of the request's page, with its access token, on the base URL of
        its company: what the email, the SMS and the QR code give the customer."""
        self.ensure_one()
        return self.get_base_url() + self.get_portal_url()

    def _get_qr_code_png(self, size):
        """Return the QR code of the payment link as a PNG image.

        :param int size: about its width and height, in pixels (`_get_qr_code_pixels`)
        :rtype: bytes
        """
        self.ensure_one()
        link = self._get_payment_link()
        pixels = self._get_qr_code_pixels(link, size)
        return self.env["ir.actions.report"].barcode(
            "QR", link, width=pixels, height=pixels, **const.QR_CODE_OPTIONS
        )

    @api.model
    def _get_qr_code_pixels(self, value, size):
        """Return the size nearest `size` at which Odoo draws the QR code of `value` sharp: a
        whole number of pixels per module. At any other size reportlab draws the modules at
        fractional coordinates and its anti-aliasing leaves grey lines between their rows, that
        scanners trip on (zbarimg reads no 150-pixel code of a link).

        :param str value: what the code holds
        :param int size: the size wanted, in pixels
        :rtype: int
        """
        # The encoder of Odoo's drawing (createBarcodeDrawing('QR')): the same version.
        widget = QrCodeWidget(value, barLevel=const.QR_CODE_OPTIONS["barLevel"])
        widget.qr.make()
        modules = widget.qr.getModuleCount() + 2 * const.QR_CODE_BORDER
        return modules * max(1, round(size / modules))

    def _get_qr_code_url(self, size=const.QR_CODE_EMAIL_SIZE):
        """Return the absolute URL of the QR code of the payment link on Odoo's public barcode
        route, for an email (a mail client shows no data: image); empty unless the link can
        be paid.

        :param int size: about its width and height, in pixels (`_get_qr_code_pixels`)
        :rtype: str
        """
        self.ensure_one()
        if not self._is_link_payable():
            return ""
        link = self._get_payment_link()
        pixels = self._get_qr_code_pixels(link, size)
        query = urlencode(
            {
                "barcode_type": "QR",
                "value": link,
                "width": pixels,
                "height": pixels,
                **const.QR_CODE_OPTIONS,
            }
        )
        return f"{self.get_base_url()}/report/barcode?{query}"

    @api.model
    def _get_payable_by_document(self, documents, field_name):
        """Return the most recent request of each document whose link can be paid now, for
        the documents' PDFs, in one search whatever their number.

        The search is made as superuser: whoever prints a document may read it, and the
        request's link is what its customer received anyway.

        :param documents: `sale.order` or `account.move` records
        :param str field_name: the field of the requests that holds their documents
            (`sale_order_id`, `invoice_ids`)
        :return: {document id: payment.request (sudo)}
        :rtype: dict
        """
        ids = set(documents._origin.ids)
        if not ids:
            return {}
        requests = self.sudo().search(
            [(field_name, "in", list(ids)), ("state", "=", "open")], order="id desc"
        )
        result = {}
        for request in requests:
            if not request._is_link_payable():
                continue
            for document_id in request[field_name].ids:
                if document_id in ids:
                    result.setdefault(document_id, request)
        return result
