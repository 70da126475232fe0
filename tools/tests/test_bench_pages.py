# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The pure parts of the pages measured by ``make bench``: profiles, CLS, transfer, medians,
and their rows in the table with the issue's targets."""

import bench_pages
import bench_report
import pytest

# === PROFILES === #


def commands(profile):
    return dict(bench_pages.profile_commands(bench_pages.PROFILES[profile]))


def test_phone_profile_is_throttled_as_the_issue_says():
    phone = commands("phone")
    network = phone["Network.emulateNetworkConditions"]
    assert network["downloadThroughput"] == 9_000_000 / 8
    assert network["uploadThroughput"] == 1_500_000 / 8
    assert network["latency"] == 150
    assert network["offline"] is False
    assert phone["Emulation.setCPUThrottlingRate"] == {"rate": 4}
    metrics = phone["Emulation.setDeviceMetricsOverride"]
    assert (metrics["width"], metrics["height"], metrics["mobile"]) == (390, 844, True)
    assert "Mobile" in phone["Emulation.setUserAgentOverride"]["userAgent"]


def test_desktop_profile_is_not_throttled():
    desktop = commands("desktop")
    assert "Network.emulateNetworkConditions" not in desktop
    assert "Emulation.setUserAgentOverride" not in desktop
    assert desktop["Emulation.setCPUThrottlingRate"] == {"rate": 1}
    metrics = desktop["Emulation.setDeviceMetricsOverride"]
    assert (metrics["width"], metrics["height"], metrics["mobile"]) == (1280, 800, False)


def test_ready_script_watches_the_selector_and_the_layout_shifts():
    script = bench_pages.ready_script(bench_pages.PAY_BUTTON, False)
    assert '"button[name=\\"o_payment_submit_button\\"]"' in script
    assert "MutationObserver" in script and "layout-shift" in script
    assert "performance.now()" in script


# === CLS AND TRANSFER === #


def test_cls_sums_the_shifts_without_recent_input():
    entries = [
        {"value": 0.02, "hadRecentInput": False},
        {"value": 0.5, "hadRecentInput": True},
        {"value": 0.013},
    ]
    assert bench_pages.cls_sum(entries) == pytest.approx(0.033)
    assert bench_pages.cls_sum([]) == 0


def event(method, request_id, **params):
    return {"method": method, "params": {"requestId": request_id, **params}}


def loaded(request_id, url, size, encoding=""):
    headers = {"Content-Encoding": encoding} if encoding else {}
    return [
        event("Network.requestWillBeSent", request_id, request={"url": url}),
        event("Network.responseReceived", request_id, response={"headers": headers}, type="Script"),
        event("Network.loadingFinished", request_id, encodedDataLength=size),
    ]


def test_network_figures_sum_the_transfer_and_set_apart_third_parties():
    events = [
        *loaded("1", "http://127.0.0.1:8069/payment_request/1?access_token=x", 10240),
        *loaded("2", "http://127.0.0.1:8069/web/assets/1/web.assets_frontend_lazy.min.js", 51200),
        *loaded("3", "https://js.provider.example/v3/", 20480, "br"),
        *loaded("4", "data:image/png;base64,AAAA", 99999),
        event("Network.requestWillBeSent", "5", request={"url": "http://127.0.0.1:8069/x"}),
    ]
    figures = bench_pages.network_figures(events)
    assert figures["kb"] == pytest.approx(80)
    assert figures["requests"] == 3
    assert figures["kb_own"] == pytest.approx(60)
    assert figures["requests_own"] == 2
    assert figures["resources"]["web.assets_frontend_lazy.min.js"][0] == pytest.approx(50)
    assert figures["resources"]["v3"][1] == "br"


def test_in_flight_are_the_requests_not_finished_nor_failed():
    events = [
        *loaded("1", "http://127.0.0.1:8069/web/a.js", 100),
        event("Network.requestWillBeSent", "2", request={"url": "http://127.0.0.1:8069/b.js"}),
        event("Network.requestWillBeSent", "3", request={"url": "http://127.0.0.1:8069/c"}),
        event("Network.loadingFailed", "3"),
        event("Network.requestWillBeSent", "4", request={"url": "data:image/png;base64,AA"}),
    ]
    assert bench_pages.in_flight(events) == {"2"}
    assert bench_pages.in_flight(events[:3]) == set()


def test_quotation_page_is_ready_once_the_public_root_started():
    selector, after_start = bench_pages.READY["quote"]
    script = bench_pages.ready_script(selector, after_start)
    assert "odoo.__WOWL_DEBUG__" in script and "o_payment_request_approve" in script
    assert bench_pages.READY["pay"] == (bench_pages.PAY_BUTTON, False)


@pytest.mark.parametrize(
    ("url", "third"),
    [
        ("http://127.0.0.1:8069/web/x.js", False),
        ("http://localhost:8069/web/x.js", False),
        ("http://[::1]:8069/web/x.js", False),
        ("https://js.stripe.com/v3/", True),
        ("data:image/png;base64,AA", False),
    ],
)
def test_third_party_is_any_host_but_the_loopback(url, third):
    assert bench_pages.is_third_party(url) is third


