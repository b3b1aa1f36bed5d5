/* test_oracle.c -- suite "oracle": every double kernel against its MPFR
 * oracle and its proven error budget (spec/ACCURACY.md).
 *
 * "oracle": for each kernel, seeded random inputs and an adversarial
 * corpus (scores of +-700, +-1e300 and +-DBL_MAX, ties one ulp apart,
 * tokens near 1e8 with unit spread, scores rising at every push, weights
 * that underflow, n up to 1e6); every output must lie within its budget
 * (src/oracle/budget.h) of the MPFR value, and each test prints its
 * tightness, the largest observed error over budget.  The stream is
 * checked with its co-moment C_w h and effective size, the gradient also
 * end to end (forward errors carried), against the Arb enclosure of the
 * exact gradient, for which no MPFR oracle exists.  Negative controls (a
 * softmax without the maximum subtracted, sums in float, sums nudged by
 * 2^-40 per step, an uncentred co-moment, a float sum of squares, the
 * end-to-end error against the backward-only budget) must exceed the
 * budget, which shows that each budget can fail.
 * The oracles themselves are certified by Arb in tests/test_arb.c, and
 * the exact non-Gaussian limits are checked in tests/test_exact.c.
 *
 * Every case is seeded (ORACLE_SEED, stream = case number), so a failure
 * printed with %a replays with: run_tests oracle TEST.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/attention.h"
#include "kernels/gradient.h"
#include "kernels/limit.h"
#include "kernels/linalg.h"
#include "kernels/linear.h"
#include "kernels/softmax.h"
#include "kernels/stream.h"
#include "oracle/accuracy.h"
#include "oracle/budget.h"
#include "oracle/oracle_arb.h"
#include "oracle/oracle_mpfr.h"
#include "random/rng.h"
#include "testing.h"

/* Seed of every random case of this file. */
#define ORACLE_SEED 0x50f7112e5eedULL

/* Precision for the n = 10^6 cases: 128 bits keep the oracle within
 * 2^-90 of the exact value (oracle_mpfr.h) at half the cost of 256. */
#define ORACLE_BIG_PREC_BITS 128

/* ---- tightness bookkeeping -------------------------------------------- */

typedef struct tight {
    const char *name; /* kernel output, e.g. "softmax w" */
    double max;       /* largest error / budget seen */
    size_t checks;    /* comparisons made */
    size_t fails;     /* comparisons over budget */
} tight;

static tight tight_make(const char *name)
{
    tight t = {name, 0.0, 0, 0};
    return t;
}

/* Record one comparison of got against the exact value (the accuracy
 * sweep's sl_acc_compare); print the first few failures with the case
 * tag. */
static void tight_check(tight *t, const char *tag, size_t idx, double got,
                        mpfr_srcptr exact, double budget)
{
    sl_acc_entry e;
    int ok = sl_acc_compare(got, exact, budget, &e);
    t->checks++;
    if (e.ratio > t->max)
        t->max = e.ratio;
    if (!ok) {
        if (t->fails < 4)
            fprintf(stderr,
                    "\n  %s [%s #%zu]: got %a want %a err %a > budget %a",
                    t->name, tag, idx, got, e.exact, e.error, budget);
        t->fails++;
    }
}

/* Print the tightness and assert that nothing went over budget. */
static void tight_done(tight *t)
{
    printf("\n    %-22s %6zu checks, max err/budget %.3g", t->name, t->checks,
           t->max);
    CU_ASSERT_EQUAL(t->fails, 0);
}

/* ---- inputs ------------------------------------------------------------ */

static double *dalloc(size_t n)
{
    double *p = calloc(n > 0 ? n : 1, sizeof *p);
    if (p == NULL) {
        fprintf(stderr, "test_oracle: out of memory\n");
        exit(2);
    }
    return p;
}

/* k normals times scale, from stream `stream` of ORACLE_SEED. */
static void normals(uint64_t stream, size_t k, double scale, double *out)
{
    sl_rng r;
    sl_rng_init(&r, ORACLE_SEED, stream);
    sl_rng_normal(&r, k, out);
    for (size_t i = 0; i < k; i++)
        out[i] *= scale;
}

/* k uniforms in (lo, hi). */
static void uniforms(uint64_t stream, size_t k, double lo, double hi,
                     double *out)
{
    sl_rng r;
    sl_rng_init(&r, ORACLE_SEED, stream);
    for (size_t i = 0; i < k; i++)
        out[i] = lo + (hi - lo) * sl_rng_uniform(&r);
}

/* ---- softmax and log-sum-exp ------------------------------------------ */

static void check_softmax(tight *t, size_t n, const double *s, mpfr_prec_t prec,
                          const char *tag)
{
    double *w = dalloc(n);
    mpfr_t *ex = sl_mpvec_new(n, prec);
    CU_ASSERT_FATAL(ex != NULL);
    sl_softmax(n, s, w);
    CU_ASSERT_EQUAL(sl_oracle_softmax_mpfr(n, s, ex, prec), SL_OK);
    double b = sl_budget_softmax(n, s);
    for (size_t i = 0; i < n; i++)
        tight_check(t, tag, i, w[i], ex[i], b);
    sl_mpvec_free(n, ex);
    free(w);
}

static void check_lse(tight *t, size_t n, const double *s, mpfr_prec_t prec,
                      const char *tag)
{
    mpfr_t ex;
    mpfr_init2(ex, prec > 0 ? prec : SL_ORACLE_PREC_BITS);
    CU_ASSERT_EQUAL(sl_oracle_logsumexp_mpfr(n, s, ex, prec), SL_OK);
    tight_check(t, tag, 0, sl_logsumexp(n, s), ex, sl_budget_logsumexp(n, s));
    mpfr_clear(ex);
}

