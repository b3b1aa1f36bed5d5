/* cmd_train.c -- "softlin train": training at finite and infinite prompts.
 *
 *   softlin train [flags]
 *
 * Runs gradient descent on in-context linear regression (train/train.h)
 * from one initial point, exactly on L_inf and by Monte Carlo on L_n for
 * each n of the grid, checks the concentration bounds along every
 * trajectory, fits the rate of the trajectory gap and reports the excess
 * risk.  Prints a summary on stdout, writes the JSON report (schema
 * softlin-check/1, read by "softlin gate") and the per-(run, step) CSV
 * asked for, each through a temporary file renamed once complete, and
 * exits 0 when the gate passes, 1 when a rigorous row or the gap's rate
 * failed or a negative control passed, 2 for bad usage, impossible
 * settings or a diverging run (a message, never a report of NaNs).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/engine.h"
#include "engine/report.h"
#include "train/train.h"

#define TRAIN_CMD         "train"
#define TRAIN_MAX_N       UINT64_C(100000000)
#define TRAIN_MAX_NS      16
#define TRAIN_MAX_STEPS   UINT64_C(100000)
#define TRAIN_MAX_TRIALS  UINT64_C(10000000)
#define TRAIN_MAX_THREADS 1024
#define TRAIN_MAX_CKPT    100
#define TRAIN_TAU         1.0 /* beta ~ N(0, tau^2 I) */
#define TRAIN_PAPER_C     4.0
#define TRAIN_PAPER_EXP   1.0

enum {
    O_PARAM,
    O_MEASURE,
    O_D,
    O_N,
    O_PROMPTS,
    O_STEPS,
    O_LR,
    O_INIT,
    O_BALANCE,
    O_NOISE,
    O_SEED,
    O_THREADS,
    O_JSON,
    O_CSV,
    O_TRIALS,
    O_CKPT,
    O_DELTA,
    O_ALPHA,
    O_RATE_TOL,
    O_ESTIMATOR,
    O_FAULT,
    O_COUNT
};

static const char *flag_names[O_COUNT] = {
    "--param",       "--measure", "--d",          "--n",        "--prompts",
    "--steps",       "--lr",      "--init-scale", "--balance",  "--noise",
    "--seed",        "--threads", "--json",       "--csv",      "--trials",
    "--checkpoints", "--delta",   "--alpha",      "--rate-tol", "--estimator",
    "--fault"};

void cmd_train_usage(FILE *out)
{
    fputs(
        "Usage: softlin train [OPTIONS]\n"
        "\n"
        "Gradient descent on in-context linear regression read by one\n"
        "softmax attention head (spec/TRAINING.md), exactly on the\n"
        "infinite-prompt risk and by Monte Carlo at each prompt length,\n"
        "from the same initial point; the concentration bounds checked\n"
        "along every trajectory, the rate of the trajectory gap fitted,\n"
        "the excess risk reported.\n"
        "\n"
        "Options:\n"
        "  --param P        reduced (v_y, Gamma; default) or full (v and\n"
        "                   the first d columns of W; gaussian only)\n"
        "  --measure LAW    gaussian (default), rademacher or uniform: the\n"
        "                   law of the coordinates of x and of the noise\n"
        "  --d D            dimension of x (default 4)\n"
        "  --n LIST         prompt lengths, increasing, comma-separated\n"
        "                   (default 16,64,256,1024,4096)\n"
        "  --prompts B      prompts per step (default 256)\n"
        "  --steps K        gradient steps (default 200)\n"
        "  --lr X           step size (default 0.05; 0.005 for full)\n"
        "  --init-scale X   scale of the initial point (default 0.25)\n"
        "  --balance X      |v|^2 - |B|_F^2 at the start, which the exact\n"
        "                   flow conserves and which fixes the attention\n"
        "                   temperature it ends at (default 5)\n"
        "  --noise X        label noise s > 0 (default 0.1)\n"
        "  --seed S         seed (default 1)\n"
        "  --threads K      threads (default: all cores)\n"
        "  --json FILE      JSON report (spec/REPORT_SCHEMA.md), for\n"
        "                   \"softlin gate\"\n"
        "  --csv FILE       one line per (run, step): losses, gap, kappa_t,\n"
        "                   deviations (spec/TRAINING.md)\n"
        "  --trials T       prompts per stability check (default 1000)\n"
        "  --checkpoints C  stability checks at steps c K / C, c = 0..C\n"
        "                   (default 5; 0 for none)\n"
        "  --delta X        violation probability the bounds claim\n"
        "                   (default 0.05)\n"
        "  --alpha X        level of the intervals (default 0.001)\n"
        "  --rate-tol X     the gap claim is slope <= -1/2 + X (default 0.1)\n"
        "  --estimator E    cv (default: the exact gradient as a control\n"
        "                   variate) or plain (the batch mean alone)\n"
        "  --fault F        none (default) or scores: every finite run\n"
        "                   pushes its tokens with score 0, a wrong kernel\n"
        "                   that the checks must flag\n"
        "\n"
        "Exit status: 0 the gate passes, 1 a rigorous row or the gap's\n"
        "rate failed or a negative control passed, 2 bad usage, impossible\n"
        "settings or a diverging run.\n",
        out);
}

