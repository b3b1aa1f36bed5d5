/* gauss.h -- the Gaussian token measure N(m, S) and its sampler.
 *
 * The covariance is validated (finite, symmetric to a relative tolerance,
 * positive definite by a Cholesky factorisation, GSL) and kept as its lower
 * Cholesky factor L, S = L L^T.  A token is z = m + L xi, xi ~ N(0, I).
 */
#ifndef SOFTLIN_GAUSS_H
#define SOFTLIN_GAUSS_H

#include <stddef.h>

#include "random/rng.h"
#include "status.h"

/* Relative asymmetry accepted in a covariance:
 * |S_ij - S_ji| <= SL_GAUSS_SYM_TOL * max(|S_ij|, |S_ji|). */
#define SL_GAUSS_SYM_TOL (64.0 * 0x1p-52)

typedef struct sl_gauss {
    size_t dim;   /* D */
    double *mean; /* D, owned */
    double *cov;  /* D x D, owned copy of S (symmetrised) */
    double *chol; /* D x D, owned, lower Cholesky factor (upper = 0) */
} sl_gauss;

/* Validate and copy (m, S).  Returns SL_OK, SL_EINVAL (D == 0 or a
 * non-finite entry), SL_ENOTSPD (asymmetric or not positive definite) or
 * SL_ENOMEM.  On failure g holds nothing to free. */
sl_status sl_gauss_init(sl_gauss *g, size_t D, const double *m,
                        const double *S);

void sl_gauss_free(sl_gauss *g);

/* 1 when S (D x D) is symmetric within SL_GAUSS_SYM_TOL, else 0 with the
 * first offending pair (row, col), row < col, 0-based; row and col may be
 * NULL.  Non-finite entries count as asymmetric. */
int sl_gauss_symmetric(size_t D, const double *S, size_t *row, size_t *col);

/* Draw one token z (D); work is D doubles of scratch. */
void sl_gauss_draw(const sl_gauss *g, sl_rng *r, double *z, double *work);

#endif
