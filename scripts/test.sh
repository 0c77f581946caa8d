#!/bin/sh
# Run the whole test suite: installs the IRC servers and the test environment first.
set -eu
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports
exec .venv/bin/python -m pytest -q "$@"
