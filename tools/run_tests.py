#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Run the checks and tests of the addon, as ``make test`` and CI do.

1. Static checks: ``ruff check``, ``ruff format --check``, pylint with pylint-odoo, the OCA's
   ``oca-checks-odoo-module`` and ``oca-checks-po``, and the Odoo-free file checks of
   ``tools/tests/test_static.py`` (XML, manifest, translations, text files) and
   ``tools/tests/test_readme.py`` (README.rst and index.html generated from readme/).
2. Odoo-free tests: ``pytest tools/tests``.
3. Where Odoo 18 is found and PostgreSQL answers: a fresh database with the addon and
   ``payment_demo`` (demo data included), then the addon's whole Odoo test suite through
   pytest-odoo, HTTP tests and browser tours included. A tour skipped for want of a browser
   is a failure (``tools/pytest_tour_guard.py``).

Writes ``.test-results/summary.json`` and ends with the line
``total: N passed, N failed, N skipped`` (errors and failed static checks counted as failed).
Exits 1 when anything failed or the addon did not install; 0 otherwise, also when Odoo is
absent (the output then says why the Odoo suite did not run and how many tests it holds).

Usage: ``run_tests.py [--static | --pylint | --oca-checks | --free | --odoo] [--reuse-db]
[--db NAME] [--addon-dir PATH] [-- PYTEST_ARGS]``; the pytest arguments go to the Odoo run only.
"""

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from odoo_env import ADDON  # noqa: E402
from odoo_env import RESULTS  # noqa: E402
from odoo_env import ROOT  # noqa: E402
from odoo_env import addons_link  # noqa: E402
from odoo_env import addons_path  # noqa: E402
from odoo_env import ensure_postgres  # noqa: E402
from odoo_env import find_odoo  # noqa: E402
from odoo_env import odoo_command  # noqa: E402
from odoo_env import odoo_env  # noqa: E402
from odoo_env import pg_bin  # noqa: E402
from odoo_env import say  # noqa: E402
from odoo_env import write_config  # noqa: E402

TOOLS = ROOT / "tools"
FREE_TESTS = TOOLS / "tests"
TEST_DB = os.environ.get("PAYMENT_REQUEST_TEST_DB", "payment_request_test")
# The port of the HTTP server of the tests: two checkouts can run their suites side by side.
TEST_PORT = os.environ.get("PAYMENT_REQUEST_TEST_PORT", "8069")
MODULES = (ADDON, "payment_demo")
KEYS = ("passed", "failed", "errors", "skipped")


def run(cmd, **kwargs):
    """Echo and run a command; return its exit code."""
    say(" ".join(str(part) for part in cmd))
    return subprocess.run(cmd, check=False, **kwargs).returncode


def add(total, counts):
    return {key: total[key] + counts.get(key, 0) for key in KEYS}


# === STATIC CHECKS === #


def repo_files():
    """Return the repository's files (tracked, or untracked and not ignored), relative."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"],
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode == 0:
        return [Path(name) for name in listed.stdout.split("\0") if (ROOT / name).is_file()]
    return [
        path.relative_to(ROOT)
        for path in ROOT.rglob("*")
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(ROOT).parts)
    ]


def pylint_copy():
    """Copy the addon into ``.test-results/pylint/payment_request``; return that folder.

    pylint resolves symbolic links, and pylint-odoo names a module after its folder: a copy
    under the right name lets it check, e.g., that the addon does not import itself through
    ``odoo.addons.payment_request``.
    """
    copy = RESULTS / "pylint" / ADDON
    shutil.rmtree(copy.parent, ignore_errors=True)
    for relative in repo_files():
        target = copy / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, target)
    return copy


# The checks that need the copy named payment_request (pylint_copy): they name the module
# after its folder.
COPY_CHECKS = ("pylint-odoo", "oca-checks-odoo-module", "oca-checks-po")


def static_checks(only=None):
    """Run ruff, pylint-odoo and the OCA's checks; return the names of the checks that failed.

    :param only: the names of the checks to run (all by default); .pre-commit-config.yaml
        runs pylint-odoo alone, and the OCA's checks alone, on the same copy as `make lint`
    """
    ruff = [sys.executable, "-m", "ruff"]

    def oca(module):
        # Their console scripts, run by this Python wherever it keeps its scripts.
        code = f"import sys; from oca_pre_commit_hooks.{module} import main; sys.exit(main())"
        return [sys.executable, "-c", code]

    copy = pylint_copy() if any(not only or name in only for name in COPY_CHECKS) else None
    po_files = sorted(str(path.relative_to(ROOT)) for path in ROOT.glob("i18n/*.po*"))
    checks = {
        "ruff check": ([*ruff, "check", "."], ROOT),
        "ruff format": ([*ruff, "format", "--check", "."], ROOT),
        # Run in the copy, on ".": the paths it prints are relative to the repository.
        "pylint-odoo": (
            [sys.executable, "-m", "pylint", f"--rcfile={ROOT / '.pylintrc'}", "."],
            copy,
        ),
        # The hooks of the OCA's pre-commit template (oca-odoo-pre-commit-hooks): manifest,
        # XML and CSV data; translation files, their layout aside as the template has it.
        "oca-checks-odoo-module": ([*oca("cli"), "."], copy),
        "oca-checks-po": ([*oca("cli_po"), "--disable=po-pretty-format", *po_files], copy),
    }
    failed = []
    for name, (cmd, cwd) in checks.items():
        if only and name not in only:
            continue
        if run(cmd, cwd=cwd):
            failed.append(name)
        print(f"{name}: {'FAILED' if name in failed else 'ok'}", flush=True)
    return failed


