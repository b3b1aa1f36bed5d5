/* stream.h -- one-pass (online) softmax attention for tokens made on the fly.
 *
 * The same quantities as attention.h, for a prompt that is never stored:
 * each token is pushed once with its score s_i (usually <a, z_i>, plus
 * log pi_i for weighted tokens) and forgotten.  The state keeps a running
 * maximum M of the scores and, relative to it,
 *
 *   wsum  = sum_i e_i,  e_i = exp(s_i - M)
 *   wsq   = sum_i e_i^2                       (for the effective size)
 *   mean  = sum_i e_i z_i / wsum              (tilted mean zbar, D)
 *   tmean = sum_i e_i t_i / wsum,             t_i = <h, z_i>
 *   comom = sum_i e_i (z_i - mean)(t_i - tmean)   (D)
 *
 * updated by the weighted Welford recurrence (West, 1979): when a new score
 * exceeds M the sums are rescaled by exp(M_old - M_new) <= 1, and the means
 * move by the new token's share e / wsum, so no sum is ever formed of terms
 * larger than the running total.  comom / wsum is C_w h, the tilted
 * covariance applied to h, which is what dl/dW needs when h = V^T g
 * (gradient.h); pass h == NULL to skip it.
 *
 * Agreement with the two-pass kernel: both compute the same convex
 * combination; the means differ by rounding only, O(n u) relative in the
 * worst case and O(sqrt(n) u) typically (tests/test_stream.c measures it
 * against SL_STREAM_AGREE_EPS below).
 *
 * Two states over disjoint token sets can be merged (Chan et al., 1979),
 * which gives the same result as pushing all tokens into one state, up to
 * rounding.  A block of tokens can be pushed at once the same way: it is
 * summarised as a state of its own and merged (sl_stream_push_weighted,
 * sl_stream_push_block), one rescale per block; the Monte Carlo engine
 * pushes its tokens so.
 */
#ifndef SOFTLIN_STREAM_H
#define SOFTLIN_STREAM_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "softlin.acsl"

/* Relative tolerance, per token, for stream vs two-pass agreement:
 * |zbar_stream - zbar_2pass| <= SL_STREAM_AGREE_EPS * n * max_i |z_i|. */
#define SL_STREAM_AGREE_EPS (8.0 * 0x1p-53)

typedef struct sl_stream {
    size_t dim;      /* D, the token dimension */
    size_t count;    /* tokens pushed so far */
    double max;      /* running maximum score M */
    double wsum;     /* sum_i exp(s_i - M), >= 1 once count >= 1 */
    double wsq;      /* sum_i exp(2 (s_i - M)) */
    double *mean;    /* D, caller's buffer: tilted mean */
    const double *h; /* D or NULL: direction for the covariance */
    double tmean;    /* tilted mean of <h, z> */
    double *comom;   /* D or NULL (with h): weighted co-moment */
} sl_stream;

/*@
  predicate sl_stream_ok(sl_stream *st) =
    \valid(st) && st->dim >= 1
    && \valid(st->mean + (0 .. st->dim - 1))
    && (st->h == \null <==> st->comom == \null)
    && (st->h != \null ==> \valid_read(st->h + (0 .. st->dim - 1))
                           && \valid(st->comom + (0 .. st->dim - 1)))
    && \separated(st, st->mean + (0 .. st->dim - 1))
    && (st->comom != \null ==>
          \separated(st->comom + (0 .. st->dim - 1),
                     st->mean + (0 .. st->dim - 1), st))
    && (st->count >= 1 ==> st->wsum >= 1);

  // The same for a state only read (a const pointer is never \valid).
  predicate sl_stream_ok_read(sl_stream *st) =
    \valid_read(st) && st->dim >= 1
    && \valid_read(st->mean + (0 .. st->dim - 1))
    && (st->h == \null <==> st->comom == \null)
    && (st->h != \null ==> \valid_read(st->h + (0 .. st->dim - 1))
                           && \valid_read(st->comom + (0 .. st->dim - 1)))
    && \separated(st, st->mean + (0 .. st->dim - 1))
    && (st->comom != \null ==>
          \separated(st->comom + (0 .. st->dim - 1),
                     st->mean + (0 .. st->dim - 1), st))
    && (st->count >= 1 ==> st->wsum >= 1);
*/

