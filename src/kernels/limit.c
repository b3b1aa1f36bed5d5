/* limit.c -- the Gaussian infinite-prompt limit and its gradients.
 *
 * Exact formulas (limit.h); the only error is the rounding of a few dot
 * products of length D.
 */
#include "kernels/limit.h"
#include "kernels/linalg.h"

void sl_limit_gauss_forward(size_t D, size_t Dq, size_t p, const double *m,
                            const double *S, const double *W, const double *V,
                            const double *x, double *a, double *mu, double *F)
{
    /* 1. a = W x. */
    sl_matvec(D, Dq, W, x, a);
    //@ ghost Tilted:;

    /* 2. mu = m + S a, the mean of the tilted measure N(m + S a, S). */
    sl_matvec(D, D, S, a, mu);
    /*@
      loop invariant bound: 0 <= k <= D;
      loop invariant done:  \forall integer j; 0 <= j < k ==>
                              mu[j] == \at(mu[j], LoopEntry) + m[j];
      loop invariant rest:  \forall integer j; k <= j < D ==>
                              mu[j] == \at(mu[j], LoopEntry);
      loop assigns k, mu[0 .. D - 1];
      loop variant D - k;
    */
    for (size_t k = 0; k < D; k++)
        mu[k] += m[k];
    //@ ghost Mean:;

    /* 3. F_inf = V mu. */
    sl_matvec(p, D, V, mu, F);

    /* Steps 2-3 wrote mu and F only: the frame of the proof. */
    //@ assert kept_a: SlSame{Tilted, Here}(a, D);
    //@ assert kept_S: SlSameMat{Tilted, Here}(S, D, D);
    //@ assert kept_V: SlSameMat{Mean, Here}(V, p, D);
    //@ assert kept_mu: SlSame{Mean, Here}(mu, D);
    /*@ assert mean: \forall integer k; 0 <= k < D ==>
                       mu[k] == m[k] + SlRowDot(S, a, D, k); */
}

double sl_limit_gauss_quad(size_t D, const double *S, const double *a,
                           double *work)
{
    sl_matvec(D, D, S, a, work);
    return sl_dot(D, a, work);
}

void sl_limit_gauss_backward(size_t D, size_t Dq, size_t p, const double *S,
                             const double *V, const double *x, const double *mu,
                             const double *g, double *h, double *c, double *dV,
                             double *dW)
{
    /* 1. h = V^T g: the loss gradient pulled back to token space. */
    sl_matvec_t(p, D, V, g, h);
    //@ ghost Pulled:;

    /* 2. c = S h: the tilted covariance of the limit is S. */
    sl_matvec(D, D, S, h, c);
    //@ ghost Covaried:;

    /* 3. dl/dV = g mu^T (differentiates F = V mu). */
    sl_outer(p, D, g, mu, dV);
    //@ ghost OuterV:;

    /* 4. dl/dW = c x^T (differentiates mu = m + S W x). */
    sl_outer(D, Dq, c, x, dW);

    /* Steps 2-4 wrote c, dV and dW only: the frame of the proof. */
    //@ assert kept_h: SlSame{Pulled, Here}(h, D);
    //@ assert kept_S: SlSameMat{Pulled, Here}(S, D, D);
    //@ assert kept_c: SlSame{Covaried, Here}(c, D);
    //@ assert kept_dV: SlSameMat{OuterV, Here}(dV, p, D);
    /*@ assert c: \forall integer k; 0 <= k < D ==>
                    c[k] == SlRowDot(S, h, D, k); */
    //@ assert in_g: SlSame{Covaried, Pre}(g, p);
    //@ assert in_mu: SlSame{Covaried, Pre}(mu, D);
    //@ assert kept_dW: SlSameMat{Here, Here}(dW, D, Dq);
    //@ assert in_c: SlSame{OuterV, Here}(c, D);
    //@ assert in_x: SlSame{OuterV, Here}(x, Dq);
}
