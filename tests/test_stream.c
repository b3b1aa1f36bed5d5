/* test_stream.c -- CUnit suite "stream": one-pass attention.
 *
 * The streaming state of stream.h must reproduce, up to rounding, what
 * the two-pass kernels compute from the stored prompt: tilted mean,
 * output, log-normaliser, effective sample size (attention.h) and the
 * gradient pieces (gradient.h).  Checked on random Gaussian prompts up to
 * n = 1e5, on score sequences that rescale the state at every push
 * (increasing) or never (decreasing), on extreme scores, and for the merge
 * of two states (Chan's pairwise update), including empty states.
 *
 * The agreement bound is the header's:
 *   |zbar_stream - zbar_2pass| <= SL_STREAM_AGREE_EPS * n * max_i |z_i|,
 * carried to the other outputs through their own scale (see below).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/attention.h"
#include "kernels/gradient.h"
#include "kernels/stream.h"
#include "random/rng.h"
#include "testing.h"

/* The co-moment sums products (z - zbar)(t - tbar), each factor within
 * twice its largest entry, so its rounding is bounded by the header's
 * agreement bound times 2 * 2 * max|t_i|; the 4 is that factor. */
#define STREAM_COMOM_SLACK 4.0

/* Fixed seed of this suite's random prompts. */
#define STREAM_SEED 20251204u

/* Largest shapes used in this file. */
enum { MD = 4, MDQ = 3, MP = 2 };

static int near(double got, double want, double tol, const char *what)
{
    double err = fabs(got - want);
    if (err <= tol)
        return 1;
    fprintf(stderr, "\n  %s: got %a want %a |err| %a > tol %a\n", what, got,
            want, err, tol);
    return 0;
}

static double maxabs(size_t n, const double *v)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(v[i]));
    return m;
}

static double row_norm1(size_t rows, size_t cols, const double *A)
{
    double m = 0.0;
    for (size_t r = 0; r < rows; r++) {
        double acc = 0.0;
        for (size_t c = 0; c < cols; c++)
            acc += fabs(A[r * cols + c]);
        m = fmax(m, acc);
    }
    return m;
}

static double dot(size_t n, const double *u, const double *v)
{
    double acc = 0.0;
    for (size_t i = 0; i < n; i++)
        acc += u[i] * v[i];
    return acc;
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes);
    if (p == NULL) {
        fprintf(stderr, "test_stream: out of memory\n");
        exit(2);
    }
    return p;
}

/* A problem: n tokens Z (n x D), W (D x Dq), V (p x D), x (Dq), g (p). */
typedef struct problem {
    size_t n, D, Dq, p;
    double *Z;
    double W[MD * MDQ], V[MP * MD], x[MDQ], g[MP];
} problem;

/* What both routes compute, and the scales the tolerances need. */
typedef struct results {
    /* two-pass */
    double zbar[MD], F[MP], lognorm, ess, c[MD], dV[MP * MD], dW[MD * MDQ];
    double score_max;
    /* stream */
    double mean[MD], sF[MP], slognorm, sess, sc[MD];
    double sdV[MP * MD], sdW[MD * MDQ];
    double smax;
    size_t scount;
    /* scales */
    double zmax, tmax;
} results;

/* A random problem of the given shape, tokens ~ N(0, I), W scaled by
 * wscale (the size of the tilt), V, x, g ~ N(0, 1). */
static void make_problem(problem *pb, size_t n, size_t D, size_t Dq, size_t p,
                         double wscale, uint64_t stream)
{
    sl_rng r;
    sl_rng_init(&r, STREAM_SEED, stream);
    pb->n = n;
    pb->D = D;
    pb->Dq = Dq;
    pb->p = p;
    pb->Z = xmalloc(n * D * sizeof(double));
    sl_rng_normal(&r, n * D, pb->Z);
    sl_rng_normal(&r, D * Dq, pb->W);
    for (size_t k = 0; k < D * Dq; k++)
        pb->W[k] *= wscale;
    sl_rng_normal(&r, p * D, pb->V);
    sl_rng_normal(&r, Dq, pb->x);
    sl_rng_normal(&r, p, pb->g);
}

