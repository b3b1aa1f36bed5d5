/* budget.c -- the accuracy budgets of spec/ACCURACY.md, as code.
 *
 * Each function replays the kernel's computation in double and, next to
 * each rounding step, adds that step's worst-case contribution to the
 * error of the outputs (a running form of the a-priori bounds: the
 * inequalities are the textbook ones, Higham, Accuracy and Stability of
 * Numerical Algorithms, 2nd ed., ch. 3, evaluated on the actual inputs).
 * Notation: u = 2^-53, g(k) = gamma_k = k u / (1 - k u), LIBM the
 * relative error of exp, log, log1p (2 u per ulp), TINY = 2^-1074 the
 * absolute error of a result that lands among the subnormals.
 */
#include <math.h>
#include <stdlib.h>

#include "oracle/budget.h"

#define U     SL_BUDGET_U
#define TINY  0x1p-1074
#define LIBM  (2.0 * SL_BUDGET_LIBM_ULP * SL_BUDGET_U)
#define SLACK SL_BUDGET_SLACK

double sl_budget_gamma(double k)
{
    return k * U / (1.0 - k * U);
}

/* Relative error of e = fl(exp(fl(d))) against exp(d), d <= 0 exact:
 * fl(d) = d (1 + delta) moves the exponent by |d| u, a factor
 * exp(|d| u); exp itself adds LIBM.  Results below 2^-1022 carry TINY
 * absolute on top, counted by the callers. */
static double exp_rel(double d)
{
    double shift = expm1(fabs(d) * U);
    return shift + LIBM * (1.0 + shift);
}

/* E * exp_rel(d) with E = exp(d) in double; 0 when E underflowed (the
 * exact term is then below TINY, which the callers add). */
static double exp_abs(double d, double E)
{
    return E > 0.0 ? E * exp_rel(d) : 0.0;
}

/* What the softmax part of a kernel leaves for the statistics after it. */
struct smx {
    double max; /* the largest score M */
    double sum; /* sum_i exp(s_i - M), in [1, n] */
    double rho; /* relative error of the computed sum of exponentials */
    double gam; /* relative error of its left-to-right summation */
};

/* Softmax of the computed scores s (n), each within sig[i] of the exact
 * score (sig NULL: exact scores; sigmax = max sig).  Writes the weight
 * bounds err (n, may be NULL) and the computed weights wt (n, may be
 * NULL); returns the largest weight bound.
 *
 * Part A, rounding inside softmax (M exact):
 *   e_i = E_i (1 + theta_i) + TINY,  |theta_i| <= exp_rel(s_i - M)
 *   sum_i e_i = sum_E (1 + alpha),   |alpha| <= rho = sum_i |E_i theta_i|
 *                                     + n TINY, over sum_E >= 1
 *   fl(sum)   = (sum_i e_i)(1 + phi), |phi| <= g(n - 1)
 *   w_i       = e_i / fl(sum) (1 + delta) + TINY,  |delta| <= u
 * so |w_i - E_i / sum_E| <= w_i ((1 + theta_i)(1 + u) / ((1 - rho)
 * (1 - g(n - 1))) - 1) + 2 TINY.
 * Part B, wrong scores: shifting the scores by delta_j, |delta_j| <=
 * sig[j], multiplies w_i by exp(delta_i) / sum_j w_j exp(delta_j), within
 * exp(+-(sig_i + sigmax)); so |w~_i - w_i| <= w~_i e^t (e^t - 1), t =
 * sig_i + sigmax. */
static double softmax_core(size_t n, const double *s, const double *sig,
                           double sigmax, double *err, double *wt,
                           struct smx *info)
{
    /* 1. M and the sum of exponentials, with the absolute error of each
     *    exponential (Part A, theta_i). */
    double m = s[0];
    for (size_t i = 1; i < n; i++)
        m = s[i] > m ? s[i] : m;
    double sum = 0.0, abs_err = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = s[i] - m, E = exp(d);
        sum += E;
        abs_err += exp_abs(d, E) + TINY;
    }
    double rho = abs_err / sum, gam = sl_budget_gamma((double)n - 1.0);
    double base = (1.0 + U) / ((1.0 - rho) * (1.0 - gam));

    /* 2. Per weight: Part A, then Part B. */
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = s[i] - m, E = exp(d), w = E / sum;
        double e = w * ((1.0 + (E > 0.0 ? exp_rel(d) : 0.0)) * base - 1.0) +
                   2.0 * TINY;
        if (sig != NULL) {
            double t = sig[i] + sigmax;
            e += w * exp(t) * expm1(t);
        }
        e *= SLACK;
        if (err != NULL)
            err[i] = e;
        if (wt != NULL)
            wt[i] = w;
        worst = e > worst ? e : worst;
    }
    info->max = m;
    info->sum = sum;
    info->rho = rho;
    info->gam = gam;
    return worst;
}

