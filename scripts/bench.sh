#!/bin/sh
# Run the benchmarks (bench/): installs the IRC servers and the dev environment first,
# then writes bench/results.md and bench/results.json. BENCH_QUICK=1 for fewer runs.
set -eu
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
exec .venv/bin/python -m bench "$@"
