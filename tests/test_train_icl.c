/* test_train_icl.c -- CUnit suite "train_icl": the in-context regression
 * model of src/train/icl.h.
 *
 * The closed-form L_inf and its gradient against Monte Carlo over
 * (beta, x_q, eps_q) of the exact per-prompt limits (Gaussian, both
 * parametrisations; Rademacher and uniform, reduced), against central
 * differences, and the reduced Gaussian form against tau^2 |v_y Gamma -
 * I|^2 + s^2 by hand; the uniform quadrature converging in its nodes; the
 * conserved quantity of the gradient flow (RK4) and its exact O(lr^2)
 * drift per gradient step; the prompt's measure equal to the tokens
 * drawn; the streamed finite-prompt gradient against central differences;
 * the finite prompt approaching the limit like n^-1/2; bad settings.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "kernels/linalg.h"
#include "kernels/stream.h"
#include "testing.h"
#include "train/icl.h"

/* Monte Carlo agreement: |closed - mean| <= ICL_MC_Z se + ICL_MC_ABS. */
#define ICL_MC_Z   5.0
#define ICL_MC_ABS 1e-12

/* Prompts of the Monte Carlo comparisons. */
#define ICL_MC_PROMPTS 100000

/* Two quadratures of the uniform law (8 and 16 nodes per axis, d = 3)
 * agree to this relative tolerance: the error falls geometrically. */
#define ICL_QUAD_REL_TOL 1e-7

/* Conserved quantity along RK4 (step ICL_RK4_DT to time ICL_RK4_T): drift
 * O(dt^4) per unit time, far below this. */
#define ICL_RK4_DT      1e-3
#define ICL_RK4_T       2.0
#define ICL_RK4_ABS_TOL 1e-9

/* The per-step identity C(theta - lr g) - C(theta) = lr^2 (|g_v|^2 -
 * |g_B|^2) holds to rounding: a few ulps of the terms summed. */
#define ICL_STEP_REL_TOL (1024 * 0x1p-52)

#define D_SMALL 3

static sl_icl make(sl_icl_param param, const char *law, size_t d)
{
    sl_law l;
    sl_icl m;
    CU_ASSERT_FATAL(sl_law_parse(law, &l) == 0);
    CU_ASSERT_FATAL(sl_icl_init(&m, param, &l, d, 0.8, 0.3) == SL_OK);
    return m;
}

/* A random theta of scale 0.5 from stream (11, id). */
static void draw_theta(const sl_icl *m, uint64_t id, double *theta)
{
    sl_rng r;
    size_t P = sl_icl_nparams(m);
    sl_rng_init(&r, 11, id);
    sl_rng_normal(&r, P, theta);
    for (size_t i = 0; i < P; i++)
        theta[i] *= 0.5;
}

/* Mean and standard error over ICL_MC_PROMPTS prompts of the per-prompt
 * infinite loss (out[0], se[0]) and gradient (out[1..P], se[1..P]). */
static void mc_inf(const sl_icl *m, const double *theta, double *out,
                   double *se)
{
    size_t d = m->d, D = d + 1, P = sl_icl_nparams(m);
    double *sum = calloc(2 * (P + 1), sizeof(double)), *sq = sum + P + 1;
    double *work = malloc(sl_icl_work_len(m) * sizeof(double));
    double v[SL_ICL_MAX_DIM + 1], B[(SL_ICL_MAX_DIM + 1) * 8];
    double dv[SL_ICL_MAX_DIM + 1], dB[(SL_ICL_MAX_DIM + 1) * 8], g[64];
    CU_ASSERT_FATAL(sum != NULL && work != NULL && d <= 8 && P < 64);
    sl_icl_embed(m, theta, v, B);
    for (uint64_t k = 0; k < ICL_MC_PROMPTS; k++) {
        double beta[8], xq[8], a[9], yq, yh;
        sl_measure mu;
        sl_rng r;
        sl_rng_init(&r, 21, k);
        sl_icl_draw_prompt(m, &r, beta, xq, &yq);
        if (sl_icl_measure(m, beta, &mu) != SL_OK) {
            CU_FAIL_FATAL("sl_icl_measure");
        }
        sl_matvec(D, d, B, xq, a);
        g[0] = sl_icl_prompt_inf(m, &mu, v, a, xq, yq, &yh, dv, dB, work);
        sl_icl_project(m, dv, dB, g + 1);
        for (size_t i = 0; i <= P; i++) {
            sum[i] += g[i];
            sq[i] += g[i] * g[i];
        }
        sl_measure_free(&mu);
    }
    for (size_t i = 0; i <= P; i++) {
        double mean = sum[i] / ICL_MC_PROMPTS;
        double var = sq[i] / ICL_MC_PROMPTS - mean * mean;
        out[i] = mean;
        se[i] = sqrt(fmax(var, 0.0) / ICL_MC_PROMPTS);
    }
    free(sum);
    free(work);
}

