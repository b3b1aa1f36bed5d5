/* test_stats.c -- CUnit suite "stats": the statistics of stats.h.
 *
 * Clopper-Pearson ends against their closed forms (k = 0, 1, T - 1, T),
 * published values and GSL's beta quantiles where those converge, and
 * its coverage by simulation; order statistics on hand arrays; the
 * coverage of the quantile interval; the weighted fit against exact lines
 * and the closed form of its standard error; the |N(0, Sigma)| quantile
 * against the chi quantile, rotations and scalings of Sigma, determinism
 * and bad input.
 *
 * Coverage checks are statistical: each compares the fraction of covering
 * intervals with the claimed level 1 - alpha minus STATS_COVER_SE of its
 * binomial standard errors (a correct interval fails with probability
 * below 2e-3 per check; the seeds are fixed, so a pass is reproducible).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>

#include "engine/stats.h"
#include "random/rng.h"
#include "testing.h"

/* Agreement of CP ends with closed forms: rounding of a bisection on
 * binomial sums (measured below 4.2e-15 up to T = 1e8). */
#define STATS_CP_TOL (256.0 * DBL_EPSILON)

/* Agreement with GSL's gsl_cdf_beta_Pinv, whose Newton steps stop at a
 * tolerance of their own. */
#define STATS_CP_GSL_TOL 1e-10

/* Published CP values are given to 5 decimals. */
#define STATS_CP_PUBLISHED_TOL 5e-6

/* Coverage: failures allowed below 1 - alpha, in standard errors. */
#define STATS_COVER_SE   3.0
#define STATS_COVER_REPS 2000

/* The weighted fit on exact data: a few roundings of sums of k terms. */
#define STATS_FIT_TOL (64.0 * DBL_EPSILON)

/* |N(0, Sigma)| quantile against the exact chi quantile, in Monte Carlo
 * standard errors; and the rotation check, bounded by the eigensolver's
 * backward error (d DBL_EPSILON |Sigma|, relative to the quantile). */
#define STATS_MC_SE_TOL      5.0
#define STATS_NORMNORM_DRAWS 100000
#define STATS_ROTATE_TOL     (1024.0 * DBL_EPSILON)

#define STATS_SEED UINT64_C(0x57a75c0ffee)

/* |got - want| <= tol |want| (tol absolute when want is 0), else print. */
static int close_rel(const char *what, double got, double want, double tol)
{
    double scale = want == 0.0 ? 1.0 : fabs(want);

    if (fabs(got - want) <= tol * scale)
        return 1;
    fprintf(stderr, "\n  %s: got %a (%.17g) want %a (%.17g)\n", what, got, got,
            want, want);
    return 0;
}

/* ---- Clopper-Pearson -------------------------------------------------- */

/* k = 0 and k = T have closed forms: (alpha/2)^(1/T) and its mirror. */
static void test_cp_closed_small(void)
{
    double lo, hi;

    sl_cp_interval(0, 10, 0.05, &lo, &hi);
    CU_ASSERT_EQUAL(lo, 0.0);
    CU_ASSERT(
        close_rel("k=0 T=10 hi", hi, 1.0 - pow(0.025, 0.1), STATS_CP_TOL));
    CU_ASSERT(close_rel("k=0 T=10 hi, 5 digits", hi, 0.30850,
                        STATS_CP_PUBLISHED_TOL / 0.30850));
    sl_cp_interval(10, 10, 0.05, &lo, &hi);
    CU_ASSERT_EQUAL(hi, 1.0);
    CU_ASSERT(close_rel("k=T=10 lo", lo, pow(0.025, 0.1), STATS_CP_TOL));
}

/* k = 5 of 10: the textbook interval [0.18709, 0.81291], symmetric. */
static void test_cp_published(void)
{
    double lo, hi;

    sl_cp_interval(5, 10, 0.05, &lo, &hi);
    CU_ASSERT(fabs(lo - 0.18709) <= STATS_CP_PUBLISHED_TOL);
    CU_ASSERT(fabs(hi - 0.81291) <= STATS_CP_PUBLISHED_TOL);
    CU_ASSERT(close_rel("k=5 T=10 symmetry", lo + hi, 1.0, STATS_CP_TOL));
}

/* For every k of T <= 60 the ends are GSL's beta quantiles (GSL
 * converges there). */
