/* test_attention.c -- CUnit suite "attention": the two-pass forward kernel.
 *
 * sl_attn_forward against a two-token case worked out by hand, against
 * the properties that define attention as the tilted mean of a discrete
 * measure (order of the tokens does not matter, one token is its own mean,
 * equal scores give the plain average, masses act as multiplicities and
 * only their ratios matter for F), and on extreme scores, where the output
 * must be finite and equal to V times the top-scoring token.  sl_attn_ess
 * against its range [1, n] and its two ends.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/attention.h"
#include "random/rng.h"
#include "testing.h"

/* Relative error of outputs made of a few exp, sums and products of
 * moderate numbers (two or three tokens): about 6 ulps in the worst case
 * of the hand case below; 16 leaves room for another sound order. */
#define ATTN_TOL_EPS 16.0

/* Outputs that sum n tokens (tilted mean, normaliser): rounding grows like
 * n eps times the size of the terms; 4 n eps of that size. */
#define ATTN_SUM_TOL_EPS 4.0

/* Fixed seed of this suite's random prompts. */
#define ATTN_SEED 20251203u

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

/* y = A x by plain loops, A (rows x cols): the test's own reference. */
static void ref_matvec(size_t rows, size_t cols, const double *A,
                       const double *x, double *y)
{
    for (size_t r = 0; r < rows; r++) {
        double acc = 0.0;
        for (size_t c = 0; c < cols; c++)
            acc += A[r * cols + c] * x[c];
        y[r] = acc;
    }
}

/* A bound on |V y| entrywise for |y_k| <= 1: the largest row 1-norm. */
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

/* Sizes of the random prompts. */
enum { RN = 9, RD = 3, RDQ = 2, RP = 2 };

/* A random prompt: tokens, parameters and query of unit scale. */
typedef struct prompt {
    double Z[RN * RD], W[RD * RDQ], V[RP * RD], x[RDQ];
} prompt;

static void make_prompt(prompt *pr, uint64_t stream)
{
    sl_rng r;
    sl_rng_init(&r, ATTN_SEED, stream);
    sl_rng_normal(&r, RN * RD, pr->Z);
    sl_rng_normal(&r, RD * RDQ, pr->W);
    sl_rng_normal(&r, RP * RD, pr->V);
    sl_rng_normal(&r, RDQ, pr->x);
}

/* Outputs of one forward call. */
typedef struct outputs {
    double a[RD], w[RN], zbar[RD], F[RP], lognorm;
} outputs;

static void forward(size_t n, const double *Z, const prompt *pr,
                    const double *pi, outputs *o)
{
    sl_attn_forward(n, RD, RDQ, RP, Z, pr->W, pr->V, pr->x, pi, o->a, o->w,
                    o->zbar, o->F, &o->lognorm);
}

/* F, zbar and lognorm of two calls agree to n-token rounding. */
static void check_same_outputs(size_t n, const double *Z, const prompt *pr,
                               const outputs *o1, const outputs *o2,
                               const char *what)
{
    double zmax = maxabs(n * RD, Z);
    double tz = ATTN_SUM_TOL_EPS * n * DBL_EPSILON * zmax;
    double tf = tz * row_norm1(RP, RD, pr->V);
    for (size_t k = 0; k < RD; k++)
        CU_ASSERT(near(o2->zbar[k], o1->zbar[k], tz, what));
    for (size_t r = 0; r < RP; r++)
        CU_ASSERT(near(o2->F[r], o1->F[r], tf, what));
    double tl = ATTN_SUM_TOL_EPS * DBL_EPSILON *
                (n + fabs(o1->lognorm) + maxabs(RD, o1->a) * zmax);
    CU_ASSERT(near(o2->lognorm, o1->lognorm, tl, what));
}

/* D = 2, Dq = 2, p = 3.  W = [2 1; 0 3], x = (1, -1): a = (1, -3).
 * z1 = (1, 0), z2 = (1, 1): scores 1 and -2, so
 *   w1 = 1 / (1 + e^-3), w2 = e^-3 / (1 + e^-3), zbar = (1, w2),
 *   F = V zbar = (1 + 2 w2, 3 + 4 w2, 5 + 6 w2) for V = [1 2; 3 4; 5 6],
 *   lognorm = log((e + e^-2) / 2) = 1 + log1p(e^-3) - log 2. */
