#!/bin/sh
# Run the benchmarks (bench/): installs the IRC servers and the dev environment first,
# then writes bench/results.md and bench/results.json. BENCH_QUICK=1 for fewer runs.
set -eu
cd "$(dirname "$0")/.."
missing=""
command -v ngircd >/dev/null 2>&1 || missing="$missing ngircd"
command -v inspircd >/dev/null 2>&1 || missing="$missing inspircd"
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq $missing >/dev/null
fi
scripts/bootstrap.sh dev
exec .venv/bin/python -m bench "$@"
