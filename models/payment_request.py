# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools import format_amount
from odoo.tools import plaintext2html

_logger = logging.getLogger(__name__)

PURPOSES = [
    ("free", "Free amount"),
    ("wallet", "Wallet top-up"),
    ("invoices", "Open invoices"),
    ("invoice", "Invoice"),
    ("deposit", "Deposit"),
    ("order", "Order balance"),
    ("quote", "Quotation"),
]

STATES = [
    ("draft", "Draft"),
    ("open", "Open"),
    ("paid", "Paid"),
    ("expired", "Expired"),
    ("cancelled", "Cancelled"),
]

# Fields that only the workflow methods may change: they run them in sudo mode after checking
# the caller's rights, so a user who may edit their own request cannot mark it paid or
# consolidated by writing the fields over RPC.
WORKFLOW_FIELDS = {
    "state",
    "expiration_date",
    "paid_date",
    "is_read",
    "consolidated",
    "consolidated_by_id",
    "consolidated_date",
    "replaced_by_id",
    "channel",
    "cancel_reason",
    "quote_fingerprint",
    "decline_reason",
    "paid_transaction_id",
    "is_paid_twice",
    "paid_late",
    "receipt_state",
    "receipt_error",
}

EXPIRY_BATCH_SIZE = 1000
# How long a pending payment (3-D Secure, a redirect) holds the expiry of its request. Some stay
# pending for days (bank transfers): past this, the request expires, and a payment confirmed
# later is booked all the same, as paid late.
PENDING_PAYMENT_GRACE = timedelta(days=1)

CHANNELS = [("email", "Email"), ("sms", "SMS"), ("both", "Email and SMS")]

