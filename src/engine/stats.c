/* stats.c -- the statistics behind every verdict (stats.h).
 *
 * Clopper-Pearson.  The ends of the interval are the beta quantiles of
 * stats.h, computed through the identity that links them to binomial
 * tails: with X ~ Bin(T, p),
 *   lo solves P(X >= k | lo) = alpha/2,   hi solves P(X <= k | hi) = alpha/2.
 * Each tail is summed exactly, term by term in double precision, from the
 * term at k outwards (the terms fall geometrically away from the mode, so
 * the sum stops once a geometric bound on what is left drops below
 * CP_SUM_EPS of the sum), and the equation is solved by bisection over
 * the doubles of [0, 1] themselves, 64 steps at most, which gives the root
 * to within an ulp of the computed tail's crossing.  The first term is
 * Loader's saddle-point form of the binomial probability, whose rounding
 * error does not grow with T; the ends agree with the closed forms at
 * k = 1 and k = T - 1 to about 1e-13 relative up to T = 1e8.
 * Note: GSL's gsl_cdf_beta_Pinv is not used.  In GSL 2.7 it fails to
 * converge ("inverse failed to converge", NaN, and an abort under GSL's
 * default error handler) for trial counts the checks use, e.g. T = 1e4,
 * k = 5000, alpha = 0.05, and it slows down sharply beyond 1e6 trials.
 *
 * Quantiles are order statistics of the sorted sample; their confidence
 * interval takes the ranks T p -+ z sqrt(T p (1 - p)) of the normal
 * approximation to the binomial count of sample points below the quantile.
 *
 * The least-squares fit is gsl_fit_wlinear; the slope's standard error is
 * the square root of its variance from the weights alone (the residuals do
 * not rescale it).
 *
 * The reference quantile of |N(0, Sigma)|: |N(0, Sigma)|^2 has the law of
 * sum_j lambda_j chi_j^2 with lambda the eigenvalues of Sigma
 * (gsl_eigen_symm, sorted) and chi_j independent standard normals, so
 * `draws` such sums are drawn, square-rooted and sorted.  The Monte Carlo
 * error of the quantile is about sqrt(prob (1 - prob) / draws) / f(q), f
 * the density of |N(0, Sigma)| at q.
 *
 * GSL's error handler aborts by default; it is switched off around the
 * GSL calls that can fail and restored after, as in gauss.c, so these
 * functions must not run on two threads at once with other code that
 * changes the handler.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_vector.h>

#include "engine/stats.h"
#include "measure/gauss.h"
#include "random/rng.h"

/* A binomial tail sum stops when a bound on the terms left falls below
 * this fraction of the sum. */
#define CP_SUM_EPS (0.5 * DBL_EPSILON)

/* prob T within this relative distance of an integer is that integer, so
 * that 0.07 x 100 (7.000000000000001 in doubles) gives rank 7. */
#define RANK_SNAP_EPS (4.0 * DBL_EPSILON)

/* Negative eigenvalues of Sigma down to -d NORMNORM_CLIP_EPS max|lambda|
 * are rounding and become 0; below that Sigma is not semi-definite. */
#define NORMNORM_CLIP_EPS (64.0 * DBL_EPSILON)

/* ---- Clopper-Pearson -------------------------------------------------- */

/* delta(n) = log Gamma(n+1) - (n + 1/2) log n + n - log sqrt(2 pi), the
 * error of Stirling's formula, n >= 1.  Its asymptotic series to n^-9 has
 * a first omitted term below 1e-16 delta(n) from n = STIRLING_SERIES_MIN
 * on; below that, log-gamma values under 31 leave an absolute error of
 * a few 1e-15. */
#define STIRLING_SERIES_MIN 16.0

/* log sqrt(2 pi). */
#define LOG_SQRT_2PI 0.91893853320467274178032973640562

static double stirling_delta(double n)
{
    double r, r2;

    if (n < STIRLING_SERIES_MIN)
        return gsl_sf_lngamma(n + 1.0) - (n + 0.5) * log(n) + n - LOG_SQRT_2PI;
    r = 1.0 / n;
    r2 = r * r;
    return r * (1.0 / 12 -
                r2 * (1.0 / 360 -
                      r2 * (1.0 / 1260 - r2 * (1.0 / 1680 - r2 / 1188))));
}

