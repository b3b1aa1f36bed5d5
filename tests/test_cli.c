/* test_cli.c -- CUnit suite "cli": the softlin program, run as a user would.
 *
 * Each test runs the built binary (testing_run_softlin) and checks the
 * exit status, the output and the one-line errors: global flags, eval's
 * output format and its consistency with the parameters, determinism in
 * the seed, malformed parameter files, bad flags, and one statistical
 * check of the finite-n bound of the notes (MATH.md, section 4):
 *
 *   |F_n - F_inf| <= 2 sqrt(2 T / (n delta)) with probability >= 1 - delta,
 *   T = kappa (tr(V S V^T) + |V S a|^2),  when n >= 8 (kappa - 1) / delta.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params/params.h"
#include "testing.h"

/* Exit statuses of softlin (cli.h). */
#define CLI_OK    0
#define CLI_USAGE 2

/* Largest p the output parser takes. */
#define CLI_MAX_P 16

/* Relative agreement of printed limit values with the test's own
 * computation of them: a few roundings of sums of D <= 3 terms. */
#define CLI_LIMIT_TOL (64.0 * DBL_EPSILON)

/* Relative agreement of the printed distance with the norm recomputed
 * from the printed F_n and F_inf (both read back exactly). */
#define CLI_DIST_TOL (8.0 * DBL_EPSILON)

/* The statistical check: failure probability and prompt length. */
#define CLI_BOUND_DELTA 1e-6
#define CLI_BOUND_N     200000

#define CLI_TEST_SEED "20251211"

/* testing_data_dir/name into buf. */
static const char *data_path(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", testing_data_dir, name);
    return buf;
}

/* A failed run: status CLI_USAGE, nothing on stdout, one line on stderr
 * containing each of needle1 and needle2 (needle2 may be NULL). */
static void expect_usage_error(const char *const *args, const char *needle1,
                               const char *needle2)
{
    testing_run r;

    testing_run_softlin(&r, args);
    CU_ASSERT_EQUAL(r.status, CLI_USAGE);
    CU_ASSERT_STRING_EQUAL(r.out, "");
    CU_ASSERT(testing_one_line(r.err));
    CU_ASSERT(strstr(r.err, needle1) != NULL);
    CU_ASSERT(needle2 == NULL || strstr(r.err, needle2) != NULL);
    if (r.status != CLI_USAGE || !testing_one_line(r.err) ||
        strstr(r.err, needle1) == NULL ||
        (needle2 != NULL && strstr(r.err, needle2) == NULL))
        fprintf(stderr, "\n  status %d, stderr: %s\n", r.status, r.err);
    testing_run_free(&r);
}

/* ---- eval's output ---------------------------------------------------- */

typedef struct eval_out {
    unsigned long long seed, n, D, Dq, p;
    double F_n[CLI_MAX_P], F_inf[CLI_MAX_P];
    size_t n_F_n, n_F_inf;
    double distance, kappa, ess, lognorm, lognorm_inf;
} eval_out;

/* The lines eval prints, in order. */
static const char *const eval_keys[] = {
    "seed",  "n",        "D",     "Dq",  "p",       "F_n",
    "F_inf", "distance", "kappa", "ess", "lognorm", "lognorm_inf",
};
#define N_EVAL_KEYS (sizeof eval_keys / sizeof eval_keys[0])

/* Parse the values of line k (text after "key "), up to the newline. */
static int parse_values(size_t k, const char *s, const char *eol, eval_out *o)
{
    unsigned long long *ints[] = {&o->seed, &o->n, &o->D, &o->Dq, &o->p};
    double *reals[] = {&o->distance, &o->kappa, &o->ess, &o->lognorm,
                       &o->lognorm_inf};
    char *end;

    if (k < 5) {
        if (*s < '0' || *s > '9')
            return 0;
        *ints[k] = strtoull(s, &end, 10);
        return end == eol;
    }
    if (k == 5 || k == 6) {
        double *v = k == 5 ? o->F_n : o->F_inf;
        size_t *nv = k == 5 ? &o->n_F_n : &o->n_F_inf;

        for (*nv = 0; s < eol; (*nv)++) {
            if (*nv == CLI_MAX_P || *s != ' ')
                return 0;
            v[*nv] = strtod(s + 1, &end);
            if (end == s + 1)
                return 0;
            s = end;
        }
        return s == eol;
    }
    *reals[k - 7] = strtod(s, &end);
    return end == eol && end != s;
}

