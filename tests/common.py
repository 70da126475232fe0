# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import importlib.util
import socket
import subprocess
import sys
import time
from unittest.mock import patch

import requests
import stripe

from odoo import Command
from odoo.tests import TransactionCase

from odoo.addons.mail.tests.common import mail_new_test_user
from odoo.addons.payment_stripe import const as stripe_const
from odoo.addons.payment_stripe.models import payment_provider as stripe_provider_module


class PaymentRequestCommon(TransactionCase):
    """Companies, users of each kind and customers shared by the payment request tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.company = cls.env.company
        cls.company_2 = cls.env["res.company"].create(
            {"name": "Second Company", "currency_id": cls.env.ref("base.CAD").id}
        )
        both = [(6, 0, (cls.company | cls.company_2).ids)]
        cls.salesman = mail_new_test_user(
            cls.env,
            login="pr_salesman",
            name="Sally Salesman",
            groups="sales_team.group_sale_salesman,base.group_partner_manager",
            company_id=cls.company.id,
            company_ids=both,
        )
        cls.salesman_2 = mail_new_test_user(
            cls.env,
            login="pr_salesman_2",
            name="Sam Salesman",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        cls.biller = mail_new_test_user(
            cls.env,
            login="pr_biller",
            name="Bill Biller",
            groups="account.group_account_invoice,base.group_partner_manager",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        cls.manager = mail_new_test_user(
            cls.env,
            login="pr_manager",
            name="Mona Manager",
            groups="payment_request.group_payment_manager",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        cls.employee = mail_new_test_user(
            cls.env,
            login="pr_employee",
            name="Emma Employee",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        cls.portal_user = mail_new_test_user(
            cls.env, login="pr_portal", name="Paul Portal", groups="base.group_portal"
        )
        cls.public_user = cls.env.ref("base.public_user")
        cls.customer = cls.env["res.partner"].create(
            {"name": "Claire Customer", "email": "claire@example.com"}
        )
        cls.customer_contact = cls.env["res.partner"].create(
            {"name": "Colin Contact", "parent_id": cls.customer.id, "type": "invoice"}
        )
        cls.customer_2 = cls.env["res.partner"].create({"name": "Dan Debtor"})

    @classmethod
    def _create_request(cls, user=None, **values):
        """Create a request as `user` (the salesman by default)."""
        vals = {"partner_id": cls.customer.id, "amount": 100.0, "purpose": "free"}
        vals.update(values)
        return cls.env["payment.request"].with_user(user or cls.salesman).create(vals)


class CustomerCardsCommon(PaymentRequestCommon):
    """A user with the Customer cards right, the demo provider with tokens, and orders."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.card_user = mail_new_test_user(
            cls.env,
            login="pr_card_user",
            name="Carla Cards",
            groups="sales_team.group_sale_salesman_all_leads,account.group_account_invoice,"
            "base.group_partner_manager,payment_request.group_customer_cards",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        cls.demo_provider = cls.env.ref("payment.payment_provider_demo")
        cls.demo_provider.write({"state": "test", "is_published": True, "allow_tokenization": True})
        cls.demo_method = cls.env.ref("payment_demo.payment_method_demo")
        cls.customer.write({"mobile": "+32 470 12 34 56", "country_id": cls.env.ref("base.be").id})
        cls.product = cls.env["product.product"].create(
            {"name": "Storage unit (month)", "list_price": 150.0, "invoice_policy": "order"}
        )

    @classmethod
    def _create_demo_token(cls, partner=None, simulated_state="done", **values):
        return (
            cls.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": cls.demo_provider.id,
                    "payment_method_id": cls.demo_method.id,
                    "payment_details": "4242",
                    "partner_id": (partner or cls.customer).id,
                    "provider_ref": "demo-token",
                    "demo_simulated_state": simulated_state,
                    **values,
                }
            )
        )

    @classmethod
    def _create_order(cls, token=None, autopay=False, user=None):
        """Create a confirmed order of the customer, paid with `token` if given."""
        order = cls.env["sale.order"].create(
            {
                "partner_id": cls.customer.id,
                "partner_invoice_id": cls.customer.id,
                "user_id": (user or cls.card_user).id,
                "order_line": [Command.create({"product_id": cls.product.id})],
            }
        )
        order.action_confirm()
        if token:
            order.write({"payment_request_use_card": True, "payment_request_token_id": token.id})
        if autopay:
            order.with_user(cls.card_user).action_enable_autopay()
        return order


