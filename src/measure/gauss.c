/* gauss.c -- the Gaussian token measure: validation, Cholesky, sampling.
 *
 * sl_gauss_init checks (m, S), symmetrises S as (S + S^T) / 2 and factors
 * it with GSL's gsl_linalg_cholesky_decomp1, S = L L^T.  A draw is
 * z = m + L xi, with xi ~ N(0, I) from the stream's Box-Muller normals, so
 * each token costs D normals and D (D + 1) / 2 multiply-adds.
 *
 * GSL reports failures through an error handler that aborts by default;
 * it is switched off around the factorisation and restored after, so the
 * library stays silent.  That handler is process-wide: do not call
 * sl_gauss_init from two threads at once.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>

#include "measure/gauss.h"

int sl_gauss_symmetric(size_t D, const double *S, size_t *row, size_t *col)
{
    for (size_t i = 0; i < D; i++) {
        for (size_t j = i + 1; j < D; j++) {
            double x = S[i * D + j], y = S[j * D + i];
            double scale = fmax(fabs(x), fabs(y));

            if (!isfinite(x) || !isfinite(y) ||
                fabs(x - y) > SL_GAUSS_SYM_TOL * scale) {
                if (row != NULL)
                    *row = i;
                if (col != NULL)
                    *col = j;
                return 0;
            }
        }
    }
    return 1;
}

/* 1 when all n entries of v are finite. */
static int all_finite(size_t n, const double *v)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* Factor the D x D matrix a in place into its lower Cholesky factor,
 * upper triangle zeroed.  SL_ENOTSPD if GSL finds a non-positive pivot,
 * SL_EINVAL if the factor overflowed. */
static sl_status cholesky(size_t D, double *a)
{
    gsl_matrix_view v = gsl_matrix_view_array(a, D, D);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int rc = gsl_linalg_cholesky_decomp1(&v.matrix);

    gsl_set_error_handler(old);
    if (rc != GSL_SUCCESS)
        return SL_ENOTSPD;
    for (size_t i = 0; i < D; i++)
        for (size_t j = i + 1; j < D; j++)
            a[i * D + j] = 0.0;
    return all_finite(D * D, a) ? SL_OK : SL_EINVAL;
}

sl_status sl_gauss_init(sl_gauss *g, size_t D, const double *m, const double *S)
{
    sl_status st;

    memset(g, 0, sizeof *g);

    /* 1. Shape and finiteness, then symmetry. */
    if (D == 0 || D > SIZE_MAX / sizeof(double) / D)
        return SL_EINVAL;
    if (!all_finite(D, m) || !all_finite(D * D, S))
        return SL_EINVAL;
    if (!sl_gauss_symmetric(D, S, NULL, NULL))
        return SL_ENOTSPD;

    /* 2. Owned copies; S symmetrised. */
    g->mean = malloc(D * sizeof(double));
    g->cov = malloc(D * D * sizeof(double));
    g->chol = malloc(D * D * sizeof(double));
    if (g->mean == NULL || g->cov == NULL || g->chol == NULL) {
        sl_gauss_free(g);
        return SL_ENOMEM;
    }
    g->dim = D;
    memcpy(g->mean, m, D * sizeof(double));
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++)
            g->cov[i * D + j] = 0.5 * S[i * D + j] + 0.5 * S[j * D + i];

    /* 3. Positive definiteness: the factorisation succeeds. */
    memcpy(g->chol, g->cov, D * D * sizeof(double));
    st = cholesky(D, g->chol);
    if (st != SL_OK) {
        sl_gauss_free(g);
        return st;
    }
    return SL_OK;
}

void sl_gauss_free(sl_gauss *g)
{
    free(g->mean);
    free(g->cov);
    free(g->chol);
    memset(g, 0, sizeof *g);
}

void sl_gauss_draw(const sl_gauss *g, sl_rng *r, double *z, double *work)
{
    size_t D = g->dim;

    /* 1. xi ~ N(0, I). */
    sl_rng_normal(r, D, work);

    /* 2. z = m + L xi, L lower triangular. */
    for (size_t i = 0; i < D; i++) {
        const double *row = g->chol + i * D;
        double acc = g->mean[i];

        for (size_t j = 0; j <= i; j++)
            acc += row[j] * work[j];
        z[i] = acc;
    }
}
