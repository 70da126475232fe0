# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

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
}

EXPIRY_BATCH_SIZE = 1000


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
        selection=STATES, required=True, default="draft", readonly=True, copy=False, tracking=True
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

    @api.depends("transaction_ids")
    def _compute_attempt_count(self):
        counts = {
            request.id: count
            for request, count in self.env["payment.transaction"].sudo()._read_group(
                [("payment_request_id", "in", self.ids)],
                groupby=["payment_request_id"],
                aggregates=["__count"],
            )
        }
        for request in self:
            request.attempt_count = counts.get(request.id, 0)

    def _compute_access_url(self):
        super()._compute_access_url()
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
            raise UserError(
                self.env._("Only draft or cancelled payment requests can be deleted.")
            )

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
        """Return the numbering sequence of the company, created on first use.

        :param res.company company: the company of the requests to number
        :return: the `ir.sequence` of the company
        """
        sequence = (
            self.env["ir.sequence"]
            .sudo()
            .search([("code", "=", "payment.request"), ("company_id", "=", company.id)], limit=1)
        )
        if not sequence:
            sequence = (
                self.env["ir.sequence"]
                .sudo()
                .create(
                    {
                        "name": self.env._("Payment Requests (%(company)s)", company=company.name),
                        "code": "payment.request",
                        "company_id": company.id,
                        "prefix": "PR/%(range_year)s/",
                        "padding": 5,
                        "use_date_range": True,
                        "implementation": "standard",
                    }
                )
            )
        return sequence

    # === ACTION METHODS === #

    def action_open(self):
        """Open draft requests: set their expiration and make their access token."""
        self._check_state(("draft",), self.env._("Only draft payment requests can be opened."))
        self.check_access("write")
        now = fields.Datetime.now()
        for company, requests in self.grouped("company_id").items():
            requests.sudo().write(
                {
                    "state": "open",
                    "expiration_date": now + timedelta(hours=company.payment_request_validity_hours),
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
        self.sudo().write({"state": "cancelled"})
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
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": new_request.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

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
            raise AccessError(
                self.env._("Only Payment Managers can consolidate payment requests.")
            )
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

    def _check_state(self, allowed_states, message):
        """Raise a UserError naming the requests whose state is not allowed.

        :param tuple allowed_states: the states the action accepts
        :param str message: the explanation shown to the user
        """
        wrong = self.filtered(lambda request: request.state not in allowed_states)
        if wrong:
            raise UserError(
                self.env._(
                    "%(message)s\n%(names)s",
                    message=message,
                    names=", ".join(f"{r.name} ({r.state_display})" for r in wrong),
                )
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
        domain = [("state", "=", "open"), ("expiration_date", "<=", fields.Datetime.now())]
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