/* ---- Flags --------------------------------------------------------------- */

typedef struct train_args {
    sl_icl_param param;
    sl_law law;
    uint64_t d, prompts, steps, seed, threads, trials, checkpoints;
    uint64_t ns[TRAIN_MAX_NS];
    size_t nn;
    double lr, init_scale, balance, noise, delta, alpha, rate_tol;
    sl_train_estimator estimator;
    int fault;
    const char *json, *csv;
} train_args;

/* "16,64,1e3" -> increasing lengths; 0 after a message on error. */
static int parse_lengths(const char *text, train_args *a)
{
    const char *p = text;
    a->nn = 0;
    for (;;) {
        char item[32];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item) {
            cli_error(TRAIN_CMD,
                      "--n: expected prompt lengths separated by "
                      "commas, got \"%s\"",
                      text);
            return 0;
        }
        if (a->nn == TRAIN_MAX_NS) {
            cli_error(TRAIN_CMD, "--n: at most %d lengths", TRAIN_MAX_NS);
            return 0;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (!cli_count_arg(TRAIN_CMD, "--n", item, 1, TRAIN_MAX_N,
                           &a->ns[a->nn]))
            return 0;
        if (a->nn > 0 && a->ns[a->nn] <= a->ns[a->nn - 1]) {
            cli_error(TRAIN_CMD, "--n: lengths must increase, got \"%s\"",
                      text);
            return 0;
        }
        a->nn++;
        if (p[len] == '\0')
            return 1;
        p += len + 1;
    }
}

/* A double in (lo, hi) (open ends), or > lo when hi is infinite. */
static int real_arg(const char *flag, const char *text, double lo, double hi,
                    double *out)
{
    if (!cli_double_arg(TRAIN_CMD, flag, text, out))
        return 0;
    if (!(*out > lo && *out < hi)) {
        if (isinf(hi))
            cli_error(TRAIN_CMD, "%s: expected a number above %g, got \"%s\"",
                      flag, lo, text);
        else
            cli_error(TRAIN_CMD,
                      "%s: expected a number in (%g, %g), got "
                      "\"%s\"",
                      flag, lo, hi, text);
        return 0;
    }
    return 1;
}

