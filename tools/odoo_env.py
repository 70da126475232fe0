# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Where Odoo 18 and PostgreSQL are, for ``tools/run_tests.py`` and ``tools/run_odoo.py``.

Nothing here imports Odoo: it is looked for in a child process, so that the harness runs (and
says why the Odoo suite did not) on a machine without it.

- :func:`find_odoo`: the Odoo 18.0 source folder (the one holding ``odoo-bin``), from
  ``$ODOO_PATH``, ``import odoo`` or a ``.odoo/`` clone in the repository.
- :func:`ensure_postgres`: a PostgreSQL server that answers, with a superuser role for the
  current user; Debian's cluster is started when it is down, else a cluster of the project's
  own is made with ``initdb`` under ``.test-results/pgdata``.
- :func:`addons_link`: a folder outside the repository holding ``payment_request`` -> the
  repository, so that the addon is ``odoo.addons.payment_request`` whatever the checkout's name.
- :func:`write_config`: an Odoo configuration file naming all of the above.
"""

import glob
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / ".test-results"
ADDON = "payment_request"
CLONE = ROOT / ".odoo"
CLUSTER_COLUMNS = ("version", "name", "port", "status", "owner")


def say(message):
    """Print one progress line of the harness."""
    print(f"==> {message}", flush=True)


# === ODOO === #


def odoo_probe(python_path=None):
    """Import odoo in a child Python; return ``(folder, version)`` or ``(None, error)``."""
    env = dict(os.environ)
    if python_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [python_path, env.get("PYTHONPATH")]))
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import odoo, odoo.release as r; print(odoo.__file__); print(r.version)",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if probe.returncode:
        lines = probe.stderr.strip().splitlines() or ["no output"]
        return None, lines[-1]
    module_file, version = probe.stdout.split("\n")[:2]
    return Path(module_file).resolve().parent.parent, version.strip()


def find_odoo():
    """Return ``(odoo_dir, reason)``: the Odoo 18.0 folder holding ``odoo-bin``, or None and why.

    Looked for in this order: ``$ODOO_DISABLE`` (set: behave as if Odoo were absent),
    ``$ODOO_PATH``, ``import odoo`` in this Python, ``.odoo/`` (the clone ``make run`` makes).
    """
    if os.environ.get("ODOO_DISABLE", "") not in ("", "0"):
        return None, "ODOO_DISABLE is set"
    candidates = []
    if os.environ.get("ODOO_PATH"):
        candidates.append(("ODOO_PATH", Path(os.environ["ODOO_PATH"]).resolve()))
    candidates.append(("import odoo", None))
    if (CLONE / "odoo-bin").is_file():
        candidates.append((".odoo", CLONE))
    reasons = []
    for origin, folder in candidates:
        if folder is not None and not (folder / "odoo-bin").is_file():
            reasons.append(f"{origin}: {folder} holds no odoo-bin")
            continue
        found, version = odoo_probe(str(folder) if folder else None)
        if not found:
            reasons.append(f"{origin}: Python cannot import odoo ({version})")
            continue
        if not version.startswith("18."):
            reasons.append(f"{origin}: Odoo {version} found at {found}, 18.0 is needed")
            continue
        if not (found / "odoo-bin").is_file():
            reasons.append(f"{origin}: {found} holds no odoo-bin")
            continue
        return found, None
    return None, "; ".join(reasons)


def core_addons_path(odoo_dir):
    """Return the core addons folders of an Odoo source tree."""
    return [odoo_dir / "addons", odoo_dir / "odoo" / "addons"]


def odoo_env(odoo_dir, pg, extra_python_path=()):
    """Return the environment for a child that imports odoo (and runs pytest-odoo)."""
    env = dict(os.environ, **pg.env)
    python_path = [str(path) for path in extra_python_path] + [str(odoo_dir)]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [*python_path, env.get("PYTHONPATH")]))
    return env


# === THE ADDON === #


def addons_link(addon_dir=ROOT):
    """Return a folder outside the repository holding ``payment_request`` -> ``addon_dir``.

    Odoo and pytest-odoo name an addon after its folder, and the checkout may have any name
    (``main``, a CI clone...): the link gives it the right one.
    """
    addon_dir = Path(addon_dir).resolve()
    digest = hashlib.sha1(str(addon_dir).encode()).hexdigest()[:8]
    folder = Path(tempfile.gettempdir()) / f"{ADDON}-addons-{digest}"
    folder.mkdir(exist_ok=True)
    link = folder / ADDON
    if not (link.is_symlink() and link.resolve() == addon_dir):
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.exists():
            shutil.rmtree(link)
        link.symlink_to(addon_dir, target_is_directory=True)
    return folder


def addons_path(odoo_dir, addon_dir=ROOT):
    """Return Odoo's ``--addons-path`` value: the addon's link first, then the core addons."""
    return ",".join(str(path) for path in [addons_link(addon_dir), *core_addons_path(odoo_dir)])


# === POSTGRESQL === #


@dataclass
class Postgres:
    """How to reach the PostgreSQL server: ``host`` (a socket folder) and ``port`` or defaults."""

    host: str = ""
    port: str = ""
    origin: str = "the default local server"
    env: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.host:
            self.env["PGHOST"] = self.host
        if self.port:
            self.env["PGPORT"] = str(self.port)

    def run(self, cmd, **kwargs):
        """Run a PostgreSQL client command against this server."""
        env = dict(os.environ, **self.env, **kwargs.pop("env", {}))
        return subprocess.run(cmd, env=env, check=False, **kwargs)

    def query(self, sql, database="postgres"):
        """Return ``(returncode, stdout, stderr)`` of one psql query."""
        result = self.run(
            [pg_bin("psql") or "psql", "-X", "-d", database, "-tAc", sql],
            capture_output=True,
            text=True,
        )
        return result.returncode, result.stdout.strip(), result.stderr.strip()

    def database_exists(self, database):
        code, out, _err = self.query(f"SELECT 1 FROM pg_database WHERE datname = '{database}'")
        return code == 0 and out == "1"

    def module_states(self, database, modules):
        """Return ``{module: state}`` read from a database's ``ir_module_module``."""
        names = ",".join(f"'{name}'" for name in modules)
        code, out, _err = self.query(
            f"SELECT name, state FROM ir_module_module WHERE name IN ({names})", database
        )
        if code:
            return {}
        return dict(line.split("|", 1) for line in out.splitlines() if "|" in line)

    def module_version(self, database, module):
        """Return the version of `module` installed in a database, or None."""
        code, out, _err = self.query(
            f"SELECT latest_version FROM ir_module_module WHERE name = '{module}' "
            "AND state = 'installed'",
            database,
        )
        return out or None if code == 0 else None