/* Run the two-pass kernels and the stream on the same problem. */
static void run_both(const problem *pb, results *rs)
{
    size_t n = pb->n, D = pb->D, Dq = pb->Dq, p = pb->p;
    double a[MD], h[MD], comom[MD];
    double *w = xmalloc(n * sizeof(double));

    /* 1. Two passes over the stored prompt. */
    sl_attn_forward(n, D, Dq, p, pb->Z, pb->W, pb->V, pb->x, NULL, a, w,
                    rs->zbar, rs->F, &rs->lognorm);
    rs->ess = sl_attn_ess(n, w);
    sl_attn_backward(n, D, Dq, p, pb->Z, pb->V, pb->x, w, rs->zbar, pb->g, h,
                     rs->c, rs->dV, rs->dW);
    free(w);

    /* 2. One pass, h = V^T g computed here. */
    for (size_t k = 0; k < D; k++) {
        h[k] = 0.0;
        for (size_t r = 0; r < p; r++)
            h[k] += pb->V[r * D + k] * pb->g[r];
    }
    sl_stream st;
    sl_stream_init(&st, D, rs->mean, h, comom);
    rs->score_max = -INFINITY;
    rs->tmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double *z = pb->Z + i * D;
        double s = dot(D, a, z);
        rs->score_max = fmax(rs->score_max, s);
        rs->tmax = fmax(rs->tmax, fabs(dot(D, h, z)));
        sl_stream_push(&st, s, z);
    }
    sl_stream_finish(&st, p, pb->V, rs->sF, &rs->slognorm, &rs->sess);
    sl_stream_backward(&st, p, Dq, pb->g, pb->x, rs->sdV, rs->sdW);
    for (size_t k = 0; k < D; k++)
        rs->sc[k] = comom[k] / st.wsum;
    rs->smax = st.max;
    rs->scount = st.count;
    rs->zmax = maxabs(n * D, pb->Z);
}

/* Forward quantities: mean, F, lognorm, ess, count and max. */
static void check_forward(const problem *pb, const results *rs,
                          const char *what)
{
    size_t n = pb->n;
    double tz = SL_STREAM_AGREE_EPS * (double)n * rs->zmax;
    for (size_t k = 0; k < pb->D; k++)
        CU_ASSERT(near(rs->mean[k], rs->zbar[k], tz, what));
    double tf = tz * row_norm1(pb->p, pb->D, pb->V);
    for (size_t r = 0; r < pb->p; r++)
        CU_ASSERT(near(rs->sF[r], rs->F[r], tf, what));
    /* log of a sum of n terms: n eps absolute, plus the result's ulp. */
    double tl = SL_STREAM_AGREE_EPS * ((double)n + fabs(rs->lognorm));
    CU_ASSERT(near(rs->slognorm, rs->lognorm, tl, what));
    CU_ASSERT(near(rs->sess, rs->ess, SL_STREAM_AGREE_EPS * (double)n * rs->ess,
                   what));
    CU_ASSERT(rs->scount == n);
    CU_ASSERT(near(rs->smax, rs->score_max, 0.0, what));
}

/* Backward quantities: C_w h, dV and dW. */
static void check_backward(const problem *pb, const results *rs,
                           const char *what)
{
    size_t n = pb->n, D = pb->D, Dq = pb->Dq;
    double tz = SL_STREAM_AGREE_EPS * (double)n * rs->zmax;
    double tc = STREAM_COMOM_SLACK * tz * rs->tmax;
    for (size_t k = 0; k < D; k++)
        CU_ASSERT(near(rs->sc[k], rs->c[k], tc, what));
    for (size_t r = 0; r < pb->p; r++)
        for (size_t k = 0; k < D; k++)
            CU_ASSERT(near(rs->sdV[r * D + k], rs->dV[r * D + k],
                           tz * fabs(pb->g[r]), what));
    for (size_t k = 0; k < D; k++)
        for (size_t j = 0; j < Dq; j++)
            CU_ASSERT(near(rs->sdW[k * Dq + j], rs->dW[k * Dq + j],
                           tc * fabs(pb->x[j]), what));
}