/* |log fl(sum) - log sum_E| for the sum of softmax_core: the computed sum
 * is within (1 - rho)(1 - gam) and its inverse of the exact one. */
static double log_sum_err(const struct smx *info)
{
    return -log1p(-info->rho) - log1p(-info->gam);
}

double sl_budget_softmax(size_t n, const double *s)
{
    struct smx info;
    return softmax_core(n, s, NULL, 0.0, NULL, NULL, &info);
}

/* lse = m + log1p(R), R = sum_{i != top} exp(s_i - m):
 *   R computed within dR = sum_i |E_i theta_i| + n TINY + g(n - 1)
 *   (R + that), log1p moves by dR / (1 + R - dR) and adds LIBM log1p(R),
 *   the final addition u |lse|. */
double sl_budget_logsumexp(size_t n, const double *s)
{
    size_t top = 0;
    for (size_t i = 1; i < n; i++)
        top = s[i] > s[top] ? i : top;
    double m = s[top], r = 0.0, abs_err = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (i == top)
            continue;
        double d = s[i] - m, E = exp(d);
        r += E;
        abs_err += exp_abs(d, E) + TINY;
    }
    double dr = abs_err + sl_budget_gamma((double)n - 1.0) * (r + abs_err);
    double l1 = log1p(r);
    double err = U * fabs(m + l1) + LIBM * l1 + dr / (1.0 + r - dr);
    return err * SLACK;
}

/* Bound on a left-to-right dot product of k terms whose sum of absolute
 * values is abs_sum: g(k) abs_sum + k TINY (Higham eq. 3.5, with
 * underflow of each product). */
static double dot_err(size_t k, double abs_sum)
{
    return sl_budget_gamma((double)k) * abs_sum + (double)k * TINY;
}

/* y = A x in double, with the bound ey on each entry: the rounding of
 * the product itself plus the propagated error ex of x (NULL: exact). */
static void matvec_err(size_t rows, size_t cols, const double *A,
                       const double *x, const double *ex, double *y, double *ey)
{
    for (size_t r = 0; r < rows; r++) {
        double acc = 0.0, abs_sum = 0.0, prop = 0.0;
        for (size_t c = 0; c < cols; c++) {
            acc += A[r * cols + c] * x[c];
            abs_sum += fabs(A[r * cols + c] * x[c]);
            if (ex != NULL)
                prop += fabs(A[r * cols + c]) * ex[c];
        }
        if (y != NULL)
            y[r] = acc;
        ey[r] = (dot_err(cols, abs_sum) + prop) * SLACK;
    }
}

sl_status sl_budget_attn(size_t n, size_t D, size_t Dq, size_t p,
                         const double *Z, const double *W, const double *V,
                         const double *x, const double *pi, double *err_w,
                         double *err_zbar, double *err_F, double *err_lognorm)
{
    double *a = calloc(2 * D, sizeof *a);
    double *sc = calloc(4 * n, sizeof *sc);
    double *zb = calloc(D, sizeof *zb);
    if (a == NULL || sc == NULL || zb == NULL) {
        free(a);
        free(sc);
        free(zb);
        return SL_ENOMEM;
    }
    double *ea = a + D, *sig = sc + n, *ew = sc + 2 * n, *wt = sc + 3 * n;

    /* 1. a = W x: ea_k = g(Dq) sum_j |W_kj x_j|. */
    matvec_err(D, Dq, W, x, NULL, a, ea);

    /* 2. Scores: the dot product's own rounding, a's error carried by
     *    |z_ik|, and for masses LIBM |log pi_i| + u |s_i|. */
    double sigmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double *z = Z + i * D;
        double acc = 0.0, abs_sum = 0.0, prop = 0.0;
        for (size_t k = 0; k < D; k++) {
            acc += a[k] * z[k];
            abs_sum += fabs(a[k] * z[k]);
            prop += ea[k] * fabs(z[k]);
        }
        double e = dot_err(D, abs_sum) + prop;
        if (pi != NULL) {
            double lp = log(pi[i]);
            acc += lp;
            e += LIBM * fabs(lp) + U * fabs(acc);
        }
        sc[i] = acc;
        sig[i] = e * SLACK;
        sigmax = sig[i] > sigmax ? sig[i] : sigmax;
    }

    /* 3. Weights (softmax_core: rounding of softmax, then the scores'
     *    errors). */
    struct smx info;
    softmax_core(n, sc, sig, sigmax, ew, wt, &info);
    if (err_w != NULL) {
        for (size_t i = 0; i < n; i++)
            err_w[i] = ew[i];
    }

    /* 4. zbar = Z^T w: g(n) sum_i w_i |z_ik| for the sum, plus the
     *    weights' errors carried by |z_ik|. */
    for (size_t k = 0; k < D; k++) {
        double acc = 0.0, abs_sum = 0.0, prop = 0.0;
        for (size_t i = 0; i < n; i++) {
            double z = Z[i * D + k];
            acc += wt[i] * z;
            abs_sum += fabs(wt[i] * z);
            prop += ew[i] * fabs(z);
        }
        zb[k] = acc;
        err_zbar[k] = (dot_err(n, abs_sum) + prop) * SLACK;
    }

    /* 5. F = V zbar. */
    matvec_err(p, D, V, zb, err_zbar, NULL, err_F);

    /* 6. lognorm = M + log(sum) [- log n]: the scores move it by at most
     *    sigmax, the sum's error by log_sum_err, log adds LIBM |log sum|,
     *    each of the one or two additions u |result|. */
    double ls = log(info.sum), t = info.max + ls;
    double e = sigmax + log_sum_err(&info) + LIBM * ls + U * fabs(t);
    if (pi == NULL) {
        double ln = log((double)n);
        e += LIBM * ln + U * fabs(t - ln);
    }
    *err_lognorm = e * SLACK;

    free(a);
    free(sc);
    free(zb);
    return SL_OK;
}

