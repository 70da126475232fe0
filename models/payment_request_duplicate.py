# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A request paid twice or paid late: the payments staff must check, and refund."""

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError


class PaymentRequest(models.Model):
    # One concern of the model per file (issue 13), as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    paid_transaction_id = fields.Many2one(
        string="Paid by Transaction",
        comodel_name="payment.transaction",
        readonly=True,
        copy=False,
        groups="account.group_account_invoice",
    )
    duplicate_transaction_ids = fields.One2many(
        string="Duplicate Payments",
        comodel_name="payment.transaction",
        inverse_name="payment_request_id",
        domain=[("payment_request_duplicate_state", "!=", False)],
        readonly=True,
        groups="account.group_account_invoice",
        help="Payments confirmed after the request was already paid (two tabs, a slow 3-D "
        "Secure): the money is booked as customer credit until it is refunded.",
    )
    is_paid_twice = fields.Boolean(
        string="Paid Twice",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="A second payment was confirmed after the request was paid.",
    )
    paid_late = fields.Boolean(
        readonly=True,
        copy=False,
        help="The payment was confirmed after the request expired or was cancelled.",
    )

    # === ACTION METHODS === #

    def action_refund_duplicates(self):
        """Refund the duplicate payments of the requests, where their provider can refund.

        Reserved to Payment Managers and accounting managers: it sends money back.
        """
        user = self.env.user
        if not (
            user.has_group("payment_request.group_payment_manager")
            or user.has_group("account.group_account_manager")
        ):
            raise AccessError(
                self.env._("Only Payment Managers can refund the duplicate payments.")
            )
        self.check_access("write")
        transactions = self.sudo().duplicate_transaction_ids.filtered(
            lambda tx: tx.payment_request_duplicate_state in ("detected", "error")
        )
        if not transactions:
            raise UserError(self.env._("There is no duplicate payment left to refund."))
        not_refundable = transactions.filtered(lambda tx: tx.provider_id.support_refund == "none")
        if not_refundable:
            raise UserError(
                self.env._(
                    "The provider of %(references)s cannot refund: refund the customer from the "
                    "provider's dashboard or by a bank transfer.",
                    references=", ".join(not_refundable.mapped("reference")),
                )
            )
        transactions._payment_request_refund_duplicate()
        return True

    # === BUSINESS METHODS === #

    def _withdraw_replacements(self):
        """Withdraw the open requests recreated from this one, now that it was paid late: their
        links would take the same money a second time."""
        self.ensure_one()
        replacements = self.env["payment.request"]
        request = self.sudo().replaced_by_id
        while request and request not in replacements:
            replacements |= request
            request = request.replaced_by_id
        replacements._withdraw(
            self.env._("the request %(name)s it replaced was paid late", name=self.name)
        )

    def _schedule_payment_check(self, note, users):
        """Give each of `users` an activity to check a payment of the request.

        :param str note: what to check
        :param res.users users: who must check it
        """
        self.ensure_one()
        for user in users:
            self.sudo().activity_schedule(
                "payment_request.mail_activity_type_payment_request_check",
                note=note,
                user_id=user.id,
            )

    @api.model
    def _cron_refund_duplicates(self):
        """Refund the duplicate payments scheduled for an automatic refund."""
        transactions = (
            self.env["payment.transaction"]
            .sudo()
            .search([("payment_request_duplicate_state", "=", "to_refund")], order="id")
        )
        transactions._payment_request_refund_duplicate(commit=True)
