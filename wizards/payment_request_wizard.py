# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError

from .. import const


class PaymentRequestWizard(models.TransientModel):
    """The form that asks customers to pay: it gathers what the user chooses and proposes
    what the documents' hooks say (`_get_payment_request_values`); `payment.request` enforces
    the rules and sends the links."""

    _name = "payment.request.wizard"
    _description = "Request Payment"

    mode = fields.Selection(
        selection=[("new", "New request"), ("resend", "Resend"), ("amend", "Amend amount")],
        required=True,
        default="new",
    )
    res_model = fields.Char(string="Source Model", readonly=True)
    res_ids = fields.Json(string="Source Records", readonly=True)
    record_count = fields.Integer(compute="_compute_record_count")
    request_id = fields.Many2one(comodel_name="payment.request", readonly=True)
    purpose = fields.Selection(selection=const.PURPOSES, required=True)
    # Each field has its own compute, precomputed: `create` over the ORM (an integration, a
    # server action) with any subset of the fields gets the same defaults as the form.
    partner_id = fields.Many2one(
        string="Customer",
        comodel_name="res.partner",
        compute="_compute_document_defaults",
        store=True,
        precompute=True,
    )
    company_id = fields.Many2one(
        comodel_name="res.company",
        compute="_compute_document_defaults",
        store=True,
        precompute=True,
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency",
        compute="_compute_document_defaults",
        store=True,
        readonly=False,
        precompute=True,
    )
    sale_order_id = fields.Many2one(
        comodel_name="sale.order",
        compute="_compute_document_defaults",
        store=True,
        precompute=True,
    )
    opportunity_id = fields.Many2one(
        string="Opportunity",
        comodel_name="crm.lead",
        compute="_compute_document_defaults",
        store=True,
        precompute=True,
    )
    available_invoice_ids = fields.Many2many(
        comodel_name="account.move",
        relation="payment_request_wizard_available_move_rel",
        compute="_compute_available_invoice_ids",
        store=True,
        precompute=True,
    )
    invoice_ids = fields.Many2many(
        string="Invoices",
        comodel_name="account.move",
        relation="payment_request_wizard_move_rel",
        compute="_compute_invoice_ids",
        store=True,
        readonly=False,
        precompute=True,
    )
    max_amount = fields.Monetary(string="Amount Due", compute="_compute_max_amount")
    amount = fields.Monetary(
        compute="_compute_proposed_values", store=True, readonly=False, precompute=True
    )
    description = fields.Text(
        compute="_compute_proposed_values", store=True, readonly=False, precompute=True
    )
    external_reference = fields.Char(
        compute="_compute_proposed_values", store=True, readonly=False, precompute=True
    )
    allow_partial_payment = fields.Boolean(
        string="Allow Partial Payment",
        help="Let the customer choose how much to pay at once, at least the minimum amount, "
        "until nothing remains.",
    )
    minimum_amount = fields.Monetary(
        help="The least the customer may pay at once, unless they pay all that remains.",
    )
    terms_required = fields.Boolean(
        string="Customer must accept the terms",
        compute="_compute_terms_required",
        store=True,
        readonly=False,
        precompute=True,
        help="The customer ticks a box accepting the company's terms and conditions before paying.",
    )
    channel = fields.Selection(
        selection=const.CHANNELS,
        required=True,
        compute="_compute_channel",
        store=True,
        readonly=False,
        precompute=True,
    )
    email = fields.Char(compute="_compute_contact", store=True, readonly=False, precompute=True)
    phone = fields.Char(
        string="Mobile", compute="_compute_contact", store=True, readonly=False, precompute=True
    )
    save_contact = fields.Boolean(
        string="Save on customer",
        help="Store the email and mobile typed here on the customer for next time.",
    )
    contact_edited = fields.Boolean(compute="_compute_contact_edited")

    # === DEFAULT METHODS === #

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model = self.env.context.get("active_model")
        ids = self.env.context.get("active_ids") or (
            [self.env.context["active_id"]] if self.env.context.get("active_id") else []
        )
        if model == "payment.request":
            request = self.env["payment.request"].browse(ids[:1])
            values.update(
                mode=self.env.context.get("payment_request_mode", "resend"),
                request_id=request.id,
                res_model=request._get_document()._name,
                purpose=request.purpose,
            )
            return values
        if model not in const.SOURCE_MODELS:
            raise UserError(
                self.env._(
                    "Payment requests are sent from a customer, an opportunity, an order or an "
                    "invoice."
                )
            )
        if not ids:
            raise UserError(self.env._("Select at least one record to request a payment for."))
        records = self.env[model].browse(ids)
        values.update(res_model=model, res_ids=ids)
        if len(records) == 1:
            # Say at once when nothing can be requested from the document.
            records._get_payment_request_values()
        if "purpose" in fields_list and not values.get("purpose"):
            values["purpose"] = records._get_payment_request_purposes()[0]
        return values

    # === COMPUTE METHODS === #

    @api.depends("res_ids")
    def _compute_record_count(self):
        for wizard in self:
            wizard.record_count = len(wizard.res_ids or []) or len(wizard.request_id)

    def _get_records(self):
        """Return the source documents of the wizard."""
        self.ensure_one()
        return self.env[self.res_model].browse(self.res_ids or [])

    def _get_document_defaults(self):
        """Return the customer, company, currency and order that the form proposes.

        A single document proposes what its hook gives for the purpose; refused, what it gives
        without a purpose (it is refused again, with the reason, when sending).
        """
        self.ensure_one()
        if self.request_id:
            return {fname: self.request_id[fname] for fname in const.WIZARD_DOCUMENT_FIELDS}
        records = self._get_records() if self.res_model else self.env["res.partner"]
        if len(records) == 1:
            for purpose in (self.purpose, None):
                try:
                    return records._get_payment_request_values(purpose)
                except UserError:
                    continue
        is_customer = not records or records._name == "res.partner"
        company = self.env.company if is_customer else (records[:1].company_id or self.env.company)
        defaults = {
            "company_id": company,
            "currency_id": company.currency_id
            if is_customer or "currency_id" not in records._fields
            else records[:1].currency_id,
        }
        if len(records) == 1:
            defaults["partner_id"] = records if is_customer else records.partner_id
        return defaults

    @api.depends("res_model", "res_ids", "request_id", "purpose")
    def _compute_document_defaults(self):
        for wizard in self:
            defaults = wizard._get_document_defaults()
            for fname in const.WIZARD_DOCUMENT_FIELDS:
                wizard[fname] = defaults.get(fname, False)

    @api.depends("res_model", "res_ids", "request_id", "purpose")
    def _compute_available_invoice_ids(self):
        can_read = self.env["account.move"].has_access("read")
        company = self.env.company
        for wizard in self:
            customer = wizard.res_model == "res.partner" and not wizard.request_id
            if customer and wizard.record_count == 1 and can_read:
                wizard.available_invoice_ids = (
                    wizard._get_records()._get_payment_request_open_invoices(
                        company, company.currency_id
                    )
                )
            else:
                wizard.available_invoice_ids = False

    @api.depends("purpose", "available_invoice_ids", "request_id")
    def _compute_invoice_ids(self):
        for wizard in self:
            if wizard.request_id:
                wizard.invoice_ids = wizard.request_id.invoice_ids
            elif wizard.res_model == "account.move" and wizard.record_count == 1:
                wizard.invoice_ids = wizard._get_records()
            elif wizard.purpose == "invoices":
                wizard.invoice_ids = wizard.available_invoice_ids
            else:
                wizard.invoice_ids = False

    def _get_chosen_invoices(self):
        """Return the invoices chosen for the purpose 'invoices', None for other purposes."""
        return self.invoice_ids if self.purpose == "invoices" else None

    def _get_proposed_values(self):
        """Return what the single source document proposes for the purpose and the invoices
        chosen (its hook), {} if it refuses them or the wizard has no single document."""
        self.ensure_one()
        if self.record_count != 1 or not self.res_model or self.request_id:
            return {}
        try:
            return self._get_records()._get_payment_request_values(
                self.purpose, invoices=self._get_chosen_invoices()
            )
        except UserError:
            return {}

    @api.depends("purpose", "invoice_ids", "request_id", "res_ids")
    def _compute_max_amount(self):
        for wizard in self:
            if wizard.request_id:
                wizard.max_amount = wizard.request_id._get_amount_due() or 0.0
            else:
                wizard.max_amount = wizard._get_proposed_values().get("max_amount") or 0.0

    @api.depends("purpose", "invoice_ids", "request_id", "res_ids")
    def _compute_proposed_values(self):
        for wizard in self:
            if wizard.request_id:
                source = {fname: wizard.request_id[fname] for fname in const.WIZARD_PROPOSED_FIELDS}
            else:
                source = wizard._get_proposed_values()
                if wizard.purpose in ("free", "wallet"):
                    source["amount"] = wizard.amount or 0.0
            wizard.amount = source.get("amount") or 0.0
            wizard.description = source.get("description") or False
            wizard.external_reference = source.get("external_reference") or False

    @api.depends("company_id", "request_id")
    def _compute_terms_required(self):
        for wizard in self:
            wizard.terms_required = (
                wizard.request_id.terms_required
                if wizard.request_id
                else wizard.company_id.payment_request_terms_required
            )

    def _get_proposed_contact(self):
        """Return the email and number proposed: the customer's, else the document's own (an
        opportunity's, typed before its customer was created)."""
        self.ensure_one()
        partner = self.partner_id
        email, phone = partner.email, partner.mobile or partner.phone
        if not (email and phone) and self.opportunity_id and not self.request_id:
            proposed = self._get_proposed_values()
            email = email or proposed.get("email") or False
            phone = phone or proposed.get("phone") or False
        return email, phone

    @api.depends("partner_id")
    def _compute_contact(self):
        for wizard in self:
            wizard.email, wizard.phone = wizard._get_proposed_contact()

    @api.depends("partner_id", "request_id")
    def _compute_channel(self):
        for wizard in self:
            email, phone = wizard._get_proposed_contact()
            if wizard.request_id.channel:
                wizard.channel = wizard.request_id.channel
            elif wizard.partner_id and not email and phone:
                wizard.channel = "sms"
            else:
                wizard.channel = "email"

    @api.depends("email", "phone", "partner_id")
    def _compute_contact_edited(self):
        for wizard in self:
            partner = wizard.partner_id
            wizard.contact_edited = bool(partner) and (
                (wizard.email or False) != (partner.email or False)
                or (wizard.phone or False) not in (partner.mobile or False, partner.phone or False)
            )

    # === ACTION METHODS === #

    def action_send(self):
        """Create (or reuse) the requests and send their links; report skipped records."""
        self.ensure_one()
        if self.request_id and self.request_id.terms_required != self.terms_required:
            # Resent or amended (the new request copies it): the request changes first.
            self.request_id.terms_required = self.terms_required
        if self.mode == "resend":
            self.request_id.action_resend(
                channel=self.channel,
                email=self.email,
                phone=self.phone,
                save_contact=self.save_contact,
            )
            return {"type": "ir.actions.act_window_close"}
        if self.mode == "amend":
            return self.request_id.action_amend(
                self.amount,
                description=self.description,
                external_reference=self.external_reference,
                channel=self.channel,
                email=self.email,
                phone=self.phone,
            )
        if self.purpose not in self._get_records()._get_payment_request_purposes():
            raise UserError(self.env._("This purpose cannot be requested from this document."))
        if self.record_count > 1:
            return self._action_send_bulk()
        return self._action_send_single()

    def _action_send_single(self):
        request = self.env["payment.request"]._send_for_document(
            self._get_records(),
            self.purpose,
            self.channel,
            invoices=self._get_chosen_invoices(),
            email=self.email,
            phone=self.phone,
            save_contact=self.save_contact,
            amount=self.amount,
            description=self.description,
            external_reference=self.external_reference,
            terms_required=self.terms_required,
            **self._get_partial_payment_values(),
        )
        return request._get_form_action()

    def _get_partial_payment_values(self):
        """Return whether the requests let the customer pay part of them, and the least."""
        if not self.allow_partial_payment or self.purpose not in const.PARTIAL_PURPOSES:
            return {}
        return {"allow_partial_payment": True, "minimum_amount": self.minimum_amount}

    def _action_send_bulk(self):
        requests, skipped = self.env["payment.request"]._send_for_documents(
            self._get_records(),
            self.purpose,
            self.channel,
            amount=self.amount,
            terms_required=self.terms_required,
            **self._get_partial_payment_values(),
        )
        return self._bulk_report(requests, skipped)

    def _bulk_report(self, requests, skipped):
        """Return a notification saying what was sent and which records were skipped."""
        message = self.env._("%(count)s payment requests sent.", count=len(requests))
        if skipped:
            message += (
                "\n"
                + self.env._("Skipped:")
                + "\n"
                + "\n".join(f"- {record.display_name}: {reason}" for record, reason in skipped)
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Request Payment"),
                "message": message,
                "type": "warning" if skipped else "success",
                "sticky": bool(skipped),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
