#!/bin/sh
# checks.sh BUILD OUT [quick|full] -- the Monte Carlo check set, then gate.
#
# quick (make check): every check on Gaussian tokens and the concentration
# and gradient checks on the three sub-Gaussian laws, at sizes that run in
# seconds; full (make report): the same at default size.  A deliberately
# wrong kernel (--fault scores) must make its check fail.  Each report is
# OUT/NAME.json (+ .csv, .txt); the last step is `softlin gate OUT/*.json`.
set -eu
build=$1
out=$2
size=${3:-quick}
softlin="./$build/src/softlin"
mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.csv "$out"/*.txt

if [ "$size" = full ]; then
    T=1000 NS=2000,20000,200000 NL=20000
else
    T=300 NS=2000,20000 NL=20000
fi

run() { # name, then softlin check arguments
    name=$1
    shift
    printf 'checks: %-22s ' "$name" >&2
    if "$softlin" check "$@" --json "$out/$name.json" \
        --csv "$out/$name.csv" > "$out/$name.txt" 2> "$out/$name.err"; then
        tail -n 1 "$out/$name.txt" >&2
    else
        echo "FAILED" >&2
        tail -n 3 "$out/$name.txt" "$out/$name.err" >&2
        exit 1
    fi
    rm -f "$out/$name.err"
}

run gaussian concentration,gradient,rate --trials $T --n $NS
run gaussian-sweeps linearity,kappa --trials $T --n $NL
for law in rademacher uniform mixture; do
    run "$law" concentration,gradient,rate --measure "$law" --trials $T \
        --n $NS
    run "$law-linearity" linearity --measure "$law" --trials $T --n $NL
done

# Negative control of the whole pipeline: a wrong kernel must be flagged.
printf 'checks: %-22s ' "fault-scores" >&2
if "$softlin" check concentration --fault scores --trials 100 \
    --n 200000 > "$out/fault.txt" 2>&1; then
    echo "the wrong kernel PASSED: the harness lost its power" >&2
    exit 1
fi
echo "flagged, as it must be" >&2

# The training trajectory (quick size here; full size in make report).
if [ "$size" = quick ]; then
    ./tools/train.sh "$build" "$out/train" quick
fi

"$softlin" gate "$out"/*.json
