/* test_limit.c -- CUnit suite "limit": the Gaussian infinite-prompt limit.
 *
 * sl_limit_gauss_forward, _quad and _backward on cases worked out by hand
 * (integer or dyadic entries: every operation exact); the limit is affine
 * in the query; and the limit is the limit: F_n of n = 1e6 tokens drawn
 * from N(m, S), streamed through sl_stream without storing the prompt,
 * lies within the rigorous Chebyshev/Markov bound of MATH.md section 4,
 *
 *   |F_n - F_inf| <= 2 sqrt(2 T / (n delta)),
 *   T = kappa (tr(V S V^T) + |V S a|^2),  kappa = exp(a^T S a),
 *
 * which holds with probability >= 1 - delta once n >= 8 (kappa - 1) /
 * delta.  The parameters are chosen so that the same bound excludes
 * V (m + a), the limit with S left out of the tilt (a plausible bug).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "kernels/limit.h"
#include "kernels/stream.h"
#include "measure/gauss.h"
#include "random/rng.h"
#include "testing.h"

/* Affinity in x: both sides are sums of a few products of the inputs,
 * rounded at most about 2 D + 4 times relative to their absolute size
 * (see affine_scale); 16 covers D = 3 with margin. */
#define LIMIT_AFFINE_TOL_EPS 16.0

/* The Monte Carlo check: failure probability delta, prompt length n, and
 * the tilt's size a^T S a (kappa = e^0.1 = 1.105, so that
 * 8 (kappa - 1) / delta = 8.4e5 <= n). */
#define LIMIT_MC_DELTA 1.0e-6
#define LIMIT_MC_N     1000000
#define LIMIT_MC_QUAD  0.1
#define LIMIT_SEED     20251206u

static int near(double got, double want, double tol, const char *what)
{
    double err = fabs(got - want);
    if (err <= tol)
        return 1;
    fprintf(stderr, "\n  %s: got %a want %a |err| %a > tol %a\n", what, got,
            want, err, tol);
    return 0;
}

/* m = (1, 2), S = [2 1; 0.5 3] (not symmetric, so that S a and S^T a
 * differ: the contract reads S by rows), W = [2 1 0; 0 3 1],
 * x = (1, -1, 0): a = (1, -3), S a = (-1, -8.5), mu = (0, -6.5), and for
 * V = [1 2; 3 4; 5 6; 7 8], F = V mu = (-13, -26, -39, -52). */
static void test_forward_hand(void)
{
    const double m[2] = {1.0, 2.0};
    const double S[4] = {2.0, 1.0, 0.5, 3.0};
    const double W[6] = {2.0, 1.0, 0.0, 0.0, 3.0, 1.0};
    const double V[8] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0};
    const double x[3] = {1.0, -1.0, 0.0};
    const double want_F[4] = {-13.0, -26.0, -39.0, -52.0};
    double a[2], mu[2], F[4];
    sl_limit_gauss_forward(2, 3, 4, m, S, W, V, x, a, mu, F);
    CU_ASSERT(near(a[0], 1.0, 0.0, "a[0]"));
    CU_ASSERT(near(a[1], -3.0, 0.0, "a[1]"));
    CU_ASSERT(near(mu[0], 0.0, 0.0, "mu[0]"));
    CU_ASSERT(near(mu[1], -6.5, 0.0, "mu[1]"));
    for (int r = 0; r < 4; r++)
        CU_ASSERT(near(F[r], want_F[r], 0.0, "F"));
}

/* S = [2 1; 0.5 3] (not symmetric, so S a and S^T a differ), a = (1, -3):
 * work = S a = (-1, -8.5), a^T S a = -1 + 25.5 = 24.5. */
static void test_quad_hand(void)
{
    const double S[4] = {2.0, 1.0, 0.5, 3.0};
    const double a[2] = {1.0, -3.0};
    double work[2];
    double q = sl_limit_gauss_quad(2, S, a, work);
    CU_ASSERT(near(q, 24.5, 0.0, "a^T S a"));
    CU_ASSERT(near(work[0], -1.0, 0.0, "work[0]"));
    CU_ASSERT(near(work[1], -8.5, 0.0, "work[1]"));
}