def current_user():
    return pwd.getpwuid(os.geteuid()).pw_name


def pg_bin(name):
    """Return the path of a PostgreSQL program: on PATH or in Debian's versioned folders."""
    found = shutil.which(name)
    if found:
        return found
    versioned = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return versioned[0] if versioned else None


def as_cluster_owner(cmd, owner):
    """Prefix ``cmd`` so that it runs as ``owner`` (PostgreSQL's programs refuse root)."""
    if owner == current_user():
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", owner, "--", *cmd]
    return ["su", owner, "-s", "/bin/sh", "-c", " ".join(f"'{part}'" for part in cmd)]


def _wait_for_server(pg, owner=None, seconds=30):
    """Wait until the server answers; create the current user's superuser role if missing.

    Return None when it answers, else the reason.
    """
    deadline = time.monotonic() + seconds
    role_tried = False
    while True:
        code, _out, err = pg.query("SELECT 1")
        if code == 0:
            return None
        if "does not exist" in err and "role" in err and not role_tried:
            role_tried = True
            owner = owner or "postgres"
            if os.geteuid() == 0 and owner != current_user():
                say(f"Creating the PostgreSQL superuser role {current_user()!r}")
                createuser = pg_bin("createuser") or "createuser"
                pg.run(as_cluster_owner([createuser, "-s", current_user()], owner))
                continue
            return (
                f"PostgreSQL has no role {current_user()!r}: run "
                f"`sudo -u postgres createuser -s {current_user()}`"
            )
        if time.monotonic() > deadline:
            return f"PostgreSQL ({pg.origin}) does not answer: {err or 'no answer'}"
        time.sleep(1)


def _debian_clusters():
    """Return Debian's clusters as dicts (version, name, port, status, owner), or []."""
    if not shutil.which("pg_lsclusters"):
        return []
    out = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
    ).stdout
    clusters = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 5:
            clusters.append(dict(zip(CLUSTER_COLUMNS, parts[:5], strict=True)))
    return clusters


