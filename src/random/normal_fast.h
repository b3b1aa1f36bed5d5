/* normal_fast.h -- many normals (or uniforms) per call, vectorised.
 *
 * The same streams as rng.h (Philox4x32-10, counter = {block, stream},
 * key = seed), computed 32 blocks at a time: the ten Philox rounds run on
 * vector registers, one block per 64-bit lane, and Box-Muller evaluates
 * log and sincos with SLEEF's vector functions (AVX-512 or AVX2 + FMA,
 * chosen at run time; a scalar path serves any other x86-64).
 *
 * Normals: block b of the stream gives the pair
 *
 *   u1 = 1 - k1 2^-53,  k1 = top 53 bits of (w0 + 2^32 w1)   in (0, 1]
 *   v  = (2 k2 + 1 - 2^52) 2^-52, k2 = top 52 bits of (w2 + 2^32 w3)
 *   rad = sqrt(-2 log u1),  a = fl(pi v),  (z0, z1) = (rad cos a, rad sin a)
 *
 * v lies in (-1, 1) on a grid of 2^52 points symmetric about 0, so the
 * angle is uniform on the circle to 52 bits (the angle's uniform has 52
 * random bits, one fewer than the radius's; a rounds pi v, keeping the
 * symmetry); the radius uses all 53 bits of its uniform, and u1 is never
 * 0, so |z| <= sqrt(106 ln 2) ~ 8.57 (a tail cut at probability 2^-53).
 * Both uniforms are exact; log and sincos are SLEEF's (<= 3.5 ulp each)
 * and a, rad and z add one correctly rounded operation each.
 *
 * Position, not calls: the normals of a stream are z0, z1 of block b,
 * b + 1, ... from the block where they started; an odd count leaves z1 as
 * the rng's spare for the next call (as sl_rng_normal does), so drawing k
 * then m normals gives exactly the k + m of one call.  The spare is shared
 * with sl_rng_normal: mixing the two generators on one sl_rng stays
 * deterministic, but a spare is a value of whichever generator made it.
 * These normals differ from sl_rng_normal's (libm, 2 pi u2 angle).
 *
 * Paths and bit-identity: the AVX-512, AVX2 and scalar-FMA paths all call
 * SLEEF's deterministic "finz" functions, which return the same bits on
 * every instruction set with FMA; the rest is exact or correctly rounded,
 * so these three paths give bit-identical normals (tests/test_normal_fast.c
 * checks it).  The scalar path without FMA, taken only on CPUs without
 * AVX2 + FMA, uses SLEEF's "cinz" functions: same law, same uniforms, but
 * the last bits of some normals differ (measured: 4% of them, by at most
 * 2 ulp), so a run is reproducible bit for bit only among machines that
 * take an FMA path.
 *
 * Uniforms: sl_rng_uniform_fast gives exactly the values of k successive
 * sl_rng_uniform calls (words 0 and 1 of one block each), on every path.
 */
#ifndef SOFTLIN_NORMAL_FAST_H
#define SOFTLIN_NORMAL_FAST_H

#include <stddef.h>

#include "random/rng.h"

/* Philox blocks computed together: one Box-Muller pair each. */
#define SL_NORMAL_FAST_LANES 32

typedef enum sl_normal_path {
    SL_NORMAL_PATH_AUTO,       /* the fastest this CPU supports */
    SL_NORMAL_PATH_SCALAR,     /* any x86-64: SLEEF cinz, one at a time */
    SL_NORMAL_PATH_SCALAR_FMA, /* FMA + AVX2: SLEEF finz, one at a time */
    SL_NORMAL_PATH_AVX2,       /* AVX2 + FMA: 4 lanes */
    SL_NORMAL_PATH_AVX512      /* AVX-512F: 8 lanes */
} sl_normal_path;

/* k standard normals into out, as above. */
void sl_rng_normal_fast(sl_rng *r, size_t k, double *out);

/* k uniforms in (0, 1) into out: bit-identical to k sl_rng_uniform. */
void sl_rng_uniform_fast(sl_rng *r, size_t k, double *out);

/* The path the generators take now (never SL_NORMAL_PATH_AUTO). */
sl_normal_path sl_normal_path_active(void);

/* Whether this CPU can run path p (AUTO: always). */
int sl_normal_path_supported(sl_normal_path p);

/* Test hook: make every later call take path p (AUTO restores the
 * default).  Returns 0, or -1 (nothing changed) when the CPU cannot run
 * p.  Not for use while other threads draw. */
int sl_normal_path_force(sl_normal_path p);

/* "auto", "scalar", "scalar-fma", "avx2" or "avx512". */
const char *sl_normal_path_name(sl_normal_path p);

#endif
