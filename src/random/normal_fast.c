/* normal_fast.c -- Philox4x32-10 over many counters, vector Box-Muller.
 *
 * One chunk is SL_NORMAL_FAST_LANES consecutive blocks of a stream, made
 * in three steps:
 *   1. Philox: the ten rounds over all the chunk's counters at once.  The
 *      AVX paths keep one block per 64-bit lane and multiply with
 *      _mm*_mul_epu32, which is exactly Philox's 32x32->64 product (given
 *      the portable loop, gcc's vectoriser emulated a 64x64 product with
 *      three of them); the baseline runs the portable loop.
 *   2. Words to uniforms: always-inline C, compiled inside each path's
 *      function, so gcc -O3 vectorises it with that path's registers.
 *   3. Box-Muller: SLEEF's log and sincos on 8 (AVX-512F) or 4 (AVX2)
 *      lanes, or one value at a time (scalar paths).  (sincos of pi v
 *      measured 20% faster than SLEEF's sincospi of v.)
 * The path is chosen per call (normal_fast.h); no path runs an
 * instruction that its CPU check did not confirm.
 *
 * Exactness of the uniforms (bit tricks on the IEEE format; e = 2^-52,
 * b in {0, 1}):
 *   from_bits(ONE | j) = 1 + j e for j < 2^52, exactly;
 *   2 - (1 + j e) = 1 - j e and (1 + j e) - 1 = j e are exact (Sterbenz);
 *   subtracting or adding b e / 2 then gives a multiple of e / 2 in
 *   (0, 1], exact;  2 (1 + j e) - 3 = (2 j - 2^52) e is exact (Sterbenz),
 *   and adding e gives an odd multiple of e in (-1, 1), exact.
 * So every uniform is the exact dyadic number normal_fast.h states, on
 * every path, and the uniforms of sl_rng_uniform_fast equal sl_rng_u01's.
 *
 * Error of a normal: log and sincos within 3.5 ulp each (SLEEF u35), the
 * angle pi v within 0.5 ulp, then -2 l (exact), sqrt and one product
 * (0.5 ulp each): the radius within about 2.3 ulp, the normal within
 * about 7 ulp, relative, far below the sampling noise of any test.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <math.h>

/* SLEEF declares its AVX2 and AVX-512 functions only when the compiler
 * targets those sets: declare them for this file, and call them only
 * from functions built for the same sets, after a run-time check. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define NF_HAVE_VECTOR 1
/* The intrinsics first, each with its own target (as they guard it). */
#include <immintrin.h>
#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f")
#include <sleef.h>
#pragma GCC pop_options
#else
#define NF_HAVE_VECTOR 0
#include <sleef.h>
#endif

#include "random/normal_fast.h"

/* Random123's Philox4x32 multipliers and Weyl key increments. */
#define PHILOX_M0     UINT32_C(0xD2511F53)
#define PHILOX_M1     UINT32_C(0xCD9E8D57)
#define PHILOX_W0     UINT32_C(0x9E3779B9)
#define PHILOX_W1     UINT32_C(0xBB67AE85)
#define PHILOX_ROUNDS 10

#define LANES SL_NORMAL_FAST_LANES

/* pi, rounded to nearest. */
#define NF_PI 3.14159265358979323846264338327950288

/* Bits of 1.0 and of 2^-53 (binary64). */
#define BITS_ONE   UINT64_C(0x3FF0000000000000)
#define BITS_2M53  UINT64_C(0x3CA0000000000000)
#define ALWAYS_INL static inline __attribute__((always_inline))

#if NF_HAVE_VECTOR
#define TARGET_AVX512 __attribute__((target("avx512f,prefer-vector-width=512")))
#define TARGET_AVX2   __attribute__((target("avx2,fma")))
#endif

/* ---- Generic steps --------------------------------------------------- */

/* Blocks block .. block + LANES - 1 of r's stream: w01[i] = words 0, 1
 * and w23[i] = words 2, 3 of block + i, low word first. */