static void test_hand(void)
{
    const double Z[4] = {1.0, 0.0, 1.0, 1.0};
    const double W[4] = {2.0, 1.0, 0.0, 3.0};
    const double V[6] = {1.0, 2.0, 3.0, 4.0, 5.0, 6.0};
    const double x[2] = {1.0, -1.0};
    double a[2], w[2], zbar[2], F[3], lognorm;
    sl_attn_forward(2, 2, 2, 3, Z, W, V, x, NULL, a, w, zbar, F, &lognorm);

    double e3 = exp(-3.0);
    double w1 = 1.0 / (1.0 + e3), w2 = e3 / (1.0 + e3);
    const double tol = ATTN_TOL_EPS * DBL_EPSILON;
    CU_ASSERT(near(a[0], 1.0, 0.0, "a[0]"));
    CU_ASSERT(near(a[1], -3.0, 0.0, "a[1]"));
    CU_ASSERT(near(w[0], w1, tol * w1, "w[0]"));
    CU_ASSERT(near(w[1], w2, tol * w2, "w[1]"));
    CU_ASSERT(near(zbar[0], 1.0, tol, "zbar[0]"));
    CU_ASSERT(near(zbar[1], w2, tol * w2, "zbar[1]"));
    for (int r = 0; r < 3; r++) {
        double want = (2 * r + 1) + (2 * r + 2) * w2;
        CU_ASSERT(near(F[r], want, tol * want, "F"));
    }
    double want_ln = 1.0 + log1p(e3) - log(2.0);
    CU_ASSERT(near(lognorm, want_ln, tol * (1.0 + fabs(want_ln)), "lognorm"));
}

/* Reordering the tokens permutes the weights and changes nothing else. */
static void test_permutation(void)
{
    prompt pr;
    make_prompt(&pr, 1);
    double Zp[RN * RD];
    size_t perm[RN];
    for (size_t i = 0; i < RN; i++) {
        perm[i] = (4 * i + 3) % RN; /* a bijection: gcd(4, 9) = 1 */
        memcpy(Zp + i * RD, pr.Z + perm[i] * RD, RD * sizeof(double));
    }
    outputs o1, o2;
    forward(RN, pr.Z, &pr, NULL, &o1);
    forward(RN, Zp, &pr, NULL, &o2);
    check_same_outputs(RN, pr.Z, &pr, &o1, &o2, "permuted");
    for (size_t i = 0; i < RN; i++)
        CU_ASSERT(near(o2.w[i], o1.w[perm[i]],
                       ATTN_SUM_TOL_EPS * RN * DBL_EPSILON * o1.w[perm[i]],
                       "permuted w"));
}

/* One token: weight 1, zbar = z1, F = V z1 and lognorm = <a, z1>. */
static void test_single_token(void)
{
    prompt pr;
    make_prompt(&pr, 2);
    outputs o;
    forward(1, pr.Z, &pr, NULL, &o);
    double a[RD], F[RP];
    ref_matvec(RD, RDQ, pr.W, pr.x, a);
    ref_matvec(RP, RD, pr.V, pr.Z, F);
    double s = 0.0;
    for (size_t k = 0; k < RD; k++)
        s += a[k] * pr.Z[k];
    double tol = ATTN_TOL_EPS * DBL_EPSILON;
    CU_ASSERT(near(o.w[0], 1.0, tol, "w"));
    for (size_t k = 0; k < RD; k++)
        CU_ASSERT(near(o.zbar[k], pr.Z[k], tol * fabs(pr.Z[k]), "zbar"));
    for (size_t r = 0; r < RP; r++)
        CU_ASSERT(near(o.F[r], F[r],
                       tol * row_norm1(RP, RD, pr.V) * maxabs(RD, pr.Z), "F"));
    CU_ASSERT(
        near(o.lognorm, s, tol * maxabs(RD, a) * maxabs(RD, pr.Z), "lognorm"));
}

/* Check that o is the plain average of the n tokens of pr, with
 * lognorm = s0 (the common score). */
static void check_plain_average(const prompt *pr, const outputs *o, double s0,
                                const char *what)
{
    double mean[RD] = {0.0}, F[RP];
    for (size_t i = 0; i < RN; i++)
        for (size_t k = 0; k < RD; k++)
            mean[k] += pr->Z[i * RD + k] / RN;
    ref_matvec(RP, RD, pr->V, mean, F);
    double tz = ATTN_SUM_TOL_EPS * RN * DBL_EPSILON * maxabs(RN * RD, pr->Z);
    for (size_t i = 0; i < RN; i++)
        CU_ASSERT(
            near(o->w[i], 1.0 / RN, ATTN_TOL_EPS * DBL_EPSILON / RN, what));
    for (size_t k = 0; k < RD; k++)
        CU_ASSERT(near(o->zbar[k], mean[k], tz, what));
    for (size_t r = 0; r < RP; r++)
        CU_ASSERT(near(o->F[r], F[r], tz * row_norm1(RP, RD, pr->V), what));
    CU_ASSERT(near(o->lognorm, s0,
                   ATTN_SUM_TOL_EPS * DBL_EPSILON * (RN + fabs(s0)), what));
}

