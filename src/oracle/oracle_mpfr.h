/* oracle_mpfr.h -- high-precision references for every softlin kernel.
 *
 * Each oracle takes the same double inputs as its kernel (row-major, same
 * shapes, same meaning), reads them exactly into MPFR numbers and
 * evaluates the kernel's mathematical definition at prec bits
 * (SL_ORACLE_PREC_BITS when prec is 0), round to nearest at every step.
 * Results come back two ways: the _mpfr function fills MPFR numbers that
 * the caller initialised (any precision; NULL skips an output), and the
 * plain function rounds them to double.
 *
 * Precision: every step is one MPFR operation with relative error at most
 * 2^-prec.  Sums of k terms are then within k 2^-prec of the exact sum
 * relative to the sum of absolute values, and exp(s_i - M) within
 * (|s_i - M| + 2) 2^-prec relative; since MPFR underflows only below
 * 2^(1 - 2^30), every term that is not flushed has |s_i - M| < 2^30.
 * With prec = 256 and n D <= 2^40 the oracle is therefore right to about
 * 2^-190 relative to the scale of each output, far below the double
 * kernels' budgets (src/oracle/budget.h, at least 2^-53 of that scale);
 * oracle_arb.h certifies this on the same inputs.
 *
 * Limits: inputs must be finite; products of inputs (a z, V zbar) must
 * not overflow MPFR's exponent range, which no double input can do.  The
 * oracles allocate (they are references, not kernels) and report
 * SL_ENOMEM when that fails; outputs are then unspecified.
 */
#ifndef SOFTLIN_ORACLE_MPFR_H
#define SOFTLIN_ORACLE_MPFR_H

#include <stddef.h>

#include <mpfr.h>

#include "status.h"

/* Default working precision of every oracle, in bits. */
#define SL_ORACLE_PREC_BITS 256

/* ---- vectors of MPFR numbers ------------------------------------------ */

/* n MPFR numbers of precision prec (0: SL_ORACLE_PREC_BITS), set to 0;
 * NULL when memory runs out.  Free with sl_mpvec_free. */
mpfr_t *sl_mpvec_new(size_t n, mpfr_prec_t prec);

/* Clear and free v (n numbers); v may be NULL. */
void sl_mpvec_free(size_t n, mpfr_t *v);

/* out[i] = v[i] rounded to nearest double. */
void sl_mpvec_get_d(size_t n, mpfr_t *v, double *out);

/* |got - exact|, computed exactly and rounded up to a double: the
 * observed error of a kernel output against its oracle value. */
double sl_oracle_abs_err(double got, mpfr_srcptr exact);

/* ---- softmax.h -------------------------------------------------------- */

/* w = softmax(s), n >= 1. */
sl_status sl_oracle_softmax_mpfr(size_t n, const double *s, mpfr_t *w,
                                 mpfr_prec_t prec);
sl_status sl_oracle_softmax(size_t n, const double *s, double *w);

/* lse = log sum_i exp(s_i), n >= 1. */
sl_status sl_oracle_logsumexp_mpfr(size_t n, const double *s, mpfr_ptr lse,
                                   mpfr_prec_t prec);
sl_status sl_oracle_logsumexp(size_t n, const double *s, double *lse);

/* ---- attention.h ------------------------------------------------------ */

/* a = W x (D), w (n), zbar (D), F (p), lognorm, as sl_attn_forward; pi
 * NULL or n masses > 0.  Any output may be NULL. */
sl_status sl_oracle_attn_forward_mpfr(size_t n, size_t D, size_t Dq, size_t p,
                                      const double *Z, const double *W,
                                      const double *V, const double *x,
                                      const double *pi, mpfr_t *a, mpfr_t *w,
                                      mpfr_t *zbar, mpfr_t *F, mpfr_ptr lognorm,
                                      mpfr_prec_t prec);
sl_status sl_oracle_attn_forward(size_t n, size_t D, size_t Dq, size_t p,
                                 const double *Z, const double *W,
                                 const double *V, const double *x,
                                 const double *pi, double *a, double *w,
                                 double *zbar, double *F, double *lognorm);

/* ---- stream.h --------------------------------------------------------- */

/* The exact two-pass value of what a stream fed the scores s (n) and the
 * tokens Z (n x D) reports: mean = zbar (D), F = V zbar (p), lognorm =
 * log((1/n) sum_i exp(s_i)), ess = (sum e)^2 / sum e^2 and, when h (D) is
 * not NULL, cw = C_w h = sum_i w_i (z_i - zbar) <h, z_i - zbar> (D).
 * Any output may be NULL (cw must be when h is). */
