# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The set-up of ``make test`` / ``make run`` (tools/bootstrap.py), on throw-away folders."""

import hashlib
import re
import subprocess
import tarfile
import threading
from pathlib import Path

import bootstrap
import pytest

TOOLS = Path(bootstrap.__file__).resolve().parent


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A fake checkout with ``../shared/odoo/`` beside it; bootstrap's paths point into it."""
    root = tmp_path / "main"
    root.mkdir()
    shared = tmp_path / "shared" / "odoo"
    shared.mkdir(parents=True)
    monkeypatch.setattr(bootstrap, "ROOT", root)
    monkeypatch.setattr(bootstrap, "ODOO_DIR", root / ".odoo")
    monkeypatch.setattr(bootstrap, "VENV", root / ".venv")
    monkeypatch.setattr(bootstrap, "SETUP_LOCK", root / ".setup.lock")
    monkeypatch.setattr(bootstrap, "SHARED_ODOO", shared)
    for name in ("ODOO_PATH", "ODOO_ARCHIVE", "PYTHON", "ODOO_DISABLE"):
        monkeypatch.delenv(name, raising=False)
    return root


def make_archive(folder, content="v1", checksum=True, name=bootstrap.PINNED_ARCHIVE):
    """An archive holding ``odoo-18.0/odoo-bin`` (and its ``.sha256`` file)."""
    source = folder / "src" / "odoo-18.0"
    source.mkdir(parents=True, exist_ok=True)
    (source / "odoo-bin").write_text(f"#!/usr/bin/env python3\n# {content}\n")
    archive = folder / name
    with tarfile.open(archive, "w:xz") as tar:
        tar.add(source, arcname="odoo-18.0")
    if checksum:
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        archive.with_name(name + ".sha256").write_text(f"{digest}  {name}\n")
    return archive


def count_tar_runs(monkeypatch):
    calls = []
    real_run = subprocess.run

    def run(cmd, *args, **kwargs):
        if cmd[0] == "tar":
            calls.append(cmd)
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(bootstrap.subprocess, "run", run)
    return calls


# === ONE SET-UP AT A TIME === #


def test_a_second_set_up_waits_for_the_first(checkout, monkeypatch):
    """make test and make bench started together must not unpack Odoo into the same folder."""
    events = []
    first_inside = threading.Event()
    release_first = threading.Event()

    def fake_setup(odoo_free):
        events.append(("start", threading.current_thread().name))
        if threading.current_thread().name == "first":
            first_inside.set()
            release_first.wait(5)
        events.append(("end", threading.current_thread().name))
        return None, None

    monkeypatch.setattr(bootstrap, "_setup", fake_setup)
    first = threading.Thread(target=bootstrap.setup, args=(False,), name="first")
    first.start()
    assert first_inside.wait(5)
    # flock locks belong to open file descriptions: the second thread opens its own, as a
    # second make process would, and must wait.
    second = threading.Thread(target=bootstrap.setup, args=(False,), name="second")
    second.start()
    second.join(0.5)
    assert second.is_alive(), "the second set-up did not wait"
    release_first.set()
    first.join(5)
    second.join(5)
    assert events == [
        ("start", "first"),
        ("end", "first"),
        ("start", "second"),
        ("end", "second"),
    ]


# === ODOO SOURCE === #


def test_pinned_archive_is_checked_unpacked_and_stamped(checkout):
    make_archive(bootstrap.SHARED_ODOO)
    tree = bootstrap.step_odoo()
    assert tree == checkout / ".odoo"
    assert (tree / "odoo-bin").read_text().endswith("# v1\n")
    stamp = bootstrap.read_stamp(tree)
    assert stamp["source"].startswith("sha256:")
    assert not (checkout / ".odoo.partial").exists()


def test_second_run_skips_the_unpacking(checkout, monkeypatch):
    make_archive(bootstrap.SHARED_ODOO)
    bootstrap.step_odoo()
    tar_runs = count_tar_runs(monkeypatch)
    assert bootstrap.step_odoo() == checkout / ".odoo"
    assert tar_runs == []


def test_a_new_pinned_archive_replaces_the_tree(checkout):
    make_archive(bootstrap.SHARED_ODOO, content="v1")
    bootstrap.step_odoo()
    make_archive(bootstrap.SHARED_ODOO, content="v2")
    tree = bootstrap.step_odoo()
    assert (tree / "odoo-bin").read_text().endswith("# v2\n")


