# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Seen or not seen: when the customer opened the pay page of a request."""

from markupsafe import Markup

from odoo import api
from odoo import fields
from odoo import models
from odoo.tools import SQL


class PaymentRequest(models.Model):
    # One concern of the model per file (issue 13), as a reviewer reads it.
    _inherit = "payment.request"  # pylint: disable=consider-merging-classes-inherited

    first_viewed_date = fields.Datetime(
        string="First Viewed",
        readonly=True,
        copy=False,
        help="When the customer first opened the payment page.",
    )
    last_viewed_date = fields.Datetime(
        string="Last Viewed",
        readonly=True,
        copy=False,
        help="When the customer last opened the payment page.",
    )
    view_count = fields.Integer(
        string="Views",
        readonly=True,
        copy=False,
        help="How many times the customer opened the payment page. Staff and link previews "
        "(chat apps, mail clients) are not counted.",
    )
    is_viewed = fields.Boolean(
        string="Viewed",
        compute="_compute_is_viewed",
        search="_search_is_viewed",
        help="The customer opened the payment page.",
    )

    # === COMPUTE METHODS === #

    @api.depends("first_viewed_date")
    def _compute_is_viewed(self):
        for request in self:
            request.is_viewed = bool(request.first_viewed_date)

    def _search_is_viewed(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        viewed = (operator == "=") == value
        return [("first_viewed_date", "!=" if viewed else "=", False)]

    # === BUSINESS METHODS === #

    def _register_customer_view(self):
        """Count a visit of the customer on the pay page of the request.

        One UPDATE statement, so that the public page stays as cheap as it was; the chatter is
        told only of the first visit. A row locked by another transaction (a payment, the
        reminder cron) is not waited for: the page does not slow down, and that visit is not
        counted. The caller decides who is a customer (not staff, not a link preview).

        A visit that is counted turns ``synchronous_commit`` off for the rest of the transaction
        (``set_config(..., true)``, i.e. ``SET LOCAL``, in the same statement, and only when a
        row was written): the page's commit then returns without waiting for its WAL to be
        flushed to disk, which costs a GET that writes several milliseconds more than one that
        only reads. A view counter is not money: an operating system crash in the next few
        hundred milliseconds may lose that visit (the database stays consistent, PostgreSQL's
        "asynchronous commit"); the pay page's GET writes nothing else of value (no payment).

        :return: whether this was the first visit
        :rtype: bool
        """
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                """
                UPDATE payment_request
                   SET view_count = COALESCE(view_count, 0) + 1,
                       last_viewed_date = %(now)s,
                       first_viewed_date = COALESCE(first_viewed_date, %(now)s)
                 WHERE id IN (
                       SELECT id FROM payment_request WHERE id = %(id)s FOR UPDATE SKIP LOCKED
                 )
             RETURNING first_viewed_date = last_viewed_date AND view_count = 1,
                       set_config('synchronous_commit', 'off', true)
                """,
                now=fields.Datetime.now(),
                id=self.id,
            )
        )
        row = self.env.cr.fetchone()
        self.invalidate_recordset(["view_count", "last_viewed_date", "first_viewed_date"])
        first = bool(row and row[0])
        if first:
            self.sudo()._message_log(
                body=Markup("<p>%s</p>") % self.env._("Opened by the customer."),
                author_id=self.env.ref("base.partner_root").id,
            )
        return first
