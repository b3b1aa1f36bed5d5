/* oracle_arb.h -- certified enclosures of every kernel (Arb balls).
 *
 * Ball arithmetic (Johansson's Arb) propagates a rigorous radius through
 * every operation, so each output [mid +- rad] is guaranteed to contain
 * the exact real value of the kernel's definition on the given double
 * inputs.  These enclosures certify the MPFR oracles: the distance from
 * the MPFR value to the farthest point of the ball bounds the MPFR error
 * (sl_arb_mpfr_err, sl_arb_check_mpfr).  Each function below encloses
 * what the MPFR oracle of the same kernel computes (oracle_mpfr.h), in
 * the same form: the stream's exact value is the two-pass one, and the
 * backward passes take w, zbar and mu as exact inputs.  One function has
 * no MPFR twin: sl_arb_attn_grad, the end-to-end gradient, whose
 * reference is its own ball.
 *
 * prec is Arb's working precision in bits (0: SL_ARB_PREC_BITS).  Output
 * vectors are caller-owned arb vectors (_arb_vec_init); of a function
 * with several outputs, any may be NULL.  Softmax shifts the scores by
 * the midpoint of the largest one (any shift is exact in the reals, so
 * the enclosure does not depend on that choice) and forms the
 * log-normaliser as that shift plus log1p of the rest, so that it keeps
 * its relative accuracy when every other weight underflows.
 *
 * Limits: the Arb exponent range is unbounded, so weights such as
 * exp(-2e300) get a nonzero (tiny) ball where MPFR, whose exponents stop
 * at 2^-(2^30), returns 0; the error bound of that pair is tiny against
 * SL_ARB_TINY_SCALE, so the check accepts it.  The balls widen with the
 * cancellation in a centred sum: C_w h of tokens near 1e8 with unit
 * spread keeps about 27 bits fewer than prec, and a co-moment of weights
 * exp(-1e4) around one dominant token needs several hundred bits more
 * than the default to be enclosed at the size of its double budget
 * (4e-323); the accuracy sweep raises prec until the balls are narrow
 * enough (accuracy.h).
 */
#ifndef SOFTLIN_ORACLE_ARB_H
#define SOFTLIN_ORACLE_ARB_H

#include <stddef.h>

#include <arb.h>
#include <mpfr.h>

/* Default working precision of the Arb enclosures, in bits. */
#define SL_ARB_PREC_BITS 320

/* The check accepts an MPFR error up to 2^SL_ARB_REL_RAD_EXP relative to
 * max(|mid|, scale). */
#define SL_ARB_REL_RAD_EXP (-60)

/* Scale below which a value does not matter to a double result: the
 * smallest subnormal (a ball 2^-60 of it wide is far inside half an ulp
 * of any double). */
#define SL_ARB_TINY_SCALE 0x1p-1074

/* w (n) encloses softmax(s). */
void sl_arb_softmax(size_t n, const double *s, arb_ptr w, slong prec);

/* lse encloses log sum_i exp(s_i). */
void sl_arb_logsumexp(size_t n, const double *s, arb_t lse, slong prec);

/* Enclosures of w (n), zbar (D), F (p) and lognorm of sl_attn_forward. */
void sl_arb_attn_forward(size_t n, size_t D, size_t Dq, size_t p,
                         const double *Z, const double *W, const double *V,
                         const double *x, const double *pi, arb_ptr w,
                         arb_ptr zbar, arb_ptr F, arb_t lognorm, slong prec);

/* Enclosures of the stream's exact (two-pass) outputs for scores s (n)
 * and tokens Z (n x D): mean = zbar (D), F = V zbar (p), lognorm =
 * log((1/n) sum_i exp(s_i)), ess = 1 / sum_i w_i^2 and, when h (D) is not
 * NULL, cw = C_w h = sum_i w_i <h, z_i - zbar> (z_i - zbar) (D). */