static int parse_args(int argc, char **argv, train_args *a)
{
    cli_opt opts[O_COUNT];
    const char *v;

    for (int k = 0; k < O_COUNT; k++) {
        opts[k].flag = flag_names[k];
        opts[k].value = NULL;
    }
    memset(a, 0, sizeof *a);
    a->param = SL_ICL_REDUCED;
    sl_law_parse("gaussian", &a->law);
    a->d = 4;
    a->prompts = 256;
    a->steps = 200;
    a->lr = 0.05;
    a->init_scale = 0.25;
    a->balance = 5.0;
    a->noise = 0.1;
    a->seed = 1;
    a->trials = 1000;
    a->checkpoints = 5;
    a->delta = 0.05;
    a->alpha = 1e-3;
    a->rate_tol = 0.1;
    a->estimator = SL_TRAIN_CV;
    a->threads = cli_cores();

    int rc = cli_parse_opts(TRAIN_CMD, argc, argv, opts, O_COUNT);
    if (rc != CLI_PARSED)
        return rc;
    if ((v = opts[O_PARAM].value) != NULL) {
        if (strcmp(v, "full") == 0) {
            a->param = SL_ICL_FULL;
        } else if (strcmp(v, "reduced") != 0) {
            cli_error(TRAIN_CMD,
                      "--param: expected reduced or full, got "
                      "\"%s\"",
                      v);
            return CLI_BAD;
        }
    }
    if ((v = opts[O_MEASURE].value) != NULL &&
        (sl_law_parse(v, &a->law) != 0 || a->law.kind == SL_LAW_MIXTURE)) {
        cli_error(TRAIN_CMD,
                  "--measure: expected gaussian, rademacher or "
                  "uniform, got \"%s\"",
                  v);
        return CLI_BAD;
    }
    if ((v = opts[O_D].value) != NULL &&
        !cli_count_arg(TRAIN_CMD, "--d", v, 1, SL_ICL_MAX_DIM, &a->d))
        return CLI_BAD;
    if (!parse_lengths(opts[O_N].value != NULL ? opts[O_N].value
                                               : "16,64,256,1024,4096",
                       a))
        return CLI_BAD;
    if ((v = opts[O_PROMPTS].value) != NULL &&
        !cli_count_arg(TRAIN_CMD, "--prompts", v, 1, SL_TRAIN_MAX_PROMPTS,
                       &a->prompts))
        return CLI_BAD;
    if ((v = opts[O_STEPS].value) != NULL &&
        !cli_count_arg(TRAIN_CMD, "--steps", v, 1, TRAIN_MAX_STEPS, &a->steps))
        return CLI_BAD;
    if (a->param == SL_ICL_FULL)
        a->lr = 0.005; /* the full model's curvature is ~ d^2 v_y^2 */
    if ((v = opts[O_LR].value) != NULL &&
        !real_arg("--lr", v, 0.0, INFINITY, &a->lr))
        return CLI_BAD;
    if ((v = opts[O_INIT].value) != NULL &&
        !real_arg("--init-scale", v, 0.0, INFINITY, &a->init_scale))
        return CLI_BAD;
    if ((v = opts[O_BALANCE].value) != NULL &&
        !cli_double_arg(TRAIN_CMD, "--balance", v, &a->balance))
        return CLI_BAD;
    if ((v = opts[O_NOISE].value) != NULL &&
        !real_arg("--noise", v, 0.0, INFINITY, &a->noise))
        return CLI_BAD;
    if ((v = opts[O_SEED].value) != NULL &&
        !cli_u64_arg(TRAIN_CMD, "--seed", v, &a->seed))
        return CLI_BAD;
    if ((v = opts[O_THREADS].value) != NULL &&
        !cli_count_arg(TRAIN_CMD, "--threads", v, 1, TRAIN_MAX_THREADS,
                       &a->threads))
        return CLI_BAD;
    if ((v = opts[O_TRIALS].value) != NULL &&
        !cli_count_arg(TRAIN_CMD, "--trials", v, 1, TRAIN_MAX_TRIALS,
                       &a->trials))
        return CLI_BAD;
    if ((v = opts[O_CKPT].value) != NULL) {
        if (strcmp(v, "0") == 0)
            a->checkpoints = 0;
        else if (!cli_count_arg(TRAIN_CMD, "--checkpoints", v, 1,
                                TRAIN_MAX_CKPT, &a->checkpoints))
            return CLI_BAD;
    }
    if ((v = opts[O_DELTA].value) != NULL &&
        !real_arg("--delta", v, 0.0, 1.0, &a->delta))
        return CLI_BAD;
    if ((v = opts[O_ALPHA].value) != NULL &&
        !real_arg("--alpha", v, 0.0, 1.0, &a->alpha))
        return CLI_BAD;
    if ((v = opts[O_RATE_TOL].value) != NULL) {
        if (!cli_double_arg(TRAIN_CMD, "--rate-tol", v, &a->rate_tol))
            return CLI_BAD;
        if (!(a->rate_tol >= 0.0)) {
            cli_error(TRAIN_CMD,
                      "--rate-tol: expected a non-negative "
                      "number, got \"%s\"",
                      v);
            return CLI_BAD;
        }
    }
    if ((v = opts[O_ESTIMATOR].value) != NULL) {
        if (strcmp(v, "plain") == 0) {
            a->estimator = SL_TRAIN_PLAIN;
        } else if (strcmp(v, "cv") != 0) {
            cli_error(TRAIN_CMD,
                      "--estimator: expected cv or plain, got "
                      "\"%s\"",
                      v);
            return CLI_BAD;
        }
    }
    if ((v = opts[O_FAULT].value) != NULL) {
        if (strcmp(v, "scores") == 0) {
            a->fault = SL_FAULT_SCORES;
        } else if (strcmp(v, "none") != 0) {
            cli_error(TRAIN_CMD,
                      "--fault: expected none or scores, got "
                      "\"%s\"",
                      v);
            return CLI_BAD;
        }
    }
    a->json = opts[O_JSON].value;
    a->csv = opts[O_CSV].value;

    /* Settings that parse but cannot run. */
    if (a->param == SL_ICL_FULL && a->law.kind != SL_LAW_GAUSSIAN) {
        cli_error(TRAIN_CMD, "--param full: L_inf has a closed form only "
                             "for --measure gaussian");
        return CLI_BAD;
    }
    if (opts[O_CKPT].value == NULL && a->checkpoints > a->steps)
        a->checkpoints = a->steps;
    if (a->checkpoints > a->steps) {
        cli_error(TRAIN_CMD,
                  "--checkpoints: at most --steps (%" PRIu64 "), got %" PRIu64,
                  a->steps, a->checkpoints);
        return CLI_BAD;
    }
    return CLI_PARSED;
}

