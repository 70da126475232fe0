# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError

from .. import const


class PaymentRequestPlanLine(models.Model):
    _name = "payment.request.plan.line"
    _description = "Payment Plan Step"
    _order = "sequence, id"

    plan_id = fields.Many2one(
        string="Payment Plan",
        comodel_name="payment.request.plan",
        required=True,
        index=True,
        ondelete="cascade",
    )
    sequence = fields.Integer(default=10)
    value = fields.Selection(
        selection=[("percent", "Percent"), ("fixed", "Fixed")],
        required=True,
        default="percent",
        help="A share of the order's total, or a fixed amount in the company's currency. The "
        "last step is always the balance.",
    )
    value_amount = fields.Float(
        string="Due", digits=(16, 2), help="For a percent, a number between 0 and 100."
    )
    delay_type = fields.Selection(
        string="When",
        selection=const.PLAN_DELAY_TYPES,
        required=True,
        default="on_confirmation",
    )
    nb_days = fields.Integer(string="Days")

    # === CONSTRAINT METHODS === #

    @api.constrains("value", "value_amount", "nb_days")
    def _check_values(self):
        for line in self:
            number = line._get_number()
            if line.value_amount < 0:
                raise ValidationError(
                    self.env._(
                        "Step %(number)s of the payment plan %(plan)s: its amount cannot be "
                        "negative.",
                        number=number,
                        plan=line.plan_id.name,
                    )
                )
            if line.value == "percent" and line.value_amount > 100:
                raise ValidationError(
                    self.env._(
                        "Step %(number)s of the payment plan %(plan)s: a percent is between 0 "
                        "and 100.",
                        number=number,
                        plan=line.plan_id.name,
                    )
                )
            if line.nb_days < 0:
                raise ValidationError(
                    self.env._(
                        "Step %(number)s of the payment plan %(plan)s: its number of days cannot "
                        "be negative.",
                        number=number,
                        plan=line.plan_id.name,
                    )
                )
        # The plan's sum of percents, when a step is written on its own.
        self.plan_id._check_lines()

    # === BUSINESS METHODS === #

    def _get_number(self):
        """Return the position of the step in its plan, from 1."""
        self.ensure_one()
        lines = self.plan_id.line_ids.sorted("sequence")
        return lines.ids.index(self.id) + 1 if self.id in lines.ids else len(lines)

    def _get_due_date(self, confirmation_date, commitment_date=None):
        """Return when the step's money is due, never before the confirmation.

        :param date confirmation_date: when the order is confirmed
        :param date commitment_date: when it is delivered; the confirmation when unknown
        :rtype: date
        """
        self.ensure_one()
        if self.delay_type == "days_after_confirmation":
            return confirmation_date + timedelta(days=self.nb_days)
        if self.delay_type == "days_before_commitment":
            reference = commitment_date or confirmation_date
            return max(reference - timedelta(days=self.nb_days), confirmation_date)
        return confirmation_date
