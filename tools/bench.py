#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""``make bench``: one run, one table of the addon's figures at scale, each against its anchor.

1. A database (``payment_request_bench``, or ``$PAYMENT_REQUEST_BENCH_DB``) with the addon,
   ``payment_demo`` and demo data is made once, then filled up to ``--requests`` payment
   requests (100,000 by default) by ``tools/bench_populate.py``: SQL bulk inserts with a
   realistic spread (every state and purpose, 3 companies, requesters, customers, orders,
   invoices, transactions, delivery statuses) and as many sales orders for the list anchor.
   Later runs reuse it, after ``-u payment_request`` (``--no-update`` skips it; ``--fresh``
   rebuilds it).
2. Backend figures by ``tools/bench_backend.py`` (a child that imports Odoo): the list
   "Payment Requests" (first page, default filter, each filter and group-by) against Sales >
   Orders; the customer, sales order and invoice forms (``web_read`` of the form's fields)
   against the same forms without the fields the addon's views add; the bulk send of 50 and
   500 requests by email and SMS (rolled back, after a warm-up send of 5); the expiry cron
   over every request made open and overdue in a scratch copy of the database
   (``<db>_scratch``, dropped afterwards); the overdue invoices cron over
   ``--overdue-customers`` new customers (600 by default), each with an invoice whose first
   installment is 40 days late and a plain invoice 10 days late, in another scratch copy; the
   payment plan cron over ``--plan-steps`` steps scheduled today (10,000 by default, one per
   confirmed order), in a third one.
3. One Odoo HTTP server (one process, no cron) on a free port: logged out, the pay page GET
   against Odoo's ``/payment/pay`` for the same amount, currency, partner and company, then the
   JSON transaction route of the pay page against Odoo's ``/payment/transaction`` for the
   same payment (payment_demo), in alternation, ``--rounds`` times each after a warm-up.
   Queries of a request come from Odoo's werkzeug log line ("query_count query_time
   remaining_time", ``odoo.netsvc.PerfFilter``), Odoo's own per-request ones included.
4. On the same server, the pages in headless Chromium (``tools/bench_pages.py``): the pay
   page, ``/payment/pay`` for the same payment and the page of a quotation to approve (an open
   ``quote`` request whose order is a quotation, picked by ``tools/bench_populate.py``, which
   gives it its quotation's fingerprint and a validity), each loaded ``--page-rounds`` times (5)
   with a cold cache after a warm-up, as a phone (390x844, CPU 4x slower, 9 Mbit/s down,
   1.5 Mbit/s up, 150 ms round trip) and as a desktop (1280x800): KB transferred and requests
   (also without third parties), first paint, ready to pay (the pay button enabled; on the
   quotation page, the approve button once Odoo's public root has started) and CLS, medians
   against ``/payment/pay``'s; the transfer counts what a page loads until the network is idle.

Printed: one table (``tools/bench_report.py``), each figure with its ratio to its anchor and
its target, "OVER" when missed; the same in ``.test-results/bench.json``. Exits 1 with the
reason when Odoo 18 or PostgreSQL is absent, the database cannot be made or a page does not
answer as expected. Logs are in ``.test-results/``.

Usage: ``bench.py [--requests N] [--rounds N] [--warmup N] [--list-rounds N] [--db NAME]
[--form-rounds N] [--overdue-customers N] [--plan-steps N] [--fresh | --no-update]
[--page-rounds N] [--skip cron,overdue,plan,bulk,lists,forms,http,pages]``.
"""

import argparse
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_report  # noqa: E402
from odoo_env import ADDON  # noqa: E402
from odoo_env import RESULTS  # noqa: E402
from odoo_env import ensure_postgres  # noqa: E402
from odoo_env import find_odoo  # noqa: E402
from odoo_env import odoo_command  # noqa: E402
from odoo_env import odoo_env  # noqa: E402
from odoo_env import pg_bin  # noqa: E402
from odoo_env import say  # noqa: E402
from odoo_env import write_config  # noqa: E402

BENCH_DB = os.environ.get("PAYMENT_REQUEST_BENCH_DB", "payment_request_bench")
MODULES = (ADDON, "payment_demo")
REQUESTS = 100_000
BULK_SIZES = (50, 500)
TOOLS = Path(__file__).resolve().parent
JSON_RESULTS = RESULTS / "bench.json"
CONFIG = RESULTS / "odoo-bench.conf"
INSTALL_LOG = RESULTS / "bench-install.log"
SERVER_LOG = RESULTS / "bench-server.log"
RESULT_MARK = "BENCH-RESULT "
# Odoo's werkzeug request line, then PerfFilter's "query_count query_time remaining_time".
REQUEST_LINE = re.compile(
    r' werkzeug: .*"(?P<method>GET|POST) (?P<url>\S+) HTTP/[\d.]+" (?P<status>\d{3}) \S+ '
    r"(?P<queries>\d+) (?P<query_time>[\d.]+) (?P<remaining>[\d.]+)"
)
# Shown by both pages when they offer Odoo's payment form.
FORM_MARK = "o_payment_form"
# The route that Odoo's payment form posts to: the pay page's carries its signed offer.
TRANSACTION_ROUTE = re.compile(r'data-transaction-route="(?P<route>[^"]+)"')


class BenchError(Exception):
    """A reason why the benchmark cannot run or finish."""


# === DATABASE === #


def install_database(odoo_dir, pg, database, fresh, update):
    """Make the database with the addon, payment_demo and demo data, or bring it up to date.

    A database made by an earlier run gets ``-u payment_request`` (unless ``update`` is
    false): Odoo keeps the pages' QWeb templates in the database, so without it the pay page
    of an earlier checkout would be measured.
    """
    exists = pg.database_exists(database)
    if exists and fresh:
        say(f"Dropping the database {database} (--fresh)")
        dropped = pg.run(
            [pg_bin("dropdb") or "dropdb", "--if-exists", "--force", database],
            capture_output=True,
            text=True,
        )
        if dropped.returncode:
            raise BenchError(f"could not drop {database}: {dropped.stderr.strip()}")
        exists = False
    states = pg.module_states(database, MODULES) if exists else {}
    missing = [module for module in MODULES if states.get(module) != "installed"]
    if not exists:
        args = ["-i", ",".join(MODULES)]
        say(f"New database {database} with {', '.join(MODULES)} and demo data (about a minute)")
    elif missing:
        args = ["-i", ",".join(missing)]
        say(f"Installing {', '.join(missing)} in the existing database {database}")
    elif update:
        args = ["-u", ADDON]
        say(f"Updating {ADDON} in {database} to this checkout (--no-update skips it)")
    else:
        return
    cmd = odoo_command(odoo_dir, CONFIG, database, *args, "--stop-after-init", "--no-http")
    started = time.monotonic()
    with INSTALL_LOG.open("w", encoding="utf-8") as log:
        code = subprocess.run(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=odoo_env(odoo_dir, pg), check=False
        ).returncode
    lines = INSTALL_LOG.read_text(encoding="utf-8", errors="replace").splitlines()
    errors = [line for line in lines if " ERROR " in line or " CRITICAL " in line]
    states = pg.module_states(database, MODULES)
    missing = [module for module in MODULES if states.get(module) != "installed"]
    if code or errors or missing:
        print("\n".join(["----- tail of the install log -----", *lines[-30:]]), file=sys.stderr)
        raise BenchError(
            f"odoo-bin {' '.join(args)} exited with {code}, {len(errors)} ERROR line(s), "
            f"not installed: {', '.join(missing) or '-'}; see {INSTALL_LOG}"
        )
    if args[0] == "-u":
        # An update may rewrite many rows (a new stored column filled in SQL): the vacuum that
        # README "Deploying bigger" asks for after an update, and autovacuum does in time on a
        # live table, so that index-only scans are measured as they run day to day.
        pg.query("VACUUM ANALYZE payment_request", database)
    say(f"Done in {time.monotonic() - started:.0f}s (log: {INSTALL_LOG})")


# === HTTP SERVER === #


def free_port(ports=None):
    """Return a TCP port of the loopback interface that nothing listens on.

    ``ports`` (``$PAYMENT_REQUEST_BENCH_PORTS``, e.g. "8180-8199") bounds the choice when
    several people share the machine; any free port otherwise.
    """
    spec = ports or os.environ.get("PAYMENT_REQUEST_BENCH_PORTS", "")
    if not spec:
        candidates = [0]
    else:
        low, _dash, high = spec.partition("-")
        candidates = list(range(int(low), int(high or low) + 1))
    for candidate in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise BenchError(f"no free port in {spec}")


def start_server(odoo_dir, pg, database, port):
    """Start one Odoo HTTP server process on ``port``; return it once it answers."""
    SERVER_LOG.unlink(missing_ok=True)
    cmd = odoo_command(
        odoo_dir,
        CONFIG,
        database,
        f"--http-port={port}",
        "--http-interface=127.0.0.1",
        "--workers=0",
        "--max-cron-threads=0",
        f"--db-filter=^{re.escape(database)}$",
        "--no-database-list",
        f"--logfile={SERVER_LOG}",
        "--log-level=warn",
        "--log-handler=werkzeug:INFO",
    )
    return launch_server(cmd, odoo_env(odoo_dir, pg), "127.0.0.1", port, SERVER_LOG)


def launch_server(cmd, env, host, port, log):
    """Start the Odoo server ``cmd``; return it once ``/web/health`` answers on ``host:port``.

    :raise BenchError: when it stops or does not answer within 120 s (it is stopped then)
    """
    import requests

    server = subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"odoo-bin stopped with {server.returncode}; see {log}")
        try:
            if requests.get(f"http://{host}:{port}/web/health", timeout=5).ok:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_server(server)
    raise BenchError(f"odoo-bin did not answer on port {port} within 120s; see {log}")


def stop_server(server):
    """Stop the Odoo server started by :func:`start_server` (SIGTERM, then SIGKILL)."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# === CHILDREN === #


def run_child(odoo_dir, pg, script, *args, echo=True):
    """Run ``tools/<script>`` with Odoo importable; return the JSON it printed after the mark."""
    cmd = [sys.executable, str(TOOLS / script), str(CONFIG), *map(str, args)]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=odoo_env(odoo_dir, pg))
    result = None
    for line in child.stdout:
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
        elif echo:
            print(line, end="", flush=True)
    code = child.wait()
    if code or result is None:
        raise BenchError(f"{script} {' '.join(map(str, args[:3]))} failed (exit code {code})")
    return result


def backend(odoo_dir, pg, database, mode, *args):
    return run_child(odoo_dir, pg, "bench_backend.py", database, RESULT_MARK, mode, *args)


def run_cron(odoo_dir, pg, database, mode="cron", *args):
    """Run the cron of ``mode`` (the expiry of every request, or the overdue invoices of new
    customers) in a scratch copy of ``database``; drop the copy afterwards."""
    scratch = f"{database}_scratch"
    dropdb = [pg_bin("dropdb") or "dropdb", "--if-exists", "--force", scratch]
    pg.run(dropdb, capture_output=True)
    made = pg.run(
        [pg_bin("createdb") or "createdb", "-T", database, scratch], capture_output=True, text=True
    )
    if made.returncode:
        raise BenchError(f"could not copy {database} to {scratch}: {made.stderr.strip()}")
    try:
        return backend(odoo_dir, pg, scratch, mode, *args)
    finally:
        pg.run(dropdb, capture_output=True)


# === HTTP === #


def call(session, base, method, url, payload):
    """GET ``url`` or POST ``payload`` to it as JSON-RPC; return ``(seconds, body)``."""
    started = time.perf_counter()
    if method == "GET":
        response = session.get(base + url, allow_redirects=False, timeout=60)
    else:
        body = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": payload}
        response = session.post(base + url, json=body, timeout=60)
    text = response.text
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise BenchError(f"{method} {url.split('?')[0]} answered {response.status_code}")
    if method == "POST" and '"error"' in text[:200]:
        raise BenchError(f"POST {url} answered an error: {text[:500]}")
    return elapsed, text


def measure_http(base, calls, rounds, warmup, before=None):
    """Run each of ``calls`` (name -> (method, url, payload)) in alternation; name -> seconds.

    ``before`` (name -> function) is run before each call of that name, outside its time.
    """
    import requests

    session = requests.Session()  # no login: the public user, as a customer opening a link
    names = list(calls)
    times = {name: [] for name in names}
    before = before or {}
    for number in range(warmup + rounds):
        for name in names if number % 2 == 0 else reversed(names):
            if name in before:
                before[name]()
            elapsed, body = call(session, base, *calls[name])
            if number == 0 and calls[name][0] == "GET" and FORM_MARK not in body:
                raise BenchError(f"{calls[name][1].split('?')[0]} shows no payment form")
            if number >= warmup:
                times[name].append(elapsed)
    return times


def server_figures(calls, rounds, warmup):
    """Return name -> list of ``(queries, seconds in Odoo)`` of the kept calls, from the log."""
    expected = warmup + rounds
    deadline = time.monotonic() + 10
    while True:
        lines = SERVER_LOG.read_text(encoding="utf-8", errors="replace").splitlines()
        matches = [match for line in lines if (match := REQUEST_LINE.search(line))]
        figures = {
            name: [
                (int(match["queries"]), float(match["query_time"]) + float(match["remaining"]))
                for match in matches
                if match["method"] == method and match["url"] == url
            ]
            for name, (method, url, _payload) in calls.items()
        }
        if all(len(found) >= expected for found in figures.values()):
            return {name: found[warmup:expected] for name, found in figures.items()}
        if time.monotonic() > deadline:
            counts = ", ".join(f"{name} {len(found)}" for name, found in figures.items())
            raise BenchError(f"too few request lines in {SERVER_LOG} ({counts}; {expected} each)")
        time.sleep(0.2)


def transaction_route(page):
    """Return the route that the payment form of ``page`` posts to, as a browser reads it."""
    match = TRANSACTION_ROUTE.search(page)
    if not match:
        raise BenchError("the pay page gives its payment form no transaction route")
    return html.unescape(match["route"])


def http_calls(prepared, tx_route=None):
    """The four calls: the pay page and Odoo's, their transaction routes, for one payment.

    ``tx_route`` is the pay page's transaction route as its payment form posts to it (with the
    options the page offers, signed: :func:`transaction_route`); the bare route without it.
    """
    payment = {
        "provider_id": prepared["provider_id"],
        "payment_method_id": prepared["payment_method_id"],
        "token_id": None,
        "flow": "direct",
        "tokenization_requested": False,
        "is_validation": False,
    }
    ours = {**payment, "access_token": prepared["access_token"], "amount": prepared["amount"]}
    native = {
        **payment,
        "amount": prepared["amount"],
        "currency_id": prepared["currency_id"],
        "partner_id": prepared["partner_id"],
        "access_token": prepared["native_token"],
        "landing_route": "/payment/status",
    }
    return {
        "page": ("GET", prepared["ours"], None),
        "page_native": ("GET", prepared["native"], None),
        "tx": ("POST", tx_route or f"/payment_request/{prepared['request_id']}/transaction", ours),
        "tx_native": ("POST", "/payment/transaction", native),
    }


def connect(pg, database):
    """Return a connection to ``database`` in autocommit mode (psycopg2, Odoo's driver)."""
    import psycopg2

    connection = psycopg2.connect(dbname=database, host=pg.host or None, port=pg.port or None)
    connection.autocommit = True
    return connection


def run_http(base, pg, database, prepared, rounds, warmup):
    """Measure the pay page and its transaction route against Odoo's, on the server at ``base``."""
    import requests

    calls = http_calls(prepared)
    pages = {name: calls[name] for name in ("page", "page_native")}
    times = measure_http(base, pages, rounds, warmup)
    # The browser posts to the route that the page gave its payment form: read from the page
    # once more (after the measured GETs, that the figures keep).
    _seconds, page = call(requests.Session(), base, *calls["page"])
    calls = http_calls(prepared, tx_route=transaction_route(page))
    posts = {name: calls[name] for name in ("tx", "tx_native")}
    # Each POST is a customer's new attempt: the previous one is made older than the
    # window in which the pay page refuses a second tab (const.PAYMENT_ATTEMPT_WINDOW),
    # as if the customer had come back later. Odoo's route has no such window. Only the
    # attempts of the last hour are aged (the previous one): aging every earlier one again
    # before each POST would leave the request's rows of payment_transaction with ever more
    # dead versions to step over, a cost that no real request has.
    age_attempts = (
        "UPDATE payment_transaction SET create_date = create_date - interval '1 day' "
        f"WHERE payment_request_id = {int(prepared['request_id'])} AND state = 'draft' "
        "AND create_date > (now() AT TIME ZONE 'UTC') - interval '1 hour'"
    )
    # On one open connection: a psql process started before each POST would still be
    # exiting, with its server process, while the POST is timed (1 to 2 ms more on a small
    # machine, the route's whole margin).
    connection = connect(pg, database)
    try:
        with connection.cursor() as cursor:
            times.update(
                measure_http(
                    base,
                    posts,
                    rounds,
                    warmup,
                    before={"tx": lambda: cursor.execute(age_attempts)},
                )
            )
    finally:
        connection.close()
    figures = server_figures(calls, rounds, warmup)
    return {name: http_summary(times[name], figures[name]) for name in calls}


def run_pages(base, prepared, rounds):
    """Measure the pages in Chromium (``tools/bench_pages.py``) on the server at ``base``."""
    import bench_pages
    import websocket

    if not (shutil.which("chromium") or shutil.which("google-chrome")):
        raise BenchError("the pages are measured in Chromium: apt-get install chromium")
    urls = {"pay": prepared["ours"], "native": prepared["native"]}
    if prepared.get("quote"):
        urls["quote"] = prepared["quote"]
    else:
        say("No open quotation to approve in the database: its page is not measured")
    try:
        return bench_pages.measure(base, urls, rounds, say=say)
    except (OSError, RuntimeError, websocket.WebSocketException) as error:
        raise BenchError(f"pages in Chromium: {error}") from error


def http_summary(times, figures):
    queries = [count for count, _seconds in figures]
    return {
        "ms": bench_report.median(times) * 1000,
        "p90": bench_report.percentile(times, 0.9) * 1000,
        "server_ms": bench_report.median([seconds for _count, seconds in figures]) * 1000,
        "queries": bench_report.median(queries),
        "queries_range": [min(queries), max(queries)],
    }


def serve(odoo_dir, pg, args, prepared, sections, raw):
    """Start one Odoo HTTP server, measure the parts http and pages on it, stop it."""
    server = None
    try:
        port = free_port()
        server = start_server(odoo_dir, pg, args.db, port)
        say(f"Odoo serves {args.db} on port {port} (pid {server.pid}, log {SERVER_LOG})")
        base = f"http://127.0.0.1:{port}"
        if "http" not in args.skip:
            # Each run leaves the request's attempts, deleted by the next one (bench_populate):
            # their dead rows in the indexes by request would slow down the route's checks run
            # after run, what autovacuum prevents on a live table.
            pg.query("VACUUM ANALYZE payment_transaction, payment_request", args.db)
            say("HTTP: pay page and transaction route against Odoo's")
            http = raw["http"] = run_http(base, pg, args.db, prepared, args.rounds, args.warmup)
            sections.append(("Pay page, logged out, warm (HTTP)", bench_report.http_rows(http)))
        if "pages" not in args.skip:
            say(
                f"Pages in Chromium, cold cache, phone and desktop: {args.page_rounds} loads "
                "of each after a warm-up"
            )
            pages = raw["pages"] = run_pages(base, prepared, args.page_rounds)
            sections.append(
                (
                    "Pages in Chromium, cold cache (medians; anchor: /payment/pay)",
                    bench_report.page_rows(pages),
                )
            )
    finally:
        if server is not None:
            stop_server(server)


# === REPORT === #


def report(args, prepared, sections, raw):
    rows, titles = [], {}
    for title, section_rows in sections:
        titles[len(rows)] = title
        rows.extend(section_rows)
    print()
    print(
        f"make bench --requests {args.requests}: database {args.db}, {prepared['total']} "
        f"payment requests {prepared['states']}; "
        + (
            f"built in {prepared['build_seconds']:.0f}s"
            if prepared["built"]
            else "reused (already built)"
        )
    )
    print(
        f"pay page: {prepared['name']}, {prepared['amount']:.2f} {prepared['currency']}, "
        f"{prepared['partner']}; HTTP {args.rounds} rounds after {args.warmup} warm-up"
    )
    print(bench_report.format_table(rows, titles))
    over = [row for row in rows if bench_report.verdict(row) == "OVER"]
    print(f"{len(over)} figure(s) over target" + (":" if over else ""))
    for row in over:
        print(f"  {row['what']}: {'; '.join(bench_report.failures(row))}")
    JSON_RESULTS.write_text(
        json.dumps(
            {
                "requests": args.requests,
                "database": args.db,
                "prepared": prepared,
                "raw": raw,
                "sections": {
                    title: [bench_report.to_json(row) for row in section_rows]
                    for title, section_rows in sections
                },
            },
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    print(f"written: {JSON_RESULTS}")


# === MAIN === #


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=REQUESTS, help=f"payment requests ({REQUESTS})"
    )
    parser.add_argument("--rounds", type=int, default=50, help="kept HTTP calls of each (50)")
    parser.add_argument("--warmup", type=int, default=5, help="HTTP calls of each first (5)")
    parser.add_argument(
        "--page-rounds", type=int, default=5, help="loads of each page in Chromium (5)"
    )
    parser.add_argument("--list-rounds", type=int, default=9, help="runs of each list case (9)")
    parser.add_argument("--form-rounds", type=int, default=41, help="runs of each form (41)")
    parser.add_argument(
        "--db", default=BENCH_DB, help=f"database, named *bench* (default {BENCH_DB})"
    )
    parser.add_argument(
        "--overdue-customers",
        type=int,
        default=600,
        help="customers whose overdue installments the overdue invoices cron asks (two "
        "invoices each, made in a scratch copy)",
    )
    parser.add_argument(
        "--plan-steps",
        type=int,
        default=10000,
        help="steps of payment plans scheduled today that the plan cron sends (one per order, "
        "in a scratch copy)",
    )
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the database")
    parser.add_argument(
        "--no-update",
        dest="update",
        action="store_false",
        help=f"reuse the database as it is, without -u {ADDON}",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated parts not to measure: http,pages,lists,forms,bulk,cron,overdue,plan",
    )
    args = parser.parse_args(argv)
    if (
        min(
            args.rounds,
            args.warmup,
            args.requests,
            args.list_rounds,
            args.page_rounds,
            args.form_rounds,
            args.overdue_customers,
            args.plan_steps,
        )
        < 1
    ):
        parser.error(
            "--rounds, --warmup, --list-rounds, --page-rounds, --form-rounds, "
            "--overdue-customers, --plan-steps and --requests must be at least 1"
        )
    if args.requests < max(BULK_SIZES):
        parser.error(f"--requests must be at least {max(BULK_SIZES)}")
    if "bench" not in args.db:
        # It adds thousands of requests: never to the test database or the `make run` one.
        parser.error(f"the database's name must contain 'bench', not {args.db!r}")
    args.skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    return args


def main(argv):
    args = parse_args(argv)
    odoo_dir, reason = find_odoo()
    if not odoo_dir:
        print(f"bench: Odoo 18 is needed and was not found: {reason}", file=sys.stderr)
        return 1
    pg, reason = ensure_postgres()
    if reason:
        print(f"bench: PostgreSQL is needed: {reason}", file=sys.stderr)
        return 1
    try:
        import requests  # noqa: F401  (Odoo needs it too: present wherever Odoo runs)
    except ImportError:
        print("bench: the Python package requests is needed", file=sys.stderr)
        return 1
    RESULTS.mkdir(exist_ok=True)
    write_config(CONFIG, odoo_dir, pg, data_dir=RESULTS / "odoo-data")
    say(f"Odoo from {odoo_dir}, PostgreSQL: {pg.origin}, database {args.db}")
    sections, raw = [], {}
    try:
        install_database(odoo_dir, pg, args.db, args.fresh, args.update)
        prepared = run_child(odoo_dir, pg, "bench_populate.py", args.db, args.requests, RESULT_MARK)
        if prepared["built"]:
            say(f"Built up to {prepared['total']} requests in {prepared['build_seconds']:.0f}s")
        else:
            say(f"Reusing {args.db}: {prepared['total']} requests (--fresh rebuilds it)")
        if {"http", "pages"} - args.skip:
            serve(odoo_dir, pg, args, prepared, sections, raw)
        if "lists" not in args.skip:
            say("Backend list: first page of each filter and group-by")
            lists = raw["lists"] = backend(odoo_dir, pg, args.db, "lists", args.list_rounds)
            sections.append(
                (
                    "Backend list Payment Requests, 80 rows (web_search_read)",
                    bench_report.list_rows(lists),
                )
            )
        if "forms" not in args.skip:
            say("Backend forms: customer, order and invoice, with and without the addon's fields")
            forms = raw["forms"] = backend(odoo_dir, pg, args.db, "forms", args.form_rounds)
            sections.append(
                (
                    "Backend forms, opened as the web client does (web_read of the form's fields)",
                    bench_report.form_rows(forms),
                )
            )
        if "bulk" not in args.skip:
            say(f"Bulk send of {', '.join(map(str, BULK_SIZES))} requests (rolled back)")
            bulk = raw["bulk"] = backend(
                odoo_dir, pg, args.db, "bulk", ",".join(map(str, BULK_SIZES))
            )
            sections.append(("Bulk send from the customers' list", bench_report.bulk_rows(bulk)))
        if "cron" not in args.skip:
            say("Expiry cron over every request, made overdue, in a scratch copy")
            cron = raw["cron"] = run_cron(odoo_dir, pg, args.db)
            sections.append(("Expiry cron (scratch copy)", bench_report.cron_rows(cron)))
        if "overdue" not in args.skip:
            say(
                f"Overdue invoices cron over {args.overdue_customers} customers with installments "
                "late, in a scratch copy"
            )
            overdue = raw["overdue"] = run_cron(
                odoo_dir, pg, args.db, "overdue", args.overdue_customers
            )
            sections.append(
                ("Overdue invoices cron (scratch copy)", bench_report.overdue_rows(overdue))
            )
        if "plan" not in args.skip:
            say(
                f"Payment plan cron over {args.plan_steps} steps scheduled today, in a scratch copy"
            )
            plan = raw["plan"] = run_cron(odoo_dir, pg, args.db, "plan", args.plan_steps)
            sections.append(("Payment plan cron (scratch copy)", bench_report.plan_rows(plan)))
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    report(args, prepared, sections, raw)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
