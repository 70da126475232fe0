#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""``make run``: Odoo 18 on http://localhost:8069 with the addon, payment_demo and demo data.

The database (``payment_request_demo``, or ``$PAYMENT_REQUEST_DB``) is created on the first run
and reused after; log in with admin / admin. Odoo stays in the foreground (Ctrl+C stops it);
its process id is written to ``.test-results/odoo-run.pid``, so that ``make run &`` can be
stopped with ``kill $(cat .test-results/odoo-run.pid)``. ``$HTTP_PORT`` changes the port.

``make run`` sets up Odoo (``.odoo/``), the Python environment and PostgreSQL first
(``tools/bootstrap.py``); Odoo comes from ``$ODOO_PATH``, ``import odoo`` or ``.odoo/``.
"""

import ast
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from odoo_env import ADDON  # noqa: E402
from odoo_env import RESULTS  # noqa: E402
from odoo_env import ROOT  # noqa: E402
from odoo_env import ensure_postgres  # noqa: E402
from odoo_env import find_odoo  # noqa: E402
from odoo_env import odoo_command  # noqa: E402
from odoo_env import odoo_env  # noqa: E402
from odoo_env import say  # noqa: E402
from odoo_env import write_config  # noqa: E402

DB = os.environ.get("PAYMENT_REQUEST_DB", "payment_request_demo")
PORT = os.environ.get("HTTP_PORT", "8069")
MODULES = ("sale_management", ADDON, "payment_demo")


def main():
    odoo_dir, reason = find_odoo()
    if not odoo_dir:
        print(f"Odoo 18.0 is needed: {reason}. Run `make run`, which sets it up.", file=sys.stderr)
        sys.exit(1)
    pg, reason = ensure_postgres()
    if reason:
        print(f"PostgreSQL is needed: {reason}", file=sys.stderr)
        sys.exit(1)
    config = write_config(RESULTS / "odoo-run.conf", odoo_dir, pg)
    args = [
        f"--http-port={PORT}",
        f"--db-filter=^{DB}$",
        f"--pidfile={RESULTS / 'odoo-run.pid'}",
    ]
    states = pg.module_states(DB, MODULES) if pg.database_exists(DB) else {}
    missing = [module for module in MODULES if states.get(module) != "installed"]
    if missing:
        say(f"Installing {', '.join(missing)} with demo data in {DB} (a few minutes, first run)")
        args += ["-i", ",".join(missing)]
    else:
        say(f"Reusing the database {DB}")
    manifest = ast.literal_eval((ROOT / "__manifest__.py").read_text())
    installed = pg.module_version(DB, ADDON) if ADDON not in missing else None
    if installed and installed != manifest["version"]:
        # The checkout moved on since the database was made: its new fields, views and
        # dependencies are loaded before the server starts.
        say(f"Updating {ADDON} from {installed} to {manifest['version']} in {DB}")
        args += ["-u", ADDON]
    say(f"Odoo from {odoo_dir} on http://localhost:{PORT} (login admin / admin); Ctrl+C stops")
    cmd = odoo_command(odoo_dir, config, DB, *args)
    say(" ".join(cmd))
    sys.stdout.flush()
    os.execve(sys.executable, cmd, odoo_env(odoo_dir, pg))


if __name__ == "__main__":
    main()
