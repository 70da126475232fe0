# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The receipt of a paid request: emailed by a cron, away from the payment, and printed."""

import logging
from datetime import timedelta
from time import monotonic

from odoo import api
from odoo import fields
from odoo import models

from .. import const

_logger = logging.getLogger(__name__)


class PaymentRequest(models.Model):
    # One concern of the model per file (issue 13), as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    receipt_state = fields.Selection(
        string="Receipt",
        selection=const.RECEIPT_STATES,
        default="none",
        required=True,
        readonly=True,
        copy=False,
        help="Whether the receipt of the payment was emailed to the customer.",
    )
    receipt_error = fields.Char(readonly=True, copy=False)

    # === BUSINESS METHODS === #

    def _send_receipt(self):
        """Email the customer their receipt, with the PDF, and keep it in the chatter.

        Run by `_cron_send_receipts`, away from the payment's post-processing: a failure to
        render or queue the receipt is recorded on the request (field and note), and the
        receipt is tried again later or by hand.

        :return: whether the receipt was queued
        :rtype: bool
        """
        self.ensure_one()
        request = self.sudo()
        if not request.partner_id.email:
            request.write({"receipt_state": "none", "receipt_error": False})
            return False
        try:
            with self.env.cr.savepoint():
                # A note addressed to the customer: followers (the requester) are told by
                # _notify_requester instead of receiving a copy of the receipt. The email
                # goes through the mail queue.
                request.message_post_with_source(
                    "payment_request.mail_template_payment_request_receipt",
                    message_type="comment",
                    email_layout_xmlid="mail.mail_notification_light",
                    subtype_xmlid="mail.mt_note",
                    force_send=False,
                )
        except const.CONCURRENCY_ERRORS:
            # A concurrent transaction, not the receipt: left to send (not recorded as an
            # error), for the caller to retry.
            raise
        except Exception as error:  # pylint: disable=broad-except
            # Whatever the report engine or the template raised: the request stays paid.
            _logger.exception("Receipt of payment request %s could not be made", request.name)
            reason = str(error) or error.__class__.__name__
            first_failure = request.receipt_state != "error"
            request.write({"receipt_state": "error", "receipt_error": reason})
            if first_failure:
                self._notify_requester(
                    self.env._(
                        "The receipt could not be made or emailed: %(reason)s. It will be tried "
                        'again; "Send receipt" tries it now.',
                        reason=reason,
                    )
                )
            return False
        request.write({"receipt_state": "sent", "receipt_error": False})
        self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
        return True

    @api.model
    def _cron_send_receipts(self, batch_size=const.RECEIPT_BATCH_SIZE):
        """Make and queue the receipts of paid requests, one batch per call.

        Receipts that failed are tried again for `const.RECEIPT_RETRY_DAYS` days.

        :param int batch_size: how many receipts to make in this call
        :return: the number of receipts still to make
        """
        retry_since = fields.Datetime.now() - timedelta(days=const.RECEIPT_RETRY_DAYS)
        domain = [
            "|",
            ("state", "=", "paid"),
            ("amount_paid", ">", 0),
            "|",
            ("receipt_state", "=", "to_send"),
            "&",
            ("receipt_state", "=", "error"),
            ("paid_date", ">=", retry_since),
        ]
        requests = self.sudo().search(domain, limit=batch_size, order="id")
        done = self.browse()
        deadline = monotonic() + const.RECEIPT_CRON_TIME_BUDGET
        for request in requests:
            if done and monotonic() > deadline:
                break
            try:
                request._send_receipt()
            except const.CONCURRENCY_ERRORS:
                # The receipt's savepoint is rolled back; this transaction cannot make it now
                # (its snapshot is older than the other write): the next run of the job will.
                _logger.info("Receipt of %s met a concurrent update: retried later", request.name)
                break
            done |= request
        remaining = (
            self.sudo().search_count(domain)
            if len(requests) == batch_size or done != requests
            else 0
        )
        # One batch per run of the job: the scheduler would call it again up to ten times in
        # the same run, and ten batches of PDFs can outlive the cron worker's time limit (make
        # load: 1-2 s a PDF). The job is triggered again for the rest instead.
        self.env["ir.cron"]._notify_progress(done=len(done), remaining=0)
        if remaining:
            self.env.ref("payment_request.ir_cron_send_payment_request_receipts")._trigger()
        return remaining

    # === ACTION METHODS === #

    def action_send_receipt(self):
        """Make and email the receipt of paid requests now (again, after an error)."""
        if self.filtered(lambda request: request.state != "paid" and not request.amount_paid):
            self._check_state(("paid",), self.env._("Only paid requests have a receipt."))
        self.check_access("write")
        sent = self.env["payment.request"]
        for request in self:
            if request._send_receipt():
                sent |= request
        failed = self - sent
        errors = failed.filtered(lambda request: request.receipt_state == "error")
        if not errors:
            return True
        # Not raised: the error stays recorded on the requests.
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "danger",
                "sticky": True,
                "message": self.env._(
                    "The receipt could not be made: %(reason)s",
                    reason="; ".join(errors.mapped("receipt_error")),
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Receipt %(name)s", name=self.name.replace("/", "-"))

    def action_print_receipt(self):
        """Print the receipt (or the request, while unpaid) as a PDF."""
        return self.env.ref("payment_request.action_report_payment_request_receipt").report_action(
            self
        )
