/* Eva driver for linear.c: n = 6 tokens of dimension D = 3, Dq = 2, p = 2,
 * entries in [-SL_EVA_ENTRY, SL_EVA_ENTRY]. */
#include "eva_inputs.h"
#include "kernels/linear.h"

#define N 6
#define D 3
#define DQ 2
#define P 2

void eva_main(void)
{
    double Z[N * D], W[D * DQ], V[P * D], x[DQ], m[D], S[D * D];
    double a[D], u[D], L[P];
    eva_fill(Z, N * D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(W, D * DQ, -1.0, 1.0);
    eva_fill(V, P * D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(x, DQ, -1.0, 1.0);
    eva_fill(m, D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(S, D * D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    sl_linear_forward(N, D, DQ, P, Z, W, V, x, a, u, L);
    sl_linear_limit_gauss(D, DQ, P, m, S, W, V, x, a, u, L);
}
