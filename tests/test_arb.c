/* test_arb.c -- suite "arb": the MPFR oracles inside certified Arb balls.
 *
 * For every kernel and every output of its MPFR oracle (softmax,
 * log-sum-exp, attention, the stream's two-pass values, linear attention
 * and its limit, the Gaussian limit forward, quad and backward, the
 * attention backward pass), on seeded random inputs and hard cases (the
 * score corpus of the oracle suite, tokens near 1e8, scores rising at
 * every push, underflowing weights), the 256-bit MPFR value must lie in
 * the Arb enclosure and the enclosure must be narrower than 2^-60 of the
 * value's scale (sl_arb_check_mpfr).  Together: MPFR is right to at
 * least 60 bits at that scale, seven more than any double check needs.
 * Scales are the sums of the absolute values of each output's terms,
 * centred where the kernel centres (C_w h), plus u times the uncentred
 * sum there, so that a cancelling co-moment is still judged at the size
 * its double budget works at.
 *
 * Negative control, for every value checked: the MPFR value moved by
 * 2^-50 of its scale must be rejected by the same ball.  The end-to-end
 * gradient enclosure, which has no MPFR twin, is checked on inputs where
 * its forward pass is exact in double (uniform weights, a dyadic mean),
 * against the MPFR backward oracle on those doubles.
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

/* Largest certified relative error of MPFR seen by this suite, and the
 * number of perturbed values the check failed to reject. */
static double arb_worst;
static int arb_missed;

/* A perturbation the check must reject: 2^-50 of the scale, far above
 * its 2^SL_ARB_REL_RAD_EXP = 2^-60. */
#define ARB_PERTURB_EXP (-50)

/* Print the largest certified MPFR error of the test. */
static void report_worst(void)
{
    if (arb_worst == 0.0)
        printf("\n    MPFR values certified exact by Arb");
    else
        printf("\n    MPFR error certified by Arb: at most 2^%.1f relative",
               log2(arb_worst));
}

/* The negative control: x moved by 2^ARB_PERTURB_EXP max(|x|, scale)
 * must fail the check; counts a miss in arb_missed. */
static void must_reject(const char *what, size_t idx, const arb_t ball,
                        mpfr_srcptr x, double scale)
{
    mpfr_t y;
    mpfr_init2(y, mpfr_get_prec(x));
    mpfr_abs(y, x, MPFR_RNDN);
    if (mpfr_cmp_d(y, scale) < 0)
        mpfr_set_d(y, scale, MPFR_RNDN);
    mpfr_mul_2si(y, y, ARB_PERTURB_EXP, MPFR_RNDN);
    mpfr_add(y, y, x, MPFR_RNDN);
    if (!mpfr_equal_p(y, x) && sl_arb_check_mpfr(ball, y, scale)) {
        fprintf(stderr, "\n  %s #%zu: perturbed value %a accepted", what, idx,
                mpfr_get_d(y, MPFR_RNDN));
        arb_missed++;
    }
    mpfr_clear(y);
}

/* Check one value and its negative control; print the ball and the MPFR
 * value on failure. */
static int agree(const char *what, size_t idx, const arb_t ball, mpfr_srcptr x,
                 double scale)
{
    double e = sl_arb_mpfr_err(ball, x, scale);
    arb_worst = e > arb_worst ? e : arb_worst;
    must_reject(what, idx, ball, x, scale);
    if (sl_arb_check_mpfr(ball, x, scale))
        return 1;
    fprintf(stderr, "\n  %s #%zu: mpfr %a not certified by ball ", what, idx,
            mpfr_get_d(x, MPFR_RNDN));
    arb_fprintd(stderr, ball, 20);
    fprintf(stderr, " (scale %a)", scale);
    return 0;
}

/* agree() over k values with scales scale[i]. */
static int agree_vec(const char *what, size_t k, arb_srcptr balls, mpfr_t *x,
                     const double *scale)
{
    int bad = 0;
    for (size_t i = 0; i < k; i++)
        bad += !agree(what, i, balls + i, x[i], scale[i]);
    return bad;
}