/* The streaming recurrence (stream.c), replayed with a running bound.
 * With exact shares sh*_i = E_i / sum_{j <= i} E_j the exact mean obeys
 * m*_i = (1 - sh*_i) m*_{i-1} + sh*_i z_i, so the computed mean's error
 * obeys
 *   err_i <= (1 - sh_i) err_{i-1} + sh_i (rho_i + g(2)) |z_i - m_{i-1}|
 *            + u |m_i| + TINY
 * where rho_i bounds the share's relative error: exp_rel of its
 * exponential, omega_i (the running sum's relative error) and u for the
 * division.  omega_i grows by exp_rel + u at each rescaling (a new
 * maximum) and obeys omega_i <= (1 - sh_i) omega_{i-1} + sh_i theta_i + u
 * at each addition.
 *
 * With a direction h the replay also follows the kernel's t_i = <h, z_i>
 * (within sig_i = g(D) sum_k |h_k z_ik|), its tilted mean tau (the same
 * recursion as the mean, plus sh_i sig_i for the input's error), the
 * co-moment C and the sum of squares Q; spec/ACCURACY.md derives:
 *   C_i = r C_{i-1} + e_i (z_i - m_i)(t_i - tau_{i-1})   (exact)
 *   errC_i <= r_hi errC_{i-1} + |C_{i-1}| (r theta_r + TINY)     rescale
 *             + e_hi (eA |B| + (|A| + eA) eB) + (theta e + TINY) |A B|
 *             + g(2) |e A B| + TINY (|B| + 1)                      term
 *             + u |C_i| + TINY                                     sum
 * with A = fl(z_i - m_i) within eA = err_i + u |A|, B = fl(t_i - tau)
 * within eB = sig_i + errtau_{i-1} + u |B|, e_hi = e (1 + theta) + TINY
 * the largest exact weight and r_hi the largest exact rescale factor;
 * and omega_q, the relative error of Q, like omega with e^2 (relative
 * error 2 theta + u) and r^2 in place of e and r. */
typedef struct stream_replay {
    double max, wsum, omega; /* M, the computed sum, its relative error */
    double wsq, omega_q;     /* sum of e^2 and its relative error */
    double tmean, err_tmean; /* tilted mean of t (with h) and its bound */
    double *mean, *err_mean; /* D each */
    double *comom, *err_c;   /* D each, with h; else NULL */
} stream_replay;

/* First token: mean z_0 and tau = t_0 (within sig_0), wsum = wsq = 1 and
 * C = 0, all exact but tau. */
