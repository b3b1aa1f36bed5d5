#!/bin/sh
# proofs_gate_test.sh -- the proof gate must fail on a broken contract.
#
# Copies the kernels, the shared ACSL and the WP session (scripts, driver,
# cache) to a temporary directory, makes sl_scale promise one more than it
# computes, and runs the gate of tools/proofs.py in replay mode on the copy.
# The changed goal has no cache entry, so the provers run on it, fail, and
# the gate must exit 1 naming that goal.  The repository is not touched.
set -eu
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/src" "$tmp/proofs"
cp -r src/kernels "$tmp/src/kernels"
cp -r spec "$tmp/spec"
cp -r proofs/wp "$tmp/proofs/wp"

# The broken contract: sl_scale's output off by one (only sl_scale and its
# caller sl_outer see it, so few goals go to the provers).
header="$tmp/src/kernels/linalg.h"
sed -i 's/y\[i\] == a \* \\old(x\[i\]);/y[i] == a * \\old(x[i]) + 1;/' "$header"
if ! grep -q 'y\[i\] == a \* \\old(x\[i\]) + 1;' "$header"; then
    echo "proofs_gate_test: could not break the contract of sl_scale" >&2
    exit 1
fi

status=0
/usr/bin/python3 tools/proofs.py replay --no-eva \
    --kernels "$tmp/src/kernels" --spec "$tmp/spec" --src "$tmp/src" \
    --session "$tmp/proofs/wp" --reports "$tmp/reports" \
    > "$tmp/gate.log" 2>&1 || status=$?

if [ "$status" -ne 1 ]; then
    cat "$tmp/gate.log" >&2
    echo "proofs_gate_test: FAILED: the gate exited $status on a broken" \
        "contract, 1 expected" >&2
    exit 1
fi
if ! grep -q 'unproved goal not in proofs/expected: sl_scale/sl_scale_ensures_value' \
    "$tmp/gate.log"; then
    cat "$tmp/gate.log" >&2
    echo "proofs_gate_test: FAILED: the gate did not name sl_scale's" \
        "broken postcondition" >&2
    exit 1
fi
echo "proofs_gate_test: a broken contract fails the gate, as it must"