/* The end of a test: no disagreement, no perturbation accepted. */
static void arb_done(int bad)
{
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(arb_missed, 0);
    report_worst();
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
    arb_missed = 0;
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
    arb_done(bad);
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
    arb_missed = 0;
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
        arb_ptr bw = _arb_vec_init((slong)n);
        arb_t bl;
        arb_init(bl);
        mpfr_t *xz = sl_mpvec_new(D, 0), *xF = sl_mpvec_new(p, 0), xl;
        mpfr_t *xw = sl_mpvec_new(n, 0);
        CU_ASSERT_FATAL(xz != NULL && xF != NULL && xw != NULL);
        mpfr_init2(xl, SL_ORACLE_PREC_BITS);
        const double *pp = c == 3 ? pi : NULL;

        sl_arb_attn_forward(n, D, Dq, p, Z, W, V, x, pp, bw, bz, bF, bl, 0);
        sl_oracle_attn_forward_mpfr(n, D, Dq, p, Z, W, V, x, pp, NULL, xw, xz,
                                    xF, xl, 0);
        for (size_t i = 0; i < n; i++)
            bad += !agree("attn w", i, bw + i, xw[i], SL_ARB_TINY_SCALE);
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
        sl_mpvec_free(n, xw);
        arb_clear(bl);
        _arb_vec_clear(bw, (slong)n);
        _arb_vec_clear(bz, (slong)D);
        _arb_vec_clear(bF, (slong)p);
        free(Z);
        free(W);
        free(V);
    }
    arb_done(bad);
}

/* The quad q = a^T S a at a = mu (any vector will do) and the limit's
 * backward pass from mu, for test_limit's case c; returns the number of
 * values not certified.  Scales: sum |a_k S_kj a_j| (quad), sum_r
 * |V_rk g_r| (h), sum_j |S_kj h_j| (c), |g_r mu_k| (dV), c's times |x_j|
 * (dW). */
static int limit_quad_backward(int c, size_t D, size_t Dq, size_t p,
                               const double *S, const double *V,
                               const double *x, const double *mu)
{
    int bad = 0;
    double g[2], *sh = dalloc(D), *sc = dalloc(D), *sv = dalloc(p * D);
    double *sw = dalloc(D * Dq), sq = 0.0;
    normals(1000 + (uint64_t)c, p, 1.0, g);
    arb_ptr bh = _arb_vec_init((slong)D), bc = _arb_vec_init((slong)D);
    arb_ptr bV = _arb_vec_init((slong)(p * D));
    arb_ptr bW = _arb_vec_init((slong)(D * Dq));
    arb_t bq;
    arb_init(bq);
    mpfr_t *xh = sl_mpvec_new(D, 0), *xc = sl_mpvec_new(D, 0);
    mpfr_t *xV = sl_mpvec_new(p * D, 0), *xW = sl_mpvec_new(D * Dq, 0), xq;
    CU_ASSERT_FATAL(xh && xc && xV && xW);
    mpfr_init2(xq, SL_ORACLE_PREC_BITS);

    sl_arb_limit_gauss_quad(D, S, mu, bq, 0);
    sl_oracle_limit_gauss_quad_mpfr(D, S, mu, xq, 0);
    sl_arb_limit_gauss_backward(D, Dq, p, S, V, x, mu, g, bh, bc, bV, bW, 0);
    sl_oracle_limit_gauss_backward_mpfr(D, Dq, p, S, V, x, mu, g, xh, xc, xV,
                                        xW, 0);
    for (size_t k = 0; k < D; k++) {
        sh[k] = 0.0;
        for (size_t r = 0; r < p; r++)
            sh[k] += fabs(V[r * D + k] * g[r]);
        sq += fabs(mu[k]) * row_scale(D, S + k * D, mu);
    }
    for (size_t k = 0; k < D; k++) {
        sc[k] = 0.0;
        for (size_t j = 0; j < D; j++)
            sc[k] += fabs(S[k * D + j]) * sh[j];
        for (size_t j = 0; j < Dq; j++)
            sw[k * Dq + j] = sc[k] * fabs(x[j]);
        for (size_t r = 0; r < p; r++)
            sv[r * D + k] = fabs(g[r] * mu[k]);
    }
    bad += !agree("limit quad", 0, bq, xq, sq);
    bad += agree_vec("limit h", D, bh, xh, sh);
    bad += agree_vec("limit c", D, bc, xc, sc);
    bad += agree_vec("limit dV", p * D, bV, xV, sv);
    bad += agree_vec("limit dW", D * Dq, bW, xW, sw);

    mpfr_clear(xq);
    sl_mpvec_free(D, xh);
    sl_mpvec_free(D, xc);
    sl_mpvec_free(p * D, xV);
    sl_mpvec_free(D * Dq, xW);
    arb_clear(bq);
    _arb_vec_clear(bh, (slong)D);
    _arb_vec_clear(bc, (slong)D);
    _arb_vec_clear(bV, (slong)(p * D));
    _arb_vec_clear(bW, (slong)(D * Dq));
    free(sh);
    free(sc);
    free(sv);
    free(sw);
    return bad;
}