static void replay_first(stream_replay *q, size_t D, double s0, const double *z,
                         const double *h)
{
    q->max = s0;
    q->wsum = 1.0;
    q->omega = 0.0;
    q->wsq = 1.0;
    q->omega_q = 0.0;
    q->tmean = 0.0;
    q->err_tmean = 0.0;
    for (size_t k = 0; k < D; k++) {
        q->mean[k] = z[k];
        q->err_mean[k] = 0.0;
        if (h != NULL) {
            q->tmean += h[k] * z[k];
            q->err_tmean += fabs(h[k] * z[k]);
            q->comom[k] = 0.0;
            q->err_c[k] = 0.0;
        }
    }
    q->err_tmean = dot_err(D, q->err_tmean);
}

/* A new maximum: the sums are rescaled by r = fl(exp(fl(M - s))). */
static void replay_rescale(stream_replay *q, size_t D, double s)
{
    double d = q->max - s, r = exp(d);
    double th = r > 0.0 ? exp_rel(d) : 0.0;
    double r_hi = r * (1.0 + th) + TINY;

    /* 1. wsum *= r and wsq *= r * r: relative errors. */
    q->wsum *= r;
    q->omega = (1.0 + q->omega) * (1.0 + th) * (1.0 + U) - 1.0;
    q->wsq *= r * r;
    q->omega_q =
        (1.0 + q->omega_q) * (1.0 + th) * (1.0 + th) * (1.0 + U) * (1.0 + U) -
        1.0;

    /* 2. C *= r: the old error shrinks by r, r's own error and the
     *    product's rounding add. */
    if (q->comom != NULL) {
        for (size_t k = 0; k < D; k++) {
            double c_old = q->comom[k];
            q->comom[k] = c_old * r;
            q->err_c[k] = r_hi * q->err_c[k] + fabs(c_old) * (r * th + TINY) +
                          U * fabs(q->comom[k]) + TINY;
        }
    }
    q->max = s;
}

/* Token z with score s (after any rescale) and direction h (or NULL). */
static void replay_push(stream_replay *q, size_t D, double s, const double *z,
                        const double *h)
{
    /* 1. t = <h, z> as sl_dot computes it, within sig. */
    double t = 0.0, t_abs = 0.0;
    if (h != NULL) {
        for (size_t k = 0; k < D; k++) {
            t += h[k] * z[k];
            t_abs += fabs(h[k] * z[k]);
        }
    }
    double sig = dot_err(D, t_abs);

    /* 2. The weight e (1 at a new maximum) and its relative error. */
    double e = 1.0, theta = 0.0;
    if (s > q->max) {
        replay_rescale(q, D, s);
    } else {
        double d = s - q->max;
        e = exp(d);
        theta = e > 0.0 ? exp_rel(d) : 0.0;
    }
    double e_hi = e * (1.0 + theta) + TINY;

    /* 3. Sums and their relative errors; the share's relative error. */
    q->wsum += e;
    double sh = e / q->wsum;
    q->omega = (1.0 - sh) * q->omega + sh * theta + U + TINY / q->wsum;
    double e2 = e * e;
    q->wsq += e2;
    double shq = e2 / q->wsq;
    q->omega_q = (1.0 - shq) * q->omega_q + shq * (2.0 * theta + U) + U +
                 2.0 * TINY / q->wsq;
    double rho = theta + q->omega + U, g2 = sl_budget_gamma(2.0);

    /* 4. tau += sh (t - tau): the mean's recursion, plus sh sig. */
    double dt = t - q->tmean, et_old = q->err_tmean;
    if (h != NULL) {
        q->tmean += sh * dt;
        q->err_tmean = (1.0 - sh) * et_old + sh * (rho + g2) * fabs(dt) +
                       sh * sig + U * fabs(q->tmean) + TINY;
    }
    double eB = sig + et_old + U * fabs(dt);

    /* 5. The mean, then C += (e A) B with A = z - m_new, B = dt. */
    for (size_t k = 0; k < D; k++) {
        double dz = z[k] - q->mean[k];
        q->mean[k] += sh * dz;
        q->err_mean[k] = (1.0 - sh) * q->err_mean[k] +
                         sh * (rho + g2) * fabs(dz) + U * fabs(q->mean[k]) +
                         TINY;
        if (q->comom == NULL)
            continue;
        double A = z[k] - q->mean[k];
        double eA = q->err_mean[k] + U * fabs(A);
        double P = e * A * dt, AB = fabs(A * dt);
        double eP = e_hi * (eA * fabs(dt) + (fabs(A) + eA) * eB) +
                    (theta * e + TINY) * AB + g2 * fabs(P) +
                    TINY * (fabs(dt) + 1.0);
        q->comom[k] += P;
        q->err_c[k] += eP + U * fabs(q->comom[k]) + TINY;
    }
}

/* Replay sl_stream_push over all n tokens into q (buffers set by the
 * caller; comom and err_c NULL when h is NULL). */
