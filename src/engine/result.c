/* result.c -- the verdict table: growing arrays of rows and fits, and the
 * names of classes and verdicts as the reports spell them (result.h).
 *
 * The arrays double when full, so n appends cost O(n) copies in all.
 * Rows and fits are copied by value; the strings they point to are not.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/result.h"

/* First capacity of an empty array. */
#define TABLE_FIRST_CAP 16

void sl_table_init(sl_table *t)
{
    memset(t, 0, sizeof *t);
}

void sl_table_free(sl_table *t)
{
    free(t->rows);
    free(t->fits);
    sl_table_init(t);
}

/* Make room for one more element of size elem in *items (count n, room
 * *cap); 0 on success, -1 when out of memory (nothing changed). */
static int reserve(void **items, size_t n, size_t *cap, size_t elem)
{
    size_t want;
    void *grown;

    if (n < *cap)
        return 0;
    want = *cap == 0 ? TABLE_FIRST_CAP : 2 * *cap;
    if (want < *cap || want > SIZE_MAX / elem)
        return -1;
    grown = realloc(*items, want * elem);
    if (grown == NULL)
        return -1;
    *items = grown;
    *cap = want;
    return 0;
}

int sl_table_add_row(sl_table *t, const sl_row *r)
{
    void *rows = t->rows;

    if (reserve(&rows, t->nrows, &t->cap_rows, sizeof *r) != 0)
        return -1;
    t->rows = rows;
    t->rows[t->nrows++] = *r;
    return 0;
}

int sl_table_add_fit(sl_table *t, const sl_fit *f)
{
    void *fits = t->fits;

    if (reserve(&fits, t->nfits, &t->cap_fits, sizeof *f) != 0)
        return -1;
    t->fits = fits;
    t->fits[t->nfits++] = *f;
    return 0;
}

const char *sl_class_str(sl_class c)
{
    switch (c) {
    case SL_CLASS_RIGOROUS:
        return "rigorous";
    case SL_CLASS_PAPER:
        return "paper";
    case SL_CLASS_REFERENCE:
        return "reference";
    case SL_CLASS_RATE:
        return "rate";
    }
    return "unknown";
}

const char *sl_verdict_str(sl_verdict v)
{
    switch (v) {
    case SL_PASS:
        return "PASS";
    case SL_FAIL:
        return "FAIL";
    case SL_NA:
        return "N/A";
    }
    return "unknown";
}

int sl_class_parse(const char *name, sl_class *out)
{
    static const sl_class all[] = {SL_CLASS_RIGOROUS, SL_CLASS_PAPER,
                                   SL_CLASS_REFERENCE, SL_CLASS_RATE};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, sl_class_str(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -1;
}

int sl_verdict_parse(const char *name, sl_verdict *out)
{
    static const sl_verdict all[] = {SL_PASS, SL_FAIL, SL_NA};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, sl_verdict_str(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -1;
}