/* The closed form (risk and gradient) within ICL_MC_Z standard errors of
 * the Monte Carlo means. */
static void check_against_mc(sl_icl_param param, const char *law)
{
    sl_icl m = make(param, law, D_SMALL);
    size_t P = sl_icl_nparams(&m);
    double theta[64], grad[64], mc[65], se[65];
    double *work = malloc(sl_icl_work_len(&m) * sizeof(double));
    CU_ASSERT_FATAL(work != NULL);
    draw_theta(&m, 1, theta);
    double L = sl_icl_risk(&m, theta, grad, work);
    mc_inf(&m, theta, mc, se);
    int ok = fabs(L - mc[0]) <= ICL_MC_Z * se[0] + ICL_MC_ABS;
    for (size_t i = 0; i < P; i++)
        ok &= fabs(grad[i] - mc[1 + i]) <= ICL_MC_Z * se[1 + i] + ICL_MC_ABS;
    if (!ok) {
        fprintf(stderr, "\n  %s %s: L %a vs %a (se %a)\n",
                param == SL_ICL_FULL ? "full" : "reduced", law, L, mc[0],
                se[0]);
        for (size_t i = 0; i < P; i++)
            fprintf(stderr, "  grad[%zu] %a vs %a (se %a)\n", i, grad[i],
                    mc[1 + i], se[1 + i]);
    }
    CU_ASSERT(ok);
    free(work);
    sl_icl_free(&m);
}

static void test_full_gauss_mc(void)
{
    check_against_mc(SL_ICL_FULL, "gaussian");
}

/* Negative control: the full L_inf without its fourth-moment term
 * 2 d tau^4 v_y^2 |b|^2 (as if E|beta|^4 were (E|beta|^2)^2) is rejected
 * by the same comparison. */
static void test_full_gauss_mc_rejects_wrong_form(void)
{
    sl_icl m = make(SL_ICL_FULL, "gaussian", D_SMALL);
    size_t d = D_SMALL, D = d + 1;
    double theta[64], mc[65], se[65], work[256], tau2 = 0.64;
    draw_theta(&m, 1, theta);
    double L = sl_icl_risk(&m, theta, NULL, work);
    const double *b = theta + D + d * d;
    double vy = theta[d];
    double wrong =
        L - 2.0 * (double)d * tau2 * tau2 * vy * vy * sl_dot(d, b, b);
    mc_inf(&m, theta, mc, se);
    CU_ASSERT(fabs(L - mc[0]) <= ICL_MC_Z * se[0]);
    CU_ASSERT(fabs(wrong - mc[0]) > ICL_MC_Z * se[0]);
    sl_icl_free(&m);
}

static void test_reduced_gauss_mc(void)
{
    check_against_mc(SL_ICL_REDUCED, "gaussian");
}

static void test_reduced_rademacher_mc(void)
{
    check_against_mc(SL_ICL_REDUCED, "rademacher");
}

static void test_reduced_uniform_mc(void)
{
    check_against_mc(SL_ICL_REDUCED, "uniform");
}

