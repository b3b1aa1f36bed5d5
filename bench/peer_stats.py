"""peer_stats.py -- what the two peers of softlin's concentration check share.

The peers (peer_numpy.py, peer_torch.py) redo, in float64 Python, the
Monte Carlo of `softlin check concentration` for Gaussian tokens: per
prompt length n, T prompts of n tokens z = m + L eta, eta ~ N(0, I), the
attention output F_n = V zbar with zbar the softmax-weighted mean of the
tokens (weights exp(<a, z_i>), a = W x), and its deviation from the limit
F_inf = V (m + S a).  This module holds the parts that are not the Monte
Carlo: reading the parameter file, the tilt in white coordinates, the
rigorous bound and the statistics, computed exactly as softlin computes
them (spec/catalogue.c, src/engine/stats.c):

  quantile     the order statistic x_(ceil((1 - delta) T)), 1-based
  bound        2 sqrt(2 T_out / (n delta)),
               T_out = kappa (tr(V S V^T) + |V S a|^2), kappa = exp(a^T S a)
  applies      n >= 8 (kappa - 1) / delta
  interval     two-sided Clopper-Pearson at level 1 - alpha for the
               violations, by bisection on the regularised incomplete beta
               function (continued fraction; math.lgamma), to 1e-12

Only numpy and the standard library: scipy is not needed.
"""

import json
import math

import numpy as np

# Bisection of a Clopper-Pearson end: stop when the bracket is this narrow.
CP_TOL = 1e-12
# Continued fraction of the incomplete beta: relative step and term limit.
BETACF_EPS = 1e-15
BETACF_MAX_TERMS = 10000
# Smallest magnitude allowed in Lentz's method (avoids division by zero).
BETACF_TINY = 1e-300


def load_params(path):
    """The parameter file of softlin (mean, cov, W, V, query), as arrays."""
    with open(path) as f:
        p = json.load(f)
    return {k: np.asarray(p[k], dtype=np.float64)
            for k in ("mean", "cov", "W", "V", "query")}


class Setting:
    """The query's tilt and limit, in the white coordinates of eta.

    With S = L L^T, z = m + L eta and a = W x, the score is
    <a, z> = <a, m> + <t, eta> with t = L^T a; the constant <a, m> cancels
    in the softmax.  The tilted mean of eta is t (Gaussian law), so
    F_n - F_inf = (V L)(etabar - t): only t and V L are needed per token.
    """

    def __init__(self, prm):
        S, W, V, x = prm["cov"], prm["W"], prm["V"], prm["query"]
        self.L = np.linalg.cholesky(S)
        self.a = W @ x
        self.t = self.L.T @ self.a
        self.VL = V @ self.L
        self.D = S.shape[0]
        self.quad = float(self.a @ S @ self.a)
        self.kappa = math.exp(self.quad)
        VSa = V @ (S @ self.a)
        self.T_out = self.kappa * (float(np.trace(V @ S @ V.T))
                                   + float(VSa @ VSa))


def bound_mean(T_out, n, delta):
    return 2.0 * math.sqrt(2.0 * T_out / (n * delta))


def bound_applies(kappa, n, delta):
    return n >= 8.0 * (kappa - 1.0) / delta


def quantile(dev, prob):
    """x_(ceil(prob T)) of the sorted deviations, as softlin takes it."""
    x = np.sort(np.asarray(dev))
    T = len(x)
    r = prob * T
    if abs(r - round(r)) <= 1e-9 * r:
        r = round(r)
    k = min(max(math.ceil(r), 1), T)
    return float(x[k - 1])


def _betacf(a, b, x):
    """Continued fraction of I_x(a, b), modified Lentz method."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > BETACF_TINY else BETACF_TINY)
    h = d
    for m in range(1, BETACF_MAX_TERMS + 1):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                    -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > BETACF_TINY else BETACF_TINY)
            c = 1.0 + num / c
            c = c if abs(c) > BETACF_TINY else BETACF_TINY
            h *= d * c
        if abs(d * c - 1.0) < BETACF_EPS:
            break
    return h


def beta_reg(a, b, x):
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lfront = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
              + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(lfront) * _betacf(a, b, x) / a
    return 1.0 - math.exp(lfront) * _betacf(b, a, 1.0 - x) / b


def beta_quantile(p, a, b):
    """x with I_x(a, b) = p, by bisection."""
    lo, hi = 0.0, 1.0
    while hi - lo > CP_TOL:
        mid = 0.5 * (lo + hi)
        if beta_reg(a, b, mid) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def cp_interval(k, T, alpha):
    lo = 0.0 if k == 0 else beta_quantile(0.5 * alpha, k, T - k + 1)
    hi = 1.0 if k == T else beta_quantile(1.0 - 0.5 * alpha, k + 1, T - k)
    return lo, hi


def row(setting, n, dev, delta, alpha):
    """The statistics of one prompt length, as a dict."""
    T = len(dev)
    b = bound_mean(setting.T_out, n, delta)
    k = int(np.count_nonzero(np.asarray(dev) > b))
    lo, hi = cp_interval(k, T, alpha)
    return {"n": n, "trials": T, "quantile": quantile(dev, 1.0 - delta),
            "bound": b, "violations": k, "cp_low": lo, "cp_high": hi,
            "applies": bound_applies(setting.kappa, n, delta)}


def batches(n, trials, max_tokens):
    """Trial counts per batch, each batch at most max_tokens tokens (and
    at least one trial)."""
    per = max(1, max_tokens // n)
    done = 0
    while done < trials:
        b = min(per, trials - done)
        yield b
        done += b


def add_common_args(ap):
    ap.add_argument("--params", required=True, help="softlin parameter file")
    ap.add_argument("--n", default="100,1000,10000,100000",
                    help="prompt lengths, comma-separated")
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--delta", type=float, default=0.05)
    ap.add_argument("--alpha", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=1 << 20,
                    help="tokens per batch (bounds memory: 8 D bytes each)")
    ap.add_argument("--json", help="write the result here as JSON")


def report(name, args, setting, rows, seconds, extra=None):
    """Print the rows on stdout and, with --json, write them."""
    tokens = args.trials * sum(r["n"] for r in rows)
    out = {"peer": name, "trials": args.trials, "delta": args.delta,
           "alpha": args.alpha, "seed": args.seed, "threads": args.threads,
           "D": setting.D, "quad": setting.quad, "kappa": setting.kappa,
           "rows": rows, "seconds": seconds, "tokens": tokens,
           "ns_per_token": 1e9 * seconds / tokens}
    if extra:
        out.update(extra)
    print(f"{name}: D {setting.D}, {args.trials} trials, "
          f"{args.threads} threads, a^T S a {setting.quad:.4g}, "
          f"kappa {setting.kappa:.4g}")
    print(f"{'n':>8} {'quantile':>10} {'bound':>10} {'viol':>5} "
          f"{'interval':>20} {'seconds':>8}")
    for r in rows:
        print(f"{r['n']:>8} {r['quantile']:>10.4g} {r['bound']:>10.4g} "
              f"{r['violations']:>5} [{r['cp_low']:.4f}, {r['cp_high']:.4f}]"
              f" {r['seconds']:>8.3f}")
    print(f"total {seconds:.3f} s, {out['ns_per_token']:.1f} ns per token")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
