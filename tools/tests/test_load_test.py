# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The pure parts of ``make load``: step figures, the server log, the check of each request,
the summary and its verdict."""

import load_test
import pytest

# === STEP FIGURES === #


def test_step_stats_are_nearest_rank_percentiles_in_milliseconds():
    stats = load_test.step_stats([index / 1000 for index in range(1, 101)])  # 1..100 ms
    assert stats["n"] == 100
    assert stats["p50"] == pytest.approx(50)
    assert stats["p95"] == pytest.approx(95)
    assert stats["p99"] == pytest.approx(99)
    assert stats["max"] == pytest.approx(100)


def test_step_stats_of_nothing():
    assert load_test.step_stats([]) == {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}


# === SERVER LOG === #

DB = "payment_request_bench_load"
WERKZEUG = '127.0.0.1 - - "{} HTTP/1.1" {} - 30 0.020 0.050'
LOG = "\n".join(
    [
        f"2026-12-01 03:29:13,100 18796 INFO {DB} werkzeug: "
        + WERKZEUG.format("GET /payment_request/5", 200),
        f"2026-12-01 03:29:13,214 18796 ERROR {DB} odoo.sql_db: "
        "bad query: b'SELECT id FROM payment_request WHERE id = 5 FOR UPDATE'",
        "ERROR: could not serialize access due to concurrent update",
        " ",
        f"2026-12-01 03:29:13,242 18796 INFO {DB} odoo.service.model: "
        "SERIALIZATION_FAILURE, 4 tries left, try again in 0.7565 sec...",
        f"2026-12-01 03:29:14,000 18790 INFO {DB} odoo.service.model: "
        "DEADLOCK_DETECTED, 3 tries left, try again in 0.5 sec...",
        f"2026-12-01 03:29:15,167 18793 ERROR {DB} odoo.http: Exception during request handling.",
        "Traceback (most recent call last):",
        '  File "/odoo/addons/payment/controllers/post_processing.py", line 60, in poll_status',
        "    raise Exception('retry')",
        "Exception: retry",
        f"2026-12-01 03:29:16,000 18793 INFO {DB} odoo.service.model: "
        "SERIALIZATION_FAILURE, maximum number of tries reached!",
        f"2026-12-01 03:29:16,100 18793 ERROR {DB} odoo.http: Exception during request handling.",
        "Traceback (most recent call last):",
        '  File "/odoo/odoo/sql_db.py", line 357, in execute',
        "psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update",
        f"2026-12-01 03:29:17,000 18791 ERROR {DB} "
        "odoo.addons.payment.controllers.post_processing: Encountered an error",
        "Expected singleton: account.payment.method.line(5, 6)",
        "Traceback (most recent call last):",
        "ValueError: Expected singleton: account.payment.method.line(5, 6)",
        f"2026-12-01 03:29:17,500 21171 ERROR {DB} odoo.service.server: "
        "WorkerCron (21326) timeout after 120s",
        f"2026-12-01 03:29:18,000 18791 INFO {DB} werkzeug: "
        + WERKZEUG.format("POST /payment/status/poll", 500),
        f"2026-12-01 03:29:19,000 18791 WARNING {DB} odoo.http: This request is already paid.",
    ]
)


def test_log_records_keep_tracebacks_with_their_record():
    records = load_test.log_records(LOG.splitlines())
    assert [(level, logger) for level, logger, _lines in records][:3] == [
        ("INFO", "werkzeug"),
        ("ERROR", "odoo.sql_db"),
        ("INFO", "odoo.service.model"),
    ]
    assert records[1][2][1] == "ERROR: could not serialize access due to concurrent update"
    assert records[4][2][-1] == "Exception: retry"


def test_scan_log_tells_retried_failures_from_those_reaching_the_customer():
    scanned = load_test.scan_log(LOG.splitlines())
    counts = scanned["counts"]
    assert counts["serialization_retries"] == 1
    assert counts["deadlock_retries"] == 1
    assert counts["lock_retries"] == 0
    assert counts["retries_exhausted"] == 1
    # the failed query Odoo retried is logged as an ERROR but is not one
    assert counts["failed_queries_retried"] == 1
    # Odoo's "retry" answer of the status poll: its page polls again
    assert counts["poll_retries"] == 1
    # the serialization failure that reached the customer, and the broken post-processing
    assert counts["errors"] == 2
    assert counts["serialization_errors"] == 1
    assert counts["deadlock_errors"] == 0
    # the cron worker killed past --limit-time-real
    assert counts["worker_timeouts"] == 1
    assert counts["tracebacks"] == 3
    assert counts["http_5xx"] == 1
    assert scanned["examples"]["errors"][1].endswith("Encountered an error")


def test_scan_log_of_a_quiet_server_counts_nothing():
    lines = LOG.splitlines()[:1] + LOG.splitlines()[-1:]
    assert not any(load_test.scan_log(lines)["counts"].values())


# === EACH REQUEST === #


def tx(tx_id, state="done", processed=True, duplicate=None):
    return {
        "id": tx_id,
        "reference": f"PR/{tx_id}",
        "state": state,
        "is_post_processed": processed,
        "duplicate_state": duplicate,
    }


def request_row(*transactions, state="paid", paid_by=1, twice=False):
    return {
        "name": "PR/1",
        "state": state,
        "is_paid_twice": twice,
        "paid_transaction_id": paid_by,
        "transactions": list(transactions),
    }


def test_request_paid_once_is_right():
    assert load_test.check_request(request_row(tx(1)), 1) == []
    # a draft left by a refused or abandoned tab does not count
    assert load_test.check_request(request_row(tx(1), tx(2, "draft")), 1) == []


def test_request_paid_twice_needs_the_duplicate_recorded():
    right = request_row(tx(1), tx(2, duplicate="detected"), twice=True)
    assert load_test.check_request(right, 2) == []
    unrecorded = request_row(tx(1), tx(2))
    assert load_test.check_request(unrecorded, 2) == [
        "paid twice but is_paid_twice is not set",
        "0 duplicate(s) recorded among 2 done transactions",
    ]
    wrong_one = request_row(tx(1, duplicate="detected"), tx(2), twice=True)
    assert load_test.check_request(wrong_one, 2) == [
        "the transaction that paid it is flagged as the duplicate"
    ]


def test_request_with_more_done_payments_than_made():
    row = request_row(tx(1), tx(2, duplicate="detected"), twice=True)
    assert load_test.check_request(row, 1) == ["2 done transaction(s) for 1 payment(s) made"]


def test_request_paid_but_not_settled():
    row = request_row(tx(1, processed=False), state="open", paid_by=None)
    assert load_test.check_request(row, 1) == [
        "state open after a payment",
        "not post-processed: PR/1",
        "paid by none of its done transactions",
    ]


def test_request_flagged_twice_with_one_payment():
    row = request_row(tx(1), twice=True)
    assert load_test.check_request(row, 1) == ["flagged paid twice with one payment"]


# === SUMMARY AND VERDICT === #


def call(step, seconds=0.05, status=200, error=None, refused=False):
    return {"step": step, "seconds": seconds, "status": status, "error": error, "refused": refused}


def tab(phase, request_id, paid=1, calls=None, finished=True, number=1, refused=None):
    steps = ("page", "transaction", "simulate", "status", "poll", "landing")
    return {
        "phase": phase,
        "request_id": request_id,
        "tab": number,
        "paid": paid,
        "refused": refused,
        "finished": finished,
        "poll_retries": 0,
        "calls": calls if calls is not None else [call(step) for step in steps],
    }


QUIET = {"counts": load_test.scan_log([])["counts"], "examples": {}}


REFUSAL = (
    "A payment of this request was started a moment ago, maybe in another window. Check that "
    "window, or try again in a few seconds."
)


def refused_tab(phase, request_id, number=2, message=REFUSAL):
    """A tab whose payment was refused by the transaction route, with `message`."""
    return tab(
        phase,
        request_id,
        paid=0,
        number=number,
        refused=message,
        calls=[call("page"), call("transaction", error=message, refused=True)],
    )


def test_summary_of_a_good_run_passes():
    tabs = [
        tab("phase 1", 1),
        tab("phase 1", 2),
        tab("phase 2", 3, number=1),
        refused_tab("phase 2", 3, number=2),
        # either tab may win the lock
        refused_tab("phase 2", 4, number=1),
        tab("phase 2", 4, number=2),
    ]
    requests = {
        "1": request_row(tx(11), paid_by=11),
        "2": request_row(tx(12), paid_by=12),
        "3": request_row(tx(13), paid_by=13),
        "4": request_row(tx(15), paid_by=15),
    }
    summary = load_test.summarize(tabs, requests, QUIET)
    counts = summary["counts"]
    assert summary["failures"] == []
    assert counts["customers_paid_once"] == 2
    assert counts["customers_not_paid_once"] == 0
    assert (counts["pairs_paid_once"], counts["pairs_paid_twice"]) == (2, 0)
    assert counts["pairs_other_tab_refused"] == 2
    assert counts["double_payments_recorded"] == 0
    assert counts["refusals"] == 2 and counts["unexpected_errors"] == 0
    assert summary["steps"]["phase 2"]["transaction"]["refused"] == 2
    assert summary["steps"]["phase 1"]["page"]["n"] == 2
    expected = "paid once, other tab refused"
    assert summary["pairs"] == {
        "3": {"outcome": expected, "tabs": ["tab 1 paid", f"tab 2 refused: {REFUSAL}"]},
        "4": {"outcome": expected, "tabs": [f"tab 1 refused: {REFUSAL}", "tab 2 paid"]},
    }
    text = load_test.format_summary(summary)
    assert text.splitlines()[0].split() == [
        "phase", "step", "n", "p50", "ms", "p95", "ms", "p99", "ms", "max", "ms", "errors",
        "refused",
    ]  # fmt: skip
    assert "phase 2  transaction" in text
    assert "pairs_paid_twice 0" in text


def test_summary_flags_a_pair_paid_twice_even_when_recorded_as_a_duplicate():
    """Two tabs paying at the same instant must not both pay: the second one is refused. Both
    paying is a real double payment, a failure of the run; its duplicate is still checked."""
    tabs = [tab("phase 2", 4, number=1), tab("phase 2", 4, number=2)]
    requests = {"4": request_row(tx(15), tx(16, duplicate="detected"), paid_by=15, twice=True)}
    summary = load_test.summarize(tabs, requests, QUIET)
    assert summary["problems"] == {}
    assert summary["counts"]["pairs_paid_twice"] == 1
    assert summary["counts"]["double_payments_recorded"] == 1
    assert summary["pairs"]["4"] == {"outcome": "paid twice", "tabs": ["tab 1 paid", "tab 2 paid"]}
    assert summary["failures"] == ["1 pairs paid twice: the second tab was not refused"]
    # not recorded as a duplicate: that is flagged too
    requests = {"4": request_row(tx(15), tx(16), paid_by=15)}
    summary = load_test.summarize(tabs, requests, QUIET)
    assert summary["failures"] == [
        "1 requests not paid exactly once per payment made",
        "1 pairs paid twice: the second tab was not refused",
    ]


def test_pair_whose_other_tab_failed_is_told_apart_from_a_refusal():
    failed = tab(
        "phase 2",
        5,
        paid=0,
        number=2,
        finished=False,
        calls=[call("page"), call("transaction", status=None, error="ConnectionError: reset")],
    )
    outcomes = load_test.pair_outcomes([tab("phase 2", 5, number=1), failed, tab("phase 1", 1)])
    assert outcomes == {
        "5": {
            "outcome": "paid once, other tab failed",
            "tabs": ["tab 1 paid", "tab 2 failed: ConnectionError: reset"],
        }
    }
    both_refused = [refused_tab("phase 2", 6, number=1), refused_tab("phase 2", 6, number=2)]
    assert load_test.pair_outcomes(both_refused)["6"]["outcome"] == "not paid"


def test_summary_fails_on_5xx_unpaid_customers_and_errors_in_the_log():
    tabs = [
        tab("phase 1", 1),
        tab(
            "phase 1",
            2,
            paid=0,
            finished=False,
            calls=[call("page"), call("transaction", status=500, error="POST answered 500")],
        ),
    ]
    requests = {"1": request_row(tx(11), paid_by=11), "2": request_row(state="open", paid_by=None)}
    counts = dict(QUIET["counts"], errors=2, serialization_retries=4)
    log = {"counts": counts, "examples": {}}
    summary = load_test.summarize(tabs, requests, log)
    assert summary["failures"] == [
        "1 answers 5xx",
        "1 calls answered an error that is not a refusal for the customer",
        "1 customers (tabs) not finished within the time",
        "1 customers (phase 1) whose request is not paid exactly once",
        "2 other ERROR records in the server log",
    ]
    assert summary["counts"]["non_2xx"] == 1
    # Odoo's own retries are counted, not failed
    assert summary["counts"]["serialization_retries"] == 4


def test_summary_fails_when_a_payment_is_lost():
    tabs = [tab("phase 2", 3, number=1), tab("phase 2", 3, number=2)]
    requests = {"3": request_row(tx(13), paid_by=13)}  # two payments made, one booked
    summary = load_test.summarize(tabs, requests, QUIET)
    assert summary["problems"] == {"3": ["1 done transaction(s) for 2 payment(s) made"]}
    assert summary["failures"] == [
        "1 requests not paid exactly once per payment made",
        "1 pairs paid twice: the second tab was not refused",
    ]


def test_failures_name_serialization_failures_reaching_the_customer():
    counts = dict(
        QUIET["counts"],
        retries_exhausted=1,
        serialization_errors=1,
        deadlock_errors=2,
        worker_timeouts=4,
    )
    assert load_test.failures(counts) == [
        "1 serialization failures or deadlocks not overcome by Odoo's retries",
        "1 serialization failures in ERROR records",
        "2 deadlocks in ERROR records",
        "4 workers killed past --limit-time-real (log lines)",
    ]


def test_free_ports_are_distinct_and_within_the_range():
    ports = load_test.free_ports(2, "40100-40199")
    assert len(set(ports)) == 2
    assert all(40100 <= port <= 40199 for port in ports)
