/* Eva driver for gradient.c: n = 6 tokens of dimension D = 3, Dq = 2,
 * p = 2, entries in [-SL_EVA_ENTRY, SL_EVA_ENTRY], weights in [0, 1]. */
#include "eva_inputs.h"
#include "kernels/gradient.h"

#define N 6
#define D 3
#define DQ 2
#define P 2

void eva_main(void)
{
    double Z[N * D], V[P * D], x[DQ], w[N], zbar[D], g[P];
    double h[D], c[D], dV[P * D], dW[D * DQ];
    eva_fill(Z, N * D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(V, P * D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(x, DQ, -1.0, 1.0);
    eva_fill(w, N, 0.0, 1.0);
    eva_fill(zbar, D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(g, P, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    sl_attn_backward(N, D, DQ, P, Z, V, x, w, zbar, g, h, c, dV, dW);
}