/* x log(x / m) + m - x >= 0 (x >= 0, m > 0), without the cancellation of
 * that form when x is near m: with v = (x - m) / (x + m),
 *   x log(x / m) + m - x = (x - m) v + 2 x (v^3/3 + v^5/5 + ...). */
static double deviance_term(double x, double m)
{
    double v, sum, pw;

    if (!(fabs(x - m) < 0.1 * (x + m)))
        return x * log(x / m) + m - x;
    v = (x - m) / (x + m);
    sum = (x - m) * v;
    pw = 2.0 * x * v;
    for (int j = 1; j < 64; j++) {
        double next;

        pw *= v * v;
        next = sum + pw / (2 * j + 1);
        if (next == sum)
            break;
        sum = next;
    }
    return sum;
}

/* log P(X = k) for X ~ Bin(T, p), 0 < p < 1, in the saddle-point form
 * (C. Loader, "Fast and accurate computation of binomial probabilities",
 * 2000), accurate to a few ulps of the largest term rather than of
 * T log T:
 *   log P = delta(T) - delta(k) - delta(T-k) - D(k, Tp) - D(T-k, Tq)
 *           + log sqrt(T / (2 pi k (T-k))),   D = deviance_term. */
static double binom_log_pmf(uint64_t T, uint64_t k, double p)
{
    double n = (double)T, x = (double)k, q = 1.0 - p;

    if (k == 0)
        return n * log1p(-p);
    if (k == T)
        return n * log(p);
    return stirling_delta(n) - stirling_delta(x) - stirling_delta(n - x) -
           deviance_term(x, n * p) - deviance_term(n - x, n * q) +
           0.5 * log(n / (x * (n - x))) - LOG_SQRT_2PI;
}

/* sum_{j >= j0} P(X = j), for j0 >= T p: the terms fall from j0 on. */
static double binom_sum_up(uint64_t T, uint64_t j0, double p)
{
    double odds = p / (1.0 - p);
    double term = exp(binom_log_pmf(T, j0, p)), sum = term;

    for (uint64_t j = j0; j < T; j++) {
        /* term_{j+1} / term_j, decreasing in j: the rest is at most
         * term r / (1 - r). */
        double r = (double)(T - j) / (double)(j + 1) * odds;

        if (r < 1.0 && term * r <= CP_SUM_EPS * sum * (1.0 - r))
            break;
        term *= r;
        sum += term;
    }
    return sum;
}

/* sum_{j <= j0} P(X = j), for j0 <= T p: the terms fall from j0 down. */
static double binom_sum_down(uint64_t T, uint64_t j0, double p)
{
    double inv_odds = (1.0 - p) / p;
    double term = exp(binom_log_pmf(T, j0, p)), sum = term;

    for (uint64_t j = j0; j > 0; j--) {
        /* term_{j-1} / term_j, decreasing as j goes down. */
        double r = (double)j / (double)(T - j + 1) * inv_odds;

        if (r < 1.0 && term * r <= CP_SUM_EPS * sum * (1.0 - r))
            break;
        term *= r;
        sum += term;
    }
    return sum;
}

/* P(X >= k), 1 <= k <= T, 0 < p < 1: increasing in p. */
static double binom_upper(uint64_t T, uint64_t k, double p)
{
    if ((double)k >= (double)T * p)
        return binom_sum_up(T, k, p);
    return 1.0 - binom_sum_down(T, k - 1, p);
}

/* P(X <= k), 0 <= k < T, 0 < p < 1: decreasing in p. */
static double binom_lower(uint64_t T, uint64_t k, double p)
{
    if ((double)k <= (double)T * p)
        return binom_sum_down(T, k, p);
    return 1.0 - binom_sum_up(T, k + 1, p);
}

static uint64_t double_bits(double x)
{
    uint64_t b;

    memcpy(&b, &x, sizeof b);
    return b;
}

static double bits_double(uint64_t b)
{
    double x;

    memcpy(&x, &b, sizeof x);
    return x;
}