static void test_limit(void)
{
    int bad = 0;
    arb_worst = 0.0;
    arb_missed = 0;
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
        bad += limit_quad_backward(c, D, Dq, p, S, V, x, mu);

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
    arb_done(bad);
}

/* Scale of C_w h about zbar: sum_i w_i |z_ik - zbar_k| sum_l |h_l (z_il -
 * zbar_l)|, plus u times the uncentred 4 max_i |z_ik| sum_l |h_l| max_i
 * |z_il| (the floor the accuracy sweep uses). */
static void comoment_scale(size_t n, size_t D, const double *Z, const double *w,
                           const double *zbar, const double *h, double *scale)
{
    double hz = 0.0;
    for (size_t k = 0; k < D; k++) {
        double zmax = 0.0;
        for (size_t i = 0; i < n; i++)
            zmax = fmax(zmax, fabs(Z[i * D + k]));
        scale[k] = zmax;
        hz += fabs(h[k]) * zmax;
    }
    for (size_t k = 0; k < D; k++)
        scale[k] *= 4.0 * hz * 0x1p-53;
    for (size_t i = 0; i < n; i++) {
        double t = 0.0;
        for (size_t l = 0; l < D; l++)
            t += fabs(h[l] * (Z[i * D + l] - zbar[l]));
        for (size_t k = 0; k < D; k++)
            scale[k] += fabs(w[i]) * fabs(Z[i * D + k] - zbar[k]) * t;
    }
}

/* Stream case c: random scores; far tokens with scores rising at every
 * push; huge logits; underflowing weights.  Writes s (n) and Z (n x D). */
static void stream_case(int c, size_t n, size_t D, double *s, double *Z)
{
    normals(1100 + (uint64_t)c, n, 3.0, s);
    normals(1200 + (uint64_t)c, n * D, 1.0, Z);
    for (size_t i = 0; i < n; i++) {
        switch (c) {
        case 1:
            s[i] = 0.01 * (double)i;
            for (size_t k = 0; k < D; k++)
                Z[i * D + k] += 1e8;
            break;
        case 2:
            s[i] = (i % 2 ? 1.0 : -1.0) * (700.0 + 10.0 * fabs(s[i]));
            break;
        case 3:
            s[i] = -exp(fabs(s[i]) * 3.0);
            break;
        default:
            break;
        }
    }
}

