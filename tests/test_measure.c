/* test_measure.c -- CUnit suite "measure": tilts and moments of the token
 * measures z = m + L eta.
 *
 * For the Gaussian law every quantity has a closed form of its own
 * (spec/THEOREMS.md sections 2, 5, 6 and 8), computed here without the
 * O(D^4) moment sums: mu_a = m + S a, C_a = S, kappa = exp(a^T S a),
 * E[e^2 y y^T] = kappa (S + S a a^T S) and
 *   T_c = kappa [tr S (s2 + r2) + |S h|^2 + 2 rho <S a, S h>
 *               + |S a|^2 (s2 + r2)],  s2 = h^T S h, rho = h^T S a,
 *                                      r2 = rho^2.
 * For the other laws, importance-weighted Monte Carlo checks the second
 * moments.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/limit.h"
#include "kernels/linalg.h"
#include "measure/measure.h"
#include "random/rng.h"
#include "testing.h"

/* Closed forms vs the generic sums: O(D^2) roundings of O(kappa) terms. */
#define MEASURE_TOL       1e-12
#define MEASURE_MC_SIGMAS 6.0
#define MEASURE_MC_DRAWS  400000

#define D 3
static const double M[D] = {0.3, -0.2, 0.5};
static const double S[D * D] = {1.0, 0.3, -0.2, 0.3, 0.8, 0.1, -0.2, 0.1, 1.5};
static const double A[D] = {0.4, -0.3, 0.25};
static const double H[D] = {1.0, 0.5, -0.7};

static int rel_close(double got, double want, double tol, const char *what)
{
    if (fabs(got - want) <= tol * fmax(1.0, fabs(want)))
        return 1;
    fprintf(stderr, "\n  %s: got %a want %a\n", what, got, want);
    return 0;
}

static sl_measure make(const char *law)
{
    sl_law l;
    sl_measure mu;
    CU_ASSERT_FATAL(sl_law_parse(law, &l) == 0);
    CU_ASSERT_FATAL(sl_measure_init(&mu, &l, D, M, S) == SL_OK);
    return mu;
}

static void test_gauss_tilt(void)
{
    sl_measure mu = make("gaussian");
    double lognorm, mu_a[D], cov[D * D], work[2 * D], Sa[D];
    sl_measure_tilt(&mu, A, &lognorm, mu_a, cov, work);
    sl_matvec(D, D, S, A, Sa);
    double quad = sl_dot(D, A, Sa);
    CU_ASSERT(rel_close(lognorm, sl_dot(D, A, M) + 0.5 * quad, MEASURE_TOL,
                        "lognorm"));
    for (int k = 0; k < D; k++)
        CU_ASSERT(rel_close(mu_a[k], M[k] + Sa[k], MEASURE_TOL, "mu_a"));
    for (int k = 0; k < D * D; k++)
        CU_ASSERT(rel_close(cov[k], S[k], MEASURE_TOL, "cov_a"));
    sl_measure_free(&mu);
}

static void test_gauss_moments(void)
{
    sl_measure mu = make("gaussian");
    double sm[D * D], sc[D * D], Sa[D], Sh[D];
    sl_moments mo = {0.0, sm, sc};
    CU_ASSERT_FATAL(sl_measure_moments(&mu, A, H, &mo) == SL_OK);
    sl_matvec(D, D, S, A, Sa);
    sl_matvec(D, D, S, H, Sh);
    double quad = sl_dot(D, A, Sa), kappa = exp(quad);
    CU_ASSERT(rel_close(mo.kappa, kappa, MEASURE_TOL, "kappa"));
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++)
            CU_ASSERT(rel_close(sm[i * D + j],
                                kappa * (S[i * D + j] + Sa[i] * Sa[j]),
                                MEASURE_TOL, "sig_mean"));
    double trS = S[0] + S[4] + S[8];
    double s2 = sl_dot(D, H, Sh), rho = sl_dot(D, H, Sa), r2 = rho * rho;
    double Tc =
        kappa * (trS * (s2 + r2) + sl_dot(D, Sh, Sh) +
                 2.0 * rho * sl_dot(D, Sa, Sh) + sl_dot(D, Sa, Sa) * (s2 + r2));
    CU_ASSERT(rel_close(sc[0] + sc[4] + sc[8], Tc, MEASURE_TOL, "T_c"));
    sl_measure_free(&mu);
}

/* E[e^2 y y^T] and E[e^2 |y r - C_a h|^2] by importance weighting of
 * draws, e = e^{<a,z>} / E e^{<a,z>} (exact normaliser). */