def test_damaged_archive_is_refused_and_leaves_nothing(checkout):
    archive = make_archive(bootstrap.SHARED_ODOO)
    archive.with_name(archive.name + ".sha256").write_text("0" * 64 + "  x\n")
    with pytest.raises(bootstrap.SetupError, match="sha256"):
        bootstrap.step_odoo()
    assert not (checkout / ".odoo").exists()
    assert not (checkout / ".odoo.partial").exists()


def test_pinned_archive_without_its_checksum_is_refused(checkout):
    make_archive(bootstrap.SHARED_ODOO, checksum=False)
    with pytest.raises(bootstrap.SetupError, match=r"\.sha256 is missing"):
        bootstrap.step_odoo()


def test_half_made_tree_is_not_taken_for_complete(checkout):
    make_archive(bootstrap.SHARED_ODOO)
    half = checkout / ".odoo"
    (half / "odoo").mkdir(parents=True)
    (half / "odoo-bin").write_text("half\n")  # no stamp: an interrupted earlier run
    tree = bootstrap.step_odoo()
    assert (tree / "odoo-bin").read_text().endswith("# v1\n")
    assert not (tree / "odoo").exists()


def test_odoo_archive_comes_before_the_pinned_one(checkout, monkeypatch, tmp_path):
    make_archive(bootstrap.SHARED_ODOO, content="pinned")
    mine = make_archive(tmp_path, content="mine", checksum=False, name="my-odoo.tar.gz")
    monkeypatch.setenv("ODOO_ARCHIVE", str(mine))
    tree = bootstrap.step_odoo()
    assert (tree / "odoo-bin").read_text().endswith("# mine\n")
    assert bootstrap.read_stamp(tree)["source"].startswith("file:")


def test_odoo_path_is_used_as_it_is(checkout, monkeypatch, tmp_path):
    mine = tmp_path / "my-odoo"
    mine.mkdir()
    (mine / "odoo-bin").write_text("")
    monkeypatch.setenv("ODOO_PATH", str(mine))
    assert bootstrap.step_odoo() == mine
    assert not (checkout / ".odoo").exists()


def test_odoo_path_without_odoo_bin_is_an_error(checkout, monkeypatch, tmp_path):
    monkeypatch.setenv("ODOO_PATH", str(tmp_path))
    with pytest.raises(bootstrap.SetupError, match="holds no odoo-bin"):
        bootstrap.step_odoo()


def test_no_archive_and_a_failed_clone_says_what_to_do(checkout, monkeypatch):
    def failing_clone(cmd, *args, **kwargs):
        assert cmd[:2] == ["git", "clone"]
        return subprocess.CompletedProcess(cmd, 128)

    monkeypatch.setattr(bootstrap.subprocess, "run", failing_clone)
    with pytest.raises(bootstrap.SetupError, match="ODOO_PATH=.*ODOO_ARCHIVE="):
        bootstrap.step_odoo()
    assert not (checkout / ".odoo").exists()
    assert not (checkout / ".odoo.partial").exists()


# === VIRTUAL ENVIRONMENT === #


def fake_venv(extent):
    (bootstrap.VENV / "bin").mkdir(parents=True)
    (bootstrap.VENV / "bin" / "python").write_text("")
    bootstrap.write_stamp(bootstrap.VENV, bootstrap.venv_key(extent == "odoo-free"))


def refuse_commands(monkeypatch):
    def run_step(step, cmd, **kwargs):
        raise bootstrap.SetupError(step, f"ran {cmd}")

    monkeypatch.setattr(bootstrap, "run_step", run_step)


def test_complete_venv_is_reused(checkout, monkeypatch):
    fake_venv("full")
    refuse_commands(monkeypatch)
    assert bootstrap.step_venv(odoo_free=False) == bootstrap.VENV / "bin" / "python"
    assert bootstrap.step_venv(odoo_free=True) == bootstrap.VENV / "bin" / "python"


def test_odoo_free_venv_is_not_enough_for_the_odoo_suite(checkout, monkeypatch):
    fake_venv("odoo-free")
    refuse_commands(monkeypatch)
    assert bootstrap.step_venv(odoo_free=True)
    with pytest.raises(bootstrap.SetupError):
        bootstrap.step_venv(odoo_free=False)


