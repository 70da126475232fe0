# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The customer's pages checked with axe-core (WCAG 2.1 A and AA) in the suite's Chromium.

axe-core is pinned in ``tools/a11y/package-lock.json`` and installed by the project's set-up
(``tools/bootstrap.py``); it reaches the page as a public attachment made by the test, so
nothing is fetched from elsewhere at test time.
"""

import base64
import json
import time
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import TransactionCase
from odoo.tests import tagged
from odoo.tests.common import ChromeBrowser
from odoo.tests.common import ChromeBrowserException

from ..models.res_company import accessible_button_colors
from ..models.res_company import contrast_ratio
from ..models.res_company import parse_hex_color
from .common import PaymentRequestCommon
from .test_payment_plan import PlanCommon
from .test_quote_approval import QuoteCommon

AXE_SCRIPT = (
    Path(__file__).resolve().parent.parent / "tools" / "a11y" / "node_modules" / "axe-core"
) / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"desktop": "1280x800", "phone": "390x844"}
LANGS = ("en_US", "fr_FR")
# The public root of the front end is mounted and its widgets (the payment form's) started.
READY = "!!(window.odoo && odoo.__WOWL_DEBUG__)"

# Runs axe on the page as it is, then after each of `then` (JS statements run in turn, e.g.
# opening a dialog), and reports every violation with its rule, element and help.
AXE_CODE = """
(async () => {
    const load = () => new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = %(src)s;
        script.onload = resolve;
        script.onerror = () => reject(new Error("axe-core did not load"));
        document.head.appendChild(script);
    });
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const report = [];
    const checked = [];
    const check = async (label) => {
        const results = await axe.run(document, {
            runOnly: {type: "tag", values: %(tags)s},
            resultTypes: ["violations"],
        });
        checked.push(`${label}: ${results.passes.length} rules passed`);
        for (const violation of results.violations) {
            for (const node of violation.nodes) {
                report.push(
                    `[${label}] ${violation.id} (${violation.impact}): ${violation.help} ` +
                    `-- ${node.target.join(" ")} -- ${node.html.slice(0, 200)} ` +
                    `-- ${node.failureSummary.replace(/\\s+/g, " ")} -- ${violation.helpUrl}`
                );
            }
        }
    };
    try {
        %(before)s
        await load();
        await check("page");
        for (const [label, step] of %(then)s) {
            await eval(`(async () => { ${step} })()`);
            await sleep(400);
            await check(label);
        }
    } catch (error) {
        console.error(`axe check could not run: ${error}`);
        return;
    }
    if (report.length) {
        console.error(`axe-core: ${report.length} violation(s)\\n` + report.join("\\n"));
    } else {
        console.log(
            `axe-core ${axe.version} on ${location.pathname} at ${innerWidth} px, ` +
            `${document.documentElement.lang}: 0 violations (${checked.join("; ")})`
        );
        console.log("test successful");
    }
})();
"""

OPEN_APPROVE = (
    "document.querySelector('.o_payment_request_approve').click();"
    "await new Promise((r) => setTimeout(r, 600));"
)
OPEN_DECLINE = (
    "document.querySelector('#payment_request_modal_approve .btn-close').click();"
    "await new Promise((r) => setTimeout(r, 600));"
    "document.querySelector('.o_payment_request_decline').click();"
    "await new Promise((r) => setTimeout(r, 600));"
)


class AccessibilityCommon(QuoteCommon, PlanCommon):
    """Every public page of the product, and a check that runs axe-core on one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._make_plans()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(
            ["web", "portal", "payment", "payment_demo", "sale", "account", "payment_request"],
            ["fr_FR"],
            overwrite=True,
        )
        cls.customer.tz = "Europe/Paris"
        # A brand colour too light for a button on white: the page darkens it, with black text.
        cls.company.write({"primary_color": "#FFD700", "secondary_color": "#F0F0F0"})
        if not AXE_SCRIPT.is_file():
            raise AssertionError(
                f"{AXE_SCRIPT} is missing: `make setup` installs the pinned axe-core"
            )
        cls.axe = (
            cls.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": "axe.min.js",
                    "mimetype": "text/javascript",
                    "public": True,
                    "datas": base64.b64encode(AXE_SCRIPT.read_bytes()),
                }
            )
        )

    def _url(self, record):
        return record.get_portal_url()

    def assert_accessible(
        self, url, then=(), before="", lang="en_US", size="1280x800", cookies=None
    ):
        """Run axe-core on `url` (as a visitor) and fail with each violation found.

        :param list then: ``(label, JS statements)``: checked again after each
        :param str before: JS statements run before the page is checked (a test's own change)
        """
        self.customer.lang = lang
        self.browser_size = size
        code = AXE_CODE % {
            "src": json.dumps(f"/web/content/{self.axe.id}"),
            "tags": json.dumps(AXE_TAGS),
            "then": json.dumps([list(step) for step in then]),
            "before": before,
        }
        # The request's page speaks the customer's language; Odoo's own pages the visitor's.
        cookies = {"frontend_lang": lang, **(cookies or {})}
        self.browser_js(url, code, ready=READY, timeout=90, cookies=cookies)

    def assert_accessible_everywhere(self, url, then=(), cookies=None):
        for lang in LANGS:
            for width, size in WIDTHS.items():
                with self.subTest(lang=lang, width=width):
                    self.assert_accessible(url, then=then, lang=lang, size=size, cookies=cookies)