void sl_arb_stream(size_t n, size_t D, size_t p, const double *s,
                   const double *Z, const double *V, const double *h,
                   arb_ptr mean, arb_ptr F, arb_t lognorm, arb_t ess,
                   arb_ptr cw, slong prec);

/* u = (1/n) sum_i <W x, z_i> z_i (D) and L = V u (p): sl_linear_forward. */
void sl_arb_linear_forward(size_t n, size_t D, size_t Dq, size_t p,
                           const double *Z, const double *W, const double *V,
                           const double *x, arb_ptr u, arb_ptr L, slong prec);

/* u = S a + m <m, a> with a = W x (D) and L = V u (p):
 * sl_linear_limit_gauss. */
void sl_arb_linear_limit_gauss(size_t D, size_t Dq, size_t p, const double *m,
                               const double *S, const double *W,
                               const double *V, const double *x, arb_ptr u,
                               arb_ptr L, slong prec);

/* Enclosures of mu = m + S W x (D) and F = V mu (p). */
void sl_arb_limit_gauss_forward(size_t D, size_t Dq, size_t p, const double *m,
                                const double *S, const double *W,
                                const double *V, const double *x, arb_ptr mu,
                                arb_ptr F, slong prec);

/* q = a^T S a: sl_limit_gauss_quad. */
void sl_arb_limit_gauss_quad(size_t D, const double *S, const double *a,
                             arb_t q, slong prec);

/* h = V^T g (D), c = S h (D), dV = g mu^T (p x D), dW = c x^T (D x Dq):
 * sl_limit_gauss_backward, for the given mu. */
void sl_arb_limit_gauss_backward(size_t D, size_t Dq, size_t p, const double *S,
                                 const double *V, const double *x,
                                 const double *mu, const double *g, arb_ptr h,
                                 arb_ptr c, arb_ptr dV, arb_ptr dW, slong prec);

/* h = V^T g (D), c = sum_i w_i <h, z_i - zbar> (z_i - zbar) (D),
 * dV = g zbar^T (p x D), dW = c x^T (D x Dq): sl_attn_backward, for the
 * given w (n) and zbar (D) taken as exact. */
void sl_arb_attn_backward(size_t n, size_t D, size_t Dq, size_t p,
                          const double *Z, const double *V, const double *x,
                          const double *w, const double *zbar, const double *g,
                          arb_ptr h, arb_ptr c, arb_ptr dV, arb_ptr dW,
                          slong prec);

/* The end-to-end gradient: the same c, dV and dW, with w and zbar the
 * exact forward values on (Z, W, V, x, pi) instead of given doubles; what
 * sl_attn_forward followed by sl_attn_backward approximates. */
void sl_arb_attn_grad(size_t n, size_t D, size_t Dq, size_t p, const double *Z,
                      const double *W, const double *V, const double *x,
                      const double *pi, const double *g, arb_ptr c, arb_ptr dV,
                      arb_ptr dW, slong prec);

/* A certified bound on |x - exact| / max(|mid|, scale), rounded up, for
 * the exact value enclosed by ball: (|x - mid| + rad) over that scale.
 * scale >= 0 names the size below which absolute accuracy suffices (for
 * a dot product, the sum of the absolute values of its terms; for a
 * weight, SL_ARB_TINY_SCALE; for a value a double kernel is judged on,
 * its budget).  |x - mid| is rounded up at 64 bits, never formed
 * exactly, so x and mid may be any distance apart in scale.  The ratio
 * underflows to 0 for values far below double's range, such as MPFR's 0
 * against Arb's exp(-2e300). */
double sl_arb_mpfr_err(const arb_t ball, mpfr_srcptr x, double scale);

/* 1 when sl_arb_mpfr_err(ball, x, scale) <= 2^SL_ARB_REL_RAD_EXP: the
 * MPFR value is certified right to 60 bits at that scale.  Arb runs at
 * more bits than MPFR (320 against 256), so the ball is far narrower than
 * MPFR's own rounding and the bound measures MPFR, not Arb. */
int sl_arb_check_mpfr(const arb_t ball, mpfr_srcptr x, double scale);

#endif
