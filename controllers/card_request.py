# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The public page that saves a customer's card without a payment (payment.card.request)."""

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import ValidationError
from odoo.http import request

from odoo.addons.payment import utils as payment_utils

from .portal import PaymentRequestPortal


class PaymentCardRequestPortal(PaymentRequestPortal):
    """The card request's page and the validation transaction it creates.

    It inherits the payment request's controller for its token check and the strict checks of
    the payment data; like it, it reads the customer from the card request, never from the
    browser.
    """

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
        # A third party logged in is told to log out, not shown a form that would refuse them.
        values["third_party"] = not self._may_save_card(card_request_sudo)
        if card_request_sudo.state == "open" and not values["third_party"]:
            values.update(self._get_card_request_form_values(card_request_sudo))
        return request.render("payment_request.payment_card_request_page", values)

    def _get_card_request_options(self, card_request_sudo, report=None):
        """Return the providers and payment methods offered to save a card of the customer.

        :param dict report: the availability report to fill, if any
        :return: the providers and payment methods, in sudo mode
        :rtype: tuple
        """
        partner_sudo = card_request_sudo.partner_id
        providers_sudo = (
            request.env["payment.provider"]
            .sudo()
            ._get_compatible_providers(
                card_request_sudo.company_id.id,
                partner_sudo.id,
                0.0,
                force_tokenization=True,
                is_validation=True,
                report=report,
            )
        )
        payment_methods_sudo = (
            request.env["payment.method"]
            .sudo()
            ._get_compatible_payment_methods(
                providers_sudo.ids,
                partner_sudo.id,
                force_tokenization=True,
                report=report,
            )
        )
        return providers_sudo, payment_methods_sudo

    def _get_card_request_form_values(self, card_request_sudo):
        """Return the values of Odoo's payment form in validation mode, as /my/payment_method.

        Tokenization is forced: the form only saves a card; no saved card is offered.
        """
        availability_report = {}
        providers_sudo, payment_methods_sudo = self._get_card_request_options(
            card_request_sudo, report=availability_report
        )
        return {
            "mode": "validation",
            "allow_token_selection": False,
            "allow_token_deletion": False,
            "reference_prefix": payment_utils.singularize_reference_prefix(prefix="V"),
            "partner_id": card_request_sudo.partner_id.id,
            "providers_sudo": providers_sudo,
            "payment_methods_sudo": payment_methods_sudo,
            "tokens_sudo": request.env["payment.token"],
            "availability_report": availability_report,
            "transaction_route": f"/payment_request/card/{card_request_sudo.id}/transaction",
            "landing_route": card_request_sudo.get_portal_url(),
            "access_token": card_request_sudo.access_token,
        }

    def _may_save_card(self, card_request_sudo):
        """Return whether the current user may save a card onto the card request's customer.

        The link is sent to the customer, who saves a card without logging in; the customer
        may also be logged in, and staff with the Customer cards group open the page for a
        customer who is present. Anyone else logged in is a third party.
        """
        user = request.env.user
        if user._is_public() or self._is_partner_logged_in(card_request_sudo.partner_id):
            return True
        return user.has_group("payment_request.group_customer_cards") and (
            card_request_sudo.with_user(user).has_access("read")
        )

    @http.route(
        "/payment_request/card/<int:card_request_id>/transaction",
        type="json",
        auth="public",
        methods=["POST"],
    )
    def payment_card_request_transaction(self, card_request_id, access_token=None, **kwargs):
        """Create the validation transaction that saves the card and return its processing
        values. The customer comes from the card request, never from the browser, and only
        the customer (or staff with the Customer cards group) may save a card there.

        :raise ValidationError: for a wrong token, a request that is no longer open, a logged-in
            third party, or payment data the page does not offer
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
        if not self._may_save_card(card_request_sudo):
            raise ValidationError(
                request.env._(
                    "You are logged in with another account: log out to save a card with this link."
                )
            )
        kwargs["tokenization_requested"] = True
        self._check_payment_params(
            kwargs, *self._get_card_request_options(card_request_sudo), request.env["payment.token"]
        )
        for key in ("amount", "csrf_token", "is_validation"):
            kwargs.pop(key, None)
        kwargs.update(
            # Named by the server, not by the browser.
            reference_prefix=payment_utils.singularize_reference_prefix(prefix="V"),
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
