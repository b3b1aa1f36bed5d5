/* linalg.c -- dot products and matrix-vector products, row-major doubles.
 *
 * Left-to-right recursive summation: for a length-k dot product the
 * computed value is within k u sum_i |u_i v_i| / (1 - k u) of the exact
 * one (Higham, Accuracy and Stability, 2nd ed., eq. 3.5), u = 2^-53.
 */
#include "kernels/linalg.h"

double sl_sum(size_t n, const double *v)
{
    double acc = 0.0;
    /*@
      loop invariant bound: 0 <= i <= n;
      loop invariant value: acc == SlSum(v, i);
      loop assigns i, acc;
      loop variant n - i;
    */
    for (size_t i = 0; i < n; i++)
        acc += v[i];
    return acc;
}

double sl_dot(size_t n, const double *u, const double *v)
{
    double acc = 0.0;
    /*@
      loop invariant bound: 0 <= i <= n;
      loop invariant value: acc == SlDot(u, v, i);
      loop assigns i, acc;
      loop variant n - i;
    */
    for (size_t i = 0; i < n; i++)
        acc += u[i] * v[i];
    return acc;
}

void sl_matvec(size_t rows, size_t cols, const double *A, const double *x,
               double *y)
{
    /*@
      loop invariant bound: 0 <= r <= rows;
      loop invariant done:  \forall integer q; 0 <= q < r ==>
                              y[q] == SlRowDot{Pre}(A, x, cols, q);
      loop assigns r, y[0 .. rows - 1];
      loop variant rows - r;
    */
    for (size_t r = 0; r < rows; r++) {
        //@ assert row: SlRowFits(r, rows, cols);
        /*@ assert same: SlSame{Pre, Here}(A + r * cols, cols)
                         && SlSame{Pre, Here}(x, cols); */
        y[r] = sl_dot(cols, A + r * cols, x);
    }
}

void sl_matvec_t(size_t rows, size_t cols, const double *A, const double *x,
                 double *y)
{
    /*@
      loop invariant bound: 0 <= c <= cols;
      loop invariant done:  \forall integer q; 0 <= q < c ==>
                              y[q] == SlColDot{Pre}(A, x, rows, cols, q);
      loop assigns c, y[0 .. cols - 1];
      loop variant cols - c;
    */
    for (size_t c = 0; c < cols; c++) {
        double acc = 0.0;
        /*@
          loop invariant bound: 0 <= r <= rows;
          loop invariant value: acc == SlColDot{Pre}(A, x, r, cols, c);
          loop assigns r, acc;
          loop variant rows - r;
        */
        for (size_t r = 0; r < rows; r++) {
            //@ assert inside: 0 <= r * cols + c < rows * cols;
            acc += A[r * cols + c] * x[r];
        }
        y[c] = acc;
    }
}

void sl_scale(size_t n, double a, const double *x, double *y)
{
    /*@
      loop invariant bound: 0 <= i <= n;
      loop invariant done:  \forall integer k; 0 <= k < i ==>
                              y[k] == a * \at(x[k], Pre);
      loop assigns i, y[0 .. n - 1];
      loop variant n - i;
    */
    for (size_t i = 0; i < n; i++)
        y[i] = a * x[i];
}

void sl_copy(size_t n, const double *x, double *y)
{
    /*@
      loop invariant bound: 0 <= i <= n;
      loop invariant done:  \forall integer k; 0 <= k < i ==> y[k] == x[k];
      loop assigns i, y[0 .. n - 1];
      loop variant n - i;
    */
    for (size_t i = 0; i < n; i++)
        y[i] = x[i];
}

void sl_axpy(size_t n, double a, const double *x, double *y)
{
    /*@
      loop invariant bound: 0 <= i <= n;
      loop invariant done:  \forall integer k; 0 <= k < i ==>
                              y[k] == \at(y[k], Pre) + a * \at(x[k], Pre);
      loop invariant rest:  \forall integer k; i <= k < n ==>
                              y[k] == \at(y[k], Pre);
      loop assigns i, y[0 .. n - 1];
      loop variant n - i;
    */
    for (size_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

void sl_outer(size_t rows, size_t cols, const double *u, const double *v,
              double *A)
{
    /*@
      loop invariant bound: 0 <= r <= rows;
      loop invariant done:  \forall integer q; 0 <= q < r ==>
                              SlOuterRow{Here, Pre}(A, cols, q, u, v);
      loop assigns r, A[0 .. rows * cols - 1];
      loop variant rows - r;
    */
    for (size_t r = 0; r != rows; r++) {
        //@ assert row: SlRowFits(r, rows, cols);
        sl_scale(cols, u[r], v, A + r * cols);
        /*@ assert kept: \forall integer q, k; 0 <= q < r && 0 <= k < cols ==>
                           SlAt(A, cols, q, k)
                           == \at(SlAt(A, cols, q, k), LoopCurrent); */
        /*@ assert old: \forall integer q; 0 <= q < r ==>
                          SlOuterRow{Here, Pre}(A, cols, q, u, v); */
        /*@ assert new: \let q = r; \forall integer k; 0 <= k < cols ==>
                          SlAt(A, cols, q, k) == \at(u[q] * v[k], Pre); */
        //@ assert cur: SlOuterRow{Here, Pre}(A, cols, r, u, v);
    }
}
