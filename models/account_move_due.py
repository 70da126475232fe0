# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What an invoice asks today: the overdue installments of its payment terms, else the next one,
else its amount with the early-payment discount, as Odoo's invoice portal and payment link ask
(`_get_invoice_next_payment_values`)."""

from odoo import fields
from odoo import models
from odoo.tools import format_amount
from odoo.tools import format_date


class AccountMove(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    def _get_payment_request_due_now(self):
        """Return what a payment request asks of each invoice today.

        - `state`: 'overdue' (the overdue installments, summed), 'next' (the next installment),
          'epd' (the whole residual less its early-payment discount) or False (the residual);
        - `amount`: what is asked, in the invoice's currency; `residual`: what remains due;
        - `reference`: the installment's payment reference (``INV/2026/00003-1``) or the
          invoice's number; `due_date`: when that is due;
        - `discount`: the early-payment discount granted on `amount`, `discount_date`: its last
          day, `discount_percentage`: as the payment terms say it.

        :return: {invoice id: values}
        :rtype: dict
        """
        result = {}
        for invoice in self:
            residual = invoice.amount_residual
            due = {
                "state": False,
                "amount": residual,
                "residual": residual,
                "reference": invoice.name,
                "due_date": invoice.invoice_date_due,
                "discount": 0.0,
                "discount_date": False,
                "discount_percentage": 0.0,
            }
            values = invoice._get_invoice_next_payment_values() if invoice.is_invoice() else {}
            state = values.get("installment_state")
            if state in ("overdue", "next"):
                due.update(
                    state=state,
                    amount=values["next_amount_to_pay"],
                    reference=values["next_payment_reference"],
                    due_date=values["next_due_date"],
                )
            elif state == "epd":
                due.update(
                    state="epd",
                    amount=values["amount_due"],
                    due_date=values["next_due_date"],
                    discount=values["epd_discount_amount_currency"],
                    discount_date=fields.Date.to_date(values["discount_date"]),
                    discount_percentage=invoice.invoice_payment_term_id.discount_percentage,
                )
            result[invoice.id] = due
        return result

    def _get_payment_request_asked(self):
        """Return what a request for these invoices asks today: each invoice's
        `_get_payment_request_due_now`, and their total.

        A request for several invoices grants their early-payment discounts only when it settles
        every one of them in full: Odoo reconciles a payment with the open items of its invoices,
        the earliest due first, and a discount is written off rightly only on an invoice that the
        payment settles.

        :return: ({invoice id: values}, total asked)
        :rtype: tuple
        """
        dues = self._get_payment_request_due_now()
        currency = self.currency_id[:1]
        if len(self) > 1 and any(
            due["state"] in ("overdue", "next")
            and currency.compare_amounts(due["amount"], due["residual"]) < 0
            for due in dues.values()
        ):
            for due in dues.values():
                if due["state"] == "epd":
                    due.update(state=False, amount=due["residual"], discount=0.0)
                    due["discount_date"] = False
        return dues, currency.round(sum(due["amount"] for due in dues.values()))

    def _get_payment_request_due_label(self, due):
        """Return how the customer reads what the invoice asks: its installment or its discount.

        :param dict due: the invoice's values of `_get_payment_request_due_now`
        :return: a sentence, or '' when the whole residual is asked
        :rtype: str
        """
        self.ensure_one()
        if due["state"] == "overdue":
            return self.env._(
                "overdue installments from %(reference)s (due %(date)s)",
                reference=due["reference"],
                date=format_date(self.env, due["due_date"]),
            )
        if due["state"] == "next":
            return self.env._(
                "installment %(reference)s due %(date)s",
                reference=due["reference"],
                date=format_date(self.env, due["due_date"]),
            )
        if due["state"] == "epd":
            percentage = f"{due['discount_percentage']:g}"
            return self.env._(
                "%(percentage)s%% discount if paid by %(date)s (full amount %(full)s)",
                percentage=percentage,
                date=format_date(self.env, due["discount_date"]),
                full=format_amount(self.env, due["residual"], self.currency_id),
            )
        return ""

    # === PAYMENT REQUESTS === #

    def _get_payment_request_values(self, purpose=None, **kwargs):
        """Override of the hook in `account_move.py` to ask what is due now rather than the
        whole residual; the residual stays the most a request may ask."""
        values = super()._get_payment_request_values(purpose, **kwargs)
        due = self._get_payment_request_due_now()[self.id]
        values["amount"] = self.currency_id.round(due["amount"])
        # The customer reads it: in their language, as the page that shows it.
        invoice = self.with_context(lang=self.partner_id.lang or self.env.lang)
        if label := invoice._get_payment_request_due_label(due):
            values["description"] = invoice.env._(
                "Payment of invoice %(invoice)s: %(what)s", invoice=self.name, what=label
            )
        return values
