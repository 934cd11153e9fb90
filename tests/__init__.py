"""The test suite: fixtures in conftest.py, helpers in helpers.py."""

import sys

# Some CI images set PYTHONDONTWRITEBYTECODE=1. Then every pytest-xdist worker would rewrite and
# compile every test module again on each run (about 7 s per worker here). The suite writes
# bytecode as a developer's machine does; conftest.py compiles nbpress once for the subprocesses.
sys.dont_write_bytecode = False
