# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from lxml import etree

from odoo import Command
from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.tests import Form
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.mail.tests.common import mail_new_test_user

from .test_post_processing import PostProcessingCommon
from .test_quote_approval import SIGNATURE


class OpportunityDepositCommon(PostProcessingCommon):
    """A car dealer's opportunity with its customer, and a deposit paid through payment_demo."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.payment_request_deposit_percent = 0.1
        cls.car = cls.env["product.product"].create(
            {
                "name": "Used hatchback",
                "list_price": 12000.0,
                "invoice_policy": "order",
                "taxes_id": [Command.clear()],
            }
        )
        cls.lead = cls._create_lead()

    @classmethod
    def _create_lead(cls, **values):
        return cls.env["crm.lead"].create(
            {
                "name": "Hatchback for Claire",
                "type": "opportunity",
                "partner_id": cls.customer.id,
                "user_id": cls.salesman.id,
                "expected_revenue": 12000.0,
                "company_id": cls.company.id,
                **values,
            }
        )

    def _request_deposit(self, lead=None, user=None, **values):
        form = self._wizard(lead or self.lead, user=user, **values)
        __, requests = self._send(form)
        return requests

    def _pay_deposit(self, lead=None, amount=1200.0):
        [request] = self._request_deposit(lead=lead, amount=amount)
        tx = self._pay(request)
        return request, tx

    def _quotation(self, lead=None, quantity=1):
        return self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "user_id": self.salesman.id,
                "opportunity_id": (lead or self.lead).id,
                "order_line": [
                    Command.create({"product_id": self.car.id, "product_uom_qty": quantity})
                ],
            }
        )

    def _invoice(self, order):
        if order.state in ("draft", "sent"):
            order.action_confirm()
        invoice = order._create_invoices()
        invoice.action_post()
        return invoice


@tagged("post_install", "-at_install")
class TestOpportunityRequests(OpportunityDepositCommon):
    def test_wizard_proposes_a_deposit_of_the_expected_revenue(self):
        form = self._wizard(self.lead)
        self.assertEqual(form.purpose, "deposit")
        self.assertEqual(form.opportunity_id, self.lead)
        self.assertEqual(form.partner_id, self.customer)
        self.assertEqual(form.amount, 1200.0)
        self.assertEqual(form.currency_id, self.company.currency_id)
        self.assertIn("Hatchback for Claire", form.description)
        form.amount = 1500.0
        __, [request] = self._send(form)
        self.assertEqual(request.opportunity_id, self.lead)
        self.assertEqual(request.purpose, "deposit")
        self.assertEqual(request.amount, 1500.0)
        self.assertEqual(request.state, "open")
        self.assertFalse(request.sale_order_id)
        self.assertEqual(self.lead.payment_request_count, 1)
        log = self.lead.message_ids.filtered(lambda m: request.name in (m.body or ""))
        self.assertEqual(len(log), 1)
        self.assertIn("sent by email", log.body)

    def test_free_amount_is_offered_and_nothing_proposed_without_revenue(self):
        lead = self._create_lead(expected_revenue=0.0)
        form = self._wizard(lead)
        self.assertEqual(form.amount, 0.0)
        with self.assertRaisesRegex(UserError, "greater than zero"):
            self._send(form)
        form = self._wizard(lead, purpose="free", amount=250.0)
        __, [request] = self._send(form)
        self.assertEqual(request.purpose, "free")
        self.assertEqual(request.opportunity_id, lead)
        self.assertEqual(request._get_document(), lead)
        with self.assertRaisesRegex(UserError, "cannot be requested"):
            self._create_request(purpose="invoices", opportunity_id=lead.id)

    def test_contact_of_the_opportunity_fills_in_for_the_customer(self):
        walk_in = self.env["res.partner"].create({"name": "Walter Walk-in"})
        lead = self._create_lead(
            partner_id=walk_in.id, email_from="walter@example.com", phone="+1 415 555 0199"
        )
        walk_in.email = False  # crm wrote the lead's email on the new partner
        form = self._wizard(lead)
        self.assertEqual(form.email, "walter@example.com")
        self.assertEqual(form.channel, "email")
        self.assertTrue(form.contact_edited)
        form.save_contact = True
        __, [request] = self._send(form)
        self.assertEqual(request.partner_id, walk_in)
        self.assertEqual(walk_in.email, "walter@example.com")

    def test_opportunities_that_cannot_be_asked_are_refused_clearly(self):
        cases = [
            (self._create_lead(partner_id=False), "has no customer"),
            (self._create_lead(type="lead"), "convert it to an opportunity"),
        ]
        lost = self._create_lead()
        lost.action_set_lost()
        cases.append((lost, "is lost: restore it"))
        before = self.env["payment.request"].search_count([])
        for lead, message in cases:
            with self.subTest(message=message), self.assertRaisesRegex(UserError, message):
                self._wizard(lead)
            with self.subTest(message=message), self.assertRaisesRegex(UserError, message):
                # As over RPC: the refused request is rolled back with its transaction.
                with self.env.cr.savepoint():
                    self._create_request(purpose="deposit", opportunity_id=lead.id)
        self.assertEqual(self.env["payment.request"].search_count([]), before)

    def test_opportunity_of_another_company(self):
        lead = self._create_lead(company_id=self.company_2.id)
        salesman = self.salesman.with_context(allowed_company_ids=self.company.ids)
        with self.assertRaisesRegex(
            UserError, "This opportunity belongs to Second Company: select that company"
        ):
            self.env["payment.request.wizard"].with_user(salesman).with_context(
                allowed_company_ids=self.company.ids,
                active_model="crm.lead",
                active_ids=lead.ids,
                active_id=lead.id,
            ).default_get(["purpose"])
        # Working in the second company, the request is its own, in its currency.
        form = Form(
            self.env["payment.request.wizard"]
            .with_user(self.salesman)
            .with_context(
                allowed_company_ids=[self.company_2.id, self.company.id],
                active_model="crm.lead",
                active_ids=lead.ids,
                active_id=lead.id,
            )
        )
        self.assertEqual(form.company_id, self.company_2)
        self.assertEqual(form.currency_id, self.env.ref("base.CAD"))
        __, [request] = self._send(form)
        self.assertEqual(request.company_id, self.company_2)
        self.assertEqual(request.currency_id.name, "CAD")
        with self.assertRaisesRegex(UserError, "must be in CAD"):
            self._create_request(
                purpose="deposit",
                opportunity_id=lead.id,
                company_id=self.company_2.id,
                currency_id=self.company.currency_id.id,
            )

    def test_salespeople_request_on_the_opportunities_they_may_read(self):
        others = self._create_lead(user_id=self.salesman_2.id)
        with self.assertRaises(AccessError):
            self._wizard(others, user=self.salesman)
        with self.assertRaises(AccessError):
            self._create_request(purpose="deposit", opportunity_id=others.id)
        all_leads = mail_new_test_user(
            self.env,
            login="pr_all_leads",
            name="Alice All Leads",
            groups="sales_team.group_sale_salesman_all_leads",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        [request] = self._request_deposit(lead=others, user=all_leads)
        self.assertEqual(request.user_id, all_leads)
        self.assertEqual(request.opportunity_id, others)

    def test_request_payment_button_action_menu_and_pipeline_filter(self):
        form_view = self.env["ir.ui.view"].browse(
            self.env["crm.lead"].get_view(view_type="form")["id"]
        )
        arch = form_view.get_combined_arch()
        action = self.env.ref("payment_request.payment_request_wizard_action_crm_lead")
        self.assertIn(f"{action.id}", arch)
        self.assertIn("action_view_payment_requests", arch)
        self.assertEqual(action.binding_model_id.model, "crm.lead")
        kanban = self.env["crm.lead"].get_view(
            self.env.ref("crm.crm_case_kanban_view_leads").id, "kanban"
        )["arch"]
        self.assertIn("Deposit received", kanban)
        self.assertIn(f"{action.id}", kanban)
        search = etree.fromstring(
            self.env["crm.lead"].get_view(
                self.env.ref("crm.view_crm_case_opportunities_filter").id, "search"
            )["arch"]
        )
        [node] = search.xpath("//filter[@name='payment_request_with_deposit']")
        self._pay_deposit()
        other = self._create_lead(name="Other deal")
        found = self.env["crm.lead"].search(
            [*safe_eval(node.get("domain")), ("id", "in", (self.lead | other).ids)]
        )
        self.assertEqual(found, self.lead)

    def test_billing_users_without_crm_rights_read_the_request(self):
        [request] = self._request_deposit()
        as_biller = request.with_user(self.biller)
        values = as_biller.web_read(
            {"name": {}, "opportunity_id": {"fields": {"display_name": {}}}, "amount": {}}
        )
        self.assertEqual(values[0]["opportunity_id"]["id"], self.lead.id)

    def test_losing_the_opportunity_withdraws_its_open_links(self):
        [request] = self._request_deposit()
        self.lead.action_set_lost()
        self.assertEqual(request.state, "cancelled")
        self.assertEqual(request.cancel_reason, "withdrawn")


@tagged("post_install", "-at_install")
class TestOpportunityDeposit(OpportunityDepositCommon):
    def test_paid_deposit_is_a_prepayment_tagged_with_the_opportunity(self):
        request, tx = self._pay_deposit()
        self.assertEqual(request.state, "paid")
        payment = tx.payment_id
        self.assertEqual(payment.payment_request_opportunity_id, self.lead)
        self.assertEqual(payment.amount, 1200.0)
        receivable = payment.move_id.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        self.assertFalse(receivable.reconciled)
        self.customer.invalidate_recordset(["payment_request_wallet_balance"])
        self.assertEqual(self.customer.payment_request_wallet_balance, 1200.0)
        self.assertEqual(self.lead.payment_request_amount_received, 1200.0)
        self.assertEqual(self.lead.payment_request_deposit_state, "received")
        log = self.lead.message_ids.filtered(lambda m: "received" in (m.body or ""))
        self.assertEqual(len(log), 1)
        self.assertIn(request.name, log.body)
        self.assertIn(tx.reference, log.body)
        # Not won unless the company asks for it.
        self.assertFalse(self.lead.stage_id.is_won)

    def test_partly_paid_deposit_counts_what_was_paid(self):
        [request] = self._request_deposit(allow_partial_payment=True, minimum_amount=100.0)
        tx = self._create_tx(request)
        tx.amount = 500.0
        self._pay(request, tx=tx)
        self.assertEqual(request.amount_paid, 500.0)
        self.assertEqual(self.lead.payment_request_amount_received, 500.0)

    def test_won_when_the_company_asks_for_it(self):
        self.company.payment_request_lead_won_on_deposit = True
        settings = self.env["res.config.settings"].create({})
        self.assertTrue(settings.payment_request_lead_won_on_deposit)
        self._pay_deposit()
        self.assertTrue(self.lead.stage_id.is_won)
        self.assertEqual(self.lead.probability, 100)

    def test_order_of_the_opportunity_shows_the_deposit_and_its_invoice_asks_the_rest(self):
        request, tx = self._pay_deposit()
        order = self._quotation()
        self.assertEqual(order.payment_request_deposit_state, "received")
        self.assertEqual(order.payment_request_amount_received, 1200.0)
        self.assertEqual(order.payment_request_count, 1)
        self.assertEqual(
            self.env["payment.request"].search(order.action_view_payment_requests()["domain"]),
            request,
        )
        self.assertEqual(order.amount_paid, 1200.0)
        self.assertEqual(order._get_payment_request_amount_due(), 10800.0)
        values = order._get_payment_request_values("order")
        self.assertEqual(values["amount"], 10800.0)
        invoice = self._invoice(order)
        self.assertEqual(invoice.amount_residual, 10800.0)
        self.assertEqual(invoice.payment_state, "partial")
        self.customer.invalidate_recordset(["payment_request_wallet_balance"])
        self.assertEqual(self.customer.payment_request_wallet_balance, 0.0)
        # The rest paid, the invoice is paid and the deposit used once.
        __, [rest] = self._send(self._wizard(invoice))
        self.assertEqual(rest.amount, 10800.0)
        self._pay(rest)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(order.amount_paid, 1200.0)

    def test_order_invoiced_before_the_deposit_gets_it_at_once(self):
        order = self._quotation()
        invoice = self._invoice(order)
        self._pay_deposit()
        self.assertEqual(invoice.amount_residual, 10800.0)
        self.assertEqual(order.payment_request_deposit_state, "received")

    def test_draft_invoice_is_reconciled_when_posted(self):
        order = self._quotation()
        order.action_confirm()
        invoice = order._create_invoices()
        self._pay_deposit()
        self.assertIn(self.lead.payment_request_ids.transaction_ids, invoice.transaction_ids)
        invoice.action_post()
        self.assertEqual(invoice.amount_residual, 10800.0)

    def test_two_orders_use_the_deposit_once_oldest_first(self):
        first = self._quotation()
        second = self._quotation(quantity=2)
        self._pay_deposit()
        self.assertEqual(first.payment_request_amount_received, 1200.0)
        self.assertFalse(second.payment_request_deposit_state)
        self.assertEqual(second.payment_request_amount_received, 0.0)
        self.assertEqual(second.amount_paid, 0.0)
        second_invoice = self._invoice(second)
        self.assertEqual(second_invoice.amount_residual, 24000.0)
        first_invoice = self._invoice(first)
        self.assertEqual(first_invoice.amount_residual, 10800.0)

    def test_cancelled_oldest_order_hands_the_deposit_to_the_next(self):
        first = self._quotation()
        second = self._quotation(quantity=2)
        self._pay_deposit()
        first._action_cancel()
        self.assertEqual(first.amount_paid, 0.0)
        self.assertFalse(first.payment_request_deposit_state)
        self.assertEqual(second.amount_paid, 1200.0)
        self.assertEqual(second.payment_request_deposit_state, "received")

    def test_order_linked_later_to_the_opportunity(self):
        self._pay_deposit()
        order = self._quotation()
        order.opportunity_id = False
        self.assertEqual(order.amount_paid, 0.0)
        self.assertFalse(order.payment_request_deposit_state)
        order.opportunity_id = self.lead
        self.assertEqual(order.amount_paid, 1200.0)
        self.assertEqual(order.payment_request_deposit_state, "received")

    def test_order_in_another_currency_does_not_take_the_deposit(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        pricelist = self.env["product.pricelist"].create({"name": "EUR", "currency_id": eur.id})
        usd_order = self._quotation()
        self._pay_deposit()
        self.assertEqual(usd_order.amount_paid, 1200.0)
        # The order moved to another currency gives it back; one in that currency never had it.
        usd_order.pricelist_id = pricelist
        self.assertEqual(usd_order.currency_id, eur)
        self.assertEqual(usd_order.amount_paid, 0.0)
        self.assertFalse(usd_order.payment_request_deposit_state)
        self.assertEqual(self.lead.payment_request_amount_received, 1200.0)

    def test_quotation_sent_for_approval_asks_what_remains(self):
        self._pay_deposit()
        order = self._quotation()
        form = self._wizard(order, purpose="quote")
        self.assertEqual(form.amount, 10800.0)
        __, [quote] = self._send(form)
        self.assertEqual(quote.amount, 10800.0)
        quote._approve_quote("Claire Customer", SIGNATURE)
        self.assertEqual(order.state, "sale")
        self.assertEqual(quote.invoice_ids.amount_residual, 10800.0)
        self.assertEqual(quote.amount, 10800.0)
        self._pay(quote)
        self.assertEqual(quote.state, "paid")
        self.assertEqual(quote.invoice_ids.payment_state, "paid")

    def test_refunded_deposit_leaves_the_opportunity_and_its_order(self):
        __, tx = self._pay_deposit()
        order = self._quotation()
        tx.sudo()._send_refund_request(amount_to_refund=1200.0)
        refund = tx.child_transaction_ids.filtered(lambda child: child.operation == "refund")
        self.assertEqual(refund.state, "done")
        refund._post_process()
        self.assertEqual(refund.payment_id.payment_request_opportunity_id, self.lead)
        self.assertEqual(self.lead.payment_request_amount_received, 0.0)
        self.assertFalse(self.lead.payment_request_deposit_state)
        self.assertEqual(order.amount_paid, 0.0)
        self.assertFalse(order.payment_request_deposit_state)
        self.customer.invalidate_recordset(["payment_request_wallet_balance"])
        self.assertEqual(self.customer.payment_request_wallet_balance, 0.0)

    def test_partly_refunded_deposit_counts_the_rest(self):
        __, tx = self._pay_deposit()
        order = self._quotation()
        tx.sudo()._send_refund_request(amount_to_refund=200.0)
        tx.child_transaction_ids._post_process()
        self.assertEqual(self.lead.payment_request_amount_received, 1000.0)
        self.assertEqual(order.amount_paid, 1000.0)
        self.assertEqual(self._invoice(order).amount_residual, 11000.0)

    def test_cancelled_payment_leaves_the_opportunity_and_its_order(self):
        __, tx = self._pay_deposit()
        order = self._quotation()
        tx.payment_id.action_cancel()
        self.assertEqual(self.lead.payment_request_amount_received, 0.0)
        self.assertEqual(order.amount_paid, 0.0)
        self.assertFalse(order.payment_request_deposit_state)

    def test_reversed_payment_leaves_the_opportunity_and_its_order(self):
        __, tx = self._pay_deposit()
        order = self._quotation()
        tx.payment_id.move_id._reverse_moves(cancel=True)
        self.assertEqual(self.lead.payment_request_amount_received, 0.0)
        self.assertEqual(order.amount_paid, 0.0)
        self.assertEqual(self._invoice(order).amount_residual, 12000.0)
