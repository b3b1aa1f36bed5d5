/* test_arb.c -- suite "arb": the MPFR oracles inside certified Arb balls.
 *
 * For softmax, log-sum-exp, attention (zbar, F, lognorm) and the Gaussian
 * limit (mu, F), on seeded random inputs and on the score corpus of the
 * oracle suite, the 256-bit MPFR value must lie in the Arb enclosure and
 * the enclosure must be narrower than 2^-60 of the value's scale
 * (sl_arb_check_mpfr).  Together: MPFR is right to at least 60 bits at
 * that scale, seven more than any double check needs.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "oracle/oracle_arb.h"
#include "oracle/oracle_mpfr.h"
#include "random/rng.h"
#include "testing.h"

#define ARB_SEED 0xa4b5eedULL

static void normals(uint64_t stream, size_t k, double scale, double *out)
{
    sl_rng r;
    sl_rng_init(&r, ARB_SEED, stream);
    sl_rng_normal(&r, k, out);
    for (size_t i = 0; i < k; i++)
        out[i] *= scale;
}

static double *dalloc(size_t n)
{
    double *p = calloc(n > 0 ? n : 1, sizeof *p);
    if (p == NULL) {
        fprintf(stderr, "test_arb: out of memory\n");
        exit(2);
    }
    return p;
}

/* Largest certified relative error of MPFR seen by this suite. */
static double arb_worst;

/* Print the largest certified MPFR error of the test. */
static void report_worst(void)
{
    if (arb_worst == 0.0)
        printf("\n    MPFR values certified exact by Arb");
    else
        printf("\n    MPFR error certified by Arb: at most 2^%.1f relative",
               log2(arb_worst));
}

/* Check one value; print the ball and the MPFR value on failure. */
static int agree(const char *what, size_t idx, const arb_t ball, mpfr_srcptr x,
                 double scale)
{
    double e = sl_arb_mpfr_err(ball, x, scale);
    arb_worst = e > arb_worst ? e : arb_worst;
    if (sl_arb_check_mpfr(ball, x, scale))
        return 1;
    fprintf(stderr, "\n  %s #%zu: mpfr %a not certified by ball ", what, idx,
            mpfr_get_d(x, MPFR_RNDN));
    arb_fprintd(stderr, ball, 20);
    fprintf(stderr, " (scale %a)", scale);
    return 0;
}

/* Scores: random of several scales, then hard cases. */
static size_t arb_scores(int k, double *s)
{
    size_t n;
    switch (k) {
    case 0:
        normals(1, 200, 1.0, s);
        return 200;
    case 1:
        normals(2, 200, 300.0, s);
        return 200;
    case 2:
        for (n = 0; n < 16; n++)
            s[n] = (n % 3 ? 1e300 : -1e300) * (1.0 + (double)n / 64.0);
        return n;
    case 3:
        s[0] = DBL_MAX;
        s[1] = -DBL_MAX;
        s[2] = 0.0;
        return 3;
    case 4:
        for (n = 0; n < 16; n++)
            s[n] = n % 2 ? 1.0 : nextafter(1.0, 2.0);
        return n;
    default:
        s[0] = 0.0;
        s[1] = -700.0;
        s[2] = -745.0;
        s[3] = -760.0;
        s[4] = -1e5;
        return 5;
    }
}

static void test_softmax_lse(void)
{
    double s[200];
    int bad = 0;
    arb_worst = 0.0;
    for (int k = 0; k < 6; k++) {
        size_t n = arb_scores(k, s);
        arb_ptr w = _arb_vec_init((slong)n);
        arb_t lse;
        arb_init(lse);
        mpfr_t *xw = sl_mpvec_new(n, 0), xl;
        CU_ASSERT_FATAL(xw != NULL);
        mpfr_init2(xl, SL_ORACLE_PREC_BITS);

        sl_arb_softmax(n, s, w, 0);
        sl_arb_logsumexp(n, s, lse, 0);
        sl_oracle_softmax_mpfr(n, s, xw, 0);
        sl_oracle_logsumexp_mpfr(n, s, xl, 0);
        for (size_t i = 0; i < n; i++)
            bad += !agree("softmax w", i, w + i, xw[i], SL_ARB_TINY_SCALE);
        double top = 0.0;
        for (size_t i = 0; i < n; i++)
            top = fabs(s[i]) > top ? fabs(s[i]) : top;
        bad += !agree("logsumexp", 0, lse, xl, top + log((double)n));

        mpfr_clear(xl);
        sl_mpvec_free(n, xw);
        arb_clear(lse);
        _arb_vec_clear(w, (slong)n);
    }
    CU_ASSERT_EQUAL(bad, 0);
    report_worst();
}

/* Scale of entry r of A y: sum_k |A_rk y_k|. */
static double row_scale(size_t cols, const double *A, const double *y)
{
    double acc = 0.0;
    for (size_t k = 0; k < cols; k++)
        acc += fabs(A[k] * y[k]);
    return acc;
}

