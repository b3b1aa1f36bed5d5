/* test_softmax.c -- CUnit suite "softmax": stable softmax and log-sum-exp.
 *
 * Checks sl_softmax, sl_softmax_inplace, sl_logsumexp, sl_max and
 * sl_rel_weights against values worked out by hand, against the
 * invariances of softmax (shift by a constant), against a naive formula
 * where the naive formula is safe, and on extreme finite scores where it
 * is not (+-700, +-1e300, +-DBL_MAX): there the answer must still be
 * finite and right.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "kernels/softmax.h"
#include "testing.h"

/* Relative error of a weight or log-sum-exp of a few moderate scores.
 * Budget: the scores themselves (log 2, log 3) carry 1/2 ulp, exp adds
 * < 1 ulp, the sum of n <= 5 terms n/2 ulp, the division or log1p 1 ulp:
 * about 5 ulps; 8 leaves margin for a different but sound order. */
#define SOFTMAX_TOL_EPS 8.0

/* Shift by c: s + c is rounded, an absolute error up to eps |c| / 2 on
 * each score, so each weight moves by up to eps (|c| + max|s|) relative;
 * 16 eps (1 + |c|) covers that and the kernel's own rounding. */
#define SOFTMAX_SHIFT_TOL_EPS 16.0

/* Sum of n weights (1 in the reals, by the contract): the kernel's sum of
 * n exponentials is within (n - 1) u relative, each division adds u, and
 * the test's own sum of the weights (n - 1) u more: about 2 n u = n eps. */
#define SOFTMAX_TOTAL_TOL_EPS 1.0

/* Naive log(sum exp s_i) of n moderate scores: the sum has relative error
 * up to n eps, hence an absolute error n eps in the logarithm, plus |lse|
 * eps for the result's own rounding; both sides, so 4. */
#define SOFTMAX_NAIVE_TOL_EPS 4.0

/* In-place versus out-of-place: the same rounded softmax; 2 ulps allow for
 * a different order of operations. */
#define SOFTMAX_INPLACE_TOL_EPS 2.0

static int near(double got, double want, double tol, const char *what)
{
    double err = fabs(got - want);
    if (err <= tol)
        return 1;
    fprintf(stderr, "\n  %s: got %a want %a |err| %a > tol %a\n", what, got,
            want, err, tol);
    return 0;
}

static int same(double got, double want, const char *what)
{
    if (got == want)
        return 1;
    fprintf(stderr, "\n  %s: got %a want %a\n", what, got, want);
    return 0;
}

/* Deterministic moderate scores in [-amp, amp]. */
static void fill_scores(size_t n, double amp, double *s)
{
    for (size_t i = 0; i < n; i++)
        s[i] = amp * sin(1.3 * (double)i + 0.2);
}

/* exp(0) : exp(log 2) : exp(log 3) = 1 : 2 : 3, so the weights are
 * 1/6, 2/6, 3/6 and the log-sum-exp is log 6. */
static void test_hand(void)
{
    const double s[3] = {0.0, log(2.0), log(3.0)};
    const double want[3] = {1.0 / 6.0, 2.0 / 6.0, 3.0 / 6.0};
    double w[3];
    sl_softmax(3, s, w);
    for (int i = 0; i < 3; i++)
        CU_ASSERT(
            near(w[i], want[i], SOFTMAX_TOL_EPS * DBL_EPSILON * want[i], "w"));
    double lse = sl_logsumexp(3, s);
    CU_ASSERT(
        near(lse, log(6.0), SOFTMAX_TOL_EPS * DBL_EPSILON * log(6.0), "lse"));
}

/* softmax(s + c) = softmax(s) and lse(s + c) = lse(s) + c, for shifts that
 * would overflow (c = 1e3) or underflow (c = -1e3) a naive exp. */
static void test_shift_invariance(void)
{
    enum { N = 10 };
    const double shifts[2] = {1.0e3, -1.0e3};
    double s[N], t[N], w[N], wt[N];
    fill_scores(N, 3.0, s);
    sl_softmax(N, s, w);
    double lse = sl_logsumexp(N, s);
    for (int k = 0; k < 2; k++) {
        double c = shifts[k];
        for (int i = 0; i < N; i++)
            t[i] = s[i] + c;
        sl_softmax(N, t, wt);
        double rel = SOFTMAX_SHIFT_TOL_EPS * DBL_EPSILON * (1.0 + fabs(c));
        for (int i = 0; i < N; i++)
            CU_ASSERT(near(wt[i], w[i], rel * w[i], "w(s + c)"));
        CU_ASSERT(near(sl_logsumexp(N, t), lse + c, rel * (fabs(lse) + fabs(c)),
                       "lse(s + c)"));
    }
}

/* Every weight in [0, 1], the weights summing to 1 within n eps, for
 * scores spread over [-30, 30] (many weights underflow towards 0). */
