# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Payment plans: the steps in which an order is paid (a deposit at booking, the balance before
arrival, installments), shaped like Odoo's payment terms."""

from datetime import timedelta

from markupsafe import Markup
from markupsafe import escape

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tools import float_round
from odoo.tools import format_amount
from odoo.tools import format_date


class PaymentRequestPlan(models.Model):
    _name = "payment.request.plan"
    _description = "Payment Plan"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        comodel_name="res.company",
        index=True,
        default=lambda self: self.env.company,
        help="Leave empty to offer the plan in every company.",
    )
    line_ids = fields.One2many(
        string="Steps",
        comodel_name="payment.request.plan.line",
        inverse_name="plan_id",
        copy=True,
    )
    note = fields.Text(
        string="Description", translate=True, help="For the staff: when to choose this plan."
    )
    currency_id = fields.Many2one(
        comodel_name="res.currency",
        compute="_compute_currency_id",
        help="The currency of the fixed amounts: the company's.",
    )
    example_amount = fields.Monetary(
        currency_field="currency_id", default=1000, store=False, readonly=True
    )
    example_date = fields.Date(
        string="Confirmed on", default=fields.Date.context_today, store=False
    )
    example_commitment_date = fields.Date(
        string="Delivery on",
        default=lambda self: fields.Date.context_today(self) + timedelta(days=30),
        store=False,
    )
    example_preview = fields.Html(compute="_compute_example_preview", sanitize=False)

    # === COMPUTE METHODS === #

    @api.depends("company_id")
    def _compute_currency_id(self):
        for plan in self:
            plan.currency_id = (plan.company_id or self.env.company).currency_id

    @api.depends(
        "currency_id",
        "example_amount",
        "example_date",
        "example_commitment_date",
        "line_ids.value",
        "line_ids.value_amount",
        "line_ids.delay_type",
        "line_ids.nb_days",
        "line_ids.sequence",
    )
    @api.depends_context("lang")
    def _compute_example_preview(self):
        for plan in self:
            plan.example_preview = plan._get_example_preview()

    def _get_example_preview(self):
        """Return the plan's steps on its example order, as the form shows them."""
        self.ensure_one()
        today = self.example_date or fields.Date.context_today(self)
        currency = self.currency_id or self.env.company.currency_id
        try:
            steps = self._compute_steps(
                self.example_amount, currency, today, self.example_commitment_date
            )
        except (UserError, ValidationError) as error:
            return Markup('<div class="text-danger">%s</div>') % error.args[0]
        if not steps:
            return ""
        parts = []
        for step in steps:
            amount = format_amount(self.env, step["amount"], currency)
            if step["due_date"] <= today:
                parts.append(self.env._("%(amount)s now", amount=amount))
            else:
                parts.append(
                    self.env._(
                        "%(amount)s on %(date)s",
                        amount=amount,
                        date=format_date(self.env, step["due_date"]),
                    )
                )
        intro = self.env._(
            "On a %(amount)s order confirmed on %(date)s, delivered on %(delivery)s:",
            amount=format_amount(self.env, self.example_amount, currency),
            date=format_date(self.env, today),
            delivery=format_date(self.env, self.example_commitment_date or today),
        )
        items = Markup("").join(Markup("<li>%s</li>") % escape(part) for part in parts)
        return Markup("<p class='mb-1'>%s</p><ol class='mb-0'>%s</ol>") % (intro, items)

    # === CONSTRAINT METHODS === #

    @api.constrains("line_ids")
    def _check_lines(self):
        """As Odoo's payment terms: at least one percent step, the percents summing to 100."""
        for plan in self:
            percents = plan.line_ids.filtered(lambda line: line.value == "percent")
            total = float_round(sum(percents.mapped("value_amount")), precision_digits=2)
            if not percents or total != 100:
                raise ValidationError(
                    self.env._(
                        "The payment plan %(plan)s must have at least one percent step, and its "
                        "percents must add up to 100%% (they add up to %(total)s%%).",
                        plan=plan.name,
                        total=total,
                    )
                )

    # === BUSINESS METHODS === #

    def _compute_steps(self, amount, currency, confirmation_date, commitment_date, date=None):
        """Return the steps of the plan on an order of `amount`.

        Fixed amounts are taken first (converted from the company's currency), each percent
        of the amount next; the last step takes the balance, as Odoo's payment terms do, so
        that the steps always add up to the amount.

        :param float amount: the order's total
        :param res.currency currency: the order's currency
        :param date confirmation_date: when the order is confirmed
        :param date commitment_date: when it is delivered (the arrival), or None
        :param date date: the date of the conversion of fixed amounts; the confirmation's
        :return: [{'line', 'number', 'amount', 'due_date'}] in the plan's order
        :rtype: list
        :raise UserError: naming the step whose fixed amount is more than the order
        """
        self.ensure_one()
        lines = self.line_ids.sorted("sequence")
        company = self.company_id or self.env.company
        steps = []
        residual = currency.round(amount)
        for number, line in enumerate(lines, start=1):
            if number == len(lines):
                step_amount = residual
            elif line.value == "fixed":
                step_amount = company.currency_id._convert(
                    line.value_amount, currency, company, date or confirmation_date
                )
            else:
                step_amount = currency.round(amount * line.value_amount / 100.0)
            if currency.compare_amounts(step_amount, residual) > 0 or (
                currency.compare_amounts(step_amount, 0) < 0
            ):
                raise UserError(
                    self.env._(
                        "Step %(number)s of the payment plan %(plan)s asks more than remains of "
                        "the order (%(amount)s): lower its fixed amount or choose another plan.",
                        number=number,
                        plan=self.name,
                        amount=format_amount(self.env, amount, currency),
                    )
                )
            residual = currency.round(residual - step_amount)
            steps.append(
                {
                    "line": line,
                    "number": number,
                    "amount": step_amount,
                    "due_date": line._get_due_date(confirmation_date, commitment_date),
                }
            )
        return steps