/* tau^2 |v_y Gamma - I|_F^2 + s^2 and its gradient, by hand. */
static void test_reduced_by_hand(void)
{
    sl_icl m = make(SL_ICL_REDUCED, "gaussian", D_SMALL);
    size_t d = D_SMALL;
    double theta[1 + D_SMALL * D_SMALL], grad[1 + D_SMALL * D_SMALL];
    double work[256], tau2 = 0.64, s2 = 0.09;
    CU_ASSERT_FATAL(sl_icl_work_len(&m) <= 256);
    draw_theta(&m, 2, theta);
    double L = sl_icl_risk(&m, theta, grad, work), ss = 0.0, gv = 0.0;
    int ok = 1;
    for (size_t i = 0; i < d; i++) {
        for (size_t j = 0; j < d; j++) {
            double r = theta[0] * theta[1 + i * d + j] - (i == j);
            ss += r * r;
            gv += 2.0 * tau2 * r * theta[1 + i * d + j];
            ok &= fabs(grad[1 + i * d + j] - 2.0 * tau2 * theta[0] * r) <=
                  64 * 0x1p-52 * (1.0 + fabs(grad[1 + i * d + j]));
        }
    }
    CU_ASSERT(ok);
    CU_ASSERT(fabs(L - (tau2 * ss + s2)) <= 64 * 0x1p-52 * L);
    CU_ASSERT(fabs(grad[0] - gv) <= 64 * 0x1p-52 * (1.0 + fabs(gv)));
    CU_ASSERT(sl_icl_risk_min(&m) == s2 ||
              fabs(sl_icl_risk_min(&m) - s2) < 4 * 0x1p-52 * s2);
    sl_icl_free(&m);
}

/* ---- Central differences ------------------------------------------------- */

typedef struct risk_ctx {
    const sl_icl *m;
    double *work;
} risk_ctx;

static double risk_loss(const double *theta, void *ctx)
{
    risk_ctx *c = ctx;
    return sl_icl_risk(c->m, theta, NULL, c->work);
}

static void check_risk_fd(sl_icl_param param, const char *law)
{
    sl_icl m = make(param, law, D_SMALL);
    double theta[64], grad[64];
    double *work = malloc(sl_icl_work_len(&m) * sizeof(double));
    CU_ASSERT_FATAL(work != NULL);
    draw_theta(&m, 3, theta);
    sl_icl_risk(&m, theta, grad, work);
    risk_ctx c = {&m, work};
    gc_result res =
        gc_check(sl_icl_nparams(&m), theta, grad, risk_loss, &c, GC_REL_TOL);
    if (!res.pass)
        gc_report(law, &res);
    CU_ASSERT(res.pass);
    free(work);
    sl_icl_free(&m);
}

static void test_risk_gradient_fd(void)
{
    check_risk_fd(SL_ICL_FULL, "gaussian");
    check_risk_fd(SL_ICL_REDUCED, "gaussian");
    check_risk_fd(SL_ICL_REDUCED, "rademacher");
    check_risk_fd(SL_ICL_REDUCED, "uniform");
}

/* 8 and 16 Gauss-Legendre nodes per axis give the same L_inf. */
static void test_uniform_quadrature_converges(void)
{
    sl_icl m = make(SL_ICL_REDUCED, "uniform", D_SMALL);
    double theta[1 + D_SMALL * D_SMALL], work[256];
    draw_theta(&m, 4, theta);
    CU_ASSERT_FATAL(sl_icl_set_nodes(&m, 8) == SL_OK);
    double L8 = sl_icl_risk(&m, theta, NULL, work);
    CU_ASSERT_FATAL(sl_icl_set_nodes(&m, 16) == SL_OK);
    double L16 = sl_icl_risk(&m, theta, NULL, work);
    if (!(fabs(L8 - L16) <= ICL_QUAD_REL_TOL * L16))
        fprintf(stderr, "\n  L8 %a L16 %a\n", L8, L16);
    CU_ASSERT(fabs(L8 - L16) <= ICL_QUAD_REL_TOL * L16);
    CU_ASSERT(sl_icl_set_nodes(&m, 0) == SL_EINVAL);
    CU_ASSERT(sl_icl_set_nodes(&m, SL_ICL_MAX_NODES + 1) == SL_EINVAL);
    sl_icl_free(&m);
}

/* ---- The conserved quantity ---------------------------------------------- */

/* RK4 on d theta / dt = -grad L_inf: |v|^2 - |B|_F^2 stays put while the
 * risk falls. */
