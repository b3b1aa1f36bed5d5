/* checks.h -- the checks of the catalogue, run and judged.
 *
 * sl_check_run runs the Monte Carlo jobs a check needs (engine.h) and
 * turns the deviations into verdict rows and rate fits (result.h):
 *
 *   concentration  output |F_n - F_inf|           rows per n
 *   gradient       |dV_n - dV_inf|, |dW_n - dW_inf| rows per n
 *   rate           fitted slope of each target's quantile, and the
 *                  asymptotic reference rows per n
 *   linearity      queries s x, s in {-1, -1/2, 0, 1/2, 1}, at the
 *                  largest n
 *   kappa          queries rescaled to a^T S a in {0.25, 0.5, 1, 2, 3},
 *                  at the largest n
 *   all            every one of them
 *
 * A name may also list ids separated by commas ("concentration,rate"):
 * the checks of one list share their Monte Carlo jobs. *
 * Every bound row comes with its negative control (the rigorous bound
 * divided by SL_CONTROL_DIVISOR) and every rate claim with its control
 * (a claimed n^-1), which must FAIL.  The jobs of a check use fixed
 * stream numbers, so a check gives the same numbers alone or in "all".
 */
#ifndef SOFTLIN_CHECKS_H
#define SOFTLIN_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/result.h"
#include "measure/measure.h"
#include "status.h"

/* Receives each trial's raw output deviation F_n - F_inf (p values) of
 * the concentration runs, in trial order after each n. */
typedef void (*sl_dump_fn)(void *ctx, uint64_t n, uint64_t trial, size_t p,
                           const double *dev);

/* Receives (tokens done, tokens in the whole run). */
typedef void (*sl_check_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct sl_check_cfg {
    const char *name;     /* catalogue id or "all" */
    const sl_measure *mu; /* token measure (mean, covariance, law) */
    size_t Dq, p;
    const double *W;    /* D x Dq */
    const double *V;    /* p x D */
    const double *x;    /* query (Dq) */
    const double *g;    /* loss gradient dl/dF (p) */
    const uint64_t *ns; /* prompt lengths, increasing */
    size_t nn;
    uint64_t trials;
    uint64_t seed;
    double delta, alpha;
    double paper_C, paper_c;
    double rate_tol;  /* the rate claim is slope <= -1/2 + rate_tol */
    size_t ref_draws; /* Monte Carlo draws of the reference law */
    unsigned threads;
    sl_dump_fn dump; /* may be NULL */
    void *dump_ctx;
    sl_check_progress_fn progress; /* may be NULL */
    void *progress_ctx;
    int fault; /* SL_FAULT_* of engine.h; 0 for a real run */
} sl_check_cfg;

/* Summary of the query's tilt, for the report. */
typedef struct sl_check_info {
    double quad;  /* a^T S a */
    double kappa; /* E e^2 */
} sl_check_info;

/* 1 when name is "all", an id of the catalogue, or such ids separated by
 * single commas; else 0. */
int sl_check_name_valid(const char *name);

/* Run the check; rows and fits are appended to out.  SL_EINVAL for an
 * unknown name, an empty n list, a kappa sweep with a zero tilt, or rate
 * with fewer than two prompt lengths; SL_ENOMEM. */
sl_status sl_check_run(const sl_check_cfg *cfg, sl_table *out,
                       sl_check_info *info);

#endif