/* The adversarial score corpus: case k of SCORE_CASES, n entries written
 * to s (s holds at least 64 entries); returns n. */
enum { SCORE_CASES = 10 };
static size_t score_case(int k, double *s)
{
    size_t n = 0;
    switch (k) {
    case 0: /* +-700: exp(700) is near overflow, exp(-700) near underflow */
        for (n = 0; n < 16; n++)
            s[n] = (n % 2 ? 700.0 : -700.0) + 0.25 * (double)n;
        break;
    case 1: /* +-1e300 */
        for (n = 0; n < 16; n++)
            s[n] = (n % 3 ? 1e300 : -1e300) * (1.0 + (double)n / 64.0);
        break;
    case 2: /* +-DBL_MAX: the difference overflows to -inf */
        s[0] = DBL_MAX;
        s[1] = -DBL_MAX;
        s[2] = 0.0;
        s[3] = DBL_MAX;
        n = 4;
        break;
    case 3: /* ties one ulp apart near 1 */
        for (n = 0; n < 32; n++)
            s[n] = n % 2 ? 1.0 : nextafter(1.0, 2.0);
        break;
    case 4: /* ties one ulp apart near 1e300 */
        for (n = 0; n < 8; n++)
            s[n] = n % 2 ? 1e300 : nextafter(1e300, 0.0);
        break;
    case 5: /* weights that underflow, to subnormals and to zero */
        s[0] = 0.0;
        s[1] = -700.0;
        s[2] = -740.0;
        s[3] = -745.0;
        s[4] = -760.0;
        s[5] = -1e5;
        s[6] = -1.0;
        n = 7;
        break;
    case 6: /* one dominant score: log-sum-exp needs log1p */
        s[0] = 50.0;
        for (n = 1; n < 40; n++)
            s[n] = -(double)n;
        break;
    case 7: /* large moderate scores with tiny spread (lse ~ 1e15) */
        normals(700, 48, 1.0, s);
        for (n = 0; n < 48; n++)
            s[n] += 1e15;
        break;
    case 8: /* +700 ... +710: the naive exp overflows */
        for (n = 0; n < 11; n++)
            s[n] = 700.0 + (double)n;
        break;
    default: /* a single score */
        s[0] = -3.5e200;
        n = 1;
        break;
    }
    return n;
}

static void test_softmax_random(void)
{
    static const size_t ns[] = {1, 2, 7, 100, 1000, 20000};
    static const double scales[] = {1e-3, 1.0, 30.0, 300.0};
    tight t = tight_make("softmax w"), l = tight_make("logsumexp");
    uint64_t stream = 100;
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
        for (size_t b = 0; b < sizeof scales / sizeof scales[0]; b++) {
            size_t n = ns[a];
            double *s = dalloc(n);
            normals(stream++, n, scales[b], s);
            check_softmax(&t, n, s, 0, "random");
            check_lse(&l, n, s, 0, "random");
            free(s);
        }
    }
    tight_done(&t);
    tight_done(&l);
}

static void test_softmax_corpus(void)
{
    tight t = tight_make("softmax w corpus");
    tight l = tight_make("logsumexp corpus");
    double s[64];
    for (int k = 0; k < SCORE_CASES; k++) {
        size_t n = score_case(k, s);
        char tag[32];
        snprintf(tag, sizeof tag, "corpus %d", k);
        check_softmax(&t, n, s, 0, tag);
        check_lse(&l, n, s, 0, tag);
    }
    tight_done(&t);
    tight_done(&l);
}

/* n = 10^6 scores: the budget's n-dependence (g(n - 1)) at full size. */
static void test_softmax_large_n(void)
{
    const size_t n = 1000000;
    tight t = tight_make("softmax w n=1e6");
    tight l = tight_make("logsumexp n=1e6");
    double *s = dalloc(n);
    normals(200, n, 4.0, s);
    check_softmax(&t, n, s, ORACLE_BIG_PREC_BITS, "n=1e6");
    check_lse(&l, n, s, ORACLE_BIG_PREC_BITS, "n=1e6");
    free(s);
    tight_done(&t);
    tight_done(&l);
}

/* ---- negative controls ------------------------------------------------- */

/* Softmax without the maximum taken off: exp overflows for s > 709.78. */
static void naive_softmax(size_t n, const double *s, double *w)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += exp(s[i]);
    for (size_t i = 0; i < n; i++)
        w[i] = exp(s[i]) / sum;
}

/* Stable softmax whose normaliser is summed in float. */
static void float_sum_softmax(size_t n, const double *s, double *w)
{
    double m = sl_max(n, s);
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++)
        sum += (float)exp(s[i] - m);
    for (size_t i = 0; i < n; i++)
        w[i] = exp(s[i] - m) / (double)sum;
}

/* Stable softmax whose running sum is mis-rounded by 2^-40 per step. */
static void nudged_sum_softmax(size_t n, const double *s, double *w)
{
    double m = sl_max(n, s), sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum = (sum + exp(s[i] - m)) * (1.0 + 0x1p-40);
    for (size_t i = 0; i < n; i++)
        w[i] = exp(s[i] - m) / sum;
}

typedef void (*softmax_fn)(size_t, const double *, double *);

/* Largest err / budget of fn on scores s; NaN errors count as infinite. */
static double control_ratio(softmax_fn fn, size_t n, const double *s)
{
    double *w = dalloc(n);
    mpfr_t *ex = sl_mpvec_new(n, 0);
    CU_ASSERT_FATAL(ex != NULL);
    fn(n, s, w);
    CU_ASSERT_EQUAL(sl_oracle_softmax_mpfr(n, s, ex, 0), SL_OK);
    double b = sl_budget_softmax(n, s), worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        sl_acc_entry e;
        sl_acc_compare(w[i], ex[i], b, &e);
        worst = e.ratio > worst ? e.ratio : worst;
    }
    sl_mpvec_free(n, ex);
    free(w);
    return worst;
}

