/* cmd_gate.c -- "softlin gate": CI's verdict on check reports.
 *
 *   softlin gate FILE...
 *
 * Reads each JSON report (spec/REPORT_SCHEMA.md), checks its schema tag
 * and every field of its rows and fits, and recomputes the gate from them
 * with sl_gate_row and sl_gate_fit (report.h), the rules the writer's
 * summary follows; the summary itself is not read, so a report edited by
 * hand or written by another tool cannot vouch for itself.  A run fails
 * on a rigorous row that FAILed, a rate fit that FAILed, or a negative
 * control (row or fit) that PASSed; controls whose bound did not apply
 * (N/A) and FAILs of paper or reference rows do not count.
 *
 * Every file is read and checked before anything is printed, so bad input
 * gives one error line and status 2, never a half verdict.  Each failing
 * item then gets one line on stdout, and a closing line gives the totals.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "engine/report.h"
#include "engine/result.h"

#define GATE_CMD "gate"

void cmd_gate_usage(FILE *out)
{
    fprintf(out,
            "Usage: softlin gate FILE...\n"
            "\n"
            "Reads the JSON reports of \"softlin check\" (schema \"%s\")\n"
            "and decides, from their rows and fits, whether CI passes.\n"
            "It fails on:\n"
            "  - a rigorous row (not a control) whose verdict is FAIL;\n"
            "  - a rate fit (not a control) whose verdict is FAIL;\n"
            "  - a negative control, row or fit, whose verdict is PASS.\n"
            "Controls marked N/A and FAILs of paper or reference rows do\n"
            "not count.  The reports' own \"summary\" is not trusted.\n"
            "\n"
            "Output: one line per failing item, then\n"
            "  gate: N files, R rows, F fits: pass\n"
            "or\n"
            "  gate: N files, R rows, F fits: fail (X rigorous failures,\n"
            "  Y rate failures, Z controls passed)\n"
            "\n"
            "Options:\n"
            "  --help  this text\n"
            "  --      the arguments after it are files\n"
            "\n"
            "Exit status: 0 the gate passes, 1 it fails, 2 bad usage or a\n"
            "missing or malformed report (one line naming file and field).\n",
            SL_REPORT_SCHEMA);
}

/* ---- Reading a report ------------------------------------------------- */

/* One report: the JSON tree (which owns the strings) and its table. */
typedef struct gate_file {
    const char *path;
    json_t *root;
    sl_table table;
} gate_file;

/* What a field must hold. */
typedef enum field_kind {
    FIELD_STRING,
    FIELD_BOOL,
    FIELD_COUNT,       /* a non-negative JSON integer */
    FIELD_REAL_OR_NULL /* any JSON number, or null (NaN) */
} field_kind;

static const char *const kind_text[] = {
    "a string", "true or false", "a non-negative integer", "a number or null"};

/* obj[key] of the given kind, or NULL after one error line naming the
 * file, the item (where: "", "row 3: ", ...) and the key. */
static json_t *field(const gate_file *gf, const char *where, json_t *obj,
                     const char *key, field_kind kind)
{
    json_t *v = json_object_get(obj, key);
    int ok = 0;

    if (v == NULL) {
        cli_error(GATE_CMD, "%s: %s\"%s\" is missing", gf->path, where, key);
        return NULL;
    }
    switch (kind) {
    case FIELD_STRING:
        ok = json_is_string(v);
        break;
    case FIELD_BOOL:
        ok = json_is_boolean(v);
        break;
    case FIELD_COUNT:
        ok = json_is_integer(v) && json_integer_value(v) >= 0;
        break;
    case FIELD_REAL_OR_NULL:
        ok = json_is_number(v) || json_is_null(v);
        break;
    }
    if (!ok) {
        cli_error(GATE_CMD, "%s: %s\"%s\" must be %s", gf->path, where, key,
                  kind_text[kind]);
        return NULL;
    }
    return v;
}

static int get_string(const gate_file *gf, const char *where, json_t *obj,
                      const char *key, const char **out)
{
    json_t *v = field(gf, where, obj, key, FIELD_STRING);

    if (v != NULL)
        *out = json_string_value(v);
    return v != NULL;
}