@tagged("post_install", "-at_install")
class TestAccessibility(AccessibilityCommon):
    def test_the_check_catches_a_violation(self):
        """A page made wrong on purpose fails, naming the rule, the element and the help."""
        broken = (
            "const img = document.createElement('img');"
            "img.src = '/web/static/img/placeholder.png'; img.id = 'o_a11y_broken';"
            "document.querySelector('main').appendChild(img);"
        )
        with self.assertRaises(AssertionError) as caught:
            self.assert_accessible(self._url(self.request), before=broken)
        message = str(caught.exception)
        self.assertIn("image-alt", message)
        self.assertIn("#o_a11y_broken", message)
        self.assertIn("Images must have alternative text", message)

    def test_open_request(self):
        self.assert_accessible_everywhere(self._url(self.request))

    def test_open_request_with_terms_to_accept_and_legal_links(self):
        self.company.write(
            {
                "payment_request_terms_required": True,
                "payment_request_terms_url": "https://example.com/terms",
                "payment_request_legal_url": "https://example.com/legal",
                "payment_request_privacy_url": "https://example.com/privacy",
            }
        )
        request = self._create_request(amount=240.0)
        request.action_open()
        self.assertTrue(request.terms_required)
        self.assert_accessible_everywhere(self._url(request))

    def test_partly_paid_request_with_an_amount_refused(self):
        request = self._create_request(
            amount=300.0, allow_partial_payment=True, minimum_amount=50.0
        )
        request.action_open()
        page = self.url_open(self._url(request) + "&amount=10").text
        # The refusal is an alert (announced at once) and describes the field it is about.
        self.assertRegex(page, r'id="payment_request_amount_error"[^>]*role="alert"')
        self.assertIn(
            'aria-describedby="payment_request_amount_help payment_request_amount_error"', page
        )
        self.assertIn('aria-invalid="true"', page)
        self.assert_accessible_everywhere(self._url(request) + "&amount=10")

    def test_expired_cancelled_and_paid_requests(self):
        expired = self._create_request(amount=80.0)
        expired.action_open()
        expired.sudo().expiration_date = datetime.now() - timedelta(hours=1)
        expired.sudo()._expire()
        cancelled = self._create_request(amount=90.0)
        cancelled.action_open()
        cancelled.action_cancel()
        for request in (expired, cancelled):
            with self.subTest(state=request.state):
                self.assert_accessible_everywhere(self._url(request))
        self._settle(self.request)
        self.assertEqual(self.request.state, "paid")
        self.assert_accessible_everywhere(self._url(self.request))

    def test_quotation_to_approve_with_its_signature_and_decline_forms(self):
        self.assert_accessible_everywhere(
            self._url(self.quote),
            then=[("signature form", OPEN_APPROVE), ("decline form", OPEN_DECLINE)],
        )

    def test_approved_quotation_with_a_payment_plan(self):
        order = self._quotation(
            payment_request_plan_id=self.booking_plan.id,
            commitment_date=datetime.now() + timedelta(days=40),
        )
        quote = self._send_quote(order)
        self._approve(quote)
        self.assertEqual(order.state, "sale")
        self.assert_accessible_everywhere(self._url(quote))

    def test_card_saving_page(self):
        card_request = self.env["payment.card.request"].create({"partner_id": self.customer.id})
        card_request._portal_ensure_token()
        self.assert_accessible_everywhere(card_request.get_portal_url())

    def test_payment_status_page(self):
        """Odoo's status page, where the payment form leads before the request's page."""
        self.authenticate(None, None)
        self.assertNotIn("error", self._pay(self.request))
        # The browser gets the session that monitors the transaction, as the form's would.
        self.assert_accessible_everywhere(
            "/payment/status", cookies={"session_id": self.session.sid}
        )