/* Parse eval's stdout: exactly the keys, in order, one line each. */
static int parse_eval(const char *text, eval_out *o)
{
    const char *line = text;

    memset(o, 0, sizeof *o);
    for (size_t k = 0; k < N_EVAL_KEYS; k++) {
        size_t klen = strlen(eval_keys[k]);
        const char *eol = strchr(line, '\n');

        if (eol == NULL || strncmp(line, eval_keys[k], klen) != 0)
            return 0;
        line += klen;
        if (k != 5 && k != 6 && *line++ != ' ')
            return 0;
        if (!parse_values(k, line, eol, o))
            return 0;
        line = eol + 1;
    }
    return *line == '\0';
}

/* Run eval on fixture `name` with n and seed; parse into o. */
static int run_eval(const char *name, const char *n, const char *seed,
                    testing_run *r, eval_out *o)
{
    char path[1024];
    const char *args[] = {"eval", "--params", path, "--n",
                          n,      "--seed",   seed, NULL};

    data_path(name, path, sizeof path);
    testing_run_softlin(r, args);
    if (r->status != CLI_OK) {
        fprintf(stderr, "\n  eval %s: status %d: %s\n", name, r->status,
                r->err);
        return 0;
    }
    if (!parse_eval(r->out, o)) {
        fprintf(stderr, "\n  eval %s: unparsable output:\n%s\n", name, r->out);
        return 0;
    }
    return 1;
}

static int close_rel(const char *what, double got, double want, double tol)
{
    if (fabs(got - want) <= tol * fabs(want))
        return 1;
    fprintf(stderr, "\n  %s: got %a want %a\n", what, got, want);
    return 0;
}

/* ---- Global flags ----------------------------------------------------- */

static void test_version(void)
{
    const char *args[] = {"--version", NULL};
    unsigned a, b, c;
    char nl;
    testing_run r;

    testing_run_softlin(&r, args);
    CU_ASSERT_EQUAL(r.status, CLI_OK);
    CU_ASSERT(sscanf(r.out, "softlin %u.%u.%u%c", &a, &b, &c, &nl) == 4 &&
              nl == '\n');
    CU_ASSERT(testing_one_line(r.out));
    CU_ASSERT_STRING_EQUAL(r.err, "");
    testing_run_free(&r);
}

static void test_help(void)
{
    const char *args[] = {"--help", NULL};
    testing_run r;

    testing_run_softlin(&r, args);
    CU_ASSERT_EQUAL(r.status, CLI_OK);
    CU_ASSERT(strstr(r.out, "Usage: softlin") != NULL);
    CU_ASSERT(strstr(r.out, "eval") != NULL);
    CU_ASSERT_STRING_EQUAL(r.err, "");
    testing_run_free(&r);
}

/* "softlin eval --help" and "softlin help eval" print the same usage. */
static void test_eval_help(void)
{
    const char *a1[] = {"eval", "--help", NULL};
    const char *a2[] = {"help", "eval", NULL};
    testing_run r1, r2;

    testing_run_softlin(&r1, a1);
    testing_run_softlin(&r2, a2);
    CU_ASSERT_EQUAL(r1.status, CLI_OK);
    CU_ASSERT_EQUAL(r2.status, CLI_OK);
    CU_ASSERT(strstr(r1.out, "--params") != NULL);
    CU_ASSERT_STRING_EQUAL(r1.out, r2.out);
    CU_ASSERT_STRING_EQUAL(r1.err, "");
    testing_run_free(&r1);
    testing_run_free(&r2);
}

static void test_unknown_subcommand(void)
{
    const char *args[] = {"frobnicate", "--n", "3", NULL};

    expect_usage_error(args, "frobnicate", NULL);
}

static void test_no_subcommand(void)
{
    const char *args[] = {NULL};

    expect_usage_error(args, "softlin", "command");
}

