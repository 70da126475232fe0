# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging

from odoo import models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

UNIQUE_INDEX = "ir_sequence_payment_request_company_uniq"


class IrSequence(models.Model):
    _inherit = "ir.sequence"

    def init(self):
        """One payment request sequence per company, enforced by the database.

        Databases where concurrent first requests already made two sequences keep working:
        the index is then left out and a warning says which companies to clean up.
        """
        super().init()
        self.env.cr.execute(
            SQL(
                "SELECT company_id FROM ir_sequence WHERE code = 'payment.request' "
                "GROUP BY company_id HAVING count(*) > 1"
            )
        )
        duplicates = [row[0] for row in self.env.cr.fetchall()]
        if duplicates:
            _logger.warning(
                "Companies %s have several payment request sequences: keep one each so that "
                "the unique index %s can be created.",
                duplicates,
                UNIQUE_INDEX,
            )
            return
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS %s ON ir_sequence (company_id) "
                "WHERE code = 'payment.request'",
                SQL.identifier(UNIQUE_INDEX),
            )
        )
