/* report.c -- a check's verdict table as JSON and CSV files (report.h).
 *
 * The JSON is built as a jansson tree, keys in the order of
 * spec/REPORT_SCHEMA.md, and dumped with 17 significant digits, which
 * read back to the same doubles; NaN and infinities, which JSON lacks,
 * become null.  The CSV is printed with %.17g, NaN as an empty field.
 * Both are written to "PATH.tmp", flushed to disk, and renamed over PATH:
 * rename is atomic within a file system, so a reader sees the old report
 * or the new one, never a part.  Two writers of the same PATH at once
 * share the temporary name and are not supported.
 *
 * Counts (n, trials, violations) are JSON integers and must be below
 * 2^63; the seed, a full 64-bit value that not every JSON reader keeps
 * exact, is written as a string of decimal digits.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/report.h"

/* How json_dumps prints: one-space indent, keys in insertion order, 17
 * significant digits. */
#define REPORT_JSON_FLAGS                                                      \
    (JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17))

/* ---- Errors ----------------------------------------------------------- */

#if defined(__GNUC__)
#define REPORT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define REPORT_PRINTF(f, a)
#endif

static sl_status fail(sl_status st, char *err, size_t errlen, const char *fmt,
                      ...) REPORT_PRINTF(4, 5);

/* Format one line into err (if any) and return st. */
static sl_status fail(sl_status st, char *err, size_t errlen, const char *fmt,
                      ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* ---- Checks before writing -------------------------------------------- */

/* What no report can hold: a missing string, a count of 2^63 or more.
 * SL_EINVAL with the message naming path and the item. */
static sl_status check_table(const char *path, const sl_run_info *info,
                             const sl_table *t, char *err, size_t errlen)
{
    const char *run_names[] = {"command", "name", "measure", "params_source"};
    const char *run_values[] = {info->command, info->name, info->measure,
                                info->params_source};

    for (size_t i = 0; i < 4; i++)
        if (run_values[i] == NULL)
            return fail(SL_EINVAL, err, errlen, "%s: \"%s\" is missing", path,
                        run_names[i]);
    if (info->trials > INT64_MAX)
        return fail(SL_EINVAL, err, errlen,
                    "%s: \"trials\" is %" PRIu64 ", above 2^63 - 1", path,
                    info->trials);
    for (size_t i = 0; i < t->nrows; i++) {
        const sl_row *r = &t->rows[i];

        if (r->check == NULL || r->target == NULL || r->bound_name == NULL)
            return fail(SL_EINVAL, err, errlen,
                        "%s: row %zu has no check, target or bound name", path,
                        i + 1);
        if (r->n > INT64_MAX || r->trials > INT64_MAX ||
            r->violations > INT64_MAX)
            return fail(SL_EINVAL, err, errlen,
                        "%s: row %zu has a count above 2^63 - 1", path, i + 1);
    }
    for (size_t i = 0; i < t->nfits; i++)
        if (t->fits[i].check == NULL || t->fits[i].target == NULL)
            return fail(SL_EINVAL, err, errlen,
                        "%s: fit %zu has no check or target name", path, i + 1);
    return SL_OK;
}

/* ---- JSON values ------------------------------------------------------ */

/* A real, or null for NaN and infinities. */
static json_t *real_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* n reals. */
static json_t *vector(size_t n, const double *v)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++) {
        if (json_array_append_new(a, real_or_null(v[i])) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

/* rows x cols row-major, as an array of rows. */
static json_t *matrix(size_t rows, size_t cols, const double *m)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < rows; i++) {
        if (json_array_append_new(a, vector(cols, m + i * cols)) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

/* Set key in obj, taking val (NULL counts as a failure); 0 or -1. */
static int put(json_t *obj, const char *key, json_t *val)
{
    return json_object_set_new(obj, key, val);
}

static json_t *params_json(const sl_run_info *info)
{
    const sl_params *p = info->params;
    json_t *o;
    int bad = 0;

    if (p == NULL)
        return json_null();
    o = json_object();
    if (o == NULL)
        return NULL;
    bad |= put(o, "mean", vector(p->D, p->mean));
    bad |= put(o, "cov", matrix(p->D, p->D, p->cov));
    bad |= put(o, "W", matrix(p->D, p->Dq, p->W));
    bad |= put(o, "V", matrix(p->p, p->D, p->V));
    bad |= put(o, "query", vector(p->Dq, p->query));
    bad |= put(o, "g", info->g == NULL ? json_null() : vector(p->p, info->g));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *row_json(const sl_row *r)
{
    json_t *o = json_object();
    int bad = 0;

    if (o == NULL)
        return NULL;
    bad |= put(o, "check", json_string(r->check));
    bad |= put(o, "target", json_string(r->target));
    bad |= put(o, "bound", json_string(r->bound_name));
    bad |= put(o, "class", json_string(sl_class_str(r->cls)));
    bad |= put(o, "control", json_boolean(r->control));
    bad |= put(o, "sweep", real_or_null(r->sweep));
    bad |= put(o, "n", json_integer((json_int_t)r->n));
    bad |= put(o, "trials", json_integer((json_int_t)r->trials));
    bad |= put(o, "delta", real_or_null(r->delta));
    bad |= put(o, "quantile", real_or_null(r->quantile));
    bad |= put(o, "bound_value", real_or_null(r->bound));
    bad |= put(o, "violations", json_integer((json_int_t)r->violations));
    bad |= put(o, "rate", real_or_null(r->rate));
    bad |= put(o, "cp_low", real_or_null(r->cp_low));
    bad |= put(o, "cp_high", real_or_null(r->cp_high));
    bad |= put(o, "verdict", json_string(sl_verdict_str(r->verdict)));
    bad |= put(o, "tightness", real_or_null(r->tightness));
    bad |= put(o, "reference", real_or_null(r->reference));
    bad |= put(o, "constant", real_or_null(r->constant));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *fit_json(const sl_fit *f)
{
    json_t *o = json_object();
    int bad = 0;

    if (o == NULL)
        return NULL;
    bad |= put(o, "check", json_string(f->check));
    bad |= put(o, "target", json_string(f->target));
    bad |= put(o, "control", json_boolean(f->control));
    bad |= put(o, "claim", real_or_null(f->claim));
    bad |= put(o, "tol", real_or_null(f->tol));
    bad |= put(o, "slope", real_or_null(f->slope));
    bad |= put(o, "slope_se", real_or_null(f->slope_se));
    bad |= put(o, "z", real_or_null(f->z));
    bad |= put(o, "verdict", json_string(sl_verdict_str(f->verdict)));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* An array of the rows (fits when rows is 0) of t. */
static json_t *items_json(const sl_table *t, int rows)
{
    size_t n = rows ? t->nrows : t->nfits;
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++) {
        json_t *item = rows ? row_json(&t->rows[i]) : fit_json(&t->fits[i]);

        if (json_array_append_new(a, item) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

static json_t *summary_json(const sl_table *t)
{
    sl_gate_counts c;
    json_t *o = json_object();
    int bad = 0, gate_fail;

    if (o == NULL)
        return NULL;
    sl_gate_count(t, &c);
    gate_fail = c.rigorous_fail > 0 || c.rate_fail > 0 || c.control_pass > 0;
    bad |= put(o, "rows", json_integer((json_int_t)t->nrows));
    bad |= put(o, "fits", json_integer((json_int_t)t->nfits));
    bad |= put(o, "rigorous_fail", json_integer((json_int_t)c.rigorous_fail));
    bad |= put(o, "control_pass", json_integer((json_int_t)c.control_pass));
    bad |= put(o, "rate_fail", json_integer((json_int_t)c.rate_fail));
    bad |= put(o, "gate", json_string(gate_fail ? "fail" : "pass"));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The whole report, or NULL when out of memory. */
static json_t *report_json(const sl_run_info *info, const sl_table *t)
{
    char seed[24];
    json_t *o = json_object(), *paper = json_object(), *run = json_object();
    int bad = o == NULL || paper == NULL || run == NULL;

    if (bad) {
        json_decref(o);
        json_decref(paper);
        json_decref(run);
        return NULL;
    }
    snprintf(seed, sizeof seed, "%" PRIu64, info->seed);
    bad |= put(paper, "C", real_or_null(info->paper_C));
    bad |= put(paper, "c", real_or_null(info->paper_c));
    bad |= put(run, "threads", json_integer((json_int_t)info->threads));
    bad |= put(run, "elapsed_s", real_or_null(info->elapsed_s));

    bad |= put(o, "schema", json_string(SL_REPORT_SCHEMA));
    bad |= put(o, "command", json_string(info->command));
    bad |= put(o, "name", json_string(info->name));
    bad |= put(o, "measure", json_string(info->measure));
    bad |= put(o, "params_source", json_string(info->params_source));
    bad |= put(o, "seed", json_string(seed));
    bad |= put(o, "trials", json_integer((json_int_t)info->trials));
    bad |= put(o, "alpha", real_or_null(info->alpha));
    bad |= put(o, "delta", real_or_null(info->delta));
    bad |= put(o, "quad", real_or_null(info->quad));
    bad |= put(o, "kappa", real_or_null(info->kappa));
    bad |= put(o, "paper", paper);
    bad |= put(o, "params", params_json(info));
    bad |= put(o, "rows", items_json(t, 1));
    bad |= put(o, "fits", items_json(t, 0));
    bad |= put(o, "summary", summary_json(t));
    bad |= put(o, "run", run);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- Files ------------------------------------------------------------ */

/* Write len bytes of text to path through path.tmp and a rename.  An
 * existing path must be a regular file: renaming over a device or a
 * directory (say /dev/stdout, as root) would replace it. */
static sl_status write_atomic(const char *path, const char *text, size_t len,
                              char *err, size_t errlen)
{
    size_t plen = strlen(path);
    struct stat sb;
    char *tmp;
    FILE *f;
    int saved = 0;

    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return fail(SL_EINVAL, err, errlen,
                    "%s: exists and is not a regular file", path);
    tmp = malloc(plen + sizeof ".tmp");
    if (tmp == NULL)
        return fail(SL_ENOMEM, err, errlen, "%s: out of memory", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", sizeof ".tmp");

    /* 1. The temporary file, written, flushed and synced; saved is the
     *    first error. */
    f = fopen(tmp, "w");
    if (f == NULL) {
        saved = errno;
        fail(SL_EIO, err, errlen, "%s: cannot create %s: %s", path, tmp,
             strerror(saved));
        free(tmp);
        return SL_EIO;
    }
    if (fwrite(text, 1, len, f) != len)
        saved = errno != 0 ? errno : EIO;
    if (saved == 0 && fflush(f) != 0)
        saved = errno;
    if (saved == 0 && fsync(fileno(f)) != 0)
        saved = errno;
    if (fclose(f) != 0 && saved == 0)
        saved = errno;
    if (saved != 0) {
        unlink(tmp);
        fail(SL_EIO, err, errlen, "%s: cannot write %s: %s", path, tmp,
             strerror(saved));
        free(tmp);
        return SL_EIO;
    }

    /* 2. Into place (a failure here needs path to change under us). */
    if (rename(tmp, path) != 0) {
        saved = errno;
        unlink(tmp);
        fail(SL_EIO, err, errlen, "%s: cannot rename %s into place: %s", path,
             tmp, strerror(saved));
        free(tmp);
        return SL_EIO;
    }
    free(tmp);
    return SL_OK;
}

sl_status sl_report_json(const char *path, const sl_run_info *info,
                         const sl_table *t, char *err, size_t errlen)
{
    json_t *root;
    char *text;
    sl_status st;
    size_t len;

    st = check_table(path, info, t, err, errlen);
    if (st != SL_OK)
        return st;
    root = report_json(info, t);
    text = root == NULL ? NULL : json_dumps(root, REPORT_JSON_FLAGS);
    json_decref(root);
    if (text == NULL)
        return fail(SL_ENOMEM, err, errlen, "%s: out of memory", path);

    /* json_dumps leaves off the final newline. */
    len = strlen(text);
    {
        char *line = realloc(text, len + 2);

        if (line == NULL) {
            free(text);
            return fail(SL_ENOMEM, err, errlen, "%s: out of memory", path);
        }
        text = line;
        text[len++] = '\n';
        text[len] = '\0';
    }
    st = write_atomic(path, text, len, err, errlen);
    free(text);
    return st;
}

/* ---- CSV -------------------------------------------------------------- */

/* The CSV columns, in order (spec/REPORT_SCHEMA.md). */
static const char csv_header[] =
    "kind,seed,measure,check,target,bound,class,control,sweep,n,trials,"
    "delta,quantile,bound_value,violations,rate,cp_low,cp_high,verdict,"
    "tightness,reference,constant,claim,tol,slope,slope_se,z\n";

/* ",x": %.17g, empty for NaN. */
static void csv_real(FILE *f, double x)
{
    if (isnan(x))
        fputc(',', f);
    else
        fprintf(f, ",%.17g", x);
}

/* ",s", quoted (RFC 4180) if it holds a comma, quote or line break. */
static void csv_str(FILE *f, const char *s)
{
    fputc(',', f);
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* "kind,seed,measure": the start of every line. */
static void csv_lead(FILE *f, const char *kind, const sl_run_info *info)
{
    fprintf(f, "%s,%" PRIu64, kind, info->seed);
    csv_str(f, info->measure);
}

static void csv_row(FILE *f, const sl_run_info *info, const sl_row *r)
{
    csv_lead(f, "row", info);
    csv_str(f, r->check);
    csv_str(f, r->target);
    csv_str(f, r->bound_name);
    fprintf(f, ",%s,%s", sl_class_str(r->cls), r->control ? "true" : "false");
    csv_real(f, r->sweep);
    fprintf(f, ",%" PRIu64 ",%" PRIu64, r->n, r->trials);
    csv_real(f, r->delta);
    csv_real(f, r->quantile);
    csv_real(f, r->bound);
    fprintf(f, ",%" PRIu64, r->violations);
    csv_real(f, r->rate);
    csv_real(f, r->cp_low);
    csv_real(f, r->cp_high);
    fprintf(f, ",%s", sl_verdict_str(r->verdict));
    csv_real(f, r->tightness);
    csv_real(f, r->reference);
    csv_real(f, r->constant);
    fputs(",,,,,\n", f); /* claim, tol, slope, slope_se, z */
}

static void csv_fit(FILE *f, const sl_run_info *info, const sl_fit *x)
{
    csv_lead(f, "fit", info);
    csv_str(f, x->check);
    csv_str(f, x->target);
    fprintf(f, ",,,%s", x->control ? "true" : "false"); /* bound, class */
    fputs(",,,,,,,,,,", f); /* sweep ... cp_high: 10 fields */
    fprintf(f, ",%s", sl_verdict_str(x->verdict));
    fputs(",,,", f); /* tightness, reference, constant */
    csv_real(f, x->claim);
    csv_real(f, x->tol);
    csv_real(f, x->slope);
    csv_real(f, x->slope_se);
    csv_real(f, x->z);
    fputc('\n', f);
}

sl_status sl_report_csv(const char *path, const sl_run_info *info,
                        const sl_table *t, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f;
    sl_status st;
    int bad;

    st = check_table(path, info, t, err, errlen);
    if (st != SL_OK)
        return st;
    f = open_memstream(&text, &len);
    if (f == NULL)
        return fail(SL_ENOMEM, err, errlen, "%s: out of memory", path);
    fputs(csv_header, f);
    for (size_t i = 0; i < t->nrows; i++)
        csv_row(f, info, &t->rows[i]);
    for (size_t i = 0; i < t->nfits; i++)
        csv_fit(f, info, &t->fits[i]);
    bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad) {
        free(text);
        return fail(SL_ENOMEM, err, errlen, "%s: out of memory", path);
    }
    st = write_atomic(path, text, len, err, errlen);
    free(text);
    return st;
}

/* ---- The gate --------------------------------------------------------- */

sl_gate_item sl_gate_row(const sl_row *r)
{
    if (r->control)
        return r->verdict == SL_PASS ? SL_GATE_CONTROL_PASS : SL_GATE_OK;
    if (r->cls == SL_CLASS_RIGOROUS && r->verdict == SL_FAIL)
        return SL_GATE_RIGOROUS_FAIL;
    return SL_GATE_OK;
}

sl_gate_item sl_gate_fit(const sl_fit *f)
{
    if (f->control)
        return f->verdict == SL_PASS ? SL_GATE_CONTROL_PASS : SL_GATE_OK;
    return f->verdict == SL_FAIL ? SL_GATE_RATE_FAIL : SL_GATE_OK;
}

/* Add one item's meaning to c. */
static void tally(sl_gate_counts *c, sl_gate_item item)
{
    switch (item) {
    case SL_GATE_OK:
        break;
    case SL_GATE_RIGOROUS_FAIL:
        c->rigorous_fail++;
        break;
    case SL_GATE_RATE_FAIL:
        c->rate_fail++;
        break;
    case SL_GATE_CONTROL_PASS:
        c->control_pass++;
        break;
    }
}

void sl_gate_count(const sl_table *t, sl_gate_counts *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < t->nrows; i++)
        tally(c, sl_gate_row(&t->rows[i]));
    for (size_t i = 0; i < t->nfits; i++)
        tally(c, sl_gate_fit(&t->fits[i]));
}