static void test_attn(void)
{
    int bad = 0;
    arb_worst = 0.0;
    for (int c = 0; c < 4; c++) {
        size_t n = 300, D = 3, Dq = 2, p = 2;
        double *Z = dalloc(n * D), *W = dalloc(D * Dq), *V = dalloc(p * D);
        double x[2], pi[300], zb[3], zabs[3];
        normals(100 + (uint64_t)c, n * D, 1.0, Z);
        normals(200 + (uint64_t)c, D * Dq, c == 1 ? 300.0 : 1.0, W);
        normals(300 + (uint64_t)c, p * D, 1.0, V);
        normals(400 + (uint64_t)c, Dq, 1.0, x);
        for (size_t i = 0; i < n; i++)
            pi[i] = 0.5 + 0.25 * sin((double)i);
        if (c == 2) {
            for (size_t i = 0; i < n * D; i++)
                Z[i] += 1e8;
            for (size_t i = 0; i < D * Dq; i++)
                W[i] *= 1e-8;
        }
        arb_ptr bz = _arb_vec_init((slong)D), bF = _arb_vec_init((slong)p);
        arb_t bl;
        arb_init(bl);
        mpfr_t *xz = sl_mpvec_new(D, 0), *xF = sl_mpvec_new(p, 0), xl;
        CU_ASSERT_FATAL(xz != NULL && xF != NULL);
        mpfr_init2(xl, SL_ORACLE_PREC_BITS);
        const double *pp = c == 3 ? pi : NULL;

        sl_arb_attn_forward(n, D, Dq, p, Z, W, V, x, pp, bz, bF, bl, 0);
        sl_oracle_attn_forward_mpfr(n, D, Dq, p, Z, W, V, x, pp, NULL, NULL, xz,
                                    xF, xl, 0);
        for (size_t k = 0; k < D; k++) {
            zabs[k] = 0.0;
            for (size_t i = 0; i < n; i++)
                zabs[k] = fmax(zabs[k], fabs(Z[i * D + k]));
            zb[k] = mpfr_get_d(xz[k], MPFR_RNDN);
            bad += !agree("attn zbar", k, bz + k, xz[k], zabs[k]);
        }
        for (size_t r = 0; r < p; r++)
            bad +=
                !agree("attn F", r, bF + r, xF[r], row_scale(D, V + r * D, zb));
        bad += !agree("attn lognorm", 0, bl, xl, 1.0);

        mpfr_clear(xl);
        sl_mpvec_free(D, xz);
        sl_mpvec_free(p, xF);
        arb_clear(bl);
        _arb_vec_clear(bz, (slong)D);
        _arb_vec_clear(bF, (slong)p);
        free(Z);
        free(W);
        free(V);
    }
    CU_ASSERT_EQUAL(bad, 0);
    report_worst();
}

static void test_limit(void)
{
    int bad = 0;
    arb_worst = 0.0;
    for (int c = 0; c < 4; c++) {
        size_t D = 2 + (size_t)c, Dq = 3, p = 2;
        double *m = dalloc(D), *S = dalloc(D * D), *W = dalloc(D * Dq);
        double *V = dalloc(p * D), x[3], *mu = dalloc(D);
        normals(500 + (uint64_t)c, D, c % 2 ? 1e6 : 1.0, m);
        normals(600 + (uint64_t)c, D * D, 1.0, S);
        normals(700 + (uint64_t)c, D * Dq, 1.0, W);
        normals(800 + (uint64_t)c, p * D, 1.0, V);
        normals(900 + (uint64_t)c, Dq, 1.0, x);
        arb_ptr bm = _arb_vec_init((slong)D), bF = _arb_vec_init((slong)p);
        mpfr_t *xm = sl_mpvec_new(D, 0), *xF = sl_mpvec_new(p, 0);
        CU_ASSERT_FATAL(xm != NULL && xF != NULL);

        sl_arb_limit_gauss_forward(D, Dq, p, m, S, W, V, x, bm, bF, 0);
        sl_oracle_limit_gauss_forward_mpfr(D, Dq, p, m, S, W, V, x, NULL, xm,
                                           xF, 0);
        for (size_t k = 0; k < D; k++) {
            mu[k] = mpfr_get_d(xm[k], MPFR_RNDN);
            bad += !agree("limit mu", k, bm + k, xm[k], fabs(m[k]) + 1.0);
        }
        for (size_t r = 0; r < p; r++)
            bad += !agree("limit F", r, bF + r, xF[r],
                          row_scale(D, V + r * D, mu));

        sl_mpvec_free(D, xm);
        sl_mpvec_free(p, xF);
        _arb_vec_clear(bm, (slong)D);
        _arb_vec_clear(bF, (slong)p);
        free(m);
        free(S);
        free(W);
        free(V);
        free(mu);
    }
    CU_ASSERT_EQUAL(bad, 0);
    report_worst();
}

/* The check itself can fail: a value moved by 2^-50 relative is rejected,
 * and so is a ball of radius 2^-40 (too wide to certify anything). */
static void test_check_rejects(void)
{
    arb_t b;
    mpfr_t x;
    arb_init(b);
    mpfr_init2(x, SL_ORACLE_PREC_BITS);
    arb_const_pi(b, 300);
    mpfr_const_pi(x, MPFR_RNDN);
    CU_ASSERT(sl_arb_check_mpfr(b, x, 0.0));
    mpfr_mul_d(x, x, 1.0 + 0x1p-50, MPFR_RNDN);
    CU_ASSERT(!sl_arb_check_mpfr(b, x, 0.0));
    mpfr_const_pi(x, MPFR_RNDN);
    arb_add_error_2exp_si(b, -40);
    CU_ASSERT(!sl_arb_check_mpfr(b, x, 0.0));
    mpfr_clear(x);
    arb_clear(b);
}

void register_arb_suite(void)
{
    CU_pSuite s = CU_add_suite("arb", NULL, NULL);
    testing_add(s, "softmax_lse", test_softmax_lse);
    testing_add(s, "attn", test_attn);
    testing_add(s, "limit", test_limit);
    testing_add(s, "check_rejects", test_check_rejects);
}
