# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The addon builds as an OCA addon: a wheel by whool, odoo-addon-payment_request.

Built as ``pip wheel . --no-deps --no-build-isolation`` does, with the pinned whool of the
environment and no network: once from the checkout (whatever its folder's name), once from a
copy of its files in a folder of another name, without git, beside a .venv/ and an .odoo/, as
an unpacked archive would be.
"""

import ast
import email.parser
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# The harness runs a copy of these tests outside the addon and says where the addon is.
ROOT = Path(os.environ.get("PAYMENT_REQUEST_ROOT") or Path(__file__).resolve().parents[2])
ADDON = "payment_request"
PREFIX = f"odoo/addons/{ADDON}/"
MANIFEST = ast.literal_eval((ROOT / "__manifest__.py").read_text(encoding="utf-8"))
VERSION = MANIFEST["version"]
# The repository's tooling: not the addon's, left out of the wheel as OCA wheels hold only
# the addon's folder; dot folders are the set-up's and the harness's (never tracked).
NOT_IN_WHEEL = (
    "tools/",
    ".ci/",
    "Makefile",
    "pyproject.toml",
    ".pre-commit-config.yaml",
    ".pylintrc",
    ".gitignore",
    ".git/",
    ".odoo/",
    ".venv/",
    ".test-results/",
)


def git_files():
    """Return the files git tracks in the checkout (None when it is not one)."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, text=True, check=False
    )
    if listed.returncode:
        return None
    return sorted(name for name in listed.stdout.split("\0") if name and (ROOT / name).is_file())


def git_status():
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--ignored", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=False,
    )
    return listed.stdout if listed.returncode == 0 else None


def build_wheel(source, out):
    """Build the wheel of ``source`` into ``out`` as pip does; return its path."""
    if importlib.util.find_spec("whool") is None:
        pytest.fail("whool is not installed: tools/requirements.txt pins it (make setup)")
    out.mkdir()
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "-w",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def read_wheel(path):
    """Return ``(file names, METADATA)`` of a wheel."""
    with zipfile.ZipFile(path) as wheel:
        names = set(wheel.namelist())
        (metadata,) = (name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = wheel.read(metadata).decode("utf-8")
    return names, email.parser.HeaderParser().parsestr(metadata)


@pytest.fixture(scope="module")
def checkout_wheel(tmp_path_factory):
    """The wheel built from the checkout, which the build must leave as it found it."""
    before = git_status()
    path = build_wheel(ROOT, tmp_path_factory.mktemp("wheel") / "dist")
    assert git_status() == before, "the build left files in the checkout"
    return path


@pytest.fixture(scope="module")
def archive_wheel(tmp_path_factory):
    """The wheel built from the checkout's files copied to ``payment_request-archive/``."""
    tmp = tmp_path_factory.mktemp("archive")
    copy = tmp / f"{ADDON}-archive"
    files = git_files()
    if files is None:
        pytest.skip("not a git checkout: the checkout's own wheel is built without git already")
    for name in files:
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    # What a working copy holds besides its files: none of it belongs in the wheel.
    for junk in (".venv/bin/python3", ".odoo/odoo-bin", ".test-results/odoo.log"):
        (copy / junk).parent.mkdir(parents=True, exist_ok=True)
        (copy / junk).write_text("not the addon's\n", encoding="utf-8")
    (copy / "models" / "__pycache__").mkdir(exist_ok=True)
    (copy / "models" / "__pycache__" / "payment_request.cpython-311.pyc").write_bytes(b"\0")
    return build_wheel(copy, tmp / "dist")


def test_wheel_is_named_as_oca_wheels(checkout_wheel):
    assert checkout_wheel.name == f"odoo_addon_{ADDON}-{VERSION}-py3-none-any.whl"
    _names, metadata = read_wheel(checkout_wheel)
    assert metadata["Name"] == f"odoo-addon-{ADDON}"
    # The manifest's version, not a post-version counting commits ([tool.whool]).
    assert metadata["Version"] == VERSION


def test_wheel_requires_odoo_and_the_external_dependencies(checkout_wheel):
    from manifestoo_core.core_addons import get_core_addons
    from manifestoo_core.odoo_series import OdooSeries

    _names, metadata = read_wheel(checkout_wheel)
    core = get_core_addons(OdooSeries.v18_0)
    # Odoo's own addons come with odoo; others would be OCA-style wheels of the same series.
    expected = {"odoo==18.0.*", "stripe", "phonenumbers"} | {
        f"odoo-addon-{depend}==18.0.*" for depend in MANIFEST["depends"] if depend not in core
    }
    assert set(metadata.get_all("Requires-Dist")) == expected
    assert metadata["Summary"] == MANIFEST["summary"]
    assert metadata["License"] == MANIFEST["license"]


def test_wheel_holds_the_addon_under_odoo_addons(checkout_wheel):
    names, _metadata = read_wheel(checkout_wheel)
    dist_info = f"odoo_addon_{ADDON}-{VERSION}.dist-info/"
    stray = sorted(name for name in names if not name.startswith((PREFIX, dist_info)))
    assert not stray, f"outside odoo/addons/{ADDON}/: {stray}"
    addon = {name.removeprefix(PREFIX) for name in names if name.startswith(PREFIX)}
    for required in (
        "__init__.py",
        "__manifest__.py",
        "README.rst",
        "static/description/icon.png",
        "static/description/index.html",
        "i18n/fr.po",
        f"i18n/{ADDON}.pot",
        *MANIFEST["data"],
        *MANIFEST["demo"],
    ):
        assert required in addon, f"{required} is not in the wheel"
    tours = {
        f"static/tests/tours/{path.name}" for path in (ROOT / "static/tests/tours").glob("*.js")
    }
    assert tours
    assert {name for name in addon if name.startswith("static/tests/tours/")} == tours
    left_out = sorted(name for name in addon if name.startswith(NOT_IN_WHEEL))
    assert not left_out, f"the repository's files in the wheel: {left_out}"


def test_wheel_holds_the_tracked_files_of_the_addon(checkout_wheel):
    """As whool builds OCA wheels: the git-tracked files, less the repository's tooling."""
    files = git_files()
    if files is None:
        pytest.skip("not a git checkout")
    names, _metadata = read_wheel(checkout_wheel)
    addon = {name.removeprefix(PREFIX) for name in names if name.startswith(PREFIX)}
    assert addon == {name for name in files if not name.startswith(NOT_IN_WHEEL)}


def test_wheel_does_not_depend_on_the_folder_name_nor_on_git(checkout_wheel, archive_wheel):
    assert archive_wheel.name == checkout_wheel.name
    archive_names, archive_metadata = read_wheel(archive_wheel)
    checkout_names, checkout_metadata = read_wheel(checkout_wheel)
    assert archive_names == checkout_names
    assert archive_metadata.items() == checkout_metadata.items()
