# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import binascii
from urllib.parse import urlencode

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import MissingError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.http import request
from odoo.tools import consteq
from odoo.tools import formatLang

from odoo.addons.payment.controllers import portal as payment_portal

from .. import const


class PaymentRequestPortal(payment_portal.PaymentPortal):
    """The public page of a payment request and the route that pays it.

    Both check the request's access token first; everything else (amount, currency, customer,
    company, documents) is read from the request itself, never from the browser.
    """

    def _get_record_sudo(self, model, record_id, access_token):
        """Return the record of `model`, in sudo mode, if the access token opens it.

        Stricter than portal's `CustomerPortal._document_check_access`, whose `consteq` check
        it shares: the token is needed even by a user who may read the record (the page is
        the customer's, opened by the link they were sent), an unknown record and a wrong
        token both answer 404 (no MissingError/AccessError to tell ids that exist), and a
        non-ASCII token or an id that is not a positive integer is refused before `consteq`
        or PostgreSQL would raise a server error.

        :raise NotFound: for an unknown record or a wrong token, so that nothing leaks
        """
        if not isinstance(access_token, str) or not access_token or not access_token.isascii():
            raise NotFound()  # consteq() raises on non-ASCII input
        if not self._is_record_id(record_id):
            raise NotFound()
        record_sudo = request.env[model].sudo().browse(record_id)
        try:
            # One query reads the record, or finds that it does not exist (no exists() first).
            record_token = record_sudo.access_token
        except MissingError:
            raise NotFound() from None
        if not record_token or not consteq(record_token, access_token):
            raise NotFound()  # Unknown record, wrong token, or a draft that has no link yet.
        return record_sudo

    @staticmethod
    def _is_record_id(value):
        """Return whether `value` can be the id of a record (a positive `int`, not a `bool`)."""
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and 0 < value <= const.MAX_RECORD_ID
        )

    @staticmethod
    def _check_text_param(value, max_length, empty_message):
        """Return the text typed by the customer, stripped, or refuse it with a clear message.

        :param value: what the browser sent
        :param int max_length: the longest text accepted
        :param str empty_message: the message when no text is given
        :raise UserError: for a missing, too long or unsavable text
        """
        if value is None or (isinstance(value, str) and not value.strip()):
            raise UserError(empty_message)
        if not isinstance(value, str) or "\x00" in value:
            raise UserError(request.env._("This text contains characters that cannot be saved."))
        if len(value) > max_length:
            raise UserError(
                request.env._("This text is too long: %(max)s characters at most.", max=max_length)
            )
        return value.strip()

    def _is_partner_logged_in(self, partner_sudo):
        """Return whether the logged-in user belongs to the partner's commercial entity."""
        user = request.env.user
        return (
            not user._is_public()
            and user.partner_id.commercial_partner_id == partner_sudo.commercial_partner_id
        )

    def _may_use_saved_cards(self, partner_sudo):
        """Return whether the logged-in user may pay with the saved cards of the partner: their
        own, or their company's; not those of a colleague of the same company."""
        user_partner = request.env.user.partner_id
        return self._is_partner_logged_in(partner_sudo) and partner_sudo in (
            user_partner,
            user_partner.commercial_partner_id,
        )

    def _check_payment_params(self, kwargs, providers_sudo, payment_methods_sudo, tokens_sudo):
        """Check what the payment form sent against the options the page offers.

        The browser chooses the provider, payment method or saved card: they must be of the
        right type and among those offered for this customer, amount, currency and company,
        never a disabled, unpublished or other company's provider, nor someone else's card.
        Normalizes `kwargs` in place for `_create_transaction`.

        :param dict kwargs: the whitelisted parameters of the transaction route
        :param payment.provider providers_sudo: the providers offered
        :param payment.method payment_methods_sudo: the payment methods offered
        :param payment.token tokens_sudo: the saved cards offered
        :raise ValidationError: for a value of the wrong type or an option not offered
        """
        flow = self._check_payment_param_types(kwargs)
        if flow == "token":
            token_id = kwargs["token_id"]
            token_sudo = tokens_sudo.filtered(lambda token: token.id == token_id)
            if not token_sudo:
                raise self._unavailable_payment_option()
            kwargs.update(
                provider_id=token_sudo.provider_id.id,
                payment_method_id=token_sudo.payment_method_id.id,
            )
        else:
            provider_id = kwargs["provider_id"]
            payment_method_id = kwargs["payment_method_id"]
            provider_sudo = providers_sudo.filtered(lambda provider: provider.id == provider_id)
            payment_method_sudo = payment_methods_sudo.filtered(
                lambda method: method.id == payment_method_id
            )
            if not provider_sudo or provider_sudo not in payment_method_sudo.provider_ids:
                raise self._unavailable_payment_option()
            kwargs["token_id"] = None

    def _check_payment_param_types(self, kwargs):
        """Check the types of what the payment form sent, before any of it is looked up.

        Normalizes `kwargs["tokenization_requested"]` in place.

        :param dict kwargs: the whitelisted parameters of the transaction route
        :return: the payment flow
        :rtype: str
        :raise ValidationError: for a value of the wrong type
        """
        invalid = ValidationError(request.env._("The payment data sent is invalid."))
        flow = kwargs.get("flow")
        if not isinstance(flow, str) or flow not in const.PAYMENT_FLOWS:
            raise invalid
        tokenization_requested = kwargs.get("tokenization_requested", False)
        if not isinstance(tokenization_requested, bool):
            raise invalid
        if kwargs.get("is_validation") not in (None, False, True):
            raise invalid
        if flow == "token":
            if not self._is_record_id(kwargs.get("token_id")):
                raise invalid
        elif not self._is_record_id(kwargs.get("provider_id")) or not self._is_record_id(
            kwargs.get("payment_method_id")
        ):
            raise invalid
        kwargs["tokenization_requested"] = tokenization_requested
        return flow

    @staticmethod
    def _unavailable_payment_option():
        """Return the error that refuses a provider, method or card that is not on offer."""
        return ValidationError(
            request.env._("This payment method is not available: choose another one.")
        )

    def _check_offered_payment_params(self, kwargs, request_sudo, amount=None):
        """Check what the payment form sent against the options that the request's page offered.

        The page signed its options (`payment.request._sign_payment_offer`) into the transaction
        route that the form posts to: the chosen provider and payment method, or saved card, must
        be among them, the signature must match, and the option must still be available
        (`_is_payment_option_available`). The page's own work (Odoo's `_get_compatible_providers`,
        `_get_compatible_payment_methods`, `_get_available_tokens`) is not done again: that is what
        made this route cost twice Odoo's own. Normalizes `kwargs` in place for
        `_create_transaction`.

        :param dict kwargs: the whitelisted parameters of the transaction route
        :param payment.request request_sudo: the request being paid, locked by `_check_payable`
        :param float amount: the amount paid, that the page signed with its options
        :raise ValidationError: for a value of the wrong type, an offer that the page did not
            make or that changed since, or an option that it does not hold or that is no longer
            available
        """
        flow = self._check_payment_param_types(kwargs)
        user = request.env.user
        options = request_sudo._check_payment_offer(
            request.httprequest.args.get("offer"),
            request.httprequest.args.get("signature"),
            user,
            amount,
        )
        if options is None:
            raise ValidationError(
                request.env._(
                    "The payment methods of this page are not available any more: reload the page."
                )
            )
        pairs, token_ids = options
        token_sudo = None
        if flow == "token":
            if kwargs["token_id"] not in token_ids:
                raise self._unavailable_payment_option()
            token_sudo = request.env["payment.token"].sudo().browse(kwargs["token_id"])
            provider_sudo = token_sudo.provider_id
            payment_method_sudo = token_sudo.payment_method_id
        else:
            if (kwargs["provider_id"], kwargs["payment_method_id"]) not in pairs:
                raise self._unavailable_payment_option()
            provider_sudo = request.env["payment.provider"].sudo().browse(kwargs["provider_id"])
            payment_method_sudo = (
                request.env["payment.method"].sudo().browse(kwargs["payment_method_id"])
            )
            kwargs["token_id"] = None
        if not request_sudo._is_payment_option_available(
            provider_sudo, payment_method_sudo, user, token=token_sudo
        ):
            raise self._unavailable_payment_option()
        kwargs.update(provider_id=provider_sudo.id, payment_method_id=payment_method_sudo.id)

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
    def payment_request_page(self, request_id, access_token=None, amount=None, **kwargs):
        """Show the request to the customer, with the payment form while it can be paid.

        :param str amount: the part the customer chose to pay, when the request allows it
        """
        request_sudo = self._get_payment_request_sudo(request_id, access_token)
        if self._is_customer_view():
            request_sudo._register_customer_view()
        return self._render_payment_request_page(request_sudo, chosen_amount=amount)

    def _is_customer_view(self):
        """Return whether the page is opened by the customer: not by staff checking the link,
        nor by a chat app or mail client making a preview of it."""
        if request.httprequest.method != "GET":
            return False  # HEAD: a link checker
        user_agent = (request.httprequest.user_agent.string or "").lower()
        if not user_agent or any(agent in user_agent for agent in const.LINK_PREVIEW_AGENTS):
            return False
        return not request.env.user._is_internal()

    def _render_payment_request_page(self, request_sudo, error_message=None, chosen_amount=None):
        """Render the customer's page of the request, with an error from a refused action.

        :param str chosen_amount: the part the customer chose to pay; refused with a message
            (and all that remains offered) when the request does not allow it
        """
        # The customer, the company and the requester shown by the page, read in one query
        # rather than one each.
        request_sudo._get_portal_partners().mapped("lang")
        if request.env.user._is_public() and request_sudo.partner_id.lang:
            # A visitor following the link reads it in the customer's language.
            request.update_context(lang=request_sudo.partner_id.lang)
            request_sudo = request_sudo.with_context(lang=request_sudo.partner_id.lang)
        if request_sudo.early_discount_date and request_sudo._get_customer_status() == "payable":
            # What the invoices ask is read at every load: a lapsed discount is never offered.
            request_sudo._check_early_discount()
        values = request_sudo._get_portal_page_values()
        values["error_message"] = error_message
        if values["payable"]:
            amount = request_sudo.amount_remaining
            if chosen_amount is not None and request_sudo.allow_partial_payment:
                try:
                    amount = request_sudo._get_payment_amount(chosen_amount)
                except ValidationError as error:
                    values["amount_error"] = error.args[0]
            values["amount_to_pay"] = amount
            values["amount_to_pay_text"] = formatLang(
                request_sudo.env,
                amount,
                digits=request_sudo.currency_id.decimal_places,
                # Odoo writes the language's decimal point only with its grouping.
                grouping=True,
            )
            values.update(self._get_payment_request_form_values(request_sudo, amount))
        return request.render("payment_request.payment_request_page", values)

    def _get_payment_request_options(self, request_sudo, report=None, amount=None):
        """Return the providers, payment methods and saved cards offered to pay the request.

        Saved cards are offered only to the customer themselves, logged in.

        :param dict report: the availability report to fill, if any
        :param float amount: the amount paid now; by default all that remains
        :return: the providers, payment methods and tokens, in sudo mode
        :rtype: tuple
        """
        partner_sudo = request_sudo.partner_id
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(
                request_sudo.company_id.id,
                partner_sudo.id,
                request_sudo.amount_remaining if amount is None else amount,
                currency_id=request_sudo.currency_id.id,
                report=report,
            )
        )
        payment_methods_sudo = (
            request.env["payment.method"]
            .sudo()
            ._get_compatible_payment_methods(
                providers_sudo.ids,
                partner_sudo.id,
                currency_id=request_sudo.currency_id.id,
                report=report,
            )
        )
        tokens_sudo = (
            request.env["payment.token"]
            .sudo()
            ._get_available_tokens(providers_sudo.ids, partner_sudo.id)
            if self._may_use_saved_cards(partner_sudo)
            else request.env["payment.token"]
        )
        return providers_sudo, payment_methods_sudo, tokens_sudo

    def _get_payment_request_form_values(self, request_sudo, amount):
        """Return the rendering values of Odoo's payment form for paying `amount` of the
        request."""
        partner_sudo = request_sudo.partner_id
        availability_report = {}
        providers_sudo, payment_methods_sudo, tokens_sudo = self._get_payment_request_options(
            request_sudo, report=availability_report, amount=amount
        )
        show_tokenize = self._compute_show_tokenize_input_mapping(providers_sudo)
        if not self._is_partner_logged_in(partner_sudo):
            show_tokenize = dict.fromkeys(show_tokenize, False)
        return {
            "reference_prefix": request_sudo.name,
            "amount": amount,
            "currency": request_sudo.currency_id,
            "partner_id": partner_sudo.id,
            "providers_sudo": providers_sudo,
            "payment_methods_sudo": payment_methods_sudo,
            "tokens_sudo": tokens_sudo,
            "availability_report": availability_report,
            "show_tokenize_input_mapping": show_tokenize,
            "transaction_route": self._get_payment_request_transaction_route(
                request_sudo, providers_sudo, payment_methods_sudo, tokens_sudo, amount
            ),
            "landing_route": request_sudo.get_portal_url(),
            "access_token": request_sudo.access_token,
        }

    def _get_payment_request_transaction_route(
        self, request_sudo, providers_sudo, payment_methods_sudo, tokens_sudo, amount
    ):
        """Return the route that the payment form posts to, with the options offered for paying
        `amount`, signed.

        Odoo's payment form posts its own fixed parameters to the route it is given: the offer
        and its signature travel in the route's query string.
        """
        offer = request_sudo._get_payment_offer(providers_sudo, payment_methods_sudo, tokens_sudo)
        signature = request_sudo._sign_payment_offer(offer, request.env.user, amount)
        query = urlencode({"offer": offer, "signature": signature}, safe=",")
        return f"/payment_request/{request_sudo.id}/transaction?{query}"

    @http.route(
        "/payment_request/<int:request_id>/transaction",
        type="json",
        auth="public",
        methods=["POST"],
    )
    def payment_request_transaction(self, request_id, access_token=None, **kwargs):
        """Create a payment attempt of the request and return its processing values.

        The currency and customer sent by the browser are ignored: they come from the request,
        which must be payable right now. So is the amount, all that remains, unless the request
        lets the customer pay part of it: the amount they chose is then checked (at least the
        minimum, at most what remains) and must be the one that the page signed. The provider
        and payment method, or saved card, must be among those that the page offered, signed in
        the route's query string (`offer`, `signature`). Paying with a saved card and saving a
        card are reserved to the customer, logged in: a forwarded link pays with a new card only.
        This is stricter than Odoo's /payment/pay, which only checks that the card is the
        customer's. A request that requires its terms is paid only with `terms_accepted` true,
        and the acceptance is recorded on it.

        :raise ValidationError: for a wrong token, a request that cannot be paid (paid, closed, or
            with another attempt under way: a second tab paying at the same moment is refused
            before any money moves, see `payment.request._lock_for_payment`), terms that the
            request requires and that were not accepted, or payment data that the page does not
            offer to whoever is paying
        """
        try:
            request_sudo = self._get_payment_request_sudo(request_id, access_token)
        except NotFound as error:
            raise ValidationError(request.env._("The access token is invalid.")) from error
        terms_accepted = self._pop_terms_accepted(kwargs)
        self._validate_transaction_kwargs(kwargs)
        if kwargs.get("is_validation"):
            raise ValidationError(request.env._("A payment request cannot save a card only."))
        is_customer = self._is_partner_logged_in(request_sudo.partner_id)
        if kwargs.get("flow") == "token" and not is_customer:
            raise ValidationError(
                request.env._("Log in with the customer's account to pay with a saved card.")
            )
        if kwargs.get("tokenization_requested") and not is_customer:
            raise ValidationError(
                request.env._("Log in with the customer's account to save a card.")
            )
        attempt = request_sudo._check_payable()
        request_sudo._check_terms_accepted(terms_accepted)
        amount = request_sudo._get_payment_amount(kwargs.get("amount"))
        self._check_offered_payment_params(kwargs, request_sudo, amount)
        self._record_payment_request_terms(request_sudo)
        values = request_sudo._get_transaction_values(amount)
        for key in ("amount", "csrf_token", "is_validation"):
            kwargs.pop(key, None)
        kwargs["landing_route"] = request_sudo.get_portal_url()
        # What `_compute_reference_prefix` would find again from `payment_request_id`.
        kwargs["reference_prefix"] = request_sudo._get_transaction_reference_prefix(attempt)
        tx_sudo = self._create_transaction(
            amount=values["amount"],
            currency_id=values["currency_id"],
            partner_id=values["partner_id"],
            custom_create_values=values["custom_create_values"],
            **kwargs,
        )
        if tx_sudo.tokenize and not is_customer:
            # A provider that requires a token (`_is_tokenization_required`) saves no card of
            # the customer for someone else either.
            tx_sudo.tokenize = False
        return tx_sudo._get_processing_values()

    @staticmethod
    def _pop_terms_accepted(kwargs):
        """Take out of the transaction route's `kwargs` whether the customer accepted the terms
        of the request: it is not a value of the transaction.

        :param dict kwargs: the parameters of the transaction route, changed in place
        :return: whether the customer ticked the box of the terms
        :rtype: bool
        :raise ValidationError: for a value that is not a boolean
        """
        accepted = kwargs.pop("terms_accepted", False)
        if not isinstance(accepted, bool):
            raise ValidationError(request.env._("The payment data sent is invalid."))
        return accepted

    def _record_payment_request_terms(self, request_sudo):
        """Record on the request the customer's acceptance of its terms, if it requires them:
        from the address (Odoo's proxy mode reads it from the proxy's headers) and the browser
        of this HTTP request."""
        httprequest = request.httprequest
        request_sudo._record_terms_acceptance(
            httprequest.remote_addr, httprequest.user_agent.string
        )

    @http.route(
        "/payment_request/<int:request_id>/approve", type="json", auth="public", methods=["POST"]
    )
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
            name = self._check_text_param(
                name,
                const.MAX_NAME_LENGTH,
                request.env._("Enter your name to sign the quotation."),
            )
            if signature and (
                not isinstance(signature, str) or len(signature) > const.MAX_SIGNATURE_LENGTH
            ):
                return {"error": request.env._("Invalid signature data.")}
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
            reason = self._check_text_param(
                decline_reason,
                const.MAX_REASON_LENGTH,
                request.env._("Tell us why you decline the quotation."),
            )
            with request.env.cr.savepoint():
                request_sudo._decline_quote(reason)
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
        """Download the PDF receipt of a paid request, or of a part paid."""
        request_sudo = self._get_payment_request_sudo(request_id, access_token)
        if request_sudo.state != "paid" and not request_sudo.amount_paid:
            raise NotFound()
        return self._show_report(
            model=request_sudo,
            report_type="pdf",
            report_ref="payment_request.action_report_payment_request_receipt",
            download=True,
        )