/* Bisection over the doubles of [0, 1] (non-negative doubles order as
 * their bit patterns).  upper: the smallest p with P(X >= k | p) >= t;
 * otherwise the largest p with P(X <= k | p) >= t. */
static double cp_solve(uint64_t T, uint64_t k, double t, int upper)
{
    uint64_t lo = double_bits(0.0), hi = double_bits(1.0);

    /* Invariant: upper, f(lo) < t <= f(hi); lower, f(lo) >= t > f(hi). */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        double p = bits_double(mid);
        int at_or_above =
            upper ? binom_upper(T, k, p) >= t : binom_lower(T, k, p) >= t;

        if (upper == at_or_above)
            hi = mid;
        else
            lo = mid;
    }
    return bits_double(upper ? hi : lo);
}

void sl_cp_interval(uint64_t k, uint64_t T, double alpha, double *lo,
                    double *hi)
{
    if (T == 0 || k > T || !(alpha > 0.0 && alpha < 1.0)) {
        *lo = *hi = NAN;
        return;
    }
    *lo = k == 0 ? 0.0 : cp_solve(T, k, 0.5 * alpha, 1);
    *hi = k == T ? 1.0 : cp_solve(T, k, 0.5 * alpha, 0);
}

/* ---- Quantiles -------------------------------------------------------- */

/* Ascending, NaN after everything else. */
static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;

    if (isnan(a) || isnan(b))
        return isnan(a) - isnan(b);
    return (a > b) - (a < b);
}

void sl_sort(size_t T, double *x)
{
    if (T > 1)
        qsort(x, T, sizeof *x, cmp_double);
}

/* prob T, snapped to an integer within RANK_SNAP_EPS. */
static double snapped_rank(size_t T, double prob)
{
    double r = prob * (double)T, near = nearbyint(r);

    return fabs(r - near) <= RANK_SNAP_EPS * r ? near : r;
}

/* x_(rank) with rank clamped to [1, T]. */
static double order_stat(size_t T, const double *x, double rank)
{
    if (!(rank >= 1.0))
        return x[0];
    if (rank >= (double)T)
        return x[T - 1];
    return x[(size_t)rank - 1];
}

double sl_quantile_sorted(size_t T, const double *x, double prob)
{
    return order_stat(T, x, ceil(snapped_rank(T, prob)));
}

void sl_quantile_ci(size_t T, const double *x, double prob, double alpha,
                    double *lo, double *hi)
{
    double center = snapped_rank(T, prob);
    double half =
        sl_normal_upper(alpha) * sqrt((double)T * prob * (1.0 - prob));

    *lo = order_stat(T, x, floor(center - half));
    *hi = order_stat(T, x, ceil(center + half));
}

double sl_normal_upper(double alpha)
{
    return gsl_cdf_ugaussian_Qinv(0.5 * alpha);
}

/* ---- Weighted least squares ------------------------------------------- */

sl_status sl_wls_slope(size_t k, const double *x, const double *y,
                       const double *se, double *slope, double *slope_se,
                       double *intercept)
{
    double *w, c0, c1, cov00, cov01, cov11, chisq;
    int distinct = 0;

    /* 1. Points: finite, weights 1/se^2 finite and positive, two x's. */
    if (k < 2)
        return SL_EINVAL;
    for (size_t i = 0; i < k; i++) {
        double wi = 1.0 / (se[i] * se[i]);

        if (!isfinite(x[i]) || !isfinite(y[i]) || !(se[i] > 0.0) ||
            !isfinite(wi) || !(wi > 0.0))
            return SL_EINVAL;
        if (x[i] != x[0])
            distinct = 1;
    }
    if (!distinct)
        return SL_EINVAL;
    w = malloc(k * sizeof *w);
    if (w == NULL)
        return SL_ENOMEM;
    for (size_t i = 0; i < k; i++)
        w[i] = 1.0 / (se[i] * se[i]);

    /* 2. The fit; cov11 is the slope's variance from the weights. */
    gsl_fit_wlinear(x, 1, w, 1, y, 1, k, &c0, &c1, &cov00, &cov01, &cov11,
                    &chisq);
    free(w);
    if (!isfinite(c1) || !isfinite(cov11) || cov11 < 0.0)
        return SL_EINVAL;
    *slope = c1;
    *slope_se = sqrt(cov11);
    *intercept = c0;
    return SL_OK;
}

