/* measure.h -- token measures z = m + L eta, eta of i.i.d. unit laws.
 *
 * L is the lower Cholesky factor of a validated covariance S (gauss.h), so
 * every measure has mean m and covariance S whatever its law (law.h).
 * The exponential tilt by a factorises through t = L^T a:
 *
 *   log E e^{<a,z>}  = <a, m> + sum_k Lambda(t_k)
 *   mu_a             = m + L Lambda'(t)             (tilted mean)
 *   C_a              = L diag(Lambda''(t)) L^T      (tilted covariance)
 *
 * so the infinite-prompt limit F_inf = V mu_a is exact for every law, and
 * affine in the query only for the Gaussian law.  sl_measure_moments gives
 * the second moments behind the rigorous bounds and the asymptotic
 * references of spec/THEOREMS.md (sections 5 and 6).
 */
#ifndef SOFTLIN_MEASURE_H
#define SOFTLIN_MEASURE_H

#include <stddef.h>

#include "measure/law.h"
#include "random/rng.h"
#include "status.h"

typedef struct sl_measure {
    sl_law law;
    size_t dim;   /* D */
    double *mean; /* m (D), owned */
    double *cov;  /* S (D x D), owned */
    double *chol; /* L (D x D, lower), owned */
} sl_measure;

/* Validate (m, S) as gauss.h does and set up the measure.  SL_OK,
 * SL_EINVAL, SL_ENOTSPD or SL_ENOMEM; nothing to free on failure. */
sl_status sl_measure_init(sl_measure *mu, const sl_law *law, size_t D,
                          const double *m, const double *S);
void sl_measure_free(sl_measure *mu);

/* Tilt at a (D): *lognorm = log E e^{<a,z>}, mu_a (D) and, when cov_a is
 * not NULL, C_a (D x D).  work: 2 D doubles. */
void sl_measure_tilt(const sl_measure *mu, const double *a, double *lognorm,
                     double *mu_a, double *cov_a, double *work);

/* Second moments at tilt a, with e = e^{<a,z>} / E e^{<a,z>},
 * y = z - mu_a and h (D) a direction:
 *
 *   kappa    = E e^2
 *   sig_mean = E[e^2 y y^T]                            (D x D)
 *   sig_cov  = E[e^2 (y <h,y> - C_a h)(y <h,y> - C_a h)^T]  (D x D)
 *
 * The traces are the T of the bounds; sig_mean (mapped by V) and sig_cov
 * are the asymptotic covariances of sqrt(n)(zbar - mu_a) and
 * sqrt(n)(c_n - C_a h).  Computed exactly, in O(D^4), from the moments of
 * the laws tilted by 2 t (E[e^2 f] = kappa E_{2a} f). */
typedef struct sl_moments {
    double kappa;
    double *sig_mean; /* D x D, caller's */
    double *sig_cov;  /* D x D, caller's */
} sl_moments;

sl_status sl_measure_moments(const sl_measure *mu, const double *a,
                             const double *h, sl_moments *out);

/* k tokens of eta (k x D, row-major): z = m + L eta. */
void sl_measure_draw_white(const sl_measure *mu, sl_rng *r, size_t k,
                           double *eta);

/* z = m + L eta for one token. */
void sl_measure_color(const sl_measure *mu, const double *eta, double *z);

#endif
