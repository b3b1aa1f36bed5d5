#!/bin/sh
# train.sh BUILD OUT [QUICK] -- the training experiment of make report.
#
# Gradient descent on L_inf and on the finite-prompt risk for each n of
# the default grid (softlin train), reduced parametrisation on Gaussian
# tokens, then on Rademacher tokens; JSON and CSV in OUT.  QUICK runs the
# small configuration of make check.
set -eu
build=$1
out=$2
quick=${3:-}
softlin="./$build/src/softlin"
mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.csv "$out"/*.txt

train() { # name, then softlin train arguments
    name=$1
    shift
    printf 'train: %-22s ' "$name" >&2
    if "$softlin" train "$@" --json "$out/$name.json" \
        --csv "$out/$name.csv" > "$out/$name.txt" 2>&1; then
        tail -n 1 "$out/$name.txt" >&2
    else
        echo "FAILED" >&2
        tail -n 5 "$out/$name.txt" >&2
        exit 1
    fi
}

if [ -n "$quick" ]; then
    train reduced-gaussian --d 2 --n 64,128,256,512,1024 --prompts 64 \
        --steps 40 --checkpoints 2 --trials 1000
else
    train reduced-gaussian
    train reduced-rademacher --measure rademacher
fi
"$softlin" gate "$out"/*.json
