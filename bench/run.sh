#!/bin/sh
# run.sh -- softlin's concentration check against numpy and torch peers.
#
#   bench/run.sh [BUILD]                (what "make bench" runs)
#
# The benchmark of the issue's Speed section: Gaussian tokens, D = 8,
# T = 1000 prompts per length, n in {1e2, 1e3, 1e4, 1e5}, delta = 0.05, on
# the parameters softlin draws from seed 1 (saved to a file and passed to
# all three programs).  softlin runs with 1 and 2 threads, the peers
# (bench/peer_numpy.py, bench/peer_torch.py: float64, CPU, 2 threads) once
# each per round, REPEAT rounds; each keeps its best wall time (the raw
# Gaussian rate, bench_normal_rate, is also measured every round, best
# kept).  Then the table: wall and CPU seconds, ns per token, speedups,
# thread scaling, the raw Gaussian rate and how close the token rate
# comes to it, and the statistics of the three programs side by side.
#
# softlin's time is its whole process (parameters, reference quantiles,
# report included); a peer's time is its Monte Carlo and statistics,
# imports excluded (in the peers' favour; their process times are shown
# too).  The load average is printed first: on a shared 2-core machine
# other work lowers every figure, thread scaling most.
#
# Environment: TRIALS (1000), NS (100,1000,10000,100000), REPEAT (3),
# OUT (BUILD/bench/out: every run's JSON and the table, table.txt).
set -eu

BUILD=${1:-build}
TRIALS=${TRIALS:-1000}
NS=${NS:-100,1000,10000,100000}
REPEAT=${REPEAT:-3}
OUT=${OUT:-$BUILD/bench/out}
PY=/usr/bin/python3
SOFTLIN=$BUILD/src/softlin
RATE=$BUILD/bench/bench_normal_rate
HERE=$(dirname "$0")

# 1. What the peers need: Debian's numpy and torch for /usr/bin/python3,
#    and GNU time for the CPU seconds.
if ! "$PY" -c 'import numpy, torch' 2>/dev/null || [ ! -x /usr/bin/time ]
then
    pkgs="python3-numpy python3-torch time"
    if [ "$(id -u)" -ne 0 ]; then
        echo "bench: numpy, torch or time missing; as root run:" >&2
        echo "  apt-get update && apt-get install -y $pkgs" >&2
        exit 1
    fi
    echo "bench: installing $pkgs"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi
for f in "$SOFTLIN" "$RATE"; do
    if [ ! -x "$f" ]; then
        echo "bench: $f missing: build first (make build)" >&2
        exit 1
    fi
done
mkdir -p "$OUT"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: T = $TRIALS, n = $NS, best of $REPEAT rounds; output in $OUT"

# 2. The parameters: drawn by softlin from seed 1 (D = 8), as a file.
"$SOFTLIN" check concentration --seed 1 --dim 8 --trials 1 --n 1 \
    --threads 1 >/dev/null 2>"$OUT/draw.err" || true
sed -n 's/^softlin check: parameters drawn from seed 1: //p' \
    "$OUT/draw.err" >"$OUT/params.json"
if [ ! -s "$OUT/params.json" ]; then
    echo "bench: softlin printed no parameters:" >&2
    cat "$OUT/draw.err" >&2
    exit 1
fi

# 3. REPEAT rounds: the raw Gaussian rate and the pieces of an engine
#    block, softlin on 1 and 2 threads, then each peer.  Every program
#    runs under /usr/bin/time for its CPU seconds (user + system).
round=1
while [ "$round" -le "$REPEAT" ]; do
    "$RATE" --dim 8 >"$OUT/normal_rate_r$round.txt"
    for th in 1 2; do
        t0=$(now)
        status=0
        /usr/bin/time -f "%U %S" -o "$OUT/softlin_t${th}_r$round.cpu" \
            "$SOFTLIN" check concentration --params "$OUT/params.json" \
            --trials "$TRIALS" --n "$NS" --delta 0.05 --threads "$th" \
            --json "$OUT/softlin_t${th}_r$round.json" \
            >"$OUT/softlin_t${th}_r$round.txt" 2>&1 || status=$?
        t1=$(now)
        if [ "$status" -gt 1 ]; then
            echo "bench: softlin failed (status $status):" >&2
            cat "$OUT/softlin_t${th}_r$round.txt" >&2
            exit 1
        fi
        echo "$t0 $t1" >"$OUT/softlin_t${th}_r$round.time"
        echo "bench: round $round, softlin $th thread(s):" \
            "$(since "$t0" "$t1") s"
    done
    for peer in numpy torch; do
        t0=$(now)
        /usr/bin/time -f "%U %S" -o "$OUT/${peer}_r$round.cpu" \
            "$PY" "$HERE/peer_$peer.py" --params "$OUT/params.json" \
            --trials "$TRIALS" --n "$NS" --delta 0.05 --threads 2 \
            --seed "$round" --json "$OUT/${peer}_r$round.json" \
            >"$OUT/${peer}_r$round.txt"
        t1=$(now)
        echo "$t0 $t1" >"$OUT/${peer}_r$round.time"
        echo "bench: round $round, $peer: $(since "$t0" "$t1") s"
    done
    round=$((round + 1))
done

# 4. The table.
"$PY" "$HERE/table.py" "$OUT" "$REPEAT" | tee "$OUT/table.txt"