static void replay_stream(stream_replay *q, size_t n, size_t D, const double *s,
                          const double *Z, const double *h)
{
    replay_first(q, D, s[0], Z, h);
    for (size_t i = 1; i < n; i++)
        replay_push(q, D, s[i], Z + i * D, h);
}

sl_status sl_budget_stream(size_t n, size_t D, size_t p, const double *s,
                           const double *Z, const double *V, double *err_mean,
                           double *err_F, double *err_lognorm)
{
    stream_replay q;
    q.mean = calloc(D, sizeof *q.mean);
    if (q.mean == NULL)
        return SL_ENOMEM;
    q.err_mean = err_mean;
    q.comom = NULL;
    q.err_c = NULL;

    /* 1. The recurrence, with its running bound on the mean. */
    replay_stream(&q, n, D, s, Z, NULL);
    for (size_t k = 0; k < D; k++)
        err_mean[k] *= SLACK;

    /* 2. F = V mean. */
    matvec_err(p, D, V, q.mean, err_mean, NULL, err_F);

    /* 3. lognorm = M + log(wsum) - log(n). */
    double lw = log(q.wsum), t = q.max + lw, ln = log((double)n);
    double e = -log1p(-q.omega) + LIBM * fabs(lw) + U * fabs(t) + LIBM * ln +
               U * fabs(t - ln);
    *err_lognorm = e * SLACK;
    free(q.mean);
    return SL_OK;
}

/* C_w h = fl(C / wsum): C within errC, wsum within omega relative, so
 *   |fl(C / wsum) - C* / W*| <= errC / wsum + (|C| + errC) / wsum
 *                               * omega (1 + omega) / (1 - omega)
 *                               + u |C_w h| + TINY;
 * ess = fl(fl(wsum wsum) / wsq) within the relative error
 *   eps = (1 + omega)^2 (1 + u)^2 / (1 - omega_q) - 1,
 * so |ess - ess*| <= ess eps / (1 - eps). */
sl_status sl_budget_stream_comoment(size_t n, size_t D, const double *s,
                                    const double *Z, const double *h,
                                    double *err_cw, double *err_ess)
{
    stream_replay q;
    double *buf = calloc(4 * D, sizeof *buf);
    if (buf == NULL)
        return SL_ENOMEM;
    q.mean = buf;
    q.err_mean = buf + D;
    q.comom = h != NULL ? buf + 2 * D : NULL;
    q.err_c = h != NULL ? buf + 3 * D : NULL;

    /* 1. The recurrence, with the running bounds on C and Q. */
    replay_stream(&q, n, D, s, Z, h);

    /* 2. C_w h = C / wsum. */
    double om = q.omega, grow = om * (1.0 + om) / (1.0 - om);
    for (size_t k = 0; h != NULL && k < D; k++) {
        double cw = q.comom[k] / q.wsum;
        double e = q.err_c[k] / q.wsum +
                   (fabs(q.comom[k]) + q.err_c[k]) / q.wsum * grow +
                   U * fabs(cw) + TINY;
        err_cw[k] = e * SLACK;
    }

    /* 3. ess = wsum^2 / wsq. */
    if (err_ess != NULL) {
        double ess = q.wsum * q.wsum / q.wsq;
        double eps = (1.0 + om) * (1.0 + om) * (1.0 + U) * (1.0 + U) /
                         (1.0 - q.omega_q) -
                     1.0;
        *err_ess = ess * eps / (1.0 - eps) * SLACK;
    }
    free(buf);
    return SL_OK;
}

/* u = (1/n) sum_i s_i z_i with s_i = <a, z_i>: each s_i within
 * sig_i = g(D) sum_k |a_k z_ik| + sum_k ea_k |z_ik|; the sum over i adds
 * g(n) sum_i |s_i z_ik| and carries sum_i sig_i |z_ik|; the division by
 * n (exact in double) u |u_k|. */
