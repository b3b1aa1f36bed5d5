/* linear.c -- linear attention, finite prompt and Gaussian limit.
 *
 * L_n = V u with u = (1/n) sum_i <a, z_i> z_i: one pass over the tokens,
 * the D x D second-moment matrix is never formed.  The Gaussian limit
 * uses E z z^T = S + m m^T.
 */
#include "kernels/linear.h"
#include "kernels/linalg.h"

void sl_linear_forward(size_t n, size_t D, size_t Dq, size_t p, const double *Z,
                       const double *W, const double *V, const double *x,
                       double *a, double *u, double *L)
{
    /* 1. a = W x. */
    sl_matvec(D, Dq, W, x, a);

    /* 2. u = sum_i <a, z_i> z_i, then divided by n. */
    /*@
      loop invariant bound: 0 <= k <= D;
      loop assigns k, u[0 .. D - 1];
      loop variant D - k;
    */
    for (size_t k = 0; k < D; k++)
        u[k] = 0.0;
    /*@
      loop invariant bound: 0 <= i <= n;
      loop assigns i, u[0 .. D - 1];
      loop variant n - i;
    */
    for (size_t i = 0; i < n; i++) {
        //@ assert row: SlRowFits(i, n, D);
        const double *z = Z + i * D;
        double s = sl_dot(D, a, z);
        /*@
          loop invariant bound: 0 <= k <= D;
          loop assigns k, u[0 .. D - 1];
          loop variant D - k;
        */
        for (size_t k = 0; k < D; k++)
            u[k] += s * z[k];
    }
    /*@
      loop invariant bound: 0 <= k <= D;
      loop assigns k, u[0 .. D - 1];
      loop variant D - k;
    */
    for (size_t k = 0; k < D; k++)
        u[k] /= (double)n;
    //@ ghost Moment:;

    /* 3. L = V u. */
    sl_matvec(p, D, V, u, L);

    /* Step 3 wrote L only: the frame of the proof. */
    //@ assert kept_V: SlSameMat{Moment, Here}(V, p, D);
    //@ assert kept_u: SlSame{Moment, Here}(u, D);
}

void sl_linear_limit_gauss(size_t D, size_t Dq, size_t p, const double *m,
                           const double *S, const double *W, const double *V,
                           const double *x, double *a, double *u, double *L)
{
    /* 1. a = W x. */
    sl_matvec(D, Dq, W, x, a);
    //@ ghost Tilted:;

    /* 2. u = S a + m <m, a>. */
    sl_matvec(D, D, S, a, u);
    double ma = sl_dot(D, m, a);
    //@ ghost Dotted:;
    sl_axpy(D, ma, m, u);
    //@ ghost Moment:;

    /* 3. L = V u. */
    sl_matvec(p, D, V, u, L);

    /* Steps 2-3 wrote u and L only: the frame of the proof. */
    //@ assert kept_a: SlSame{Tilted, Here}(a, D);
    //@ assert kept_m: SlSame{Dotted, Here}(m, D);
    //@ assert kept_a2: SlSame{Dotted, Here}(a, D);
    //@ assert kept_S: SlSameMat{Tilted, Here}(S, D, D);
    //@ assert kept_V: SlSameMat{Moment, Here}(V, p, D);
    //@ assert kept_u: SlSame{Moment, Here}(u, D);
    /*@ assert axpy: \forall integer k; 0 <= k < D ==>
                       u[k] == \at(u[k] + ma * m[k], Dotted); */
    /*@ assert same_m: \forall integer k; 0 <= k < D ==>
                         m[k] == \at(m[k], Dotted); */
    /*@ assert prod: \forall integer k; 0 <= k < D ==>
                       ma * m[k] == ma * \at(m[k], Dotted); */
    /*@ assert shifted: \forall integer k; 0 <= k < D ==>
                          u[k] == \at(u[k], Dotted) + ma * m[k]; */
    /*@ assert sa: \forall integer k; 0 <= k < D ==>
                     \at(u[k], Dotted) == SlRowDot(S, a, D, k); */
    /*@ assert moment: \forall integer k; 0 <= k < D ==>
                         u[k] == SlRowDot(S, a, D, k) + ma * m[k]; */
    //@ assert dot: ma == SlDot(m, a, D);
}