DELIVERY_STATES = [
    ("none", "Not sent"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("bounced", "Bounced"),
    ("error", "Error"),
]

# mail.notification status -> delivery status, per notification type. An SMS notification is
# 'pending' once the gateway accepted it and 'sent' when the gateway reported it delivered; an
# email one is 'sent' once the SMTP server accepted it.
NOTIFICATION_TO_DELIVERY = {
    "email": {
        "ready": "queued",
        "process": "queued",
        "pending": "sent",
        "sent": "sent",
        "bounce": "bounced",
        "exception": "error",
        "canceled": "error",
    },
    "sms": {
        "ready": "queued",
        "process": "queued",
        "pending": "sent",
        "sent": "delivered",
        "bounce": "bounced",
        "exception": "error",
        "canceled": "error",
    },
}
FAILED_NOTIFICATION_STATES = ("bounce", "exception", "canceled")

RECEIPT_STATES = [
    ("none", "Not sent"),
    ("to_send", "To send"),
    ("sent", "Sent"),
    ("error", "Error"),
]
RECEIPT_BATCH_SIZE = 100
# A receipt that could not be made is retried by its cron for this long, then only by hand.
RECEIPT_RETRY_DAYS = 7


class PaymentRequest(models.Model):
    _name = "payment.request"
    _description = "Payment Request"
    _inherit = ["mail.thread", "mail.activity.mixin", "portal.mixin"]
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
    purpose = fields.Selection(selection=PURPOSES, required=True, default="free", tracking=True)
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
        selection=STATES,
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
        string="Attempts", compute="_compute_attempt_count", store=True, readonly=True
    )
    paid_date = fields.Datetime(readonly=True, copy=False)
    paid_transaction_id = fields.Many2one(
        string="Paid by Transaction",
        comodel_name="payment.transaction",
        readonly=True,
        copy=False,
        groups="account.group_account_invoice",
    )
    duplicate_transaction_ids = fields.One2many(
        string="Duplicate Payments",
        comodel_name="payment.transaction",
        inverse_name="payment_request_id",
        domain=[("payment_request_duplicate_state", "!=", False)],
        readonly=True,
        groups="account.group_account_invoice",
        help="Payments confirmed after the request was already paid (two tabs, a slow 3-D "
        "Secure): the money is booked as customer credit until it is refunded.",
    )
    is_paid_twice = fields.Boolean(
        string="Paid Twice",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="A second payment was confirmed after the request was paid.",
    )
    paid_late = fields.Boolean(
        readonly=True,
        copy=False,
        help="The payment was confirmed after the request expired or was cancelled.",
    )
    receipt_state = fields.Selection(
        string="Receipt",
        selection=RECEIPT_STATES,
        default="none",
        required=True,
        readonly=True,
        copy=False,
        help="Whether the receipt of the payment was emailed to the customer.",
    )
    receipt_error = fields.Char(readonly=True, copy=False)
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
    decline_reason = fields.Text(
        readonly=True, copy=False, help="Why the customer declined the quotation."
    )
    quote_fingerprint = fields.Char(
        readonly=True,
        copy=False,
        help="Digest of the quotation as its link showed it; a different one means that the "
        "quotation changed after the link was sent.",
    )
    quote_outdated = fields.Boolean(
        string="Updated Quotation Not Sent",
        compute="_compute_quote_outdated",
        help="The quotation changed after this link was sent and no new link was sent yet.",
    )
    channel = fields.Selection(
        string="Sent by",
        selection=CHANNELS,
        readonly=True,
        copy=False,
        help="How the link was last sent to the customer.",
    )
    email_status = fields.Selection(
        selection=DELIVERY_STATES, compute="_compute_delivery_status", compute_sudo=True
    )
    sms_status = fields.Selection(
        string="SMS Status",
        selection=DELIVERY_STATES,
        compute="_compute_delivery_status",
        compute_sudo=True,
    )
    delivery_failure_reason = fields.Char(compute="_compute_delivery_status", compute_sudo=True)
    is_undelivered = fields.Boolean(
        string="Not Delivered",
        compute="_compute_delivery_status",
        compute_sudo=True,
        search="_search_is_undelivered",
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

    @api.depends("state", "cancel_reason", "replaced_by_id", "sale_order_id.state")
    def _compute_quote_outdated(self):
        for request in self:
            request.quote_outdated = (
                request.cancel_reason == "updated"
                and not request.replaced_by_id
                and request.sale_order_id.state in ("draft", "sent")
            )

    @api.depends("transaction_ids")
    def _compute_attempt_count(self):
        counts = {
            request.id: count
            for request, count in self.env["payment.transaction"]
            .sudo()
            ._read_group(
                [("payment_request_id", "in", self.ids)],
                groupby=["payment_request_id"],
                aggregates=["__count"],
            )
        }
        for request in self:
            request.attempt_count = counts.get(request.id, 0)

    def _get_sent_notifications(self):
        """Return the notifications of the messages that carried the links of the requests."""
        subtype = self.env.ref("payment_request.mt_payment_request_sent", raise_if_not_found=False)
        if not subtype or not self.ids:
            return self.env["mail.notification"]
        return self.env["mail.notification"].search_fetch(
            [
                ("mail_message_id.model", "=", self._name),
                ("mail_message_id.res_id", "in", self.ids),
                ("mail_message_id.subtype_id", "=", subtype.id),
                ("notification_type", "in", ("email", "sms")),
            ],
            [
                "mail_message_id",
                "notification_type",
                "notification_status",
                "failure_type",
                "failure_reason",
            ],
            order="id",
        )

    def _compute_delivery_status(self):
        latest = {}  # (request id, type) -> the last notification, in id order
        for notification in self._get_sent_notifications():
            latest[notification.mail_message_id.res_id, notification.notification_type] = (
                notification
            )
        failure_labels = dict(
            self.env["mail.notification"]._fields["failure_type"]._description_selection(self.env)
        )
        for request in self:
            reasons = []
            statuses = {}
            for channel in ("email", "sms"):
                notification = latest.get((request.id, channel))
                if not notification:
                    statuses[channel] = "none"
                    continue
                status = NOTIFICATION_TO_DELIVERY[channel][notification.notification_status]
                statuses[channel] = status
                if status in ("bounced", "error"):
                    reasons.append(
                        notification.failure_reason
                        or failure_labels.get(notification.failure_type)
                        or dict(DELIVERY_STATES)[status]
                    )
            request.email_status = statuses["email"]
            request.sms_status = statuses["sms"]
            request.delivery_failure_reason = "; ".join(reasons)
            request.is_undelivered = bool(reasons)

    def _search_is_undelivered(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on Not Delivered."))
        failed = (
            self.env["mail.notification"]
            .sudo()
            .search_fetch(
                [
                    ("mail_message_id.model", "=", self._name),
                    (
                        "mail_message_id.subtype_id",
                        "=",
                        self.env.ref("payment_request.mt_payment_request_sent").id,
                    ),
                    ("notification_status", "in", FAILED_NOTIFICATION_STATES),
                ],
                ["mail_message_id"],
            )
        )
        candidates = self.browse(set(failed.mail_message_id.mapped("res_id"))).sudo()
        undelivered_ids = candidates.filtered("is_undelivered").ids
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", undelivered_ids)]

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
        return super().create(vals_list)

    def write(self, vals):
        self._check_workflow_fields([vals])
        return super().write(vals)

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
            forbidden = WORKFLOW_FIELDS.intersection(vals)
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

        Each sending is one chatter message of subtype "Payment Request Sent" whose
        notifications carry the email (`mail.mail`) and the SMS (`sms.sms` and its
        `sms.tracker`), as `mail.thread` builds them, so Odoo's mail and SMS gateways keep
        their delivery status up to date. Records are built in batch: sending many requests
        costs a fixed number of queries per batch rather than a `message_post` per request.

        :param str channel: 'email', 'sms' or 'both'
        :param dict recipients: {request id: res.partner} who receives the link
        :param dict numbers: {request id: E.164 number} where the SMS goes
        :param bool queue: leave the emails and SMS to their schedulers (bulk sending)
            instead of sending them once the transaction is committed
        """
        if drafts := self.filtered(lambda request: request.state == "draft"):
            drafts.action_open()
        self._check_state(("open",), self.env._("Only open payment requests can be sent."))
        by_email = channel in ("email", "both")
        by_sms = channel in ("sms", "both")
        emails = sms_bodies = {}
        if by_email:
            emails = self.env.ref(
                "payment_request.mail_template_payment_request"
            )._generate_template(self.ids, ("subject", "body_html", "email_from"))
        if by_sms:
            quotes = self.filtered(lambda request: request.purpose == "quote")
            sms_bodies = self.env.ref("payment_request.sms_template_payment_request")._render_field(
                "body", (self - quotes).ids, compute_lang=True
            )
            if quotes:
                sms_bodies.update(
                    self.env.ref(
                        "payment_request.sms_template_payment_request_quote"
                    )._render_field("body", quotes.ids, compute_lang=True)
                )
        author = self.env.user.partner_id
        reply_to = self._notify_get_reply_to(default=author.email_formatted)
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "payment_request.mt_payment_request_sent"
        )
        messages = (
            self.env["mail.message"]
            .sudo()
            .create(
                [
                    {
                        "model": self._name,
                        "res_id": request.id,
                        "record_name": request.name,
                        "record_company_id": request.company_id.id,
                        "message_type": "comment" if by_email else "sms",
                        "subtype_id": subtype_id,
                        "author_id": author.id,
                        "email_from": emails.get(request.id, {}).get("email_from")
                        or author.email_formatted,
                        "reply_to": reply_to[request.id],
                        "subject": emails[request.id]["subject"] if by_email else False,
                        "body": emails[request.id]["body_html"]
                        if by_email
                        else plaintext2html(sms_bodies[request.id]),
                        "partner_ids": recipients[request.id].ids,
                    }
                    for request in self
                ]
            )
        )
        notifications = []
        mails = self.env["mail.mail"].sudo()
        sms_records = self.env["sms.sms"].sudo()
        if by_email:
            mails = mails.create(
                [
                    {
                        "mail_message_id": message.id,
                        "body_html": message.body,
                        "recipient_ids": recipients[message.res_id].ids,
                        "references": message.message_id,
                        "auto_delete": True,
                        "is_notification": True,
                        "state": "outgoing",
                    }
                    for message in messages
                ]
            )
            notifications += [
                {
                    "author_id": author.id,
                    "mail_message_id": mail.mail_message_id.id,
                    "mail_mail_id": mail.id,
                    "res_partner_id": recipients[mail.mail_message_id.res_id].id,
                    "notification_type": "email",
                    "notification_status": "ready",
                    "is_read": True,
                }
                for mail in mails
            ]
        if by_sms:
            sms_records = sms_records.create(
                [
                    {
                        "body": sms_bodies[message.res_id],
                        "number": numbers[message.res_id],
                        "partner_id": recipients[message.res_id].id,
                        "mail_message_id": message.id,
                        "state": "outgoing",
                    }
                    for message in messages
                ]
            )
            notifications += [
                {
                    "author_id": author.id,
                    "mail_message_id": sms.mail_message_id.id,
                    # by number, as mail.thread does for extra numbers: the partner may also
                    # have the email notification of this message
                    "res_partner_id": False,
                    "sms_id_int": sms.id,
                    "sms_number": sms.number,
                    "sms_tracker_ids": [Command.create({"sms_uuid": sms.uuid})],
                    "notification_type": "sms",
                    "notification_status": "ready",
                    "is_read": True,
                }
                for sms in sms_records
            ]
        self.env["mail.notification"].sudo().create(notifications)
        self.sudo().channel = channel
        if queue:
            if mails:
                self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
            if sms_records:
                self.env.ref("sms.ir_cron_sms_scheduler_action")._trigger()
        else:
            mails.send_after_commit()
            sms_records.send()
        return messages

    def _is_past_expiration(self):
        """Whether the validity of the request has passed, whatever the cron has done yet.

        A quotation to approve also expires with the quotation's own validity date, even when
        the salesperson shortened it after the link was sent.
        """
        self.ensure_one()
        if self.expiration_date and self.expiration_date <= fields.Datetime.now():
            return True
        return self._is_quote_to_approve() and self.sale_order_id.is_expired

    def _is_quote_to_approve(self):
        """Whether the request asks the customer to approve its quotation first."""
        self.ensure_one()
        return self.purpose == "quote" and self.sale_order_id.state in ("draft", "sent")

    def _lock_for_update(self):
        """Lock the request's row until the end of the transaction and reread its state.

        Two tabs or two clicks acting on the same request are serialized: the second one sees
        what the first one did.
        """
        self.ensure_one()
        self.env.cr.execute(SQL("SELECT id FROM payment_request WHERE id = %s FOR UPDATE", self.id))
        self.invalidate_recordset(["state", "cancel_reason", "invoice_ids", "amount"])

    def _check_payable(self):
        """Refuse a new payment attempt unless the request can be paid right now.

        The request row is locked first, so that two attempts started together (two tabs, two
        clicks) are serialized and the second one sees the first.

        :raise ValidationError: with a message for the customer
        """
        self.ensure_one()
        self._lock_for_update()
        if self.state == "paid":
            raise ValidationError(self.env._("This payment request is already paid."))
        if self.state != "open":
            raise ValidationError(self.env._("This payment request can no longer be paid."))
        if self._is_past_expiration():
            raise ValidationError(self.env._("This payment request has expired."))
        if self.purpose == "quote" and not self.invoice_ids:
            raise ValidationError(
                self.env._("Approve the quotation first: its invoice is paid afterwards.")
            )
        self._check_invoices_still_due()
        ongoing = (
            self.env["payment.transaction"]
            .sudo()
            .search_count(
                [
                    ("payment_request_id", "=", self.id),
                    ("state", "in", ("pending", "authorized", "done")),
                ],
                limit=1,
            )
        )
        if ongoing:
            raise ValidationError(
                self.env._(
                    "A payment of this request is already in progress or done: it cannot be "
                    "paid twice."
                )
            )

    def _check_invoices_still_due(self):
        """Refuse to pay invoices that were settled since the request was sent, or that auto-pay
        is charging: paid by another way (a transfer, a charge of the saved card after a failed
        one), the request's link would take the money twice.

        :raise ValidationError: with a message for the customer
        """
        invoices = self.sudo().invoice_ids
        if not invoices:
            return
        if any(
            invoice.payment_request_autopay_state in ("charging", "pending") for invoice in invoices
        ):
            raise ValidationError(
                self.env._("Your saved card is being charged for this invoice: nothing to pay.")
            )
        if all(
            invoice.payment_state in ("paid", "in_payment", "reversed")
            or invoice.currency_id.is_zero(invoice.amount_residual)
            for invoice in invoices
        ):
            raise ValidationError(self.env._("This invoice is already paid: nothing to pay."))

    def _get_customer_status(self):
        """Return what the customer's page says of the request.

        :return: 'payable', 'approve' (a quotation to approve first), 'processing', 'paid',
            'expired', 'updated' (the quotation changed since), 'declined', 'replaced',
            'withdrawn' or 'cancelled'
        """
        self.ensure_one()
        if self.state == "paid":
            return "paid"
        if self.state == "expired" or (self.state == "open" and self._is_past_expiration()):
            return "expired"
        if self.state == "cancelled":
            if self.cancel_reason in ("updated", "declined"):
                return self.cancel_reason
            if self.cancel_reason == "replaced" or self.replaced_by_id:
                return "replaced"
            if self.cancel_reason == "withdrawn":
                return "withdrawn"
            return "cancelled"
        if self.state != "open":
            return "cancelled"
        if self.purpose == "quote":
            if self._is_quote_to_approve():
                if self.quote_fingerprint != self.sale_order_id._get_payment_request_fingerprint():
                    return "updated"
                return "approve"
            if self.sale_order_id.state != "sale" or not self.invoice_ids:
                return "cancelled"
        if self.attempt_count and self.transaction_ids.filtered(
            lambda tx: tx.state in ("pending", "authorized")
        ):
            return "processing"
        return "payable"

    def _get_portal_page_values(self):
        """Return the rendering values of the customer's page of the request."""
        self.ensure_one()
        status = self._get_customer_status()
        return {
            "payment_request": self,
            "res_company": self.company_id,
            "status": status,
            "payable": status == "payable",
            "is_quote": self.purpose == "quote",
            "approve_url": self.get_portal_url(suffix="/approve"),
            "decline_url": f"/payment_request/{self.id}/decline",
            "page_title": self.env._("Payment request %(name)s", name=self.name),
            "last_transaction": self.transaction_ids.sorted("id")[-1:]
            if status == "paid"
            else self.env["payment.transaction"],
        }

    def _get_transaction_values(self):
        """Return the values of a payment attempt, all taken from the request.

        :return: the create values of the transaction and the documents it settles
        :rtype: dict
        """
        self.ensure_one()
        values = {
            "amount": self.amount,
            "currency_id": self.currency_id.id,
            "partner_id": self.partner_id.id,
            "custom_create_values": {"payment_request_id": self.id},
        }
        if self.invoice_ids:
            values["custom_create_values"]["invoice_ids"] = [Command.set(self.invoice_ids.ids)]
        # A quotation is paid through the invoice made when it was approved; linked to the order
        # too, `sale` would invoice the order a second time (automatic invoicing).
        if self.sale_order_id and self.purpose != "quote":
            values["custom_create_values"]["sale_order_ids"] = [Command.set(self.sale_order_id.ids)]
        return values

    def _mark_paid(self, transaction):
        """Mark the request paid by `transaction` and tell its requester.

        A request is paid once: another confirmed payment of a paid request is recorded as a
        duplicate (see `_record_duplicate_payment`). A payment confirmed after the request
        expired or was cancelled is real money all the same: the request becomes paid, flagged
        as paid late, and its requester is asked to check it. The receipt is left to its cron
        (`_cron_send_receipts`), so that a failure to render or email it cannot keep the
        request unpaid.

        :param payment.transaction transaction: the confirmed transaction
        """
        self.ensure_one()
        self._lock_for_update()
        self.invalidate_recordset()
        request = self.sudo()
        if request.paid_transaction_id == transaction or (
            transaction.payment_request_duplicate_state
        ):
            return  # already handled: post-processing ran twice
        if request.state == "paid":
            # Requests paid before paid_transaction_id existed: a duplicate needs another
            # confirmed payment of the request.
            if request.paid_transaction_id or request.transaction_ids.filtered(
                lambda tx: (
                    tx != transaction
                    and tx.state == "done"
                    and tx.operation not in ("refund", "validation")
                )
            ):
                self._record_duplicate_payment(transaction)
            return
        late_from = request.state if request.state in ("expired", "cancelled") else False
        vals = {
            "state": "paid",
            "paid_date": transaction.last_state_change,
            "paid_transaction_id": transaction.id,
            "is_read": False,
            "receipt_state": "to_send" if request.partner_id.email else "none",
            "receipt_error": False,
        }
        if late_from:
            vals["paid_late"] = True
        request.write(vals)
        self._notify_requester(
            self.env._(
                "Paid by %(customer)s: %(amount)s (transaction %(reference)s).",
                customer=transaction.partner_id.display_name,
                amount=format_amount(self.env, transaction.amount, transaction.currency_id),
                reference=transaction.reference,
            )
        )
        if late_from:
            self._notify_late_payment(transaction, late_from)
            self._withdraw_replacements()
        if vals["receipt_state"] == "to_send":
            self.env.ref("payment_request.ir_cron_send_payment_request_receipts")._trigger()

    def _notify_late_payment(self, transaction, late_from):
        """Tell the requester that the request was paid after it expired or was cancelled.

        :param payment.transaction transaction: the late payment
        :param str late_from: the state the request was in, 'expired' or 'cancelled'
        """
        self.ensure_one()
        if late_from == "expired":
            message = self.env._(
                "Paid late: the payment %(reference)s was confirmed after the request expired. "
                "It is booked and the request is paid; check that the customer was not asked to "
                "pay again.",
                reference=transaction.reference,
            )
        else:
            message = self.env._(
                "Paid late: the payment %(reference)s was confirmed after the request was "
                "cancelled. It is booked and the request is paid; refund it if it is not due.",
                reference=transaction.reference,
            )
        self._notify_requester(message)
        self._schedule_payment_check(message, self.user_id)

    def _withdraw_replacements(self):
        """Withdraw the open requests recreated from this one, now that it was paid late: their
        links would take the same money a second time."""
        self.ensure_one()
        replacements = self.env["payment.request"]
        request = self.sudo().replaced_by_id
        while request and request not in replacements:
            replacements |= request
            request = request.replaced_by_id
        replacements._withdraw(
            self.env._("the request %(name)s it replaced was paid late", name=self.name)
        )

    def _record_duplicate_payment(self, transaction):
        """Record `transaction` as a second payment of the paid request and tell who must act.

        `account_payment` has booked it (a payment left as customer credit); the requester and
        the Payment Managers get an activity, and the payment is refunded at once when the
        company asks for it and the provider can refund.

        :param payment.transaction transaction: the confirmed payment that came second
        """
        self.ensure_one()
        auto_refund = (
            self.company_id.payment_request_auto_refund_duplicates
            and transaction.provider_id.sudo().support_refund != "none"
        )
        transaction.sudo().payment_request_duplicate_state = (
            "to_refund" if auto_refund else "detected"
        )
        self.sudo().write({"is_paid_twice": True, "is_read": False})
        paid_by = self.sudo().paid_transaction_id
        message = self.env._(
            "Paid twice: the payment %(reference)s of %(amount)s was confirmed after the request "
            "was already paid by %(paid_by)s. It is booked as customer credit until it is "
            "refunded.",
            reference=transaction.reference,
            amount=format_amount(self.env, transaction.amount, transaction.currency_id),
            paid_by=paid_by.reference or "-",
        )
        if auto_refund:
            message += " " + self.env._("It is refunded automatically.")
        self._notify_requester(message)
        managers = (
            self.env.ref("payment_request.group_payment_manager")
            .sudo()
            .users.filtered(lambda user: not user.share and self.company_id in user.company_ids)
        )
        self._schedule_payment_check(message, self.user_id | managers)
        if auto_refund:
            self.env.ref("payment_request.ir_cron_refund_payment_request_duplicates")._trigger()

    def _schedule_payment_check(self, note, users):
        """Give each of `users` an activity to check a payment of the request.

        :param str note: what to check
        :param res.users users: who must check it
        """
        self.ensure_one()
        for user in users:
            self.sudo().activity_schedule(
                "payment_request.mail_activity_type_payment_request_check",
                note=note,
                user_id=user.id,
            )

    def action_refund_duplicates(self):
        """Refund the duplicate payments of the requests, where their provider can refund.

        Reserved to Payment Managers and accounting managers: it sends money back.
        """
        user = self.env.user
        if not (
            user.has_group("payment_request.group_payment_manager")
            or user.has_group("account.group_account_manager")
        ):
            raise AccessError(
                self.env._("Only Payment Managers can refund the duplicate payments.")
            )
        self.check_access("write")
        transactions = self.sudo().duplicate_transaction_ids.filtered(
            lambda tx: tx.payment_request_duplicate_state in ("detected", "error")
        )
        if not transactions:
            raise UserError(self.env._("There is no duplicate payment left to refund."))
        not_refundable = transactions.filtered(lambda tx: tx.provider_id.support_refund == "none")
        if not_refundable:
            raise UserError(
                self.env._(
                    "The provider of %(references)s cannot refund: refund the customer from the "
                    "provider's dashboard or by a bank transfer.",
                    references=", ".join(not_refundable.mapped("reference")),
                )
            )
        transactions._payment_request_refund_duplicate()
        return True

    @api.model
    def _cron_refund_duplicates(self):
        """Refund the duplicate payments scheduled for an automatic refund."""
        transactions = (
            self.env["payment.transaction"]
            .sudo()
            .search([("payment_request_duplicate_state", "=", "to_refund")], order="id")
        )
        transactions._payment_request_refund_duplicate(commit=True)

    def _send_receipt(self):
        """Email the customer their receipt, with the PDF, and keep it in the chatter.

        Run by `_cron_send_receipts`, away from the payment's post-processing: a failure to
        render or queue the receipt is recorded on the request (field and note), and the
        receipt is tried again later or by hand.

        :return: whether the receipt was queued
        :rtype: bool
        """
        self.ensure_one()
        request = self.sudo()
        if not request.partner_id.email:
            request.write({"receipt_state": "none", "receipt_error": False})
            return False
        try:
            with self.env.cr.savepoint():
                # A note addressed to the customer: followers (the requester) are told by
                # _notify_requester instead of receiving a copy of the receipt. The email
                # goes through the mail queue.
                request.message_post_with_source(
                    "payment_request.mail_template_payment_request_receipt",
                    message_type="comment",
                    email_layout_xmlid="mail.mail_notification_light",
                    subtype_xmlid="mail.mt_note",
                    force_send=False,
                )
        except Exception as error:  # pylint: disable=broad-except
            # Whatever the report engine or the template raised: the request stays paid.
            _logger.exception("Receipt of payment request %s could not be made", request.name)
            reason = str(error) or error.__class__.__name__
            first_failure = request.receipt_state != "error"
            request.write({"receipt_state": "error", "receipt_error": reason})
            if first_failure:
                self._notify_requester(
                    self.env._(
                        "The receipt could not be made or emailed: %(reason)s. It will be tried "
                        'again; "Send receipt" tries it now.',
                        reason=reason,
                    )
                )
            return False
        request.write({"receipt_state": "sent", "receipt_error": False})
        self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
        return True

    @api.model
    def _cron_send_receipts(self, batch_size=RECEIPT_BATCH_SIZE):
        """Make and queue the receipts of paid requests, one batch per call.

        Receipts that failed are tried again for `RECEIPT_RETRY_DAYS` days.

        :param int batch_size: how many receipts to make in this call
        :return: the number of receipts still to make
        """
        retry_since = fields.Datetime.now() - timedelta(days=RECEIPT_RETRY_DAYS)
        domain = [
            ("state", "=", "paid"),
            "|",
            ("receipt_state", "=", "to_send"),
            "&",
            ("receipt_state", "=", "error"),
            ("paid_date", ">=", retry_since),
        ]
        requests = self.sudo().search(domain, limit=batch_size, order="id")
        for request in requests:
            request._send_receipt()
        remaining = self.sudo().search_count(domain) if len(requests) == batch_size else 0
        self.env["ir.cron"]._notify_progress(done=len(requests), remaining=remaining)
        return remaining

    def action_send_receipt(self):
        """Make and email the receipt of paid requests now (again, after an error)."""
        self._check_state(("paid",), self.env._("Only paid requests have a receipt."))
        self.check_access("write")
        sent = self.env["payment.request"]
        for request in self:
            if request._send_receipt():
                sent |= request
        failed = self - sent
        errors = failed.filtered(lambda request: request.receipt_state == "error")
        if not errors:
            return True
        # Not raised: the error stays recorded on the requests.
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "danger",
                "sticky": True,
                "message": self.env._(
                    "The receipt could not be made: %(reason)s",
                    reason="; ".join(errors.mapped("receipt_error")),
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Receipt %(name)s", name=self.name.replace("/", "-"))

    def action_print_receipt(self):
        """Print the receipt (or the request, while unpaid) as a PDF."""
        return self.env.ref("payment_request.action_report_payment_request_receipt").report_action(
            self
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

    # === BUSINESS METHODS: QUOTATIONS === #

    def _check_quote_status(self):
        """Refuse to approve or decline unless the quotation awaits the customer's answer.

        :raise ValidationError: with a message for the customer
        """
        self.ensure_one()
        status = self._get_customer_status()
        if status == "approve":
            return
        messages = {
            "expired": self.env._("This quotation has expired: it can no longer be approved."),
            "updated": self.env._(
                "This quotation was updated after this link was sent: it can no longer be "
                "approved. Please use the link of the updated quotation."
            ),
            "declined": self.env._("This quotation was declined."),
            "paid": self.env._("This quotation is already approved and paid."),
            "payable": self.env._("This quotation is already approved."),
            "processing": self.env._("This quotation is already approved."),
        }
        raise ValidationError(
            messages.get(status, self.env._("This quotation can no longer be approved."))
        )

    def _approve_quote(self, name, signature):
        """Record the customer's signature, confirm the quotation and invoice it.

        Approving an order that is already approved does nothing.

        :param str name: who signs
        :param str signature: the signature image, base64-encoded
        :return: whether the quotation was approved by this call
        :rtype: bool
        """
        self.ensure_one()
        self._lock_for_update()
        if self.purpose != "quote":
            raise ValidationError(self.env._("This payment request has no quotation to approve."))
        order = self.sale_order_id
        if self.state == "open" and order.state == "sale":
            return False
        self._check_quote_status()
        if not (name or "").strip():
            raise ValidationError(self.env._("Enter your name to sign the quotation."))
        if not signature:
            raise ValidationError(self.env._("Draw or type your signature to approve."))
        order.write(
            {"signed_by": name.strip(), "signed_on": fields.Datetime.now(), "signature": signature}
        )
        # Confirmed as sale's own accept route does (with its confirmation email); confirming
        # invoices the quotation for this request (sale.order.action_confirm).
        order._validate_order()
        pdf = (
            self.env["ir.actions.report"]
            .sudo()
            ._render_qweb_pdf("sale.action_report_saleorder", [order.id])[0]
        )
        order.message_post(
            attachments=[(f"{order.name}.pdf", pdf)],
            author_id=self.partner_id.id,
            body=self.env._(
                "Order signed by %(name)s through payment request %(request)s.",
                name=name.strip(),
                request=self.name,
            ),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self._notify_requester(
            self.env._(
                "%(name)s approved and signed the quotation %(order)s; invoice %(invoice)s "
                "awaits their payment.",
                name=name.strip(),
                order=order.name,
                invoice=", ".join(self.invoice_ids.mapped("name")) or "-",
            )
        )
        return True

    def _decline_quote(self, reason):
        """Cancel the quotation with the customer's reason, and this request with it.

        :param str reason: why the customer declines; required
        """
        self.ensure_one()
        self._lock_for_update()
        if self.purpose != "quote":
            raise ValidationError(self.env._("This payment request has no quotation to decline."))
        self._check_quote_status()
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError(self.env._("Tell us why you decline the quotation."))
        order = self.sale_order_id
        # Cancelled before the order, whose cancellation withdraws its open requests.
        self.sudo().write(
            {
                "state": "cancelled",
                "cancel_reason": "declined",
                "decline_reason": reason,
                "is_read": False,
            }
        )
        order._action_cancel()
        order.message_post(
            author_id=self.partner_id.id,
            body=self.env._("Quotation declined: %(reason)s", reason=reason),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self._notify_requester(
            self.env._(
                "%(customer)s declined the quotation %(order)s: %(reason)s",
                customer=self.partner_id.display_name,
                order=order.name,
                reason=reason,
            )
        )

    def _attach_quote_invoice(self, invoices):
        """Make the open quotation requests pay `invoices`, made when their order was confirmed.

        :param account.move invoices: the posted invoices of the request's order
        """
        for request in self.filtered(lambda request: request.state == "open"):
            due = sum(invoices.mapped("amount_residual"))
            request.sudo().write(
                {
                    "invoice_ids": [Command.set(invoices.ids)],
                    "amount": request.currency_id.round(due),
                }
            )

    def _mark_quote_updated(self):
        """Cancel the links of quotations that changed since, and tell their salespeople."""
        requests = self.filtered(lambda request: request.state in ("draft", "open"))
        if not requests:
            return
        requests.sudo().write({"state": "cancelled", "cancel_reason": "updated", "is_read": False})
        for request in requests:
            request._notify_requester(
                self.env._(
                    "The quotation %(order)s changed after its link was sent: the link can no "
                    'longer be approved. Use "Send updated quotation" to send the new version.',
                    order=request.sale_order_id.name,
                )
            )

    def action_send_updated_quotation(self):
        """Send the customer a new link for the updated quotation, by the same channel.

        :return: a window action opening the new request
        """
        self.ensure_one()
        self.check_access("write")
        if not self.quote_outdated:
            raise UserError(
                self.env._(
                    "Only a quotation that changed after its link was sent can be sent again "
                    "this way (%(name)s).",
                    name=self.name,
                )
            )
        order = self.sale_order_id
        wizard = (
            self.env["payment.request.wizard"]
            .with_context(active_model="sale.order", active_ids=order.ids, active_id=order.id)
            .create(
                {
                    "purpose": "quote",
                    "channel": self.channel or "email",
                    "email": self.partner_id.email,
                    "phone": self.partner_id.mobile or self.partner_id.phone,
                }
            )
        )
        action = wizard.action_send()
        new_request = self.env["payment.request"].browse(action["res_id"])
        self.sudo().replaced_by_id = new_request
        self.message_post(
            body=Markup(
                self.env._(
                    "Updated quotation sent: replaced by %(link)s.",
                    link=new_request._get_html_link(),
                )
            )
        )
        return action

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

    @api.model
    def _cron_expire_requests(self, batch_size=EXPIRY_BATCH_SIZE):
        """Expire one batch of open requests whose validity has passed.

        The scheduler calls it again while some remain (progress API), so a large backlog is
        processed in bounded batches, each committed on its own. Queries do not depend on the
        batch size: one search, one update, one batch of chatter messages.

        :param int batch_size: how many requests to expire in this call
        :return: the number of requests still to expire
        """
        # A request whose payment is under way (authorized, or pending for less than a day)
        # waits for its outcome; a payment confirmed after the expiry is booked all the same
        # (_mark_paid).
        now = fields.Datetime.now()
        domain = [
            ("state", "=", "open"),
            ("expiration_date", "<=", now),
            (
                "transaction_ids",
                "not any",
                [
                    "|",
                    ("state", "=", "authorized"),
                    "&",
                    ("state", "=", "pending"),
                    ("last_state_change", ">", now - PENDING_PAYMENT_GRACE),
                ],
            ),
        ]
        requests = self.search(domain, limit=batch_size, order="expiration_date, id")
        if not requests:
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return 0
        requests._expire()
        remaining = self.search_count(domain)
        self.env["ir.cron"]._notify_progress(done=len(requests), remaining=remaining)
        return remaining

    def _expire(self):
        """Set the requests expired and log it on each of them in batch."""
        self.sudo().with_context(tracking_disable=True).write(
            {"state": "expired", "is_read": False}
        )
        body = Markup("<p>%s</p>") % self.env._(
            "The request expired: its validity period ended without payment."
        )
        self._message_log_batch(bodies=dict.fromkeys(self.ids, body))