static int get_bool(const gate_file *gf, const char *where, json_t *obj,
                    const char *key, int *out)
{
    json_t *v = field(gf, where, obj, key, FIELD_BOOL);

    if (v != NULL)
        *out = json_is_true(v);
    return v != NULL;
}

static int get_count(const gate_file *gf, const char *where, json_t *obj,
                     const char *key, uint64_t *out)
{
    json_t *v = field(gf, where, obj, key, FIELD_COUNT);

    if (v != NULL)
        *out = (uint64_t)json_integer_value(v);
    return v != NULL;
}

/* A number, or NaN for null. */
static int get_real(const gate_file *gf, const char *where, json_t *obj,
                    const char *key, double *out)
{
    json_t *v = field(gf, where, obj, key, FIELD_REAL_OR_NULL);

    if (v != NULL)
        *out = json_is_null(v) ? NAN : json_number_value(v);
    return v != NULL;
}

static int get_verdict(const gate_file *gf, const char *where, json_t *obj,
                       sl_verdict *out)
{
    const char *s;

    if (!get_string(gf, where, obj, "verdict", &s))
        return 0;
    if (sl_verdict_parse(s, out) != 0) {
        cli_error(GATE_CMD,
                  "%s: %s\"verdict\" must be \"PASS\", \"FAIL\" or \"N/A\", "
                  "got \"%s\"",
                  gf->path, where, s);
        return 0;
    }
    return 1;
}

/* One row object into r; 0 after an error line. */
static int read_row(const gate_file *gf, size_t i, json_t *o, sl_row *r)
{
    static const char *const reals[] = {
        "sweep",  "delta",   "quantile",  "bound_value", "rate",
        "cp_low", "cp_high", "tightness", "reference",   "constant"};
    double *dest[] = {&r->sweep,     &r->delta,   &r->quantile, &r->bound,
                      &r->rate,      &r->cp_low,  &r->cp_high,  &r->tightness,
                      &r->reference, &r->constant};
    char where[48];
    const char *cls;

    snprintf(where, sizeof where, "row %zu: ", i + 1);
    if (!json_is_object(o)) {
        cli_error(GATE_CMD, "%s: %smust be an object", gf->path, where);
        return 0;
    }
    memset(r, 0, sizeof *r);
    if (!get_string(gf, where, o, "check", &r->check) ||
        !get_string(gf, where, o, "target", &r->target) ||
        !get_string(gf, where, o, "bound", &r->bound_name) ||
        !get_string(gf, where, o, "class", &cls) ||
        !get_bool(gf, where, o, "control", &r->control) ||
        !get_count(gf, where, o, "n", &r->n) ||
        !get_count(gf, where, o, "trials", &r->trials) ||
        !get_count(gf, where, o, "violations", &r->violations) ||
        !get_verdict(gf, where, o, &r->verdict))
        return 0;
    if (sl_class_parse(cls, &r->cls) != 0) {
        cli_error(GATE_CMD,
                  "%s: %s\"class\" must be \"rigorous\", \"paper\", "
                  "\"reference\" or \"rate\", got \"%s\"",
                  gf->path, where, cls);
        return 0;
    }
    for (size_t k = 0; k < sizeof reals / sizeof reals[0]; k++)
        if (!get_real(gf, where, o, reals[k], dest[k]))
            return 0;
    return 1;
}

/* One fit object into f; 0 after an error line. */
static int read_fit(const gate_file *gf, size_t i, json_t *o, sl_fit *f)
{
    static const char *const reals[] = {"claim", "tol", "slope", "slope_se",
                                        "z"};
    double *dest[] = {&f->claim, &f->tol, &f->slope, &f->slope_se, &f->z};
    char where[48];

    snprintf(where, sizeof where, "fit %zu: ", i + 1);
    if (!json_is_object(o)) {
        cli_error(GATE_CMD, "%s: %smust be an object", gf->path, where);
        return 0;
    }
    memset(f, 0, sizeof *f);
    if (!get_string(gf, where, o, "check", &f->check) ||
        !get_string(gf, where, o, "target", &f->target) ||
        !get_bool(gf, where, o, "control", &f->control) ||
        !get_verdict(gf, where, o, &f->verdict))
        return 0;
    for (size_t k = 0; k < sizeof reals / sizeof reals[0]; k++)
        if (!get_real(gf, where, o, reals[k], dest[k]))
            return 0;
    return 1;
}

