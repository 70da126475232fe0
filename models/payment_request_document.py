# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The document a payment request is for (a customer, an order, an invoice): the rules it sets
on the request, what remains due on it, requests sent for many documents at once, and sending
a request again or amending its amount.

Each document says what it offers through its hooks (``_get_payment_request_purposes``,
``_get_payment_request_values``, ``_get_payment_request_customers`` on ``res.partner``,
``sale.order`` and ``account.move``); the request enforces them whoever makes it."""

from markupsafe import Markup

from odoo import Command
from odoo import api
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from .. import const


class PaymentRequest(models.Model):
    # One concern of the model per file (issue 13), as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    # === CONSTRAINT METHODS === #

    def _filter_pending(self):
        """Return the requests not settled yet (draft or open): those their document bounds."""
        return self.filtered(lambda request: request.state in ("draft", "open"))

    def _get_document(self):
        """Return the record the request asks a payment for: its order, its invoice (purpose
        'invoice'), else its customer (a free amount, a wallet top-up, open invoices).

        :rtype: sale.order, account.move or res.partner
        """
        self.ensure_one()
        if self.sale_order_id:
            return self.sale_order_id
        if self.purpose == "invoice":
            return self.invoice_ids
        return self.partner_id

    def _check_document_rules(self):
        """Refuse the requests that their document does not allow: a purpose it does not offer,
        a document that cannot be asked (a confirmed order sent as a quotation, a paid
        invoice...), more than it has due, another customer, company or currency.

        `create`, `write` and `action_open` call it, so the form, the wizard and integrations
        over RPC meet the same rules; the workflow's own changes of an open request (the invoice
        of an approved quotation, its payment) are made in sudo mode and do not.

        :raise UserError: naming the document and what to change
        """
        purposes = dict(self._fields["purpose"]._description_selection(self.env))
        for request in self:
            document = request._get_document()
            if request.purpose == "invoice" and len(document) != 1:
                raise UserError(
                    self.env._(
                        "The payment request %(name)s is for one invoice: link exactly one, or "
                        "ask for open invoices.",
                        name=request.name,
                    )
                )
            if request.purpose not in document._get_payment_request_purposes():
                raise UserError(
                    self.env._(
                        "%(purpose)s cannot be requested from %(document)s (%(name)s).",
                        purpose=purposes[request.purpose],
                        document=document.display_name,
                        name=request.name,
                    )
                )
            values = document._get_payment_request_values(
                request.purpose,
                company=request.company_id,
                currency=request.currency_id,
                invoices=request.invoice_ids,
            )
            if request.invoice_ids != values["invoice_ids"]:
                raise UserError(
                    self.env._(
                        "The payment request %(name)s is for %(purpose)s: it pays no invoice.",
                        name=request.name,
                        purpose=purposes[request.purpose],
                    )
                )
            customers = document._get_payment_request_customers().commercial_partner_id
            if request.partner_id.commercial_partner_id not in customers:
                raise UserError(
                    self.env._(
                        "%(customer)s is not the customer of %(document)s: request its payment "
                        "from %(customers)s or one of their contacts.",
                        customer=request.partner_id.display_name,
                        document=document.display_name,
                        customers=", ".join(customers.mapped("display_name")),
                    )
                )
            if request.company_id != values["company_id"]:
                raise UserError(
                    self.env._(
                        "The payment request %(name)s must be made by %(company)s, the company "
                        "of %(document)s.",
                        name=request.name,
                        company=values["company_id"].name,
                        document=document.display_name,
                    )
                )
            if request.currency_id != values["currency_id"]:
                raise UserError(
                    self.env._(
                        "The payment request %(name)s must be in %(currency)s, the currency of "
                        "%(document)s.",
                        name=request.name,
                        currency=values["currency_id"].name,
                        document=document.display_name,
                    )
                )
            if request.purpose == "quote" and request.currency_id.compare_amounts(
                request.amount, values["amount"]
            ):
                raise UserError(
                    self.env._(
                        "A quotation is approved and paid whole: the payment request for "
                        "%(document)s asks %(amount)s.",
                        document=document.display_name,
                        amount=format_amount(self.env, values["amount"], request.currency_id),
                    )
                )
            self._check_request_amount(
                request.amount, values["max_amount"], request.currency_id, document.display_name
            )

    @api.model
    def _check_request_amount(self, amount, max_amount, currency, label):
        """Refuse an amount that is not positive or more than what is due.

        :param float amount: the amount asked
        :param float max_amount: what is due; None when there is no limit
        :param res.currency currency: the currency of both
        :param str label: what the amount is asked for, for the message
        :raise UserError: naming `label`
        """
        if currency.compare_amounts(amount, 0) <= 0:
            raise UserError(
                self.env._(
                    "The amount requested for %(what)s must be greater than zero.", what=label
                )
            )
        if max_amount is not None and currency.compare_amounts(amount, max_amount) > 0:
            raise UserError(
                self.env._(
                    "The amount requested for %(what)s (%(amount)s) is more than what is due "
                    "(%(due)s).",
                    what=label,
                    amount=format_amount(self.env, amount, currency),
                    due=format_amount(self.env, max_amount, currency),
                )
            )

    # === BUSINESS METHODS === #

    @api.model
    def _prepare_values_from_document(self, purpose, values, **overrides):
        """Return the values to create a request of `purpose` from its document's hook.

        :param str purpose: the purpose of the request
        :param dict values: what the document's `_get_payment_request_values` returned
        :param overrides: values given by the user (amount, description, ...)
        :return: the values for `create`
        :rtype: dict
        """
        return {
            "purpose": purpose,
            "partner_id": values["partner_id"].id,
            "company_id": values["company_id"].id,
            "currency_id": values["currency_id"].id,
            "sale_order_id": values["sale_order_id"].id,
            "invoice_ids": [Command.set(values["invoice_ids"].ids)],
            "amount": values["amount"],
            "description": values["description"],
            "external_reference": values["external_reference"],
            **overrides,
        }

    def _get_amount_due(self):
        """Return the most that a request for the same document may ask now.

        :return: what remains due on its order or its invoices; None for a free amount
        :rtype: float
        """
        self.ensure_one()
        if self.sale_order_id:
            return self.sale_order_id._get_payment_request_amount_due()
        if self.invoice_ids:
            return self.currency_id.round(sum(self.invoice_ids.mapped("amount_residual")))
        return None

    def _log_on_documents(self, documents, channel):
        """Log on each document which request was sent for it, in batch.

        :param documents: the documents (one model), in the order of the requests
        :param str channel: how the links were sent
        """
        channel_label = dict(const.CHANNELS)[channel]
        bodies = {}
        for request, document in zip(self, documents, strict=True):
            bodies[document.id] = Markup(
                self.env._(
                    "Payment request %(link)s of %(amount)s sent by %(channel)s.",
                    link=request._get_html_link(),
                    amount=format_amount(self.env, request.amount, request.currency_id),
                    channel=channel_label.lower(),
                )
            )
        documents._message_log_batch(bodies=bodies)

    @api.model
    def _send_for_documents(self, documents, purpose, channel, amount=None, **overrides):
        """Create a request of `purpose` for each document and send its link to the document's
        customer, at the address and number they have; skip the documents that cannot be asked.

        The requests are created in one batch and their links queued (bulk sending).

        :param documents: `res.partner`, `sale.order` or `account.move` records
        :param str purpose: the purpose of the requests, offered by the documents
        :param str channel: 'email', 'sms' or 'both'
        :param float amount: what each request asks for a free amount or a wallet top-up
        :param overrides: other values of every request (`allow_partial_payment`,
            `minimum_amount`: a minimum above what a document asks is that amount)
        :return: (the requests sent, [(document, reason)] of the documents skipped)
        :rtype: tuple
        """
        jobs, skipped = [], []
        for document in documents:
            try:
                values = document._get_payment_request_values(purpose)
                if purpose in ("free", "wallet"):
                    values["amount"] = amount
                currency = values["currency_id"]
                self._check_request_amount(
                    values["amount"], values["max_amount"], currency, document.display_name
                )
                partner = values["partner_id"]
                email, number = partner._payment_request_check_contact(
                    channel, partner.email, partner.mobile or partner.phone, values["company_id"]
                )
            except UserError as error:
                skipped.append((document, str(error)))
                continue
            jobs.append((document, values, email, number))
        vals_list = []
        for _doc, values, *_ in jobs:
            vals = self._prepare_values_from_document(purpose, values, **overrides)
            if "minimum_amount" in vals:
                vals["minimum_amount"] = min(vals["minimum_amount"], vals["amount"])
            vals_list.append(vals)
        requests = self.create(vals_list)
        if requests:
            recipients, numbers = {}, {}
            for request, (_doc, values, email, number) in zip(requests, jobs, strict=True):
                recipients[request.id] = values["partner_id"]._payment_request_get_recipient(email)
                numbers[request.id] = number
            requests._send_link(channel, recipients, numbers, queue=True)
            requests._log_on_documents(documents.browse([job[0].id for job in jobs]), channel)
        return requests, skipped

    @api.model
    def _send_for_document(
        self,
        document,
        purpose,
        channel,
        invoices=None,
        email=None,
        phone=None,
        save_contact=False,
        **overrides,
    ):
        """Create a request of `purpose` for one document and send its link to its customer.

        :param document: a `res.partner`, `sale.order` or `account.move` record
        :param str purpose: the purpose of the request, offered by the document
        :param str channel: 'email', 'sms' or 'both'
        :param account.move invoices: the invoices chosen for the purpose 'invoices'
        :param str email: where the link is emailed; None for the customer's address
        :param str phone: where it is texted; None for the customer's mobile, else phone
        :param bool save_contact: store `email` and `phone` on the customer
        :param overrides: what the user typed: amount, description, external_reference
        :return: the request
        :raise UserError: if the document refuses the purpose or the amount, or the address or
            number is missing or invalid
        """
        values = document._get_payment_request_values(purpose, invoices=invoices)
        if purpose == "quote":
            # A quotation is approved and paid whole: its total, whatever the form says.
            overrides.pop("amount", None)
        self._check_request_amount(
            overrides.get("amount", values["amount"]),
            values["max_amount"],
            values["currency_id"],
            document.display_name,
        )
        partner = values["partner_id"]
        email, number = partner._payment_request_check_contact(
            channel,
            partner.email if email is None else email,
            (partner.mobile or partner.phone) if phone is None else phone,
            values["company_id"],
        )
        if save_contact:
            partner._payment_request_save_contact(email, number)
        request = self.create(self._prepare_values_from_document(purpose, values, **overrides))
        recipient = partner._payment_request_get_recipient(email)
        request._send_link(channel, {request.id: recipient}, {request.id: number})
        request._log_on_documents(document, channel)
        return request

    # === ACTION METHODS === #

    def action_resend(self, channel=None, email=None, phone=None, save_contact=False):
        """Send the link of the open request again, by another channel or to another address.

        :param str channel: 'email', 'sms' or 'both'; by default how the link was last sent
        :param str email: where the link is emailed; None for the customer's address
        :param str phone: where it is texted; None for the customer's mobile, else phone
        :param bool save_contact: store `email` and `phone` on the customer
        :return: True
        :raise UserError: if the request is not open, or the address or number is missing or
            invalid
        """
        self.ensure_one()
        self._check_state(("open",), self.env._("Only open payment requests can be sent again."))
        self.check_access("write")
        partner = self.partner_id
        channel = channel or self.channel or "email"
        email, number = partner._payment_request_check_contact(
            channel,
            partner.email if email is None else email,
            (partner.mobile or partner.phone) if phone is None else phone,
            self.company_id,
        )
        if save_contact:
            partner._payment_request_save_contact(email, number)
        recipient = partner._payment_request_get_recipient(email)
        self._send_link(channel, {self.id: recipient}, {self.id: number})
        return True

    def action_amend(
        self,
        amount,
        description=None,
        external_reference=None,
        channel=None,
        email=None,
        phone=None,
    ):
        """Replace the open request by a new one that asks `amount`, and send the new link.

        The request is cancelled as replaced: its link can no longer be paid.

        :param float amount: the new amount, at most what is due on the document
        :param str description: the new description; None keeps it
        :param str external_reference: the new external reference; None keeps it
        :param str channel: 'email', 'sms' or 'both'; by default how the link was last sent
        :param str email: where the new link is emailed; None for the customer's address
        :param str phone: where it is texted; None for the customer's mobile, else phone
        :return: a window action opening the new request
        :raise UserError: if the request is not open, the amount unchanged or too high, or the
            address or number missing or invalid
        """
        self.ensure_one()
        self._check_state(("open",), self.env._("Only open payment requests can be amended."))
        self.check_access("write")
        if self.currency_id.compare_amounts(amount, self.amount) == 0:
            raise UserError(self.env._("Enter the new amount to request."))
        self._check_request_amount(amount, self._get_amount_due(), self.currency_id, self.name)
        partner = self.partner_id
        channel = channel or self.channel or "email"
        email, number = partner._payment_request_check_contact(
            channel,
            partner.email if email is None else email,
            (partner.mobile or partner.phone) if phone is None else phone,
            self.company_id,
        )
        values = {"amount": amount, "user_id": self.env.user.id}
        if description is not None:
            values["description"] = description
        if external_reference is not None:
            values["external_reference"] = external_reference
        new = self.copy(values)
        recipient = partner._payment_request_get_recipient(email)
        new._send_link(channel, {new.id: recipient}, {new.id: number})
        self.sudo().write(
            {"state": "cancelled", "cancel_reason": "replaced", "replaced_by_id": new.id}
        )
        self.message_post(
            body=Markup(
                self.env._(
                    "Amount changed from %(old)s to %(new)s: replaced by %(link)s, this link "
                    "can no longer be paid.",
                    old=format_amount(self.env, self.amount, self.currency_id),
                    new=format_amount(self.env, new.amount, new.currency_id),
                    link=new._get_html_link(),
                )
            )
        )
        return new._get_form_action()
