# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import binascii

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.http import request
from odoo.tools import consteq

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.controllers import portal as payment_portal


class PaymentRequestPortal(payment_portal.PaymentPortal):
    """The public page of a payment request and the route that pays it.

    Both check the request's access token first; everything else (amount, currency, customer,
    company, documents) is read from the request itself, never from the browser.
    """

    def _get_record_sudo(self, model, record_id, access_token):
        """Return the record of `model`, in sudo mode, if the access token opens it.

        :raise NotFound: for an unknown record or a wrong token, so that nothing leaks
        """
        if not access_token or not access_token.isascii():
            raise NotFound()  # consteq() raises on non-ASCII input
        record_sudo = request.env[model].sudo().browse(record_id).exists()
        if not record_sudo.access_token or not consteq(record_sudo.access_token, access_token):
            raise NotFound()  # Unknown record, wrong token, or a draft that has no link yet.
        return record_sudo

    def _get_payment_request_sudo(self, request_id, access_token):
        """Return the payment request, in sudo mode, if the access token opens it."""
        return self._get_record_sudo("payment.request", request_id, access_token)

    @http.route(
        "/payment_request/<int:request_id>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def payment_request_page(self, request_id, access_token=None, **kwargs):
        """Show the request to the customer, with the payment form while it can be paid."""
        request_sudo = self._get_payment_request_sudo(request_id, access_token)
        return self._render_payment_request_page(request_sudo)

    def _render_payment_request_page(self, request_sudo, error_message=None):
        """Render the customer's page of the request, with an error from a refused action."""
        if request.env.user._is_public() and request_sudo.partner_id.lang:
            # A visitor following the link reads it in the customer's language.
            request.update_context(lang=request_sudo.partner_id.lang)
            request_sudo = request_sudo.with_context(lang=request_sudo.partner_id.lang)
        values = request_sudo._get_portal_page_values()
        values["error_message"] = error_message
        if values["payable"]:
            values.update(self._get_payment_request_form_values(request_sudo))
        return request.render("payment_request.payment_request_page", values)

    def _get_payment_request_form_values(self, request_sudo):
        """Return the rendering values of Odoo's payment form for the request."""
        partner_sudo = request_sudo.partner_id
        user = request.env.user
        # Saved cards are offered only to the customer themselves, logged in.
        is_customer = (
            not user._is_public()
            and user.partner_id.commercial_partner_id == partner_sudo.commercial_partner_id
        )
        availability_report = {}
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(
                request_sudo.company_id.id,
                partner_sudo.id,
                request_sudo.amount,
                currency_id=request_sudo.currency_id.id,
                report=availability_report,
            )
        )
        payment_methods_sudo = (
            request.env["payment.method"]
            .sudo()
            ._get_compatible_payment_methods(
                providers_sudo.ids,
                partner_sudo.id,
                currency_id=request_sudo.currency_id.id,
                report=availability_report,
            )
        )
        tokens_sudo = (
            request.env["payment.token"]
            .sudo()
            ._get_available_tokens(providers_sudo.ids, partner_sudo.id)
            if is_customer
            else request.env["payment.token"]
        )
        show_tokenize = self._compute_show_tokenize_input_mapping(providers_sudo)
        if not is_customer:
            show_tokenize = dict.fromkeys(show_tokenize, False)
        return {
            "reference_prefix": request_sudo.name,
            "amount": request_sudo.amount,
            "currency": request_sudo.currency_id,
            "partner_id": partner_sudo.id,
            "providers_sudo": providers_sudo,
            "payment_methods_sudo": payment_methods_sudo,
            "tokens_sudo": tokens_sudo,
            "availability_report": availability_report,
            "show_tokenize_input_mapping": show_tokenize,
            "transaction_route": f"/payment_request/{request_sudo.id}/transaction",
            "landing_route": request_sudo.get_portal_url(),
            "access_token": request_sudo.access_token,
        }

    @http.route("/payment_request/<int:request_id>/transaction", type="json", auth="public")
    def payment_request_transaction(self, request_id, access_token=None, **kwargs):
        """Create a payment attempt of the request and return its processing values.

        The amount, currency and customer sent by the browser are ignored: they come from the
        request, which must be payable right now.

        :raise ValidationError: for a wrong token or a request that cannot be paid
        """
        try:
            request_sudo = self._get_payment_request_sudo(request_id, access_token)
        except NotFound as error:
            raise ValidationError(request.env._("The access token is invalid.")) from error
        self._validate_transaction_kwargs(kwargs)
        if kwargs.get("is_validation"):
            raise ValidationError(request.env._("A payment request cannot save a card only."))
        request_sudo._check_payable()
        values = request_sudo._get_transaction_values()
        kwargs.pop("amount", None)
        kwargs.pop("csrf_token", None)
        kwargs["landing_route"] = request_sudo.get_portal_url()
        if request.env.user._is_public():
            kwargs["tokenization_requested"] = False
        tx_sudo = self._create_transaction(
            amount=values["amount"],
            currency_id=values["currency_id"],
            partner_id=values["partner_id"],
            custom_create_values=values["custom_create_values"],
            **kwargs,
        )
        return tx_sudo._get_processing_values()

    @http.route("/payment_request/<int:request_id>/approve", type="json", auth="public")
    def payment_request_approve(self, request_id, access_token=None, name=None, signature=None):
        """Approve the request's quotation with the customer's signature (portal signature form).

        :return: what Odoo's signature form expects: an error, or where to go next
        :rtype: dict
        """
        access_token = access_token or request.httprequest.args.get("access_token")
        try:
            request_sudo = self._get_payment_request_sudo(request_id, access_token)
        except NotFound:
            return {"error": request.env._("This link is invalid.")}
        try:
            with request.env.cr.savepoint():
                request_sudo._approve_quote(name, signature)
        except UserError as error:
            return {"error": error.args[0]}
        except (TypeError, ValueError, binascii.Error):
            return {"error": request.env._("Invalid signature data.")}
        return {"force_refresh": True, "redirect_url": request_sudo.get_portal_url()}

    @http.route(
        "/payment_request/<int:request_id>/decline",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
        sitemap=False,
    )
    def payment_request_decline(self, request_id, access_token=None, decline_reason=None, **kw):
        """Decline the request's quotation; a reason is required."""
        request_sudo = self._get_payment_request_sudo(request_id, access_token)
        try:
            with request.env.cr.savepoint():
                request_sudo._decline_quote(decline_reason)
        except UserError as error:
            return self._render_payment_request_page(request_sudo, error_message=error.args[0])
        return request.redirect(request_sudo.get_portal_url())

    @http.route(
        "/payment_request/<int:request_id>/receipt",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def payment_request_receipt(self, request_id, access_token=None, **kwargs):
        """Download the PDF receipt of a paid request."""
        request_sudo = self._get_payment_request_sudo(request_id, access_token)
        if request_sudo.state != "paid":
            raise NotFound()
        return self._show_report(
            model=request_sudo,
            report_type="pdf",
            report_ref="payment_request.action_report_payment_request_receipt",
            download=True,
        )

    # === CARD REQUESTS === #

    def _get_card_request_sudo(self, card_request_id, access_token):
        """Return the card request, in sudo mode, if the access token opens it."""
        return self._get_record_sudo("payment.card.request", card_request_id, access_token)

    @http.route(
        "/payment_request/card/<int:card_request_id>",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
    )
    def payment_card_request_page(self, card_request_id, access_token=None, **kwargs):
        """Show the provider's form that saves a card of the customer, without a payment."""
        card_request_sudo = self._get_card_request_sudo(card_request_id, access_token)
        partner_sudo = card_request_sudo.partner_id
        if request.env.user._is_public() and partner_sudo.lang:
            request.update_context(lang=partner_sudo.lang)
        values = {
            "card_request": card_request_sudo,
            "company": card_request_sudo.company_id,
            "page_title": request.env._("Save a card"),
        }
        if card_request_sudo.state == "open":
            values.update(self._get_card_request_form_values(card_request_sudo))
        return request.render("payment_request.payment_card_request_page", values)

    def _get_card_request_form_values(self, card_request_sudo):
        """Return the values of Odoo's payment form in validation mode, as /my/payment_method.

        Tokenization is forced: the form only saves a card; no saved card is offered.
        """
        partner_sudo = card_request_sudo.partner_id
        availability_report = {}
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(
                card_request_sudo.company_id.id,
                partner_sudo.id,
                0.0,
                force_tokenization=True,
                is_validation=True,
                report=availability_report,
            )
        )
        payment_methods_sudo = (
            request.env["payment.method"]
            .sudo()
            ._get_compatible_payment_methods(
                providers_sudo.ids,
                partner_sudo.id,
                force_tokenization=True,
                report=availability_report,
            )
        )
        return {
            "mode": "validation",
            "allow_token_selection": False,
            "allow_token_deletion": False,
            "reference_prefix": payment_utils.singularize_reference_prefix(prefix="V"),
            "partner_id": partner_sudo.id,
            "providers_sudo": providers_sudo,
            "payment_methods_sudo": payment_methods_sudo,
            "tokens_sudo": request.env["payment.token"],
            "availability_report": availability_report,
            "transaction_route": f"/payment_request/card/{card_request_sudo.id}/transaction",
            "landing_route": card_request_sudo.get_portal_url(),
            "access_token": card_request_sudo.access_token,
        }

    @http.route(
        "/payment_request/card/<int:card_request_id>/transaction", type="json", auth="public"
    )
    def payment_card_request_transaction(self, card_request_id, access_token=None, **kwargs):
        """Create the validation transaction that saves the card and return its processing
        values. The customer comes from the card request, never from the browser.

        :raise ValidationError: for a wrong token or a request that is no longer open
        """
        try:
            card_request_sudo = self._get_card_request_sudo(card_request_id, access_token)
        except NotFound as error:
            raise ValidationError(request.env._("The access token is invalid.")) from error
        if card_request_sudo.state != "open":
            raise ValidationError(request.env._("This link was already used to save a card."))
        self._validate_transaction_kwargs(kwargs, additional_allowed_keys=("reference_prefix",))
        if kwargs.get("flow") == "token":
            raise ValidationError(request.env._("Enter a new card to save it."))
        for key in ("amount", "csrf_token", "is_validation"):
            kwargs.pop(key, None)
        kwargs.update(
            tokenization_requested=True,
            landing_route=card_request_sudo.get_portal_url(),
        )
        tx_sudo = self._create_transaction(
            amount=None,
            currency_id=None,
            partner_id=card_request_sudo.partner_id.id,
            is_validation=True,
            custom_create_values={"payment_card_request_id": card_request_sudo.id},
            **kwargs,
        )
        return tx_sudo._get_processing_values()
