# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging

import requests
import stripe

from odoo import models
from odoo.exceptions import ValidationError

from odoo.addons.payment_stripe import const as stripe_const

_logger = logging.getLogger(__name__)


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    def _payment_request_stripe_call(self, resource, operation, *args, missing_ok=False, **params):
        """Call the Stripe API through the `stripe` SDK, as the provider.

        The one place where the addon talks to Stripe with the SDK (Odoo's own calls go through
        `_stripe_make_request`): same secret key, same API version, one error policy. The SDK's
        `stripe.api_base` is left to its default in production; tests point it at localstripe.

        :param str resource: the SDK resource class, e.g. 'PaymentMethod'
        :param str operation: its class method, e.g. 'retrieve' or 'detach'
        :param args: positional arguments of the operation (the object id)
        :param bool missing_ok: return None instead of raising when the object does not exist
        :param params: parameters of the operation
        :return: the Stripe object, or None if it is missing and `missing_ok`
        :raise ValidationError: with Stripe's message when the call fails
        """
        self.ensure_one()
        if self.code != "stripe" or not self.stripe_secret_key:
            raise ValidationError(
                self.env._(
                    "The provider %(provider)s has no Stripe secret key.", provider=self.name
                )
            )
        call = getattr(getattr(stripe, resource), operation)
        try:
            return call(
                *args,
                api_key=self.stripe_secret_key,
                stripe_version=stripe_const.API_VERSION,
                **params,
            )
        except stripe.InvalidRequestError as error:
            if missing_ok and error.code == "resource_missing":
                return None
            self._payment_request_stripe_error(resource, operation, args, error)
        except (stripe.StripeError, requests.exceptions.RequestException) as error:
            self._payment_request_stripe_error(resource, operation, args, error)

    def _payment_request_stripe_error(self, resource, operation, args, error):
        """Log a failed SDK call for the developer and raise it for the user.

        :raise ValidationError: Stripe out of reach (a timeout, no connection), or what Stripe
            answered when it refused
        """
        _logger.warning(
            "Stripe SDK call %s.%s%s failed: %s", resource, operation, args, error, exc_info=True
        )
        if isinstance(error, stripe.APIConnectionError | requests.exceptions.RequestException):
            raise ValidationError(
                self.env._(
                    "Stripe could not be reached (no answer in time or no connection). Nothing "
                    "was changed: try again in a few minutes."
                )
            ) from error
        raise ValidationError(
            self.env._(
                "Stripe refused the operation: %(message)s",
                message=getattr(error, "user_message", None) or str(error),
            )
        ) from error