def test_changed_lock_redoes_the_venv(checkout, monkeypatch):
    fake_venv("full")
    stamp = bootstrap.read_stamp(bootstrap.VENV)
    bootstrap.write_stamp(bootstrap.VENV, {**stamp, "locks": "an older lock"})
    refuse_commands(monkeypatch)
    with pytest.raises(bootstrap.SetupError):
        bootstrap.step_venv(odoo_free=False)


def test_failed_install_leaves_no_stamp(checkout, monkeypatch):
    calls = []

    def run_step(step, cmd, **kwargs):
        calls.append(cmd)
        if len(calls) == 1:  # python -m venv: make what a venv has
            (bootstrap.VENV / "bin").mkdir(parents=True)
            (bootstrap.VENV / "bin" / "python").write_text("")
            return
        raise bootstrap.SetupError(step, "pip failed")

    monkeypatch.setattr(bootstrap, "run_step", run_step)
    with pytest.raises(bootstrap.SetupError):
        bootstrap.step_venv(odoo_free=False)
    assert bootstrap.read_stamp(bootstrap.VENV) is None
    # The next run starts over instead of trusting the half-made folder.
    calls.clear()
    with pytest.raises(bootstrap.SetupError):
        bootstrap.step_venv(odoo_free=False)
    assert calls[0][1:3] == ["-m", "venv"]


# === DEBIAN PACKAGES, OPTIONS === #


def test_without_root_nor_sudo_the_command_to_run_is_given(monkeypatch):
    monkeypatch.setattr(bootstrap, "missing_debian_packages", lambda packages=(): ["chromium"])
    monkeypatch.setattr(bootstrap, "python_packages_needed", lambda: [])
    monkeypatch.setattr(bootstrap.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(bootstrap.shutil, "which", lambda name: None)
    with pytest.raises(bootstrap.SetupError) as raised:
        bootstrap.step_debian(odoo_free=False)
    assert "sudo apt-get install -y -q --no-install-recommends chromium" in str(raised.value)


def test_odoo_free_set_up_needs_no_debian_package(monkeypatch):
    seen = []
    monkeypatch.setattr(
        bootstrap, "missing_debian_packages", lambda packages=(): seen.append(packages) or []
    )
    monkeypatch.setattr(bootstrap, "python_packages_needed", lambda: [])
    bootstrap.step_debian(odoo_free=True)
    assert seen == [()]


def test_command_after_double_dash_keeps_its_own_double_dash():
    args = bootstrap.parse_args(["--odoo-free", "--", "tools/run_tests.py", "--", "-k", "x"])
    assert args.odoo_free and not args.setup_only
    assert args.command == ["tools/run_tests.py", "--", "-k", "x"]


# === THE LOCK === #


def lock_lines():
    text = (TOOLS / "requirements.txt").read_text(encoding="utf-8")
    return [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]


def test_lock_pins_every_package():
    for line in lock_lines():
        assert re.match(r"^[A-Za-z0-9._-]+==[^ ;]+( ;.*)?$", line), line


def test_lock_holds_the_addon_and_test_requirements():
    names = {re.split(r"[=; ]", line)[0].lower() for line in lock_lines()}
    wanted = {
        re.split(r"[=<>!~;\[ ]", line.strip())[0].lower()
        for line in (TOOLS / "requirements.in").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith(("#", "-"))
    }
    assert wanted <= names
    # Odoo's own, and the overrides that make them install on Python 3.11
    assert {"psycopg2", "werkzeug", "lxml", "gevent", "reportlab"} <= names
    assert "cbor2==5.4.2" not in lock_lines()
    ldap = [line for line in lock_lines() if line.startswith("python-ldap")]
    assert all("sys_platform == 'never'" in line for line in ldap)


def test_venv_imports_odoo_from_the_tree(checkout, tmp_path):
    site_packages = bootstrap.VENV / "lib" / "python3.11" / "site-packages"
    site_packages.mkdir(parents=True)
    tree = tmp_path / "odoo-tree"
    bootstrap.link_odoo(bootstrap.VENV, tree)
    bootstrap.link_odoo(bootstrap.VENV, tree)  # idempotent
    pth = list(site_packages.glob("*.pth"))
    assert len(pth) == 1 and pth[0].read_text() == f"{tree}\n"
