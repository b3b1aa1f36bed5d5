/* vexp.h -- exp over a block of scores, with SLEEF's vector functions.
 *
 *   out_j = exp(x_j - c),  j < n
 *
 * the engine's replacement for the exps of sl_exp_shift (softmax.h), which
 * calls libm one value at a time (about 6 ns each; this is about 1 ns).
 * The difference x_j - c is rounded as in sl_exp_shift; the exponential
 * is SLEEF's expd, u10 (within 1.0 ulp), with exp(0) = 1 exactly, so with
 * c = max_j x_j the results are the relative weights that
 * sl_stream_push_weighted (stream.h) takes.
 *
 * The instruction set follows sl_normal_path_active (normal_fast.h), and
 * with it the same promise: the AVX-512, AVX2 and scalar-FMA paths use
 * SLEEF's deterministic finz functions and agree bit for bit; the scalar
 * fallback without FMA (cinz) may differ in the last bit.
 */
#ifndef SOFTLIN_VEXP_H
#define SOFTLIN_VEXP_H

#include <stddef.h>

/* out_j = exp(x_j - c) for j < n; out may equal x. */
void sl_vexp_shift(size_t n, const double *x, double c, double *out);

#endif
