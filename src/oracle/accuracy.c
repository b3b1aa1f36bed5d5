/* accuracy.c -- every kernel against its MPFR oracle and its budget, case
 * by seeded case (accuracy.h).
 *
 * A case is three steps: draw (sizes, then inputs, from stream (seed,
 * index); adversarial families every SL_ACC_ADVERSARIAL_EVERY-th case),
 * run (kernel, oracle at prec bits, budget, Arb from prec + 64 bits up),
 * and compare (per output, the entry of largest error / budget and the
 * entry of largest error).  A sweep folds the cases into one row per
 * output.
 *
 * The random inputs keep to the kernels' contracts: finite, no overflow
 * of any intermediate product (|a_k z_ik| stays below 1e20), positive
 * masses, symmetric positive definite covariances.  The adversarial
 * families are the hard inputs of spec/ACCURACY.md and of the oracle
 * suite, with drawn sizes:
 *
 *   scores     huge logits (+-720, +-1e300, +-DBL_MAX), near ties (one
 *              ulp apart at 1, 1e300 or a random point), cancellation (a
 *              large common offset, small spread), underflowing weights,
 *              one dominant score (log-sum-exp's log1p branch)
 *   attention  far tokens near 1e8 with a cancelling V, scores of several
 *              hundred, scores spread over 1e4 (underflow), tokens equal
 *              but for one ulp; the gradient uses the same families
 *   stream     far tokens with scores rising at every push (a rescale each
 *              step), large scores, underflowing weights, near ties; the
 *              stream carries a direction h for its co-moment
 *   linear     far tokens (up to 1e6), a cancelling V
 *   limits     a large mean (up to 1e6), a cancelling V, an
 *              ill-conditioned covariance
 *
 * Precision: the observed error of an entry is |got - exact| computed
 * exactly and rounded up (sl_oracle_abs_err); the oracle is itself within
 * about 2^-(prec - 60) of the output's scale, and the Arb column
 * certifies, for every output, that it is within 2^-60 of the larger of
 * the output and its budget (accuracy.h).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/attention.h"
#include "kernels/gradient.h"
#include "kernels/limit.h"
#include "kernels/linear.h"
#include "kernels/softmax.h"
#include "kernels/stream.h"
#include "oracle/accuracy.h"
#include "oracle/budget.h"
#include "oracle/oracle_arb.h"
#include "oracle/oracle_mpfr.h"
#include "random/rng.h"

/* Largest sizes drawn; sizes are log-uniform, so most cases are small
 * and the sweep stays fast (200 cases of every kernel in seconds). */
#define ACC_SCORES_MAX_N 20000
#define ACC_ATTN_MAX_N   5000
#define ACC_STREAM_MAX_N 10000
#define ACC_LINEAR_MAX_N 10000
#define ACC_MAX_D        16
#define ACC_LIMIT_MAX_D  32
#define ACC_MAX_DQ       6
#define ACC_MAX_P        4

/* Arb: a ball is narrow enough when its radius is below 2^-64 of
 * max(|mid|, budget), four bits inside the check's 2^-60; the precision
 * doubles from the starting one until it is, up to ACC_ARB_MAX_BITS. */
#define ACC_ARB_NARROW_EXP (-64)
#define ACC_ARB_MAX_BITS   4096

/* Distance of far tokens from 0: 1e8 with unit spread keeps 8 digits of
 * the spread, the hardest case the budgets of ACCURACY.md were shown on. */
#define ACC_FAR 1e8

/* ---- names ------------------------------------------------------------ */

static const char *const kernel_names[SL_ACC_NKERNELS] = {
    "softmax", "logsumexp",    "attention", "stream",
    "linear",  "linear_limit", "limit",     "gradient"};

static const char *const output_names[SL_ACC_NKERNELS][SL_ACC_MAX_OUTPUTS] = {
    {"w"},
    {"lse"},
    {"w", "zbar", "F", "lognorm"},
    {"mean", "F", "lognorm", "comom", "ess"},
    {"u", "L"},
    {"u", "L"},
    {"mu", "F", "quad", "h", "c", "dV", "dW"},
    {"h", "C_w_h", "dV", "dW", "e2e_c", "e2e_dV", "e2e_dW"}};

static const size_t output_counts[SL_ACC_NKERNELS] = {1, 1, 4, 5, 2, 2, 7, 7};

/* The adversarial families of each kernel, taken in turn. */
static const char *const score_families[] = {
    "huge logits", "near ties", "cancellation", "underflow", "dominant"};
static const char *const attn_families[] = {"far tokens", "huge logits",
                                            "underflow", "near ties"};
static const char *const stream_families[] = {"far rising", "huge logits",
                                              "underflow", "near ties"};
