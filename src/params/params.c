/* params.c -- read and validate attention parameter files (params.h).
 *
 * jansson parses the text (duplicate keys rejected); this file then checks
 * the fields one by one and copies them into row-major double arrays.
 * Every failure is one line, "NAME: what is wrong", naming the field and,
 * inside it, the row and column, all counted from 1.
 *
 * jansson's own errors (syntax, NaN, 1e400, a truncated file) carry only a
 * byte position; locate() rescans the text before that position to tell
 * which field, row and column it falls in.  The prefix is valid JSON up to
 * the offending token, so tracking brackets, commas and strings suffices.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "measure/gauss.h"
#include "params/params.h"

#if defined(__GNUC__)
#define SL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SL_PRINTF(f, a)
#endif

/* Where messages go. */
typedef struct msg_sink {
    const char *name; /* label, usually the file name */
    char *err;
    size_t errlen;
} msg_sink;

/* Write "NAME: <formatted>" to the sink, control characters replaced by
 * '?' so that the message stays on one line, and return st. */
static sl_status fail(const msg_sink *m, sl_status st, const char *fmt, ...)
    SL_PRINTF(3, 4);

static sl_status fail(const msg_sink *m, sl_status st, const char *fmt, ...)
{
    va_list ap;
    int used;

    if (m->err == NULL || m->errlen == 0)
        return st;
    used = snprintf(m->err, m->errlen, "%s: ", m->name);
    if (used >= 0 && (size_t)used < m->errlen) {
        va_start(ap, fmt);
        vsnprintf(m->err + used, m->errlen - (size_t)used, fmt, ap);
        va_end(ap);
    }
    for (char *c = m->err; *c != '\0'; c++)
        if (iscntrl((unsigned char)*c))
            *c = '?';
    return st;
}

/* The fields, in the order they are reported when missing. */
static const char *const field_names[] = {"mean", "cov", "W", "V", "query"};
#define N_FIELDS (sizeof field_names / sizeof field_names[0])

/* 1 for the fields that are matrices (arrays of rows). */
static int is_matrix(const char *field)
{
    return strcmp(field, "cov") == 0 || strcmp(field, "W") == 0 ||
           strcmp(field, "V") == 0;
}

/* A JSON type, for "got a string" in messages. */
static const char *type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "an unknown value";
}

/* ---- Locating jansson's errors ---------------------------------------- */

#define KEY_MAX 32

/* What locate() finds at a byte position. */
typedef struct json_place {
    char key[KEY_MAX + 4]; /* last top-level key seen ("" if none) */
    char path[96];         /* e.g. "cov" row 2 column 3; "" at top level */
} json_place;

/* Scan text[0 .. pos) and describe where pos falls. */
static void locate(const char *text, size_t pos, json_place *where)
{
    char kind[3] = {0, 0, 0}; /* container type of the first 3 levels */
    size_t index[3] = {0, 0, 0};
    size_t depth = 0, klen = 0;
    int in_string = 0, escaped = 0, capturing = 0, expect_key = 0;

    where->key[0] = '\0';
    where->path[0] = '\0';
    for (size_t i = 0; i < pos; i++) {
        char c = text[i];

        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"') {
                in_string = 0;
                capturing = 0;
                continue;
            }
            if (capturing && klen < KEY_MAX) {
                where->key[klen++] = c;
                where->key[klen] = '\0';
            } else if (capturing && klen == KEY_MAX) {
                strcpy(where->key + klen, "...");
                klen++;
            }
            continue;
        }
        switch (c) {
        case '"':
            in_string = 1;
            if (depth == 1 && kind[0] == '{' && expect_key) {
                capturing = 1;
                klen = 0;
                where->key[0] = '\0';
            }
            break;
        case '{':
        case '[':
            if (depth < 3) {
                kind[depth] = c;
                index[depth] = 0;
            }
            depth++;
            if (depth == 1 && c == '{')
                expect_key = 1;
            break;
        case '}':
        case ']':
            if (depth > 0)
                depth--;
            break;
        case ',':
            if (depth > 0 && depth <= 3)
                index[depth - 1]++;
            if (depth == 1 && kind[0] == '{')
                expect_key = 1;
            break;
        case ':':
            if (depth == 1)
                expect_key = 0;
            break;
        default:
            break;
        }
    }

    /* Inside a top-level field's value: name it, with row and column. */
    if (depth == 0 || kind[0] != '{' || where->key[0] == '\0' ||
        (depth == 1 && expect_key))
        return;
    if (depth == 1 || kind[1] != '[') {
        snprintf(where->path, sizeof where->path, "\"%s\"", where->key);
    } else if (!is_matrix(where->key)) {
        snprintf(where->path, sizeof where->path, "\"%s\" entry %zu",
                 where->key, index[1] + 1);
    } else if (depth == 2 || kind[2] != '[') {
        snprintf(where->path, sizeof where->path, "\"%s\" row %zu", where->key,
                 index[1] + 1);
    } else {
        snprintf(where->path, sizeof where->path, "\"%s\" row %zu column %zu",
                 where->key, index[1] + 1, index[2] + 1);
    }
}