/* Start an empty stream over D-dimensional tokens.  mean (D) and, when h is
 * not NULL, comom (D) are the caller's buffers and must stay alive. */
/*@
  requires valid_st: \valid(st);
  requires dim:      D >= 1;
  requires valid_m:  \valid(mean + (0 .. D - 1));
  requires pair:     h == \null <==> comom == \null;
  requires valid_h:  h != \null ==> \valid_read(h + (0 .. D - 1))
                                    && \valid(comom + (0 .. D - 1));
  requires sep:      \separated(st, mean + (0 .. D - 1));
  requires sep_c:    comom != \null ==>
                       \separated(comom + (0 .. D - 1), mean + (0 .. D - 1),
                                  st);
  assigns  *st;
  ensures  ok:       sl_stream_ok(st);
  ensures  empty:    st->count == 0 && st->dim == D && st->mean == mean
                     && st->h == h && st->comom == comom;
*/
void sl_stream_init(sl_stream *st, size_t D, double *mean, const double *h,
                    double *comom);

/* Push one token z (D) with score s (finite). */
/*@
  requires ok:       sl_stream_ok(st);
  requires room:     st->count < SIZE_MAX;
  requires valid_z:  \valid_read(z + (0 .. st->dim - 1));
  requires finite:   \is_finite(s);
  requires sep:      \separated(z + (0 .. st->dim - 1), st,
                                st->mean + (0 .. st->dim - 1));
  requires sep_c:    st->comom != \null ==>
                       \separated(z + (0 .. st->dim - 1),
                                  st->comom + (0 .. st->dim - 1));
  assigns  st->count, st->max, st->wsum, st->wsq, st->tmean,
           st->mean[0 .. st->dim - 1], st->comom[0 .. st->dim - 1], errno;
  ensures  count:    st->count == \old(st->count) + 1;
  ensures  max:      \old(st->count) == 0 ==> st->max == s;
  ensures  max_grow: \old(st->count) > 0 ==>
                       st->max == (s > \old(st->max) ? s : \old(st->max));
  ensures  mass:     st->wsum >= 1;
  ensures  ok:       sl_stream_ok(st);
*/
void sl_stream_push(sl_stream *st, double s, const double *z);

/* Push nb >= 1 tokens Z (nb x D, row-major) at once, given their
 * relative weights e_j = exp(s_j - smax), where s_j are the tokens' scores
 * and smax their maximum (so every e_j lies in [0, 1] and the maximal
 * tokens have e_j = 1; sl_rel_weights of softmax.h computes them, as
 * sl_stream_push_block does).  The block is summarised on its own, by
 * two passes over it (weighted means, then the co-moment about them), and
 * folded into the state by sl_stream_merge: one rescale per block instead
 * of one per new maximum.  work: 2 D + nb doubles.
 *
 * Same result as pushing the tokens one by one, up to rounding: the block
 * sums add at most nb u relative to the sums' scale, so the agreement
 * bound of this header holds with n the total count (tests/test_stream.c
 * checks it). */
