/* cmd_oracle.c -- "softlin oracle": every kernel against its MPFR oracle
 * and its proven error budget, on seeded random and adversarial cases.
 *
 * A sweep (the default) runs cases 0 .. N-1 of each kernel asked for
 * (oracle/accuracy.h) and prints one row per kernel output: cases run,
 * largest observed error and the budget of that entry, tightness (the
 * largest error / budget), verdict, the case of that tightness, and
 * whether Arb certifies the MPFR values.  Every failing case is printed
 * with its values in %a and the command that replays it; --case I runs
 * that one case alone and prints each output's worst entry.  --json
 * writes the rows through PATH.tmp and a rename, as
 *
 *   {"schema": "softlin-accuracy/1", "seed": "S" (decimal digits),
 *    "cases", "prec_bits",
 *    "kernels": [{"kernel", "output", "cases", "max_error", "budget",
 *                 "tightness", "verdict": "PASS" | "FAIL", "worst_case",
 *                 "arb_agree": true | false}]}
 *
 * with numbers to 17 digits and a non-finite error or ratio as null.
 *
 * Exit status: 0 when every budget holds and Arb certifies every oracle
 * value it encloses, 1 when a budget is exceeded, Arb disagrees or the
 * run fails (memory, output file), 2 for bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "oracle/accuracy.h"
#include "oracle/oracle_arb.h"

#define ORACLE_SCHEMA "softlin-accuracy/1"

/* Defaults and limits of the flags. */
#define ORACLE_DEFAULT_CASES 200
#define ORACLE_DEFAULT_SEED  1
#define ORACLE_DEFAULT_PREC  256
#define ORACLE_MAX_CASES     UINT64_C(100000000)

/* Rows of a sweep of every kernel: the sum of their outputs. */
#define ORACLE_MAX_ROWS (SL_ACC_NKERNELS * SL_ACC_MAX_OUTPUTS)

void cmd_oracle_usage(FILE *out)
{
    fprintf(out,
            "Usage: softlin oracle [--kernel NAME|all] [--cases N] [--seed S]\n"
            "                      [--prec BITS] [--case I] [--json FILE]\n"
            "\n"
            "Runs every double kernel against its MPFR oracle and its proven\n"
            "error budget (spec/ACCURACY.md) on N seeded cases: case i draws\n"
            "its sizes and inputs from random stream (S, i), and every %dth\n"
            "case is adversarial (huge logits, near ties, cancellation,\n"
            "underflowing weights, ...).  Arb certifies the MPFR value of\n"
            "every output.\n"
            "\n"
            "Options:\n"
            "  --kernel NAME  one of softmax, logsumexp, attention, stream,\n"
            "                 linear, linear_limit, limit, gradient, or all\n"
            "                 (default all)\n"
            "  --cases N      cases per kernel, 1 to %" PRIu64 " (default %d)\n"
            "  --seed S       seed, an unsigned 64-bit integer (default %d)\n"
            "  --prec BITS    MPFR precision, %d to %d (default %d)\n"
            "  --case I       replay case I alone (not with --cases, --json)\n"
            "  --json FILE    also write the rows as JSON (%s)\n"
            "  --help         this text\n"
            "\n"
            "Output: one row per kernel output: cases, max error (and the\n"
            "budget of that entry), tightness (the largest error / budget\n"
            "of any entry), verdict, worst case (that entry's), arb (yes:\n"
            "every MPFR value certified to 60 bits).\n"
            "Failing cases are printed in %%a with the command that\n"
            "replays them.\n"
            "\n"
            "Exit status: 0 every budget holds, 1 a budget is exceeded (or\n"
            "Arb disagrees, or the run failed), 2 bad usage.\n",
            SL_ACC_ADVERSARIAL_EVERY, ORACLE_MAX_CASES, ORACLE_DEFAULT_CASES,
            ORACLE_DEFAULT_SEED, SL_ACC_PREC_MIN_BITS, SL_ACC_PREC_MAX_BITS,
            ORACLE_DEFAULT_PREC, ORACLE_SCHEMA);
}

/* What the command line asked for. */
typedef struct oracle_args {
    int all; /* every kernel */
    sl_acc_kernel kernel;
    sl_acc_opts opts;
    int replay; /* --case given */
    uint64_t case_index;
    const char *json; /* NULL: no file */
} oracle_args;

