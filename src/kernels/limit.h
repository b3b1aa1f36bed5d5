/* limit.h -- the infinite-prompt limit of softmax attention, Gaussian tokens.
 *
 * For tokens ~ N(m, S) the exponentially tilted measure is N(m + S a, S),
 * a = W x, so the limit of F_n is affine in the query:
 *
 *   mu    = m + S a                 (tilted mean, D)
 *   F_inf = V mu                    (output, p)
 *   kappa = exp(a^T S a)            (second moment of the normalised tilt)
 *
 * and, for a loss gradient g = dl/dF (p), with h = V^T g:
 *
 *   dl/dV = g mu^T                  (p x D)
 *   dl/dW = S h x^T                 (D x Dq)
 *
 * which are the limits of the finite-prompt gradients (gradient.h), since
 * zbar -> m + S a and the tilted covariance C_w -> S.
 */
#ifndef SOFTLIN_LIMIT_H
#define SOFTLIN_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "softlin.acsl"

/* Forward: outputs a (D), mu (D) and F (p). */
/*@
  requires nonempty: D >= 1 && Dq >= 1 && p >= 1;
  requires shape:    D * D <= SIZE_MAX && D * Dq <= SIZE_MAX
                     && p * D <= SIZE_MAX;
  requires valid_in: \valid_read(m + (0 .. D - 1))
                     && \valid_read(S + (0 .. D * D - 1))
                     && \valid_read(W + (0 .. D * Dq - 1))
                     && \valid_read(V + (0 .. p * D - 1))
                     && \valid_read(x + (0 .. Dq - 1));
  requires valid_o:  \valid(a + (0 .. D - 1)) && \valid(mu + (0 .. D - 1))
                     && \valid(F + (0 .. p - 1));
  requires sep:      \separated(a + (0 .. D - 1), mu + (0 .. D - 1),
                                F + (0 .. p - 1), m + (0 .. D - 1),
                                S + (0 .. D * D - 1), W + (0 .. D * Dq - 1),
                                V + (0 .. p * D - 1), x + (0 .. Dq - 1));
  assigns  a[0 .. D - 1], mu[0 .. D - 1], F[0 .. p - 1];
  ensures  tilt:     \forall integer k; 0 <= k < D ==>
                       a[k] == \old(SlRowDot(W, x, Dq, k));
  ensures  mean:     \forall integer k; 0 <= k < D ==>
                       mu[k] == m[k] + SlRowDot(S, a, D, k);
  ensures  output:   \forall integer r; 0 <= r < p ==>
                       F[r] == SlRowDot(V, mu, D, r);
*/
void sl_limit_gauss_forward(size_t D, size_t Dq, size_t p, const double *m,
                            const double *S, const double *W, const double *V,
                            const double *x, double *a, double *mu, double *F);

/* a^T S a, the tilt's variance under N(m, S); log kappa.  Uses work (D). */
/*@
  requires nonempty: D >= 1;
  requires shape:    D * D <= SIZE_MAX;
  requires valid_in: \valid_read(S + (0 .. D * D - 1))
                     && \valid_read(a + (0 .. D - 1));
  requires valid_w:  \valid(work + (0 .. D - 1));
  requires sep:      \separated(work + (0 .. D - 1), S + (0 .. D * D - 1),
                                a + (0 .. D - 1));
  assigns  work[0 .. D - 1];
  ensures  work:     \forall integer k; 0 <= k < D ==>
                       work[k] == \old(SlRowDot(S, a, D, k));
  ensures  value:    \result == SlDot(a, work, D);
*/
double sl_limit_gauss_quad(size_t D, const double *S, const double *a,
                           double *work);

/* Backward: from mu (forward output) and g (p), outputs h = V^T g (D),
 * c = S h (D), dV = g mu^T (p x D) and dW = c x^T (D x Dq). */
/*@
  requires nonempty: D >= 1 && Dq >= 1 && p >= 1;
  requires shape:    D * D <= SIZE_MAX && D * Dq <= SIZE_MAX
                     && p * D <= SIZE_MAX;
  requires valid_in: \valid_read(S + (0 .. D * D - 1))
                     && \valid_read(V + (0 .. p * D - 1))
                     && \valid_read(x + (0 .. Dq - 1))
                     && \valid_read(mu + (0 .. D - 1))
                     && \valid_read(g + (0 .. p - 1));
  requires valid_o:  \valid(h + (0 .. D - 1)) && \valid(c + (0 .. D - 1))
                     && \valid(dV + (0 .. p * D - 1))
                     && \valid(dW + (0 .. D * Dq - 1));
  requires sep:      \separated(h + (0 .. D - 1), c + (0 .. D - 1),
                                dV + (0 .. p * D - 1),
                                dW + (0 .. D * Dq - 1),
                                S + (0 .. D * D - 1), V + (0 .. p * D - 1),
                                x + (0 .. Dq - 1), mu + (0 .. D - 1),
                                g + (0 .. p - 1));
  assigns  h[0 .. D - 1], c[0 .. D - 1], dV[0 .. p * D - 1],
           dW[0 .. D * Dq - 1];
  ensures  h:        \forall integer k; 0 <= k < D ==>
                       h[k] == \old(SlColDot(V, g, p, D, k));
  ensures  c:        \forall integer k; 0 <= k < D ==>
                       c[k] == SlRowDot(S, h, D, k);
  ensures  dV:       \forall integer r; 0 <= r < p ==>
                       SlOuterRow{Post, Pre}(dV, D, r, g, mu);
  ensures  dW:       \forall integer k; 0 <= k < D ==>
                       SlOuterRow{Post, Post}(dW, Dq, k, c, x);
*/
void sl_limit_gauss_backward(size_t D, size_t Dq, size_t p, const double *S,
                             const double *V, const double *x, const double *mu,
                             const double *g, double *h, double *c, double *dV,
                             double *dW);

#endif
