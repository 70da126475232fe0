#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""``make load``: many customers paying their requests at once, on Odoo in prefork mode.

1. The bench database (``$PAYMENT_REQUEST_BENCH_DB``, made by ``make bench`` if absent) gets
   fresh open requests of its own for every run (``tools/load_prepare.py``): ``--customers``
   requests of as many distinct customers, and ``--pairs`` more for the second phase. Nothing
   of an earlier run is reused, and the bench measures requests of its own: the requests paid
   here only add to the paid ones. ``--plan-steps`` bench orders get a payment plan whose
   second step is scheduled today: the plan cron, triggered as phase 1 starts, sends them
   beside the payers (every one sent, none twice, checked at the end).
2. Odoo is started on the loopback interface as a shop runs it: ``--workers 4`` (prefork) and
   ``--max-cron-threads 1`` (a cron worker of its own), on free ports of
   ``$PAYMENT_REQUEST_BENCH_PORTS``; its log is ``.test-results/load-server.log``. Each
   worker is warmed up first on the bench's own pay page (4 visits per worker).
3. Phase 1: each customer, in a session of their own (``--concurrency`` at a time, as fast as
   the server answers), does what a browser does with the demo provider: GET the pay page,
   POST its JSON transaction route, POST ``/payment/demo/simulate_payment`` (done), GET
   ``/payment/status``, POST ``/payment/status/poll`` (again on Odoo's "retry", as its script
   does) and GET the landing page.
   Phase 2: ``--pairs`` customers each pay the same request from two tabs (two sessions) that
   open the page, then post the transaction route at the same instant, then simulate the
   payment at the same instant (``threading.Barrier``). Expected: one tab pays, the other is
   refused with a message for the customer (a payment of the request was started a moment
   ago) before any money moves. Both tabs paying is a real double payment: it fails the run,
   and the second payment must still be recorded as a duplicate.
4. The database is read back (``load_prepare.py verify``) once every payment is post-processed
   (by the status poll; the post-processing cron is triggered for what is left), 60 s at most:
   every request paid exactly once per payment made, no more ``done`` transactions than
   payments made, the second one of a pair paid twice flagged
   ``payment_request_duplicate_state`` and the request ``is_paid_twice``.
5. The server log is scanned for serialization failures and deadlocks (retried by Odoo, or
   reaching the customer), Tracebacks and ERROR lines.

Printed: p50/p95/p99 of each step of each phase, the counts and the outcome of each pair
(which tab paid, which was refused and with what message); the same in
``.test-results/load.json``. Exit 1 when an expectation fails. Bounded: each phase stops after
``--timeout`` seconds (the customers not done by then count as failures), the wait for the
post-processing after 60 s, and each customer makes a fixed number of calls at most; only to
127.0.0.1.

