/* test_params.c -- CUnit suite "params": parameter files (params.h).
 *
 * One valid file read entry by entry, then one test per way a file can be
 * wrong, each from its own fixture in tests/data (shared with the CLI
 * suite): the status, and a message that is one line, starts with the
 * file name and names the field (and row and column where there is one).
 * A failed parse must leave its output empty.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params/params.h"
#include "testing.h"

#define ERR_LEN 512

/* testing_data_dir/name into buf. */
static const char *data_path(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", testing_data_dir, name);
    return buf;
}

static int is_empty(const sl_params *p)
{
    return p->D == 0 && p->Dq == 0 && p->p == 0 && p->mean == NULL &&
           p->cov == NULL && p->W == NULL && p->V == NULL && p->query == NULL;
}

/* Load fixture `name`, expect status `want` and a one-line message that
 * starts with the path and contains each of the NULL-terminated needles
 * in order. */
static void expect_error(const char *name, sl_status want, ...)
{
    char path[1024], err[ERR_LEN];
    const char *needle, *at;
    sl_params p;
    sl_status st;
    va_list ap;

    data_path(name, path, sizeof path);
    st = sl_params_load(path, &p, err, sizeof err);
    CU_ASSERT_EQUAL(st, want);
    CU_ASSERT(is_empty(&p));
    CU_ASSERT(strchr(err, '\n') == NULL);
    CU_ASSERT(strncmp(err, path, strlen(path)) == 0);
    at = err;
    va_start(ap, want);
    while ((needle = va_arg(ap, const char *)) != NULL) {
        const char *hit = strstr(at, needle);

        CU_ASSERT(hit != NULL);
        if (hit == NULL) {
            fprintf(stderr, "\n  %s: status %s, message \"%s\" lacks \"%s\"\n",
                    name, sl_status_str(st), err, needle);
            break;
        }
        at = hit + strlen(needle);
    }
    va_end(ap);
    if (st != want)
        fprintf(stderr, "\n  %s: status %s, want %s: %s\n", name,
                sl_status_str(st), sl_status_str(want), err);
    sl_params_free(&p);
}

/* valid.json: the shapes, and entries from every field in place
 * (integers among the reals included). */
static void test_parse_valid(void)
{
    char path[1024], err[ERR_LEN];
    sl_params p;

    data_path("valid.json", path, sizeof path);
    CU_ASSERT_EQUAL_FATAL(sl_params_load(path, &p, err, sizeof err), SL_OK);
    CU_ASSERT_EQUAL(p.D, 3);
    CU_ASSERT_EQUAL(p.Dq, 2);
    CU_ASSERT_EQUAL(p.p, 2);
    CU_ASSERT_EQUAL(p.mean[1], -0.25);
    CU_ASSERT_EQUAL(p.cov[1], 0.3);
    CU_ASSERT_EQUAL(p.cov[6], -0.2);
    CU_ASSERT_EQUAL(p.W[1], -0.1);
    CU_ASSERT_EQUAL(p.W[5], 0.25);
    CU_ASSERT_EQUAL(p.V[3], 0.0);
    CU_ASSERT_EQUAL(p.V[5], 2.0);
    CU_ASSERT_EQUAL(p.query[1], -0.5);
    sl_params_free(&p);
    CU_ASSERT(is_empty(&p));
}

/* In-memory text, integers only, D = Dq = p = 1. */
static void test_parse_text_integers(void)
{
    const char *text = "{\"mean\": [1], \"cov\": [[4]], \"W\": [[2]],"
                       " \"V\": [[-3]], \"query\": [5]}";
    char err[ERR_LEN];
    sl_params p;

    CU_ASSERT_EQUAL_FATAL(
        sl_params_parse(text, strlen(text), "t", &p, err, sizeof err), SL_OK);
    CU_ASSERT(p.D == 1 && p.Dq == 1 && p.p == 1);
    CU_ASSERT(p.mean[0] == 1.0 && p.cov[0] == 4.0 && p.W[0] == 2.0);
    CU_ASSERT(p.V[0] == -3.0 && p.query[0] == 5.0);
    sl_params_free(&p);
}

static void test_w_wrong_rows(void)
{
    expect_error("bad_w_rows.json", SL_EINVAL, "\"W\" has 2 rows", "expected 3",
                 NULL);
}

static void test_v_wrong_cols(void)
{
    expect_error("bad_v_cols.json", SL_EINVAL,
                 "\"V\" row 2 has 2 entries, expected 3", NULL);
}

static void test_cov_not_square(void)
{
    expect_error("cov_not_square.json", SL_EINVAL,
                 "\"cov\" row 1 has 2 entries, expected 3", NULL);
}

static void test_ragged_rows(void)
{
    expect_error("ragged.json", SL_EINVAL,
                 "\"W\" row 2 has 3 entries, expected 2", NULL);
}

static void test_non_number_entry(void)
{
    expect_error("non_number.json", SL_EINVAL,
                 "\"mean\" entry 2 is not a number", "string", NULL);
}

static void test_missing_field(void)
{
    expect_error("missing_field.json", SL_EINVAL, "missing field", "\"query\"",
                 NULL);
}

static void test_unknown_field(void)
{
    expect_error("unknown_field.json", SL_EINVAL, "unknown field", "\"bias\"",
                 NULL);
}

