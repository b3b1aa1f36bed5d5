/* Eva driver for linalg.c: every product on 4 x 3 entries in
 * [-SL_EVA_ENTRY, SL_EVA_ENTRY]. */
#include "eva_inputs.h"
#include "kernels/linalg.h"

#define ROWS 4
#define COLS 3

void eva_main(void)
{
    double A[ROWS * COLS], x[COLS], y[ROWS], xt[ROWS], yt[COLS];
    double B[ROWS * COLS], s[COLS];
    eva_fill(A, ROWS * COLS, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(x, COLS, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(xt, ROWS, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    double d = sl_dot(COLS, x, x);
    sl_matvec(ROWS, COLS, A, x, y);
    sl_matvec_t(ROWS, COLS, A, xt, yt);
    sl_scale(COLS, d, x, s);
    sl_outer(ROWS, COLS, xt, x, B);
}
