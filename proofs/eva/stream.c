/* Eva driver for stream.c: two streams of 4 tokens of dimension D = 3 with
 * scores in [-SL_EVA_SCORE, SL_EVA_SCORE], pushed one by one, and a third
 * pushed as one block (sl_stream_push_block, hence push_weighted and
 * sl_rel_weights); all merged, finished and differentiated; entries in
 * [-SL_EVA_ENTRY, SL_EVA_ENTRY].
 *
 * Eva does not relate a score to the running maximum, so it bounds the
 * relative weights e = exp(s - M) by exp(2 B) instead of 1; with B = 40
 * wsq and the rescaled co-moments stay far below DBL_MAX. */
#include "eva_inputs.h"
#include "kernels/stream.h"

#define D 3
#define DQ 2
#define P 2
#define TOKENS 4
#define SL_EVA_SCORE 40.0

void eva_main(void)
{
    double h[D], z[D], V[P * D], g[P], x[DQ];
    double mean1[D], comom1[D], mean2[D], comom2[D], mean3[D], comom3[D];
    double F[P], dV[P * D], dW[D * DQ], lognorm, ess;
    double Zb[TOKENS * D], sb[TOKENS], work[2 * D + 2 * TOKENS];
    sl_stream st1, st2, st3;
    eva_fill(h, D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(V, P * D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(g, P, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(x, DQ, -1.0, 1.0);
    sl_stream_init(&st1, D, mean1, h, comom1);
    sl_stream_init(&st2, D, mean2, h, comom2);
    sl_stream_init(&st3, D, mean3, h, comom3);
    //@ loop unroll TOKENS;
    for (int t = 0; t < TOKENS; t++) {
        eva_fill(z, D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
        double s = Frama_C_double_interval(-SL_EVA_SCORE, SL_EVA_SCORE);
        sl_stream_push(&st1, s, z);
        eva_fill(z, D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
        s = Frama_C_double_interval(-SL_EVA_SCORE, SL_EVA_SCORE);
        sl_stream_push(&st2, s, z);
    }
    eva_fill(Zb, TOKENS * D, -SL_EVA_ENTRY, SL_EVA_ENTRY);
    eva_fill(sb, TOKENS, -SL_EVA_SCORE, SL_EVA_SCORE);
    sl_stream_push_block(&st3, TOKENS, sb, Zb, work);
    sl_stream_merge(&st1, &st2);
    sl_stream_merge(&st1, &st3);
    sl_stream_finish(&st1, P, V, F, &lognorm, &ess);
    sl_stream_backward(&st1, P, DQ, g, x, dV, dW);
}