sl_status sl_oracle_stream_mpfr(size_t n, size_t D, size_t p, const double *s,
                                const double *Z, const double *V,
                                const double *h, mpfr_t *mean, mpfr_t *F,
                                mpfr_ptr lognorm, mpfr_ptr ess, mpfr_t *cw,
                                mpfr_prec_t prec);
sl_status sl_oracle_stream(size_t n, size_t D, size_t p, const double *s,
                           const double *Z, const double *V, const double *h,
                           double *mean, double *F, double *lognorm,
                           double *ess, double *cw);

/* ---- linear.h --------------------------------------------------------- */

/* a = W x, u = (1/n) sum_i <a, z_i> z_i, L = V u. */
sl_status sl_oracle_linear_forward_mpfr(size_t n, size_t D, size_t Dq, size_t p,
                                        const double *Z, const double *W,
                                        const double *V, const double *x,
                                        mpfr_t *a, mpfr_t *u, mpfr_t *L,
                                        mpfr_prec_t prec);
sl_status sl_oracle_linear_forward(size_t n, size_t D, size_t Dq, size_t p,
                                   const double *Z, const double *W,
                                   const double *V, const double *x, double *a,
                                   double *u, double *L);

/* a = W x, u = (S + m m^T) a, L = V u. */
sl_status sl_oracle_linear_limit_gauss_mpfr(size_t D, size_t Dq, size_t p,
                                            const double *m, const double *S,
                                            const double *W, const double *V,
                                            const double *x, mpfr_t *a,
                                            mpfr_t *u, mpfr_t *L,
                                            mpfr_prec_t prec);
sl_status sl_oracle_linear_limit_gauss(size_t D, size_t Dq, size_t p,
                                       const double *m, const double *S,
                                       const double *W, const double *V,
                                       const double *x, double *a, double *u,
                                       double *L);

/* ---- limit.h ---------------------------------------------------------- */

/* a = W x, mu = m + S a, F = V mu. */
sl_status sl_oracle_limit_gauss_forward_mpfr(size_t D, size_t Dq, size_t p,
                                             const double *m, const double *S,
                                             const double *W, const double *V,
                                             const double *x, mpfr_t *a,
                                             mpfr_t *mu, mpfr_t *F,
                                             mpfr_prec_t prec);
sl_status sl_oracle_limit_gauss_forward(size_t D, size_t Dq, size_t p,
                                        const double *m, const double *S,
                                        const double *W, const double *V,
                                        const double *x, double *a, double *mu,
                                        double *F);

/* q = a^T S a. */
sl_status sl_oracle_limit_gauss_quad_mpfr(size_t D, const double *S,
                                          const double *a, mpfr_ptr q,
                                          mpfr_prec_t prec);
sl_status sl_oracle_limit_gauss_quad(size_t D, const double *S, const double *a,
                                     double *q);

/* h = V^T g, c = S h, dV = g mu^T, dW = c x^T. */
sl_status sl_oracle_limit_gauss_backward_mpfr(size_t D, size_t Dq, size_t p,
                                              const double *S, const double *V,
                                              const double *x, const double *mu,
                                              const double *g, mpfr_t *h,
                                              mpfr_t *c, mpfr_t *dV, mpfr_t *dW,
                                              mpfr_prec_t prec);
sl_status sl_oracle_limit_gauss_backward(size_t D, size_t Dq, size_t p,
                                         const double *S, const double *V,
                                         const double *x, const double *mu,
                                         const double *g, double *h, double *c,
                                         double *dV, double *dW);

/* ---- gradient.h ------------------------------------------------------- */

/* From the given w (n) and zbar (D), as sl_attn_backward: h = V^T g,
 * c = sum_i w_i <h, z_i - zbar> (z_i - zbar), dV = g zbar^T, dW = c x^T.
 * The inputs w and zbar are taken as they are (exactly), so this is the
 * reference for the backward kernel alone; chain it after the forward
 * oracle for the end-to-end gradient. */
sl_status sl_oracle_attn_backward_mpfr(size_t n, size_t D, size_t Dq, size_t p,
                                       const double *Z, const double *V,
                                       const double *x, const double *w,
                                       const double *zbar, const double *g,
                                       mpfr_t *h, mpfr_t *c, mpfr_t *dV,
                                       mpfr_t *dW, mpfr_prec_t prec);
sl_status sl_oracle_attn_backward(size_t n, size_t D, size_t Dq, size_t p,
                                  const double *Z, const double *V,
                                  const double *x, const double *w,
                                  const double *zbar, const double *g,
                                  double *h, double *c, double *dV, double *dW);

#endif
