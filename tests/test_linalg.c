/* test_linalg.c -- CUnit suite "linalg": the dense products of linalg.h.
 *
 * Small products worked out by hand, with integer entries so that every
 * product and partial sum is exact in double and the kernels must return
 * the exact answer; one random dot product against a compensated reference
 * to check the forward error bound stated in linalg.h; and sentinels around
 * every output to check that nothing is written outside it.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "kernels/linalg.h"
#include "testing.h"

/* linalg.h: |err| <= k u sum |u_i v_i| / (1 - k u), u = 2^-53.  The test
 * asserts the bound itself, with the reference's own error (about u^2 of
 * the sum) covered by a factor 2 in the slack. */
#define LINALG_DOT_BOUND_SLACK 2.0

/* A value no kernel computes: marks memory that must stay untouched. */
#define LINALG_SENTINEL (-0x1.dead5p+77)

static int same(double got, double want, const char *what)
{
    if (got == want)
        return 1;
    fprintf(stderr, "\n  %s: got %a want %a\n", what, got, want);
    return 0;
}

/* <u, v> = 1*4 + 2*(-5) + 3*6 = 12, every step exact. */
static void test_dot_hand(void)
{
    const double u[3] = {1.0, 2.0, 3.0};
    const double v[3] = {4.0, -5.0, 6.0};
    CU_ASSERT(same(sl_dot(3, u, v), 12.0, "dot"));
    CU_ASSERT(same(sl_dot(1, u, v), 4.0, "dot n=1"));
}

/* n = 0 is the empty sum: 0, without reading the (NaN) entries. */
static void test_dot_empty(void)
{
    const double u[1] = {NAN};
    const double v[1] = {NAN};
    CU_ASSERT(same(sl_dot(0, u, v), 0.0, "dot n=0"));
}

/* A = [1 2 3; 4 5 6], x = (1, 10, 100): A x = (321, 654).  A is not square
 * and x's entries differ in scale, so a transposed or misindexed read
 * gives another answer. */
static void test_matvec_hand(void)
{
    const double A[6] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
    const double x[3] = {1.0, 10.0, 100.0};
    double y[2];
    sl_matvec(2, 3, A, x, y);
    CU_ASSERT(same(y[0], 321.0, "matvec y[0]"));
    CU_ASSERT(same(y[1], 654.0, "matvec y[1]"));
}

/* Same A, x = (1, 10): A^T x = (41, 52, 63). */
static void test_matvec_t_hand(void)
{
    const double A[6] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
    const double x[2] = {1.0, 10.0};
    double y[3];
    sl_matvec_t(2, 3, A, x, y);
    CU_ASSERT(same(y[0], 41.0, "matvec_t y[0]"));
    CU_ASSERT(same(y[1], 52.0, "matvec_t y[1]"));
    CU_ASSERT(same(y[2], 63.0, "matvec_t y[2]"));
}

/* u = (1, 2), v = (3, 5, 7): u v^T = [3 5 7; 6 10 14]. */
static void test_outer_hand(void)
{
    const double u[2] = {1.0, 2.0};
    const double v[3] = {3.0, 5.0, 7.0};
    const double want[6] = {3.0, 5.0, 7.0, 6.0, 10.0, 14.0};
    double A[6];
    sl_outer(2, 3, u, v, A);
    for (int i = 0; i < 6; i++) {
        char what[32];
        snprintf(what, sizeof what, "outer A[%d]", i);
        CU_ASSERT(same(A[i], want[i], what));
    }
}

/* Error-free product and sum (Dekker/Knuth, with fma): the reference dot
 * product below carries the exact rounding errors along, so its own error
 * is of order u^2 sum |u_i v_i|. */
