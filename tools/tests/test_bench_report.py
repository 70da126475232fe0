# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The pure helpers of ``make bench``: percentiles, ratios, targets, the table, the JSON."""

import json

import bench_report
import pytest
from bench_report import Target

# === NUMBERS === #


def test_percentile_is_the_nearest_rank():
    values = list(range(1, 11))  # 1..10
    assert bench_report.percentile(values, 0.9) == 9
    assert bench_report.percentile(values, 0.5) == 5
    assert bench_report.percentile([7], 0.9) == 7
    assert bench_report.percentile([], 0.9) is None


def test_median_of_odd_even_and_empty():
    assert bench_report.median([3, 1, 2]) == 2
    assert bench_report.median([4, 1, 3, 2]) == 2.5
    assert bench_report.median([]) is None


@pytest.mark.parametrize(
    ("value", "anchor", "expected"),
    [(30, 20, 1.5), (None, 20, None), (30, None, None), (30, 0, None)],
)
def test_ratio_is_none_without_a_usable_anchor(value, anchor, expected):
    assert bench_report.ratio(value, anchor) == expected


def test_linear_fit_splits_fixed_and_per_request_queries():
    fixed, per_request = bench_report.linear_fit([(50, 135), (500, 585)])
    assert fixed == pytest.approx(85)
    assert per_request == pytest.approx(1)


def test_linear_fit_of_one_size():
    assert bench_report.linear_fit([(50, 100)]) == (0.0, 2.0)


# === TARGETS === #


def page_row(**values):
    row = {
        "what": "pay page GET",
        "ms": 33.0,
        "p90": 40.0,
        "anchor_ms": 30.0,
        "anchor_p90": 38.0,
        "queries": 28,
        "anchor_queries": 25,
        "target": Target(max_ratio=1.10, max_extra_queries=3),
    }
    return {**row, **values}


def test_row_within_its_target_is_ok():
    assert bench_report.failures(page_row()) == []
    assert bench_report.verdict(page_row()) == "ok"


def test_ratio_over_target_is_reported_with_its_figure():
    row = page_row(ms=36.0)  # 1.20x
    assert bench_report.failures(row) == ["ms 1.20x > 1.10x"]
    assert bench_report.verdict(row) == "OVER"


def test_p90_and_extra_queries_are_checked_too():
    row = page_row(p90=50.0, queries=29)
    assert bench_report.failures(row) == ["p90 1.32x > 1.10x", "queries +4 > +3"]


def test_ceilings_without_anchor():
    row = {"what": "cron", "ms": 61_000.0, "queries": 20, "target": Target(max_ms=60_000)}
    assert bench_report.failures(row) == ["61000.0 ms > 60000 ms"]
    row = {"what": "bulk", "ms": 5.0, "queries": 16.5, "target": Target(max_queries=15)}
    assert bench_report.failures(row) == ["queries 16.5 > 15"]


def test_row_without_target_has_no_verdict():
    row = {"what": "anchor", "ms": 20.0, "queries": 14}
    assert bench_report.verdict(row) == ""
    assert bench_report.failures(row) == []


def test_target_describes_itself():
    assert Target(1.2, 5, 200).describe() == "<=1.20x q<=+5 <=200ms"
    assert Target(max_queries=15).describe() == "q<=15"


# === TABLE AND JSON === #


def test_table_aligns_rows_under_their_section_titles():
    rows = [page_row(), {"what": "anchor", "ms": 20.0, "queries": 14, "note": "100000 orders"}]
    text = bench_report.format_table(rows, {0: "Pay page", 1: "Lists"})
    lines = text.splitlines()
    assert lines[0].startswith("what")
    assert set(lines[1]) == {"-"}
    assert lines[2] == "[Pay page]"
    assert "1.10x" in lines[3] and "1.05x" in lines[3] and "ok" in lines[3]
    assert lines[4] == "[Lists]"
    assert lines[5].startswith("anchor") and lines[5].endswith("100000 orders")
    # the columns line up: each figure ends at the same place on every line
    assert lines[0].index("queries") + len("queries") == lines[3].index("28") + 2


def test_json_row_carries_ratios_and_verdict():
    data = bench_report.to_json(page_row(ms=36.0))
    assert json.loads(json.dumps(data)) == data
    assert data["ratio"] == pytest.approx(1.2)
    assert data["verdict"] == "OVER"
    assert data["target"] == "<=1.10x q<=+3"
    assert data["failures"] == ["ms 1.20x > 1.10x"]


