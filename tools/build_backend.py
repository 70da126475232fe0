# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Build backend of the addon (PEP 517): whool, run on a copy of the addon named payment_request.

whool, the OCA's build backend, packages the folder holding ``pyproject.toml`` and names the
addon after that folder (``Name: odoo-addon-<folder>``, installed as ``odoo/addons/<folder>``);
it has no option to name it otherwise. This repository is the addon, and its checkouts have
any name (a worktree, ``~/src/payment_request-main``): built there, ``pip install .`` would
install an addon named after the checkout. Each hook therefore copies the addon's files into a
temporary folder named ``payment_request`` and lets whool build from that copy, as it builds
from an sdist: a ``PKG-INFO`` gives it the name and the version.

- Files: those git tracks, as whool takes them (working tree content, new files once added),
  less the repository's own tooling (``tools/``, ``.ci/``, ``Makefile``, linters' settings),
  which OCA addons keep outside the addon's folder. Outside a git checkout (an archive), every
  file but dot folders (``.git``, ``.venv``, ``.odoo``, ``.test-results``) and caches.
- Version: whool's, computed on the checkout with the ``[tool.whool]`` options of
  ``pyproject.toml`` (``post_version_strategy_override = "none"``: the manifest's version).
- Editable installs are not offered: Odoo loads the checkout through its addons path.
"""

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from manifestoo_core.metadata import addon_name_to_distribution_name
from manifestoo_core.metadata import metadata_from_addon_dir
from manifestoo_core.odoo_series import OdooSeries
from whool import buildapi

try:
    import tomllib
except ImportError:  # Python 3.10, which Odoo 18 supports: whool depends on tomli there
    import tomli as tomllib

ADDON = "payment_request"
ROOT = Path(__file__).resolve().parent.parent
# The repository's, not the addon's: left out of the wheel.
REPOSITORY_ONLY = (
    "tools/",
    ".ci/",
    "Makefile",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".pylintrc",
    "PKG-INFO",
)
# What an sdist needs besides the addon to build the wheel again. pyproject.toml is always
# copied: whool reads its [tool.whool] options there, and leaves it out of the wheel.
SDIST_EXTRA = ("tools/build_backend.py",)
CACHES = ("__pycache__",)


def _git_files(root):
    """Return the files git tracks under ``root`` (relative paths), or None outside git."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return None
    if listed.returncode:
        return None
    # Nothing tracked: an unpacked archive inside another repository's work tree.
    return [name for name in listed.stdout.split("\0") if name] or None


def _all_files(root):
    """Return the files under ``root`` (relative paths), less dot folders and caches."""
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in CACHES)
        relative = Path(folder).relative_to(root)
        files.extend(str(relative / name) for name in sorted(names) if not name.endswith(".pyc"))
    return files


def addon_files(root=ROOT, sdist=False):
    """Return the files of the addon under ``root`` that its distributions carry.

    :param sdist: also the files that build the wheel from the sdist (``SDIST_EXTRA``)
    :return: relative paths, as strings with ``/``
    """
    files = _git_files(root)
    if files is None:
        files = _all_files(root)
    return sorted(
        name
        for name in files
        if (root / name).is_file()
        and (
            not any(name == skip or name.startswith(skip) for skip in REPOSITORY_ONLY)
            or (sdist and name in SDIST_EXTRA)
        )
    )


def _whool_options(root):
    """Return the ``[tool.whool]`` options as whool reads them (with its environment override)."""
    pyproject = root / "pyproject.toml"
    options = {}
    if pyproject.exists():
        options = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        options = options.get("tool", {}).get("whool", {})
    strategy = os.environ.get("WHOOL_POST_VERSION_STRATEGY_OVERRIDE")
    if strategy:
        options["post_version_strategy_override"] = strategy
    return options


def _pkg_info(root):
    """Return the ``PKG-INFO`` of the copy: the addon's distribution name and whool's version."""
    metadata = metadata_from_addon_dir(
        root, _whool_options(root), precomputed_metadata_file=root / "PKG-INFO"
    )
    version = metadata["Version"]
    series = OdooSeries.from_str(".".join(version.split(".")[:2]))
    name = addon_name_to_distribution_name(ADDON, series)
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"


@contextmanager
def _addon_copy(sdist=False):
    """Copy the addon into a temporary folder named ``payment_request``; work in it."""
    previous = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="payment_request-build-") as tmp:
        copy = Path(tmp) / ADDON
        for name in addon_files(ROOT, sdist=sdist):
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target)
        (copy / "PKG-INFO").write_text(_pkg_info(ROOT), encoding="utf-8")
        os.chdir(copy)
        try:
            yield
        finally:
            os.chdir(previous)


def _absolute(directory):
    return str(Path(directory).resolve())


# === PEP 517 HOOKS === #


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    """Build the wheel with whool from a copy named payment_request; return its file name."""
    wheel_directory = _absolute(wheel_directory)
    with _addon_copy():
        return buildapi.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    """Build the sdist with whool from a copy named payment_request; return its file name."""
    sdist_directory = _absolute(sdist_directory)
    with _addon_copy(sdist=True):
        return buildapi.build_sdist(sdist_directory, config_settings)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    """Write the wheel's ``.dist-info`` as whool does; return its folder name."""
    metadata_directory = _absolute(metadata_directory)
    with _addon_copy():
        return buildapi.prepare_metadata_for_build_wheel(metadata_directory, config_settings)
