# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Requests asked on a CRM opportunity: a deposit (or a free amount) held as the customer's
prepayment until the deal has an order."""

from odoo import api
from odoo import fields
from odoo import models


class PaymentRequest(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    opportunity_id = fields.Many2one(
        string="Opportunity",
        comodel_name="crm.lead",
        index="btree_not_null",
        check_company=True,
        tracking=True,
        # The money received stays tagged with its deal: archive a lost opportunity instead.
        ondelete="restrict",
        domain=[("type", "=", "opportunity")],
    )

    deposit_order_id = fields.Many2one(
        string="Deposit Counted on",
        comodel_name="sale.order",
        index="btree_not_null",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The order of the opportunity on which what was paid counts.",
    )

    def _get_document(self):
        """Override: a request asked on an opportunity follows the opportunity's rules."""
        self.ensure_one()
        if self.opportunity_id and not self.sale_order_id:
            return self.opportunity_id
        return super()._get_document()

    @api.model
    def _prepare_values_from_document(self, purpose, values, **overrides):
        result = super()._prepare_values_from_document(purpose, values, **overrides)
        if values.get("opportunity_id"):
            result.setdefault("opportunity_id", values["opportunity_id"].id)
        return result

    def _register_payment(self, transaction):
        """Override: log the payment on the opportunity and carry it to the opportunity's
        order; a deposit paid in full marks the opportunity won when its company asks so."""
        paid = super()._register_payment(transaction)
        lead = self.opportunity_id
        if lead:
            lead._payment_request_log_payment(self, transaction)
            lead._payment_request_allocate_deposits()
            if paid and self.purpose == "deposit":
                lead._payment_request_mark_won()
        return paid