static void test_control_naive(void)
{
    static const int cases[] = {1, 2, 4, 8};
    double s[64];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t n = score_case(cases[k], s);
        double r = control_ratio(naive_softmax, n, s);
        printf("\n    naive softmax, corpus %d: err/budget %.3g", cases[k], r);
        CU_ASSERT(r > 1.0);
    }
}

static void test_control_misrounded(void)
{
    const size_t n = 1000;
    double *s = dalloc(n);
    normals(300, n, 1.0, s);
    double rf = control_ratio(float_sum_softmax, n, s);
    double rn = control_ratio(nudged_sum_softmax, n, s);
    printf("\n    float sum: err/budget %.3g; 2^-40 nudge: %.3g", rf, rn);
    CU_ASSERT(rf > 1.0);
    CU_ASSERT(rn > 1.0);
    /* The real kernel on the same scores stays within budget. */
    CU_ASSERT(control_ratio(sl_softmax, n, s) <= 1.0);
    free(s);
}

/* ---- attention --------------------------------------------------------- */

/* One attention problem and its buffers. */
typedef struct prob {
    size_t n, D, Dq, p;
    double *Z, *W, *V, *x, *pi; /* pi may be NULL */
} prob;

static prob prob_random(uint64_t stream, size_t n, size_t D, size_t Dq,
                        size_t p, int with_pi)
{
    prob q = {
        n,          D,   Dq, p, dalloc(n * D), dalloc(D * Dq), dalloc(p * D),
        dalloc(Dq), NULL};
    normals(stream, n * D, 1.0, q.Z);
    normals(stream + 1000000, D * Dq, 1.0 / sqrt((double)D), q.W);
    normals(stream + 2000000, p * D, 1.0, q.V);
    normals(stream + 3000000, Dq, 1.0, q.x);
    if (with_pi) {
        q.pi = dalloc(n);
        uniforms(stream + 4000000, n, 0.01, 1.0, q.pi);
    }
    return q;
}

static void prob_free(prob *q)
{
    free(q->Z);
    free(q->W);
    free(q->V);
    free(q->x);
    free(q->pi);
}

typedef struct attn_tight {
    tight w, zbar, F, lognorm;
} attn_tight;

static attn_tight attn_tight_make(void)
{
    attn_tight t = {tight_make("attn w"), tight_make("attn zbar"),
                    tight_make("attn F"), tight_make("attn lognorm")};
    return t;
}

static void attn_tight_done(attn_tight *t)
{
    tight_done(&t->w);
    tight_done(&t->zbar);
    tight_done(&t->F);
    tight_done(&t->lognorm);
}

static void check_attn(attn_tight *t, const prob *q, mpfr_prec_t prec,
                       const char *tag)
{
    size_t n = q->n, D = q->D, p = q->p;
    double *a = dalloc(D), *w = dalloc(n), *zb = dalloc(D), *F = dalloc(p);
    double *ew = dalloc(n), *ez = dalloc(D), *eF = dalloc(p), ln, eln;
    mpfr_t *xw = sl_mpvec_new(n, prec), *xz = sl_mpvec_new(D, prec);
    mpfr_t *xF = sl_mpvec_new(p, prec), xl;
    CU_ASSERT_FATAL(xw != NULL && xz != NULL && xF != NULL);
    mpfr_init2(xl, prec > 0 ? prec : SL_ORACLE_PREC_BITS);

    sl_attn_forward(n, D, q->Dq, p, q->Z, q->W, q->V, q->x, q->pi, a, w, zb, F,
                    &ln);
    CU_ASSERT_EQUAL(sl_oracle_attn_forward_mpfr(n, D, q->Dq, p, q->Z, q->W,
                                                q->V, q->x, q->pi, NULL, xw, xz,
                                                xF, xl, prec),
                    SL_OK);
    CU_ASSERT_EQUAL(sl_budget_attn(n, D, q->Dq, p, q->Z, q->W, q->V, q->x,
                                   q->pi, ew, ez, eF, &eln),
                    SL_OK);
    for (size_t i = 0; i < n; i++)
        tight_check(&t->w, tag, i, w[i], xw[i], ew[i]);
    for (size_t k = 0; k < D; k++)
        tight_check(&t->zbar, tag, k, zb[k], xz[k], ez[k]);
    for (size_t r = 0; r < p; r++)
        tight_check(&t->F, tag, r, F[r], xF[r], eF[r]);
    tight_check(&t->lognorm, tag, 0, ln, xl, eln);

    mpfr_clear(xl);
    sl_mpvec_free(n, xw);
    sl_mpvec_free(D, xz);
    sl_mpvec_free(p, xF);
    free(a);
    free(w);
    free(zb);
    free(F);
    free(ew);
    free(ez);
    free(eF);
}

static void test_attn_random(void)
{
    static const size_t ns[] = {1, 5, 64, 1000};
    static const size_t Ds[] = {1, 3, 8};
    attn_tight t = attn_tight_make();
    uint64_t stream = 1000;
    for (size_t a = 0; a < 4; a++) {
        for (size_t b = 0; b < 3; b++) {
            for (int with_pi = 0; with_pi < 2; with_pi++) {
                prob q = prob_random(stream++, ns[a], Ds[b], 1 + b * 2,
                                     1 + a % 3, with_pi);
                check_attn(&t, &q, 0, with_pi ? "random pi" : "random");
                prob_free(&q);
            }
        }
    }
    attn_tight_done(&t);
}

