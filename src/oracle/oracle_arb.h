/* oracle_arb.h -- certified enclosures of the main kernels (Arb balls).
 *
 * Ball arithmetic (Johansson's Arb) propagates a rigorous radius through
 * every operation, so each output [mid +- rad] is guaranteed to contain
 * the exact real value of the kernel's definition on the given double
 * inputs.  These enclosures certify the MPFR oracles: the distance from
 * the MPFR value to the farthest point of the ball bounds the MPFR error
 * (sl_arb_mpfr_err, sl_arb_check_mpfr).
 *
 * prec is Arb's working precision in bits (0: SL_ARB_PREC_BITS).  Output
 * vectors are caller-owned arb vectors (_arb_vec_init).  Softmax shifts
 * the scores by the midpoint of the largest one; any shift is exact in
 * the reals, so the enclosure does not depend on that choice.
 *
 * Limits: the Arb exponent range is unbounded, so weights such as
 * exp(-2e300) get a nonzero (tiny) ball where MPFR, whose exponents stop
 * at 2^-(2^30), returns 0; the error bound of that pair is tiny against
 * SL_ARB_TINY_SCALE, so the check accepts it.
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

/* Enclosures of zbar (D), F (p) and lognorm of sl_attn_forward; zbar, F
 * and lognorm may be NULL. */
void sl_arb_attn_forward(size_t n, size_t D, size_t Dq, size_t p,
                         const double *Z, const double *W, const double *V,
                         const double *x, const double *pi, arb_ptr zbar,
                         arb_ptr F, arb_t lognorm, slong prec);

/* Enclosures of mu = m + S W x (D) and F = V mu (p). */
void sl_arb_limit_gauss_forward(size_t D, size_t Dq, size_t p, const double *m,
                                const double *S, const double *W,
                                const double *V, const double *x, arb_ptr mu,
                                arb_ptr F, slong prec);

/* A certified bound on |x - exact| / max(|mid|, scale), rounded up, for
 * the exact value enclosed by ball: (|x - mid| + rad) over that scale.
 * scale >= 0 names the size below which absolute accuracy suffices (for
 * a dot product, the sum of the absolute values of its terms; for a
 * weight, SL_ARB_TINY_SCALE).  The ratio underflows to 0 for values far
 * below double's range, such as MPFR's 0 against Arb's exp(-2e300). */
double sl_arb_mpfr_err(const arb_t ball, mpfr_srcptr x, double scale);

/* 1 when sl_arb_mpfr_err(ball, x, scale) <= 2^SL_ARB_REL_RAD_EXP: the
 * MPFR value is certified right to 60 bits at that scale.  Arb runs at
 * more bits than MPFR (320 against 256), so the ball is far narrower than
 * MPFR's own rounding and the bound measures MPFR, not Arb. */
int sl_arb_check_mpfr(const arb_t ball, mpfr_srcptr x, double scale);

#endif
