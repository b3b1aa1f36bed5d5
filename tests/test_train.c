/* test_train.c -- CUnit suite "train": the training runs of
 * src/train/train.h and the "softlin train" command.
 *
 * Runs are bit-identical for any thread count, and a run at n is the
 * same whatever other lengths share its prompts (common random numbers);
 * the exact run keeps the conserved quantity up to its O(lr) total drift;
 * the quick configuration of `make check` passes the gate (gap claim
 * PASS, its control FAIL, rigorous stability rows PASS, their controls
 * FAIL); a wrong kernel fails it; the control variate lowers the noise;
 * a step size that diverges is an error, not a report; bad settings are
 * refused; the command writes a report that "softlin gate" reads, a CSV
 * with a line per (run, step), and one-line errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/report.h"
#include "testing.h"
#include "train/train.h"

/* The exact run's conserved quantity at lr and lr / 2 over the same time:
 * the drift is O(lr), so halving lr halves it, within this factor. */
#define TRAIN_DRIFT_RATIO_LO 0.35
#define TRAIN_DRIFT_RATIO_HI 0.65

static const uint64_t quick_ns[] = {64, 128, 256, 512, 1024};
#define QUICK_NN (sizeof quick_ns / sizeof quick_ns[0])

static sl_icl make(const char *law, size_t d)
{
    sl_law l;
    sl_icl m;
    CU_ASSERT_FATAL(sl_law_parse(law, &l) == 0);
    CU_ASSERT_FATAL(sl_icl_init(&m, SL_ICL_REDUCED, &l, d, 1.0, 0.1) == SL_OK);
    return m;
}

/* The quick configuration of `make check` (README), without files. */
static sl_train_cfg quick_cfg(const sl_icl *m)
{
    sl_train_cfg c = {.model = m,
                      .ns = quick_ns,
                      .nn = QUICK_NN,
                      .prompts = 64,
                      .steps = 40,
                      .lr = 0.05,
                      .init_scale = 0.25,
                      .balance = 5.0,
                      .seed = 1,
                      .threads = 2,
                      .estimator = SL_TRAIN_CV,
                      .fault = SL_FAULT_NONE,
                      .control = 1,
                      .replicate = 1,
                      .checkpoints = 2,
                      .trials = 1000,
                      .delta = 0.05,
                      .alpha = 1e-3,
                      .rate_tol = 0.1,
                      .paper_C = 4.0,
                      .paper_c = 1.0,
                      .progress = NULL,
                      .progress_ctx = NULL};
    return c;
}

/* A small run: no checks, no controls. */
static sl_train_cfg small_cfg(const sl_icl *m, const uint64_t *ns, size_t nn)
{
    sl_train_cfg c = quick_cfg(m);
    c.ns = ns;
    c.nn = nn;
    c.prompts = 16;
    c.steps = 10;
    c.control = 0;
    c.replicate = 0;
    c.checkpoints = 0;
    return c;
}

static int same_run(const sl_train_run *a, const sl_train_run *b, size_t P,
                    uint64_t steps)
{
    return a->n == b->n &&
           memcmp(a->traj, b->traj, (steps + 1) * sizeof *a->traj) == 0 &&
           memcmp(a->theta, b->theta, P * sizeof(double)) == 0;
}

static void test_threads_bit_identical(void)
{
    sl_icl m = make("gaussian", 2);
    const uint64_t ns[] = {40, 300};
    sl_train_cfg c = small_cfg(&m, ns, 2);
    c.control = 1;
    c.replicate = 1;
    sl_train_result r1, r2;
    sl_table t1, t2;
    sl_table_init(&t1);
    sl_table_init(&t2);
    c.threads = 1;
    CU_ASSERT_FATAL(sl_train(&c, &t1, &r1) == SL_OK);
    c.threads = 3;
    CU_ASSERT_FATAL(sl_train(&c, &t2, &r2) == SL_OK);
    CU_ASSERT_FATAL(r1.nruns == r2.nruns && r1.nruns == 6);
    for (size_t r = 0; r < r1.nruns; r++)
        CU_ASSERT(same_run(&r1.runs[r], &r2.runs[r], r1.P, c.steps));
    sl_train_result_free(&r1);
    sl_train_result_free(&r2);
    sl_table_free(&t1);
    sl_table_free(&t2);
    sl_icl_free(&m);
}

