# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The database side of ``make load``, in a child Python that imports Odoo.

Usage: ``load_prepare.py CONFIG DATABASE MARK MODE [ARGS...]``; prints ``MARK {json}``.

- ``prepare CUSTOMERS PAIRS``: new open requests (purpose "free", main company) for
  ``CUSTOMERS + PAIRS`` distinct customers of the bench database, made by the ORM and opened
  (``action_open``: expiration and access token) as admin, so that every run pays requests of
  its own; the demo provider test-mode and published. Returns their ids, URLs and tokens, and
  the provider and payment method the pay page offers.
- ``plan STEPS``: ``STEPS`` bench orders without a plan get a three-step payment plan whose
  second step is scheduled today (``bench_backend.make_plan_steps``), for the plan cron to
  send beside the payers. Returns the ids of those steps.
- ``verify IDS``: for each request (comma-separated ids), its state, ``is_paid_twice``, the
  transaction that paid it and every transaction of it (state, post-processed, duplicate
  state), read after the load.
"""

import json
import random
import sys
import time

import odoo
from odoo import SUPERUSER_ID
from odoo import api
from odoo.tools import SQL
from odoo.tools import config


def ensure_journal_line(provider):
    """Give the provider its one payment method line in its journal before the load.

    ``account_payment`` makes it lazily, when the provider's ``journal_id`` is first read
    (by the first payment posted, unless the provider was enabled from its form): several
    workers posting the first payments at once each make one, and every later payment then
    fails to post ("Expected singleton: account.payment.method.line"). A shop enables its
    provider from the form, which makes the line once; the bench database enables it by a
    write. The extra lines such a race left (a bench database of an earlier version of this
    script) are detached from the provider and renamed, the oldest kept.
    """
    Lines = provider.env["account.payment.method.line"]
    domain = [("payment_provider_id", "=", provider.id), ("journal_id", "!=", False)]
    lines = Lines.search(domain, order="id")
    if len(lines) > 1:
        # By SQL: the journal's check refuses each write while the other duplicates remain.
        provider.env.cr.execute(
            SQL(
                "UPDATE account_payment_method_line SET payment_provider_id = NULL, "
                "name = name || ' (duplicate ' || id || ')' WHERE id IN %s",
                tuple(lines[1:].ids),
            )
        )
        lines.invalidate_recordset()
    provider.invalidate_recordset(["journal_id"])
    if not provider.journal_id:  # computing it makes the line when there is none
        sys.exit(f"the provider {provider.name} has no payment journal")
    provider.env.flush_all()
    if Lines.search_count(domain) != 1:
        sys.exit(f"the provider {provider.name} has not one payment method line in its journal")


def prepare(env, customers_wanted, pairs):
    provider = env.ref("payment.payment_provider_demo")
    if provider.state != "test" or not provider.is_published:
        provider.write({"state": "test", "is_published": True})
    ensure_journal_line(provider)
    method = provider.payment_method_ids.filtered("active")[:1] or provider.payment_method_ids[:1]
    wanted = customers_wanted + pairs
    customers = env["res.partner"].search([("ref", "=like", "BENCH-%")], order="id")
    if len(customers) < wanted:
        sys.exit(f"the bench database has {len(customers)} customers, {wanted} are needed")
    rng = random.Random()
    chosen = customers.browse(rng.sample(customers.ids, wanted))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    admin = env.ref("base.user_admin")
    company = env.ref("base.main_company")
    requests = (
        env["payment.request"]
        .with_user(admin)
        .with_company(company)
        .with_context(tracking_disable=True, mail_create_nolog=True, mail_notrack=True)
        .create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "purpose": "free",
                    "amount": round(rng.uniform(10, 500), 2),
                    "description": f"Load test {stamp}",
                }
                for partner in chosen
            ]
        )
    )
    requests.action_open()
    env.flush_all()
    rows = [
        {
            "id": request.id,
            "name": request.name,
            "partner_id": request.partner_id.id,
            "amount": request.amount,
            "access_token": request.access_token,
            "url": request.get_portal_url(),
        }
        for request in requests
    ]
    return {
        "stamp": stamp,
        "provider_id": provider.id,
        "payment_method_id": method.id,
        "customers": rows[:customers_wanted],
        "pairs": rows[customers_wanted:],
    }


def verify(env, ids):
    requests = env["payment.request"].browse(ids).exists()
    transactions = env["payment.transaction"].search(
        [("payment_request_id", "in", requests.ids)], order="id"
    )
    by_request = transactions.grouped("payment_request_id")
    result = {}
    for request in requests:
        result[str(request.id)] = {
            "name": request.name,
            "state": request.state,
            "is_paid_twice": request.is_paid_twice,
            "paid_transaction_id": request.paid_transaction_id.id or None,
            "transactions": [
                {
                    "id": tx.id,
                    "reference": tx.reference,
                    "state": tx.state,
                    "is_post_processed": tx.is_post_processed,
                    "duplicate_state": tx.payment_request_duplicate_state or None,
                }
                for tx in by_request.get(request, transactions.browse())
            ],
        }
    return result


def main():
    conf, db, mark, mode, *args = sys.argv[1:]
    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"], setup_logging=True)
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US", "tz": "UTC"})
        if mode == "prepare":
            result = prepare(env, int(args[0]), int(args[1]))
            cr.commit()
        elif mode == "plan":
            import bench_backend  # noqa: PLC0415 (a sibling script: its Odoo-side helpers)

            # The steps an earlier run left unsent are not this run's to send.
            cr.execute(
                "UPDATE payment_request SET state = 'cancelled' WHERE state = 'draft' "
                "AND plan_id IN (SELECT id FROM payment_request_plan "
                "WHERE name->>'en_US' = 'Bench plan')"
            )
            steps = bench_backend.make_plan_steps(env, int(args[0]))
            cr.commit()
            result = {"steps": steps.ids}
        elif mode == "verify":
            result = verify(env, [int(rid) for rid in args[0].split(",") if rid])
        else:
            sys.exit(f"unknown mode {mode}")
    print(mark + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
