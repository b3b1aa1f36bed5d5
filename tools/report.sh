#!/bin/sh
# report.sh BUILD -- the main job: every check that exists, at default size,
# and a summary in reports/.
#
# Runs the unit and property tests, a Gaussian eval sweep over n, the ACSL
# parse of every kernel and the coverage build; writes reports/summary.md
# (and keeps the raw outputs beside it).  Exits non-zero when any step
# fails.  Files are written to a temporary name and renamed, so a failed
# run leaves no half-written report.
set -u
build=$1
out=reports
mkdir -p "$out"
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() {
    printf 'report: %s ... ' "$1" >&2
}
done_step() {
    if [ "$1" -eq 0 ]; then echo ok >&2; else echo FAILED >&2; status=1; fi
}

step "unit and property tests"
"./$build/tests/run_tests" --softlin "$build/src/softlin" \
    --data tests/data > "$tmp/tests.log" 2>&1
done_step $?

step "ACSL parse of the kernels"
frama-c -cpp-extra-args="-Ispec -Isrc" src/kernels/*.c > "$tmp/acsl.log" 2>&1
done_step $?

step "Gaussian eval sweep"
: > "$tmp/eval.tsv"
printf 'n\tdistance\tkappa\tess\n' > "$tmp/eval.tsv"
for n in 100 1000 10000 100000 1000000; do
    "./$build/src/softlin" eval --params tests/data/valid.json --n "$n" \
        --seed 1 > "$tmp/eval_$n.txt" 2>> "$tmp/eval.err" || status=1
    awk -v n="$n" '$1 == "distance" { d = $2 } $1 == "kappa" { k = $2 }
        $1 == "ess" { e = $2 }
        END { printf "%s\t%s\t%s\t%s\n", n, d, k, e }' \
        "$tmp/eval_$n.txt" >> "$tmp/eval.tsv"
done
done_step $status

step "coverage"
make --no-print-directory coverage > "$tmp/coverage.log" 2>&1
done_step $?

summary_line=$(grep -E '^ +tests ' "$tmp/tests.log" | head -n 1)
{
    echo "# softlin report"
    echo
    echo "Produced by \`make report\` on $(date -u +%Y-%m-%dT%H:%M:%SZ)."
    echo
    echo "## Tests"
    echo
    echo '```'
    sed -n '/Run Summary/,$p' "$tmp/tests.log"
    echo '```'
    echo
    echo "## Gaussian eval sweep (tests/data/valid.json, seed 1)"
    echo
    echo "| n | distance F_n - F_inf | kappa | effective sample size |"
    echo "| --- | --- | --- | --- |"
    tail -n +2 "$tmp/eval.tsv" | awk -F '\t' \
        '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
    echo
    echo "## Coverage"
    echo
    echo '```'
    grep '^coverage' "$tmp/coverage.log"
    echo '```'
    echo
    if [ "$status" -eq 0 ]; then
        echo "Verdict: every step passed."
    else
        echo "Verdict: FAILED (see the step marked FAILED above)."
    fi
} > "$out/summary.md.tmp"
mv "$out/summary.md.tmp" "$out/summary.md"
cp "$tmp/tests.log" "$out/tests.log.tmp" && mv "$out/tests.log.tmp" \
    "$out/tests.log"
cp "$tmp/eval.tsv" "$out/eval.tsv.tmp" && mv "$out/eval.tsv.tmp" \
    "$out/eval.tsv"

echo "report: $summary_line" >&2
echo "report: written $out/summary.md" >&2
exit $status