/* The run at n = 40 alone and beside n = 300 (which draws more tokens of
 * the same prompts) is the same run, bit for bit; the rademacher law
 * draws its signs in blocks, the case where a prefix could differ. */
static void test_common_random_numbers(void)
{
    sl_icl m = make("rademacher", 3);
    const uint64_t one[] = {40}, two[] = {40, 300};
    sl_train_cfg c1 = small_cfg(&m, one, 1), c2 = small_cfg(&m, two, 2);
    sl_train_result r1, r2;
    sl_table t1, t2;
    sl_table_init(&t1);
    sl_table_init(&t2);
    CU_ASSERT_FATAL(sl_train(&c1, &t1, &r1) == SL_OK);
    CU_ASSERT_FATAL(sl_train(&c2, &t2, &r2) == SL_OK);
    CU_ASSERT(same_run(&r1.runs[1], &r2.runs[1], r1.P, c1.steps));
    CU_ASSERT(same_run(&r1.runs[0], &r2.runs[0], r1.P, c1.steps));
    CU_ASSERT(!same_run(&r2.runs[1], &r2.runs[2], r2.P, c2.steps));
    /* No closed form for the min of L_inf under this law: the exact run,
     * continued, reaches s^2 (v_y tanh(Gamma x) = x is attainable). */
    CU_ASSERT(!r2.risk_min_closed && fabs(r2.risk_min - 0.01) < 1e-8);
    sl_train_result_free(&r1);
    sl_train_result_free(&r2);
    sl_table_free(&t1);
    sl_table_free(&t2);
    sl_icl_free(&m);
}

/* Exact run: drift of |v|^2 - |B|^2 over time 2 at lr and lr / 2. */
static double exact_drift(const sl_icl *m, double lr)
{
    const uint64_t ns[] = {8};
    sl_train_cfg c = small_cfg(m, ns, 1);
    c.prompts = 1;
    c.lr = lr;
    c.steps = (uint64_t)(2.0 / lr);
    sl_train_result r;
    sl_table t;
    sl_table_init(&t);
    CU_ASSERT_FATAL(sl_train(&c, &t, &r) == SL_OK);
    const sl_train_point *p = r.runs[0].traj;
    double drift = fabs(p[c.steps].conserved - p[0].conserved);
    CU_ASSERT(p[0].conserved == p[0].conserved);
    CU_ASSERT(fabs(p[0].conserved - c.balance) < 1e-12 * (1 + c.balance));
    CU_ASSERT(p[c.steps].loss_inf < 0.1 * p[0].loss_inf);
    sl_train_result_free(&r);
    sl_table_free(&t);
    return drift;
}

static void test_exact_run_conserves(void)
{
    sl_icl m = make("gaussian", 3);
    double d1 = exact_drift(&m, 0.02), d2 = exact_drift(&m, 0.01);
    double ratio = d2 / d1;
    if (!(ratio > TRAIN_DRIFT_RATIO_LO && ratio < TRAIN_DRIFT_RATIO_HI))
        fprintf(stderr, "\n  drift %a at lr 0.02, %a at 0.01\n", d1, d2);
    CU_ASSERT(ratio > TRAIN_DRIFT_RATIO_LO && ratio < TRAIN_DRIFT_RATIO_HI);
    /* And small: under 2% of the balance 5 the run starts with. */
    CU_ASSERT(d1 < 0.1);
    sl_icl_free(&m);
}

/* What the gate makes of a table, and where its fits stand. */
typedef struct verdicts {
    sl_gate_counts gate;
    int gap_pass, control_fail, stability_pass, stability_rows;
} verdicts;

static verdicts judge(const sl_table *t)
{
    verdicts v;
    memset(&v, 0, sizeof v);
    sl_gate_count(t, &v.gate);
    for (size_t i = 0; i < t->nfits; i++) {
        const sl_fit *f = &t->fits[i];
        if (strcmp(f->check, "gap") != 0)
            continue;
        if (f->control)
            v.control_fail = f->verdict == SL_FAIL;
        else
            v.gap_pass = f->verdict == SL_PASS;
    }
    for (size_t i = 0; i < t->nrows; i++) {
        const sl_row *r = &t->rows[i];
        if (strcmp(r->check, "stability") != 0)
            continue;
        v.stability_rows++;
        if (!r->control && r->cls == SL_CLASS_RIGOROUS && r->verdict == SL_PASS)
            v.stability_pass++;
    }
    return v;
}