/* 1 when the token around byte pos (jansson stops inside or right after
 * it) spells NaN or Infinity in some case, with or without a sign. */
static int is_nonfinite_token(const char *text, size_t len, size_t pos)
{
    size_t start = pos < len ? pos : len, n = 0;
    char word[16];

    while (start > 0 && (isalpha((unsigned char)text[start - 1]) ||
                         text[start - 1] == '-' || text[start - 1] == '+'))
        start--;
    while (start < len && (text[start] == '-' || text[start] == '+'))
        start++;
    while (start + n < len && n + 1 < sizeof word &&
           isalpha((unsigned char)text[start + n])) {
        word[n] = (char)tolower((unsigned char)text[start + n]);
        n++;
    }
    word[n] = '\0';
    return strcmp(word, "nan") == 0 || strcmp(word, "inf") == 0 ||
           strcmp(word, "infinity") == 0;
}

/* 1 when text holds only JSON white space. */
static int is_blank(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (strchr(" \t\r\n", text[i]) == NULL || text[i] == '\0')
            return 0;
    return 1;
}

/* Turn a jansson load error into one message. */
static sl_status syntax_error(const msg_sink *m, const char *text, size_t len,
                              const json_error_t *je)
{
    json_place where;
    size_t pos = je->position > 0 ? (size_t)je->position : 0;
    const char *sep;

    if (is_blank(text, len))
        return fail(m, SL_EPARSE, "file is empty");
    if (pos > len)
        pos = len;
    locate(text, pos, &where);
    sep = where.path[0] != '\0' ? ": " : "";

    switch (json_error_code(je)) {
    case json_error_out_of_memory:
        return fail(m, SL_ENOMEM, "out of memory");
    case json_error_duplicate_key:
        if (where.key[0] != '\0' && where.path[0] == '\0')
            return fail(m, SL_EPARSE,
                        "field \"%s\" appears twice (line %d column %d)",
                        where.key, je->line, je->column);
        break;
    case json_error_premature_end_of_input:
        return fail(m, SL_EPARSE,
                    "%s%sthe file ends early, at line %d column %d (%s)",
                    where.path, sep, je->line, je->column, je->text);
    case json_error_numeric_overflow:
        return fail(m, SL_EPARSE,
                    "%s%snumber out of range at line %d column %d (%s)",
                    where.path, sep, je->line, je->column, je->text);
    case json_error_invalid_syntax:
        if (is_nonfinite_token(text, len, pos))
            return fail(m, SL_EPARSE,
                        "%s%sNaN and Infinity are not JSON "
                        "numbers, at line %d column %d (%s)",
                        where.path, sep, je->line, je->column, je->text);
        break;
    default:
        break;
    }
    return fail(m, SL_EPARSE, "%s%sJSON syntax error at line %d column %d: %s",
                where.path, sep, je->line, je->column, je->text);
}

/* ---- Reading the fields ----------------------------------------------- */

/* One number into *out; phrase names it in messages. */
static sl_status read_number(const msg_sink *m, const json_t *j,
                             const char *phrase, double *out)
{
    if (json_is_integer(j))
        *out = (double)json_integer_value(j);
    else if (json_is_real(j))
        *out = json_real_value(j);
    else
        return fail(m, SL_EINVAL, "%s is not a number (got %s)", phrase,
                    type_name(j));
    if (!isfinite(*out))
        return fail(m, SL_EINVAL, "%s is not finite", phrase);
    return SL_OK;
}

/* A non-empty array field of at most SL_PARAMS_MAX_DIM elements; its
 * length in *n.  unit names its elements ("entries", "rows"). */
