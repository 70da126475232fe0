# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL
from odoo.tools import create_index
from odoo.tools.sql import column_exists

from .. import const


class PaymentRequestSendingMixin(models.AbstractModel):
    """Send the link of a record to its customer by email and/or SMS, and show the delivery.

    Each sending is a chatter message of subtype "Payment Request Sent" posted through
    `mail.thread` (email template by the mail composer, SMS by `_message_sms`): followers,
    layout, alias domain, attachments, mail server, SMS trackers and the modules that extend
    notifications apply. The delivery status is read from the notifications of those messages
    that reach the customer: the recipients of the email, and the SMS numbers.

    Inheriting models have a `partner_id` and implement `_get_link_templates`; they list this
    mixin before `mail.thread` (it extends `message_post`).
    """

    _name = "payment.request.sending.mixin"
    _inherit = ["mail.thread"]
    _description = "Payment Link Sending"
    # Messages are not attached to the record's first message: that lookup costs a query per
    # message posted (bulk sends post hundreds). Replies still reach the record through the
    # Message-Id they answer, and Odoo 18's chatter shows every message flat anyway.
    _mail_flat_thread = False

    channel = fields.Selection(
        string="Sent by",
        selection=const.CHANNELS,
        readonly=True,
        copy=False,
        help="How the link was last sent to the customer.",
    )
    email_status = fields.Selection(
        selection=const.DELIVERY_STATES, compute="_compute_delivery_status", compute_sudo=True
    )
    sms_status = fields.Selection(
        string="SMS Status",
        selection=const.DELIVERY_STATES,
        compute="_compute_delivery_status",
        compute_sudo=True,
    )
    delivery_failure_reason = fields.Char(compute="_compute_delivery_status", compute_sudo=True)
    # Stored, so that the list filters on it with an index: kept up to date by the notifications
    # (`mail.notification` create / write / unlink, `mail.message` unlink) through
    # `_update_is_undelivered`, in one query per model and batch.
    is_undelivered = fields.Boolean(
        string="Not Delivered",
        readonly=True,
        copy=False,
        help="The last sending of the link to the customer, by email or by SMS, failed.",
    )

    def _auto_init(self):
        # A new column is filled in SQL from the notifications (an update of a database that
        # has requests), not by the ORM record by record.
        fill = not self._abstract and not column_exists(self.env.cr, self._table, "is_undelivered")
        result = super()._auto_init()
        if fill:
            self._update_is_undelivered(all_records=True)
        return result

    def init(self):
        result = super().init()
        if not self._abstract:
            # The filter "Not Delivered" as the list reads it: newest first, 80 rows and a count.
            create_index(
                self.env.cr,
                f"{self._table}__undelivered_id_index",
                self._table,
                ["id", "company_id"],
                where="is_undelivered = TRUE",
            )
        return result

    # === COMPUTE METHODS === #

    def _sql_customer_notifications(self, alias):
        """Return the SQL condition that the notification `alias` (joined to its message as
        `<alias>_message`) reached the customer by a sending of the link: an SMS notification,
        or an email one of a recipient of the message (not of a follower).
        """
        notification = SQL.identifier(alias)
        message = SQL.identifier(f"{alias}_message")
        return SQL(
            """%(message)s.model = %(model)s AND %(message)s.subtype_id = %(subtype)s
            AND (%(notification)s.notification_type = 'sms'
                 OR %(notification)s.notification_type = 'email' AND EXISTS (
                    SELECT 1 FROM mail_message_res_partner_rel recipient
                    WHERE recipient.mail_message_id = %(message)s.id
                      AND recipient.res_partner_id = %(notification)s.res_partner_id))""",
            message=message,
            notification=notification,
            model=self._name,
            subtype=self.env["ir.model.data"]._xmlid_to_res_id(
                "payment_request.mt_payment_request_sent"
            ),
        )

    def _compute_delivery_status(self):
        # The last notification of the customer per record and type: the last sending decides.
        self.env["mail.notification"].flush_model()
        self.env["mail.message"].flush_model(["model", "res_id", "subtype_id", "partner_ids"])
        rows = (
            self.env.execute_query(
                SQL(
                    """SELECT DISTINCT ON (n_message.res_id, n.notification_type)
                           n_message.res_id, n.notification_type, n.notification_status,
                           n.failure_type, n.failure_reason
                    FROM mail_notification n
                    JOIN mail_message n_message ON n_message.id = n.mail_message_id
                    WHERE n_message.res_id IN %(ids)s AND %(customer)s
                    ORDER BY n_message.res_id, n.notification_type, n.id DESC""",
                    ids=tuple(self.ids),
                    customer=self._sql_customer_notifications("n"),
                )
            )
            if self.ids
            else []
        )
        latest = {(res_id, kind): values for res_id, kind, *values in rows}
        failure_labels = dict(
            self.env["mail.notification"]._fields["failure_type"]._description_selection(self.env)
        )
        for record in self:
            reasons = []
            statuses = {}
            for kind in ("email", "sms"):
                status, failure_type, failure_reason = latest.get(
                    (record.id, kind), ("none", False, False)
                )
                if status != "none":
                    status = const.NOTIFICATION_TO_DELIVERY[kind][status]
                statuses[kind] = status
                if status in ("bounced", "error"):
                    reasons.append(
                        failure_reason
                        or failure_labels.get(failure_type)
                        or dict(const.DELIVERY_STATES)[status]
                    )
            record.email_status = statuses["email"]
            record.sms_status = statuses["sms"]
            record.delivery_failure_reason = "; ".join(reasons)

    @api.model
    def _get_sending_models(self):
        """Return the names of the models that send links (those inheriting this mixin)."""
        return [
            name
            for name in self.env.registry.descendants([self._name], "_inherit")
            if not self.env[name]._abstract
        ]

    @api.model
    def _get_link_sending_records(self, messages):
        """Return the records (one recordset per model, in sudo) whose link sendings are among
        `messages`, `mail.message` records of any model."""
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "payment_request.mt_payment_request_sent"
        )
        sending_models = self._get_sending_models()
        messages = messages.sudo()
        messages.fetch(["model", "res_id", "subtype_id"])
        ids_by_model = {}
        for message in messages:
            if (
                message.model in sending_models
                and message.res_id
                and (message.subtype_id.id == subtype_id)
            ):
                ids_by_model.setdefault(message.model, []).append(message.res_id)
        return [self.env[name].sudo().browse(ids) for name, ids in ids_by_model.items()]

    @api.model
    def _update_is_undelivered_of_messages(self, messages, flagged_only=False):
        """Update `is_undelivered` of the records whose link sendings are among `messages`.

        :param messages: `mail.message` records, of any model
        :param bool flagged_only: update only the records flagged undelivered (what changed
            cannot make a sending fail, at most clear a failure): the flags are read first, from
            the cache when known (the requests just created by a bulk send), and nothing is
            updated when none is set, so that sending costs no query per record
        """
        if self.env.context.get("payment_request_sending_links"):
            return  # `_send_link_messages` updates the flags of its records at its end
        for records in self._get_link_sending_records(messages):
            if flagged_only:
                records = records.filtered("is_undelivered")
            if records:
                records._update_is_undelivered()

    def _update_is_undelivered(self, all_records=False):
        """Set `is_undelivered` of these records (of every record with `all_records`) from the
        notifications of their sendings, in one query: the last notification of the customer of
        each type (the last sending decides) failed.

        :param bool all_records: every record of the model, not these ones
        :return: the ids whose flag changed
        :rtype: list
        """
        if not (self.ids or all_records):
            return []
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "payment_request.mt_payment_request_sent", raise_if_not_found=False
        )
        if not subtype_id:
            return []  # installing: no sending yet
        self.env["mail.notification"].flush_model()
        self.env["mail.message"].flush_model(["model", "res_id", "subtype_id", "partner_ids"])
        self.flush_model(["is_undelivered"])
        table = SQL.identifier(self._table)
        if all_records:
            of_messages, of_records = SQL("TRUE"), SQL("TRUE")
        else:
            ids = tuple(self.ids)
            of_messages = SQL("n_message.res_id IN %s", ids)
            of_records = SQL("record.id IN %s", ids)
        rows = self.env.execute_query(
            SQL(
                """WITH latest AS (
                    SELECT DISTINCT ON (n_message.res_id, n.notification_type)
                           n_message.res_id, n.notification_status
                    FROM mail_notification n
                    JOIN mail_message n_message ON n_message.id = n.mail_message_id
                    WHERE %(of_messages)s AND %(customer)s
                    ORDER BY n_message.res_id, n.notification_type, n.id DESC
                ), flag AS (
                    SELECT record.id, EXISTS (
                        SELECT 1 FROM latest
                        WHERE latest.res_id = record.id
                          AND latest.notification_status IN %(failed)s
                    ) AS undelivered
                    FROM %(table)s record
                    WHERE %(of_records)s
                )
                UPDATE %(table)s record SET is_undelivered = flag.undelivered
                FROM flag
                WHERE record.id = flag.id
                  AND COALESCE(record.is_undelivered, FALSE) != flag.undelivered
                RETURNING record.id""",
                of_messages=of_messages,
                of_records=of_records,
                customer=self._sql_customer_notifications("n"),
                failed=const.FAILED_NOTIFICATION_STATES,
                table=table,
            )
        )
        changed = [row[0] for row in rows]
        if changed:
            self.browse(changed).invalidate_recordset(["is_undelivered"])
        return changed

    # === BUSINESS METHODS === #

    def _get_link_templates(self):
        """Return the templates that carry the link of the record.

        :return: the XML ids of the email template and of the SMS template
        :rtype: tuple
        """
        raise NotImplementedError()

    def _send_link_messages(self, channel, recipients, numbers=None, queue=False):
        """Post the link of each record to its customer, by email and/or SMS.

        The email goes through the mail composer with the record's template: one composer for
        the records whose recipient is the template's (their customer), in batch, or one per
        record sent to another contact. The SMS is rendered in batch; by "both" it is a
        notification of the email's message (one message per sending, see `message_post`),
        by "sms" alone it is posted by `_message_sms`. Numbers on the SMS blacklist are not
        sent to: their notification fails as "Blacklisted", which the status shows.

        :param str channel: 'email', 'sms' or 'both'
        :param dict recipients: {record id: res.partner} who receives the email
        :param dict numbers: {record id: E.164 number} where the SMS goes
        :param bool queue: leave the emails and SMS to their schedulers (bulk sending)
        """
        if not self.env.context.get("payment_request_sending_links"):
            # The notifications of the sendings leave the flag to the end of the sending: one
            # query for all the records, not one per message posted.
            self.with_context(payment_request_sending_links=True)._send_link_messages(
                channel, recipients, numbers, queue=queue
            )
            self._update_is_undelivered()
            return
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "payment_request.mt_payment_request_sent"
        )
        records_by_templates = self.grouped(lambda record: record._get_link_templates())
        # What message_post would otherwise look up record by record (see `message_post`).
        reply_to = self._notify_get_reply_to(default=False)
        link_values = {
            record.id: {"reply_to": reply_to[record.id], "tracking_value_ids": []}
            for record in self
        }
        # The customers' users and contacts, that each post reads for its customer (portal
        # access link and signup), read in batch.
        customers = self.partner_id | self.env["res.partner"].concat(*recipients.values())
        customers.sudo().fetch(["user_ids", "child_ids"])
        blacklisted = set()
        if channel in ("sms", "both"):
            blacklisted = set(
                self.env["phone.blacklist"]
                .sudo()
                .search_fetch([("number", "in", list((numbers or {}).values()))], ["number"])
                .mapped("number")
            )
            for (_email_template, sms_template), records in records_by_templates.items():
                bodies = self.env.ref(sms_template)._render_field(
                    "body", records.ids, compute_lang=True
                )
                for record in records:
                    number = numbers[record.id]
                    link_values[record.id].update(
                        sms_numbers=[number],
                        sms_content=bodies[record.id],
                        put_in_queue=queue or number in blacklisted,
                    )
        # The right to post on the records, that Odoo checks message by message, checked once
        # for the batch; then posted as superuser (the author stays the current user).
        self.check_access(self._mail_post_access)
        senders = self.sudo().with_context(payment_request_link_post=link_values)
        messages = self.env["mail.message"]
        if channel in ("email", "both"):
            post_values = {
                "message_type": "comment",
                "subtype_id": subtype_id,
                "email_layout_xmlid": const.LINK_EMAIL_LAYOUT,
                "force_send": not queue,
            }
            by_email_template = {}
            for (email_template, _sms_template), records in records_by_templates.items():
                by_email_template.setdefault(email_template, senders.browse())
                by_email_template[email_template] |= records.with_env(senders.env)
            for email_template, records in by_email_template.items():
                template = self.env.ref(email_template)
                to_customer = records.filtered(
                    lambda record: recipients[record.id] == record.partner_id
                )
                if len(to_customer) > 1:
                    # Odoo's batch path: one composer renders all of them, then posts on each.
                    messages |= (
                        senders.env["mail.compose.message"]
                        .with_context(
                            default_composition_mode="comment",
                            default_model=self._name,
                            default_res_ids=to_customer.ids,
                            default_template_id=template.id,
                        )
                        .create(post_values)
                        ._action_send_mail()[1]
                    )
                    records -= to_customer
                for record in records:
                    messages |= record.message_post_with_source(
                        template, partner_ids=recipients[record.id].ids, **post_values
                    )
            if queue:
                self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
        elif channel == "sms":
            for record in senders:
                messages |= record._message_sms(
                    link_values[record.id]["sms_content"],
                    subtype_id=subtype_id,
                    partner_ids=[],
                    sms_numbers=link_values[record.id]["sms_numbers"],
                    put_in_queue=link_values[record.id]["put_in_queue"],
                )
        if blacklisted:
            blocked = (
                self.env["sms.sms"]
                .sudo()
                .search(
                    [
                        ("mail_message_id", "in", messages.ids),
                        ("number", "in", list(blacklisted)),
                        ("state", "=", "outgoing"),
                    ]
                )
            )
            blocked.action_set_canceled()
            blocked.failure_type = "sms_blacklist"
            blocked.sms_tracker_id.mail_notification_id.failure_reason = self.env._(
                "Blacklisted number"
            )
        if channel in ("sms", "both") and queue:
            self.env.ref("sms.ir_cron_sms_scheduler_action")._trigger()
        self.sudo().channel = channel

    def message_post(self, **kwargs):
        """Post a sending of the link with what `_send_link_messages` prepared for the whole
        batch (`payment_request_link_post` in the context: {record id: values}): by "both", the
        SMS (`sms_numbers`, `sms_content`, `put_in_queue`) goes with the email, one message
        notified both ways; the reply-to address is the one Odoo would compute (the record's
        alias or catchall, else the sender); a link message has no tracking values. Looked up
        once for the batch instead of once per message.
        """
        link_values = self.env.context.get("payment_request_link_post")
        if link_values and len(self) == 1 and self.id in link_values:
            values = dict(link_values[self.id])
            reply_to = values.pop("reply_to") or kwargs.get("email_from")
            if reply_to:
                kwargs.setdefault("reply_to", reply_to)
            kwargs.update(values)
        return super().message_post(**kwargs)
