/* test_exact.c -- suite "exact": the closed-form non-Gaussian limits.
 *
 * Three independent checks of src/oracle/exact_limits.c: the Langevin
 * coefficients against Bernoulli numbers computed exactly (GMP rationals);
 * the MPFR tilted means against central differences of the MPFR log-MGF
 * (the mean is its derivative); the double means against the MPFR ones.
 * Brute force closes the loop for Rademacher tokens: attention over the
 * 2^D atoms of z = A xi with masses 2^-D is F(mu) exactly, so the
 * attention kernel must land within its budget of the exact limit.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <gmp.h>

#include "kernels/attention.h"
#include "kernels/limit.h"
#include "oracle/budget.h"
#include "oracle/exact_limits.h"
#include "oracle/oracle_mpfr.h"
#include "testing.h"

/* Double coordinate means against MPFR: a few roundings and libm calls
 * (exact_limits.c), 8 ulps of the value. */
#define EXACT_COORD_TOL_ULP 8.0

/* Linear maps and mixtures in double: dot products of length <= 8 over
 * the coordinate means, with the tilt's own rounding carried through;
 * 64 eps of the sum of absolute values of the terms. */
#define EXACT_MAP_TOL_EPS 64.0

/* Central differences at 512 bits with step 2^-80: truncation below
 * 2^-150 relative, so 2^-120 has room. */
#define EXACT_FD_PREC_BITS 512
#define EXACT_FD_STEP_EXP  (-80)
#define EXACT_FD_TOL       0x1p-120

/* ---- Langevin coefficients --------------------------------------------- */

/* c_k = 2^{2k} B_{2k} / (2k)! from B_0 = 1 and sum_{j <= m} C(m+1, j)
 * B_j = 0, in exact rationals, rounded once to double. */