static void test_attn_corpus(void)
{
    attn_tight t = attn_tight_make();

    /* 1. Tokens near 1e8 with unit spread; V rows of alternating sign, so
     *    F = V zbar cancels ~1e8 down to O(1). */
    prob q = prob_random(2000, 200, 4, 3, 2, 0);
    for (size_t i = 0; i < q.n * q.D; i++)
        q.Z[i] += 1e8;
    for (size_t i = 0; i < q.p * q.D; i++)
        q.V[i] = i % 2 ? 1.0 : -1.0;
    for (size_t i = 0; i < q.D * q.Dq; i++)
        q.W[i] *= 1e-8;
    check_attn(&t, &q, 0, "far tokens");
    prob_free(&q);

    /* 2. Scores of several hundred: exp(s) alone would overflow. */
    q = prob_random(2001, 300, 3, 2, 2, 1);
    for (size_t i = 0; i < q.D * q.Dq; i++)
        q.W[i] *= 400.0;
    check_attn(&t, &q, 0, "scores +-700");
    prob_free(&q);

    /* 3. Scores spread over 1e4: nearly every weight underflows. */
    q = prob_random(2002, 500, 2, 2, 3, 0);
    for (size_t i = 0; i < q.D * q.Dq; i++)
        q.W[i] *= 5000.0;
    check_attn(&t, &q, 0, "underflow");
    prob_free(&q);

    /* 4. All tokens equal but one, one ulp away. */
    q = prob_random(2003, 50, 2, 2, 2, 0);
    for (size_t i = 0; i < q.n * q.D; i++)
        q.Z[i] = 0.75;
    q.Z[7] = nextafter(0.75, 1.0);
    check_attn(&t, &q, 0, "ulp tie");
    prob_free(&q);

    attn_tight_done(&t);
}

static void test_attn_large_n(void)
{
    attn_tight t = attn_tight_make();
    prob q = prob_random(2100, 1000000, 2, 2, 2, 0);
    check_attn(&t, &q, ORACLE_BIG_PREC_BITS, "n=1e6");
    prob_free(&q);
    attn_tight_done(&t);
}

/* ---- streaming --------------------------------------------------------- */

static void check_vec(tight *t, const char *tag, size_t k, const double *got,
                      mpfr_t *ex, const double *budget)
{
    for (size_t i = 0; i < k; i++)
        tight_check(t, tag, i, got[i], ex[i], budget[i]);
}

/* The stream's outputs, in the order of the tight array of test_stream:
 * mean, F, lognorm, C_w h (sl_stream_backward's, with x = 1) and ess. */
enum { STREAM_OUTPUTS = 5 };

static void check_stream(tight *t, size_t n, size_t D, size_t p,
                         const double *s, const double *Z, const double *V,
                         const double *h, const char *tag)
{
    double *mean = dalloc(D), *F = dalloc(p), *em = dalloc(D);
    double *eF = dalloc(p), *comom = dalloc(D), *cw = dalloc(D);
    double *ecw = dalloc(D), *dV = dalloc(p * D), *g = dalloc(p);
    double ln, eln, ess, eess, one = 1.0;
    mpfr_t *xm = sl_mpvec_new(D, 0), *xF = sl_mpvec_new(p, 0);
    mpfr_t *xc = sl_mpvec_new(D, 0), xl, xe;
    CU_ASSERT_FATAL(xm != NULL && xF != NULL && xc != NULL);
    mpfr_inits2(SL_ORACLE_PREC_BITS, xl, xe, (mpfr_ptr)0);

    sl_stream st;
    sl_stream_init(&st, D, mean, h, comom);
    for (size_t i = 0; i < n; i++)
        sl_stream_push(&st, s[i], Z + i * D);
    sl_stream_finish(&st, p, V, F, &ln, &ess);
    sl_stream_backward(&st, p, 1, g, &one, dV, cw);
    CU_ASSERT_EQUAL(
        sl_oracle_stream_mpfr(n, D, p, s, Z, V, h, xm, xF, xl, xe, xc, 0),
        SL_OK);
    CU_ASSERT_EQUAL(sl_budget_stream(n, D, p, s, Z, V, em, eF, &eln), SL_OK);
    CU_ASSERT_EQUAL(sl_budget_stream_comoment(n, D, s, Z, h, ecw, &eess),
                    SL_OK);
    check_vec(&t[0], tag, D, mean, xm, em);
    check_vec(&t[1], tag, p, F, xF, eF);
    tight_check(&t[2], tag, 0, ln, xl, eln);
    check_vec(&t[3], tag, D, cw, xc, ecw);
    tight_check(&t[4], tag, 0, ess, xe, eess);

    mpfr_clears(xl, xe, (mpfr_ptr)0);
    sl_mpvec_free(D, xm);
    sl_mpvec_free(p, xF);
    sl_mpvec_free(D, xc);
    double *bufs[] = {mean, F, em, eF, comom, cw, ecw, dV, g};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
}

/* Random scores and tokens, then the hard families on the same tokens:
 * far tokens (1e8) with a cancelling V and scores rising at every push
 * (a rescale each step), huge logits of both signs (most weights exp of
 * -1e3 or less), and weights that underflow (scores down to -1e5). */
