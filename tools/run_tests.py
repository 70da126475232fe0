#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Run the checks and tests of the addon, as `make test` and CI do.

1. Static checks: ruff (lint and format), pylint-odoo.
2. Odoo-free tests: ``tools/tests`` (XML, manifest, translations, README).
3. Where Odoo 18 is importable and PostgreSQL answers: a fresh database with the addon and
   ``payment_demo`` (demo data included) and the whole Odoo test suite through pytest-odoo,
   HTTP tests and browser tours included (a tour skipped for want of a browser fails).

Writes ``.test-results/summary.json`` and ends with one line ``total: N passed, N failed,
N skipped``. Exit code 1 when anything failed; 0 otherwise, including when Odoo is absent.

Options: ``--static`` / ``--free`` / ``--odoo`` run one part only; ``--reuse-db`` upgrades the
existing test database instead of recreating it; ``-- ARGS`` are passed to the Odoo pytest run.
"""

import argparse
import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / ".test-results"
ADDON = "payment_request"
TEST_DB = os.environ.get("PAYMENT_REQUEST_TEST_DB", "payment_request_test")


def say(message):
    print(f"==> {message}", flush=True)


def run(cmd, **kwargs):
    say(" ".join(str(part) for part in cmd))
    return subprocess.run(cmd, check=False, **kwargs).returncode


# === ODOO AND POSTGRESQL === #


def odoo_dir():
    """Return the Odoo source folder (holding odoo-bin), or None with the reason."""
    if os.environ.get("ODOO_DISABLE"):
        return None, "ODOO_DISABLE is set"
    env_path = os.environ.get("ODOO_PATH")
    if env_path and (Path(env_path) / "odoo-bin").exists():
        return Path(env_path), None
    probe = subprocess.run(
        [sys.executable, "-c", "import odoo, odoo.release as r; print(odoo.__file__, r.version)"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode:
        return None, "Python cannot import odoo (see ../shared/ODOO.md, or set ODOO_PATH)"
    path, version = probe.stdout.split()
    if not version.startswith("18."):
        return None, f"Odoo {version} found, 18.0 needed"
    return Path(path).parent.parent, None


def ensure_postgres():
    """Start the local PostgreSQL cluster if it is installed but down; return the reason if not."""
    if shutil.which("pg_lsclusters"):
        clusters = subprocess.run(
            ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
        ).stdout.split("\n")
        for line in filter(None, clusters):
            version, name, _port, status = line.split()[:4]
            if status != "online":
                run(["pg_ctlcluster", version, name, "start"])
    user = os.environ.get("USER") or "root"
    if os.geteuid() == 0 and shutil.which("su"):
        subprocess.run(
            ["su", "postgres", "-c", f"createuser -s {user}"],
            capture_output=True,
            check=False,
        )
    probe = (
        subprocess.run(
            ["psql", "-d", "postgres", "-tAc", "select 1"],
            capture_output=True,
            text=True,
            check=False,
        )
        if shutil.which("psql")
        else None
    )
    if not probe or probe.returncode:
        return "PostgreSQL does not answer (install it: apt-get install postgresql)"
    return None


def addons_link():
    """Return a folder holding `payment_request` -> this checkout, whatever its name."""
    digest = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
    folder = Path(tempfile.gettempdir()) / f"payment_request-addons-{digest}"
    folder.mkdir(exist_ok=True)
    link = folder / ADDON
    if not link.is_symlink() or link.resolve() != ROOT:
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(ROOT)
    return folder


def addons_path(odoo):
    return ",".join([str(addons_link()), str(odoo / "addons"), str(odoo / "odoo" / "addons")])


# === STEPS === #


def static_checks():
    failures = 0
    failures += bool(run(["ruff", "check", str(ROOT)]))
    failures += bool(run(["ruff", "format", "--check", str(ROOT)]))
    failures += bool(
        run(
            [
                sys.executable,
                "-m",
                "pylint",
                f"--rcfile={ROOT / '.pylintrc'}",
                "--disable=manifest-superfluous-key",
                "--score=n",
                str(addons_link() / ADDON),
            ]
        )
    )
    return failures


def pytest_run(args, junit, extra_env=None):
    env = dict(os.environ, **(extra_env or {}))
    code = run([sys.executable, "-m", "pytest", f"--junitxml={junit}", *args], env=env)
    return code, read_junit(junit)


def read_junit(path):
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    if not path.exists():
        return counts
    for suite in ET.parse(path).getroot().iter("testsuite"):
        tests = int(suite.get("tests", 0))
        failed, errors = int(suite.get("failures", 0)), int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        counts["failed"] += failed
        counts["errors"] += errors
        counts["skipped"] += skipped
        counts["passed"] += tests - failed - errors - skipped
    return counts


def free_tests():
    # A copy outside the addon: its root __init__.py would make pytest import it as a package.
    with tempfile.TemporaryDirectory(prefix="payment_request-free-") as folder:
        copy = Path(folder) / "tests"
        shutil.copytree(ROOT / "tools" / "tests", copy)
        return pytest_run(
            ["-p", "no:odoo", "-p", "no:cacheprovider", "--rootdir", folder, "-q", str(copy)],
            RESULTS / "free.xml",
            extra_env={"PAYMENT_REQUEST_ROOT": str(ROOT)},
        )


def count_odoo_tests():
    count = 0
    for path in (ROOT / "tests").glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        count += sum(
            isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
            for node in ast.walk(tree)
        )
    return count


def odoo_tests(odoo, reuse_db, extra_args):
    path = addons_path(odoo)
    odoo_bin = [sys.executable, str(odoo / "odoo-bin"), f"--addons-path={path}", "-d", TEST_DB]
    log = RESULTS / "install.log"
    with log.open("w") as log_file:
        if reuse_db:
            cmd = [*odoo_bin, "-u", ADDON, "--stop-after-init", "--log-level=warn"]
        else:
            subprocess.run(["dropdb", "--if-exists", TEST_DB], check=False)
            cmd = [
                *odoo_bin,
                "-i",
                f"{ADDON},payment_demo",
                "--stop-after-init",
                "--log-level=warn",
            ]
        say(" ".join(cmd) + f"  (log: {log})")
        code = subprocess.run(
            cmd, stdout=log_file, stderr=subprocess.STDOUT, check=False
        ).returncode
    text = log.read_text(errors="replace")
    if code or " ERROR " in text or "Traceback" in text:
        print(text[-4000:])
        say("The addon did not install cleanly: see the log above.")
        return 1, {"passed": 0, "failed": 0, "errors": 1, "skipped": 0}
    code, counts = pytest_run(
        [
            "-p",
            "pytest_tour_guard",
            "-p",
            "no:cacheprovider",
            f"--odoo-database={TEST_DB}",
            f"--odoo-addons-path={path}",
            "--odoo-http",
            "--odoo-log-level=warn",
            "-q",
            str(addons_link() / ADDON / "tests"),
            *extra_args,
        ],
        RESULTS / "odoo.xml",
        extra_env={
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(ROOT / "tools"), os.environ.get("PYTHONPATH")])
            )
        },
    )
    if code == 5 or not sum(counts.values()):
        say("No Odoo test was collected although the addon has tests.")
        counts["errors"] += 1
    return code, counts


def git_state():
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    status = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return head, bool(status)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--static", action="store_true")
    parser.add_argument("--free", action="store_true")
    parser.add_argument("--odoo", action="store_true")
    parser.add_argument("--reuse-db", action="store_true")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    everything = not (args.static or args.free or args.odoo)
    RESULTS.mkdir(exist_ok=True)
    for stale in ("free.xml", "odoo.xml"):
        (RESULTS / stale).unlink(missing_ok=True)
    total = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    static_failures = 0
    odoo_ran = False

    if everything or args.static:
        say("Static checks")
        static_failures = static_checks()
        total["failed"] += static_failures
    if everything or args.free:
        say("Odoo-free tests")
        _code, counts = free_tests()
        total = {key: total[key] + counts[key] for key in total}
    if everything or args.odoo:
        odoo, reason = odoo_dir()
        if odoo and not reason:
            reason = ensure_postgres()
        if reason:
            say(
                f"The Odoo test suite did NOT run: {reason}. "
                f"{count_odoo_tests()} Odoo tests could not run."
            )
        else:
            say(f"Odoo test suite, with Odoo from {odoo}")
            _code, counts = odoo_tests(odoo, args.reuse_db, args.pytest_args)
            odoo_ran = True
            total = {key: total[key] + counts[key] for key in total}

    head, dirty = git_state()
    summary = {"commit": head, "dirty": dirty, "odoo": odoo_ran, **total}
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if static_failures:
        print(f"static checks: {static_failures} failed")
    print(f"errors: {total['errors']}")
    print(f"odoo suite ran: {'yes' if odoo_ran else 'no'}")
    failed = total["failed"] + total["errors"]
    print(f"total: {total['passed']} passed, {failed} failed, {total['skipped']} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
