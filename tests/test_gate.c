/* test_gate.c -- CUnit suite "gate": "softlin gate", run as CI runs it.
 *
 * The fixtures tests/data/gate_*.json are hand-made reports: a passing
 * one that also holds what must not count (a paper FAIL, a control and a
 * reference row marked N/A, controls that FAIL as they should); one
 * failure of each kind (rigorous row, rate fit, control row, control fit);
 * one whose summary lies; and broken ones (bad JSON, another schema, a
 * missing field, a wrong type).  Each test checks the exit status, the
 * closing line or the one-line error naming file and field, and that
 * nothing else is printed.  Two tests write reports with sl_report_json
 * and check that the gate reads them as sl_gate_count does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/report.h"
#include "engine/result.h"
#include "testing.h"

/* Exit statuses of softlin gate (cli.h). */
#define GATE_PASS  0
#define GATE_FAIL  1
#define GATE_USAGE 2

/* Room for fixture paths. */
#define GATE_PATH_MAX 512

/* Fixture paths one test can hold at once. */
#define GATE_FIXTURES 8

/* testing_data_dir/name, in one of GATE_FIXTURES rotating buffers so that
 * a test can name several fixtures in its argument lists. */
static const char *fixture(const char *name)
{
    static char bufs[GATE_FIXTURES][GATE_PATH_MAX];
    static int next;
    char *b = bufs[next++ % GATE_FIXTURES];

    snprintf(b, GATE_PATH_MAX, "%s/%s", testing_data_dir, name);
    return b;
}

