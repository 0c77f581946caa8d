#!/bin/sh
# Run the bot: ./scripts/run.sh run --config config.toml (creates .venv on first use).
set -eu
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/bootstrap.sh"
exec "$here/.venv/bin/tgirc-bridge" "$@"