static void test_stream(void)
{
    int bad = 0;
    arb_worst = 0.0;
    arb_missed = 0;
    for (int c = 0; c < 4; c++) {
        size_t n = 300, D = 3, p = 2;
        double *s = dalloc(n), *Z = dalloc(n * D), *V = dalloc(p * D);
        double *w = dalloc(n), h[3], mean[3], zabs[3], sF[2], sc[3];
        stream_case(c, n, D, s, Z);
        normals(1300 + (uint64_t)c, p * D, 1.0, V);
        normals(1400 + (uint64_t)c, D, 1.0, h);
        arb_ptr bm = _arb_vec_init((slong)D), bF = _arb_vec_init((slong)p);
        arb_ptr bc = _arb_vec_init((slong)D);
        arb_t bl, be;
        arb_init(bl);
        arb_init(be);
        mpfr_t *xm = sl_mpvec_new(D, 0), *xF = sl_mpvec_new(p, 0);
        mpfr_t *xc = sl_mpvec_new(D, 0), xl, xe;
        CU_ASSERT_FATAL(xm != NULL && xF != NULL && xc != NULL);
        mpfr_inits2(SL_ORACLE_PREC_BITS, xl, xe, (mpfr_ptr)0);

        sl_arb_stream(n, D, p, s, Z, V, h, bm, bF, bl, be, bc, 0);
        CU_ASSERT_EQUAL(
            sl_oracle_stream_mpfr(n, D, p, s, Z, V, h, xm, xF, xl, xe, xc, 0),
            SL_OK);
        CU_ASSERT_EQUAL(sl_oracle_softmax(n, s, w), SL_OK);
        double top = 0.0;
        for (size_t i = 0; i < n; i++)
            top = fmax(top, fabs(s[i]));
        for (size_t k = 0; k < D; k++) {
            zabs[k] = 0.0;
            for (size_t i = 0; i < n; i++)
                zabs[k] = fmax(zabs[k], fabs(Z[i * D + k]));
            mean[k] = mpfr_get_d(xm[k], MPFR_RNDN);
        }
        for (size_t r = 0; r < p; r++)
            sF[r] = row_scale(D, V + r * D, mean);
        comoment_scale(n, D, Z, w, mean, h, sc);
        bad += agree_vec("stream mean", D, bm, xm, zabs);
        bad += agree_vec("stream F", p, bF, xF, sF);
        bad += !agree("stream lognorm", 0, bl, xl, top + log((double)n) + 1.0);
        bad += !agree("stream ess", 0, be, xe, 1.0);
        bad += agree_vec("stream C_w h", D, bc, xc, sc);

        mpfr_clears(xl, xe, (mpfr_ptr)0);
        sl_mpvec_free(D, xm);
        sl_mpvec_free(p, xF);
        sl_mpvec_free(D, xc);
        arb_clear(bl);
        arb_clear(be);
        _arb_vec_clear(bm, (slong)D);
        _arb_vec_clear(bF, (slong)p);
        _arb_vec_clear(bc, (slong)D);
        free(s);
        free(Z);
        free(V);
        free(w);
    }
    arb_done(bad);
}

/* Linear attention, finite prompt (tokens near 0, then near 1e6) and
 * limit (means near 0, then near 1e3).  Scales: (1/n) sum_i |s_i z_ik| or
 * sum_j |S_kj a_j| + |m_k| sum_j |m_j a_j| for u, and |V| of that for
 * L. */
static void test_linear(void)
{
    int bad = 0;
    arb_worst = 0.0;
    arb_missed = 0;
    for (int c = 0; c < 2; c++) {
        size_t n = 200, D = 4, Dq = 3, p = 2;
        double *Z = dalloc(n * D), *W = dalloc(D * Dq), *V = dalloc(p * D);
        double x[3], a[4], m[4], S[16], su[4], sL[2], ma = 0.0;
        normals(1500 + (uint64_t)c, n * D, 1.0, Z);
        normals(1600 + (uint64_t)c, D * Dq, 0.5, W);
        normals(1700 + (uint64_t)c, p * D, 1.0, V);
        normals(1800 + (uint64_t)c, Dq, 1.0, x);
        normals(1900 + (uint64_t)c, D, c ? 1e3 : 1.0, m);
        normals(2000 + (uint64_t)c, D * D, 1.0, S);
        for (size_t i = 0; c == 1 && i < n * D; i++)
            Z[i] += 1e6;
        for (size_t k = 0; k < D; k++) {
            a[k] = 0.0;
            for (size_t j = 0; j < Dq; j++)
                a[k] += W[k * Dq + j] * x[j];
            ma += fabs(m[k] * a[k]);
        }
        arb_ptr bu = _arb_vec_init((slong)D), bL = _arb_vec_init((slong)p);
        mpfr_t *xu = sl_mpvec_new(D, 0), *xL = sl_mpvec_new(p, 0);
        CU_ASSERT_FATAL(xu != NULL && xL != NULL);

        /* 1. Finite prompt. */
        sl_arb_linear_forward(n, D, Dq, p, Z, W, V, x, bu, bL, 0);
        sl_oracle_linear_forward_mpfr(n, D, Dq, p, Z, W, V, x, NULL, xu, xL, 0);
        for (size_t k = 0; k < D; k++)
            su[k] = 0.0;
        for (size_t i = 0; i < n; i++) {
            double si = row_scale(D, a, Z + i * D);
            for (size_t k = 0; k < D; k++)
                su[k] += si * fabs(Z[i * D + k]) / (double)n;
        }
        for (size_t r = 0; r < p; r++)
            sL[r] = row_scale(D, V + r * D, su);
        bad += agree_vec("linear u", D, bu, xu, su);
        bad += agree_vec("linear L", p, bL, xL, sL);

        /* 2. Limit. */
        sl_arb_linear_limit_gauss(D, Dq, p, m, S, W, V, x, bu, bL, 0);
        sl_oracle_linear_limit_gauss_mpfr(D, Dq, p, m, S, W, V, x, NULL, xu, xL,
                                          0);
        for (size_t k = 0; k < D; k++)
            su[k] = row_scale(D, S + k * D, a) + fabs(m[k]) * ma;
        for (size_t r = 0; r < p; r++)
            sL[r] = row_scale(D, V + r * D, su);
        bad += agree_vec("linear limit u", D, bu, xu, su);
        bad += agree_vec("linear limit L", p, bL, xL, sL);

        sl_mpvec_free(D, xu);
        sl_mpvec_free(p, xL);
        _arb_vec_clear(bu, (slong)D);
        _arb_vec_clear(bL, (slong)p);
        free(Z);
        free(W);
        free(V);
    }
    arb_done(bad);
}

