# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Checks of the addon's files that need no Odoo."""

import ast
import os
import re
import sys
from pathlib import Path

import polib
import pytest
from lxml import etree

# The harness runs a copy of these tests outside the addon (whose __init__.py would make
# pytest import it as a package) and says where the addon is.
ROOT = Path(os.environ.get("PAYMENT_REQUEST_ROOT") or Path(__file__).resolve().parents[2])
MANIFEST = ast.literal_eval((ROOT / "__manifest__.py").read_text(encoding="utf-8"))
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%s|\{\{.*?\}\}")

sys.path.insert(0, str(ROOT / "tools"))
import pytest_tour_guard  # noqa: E402


def test_manifest_contract():
    assert MANIFEST["version"] == "18.0.1.0.0"
    assert MANIFEST["license"] == "LGPL-3"
    for module in ("account_payment", "sale", "sms", "portal", "payment_stripe"):
        assert module in MANIFEST["depends"]
    assert set(MANIFEST["external_dependencies"]["python"]) == {"stripe", "phonenumbers"}


def test_manifest_files_exist():
    listed = MANIFEST.get("data", []) + MANIFEST.get("demo", [])
    for bundle in MANIFEST.get("assets", {}).values():
        listed += [path.removeprefix("payment_request/") for path in bundle if "*" not in path]
    missing = [path for path in listed if not (ROOT / path).is_file()]
    assert not missing, missing


@pytest.mark.parametrize(
    "path",
    sorted(
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.xml")
        if not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
    ),
)
def test_xml_parses(path):
    etree.parse(str(ROOT / path))


def test_translations_complete():
    pot = polib.pofile(str(ROOT / "i18n" / "payment_request.pot"))
    french = polib.pofile(str(ROOT / "i18n" / "fr.po"))
    translated = {entry.msgid: entry for entry in french if not entry.obsolete}
    missing = [entry.msgid for entry in pot if entry.msgid not in translated]
    assert not missing, f"{len(missing)} msgids of the .pot are not in fr.po"
    for entry in translated.values():
        assert entry.msgstr, f"untranslated: {entry.msgid!r}"
        assert "fuzzy" not in entry.flags, f"fuzzy: {entry.msgid!r}"
        assert sorted(PLACEHOLDER.findall(entry.msgid)) == sorted(
            PLACEHOLDER.findall(entry.msgstr)
        ), f"placeholders differ: {entry.msgid!r}"


def test_tour_guard_turns_browser_skips_into_failures():
    assert pytest_tour_guard.is_browser_skip("Chrome executable not found")
    assert pytest_tour_guard.is_browser_skip("websocket-client module is not installed")
    assert pytest_tour_guard.is_browser_skip("Failed to detect chrome devtools port after 10s.")
    assert not pytest_tour_guard.is_browser_skip("HttpCase skipped because --odoo-http is unset")
