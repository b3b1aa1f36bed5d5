/* gradcheck.h -- a small gradient checker for the tests of softlin.
 *
 * Compares an analytic gradient of a scalar loss l(theta), theta in R^k,
 * with central differences
 *
 *   d_j = (l(theta + h_j e_j) - l(theta - h_j e_j)) / (2 h_j),
 *   h_j = cbrt(eps) max(1, |theta_j|),
 *
 * the step that balances the truncation error (h^2 l''' / 6) against the
 * rounding error (eps |l| / h): both are then O(eps^(2/3)) relative.  The
 * error of component j is measured against the size of the gradient,
 *
 *   err_j = |g_j - d_j| / max(|g_j|, |d_j|, GC_FLOOR * s),
 *   s = max_i max(|g_i|, |d_i|),
 *
 * so that components near zero are judged against the absolute noise of
 * the differences, not against themselves.  The check passes when every
 * err_j <= tol.  Its own correctness is tested by the "gradcheck" suite
 * (gradcheck.c), including a negative control.
 */
#ifndef SOFTLIN_GRADCHECK_H
#define SOFTLIN_GRADCHECK_H

#include <float.h>
#include <stddef.h>

/* Fraction of the largest gradient component below which a component is
 * judged in absolute terms (2^-10, about 1e-3). */
#define GC_FLOOR 0x1p-10

/* eps^(2/3) = 2^(-104/3): the error scale of a central difference with
 * the step above, for a loss and third derivative of order one. */
#define GC_EPS_2_3 0x1.428a2f98d7292p-35

/* Default relative tolerance: 2^14 eps^(2/3), about 6e-7: room for a loss
 * and third derivative up to about 1e4 times the size of the gradient (the
 * attention losses here measure below 2e-8); a wrong gradient is off by
 * O(1) in some component (the negative controls measure 3e-2 and up). */
#define GC_REL_TOL (0x1p14 * GC_EPS_2_3)

/* The loss: l(theta) for theta (k entries) and the caller's context. */
typedef double (*gc_loss_fn)(const double *theta, void *ctx);

/* The outcome of a check. */
typedef struct gc_result {
    int pass;         /* every err_j <= tol */
    size_t worst;     /* j with the largest err_j */
    double worst_err; /* err_worst */
    double analytic;  /* g_worst */
    double numeric;   /* d_worst */
} gc_result;

/* Check the analytic gradient grad (k) of loss at theta (k) with relative
 * tolerance tol.  theta is perturbed in place and restored bit for bit
 * before returning.  k >= 1. */
gc_result gc_check(size_t k, double *theta, const double *grad, gc_loss_fn loss,
                   void *ctx, double tol);

/* Print a failed check's worst component to stderr, with %a. */
void gc_report(const char *what, const gc_result *res);

#endif