class LocalStripe:
    """A localstripe server (a Stripe-compatible fake, on PyPI) on a free local port.

    The `stripe` SDK and Odoo's own Stripe requests are pointed at it, so the code that talks to
    Stripe runs against a real HTTP API rather than mocks.
    """

    SECRET_KEY = "sk_test_payment_request_localstripe"

    def __init__(self):
        self.process = None
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30):
        """Start the server and wait until it answers.

        :raise RuntimeError: if localstripe is not installed or does not start (the tests that
            need it fail rather than being skipped: it is a test dependency of the addon)
        """
        if importlib.util.find_spec("localstripe") is None:
            raise RuntimeError("localstripe is not installed: pip install localstripe")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(  # noqa: S603 - fixed command, no user input
            [
                sys.executable,
                "-c",
                "import sys; from localstripe.server import start; sys.exit(start())",
                "--port",
                str(self.port),
                "--from-scratch",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localstripe exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"localstripe did not answer on port {self.port} in {timeout}s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _options(self):
        return {"api_key": self.SECRET_KEY, "stripe_version": stripe_const.API_VERSION}

    def create_card(
        self,
        number="4242424242424242",
        exp_month=12,
        exp_year=2031,
        name="Claire Customer",
        postal_code="75001",
    ):
        """Save a card at localstripe, as Stripe.js does in the customer's browser.

        :return: the Stripe customer id and the attached PaymentMethod (as a dict)
        """
        customer = stripe.Customer.create(email="claire@example.com", **self._options())
        payment_method = stripe.PaymentMethod.create(
            type="card",
            card={"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": "123"},
            billing_details={"name": name, "address": {"postal_code": postal_code}},
            **self._options(),
        )
        payment_method = stripe.PaymentMethod.attach(
            payment_method.id, customer=customer.id, **self._options()
        )
        return customer.id, payment_method.to_dict()

    def retrieve_payment_method(self, payment_method_id):
        return stripe.PaymentMethod.retrieve(payment_method_id, **self._options())


class LocalStripeCommon(CustomerCardsCommon):
    """Odoo's Stripe provider in test mode, talking to a localstripe server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.localstripe = LocalStripe().start()
        cls.addClassCleanup(cls.localstripe.stop)
        # The SDK's own knob, left to Stripe's default outside the tests.
        api_base = patch.object(stripe, "api_base", cls.localstripe.url)
        api_base.start()
        cls.addClassCleanup(api_base.stop)
        # payment_stripe calls a fixed https://api.stripe.com/v1/: send it to localstripe.
        cls.stripe_requests = _RedirectedRequests(cls.localstripe.url)
        stripe_requests = patch.object(stripe_provider_module, "requests", cls.stripe_requests)
        stripe_requests.start()
        cls.addClassCleanup(stripe_requests.stop)
        cls.stripe_provider = cls.env.ref("payment.payment_provider_stripe")
        cls.stripe_provider.write(
            {
                "state": "test",
                "stripe_secret_key": LocalStripe.SECRET_KEY,
                "stripe_publishable_key": "pk_test_payment_request_localstripe",
                "allow_tokenization": True,
                "is_published": True,
                "payment_method_ids": [Command.set(cls.env.ref("payment.payment_method_card").ids)],
            }
        )
        cls.env.ref("payment.payment_method_card").active = True

    @classmethod
    def _tokenize_stripe_card(cls, partner=None, **card):
        """Save a card at localstripe, then let Odoo's Stripe module create its token from the
        notification of a validation transaction, as after the customer's SetupIntent.

        :return: the token
        """
        partner = partner or cls.customer
        customer_id, payment_method = cls.localstripe.create_card(**card)
        tx = (
            cls.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": cls.stripe_provider.id,
                    "payment_method_id": cls.env.ref("payment.payment_method_card").id,
                    "reference": cls.env["payment.transaction"]._compute_reference("stripe"),
                    "amount": 0.0,
                    "currency_id": cls.env.company.currency_id.id,
                    "partner_id": partner.id,
                    "operation": "validation",
                    "tokenize": True,
                }
            )
        )
        tx._stripe_tokenize_from_notification_data(
            {"payment_method": payment_method, "setup_intent": {"customer": customer_id}}
        )
        return tx.token_id


class _RedirectedRequests:
    """The `requests` module as payment_stripe uses it, with Stripe's URL sent elsewhere."""

    exceptions = requests.exceptions
    # PaymentIntent parameters that localstripe rejects ("Unexpected ...") and that change nothing
    # to the charge: the statement description and the shipping address.
    UNSUPPORTED_INTENT_KEYS = ("description", "shipping")

    def __init__(self, base_url):
        self.base_url = base_url
        # Stripe answers a POST sent again with the same Idempotency-Key with the response of the
        # first one, without doing anything; localstripe ignores the header: done here.
        self.idempotent_responses = {}
        self.idempotency_keys = []

    def request(self, method, url, data=None, timeout=60, headers=None, **kwargs):
        url = url.replace("https://api.stripe.com", self.base_url, 1)
        if url.endswith("/v1/payment_intents") and data:
            data = {
                key: value
                for key, value in data.items()
                if not key.startswith(self.UNSUPPORTED_INTENT_KEYS)
            }
        key = (headers or {}).get("Idempotency-Key")
        if method == "POST" and key:
            self.idempotency_keys.append(key)
            if (url, key) in self.idempotent_responses:
                return self.idempotent_responses[url, key]
        response = requests.request(
            method, url, data=data, timeout=timeout, headers=headers, **kwargs
        )
        if method == "POST" and key and response.status_code < 500:
            self.idempotent_responses[url, key] = response
        return response

    def post(self, url, **kwargs):
        return self.request("POST", url, **kwargs)
