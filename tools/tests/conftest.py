# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Odoo-free tests of the addon's files and of the harness itself."""

import sys
from pathlib import Path

# tools/ holds the pytest plugin and the harness modules under test.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

pytest_plugins = ["pytester"]
