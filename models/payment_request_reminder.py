# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Reminders that escalate: an email, then an SMS, to customers who did not pay yet."""

from datetime import timedelta

from babel.dates import format_timedelta
from markupsafe import Markup

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.misc import babel_locale_parse

from .. import const


class PaymentRequest(models.Model):
    # One concern of the model per file (issue 13), as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    open_date = fields.Datetime(
        string="Opened on",
        readonly=True,
        copy=False,
        help="When the request was opened: its validity period starts then.",
    )
    reminder_step = fields.Selection(
        string="Last Reminder Step",
        selection=const.REMINDER_STEPS,
        required=True,
        default="none",
        readonly=True,
        copy=False,
        help="The last step of the reminder schedule done: a step is done once, even when the "
        "reminder could not be sent (opted out, no valid mobile).",
    )
    reminder_count = fields.Integer(
        string="Reminders",
        readonly=True,
        copy=False,
        help="How many reminders were sent to the customer, automatic or by hand.",
    )
    last_reminder_date = fields.Datetime(string="Last Reminder", readonly=True, copy=False)
    next_reminder_date = fields.Datetime(
        string="Next Reminder",
        compute="_compute_next_reminder",
        store=True,
        readonly=True,
        copy=False,
        # Set on open requests with a reminder to come only: the cron's search reads a small
        # partial index.
        index="btree_not_null",
        help="When the next automatic reminder goes, if the request is still unpaid.",
    )
    next_reminder_step = fields.Selection(
        string="Next Reminder Step",
        selection=const.REMINDER_STEPS,
        compute="_compute_next_reminder",
        store=True,
        readonly=True,
        copy=False,
    )
    reminder_time_left = fields.Char(
        string="Time Left",
        compute="_compute_reminder_time_left",
        help="How long the link can still be paid, in the customer's words (for reminders).",
    )

    # === COMPUTE METHODS === #

    @api.depends(
        "state",
        "expiration_date",
        "open_date",
        "reminder_step",
        "company_id.payment_request_reminder",
        "company_id.payment_request_reminder_email",
        "company_id.payment_request_reminder_email_percent",
        "company_id.payment_request_reminder_sms",
        "company_id.payment_request_reminder_sms_hours",
    )
    def _compute_next_reminder(self):
        for request in self:
            # The state first: the expiry cron writes many closed requests at once, and their
            # other fields need not be read.
            upcoming = request._get_reminder_schedule() if request.state == "open" else []
            upcoming = [
                (date, step)
                for step, date in upcoming
                if const.REMINDER_STEP_RANK[step] > const.REMINDER_STEP_RANK[request.reminder_step]
            ]
            date, step = min(upcoming) if upcoming else (False, False)
            request.next_reminder_date = date
            request.next_reminder_step = step

    @api.depends("expiration_date")
    @api.depends_context("lang")
    def _compute_reminder_time_left(self):
        now = fields.Datetime.now()
        locale = babel_locale_parse(self.env.lang or "en_US")
        for request in self:
            left = request.expiration_date and request.expiration_date - now
            text = (
                format_timedelta(left, threshold=1.5, locale=locale)
                if left and left > timedelta(0)
                else ""
            )
            # Plain spaces: a no-break space would make an SMS of Unicode characters, that
            # holds half as much text.
            request.reminder_time_left = text.replace("\xa0", " ").replace("\u202f", " ")

    # === CRUD METHODS === #

    def write(self, vals):
        if vals.get("state") == "open" and "open_date" not in vals:
            # In the same UPDATE as the state.
            vals = {**vals, "open_date": fields.Datetime.now()}
        return super().write(vals)

    # === ACTION METHODS === #

    def action_remind(self):
        """Send a reminder now, by email, or by SMS to a customer without a usable email.

        The automatic reminder of the same channel is then not sent again; the escalation to
        the next steps goes on.
        """
        self._check_state(("open",), self.env._("Only open payment requests can be reminded."))
        self.check_access("write")
        if past := self.filtered(lambda request: request._is_past_expiration()):
            raise UserError(
                self.env._(
                    "The link of %(names)s expired: recreate the request instead.",
                    names=", ".join(past.mapped("name")),
                )
            )
        requests = self.sudo()
        email_refusals = requests._get_reminder_email_refusals()
        numbers, sms_refusals = requests._get_reminder_numbers()
        by_email = requests.filtered(lambda request: request.id not in email_refusals)
        by_sms = (requests - by_email).filtered(lambda request: request.id in numbers)
        if unreachable := requests - by_email - by_sms:
            raise UserError(
                self.env._(
                    "No reminder can be sent for %(names)s: %(reasons)s",
                    names=", ".join(unreachable.mapped("name")),
                    reasons="; ".join(
                        sorted(
                            {email_refusals[request.id] for request in unreachable}
                            | {sms_refusals[request.id] for request in unreachable}
                        )
                    ),
                )
            )
        for channel, channel_requests in (("email", by_email), ("sms", by_sms)):
            behind = channel_requests.filtered(
                lambda request, channel=channel: (
                    const.REMINDER_STEP_RANK[request.reminder_step]
                    < const.REMINDER_STEP_RANK[channel]
                )
            )
            behind.write({"reminder_step": channel})
        by_email._send_reminder_email()
        by_sms._send_reminder_sms(numbers)
        return True

    # === BUSINESS METHODS === #

    def _get_reminder_schedule(self):
        """Return the automatic reminders of the request and when each one is due.

        The validity period runs from the opening of the request to its expiration: the email
        goes when the company's share of it has passed, the SMS some hours before the end.
        Steps that would fall outside of the period are left out.

        :return: [(step, due date)] in escalation order
        :rtype: list
        """
        self.ensure_one()
        company = self.company_id
        if not (company.payment_request_reminder and self.expiration_date):
            return []
        start = self.open_date or self.create_date
        end = self.expiration_date
        schedule = []
        if company.payment_request_reminder_email:
            share = company.payment_request_reminder_email_percent / 100
            schedule.append(("email", start + (end - start) * share))
        if company.payment_request_reminder_sms:
            schedule.append(
                ("sms", end - timedelta(hours=company.payment_request_reminder_sms_hours))
            )
        return [
            (step, date.replace(microsecond=0)) for step, date in schedule if start < date < end
        ]

    def _get_reminder_email_refusals(self):
        """Return why the customers of the requests cannot get a reminder by email.

        :return: {request id: reason} for those who cannot
        :rtype: dict
        """
        refusals = {}
        for request in self:
            partner = request.partner_id.sudo()
            if not partner.email_normalized:
                refusals[request.id] = self.env._("the customer has no valid email address")
            elif partner.is_blacklisted:
                refusals[request.id] = self.env._("the customer opted out of emails")
        return refusals

    def _get_reminder_numbers(self):
        """Return the mobile numbers where reminders by SMS can go, and why not elsewhere.

        A number is a mobile one (or one that may be) of the customer, valid for their
        country, and not on the phone blacklist.

        :return: ({request id: E.164 number}, {request id: reason})
        :rtype: tuple
        """
        numbers, refusals = {}, {}
        for request in self:
            number = request.partner_id.sudo()._payment_request_mobile_number()
            if number:
                numbers[request.id] = number
            else:
                refusals[request.id] = self.env._("the customer has no valid mobile number")
        if numbers:
            blacklisted = set(
                self.env["phone.blacklist"]
                .sudo()
                .search([("number", "in", list(set(numbers.values())))])
                .mapped("number")
            )
            for request_id, number in list(numbers.items()):
                if number in blacklisted:
                    del numbers[request_id]
                    refusals[request_id] = self.env._("the customer opted out of SMS")
        return numbers, refusals

    def _send_reminder_email(self):
        """Email the reminder template to the customers and count the reminders."""
        template = self.env.ref(
            "payment_request.mail_template_payment_request_reminder", raise_if_not_found=False
        )
        if not self or not template:
            return
        self.invalidate_recordset(["reminder_time_left"])  # "now" moved since it was read
        for request in self:
            request.message_post_with_source(
                template,
                message_type="comment",
                email_layout_xmlid="mail.mail_notification_light",
                subtype_xmlid="payment_request.mt_payment_request_reminder",
            )
        self._count_reminders()

    def _send_reminder_sms(self, numbers):
        """Text the reminder template to the numbers and count the reminders.

        :param dict numbers: {request id: E.164 number}
        """
        template = self.env.ref(
            "payment_request.sms_template_payment_request_reminder", raise_if_not_found=False
        )
        if not self or not template:
            return
        self.invalidate_recordset(["reminder_time_left"])  # "now" moved since it was read
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "payment_request.mt_payment_request_reminder"
        )
        for request in self:
            request._message_sms_with_template(
                template=template,
                partner_ids=[],
                sms_numbers=[numbers[request.id]],
                subtype_id=subtype_id,
            )
        self._count_reminders()

    def _count_reminders(self):
        """Count one more reminder on each request, sent now."""
        now = fields.Datetime.now()
        for request in self:
            request.write({"reminder_count": request.reminder_count + 1, "last_reminder_date": now})

    @api.model
    def _cron_send_reminders(self, batch_size=const.REMINDER_BATCH_SIZE):
        """Send one batch of the automatic reminders that are due.

        Each request gets the latest step due only (a cron that ran late does not send the
        email and the SMS together), and its step is written before anything is sent, with its
        row locked: a second run, concurrent or later, finds nothing more to send for it.

        :param int batch_size: how many requests to remind in this call
        :return: the number of requests still to remind
        """
        now = fields.Datetime.now()
        domain = [("next_reminder_date", "<=", now), ("state", "=", "open")]
        candidates = self.search(domain, limit=batch_size, order="next_reminder_date, id")
        if not candidates:
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return 0
        requests = candidates._lock_due_reminders(now)
        requests._send_due_reminders(now)
        remaining = self.search_count(domain)
        self.env["ir.cron"]._notify_progress(done=len(requests), remaining=remaining)
        return remaining

    def _lock_due_reminders(self, now):
        """Lock the rows of the requests still due for a reminder; skip those that another
        transaction holds (another run of the cron, a payment under way).

        :return: the requests locked, their reminder fields read again
        """
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM payment_request
                 WHERE id IN %s AND state = 'open' AND next_reminder_date <= %s
                   FOR UPDATE SKIP LOCKED
                """,
                tuple(self.ids),
                now,
            )
        )
        locked = self.browse(row[0] for row in self.env.cr.fetchall())
        locked.invalidate_recordset(["state", "reminder_step", "next_reminder_date"])
        return locked

    def _send_due_reminders(self, now):
        """Send the reminder step due on each request and log those that cannot go.

        :param datetime now: the time of the run
        """
        requests = self.sudo()
        under_way = set(
            self.env["payment.transaction"]
            .sudo()
            .search(
                [
                    ("payment_request_id", "in", requests.ids),
                    ("state", "in", const.BLOCKING_TX_STATES),
                ]
            )
            .payment_request_id.ids
        )
        steps = {}
        for request in requests:
            rank = const.REMINDER_STEP_RANK[request.reminder_step]
            due = [
                step
                for step, date in request._get_reminder_schedule()
                if date <= now and const.REMINDER_STEP_RANK[step] > rank
            ]
            if due:
                steps[request.id] = due[-1]
        requests = requests.filtered(lambda request: request.id in steps)
        for step in {"email", "sms"}.intersection(steps.values()):
            requests.filtered(lambda request, step=step: steps[request.id] == step).write(
                {"reminder_step": step}
            )
        requests = requests.filtered(
            lambda request: request.id not in under_way and request.expiration_date > now
        )
        by_email = requests.filtered(lambda request: steps[request.id] == "email")
        by_sms = requests - by_email
        refusals = by_email._get_reminder_email_refusals()
        numbers, sms_refusals = by_sms._get_reminder_numbers()
        refusals.update(sms_refusals)
        by_email.filtered(lambda request: request.id not in refusals)._send_reminder_email()
        by_sms.filtered(lambda request: request.id in numbers)._send_reminder_sms(numbers)
        if refusals:
            requests.browse(list(refusals))._message_log_batch(
                bodies={
                    request_id: Markup("<p>%s</p>")
                    % self.env._("Reminder not sent: %(reason)s.", reason=reason)
                    for request_id, reason in refusals.items()
                }
            )
