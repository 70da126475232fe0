# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from datetime import datetime
from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import HttpCase
from odoo.tests import tagged

from .test_payment_request_wizard import RequestSendingCommon

T0 = datetime(2026, 5, 4, 12, 0, 0)


class ReminderCommon(RequestSendingCommon):
    """Reminders on, a validity of 24 hours: the email is due at 12 hours, the SMS at 22."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Requests left open by demo data or other modules must not blur the counts.
        cls.env["payment.request"].search([("state", "=", "open")]).sudo().write(
            {"state": "cancelled"}
        )
        cls.company.write(
            {
                "payment_request_validity_hours": 24,
                "payment_request_reminder": True,
                "payment_request_reminder_email_percent": 50,
                "payment_request_reminder_sms_hours": 2,
            }
        )
        cls.customer.tz = "Europe/Paris"

    def _open_request(self, **values):
        values.setdefault("description", "Pitch 12, 3 nights")
        with freeze_time(T0):
            request = self._create_request(amount=240.0, **values)
            request.action_open()
        return request

    def _run_cron(self, at, **kwargs):
        """Run the reminder cron at `at`; return the mails and SMS it made."""
        with freeze_time(at), self.mock_mail_gateway(), self.mockSMSGateway():
            self.env["payment.request"]._cron_send_reminders(**kwargs)
            return self._new_mails, self._new_sms

    def _mails_of(self, mails, request):
        return mails.filtered(
            lambda mail: mail.model == request._name and mail.res_id == request.id
        )


@tagged("post_install", "-at_install")
class TestReminderSchedule(ReminderCommon):
    def test_email_at_half_validity_then_sms_two_hours_before_expiry(self):
        request = self._open_request()
        self.assertEqual(request.open_date, T0)
        self.assertRecordValues(
            request,
            [
                {
                    "reminder_step": "none",
                    "next_reminder_date": T0 + timedelta(hours=12),
                    "next_reminder_step": "email",
                    "reminder_count": 0,
                }
            ],
        )
        mails, sms = self._run_cron(T0 + timedelta(hours=11, minutes=59))
        self.assertFalse(mails or sms, "nothing is due yet")

        mails, sms = self._run_cron(T0 + timedelta(hours=12, minutes=5))
        mail = self._mails_of(mails, request)
        self.assertEqual(len(mail), 1)
        self.assertFalse(sms)
        self.assertEqual(mail.recipient_ids, self.customer)
        self.assertIn("Reminder", mail.subject)
        self.assertRecordValues(
            request,
            [
                {
                    "reminder_step": "email",
                    "reminder_count": 1,
                    "last_reminder_date": T0 + timedelta(hours=12, minutes=5),
                    "next_reminder_date": T0 + timedelta(hours=22),
                    "next_reminder_step": "sms",
                }
            ],
        )
        reminder_messages = request.message_ids.filtered(
            lambda msg: (
                msg.subtype_id == self.env.ref("payment_request.mt_payment_request_reminder")
            )
        )
        self.assertEqual(len(reminder_messages), 1, "the reminder is in the chatter")

        mails, sms = self._run_cron(T0 + timedelta(hours=22, minutes=1))
        self.assertFalse(self._mails_of(mails, request))
        self.assertEqual(sms.number, "+14155552671")
        self.assertIn(request.get_portal_url(), sms.body)
        self.assertRecordValues(
            request,
            [
                {
                    "reminder_step": "sms",
                    "reminder_count": 2,
                    "next_reminder_date": False,
                    "next_reminder_step": False,
                }
            ],
        )

    def test_cron_run_twice_reminds_once(self):
        request = self._open_request()
        at = T0 + timedelta(hours=13)
        mails, _sms = self._run_cron(at)
        self.assertEqual(len(self._mails_of(mails, request)), 1)
        for _run in range(2):
            mails, sms = self._run_cron(at + timedelta(minutes=15))
            self.assertFalse(self._mails_of(mails, request) or sms)
        self.assertEqual(request.reminder_count, 1)

    def test_late_cron_sends_the_latest_step_only(self):
        request = self._open_request()
        mails, sms = self._run_cron(T0 + timedelta(hours=23))
        self.assertFalse(self._mails_of(mails, request), "no email and SMS together")
        self.assertEqual(len(sms), 1)
        self.assertEqual((request.reminder_step, request.reminder_count), ("sms", 1))
        mails, sms = self._run_cron(T0 + timedelta(hours=23, minutes=30))
        self.assertFalse(self._mails_of(mails, request) or sms)

    def test_expired_link_is_not_reminded(self):
        request = self._open_request()
        mails, sms = self._run_cron(T0 + timedelta(hours=25))
        self.assertFalse(self._mails_of(mails, request) or sms)
        self.assertEqual(request.reminder_count, 0)

    def test_paid_and_cancelled_requests_are_not_reminded(self):
        paid = self._open_request()
        cancelled = self._open_request()
        paid.sudo().write({"state": "paid"})
        cancelled.action_cancel()
        self.assertFalse((paid | cancelled).filtered("next_reminder_date"))
        for hours in (13, 23):
            mails, sms = self._run_cron(T0 + timedelta(hours=hours))
            self.assertFalse(mails or sms)
        self.assertEqual((paid | cancelled).mapped("reminder_count"), [0, 0])

    def test_payment_under_way_is_not_reminded(self):
        request = self._open_request()
        provider = self.env.ref("payment.payment_provider_demo")
        provider.write({"state": "test", "is_published": True})
        self.env["payment.transaction"].sudo().create(
            {
                "provider_id": provider.id,
                "payment_method_id": provider.payment_method_ids[:1].id,
                "amount": request.amount,
                "currency_id": request.currency_id.id,
                "partner_id": request.partner_id.id,
                "reference": "PR-REMIND-TX",
                "state": "pending",
                "payment_request_id": request.id,
            }
        )
        mails, sms = self._run_cron(T0 + timedelta(hours=13))
        self.assertFalse(self._mails_of(mails, request) or sms)
        self.assertEqual(request.reminder_count, 0)

    def test_reminders_off(self):
        self.company.payment_request_reminder = False
        request = self._open_request()
        self.assertFalse(request.next_reminder_date)
        for hours in (13, 23):
            mails, sms = self._run_cron(T0 + timedelta(hours=hours))
            self.assertFalse(mails or sms)
        # Turned on later, the open request gets its schedule.
        self.company.payment_request_reminder = True
        self.assertEqual(request.next_reminder_date, T0 + timedelta(hours=12))

    def test_schedule_follows_the_settings(self):
        self.company.write(
            {"payment_request_reminder_email_percent": 25, "payment_request_reminder_sms_hours": 6}
        )
        request = self._open_request()
        self.assertEqual(request.next_reminder_date, T0 + timedelta(hours=6))
        self.company.payment_request_reminder_email = False
        self.assertEqual(request.next_reminder_date, T0 + timedelta(hours=18))
        self.assertEqual(request.next_reminder_step, "sms")
        with self.assertRaises(ValidationError):
            self.company.payment_request_reminder_email_percent = 100
        with self.assertRaises(ValidationError):
            self.company.payment_request_reminder_sms_hours = 0

    def test_batches_and_progress(self):
        requests = self._open_request() | self._open_request() | self._open_request()
        with freeze_time(T0 + timedelta(hours=13)), self.mock_mail_gateway():
            cron = self.env.ref("payment_request.ir_cron_send_payment_request_reminders")
            progress = self.env["ir.cron.progress"].create({"cron_id": cron.id})
            remaining = (
                self.env["payment.request"]
                .with_context(ir_cron_progress_id=progress.id)
                ._cron_send_reminders(batch_size=2)
            )
            self.assertEqual(remaining, 1)
            self.assertEqual((progress.done, progress.remaining), (2, 1))
            self.assertEqual(self.env["payment.request"]._cron_send_reminders(batch_size=2), 0)
        self.assertEqual(requests.mapped("reminder_count"), [1, 1, 1])


@tagged("post_install", "-at_install")
class TestReminderOptOut(ReminderCommon):
    def test_email_blacklist_is_respected(self):
        request = self._open_request()
        self.env["mail.blacklist"].sudo()._add(self.customer.email)
        mails, _sms = self._run_cron(T0 + timedelta(hours=13))
        self.assertFalse(self._mails_of(mails, request))
        self.assertEqual(request.reminder_count, 0)
        self.assertEqual(request.reminder_step, "email", "the step is done, not retried")
        self.assertIn("opted out of emails", request.message_ids[0].body)
        # The SMS step still goes: the customer opted out of emails only.
        _mails, sms = self._run_cron(T0 + timedelta(hours=22, minutes=30))
        self.assertEqual(len(sms), 1)

    def test_phone_blacklist_is_respected(self):
        request = self._open_request()
        self.env["phone.blacklist"].sudo()._add(["+14155552671"])
        mails, sms = self._run_cron(T0 + timedelta(hours=22, minutes=30))
        self.assertFalse(sms)
        self.assertFalse(self._mails_of(mails, request))
        self.assertIn("opted out of SMS", request.message_ids[0].body)
        self.assertEqual((request.reminder_step, request.reminder_count), ("sms", 0))

    def test_no_sms_without_a_valid_mobile(self):
        for number in (False, "12", "+1 202"):
            with self.subTest(number=number):
                self.customer.write({"mobile": number, "phone": False})
                request = self._open_request()
                _mails, sms = self._run_cron(T0 + timedelta(hours=22, minutes=30))
                self.assertFalse(sms)
                self.assertIn("no valid mobile", request.message_ids[0].body)

    def test_fixed_line_gets_no_sms(self):
        france = self.env.ref("base.fr")
        self.customer.write(
            {"mobile": False, "phone": "+33 1 42 68 53 00", "country_id": france.id}
        )
        self.assertFalse(self.customer._payment_request_mobile_number())
        self.customer.phone = "+33 6 12 34 56 78"
        self.assertEqual(self.customer._payment_request_mobile_number(), "+33612345678")


@tagged("post_install", "-at_install")
class TestRemindByHand(ReminderCommon):
    def test_remind_button_sends_the_email_and_skips_that_automatic_step(self):
        request = self._open_request()
        with freeze_time(T0 + timedelta(hours=3)), self.mock_mail_gateway():
            request.with_user(self.salesman).action_remind()
            mail = self._mails_of(self._new_mails, request)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.customer)
        self.assertRecordValues(
            request,
            [
                {
                    "reminder_count": 1,
                    "reminder_step": "email",
                    "next_reminder_date": T0 + timedelta(hours=22),
                    "next_reminder_step": "sms",
                }
            ],
        )
        mails, _sms = self._run_cron(T0 + timedelta(hours=13))
        self.assertFalse(self._mails_of(mails, request), "not twice for the same step")

    def test_remind_by_sms_when_the_customer_opted_out_of_emails(self):
        request = self._open_request()
        self.env["mail.blacklist"].sudo()._add(self.customer.email)
        with freeze_time(T0 + timedelta(hours=3)), self.mockSMSGateway():
            request.with_user(self.salesman).action_remind()
            self.assertEqual(self._new_sms.number, "+14155552671")
        self.assertEqual((request.reminder_step, request.reminder_count), ("sms", 1))

    def test_remind_refused_when_nothing_can_reach_the_customer(self):
        request = self._open_request()
        self.env["mail.blacklist"].sudo()._add(self.customer.email)
        self.customer.mobile = False
        with freeze_time(T0 + timedelta(hours=3)), self.assertRaises(UserError) as error:
            request.with_user(self.salesman).action_remind()
        self.assertIn("opted out of emails", str(error.exception))

    def test_remind_only_open_unexpired_requests(self):
        draft = self._create_request()
        with self.assertRaises(UserError):
            draft.with_user(self.salesman).action_remind()
        request = self._open_request()
        with freeze_time(T0 + timedelta(hours=25)), self.assertRaises(UserError):
            request.with_user(self.salesman).action_remind()

    def test_others_cannot_remind(self):
        request = self._open_request()
        with freeze_time(T0 + timedelta(hours=3)), self.assertRaises(UserError):
            request.with_user(self.portal_user).action_remind()


@tagged("post_install", "-at_install")
class TestReminderTemplates(ReminderCommon):
    def test_email_and_sms_say_amount_purpose_time_left_and_link(self):
        request = self._open_request()
        mails, _sms = self._run_cron(T0 + timedelta(hours=12))
        body = self._mails_of(mails, request).body_html
        for expected in (
            "Hello Claire Customer",
            "240.00",
            "Pitch 12, 3 nights",
            "12 hours",
            request.get_portal_url(),
            "Pay now",
        ):
            self.assertIn(expected, body)
        _mails, sms = self._run_cron(T0 + timedelta(hours=22))
        for expected in (
            "240.00",
            "Pitch 12, 3 nights",
            "within 2 hours",
            request.get_portal_url(),
        ):
            self.assertIn(expected, sms.body)

    def test_time_left_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        request = self._open_request()
        with freeze_time(T0 + timedelta(hours=22)):
            request.invalidate_recordset(["reminder_time_left"])
            self.assertEqual(request.with_context(lang="fr_FR").reminder_time_left, "2 heures")

    def test_templates_are_noupdate(self):
        for xmlid in (
            "payment_request.mail_template_payment_request_reminder",
            "payment_request.sms_template_payment_request_reminder",
        ):
            module, name = xmlid.split(".")
            data = self.env["ir.model.data"].search([("module", "=", module), ("name", "=", name)])
            self.assertTrue(data.noupdate, xmlid)


@tagged("post_install", "-at_install")
class TestRemindTour(ReminderCommon, HttpCase):
    def test_remind_from_the_form(self):
        self.company.write({"payment_request_reminder": True})
        request = self._create_request(amount=75.0, description="Kayak rental")
        request.action_open()
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.start_tour(
                f"/odoo/payment-requests/{request.id}", "payment_request_remind", login="admin"
            )
        self.assertEqual(request.reminder_count, 1)
        self.assertEqual(len(self._mails_of(self._new_mails, request)), 1)
