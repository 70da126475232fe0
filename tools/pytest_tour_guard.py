# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""pytest plugin: a browser test skipped for want of a browser is a failure, not a skip.

Odoo skips tours silently when Chrome, its DevTools connection or websocket-client is
missing; the harness must not count such a run as green.
"""

import pytest

BROWSER_SKIP_MARKERS = ("chrome", "browser", "websocket", "devtools")


def is_browser_skip(reason):
    return any(marker in (reason or "").lower() for marker in BROWSER_SKIP_MARKERS)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2]
        if is_browser_skip(reason):
            report.outcome = "failed"
            report.longrepr = f"Browser test could not run (counted as a failure): {reason}"
