# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The test harness itself: tour guard plugin, result counting, Odoo and addon discovery."""

import textwrap

import odoo_env
import pytest
import pytest_tour_guard
import run_tests

# === TOUR GUARD === #

BROWSER_REASONS = [
    "Chrome executable not found",
    "/usr/bin/chromium not found",
    "websocket-client module is not installed",
    "Failed to detect chrome devtools port after 10.0s.",
    "Error during Chrome headless connection",
    "Cannot connect to chrome dev tools",
]


@pytest.mark.parametrize("reason", BROWSER_REASONS)
def test_browser_skip_reasons_are_recognised(reason):
    assert pytest_tour_guard.is_browser_skip(reason)


@pytest.mark.parametrize(
    "reason", ["HttpCase skipped because --odoo-http is not set", "Stripe key missing", ""]
)
def test_other_skip_reasons_are_not(reason):
    assert not pytest_tour_guard.is_browser_skip(reason)


def run_guarded(pytester, source):
    pytester.makepyfile(test_tours=textwrap.dedent(source))
    return pytester.runpytest("-p", "no:odoo", "-p", "pytest_tour_guard")


def test_tour_skipped_for_want_of_chrome_fails(pytester):
    result = run_guarded(
        pytester,
        """
        import unittest

        class TestTour(unittest.TestCase):
            def test_tour(self):
                raise unittest.SkipTest("Chrome executable not found")

            def test_unrelated_skip(self):
                self.skipTest("needs a Stripe key")

            def test_plain(self):
                pass
        """,
    )
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*Browser test could not run*Chrome executable not found*"])


def test_browser_skip_in_set_up_class_fails(pytester):
    result = run_guarded(
        pytester,
        """
        import unittest

        class TestTour(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                raise unittest.SkipTest("websocket-client module is not installed")

            def test_tour(self):
                pass
        """,
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("skipped", 0) == 0
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) + outcomes.get("error", 0) == 1


def test_pytest_skip_of_a_browser_fails(pytester):
    result = run_guarded(
        pytester,
        """
        import pytest

        def test_tour():
            pytest.skip("Failed to detect chrome devtools port after 10.0s.")
        """,
    )
    result.assert_outcomes(failed=1)


# === COUNTING === #


def test_read_junit_counts_each_outcome(tmp_path):
    junit = tmp_path / "junit.xml"
    junit.write_text(
        """<?xml version="1.0" encoding="utf-8"?>
        <testsuites><testsuite name="pytest" tests="5">
          <testcase classname="a" name="ok"/>
          <testcase classname="a" name="ok2"/>
          <testcase classname="a" name="ko"><failure message="x"/></testcase>
          <testcase classname="a" name="broken"><error message="x"/></testcase>
          <testcase classname="a" name="later"><skipped message="x"/></testcase>
        </testsuite></testsuites>"""
    )
    assert run_tests.read_junit(junit) == {"passed": 2, "failed": 1, "errors": 1, "skipped": 1}
    assert run_tests.read_junit(tmp_path / "absent.xml") == dict.fromkeys(run_tests.KEYS, 0)


def test_count_odoo_tests_reads_test_methods(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("from . import test_a\n")
    (tmp_path / "tests" / "test_a.py").write_text(
        textwrap.dedent(
            """
            class TestA:
                def setUp(self):
                    pass

                def test_one(self):
                    pass

                def test_two(self):
                    pass

            def _helper():
                pass
            """
        )
    )
    (tmp_path / "tests" / "common.py").write_text("class Common:\n    def test_x(self): ...\n")
    assert run_tests.count_odoo_tests(tmp_path) == 3


def test_addon_tests_are_counted():
    assert run_tests.count_odoo_tests(odoo_env.ROOT) > 0


# === DISCOVERY === #


def test_odoo_disable_hides_odoo(monkeypatch):
    monkeypatch.setenv("ODOO_DISABLE", "1")
    assert odoo_env.find_odoo() == (None, "ODOO_DISABLE is set")


def test_odoo_path_without_odoo_bin_is_refused(monkeypatch, tmp_path):
    monkeypatch.delenv("ODOO_DISABLE", raising=False)
    monkeypatch.setenv("ODOO_PATH", str(tmp_path))
    monkeypatch.setattr(odoo_env, "odoo_probe", lambda python_path=None: (None, "no odoo"))
    monkeypatch.setattr(odoo_env, "CLONE", tmp_path / "no-clone")
    odoo_dir, reason = odoo_env.find_odoo()
    assert odoo_dir is None
    assert "holds no odoo-bin" in reason
    assert "cannot import odoo" in reason


def test_addons_link_names_the_addon(tmp_path):
    addon = tmp_path / "any-checkout-name"
    addon.mkdir()
    folder = odoo_env.addons_link(addon)
    link = folder / odoo_env.ADDON
    assert link.is_symlink()
    assert link.resolve() == addon.resolve()
    assert not folder.is_relative_to(addon)
    assert odoo_env.addons_link(addon) == folder  # idempotent


def test_config_names_addons_and_server(tmp_path):
    pg = odoo_env.Postgres(host="/tmp/sockets", port="5433")
    config = odoo_env.write_config(
        tmp_path / "odoo.conf", tmp_path / "odoo", pg, addon_dir=tmp_path, data_dir="/x"
    )
    text = config.read_text()
    assert text.startswith("[options]\n")
    assert f"addons_path = {odoo_env.addons_link(tmp_path)}," in text
    assert f"{tmp_path / 'odoo' / 'addons'},{tmp_path / 'odoo' / 'odoo' / 'addons'}" in text
    assert "db_host = /tmp/sockets\n" in text
    assert "db_port = 5433\n" in text
    assert pg.env == {"PGHOST": "/tmp/sockets", "PGPORT": "5433"}