/*@
  requires ok:       sl_stream_ok(st);
  requires block:    nb >= 1 && st->count + nb <= SIZE_MAX;
  requires shape:    nb * st->dim <= SIZE_MAX
                     && 2 * st->dim + 2 * nb <= SIZE_MAX;
  requires valid_Z:  \valid_read(Z + (0 .. nb * st->dim - 1));
  requires valid_e:  \valid_read(e + (0 .. nb - 1));
  requires weights:  \forall integer j; 0 <= j < nb ==> 0 <= e[j] <= 1;
  requires top:      \exists integer j; 0 <= j < nb && e[j] == 1;
  requires finite:   \is_finite(smax);
  requires valid_w:  \valid(work + (0 .. 2 * st->dim + nb - 1));
  requires sep:      \separated(work + (0 .. 2 * st->dim + nb - 1), st,
                                Z + (0 .. nb * st->dim - 1), e + (0 .. nb - 1),
                                st->mean + (0 .. st->dim - 1));
  requires sep_c:    st->comom != \null ==>
                       \separated(work + (0 .. 2 * st->dim + nb - 1),
                                  st->comom + (0 .. st->dim - 1))
                       && \separated(Z + (0 .. nb * st->dim - 1),
                                     st->comom + (0 .. st->dim - 1));
  assigns  st->count, st->max, st->wsum, st->wsq, st->tmean,
           st->mean[0 .. st->dim - 1], st->comom[0 .. st->dim - 1],
           work[0 .. 2 * st->dim + nb - 1], errno;
  ensures  count:    st->count == \old(st->count) + nb;
  ensures  max:      \old(st->count) == 0 ==> st->max == smax;
  ensures  max_grow: \old(st->count) > 0 ==>
                       st->max == (smax > \old(st->max) ? smax
                                                        : \old(st->max));
  ensures  mass:     st->wsum >= 1;
  ensures  ok:       sl_stream_ok(st);
*/
void sl_stream_push_weighted(sl_stream *st, size_t nb, double smax,
                             const double *e, const double *Z, double *work);

/* Push nb >= 1 tokens Z (nb x D) with finite scores s (nb) at once: the
 * weights by sl_rel_weights (libm exp), then
 * sl_stream_push_weighted.  work: 2 D + 2 nb doubles. */
/*@
  requires ok:       sl_stream_ok(st);
  requires block:    nb >= 1 && st->count + nb <= SIZE_MAX;
  requires shape:    nb * st->dim <= SIZE_MAX
                     && 2 * st->dim + 2 * nb <= SIZE_MAX;
  requires valid_Z:  \valid_read(Z + (0 .. nb * st->dim - 1));
  requires valid_s:  \valid_read(s + (0 .. nb - 1));
  requires finite:   SlFinite(s, nb);
  requires valid_w:  \valid(work + (0 .. 2 * st->dim + 2 * nb - 1));
  requires sep:      \separated(work + (0 .. 2 * st->dim + 2 * nb - 1), st,
                                Z + (0 .. nb * st->dim - 1), s + (0 .. nb - 1),
                                st->mean + (0 .. st->dim - 1));
  requires sep_c:    st->comom != \null ==>
                       \separated(work + (0 .. 2 * st->dim + 2 * nb - 1),
                                  st->comom + (0 .. st->dim - 1))
                       && \separated(Z + (0 .. nb * st->dim - 1),
                                     st->comom + (0 .. st->dim - 1))
                       && \separated(s + (0 .. nb - 1),
                                     st->comom + (0 .. st->dim - 1));
  assigns  st->count, st->max, st->wsum, st->wsq, st->tmean,
           st->mean[0 .. st->dim - 1], st->comom[0 .. st->dim - 1],
           work[0 .. 2 * st->dim + 2 * nb - 1], errno;
  ensures  count:    st->count == \old(st->count) + nb;
  ensures  max:      \old(st->count) == 0 ==> st->max == SlMax(s, nb);
  ensures  max_grow: \old(st->count) > 0 ==>
                       st->max == (SlMax(s, nb) > \old(st->max)
                                     ? SlMax(s, nb) : \old(st->max));
  ensures  mass:     st->wsum >= 1;
  ensures  ok:       sl_stream_ok(st);
*/
void sl_stream_push_block(sl_stream *st, size_t nb, const double *s,
                          const double *Z, double *work);

/* Fold src into dst (same dim, both with or both without h, same h);
 * src is left unchanged. */