/* Parse gf->path and fill gf->table.  CLI_EXIT_OK, or the status after
 * one error line. */
static int read_report(gate_file *gf)
{
    json_error_t jerr;
    json_t *schema, *rows, *fits;
    FILE *f;

    /* 1. The file, as JSON. */
    f = fopen(gf->path, "rb");
    if (f == NULL) {
        cli_error(GATE_CMD, "%s: cannot open: %s", gf->path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    gf->root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (gf->root == NULL) {
        cli_error(GATE_CMD, "%s: line %d column %d: %s", gf->path, jerr.line,
                  jerr.column, jerr.text);
        return CLI_EXIT_USAGE;
    }
    if (!json_is_object(gf->root)) {
        cli_error(GATE_CMD, "%s: the report must be a JSON object", gf->path);
        return CLI_EXIT_USAGE;
    }

    /* 2. Its schema tag, before anything else is read. */
    schema = field(gf, "", gf->root, "schema", FIELD_STRING);
    if (schema == NULL)
        return CLI_EXIT_USAGE;
    if (strcmp(json_string_value(schema), SL_REPORT_SCHEMA) != 0) {
        cli_error(GATE_CMD, "%s: \"schema\" is \"%s\", expected \"%s\"",
                  gf->path, json_string_value(schema), SL_REPORT_SCHEMA);
        return CLI_EXIT_USAGE;
    }

    /* 3. Rows and fits, each field checked. */
    rows = json_object_get(gf->root, "rows");
    fits = json_object_get(gf->root, "fits");
    if (rows == NULL || fits == NULL || !json_is_array(rows) ||
        !json_is_array(fits)) {
        const char *key =
            rows == NULL || !json_is_array(rows) ? "rows" : "fits";

        cli_error(GATE_CMD, "%s: \"%s\" %s", gf->path, key,
                  json_object_get(gf->root, key) == NULL ? "is missing"
                                                         : "must be an array");
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < json_array_size(rows); i++) {
        sl_row r;

        if (!read_row(gf, i, json_array_get(rows, i), &r))
            return CLI_EXIT_USAGE;
        if (sl_table_add_row(&gf->table, &r) != 0) {
            cli_error(GATE_CMD, "out of memory");
            return CLI_EXIT_FAIL;
        }
    }
    for (size_t i = 0; i < json_array_size(fits); i++) {
        sl_fit x;

        if (!read_fit(gf, i, json_array_get(fits, i), &x))
            return CLI_EXIT_USAGE;
        if (sl_table_add_fit(&gf->table, &x) != 0) {
            cli_error(GATE_CMD, "out of memory");
            return CLI_EXIT_FAIL;
        }
    }
    return CLI_EXIT_OK;
}

/* ---- The verdict ------------------------------------------------------ */

/* s on stdout, control characters as '?', so that a line stays a line. */
static void put_clean(const char *s)
{
    for (; *s != '\0'; s++)
        putchar(iscntrl((unsigned char)*s) ? '?' : *s);
}

/* x with the fewest of 15, 16 or 17 digits that read back to it; "null"
 * for NaN (as the report wrote it). */
static void put_real(double x)
{
    char buf[40];

    if (isnan(x)) {
        fputs("null", stdout);
        return;
    }
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    fputs(buf, stdout);
}

static void print_row(const char *path, sl_gate_item item, const sl_row *r)
{
    put_clean(path);
    fputs(item == SL_GATE_CONTROL_PASS ? ": control PASS: "
                                       : ": rigorous FAIL: ",
          stdout);
    put_clean(r->check);
    putchar(' ');
    put_clean(r->target);
    putchar(' ');
    put_clean(r->bound_name);
    printf(" n=%" PRIu64 ": %" PRIu64 "/%" PRIu64 " violations, cp_low ", r->n,
           r->violations, r->trials);
    put_real(r->cp_low);
    fputs(r->cp_low > r->delta ? " > delta " : " <= delta ", stdout);
    put_real(r->delta);
    putchar('\n');
}

/* The fit's test: slope - z se against claim + tol. */
static void print_fit(const char *path, sl_gate_item item, const sl_fit *f)
{
    double low = f->slope - f->z * f->slope_se, limit = f->claim + f->tol;

    put_clean(path);
    fputs(item == SL_GATE_CONTROL_PASS ? ": control PASS: " : ": rate FAIL: ",
          stdout);
    put_clean(f->check);
    putchar(' ');
    put_clean(f->target);
    fputs(": slope ", stdout);
    put_real(f->slope);
    fputs(" (se ", stdout);
    put_real(f->slope_se);
    fputs(", z ", stdout);
    put_real(f->z);
    fputs("), slope - z se ", stdout);
    put_real(low);
    fputs(low > limit ? " > claim + tol " : " <= claim + tol ", stdout);
    put_real(limit);
    putchar('\n');
}

/* Print the failing items of one report and add its counts to c. */
static void judge(const gate_file *gf, sl_gate_counts *c)
{
    sl_gate_counts mine;

    for (size_t i = 0; i < gf->table.nrows; i++) {
        sl_gate_item item = sl_gate_row(&gf->table.rows[i]);

        if (item != SL_GATE_OK)
            print_row(gf->path, item, &gf->table.rows[i]);
    }
    for (size_t i = 0; i < gf->table.nfits; i++) {
        sl_gate_item item = sl_gate_fit(&gf->table.fits[i]);

        if (item != SL_GATE_OK)
            print_fit(gf->path, item, &gf->table.fits[i]);
    }
    sl_gate_count(&gf->table, &mine);
    c->rigorous_fail += mine.rigorous_fail;
    c->rate_fail += mine.rate_fail;
    c->control_pass += mine.control_pass;
}

static void free_files(gate_file *files, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sl_table_free(&files[i].table);
        json_decref(files[i].root);
    }
    free(files);
}

int cmd_gate(int argc, char **argv)
{
    gate_file *files;
    sl_gate_counts c = {0, 0, 0};
    size_t nfiles = 0, nrows = 0, nfits = 0;
    int options = 1, rc = CLI_EXIT_OK;

    /* 1. The command line: --help, "--", then file names only. */
    files = calloc((size_t)argc, sizeof *files);
    if (files == NULL) {
        cli_error(GATE_CMD, "out of memory");
        return CLI_EXIT_FAIL;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (options && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            free(files);
            cmd_gate_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (options && strcmp(arg, "--") == 0) {
            options = 0;
            continue;
        }
        if (options && arg[0] == '-') {
            cli_error(GATE_CMD,
                      "unknown option \"%s\" (try \"softlin gate --help\")",
                      arg);
            free(files);
            return CLI_EXIT_USAGE;
        }
        sl_table_init(&files[nfiles].table);
        files[nfiles++].path = arg;
    }
    if (nfiles == 0) {
        cli_error(GATE_CMD,
                  "missing report file (try \"softlin gate --help\")");
        free(files);
        return CLI_EXIT_USAGE;
    }

    /* 2. Every report read and checked before any verdict. */
    for (size_t i = 0; i < nfiles && rc == CLI_EXIT_OK; i++)
        rc = read_report(&files[i]);
    if (rc != CLI_EXIT_OK) {
        free_files(files, nfiles);
        return rc;
    }

    /* 3. The failing items, then the totals. */
    for (size_t i = 0; i < nfiles; i++) {
        judge(&files[i], &c);
        nrows += files[i].table.nrows;
        nfits += files[i].table.nfits;
    }
    printf("gate: %zu files, %zu rows, %zu fits: ", nfiles, nrows, nfits);
    if (c.rigorous_fail == 0 && c.rate_fail == 0 && c.control_pass == 0) {
        printf("pass\n");
    } else {
        printf("fail (%zu rigorous failures, %zu rate failures, "
               "%zu controls passed)\n",
               c.rigorous_fail, c.rate_fail, c.control_pass);
        rc = CLI_EXIT_FAIL;
    }
    free_files(files, nfiles);
    return rc;
}
