/* Eva driver for attention.c: n = 6 tokens of dimension D = 3, query of
 * dimension Dq = 2, output p = 2, entries in [-SL_EVA_ENTRY, SL_EVA_ENTRY],
 * masses pi in [1e-3, 1] and without masses. */
#include "eva_inputs.h"
#include "kernels/attention.h"

#define N 6
#define D 3
#define DQ 2
#define P 2

void eva_main(void)
{
    double Z[N * D], W[D * DQ], V[P * D], x[DQ], pi[N];
    double a[D], w[N], zbar[D], F[P], lognorm;
    eva_fill(Z, N * D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(W, D * DQ, -1.0, 1.0);
    eva_fill(V, P * D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(x, DQ, -1.0, 1.0);
    eva_fill(pi, N, 1e-3, 1.0);
    sl_attn_forward(N, D, DQ, P, Z, W, V, x, NULL, a, w, zbar, F, &lognorm);
    double ess = sl_attn_ess(N, w);
    sl_attn_forward(N, D, DQ, P, Z, W, V, x, pi, a, w, zbar, F, &lognorm);
    (void)ess;
}
