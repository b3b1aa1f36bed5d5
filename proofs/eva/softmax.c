/* Eva driver for softmax.c: 8 scores in [-SL_EVA_SCORE, SL_EVA_SCORE].
 *
 * Eva is non-relational: it does not know that s_i - max_j s_j <= 0, so it
 * bounds the shifted exponents by [-2 B, 2 B].  With B = 300 every exp
 * stays finite (e^600 < DBL_MAX / 8) and above zero (e^-600 > DBL_MIN),
 * hence no overflow, no NaN and no division by zero.  That the exponents
 * are in fact <= 0 for any finite scores is WP's part (softmax.h). */
#include "eva_inputs.h"
#include "kernels/softmax.h"

#define N 8
#define SL_EVA_SCORE 300.0

void eva_main(void)
{
    double s[N], w[N];
    eva_fill(s, N, -SL_EVA_SCORE, SL_EVA_SCORE);
    double m = sl_max(N, s);
    double lse = sl_logsumexp(N, s);
    sl_softmax(N, s, w);
    sl_softmax_inplace(N, s);
    (void)m;
    (void)lse;
}
