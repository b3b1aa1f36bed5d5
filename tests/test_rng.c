/* test_rng.c -- CUnit suite "rng": the Philox streams of rng.h.
 *
 * The block function against the published Random123 known answers, the
 * counter and key packing that rng.h states, determinism and the
 * independence of streams from the order they are drawn in, the open
 * interval of the uniforms (with the extreme words fed in directly), and
 * the first two moments of the uniforms and normals over 1e6 draws.
 *
 * The moment checks are statistical: each compares a sample statistic
 * with its exact expectation in units of its exact standard error, and
 * fails beyond RNG_Z_TOL of them (probability ~2e-9 per check for a
 * correct generator; the seeds are fixed, so a pass is reproducible).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "random/rng.h"
#include "testing.h"

/* Largest accepted deviation of a sample moment, in standard errors. */
#define RNG_Z_TOL 6.0

/* Draws for the moment checks. */
#define RNG_MOMENT_DRAWS 1000000

/* Seed of every test that does not need a particular one. */
#define RNG_TEST_SEED UINT64_C(0x5eed0f50f711)

/* Random123 tests/kat_vectors, the three "philox4x32 10" lines:
 * counter (4 words), key (2 words), expected output (4 words). */
static const uint32_t kat[3][10] = {
    {0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
     0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
    {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
     0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
    {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
     0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
};

static uint64_t join(uint32_t lo, uint32_t hi)
{
    return (uint64_t)lo | ((uint64_t)hi << 32);
}

/* |z| <= RNG_Z_TOL, else print the statistic and fail. */
static int within_z(const char *what, double got, double want, double se)
{
    double z = (got - want) / se;

    if (fabs(z) <= RNG_Z_TOL)
        return 1;
    fprintf(stderr, "\n  %s: got %a want %a (z = %.2f)\n", what, got, want, z);
    return 0;
}

/* Block (b, stream, seed) packed as rng.h says gives the known answer;
 * each vector's words differ, so a swapped word or half fails. */
static void test_philox_known_answers(void)
{
    for (int v = 0; v < 3; v++) {
        const uint32_t *k = kat[v];
        sl_rng r;
        uint32_t out[4];

        sl_rng_init(&r, join(k[4], k[5]), join(k[2], k[3]));
        r.block = join(k[0], k[1]);
        sl_rng_block(&r, out);
        for (int i = 0; i < 4; i++) {
            CU_ASSERT_EQUAL(out[i], k[6 + i]);
            if (out[i] != k[6 + i])
                fprintf(stderr, "\n  vector %d word %d: got %08x want %08x\n",
                        v, i, (unsigned)out[i], (unsigned)k[6 + i]);
        }
    }
}

/* Each block advances the counter by one: the second block of a stream is
 * the block drawn with the counter set to 1. */
static void test_block_counter_advances(void)
{
    sl_rng a, b;
    uint32_t x[4], y[4];

    sl_rng_init(&a, RNG_TEST_SEED, 3);
    sl_rng_block(&a, x);
    sl_rng_block(&a, x);
    CU_ASSERT_EQUAL(a.block, 2);
    sl_rng_init(&b, RNG_TEST_SEED, 3);
    b.block = 1;
    sl_rng_block(&b, y);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(x[i], y[i]);
}

/* The same (seed, stream) twice gives the same numbers; another seed or
 * stream gives others. */
static void test_stream_deterministic(void)
{
    sl_rng a, b, c, d;
    double x[64], y[64], u[64], v[64];
    int same = 1, other_seed = 0, other_stream = 0;

    sl_rng_init(&a, RNG_TEST_SEED, 7);
    sl_rng_init(&b, RNG_TEST_SEED, 7);
    sl_rng_init(&c, RNG_TEST_SEED + 1, 7);
    sl_rng_init(&d, RNG_TEST_SEED, 8);
    sl_rng_normal(&a, 64, x);
    sl_rng_normal(&b, 64, y);
    sl_rng_normal(&c, 64, u);
    sl_rng_normal(&d, 64, v);
    for (int i = 0; i < 64; i++) {
        same &= x[i] == y[i];
        other_seed |= x[i] != u[i];
        other_stream |= x[i] != v[i];
    }
    CU_ASSERT(same);
    CU_ASSERT(other_seed);
    CU_ASSERT(other_stream);
}

/* Stream 1 then stream 0, or the two interleaved, gives the same numbers
 * as stream 0 then stream 1. */
static void test_stream_order_free(void)
{
    enum { K = 257 };
    double a0[K], a1[K], b0[K], b1[K], c0[K], c1[K];
    sl_rng r0, r1;
    int same = 1;

    sl_rng_init(&r0, RNG_TEST_SEED, 0);
    sl_rng_normal(&r0, K, a0);
    sl_rng_init(&r1, RNG_TEST_SEED, 1);
    sl_rng_normal(&r1, K, a1);

    sl_rng_init(&r1, RNG_TEST_SEED, 1);
    sl_rng_normal(&r1, K, b1);
    sl_rng_init(&r0, RNG_TEST_SEED, 0);
    sl_rng_normal(&r0, K, b0);

    sl_rng_init(&r0, RNG_TEST_SEED, 0);
    sl_rng_init(&r1, RNG_TEST_SEED, 1);
    for (int i = 0; i < K; i++) {
        sl_rng_normal(&r1, 1, c1 + i);
        sl_rng_normal(&r0, 1, c0 + i);
    }
    for (int i = 0; i < K; i++)
        same &= a0[i] == b0[i] && a1[i] == b1[i] && a0[i] == c0[i] &&
                a1[i] == c1[i];
    CU_ASSERT(same);
}

/* The spare normal carries over: 7 then 5 normals are the 12 of one
 * call, in order. */
static void test_normal_split_invariant(void)
{
    sl_rng a, b;
    double x[12], y[12];
    int same = 1;

    sl_rng_init(&a, RNG_TEST_SEED, 2);
    sl_rng_normal(&a, 12, x);
    sl_rng_init(&b, RNG_TEST_SEED, 2);
    sl_rng_normal(&b, 7, y);
    sl_rng_normal(&b, 0, y + 7);
    sl_rng_normal(&b, 5, y + 7);
    for (int i = 0; i < 12; i++)
        same &= x[i] == y[i];
    CU_ASSERT(same);
}

/* The extreme words map inside (0, 1), and the map is k 2^-53. */
static void test_u01_extremes(void)
{
    double lo = sl_rng_u01(0), hi = sl_rng_u01(UINT64_MAX);

    CU_ASSERT(lo > 0.0 && lo < 1.0);
    CU_ASSERT(hi > 0.0 && hi < 1.0);
    CU_ASSERT_EQUAL(hi, 1.0 - 0x1p-53);
    CU_ASSERT_EQUAL(sl_rng_u01(UINT64_C(1) << 11), 0x1p-53);
    CU_ASSERT_EQUAL(sl_rng_u01(UINT64_C(1) << 63), 0.5);
    if (!(lo > 0.0 && hi < 1.0))
        fprintf(stderr, "\n  u01(0) = %a, u01(max) = %a\n", lo, hi);
}

/* 1e6 uniforms: all in (0, 1), mean 1/2 and variance 1/12. */
static void test_uniform_moments(void)
{
    const double n = RNG_MOMENT_DRAWS;
    double sum = 0.0, sumsq = 0.0, mean, var;
    int inside = 1;
    sl_rng r;

    sl_rng_init(&r, RNG_TEST_SEED, 11);
    for (long i = 0; i < RNG_MOMENT_DRAWS; i++) {
        double u = sl_rng_uniform(&r);

        inside &= u > 0.0 && u < 1.0;
        sum += u;
        sumsq += (u - 0.5) * (u - 0.5);
    }
    mean = sum / n;
    var = sumsq / n;
    CU_ASSERT(inside);
    /* sd(u) = 1/sqrt(12); var((u - 1/2)^2) = 1/80 - 1/144 = 1/180. */
    CU_ASSERT(within_z("uniform mean", mean, 0.5, sqrt(1.0 / 12.0 / n)));
    CU_ASSERT(
        within_z("uniform variance", var, 1.0 / 12.0, sqrt(1.0 / 180.0 / n)));
}

/* 1e6 normals: mean 0 (se 1/sqrt(n)), variance 1 (se sqrt(2/n)), fourth
 * moment 3 (se sqrt(96/n)). */
static void test_normal_moments(void)
{
    enum { CHUNK = 1000 };
    const double n = RNG_MOMENT_DRAWS;
    double buf[CHUNK], s1 = 0.0, s2 = 0.0, s4 = 0.0;
    sl_rng r;

    sl_rng_init(&r, RNG_TEST_SEED, 12);
    for (long i = 0; i < RNG_MOMENT_DRAWS / CHUNK; i++) {
        sl_rng_normal(&r, CHUNK, buf);
        for (int k = 0; k < CHUNK; k++) {
            double x = buf[k];

            s1 += x;
            s2 += x * x;
            s4 += x * x * x * x;
        }
    }
    CU_ASSERT(within_z("normal mean", s1 / n, 0.0, sqrt(1.0 / n)));
    CU_ASSERT(within_z("normal variance", s2 / n, 1.0, sqrt(2.0 / n)));
    CU_ASSERT(within_z("normal fourth moment", s4 / n, 3.0, sqrt(96.0 / n)));
}

/* The two normals of a Box-Muller pair, and successive pairs, are
 * uncorrelated: lag-1 products average 0 with se 1/sqrt(n). */
static void test_normal_pairs_uncorrelated(void)
{
    enum { CHUNK = 1000 };
    double buf[CHUNK + 1], sum = 0.0;
    long m = 0;
    sl_rng r;

    sl_rng_init(&r, RNG_TEST_SEED, 13);
    sl_rng_normal(&r, 1, buf);
    for (long i = 0; i < RNG_MOMENT_DRAWS / CHUNK; i++) {
        sl_rng_normal(&r, CHUNK, buf + 1);
        for (int k = 0; k < CHUNK; k++, m++)
            sum += buf[k] * buf[k + 1];
        buf[0] = buf[CHUNK];
    }
    CU_ASSERT(
        within_z("lag-1 product", sum / (double)m, 0.0, sqrt(1.0 / (double)m)));
}

void register_rng_suite(void)
{
    CU_pSuite s = CU_add_suite("rng", NULL, NULL);

    testing_add(s, "philox_known_answers", test_philox_known_answers);
    testing_add(s, "block_counter_advances", test_block_counter_advances);
    testing_add(s, "stream_deterministic", test_stream_deterministic);
    testing_add(s, "stream_order_free", test_stream_order_free);
    testing_add(s, "normal_split_invariant", test_normal_split_invariant);
    testing_add(s, "u01_extremes", test_u01_extremes);
    testing_add(s, "uniform_moments", test_uniform_moments);
    testing_add(s, "normal_moments", test_normal_moments);
    testing_add(s, "normal_pairs_uncorrelated", test_normal_pairs_uncorrelated);
}
