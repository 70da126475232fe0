#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""``make bench``: the pay page against Odoo's ``/payment/pay``, on 10,000 payment requests.

1. A database (``payment_request_bench``, or ``$PAYMENT_REQUEST_BENCH_DB``) with the addon,
   ``payment_demo`` and demo data is made once, then filled through the ORM up to 10,000
   payment requests (created in batches of 1,000 and opened with ``action_open()``). Later
   runs reuse it when it holds them already, after ``-u payment_request`` so that the pay
   page of this checkout is measured (``--no-update`` skips it); ``--fresh`` rebuilds it.
2. One Odoo HTTP server (``odoo-bin``, one process, no cron) is started on a free port, and
   both pages of the same open request are fetched logged out: the pay page
   (``request.get_portal_url()``) and Odoo's ``/payment/pay`` for the same amount, currency,
   partner and company, with its access token. After a warm-up, the two are fetched in
   alternation, ``--rounds`` times each.
3. Printed: the median and 90th percentile of the time of a GET seen by the client, the
   median time Odoo spent on it (SQL + Python, from its request log) and the number of SQL
   queries of each GET, read from the request log: Odoo's werkzeug log line ends with
   "query_count query_time remaining_time" (``odoo.netsvc.PerfFilter``), which counts every
   query of the thread serving the request, Odoo's own per-request ones (session, registry
   check) included: a few more than a test cursor counts. Then the ratios pay page / native.

Every figure is measured in the run. Exits 1 with the reason when Odoo 18 or PostgreSQL is
absent, the database cannot be made or a page does not answer as expected. Files (Odoo config,
install and server logs) are in ``.test-results/``.

Usage: ``bench.py [--rounds N] [--warmup N] [--requests N] [--db NAME] [--fresh | --no-update]``.
"""

import argparse
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
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
REQUESTS = 10_000
BATCH = 1_000
CONFIG = RESULTS / "odoo-bench.conf"
INSTALL_LOG = RESULTS / "bench-install.log"
SERVER_LOG = RESULTS / "bench-server.log"
RESULT_MARK = "BENCH-RESULT "
# Odoo's werkzeug request line, then PerfFilter's "query_count query_time remaining_time".
REQUEST_LINE = re.compile(
    r' werkzeug: .*"GET (?P<url>\S+) HTTP/[\d.]+" (?P<status>\d{3}) \S+ '
    r"(?P<queries>\d+) (?P<query_time>[\d.]+) (?P<remaining>[\d.]+)"
)
# Shown by both pages when they offer Odoo's payment form.
FORM_MARK = "o_payment_form"

# Run in a child Python that imports Odoo: fill the database up to the wanted number of
# requests, make sure the measured one can be paid, and print both URLs as JSON.
PREPARE = r"""
import json
import sys
import time
from datetime import timedelta

import odoo
from odoo import SUPERUSER_ID
from odoo import api
from odoo import fields
from odoo.tools import config
from odoo.tools.misc import hmac

