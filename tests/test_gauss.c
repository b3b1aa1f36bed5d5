/* test_gauss.c -- CUnit suite "gauss": the Gaussian measure of gauss.h.
 *
 * Validation (D = 0, non-finite entries, asymmetry beyond and within the
 * tolerance, indefinite and singular matrices), the Cholesky factor
 * against S, the GSL error handler left as it was found, and the sample
 * mean and covariance of 2e5 draws against (m, S), entry by entry in
 * units of their exact standard errors.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include <gsl/gsl_errno.h>

#include "measure/gauss.h"
#include "testing.h"

/* |L L^T - S| per entry, relative to max |S_ij|: D + 1 roundings per
 * entry of the factor and of the product, with room. */
#define GAUSS_CHOL_TOL (16.0 * 3.0 * DBL_EPSILON)

/* Largest accepted deviation of a sample moment, in standard errors. */
#define GAUSS_Z_TOL 6.0

/* Draws for the moment checks. */
#define GAUSS_DRAWS 200000

#define GAUSS_TEST_SEED UINT64_C(20251211)

/* A 3 x 3 covariance with every correlation non-zero. */
static const double test_m[3] = {0.5, -0.25, 1.0};
/* clang-format off */
static const double test_S[9] = {
     1.0, 0.3, -0.2,
     0.3, 0.8,  0.1,
    -0.2, 0.1,  0.5,
};
/* clang-format on */

/* g empty, as gauss.h promises after a failure. */
static int is_empty(const sl_gauss *g)
{
    return g->dim == 0 && g->mean == NULL && g->cov == NULL && g->chol == NULL;
}

static void test_rejects_dim_zero(void)
{
    sl_gauss g;

    CU_ASSERT_EQUAL(sl_gauss_init(&g, 0, test_m, test_S), SL_EINVAL);
    CU_ASSERT(is_empty(&g));
}

/* NaN or infinity in S, or in m, is SL_EINVAL. */
static void test_rejects_non_finite(void)
{
    double S[9], m[3] = {0.5, -0.25, 1.0};
    sl_gauss g;

    for (int i = 0; i < 9; i++)
        S[i] = test_S[i];
    S[4] = NAN;
    CU_ASSERT_EQUAL(sl_gauss_init(&g, 3, m, S), SL_EINVAL);
    CU_ASSERT(is_empty(&g));
    S[4] = 0.8;
    S[1] = S[3] = INFINITY;
    CU_ASSERT_EQUAL(sl_gauss_init(&g, 3, m, S), SL_EINVAL);
    S[1] = S[3] = 0.3;
    m[2] = -INFINITY;
    CU_ASSERT_EQUAL(sl_gauss_init(&g, 3, m, S), SL_EINVAL);
    CU_ASSERT(is_empty(&g));
}

/* S_01 = 0.3, S_10 = 0.31 is asymmetric: SL_ENOTSPD, and the pair is
 * reported by sl_gauss_symmetric. */
static void test_rejects_asymmetric(void)
{
    double S[9];
    size_t row = 99, col = 99;
    sl_gauss g;

    for (int i = 0; i < 9; i++)
        S[i] = test_S[i];
    S[3] = 0.31;
    CU_ASSERT_EQUAL(sl_gauss_init(&g, 3, test_m, S), SL_ENOTSPD);
    CU_ASSERT(is_empty(&g));
    CU_ASSERT_FALSE(sl_gauss_symmetric(3, S, &row, &col));
    CU_ASSERT_EQUAL(row, 0);
    CU_ASSERT_EQUAL(col, 1);
}

/* An asymmetry of a few ulps, as a computed S has, is accepted and
 * symmetrised. */
static void test_accepts_rounding_asymmetry(void)
{
    double S[9];
    sl_gauss g;

    for (int i = 0; i < 9; i++)
        S[i] = test_S[i];
    S[3] = nextafter(nextafter(0.3, 1.0), 1.0);
    CU_ASSERT_EQUAL_FATAL(sl_gauss_init(&g, 3, test_m, S), SL_OK);
    CU_ASSERT_EQUAL(g.cov[1], g.cov[3]);
    sl_gauss_free(&g);
}

/* An indefinite S (eigenvalues 3, -1, 1) and a singular one (rank 1) are
 * SL_ENOTSPD. */
