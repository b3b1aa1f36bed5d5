/* test_report.c -- CUnit suite "report": the verdict table (result.h) and
 * its JSON and CSV files (report.h).
 *
 * Reports are written into a fresh directory under /tmp and read back:
 * the JSON with jansson, every field compared with what was written,
 * doubles bit for bit (awkward ones included: 0.1, 1/3, the smallest
 * subnormal, DBL_MAX, -0); NaN and infinities as null; the keys in the
 * documented order; the summary against sl_gate_count.  Writing leaves no
 * temporary file, replaces an old report whole, and an unwritable path
 * gives a one-line error and no file.  The CSV: header, line count, field
 * count, empty NaN fields, quoting, values read back exactly.  The gate's
 * counts on hand-built tables, controls that pass or are N/A included.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/report.h"
#include "engine/result.h"
#include "params/params.h"
#include "testing.h"

/* Doubles that a printer with fewer than 17 digits, or one that drops the
 * sign of zero or the subnormals, would not give back. */
#define N_AWKWARD 8
static const double awkward[N_AWKWARD] = {
    0.1, 1.0 / 3.0, 0x1p-1074, DBL_MAX, -0.0, 2.0, 1e-300, -123456.789e10};

/* The scratch directory of the suite, made by suite_init. */
static char tmp_dir[] = "/tmp/softlin-report-XXXXXX";

static int suite_init(void)
{
    return mkdtemp(tmp_dir) == NULL ? -1 : 0;
}

/* Remove what the tests left (files only; the tests make no subdirs). */
static int suite_clean(void)
{
    static const char *const names[] = {"r.json",    "r.json.tmp", "r.csv",
                                        "r.csv.tmp", "bad.json",   "r.dir.tmp"};
    char path[256];

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmp_dir, names[i]);
        unlink(path);
    }
    return rmdir(tmp_dir) == 0 ? 0 : -1;
}

static const char *tmp_path(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", tmp_dir, name);
    return buf;
}

static int exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* ---- A table to write ------------------------------------------------- */

static double params_mean[2] = {0.1, -0.2};
static double params_cov[4] = {1.0, 0.25, 0.25, 2.0};
static double params_W[6] = {0.5, 0.0, 1.0 / 3.0, 0.0, 0.5, 0.0};
static double params_V[2] = {1.0, -1.0};
static double params_query[3] = {0.3, 0.0, -0.7};
static double params_g[1] = {1.5};
static sl_params test_params = {2,          3,        1,        params_mean,
                                params_cov, params_W, params_V, params_query};

static sl_run_info test_info(void)
{
    sl_run_info info = {0};

    info.command = "check";
    info.name = "all";
    info.measure = "gaussian";
    info.params_source = "seed";
    info.params = &test_params;
    info.g = params_g;
    info.seed = UINT64_MAX; /* above 2^63: kept exactly as a string */
    info.trials = 2000;
    info.alpha = 1e-3;
    info.delta = 0.05;
    info.quad = 0.5;
    info.kappa = exp(0.5);
    info.paper_C = 1.0 / 3.0;
    info.paper_c = 2.0;
    info.threads = 4;
    info.elapsed_s = 12.25;
    return info;
}

/* Row i: its doubles cycle through awkward[], its verdicts and classes
 * through the enums. */
static sl_row test_row(size_t i)
{
    sl_row r;
    double *d[] = {&r.sweep,     &r.delta,   &r.quantile, &r.bound,
                   &r.rate,      &r.cp_low,  &r.cp_high,  &r.tightness,
                   &r.reference, &r.constant};

    memset(&r, 0, sizeof r);
    r.check = i % 2 ? "gradient" : "concentration";
    r.target = i % 3 == 0 ? "output" : "dV";
    r.bound_name = i % 2 ? "chebyshev/20" : "chebyshev";
    r.cls = (sl_class)(i % 4);
    r.control = (int)(i % 2);
    r.n = 1000 * (i + 1);
    r.trials = 2000;
    r.violations = 3 * i;
    for (size_t k = 0; k < sizeof d / sizeof d[0]; k++)
        *d[k] = awkward[(i + k) % N_AWKWARD];
    r.verdict = (sl_verdict)(i % 3);
    return r;
}

