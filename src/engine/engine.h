/* engine.h -- the Monte Carlo engine: many prompts, one deviation each.
 *
 * For each trial k < T it draws a prompt of n tokens z_i = m + L eta_i from
 * the measure, never storing it: tokens are made in blocks of
 * SL_ENGINE_BLOCK and folded, a block at a time, into the one-pass kernel
 * (sl_stream_push_weighted, stream.h) in the white coordinates eta, with
 * tilt t = L^T a and direction L^T h; the block's weights exp(s_j - max)
 * come from SLEEF's vector exp (vexp.h), everything else from the kernel.
 * Since the weighted mean and the weighted co-moment commute with
 * z = m + L eta,
 *
 *   zbar - mu_a     = L (etabar - Lambda'(t))
 *   c_n  - C_a h    = L (comom / wsum - diag(Lambda''(t)) L^T h)
 *
 * are the deviations of the tilted mean and of C_w h, exactly as if the
 * z_i had been pushed (up to rounding).  F_n - F_inf = V (zbar - mu_a),
 * dV_n - dV_inf = g (zbar - mu_a)^T and dW_n - dW_inf = (c_n - C_a h) x^T.
 *
 * Trial k of job j uses the random stream (seed, j * 2^32 + k): results
 * are bit-identical for any thread count, and for every vector path with
 * FMA (AVX-512, AVX2, scalar; normal_fast.h).  Trials run in parallel
 * (OpenMP) on the given number of threads.
 */
#ifndef SOFTLIN_ENGINE_H
#define SOFTLIN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "measure/measure.h"
#include "status.h"

/* Tokens drawn and pushed per block. */
#define SL_ENGINE_BLOCK 256

/* Faults that a negative control can inject: the harness must flag them.
 * SL_FAULT_SCORES pushes every token with score 0, i.e. replaces softmax
 * attention by a plain average (the limit is then V m, not V mu_a). */
enum { SL_FAULT_NONE = 0, SL_FAULT_SCORES = 1 };

/* Called after each finished trial with the number of tokens done so far
 * in this run; from one thread at a time. */
typedef void (*sl_progress_fn)(void *ctx, uint64_t tokens_done);

typedef struct sl_mc_job {
    const sl_measure *mu;
    const double *a; /* tilt W x (D) */
    const double *h; /* direction V^T g (D) */
    uint64_t n;      /* prompt length, >= 1 */
    uint64_t trials; /* T, 1 .. 2^32 */
    uint64_t seed;
    uint64_t job; /* job index: selects the streams */
    unsigned threads;
    sl_progress_fn progress; /* may be NULL */
    void *progress_ctx;
    int fault; /* SL_FAULT_*: a deliberately wrong kernel, for controls */
} sl_mc_job;

/* The scores of a block: s_j = <t, eta_j> for nb >= 1 tokens eta (nb x D,
 * row-major), and their maximum, returned.  The same left-to-right sums
 * as sl_dot and the same maximum as sl_max (linalg.h, softmax.h), four
 * tokens at a time so that their sums and comparisons proceed side by
 * side.  The engine's scoring step, public for tests and benchmarks. */
double sl_engine_scores(size_t nb, size_t D, const double *eta, const double *t,
                        double *s);

/* Run the trials: dmean[k D + i] = (zbar - mu_a)_i and
 * dcov[k D + i] = (c_n - C_a h)_i for trial k.  SL_ENOMEM or SL_EINVAL
 * (n or trials out of range). */
sl_status sl_mc_run(const sl_mc_job *job, double *dmean, double *dcov);

#endif
