/* exact_limits.h -- closed-form infinite-prompt limits, non-Gaussian tokens.
 *
 * For a token law mu and tilt a, the infinite-prompt output is V times
 * the tilted mean E[z e^{<a,z>}] / E[e^{<a,z>}] = grad Lambda(a), with
 * Lambda(a) = log E e^{<a,z>} (MATH.md section 2, THEOREMS.md section 3).
 * This module evaluates that mean exactly for:
 *
 *   scaled Rademacher (+-c):  Lambda(t) = log cosh(c t),  mean c tanh(c t)
 *   Uniform[-b, b]:           Lambda(t) = log(sinh(b t) / (b t)),
 *                             mean b coth(b t) - 1/t = b L(b t)
 *   N(0, s^2):                Lambda(t) = s^2 t^2 / 2,    mean s^2 t
 *   z = A xi, xi independent coordinates of those laws: mean A m(A^T a)
 *   Gaussian mixture sum_k pi_k N(m_k, S_k): the mixture of the
 *     N(m_k + S_k a, S_k) with weights prop. to pi_k exp(<a, m_k> +
 *     a^T S_k a / 2), so mean = sum_k omega_k (m_k + S_k a)
 *
 * L(x) = coth x - 1/x is the Langevin function; near 0 the closed form
 * cancels (relative error about 3 u / x^2), so |x| < 1 uses its odd
 * series L(x) = sum_k 2^{2k} B_{2k} x^{2k-1} / (2k)!, = x/3 - x^3/45 +
 * 2 x^5/945 - x^7/4725 + ..., truncated after 17 terms: the remainder is
 * below 0.1 u relative for |x| < 1, and at |x| = 1 the closed form loses
 * only a factor 1/L(1) ~ 3.2 to cancellation.
 *
 * Precision: the double versions are within a few ulps of the exact mean
 * per coordinate (tests/test_oracle.c measures it against the MPFR ones,
 * suite "exact"); the linear map and the mixture add the usual dot-product
 * error of their final sums.  The MPFR versions work at prec bits
 * (SL_ORACLE_PREC_BITS when 0) and add the bits that the cancellation in
 * L(x) needs for small x.
 */
#ifndef SOFTLIN_EXACT_LIMITS_H
#define SOFTLIN_EXACT_LIMITS_H

#include <stddef.h>

#include <mpfr.h>

#include "status.h"

/* The law of one independent coordinate, all centred. */
typedef enum sl_coord_kind {
    SL_COORD_GAUSS,      /* N(0, scale^2) */
    SL_COORD_RADEMACHER, /* +-scale with probability 1/2 each */
    SL_COORD_UNIFORM     /* uniform on [-scale, scale] */
} sl_coord_kind;

typedef struct sl_coord_law {
    sl_coord_kind kind;
    double scale; /* > 0 */
} sl_coord_law;

/* The Langevin series coefficients c_1 .. c_17 (rounded to nearest). */
#define SL_LANGEVIN_TERMS 17
extern const double sl_langevin_coef[SL_LANGEVIN_TERMS];

/* c tanh(c t). */
double sl_exact_rademacher_mean(double c, double t);

/* b coth(b t) - 1/t, and 0 at t = 0. */
double sl_exact_uniform_mean(double b, double t);

/* The tilted mean of one coordinate of the given law at tilt t. */
double sl_exact_coord_mean(sl_coord_law law, double t);

/* The same in MPFR at prec bits (t any MPFR number). */
void sl_exact_coord_mean_mpfr(sl_coord_law law, mpfr_srcptr t, mpfr_ptr mean,
                              mpfr_prec_t prec);

/* Lambda(t) = log E e^{t xi} of one coordinate, in MPFR (the derivative
 * of this is the mean above: the tests check it by finite differences). */
void sl_exact_coord_logmgf_mpfr(sl_coord_law law, mpfr_srcptr t, mpfr_ptr out,
                                mpfr_prec_t prec);

/* z = A xi, A (D x Dxi), laws (Dxi): mean (D) = A m(A^T a), a (D). */
sl_status sl_exact_linmap_mean(size_t D, size_t Dxi, const double *A,
                               const sl_coord_law *laws, const double *a,
                               double *mean);
sl_status sl_exact_linmap_mean_mpfr(size_t D, size_t Dxi, const double *A,
                                    const sl_coord_law *laws, const double *a,
                                    mpfr_t *mean, mpfr_prec_t prec);

/* Mixture of K Gaussians in R^D: masses pi (K, > 0, any total), means m
 * (K x D) and covariances S (K x D x D, row-major each); mean (D).  The
 * component weights are formed in log space and normalised after taking
 * off their maximum, so no exponential overflows. */
sl_status sl_exact_mixture_mean(size_t K, size_t D, const double *pi,
                                const double *m, const double *S,
                                const double *a, double *mean);
sl_status sl_exact_mixture_mean_mpfr(size_t K, size_t D, const double *pi,
                                     const double *m, const double *S,
                                     const double *a, mpfr_t *mean,
                                     mpfr_prec_t prec);

/* Lambda(a) = log sum_k pi_k exp(<a, m_k> + a^T S_k a / 2) for an MPFR
 * tilt a (D); pi need not sum to 1 (Lambda then shifts by a constant). */
sl_status sl_exact_mixture_logmgf_mpfr(size_t K, size_t D, const double *pi,
                                       const double *m, const double *S,
                                       mpfr_t *a, mpfr_ptr out,
                                       mpfr_prec_t prec);

#endif