/* Scales of the backward outputs: sum_r |V_rk g_r| (h), comoment_scale
 * (c), |g_r zbar_k| (dV), c's times |x_j| (dW). */
static void backward_scales(size_t n, size_t D, size_t Dq, size_t p,
                            const double *Z, const double *V, const double *x,
                            const double *w, const double *zbar,
                            const double *g, double *sh, double *sc, double *sv,
                            double *sw)
{
    double *h = dalloc(D);
    for (size_t k = 0; k < D; k++) {
        sh[k] = 0.0;
        h[k] = 0.0;
        for (size_t r = 0; r < p; r++) {
            sh[k] += fabs(V[r * D + k] * g[r]);
            h[k] += V[r * D + k] * g[r];
        }
    }
    comoment_scale(n, D, Z, w, zbar, h, sc);
    for (size_t k = 0; k < D; k++) {
        for (size_t r = 0; r < p; r++)
            sv[r * D + k] = fabs(g[r] * zbar[k]);
        for (size_t j = 0; j < Dq; j++)
            sw[k * Dq + j] = sc[k] * fabs(x[j]);
    }
    free(h);
}

/* Balls and MPFR values of h, c, dV, dW, and their scales. */
typedef struct grad_pair {
    arb_ptr b[4];
    mpfr_t *x[4];
    double *scale[4];
    size_t size[4];
} grad_pair;

static void grad_pair_init(grad_pair *g, size_t D, size_t Dq, size_t p)
{
    size_t sizes[4] = {D, D, p * D, D * Dq};
    for (int j = 0; j < 4; j++) {
        g->size[j] = sizes[j];
        g->b[j] = _arb_vec_init((slong)sizes[j]);
        g->x[j] = sl_mpvec_new(sizes[j], 0);
        g->scale[j] = dalloc(sizes[j]);
        CU_ASSERT_FATAL(g->x[j] != NULL);
    }
}

/* agree() over the outputs first .. 3. */
static int grad_pair_agree(const grad_pair *g, int first, const char *what)
{
    static const char *const names[4] = {"h", "C_w h", "dV", "dW"};
    char label[64];
    int bad = 0;
    for (int j = first; j < 4; j++) {
        snprintf(label, sizeof label, "%s %s", what, names[j]);
        bad += agree_vec(label, g->size[j], g->b[j], g->x[j], g->scale[j]);
    }
    return bad;
}

static void grad_pair_free(grad_pair *g)
{
    for (int j = 0; j < 4; j++) {
        _arb_vec_clear(g->b[j], (slong)g->size[j]);
        sl_mpvec_free(g->size[j], g->x[j]);
        free(g->scale[j]);
    }
}

/* The attention backward pass for given w and zbar (those of the MPFR
 * forward oracle, rounded): tokens near 0, then near 1e8. */