static void mc_moments(const char *law)
{
    sl_measure mu = make(law);
    double lognorm, mu_a[D], cov[D * D], work[2 * D], sm[D * D], sc[D * D];
    sl_moments mo = {0.0, sm, sc};
    sl_measure_tilt(&mu, A, &lognorm, mu_a, cov, work);
    CU_ASSERT_FATAL(sl_measure_moments(&mu, A, H, &mo) == SL_OK);
    double Ch[D];
    sl_matvec(D, D, cov, H, Ch);

    sl_rng r;
    sl_rng_init(&r, 4242, 1);
    double eta[D], z[D], y[D];
    double tm = 0, tm2 = 0, tc = 0, tc2 = 0, e2 = 0;
    for (int i = 0; i < MEASURE_MC_DRAWS; i++) {
        sl_measure_draw_white(&mu, &r, 1, eta);
        sl_measure_color(&mu, eta, z);
        double e = exp(sl_dot(D, A, z) - lognorm);
        for (int k = 0; k < D; k++)
            y[k] = z[k] - mu_a[k];
        double rr = sl_dot(D, H, y), fm = 0, fc = 0;
        for (int k = 0; k < D; k++) {
            fm += y[k] * y[k];
            fc += (y[k] * rr - Ch[k]) * (y[k] * rr - Ch[k]);
        }
        tm += e * e * fm;
        tm2 += e * e * e * e * fm * fm;
        tc += e * e * fc;
        tc2 += e * e * e * e * fc * fc;
        e2 += e * e;
    }
    double n = MEASURE_MC_DRAWS;
    double se_m = sqrt((tm2 / n - (tm / n) * (tm / n)) / n);
    double se_c = sqrt((tc2 / n - (tc / n) * (tc / n)) / n);
    double se_k = se_m; /* kappa's own error is smaller; reuse a scale */
    CU_ASSERT(rel_close(tm / n, sm[0] + sm[4] + sm[8],
                        MEASURE_MC_SIGMAS * se_m / (sm[0] + sm[4] + sm[8]),
                        law));
    CU_ASSERT(rel_close(tc / n, sc[0] + sc[4] + sc[8],
                        MEASURE_MC_SIGMAS * se_c / (sc[0] + sc[4] + sc[8]),
                        law));
    CU_ASSERT(rel_close(e2 / n, mo.kappa, MEASURE_MC_SIGMAS * se_k, law));
    sl_measure_free(&mu);
}

static void test_rademacher_moments(void)
{
    mc_moments("rademacher");
}

static void test_uniform_moments(void)
{
    mc_moments("uniform");
}

static void test_mixture_moments(void)
{
    mc_moments("mixture");
}

/* Every law has mean m and covariance S: sample check. */
static void test_mean_and_cov(void)
{
    const char *names[] = {"gaussian", "rademacher", "uniform", "mixture"};
    for (int k = 0; k < 4; k++) {
        sl_measure mu = make(names[k]);
        sl_rng r;
        sl_rng_init(&r, 99, (uint64_t)k);
        double eta[D], z[D], s1[D] = {0}, s2[D * D] = {0};
        int n = 200000;
        for (int i = 0; i < n; i++) {
            sl_measure_draw_white(&mu, &r, 1, eta);
            sl_measure_color(&mu, eta, z);
            for (int a = 0; a < D; a++) {
                s1[a] += z[a];
                for (int b = 0; b < D; b++)
                    s2[a * D + b] += (z[a] - M[a]) * (z[b] - M[b]);
            }
        }
        for (int a = 0; a < D; a++) {
            CU_ASSERT(fabs(s1[a] / n - M[a]) < 6.0 * sqrt(S[a * D + a] / n));
            for (int b = 0; b < D; b++)
                CU_ASSERT(fabs(s2[a * D + b] / n - S[a * D + b]) <
                          6.0 * sqrt(4.0 / n));
        }
        sl_measure_free(&mu);
    }
}

/* The tilt is affine in a for the Gaussian law only. */
static void test_affine_only_gaussian(void)
{
    const char *names[] = {"gaussian", "rademacher", "uniform", "mixture"};
    for (int k = 0; k < 4; k++) {
        sl_measure mu = make(names[k]);
        double a2[D], m1[D], m2[D], m0[D], ln, work[2 * D], zero[D] = {0};
        for (int i = 0; i < D; i++)
            a2[i] = 4.0 * A[i];
        sl_measure_tilt(&mu, zero, &ln, m0, NULL, work);
        sl_measure_tilt(&mu, A, &ln, m1, NULL, work);
        sl_measure_tilt(&mu, a2, &ln, m2, NULL, work);
        double gap = 0.0; /* m2 - m0 - 4 (m1 - m0) */
        for (int i = 0; i < D; i++)
            gap = fmax(gap, fabs(m2[i] - m0[i] - 4.0 * (m1[i] - m0[i])));
        if (k == 0) {
            CU_ASSERT(gap < 1e-14);
        } else {
            CU_ASSERT(gap > 1e-3);
        }
        sl_measure_free(&mu);
    }
}

void register_measure_suite(void)
{
    CU_pSuite s = CU_add_suite("measure", NULL, NULL);
    testing_add(s, "gauss_tilt", test_gauss_tilt);
    testing_add(s, "gauss_moments", test_gauss_moments);
    testing_add(s, "rademacher_moments", test_rademacher_moments);
    testing_add(s, "uniform_moments", test_uniform_moments);
    testing_add(s, "mixture_moments", test_mixture_moments);
    testing_add(s, "mean_and_cov", test_mean_and_cov);
    testing_add(s, "affine_only_gaussian", test_affine_only_gaussian);
}