static void test_range_and_total(void)
{
    enum { N = 1000 };
    double s[N], w[N];
    fill_scores(N, 30.0, s);
    sl_softmax(N, s, w);
    double total = 0.0;
    int in_range = 1;
    for (int i = 0; i < N; i++) {
        if (!(w[i] >= 0.0 && w[i] <= 1.0)) {
            fprintf(stderr, "\n  w[%d] = %a not in [0, 1]\n", i, w[i]);
            in_range = 0;
        }
        total += w[i];
    }
    CU_ASSERT(in_range);
    CU_ASSERT(
        near(total, 1.0, SOFTMAX_TOTAL_TOL_EPS * N * DBL_EPSILON, "sum w"));
}

/* One score: weight exactly 1 and log-sum-exp exactly the score, however
 * large or small the score. */
static void test_single(void)
{
    const double cases[5] = {0.3, 1.0e300, -1.0e300, DBL_MAX, -DBL_MAX};
    for (int k = 0; k < 5; k++) {
        double w;
        sl_softmax(1, &cases[k], &w);
        CU_ASSERT(same(w, 1.0, "n=1 w"));
        CU_ASSERT(same(sl_logsumexp(1, &cases[k]), cases[k], "n=1 lse"));
    }
}

/* n equal scores: weights 1/n, log-sum-exp s + log n. */
static void test_equal_scores(void)
{
    enum { N = 5 };
    double s[N], w[N];
    for (int i = 0; i < N; i++)
        s[i] = 0.7;
    sl_softmax(N, s, w);
    for (int i = 0; i < N; i++)
        CU_ASSERT(
            near(w[i], 1.0 / N, SOFTMAX_TOL_EPS * DBL_EPSILON / N, "w equal"));
    double want = 0.7 + log((double)N);
    CU_ASSERT(near(sl_logsumexp(N, s), want,
                   SOFTMAX_TOL_EPS * DBL_EPSILON * want, "lse equal"));
}

/* One extreme case: weights and log-sum-exp must be finite and match. */
static void check_extreme(size_t n, const double *s, const double *want_w,
                          double want_lse, const char *what)
{
    double w[3];
    sl_softmax(n, s, w);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT(isfinite(w[i]));
        CU_ASSERT(near(w[i], want_w[i],
                       SOFTMAX_TOL_EPS * DBL_EPSILON * want_w[i], what));
    }
    double lse = sl_logsumexp(n, s);
    CU_ASSERT(isfinite(lse));
    CU_ASSERT(near(lse, want_lse,
                   SOFTMAX_TOL_EPS * DBL_EPSILON * fabs(want_lse), what));
}

/* Scores where exp overflows or underflows: the right answer all the
 * same.  Weights far below the maximum are exactly 0 (underflow is the
 * correctly rounded value) and the others exact or within a few ulps. */
static void test_extreme_scores(void)
{
    const double e1 = exp(-1.0);
    const double p = 1.0 / (1.0 + e1), q = e1 / (1.0 + e1);

    const double s1[2] = {1.0e300, -1.0e300};
    const double w1[2] = {1.0, 0.0};
    check_extreme(2, s1, w1, 1.0e300, "{1e300, -1e300}");

    const double s2[2] = {-DBL_MAX, DBL_MAX};
    const double w2[2] = {0.0, 1.0};
    check_extreme(2, s2, w2, DBL_MAX, "{-DBL_MAX, DBL_MAX}");

    /* DBL_MAX + log 2 rounds back to DBL_MAX: finite, not Inf. */
    const double s3[3] = {DBL_MAX, DBL_MAX, -DBL_MAX};
    const double w3[3] = {0.5, 0.5, 0.0};
    check_extreme(3, s3, w3, DBL_MAX, "{DBL_MAX, DBL_MAX, -DBL_MAX}");

    const double s4[2] = {-DBL_MAX, -DBL_MAX};
    const double w4[2] = {0.5, 0.5};
    check_extreme(2, s4, w4, -DBL_MAX, "{-DBL_MAX, -DBL_MAX}");

    /* exp(710) overflows: a naive softmax gives Inf / Inf. */
    const double s5[2] = {710.0, 709.0};
    const double w5[2] = {p, q};
    check_extreme(2, s5, w5, 710.0 + log1p(e1), "{710, 709}");

    /* exp(-746) underflows to 0: a naive softmax gives {1, 0} or 0 / 0. */
    const double s6[2] = {-746.0, -745.0};
    const double w6[2] = {q, p};
    check_extreme(2, s6, w6, -745.0 + log1p(e1), "{-746, -745}");

    const double s7[2] = {700.0, -700.0};
    const double w7[2] = {1.0, 0.0};
    check_extreme(2, s7, w7, 700.0, "{700, -700}");
}