/* The arguments of the replay command of a case ("--prec" only when it is
 * not the default). */
static void print_replay(const oracle_args *a, sl_acc_kernel k, uint64_t i)
{
    printf("    replay: softlin oracle --kernel %s --seed %" PRIu64
           " --case %" PRIu64,
           sl_acc_kernel_name(k), a->opts.seed, i);
    if (a->opts.prec != ORACLE_DEFAULT_PREC)
        printf(" --prec %u", a->opts.prec);
    printf("\n");
}

static const char *arb_word(sl_acc_arb arb)
{
    switch (arb) {
    case SL_ACC_ARB_AGREE:
        return "yes";
    case SL_ACC_ARB_DISAGREE:
        return "NO";
    default:
        return "-";
    }
}

static void print_entry(const sl_acc_entry *e)
{
    printf("      entry %zu: got %a exact %a\n"
           "      error %a > budget %a (ratio %.3g)\n",
           e->index, e->got, e->exact, e->error, e->budget, e->ratio);
}

/* ---- one case --------------------------------------------------------- */

static int replay_one(const oracle_args *a, sl_acc_kernel k)
{
    sl_acc_case c;
    sl_status st = sl_acc_case_run(k, &a->opts, a->case_index, &c);
    int bad = 0;

    if (st != SL_OK) {
        cli_error("oracle", "kernel %s, case %" PRIu64 ": %s",
                  sl_acc_kernel_name(k), a->case_index, sl_status_str(st));
        return -1;
    }
    printf("%s case %" PRIu64 " (%s): n %zu, D %zu, Dq %zu, p %zu\n",
           sl_acc_kernel_name(k), c.index, c.family, c.n, c.D, c.Dq, c.p);
    for (size_t j = 0; j < c.nout; j++) {
        const sl_acc_output *o = &c.out[j];
        const sl_acc_entry *e = &o->worst;
        printf("  %-8s %zu entries, %zu over budget, arb %s\n", o->name,
               o->size, o->over, arb_word(o->arb));
        printf("    worst entry %zu: error %.3e budget %.3e ratio %.3g\n",
               e->index, e->error, e->budget, e->ratio);
        printf("      got %a exact %a\n", e->got, e->exact);
        bad += o->over > 0 || o->arb == SL_ACC_ARB_DISAGREE;
    }
    return bad;
}

/* ---- sweeps ----------------------------------------------------------- */

static void print_header(const oracle_args *a)
{
    unsigned arb_bits = a->opts.prec + SL_ACC_ARB_EXTRA_BITS;
    if (arb_bits < SL_ARB_PREC_BITS)
        arb_bits = SL_ARB_PREC_BITS;
    printf("softlin oracle: seed %" PRIu64 ", %" PRIu64
           " cases per kernel (every %dth adversarial), MPFR %u bits, "
           "Arb %u bits\n",
           a->opts.seed, a->opts.cases, SL_ACC_ADVERSARIAL_EVERY, a->opts.prec,
           arb_bits);
}

static void print_table(size_t nrows, const sl_acc_row *rows)
{
    printf("%-13s %-8s %7s %10s %10s %10s %-7s %8s %s\n", "kernel", "output",
           "cases", "max error", "budget", "tightness", "verdict", "worst",
           "arb");
    for (size_t i = 0; i < nrows; i++) {
        const sl_acc_row *w = &rows[i];
        printf("%-13s %-8s %7" PRIu64 " %10.3e %10.3e %10.3g %-7s %8" PRIu64
               " %s\n",
               sl_acc_kernel_name(w->kernel), w->output, w->cases, w->max_error,
               w->budget, w->tightness, w->pass ? "PASS" : "FAIL",
               w->worst_case, arb_word(w->arb));
    }
}

/* The failing cases and the Arb disagreements, each with its replay
 * command; returns how many rows failed either way. */
