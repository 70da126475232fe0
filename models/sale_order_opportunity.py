# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The deposits of an opportunity on its orders: counted as paid on the oldest one (its
transactions are linked to it, as `sale` links those paid from the order), shown there with
their requests, and reconciled with its invoices."""

from collections import defaultdict

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models
from odoo.osv import expression

# What decides which order of its opportunity a deposit counts on.
DEPOSIT_ORDER_FIELDS = {"opportunity_id", "pricelist_id", "currency_id", "company_id"}


class SaleOrder(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "sale.order"  # pylint: disable=consider-merging-classes-inherited

    payment_request_deposit_ids = fields.One2many(
        string="Deposits of the Opportunity",
        comodel_name="payment.request",
        inverse_name="deposit_order_id",
        readonly=True,
    )

    # === COMPUTE METHODS === #

    def _get_payment_request_opportunity_deposits(self):
        """Return {order id: deposit transactions of an opportunity counted on the order}."""
        deposits = defaultdict(lambda: self.env["payment.transaction"])
        transactions = self.sudo()._origin.transaction_ids.filtered(
            lambda tx: tx.state == "done" and tx._get_payment_request_opportunity()
        )
        for tx in transactions:
            for order in tx.sale_order_ids:
                deposits[order.id] |= tx
        return deposits

    @api.depends("transaction_ids", "payment_request_deposit_ids")
    def _compute_payment_request_amounts(self):
        result = super()._compute_payment_request_amounts()
        with_deposits = self.filtered(
            lambda order: order.sudo()._origin.payment_request_deposit_ids
        )
        if not with_deposits:
            return result
        deposits = with_deposits._get_payment_request_opportunity_deposits()
        for order in with_deposits:
            order.payment_request_count += len(order.sudo().payment_request_deposit_ids)
            order.payment_request_amount_received += sum(
                deposits[order._origin.id].mapped("amount")
            )
        return result

    @api.depends("payment_request_deposit_ids")
    def _compute_payment_request_deposit_state(self):
        # Only the dependencies grow: the query is extended by the hook below.
        return super()._compute_payment_request_deposit_state()

    def _get_payment_request_deposit_groups(self):
        """Override: the deposits of the opportunity counted on the order, in the same query."""
        domain, groupby = super()._get_payment_request_deposit_groups()
        domain = expression.OR([domain, [("deposit_order_id", "in", self._origin.ids)]])
        return domain, [*groupby, "deposit_order_id"]

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        orders.opportunity_id._payment_request_allocate_deposits()
        return orders

    def write(self, vals):
        moved = DEPOSIT_ORDER_FIELDS.intersection(vals)
        leads = self.opportunity_id if moved else self.env["crm.lead"]
        result = super().write(vals)
        if moved:
            (leads | self.opportunity_id)._payment_request_allocate_deposits()
        return result

    def _action_cancel(self):
        result = super()._action_cancel()
        self.opportunity_id._payment_request_allocate_deposits()
        return result

    # === BUSINESS METHODS === #

    def _payment_request_apply_deposit(self, transactions):
        """Make the invoices of the order settle the deposit `transactions` now counted on it:
        a draft invoice is reconciled with them when posted (sale's `account.move._post`), a
        posted one at once."""
        self.ensure_one()
        invoices = self.sudo().invoice_ids.filtered(
            lambda move: move.move_type == "out_invoice" and move.state != "cancel"
        )
        for invoice in invoices:
            invoice.transaction_ids = [Command.link(tx.id) for tx in transactions]
        payments = transactions.payment_id.filtered(
            lambda payment: payment.payment_type == "inbound" and payment.state == "in_process"
        )
        lines = payments.move_id.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable" and not line.reconciled
        )
        for invoice in invoices.filtered(
            lambda move: move.state == "posted" and move.payment_state in ("not_paid", "partial")
        ):
            for line in lines.filtered(lambda line: not line.reconciled):
                if invoice.currency_id.is_zero(invoice.amount_residual):
                    break
                invoice.js_assign_outstanding_line(line.id)

    # === ACTION METHODS === #

    def action_view_payment_requests(self):
        """Override to list the requests of the opportunity whose deposits the order counts."""
        action = super().action_view_payment_requests()
        requests = self.sudo().payment_request_deposit_ids
        if requests:
            action["domain"] = ["|", ("sale_order_id", "=", self.id), ("id", "in", requests.ids)]
        return action
