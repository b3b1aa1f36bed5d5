/* test_normal_fast.c -- CUnit suite "normal_fast": the vectorised streams.
 *
 * Determinism: the fast uniforms equal sl_rng_uniform's bit for bit (so
 * the vector Philox rounds are Random123's, whose known answers test_rng.c
 * checks), also across the carry into the counter's high word; normals
 * drawn in awkward pieces (1, 3, 17, ...) equal those of one call; the
 * FMA paths (AVX-512, AVX2, scalar) agree bit for bit and the FMA-free
 * scalar fallback within a few ulps.
 *
 * Law, on every path the CPU can run (the fallback included), over
 * NF_DRAWS normals of one stream: the first four moments, a chi-square
 * test on NF_BINS cells of equal probability under the normal law, a
 * Kolmogorov-Smirnov test of the first NF_KS_DRAWS values against
 * gsl_cdf_ugaussian_P, the tail frequencies P(|z| > 2, 3, 4), the bound
 * |z| <= sqrt(106 ln 2), and the independence of the two normals of a
 * pair and of successive pairs.  A control feeds slightly too wide
 * normals to the same tests, which must reject them.
 *
 * Each statistical check fails beyond NF_Z_TOL standard errors or below a
 * p-value of NF_P_MIN: for a correct generator about 2e-9 per check; the
 * seeds are fixed, so a pass is reproducible.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "random/normal_fast.h"
#include "random/rng.h"
#include "testing.h"

/* Largest accepted deviation of a statistic, in standard errors. */
#define NF_Z_TOL 6.0
/* Smallest accepted p-value of the chi-square and KS tests. */
#define NF_P_MIN 1e-9
/* Normals per path for the law tests. */
#define NF_DRAWS 10000000
/* The first NF_KS_DRAWS of them go to the Kolmogorov-Smirnov test. */
#define NF_KS_DRAWS 1000000
/* Cells of the chi-square test, of probability 1 / NF_BINS each. */
#define NF_BINS 1000
/* Normals drawn per call in the law tests (even: pairs stay aligned). */
#define NF_CHUNK 65536
/* The FMA-free scalar path vs the FMA paths: SLEEF's cinz and finz
 * functions are each within 3.5 ulp, so log and sincos differ by at
 * most 7 ulp, halved by the sqrt for the radius: 16 ulp of |z| covers
 * both factors and the two final roundings. */
#define NF_CINZ_ULPS 16.0
/* Bound of |z|: sqrt(-2 log 2^-53), with a rounding margin. */
#define NF_ABS_MAX (sqrt(-2.0 * log(0x1p-53)) * (1.0 + 64.0 * DBL_EPSILON))
/* The control's scale of the normals: variance 1.0201, 45 standard
 * errors away at NF_DRAWS; chi-square noncentrality about
 * NF_DRAWS (2 * 0.01^2) = 2000, against a threshold ~270 above the mean
 * 999. */
#define NF_CONTROL_SCALE 1.01

#define NF_SEED UINT64_C(0xfa57c0ffee)

static const sl_normal_path all_paths[] = {
    SL_NORMAL_PATH_SCALAR, SL_NORMAL_PATH_SCALAR_FMA, SL_NORMAL_PATH_AVX2,
    SL_NORMAL_PATH_AVX512};
#define NPATHS 4

/* Everything the law tests judge, for one path. */
typedef struct law_stats {
    double n, s1, s2, s3, s4; /* power sums */
    double tail[3];           /* counts of |z| > 2, 3, 4 */
    double max_abs;           /* largest |z| */
    double cells[NF_BINS];    /* chi-square cell counts */
    double pairs;             /* pairs seen */
    double p01, p0011, lag;   /* sums of z0 z1, z0^2 z1^2, z1 z0' */
    double ks;                /* sqrt(m) sup |F_m - Phi| */
} law_stats;

static const double tail_at[3] = {2.0, 3.0, 4.0};

