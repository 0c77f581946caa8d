#!/bin/sh
# Unpack Debian's ircd-hybrid for the tests, without installing it: the package conflicts
# with ngircd (installing one removes the other). The server loads its core modules from the
# compiled-in /usr/lib/ircd-hybrid/modules before it reads its config, so that path becomes
# a symlink to the unpacked modules. Idempotent; needs root (apt-get, the symlink).
set -eu
cache="${TGIRC_TEST_CACHE:-/var/cache/tgirc-bridge-tests}"
dir="$cache/ircd-hybrid"
if [ ! -x "$dir/usr/sbin/ircd-hybrid" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # its libraries (libltdl7 is the one a system without it lacks) are plain dependencies
    apt-get install -y -qq libltdl7 libgnutls30 libcrypt1 >/dev/null
    tmp="$(mktemp -d)"
    chown _apt "$tmp" 2>/dev/null || true
    (cd "$tmp" && apt-get download -qq ircd-hybrid)
    mkdir -p "$dir"
    dpkg -x "$tmp"/ircd-hybrid_*.deb "$dir"
    rm -rf "$tmp"
    chmod -R a+rX "$cache"
fi
mkdir -p /usr/lib/ircd-hybrid
if [ ! -e /usr/lib/ircd-hybrid/modules ]; then
    ln -s "$dir/usr/lib/ircd-hybrid/modules" /usr/lib/ircd-hybrid/modules
fi