static void test_cp_matches_gsl_beta(void)
{
    const double alphas[] = {0.05, 1e-3};
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int bad = 0;

    for (uint64_t T = 1; T <= 60; T++) {
        for (uint64_t k = 0; k <= T; k++) {
            for (size_t a = 0; a < 2; a++) {
                double al = alphas[a], lo, hi, want_lo, want_hi;

                sl_cp_interval(k, T, al, &lo, &hi);
                want_lo = k == 0 ? 0.0
                                 : gsl_cdf_beta_Pinv(al / 2, (double)k,
                                                     (double)(T - k + 1));
                want_hi = k == T ? 1.0
                                 : gsl_cdf_beta_Pinv(1 - al / 2, (double)k + 1,
                                                     (double)(T - k));
                if (!close_rel("lo vs GSL", lo, want_lo, STATS_CP_GSL_TOL) ||
                    !close_rel("hi vs GSL", hi, want_hi, STATS_CP_GSL_TOL)) {
                    fprintf(stderr, "  k=%llu T=%llu alpha=%g\n",
                            (unsigned long long)k, (unsigned long long)T, al);
                    bad++;
                }
            }
        }
    }
    gsl_set_error_handler(old);
    CU_ASSERT_EQUAL(bad, 0);
}

/* Regression: GSL 2.7's gsl_cdf_beta_Pinv returns NaN ("failed to
 * converge") from T = 1e4 on.  At T up to 1e8 the ends stay finite and
 * match the closed forms of k = 0, 1, T - 1 and T:
 *   k = 1:     1 - (1 - p)^T = alpha/2,  k = T - 1:  p^T = 1 - alpha/2. */
static void test_cp_large_trials(void)
{
    const uint64_t Ts[] = {10000, 1000000, 100000000};
    const double alphas[] = {0.05, 1e-9};

    for (size_t i = 0; i < 3; i++) {
        for (size_t a = 0; a < 2; a++) {
            uint64_t T = Ts[i];
            double n = (double)T, h = alphas[a] / 2, lo, hi;

            sl_cp_interval(0, T, alphas[a], &lo, &hi);
            CU_ASSERT(
                close_rel("k=0 hi", hi, -expm1(log(h) / n), STATS_CP_TOL));
            sl_cp_interval(1, T, alphas[a], &lo, &hi);
            CU_ASSERT(
                close_rel("k=1 lo", lo, -expm1(log1p(-h) / n), STATS_CP_TOL));
            sl_cp_interval(T - 1, T, alphas[a], &lo, &hi);
            CU_ASSERT(
                close_rel("k=T-1 hi", hi, exp(log1p(-h) / n), STATS_CP_TOL));
            sl_cp_interval(T, T, alphas[a], &lo, &hi);
            CU_ASSERT(close_rel("k=T lo", lo, exp(log(h) / n), STATS_CP_TOL));
            sl_cp_interval(T / 2, T, alphas[a], &lo, &hi);
            CU_ASSERT(isfinite(lo) && isfinite(hi) && lo < 0.5 && hi > 0.5);
            CU_ASSERT(close_rel("k=T/2 symmetry", lo + hi, 1.0, STATS_CP_TOL));
        }
    }
}

/* Out of range: T = 0, k > T, alpha outside (0, 1) give NaN ends. */
static void test_cp_invalid(void)
{
    double lo = 0, hi = 0;

    sl_cp_interval(0, 0, 0.05, &lo, &hi);
    CU_ASSERT(isnan(lo) && isnan(hi));
    sl_cp_interval(3, 2, 0.05, &lo, &hi);
    CU_ASSERT(isnan(lo) && isnan(hi));
    sl_cp_interval(1, 2, 0.0, &lo, &hi);
    CU_ASSERT(isnan(lo) && isnan(hi));
    sl_cp_interval(1, 2, 1.0, &lo, &hi);
    CU_ASSERT(isnan(lo) && isnan(hi));
}

/* Draw Bin(T, p) from stream (STATS_SEED, stream): T uniforms below p. */
static uint64_t draw_binomial(uint64_t T, double p, uint64_t stream)
{
    sl_rng r;
    uint64_t k = 0;

    sl_rng_init(&r, STATS_SEED, stream);
    for (uint64_t i = 0; i < T; i++)
        k += sl_rng_uniform(&r) < p;
    return k;
}

/* fraction covered >= 1 - alpha - STATS_COVER_SE standard errors. */
static int covers(const char *what, int covered, int reps, double alpha)
{
    double frac = (double)covered / reps;
    double floor_ =
        1.0 - alpha - STATS_COVER_SE * sqrt(alpha * (1.0 - alpha) / reps);

    if (frac >= floor_)
        return 1;
    fprintf(stderr, "\n  %s: coverage %.4f below %.4f\n", what, frac, floor_);
    return 0;
}

