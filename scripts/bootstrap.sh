#!/bin/sh
# Create .venv and install the bot (and, with "dev", the test tools). Idempotent.
set -eu
cd "$(dirname "$0")/.."
extra="${1:-}"
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if [ "$extra" = "dev" ]; then
    # the tests and benchmarks start real IRC servers (InspIRCd also linked to Atheme
    # services, for accounts and SASL), make a TLS certificate and drive a headless
    # browser over the web pages
    missing=""
    command -v ngircd >/dev/null 2>&1 || missing="$missing ngircd"
    command -v inspircd >/dev/null 2>&1 || missing="$missing inspircd"
    command -v atheme-services >/dev/null 2>&1 || missing="$missing atheme-services"
    command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
    command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
    command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium-driver"
    if [ -n "$missing" ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq $missing >/dev/null
    fi
    # ircd-hybrid, the third server family, conflicts with ngircd: unpacked, not installed
    scripts/fetch_hybrid.sh
fi
stamp=".venv/.installed${extra:+-$extra}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    if [ -n "$extra" ]; then
        .venv/bin/python -m pip install -q -e ".[$extra]"
    else
        .venv/bin/python -m pip install -q -e .
    fi
    touch "$stamp"
fi