static sl_fit test_fit(size_t i)
{
    sl_fit f;

    memset(&f, 0, sizeof f);
    f.check = "rate";
    f.target = i % 2 ? "dW" : "output";
    f.control = (int)(i % 2);
    f.claim = i % 2 ? -1.0 : -0.5;
    f.tol = 0.1;
    f.slope = awkward[i % N_AWKWARD];
    f.slope_se = awkward[(i + 3) % N_AWKWARD];
    f.z = 3.090232306167813;
    f.verdict = (sl_verdict)((i + 1) % 3);
    return f;
}

/* A table of nrows rows and nfits fits from test_row and test_fit. */
static void fill(sl_table *t, size_t nrows, size_t nfits)
{
    sl_table_init(t);
    for (size_t i = 0; i < nrows; i++) {
        sl_row r = test_row(i);

        CU_ASSERT_FATAL(sl_table_add_row(t, &r) == 0);
    }
    for (size_t i = 0; i < nfits; i++) {
        sl_fit f = test_fit(i);

        CU_ASSERT_FATAL(sl_table_add_fit(t, &f) == 0);
    }
}

/* ---- Reading back ----------------------------------------------------- */

/* v holds x exactly: a real with the same bits, or null for non-finite
 * x. */
static int same_real(const char *what, json_t *v, double x)
{
    double got;

    if (!isfinite(x)) {
        if (json_is_null(v))
            return 1;
        fprintf(stderr, "\n  %s: expected null for %a\n", what, x);
        return 0;
    }
    if (!json_is_real(v)) {
        fprintf(stderr, "\n  %s: not a JSON real (wanted %a)\n", what, x);
        return 0;
    }
    got = json_real_value(v);
    if (memcmp(&got, &x, sizeof x) == 0)
        return 1;
    fprintf(stderr, "\n  %s: got %a want %a\n", what, got, x);
    return 0;
}

static int same_string(json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

static int same_int(json_t *v, uint64_t x)
{
    return json_is_integer(v) && (uint64_t)json_integer_value(v) == x;
}

static json_t *load(const char *path)
{
    json_error_t e;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &e);

    if (root == NULL)
        fprintf(stderr, "\n  %s: %s\n", path, e.text);
    return root;
}

/* The whole file as a string (NULL if unreadable). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    long len;
    char *s = NULL;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0) {
        rewind(f);
        s = malloc((size_t)len + 1);
        if (s != NULL)
            s[fread(s, 1, (size_t)len, f)] = '\0';
    }
    fclose(f);
    return s;
}

/* ---- JSON ------------------------------------------------------------- */

