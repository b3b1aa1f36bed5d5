/* rng.h -- counter-based random numbers (Random123 Philox4x32-10).
 *
 * A stream is named by (seed, stream id): the i-th block of the stream is
 * philox4x32_10(counter = {i lo, i hi, stream lo, stream hi},
 *               key = {seed lo, seed hi}).
 * Streams never overlap and can be drawn in any order, on any thread, so a
 * Monte Carlo run gives bit-identical numbers whatever the thread count:
 * give each trial its own stream id.
 *
 * Uniforms have 53 random bits and lie in the open interval (0, 1): the
 * top 53 bits k of a 64-bit word give k 2^-53, and k = 0 gives 2^-54, so
 * every value is exact and none is 0 or 1.  A uniform takes one Philox
 * block (words 0 and 1; words 2 and 3 are dropped).
 * Normals are made by the Box-Muller transform, two per Philox block; the
 * second is kept as a spare for the next call, so how a run splits its
 * normals into calls does not change them.
 *
 * These are the reference, one block at a time (about 26 ns a normal).
 * Bulk draws go through normal_fast.h: the same blocks 32 at a time, its
 * uniforms equal to sl_rng_uniform's bit for bit, its normals a vectorised
 * Box-Muller of its own (different values, same law, ~10 times faster).
 * sl_law_draw and so the Monte Carlo engine use those.
 */
#ifndef SOFTLIN_RNG_H
#define SOFTLIN_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_rng {
    uint64_t seed;   /* the run's seed */
    uint64_t stream; /* which stream of that seed (e.g. trial index) */
    uint64_t block;  /* next Philox block to draw */
    double spare;    /* second normal of the last Box-Muller pair */
    int has_spare;   /* spare is valid */
} sl_rng;

/* Position r at the start of stream (seed, stream). */
void sl_rng_init(sl_rng *r, uint64_t seed, uint64_t stream);

/* Four raw 32-bit words: the next Philox block. */
void sl_rng_block(sl_rng *r, uint32_t out[4]);

/* A uniform double in (0, 1). */
double sl_rng_uniform(sl_rng *r);

/* The uniform made from a 64-bit word w (top 53 bits): in (0, 1). */
double sl_rng_u01(uint64_t w);

/* k independent standard normals into out. */
void sl_rng_normal(sl_rng *r, size_t k, double *out);

#endif
