#!/bin/sh
# Run the whole test suite: installs the IRC servers and the test environment first.
set -eu
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports
# dead code: at 60 vulture names unused functions, methods, classes and attributes; what a
# library or the tests use without the bridge calling it by name is in the whitelist
.venv/bin/vulture bridge handlers storage scripts/vulture_whitelist.py --min-confidence 60
.venv/bin/python scripts/check_private.py  # no library's private name outside bridge/compat.py
# the tests mostly wait on servers and sockets: four workers on two cores halve the time
exec .venv/bin/python -m pytest -q -n "${TEST_WORKERS:-4}" "$@"