static int print_failures(const oracle_args *a, size_t nrows,
                          const sl_acc_row *rows)
{
    int bad = 0;
    for (size_t i = 0; i < nrows; i++) {
        const sl_acc_row *w = &rows[i];
        if (!w->pass) {
            printf("FAIL %s %s: %" PRIu64 " of %" PRIu64 " cases over budget\n",
                   sl_acc_kernel_name(w->kernel), w->output, w->fails,
                   w->cases);
            for (size_t f = 0; f < w->kept; f++) {
                printf("  case %" PRIu64 " (%s)\n", w->fail[f].index,
                       w->fail[f].family);
                print_entry(&w->fail[f].worst);
                print_replay(a, w->kernel, w->fail[f].index);
            }
        }
        if (w->arb == SL_ACC_ARB_DISAGREE) {
            printf("ARB %s %s: MPFR value not certified by Arb (largest "
                   "relative error %.3e), first at case %" PRIu64 "\n",
                   sl_acc_kernel_name(w->kernel), w->output, w->arb_err,
                   w->arb_case);
            print_replay(a, w->kernel, w->arb_case);
        }
        bad += !w->pass || w->arb == SL_ACC_ARB_DISAGREE;
    }
    return bad;
}

/* A double as JSON: null unless finite. */
static json_t *json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *json_arb(sl_acc_arb arb)
{
    if (arb == SL_ACC_ARB_NONE)
        return json_null();
    return json_boolean(arb == SL_ACC_ARB_AGREE);
}

/* The report's tree: the run's identity, then one object per row; NULL
 * when memory runs out.  The seed is a string of decimal digits (as in
 * the check reports), since not every JSON reader keeps 64 bits exact. */