/* Moderate scores: log-sum-exp agrees with log(sum exp s_i). */
static void test_logsumexp_naive(void)
{
    enum { N = 50 };
    double s[N];
    fill_scores(N, 5.0, s);
    double sum = 0.0;
    for (int i = 0; i < N; i++)
        sum += exp(s[i]);
    double naive = log(sum);
    double tol = SOFTMAX_NAIVE_TOL_EPS * DBL_EPSILON * (N + fabs(naive));
    CU_ASSERT(near(sl_logsumexp(N, s), naive, tol, "lse vs naive"));
}

/* One dominant score: lse = log1p(tiny) keeps its relative accuracy
 * (softmax.h), where log(1 + tiny) would return 0. */
static void test_logsumexp_dominant(void)
{
    const double s1[2] = {0.0, -40.0};
    const double s2[3] = {-41.0, 0.0, -40.0};
    double t1 = exp(-40.0);
    double t2 = exp(-40.0) + exp(-41.0);
    /* log1p(t) = t (1 - t/2 + ...): t/2 < 1e-17 is below half an ulp. */
    CU_ASSERT(near(sl_logsumexp(2, s1), t1, SOFTMAX_TOL_EPS * DBL_EPSILON * t1,
                   "lse {0, -40}"));
    CU_ASSERT(near(sl_logsumexp(3, s2), t2, SOFTMAX_TOL_EPS * DBL_EPSILON * t2,
                   "lse {-41, 0, -40}"));
}

/* sl_softmax_inplace leaves in s what sl_softmax writes to w. */
static void test_inplace(void)
{
    enum { N = 37 };
    double s[N], w[N], t[N];
    fill_scores(N, 12.0, s);
    for (int i = 0; i < N; i++)
        t[i] = s[i];
    sl_softmax(N, s, w);
    sl_softmax_inplace(N, t);
    for (int i = 0; i < N; i++)
        CU_ASSERT(near(t[i], w[i], SOFTMAX_INPLACE_TOL_EPS * DBL_EPSILON * w[i],
                       "inplace"));
}

/* The maximum wherever it sits, reading only the first n entries. */
static void test_max(void)
{
    const double mid[5] = {3.0, -1.0, 7.0, 2.0, 7.0};
    const double first[3] = {9.0, 1.0, 2.0};
    const double last[3] = {1.0, 2.0, 9.0};
    const double neg[3] = {-5.0, -2.0, -9.0};
    const double huge[2] = {-DBL_MAX, DBL_MAX};
    const double tail[3] = {1.0, 2.0, 99.0};
    const double one = -1.0e300;
    CU_ASSERT(same(sl_max(5, mid), 7.0, "max mid"));
    CU_ASSERT(same(sl_max(3, first), 9.0, "max first"));
    CU_ASSERT(same(sl_max(3, last), 9.0, "max last"));
    CU_ASSERT(same(sl_max(3, neg), -2.0, "max negative"));
    CU_ASSERT(same(sl_max(2, huge), DBL_MAX, "max huge"));
    CU_ASSERT(same(sl_max(2, tail), 2.0, "max of first n"));
    CU_ASSERT(same(sl_max(1, &one), -1.0e300, "max n=1"));
}

/* Relative weights: exp(s_i - max) exactly as libm gives it, 1 at every
 * maximal score, the maximum returned, s untouched; extreme finite scores
 * give 0, never NaN. */
static void test_rel_weights(void)
{
    const double s[5] = {3.0, -1.0, 7.0, 2.0, 7.0};
    const double far[3] = {-DBL_MAX, 0.0, DBL_MAX};
    double e[5], f[3];
    CU_ASSERT(same(sl_rel_weights(5, s, e), 7.0, "rel max"));
    for (int i = 0; i < 5; i++) {
        CU_ASSERT(same(e[i], exp(s[i] - 7.0), "rel value"));
        CU_ASSERT(e[i] >= 0.0 && e[i] <= 1.0);
    }
    CU_ASSERT(same(e[2], 1.0, "rel top") && same(e[4], 1.0, "rel tie"));
    CU_ASSERT(same(s[2], 7.0, "rel input kept"));
    CU_ASSERT(same(sl_rel_weights(3, far, f), DBL_MAX, "rel far max"));
    CU_ASSERT(same(f[0], 0.0, "rel -inf gap") && same(f[1], 0.0, "rel gap"));
    CU_ASSERT(same(f[2], 1.0, "rel far top"));
}

void register_softmax_suite(void)
{
    CU_pSuite s = CU_add_suite("softmax", NULL, NULL);
    testing_add(s, "hand", test_hand);
    testing_add(s, "shift_invariance", test_shift_invariance);
    testing_add(s, "range_and_total", test_range_and_total);
    testing_add(s, "single", test_single);
    testing_add(s, "equal_scores", test_equal_scores);
    testing_add(s, "extreme_scores", test_extreme_scores);
    testing_add(s, "logsumexp_naive", test_logsumexp_naive);
    testing_add(s, "logsumexp_dominant", test_logsumexp_dominant);
    testing_add(s, "inplace", test_inplace);
    testing_add(s, "max", test_max);
    testing_add(s, "rel_weights", test_rel_weights);
}
