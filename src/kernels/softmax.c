/* softmax.c -- stable softmax and log-sum-exp.
 *
 * Every exponent is s_i - M <= 0 with M the maximum score, so exp returns a
 * value in [0, 1] and never overflows; the normaliser lies in [1, n].  A
 * difference s_i - M below about -745 gives exp = 0, the correctly rounded
 * weight; two finite scores more than DBL_MAX apart give s_i - M = -inf and
 * exp(-inf) = 0 again, so no input of finite scores yields NaN.
 *
 * Error (u = 2^-53, glibc exp within 1 ulp): each shifted exponential is
 * within (|s_i - M| + 1) u relative of exp(s_i - M) when M is exact, the
 * left-to-right sum of n terms in [0, 1] adds at most (n - 1) u relative,
 * and the division one more rounding.  spec/ACCURACY.md derives the budget.
 */
#include "kernels/softmax.h"
#include "kernels/linalg.h"
#include "kernels/slmath.h"

double sl_max(size_t n, const double *s)
{
    double m = s[0];
    /*@
      loop invariant bound: 1 <= i <= n;
      loop invariant upper: \forall integer j; 0 <= j < i ==> s[j] <= m;
      loop invariant found: \exists integer j; 0 <= j < i && s[j] == m;
      loop invariant value: m == SlMax(s, i);
      loop assigns i, m;
      loop variant n - i;
    */
    for (size_t i = 1; i < n; i++) {
        if (s[i] > m)
            m = s[i];
    }
    return m;
}

double sl_exp_shift(size_t n, double *s, double c)
{
    /* 1. The shifted exponentials, each in [0, 1]. */
    /*@
      loop invariant bound: 0 <= i <= n;
      loop invariant done:  \forall integer j; 0 <= j < i ==>
                              s[j] == \exp(\at(s[j], Pre) - c)
                              && 0 <= s[j] <= 1;
      loop invariant one:   \forall integer j; 0 <= j < i ==>
                              \at(s[j], Pre) == c ==> s[j] == 1;
      loop invariant rest:  \forall integer j; i <= j < n ==>
                              s[j] == \at(s[j], Pre);
      loop assigns i, s[0 .. n - 1], errno;
      loop variant n - i;
    */
    for (size_t i = 0; i < n; i++)
        s[i] = sl_exp(s[i] - c);
    //@ assert exps: SlExpOf{Pre, Here}(s, n, c);

    /* 2. Their sum, left to right: the same additions in the same order as
     *    when they were accumulated in step 1. */
    return sl_sum(n, s);
}

double sl_rel_weights(size_t n, const double *s, double *e)
{
    /* 1. The largest score, attained at some k. */
    double m = sl_max(n, s);
    //@ assert fin_m: \is_finite(m);

    /* 2. A copy of the scores: every entry <= m, and finite. */
    sl_copy(n, s, e);
    //@ assert below: \forall integer i; 0 <= i < n ==> e[i] <= m;
    //@ assert fin_e: SlFinite(e, n);
    //@ ghost Copied:;

    /* 3. Their exponentials relative to m: in [0, 1], and exp(0) = 1 where
     *    the maximum is attained. */
    (void)sl_exp_shift(n, e, m);
    /*@ assert top: \forall integer k; 0 <= k < n ==>
                      \at(e[k], Copied) == m ==> e[k] == 1; */
    return m;
}

void sl_normalise(size_t n, double *s, double d)
{
    /*@
      loop invariant bound: 0 <= i <= n;
      loop invariant done:  \forall integer j; 0 <= j < i ==>
                              s[j] == \at(s[j], Pre) / d;
      loop invariant rest:  \forall integer j; i <= j < n ==>
                              s[j] == \at(s[j], Pre);
      loop assigns i, s[0 .. n - 1];
      loop variant n - i;
    */
    for (size_t i = 0; i < n; i++)
        s[i] = s[i] / d;
    //@ assert scaled: SlScaled{Pre, Here}(s, s, n, d);
}

void sl_softmax_inplace(size_t n, double *s)
{
    /* 1. The largest score: every shifted exponent is then <= 0. */
    double m = sl_max(n, s);
    //@ assert max: m == SlMax{Pre}(s, n);

    /* 2. Shifted exponentials, each in [0, 1]; their sum is in [1, n]
     *    because the maximum contributes exp(0) = 1. */
    double sum = sl_exp_shift(n, s, m);
    //@ assert exps: sum == SlSumExp{Pre}(s, n, SlMax{Pre}(s, n));
    //@ assert total_e: sum == SlSum(s, n) && 1 <= sum;
    //@ ghost Shifted:;

    /* 3. Normalise: one correctly rounded division per weight. */
    sl_normalise(n, s, sum);
    //@ assert total: SlSum(s, n) == SlSum{Shifted}(s, n) / sum;
    //@ assert total_s: SlSum{Shifted}(s, n) == sum;
    //@ assert unit: sum / sum == 1;
    /*@ assert value: \forall integer i; 0 <= i < n ==>
                        s[i] == \exp(\at(s[i], Pre) - SlMax{Pre}(s, n))
                                / SlSumExp{Pre}(s, n, SlMax{Pre}(s, n)); */
}

void sl_softmax(size_t n, const double *s, double *w)
{
    sl_copy(n, s, w);
    //@ assert copied: SlEqual{Here, Pre}(w, s, n);
    sl_softmax_inplace(n, w);
}

double sl_logsumexp(size_t n, const double *s)
{
    /* 1. The largest score and where it is. */
    size_t top = 0;
    /*@
      loop invariant bound: 1 <= i <= n;
      loop invariant top:   0 <= top < i;
      loop invariant upper: \forall integer j; 0 <= j < i ==> s[j] <= s[top];
      loop invariant value: s[top] == SlMax(s, i);
      loop assigns i, top;
      loop variant n - i;
    */
    for (size_t i = 1; i < n; i++) {
        if (s[i] > s[top])
            top = i;
    }
    double m = s[top];

    /* 2. The other terms exp(s_i - m), each in [0, 1]: their sum r lies in
     *    [0, n - 1] and the normaliser is 1 + r. */
    double rest = 0.0;
    /*@
      loop invariant bound: 0 <= i <= n;
      loop invariant sign:  0 <= rest <= i;
      loop invariant value: rest + (top < i ? 1 : 0) == SlSumExp(s, i, m);
      loop assigns i, rest, errno;
      loop variant n - i;
    */
    for (size_t i = 0; i < n; i++) {
        if (i != top)
            rest += sl_exp(s[i] - m);
    }

    /* 3. m + log(1 + r): log1p keeps full relative accuracy when r is
     *    small, which is when one score dominates. */
    return m + sl_log1p(rest);
}
