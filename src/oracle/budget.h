/* budget.h -- a-priori rounding-error bounds for every softlin kernel.
 *
 * Each function returns, for given inputs, a bound on the absolute error
 * of a double kernel's outputs against the exact real-number result (the
 * MPFR oracle of oracle_mpfr.h).  The derivations are in spec/ACCURACY.md;
 * each step of the code below names the rounding it accounts for.  Model:
 * u = 2^-53, fl(a op b) = (a op b)(1 + d) with |d| <= u for + - * /, plus
 * an absolute 2^-1074 for results in the subnormal range; glibc exp, log
 * and log1p within SL_BUDGET_LIBM_ULP ulps; gamma_k = k u / (1 - k u).
 *
 * The bounds are evaluated in double along the kernel's own computation
 * (they need the computed weights, means and scores): the quantities they
 * use differ from the exact ones by O(n u) relatively, and every bound is
 * multiplied by SL_BUDGET_SLACK, which covers that and the second-order
 * terms as long as n u < 2^-12 (n < 2^41).  Inputs are assumed finite
 * and such that no intermediate overflows (the kernels' own contract for
 * attention; softmax and log-sum-exp accept any finite scores).
 *
 * Functions that need scratch memory allocate it and return a status;
 * outputs are arrays of bounds with the shapes of the kernel's outputs.
 */
#ifndef SOFTLIN_BUDGET_H
#define SOFTLIN_BUDGET_H

#include <stddef.h>

#include "status.h"

/* Unit roundoff of double. */
#define SL_BUDGET_U 0x1p-53

/* Assumed accuracy of glibc exp, log and log1p, in ulps of the result. */
#define SL_BUDGET_LIBM_ULP 1.0

/* Multiplier covering second-order terms and the budget's own rounding. */
#define SL_BUDGET_SLACK (1.0 + 0x1p-8)

/* gamma_k = k u / (1 - k u), k u < 1. */
double sl_budget_gamma(double k);

/* sl_softmax: the largest bound, over i, on |w_i - exact w_i|. */
double sl_budget_softmax(size_t n, const double *s);

/* sl_logsumexp: bound on |lse - exact lse|. */
double sl_budget_logsumexp(size_t n, const double *s);

/* sl_attn_forward: bounds on the weights (err_w, n, may be NULL), the
 * tilted mean (err_zbar, D), the output (err_F, p) and the log-normaliser
 * (*err_lognorm), all absolute, per entry. */
sl_status sl_budget_attn(size_t n, size_t D, size_t Dq, size_t p,
                         const double *Z, const double *W, const double *V,
                         const double *x, const double *pi, double *err_w,
                         double *err_zbar, double *err_F, double *err_lognorm);

/* sl_stream_push + sl_stream_finish over scores s (n) and tokens Z
 * (n x D), in that order: bounds on the mean (err_mean, D), on F = V mean
 * (err_F, p) and on the log-normaliser (*err_lognorm). */
sl_status sl_budget_stream(size_t n, size_t D, size_t p, const double *s,
                           const double *Z, const double *V, double *err_mean,
                           double *err_F, double *err_lognorm);

/* sl_stream_push over scores s (n) and tokens Z (n x D) with direction h
 * (D), then C_w h = comom / wsum as sl_stream_backward forms it and
 * ess = wsum^2 / wsq as sl_stream_finish does: bounds on C_w h (err_cw,
 * D) and on the effective size (*err_ess), against the exact two-pass
 * values.  err_ess may be NULL; h NULL skips err_cw. */
sl_status sl_budget_stream_comoment(size_t n, size_t D, const double *s,
                                    const double *Z, const double *h,
                                    double *err_cw, double *err_ess);

/* sl_linear_forward: bounds on u (err_u, D) and L (err_L, p). */
sl_status sl_budget_linear_forward(size_t n, size_t D, size_t Dq, size_t p,
                                   const double *Z, const double *W,
                                   const double *V, const double *x,
                                   double *err_u, double *err_L);

/* sl_linear_limit_gauss: bounds on u (err_u, D) and L (err_L, p). */
sl_status sl_budget_linear_limit_gauss(size_t D, size_t Dq, size_t p,
                                       const double *m, const double *S,
                                       const double *W, const double *V,
                                       const double *x, double *err_u,
                                       double *err_L);

/* sl_limit_gauss_forward: bounds on mu (err_mu, D) and F (err_F, p). */
sl_status sl_budget_limit_gauss_forward(size_t D, size_t Dq, size_t p,
                                        const double *m, const double *S,
                                        const double *W, const double *V,
                                        const double *x, double *err_mu,
                                        double *err_F);

/* sl_limit_gauss_quad: bound on |a^T S a - computed|. */
double sl_budget_limit_gauss_quad(size_t D, const double *S, const double *a);

/* sl_limit_gauss_backward: bounds on h, c (D), dV (p x D), dW (D x Dq). */
sl_status sl_budget_limit_gauss_backward(size_t D, size_t Dq, size_t p,
                                         const double *S, const double *V,
                                         const double *x, const double *mu,
                                         const double *g, double *err_h,
                                         double *err_c, double *err_dV,
                                         double *err_dW);

/* sl_attn_backward, for the given w and zbar taken as exact inputs:
 * bounds on h, c (D), dV (p x D), dW (D x Dq). */
sl_status sl_budget_attn_backward(size_t n, size_t D, size_t Dq, size_t p,
                                  const double *Z, const double *V,
                                  const double *x, const double *w,
                                  const double *zbar, const double *g,
                                  double *err_h, double *err_c, double *err_dV,
                                  double *err_dW);

/* sl_attn_forward then sl_attn_backward, end to end: bounds on c = C_w h
 * (err_c, D), dV (p x D) and dW (D x Dq) against the gradient of the
 * exact forward pass, for the forward kernel's w (n) and zbar (D) and
 * their bounds err_w and err_zbar (sl_budget_attn). */
sl_status sl_budget_attn_grad(size_t n, size_t D, size_t Dq, size_t p,
                              const double *Z, const double *V, const double *x,
                              const double *w, const double *zbar,
                              const double *err_w, const double *err_zbar,
                              const double *g, double *err_c, double *err_dV,
                              double *err_dW);

#endif
