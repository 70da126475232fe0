# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The payments of an opportunity's requests: tagged with the opportunity, their refunds
taken off it."""

from odoo import models


class PaymentTransaction(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "payment.transaction"  # pylint: disable=consider-merging-classes-inherited

    def _get_payment_request_opportunity(self):
        """Return the opportunity whose request this payment (or the payment it refunds) pays."""
        self.ensure_one()
        request = self.payment_request_id or self.source_transaction_id.payment_request_id
        return request.sudo().opportunity_id

    def _create_payment(self, **extra_create_values):
        """Override of `account_payment` to tag the payment of an opportunity's request, and its
        refund, with the opportunity."""
        lead = self._get_payment_request_opportunity()
        if lead:
            extra_create_values.setdefault("payment_request_opportunity_id", lead.id)
        return super()._create_payment(**extra_create_values)

    def _payment_request_is_booked(self):
        """Whether the money of this confirmed transaction stands in accounting: its payment is
        posted, neither cancelled, reset to draft nor reversed. A transaction without payment
        (none was made for it) stands as the provider confirmed it."""
        self.ensure_one()
        payment = self.sudo().payment_id
        if not payment:
            return True
        move = payment.move_id
        return (
            payment.state in ("in_process", "paid")
            and (not move or move.state == "posted")
            and not move.reversal_move_ids.filtered(lambda reversal: reversal.state == "posted")
        )

    def _post_process(self):
        """Override to take the confirmed refunds of an opportunity's deposits off it."""
        result = super()._post_process()
        refunds = self.filtered(
            lambda tx: (
                tx.operation == "refund"
                and tx.state == "done"
                and tx.source_transaction_id.payment_request_id.opportunity_id
            )
        )
        if refunds:
            refunds._payment_request_reconcile_refunds()
            refunds.source_transaction_id.payment_request_id.opportunity_id._payment_request_refresh_deposits()
        return result