/* The NF_BINS - 1 inner cell edges Phi^-1(j / NF_BINS), once. */
static double cell_edges[NF_BINS - 1];
static int have_edges;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static size_t cell_of(double z)
{
    size_t lo = 0, hi = NF_BINS - 1; /* answer in [lo, hi] */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (z < cell_edges[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* sqrt(m) sup |F_m - Phi| of m sorted values. */
static double ks_stat(size_t m, const double *x)
{
    double d = 0.0;
    for (size_t i = 0; i < m; i++) {
        double p = gsl_cdf_ugaussian_P(x[i]);
        d = fmax(d, fmax(p - (double)i / (double)m,
                         (double)(i + 1) / (double)m - p));
    }
    return sqrt((double)m) * d;
}

/* Accumulate the statistics of normals x[0..k-1] (k even). */
static void add_draws(law_stats *st, size_t k, const double *x, double *prev)
{
    for (size_t i = 0; i < k; i++) {
        double z = x[i], z2 = z * z;
        st->s1 += z;
        st->s2 += z2;
        st->s3 += z2 * z;
        st->s4 += z2 * z2;
        for (int t = 0; t < 3; t++)
            st->tail[t] += fabs(z) > tail_at[t];
        st->max_abs = fmax(st->max_abs, fabs(z));
        st->cells[cell_of(z)] += 1.0;
    }
    for (size_t i = 0; i < k; i += 2) {
        st->p01 += x[i] * x[i + 1];
        st->p0011 += x[i] * x[i] * x[i + 1] * x[i + 1];
        if (!isnan(*prev))
            st->lag += *prev * x[i];
        *prev = x[i + 1];
        st->pairs += 1.0;
    }
    st->n += (double)k;
}

static void ensure_edges(void)
{
    if (have_edges)
        return;
    for (size_t j = 1; j < NF_BINS; j++)
        cell_edges[j - 1] = gsl_cdf_ugaussian_Pinv((double)j / NF_BINS);
    have_edges = 1;
}

/* Draw NF_DRAWS normals on path p (scaled by scale) into st. */
static void collect(sl_normal_path p, double scale, law_stats *st)
{
    double *buf = malloc(NF_CHUNK * sizeof(double));
    double *ks = malloc(NF_KS_DRAWS * sizeof(double));
    double prev = NAN;
    size_t kept = 0;
    sl_rng r;

    CU_ASSERT_FATAL(buf != NULL && ks != NULL);
    ensure_edges();
    memset(st, 0, sizeof *st);
    CU_ASSERT_FATAL(sl_normal_path_force(p) == 0);
    sl_rng_init(&r, NF_SEED, 1000 + (uint64_t)p);
    for (size_t done = 0; done < NF_DRAWS; done += NF_CHUNK) {
        size_t k = NF_DRAWS - done < NF_CHUNK ? NF_DRAWS - done : NF_CHUNK;
        sl_rng_normal_fast(&r, k, buf);
        for (size_t i = 0; i < k; i++)
            buf[i] *= scale;
        add_draws(st, k, buf, &prev);
        size_t take = NF_KS_DRAWS - kept < k ? NF_KS_DRAWS - kept : k;
        memcpy(ks + kept, buf, take * sizeof(double));
        kept += take;
    }
    sl_normal_path_force(SL_NORMAL_PATH_AUTO);
    qsort(ks, kept, sizeof(double), cmp_double);
    st->ks = ks_stat(kept, ks);
    free(ks);
    free(buf);
}

/* The statistics of path p, computed once. */
static const law_stats *stats_of(sl_normal_path p)
{
    static law_stats cache[NPATHS + 1];
    static int have[NPATHS + 1];

    if (!have[p]) {
        collect(p, 1.0, &cache[p]);
        have[p] = 1;
    }
    return &cache[p];
}

static int within_z(const char *path, const char *what, double got, double want,
                    double se)
{
    double z = (got - want) / se;
    if (fabs(z) <= NF_Z_TOL)
        return 1;
    fprintf(stderr, "\n  %s: %s got %a want %a (z = %.2f)\n", path, what, got,
            want, z);
    return 0;
}

/* ---- Verdicts on one path's statistics ---------------------------------- */

static int moments_ok(const char *name, const law_stats *st)
{
    double n = st->n;
    int ok = within_z(name, "mean", st->s1 / n, 0.0, sqrt(1.0 / n));
    /* var(z^2) = 2, var(z^3) = E z^6 = 15, var(z^4) = 105 - 9 = 96 */
    ok &= within_z(name, "E z^2", st->s2 / n, 1.0, sqrt(2.0 / n));
    ok &= within_z(name, "E z^3", st->s3 / n, 0.0, sqrt(15.0 / n));
    ok &= within_z(name, "E z^4", st->s4 / n, 3.0, sqrt(96.0 / n));
    return ok;
}

static int chi_square_ok(const char *name, const law_stats *st)
{
    double expect = st->n / NF_BINS, chi2 = 0.0;
    for (size_t j = 0; j < NF_BINS; j++)
        chi2 += (st->cells[j] - expect) * (st->cells[j] - expect) / expect;
    double p = gsl_cdf_chisq_Q(chi2, NF_BINS - 1);
    if (p >= NF_P_MIN)
        return 1;
    fprintf(stderr, "\n  %s: chi-square %a on %d cells, p = %g\n", name, chi2,
            NF_BINS - 1, p);
    return 0;
}

/* Dvoretzky-Kiefer-Wolfowitz-Massart: P(sqrt(m) D > x) <= 2 exp(-2 x^2)
 * for every m, so the threshold is rigorous, not asymptotic. */
static int ks_ok(const char *name, const law_stats *st)
{
    double crit = sqrt(0.5 * log(2.0 / NF_P_MIN));
    if (st->ks <= crit)
        return 1;
    fprintf(stderr, "\n  %s: KS sqrt(m) D = %a > %a\n", name, st->ks, crit);
    return 0;
}

static int tails_ok(const char *name, const law_stats *st)
{
    int ok = 1;
    for (int t = 0; t < 3; t++) {
        double p = 2.0 * gsl_cdf_ugaussian_Q(tail_at[t]);
        ok &= within_z(name, "P(|z| > t)", st->tail[t] / st->n, p,
                       sqrt(p * (1.0 - p) / st->n));
    }
    if (!(st->max_abs <= NF_ABS_MAX)) {
        fprintf(stderr, "\n  %s: |z| = %a beyond the bound %a\n", name,
                st->max_abs, NF_ABS_MAX);
        ok = 0;
    }
    return ok;
}

/* Independent N(0,1) z0, z1: E z0 z1 = 0 (se 1), E z0^2 z1^2 = 1
 * (var 9 - 1 = 8), and the same for z1 and the next pair's z0. */
static int pairs_ok(const char *name, const law_stats *st)
{
    double m = st->pairs;
    int ok = within_z(name, "E z0 z1", st->p01 / m, 0.0, sqrt(1.0 / m));
    ok &= within_z(name, "E z0^2 z1^2", st->p0011 / m, 1.0, sqrt(8.0 / m));
    ok &=
        within_z(name, "E z1 z0'", st->lag / (m - 1), 0.0, sqrt(1.0 / (m - 1)));
    return ok;
}

typedef int (*verdict_fn)(const char *name, const law_stats *st);

/* The verdict on every path this CPU can run; the scalar fallback always
 * runs. */
static void judge_paths(verdict_fn ok)
{
    int ran_fallback = 0;
    for (int i = 0; i < NPATHS; i++) {
        sl_normal_path p = all_paths[i];
        if (!sl_normal_path_supported(p))
            continue;
        CU_ASSERT(ok(sl_normal_path_name(p), stats_of(p)));
        ran_fallback |= p == SL_NORMAL_PATH_SCALAR;
    }
    CU_ASSERT(ran_fallback);
}

static void test_moments(void)
{
    judge_paths(moments_ok);
}

static void test_chi_square(void)
{
    judge_paths(chi_square_ok);
}

static void test_kolmogorov_smirnov(void)
{
    judge_paths(ks_ok);
}

static void test_tails(void)
{
    judge_paths(tails_ok);
}

static void test_pairs_independent(void)
{
    judge_paths(pairs_ok);
}

/* Normals 1% too wide must fail the moment and chi-square tests. */
static void test_control_rejected(void)
{
    law_stats *st = malloc(sizeof *st);
    CU_ASSERT_FATAL(st != NULL);
    collect(sl_normal_path_active(), NF_CONTROL_SCALE, st);
    fprintf(stderr, "\n  (control: the next lines report expected "
                    "failures)");
    CU_ASSERT(!moments_ok("control", st));
    CU_ASSERT(!chi_square_ok("control", st));
    free(st);
}

/* ---- Determinism -------------------------------------------------------- */

/* The fast uniforms are sl_rng_uniform's, on every path, from a block
 * just below the counter's 2^32 carry and across it. */
static void test_uniform_matches_rng(void)
{
    enum { K = 300 };
    double fast[K];
    for (int i = 0; i < NPATHS; i++) {
        sl_normal_path p = all_paths[i];
        if (sl_normal_path_force(p) != 0)
            continue;
        sl_rng a, b;
        int same = 1;
        sl_rng_init(&a, NF_SEED, UINT64_C(0x123456789));
        sl_rng_init(&b, NF_SEED, UINT64_C(0x123456789));
        a.block = b.block = (UINT64_C(1) << 32) - 37;
        sl_rng_uniform_fast(&a, 5, fast);
        sl_rng_uniform_fast(&a, K - 5, fast + 5);
        for (int j = 0; j < K; j++) {
            double u = sl_rng_uniform(&b);
            if (u != fast[j] && same) {
                fprintf(stderr, "\n  %s: uniform %d got %a want %a\n",
                        sl_normal_path_name(p), j, fast[j], u);
                same = 0;
            }
        }
        CU_ASSERT(same);
        CU_ASSERT_EQUAL(a.block, b.block);
    }
    sl_normal_path_force(SL_NORMAL_PATH_AUTO);
}

/* Drawing k then m equals drawing k + m: pieces of awkward sizes, on
 * every path, against one call. */
static void test_split_invariant(void)
{
    static const size_t pieces[] = {1, 3, 17, 0, 31, 32, 33, 64, 2, 65, 1};
    enum { K = 249 }; /* the sum of the pieces */
    double one[K], split[K];
    for (int i = 0; i < NPATHS; i++) {
        sl_normal_path p = all_paths[i];
        if (sl_normal_path_force(p) != 0)
            continue;
        sl_rng a, b;
        size_t at = 0;
        sl_rng_init(&a, NF_SEED, 5);
        sl_rng_init(&b, NF_SEED, 5);
        sl_rng_normal_fast(&a, K, one);
        for (size_t j = 0; j < sizeof pieces / sizeof pieces[0]; j++) {
            sl_rng_normal_fast(&b, pieces[j], split + at);
            at += pieces[j];
        }
        CU_ASSERT_FATAL(at == K);
        CU_ASSERT(memcmp(one, split, sizeof one) == 0);
        CU_ASSERT(a.block == b.block && a.has_spare == b.has_spare);
        CU_ASSERT(!a.has_spare || a.spare == b.spare);
        /* The next call continues the same sequence. */
        sl_rng_normal_fast(&a, 1, one);
        sl_rng_normal_fast(&b, 1, split);
        CU_ASSERT(one[0] == split[0]);
    }
    sl_normal_path_force(SL_NORMAL_PATH_AUTO);
}

/* AVX-512, AVX2 and scalar FMA: the same bits; FMA-free scalar: within
 * NF_CINZ_ULPS of them. */
static void test_paths_agree(void)
{
    enum { K = 100000 };
    double *ref = malloc(K * sizeof(double)), *x = malloc(K * sizeof(double));
    int have_ref = 0;
    CU_ASSERT_FATAL(ref != NULL && x != NULL);
    for (int i = NPATHS - 1; i >= 0; i--) {
        sl_normal_path p = all_paths[i];
        if (sl_normal_path_force(p) != 0)
            continue;
        sl_rng r;
        sl_rng_init(&r, NF_SEED, 77);
        sl_rng_normal_fast(&r, K, have_ref ? x : ref);
        if (!have_ref) {
            have_ref = 1;
            continue;
        }
        double worst = 0.0;
        for (size_t j = 0; j < K; j++) {
            double d = fabs(x[j] - ref[j]);
            double ulps = d == 0.0 ? 0.0 : d / (DBL_EPSILON * fabs(ref[j]));
            worst = fmax(worst, ulps);
        }
        if (p == SL_NORMAL_PATH_SCALAR) {
            CU_ASSERT(worst <= NF_CINZ_ULPS);
        } else {
            CU_ASSERT(memcmp(x, ref, K * sizeof(double)) == 0);
        }
        if (worst > (p == SL_NORMAL_PATH_SCALAR ? NF_CINZ_ULPS : 0.0))
            fprintf(stderr, "\n  %s: %g ulps from the widest path\n",
                    sl_normal_path_name(p), worst);
    }
    sl_normal_path_force(SL_NORMAL_PATH_AUTO);
    free(ref);
    free(x);
}

/* The hook: a forced path is the active one; AUTO restores the widest. */
static void test_force_hook(void)
{
    sl_normal_path best = sl_normal_path_active();
    CU_ASSERT(best != SL_NORMAL_PATH_AUTO);
    for (int i = 0; i < NPATHS; i++) {
        sl_normal_path p = all_paths[i];
        if (sl_normal_path_supported(p)) {
            CU_ASSERT(sl_normal_path_force(p) == 0);
            CU_ASSERT(sl_normal_path_active() == p);
        } else {
            CU_ASSERT(sl_normal_path_force(p) == -1);
        }
    }
    CU_ASSERT(sl_normal_path_force(SL_NORMAL_PATH_AUTO) == 0);
    CU_ASSERT(sl_normal_path_active() == best);
    CU_ASSERT(strcmp(sl_normal_path_name(SL_NORMAL_PATH_SCALAR), "scalar") ==
              0);
}

void register_normal_fast_suite(void)
{
    CU_pSuite s = CU_add_suite("normal_fast", NULL, NULL);
    testing_add(s, "uniform_matches_rng", test_uniform_matches_rng);
    testing_add(s, "split_invariant", test_split_invariant);
    testing_add(s, "paths_agree", test_paths_agree);
    testing_add(s, "force_hook", test_force_hook);
    testing_add(s, "moments", test_moments);
    testing_add(s, "chi_square", test_chi_square);
    testing_add(s, "kolmogorov_smirnov", test_kolmogorov_smirnov);
    testing_add(s, "tails", test_tails);
    testing_add(s, "pairs_independent", test_pairs_independent);
    testing_add(s, "control_rejected", test_control_rejected);
}
