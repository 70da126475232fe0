# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Quote approval: the customer approves and signs the quotation on the request's page, the
order is confirmed and invoiced, and the request pays the invoice."""

from markupsafe import Markup

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError


class PaymentRequest(models.Model):
    # One concern of the model per file (issue 13), as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    decline_reason = fields.Text(
        readonly=True, copy=False, help="Why the customer declined the quotation."
    )
    quote_fingerprint = fields.Char(
        readonly=True,
        copy=False,
        help="Digest of the quotation as its link showed it; a different one means that the "
        "quotation changed after the link was sent.",
    )
    quote_outdated = fields.Boolean(
        string="Updated Quotation Not Sent",
        compute="_compute_quote_outdated",
        help="The quotation changed after this link was sent and no new link was sent yet.",
    )

    # === COMPUTE METHODS === #

    @api.depends("state", "cancel_reason", "replaced_by_id", "sale_order_id.state")
    def _compute_quote_outdated(self):
        for request in self:
            request.quote_outdated = (
                request.cancel_reason == "updated"
                and not request.replaced_by_id
                and request.sale_order_id.state in ("draft", "sent")
            )

    # === BUSINESS METHODS === #

    def _is_quote_to_approve(self):
        """Whether the request asks the customer to approve its quotation first."""
        self.ensure_one()
        return self.purpose == "quote" and self.sale_order_id.state in ("draft", "sent")

    def _check_quote_status(self):
        """Refuse to approve or decline unless the quotation awaits the customer's answer.

        :raise ValidationError: with a message for the customer
        """
        self.ensure_one()
        status = self._get_customer_status()
        if status == "approve":
            return
        messages = {
            "expired": self.env._("This quotation has expired: it can no longer be approved."),
            "updated": self.env._(
                "This quotation was updated after this link was sent: it can no longer be "
                "approved. Please use the link of the updated quotation."
            ),
            "declined": self.env._("This quotation was declined."),
            "paid": self.env._("This quotation is already approved and paid."),
            "payable": self.env._("This quotation is already approved."),
            "processing": self.env._("This quotation is already approved."),
        }
        raise ValidationError(
            messages.get(status, self.env._("This quotation can no longer be approved."))
        )

    def _approve_quote(self, name, signature):
        """Record the customer's signature, confirm the quotation and invoice it.

        Approving an order that is already approved does nothing.

        :param str name: who signs
        :param str signature: the signature image, base64-encoded
        :return: whether the quotation was approved by this call
        :rtype: bool
        """
        self.ensure_one()
        self._lock_for_update()
        if self.purpose != "quote":
            raise ValidationError(self.env._("This payment request has no quotation to approve."))
        order = self.sale_order_id
        if self.state == "open" and order.state == "sale":
            return False
        self._check_quote_status()
        if not (name or "").strip():
            raise ValidationError(self.env._("Enter your name to sign the quotation."))
        if not signature:
            raise ValidationError(self.env._("Draw or type your signature to approve."))
        order.write(
            {"signed_by": name.strip(), "signed_on": fields.Datetime.now(), "signature": signature}
        )
        # Confirmed as sale's own accept route does (with its confirmation email); confirming
        # invoices the quotation for this request (sale.order.action_confirm).
        order._validate_order()
        pdf = (
            self.env["ir.actions.report"]
            .sudo()
            ._render_qweb_pdf("sale.action_report_saleorder", [order.id])[0]
        )
        order.message_post(
            attachments=[(f"{order.name}.pdf", pdf)],
            author_id=self.partner_id.id,
            body=self.env._(
                "Order signed by %(name)s through payment request %(request)s.",
                name=name.strip(),
                request=self.name,
            ),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self._notify_requester(self._get_quote_approved_message(name.strip()))
        return True

    def _get_quote_approved_message(self, name):
        """Return what the requester is told once the customer `name` approved the quotation."""
        self.ensure_one()
        return self.env._(
            "%(name)s approved and signed the quotation %(order)s; invoice %(invoice)s awaits "
            "their payment.",
            name=name,
            order=self.sale_order_id.name,
            invoice=", ".join(self.invoice_ids.mapped("name")) or "-",
        )

    def _decline_quote(self, reason):
        """Cancel the quotation with the customer's reason, and this request with it.

        :param str reason: why the customer declines; required
        """
        self.ensure_one()
        self._lock_for_update()
        if self.purpose != "quote":
            raise ValidationError(self.env._("This payment request has no quotation to decline."))
        self._check_quote_status()
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError(self.env._("Tell us why you decline the quotation."))
        order = self.sale_order_id
        # Cancelled before the order, whose cancellation withdraws its open requests.
        self.sudo().write(
            {
                "state": "cancelled",
                "cancel_reason": "declined",
                "decline_reason": reason,
                "is_read": False,
            }
        )
        order._action_cancel()
        order.message_post(
            author_id=self.partner_id.id,
            body=self.env._("Quotation declined: %(reason)s", reason=reason),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self._notify_requester(
            self.env._(
                "%(customer)s declined the quotation %(order)s: %(reason)s",
                customer=self.partner_id.display_name,
                order=order.name,
                reason=reason,
            )
        )

    def _attach_quote_invoice(self, invoices):
        """Make the open quotation requests pay `invoices`, made when their order was confirmed.

        :param account.move invoices: the posted invoices of the request's order
        """
        for request in self.filtered(lambda request: request.state == "open"):
            due = sum(invoices.mapped("amount_residual"))
            request.sudo().write(
                {
                    "invoice_ids": [Command.set(invoices.ids)],
                    "amount": request.currency_id.round(due),
                }
            )

    def _mark_quote_updated(self):
        """Cancel the links of quotations that changed since, and tell their salespeople."""
        requests = self.filtered(lambda request: request.state in ("draft", "open"))
        if not requests:
            return
        requests.sudo().write({"state": "cancelled", "cancel_reason": "updated", "is_read": False})
        for request in requests:
            request._notify_requester(
                self.env._(
                    "The quotation %(order)s changed after its link was sent: the link can no "
                    'longer be approved. Use "Send updated quotation" to send the new version.',
                    order=request.sale_order_id.name,
                )
            )

    # === ACTION METHODS === #

    def action_send_updated_quotation(self):
        """Send the customer a new link for the updated quotation, by the same channel.

        :return: a window action opening the new request
        """
        self.ensure_one()
        self.check_access("write")
        if not self.quote_outdated:
            raise UserError(
                self.env._(
                    "Only a quotation that changed after its link was sent can be sent again "
                    "this way (%(name)s).",
                    name=self.name,
                )
            )
        order = self.sale_order_id
        channel = self.channel or "email"
        values = order._get_payment_request_values("quote")
        partner = values["partner_id"]
        # The same contact as the outdated link, by the same channel.
        email, number = partner._payment_request_check_contact(
            channel,
            self.partner_id.email,
            self.partner_id.mobile or self.partner_id.phone,
            values["company_id"],
        )
        new_request = self.create(self._prepare_values_from_document("quote", values))
        recipient = partner._payment_request_get_recipient(email)
        new_request._send_link(channel, {new_request.id: recipient}, {new_request.id: number})
        new_request._log_on_documents(order, channel)
        self.sudo().replaced_by_id = new_request
        self.message_post(
            body=Markup(
                self.env._(
                    "Updated quotation sent: replaced by %(link)s.",
                    link=new_request._get_html_link(),
                )
            )
        )
        return new_request._get_form_action()