/* The interval covers the true p in at least 1 - alpha of binomial
 * draws, at small, moderate and central p. */
static void test_cp_coverage(void)
{
    const double ps[] = {0.02, 0.1, 0.5};
    const uint64_t T = 50;
    const double alpha = 0.05;

    for (size_t i = 0; i < 3; i++) {
        int covered = 0;

        for (int rep = 0; rep < STATS_COVER_REPS; rep++) {
            uint64_t k = draw_binomial(T, ps[i], i * STATS_COVER_REPS + rep);
            double lo, hi;

            sl_cp_interval(k, T, alpha, &lo, &hi);
            covered += lo <= ps[i] && ps[i] <= hi;
        }
        CU_ASSERT(covers("CP", covered, STATS_COVER_REPS, alpha));
    }
}

/* ---- Quantiles -------------------------------------------------------- */

/* Ascending, infinities in place, NaN last. */
static void test_sort_nan_last(void)
{
    double x[] = {3.0, NAN, -1.0, 2.0, NAN, -INFINITY, INFINITY, 0.5};
    const double want[] = {-INFINITY, -1.0, 0.5, 2.0, 3.0, INFINITY};

    sl_sort(8, x);
    for (size_t i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(x[i], want[i]);
    CU_ASSERT(isnan(x[6]) && isnan(x[7]));
}

/* x_(ceil(prob T)) on hand arrays, with x_(1) for small prob T. */
static void test_quantile_order_statistic(void)
{
    const double five[] = {1.0, 2.0, 3.0, 4.0, 5.0};
    const double one[] = {7.0};
    double hundred[100];

    CU_ASSERT_EQUAL(sl_quantile_sorted(5, five, 0.5), 3.0);  /* ceil 2.5 */
    CU_ASSERT_EQUAL(sl_quantile_sorted(5, five, 0.2), 1.0);  /* rank 1 */
    CU_ASSERT_EQUAL(sl_quantile_sorted(5, five, 0.21), 2.0); /* ceil 1.05 */
    CU_ASSERT_EQUAL(sl_quantile_sorted(5, five, 0.8), 4.0);  /* rank 4 */
    CU_ASSERT_EQUAL(sl_quantile_sorted(5, five, 0.0), 1.0);
    CU_ASSERT_EQUAL(sl_quantile_sorted(5, five, 1.0), 5.0);
    CU_ASSERT_EQUAL(sl_quantile_sorted(1, one, 0.99), 7.0);
    for (int i = 0; i < 100; i++)
        hundred[i] = i + 1;
    /* 0.07 x 100 is 7.000000000000001 in doubles: still rank 7. */
    CU_ASSERT_EQUAL(sl_quantile_sorted(100, hundred, 0.07), 7.0);
    CU_ASSERT_EQUAL(sl_quantile_sorted(100, hundred, 0.95), 95.0);
    CU_ASSERT_EQUAL(sl_quantile_sorted(100, hundred, 0.951), 96.0);
}

/* Ranks 50 -+ 1.96 x 5 on 1..100 give x_(40) and x_(60); the ranks clamp
 * to the sample at the ends. */
static void test_quantile_ci_ranks(void)
{
    double x[100], lo, hi;

    for (int i = 0; i < 100; i++)
        x[i] = i + 1;
    sl_quantile_ci(100, x, 0.5, 0.05, &lo, &hi);
    CU_ASSERT_EQUAL(lo, 40.0);
    CU_ASSERT_EQUAL(hi, 60.0);
    sl_quantile_ci(100, x, 0.999, 0.05, &lo, &hi);
    CU_ASSERT_EQUAL(hi, 100.0);
    CU_ASSERT(lo >= 99.0 - 3.0 && lo <= 99.0);
    sl_quantile_ci(100, x, 0.0, 0.05, &lo, &hi);
    CU_ASSERT_EQUAL(lo, 1.0);
    CU_ASSERT_EQUAL(hi, 1.0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The interval for the 0.9-quantile of U(0, 1) samples contains 0.9 in
 * at least 1 - alpha of the samples (within STATS_COVER_SE). */
static void test_quantile_ci_coverage(void)
{
    enum { T = 400, REPS = 1000 };
    const double prob = 0.9, alpha = 0.05;
    double *x = malloc(T * sizeof *x);
    int covered = 0;

    CU_ASSERT_FATAL(x != NULL);
    for (int rep = 0; rep < REPS; rep++) {
        sl_rng r;
        double lo, hi;

        sl_rng_init(&r, STATS_SEED + 1, (uint64_t)rep);
        for (int i = 0; i < T; i++)
            x[i] = sl_rng_uniform(&r);
        qsort(x, T, sizeof *x, cmp_double);
        sl_quantile_ci(T, x, prob, alpha, &lo, &hi);
        covered += lo <= prob && prob <= hi;
    }
    free(x);
    CU_ASSERT(covers("quantile CI", covered, REPS, alpha));
}

static void test_normal_upper(void)
{
    CU_ASSERT(close_rel("z(0.05)", sl_normal_upper(0.05), 1.959963984540054,
                        8 * DBL_EPSILON));
    CU_ASSERT(close_rel("z(0.01)", sl_normal_upper(0.01), 2.5758293035489004,
                        8 * DBL_EPSILON));
}

/* ---- Weighted least squares ------------------------------------------- */

/* Points on y = 2 - x/2, any weights: the fit returns the line. */
static void test_wls_exact_line(void)
{
    double x[6], y[6], se[6], slope, slope_se, icpt;

    for (int i = 0; i < 6; i++) {
        x[i] = log(100.0 * pow(4.0, i));
        y[i] = 2.0 - 0.5 * x[i];
        se[i] = 0.01 * (i + 1);
    }
    CU_ASSERT_EQUAL_FATAL(sl_wls_slope(6, x, y, se, &slope, &slope_se, &icpt),
                          SL_OK);
    CU_ASSERT(close_rel("slope", slope, -0.5, STATS_FIT_TOL));
    CU_ASSERT(close_rel("intercept", icpt, 2.0, STATS_FIT_TOL * 16));
}

/* se(slope)^2 = sum w / (sum w sum w x^2 - (sum w x)^2), w = 1/se^2;
 * with equal se it is se^2 / sum (x - xbar)^2. */
static void test_wls_slope_se(void)
{
    const double x[5] = {1.0, 2.0, 3.0, 5.0, 8.0};
    const double y[5] = {0.3, -0.1, 0.4, 0.0, 0.2};
    double se[5], slope, slope_se, icpt, sw = 0, swx = 0, swxx = 0;
    double xbar = 19.0 / 5, sxx = 0;

    for (int i = 0; i < 5; i++) {
        se[i] = 0.25;
        sxx += (x[i] - xbar) * (x[i] - xbar);
    }
    CU_ASSERT_EQUAL_FATAL(sl_wls_slope(5, x, y, se, &slope, &slope_se, &icpt),
                          SL_OK);
    CU_ASSERT(close_rel("equal-weight se", slope_se, 0.25 / sqrt(sxx),
                        STATS_FIT_TOL));

    for (int i = 0; i < 5; i++) {
        double w;

        se[i] = 0.1 * (i + 1);
        w = 1.0 / (se[i] * se[i]);
        sw += w;
        swx += w * x[i];
        swxx += w * x[i] * x[i];
    }
    CU_ASSERT_EQUAL_FATAL(sl_wls_slope(5, x, y, se, &slope, &slope_se, &icpt),
                          SL_OK);
    CU_ASSERT(close_rel("weighted se", slope_se,
                        sqrt(sw / (sw * swxx - swx * swx)), STATS_FIT_TOL));
}

/* Fewer than two points, a zero or NaN se, a non-finite y, equal x. */
static void test_wls_invalid(void)
{
    double x[3] = {1, 2, 3}, y[3] = {1, 2, 3}, se[3] = {1, 1, 1};
    double s = 42, sse = 42, c = 42;

    CU_ASSERT_EQUAL(sl_wls_slope(1, x, y, se, &s, &sse, &c), SL_EINVAL);
    se[1] = 0.0;
    CU_ASSERT_EQUAL(sl_wls_slope(3, x, y, se, &s, &sse, &c), SL_EINVAL);
    se[1] = NAN;
    CU_ASSERT_EQUAL(sl_wls_slope(3, x, y, se, &s, &sse, &c), SL_EINVAL);
    se[1] = 1e-200; /* 1/se^2 overflows */
    CU_ASSERT_EQUAL(sl_wls_slope(3, x, y, se, &s, &sse, &c), SL_EINVAL);
    se[1] = 1.0;
    y[2] = INFINITY;
    CU_ASSERT_EQUAL(sl_wls_slope(3, x, y, se, &s, &sse, &c), SL_EINVAL);
    y[2] = 3.0;
    x[1] = x[2] = 1.0;
    CU_ASSERT_EQUAL(sl_wls_slope(3, x, y, se, &s, &sse, &c), SL_EINVAL);
    CU_ASSERT(s == 42 && sse == 42 && c == 42);
}

/* ---- |N(0, Sigma)| ---------------------------------------------------- */

/* Sigma = I_d: |N(0, I_d)| is chi with d degrees, quantile
 * sqrt(chisq_Pinv(prob, d)), density 2 r f_chisq(r^2). */
static void test_normnorm_identity(void)
{
    const size_t dims[] = {1, 3, 8};
    const double prob = 0.95;

    for (size_t i = 0; i < 3; i++) {
        size_t d = dims[i];
        double *S = calloc(d * d, sizeof *S), q = 0, want, dens, se;

        CU_ASSERT_FATAL(S != NULL);
        for (size_t j = 0; j < d; j++)
            S[j * d + j] = 1.0;
        CU_ASSERT_EQUAL(sl_normnorm_quantile(d, S, prob, STATS_SEED,
                                             STATS_NORMNORM_DRAWS, &q),
                        SL_OK);
        want = sqrt(gsl_cdf_chisq_Pinv(prob, (double)d));
        dens = 2.0 * want * gsl_ran_chisq_pdf(want * want, (double)d);
        se = sqrt(prob * (1.0 - prob) / STATS_NORMNORM_DRAWS) / dens;
        if (fabs(q - want) > STATS_MC_SE_TOL * se) {
            fprintf(stderr, "\n  d=%zu: q %.6f want %.6f (%.1f se)\n", d, q,
                    want, fabs(q - want) / se);
            CU_FAIL("normnorm quantile off the chi quantile");
        }
        free(S);
    }
}

/* R diag(4, 1, 1/4) R^T and the permuted diag(1/4, 4, 1) give the
 * quantile of diag(4, 1, 1/4) up to the eigensolver's rounding; 16 Sigma
 * gives 4 times it. */
static void test_normnorm_rotation_scaling(void)
{
    const double c = cos(0.7), s = sin(0.7);
    /* R: a rotation by 0.7 in the (0, 1) plane. */
    const double R[9] = {c, -s, 0, s, c, 0, 0, 0, 1};
    const double lam[3] = {4.0, 1.0, 0.25};
    const double P[9] = {0.25, 0, 0, 0, 4.0, 0, 0, 0, 1.0};
    double D[9] = {0}, S[9], S16[9], qd = 0, qs = 0, q16 = 0, qp = 0;

    for (int i = 0; i < 3; i++)
        D[i * 3 + i] = lam[i];
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            double v = 0;

            for (int k = 0; k < 3; k++)
                v += R[i * 3 + k] * lam[k] * R[j * 3 + k];
            S[i * 3 + j] = v;
        }
    }
    for (int i = 0; i < 3; i++) /* exact symmetry */
        for (int j = 0; j < i; j++)
            S[i * 3 + j] = S[j * 3 + i];
    for (int i = 0; i < 9; i++)
        S16[i] = 16.0 * D[i];
    CU_ASSERT_EQUAL(sl_normnorm_quantile(3, D, 0.9, STATS_SEED, 20000, &qd),
                    SL_OK);
    CU_ASSERT_EQUAL(sl_normnorm_quantile(3, S, 0.9, STATS_SEED, 20000, &qs),
                    SL_OK);
    CU_ASSERT_EQUAL(sl_normnorm_quantile(3, S16, 0.9, STATS_SEED, 20000, &q16),
                    SL_OK);
    CU_ASSERT_EQUAL(sl_normnorm_quantile(3, P, 0.9, STATS_SEED, 20000, &qp),
                    SL_OK);
    CU_ASSERT(close_rel("rotated", qs, qd, STATS_ROTATE_TOL));
    CU_ASSERT(close_rel("permuted", qp, qd, STATS_ROTATE_TOL));
    CU_ASSERT(close_rel("scaled by 16", q16, 4.0 * qd, 4 * DBL_EPSILON));
}

/* Rank one, v v^T: the eigenvalues |v|^2 and two rounding-level ones
 * (clipped), so the quantile is |v| times that of |N(0, 1)| (1.959964
 * at 0.95) within Monte Carlo error. */
static void test_normnorm_rank_one(void)
{
    const double v[3] = {1.0, 1.0 / 3, 1.0 / 7};
    double S[9], q = 0, norm = 0, want, dens, se;

    for (int i = 0; i < 3; i++) {
        norm += v[i] * v[i];
        for (int j = 0; j < 3; j++)
            S[i * 3 + j] = v[i] * v[j];
    }
    norm = sqrt(norm);
    CU_ASSERT_EQUAL_FATAL(
        sl_normnorm_quantile(3, S, 0.95, STATS_SEED, STATS_NORMNORM_DRAWS, &q),
        SL_OK);
    want = norm * gsl_cdf_ugaussian_Qinv(0.025);
    dens = 2.0 * gsl_ran_ugaussian_pdf(want / norm) / norm;
    se = sqrt(0.95 * 0.05 / STATS_NORMNORM_DRAWS) / dens;
    CU_ASSERT(fabs(q - want) <= STATS_MC_SE_TOL * se);
}

/* Same arguments, same bits; another seed, another value. */
static void test_normnorm_deterministic(void)
{
    const double S[4] = {2.0, 0.5, 0.5, 1.0};
    double q1 = 0, q2 = 0, q3 = 0;

    CU_ASSERT_EQUAL(sl_normnorm_quantile(2, S, 0.99, 7, 5000, &q1), SL_OK);
    CU_ASSERT_EQUAL(sl_normnorm_quantile(2, S, 0.99, 7, 5000, &q2), SL_OK);
    CU_ASSERT_EQUAL(sl_normnorm_quantile(2, S, 0.99, 8, 5000, &q3), SL_OK);
    CU_ASSERT(memcmp(&q1, &q2, sizeof q1) == 0);
    CU_ASSERT(q1 != q3);
}

/* d = 0, no draws, prob out of [0, 1], NaN, asymmetric, indefinite. */
static void test_normnorm_invalid(void)
{
    double S[4] = {1.0, 0.0, 0.0, 1.0}, q = 42.0;

    CU_ASSERT_EQUAL(sl_normnorm_quantile(0, S, 0.9, 1, 10, &q), SL_EINVAL);
    CU_ASSERT_EQUAL(sl_normnorm_quantile(2, S, 0.9, 1, 0, &q), SL_EINVAL);
    CU_ASSERT_EQUAL(sl_normnorm_quantile(2, S, 1.5, 1, 10, &q), SL_EINVAL);
    S[3] = NAN;
    CU_ASSERT_EQUAL(sl_normnorm_quantile(2, S, 0.9, 1, 10, &q), SL_EINVAL);
    S[3] = 1.0;
    S[1] = 0.5; /* S[2] stays 0 */
    CU_ASSERT_EQUAL(sl_normnorm_quantile(2, S, 0.9, 1, 10, &q), SL_EINVAL);
    S[1] = S[2] = 2.0; /* eigenvalues 3 and -1 */
    CU_ASSERT_EQUAL(sl_normnorm_quantile(2, S, 0.9, 1, 10, &q), SL_ENOTSPD);
    CU_ASSERT_EQUAL(q, 42.0);
}

void register_stats_suite(void)
{
    CU_pSuite s = CU_add_suite("stats", NULL, NULL);

    testing_add(s, "cp_closed_small", test_cp_closed_small);
    testing_add(s, "cp_published", test_cp_published);
    testing_add(s, "cp_matches_gsl_beta", test_cp_matches_gsl_beta);
    testing_add(s, "cp_large_trials", test_cp_large_trials);
    testing_add(s, "cp_invalid", test_cp_invalid);
    testing_add(s, "cp_coverage", test_cp_coverage);
    testing_add(s, "sort_nan_last", test_sort_nan_last);
    testing_add(s, "quantile_order_statistic", test_quantile_order_statistic);
    testing_add(s, "quantile_ci_ranks", test_quantile_ci_ranks);
    testing_add(s, "quantile_ci_coverage", test_quantile_ci_coverage);
    testing_add(s, "normal_upper", test_normal_upper);
    testing_add(s, "wls_exact_line", test_wls_exact_line);
    testing_add(s, "wls_slope_se", test_wls_slope_se);
    testing_add(s, "wls_invalid", test_wls_invalid);
    testing_add(s, "normnorm_identity", test_normnorm_identity);
    testing_add(s, "normnorm_rotation_scaling", test_normnorm_rotation_scaling);
    testing_add(s, "normnorm_rank_one", test_normnorm_rank_one);
    testing_add(s, "normnorm_deterministic", test_normnorm_deterministic);
    testing_add(s, "normnorm_invalid", test_normnorm_invalid);
}
