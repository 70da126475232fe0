# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from datetime import date
from datetime import datetime
from datetime import timedelta
from unittest.mock import patch

import psycopg2
import requests
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import Form
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import MockSMS

from .. import const
from .common import CustomerCardsCommon
from .test_quote_approval import QuoteCommon

TODAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 10, 0)


class PlanCommon:
    """The two plans of the demo data, made again, and helpers on planned orders."""

    @classmethod
    def _make_plans(cls):
        Plan = cls.env["payment.request.plan"]
        cls.booking_plan = Plan.create(
            {
                "name": "30% at booking, balance 14 days before arrival",
                "line_ids": [
                    Command.create(
                        {"sequence": 1, "value_amount": 30, "delay_type": "on_confirmation"}
                    ),
                    Command.create(
                        {
                            "sequence": 2,
                            "value_amount": 70,
                            "delay_type": "days_before_commitment",
                            "nb_days": 14,
                        }
                    ),
                ],
            }
        )
        cls.monthly_plan = Plan.create(
            {
                "name": "3 monthly installments",
                "line_ids": [
                    Command.create({"sequence": 1, "value_amount": 33.33}),
                    Command.create(
                        {
                            "sequence": 2,
                            "value_amount": 33.33,
                            "delay_type": "days_after_confirmation",
                            "nb_days": 30,
                        }
                    ),
                    Command.create(
                        {
                            "sequence": 3,
                            "value_amount": 33.34,
                            "delay_type": "days_after_confirmation",
                            "nb_days": 60,
                        }
                    ),
                ],
            }
        )

    def _steps(self, order):
        return order.sudo()._payment_request_get_steps()

    def _run_cron(self):
        with self.mock_mail_gateway(), self.mockSMSGateway():
            return self.env["payment.request"]._cron_send_plan_steps()

    def _pay_step(self, step, amount=None):
        """Confirm a payment of the step as its provider would (no page)."""
        tx = (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": self.demo_provider.id,
                    "payment_method_id": self.demo_method.id,
                    "reference": f"{step.name}-test-{step.attempt_count}",
                    "operation": "online_direct",
                    **{
                        key: value
                        for key, value in step._get_transaction_values(amount).items()
                        if key != "custom_create_values"
                    },
                    **step._get_transaction_values(amount)["custom_create_values"],
                }
            )
        )
        tx._set_done()
        with self.mock_mail_gateway(), self.mockSMSGateway():
            tx._post_process()
        return tx


