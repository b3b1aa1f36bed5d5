/* attention.h -- softmax attention of one query over a finite prompt.
 *
 * Tokens Z (n x D, row-major), merged key-query W (D x Dq), value V (p x D),
 * query x (Dq).  With a = W x and scores s_i = <a, z_i> + log pi_i,
 *
 *   w_i     = exp(s_i) / sum_j exp(s_j)          (softmax weights)
 *   zbar    = sum_i w_i z_i                      (tilted mean, D)
 *   F       = V zbar = sum_i w_i V z_i           (output, p)
 *   lognorm = log sum_i pi_i exp(<a, z_i>)       (log-normaliser)
 *
 * pi are optional prior token weights, the masses of a discrete measure
 * nu = sum_i pi_i delta_{z_i}: F is then F(nu) of MATH.md section 1.  With
 * pi == NULL every token has mass 1/n (the empirical measure), and lognorm
 * is log((1/n) sum_i exp(<a, z_i>)), which tends to log E exp(<a, z>).
 * Masses must be > 0; they need not sum to 1.
 *
 * Two passes over Z: scores and their maximum, then weights and moments.
 * The output is a convex combination of the V z_i: each F[r] lies in
 * every interval [lo, hi] that holds all the (V z_i)[r], so between their
 * minimum and maximum (ensures "convex").
 * Accuracy: see spec/ACCURACY.md; every exponent is <= 0 after the maximum
 * is taken off, so no exp overflows whatever the (finite) scores.
 */
#ifndef SOFTLIN_ATTENTION_H
#define SOFTLIN_ATTENTION_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "softlin.acsl"

/* Forward pass.  Outputs a (D), w (n), zbar (D), F (p) and *lognorm.
 * The caller's buffers must not overlap each other or the inputs. */
/*@
  requires nonempty: n >= 1 && D >= 1 && Dq >= 1 && p >= 1;
  requires shape:    n * D <= SIZE_MAX && D * Dq <= SIZE_MAX
                     && p * D <= SIZE_MAX;
  requires valid_in: \valid_read(Z + (0 .. n * D - 1))
                     && \valid_read(W + (0 .. D * Dq - 1))
                     && \valid_read(V + (0 .. p * D - 1))
                     && \valid_read(x + (0 .. Dq - 1));
  requires valid_pi: pi == \null || \valid_read(pi + (0 .. n - 1));
  requires mass:     pi != \null ==>
                       \forall integer i; 0 <= i < n ==> pi[i] > 0;
  requires valid_out: \valid(a + (0 .. D - 1)) && \valid(w + (0 .. n - 1))
                     && \valid(zbar + (0 .. D - 1)) && \valid(F + (0 .. p - 1))
                     && \valid(lognorm);
  requires sep:      \separated(a + (0 .. D - 1), w + (0 .. n - 1),
                                zbar + (0 .. D - 1), F + (0 .. p - 1),
                                lognorm, Z + (0 .. n * D - 1),
                                W + (0 .. D * Dq - 1), V + (0 .. p * D - 1),
                                x + (0 .. Dq - 1));
  requires sep_pi:   pi != \null ==>
                       \separated(pi + (0 .. n - 1), a + (0 .. D - 1),
                                  w + (0 .. n - 1), zbar + (0 .. D - 1),
                                  F + (0 .. p - 1), lognorm);
  assigns  a[0 .. D - 1], w[0 .. n - 1], zbar[0 .. D - 1], F[0 .. p - 1],
           *lognorm, errno;
  ensures  tilt:     \forall integer k; 0 <= k < D ==>
                       a[k] == \old(SlRowDot(W, x, Dq, k));
  ensures  range:    \forall integer i; 0 <= i < n ==> 0 <= w[i] <= 1;
  ensures  total:    SlSum(w, n) == 1;
  ensures  mean:     \forall integer k; 0 <= k < D ==>
                       zbar[k] == SlColDot(Z, w, n, D, k);
  ensures  output:   \forall integer r; 0 <= r < p ==>
                       F[r] == SlRowDot(V, zbar, D, r);
  ensures  convex:   \forall integer r; 0 <= r < p ==> \forall real lo, hi;
                       SlScoresIn(V + r * D, Z, n, D, D, lo, hi)
                       ==> SlBetween(F[r], lo, hi);
*/
void sl_attn_forward(size_t n, size_t D, size_t Dq, size_t p, const double *Z,
                     const double *W, const double *V, const double *x,
                     const double *pi, double *a, double *w, double *zbar,
                     double *F, double *lognorm);

/* Effective sample size 1 / sum_i w_i^2 of normalised weights w (n >= 1).
 * Lies in [1, n]: 1 when one token takes all the mass, n when all weigh
 * the same. */
/*@
  requires nonempty: n >= 1;
  requires valid_w:  \valid_read(w + (0 .. n - 1));
  requires range:    \forall integer i; 0 <= i < n ==> 0 <= w[i] <= 1;
  requires total:    SlSum(w, n) == 1;
  assigns  \nothing;
  ensures  value:    \result == 1 / SlDot(w, w, n);
*/
double sl_attn_ess(size_t n, const double *w);

#endif