static void test_langevin_coefficients(void)
{
    enum { M = 2 * SL_LANGEVIN_TERMS + 1 };
    mpq_t B[M], t, c;
    mpz_t binom, fact;
    mpfr_t r;
    mpz_inits(binom, fact, (mpz_ptr)0);
    mpq_inits(t, c, (mpq_ptr)0);
    mpfr_init2(r, 53);
    for (int m = 0; m < M; m++)
        mpq_init(B[m]);
    mpq_set_ui(B[0], 1, 1);
    for (int m = 1; m < M; m++) {
        mpq_set_ui(B[m], 0, 1);
        for (int j = 0; j < m; j++) {
            mpz_bin_uiui(binom, (unsigned long)m + 1, (unsigned long)j);
            mpq_set_z(t, binom);
            mpq_mul(t, t, B[j]);
            mpq_add(B[m], B[m], t);
        }
        mpq_set_si(t, -1, (unsigned long)m + 1);
        mpq_mul(B[m], B[m], t);
    }
    int bad = 0;
    for (int k = 1; k <= SL_LANGEVIN_TERMS; k++) {
        mpz_fac_ui(fact, 2 * (unsigned long)k);
        mpq_set_z(t, fact);
        mpq_div(c, B[2 * k], t);
        mpq_set_ui(t, 1, 1);
        mpz_mul_2exp(mpq_numref(t), mpq_numref(t), 2 * (mp_bitcnt_t)k);
        mpq_mul(c, c, t);
        mpfr_set_q(r, c, MPFR_RNDN);
        double want = mpfr_get_d(r, MPFR_RNDN);
        if (want != sl_langevin_coef[k - 1]) {
            fprintf(stderr, "\n  c_%d: table %a, Bernoulli %a", k,
                    sl_langevin_coef[k - 1], want);
            bad++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    for (int m = 0; m < M; m++)
        mpq_clear(B[m]);
    mpfr_clear(r);
    mpq_clears(t, c, (mpq_ptr)0);
    mpz_clears(binom, fact, (mpz_ptr)0);
}

/* ---- coordinate means ---------------------------------------------------- */

static const sl_coord_law laws[] = {
    {SL_COORD_RADEMACHER, 0.5}, {SL_COORD_RADEMACHER, 2.0},
    {SL_COORD_UNIFORM, 0.5},    {SL_COORD_UNIFORM, 1.0},
    {SL_COORD_UNIFORM, 3.0},    {SL_COORD_GAUSS, 1.5},
};
enum { NLAWS = sizeof laws / sizeof laws[0] };

/* Tilts: a log grid from 1e-300 to 1e3, both signs, and the series /
 * closed-form boundary |b t| = 1 from both sides. */
static size_t tilts(double b, double *t)
{
    size_t n = 0;
    for (double e = -300.0; e <= 3.0; e += 0.37) {
        t[n++] = pow(10.0, e);
        t[n++] = -pow(10.0, e);
    }
    t[n++] = 1.0 / b;
    t[n++] = nextafter(1.0 / b, 0.0);
    t[n++] = nextafter(1.0 / b, 2.0 / b);
    t[n++] = -1.0 / b;
    t[n++] = 0.0;
    return n;
}

static void test_coord_vs_mpfr(void)
{
    double t[2000];
    mpfr_t tt, want;
    mpfr_inits2(SL_ORACLE_PREC_BITS, tt, want, (mpfr_ptr)0);
    int bad = 0;
    double worst = 0.0;
    for (int l = 0; l < NLAWS; l++) {
        size_t n = tilts(laws[l].scale, t);
        for (size_t i = 0; i < n; i++) {
            double got = sl_exact_coord_mean(laws[l], t[i]);
            mpfr_set_d(tt, t[i], MPFR_RNDN);
            sl_exact_coord_mean_mpfr(laws[l], tt, want, 0);
            double err = sl_oracle_abs_err(got, want);
            double w = fabs(mpfr_get_d(want, MPFR_RNDN));
            double tol = EXACT_COORD_TOL_ULP * DBL_EPSILON * w + 0x1p-1074;
            worst = fmax(worst, err / tol);
            if (!(err <= tol)) {
                if (bad++ < 4)
                    fprintf(stderr, "\n  law %d t %a: got %a want %a", l, t[i],
                            got, mpfr_get_d(want, MPFR_RNDN));
            }
        }
    }
    printf("\n    coordinate means: max err/tol %.3g", worst);
    CU_ASSERT_EQUAL(bad, 0);
    mpfr_clears(tt, want, (mpfr_ptr)0);
}

/* The tilted mean is Lambda'(t): central difference of the MPFR log-MGF
 * at EXACT_FD_PREC_BITS bits. */
static void test_mean_is_logmgf_derivative(void)
{
    static const double ts[] = {1e-30, -1e-5, 0.01, 0.3, -0.999,
                                1.0,   2.5,   -7.0, 40.0};
    mpfr_prec_t P = EXACT_FD_PREC_BITS;
    mpfr_t t, h, lp, lm, fd, mean, d;
    mpfr_inits2(P, t, h, lp, lm, fd, mean, d, (mpfr_ptr)0);
    int bad = 0;
    for (int l = 0; l < NLAWS; l++) {
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
            mpfr_set_ui_2exp(h, 1, EXACT_FD_STEP_EXP, MPFR_RNDN);
            mpfr_mul_d(h, h, fabs(ts[i]) > 1.0 ? fabs(ts[i]) : 1.0, MPFR_RNDN);
            if (fabs(ts[i]) < 1e-20)
                mpfr_set_d(h, ts[i] * 0x1p-40, MPFR_RNDN);
            mpfr_set_d(t, ts[i], MPFR_RNDN);
            mpfr_add(t, t, h, MPFR_RNDN);
            sl_exact_coord_logmgf_mpfr(laws[l], t, lp, P);
            mpfr_set_d(t, ts[i], MPFR_RNDN);
            mpfr_sub(t, t, h, MPFR_RNDN);
            sl_exact_coord_logmgf_mpfr(laws[l], t, lm, P);
            mpfr_sub(fd, lp, lm, MPFR_RNDN);
            mpfr_div(fd, fd, h, MPFR_RNDN);
            mpfr_div_2ui(fd, fd, 1, MPFR_RNDN);
            mpfr_set_d(t, ts[i], MPFR_RNDN);
            sl_exact_coord_mean_mpfr(laws[l], t, mean, P);
            mpfr_sub(d, fd, mean, MPFR_RNDN);
            mpfr_div(d, d, mean, MPFR_RNDN);
            if (!(fabs(mpfr_get_d(d, MPFR_RNDN)) <= EXACT_FD_TOL)) {
                if (bad++ < 4)
                    fprintf(stderr, "\n  law %d t %a: rel diff %a", l, ts[i],
                            mpfr_get_d(d, MPFR_RNDN));
            }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    mpfr_clears(t, h, lp, lm, fd, mean, d, (mpfr_ptr)0);
}

/* ---- Rademacher tokens by brute force ------------------------------------ */

/* Attention over the 2^3 atoms z = A xi, xi_j = +-c_j, masses 1/8, with
 * W = V = I and x = a: zbar = F(mu) exactly, so the kernel must be
 * within its budget of the MPFR limit; the double limit must be within
 * EXACT_MAP_TOL_EPS of it. */
static void test_rademacher_atoms(void)
{
    enum { D = 3, N = 8 };
    static const double As[2][D * D] = {
        {1, 0, 0, 0, 1, 0, 0, 0, 1},
        {0.9, -0.4, 0.3, 0.2, 1.1, -0.7, -0.5, 0.6, 0.8},
    };
    static const double as[4][D] = {
        {0.3, -0.2, 0.1},
        {2.0, -1.5, 0.75},
        {40.0, -25.0, 3.0},
        {1e-9, 2e-9, -3e-9},
    };
    const sl_coord_law rl[D] = {{SL_COORD_RADEMACHER, 0.5},
                                {SL_COORD_RADEMACHER, 1.3},
                                {SL_COORD_RADEMACHER, 2.0}};
    double I[D * D] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    double Z[N * D], pi[N], a[D], w[N], zb[D], F[D], ln, mean[D];
    double ez[D], eF[D], eln;
    mpfr_t *ex = sl_mpvec_new(D, 0);
    CU_ASSERT_FATAL(ex != NULL);
    int bad = 0;
    double worst = 0.0;
    for (int ai = 0; ai < 2; ai++) {
        const double *A = As[ai];
        for (int i = 0; i < N; i++) {
            pi[i] = 1.0 / N;
            for (int k = 0; k < D; k++) {
                double acc = 0.0;
                for (int j = 0; j < D; j++) {
                    double xi = (i >> j) & 1 ? rl[j].scale : -rl[j].scale;
                    acc += A[k * D + j] * xi;
                }
                Z[i * D + k] = acc;
            }
        }
        for (int q = 0; q < 4; q++) {
            sl_attn_forward(N, D, D, D, Z, I, I, as[q], pi, a, w, zb, F, &ln);
            sl_budget_attn(N, D, D, D, Z, I, I, as[q], pi, NULL, ez, eF, &eln);
            sl_exact_linmap_mean_mpfr(D, D, A, rl, as[q], ex, 0);
            sl_exact_linmap_mean(D, D, A, rl, as[q], mean);
            for (int k = 0; k < D; k++) {
                double err = sl_oracle_abs_err(zb[k], ex[k]);
                double scale = 0.0;
                for (int j = 0; j < D; j++)
                    scale += fabs(A[k * D + j]) * rl[j].scale;
                double tol = EXACT_MAP_TOL_EPS * DBL_EPSILON * scale;
                double err2 = sl_oracle_abs_err(mean[k], ex[k]);
                worst = fmax(worst, err / ez[k]);
                if (!(err <= ez[k]) || !(err2 <= tol)) {
                    if (bad++ < 4)
                        fprintf(stderr,
                                "\n  A%d a%d k%d: attn %a limit %a exact %a",
                                ai, q, k, zb[k], mean[k],
                                mpfr_get_d(ex[k], MPFR_RNDN));
                }
            }
        }
    }
    printf("\n    atoms vs exact limit: max err/budget %.3g", worst);
    CU_ASSERT_EQUAL(bad, 0);
    sl_mpvec_free(D, ex);
}

/* Gaussian coordinates through A: mean A diag(s^2) A^T a, which is the
 * Gaussian limit with S = A diag(s^2) A^T. */
static void test_gauss_linmap(void)
{
    enum { D = 3 };
    static const double A[D * D] = {0.9,  -0.4, 0.3, 0.2, 1.1,
                                    -0.7, -0.5, 0.6, 0.8};
    const sl_coord_law gl[D] = {
        {SL_COORD_GAUSS, 0.5}, {SL_COORD_GAUSS, 1.0}, {SL_COORD_GAUSS, 2.0}};
    double S[D * D], I[D * D] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, m[D] = {0};
    double a[D] = {0.7, -1.2, 0.4}, t[D], mu[D], F[D], mean[D];
    for (int i = 0; i < D; i++) {
        for (int j = 0; j < D; j++) {
            double acc = 0.0;
            for (int k = 0; k < D; k++)
                acc += A[i * D + k] * gl[k].scale * gl[k].scale * A[j * D + k];
            S[i * D + j] = acc;
        }
    }
    sl_limit_gauss_forward(D, D, D, m, S, I, I, a, t, mu, F);
    sl_exact_linmap_mean(D, D, A, gl, a, mean);
    for (int k = 0; k < D; k++) {
        double scale = 0.0;
        for (int j = 0; j < D; j++)
            scale += fabs(S[k * D + j] * a[j]);
        CU_ASSERT(fabs(mean[k] - mu[k]) <=
                  EXACT_MAP_TOL_EPS * DBL_EPSILON * scale);
    }
}

/* ---- Gaussian mixtures ------------------------------------------------- */

static void test_mixture(void)
{
    enum { K = 3, D = 2 };
    static const double pi[K] = {0.2, 0.5, 0.3};
    static const double m[K * D] = {-1.0, 0.5, 2.0, 0.0, 0.3, -3.0};
    static const double S[K * D * D] = {1.0, 0.2, 0.2, 0.5,  0.3,  0.0,
                                        0.0, 2.0, 1.5, -0.4, -0.4, 0.7};
    static const double as[4][D] = {
        {0.1, -0.2},
        {1.0, 2.0},
        {-3.0, 0.5},
        {100.0, -80.0},
    };
    mpfr_prec_t P = EXACT_FD_PREC_BITS;
    mpfr_t *ex = sl_mpvec_new(D, P), *am = sl_mpvec_new(D, P);
    mpfr_t lp, lm, h;
    CU_ASSERT_FATAL(ex != NULL && am != NULL);
    mpfr_inits2(P, lp, lm, h, (mpfr_ptr)0);
    int bad = 0;
    for (int q = 0; q < 4; q++) {
        double mean[D];
        CU_ASSERT_EQUAL(sl_exact_mixture_mean(K, D, pi, m, S, as[q], mean),
                        SL_OK);
        sl_exact_mixture_mean_mpfr(K, D, pi, m, S, as[q], ex, P);

        /* Double against MPFR: the log-weights carry u |l_k|, so the
         * scale includes 1 + max |l_k| ~ |a|^2 |S|. */
        double big = 1.0, tm = 0.0;
        for (int c = 0; c < K; c++) {
            double quad = 0.0, lin = 0.0;
            for (int i = 0; i < D; i++) {
                lin += as[q][i] * m[c * D + i];
                for (int j = 0; j < D; j++)
                    quad += as[q][i] * S[c * D * D + i * D + j] * as[q][j];
                tm = fmax(tm, fabs(m[c * D + i]) +
                                  fabs(S[c * D * D + i * D] * as[q][0]) +
                                  fabs(S[c * D * D + i * D + 1] * as[q][1]));
            }
            big = fmax(big, 1.0 + fabs(lin) + fabs(quad));
        }
        for (int k = 0; k < D; k++) {
            double err = sl_oracle_abs_err(mean[k], ex[k]);
            if (!(isfinite(mean[k]) &&
                  err <= EXACT_MAP_TOL_EPS * DBL_EPSILON * big * tm)) {
                if (bad++ < 4)
                    fprintf(stderr, "\n  mixture a%d k%d: got %a want %a", q, k,
                            mean[k], mpfr_get_d(ex[k], MPFR_RNDN));
            }
        }

        /* MPFR mean against the gradient of the MPFR log-MGF. */
        for (int k = 0; k < D; k++) {
            mpfr_set_ui_2exp(h, 1, EXACT_FD_STEP_EXP, MPFR_RNDN);
            for (int i = 0; i < D; i++)
                mpfr_set_d(am[i], as[q][i], MPFR_RNDN);
            mpfr_add(am[k], am[k], h, MPFR_RNDN);
            sl_exact_mixture_logmgf_mpfr(K, D, pi, m, S, am, lp, P);
            mpfr_sub(am[k], am[k], h, MPFR_RNDN);
            mpfr_sub(am[k], am[k], h, MPFR_RNDN);
            sl_exact_mixture_logmgf_mpfr(K, D, pi, m, S, am, lm, P);
            mpfr_sub(lp, lp, lm, MPFR_RNDN);
            mpfr_div(lp, lp, h, MPFR_RNDN);
            mpfr_div_2ui(lp, lp, 1, MPFR_RNDN);
            mpfr_sub(lp, lp, ex[k], MPFR_RNDN);
            double d = fabs(mpfr_get_d(lp, MPFR_RNDN));
            if (!(d <= EXACT_FD_TOL * big * tm)) {
                if (bad++ < 4)
                    fprintf(stderr, "\n  mixture a%d k%d: fd diff %a", q, k, d);
            }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);

    /* One component: the Gaussian limit m + S a. */
    double I[D * D] = {1, 0, 0, 1}, t[D], mu[D], F[D], mean[D];
    for (int q = 0; q < 4; q++) {
        sl_exact_mixture_mean(1, D, pi, m, S, as[q], mean);
        sl_limit_gauss_forward(D, D, D, m, S, I, I, as[q], t, mu, F);
        for (int k = 0; k < D; k++)
            CU_ASSERT(fabs(mean[k] - mu[k]) <=
                      EXACT_MAP_TOL_EPS * DBL_EPSILON *
                          (fabs(mu[k]) + fabs(m[k]) + 1.0));
    }
    mpfr_clears(lp, lm, h, (mpfr_ptr)0);
    sl_mpvec_free(D, ex);
    sl_mpvec_free(D, am);
}

void register_exact_suite(void)
{
    CU_pSuite s = CU_add_suite("exact", NULL, NULL);
    testing_add(s, "langevin_coefficients", test_langevin_coefficients);
    testing_add(s, "coord_vs_mpfr", test_coord_vs_mpfr);
    testing_add(s, "mean_is_logmgf_derivative", test_mean_is_logmgf_derivative);
    testing_add(s, "rademacher_atoms", test_rademacher_atoms);
    testing_add(s, "gauss_linmap", test_gauss_linmap);
    testing_add(s, "mixture", test_mixture);
}