static void test_rejects_not_positive_definite(void)
{
    const double indefinite[9] = {1, 2, 0, 2, 1, 0, 0, 0, 1};
    const double singular[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    sl_gauss g;

    CU_ASSERT_EQUAL(sl_gauss_init(&g, 3, test_m, indefinite), SL_ENOTSPD);
    CU_ASSERT(is_empty(&g));
    CU_ASSERT_EQUAL(sl_gauss_init(&g, 3, test_m, singular), SL_ENOTSPD);
    CU_ASSERT(is_empty(&g));
}

/* L is lower triangular with a positive diagonal and L L^T = S. */
static void test_cholesky_reproduces_cov(void)
{
    sl_gauss g;
    double worst = 0.0, scale = 0.0;

    for (int i = 0; i < 9; i++)
        scale = fmax(scale, fabs(test_S[i]));
    CU_ASSERT_EQUAL_FATAL(sl_gauss_init(&g, 3, test_m, test_S), SL_OK);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT(g.chol[i * 3 + i] > 0.0);
        for (int j = i + 1; j < 3; j++)
            CU_ASSERT_EQUAL(g.chol[i * 3 + j], 0.0);
        for (int j = 0; j < 3; j++) {
            double acc = 0.0;

            for (int k = 0; k < 3; k++)
                acc += g.chol[i * 3 + k] * g.chol[j * 3 + k];
            worst = fmax(worst, fabs(acc - test_S[i * 3 + j]));
        }
    }
    CU_ASSERT(worst <= GAUSS_CHOL_TOL * scale);
    if (worst > GAUSS_CHOL_TOL * scale)
        fprintf(stderr, "\n  max |L L^T - S| = %a\n", worst);
    sl_gauss_free(&g);
}

/* Calls of the handler below. */
static int handler_calls;

static void counting_handler(const char *reason, const char *file, int line,
                             int gsl_errno)
{
    (void)reason;
    (void)file;
    (void)line;
    (void)gsl_errno;
    handler_calls++;
}

/* A failed factorisation neither calls nor replaces the caller's GSL
 * error handler. */
static void test_gsl_handler_restored(void)
{
    const double indefinite[9] = {1, 2, 0, 2, 1, 0, 0, 0, 1};
    gsl_error_handler_t *before = gsl_set_error_handler(counting_handler);
    sl_gauss g;

    handler_calls = 0;
    CU_ASSERT_EQUAL(sl_gauss_init(&g, 3, test_m, indefinite), SL_ENOTSPD);
    CU_ASSERT_EQUAL(handler_calls, 0);
    CU_ASSERT(gsl_set_error_handler(before) == counting_handler);
}

/* 2e5 draws: sample mean within GAUSS_Z_TOL standard errors of m
 * (se sqrt(S_ii / n)) and sample covariance of S (se
 * sqrt((S_ii S_jj + S_ij^2) / n), the Gaussian fourth moment). */
static void test_sample_moments(void)
{
    const double n = GAUSS_DRAWS;
    double z[3], work[3], sum[3] = {0}, cross[9] = {0};
    sl_gauss g;
    sl_rng r;

    CU_ASSERT_EQUAL_FATAL(sl_gauss_init(&g, 3, test_m, test_S), SL_OK);
    sl_rng_init(&r, GAUSS_TEST_SEED, 0);
    for (long t = 0; t < GAUSS_DRAWS; t++) {
        sl_gauss_draw(&g, &r, z, work);
        for (int i = 0; i < 3; i++) {
            sum[i] += z[i];
            for (int j = 0; j < 3; j++)
                cross[i * 3 + j] += (z[i] - test_m[i]) * (z[j] - test_m[j]);
        }
    }
    for (int i = 0; i < 3; i++) {
        double se = sqrt(test_S[i * 4] / n);
        double zs = (sum[i] / n - test_m[i]) / se;

        CU_ASSERT(fabs(zs) <= GAUSS_Z_TOL);
        if (fabs(zs) > GAUSS_Z_TOL)
            fprintf(stderr, "\n  mean[%d] = %a, z = %.2f\n", i, sum[i] / n, zs);
        for (int j = 0; j < 3; j++) {
            double sij = test_S[i * 3 + j];
            double se2 = sqrt((test_S[i * 4] * test_S[j * 4] + sij * sij) / n);
            double zc = (cross[i * 3 + j] / n - sij) / se2;

            CU_ASSERT(fabs(zc) <= GAUSS_Z_TOL);
            if (fabs(zc) > GAUSS_Z_TOL)
                fprintf(stderr, "\n  cov[%d][%d] = %a, z = %.2f\n", i, j,
                        cross[i * 3 + j] / n, zc);
        }
    }
    sl_gauss_free(&g);
}

void register_gauss_suite(void)
{
    CU_pSuite s = CU_add_suite("gauss", NULL, NULL);

    testing_add(s, "rejects_dim_zero", test_rejects_dim_zero);
    testing_add(s, "rejects_non_finite", test_rejects_non_finite);
    testing_add(s, "rejects_asymmetric", test_rejects_asymmetric);
    testing_add(s, "accepts_rounding_asymmetry",
                test_accepts_rounding_asymmetry);
    testing_add(s, "rejects_not_positive_definite",
                test_rejects_not_positive_definite);
    testing_add(s, "cholesky_reproduces_cov", test_cholesky_reproduces_cov);
    testing_add(s, "gsl_handler_restored", test_gsl_handler_restored);
    testing_add(s, "sample_moments", test_sample_moments);
}