/* ---- eval on valid input ---------------------------------------------- */

/* Every line present and well-formed; F_n and F_inf have p entries; the
 * distance is the norm of their printed difference; kappa >= 1 and
 * 1 <= ess <= n. */
static void test_eval_output_format(void)
{
    testing_run r;
    eval_out o;
    double d2 = 0.0;

    CU_ASSERT_FATAL(run_eval("valid.json", "1000", "42", &r, &o));
    CU_ASSERT_STRING_EQUAL(r.err, "");
    CU_ASSERT(o.seed == 42 && o.n == 1000);
    CU_ASSERT(o.D == 3 && o.Dq == 2 && o.p == 2);
    CU_ASSERT_EQUAL(o.n_F_n, o.p);
    CU_ASSERT_EQUAL(o.n_F_inf, o.p);
    for (size_t i = 0; i < o.n_F_n && i < o.n_F_inf; i++)
        d2 += (o.F_n[i] - o.F_inf[i]) * (o.F_n[i] - o.F_inf[i]);
    CU_ASSERT(close_rel("distance", o.distance, sqrt(d2), CLI_DIST_TOL));
    CU_ASSERT(o.kappa >= 1.0);
    CU_ASSERT(o.ess >= 1.0 && o.ess <= (double)o.n);
    CU_ASSERT(isfinite(o.lognorm));
    testing_run_free(&r);
}

/* F_inf = V (m + S a), kappa = exp(a^T S a) and lognorm_inf = <a, m> +
 * a^T S a / 2, recomputed here from the file. */
static void test_eval_limit_values(void)
{
    char path[1024], err[512];
    double a[3], Sa[3], quad = 0.0, am = 0.0;
    sl_params p;
    testing_run r;
    eval_out o;

    data_path("valid.json", path, sizeof path);
    CU_ASSERT_FATAL(sl_params_load(path, &p, err, sizeof err) == SL_OK);
    CU_ASSERT_FATAL(p.D == 3);
    CU_ASSERT_FATAL(run_eval("valid.json", "10", "7", &r, &o));
    for (size_t k = 0; k < 3; k++) {
        a[k] = 0.0;
        for (size_t j = 0; j < p.Dq; j++)
            a[k] += p.W[k * p.Dq + j] * p.query[j];
    }
    for (size_t k = 0; k < 3; k++) {
        Sa[k] = 0.0;
        for (size_t l = 0; l < 3; l++)
            Sa[k] += p.cov[k * 3 + l] * a[l];
        quad += a[k] * Sa[k];
        am += a[k] * p.mean[k];
    }
    for (size_t i = 0; i < p.p && i < o.n_F_inf; i++) {
        double f = 0.0;

        for (size_t k = 0; k < 3; k++)
            f += p.V[i * 3 + k] * (p.mean[k] + Sa[k]);
        CU_ASSERT(close_rel("F_inf", o.F_inf[i], f, CLI_LIMIT_TOL));
    }
    CU_ASSERT(close_rel("kappa", o.kappa, exp(quad), CLI_LIMIT_TOL));
    CU_ASSERT(close_rel("lognorm_inf", o.lognorm_inf, am + 0.5 * quad,
                        CLI_LIMIT_TOL));
    sl_params_free(&p);
    testing_run_free(&r);
}

static void test_eval_same_seed_same_output(void)
{
    testing_run r1, r2;
    eval_out o1, o2;

    CU_ASSERT_FATAL(run_eval("valid.json", "5000", "99", &r1, &o1));
    CU_ASSERT_FATAL(run_eval("valid.json", "5000", "99", &r2, &o2));
    CU_ASSERT_STRING_EQUAL(r1.out, r2.out);
    testing_run_free(&r1);
    testing_run_free(&r2);
}

