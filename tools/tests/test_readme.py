# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""README.rst is generated from readme/ and is valid reStructuredText."""

import os
import subprocess
import sys
from pathlib import Path

import docutils.core
import docutils.utils

# The harness runs a copy of these tests outside the addon (whose __init__.py would make
# pytest import it as a package) and says where the addon is.
ROOT = Path(os.environ.get("PAYMENT_REQUEST_ROOT") or Path(__file__).resolve().parents[2])


def test_readme_is_up_to_date():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_readme.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_readme_is_valid_rst():
    text = (ROOT / "README.rst").read_text(encoding="utf-8")
    docutils.core.publish_doctree(text, settings_overrides={"report_level": 2, "halt_level": 2})


def test_readme_gives_the_two_commands():
    text = (ROOT / "README.rst").read_text(encoding="utf-8")
    assert "make run" in text
    assert "make test" in text