/* Random Gaussian prompts, n from 10 to 1e5, D = 4. */
static void test_agree_two_pass(void)
{
    const size_t sizes[4] = {10, 1000, 30000, 100000};
    for (int k = 0; k < 4; k++) {
        problem pb;
        results rs;
        make_problem(&pb, sizes[k], 4, 3, 2, 0.5, (uint64_t)k);
        run_both(&pb, &rs);
        char what[48];
        snprintf(what, sizeof what, "n = %zu", sizes[k]);
        check_forward(&pb, &rs, what);
        free(pb.Z);
    }
}

/* Tokens whose score is step * i, i = 0..59 (a = step e_1, first
 * coordinate i), pushed in increasing order (every push is a new maximum
 * and rescales the state) or decreasing order (never rescales). */
static void check_monotone(double step, int increasing)
{
    enum { N = 60 };
    problem pb;
    make_problem(&pb, N, 4, 1, 2, 1.0, 7);
    memset(pb.W, 0, sizeof pb.W);
    pb.W[0] = step;
    pb.x[0] = 1.0;
    for (size_t i = 0; i < N; i++)
        pb.Z[i * 4] = increasing ? (double)i : (double)(N - 1 - i);
    results rs;
    run_both(&pb, &rs);
    char what[64];
    snprintf(what, sizeof what, "%s, step %g",
             increasing ? "increasing" : "decreasing", step);
    check_forward(&pb, &rs, what);
    check_backward(&pb, &rs, what);
    free(pb.Z);
}

static void test_push_increasing(void)
{
    check_monotone(0.7, 1);
    check_monotone(40.0, 1);
}

static void test_push_decreasing(void)
{
    check_monotone(0.7, 0);
    check_monotone(40.0, 0);
}

/* Extreme scores pushed directly, the top score reached twice (tokens 1
 * and 4) and every other score at least 700 below it: the state is two
 * tokens of equal weight, mean (z1 + z4) / 2, ess 2, C_w h = <h, d> d with
 * d = (z1 - z4) / 2, lognorm = top + log(2 / 5). */
static void check_extreme(const double s[5], const char *what, size_t block)
{
    const double Z[10] = {0.5, -1.0, 1.0, 2.0, -3.0, 0.25, 4.0, 1.0, -1.0, 0.5};
    const double h[2] = {0.75, -2.0};
    const double V[2] = {1.0, -1.0};
    double mean[2], comom[2], F[1], lognorm, ess, work[2 * 2 + 2 * 5];
    sl_stream st;
    sl_stream_init(&st, 2, mean, h, comom);
    if (block == 0) {
        for (int i = 0; i < 5; i++)
            sl_stream_push(&st, s[i], Z + 2 * i);
    } else {
        for (size_t i = 0; i < 5; i += block) {
            size_t nb = 5 - i < block ? 5 - i : block;
            sl_stream_push_block(&st, nb, s + i, Z + 2 * i, work);
        }
    }
    sl_stream_finish(&st, 1, V, F, &lognorm, &ess);

    /* z1 = (1, 2), z4 = (-1, 0.5): mean (0, 1.25), d = (1, 0.75),
     * <h, d> = 0.75 - 1.5 = -0.75, C_w h = (-0.75, -0.5625). */
    const double want_mean[2] = {0.0, 1.25};
    const double want_c[2] = {-0.75, -0.5625};
    /* Other tokens weigh at most e^-700 (about 1e-304): below any ulp. */
    double tol = 16.0 * DBL_EPSILON;
    for (int k = 0; k < 2; k++) {
        CU_ASSERT(isfinite(mean[k]) && isfinite(comom[k]));
        CU_ASSERT(near(mean[k], want_mean[k], tol * 4.0, what));
        CU_ASSERT(near(comom[k] / st.wsum, want_c[k], tol * 4.0, what));
    }
    CU_ASSERT(isfinite(F[0]) && isfinite(lognorm) && isfinite(ess));
    CU_ASSERT(near(F[0], -1.25, tol * 4.0, what));
    CU_ASSERT(near(ess, 2.0, tol * 2.0, what));
    double want_ln = s[1] + log(2.0 / 5.0);
    CU_ASSERT(near(lognorm, want_ln, tol * fabs(want_ln), what));
}

