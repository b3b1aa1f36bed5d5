#!/bin/sh
# report.sh BUILD [QUICK] -- the main job behind `make report`.
#
# Runs every check at default size (QUICK=1: the quick sizes of make
# check), the training experiment, the oracle accuracy sweep, the proof
# replay, the unit tests and coverage; then tools/report.py writes
# reports/index.html and reports/summary.md.  Progress goes to stderr;
# the exit status is that of the gate over everything.
set -u
build=$1
quick=${2:-}
out=reports
mkdir -p "$out"
status=0
start=$(date +%s)

step() {
    printf 'report: [%4ds] %s\n' $(($(date +%s) - start)) "$1" >&2
}
fail() {
    echo "report: FAILED: $1" >&2
    status=1
}

step "unit and property tests"
"./$build/tests/run_tests" --softlin "$build/src/softlin" \
    --data tests/data > "$out/tests.log" 2>&1 || fail "unit tests"
grep -E '^ +(suites|tests|asserts) ' "$out/tests.log" >&2

step "Monte Carlo checks ($([ -n "$quick" ] && echo quick || echo full))"
./tools/checks.sh "$build" "$out/checks" \
    "$([ -n "$quick" ] && echo quick || echo full)" || fail "checks"

if [ -x tools/train.sh ]; then
    step "training experiment"
    ./tools/train.sh "$build" "$out/train" "$quick" || fail "training"
fi

step "oracle accuracy"
"./$build/src/softlin" oracle --cases "$([ -n "$quick" ] && echo 100 \
    || echo 400)" --json "$out/accuracy.json" > "$out/accuracy.txt" \
    2>&1 || fail "accuracy budgets"

# The proof gate only (make check also runs the gate's own test).
step "proofs (cache replay)"
/usr/bin/python3 tools/proofs.py replay > "$out/proofs.log" 2>&1 \
    || fail "proofs"

step "coverage"
make --no-print-directory coverage > "$out/coverage.log" 2>&1 \
    || fail "coverage"
grep '^coverage' "$out/coverage.log" >&2

step "report pages"
/usr/bin/python3 tools/report.py "$out" || fail "gate"
step "done: $out/index.html, $out/summary.md"
exit $status
