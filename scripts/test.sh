#!/bin/sh
# Run the whole test suite: installs the IRC servers and the test environment first.
set -eu
cd "$(dirname "$0")/.."
missing=""
command -v ngircd >/dev/null 2>&1 || missing="$missing ngircd"
command -v inspircd >/dev/null 2>&1 || missing="$missing inspircd"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq $missing >/dev/null
fi
scripts/bootstrap.sh dev
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/python -m pytest -q "$@"