/* Equal scores give the plain average, and lognorm = log((1/n) sum e^s)
 * is the common score: 0 for x = 0 (a = 0), and 0.5 for a = e_1 with
 * every token's first coordinate 0.5. */
static void test_equal_scores(void)
{
    prompt pr;
    make_prompt(&pr, 3);
    outputs o;
    for (size_t j = 0; j < RDQ; j++)
        pr.x[j] = 0.0;
    forward(RN, pr.Z, &pr, NULL, &o);
    check_plain_average(&pr, &o, 0.0, "x = 0");

    memset(pr.W, 0, sizeof pr.W);
    pr.W[0] = 1.0; /* W[0][0] */
    pr.x[0] = 1.0;
    for (size_t i = 0; i < RN; i++)
        pr.Z[i * RD] = 0.5;
    forward(RN, pr.Z, &pr, NULL, &o);
    check_plain_average(&pr, &o, 0.5, "a = e_1");
}

/* Masses: only their ratios matter for F and zbar; scaling them all by 2
 * adds log 2 to lognorm. */
static void test_masses_scale(void)
{
    prompt pr;
    make_prompt(&pr, 4);
    double pi[RN], pi2[RN];
    for (size_t i = 0; i < RN; i++) {
        pi[i] = 0.5 + 0.17 * (double)i;
        pi2[i] = 2.0 * pi[i];
    }
    outputs o1, o2;
    forward(RN, pr.Z, &pr, pi, &o1);
    forward(RN, pr.Z, &pr, pi2, &o2);
    o1.lognorm += log(2.0);
    check_same_outputs(RN, pr.Z, &pr, &o1, &o2, "masses x 2");
}

/* Masses 1/n are the empirical measure: the pi == NULL result. */
static void test_masses_uniform(void)
{
    prompt pr;
    make_prompt(&pr, 5);
    double pi[RN];
    for (size_t i = 0; i < RN; i++)
        pi[i] = 1.0 / RN;
    outputs o1, o2;
    forward(RN, pr.Z, &pr, NULL, &o1);
    forward(RN, pr.Z, &pr, pi, &o2);
    check_same_outputs(RN, pr.Z, &pr, &o1, &o2, "masses 1/n");
    for (size_t i = 0; i < RN; i++)
        CU_ASSERT(near(o2.w[i], o1.w[i],
                       ATTN_SUM_TOL_EPS * RN * DBL_EPSILON * o1.w[i],
                       "masses 1/n w"));
}

/* A token present twice weighs as that token once at twice the mass:
 * prompt (z1, z2, z2, z3) equals (z1, z2, z3) with masses (1, 2, 1) / 4. */
static void test_masses_duplicate(void)
{
    prompt pr;
    make_prompt(&pr, 6);
    double Z4[4 * RD];
    memcpy(Z4, pr.Z, 2 * RD * sizeof(double));
    memcpy(Z4 + 2 * RD, pr.Z + RD, RD * sizeof(double));
    memcpy(Z4 + 3 * RD, pr.Z + 2 * RD, RD * sizeof(double));
    const double pi[3] = {0.25, 0.5, 0.25};
    outputs o1, o2;
    forward(4, Z4, &pr, NULL, &o1);
    forward(3, pr.Z, &pr, pi, &o2);
    check_same_outputs(4, Z4, &pr, &o1, &o2, "duplicate vs mass 2");
    CU_ASSERT(near(o2.w[1], o1.w[1] + o1.w[2],
                   ATTN_SUM_TOL_EPS * 4 * DBL_EPSILON, "duplicate w"));
}

/* Extreme scores: a = (scale, 0) on tokens with first coordinates
 * (1, -1, 0.3, 1).  For scale >= 700 all weight goes to the tied top
 * tokens 0 and 3 (up to e^-0.7 scale), so F = V (z0 + z3) / 2, and
 * lognorm = scale + log(2 / 4) (exact up to e^-490 for scale = 700).
 * With scale < 0 the top token is 1 alone. */