/* S = [2 1; 0.5 3] (read by rows, as above), V = [1 2; 3 4; 5 6; 7 8],
 * x = (1, -1, 0.5), mu = (0.5, -6), g = (1, 2, 0, -0.5):
 *   h = V^T g = (3.5, 6), c = S h = (13, 19.75),
 *   dV = g mu^T = [0.5 -6; 1 -12; 0 0; -0.25 3],
 *   dW = c x^T = [13 -13 6.5; 19.75 -19.75 9.875]. */
static void test_backward_hand(void)
{
    const double S[4] = {2.0, 1.0, 0.5, 3.0};
    const double V[8] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0};
    const double x[3] = {1.0, -1.0, 0.5};
    const double mu[2] = {0.5, -6.0};
    const double g[4] = {1.0, 2.0, 0.0, -0.5};
    const double want_dV[8] = {0.5, -6.0, 1.0, -12.0, 0.0, 0.0, -0.25, 3.0};
    const double want_dW[6] = {13.0, -13.0, 6.5, 19.75, -19.75, 9.875};
    double h[2], c[2], dV[8], dW[6];
    sl_limit_gauss_backward(2, 3, 4, S, V, x, mu, g, h, c, dV, dW);
    CU_ASSERT(near(h[0], 3.5, 0.0, "h[0]"));
    CU_ASSERT(near(h[1], 6.0, 0.0, "h[1]"));
    CU_ASSERT(near(c[0], 13.0, 0.0, "c[0]"));
    CU_ASSERT(near(c[1], 19.75, 0.0, "c[1]"));
    for (int i = 0; i < 8; i++)
        CU_ASSERT(near(dV[i], want_dV[i], 0.0, "dV"));
    for (int i = 0; i < 6; i++)
        CU_ASSERT(near(dW[i], want_dW[i], 0.0, "dW"));
}

/* The Gaussian problem of the remaining tests: D = 3, Dq = 2, p = 2,
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

/* Size of the terms of F_r(x): sum_k |V_rk| (|m_k| + (|S| |W| |x|)_k). */
static double affine_scale(size_t r, const double *x)
{
    double acc = 0.0;
    for (size_t k = 0; k < GD; k++) {
        double t = fabs(g_m[k]);
        for (size_t j = 0; j < GD; j++)
            for (size_t l = 0; l < GDQ; l++)
                t +=
                    fabs(g_S[k * GD + j]) * fabs(g_W[j * GDQ + l]) * fabs(x[l]);
        acc += fabs(g_V[r * GD + k]) * t;
    }
    return acc;
}

static void limit_F(const double *x, double *F)
{
    double a[GD], mu[GD];
    sl_limit_gauss_forward(GD, GDQ, GP, g_m, g_S, g_W, g_V, x, a, mu, F);
}

/* F_inf(x1 + t x2) = F_inf(x1) + t (F_inf(x2) - F_inf(0)). */
static void test_affine_in_x(void)
{
    const double x1[GDQ] = {1.0, -0.5};
    const double x2[GDQ] = {-0.75, 2.0};
    const double zero[GDQ] = {0.0, 0.0};
    const double ts[3] = {0.7, -2.5, 10.0};
    double F1[GP], F2[GP], F0[GP];
    limit_F(x1, F1);
    limit_F(x2, F2);
    limit_F(zero, F0);
    for (int k = 0; k < 3; k++) {
        double t = ts[k], xt[GDQ], Ft[GP];
        for (size_t j = 0; j < GDQ; j++)
            xt[j] = x1[j] + t * x2[j];
        limit_F(xt, Ft);
        for (size_t r = 0; r < GP; r++) {
            double scale =
                affine_scale(r, xt) + affine_scale(r, x1) +
                fabs(t) * (affine_scale(r, x2) + affine_scale(r, zero));
            CU_ASSERT(near(Ft[r], F1[r] + t * (F2[r] - F0[r]),
                           LIMIT_AFFINE_TOL_EPS * DBL_EPSILON * scale,
                           "affine"));
        }
    }
}

/* F_n of n tokens from N(m, S) within the MATH.md section 4 bound of
 * F_inf, and the bound tight enough to reject V (m + a).  S is scaled by
 * 0.01 so that the tilt a (with a^T S a = 0.1 fixed by the constraint on
 * n) is large against S a: the wrong limit is then far outside. */