static void test_eval_other_seed_other_output(void)
{
    testing_run r1, r2;
    eval_out o1, o2;

    CU_ASSERT_FATAL(run_eval("valid.json", "5000", "99", &r1, &o1));
    CU_ASSERT_FATAL(run_eval("valid.json", "5000", "100", &r2, &o2));
    CU_ASSERT(o1.F_n[0] != o2.F_n[0] || o1.F_n[1] != o2.F_n[1]);
    CU_ASSERT(o1.F_inf[0] == o2.F_inf[0] && o1.F_inf[1] == o2.F_inf[1]);
    testing_run_free(&r1);
    testing_run_free(&r2);
}

/* n = 2e5 tokens of stat.json (a^T S a ~ 5e-3, so the bound's condition
 * n >= 8 (kappa - 1) / delta holds): the distance is below the bound.
 * A correct program fails this with probability below delta. */
static void test_eval_within_bound(void)
{
    const double n = CLI_BOUND_N, delta = CLI_BOUND_DELTA;
    char path[1024], err[512];
    double a[3], Sa[3], quad = 0.0, trace = 0.0, vsa2 = 0.0, kappa, T;
    double bound;
    sl_params p;
    testing_run r;
    eval_out o;

    data_path("stat.json", path, sizeof path);
    CU_ASSERT_FATAL(sl_params_load(path, &p, err, sizeof err) == SL_OK);
    CU_ASSERT_FATAL(p.D == 3);
    CU_ASSERT_FATAL(run_eval("stat.json", "200000", CLI_TEST_SEED, &r, &o));
    CU_ASSERT_FATAL(o.n == CLI_BOUND_N);

    /* a = W x, S a, a^T S a. */
    for (size_t k = 0; k < 3; k++) {
        a[k] = 0.0;
        for (size_t j = 0; j < p.Dq; j++)
            a[k] += p.W[k * p.Dq + j] * p.query[j];
    }
    for (size_t k = 0; k < 3; k++) {
        Sa[k] = 0.0;
        for (size_t l = 0; l < 3; l++)
            Sa[k] += p.cov[k * 3 + l] * a[l];
        quad += a[k] * Sa[k];
    }
    kappa = exp(quad);

    /* tr(V S V^T) and |V S a|^2. */
    for (size_t i = 0; i < p.p; i++) {
        double vsa = 0.0;

        for (size_t k = 0; k < 3; k++) {
            vsa += p.V[i * 3 + k] * Sa[k];
            for (size_t l = 0; l < 3; l++)
                trace += p.V[i * 3 + k] * p.cov[k * 3 + l] * p.V[i * 3 + l];
        }
        vsa2 += vsa * vsa;
    }
    T = kappa * (trace + vsa2);
    bound = 2.0 * sqrt(2.0 * T / (n * delta));

    CU_ASSERT_FATAL(n >= 8.0 * (kappa - 1.0) / delta);
    CU_ASSERT(close_rel("kappa", o.kappa, kappa, CLI_LIMIT_TOL));
    CU_ASSERT(o.distance < bound);
    if (!(o.distance < bound))
        fprintf(stderr, "\n  distance %a >= bound %a (seed %s)\n", o.distance,
                bound, CLI_TEST_SEED);
    sl_params_free(&p);
    testing_run_free(&r);
}

/* ---- eval on malformed files ------------------------------------------ */

/* eval on fixture `name`: status 2, one line naming the file and field. */
static void expect_bad_file(const char *name, const char *field)
{
    char path[1024];
    const char *args[] = {"eval", "--params", path, "--n",
                          "10",   "--seed",   "1",  NULL};

    data_path(name, path, sizeof path);
    expect_usage_error(args, name, field);
}

static void test_eval_wrong_shape(void)
{
    expect_bad_file("bad_w_rows.json", "\"W\"");
}

static void test_eval_overflowing_number(void)
{
    expect_bad_file("overflow.json", "\"cov\" row 2 column 3");
}

static void test_eval_non_finite_number(void)
{
    expect_bad_file("nan.json", "\"W\" row 2 column 1");
}

static void test_eval_not_positive_definite(void)
{
    expect_bad_file("not_pd.json", "\"cov\"");
}

static void test_eval_truncated_json(void)
{
    expect_bad_file("truncated.json", "\"V\"");
}

static void test_eval_missing_file(void)
{
    expect_bad_file("no_such_file.json", "cannot open");
}

/* ---- eval's flags ----------------------------------------------------- */