static void test_stream(void)
{
    tight t[STREAM_OUTPUTS] = {
        tight_make("stream mean"), tight_make("stream F"),
        tight_make("stream lognorm"), tight_make("stream comom"),
        tight_make("stream ess")};
    static const size_t ns[] = {1, 2, 50, 5000};
    static const double amp[] = {0.1, 3.0, 300.0};
    uint64_t stream = 3000;
    for (size_t a = 0; a < 4; a++) {
        for (size_t b = 0; b < 3; b++) {
            size_t n = ns[a], D = 3, p = 2;
            double *s = dalloc(n), *Z = dalloc(n * D), *V = dalloc(p * D);
            double *u = dalloc(n), h[3];
            normals(stream, n, amp[b], s);
            normals(stream + 1, n * D, 1.0, Z);
            normals(stream + 2, p * D, 1.0, V);
            normals(stream + 3, D, 1.0, h);
            uniforms(stream + 4, n, 0.0, 1.0, u);
            stream += 5;
            check_stream(t, n, D, p, s, Z, V, h, "random");
            for (size_t i = 0; i < n; i++)
                s[i] = (i % 2 ? 1.0 : -1.0) * (700.0 + 1e4 * u[i]);
            check_stream(t, n, D, p, s, Z, V, h, "huge logits");
            for (size_t i = 0; i < n; i++)
                s[i] = -exp(u[i] * log(1e5));
            check_stream(t, n, D, p, s, Z, V, h, "underflow");
            for (size_t i = 0; i < n * D; i++)
                Z[i] += 1e8;
            for (size_t i = 0; i < p * D; i++)
                V[i] = i % 2 ? 1.0 : -1.0;
            s[0] = 0.0;
            for (size_t i = 1; i < n; i++)
                s[i] = s[i - 1] + amp[b] / (double)n * (0.5 + u[i]);
            check_stream(t, n, D, p, s, Z, V, h, "far rising");
            free(s);
            free(Z);
            free(V);
            free(u);
        }
    }
    for (int j = 0; j < STREAM_OUTPUTS; j++)
        tight_done(&t[j]);
}

/* Negative controls of the co-moment and effective-size budgets, on far
 * tokens (1e8) with scores rising at every push: the one-pass uncentred
 * co-moment sum_i w_i z_i t_i - zbar tbar, and the effective size with
 * its sum of squares accumulated in float.  Both must exceed the budgets
 * of the real kernel (which the stream test shows it keeps). */
static void test_control_stream(void)
{
    const size_t n = 1000, D = 3;
    double *s = dalloc(n), *Z = dalloc(n * D), h[3], cw[3], ecw[3], eess;
    double szt[3] = {0.0, 0.0, 0.0}, sz[3] = {0.0, 0.0, 0.0};
    double m = 0.0, wsum = 0.0, st = 0.0;
    float wsq = 0.0f;
    normals(3500, n * D, 1.0, Z);
    normals(3501, D, 1.0, h);
    for (size_t i = 0; i < n * D; i++)
        Z[i] += 1e8;
    for (size_t i = 0; i < n; i++)
        s[i] = 0.01 * (double)i;

    /* 1. The uncentred one-pass sums, rescaled at each new maximum. */
    for (size_t i = 0; i < n; i++) {
        const double *z = Z + i * D;
        double t = h[0] * z[0] + h[1] * z[1] + h[2] * z[2], e = 1.0;
        if (i == 0 || s[i] > m) {
            double r = i == 0 ? 0.0 : exp(m - s[i]);
            wsum *= r;
            wsq *= (float)(r * r);
            st *= r;
            for (size_t k = 0; k < D; k++) {
                szt[k] *= r;
                sz[k] *= r;
            }
            m = s[i];
        } else {
            e = exp(s[i] - m);
        }
        wsum += e;
        wsq += (float)(e * e);
        st += e * t;
        for (size_t k = 0; k < D; k++) {
            szt[k] += e * z[k] * t;
            sz[k] += e * z[k];
        }
    }
    for (size_t k = 0; k < D; k++)
        cw[k] = szt[k] / wsum - (sz[k] / wsum) * (st / wsum);
    double ess = wsum * wsum / (double)wsq;

    /* 2. Against the exact values and the budgets of the real kernel. */
    mpfr_t *xc = sl_mpvec_new(D, 0), xe;
    CU_ASSERT_FATAL(xc != NULL);
    mpfr_init2(xe, SL_ORACLE_PREC_BITS);
    CU_ASSERT_EQUAL(
        sl_oracle_stream_mpfr(n, D, 1, s, Z, h, h, NULL, NULL, NULL, xe, xc, 0),
        SL_OK);
    CU_ASSERT_EQUAL(sl_budget_stream_comoment(n, D, s, Z, h, ecw, &eess),
                    SL_OK);
    double rc = 0.0;
    sl_acc_entry e;
    for (size_t k = 0; k < D; k++) {
        sl_acc_compare(cw[k], xc[k], ecw[k], &e);
        rc = e.ratio > rc ? e.ratio : rc;
    }
    sl_acc_compare(ess, xe, eess, &e);
    printf("\n    uncentred co-moment: err/budget %.3g; float sum of "
           "squares: ess err/budget %.3g",
           rc, e.ratio);
    CU_ASSERT(rc > 1.0);
    CU_ASSERT(e.ratio > 1.0);
    mpfr_clear(xe);
    sl_mpvec_free(D, xc);
    free(s);
    free(Z);
}

/* ---- linear attention and the Gaussian limit ------------------------- */

/* A random symmetric positive definite S = B B^T / D + I / 2. */
static void random_spd(uint64_t stream, size_t D, double *S)
{
    double *B = dalloc(D * D);
    normals(stream, D * D, 1.0, B);
    for (size_t i = 0; i < D; i++) {
        for (size_t j = 0; j < D; j++) {
            double acc = i == j ? 0.5 : 0.0;
            for (size_t k = 0; k < D; k++)
                acc += B[i * D + k] * B[j * D + k] / (double)D;
            S[i * D + j] = acc;
        }
    }
    free(B);
}