# === ROWS OF EACH PART === #


def test_list_rows_compare_each_case_with_the_orders_list():
    lists = {
        "orders": 1000,
        "cases": [
            ["Sales > Orders, first page (anchor)", 20.0, 14, 1000],
            ["filter open", 22.0, 10, 300],
            ["filter not_delivered", 1000.0, 50, 70],
            ["group by state", 30.0, 1, 5],
        ],
    }
    rows = bench_report.list_rows(lists)
    assert [bench_report.verdict(row) for row in rows] == ["", "ok", "OVER", "OVER"]
    assert bench_report.failures(rows[2]) == ["ms 50.00x > 1.20x", "1000.0 ms > 200 ms"]
    assert rows[3]["note"] == "5 groups"


def test_bulk_rows_are_per_request_with_the_fit():
    bulk = [
        {"size": 50, "created": 50, "queries": 135, "seconds": 1.0},
        {"size": 500, "created": 500, "queries": 585, "seconds": 10.0},
    ]
    rows = bench_report.bulk_rows(bulk)
    assert [row["queries"] for row in rows] == [2.7, 1.17]
    assert rows[0]["ms"] == pytest.approx(20.0)
    assert "fit 85 + 1.00/request" in rows[1]["note"]
    assert all(bench_report.verdict(row) == "ok" for row in rows)


def test_cron_row_is_over_beyond_a_minute():
    cron = {
        "overdue": 100000,
        "left_open": 0,
        "seconds": 105.0,
        "batches": 100,
        "queries_per_batch": [33, 47, 48],
        "seconds_per_batch": [1.0, 1.1, 1.0],
    }
    (row,) = bench_report.cron_rows(cron)
    assert bench_report.failures(row) == ["105000.0 ms > 60000 ms"]
    assert "queries/batch 33-48" in row["note"]


def test_overdue_row_counts_queries_per_customer_of_each_batch():
    overdue = {
        "customers": 600,
        "invoices": 1200,
        "build_seconds": 80.0,
        "requests": 600,
        "asked": [70.0],
        "seconds": 30.0,
        "batches": 4,
        "queries_per_batch": [2600, 2610, 2590, 3],
        "seconds_per_batch": [9.0, 9.5, 9.1, 0.01],
        "customers_per_batch": [200, 200, 200, 0],
    }
    (row,) = bench_report.overdue_rows(overdue)
    assert row["queries"] == 13.1
    assert bench_report.failures(row) == []
    assert "queries/batch 3-2610" in row["note"]
    assert "asking 70" in row["note"]
    overdue["queries_per_batch"][1] = 3200
    (row,) = bench_report.overdue_rows(overdue)
    assert bench_report.failures(row) == ["queries 16 > 15"]


def form(model, ms, ms_without, **values):
    return {
        "model": model,
        "label": f"{model} form",
        "record_id": 7,
        "record": "Bench",
        "views": [f"payment_request.{model}_view_form"],
        "addon_fields": ["payment_request_count", "payment_request_wallet_balance"],
        "fields": 60,
        "fields_without": 58,
        "ms": ms,
        "queries": 12,
        "ms_without": ms_without,
        "queries_without": 9,
        **values,
    }


def test_form_rows_compare_each_form_with_itself_without_the_addon_fields():
    forms = {
        "rounds": 15,
        "forms": [
            form("res.partner", 10.5, 10.0, payment_request_count=42),
            form("sale.order", 23.0, 20.0),
        ],
    }
    partner, order = bench_report.form_rows(forms)
    assert partner["anchor_ms"] == 10.0 and partner["anchor_queries"] == 9
    assert bench_report.verdict(partner) == "ok"  # 1.05x
    assert bench_report.failures(order) == ["ms 1.15x > 1.10x"]
    assert partner["note"] == (
        "res.partner 7 (42 requests); 60 vs 58 fields; "
        "addon's: payment_request_count, payment_request_wallet_balance"
    )
    assert "requests)" not in order["note"]
    text = bench_report.format_table([partner, order])
    assert "1.05x" in text and "1.15x" in text and "OVER" in text
    assert bench_report.to_json(order)["target"] == "<=1.10x"


def test_form_row_without_addon_fields_says_so():
    (row,) = bench_report.form_rows({"forms": [form("account.move", 5.0, 5.0, addon_fields=[])]})
    assert row["note"].endswith("addon's: none")
    assert bench_report.verdict(row) == "ok"
