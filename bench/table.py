#!/usr/bin/python3
"""table.py -- the table of bench/run.sh, from the files of its runs.

    table.py OUT REPEAT

Reads OUT/softlin_t{1,2}_r*.{json,time,cpu}, OUT/{numpy,torch}_r*.{json,
time,cpu} and OUT/normal_rate_r*.txt; prints wall and CPU times (best of
the rounds), ns per token, speedups, softlin's thread scaling, the raw
Gaussian rate and the ratio token rate / (normal rate / D), the verdict
on the targets, and the statistics of the three programs per n.
"""

import json
import os
import sys

# The targets.
TARGET_SPEEDUP = 10.0
TARGET_SCALING = 1.8


def load(path):
    with open(path) as f:
        return json.load(f)


def wall(path):
    with open(path) as f:
        t0, t1 = (float(v) for v in f.read().split())
    return t1 - t0


def cpu(path):
    """User + system seconds written by GNU time."""
    with open(path) as f:
        return sum(float(v) for v in f.read().split())


def best_rates(out, rounds):
    """The normal_rate_r*.txt of every round: per line of figures, the
    smallest (best) value; the text of round 1 with those values."""
    best, text = {}, None
    for r in rounds:
        with open(os.path.join(out, f"normal_rate_r{r}.txt")) as f:
            lines = f.read().splitlines()
        if text is None:
            text = lines
        for i, line in enumerate(lines):
            head, _, tail = line.rpartition(" ")
            try:
                v = float(tail)
            except ValueError:
                continue
            key = (i, head.strip())
            best[key] = min(best.get(key, v), v)
    merged = []
    for i, line in enumerate(text):
        head, _, tail = line.rpartition(" ")
        key = (i, head.strip())
        if key in best and head.strip():
            width = len(line) - len(head) - 1
            merged.append(f"{head} {best[key]:>{width}.3f}")
        else:
            merged.append(line)
    return merged


