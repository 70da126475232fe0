# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from markupsafe import Markup

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError


class PaymentCardRequest(models.Model):
    """A link that lets a customer save a card, without paying anything.

    The customer (or staff, for a customer who is present) opens the link and enters the card in
    the provider's own form, in validation mode: the provider keeps the card and Odoo keeps only
    the token. The request is done once the card is saved.
    """

    _name = "payment.card.request"
    _description = "Card Request"
    _inherit = ["payment.request.sending.mixin", "mail.thread", "portal.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    partner_id = fields.Many2one(
        string="Customer",
        comodel_name="res.partner",
        required=True,
        index=True,
        readonly=True,
        check_company=True,
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    user_id = fields.Many2one(
        string="Requested by",
        comodel_name="res.users",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
    )
    state = fields.Selection(
        selection=[
            ("open", "Waiting for the card"),
            ("done", "Card saved"),
            ("cancelled", "Cancelled"),
        ],
        required=True,
        default="open",
        readonly=True,
        tracking=True,
    )
    token_id = fields.Many2one(
        string="Saved Card", comodel_name="payment.token", readonly=True, ondelete="set null"
    )

    # === COMPUTE METHODS === #

    @api.depends("partner_id")
    @api.depends_context("lang")
    def _compute_name(self):
        for card_request in self:
            card_request.name = self.env._(
                "Card request for %(customer)s", customer=card_request.partner_id.display_name
            )

    def _compute_access_url(self):
        for card_request in self:
            card_request.access_url = f"/payment_request/card/{card_request.id}"

    # === BUSINESS METHODS === #

    def _send_link(self, channel, number=None):
        """Send the link of the card request to the customer by email and/or SMS.

        As payment requests are sent (`payment.request.sending.mixin`).

        :param str channel: 'email', 'sms' or 'both'
        :param str number: the E.164 number the SMS goes to
        """
        self.ensure_one()
        if self.state != "open":
            raise UserError(self.env._("Only an open card request can be sent."))
        self._portal_ensure_token()
        self._send_link_messages(channel, {self.id: self.partner_id}, {self.id: number})

    def _get_link_templates(self):
        return (
            "payment_request.mail_template_payment_card_request",
            "payment_request.sms_template_payment_card_request",
        )

    def _mark_done(self, token):
        """Record the card saved through the link and tell the requester."""
        self.ensure_one()
        if self.state != "open":
            return
        self.write({"state": "done", "token_id": token.id})
        self.message_post(
            body=Markup("<p>%s</p>") % self.env._("Card %(card)s saved.", card=token.display_name),
            partner_ids=self.user_id.partner_id.ids,
            subtype_xmlid="mail.mt_note",
            message_type="comment",
        )
        self.partner_id.message_post(
            body=self.env._("Card %(card)s saved by the customer.", card=token.display_name),
            subtype_xmlid="mail.mt_note",
        )
