# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging

import requests
from markupsafe import Markup

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models
from odoo import modules
from odoo import tools
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools import format_amount

from .. import const

_logger = logging.getLogger(__name__)


class AccountMove(models.Model):
    # Auto-pay of invoices by the card saved on their order; the invoice's requests are in
    # account_move.py (files by concern, as Odoo's payment addons).
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    payment_request_autopay = fields.Boolean(
        string="Auto-pay",
        compute="_compute_payment_request_autopay",
        help="An order of the invoice pays it with a saved card.",
    )

    payment_request_autopay_state = fields.Selection(
        string="Auto-pay Charge",
        selection=const.INVOICE_AUTOPAY_STATES,
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="To charge: posted, waiting for the auto-pay cron. Charging: the charge is being "
        "sent to the provider. Waiting for the provider: it answers later. Charged or Failed: "
        "the outcome.",
    )

    @api.depends("line_ids.sale_line_ids.order_id.payment_request_autopay_state")
    def _compute_payment_request_autopay(self):
        for move in self:
            move.payment_request_autopay = bool(
                move.move_type == "out_invoice" and move._payment_request_get_autopay_order()
            )

    def _post(self, soft=True):
        """Override of `account` to schedule the charge of the auto-pay invoices.

        The card is not charged here: money must not move inside a database transaction that
        may still roll back (batch posting, another module's check, a serialization retry). The
        auto-pay cron charges each invoice in a transaction of its own.
        """
        posted = super()._post(soft=soft)
        posted._payment_request_schedule_autopay()
        return posted

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

    def _payment_request_schedule_autopay(self):
        """Mark the posted customer invoices of auto-pay orders to be charged, and wake the cron.

        :return: the invoices scheduled
        :rtype: account.move
        """
        to_charge = self.filtered(
            lambda move: (
                move.move_type == "out_invoice"
                and move.state == "posted"
                and move.payment_request_autopay_state not in const.AUTOPAY_IN_FLIGHT
                and move._payment_request_get_autopay_order()
            )
        )
        # The state is not writable by users; the callers checked their rights.
        to_charge.sudo().payment_request_autopay_state = "to_charge"
        if any(move.payment_request_autopay_state in const.AUTOPAY_IN_FLIGHT for move in self):
            self.env.ref("payment_request.ir_cron_payment_request_autopay")._trigger()
        return to_charge

    def action_payment_request_charge_card(self):
        """Charge the residual of the invoices to their auto-pay card again (a retry).

        The charge is made by the auto-pay cron, at once, in a transaction of its own.
        """
        if not self.env.user.has_group("payment_request.group_customer_cards"):
            raise AccessError(self.env._("Only users with the Customer cards right charge cards."))
        self.check_access("write")
        for invoice in self:
            if not invoice._payment_request_get_autopay_order():
                raise UserError(
                    self.env._(
                        "No order of the invoice %(invoice)s has auto-pay enabled.",
                        invoice=invoice.name,
                    )
                )
        self._payment_request_schedule_autopay()
        return True

    @api.model
    def _cron_payment_request_autopay(self, limit=const.AUTOPAY_CRON_BATCH):
        """Charge the auto-pay invoices scheduled at their posting, each in its own transaction.

        For each invoice, the transaction is first created and committed (the invoice is then
        'charging'), and only then sent to the provider, whose idempotency key comes from the
        transaction's reference; the outcome is committed next. A crash between the two leaves a
        draft transaction that the next run sends again under the same key: the provider answers
        with the first charge instead of making a second one.

        :param int limit: how many invoices one run charges at most (the cron is triggered again
            if more are waiting)
        """
        invoices = self.search(
            [("payment_request_autopay_state", "in", const.AUTOPAY_IN_FLIGHT)],
            order="id",
            limit=limit,
        )
        done = 0
        for invoice in invoices:
            try:
                with self.env.cr.savepoint():
                    tx = invoice._payment_request_autopay_prepare()
                self._payment_request_autopay_commit()
                if tx:
                    try:
                        with self.env.cr.savepoint():
                            invoice._payment_request_autopay_send(tx)
                    except (UserError, ValidationError, requests.exceptions.RequestException) as e:
                        if invoice._payment_request_autopay_is_unreachable(e):
                            invoice._payment_request_autopay_unreachable(tx, e)
                        else:
                            invoice._payment_request_autopay_refused(tx, e)
                    self._payment_request_autopay_commit()
            except Exception:
                # Unknown outcome: the invoice stays scheduled and its transaction, if any, is
                # sent again under the same idempotency key by the next run.
                _logger.exception("Auto-pay of the invoice %s failed; retried later", invoice.id)
                self._payment_request_autopay_rollback()
            done += 1
        settled = invoices.exists().filtered(
            lambda move: move.payment_request_autopay_state not in const.AUTOPAY_IN_FLIGHT
        )
        if len(invoices) == limit and settled:
            # More are waiting. Not when no charge could be made (the provider is out of reach):
            # the next scheduled run retries them.
            self.env.ref("payment_request.ir_cron_payment_request_autopay")._trigger()
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)

    def _payment_request_autopay_commit(self):
        """Commit the work done on one invoice, as Odoo's crons do; tests keep their savepoints."""
        if not tools.config["test_enable"] and not modules.module.current_test:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _payment_request_autopay_rollback(self):
        """Undo the unfinished work on one invoice (tests: its savepoint already did)."""
        if not tools.config["test_enable"] and not modules.module.current_test:
            self.env.cr.rollback()
        self.env.invalidate_all()

    def _payment_request_autopay_prepare(self):
        """Return the auto-pay transaction to send for the invoice, created if needed.

        Nothing is charged while another transaction of the invoice is under way or done, or the
        invoice has nothing left to pay: the invoice leaves the queue. A draft auto-pay
        transaction of the invoice is one whose sending was interrupted: it is returned as is.

        :return: the transaction to send, or an empty recordset
        :rtype: payment.transaction
        """
        self.ensure_one()
        transactions = self.env["payment.transaction"].sudo()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM account_move WHERE id = %s FOR UPDATE SKIP LOCKED",
                self.id,
            )
        )
        if not self.env.cr.fetchone():
            return transactions  # Another run of the cron is charging it.
        self.invalidate_recordset(
            ["amount_residual", "payment_state", "payment_request_autopay_state"]
        )
        if self.payment_request_autopay_state not in const.AUTOPAY_IN_FLIGHT:
            return transactions
        invoice_txs = self.sudo().transaction_ids.filtered("payment_request_autopay_order_id")
        in_flight = invoice_txs.filtered(lambda tx: tx.state == "draft")[:1]
        if not in_flight and invoice_txs.filtered(lambda tx: tx.state in ("pending", "authorized")):
            # Its provider settles it; the outcome comes by notification.
            self.sudo().payment_request_autopay_state = "pending"
            return transactions
        other_txs = self.sudo().transaction_ids - in_flight
        order = self._payment_request_get_autopay_order()
        if (
            not order
            or self.state != "posted"
            or self.payment_state not in ("not_paid", "partial")
            or self.currency_id.is_zero(self.amount_residual)
            or other_txs.filtered(lambda tx: tx.state in const.BLOCKING_TX_STATES)
        ):
            if in_flight:
                self._payment_request_autopay_cancel(
                    in_flight,
                    self.env._(
                        "the invoice is no longer to be charged (paid, cancelled or auto-pay "
                        "turned off)"
                    ),
                )
            self.sudo().payment_request_autopay_state = False
            return transactions
        token = in_flight.token_id if in_flight else order.payment_request_token_id
        if not token.active or token.is_expired or token != order.payment_request_token_id:
            reason = self.env._(
                "the card %(card)s is deactivated, expired or no longer the order's card",
                card=token.display_name,
            )
            if in_flight:
                self._payment_request_autopay_cancel(in_flight, reason)
            self._payment_request_autopay_failed(order, in_flight, reason)
            return transactions
        if in_flight:
            sent_since = fields.Datetime.now() - in_flight.create_date
            if sent_since.total_seconds() > const.AUTOPAY_RESEND_HOURS * 3600:
                self._payment_request_autopay_too_old(in_flight)
                return transactions
            return in_flight
        self.sudo().payment_request_autopay_state = "charging"
        return transactions.create(self._payment_request_autopay_tx_values(token, order))

    def _payment_request_autopay_cancel(self, tx, reason):
        """Cancel the draft auto-pay transaction left by an earlier run, without charging.

        The transaction is marked post-processed: its cancellation is no refused charge (no
        pause of the auto-pay, no payment request). The staff is told to check the provider,
        as the interrupted sending may have reached it.

        :param payment.transaction tx: the draft transaction
        :param str reason: why it is not sent again
        """
        self.ensure_one()
        tx._set_canceled(state_message=reason)
        tx.is_post_processed = True
        self.message_post(
            body=self.env._(
                "Auto-pay: the interrupted charge %(reference)s is not sent again (%(reason)s). "
                "Check the charge at %(provider)s before charging again.",
                reference=tx.reference,
                reason=reason,
                provider=tx.provider_id.name,
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _payment_request_autopay_too_old(self, tx):
        """Stop resending a draft transaction whose idempotency key the provider may have lost.

        :param payment.transaction tx: the draft transaction first sent too long ago
        """
        self.ensure_one()
        reason = self.env._(
            "first sent more than %(hours)s hours ago, its outcome is unknown",
            hours=const.AUTOPAY_RESEND_HOURS,
        )
        self._payment_request_autopay_cancel(tx, reason)
        self.sudo().payment_request_autopay_state = "failed"

    def _payment_request_autopay_is_unreachable(self, error):
        """Tell whether the error of a sending leaves its outcome unknown (provider out of reach).

        Odoo's Stripe module and this addon's provider code raise a ValidationError from the
        connection error: the chain of causes is followed.

        :param Exception error: what the sending raised
        :rtype: bool
        """
        seen = set()
        while error is not None and id(error) not in seen:
            if isinstance(error, const.AUTOPAY_UNREACHABLE_ERRORS):
                return True
            seen.add(id(error))
            error = error.__cause__ or error.__context__
        return False

    def _payment_request_autopay_refused(self, tx, error):
        """Fail the transaction whose sending the provider (or Odoo) refused: the usual failure
        path runs (auto-pay paused, payment request sent).

        :param payment.transaction tx: the draft transaction
        :param Exception error: what the sending raised
        """
        self.ensure_one()
        _logger.warning(
            "Auto-pay of %s (transaction %s) refused: %s", self.name, tx.reference, error
        )
        message = error.args[0] if error.args else str(error)
        tx.invalidate_recordset()
        tx._set_error(str(message))
        tx._post_process()

    def _payment_request_autopay_unreachable(self, tx, error):
        """Tell the staff on the invoice that the provider could not be asked to charge the card.

        Nothing is known of the charge: the transaction stays draft and the invoice 'charging',
        so that the next run sends the same transaction again, under the same idempotency key.

        :param payment.transaction tx: the transaction whose sending failed
        :param Exception error: what the request raised
        """
        self.ensure_one()
        _logger.warning(
            "Auto-pay of %s (transaction %s) failed: %s", self.name, tx.reference, error
        )
        message = error.args[0] if isinstance(error, UserError) else self.env._("no answer in time")
        if tx.state_message:
            return  # Told at the first failure; not on every run.
        tx.state_message = message
        self.message_post(
            body=self.env._(
                "Auto-pay: %(provider)s could not be reached to charge the card (%(message)s). "
                "The charge %(reference)s will be retried automatically; it will not be made "
                "twice.",
                provider=tx.provider_id.name,
                message=message,
                reference=tx.reference,
            ),
            subtype_xmlid="mail.mt_note",
        )

    def _payment_request_autopay_send(self, tx):
        """Send the auto-pay transaction to the provider and settle what it answers at once.

        A refusal of the provider is a failed charge. An error of the request itself (a
        timeout, the provider out of reach) leaves the outcome unknown: it is raised, so that
        the transaction stays draft and is sent again, under the same idempotency key.

        :param payment.transaction tx: the draft transaction to send
        """
        self.ensure_one()
        # The invoice's lock was released by the commit of the transaction: the transaction's
        # own lock, held until the outcome is committed, keeps two runs from sending it at once.
        self.env.cr.execute(
            SQL(
                "SELECT id FROM payment_transaction WHERE id = %s AND state = 'draft' "
                "FOR UPDATE SKIP LOCKED",
                tx.id,
            )
        )
        if not self.env.cr.fetchone():
            return  # Another run is sending it, or has settled it.
        tx.invalidate_recordset()
        tx._send_payment_request()
        if tx.state == "draft":
            # The provider asks for the customer's action (3-D Secure): impossible off-session.
            # Stripe itself answers such charges with an error; a draft would block the retries.
            tx._set_error(self.env._("the card requires the customer's authentication"))
        if tx.state in ("done", "error", "cancel"):
            # At once, rather than from the post-processing cron, so that the invoice is paid (or
            # the request sent) with the charge. A pending charge is left to the cron.
            tx._post_process()
        else:
            self.sudo().payment_request_autopay_state = "pending"

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
        """Send the receipt of the payment and log the charge on the order.

        The receipt is account's payment receipt: auto-pay charges an invoice, not a payment
        request, so the payment is the only record to print. It uses the company's document
        layout (``web.external_layout``), as the receipt of payment requests does.
        """
        self.ensure_one()
        self.sudo().payment_request_autopay_state = "done"
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
        self.sudo().payment_request_autopay_state = "failed"
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
