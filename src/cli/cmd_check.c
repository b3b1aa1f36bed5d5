/* cmd_check.c -- "softlin check": Monte Carlo checks of the theorems.
 *
 *   softlin check NAME [flags]      NAME: a catalogue id or "all"
 *   softlin check list              the catalogue
 *
 * Runs the check (engine/checks.h) on the parameters of a file, or drawn
 * from the seed and printed; prints the verdict table on stdout, writes
 * the JSON, CSV and raw-deviation files asked for (each through a
 * temporary file and a rename, only after the run succeeded), and exits
 * 0 when the gate passes, 1 when a rigorous check or a rate failed or a
 * negative control passed, 2 for bad usage or input.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "cli/cli.h"
#include "engine/checks.h"
#include "engine/report.h"
#include "measure/measure.h"
#include "params/params.h"

#define CHECK_MAX_N       UINT64_C(1000000000)
#define CHECK_MAX_TRIALS  UINT64_C(100000000)
#define CHECK_MAX_NS      32
#define CHECK_MAX_DIM     256
#define CHECK_MAX_THREADS 1024
#define CHECK_DRAW_QUAD   1.0 /* a^T S a of drawn parameters */
#define CHECK_REF_DRAWS   100000

enum {
    O_PARAMS,
    O_MEASURE,
    O_DIM,
    O_N,
    O_TRIALS,
    O_DELTA,
    O_ALPHA,
    O_SEED,
    O_THREADS,
    O_JSON,
    O_CSV,
    O_DUMP,
    O_PAPER_C,
    O_PAPER_EXP,
    O_RATE_TOL,
    O_FAULT,
    O_COUNT
};

void cmd_check_usage(FILE *out)
{
    fputs(
        "Usage: softlin check NAME [OPTIONS]\n"
        "       softlin check list\n"
        "\n"
        "Monte Carlo check of a theorem of spec/THEOREMS.md.  NAME is one\n"
        "of concentration, gradient, rate, linearity, kappa, all, or a\n"
        "comma-separated list of them (which then share their runs).\n"
        "\n"
        "Options:\n"
        "  --params FILE   parameters (JSON: mean, cov, W, V, query);\n"
        "                  default: drawn from the seed and printed\n"
        "  --measure LAW   gaussian (default), rademacher, uniform, mixture:\n"
        "                  tokens m + L eta, eta i.i.d. of that unit law\n"
        "  --dim D         dimension of drawn parameters (default 8)\n"
        "  --n LIST        prompt lengths, increasing, comma-separated\n"
        "                  (default 100,1000,10000)\n"
        "  --trials T      prompts per length (default 1000)\n"
        "  --delta X       claimed violation probability (default 0.05)\n"
        "  --alpha X       level of the intervals (default 0.001)\n"
        "  --seed S        seed (default 1)\n"
        "  --threads K     threads (default: all cores)\n"
        "  --json FILE     JSON report (spec/REPORT_SCHEMA.md)\n"
        "  --csv FILE      CSV of the same rows and fits\n"
        "  --dump FILE     every trial's F_n - F_inf: n,trial,c0,c1,...\n"
        "  --paper-C X     constant C of the paper-form bound (default 4)\n"
        "  --paper-c X     exponent c of the paper-form bound (default 1)\n"
        "  --rate-tol X    the rate claim is slope <= -1/2 + X (default 0.1)\n"
        "  --fault F       none (default) or scores: every token pushed with\n"
        "                  score 0, a deliberately wrong kernel that the\n"
        "                  check must flag\n"
        "\n"
        "Exit status: 0 the gate passes, 1 a rigorous check or a rate\n"
        "failed or a negative control passed, 2 bad usage or input.\n",
        out);
}

static void list_catalogue(void)
{
    for (size_t k = 0; k < sl_catalogue_len; k++) {
        const sl_theorem *t = &sl_catalogue[k];
        printf("%s\n  claim:       %s\n  assumptions: %s\n  bound:       "
               "%s\n  rows:        %s\n",
               t->id, t->statement, t->assumptions, t->bound, t->classes);
    }
}