static void test_linear(void)
{
    tight tu = tight_make("linear u"), tL = tight_make("linear L");
    tight gu = tight_make("linear limit u");
    tight gL = tight_make("linear limit L");
    uint64_t stream = 4000;
    static const size_t ns[] = {1, 10, 3000};
    for (size_t c = 0; c < 3; c++) {
        for (size_t D = 1; D <= 8; D *= 2) {
            size_t Dq = 3, p = 2, n = ns[c];
            prob q = prob_random(stream++, n, D, Dq, p, 0);
            if (c == 2) {
                for (size_t i = 0; i < n * D; i++)
                    q.Z[i] += 1e4; /* far tokens: large second moments */
            }
            double *a = dalloc(D), *u = dalloc(D), *L = dalloc(p);
            double *eu = dalloc(D), *eL = dalloc(p);
            mpfr_t *xu = sl_mpvec_new(D, 0), *xL = sl_mpvec_new(p, 0);
            CU_ASSERT_FATAL(xu != NULL && xL != NULL);

            sl_linear_forward(n, D, Dq, p, q.Z, q.W, q.V, q.x, a, u, L);
            CU_ASSERT_EQUAL(sl_oracle_linear_forward_mpfr(n, D, Dq, p, q.Z, q.W,
                                                          q.V, q.x, NULL, xu,
                                                          xL, 0),
                            SL_OK);
            CU_ASSERT_EQUAL(sl_budget_linear_forward(n, D, Dq, p, q.Z, q.W, q.V,
                                                     q.x, eu, eL),
                            SL_OK);
            check_vec(&tu, "random", D, u, xu, eu);
            check_vec(&tL, "random", p, L, xL, eL);

            double *m = dalloc(D), *S = dalloc(D * D);
            normals(stream + 100, D, c == 2 ? 1e3 : 1.0, m);
            random_spd(stream + 200, D, S);
            sl_linear_limit_gauss(D, Dq, p, m, S, q.W, q.V, q.x, a, u, L);
            CU_ASSERT_EQUAL(sl_oracle_linear_limit_gauss_mpfr(
                                D, Dq, p, m, S, q.W, q.V, q.x, NULL, xu, xL, 0),
                            SL_OK);
            CU_ASSERT_EQUAL(sl_budget_linear_limit_gauss(D, Dq, p, m, S, q.W,
                                                         q.V, q.x, eu, eL),
                            SL_OK);
            check_vec(&gu, "random", D, u, xu, eu);
            check_vec(&gL, "random", p, L, xL, eL);

            sl_mpvec_free(D, xu);
            sl_mpvec_free(p, xL);
            free(a);
            free(u);
            free(L);
            free(eu);
            free(eL);
            free(m);
            free(S);
            prob_free(&q);
        }
    }
    tight_done(&tu);
    tight_done(&tL);
    tight_done(&gu);
    tight_done(&gL);
}

static void test_limit(void)
{
    tight tm = tight_make("limit mu"), tF = tight_make("limit F");
    tight tq = tight_make("limit quad");
    tight th = tight_make("limit h"), tc = tight_make("limit c");
    tight tv = tight_make("limit dV"), tw = tight_make("limit dW");
    uint64_t stream = 5000;
    for (int c = 0; c < 6; c++) {
        size_t D = 1 + (size_t)c * 3, Dq = 2 + (size_t)c % 3, p = 1 + c % 4;
        prob q = prob_random(stream++, 1, D, Dq, p, 0);
        double *m = dalloc(D), *S = dalloc(D * D), *g = dalloc(p);
        double *a = dalloc(D), *mu = dalloc(D), *F = dalloc(p);
        double *h = dalloc(D), *cc = dalloc(D), *dV = dalloc(p * D);
        double *dW = dalloc(D * Dq), *work = dalloc(D);
        double *e1 = dalloc(D), *e2 = dalloc(D), *e3 = dalloc(p * D);
        double *e4 = dalloc(D * Dq);
        mpfr_t *x1 = sl_mpvec_new(D, 0), *x2 = sl_mpvec_new(D, 0);
        mpfr_t *x3 = sl_mpvec_new(p * D, 0), *x4 = sl_mpvec_new(D * Dq, 0);
        mpfr_t *xF = sl_mpvec_new(p, 0), xq;
        double *eF = dalloc(p);
        CU_ASSERT_FATAL(x1 && x2 && x3 && x4 && xF);
        mpfr_init2(xq, SL_ORACLE_PREC_BITS);
        normals(stream + 100, D, c % 2 ? 1e6 : 1.0, m);
        random_spd(stream + 200, D, S);
        normals(stream + 300, p, 1.0, g);

        /* Forward and quad. */
        sl_limit_gauss_forward(D, Dq, p, m, S, q.W, q.V, q.x, a, mu, F);
        sl_oracle_limit_gauss_forward_mpfr(D, Dq, p, m, S, q.W, q.V, q.x, NULL,
                                           x1, xF, 0);
        sl_budget_limit_gauss_forward(D, Dq, p, m, S, q.W, q.V, q.x, e1, eF);
        check_vec(&tm, "random", D, mu, x1, e1);
        check_vec(&tF, "random", p, F, xF, eF);
        double qk = sl_limit_gauss_quad(D, S, a, work);
        sl_oracle_limit_gauss_quad_mpfr(D, S, a, xq, 0);
        tight_check(&tq, "random", 0, qk, xq,
                    sl_budget_limit_gauss_quad(D, S, a));

        /* Backward, from the kernel's mu. */
        sl_limit_gauss_backward(D, Dq, p, S, q.V, q.x, mu, g, h, cc, dV, dW);
        sl_oracle_limit_gauss_backward_mpfr(D, Dq, p, S, q.V, q.x, mu, g, x1,
                                            x2, x3, x4, 0);
        sl_budget_limit_gauss_backward(D, Dq, p, S, q.V, q.x, mu, g, e1, e2, e3,
                                       e4);
        check_vec(&th, "random", D, h, x1, e1);
        check_vec(&tc, "random", D, cc, x2, e2);
        check_vec(&tv, "random", p * D, dV, x3, e3);
        check_vec(&tw, "random", D * Dq, dW, x4, e4);

        mpfr_clear(xq);
        sl_mpvec_free(D, x1);
        sl_mpvec_free(D, x2);
        sl_mpvec_free(p * D, x3);
        sl_mpvec_free(D * Dq, x4);
        sl_mpvec_free(p, xF);
        double *bufs[] = {m,  S,  g,    a,  mu, F,  h,  cc,
                          dV, dW, work, e1, e2, e3, e4, eF};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
            free(bufs[i]);
        prob_free(&q);
    }
    tight_done(&tm);
    tight_done(&tF);
    tight_done(&tq);
    tight_done(&th);
    tight_done(&tc);
    tight_done(&tv);
    tight_done(&tw);
}