static sl_status get_array(const msg_sink *m, const json_t *root,
                           const char *field, const char *unit,
                           const json_t **arr, size_t *n)
{
    const json_t *j = json_object_get(root, field);

    if (!json_is_array(j))
        return fail(m, SL_EINVAL, "\"%s\" must be an array of %s, got %s",
                    field, is_matrix(field) ? "rows" : "numbers", type_name(j));
    *n = json_array_size(j);
    if (*n == 0)
        return fail(m, SL_EINVAL, "\"%s\" is empty", field);
    if (*n > SL_PARAMS_MAX_DIM)
        return fail(m, SL_EINVAL, "\"%s\" has %zu %s, at most %d are supported",
                    field, *n, unit, SL_PARAMS_MAX_DIM);
    *arr = j;
    return SL_OK;
}

/* A vector field: its length in *n and a new array in *out. */
static sl_status read_vector(const msg_sink *m, const json_t *root,
                             const char *field, size_t *n, double **out)
{
    const json_t *arr;
    sl_status st = get_array(m, root, field, "entries", &arr, n);

    if (st != SL_OK)
        return st;
    *out = malloc(*n * sizeof(double));
    if (*out == NULL)
        return fail(m, SL_ENOMEM, "out of memory reading \"%s\"", field);
    for (size_t i = 0; i < *n; i++) {
        char phrase[64];

        snprintf(phrase, sizeof phrase, "\"%s\" entry %zu", field, i + 1);
        st = read_number(m, json_array_get(arr, i), phrase, *out + i);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

/* A matrix field of `rows` rows (0: any number, returned in *rows_out)
 * and `cols` columns, into a new row-major array *out.  why_rows explains
 * the expected row count in messages. */
static sl_status read_matrix(const msg_sink *m, const json_t *root,
                             const char *field, size_t rows,
                             const char *why_rows, size_t cols,
                             size_t *rows_out, double **out)
{
    const json_t *arr;
    size_t n;
    sl_status st = get_array(m, root, field, "rows", &arr, &n);

    if (st != SL_OK)
        return st;
    if (rows != 0 && n != rows)
        return fail(m, SL_EINVAL, "\"%s\" has %zu rows, expected %zu (%s)",
                    field, n, rows, why_rows);
    *rows_out = n;
    *out = malloc(n * cols * sizeof(double));
    if (*out == NULL)
        return fail(m, SL_ENOMEM, "out of memory reading \"%s\"", field);
    for (size_t i = 0; i < n; i++) {
        const json_t *row = json_array_get(arr, i);

        if (!json_is_array(row))
            return fail(m, SL_EINVAL, "\"%s\" row %zu is not an array (got %s)",
                        field, i + 1, type_name(row));
        if (json_array_size(row) != cols)
            return fail(m, SL_EINVAL,
                        "\"%s\" row %zu has %zu entries, expected %zu", field,
                        i + 1, json_array_size(row), cols);
        for (size_t k = 0; k < cols; k++) {
            char phrase[80];

            snprintf(phrase, sizeof phrase, "\"%s\" row %zu column %zu", field,
                     i + 1, k + 1);
            st = read_number(m, json_array_get(row, k), phrase,
                             *out + i * cols + k);
            if (st != SL_OK)
                return st;
        }
    }
    return SL_OK;
}

/* x in as few significant digits as read back to x (at most 17). */
static void shortest(double x, char *buf, size_t len)
{
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

/* Symmetric and positive definite, checked as the sampler will. */
static sl_status check_cov(const msg_sink *m, const sl_params *p)
{
    size_t D = p->D, i, j;
    sl_gauss g;
    sl_status st;

    if (!sl_gauss_symmetric(D, p->cov, &i, &j)) {
        char x[32], y[32];

        shortest(p->cov[i * D + j], x, sizeof x);
        shortest(p->cov[j * D + i], y, sizeof y);
        return fail(m, SL_ENOTSPD,
                    "\"cov\" is not symmetric: row %zu "
                    "column %zu is %s but row %zu column %zu is %s",
                    i + 1, j + 1, x, j + 1, i + 1, y);
    }
    st = sl_gauss_init(&g, D, p->mean, p->cov);
    if (st == SL_OK) {
        sl_gauss_free(&g);
        return SL_OK;
    }
    if (st == SL_ENOTSPD)
        return fail(m, st, "\"cov\" is not positive definite");
    if (st == SL_ENOMEM)
        return fail(m, st, "out of memory checking \"cov\"");
    return fail(m, st, "\"cov\" is too large: its Cholesky factor overflows");
}

/* All fields of the object root into out (partly filled on failure). */
static sl_status read_fields(const msg_sink *m, json_t *root, sl_params *out)
{
    size_t rows;
    sl_status st;

    /* 1. Exactly the five fields. */
    for (void *it = json_object_iter(root); it != NULL;
         it = json_object_iter_next(root, it)) {
        const char *key = json_object_iter_key(it);
        int known = 0;

        for (size_t f = 0; f < N_FIELDS; f++)
            known |= strcmp(key, field_names[f]) == 0;
        if (!known)
            return fail(m, SL_EINVAL,
                        "unknown field \"%s\" (expected mean, cov, W, V, "
                        "query)",
                        key);
    }
    for (size_t f = 0; f < N_FIELDS; f++)
        if (json_object_get(root, field_names[f]) == NULL)
            return fail(m, SL_EINVAL, "missing field \"%s\"", field_names[f]);

    /* 2. The vectors fix D and Dq; V's rows fix p. */
    st = read_vector(m, root, "mean", &out->D, &out->mean);
    if (st == SL_OK)
        st = read_vector(m, root, "query", &out->Dq, &out->query);
    if (st == SL_OK)
        st = read_matrix(m, root, "cov", out->D, "D, the length of \"mean\"",
                         out->D, &rows, &out->cov);
    if (st == SL_OK)
        st = read_matrix(m, root, "W", out->D, "D, the length of \"mean\"",
                         out->Dq, &rows, &out->W);
    if (st == SL_OK)
        st = read_matrix(m, root, "V", 0, "", out->D, &out->p, &out->V);
    if (st != SL_OK)
        return st;

    /* 3. The covariance is a covariance. */
    return check_cov(m, out);
}

sl_status sl_params_parse(const char *text, size_t len, const char *name,
                          sl_params *out, char *err, size_t errlen)
{
    msg_sink m = {name != NULL ? name : "<params>", err, errlen};
    json_error_t je;
    json_t *root;
    sl_status st;

    memset(out, 0, sizeof *out);
    if (err != NULL && errlen > 0)
        err[0] = '\0';

    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return syntax_error(&m, text, len, &je);
    if (!json_is_object(root)) {
        st = fail(&m, SL_EINVAL, "the top level must be an object, got %s",
                  type_name(root));
    } else {
        st = read_fields(&m, root, out);
    }
    json_decref(root);
    if (st != SL_OK)
        sl_params_free(out);
    return st;
}

sl_status sl_params_load(const char *path, sl_params *out, char *err,
                         size_t errlen)
{
    msg_sink m = {path, err, errlen};
    size_t len = 0, cap = 0;
    char *text = NULL;
    FILE *f;
    sl_status st;

    memset(out, 0, sizeof *out);
    f = fopen(path, "rb");
    if (f == NULL)
        return fail(&m, SL_EIO, "cannot open: %s", strerror(errno));

    /* Read it all, doubling the buffer. */
    for (;;) {
        size_t got;

        if (len == cap) {
            size_t grown = cap == 0 ? 4096 : 2 * cap;
            char *t;

            if (cap >= SL_PARAMS_MAX_BYTES && fgetc(f) == EOF)
                break;
            if (cap >= SL_PARAMS_MAX_BYTES) {
                free(text);
                fclose(f);
                return fail(&m, SL_EINVAL, "file is larger than %zu bytes",
                            SL_PARAMS_MAX_BYTES);
            }
            t = realloc(text, grown);
            if (t == NULL) {
                free(text);
                fclose(f);
                return fail(&m, SL_ENOMEM, "out of memory reading the file");
            }
            text = t;
            cap = grown;
        }
        got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;

        free(text);
        fclose(f);
        return fail(&m, SL_EIO, "cannot read: %s", strerror(e));
    }
    fclose(f);

    st = sl_params_parse(text, len, path, out, err, errlen);
    free(text);
    return st;
}

void sl_params_free(sl_params *p)
{
    free(p->mean);
    free(p->cov);
    free(p->W);
    free(p->V);
    free(p->query);
    memset(p, 0, sizeof *p);
}