static void test_extreme_scores(void)
{
    const double s1[5] = {-1.0e300, 1.0e300, -1.0e300, 5.0e299, 1.0e300};
    const double s2[5] = {-DBL_MAX, DBL_MAX, 0.0, -DBL_MAX, DBL_MAX};
    const double s3[5] = {-700.0, 700.0, 0.0, -700.0, 700.0};
    check_extreme(s1, "+-1e300", 0);
    check_extreme(s2, "+-DBL_MAX", 0);
    check_extreme(s3, "+-700", 0);

    /* A single top token reached last, after scores at -DBL_MAX: the
     * state must be that token alone, exactly. */
    const double Z[6] = {1.0, 2.0, 3.0, 4.0, -5.0, 6.0};
    const double s5[3] = {-DBL_MAX, -1.0e300, 1.0e300};
    double mean[2];
    sl_stream st;
    sl_stream_init(&st, 2, mean, NULL, NULL);
    for (int i = 0; i < 3; i++)
        sl_stream_push(&st, s5[i], Z + 2 * i);
    CU_ASSERT(near(mean[0], -5.0, 0.0, "top last"));
    CU_ASSERT(near(mean[1], 6.0, 0.0, "top last"));
    CU_ASSERT(near(st.wsum, 1.0, 0.0, "top last wsum"));
}

/* Push tokens [lo, hi) of pb into a fresh state with h. */
static void stream_range(sl_stream *st, const problem *pb, const double *a,
                         const double *h, double *mean, double *comom,
                         size_t lo, size_t hi)
{
    sl_stream_init(st, pb->D, mean, h, comom);
    for (size_t i = lo; i < hi; i++) {
        const double *z = pb->Z + i * pb->D;
        sl_stream_push(st, dot(pb->D, a, z), z);
    }
}

/* Two states agree: counts and maxima exactly, sums and means to the
 * header's bound. */
static void check_states(const sl_stream *got, const sl_stream *want,
                         double zmax, double tmax, const char *what)
{
    double n = (double)want->count;
    double tz = SL_STREAM_AGREE_EPS * n * zmax;
    CU_ASSERT(got->count == want->count);
    CU_ASSERT(near(got->max, want->max, 0.0, what));
    CU_ASSERT(near(got->wsum, want->wsum, SL_STREAM_AGREE_EPS * n * want->wsum,
                   what));
    CU_ASSERT(
        near(got->wsq, want->wsq, SL_STREAM_AGREE_EPS * n * want->wsq, what));
    CU_ASSERT(
        near(got->tmean, want->tmean, SL_STREAM_AGREE_EPS * n * tmax, what));
    for (size_t k = 0; k < want->dim; k++) {
        CU_ASSERT(near(got->mean[k], want->mean[k], tz, what));
        if (want->comom != NULL)
            CU_ASSERT(near(got->comom[k], want->comom[k],
                           STREAM_COMOM_SLACK * tz * tmax * want->wsum, what));
    }
}

/* max_i |<h, z_i>| over the tokens of pb. */
static double t_max(const problem *pb, const double *h)
{
    double m = 0.0;
    for (size_t i = 0; i < pb->n; i++)
        m = fmax(m, fabs(dot(pb->D, h, pb->Z + i * pb->D)));
    return m;
}

/* Random tokens with a tilt of unit size; a and h = V^T g for them. */
static void merge_problem(problem *pb, double *a, double *h)
{
    make_problem(pb, 1000, 4, 3, 2, 1.0, 11);
    for (size_t k = 0; k < pb->D; k++) {
        a[k] = dot(pb->Dq, pb->W + k * pb->Dq, pb->x);
        h[k] = 0.0;
        for (size_t r = 0; r < pb->p; r++)
            h[k] += pb->V[r * pb->D + k] * pb->g[r];
    }
}

/* Merging the states of two parts (the first third and the rest) equals
 * one state over all tokens, in both orders (so that the destination
 * holds the larger maximum in one case and the smaller in the other). */