ALWAYS_INL void philox_lanes(const sl_rng *r, uint64_t block, uint64_t *w01,
                             uint64_t *w23)
{
    uint32_t x0[LANES], x1[LANES], x2[LANES], x3[LANES];
    uint32_t k0 = (uint32_t)r->seed, k1 = (uint32_t)(r->seed >> 32);

    /* 1. Counters {block + i, stream}. */
    for (int i = 0; i < LANES; i++) {
        uint64_t c = block + (uint64_t)i;
        x0[i] = (uint32_t)c;
        x1[i] = (uint32_t)(c >> 32);
        x2[i] = (uint32_t)r->stream;
        x3[i] = (uint32_t)(r->stream >> 32);
    }

    /* 2. Ten rounds: two 32x32->64 products per block, the key bumped
     *    after each round (Salmon et al., SC'11). */
    for (int k = 0; k < PHILOX_ROUNDS; k++) {
        for (int i = 0; i < LANES; i++) {
            uint64_t p0 = (uint64_t)PHILOX_M0 * x0[i];
            uint64_t p1 = (uint64_t)PHILOX_M1 * x2[i];
            uint32_t y0 = (uint32_t)(p1 >> 32) ^ x1[i] ^ k0;
            uint32_t y2 = (uint32_t)(p0 >> 32) ^ x3[i] ^ k1;
            x1[i] = (uint32_t)p1;
            x3[i] = (uint32_t)p0;
            x0[i] = y0;
            x2[i] = y2;
        }
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }

    /* 3. Words joined in pairs, low word first. */
    for (int i = 0; i < LANES; i++) {
        w01[i] = (uint64_t)x0[i] | ((uint64_t)x1[i] << 32);
        w23[i] = (uint64_t)x2[i] | ((uint64_t)x3[i] << 32);
    }
}

ALWAYS_INL double from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* (k & 1) 2^-53, without a conversion from integer. */
ALWAYS_INL double odd_half_ulp(uint64_t k)
{
    return from_bits((UINT64_C(0) - (k & 1)) & BITS_2M53);
}

/* u1 = 1 - k 2^-53 with k = w >> 11: in [2^-53, 1], exact. */
ALWAYS_INL double radius_uniform(uint64_t w)
{
    uint64_t k = w >> 11;
    return (2.0 - from_bits(BITS_ONE | (k >> 1))) - odd_half_ulp(k);
}

/* v = (2 k + 1 - 2^52) 2^-52 with k = w >> 12: in (-1, 1), exact. */
ALWAYS_INL double angle_uniform(uint64_t w)
{
    return (2.0 * from_bits(BITS_ONE | (w >> 12)) - 3.0) + 0x1p-52;
}

/* sl_rng_u01(w): k 2^-53 with k = w >> 11, and 2^-54 for k = 0. */
ALWAYS_INL double open_uniform(uint64_t w)
{
    uint64_t k = w >> 11;
    double u = (from_bits(BITS_ONE | (k >> 1)) - 1.0) + odd_half_ulp(k);
    return k == 0 ? 0x1p-54 : u;
}

/* The pair's uniforms from the words of LANES blocks. */
ALWAYS_INL void pair_uniforms(const uint64_t *w01, const uint64_t *w23,
                              double *u1, double *v)
{
    for (int i = 0; i < LANES; i++) {
        u1[i] = radius_uniform(w01[i]);
        v[i] = angle_uniform(w23[i]);
    }
}

/* LANES uniforms of sl_rng_uniform from the words of LANES blocks. */
ALWAYS_INL void open_uniforms(const uint64_t *w01, double *out)
{
    for (int i = 0; i < LANES; i++)
        out[i] = open_uniform(w01[i]);
}

/* ---- Paths: LANES pairs (2 LANES normals, interleaved) per call ------ */

typedef void (*pairs_fn)(const sl_rng *r, uint64_t block, double *out);
typedef void (*unif_fn)(const sl_rng *r, uint64_t block, double *out);

/* Portable: the C rounds, SLEEF's scalar FMA-free (cinz) functions. */
static void pairs_scalar(const sl_rng *r, uint64_t block, double *out)
{
    uint64_t w01[LANES], w23[LANES];
    double u1[LANES], v[LANES];

    philox_lanes(r, block, w01, w23);
    pair_uniforms(w01, w23, u1, v);
    for (int i = 0; i < LANES; i++) {
        double rad = sqrt(-2.0 * Sleef_cinz_logd1_u35purec(u1[i]));
        Sleef_double_2 sc = Sleef_cinz_sincosd1_u35purec(NF_PI * v[i]);
        out[2 * i] = rad * sc.y;
        out[2 * i + 1] = rad * sc.x;
    }
}

static void unif_scalar(const sl_rng *r, uint64_t block, double *out)
{
    uint64_t w01[LANES], w23[LANES];

    philox_lanes(r, block, w01, w23);
    open_uniforms(w01, out);
}

