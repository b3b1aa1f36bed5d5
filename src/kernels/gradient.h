/* gradient.h -- gradients of finite-prompt softmax attention.
 *
 * For a loss l(F) with g = dl/dF (p), the forward pass of attention.h
 * (weights w, tilted mean zbar) and h = V^T g (D):
 *
 *   dl/dV = g zbar^T                                (p x D)
 *   dl/dW = C_w h x^T,  C_w h = sum_i w_i <h, z_i - zbar> (z_i - zbar)
 *
 * C_w is the tilted (weighted) covariance of the tokens.  Derivation
 * (spec/THEOREMS.md): dF/ds_i = w_i V (z_i - zbar), so dl/ds_i =
 * w_i <h, z_i - zbar>, and ds_i/dW = z_i x^T; the centring of z_i is free
 * because the dl/ds_i sum to zero, and it is kept for accuracy.  C_w is
 * never formed: c = C_w h costs O(n D).
 */
#ifndef SOFTLIN_GRADIENT_H
#define SOFTLIN_GRADIENT_H

#include <stddef.h>
#include <stdint.h>

#include "softlin.acsl"

/* Backward pass.  Inputs Z (n x D), V (p x D), x (Dq), the forward outputs
 * w (n) and zbar (D), and g (p).  Outputs h = V^T g (D), c = C_w h (D),
 * dV (p x D) and dW (D x Dq). */
/*@
  requires nonempty: n >= 1 && D >= 1 && Dq >= 1 && p >= 1;
  requires shape:    n * D <= SIZE_MAX && D * Dq <= SIZE_MAX
                     && p * D <= SIZE_MAX;
  requires valid_in: \valid_read(Z + (0 .. n * D - 1))
                     && \valid_read(V + (0 .. p * D - 1))
                     && \valid_read(x + (0 .. Dq - 1))
                     && \valid_read(w + (0 .. n - 1))
                     && \valid_read(zbar + (0 .. D - 1))
                     && \valid_read(g + (0 .. p - 1));
  requires valid_o:  \valid(h + (0 .. D - 1)) && \valid(c + (0 .. D - 1))
                     && \valid(dV + (0 .. p * D - 1))
                     && \valid(dW + (0 .. D * Dq - 1));
  requires sep:      \separated(h + (0 .. D - 1), c + (0 .. D - 1),
                                dV + (0 .. p * D - 1),
                                dW + (0 .. D * Dq - 1),
                                Z + (0 .. n * D - 1), V + (0 .. p * D - 1),
                                x + (0 .. Dq - 1), w + (0 .. n - 1),
                                zbar + (0 .. D - 1), g + (0 .. p - 1));
  assigns  h[0 .. D - 1], c[0 .. D - 1], dV[0 .. p * D - 1],
           dW[0 .. D * Dq - 1];
  ensures  h:        \forall integer k; 0 <= k < D ==>
                       h[k] == \old(SlColDot(V, g, p, D, k));
  ensures  dV:       \forall integer r; 0 <= r < p ==>
                       SlOuterRow{Post, Pre}(dV, D, r, g, zbar);
  ensures  dW:       \forall integer k; 0 <= k < D ==>
                       SlOuterRow{Post, Post}(dW, Dq, k, c, x);
*/
void sl_attn_backward(size_t n, size_t D, size_t Dq, size_t p, const double *Z,
                      const double *V, const double *x, const double *w,
                      const double *zbar, const double *g, double *h, double *c,
                      double *dV, double *dW);

#endif
