# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from unittest.mock import patch

from odoo.sql_db import Cursor
from odoo.tests import tagged

from .common import PaymentRequestCommon


@tagged("post_install", "-at_install")
class TestListGroupByCustomer(PaymentRequestCommon):
    """The list grouped by customer: the groups of Odoo's generic grouping, in the customers'
    order, from requests grouped by customer id before they are joined to the customers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.zoe = Partner.create({"name": "Zoe Zimmer"})
        cls.adam = Partner.create({"name": "Adam Abbott"})
        cls.company_contact = Partner.create(
            {"name": "Mia", "parent_id": Partner.create({"name": "Acme", "is_company": True}).id}
        )
        cls.archived = Partner.create({"name": "Bob Archived"})
        cls.other_company = Partner.create({"name": "Carl Other"})
        cls.customers = cls.zoe | cls.adam | cls.company_contact | cls.archived
        for partner, amounts in (
            (cls.zoe, (10.0, 20.0)),
            (cls.adam, (5.0,)),
            (cls.company_contact, (1.0, 2.0, 3.0)),
            (cls.archived, (7.0,)),
        ):
            for amount in amounts:
                cls._create_request(partner_id=partner.id, amount=amount)
        cls._create_request(user=cls.salesman_2, partner_id=cls.adam.id, amount=50.0)
        cls.env["payment.request"].create(
            {
                "partner_id": cls.other_company.id,
                "amount": 9.0,
                "company_id": cls.company_2.id,
                "user_id": cls.salesman.id,
            }
        )
        cls.archived.active = False

    def _groups(self, requests, orderby=False, **kwargs):
        result = requests.web_read_group(
            [("partner_id", "in", (self.customers | self.other_company).ids)],
            ["amount:sum"],
            ["partner_id"],
            orderby=orderby,
            **kwargs,
        )
        groups = [
            (group["partner_id"], group["partner_id_count"], group["amount"])
            for group in result["groups"]
        ]
        return groups, result["length"]

    def _assert_as_generic(self, requests, **kwargs):
        """Same groups as Odoo's generic grouping (an explicit order takes it)."""
        groups = self._groups(requests, **kwargs)
        self.assertEqual(groups, self._groups(requests, orderby="partner_id asc", **kwargs))
        return groups

    def test_groups_in_the_customers_order(self):
        # A manager in the first company: the company's rule applies.
        requests = (
            self.env["payment.request"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=self.company.ids)
        )
        groups, length = self._assert_as_generic(requests)
        self.assertEqual(length, 4)
        self.assertEqual(
            groups,
            [
                ((self.company_contact.id, "Acme, Mia"), 3, 6.0),
                ((self.adam.id, "Adam Abbott"), 2, 55.0),
                ((self.archived.id, "Bob Archived"), 1, 7.0),
                ((self.zoe.id, "Zoe Zimmer"), 2, 30.0),
            ],
        )

    def test_pages_of_groups(self):
        requests = self.env["payment.request"].with_context(
            allowed_company_ids=(self.company | self.company_2).ids
        )
        first, length = self._assert_as_generic(requests, limit=2)
        second, _length = self._assert_as_generic(requests, limit=2, offset=2)
        self.assertEqual(length, 5)
        self.assertEqual(
            [group[0][0] for group in first + second],
            [self.company_contact.id, self.adam.id, self.archived.id, self.other_company.id],
        )

    def test_with_a_filter(self):
        requests = self.env["payment.request"].with_user(self.manager)
        result = requests.web_read_group(
            [("partner_id", "in", self.customers.ids), ("amount", ">", 6.0)],
            ["amount:sum"],
            ["partner_id"],
        )
        self.assertEqual(
            [(group["partner_id"][0], group["amount"]) for group in result["groups"]],
            [(self.adam.id, 50.0), (self.archived.id, 7.0), (self.zoe.id, 30.0)],
        )

    def test_requests_grouped_before_the_join(self):
        queries = []
        execute = Cursor.execute

        def spy(cr, query, params=None, log_exceptions=True):
            queries.append(getattr(query, "code", query))
            return execute(cr, query, params, log_exceptions)

        with patch.object(Cursor, "execute", spy):
            self._groups(self.env["payment.request"])
        grouping = [query for query in queries if 'AS "groups"' in query]
        self.assertEqual(len(grouping), 1)
        self.assertIn('GROUP BY "payment_request"."partner_id") AS "groups"', grouping[0])

    def test_grouped_by_requester(self):
        requests = self.env["payment.request"].with_context(
            allowed_company_ids=(self.company | self.company_2).ids
        )
        domain = [("partner_id", "in", (self.customers | self.other_company).ids)]
        result = requests.web_read_group(domain, ["amount:sum"], ["user_id"])
        generic = requests.web_read_group(
            domain, ["amount:sum"], ["user_id"], orderby="user_id asc"
        )
        self.assertEqual(result, generic)
        # Requesters in their order (by name): Sally Salesman, Sam Salesman.
        self.assertEqual(
            [(group["user_id"][0], group["amount"]) for group in result["groups"]],
            [(self.salesman.id, 57.0), (self.salesman_2.id, 50.0)],
        )
