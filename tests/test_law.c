/* test_law.c -- CUnit suite "law": the one-dimensional token laws.
 *
 * The tilt functions are checked against each other by central
 * differences (Lambda' against Lambda, Lambda'' against Lambda'), the
 * tilted moments against the tilt functions, and the samplers against the
 * laws (mean 0, variance 1, and the tilted mean by importance weighting of
 * the draws).  A sampler drawing from the wrong law must be caught: the
 * last test feeds the Rademacher draws to the uniform law's tilted mean.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "measure/law.h"
#include "random/rng.h"
#include "testing.h"

/* Central differences with step h have error O(h^2 f''') + O(u / h);
 * with h = 1e-4 both are below 1e-7 for these smooth functions. */
#define LAW_FD_STEP 1e-4
#define LAW_FD_TOL  1e-7
/* Moments from tmoments vs tmean / tvar: a few roundings of O(1) sums,
 * and the uniform law's quadrature (32-point panels: exact to ~1e-15). */
#define LAW_MOMENT_TOL 1e-12
/* Monte Carlo checks: 6 standard errors. */
#define LAW_MC_SIGMAS 6.0
#define LAW_MC_DRAWS  400000

static const char *const laws[] = {"gaussian", "rademacher", "uniform",
                                   "mixture"};
static const double tilts[] = {-7.0, -1.3, -0.2, -1e-3, 0.0,
                               1e-6, 0.05, 0.7,  2.5,   11.0};
#define NLAWS  4
#define NTILTS (sizeof tilts / sizeof tilts[0])

static sl_law law_of(int k)
{
    sl_law l;
    CU_ASSERT_FATAL(sl_law_parse(laws[k], &l) == 0);
    return l;
}

static int close_to(double got, double want, double tol, const char *what,
                    const char *law, double t)
{
    if (fabs(got - want) <= tol * fmax(1.0, fabs(want)))
        return 1;
    fprintf(stderr, "\n  %s %s at t = %a: got %a want %a\n", law, what, t, got,
            want);
    return 0;
}

static void test_parse(void)
{
    sl_law l;
    CU_ASSERT(sl_law_parse("uniform", &l) == 0 && l.kind == SL_LAW_UNIFORM);
    CU_ASSERT(sl_law_parse("Uniform", &l) != 0);
    CU_ASSERT(sl_law_parse("", &l) != 0);
    CU_ASSERT(sl_law_parse(NULL, &l) != 0);
}

/* Lambda(0) = 0, Lambda'(0) = 0 (mean 0), Lambda''(0) = 1 (variance 1). */
static void test_unit_law(void)
{
    for (int k = 0; k < NLAWS; k++) {
        sl_law l = law_of(k);
        CU_ASSERT(fabs(sl_law_lmgf(&l, 0.0)) <= 1e-16);
        CU_ASSERT(fabs(sl_law_tmean(&l, 0.0)) <= 1e-16);
        CU_ASSERT(
            close_to(sl_law_tvar(&l, 0.0), 1.0, 1e-15, "tvar", laws[k], 0.0));
    }
}

static void test_tmean_is_derivative(void)
{
    double h = LAW_FD_STEP;
    for (int k = 0; k < NLAWS; k++) {
        sl_law l = law_of(k);
        for (size_t i = 0; i < NTILTS; i++) {
            double t = tilts[i];
            double fd =
                (sl_law_lmgf(&l, t + h) - sl_law_lmgf(&l, t - h)) / (2 * h);
            CU_ASSERT(close_to(sl_law_tmean(&l, t), fd, LAW_FD_TOL, "tmean",
                               laws[k], t));
        }
    }
}

static void test_tvar_is_derivative(void)
{
    double h = LAW_FD_STEP;
    for (int k = 0; k < NLAWS; k++) {
        sl_law l = law_of(k);
        for (size_t i = 0; i < NTILTS; i++) {
            double t = tilts[i];
            double fd =
                (sl_law_tmean(&l, t + h) - sl_law_tmean(&l, t - h)) / (2 * h);
            CU_ASSERT(close_to(sl_law_tvar(&l, t), fd, LAW_FD_TOL, "tvar",
                               laws[k], t));
        }
    }
}

/* mom[0] = 1, mom[1] about c = mean - c, mom[2] about the mean = var. */
static void test_tmoments(void)
{
    for (int k = 0; k < NLAWS; k++) {
        sl_law l = law_of(k);
        for (size_t i = 0; i < NTILTS; i++) {
            double t = tilts[i], mom[5], cen[5];
            double mean = sl_law_tmean(&l, t), var = sl_law_tvar(&l, t);
            sl_law_tmoments(&l, t, 0.5, mom);
            CU_ASSERT(
                close_to(mom[0], 1.0, LAW_MOMENT_TOL, "mom0", laws[k], t));
            CU_ASSERT(close_to(mom[1], mean - 0.5, LAW_MOMENT_TOL, "mom1",
                               laws[k], t));
            sl_law_tmoments(&l, t, mean, cen);
            CU_ASSERT(close_to(cen[2], var, LAW_MOMENT_TOL, "var", laws[k], t));
            CU_ASSERT(cen[4] >= cen[2] * cen[2] * (1 - LAW_MOMENT_TOL));
        }
    }
}

