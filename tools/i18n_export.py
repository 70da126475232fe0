#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""``make i18n``: export ``i18n/payment_request.pot`` and merge it into ``i18n/fr.po``.

Odoo's exporter walks the addon's folder, and this checkout also holds ``.venv/`` and
``.odoo/``: the export runs on a copy of the repository's own files instead. It needs the test
database (``make test`` makes it); the French entries that are new or changed are printed, to
be translated in ``fr.po``.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from odoo_env import ADDON  # noqa: E402
from odoo_env import RESULTS  # noqa: E402
from odoo_env import ROOT  # noqa: E402
from odoo_env import core_addons_path  # noqa: E402
from odoo_env import ensure_postgres  # noqa: E402
from odoo_env import find_odoo  # noqa: E402
from odoo_env import odoo_command  # noqa: E402
from odoo_env import odoo_env  # noqa: E402
from odoo_env import say  # noqa: E402
from odoo_env import write_config  # noqa: E402
from run_tests import TEST_DB  # noqa: E402
from run_tests import repo_files  # noqa: E402

POT = ROOT / "i18n" / f"{ADDON}.pot"
FRENCH = ROOT / "i18n" / "fr.po"


def clean_copy():
    """Copy the repository's files to ``.test-results/i18n/payment_request``; return its parent."""
    copy = RESULTS / "i18n" / ADDON
    shutil.rmtree(copy.parent, ignore_errors=True)
    for relative in repo_files():
        target = copy / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, target)
    return copy.parent


def main():
    odoo_dir, reason = find_odoo()
    pg, pg_reason = ensure_postgres() if odoo_dir else (None, None)
    if reason or pg_reason:
        sys.exit(f"Odoo and PostgreSQL are needed: {reason or pg_reason}")
    if not pg.database_exists(TEST_DB):
        sys.exit(f"No database {TEST_DB}: run `make test` first")
    addons = ",".join(str(path) for path in [clean_copy(), *core_addons_path(odoo_dir)])
    config = write_config(RESULTS / "odoo-i18n.conf", odoo_dir, pg, addons_path=addons)
    exported = RESULTS / f"{ADDON}.pot"
    cmd = odoo_command(
        odoo_dir,
        config,
        TEST_DB,
        f"--i18n-export={exported}",
        f"--modules={ADDON}",
        "--stop-after-init",
        "--no-http",
        "--log-level=warn",
    )
    say(" ".join(cmd))
    if subprocess.run(cmd, env=odoo_env(odoo_dir, pg), check=False).returncode:
        sys.exit("The export failed")
    shutil.copyfile(exported, POT)
    french = polib.pofile(str(FRENCH))
    french.merge(polib.pofile(str(POT)))
    for entry in french.obsolete_entries():
        french.remove(entry)
    french.save(str(FRENCH))
    todo = [entry for entry in french if not entry.translated() or entry.fuzzy]
    say(f"{POT.relative_to(ROOT)}: {len(polib.pofile(str(POT)))} entries; fr.po: {len(todo)} to do")
    for entry in todo:
        print(f"  {entry.msgid[:100]!r}")


if __name__ == "__main__":
    main()
