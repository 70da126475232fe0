# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging

from odoo import api
from odoo import fields
from odoo import models
from odoo import modules
from odoo import tools
from odoo.tools import format_amount

_logger = logging.getLogger(__name__)


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    payment_request_id = fields.Many2one(
        comodel_name="payment.request",
        index="btree_not_null",
        readonly=True,
        ondelete="restrict",
    )
    payment_request_autopay_order_id = fields.Many2one(
        string="Auto-pay Order",
        comodel_name="sale.order",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
        help="The order whose auto-pay made this off-session charge.",
    )
    payment_request_duplicate_state = fields.Selection(
        string="Duplicate Payment",
        selection=[
            ("detected", "To refund"),
            ("to_refund", "Refund scheduled"),
            ("refunded", "Refund requested"),
            ("error", "Refund failed"),
        ],
        readonly=True,
        copy=False,
        help="Set on a payment confirmed after its payment request was already paid.",
    )
    payment_request_counted = fields.Boolean(
        readonly=True,
        copy=False,
        help="Whether the payment is counted in what its payment request has been paid.",
    )
    payment_card_request_id = fields.Many2one(
        comodel_name="payment.card.request",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
    )

    @api.model
    def _compute_reference_prefix(self, provider_code, separator, **values):
        """Override of `payment` to name the attempts of a request after the request.

        :param str provider_code: The code of the provider handling the transaction
        :param str separator: The custom separator used to separate data references
        :param dict values: The transaction values; `payment_request_id` when paying a request
        :return: The number of the request (and of the attempt), or the prefix of `super`
        :rtype: str
        """
        request_id = values.get("payment_request_id")
        if request_id:
            request = self.env["payment.request"].sudo().browse(request_id).exists()
            if request:
                return request._get_transaction_reference_prefix()
        return super()._compute_reference_prefix(provider_code, separator, **values)

    def _post_process(self):
        """Override of `payment` to settle the payment requests of confirmed transactions.

        `account_payment` and `sale` have created the payment, reconciled it with the linked
        invoices and confirmed the linked quotation; the request is then marked paid.
        """
        result = super()._post_process()
        done = self.filtered(
            lambda tx: (
                tx.state == "done"
                and tx.payment_request_id
                and tx.operation not in ("refund", "validation")
            )
        )
        for tx in done:
            tx._payment_request_mark_paid()
        self._payment_request_settle_duplicate_refunds()
        for tx in self.filtered(
            lambda tx: tx.state in ("authorized", "done") and tx.payment_card_request_id
        ):
            if tx.token_id:
                tx.payment_card_request_id.sudo()._mark_done(tx.token_id)
        self._payment_request_handle_autopay_outcome()
        return result

    # === BUSINESS METHODS: PAYMENT REQUESTS === #

    def _payment_request_mark_paid(self):
        """Mark the payment request of this confirmed transaction paid, and tell its requester.

        A request is paid once: another confirmed payment of a paid request is recorded as a
        duplicate (`_payment_request_record_duplicate`). A payment confirmed after the request
        expired or was cancelled is real money all the same: the request becomes paid, flagged
        as paid late, and its requester is asked to check it. The receipt is left to its cron
        (`payment.request._cron_send_receipts`), so that a failure to render or email it cannot
        keep the request unpaid.
        """
        self.ensure_one()
        request = self.payment_request_id
        request._lock_for_update()
        request.invalidate_recordset()
        request = request.sudo()
        if self.payment_request_counted or self.payment_request_duplicate_state:
            return  # already handled: post-processing ran twice
        if request.state == "paid":
            # Requests paid before paid_transaction_id existed: a duplicate needs another
            # confirmed payment of the request.
            if request.paid_transaction_id or request.transaction_ids.filtered(
                lambda tx: (
                    tx != self
                    and tx.state == "done"
                    and tx.operation not in ("refund", "validation")
                )
            ):
                self._payment_request_record_duplicate()
            return
        late_from = request.state if request.state in ("expired", "cancelled") else False
        self.sudo().payment_request_counted = True
        if not request._register_payment(self):
            self._payment_request_mark_partly_paid(late_from)
            return
        vals = {
            "state": "paid",
            "paid_date": self.last_state_change,
            "paid_transaction_id": self.id,
            "is_read": False,
            "receipt_state": "to_send" if request.partner_id.email else "none",
            "receipt_error": False,
        }
        if late_from:
            vals["paid_late"] = True
        request.write(vals)
        request._notify_requester(
            self.env._(
                "Paid by %(customer)s: %(amount)s (transaction %(reference)s).",
                customer=self.partner_id.display_name,
                amount=format_amount(self.env, self.amount, self.currency_id),
                reference=self.reference,
            )
        )
        if late_from:
            self._payment_request_notify_late(late_from)
            request._withdraw_replacements()
        if vals["receipt_state"] == "to_send":
            self.env.ref("payment_request.ir_cron_send_payment_request_receipts")._trigger()

    def _payment_request_mark_partly_paid(self, late_from):
        """Record this confirmed payment of part of its request: the request stays as it is,
        with what remains to pay, and the customer gets the receipt of this payment.

        :param str late_from: the state the request was in when it was no longer payable,
            'expired' or 'cancelled'; False while it is open
        """
        self.ensure_one()
        request = self.payment_request_id.sudo()
        request.write(
            {
                "is_read": False,
                "receipt_state": "to_send" if request.partner_id.email else "none",
                "receipt_error": False,
            }
        )
        request._notify_partly_paid(self)
        # A discount holds only for the whole amount paid at once.
        request._check_early_discount()
        if late_from:
            self._payment_request_notify_late(late_from)
        if request.receipt_state == "to_send":
            self.env.ref("payment_request.ir_cron_send_payment_request_receipts")._trigger()

    def _payment_request_notify_late(self, late_from):
        """Tell the requester that the request was paid after it expired or was cancelled.

        :param str late_from: the state the request was in, 'expired' or 'cancelled'
        """
        self.ensure_one()
        if late_from == "expired":
            message = self.env._(
                "Paid late: the payment %(reference)s was confirmed after the request expired. "
                "It is booked and the request is paid; check that the customer was not asked to "
                "pay again.",
                reference=self.reference,
            )
        else:
            message = self.env._(
                "Paid late: the payment %(reference)s was confirmed after the request was "
                "cancelled. It is booked and the request is paid; refund it if it is not due.",
                reference=self.reference,
            )
        request = self.payment_request_id
        request._notify_requester(message)
        request._schedule_payment_check(message, request.user_id)

    def _payment_request_record_duplicate(self):
        """Record this transaction as a second payment of its paid request and tell who must act.

        `account_payment` has booked it (a payment left as customer credit); the requester and
        the Payment Managers get an activity, and the payment is refunded at once when the
        company asks for it and the provider can refund.
        """
        self.ensure_one()
        request = self.payment_request_id
        auto_refund = (
            request.company_id.payment_request_auto_refund_duplicates
            and self.provider_id.sudo().support_refund != "none"
        )
        self.sudo().payment_request_duplicate_state = "to_refund" if auto_refund else "detected"
        request.sudo().write({"is_paid_twice": True, "is_read": False})
        paid_by = request.sudo().paid_transaction_id
        message = self.env._(
            "Paid twice: the payment %(reference)s of %(amount)s was confirmed after the request "
            "was already paid by %(paid_by)s. It is booked as customer credit until it is "
            "refunded.",
            reference=self.reference,
            amount=format_amount(self.env, self.amount, self.currency_id),
            paid_by=paid_by.reference or "-",
        )
        if auto_refund:
            message += " " + self.env._("It is refunded automatically.")
        request._notify_requester(message)
        managers = (
            self.env.ref("payment_request.group_payment_manager")
            .sudo()
            .users.filtered(lambda user: not user.share and request.company_id in user.company_ids)
        )
        request._schedule_payment_check(message, request.user_id | managers)
        if auto_refund:
            self.env.ref("payment_request.ir_cron_refund_payment_request_duplicates")._trigger()

    def _payment_request_settle_duplicate_refunds(self):
        """Reconcile the refunds of duplicate payments with the payments they give back.

        The duplicate was left as customer credit; its refund is an outbound payment on the same
        receivable account. Matched, neither shows as prepaid balance any more.
        """
        self.filtered(
            lambda tx: tx.source_transaction_id.payment_request_duplicate_state
        )._payment_request_reconcile_refunds()

    def _payment_request_reconcile_refunds(self):
        """Reconcile these confirmed refunds with the payments they give back, while those are
        still customer credit."""
        for refund in self.filtered(
            lambda tx: tx.state == "done" and tx.operation == "refund" and tx.payment_id
        ):
            source_payment = refund.source_transaction_id.payment_id
            lines = (
                refund.payment_id.move_id.line_ids | source_payment.move_id.line_ids
            ).filtered_domain(
                [
                    ("account_id", "=", source_payment.destination_account_id.id),
                    ("reconciled", "=", False),
                ]
            )
            if len(lines) > 1:
                lines.reconcile()

    def _payment_request_refund_duplicate(self, commit=False):
        """Ask the providers to refund these duplicate payments of payment requests.

        Each refund runs in its own savepoint: a provider's refusal is recorded on the request
        and leaves the others to go on. Only what was not refunded yet is refunded (a refund
        made meanwhile with Odoo's own Refund button counts). With `commit` (the cron), each
        refund is committed as soon as the provider accepted it, so that a later failure of
        the run cannot roll it back and have it sent again.

        :param bool commit: commit after each refund (never in tests)
        """
        for tx in self:
            request = tx.payment_request_id
            refunded = sum(
                tx.child_transaction_ids.filtered(
                    lambda child: (
                        child.operation == "refund" and child.state not in ("error", "cancel")
                    )
                ).mapped("amount")
            )
            left = tx.amount + refunded  # refunds are negative amounts
            if tx.currency_id.compare_amounts(left, 0) <= 0:
                tx.payment_request_duplicate_state = "refunded"
                continue
            try:
                with self.env.cr.savepoint():
                    tx.sudo()._send_refund_request(amount_to_refund=left)
            except Exception as error:  # pylint: disable=broad-except
                _logger.exception("Refund of the duplicate payment %s failed", tx.reference)
                tx.payment_request_duplicate_state = "error"
                request._notify_requester(
                    self.env._(
                        "The refund of the duplicate payment %(reference)s failed: %(reason)s",
                        reference=tx.reference,
                        reason=str(error) or error.__class__.__name__,
                    )
                )
                continue
            tx.payment_request_duplicate_state = "refunded"
            request._notify_requester(
                self.env._(
                    "Refund of the duplicate payment %(reference)s requested.",
                    reference=tx.reference,
                )
            )
            if commit and not tools.config["test_enable"] and not modules.module.current_test:
                self.env.cr.commit()  # pylint: disable=invalid-commit

    def _payment_request_handle_autopay_outcome(self):
        """Settle the auto-pay charges that reached a final state.

        Success: the receipt goes to the customer (`account_payment` has created and reconciled
        the payment). Failure: the order's auto-pay is paused and the customer is asked to pay
        the invoice by a payment request. Runs once per transaction, from its post-processing,
        whether the provider answered at once or later (pending charges, webhooks).
        """
        for tx in self.filtered("payment_request_autopay_order_id"):
            invoice = tx.invoice_ids[:1]
            order = tx.payment_request_autopay_order_id
            if not invoice:
                continue
            if tx.state == "done":
                invoice._payment_request_autopay_succeeded(order, tx)
            elif tx.state in ("error", "cancel"):
                invoice._payment_request_autopay_failed(
                    order, tx, tx.state_message or self.env._("the payment was refused")
                )