static void test_quick_passes_gate(void)
{
    sl_icl m = make("gaussian", 2);
    sl_train_cfg c = quick_cfg(&m);
    sl_train_result r;
    sl_table t;
    sl_table_init(&t);
    CU_ASSERT_FATAL(sl_train(&c, &t, &r) == SL_OK);
    verdicts v = judge(&t);
    CU_ASSERT(v.gap_pass && v.control_fail);
    CU_ASSERT(v.gate.rigorous_fail == 0 && v.gate.rate_fail == 0 &&
              v.gate.control_pass == 0);
    /* 3 checkpoints x (output, dV, dW) x (bound, control, paper). */
    CU_ASSERT(v.stability_rows == 27);
    CU_ASSERT(v.stability_pass == 9);
    CU_ASSERT(isfinite(r.noise_theta) && r.noise_theta > 0.0);
    CU_ASSERT(isfinite(r.sup_kappa) && r.sup_kappa >= 1.0);
    CU_ASSERT(r.risk_min_closed && r.risk_min == 0.1 * 0.1);
    /* Excess risk falls with n. */
    CU_ASSERT(r.runs[QUICK_NN].excess < r.runs[1].excess);
    sl_train_result_free(&r);
    sl_table_free(&t);
    sl_icl_free(&m);
}

/* Every score 0 in the finite runs: the checks must see it. */
static void test_wrong_kernel_fails_gate(void)
{
    sl_icl m = make("gaussian", 2);
    sl_train_cfg c = quick_cfg(&m);
    c.fault = SL_FAULT_SCORES;
    sl_train_result r;
    sl_table t;
    sl_table_init(&t);
    sl_status st = sl_train(&c, &t, &r);
    if (st == SL_OK) {
        verdicts v = judge(&t);
        CU_ASSERT(v.gate.rigorous_fail + v.gate.rate_fail > 0);
        CU_ASSERT(!v.gap_pass);
    } else {
        /* A wrong kernel may also drive a finite run away: an error. */
        CU_ASSERT(st == SL_EINVAL && r.diverged &&
                  r.div_kind != SL_TRAIN_EXACT);
    }
    sl_train_result_free(&r);
    sl_table_free(&t);
    sl_icl_free(&m);
}

/* The control variate's noise falls with n; the plain estimate's does
 * not, and is larger at the largest n. */
static void test_control_variate_lowers_noise(void)
{
    sl_icl m = make("gaussian", 2);
    const uint64_t ns[] = {64, 4096};
    sl_train_cfg c = small_cfg(&m, ns, 2);
    c.prompts = 32;
    sl_train_result rc, rp;
    sl_table t;
    sl_table_init(&t);
    CU_ASSERT_FATAL(sl_train(&c, &t, &rc) == SL_OK);
    c.estimator = SL_TRAIN_PLAIN;
    CU_ASSERT_FATAL(sl_train(&c, &t, &rp) == SL_OK);
    double cv_lo = rc.runs[1].traj[5].grad_se;
    double cv_hi = rc.runs[2].traj[5].grad_se;
    double plain_hi = rp.runs[2].traj[5].grad_se;
    CU_ASSERT(cv_hi < 0.5 * cv_lo);
    CU_ASSERT(cv_hi < 0.5 * plain_hi);
    sl_train_result_free(&rc);
    sl_train_result_free(&rp);
    sl_table_free(&t);
    sl_icl_free(&m);
}

static void test_divergence_is_an_error(void)
{
    sl_icl m = make("gaussian", 2);
    const uint64_t ns[] = {64};
    sl_train_cfg c = small_cfg(&m, ns, 1);
    c.lr = 5.0;
    sl_train_result r;
    sl_table t;
    sl_table_init(&t);
    CU_ASSERT(sl_train(&c, &t, &r) == SL_EINVAL);
    CU_ASSERT(r.diverged && r.div_kind == SL_TRAIN_EXACT);
    CU_ASSERT(r.div_step >= 1 && isfinite(r.div_loss0));
    CU_ASSERT(t.nrows == 0 && t.nfits == 0);
    sl_train_result_free(&r);
    sl_table_free(&t);
    sl_icl_free(&m);
}

