/* result.h -- one line of a check's verdict table, and a fitted rate.
 *
 * A check produces rows (one per target, bound and prompt length n) and
 * fits (one per rate claim).  The JSON and CSV writers (report.h) and the
 * gate read nothing else.
 */
#ifndef SOFTLIN_RESULT_H
#define SOFTLIN_RESULT_H

#include <stddef.h>
#include <stdint.h>

/* How much a failure means (spec/THEOREMS.md, "classes"). */
typedef enum sl_class {
    SL_CLASS_RIGOROUS,  /* a proven inequality: a FAIL is a bug */
    SL_CLASS_PAPER,     /* the paper's form with user constants */
    SL_CLASS_REFERENCE, /* asymptotic reference quantile: information */
    SL_CLASS_RATE       /* a fitted rate against a proven rate claim */
} sl_class;

typedef enum sl_verdict {
    SL_PASS,
    SL_FAIL,
    SL_NA /* the bound's preconditions do not hold at this n */
} sl_verdict;

typedef struct sl_row {
    const char *check;      /* "concentration", "gradient", "kappa", ... */
    const char *target;     /* "output", "dV", "dW" */
    const char *bound_name; /* "chebyshev", "chebyshev/20", "paper", ... */
    sl_class cls;
    int control;         /* 1: a negative control, which must FAIL */
    double sweep;        /* the swept value (kappa, query scale), or NaN */
    uint64_t n;          /* prompt length */
    uint64_t trials;     /* T */
    double delta;        /* claimed violation probability */
    double quantile;     /* empirical (1 - delta) quantile of the deviation */
    double bound;        /* the bound at this n (NaN for a reference row) */
    uint64_t violations; /* trials whose deviation exceeds the bound */
    double rate;         /* violations / trials */
    double cp_low;       /* Clopper-Pearson interval of rate, level 1-alpha */
    double cp_high;
    double tightness;   /* bound / quantile */
    double reference;   /* asymptotic (1 - delta) quantile, or NaN */
    double constant;    /* smallest C for which the paper form holds */
    sl_verdict verdict; /* FAIL when cp_low > delta */
} sl_row;

typedef struct sl_fit {
    const char *check;  /* "rate" */
    const char *target; /* "output", "dV", "dW" */
    int control;        /* 1: a negative control (claimed n^-1) */
    double claim;       /* claimed slope, e.g. -0.5 */
    double tol;         /* tolerance: the claim is slope <= claim + tol */
    double slope;       /* fitted log-log slope of the quantile */
    double slope_se;    /* its standard error */
    double z;           /* normal quantile used for the verdict */
    sl_verdict verdict; /* FAIL when slope - z se > claim + tol */
} sl_fit;

/* A growing table of rows and fits, owned by the caller.  Rows and fits
 * are copied in; the strings they point to are not, and must outlive the
 * table (string literals, in practice). */
typedef struct sl_table {
    sl_row *rows;
    size_t nrows, cap_rows;
    sl_fit *fits;
    size_t nfits, cap_fits;
} sl_table;

void sl_table_init(sl_table *t);
void sl_table_free(sl_table *t);
/* Append a copy; 0 on success, -1 when out of memory. */
int sl_table_add_row(sl_table *t, const sl_row *r);
int sl_table_add_fit(sl_table *t, const sl_fit *f);

/* The names the reports use: "rigorous", "paper", "reference", "rate";
 * "PASS", "FAIL", "N/A".  "unknown" for a value outside the enum. */
const char *sl_class_str(sl_class c);
const char *sl_verdict_str(sl_verdict v);

/* The class or verdict a name stands for (exact spelling, as above);
 * 0 on success, -1 when the name is none of them (*out untouched). */
int sl_class_parse(const char *name, sl_class *out);
int sl_verdict_parse(const char *name, sl_verdict *out);

#endif
