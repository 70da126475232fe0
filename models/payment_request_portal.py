# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The customer's side of a request: what its page shows, whether it can be paid now, and
the values of a payment attempt."""

from odoo import Command
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .. import const


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
        """Lock the request's row until the end of the transaction and reread its state.

        Two tabs or two clicks acting on the same request are serialized: the second one sees
        what the first one did.
        """
        self.ensure_one()
        self.env.cr.execute(SQL("SELECT id FROM payment_request WHERE id = %s FOR UPDATE", self.id))
        self.invalidate_recordset(["state", "cancel_reason", "invoice_ids", "amount"])

    def _check_payable(self):
        """Refuse a new payment attempt unless the request can be paid right now.

        The request row is locked first, so that two attempts started together (two tabs, two
        clicks) are serialized and the second one sees the first.

        :raise ValidationError: with a message for the customer
        """
        self.ensure_one()
        self._lock_for_update()
        if self.state == "paid":
            raise ValidationError(self.env._("This payment request is already paid."))
        if self.state != "open":
            raise ValidationError(self.env._("This payment request can no longer be paid."))
        if self._is_past_expiration():
            raise ValidationError(self.env._("This payment request has expired."))
        if self.purpose == "quote" and not self.invoice_ids:
            raise ValidationError(
                self.env._("Approve the quotation first: its invoice is paid afterwards.")
            )
        self._check_invoices_still_due()
        self._check_no_attempt_under_way()

    def _check_no_attempt_under_way(self):
        """Refuse a new payment attempt while another attempt of the request may take the money.

        An attempt pending or authorized (the money is on its way), or done (not post-processed
        yet), refuses any other. An attempt left in draft refuses another for
        `const.PAYMENT_ATTEMPT_WINDOW` after it started: a second tab, or a second click, paying
        at the same moment is refused before its provider is called (a saved card is charged by
        the transaction route itself), while a customer whose card was declined can try again
        soon after. An attempt in error or cancelled never refuses another.

        Called with the request's row locked (`_lock_for_update`): an attempt started meanwhile
        by another transaction has updated that row (`attempt_count`), so the transaction that
        waited for the lock fails to serialize and is retried by Odoo, in a new snapshot that
        sees the attempt.

        :raise ValidationError: with a message for the customer
        """
        self.ensure_one()
        # `attempt_count` is stored with the transactions it counts: none, nothing to look for.
        if not self.attempt_count:
            return
        # The database's clock, as `create_date`: not the clock of this server.
        started_after = self.env.cr.now() - const.PAYMENT_ATTEMPT_WINDOW
        states = (
            self.env["payment.transaction"]
            .sudo()
            .search_fetch(
                [
                    ("payment_request_id", "=", self.id),
                    "|",
                    ("state", "in", ("pending", "authorized", "done")),
                    "&",
                    ("state", "=", "draft"),
                    ("create_date", ">", started_after),
                ],
                ["state"],
            )
            .mapped("state")
        )
        if any(state != "draft" for state in states):
            raise ValidationError(
                self.env._(
                    "A payment of this request is already in progress or done: it cannot be "
                    "paid twice."
                )
            )
        if states:
            raise ValidationError(
                self.env._(
                    "A payment of this request was started a moment ago, maybe in another window. "
                    "Check that window, or try again in a few seconds."
                )
            )

    def _check_invoices_still_due(self):
        """Refuse to pay invoices that were settled since the request was sent, or that auto-pay
        is charging: paid by another way (a transfer, a charge of the saved card after a failed
        one), the request's link would take the money twice.

        :raise ValidationError: with a message for the customer
        """
        invoices = self.sudo().invoice_ids
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
            if self.sale_order_id.state != "sale" or not self.invoice_ids:
                return "cancelled"
        if self.attempt_count and self.transaction_ids.filtered(
            lambda tx: tx.state in ("pending", "authorized")
        ):
            return "processing"
        return "payable"

    def _get_portal_partners(self):
        """Return the partners that the customer's page shows: the customer, the company's
        and the requester's (their name, contact details, time zone and language)."""
        self.ensure_one()
        return self.partner_id | self.company_id.partner_id | self.user_id.partner_id

    def _get_portal_page_values(self):
        """Return the rendering values of the customer's page of the request."""
        self.ensure_one()
        status = self._get_customer_status()
        return {
            "payment_request": self,
            "res_company": self.company_id,
            "status": status,
            "payable": status == "payable",
            "is_quote": self.purpose == "quote",
            "approve_url": self.get_portal_url(suffix="/approve"),
            "decline_url": f"/payment_request/{self.id}/decline",
            "page_title": self.env._("Payment request %(name)s", name=self.name),
            "last_transaction": self.transaction_ids.sorted("id")[-1:]
            if status == "paid"
            else self.env["payment.transaction"],
        }

    def _get_transaction_values(self):
        """Return the values of a payment attempt, all taken from the request.

        :return: the create values of the transaction and the documents it settles
        :rtype: dict
        """
        self.ensure_one()
        values = {
            "amount": self.amount,
            "currency_id": self.currency_id.id,
            "partner_id": self.partner_id.id,
            "custom_create_values": {"payment_request_id": self.id},
        }
        if self.invoice_ids:
            values["custom_create_values"]["invoice_ids"] = [Command.set(self.invoice_ids.ids)]
        # A quotation is paid through the invoice made when it was approved; linked to the order
        # too, `sale` would invoice the order a second time (automatic invoicing).
        if self.sale_order_id and self.purpose != "quote":
            values["custom_create_values"]["sale_order_ids"] = [Command.set(self.sale_order_id.ids)]
        return values
