/* test_oracle_cli.c -- suite "oracle_cli": "softlin oracle" run as a user
 * would (testing_run_softlin).
 *
 * A short sweep exits 0 and prints a PASS row for every kernel output;
 * --json writes a "softlin-accuracy/1" report that jansson reads back,
 * with one row per output and no temporary file left behind; --case
 * replays one case; bad flags exit 2 with one line on stderr naming the
 * flag, and an unwritable report exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "testing.h"

/* Exit statuses of softlin (cli.h). */
#define ORACLE_CLI_OK    0
#define ORACLE_CLI_FAIL  1
#define ORACLE_CLI_USAGE 2

/* A short sweep: 8 cases hold two adversarial ones per kernel. */
#define ORACLE_CLI_CASES "8"

/* Outputs of every kernel together, and of attention (accuracy.h). */
#define ORACLE_CLI_ROWS      29
#define ORACLE_CLI_ATTN_ROWS 4

static const char *const kernels[] = {"softmax", "logsumexp", "attention",
                                      "stream",  "linear",    "linear_limit",
                                      "limit",   "gradient"};

/* Number of lines of s that start with prefix. */
static int count_lines(const char *s, const char *prefix)
{
    int n = 0;
    size_t len = strlen(prefix);
    for (const char *line = s; *line != '\0';) {
        n += strncmp(line, prefix, len) == 0;
        const char *nl = strchr(line, '\n');
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    return n;
}

static void test_sweep_passes(void)
{
    const char *args[] = {"oracle", "--cases", ORACLE_CLI_CASES, NULL};
    testing_run r;
    testing_run_softlin(&r, args);
    CU_ASSERT_EQUAL(r.status, ORACLE_CLI_OK);
    CU_ASSERT_STRING_EQUAL(r.err, "");
    CU_ASSERT(strstr(r.out, "seed 1, 8 cases per kernel") != NULL);
    CU_ASSERT(strstr(r.out, "MPFR 256 bits") != NULL);
    CU_ASSERT(count_lines(r.out, "kernel ") == 1);
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%s ", kernels[k]);
        CU_ASSERT(count_lines(r.out, prefix) >= 1);
    }
    CU_ASSERT(strstr(r.out, " PASS ") != NULL);
    CU_ASSERT(strstr(r.out, "FAIL") == NULL);
    if (r.status != ORACLE_CLI_OK)
        fprintf(stderr, "\n  status %d:\n%s%s", r.status, r.out, r.err);
    testing_run_free(&r);
}

/* A fresh directory under /tmp for output files; NULL if none. */
static char *temp_dir(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/softlin-oracle-cli-XXXXXX");
    return mkdtemp(buf);
}

static void test_json(void)
{
    char dir[64], path[128], tmp[160];
    CU_ASSERT_FATAL(temp_dir(dir, sizeof dir) != NULL);
    snprintf(path, sizeof path, "%s/acc.json", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    const char *args[] = {
        "oracle", "--kernel", "attention", "--cases", ORACLE_CLI_CASES,
        "--seed", "7",        "--prec",    "128",     "--json",
        path,     NULL};
    testing_run r;
    testing_run_softlin(&r, args);
    CU_ASSERT_EQUAL(r.status, ORACLE_CLI_OK);
    CU_ASSERT(access(tmp, F_OK) != 0);

    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    CU_ASSERT_FATAL(root != NULL);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(root, "schema")),
                           "softlin-accuracy/1");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(root, "seed")),
                           "7");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(root, "cases")), 8);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(root, "prec_bits")),
                    128);
    json_t *rows = json_object_get(root, "kernels");
    CU_ASSERT_FATAL(json_is_array(rows));
    CU_ASSERT_EQUAL(json_array_size(rows), ORACLE_CLI_ATTN_ROWS);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        CU_ASSERT_STRING_EQUAL(
            json_string_value(json_object_get(row, "kernel")), "attention");
        CU_ASSERT(json_is_string(json_object_get(row, "output")));
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(row, "cases")), 8);
        CU_ASSERT(json_is_real(json_object_get(row, "max_error")));
        CU_ASSERT(json_is_real(json_object_get(row, "budget")));
        double tight = json_real_value(json_object_get(row, "tightness"));
        CU_ASSERT(tight >= 0.0 && tight <= 1.0);
        CU_ASSERT_STRING_EQUAL(
            json_string_value(json_object_get(row, "verdict")), "PASS");
        CU_ASSERT(json_is_integer(json_object_get(row, "worst_case")));
        json_t *arb = json_object_get(row, "arb_agree");
        /* Every output of attention has an Arb enclosure. */
        CU_ASSERT(json_is_true(arb));
    }
    json_decref(root);
    remove(path);
    rmdir(dir);
    testing_run_free(&r);
}

/* Every kernel's rows in the report of a full sweep. */
static void test_json_all_kernels(void)
{
    char dir[64], path[128];
    CU_ASSERT_FATAL(temp_dir(dir, sizeof dir) != NULL);
    snprintf(path, sizeof path, "%s/acc.json", dir);
    const char *args[] = {"oracle", "--cases", "4", "--json", path, NULL};
    testing_run r;
    testing_run_softlin(&r, args);
    CU_ASSERT_EQUAL(r.status, ORACLE_CLI_OK);
    json_t *root = json_load_file(path, 0, NULL);
    CU_ASSERT_FATAL(root != NULL);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(root, "kernels")),
                    ORACLE_CLI_ROWS);
    json_decref(root);
    remove(path);
    rmdir(dir);
    testing_run_free(&r);
}