/* ---- The CSV: one line per (run, step) ----------------------------------- */

static void put_real(FILE *f, double x)
{
    if (isfinite(x))
        fprintf(f, ",%.17g", x);
    else
        fputc(',', f);
}

/* Write path through path.tmp; 0 after a message on failure. */
static int write_csv(const char *path, const sl_train_result *res)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        cli_error(TRAIN_CMD, "--csv: cannot write %s", path);
        return 0;
    }
    fputs("kind,n,step,loss_inf,excess,loss_batch,gap,quad,kappa,conserved,"
          "out_dev,grad_dev,grad_se,grad_norm\n",
          f);
    for (size_t r = 0; r < res->nruns; r++) {
        const sl_train_run *run = &res->runs[r];
        for (uint64_t t = 0; t <= run->steps_done; t++) {
            const sl_train_point *pt = &run->traj[t];
            fprintf(f, "%s,%" PRIu64 ",%" PRIu64, sl_train_kind_str(run->kind),
                    run->n, t);
            put_real(f, pt->loss_inf);
            put_real(f, pt->loss_inf - res->risk_min);
            put_real(f, pt->loss_batch);
            put_real(f, pt->gap);
            put_real(f, pt->quad);
            put_real(f, exp(pt->quad));
            put_real(f, pt->conserved);
            put_real(f, pt->out_dev);
            put_real(f, pt->grad_dev);
            put_real(f, pt->grad_se);
            put_real(f, pt->grad_norm);
            fputc('\n', f);
        }
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        cli_error(TRAIN_CMD, "--csv: cannot write %s", path);
        return 0;
    }
    return 1;
}

/* ---- The summary on stdout ----------------------------------------------- */

/* One line per run: its gap, excess risk, final state, and the output
 * deviation of its last batch. */
static void print_runs(const sl_train_result *res, uint64_t steps)
{
    printf("%-9s %6s %11s %11s %11s %9s %9s %11s\n", "run", "n", "sup gap",
           "excess", "L_inf(K)", "kappa_t", "ckpt kap", "out dev");
    for (size_t r = 0; r < res->nruns; r++) {
        const sl_train_run *run = &res->runs[r];
        const sl_train_point *end = &run->traj[run->steps_done];
        double quad = 0.0;
        for (uint64_t t = 0; t <= run->steps_done; t++)
            quad = fmax(quad, run->traj[t].quad);
        char nbuf[24];
        if (run->kind == SL_TRAIN_EXACT)
            snprintf(nbuf, sizeof nbuf, "inf");
        else
            snprintf(nbuf, sizeof nbuf, "%" PRIu64, run->n);
        printf("%-9s %6s %11.4g %11.4g %11.6g %9.4g %9.4g %11.4g\n",
               sl_train_kind_str(run->kind), nbuf, run->sup_gap, run->excess,
               end->loss_inf, exp(quad), run->sup_kappa,
               run->steps_done > 0 ? run->traj[run->steps_done - 1].out_dev
                                   : (double)NAN);
        if (run->steps_done < steps)
            printf("          (stopped at step %" PRIu64 ": its wrong kernel "
                   "diverged)\n",
                   run->steps_done);
    }
}

