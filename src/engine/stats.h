/* stats.h -- the statistics behind every verdict.
 *
 * Clopper-Pearson intervals for violation counts, empirical quantiles with
 * order-statistic confidence intervals, weighted least-squares slopes, and
 * the reference quantile of |N(0, Sigma)|.  GSL does the special functions
 * (beta quantiles), the fit and the eigenvalues.  Silent; no allocation
 * beyond what each function states.
 */
#ifndef SOFTLIN_STATS_H
#define SOFTLIN_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Two-sided Clopper-Pearson interval at level 1 - alpha for k successes in
 * T trials (k <= T, T >= 1, alpha in (0, 1)): lo = 0 when k = 0, hi = 1
 * when k = T, otherwise beta quantiles Beta^-1(alpha/2; k, T-k+1) and
 * Beta^-1(1-alpha/2; k+1, T-k).  Both ends are NaN when the arguments
 * break these conditions.  T up to 2^53; the ends are accurate to about
 * 1e-13 relative (stats.c). */
void sl_cp_interval(uint64_t k, uint64_t T, double alpha, double *lo,
                    double *hi);

/* Sort x[0..T-1] ascending in place (NaN sorts last). */
void sl_sort(size_t T, double *x);

/* The prob-quantile of sorted x[0..T-1] (T >= 1, prob in [0, 1]): the
 * order statistic x_(ceil(prob T)) (1-based; x_(1) when prob T <= 1), the
 * inverse of the empirical distribution function.  A prob T within a few
 * ulps of an integer counts as that integer (0.07 x 100 gives rank 7). */
double sl_quantile_sorted(size_t T, const double *x, double prob);

/* A distribution-free confidence interval for the prob-quantile from
 * sorted x: order statistics at ranks T prob -+ z sqrt(T prob (1-prob)),
 * z the (1 - alpha/2) normal quantile, the lower rank rounded down and
 * the upper up, both clamped to [1, T]. */
void sl_quantile_ci(size_t T, const double *x, double prob, double alpha,
                    double *lo, double *hi);

/* Weighted least squares y = c0 + c1 x with weights 1/se_i^2 (k >= 2
 * points, se_i > 0).  Outputs the slope c1, its standard error from the
 * weights, and the intercept c0.  SL_EINVAL when k < 2, a weight is not
 * finite and positive, an x or y is not finite, or all x are equal;
 * SL_ENOMEM.  Outputs are untouched on failure. */
sl_status sl_wls_slope(size_t k, const double *x, const double *y,
                       const double *se, double *slope, double *slope_se,
                       double *intercept);

/* The prob-quantile of |N(0, Sigma)| for a symmetric positive
 * semi-definite d x d Sigma, by Monte Carlo over `draws` draws of
 * sum_j lambda_j chi_j^2 (lambda the eigenvalues of Sigma) from the
 * stream (seed, 0) of rng.h, d normals per draw.  Deterministic for
 * given arguments, and a function of the eigenvalues only.  SL_ENOMEM;
 * SL_EINVAL (d == 0, draws == 0, prob outside [0, 1], non-finite Sigma,
 * Sigma not symmetric within SL_GAUSS_SYM_TOL of gauss.h); SL_ENOTSPD
 * when an eigenvalue is negative beyond rounding (those within it count
 * as 0).  *q is untouched on failure. */
sl_status sl_normnorm_quantile(size_t d, const double *Sigma, double prob,
                               uint64_t seed, size_t draws, double *q);

/* The (1 - alpha/2) quantile of the standard normal. */
double sl_normal_upper(double alpha);

#endif
