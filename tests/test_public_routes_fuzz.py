# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Property-based tests of the public routes: whatever a browser (or an attacker) sends, the
answer is never a server error nor a traceback, and bad input writes nothing.

Each route is called with values drawn by `hypothesis`: missing keys, values of the wrong JSON
type (lists, dicts, numbers, null), huge strings, negative and huge ids, non-ASCII text and NUL
bytes, other HTTP methods and, on the form route, a missing CSRF token. The draws are
derandomized so that a run is reproducible, and every example runs in a savepoint rolled back
afterwards, so that a valid input that pays or approves does not change the next example.
"""

import json
import logging
from urllib.parse import parse_qs
from urllib.parse import quote
from urllib.parse import urlsplit

from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from odoo import fields
from odoo import http
from odoo.tests import tagged
from odoo.tools import mute_logger

from .test_quote_approval import SIGNATURE
from .test_quote_approval import QuoteCommon

_logger = logging.getLogger(__name__)

FUZZ_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    derandomize=True,
    # Shrinking replays hundreds of HTTP calls: the first failing input is reported as is.
    phases=(Phase.explicit, Phase.generate),
    print_blob=False,
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)
# What a JSON route may answer as an error: a message for the user, or "not found".
EXPECTED_JSON_ERRORS = {
    "odoo.exceptions.AccessError",
    "odoo.exceptions.UserError",
    "odoo.exceptions.ValidationError",
    "werkzeug.exceptions.NotFound",
}
MISSING = object()
ONE_MB = 1024 * 1024

# Values of every JSON type, small and huge, with non-ASCII characters and NUL bytes.
TEXT = st.text(max_size=40)  # any Unicode character but surrogates, NUL included
HUGE_TEXT = st.sampled_from(["r" * ONE_MB, "\x00" * 1000, "é" * 100_000, "A" * 5 * ONE_MB])
INTEGERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**31 - 1, 2**63, 10**30]),
)
JSON_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    INTEGERS,
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
    HUGE_TEXT,
    st.lists(st.one_of(INTEGERS, TEXT), max_size=3),
    st.dictionaries(TEXT, st.one_of(INTEGERS, TEXT), max_size=2),
)
# Path segments: the record's own id is added by each test. No NUL byte in paths: an URL that
# matches no route and holds %00 gets a 500 from Odoo itself (ir.http's fallback looks the URL
# up in ir.attachment, and PostgreSQL refuses NUL), before any route of this addon.
BAD_PATH_IDS = st.one_of(
    st.sampled_from(["0", "-1", "-5", str(2**31), str(2**63), str(10**30), "1.5", "abc", "é"]),
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    TEXT.filter(lambda text: text and "/" not in text and "\x00" not in text).map(
        lambda text: quote(text, safe="")
    ),
)
QUERY_JUNK = st.one_of(TEXT, st.sampled_from(["x" * 8000, "\x00", "é", "' OR 1=1 --"]))


def _maybe(valid, junk=JSON_JUNK):
    """A strategy for a key: its valid value, a wrong one, or missing."""
    return st.one_of(st.just(valid), junk, st.just(MISSING))


def _params(**strategies):
    """A strategy for a dict of parameters, leaving out the keys drawn as MISSING."""
    return st.fixed_dictionaries(strategies).map(
        lambda drawn: {key: value for key, value in drawn.items() if value is not MISSING}
    )


@tagged("post_install", "-at_install")
class TestPublicRoutesFuzz(QuoteCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.allow_tokenization = True
        cls.paid = cls._create_request(amount=40.0, description="Paid already")
        cls.paid.action_open()
        cls.paid.sudo().write({"state": "paid", "paid_date": fields.Datetime.now()})
        cls.card_request = cls.env["payment.card.request"].create({"partner_id": cls.customer.id})
        cls.card_request._portal_ensure_token()
        cls.token = cls.env["payment.token"].create(
            {
                "provider_id": cls.provider.id,
                "payment_method_id": cls.method.id,
                "partner_id": cls.customer.id,
                "payment_details": "4242",
                "provider_ref": "demo-token",
            }
        )

    def setUp(self):
        super().setUp()
        self.tried = 0
        self.authenticate(None, None)  # a visitor's session, for its CSRF token
        self.transaction_route = self._transaction_route(self.request)

    # === HELPERS === #

    def _snapshot(self):
        """Return what a refused call must leave as it was."""
        self.env.invalidate_all()
        sudo = self.env(su=True)
        return {
            "transactions": sudo["payment.transaction"].search_count([]),
            "messages": sudo["mail.message"].search_count([]),
            "mails": sudo["mail.mail"].search_count([]),
            "tokens": sudo["payment.token"].with_context(active_test=False).search_count([]),
            "requests": sudo["payment.request"]
            .search([])
            .read(["state", "decline_reason", "is_read", "invoice_ids"]),
            "orders": sudo["sale.order"].search([]).read(["state", "signed_by", "signature"]),
            "card_requests": sudo["payment.card.request"].search([]).read(["state", "token_id"]),
        }

    def _call(self, method, path, params=None, data=None, json_params=MISSING):
        """Send one request as the browser would; return the response."""
        kwargs = {"params": params, "timeout": 60, "allow_redirects": False}
        if json_params is not MISSING:
            kwargs["data"] = json.dumps(
                {"jsonrpc": "2.0", "method": "call", "id": 1, "params": json_params}
            )
            kwargs["headers"] = {"Content-Type": "application/json"}
        elif data is not None:
            kwargs["data"] = data
        return self.opener.request(method, self.base_url() + path, **kwargs)

    def _check(self, valid, call):
        """Run `call` in a savepoint rolled back afterwards and check the answer.

        :param bool valid: whether the input is a valid one, which may write
        :param call: a function that sends the request and returns the response
        :return: the response, and its JSON-RPC answer for a JSON one
        """
        self.tried += 1
        self.env.flush_all()
        before = self._snapshot()
        savepoint = self.env.cr.savepoint(flush=False)
        try:
            response = call()
            self.assertLess(response.status_code, 500, response.text[:2000])
            answer = None
            if response.headers.get("Content-Type", "").startswith("application/json"):
                answer = response.json()
                error = answer.get("error")
                if error:
                    self.assertIn(error["data"]["name"], EXPECTED_JSON_ERRORS, error["data"])
            else:
                self.assertNotIn("Traceback", response.text)
            succeeded = response.status_code in (200, 303) and not (answer or {}).get("error")
            if not valid:
                self.assertEqual(self._snapshot(), before)
            return response, answer, succeeded
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all()

    def _log_count(self, route):
        # How much each route was fuzzed: make test-odoo REUSE_DB=1
        # ODOO_TEST_ARGS="-k test_public_routes_fuzz -s --odoo-log-level=info"
        _logger.info("Fuzzed %s with %s inputs", route, self.tried)

    def _path_id(self, data, record):
        return data.draw(st.one_of(st.just(str(record.id)), BAD_PATH_IDS), label="path id")

    def _method(self, data, usual):
        others = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
        return data.draw(st.one_of(st.just(usual), st.sampled_from(others)), label="method")

    def _token_query(self, data, record):
        return data.draw(
            _params(
                access_token=_maybe(record.access_token, QUERY_JUNK),
                other=_maybe("1", QUERY_JUNK),
            ),
            label="query",
        )

    # === PAGES (GET) === #

    def _fuzz_page(self, data, record, url):
        path_id = self._path_id(data, record)
        method = self._method(data, "GET")
        query = self._token_query(data, record)
        valid = (
            path_id == str(record.id)
            and method == "GET"
            and query.get("access_token") == record.access_token
        )
        response, _answer, succeeded = self._check(
            valid, lambda: self._call(method, url.format(path_id), params=query)
        )
        if valid:
            self.assertEqual(response.status_code, 200)
        if query.get("access_token") != record.access_token:
            self.assertFalse(succeeded and record.access_token in response.text)

    @mute_logger("odoo.http", "odoo.addons.http_routing.models.ir_http")
    @FUZZ_SETTINGS
    @given(data=st.data())
    def test_fuzz_pay_page(self, data):
        self._fuzz_page(data, self.request, "/payment_request/{}")

    @mute_logger("odoo.http", "odoo.addons.http_routing.models.ir_http")
    @FUZZ_SETTINGS
    @given(data=st.data())
    def test_fuzz_receipt(self, data):
        self._fuzz_page(data, self.paid, "/payment_request/{}/receipt")

    @mute_logger("odoo.http", "odoo.addons.http_routing.models.ir_http")
    @FUZZ_SETTINGS
    @given(data=st.data())
    def test_fuzz_card_request_page(self, data):
        self._fuzz_page(data, self.card_request, "/payment_request/card/{}")

    # === JSON ROUTES === #

    def _transaction_params(self, data, record, **extra):
        return data.draw(
            _params(
                access_token=_maybe(record.access_token),
                provider_id=_maybe(self.provider.id),
                payment_method_id=_maybe(self.method.id),
                token_id=_maybe(self.token.id),
                amount=_maybe(1.0),
                flow=_maybe("direct", st.one_of(st.sampled_from(["token", "redirect"]), JSON_JUNK)),
                tokenization_requested=_maybe(False, st.one_of(st.just(True), JSON_JUNK)),
                landing_route=_maybe("/", JSON_JUNK),
                is_validation=_maybe(False, st.one_of(st.just(True), JSON_JUNK)),
                csrf_token=_maybe("x"),
                partner_id=st.one_of(st.just(MISSING), JSON_JUNK),
                **extra,
            ),
            label="params",
        )

    def _valid_transaction(self, record, path_id, method, params, validation=False, terms=False):
        """Whether a transaction route may accept the parameters (for the public user).

        :param bool terms: whether the route takes `terms_accepted` (a request that does not
            require its terms accepts either boolean)
        """
        allowed = {
            "access_token",
            "provider_id",
            "payment_method_id",
            "token_id",
            "amount",
            "flow",
            "tokenization_requested",
            "landing_route",
            "is_validation",
            "csrf_token",
        }
        if validation:
            allowed.add("reference_prefix")
        if terms:
            allowed.add("terms_accepted")
        tokenize_ok = validation or params.get("tokenization_requested", False) is False
        validation_ok = (
            params.get("is_validation") in (None, False, True)
            if validation
            else params.get("is_validation") in (None, False)
        )
        return (
            path_id == str(record.id)
            and method == "POST"
            and set(params) <= allowed
            and params.get("access_token") == record.access_token
            and params.get("flow") in ("direct", "redirect")
            and params.get("provider_id") == self.provider.id
            and params.get("payment_method_id") == self.method.id
            and type(params.get("provider_id")) is int
            and type(params.get("payment_method_id")) is int
            and tokenize_ok
            and validation_ok
            and type(params.get("terms_accepted", False)) is bool
        )

    @mute_logger("odoo.http")
    @FUZZ_SETTINGS
    @given(data=st.data())
    def test_fuzz_transaction(self, data):
        path_id = self._path_id(data, self.request)
        method = self._method(data, "POST")
        params = self._transaction_params(
            data, self.request, terms_accepted=_maybe(True, st.one_of(st.just(False), JSON_JUNK))
        )
        # The options that the page offered the visitor, signed into its form's route.
        offered = parse_qs(urlsplit(self.transaction_route).query)
        query = data.draw(
            _params(
                offer=_maybe(offered["offer"][0], QUERY_JUNK),
                signature=_maybe(offered["signature"][0], QUERY_JUNK),
            ),
            label="query",
        )
        valid = self._valid_transaction(
            self.request, path_id, method, params, terms=True
        ) and query == {key: values[0] for key, values in offered.items()}
        _response, _answer, succeeded = self._check(
            valid,
            lambda: self._call(
                method,
                f"/payment_request/{path_id}/transaction",
                params=query,
                json_params=params,
            ),
        )
        if succeeded:
            self.assertTrue(valid, f"accepted {params}")

    @mute_logger("odoo.http")
    @FUZZ_SETTINGS
    @given(data=st.data())
    def test_fuzz_card_request_transaction(self, data):
        path_id = self._path_id(data, self.card_request)
        method = self._method(data, "POST")
        params = self._transaction_params(
            data, self.card_request, reference_prefix=_maybe("V-1", JSON_JUNK)
        )
        valid = self._valid_transaction(self.card_request, path_id, method, params, validation=True)
        _response, _answer, succeeded = self._check(
            valid,
            lambda: self._call(
                method, f"/payment_request/card/{path_id}/transaction", json_params=params
            ),
        )
        if succeeded:
            self.assertTrue(valid, f"accepted {params}")

    @mute_logger("odoo.http")
    @FUZZ_SETTINGS
    @given(data=st.data())
    def test_fuzz_approve(self, data):
        quote = self.quote
        path_id = self._path_id(data, quote)
        method = self._method(data, "POST")
        params = data.draw(
            _params(
                access_token=_maybe(quote.access_token),
                name=_maybe("Claire Customer", st.one_of(JSON_JUNK, st.just("\x00"))),
                signature=_maybe(SIGNATURE, st.one_of(JSON_JUNK, st.just("iVBORw0KGgo="))),
            ),
            label="params",
        )
        query = data.draw(
            st.one_of(st.just({}), st.just({"access_token": quote.access_token})), label="query"
        )
        name = params.get("name")
        valid = (
            path_id == str(quote.id)
            and method == "POST"
            and (params.get("access_token") or query.get("access_token")) == quote.access_token
            and isinstance(name, str)
            and "\x00" not in name
            and 0 < len(name.strip())
            and len(name) <= 256
            and params.get("signature") == SIGNATURE
        )
        _response, answer, succeeded = self._check(
            valid,
            lambda: self._call(
                method, f"/payment_request/{path_id}/approve", params=query, json_params=params
            ),
        )
        if succeeded and "error" not in answer.get("result", {}):
            self.assertTrue(valid, f"approved with {params}")

    # === FORM ROUTE (POST) === #

    @mute_logger("odoo.http")
    @FUZZ_SETTINGS
    @given(data=st.data())
    def test_fuzz_decline(self, data):
        quote = self.quote
        csrf_token = http.Request.csrf_token(self)
        path_id = self._path_id(data, quote)
        method = self._method(data, "POST")
        form = data.draw(
            _params(
                access_token=_maybe(quote.access_token, QUERY_JUNK),
                decline_reason=_maybe("Too expensive", st.one_of(TEXT, HUGE_TEXT)),
                csrf_token=_maybe(csrf_token, QUERY_JUNK),
            ),
            label="form",
        )
        reason = form.get("decline_reason")
        valid = (
            path_id == str(quote.id)
            and method == "POST"
            and form.get("access_token") == quote.access_token
            and form.get("csrf_token") == csrf_token
            and isinstance(reason, str)
            and "\x00" not in reason
            and 0 < len(reason.strip())
            and len(reason) <= 2000
        )
        response, _answer, _succeeded = self._check(
            valid, lambda: self._call(method, f"/payment_request/{path_id}/decline", data=form)
        )
        if response.status_code in (301, 302, 303):
            self.assertTrue(valid, f"declined with {form}")

    # Reported after each route: the lead needs the counts.
    def tearDown(self):
        if self.tried:
            self._log_count(self._testMethodName.removeprefix("test_fuzz_"))
        super().tearDown()
