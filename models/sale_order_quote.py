# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What quote approval by payment request needs of the sales order: its fingerprint, its
validity, and an invoice made as soon as it is confirmed."""

import hashlib
import json
from datetime import datetime
from datetime import time

import pytz

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError


class SaleOrder(models.Model):
    # One concern of the model per file (issue 13), as a reviewer reads it.
    _inherit = "sale.order"  # pylint: disable=consider-merging-classes-inherited

    payment_request_quote_outdated = fields.Boolean(
        string="Updated Quotation Not Sent",
        compute="_compute_payment_request_quote_outdated",
        help="The quotation changed after its approval link was sent; the customer can no "
        "longer approve it until a new link is sent.",
    )

    # === COMPUTE METHODS === #

    @api.depends("state", "payment_request_ids.cancel_reason", "payment_request_ids.replaced_by_id")
    def _compute_payment_request_quote_outdated(self):
        # payment.request.quote_outdated, asked of the database for all the orders at once.
        quotations = self.filtered(lambda order: order.state in ("draft", "sent"))
        outdated = set()
        if quotations._origin.ids:
            outdated = {
                order.id
                for [order] in self.env["payment.request"]
                .sudo()
                ._read_group(
                    [
                        ("sale_order_id", "in", quotations._origin.ids),
                        ("cancel_reason", "=", "updated"),
                        ("replaced_by_id", "=", False),
                    ],
                    groupby=["sale_order_id"],
                )
            }
        for order in self:
            # In the form's onchange, the order is a new record whose origin is the order.
            order.payment_request_quote_outdated = order._origin.id in outdated

    # === ACTION METHODS === #

    def action_confirm(self):
        """Override of `sale` to invoice at once the quotations sent for approval and payment.

        The customer pays the invoice on the request's page right after approving, whatever the
        global automatic invoicing setting; the same happens when the salesperson confirms.
        """
        result = super().action_confirm()
        requests = self._get_payment_request_quotes_to_invoice()
        for order, order_requests in requests.grouped("sale_order_id").items():
            order_requests._attach_quote_invoice(order._create_payment_request_invoice())
        return result

    def _get_payment_request_quotes_to_invoice(self):
        """Return the open quotation requests of the orders that pay an invoice made at once.

        :rtype: payment.request
        """
        return (
            self.env["payment.request"]
            .sudo()
            .search(
                [
                    ("sale_order_id", "in", self.ids),
                    ("purpose", "=", "quote"),
                    ("state", "=", "open"),
                ]
            )
        )

    def action_send_updated_quotation(self):
        """Send the customer a new approval link for the updated quotation."""
        self.ensure_one()
        outdated = self.sudo().payment_request_ids.filtered("quote_outdated")[:1]
        if not outdated:
            return False
        return self.env["payment.request"].browse(outdated.id).action_send_updated_quotation()

    # === BUSINESS METHODS === #

    def _create_payment_request_invoice(self):
        """Create and post the invoice that a quotation's payment request makes the customer pay.

        A regular invoice of the lines invoiced on order; when none is, a down payment invoice
        of the whole order.

        :return: the posted invoices
        :rtype: account.move
        """
        self.ensure_one()
        order = self.sudo().with_company(self.company_id)
        invoices = order.with_context(raise_if_nothing_to_invoice=False)._create_invoices(
            final=True
        )
        if not invoices:
            # Odoo's own down payment wizard, as `sale.order._generate_downpayment_invoices`
            # uses it: `sale` has no model method that invoices a percentage of an order.
            wizard = (
                self.env["sale.advance.payment.inv"]
                .sudo()
                .with_company(order.company_id)
                .with_context(active_model="sale.order", active_ids=order.ids)
                .create(
                    {
                        "advance_payment_method": "percentage",
                        "amount": 100,
                        "sale_order_ids": [(6, 0, order.ids)],
                    }
                )
            )
            invoices = wizard._create_invoices(order)
        invoices.action_post()
        for invoice in invoices:
            invoice._portal_ensure_token()
        return invoices

    def _get_payment_request_fingerprint(self):
        """Return a digest of the quotation as the customer sees it: lines, prices, total.

        :rtype: str
        """
        self.ensure_one()
        lines = [
            [
                line.id,
                line.display_type or "",
                line.product_id.id,
                line.name or "",
                line.product_uom_qty,
                line.product_uom.id,
                line.price_unit,
                line.discount,
                sorted(line.tax_id.ids),
            ]
            for line in self.order_line.sorted("id")
        ]
        content = [lines, self.currency_id.id, self.amount_total]
        return hashlib.sha256(json.dumps(content, default=str).encode()).hexdigest()

    def _get_payment_request_validity_end(self):
        """Return the end of the quotation's validity date (UTC, naive), or datetime.max.

        The validity date is a day in the customer's time zone (else the company's).
        """
        self.ensure_one()
        if not self.validity_date:
            return datetime.max
        tz_name = self.partner_id.tz or self.company_id.partner_id.tz or "UTC"
        end = pytz.timezone(tz_name).localize(datetime.combine(self.validity_date, time.max))
        return end.astimezone(pytz.UTC).replace(tzinfo=None, microsecond=0)

    def _check_payment_request_quotes(self):
        """Close the approval links of quotations that changed since they were sent."""
        quotations = self.filtered(lambda order: order.state in ("draft", "sent"))
        if not quotations:
            return
        requests = (
            self.env["payment.request"]
            .sudo()
            .search(
                [
                    ("sale_order_id", "in", quotations.ids),
                    ("purpose", "=", "quote"),
                    ("state", "=", "open"),
                ]
            )
        )
        requests.filtered(
            lambda request: (
                request.quote_fingerprint
                != request.sale_order_id._get_payment_request_fingerprint()
            )
        )._mark_quote_updated()

    # === PAYMENT REQUESTS === #

    def _check_payment_request_quotation(self):
        """Refuse to send for approval an order that is no quotation, an expired one or an
        empty one.

        :raise UserError: naming the order and what to do
        """
        self.ensure_one()
        if self.state not in ("draft", "sent"):
            raise UserError(
                self.env._(
                    "The order %(order)s is already confirmed: only a quotation can be sent for "
                    "approval. Request its payment instead.",
                    order=self.name,
                )
            )
        if self.is_expired:
            raise UserError(
                self.env._(
                    "The quotation %(order)s expired on %(date)s: extend its expiration date "
                    "before sending it for approval.",
                    order=self.name,
                    date=fields.Date.to_string(self.validity_date),
                )
            )
        if not self.order_line.filtered(lambda line: not line.display_type):
            raise UserError(
                self.env._("The quotation %(order)s has no line to approve.", order=self.name)
            )
