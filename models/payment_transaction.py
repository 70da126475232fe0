# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging

from odoo import api
from odoo import fields
from odoo import models
from odoo import modules
from odoo import tools

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
        :return: The number of the request, or the prefix of `super`
        :rtype: str
        """
        request_id = values.get("payment_request_id")
        if request_id:
            request = self.env["payment.request"].sudo().browse(request_id).exists()
            if request:
                return request.name
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
            tx.payment_request_id._mark_paid(tx)
        self._payment_request_settle_duplicate_refunds()
        for tx in self.filtered(
            lambda tx: tx.state in ("authorized", "done") and tx.payment_card_request_id
        ):
            if tx.token_id:
                tx.payment_card_request_id.sudo()._mark_done(tx.token_id)
        self._payment_request_handle_autopay_outcome()
        return result

    def _payment_request_settle_duplicate_refunds(self):
        """Reconcile the refunds of duplicate payments with the payments they give back.

        The duplicate was left as customer credit; its refund is an outbound payment on the same
        receivable account. Matched, neither shows as prepaid balance any more.
        """
        for refund in self.filtered(
            lambda tx: (
                tx.state == "done"
                and tx.operation == "refund"
                and tx.payment_id
                and tx.source_transaction_id.payment_request_duplicate_state
            )
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