static void check_extreme(double scale)
{
    const double Z[8] = {1.0, 0.5, -1.0, 2.0, 0.3, -1.0, 1.0, -3.0};
    const double W[2] = {scale, 0.0};
    const double V[4] = {1.0, 2.0, -3.0, 0.5};
    const double x[1] = {1.0};
    double a[2], w[4], zbar[2], F[2], lognorm;
    sl_attn_forward(4, 2, 1, 2, Z, W, V, x, NULL, a, w, zbar, F, &lognorm);

    double top[2], want_w[4], want_ln;
    if (scale > 0.0) {
        top[0] = 1.0;
        top[1] = -1.25;
        want_w[0] = want_w[3] = 0.5;
        want_w[1] = want_w[2] = 0.0;
        want_ln = scale + log(0.5);
    } else {
        top[0] = -1.0;
        top[1] = 2.0;
        want_w[1] = 1.0;
        want_w[0] = want_w[2] = want_w[3] = 0.0;
        want_ln = -scale + log(0.25);
    }
    double want_F[2] = {V[0] * top[0] + V[1] * top[1],
                        V[2] * top[0] + V[3] * top[1]};
    /* e^-0.7 |scale| <= e^-490 when |scale| >= 700: below any ulp here. */
    double tol = ATTN_TOL_EPS * DBL_EPSILON;
    for (int i = 0; i < 4; i++) {
        CU_ASSERT(isfinite(w[i]));
        CU_ASSERT(near(w[i], want_w[i], tol, "extreme w"));
    }
    for (int k = 0; k < 2; k++) {
        CU_ASSERT(isfinite(zbar[k]));
        CU_ASSERT(near(zbar[k], top[k], tol * fabs(top[k]), "extreme zbar"));
    }
    for (int r = 0; r < 2; r++) {
        CU_ASSERT(isfinite(F[r]));
        CU_ASSERT(near(F[r], want_F[r], tol * 4.0, "extreme F"));
    }
    CU_ASSERT(isfinite(lognorm));
    CU_ASSERT(near(lognorm, want_ln, tol * fabs(want_ln), "extreme lognorm"));
}

static void test_extreme_scores(void)
{
    const double scales[6] = {700.0,    -700.0,  1.0e300,
                              -1.0e300, DBL_MAX, -DBL_MAX};
    for (int k = 0; k < 6; k++)
        check_extreme(scales[k]);
}

/* ess = n for equal weights. */
static void test_ess_equal(void)
{
    enum { N = 7 };
    double w[N];
    for (int i = 0; i < N; i++)
        w[i] = 1.0 / N;
    CU_ASSERT(near(sl_attn_ess(N, w), N, ATTN_SUM_TOL_EPS * N * N * DBL_EPSILON,
                   "ess equal"));
}

/* ess = 1 for one token taking all the mass, wherever it sits. */
static void test_ess_one_hot(void)
{
    double w[5] = {0.0, 0.0, 0.0, 0.0, 0.0};
    for (int j = 0; j < 5; j++) {
        w[j] = 1.0;
        CU_ASSERT(near(sl_attn_ess(5, w), 1.0, 0.0, "ess one-hot"));
        w[j] = 0.0;
    }
}

/* w = (1/2, 1/4, 1/4): sum of squares 3/8, ess = 8/3. */
static void test_ess_hand(void)
{
    const double w[3] = {0.5, 0.25, 0.25};
    CU_ASSERT(near(sl_attn_ess(3, w), 8.0 / 3.0, ATTN_TOL_EPS * DBL_EPSILON,
                   "ess hand"));
}

/* The ess of forward weights of random prompts lies in [1, n]. */
static void test_ess_range(void)
{
    for (uint64_t k = 0; k < 8; k++) {
        prompt pr;
        make_prompt(&pr, 100 + k);
        for (size_t j = 0; j < RDQ; j++)
            pr.x[j] *= (double)k; /* from flat (k = 0) to peaked */
        outputs o;
        forward(RN, pr.Z, &pr, NULL, &o);
        double ess = sl_attn_ess(RN, o.w);
        double slack = ATTN_SUM_TOL_EPS * RN * DBL_EPSILON;
        if (!(ess >= 1.0 - slack && ess <= RN * (1.0 + slack)))
            fprintf(stderr, "\n  ess %a not in [1, %d]\n", ess, (int)RN);
        CU_ASSERT(ess >= 1.0 - slack && ess <= RN * (1.0 + slack));
    }
}

void register_attention_suite(void)
{
    CU_pSuite s = CU_add_suite("attention", NULL, NULL);
    testing_add(s, "hand", test_hand);
    testing_add(s, "permutation", test_permutation);
    testing_add(s, "single_token", test_single_token);
    testing_add(s, "equal_scores", test_equal_scores);
    testing_add(s, "masses_scale", test_masses_scale);
    testing_add(s, "masses_uniform", test_masses_uniform);
    testing_add(s, "masses_duplicate", test_masses_duplicate);
    testing_add(s, "extreme_scores", test_extreme_scores);
    testing_add(s, "ess_equal", test_ess_equal);
    testing_add(s, "ess_one_hot", test_ess_one_hot);
    testing_add(s, "ess_hand", test_ess_hand);
    testing_add(s, "ess_range", test_ess_range);
}
