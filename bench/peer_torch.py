#!/usr/bin/python3
"""peer_torch.py -- softlin's concentration check written in torch (CPU).

    /usr/bin/python3 bench/peer_torch.py --params P.json [--n 100,1000]
        [--trials 1000] [--threads 2] [--json OUT]

The same Monte Carlo as peer_numpy.py, with torch tensors in float64 on
the CPU and torch.set_num_threads(--threads): batches of prompts drawn by
Tensor.normal_ into a reused buffer, scored in white coordinates,
weighted by torch.softmax, reduced to the deviation (V L)(etabar - t).
The statistics (peer_stats.py) run on the deviations as numpy arrays.
The wall time covers the Monte Carlo and the statistics, not the imports.
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
    import torch

    torch.set_num_threads(args.threads)
    setting = ps.Setting(ps.load_params(args.params))
    ns = [int(float(v)) for v in args.n.split(",")]
    gen = torch.Generator().manual_seed(args.seed)
    f64 = torch.float64
    t = torch.as_tensor(setting.t, dtype=f64)
    VL = torch.as_tensor(setting.VL, dtype=f64)

    rows = []
    start = time.perf_counter()
    with torch.no_grad():
        for n in ns:
            t0 = time.perf_counter()
            dev = torch.empty(args.trials, dtype=f64)
            per = max(1, min(args.trials, args.max_tokens // n))
            buf = torch.empty((per, n, setting.D), dtype=f64)
            done = 0
            for b in ps.batches(n, args.trials, args.max_tokens):
                # 1. b prompts of n white tokens (into a reused buffer),
                #    and their scores.
                eta = buf[:b]
                eta.normal_(generator=gen)
                s = eta @ t
                # 2. Softmax weights (torch's, stable: relative to each
                #    prompt's maximum).
                w = torch.softmax(s, dim=1)
                # 3. Weighted means, deviations, their norms.
                etabar = torch.bmm(w.unsqueeze(1), eta).squeeze(1)
                d = (etabar - t) @ VL.T
                dev[done:done + b] = torch.linalg.vector_norm(d, dim=1)
                done += b
            r = ps.row(setting, n, dev.numpy(), args.delta, args.alpha)
            r["seconds"] = time.perf_counter() - t0
            rows.append(r)
    seconds = time.perf_counter() - start
    ps.report("torch", args, setting, rows, seconds,
              {"torch": torch.__version__})


if __name__ == "__main__":
    main()
