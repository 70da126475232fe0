# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Terms and conditions: a request may ask its customer to accept the company's terms before
paying; the acceptance (when, from which address and browser) is kept on the request."""

from markupsafe import Markup

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError

from .. import const


class PaymentRequest(models.Model):
    # One concern of the model per file, as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    terms_required = fields.Boolean(
        string="Customer must accept the terms",
        compute="_compute_terms_required",
        store=True,
        readonly=False,
        precompute=True,
        tracking=True,
        help="The customer ticks a box accepting the company's terms and conditions before "
        "paying. By default, as set for the company.",
    )
    terms_accepted_date = fields.Datetime(
        string="Terms Accepted On",
        readonly=True,
        copy=False,
        help="When the customer first accepted the terms and conditions, on paying.",
    )
    terms_accepted_ip = fields.Char(
        string="Terms Accepted From",
        readonly=True,
        copy=False,
        help="The IP address from which the customer accepted the terms and conditions.",
    )
    terms_accepted_user_agent = fields.Char(
        string="Browser",
        readonly=True,
        copy=False,
        help="The browser (user agent) with which the customer accepted the terms and conditions.",
    )

    # === COMPUTE METHODS === #

    @api.depends("company_id")
    def _compute_terms_required(self):
        for request in self:
            request.terms_required = request.company_id.payment_request_terms_required

    # === CONSTRAINT METHODS === #

    @api.constrains("terms_required", "company_id")
    def _check_terms_url(self):
        for request in self:
            if request.terms_required and not request._get_terms_url():
                raise ValidationError(
                    self.env._(
                        "Payment request %(name)s asks the customer to accept the terms and "
                        "conditions: enter the address of %(company)s's terms in Settings > "
                        "Payment Requests first.",
                        name=request.name,
                        company=request.company_id.name,
                    )
                )

    # === BUSINESS METHODS === #

    def _get_terms_url(self):
        """Return the address of the terms and conditions that the customer accepts.

        :rtype: str
        """
        self.ensure_one()
        return self.company_id.payment_request_terms_url or ""

    def _check_terms_accepted(self, accepted):
        """Refuse a payment of a request whose terms the customer did not accept.

        :param bool accepted: whether the customer ticked the box of the terms
        :raise ValidationError: if the request requires the terms and they were not accepted
        """
        self.ensure_one()
        if self.terms_required and accepted is not True:
            raise ValidationError(
                self.env._("Accept the terms and conditions to pay this request.")
            )

    def _record_terms_acceptance(self, ip_address, user_agent):
        """Keep the customer's acceptance of the terms: when, from which address and browser.

        The first acceptance is kept: a new attempt after a declined card accepts the same
        terms again, and does not change when they were first accepted. It is noted in the
        chatter once.

        :param str ip_address: the customer's IP address
        :param str user_agent: the User-Agent header of the customer's browser
        :return: whether the acceptance was recorded now
        :rtype: bool
        """
        self.ensure_one()
        if not self.terms_required or self.terms_accepted_date:
            return False
        ip_address = self._clean_terms_text(ip_address, const.TERMS_IP_MAX_LENGTH)
        user_agent = self._clean_terms_text(user_agent, const.TERMS_USER_AGENT_MAX_LENGTH)
        request = self.sudo()
        request.write(
            {
                "terms_accepted_date": fields.Datetime.now(),
                "terms_accepted_ip": ip_address or False,
                "terms_accepted_user_agent": user_agent or False,
            }
        )
        request._message_log(
            body=Markup("<p>%s</p>")
            % self.env._(
                "Terms and conditions accepted by the customer from %(ip)s (%(browser)s).",
                ip=ip_address or self.env._("an unknown address"),
                browser=user_agent or self.env._("unknown browser"),
            ),
            author_id=self.env.ref("base.partner_root").id,
        )
        return True

    @api.model
    def _clean_terms_text(self, value, max_length):
        """Return `value` as it can be saved: text without NUL characters, at most
        `max_length` characters long."""
        if not isinstance(value, str):
            return ""
        return value.replace("\x00", "").strip()[:max_length]
