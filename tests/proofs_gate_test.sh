#!/bin/sh
# proofs_gate_test.sh -- the proof gate must fail when the proofs break.
#
# Copies the kernels, the shared ACSL and the WP session (scripts, driver,
# cache) to a temporary directory and runs the gate of tools/proofs.py in
# replay mode on the copy, restricted to sl_scale's goals (seconds, not
# minutes), twice:
#   1. sl_scale promises one more than it computes: the inputs differ from
#      the recorded full run, so WP runs over the cache; the changed goal
#      has no entry, the provers fail on it, and the gate must exit 1
#      naming it;
#   2. sl_scale's preconditions contradict each other: every goal is then
#      trivially true, and only the smoke tests can catch it.
# Then, on the real tree, an expected goal count above the real one (as
# after a lost annotation) must fail the gate.  The repository is not
# touched.
set -eu
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/src" "$tmp/proofs"
cp -r src/kernels "$tmp/src/kernels"
cp -r spec "$tmp/spec"
cp -r proofs/wp "$tmp/proofs/wp"

# expect_fail NAME PATTERN WHAT ARGS...: run the replay gate with ARGS;
# it must exit 1 with PATTERN in its log.
expect_fail() {
    name=$1 pattern=$2 what=$3
    shift 3
    status=0
    /usr/bin/python3 tools/proofs.py replay --no-eva \
        --reports "$tmp/reports-$name" "$@" > "$tmp/$name.log" 2>&1 \
        || status=$?
    if [ "$status" -ne 1 ] || ! grep -q "$pattern" "$tmp/$name.log"; then
        cat "$tmp/$name.log" >&2
        echo "proofs_gate_test: FAILED: $what did not fail the gate with" \
            "\"$pattern\" (exit $status, 1 expected)" >&2
        exit 1
    fi
    echo "proofs_gate_test: $what fails the gate, as it must"
}

# On the copy, sl_scale's goals only.
copy="--functions sl_scale --kernels $tmp/src/kernels --spec $tmp/spec"
copy="$copy --src $tmp/src --session $tmp/proofs/wp"
header="$tmp/src/kernels/linalg.h"

# 1. The broken contract: sl_scale's output off by one.
sed -i 's/y\[i\] == a \* \\old(x\[i\]);/y[i] == a * \\old(x[i]) + 1;/' "$header"
grep -q 'y\[i\] == a \* \\old(x\[i\]) + 1;' "$header" || {
    echo "proofs_gate_test: could not break the contract of sl_scale" >&2
    exit 1
}
# shellcheck disable=SC2086
expect_fail broken \
    'unproved goal not in proofs/expected: sl_scale/sl_scale_ensures_value' \
    "a broken contract" $copy

# 2. sl_scale's preconditions made unsatisfiable (a size_t below 0).
cp src/kernels/linalg.h "$header"
sed -i 's/  requires sep:     \\separated(y + (0 .. n - 1), x + (0 .. n - 1));/&\n  requires contra:  n < 0;/' "$header"
grep -q 'requires contra:  n < 0;' "$header" || {
    echo "proofs_gate_test: could not add the contradiction" >&2
    exit 1
}
# shellcheck disable=SC2086
expect_fail contra 'smoke test failed.*sl_scale' "a contradictory contract" \
    $copy

# 3. The goal count, on the real tree (the fast path when the record is
#    current): an expected count above the real one, as after a lost
#    annotation.
goals=$(sed -n 's/^goals: *//p' proofs/expected)
sed "s/^goals: .*/goals: $((goals + 1000))/" proofs/expected > "$tmp/expected"
expect_fail count 'goal count fell' "a fallen goal count" \
    --expected "$tmp/expected"