static void test_backward(void)
{
    int bad = 0;
    arb_worst = 0.0;
    arb_missed = 0;
    for (int c = 0; c < 2; c++) {
        size_t n = 300, D = 3, Dq = 2, p = 2;
        double *Z = dalloc(n * D), *W = dalloc(D * Dq), *V = dalloc(p * D);
        double *w = dalloc(n), x[2], g[2], zb[3];
        normals(2100 + (uint64_t)c, n * D, 1.0, Z);
        normals(2200 + (uint64_t)c, D * Dq, c ? 1e-8 : 1.0, W);
        normals(2300 + (uint64_t)c, p * D, 1.0, V);
        normals(2400 + (uint64_t)c, Dq, 1.0, x);
        normals(2500 + (uint64_t)c, p, 1.0, g);
        for (size_t i = 0; c == 1 && i < n * D; i++)
            Z[i] += 1e8;
        CU_ASSERT_EQUAL(sl_oracle_attn_forward(n, D, Dq, p, Z, W, V, x, NULL,
                                               NULL, w, zb, NULL, NULL),
                        SL_OK);
        grad_pair gp;
        grad_pair_init(&gp, D, Dq, p);

        sl_arb_attn_backward(n, D, Dq, p, Z, V, x, w, zb, g, gp.b[0], gp.b[1],
                             gp.b[2], gp.b[3], 0);
        sl_oracle_attn_backward_mpfr(n, D, Dq, p, Z, V, x, w, zb, g, gp.x[0],
                                     gp.x[1], gp.x[2], gp.x[3], 0);
        backward_scales(n, D, Dq, p, Z, V, x, w, zb, g, gp.scale[0],
                        gp.scale[1], gp.scale[2], gp.scale[3]);
        bad += grad_pair_agree(&gp, 0, "backward");

        grad_pair_free(&gp);
        free(Z);
        free(W);
        free(V);
        free(w);
    }
    arb_done(bad);
}

/* The end-to-end gradient where the forward pass is exact in double:
 * W = 0, so every weight is 1/64 exactly, and integer tokens (near 0,
 * then near 1e8), so their mean is a dyadic rational, exact in double.
 * The enclosure must then certify the MPFR backward oracle run on those
 * exact w and zbar. */
static void test_grad_e2e(void)
{
    int bad = 0;
    arb_worst = 0.0;
    arb_missed = 0;
    for (int c = 0; c < 2; c++) {
        size_t n = 64, D = 3, Dq = 2, p = 2;
        double *Z = dalloc(n * D), *W = dalloc(D * Dq), *V = dalloc(p * D);
        double *w = dalloc(n), x[2], g[2], zb[3] = {0.0, 0.0, 0.0};
        normals(2600 + (uint64_t)c, n * D, 1000.0, Z);
        normals(2700 + (uint64_t)c, p * D, 1.0, V);
        normals(2800 + (uint64_t)c, Dq, 1.0, x);
        normals(2900 + (uint64_t)c, p, 1.0, g);
        for (size_t i = 0; i < n * D; i++)
            Z[i] = round(Z[i]) + (c ? 1e8 : 0.0);
        for (size_t i = 0; i < n; i++) {
            w[i] = 1.0 / (double)n;
            for (size_t k = 0; k < D; k++)
                zb[k] += Z[i * D + k];
        }
        for (size_t k = 0; k < D; k++)
            zb[k] /= (double)n;
        grad_pair gp;
        grad_pair_init(&gp, D, Dq, p);

        sl_arb_attn_grad(n, D, Dq, p, Z, W, V, x, NULL, g, gp.b[1], gp.b[2],
                         gp.b[3], 0);
        sl_oracle_attn_backward_mpfr(n, D, Dq, p, Z, V, x, w, zb, g, gp.x[0],
                                     gp.x[1], gp.x[2], gp.x[3], 0);
        backward_scales(n, D, Dq, p, Z, V, x, w, zb, g, gp.scale[0],
                        gp.scale[1], gp.scale[2], gp.scale[3]);
        bad += grad_pair_agree(&gp, 1, "e2e");

        grad_pair_free(&gp);
        free(Z);
        free(W);
        free(V);
        free(w);
    }
    arb_done(bad);
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
    testing_add(s, "stream", test_stream);
    testing_add(s, "linear", test_linear);
    testing_add(s, "backward", test_backward);
    testing_add(s, "grad_e2e", test_grad_e2e);
    testing_add(s, "check_rejects", test_check_rejects);
}