/* "100,1000,1e4" -> increasing list; 0 and a message on error. */
static int parse_ns(const char *text, uint64_t *ns, size_t *nn)
{
    const char *p = text;
    *nn = 0;
    while (1) {
        char item[64];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item) {
            cli_error("check",
                      "--n: expected positive integers separated "
                      "by commas, got \"%s\"",
                      text);
            return 0;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (*nn == CHECK_MAX_NS) {
            cli_error("check", "--n: at most %d lengths", CHECK_MAX_NS);
            return 0;
        }
        if (!cli_count_arg("check", "--n", item, 1, CHECK_MAX_N, &ns[*nn]))
            return 0;
        if (*nn > 0 && ns[*nn] <= ns[*nn - 1]) {
            cli_error("check", "--n: lengths must increase, got \"%s\"", text);
            return 0;
        }
        (*nn)++;
        if (p[len] == '\0')
            return 1;
        p += len + 1;
    }
}

/* A probability strictly between 0 and 1. */
static int prob_arg(const char *flag, const char *text, double *out)
{
    if (!cli_double_arg("check", flag, text, out))
        return 0;
    if (!(*out > 0.0 && *out < 1.0)) {
        cli_error("check", "%s: expected a number in (0, 1), got \"%s\"", flag,
                  text);
        return 0;
    }
    return 1;
}

/* ---- Raw deviations (--dump) ------------------------------------------ */

typedef struct dump_file {
    FILE *f;
    int failed;
} dump_file;

static void dump_row(void *ctx, uint64_t n, uint64_t trial, size_t p,
                     const double *dev)
{
    dump_file *d = ctx;
    if (d->failed)
        return;
    if (fprintf(d->f, "%" PRIu64 ",%" PRIu64, n, trial) < 0)
        d->failed = 1;
    for (size_t i = 0; i < p; i++)
        if (fprintf(d->f, ",%.17g", dev[i]) < 0)
            d->failed = 1;
    if (fputc('\n', d->f) == EOF)
        d->failed = 1;
}

/* ---- The table on stdout ------------------------------------------------ */

static void print_table(const sl_table *t)
{
    printf("%-13s %-6s %-12s %5s %10s %-17s %-23s %10s %10s %7s %s\n", "check",
           "target", "bound", "class", "n", "violations", "interval",
           "quantile", "bound", "tight", "verdict");
    for (size_t i = 0; i < t->nrows; i++) {
        const sl_row *r = &t->rows[i];
        char viol[32], ci[48];
        snprintf(viol, sizeof viol, "%" PRIu64 "/%" PRIu64, r->violations,
                 r->trials);
        snprintf(ci, sizeof ci, "[%.4f, %.4f]", r->cp_low, r->cp_high);
        printf("%-13s %-6s %-12s %5.5s %10" PRIu64 " %-17s %-23s %10.4g "
               "%10.4g %7.3g %s%s",
               r->check, r->target, r->bound_name, sl_class_str(r->cls), r->n,
               viol, ci, r->quantile, r->bound, r->tightness,
               sl_verdict_str(r->verdict), r->control ? " (control)" : "");
        if (!isnan(r->sweep))
            printf(" sweep=%.4g", r->sweep);
        printf("\n");
    }
    for (size_t i = 0; i < t->nfits; i++) {
        const sl_fit *f = &t->fits[i];
        printf("fit %-6s %-6s slope %.4f +- %.4f, claim <= %.2f + %.2f: "
               "%s%s\n",
               f->check, f->target, f->slope, f->slope_se, f->claim, f->tol,
               sl_verdict_str(f->verdict), f->control ? " (control)" : "");
    }
}

/* ---- The command -------------------------------------------------------- */

