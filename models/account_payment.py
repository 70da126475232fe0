# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    payment_request_opportunity_id = fields.Many2one(
        string="Opportunity",
        comodel_name="crm.lead",
        index="btree_not_null",
        readonly=True,
        ondelete="set null",
        help="The opportunity whose deposit this payment is (or whose deposit it refunds).",
    )

    # account_payment offers the customer's saved tokens, searched in sudo mode, and charges the
    # chosen one when the payment is posted: only for users who may use customers' cards.

    @api.depends("payment_method_line_id")
    def _compute_suitable_payment_token_ids(self):
        """Override of `account_payment` to offer no customer card to users without the right."""
        if self.env["payment.token"]._payment_request_user_sees_cards():
            return super()._compute_suitable_payment_token_ids()
        # Not even read back: the rule hides them from the user.
        self.suitable_payment_token_ids = [Command.clear()]
        return None

    @api.onchange("partner_id", "payment_method_line_id", "journal_id")
    def _onchange_set_payment_token_id(self):
        """Override of `account_payment` to pick no customer card for users without the right."""
        result = super()._onchange_set_payment_token_id()
        if not self.env["payment.token"]._payment_request_user_sees_cards():
            if self.payment_token_id.sudo().partner_id != self.env.user.partner_id:
                self.payment_token_id = False
        return result

    @api.constrains("payment_token_id")
    def _check_payment_request_token_right(self):
        self.payment_token_id._payment_request_check_charge_right()

    def action_post(self):
        """Override of `account_payment`: posting a payment by token charges the card."""
        self.filtered(
            lambda payment: not payment.payment_transaction_id
        ).payment_token_id._payment_request_check_charge_right()
        return super().action_post()

    def write(self, vals):
        result = super().write(vals)
        if "state" in vals:
            # Cancelled or reset to draft, a deposit no longer counts on its opportunity.
            self.payment_request_opportunity_id._payment_request_refresh_deposits()
        return result
