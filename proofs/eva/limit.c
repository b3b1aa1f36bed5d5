/* Eva driver for limit.c: D = 3, Dq = 2, p = 2, entries in
 * [-SL_EVA_ENTRY, SL_EVA_ENTRY]. */
#include "eva_inputs.h"
#include "kernels/limit.h"

#define D 3
#define DQ 2
#define P 2

void eva_main(void)
{
    double m[D], S[D * D], W[D * DQ], V[P * D], x[DQ], g[P];
    double a[D], mu[D], F[P], work[D], h[D], c[D], dV[P * D], dW[D * DQ];
    eva_fill(m, D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(S, D * D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(W, D * DQ, -1.0, 1.0);
    eva_fill(V, P * D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(x, DQ, -1.0, 1.0);
    eva_fill(g, P, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    sl_limit_gauss_forward(D, DQ, P, m, S, W, V, x, a, mu, F);
    double q = sl_limit_gauss_quad(D, S, a, work);
    sl_limit_gauss_backward(D, DQ, P, S, V, x, mu, g, h, c, dV, dW);
    (void)q;
}