Usage: ``load_test.py [--customers 200] [--pairs 20] [--timeout 300] [--concurrency 8]
[--pair-concurrency 2] [--workers 4] [--plan-steps 1000] [--requests N] [--db NAME]
[--no-update]``.
"""

import argparse
import json
import os
import re
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402
import bench_report  # noqa: E402
from odoo_env import RESULTS  # noqa: E402
from odoo_env import ensure_postgres  # noqa: E402
from odoo_env import find_odoo  # noqa: E402
from odoo_env import odoo_command  # noqa: E402
from odoo_env import odoo_env  # noqa: E402
from odoo_env import say  # noqa: E402
from odoo_env import write_config  # noqa: E402

HOST = "127.0.0.1"
SERVER_LOG = RESULTS / "load-server.log"
JSON_RESULTS = RESULTS / "load.json"
STEPS = ("page", "transaction", "simulate", "status", "poll", "landing")
# The status page's script polls again when Odoo answers "retry" (the transaction could not be
# post-processed yet); it waits 3 s between polls. Bounded here.
MAX_POLLS = 10
POLL_WAIT = 3.0
CALL_TIMEOUT = 60
# How long the payments made may take to be post-processed after the phases.
SETTLE_SECONDS = 60
# How long the plan cron may take after the phases to send the rest of its steps.
PLAN_SETTLE_SECONDS = 240
# Shown by the pay page while it can be paid.
FORM_MARK = "o_payment_form"
# A log record of Odoo starts with its date; the lines after it (a traceback) belong to it.
RECORD_START = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>[\w.]+): "
)
# Odoo's prefork master kills a worker past its time limit; it logs it once per signal sent.
WORKER_TIMEOUT = re.compile(r"Worker\w* \(\d+\) timeout after")
WERKZEUG_STATUS = re.compile(r'" (?P<status>\d{3}) ')
# Odoo's retrying() logs "<PG error code>, N tries left, try again in ... sec..." at INFO.
RETRY_CODES = {
    "SERIALIZATION_FAILURE": "serialization_retries",
    "DEADLOCK_DETECTED": "deadlock_retries",
    "LOCK_NOT_AVAILABLE": "lock_retries",
}


# === PURE HELPERS (tools/tests/test_load_test.py) === #


def step_stats(seconds):
    """Return ``{n, p50, p95, p99, max}`` in milliseconds of a list of durations in seconds."""
    values = [value * 1000 for value in seconds]
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    return {
        "n": len(values),
        "p50": bench_report.percentile(values, 0.50),
        "p95": bench_report.percentile(values, 0.95),
        "p99": bench_report.percentile(values, 0.99),
        "max": max(values),
    }


def log_records(lines):
    """Group the lines of an Odoo log into records: ``(level, logger, [lines])``.

    A line that does not start with a date (a traceback, a multi-line message) belongs to the
    record before it.
    """
    records = []
    for line in lines:
        match = RECORD_START.match(line)
        if match:
            records.append((match["level"], match["logger"], [line]))
        elif records:
            records[-1][2].append(line)
    return records


def scan_log(lines):
    """Count what the server log says about concurrency and errors.

    Returns ``{"counts": {...}, "examples": {...}}``:

    - ``*_retries``: Odoo's own retries of a request after a serialization failure, deadlock or
      unavailable lock (``odoo.service.model``, INFO); the customer only waits longer;
    - ``retries_exhausted``: such a failure still there after Odoo's last try: it reached the
      customer;
    - ``failed_queries_retried``: the failed query of such a failure, which ``odoo.sql_db``
      logs as an ERROR ("bad query") before Odoo retries it; not an error of its own;
    - ``poll_retries``: the status poll could not post-process yet and answered "retry", which
      Odoo logs as an ERROR with its traceback; its page polls again;
    - ``serialization_errors``, ``deadlock_errors``: such a failure in any other ERROR record
      (not retried: it reached the customer);
    - ``worker_timeouts``: a worker killed by Odoo's master past ``--limit-time-real`` (for the
      cron worker: a job longer than that, redone from its start by the next worker);
    - ``errors``: every other ERROR or CRITICAL record; ``tracebacks``: records holding one;
    - ``http_5xx``: request lines answered 5xx.

    ``examples`` keeps the first line of up to 3 records of each.
    """
    counts = dict.fromkeys(
        (
            *RETRY_CODES.values(),
            "retries_exhausted",
            "failed_queries_retried",
            "poll_retries",
            "serialization_errors",
            "deadlock_errors",
            "worker_timeouts",
            "errors",
            "tracebacks",
            "http_5xx",
        ),
        0,
    )
    examples = {}

    def count(key, record_lines):
        counts[key] += 1
        found = examples.setdefault(key, [])
        if len(found) < 3:
            found.append(record_lines[0][:300])

    for level, logger, record in log_records(lines):
        text = "\n".join(record)
        lowered = text.lower()
        last = next((line.strip() for line in reversed(record) if line.strip()), "")
        if "Traceback" in text:
            count("tracebacks", record)
        if logger == "werkzeug":
            match = WERKZEUG_STATUS.search(record[0])
            if match and match["status"].startswith("5"):
                count("http_5xx", record)
            continue
        for code, key in RETRY_CODES.items():
            if code in record[0]:
                count("retries_exhausted" if "maximum number of tries" in text else key, record)
        if level not in ("ERROR", "CRITICAL"):
            continue
        serialization = "could not serialize" in lowered or "serializationfailure" in lowered
        deadlock = "deadlock detected" in lowered or "deadlockdetected" in lowered
        retryable = serialization or deadlock or "could not obtain lock" in lowered
        if logger == "odoo.sql_db" and "bad query" in lowered and retryable:
            count("failed_queries_retried", record)
        elif last == "Exception: retry":
            count("poll_retries", record)
        elif logger == "odoo.service.server" and WORKER_TIMEOUT.search(record[0]):
            count("worker_timeouts", record)
        else:
            count("errors", record)
            if serialization:
                count("serialization_errors", record)
            if deadlock:
                count("deadlock_errors", record)
    return {"counts": counts, "examples": examples}


def check_request(row, payments):
    """Return what is wrong with one request read back after the load (empty when right).

    :param dict row: the request from ``load_prepare.py verify``: ``state``, ``is_paid_twice``,
        ``paid_transaction_id``, ``transactions`` (``id``, ``state``, ``is_post_processed``,
        ``duplicate_state``)
    :param int payments: how many tabs had their payment accepted (simulated done)
    """
    problems = []
    done = [tx for tx in row["transactions"] if tx["state"] == "done"]
    if len(done) != payments:
        problems.append(f"{len(done)} done transaction(s) for {payments} payment(s) made")
    if payments and row["state"] != "paid":
        problems.append(f"state {row['state']} after a payment")
    if not payments and row["state"] == "paid":
        problems.append("paid without a payment")
    late = [tx["reference"] for tx in done if not tx["is_post_processed"]]
    if late:
        problems.append(f"not post-processed: {', '.join(late)}")
    if done and row["paid_transaction_id"] not in [tx["id"] for tx in done]:
        problems.append("paid by none of its done transactions")
    duplicates = [tx for tx in done if tx["duplicate_state"]]
    if len(done) > 1:
        if not row["is_paid_twice"]:
            problems.append("paid twice but is_paid_twice is not set")
        if len(duplicates) != len(done) - 1:
            problems.append(
                f"{len(duplicates)} duplicate(s) recorded among {len(done)} done transactions"
            )
        if any(tx["id"] == row["paid_transaction_id"] for tx in duplicates):
            problems.append("the transaction that paid it is flagged as the duplicate")
    elif row["is_paid_twice"] or duplicates:
        problems.append("flagged paid twice with one payment")
    return problems


def pair_outcomes(tabs):
    """Return what became of each two-tab customer (phase 2), by request id (str).

    :param list tabs: the outcome of each tab (:class:`Tab` as dicts)
    :return: ``{request id: {"outcome": ..., "tabs": [what became of each tab]}}``; the
        outcome is ``paid once, other tab refused`` (expected), ``paid twice``, ``not paid``
        or ``paid once, other tab failed``
    :rtype: dict
    """
    pairs = {}
    for tab in tabs:
        if tab["phase"] == "phase 2":
            pairs.setdefault(str(tab["request_id"]), []).append(tab)
    outcomes = {}
    for rid, pair_tabs in pairs.items():
        pair_tabs = sorted(pair_tabs, key=lambda tab: tab["tab"])
        paid = sum(tab["paid"] for tab in pair_tabs)
        refused = sum(1 for tab in pair_tabs if not tab["paid"] and tab["refused"] is not None)
        if paid == 1 and refused == len(pair_tabs) - 1:
            outcome = "paid once, other tab refused"
        elif paid > 1:
            outcome = "paid twice"
        elif not paid:
            outcome = "not paid"
        else:
            outcome = "paid once, other tab failed"
        described = []
        for tab in pair_tabs:
            if tab["paid"]:
                what = "paid" if tab["finished"] else "paid, unfinished"
            elif tab["refused"] is not None:
                what = f"refused: {tab['refused']}"
            else:
                errors = [call["error"] for call in tab["calls"] if call["error"]]
                what = f"failed: {errors[-1]}" if errors else "unfinished"
            described.append(f"tab {tab['tab']} {what}")
        outcomes[rid] = {"outcome": outcome, "tabs": described}
    return outcomes


def summarize(tabs, requests, log):
    """Return the summary of a run: per phase and step, the figures; the counts; the failures.

    :param list tabs: the outcome of each tab (:class:`Tab` as dicts)
    :param dict requests: request id (str) -> its row read back (see :func:`check_request`)
    :param dict log: the result of :func:`scan_log`
    """
    steps = {}
    for phase in sorted({tab["phase"] for tab in tabs}):
        phase_tabs = [tab for tab in tabs if tab["phase"] == phase]
        steps[phase] = {}
        for step in STEPS:
            calls = [call for tab in phase_tabs for call in tab["calls"] if call["step"] == step]
            stats = step_stats([call["seconds"] for call in calls])
            stats["errors"] = sum(1 for call in calls if call["error"] and not call["refused"])
            stats["refused"] = sum(1 for call in calls if call["refused"])
            stats["5xx"] = sum(1 for call in calls if (call["status"] or 0) >= 500)
            steps[phase][step] = stats
    calls = [call for tab in tabs for call in tab["calls"]]
    payments = {}
    for tab in tabs:
        payments[str(tab["request_id"])] = payments.get(str(tab["request_id"]), 0) + tab["paid"]
    problems = {
        rid: found
        for rid, count in payments.items()
        if (found := check_request(requests[rid], count) if rid in requests else ["not found"])
    }
    pairs = pair_outcomes(tabs)
    pair_payments = [count for rid, count in payments.items() if rid in pairs]
    customers_paid_once = sum(
        1
        for rid, count in payments.items()
        if rid not in pairs and count == 1 and rid in requests and rid not in problems
    )
    counts = {
        "calls": len(calls),
        "non_2xx": sum(1 for call in calls if call["status"] and not 200 <= call["status"] < 300),
        "5xx": sum(1 for call in calls if (call["status"] or 0) >= 500),
        "transport_errors": sum(1 for call in calls if call["status"] is None),
        "unexpected_errors": sum(1 for call in calls if call["error"] and not call["refused"]),
        "refusals": sum(1 for call in calls if call["refused"]),
        "unclear_refusals": sum(
            1 for call in calls if call["refused"] and not (call["error"] or "").strip()
        ),
        "poll_retries_seen": sum(tab["poll_retries"] for tab in tabs),
        "unfinished_tabs": sum(1 for tab in tabs if not tab["finished"]),
        "requests": len(payments),
        "customers_paid_once": customers_paid_once,
        "customers_not_paid_once": len(payments) - len(pair_payments) - customers_paid_once,
        "pairs_paid_once": sum(1 for count in pair_payments if count == 1),
        "pairs_other_tab_refused": sum(
            1 for pair in pairs.values() if pair["outcome"] == "paid once, other tab refused"
        ),
        "pairs_paid_twice": sum(1 for count in pair_payments if count == 2),
        "pairs_not_paid": sum(1 for count in pair_payments if count == 0),
        "double_payments_recorded": sum(
            1 for rid, row in requests.items() if rid in payments and row["is_paid_twice"]
        ),
        "requests_with_problems": len(problems),
        **log["counts"],
    }
    return {
        "steps": steps,
        "counts": counts,
        "pairs": pairs,
        "problems": problems,
        "failures": failures(counts),
    }


def failures(counts):
    """Return the expectations a run's counts miss (empty: the run passes)."""
    found = []
    for key, label in (
        ("5xx", "answers 5xx"),
        ("transport_errors", "calls without an answer"),
        ("unexpected_errors", "calls answered an error that is not a refusal for the customer"),
        ("unclear_refusals", "refusals without a message"),
        ("unfinished_tabs", "customers (tabs) not finished within the time"),
        ("customers_not_paid_once", "customers (phase 1) whose request is not paid exactly once"),
        ("requests_with_problems", "requests not paid exactly once per payment made"),
        ("pairs_not_paid", "pairs where neither tab could pay"),
        ("pairs_paid_twice", "pairs paid twice: the second tab was not refused"),
        ("retries_exhausted", "serialization failures or deadlocks not overcome by Odoo's retries"),
        ("serialization_errors", "serialization failures in ERROR records"),
        ("deadlock_errors", "deadlocks in ERROR records"),
        ("worker_timeouts", "workers killed past --limit-time-real (log lines)"),
        ("errors", "other ERROR records in the server log"),
        ("http_5xx", "5xx request lines in the server log"),
    ):
        if counts.get(key):
            found.append(f"{counts[key]} {label}")
    return found


