# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging

from markupsafe import Markup

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools import format_amount

_logger = logging.getLogger(__name__)

# Transactions of an invoice that forbid another charge: one is under way or done. A draft
# online transaction is a payment form the customer opened and may have left: it does not.
BLOCKING_TX_STATES = ("pending", "authorized", "done")


class AccountMove(models.Model):
    _inherit = "account.move"

    payment_request_autopay = fields.Boolean(
        string="Auto-pay",
        compute="_compute_payment_request_autopay",
        help="An order of the invoice pays it with a saved card.",
    )

    @api.depends("line_ids.sale_line_ids.order_id.payment_request_autopay_state")
    def _compute_payment_request_autopay(self):
        for move in self:
            move.payment_request_autopay = bool(
                move.move_type == "out_invoice" and move._payment_request_get_autopay_order()
            )

    def write(self, vals):
        result = super().write(vals)
        if vals.get("state") in ("draft", "cancel"):
            self._withdraw_payment_requests(vals["state"])
        return result

    def _post(self, soft=True):
        """Override of `account` to charge the saved card of the auto-pay orders invoiced."""
        posted = super()._post(soft=soft)
        posted._payment_request_autopay()
        return posted

    def _withdraw_payment_requests(self, state):
        """Withdraw the open requests of invoices reset to draft or cancelled."""
        requests = (
            self.env["payment.request"]
            .sudo()
            .search([("invoice_ids", "in", self.ids), ("state", "in", ("draft", "open"))])
        )
        for request in requests:
            invoices = ", ".join((request.invoice_ids & self).mapped("display_name"))
            if state == "draft":
                reason = self.env._(
                    "the invoice %(invoices)s was reset to draft", invoices=invoices
                )
            else:
                reason = self.env._("the invoice %(invoices)s was cancelled", invoices=invoices)
            request._withdraw(reason)

    # === AUTO-PAY === #

    def _payment_request_get_autopay_order(self):
        """Return the order whose auto-pay charges the invoice, if any.

        :return: the first invoiced order with auto-pay on, in sudo mode
        :rtype: sale.order
        """
        self.ensure_one()
        return self.sudo().line_ids.sale_line_ids.order_id.filtered(
            lambda order: (
                order.payment_request_autopay_state == "on" and order.payment_request_token_id
            )
        )[:1]

    def _payment_request_autopay(self):
        """Charge the posted customer invoices of auto-pay orders to the orders' cards."""
        for invoice in self.filtered(
            lambda move: move.move_type == "out_invoice" and move.state == "posted"
        ):
            order = invoice._payment_request_get_autopay_order()
            if order:
                invoice._payment_request_charge_saved_card(order)

    def action_payment_request_charge_card(self):
        """Charge the residual of the invoices to their auto-pay card now (a retry)."""
        if not self.env.user.has_group("payment_request.group_customer_cards"):
            raise UserError(self.env._("Only users with the Customer cards right charge cards."))
        self.check_access("write")
        for invoice in self:
            order = invoice._payment_request_get_autopay_order()
            if not order:
                raise UserError(
                    self.env._(
                        "No order of the invoice %(invoice)s has auto-pay enabled.",
                        invoice=invoice.name,
                    )
                )
            invoice._payment_request_charge_saved_card(order)
        return True

    def _payment_request_charge_saved_card(self, order):
        """Charge the residual of the invoice off-session to the order's saved card.

        Idempotent: the invoice row is locked, and nothing is charged while another transaction
        of the invoice is under way or done, or the invoice has nothing left to pay.

        :param sale.order order: the order whose card pays
        :return: the transaction, or an empty recordset when nothing was charged
        :rtype: payment.transaction
        """
        self.ensure_one()
        transactions = self.env["payment.transaction"].sudo()
        self.env.cr.execute(SQL("SELECT id FROM account_move WHERE id = %s FOR UPDATE", self.id))
        self.invalidate_recordset(["amount_residual", "payment_state"])
        if self.payment_state not in ("not_paid", "partial") or self.currency_id.is_zero(
            self.amount_residual
        ):
            return transactions
        if self.sudo().transaction_ids.filtered(
            lambda tx: (
                tx.state in BLOCKING_TX_STATES
                or (tx.state == "draft" and tx.operation == "offline")
            )
        ):
            return transactions
        token = order.payment_request_token_id
        if not token.active or token.is_expired:
            self._payment_request_autopay_failed(
                order,
                transactions,
                self.env._("the card %(card)s is deactivated or expired", card=token.display_name),
            )
            return transactions
        tx = transactions.create(self._payment_request_autopay_tx_values(token, order))
        try:
            with self.env.cr.savepoint():
                tx._send_payment_request()
        except (UserError, ValidationError) as error:
            _logger.warning(
                "Auto-pay of %s with the token %s failed: %s", self.name, token.id, error
            )
            tx._set_error(str(error))
        if tx.state == "draft":
            # The provider asks for the customer's action (3-D Secure): impossible off-session.
            # Stripe itself answers such charges with an error; a draft would block the retries.
            tx._set_error(self.env._("the card requires the customer's authentication"))
        if tx.state in ("done", "error", "cancel"):
            # At once, rather than from the post-processing cron, so that whoever posted the
            # invoice sees it paid (or the request sent). A pending charge is left to the cron.
            tx._post_process()
        return tx

    def _payment_request_autopay_tx_values(self, token, order):
        """Return the create values of the off-session transaction that pays the invoice.

        :param payment.token token: the card charged
        :param sale.order order: the order whose auto-pay charges it
        :rtype: dict
        """
        self.ensure_one()
        invoice_command = [Command.set(self.ids)]
        return {
            "provider_id": token.provider_id.id,
            "payment_method_id": token.payment_method_id.id,
            "reference": self.env["payment.transaction"]
            .sudo()
            ._compute_reference(token.provider_id.code, invoice_ids=invoice_command),
            "amount": self.amount_residual,
            "currency_id": self.currency_id.id,
            "partner_id": self.partner_id.id,
            "token_id": token.id,
            "operation": "offline",
            "invoice_ids": invoice_command,
            "payment_request_autopay_order_id": order.id,
        }

    def _payment_request_autopay_succeeded(self, order, tx):
        """Send the receipt of the payment and log the charge on the order."""
        self.ensure_one()
        payment = tx.payment_id
        if payment and self.partner_id.email:
            payment.sudo().message_post_with_source(
                "account.mail_template_data_payment_receipt",
                subtype_xmlid="mail.mt_comment",
                partner_ids=self.partner_id.ids,
            )
        order.message_post(
            body=Markup(
                self.env._(
                    "Auto-pay: %(amount)s charged to %(card)s for the invoice %(invoice)s "
                    "(transaction %(reference)s).",
                    amount=format_amount(self.env, tx.amount, tx.currency_id),
                    card=tx.token_id.display_name,
                    invoice=self._get_html_link(),
                    reference=tx.reference,
                )
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _payment_request_autopay_failed(self, order, tx, reason):
        """Pause the order's auto-pay and send the customer a request to pay the invoice.

        :param sale.order order: the order whose card was refused
        :param payment.transaction tx: the failed transaction (empty if none was made)
        :param str reason: why the charge failed
        """
        self.ensure_one()
        order._payment_request_pause_autopay(
            self.env._(
                "the charge of the invoice %(invoice)s failed (%(reason)s)",
                invoice=self.name,
                reason=reason,
            )
        )
        request = (
            self.env["payment.request"]
            .sudo()
            .create(
                {
                    "partner_id": self.partner_id.id,
                    "company_id": self.company_id.id,
                    "currency_id": self.currency_id.id,
                    "purpose": "invoice",
                    "amount": self.amount_residual,
                    "invoice_ids": [Command.set(self.ids)],
                    "description": self.env._("Payment of invoice %(invoice)s", invoice=self.name),
                    "external_reference": self.ref or False,
                    "user_id": (order.user_id or self.env.user).id,
                }
            )
        )
        channel, number = self.partner_id._payment_request_get_channel(self.company_id)
        if channel:
            request._send_link(channel, {request.id: self.partner_id}, {request.id: number})
        else:
            request.action_open()
            request._notify_requester(
                self.env._(
                    "The customer has neither an email address nor a mobile number: send them "
                    "this request yourself."
                )
            )
        self.message_post(
            body=Markup(
                self.env._(
                    "The saved card could not be charged (%(reason)s): payment request "
                    "%(request)s sent to the customer.",
                    reason=reason,
                    request=request._get_html_link(),
                )
            ),
            subtype_xmlid="mail.mt_note",
        )
        return request
