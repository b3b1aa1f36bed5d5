/* report.h -- a check's results as JSON and CSV files.
 *
 * Files are written to "PATH.tmp" and renamed over PATH when complete, so
 * a failed or interrupted run never leaves a partial report.  Numbers are
 * printed with 17 significant digits (they read back to the same double);
 * NaN and infinities become JSON null.  The schema is documented in
 * spec/REPORT_SCHEMA.md and versioned by its "schema" field.
 */
#ifndef SOFTLIN_REPORT_H
#define SOFTLIN_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/result.h"
#include "params/params.h"
#include "status.h"

#define SL_REPORT_SCHEMA "softlin-check/1"

/* What identifies a run: everything needed to reproduce it. */
typedef struct sl_run_info {
    const char *command;       /* "check" or "train" */
    const char *name;          /* the check asked for: "all", "rate", ... */
    const char *measure;       /* "gaussian", "rademacher", ... */
    const char *params_source; /* a file name, or "seed" when drawn */
    const sl_params *params;   /* mean, cov, W, V, query */
    const double *g;           /* loss gradient dl/dF used (p) */
    uint64_t seed;
    uint64_t trials;
    double alpha;            /* level of the intervals */
    double delta;            /* violation probability claimed */
    double quad;             /* a^T S a at the query */
    double kappa;            /* E e^{2<a,z>} / (E e^{<a,z>})^2 */
    double paper_C, paper_c; /* constants of the paper-form bound */
    /* The "run" object: excluded from reproducibility comparisons. */
    unsigned threads;
    double elapsed_s;
} sl_run_info;

/* Write the JSON report (params and g may be NULL: written as null):
 * {"schema", "command", "name", "measure", "params_source", "seed",
 *  "trials", "alpha", "delta", "quad", "kappa", "paper": {"C", "c"},
 *  "params": {"mean", "cov", "W", "V", "query", "g"},
 *  "rows": [{"check", "target", "bound", "class", "control", "sweep",
 *            "n", "trials", "delta", "quantile", "bound_value",
 *            "violations", "rate", "cp_low", "cp_high", "verdict",
 *            "tightness", "reference", "constant"}],
 *  "fits": [{"check", "target", "control", "claim", "tol", "slope",
 *            "slope_se", "z", "verdict"}],
 *  "summary": {"rows", "fits", "rigorous_fail", "control_pass",
 *              "rate_fail", "gate": "pass" | "fail"},
 *  "run": {"threads", "elapsed_s"}}
 * On failure, a one-line message (naming the path) in err, and no file:
 * SL_EIO (cannot write), SL_ENOMEM, SL_EINVAL (a NULL name, a count
 * above 2^63 - 1, which JSON integers here cannot hold, or a path that
 * exists and is not a regular file, such as /dev/stdout). */
sl_status sl_report_json(const char *path, const sl_run_info *info,
                         const sl_table *t, char *err, size_t errlen);

/* Write the CSV: a header line, then one line per row (same fields as the
 * JSON rows, plus kind "row" or "fit", seed and measure), then one per fit
 * with the row-only columns empty (spec/REPORT_SCHEMA.md). */
sl_status sl_report_csv(const char *path, const sl_run_info *info,
                        const sl_table *t, char *err, size_t errlen);

/* The gate's reading of a table: counts of rigorous or rate FAILs that are
 * not controls, and of controls that did not FAIL.  A control whose
 * verdict is N/A (its bound did not apply) counts nowhere; nor do FAILs
 * of paper or reference rows, which are information. */
typedef struct sl_gate_counts {
    size_t rigorous_fail; /* rigorous rows (not controls) that FAILed */
    size_t rate_fail;     /* rate fits (not controls) that FAILed */
    size_t control_pass;  /* controls (rows or fits) that PASSed */
} sl_gate_counts;

void sl_gate_count(const sl_table *t, sl_gate_counts *c);

/* What one row or fit means to the gate: the count it adds to, if any.
 * sl_gate_count and `softlin gate` both decide through these. */
typedef enum sl_gate_item {
    SL_GATE_OK,
    SL_GATE_RIGOROUS_FAIL,
    SL_GATE_RATE_FAIL,
    SL_GATE_CONTROL_PASS
} sl_gate_item;

sl_gate_item sl_gate_row(const sl_row *r);
sl_gate_item sl_gate_fit(const sl_fit *f);

#endif
