/* test_linear.c -- CUnit suite "linear": linear attention and its limit.
 *
 * sl_linear_forward and sl_linear_limit_gauss on cases worked out by hand
 * (integer entries: every operation exact); the finite-prompt output of
 * n = 2e5 Gaussian tokens against the limit, within a bound taken from the
 * sample's own variance; and the identity that motivates the project: for
 * centred Gaussian tokens (m = 0) the linear and softmax limits coincide,
 * while for m != 0 they differ by V m (<m, a> - 1).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/limit.h"
#include "kernels/linear.h"
#include "measure/gauss.h"
#include "random/rng.h"
#include "testing.h"

/* Monte Carlo acceptance: |L_n - L_inf| within this many standard errors
 * of the mean, the standard error estimated from the same sample.  For a
 * Gaussian error 8 sigmas is a 1e-15 event; the products <a, z> z have
 * all moments, so the CLT holds well at n = 2e5. */
#define LINEAR_MC_SIGMAS 8.0

/* Sample size and seed of the Monte Carlo test. */
#define LINEAR_MC_N 200000
#define LINEAR_SEED 20251205u

/* Relative rounding of V (S a) or V m <m, a>: dot products of length
 * D = 3, twice nested: 2 D + 2 rounding steps at most, of the absolute
 * sizes of the terms (see abs_scale below); 4 D leaves margin. */
#define LINEAR_TOL_EPS (4.0 * 3.0)

static int near(double got, double want, double tol, const char *what)
{
    double err = fabs(got - want);
    if (err <= tol)
        return 1;
    fprintf(stderr, "\n  %s: got %a want %a |err| %a > tol %a\n", what, got,
            want, err, tol);
    return 0;
}

/* The Gaussian problem shared by the tests: D = 3, Dq = 2, p = 2, a
 * non-diagonal S (diagonally dominant, hence positive definite). */
enum { GD = 3, GDQ = 2, GP = 2 };
static const double g_m[GD] = {0.5, -1.0, 0.25};
/* clang-format off */
static const double g_S[GD * GD] = { 1.0, 0.3, -0.2,
                                     0.3, 0.8,  0.1,
                                    -0.2, 0.1,  0.5};
/* clang-format on */
static const double g_W[GD * GDQ] = {0.6, -0.3, 0.2, 0.5, -0.4, 0.1};
static const double g_V[GP * GD] = {1.0, -0.5, 0.3, 0.2, 0.7, -1.1};
static const double g_x[GDQ] = {1.0, -0.5};

/* sum_k |V_rk| sum_j |S_kj| |a_j|: the size of the terms of (V S a)_r. */
static double abs_scale(size_t r, const double *S, const double *a)
{
    double acc = 0.0;
    for (size_t k = 0; k < GD; k++) {
        double sa = 0.0;
        for (size_t j = 0; j < GD; j++)
            sa += fabs(S[k * GD + j]) * fabs(a[j]);
        acc += fabs(g_V[r * GD + k]) * sa;
    }
    return acc;
}

/* W = [2 1 0; 0 3 1], x = (1, -1, 0): a = (1, -3).  Tokens (1, 0) and
 * (1, 1) have scores 1 and -2, so u = ((1, 0) - 2 (1, 1)) / 2 =
 * (-0.5, -1) and, for V = [1 2; 3 4; 5 6; 7 8], L = V u = (-2.5, -5.5,
 * -8.5, -11.5). */
static void test_forward_hand(void)
{
    const double Z[4] = {1.0, 0.0, 1.0, 1.0};
    const double W[6] = {2.0, 1.0, 0.0, 0.0, 3.0, 1.0};
    const double V[8] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0};
    const double x[3] = {1.0, -1.0, 0.0};
    const double want_L[4] = {-2.5, -5.5, -8.5, -11.5};
    double a[2], u[2], L[4];
    sl_linear_forward(2, 2, 3, 4, Z, W, V, x, a, u, L);
    CU_ASSERT(near(a[0], 1.0, 0.0, "a[0]"));
    CU_ASSERT(near(a[1], -3.0, 0.0, "a[1]"));
    CU_ASSERT(near(u[0], -0.5, 0.0, "u[0]"));
    CU_ASSERT(near(u[1], -1.0, 0.0, "u[1]"));
    for (int r = 0; r < 4; r++)
        CU_ASSERT(near(L[r], want_L[r], 0.0, "L"));
}

/* Same W, x, V; m = (1, 2), S = [2 1; 1 3]: S a = (-1, -8),
 * m <m, a> = -5 m = (-5, -10), u = (-6, -18), L = (-42, -90, -138,
 * -186). */
static void test_limit_hand(void)
{
    const double m[2] = {1.0, 2.0};
    const double S[4] = {2.0, 1.0, 1.0, 3.0};
    const double W[6] = {2.0, 1.0, 0.0, 0.0, 3.0, 1.0};
    const double V[8] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0};
    const double x[3] = {1.0, -1.0, 0.0};
    const double want_L[4] = {-42.0, -90.0, -138.0, -186.0};
    double a[2], u[2], L[4];
    sl_linear_limit_gauss(2, 3, 4, m, S, W, V, x, a, u, L);
    CU_ASSERT(near(a[0], 1.0, 0.0, "a[0]"));
    CU_ASSERT(near(a[1], -3.0, 0.0, "a[1]"));
    CU_ASSERT(near(u[0], -6.0, 0.0, "u[0]"));
    CU_ASSERT(near(u[1], -18.0, 0.0, "u[1]"));
    for (int r = 0; r < 4; r++)
        CU_ASSERT(near(L[r], want_L[r], 0.0, "L"));
}