static void check_flow(sl_icl_param param)
{
    sl_icl m = make(param, "gaussian", D_SMALL);
    size_t P = sl_icl_nparams(&m);
    double th[64], k1[64], k2[64], k3[64], k4[64], tmp[64], work[256];
    draw_theta(&m, 5, th);
    double c0 = sl_icl_conserved(&m, th), L0 = sl_icl_risk(&m, th, NULL, work);
    double h = ICL_RK4_DT;
    for (int s = 0; s < (int)(ICL_RK4_T / ICL_RK4_DT); s++) {
        sl_icl_risk(&m, th, k1, work);
        for (size_t i = 0; i < P; i++)
            tmp[i] = th[i] - 0.5 * h * k1[i];
        sl_icl_risk(&m, tmp, k2, work);
        for (size_t i = 0; i < P; i++)
            tmp[i] = th[i] - 0.5 * h * k2[i];
        sl_icl_risk(&m, tmp, k3, work);
        for (size_t i = 0; i < P; i++)
            tmp[i] = th[i] - h * k3[i];
        sl_icl_risk(&m, tmp, k4, work);
        for (size_t i = 0; i < P; i++)
            th[i] -= h * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]) / 6.0;
    }
    double c1 = sl_icl_conserved(&m, th), L1 = sl_icl_risk(&m, th, NULL, work);
    if (!(fabs(c1 - c0) <= ICL_RK4_ABS_TOL))
        fprintf(stderr, "\n  conserved %a -> %a\n", c0, c1);
    CU_ASSERT(fabs(c1 - c0) <= ICL_RK4_ABS_TOL);
    CU_ASSERT(L1 < 0.5 * L0);
    sl_icl_free(&m);
}

static void test_flow_conserves(void)
{
    check_flow(SL_ICL_REDUCED);
    check_flow(SL_ICL_FULL);
}

/* One gradient step moves the conserved quantity by exactly
 * lr^2 (|g_v|^2 - |g_B|^2): O(lr^2), since the O(lr) term vanishes. */
static void test_step_drift_is_second_order(void)
{
    sl_icl m = make(SL_ICL_REDUCED, "gaussian", D_SMALL);
    size_t P = sl_icl_nparams(&m), d = D_SMALL;
    double th[1 + D_SMALL * D_SMALL], g[1 + D_SMALL * D_SMALL], work[256];
    double lr = 0.05;
    draw_theta(&m, 6, th);
    double c0 = sl_icl_conserved(&m, th);
    sl_icl_risk(&m, th, g, work);
    double expect = lr * lr * (g[0] * g[0] - sl_dot(d * d, g + 1, g + 1));
    double scale = lr * lr * sl_dot(P, g, g) + fabs(c0);
    for (size_t i = 0; i < P; i++)
        th[i] -= lr * g[i];
    double drift = sl_icl_conserved(&m, th) - c0;
    CU_ASSERT(fabs(drift - expect) <= ICL_STEP_REL_TOL * scale);
    CU_ASSERT(fabs(drift) > 0.0);
    sl_icl_free(&m);
}

/* ---- Prompts ------------------------------------------------------------- */

/* sl_icl_measure's Cholesky factor is A = [[I, 0], [beta^T, s]], and the
 * tokens drawn are A eta for the white draws eta of the same stream. */
static void test_measure_matches_tokens(void)
{
    sl_icl m = make(SL_ICL_REDUCED, "rademacher", D_SMALL);
    size_t d = D_SMALL, D = d + 1;
    double beta[D_SMALL], xq[D_SMALL], yq, z[D_SMALL + 1];
    double *Z = malloc(2 * SL_ICL_BLOCK * D * sizeof(double));
    double *eta = Z + SL_ICL_BLOCK * D;
    sl_measure mu;
    sl_rng r1, r2;
    CU_ASSERT_FATAL(Z != NULL);
    sl_rng_init(&r1, 3, 9);
    sl_icl_draw_prompt(&m, &r1, beta, xq, &yq);
    r2 = r1;
    sl_icl_draw_tokens(&m, &r1, beta, Z);
    sl_law_draw(&m.law, &r2, SL_ICL_BLOCK * D, eta);
    CU_ASSERT_FATAL(sl_icl_measure(&m, beta, &mu) == SL_OK);
    int ok = 1;
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++) {
            double a = i == j ? (i < d ? 1.0 : m.noise)
                              : (i == d && j < d ? beta[j] : 0.0);
            ok &= fabs(mu.chol[i * D + j] - a) <= 16 * 0x1p-52 * (1 + fabs(a));
        }
    for (size_t k = 0; k < SL_ICL_BLOCK; k++) {
        sl_measure_color(&mu, eta + k * D, z);
        for (size_t i = 0; i < D; i++)
            ok &=
                fabs(z[i] - Z[k * D + i]) <= 64 * 0x1p-52 * (1.0 + fabs(z[i]));
    }
    CU_ASSERT(ok);
    sl_measure_free(&mu);
    free(Z);
    sl_icl_free(&m);
}

