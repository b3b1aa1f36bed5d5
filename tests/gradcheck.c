/* gradcheck.c -- central-difference gradient checker, and its own suite.
 *
 * gc_check (see gradcheck.h for the formulas) is what the gradient tests
 * use; the CUnit suite "gradcheck" below tests the checker itself: it must
 * accept exact gradients of known functions, including at large |theta|
 * (where a fixed step would drown in rounding) and with zero components,
 * must reject wrong ones (the negative controls: a missing factor 2, one
 * component off by 1e-4 relative), and must leave theta as it found it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "testing.h"

gc_result gc_check(size_t k, double *theta, const double *grad, gc_loss_fn loss,
                   void *ctx, double tol)
{
    gc_result res = {1, 0, 0.0, 0.0, 0.0};
    double *num = malloc(k * sizeof *num);
    if (num == NULL) {
        fprintf(stderr, "gc_check: out of memory\n");
        exit(2);
    }

    /* 1. Central differences, with a step that is exact in binary: the
     *    rounded theta + h minus theta, so that the perturbation applied
     *    is the one divided by. */
    const double step = cbrt(DBL_EPSILON);
    for (size_t j = 0; j < k; j++) {
        double t = theta[j];
        volatile double tp = t + step * fmax(1.0, fabs(t));
        double h = tp - t;
        double up = t + h, down = t - h;
        theta[j] = up;
        double lp = loss(theta, ctx);
        theta[j] = down;
        double lm = loss(theta, ctx);
        theta[j] = t;
        num[j] = (lp - lm) / (up - down);
    }

    /* 2. The size of the gradient, for the floor of the denominators. */
    double s = 0.0;
    for (size_t j = 0; j < k; j++)
        s = fmax(s, fmax(fabs(grad[j]), fabs(num[j])));

    /* 3. The worst component; a NaN ranks as an infinite error. */
    for (size_t j = 0; j < k; j++) {
        double den = fmax(fmax(fabs(grad[j]), fabs(num[j])), GC_FLOOR * s);
        double diff = fabs(grad[j] - num[j]);
        double err = diff == 0.0 ? 0.0 : diff / den;
        if (isnan(err))
            err = INFINITY;
        if (j == 0 || err > res.worst_err) {
            res.worst = j;
            res.worst_err = err;
            res.analytic = grad[j];
            res.numeric = num[j];
        }
        if (!(err <= tol))
            res.pass = 0;
    }
    free(num);
    return res;
}

void gc_report(const char *what, const gc_result *res)
{
    fprintf(stderr,
            "\n  %s: gradient component %zu: analytic %a, "
            "central difference %a, relative error %a\n",
            what, res->worst, res->analytic, res->numeric, res->worst_err);
}

/* --- The checker's own tests. --- */

enum { GK = 6 };

/* A fixed, unremarkable point. */
static void start_point(double *theta)
{
    for (size_t j = 0; j < GK; j++)
        theta[j] = 0.3 + 0.7 * sin(2.1 * (double)j + 0.4);
}

/* l = sum theta_j^2, gradient 2 theta. */
static double loss_squares(const double *theta, void *ctx)
{
    (void)ctx;
    double acc = 0.0;
    for (size_t j = 0; j < GK; j++)
        acc += theta[j] * theta[j];
    return acc;
}

/* l = sum_j theta_j theta_{j+1}^3 + exp(theta_0 / 2) (cyclic j + 1):
 * curvature of every order, components of mixed size and sign. */
static double loss_curved(const double *theta, void *ctx)
{
    (void)ctx;
    double acc = exp(0.5 * theta[0]);
    for (size_t j = 0; j < GK; j++) {
        double t = theta[(j + 1) % GK];
        acc += theta[j] * t * t * t;
    }
    return acc;
}

static void grad_curved(const double *theta, double *g)
{
    for (size_t j = 0; j < GK; j++) {
        double next = theta[(j + 1) % GK];
        double prev = theta[(j + GK - 1) % GK];
        g[j] = next * next * next + 3.0 * prev * theta[j] * theta[j];
    }
    g[0] += 0.5 * exp(0.5 * theta[0]);
}