/*@
  requires ok:       sl_stream_ok(dst) && sl_stream_ok_read(src);
  requires same:     dst->dim == src->dim && dst->h == src->h;
  requires room:     dst->count + src->count <= SIZE_MAX;
  requires sep:      \separated(dst, src, dst->mean + (0 .. dst->dim - 1),
                                src->mean + (0 .. src->dim - 1));
  requires sep_c:    dst->comom != \null ==>
                       \separated(dst->comom + (0 .. dst->dim - 1),
                                  src->comom + (0 .. src->dim - 1),
                                  src->mean + (0 .. src->dim - 1), src);
  assigns  dst->count, dst->max, dst->wsum, dst->wsq, dst->tmean,
           dst->mean[0 .. dst->dim - 1], dst->comom[0 .. dst->dim - 1],
           errno;
  ensures  count:    dst->count == \old(dst->count) + src->count;
  ensures  max:      \old(dst->count) == 0 && src->count > 0 ==>
                       dst->max == src->max;
  ensures  max_grow: \old(dst->count) > 0 && src->count > 0 ==>
                       dst->max == (src->max > \old(dst->max) ? src->max
                                                              : \old(dst->max));
  ensures  max_keep: src->count == 0 ==> dst->max == \old(dst->max);
  ensures  ok:       sl_stream_ok(dst);
*/
void sl_stream_merge(sl_stream *dst, const sl_stream *src);

/* Output F = V mean (p), *lognorm = log((1/count) sum_i exp(s_i)) and
 * *ess = wsum^2 / wsq; count >= 1.  ess may be NULL. */
/*@
  requires ok:       sl_stream_ok_read(st);
  requires nonempty: st->count >= 1;
  requires shape:    p >= 1 && p * st->dim <= SIZE_MAX;
  requires valid_V:  \valid_read(V + (0 .. p * st->dim - 1));
  requires valid_F:  \valid(F + (0 .. p - 1)) && \valid(lognorm);
  requires valid_e:  ess == \null || \valid(ess);
  requires sep:      \separated(F + (0 .. p - 1), lognorm, st,
                                V + (0 .. p * st->dim - 1),
                                st->mean + (0 .. st->dim - 1));
  requires sep_e:    ess != \null ==>
                       \separated(ess, lognorm, F + (0 .. p - 1), st,
                                  V + (0 .. p * st->dim - 1),
                                  st->mean + (0 .. st->dim - 1));
  assigns  F[0 .. p - 1], *lognorm, *ess;
  ensures  output:   \forall integer r; 0 <= r < p ==>
                       F[r] == SlRowDot(V, st->mean, st->dim, r);
*/
void sl_stream_finish(const sl_stream *st, size_t p, const double *V, double *F,
                      double *lognorm, double *ess);

/* dl/dV = g mean^T (p x D) and dl/dW = (comom / wsum) x^T (D x Dq), for the
 * state's tokens and loss gradient g (p); the state must have been started
 * with h = V^T g.  count >= 1. */
/*@
  requires ok:       sl_stream_ok_read(st) && st->h != \null;
  requires nonempty: st->count >= 1;
  requires shape:    p >= 1 && Dq >= 1 && p * st->dim <= SIZE_MAX
                     && st->dim * Dq <= SIZE_MAX;
  requires valid_in: \valid_read(g + (0 .. p - 1))
                     && \valid_read(x + (0 .. Dq - 1));
  requires valid_o:  \valid(dV + (0 .. p * st->dim - 1))
                     && \valid(dW + (0 .. st->dim * Dq - 1));
  requires sep:      \separated(dV + (0 .. p * st->dim - 1),
                                dW + (0 .. st->dim * Dq - 1), st,
                                g + (0 .. p - 1), x + (0 .. Dq - 1),
                                st->mean + (0 .. st->dim - 1),
                                st->comom + (0 .. st->dim - 1));
  assigns  dV[0 .. p * st->dim - 1], dW[0 .. st->dim * Dq - 1];
  ensures  dV:       \forall integer r; 0 <= r < p ==>
                       SlOuterRow{Post, Pre}(dV, st->dim, r, g, st->mean);
  ensures  dW:       \forall integer k, j; 0 <= k < st->dim && 0 <= j < Dq
                       ==> SlAt(dW, Dq, k, j)
                           == \old((st->comom[k] / st->wsum) * x[j]);
*/
void sl_stream_backward(const sl_stream *st, size_t p, size_t Dq,
                        const double *g, const double *x, double *dV,
                        double *dW);

#endif