#if NF_HAVE_VECTOR
/* The vector rounds keep one block per 64-bit lane, each word in the low
 * half of its lane: _mm*_mul_epu32 is then exactly Philox's 32x32->64
 * product.  The high halves of x1, x3 (and so of the next x0, x2) carry
 * leftover bits that the product ignores and the final join masks off. */

/* Philox for LANES blocks, 4 per AVX2 register, in two halves of
 * LANES / 2 (16 registers of state: what AVX2 has). */
TARGET_AVX2 static void philox_avx2(const sl_rng *r, uint64_t block,
                                    uint64_t *w01, uint64_t *w23)
{
    enum { G = LANES / 8 };
    const __m256i lo32 = _mm256_set1_epi64x(0xFFFFFFFF);
    const __m256i m0 = _mm256_set1_epi64x(PHILOX_M0);
    const __m256i m1 = _mm256_set1_epi64x(PHILOX_M1);
    const __m256i step = _mm256_set_epi64x(3, 2, 1, 0);

    for (int half = 0; half < 2; half++) {
        __m256i x0[G], x1[G], x2[G], x3[G];
        uint32_t k0 = (uint32_t)r->seed, k1 = (uint32_t)(r->seed >> 32);
        uint64_t b0 = block + (uint64_t)(half * 4 * G);

        for (int g = 0; g < G; g++) {
            __m256i c = _mm256_add_epi64(
                _mm256_set1_epi64x((long long)(b0 + 4 * (uint64_t)g)), step);
            x0[g] = c;
            x1[g] = _mm256_srli_epi64(c, 32);
            x2[g] = _mm256_set1_epi64x((uint32_t)r->stream);
            x3[g] = _mm256_set1_epi64x((uint32_t)(r->stream >> 32));
        }
        for (int k = 0; k < PHILOX_ROUNDS; k++) {
            __m256i key0 = _mm256_set1_epi64x(k0);
            __m256i key1 = _mm256_set1_epi64x(k1);
            for (int g = 0; g < G; g++) {
                __m256i p0 = _mm256_mul_epu32(x0[g], m0);
                __m256i p1 = _mm256_mul_epu32(x2[g], m1);
                x0[g] = _mm256_xor_si256(
                    _mm256_xor_si256(_mm256_srli_epi64(p1, 32), x1[g]), key0);
                x2[g] = _mm256_xor_si256(
                    _mm256_xor_si256(_mm256_srli_epi64(p0, 32), x3[g]), key1);
                x1[g] = p1;
                x3[g] = p0;
            }
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        for (int g = 0; g < G; g++) {
            size_t at = (size_t)(half * 4 * G + 4 * g);
            __m256i a = _mm256_or_si256(_mm256_and_si256(x0[g], lo32),
                                        _mm256_slli_epi64(x1[g], 32));
            __m256i b = _mm256_or_si256(_mm256_and_si256(x2[g], lo32),
                                        _mm256_slli_epi64(x3[g], 32));
            _mm256_storeu_si256((__m256i *)(w01 + at), a);
            _mm256_storeu_si256((__m256i *)(w23 + at), b);
        }
    }
}

/* Philox for LANES blocks, 8 per AVX-512 register. */
TARGET_AVX512 static void philox_avx512(const sl_rng *r, uint64_t block,
                                        uint64_t *w01, uint64_t *w23)
{
    enum { G = LANES / 8 };
    const __m512i lo32 = _mm512_set1_epi64(0xFFFFFFFF);
    const __m512i m0 = _mm512_set1_epi64(PHILOX_M0);
    const __m512i m1 = _mm512_set1_epi64(PHILOX_M1);
    const __m512i step = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    __m512i x0[G], x1[G], x2[G], x3[G];
    uint32_t k0 = (uint32_t)r->seed, k1 = (uint32_t)(r->seed >> 32);

    for (int g = 0; g < G; g++) {
        __m512i c = _mm512_add_epi64(
            _mm512_set1_epi64((long long)(block + 8 * (uint64_t)g)), step);
        x0[g] = c;
        x1[g] = _mm512_srli_epi64(c, 32);
        x2[g] = _mm512_set1_epi64((uint32_t)r->stream);
        x3[g] = _mm512_set1_epi64((uint32_t)(r->stream >> 32));
    }
    for (int k = 0; k < PHILOX_ROUNDS; k++) {
        __m512i key0 = _mm512_set1_epi64(k0), key1 = _mm512_set1_epi64(k1);
        for (int g = 0; g < G; g++) {
            __m512i p0 = _mm512_mul_epu32(x0[g], m0);
            __m512i p1 = _mm512_mul_epu32(x2[g], m1);
            x0[g] = _mm512_xor_si512(
                _mm512_xor_si512(_mm512_srli_epi64(p1, 32), x1[g]), key0);
            x2[g] = _mm512_xor_si512(
                _mm512_xor_si512(_mm512_srli_epi64(p0, 32), x3[g]), key1);
            x1[g] = p1;
            x3[g] = p0;
        }
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    for (int g = 0; g < G; g++) {
        __m512i a = _mm512_or_si512(_mm512_and_si512(x0[g], lo32),
                                    _mm512_slli_epi64(x1[g], 32));
        __m512i b = _mm512_or_si512(_mm512_and_si512(x2[g], lo32),
                                    _mm512_slli_epi64(x3[g], 32));
        _mm512_storeu_si512(w01 + 8 * g, a);
        _mm512_storeu_si512(w23 + 8 * g, b);
    }
}

/* Scalar SLEEF with FMA (finz): the reference for bit-identity. */
TARGET_AVX2 static void pairs_scalar_fma(const sl_rng *r, uint64_t block,
                                         double *out)
{
    uint64_t w01[LANES], w23[LANES];
    double u1[LANES], v[LANES];

    philox_lanes(r, block, w01, w23);
    pair_uniforms(w01, w23, u1, v);
    for (int i = 0; i < LANES; i++) {
        double rad = sqrt(-2.0 * Sleef_finz_logd1_u35purecfma(u1[i]));
        Sleef_double_2 sc = Sleef_finz_sincosd1_u35purecfma(NF_PI * v[i]);
        out[2 * i] = rad * sc.y;
        out[2 * i + 1] = rad * sc.x;
    }
}

TARGET_AVX2 static void pairs_avx2(const sl_rng *r, uint64_t block, double *out)
{
    uint64_t w01[LANES], w23[LANES];
    double u1[LANES], v[LANES];

    philox_avx2(r, block, w01, w23);
    pair_uniforms(w01, w23, u1, v);
    for (int i = 0; i < LANES; i += 4) {
        __m256d l = Sleef_finz_logd4_u35avx2(_mm256_loadu_pd(u1 + i));
        __m256d rad = _mm256_sqrt_pd(_mm256_mul_pd(_mm256_set1_pd(-2.0), l));
        __m256d ang =
            _mm256_mul_pd(_mm256_set1_pd(NF_PI), _mm256_loadu_pd(v + i));
        Sleef___m256d_2 sc = Sleef_finz_sincosd4_u35avx2(ang);
        __m256d c = _mm256_mul_pd(rad, sc.y), s = _mm256_mul_pd(rad, sc.x);

        /* [c0 s0 c2 s2], [c1 s1 c3 s3] -> [c0 s0 c1 s1], [c2 s2 c3 s3] */
        __m256d lo = _mm256_unpacklo_pd(c, s), hi = _mm256_unpackhi_pd(c, s);
        _mm256_storeu_pd(out + 2 * i, _mm256_permute2f128_pd(lo, hi, 0x20));
        _mm256_storeu_pd(out + 2 * i + 4, _mm256_permute2f128_pd(lo, hi, 0x31));
    }
}

TARGET_AVX2 static void unif_avx2(const sl_rng *r, uint64_t block, double *out)
{
    uint64_t w01[LANES], w23[LANES];

    philox_avx2(r, block, w01, w23);
    open_uniforms(w01, out);
}

TARGET_AVX512 static void pairs_avx512(const sl_rng *r, uint64_t block,
                                       double *out)
{
    uint64_t w01[LANES], w23[LANES];
    double u1[LANES], v[LANES];
    const __m512i first = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
    const __m512i second = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);

    philox_avx512(r, block, w01, w23);
    pair_uniforms(w01, w23, u1, v);
    for (int i = 0; i < LANES; i += 8) {
        __m512d l = Sleef_finz_logd8_u35avx512f(_mm512_loadu_pd(u1 + i));
        __m512d rad = _mm512_sqrt_pd(_mm512_mul_pd(_mm512_set1_pd(-2.0), l));
        __m512d ang =
            _mm512_mul_pd(_mm512_set1_pd(NF_PI), _mm512_loadu_pd(v + i));
        Sleef___m512d_2 sc = Sleef_finz_sincosd8_u35avx512f(ang);
        __m512d c = _mm512_mul_pd(rad, sc.y), s = _mm512_mul_pd(rad, sc.x);

        /* Interleave: index j < 8 takes c_j, 8 + j takes s_j. */
        _mm512_storeu_pd(out + 2 * i, _mm512_permutex2var_pd(c, first, s));
        _mm512_storeu_pd(out + 2 * i + 8, _mm512_permutex2var_pd(c, second, s));
    }
}

TARGET_AVX512 static void unif_avx512(const sl_rng *r, uint64_t block,
                                      double *out)
{
    uint64_t w01[LANES], w23[LANES];

    philox_avx512(r, block, w01, w23);
    open_uniforms(w01, out);
}
#endif

/* ---- Path selection -------------------------------------------------- */

static _Atomic int forced_path = SL_NORMAL_PATH_AUTO;

int sl_normal_path_supported(sl_normal_path p)
{
    switch (p) {
    case SL_NORMAL_PATH_AUTO:
    case SL_NORMAL_PATH_SCALAR:
        return 1;
#if NF_HAVE_VECTOR
    case SL_NORMAL_PATH_SCALAR_FMA:
    case SL_NORMAL_PATH_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case SL_NORMAL_PATH_AVX512:
        return __builtin_cpu_supports("avx512f");
#endif
    default:
        return 0;
    }
}

sl_normal_path sl_normal_path_active(void)
{
    sl_normal_path p = (sl_normal_path)atomic_load(&forced_path);

    if (p != SL_NORMAL_PATH_AUTO)
        return p;
    if (sl_normal_path_supported(SL_NORMAL_PATH_AVX512))
        return SL_NORMAL_PATH_AVX512;
    if (sl_normal_path_supported(SL_NORMAL_PATH_AVX2))
        return SL_NORMAL_PATH_AVX2;
    return SL_NORMAL_PATH_SCALAR;
}

int sl_normal_path_force(sl_normal_path p)
{
    if (!sl_normal_path_supported(p))
        return -1;
    atomic_store(&forced_path, (int)p);
    return 0;
}

const char *sl_normal_path_name(sl_normal_path p)
{
    static const char *const names[] = {"auto", "scalar", "scalar-fma", "avx2",
                                        "avx512"};
    return (unsigned)p < 5 ? names[p] : "unknown";
}

static pairs_fn pairs_for(sl_normal_path p)
{
#if NF_HAVE_VECTOR
    if (p == SL_NORMAL_PATH_AVX512)
        return pairs_avx512;
    if (p == SL_NORMAL_PATH_AVX2)
        return pairs_avx2;
    if (p == SL_NORMAL_PATH_SCALAR_FMA)
        return pairs_scalar_fma;
#endif
    (void)p;
    return pairs_scalar;
}

static unif_fn unif_for(sl_normal_path p)
{
#if NF_HAVE_VECTOR
    if (p == SL_NORMAL_PATH_AVX512)
        return unif_avx512;
    if (p == SL_NORMAL_PATH_AVX2 || p == SL_NORMAL_PATH_SCALAR_FMA)
        return unif_avx2;
#endif
    (void)p;
    return unif_scalar;
}

/* ---- The generators -------------------------------------------------- */

void sl_rng_normal_fast(sl_rng *r, size_t k, double *out)
{
    pairs_fn pairs = pairs_for(sl_normal_path_active());
    size_t i = 0;

    /* 1. The spare of the last pair goes first. */
    if (k > 0 && r->has_spare) {
        out[i++] = r->spare;
        r->has_spare = 0;
    }

    /* 2. Whole chunks straight into out. */
    while (k - i >= 2 * LANES) {
        pairs(r, r->block, out + i);
        r->block += LANES;
        i += 2 * LANES;
    }

    /* 3. A last, partial chunk: only the blocks whose normals are used
     *    count as drawn; an odd count keeps the pair's second normal. */
    if (i < k) {
        double tmp[2 * LANES];
        size_t need = k - i;

        pairs(r, r->block, tmp);
        r->block += (need + 1) / 2;
        memcpy(out + i, tmp, need * sizeof(double));
        if (need % 2 == 1) {
            r->spare = tmp[need];
            r->has_spare = 1;
        }
    }
}

void sl_rng_uniform_fast(sl_rng *r, size_t k, double *out)
{
    unif_fn unif = unif_for(sl_normal_path_active());
    size_t i = 0;

    while (k - i >= LANES) {
        unif(r, r->block, out + i);
        r->block += LANES;
        i += LANES;
    }
    if (i < k) {
        double tmp[LANES];

        unif(r, r->block, tmp);
        r->block += k - i;
        memcpy(out + i, tmp, (k - i) * sizeof(double));
    }
}