static void test_bad_config(void)
{
    sl_icl m = make("gaussian", 2);
    const uint64_t ok[] = {8, 16}, zero[] = {0, 16}, down[] = {16, 8};
    sl_train_result r;
    sl_table t;
    sl_table_init(&t);
    sl_train_cfg c = small_cfg(&m, zero, 2);
    CU_ASSERT(sl_train(&c, &t, &r) == SL_EINVAL && !r.diverged);
    sl_train_result_free(&r);
    c = small_cfg(&m, down, 2);
    CU_ASSERT(sl_train(&c, &t, &r) == SL_EINVAL);
    sl_train_result_free(&r);
    c = small_cfg(&m, ok, 2);
    c.lr = 0.0;
    CU_ASSERT(sl_train(&c, &t, &r) == SL_EINVAL);
    sl_train_result_free(&r);
    c = small_cfg(&m, ok, 2);
    c.steps = 0;
    CU_ASSERT(sl_train(&c, &t, &r) == SL_EINVAL);
    sl_train_result_free(&r);
    c = small_cfg(&m, ok, 2);
    c.checkpoints = c.steps + 1;
    CU_ASSERT(sl_train(&c, &t, &r) == SL_EINVAL);
    sl_train_result_free(&r);
    c = small_cfg(&m, ok, 0);
    CU_ASSERT(sl_train(&c, &t, &r) == SL_EINVAL);
    sl_train_result_free(&r);
    CU_ASSERT(t.nrows == 0);
    sl_table_free(&t);
    sl_icl_free(&m);
}

/* ---- The command --------------------------------------------------------- */

static void tmp_path(char *buf, size_t len, const char *ext)
{
    snprintf(buf, len, "/tmp/softlin_train_%ld.%s", (long)getpid(), ext);
}

/* Lines of a file, and its first line into first (flen bytes). */
static size_t count_lines(const char *path, char *first, size_t flen)
{
    FILE *f = fopen(path, "r");
    size_t n = 0, k = 0;
    int c;
    first[0] = '\0';
    if (f == NULL)
        return 0;
    while ((c = fgetc(f)) != EOF) {
        if (n == 0 && k + 1 < flen && c != '\n')
            first[k++] = (char)c;
        n += c == '\n';
    }
    first[k] = '\0';
    fclose(f);
    return n;
}

static void test_cli_quick_report_gates(void)
{
    char json[256], csv[256], jflag[300], cflag[300], head[512];
    tmp_path(json, sizeof json, "json");
    tmp_path(csv, sizeof csv, "csv");
    snprintf(jflag, sizeof jflag, "--json=%s", json);
    snprintf(cflag, sizeof cflag, "--csv=%s", csv);
    const char *args[] = {"train",
                          "--d=2",
                          "--n=64,128,256,512,1024",
                          "--prompts=64",
                          "--steps=40",
                          "--checkpoints=2",
                          "--trials=1000",
                          jflag,
                          cflag,
                          NULL};
    testing_run res;
    testing_run_softlin(&res, args);
    CU_ASSERT(res.status == 0);
    CU_ASSERT(strstr(res.out, "gate: pass") != NULL);
    CU_ASSERT(strstr(res.out, "fit gap theta:") != NULL);
    CU_ASSERT(strstr(res.err, "seed 1") != NULL);
    testing_run_free(&res);

    /* 1 exact + 5 finite + 1 replicate + 5 controls, 41 points each, less
     * the steps a control run stopped before. */
    size_t lines = count_lines(csv, head, sizeof head);
    CU_ASSERT(lines > 1 + 7 * 41 && lines <= 1 + 12 * 41);
    CU_ASSERT(strncmp(head, "kind,n,step,loss_inf,excess,", 28) == 0);

    const char *gate[] = {"gate", json, NULL};
    testing_run_softlin(&res, gate);
    CU_ASSERT(res.status == 0);
    CU_ASSERT(strstr(res.out, ": pass") != NULL);
    testing_run_free(&res);
    remove(json);
    remove(csv);
}