/* ---- Reference quantile of |N(0, Sigma)| ------------------------------ */

/* The eigenvalues of the d x d symmetric S into lambda, ascending, those
 * negative within rounding clipped to 0 (sorted, so that the draws depend
 * on the spectrum only, not on the eigensolver's order).  SL_ENOTSPD if
 * one is clearly negative. */
static sl_status eigenvalues(size_t d, const double *S, double *lambda)
{
    gsl_eigen_symm_workspace *ws;
    gsl_error_handler_t *old;
    double *a, top = 0.0;
    int rc;

    /* 1. (S + S^T) / 2 in a scratch copy: GSL destroys its input. */
    a = malloc(d * d * sizeof *a);
    if (a == NULL)
        return SL_ENOMEM;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++)
            a[i * d + j] = 0.5 * (S[i * d + j] + S[j * d + i]);

    /* 2. The symmetric eigensolver, handler off. */
    old = gsl_set_error_handler_off();
    ws = gsl_eigen_symm_alloc(d);
    if (ws == NULL) {
        gsl_set_error_handler(old);
        free(a);
        return SL_ENOMEM;
    }
    {
        gsl_matrix_view m = gsl_matrix_view_array(a, d, d);
        gsl_vector_view v = gsl_vector_view_array(lambda, d);

        rc = gsl_eigen_symm(&m.matrix, &v.vector, ws);
    }
    gsl_eigen_symm_free(ws);
    gsl_set_error_handler(old);
    free(a);
    if (rc != GSL_SUCCESS)
        return SL_EINVAL;

    /* 3. Clip rounding negatives. */
    for (size_t j = 0; j < d; j++) {
        if (!isfinite(lambda[j]))
            return SL_EINVAL;
        top = fmax(top, fabs(lambda[j]));
    }
    for (size_t j = 0; j < d; j++) {
        if (lambda[j] < -(double)d * NORMNORM_CLIP_EPS * top)
            return SL_ENOTSPD;
        if (lambda[j] < 0.0)
            lambda[j] = 0.0;
    }
    sl_sort(d, lambda);
    return SL_OK;
}

sl_status sl_normnorm_quantile(size_t d, const double *Sigma, double prob,
                               uint64_t seed, size_t draws, double *q)
{
    double *lambda, *z, *norms;
    sl_status st;
    sl_rng rng;

    /* 1. Arguments. */
    if (d == 0 || draws == 0 || !(prob >= 0.0 && prob <= 1.0))
        return SL_EINVAL;
    if (d > SIZE_MAX / sizeof(double) / d || draws > SIZE_MAX / sizeof(double))
        return SL_ENOMEM;
    if (!sl_gauss_symmetric(d, Sigma, NULL, NULL))
        return SL_EINVAL;
    for (size_t j = 0; j < d; j++)
        if (!isfinite(Sigma[j * d + j]))
            return SL_EINVAL;

    /* 2. Eigenvalues and scratch. */
    lambda = malloc(2 * d * sizeof *lambda);
    norms = malloc(draws * sizeof *norms);
    if (lambda == NULL || norms == NULL) {
        free(lambda);
        free(norms);
        return SL_ENOMEM;
    }
    z = lambda + d;
    st = eigenvalues(d, Sigma, lambda);
    if (st != SL_OK) {
        free(lambda);
        free(norms);
        return st;
    }

    /* 3. draws norms sqrt(sum_j lambda_j z_j^2), z ~ N(0, I_d), from
     *    stream (seed, 0), d normals per draw in order. */
    sl_rng_init(&rng, seed, 0);
    for (size_t i = 0; i < draws; i++) {
        double s = 0.0;

        sl_rng_normal(&rng, d, z);
        for (size_t j = 0; j < d; j++)
            s += lambda[j] * z[j] * z[j];
        norms[i] = sqrt(s);
    }

    /* 4. The order statistic. */
    sl_sort(draws, norms);
    *q = sl_quantile_sorted(draws, norms, prob);
    free(lambda);
    free(norms);
    return SL_OK;
}