/* ---- finite-prompt gradients ----------------------------------------- */

/* The gradient's outputs in the tight array of test_gradient: h, C_w h,
 * dV, dW of the backward pass alone (w and zbar taken as exact), then
 * C_w h, dV, dW end to end, against the midpoints of the Arb enclosure of
 * the exact gradient (sl_arb_attn_grad, far narrower than any budget). */
enum { GRAD_OUTPUTS = 7 };

/* Compare got (k) with the midpoints of balls b under budget. */
static void check_balls(tight *t, const char *tag, size_t k, const double *got,
                        arb_srcptr b, const double *budget)
{
    mpfr_t *ex = sl_mpvec_new(k, 0);
    CU_ASSERT_FATAL(ex != NULL);
    for (size_t i = 0; i < k; i++)
        arf_get_mpfr(ex[i], arb_midref(b + i), MPFR_RNDN);
    check_vec(t, tag, k, got, ex, budget);
    sl_mpvec_free(k, ex);
}

static void check_backward(tight *t, const prob *q, const char *tag)
{
    size_t n = q->n, D = q->D, Dq = q->Dq, p = q->p;
    double *a = dalloc(D), *w = dalloc(n), *zb = dalloc(D), *F = dalloc(p);
    double *g = dalloc(p), *h = dalloc(D), *c = dalloc(D);
    double *dV = dalloc(p * D), *dW = dalloc(D * Dq), ln, eln;
    double *e1 = dalloc(D), *e2 = dalloc(D), *e3 = dalloc(p * D);
    double *e4 = dalloc(D * Dq), *ew = dalloc(n), *ez = dalloc(D);
    double *eF = dalloc(p);
    mpfr_t *x1 = sl_mpvec_new(D, 0), *x2 = sl_mpvec_new(D, 0);
    mpfr_t *x3 = sl_mpvec_new(p * D, 0), *x4 = sl_mpvec_new(D * Dq, 0);
    CU_ASSERT_FATAL(x1 && x2 && x3 && x4);
    normals(9999, p, 1.0, g);

    /* 1. The backward pass alone. */
    sl_attn_forward(n, D, Dq, p, q->Z, q->W, q->V, q->x, q->pi, a, w, zb, F,
                    &ln);
    sl_attn_backward(n, D, Dq, p, q->Z, q->V, q->x, w, zb, g, h, c, dV, dW);
    sl_oracle_attn_backward_mpfr(n, D, Dq, p, q->Z, q->V, q->x, w, zb, g, x1,
                                 x2, x3, x4, 0);
    sl_budget_attn_backward(n, D, Dq, p, q->Z, q->V, q->x, w, zb, g, e1, e2, e3,
                            e4);
    check_vec(&t[0], tag, D, h, x1, e1);
    check_vec(&t[1], tag, D, c, x2, e2);
    check_vec(&t[2], tag, p * D, dV, x3, e3);
    check_vec(&t[3], tag, D * Dq, dW, x4, e4);

    /* 2. End to end: the forward budget carried through. */
    arb_ptr bc = _arb_vec_init((slong)D), bV = _arb_vec_init((slong)(p * D));
    arb_ptr bW = _arb_vec_init((slong)(D * Dq));
    CU_ASSERT_EQUAL(sl_budget_attn(n, D, Dq, p, q->Z, q->W, q->V, q->x, q->pi,
                                   ew, ez, eF, &eln),
                    SL_OK);
    CU_ASSERT_EQUAL(sl_budget_attn_grad(n, D, Dq, p, q->Z, q->V, q->x, w, zb,
                                        ew, ez, g, e2, e3, e4),
                    SL_OK);
    sl_arb_attn_grad(n, D, Dq, p, q->Z, q->W, q->V, q->x, q->pi, g, bc, bV, bW,
                     0);
    check_balls(&t[4], tag, D, c, bc, e2);
    check_balls(&t[5], tag, p * D, dV, bV, e3);
    check_balls(&t[6], tag, D * Dq, dW, bW, e4);

    _arb_vec_clear(bc, (slong)D);
    _arb_vec_clear(bV, (slong)(p * D));
    _arb_vec_clear(bW, (slong)(D * Dq));
    sl_mpvec_free(D, x1);
    sl_mpvec_free(D, x2);
    sl_mpvec_free(p * D, x3);
    sl_mpvec_free(D * Dq, x4);
    double *bufs[] = {a, w, zb, F, g, h, c, dV, dW, e1, e2, e3, e4, ew, ez, eF};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
}