/* Every row and fit field reads back as written, doubles bit for bit. */
static void test_json_rows_round_trip(void)
{
    sl_table t;
    sl_run_info info = test_info();
    char path[256], err[256] = "";
    json_t *root, *rows, *fits;

    fill(&t, 12, 4);
    tmp_path("r.json", path, sizeof path);
    CU_ASSERT_EQUAL_FATAL(sl_report_json(path, &info, &t, err, sizeof err),
                          SL_OK);
    root = load(path);
    CU_ASSERT_FATAL(root != NULL);
    rows = json_object_get(root, "rows");
    fits = json_object_get(root, "fits");
    CU_ASSERT_FATAL(json_is_array(rows) && json_array_size(rows) == 12);
    CU_ASSERT_FATAL(json_is_array(fits) && json_array_size(fits) == 4);
    for (size_t i = 0; i < t.nrows; i++) {
        const sl_row *r = &t.rows[i];
        json_t *o = json_array_get(rows, i);

        CU_ASSERT(json_object_size(o) == 19);
        CU_ASSERT(same_string(json_object_get(o, "check"), r->check));
        CU_ASSERT(same_string(json_object_get(o, "target"), r->target));
        CU_ASSERT(same_string(json_object_get(o, "bound"), r->bound_name));
        CU_ASSERT(
            same_string(json_object_get(o, "class"), sl_class_str(r->cls)));
        CU_ASSERT(json_is_boolean(json_object_get(o, "control")) &&
                  json_is_true(json_object_get(o, "control")) == r->control);
        CU_ASSERT(same_int(json_object_get(o, "n"), r->n));
        CU_ASSERT(same_int(json_object_get(o, "trials"), r->trials));
        CU_ASSERT(same_int(json_object_get(o, "violations"), r->violations));
        CU_ASSERT(same_string(json_object_get(o, "verdict"),
                              sl_verdict_str(r->verdict)));
        CU_ASSERT(same_real("sweep", json_object_get(o, "sweep"), r->sweep));
        CU_ASSERT(same_real("delta", json_object_get(o, "delta"), r->delta));
        CU_ASSERT(
            same_real("quantile", json_object_get(o, "quantile"), r->quantile));
        CU_ASSERT(same_real("bound_value", json_object_get(o, "bound_value"),
                            r->bound));
        CU_ASSERT(same_real("rate", json_object_get(o, "rate"), r->rate));
        CU_ASSERT(same_real("cp_low", json_object_get(o, "cp_low"), r->cp_low));
        CU_ASSERT(
            same_real("cp_high", json_object_get(o, "cp_high"), r->cp_high));
        CU_ASSERT(same_real("tightness", json_object_get(o, "tightness"),
                            r->tightness));
        CU_ASSERT(same_real("reference", json_object_get(o, "reference"),
                            r->reference));
        CU_ASSERT(
            same_real("constant", json_object_get(o, "constant"), r->constant));
    }
    for (size_t i = 0; i < t.nfits; i++) {
        const sl_fit *f = &t.fits[i];
        json_t *o = json_array_get(fits, i);

        CU_ASSERT(json_object_size(o) == 9);
        CU_ASSERT(same_string(json_object_get(o, "check"), f->check));
        CU_ASSERT(same_string(json_object_get(o, "target"), f->target));
        CU_ASSERT(json_is_true(json_object_get(o, "control")) == f->control);
        CU_ASSERT(same_real("claim", json_object_get(o, "claim"), f->claim));
        CU_ASSERT(same_real("tol", json_object_get(o, "tol"), f->tol));
        CU_ASSERT(same_real("slope", json_object_get(o, "slope"), f->slope));
        CU_ASSERT(
            same_real("slope_se", json_object_get(o, "slope_se"), f->slope_se));
        CU_ASSERT(same_real("z", json_object_get(o, "z"), f->z));
        CU_ASSERT(same_string(json_object_get(o, "verdict"),
                              sl_verdict_str(f->verdict)));
    }
    json_decref(root);
    sl_table_free(&t);
}

/* The run's identity: schema, names, the 64-bit seed as a string, the
 * parameters as matrices, the paper constants and the run object. */
static void test_json_run_round_trip(void)
{
    sl_table t;
    sl_run_info info = test_info();
    char path[256], err[256] = "";
    json_t *root, *prm, *W;

    fill(&t, 1, 0);
    tmp_path("r.json", path, sizeof path);
    CU_ASSERT_EQUAL_FATAL(sl_report_json(path, &info, &t, err, sizeof err),
                          SL_OK);
    root = load(path);
    CU_ASSERT_FATAL(root != NULL);
    CU_ASSERT(same_string(json_object_get(root, "schema"), SL_REPORT_SCHEMA));
    CU_ASSERT(same_string(json_object_get(root, "command"), "check"));
    CU_ASSERT(same_string(json_object_get(root, "name"), "all"));
    CU_ASSERT(same_string(json_object_get(root, "measure"), "gaussian"));
    CU_ASSERT(same_string(json_object_get(root, "params_source"), "seed"));
    CU_ASSERT(
        same_string(json_object_get(root, "seed"), "18446744073709551615"));
    CU_ASSERT(same_int(json_object_get(root, "trials"), 2000));
    CU_ASSERT(same_real("alpha", json_object_get(root, "alpha"), 1e-3));
    CU_ASSERT(same_real("kappa", json_object_get(root, "kappa"), exp(0.5)));
    CU_ASSERT(same_real("paper C",
                        json_object_get(json_object_get(root, "paper"), "C"),
                        1.0 / 3.0));
    prm = json_object_get(root, "params");
    W = json_object_get(prm, "W");
    CU_ASSERT_FATAL(json_is_array(W) && json_array_size(W) == 2);
    CU_ASSERT(json_array_size(json_array_get(W, 1)) == 3);
    CU_ASSERT(same_real("W[0][2]", json_array_get(json_array_get(W, 0), 2),
                        1.0 / 3.0));
    CU_ASSERT(
        same_real("W[1][1]", json_array_get(json_array_get(W, 1), 1), 0.5));
    CU_ASSERT(json_array_size(json_object_get(prm, "V")) == 1);
    CU_ASSERT(
        same_real("g[0]", json_array_get(json_object_get(prm, "g"), 0), 1.5));
    CU_ASSERT(
        same_int(json_object_get(json_object_get(root, "run"), "threads"), 4));
    json_decref(root);
    sl_table_free(&t);
}

