"""What every test folder shares: tests/ itself on sys.path, so that a test module anywhere
below imports the helper modules here (``from tests_helpers_run import run_python``).

pytest's default import mode already puts each test module's own folder on sys.path (that
is how a folder's own ``tests_helpers_*.py`` is found); this adds the top folder for the
helpers that serve more than one folder, whatever the import mode.
"""

import os
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
