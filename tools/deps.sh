#!/bin/sh
# deps.sh -- install the Debian packages softlin needs, when missing.
#
# As root: apt-get update (once) and install what is missing.  As another
# user: print the exact apt-get line and exit 1.  Then make sure Why3 knows
# its provers, with memlimit = 0 (Why3's default 1000 MB made Z3 fail
# simple goals with "out of memory" on these machines).
set -eu

# One package per need; README.md says why each is here.
PKGS="gcc libc6-dev pkg-config meson ninja-build
libcunit1-dev libjansson-dev libgsl-dev librandom123-dev libsleef-dev
libmpfr-dev libgmp-dev libflint-arb-dev
lcov gcovr clang-format gnuplot-nox python3
frama-c-base why3 z3 cvc4"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
        | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: missing packages; as root run:" >&2
        echo "  apt-get update && apt-get install -y$missing" >&2
        exit 1
    fi
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# Why3: detect provers once, and lift the memory limit.
conf="${HOME:-/root}/.why3.conf"
if command -v why3 >/dev/null 2>&1; then
    if [ ! -f "$conf" ] || ! grep -q '^memlimit = 0$' "$conf"; then
        why3 config detect >/dev/null 2>&1 || true
        if [ -f "$conf" ]; then
            sed -i 's/^memlimit = .*/memlimit = 0/' "$conf"
        fi
    fi
fi
