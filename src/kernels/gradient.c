/* gradient.c -- backward pass of finite-prompt softmax attention.
 *
 * Mirrors attention.c: step 6 there (F = V zbar) gives dl/dV and h = V^T g;
 * steps 2-5 there (scores, softmax, tilted mean) give dl/ds_i =
 * w_i <h, z_i - zbar> and so dl/dW = sum_i dl/ds_i z_i x^T = C_w h x^T.
 * The centred form is summed: it has no cancellation between
 * sum_i w_i <h, z_i> z_i and zbar <h, zbar> when the tokens sit far from 0.
 */
#include "kernels/gradient.h"
#include "kernels/linalg.h"

void sl_attn_backward(size_t n, size_t D, size_t Dq, size_t p, const double *Z,
                      const double *V, const double *x, const double *w,
                      const double *zbar, const double *g, double *h, double *c,
                      double *dV, double *dW)
{
    /* 1. h = V^T g (backward of F = V zbar, with respect to zbar). */
    sl_matvec_t(p, D, V, g, h);
    //@ ghost Pulled:;

    /* 2. c = sum_i w_i <h, z_i - zbar> (z_i - zbar) = C_w h. */
    /*@
      loop invariant bound: 0 <= k <= D;
      loop assigns k, c[0 .. D - 1];
      loop variant D - k;
    */
    for (size_t k = 0; k < D; k++)
        c[k] = 0.0;
    /*@
      loop invariant bound: 0 <= i <= n;
      loop assigns i, c[0 .. D - 1];
      loop variant n - i;
    */
    for (size_t i = 0; i < n; i++) {
        //@ assert row: SlRowFits(i, n, D);
        const double *z = Z + i * D;
        double t = 0.0;
        /*@
          loop invariant bound: 0 <= k <= D;
          loop assigns k, t;
          loop variant D - k;
        */
        for (size_t k = 0; k < D; k++)
            t += h[k] * (z[k] - zbar[k]);
        double wt = w[i] * t;
        /*@
          loop invariant bound: 0 <= k <= D;
          loop assigns k, c[0 .. D - 1];
          loop variant D - k;
        */
        for (size_t k = 0; k < D; k++)
            c[k] += wt * (z[k] - zbar[k]);
    }

    //@ ghost Covaried:;

    /* 3. dl/dV = g zbar^T (backward of F = V zbar, w.r.t. V). */
    sl_outer(p, D, g, zbar, dV);
    //@ ghost OuterV:;

    /* 4. dl/dW = c x^T (backward of a = W x through the scores). */
    sl_outer(D, Dq, c, x, dW);

    /* Steps 2-4 wrote c, dV and dW only: the frame of the proof. */
    //@ assert kept_h: SlSame{Pulled, Here}(h, D);
    //@ assert kept_dV: SlSameMat{OuterV, Here}(dV, p, D);
    //@ assert in_g: SlSame{Covaried, Pre}(g, p);
    //@ assert in_zbar: SlSame{Covaried, Pre}(zbar, D);
    //@ assert row_dW: SlSameMat{Here, Here}(dW, D, Dq);
    //@ assert in_c: SlSame{OuterV, Here}(c, D);
    //@ assert in_x: SlSame{OuterV, Here}(x, Dq);
}