static void test_gauss_large_n(void)
{
    const double x[GDQ] = {1.0, -0.5};
    double S[GD * GD], W[GD * GDQ], work[GD];
    for (size_t k = 0; k < GD * GD; k++)
        S[k] = 0.01 * g_S[k];

    /* 1. Scale W so that a^T S a = LIMIT_MC_QUAD. */
    double a[GD], mu[GD], F_inf[GP];
    sl_limit_gauss_forward(GD, GDQ, GP, g_m, S, g_W, g_V, x, a, mu, F_inf);
    double c = sqrt(LIMIT_MC_QUAD / sl_limit_gauss_quad(GD, S, a, work));
    for (size_t k = 0; k < GD * GDQ; k++)
        W[k] = c * g_W[k];
    sl_limit_gauss_forward(GD, GDQ, GP, g_m, S, W, g_V, x, a, mu, F_inf);
    double quad = sl_limit_gauss_quad(GD, S, a, work); /* work = S a */
    double kappa = exp(quad);
    const double n = LIMIT_MC_N, delta = LIMIT_MC_DELTA;
    CU_ASSERT_FATAL(n >= 8.0 * (kappa - 1.0) / delta);

    /* 2. T = kappa (tr(V S V^T) + |V S a|^2) and the bound. */
    double tr = 0.0, vsa2 = 0.0;
    for (size_t r = 0; r < GP; r++) {
        const double *v = g_V + r * GD;
        double vsa = 0.0;
        for (size_t k = 0; k < GD; k++) {
            vsa += v[k] * work[k];
            for (size_t j = 0; j < GD; j++)
                tr += v[k] * S[k * GD + j] * v[j];
        }
        vsa2 += vsa * vsa;
    }
    double T = kappa * (tr + vsa2);
    double bound = 2.0 * sqrt(2.0 * T / (n * delta));

    /* 3. Stream n tokens, never stored. */
    sl_gauss gs;
    CU_ASSERT_FATAL(sl_gauss_init(&gs, GD, g_m, S) == SL_OK);
    sl_rng r;
    sl_rng_init(&r, LIMIT_SEED, 0);
    double z[GD], mean[GD], F_n[GP], lognorm;
    sl_stream st;
    sl_stream_init(&st, GD, mean, NULL, NULL);
    for (size_t i = 0; i < LIMIT_MC_N; i++) {
        sl_gauss_draw(&gs, &r, z, work);
        sl_stream_push(&st, a[0] * z[0] + a[1] * z[1] + a[2] * z[2], z);
    }
    sl_gauss_free(&gs);
    sl_stream_finish(&st, GP, g_V, F_n, &lognorm, NULL);

    /* 4. |F_n - F_inf| within the bound, |F_n - V (m + a)| beyond it. */
    double err2 = 0.0, wrong2 = 0.0;
    for (size_t q = 0; q < GP; q++) {
        double wrong = 0.0;
        for (size_t k = 0; k < GD; k++)
            wrong += g_V[q * GD + k] * (g_m[k] + a[k]);
        err2 += (F_n[q] - F_inf[q]) * (F_n[q] - F_inf[q]);
        wrong2 += (F_n[q] - wrong) * (F_n[q] - wrong);
    }
    double err = sqrt(err2), wrong = sqrt(wrong2);
    if (!(err <= bound) || !(wrong > bound))
        fprintf(stderr,
                "\n  |F_n - F_inf| %a, |F_n - V(m + a)| %a, "
                "bound %a (n %a, delta %a, kappa %a, T %a)\n",
                err, wrong, bound, n, delta, kappa, T);
    CU_ASSERT(err <= bound);
    CU_ASSERT(wrong > bound);
}

void register_limit_suite(void)
{
    CU_pSuite s = CU_add_suite("limit", NULL, NULL);
    testing_add(s, "forward_hand", test_forward_hand);
    testing_add(s, "quad_hand", test_quad_hand);
    testing_add(s, "backward_hand", test_backward_hand);
    testing_add(s, "affine_in_x", test_affine_in_x);
    testing_add(s, "gauss_large_n", test_gauss_large_n);
}
