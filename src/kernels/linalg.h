/* linalg.h -- the few dense products the attention kernels share.
 *
 * Plain double loops in row-major order, summed left to right.  Shapes are
 * given as (rows x cols); A[r][c] is A[r*cols + c].  No allocation, no I/O.
 * Accuracy: each output entry is a dot product of length k, with the usual
 * forward error |err| <= k u sum |terms| / (1 - k u), u = 2^-53.
 */
#ifndef SOFTLIN_LINALG_H
#define SOFTLIN_LINALG_H

#include <stddef.h>
#include <stdint.h>

#include "softlin.acsl"

/* v[0] + ... + v[n-1], left to right (0 when n == 0). */
/*@
  requires valid_v: \valid_read(v + (0 .. n - 1));
  assigns  \nothing;
  ensures  value:   \result == SlSum(v, n);
*/
double sl_sum(size_t n, const double *v);

/* <u, v> over n entries (0 when n == 0). */
/*@
  requires valid_u: \valid_read(u + (0 .. n - 1));
  requires valid_v: \valid_read(v + (0 .. n - 1));
  assigns  \nothing;
  ensures  value:   \result == SlDot(u, v, n);
*/
double sl_dot(size_t n, const double *u, const double *v);

/* y = A x, A (rows x cols), x (cols), y (rows). */
/*@
  requires shape:   rows * cols <= SIZE_MAX;
  requires valid_A: \valid_read(A + (0 .. rows * cols - 1));
  requires valid_x: \valid_read(x + (0 .. cols - 1));
  requires valid_y: \valid(y + (0 .. rows - 1));
  requires sep:     \separated(y + (0 .. rows - 1), A + (0 .. rows * cols - 1),
                               x + (0 .. cols - 1));
  assigns  y[0 .. rows - 1];
  ensures  value:   \forall integer r; 0 <= r < rows ==>
                      y[r] == SlRowDot{Pre}(A, x, cols, r);
*/
void sl_matvec(size_t rows, size_t cols, const double *A, const double *x,
               double *y);

/* y = A^T x, A (rows x cols), x (rows), y (cols). */
/*@
  requires shape:   rows * cols <= SIZE_MAX;
  requires valid_A: \valid_read(A + (0 .. rows * cols - 1));
  requires valid_x: \valid_read(x + (0 .. rows - 1));
  requires valid_y: \valid(y + (0 .. cols - 1));
  requires sep:     \separated(y + (0 .. cols - 1), A + (0 .. rows * cols - 1),
                               x + (0 .. rows - 1));
  assigns  y[0 .. cols - 1];
  ensures  value:   \forall integer c; 0 <= c < cols ==>
                      y[c] == SlColDot{Pre}(A, x, rows, cols, c);
*/
void sl_matvec_t(size_t rows, size_t cols, const double *A, const double *x,
                 double *y);

/* y = a x, x and y (n); y may not overlap x. */
/*@
  requires valid_x: \valid_read(x + (0 .. n - 1));
  requires valid_y: \valid(y + (0 .. n - 1));
  requires sep:     \separated(y + (0 .. n - 1), x + (0 .. n - 1));
  assigns  y[0 .. n - 1];
  ensures  value:   \forall integer i; 0 <= i < n ==> y[i] == a * \old(x[i]);
*/
void sl_scale(size_t n, double a, const double *x, double *y);

/* y = x, x and y (n); y may not overlap x. */
/*@
  requires valid_x: \valid_read(x + (0 .. n - 1));
  requires valid_y: \valid(y + (0 .. n - 1));
  requires sep:     \separated(y + (0 .. n - 1), x + (0 .. n - 1));
  assigns  y[0 .. n - 1];
  ensures  value:   \forall integer i; 0 <= i < n ==> y[i] == x[i];
*/
void sl_copy(size_t n, const double *x, double *y);

/* y = y + a x, x and y (n); y may not overlap x. */
/*@
  requires valid_x: \valid_read(x + (0 .. n - 1));
  requires valid_y: \valid(y + (0 .. n - 1));
  requires sep:     \separated(y + (0 .. n - 1), x + (0 .. n - 1));
  assigns  y[0 .. n - 1];
  ensures  value:   \forall integer i; 0 <= i < n ==>
                      y[i] == \old(y[i]) + a * \old(x[i]);
*/
void sl_axpy(size_t n, double a, const double *x, double *y);

/* A = u v^T, u (rows), v (cols), A (rows x cols). */
/*@
  requires shape:   rows * cols <= SIZE_MAX;
  requires valid_A: \valid(A + (0 .. rows * cols - 1));
  requires valid_u: \valid_read(u + (0 .. rows - 1));
  requires valid_v: \valid_read(v + (0 .. cols - 1));
  requires sep:     \separated(A + (0 .. rows * cols - 1), u + (0 .. rows - 1),
                               v + (0 .. cols - 1));
  assigns  A[0 .. rows * cols - 1];
  ensures  value:   \forall integer r; 0 <= r < rows ==>
                      SlOuterRow{Post, Pre}(A, cols, r, u, v);
*/
void sl_outer(size_t rows, size_t cols, const double *u, const double *v,
              double *A);

#endif
