/* rng.c -- Philox4x32-10 streams, uniforms and Box-Muller normals.
 *
 * The block function is Random123's philox4x32_R(10, ...) (Salmon et al.,
 * "Parallel random numbers: as easy as 1, 2, 3", SC'11); this file only
 * packs (block, stream, seed) into its counter and key, as rng.h states,
 * and turns blocks into doubles.  Nothing here has hidden state: the
 * numbers of a stream depend only on (seed, stream) and the position.
 *
 * Limits: the block index is 64 bits and would wrap after 2^64 blocks,
 * far beyond any run.  Box-Muller with u1 >= 2^-54 bounds every normal by
 * sqrt(2 * 54 ln 2) ~ 8.65, a tail cut at probability ~1e-16.
 */
#include <math.h>

#include <Random123/philox.h>

#include "random/rng.h"

/* 2 pi, rounded to nearest. */
#define SL_TWO_PI 6.283185307179586476925286766559

void sl_rng_init(sl_rng *r, uint64_t seed, uint64_t stream)
{
    r->seed = seed;
    r->stream = stream;
    r->block = 0;
    r->spare = 0.0;
    r->has_spare = 0;
}

void sl_rng_block(sl_rng *r, uint32_t out[4])
{
    philox4x32_ctr_t ctr = {{(uint32_t)r->block, (uint32_t)(r->block >> 32),
                             (uint32_t)r->stream, (uint32_t)(r->stream >> 32)}};
    philox4x32_key_t key = {{(uint32_t)r->seed, (uint32_t)(r->seed >> 32)}};
    philox4x32_ctr_t x = philox4x32_R(10, ctr, key);

    for (int i = 0; i < 4; i++)
        out[i] = x.v[i];
    r->block++;
}

double sl_rng_u01(uint64_t w)
{
    uint64_t k = w >> 11; /* 53 bits; k 2^-53 is exact */

    if (k == 0)
        return 0x1p-54;
    return (double)k * 0x1p-53;
}

/* Two 32-bit words, low word first, as one 64-bit word. */
static uint64_t join(uint32_t lo, uint32_t hi)
{
    return (uint64_t)lo | ((uint64_t)hi << 32);
}

double sl_rng_uniform(sl_rng *r)
{
    uint32_t w[4];

    sl_rng_block(r, w);
    return sl_rng_u01(join(w[0], w[1]));
}

void sl_rng_normal(sl_rng *r, size_t k, double *out)
{
    size_t i = 0;

    /* 1. The spare of the last pair goes first. */
    if (k > 0 && r->has_spare) {
        out[i++] = r->spare;
        r->has_spare = 0;
    }

    /* 2. One block, two uniforms, two normals: radius from u1, angle from
     *    u2.  The second normal is kept when k is exhausted. */
    while (i < k) {
        uint32_t w[4];
        double u1, u2, rad, ang;

        sl_rng_block(r, w);
        u1 = sl_rng_u01(join(w[0], w[1]));
        u2 = sl_rng_u01(join(w[2], w[3]));
        rad = sqrt(-2.0 * log(u1));
        ang = SL_TWO_PI * u2;
        out[i++] = rad * cos(ang);
        if (i < k) {
            out[i++] = rad * sin(ang);
        } else {
            r->spare = rad * sin(ang);
            r->has_spare = 1;
        }
    }
}