sl_status sl_budget_linear_forward(size_t n, size_t D, size_t Dq, size_t p,
                                   const double *Z, const double *W,
                                   const double *V, const double *x,
                                   double *err_u, double *err_L)
{
    double *a = calloc(4 * D, sizeof *a);
    if (a == NULL)
        return SL_ENOMEM;
    double *ea = a + D, *acc = a + 2 * D, *abs_sum = a + 3 * D;

    matvec_err(D, Dq, W, x, NULL, a, ea);
    for (size_t k = 0; k < D; k++) {
        acc[k] = 0.0;
        abs_sum[k] = 0.0;
        err_u[k] = 0.0;
    }
    for (size_t i = 0; i < n; i++) {
        const double *z = Z + i * D;
        double s = 0.0, sa = 0.0, prop = 0.0;
        for (size_t k = 0; k < D; k++) {
            s += a[k] * z[k];
            sa += fabs(a[k] * z[k]);
            prop += ea[k] * fabs(z[k]);
        }
        double sig = dot_err(D, sa) + prop;
        for (size_t k = 0; k < D; k++) {
            acc[k] += s * z[k];
            abs_sum[k] += fabs(s * z[k]);
            err_u[k] += sig * fabs(z[k]);
        }
    }
    for (size_t k = 0; k < D; k++) {
        double uk = acc[k] / (double)n;
        err_u[k] =
            ((err_u[k] + dot_err(n, abs_sum[k])) / (double)n + U * fabs(uk)) *
            SLACK;
        acc[k] = uk;
    }
    matvec_err(p, D, V, acc, err_u, NULL, err_L);
    free(a);
    return SL_OK;
}

/* a = W x and t = S a, with their bounds ea and et (a's error carried
 * into t through |S_kj|). */
static void sa_plus(size_t D, size_t Dq, const double *S, const double *W,
                    const double *x, double *a, double *ea, double *t,
                    double *et)
{
    matvec_err(D, Dq, W, x, NULL, a, ea);
    matvec_err(D, D, S, a, ea, t, et);
}

/* u = S a + m <m, a>: S a as a matvec, <m, a> as a dot product with a's
 * error, m_k <m, a> one product (u) carrying that error by |m_k|, and
 * the final addition u |u_k|. */
sl_status sl_budget_linear_limit_gauss(size_t D, size_t Dq, size_t p,
                                       const double *m, const double *S,
                                       const double *W, const double *V,
                                       const double *x, double *err_u,
                                       double *err_L)
{
    double *a = calloc(3 * D, sizeof *a);
    if (a == NULL)
        return SL_ENOMEM;
    double *ea = a + D, *t = a + 2 * D;
    sa_plus(D, Dq, S, W, x, a, ea, t, err_u);
    double ma = 0.0, ma_abs = 0.0, ma_prop = 0.0;
    for (size_t k = 0; k < D; k++) {
        ma += m[k] * a[k];
        ma_abs += fabs(m[k] * a[k]);
        ma_prop += fabs(m[k]) * ea[k];
    }
    double ema = dot_err(D, ma_abs) + ma_prop;
    for (size_t k = 0; k < D; k++) {
        double prod = m[k] * ma;
        t[k] += prod;
        err_u[k] = (err_u[k] + fabs(m[k]) * ema + U * fabs(prod) +
                    U * fabs(t[k]) + TINY) *
                   SLACK;
    }
    matvec_err(p, D, V, t, err_u, NULL, err_L);
    free(a);
    return SL_OK;
}

sl_status sl_budget_limit_gauss_forward(size_t D, size_t Dq, size_t p,
                                        const double *m, const double *S,
                                        const double *W, const double *V,
                                        const double *x, double *err_mu,
                                        double *err_F)
{
    double *a = calloc(3 * D, sizeof *a);
    if (a == NULL)
        return SL_ENOMEM;
    double *ea = a + D, *t = a + 2 * D;
    sa_plus(D, Dq, S, W, x, a, ea, t, err_mu);
    for (size_t k = 0; k < D; k++) {
        t[k] += m[k];
        err_mu[k] = (err_mu[k] + U * fabs(t[k])) * SLACK;
    }
    matvec_err(p, D, V, t, err_mu, NULL, err_F);
    free(a);
    return SL_OK;
}

/* q = <a, S a>: S a is within g(D) sum_j |S_kj a_j| entrywise, then one
 * dot product of length D. */
double sl_budget_limit_gauss_quad(size_t D, const double *S, const double *a)
{
    double q_abs = 0.0, prop = 0.0;
    for (size_t k = 0; k < D; k++) {
        double acc = 0.0, abs_sum = 0.0;
        for (size_t j = 0; j < D; j++) {
            acc += S[k * D + j] * a[j];
            abs_sum += fabs(S[k * D + j] * a[j]);
        }
        q_abs += fabs(a[k] * acc);
        prop += fabs(a[k]) * dot_err(D, abs_sum);
    }
    return (dot_err(D, q_abs) + prop) * SLACK;
}

