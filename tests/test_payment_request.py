# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from datetime import datetime

from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import AccessError
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError
from odoo.tests import Form
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import PaymentRequestCommon


@tagged("post_install", "-at_install")
class TestPaymentRequest(PaymentRequestCommon):
    # === CREATION === #

    def test_defaults(self):
        request = self._create_request()
        self.assertEqual(request.state, "draft")
        self.assertEqual(request.user_id, self.salesman)
        self.assertEqual(request.company_id, self.company)
        self.assertEqual(request.currency_id, self.company.currency_id)
        self.assertTrue(request.is_read)
        self.assertFalse(request.expiration_date)
        self.assertEqual(request.attempt_count, 0)
        self.assertEqual(request.access_url, f"/payment_request/{request.id}")

    def test_currency_follows_company(self):
        request = self._create_request(company_id=self.company_2.id)
        self.assertEqual(request.currency_id, self.env.ref("base.CAD"))
        request_eur = self._create_request(currency_id=self.env.ref("base.EUR").id)
        self.assertEqual(request_eur.currency_id, self.env.ref("base.EUR"))

    def test_name_sequence_per_company(self):
        year = datetime.now().year
        first = self._create_request()
        second = self._create_request()
        self.assertRegex(first.name, rf"^PR/{year}/\d{{5}}$")
        self.assertEqual(int(second.name[-5:]), int(first.name[-5:]) + 1)
        # A fresh company starts its own numbering. (Made here: its sequence exists from the
        # company's creation, and PostgreSQL sequences are not rolled back between tests.)
        fresh = self.env["res.company"].create({"name": "Fresh Company"})
        other = self.env["payment.request"].create(
            {"partner_id": self.customer.id, "amount": 10.0, "company_id": fresh.id}
        )
        self.assertEqual(other.name, f"PR/{year}/00001")
        sequences = self.env["ir.sequence"].search([("code", "=", "payment.request")])
        self.assertIn(self.company_2, sequences.company_id)
        self.assertIn(fresh, sequences.company_id)

    def test_name_is_not_chosen_by_users(self):
        request = self._create_request(name="MINE")
        self.assertNotEqual(request.name, "MINE")
        self.assertTrue(request.name.startswith("PR/"))

    def test_amount_must_be_positive(self):
        for amount in (0.0, -5.0, 0.001):
            with self.subTest(amount=amount), self.assertRaises(ValidationError) as error:
                self._create_request(amount=amount)
            self.assertIn("greater than zero", str(error.exception))
        request = self._create_request()
        with self.assertRaises(ValidationError):
            request.amount = 0

    def test_all_purposes_accepted(self):
        # The purposes are public contract: each is still accepted (an added one is fine), from
        # a document that offers it, for what is due on it.
        product = self.env["product.product"].create({"name": "Service", "list_price": 80.0})
        order = self.env["sale.order"].create(
            {"partner_id": self.customer.id, "order_line": [(0, 0, {"product_id": product.id})]}
        )
        invoice = self._create_posted_invoice(80.0)
        documents = {
            "invoices": {"invoice_ids": [(6, 0, invoice.ids)], "user": self.biller},
            "invoice": {"invoice_ids": [(6, 0, invoice.ids)], "user": self.biller},
            "deposit": {"sale_order_id": order.id},
            "order": {"sale_order_id": order.id},
            "quote": {"sale_order_id": order.id, "amount": order.amount_total},
        }
        for purpose in ("free", "wallet", "invoices", "invoice", "deposit", "order", "quote"):
            values = {"amount": 80.0, **documents.get(purpose, {})}
            self.assertEqual(self._create_request(purpose=purpose, **values).purpose, purpose)

    # === LIFE CYCLE === #

    @freeze_time("2026-03-10 08:00:00")
    def test_open_sets_expiration_and_token(self):
        request = self._create_request()
        request.action_open()
        self.assertEqual(request.state, "open")
        self.assertEqual(request.expiration_date, datetime(2026, 3, 11, 8, 0, 0))
        self.assertTrue(request.access_token)
        self.assertIn("access_token=", request.get_portal_url())

    @freeze_time("2026-03-10 08:00:00")
    def test_open_uses_company_validity(self):
        self.company.payment_request_validity_hours = 72
        request = self._create_request()
        request.action_open()
        self.assertEqual(request.expiration_date, datetime(2026, 3, 13, 8, 0, 0))

    def test_validity_setting(self):
        self.assertEqual(self.company_2.payment_request_validity_hours, 24)
        settings = self.env["res.config.settings"].create({})
        settings.payment_request_validity_hours = 48
        settings.execute()
        self.assertEqual(self.env.company.payment_request_validity_hours, 48)
        with self.assertRaises(ValidationError):
            self.company.payment_request_validity_hours = 0

    def test_deposit_percent_setting(self):
        for wrong in (0.0, 1.5):
            with self.assertRaisesRegex(ValidationError, "at most 100 percent"):
                self.company.payment_request_deposit_percent = wrong
        for lang in ("en_US", "fr_FR"):
            self.env["res.lang"]._activate_lang(lang)
            with self.assertRaises(ValidationError):
                self.company.with_context(lang=lang).payment_request_deposit_percent = 2.0

    def test_open_only_draft(self):
        request = self._create_request()
        request.action_open()
        with self.assertRaisesRegex(UserError, "Only draft payment requests can be opened"):
            request.action_open()

    def test_cancel(self):
        draft = self._create_request()
        opened = self._create_request()
        opened.action_open()
        (draft | opened).action_cancel()
        self.assertEqual(set((draft | opened).mapped("state")), {"cancelled"})
        with self.assertRaisesRegex(UserError, "Only draft or open"):
            draft.action_cancel()

    def test_cancel_refused_when_paid_or_expired(self):
        paid = self._create_request()
        expired = self._create_request()
        paid.sudo().state = "paid"
        expired.sudo().state = "expired"
        for request in paid | expired:
            with self.subTest(state=request.state), self.assertRaises(UserError):
                request.action_cancel()
            self.assertNotEqual(request.state, "cancelled")

    def test_state_changes_are_tracked(self):
        request = self._create_request()
        self.env.cr.precommit.run()  # as if opened in a later transaction
        request.action_open()
        self.env.cr.precommit.run()
        request.action_cancel()
        self.env.cr.precommit.run()
        tracked = request.sudo().message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "state"
        )
        self.assertEqual(sorted(tracked.mapped("new_value_char")), ["Cancelled", "Open"])

    def _create_posted_invoice(self, amount):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_line_ids": [(0, 0, {"name": "Service", "price_unit": amount})],
            }
        )
        invoice.action_post()
        return invoice

    def test_recreate(self):
        product = self.env["product.product"].create({"name": "Service", "list_price": 80.0})
        order = self.env["sale.order"].create(
            {"partner_id": self.customer.id, "order_line": [(0, 0, {"product_id": product.id})]}
        )
        request = self._create_request(
            purpose="deposit",
            sale_order_id=order.id,
            amount=42.5,
            description="Deposit",
            external_reference="EXT-1",
        )
        request.action_open()
        request.action_cancel()
        action = request.with_user(self.salesman_2).action_recreate()
        new_request = self.env["payment.request"].browse(action["res_id"])
        self.assertEqual(action["res_model"], "payment.request")
        self.assertEqual(action["view_mode"], "form")
        self.assertNotEqual(new_request, request)
        self.assertEqual(new_request.state, "draft")
        self.assertEqual(new_request.user_id, self.salesman_2)
        for field in (
            "partner_id",
            "purpose",
            "sale_order_id",
            "amount",
            "currency_id",
            "description",
            "external_reference",
            "company_id",
        ):
            self.assertEqual(new_request[field], request[field], field)
        self.assertNotEqual(new_request.name, request.name)
        self.assertEqual(request.replaced_by_id, new_request)
        self.assertIn(new_request.name, request.message_ids[0].body)

    def test_recreate_keeps_invoices(self):
        invoice = self._create_posted_invoice(80.0)
        request = self._create_request(
            user=self.biller, purpose="invoice", amount=80.0, invoice_ids=[(6, 0, invoice.ids)]
        )
        request.action_cancel()
        new_request = self.env["payment.request"].browse(request.action_recreate()["res_id"])
        self.assertEqual(new_request.invoice_ids, invoice)

    def test_recreate_refused_on_open_or_paid(self):
        request = self._create_request()
        with self.assertRaisesRegex(UserError, "Only expired or cancelled"):
            request.action_recreate()
        request.action_open()
        with self.assertRaises(UserError):
            request.action_recreate()

    def test_state_display(self):
        request = self._create_request()
        self.assertEqual(request.state_display, "Draft")
        request.action_open()
        provider = self.env.ref("payment.payment_provider_demo")
        method = self.env.ref("payment.payment_method_unknown")
        references = []
        for number in (1, 2):
            # What the pay page's transaction route does: start the attempt, then create it.
            attempt = request.sudo()._check_payable()
            self.assertEqual(attempt, number)
            tx = (
                self.env["payment.transaction"]
                .sudo()
                .create(
                    {
                        "provider_id": provider.id,
                        "payment_method_id": method.id,
                        "reference": request.sudo()._get_transaction_reference_prefix(attempt),
                        "amount": request.amount,
                        "currency_id": request.currency_id.id,
                        "partner_id": request.partner_id.id,
                        "payment_request_id": request.id,
                    }
                )
            )
            tx._set_error("Declined")
            references.append(tx.reference)
        self.assertEqual(request.attempt_count, 2)
        self.assertEqual(references, [request.name, f"{request.name}-1"])
        request.sudo().state = "paid"
        self.assertEqual(request.state_display, "Paid (2 attempts)")

    def test_workflow_fields_not_writable(self):
        request = self._create_request()
        for vals in (
            {"state": "paid"},
            {"consolidated": True},
            {"paid_date": datetime.now()},
            {"expiration_date": datetime.now()},
            {"is_read": False},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                request.with_user(self.salesman).write(vals)
        with self.assertRaises(AccessError):
            self._create_request(state="paid")

    def test_unlink_only_draft_or_cancelled(self):
        draft = self._create_request()
        draft.unlink()
        request = self._create_request()
        request.action_open()
        with self.assertRaises(UserError):
            request.unlink()
        request.action_cancel()
        request.unlink()

    # === READ AND CONSOLIDATE === #

    def test_mark_read_by_requester(self):
        request = self._create_request()
        request.sudo().write({"state": "paid", "is_read": False})
        request.with_user(self.salesman).action_mark_read()
        self.assertTrue(request.is_read)

    def test_mark_read_refused_to_others_even_manager(self):
        request = self._create_request()
        request.sudo().write({"state": "paid", "is_read": False})
        for user in (self.manager, self.salesman_2, self.biller):
            with (
                self.subTest(user=user.login),
                self.assertRaisesRegex(UserError, "Only the requester"),
            ):
                request.with_user(user).action_mark_read()
        self.assertFalse(request.is_read)

    def test_consolidate_by_manager(self):
        request = self._create_request()
        request.sudo().state = "paid"
        request.with_user(self.manager).action_consolidate()
        self.assertTrue(request.consolidated)
        self.assertEqual(request.consolidated_by_id, self.manager)
        self.assertTrue(request.consolidated_date)
        with self.assertRaisesRegex(UserError, "already consolidated"):
            request.with_user(self.manager).action_consolidate()

    def test_consolidate_refused_without_group(self):
        request = self._create_request()
        request.sudo().state = "paid"
        for user in (self.salesman, self.biller):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                request.with_user(user).action_consolidate()
        self.assertFalse(request.consolidated)

    def test_consolidate_only_paid(self):
        request = self._create_request()
        request.action_open()
        with self.assertRaisesRegex(UserError, "Only paid"):
            request.with_user(self.manager).action_consolidate()

    # === SCREENS === #

    def test_form_creates_request(self):
        form = Form(self.env["payment.request"].with_user(self.salesman))
        form.partner_id = self.customer
        form.amount = 35.0
        form.description = "Bike repair"
        request = form.save()
        self.assertEqual(request.user_id, self.salesman)
        self.assertEqual(request.amount, 35.0)

    def test_partner_request_count(self):
        self._create_request()
        self._create_request(partner_id=self.customer_contact.id)
        self._create_request(partner_id=self.customer_2.id)
        customer = self.customer.with_user(self.salesman)
        self.assertEqual(customer.payment_request_count, 2)
        self.assertEqual(self.customer_contact.with_user(self.biller).payment_request_count, 1)
        action = customer.action_view_payment_requests()
        self.assertEqual(self.env["payment.request"].search_count(action["domain"]), 2)

    def test_partner_request_count_contacts_at_any_depth(self):
        """Contacts of contacts and archived contacts count; the record rules apply (the other
        company's request only for a user of both); several customers in one query."""
        Partner = self.env["res.partner"]
        grandchild = Partner.create({"name": "Gina", "parent_id": self.customer_contact.id})
        archived = Partner.create({"name": "Art", "parent_id": self.customer.id, "active": False})
        for partner in (self.customer, grandchild, archived, self.customer_2):
            self._create_request(partner_id=partner.id)
        self._create_request(partner_id=self.customer.id, company_id=self.company_2.id)
        partners = self.customer | self.customer_contact | self.customer_2
        expected = {"pr_salesman": [4, 1, 1], "pr_salesman_2": [3, 1, 1]}
        for user in (self.salesman, self.salesman_2):
            # Each user counts what their record rules let them read, even after another user
            # in the same transaction.
            self.assertEqual(
                partners.with_user(user).mapped("payment_request_count"),
                expected[user.login],
                user.login,
            )
            partners.invalidate_recordset(["payment_request_count"])
            with self.assertQueryCount(1):
                counts = partners.with_user(user).mapped("payment_request_count")
            self.assertEqual(counts, expected[user.login], user.login)

    def test_views_load(self):
        """Every view loads for a salesman, and every filter and group-by of the search view
        runs; the default filters that actions name exist."""
        Request = self.env["payment.request"].with_user(self.salesman)
        for view_type in ("list", "form", "kanban", "search"):
            with self.subTest(view_type=view_type):
                Request.get_view(view_type=view_type)
        mine = self._create_request()
        mine.user_id = self.salesman
        theirs = self._create_request()
        theirs.user_id = self.biller
        arch = etree.fromstring(Request.get_views([(False, "search")])["views"]["search"]["arch"])
        filters = {node.get("name"): node for node in arch.iter("filter")}
        for name, node in filters.items():
            with self.subTest(filter=name):
                if node.get("domain"):
                    found = Request.search(safe_eval(node.get("domain"), {"uid": self.salesman.id}))
                    if name == "my_requests":
                        self.assertIn(mine, found)
                        self.assertNotIn(theirs, found)
                elif node.get("context"):
                    group_by = safe_eval(node.get("context"))["group_by"]
                    self.assertTrue(Request.read_group([], ["amount:sum"], [group_by]))
        actions = self.env["ir.actions.act_window"].search(
            [("res_model", "=", "payment.request"), ("context", "like", "search_default_")]
        )
        self.assertTrue(actions)
        for action in actions:
            for key in safe_eval(action.context, {"uid": self.salesman.id}):
                if key.startswith("search_default_"):
                    self.assertIn(key.removeprefix("search_default_"), filters, action.xml_id)

    def test_menus(self):
        menus = self.env["ir.ui.menu"].with_user(self.salesman)._visible_menu_ids()
        self.assertIn(self.env.ref("payment_request.payment_request_menu_my_sale").id, menus)
        self.assertIn(self.env.ref("payment_request.payment_request_menu_sale").id, menus)
        menus = self.env["ir.ui.menu"].with_user(self.biller)._visible_menu_ids()
        self.assertIn(self.env.ref("payment_request.payment_request_menu_my_invoicing").id, menus)
        self.assertIn(self.env.ref("payment_request.payment_request_menu").id, menus)
        action = self.env.ref("payment_request.payment_request_action_my")
        self.assertIn("search_default_my_requests", action.context)