static const char *flag_names[O_COUNT] = {
    "--params",  "--measure", "--dim",      "--n",    "--trials", "--delta",
    "--alpha",   "--seed",    "--threads",  "--json", "--csv",    "--dump",
    "--paper-C", "--paper-c", "--rate-tol", "--fault"};

/* Parse and validate every flag into cfg and friends. */
typedef struct check_args {
    const char *name;
    const char *params_path, *json, *csv, *dump;
    sl_law law;
    uint64_t dim, trials, seed, threads;
    uint64_t ns[CHECK_MAX_NS];
    size_t nn;
    double delta, alpha, paper_C, paper_c, rate_tol;
    int fault;
} check_args;

static int parse_args(int argc, char **argv, check_args *a)
{
    cli_opt opts[O_COUNT];
    for (int k = 0; k < O_COUNT; k++) {
        opts[k].flag = flag_names[k];
        opts[k].value = NULL;
    }
    memset(a, 0, sizeof *a);
    a->name = argv[1];
    a->dim = 8;
    a->trials = 1000;
    a->seed = 1;
    a->delta = 0.05;
    a->alpha = 1e-3;
    a->paper_C = 4.0;
    a->paper_c = 1.0;
    a->rate_tol = 0.1;
    a->threads = cli_cores();
    sl_law_parse("gaussian", &a->law);

    int rc = cli_parse_opts("check", argc - 1, argv + 1, opts, O_COUNT);
    if (rc != CLI_PARSED)
        return rc;
    const char *v;
    if ((v = opts[O_MEASURE].value) != NULL && sl_law_parse(v, &a->law)) {
        cli_error("check",
                  "--measure: expected gaussian, rademacher, "
                  "uniform or mixture, got \"%s\"",
                  v);
        return CLI_BAD;
    }
    if ((v = opts[O_DIM].value) != NULL &&
        !cli_count_arg("check", "--dim", v, 1, CHECK_MAX_DIM, &a->dim))
        return CLI_BAD;
    if ((v = opts[O_N].value) != NULL
            ? !parse_ns(v, a->ns, &a->nn)
            : !parse_ns("100,1000,10000", a->ns, &a->nn))
        return CLI_BAD;
    if ((v = opts[O_TRIALS].value) != NULL &&
        !cli_count_arg("check", "--trials", v, 1, CHECK_MAX_TRIALS, &a->trials))
        return CLI_BAD;
    if ((v = opts[O_DELTA].value) != NULL && !prob_arg("--delta", v, &a->delta))
        return CLI_BAD;
    if ((v = opts[O_ALPHA].value) != NULL && !prob_arg("--alpha", v, &a->alpha))
        return CLI_BAD;
    if ((v = opts[O_SEED].value) != NULL &&
        !cli_u64_arg("check", "--seed", v, &a->seed))
        return CLI_BAD;
    if ((v = opts[O_THREADS].value) != NULL &&
        !cli_count_arg("check", "--threads", v, 1, CHECK_MAX_THREADS,
                       &a->threads))
        return CLI_BAD;
    double *pos[] = {&a->paper_C, &a->paper_c, &a->rate_tol};
    for (int k = 0; k < 3; k++) {
        v = opts[O_PAPER_C + k].value;
        if (v == NULL)
            continue;
        if (!cli_double_arg("check", flag_names[O_PAPER_C + k], v, pos[k]))
            return CLI_BAD;
        if (!(*pos[k] >= 0.0) || (k == 0 && !(*pos[k] > 0.0))) {
            cli_error("check", "%s: expected a %s number, got \"%s\"",
                      flag_names[O_PAPER_C + k],
                      k == 0 ? "positive" : "non-negative", v);
            return CLI_BAD;
        }
    }
    if ((v = opts[O_FAULT].value) != NULL) {
        if (strcmp(v, "scores") == 0) {
            a->fault = SL_FAULT_SCORES;
        } else if (strcmp(v, "none") != 0) {
            cli_error("check", "--fault: expected none or scores, got \"%s\"",
                      v);
            return CLI_BAD;
        }
    }
    a->params_path = opts[O_PARAMS].value;
    a->json = opts[O_JSON].value;
    a->csv = opts[O_CSV].value;
    a->dump = opts[O_DUMP].value;
    if (a->params_path != NULL && opts[O_DIM].value != NULL) {
        cli_error("check", "--dim: only for drawn parameters, not with "
                           "--params");
        return CLI_BAD;
    }
    if (strcmp(a->name, "all") != 0 && strstr(a->name, "rate") != NULL &&
        a->nn < 2) {
        cli_error("check", "--n: the rate check needs at least two lengths");
        return CLI_BAD;
    }
    return CLI_PARSED;
}

