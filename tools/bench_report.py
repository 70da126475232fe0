# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Pure helpers of ``make bench``: percentiles, ratios to an anchor, targets and the table.

No Odoo here: ``tools/tests/test_bench_report.py`` checks them without a database.

A row of the table is a dict: ``what`` (its label), ``ms`` and ``p90`` (milliseconds or None),
``queries`` (a number or None), ``anchor_ms``, ``anchor_p90`` and ``anchor_queries`` (the same
figures of what it is compared with, or None), ``target`` (a :class:`Target` or None),
``note`` (free text: a total in seconds, batches...) and ``digits`` (decimals shown, 1 unless
told). :func:`verdict` says whether the row meets its target; :func:`format_table` prints them
all. ``http_rows``, ``list_rows``, ``bulk_rows``, ``cron_rows``, ``form_rows`` and
``page_rows`` turn what each part of the bench measured into rows.
"""

import math
from dataclasses import dataclass


def percentile(values, fraction):
    """Return the ``fraction`` percentile of ``values`` (nearest rank); None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def median(values):
    """Return the median of ``values``; None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def ratio(value, anchor):
    """Return ``value / anchor``, or None when either is missing or the anchor is zero."""
    if value is None or anchor is None or anchor == 0:
        return None
    return value / anchor


@dataclass(frozen=True)
class Target:
    """What a row must meet: a time ratio to its anchor, extra queries over it, a ceiling.

    Every bound is optional: ``max_ratio`` applies to the median and the p90 (when the row has
    both and its anchor too), ``max_extra_queries`` to ``queries - anchor_queries``,
    ``max_ms`` to the median, ``max_queries`` to the queries of the row itself. ``unit`` is
    the unit of ``max_ms``: a page's row holds in ``ms`` a figure in the unit of its label
    (KB, a count, a layout shift score without unit).
    """

    max_ratio: float = None
    max_extra_queries: int = None
    max_ms: float = None
    max_queries: float = None
    unit: str = "ms"

    def describe(self):
        parts = []
        if self.max_ratio is not None:
            parts.append(f"<={self.max_ratio:.2f}x")
        if self.max_extra_queries is not None:
            parts.append(f"q<=+{self.max_extra_queries}")
        if self.max_ms is not None:
            parts.append(f"<={self.max_ms:g}{self.unit}")
        if self.max_queries is not None:
            parts.append(f"q<={self.max_queries:g}")
        return " ".join(parts)


# Queries per request created and sent, by the bulk send and by the overdue invoices cron.
MAX_QUERIES_PER_REQUEST_SENT = 15


def failures(row):
    """Return the reasons why ``row`` misses its target (an empty list when it meets it)."""
    target = row.get("target")
    if target is None:
        return []
    reasons = []
    if target.max_ratio is not None:
        for key in ("ms", "p90"):
            value = ratio(row.get(key), row.get(f"anchor_{key}"))
            if value is not None and value > target.max_ratio:
                reasons.append(f"{key} {value:.2f}x > {target.max_ratio:.2f}x")
    if target.max_extra_queries is not None:
        queries, anchor = row.get("queries"), row.get("anchor_queries")
        if queries is not None and anchor is not None:
            extra = queries - anchor
            if extra > target.max_extra_queries:
                reasons.append(f"queries +{extra:g} > +{target.max_extra_queries}")
    if target.max_ms is not None and row.get("ms") is not None and row["ms"] > target.max_ms:
        digits = row.get("digits", 1)
        unit = f" {target.unit}" if target.unit else ""
        reasons.append(f"{row['ms']:.{digits}f}{unit} > {target.max_ms:g}{unit}")
    if (
        target.max_queries is not None
        and row.get("queries") is not None
        and row["queries"] > target.max_queries
    ):
        reasons.append(f"queries {row['queries']:g} > {target.max_queries:g}")
    return reasons


def verdict(row):
    """Return "ok", "OVER" or "" (no target) for ``row``."""
    if row.get("target") is None:
        return ""
    return "OVER" if failures(row) else "ok"


def _number(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.{digits}f}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _times(value, anchor):
    found = ratio(value, anchor)
    return "-" if found is None else f"{found:.2f}x"


COLUMNS = (
    ("what", "<"),
    ("ms", ">"),
    ("p90", ">"),
    ("anchor ms", ">"),
    ("ratio", ">"),
    ("p90 ratio", ">"),
    ("queries", ">"),
    ("anchor q", ">"),
    ("target", "<"),
    ("", "<"),
    ("note", "<"),
)


def table_cells(row):
    """Return the printed cells of ``row``, in the order of :data:`COLUMNS`."""
    target = row.get("target")
    digits = row.get("digits", 1)
    return (
        row["what"],
        _number(row.get("ms"), digits),
        _number(row.get("p90"), digits),
        _number(row.get("anchor_ms"), digits),
        _times(row.get("ms"), row.get("anchor_ms")),
        _times(row.get("p90"), row.get("anchor_p90")),
        _number(row.get("queries")),
        _number(row.get("anchor_queries")),
        target.describe() if target else "",
        verdict(row),
        row.get("note", ""),
    )


def format_table(rows, sections=None):
    """Return the table of ``rows`` as text: a header, a rule, one line per row.

    ``sections`` maps the index of a row to a title printed on its own line before it.
    """
    cells = [tuple(name for name, _align in COLUMNS)] + [table_cells(row) for row in rows]
    widths = [max(len(line[index]) for line in cells) for index in range(len(COLUMNS))]

    def line(values):
        parts = [
            f"{value:{align}{width}}"
            for value, (_name, align), width in zip(values, COLUMNS, widths, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(cells[0]), "-" * len(line(cells[0]))]
    for index, values in enumerate(cells[1:]):
        if sections and index in sections:
            out.append(f"[{sections[index]}]")
        out.append(line(values))
    return "\n".join(out)


def to_json(row):
    """Return ``row`` as plain JSON values, with its ratios, verdict and failures."""
    target = row.get("target")
    data = {key: value for key, value in row.items() if key != "target"}
    data["ratio"] = ratio(row.get("ms"), row.get("anchor_ms"))
    data["p90_ratio"] = ratio(row.get("p90"), row.get("anchor_p90"))
    data["target"] = target.describe() if target else None
    data["verdict"] = verdict(row) or None
    data["failures"] = failures(row)
    return data


def linear_fit(points):
    """Return ``(fixed, per_unit)`` of the least-squares line through ``(size, value)`` points.

    With the queries of a bulk send of 50 and of 500 requests, ``per_unit`` is what each more
    request costs and ``fixed`` what the action costs whatever its size. One point (or points
    of one size) gives ``(0, value / size)``.
    """
    sizes = [size for size, _value in points]
    values = [value for _size, value in points]
    mean_size = sum(sizes) / len(sizes)
    mean_value = sum(values) / len(values)
    spread = sum((size - mean_size) ** 2 for size in sizes)
    if not spread:
        return 0.0, mean_value / mean_size if mean_size else 0.0
    slope = sum((size - mean_size) * (value - mean_value) for size, value in points) / spread
    return mean_value - slope * mean_size, slope


# === ROWS OF EACH PART === #


def http_rows(http):
    rows = []
    for name, label, target in (
        ("page", "pay page GET vs /payment/pay", Target(max_ratio=1.10, max_extra_queries=3)),
        ("tx", "pay page transaction vs /payment/transaction", Target(1.15, 5)),
    ):
        ours, native = http[name], http[f"{name}_native"]
        low, high = ours["queries_range"]
        rows.append(
            {
                "what": label,
                "ms": ours["ms"],
                "p90": ours["p90"],
                "anchor_ms": native["ms"],
                "anchor_p90": native["p90"],
                "queries": ours["queries"],
                "anchor_queries": native["queries"],
                "target": target,
                "note": f"Odoo-side {ours['server_ms']:.1f} vs {native['server_ms']:.1f} ms; "
                f"queries {low}-{high}",
            }
        )
    return rows


def cron_rows(cron):
    per_batch = cron["queries_per_batch"]
    return [
        {
            "what": f"expiry cron, {cron['overdue']} overdue (total)",
            "ms": cron["seconds"] * 1000,
            "queries": max(per_batch),
            "target": Target(max_ms=60_000),
            "note": f"{cron['batches']} batches of <=1000, committed; queries/batch "
            f"{min(per_batch)}-{max(per_batch)} (median {median(per_batch):g}); "
            f"{median(cron['seconds_per_batch']):.2f} s/batch; "
            f"{cron['left_open']} left open",
        }
    ]


def overdue_rows(overdue):
    """One row: the overdue invoices cron over the customers made for it, batch by batch."""
    per_batch = overdue["queries_per_batch"]
    per_customer = [
        queries / done
        for queries, done in zip(per_batch, overdue["customers_per_batch"], strict=True)
        if done
    ]
    asked = ", ".join(f"{amount:g}" for amount in overdue["asked"])
    return [
        {
            "what": f"overdue invoices cron, {overdue['customers']} customers (total)",
            "ms": overdue["seconds"] * 1000,
            # Each customer is one request created and sent: bounded as a bulk send is.
            "queries": round(max(per_customer, default=0), 1),
            "target": Target(max_queries=MAX_QUERIES_PER_REQUEST_SENT),
            "note": f"{overdue['invoices']} invoices (made in {overdue['build_seconds']:.0f} s), "
            f"{overdue['requests']} requests asking {asked}; {overdue['batches']} batches, "
            f"committed; queries/batch {min(per_batch)}-{max(per_batch)} "
            f"(median {median(per_batch):g}); {median(overdue['seconds_per_batch']):.2f} s/batch",
        }
    ]


def plan_rows(plan):
    """One row: the payment plan cron over the steps scheduled today, batch by batch."""
    per_batch = plan["queries_per_batch"]
    per_step = [
        queries / done
        for queries, done in zip(per_batch, plan["steps_per_batch"], strict=True)
        if done
    ]
    full = [
        queries
        for queries, done in zip(per_batch, plan["steps_per_batch"], strict=True)
        if done == max(plan["steps_per_batch"])
    ]
    states = ", ".join(f"{count} {state}" for state, count in sorted(plan["states"].items()))
    return [
        {
            "what": f"payment plan cron, {plan['steps']} steps due today (total)",
            "ms": plan["seconds"] * 1000,
            # Each step is one request sent: bounded as a bulk send is.
            "queries": round(max(per_step, default=0), 1),
            "target": Target(max_queries=MAX_QUERIES_PER_REQUEST_SENT),
            "note": f"{plan['requests']} requests; steps made in {plan['build_seconds']:.0f} s, "
            f"now {states}; {plan['batches']} batches, committed; queries per full batch "
            f"{min(full, default=0)}-{max(full, default=0)} "
            f"(median {median(per_batch):g}); {median(plan['seconds_per_batch']):.2f} s/batch",
        }
    ]


def list_rows(lists):
    anchor_label, anchor_ms, anchor_queries, anchor_rows = lists["cases"][0]
    rows = [
        {
            "what": anchor_label,
            "ms": anchor_ms,
            "queries": anchor_queries,
            "note": f"{lists['orders']} orders, {anchor_rows} counted (limit 10001)",
        }
    ]
    for label, ms, queries, found in lists["cases"][1:]:
        rows.append(
            {
                "what": label,
                "ms": ms,
                "anchor_ms": anchor_ms,
                "queries": queries,
                "anchor_queries": anchor_queries,
                "target": Target(max_ratio=1.2, max_ms=200),
                "note": f"{found} {'groups' if label.startswith('group') else 'rows'}",
            }
        )
    return rows


def bulk_rows(bulk):
    fixed, per_request = linear_fit([(run["size"], run["queries"]) for run in bulk])
    rows = []
    for run in bulk:
        rows.append(
            {
                "what": f"bulk send {run['size']} (email + SMS, queued)",
                "ms": run["seconds"] * 1000 / run["size"],
                "queries": run["queries"] / run["size"],
                "target": Target(max_queries=MAX_QUERIES_PER_REQUEST_SENT),
                "note": f"ms and queries per request; {run['queries']} queries, "
                f"{run['seconds']:.1f} s, {run['created']} created; "
                f"fit {fixed:.0f} + {per_request:.2f}/request",
            }
        )
    return rows


def form_rows(forms):
    """One row per form: its ``web_read`` with the addon's fields against the same without."""
    rows = []
    for form in forms["forms"]:
        added = ", ".join(form["addon_fields"]) or "none"
        count = form.get("payment_request_count")
        rows.append(
            {
                "what": f"{form['label']} vs without the addon's fields",
                "ms": form["ms"],
                "anchor_ms": form["ms_without"],
                "queries": form["queries"],
                "anchor_queries": form["queries_without"],
                "target": Target(max_ratio=1.10),
                "note": f"{form['model']} {form['record_id']}"
                + (f" ({count} requests)" if count is not None else "")
                + f"; {form['fields']} vs {form['fields_without']} fields; addon's: {added}",
            }
        )
    return rows


