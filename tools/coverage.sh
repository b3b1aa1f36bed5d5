#!/bin/sh
# coverage.sh BUILD OUT -- lcov HTML of a coverage build's last test run.
#
# Writes OUT/index.html (lcov pages) and OUT/coverage.json, prints line and
# branch coverage of src/kernels/ and of all of src/, and fails when the
# kernels' line coverage is below SOFTLIN_KERNEL_LINE_MIN percent.
set -eu
build=$1
out=$2
min=${SOFTLIN_KERNEL_LINE_MIN:-90}
rc="--rc lcov_branch_coverage=1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck disable=SC2086
lcov -q $rc --capture --directory "$build" --output-file "$tmp/all.info" \
    2>/dev/null
# shellcheck disable=SC2086
lcov -q $rc --extract "$tmp/all.info" "$(pwd)/src/*" \
    --output-file "$tmp/src.info" 2>/dev/null
# shellcheck disable=SC2086
lcov -q $rc --extract "$tmp/all.info" "$(pwd)/src/kernels/*" \
    --output-file "$tmp/kernels.info" 2>/dev/null

rm -rf "$out.tmp"
# shellcheck disable=SC2086
genhtml -q $rc --title softlin --output-directory "$out.tmp" \
    "$tmp/src.info" >/dev/null 2>&1
rm -rf "$out"
mv "$out.tmp" "$out"

# "lines......: 97.1% (330 of 340 lines)" -> 97.1 330 340
figures() {
    # shellcheck disable=SC2086
    lcov $rc --summary "$1" 2>&1 | awk -v what="$2" '
        $1 ~ "^" what { gsub(/[%(]/, "", $2); gsub(/\(/, "", $3);
                        print $2, $3, $5; exit }'
}
set -- $(figures "$tmp/kernels.info" lines)
kl=$1 klh=$2 klt=$3
set -- $(figures "$tmp/kernels.info" branches)
kb=$1 kbh=$2 kbt=$3
set -- $(figures "$tmp/src.info" lines)
sl=$1 slh=$2 slt=$3
set -- $(figures "$tmp/src.info" branches)
sb=$1 sbh=$2 sbt=$3

printf 'coverage src/kernels: lines %s%% (%s/%s), branches %s%% (%s/%s)\n' \
    "$kl" "$klh" "$klt" "$kb" "$kbh" "$kbt"
printf 'coverage src:         lines %s%% (%s/%s), branches %s%% (%s/%s)\n' \
    "$sl" "$slh" "$slt" "$sb" "$sbh" "$sbt"
printf 'coverage html: %s/index.html\n' "$out"

cat > "$out/coverage.json.tmp" <<JSON
{"kernels": {"lines": $kl, "lines_hit": $klh, "lines_total": $klt,
             "branches": $kb, "branches_hit": $kbh, "branches_total": $kbt},
 "src": {"lines": $sl, "lines_hit": $slh, "lines_total": $slt,
         "branches": $sb, "branches_hit": $sbh, "branches_total": $sbt},
 "kernel_line_min": $min}
JSON
mv "$out/coverage.json.tmp" "$out/coverage.json"

if awk -v v="$kl" -v m="$min" 'BEGIN { exit !(v + 0 < m + 0) }'; then
    echo "coverage: src/kernels line coverage $kl% is below $min%" >&2
    exit 1
fi
