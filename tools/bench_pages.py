# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The pages of ``make bench`` measured in headless Chromium, as a customer's phone opens them.

Each page (the pay page, Odoo's ``/payment/pay`` for the same payment, the quotation page of a
request to approve) is loaded ``rounds`` times on each profile (:data:`PROFILES`: a phone,
390x844, CPU 4x slower, 9 Mbit/s down, 1.5 Mbit/s up, 150 ms of round trip; a desktop,
1280x800, unthrottled), with a cold cache: the browser's cache and cookies are cleared and its
cache disabled before each load, while the server is warm (each page loaded once first, not
kept). Of each load, through the DevTools protocol:

- transferred KB (the sum of ``Network.loadingFinished.encodedDataLength``) and requests, and
  the same without the third parties (any host but the loopback: a provider's scripts);
- first paint and first contentful paint (``performance.getEntriesByType('paint')``);
- ready: the ms from the navigation's start until the pay button
  (``button[name="o_payment_submit_button"]``) is there and enabled, seen by a MutationObserver
  that a script added to each new document sets (a 20 ms timer too); on the quotation page,
  the approve button once Odoo's public root has started (``odoo.__WOWL_DEBUG__``: from then
  on the button opens Bootstrap's modal);
- CLS: the sum of the ``layout-shift`` entries without recent input, read 1 s after ready.

The transfer counts what the page loads until the network is idle (no request in flight for
0.5 s), after ready: a bundle or fonts loaded late are part of the page's weight.

Of each figure the median of the loads (:func:`aggregate`); ``bench_report.page_rows`` turns
them into rows. Chromium is Debian's (``chromium``), driven with ``websocket`` as
``tools/screenshot.py`` does. The pure parts (:func:`aggregate`, :func:`cls_sum`,
:func:`profile_commands`) are checked by ``tools/tests/test_bench_pages.py``.
"""

import json
import time
from urllib.parse import urlsplit

import bench_report

PAY_BUTTON = 'button[name="o_payment_submit_button"]'
APPROVE_BUTTON = ".o_payment_request_approve"
# What each page must show to be ready, and whether Odoo's public root must have started too
# (its widgets, Bootstrap's modal among them, work from then on).
READY = {
    "pay": (PAY_BUTTON, False),
    "native": (PAY_BUTTON, False),
    "quote": (APPROVE_BUTTON, True),
}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
PHONE_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
PROFILES = {
    "phone": {
        "width": 390,
        "height": 844,
        "scale": 3,
        "mobile": True,
        "cpu": 4,
        # bits per second, as network speeds are given; the protocol wants bytes per second
        "down_bits": 9_000_000,
        "up_bits": 1_500_000,
        "latency_ms": 150,
    },
    "desktop": {"width": 1280, "height": 800, "scale": 1, "mobile": False, "cpu": 1},
}
# The time a page has to get ready, and after it the time left for late layout shifts; then
# the transfer goes on until no request has been in flight for IDLE seconds (at most
# IDLE_TIMEOUT): what a page loads after it is ready (a lazy bundle, fonts) counts too.
READY_TIMEOUT = 60
AFTER_READY = 1.0
IDLE = 0.5
IDLE_TIMEOUT = 30
POLL = 0.05


def profile_commands(profile):
    """Return the DevTools commands ``(method, params)`` that set up ``profile`` (a dict)."""
    commands = [
        (
            "Emulation.setDeviceMetricsOverride",
            {
                "width": profile["width"],
                "height": profile["height"],
                "deviceScaleFactor": profile["scale"],
                "mobile": profile["mobile"],
            },
        ),
        ("Emulation.setTouchEmulationEnabled", {"enabled": profile["mobile"]}),
        ("Emulation.setCPUThrottlingRate", {"rate": profile["cpu"]}),
    ]
    if profile["mobile"]:
        commands.append(("Emulation.setUserAgentOverride", {"userAgent": PHONE_USER_AGENT}))
    if profile.get("latency_ms") is not None:
        commands.append(
            (
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": profile["latency_ms"],
                    "downloadThroughput": profile["down_bits"] / 8,
                    "uploadThroughput": profile["up_bits"] / 8,
                },
            )
        )
    return commands


def ready_script(selector, after_start):
    """Return the script run in each new document: it records ready and the layout shifts."""
    return f"""(() => {{
  const bench = (window.__bench = {{ready: null, shifts: []}});
  const check = () => {{
    if (bench.ready !== null) return;
    const button = document.querySelector({json.dumps(selector)});
    if (!button || button.disabled || button.classList.contains("disabled")) return;
    if ({json.dumps(after_start)} && !(window.odoo && window.odoo.__WOWL_DEBUG__)) return;
    bench.ready = performance.now();
  }};
  new MutationObserver(check).observe(document, {{
    subtree: true, childList: true, attributes: true,
  }});
  const timer = setInterval(() => (bench.ready === null ? check() : clearInterval(timer)), 20);
  try {{
    new PerformanceObserver((list) => {{
      for (const entry of list.getEntries()) {{
        bench.shifts.push({{
          value: entry.value, hadRecentInput: entry.hadRecentInput, startTime: entry.startTime,
          sources: (entry.sources || []).map((source) => {{
            const node = source.node;
            if (!node || !node.tagName) return "";
            return (node.tagName.toLowerCase() + "." + [...node.classList].join(".")).slice(0, 80);
          }}),
        }});
      }}
    }}).observe({{type: "layout-shift", buffered: true}});
  }} catch (error) {{}}
}})();"""


READ_FIGURES = """JSON.stringify({
  ready: window.__bench ? window.__bench.ready : null,
  shifts: window.__bench ? window.__bench.shifts : [],
  paint: performance.getEntriesByType("paint").map((e) => [e.name, e.startTime]),
  url: location.href,
})"""


def cls_sum(entries):
    """Return the sum of the layout shifts ``entries`` that no recent input caused."""
    return sum(entry["value"] for entry in entries if not entry.get("hadRecentInput"))


def is_third_party(url):
    """Whether ``url`` is on a host other than the loopback (a provider's script)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname not in LOOPBACK


def resource_name(url):
    """The last part of the path of ``url``: ``web.assets_frontend_lazy.min.js``."""
    path = urlsplit(url).path.rstrip("/")
    return path.rsplit("/", 1)[-1] or path or url


def network_figures(events):
    """Return the transfer of a load from its ``Network.*`` events.

    ``kb`` and ``requests`` of every finished HTTP(S) request; ``kb_own`` and ``requests_own``
    without the third parties; ``resources``: name -> [KB, content encoding, type].
    """
    urls, encodings, types, sizes = {}, {}, {}, {}
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif method == "Network.responseReceived":
            headers = {key.lower(): value for key, value in params["response"]["headers"].items()}
            encodings[params["requestId"]] = headers.get("content-encoding", "")
            types[params["requestId"]] = params.get("type", "")
        elif method == "Network.loadingFinished":
            sizes[params["requestId"]] = params["encodedDataLength"]
    figures = {"kb": 0.0, "requests": 0, "kb_own": 0.0, "requests_own": 0, "resources": {}}
    for request_id, size in sizes.items():
        url = urls.get(request_id, "")
        if not url.startswith(("http://", "https://")):
            continue
        kb = size / 1024
        figures["kb"] += kb
        figures["requests"] += 1
        if not is_third_party(url):
            figures["kb_own"] += kb
            figures["requests_own"] += 1
        name = resource_name(url)
        known = figures["resources"].get(name)
        figures["resources"][name] = [
            kb + (known[0] if known else 0),
            encodings.get(request_id, ""),
            types.get(request_id, ""),
        ]
    return figures


def aggregate(loads):
    """Return the medians of ``loads`` (the figures of each load of one page on one profile).

    ``ready_ms`` is the median of the loads that got ready (``not_ready`` counts the others);
    ``heaviest``: the resources by median KB, heaviest first, as ``[name, KB, encoding]``;
    ``shifts``: the layout shifts of the last load, ``[score, ms, elements moved]``.
    """
    result = {"loads": len(loads)}
    for key in ("first_paint_ms", "fcp_ms", "kb", "requests", "kb_own", "requests_own", "cls"):
        result[key] = bench_report.median(
            [load[key] for load in loads if load.get(key) is not None]
        )
    ready = [load["ready_ms"] for load in loads if load.get("ready_ms") is not None]
    result["ready_ms"] = bench_report.median(ready)
    result["not_ready"] = len(loads) - len(ready)
    names = {name for load in loads for name in load.get("resources", {})}
    heaviest = []
    for name in names:
        found = [load["resources"][name] for load in loads if name in load.get("resources", {})]
        heaviest.append([name, bench_report.median([kb for kb, *_rest in found]), found[-1][1]])
    heaviest.sort(key=lambda item: -item[1])
    result["heaviest"] = heaviest[:8]
    # The layout shifts of the last load: [score, ms, the elements that moved], to look into.
    result["shifts"] = loads[-1].get("shifts", []) if loads else []
    return result


# === BROWSER === #


class Browser:
    """A headless Chromium (``tools/screenshot.py``'s) that keeps the events it receives."""

    def __init__(self):
        from screenshot import Chrome

        self.chrome = Chrome(1280, 900)
        self.events = []

    def call(self, method, **params):
        chrome = self.chrome
        chrome.seq += 1
        chrome.ws.send(json.dumps({"id": chrome.seq, "method": method, "params": params}))
        while True:
            message = json.loads(chrome.ws.recv())
            if message.get("id") == chrome.seq:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)[
            "result"
        ].get("value")

    def close(self):
        self.chrome.close()


def in_flight(events):
    """Return the ids of the HTTP(S) requests of ``events`` not finished nor failed yet."""
    started, ended = set(), set()
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            if params["request"]["url"].startswith(("http://", "https://")):
                started.add(params["requestId"])
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            ended.add(params["requestId"])
    return started - ended


def wait_idle(browser):
    """Read the events until no request has been in flight for :data:`IDLE` seconds."""
    deadline = time.monotonic() + IDLE_TIMEOUT
    idle_since = None
    while time.monotonic() < deadline:
        browser.evaluate("0")  # reads the events received meanwhile
        if in_flight(browser.events):
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= IDLE:
            return
        time.sleep(POLL)


def load(browser, url, page):
    """Load ``url`` once with a cold cache; return its figures (see the module's docstring)."""
    browser.call("Page.navigate", url="about:blank")
    browser.call("Network.clearBrowserCache")
    browser.call("Network.clearBrowserCookies")
    browser.call("Network.setCacheDisabled", cacheDisabled=True)
    selector, after_start = READY[page]
    script = browser.call(
        "Page.addScriptToEvaluateOnNewDocument", source=ready_script(selector, after_start)
    )["identifier"]
    browser.events = []
    try:
        browser.call("Page.navigate", url=url)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if browser.evaluate("window.__bench ? window.__bench.ready : null") is not None:
                break
            time.sleep(POLL)
        settle = time.monotonic() + AFTER_READY
        while time.monotonic() < settle:
            browser.evaluate("0")  # keeps reading the events meanwhile
            time.sleep(POLL)
        figures = json.loads(browser.evaluate(READ_FIGURES))
        wait_idle(browser)
    finally:
        browser.call("Page.removeScriptToEvaluateOnNewDocument", identifier=script)
    paint = dict(figures["paint"])
    result = network_figures(browser.events)
    result.update(
        ready_ms=figures["ready"],
        first_paint_ms=paint.get("first-paint"),
        fcp_ms=paint.get("first-contentful-paint"),
        cls=cls_sum(figures["shifts"]),
        shifts=[
            [round(shift["value"], 4), round(shift["startTime"]), shift.get("sources", [])]
            for shift in figures["shifts"]
            if not shift.get("hadRecentInput")
        ],
    )
    return result


def open_browser(profile):
    """Return a new :class:`Browser` set up as ``profile``."""
    browser = Browser()
    try:
        browser.call("Network.enable")
        browser.call("Page.enable")
        for method, params in profile_commands(profile):
            browser.call(method, **params)
    except BaseException:
        browser.close()
        raise
    return browser


def measure(base, urls, rounds, say=print):
    """Load each of ``urls`` (page -> path) ``rounds`` times on each profile, in alternation.

    One browser per profile; before them, each page is loaded once on the desktop profile
    (the server warm), not kept.

    :return: profile -> page -> :func:`aggregate` of its loads
    """
    browser = open_browser(PROFILES["desktop"])
    try:
        for page, path in urls.items():
            if load(browser, base + path, page)["ready_ms"] is None:
                raise RuntimeError(f"{path.split('?')[0]} never got ready ({READY[page][0]})")
    finally:
        browser.close()
    results = {}
    for profile_name, profile in PROFILES.items():
        browser = open_browser(profile)
        try:
            loads = {page: [] for page in urls}
            names = list(urls)
            for number in range(rounds):
                for page in names if number % 2 == 0 else reversed(names):
                    loads[page].append(load(browser, base + urls[page], page))
        finally:
            browser.close()
        results[profile_name] = {page: aggregate(found) for page, found in loads.items()}
        say(
            f"{profile_name}: ready "
            + ", ".join(
                f"{page} {figures['ready_ms'] or 0:.0f} ms"
                for page, figures in results[profile_name].items()
            )
        )
    return results
