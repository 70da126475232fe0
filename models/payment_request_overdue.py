# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Overdue invoices ask to be paid: a daily cron sends each customer one request for them.

Odoo Community has no payment follow-up of its own (it is an Enterprise app): companies that
turn the setting on get one payable link per customer, at most every few days.
"""

import logging
from datetime import timedelta

from odoo import Command
from odoo import api
from odoo import fields
from odoo import models

from .. import const

_logger = logging.getLogger(__name__)


class PaymentRequest(models.Model):
    # One concern of the model per file (issue 13), as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    is_automatic = fields.Boolean(
        string="Automatic",
        readonly=True,
        copy=False,
        help="Created by the cron that asks customers to pay their overdue invoices.",
    )
    auto_sent_date = fields.Datetime(
        string="Last Automatic Sending",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="When the overdue invoices cron last sent the link of this request.",
    )

    # === BUSINESS METHODS: OVERDUE INVOICES === #

    @api.model
    def _cron_send_overdue_requests(self, batch_size=const.OVERDUE_BATCH_SIZE):
        """Ask one batch of customers to pay their overdue invoices, in every company that
        turned the setting on.

        The scheduler calls it again while customers remain (progress API): each customer
        handled is throttled for the company's interval, so it is not found again.

        :param int batch_size: how many customers (per company) to handle in this call
        :return: the number of customers still to ask
        """
        requests = self.sudo()
        companies = requests.env["res.company"].search(
            [("payment_request_overdue_auto", "=", True)]
        )
        done = remaining = 0
        for company in companies:
            jobs = requests._get_overdue_jobs(company)
            batch, rest = jobs[:batch_size], jobs[batch_size:]
            requests._send_overdue_requests(company, batch)
            done += len(batch)
            remaining += len(rest)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return remaining

    @api.model
    def _get_overdue_invoice_domain(self, company):
        """Return the domain of the invoices of `company` to ask to be paid: those with an
        installment overdue for the company's number of days and not paid.

        Invoices blocked for payment, in a dispute of their own, are excluded with their
        customer (see `_get_overdue_jobs`); invoices that auto-pay is charging are left to it.

        :param res.company company: the company whose invoices are overdue
        :return: a search domain on `account.move`
        """
        due_limit = fields.Date.context_today(self) - timedelta(
            days=company.payment_request_overdue_days
        )
        return [
            ("company_id", "=", company.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            # By their installments: `invoice_date_due` is the last one's date.
            (
                "line_ids",
                "any",
                [
                    ("display_type", "=", "payment_term"),
                    ("date_maturity", "<=", due_limit),
                    ("reconciled", "=", False),
                ],
            ),
            ("amount_residual", ">", 0),
            ("commercial_partner_id.payment_request_no_auto", "=", False),
            ("payment_request_autopay_state", "not in", (*const.AUTOPAY_IN_FLIGHT, "pending")),
        ]

    @api.model
    def _get_overdue_jobs(self, company):
        """Return what the cron has to do for the customers of `company`, in customer order.

        One job per customer: a list of (currency, invoices to ask, open request to resend or
        an empty recordset) per currency of their overdue invoices. Customers with an invoice
        blocked for payment (Odoo's "Block payment": a dispute), asked less than the company's
        interval ago, or without email address or valid mobile number are left out, as are
        invoices already in an open request. An open request of exactly the overdue invoices,
        for the amount still due, is sent again instead of making a new one.

        :param res.company company: the company whose customers are asked
        :return: list of (commercial partner, recipient partner, list of (currency, invoices,
            request))
        """
        Move = self.env["account.move"]
        groups = Move._read_group(
            self._get_overdue_invoice_domain(company),
            groupby=["commercial_partner_id", "currency_id"],
            aggregates=["id:recordset"],
            order="commercial_partner_id, currency_id",
        )
        if not groups:
            return []
        all_invoices = Move.union(*(invoices for _p, _c, invoices in groups))
        # one prefetch for all groups: their fields are read in one query, not one per group
        groups = [
            (partner, currency, invoices.with_prefetch(all_invoices._prefetch_ids))
            for partner, currency, invoices in groups
        ]
        partners = self.env["res.partner"].union(*(partner for partner, _c, _i in groups))
        disputed = {
            partner
            for [partner] in Move._read_group(
                [
                    ("company_id", "=", company.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "=", "blocked"),
                    ("commercial_partner_id", "in", partners.ids),
                ],
                groupby=["commercial_partner_id"],
            )
        }
        throttled = self.search(
            [
                ("company_id", "=", company.id),
                ("partner_id", "child_of", partners.ids),
                (
                    "auto_sent_date",
                    ">",
                    fields.Datetime.now()
                    - timedelta(days=company.payment_request_overdue_interval),
                ),
            ]
        ).partner_id.commercial_partner_id
        open_requests = self.search(
            [
                ("company_id", "=", company.id),
                ("state", "=", "open"),
                ("invoice_ids", "in", all_invoices.ids),
            ]
        )
        covered = open_requests.invoice_ids
        reusable = {}  # (invoices, currency, amount) -> an open request asking exactly that
        for request in open_requests:
            key = (
                frozenset(request.invoice_ids.ids),
                request.currency_id,
                request.currency_id.round(request.amount),
            )
            if (
                request.partner_id.commercial_partner_id
                == request.invoice_ids.commercial_partner_id
            ):
                reusable.setdefault(key, request)
        jobs = {}
        for partner, currency, invoices in groups:
            if partner in disputed or partner in throttled:
                continue
            due = invoices._get_payment_request_asked()[1]
            reused = reusable.get((frozenset(invoices.ids), currency, due), self.browse())
            to_ask = invoices - covered
            if reused or to_ask:
                jobs.setdefault(partner, []).append((currency, to_ask, reused))
        recipients = {}
        for partner, currency_jobs in jobs.items():
            invoice_partner = self.env["res.partner"].union(
                *(
                    (invoices | request.invoice_ids).partner_id
                    for _c, invoices, request in currency_jobs
                )
            )
            recipients[partner] = invoice_partner if len(invoice_partner) == 1 else partner
        # one prefetch for all recipients: their addresses are read in one query
        prefetch_ids = [recipient.id for recipient in recipients.values()]
        result = []
        for partner, currency_jobs in jobs.items():
            recipient = recipients[partner].with_prefetch(prefetch_ids)
            if self._get_overdue_channel(recipient, company)[0]:
                result.append((partner, recipient, currency_jobs))
        return result

    @api.model
    def _get_overdue_channel(self, partner, company):
        """Return how an automatic request reaches `partner`: by email when they have an
        address (and by SMS too if the company says so and they have a valid mobile number),
        by SMS when they only have a valid mobile number.

        :param res.partner partner: who receives the link
        :param res.company company: the company that asks
        :return: (channel or False, E.164 number or False)
        :rtype: tuple
        """
        channel, number = partner._payment_request_get_channel(company)
        if channel == "both" and not company.payment_request_overdue_sms:
            return "email", False
        return channel, number

    @api.model
    def _prepare_overdue_request_values(self, company, recipient, currency, invoices):
        """Return the values of a new automatic request for overdue `invoices`.

        Its requester is the salesperson of the oldest invoice, so that they hear of the
        payment; the cron's user (OdooBot) when the invoice has none.

        :return: dict of `payment.request` values
        """
        oldest = invoices.sorted(lambda invoice: (invoice.invoice_date_due, invoice.id))[:1]
        return {
            "partner_id": recipient.id,
            "company_id": company.id,
            "currency_id": currency.id,
            "purpose": "invoices",
            "invoice_ids": [Command.set(invoices.ids)],
            # Only the overdue installments, as Odoo's invoice portal asks them.
            "amount": invoices._get_payment_request_asked()[1],
            "description": self.env._(
                "Payment of overdue invoices %(invoices)s",
                invoices=", ".join(invoices.sorted("name").mapped("name")),
            ),
            "user_id": (oldest.invoice_user_id or self.env.user).id,
            "is_automatic": True,
        }

    @api.model
    def _send_overdue_requests(self, company, jobs):
        """Create the requests of `jobs` (see `_get_overdue_jobs`) and send them, with the open
        requests they reuse, by each customer's channel; the emails and SMS are queued.

        :param res.company company: the company that asks
        :param list jobs: the jobs of one batch
        :return: the requests sent
        """
        new_values, reused = [], self.browse()
        for _partner, recipient, currency_jobs in jobs:
            for currency, invoices, request in currency_jobs:
                if request:
                    reused |= request
                else:
                    new_values.append(
                        self._prepare_overdue_request_values(company, recipient, currency, invoices)
                    )
        # the salesperson hears of the payment, not of each request the cron made for them
        requests = self.with_context(mail_auto_subscribe_no_notify=True).create(new_values) | reused
        by_channel = {}
        numbers = {}
        for request in requests:
            channel, number = self._get_overdue_channel(request.partner_id, company)
            if not channel:
                # a reused request may be addressed to a contact that cannot be reached
                continue
            by_channel.setdefault(channel, self.browse())
            by_channel[channel] |= request
            numbers[request.id] = number
        for channel, channel_requests in by_channel.items():
            channel_requests._send_link(
                channel,
                {request.id: request.partner_id for request in channel_requests},
                {request.id: numbers[request.id] for request in channel_requests},
                queue=True,
            )
        requests.write({"auto_sent_date": fields.Datetime.now()})
        _logger.info(
            "Overdue invoices of %s: %s payment requests sent (%s new) to %s customers",
            company.name,
            len(requests),
            len(new_values),
            len(jobs),
        )
        return requests
