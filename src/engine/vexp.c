/* vexp.c -- block exponentials on the path of normal_fast.h.
 *
 * Whole vectors are loaded straight from x; the last, partial vector is
 * copied into a buffer padded with c (exp(0) = 1, discarded), so no path
 * reads or writes past n.  SLEEF's AVX declarations are made visible as in
 * random/normal_fast.c and called only from functions built for them,
 * after the CPU check that sl_normal_path_active makes.
 */
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define VX_HAVE_VECTOR 1
#include <immintrin.h>
#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f")
#include <sleef.h>
#pragma GCC pop_options
#else
#define VX_HAVE_VECTOR 0
#include <sleef.h>
#endif

#include "engine/vexp.h"
#include "random/normal_fast.h"

static void vexp_scalar(size_t n, const double *x, double c, double *out)
{
    for (size_t j = 0; j < n; j++)
        out[j] = Sleef_cinz_expd1_u10purec(x[j] - c);
}

#if VX_HAVE_VECTOR
__attribute__((target("avx2,fma"))) static void
vexp_scalar_fma(size_t n, const double *x, double c, double *out)
{
    for (size_t j = 0; j < n; j++)
        out[j] = Sleef_finz_expd1_u10purecfma(x[j] - c);
}

__attribute__((target("avx2,fma"))) static void
vexp_avx2(size_t n, const double *x, double c, double *out)
{
    const __m256d vc = _mm256_set1_pd(c);
    size_t j = 0;

    for (; j + 4 <= n; j += 4) {
        __m256d d = _mm256_sub_pd(_mm256_loadu_pd(x + j), vc);
        _mm256_storeu_pd(out + j, Sleef_finz_expd4_u10avx2(d));
    }
    if (j < n) {
        double buf[4] = {c, c, c, c};
        memcpy(buf, x + j, (n - j) * sizeof(double));
        __m256d d = _mm256_sub_pd(_mm256_loadu_pd(buf), vc);
        _mm256_storeu_pd(buf, Sleef_finz_expd4_u10avx2(d));
        memcpy(out + j, buf, (n - j) * sizeof(double));
    }
}

__attribute__((target("avx512f"))) static void
vexp_avx512(size_t n, const double *x, double c, double *out)
{
    const __m512d vc = _mm512_set1_pd(c);
    size_t j = 0;

    for (; j + 8 <= n; j += 8) {
        __m512d d = _mm512_sub_pd(_mm512_loadu_pd(x + j), vc);
        _mm512_storeu_pd(out + j, Sleef_finz_expd8_u10avx512f(d));
    }
    if (j < n) {
        double buf[8] = {c, c, c, c, c, c, c, c};
        memcpy(buf, x + j, (n - j) * sizeof(double));
        __m512d d = _mm512_sub_pd(_mm512_loadu_pd(buf), vc);
        _mm512_storeu_pd(buf, Sleef_finz_expd8_u10avx512f(d));
        memcpy(out + j, buf, (n - j) * sizeof(double));
    }
}
#endif

void sl_vexp_shift(size_t n, const double *x, double c, double *out)
{
    switch (sl_normal_path_active()) {
#if VX_HAVE_VECTOR
    case SL_NORMAL_PATH_AVX512:
        vexp_avx512(n, x, c, out);
        return;
    case SL_NORMAL_PATH_AVX2:
        vexp_avx2(n, x, c, out);
        return;
    case SL_NORMAL_PATH_SCALAR_FMA:
        vexp_scalar_fma(n, x, c, out);
        return;
#endif
    default:
        vexp_scalar(n, x, c, out);
        return;
    }
}