/* One prompt's finite loss as a function of theta: the same stream, so
 * the same tokens, for every theta. */
typedef struct prompt_ctx {
    const sl_icl *m;
    uint64_t n;
    double *grad; /* when not NULL, receives the streamed gradient */
} prompt_ctx;

static double prompt_loss(const double *theta, void *ctx)
{
    prompt_ctx *c = ctx;
    const sl_icl *m = c->m;
    size_t d = m->d, D = d + 1;
    double v[8], B[64], a[8], mean[8], comom[8], dv[8], dB[64];
    double beta[8], xq[8], yq, yh, Z[SL_ICL_BLOCK * 8];
    sl_stream st;
    sl_rng r;
    sl_rng_init(&r, 5, 77);
    sl_icl_draw_prompt(m, &r, beta, xq, &yq);
    sl_icl_embed(m, theta, v, B);
    sl_matvec(D, d, B, xq, a);
    sl_stream_init(&st, D, mean, v, comom);
    for (uint64_t i = 0; i < c->n; i += SL_ICL_BLOCK) {
        sl_icl_draw_tokens(m, &r, beta, Z);
        for (size_t j = 0; j < SL_ICL_BLOCK && i + j < c->n; j++)
            sl_stream_push(&st, sl_dot(D, a, Z + j * D), Z + j * D);
    }
    double l = sl_icl_prompt_finish(m, &st, v, xq, yq, &yh, dv, dB);
    if (c->grad != NULL)
        sl_icl_project(m, dv, dB, c->grad);
    return l;
}

static void check_prompt_fd(sl_icl_param param)
{
    sl_icl m = make(param, "gaussian", D_SMALL);
    double theta[64], grad[64];
    draw_theta(&m, 7, theta);
    prompt_ctx c = {&m, 300, grad};
    prompt_loss(theta, &c);
    c.grad = NULL;
    gc_result res =
        gc_check(sl_icl_nparams(&m), theta, grad, prompt_loss, &c, GC_REL_TOL);
    if (!res.pass)
        gc_report("prompt", &res);
    CU_ASSERT(res.pass);
    sl_icl_free(&m);
}

static void test_prompt_gradient_fd(void)
{
    check_prompt_fd(SL_ICL_REDUCED);
    check_prompt_fd(SL_ICL_FULL);
}

/* Mean |yhat_n - yhat_inf| over 200 prompts falls by sqrt(64) = 8 from
 * n = 256 to n = 16384, within a factor 2 either way. */
static void test_prompt_approaches_limit(void)
{
    sl_icl m = make(SL_ICL_REDUCED, "gaussian", D_SMALL);
    size_t d = D_SMALL, D = d + 1;
    double theta[1 + D_SMALL * D_SMALL], v[4], B[12], a[4], mean[4], com[4];
    double dv[4], dB[12], work[256], Z[SL_ICL_BLOCK * 4], dev[2] = {0, 0};
    const uint64_t ns[2] = {256, 16384};
    draw_theta(&m, 8, theta);
    sl_icl_embed(&m, theta, v, B);
    for (int k = 0; k < 2; k++) {
        for (uint64_t p = 0; p < 200; p++) {
            double beta[D_SMALL], xq[D_SMALL], yq, yn, yi;
            sl_measure mu;
            sl_stream st;
            sl_rng r;
            sl_rng_init(&r, 8, p);
            sl_icl_draw_prompt(&m, &r, beta, xq, &yq);
            CU_ASSERT_FATAL(sl_icl_measure(&m, beta, &mu) == SL_OK);
            sl_matvec(D, d, B, xq, a);
            sl_stream_init(&st, D, mean, v, com);
            for (uint64_t i = 0; i < ns[k]; i += SL_ICL_BLOCK) {
                sl_icl_draw_tokens(&m, &r, beta, Z);
                for (size_t j = 0; j < SL_ICL_BLOCK; j++)
                    sl_stream_push(&st, sl_dot(D, a, Z + j * D), Z + j * D);
            }
            sl_icl_prompt_finish(&m, &st, v, xq, yq, &yn, dv, dB);
            sl_icl_prompt_inf(&m, &mu, v, a, xq, yq, &yi, dv, dB, work);
            dev[k] += fabs(yn - yi);
            sl_measure_free(&mu);
        }
    }
    double ratio = dev[0] / dev[1];
    if (!(ratio > 4.0 && ratio < 16.0))
        fprintf(stderr, "\n  deviation ratio %a\n", ratio);
    CU_ASSERT(ratio > 4.0 && ratio < 16.0);
    sl_icl_free(&m);
}