/* l = sum of the first GK - 1 squares: the last component is exactly 0. */
static double loss_partial(const double *theta, void *ctx)
{
    (void)ctx;
    double acc = 0.0;
    for (size_t j = 0; j + 1 < GK; j++)
        acc += theta[j] * theta[j];
    return acc;
}

static void check_pass(const gc_result *res, const char *what)
{
    if (!res->pass)
        gc_report(what, res);
    CU_ASSERT(res->pass);
    CU_ASSERT(res->worst_err <= GC_REL_TOL);
}

static void test_accepts_sum_of_squares(void)
{
    double theta[GK], g[GK];
    start_point(theta);
    for (size_t j = 0; j < GK; j++)
        g[j] = 2.0 * theta[j];
    gc_result res = gc_check(GK, theta, g, loss_squares, NULL, GC_REL_TOL);
    check_pass(&res, "sum of squares");
}

static void test_accepts_curved(void)
{
    double theta[GK], g[GK];
    start_point(theta);
    grad_curved(theta, g);
    gc_result res = gc_check(GK, theta, g, loss_curved, NULL, GC_REL_TOL);
    check_pass(&res, "curved");
}

/* Entries of order 1e6: the step grows with |theta_j|, or the rounding
 * error eps |l| / h (l about 1e12) would swamp the difference. */
static void test_accepts_large_theta(void)
{
    double theta[GK], g[GK];
    start_point(theta);
    for (size_t j = 0; j < GK; j++) {
        theta[j] *= 1.0e6;
        g[j] = 2.0 * theta[j];
    }
    gc_result res = gc_check(GK, theta, g, loss_squares, NULL, GC_REL_TOL);
    check_pass(&res, "large theta");
}

/* A component that is exactly zero is judged against the floor. */
static void test_accepts_zero_component(void)
{
    double theta[GK], g[GK];
    start_point(theta);
    for (size_t j = 0; j < GK; j++)
        g[j] = j + 1 < GK ? 2.0 * theta[j] : 0.0;
    gc_result res = gc_check(GK, theta, g, loss_partial, NULL, GC_REL_TOL);
    check_pass(&res, "zero component");
}

/* Negative control: the gradient of sum theta^2 without its factor 2. */
static void test_rejects_half_gradient(void)
{
    double theta[GK], g[GK];
    start_point(theta);
    for (size_t j = 0; j < GK; j++)
        g[j] = theta[j];
    gc_result res = gc_check(GK, theta, g, loss_squares, NULL, GC_REL_TOL);
    CU_ASSERT(!res.pass);
    CU_ASSERT(res.worst_err > 0.25);
}

/* Negative control: one component off by 1e-4 relative, found and named
 * as the worst. */
static void test_rejects_one_component(void)
{
    double theta[GK], g[GK];
    start_point(theta);
    grad_curved(theta, g);
    g[3] *= 1.0 + 1.0e-4;
    gc_result res = gc_check(GK, theta, g, loss_curved, NULL, GC_REL_TOL);
    CU_ASSERT(!res.pass);
    CU_ASSERT(res.worst == 3);
    CU_ASSERT(res.worst_err > 0.5e-4);
}

/* theta comes back bit for bit. */
static void test_restores_theta(void)
{
    double theta[GK], copy[GK], g[GK];
    start_point(theta);
    for (size_t j = 0; j < GK; j++)
        theta[j] *= 1.0 + 1.0e3 * j; /* various binades */
    memcpy(copy, theta, sizeof theta);
    grad_curved(theta, g);
    (void)gc_check(GK, theta, g, loss_curved, NULL, GC_REL_TOL);
    CU_ASSERT(memcmp(copy, theta, sizeof theta) == 0);
}

void register_gradcheck_suite(void)
{
    CU_pSuite s = CU_add_suite("gradcheck", NULL, NULL);
    testing_add(s, "accepts_sum_of_squares", test_accepts_sum_of_squares);
    testing_add(s, "accepts_curved", test_accepts_curved);
    testing_add(s, "accepts_large_theta", test_accepts_large_theta);
    testing_add(s, "accepts_zero_component", test_accepts_zero_component);
    testing_add(s, "rejects_half_gradient", test_rejects_half_gradient);
    testing_add(s, "rejects_one_component", test_rejects_one_component);
    testing_add(s, "restores_theta", test_restores_theta);
}