static json_t *build_json(const oracle_args *a, size_t nrows,
                          const sl_acc_row *rows)
{
    char seed[24];
    json_t *list = json_array();

    snprintf(seed, sizeof seed, "%" PRIu64, a->opts.seed);
    for (size_t i = 0; list != NULL && i < nrows; i++) {
        const sl_acc_row *w = &rows[i];
        json_t *o = json_pack(
            "{s:s, s:s, s:I, s:o, s:o, s:o, s:s, s:I, s:o}", "kernel",
            sl_acc_kernel_name(w->kernel), "output", w->output, "cases",
            (json_int_t)w->cases, "max_error", json_num(w->max_error), "budget",
            json_num(w->budget), "tightness", json_num(w->tightness), "verdict",
            w->pass ? "PASS" : "FAIL", "worst_case", (json_int_t)w->worst_case,
            "arb_agree", json_arb(w->arb));
        if (o == NULL || json_array_append_new(list, o) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    if (list == NULL)
        return NULL;
    return json_pack("{s:s, s:s, s:I, s:I, s:o}", "schema", ORACLE_SCHEMA,
                     "seed", seed, "cases", (json_int_t)a->opts.cases,
                     "prec_bits", (json_int_t)a->opts.prec, "kernels", list);
}

/* Write root to path through path.tmp: dump, flush to disk, rename, so a
 * reader never sees a partial report; 0 on success, after printing one
 * line otherwise. */
static int save_json(const char *path, const json_t *root)
{
    size_t len = strlen(path) + 5;
    char *tmp = malloc(len);
    FILE *f;
    int ok;

    if (tmp == NULL) {
        cli_error("oracle", "--json: out of memory");
        return -1;
    }
    snprintf(tmp, len, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL) {
        cli_error("oracle", "--json: cannot write \"%s\": %s", tmp,
                  strerror(errno));
        free(tmp);
        return -1;
    }
    ok = json_dumpf(root, f,
                    JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                        JSON_REAL_PRECISION(17)) == 0;
    ok = ok && fputc('\n', f) != EOF && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok) {
        cli_error("oracle", "--json: cannot write \"%s\": %s", tmp,
                  strerror(errno));
    } else if (rename(tmp, path) != 0) {
        cli_error("oracle", "--json: cannot rename \"%s\" to \"%s\": %s", tmp,
                  path, strerror(errno));
        ok = 0;
    }
    if (!ok)
        remove(tmp);
    free(tmp);
    return ok ? 0 : -1;
}

static int write_json(const oracle_args *a, size_t nrows,
                      const sl_acc_row *rows)
{
    json_t *root = build_json(a, nrows, rows);
    int rc;

    if (root == NULL) {
        cli_error("oracle", "--json: out of memory");
        return -1;
    }
    rc = save_json(a->json, root);
    json_decref(root);
    return rc;
}

static int sweep(const oracle_args *a)
{
    sl_acc_row rows[ORACLE_MAX_ROWS];
    size_t nrows = 0;

    for (int k = 0; k < SL_ACC_NKERNELS; k++) {
        if (!a->all && (sl_acc_kernel)k != a->kernel)
            continue;
        sl_status st = sl_acc_sweep((sl_acc_kernel)k, &a->opts, rows + nrows);
        if (st != SL_OK) {
            cli_error("oracle", "kernel %s: %s",
                      sl_acc_kernel_name((sl_acc_kernel)k), sl_status_str(st));
            return CLI_EXIT_FAIL;
        }
        nrows += sl_acc_output_count((sl_acc_kernel)k);
    }
    print_header(a);
    print_table(nrows, rows);
    int bad = print_failures(a, nrows, rows);
    if (a->json != NULL && write_json(a, nrows, rows) != 0)
        return CLI_EXIT_FAIL;
    if (bad > 0) {
        cli_error("oracle",
                  "%d of %zu outputs over budget or not certified "
                  "(replay commands above)",
                  bad, nrows);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* ---- the command ------------------------------------------------------ */

/* Read the flags into a; 0 after printing the error. */
static int parse(cli_opt *opts, oracle_args *a)
{
    uint64_t v;

    sl_acc_opts_default(&a->opts);
    a->opts.cases = ORACLE_DEFAULT_CASES;
    a->opts.seed = ORACLE_DEFAULT_SEED;
    a->opts.prec = ORACLE_DEFAULT_PREC;
    a->all = 1;
    a->replay = 0;
    a->json = opts[5].value;
    if (opts[0].value != NULL && strcmp(opts[0].value, "all") != 0) {
        if (sl_acc_kernel_parse(opts[0].value, &a->kernel) != 0) {
            cli_error("oracle",
                      "--kernel: unknown kernel \"%s\" (softmax, logsumexp, "
                      "attention, stream, linear, linear_limit, limit, "
                      "gradient or all)",
                      opts[0].value);
            return 0;
        }
        a->all = 0;
    }
    if (opts[1].value != NULL) {
        if (!cli_count_arg("oracle", "--cases", opts[1].value, 1,
                           ORACLE_MAX_CASES, &v))
            return 0;
        a->opts.cases = v;
    }
    if (opts[2].value != NULL &&
        !cli_u64_arg("oracle", "--seed", opts[2].value, &a->opts.seed))
        return 0;
    if (opts[3].value != NULL) {
        if (!cli_count_arg("oracle", "--prec", opts[3].value,
                           SL_ACC_PREC_MIN_BITS, SL_ACC_PREC_MAX_BITS, &v))
            return 0;
        a->opts.prec = (unsigned)v;
    }
    if (opts[4].value != NULL) {
        if (!cli_u64_arg("oracle", "--case", opts[4].value, &a->case_index))
            return 0;
        a->replay = 1;
        if (opts[1].value != NULL || a->json != NULL) {
            cli_error("oracle", "--case: replays one case, not with %s",
                      opts[1].value != NULL ? "--cases" : "--json");
            return 0;
        }
    }
    if (a->json != NULL && a->json[0] == '\0') {
        cli_error("oracle", "--json: empty file name");
        return 0;
    }
    return 1;
}

int cmd_oracle(int argc, char **argv)
{
    cli_opt opts[] = {{"--kernel", NULL}, {"--cases", NULL}, {"--seed", NULL},
                      {"--prec", NULL},   {"--case", NULL},  {"--json", NULL}};
    oracle_args a;
    int rc = cli_parse_opts("oracle", argc, argv, opts, 6);

    if (rc == CLI_HELP) {
        cmd_oracle_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc != CLI_PARSED || !parse(opts, &a))
        return CLI_EXIT_USAGE;
    if (!a.replay)
        return sweep(&a);

    /* One case, of one kernel or of each. */
    int bad = 0;
    printf("softlin oracle: seed %" PRIu64 ", MPFR %u bits\n", a.opts.seed,
           a.opts.prec);
    for (int k = 0; k < SL_ACC_NKERNELS; k++) {
        if (!a.all && (sl_acc_kernel)k != a.kernel)
            continue;
        int r = replay_one(&a, (sl_acc_kernel)k);
        if (r < 0)
            return CLI_EXIT_FAIL;
        bad += r;
    }
    if (bad > 0) {
        cli_error("oracle",
                  "case %" PRIu64 ": %d outputs over budget or "
                  "not certified",
                  a.case_index, bad);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
