#!/usr/bin/env python3
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Set up what ``make test`` and ``make run`` need on a bare machine, then run them.

Standard library only: it runs with the machine's ``python3`` before anything is installed.
Each step is idempotent and skipped in well under a second when nothing changed:

1. **Debian packages** (PostgreSQL, build headers, Chromium, wkhtmltopdf, poppler-utils...),
   installed when ``dpkg`` says they are missing: as root, through ``sudo`` otherwise, or
   the exact command to run is printed.
2. **Odoo 18.0 source** in ``.odoo/``, from, in this order: ``$ODOO_PATH`` (used as it is),
   ``.odoo/`` already complete, ``$ODOO_ARCHIVE``, the pinned archive of ``../shared/odoo/``
   (checked against its ``.sha256``), a shallow clone of Odoo's 18.0 branch.
3. **A virtual environment** ``.venv/`` with the pinned ``tools/requirements.txt``, installed
   with ``uv`` (pinned in ``tools/requirements-bootstrap.txt``; pip when uv cannot be had).
4. **axe-core** (the accessibility engine of the Odoo suite's page checks) in
   ``tools/a11y/node_modules/``, pinned with its integrity by ``tools/a11y/package-lock.json``
   and installed with ``npm ci`` (Debian's ``nodejs`` and ``npm`` when no ``npm`` is found).
5. **PostgreSQL** is started, with a role for the current user, by ``tools/odoo_env.py`` when
   the harness needs it.

A step that is interrupted or fails leaves no stamp: the next run redoes it from scratch
(``.odoo/`` and ``.venv/`` are complete only when their stamp file says so).

``$PYTHON`` (an interpreter of one's own) skips step 3; with ``$ODOO_PATH`` too it also skips
step 2. ``$ODOO_DISABLE=1`` (or ``--odoo-free``) sets up only what the Odoo-free checks need.

Usage: ``bootstrap.py [--odoo-free] [--setup-only] -- SCRIPT [ARGS...]``: after the set-up,
SCRIPT runs with the environment's Python, with ``$ODOO_PATH`` naming the Odoo tree.
"""

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"
ODOO_DIR = ROOT / ".odoo"
VENV = ROOT / ".venv"
# Held while the set-up runs: two make commands started together in one checkout (make test and
# make bench) would otherwise unpack Odoo into the same folder, one removing what the other
# writes.
SETUP_LOCK = ROOT / ".setup.lock"
LOCK = TOOLS / "requirements.txt"
BOOTSTRAP_LOCK = TOOLS / "requirements-bootstrap.txt"
SHARED_ODOO = ROOT.parent / "shared" / "odoo"
A11Y = TOOLS / "a11y"
A11Y_LOCK = A11Y / "package-lock.json"
AXE_SCRIPT = A11Y / "node_modules" / "axe-core" / "axe.min.js"
PINNED_ARCHIVE = "odoo-18.0-1b5d1564.tar.xz"
ODOO_GIT = "https://github.com/odoo/odoo.git"
STAMP = ".payment_request-stamp.json"

# What the harness uses, by Debian package: the server and its client, what psycopg2 and a
# few other pinned sdists build with, the browser of the tours, the PDF tools of the reports.
DEBIAN_PACKAGES = (
    "postgresql",
    "postgresql-client",
    "libpq-dev",
    "build-essential",
    "git",
    "chromium",
    "wkhtmltopdf",
    "poppler-utils",
    "fonts-dejavu-core",
)
# Enough for the static checks and the Odoo-free tests (ODOO_DISABLE=1, make lint); whool
# builds the wheel of tools/tests/test_wheel.py.
ODOO_FREE_PACKAGES = (
    "ruff",
    "pylint-odoo",
    "pytest",
    "polib",
    "lxml",
    "docutils",
    "whool",
    "pre-commit-hooks",
    "oca-odoo-pre-commit-hooks",
)


class SetupError(Exception):
    """A step failed: ``step`` names it, the message says why and what to do."""

    def __init__(self, step, message):
        super().__init__(message)
        self.step = step


def say(message):
    print(f"==> {message}", flush=True)


def elapsed(started):
    return f"{time.monotonic() - started:.1f}s"


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_stamp(folder):
    try:
        return json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_stamp(folder, values):
    tmp = folder / f"{STAMP}.tmp"
    tmp.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(folder / STAMP)


def remove(path):
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


# === 1. DEBIAN PACKAGES === #


def missing_debian_packages(packages=DEBIAN_PACKAGES):
    """Return the packages that dpkg does not list as installed (None: not a Debian system)."""
    if not shutil.which("dpkg-query"):
        return None
    listed = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *packages],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    installed = {
        line.split()[0].split(":")[0] for line in listed.splitlines() if line.endswith(" installed")
    }
    return [package for package in packages if package not in installed]


def privileged(cmd):
    """Return ``cmd`` run as root (directly or with sudo), or None when neither works."""
    if os.geteuid() == 0:
        return cmd
    if shutil.which("sudo"):
        probe = subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["sudo", "-n", *cmd]
    return None


def python_packages_needed():
    """Debian's python3-venv / python3-dev when this Python is Debian's and lacks them."""
    needed = []
    if not sys.executable.startswith("/usr/bin/"):
        return needed
    try:
        import ensurepip  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        needed.append(f"python3.{sys.version_info.minor}-venv")
    import sysconfig  # pylint: disable=import-outside-toplevel

    if not Path(sysconfig.get_paths()["include"], "Python.h").exists():
        needed.append("python3-dev")
    return needed


def step_debian(odoo_free):
    started = time.monotonic()
    packages = () if odoo_free else DEBIAN_PACKAGES
    missing = missing_debian_packages(packages)
    if missing is None:
        say(
            "1/4 Debian packages: not a Debian system, skipped (install them yourself: "
            + " ".join(DEBIAN_PACKAGES)
            + ")"
        )
        return
    missing += python_packages_needed()
    if packages and not shutil.which("npm"):
        missing += ["nodejs", "npm"]
    if not missing:
        what = f"all {len(packages)} present" if packages else "none needed (Odoo-free part)"
        say(f"1/4 Debian packages: {what} ({elapsed(started)})")
        return
    update = privileged(["apt-get", "update", "-q"])
    apt_install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    install = privileged(apt_install)
    if not install:
        raise SetupError(
            "Debian packages",
            f"missing: {' '.join(missing)}; this user is not root and has no password-less "
            f"sudo. Run:\n    sudo apt-get update && sudo {shlex.join(apt_install)}\n"
            "then run make again.",
        )
    say(f"1/4 Debian packages: installing {len(missing)}: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (update, install):
        say(f"    {shlex.join(cmd)}")
        if subprocess.run(cmd, env=env, check=False).returncode:
            raise SetupError(
                "Debian packages",
                f"`{shlex.join(cmd)}` failed (see its output above); fix it and run make again.",
            )
    still = missing_debian_packages(missing)
    if still:
        raise SetupError("Debian packages", f"still missing after apt-get: {' '.join(still)}")
    say(f"1/4 Debian packages: installed in {elapsed(started)}")


# === 2. ODOO SOURCE === #


def archive_source():
    """Return ``(archive path, expected sha256 or None, origin)`` or None."""
    if os.environ.get("ODOO_ARCHIVE"):
        archive = Path(os.environ["ODOO_ARCHIVE"]).expanduser().resolve()
        if not archive.is_file():
            raise SetupError("Odoo source", f"ODOO_ARCHIVE={archive} is not a file")
        origin = "ODOO_ARCHIVE"
    elif (SHARED_ODOO / PINNED_ARCHIVE).is_file():
        archive = SHARED_ODOO / PINNED_ARCHIVE
        origin = "the pinned archive"
    else:
        return None
    checksum = archive.with_name(archive.name + ".sha256")
    expected = None
    if checksum.is_file():
        expected = checksum.read_text(encoding="utf-8").split()[0].lower()
    elif origin == "the pinned archive":
        raise SetupError("Odoo source", f"{checksum} is missing: cannot check {archive}")
    return archive, expected, origin


def archive_key(archive, expected):
    """What the tree is made from: the checksum, else the archive's path, size and time."""
    if expected:
        return f"sha256:{expected}"
    stat = archive.stat()
    return f"file:{archive}:{stat.st_size}:{int(stat.st_mtime)}"


def unpack(archive, expected, partial):
    if expected:
        say(f"    checking {archive.name} against its .sha256")
        actual = sha256_file(archive)
        if actual != expected:
            raise SetupError(
                "Odoo source",
                f"{archive} has sha256 {actual}, its .sha256 file says {expected}: "
                "the archive is damaged or not the pinned one.",
            )
    say(f"    unpacking {archive} (about 10 s)")
    partial.mkdir()
    code = subprocess.run(["tar", "-xf", str(archive), "-C", str(partial)], check=False)
    if code.returncode:
        raise SetupError("Odoo source", f"tar could not unpack {archive}")
    tops = [path for path in partial.iterdir()]
    tree = tops[0] if len(tops) == 1 and tops[0].is_dir() else partial
    if not (tree / "odoo-bin").is_file():
        raise SetupError("Odoo source", f"{archive} holds no odoo-bin at its top")
    return tree


def clone(partial):
    say(f"    git clone --depth 1 --branch 18.0 {ODOO_GIT} (a few minutes)")
    code = subprocess.run(
        ["git", "clone", "--depth", "1", "--branch", "18.0", ODOO_GIT, str(partial)],
        check=False,
    ).returncode
    if code or not (partial / "odoo-bin").is_file():
        raise SetupError(
            "Odoo source",
            "no Odoo 18.0 found and the clone failed. Give one of: ODOO_PATH=<folder holding "
            "odoo-bin>, ODOO_ARCHIVE=<odoo-18.0 source archive>, or network access to "
            f"{ODOO_GIT}.",
        )
    head = subprocess.run(
        ["git", "-C", str(partial), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return partial, f"git:{ODOO_GIT}@{head}"


def step_odoo():
    """Return the Odoo tree to use (``ODOO_PATH`` or ``.odoo/``)."""
    started = time.monotonic()
    if os.environ.get("ODOO_PATH"):
        tree = Path(os.environ["ODOO_PATH"]).expanduser().resolve()
        if not (tree / "odoo-bin").is_file():
            raise SetupError("Odoo source", f"ODOO_PATH={tree} holds no odoo-bin")
        say(f"2/4 Odoo source: ODOO_PATH={tree}, used as it is")
        return tree
    source = archive_source()
    stamp = read_stamp(ODOO_DIR)
    if stamp and (ODOO_DIR / "odoo-bin").is_file():
        wanted = archive_key(*source[:2]) if source else None
        if wanted is None or stamp.get("source") == wanted:
            say(f"2/4 Odoo source: .odoo/ up to date ({stamp['origin']}, {elapsed(started)})")
            return ODOO_DIR
        say(f"2/4 Odoo source: .odoo/ came from {stamp['source']}, {wanted} is wanted: redoing")
    elif ODOO_DIR.exists():
        say("2/4 Odoo source: .odoo/ is incomplete (no stamp): removing it")
    remove(ODOO_DIR)
    partial = ROOT / ".odoo.partial"
    remove(partial)
    try:
        if source:
            archive, expected, origin = source
            say(f"2/4 Odoo source: {origin} {archive.name} -> .odoo/")
            tree = unpack(archive, expected, partial)
            key = archive_key(archive, expected)
            origin = f"{origin} {archive.name}"
        else:
            say("2/4 Odoo source: no archive here, cloning Odoo's 18.0 branch -> .odoo/")
            tree, key = clone(partial)
            origin = "git clone"
        tree.replace(ODOO_DIR)
        write_stamp(ODOO_DIR, {"source": key, "origin": origin})
    finally:
        remove(partial)
    say(f"2/4 Odoo source: .odoo/ ready in {elapsed(started)}")
    return ODOO_DIR


# === 3. VIRTUAL ENVIRONMENT === #


def venv_python():
    return VENV / "bin" / "python"


def python_version(python):
    out = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() if out.returncode == 0 else None


def venv_key(odoo_free):
    """What the environment is made from: the locks, the base Python and its extent."""
    digest = hashlib.sha256()
    for path in (LOCK, BOOTSTRAP_LOCK):
        digest.update(path.read_bytes())
    return {
        "locks": digest.hexdigest(),
        "python": f"{os.path.realpath(sys.executable)} {python_version(sys.executable)}",
        "extent": "odoo-free" if odoo_free else "full",
    }


def run_step(step, cmd, **kwargs):
    say(f"    {shlex.join(str(part) for part in cmd)}")
    if subprocess.run(cmd, check=False, **kwargs).returncode:
        raise SetupError(step, f"`{shlex.join(str(part) for part in cmd)}` failed (see above)")


def step_venv(odoo_free):
    started = time.monotonic()
    wanted = venv_key(odoo_free)
    stamp = read_stamp(VENV)
    if stamp and venv_python().exists():
        same = stamp.get("locks") == wanted["locks"] and stamp.get("python") == wanted["python"]
        if same and (stamp.get("extent") == "full" or odoo_free):
            say(f"3/4 Python environment: .venv/ up to date ({elapsed(started)})")
            return venv_python()
        say("3/4 Python environment: the locks, the Python or the extent changed: redoing .venv/")
    elif VENV.exists():
        say("3/4 Python environment: .venv/ is incomplete (no stamp): removing it")
    # A venv's scripts name their own folder: it is built in place, and complete only once
    # the stamp is written (a failure below leaves none, so the next run starts over).
    remove(VENV)
    step = "Python environment"
    say(f"3/4 Python environment: making .venv/ with {sys.executable} ({wanted['python']})")
    run_step(step, [sys.executable, "-m", "venv", str(VENV)])
    python = venv_python()
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    run_step(step, [*pip, "install", "-q", "-r", str(BOOTSTRAP_LOCK)])
    uv = VENV / "bin" / "uv"
    if odoo_free:
        what = [f"-c{LOCK}", *ODOO_FREE_PACKAGES]
        say(f"    installing the Odoo-free tools ({', '.join(ODOO_FREE_PACKAGES)}), pinned")
    else:
        what = ["-r", str(LOCK)]
        say(
            f"    installing the pinned packages of tools/{LOCK.name} (Odoo's, the addon's, the "
            "tests'): about 20 s with uv, 1-4 min with pip"
        )
    if uv.exists():
        run_step(step, [str(uv), "pip", "install", "--python", str(python), *what])
    else:
        say("    uv is not available: installing with pip (slower)")
        run_step(step, [*pip, "install", "--progress-bar", "off", *what])
    write_stamp(VENV, wanted)
    say(f"3/4 Python environment: .venv/ ready in {elapsed(started)}")
    return python


# === 4. AXE-CORE === #


def step_axe():
    """Install the pinned axe-core with ``npm ci`` (integrity checked against the lock)."""
    started = time.monotonic()
    wanted = {"lock": sha256_file(A11Y_LOCK)}
    modules = A11Y / "node_modules"
    if read_stamp(modules) == wanted and AXE_SCRIPT.is_file():
        say(f"4/4 axe-core: tools/a11y/node_modules/ up to date ({elapsed(started)})")
        return
    npm = shutil.which("npm")
    if not npm:
        raise SetupError(
            "axe-core",
            "npm is not installed (Debian: apt-get install nodejs npm); it installs the pinned "
            "axe-core of tools/a11y/package-lock.json for the accessibility tests.",
        )
    say("4/4 axe-core: npm ci in tools/a11y/ (pinned in package-lock.json)")
    remove(modules)
    run_step(
        "axe-core",
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", str(A11Y)],
    )
    if not AXE_SCRIPT.is_file():
        raise SetupError("axe-core", f"npm ci did not install {AXE_SCRIPT.relative_to(ROOT)}")
    write_stamp(modules, wanted)
    say(f"4/4 axe-core: ready in {elapsed(started)}")


# === MAIN === #


def link_odoo(venv, tree):
    """Make the environment's Python import ``odoo`` from ``tree`` (a ``.pth`` file), so that
    ``.venv/bin/python`` runs Odoo, its shell and its tests without further set-up."""
    for site_packages in (venv / "lib").glob("python*/site-packages"):
        pth = site_packages / "payment_request_odoo.pth"
        wanted = f"{tree}\n"
        if not pth.exists() or pth.read_text(encoding="utf-8") != wanted:
            pth.write_text(wanted, encoding="utf-8")


def own_python():
    """``$PYTHON`` when the user names an interpreter of their own, else None."""
    value = os.environ.get("PYTHON", "").strip()
    return shutil.which(value) or value if value else None


def imported_odoo(python):
    """Return the Odoo tree that ``python`` imports (its folder holding odoo-bin), or None."""
    probe = subprocess.run(
        [python, "-c", "import odoo; print(odoo.__path__[0])"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode:
        return None
    tree = Path(probe.stdout.strip()).resolve().parent
    return tree if (tree / "odoo-bin").is_file() else None


@contextlib.contextmanager
def setup_lock():
    """Wait for any other set-up of this checkout to finish, then hold the lock."""
    with SETUP_LOCK.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("Another set-up of this checkout is running: waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def setup(odoo_free):
    """Run the steps, one set-up of the checkout at a time; return ``(python, odoo or None)``."""
    with setup_lock():
        return _setup(odoo_free)


def _setup(odoo_free):
    started = time.monotonic()
    step_debian(odoo_free)
    odoo = None
    python = own_python()
    if not odoo_free:
        odoo = imported_odoo(python) if python and not os.environ.get("ODOO_PATH") else None
        if odoo:
            say(f"2/4 Odoo source: the one PYTHON imports ({odoo}), used as it is")
        else:
            odoo = step_odoo()
    if python:
        say(f"3/4 Python environment: PYTHON={python}, used as it is")
    else:
        python = step_venv(odoo_free)
        if odoo:
            link_odoo(VENV, odoo)
    if not odoo_free:
        step_axe()
    say(f"Set-up done in {elapsed(started)}")
    return python, odoo


def parse_args(argv):
    """Parse the options; everything after the first ``--`` (its own ``--`` too) is the command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--odoo-free", action="store_true", help="set up the Odoo-free part only")
    parser.add_argument("--setup-only", action="store_true", help="set up, run nothing")
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.command = argv[split + 1 :]
    return args


def main(argv):
    args = parse_args(argv)
    disabled = os.environ.get("ODOO_DISABLE", "") not in ("", "0")
    odoo_free = args.odoo_free or disabled
    if disabled and not args.odoo_free:
        say("ODOO_DISABLE is set: setting up the Odoo-free part only")
    try:
        python, odoo = setup(odoo_free)
    except SetupError as error:
        print(f"\n==> Set-up FAILED at step '{error.step}': {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\n==> Set-up interrupted: the next run redoes the unfinished step", file=sys.stderr)
        return 130
    if args.setup_only or not args.command:
        return 0
    env = dict(os.environ)
    if odoo:
        env["ODOO_PATH"] = str(odoo)
    cmd = [str(python), *args.command]
    sys.stdout.flush()
    os.execve(str(python), cmd, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