/* Number of '\n' in s. */
static int count_lines(const char *s)
{
    int n = 0;

    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

/* The last line of s (without its newline) equals want. */
static int last_line_is(const char *s, const char *want)
{
    size_t len = strlen(s), wlen = strlen(want);
    const char *start;

    if (len < wlen + 1 || s[len - 1] != '\n')
        return 0;
    start = s + len - 1 - wlen;
    return (start == s || start[-1] == '\n') && strncmp(start, want, wlen) == 0;
}

/* Run "softlin gate ARGS" (NULL-terminated) and check its status and
 * closing line; nothing on stderr; out_lines lines on stdout in all. */
static void expect_verdict(const char *const *args, int status,
                           const char *closing, int out_lines)
{
    testing_run res;

    testing_run_softlin(&res, args);
    CU_ASSERT_EQUAL(res.status, status);
    CU_ASSERT(last_line_is(res.out, closing));
    CU_ASSERT_EQUAL(count_lines(res.out), out_lines);
    CU_ASSERT_STRING_EQUAL(res.err, "");
    if (res.status != status || !last_line_is(res.out, closing))
        fprintf(stderr, "\n  status %d, stdout:\n%s  stderr:\n%s", res.status,
                res.out, res.err);
    testing_run_free(&res);
}

/* Run and expect status 2, nothing on stdout, and one line on stderr
 * holding each non-NULL needle. */
static void expect_error(const char *const *args, const char *needle1,
                         const char *needle2)
{
    testing_run res;

    testing_run_softlin(&res, args);
    CU_ASSERT_EQUAL(res.status, GATE_USAGE);
    CU_ASSERT_STRING_EQUAL(res.out, "");
    CU_ASSERT(testing_one_line(res.err));
    CU_ASSERT(strncmp(res.err, "softlin gate: ", 14) == 0);
    if (needle1 != NULL)
        CU_ASSERT(strstr(res.err, needle1) != NULL);
    if (needle2 != NULL)
        CU_ASSERT(strstr(res.err, needle2) != NULL);
    if (res.status != GATE_USAGE || !testing_one_line(res.err))
        fprintf(stderr, "\n  status %d, stderr: %s", res.status, res.err);
    testing_run_free(&res);
}

/* ---- Verdicts --------------------------------------------------------- */

/* A clean report passes, though it holds a paper FAIL, controls marked
 * N/A and controls that FAIL. */
static void test_pass(void)
{
    const char *args[] = {"gate", fixture("gate_pass.json"), NULL};

    expect_verdict(args, GATE_PASS, "gate: 1 files, 5 rows, 2 fits: pass", 1);
}

/* A rigorous row that FAILs: one line naming file, check, target, bound,
 * n, the count and cp_low against delta. */
static void test_rigorous_fail(void)
{
    const char *args[] = {"gate", fixture("gate_rigorous_fail.json"), NULL};
    testing_run res;

    expect_verdict(args, GATE_FAIL,
                   "gate: 1 files, 2 rows, 0 fits: fail (1 rigorous "
                   "failures, 0 rate failures, 0 controls passed)",
                   2);
    testing_run_softlin(&res, args);
    CU_ASSERT(strstr(res.out, "gate_rigorous_fail.json: rigorous FAIL: "
                              "concentration output chebyshev n=1000: "
                              "40/2000 violations, cp_low 0.0123 > delta "
                              "0.001\n") != NULL);
    testing_run_free(&res);
}

/* A control row that PASSes is a failure of the harness. */
static void test_control_pass(void)
{
    const char *args[] = {"gate", fixture("gate_control_pass.json"), NULL};
    testing_run res;

    expect_verdict(args, GATE_FAIL,
                   "gate: 1 files, 2 rows, 0 fits: fail (0 rigorous "
                   "failures, 0 rate failures, 1 controls passed)",
                   2);
    testing_run_softlin(&res, args);
    CU_ASSERT(strstr(res.out, "control PASS: concentration output "
                              "chebyshev/20 n=1000") != NULL);
    testing_run_free(&res);
}

/* A rate fit that FAILs, and a control fit that PASSes. */
static void test_rate_fail_and_control_fit(void)
{
    const char *rate[] = {"gate", fixture("gate_rate_fail.json"), NULL};
    const char *ctl[] = {"gate", fixture("gate_control_fit_pass.json"), NULL};
    testing_run res;

    expect_verdict(rate, GATE_FAIL,
                   "gate: 1 files, 1 rows, 1 fits: fail (0 rigorous "
                   "failures, 1 rate failures, 0 controls passed)",
                   2);
    testing_run_softlin(&res, rate);
    CU_ASSERT(strstr(res.out, "rate FAIL: rate output: slope -0.2 ") != NULL);
    testing_run_free(&res);
    expect_verdict(ctl, GATE_FAIL,
                   "gate: 1 files, 1 rows, 1 fits: fail (0 rigorous "
                   "failures, 0 rate failures, 1 controls passed)",
                   2);
}

/* The report's summary says pass; its rows say otherwise. */
static void test_summary_not_trusted(void)
{
    const char *args[] = {"gate", fixture("gate_summary_lies.json"), NULL};

    expect_verdict(args, GATE_FAIL,
                   "gate: 1 files, 1 rows, 0 fits: fail (1 rigorous "
                   "failures, 0 rate failures, 0 controls passed)",
                   2);
}

/* Several files: totals add up, one failure fails the lot. */
static void test_aggregate(void)
{
    const char *two_pass[] = {"gate", fixture("gate_pass.json"),
                              fixture("gate_pass2.json"), NULL};
    const char *mixed[] = {"gate",
                           fixture("gate_pass.json"),
                           fixture("gate_rigorous_fail.json"),
                           fixture("gate_control_pass.json"),
                           fixture("gate_rate_fail.json"),
                           NULL};

    expect_verdict(two_pass, GATE_PASS, "gate: 2 files, 7 rows, 2 fits: pass",
                   1);
    expect_verdict(mixed, GATE_FAIL,
                   "gate: 4 files, 10 rows, 3 fits: fail (1 rigorous "
                   "failures, 1 rate failures, 1 controls passed)",
                   4);
}

/* ---- Bad input -------------------------------------------------------- */

static void test_malformed_json(void)
{
    const char *args[] = {"gate", fixture("gate_malformed.json"), NULL};

    expect_error(args, "gate_malformed.json", "line 3");
}

static void test_wrong_schema(void)
{
    const char *args[] = {"gate", fixture("gate_wrong_schema.json"), NULL};

    expect_error(args, "gate_wrong_schema.json", "\"schema\"");
}

static void test_missing_field(void)
{
    const char *args[] = {"gate", fixture("gate_missing_field.json"), NULL};

    expect_error(args,
                 "gate_missing_field.json: row 2:", "\"verdict\" is missing");
}

static void test_wrong_type(void)
{
    const char *args[] = {"gate", fixture("gate_bad_type.json"), NULL};

    expect_error(args, "gate_bad_type.json: fit 1:", "\"control\"");
}

static void test_missing_file(void)
{
    const char *args[] = {"gate", fixture("gate_no_such_file.json"), NULL};

    expect_error(args, "gate_no_such_file.json", "cannot open");
}

/* A bad file among good ones: an error, and no verdict at all. */
static void test_bad_among_good(void)
{
    const char *args[] = {"gate", fixture("gate_rigorous_fail.json"),
                          fixture("gate_wrong_schema.json"),
                          fixture("gate_pass.json"), NULL};

    expect_error(args, "gate_wrong_schema.json", NULL);
}

static void test_usage(void)
{
    const char *none[] = {"gate", NULL};
    const char *option[] = {"gate", "--verbose", NULL};
    const char *help[] = {"gate", "--help", NULL};
    const char *help_cmd[] = {"help", "gate", NULL};
    testing_run a, b;

    expect_error(none, "missing report file", NULL);
    expect_error(option, "--verbose", NULL);
    testing_run_softlin(&a, help);
    testing_run_softlin(&b, help_cmd);
    CU_ASSERT_EQUAL(a.status, GATE_PASS);
    CU_ASSERT_EQUAL(b.status, GATE_PASS);
    CU_ASSERT(strncmp(a.out, "Usage: softlin gate FILE...", 27) == 0);
    CU_ASSERT_STRING_EQUAL(a.out, b.out);
    testing_run_free(&a);
    testing_run_free(&b);
}

/* ---- Writer and gate agree -------------------------------------------- */

/* Write t with sl_report_json and gate it: status 1 exactly when
 * sl_gate_count finds something. */
static void gate_written(const sl_table *t)
{
    char dir[] = "/tmp/softlin-gate-XXXXXX", path[GATE_PATH_MAX];
    char err[512] = "";
    sl_run_info info = {0};
    sl_gate_counts c;
    testing_run res;
    const char *args[] = {"gate", path, NULL};
    int want;

    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/report.json", dir);
    info.command = "check";
    info.name = "all";
    info.measure = "gaussian";
    info.params_source = "seed";
    info.seed = 1;
    info.trials = 100;
    info.alpha = 1e-3;
    info.delta = 0.05;
    info.threads = 1;
    CU_ASSERT_EQUAL_FATAL(sl_report_json(path, &info, t, err, sizeof err),
                          SL_OK);
    sl_gate_count(t, &c);
    want = c.rigorous_fail + c.rate_fail + c.control_pass > 0 ? GATE_FAIL
                                                              : GATE_PASS;
    testing_run_softlin(&res, args);
    CU_ASSERT_EQUAL(res.status, want);
    CU_ASSERT_EQUAL(count_lines(res.out),
                    1 + (int)(c.rigorous_fail + c.rate_fail + c.control_pass));
    CU_ASSERT_STRING_EQUAL(res.err, "");
    testing_run_free(&res);
    unlink(path);
    rmdir(dir);
}

static sl_row written_row(sl_class cls, int control, sl_verdict v)
{
    sl_row r;

    memset(&r, 0, sizeof r);
    r.check = "concentration";
    r.target = "output";
    r.bound_name = control ? "chebyshev/20" : "chebyshev";
    r.cls = cls;
    r.control = control;
    r.sweep = NAN;
    r.n = 100;
    r.trials = 100;
    r.delta = 0.05;
    r.quantile = 0.2;
    r.bound = 0.3;
    r.violations = 1;
    r.rate = 0.01;
    r.cp_low = 0.0002;
    r.cp_high = 0.054;
    r.tightness = 1.5;
    r.reference = 0.19;
    r.constant = NAN;
    r.verdict = v;
    return r;
}

static void test_writer_agrees(void)
{
    sl_table t;
    sl_row ok = written_row(SL_CLASS_RIGOROUS, 0, SL_PASS);
    sl_row ctl = written_row(SL_CLASS_RIGOROUS, 1, SL_FAIL);
    sl_row bad = written_row(SL_CLASS_RIGOROUS, 0, SL_FAIL);
    sl_row leaky = written_row(SL_CLASS_PAPER, 1, SL_PASS);

    sl_table_init(&t);
    CU_ASSERT_FATAL(sl_table_add_row(&t, &ok) == 0);
    CU_ASSERT_FATAL(sl_table_add_row(&t, &ctl) == 0);
    gate_written(&t);
    CU_ASSERT_FATAL(sl_table_add_row(&t, &bad) == 0);
    CU_ASSERT_FATAL(sl_table_add_row(&t, &leaky) == 0);
    gate_written(&t);
    sl_table_free(&t);
}

void register_gate_suite(void)
{
    CU_pSuite s = CU_add_suite("gate", NULL, NULL);

    testing_add(s, "pass", test_pass);
    testing_add(s, "rigorous_fail", test_rigorous_fail);
    testing_add(s, "control_pass", test_control_pass);
    testing_add(s, "rate_fail_and_control_fit", test_rate_fail_and_control_fit);
    testing_add(s, "summary_not_trusted", test_summary_not_trusted);
    testing_add(s, "aggregate", test_aggregate);
    testing_add(s, "malformed_json", test_malformed_json);
    testing_add(s, "wrong_schema", test_wrong_schema);
    testing_add(s, "missing_field", test_missing_field);
    testing_add(s, "wrong_type", test_wrong_type);
    testing_add(s, "missing_file", test_missing_file);
    testing_add(s, "bad_among_good", test_bad_among_good);
    testing_add(s, "usage", test_usage);
    testing_add(s, "writer_agrees", test_writer_agrees);
}