/* NaN and both infinities become null; no params give null. */
static void test_json_nonfinite_null(void)
{
    sl_table t;
    sl_run_info info = test_info();
    sl_row r = test_row(0);
    char path[256], err[256] = "";
    json_t *root, *o;

    r.quantile = NAN;
    r.bound = INFINITY;
    r.tightness = -INFINITY;
    info.kappa = NAN;
    info.params = NULL;
    sl_table_init(&t);
    CU_ASSERT_FATAL(sl_table_add_row(&t, &r) == 0);
    tmp_path("r.json", path, sizeof path);
    CU_ASSERT_EQUAL_FATAL(sl_report_json(path, &info, &t, err, sizeof err),
                          SL_OK);
    root = load(path);
    CU_ASSERT_FATAL(root != NULL);
    o = json_array_get(json_object_get(root, "rows"), 0);
    CU_ASSERT(json_is_null(json_object_get(o, "quantile")));
    CU_ASSERT(json_is_null(json_object_get(o, "bound_value")));
    CU_ASSERT(json_is_null(json_object_get(o, "tightness")));
    CU_ASSERT(json_is_null(json_object_get(root, "kappa")));
    CU_ASSERT(json_is_null(json_object_get(root, "params")));
    json_decref(root);
    sl_table_free(&t);
}

/* Top-level keys appear in the order of report.h and the schema. */
static void test_json_key_order(void)
{
    static const char *const keys[] = {"\"schema\"",
                                       "\"command\"",
                                       "\"name\"",
                                       "\"measure\"",
                                       "\"params_source\"",
                                       "\"seed\"",
                                       "\"trials\"",
                                       "\"alpha\"",
                                       "\"delta\"",
                                       "\"quad\"",
                                       "\"kappa\"",
                                       "\"paper\"",
                                       "\"params\"",
                                       "\"rows\"",
                                       "\"fits\"",
                                       "\"summary\"",
                                       "\"run\""};
    sl_table t;
    sl_run_info info = test_info();
    char path[256], err[256] = "", *text;
    const char *at;

    sl_table_init(&t);
    tmp_path("r.json", path, sizeof path);
    CU_ASSERT_EQUAL_FATAL(sl_report_json(path, &info, &t, err, sizeof err),
                          SL_OK);
    text = slurp(path);
    CU_ASSERT_FATAL(text != NULL);
    at = text;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *next = strstr(at, keys[i]);

        if (next == NULL) {
            fprintf(stderr, "\n  %s missing or out of order\n", keys[i]);
            CU_FAIL("key order");
            break;
        }
        at = next;
    }
    CU_ASSERT(text[strlen(text) - 1] == '\n');
    free(text);
}

/* The summary's counts are sl_gate_count's, and "gate" follows them. */
static void test_json_summary(void)
{
    sl_table t;
    sl_run_info info = test_info();
    sl_gate_counts c;
    char path[256], err[256] = "";
    json_t *root, *s;

    fill(&t, 12, 4);
    sl_gate_count(&t, &c);
    CU_ASSERT(c.rigorous_fail + c.rate_fail + c.control_pass > 0);
    tmp_path("r.json", path, sizeof path);
    CU_ASSERT_EQUAL_FATAL(sl_report_json(path, &info, &t, err, sizeof err),
                          SL_OK);
    root = load(path);
    CU_ASSERT_FATAL(root != NULL);
    s = json_object_get(root, "summary");
    CU_ASSERT(same_int(json_object_get(s, "rows"), 12));
    CU_ASSERT(same_int(json_object_get(s, "fits"), 4));
    CU_ASSERT(same_int(json_object_get(s, "rigorous_fail"), c.rigorous_fail));
    CU_ASSERT(same_int(json_object_get(s, "rate_fail"), c.rate_fail));
    CU_ASSERT(same_int(json_object_get(s, "control_pass"), c.control_pass));
    CU_ASSERT(same_string(json_object_get(s, "gate"), "fail"));
    json_decref(root);
    sl_table_free(&t);

    /* An empty table passes. */
    sl_table_init(&t);
    CU_ASSERT_EQUAL_FATAL(sl_report_json(path, &info, &t, err, sizeof err),
                          SL_OK);
    root = load(path);
    CU_ASSERT_FATAL(root != NULL);
    CU_ASSERT(same_string(
        json_object_get(json_object_get(root, "summary"), "gate"), "pass"));
    json_decref(root);
}