static void test_gradient(void)
{
    tight t[GRAD_OUTPUTS] = {
        tight_make("grad h"),         tight_make("grad C_w h"),
        tight_make("grad dV"),        tight_make("grad dW"),
        tight_make("grad e2e C_w h"), tight_make("grad e2e dV"),
        tight_make("grad e2e dW")};
    uint64_t stream = 6000;
    static const size_t ns[] = {1, 7, 500, 5000};
    for (size_t a = 0; a < 4; a++) {
        for (size_t D = 1; D <= 8; D *= 2) {
            prob q = prob_random(stream++, ns[a], D, 3, 2, a % 2);
            check_backward(t, &q, "random");
            /* Scores of several hundred: weights near underflow. */
            for (size_t i = 0; i < q.D * q.Dq; i++)
                q.W[i] *= 300.0;
            check_backward(t, &q, "large scores");
            /* Far tokens: the centred sum avoids cancellation. */
            for (size_t i = 0; i < q.n * q.D; i++)
                q.Z[i] += 1e8;
            for (size_t i = 0; i < q.D * q.Dq; i++)
                q.W[i] *= 1e-8 / 300.0;
            check_backward(t, &q, "far tokens");
            prob_free(&q);
        }
    }
    for (int i = 0; i < GRAD_OUTPUTS; i++)
        tight_done(&t[i]);
}

/* Negative control of the end-to-end budget: scores near 1e4 (tokens
 * c + N(0, I) with <a, c> = 1e4) carry a rounding of about 1e4 u each,
 * which moves every weight by about that much relatively; the end-to-end
 * error of C_w h then exceeds the backward budget, which takes w and zbar
 * as exact ((n + D) u relative, n = 50), while the end-to-end budget
 * holds. */
static void test_control_e2e(void)
{
    prob q = prob_random(6500, 50, 4, 3, 2, 0);
    size_t n = q.n, D = q.D, Dq = q.Dq, p = q.p;
    double *a = dalloc(D), *w = dalloc(n), *zb = dalloc(D), *F = dalloc(p);
    double *g = dalloc(p), *h = dalloc(D), *c = dalloc(D), *eh = dalloc(D);
    double *ec = dalloc(D), *dV = dalloc(p * D), *dW = dalloc(D * Dq);
    double *edV = dalloc(p * D), *edW = dalloc(D * Dq), *ew = dalloc(n);
    double *ez = dalloc(D), *eF = dalloc(p), *ec2 = dalloc(D), ln, eln;
    double a2 = 0.0, alone = 0.0, e2e = 0.0;
    normals(6501, p, 1.0, g);
    sl_matvec(D, Dq, q.W, q.x, a);
    for (size_t k = 0; k < D; k++)
        a2 += a[k] * a[k];
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < D; k++)
            q.Z[i * D + k] += 1e4 * a[k] / a2;
    }
    sl_attn_forward(n, D, Dq, p, q.Z, q.W, q.V, q.x, NULL, a, w, zb, F, &ln);
    sl_attn_backward(n, D, Dq, p, q.Z, q.V, q.x, w, zb, g, h, c, dV, dW);
    sl_budget_attn_backward(n, D, Dq, p, q.Z, q.V, q.x, w, zb, g, eh, ec, edV,
                            edW);
    sl_budget_attn(n, D, Dq, p, q.Z, q.W, q.V, q.x, NULL, ew, ez, eF, &eln);
    sl_budget_attn_grad(n, D, Dq, p, q.Z, q.V, q.x, w, zb, ew, ez, g, ec2, edV,
                        edW);
    arb_ptr bc = _arb_vec_init((slong)D);
    sl_arb_attn_grad(n, D, Dq, p, q.Z, q.W, q.V, q.x, NULL, g, bc, NULL, NULL,
                     0);
    mpfr_t x;
    mpfr_init2(x, SL_ORACLE_PREC_BITS);
    for (size_t k = 0; k < D; k++) {
        sl_acc_entry e;
        arf_get_mpfr(x, arb_midref(bc + k), MPFR_RNDN);
        sl_acc_compare(c[k], x, ec[k], &e);
        alone = e.ratio > alone ? e.ratio : alone;
        sl_acc_compare(c[k], x, ec2[k], &e);
        e2e = e.ratio > e2e ? e.ratio : e2e;
    }
    printf("\n    end-to-end C_w h, scores near 1e4: err/budget %.3g against "
           "the backward budget, %.3g against the end-to-end one",
           alone, e2e);
    CU_ASSERT(alone > 1.0);
    CU_ASSERT(e2e <= 1.0);
    mpfr_clear(x);
    _arb_vec_clear(bc, (slong)D);
    double *bufs[] = {a,  w,  zb,  F,   g,  h,  c,  eh, ec,
                      dV, dW, edV, edW, ew, ez, eF, ec2};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    prob_free(&q);
}

void register_oracle_suite(void)
{
    CU_pSuite s = CU_add_suite("oracle", NULL, NULL);
    testing_add(s, "softmax_random", test_softmax_random);
    testing_add(s, "softmax_corpus", test_softmax_corpus);
    testing_add(s, "softmax_large_n", test_softmax_large_n);
    testing_add(s, "control_naive", test_control_naive);
    testing_add(s, "control_misrounded", test_control_misrounded);
    testing_add(s, "attn_random", test_attn_random);
    testing_add(s, "attn_corpus", test_attn_corpus);
    testing_add(s, "attn_large_n", test_attn_large_n);
    testing_add(s, "stream", test_stream);
    testing_add(s, "control_stream", test_control_stream);
    testing_add(s, "linear", test_linear);
    testing_add(s, "limit", test_limit);
    testing_add(s, "gradient", test_gradient);
    testing_add(s, "control_e2e", test_control_e2e);
}