@tagged("post_install", "-at_install")
class TestBrandColors(TransactionCase):
    """The pay button in the company's brand colour keeps its contrast (WCAG 1.4.3, 1.4.11)."""

    def test_every_colour_gets_a_readable_button(self):
        white, black = (255, 255, 255), (0, 0, 0)
        for color in ("#875A7B", "#FFFF00", "#f0f0f0", "#777777", "#0000FF", "#fff", "#000000"):
            with self.subTest(color=color):
                colors = accessible_button_colors(color)
                background = parse_hex_color(colors["background"])
                text = parse_hex_color(colors["text"])
                hover = parse_hex_color(colors["hover"])
                self.assertGreaterEqual(contrast_ratio(background, text), 4.5)
                self.assertGreaterEqual(contrast_ratio(hover, text), 4.5)
                self.assertGreaterEqual(contrast_ratio(background, white), 3.0)
                self.assertIn(text, (white, black))

    def test_a_colour_that_passes_is_kept_and_one_that_fails_is_adjusted(self):
        self.assertEqual(
            accessible_button_colors("#875A7B"),
            {"background": "#875a7b", "text": "#ffffff", "hover": "#734c69"},
        )
        # Yellow on white: the button would vanish; it is darkened until it stands out, with
        # black text.
        yellow = accessible_button_colors("#FFFF00")
        self.assertNotEqual(yellow["background"], "#ffff00")
        self.assertEqual(yellow["text"], "#000000")

    def test_known_contrast_ratios(self):
        self.assertAlmostEqual(contrast_ratio((0, 0, 0), (255, 255, 255)), 21.0, places=2)
        self.assertAlmostEqual(contrast_ratio((119, 119, 119), (255, 255, 255)), 4.48, places=2)

    def test_no_colour_no_branding(self):
        company = self.env.company
        company.primary_color = False
        self.assertIsNone(company._get_payment_request_brand_colors())
        self.assertIsNone(accessible_button_colors("not a colour"))
        company.primary_color = "#1D4ED8"
        self.assertEqual(company._get_payment_request_brand_colors()["text"], "#ffffff")


@tagged("post_install", "-at_install")
class TestCustomerDates(PaymentRequestCommon):
    """The page's expiry: to the minute, in the customer's time zone and language."""

    @freeze_time("2026-12-08 10:03:00")
    def test_expiry_to_the_minute_with_the_delay_under_a_day(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer.tz = "Europe/Paris"
        request = self._create_request(amount=240.0)
        request.action_open()
        request.sudo().expiration_date = datetime(2026, 12, 8, 13, 3)
        values = request._get_portal_page_values()
        self.assertEqual(values["expiration_display"], "8 Dec 2026, 14:03")
        self.assertEqual(values["expiration_delay"], "in 3 hours")
        french = request.with_context(lang="fr_FR")._get_portal_page_values()
        self.assertEqual(french["expiration_display"], "8 déc. 2026, 14:03")
        self.assertEqual(french["expiration_delay"], "dans 3 heures")
        request.sudo().expiration_date = datetime(2026, 12, 10, 13, 3)
        values = request._get_portal_page_values()
        self.assertEqual(values["expiration_display"], "10 Dec 2026, 14:03")
        self.assertEqual(values["expiration_delay"], "", "two days left: the date says it")


class Keyboard:
    """The browser's own keyboard: trusted key events sent over the DevTools protocol, so that
    Chrome itself moves the focus on Tab, types, and activates the focused button on Enter (a
    script's synthetic events do neither)."""

    KEYS = {"Tab": ("Tab", 9, None), "Enter": ("Enter", 13, "\r")}

    def __init__(self, browser):
        self.browser = browser

    def evaluate(self, expression):
        try:
            answer = self.browser._websocket_request(
                "Runtime.evaluate", params={"expression": expression, "returnByValue": True}
            )
        except (TimeoutError, ChromeBrowserException):
            return None  # the page is being replaced: ask again
        return answer.get("result", {}).get("value")

    def press(self, key):
        if key in self.KEYS:
            code, keycode, text = self.KEYS[key]
        else:  # a digit
            code, keycode, text = f"Digit{key}", ord(key), key
        events = [{"type": "keyDown" if text else "rawKeyDown", "text": text}, {"type": "keyUp"}]
        for event in events:
            params = {
                "key": key,
                "code": code,
                "windowsVirtualKeyCode": keycode,
                "nativeVirtualKeyCode": keycode,
                **{name: value for name, value in event.items() if value},
            }
            self.browser._websocket_request("Input.dispatchKeyEvent", params=params)

    def focused(self, selector):
        return self.evaluate(
            f"!!document.activeElement && document.activeElement.matches({json.dumps(selector)})"
        )

    def tab_to(self, selector, limit=60):
        """Press Tab until the focus is on `selector`; return how many presses it took."""
        for count in range(limit):
            if self.focused(selector):
                return count
            self.press("Tab")
        raise AssertionError(
            f"Tab never reached {selector}; the focus is on "
            + str(self.evaluate("document.activeElement && document.activeElement.outerHTML"))[:200]
        )

    def focus_ring(self):
        """The outline of the focused element, as the browser draws it."""
        return self.evaluate(
            "(() => { const style = getComputedStyle(document.activeElement);"
            " return [style.outlineStyle, parseFloat(style.outlineWidth),"
            " document.activeElement.matches(':focus-visible')]; })()"
        )

    def wait_for(self, expression, timeout=45):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.25)
        return False