static void test_merge_halves(void)
{
    problem pb;
    double a[MD], h[MD];
    merge_problem(&pb, a, h);
    size_t n = pb.n, half = n / 3;
    double tmax = t_max(&pb, h);
    double zmax = maxabs(n * pb.D, pb.Z);

    double m_all[MD], c_all[MD], m1[MD], c1[MD], m2[MD], c2[MD];
    sl_stream all, s1, s2;
    stream_range(&all, &pb, a, h, m_all, c_all, 0, n);

    stream_range(&s1, &pb, a, h, m1, c1, 0, half);
    stream_range(&s2, &pb, a, h, m2, c2, half, n);
    CU_ASSERT(s1.max != s2.max);
    sl_stream_merge(&s1, &s2);
    check_states(&s1, &all, zmax, tmax, "merge first <- second");

    stream_range(&s1, &pb, a, h, m1, c1, 0, half);
    stream_range(&s2, &pb, a, h, m2, c2, half, n);
    sl_stream_merge(&s2, &s1);
    check_states(&s2, &all, zmax, tmax, "merge second <- first");
    free(pb.Z);
}

/* The source of a merge is left unchanged, bit for bit. */
static void test_merge_src_unchanged(void)
{
    problem pb;
    double a[MD], h[MD];
    merge_problem(&pb, a, h);
    double m1[MD], c1[MD], m2[MD], c2[MD], m_copy[MD], c_copy[MD];
    sl_stream s1, s2;
    stream_range(&s1, &pb, a, h, m1, c1, 0, 500);
    stream_range(&s2, &pb, a, h, m2, c2, 500, 1000);
    sl_stream copy = s2;
    memcpy(m_copy, m2, sizeof m2);
    memcpy(c_copy, c2, sizeof c2);
    sl_stream_merge(&s1, &s2);
    CU_ASSERT(memcmp(&copy, &s2, sizeof copy) == 0);
    CU_ASSERT(memcmp(m_copy, m2, sizeof m2) == 0);
    CU_ASSERT(memcmp(c_copy, c2, sizeof c2) == 0);
    free(pb.Z);
}

/* Folding an empty state changes nothing; folding into an empty state
 * copies the source.  The non-empty state has all scores negative, so a
 * merge that took the empty state's (meaningless) maximum would show. */
static void test_merge_empty(void)
{
    problem pb;
    double a[MD], h[MD];
    merge_problem(&pb, a, h);
    for (size_t i = 0; i < pb.n; i++) /* scores <= -1 */
        pb.Z[i * pb.D] = -1.0 - fabs(pb.Z[i * pb.D]);
    for (size_t k = 0; k < pb.D; k++)
        a[k] = k == 0 ? 1.5 : 0.0;
    double zmax = maxabs(pb.n * pb.D, pb.Z), tmax = t_max(&pb, h);

    double m_all[MD], c_all[MD], m1[MD], c1[MD], m0[MD], c0[MD];
    sl_stream all, full, empty;
    stream_range(&all, &pb, a, h, m_all, c_all, 0, pb.n);

    stream_range(&full, &pb, a, h, m1, c1, 0, pb.n);
    stream_range(&empty, &pb, a, h, m0, c0, 0, 0);
    sl_stream_merge(&full, &empty);
    check_states(&full, &all, zmax, tmax, "merge <- empty");

    stream_range(&full, &pb, a, h, m1, c1, 0, pb.n);
    stream_range(&empty, &pb, a, h, m0, c0, 0, 0);
    sl_stream_merge(&empty, &full);
    check_states(&empty, &all, zmax, tmax, "empty <- merge");
    free(pb.Z);
}

/* sl_stream_backward's dV and dW (and C_w h) equal sl_attn_backward's. */
static void test_backward_agree(void)
{
    const size_t sizes[3] = {7, 2000, 100000};
    for (int k = 0; k < 3; k++) {
        problem pb;
        results rs;
        make_problem(&pb, sizes[k], 4, 3, 2, 0.5, 20 + (uint64_t)k);
        run_both(&pb, &rs);
        char what[48];
        snprintf(what, sizeof what, "backward n = %zu", sizes[k]);
        check_backward(&pb, &rs, what);
        free(pb.Z);
    }
}

/* ---- Blocks (sl_stream_push_block, sl_stream_push_weighted) ---------- */

/* Push tokens [lo, hi) of pb in blocks of the given size (the last one
 * shorter) into a fresh state, with h or without (h == NULL). */
