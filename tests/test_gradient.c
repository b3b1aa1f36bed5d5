/* test_gradient.c -- CUnit suite "gradient": backward passes against
 * central differences of the forward passes.
 *
 * The parameters theta = (V, W) are perturbed, the loss is recomputed by
 * the forward kernel, and gradcheck.h compares the central differences
 * with sl_attn_backward (finite prompts) and sl_limit_gauss_backward (the
 * Gaussian limit), for a linear loss l = <g, F> and a nonlinear one
 * l = |F - y|^2 / 2 (g = F - y), on random small prompts (n = 7, D = 3,
 * Dq = 2, p = 2).  Negative controls: gradients that look right but are
 * not (dl/dW from the uncentred second moment sum_i w_i <h, z_i> z_i x^T,
 * which differs from C_w h x^T by <h, zbar> zbar x^T; dW transposed; dW
 * with its sign flipped) must be rejected by the same check.  Finally the
 * finite-prompt gradient at n = 1e5 Gaussian tokens must lie within eight
 * delta-method standard errors of the limit gradient.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gradcheck.h"
#include "kernels/attention.h"
#include "kernels/gradient.h"
#include "kernels/limit.h"
#include "measure/gauss.h"
#include "random/rng.h"
#include "testing.h"

/* Monte Carlo acceptance for the large-n test: within this many standard
 * errors (delta method for the self-normalised weights); for a Gaussian
 * error, 8 sigmas is a 1e-15 event. */
#define GRAD_MC_SIGMAS 8.0
#define GRAD_MC_N      100000

/* Fixed seed of this suite's random prompts. */
#define GRAD_SEED 20251207u

/* Number of random prompts per finite-difference test. */
#define GRAD_PROMPTS 5

/* Shapes: n tokens of dimension D, query Dq, output p; theta = (V, W). */
enum { GN = 7, GD = 3, GDQ = 2, GP = 2, GK = GP * GD + GD * GDQ };

/* What the loss needs besides theta. */
typedef struct grad_ctx {
    size_t n;
    const double *Z; /* n x D (finite prompt) */
    const double *m; /* D (limit) */
    const double *S; /* D x D (limit) */
    double x[GDQ];
    double g[GP]; /* linear loss <g, F> */
    double y[GP]; /* quadratic loss |F - y|^2 / 2 */
    int quadratic;
    int limit; /* the Gaussian limit instead of the prompt */
} grad_ctx;

/* The ways of making dl/dW that the tests use. */
typedef enum grad_variant {
    GRAD_RIGHT,      /* the kernel's */
    GRAD_UNCENTRED,  /* sum_i w_i <h, z_i> z_i x^T: wrong */
    GRAD_TRANSPOSED, /* dW laid out as a Dq x D matrix: wrong */
    GRAD_SIGN        /* -dW: wrong */
} grad_variant;

/* F for theta = (V, W); w (n) receives the weights, zbar (D) the tilted
 * mean (the limit's mu). */
static void forward(const grad_ctx *cx, const double *theta, double *F,
                    double *w, double *zbar)
{
    const double *V = theta, *W = theta + GP * GD;
    double a[GD], lognorm;
    if (cx->limit)
        sl_limit_gauss_forward(GD, GDQ, GP, cx->m, cx->S, W, V, cx->x, a, zbar,
                               F);
    else
        sl_attn_forward(cx->n, GD, GDQ, GP, cx->Z, W, V, cx->x, NULL, a, w,
                        zbar, F, &lognorm);
}

static double loss(const double *theta, void *ctx)
{
    const grad_ctx *cx = ctx;
    double F[GP], w[GN], zbar[GD], l = 0.0;
    forward(cx, theta, F, w, zbar);
    for (size_t r = 0; r < GP; r++)
        l += cx->quadratic ? 0.5 * (F[r] - cx->y[r]) * (F[r] - cx->y[r])
                           : cx->g[r] * F[r];
    return l;
}

/* The gradient (dV, dW) at theta, packed like theta, made the given way. */
static void gradient(const grad_ctx *cx, const double *theta, grad_variant how,
                     double *grad)
{
    const double *V = theta;
    double F[GP], w[GN], zbar[GD], g[GP], h[GD], c[GD];
    double *dV = grad, *dW = grad + GP * GD, dWk[GD * GDQ];
    forward(cx, theta, F, w, zbar);
    for (size_t r = 0; r < GP; r++)
        g[r] = cx->quadratic ? F[r] - cx->y[r] : cx->g[r];
    if (cx->limit)
        sl_limit_gauss_backward(GD, GDQ, GP, cx->S, V, cx->x, zbar, g, h, c, dV,
                                dWk);
    else
        sl_attn_backward(cx->n, GD, GDQ, GP, cx->Z, V, cx->x, w, zbar, g, h, c,
                         dV, dWk);

    for (size_t k = 0; k < GD; k++) {
        double ck = 0.0;
        if (how == GRAD_UNCENTRED) {
            for (size_t i = 0; i < cx->n; i++) {
                const double *z = cx->Z + i * GD;
                double t = h[0] * z[0] + h[1] * z[1] + h[2] * z[2];
                ck += w[i] * t * z[k];
            }
        }
        for (size_t j = 0; j < GDQ; j++) {
            double d = dWk[k * GDQ + j];
            switch (how) {
            case GRAD_RIGHT:
                dW[k * GDQ + j] = d;
                break;
            case GRAD_UNCENTRED:
                dW[k * GDQ + j] = ck * cx->x[j];
                break;
            case GRAD_TRANSPOSED:
                dW[j * GD + k] = d;
                break;
            case GRAD_SIGN:
                dW[k * GDQ + j] = -d;
                break;
            }
        }
    }
}

