# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from datetime import timedelta

from markupsafe import Markup

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError

from .. import const


class PaymentRequest(models.Model):
    _name = "payment.request"
    _description = "Payment Request"
    _inherit = [
        "payment.request.sending.mixin",
        "mail.thread",
        "mail.activity.mixin",
        "portal.mixin",
    ]
    _order = "id desc"
    _check_company_auto = True
    _mail_post_access = "read"

    name = fields.Char(
        string="Number", required=True, readonly=True, copy=False, default="/", index="trigram"
    )
    partner_id = fields.Many2one(
        string="Customer",
        comodel_name="res.partner",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency",
        required=True,
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    amount = fields.Monetary(required=True, tracking=True, currency_field="currency_id")
    description = fields.Text(help="What the customer pays for; shown to them.")
    external_reference = fields.Char(
        help="A reference from another system, e.g. an invoice or contract number.",
        tracking=True,
    )
    purpose = fields.Selection(
        selection=const.PURPOSES, required=True, default="free", tracking=True
    )
    sale_order_id = fields.Many2one(
        string="Sales Order",
        comodel_name="sale.order",
        index="btree_not_null",
        check_company=True,
        tracking=True,
    )
    invoice_ids = fields.Many2many(
        string="Invoices",
        comodel_name="account.move",
        relation="payment_request_account_move_rel",
        column1="request_id",
        column2="move_id",
        domain=[("move_type", "=", "out_invoice")],
        check_company=True,
    )
    state = fields.Selection(
        selection=const.STATES,
        required=True,
        default="draft",
        readonly=True,
        copy=False,
        # make bench, 100,000 requests: the first page of each state filter 1.05-1.39x the
        # Sales > Orders list without it, 0.69-0.85x with it (sale.order.state is indexed too)
        index=True,
        tracking=True,
        group_expand=True,
    )
    state_display = fields.Char(string="Status", compute="_compute_state_display")
    expiration_date = fields.Datetime(readonly=True, copy=False, tracking=True)
    user_id = fields.Many2one(
        string="Requested by",
        comodel_name="res.users",
        required=True,
        index=True,
        default=lambda self: self.env.user,
        tracking=True,
        domain=[("share", "=", False)],
    )
    is_requester = fields.Boolean(compute="_compute_is_requester")
    customer_tz = fields.Char(
        string="Customer Time Zone",
        compute="_compute_customer_tz",
        help="Time zone in which the customer reads the expiration date.",
    )
    transaction_ids = fields.One2many(
        string="Transactions",
        comodel_name="payment.transaction",
        inverse_name="payment_request_id",
        readonly=True,
        groups="account.group_account_invoice",
    )
    attempt_count = fields.Integer(
        string="Attempts",
        default=0,
        readonly=True,
        copy=False,
        help="How many payment attempts the customer started on the request's page.",
    )
    paid_date = fields.Datetime(readonly=True, copy=False)
    is_read = fields.Boolean(
        string="Read",
        default=True,
        readonly=True,
        copy=False,
        help="Whether the requester has seen the outcome of the request.",
    )
    consolidated = fields.Boolean(readonly=True, copy=False, tracking=True)
    consolidated_by_id = fields.Many2one(
        string="Consolidated by", comodel_name="res.users", readonly=True, copy=False
    )
    consolidated_date = fields.Datetime(readonly=True, copy=False)
    replaced_by_id = fields.Many2one(
        string="Replaced by", comodel_name="payment.request", readonly=True, copy=False
    )
    cancel_reason = fields.Selection(
        selection=[
            ("user", "Cancelled by the requester"),
            ("replaced", "Replaced by a new request"),
            ("withdrawn", "Withdrawn: its document changed"),
            ("declined", "Declined by the customer"),
            ("updated", "Quotation updated"),
        ],
        readonly=True,
        copy=False,
    )

    # === COMPUTE METHODS === #

    @api.depends("company_id")
    def _compute_currency_id(self):
        for request in self:
            request.currency_id = request.currency_id or request.company_id.currency_id

    @api.depends("state", "attempt_count")
    @api.depends_context("lang")
    def _compute_state_display(self):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for request in self:
            if request.state == "paid" and request.attempt_count > 1:
                request.state_display = self.env._(
                    "Paid (%(count)s attempts)", count=request.attempt_count
                )
            else:
                request.state_display = labels.get(request.state, "")

    @api.depends("user_id")
    @api.depends_context("uid")
    def _compute_is_requester(self):
        for request in self:
            request.is_requester = request.user_id == self.env.user

    @api.depends("partner_id.tz", "user_id.tz", "company_id.partner_id.tz")
    def _compute_customer_tz(self):
        for request in self:
            request.customer_tz = (
                request.partner_id.tz
                or request.company_id.partner_id.tz
                or request.user_id.tz
                or "UTC"
            )

    def _compute_access_url(self):
        for request in self:
            request.access_url = f"/payment_request/{request.id}"

    # === CONSTRAINT METHODS === #

    @api.constrains("amount")
    def _check_amount(self):
        for request in self:
            if request.currency_id.compare_amounts(request.amount, 0) <= 0:
                raise ValidationError(
                    self.env._(
                        "The amount of payment request %(name)s must be greater than zero.",
                        name=request.name,
                    )
                )

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        self._check_workflow_fields(vals_list)
        sequences = {}
        for vals in vals_list:
            if vals.get("name", "/") == "/" or not self.env.su:
                company_id = vals.get("company_id") or self.env.company.id
                if company_id not in sequences:
                    sequences[company_id] = self._get_sequence(
                        self.env["res.company"].browse(company_id)
                    )
                vals["name"] = sequences[company_id].next_by_id()
        requests = super().create(vals_list)
        requests._filter_pending()._check_document_rules()
        return requests

    def write(self, vals):
        self._check_workflow_fields([vals])
        result = super().write(vals)
        # The workflow's own changes (in sudo mode) are not the user's to check.
        if not self.env.su and const.DOCUMENT_FIELDS.intersection(vals):
            self._filter_pending()._check_document_rules()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        if any(request.state not in ("draft", "cancelled") for request in self):
            raise UserError(self.env._("Only draft or cancelled payment requests can be deleted."))

    def _check_workflow_fields(self, vals_list):
        """Refuse direct writes of workflow fields outside sudo mode.

        :param list vals_list: the values being created or written
        :raise AccessError: if a workflow field is written by a regular environment
        """
        if self.env.su:
            return
        for vals in vals_list:
            forbidden = const.WORKFLOW_FIELDS.intersection(vals)
            if "state" in forbidden and vals["state"] == "draft" and not self:
                # Creating a draft with the explicit default is harmless.
                forbidden.discard("state")
            if "is_read" in forbidden and not self:
                forbidden.discard("is_read")
            if forbidden:
                raise AccessError(
                    self.env._(
                        "The fields %(fields)s of a payment request change only through its "
                        "actions (open, cancel, consolidate, ...).",
                        fields=", ".join(sorted(forbidden)),
                    )
                )

    @api.model
    def _get_sequence(self, company):
        """Return the numbering sequence of the company.

        :param res.company company: the company of the requests to number
        :return: the `ir.sequence` of the company
        """
        return company._payment_request_ensure_sequence()

    @api.model
    def _protect_templates(self):
        """Flag the email and SMS templates of the addon noupdate, as their data file is.

        Databases that installed them before keep them updatable otherwise, and an update would
        overwrite what the company wrote in them.
        """
        self.env["ir.model.data"].sudo().search(
            [
                ("module", "=", "payment_request"),
                ("model", "in", ("mail.template", "sms.template")),
                ("noupdate", "=", False),
            ]
        ).noupdate = True

    # === ACTION METHODS === #

    def action_open(self):
        """Open draft requests: set their expiration and make their access token."""
        self._check_state(("draft",), self.env._("Only draft payment requests can be opened."))
        self.check_access("write")
        # The document may have changed since the draft was made (an invoice paid meanwhile).
        self._check_document_rules()
        now = fields.Datetime.now()
        for company, requests in self.grouped("company_id").items():
            expiration = now + timedelta(hours=company.payment_request_validity_hours)
            quotes = requests.filtered(lambda request: request.purpose == "quote")
            (requests - quotes).sudo().write({"state": "open", "expiration_date": expiration})
            for quote in quotes:
                order = quote.sale_order_id
                quote.sudo().write(
                    {
                        "state": "open",
                        "expiration_date": min(
                            expiration, order._get_payment_request_validity_end()
                        ),
                        "quote_fingerprint": order._get_payment_request_fingerprint(),
                    }
                )
        for request in self:
            request._portal_ensure_token()
        return True

    def action_cancel(self):
        """Cancel draft or open requests."""
        self._check_state(
            ("draft", "open"), self.env._("Only draft or open payment requests can be cancelled.")
        )
        self.check_access("write")
        self.sudo().write({"state": "cancelled", "cancel_reason": "user"})
        return True

    def action_recreate(self):
        """Create a new request from an expired or cancelled one and show it.

        :return: a window action opening the new request
        """
        self.ensure_one()
        self._check_state(
            ("expired", "cancelled"),
            self.env._("Only expired or cancelled payment requests can be recreated."),
        )
        self.check_access("read")
        new_request = self.copy({"user_id": self.env.user.id})
        self.sudo().replaced_by_id = new_request
        self.message_post(
            body=Markup(self.env._("Replaced by %(link)s.", link=new_request._get_html_link()))
        )
        new_request.message_post(
            body=Markup(self.env._("Created to replace %(link)s.", link=self._get_html_link()))
        )
        return new_request._get_form_action()

    def action_mark_read(self):
        """Mark the outcome as seen; only the requester may do it."""
        others = self.filtered(lambda request: request.user_id != self.env.user)
        if others:
            raise UserError(
                self.env._(
                    "Only the requester can mark a payment request as read (%(names)s).",
                    names=", ".join(others.mapped("name")),
                )
            )
        self.check_access("read")
        self.sudo().write({"is_read": True})
        return True

    def action_consolidate(self):
        """Mark paid requests as consolidated; reserved to Payment Managers."""
        if not self.env.user.has_group("payment_request.group_payment_manager"):
            raise AccessError(self.env._("Only Payment Managers can consolidate payment requests."))
        self._check_state(("paid",), self.env._("Only paid payment requests can be consolidated."))
        if already := self.filtered("consolidated"):
            raise UserError(
                self.env._(
                    "These payment requests are already consolidated: %(names)s",
                    names=", ".join(already.mapped("name")),
                )
            )
        self.check_access("write")
        self.sudo().write(
            {
                "consolidated": True,
                "consolidated_by_id": self.env.user.id,
                "consolidated_date": fields.Datetime.now(),
            }
        )
        return True

    # === BUSINESS METHODS === #

    def _get_form_action(self):
        """Return a window action that shows the request in its form."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def _check_state(self, allowed_states, message):
        """Raise a UserError naming the requests whose state is not allowed.

        :param tuple allowed_states: the states the action accepts
        :param str message: the explanation shown to the user
        """
        wrong = self.filtered(lambda request: request.state not in allowed_states)
        if wrong:
            names = ", ".join(f"{request.name} ({request.state_display})" for request in wrong)
            # The message is translated by the caller.
            raise UserError(f"{message}\n{names}")  # pylint: disable=translation-required

    def _send_link(self, channel, recipients, numbers=None, queue=False):
        """Open the requests if needed and send their links by email and/or SMS.

        :param str channel: 'email', 'sms' or 'both'
        :param dict recipients: {request id: res.partner} who receives the link
        :param dict numbers: {request id: E.164 number} where the SMS goes
        :param bool queue: leave the emails and SMS to their schedulers (bulk sending)
            instead of sending them at once
        """
        if drafts := self.filtered(lambda request: request.state == "draft"):
            drafts.action_open()
        self._check_state(("open",), self.env._("Only open payment requests can be sent."))
        self._send_link_messages(channel, recipients, numbers, queue=queue)

    def _get_link_templates(self):
        self.ensure_one()
        if self.purpose == "quote":
            return (
                "payment_request.mail_template_payment_request",
                "payment_request.sms_template_payment_request_quote",
            )
        return (
            "payment_request.mail_template_payment_request",
            "payment_request.sms_template_payment_request",
        )

    def _withdraw(self, reason):
        """Cancel open requests whose document changed, and tell their requesters.

        :param str reason: what changed, for the chatter
        """
        requests = self.filtered(lambda request: request.state in ("draft", "open"))
        if not requests:
            return
        requests.sudo().write(
            {"state": "cancelled", "cancel_reason": "withdrawn", "is_read": False}
        )
        for request in requests:
            request._notify_requester(
                self.env._("Withdrawn: %(reason)s. Its link can no longer be paid.", reason=reason)
            )

    def _notify_requester(self, body):
        """Post `body` in the chatter and notify the requester of the request.

        For a quotation, its salesperson is notified too.
        """
        self.ensure_one()
        partners = self.user_id.partner_id
        if self.purpose == "quote":
            partners |= self.sale_order_id.user_id.partner_id
        self.sudo().message_post(
            body=body,
            partner_ids=partners.ids,
            subtype_xmlid="mail.mt_note",
            message_type="comment",
        )