/* Counts of the stability rows by class and verdict. */
static void print_stability(const sl_table *t)
{
    size_t n = 0, na = 0, pass = 0, fail = 0, cpass = 0, cfail = 0;
    size_t ppass = 0, pfail = 0;
    double worst = 0.0;
    for (size_t i = 0; i < t->nrows; i++) {
        const sl_row *r = &t->rows[i];
        if (strcmp(r->check, "stability") != 0)
            continue;
        n++;
        if (r->verdict == SL_NA) {
            na++;
            continue;
        }
        if (r->control) {
            cpass += r->verdict == SL_PASS;
            cfail += r->verdict == SL_FAIL;
        } else if (r->cls == SL_CLASS_RIGOROUS) {
            pass += r->verdict == SL_PASS;
            fail += r->verdict == SL_FAIL;
            worst = fmax(worst, r->rate);
        } else if (r->cls == SL_CLASS_PAPER) {
            ppass += r->verdict == SL_PASS;
            pfail += r->verdict == SL_FAIL;
        }
    }
    printf("stability: %zu rows, %zu N/A; rigorous %zu PASS %zu FAIL (worst "
           "violation rate %.4g); controls %zu FAIL %zu PASS; paper %zu "
           "PASS %zu FAIL\n",
           n, na, pass, fail, worst, cfail, cpass, ppass, pfail);
}

static void print_fits(const sl_table *t)
{
    for (size_t i = 0; i < t->nfits; i++) {
        const sl_fit *f = &t->fits[i];
        printf("fit %s %s%s: slope %.4f +- %.4f, claim <= %.2f + %.2f: %s\n",
               f->check, f->target, f->control ? " (control: score fault)" : "",
               f->slope, f->slope_se, f->claim, f->tol,
               sl_verdict_str(f->verdict));
    }
}

/* ---- The command --------------------------------------------------------- */

static void report_divergence(const train_args *a, const sl_train_result *res)
{
    if (res->div_kind == SL_TRAIN_EXACT)
        cli_error(TRAIN_CMD,
                  "--lr %g: gradient descent on L_inf diverges at step "
                  "%" PRIu64 " (L_inf %.4g, %.4g at the start); try a smaller "
                  "--lr",
                  a->lr, res->div_step, res->div_loss, res->div_loss0);
    else
        cli_error(TRAIN_CMD,
                  "--lr %g: the %s run at n = %" PRIu64 " diverges at step "
                  "%" PRIu64 " (L_inf %.4g, %.4g at the start); try a smaller "
                  "--lr or more --prompts",
                  a->lr, sl_train_kind_str(res->div_kind), res->div_n,
                  res->div_step, res->div_loss, res->div_loss0);
}

