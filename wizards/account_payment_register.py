# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import Command
from odoo import api
from odoo import models


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    # Register Payment offers the customer's saved tokens, searched in sudo mode: a user without
    # the Customer cards right registers the payment without them (the global token rule hides
    # them; the payment refuses them at posting).

    @api.depends("payment_method_line_id")
    def _compute_suitable_payment_token_ids(self):
        """Override of `account_payment` to offer no customer card to users without the right."""
        if self.env["payment.token"]._payment_request_user_sees_cards():
            return super()._compute_suitable_payment_token_ids()
        # Not even read back: the rule hides them from the user.
        self.suitable_payment_token_ids = [Command.clear()]
        return None

    @api.onchange("can_edit_wizard", "payment_method_line_id", "journal_id")
    def _compute_payment_token_id(self):
        """Override of `account_payment` to pick no customer card for users without the right."""
        result = super()._compute_payment_token_id()
        if not self.env["payment.token"]._payment_request_user_sees_cards():
            for wizard in self:
                if wizard.payment_token_id.sudo().partner_id != self.env.user.partner_id:
                    wizard.payment_token_id = False
        return result

    @api.constrains("payment_token_id")
    def _check_payment_request_token_right(self):
        self.payment_token_id._payment_request_check_charge_right()
