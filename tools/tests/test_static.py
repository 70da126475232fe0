# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Checks of the addon's files that need no Odoo: manifest, XML, CSV, translations."""

import ast
import csv
import re
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
ADDON = "payment_request"
# Packages that Odoo itself requires (its requirements.txt): the addon may import them freely.
ODOO_REQUIREMENTS = {
    "babel",
    "lxml",
    "markupsafe",
    "psycopg2",
    "pytz",
    "reportlab",
    "requests",
    "werkzeug",
}
MANIFEST = ast.literal_eval((ROOT / "__manifest__.py").read_text(encoding="utf-8"))
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{\{.*?\}\}")


def repo_files(pattern):
    """Return the repository's files matching a glob pattern, tracked or not, never ignored."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "--", pattern],
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode == 0:
        paths = {line for line in listed.stdout.splitlines() if (ROOT / line).is_file()}
    else:  # not a git checkout: every file outside hidden folders
        paths = {
            str(path.relative_to(ROOT))
            for path in ROOT.rglob(pattern)
            if not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
        }
    return sorted(paths)


def asset_paths():
    """Return the files named in the manifest's assets, relative to the addon (no globs)."""
    paths = []
    for bundle in MANIFEST.get("assets", {}).values():
        for entry in bundle:
            if isinstance(entry, tuple | list):
                if entry[0] == "include":  # another bundle, not a file
                    continue
                entry = entry[-1]
            if "*" in entry or "://" in entry:
                continue
            module, _sep, path = entry.partition("/")
            if module == ADDON:
                paths.append(path)
    return paths


# === MANIFEST === #


def test_manifest_contract():
    assert MANIFEST["version"] == "18.0.1.4.0"
    assert MANIFEST["license"] == "LGPL-3"
    assert MANIFEST["installable"] is True
    for module in ("account_payment", "sale", "sale_crm", "sms", "portal", "payment_stripe"):
        assert module in MANIFEST["depends"]
    # stripe for the SDK calls, phonenumbers to tell a mobile from a fixed line (reminders).
    assert set(MANIFEST["external_dependencies"]["python"]) == {"stripe", "phonenumbers"}
    # As an OCA repository: GitHub handles of the maintainers, and a development status
    # among the values the OCA's tools know.
    assert MANIFEST["maintainers"]
    assert all(re.fullmatch(r"[A-Za-z0-9-]+", handle) for handle in MANIFEST["maintainers"])
    assert MANIFEST["development_status"] in ("Alpha", "Beta", "Production/Stable", "Mature")
    assert MANIFEST["website"].startswith("https://github.com/")


def test_declared_python_dependencies_are_imported_by_the_addon():
    """external_dependencies lists what the addon's own code imports, no more, no less."""
    imported = set()
    for path in repo_files("*.py"):
        if path.startswith(("tools/", "tests/")):
            continue
        for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.partition(".")[0])
    declared = set(MANIFEST["external_dependencies"]["python"])
    assert declared <= imported, f"declared but never imported: {declared - imported}"
    third_party = {
        name
        for name in imported - {"odoo", ADDON}
        if name not in sys.stdlib_module_names and name not in ODOO_REQUIREMENTS
    }
    assert third_party <= declared, f"imported but not declared: {third_party - declared}"


@pytest.mark.parametrize("key", ["data", "demo"])
def test_manifest_data_files_exist(key):
    listed = MANIFEST.get(key, [])
    missing = [path for path in listed if not (ROOT / path).is_file()]
    assert not missing, f"files listed in the manifest's {key!r} do not exist: {missing}"
    duplicated = sorted({path for path in listed if listed.count(path) > 1})
    assert not duplicated, f"listed twice in {key!r}: {duplicated}"
    wrong = [path for path in listed if Path(path).suffix not in (".xml", ".csv", ".sql")]
    assert not wrong, f"Odoo loads only .xml, .csv and .sql data files: {wrong}"


def test_manifest_asset_files_exist():
    missing = [path for path in asset_paths() if not (ROOT / path).is_file()]
    assert not missing, f"files listed in the manifest's assets do not exist: {missing}"


def test_manifest_asset_globs_match_files():
    for bundle in MANIFEST.get("assets", {}).values():
        for entry in bundle:
            if isinstance(entry, str) and "*" in entry and entry.startswith(f"{ADDON}/"):
                pattern = entry.removeprefix(f"{ADDON}/")
                assert any(path.is_file() for path in ROOT.glob(pattern)), entry


# === XML AND CSV === #


@pytest.mark.parametrize("path", repo_files("*.xml"))
def test_xml_parses(path):
    etree.parse(str(ROOT / path))


def test_xml_files_found():
    assert set(MANIFEST["data"]) & set(repo_files("*.xml")), "no XML file found in the repo"


@pytest.mark.parametrize("path", repo_files("*.csv"))
def test_csv_rows_have_the_header_width(path):
    with (ROOT / path).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows, f"{path} is empty"
    bad = [number for number, row in enumerate(rows, 1) if len(row) != len(rows[0])]
    assert not bad, f"{path}: rows {bad} do not have {len(rows[0])} columns"


# === TRANSLATIONS === #


def load_po(name):
    path = ROOT / "i18n" / name
    # polib reads a string that is not a file name as the text of a catalog: check first.
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    return polib.pofile(str(path))


def test_pot_parses():
    assert len(load_po(f"{ADDON}.pot")) > 0


def test_french_translation_is_complete():
    french = [entry for entry in load_po("fr.po") if not entry.obsolete]
    assert french, "fr.po has no entries"
    for entry in french:
        assert "fuzzy" not in entry.flags, f"fuzzy in fr.po: {entry.msgid!r}"
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        assert all(text.strip() for text in translations), f"untranslated: {entry.msgid!r}"


