# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from collections import defaultdict

from markupsafe import Markup

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError

from .. import const


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
    payment_request_use_card = fields.Boolean(
        string="Pay with saved card",
        copy=False,
        help="Charge the invoices of the order to one of the customer's saved cards.",
    )
    payment_request_token_id = fields.Many2one(
        string="Saved Card",
        comodel_name="payment.token",
        copy=False,
        tracking=True,
        index="btree_not_null",
        ondelete="set null",
        domain="[('partner_id', 'in', (partner_id, partner_invoice_id))]",
        # Neither read (its name shows the card) nor written over RPC without the right.
        groups=const.CARDS_GROUP,
        help="The customer's card charged when an invoice of the order is posted.",
    )
    payment_request_autopay_state = fields.Selection(
        string="Auto-pay",
        selection=const.ORDER_AUTOPAY_STATES,
        default="off",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
    )
    payment_request_autopay_pause_reason = fields.Char(
        string="Auto-pay Paused Because", readonly=True, copy=False
    )

    # === CONSTRAINT METHODS === #

    @api.constrains("payment_request_token_id", "partner_invoice_id", "partner_id")
    def _check_payment_request_token(self):
        for order in self:
            token = order.sudo().payment_request_token_id
            if token and token.partner_id.commercial_partner_id not in (
                order.partner_id.commercial_partner_id
                | order.partner_invoice_id.commercial_partner_id
            ):
                raise ValidationError(
                    self.env._(
                        "The card %(card)s is not a card of the customer of %(order)s.",
                        card=token.display_name,
                        order=order.name,
                    )
                )

    # === COMPUTE METHODS === #

    @api.depends("payment_request_ids.amount_paid")
    def _compute_payment_request_amounts(self):
        # Grouped in SQL: an order may have hundreds of requests (a deposit asked again and again).
        groups = (
            self.env["payment.request"]
            .sudo()
            ._read_group(
                [("sale_order_id", "in", self._origin.ids)],
                groupby=["sale_order_id"],
                aggregates=["__count", "amount_paid:sum"],
            )
        )
        counts, received = defaultdict(int), defaultdict(float)
        # What was paid, partly paid requests included.
        for order, count, amount in groups:
            counts[order.id] += count
            received[order.id] += amount
        for order in self:
            order.payment_request_count = counts[order._origin.id]
            order.payment_request_amount_received = received[order._origin.id]

    @api.depends("payment_request_ids.state", "payment_request_ids.purpose")
    def _compute_payment_request_deposit_state(self):
        # One query, whatever the number of requests of the orders: the expiry cron changes the
        # state of a thousand requests at a time, many of them on the same orders, and reading
        # every request of these orders cost it ~40 queries and most of its time per batch.
        domain, groupby = self._get_payment_request_deposit_groups()
        groups = self.env["payment.request"].sudo()._read_group(domain, groupby=groupby)
        received = {order.id for group in groups for order in group}
        for order in self:
            order.payment_request_deposit_state = (
                "received" if order._origin.id in received else False
            )

    def _get_payment_request_deposit_groups(self):
        """Return the domain and the groupby of one `_read_group` of payment requests whose
        groups are the orders that received a deposit: their paid deposit requests.

        :rtype: tuple
        """
        domain = [
            ("sale_order_id", "in", self._origin.ids),
            ("state", "=", "paid"),
            ("purpose", "=", "deposit"),
        ]
        return domain, ["sale_order_id"]

    @api.onchange("payment_request_use_card", "partner_id", "partner_invoice_id")
    def _onchange_payment_request_use_card(self):
        """Forget the card when the order no longer pays by card or changes customer."""
        customers = (self.partner_id | self.partner_invoice_id).commercial_partner_id
        # In sudo mode: the customer may change in the hands of a user without card rights.
        token_customer = self.sudo().payment_request_token_id.partner_id.commercial_partner_id
        if not self.payment_request_use_card or (
            token_customer and token_customer not in customers
        ):
            self.payment_request_token_id = False

    def write(self, vals):
        if self.env.su:
            pass
        elif (
            "payment_request_autopay_state" in vals
            or "payment_request_autopay_pause_reason" in vals
        ):
            raise AccessError(self.env._("Auto-pay is enabled and disabled with its buttons only."))
        elif {"payment_request_use_card", "payment_request_token_id"}.intersection(vals) and any(
            order.payment_request_autopay_state != "off" for order in self
        ):
            raise UserError(
                self.env._("Disable auto-pay before changing the card that pays the order.")
            )
        totals = self._get_totals_under_payment_requests()
        result = super().write(vals)
        self._payment_request_lines_changed(totals)
        return result

    def _get_totals_under_payment_requests(self):
        """Return {order id: total} of the orders that have open payment requests."""
        requests = (
            self.env["payment.request"]
            .sudo()
            .search([("sale_order_id", "in", self.ids), ("state", "in", ("draft", "open"))])
        )
        return {order.id: order.amount_total for order in requests.sale_order_id}

    def _payment_request_lines_changed(self, totals=None):
        """React to a change of the orders' lines or total: close the approval links of the
        quotations that changed and withdraw what their new total no longer allows.

        :param dict totals: {order id: total before} of the orders with open requests (see
            `_get_totals_under_payment_requests`); None when unknown (lines added)
        """
        orders = self if totals is None else self.browse(list(totals))
        if orders:
            orders._check_payment_request_quotes()
        if totals:
            self._withdraw_if_total_lowered(totals)

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

    # === AUTO-PAY === #

    def action_enable_autopay(self):
        """Charge the order's invoices to its saved card as soon as they are posted."""
        if not self.env.user.has_group(const.CARDS_GROUP):
            raise AccessError(
                self.env._("Only users with the Customer cards right set up auto-pay.")
            )
        self.check_access("write")
        for order in self:
            token = order.sudo().payment_request_token_id
            if not order.payment_request_use_card or not token:
                raise UserError(
                    self.env._(
                        "Choose the saved card that pays the order %(order)s first.",
                        order=order.name,
                    )
                )
            if order.state == "cancel":
                raise UserError(self.env._("The order %(order)s is cancelled.", order=order.name))
            if not token.active or token.is_expired:
                raise UserError(
                    self.env._(
                        "The card %(card)s is deactivated or expired: choose another card.",
                        card=token.display_name,
                    )
                )
        self.sudo().write(
            {"payment_request_autopay_state": "on", "payment_request_autopay_pause_reason": False}
        )
        for order in self:
            order.message_post(
                body=self.env._(
                    "Auto-pay enabled: posted invoices are charged to the card %(card)s.",
                    card=order.sudo().payment_request_token_id.display_name,
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def action_disable_autopay(self):
        """Stop charging the order's invoices to its saved card."""
        self.check_access("write")
        orders = self.filtered(lambda order: order.payment_request_autopay_state != "off")
        orders.sudo().write(
            {"payment_request_autopay_state": "off", "payment_request_autopay_pause_reason": False}
        )
        for order in orders:
            order.message_post(body=self.env._("Auto-pay disabled."), subtype_xmlid="mail.mt_note")
        return True

    def _payment_request_pause_autopay(self, reason):
        """Pause auto-pay after a failed charge and tell the salesperson.

        :param str reason: why, for the chatter and the order
        """
        orders = self.filtered(lambda order: order.payment_request_autopay_state == "on")
        orders.sudo().write(
            {
                "payment_request_autopay_state": "paused",
                "payment_request_autopay_pause_reason": reason,
            }
        )
        for order in orders:
            salesperson = order.user_id
            body = self.env._(
                "Auto-pay paused: %(reason)s. Enable it again once the customer has a valid card.",
                reason=reason,
            )
            order.sudo().message_post(
                body=body,
                partner_ids=salesperson.partner_id.ids,
                subtype_xmlid="mail.mt_note",
                message_type="comment",
            )
            if salesperson:
                order.sudo().activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("Auto-pay paused"),
                    note=Markup("<p>%s</p>") % body,
                    user_id=salesperson.id,
                )

    # === PAYMENT REQUESTS === #

    def _get_payment_request_purposes(self):
        """Return the purposes of the payment requests the orders offer, the default first:
        quotations are sent for approval.

        :return: purposes of `payment.request`
        :rtype: list
        """
        purposes = list(const.PURPOSES_BY_MODEL[self._name])
        if self and all(order.state in ("draft", "sent") for order in self):
            purposes.remove("quote")
            purposes.insert(0, "quote")
        return purposes

    def _get_payment_request_customers(self):
        """Return the partners whose contacts a request for the order may be sent to."""
        return self.partner_id | self.partner_invoice_id

    def _get_payment_request_amount_due(self):
        """Return what remains to pay on the order: its total less the payments received."""
        self.ensure_one()
        return self.currency_id.round(self.amount_total - self.amount_paid)

    def _get_payment_request_deposit_amount(self):
        """Return the deposit proposed for the order: its prepayment, else the company's
        default percentage, and never more than what is due."""
        self.ensure_one()
        if self.require_payment and self.prepayment_percent:
            amount = self._get_prepayment_required_amount()
        else:
            amount = self.amount_total * self.company_id.payment_request_deposit_percent
        return self.currency_id.round(min(amount, self._get_payment_request_amount_due()))

    def _get_payment_request_values(self, purpose=None, **kwargs):
        """Return what a payment request of the order for `purpose` asks, or refuse it.

        :param str purpose: 'deposit', 'order' or 'quote'; None to only check the order
        :param kwargs: ignored (the values of other documents' hooks)
        :return: the values of the request (see `payment.request._prepare_values_from_document`)
            and `max_amount`, the most it may ask
        :rtype: dict
        :raise UserError: when the order cannot be asked for `purpose`
        """
        self.ensure_one()
        if self.state == "cancel":
            raise UserError(
                self.env._(
                    "The order %(order)s is cancelled: no payment can be requested for it.",
                    order=self.name,
                )
            )
        if purpose == "quote":
            self._check_payment_request_quotation()
        due = self._get_payment_request_amount_due()
        if self.currency_id.compare_amounts(due, 0) <= 0:
            raise UserError(self.env._("Nothing is due on the order %(order)s.", order=self.name))
        if purpose == "deposit":
            description = self.env._("Deposit for order %(order)s", order=self.name)
        elif purpose == "quote":
            description = self.env._("Approval and payment of quotation %(order)s", order=self.name)
        else:
            description = self.env._("Payment of order %(order)s", order=self.name)
        return {
            # The quotation is approved by its customer, the rest paid by the invoicee.
            "partner_id": self.partner_id
            if purpose == "quote"
            else (self.partner_invoice_id or self.partner_id),
            "company_id": self.company_id,
            "currency_id": self.currency_id,
            "sale_order_id": self,
            "invoice_ids": self.env["account.move"],
            "amount": self._get_payment_request_deposit_amount() if purpose == "deposit" else due,
            "max_amount": due,
            "description": description,
            "external_reference": self.client_order_ref or "",
        }