/* Random theta, query, g, y, and (for prompts) tokens ~ N(0, I) shifted
 * by (1, -0.5, 0.75), so that zbar is far from 0 and the uncentred
 * moment differs from C_w by a term of order one. */
static void make_case(grad_ctx *cx, double *Z, double *theta, uint64_t stream)
{
    static const double shift[GD] = {1.0, -0.5, 0.75};
    sl_rng r;
    sl_rng_init(&r, GRAD_SEED, stream);
    sl_rng_normal(&r, GN * GD, Z);
    for (size_t i = 0; i < GN; i++)
        for (size_t k = 0; k < GD; k++)
            Z[i * GD + k] += shift[k];
    sl_rng_normal(&r, GK, theta);
    sl_rng_normal(&r, GDQ, cx->x);
    sl_rng_normal(&r, GP, cx->g);
    sl_rng_normal(&r, GP, cx->y);
    cx->n = GN;
    cx->Z = Z;
    cx->m = NULL;
    cx->S = NULL;
    cx->quadratic = 0;
    cx->limit = 0;
}

/* The Gaussian limit's (m, S): non-diagonal, diagonally dominant. */
static const double g_m[GD] = {0.5, -1.0, 0.25};
/* clang-format off */
static const double g_S[GD * GD] = { 1.0, 0.3, -0.2,
                                     0.3, 0.8,  0.1,
                                    -0.2, 0.1,  0.5};
/* clang-format on */

/* Check `how` on GRAD_PROMPTS random cases; returns how many passed. */
static int run_checks(int quadratic, int limit, grad_variant how,
                      uint64_t stream0, const char *what)
{
    int passed = 0;
    for (uint64_t k = 0; k < GRAD_PROMPTS; k++) {
        grad_ctx cx;
        double Z[GN * GD], theta[GK], grad[GK];
        make_case(&cx, Z, theta, stream0 + k);
        cx.quadratic = quadratic;
        if (limit) {
            cx.limit = 1;
            cx.m = g_m;
            cx.S = g_S;
        }
        gradient(&cx, theta, how, grad);
        gc_result res = gc_check(GK, theta, grad, loss, &cx, GC_REL_TOL);
        if (res.pass)
            passed++;
        else if (how == GRAD_RIGHT)
            gc_report(what, &res);
    }
    return passed;
}

static void test_attn_linear_loss(void)
{
    CU_ASSERT(run_checks(0, 0, GRAD_RIGHT, 0, "attn <g, F>") == GRAD_PROMPTS);
}

static void test_attn_quadratic_loss(void)
{
    CU_ASSERT(run_checks(1, 0, GRAD_RIGHT, 10, "attn |F - y|^2 / 2") ==
              GRAD_PROMPTS);
}

static void test_limit_linear_loss(void)
{
    CU_ASSERT(run_checks(0, 1, GRAD_RIGHT, 20, "limit <g, F>") == GRAD_PROMPTS);
}

static void test_limit_quadratic_loss(void)
{
    CU_ASSERT(run_checks(1, 1, GRAD_RIGHT, 30, "limit |F - y|^2 / 2") ==
              GRAD_PROMPTS);
}

/* Negative control: the uncentred moment is rejected on every prompt. */
static void test_rejects_uncentred(void)
{
    CU_ASSERT(run_checks(0, 0, GRAD_UNCENTRED, 40, "uncentred") == 0);
    CU_ASSERT(run_checks(1, 0, GRAD_UNCENTRED, 50, "uncentred") == 0);
}

/* Negative controls: dW transposed, dW with the wrong sign. */
static void test_rejects_transposed(void)
{
    CU_ASSERT(run_checks(0, 0, GRAD_TRANSPOSED, 60, "transposed") == 0);
    CU_ASSERT(run_checks(0, 1, GRAD_TRANSPOSED, 70, "transposed") == 0);
}

static void test_rejects_sign(void)
{
    CU_ASSERT(run_checks(0, 0, GRAD_SIGN, 80, "sign") == 0);
    CU_ASSERT(run_checks(0, 1, GRAD_SIGN, 90, "sign") == 0);
}

/* n = 1e5 tokens from N(m, S): the finite-prompt gradient is within
 * GRAD_MC_SIGMAS delta-method standard errors of the limit gradient,
 *   se(zbar_k)^2 = sum_i w_i^2 (z_ik - zbar_k)^2,
 *   se(c_k)^2    = sum_i w_i^2 (q_ik - c_k)^2,
 *   q_i = <h, z_i - zbar> (z_i - zbar)
 * (first order in the fluctuations; zbar's own error does not enter c at
 * first order since sum_i w_i (z_i - zbar) = 0).  The uncentred moment
 * must be excluded by the same bound, so that the test can fail. */