def format_summary(summary):
    """Return the table of step figures and the counts, as text."""
    header = ("phase", "step", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "refused")
    rows = [header]
    for phase, steps in summary["steps"].items():
        for step, stats in steps.items():
            if not stats["n"]:
                continue
            rows.append(
                (
                    phase,
                    step,
                    str(stats["n"]),
                    *(f"{stats[key]:.0f}" for key in ("p50", "p95", "p99", "max")),
                    str(stats["errors"]),
                    str(stats["refused"]),
                )
            )
    widths = [max(len(row[index]) for row in rows) for index in range(len(header))]
    lines = []
    for number, row in enumerate(rows):
        cells = [
            f"{value:<{width}}" if index < 2 else f"{value:>{width}}"
            for index, (value, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if not number:
            lines.append("-" * len(lines[0]))
    counts = summary["counts"]
    lines.append("")
    lines.append(
        "counts: "
        + ", ".join(
            f"{key} {value}" for key, value in counts.items() if not isinstance(value, list)
        )
    )
    return "\n".join(lines)


# === THE CUSTOMERS === #


@dataclass
class Tab:
    """One browser tab paying one request: its calls and what came of them."""

    phase: str
    request_id: int
    tab: int = 1
    paid: int = 0  # 1 once the provider accepted the payment (simulated done)
    refused: str = None  # the message shown to the customer when the payment was refused
    finished: bool = False
    poll_retries: int = 0
    calls: list = field(default_factory=list)


class Browser:
    """A session of its own (cookies), calling the local server and timing each call."""

    def __init__(self, base, deadline, tab):
        import requests

        self.requests = requests
        self.session = requests.Session()
        self.base = base
        self.deadline = deadline
        self.tab = tab

    def _timeout(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the load test's time is up")
        return min(CALL_TIMEOUT, left)

    def _record(self, step, started, status, error=None, refused=False):
        self.tab.calls.append(
            {
                "step": step,
                "seconds": time.perf_counter() - started,
                "status": status,
                "error": error,
                "refused": refused,
            }
        )

    def get(self, step, url, mark=None):
        """GET ``url``; return its body, or None after recording the error."""
        timeout = self._timeout()
        started = time.perf_counter()
        try:
            response = self.session.get(self.base + url, timeout=timeout)
            body = response.text
        except self.requests.RequestException as error:
            self._record(step, started, None, f"{type(error).__name__}: {error}")
            return None
        error = None
        if response.status_code != 200:
            error = f"GET {url.split('?')[0]} answered {response.status_code}"
        elif mark and mark not in body:
            error = f"GET {url.split('?')[0]} shows no {mark}"
        self._record(step, started, response.status_code, error)
        return None if error else body

    def rpc(self, step, url, params, refusable=False):
        """POST a JSON-RPC call; return ``(result, error data)``, recording the call.

        An error of the kind Odoo shows to the user (``UserError``, ``ValidationError``) is a
        refusal when ``refusable``; any other error, and any refusal elsewhere, is an error.
        """
        timeout = self._timeout()
        body = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
        started = time.perf_counter()
        try:
            response = self.session.post(self.base + url, json=body, timeout=timeout)
            data = response.json() if response.status_code == 200 else None
        except (self.requests.RequestException, ValueError) as error:
            self._record(step, started, None, f"{type(error).__name__}: {error}")
            return None, {"message": str(error)}
        if data is None:
            error = f"POST {url} answered {response.status_code}"
            self._record(step, started, response.status_code, error)
            return None, {"message": error}
        if "error" not in data:
            self._record(step, started, response.status_code)
            return data.get("result"), None
        error = data["error"].get("data") or {"message": data["error"].get("message")}
        name = error.get("name", "")
        for_user = name.endswith(("UserError", "ValidationError"))
        message = error.get("message") or ""
        self._record(
            step,
            started,
            response.status_code,
            message if for_user and refusable else f"{name}: {message}"[:500],
            refused=for_user and refusable,
        )
        return None, error


def sync(barrier):
    """Wait for the other tab (if any); a broken barrier lets each tab go on alone."""
    if barrier is None:
        return
    try:
        barrier.wait(timeout=CALL_TIMEOUT)
    except threading.BrokenBarrierError:
        pass


def pay(base, deadline, prepared, request, tab, barrier=None):
    """Pay ``request`` as a browser does with the demo provider; fill ``tab``."""
    browser = Browser(base, deadline, tab)
    try:
        page = browser.get("page", request["url"], FORM_MARK)
        sync(barrier)
        processing = None
        if page is not None:
            params = {
                "provider_id": prepared["provider_id"],
                "payment_method_id": prepared["payment_method_id"],
                "token_id": None,
                "flow": "direct",
                "tokenization_requested": False,
                "is_validation": False,
                "access_token": request["access_token"],
                "amount": request["amount"],
            }
            # Posted, as the payment form does, to the route that the page gave it (with the
            # options it offers, signed).
            processing, error = browser.rpc(
                "transaction",
                bench.transaction_route(page),
                params,
                refusable=barrier is not None,
            )
            if error and tab.calls[-1]["refused"]:
                tab.refused = error.get("message")
        sync(barrier)
        if not processing:
            tab.finished = tab.refused is not None
            return tab
        simulation = {
            "reference": processing["reference"],
            "payment_details": "4242",
            "simulated_state": "done",
        }
        _result, error = browser.rpc("simulate", "/payment/demo/simulate_payment", simulation)
        if error:
            return tab
        tab.paid = 1
        if browser.get("status", "/payment/status") is None:
            return tab
        landing = None
        for number in range(MAX_POLLS):
            result, error = browser.rpc("poll", "/payment/status/poll", {})
            if result and result.get("state") in ("authorized", "done", "cancel", "error"):
                landing = result["landing_route"]
                break
            if error and error.get("message") == "retry":
                # Odoo's answer when the transaction cannot be post-processed yet: its page
                # polls again; not an error.
                tab.calls[-1].update(error=None)
                tab.poll_retries += 1
            elif error:
                return tab
            if number + 1 < MAX_POLLS:
                time.sleep(min(POLL_WAIT, max(deadline - time.monotonic(), 0)))
        if landing and browser.get("landing", landing) is not None:
            tab.finished = True
    except TimeoutError:
        pass
    return tab


def warm_up(base, url, workers):
    """Open a pay page (not one of the load's) a few times per worker, ``workers`` at once:
    each worker loads the registry and compiles the page's templates on its first requests,
    which a shop's running server has long done."""
    import requests

    def visit(_number):
        with requests.Session() as session:
            session.get(base + url, timeout=CALL_TIMEOUT)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(visit, range(workers * 4)))


def run_phase1(base, deadline, prepared, concurrency):
    tabs = [Tab("phase 1", request["id"]) for request in prepared["customers"]]
    requests = {request["id"]: request for request in prepared["customers"]}
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(
            pool.map(lambda tab: pay(base, deadline, prepared, requests[tab.request_id], tab), tabs)
        )
    return tabs


def run_phase2(base, deadline, prepared, pair_concurrency):
    def pair(request):
        barrier = threading.Barrier(2)
        tabs = [Tab("phase 2", request["id"], tab=number) for number in (1, 2)]
        threads = [
            threading.Thread(target=pay, args=(base, deadline, prepared, request, tab, barrier))
            for tab in tabs
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return tabs

    with ThreadPoolExecutor(max_workers=pair_concurrency) as pool:
        return [tab for tabs in pool.map(pair, prepared["pairs"]) for tab in tabs]


# === SERVER AND DATABASE === #


def free_ports(count, spec=None):
    """Return ``count`` distinct free TCP ports of the loopback interface, from ``spec``
    (``$PAYMENT_REQUEST_BENCH_PORTS``, e.g. "8172-8179") or any."""
    spec = spec or os.environ.get("PAYMENT_REQUEST_BENCH_PORTS", "")
    if spec:
        low, _dash, high = spec.partition("-")
        candidates = list(range(int(low), int(high or low) + 1))
    else:
        candidates = [0] * count
    held, ports = [], []
    try:
        for candidate in candidates:
            sock = socket.socket()
            try:
                sock.bind((HOST, candidate))
            except OSError:
                sock.close()
                continue
            held.append(sock)
            ports.append(sock.getsockname()[1])
            if len(ports) == count:
                return ports
    finally:
        for sock in held:
            sock.close()
    raise bench.BenchError(f"fewer than {count} free ports in {spec or 'the system'}")


def start_server(odoo_dir, pg, database, workers):
    """Start Odoo in prefork mode (``workers`` HTTP workers, one cron worker); return it and
    its port once it answers."""
    port, gevent_port = free_ports(2)
    SERVER_LOG.unlink(missing_ok=True)
    cmd = odoo_command(
        odoo_dir,
        bench.CONFIG,
        database,
        f"--http-port={port}",
        f"--gevent-port={gevent_port}",
        f"--http-interface={HOST}",
        f"--workers={workers}",
        "--max-cron-threads=1",
        f"--db-filter=^{re.escape(database)}$",
        "--no-database-list",
        f"--logfile={SERVER_LOG}",
        "--log-level=warn",
        "--log-handler=werkzeug:INFO",
        "--log-handler=odoo.service.model:INFO",
    )
    return bench.launch_server(cmd, odoo_env(odoo_dir, pg), HOST, port, SERVER_LOG), port


def pending_count(pg, database, ids):
    """Return how many of the requests ``ids`` still have a done payment not post-processed,
    or are not paid yet."""
    listed = ",".join(str(int(rid)) for rid in ids)
    code, out, err = pg.query(
        "SELECT (SELECT COUNT(*) FROM payment_transaction WHERE state = 'done' "
        f"AND NOT is_post_processed AND payment_request_id IN ({listed})) + "
        f"(SELECT COUNT(*) FROM payment_request WHERE state != 'paid' AND id IN ({listed}))",
        database,
    )
    if code:
        raise bench.BenchError(f"psql failed: {err}")
    return int(out or 0)


def trigger_plan_cron(pg, database):
    """Ask the cron worker to run the payment plan cron now, beside the payers."""
    pg.query(
        "INSERT INTO ir_cron_trigger (cron_id, call_at) SELECT res_id, now() at time zone 'utc' "
        "FROM ir_model_data WHERE module = 'payment_request' "
        f"AND name = 'ir_cron_payment_request_plan'; NOTIFY cron_trigger, '{database}'",
        database,
    )


def plan_steps_sent(pg, database, ids):
    """Return how many of the plan steps ``ids`` were sent (open), and how many of them got
    their link more than once (none expected)."""
    if not ids:
        return 0, 0
    listed = ",".join(str(int(rid)) for rid in ids)
    code, out, err = pg.query(
        f"SELECT (SELECT COUNT(*) FROM payment_request WHERE state = 'open' AND id IN ({listed}))"
        " || ' ' || (SELECT COUNT(*) FROM (SELECT m.res_id FROM mail_message m "
        f"WHERE m.model = 'payment.request' AND m.res_id IN ({listed}) AND m.subtype_id = "
        "(SELECT res_id FROM ir_model_data WHERE module = 'payment_request' "
        "AND name = 'mt_payment_request_sent') GROUP BY m.res_id HAVING COUNT(*) > 1) twice)",
        database,
    )
    if code:
        raise bench.BenchError(f"psql failed: {err}")
    sent, twice = (out or "0 0").split()
    return int(sent), int(twice)


def trigger_post_processing(pg, database):
    """Ask the cron worker to run the post-processing cron now (as ``ir.cron._trigger``)."""
    pg.query(
        "INSERT INTO ir_cron_trigger (cron_id, call_at) SELECT res_id, now() at time zone 'utc' "
        "FROM ir_model_data WHERE module = 'payment' AND name = 'cron_post_process_payment_tx'; "
        f"NOTIFY cron_trigger, '{database}'",
        database,
    )


def settle(pg, database, ids, deadline):
    """Wait until every paid request is post-processed; return ``(seconds, left)``."""
    started = time.monotonic()
    left = pending_count(pg, database, ids)
    triggered = False
    while left and time.monotonic() < deadline:
        if not triggered:
            trigger_post_processing(pg, database)
            triggered = True
        time.sleep(1)
        left = pending_count(pg, database, ids)
    return time.monotonic() - started, left


# === MAIN === #


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200, help="customers of phase 1 (200)")
    parser.add_argument("--pairs", type=int, default=20, help="two-tab customers (20)")
    parser.add_argument(
        "--timeout", type=int, default=300, help="seconds each phase lasts at most (300)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="customers at once (8)")
    parser.add_argument(
        "--pair-concurrency", type=int, default=2, help="two-tab customers at once (2)"
    )
    parser.add_argument(
        "--plan-steps",
        type=int,
        default=1000,
        help="payment plan steps scheduled today, sent by the plan cron during the load (1000)",
    )
    parser.add_argument("--workers", type=int, default=4, help="Odoo HTTP workers (4)")
    parser.add_argument(
        "--requests",
        type=int,
        default=bench.REQUESTS,
        help=f"requests of the bench database when it must be made ({bench.REQUESTS})",
    )
    parser.add_argument("--db", default=bench.BENCH_DB, help=f"database ({bench.BENCH_DB})")
    parser.add_argument(
        "--no-update",
        dest="update",
        action="store_false",
        help="reuse the database as it is, without -u payment_request",
    )
    args = parser.parse_args(argv)
    if min(args.customers, args.timeout, args.concurrency, args.pair_concurrency) < 1:
        parser.error("--customers, --timeout and the concurrencies must be at least 1")
    if args.pairs < 0 or args.workers < 2:
        parser.error("--pairs must be at least 0 and --workers at least 2 (prefork)")
    if "bench" not in args.db:
        parser.error(f"the database's name must contain 'bench', not {args.db!r}")
    return args


def report(args, port, prepared, summary, timings):
    counts = summary["counts"]
    print()
    print(
        f"make load: database {args.db}, Odoo --workers {args.workers} --max-cron-threads 1 "
        f"on {HOST}:{port}; {len(prepared['customers'])} customers ({args.concurrency} at "
        f"once), then {len(prepared['pairs'])} customers paying from two tabs at once"
    )
    for phase, seconds in timings["phases"].items():
        print(f"{phase}: {seconds:.1f} s")
    print(
        f"post-processing: {timings['settle_left_after_phases']} left after the phases, "
        f"settled {timings['settle_seconds']:.1f} s later, {timings['settle_left']} left"
    )
    if timings.get("plan_steps"):
        print(
            f"payment plan cron beside the payers: {timings['plan_sent']} of "
            f"{timings['plan_steps']} steps sent, {timings['plan_sent_twice']} sent twice"
        )
    print(format_summary(summary))
    print(
        f"phase 1: {counts['customers_paid_once']} of {len(prepared['customers'])} requests "
        "paid exactly once; "
        f"pairs: {counts['pairs_paid_once']} paid once "
        f"({counts['pairs_other_tab_refused']} with the other tab refused), "
        f"{counts['pairs_paid_twice']} paid twice (recorded: "
        f"{counts['double_payments_recorded']}), {counts['pairs_not_paid']} not paid"
    )
    for rid, pair in summary["pairs"].items():
        print(f"  pair, request {rid}: {pair['outcome']} ({'; '.join(pair['tabs'])})")
    print(
        f"server log: serialization failures retried by Odoo {counts['serialization_retries']}, "
        f"deadlocks retried {counts['deadlock_retries']}, locks retried {counts['lock_retries']}, "
        f"reaching the customer {counts['retries_exhausted']}; "
        f"poll 'retry' {counts['poll_retries']}; "
        f"workers killed past their time limit {counts['worker_timeouts']}; other ERROR "
        f"{counts['errors']}, Tracebacks {counts['tracebacks']}, 5xx {counts['http_5xx']}"
    )
    for rid, problems in list(summary["problems"].items())[:10]:
        print(f"  request {rid}: {'; '.join(problems)}")
    for key, lines in summary["log_examples"].items():
        for line in lines:
            print(f"  log {key}: {line}")
    print("OK: every expectation met" if not summary["failures"] else "FAILED:")
    for failure in summary["failures"]:
        print(f"  {failure}")
    JSON_RESULTS.write_text(
        json.dumps({"args": vars(args), "port": port, "timings": timings, **summary}, indent=2),
        encoding="utf-8",
    )
    print(f"written: {JSON_RESULTS}")


def main(argv):
    args = parse_args(argv)
    odoo_dir, reason = find_odoo()
    if not odoo_dir:
        print(f"load: Odoo 18 is needed and was not found: {reason}", file=sys.stderr)
        return 1
    pg, reason = ensure_postgres()
    if reason:
        print(f"load: PostgreSQL is needed: {reason}", file=sys.stderr)
        return 1
    RESULTS.mkdir(exist_ok=True)
    write_config(bench.CONFIG, odoo_dir, pg, data_dir=RESULTS / "odoo-data")
    server = None
    try:
        bench.install_database(odoo_dir, pg, args.db, False, args.update)
        bench_prepared = bench.run_child(
            odoo_dir, pg, "bench_populate.py", args.db, args.requests, bench.RESULT_MARK
        )
        say(f"New open requests: {args.customers} customers, {args.pairs} two-tab customers")
        prepared = bench.run_child(
            odoo_dir,
            pg,
            "load_prepare.py",
            args.db,
            bench.RESULT_MARK,
            "prepare",
            args.customers,
            args.pairs,
        )
        plan_steps = []
        if args.plan_steps:
            say(f"Payment plan steps scheduled today for the plan cron: {args.plan_steps}")
            plan_steps = bench.run_child(
                odoo_dir, pg, "load_prepare.py", args.db, bench.RESULT_MARK, "plan",
                args.plan_steps,
            )["steps"]  # fmt: skip
        server, port = start_server(odoo_dir, pg, args.db, args.workers)
        say(f"Odoo serves {args.db} on {HOST}:{port}, {args.workers} workers + cron (log "
            f"{SERVER_LOG})")  # fmt: skip
        base = f"http://{HOST}:{port}"
        say("Warm-up: the bench's pay page, 4 times per worker")
        warm_up(base, bench_prepared["ours"], args.workers)
        timings = {"phases": {}}
        if plan_steps:
            trigger_plan_cron(pg, args.db)
        say(f"Phase 1: {args.customers} customers pay their request")
        started = time.monotonic()
        deadline = started + args.timeout
        tabs = run_phase1(base, deadline, prepared, args.concurrency)
        timings["phases"]["phase 1"] = time.monotonic() - started
        if prepared["pairs"]:
            say(f"Phase 2: {args.pairs} customers pay the same request from two tabs at once")
            started = time.monotonic()
            deadline = started + args.timeout
            tabs += run_phase2(base, deadline, prepared, args.pair_concurrency)
            timings["phases"]["phase 2"] = time.monotonic() - started
        ids = [request["id"] for request in prepared["customers"] + prepared["pairs"]]
        timings["settle_left_after_phases"] = pending_count(pg, args.db, ids)
        say("Waiting for the post-processing of every payment")
        timings["settle_seconds"], timings["settle_left"] = settle(
            pg, args.db, ids, time.monotonic() + SETTLE_SECONDS
        )
        plan_deadline = time.monotonic() + PLAN_SETTLE_SECONDS
        while plan_steps and time.monotonic() < plan_deadline:
            if plan_steps_sent(pg, args.db, plan_steps)[0] == len(plan_steps):
                break
            time.sleep(1)
        timings["plan_steps"] = len(plan_steps)
        timings["plan_sent"], timings["plan_sent_twice"] = plan_steps_sent(pg, args.db, plan_steps)
        rows = bench.run_child(
            odoo_dir,
            pg,
            "load_prepare.py",
            args.db,
            bench.RESULT_MARK,
            "verify",
            ",".join(map(str, ids)),
        )
    except bench.BenchError as error:
        print(f"load: {error}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            bench.stop_server(server)
    log = scan_log(SERVER_LOG.read_text(encoding="utf-8", errors="replace").splitlines())
    summary = summarize([asdict(tab) for tab in tabs], rows, log)
    summary["log_examples"] = log["examples"]
    if timings.get("plan_steps") and timings["plan_sent"] != timings["plan_steps"]:
        summary["failures"].append(
            f"the plan cron sent {timings['plan_sent']} of {timings['plan_steps']} steps"
        )
    if timings.get("plan_sent_twice"):
        summary["failures"].append(f"{timings['plan_sent_twice']} plan steps sent twice")
    report(args, port, prepared, summary, timings)
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