static void test_replay(void)
{
    const char *args[] = {"oracle", "--kernel", "softmax", "--seed",
                          "1",      "--case",   "3",       NULL};
    testing_run r;
    testing_run_softlin(&r, args);
    CU_ASSERT_EQUAL(r.status, ORACLE_CLI_OK);
    CU_ASSERT(strstr(r.out, "softmax case 3 (huge logits)") != NULL);
    CU_ASSERT(strstr(r.out, "worst entry") != NULL);
    CU_ASSERT(strstr(r.out, "got 0x") != NULL);
    testing_run_free(&r);
}

/* Status 2, nothing on stdout, one line on stderr naming needle. */
static void expect_usage(const char *const *args, const char *needle)
{
    testing_run r;
    testing_run_softlin(&r, args);
    CU_ASSERT_EQUAL(r.status, ORACLE_CLI_USAGE);
    CU_ASSERT_STRING_EQUAL(r.out, "");
    CU_ASSERT(testing_one_line(r.err));
    CU_ASSERT(strstr(r.err, needle) != NULL);
    if (r.status != ORACLE_CLI_USAGE || !testing_one_line(r.err) ||
        strstr(r.err, needle) == NULL)
        fprintf(stderr, "\n  status %d, stderr: %s", r.status, r.err);
    testing_run_free(&r);
}

static void test_bad_flags(void)
{
    const char *cases0[] = {"oracle", "--cases", "0", NULL};
    const char *cases_x[] = {"oracle", "--cases", "ten", NULL};
    const char *prec_lo[] = {"oracle", "--prec", "63", NULL};
    const char *prec_hi[] = {"oracle", "--prec", "100001", NULL};
    const char *seed_neg[] = {"oracle", "--seed", "-1", NULL};
    const char *case_x[] = {"oracle", "--case", "1.5", NULL};
    const char *case_cases[] = {"oracle", "--case", "1", "--cases", "3", NULL};
    const char *case_json[] = {"oracle", "--case", "1", "--json", "x", NULL};
    const char *json_none[] = {"oracle", "--json", NULL};
    const char *twice[] = {"oracle", "--seed", "1", "--seed", "2", NULL};
    const char *stray[] = {"oracle", "softmax", NULL};
    const char *unknown[] = {"oracle", "--kernels", "all", NULL};
    expect_usage(cases0, "--cases");
    expect_usage(cases_x, "--cases");
    expect_usage(prec_lo, "--prec");
    expect_usage(prec_hi, "--prec");
    expect_usage(seed_neg, "--seed");
    expect_usage(case_x, "--case");
    expect_usage(case_cases, "--cases");
    expect_usage(case_json, "--json");
    expect_usage(json_none, "--json");
    expect_usage(twice, "--seed");
    expect_usage(stray, "softmax");
    expect_usage(unknown, "--kernels");
}

static void test_unknown_kernel(void)
{
    const char *args[] = {"oracle", "--kernel", "softmx", NULL};
    const char *empty[] = {"oracle", "--kernel=", NULL};
    expect_usage(args, "--kernel");
    expect_usage(args, "softmx");
    expect_usage(empty, "--kernel");
}

/* A report that cannot be written: status 1, one line naming --json. */
static void test_json_unwritable(void)
{
    const char *args[] = {"oracle",
                          "--kernel",
                          "logsumexp",
                          "--cases",
                          "2",
                          "--json",
                          "/nonexistent-dir/acc.json",
                          NULL};
    testing_run r;
    testing_run_softlin(&r, args);
    CU_ASSERT_EQUAL(r.status, ORACLE_CLI_FAIL);
    CU_ASSERT(testing_one_line(r.err));
    CU_ASSERT(strstr(r.err, "--json") != NULL);
    testing_run_free(&r);
}

static void test_help(void)
{
    const char *args[] = {"oracle", "--help", NULL};
    const char *top[] = {"--help", NULL};
    testing_run r;
    testing_run_softlin(&r, args);
    CU_ASSERT_EQUAL(r.status, ORACLE_CLI_OK);
    CU_ASSERT(strstr(r.out, "Usage: softlin oracle") != NULL);
    testing_run_free(&r);
    testing_run_softlin(&r, top);
    CU_ASSERT_EQUAL(r.status, ORACLE_CLI_OK);
    CU_ASSERT(strstr(r.out, "  oracle ") != NULL);
    testing_run_free(&r);
}

void register_oracle_cli_suite(void)
{
    CU_pSuite s = CU_add_suite("oracle_cli", NULL, NULL);
    testing_add(s, "sweep_passes", test_sweep_passes);
    testing_add(s, "json", test_json);
    testing_add(s, "json_all_kernels", test_json_all_kernels);
    testing_add(s, "replay", test_replay);
    testing_add(s, "bad_flags", test_bad_flags);
    testing_add(s, "unknown_kernel", test_unknown_kernel);
    testing_add(s, "json_unwritable", test_json_unwritable);
    testing_add(s, "help", test_help);
}