static void test_large_n_limit(void)
{
    const size_t n = GRAD_MC_N;
    double *Z = malloc(n * GD * sizeof(double));
    double *w = malloc(n * sizeof(double));
    CU_ASSERT_FATAL(Z != NULL && w != NULL);
    sl_gauss gs;
    CU_ASSERT_FATAL(sl_gauss_init(&gs, GD, g_m, g_S) == SL_OK);
    sl_rng r;
    sl_rng_init(&r, GRAD_SEED, 1000);
    double work[GD];
    for (size_t i = 0; i < n; i++)
        sl_gauss_draw(&gs, &r, Z + i * GD, work);
    sl_gauss_free(&gs);

    const double W[GD * GDQ] = {0.6, -0.3, 0.2, 0.5, -0.4, 0.1};
    const double V[GP * GD] = {1.0, -0.5, 0.3, 0.2, 0.7, -1.1};
    const double x[GDQ] = {1.0, -0.5};
    const double g[GP] = {0.8, -1.3};

    /* 1. Finite prompt and limit, forward and backward. */
    double a[GD], zbar[GD], F[GP], lognorm, h[GD], c[GD];
    double dV[GP * GD], dW[GD * GDQ];
    sl_attn_forward(n, GD, GDQ, GP, Z, W, V, x, NULL, a, w, zbar, F, &lognorm);
    sl_attn_backward(n, GD, GDQ, GP, Z, V, x, w, zbar, g, h, c, dV, dW);
    double a_inf[GD], mu[GD], F_inf[GP], h_inf[GD], c_inf[GD];
    double dV_inf[GP * GD], dW_inf[GD * GDQ];
    sl_limit_gauss_forward(GD, GDQ, GP, g_m, g_S, W, V, x, a_inf, mu, F_inf);
    sl_limit_gauss_backward(GD, GDQ, GP, g_S, V, x, mu, g, h_inf, c_inf, dV_inf,
                            dW_inf);

    /* 2. Standard errors of zbar and c, and the uncentred moment. */
    double se_z[GD] = {0.0}, se_c[GD] = {0.0}, unc[GD] = {0.0};
    for (size_t i = 0; i < n; i++) {
        const double *z = Z + i * GD;
        double t = 0.0, tc = 0.0;
        for (size_t k = 0; k < GD; k++) {
            t += h[k] * z[k];
            tc += h[k] * (z[k] - zbar[k]);
        }
        for (size_t k = 0; k < GD; k++) {
            double d = z[k] - zbar[k];
            double e = tc * d - c[k];
            se_z[k] += w[i] * w[i] * d * d;
            se_c[k] += w[i] * w[i] * e * e;
            unc[k] += w[i] * t * z[k];
        }
    }
    free(Z);
    free(w);

    /* 3. Compare, component by component. */
    int unc_excluded = 0;
    for (size_t k = 0; k < GD; k++) {
        se_z[k] = sqrt(se_z[k]);
        se_c[k] = sqrt(se_c[k]);
        for (size_t q = 0; q < GP; q++) {
            double tol = GRAD_MC_SIGMAS * fabs(g[q]) * se_z[k];
            double d = fabs(dV[q * GD + k] - dV_inf[q * GD + k]);
            if (!(d <= tol))
                fprintf(stderr,
                        "\n  dV[%zu][%zu]: %a vs limit %a, "
                        "tol %a\n",
                        q, k, dV[q * GD + k], dV_inf[q * GD + k], tol);
            CU_ASSERT(d <= tol);
        }
        for (size_t j = 0; j < GDQ; j++) {
            double tol = GRAD_MC_SIGMAS * fabs(x[j]) * se_c[k];
            double d = fabs(dW[k * GDQ + j] - dW_inf[k * GDQ + j]);
            if (!(d <= tol))
                fprintf(stderr,
                        "\n  dW[%zu][%zu]: %a vs limit %a, "
                        "tol %a\n",
                        k, j, dW[k * GDQ + j], dW_inf[k * GDQ + j], tol);
            CU_ASSERT(d <= tol);
            if (fabs(unc[k] * x[j] - dW_inf[k * GDQ + j]) > tol)
                unc_excluded = 1;
        }
    }
    CU_ASSERT(unc_excluded);
}

void register_gradient_suite(void)
{
    CU_pSuite s = CU_add_suite("gradient", NULL, NULL);
    testing_add(s, "attn_linear_loss", test_attn_linear_loss);
    testing_add(s, "attn_quadratic_loss", test_attn_quadratic_loss);
    testing_add(s, "limit_linear_loss", test_limit_linear_loss);
    testing_add(s, "limit_quadratic_loss", test_limit_quadratic_loss);
    testing_add(s, "rejects_uncentred", test_rejects_uncentred);
    testing_add(s, "rejects_transposed", test_rejects_transposed);
    testing_add(s, "rejects_sign", test_rejects_sign);
    testing_add(s, "large_n_limit", test_large_n_limit);
}