/* Draw mean 0, variance 1, and the importance-weighted mean at tilt t,
 * sum e^{t x} x / sum e^{t x}, near Lambda'(t). */
static void sample_stats(const sl_law *l, uint64_t stream, double t,
                         double *mean, double *var, double *tilted,
                         double *tilted_se)
{
    double *x = malloc(LAW_MC_DRAWS * sizeof(double));
    CU_ASSERT_FATAL(x != NULL);
    sl_rng r;
    sl_rng_init(&r, 77, stream);
    sl_law_draw(l, &r, LAW_MC_DRAWS, x);
    double s1 = 0, s2 = 0, w = 0, wx = 0, wxx = 0, ww = 0;
    for (size_t i = 0; i < LAW_MC_DRAWS; i++) {
        double e = exp(t * x[i]);
        s1 += x[i];
        s2 += x[i] * x[i];
        w += e;
        wx += e * x[i];
        wxx += e * x[i] * x[i];
        ww += e * e;
    }
    double n = LAW_MC_DRAWS;
    *mean = s1 / n;
    *var = s2 / n - *mean * *mean;
    *tilted = wx / w;
    double tv = wxx / w - *tilted * *tilted;
    *tilted_se = sqrt(tv * ww / (w * w)); /* effective size w^2 / ww */
    free(x);
}

static void test_sampler_moments(void)
{
    for (int k = 0; k < NLAWS; k++) {
        sl_law l = law_of(k);
        double mean, var, tm, se, t = 0.6;
        sample_stats(&l, (uint64_t)k, t, &mean, &var, &tm, &se);
        double n = LAW_MC_DRAWS;
        CU_ASSERT(close_to(mean, 0.0, LAW_MC_SIGMAS / sqrt(n), "draw mean",
                           laws[k], 0.0));
        /* var of x^2 is at most 2 for these laws (Gaussian: 2). */
        CU_ASSERT(close_to(var, 1.0, LAW_MC_SIGMAS * sqrt(2.0 / n), "draw var",
                           laws[k], 0.0));
        CU_ASSERT(close_to(tm, sl_law_tmean(&l, t), LAW_MC_SIGMAS * se,
                           "tilted mean", laws[k], t));
    }
}

/* Negative control: the Rademacher draws, judged as uniform, must fail
 * the tilted-mean comparison (tanh(2) = 0.964 vs the uniform law's 0.879,
 * far beyond 6 standard errors). */
static void test_wrong_law_detected(void)
{
    sl_law rad = law_of(1), uni = law_of(2);
    double mean, var, tm, se, t = 2.0;
    sample_stats(&rad, 9, t, &mean, &var, &tm, &se);
    CU_ASSERT(fabs(tm - sl_law_tmean(&uni, t)) > LAW_MC_SIGMAS * se);
    CU_ASSERT(fabs(tm - sl_law_tmean(&rad, t)) <= LAW_MC_SIGMAS * se);
}

/* Large tilts: finite values, means inside the support. */
static void test_extreme_tilts(void)
{
    const double big[] = {-800.0, -60.0, 60.0, 800.0};
    for (int k = 0; k < NLAWS; k++) {
        sl_law l = law_of(k);
        for (size_t i = 0; i < 4; i++) {
            double t = big[i], mom[5];
            CU_ASSERT(isfinite(sl_law_lmgf(&l, t)));
            CU_ASSERT(isfinite(sl_law_tmean(&l, t)));
            CU_ASSERT(sl_law_tvar(&l, t) >= 0.0);
            sl_law_tmoments(&l, t, 0.0, mom);
            for (int j = 0; j < 5; j++)
                CU_ASSERT(isfinite(mom[j]));
        }
    }
}

void register_law_suite(void)
{
    CU_pSuite s = CU_add_suite("law", NULL, NULL);
    testing_add(s, "parse", test_parse);
    testing_add(s, "unit_law", test_unit_law);
    testing_add(s, "tmean_is_derivative", test_tmean_is_derivative);
    testing_add(s, "tvar_is_derivative", test_tvar_is_derivative);
    testing_add(s, "tmoments", test_tmoments);
    testing_add(s, "sampler_moments", test_sampler_moments);
    testing_add(s, "wrong_law_detected", test_wrong_law_detected);
    testing_add(s, "extreme_tilts", test_extreme_tilts);
}
