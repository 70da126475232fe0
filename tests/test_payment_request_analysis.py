# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import MockSMS

from .common import PaymentRequestCommon


@tagged("post_install", "-at_install")
class TestPaymentRequestAnalysis(PaymentRequestCommon, MockEmail, MockSMS):
    """The measures of the analysis, on requests of a company of their own (no demo data)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_2.country_id = cls.env.ref("base.us")
        cls.customer.write({"mobile": "+1 415 555 2671", "country_id": cls.env.ref("base.us").id})

    def _sent_request(self, channel, amount, paid_after_hours=None):
        """Create a request of company 2, send it by `channel`, and pay it `paid_after_hours`
        after its sending."""
        request = self.env["payment.request"].create(
            {"partner_id": self.customer.id, "company_id": self.company_2.id, "amount": amount}
        )
        with self.mock_mail_gateway(), self.mockSMSGateway():
            request._send_link(
                channel,
                {request.id: self.customer},
                {request.id: "+14155552671"},
                queue=True,
            )
        sent = self.env.ref("payment_request.mt_payment_request_sent")
        message = request.message_ids.filtered(lambda message: message.subtype_id == sent)[-1:]
        if paid_after_hours is not None:
            request.sudo().write(
                {
                    "state": "paid",
                    "paid_date": message.date + timedelta(hours=paid_after_hours),
                }
            )
        return request

    def _make_requests(self):
        return (
            self._sent_request("email", 100.0, paid_after_hours=2)
            | self._sent_request("email", 50.0, paid_after_hours=10)
            | self._sent_request("email", 30.0, paid_after_hours=30)
            | self._sent_request("email", 20.0)
            | self._sent_request("sms", 40.0, paid_after_hours=1)
            | self._sent_request("sms", 60.0)
        )

    def test_report_measures_per_channel(self):
        self._make_requests()
        draft = self.env["payment.request"].create(
            {"partner_id": self.customer.id, "company_id": self.company_2.id, "amount": 999.0}
        )
        Report = self.env["payment.request.report"]
        domain = [("company_id", "=", self.company_2.id)]
        groups = {
            channel: values
            for channel, *values in Report._read_group(
                domain,
                groupby=["channel"],
                aggregates=[
                    "__count",
                    "amount:sum",
                    "amount_paid:sum",
                    "paid_rate:avg",
                    "hours_to_pay:avg",
                ],
            )
        }
        self.assertEqual(groups["email"][:3], [4, 200.0, 180.0])
        self.assertAlmostEqual(groups["email"][3], 75.0)
        self.assertAlmostEqual(groups["email"][4], 14.0, places=2, msg="(2 + 10 + 30) / 3")
        self.assertEqual(groups["sms"][:3], [2, 100.0, 40.0])
        self.assertAlmostEqual(groups["sms"][3], 50.0)
        self.assertAlmostEqual(groups["sms"][4], 1.0, places=2)
        # the draft was never sent: no channel, no time to pay
        self.assertRecordValues(
            Report.search([("request_id", "=", draft.id)]),
            [{"state": "draft", "channel": False, "paid_rate": 0.0, "sent_date": False}],
        )

    def test_median_time_to_pay_per_channel(self):
        self._make_requests()
        rows = self.env["payment.request.channel.report"].search(
            [("company_id", "=", self.company_2.id)]
        )
        by_channel = {row.channel: row for row in rows}
        self.assertEqual(set(by_channel), {"email", "sms"})
        email = by_channel["email"]
        self.assertEqual((email.request_count, email.paid_count), (4, 3))
        self.assertAlmostEqual(email.paid_rate, 75.0)
        self.assertAlmostEqual(email.median_hours_to_pay, 10.0, places=2, msg="not the mean, 14")
        self.assertAlmostEqual(email.avg_hours_to_pay, 14.0, places=2)
        self.assertAlmostEqual(by_channel["sms"].median_hours_to_pay, 1.0, places=2)

    def test_reports_keep_to_the_companies_of_the_user(self):
        self._make_requests()
        for model in ("payment.request.report", "payment.request.channel.report"):
            with self.subTest(model=model):
                self.assertFalse(
                    self.env[model]
                    .with_user(self.biller)
                    .search([("company_id", "=", self.company_2.id)])
                )
                both = (self.company | self.company_2).ids
                self.assertTrue(
                    self.env[model]
                    .with_user(self.salesman)
                    .with_context(allowed_company_ids=both)
                    .search([("company_id", "=", self.company_2.id)])
                )

    def test_list_has_no_total_across_states(self):
        arch = etree.fromstring(
            self.env["payment.request"].get_view(
                self.env.ref("payment_request.payment_request_view_tree").id, "list"
            )["arch"]
        )
        [amount] = arch.xpath("//field[@name='amount']")
        self.assertIsNone(amount.get("sum"))
        groups = self.env["payment.request"]._read_group(
            [("company_id", "=", self.company.id)], ["state"], ["amount:sum"]
        )
        self.assertTrue(groups, "grouped by status, each group still sums its own amounts")

    def test_views_and_menus(self):
        action = self.env.ref("payment_request.payment_request_action")
        self.assertEqual(action.view_mode, "list,kanban,form,graph,pivot")
        for view_type in ("graph", "pivot", "kanban"):
            self.env["payment.request"].get_view(view_type=view_type)
        report_action = self.env.ref("payment_request.payment_request_report_action")
        self.assertEqual(report_action.view_mode, "graph,pivot")
        parents = {
            self.env.ref(xmlid).parent_id
            for xmlid in (
                "payment_request.payment_request_report_menu_invoicing",
                "payment_request.payment_request_report_menu_sale",
            )
        }
        self.assertEqual(
            parents,
            {
                self.env.ref("account.account_reports_management_menu"),
                self.env.ref("sale.menu_sale_report"),
            },
        )
        self.assertEqual(
            self.env.ref("account.account_reports_management_menu").parent_id,
            self.env.ref("account.menu_finance_reports"),
        )

    def test_analysis_tour(self):
        self.company.country_id = self.env.ref("base.us")
        request = self.env["payment.request"].create(
            {"partner_id": self.customer.id, "amount": 75.0}
        )
        with self.mock_mail_gateway(), self.mockSMSGateway():
            request._send_link("email", {request.id: self.customer}, queue=True)
        request.sudo().write({"state": "paid", "paid_date": fields.Datetime.now()})
        self.start_tour("/odoo", "payment_request_analysis", login="admin")
