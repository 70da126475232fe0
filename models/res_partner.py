# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models

REQUEST_GROUPS = "sales_team.group_sale_salesman,account.group_account_invoice"


class ResPartner(models.Model):
    _inherit = "res.partner"

    payment_request_ids = fields.One2many(
        string="Payment Requests",
        comodel_name="payment.request",
        inverse_name="partner_id",
        groups=REQUEST_GROUPS,
    )
    payment_request_count = fields.Integer(
        string="Payment Request Count",
        compute="_compute_payment_request_count",
        groups=REQUEST_GROUPS,
    )

    def _compute_payment_request_count(self):
        """Count the requests of each partner and of its contacts, as sale does for orders."""
        self.payment_request_count = 0
        all_partners = self.with_context(active_test=False).search_fetch(
            [("id", "child_of", self.ids)], ["parent_id"]
        )
        groups = self.env["payment.request"]._read_group(
            [("partner_id", "in", all_partners.ids)],
            groupby=["partner_id"],
            aggregates=["__count"],
        )
        self_ids = set(self._ids)
        for partner, count in groups:
            while partner:
                if partner.id in self_ids:
                    partner.payment_request_count += count
                partner = partner.parent_id

    def action_view_payment_requests(self):
        """Open the payment requests of the partner and of its contacts."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "payment_request.payment_request_action"
        )
        action["domain"] = [("partner_id", "child_of", self.ids)]
        action["context"] = {"default_partner_id": self.id}
        return action