/* After a write, no PATH.tmp; a second write replaces the first whole. */
static void test_json_replaces_no_temp(void)
{
    sl_table t;
    sl_run_info info = test_info();
    char path[256], tmp[300], err[256] = "";
    json_t *root;

    tmp_path("r.json", path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fill(&t, 30, 2);
    CU_ASSERT_EQUAL(sl_report_json(path, &info, &t, err, sizeof err), SL_OK);
    CU_ASSERT(!exists(tmp));
    sl_table_free(&t);
    fill(&t, 1, 0);
    CU_ASSERT_EQUAL(sl_report_json(path, &info, &t, err, sizeof err), SL_OK);
    CU_ASSERT(!exists(tmp));
    root = load(path);
    CU_ASSERT_FATAL(root != NULL);
    CU_ASSERT(json_array_size(json_object_get(root, "rows")) == 1);
    json_decref(root);
    sl_table_free(&t);
}

/* A directory that does not exist: SL_EIO, one line naming the path, and
 * neither the file nor its temporary.  A PATH that is a directory or a
 * device: SL_EINVAL, untouched. */
static void test_json_unwritable(void)
{
    sl_table t;
    sl_run_info info = test_info();
    char path[256], tmp[300], err[512] = "";

    snprintf(path, sizeof path, "%s/missing/r.json", tmp_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fill(&t, 2, 1);
    CU_ASSERT_EQUAL(sl_report_json(path, &info, &t, err, sizeof err), SL_EIO);
    CU_ASSERT(strstr(err, path) != NULL);
    CU_ASSERT(strchr(err, '\n') == NULL && err[0] != '\0');
    CU_ASSERT(!exists(path) && !exists(tmp));
    err[0] = '\0';
    CU_ASSERT_EQUAL(sl_report_csv(path, &info, &t, err, sizeof err), SL_EIO);
    CU_ASSERT(strstr(err, path) != NULL);
    CU_ASSERT(!exists(path) && !exists(tmp));

    /* PATH is a directory, or a device: refused before any temporary,
     * and left as it was. */
    tmp_path("r.dir", path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CU_ASSERT_FATAL(mkdir(path, 0700) == 0);
    CU_ASSERT_EQUAL(sl_report_json(path, &info, &t, err, sizeof err),
                    SL_EINVAL);
    CU_ASSERT(strstr(err, path) != NULL);
    CU_ASSERT(!exists(tmp));
    CU_ASSERT(rmdir(path) == 0);
    CU_ASSERT_EQUAL(sl_report_csv("/dev/null", &info, &t, err, sizeof err),
                    SL_EINVAL);
    CU_ASSERT(!exists("/dev/null.tmp"));
    sl_table_free(&t);
}

/* A NULL name or a count beyond 2^63 - 1: SL_EINVAL and no file. */
static void test_json_invalid_input(void)
{
    sl_table t;
    sl_run_info info = test_info();
    sl_row r = test_row(0);
    char path[256], err[512] = "";

    tmp_path("bad.json", path, sizeof path);
    sl_table_init(&t);
    r.check = NULL;
    CU_ASSERT_FATAL(sl_table_add_row(&t, &r) == 0);
    CU_ASSERT_EQUAL(sl_report_json(path, &info, &t, err, sizeof err),
                    SL_EINVAL);
    CU_ASSERT(strstr(err, "row 1") != NULL);
    t.rows[0].check = "concentration";
    t.rows[0].n = UINT64_MAX;
    CU_ASSERT_EQUAL(sl_report_json(path, &info, &t, err, sizeof err),
                    SL_EINVAL);
    t.rows[0].n = 10;
    info.measure = NULL;
    CU_ASSERT_EQUAL(sl_report_csv(path, &info, &t, err, sizeof err), SL_EINVAL);
    CU_ASSERT(strstr(err, "measure") != NULL);
    CU_ASSERT(!exists(path));
    sl_table_free(&t);
}

/* ---- CSV -------------------------------------------------------------- */

/* Split line (no newline) at commas outside quotes into at most max
 * fields, in place; returns the count.  Quotes are left in the fields. */
static size_t split_csv(char *line, char **fields, size_t max)
{
    size_t n = 0;
    int quoted = 0;

    fields[n++] = line;
    for (char *c = line; *c != '\0'; c++) {
        if (*c == '"')
            quoted = !quoted;
        else if (*c == ',' && !quoted && n < max) {
            *c = '\0';
            fields[n++] = c + 1;
        }
    }
    return n;
}

#define CSV_COLUMNS 27

/* Header, one line per row and fit, 27 fields each, NaN empty, measure
 * quoted, doubles read back exactly. */
static void test_csv_lines(void)
{
    sl_table t;
    sl_run_info info = test_info();
    char path[256], err[256] = "", *text, *line, *save = NULL;
    char *fields[CSV_COLUMNS + 1];
    size_t nlines = 0;

    info.measure = "mix, \"a\"";
    fill(&t, 5, 2);
    t.rows[0].quantile = NAN;
    tmp_path("r.csv", path, sizeof path);
    CU_ASSERT_EQUAL_FATAL(sl_report_csv(path, &info, &t, err, sizeof err),
                          SL_OK);
    text = slurp(path);
    CU_ASSERT_FATAL(text != NULL);
    for (line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save), nlines++) {
        size_t n = split_csv(line, fields, CSV_COLUMNS + 1);

        CU_ASSERT_EQUAL(n, CSV_COLUMNS);
        if (n != CSV_COLUMNS)
            continue;
        if (nlines == 0) {
            CU_ASSERT_STRING_EQUAL(fields[0], "kind");
            CU_ASSERT_STRING_EQUAL(fields[13], "bound_value");
            CU_ASSERT_STRING_EQUAL(fields[26], "z");
            continue;
        }
        CU_ASSERT_STRING_EQUAL(fields[1], "18446744073709551615");
        CU_ASSERT_STRING_EQUAL(fields[2], "\"mix, \"\"a\"\"\"");
        if (nlines == 1) {
            double delta = strtod(fields[11], NULL);

            CU_ASSERT_STRING_EQUAL(fields[0], "row");
            CU_ASSERT_STRING_EQUAL(fields[12], ""); /* quantile: NaN */
            CU_ASSERT(memcmp(&delta, &t.rows[0].delta, sizeof delta) == 0);
            CU_ASSERT_STRING_EQUAL(fields[22], ""); /* claim: a fit's */
        }
        if (nlines == 6) {
            double slope = strtod(fields[24], NULL);

            CU_ASSERT_STRING_EQUAL(fields[0], "fit");
            CU_ASSERT_STRING_EQUAL(fields[9], ""); /* n: a row's */
            CU_ASSERT(memcmp(&slope, &t.fits[0].slope, sizeof slope) == 0);
        }
    }
    CU_ASSERT_EQUAL(nlines, 1 + 5 + 2);
    free(text);
    sl_table_free(&t);
}

/* ---- Table and gate --------------------------------------------------- */

/* Rows and fits survive growth; names and parsers agree. */
static void test_table_growth_and_names(void)
{
    sl_table t;
    sl_class c;
    sl_verdict v;

    fill(&t, 1000, 100);
    CU_ASSERT_EQUAL(t.nrows, 1000);
    CU_ASSERT_EQUAL(t.nfits, 100);
    CU_ASSERT_EQUAL(t.rows[777].n, 778000);
    CU_ASSERT_EQUAL(t.fits[99].slope, awkward[99 % N_AWKWARD]);
    sl_table_free(&t);
    CU_ASSERT(t.rows == NULL && t.nrows == 0);

    CU_ASSERT_STRING_EQUAL(sl_class_str(SL_CLASS_RIGOROUS), "rigorous");
    CU_ASSERT_STRING_EQUAL(sl_class_str(SL_CLASS_REFERENCE), "reference");
    CU_ASSERT_STRING_EQUAL(sl_verdict_str(SL_NA), "N/A");
    for (int i = 0; i < 4; i++)
        CU_ASSERT(sl_class_parse(sl_class_str((sl_class)i), &c) == 0 &&
                  c == (sl_class)i);
    for (int i = 0; i < 3; i++)
        CU_ASSERT(sl_verdict_parse(sl_verdict_str((sl_verdict)i), &v) == 0 &&
                  v == (sl_verdict)i);
    CU_ASSERT(sl_verdict_parse("pass", &v) == -1);
    CU_ASSERT(sl_class_parse("Rigorous", &c) == -1);
}

/* Hand-built: what counts where, and what counts nowhere. */
static void test_gate_counts(void)
{
    struct {
        sl_class cls;
        int control;
        sl_verdict verdict;
    } rows[] = {
        {SL_CLASS_RIGOROUS, 0, SL_FAIL},  /* rigorous_fail */
        {SL_CLASS_RIGOROUS, 0, SL_FAIL},  /* rigorous_fail */
        {SL_CLASS_RIGOROUS, 0, SL_PASS},  /* fine */
        {SL_CLASS_RIGOROUS, 0, SL_NA},    /* fine */
        {SL_CLASS_PAPER, 0, SL_FAIL},     /* information */
        {SL_CLASS_REFERENCE, 0, SL_FAIL}, /* information */
        {SL_CLASS_RIGOROUS, 1, SL_FAIL},  /* a control doing its job */
        {SL_CLASS_RIGOROUS, 1, SL_PASS},  /* control_pass */
        {SL_CLASS_PAPER, 1, SL_PASS},     /* control_pass, any class */
        {SL_CLASS_RIGOROUS, 1, SL_NA},    /* bound did not apply */
    };
    struct {
        int control;
        sl_verdict verdict;
    } fits[] = {
        {0, SL_FAIL}, /* rate_fail */
        {0, SL_PASS}, /* fine */
        {1, SL_FAIL}, /* a control doing its job */
        {1, SL_PASS}, /* control_pass */
        {1, SL_NA},   /* nowhere */
    };
    sl_table t;
    sl_gate_counts c;

    sl_table_init(&t);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sl_row r = test_row(0);

        r.cls = rows[i].cls;
        r.control = rows[i].control;
        r.verdict = rows[i].verdict;
        CU_ASSERT_FATAL(sl_table_add_row(&t, &r) == 0);
    }
    for (size_t i = 0; i < sizeof fits / sizeof fits[0]; i++) {
        sl_fit f = test_fit(0);

        f.control = fits[i].control;
        f.verdict = fits[i].verdict;
        CU_ASSERT_FATAL(sl_table_add_fit(&t, &f) == 0);
    }
    sl_gate_count(&t, &c);
    CU_ASSERT_EQUAL(c.rigorous_fail, 2);
    CU_ASSERT_EQUAL(c.rate_fail, 1);
    CU_ASSERT_EQUAL(c.control_pass, 3);
    CU_ASSERT_EQUAL(sl_gate_row(&t.rows[9]), SL_GATE_OK);
    CU_ASSERT_EQUAL(sl_gate_fit(&t.fits[2]), SL_GATE_OK);
    sl_table_free(&t);
}

void register_report_suite(void)
{
    CU_pSuite s = CU_add_suite("report", suite_init, suite_clean);

    testing_add(s, "json_rows_round_trip", test_json_rows_round_trip);
    testing_add(s, "json_run_round_trip", test_json_run_round_trip);
    testing_add(s, "json_nonfinite_null", test_json_nonfinite_null);
    testing_add(s, "json_key_order", test_json_key_order);
    testing_add(s, "json_summary", test_json_summary);
    testing_add(s, "json_replaces_no_temp", test_json_replaces_no_temp);
    testing_add(s, "json_unwritable", test_json_unwritable);
    testing_add(s, "json_invalid_input", test_json_invalid_input);
    testing_add(s, "csv_lines", test_csv_lines);
    testing_add(s, "table_growth_and_names", test_table_growth_and_names);
    testing_add(s, "gate_counts", test_gate_counts);
}
