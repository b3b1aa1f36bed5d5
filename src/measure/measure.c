/* measure.c -- affine images of product measures: tilts and moments.
 *
 * Everything is computed in the white coordinates eta, where the tilted
 * law is again a product, then mapped by L.  With zeta = eta - Lambda'(t)
 * (so y = z - mu_a = L zeta) and the coordinates of zeta independent under
 * the tilt by 2 t, every fourth moment E[zeta_a zeta_b zeta_c zeta_d] is a
 * product of one-dimensional moments over the distinct indices.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/linalg.h"
#include "measure/gauss.h"
#include "measure/measure.h"

sl_status sl_measure_init(sl_measure *mu, const sl_law *law, size_t D,
                          const double *m, const double *S)
{
    sl_gauss g;
    sl_status st = sl_gauss_init(&g, D, m, S);
    if (st != SL_OK)
        return st;
    mu->law = *law;
    mu->dim = D;
    mu->mean = g.mean;
    mu->cov = g.cov;
    mu->chol = g.chol;
    return SL_OK;
}

void sl_measure_free(sl_measure *mu)
{
    sl_gauss g = {mu->dim, mu->mean, mu->cov, mu->chol};
    sl_gauss_free(&g);
    mu->mean = mu->cov = mu->chol = NULL;
}

void sl_measure_tilt(const sl_measure *mu, const double *a, double *lognorm,
                     double *mu_a, double *cov_a, double *work)
{
    size_t D = mu->dim;
    double *t = work, *lam1 = work + D;

    /* 1. t = L^T a, and the per-coordinate log-mgf and tilted mean. */
    sl_matvec_t(D, D, mu->chol, a, t);
    double acc = sl_dot(D, a, mu->mean);
    for (size_t k = 0; k < D; k++) {
        acc += sl_law_lmgf(&mu->law, t[k]);
        lam1[k] = sl_law_tmean(&mu->law, t[k]);
    }
    *lognorm = acc;

    /* 2. mu_a = m + L Lambda'(t). */
    sl_matvec(D, D, mu->chol, lam1, mu_a);
    for (size_t k = 0; k < D; k++)
        mu_a[k] += mu->mean[k];

    /* 3. C_a = L diag(Lambda''(t)) L^T. */
    if (cov_a != NULL) {
        for (size_t k = 0; k < D; k++)
            lam1[k] = sl_law_tvar(&mu->law, t[k]);
        for (size_t i = 0; i < D; i++) {
            for (size_t j = 0; j < D; j++) {
                double s = 0.0;
                for (size_t k = 0; k < D; k++)
                    s += mu->chol[i * D + k] * lam1[k] * mu->chol[j * D + k];
                cov_a[i * D + j] = s;
            }
        }
    }
}

/* E[zeta_i zeta_j zeta_k zeta_l] for independent coordinates with
 * moments M[c][q] = E zeta_c^q. */
static double moment4(const double (*M)[5], size_t i, size_t j, size_t k,
                      size_t l)
{
    size_t idx[4] = {i, j, k, l};
    int used[4] = {0, 0, 0, 0};
    double prod = 1.0;
    for (int u = 0; u < 4; u++) {
        if (used[u])
            continue;
        int mult = 0;
        for (int v = u; v < 4; v++) {
            if (!used[v] && idx[v] == idx[u]) {
                used[v] = 1;
                mult++;
            }
        }
        prod *= M[idx[u]][mult];
    }
    return prod;
}

/* out = L A L^T for D x D A; tmp is D x D scratch. */
static void congruence(size_t D, const double *L, const double *A, double *tmp,
                       double *out)
{
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++) {
            double s = 0.0;
            for (size_t k = 0; k < D; k++)
                s += L[i * D + k] * A[k * D + j];
            tmp[i * D + j] = s;
        }
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++) {
            double s = 0.0;
            for (size_t k = 0; k < D; k++)
                s += tmp[i * D + k] * L[j * D + k];
            out[i * D + j] = s;
        }
}

sl_status sl_measure_moments(const sl_measure *mu, const double *a,
                             const double *h, sl_moments *out)
{
    size_t D = mu->dim;
    double *buf = malloc((4 * D + 2 * D * D) * sizeof(double));
    double(*M)[5] = malloc(D * sizeof *M);
    if (buf == NULL || M == NULL) {
        free(buf);
        free(M);
        return SL_ENOMEM;
    }
    double *t = buf, *k = buf + D, *q = buf + 2 * D, *ezr = buf + 3 * D;
    double *A = buf + 4 * D, *tmp = A + D * D;

    /* 1. Per coordinate: t = L^T a; moments of zeta = eta - Lambda'(t)
     *    under the tilt by 2 t; kappa = prod E e^{2 t eta} / (E e^{t eta})^2
     *    = exp(sum Lambda(2 t) - 2 Lambda(t)). */
    sl_matvec_t(D, D, mu->chol, a, t);
    double lk = 0.0;
    for (size_t c = 0; c < D; c++) {
        sl_law_tmoments(&mu->law, 2.0 * t[c], sl_law_tmean(&mu->law, t[c]),
                        M[c]);
        lk += sl_law_lmgf(&mu->law, 2.0 * t[c]) -
              2.0 * sl_law_lmgf(&mu->law, t[c]);
    }
    out->kappa = exp(lk);

    /* 2. sig_mean = kappa L E[zeta zeta^T] L^T. */
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++)
            A[i * D + j] = out->kappa * (i == j ? M[i][2] : M[i][1] * M[j][1]);
    congruence(D, mu->chol, A, tmp, out->sig_mean);

    /* 3. sig_cov = kappa L E[(zeta r - q)(zeta r - q)^T] L^T with
     *    k = L^T h, r = <k, zeta>, q = diag(Lambda''(t)) k (so that
     *    L q = C_a h). */
    sl_matvec_t(D, D, mu->chol, h, k);
    for (size_t c = 0; c < D; c++)
        q[c] = sl_law_tvar(&mu->law, t[c]) * k[c];
    for (size_t i = 0; i < D; i++) {
        double s = 0.0;
        for (size_t c = 0; c < D; c++)
            s += k[c] * (i == c ? M[i][2] : M[i][1] * M[c][1]);
        ezr[i] = s; /* E[zeta_i r] */
    }
    for (size_t i = 0; i < D; i++) {
        for (size_t j = 0; j <= i; j++) {
            double s = 0.0;
            for (size_t c = 0; c < D; c++)
                for (size_t d = 0; d < D; d++)
                    s += k[c] * k[d] * moment4(M, i, j, c, d);
            s += -ezr[i] * q[j] - q[i] * ezr[j] + q[i] * q[j];
            A[i * D + j] = A[j * D + i] = out->kappa * s;
        }
    }
    congruence(D, mu->chol, A, tmp, out->sig_cov);

    free(buf);
    free(M);
    return SL_OK;
}

void sl_measure_draw_white(const sl_measure *mu, sl_rng *r, size_t k,
                           double *eta)
{
    sl_law_draw(&mu->law, r, k * mu->dim, eta);
}

void sl_measure_color(const sl_measure *mu, const double *eta, double *z)
{
    sl_matvec(mu->dim, mu->dim, mu->chol, eta, z);
    for (size_t k = 0; k < mu->dim; k++)
        z[k] += mu->mean[k];
}