/* eval with --params valid.json and the given flags, expect one line on
 * stderr naming `flag`. */
static void expect_bad_flag(const char *flag, const char *k1, const char *v1,
                            const char *k2, const char *v2)
{
    char path[1024];
    const char *args[] = {"eval", "--params", path, k1, v1, k2, v2, NULL};

    data_path("valid.json", path, sizeof path);
    expect_usage_error(args, flag, NULL);
}

static void test_flag_n_zero(void)
{
    expect_bad_flag("--n", "--n", "0", "--seed", "1");
}

static void test_flag_n_negative(void)
{
    expect_bad_flag("--n", "--n", "-3", "--seed", "1");
}

static void test_flag_n_not_a_number(void)
{
    expect_bad_flag("--n", "--n", "abc", "--seed", "1");
}

static void test_flag_n_not_an_integer(void)
{
    expect_bad_flag("--n", "--n", "2.5", "--seed", "1");
}

static void test_flag_seed_not_a_number(void)
{
    expect_bad_flag("--seed", "--n", "10", "--seed", "x");
}

static void test_flag_seed_overflow(void)
{
    expect_bad_flag("--seed", "--n", "10", "--seed", "18446744073709551616");
}

static void test_flag_unknown(void)
{
    expect_bad_flag("--bogus", "--n", "10", "--bogus", "1");
}

static void test_flag_missing_params(void)
{
    const char *args[] = {"eval", "--n", "10", "--seed", "1", NULL};

    expect_usage_error(args, "--params", NULL);
}

/* 1e3 and 1000 are the same prompt length. */
static void test_flag_n_exponent_form(void)
{
    testing_run r1, r2;
    eval_out o1, o2;

    CU_ASSERT_FATAL(run_eval("valid.json", "1e3", "5", &r1, &o1));
    CU_ASSERT_FATAL(run_eval("valid.json", "1000", "5", &r2, &o2));
    CU_ASSERT_EQUAL(o1.n, 1000);
    CU_ASSERT_STRING_EQUAL(r1.out, r2.out);
    testing_run_free(&r1);
    testing_run_free(&r2);
}

void register_cli_suite(void)
{
    CU_pSuite s = CU_add_suite("cli", NULL, NULL);

    testing_add(s, "version", test_version);
    testing_add(s, "help", test_help);
    testing_add(s, "eval_help", test_eval_help);
    testing_add(s, "unknown_subcommand", test_unknown_subcommand);
    testing_add(s, "no_subcommand", test_no_subcommand);
    testing_add(s, "eval_output_format", test_eval_output_format);
    testing_add(s, "eval_limit_values", test_eval_limit_values);
    testing_add(s, "eval_same_seed_same_output",
                test_eval_same_seed_same_output);
    testing_add(s, "eval_other_seed_other_output",
                test_eval_other_seed_other_output);
    testing_add(s, "eval_within_bound", test_eval_within_bound);
    testing_add(s, "eval_wrong_shape", test_eval_wrong_shape);
    testing_add(s, "eval_overflowing_number", test_eval_overflowing_number);
    testing_add(s, "eval_non_finite_number", test_eval_non_finite_number);
    testing_add(s, "eval_not_positive_definite",
                test_eval_not_positive_definite);
    testing_add(s, "eval_truncated_json", test_eval_truncated_json);
    testing_add(s, "eval_missing_file", test_eval_missing_file);
    testing_add(s, "flag_n_zero", test_flag_n_zero);
    testing_add(s, "flag_n_negative", test_flag_n_negative);
    testing_add(s, "flag_n_not_a_number", test_flag_n_not_a_number);
    testing_add(s, "flag_n_not_an_integer", test_flag_n_not_an_integer);
    testing_add(s, "flag_seed_not_a_number", test_flag_seed_not_a_number);
    testing_add(s, "flag_seed_overflow", test_flag_seed_overflow);
    testing_add(s, "flag_unknown", test_flag_unknown);
    testing_add(s, "flag_missing_params", test_flag_missing_params);
    testing_add(s, "flag_n_exponent_form", test_flag_n_exponent_form);
}