@tagged("post_install", "-at_install")
class TestKeyboardOnly(AccessibilityCommon):
    def _pay_with_the_keyboard(self, browser):
        """From the page's opening to its receipt: Tab, digits and Enter, never a click."""
        keyboard = Keyboard(browser)
        self.assertTrue(keyboard.wait_for(READY))
        keyboard.evaluate("document.activeElement && document.activeElement.blur()")
        if keyboard.evaluate("innerWidth") < 576:
            # On a phone the pay button shows on the first screen, above the recap of the order.
            button_bottom, recap_top, screen = keyboard.evaluate(
                "(() => { const button = document.querySelector("
                "'button[name=\"o_payment_submit_button\"]').getBoundingClientRect();"
                " const recap = document.querySelector('.o_payment_request_order')"
                ".getBoundingClientRect(); return [button.bottom, recap.top, innerHeight]; })()"
            )
            self.assertLessEqual(button_bottom, recap_top)
            self.assertLessEqual(button_bottom, screen)
        keyboard.tab_to("#customer_input")
        self.assert_focus_visible(keyboard)
        for digit in "4242424242424242":
            keyboard.press(digit)
        self.assertEqual(keyboard.evaluate("document.activeElement.value"), "4242424242424242")
        keyboard.tab_to('button[name="o_payment_submit_button"]')
        self.assert_focus_visible(keyboard)
        label = keyboard.evaluate("document.activeElement.textContent.trim()")
        self.assertRegex(label, r"^Pay .*120\.00")
        self.assertFalse(keyboard.evaluate("document.activeElement.disabled"))
        # The company's yellow, too light for a button on white, darkened, with black text.
        colors = keyboard.evaluate(
            "(() => { const style = getComputedStyle(document.activeElement);"
            " return [style.backgroundColor, style.color]; })()"
        )
        self.assertEqual(colors, ["rgb(169, 142, 0)", "rgb(0, 0, 0)"])
        keyboard.press("Enter")
        self.assertTrue(
            keyboard.wait_for("!!document.querySelector('.o_payment_request_status_paid')"),
            "the page never said the request was paid",
        )
        self.assertTrue(keyboard.wait_for(READY))
        keyboard.tab_to("a.o_payment_request_receipt")
        self.assert_focus_visible(keyboard)
        self.assertFalse(browser.had_failure, "the page logged an error (see above)")

    def assert_focus_visible(self, keyboard):
        style, width, focus_visible = keyboard.focus_ring()
        self.assertTrue(focus_visible, "the browser does not show the keyboard's focus")
        self.assertNotEqual(style, "none")
        self.assertGreaterEqual(width, 2)

    def test_customer_pays_with_the_keyboard_alone(self):
        for size in WIDTHS.values():
            with self.subTest(size=size):
                order = self._quotation(qty=4)
                request = self._create_request(
                    purpose="deposit", sale_order_id=order.id, amount=120.0
                )
                request.action_open()
                self.browser_size = size

                def drive(browser, code, timeout, error_checker=None):
                    self._pay_with_the_keyboard(browser)

                # browser_js opens the page as a visitor and closes the browser; the keyboard
                # drives it in between, in place of a test script.
                with patch.object(ChromeBrowser, "_wait_code_ok", drive):
                    self.browser_js(self._url(request), "", ready=READY, timeout=90)
                self.assertEqual(request.state, "paid")
                self.assertEqual(request.attempt_count, 1)
