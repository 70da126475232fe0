# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from . import controllers
from . import models
from . import wizards


def uninstall_hook(env):
    """Remove the per-company sequences created at run time (they have no XML id)."""
    env["ir.sequence"].sudo().with_context(active_test=False).search(
        [("code", "=", "payment.request")]
    ).unlink()