static void stream_blocks(sl_stream *st, const problem *pb, const double *a,
                          const double *h, double *mean, double *comom,
                          size_t lo, size_t hi, size_t block)
{
    double *s = xmalloc(block * sizeof(double));
    double *work = xmalloc((2 * pb->D + 2 * block) * sizeof(double));
    sl_stream_init(st, pb->D, mean, h, h != NULL ? comom : NULL);
    for (size_t i = lo; i < hi; i += block) {
        size_t nb = hi - i < block ? hi - i : block;
        for (size_t j = 0; j < nb; j++)
            s[j] = dot(pb->D, a, pb->Z + (i + j) * pb->D);
        sl_stream_push_block(st, nb, s, pb->Z + i * pb->D, work);
    }
    free(work);
    free(s);
}

/* Blocks of 1, 3, 4, 7 and 256 tokens give the state of one-by-one
 * pushes, to the header's bound, for prompts of 1 to 30000 tokens, with
 * and without h. */
static void test_push_block_agrees(void)
{
    const size_t sizes[] = {1, 5, 256, 1000, 30000};
    const size_t blocks[] = {1, 3, 4, 7, 256};
    for (size_t u = 0; u < sizeof sizes / sizeof sizes[0]; u++) {
        problem pb;
        double a[MD], h[MD];
        make_problem(&pb, sizes[u], 4, 3, 2, 1.0, 40 + (uint64_t)u);
        for (size_t k = 0; k < pb.D; k++) {
            a[k] = dot(pb.Dq, pb.W + k * pb.Dq, pb.x);
            h[k] = 0.0;
            for (size_t r = 0; r < pb.p; r++)
                h[k] += pb.V[r * pb.D + k] * pb.g[r];
        }
        double tmax = t_max(&pb, h), zmax = maxabs(pb.n * pb.D, pb.Z);
        double m1[MD], c1[MD], m2[MD], c2[MD];
        sl_stream one, blk;
        stream_range(&one, &pb, a, h, m1, c1, 0, pb.n);
        for (size_t v = 0; v < sizeof blocks / sizeof blocks[0]; v++) {
            char what[64];
            snprintf(what, sizeof what, "n = %zu, blocks of %zu", pb.n,
                     blocks[v]);
            stream_blocks(&blk, &pb, a, h, m2, c2, 0, pb.n, blocks[v]);
            check_states(&blk, &one, zmax, tmax, what);
            stream_blocks(&blk, &pb, a, NULL, m2, c2, 0, pb.n, blocks[v]);
            CU_ASSERT(blk.comom == NULL);
            for (size_t k = 0; k < pb.D; k++)
                CU_ASSERT(near(m2[k], m1[k],
                               SL_STREAM_AGREE_EPS * (double)pb.n * zmax,
                               what));
        }
        free(pb.Z);
    }
}

/* Scores rising or falling by 0.7 or 40 per token, in blocks of 7: new
 * maxima inside blocks and across them; against the two-pass kernels. */
static void test_push_block_monotone(void)
{
    enum { N = 60, B = 7 };
    for (int inc = 0; inc < 2; inc++) {
        for (int u = 0; u < 2; u++) {
            double step = u == 0 ? 0.7 : 40.0;
            problem pb;
            make_problem(&pb, N, 4, 1, 2, 1.0, 7);
            memset(pb.W, 0, sizeof pb.W);
            pb.W[0] = step;
            pb.x[0] = 1.0;
            for (size_t i = 0; i < N; i++)
                pb.Z[i * 4] = inc ? (double)i : (double)(N - 1 - i);
            results rs;
            run_both(&pb, &rs);
            /* The same tokens again, in blocks, over the one-pass results:
             * then both routes are compared with the two-pass ones. */
            double a[MD], h[MD], comom[MD];
            for (size_t k = 0; k < pb.D; k++) {
                a[k] = k == 0 ? step : 0.0;
                h[k] = pb.V[k] * pb.g[0] + pb.V[pb.D + k] * pb.g[1];
            }
            sl_stream st;
            stream_blocks(&st, &pb, a, h, rs.mean, comom, 0, N, B);
            sl_stream_finish(&st, pb.p, pb.V, rs.sF, &rs.slognorm, &rs.sess);
            sl_stream_backward(&st, pb.p, pb.Dq, pb.g, pb.x, rs.sdV, rs.sdW);
            for (size_t k = 0; k < pb.D; k++)
                rs.sc[k] = comom[k] / st.wsum;
            rs.smax = st.max;
            rs.scount = st.count;
            char what[64];
            snprintf(what, sizeof what, "blocks, %s, step %g",
                     inc ? "increasing" : "decreasing", step);
            check_forward(&pb, &rs, what);
            check_backward(&pb, &rs, what);
            free(pb.Z);
        }
    }
}