conf, db, wanted, batch, mark = sys.argv[1:6]
wanted, batch = int(wanted), int(batch)
config.parse_config(["-c", conf, "-d", db, "--log-level=warn"], setup_logging=True)
registry = odoo.modules.registry.Registry(db)
# No chatter message nor tracking: a bulk import, not 10,000 users at work.
context = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
with registry.cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, context)
    requests = env["payment.request"]
    provider = env.ref("payment.payment_provider_demo")
    if provider.state != "test" or not provider.is_published:
        provider.write({"state": "test", "is_published": True})
    before = requests.search_count([])
    missing = max(wanted - before, 0)
    if missing:
        company = env.ref("base.main_company")
        requester = env.ref("base.user_admin")
        partners = env["res.partner"].search(
            [
                ("user_ids", "=", False),
                ("type", "=", "contact"),
                ("email", "!=", False),
                ("company_id", "in", [False, company.id]),
            ],
            order="id",
            limit=50,
        )
        if not partners:
            sys.exit("no demo customer to ask payments from: was demo data installed?")
        started = time.monotonic()
        for first in range(before, before + missing, batch):
            numbers = range(first, min(first + batch, before + missing))
            requests.create(
                [
                    {
                        "partner_id": partners[number % len(partners)].id,
                        "company_id": company.id,
                        "user_id": requester.id,
                        "amount": 10 + (number % 997) * 1.25,
                        "purpose": "free",
                        "description": f"Benchmark request {number + 1}",
                    }
                    for number in numbers
                ]
            ).action_open()
            cr.commit()
            env.invalidate_all()
            print(
                f"==> {numbers[-1] + 1} requests "
                f"({time.monotonic() - started:.0f}s)",
                flush=True,
            )
    total = requests.search_count([])
    open_ids = requests.search([("state", "=", "open")], order="id")
    if not open_ids:
        sys.exit("the database holds no open payment request")
    request = open_ids[len(open_ids) // 2]
    if request.expiration_date <= fields.Datetime.now() + timedelta(hours=1):
        # Made on an earlier day: keep it payable, or the page would show "has expired".
        request.write({"expiration_date": fields.Datetime.now() + timedelta(days=1)})
    cr.commit()
    values = (request.partner_id.id, request.amount, request.currency_id.id)
    token = hmac(env(su=True), "generate_access_token", "|".join(map(str, values)))
    native = (
        f"/payment/pay?amount={request.amount}&currency_id={request.currency_id.id}"
        f"&partner_id={request.partner_id.id}&company_id={request.company_id.id}"
        f"&access_token={token}"
    )
    result = {
        "before": before,
        "created": missing,
        "total": total,
        "open": len(open_ids),
        "name": request.name,
        "amount": request.amount,
        "currency": request.currency_id.name,
        "partner": request.partner_id.display_name,
        "ours": request.get_portal_url(),
        "native": native,
    }
    print(mark + json.dumps(result), flush=True)
"""


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
    say(f"Done in {time.monotonic() - started:.0f}s (log: {INSTALL_LOG})")


def prepare(odoo_dir, pg, database, wanted):
    """Fill the database up to ``wanted`` requests; return what the child reported."""
    cmd = [sys.executable, "-c", PREPARE, str(CONFIG), database, str(wanted), str(BATCH)]
    child = subprocess.Popen(
        [*cmd, RESULT_MARK],
        stdout=subprocess.PIPE,
        text=True,
        env=odoo_env(odoo_dir, pg),
    )
    result = None
    for line in child.stdout:
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
        else:
            print(line, end="", flush=True)
    code = child.wait()
    if code or result is None:
        raise BenchError(f"filling the database {database} failed (exit code {code})")
    return result


# === HTTP SERVER === #


def free_port():
    """Return a TCP port of the loopback interface that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(odoo_dir, pg, database, port):
    """Start one Odoo HTTP server process on ``port``; return it once it answers."""
    import requests

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
    server = subprocess.Popen(
        cmd,
        env=odoo_env(odoo_dir, pg),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"odoo-bin stopped with {server.returncode}; see {SERVER_LOG}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/web/health", timeout=5).ok:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_server(server)
    raise BenchError(f"odoo-bin did not answer on port {port} within 120s; see {SERVER_LOG}")


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


# === MEASURE === #


def fetch(session, base, url):
    """GET ``url`` logged out; return ``(seconds, body)``, or raise unless it answers 200."""
    started = time.perf_counter()
    response = session.get(base + url, allow_redirects=False, timeout=60)
    body = response.text
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise BenchError(f"GET {url.split('?')[0]} answered {response.status_code}")
    return elapsed, body


def measure(base, urls, rounds, warmup):
    """Fetch each of ``urls`` (name -> URL) in alternation; return name -> list of seconds.

    The first ``warmup`` rounds are not kept. The order alternates every round, so that
    neither page is always the one fetched right after the other.
    """
    import requests

    session = requests.Session()  # no login: the public user, as a customer opening a link
    names = list(urls)
    times = {name: [] for name in names}
    for number in range(warmup + rounds):
        for name in names if number % 2 == 0 else reversed(names):
            elapsed, body = fetch(session, base, urls[name])
            if number == 0 and FORM_MARK not in body:
                raise BenchError(f"{urls[name].split('?')[0]} shows no payment form")
            if number >= warmup:
                times[name].append(elapsed)
    return times


def server_figures(urls, rounds, warmup):
    """Return name -> list of ``(queries, seconds in Odoo)`` of the kept GETs, from the log."""
    expected = warmup + rounds
    figures = {}
    deadline = time.monotonic() + 10
    while True:
        lines = SERVER_LOG.read_text(encoding="utf-8", errors="replace").splitlines()
        matches = [match for line in lines if (match := REQUEST_LINE.search(line))]
        for name, url in urls.items():
            figures[name] = [
                (int(match["queries"]), float(match["query_time"]) + float(match["remaining"]))
                for match in matches
                if match["url"] == url
            ]
        if all(len(found) >= expected for found in figures.values()):
            return {name: found[warmup:expected] for name, found in figures.items()}
        if time.monotonic() > deadline:
            counts = ", ".join(f"{name} {len(found)}" for name, found in figures.items())
            raise BenchError(
                f"the server log holds fewer request lines than GETs ({counts}, "
                f"{expected} each expected); see {SERVER_LOG}"
            )
        time.sleep(0.2)


# === REPORT === #


def p90(values):
    """Return the 90th percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def summary(times, figures):
    """Return the figures of one page: client median and p90, Odoo median, queries."""
    queries = [count for count, _seconds in figures]
    return {
        "median": statistics.median(times) * 1000,
        "p90": p90(times) * 1000,
        "server": statistics.median(seconds for _count, seconds in figures) * 1000,
        "queries": statistics.median(queries),
        "queries_range": (min(queries), max(queries)),
    }


def report(prepared, database, rounds, warmup, results):
    """Print the table of both pages and their ratios."""
    ours, native = results["ours"], results["native"]

    def count(figures):
        low, high = figures["queries_range"]
        return f"{low}" if low == high else f"{figures['queries']:g} ({low}-{high})"

    rows = [
        (f"GET (warm, {rounds} rounds)", "median ms", "p90 ms", "Odoo ms", "queries"),
        *(
            (
                label,
                f"{figures['median']:.1f}",
                f"{figures['p90']:.1f}",
                f"{figures['server']:.1f}",
                count(figures),
            )
            for label, figures in (
                ("pay page /payment_request", ours),
                ("native /payment/pay", native),
            )
        ),
        (
            "ratio (pay page / native)",
            *(f"{ours[key] / native[key]:.2f}x" for key in ("median", "p90", "server")),
            f"{ours['queries'] / native['queries']:.2f}x",
        ),
    ]
    print()
    print(f"database {database}: {prepared['total']} payment requests ({prepared['open']} open)")
    print(
        f"measured: {prepared['name']}, {prepared['amount']:.2f} {prepared['currency']}, "
        f"{prepared['partner']}; {warmup} warm-up rounds not kept"
    )
    for row in rows:
        print(f"{row[0]:<27}{row[1]:>10}{row[2]:>9}{row[3]:>10}   {row[4]}")
    print(
        "ms: a whole GET seen by the client (median, 90th percentile) and the time Odoo spent "
        "on it (median);\nqueries: SQL queries of the request, from Odoo's werkzeug log"
    )


# === MAIN === #


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50, help="kept GETs of each page (50)")
    parser.add_argument("--warmup", type=int, default=5, help="GETs of each page first (5)")
    parser.add_argument(
        "--requests", type=int, default=REQUESTS, help=f"payment requests ({REQUESTS})"
    )
    parser.add_argument(
        "--db", default=BENCH_DB, help=f"database, named *bench* (default {BENCH_DB})"
    )
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the database")
    parser.add_argument(
        "--no-update",
        dest="update",
        action="store_false",
        help=f"reuse the database as it is, without -u {ADDON}",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 1 or args.requests < 1:
        parser.error("--rounds, --warmup and --requests must be at least 1")
    if "bench" not in args.db:
        # It adds thousands of requests: never to the test database or the `make run` one.
        parser.error(f"the database's name must contain 'bench', not {args.db!r}")
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
    server = None
    try:
        install_database(odoo_dir, pg, args.db, args.fresh, args.update)
        started = time.monotonic()
        prepared = prepare(odoo_dir, pg, args.db, args.requests)
        if prepared["created"]:
            say(
                f"Filled in {time.monotonic() - started:.0f}s: {prepared['created']} requests "
                f"created and opened ({prepared['before']} before)"
            )
        else:
            say(
                f"Reusing the database {args.db}: it already holds {prepared['total']} "
                f"requests (--fresh rebuilds it)"
            )
        started = time.monotonic()
        port = free_port()
        server = start_server(odoo_dir, pg, args.db, port)
        say(f"Odoo serves {args.db} on port {port} (pid {server.pid}, log {SERVER_LOG})")
        urls = {"ours": prepared["ours"], "native": prepared["native"]}
        times = measure(f"http://127.0.0.1:{port}", urls, args.rounds, args.warmup)
        figures = server_figures(urls, args.rounds, args.warmup)
        stop_server(server)
        say(f"Measured in {time.monotonic() - started:.0f}s (server start included)")
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            stop_server(server)
    results = {name: summary(times[name], figures[name]) for name in urls}
    report(prepared, args.db, args.rounds, args.warmup, results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