static double dot_compensated(size_t n, const double *u, const double *v)
{
    double s = 0.0, c = 0.0;
    for (size_t i = 0; i < n; i++) {
        double p = u[i] * v[i];
        double pe = fma(u[i], v[i], -p);
        double t = s + p;
        double z = t - s;
        double se = (s - (t - z)) + (p - z);
        s = t;
        c += pe + se;
    }
    return s + c;
}

/* Forward error of a length-257 dot product with cancelling terms, against
 * the bound of linalg.h. */
static void test_dot_error_bound(void)
{
    enum { N = 257 };
    double u[N], v[N];
    double abs_sum = 0.0;
    for (int i = 0; i < N; i++) {
        u[i] = sin(1.0 + 0.37 * i) * (1.0 + i % 7);
        v[i] = cos(0.5 + 1.13 * i) / (1.0 + i % 5);
        abs_sum += fabs(u[i] * v[i]);
    }
    double got = sl_dot(N, u, v);
    double ref = dot_compensated(N, u, v);
    double ku = N * (DBL_EPSILON / 2.0);
    double bound = LINALG_DOT_BOUND_SLACK * ku * abs_sum / (1.0 - ku);
    double err = fabs(got - ref);
    if (!(err <= bound))
        fprintf(stderr, "\n  dot: got %a ref %a err %a bound %a\n", got, ref,
                err, bound);
    CU_ASSERT(err <= bound);
}

/* matvec, matvec_t and outer write their outputs and nothing past them. */
static void test_writes_within_output(void)
{
    const double A[6] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
    const double x[3] = {1.0, 10.0, 100.0};
    double buf[8];
    for (int i = 0; i < 8; i++)
        buf[i] = LINALG_SENTINEL;

    sl_matvec(2, 3, A, x, buf + 1);
    CU_ASSERT(same(buf[0], LINALG_SENTINEL, "matvec before"));
    CU_ASSERT(same(buf[3], LINALG_SENTINEL, "matvec after"));

    for (int i = 0; i < 8; i++)
        buf[i] = LINALG_SENTINEL;
    sl_matvec_t(2, 3, A, x, buf + 1);
    CU_ASSERT(same(buf[0], LINALG_SENTINEL, "matvec_t before"));
    CU_ASSERT(same(buf[4], LINALG_SENTINEL, "matvec_t after"));

    for (int i = 0; i < 8; i++)
        buf[i] = LINALG_SENTINEL;
    sl_outer(2, 3, x, x, buf + 1);
    CU_ASSERT(same(buf[0], LINALG_SENTINEL, "outer before"));
    CU_ASSERT(same(buf[7], LINALG_SENTINEL, "outer after"));
}

/* copy: every entry bit for bit (signed zero, extremes), nothing past n. */
static void test_copy(void)
{
    const double x[4] = {-0.0, DBL_MAX, -DBL_MIN, 0x1.23456789abcdep-3};
    double buf[6];
    for (int i = 0; i < 6; i++)
        buf[i] = LINALG_SENTINEL;
    sl_copy(4, x, buf + 1);
    for (int i = 0; i < 4; i++)
        CU_ASSERT(same(buf[i + 1], x[i], "copy value"));
    CU_ASSERT(signbit(buf[1]) != 0);
    CU_ASSERT(same(buf[0], LINALG_SENTINEL, "copy before"));
    CU_ASSERT(same(buf[5], LINALG_SENTINEL, "copy after"));
}

void register_linalg_suite(void)
{
    CU_pSuite s = CU_add_suite("linalg", NULL, NULL);
    testing_add(s, "dot_hand", test_dot_hand);
    testing_add(s, "dot_empty", test_dot_empty);
    testing_add(s, "dot_error_bound", test_dot_error_bound);
    testing_add(s, "matvec_hand", test_matvec_hand);
    testing_add(s, "matvec_t_hand", test_matvec_t_hand);
    testing_add(s, "outer_hand", test_outer_hand);
    testing_add(s, "writes_within_output", test_writes_within_output);
    testing_add(s, "copy", test_copy);
}