/* n = 2e5 tokens from N(m, S): L_n is the mean of y_i = V <a, z_i> z_i,
 * so |L_n - L_inf| must lie within LINEAR_MC_SIGMAS standard errors
 * sd(y) / sqrt(n).  The same bound must exclude V S a, the limit without
 * the m m^T term (a plausible bug), or the test could not fail. */
static void test_limit_vs_average(void)
{
    const size_t n = LINEAR_MC_N;
    double *Z = malloc(n * GD * sizeof(double));
    CU_ASSERT_FATAL(Z != NULL);
    sl_gauss gs;
    CU_ASSERT_FATAL(sl_gauss_init(&gs, GD, g_m, g_S) == SL_OK);
    sl_rng r;
    sl_rng_init(&r, LINEAR_SEED, 0);
    double work[GD];
    for (size_t i = 0; i < n; i++)
        sl_gauss_draw(&gs, &r, Z + i * GD, work);
    sl_gauss_free(&gs);

    double a[GD], u[GD], L[GP], a_inf[GD], u_inf[GD], L_inf[GP];
    sl_linear_forward(n, GD, GDQ, GP, Z, g_W, g_V, g_x, a, u, L);
    sl_linear_limit_gauss(GD, GDQ, GP, g_m, g_S, g_W, g_V, g_x, a_inf, u_inf,
                          L_inf);

    /* Sample variance of y_i about L (the sample mean), per output. */
    double ss[GP] = {0.0, 0.0};
    for (size_t i = 0; i < n; i++) {
        const double *z = Z + i * GD;
        double s = a[0] * z[0] + a[1] * z[1] + a[2] * z[2];
        for (size_t q = 0; q < GP; q++) {
            double y = 0.0;
            for (size_t k = 0; k < GD; k++)
                y += g_V[q * GD + k] * s * z[k];
            ss[q] += (y - L[q]) * (y - L[q]);
        }
    }
    free(Z);

    int wrong_excluded = 0;
    double ma = g_m[0] * a_inf[0] + g_m[1] * a_inf[1] + g_m[2] * a_inf[2];
    for (size_t q = 0; q < GP; q++) {
        double se = sqrt(ss[q] / (double)(n - 1)) / sqrt((double)n);
        double bound = LINEAR_MC_SIGMAS * se;
        CU_ASSERT(near(L[q], L_inf[q], bound, "L_n vs L_inf"));
        /* (V S a)_q = (V (u_inf - m <m, a>))_q: the limit with the m m^T
         * term left out. */
        double wrong = 0.0;
        for (size_t k = 0; k < GD; k++)
            wrong += g_V[q * GD + k] * (u_inf[k] - g_m[k] * ma);
        if (fabs(L[q] - wrong) > bound)
            wrong_excluded = 1;
    }
    CU_ASSERT(wrong_excluded);
}

/* m = 0: V S W x is both the linear and the softmax limit. */
static void test_softmax_limit_m0(void)
{
    const double zero[GD] = {0.0, 0.0, 0.0};
    const double xs[3][GDQ] = {{1.0, -0.5}, {-2.0, 0.25}, {0.3, 3.0}};
    for (int k = 0; k < 3; k++) {
        double a[GD], u[GD], L[GP], a2[GD], mu[GD], F[GP];
        sl_linear_limit_gauss(GD, GDQ, GP, zero, g_S, g_W, g_V, xs[k], a, u, L);
        sl_limit_gauss_forward(GD, GDQ, GP, zero, g_S, g_W, g_V, xs[k], a2, mu,
                               F);
        for (size_t r = 0; r < GP; r++)
            CU_ASSERT(near(L[r], F[r],
                           LINEAR_TOL_EPS * DBL_EPSILON * abs_scale(r, g_S, a),
                           "m = 0: L vs F"));
    }
}

/* m != 0: L_inf - F_inf = V (m <m, a> - m) = V m (<m, a> - 1), which is
 * far from 0 here (the test fails if either limit ignores m). */
static void test_softmax_limit_m_nonzero(void)
{
    double a[GD], u[GD], L[GP], a2[GD], mu[GD], F[GP];
    sl_linear_limit_gauss(GD, GDQ, GP, g_m, g_S, g_W, g_V, g_x, a, u, L);
    sl_limit_gauss_forward(GD, GDQ, GP, g_m, g_S, g_W, g_V, g_x, a2, mu, F);
    double ma = g_m[0] * a[0] + g_m[1] * a[1] + g_m[2] * a[2];
    int differ = 0;
    for (size_t r = 0; r < GP; r++) {
        double vm = 0.0, scale = abs_scale(r, g_S, a);
        for (size_t k = 0; k < GD; k++) {
            vm += g_V[r * GD + k] * g_m[k];
            scale += fabs(g_V[r * GD + k] * g_m[k]) * (1.0 + fabs(ma));
        }
        double tol = LINEAR_TOL_EPS * DBL_EPSILON * scale;
        CU_ASSERT(
            near(L[r] - F[r], vm * (ma - 1.0), 2.0 * tol, "m != 0: L - F"));
        if (fabs(L[r] - F[r]) > 1.0e3 * tol)
            differ = 1;
    }
    CU_ASSERT(differ);
}

void register_linear_suite(void)
{
    CU_pSuite s = CU_add_suite("linear", NULL, NULL);
    testing_add(s, "forward_hand", test_forward_hand);
    testing_add(s, "limit_hand", test_limit_hand);
    testing_add(s, "limit_vs_average", test_limit_vs_average);
    testing_add(s, "softmax_limit_m0", test_softmax_limit_m0);
    testing_add(s, "softmax_limit_m_nonzero", test_softmax_limit_m_nonzero);
}
