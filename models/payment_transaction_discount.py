# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Early-payment discounts paid through a payment request: the discount is written off on the
company's early-payment discount account, as `account_payment` does for one invoice paid from
its portal, also for a request that settles several invoices, and for a payment started while
the discount held and confirmed after its last day."""

from odoo import fields
from odoo import models


class PaymentTransaction(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "payment.transaction"  # pylint: disable=consider-merging-classes-inherited

    def _create_payment(self, **extra_create_values):
        """Override of `account_payment` to write off the early-payment discounts that the
        request of the transaction granted, where `account_payment` does not."""
        if "write_off_line_vals" not in extra_create_values:
            write_offs = self._payment_request_get_discount_write_offs()
            if write_offs:
                extra_create_values["write_off_line_vals"] = write_offs
        return super()._create_payment(**extra_create_values)

    def _payment_request_get_discount_write_offs(self):
        """Return the write-off lines of the discounts that this payment of a request earns,
        that `account_payment._create_payment` does not write itself.

        The discounts are earned when the payment is the whole discounted amount of its request
        and was started on or before the discount's last day, whenever it is confirmed.
        `account_payment` writes off the discount of a single invoice paid while the discount
        holds (its `_get_invoice_next_payment_values`): that one is left to it.

        :return: the `write_off_line_vals` of the payment; [] when none is earned here
        :rtype: list
        """
        self.ensure_one()
        request = self.payment_request_id.sudo()
        if (
            not request.early_discount_date
            or self.operation in ("refund", "validation")
            or request.currency_id.compare_amounts(request.amount_paid, 0) > 0
            or self.currency_id.compare_amounts(self.amount, request.amount)
        ):
            return []
        started = fields.Date.context_today(self, self.create_date)
        if started > request.early_discount_date:
            return []
        invoices = self.invoice_ids.filtered(lambda invoice: invoice.state == "posted")
        today = fields.Date.context_today(self)
        if len(invoices) == 1 and today <= request.early_discount_date:
            return []  # account_payment writes it off
        write_offs = []
        for invoice in invoices:
            term_lines = invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
            epd = next(
                (
                    installment
                    for installment in term_lines._get_installments_data(payment_date=started)
                    if installment["type"] == "early_payment_discount"
                ),
                None,
            )
            if not epd:
                continue
            line = epd["line"]
            counterparts = self.env[
                "account.move"
            ]._get_invoice_counterpart_amls_for_early_payment_discount(
                [
                    {
                        "aml": line,
                        "amount_currency": -line.amount_residual_currency,
                        "balance": -line.balance,
                    }
                ],
                epd["discount_amount"],
            )
            for values_list in counterparts.values():
                for values in values_list:
                    write_offs.append({**values, "partner_id": invoice.partner_id.id})
        return write_offs