static void test_cli_wrong_kernel_exit(void)
{
    const char *args[] = {"train",        "--d=2",          "--n=64,256,1024",
                          "--prompts=32", "--steps=20",     "--checkpoints=1",
                          "--trials=500", "--fault=scores", NULL};
    testing_run res;
    testing_run_softlin(&res, args);
    CU_ASSERT(res.status == 1 || res.status == 2);
    if (res.status == 1)
        CU_ASSERT(strstr(res.out, "gate: fail") != NULL);
    testing_run_free(&res);
}

/* Each bad command line: status 2, one line on stderr naming the flag,
 * nothing on stdout. */
static void expect_usage(const char *const *args, const char *needle)
{
    testing_run res;
    testing_run_softlin(&res, args);
    CU_ASSERT(res.status == 2);
    CU_ASSERT(testing_one_line(res.err));
    if (strstr(res.err, needle) == NULL)
        fprintf(stderr, "\n  expected \"%s\" in: %s", needle, res.err);
    CU_ASSERT(strstr(res.err, needle) != NULL);
    CU_ASSERT(res.out[0] == '\0');
    testing_run_free(&res);
}

static void test_cli_bad_flags(void)
{
    const char *n0[] = {"train", "--n=0,16", NULL};
    const char *down[] = {"train", "--n=64,16", NULL};
    const char *lr[] = {"train", "--lr=-1", NULL};
    const char *noise[] = {"train", "--noise=0", NULL};
    const char *law[] = {"train", "--measure=mixture", NULL};
    const char *full[] = {"train", "--param=full", "--measure=uniform", NULL};
    const char *param[] = {"train", "--param=half", NULL};
    const char *est[] = {"train", "--estimator=best", NULL};
    const char *ck[] = {"train", "--steps=3", "--checkpoints=5", NULL};
    const char *d[] = {"train", "--measure=uniform", "--d=9", NULL};
    const char *stray[] = {"train", "extra", NULL};
    expect_usage(n0, "--n");
    expect_usage(down, "--n: lengths must increase");
    expect_usage(lr, "--lr");
    expect_usage(noise, "--noise");
    expect_usage(law, "--measure");
    expect_usage(full, "--param full");
    expect_usage(param, "--param");
    expect_usage(est, "--estimator");
    expect_usage(ck, "--checkpoints");
    expect_usage(d, "--d 9");
    expect_usage(stray, "extra");
}

/* A step size that diverges: one line naming --lr, status 2, no files. */
static void test_cli_divergence(void)
{
    char json[256], jflag[300];
    tmp_path(json, sizeof json, "div.json");
    snprintf(jflag, sizeof jflag, "--json=%s", json);
    const char *args[] = {"train", "--lr=3", "--n=16,64", jflag, NULL};
    testing_run res;
    testing_run_softlin(&res, args);
    CU_ASSERT(res.status == 2);
    CU_ASSERT(strstr(res.err, "--lr 3: gradient descent on L_inf diverges") !=
              NULL);
    CU_ASSERT(res.out[0] == '\0');
    CU_ASSERT(access(json, F_OK) != 0);
    testing_run_free(&res);
}

static void test_cli_help(void)
{
    const char *args[] = {"train", "--help", NULL};
    testing_run res;
    testing_run_softlin(&res, args);
    CU_ASSERT(res.status == 0);
    CU_ASSERT(strstr(res.out, "Usage: softlin train") != NULL);
    testing_run_free(&res);
}

void register_train_suite(void)
{
    CU_pSuite s = CU_add_suite("train", NULL, NULL);
    testing_add(s, "threads_bit_identical", test_threads_bit_identical);
    testing_add(s, "common_random_numbers", test_common_random_numbers);
    testing_add(s, "exact_run_conserves", test_exact_run_conserves);
    testing_add(s, "quick_passes_gate", test_quick_passes_gate);
    testing_add(s, "wrong_kernel_fails_gate", test_wrong_kernel_fails_gate);
    testing_add(s, "control_variate_lowers_noise",
                test_control_variate_lowers_noise);
    testing_add(s, "divergence_is_an_error", test_divergence_is_an_error);
    testing_add(s, "bad_config", test_bad_config);
    testing_add(s, "cli_quick_report_gates", test_cli_quick_report_gates);
    testing_add(s, "cli_wrong_kernel_exit", test_cli_wrong_kernel_exit);
    testing_add(s, "cli_bad_flags", test_cli_bad_flags);
    testing_add(s, "cli_divergence", test_cli_divergence);
    testing_add(s, "cli_help", test_cli_help);
}
