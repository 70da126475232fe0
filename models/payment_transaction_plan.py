# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models


class PaymentTransaction(models.Model):
    # The charges of payment plan steps on saved cards; files by concern.
    _inherit = "payment.transaction"  # pylint: disable=consider-merging-classes-inherited

    def _post_process(self):
        """Override to settle the charges of payment plan steps: logged on their order when
        done, a link sent to the customer when refused."""
        result = super()._post_process()
        for tx in self.filtered(
            lambda tx: (
                tx.operation == "offline"
                and tx.payment_request_id.plan_charge_state in ("charging", "pending")
            )
        ):
            step = tx.payment_request_id
            if tx.state == "done":
                step._plan_charge_succeeded(tx)
            elif tx.state in ("error", "cancel"):
                step._plan_charge_failed(tx.state_message or self.env._("the payment was refused"))
        return result
