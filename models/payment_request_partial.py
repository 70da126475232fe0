# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Partial payments: a request may let its customer pay part of it, at least a minimum, until
nothing remains. Each payment is its own transaction, `account.payment` and receipt."""

import math
import re

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tools import format_amount

from .. import const

# An amount typed by the customer, once read in the page's language: digits and an optional
# decimal point.
CUSTOMER_AMOUNT = re.compile(r"\d{1,12}(?:\.\d{1,6})?")


class PaymentRequest(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    allow_partial_payment = fields.Boolean(
        string="Allow Partial Payment",
        tracking=True,
        help="Let the customer choose how much to pay at once, at least the minimum amount, "
        "until nothing remains.",
    )
    minimum_amount = fields.Monetary(
        currency_field="currency_id",
        tracking=True,
        help="The least the customer may pay at once, unless they pay all that remains.",
    )
    amount_paid = fields.Monetary(
        currency_field="currency_id",
        default=0.0,
        readonly=True,
        copy=False,
        help="What the customer has paid of the request so far.",
    )
    amount_remaining = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_amount_remaining",
        store=True,
        help="What the customer still has to pay of the request.",
    )
    is_partly_paid = fields.Boolean(
        string="Partly Paid",
        compute="_compute_amount_remaining",
        store=True,
    )

    # === COMPUTE METHODS === #

    @api.depends("amount", "amount_paid")
    def _compute_amount_remaining(self):
        for request in self:
            currency = request.currency_id
            remaining = max(request.amount - request.amount_paid, 0.0)
            request.amount_remaining = currency.round(remaining) if currency else remaining
            request.is_partly_paid = bool(
                currency
                and currency.compare_amounts(request.amount_paid, 0) > 0
                and currency.compare_amounts(request.amount_paid, request.amount) < 0
            )

    @api.depends("state", "attempt_count", "amount", "amount_paid")
    @api.depends_context("lang")
    def _compute_state_display(self):
        result = super()._compute_state_display()
        for request in self.filtered(lambda request: request.state == "open"):
            if request.is_partly_paid:
                request.state_display = self.env._("Partly paid")
        return result

    # === CONSTRAINT METHODS === #

    @api.constrains("allow_partial_payment", "minimum_amount", "purpose", "amount")
    def _check_partial_payment(self):
        purposes = dict(self._fields["purpose"]._description_selection(self.env))
        for request in self:
            currency = request.currency_id
            if request.allow_partial_payment and request.purpose not in const.PARTIAL_PURPOSES:
                raise ValidationError(
                    self.env._(
                        "%(purpose)s is paid whole: payment request %(name)s cannot let the "
                        "customer pay part of it.",
                        purpose=purposes[request.purpose],
                        name=request.name,
                    )
                )
            if currency.compare_amounts(request.minimum_amount, 0) < 0:
                raise ValidationError(
                    self.env._(
                        "The minimum amount of payment request %(name)s cannot be negative.",
                        name=request.name,
                    )
                )
            if currency.compare_amounts(request.minimum_amount, request.amount) > 0:
                raise ValidationError(
                    self.env._(
                        "The minimum amount of payment request %(name)s (%(minimum)s) is more "
                        "than the amount asked (%(amount)s).",
                        name=request.name,
                        minimum=format_amount(self.env, request.minimum_amount, currency),
                        amount=format_amount(self.env, request.amount, currency),
                    )
                )

    # === ACTION METHODS === #

    def action_cancel(self):
        partly_paid = self.filtered("is_partly_paid")
        result = super().action_cancel()
        partly_paid._notify_partly_paid_closed("cancelled")
        return result

    def action_amend(self, amount, **kwargs):
        """Refuse to amend a partly paid request: its payments belong to it."""
        if self.filtered("is_partly_paid"):
            raise UserError(
                self.env._(
                    "Payment request %(name)s is partly paid: cancel it and request what remains "
                    "instead of changing its amount.",
                    name=self.name,
                )
            )
        return super().action_amend(amount, **kwargs)

    def _expire(self):
        partly_paid = self.filtered("is_partly_paid")
        result = super()._expire()
        partly_paid._notify_partly_paid_closed("expired")
        return result

    # === BUSINESS METHODS === #

    def _notify_partly_paid_closed(self, state):
        """Tell the requesters that partly paid requests closed: what was paid stays booked.

        :param str state: what happened to the requests, 'cancelled' or 'expired'
        """
        for request in self:
            currency = request.currency_id
            amounts = {
                "paid": format_amount(self.env, request.amount_paid, currency),
                "amount": format_amount(self.env, request.amount, currency),
                "remaining": format_amount(self.env, request.amount_remaining, currency),
            }
            if state == "expired":
                body = self.env._(
                    "The request expired partly paid: %(paid)s of %(amount)s was paid and stays "
                    "booked; %(remaining)s was not paid.",
                    **amounts,
                )
            else:
                body = self.env._(
                    "The request was cancelled partly paid: %(paid)s of %(amount)s was paid and "
                    "stays booked; %(remaining)s was not paid.",
                    **amounts,
                )
            request._notify_requester(body)

    def _get_payment_amount(self, value=None):
        """Return what the customer pays now: all that remains, or, when the request lets them
        pay part of it, the amount they chose, once checked.

        :param value: the amount the customer chose, as the browser sent it (a number, or the
            text they typed, see `_normalize_customer_amount`); None for all that remains.
            Ignored unless the request allows partial payments.
        :return: the amount to pay, rounded to the request's currency
        :rtype: float
        :raise ValidationError: with a message for the customer
        """
        self.ensure_one()
        currency = self.currency_id
        remaining = self.amount_remaining
        if not self.allow_partial_payment or value is None or value == "":
            return remaining
        if isinstance(value, str) and (text := self._normalize_customer_amount(value)):
            amount = float(text)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            amount = float(value)
        else:
            raise ValidationError(self.env._("Enter the amount to pay as a number, e.g. 120.50."))
        if not math.isfinite(amount) or amount > const.MAX_CUSTOMER_AMOUNT:
            raise ValidationError(self.env._("Enter the amount to pay as a number, e.g. 120.50."))
        amount = currency.round(amount)
        if currency.compare_amounts(amount, 0) <= 0:
            raise ValidationError(self.env._("Enter an amount to pay greater than zero."))
        if currency.compare_amounts(amount, remaining) > 0:
            raise ValidationError(
                self.env._(
                    "You cannot pay more than what remains: %(remaining)s.",
                    remaining=format_amount(self.env, remaining, currency),
                )
            )
        minimum = min(self.minimum_amount, remaining)
        if currency.compare_amounts(amount, minimum) < 0:
            raise ValidationError(
                self.env._(
                    "Pay at least %(minimum)s, or all that remains (%(remaining)s).",
                    minimum=format_amount(self.env, minimum, currency),
                    remaining=format_amount(self.env, remaining, currency),
                )
            )
        return amount

    def _normalize_customer_amount(self, text):
        """Return the amount that the customer typed as a number's text ("1234.5"), read in the
        language of the page (its decimal point and thousands separator), or None.

        :param str text: what the customer typed, e.g. "1,234.50" in English, "1 234,50" in
            French; a point is a decimal point in every language
        :rtype: str
        """
        lang = self.env["res.lang"]._get_data(code=self.env.lang or "en_US")
        decimal_point = (lang.decimal_point if lang else ".") or "."
        separator = lang.thousands_sep if lang else ","
        text = text.strip()
        for space in ("\u00a0", "\u202f", " "):
            text = text.replace(space, "")
        if separator and separator.strip() and separator != decimal_point:
            text = text.replace(separator, "")
        text = text.replace(decimal_point, ".")
        return text if CUSTOMER_AMOUNT.fullmatch(text) else None

    def _register_payment(self, transaction):
        """Count a confirmed payment of the request, under its row lock.

        :param payment.transaction transaction: the payment, in the request's currency
        :return: whether the request is now paid in full
        :rtype: bool
        """
        self.ensure_one()
        currency = self.currency_id
        paid = currency.round(self.amount_paid + transaction.amount)
        self.sudo().write({"amount_paid": paid})
        excess = currency.round(paid - self.amount)
        if currency.compare_amounts(excess, 0) > 0:
            # An attempt left in draft past the two-tab window and confirmed after another one
            # paid: real money all the same, to give back or keep as credit.
            message = self.env._(
                "Paid %(excess)s more than asked: the payment %(reference)s of %(amount)s was "
                "confirmed when %(remaining)s remained. Refund the difference or keep it as the "
                "customer's credit.",
                excess=format_amount(self.env, excess, currency),
                reference=transaction.reference,
                amount=format_amount(self.env, transaction.amount, currency),
                remaining=format_amount(self.env, transaction.amount - excess, currency),
            )
            self._notify_requester(message)
            self._schedule_payment_check(message, self.user_id)
        return currency.compare_amounts(paid, self.amount) >= 0

    def _notify_partly_paid(self, transaction):
        """Tell the requester that the customer paid part of the request."""
        self.ensure_one()
        currency = self.currency_id
        self._notify_requester(
            self.env._(
                "Partly paid by %(customer)s: %(amount)s (transaction %(reference)s); %(paid)s "
                "paid of %(total)s, %(remaining)s remains.",
                customer=transaction.partner_id.display_name,
                amount=format_amount(self.env, transaction.amount, currency),
                reference=transaction.reference,
                paid=format_amount(self.env, self.amount_paid, currency),
                total=format_amount(self.env, self.amount, currency),
                remaining=format_amount(self.env, self.amount_remaining, currency),
            )
        )