# === MEDIANS === #


def a_load(ready, kb, **values):
    return {
        "ready_ms": ready,
        "first_paint_ms": 100.0,
        "fcp_ms": 120.0,
        "kb": kb,
        "requests": 10,
        "kb_own": kb,
        "requests_own": 10,
        "cls": 0.01,
        "resources": {"a.js": [kb - 10, "", "Script"], "b.css": [10, "gzip", "Stylesheet"]},
        **values,
    }


def test_aggregate_takes_the_medians_of_the_loads():
    result = bench_pages.aggregate([a_load(3000, 700), a_load(1000, 500), a_load(2000, 600)])
    assert result["ready_ms"] == 2000
    assert result["kb"] == 600
    assert result["loads"] == 3
    assert result["not_ready"] == 0
    assert result["heaviest"][0] == ["a.js", 590, ""]
    assert result["heaviest"][1][0] == "b.css"
    assert result["shifts"] == []
    shifted = bench_pages.aggregate([a_load(1000, 500, shifts=[[0.05, 900, ["div.card"]]])])
    assert shifted["shifts"] == [[0.05, 900, ["div.card"]]]


def test_aggregate_counts_the_loads_never_ready():
    result = bench_pages.aggregate([a_load(None, 700), a_load(1000, 500), a_load(3000, 600)])
    assert result["ready_ms"] == 2000
    assert result["not_ready"] == 1


# === ROWS AND TARGETS === #


def figures(ready, kb, first_paint=800.0, cls=0.0):
    return {
        "ready_ms": ready,
        "first_paint_ms": first_paint,
        "fcp_ms": first_paint,
        "kb": kb,
        "requests": 12,
        "kb_own": kb,
        "requests_own": 12,
        "cls": cls,
        "not_ready": 0,
        "heaviest": [["web.assets_frontend_lazy.min.js", 400.0, "gzip"]],
    }


def rows_by_label(pages):
    return {row["what"]: row for row in bench_report.page_rows(pages)}


def test_page_rows_compare_with_payment_pay_and_print_over():
    pages = {
        "phone": {
            "pay": figures(1900, 550),
            "native": figures(3000, 700),
            "quote": figures(2500, 900, cls=0.2),
        },
        "desktop": {"pay": figures(700, 550), "native": figures(500, 700)},
    }
    rows = rows_by_label(pages)
    ready = rows["phone pay page: ready to pay (ms)"]
    assert ready["anchor_ms"] == 3000
    # 1900 ms is under 2.0 s but 0.63x /payment/pay, over 0.5x
    assert bench_report.verdict(ready) == "OVER"
    assert bench_report.failures(ready) == ["ms 0.63x > 0.50x"]
    assert bench_report.verdict(rows["desktop pay page: ready to pay (ms)"]) == "OVER"
    assert bench_report.verdict(rows["phone pay page: transferred (KB)"]) == "ok"
    assert bench_report.verdict(rows["phone quotation page: transferred (KB)"]) == "OVER"
    assert bench_report.failures(rows["phone quotation page: transferred (KB)"]) == [
        "900.0 KB > 800 KB"
    ]
    assert bench_report.verdict(rows["phone quotation page: CLS"]) == "OVER"
    assert bench_report.verdict(rows["phone pay page: CLS"]) == "ok"
    assert bench_report.verdict(rows["phone pay page: first paint (ms)"]) == "ok"
    assert "phone quotation page: ready to approve (ms)" in rows
    # /payment/pay is the anchor: its rows have no target; requests have none either
    assert bench_report.verdict(rows["phone /payment/pay: ready to pay (ms)"]) == ""
    assert bench_report.verdict(rows["phone pay page: requests"]) == ""
    assert "desktop quotation page: CLS" not in rows


def test_phone_ready_within_both_targets_is_ok():
    pages = {"phone": {"pay": figures(1400, 550), "native": figures(3000, 700)}}
    ready = rows_by_label(pages)["phone pay page: ready to pay (ms)"]
    assert bench_report.verdict(ready) == "ok"
    slow = rows_by_label({"phone": {"pay": figures(2100, 550), "native": figures(9000, 700)}})
    assert bench_report.failures(slow["phone pay page: ready to pay (ms)"]) == ["2100 ms > 2000 ms"]


def test_page_rows_in_the_table_and_json():
    pages = {"phone": {"pay": figures(1900, 612.34, cls=0.0123), "native": figures(3000, 700)}}
    rows = bench_report.page_rows(pages)
    table = bench_report.format_table(rows)
    line = next(line for line in table.splitlines() if "phone pay page: CLS" in line)
    assert "0.012" in line and "<=0.05" in line and line.rstrip().endswith("ok")
    line = next(line for line in table.splitlines() if "phone pay page: transferred" in line)
    assert "612.3" in line and "<=600KB" in line and "OVER" in line
    assert "web.assets_frontend_lazy.min.js 400 KB" in line
    data = bench_report.to_json(rows[0])
    assert data["target"] == "<=0.50x <=2000ms"
    assert data["verdict"] == "OVER"