int cmd_train(int argc, char **argv)
{
    train_args a;
    sl_icl model;
    sl_table table;
    sl_train_result res;
    char err[512];

    /* 1. The command line and the model. */
    int rc = parse_args(argc, argv, &a);
    if (rc == CLI_HELP) {
        cmd_train_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc != CLI_PARSED)
        return CLI_EXIT_USAGE;
    sl_status st =
        sl_icl_init(&model, a.param, &a.law, (size_t)a.d, TRAIN_TAU, a.noise);
    if (st != SL_OK) {
        if (st == SL_ENOMEM)
            cli_error(TRAIN_CMD, "out of memory");
        else
            cli_error(TRAIN_CMD,
                      "--d %" PRIu64 ": too large for the exact L_inf of "
                      "--measure %s (at most %d for rademacher, 6 for "
                      "uniform)",
                      a.d, sl_law_name(&a.law), SL_ICL_MAX_SIGN_DIM);
        return st == SL_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    fprintf(stderr, "softlin train: param %s, measure %s, d %" PRIu64 ", n",
            a.param == SL_ICL_FULL ? "full" : "reduced", sl_law_name(&a.law),
            a.d);
    for (size_t i = 0; i < a.nn; i++)
        fprintf(stderr, "%s%" PRIu64, i ? "," : " ", a.ns[i]);
    fprintf(stderr,
            ", %" PRIu64 " prompts x %" PRIu64 " steps, lr %g, init-scale %g, "
            "balance %g, noise %g, tau %g, estimator %s, seed %" PRIu64
            ", %" PRIu64 " threads; stability %" PRIu64
            " checkpoints x %" PRIu64 " trials, delta %g, alpha %g\n",
            a.prompts, a.steps, a.lr, a.init_scale, a.balance, a.noise,
            TRAIN_TAU, a.estimator == SL_TRAIN_CV ? "cv" : "plain", a.seed,
            a.threads, a.checkpoints ? a.checkpoints + 1 : 0, a.trials, a.delta,
            a.alpha);

    if (a.nn < 3)
        fprintf(stderr, "softlin train: fewer than three lengths in --n: no "
                        "gap fit, and no control fit for the gate\n");

    /* 2. The runs. */
    cli_progress pr;
    cli_progress_start(&pr, "train");
    sl_train_cfg cfg = {.model = &model,
                        .ns = a.ns,
                        .nn = a.nn,
                        .prompts = a.prompts,
                        .steps = a.steps,
                        .lr = a.lr,
                        .init_scale = a.init_scale,
                        .balance = a.balance,
                        .seed = a.seed,
                        .threads = (unsigned)a.threads,
                        .estimator = a.estimator,
                        .fault = a.fault,
                        .control = 1,
                        .replicate = 1,
                        .checkpoints = (size_t)a.checkpoints,
                        .trials = a.trials,
                        .delta = a.delta,
                        .alpha = a.alpha,
                        .rate_tol = a.rate_tol,
                        .paper_C = TRAIN_PAPER_C,
                        .paper_c = TRAIN_PAPER_EXP,
                        .progress = cli_progress_show,
                        .progress_ctx = &pr};
    sl_table_init(&table);
    st = sl_train(&cfg, &table, &res);
    double elapsed = cli_progress_end(&pr);

    int status = CLI_EXIT_OK;
    if (st != SL_OK) {
        if (res.diverged)
            report_divergence(&a, &res);
        else
            cli_error(TRAIN_CMD, "%s", sl_status_str(st));
        status =
            res.diverged || st == SL_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }

    /* 3. Files, then the summary and the gate. */
    sl_run_info ri = {"train",
                      "train",
                      sl_law_name(&a.law),
                      "seed",
                      NULL,
                      NULL,
                      a.seed,
                      a.trials,
                      a.alpha,
                      a.delta,
                      res.sup_quad,
                      res.sup_kappa,
                      TRAIN_PAPER_C,
                      TRAIN_PAPER_EXP,
                      (unsigned)a.threads,
                      elapsed};
    if (status == CLI_EXIT_OK && a.json != NULL &&
        sl_report_json(a.json, &ri, &table, err, sizeof err) != SL_OK) {
        cli_error(TRAIN_CMD, "%s", err);
        status = CLI_EXIT_FAIL;
    }
    if (status == CLI_EXIT_OK && a.csv != NULL && !write_csv(a.csv, &res))
        status = CLI_EXIT_FAIL;
    if (status == CLI_EXIT_OK) {
        sl_gate_counts gc;
        print_runs(&res, a.steps);
        print_stability(&table);
        print_fits(&table);
        if (isfinite(res.excess_slope))
            printf("excess risk: slope %.4f +- %.4f in n (information)\n",
                   res.excess_slope, res.excess_se);
        printf("min L_inf %.6g (%s); noise floor at n = %" PRIu64
               ": theta %.3g (replicate), gradient SE %.3g per step\n",
               res.risk_min, res.risk_min_closed ? "closed form" : "reached",
               a.ns[a.nn - 1], res.noise_theta, res.noise_grad);
        sl_gate_count(&table, &gc);
        int fail = gc.rigorous_fail + gc.rate_fail + gc.control_pass > 0;
        printf("gate: %s (%zu rigorous failures, %zu rate failures, %zu "
               "controls passed); sup kappa %.4g (a^T S a %.4g), %.1f s\n",
               fail ? "fail" : "pass", gc.rigorous_fail, gc.rate_fail,
               gc.control_pass, res.sup_kappa, res.sup_quad, elapsed);
        status = fail ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    sl_table_free(&table);
    sl_train_result_free(&res);
    sl_icl_free(&model);
    return status;
}
