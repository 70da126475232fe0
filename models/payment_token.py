# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import RedirectWarning
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError

from .. import const

_logger = logging.getLogger(__name__)


class PaymentToken(models.Model):
    _inherit = "payment.token"
    # Staff pick a customer's card by its last digits, brand or holder (auto-pay on orders).
    _rec_names_search = ["payment_details", "card_brand", "card_holder_name"]

    card_brand = fields.Char(string="Brand", readonly=True)
    card_exp_month = fields.Integer(string="Expiry Month", readonly=True)
    card_exp_year = fields.Integer(string="Expiry Year", readonly=True)
    card_holder_name = fields.Char(string="Holder Name", readonly=True)
    card_postal_code = fields.Char(string="Postal Code", readonly=True)
    card_deleted = fields.Boolean(
        string="Deleted",
        readonly=True,
        help="Deleted from the customer's record and removed at the provider; kept archived only "
        "because payments refer to it.",
    )
    is_expired = fields.Boolean(
        string="Expired", compute="_compute_is_expired", search="_search_is_expired"
    )
    autopay_order_ids = fields.One2many(
        string="Auto-pay Orders",
        comodel_name="sale.order",
        inverse_name="payment_request_token_id",
        domain=[("payment_request_autopay_state", "in", const.AUTOPAY_IN_USE)],
        readonly=True,
    )
    autopay_order_count = fields.Integer(
        string="Auto-pay Orders Count", compute="_compute_autopay_order_count"
    )

    # === COMPUTE METHODS === #

    @api.depends("card_exp_month", "card_exp_year")
    def _compute_is_expired(self):
        today = fields.Date.context_today(self)
        for token in self:
            token.is_expired = bool(token.card_exp_year) and (
                token.card_exp_year,
                token.card_exp_month,
            ) < (today.year, today.month)

    def _search_is_expired(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on Expired."))
        today = fields.Date.context_today(self)
        expired = [
            "&",
            ("card_exp_year", "!=", 0),
            "|",
            ("card_exp_year", "<", today.year),
            "&",
            ("card_exp_year", "=", today.year),
            ("card_exp_month", "<", today.month),
        ]
        if (operator == "=") == value:
            return expired
        return ["!", *expired]

    @api.depends("autopay_order_ids")
    def _compute_autopay_order_count(self):
        counts = {
            token.id: count
            for token, count in self.env["sale.order"]
            .sudo()
            ._read_group(
                [
                    ("payment_request_token_id", "in", self.ids),
                    ("payment_request_autopay_state", "in", const.AUTOPAY_IN_USE),
                ],
                groupby=["payment_request_token_id"],
                aggregates=["__count"],
            )
        }
        for token in self:
            token.autopay_order_count = counts.get(token.id, 0)

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            self._check_card_fields(vals_list)
        tokens = super().create(vals_list)
        tokens.filtered(
            lambda token: token.provider_code == "stripe" and token.stripe_payment_method
        )._payment_request_fetch_card_details()
        return tokens

    def write(self, vals):
        if not self.env.su:
            self._check_card_fields([vals])
        if vals.get("active") and any(self.mapped("card_deleted")):
            raise UserError(self.env._("A deleted card cannot be reactivated: add it again."))
        return super().write(vals)

    @api.model
    def _check_card_fields(self, vals_list):
        """Refuse card details written by a user: they only come from the provider."""
        for vals in vals_list:
            if forbidden := const.CARD_FIELDS.intersection(vals):
                raise AccessError(
                    self.env._(
                        "The card details %(fields)s come from the payment provider and cannot "
                        "be entered by hand.",
                        fields=", ".join(sorted(forbidden)),
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_autopay_and_detach(self):
        """Refuse to delete cards used for auto-pay; detach the others at Stripe.

        The check comes first so that nothing is detached when the deletion is refused. When
        Stripe cannot detach a card, the error is raised: nothing is deleted.
        """
        self._payment_request_check_not_in_autopay()
        # Skipped only for `action_payment_request_delete`, which detached (or was told to
        # delete anyway) after its own checks: in sudo mode, that no RPC caller has.
        if not (self.env.su and self.env.context.get("payment_request_detached")):
            self._payment_request_detach()

    # === ACTION METHODS === #

    def action_payment_request_delete(self):
        """Delete the cards from the customer's record and remove them at the provider.

        A card that paid something stays in the database, archived and marked deleted, because
        its transactions refer to it (as Odoo's own portal archives cards instead of deleting
        them); it is removed at Stripe all the same and cannot be reactivated.

        Stripe out of reach or refusing to detach a card: nothing is deleted, and the error
        offers to "Delete here anyway" (the same action with the context key
        `payment_request_delete_anyway`), which deletes the cards in Odoo only and says on the
        customer's record that they are still saved at Stripe.
        """
        self.check_access("unlink")
        self._payment_request_check_not_in_autopay()
        try:
            self._payment_request_detach()
        except ValidationError as error:
            if not self.env.context.get("payment_request_delete_anyway"):
                raise RedirectWarning(
                    self.env._(
                        "%(error)s\nThe card was not deleted. Delete it here anyway only if you "
                        "will remove it in your Stripe dashboard yourself: it stays saved at "
                        "Stripe.",
                        error=error.args[0],
                    ),
                    self.env.ref("payment_request.payment_token_action_delete_anyway").id,
                    self.env._("Delete here anyway"),
                    {"active_ids": self.ids, "active_model": self._name},
                ) from error
            self._payment_request_log_kept_at_provider()
        with_history = self.sudo().filtered("transaction_ids")
        (self - with_history).sudo().with_context(payment_request_detached=True).unlink()
        if with_history:
            # Deletion rights were checked above; the flag is not writable by users.
            with_history.sudo().write({"active": False, "card_deleted": True})
        return {"type": "ir.actions.client", "tag": "soft_reload"}

    def _payment_request_log_kept_at_provider(self):
        """Note on the customers' records the cards deleted in Odoo but still saved at Stripe."""
        for token in self.sudo():
            token.partner_id.message_post(
                body=self.env._(
                    "Card %(card)s deleted in Odoo only: Stripe could not remove it, it is still "
                    "saved there (PaymentMethod %(reference)s). Remove it in the Stripe dashboard.",
                    card=token.display_name,
                    reference=token.stripe_payment_method or token.provider_ref,
                ),
                subtype_xmlid="mail.mt_note",
            )

    # === BUSINESS METHODS === #

    @api.model
    def _payment_request_user_sees_cards(self):
        """Return whether the user may see and charge the cards of customers.

        The same test as the global rule `payment_token_rule_customer_cards_only`, for the
        places that search tokens in sudo mode (Odoo's Register Payment, payments by token).
        The user, not the sudo flag: stored fields are computed in sudo mode.

        :rtype: bool
        """
        user = self.env.user
        return (
            user.share
            or user.has_group("base.group_system")
            or user.has_group("payment_request.group_customer_cards")
        )

    def _payment_request_check_charge_right(self):
        """Raise unless the user may charge the cards: theirs, or any with the Customer cards right.

        :raise AccessError: naming the right that is missing
        """
        if self.env.su or self._payment_request_user_sees_cards():
            return
        if self.sudo().filtered(lambda token: token.partner_id != self.env.user.partner_id):
            raise AccessError(
                self.env._(
                    "Only users with the Customer cards right charge the saved cards of "
                    "customers. Register the payment with another payment method."
                )
            )

    def _payment_request_check_not_in_autopay(self):
        """Raise if an order pays with one of the cards automatically, naming the orders."""
        in_use = self.sudo().filtered("autopay_order_ids")
        if in_use:
            raise UserError(
                self.env._(
                    "These cards are used for auto-pay and cannot be deleted: %(cards)s.\n"
                    "Disable auto-pay on the orders %(orders)s first.",
                    cards=", ".join(in_use.mapped("display_name")),
                    orders=", ".join(in_use.autopay_order_ids.mapped("name")),
                )
            )

    def _payment_request_detach(self):
        """Detach the PaymentMethods of the Stripe cards from their Stripe customer.

        Each is read first and detached only if still attached: a deletion interrupted after
        some cards were detached is retried without asking Stripe to detach them twice.

        :raise ValidationError: Stripe out of reach or refusing
        """
        for token in self.sudo().filtered(
            lambda token: token.provider_code == "stripe" and token.stripe_payment_method
        ):
            provider = token.provider_id
            payment_method = provider._payment_request_stripe_call(
                "PaymentMethod", "retrieve", token.stripe_payment_method, missing_ok=True
            )
            if not payment_method or not payment_method.to_dict().get("customer"):
                continue
            provider._payment_request_stripe_call(
                "PaymentMethod", "detach", token.stripe_payment_method, missing_ok=True
            )
            _logger.info(
                "Detached the Stripe PaymentMethod of the token %s (partner %s)",
                token.id,
                token.partner_id.id,
            )

    def _payment_request_fetch_card_details(self):
        """Store the brand, expiry, holder and postal code of Stripe cards, read with the SDK.

        Called once the token exists: a failure is logged and leaves the details empty, it never
        undoes the saving of the card.
        """
        for token in self:
            try:
                payment_method = token.provider_id._payment_request_stripe_call(
                    "PaymentMethod", "retrieve", token.stripe_payment_method
                )
            except ValidationError:
                _logger.warning("Could not read the card details of the token %s", token.id)
                continue
            token.sudo().write(self._payment_request_card_values(payment_method.to_dict()))

    @api.model
    def _payment_request_card_values(self, payment_method):
        """Return the token values of a Stripe PaymentMethod (no number, no CVC: Stripe never
        returns them).

        :param dict payment_method: the PaymentMethod object, as a dict
        :return: the values of the card fields
        :rtype: dict
        """
        card = payment_method.get("card") or {}
        billing = payment_method.get("billing_details") or {}
        address = billing.get("address") or {}
        return {
            "card_brand": card.get("brand") or False,
            "card_exp_month": card.get("exp_month") or 0,
            "card_exp_year": card.get("exp_year") or 0,
            "card_holder_name": billing.get("name") or False,
            "card_postal_code": address.get("postal_code") or False,
        }

    def _handle_archiving(self):
        """Override of `payment` to pause the auto-pay of the orders of archived cards."""
        result = super()._handle_archiving()
        for token in self:
            token.autopay_order_ids.filtered(
                lambda order: order.payment_request_autopay_state == "on"
            )._payment_request_pause_autopay(
                self.env._("the card %(card)s was deactivated", card=token.display_name)
            )
        return result

    def get_linked_records_info(self):
        """Override of `payment` to list the orders that pay with the card automatically.

        Public (the payment form calls it over RPC) and the orders are read in sudo mode, with
        their access links: only for a token the caller may read.
        """
        self.check_access("read")
        result = super().get_linked_records_info()
        for order in self.sudo().autopay_order_ids:
            result.append(
                {
                    "description": self.env._("Auto-pay of order"),
                    "id": order.id,
                    "name": order.name,
                    "url": order.get_portal_url(),
                }
            )
        return result
