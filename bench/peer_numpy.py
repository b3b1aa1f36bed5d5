#!/usr/bin/python3
"""peer_numpy.py -- softlin's concentration check written in numpy (float64).

    /usr/bin/python3 bench/peer_numpy.py --params P.json [--n 100,1000]
        [--trials 1000] [--threads 2] [--json OUT]

The same Monte Carlo as `softlin check concentration` on Gaussian tokens
(see peer_stats.py for the statistics), written the way numpy runs best:
whole batches of prompts at once, in the white coordinates softlin uses
too (scores <t, eta>, deviation (V L)(etabar - t)), so that per token
only the normals, one score, one exp and one weighted sum are computed.
Trials go in batches of at most --max-tokens tokens to bound memory.

Threads: the BLAS thread variables are set to --threads before numpy is
imported; numpy's Generator itself draws on one thread.  The wall time
covers the Monte Carlo and the statistics of every n, not the imports.
"""

import argparse
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import peer_stats as ps
    ps.add_common_args(ap)
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    setting = ps.Setting(ps.load_params(args.params))
    ns = [int(float(v)) for v in args.n.split(",")]
    rng = np.random.default_rng(args.seed)
    t, VL = setting.t, setting.VL

    rows = []
    start = time.perf_counter()
    for n in ns:
        t0 = time.perf_counter()
        dev = np.empty(args.trials)
        per = max(1, min(args.trials, args.max_tokens // n))
        buf = np.empty((per, n, setting.D))
        done = 0
        for b in ps.batches(n, args.trials, args.max_tokens):
            # 1. b prompts of n white tokens (into a reused buffer), and
            #    their scores.
            eta = buf[:b]
            rng.standard_normal(out=eta)
            s = eta @ t
            # 2. Softmax weights relative to each prompt's maximum.
            s -= s.max(axis=1, keepdims=True)
            np.exp(s, out=s)
            # 3. Weighted means (a batched product), deviations from the
            #    limit, their norms.
            etabar = (s[:, None, :] @ eta)[:, 0, :] / s.sum(axis=1)[:, None]
            d = (etabar - t) @ VL.T
            dev[done:done + b] = np.sqrt(np.einsum("bp,bp->b", d, d))
            done += b
        r = ps.row(setting, n, dev, args.delta, args.alpha)
        r["seconds"] = time.perf_counter() - t0
        rows.append(r)
    seconds = time.perf_counter() - start
    ps.report("numpy", args, setting, rows, seconds,
              {"numpy": np.__version__})


if __name__ == "__main__":
    main()