def _debian_cluster():
    """Start Debian's first cluster (the one on 5432 preferably); return a Postgres or None."""
    clusters = sorted(_debian_clusters(), key=lambda c: (c["port"] != "5432", c["version"]))
    for cluster in clusters:
        label = f"Debian cluster {cluster['version']}/{cluster['name']}"
        if not cluster["status"].startswith("online"):
            say(f"Starting the {label}")
            subprocess.run(
                ["pg_ctlcluster", cluster["version"], cluster["name"], "start"], check=False
            )
        pg = Postgres(port="" if cluster["port"] == "5432" else cluster["port"], origin=label)
        if not _wait_for_server(pg, owner=cluster["owner"], seconds=20):
            return pg
    return None


def _own_cluster():
    """Make (once) and start a cluster of the project's own; return ``(Postgres, reason)``.

    Its data live in ``.test-results/pgdata``; it listens on a Unix socket only, in a short
    folder of the temporary directory (socket paths are limited to ~100 characters).
    """
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        return None, "no PostgreSQL server here (Debian: apt-get install postgresql)"
    owner = current_user()
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return None, "initdb refuses root and there is no postgres user to run it"
        owner = "postgres"
    data = RESULTS / "pgdata"
    digest = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
    sockets = Path(tempfile.gettempdir()) / f"{ADDON}-pg-{digest}"
    for folder in (RESULTS, data, sockets):
        folder.mkdir(parents=True, exist_ok=True)
    if owner != current_user():
        for folder in (data, sockets):
            shutil.chown(folder, owner)
        data.chmod(0o700)
    pg = Postgres(host=str(sockets), port="5432", origin=f"own cluster in {data}")
    if not (data / "PG_VERSION").exists():
        say(f"Making a PostgreSQL cluster of the project's own in {data}")
        code = subprocess.run(
            as_cluster_owner([initdb, "-D", str(data), "-A", "trust", "-U", owner], owner),
            capture_output=True,
            text=True,
            check=False,
        ).returncode
        if code:
            return None, f"initdb failed in {data}"
    if pg.query("SELECT 1")[0] != 0:
        say(f"Starting the PostgreSQL cluster in {data}")
        options = f"-c listen_addresses='' -k {sockets} -p {pg.port}"
        log = RESULTS / "postgresql.log"
        log.touch()
        if owner != current_user():
            shutil.chown(log, owner)
        subprocess.run(
            as_cluster_owner(
                [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start"], owner
            ),
            check=False,
        )
    reason = _wait_for_server(pg, owner=owner)
    return (None, reason) if reason else (pg, None)


def ensure_postgres():
    """Return ``(Postgres, None)`` for a server that answers, or ``(None, reason)``.

    A server already answering on the default socket is used as it is; else Debian's cluster
    is started; else a cluster of the project's own is made with initdb (also when
    ``$PAYMENT_REQUEST_OWN_PG`` is set). The current user gets a superuser role when it has
    none (when run as root).
    """
    if not pg_bin("psql"):
        return None, "PostgreSQL's psql is not installed (Debian: apt-get install postgresql)"
    if os.environ.get("PAYMENT_REQUEST_OWN_PG", "") not in ("", "0"):
        return _own_cluster()
    default = Postgres()
    if default.query("SELECT 1")[0] == 0:
        return default, None
    pg = _debian_cluster()
    if pg:
        return pg, None
    if not _debian_clusters() or not shutil.which("pg_ctlcluster"):
        return _own_cluster()
    return None, _wait_for_server(default, seconds=1) or "PostgreSQL does not answer"


# === ODOO CONFIGURATION === #


def write_config(path, odoo_dir, pg, addon_dir=ROOT, **options):
    """Write an Odoo configuration file; return its path."""
    values = {"addons_path": addons_path(odoo_dir, addon_dir), **options}
    if pg.host:
        values["db_host"] = pg.host
    if pg.port:
        values["db_port"] = pg.port
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{key} = {value}\n" for key, value in values.items())
    path.write_text("[options]\n" + body, encoding="utf-8")
    return path


def odoo_command(odoo_dir, config, database, *args):
    """Return the command running odoo-bin with a configuration file and a database."""
    return [sys.executable, str(odoo_dir / "odoo-bin"), "-c", str(config), "-d", database, *args]
