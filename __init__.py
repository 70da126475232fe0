# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tools import SQL

from . import controllers
from . import models
from . import report
from . import wizards
from .models import ir_sequence


def uninstall_hook(env):
    """Remove the per-company sequences created at run time (they have no XML id)."""
    env["ir.sequence"].sudo().with_context(active_test=False).search(
        [("code", "=", "payment.request")]
    ).unlink()
    env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(ir_sequence.UNIQUE_INDEX)))
