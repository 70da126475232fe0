#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""`make run`: Odoo 18 on http://localhost:8069 with the addon, payment_demo and demo data.

The database (`payment_request_demo`, or $PAYMENT_REQUEST_DB) is created on the first run and
reused after; log in with admin / admin. Odoo comes from $ODOO_PATH or `import odoo`; failing
both, a shallow clone of the 18.0 branch into .odoo/ is tried.
"""

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_tests import ADDON  # noqa: E402
from run_tests import ROOT  # noqa: E402
from run_tests import addons_path  # noqa: E402
from run_tests import ensure_postgres  # noqa: E402
from run_tests import odoo_dir  # noqa: E402
from run_tests import say  # noqa: E402

DB = os.environ.get("PAYMENT_REQUEST_DB", "payment_request_demo")
CLONE = ROOT / ".odoo"
HELP = """Odoo 18.0 was not found. Get an Odoo 18.0 Community source tree, then either
  - pip install -r <odoo>/requirements.txt and set ODOO_PATH=<odoo> (the folder holding odoo-bin),
  - or make `python3 -c "import odoo"` work (e.g. a .pth file naming <odoo>).
See ../shared/ODOO.md when working on this project."""


def find_odoo():
    odoo, reason = odoo_dir()
    if odoo:
        return odoo
    if (CLONE / "odoo-bin").exists():
        return CLONE
    say(f"{reason}; trying a shallow clone of Odoo 18.0 into {CLONE}")
    code = subprocess.run(
        [
            "git",
            "clone",
            "--depth",
            "1",
            "--branch",
            "18.0",
            "https://github.com/odoo/odoo.git",
            str(CLONE),
        ],
        check=False,
    ).returncode
    if code or not (CLONE / "odoo-bin").exists():
        print(HELP)
        sys.exit(1)
    return CLONE


def main():
    odoo = find_odoo()
    reason = ensure_postgres()
    if reason:
        print(reason)
        sys.exit(1)
    exists = (
        subprocess.run(
            ["psql", "-d", DB, "-tAc", "select 1 from ir_module_module limit 1"],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    cmd = [
        sys.executable,
        str(odoo / "odoo-bin"),
        f"--addons-path={addons_path(odoo)}",
        "-d",
        DB,
        "--http-port=8069",
        f"--db-filter=^{DB}$",
    ]
    if not exists:
        say(f"Creating {DB} with {ADDON}, payment_demo and demo data (a few minutes)")
        cmd += ["-i", f"sale_management,{ADDON},payment_demo"]
    say("Odoo on http://localhost:8069 (admin / admin); Ctrl+C to stop")
    os.execv(sys.executable, cmd)


if __name__ == "__main__":
    main()