/* h = V^T g, a transposed matvec of length p per entry. */
static void vt_g(size_t D, size_t p, const double *V, const double *g,
                 double *h, double *eh)
{
    for (size_t k = 0; k < D; k++) {
        double acc = 0.0, abs_sum = 0.0;
        for (size_t r = 0; r < p; r++) {
            acc += V[r * D + k] * g[r];
            abs_sum += fabs(V[r * D + k] * g[r]);
        }
        h[k] = acc;
        eh[k] = dot_err(p, abs_sum) * SLACK;
    }
}

/* dV = g u^T: one product each, u relative; dW = c x^T: one product and
 * the error of c carried by |x_j|. */
static void outer_err(size_t D, size_t Dq, size_t p, const double *g,
                      const double *u, const double *c, const double *ec,
                      const double *x, double *err_dV, double *err_dW)
{
    for (size_t r = 0; r < p; r++) {
        for (size_t k = 0; k < D; k++)
            err_dV[r * D + k] = (U * fabs(g[r] * u[k]) + TINY) * SLACK;
    }
    for (size_t k = 0; k < D; k++) {
        for (size_t j = 0; j < Dq; j++)
            err_dW[k * Dq + j] =
                (U * fabs(c[k] * x[j]) + ec[k] * fabs(x[j]) + TINY) * SLACK;
    }
}

sl_status sl_budget_limit_gauss_backward(size_t D, size_t Dq, size_t p,
                                         const double *S, const double *V,
                                         const double *x, const double *mu,
                                         const double *g, double *err_h,
                                         double *err_c, double *err_dV,
                                         double *err_dW)
{
    double *h = calloc(2 * D, sizeof *h);
    if (h == NULL)
        return SL_ENOMEM;
    double *c = h + D;
    vt_g(D, p, V, g, h, err_h);
    matvec_err(D, D, S, h, err_h, c, err_c);
    outer_err(D, Dq, p, g, mu, c, err_c, x, err_dV, err_dW);
    free(h);
    return SL_OK;
}

/* c_k = sum_i fl(fl(w_i t_i) d_ik), d_ik = fl(z_ik - zbar_k), t_i =
 * fl(<h, d_i>): each term carries (1 + theta_{n+3}) from the subtraction,
 * the two products and the n-term sum, and t_i is within dt_i = g(D + 1)
 * sum_k |h_k d_ik| + sum_k eh_k |d_ik| of <h, z_i - zbar>; so
 *   |c_k - exact| <= sum_i |w_i| (dt_i |d_ik| + g(n + 3) |t_i d_ik|).
 *
 * End to end (ew, ezb not NULL: the forward errors of w and zbar), the
 * exact c is C(w*, m*), C(w, y) = sum_i w_i (z_i - y) <h, z_i - y>, m* =
 * zbar* the exact mean.  With W = sum_i w_i and m_w = sum_i w_i z_i / W,
 * C(w, y) = C(w, m_w) + W (m_w - y) <h, m_w - y> for every y (the
 * weighted deviations from m_w sum to 0), so the centre enters only to
 * second order:
 *   C(w, zb) - C(w*, m*) = sum_i (w_i - w*_i) (z_i - m*) <h, z_i - m*>
 *                          - W dm <h, dm> + W eps <h, eps>
 * with dm = m_w - m* and eps = m_w - zb.  Bounds: |z_ik - m*_k| <= |d_ik|
 * + ezb_k, |<h, z_i - m*>| <= T_i + H, T_i = sum_l (|h_l| + eh_l) |d_il|,
 * H = sum_l (|h_l| + eh_l) ezb_l; dm = sum_i (w_i / W - w*_i)(z_i - m*)
 * gives |dm_k| <= sum_i (ew_i + (w_i + ew_i) EW)(|d_ik| + ezb_k) / W,
 * EW = sum_i ew_i >= |W - 1|; |eps_k| <= |dm_k| + ezb_k
 * (spec/ACCURACY.md).  dm (D) is scratch, used with ew. */