def main():
    out, repeat = sys.argv[1], int(sys.argv[2])
    rounds = range(1, repeat + 1)
    rate_lines = best_rates(out, rounds)
    rate = {}
    for line in rate_lines:
        key, _, val = line.partition(" ")
        if key in ("rate_1", "rate_2", "path"):
            rate[key] = val.strip()

    # 1. Best wall (and CPU) time of each program over the rounds.
    runs = {}
    for th in (1, 2):
        walls = [wall(os.path.join(out, f"softlin_t{th}_r{r}.time"))
                 for r in rounds]
        cpus = [cpu(os.path.join(out, f"softlin_t{th}_r{r}.cpu"))
                for r in rounds]
        js = load(os.path.join(out, f"softlin_t{th}_r1.json"))
        runs[f"softlin {th}t"] = {"seconds": min(walls), "process": min(walls),
                                  "cpu": min(cpus), "threads": th, "json": js,
                                  "all": walls}
    for peer in ("numpy", "torch"):
        js = [load(os.path.join(out, f"{peer}_r{r}.json")) for r in rounds]
        procs = [wall(os.path.join(out, f"{peer}_r{r}.time")) for r in rounds]
        cpus = [cpu(os.path.join(out, f"{peer}_r{r}.cpu")) for r in rounds]
        runs[peer] = {"seconds": min(j["seconds"] for j in js),
                      "process": min(procs), "cpu": min(cpus),
                      "threads": js[0]["threads"], "json": js[0],
                      "all": [j["seconds"] for j in js]}
    peer0 = runs["numpy"]["json"]
    tokens = peer0["tokens"]
    D = peer0["D"]

    # 2. Times, ns per token, speedups.
    sl1, sl2 = runs["softlin 1t"]["seconds"], runs["softlin 2t"]["seconds"]
    print()
    print(f"concentration check, Gaussian, D = {D}, T = {peer0['trials']}, "
          f"n = {','.join(str(r['n']) for r in peer0['rows'])}, "
          f"delta = {peer0['delta']}: {tokens:.4g} tokens per run")
    print(f"{'program':<12} {'threads':>7} {'wall s':>8} {'ns/token':>8} "
          f"{'/softlin2t':>10} {'process s':>9} {'CPU s':>7} "
          f"{'CPU ns/tok':>10}  wall s per round")
    for name, r in runs.items():
        ns = 1e9 * r["seconds"] / tokens
        speed = r["seconds"] / sl2
        rounds_s = " ".join(f"{v:.2f}" for v in r["all"])
        print(f"{name:<12} {r['threads']:>7} {r['seconds']:>8.3f} "
              f"{ns:>8.2f} {speed:>9.2f}x {r['process']:>9.2f} "
              f"{r['cpu']:>7.2f} {1e9 * r['cpu'] / tokens:>10.2f}  "
              f"{rounds_s}")
    scaling = sl1 / sl2
    sp_np = runs["numpy"]["seconds"] / sl2
    sp_tc = runs["torch"]["seconds"] / sl2
    print(f"speedup of softlin (2 threads): {sp_np:.1f}x numpy, "
          f"{sp_tc:.1f}x torch; 1 thread: "
          f"{runs['numpy']['seconds'] / sl1:.1f}x numpy, "
          f"{runs['torch']['seconds'] / sl1:.1f}x torch")
    print(f"thread scaling of softlin, 1 -> 2 threads: {scaling:.2f}x")

    # 3. The raw Gaussian rate, and how close the token rate comes to it.
    r1, r2 = float(rate["rate_1"]), float(rate["rate_2"])
    ns1, ns2 = 1e9 * sl1 / tokens, 1e9 * sl2 / tokens
    print(f"raw Gaussian rate ({rate['path']}): {r1:.3f} ns per normal on "
          f"1 thread, {r2:.3f} on 2 (aggregate): {D * r1:.2f} and "
          f"{D * r2:.2f} ns per token of {D} normals")
    print(f"token rate / (normal rate / D): {D * r1 / ns1:.2f} on 1 thread, "
          f"{D * r2 / ns2:.2f} on 2 threads (raw rate scaling 1 -> 2 "
          f"threads: {r1 / r2:.2f}x)")

    # 4. The targets.
    ok_sp = sp_np >= TARGET_SPEEDUP and sp_tc >= TARGET_SPEEDUP
    ok_sc = scaling >= TARGET_SCALING
    print(f"target >= {TARGET_SPEEDUP:g}x numpy and torch: "
          f"{'met' if ok_sp else 'NOT met'}; "
          f"target >= {TARGET_SCALING:g}x from 1 to 2 threads: "
          f"{'met' if ok_sc else 'NOT met'}")

    # 5. Same statistics out: per n, quantile, violations, interval.
    print()
    print("statistics (round 1): (1 - delta) quantile of |F_n - F_inf|, "
          "violations of the rigorous bound, Clopper-Pearson interval")
    sl_rows = [r for r in runs["softlin 2t"]["json"]["rows"]
               if r["bound"] == "chebyshev" and not r["control"]]
    print(f"{'n':>8} {'bound':>9}  {'softlin':>26}  {'numpy':>26}  "
          f"{'torch':>26}")
    for i, s in enumerate(sl_rows):
        cells = [(s["quantile"], s["violations"], s["cp_low"], s["cp_high"])]
        for peer in ("numpy", "torch"):
            p = runs[peer]["json"]["rows"][i]
            cells.append((p["quantile"], p["violations"], p["cp_low"],
                          p["cp_high"]))
        text = "  ".join(f"{q:8.4g} {k:3d} [{lo:.4f},{hi:.4f}]"
                         for q, k, lo, hi in cells)
        print(f"{s['n']:>8} {s['bound_value']:>9.4g}  {text}")
    print()
    print("bench_normal_rate (best of the rounds):")
    for line in rate_lines:
        if not line.startswith(("rate_", "path ")):
            print("  " + line)


if __name__ == "__main__":
    main()
