# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api
from odoo import fields
from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    payment_request_ids = fields.One2many(
        string="Payment Requests", comodel_name="payment.request", inverse_name="sale_order_id"
    )
    payment_request_count = fields.Integer(compute="_compute_payment_request_amounts")
    payment_request_amount_received = fields.Monetary(
        string="Received by Payment Requests",
        compute="_compute_payment_request_amounts",
        currency_field="currency_id",
    )
    payment_request_deposit_state = fields.Selection(
        string="Deposit",
        selection=[("received", "Deposit received")],
        compute="_compute_payment_request_deposit_state",
        store=True,
        help="A deposit asked by a payment request has been paid.",
    )

    @api.depends("payment_request_ids.state", "payment_request_ids.amount")
    def _compute_payment_request_amounts(self):
        for order in self:
            requests = order.sudo().payment_request_ids
            order.payment_request_count = len(requests)
            order.payment_request_amount_received = sum(
                requests.filtered(lambda request: request.state == "paid").mapped("amount")
            )

    @api.depends("payment_request_ids.state", "payment_request_ids.purpose")
    def _compute_payment_request_deposit_state(self):
        for order in self:
            order.payment_request_deposit_state = (
                "received"
                if any(
                    request.state == "paid" and request.purpose == "deposit"
                    for request in order.sudo().payment_request_ids
                )
                else False
            )

    def write(self, vals):
        totals = self._get_totals_under_payment_requests()
        result = super().write(vals)
        self._withdraw_if_total_lowered(totals)
        return result

    def _get_totals_under_payment_requests(self):
        """Return {order id: total} of the orders that have open payment requests."""
        requests = (
            self.env["payment.request"]
            .sudo()
            .search([("sale_order_id", "in", self.ids), ("state", "in", ("draft", "open"))])
        )
        return {order.id: order.amount_total for order in requests.sale_order_id}

    def _withdraw_if_total_lowered(self, totals):
        """Withdraw what the orders whose total dropped below `totals` can no longer ask."""
        lowered = self.browse(list(totals)).filtered(
            lambda order: (
                order.currency_id.compare_amounts(order.amount_total, totals[order.id]) < 0
            )
        )
        lowered._withdraw_exceeding_payment_requests()

    def _action_cancel(self):
        result = super()._action_cancel()
        for order in self:
            order.sudo().payment_request_ids._withdraw(
                self.env._("the order %(order)s was cancelled", order=order.name)
            )
        return result

    def _withdraw_exceeding_payment_requests(self):
        """Withdraw the open requests that ask more than what remains due on their order."""
        for order in self:
            due = order.amount_total - order.amount_paid
            exceeding = order.sudo().payment_request_ids.filtered(
                lambda request, due=due, order=order: (
                    request.state in ("draft", "open")
                    and order.currency_id.compare_amounts(request.amount, due) > 0
                )
            )
            exceeding._withdraw(
                self.env._(
                    "the total of the order %(order)s dropped below the requested amount",
                    order=order.name,
                )
            )

    def action_view_payment_requests(self):
        """Open the payment requests of the order."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "payment_request.payment_request_action"
        )
        action["domain"] = [("sale_order_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
