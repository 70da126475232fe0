#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""``make run``: Odoo 18 on http://localhost:8069 with the addon, payment_demo and demo data.

The database (``payment_request_demo``, or ``$PAYMENT_REQUEST_DB``) is created on the first run
and reused after; log in with admin / admin. Odoo stays in the foreground (Ctrl+C stops it);
its process id is written to ``.test-results/odoo-run.pid``, so that ``make run &`` can be
stopped with ``kill $(cat .test-results/odoo-run.pid)``. ``$HTTP_PORT`` changes the port.

Odoo comes from ``$ODOO_PATH`` (a folder holding odoo-bin), ``import odoo`` or ``.odoo/``;
failing all three, a shallow clone of Odoo's 18.0 branch into ``.odoo/`` is tried.
"""

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from odoo_env import ADDON  # noqa: E402
from odoo_env import CLONE  # noqa: E402
from odoo_env import RESULTS  # noqa: E402
from odoo_env import ensure_postgres  # noqa: E402
from odoo_env import find_odoo  # noqa: E402
from odoo_env import odoo_command  # noqa: E402
from odoo_env import odoo_env  # noqa: E402
from odoo_env import say  # noqa: E402
from odoo_env import write_config  # noqa: E402

DB = os.environ.get("PAYMENT_REQUEST_DB", "payment_request_demo")
PORT = os.environ.get("HTTP_PORT", "8069")
MODULES = ("sale_management", ADDON, "payment_demo")
ODOO_GIT = "https://github.com/odoo/odoo.git"
HELP = f"""
Odoo 18.0 was not found, and it could not be cloned into {CLONE}.
To run the addon:
  1. Get an Odoo 18.0 Community source tree (the folder holding odoo-bin), e.g.
       git clone --depth 1 --branch 18.0 {ODOO_GIT} ODOO_DIR
  2. Install its Python requirements in this Python ({sys.executable}):
       {sys.executable} -m pip install -r ODOO_DIR/requirements.txt
  3. Install PostgreSQL (Debian: apt-get install postgresql) and Chromium for the tours.
  4. Point the harness at it: ODOO_PATH=ODOO_DIR make run
     (or make `{sys.executable} -c "import odoo"` work, e.g. with a .pth file naming ODOO_DIR).
"""


def clone_odoo(reason):
    """Clone Odoo 18.0 into ``.odoo/``; return its folder or exit with what to do."""
    say(f"Odoo 18.0 not found ({reason})")
    say(f"Trying: git clone --depth 1 --branch 18.0 {ODOO_GIT} {CLONE}")
    code = subprocess.run(
        ["git", "clone", "--depth", "1", "--branch", "18.0", ODOO_GIT, str(CLONE)], check=False
    ).returncode
    if code or not (CLONE / "odoo-bin").is_file():
        print(HELP, file=sys.stderr)
        sys.exit(1)
    probe = subprocess.run(
        [sys.executable, "-c", "import odoo.cli"],
        env=dict(os.environ, PYTHONPATH=str(CLONE)),
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode:
        print(probe.stderr.strip().splitlines()[-1], file=sys.stderr)
        print(
            f"Odoo is cloned into {CLONE}; install its requirements, then run make run again:\n"
            f"  {sys.executable} -m pip install -r {CLONE / 'requirements.txt'}",
            file=sys.stderr,
        )
        sys.exit(1)
    return CLONE


def main():
    odoo_dir, reason = find_odoo()
    if not odoo_dir:
        odoo_dir = clone_odoo(reason)
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
    say(f"Odoo from {odoo_dir} on http://localhost:{PORT} (login admin / admin); Ctrl+C stops")
    cmd = odoo_command(odoo_dir, config, DB, *args)
    say(" ".join(cmd))
    sys.stdout.flush()
    os.execve(sys.executable, cmd, odoo_env(odoo_dir, pg))


if __name__ == "__main__":
    main()