# === PYTEST RUNS === #


def read_junit(path):
    """Count the outcomes of the test cases of a pytest JUnit XML file."""
    counts = dict.fromkeys(KEYS, 0)
    if not path.exists():
        return counts
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None:
            counts["failed"] += 1
        elif case.find("error") is not None:
            counts["errors"] += 1
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts


def pytest_run(label, args, junit, env=None):
    """Run pytest with a JUnit report; return ``(exit code, counts)``.

    A run that ends without a report (pytest crashed or was interrupted) or that collected
    nothing counts as one error.
    """
    junit.unlink(missing_ok=True)
    code = run(
        [sys.executable, "-m", "pytest", f"--junitxml={junit}", "-rfEs", *args], cwd=ROOT, env=env
    )
    counts = read_junit(junit)
    if code == 5 or not any(counts.values()):
        say(f"{label}: no test was collected (pytest exit code {code})")
        counts["errors"] += 1
    elif code not in (0, 1):
        say(f"{label}: pytest stopped with exit code {code}")
        counts["errors"] += 1
    return code, counts


def free_tests(paths):
    """Run Odoo-free tests (``tools/tests`` with its own pytest.ini: pytest-odoo off)."""
    return pytest_run(
        "Odoo-free tests",
        ["-c", str(FREE_TESTS / "pytest.ini"), "--rootdir", str(FREE_TESTS), *map(str, paths)],
        RESULTS / "free.xml",
    )


def count_odoo_tests(addon_dir):
    """Count the ``def test_*`` methods of the addon's ``tests/*.py`` (without importing)."""
    count = 0
    for path in sorted((Path(addon_dir) / "tests").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        count += sum(
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_")
            for node in ast.walk(tree)
        )
    return count


# === ODOO SUITE === #


def install_progress(line):
    """Return the progress shown for a line of Odoo's log, or None: 'module (n/m)'."""
    marker = "Loading module "
    if marker in line and "(" in line:
        return line.split(marker, 1)[1].strip()
    return None


def run_logged(cmd, log, env):
    """Run Odoo with its output in ``log``, printing each module it loads; return its code."""
    with log.open("w", encoding="utf-8") as log_file:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
            errors="replace",
        )
        for line in process.stdout:
            log_file.write(line)
            progress = install_progress(line)
            if progress:
                print(f"    installing {progress}", flush=True)
        return process.wait()


def install(odoo_dir, pg, config, database, reuse_db):
    """Create the test database (or upgrade it with ``reuse_db``); return None or the failure."""
    log = RESULTS / "install.log"
    if reuse_db and pg.database_exists(database):
        args = ["-u", ADDON]
        say(f"Upgrading {ADDON} in the existing database {database} (REUSE_DB)")
    else:
        say(f"Fresh database {database} with {', '.join(MODULES)} and demo data")
        dropped = pg.run(
            [pg_bin("dropdb") or "dropdb", "--if-exists", "--force", database],
            capture_output=True,
            text=True,
        )
        if dropped.returncode:
            return f"could not drop the database {database}: {dropped.stderr.strip()}"
        args = ["-i", ",".join(MODULES)]
    cmd = odoo_command(odoo_dir, config, database, *args, "--stop-after-init", "--no-http")
    say(" ".join(cmd) + f"  > {log.relative_to(ROOT)}")
    started = time.monotonic()
    code = run_logged(cmd, log, odoo_env(odoo_dir, pg))
    say(f"odoo-bin exited with {code} after {time.monotonic() - started:.0f}s")
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    errors = [line for line in lines if " ERROR " in line or " CRITICAL " in line]
    states = pg.module_states(database, MODULES)
    not_installed = [module for module in MODULES if states.get(module) != "installed"]
    reason = None
    if code or errors:
        reason = f"odoo-bin exited with code {code}, {len(errors)} ERROR line(s) in its log"
        if errors:
            reason += f", the first: {errors[0].strip()}"
    elif not_installed:
        reason = f"not installed: {', '.join(not_installed)} (states: {states})"
    if reason:
        print("\n".join(["----- tail of .test-results/install.log -----", *lines[-60:]]))
    return reason


