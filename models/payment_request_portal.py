# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The customer's side of a request: what its page shows, whether it can be paid now, the
payment options its page offered, and the values of a payment attempt."""

import re
from datetime import timedelta

import babel.dates

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import MissingError
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools import consteq
from odoo.tools import format_datetime
from odoo.tools.misc import babel_locale_parse
from odoo.tools.misc import get_lang
from odoo.tools.misc import hmac

from .. import const

# The page's dates: to the minute, the month in words, in the customer's language.
CUSTOMER_DATETIME_FORMAT = "d MMM y, HH:mm"

# One option of a payment offer: "<provider id>.<payment method id>" or "t<token id>".
PAYMENT_OFFER_OPTION = re.compile(r"(?:(\d{1,10})\.(\d{1,10})|t(\d{1,10}))")


class PaymentRequest(models.Model):
    # One concern of the model per file (issue 13), as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    # === BUSINESS METHODS === #

    def _is_past_expiration(self):
        """Whether the validity of the request has passed, whatever the cron has done yet.

        A quotation to approve also expires with the quotation's own validity date, even when
        the salesperson shortened it after the link was sent.
        """
        self.ensure_one()
        if self.expiration_date and self.expiration_date <= fields.Datetime.now():
            return True
        return self._is_quote_to_approve() and self.sale_order_id.is_expired

    def _lock_for_update(self):
        """Lock the request's row until the end of the transaction.

        Two tabs or two clicks acting on the same request are serialized: the second one sees
        what the first one did. Odoo's transactions are REPEATABLE READ: when the first one
        changed the row (a payment attempt counts itself on it, an approval or a decline writes
        its state), the second one's lock fails with a serialization error and Odoo runs the
        second HTTP request again, on a new snapshot that sees the first; when it did not change
        the row, what was read of the request before the lock is still its current state. Either
        way nothing read before the lock needs reading again (a query would read the same
        snapshot).
        """
        self.ensure_one()
        self.env.cr.execute(SQL("SELECT id FROM payment_request WHERE id = %s FOR UPDATE", self.id))

    def _lock_for_payment(self):
        """Start a payment attempt of the request: lock its row and count the attempt
        (`attempt_count`) in one statement, that also says whether another attempt of the
        request may take the money.

        An attempt pending or authorized (the money is on its way), or done and not
        post-processed yet (not counted in `amount_paid`), refuses any other: what remains to pay
        is known for sure when the next attempt starts, so partial payments never add up to more
        than the request's amount. An attempt left in draft refuses another for
        `const.PAYMENT_ATTEMPT_WINDOW` after it started: a second tab, or a second click, paying
        at the same moment is refused before its provider is called (a saved card is charged by
        the transaction route itself), while a customer whose card was declined can try again
        soon after. An attempt in error or cancelled never refuses another.

        The count is what serializes two attempts started together (see `_lock_for_update`):
        the first one has written the row, so the second one, which waited for the lock, fails
        to serialize and is retried by Odoo in a new snapshot that sees the first attempt. One
        UPDATE rather than a lock then a write: the transaction route costs a statement less.
        An attempt refused afterwards is rolled back with the rest of the route's transaction,
        its count with it.

        :return: (an attempt is under way or done, an attempt was started a moment ago, the
            number of this attempt)
        :rtype: tuple
        """
        self.ensure_one()
        self.env["payment.transaction"].flush_model(
            ["payment_request_id", "state", "create_date", "is_post_processed"]
        )
        self.flush_recordset(["attempt_count"])
        self.env.cr.execute(
            SQL(
                """
                   UPDATE payment_request request
                      SET attempt_count = COALESCE(request.attempt_count, 0) + 1
                    WHERE request.id = %(id)s
                RETURNING EXISTS (
                          SELECT FROM payment_transaction tx
                           WHERE tx.payment_request_id = request.id
                             AND (tx.state IN %(states)s
                                  OR (tx.state = 'done' AND tx.is_post_processed IS NOT TRUE))
                          ),
                          EXISTS (
                          SELECT FROM payment_transaction tx
                           WHERE tx.payment_request_id = request.id
                             AND tx.state = 'draft'
                             AND tx.create_date > %(started_after)s
                          ),
                          request.attempt_count
                """,
                states=("pending", "authorized"),
                # The transaction's clock, that `create_date` is written with.
                started_after=self.env.cr.now() - const.PAYMENT_ATTEMPT_WINDOW,
                id=self.id,
            )
        )
        ongoing, started, attempt = self.env.cr.fetchone()
        self.invalidate_recordset(["attempt_count"])
        return ongoing, started, attempt

    def _check_payable(self):
        """Start a new payment attempt, or refuse it unless the request can be paid right now.

        The request row is locked and the attempt counted first (`_lock_for_payment`), so that
        two attempts started together (two tabs, two clicks) are serialized and the second one
        sees the first. A refusal is rolled back with the caller's transaction, count included.

        :return: the number of the attempt, for its reference
            (`_get_transaction_reference_prefix`)
        :rtype: int
        :raise ValidationError: with a message for the customer
        """
        self.ensure_one()
        ongoing, started, attempt = self._lock_for_payment()
        if self.state == "paid":
            raise ValidationError(self.env._("This payment request is already paid."))
        if self.state != "open":
            raise ValidationError(self.env._("This payment request can no longer be paid."))
        if self._is_past_expiration():
            raise ValidationError(self.env._("This payment request has expired."))
        if self._is_awaiting_quote_invoice():
            raise ValidationError(
                self.env._("Approve the quotation first: its invoice is paid afterwards.")
            )
        self._check_invoices_still_due()
        if self._is_early_discount_lapsed():
            raise ValidationError(
                self.env._(
                    "The early-payment discount ended: reload the page to pay the amount now due."
                )
            )
        if ongoing:
            raise ValidationError(
                self.env._(
                    "A payment of this request is already in progress or done: it cannot be "
                    "paid twice."
                )
            )
        if started:
            raise ValidationError(
                self.env._(
                    "A payment of this request was started a moment ago, maybe in another window. "
                    "Check that window, or try again in a few seconds."
                )
            )
        return attempt

    def _check_invoices_still_due(self):
        """Refuse to pay invoices that were settled since the request was sent, or that auto-pay
        is charging: paid by another way (a transfer, a charge of the saved card after a failed
        one), the request's link would take the money twice.

        :raise ValidationError: with a message for the customer
        """
        invoices = self.sudo()._get_settled_invoices()
        if not invoices:
            return
        if any(
            invoice.payment_request_autopay_state in ("charging", "pending") for invoice in invoices
        ):
            raise ValidationError(
                self.env._("Your saved card is being charged for this invoice: nothing to pay.")
            )
        if all(
            invoice.payment_state in ("paid", "in_payment", "reversed")
            or invoice.currency_id.is_zero(invoice.amount_residual)
            for invoice in invoices
        ):
            raise ValidationError(self.env._("This invoice is already paid: nothing to pay."))

    def _is_awaiting_quote_invoice(self):
        """Whether the request is a quotation whose invoice, that it pays, is not made yet."""
        self.ensure_one()
        return self.purpose == "quote" and not self.invoice_ids

    def _get_customer_status(self):
        """Return what the customer's page says of the request.

        :return: 'payable', 'approve' (a quotation to approve first), 'processing', 'paid',
            'expired', 'updated' (the quotation changed since), 'declined', 'replaced',
            'withdrawn' or 'cancelled'
        """
        self.ensure_one()
        if self.state == "paid":
            return "paid"
        if self.state == "expired" or (self.state == "open" and self._is_past_expiration()):
            return "expired"
        if self.state == "cancelled":
            if self.cancel_reason in ("updated", "declined"):
                return self.cancel_reason
            if self.cancel_reason == "replaced" or self.replaced_by_id:
                return "replaced"
            if self.cancel_reason == "withdrawn":
                return "withdrawn"
            return "cancelled"
        if self.state != "open":
            return "cancelled"
        if self.purpose == "quote":
            if self._is_quote_to_approve():
                if self.quote_fingerprint != self.sale_order_id._get_payment_request_fingerprint():
                    return "updated"
                return "approve"
            if self.sale_order_id.state != "sale" or self._is_awaiting_quote_invoice():
                return "cancelled"
        if self.attempt_count and self.transaction_ids.filtered(
            lambda tx: tx.state in ("pending", "authorized")
        ):
            return "processing"
        return "payable"

    def _get_settled_invoices(self):
        """Return the invoices that the request settles, as its page, its payment checks and
        its transactions need them; a purpose that settles none (`const.INVOICE_PURPOSES`)
        returns none without reading them."""
        self.ensure_one()
        if self.purpose not in const.INVOICE_PURPOSES:
            return self.env["account.move"]
        return self.invoice_ids

    def _get_portal_partners(self):
        """Return the partners that the customer's page shows: the customer, the company's
        and the requester's (their name, contact details, time zone and language)."""
        self.ensure_one()
        return self.partner_id | self.company_id.partner_id | self.user_id.partner_id

    def _get_portal_page_values(self):
        """Return the rendering values of the customer's page of the request."""
        self.ensure_one()
        status = self._get_customer_status()
        # No attempt, no query: the page of a request just sent reads no transaction.
        last_transaction = (
            self.transaction_ids.sorted("id")[-1:]
            if self.attempt_count
            else self.env["payment.transaction"]
        )
        return {
            "payment_request": self,
            "res_company": self.company_id,
            "status": status,
            "payable": status == "payable",
            "is_quote": self.purpose == "quote",
            "approve_url": self.get_portal_url(suffix="/approve"),
            "decline_url": f"/payment_request/{self.id}/decline",
            "page_title": self.env._("Payment request %(name)s", name=self.name),
            "last_transaction": last_transaction
            if status == "paid"
            else self.env["payment.transaction"],
            "failed_transaction": last_transaction
            if status == "payable" and last_transaction.state in ("error", "cancel")
            else self.env["payment.transaction"],
            # Only the date that the status shows.
            "expiration_display": self._format_customer_datetime(self.expiration_date)
            if status in ("approve", "payable", "expired")
            else "",
            "expiration_delay": self._format_expiration_delay()
            if status in ("approve", "payable")
            else "",
            "paid_display": self._format_customer_datetime(self.paid_date)
            if status == "paid"
            else "",
        }

    def _format_customer_datetime(self, value):
        """Return `value` as the page shows it: in the customer's time zone and in the page's
        language, to the minute ("8 Dec 2026, 14:03"), without the query that QWeb's datetime
        widget spends reading the language's record."""
        self.ensure_one()
        return format_datetime(
            self.env, value, tz=self.customer_tz, dt_format=CUSTOMER_DATETIME_FORMAT
        )

    def _format_expiration_delay(self):
        """Return how soon the link expires, in words of the page's language ("in 3 hours"),
        when less than a day remains; else an empty string."""
        self.ensure_one()
        if not self.expiration_date:
            return ""
        remaining = self.expiration_date - fields.Datetime.now()
        if remaining >= timedelta(days=1) or remaining <= timedelta(0):
            return ""
        locale = babel_locale_parse(get_lang(self.env).code)
        return babel.dates.format_timedelta(
            remaining, granularity="minute", threshold=1, add_direction=True, locale=locale
        )

    # === PAYMENT OFFER === #

    @api.model
    def _get_payment_offer(self, providers, payment_methods, tokens):
        """Return the payment options that the pay page offers, as the text that it signs.

        An option is a provider with one of its payment methods, "<provider id>.<payment method
        id>" (each method with each of its providers among those offered, as Odoo's payment form
        pairs them), or a saved card, "t<token id>". Sorted, so that the same options always
        give the same text.

        :param payment.provider providers: the providers offered
        :param payment.method payment_methods: the payment methods offered
        :param payment.token tokens: the saved cards offered
        :rtype: str
        """
        pairs = sorted(
            (provider.id, method.id)
            for method in payment_methods
            for provider in method.provider_ids & providers
        )
        options = [f"{provider_id}.{method_id}" for provider_id, method_id in pairs]
        options += [f"t{token_id}" for token_id in sorted(tokens.ids)]
        return ",".join(options)

    @api.model
    def _parse_payment_offer(self, offer):
        """Return the options of an offer made by `_get_payment_offer`, or None for any other
        value (the text comes back from the browser).

        :return: the (provider id, payment method id) pairs and the token ids, or None
        :rtype: tuple(set, set)
        """
        if not isinstance(offer, str) or not offer or len(offer) > const.MAX_PAYMENT_OFFER_LENGTH:
            return None
        pairs, token_ids = set(), set()
        for option in offer.split(","):
            match = PAYMENT_OFFER_OPTION.fullmatch(option)
            if not match:
                return None
            ids = [int(value) for value in match.groups() if value]
            if not all(0 < record_id <= const.MAX_RECORD_ID for record_id in ids):
                return None
            if match[3]:
                token_ids.add(ids[0])
            else:
                pairs.add(tuple(ids))
        return pairs, token_ids

    def _sign_payment_offer(self, offer, user, amount=None):
        """Return the signature of the payment options that the request's page offers to `user`.

        The HMAC (keyed with the database secret) covers the offer, the request and its link,
        whoever the page was shown to (saved cards and unpublished providers are offered to some
        users only), what the options were chosen for (customer and their country, company,
        the amount paid now, currency) and the last change of the offered providers and payment
        methods: a provider or method changed since (disabled, restricted to some countries or
        currencies, another maximum amount, methods removed), the request's amount or customer
        changed, and the offer no longer matches its signature.

        :param str offer: the options, as `_get_payment_offer` gives them
        :param res.users user: the user the page is shown to
        :param float amount: the amount the page offers to pay; by default all that remains
        :return: the signature, or None for an offer whose providers or methods do not exist
        :rtype: str
        """
        self.ensure_one()
        options = self._parse_payment_offer(offer)
        pairs = options[0] if options else set()
        # The providers and methods that the pay page has just read, and that the transaction
        # route reads anyway to pay with one of them: one query for each model, at most.
        providers = self.env["payment.provider"].sudo().browse({pair[0] for pair in pairs})
        methods = self.env["payment.method"].sudo().browse({pair[1] for pair in pairs})
        try:
            changed = max(providers.mapped("write_date") + methods.mapped("write_date"), default="")
        except MissingError:
            return None
        partner = self.partner_id
        message = "|".join(
            str(value)
            for value in (
                self.id,
                self.access_token,
                user.id,
                partner.id,
                partner.country_id.id,
                self.company_id.id,
                self.currency_id.id,
                self.amount_remaining if amount is None else self.currency_id.round(amount),
                changed,
                offer,
            )
        )
        return hmac(self.env(su=True), const.PAYMENT_OFFER_SCOPE, message)

    def _check_payment_offer(self, offer, signature, user, amount=None):
        """Return the options of `offer` if `signature` is the one that the request's page gave
        it for `user` and nothing they depend on changed since; None otherwise.

        :param str offer: the options sent back by the browser
        :param str signature: their signature, sent back by the browser
        :param res.users user: the user paying
        :param float amount: the amount paid; by default all that remains
        :return: the (provider id, payment method id) pairs and the token ids, or None
        :rtype: tuple(set, set)
        """
        self.ensure_one()
        options = self._parse_payment_offer(offer)
        if options is None or not isinstance(signature, str) or not signature.isascii():
            return None  # consteq() raises on non-ASCII input
        expected = self._sign_payment_offer(offer, user, amount)
        if not expected or not consteq(signature, expected):
            return None
        return options

    def _is_payment_option_available(self, provider, payment_method, user, token=None):
        """Return whether an option that the request's page offered can still pay it.

        What may have changed since the page was shown and is checked without a query of its
        own (the records are read anyway to pay with them): the provider is enabled or in test
        mode, of the request's company (or of a parent company), published unless the user is
        staff, as `_get_compatible_providers` wants them; the method is active; the saved card
        is active, the customer's and of that provider, as `_get_available_tokens` wants it.
        Every other change of a provider or a method shows in the offer's signature.

        :param payment.provider provider: the provider chosen
        :param payment.method payment_method: the payment method chosen
        :param res.users user: the user paying
        :param payment.token token: the saved card chosen, if any
        :rtype: bool
        """
        self.ensure_one()
        company = provider.company_id
        return bool(
            provider.state in ("enabled", "test")
            and (company == self.company_id or company in self.company_id.parent_ids)
            and (provider.is_published or user._is_internal())
            and payment_method.active
            and (
                token is None
                or (
                    token.active
                    and token.partner_id == self.partner_id
                    and token.provider_id == provider
                )
            )
        )

    def _get_transaction_reference_prefix(self, attempt=None):
        """Return the prefix of the reference of a payment attempt of the request.

        The request's number for its first attempt, then "<number>-<n>" for the n-th one after
        it: what Odoo's `_compute_reference` would name them, without its search of every
        earlier reference of the request. Should that reference exist all the same,
        `_compute_reference` still makes it unique.

        :param int attempt: the number of the attempt, as `_check_payable` counted it; by
            default the one after those counted
        :rtype: str
        """
        self.ensure_one()
        attempt = attempt or self.attempt_count + 1
        return f"{self.name}-{attempt - 1}" if attempt > 1 else self.name

    def _get_transaction_values(self, amount=None):
        """Return the values of a payment attempt, all taken from the request.

        :param float amount: what the customer pays now, checked by `_get_payment_amount`; by
            default all that remains
        :return: the create values of the transaction and the documents it settles
        :rtype: dict
        """
        self.ensure_one()
        values = {
            "amount": self.amount_remaining if amount is None else amount,
            "currency_id": self.currency_id.id,
            "partner_id": self.partner_id.id,
            "custom_create_values": {"payment_request_id": self.id},
        }
        invoices = self._get_settled_invoices()
        if invoices:
            values["custom_create_values"]["invoice_ids"] = [Command.set(invoices.ids)]
        # A quotation is paid through the invoice made when it was approved; linked to the order
        # too, `sale` would invoice the order a second time (automatic invoicing).
        if self.sale_order_id and self.purpose != "quote":
            values["custom_create_values"]["sale_order_ids"] = [Command.set(self.sale_order_id.ids)]
        return values