/* The extreme scores of check_extreme, in one block of 5 and in blocks
 * of 2 (the top score twice in the first block, then alone). */
static void test_push_block_extreme(void)
{
    const double s1[5] = {-1.0e300, 1.0e300, -1.0e300, 5.0e299, 1.0e300};
    const double s2[5] = {-DBL_MAX, DBL_MAX, 0.0, -DBL_MAX, DBL_MAX};
    const double s3[5] = {-700.0, 700.0, 0.0, -700.0, 700.0};
    for (size_t block = 2; block <= 5; block += 3) {
        check_extreme(s1, "blocks, +-1e300", block);
        check_extreme(s2, "blocks, +-DBL_MAX", block);
        check_extreme(s3, "blocks, +-700", block);
    }
}

/* Weights as the engine passes them, one underflowed to 0: that token
 * has no effect, and the count still includes it. */
static void test_push_weighted_zero_weight(void)
{
    const double Z[6] = {1.0, 2.0, 100.0, -100.0, 3.0, -4.0};
    const double e[3] = {1.0, 0.0, 0.5};
    const double h[2] = {1.0, 1.0};
    double mean[2], comom[2], work[2 * 2 + 3];
    sl_stream st;
    sl_stream_init(&st, 2, mean, h, comom);
    sl_stream_push_weighted(&st, 3, 2.5, e, Z, work);
    /* mean = (z0 + z2 / 2) / 1.5 = (5/3, 0); t = (3, -1): tmean = 5/3 */
    double tol = 8.0 * DBL_EPSILON;
    CU_ASSERT(st.count == 3 && st.max == 2.5);
    CU_ASSERT(near(st.wsum, 1.5, 0.0, "zero weight: wsum"));
    CU_ASSERT(near(st.wsq, 1.25, 0.0, "zero weight: wsq"));
    CU_ASSERT(near(mean[0], 5.0 / 3.0, tol, "zero weight: mean"));
    CU_ASSERT(near(mean[1], 0.0, tol, "zero weight: mean"));
    /* comom = 1 (z0 - m)(3 - 5/3) + 0.5 (z2 - m)(-1 - 5/3) */
    double c0 = (1.0 - 5.0 / 3.0) * (4.0 / 3.0) +
                0.5 * (3.0 - 5.0 / 3.0) * (-8.0 / 3.0);
    double c1 = 2.0 * (4.0 / 3.0) + 0.5 * (-4.0) * (-8.0 / 3.0);
    CU_ASSERT(near(comom[0], c0, tol * 8.0, "zero weight: comom"));
    CU_ASSERT(near(comom[1], c1, tol * 8.0, "zero weight: comom"));
}

void register_stream_suite(void)
{
    CU_pSuite s = CU_add_suite("stream", NULL, NULL);
    testing_add(s, "agree_two_pass", test_agree_two_pass);
    testing_add(s, "push_increasing", test_push_increasing);
    testing_add(s, "push_decreasing", test_push_decreasing);
    testing_add(s, "extreme_scores", test_extreme_scores);
    testing_add(s, "merge_halves", test_merge_halves);
    testing_add(s, "merge_src_unchanged", test_merge_src_unchanged);
    testing_add(s, "merge_empty", test_merge_empty);
    testing_add(s, "backward_agree", test_backward_agree);
    testing_add(s, "push_block_agrees", test_push_block_agrees);
    testing_add(s, "push_block_monotone", test_push_block_monotone);
    testing_add(s, "push_block_extreme", test_push_block_extreme);
    testing_add(s, "push_weighted_zero_weight", test_push_weighted_zero_weight);
}