static void test_duplicate_key(void)
{
    expect_error("duplicate_key.json", SL_EPARSE, "\"mean\"", "twice",
                 "line 12", NULL);
}

static void test_overflowing_number(void)
{
    expect_error("overflow.json", SL_EPARSE, "\"cov\" row 2 column 3",
                 "out of range", "line 4", NULL);
}

static void test_nan_literal(void)
{
    expect_error("nan.json", SL_EPARSE, "\"W\" row 2 column 1", "NaN", "line 7",
                 NULL);
}

static void test_infinity_literal(void)
{
    expect_error("infinity.json", SL_EPARSE, "\"query\" entry 2", "Infinity",
                 NULL);
}

static void test_cov_not_positive_definite(void)
{
    expect_error("not_pd.json", SL_ENOTSPD, "\"cov\" is not positive definite",
                 NULL);
}

static void test_cov_asymmetric(void)
{
    expect_error("asymmetric.json", SL_ENOTSPD, "\"cov\" is not symmetric",
                 "row 1 column 2 is 0.3", "row 2 column 1 is 0.31", NULL);
}

static void test_truncated_json(void)
{
    expect_error("truncated.json", SL_EPARSE, "\"V\" row 2", "ends early",
                 NULL);
}

static void test_empty_file(void)
{
    expect_error("empty.json", SL_EPARSE, "empty", NULL);
}

static void test_empty_array(void)
{
    expect_error("empty_array.json", SL_EINVAL, "\"V\" is empty", NULL);
}

static void test_top_level_not_object(void)
{
    expect_error("not_object.json", SL_EINVAL, "top level", "array", NULL);
}

static void test_missing_file(void)
{
    expect_error("no_such_file.json", SL_EIO, "cannot open", NULL);
}

/* D = SL_PARAMS_MAX_DIM + 1 is refused before anything is allocated. */
static void test_dimension_limit(void)
{
    const char *tail = "], \"cov\": [], \"W\": [], \"V\": [], \"query\": [1]}";
    size_t n = SL_PARAMS_MAX_DIM + 1, len = 0;
    char *text = malloc(4 * n + 64), err[ERR_LEN];
    sl_params p;

    CU_ASSERT_FATAL(text != NULL);
    len += (size_t)sprintf(text, "{\"mean\": [0");
    for (size_t i = 1; i < n; i++)
        len += (size_t)sprintf(text + len, ",0");
    len += (size_t)sprintf(text + len, "%s", tail);
    CU_ASSERT_EQUAL(sl_params_parse(text, len, "big", &p, err, sizeof err),
                    SL_EINVAL);
    CU_ASSERT(strstr(err, "\"mean\" has 4097 entries") != NULL);
    CU_ASSERT(is_empty(&p));
    free(text);
}

/* A name or a jansson message with a newline still gives one line. */
static void test_message_one_line(void)
{
    const char *text = "{\"mean\": [\"a\nb\"]}";
    char err[ERR_LEN];
    sl_params p;

    CU_ASSERT_EQUAL(
        sl_params_parse(text, strlen(text), "x\ny.json", &p, err, sizeof err),
        SL_EPARSE);
    CU_ASSERT(strchr(err, '\n') == NULL);
    CU_ASSERT(strncmp(err, "x?y.json: ", 10) == 0);
}

/* A short error buffer is filled, terminated and not overrun. */
static void test_short_error_buffer(void)
{
    char err[16];
    sl_params p;

    memset(err, 'Z', sizeof err);
    CU_ASSERT_EQUAL(sl_params_parse("[", 1, "file.json", &p, err, 8),
                    SL_EPARSE);
    CU_ASSERT_EQUAL(strlen(err), 7);
    CU_ASSERT_EQUAL(err[8], 'Z');
}

void register_params_suite(void)
{
    CU_pSuite s = CU_add_suite("params", NULL, NULL);

    testing_add(s, "parse_valid", test_parse_valid);
    testing_add(s, "parse_text_integers", test_parse_text_integers);
    testing_add(s, "w_wrong_rows", test_w_wrong_rows);
    testing_add(s, "v_wrong_cols", test_v_wrong_cols);
    testing_add(s, "cov_not_square", test_cov_not_square);
    testing_add(s, "ragged_rows", test_ragged_rows);
    testing_add(s, "non_number_entry", test_non_number_entry);
    testing_add(s, "missing_field", test_missing_field);
    testing_add(s, "unknown_field", test_unknown_field);
    testing_add(s, "duplicate_key", test_duplicate_key);
    testing_add(s, "overflowing_number", test_overflowing_number);
    testing_add(s, "nan_literal", test_nan_literal);
    testing_add(s, "infinity_literal", test_infinity_literal);
    testing_add(s, "cov_not_positive_definite", test_cov_not_positive_definite);
    testing_add(s, "cov_asymmetric", test_cov_asymmetric);
    testing_add(s, "truncated_json", test_truncated_json);
    testing_add(s, "empty_file", test_empty_file);
    testing_add(s, "empty_array", test_empty_array);
    testing_add(s, "top_level_not_object", test_top_level_not_object);
    testing_add(s, "missing_file", test_missing_file);
    testing_add(s, "dimension_limit", test_dimension_limit);
    testing_add(s, "message_one_line", test_message_one_line);
    testing_add(s, "short_error_buffer", test_short_error_buffer);
}