/* Write path from a temporary file; returns 0 and prints on failure. */
static int commit_file(const char *tmp, const char *path)
{
    if (rename(tmp, path) != 0) {
        cli_error("check", "%s: cannot write the file", path);
        remove(tmp);
        return 0;
    }
    return 1;
}

int cmd_check(int argc, char **argv)
{
    check_args a;
    sl_params prm;
    sl_measure mu;
    sl_table table;
    char err[512], dump_tmp[4096];
    sl_status st;

    /* 1. The command line. */
    if (argc < 2) {
        cli_error("check", "expected a check name or \"list\" (try "
                           "\"softlin check --help\")");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cmd_check_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "list") == 0 && argc == 2) {
        list_catalogue();
        return CLI_EXIT_OK;
    }
    if (!sl_check_name_valid(argv[1])) {
        cli_error("check",
                  "unknown check \"%s\" (try \"softlin check "
                  "list\")",
                  argv[1]);
        return CLI_EXIT_USAGE;
    }
    int rc = parse_args(argc, argv, &a);
    if (rc == CLI_HELP) {
        cmd_check_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc != CLI_PARSED)
        return CLI_EXIT_USAGE;

    /* 2. Parameters: from the file, or drawn and printed. */
    if (a.params_path != NULL) {
        st = sl_params_load(a.params_path, &prm, err, sizeof err);
        if (st != SL_OK) {
            cli_error("check", "%s", err);
            return st == SL_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
        }
    } else {
        st = sl_params_draw(a.seed, (size_t)a.dim, CHECK_DRAW_QUAD, &prm);
        if (st != SL_OK) {
            cli_error("check", "cannot draw parameters: %s", sl_status_str(st));
            return CLI_EXIT_FAIL;
        }
        fprintf(stderr,
                "softlin check: parameters drawn from seed %" PRIu64 ": ",
                a.seed);
        sl_params_print(stderr, &prm);
        fputc('\n', stderr);
    }
    st = sl_measure_init(&mu, &a.law, prm.D, prm.mean, prm.cov);
    if (st != SL_OK) {
        cli_error("check", "cannot set up the measure: %s", sl_status_str(st));
        sl_params_free(&prm);
        return CLI_EXIT_USAGE;
    }
    fprintf(stderr, "softlin check %s: measure %s, D %zu, n", a.name,
            sl_law_name(&a.law), prm.D);
    for (size_t i = 0; i < a.nn; i++)
        fprintf(stderr, "%s%" PRIu64, i ? "," : " ", a.ns[i]);
    fprintf(stderr,
            ", %" PRIu64 " trials, delta %g, alpha %g, seed %" PRIu64
            ", %" PRIu64 " threads\n",
            a.trials, a.delta, a.alpha, a.seed, a.threads);

    /* 3. The run, with the raw deviations streamed to a temporary file. */
    double *g = malloc(prm.p * sizeof(double));
    dump_file df = {NULL, 0};
    if (g == NULL) {
        cli_error("check", "out of memory");
        sl_measure_free(&mu);
        sl_params_free(&prm);
        return CLI_EXIT_FAIL;
    }
    for (size_t r = 0; r < prm.p; r++)
        g[r] = 1.0 / sqrt((double)prm.p);
    if (a.dump != NULL) {
        snprintf(dump_tmp, sizeof dump_tmp, "%s.tmp", a.dump);
        df.f = fopen(dump_tmp, "w");
        if (df.f == NULL) {
            cli_error("check", "--dump: cannot write %s", a.dump);
            free(g);
            sl_measure_free(&mu);
            sl_params_free(&prm);
            return CLI_EXIT_USAGE;
        }
        fputs("n,trial", df.f);
        for (size_t r = 0; r < prm.p; r++)
            fprintf(df.f, ",c%zu", r);
        fputc('\n', df.f);
    }
    cli_progress pr;
    cli_progress_start(&pr, "check");
    sl_check_cfg cfg = {a.name,
                        &mu,
                        prm.Dq,
                        prm.p,
                        prm.W,
                        prm.V,
                        prm.query,
                        g,
                        a.ns,
                        a.nn,
                        a.trials,
                        a.seed,
                        a.delta,
                        a.alpha,
                        a.paper_C,
                        a.paper_c,
                        a.rate_tol,
                        CHECK_REF_DRAWS,
                        (unsigned)a.threads,
                        a.dump != NULL ? dump_row : NULL,
                        &df,
                        cli_progress_show,
                        &pr,
                        a.fault};
    sl_check_info info;
    sl_table_init(&table);
    st = sl_check_run(&cfg, &table, &info);
    double elapsed = cli_progress_end(&pr);

    int status = CLI_EXIT_OK;
    if (st != SL_OK) {
        cli_error("check", "%s",
                  st == SL_EINVAL ? "the check cannot run on these "
                                    "parameters (a kappa sweep needs a "
                                    "non-zero tilt)"
                                  : sl_status_str(st));
        status = st == SL_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }

    /* 4. Files, then the table and the gate. */
    if (df.f != NULL) {
        int bad = fclose(df.f) != 0 || df.failed;
        if (status == CLI_EXIT_OK && !bad) {
            if (!commit_file(dump_tmp, a.dump))
                status = CLI_EXIT_FAIL;
        } else {
            remove(dump_tmp);
        }
        if (bad && status == CLI_EXIT_OK) {
            cli_error("check", "--dump: cannot write %s", a.dump);
            status = CLI_EXIT_FAIL;
        }
    }
    sl_run_info ri = {"check",
                      a.name,
                      sl_law_name(&a.law),
                      a.params_path ? a.params_path : "seed",
                      &prm,
                      g,
                      a.seed,
                      a.trials,
                      a.alpha,
                      a.delta,
                      info.quad,
                      info.kappa,
                      a.paper_C,
                      a.paper_c,
                      (unsigned)a.threads,
                      elapsed};
    if (status == CLI_EXIT_OK && a.json != NULL &&
        sl_report_json(a.json, &ri, &table, err, sizeof err) != SL_OK) {
        cli_error("check", "%s", err);
        status = CLI_EXIT_FAIL;
    }
    if (status == CLI_EXIT_OK && a.csv != NULL &&
        sl_report_csv(a.csv, &ri, &table, err, sizeof err) != SL_OK) {
        cli_error("check", "%s", err);
        status = CLI_EXIT_FAIL;
    }
    if (status == CLI_EXIT_OK) {
        sl_gate_counts gc;
        print_table(&table);
        sl_gate_count(&table, &gc);
        int fail = gc.rigorous_fail + gc.rate_fail + gc.control_pass > 0;
        printf("gate: %s (%zu rigorous failures, %zu rate failures, %zu "
               "controls passed); a^T S a %.4g, kappa %.4g, %.1f s\n",
               fail ? "fail" : "pass", gc.rigorous_fail, gc.rate_fail,
               gc.control_pass, info.quad, info.kappa, elapsed);
        status = fail ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    sl_table_free(&table);
    free(g);
    sl_measure_free(&mu);
    sl_params_free(&prm);
    return status;
}