@tagged("post_install", "-at_install")
class TestPaymentPlanRules(CustomerCardsCommon, PlanCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._make_plans()

    def _plan(self, lines, name="Test plan"):
        return (
            self.env["payment.request.plan"]
            .with_user(self.manager)
            .create({"name": name, "line_ids": [Command.create(line) for line in lines]})
        )

    def test_percents_must_add_up_to_100(self):
        with self.assertRaisesRegex(ValidationError, r"Bad plan.*add up to 100%.*90"):
            self._plan([{"value_amount": 40}, {"value_amount": 50}], name="Bad plan")

    def test_at_least_one_percent_step(self):
        with self.assertRaisesRegex(ValidationError, "at least one percent step"):
            self._plan([{"value": "fixed", "value_amount": 100}])

    def test_negative_value_or_days_name_the_step(self):
        with self.assertRaisesRegex(
            ValidationError, "Step 2 of the payment plan Test plan.*negative"
        ):
            self._plan(
                [
                    {"sequence": 1, "value_amount": 100},
                    {"sequence": 2, "value": "fixed", "value_amount": -5},
                ]
            )
        with self.assertRaisesRegex(ValidationError, "Step 2 of the payment plan.*days"):
            self._plan(
                [
                    {"sequence": 1, "value_amount": 50},
                    {
                        "sequence": 2,
                        "value_amount": 50,
                        "delay_type": "days_after_confirmation",
                        "nb_days": -3,
                    },
                ]
            )
        with self.assertRaisesRegex(
            ValidationError, "Step 1 of the payment plan.*between 0 and 100"
        ):
            self._plan([{"value_amount": 120}])

    def test_a_step_written_alone_is_checked_with_its_plan(self):
        with self.assertRaisesRegex(ValidationError, "add up to 100%"):
            self.booking_plan.line_ids[0].value_amount = 40

    def test_only_payment_managers_edit_plans_salespeople_read(self):
        self.assertTrue(self.booking_plan.with_user(self.salesman).name)
        with self.assertRaises(AccessError):
            self.booking_plan.with_user(self.salesman).name = "Mine"
        self.booking_plan.with_user(self.manager).name = "Booking"

    def test_fixed_step_more_than_the_order_names_the_step(self):
        plan = self._plan(
            [
                {"sequence": 1, "value": "fixed", "value_amount": 500},
                {"sequence": 2, "value_amount": 100, "delay_type": "days_after_confirmation"},
            ],
            name="Fixed deposit",
        )
        with self.assertRaisesRegex(UserError, "Step 1 of the payment plan Fixed deposit"):
            plan._compute_steps(300.0, self.env.company.currency_id, TODAY, None)
        steps = plan._compute_steps(1000.0, self.env.company.currency_id, TODAY, None)
        self.assertEqual([step["amount"] for step in steps], [500.0, 500.0])

    def test_steps_add_up_the_last_takes_the_rounding(self):
        steps = self.monthly_plan._compute_steps(100.0, self.env.company.currency_id, TODAY, None)
        self.assertEqual([step["amount"] for step in steps], [33.33, 33.33, 33.34])
        self.assertEqual(
            [step["due_date"] for step in steps],
            [TODAY, TODAY + timedelta(days=30), TODAY + timedelta(days=60)],
        )
        steps = self.monthly_plan._compute_steps(1000.01, self.env.company.currency_id, TODAY, None)
        self.assertAlmostEqual(sum(step["amount"] for step in steps), 1000.01, places=2)

    def test_days_before_commitment_never_before_confirmation(self):
        steps = self.booking_plan._compute_steps(
            1000.0, self.env.company.currency_id, TODAY, TODAY + timedelta(days=5)
        )
        self.assertEqual([step["due_date"] for step in steps], [TODAY, TODAY])

    def test_preview_like_payment_terms(self):
        form = Form(self.env["payment.request.plan"].with_user(self.manager))
        form.name = "Preview"
        with form.line_ids.new() as line:
            line.value_amount = 30
        with form.line_ids.new() as line:
            line.value_amount = 70
            line.delay_type = "days_after_confirmation"
            line.nb_days = 20
        form.example_date = TODAY
        form.example_commitment_date = TODAY + timedelta(days=30)
        preview = str(form.example_preview)
        self.assertIn("On a $\xa01,000.00 order confirmed on 12/07/2026", preview)
        self.assertIn("$\xa0300.00 now", preview)
        self.assertIn("$\xa0700.00 on 12/27/2026", preview)
        fr = self.env["res.lang"]._activate_lang("fr_FR")
        self.assertTrue(fr)
        plan = form.save()
        self.assertIn("Preview", plan.name)

    def test_notice_days_not_negative(self):
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.env.company.payment_request_plan_notice_days = -1


@tagged("post_install", "-at_install")
class TestPlannedOrders(CustomerCardsCommon, PlanCommon, MockEmail, MockSMS):
    """Orders confirmed in the backend with a plan, their steps, the cron, auto-pay."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._make_plans()
        cls.product.list_price = 1000.0
        cls.customer.lang = "en_US"

    def _order(self, plan=None, commitment=None, token=None, autopay=False, **values):
        order = (
            self.env["sale.order"]
            .with_user(self.card_user)
            .create(
                {
                    "partner_id": self.customer.id,
                    "partner_invoice_id": self.customer.id,
                    "user_id": self.salesman.id,
                    "order_line": [
                        Command.create({"product_id": self.product.id, "tax_id": False})
                    ],
                    "payment_request_plan_id": (plan or self.booking_plan).id,
                    "commitment_date": commitment or datetime(2027, 1, 20, 12, 0),
                    **values,
                }
            )
        )
        if token:
            order.write({"payment_request_use_card": True, "payment_request_token_id": token.id})
        if autopay:
            order.with_user(self.card_user).action_enable_autopay()
        return order

    def _confirm(self, order):
        with self.mock_mail_gateway(), self.mockSMSGateway():
            order.with_user(self.card_user).action_confirm()
        return self._steps(order)

    @freeze_time(NOW)
    def test_confirmation_expands_the_plan_and_sends_the_first_step(self):
        order = self._order()
        steps = self._confirm(order)
        self.assertRecordValues(
            steps,
            [
                {
                    "plan_step": 1,
                    "plan_step_count": 2,
                    "amount": 300.0,
                    "due_date": TODAY,
                    "scheduled_date": TODAY,
                    "state": "open",
                    "purpose": "deposit",
                    "channel": "both",
                    "plan_id": self.booking_plan.id,
                },
                {
                    "plan_step": 2,
                    "plan_step_count": 2,
                    "amount": 700.0,
                    "due_date": date(2027, 1, 6),
                    "scheduled_date": date(2026, 12, 30),
                    "state": "draft",
                    "purpose": "order",
                    "channel": False,
                    "plan_id": self.booking_plan.id,
                },
            ],
        )
        self.assertEqual(order.payment_request_plan_next, "$\xa0300.00 on 12/07/2026")
        first = steps[0]
        self.assertIn("Payment 1 of 2 of order", first.description)
        # Valid until the end of its due date at least, the company's 24 hours otherwise.
        self.assertGreaterEqual(first.expiration_date, datetime(2026, 12, 7, 23, 59))
        self.assertTrue(self._new_mails.filtered(lambda mail: mail.res_id == first.id))
        self.assertIn("payment 1 of 2", self._new_sms.body)
        self.assertIn("Payment plan", order.message_ids[:1].body)

    @freeze_time(NOW)
    def test_steps_due_within_the_notice_are_sent_at_confirmation(self):
        order = self._order(commitment=datetime(2026, 12, 25, 12, 0))
        steps = self._confirm(order)
        # The balance is due on 11 December, within the 7 days of notice: sent now.
        self.assertEqual(steps.mapped("state"), ["open", "open"])
        self.assertEqual(steps[1].scheduled_date, TODAY)
        self.assertGreaterEqual(steps[1].expiration_date, datetime(2026, 12, 11, 23, 59))

    def test_a_plan_of_another_company_is_refused(self):
        plan = self.booking_plan.copy({"company_id": self.company_2.id})
        with self.assertRaisesRegex(UserError, "(?i)compan"):
            self._order(plan=plan)

    def test_a_plan_before_delivery_needs_a_delivery_date(self):
        order = self._order()
        order.commitment_date = False
        with self.assertRaisesRegex(UserError, "Set the delivery date"):
            order.with_user(self.card_user).action_confirm()
        self.assertEqual(order.state, "draft")

    def test_cron_sends_each_step_once_on_its_date_by_the_first_steps_channel(self):
        with freeze_time(NOW):
            order = self._order(plan=self.monthly_plan)
            steps = self._confirm(order)
        self.assertEqual(steps.mapped("amount"), [333.3, 333.3, 333.4])
        self.assertEqual(steps.mapped("state"), ["open", "draft", "draft"])
        with freeze_time(datetime(2026, 12, 29, 8, 0)):
            self._run_cron()
            self.assertEqual(steps.mapped("state"), ["open", "draft", "draft"], "too early")
        with freeze_time(datetime(2026, 12, 30, 8, 0)):
            self._run_cron()
            self.assertEqual(steps[1].state, "open")
            self.assertEqual(steps[1].channel, "both")
            self.assertTrue(self._new_mails.filtered(lambda mail: mail.res_id == steps[1].id))
            self.assertIn("payment 2 of 3", self._new_sms.body)
            self.assertIn("Payment 2 of 3", steps[1].description)
            self._run_cron()
            self.assertFalse(self._new_mails, "run twice, sent once")
            self.assertFalse(self._new_sms)
        # The cron ran late: the third step is sent once, even after its due date.
        with freeze_time(datetime(2027, 2, 20, 8, 0)):
            self._run_cron()
            self.assertEqual(steps[2].state, "open")
            self.assertEqual(len(self._new_mails.filtered(lambda m: m.res_id == steps[2].id)), 1)
            self._run_cron()
            self.assertFalse(self._new_mails)

    def test_sms_first_step_sms_steps(self):
        with freeze_time(NOW):
            order = self._order(plan=self.monthly_plan)
            steps = self._confirm(order)
            steps[0].sudo().channel = "sms"
        with freeze_time(datetime(2026, 12, 31, 8, 0)):
            self._run_cron()
        self.assertEqual(steps[1].channel, "sms")
        self.assertFalse(self._new_mails.filtered(lambda mail: mail.res_id == steps[1].id))
        self.assertEqual(self._new_sms.number, "+32470123456")

    def test_steps_covered_by_earlier_payments_shrink_or_drop(self):
        with freeze_time(NOW):
            order = self._order(plan=self.monthly_plan)
            steps = self._confirm(order)
            self._pay_step(steps[0])
            # The customer paid 500 more on the order by another request.
            extra = (
                self.env["payment.request"]
                .sudo()
                .create(
                    {
                        "partner_id": self.customer.id,
                        "purpose": "order",
                        "sale_order_id": order.id,
                        "amount": 500.0,
                    }
                )
            )
            extra.action_open()
            self._pay_step(extra)
        self.assertEqual(order.amount_paid, 833.3)
        with freeze_time(datetime(2026, 12, 30, 8, 0)):
            self._run_cron()
        # 333.3 + 333.3 was due by step 2: covered; the balance asks what remains.
        self.assertRecordValues(
            steps, [{"state": "paid"}, {"state": "cancelled"}, {"state": "draft"}]
        )
        self.assertEqual(steps[1].cancel_reason, "covered")
        self.assertEqual(steps[2].amount, 166.7)
        self.assertIn("covered by the payments received", order.message_ids[:1].body)

    def test_changed_order_reschedules_unpaid_steps(self):
        with freeze_time(NOW):
            order = self._order()
            first, second = self._confirm(order)
            order.with_user(self.card_user).write(
                {"order_line": [Command.create({"product_id": self.product.id, "tax_id": False})]}
            )
        self.assertEqual(order.amount_total, 2000.0)
        # The first step was sent: closed and replaced by a new link; the draft one updated.
        self.assertEqual(first.state, "cancelled")
        self.assertEqual(first.cancel_reason, "plan")
        replacement = first.replaced_by_id
        self.assertRecordValues(
            replacement, [{"plan_step": 1, "amount": 600.0, "state": "open", "due_date": TODAY}]
        )
        self.assertEqual(second.amount, 1400.0)
        self.assertIn("Payment plan updated", order.message_ids[:1].body)
        self.assertEqual(self._steps(order), replacement | second)
        with freeze_time(NOW):
            order.with_user(self.card_user).commitment_date = datetime(2027, 2, 20, 12, 0)
        self.assertEqual(second.due_date, date(2027, 2, 6))
        self.assertEqual(second.scheduled_date, date(2027, 1, 30))

    def test_plan_locked_once_a_step_is_paid(self):
        with freeze_time(NOW):
            order = self._order()
            first, _second = self._confirm(order)
            self._pay_step(first)
        self.assertTrue(order.payment_request_plan_locked)
        with self.assertRaisesRegex(UserError, "already paid"):
            order.with_user(self.card_user).payment_request_plan_id = self.monthly_plan

    def test_changing_the_plan_before_payment_replans(self):
        with freeze_time(NOW):
            order = self._order()
            old = self._confirm(order)
            order.with_user(self.card_user).payment_request_plan_id = self.monthly_plan
        self.assertEqual(set(old.mapped("state")), {"cancelled"})
        self.assertEqual(self._steps(order).mapped("amount"), [333.3, 333.3, 333.4])

    def test_cancelled_order_cancels_unpaid_steps(self):
        with freeze_time(NOW):
            order = self._order()
            first, second = self._confirm(order)
            self._pay_step(first)
            order.with_user(self.card_user)._action_cancel()
        self.assertEqual(first.state, "paid")
        self.assertEqual(second.state, "cancelled")

    def test_invoicing_reconciles_paid_steps_and_later_steps_settle_the_invoice(self):
        with freeze_time(NOW):
            order = self._order()
            first, second = self._confirm(order)
            self._pay_step(first)
            invoice = order._create_invoices()
            invoice.action_post()
            self.assertEqual(invoice.amount_residual, 700.0, "the deposit is reconciled")
            self.assertEqual(invoice.payment_state, "partial")
        with freeze_time(datetime(2026, 12, 30, 8, 0)):
            self._run_cron()
            self.assertEqual(second.state, "open")
            tx = self._pay_step(second)
        self.assertEqual(tx.invoice_ids, invoice)
        self.assertEqual(second.state, "paid")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_multi_currency_order(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        self.env["res.currency.rate"].create(
            {"currency_id": eur.id, "rate": 0.5, "name": "2026-01-01"}
        )
        pricelist = self.env["product.pricelist"].create({"name": "EUR", "currency_id": eur.id})
        plan = self.env["payment.request.plan"].create(
            {
                "name": "100 down",
                "line_ids": [
                    Command.create({"sequence": 1, "value": "fixed", "value_amount": 100}),
                    Command.create(
                        {
                            "sequence": 2,
                            "value_amount": 100,
                            "delay_type": "days_after_confirmation",
                            "nb_days": 10,
                        }
                    ),
                ],
            }
        )
        with freeze_time(NOW):
            order = self._order(plan=plan, pricelist_id=pricelist.id)
            steps = self._confirm(order)
        self.assertEqual(order.currency_id, eur)
        # 100 in the company's dollars is 50 euros.
        self.assertEqual(steps.mapped("amount"), [50.0, order.amount_total - 50.0])
        self.assertEqual(steps.currency_id, eur)

    def test_expired_step_notifies_the_salesperson_and_is_recreated_in_one_click(self):
        with freeze_time(NOW):
            order = self._order()
            first, _second = self._confirm(order)
        with freeze_time(datetime(2026, 12, 9, 8, 0)):
            self.env["payment.request"]._cron_expire_requests()
            self.assertEqual(first.state, "expired")
            self.assertIn(self.salesman.partner_id, first.message_ids[:1].partner_ids, "notified")
            self.assertEqual(first.activity_ids.user_id, self.salesman)
            late_domain = [
                (
                    "payment_request_step_ids",
                    "any",
                    [("state", "=", "expired"), ("replaced_by_id", "=", False)],
                )
            ]
            late = self.env["sale.order"].search([("id", "=", order.id)] + late_domain)
            self.assertEqual(late, order, "the Payment late filter finds it")
            with self.mock_mail_gateway(), self.mockSMSGateway():
                action = first.with_user(self.salesman).action_recreate()
            new_step = self.env["payment.request"].browse(action["res_id"])
            self.assertRecordValues(
                new_step,
                [{"plan_step": 1, "state": "open", "amount": 300.0, "due_date": date(2026, 12, 9)}],
            )
            self.assertTrue(self._new_mails.filtered(lambda mail: mail.res_id == new_step.id))
            self.assertIn("due on 12/09/2026", new_step.description)
            self.assertEqual(self._steps(order)[0], new_step)
            self.assertFalse(order.search([("id", "=", order.id)] + late_domain))

    def test_autopay_charges_steps_on_the_saved_card(self):
        token = self._create_demo_token()
        with freeze_time(NOW):
            order = self._order(token=token, autopay=True)
            first, second = self._confirm(order)
            self.assertEqual(first.plan_charge_state, "to_charge")
            self.assertFalse(self._new_mails.filtered(lambda mail: mail.res_id == first.id))
            self._run_cron()
        self.assertEqual(first.state, "paid")
        self.assertEqual(first.plan_charge_state, "done")
        tx = first.sudo().transaction_ids
        self.assertRecordValues(
            tx, [{"operation": "offline", "token_id": token.id, "amount": 300.0, "state": "done"}]
        )
        self.assertEqual(tx.sale_order_ids, order)
        self.assertIn("Auto-pay: $&nbsp;300.00 charged", order.message_ids[:1].body)
        with freeze_time(datetime(2026, 12, 30, 8, 0)):
            self._run_cron()
            self._run_cron()
        self.assertEqual(second.state, "paid")
        self.assertEqual(len(second.sudo().transaction_ids), 1, "charged once")
        # Invoicing does not charge the invoice again: the steps paid it.
        invoice = order._create_invoices()
        invoice.action_post()
        self.assertFalse(invoice.payment_request_autopay_state)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    @mute_logger("odoo.addons.payment.models.payment_transaction")
    def test_autopay_failure_falls_back_to_a_link_and_an_activity(self):
        token = self._create_demo_token(simulated_state="error")
        with freeze_time(NOW):
            order = self._order(token=token, autopay=True)
            first, _second = self._confirm(order)
            self._run_cron()
        self.assertEqual(first.plan_charge_state, "failed")
        self.assertEqual(first.state, "open")
        self.assertEqual(order.payment_request_autopay_state, "paused")
        self.assertEqual(order.activity_ids.user_id, self.salesman)
        self.assertTrue(self._new_mails.filtered(lambda mail: mail.res_id == first.id))
        self.assertEqual(first.channel, "both")

    def test_a_chunk_that_meets_a_concurrent_update_is_sent_by_the_next_run(self):
        with freeze_time(NOW):
            orders = self._order(plan=self.monthly_plan) | self._order(plan=self.monthly_plan)
            for order in orders:
                self._confirm(order)
        seconds = orders.payment_request_step_ids.filtered(lambda step: step.plan_step == 2)
        Request = self.registry["payment.request"]
        send = Request._send_plan_steps
        calls = []

        def conflicting(steps, queue=False):
            calls.append(steps.ids)
            if len(calls) == 1:
                raise psycopg2.errors.SerializationFailure("concurrent update")
            return send(steps, queue=queue)

        with freeze_time(datetime(2026, 12, 30, 8, 0)):
            with (
                patch.object(const, "PLAN_SEND_CHUNK", 1),
                patch.object(Request, "_send_plan_steps", conflicting),
            ):
                self.assertEqual(self._run_cron(), 1, "one step left for the next run")
            self.assertEqual(seconds.mapped("state"), ["draft", "open"])
            self.assertEqual(self._run_cron(), 0)
        self.assertEqual(seconds.mapped("state"), ["open", "open"])
        self.assertEqual(len(self._new_mails.filtered(lambda m: m.res_id == seconds[0].id)), 1)

    @mute_logger("odoo.addons.payment_request.models.payment_request_step")
    def test_autopay_provider_out_of_reach_resends_the_same_charge(self):
        token = self._create_demo_token()
        Tx = self.registry["payment.transaction"]
        send = Tx._send_payment_request

        def unreachable(tx):
            raise requests.exceptions.ConnectionError("connection refused")

        with freeze_time(NOW):
            order = self._order(token=token, autopay=True)
            first, second = self._confirm(order)
            with patch.object(Tx, "_send_payment_request", unreachable):
                self._run_cron()
            tx = first.sudo().transaction_ids
            self.assertRecordValues(tx, [{"state": "draft"}])
            self.assertEqual(first.plan_charge_state, "charging")
            with patch.object(Tx, "_send_payment_request", send):
                self._run_cron()
        self.assertEqual(first.sudo().transaction_ids, tx, "the same charge, sent again")
        self.assertEqual(tx.state, "done")
        self.assertEqual(first.state, "paid")
        # A charge left unanswered for a day is never sent again: someone checks it.
        with freeze_time(datetime(2026, 12, 30, 8, 0)):
            with patch.object(Tx, "_send_payment_request", unreachable):
                self._run_cron()
            late_tx = second.sudo().transaction_ids
            self.assertEqual(late_tx.state, "draft")
        with freeze_time(datetime(2026, 12, 31, 9, 0)):
            self._run_cron()
        self.assertEqual(late_tx.state, "cancel")
        self.assertEqual(second.plan_charge_state, "failed")
        self.assertEqual(second.activity_ids.user_id, self.salesman)

    def test_cron_queries_do_not_grow_with_the_batch(self):
        """The cron's own work (finding, locking, rescheduling, choosing the channel) costs the
        same queries for 2 or 6 steps; posting the messages (the link, the state's tracking)
        costs what Odoo's mail costs per message, a bounded number per step."""
        Request = self.registry["payment.request"]
        send_link_messages = Request._send_link_messages

        def cron_queries(count, post_messages):
            with freeze_time(NOW):
                orders = self.env["sale.order"]
                for _i in range(count):
                    orders |= self._order(plan=self.monthly_plan)
                    self._confirm(orders[-1:])
            with freeze_time(datetime(2026, 12, 31, 8, 0)):
                self.env.flush_all()
                self.env.invalidate_all()
                before = self.cr.sql_log_count
                if post_messages:
                    self._run_cron()
                else:
                    # Nor the tracking messages of the states, posted per step as the links.
                    with patch.object(Request, "_send_link_messages", autospec=True) as sent:
                        self.env["payment.request"].with_context(
                            tracking_disable=True
                        )._cron_send_plan_steps()
                    sent.assert_called_once()
                self.env.flush_all()
                queries = self.cr.sql_log_count - before
            steps = orders.payment_request_step_ids.filtered(lambda step: step.plan_step == 2)
            self.assertEqual(set(steps.mapped("state")), {"open"})
            return queries

        self.assertTrue(send_link_messages)
        # The first runs of a process read once what later runs find cached (fields' metadata,
        # defaults): measured after them.
        cron_queries(2, False)
        cron_queries(6, False)
        self.assertEqual(cron_queries(2, False), cron_queries(6, False), "no query per step")
        few, many = cron_queries(2, True), cron_queries(6, True)
        self.assertLessEqual((many - few) / 4, 15, "queries of each step's email and SMS")


@tagged("post_install", "-at_install")
class TestPlannedQuotation(QuoteCommon, PlanCommon):
    """A quotation with a plan sent for approval: its page asks the first step."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._make_plans()
        cls.demo_provider = cls.provider
        cls.demo_method = cls.method

    def setUp(self):
        super(QuoteCommon, self).setUp()  # pylint: disable=bad-super-call
        self.order = self._quotation(
            payment_request_plan_id=self.booking_plan.id,
            commitment_date=datetime.now() + timedelta(days=40),
        )
        self.quote = self._send_quote(self.order)

    def test_quotation_asks_its_first_step(self):
        # 2 x 500 + 10% tax = 1,100; 30% now.
        self.assertEqual(self.quote.amount, 330.0)
        self.assertIn("first payment (1 of 2)", self.quote.description)
        page = self._page(self.quote).text
        self.assertIn("o_payment_request_plan", page)
        self.assertIn("Asked now", page)
        self.assertIn("770.00", page)

    def test_approval_confirms_and_schedules_the_rest_then_the_first_step_is_paid(self):
        result = self._approve()
        self.assertTrue(result.get("force_refresh") or result.get("redirect_url"), result)
        self.assertEqual(self.order.state, "sale")
        self.assertFalse(self.order.invoice_ids, "paid step by step, not invoiced at once")
        steps = self._steps(self.order)
        self.assertEqual(steps[0], self.quote)
        self.assertRecordValues(
            steps,
            [
                {"plan_step": 1, "amount": 330.0, "state": "open"},
                {"plan_step": 2, "amount": 770.0, "state": "draft"},
            ],
        )
        self.assertIn("its first payment", self.quote.message_ids[:1].body)
        page = self._page(self.quote).text
        self.assertIn("Its first payment is asked below", page)
        self._settle(self.quote)
        self.assertEqual(self.quote.state, "paid")
        self.assertEqual(self.order.amount_paid, 330.0)
        page = self._page(self.quote).text
        self.assertIn("Paid", page)
        self.assertIn("Next", page)

    def test_changing_the_plan_outdates_the_link(self):
        self.order.with_user(self.salesman).payment_request_plan_id = self.monthly_plan
        self.assertEqual(self.quote.state, "cancelled")
        self.assertEqual(self.quote.cancel_reason, "updated")

    def test_tour_customer_approves_a_planned_quotation_and_pays_its_first_step(self):
        url = f"/payment_request/{self.quote.id}?access_token={self.quote.access_token}"
        with self.mock_mail_gateway():
            self.start_tour(url, "payment_request_plan_approve_and_pay_first")
        self.assertEqual(self.order.state, "sale")
        self.assertEqual(self.order.signed_by, "Claire Customer")
        self.assertEqual(self.quote.state, "paid")
        self.assertEqual(self.order.amount_paid, 330.0)
        second = self._steps(self.order)[1]
        self.assertRecordValues(second, [{"plan_step": 2, "amount": 770.0, "state": "draft"}])