static void backward_c(size_t n, size_t D, const double *Z, const double *w,
                       const double *zbar, const double *h, const double *eh,
                       const double *ew, const double *ezb, double *dm,
                       double *err_c)
{
    double gn = sl_budget_gamma((double)n + 3.0);
    double gd = sl_budget_gamma((double)D + 1.0);
    double H = 0.0, W = 0.0, EW = 0.0;
    for (size_t k = 0; k < D; k++) {
        err_c[k] = 0.0;
        if (ew != NULL) {
            H += (fabs(h[k]) + eh[k]) * ezb[k];
            dm[k] = 0.0;
        }
    }
    for (size_t i = 0; ew != NULL && i < n; i++) {
        W += fabs(w[i]);
        EW += ew[i];
    }

    /* 1. The rounding of the backward pass, and with forward errors the
     *    first-order term of the weights' errors. */
    for (size_t i = 0; i < n; i++) {
        const double *z = Z + i * D;
        double t = 0.0, t_abs = 0.0, prop = 0.0, T = 0.0;
        for (size_t k = 0; k < D; k++) {
            double d = z[k] - zbar[k];
            t += h[k] * d;
            t_abs += fabs(h[k] * d);
            prop += eh[k] * fabs(d);
            T += (fabs(h[k]) + eh[k]) * fabs(d);
        }
        double dt = gd * t_abs + prop + (double)D * TINY;
        for (size_t k = 0; k < D; k++) {
            double d = fabs(z[k] - zbar[k]);
            err_c[k] += fabs(w[i]) * (dt * d + gn * fabs(t * d)) + 2.0 * TINY;
            if (ew == NULL)
                continue;
            err_c[k] += ew[i] * (T + H) * (d + ezb[k]);
            dm[k] += (ew[i] + (fabs(w[i]) + ew[i]) * EW) * (d + ezb[k]);
        }
    }

    /* 2. The second-order terms W |dm_k| <|h|, dm> + W |eps_k| <|h|, eps>
     *    of the centre. */
    if (ew != NULL && W > 0.0) {
        double hdm = 0.0, heps = 0.0;
        for (size_t k = 0; k < D; k++) {
            dm[k] /= W;
            hdm += (fabs(h[k]) + eh[k]) * dm[k];
            heps += (fabs(h[k]) + eh[k]) * (dm[k] + ezb[k]);
        }
        for (size_t k = 0; k < D; k++)
            err_c[k] += W * (dm[k] * hdm + (dm[k] + ezb[k]) * heps);
    }
    for (size_t k = 0; k < D; k++)
        err_c[k] *= SLACK;
}

/* The computed c = sum_i w_i <h, z_i - zbar> (z_i - zbar), in the
 * kernel's order, for dW's bound. */
static void backward_c_value(size_t n, size_t D, const double *Z,
                             const double *w, const double *zbar,
                             const double *h, double *c)
{
    for (size_t k = 0; k < D; k++)
        c[k] = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double *z = Z + i * D;
        double t = 0.0;
        for (size_t k = 0; k < D; k++)
            t += h[k] * (z[k] - zbar[k]);
        double wt = w[i] * t;
        for (size_t k = 0; k < D; k++)
            c[k] += wt * (z[k] - zbar[k]);
    }
}

sl_status sl_budget_attn_backward(size_t n, size_t D, size_t Dq, size_t p,
                                  const double *Z, const double *V,
                                  const double *x, const double *w,
                                  const double *zbar, const double *g,
                                  double *err_h, double *err_c, double *err_dV,
                                  double *err_dW)
{
    double *h = calloc(2 * D, sizeof *h);
    if (h == NULL)
        return SL_ENOMEM;
    double *c = h + D;
    vt_g(D, p, V, g, h, err_h);
    backward_c(n, D, Z, w, zbar, h, err_h, NULL, NULL, NULL, err_c);
    backward_c_value(n, D, Z, w, zbar, h, c);
    outer_err(D, Dq, p, g, zbar, c, err_c, x, err_dV, err_dW);
    free(h);
    return SL_OK;
}

/* End to end: the backward bounds with the forward errors carried (c as
 * in backward_c; dV = g zbar^T gains |g_r| ezb_k, to first order since it
 * is linear in zbar; dW = c x^T carries c's bound). */
sl_status sl_budget_attn_grad(size_t n, size_t D, size_t Dq, size_t p,
                              const double *Z, const double *V, const double *x,
                              const double *w, const double *zbar,
                              const double *err_w, const double *err_zbar,
                              const double *g, double *err_c, double *err_dV,
                              double *err_dW)
{
    double *h = calloc(4 * D, sizeof *h);
    if (h == NULL)
        return SL_ENOMEM;
    double *eh = h + D, *c = h + 2 * D, *dm = h + 3 * D;
    vt_g(D, p, V, g, h, eh);
    backward_c(n, D, Z, w, zbar, h, eh, err_w, err_zbar, dm, err_c);
    backward_c_value(n, D, Z, w, zbar, h, c);
    outer_err(D, Dq, p, g, zbar, c, err_c, x, err_dV, err_dW);
    for (size_t r = 0; r < p; r++) {
        for (size_t k = 0; k < D; k++)
            err_dV[r * D + k] += fabs(g[r]) * err_zbar[k] * SLACK;
    }
    free(h);
    return SL_OK;
}
