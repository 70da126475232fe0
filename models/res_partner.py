# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import phonenumbers

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools import email_normalize

from .. import const


class ResPartner(models.Model):
    _inherit = "res.partner"

    payment_request_ids = fields.One2many(
        string="Payment Requests",
        comodel_name="payment.request",
        inverse_name="partner_id",
        groups=const.REQUEST_GROUPS,
    )
    payment_request_count = fields.Integer(
        compute="_compute_payment_request_figures",
        groups=const.REQUEST_GROUPS,
    )

    payment_request_card_ids = fields.Many2many(
        string="Cards",
        comodel_name="payment.token",
        compute="_compute_payment_request_figures",
        context={"active_test": False},
        groups="payment_request.group_customer_cards",
        help="The customer's saved cards, active or not, deleted ones excepted.",
    )
    payment_request_wallet_balance = fields.Monetary(
        string="Prepaid Balance",
        compute="_compute_payment_request_figures",
        currency_field="payment_request_wallet_currency_id",
        groups="account.group_account_invoice",
        help="Payments received from the customer and not yet applied to an invoice: wallet "
        "top-ups, deposits and other prepayments, offered when their next invoices are paid.",
    )
    payment_request_wallet_currency_id = fields.Many2one(
        comodel_name="res.currency", compute="_compute_payment_request_figures"
    )

    payment_request_no_auto = fields.Boolean(
        string="No Automatic Payment Requests",
        help="Never send this customer payment requests for their overdue invoices "
        "automatically (a dispute, a payment plan agreed by phone, ...).",
    )

    @api.model
    def _commercial_fields(self):
        # Set on the company, it holds for its contacts, as the payment terms do.
        return [*super()._commercial_fields(), "payment_request_no_auto"]

    @api.depends_context("uid", "allowed_company_ids", "company")
    def _compute_payment_request_figures(self):
        """What the addon adds to the customer form, in one query: how many requests the
        partner and its contacts have (smart button), the customer's prepaid balance (smart
        button), and whether the partner has saved cards (Cards tab), read then only for those
        that have some.

        The count takes the contacts at any depth, as sale counts orders, walked in SQL rather
        than searched level by level; the requests are read through `_search`, so the record
        rules apply. The balance is the credit of the commercial partner in the current company,
        in its currency: credits of other companies are in their own currencies and cannot be
        spent on this company's invoices. The cards are searched with the record rules, active
        or not. The form reads all of it each time it opens: one query rather than one for each
        button and one for the tab (make bench, issue 14: the customer form cost 1.13x the form
        without the addon's fields with three queries, 1.11x with two).
        """
        company = self.env.company
        self.payment_request_count = 0
        self.payment_request_wallet_balance = 0.0
        self.payment_request_wallet_currency_id = company.currency_id
        self.payment_request_card_ids = False
        ids = tuple(partner_id for partner_id in self.ids if partner_id)
        if not ids:
            return
        self.flush_model(["parent_id", "commercial_partner_id"])
        Request = self.env["payment.request"]
        Request.flush_model(["partner_id"])
        self.env["account.move.line"].flush_model(
            ["partner_id", "company_id", "account_id", "parent_state", "reconciled"]
            + ["amount_residual"]
        )
        self.env["account.account"].flush_model(["account_type"])
        Card = self.env["payment.token"].with_context(active_test=False)
        Card.flush_model(["partner_id", "card_deleted"])
        # The cards alone are readable with the Customer cards group: no count without the right
        # to read the requests.
        count = SQL("0")
        if Request.has_access("read"):
            requests = Request._search([])
            count = SQL(
                """(SELECT COUNT(*)
                      FROM tree
                      JOIN (%s) request ON request.partner_id = tree.id
                     WHERE tree.root_id = partner.id)""",
                requests.select(SQL.identifier(requests.table, "partner_id")),
            )
        rows = self.env.execute_query(
            SQL(
                """
                WITH RECURSIVE tree(root_id, id) AS (
                    SELECT id, id FROM res_partner WHERE id IN %(ids)s
                    UNION
                    SELECT tree.root_id, contact.id
                      FROM res_partner contact
                      JOIN tree ON contact.parent_id = tree.id
                )
                SELECT partner.id,
                       %(count)s,
                       (SELECT -SUM(line.amount_residual)
                          FROM account_move_line line
                          JOIN account_account account ON account.id = line.account_id
                         WHERE line.partner_id = partner.commercial_partner_id
                           AND line.company_id = %(company)s
                           AND account.account_type = 'asset_receivable'
                           AND line.parent_state = 'posted'
                           AND line.reconciled IS NOT TRUE
                           AND line.amount_residual < 0),
                       EXISTS (SELECT FROM payment_token card
                                WHERE card.partner_id = partner.id
                                  AND card.card_deleted IS NOT TRUE)
                  FROM res_partner partner
                 WHERE partner.id IN %(ids)s
                """,
                ids=ids,
                count=count,
                company=company.id,
            )
        )
        with_cards = []
        for partner_id, request_count, balance, has_cards in rows:
            partner = self.browse(partner_id)
            partner.payment_request_count = request_count
            partner.payment_request_wallet_balance = balance or 0.0
            if has_cards:
                with_cards.append(partner_id)
        if with_cards:
            cards = Card.search([("partner_id", "in", with_cards), ("card_deleted", "=", False)])
            for partner, partner_cards in cards.grouped("partner_id").items():
                partner.with_env(self.env).payment_request_card_ids = partner_cards

    def action_view_payment_requests(self):
        """Open the payment requests of the partner and of its contacts."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "payment_request.payment_request_action"
        )
        action["domain"] = [("partner_id", "child_of", self.ids)]
        action["context"] = {"default_partner_id": self.id}
        return action

    def action_view_payment_request_credits(self):
        """Open the customer's payments not yet applied to an invoice."""
        self.ensure_one()
        action = {
            "type": "ir.actions.act_window",
            "name": self.env._("Prepaid Balance"),
            "res_model": "account.move.line",
            "view_mode": "list",
            "views": [(False, "list")],
        }
        action["domain"] = [
            ("partner_id", "=", self.commercial_partner_id.id),
            ("account_id.account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
            ("amount_residual", "<", 0),
        ]
        action["context"] = {"create": False}
        return action

    # === CARDS === #

    def _payment_request_get_channel(self, company=None):
        """Return how to reach the customer: the channel and the E.164 mobile number.

        :param res.company company: whose country formats a number without country code
        :return: ('email', 'sms' or 'both', number or False), or (False, False) if neither
        :rtype: tuple
        """
        self.ensure_one()
        country = self.country_id or (company or self.env.company).country_id
        phone = self.mobile or self.phone
        number = phone and self._phone_format(
            number=phone, country=country, force_format="E164", raise_exception=False
        )
        if self.email and number:
            return "both", number
        if self.email:
            return "email", False
        if number:
            return "sms", number
        return False, False

    def _payment_request_new_card_request(self):
        """Return an open card request of the customer, created if none is waiting."""
        self.ensure_one()
        values = {"partner_id": self.id, "company_id": self.env.company.id}
        return self.env["payment.card.request"].search(
            [*[(name, "=", value) for name, value in values.items()], ("state", "=", "open")],
            limit=1,
        ) or self.env["payment.card.request"].create(values)

    def action_payment_request_request_card(self):
        """Send the customer a link where they save a card themselves."""
        self.ensure_one()
        channel, number = self._payment_request_get_channel()
        if not channel:
            raise UserError(
                self.env._(
                    "%(customer)s has neither an email address nor a mobile number: add one to "
                    "send them the link.",
                    customer=self.display_name,
                )
            )
        card_request = self._payment_request_new_card_request()
        card_request._send_link(channel, number)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Request card"),
                "message": self.env._(
                    "The link to save a card was sent to %(customer)s.", customer=self.display_name
                ),
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_payment_request_add_card(self):
        """Open the provider's card form for a customer who is present, in a new window."""
        self.ensure_one()
        card_request = self._payment_request_new_card_request()
        card_request._portal_ensure_token()
        return {
            "type": "ir.actions.act_url",
            "url": card_request.get_portal_url(),
            "target": "new",
        }

    # === REMINDERS === #

    def _payment_request_mobile_number(self):
        """Return the mobile number of the partner in E.164, or False if it has no valid one.

        The mobile field first, then the phone field, as long as the number may be a mobile
        one for its country (a fixed line cannot receive an SMS).
        """
        self.ensure_one()
        for fname in ("mobile", "phone"):
            number = self._phone_format(fname=fname, force_format="E164")
            if not number:
                continue
            try:
                parsed = phonenumbers.parse(number)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.number_type(parsed) in const.MOBILE_NUMBER_TYPES:
                return number
        return False

    # === PAYMENT REQUESTS === #

    def _get_payment_request_purposes(self):
        """Return the purposes of the payment requests a customer offers, the default first.

        :return: purposes of `payment.request`
        :rtype: list
        """
        return list(const.PURPOSES_BY_MODEL[self._name])

    def _get_payment_request_customers(self):
        """Return the partners whose contacts a request for the customer may be sent to."""
        return self

    def _get_payment_request_open_invoices(self, company, currency):
        """Return the posted invoices of the customer that still have something due.

        :param res.company company: the company of the invoices
        :param res.currency currency: the currency of the invoices
        :return: the invoices, the earliest due first
        :rtype: account.move
        """
        self.ensure_one()
        return self.env["account.move"].search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("commercial_partner_id", "=", self.commercial_partner_id.id),
                ("company_id", "=", company.id),
                ("currency_id", "=", currency.id),
                ("amount_residual", ">", 0),
            ],
            order="invoice_date_due, id",
        )

    def _get_payment_request_values(self, purpose=None, company=None, currency=None, invoices=None):
        """Return what a payment request of the customer for `purpose` asks, or refuse it.

        :param str purpose: 'free', 'wallet' or 'invoices'; None to only check the customer
        :param res.company company: the company that asks; the current one by default
        :param res.currency currency: the currency asked; the company's by default
        :param account.move invoices: the invoices chosen for the purpose 'invoices'; None for
            all the open invoices of the customer
        :return: the values of the request (see `payment.request._prepare_values_from_document`)
            and `max_amount`, the most it may ask (None: no limit)
        :rtype: dict
        :raise UserError: when the customer cannot be asked for `purpose`
        """
        self.ensure_one()
        company = company or self.env.company
        currency = currency or company.currency_id
        values = {
            "partner_id": self,
            "company_id": company,
            "currency_id": currency,
            "sale_order_id": self.env["sale.order"],
            "invoice_ids": self.env["account.move"],
            "amount": 0.0,
            "max_amount": None,
            "description": "",
            "external_reference": "",
        }
        if purpose == "wallet":
            values["description"] = self.env._("Top-up of your prepaid balance")
        elif purpose == "invoices":
            if not self.env["account.move"].has_access("read"):
                raise UserError(
                    self.env._(
                        "Requesting the payment of invoices needs invoicing rights "
                        "(Invoicing: Billing)."
                    )
                )
            chosen = invoices
            if invoices is None or not invoices:
                chosen = self._get_payment_request_open_invoices(company, currency)
                if not chosen:
                    raise UserError(
                        self.env._(
                            "%(customer)s has no open invoice in %(currency)s: nothing is due.",
                            customer=self.display_name,
                            currency=currency.name,
                        )
                    )
                if invoices is not None:
                    raise UserError(self.env._("Select the invoices the customer should pay."))
            not_open = chosen.filtered(
                lambda invoice: (
                    invoice.move_type != "out_invoice"
                    or invoice.state != "posted"
                    or invoice.payment_state not in ("not_paid", "partial")
                    or invoice.commercial_partner_id != self.commercial_partner_id
                    or invoice.company_id != company
                    or invoice.currency_id != currency
                    or invoice.currency_id.compare_amounts(invoice.amount_residual, 0) <= 0
                )
            )
            if not_open:
                raise UserError(
                    self.env._(
                        "%(invoices)s: not open invoices of %(customer)s in %(currency)s.",
                        invoices=", ".join(not_open.mapped("display_name")),
                        customer=self.display_name,
                        currency=currency.name,
                    )
                )
            due = currency.round(sum(chosen.mapped("amount_residual")))
            values.update(
                invoice_ids=chosen,
                # What the invoices' payment terms make due now; up to their whole residual.
                amount=chosen._get_payment_request_asked()[1],
                max_amount=due,
                description=self.env._(
                    "Payment of invoices %(invoices)s", invoices=", ".join(chosen.mapped("name"))
                ),
            )
        return values

    def _payment_request_check_contact(self, channel, email, phone, company=None):
        """Validate the address and the number the customer is sent a link at.

        :param str channel: 'email', 'sms' or 'both'
        :param str email: the address typed or known
        :param str phone: the number typed or known
        :param res.company company: whose country formats a number without country code
        :return: (normalized email or False, E.164 number or False)
        :raise UserError: naming the customer and the field when one is missing or invalid
        """
        self.ensure_one()
        normalized_email = False
        number = False
        if channel in ("email", "both"):
            if not email:
                raise UserError(
                    self.env._(
                        "%(customer)s has no email address: fill in the Email field or send "
                        "by SMS.",
                        customer=self.display_name,
                    )
                )
            normalized_email = email_normalize(email, strict=True)
            if not normalized_email:
                raise UserError(
                    self.env._(
                        "The Email %(email)s of %(customer)s is not a valid address.",
                        email=email,
                        customer=self.display_name,
                    )
                )
        if channel in ("sms", "both"):
            if not phone:
                raise UserError(
                    self.env._(
                        "%(customer)s has no mobile number: fill in the Mobile field or send "
                        "by email.",
                        customer=self.display_name,
                    )
                )
            country = self.country_id or (company or self.env.company).country_id
            number = self._phone_format(
                number=phone, country=country, force_format="E164", raise_exception=False
            )
            if not number:
                raise UserError(
                    self.env._(
                        "The Mobile %(number)s of %(customer)s is not a valid phone number "
                        "for %(country)s.",
                        number=phone,
                        customer=self.display_name,
                        country=country.name or self.env._("an unknown country"),
                    )
                )
        return normalized_email, number

    def _payment_request_get_recipient(self, email):
        """Return the partner that receives a link at `email`.

        The customer when the address is theirs; otherwise one of their contacts with that
        address, created when needed, as Odoo's composer does for a new recipient.

        :param str email: a normalized address, or False
        :rtype: res.partner
        """
        self.ensure_one()
        if not email or email_normalize(self.email or "") == email:
            return self
        commercial = self.commercial_partner_id
        contact = self.search(
            [("id", "child_of", commercial.id), ("email_normalized", "=", email)], limit=1
        )
        return contact or self.create(
            {"name": self.name, "email": email, "parent_id": commercial.id, "type": "other"}
        )

    def _payment_request_save_contact(self, email, number):
        """Store on the customer the address and the number a link was sent to.

        :param str email: a normalized address, or False
        :param str number: an E.164 number, or False
        """
        self.ensure_one()
        values = {}
        if email and email != email_normalize(self.email or ""):
            values["email"] = email
        if number and number not in (self.mobile, self.phone):
            values["mobile"] = number
        if values:
            self.write(values)
