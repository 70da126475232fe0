# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from markupsafe import Markup

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import email_normalize
from odoo.tools import format_amount

from .. import const


# The purposes offered from each kind of document; the first is the default.
class PaymentRequestWizard(models.TransientModel):
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
        compute="_compute_partner_id",
        store=True,
        precompute=True,
    )
    company_id = fields.Many2one(
        comodel_name="res.company", compute="_compute_company_id", store=True, precompute=True
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency",
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    sale_order_id = fields.Many2one(
        comodel_name="sale.order", compute="_compute_sale_order_id", store=True, precompute=True
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
    amount = fields.Monetary(compute="_compute_amount", store=True, readonly=False, precompute=True)
    description = fields.Text(
        compute="_compute_description", store=True, readonly=False, precompute=True
    )
    external_reference = fields.Char(
        compute="_compute_external_reference", store=True, readonly=False, precompute=True
    )
    channel = fields.Selection(
        selection=const.CHANNELS,
        required=True,
        compute="_compute_channel",
        store=True,
        readonly=False,
        precompute=True,
    )
    email = fields.Char(compute="_compute_email", store=True, readonly=False, precompute=True)
    phone = fields.Char(
        string="Mobile", compute="_compute_phone", store=True, readonly=False, precompute=True
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
            mode = self.env.context.get("payment_request_mode", "resend")
            values.update(
                mode=mode,
                request_id=request.id,
                res_model=request.sale_order_id
                and "sale.order"
                or (request.invoice_ids and "account.move" or "res.partner"),
                purpose=request.purpose,
            )
            return values
        if model not in const.SOURCE_MODELS:
            raise UserError(
                self.env._("Payment requests are sent from a customer, an order or an invoice.")
            )
        if not ids:
            raise UserError(self.env._("Select at least one record to request a payment for."))
        values.update(res_model=model, res_ids=ids)
        if len(ids) == 1:
            # Say at once when nothing can be requested from the document.
            self._document_values(self.env[model].browse(ids))
        if "purpose" in fields_list and not values.get("purpose"):
            values["purpose"] = self._get_default_purpose(self.env[model].browse(ids))
        return values

    @api.model
    def _get_default_purpose(self, records):
        """Return the purpose proposed for the records: a quotation is sent for approval."""
        if records._name == "sale.order" and all(
            order.state in ("draft", "sent") for order in records
        ):
            return "quote"
        return const.PURPOSES_BY_MODEL[records._name][0]

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
        """Return the customer, company, currency, order and open invoices of the wizard's
        source, as the form proposes them.

        :return: dict with partner, company, currency, sale_order and available_invoices
        """
        self.ensure_one()
        wizard = self
        values = {"available_invoices": self.env["account.move"]}
        if wizard.request_id:
            request = wizard.request_id
            values.update(
                partner=request.partner_id,
                company=request.company_id,
                currency=request.currency_id,
                sale_order=request.sale_order_id,
            )
            return values
        records = wizard._get_records() if wizard.res_model else None
        if not records or len(records) > 1:
            company = records[:1].company_id if records else self.env.company
            if wizard.res_model == "res.partner" or not records:
                company = self.env.company
            values.update(
                partner=self.env["res.partner"],
                sale_order=self.env["sale.order"],
                company=company,
                currency=records[:1].currency_id
                if records and wizard.res_model != "res.partner"
                else company.currency_id,
            )
            return values
        try:
            # Without the purpose: a refused purpose must not hide the customer.
            document = wizard._document_values(records)
            if wizard.purpose == "quote" and records._name == "sale.order":
                document["partner"] = records.partner_id
        except UserError:
            # Refused again, with the reason, when sending.
            document = {
                "partner": records.partner_id if records._name != "res.partner" else records,
                "company": records.company_id or self.env.company,
                "currency": records.currency_id
                if records._name != "res.partner"
                else (self.env.company.currency_id),
            }
        values.update(
            partner=document["partner"],
            company=document["company"],
            currency=document["currency"],
            sale_order=document.get("sale_order", self.env["sale.order"]),
        )
        if wizard.res_model == "res.partner" and self._can_read_invoices():
            values["available_invoices"] = self._get_open_invoices(
                document["partner"], document["company"], document["currency"]
            )
        return values

    @api.depends("res_model", "res_ids", "request_id", "purpose")
    def _compute_partner_id(self):
        for wizard in self:
            wizard.partner_id = wizard._get_document_defaults()["partner"]

    @api.depends("res_model", "res_ids", "request_id", "purpose")
    def _compute_company_id(self):
        for wizard in self:
            wizard.company_id = wizard._get_document_defaults()["company"]

    @api.depends("res_model", "res_ids", "request_id", "purpose")
    def _compute_currency_id(self):
        for wizard in self:
            wizard.currency_id = wizard._get_document_defaults()["currency"]

    @api.depends("res_model", "res_ids", "request_id", "purpose")
    def _compute_sale_order_id(self):
        for wizard in self:
            wizard.sale_order_id = wizard._get_document_defaults()["sale_order"]

    @api.depends("res_model", "res_ids", "request_id", "purpose")
    def _compute_available_invoice_ids(self):
        for wizard in self:
            wizard.available_invoice_ids = wizard._get_document_defaults()["available_invoices"]

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

    def _get_single_document_values(self):
        """Return the values of the wizard's single document, or {} if it is refused."""
        self.ensure_one()
        if self.record_count != 1 or not self.res_model:
            return {}
        try:
            return self._document_values(self._get_records(), self.purpose, self.invoice_ids)
        except UserError:
            return {}

    @api.depends("purpose", "invoice_ids", "request_id", "res_ids")
    def _compute_max_amount(self):
        for wizard in self:
            if wizard.request_id:
                wizard.max_amount = wizard._get_request_amount_due(wizard.request_id)
            else:
                wizard.max_amount = wizard._get_single_document_values().get("max_amount", 0.0)

    @api.depends("purpose", "invoice_ids", "request_id", "res_ids")
    def _compute_amount(self):
        for wizard in self:
            if wizard.request_id:
                wizard.amount = wizard.request_id.amount
            elif wizard.purpose in ("free", "wallet"):
                wizard.amount = wizard.amount or 0.0
            else:
                wizard.amount = wizard._get_single_document_values().get("amount", 0.0)

    def _get_default_texts(self):
        """Return the description and external reference the form proposes."""
        self.ensure_one()
        if self.request_id:
            return {
                "description": self.request_id.description,
                "external_reference": self.request_id.external_reference,
            }
        if self.record_count == 1:
            return self._document_texts(self._get_records(), self.purpose, self.invoice_ids)
        return {"description": False, "external_reference": False}

    @api.depends("purpose", "invoice_ids", "request_id")
    def _compute_description(self):
        for wizard in self:
            wizard.description = wizard._get_default_texts()["description"]

    @api.depends("purpose", "invoice_ids", "request_id")
    def _compute_external_reference(self):
        for wizard in self:
            wizard.external_reference = wizard._get_default_texts()["external_reference"]

    @api.depends("partner_id")
    def _compute_email(self):
        for wizard in self:
            wizard.email = wizard.partner_id.email

    @api.depends("partner_id")
    def _compute_phone(self):
        for wizard in self:
            wizard.phone = wizard.partner_id.mobile or wizard.partner_id.phone

    @api.depends("partner_id", "request_id")
    def _compute_channel(self):
        for wizard in self:
            partner = wizard.partner_id
            if wizard.request_id.channel:
                wizard.channel = wizard.request_id.channel
            elif partner and not partner.email and (partner.mobile or partner.phone):
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

    # === BUSINESS METHODS: DOCUMENTS === #

    @api.model
    def _can_read_invoices(self):
        return self.env["account.move"].has_access("read")

    @api.model
    def _get_open_invoices(self, partner, company, currency):
        """Return the posted customer invoices of the partner that still have something due."""
        return self.env["account.move"].search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                ("company_id", "=", company.id),
                ("currency_id", "=", currency.id),
                ("amount_residual", ">", 0),
            ],
            order="invoice_date_due, id",
        )

    @api.model
    def _get_order_amount_due(self, order):
        """Return what remains to pay on an order: its total less the payments received."""
        return order.currency_id.round(order.amount_total - order.amount_paid)

    @api.model
    def _get_deposit_amount(self, order):
        """Return the deposit proposed for an order: its prepayment, else the company default."""
        if order.require_payment and order.prepayment_percent:
            amount = order._get_prepayment_required_amount()
        else:
            amount = order.amount_total * order.company_id.payment_request_deposit_percent
        return order.currency_id.round(min(amount, self._get_order_amount_due(order)))

    @api.model
    def _get_request_amount_due(self, request):
        """Return the most a replacement of the request may ask for."""
        if request.sale_order_id:
            return self._get_order_amount_due(request.sale_order_id)
        if request.invoice_ids:
            return sum(request.invoice_ids.mapped("amount_residual"))
        return 0.0

    @api.model
    def _document_values(self, record, purpose=None, invoices=None):
        """Return what a request made from a document would ask, or refuse the document.

        :param record: a `res.partner`, `sale.order` or `account.move` record
        :param str purpose: the purpose asked for; None to only check the document
        :param account.move invoices: the invoices chosen for the `invoices` purpose
        :return: dict with partner, company, currency, amount, max_amount and the documents
        :raise UserError: when nothing can be requested from the document
        """
        record.ensure_one()
        if record._name == "res.partner":
            company = self.env.company
            currency = company.currency_id
            values = {"partner": record, "company": company, "currency": currency}
            if purpose == "invoices":
                if not self._can_read_invoices():
                    raise UserError(
                        self.env._(
                            "Requesting the payment of invoices needs invoicing rights "
                            "(Invoicing: Billing)."
                        )
                    )
                open_invoices = self._get_open_invoices(record, company, currency)
                chosen = invoices if invoices is not None else open_invoices
                if not open_invoices:
                    raise UserError(
                        self.env._(
                            "%(customer)s has no open invoice in %(currency)s: nothing is due.",
                            customer=record.display_name,
                            currency=currency.name,
                        )
                    )
                due = sum(chosen.mapped("amount_residual"))
                values.update(invoices=chosen, amount=due, max_amount=due)
            return values
        if record._name == "sale.order":
            if record.state == "cancel":
                raise UserError(
                    self.env._(
                        "The order %(order)s is cancelled: no payment can be requested for it.",
                        order=record.name,
                    )
                )
            if purpose == "quote":
                self._check_quotation(record)
            due = self._get_order_amount_due(record)
            if record.currency_id.compare_amounts(due, 0) <= 0:
                raise UserError(
                    self.env._("Nothing is due on the order %(order)s.", order=record.name)
                )
            amount = self._get_deposit_amount(record) if purpose == "deposit" else due
            return {
                # The quotation is approved by its customer, the rest paid by the invoicee.
                "partner": record.partner_id
                if purpose == "quote"
                else (record.partner_invoice_id or record.partner_id),
                "company": record.company_id,
                "currency": record.currency_id,
                "sale_order": record,
                "amount": amount,
                "max_amount": due,
            }
        # account.move
        if record.move_type != "out_invoice":
            raise UserError(
                self.env._(
                    "%(document)s is not a customer invoice: request payments on customer "
                    "invoices only.",
                    document=record.display_name,
                )
            )
        if record.state != "posted":
            raise UserError(
                self.env._(
                    "The invoice %(invoice)s is not posted: confirm it before requesting its "
                    "payment.",
                    invoice=record.display_name,
                )
            )
        due = record.amount_residual
        if record.currency_id.compare_amounts(due, 0) <= 0 or record.payment_state not in (
            "not_paid",
            "partial",
        ):
            raise UserError(
                self.env._("Nothing is due on the invoice %(invoice)s.", invoice=record.name)
            )
        return {
            "partner": record.partner_id,
            "company": record.company_id,
            "currency": record.currency_id,
            "invoices": record,
            "amount": due,
            "max_amount": due,
        }

    @api.model
    def _check_quotation(self, order):
        """Refuse to send for approval an order that is no quotation, or an expired one."""
        if order.state not in ("draft", "sent"):
            raise UserError(
                self.env._(
                    "The order %(order)s is already confirmed: only a quotation can be sent for "
                    "approval. Request its payment instead.",
                    order=order.name,
                )
            )
        if order.is_expired:
            raise UserError(
                self.env._(
                    "The quotation %(order)s expired on %(date)s: extend its expiration date "
                    "before sending it for approval.",
                    order=order.name,
                    date=fields.Date.to_string(order.validity_date),
                )
            )
        if not order.order_line.filtered(lambda line: not line.display_type):
            raise UserError(
                self.env._("The quotation %(order)s has no line to approve.", order=order.name)
            )

    @api.model
    def _document_texts(self, record, purpose, invoices=None):
        """Return the default description and external reference of a request."""
        description = ""
        reference = ""
        if record._name == "sale.order":
            reference = record.client_order_ref or ""
            if purpose == "deposit":
                description = self.env._("Deposit for order %(order)s", order=record.name)
            elif purpose == "quote":
                description = self.env._(
                    "Approval and payment of quotation %(order)s", order=record.name
                )
            else:
                description = self.env._("Payment of order %(order)s", order=record.name)
        elif record._name == "account.move":
            reference = record.ref or ""
            description = self.env._("Payment of invoice %(invoice)s", invoice=record.name)
        elif purpose == "invoices" and invoices:
            description = self.env._(
                "Payment of invoices %(invoices)s", invoices=", ".join(invoices.mapped("name"))
            )
        elif purpose == "wallet":
            description = self.env._("Top-up of your prepaid balance")
        return {"description": description, "external_reference": reference}

    # === BUSINESS METHODS: CONTACTS === #

    def _check_contact(self, partner, channel, email, phone, company):
        """Validate the address and number for the channel.

        :return: (normalized email or False, E.164 number or False)
        :raise UserError: naming the customer and the field when one is missing or invalid
        """
        normalized_email = False
        number = False
        if channel in ("email", "both"):
            if not email:
                raise UserError(
                    self.env._(
                        "%(customer)s has no email address: fill in the Email field or send "
                        "by SMS.",
                        customer=partner.display_name,
                    )
                )
            normalized_email = email_normalize(email, strict=True)
            if not normalized_email:
                raise UserError(
                    self.env._(
                        "The Email %(email)s of %(customer)s is not a valid address.",
                        email=email,
                        customer=partner.display_name,
                    )
                )
        if channel in ("sms", "both"):
            if not phone:
                raise UserError(
                    self.env._(
                        "%(customer)s has no mobile number: fill in the Mobile field or send "
                        "by email.",
                        customer=partner.display_name,
                    )
                )
            country = partner.country_id or company.country_id
            number = partner._phone_format(
                number=phone, country=country, force_format="E164", raise_exception=False
            )
            if not number:
                raise UserError(
                    self.env._(
                        "The Mobile %(number)s of %(customer)s is not a valid phone number "
                        "for %(country)s.",
                        number=phone,
                        customer=partner.display_name,
                        country=country.name or self.env._("an unknown country"),
                    )
                )
        return normalized_email, number

    def _get_email_recipient(self, partner, email):
        """Return the partner that receives the link at `email`.

        The customer when the address is theirs; otherwise one of their contacts with that
        address, created when needed, as Odoo's composer does for a new recipient.
        """
        if not email or email_normalize(partner.email or "") == email:
            return partner
        commercial = partner.commercial_partner_id
        contact = self.env["res.partner"].search(
            [("id", "child_of", commercial.id), ("email_normalized", "=", email)], limit=1
        )
        return contact or self.env["res.partner"].create(
            {"name": partner.name, "email": email, "parent_id": commercial.id, "type": "other"}
        )

    # === ACTION METHODS === #

    def action_send(self):
        """Create (or reuse) the requests and send their links; report skipped records."""
        self.ensure_one()
        if self.mode == "resend":
            return self._action_resend()
        if self.mode == "amend":
            return self._action_amend()
        if self.purpose not in const.PURPOSES_BY_MODEL[self.res_model]:
            raise UserError(self.env._("This purpose cannot be requested from this document."))
        if self.record_count > 1:
            return self._action_send_bulk()
        return self._action_send_single()

    def _check_amount(self, amount, max_amount, currency, label):
        if currency.compare_amounts(amount, 0) <= 0:
            raise UserError(
                self.env._(
                    "The amount requested for %(what)s must be greater than zero.", what=label
                )
            )
        if max_amount and currency.compare_amounts(amount, max_amount) > 0:
            raise UserError(
                self.env._(
                    "The amount requested for %(what)s (%(amount)s) is more than what is due "
                    "(%(due)s).",
                    what=label,
                    amount=format_amount(self.env, amount, currency),
                    due=format_amount(self.env, max_amount, currency),
                )
            )

    def _action_send_single(self):
        record = self._get_records()
        invoices = self.invoice_ids if self.purpose in ("invoices", "invoice") else None
        document = self._document_values(record, self.purpose, invoices)
        if self.purpose == "invoices" and not invoices:
            raise UserError(self.env._("Select the invoices the customer should pay."))
        # A quotation is approved and paid whole: its total, whatever the form says.
        amount = document["amount"] if self.purpose == "quote" else self.amount
        self._check_amount(
            amount, document.get("max_amount"), document["currency"], record.display_name
        )
        partner = document["partner"]
        email, number = self._check_contact(
            partner, self.channel, self.email, self.phone, document["company"]
        )
        if self.save_contact:
            self._save_contact(partner, email, number)
        request = self.env["payment.request"].create(
            self._prepare_request_values(
                document, amount, self.description, self.external_reference
            )
        )
        recipient = self._get_email_recipient(partner, email)
        request._send_link(self.channel, {request.id: recipient}, {request.id: number})
        self._log_on_documents(request, record)
        return request._get_form_action()

    def _action_send_bulk(self):
        records = self._get_records()
        jobs, skipped = [], []
        for record in records:
            try:
                document = self._document_values(record, self.purpose)
                amount = self.amount if self.purpose in ("free", "wallet") else document["amount"]
                self._check_amount(
                    amount, document.get("max_amount"), document["currency"], record.display_name
                )
                partner = document["partner"]
                email, number = self._check_contact(
                    partner,
                    self.channel,
                    partner.email,
                    partner.mobile or partner.phone,
                    document["company"],
                )
            except UserError as error:
                skipped.append((record, str(error)))
                continue
            texts = self._document_texts(record, self.purpose, document.get("invoices"))
            jobs.append((record, document, amount, texts, email, number))
        requests = self.env["payment.request"].create(
            [
                self._prepare_request_values(
                    document, amount, texts["description"], texts["external_reference"]
                )
                for _record, document, amount, texts, _email, _number in jobs
            ]
        )
        recipients, numbers = {}, {}
        for request, (_record, document, _amount, _texts, email, number) in zip(
            requests, jobs, strict=True
        ):
            recipients[request.id] = self._get_email_recipient(document["partner"], email)
            numbers[request.id] = number
        if requests:
            requests._send_link(self.channel, recipients, numbers, queue=True)
            self._log_on_documents(requests, records.browse([job[0].id for job in jobs]))
        return self._bulk_report(requests, skipped)

    def _action_resend(self):
        request = self.request_id
        request._check_state(("open",), self.env._("Only open payment requests can be sent again."))
        request.check_access("write")
        partner = request.partner_id
        email, number = self._check_contact(
            partner, self.channel, self.email, self.phone, request.company_id
        )
        if self.save_contact:
            self._save_contact(partner, email, number)
        recipient = self._get_email_recipient(partner, email)
        request._send_link(self.channel, {request.id: recipient}, {request.id: number})
        return {"type": "ir.actions.act_window_close"}

    def _action_amend(self):
        old = self.request_id
        old._check_state(("open",), self.env._("Only open payment requests can be amended."))
        old.check_access("write")
        if old.currency_id.compare_amounts(self.amount, old.amount) == 0:
            raise UserError(self.env._("Enter the new amount to request."))
        self._check_amount(
            self.amount, self._get_request_amount_due(old), old.currency_id, old.name
        )
        partner = old.partner_id
        email, number = self._check_contact(
            partner, self.channel, self.email, self.phone, old.company_id
        )
        new = old.copy(
            {
                "amount": self.amount,
                "description": self.description,
                "external_reference": self.external_reference,
                "user_id": self.env.user.id,
            }
        )
        recipient = self._get_email_recipient(partner, email)
        new._send_link(self.channel, {new.id: recipient}, {new.id: number})
        old.sudo().write(
            {"state": "cancelled", "cancel_reason": "replaced", "replaced_by_id": new.id}
        )
        old.message_post(
            body=Markup(
                self.env._(
                    "Amount changed from %(old)s to %(new)s: replaced by %(link)s, this link "
                    "can no longer be paid.",
                    old=format_amount(self.env, old.amount, old.currency_id),
                    new=format_amount(self.env, new.amount, new.currency_id),
                    link=new._get_html_link(),
                )
            )
        )
        return new._get_form_action()

    # === TOOLS === #

    def _prepare_request_values(self, document, amount, description, reference):
        return {
            "partner_id": document["partner"].id,
            "company_id": document["company"].id,
            "currency_id": document["currency"].id,
            "purpose": self.purpose,
            "amount": amount,
            "description": description,
            "external_reference": reference,
            "sale_order_id": document.get("sale_order", self.env["sale.order"]).id,
            "invoice_ids": [(6, 0, document.get("invoices", self.env["account.move"]).ids)],
        }

    def _save_contact(self, partner, email, number):
        values = {}
        if email and email != email_normalize(partner.email or ""):
            values["email"] = email
        if number and number not in (partner.mobile, partner.phone):
            values["mobile"] = number
        if values:
            partner.write(values)

    def _log_on_documents(self, requests, records):
        """Log on each source document which request was sent for it."""
        channel_label = dict(const.CHANNELS)[self.channel]
        bodies = {}
        for request, record in zip(requests, records, strict=True):
            bodies[record.id] = Markup(
                self.env._(
                    "Payment request %(link)s of %(amount)s sent by %(channel)s.",
                    link=request._get_html_link(),
                    amount=format_amount(self.env, request.amount, request.currency_id),
                    channel=channel_label.lower(),
                )
            )
        records._message_log_batch(bodies=bodies)

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