/* ---- Settings ------------------------------------------------------------ */

static void test_bad_settings(void)
{
    sl_law g, rad, mix;
    sl_icl m;
    sl_law_parse("gaussian", &g);
    sl_law_parse("rademacher", &rad);
    sl_law_parse("mixture", &mix);
    CU_ASSERT(sl_icl_init(&m, SL_ICL_REDUCED, &g, 0, 1.0, 0.1) == SL_EINVAL);
    CU_ASSERT(sl_icl_init(&m, SL_ICL_REDUCED, &g, SL_ICL_MAX_DIM + 1, 1.0,
                          0.1) == SL_EINVAL);
    CU_ASSERT(sl_icl_init(&m, SL_ICL_REDUCED, &g, 2, 0.0, 0.1) == SL_EINVAL);
    CU_ASSERT(sl_icl_init(&m, SL_ICL_REDUCED, &g, 2, 1.0, 0.0) == SL_EINVAL);
    CU_ASSERT(sl_icl_init(&m, SL_ICL_REDUCED, &g, 2, 1.0, NAN) == SL_EINVAL);
    CU_ASSERT(sl_icl_init(&m, SL_ICL_FULL, &rad, 2, 1.0, 0.1) == SL_EINVAL);
    CU_ASSERT(sl_icl_init(&m, SL_ICL_REDUCED, &mix, 2, 1.0, 0.1) == SL_EINVAL);
    CU_ASSERT(sl_icl_init(&m, SL_ICL_REDUCED, &rad, SL_ICL_MAX_SIGN_DIM + 1,
                          1.0, 0.1) == SL_EINVAL);
    CU_ASSERT_FATAL(sl_icl_init(&m, SL_ICL_FULL, &g, 2, 1.0, 0.1) == SL_OK);
    CU_ASSERT(sl_icl_nparams(&m) == 3 + 3 * 2);
    CU_ASSERT(isnan(sl_icl_risk_min(&m)) == 0);
    CU_ASSERT(sl_icl_set_nodes(&m, 4) == SL_EINVAL);
    sl_icl_free(&m);
}

void register_train_icl_suite(void)
{
    CU_pSuite s = CU_add_suite("train_icl", NULL, NULL);
    testing_add(s, "full_gauss_mc", test_full_gauss_mc);
    testing_add(s, "full_gauss_mc_rejects_wrong_form",
                test_full_gauss_mc_rejects_wrong_form);
    testing_add(s, "reduced_gauss_mc", test_reduced_gauss_mc);
    testing_add(s, "reduced_rademacher_mc", test_reduced_rademacher_mc);
    testing_add(s, "reduced_uniform_mc", test_reduced_uniform_mc);
    testing_add(s, "reduced_by_hand", test_reduced_by_hand);
    testing_add(s, "risk_gradient_fd", test_risk_gradient_fd);
    testing_add(s, "uniform_quadrature_converges",
                test_uniform_quadrature_converges);
    testing_add(s, "flow_conserves", test_flow_conserves);
    testing_add(s, "step_drift_is_second_order",
                test_step_drift_is_second_order);
    testing_add(s, "measure_matches_tokens", test_measure_matches_tokens);
    testing_add(s, "prompt_gradient_fd", test_prompt_gradient_fd);
    testing_add(s, "prompt_approaches_limit", test_prompt_approaches_limit);
    testing_add(s, "bad_settings", test_bad_settings);
}
