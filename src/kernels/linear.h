/* linear.h -- linear attention of one query, finite prompt and its limit.
 *
 *   L_n   = V ((1/n) sum_i z_i z_i^T) W x = V u,
 *           u = (1/n) sum_i <a, z_i> z_i,  a = W x
 *   L_inf = V (S + m m^T) W x               for tokens ~ N(m, S)
 *
 * With m = 0 the linear limit V S W x is also the softmax limit (limit.h):
 * the "softmax is linear attention for long prompts" identity.
 */
#ifndef SOFTLIN_LINEAR_H
#define SOFTLIN_LINEAR_H

#include <stddef.h>
#include <stdint.h>

#include "softlin.acsl"

/* Finite prompt: outputs a (D), u (D) and L (p). */
/*@
  requires nonempty: n >= 1 && D >= 1 && Dq >= 1 && p >= 1;
  requires shape:    n * D <= SIZE_MAX && D * Dq <= SIZE_MAX
                     && p * D <= SIZE_MAX;
  requires valid_in: \valid_read(Z + (0 .. n * D - 1))
                     && \valid_read(W + (0 .. D * Dq - 1))
                     && \valid_read(V + (0 .. p * D - 1))
                     && \valid_read(x + (0 .. Dq - 1));
  requires valid_o:  \valid(a + (0 .. D - 1)) && \valid(u + (0 .. D - 1))
                     && \valid(L + (0 .. p - 1));
  requires sep:      \separated(a + (0 .. D - 1), u + (0 .. D - 1),
                                L + (0 .. p - 1), Z + (0 .. n * D - 1),
                                W + (0 .. D * Dq - 1), V + (0 .. p * D - 1),
                                x + (0 .. Dq - 1));
  assigns  a[0 .. D - 1], u[0 .. D - 1], L[0 .. p - 1];
  ensures  tilt:     \forall integer k; 0 <= k < D ==>
                       a[k] == \old(SlRowDot(W, x, Dq, k));
  ensures  output:   \forall integer r; 0 <= r < p ==>
                       L[r] == SlRowDot(V, u, D, r);
*/
void sl_linear_forward(size_t n, size_t D, size_t Dq, size_t p, const double *Z,
                       const double *W, const double *V, const double *x,
                       double *a, double *u, double *L);

/* Gaussian limit: outputs a = W x (D), u = (S + m m^T) a (D), L = V u (p).
 * S is D x D (only read, need not be symmetric for the arithmetic). */
/*@
  requires nonempty: D >= 1 && Dq >= 1 && p >= 1;
  requires shape:    D * D <= SIZE_MAX && D * Dq <= SIZE_MAX
                     && p * D <= SIZE_MAX;
  requires valid_in: \valid_read(m + (0 .. D - 1))
                     && \valid_read(S + (0 .. D * D - 1))
                     && \valid_read(W + (0 .. D * Dq - 1))
                     && \valid_read(V + (0 .. p * D - 1))
                     && \valid_read(x + (0 .. Dq - 1));
  requires valid_o:  \valid(a + (0 .. D - 1)) && \valid(u + (0 .. D - 1))
                     && \valid(L + (0 .. p - 1));
  requires sep:      \separated(a + (0 .. D - 1), u + (0 .. D - 1),
                                L + (0 .. p - 1), m + (0 .. D - 1),
                                S + (0 .. D * D - 1), W + (0 .. D * Dq - 1),
                                V + (0 .. p * D - 1), x + (0 .. Dq - 1));
  assigns  a[0 .. D - 1], u[0 .. D - 1], L[0 .. p - 1];
  ensures  tilt:     \forall integer k; 0 <= k < D ==>
                       a[k] == \old(SlRowDot(W, x, Dq, k));
  ensures  moment:   \forall integer k; 0 <= k < D ==>
                       u[k] == SlRowDot(S, a, D, k) + m[k] * SlDot(m, a, D);
  ensures  output:   \forall integer r; 0 <= r < p ==>
                       L[r] == SlRowDot(V, u, D, r);
*/
void sl_linear_limit_gauss(size_t D, size_t Dq, size_t p, const double *m,
                           const double *S, const double *W, const double *V,
                           const double *x, double *a, double *u, double *L);

#endif
