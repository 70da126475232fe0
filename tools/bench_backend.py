# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Backend figures of ``make bench``, measured in a child Python that imports Odoo.

Usage: ``bench_backend.py CONFIG DATABASE MARK MODE [ARGS...]``; prints ``MARK {json}``.

- ``lists ROUNDS``: the first page (80 rows) of the list "Payment Requests" as the web client
  asks it (``web_search_read`` with the fields of the list view), with no filter (the menu
  "Payment Requests"), with the default filter of "My Payment Requests", with each filter of
  the search view alone, and each group-by (``web_read_group``); the anchor is the first page
  of Sales > Orders (``sale.action_orders``, its domain, its list view). Each case runs warm
  ``ROUNDS`` times (round-robin over the cases), the caches of the records emptied before
  each run, as admin in the main company; queries counted on the cursor (``sql_log_count``).
- ``bulk SIZES``: the wizard "Request a Payment" from the customers' list, on SIZES customers
  (comma-separated), by email and SMS (queued, as the bulk action does); queries and seconds
  of ``create`` + ``action_send``; rolled back after each size.
- ``forms ROUNDS``: the customer, sales order and invoice forms opened as the web client opens
  them (``get_views`` once, then ``web_read`` of one record with the specification of the
  form view's fields, x2many sub-lists included), on the records with the most payment
  requests; against the same ``web_read`` without the fields that the addon's inheriting
  form views add (found in ``ir.ui.view`` through ``ir.model.data``, module payment_request).
  Round-robin, ``ROUNDS`` runs each, the caches of the records emptied before each run.
- ``overdue CUSTOMERS``: in a scratch copy, CUSTOMERS new customers each with an invoice whose
  first installment is 40 days late and a plain invoice 10 days late, then the overdue invoices
  cron called until nothing remains, one commit per batch (queries and seconds per batch)
- ``cron``: in a scratch copy of the database, every request made open and overdue by one SQL
  UPDATE, then ``_cron_expire_requests`` called until nothing remains, one commit per batch
  as the scheduler does; total seconds, batches, queries per batch.
"""

import json
import statistics
import sys
import time
from datetime import date
from datetime import timedelta

from lxml import etree

import odoo
from odoo import SUPERUSER_ID
from odoo import Command
from odoo import api
from odoo.tools import config
from odoo.tools.safe_eval import safe_eval

LIMIT = 80
COUNT_LIMIT = 10001
ADDON = "payment_request"
# The rows of a sub-list of a form that the web client reads with the record.
SUBLIST_LIMIT = 40
# model -> label of the forms measured by ``forms``.
FORMS = (
    ("res.partner", "Customer form (smart buttons)"),
    ("sale.order", "Sales order form with requests"),
    ("account.move", "Invoice form with requests"),
)


def specification(model, arch):
    """Return the ``web_search_read`` specification of the fields of a list view."""
    spec = {}
    for node in etree.fromstring(arch).iter("field"):
        name = node.get("name")
        field = model._fields.get(name)
        if not field or node.getparent().tag != "list":
            continue
        spec[name] = {"fields": {"display_name": {}}} if field.relational else {}
    return spec


def form_specification(model, node):
    """Return the ``web_read`` specification of the fields under ``node`` of a form view.

    As the web client builds it: ``{}`` for a plain field, the display name of a many2one, the
    fields of the sub-list (or kanban) of an x2many with its first rows; nested views are not
    searched for fields of ``model``.
    """
    spec = {}
    for child in node:
        if not isinstance(child.tag, str):
            continue  # a comment
        if child.tag != "field":
            spec.update(form_specification(model, child))
            continue
        field = model._fields.get(child.get("name"))
        if field is None:
            continue
        if field.type == "many2one":
            spec[field.name] = {"fields": {"display_name": {}}}
        elif field.type in ("one2many", "many2many"):
            comodel = model.env[field.comodel_name]
            views = {sub.tag: sub for sub in child if sub.tag in ("list", "kanban")}
            view = views.get("list", views.get("kanban"))
            fields = form_specification(comodel, view) if view is not None else {}
            spec[field.name] = {
                "fields": fields or {"display_name": {}},
                "limit": SUBLIST_LIMIT,
            }
        else:
            spec[field.name] = {}
    return spec


def addon_form_fields(env, model_name):
    """Return ``(xml ids, field names)``: the addon's views inheriting forms of ``model_name``
    and the fields they add at the top level (not the targets of ``position``, not the fields
    of a sub-list the addon adds)."""
    data = env["ir.model.data"].search([("module", "=", ADDON), ("model", "=", "ir.ui.view")])
    views = (
        env["ir.ui.view"]
        .browse(data.mapped("res_id"))
        .filtered(lambda view: view.model == model_name and view.type == "form" and view.inherit_id)
    )
    names = set()
    for view in views:
        for node in etree.fromstring(view.arch).iter("field"):
            if node.get("position"):
                continue
            nested = any(
                parent.tag == "field" and not parent.get("position")
                for parent in node.iterancestors()
            )
            if not nested:
                names.add(node.get("name"))
    return sorted(views.get_external_id().values()), sorted(names)


def measure_forms(env, rounds):
    """Open each form with and without the addon's fields; see the module's docstring."""
    env = env(context=dict(env.context, bin_size=True))  # as the web client reads binaries
    cr = env.cr
    company = env.company
    cr.execute(
        "SELECT partner_id FROM payment_request WHERE company_id = %s "
        "GROUP BY partner_id ORDER BY COUNT(*) DESC, partner_id LIMIT 1",
        [company.id],
    )
    partner_ids = [row[0] for row in cr.fetchall()]
    cr.execute(
        "SELECT sale_order_id FROM payment_request WHERE sale_order_id IS NOT NULL "
        "AND company_id = %s GROUP BY sale_order_id ORDER BY COUNT(*) DESC, sale_order_id "
        "LIMIT 1",
        [company.id],
    )
    order_ids = [row[0] for row in cr.fetchall()]
    cr.execute(
        "SELECT rel.move_id FROM payment_request_account_move_rel rel "
        "JOIN account_move m ON m.id = rel.move_id WHERE m.company_id = %s "
        "GROUP BY rel.move_id ORDER BY COUNT(*) DESC, rel.move_id LIMIT 1",
        [company.id],
    )
    move_ids = [row[0] for row in cr.fetchall()]
    records = {"res.partner": partner_ids, "sale.order": order_ids, "account.move": move_ids}
    plans, forms = [], []
    for model_name, label in FORMS:
        if not records[model_name]:
            sys.exit(f"no {model_name} with payment requests in the bench database")
        model = env[model_name]
        record = model.browse(records[model_name])
        arch = model.get_views([(False, "form")])["views"]["form"]["arch"]
        spec = form_specification(model, etree.fromstring(arch))
        views, added = addon_form_fields(env, model_name)
        without = {name: value for name, value in spec.items() if name not in added}
        counts = {}
        if model_name == "res.partner":
            counts["payment_request_count"] = record.payment_request_count
        forms.append(
            {
                "model": model_name,
                "label": label,
                "record_id": record.id,
                "record": record.display_name,
                "views": views,
                "addon_fields": sorted(set(added) & set(spec)),
                "fields": len(spec),
                "fields_without": len(without),
                **counts,
            }
        )
        plans.append((f"{model_name} with", lambda r=record, s=spec: r.web_read(s)))
        plans.append((f"{model_name} without", lambda r=record, s=without: r.web_read(s)))
    measured = timed(env, rounds, plans)
    for form in forms:
        ms, queries, _result = measured[f"{form['model']} with"]
        ms_without, queries_without, _result = measured[f"{form['model']} without"]
        form.update(ms=ms, queries=queries, ms_without=ms_without, queries_without=queries_without)
    cr.rollback()
    return {"rounds": rounds, "forms": forms}


def search_view_cases(model, arch, uid):
    """Return ``(filters, group_bys)`` of a search view: name -> domain, name -> field."""
    filters, group_bys = {}, {}
    evaluation = {"uid": uid, "context_today": __import__("datetime").date.today}
    for node in etree.fromstring(arch).iter("filter"):
        name = node.get("name")
        if node.get("domain"):
            filters[name] = safe_eval(node.get("domain"), evaluation)
        elif node.get("context"):
            group_by = safe_eval(node.get("context"), evaluation).get("group_by")
            if group_by:
                group_bys[name] = group_by
    return filters, group_bys


def timed(env, rounds, plans):
    """Run each of ``plans`` (label, call) once per round, in turn, after one warm-up round.

    Round-robin, so that a change of the machine's load weighs on every case alike, the anchor
    included. Return label -> (median ms, queries of the last run, last result).
    """
    cr = env.cr
    times = {label: [] for label, _call in plans}
    last = {}
    for _number in range(rounds + 1):
        for label, call in plans:
            env.invalidate_all()
            before = cr.sql_log_count
            started = time.perf_counter()
            result = call()
            times[label].append((time.perf_counter() - started) * 1000)
            last[label] = (cr.sql_log_count - before, result)
    return {label: (statistics.median(times[label][1:]), *last[label]) for label, _call in plans}


def measure_lists(env, rounds):
    requests = env["payment.request"]
    views = requests.get_views([(False, "list"), (False, "search")])["views"]
    spec = specification(requests, views["list"]["arch"])
    filters, group_bys = search_view_cases(requests, views["search"]["arch"], env.uid)
    action_my = env.ref("payment_request.payment_request_action_my")
    default_filters = [
        key.removeprefix("search_default_")
        for key in safe_eval(action_my.context or "{}", {"uid": env.uid})
        if key.startswith("search_default_")
    ]
    default_domain = [term for name in default_filters for term in filters[name]]

    def page(domain, model=requests, fields=spec):
        return lambda: model.web_search_read(
            domain, fields, offset=0, limit=LIMIT, count_limit=COUNT_LIMIT
        )

    def grouped(domain, group_by):
        aggregates = ["amount:sum"] if "amount" in spec else []
        return lambda: requests.web_read_group(domain, aggregates, [group_by], limit=LIMIT)

    orders = env["sale.order"]
    order_action = env.ref("sale.action_orders")
    order_views = orders.get_views([(False, "list")])["views"]
    order_spec = specification(orders, order_views["list"]["arch"])
    order_domain = safe_eval(order_action.domain or "[]", {"uid": env.uid})
    anchor = "Sales > Orders, first page (anchor)"
    plans = [(anchor, page(order_domain, orders, order_spec))]
    plans.append(("no filter (menu Payment Requests)", page([])))
    plans.append((f"default: {', '.join(default_filters)}", page(default_domain)))
    plans += [(f"filter {name}", page(domain)) for name, domain in filters.items()]
    plans += [(f"group by {field}", grouped([], field)) for field in group_bys.values()]
    cases = []
    for label, (ms, queries, found) in timed(env, rounds, plans).items():
        rows = found["length"] if isinstance(found, dict) and "length" in found else len(found)
        cases.append((label, ms, queries, rows))
    env.cr.rollback()
    return {
        "fields": sorted(spec),
        "order_fields": sorted(order_spec),
        "orders": orders.search_count([]),
        "cases": cases,
    }


def measure_bulk(env, sizes, warmup=5):
    customers = env["res.partner"].search([("ref", "=like", "BENCH-%")], order="id")
    results = []
    # A send of a few first, rolled back, as the HTTP figures have their warm-up: a worker's
    # caches (views, templates, XML ids) fill once in its life, not at every send.
    for size in ([warmup] if warmup else []) + list(sizes):
        partners = customers[:size]
        if len(partners) < size:
            sys.exit(f"only {len(partners)} bench customers for a bulk send of {size}")
        env.invalidate_all()
        context = {"active_model": "res.partner", "active_ids": partners.ids}
        Wizard = env["payment.request.wizard"].with_context(**context)
        before_requests = env["payment.request"].search_count([])
        before = env.cr.sql_log_count
        started = time.perf_counter()
        wizard = Wizard.create({"purpose": "free", "amount": 25.0, "channel": "both"})
        wizard.action_send()
        env.flush_all()
        seconds = time.perf_counter() - started
        queries = env.cr.sql_log_count - before
        created = env["payment.request"].search_count([]) - before_requests
        env.cr.rollback()
        results.append({"size": size, "created": created, "queries": queries, "seconds": seconds})
    return results[1:] if warmup else results


def measure_cron(env):
    cr = env.cr
    cr.execute(
        "UPDATE payment_request SET state = 'open', "
        "expiration_date = (now() at time zone 'utc') - interval '1 day'"
    )
    overdue = cr.rowcount
    cr.commit()
    requests = env["payment.request"]
    batches = []
    started = time.perf_counter()
    while True:
        env.invalidate_all()
        before = cr.sql_log_count
        batch_started = time.perf_counter()
        remaining = requests._cron_expire_requests()
        cr.commit()
        batches.append((cr.sql_log_count - before, time.perf_counter() - batch_started))
        if not remaining or len(batches) > overdue:
            break
    total = time.perf_counter() - started
    cr.execute("SELECT COUNT(*) FROM payment_request WHERE state = 'open'")
    left = cr.fetchone()[0]
    return {
        "overdue": overdue,
        "left_open": left,
        "seconds": total,
        "batches": len(batches),
        "queries_per_batch": [queries for queries, _seconds in batches],
        "seconds_per_batch": [seconds for _queries, seconds in batches],
    }


def make_overdue_invoices(env, customers):
    """Post two invoices for each of `customers` new customers: one on "30% Now, Balance 60
    Days" dated 40 days ago (its first installment overdue, its due date 20 days ahead), one
    plain invoice due 10 days ago. Return how many were posted."""
    company = env.company
    today = date.today()
    term = env.ref("account.account_payment_term_advance_60days")
    partners = env["res.partner"].create(
        [
            {"name": f"Overdue Customer {index}", "email": f"overdue{index}@example.com"}
            for index in range(customers)
        ]
    )
    line = {"name": "Storage", "price_unit": 100.0, "tax_ids": []}
    values = []
    for partner in partners:
        values.append(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "company_id": company.id,
                "invoice_date": today - timedelta(days=40),
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [Command.create(line)],
            }
        )
        values.append(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "company_id": company.id,
                "invoice_date": today - timedelta(days=10),
                "invoice_date_due": today - timedelta(days=10),
                "invoice_line_ids": [Command.create({**line, "price_unit": 40.0})],
            }
        )
    invoices = env["account.move"].create(values)
    invoices.action_post()
    return len(invoices)


def measure_overdue(env, customers):
    """Run the overdue invoices cron, batch by batch, over the invoices of `customers` new
    customers (make_overdue_invoices), in a scratch copy: every other customer is left out."""
    cr = env.cr
    cr.execute("UPDATE res_partner SET payment_request_no_auto = TRUE")
    started = time.perf_counter()
    invoices = make_overdue_invoices(env, customers)
    build_seconds = time.perf_counter() - started
    env.company.write(
        {
            "payment_request_overdue_auto": True,
            "payment_request_overdue_days": 3,
            "payment_request_overdue_interval": 7,
        }
    )
    cr.commit()
    Request = env["payment.request"]
    before_count = Request.search_count([("is_automatic", "=", True)])
    batches = []
    started = time.perf_counter()
    left = customers
    while True:
        env.invalidate_all()
        before = cr.sql_log_count
        batch_started = time.perf_counter()
        remaining = Request._cron_send_overdue_requests()
        cr.commit()
        batches.append(
            (cr.sql_log_count - before, time.perf_counter() - batch_started, left - remaining)
        )
        left = remaining
        if not remaining or len(batches) > customers:
            break
    total = time.perf_counter() - started
    made = Request.search([("is_automatic", "=", True)], order="id desc", limit=customers)
    return {
        "customers": customers,
        "invoices": invoices,
        "build_seconds": build_seconds,
        "requests": Request.search_count([("is_automatic", "=", True)]) - before_count,
        "asked": sorted(set(made.mapped("amount"))),
        "seconds": total,
        "batches": len(batches),
        "queries_per_batch": [queries for queries, _seconds, _done in batches],
        "seconds_per_batch": [seconds for _queries, seconds, _done in batches],
        "customers_per_batch": [done for _queries, _seconds, done in batches],
    }


def make_plan_steps(env, steps):
    """Give `steps` bench orders (made by SQL, confirmed) a three-step plan, as if confirmed a
    week ago: the first step sent then and open, the second scheduled today, the third later.
    Return the second steps."""
    today = date.today()
    plan = env["payment.request.plan"].create(
        {
            "name": "Bench plan",
            "line_ids": [
                Command.create({"sequence": 1, "value_amount": 30}),
                Command.create(
                    {
                        "sequence": 2,
                        "value_amount": 30,
                        "delay_type": "days_after_confirmation",
                        "nb_days": 7,
                    }
                ),
                Command.create(
                    {
                        "sequence": 3,
                        "value_amount": 40,
                        "delay_type": "days_after_confirmation",
                        "nb_days": 37,
                    }
                ),
            ],
        }
    )
    orders = env["sale.order"].search(
        [
            ("state", "=", "sale"),
            ("partner_id.email", "!=", False),
            ("payment_request_plan_id", "=", False),
        ],
        limit=steps,
        order="id",
    )
    # Confirmed a week ago, as the steps are; the orders made by SQL have no lines: they
    # are given a total.
    env.cr.execute(
        "UPDATE sale_order SET payment_request_plan_id = %s, "
        "date_order = now() - interval '7 days', "
        "amount_untaxed = CASE WHEN amount_total > 0 THEN amount_untaxed ELSE 1000 END, "
        "amount_total = CASE WHEN amount_total > 0 THEN amount_total ELSE 1000 END "
        "WHERE id IN %s",
        (plan.id, tuple(orders.ids)),
    )
    env.invalidate_all()
    values = []
    for order in orders:
        for step in order._payment_request_plan_schedule(today - timedelta(days=7)):
            values.append(order._payment_request_step_values(step, 3))
    Request = env["payment.request"].with_context(mail_auto_subscribe_no_notify=True)
    made = Request.create(values)
    # The first step sent a week ago by email and SMS, not paid yet (by SQL: no message), the
    # second due in 7 days and scheduled today, the third later.
    first = made.filtered(lambda step: step.plan_step == 1)
    env.cr.execute(
        "UPDATE payment_request SET state = 'open', channel = 'both', "
        "open_date = now() at time zone 'utc' - interval '7 days', "
        "expiration_date = now() at time zone 'utc' + interval '1 day' WHERE id IN %s",
        (tuple(first.ids),),
    )
    env.invalidate_all()
    return made.filtered(lambda step: step.plan_step == 2 and step.scheduled_date <= today)


def measure_plan(env, steps):
    """Run the payment plan cron, batch by batch, over `steps` steps scheduled today, in a
    scratch copy."""
    cr = env.cr
    started = time.perf_counter()
    made = len(make_plan_steps(env, steps))
    build_seconds = time.perf_counter() - started
    cr.commit()
    Request = env["payment.request"]
    batches = []
    started = time.perf_counter()
    left = made
    while True:
        env.invalidate_all()
        before = cr.sql_log_count
        batch_started = time.perf_counter()
        remaining = Request._cron_send_plan_steps()
        cr.commit()
        batches.append(
            (cr.sql_log_count - before, time.perf_counter() - batch_started, left - remaining)
        )
        left = remaining
        if not remaining or len(batches) > made:
            break
    total = time.perf_counter() - started
    requests = Request.search_count([])
    cr.execute(
        "SELECT state, COUNT(*) FROM payment_request WHERE scheduled_date IS NOT NULL GROUP BY 1"
    )
    return {
        "steps": made,
        "requests": requests,
        "build_seconds": build_seconds,
        "states": dict(cr.fetchall()),
        "seconds": total,
        "batches": len(batches),
        "queries_per_batch": [queries for queries, _seconds, _done in batches],
        "seconds_per_batch": [seconds for _queries, seconds, _done in batches],
        "steps_per_batch": [done for _queries, _seconds, done in batches],
    }


def main():
    conf, db, mark, mode, *args = sys.argv[1:]
    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"], setup_logging=True)
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        if mode == "cron":
            env = api.Environment(cr, SUPERUSER_ID, {})
            result = measure_cron(env)
        elif mode == "overdue":
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            result = measure_overdue(env, int(args[0]))
        elif mode == "plan":
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            result = measure_plan(env, int(args[0]))
        else:
            admin = api.Environment(cr, SUPERUSER_ID, {}).ref("base.user_admin")
            company = admin.company_id
            context = {"lang": "en_US", "tz": "UTC", "allowed_company_ids": [company.id]}
            env = api.Environment(cr, admin.id, context)
            if mode == "lists":
                result = measure_lists(env, int(args[0]))
            elif mode == "forms":
                result = measure_forms(env, int(args[0]))
            elif mode == "bulk":
                result = measure_bulk(env, [int(size) for size in args[0].split(",")])
            else:
                sys.exit(f"unknown mode {mode}")
    print(mark + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
