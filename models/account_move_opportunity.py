# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A deposit's journal entry reset, cancelled or reversed takes the deposit off its
opportunity and its orders."""

from odoo import models


class AccountMove(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    def write(self, vals):
        result = super().write(vals)
        if "state" in vals:
            payments = (self | self.reversed_entry_id).sudo().origin_payment_id
            payments.payment_request_opportunity_id._payment_request_refresh_deposits()
        return result