# The pages measured in a browser (tools/bench_pages.py): labels, and their targets.
PAGE_LABELS = {"pay": "pay page", "quote": "quotation page", "native": "/payment/pay"}
PAGE_METRICS = (
    # key, label, unit of the target, decimals
    ("ready_ms", "ready to pay (ms)", "ms", 0),
    ("first_paint_ms", "first paint (ms)", "ms", 0),
    ("kb", "transferred (KB)", "KB", 1),
    ("requests", "requests", "", 0),
    ("cls", "CLS", "", 3),
)


def page_target(profile, page, metric):
    """Return the :class:`Target` of ``metric`` of ``page`` on ``profile``, or None."""
    if page == "native":
        return None
    if metric == "ready_ms" and page == "pay":
        if profile == "phone":
            return Target(max_ratio=0.5, max_ms=2000)
        return Target(max_ms=600)
    if metric == "first_paint_ms" and profile == "phone":
        return Target(max_ms=1000)
    if metric == "kb":
        return Target(max_ms=600 if page == "pay" else 800, unit="KB")
    if metric == "cls":
        return Target(max_ms=0.05, unit="")
    return None


def page_rows(pages):
    """Rows of the pages measured in a browser: each figure of each page on each profile.

    ``pages`` maps a profile ("phone", "desktop") to a page ("pay", "quote", "native") to its
    medians (:func:`bench_pages.aggregate`). The pay and quotation pages are compared with
    Odoo's ``/payment/pay`` (the anchor), which has rows of its own too.
    """
    rows = []
    for profile, measured in pages.items():
        native = measured.get("native", {})
        for page in ("pay", "quote", "native"):
            figures = measured.get(page)
            if not figures:
                continue
            for key, label, _unit, digits in PAGE_METRICS:
                if key == "ready_ms" and page == "quote":
                    label = "ready to approve (ms)"
                row = {
                    "what": f"{profile} {PAGE_LABELS[page]}: {label}",
                    "ms": figures.get(key),
                    "target": page_target(profile, page, key),
                    "digits": digits,
                    "note": "",
                }
                if page != "native":
                    row["anchor_ms"] = native.get(key)
                if key == "kb":
                    row["note"] = (
                        f"without third parties {figures['kb_own']:.1f} KB, "
                        f"{figures['requests_own']:g} requests; heaviest: "
                        + ", ".join(
                            f"{name} {kb:.0f} KB ({encoding or 'not compressed'})"
                            for name, kb, encoding in figures["heaviest"][:2]
                        )
                    )
                elif key == "ready_ms" and figures.get("not_ready"):
                    row["note"] = f"{figures['not_ready']} load(s) never ready"
                rows.append(row)
    return rows
