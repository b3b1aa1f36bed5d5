/* softmax.h -- stable softmax and log-sum-exp of n scores.
 *
 *   w_i = exp(s_i - M) / sum_j exp(s_j - M),    M = max_j s_j
 *   lse = M + log(sum_j exp(s_j - M))
 *
 * Subtracting the maximum makes every exponent <= 0, so exp cannot overflow
 * and the normaliser lies in [1, n]: any finite scores are accepted, from
 * -DBL_MAX to DBL_MAX, with no overflow and no NaN.  Scores far below the
 * maximum get weight 0 by underflow, which is the correctly rounded answer.
 */
#ifndef SOFTLIN_SOFTMAX_H
#define SOFTLIN_SOFTMAX_H

#include <errno.h>
#include <stddef.h>

#include "softlin.acsl"

/* Largest of s[0..n-1]; n >= 1. */
/*@
  requires nonempty: n >= 1;
  requires valid_s:  \valid_read(s + (0 .. n - 1));
  assigns  \nothing;
  ensures  upper:    \forall integer i; 0 <= i < n ==> s[i] <= \result;
  ensures  attained: \exists integer i; 0 <= i < n && s[i] == \result;
  ensures  value:    \result == SlMax(s, n);
*/
double sl_max(size_t n, const double *s);

/* e_i = exp(s_i - c) in place; returns sum_i e_i.  With c >= every s_i,
 * each e_i lies in [0, 1], and with c = max_i s_i the sum lies in [1, n]:
 * this is the shared step of softmax, log-sum-exp and attention. */
/*@
  requires nonempty: n >= 1;
  requires valid_s:  \valid(s + (0 .. n - 1));
  requires finite:   SlFinite(s, n) && \is_finite(c);
  requires below:    \forall integer i; 0 <= i < n ==> s[i] <= c;
  assigns  s[0 .. n - 1], errno;
  ensures  value:    \forall integer i; 0 <= i < n ==>
                       s[i] == \exp(\old(s[i]) - c);
  ensures  range:    \forall integer i; 0 <= i < n ==> 0 <= s[i] <= 1;
  ensures  total:    \result == SlSum(s, n);
  ensures  exps:     \result == SlSumExp{Pre}(s, n, c);
  ensures  norm:     (\exists integer k; 0 <= k < n && \old(s[k]) == c)
                       ==> 1 <= \result;
  ensures  size:     \result <= n;
*/
double sl_exp_shift(size_t n, double *s, double c);

/* e_i = exp(s_i - M) with M = max_i s_i, returning M: the weights of n
 * scores relative to their maximum, each in [0, 1] and exactly 1 at the
 * maximum.  e may not alias s.  n >= 1.  sl_stream_push_block folds such
 * weights into a stream (stream.h). */
/*@
  requires nonempty: n >= 1;
  requires valid_s:  \valid_read(s + (0 .. n - 1));
  requires valid_e:  \valid(e + (0 .. n - 1));
  requires sep:      \separated(e + (0 .. n - 1), s + (0 .. n - 1));
  requires finite:   SlFinite(s, n);
  assigns  e[0 .. n - 1], errno;
  ensures  max:      \result == SlMax(s, n);
  ensures  finite:   \is_finite(\result);
  ensures  value:    \forall integer i; 0 <= i < n ==>
                       e[i] == \exp(s[i] - \result);
  ensures  range:    \forall integer i; 0 <= i < n ==> 0 <= e[i] <= 1;
  ensures  top:      \exists integer k; 0 <= k < n && e[k] == 1;
*/
double sl_rel_weights(size_t n, const double *s, double *e);

/* s_i = s_i / d in place, d > 0: the last step of softmax. */
/*@
  requires valid_s:  \valid(s + (0 .. n - 1));
  requires positive: d > 0;
  assigns  s[0 .. n - 1];
  ensures  value:    \forall integer i; 0 <= i < n ==> s[i] == \old(s[i]) / d;
  ensures  unit:     (\forall integer i; 0 <= i < n ==> 0 <= \old(s[i]) <= d)
                       ==> \forall integer i; 0 <= i < n ==> 0 <= s[i] <= 1;
  ensures  total:    SlSum(s, n) == \old(SlSum(s, n)) / d;
*/
void sl_normalise(size_t n, double *s, double d);

/* w = softmax(s).  w may not alias s.  n >= 1. */
/*@
  requires nonempty: n >= 1;
  requires valid_s:  \valid_read(s + (0 .. n - 1));
  requires valid_w:  \valid(w + (0 .. n - 1));
  requires sep:      \separated(w + (0 .. n - 1), s + (0 .. n - 1));
  requires finite:   SlFinite(s, n);
  assigns  w[0 .. n - 1], errno;
  ensures  value:    \forall integer i; 0 <= i < n ==>
                       w[i] == SlSoftmax(s, n, i);
  ensures  range:    \forall integer i; 0 <= i < n ==> 0 <= w[i] <= 1;
  ensures  total:    SlSum(w, n) == 1;
*/
void sl_softmax(size_t n, const double *s, double *w);

/* w = softmax(s) in place: on return s[i] holds the weight w_i. */
/*@
  requires nonempty: n >= 1;
  requires valid_s:  \valid(s + (0 .. n - 1));
  requires finite:   SlFinite(s, n);
  assigns  s[0 .. n - 1], errno;
  ensures  value:    \forall integer i; 0 <= i < n ==>
                       s[i] == SlSoftmax{Pre}(s, n, i);
  ensures  range:    \forall integer i; 0 <= i < n ==> 0 <= s[i] <= 1;
  ensures  total:    SlSum(s, n) == 1;
*/
void sl_softmax_inplace(size_t n, double *s);

/* log sum_i exp(s_i); n >= 1.  Written M + log1p(sum_{j != argmax} ...),
 * which keeps full relative accuracy when one score dominates. */
/*@
  requires nonempty: n >= 1;
  requires valid_s:  \valid_read(s + (0 .. n - 1));
  requires finite:   SlFinite(s, n);
  assigns  errno;
  ensures  lower:    \result >= SlMax(s, n);
  ensures  value:    \result == SlLse(s, n);
*/
double sl_logsumexp(size_t n, const double *s);

#endif