static const char *const linear_families[] = {"far tokens", "cancelling V"};
static const char *const limit_families[] = {"large mean", "cancelling V",
                                             "ill-conditioned S"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *sl_acc_kernel_name(sl_acc_kernel k)
{
    return (unsigned)k < SL_ACC_NKERNELS ? kernel_names[k] : "?";
}

int sl_acc_kernel_parse(const char *name, sl_acc_kernel *k)
{
    for (int i = 0; i < SL_ACC_NKERNELS; i++) {
        if (name != NULL && strcmp(name, kernel_names[i]) == 0) {
            *k = (sl_acc_kernel)i;
            return 0;
        }
    }
    return -1;
}

size_t sl_acc_output_count(sl_acc_kernel k)
{
    return (unsigned)k < SL_ACC_NKERNELS ? output_counts[k] : 0;
}

const char *sl_acc_output_name(sl_acc_kernel k, size_t j)
{
    return j < sl_acc_output_count(k) ? output_names[k][j] : "?";
}

void sl_acc_opts_default(sl_acc_opts *o)
{
    o->seed = 1;
    o->cases = 200;
    o->prec = 256;
    o->arb = 1;
    o->softmax = NULL;
    o->inject_rel = 0.0;
}

/* ---- comparing -------------------------------------------------------- */

int sl_acc_compare(double got, mpfr_srcptr exact, double budget,
                   sl_acc_entry *e)
{
    e->got = got;
    e->exact = mpfr_get_d(exact, MPFR_RNDN);
    e->budget = budget;
    e->error = isfinite(got) ? sl_oracle_abs_err(got, exact) : INFINITY;
    if (budget > 0.0)
        e->ratio = e->error / budget;
    else
        e->ratio = e->error > 0.0 ? INFINITY : 0.0;
    if (isnan(e->ratio))
        e->ratio = INFINITY;
    return e->error <= budget;
}

static void out_init(sl_acc_output *o, const char *name)
{
    memset(o, 0, sizeof *o);
    o->name = name;
    o->arb = SL_ACC_ARB_NONE;
}

/* Compare entry idx of an output; the injected error, when asked for,
 * moves got by inject_rel relative first. */
static void out_add(sl_acc_output *o, const sl_acc_opts *opt, size_t idx,
                    double got, mpfr_srcptr exact, double budget)
{
    sl_acc_entry e;
    got *= 1.0 + opt->inject_rel;
    if (!sl_acc_compare(got, exact, budget, &e))
        o->over++;
    e.index = idx;
    if (o->size == 0 || e.ratio > o->worst.ratio)
        o->worst = e;
    if (o->size == 0 || e.error > o->largest.error)
        o->largest = e;
    o->size++;
}

/* k entries with per-entry budgets. */
static void out_vec(sl_acc_output *o, const sl_acc_opts *opt, size_t k,
                    const double *got, mpfr_t *exact, const double *budget)
{
    for (size_t i = 0; i < k; i++)
        out_add(o, opt, i, got[i], exact[i], budget[i]);
}

/* Certify one oracle value x by its Arb ball at the given scale. */
static void out_arb(sl_acc_output *o, const arb_t ball, mpfr_srcptr x,
                    double scale)
{
    double e = sl_arb_mpfr_err(ball, x, scale);
    if (o->arb == SL_ACC_ARB_NONE)
        o->arb = SL_ACC_ARB_AGREE;
    if (!sl_arb_check_mpfr(ball, x, scale))
        o->arb = SL_ACC_ARB_DISAGREE;
    o->arb_err = e > o->arb_err ? e : o->arb_err;
}

/* ---- inputs ----------------------------------------------------------- */

/* One case's inputs, in one block; every kernel reads the part it needs. */
typedef struct acc_in {
    size_t n, D, Dq, p;
    double *s;  /* scores (n) */
    double *Z;  /* tokens (n x D) */
    double *W;  /* D x Dq */
    double *V;  /* p x D */
    double *x;  /* query (Dq) */
    double *pi; /* masses (n) or NULL */
    double *m;  /* mean (D) */
    double *S;  /* covariance (D x D) */
    double *h;  /* the stream's direction (D) */
    double *g;  /* loss gradient (p) */
    double *block;
} acc_in;

static sl_status in_alloc(acc_in *in, size_t n, size_t D, size_t Dq, size_t p)
{
    size_t total = 2 * n + n * D + D * Dq + p * D + Dq + 2 * D + D * D + p;
    in->block = calloc(total, sizeof(double));
    if (in->block == NULL)
        return SL_ENOMEM;
    in->n = n;
    in->D = D;
    in->Dq = Dq;
    in->p = p;
    in->s = in->block;
    in->Z = in->s + n;
    in->W = in->Z + n * D;
    in->V = in->W + D * Dq;
    in->x = in->V + p * D;
    in->m = in->x + Dq;
    in->S = in->m + D;
    in->h = in->S + D * D;
    in->g = in->h + D;
    in->pi = NULL; /* in->g + p when used */
    return SL_OK;
}

/* An integer in [lo, hi], log-uniform. */
static size_t draw_size(sl_rng *r, size_t lo, size_t hi)
{
    double l = log((double)lo), h = log((double)hi + 1.0);
    size_t k = (size_t)exp(l + (h - l) * sl_rng_uniform(r));
    return k < lo ? lo : (k > hi ? hi : k);
}

/* A double in [lo, hi], log-uniform. */
static double draw_log(sl_rng *r, double lo, double hi)
{
    double l = log(lo), h = log(hi);
    return exp(l + (h - l) * sl_rng_uniform(r));
}

static double draw_sign(sl_rng *r)
{
    return sl_rng_uniform(r) < 0.5 ? -1.0 : 1.0;
}

/* An index in [0, k). */
static size_t draw_index(sl_rng *r, size_t k)
{
    size_t i = (size_t)(sl_rng_uniform(r) * (double)k);
    return i < k ? i : k - 1;
}

static void draw_normals(sl_rng *r, size_t k, double scale, double *out)
{
    sl_rng_normal(r, k, out);
    for (size_t i = 0; i < k; i++)
        out[i] *= scale;
}

/* x moved by one ulp down (-1), not at all (0) or up (+1). */
static double ulp_step(double x, int step)
{
    if (step < 0)
        return nextafter(x, -INFINITY);
    return step > 0 ? nextafter(x, INFINITY) : x;
}

/* V with rows of alternating signs, so V y cancels for y of equal
 * entries. */
static void cancelling_v(size_t p, size_t D, double *V)
{
    for (size_t i = 0; i < p * D; i++)
        V[i] = i % 2 ? 1.0 : -1.0;
}

/* A symmetric positive definite S = scale (B B^T / D + I / 2); B (D x D)
 * is scratch. */
static void draw_spd(sl_rng *r, size_t D, double scale, double *S, double *B)
{
    draw_normals(r, D * D, 1.0, B);
    for (size_t i = 0; i < D; i++) {
        for (size_t j = 0; j <= i; j++) {
            double acc = i == j ? 0.5 : 0.0;
            for (size_t k = 0; k < D; k++)
                acc += B[i * D + k] * B[j * D + k] / (double)D;
            S[i * D + j] = S[j * D + i] = scale * acc;
        }
    }
}

/* Scores of family fam (score_families) into s (n). */
static void scores_family(sl_rng *r, size_t fam, size_t n, double *s)
{
    static const double huge[] = {720.0, 1e300, DBL_MAX};
    double base, spread;
    switch (fam) {
    case 0: /* huge logits: the naive exp overflows, differences may too */
        base = huge[draw_index(r, COUNT(huge))];
        for (size_t i = 0; i < n; i++)
            s[i] = draw_sign(r) * base * (1.0 - 0.05 * sl_rng_uniform(r));
        break;
    case 1: /* near ties, one ulp apart */
        switch (draw_index(r, 3)) {
        case 0:
            base = 1.0;
            break;
        case 1:
            base = 1e300;
            break;
        default:
            draw_normals(r, 1, 100.0, &base);
            break;
        }
        for (size_t i = 0; i < n; i++)
            s[i] = ulp_step(base, (int)draw_index(r, 3) - 1);
        break;
    case 2: /* cancellation: s_i - max cancels a large common offset */
        base = draw_sign(r) * draw_log(r, 1e6, 1e15);
        spread = draw_log(r, 1e-3, 10.0);
        draw_normals(r, n, spread, s);
        for (size_t i = 0; i < n; i++)
            s[i] += base;
        break;
    case 3: /* underflow: weights down to subnormals and zero */
        for (size_t i = 0; i < n; i++)
            s[i] = -draw_log(r, 1.0, 1e5);
        s[0] = 0.0;
        break;
    default: /* one dominant score: log-sum-exp's log1p branch */
        for (size_t i = 0; i < n; i++)
            s[i] = -draw_log(r, 1e-3, 40.0);
        s[0] = 20.0 + 40.0 * sl_rng_uniform(r);
        break;
    }
}

/* softmax, logsumexp. */
static sl_status draw_scores(sl_rng *r, int adv, size_t fam, acc_in *in)
{
    size_t hi = adv && fam == 0 ? 64 : ACC_SCORES_MAX_N;
    size_t n = draw_size(r, adv ? 2 : 1, hi);
    sl_status st = in_alloc(in, n, 1, 1, 1);
    if (st != SL_OK)
        return st;
    if (adv) {
        scores_family(r, fam, n, in->s);
    } else {
        double scale = draw_log(r, 1e-3, 300.0), offset;
        draw_normals(r, 1, 10.0, &offset);
        draw_normals(r, n, scale, in->s);
        for (size_t i = 0; i < n; i++)
            in->s[i] += offset;
    }
    return SL_OK;
}

/* Tokens, W, V, x, masses, g: attention and gradient. */
static sl_status draw_attn(sl_rng *r, int adv, size_t fam, acc_in *in)
{
    size_t n = draw_size(r, 1, ACC_ATTN_MAX_N), D = draw_size(r, 1, ACC_MAX_D);
    size_t Dq = draw_size(r, 1, ACC_MAX_DQ), p = draw_size(r, 1, ACC_MAX_P);
    int with_pi = sl_rng_uniform(r) < 0.5;
    sl_status st = in_alloc(in, n, D, Dq, p);
    if (st != SL_OK)
        return st;
    double zs = draw_log(r, 0.1, 10.0), ws = draw_log(r, 0.01, 3.0);
    draw_normals(r, n * D, zs, in->Z);
    draw_normals(r, D * Dq, ws / sqrt((double)D), in->W);
    draw_normals(r, p * D, 1.0, in->V);
    draw_normals(r, Dq, 1.0, in->x);
    draw_normals(r, p, 1.0, in->g);
    if (with_pi) {
        in->pi = in->g + p;
        for (size_t i = 0; i < n; i++)
            in->pi[i] = 0.01 + 0.99 * sl_rng_uniform(r);
    }
    if (!adv)
        return SL_OK;
    switch (fam) {
    case 0: /* far tokens, cancelling V, scores O(1) */
        for (size_t i = 0; i < n * D; i++)
            in->Z[i] = ACC_FAR + in->Z[i] / zs;
        for (size_t i = 0; i < D * Dq; i++)
            in->W[i] /= ACC_FAR;
        cancelling_v(p, D, in->V);
        break;
    case 1: /* scores of several hundred: exp(s) alone overflows */
        for (size_t i = 0; i < D * Dq; i++)
            in->W[i] *= 400.0 / (ws * zs);
        break;
    case 2: /* scores spread over 1e4: most weights underflow */
        for (size_t i = 0; i < D * Dq; i++)
            in->W[i] *= 5000.0 / (ws * zs);
        break;
    default: { /* all tokens equal but one entry, one ulp away */
        double c;
        draw_normals(r, 1, zs, &c);
        for (size_t i = 0; i < n * D; i++)
            in->Z[i] = c;
        size_t i = draw_index(r, n * D);
        in->Z[i] = ulp_step(c, sl_rng_uniform(r) < 0.5 ? -1 : 1);
        break;
    }
    }
    return SL_OK;
}

static sl_status draw_stream(sl_rng *r, int adv, size_t fam, acc_in *in)
{
    size_t n = draw_size(r, 1, ACC_STREAM_MAX_N);
    size_t D = draw_size(r, 1, ACC_MAX_D), p = draw_size(r, 1, ACC_MAX_P);
    sl_status st = in_alloc(in, n, D, 1, p);
    if (st != SL_OK)
        return st;
    double amp = draw_log(r, 0.01, 300.0), base, step;
    draw_normals(r, n, amp, in->s);
    draw_normals(r, n * D, 1.0, in->Z);
    draw_normals(r, p * D, 1.0, in->V);
    draw_normals(r, D, 1.0, in->h);
    if (!adv)
        return SL_OK;
    switch (fam) {
    case 0: /* far tokens, cancelling V, a new maximum at every push: each
             * step at least half of `step` above the last, which is far
             * above an ulp of the scores (at most 1.5 n step) */
        for (size_t i = 0; i < n * D; i++)
            in->Z[i] += ACC_FAR;
        cancelling_v(p, D, in->V);
        step = draw_log(r, 1e-8, 3.0);
        in->s[0] = 0.0;
        for (size_t i = 1; i < n; i++)
            in->s[i] = in->s[i - 1] + step * (0.5 + sl_rng_uniform(r));
        break;
    case 1: /* large scores of both signs */
        for (size_t i = 0; i < n; i++)
            in->s[i] = draw_sign(r) * draw_log(r, 700.0, 1e4);
        break;
    case 2: /* scores spread over 1e5: weights underflow */
        for (size_t i = 0; i < n; i++)
            in->s[i] = -draw_log(r, 1.0, 1e5);
        break;
    default: /* near ties, one ulp apart */
        draw_normals(r, 1, 100.0, &base);
        for (size_t i = 0; i < n; i++)
            in->s[i] = ulp_step(base, (int)draw_index(r, 3) - 1);
        break;
    }
    return SL_OK;
}

static sl_status draw_linear(sl_rng *r, int adv, size_t fam, acc_in *in)
{
    size_t n = draw_size(r, 1, ACC_LINEAR_MAX_N);
    size_t D = draw_size(r, 1, ACC_MAX_D), Dq = draw_size(r, 1, ACC_MAX_DQ);
    size_t p = draw_size(r, 1, ACC_MAX_P);
    sl_status st = in_alloc(in, n, D, Dq, p);
    if (st != SL_OK)
        return st;
    double zs = draw_log(r, 0.1, 10.0), shift = 0.0;
    draw_normals(r, n * D, zs, in->Z);
    draw_normals(r, D * Dq, 1.0 / sqrt((double)D), in->W);
    draw_normals(r, p * D, 1.0, in->V);
    draw_normals(r, Dq, 1.0, in->x);
    if (!adv)
        return SL_OK;
    if (fam == 0) {
        shift = draw_sign(r) * draw_log(r, 1e2, 1e6);
    } else {
        shift = 1e4;
        cancelling_v(p, D, in->V);
    }
    for (size_t i = 0; i < n * D; i++)
        in->Z[i] += shift;
    return SL_OK;
}

/* linear_limit, limit: m, S, W, V, x, g.  The block is allocated with
 * n = D, so that the unused tokens (D x D) are draw_spd's scratch. */
static sl_status draw_limit(sl_rng *r, int adv, size_t fam, acc_in *in)
{
    size_t D = draw_size(r, 1, ACC_LIMIT_MAX_D);
    size_t Dq = draw_size(r, 1, ACC_MAX_DQ), p = draw_size(r, 1, ACC_MAX_P);
    sl_status st = in_alloc(in, D, D, Dq, p);
    if (st != SL_OK)
        return st;
    double ms = draw_log(r, 0.01, 10.0), ss = draw_log(r, 1e-2, 1e2);
    draw_normals(r, D, ms, in->m);
    draw_normals(r, D * Dq, 1.0 / sqrt((double)D), in->W);
    draw_normals(r, p * D, 1.0, in->V);
    draw_normals(r, Dq, 1.0, in->x);
    draw_normals(r, p, 1.0, in->g);
    draw_spd(r, D, ss, in->S, in->Z);
    if (!adv)
        return SL_OK;
    switch (fam) {
    case 0: { /* a large mean */
        double big = draw_log(r, 1e3, 1e6);
        for (size_t k = 0; k < D; k++)
            in->m[k] *= big / ms;
        break;
    }
    case 1: /* equal large means, cancelling V */
        for (size_t k = 0; k < D; k++)
            in->m[k] += 1e4;
        cancelling_v(p, D, in->V);
        break;
    default: { /* S = 1e4 v v^T + 1e-6 I: condition number ~1e10 */
        double v[ACC_LIMIT_MAX_D];
        draw_normals(r, D, 1.0, v);
        for (size_t i = 0; i < D; i++) {
            for (size_t j = 0; j < D; j++)
                in->S[i * D + j] = 1e4 * v[i] * v[j] + (i == j ? 1e-6 : 0.0);
        }
        break;
    }
    }
    return SL_OK;
}

/* ---- runs ------------------------------------------------------------- */

/* What a run needs besides its inputs. */
typedef struct acc_ctx {
    const sl_acc_opts *opt;
    mpfr_prec_t prec; /* MPFR bits */
    slong aprec;      /* Arb bits to start at */
} acc_ctx;

/* Doubles for a run's outputs and budgets, one block. */
static double *dblock(size_t n)
{
    return calloc(n > 0 ? n : 1, sizeof(double));
}

/* n MPFR vectors of the given sizes; 0 when memory runs out (all freed). */
static int mpvecs_new(size_t k, const size_t *sizes, mpfr_t **v,
                      mpfr_prec_t prec)
{
    for (size_t i = 0; i < k; i++) {
        v[i] = sl_mpvec_new(sizes[i], prec);
        if (v[i] == NULL) {
            for (size_t j = 0; j < i; j++)
                sl_mpvec_free(sizes[j], v[j]);
            return 0;
        }
    }
    return 1;
}

static void mpvecs_free(size_t k, const size_t *sizes, mpfr_t **v)
{
    for (size_t i = 0; i < k; i++)
        sl_mpvec_free(sizes[i], v[i]);
}

/* ---- Arb jobs ---------------------------------------------------------- */

/* One output's share of a job's balls: count consecutive balls that
 * enclose the oracle values x, each judged at its budget (budget[i], or
 * *budget for all when one_budget). */
typedef struct arb_part {
    size_t out;
    size_t count;
    mpfr_t *x;
    const double *budget;
    int one_budget;
} arb_part;

struct arb_job;
typedef void (*arb_fill_fn)(const struct arb_job *job, arb_ptr b, slong prec);

/* The Arb enclosures of one case: fill computes all nballs balls at a
 * given precision, in the order of the parts; fill reads the inputs and
 * the kernel's own outputs that its enclosure starts from. */
typedef struct arb_job {
    const acc_in *in;
    const double *w, *zb, *mu, *a; /* where the enclosure needs them */
    arb_fill_fn fill;
    size_t nballs, nparts;
    arb_part part[SL_ACC_MAX_OUTPUTS];
} arb_job;

static void job_part(arb_job *job, size_t out, size_t count, mpfr_t *x,
                     const double *budget, int one_budget)
{
    arb_part *q = &job->part[job->nparts++];
    q->out = out;
    q->count = count;
    q->x = x;
    q->budget = budget;
    q->one_budget = one_budget;
    job->nballs += count;
}

static double part_budget(const arb_part *q, size_t i)
{
    return q->one_budget ? q->budget[0] : q->budget[i];
}

/* 1 when ball b is narrower than 2^ACC_ARB_NARROW_EXP of max(|mid|,
 * budget): then the check is decided by the MPFR value, not by Arb. */
static int ball_narrow(const arb_t b, double budget)
{
    arf_t r, lim;
    arf_init(r);
    arf_init(lim);
    arf_abs(lim, arb_midref(b));
    arf_set_d(r, budget);
    if (arf_cmp(r, lim) > 0)
        arf_set(lim, r);
    arf_mul_2exp_si(lim, lim, ACC_ARB_NARROW_EXP);
    arf_set_mag(r, arb_radref(b));
    int ok = arf_cmp(r, lim) <= 0;
    arf_clear(r);
    arf_clear(lim);
    return ok;
}

/* The job's balls, at cx->aprec bits and then at twice as many, up to
 * ACC_ARB_MAX_BITS, until every ball is narrow (ball_narrow): a
 * co-moment or log-normaliser that cancels far below its terms needs more
 * bits than the default to be enclosed at the size of its budget.  (FLINT
 * aborts when memory runs out.) */
static arb_ptr job_balls(const arb_job *job, const acc_ctx *cx)
{
    arb_ptr b = _arb_vec_init((slong)(job->nballs > 0 ? job->nballs : 1));
    for (slong prec = cx->aprec;; prec *= 2) {
        int narrow = 1;
        size_t off = 0;
        job->fill(job, b, prec);
        for (size_t j = 0; j < job->nparts; j++) {
            const arb_part *q = &job->part[j];
            for (size_t i = 0; narrow && i < q->count; i++)
                narrow = ball_narrow(b + off + i, part_budget(q, i));
            off += q->count;
        }
        if (narrow || 2 * prec > ACC_ARB_MAX_BITS)
            break;
    }
    return b;
}

static void job_balls_free(const arb_job *job, arb_ptr b)
{
    _arb_vec_clear(b, (slong)(job->nballs > 0 ? job->nballs : 1));
}

/* Certify every oracle value of the job by its ball, at its budget. */
static void job_certify(const arb_job *job, arb_srcptr b, sl_acc_case *c)
{
    size_t off = 0;
    for (size_t j = 0; j < job->nparts; j++) {
        const arb_part *q = &job->part[j];
        for (size_t i = 0; i < q->count; i++)
            out_arb(&c->out[q->out], b + off + i, q->x[i], part_budget(q, i));
        off += q->count;
    }
}

/* Run the job when Arb is on. */
static void job_run(const arb_job *job, const acc_ctx *cx, sl_acc_case *c)
{
    if (!cx->opt->arb)
        return;
    arb_ptr b = job_balls(job, cx);
    job_certify(job, b, c);
    job_balls_free(job, b);
}

static arb_job job_make(const acc_in *in, arb_fill_fn fill)
{
    arb_job job;
    memset(&job, 0, sizeof job);
    job.in = in;
    job.fill = fill;
    return job;
}

/* ---- the kernels ------------------------------------------------------- */

static void fill_softmax(const arb_job *job, arb_ptr b, slong prec)
{
    sl_arb_softmax(job->in->n, job->in->s, b, prec);
}

static sl_status run_softmax(const acc_in *in, const acc_ctx *cx,
                             sl_acc_case *c)
{
    size_t n = in->n;
    double *w = dblock(n);
    mpfr_t *ex = sl_mpvec_new(n, cx->prec);
    sl_status st = SL_ENOMEM;
    if (w == NULL || ex == NULL)
        goto done;

    /* 1. Kernel (or the test's replacement), oracle, budget. */
    (cx->opt->softmax != NULL ? cx->opt->softmax : sl_softmax)(n, in->s, w);
    st = sl_oracle_softmax_mpfr(n, in->s, ex, cx->prec);
    if (st != SL_OK)
        goto done;
    double b = sl_budget_softmax(n, in->s);
    for (size_t i = 0; i < n; i++)
        out_add(&c->out[0], cx->opt, i, w[i], ex[i], b);

    /* 2. Arb. */
    arb_job job = job_make(in, fill_softmax);
    job_part(&job, 0, n, ex, &b, 1);
    job_run(&job, cx, c);
done:
    sl_mpvec_free(n, ex);
    free(w);
    return st;
}

static void fill_logsumexp(const arb_job *job, arb_ptr b, slong prec)
{
    sl_arb_logsumexp(job->in->n, job->in->s, b, prec);
}

static sl_status run_logsumexp(const acc_in *in, const acc_ctx *cx,
                               sl_acc_case *c)
{
    size_t n = in->n;
    mpfr_t ex;
    mpfr_init2(ex, cx->prec);
    sl_status st = sl_oracle_logsumexp_mpfr(n, in->s, ex, cx->prec);
    if (st == SL_OK) {
        double b = sl_budget_logsumexp(n, in->s);
        out_add(&c->out[0], cx->opt, 0, sl_logsumexp(n, in->s), ex, b);
        arb_job job = job_make(in, fill_logsumexp);
        job_part(&job, 0, 1, &ex, &b, 1);
        job_run(&job, cx, c);
    }
    mpfr_clear(ex);
    return st;
}

static void fill_attention(const arb_job *job, arb_ptr b, slong prec)
{
    const acc_in *in = job->in;
    size_t n = in->n, D = in->D;
    sl_arb_attn_forward(n, D, in->Dq, in->p, in->Z, in->W, in->V, in->x, in->pi,
                        b, b + n, b + n + D, b + n + D + in->p, prec);
}

static sl_status run_attention(const acc_in *in, const acc_ctx *cx,
                               sl_acc_case *c)
{
    size_t n = in->n, D = in->D, Dq = in->Dq, p = in->p;
    size_t sizes[3] = {n, D, p};
    mpfr_t *ex[3] = {NULL, NULL, NULL}, xl;
    double *blk = dblock(2 * n + 3 * D + 2 * p), ln, eln;
    sl_status st = SL_ENOMEM;
    mpfr_init2(xl, cx->prec);
    if (blk == NULL || !mpvecs_new(3, sizes, ex, cx->prec)) {
        ex[0] = NULL;
        goto done;
    }
    double *w = blk, *zb = w + n, *F = zb + D, *ew = F + p, *ez = ew + n;
    double *eF = ez + D, *a = eF + p;

    /* 1. Kernel, oracle, budget. */
    sl_attn_forward(n, D, Dq, p, in->Z, in->W, in->V, in->x, in->pi, a, w, zb,
                    F, &ln);
    st = sl_oracle_attn_forward_mpfr(n, D, Dq, p, in->Z, in->W, in->V, in->x,
                                     in->pi, NULL, ex[0], ex[1], ex[2], xl,
                                     cx->prec);
    if (st == SL_OK)
        st = sl_budget_attn(n, D, Dq, p, in->Z, in->W, in->V, in->x, in->pi, ew,
                            ez, eF, &eln);
    if (st != SL_OK)
        goto done;
    out_vec(&c->out[0], cx->opt, n, w, ex[0], ew);
    out_vec(&c->out[1], cx->opt, D, zb, ex[1], ez);
    out_vec(&c->out[2], cx->opt, p, F, ex[2], eF);
    out_add(&c->out[3], cx->opt, 0, ln, xl, eln);

    /* 2. Arb. */
    arb_job job = job_make(in, fill_attention);
    job_part(&job, 0, n, ex[0], ew, 0);
    job_part(&job, 1, D, ex[1], ez, 0);
    job_part(&job, 2, p, ex[2], eF, 0);
    job_part(&job, 3, 1, &xl, &eln, 1);
    job_run(&job, cx, c);
done:
    if (ex[0] != NULL)
        mpvecs_free(3, sizes, ex);
    mpfr_clear(xl);
    free(blk);
    return st;
}

/* Balls, in the order of the outputs: mean (D), F (p), lognorm, C_w h
 * (D), ess. */
static void fill_stream(const arb_job *job, arb_ptr b, slong prec)
{
    const acc_in *in = job->in;
    size_t D = in->D, p = in->p;
    sl_arb_stream(in->n, D, p, in->s, in->Z, in->V, in->h, b, b + D, b + D + p,
                  b + 2 * D + p + 1, b + D + p + 1, prec);
}

/* The stream with direction h: mean, F, lognorm, C_w h (as
 * sl_stream_backward forms it for dl/dW, here with x = 1) and ess. */
static sl_status run_stream(const acc_in *in, const acc_ctx *cx, sl_acc_case *c)
{
    size_t n = in->n, D = in->D, p = in->p;
    size_t sizes[3] = {D, p, D};
    mpfr_t *ex[3] = {NULL, NULL, NULL}, xl, xe;
    double *blk = dblock(5 * D + 2 * p + p * D), ln, eln, ess, eess;
    double one = 1.0;
    sl_status st = SL_ENOMEM;
    mpfr_inits2(cx->prec, xl, xe, (mpfr_ptr)0);
    if (blk == NULL || !mpvecs_new(3, sizes, ex, cx->prec)) {
        ex[0] = NULL;
        goto done;
    }
    double *mean = blk, *F = mean + D, *comom = F + p, *cw = comom + D;
    double *em = cw + D, *eF = em + D, *ecw = eF + p, *dV = ecw + D;

    /* 1. Kernel: push, finish, backward. */
    sl_stream sm;
    sl_stream_init(&sm, D, mean, in->h, comom);
    for (size_t i = 0; i < n; i++)
        sl_stream_push(&sm, in->s[i], in->Z + i * D);
    sl_stream_finish(&sm, p, in->V, F, &ln, &ess);
    sl_stream_backward(&sm, p, 1, in->g, &one, dV, cw);

    /* 2. Oracle (two-pass) and budgets. */
    st = sl_oracle_stream_mpfr(n, D, p, in->s, in->Z, in->V, in->h, ex[0],
                               ex[1], xl, xe, ex[2], cx->prec);
    if (st == SL_OK)
        st = sl_budget_stream(n, D, p, in->s, in->Z, in->V, em, eF, &eln);
    if (st == SL_OK)
        st = sl_budget_stream_comoment(n, D, in->s, in->Z, in->h, ecw, &eess);
    if (st != SL_OK)
        goto done;
    out_vec(&c->out[0], cx->opt, D, mean, ex[0], em);
    out_vec(&c->out[1], cx->opt, p, F, ex[1], eF);
    out_add(&c->out[2], cx->opt, 0, ln, xl, eln);
    out_vec(&c->out[3], cx->opt, D, cw, ex[2], ecw);
    out_add(&c->out[4], cx->opt, 0, ess, xe, eess);

    /* 3. Arb, in fill_stream's order. */
    arb_job job = job_make(in, fill_stream);
    job_part(&job, 0, D, ex[0], em, 0);
    job_part(&job, 1, p, ex[1], eF, 0);
    job_part(&job, 2, 1, &xl, &eln, 1);
    job_part(&job, 3, D, ex[2], ecw, 0);
    job_part(&job, 4, 1, &xe, &eess, 1);
    job_run(&job, cx, c);
done:
    if (ex[0] != NULL)
        mpvecs_free(3, sizes, ex);
    mpfr_clears(xl, xe, (mpfr_ptr)0);
    free(blk);
    return st;
}

static void fill_linear(const arb_job *job, arb_ptr b, slong prec)
{
    const acc_in *in = job->in;
    sl_arb_linear_forward(in->n, in->D, in->Dq, in->p, in->Z, in->W, in->V,
                          in->x, b, b + in->D, prec);
}

static void fill_linear_limit(const arb_job *job, arb_ptr b, slong prec)
{
    const acc_in *in = job->in;
    sl_arb_linear_limit_gauss(in->D, in->Dq, in->p, in->m, in->S, in->W, in->V,
                              in->x, b, b + in->D, prec);
}

/* linear (limit = 0) and linear_limit (limit = 1): outputs u (D), L (p). */
static sl_status run_linear(const acc_in *in, const acc_ctx *cx, sl_acc_case *c,
                            int limit)
{
    size_t n = in->n, D = in->D, Dq = in->Dq, p = in->p;
    size_t sizes[2] = {D, p};
    mpfr_t *ex[2] = {NULL, NULL};
    double *blk = dblock(3 * D + 2 * p);
    sl_status st = SL_ENOMEM;
    if (blk == NULL || !mpvecs_new(2, sizes, ex, cx->prec)) {
        ex[0] = NULL;
        goto done;
    }
    double *a = blk, *u = a + D, *L = u + D, *eu = L + p, *eL = eu + D;

    if (limit) {
        sl_linear_limit_gauss(D, Dq, p, in->m, in->S, in->W, in->V, in->x, a, u,
                              L);
        st = sl_oracle_linear_limit_gauss_mpfr(D, Dq, p, in->m, in->S, in->W,
                                               in->V, in->x, NULL, ex[0], ex[1],
                                               cx->prec);
        if (st == SL_OK)
            st = sl_budget_linear_limit_gauss(D, Dq, p, in->m, in->S, in->W,
                                              in->V, in->x, eu, eL);
    } else {
        sl_linear_forward(n, D, Dq, p, in->Z, in->W, in->V, in->x, a, u, L);
        st = sl_oracle_linear_forward_mpfr(n, D, Dq, p, in->Z, in->W, in->V,
                                           in->x, NULL, ex[0], ex[1], cx->prec);
        if (st == SL_OK)
            st = sl_budget_linear_forward(n, D, Dq, p, in->Z, in->W, in->V,
                                          in->x, eu, eL);
    }
    if (st != SL_OK)
        goto done;
    out_vec(&c->out[0], cx->opt, D, u, ex[0], eu);
    out_vec(&c->out[1], cx->opt, p, L, ex[1], eL);
    arb_job job = job_make(in, limit ? fill_linear_limit : fill_linear);
    job_part(&job, 0, D, ex[0], eu, 0);
    job_part(&job, 1, p, ex[1], eL, 0);
    job_run(&job, cx, c);
done:
    if (ex[0] != NULL)
        mpvecs_free(2, sizes, ex);
    free(blk);
    return st;
}

/* Balls: mu (D), F (p), quad (at the kernel's a), then the backward pass
 * from the kernel's mu: h, c (D), dV (p x D), dW (D x Dq). */
static void fill_limit(const arb_job *job, arb_ptr b, slong prec)
{
    const acc_in *in = job->in;
    size_t D = in->D, Dq = in->Dq, p = in->p;
    arb_ptr bF = b + D, bq = bF + p, bh = bq + 1, bc = bh + D;
    arb_ptr bV = bc + D, bW = bV + p * D;
    sl_arb_limit_gauss_forward(D, Dq, p, in->m, in->S, in->W, in->V, in->x, b,
                               bF, prec);
    sl_arb_limit_gauss_quad(D, in->S, job->a, bq, prec);
    sl_arb_limit_gauss_backward(D, Dq, p, in->S, in->V, in->x, job->mu, in->g,
                                bh, bc, bV, bW, prec);
}

static sl_status run_limit(const acc_in *in, const acc_ctx *cx, sl_acc_case *c)
{
    size_t D = in->D, Dq = in->Dq, p = in->p;
    size_t sizes[6] = {D, p, D, D, p * D, D * Dq};
    mpfr_t *ex[6] = {NULL}, xq;
    size_t len = 8 * D + 2 * p + 2 * p * D + 2 * D * Dq;
    double *blk = dblock(len), eq;
    sl_status st = SL_ENOMEM;
    mpfr_init2(xq, cx->prec);
    if (blk == NULL || !mpvecs_new(6, sizes, ex, cx->prec)) {
        ex[0] = NULL;
        goto done;
    }
    double *a = blk, *mu = a + D, *F = mu + D, *h = F + p, *cc = h + D;
    double *dV = cc + D, *dW = dV + p * D, *work = dW + D * Dq;
    double *e_mu = work + D, *eF = e_mu + D, *eh = eF + p, *ec = eh + D;
    double *edV = ec + D, *edW = edV + p * D;

    /* 1. Forward and quad. */
    sl_limit_gauss_forward(D, Dq, p, in->m, in->S, in->W, in->V, in->x, a, mu,
                           F);
    double q = sl_limit_gauss_quad(D, in->S, a, work);
    st =
        sl_oracle_limit_gauss_forward_mpfr(D, Dq, p, in->m, in->S, in->W, in->V,
                                           in->x, NULL, ex[0], ex[1], cx->prec);
    if (st == SL_OK)
        st = sl_oracle_limit_gauss_quad_mpfr(D, in->S, a, xq, cx->prec);
    if (st == SL_OK)
        st = sl_budget_limit_gauss_forward(D, Dq, p, in->m, in->S, in->W, in->V,
                                           in->x, e_mu, eF);
    if (st != SL_OK)
        goto done;
    eq = sl_budget_limit_gauss_quad(D, in->S, a);
    out_vec(&c->out[0], cx->opt, D, mu, ex[0], e_mu);
    out_vec(&c->out[1], cx->opt, p, F, ex[1], eF);
    out_add(&c->out[2], cx->opt, 0, q, xq, eq);

    /* 2. Backward from the kernel's mu. */
    sl_limit_gauss_backward(D, Dq, p, in->S, in->V, in->x, mu, in->g, h, cc, dV,
                            dW);
    st = sl_oracle_limit_gauss_backward_mpfr(D, Dq, p, in->S, in->V, in->x, mu,
                                             in->g, ex[2], ex[3], ex[4], ex[5],
                                             cx->prec);
    if (st == SL_OK)
        st = sl_budget_limit_gauss_backward(D, Dq, p, in->S, in->V, in->x, mu,
                                            in->g, eh, ec, edV, edW);
    if (st != SL_OK)
        goto done;
    out_vec(&c->out[3], cx->opt, D, h, ex[2], eh);
    out_vec(&c->out[4], cx->opt, D, cc, ex[3], ec);
    out_vec(&c->out[5], cx->opt, p * D, dV, ex[4], edV);
    out_vec(&c->out[6], cx->opt, D * Dq, dW, ex[5], edW);

    /* 3. Arb, every output, in fill_limit's order. */
    arb_job job = job_make(in, fill_limit);
    job.mu = mu;
    job.a = a;
    job_part(&job, 0, D, ex[0], e_mu, 0);
    job_part(&job, 1, p, ex[1], eF, 0);
    job_part(&job, 2, 1, &xq, &eq, 1);
    job_part(&job, 3, D, ex[2], eh, 0);
    job_part(&job, 4, D, ex[3], ec, 0);
    job_part(&job, 5, p * D, ex[4], edV, 0);
    job_part(&job, 6, D * Dq, ex[5], edW, 0);
    job_run(&job, cx, c);
done:
    if (ex[0] != NULL)
        mpvecs_free(6, sizes, ex);
    mpfr_clear(xq);
    free(blk);
    return st;
}

/* Balls of the backward pass from the forward kernel's w and zbar: h, c
 * (D), dV (p x D), dW (D x Dq). */
static void fill_backward(const arb_job *job, arb_ptr b, slong prec)
{
    const acc_in *in = job->in;
    size_t D = in->D, p = in->p;
    sl_arb_attn_backward(in->n, D, in->Dq, p, in->Z, in->V, in->x, job->w,
                         job->zb, in->g, b, b + D, b + 2 * D, b + 2 * D + p * D,
                         prec);
}

/* Balls of the end-to-end gradient: c (D), dV (p x D), dW (D x Dq). */
static void fill_grad(const arb_job *job, arb_ptr b, slong prec)
{
    const acc_in *in = job->in;
    size_t D = in->D, p = in->p;
    sl_arb_attn_grad(in->n, D, in->Dq, p, in->Z, in->W, in->V, in->x, in->pi,
                     in->g, b, b + D, b + D + p * D, prec);
}

/* The gradient: the backward pass alone, from the forward kernel's w and
 * zbar taken as exact (outputs 0-3, against MPFR), then the same outputs
 * end to end (4-6), against the Arb enclosure of the gradient of the
 * exact forward pass: its midpoints, read at prec bits, are the
 * reference, and the Arb column certifies them by the balls' width. */
static sl_status run_gradient(const acc_in *in, const acc_ctx *cx,
                              sl_acc_case *c)
{
    size_t n = in->n, D = in->D, Dq = in->Dq, p = in->p;
    size_t sizes[7] = {D, D, p * D, D * Dq, D, p * D, D * Dq};
    mpfr_t *ex[7] = {NULL};
    size_t len = 2 * n + 9 * D + 2 * p + 4 * p * D + 4 * D * Dq;
    double *blk = dblock(len), ln, eln;
    sl_status st = SL_ENOMEM;
    if (blk == NULL || !mpvecs_new(7, sizes, ex, cx->prec)) {
        ex[0] = NULL;
        goto done;
    }
    double *w = blk, *a = w + n, *zb = a + D, *F = zb + D, *h = F + p;
    double *cw = h + D, *dV = cw + D, *dW = dV + p * D, *eh = dW + D * Dq;
    double *ec = eh + D, *edV = ec + D, *edW = edV + p * D;
    double *ew = edW + D * Dq, *ez = ew + n, *eF = ez + D, *ec2 = eF + p;
    double *edV2 = ec2 + D, *edW2 = edV2 + p * D;

    /* 1. Kernels; the backward oracle and budget with w and zbar taken
     *    as exact inputs. */
    sl_attn_forward(n, D, Dq, p, in->Z, in->W, in->V, in->x, in->pi, a, w, zb,
                    F, &ln);
    sl_attn_backward(n, D, Dq, p, in->Z, in->V, in->x, w, zb, in->g, h, cw, dV,
                     dW);
    st = sl_oracle_attn_backward_mpfr(n, D, Dq, p, in->Z, in->V, in->x, w, zb,
                                      in->g, ex[0], ex[1], ex[2], ex[3],
                                      cx->prec);
    if (st == SL_OK)
        st = sl_budget_attn_backward(n, D, Dq, p, in->Z, in->V, in->x, w, zb,
                                     in->g, eh, ec, edV, edW);
    if (st != SL_OK)
        goto done;
    out_vec(&c->out[0], cx->opt, D, h, ex[0], eh);
    out_vec(&c->out[1], cx->opt, D, cw, ex[1], ec);
    out_vec(&c->out[2], cx->opt, p * D, dV, ex[2], edV);
    out_vec(&c->out[3], cx->opt, D * Dq, dW, ex[3], edW);
    arb_job job = job_make(in, fill_backward);
    job.w = w;
    job.zb = zb;
    job_part(&job, 0, D, ex[0], eh, 0);
    job_part(&job, 1, D, ex[1], ec, 0);
    job_part(&job, 2, p * D, ex[2], edV, 0);
    job_part(&job, 3, D * Dq, ex[3], edW, 0);
    job_run(&job, cx, c);

    /* 2. End to end: the forward budget carried into the backward one;
     *    the reference is always computed, Arb on or off. */
    st = sl_budget_attn(n, D, Dq, p, in->Z, in->W, in->V, in->x, in->pi, ew, ez,
                        eF, &eln);
    if (st == SL_OK)
        st = sl_budget_attn_grad(n, D, Dq, p, in->Z, in->V, in->x, w, zb, ew,
                                 ez, in->g, ec2, edV2, edW2);
    if (st != SL_OK)
        goto done;
    arb_job e2e = job_make(in, fill_grad);
    job_part(&e2e, 4, D, ex[4], ec2, 0);
    job_part(&e2e, 5, p * D, ex[5], edV2, 0);
    job_part(&e2e, 6, D * Dq, ex[6], edW2, 0);
    arb_ptr b = job_balls(&e2e, cx);
    const double *got[3] = {cw, dV, dW};
    size_t off = 0;
    for (size_t j = 0; j < 3; j++) {
        const arb_part *q = &e2e.part[j];
        for (size_t i = 0; i < q->count; i++)
            arf_get_mpfr(q->x[i], arb_midref(b + off + i), MPFR_RNDN);
        out_vec(&c->out[q->out], cx->opt, q->count, got[j], q->x, q->budget);
        off += q->count;
    }
    if (cx->opt->arb)
        job_certify(&e2e, b, c);
    job_balls_free(&e2e, b);
done:
    if (ex[0] != NULL)
        mpvecs_free(7, sizes, ex);
    free(blk);
    return st;
}

/* ---- cases and sweeps ------------------------------------------------- */

static int opts_ok(sl_acc_kernel k, const sl_acc_opts *o)
{
    return (unsigned)k < SL_ACC_NKERNELS && o->prec >= SL_ACC_PREC_MIN_BITS &&
           o->prec <= SL_ACC_PREC_MAX_BITS;
}

sl_status sl_acc_case_run(sl_acc_kernel k, const sl_acc_opts *o, uint64_t index,
                          sl_acc_case *c)
{
    if (!opts_ok(k, o))
        return SL_EINVAL;
    memset(c, 0, sizeof *c);
    c->kernel = k;
    c->seed = o->seed;
    c->index = index;
    c->nout = output_counts[k];
    for (size_t j = 0; j < c->nout; j++)
        out_init(&c->out[j], output_names[k][j]);

    /* 1. Draw: sizes and inputs from stream (seed, index); every K-th
     *    case from the kernel's next adversarial family. */
    sl_rng r;
    sl_rng_init(&r, o->seed, index);
    int adv = index % SL_ACC_ADVERSARIAL_EVERY == SL_ACC_ADVERSARIAL_EVERY - 1;
    uint64_t round = index / SL_ACC_ADVERSARIAL_EVERY;
    const char *const *fams;
    size_t nfam;
    switch (k) {
    case SL_ACC_SOFTMAX:
    case SL_ACC_LOGSUMEXP:
        fams = score_families;
        nfam = COUNT(score_families);
        break;
    case SL_ACC_ATTENTION:
    case SL_ACC_GRADIENT:
        fams = attn_families;
        nfam = COUNT(attn_families);
        break;
    case SL_ACC_STREAM:
        fams = stream_families;
        nfam = COUNT(stream_families);
        break;
    case SL_ACC_LINEAR:
        fams = linear_families;
        nfam = COUNT(linear_families);
        break;
    default:
        fams = limit_families;
        nfam = COUNT(limit_families);
        break;
    }
    size_t fam = (size_t)(round % nfam);
    c->family = adv ? fams[fam] : "random";

    acc_in in;
    sl_status st;
    switch (k) {
    case SL_ACC_SOFTMAX:
    case SL_ACC_LOGSUMEXP:
        st = draw_scores(&r, adv, fam, &in);
        break;
    case SL_ACC_ATTENTION:
    case SL_ACC_GRADIENT:
        st = draw_attn(&r, adv, fam, &in);
        break;
    case SL_ACC_STREAM:
        st = draw_stream(&r, adv, fam, &in);
        break;
    case SL_ACC_LINEAR:
        st = draw_linear(&r, adv, fam, &in);
        break;
    default:
        st = draw_limit(&r, adv, fam, &in);
        break;
    }
    if (st != SL_OK)
        return st;
    c->n = k == SL_ACC_LINEAR_LIMIT || k == SL_ACC_LIMIT ? 1 : in.n;
    c->D = in.D;
    c->Dq = in.Dq;
    c->p = in.p;

    /* 2. Run and compare. */
    slong arb_bits = (slong)o->prec + SL_ACC_ARB_EXTRA_BITS;
    acc_ctx cx = {o, (mpfr_prec_t)o->prec,
                  arb_bits > SL_ARB_PREC_BITS ? arb_bits : SL_ARB_PREC_BITS};
    switch (k) {
    case SL_ACC_SOFTMAX:
        st = run_softmax(&in, &cx, c);
        break;
    case SL_ACC_LOGSUMEXP:
        st = run_logsumexp(&in, &cx, c);
        break;
    case SL_ACC_ATTENTION:
        st = run_attention(&in, &cx, c);
        break;
    case SL_ACC_STREAM:
        st = run_stream(&in, &cx, c);
        break;
    case SL_ACC_LINEAR:
        st = run_linear(&in, &cx, c, 0);
        break;
    case SL_ACC_LINEAR_LIMIT:
        st = run_linear(&in, &cx, c, 1);
        break;
    case SL_ACC_LIMIT:
        st = run_limit(&in, &cx, c);
        break;
    default:
        st = run_gradient(&in, &cx, c);
        break;
    }
    free(in.block);
    return st;
}

sl_status sl_acc_replay(const char *kernel, uint64_t seed, uint64_t index,
                        unsigned prec, sl_acc_case *c)
{
    sl_acc_kernel k;
    sl_acc_opts o;
    if (sl_acc_kernel_parse(kernel, &k) != 0)
        return SL_EINVAL;
    sl_acc_opts_default(&o);
    o.seed = seed;
    o.prec = prec;
    return sl_acc_case_run(k, &o, index, c);
}

/* Fold output o of case c into row w. */
static void row_add(sl_acc_row *w, const sl_acc_case *c, const sl_acc_output *o)
{
    int first = w->cases == 0;
    w->cases++;
    w->checks += o->size;
    if (first || o->largest.error > w->max_error) {
        w->max_error = o->largest.error;
        w->budget = o->largest.budget;
        w->max_case = c->index;
    }
    if (first || o->worst.ratio > w->tightness) {
        w->tightness = o->worst.ratio;
        w->worst = o->worst;
        w->worst_case = c->index;
    }
    if (o->over > 0) {
        if (w->kept < SL_ACC_MAX_FAILS) {
            sl_acc_fail *f = &w->fail[w->kept++];
            f->index = c->index;
            f->family = c->family;
            f->worst = o->worst;
        }
        w->fails++;
    }
    if (o->arb == SL_ACC_ARB_DISAGREE && w->arb != SL_ACC_ARB_DISAGREE) {
        w->arb = SL_ACC_ARB_DISAGREE;
        w->arb_case = c->index;
    } else if (o->arb == SL_ACC_ARB_AGREE && w->arb == SL_ACC_ARB_NONE) {
        w->arb = SL_ACC_ARB_AGREE;
    }
    w->arb_err = o->arb_err > w->arb_err ? o->arb_err : w->arb_err;
    w->pass = w->fails == 0;
}

sl_status sl_acc_sweep(sl_acc_kernel k, const sl_acc_opts *o, sl_acc_row *rows)
{
    if (!opts_ok(k, o) || o->cases == 0)
        return SL_EINVAL;
    size_t nout = output_counts[k];
    for (size_t j = 0; j < nout; j++) {
        memset(&rows[j], 0, sizeof rows[j]);
        rows[j].kernel = k;
        rows[j].output = output_names[k][j];
        rows[j].arb = SL_ACC_ARB_NONE;
        rows[j].pass = 1;
    }
    sl_acc_case *c = malloc(sizeof *c);
    if (c == NULL)
        return SL_ENOMEM;
    for (uint64_t i = 0; i < o->cases; i++) {
        sl_status st = sl_acc_case_run(k, o, i, c);
        if (st != SL_OK) {
            free(c);
            return st;
        }
        for (size_t j = 0; j < nout; j++)
            row_add(&rows[j], c, &c->out[j]);
    }
    free(c);
    return SL_OK;
}
