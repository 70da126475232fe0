# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""pytest plugin: a browser test skipped for want of a browser is a failure, not a skip.

Odoo 18's HttpCase skips a tour (``unittest.SkipTest``) when Chrome is missing ("Chrome
executable not found", "/usr/bin/chromium not found"), when websocket-client is not installed,
or when the DevTools connection fails ("Failed to detect chrome devtools port", "Error during
Chrome headless connection"...). The harness must not count such a run as green: load this
plugin with ``-p pytest_tour_guard`` (``tools/`` on ``PYTHONPATH``).

It also quietens one false alarm of pytest-odoo runs: pytest imports the test modules (hence
``odoo.tests``) before pytest-odoo turns Odoo's test mode on, and Odoo logs that import as an
ERROR with a stack trace.
"""

import logging
import re

import pytest

BROWSER_SKIP = re.compile(r"chrom|browser|websocket|devtools", re.IGNORECASE)


def skip_reason(report):
    """Return the reason of a skipped report ("" when it has none)."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or "")


def is_browser_skip(reason):
    """Tell whether a skip reason says that the browser could not be used."""
    return bool(BROWSER_SKIP.search(reason or ""))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = skip_reason(report)
        if is_browser_skip(reason):
            report.outcome = "failed"
            report.longrepr = (
                f"Browser test could not run, counted as a failure (tools/pytest_tour_guard.py)"
                f": {reason}\nInstall Chromium (Debian: apt-get install chromium) and "
                f"websocket-client, and check that headless Chromium starts."
            )


def _not_the_import_alarm(record):
    return not str(record.msg).startswith("Importing test framework")


logging.getLogger("odoo.tests.common").addFilter(_not_the_import_alarm)