def test_french_translation_covers_the_pot():
    french = {entry.msgid: entry for entry in load_po("fr.po") if not entry.obsolete}
    missing = [entry.msgid for entry in load_po(f"{ADDON}.pot") if entry.msgid not in french]
    assert not missing, f"{len(missing)} msgids of the .pot are not in fr.po: {missing[:5]}"


def test_french_translation_keeps_placeholders():
    for entry in load_po("fr.po"):
        if entry.obsolete or entry.msgid_plural:
            continue
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        assert sorted(PLACEHOLDER.findall(entry.msgstr)) == expected, (
            f"placeholders differ: {entry.msgid!r}"
        )


# === TEXT FILES === #
# The rules of the pre-commit-hooks of .pre-commit-config.yaml (the OCA's template), so that
# `make lint` and the hooks agree; what the template leaves out, left out here too.

# Generated (tools/gen_readme.py), or a legal text: pre-commit skips them altogether.
NOT_CHECKED = re.compile(r"^static/description/index\.html$|(^|/)(LICENSE|COPYING)")
# Generated too: README.rst by tools/gen_readme.py, .po / .pot by Odoo's export.
NOT_FIXED = re.compile(r"(^|/)README\.rst$|\.pot?$")
DEBUG_MODULES = {
    "bpdb",
    "ipdb",
    "pdb",
    "pdbr",
    "pudb",
    "pydevd_pycharm",
    "q",
    "rdb",
    "rpdb",
    "wdb",
}
CONFLICT = re.compile(rb"^(<<<<<<< |=======$|=======\r$|>>>>>>> )", re.MULTILINE)


def text_files():
    """Return the repository's text files (UTF-8, no NUL byte) as pre-commit's hooks see them."""
    texts = {}
    for path in repo_files("*"):
        if NOT_CHECKED.search(path) or (ROOT / path).is_symlink():
            continue
        content = (ROOT / path).read_bytes()
        if b"\0" in content[:1024]:
            continue
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            continue
        texts[path] = content
    return texts


TEXT_FILES = text_files()


def test_text_files_found():
    assert "__manifest__.py" in TEXT_FILES
    assert "static/description/icon.png" not in TEXT_FILES


def test_no_trailing_whitespace():
    """trailing-whitespace."""
    bad = [
        f"{path}:{number}"
        for path, content in TEXT_FILES.items()
        if not NOT_FIXED.search(path)
        for number, line in enumerate(content.splitlines(), 1)
        if line != line.rstrip()
    ]
    assert not bad, f"trailing whitespace: {bad[:10]}"


def test_text_files_end_with_one_newline():
    """end-of-file-fixer."""
    bad = [
        path
        for path, content in TEXT_FILES.items()
        if not NOT_FIXED.search(path)
        and content
        and (not content.endswith(b"\n") or content.endswith(b"\n\n"))
    ]
    assert not bad, f"not ending with exactly one newline: {bad}"


def test_line_endings_are_lf():
    """mixed-line-ending --fix=lf."""
    bad = [path for path, content in TEXT_FILES.items() if b"\r" in content]
    assert not bad, f"CR line endings: {bad}"


def test_no_merge_conflict_markers():
    """check-merge-conflict (README.rst's underlines look like markers)."""
    bad = [
        path
        for path, content in TEXT_FILES.items()
        if not re.search(r"(^|/)README\.rst$", path) and CONFLICT.search(content)
    ]
    assert not bad, f"merge conflict markers: {bad}"


def test_python_has_no_debug_statements():
    """debug-statements."""
    bad = []
    for path in repo_files("*.py"):
        for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name.partition(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.partition(".")[0]]
            else:
                names = []
            bad += [f"{path}:{node.lineno} {name}" for name in names if name in DEBUG_MODULES]
            call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            if call and node.func.id == "breakpoint":
                bad.append(f"{path}:{node.lineno} breakpoint()")
    assert not bad, f"debug statements: {bad}"


def git_modes():
    """Return ``{path: mode}`` of the files git tracks (``100755`` executable, ``120000`` link)."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-s"], capture_output=True, text=True, check=False
    )
    if listed.returncode:
        pytest.skip("not a git checkout")
    modes = {}
    for line in listed.stdout.splitlines():
        meta, path = line.split("\t", 1)
        modes[path] = meta.split()[0]
    return modes


def test_executables_have_shebangs():
    """check-executables-have-shebangs, on the modes git records."""
    executables = [path for path, mode in git_modes().items() if mode == "100755"]
    bad = [path for path in executables if not (ROOT / path).read_bytes().startswith(b"#!")]
    assert not bad, f"executable without a shebang: {bad}"


def test_no_case_conflicts_nor_broken_links():
    """check-case-conflict, check-symlinks."""
    modes = git_modes()
    lowered = [path.lower() for path in modes]
    assert len(set(lowered)) == len(lowered), "file names that differ only by case"
    links = [path for path, mode in modes.items() if mode == "120000"]
    broken = [path for path in links if not (ROOT / path).exists()]
    assert not broken, f"broken symbolic links: {broken}"


def test_no_forbidden_files():
    """The template's forbidden files: merge leftovers, an en.po, obsolete dotfiles."""
    obsolete = re.compile(
        r"\.rej$|^i18n/en\.po$|^(\.travis\.yml|\.t2d\.yml|CONTRIBUTING\.md|\.prettierrc\.yml"
        r"|\.eslintrc\.yml)$"
    )
    bad = [path for path in repo_files("*") if obsolete.search(path)]
    assert not bad, f"forbidden files: {bad}"