def odoo_suite(odoo_dir, pg, args):
    """Install the addon in a database, then run its tests with pytest-odoo.

    Return ``(counts, install failure or None)``.
    """
    config = write_config(
        RESULTS / "odoo-test.conf",
        odoo_dir,
        pg,
        addon_dir=args.addon_dir,
        data_dir=RESULTS / "odoo-data",
        http_port=TEST_PORT,
    )
    failure = install(odoo_dir, pg, config, args.db, args.reuse_db)
    if failure:
        say(f"The addon did not install: {failure}")
        return {**dict.fromkeys(KEYS, 0), "errors": 1}, failure
    link = addons_link(args.addon_dir) / ADDON
    _code, counts = pytest_run(
        "Odoo suite",
        [
            "-p",
            "pytest_tour_guard",
            "-p",
            "no:cacheprovider",
            f"--odoo-config={config}",
            f"--odoo-database={args.db}",
            f"--odoo-addons-path={addons_path(odoo_dir, args.addon_dir)}",
            "--odoo-http",
            "--odoo-log-level=warn",
            "--rootdir",
            str(link),
            str(link / "tests"),
            *args.pytest_args,
        ],
        RESULTS / "odoo.xml",
        env=odoo_env(odoo_dir, pg, extra_python_path=[TOOLS]),
    )
    return counts, None


# === SUMMARY === #


def git_state():
    """Return ``(HEAD sha or None, dirty)``: dirty means uncommitted or untracked files."""

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        )

    head = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=normal")
    if head.returncode or status.returncode:
        return None, True
    return head.stdout.strip(), bool(status.stdout.strip())


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Arguments after -- go to the pytest run of the Odoo suite (e.g. -- -k wizard).",
    )
    part = parser.add_mutually_exclusive_group()
    part.add_argument("--static", action="store_true", help="static checks only (make lint)")
    part.add_argument(
        "--pylint", action="store_true", help="pylint-odoo only, as make lint runs it"
    )
    part.add_argument(
        "--oca-checks",
        action="store_true",
        help="oca-checks-odoo-module and oca-checks-po only, as make lint runs them",
    )
    part.add_argument("--free", action="store_true", help="Odoo-free tests only")
    part.add_argument("--odoo", action="store_true", help="Odoo suite only")
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="upgrade the existing test database (-u) instead of making a fresh one",
    )
    parser.add_argument("--db", default=TEST_DB, help=f"test database (default {TEST_DB})")
    parser.add_argument(
        "--addon-dir",
        type=lambda value: Path(value).resolve(),
        default=Path(os.environ.get("PAYMENT_REQUEST_ADDON_DIR") or ROOT).resolve(),
        help="addon folder for the Odoo suite (default: this repository)",
    )
    parser.add_argument("pytest_args", nargs="*", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    # The pre-commit hooks: no summary, the exit status says it.
    if args.pylint:
        return 1 if static_checks(only=("pylint-odoo",)) else 0
    if args.oca_checks:
        return 1 if static_checks(only=("oca-checks-odoo-module", "oca-checks-po")) else 0
    everything = not (args.static or args.free or args.odoo)
    RESULTS.mkdir(exist_ok=True)
    total = dict.fromkeys(KEYS, 0)
    static_failed = []
    odoo_ran = False
    odoo_note = None
    install_failure = None
    started = time.monotonic()

    if everything or args.static:
        say("Static checks")
        static_failed = static_checks()
    if everything or args.static or args.free:
        say("Odoo-free tests" if not args.static else "Odoo-free file checks")
        static_paths = [FREE_TESTS / "test_static.py", FREE_TESTS / "test_readme.py"]
        paths = static_paths if args.static else [FREE_TESTS]
        total = add(total, free_tests(paths)[1])
    if everything or args.odoo:
        odoo_dir, reason = find_odoo()
        pg = None
        if odoo_dir:
            pg, reason = ensure_postgres()
        if reason:
            odoo_note = (
                f"the Odoo suite did NOT run: {reason}. "
                f"{count_odoo_tests(args.addon_dir)} Odoo tests could not run."
            )
            say(odoo_note[0].upper() + odoo_note[1:])
        else:
            say(f"Odoo suite: Odoo from {odoo_dir}, PostgreSQL: {pg.origin}")
            counts, install_failure = odoo_suite(odoo_dir, pg, args)
            odoo_ran = not install_failure
            total = add(total, counts)

    total["failed"] += len(static_failed)
    head, dirty = git_state()
    summary = {"commit": head, "dirty": dirty, "odoo": odoo_ran, **total}
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")

    print(f"\n==> Done in {time.monotonic() - started:.0f}s; summary in .test-results/summary.json")
    if static_failed:
        print(f"static checks failed: {', '.join(static_failed)}")
    if install_failure:
        print(f"odoo: the addon did not install ({install_failure}); see .test-results/install.log")
    elif odoo_note:
        print(f"odoo: {odoo_note}")
    if everything or args.odoo:
        print(f"odoo suite ran: {'yes' if odoo_ran else 'no'}")
    print(f"errors: {total['errors']}")
    failed = total["failed"] + total["errors"]
    print(f"total: {total['passed']} passed, {failed} failed, {total['skipped']} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
