/* stream.c -- one-pass softmax attention by a weighted Welford recurrence.
 *
 * State relative to the running maximum M (see stream.h).  Pushing a token
 * with score s and relative weight e = exp(s - M) <= 1 (or, when s > M,
 * rescaling the state by r = exp(M - s) < 1 and taking e = 1) does
 *
 *   wsum  += e;  share = e / wsum                   (share in [0, 1])
 *   dt     = t - tmean;  tmean += share dt
 *   mean  += share (z - mean)
 *   comom += e (z - mean_new) dt
 *
 * The means are convex updates, so they stay within the range of the
 * tokens; nothing is ever divided by a quantity below 1.
 */
#include <math.h>

#include "kernels/linalg.h"
#include "kernels/slmath.h"
#include "kernels/softmax.h"
#include "kernels/stream.h"

void sl_stream_init(sl_stream *st, size_t D, double *mean, const double *h,
                    double *comom)
{
    st->dim = D;
    st->count = 0;
    st->max = 0.0;
    st->wsum = 0.0;
    st->wsq = 0.0;
    st->mean = mean;
    st->h = h;
    st->tmean = 0.0;
    st->comom = comom;
}

/* The first token is the whole measure: mean z, no spread. */
/*@
  requires ok:      sl_stream_ok(st) && st->count == 0;
  requires valid_z: \valid_read(z + (0 .. st->dim - 1));
  requires sep:     \separated(z + (0 .. st->dim - 1), st,
                                st->mean + (0 .. st->dim - 1));
  requires sep_c:   st->comom != \null ==>
                      \separated(z + (0 .. st->dim - 1),
                                 st->comom + (0 .. st->dim - 1));
  assigns  st->count, st->max, st->wsum, st->wsq, st->tmean,
           st->mean[0 .. st->dim - 1], st->comom[0 .. st->dim - 1];
  ensures  count:   st->count == 1;
  ensures  max:     st->max == s;
  ensures  mass:    st->wsum == 1;
  ensures  ok:      sl_stream_ok(st);
*/
static void stream_first(sl_stream *st, double s, double t, const double *z)
{
    st->max = s;
    st->wsum = 1.0;
    st->wsq = 1.0;
    st->tmean = t;
    /*@
      loop invariant bound: 0 <= k <= st->dim;
      loop invariant same:  st->dim == \at(st->dim, LoopEntry)
                            && st->mean == \at(st->mean, LoopEntry)
                            && st->comom == \at(st->comom, LoopEntry);
      loop assigns k, st->mean[0 .. st->dim - 1],
                   st->comom[0 .. st->dim - 1];
      loop variant st->dim - k;
    */
    for (size_t k = 0; k < st->dim; k++) {
        st->mean[k] = z[k];
        if (st->comom != NULL)
            st->comom[k] = 0.0;
    }
    st->count = 1;
}

void sl_stream_push(sl_stream *st, double s, const double *z)
{
    size_t D = st->dim;
    double t = st->h != NULL ? sl_dot(D, st->h, z) : 0.0;

    /* 1. First token. */
    if (st->count == 0) {
        stream_first(st, s, t, z);
        return;
    }

    /* 2. Relative weight e in [0, 1]; a new maximum rescales the sums by
     *    r = exp(M_old - s) in [0, 1) and the new token weighs 1. */
    double e;
    if (s > st->max) {
        double r = sl_exp(st->max - s);
        st->wsum *= r;
        st->wsq *= r * r;
        if (st->comom != NULL) {
            /*@
              loop invariant bound: 0 <= k <= D;
              loop assigns k, st->comom[0 .. D - 1];
              loop variant D - k;
            */
            for (size_t k = 0; k < D; k++)
                st->comom[k] *= r;
        }
        st->max = s;
        e = 1.0;
    } else {
        e = sl_exp(s - st->max);
    }

    /* 3. Weighted Welford update of the means and the co-moment. */
    st->wsum += e;
    st->wsq += e * e;
    double share = e / st->wsum;
    double dt = t - st->tmean;
    st->tmean += share * dt;
    /*@
      loop invariant bound: 0 <= k <= D;
      loop assigns k, st->mean[0 .. D - 1], st->comom[0 .. D - 1];
      loop variant D - k;
    */
    for (size_t k = 0; k < D; k++) {
        st->mean[k] += share * (z[k] - st->mean[k]);
        if (st->comom != NULL)
            st->comom[k] += e * (z[k] - st->mean[k]) * dt;
    }
    st->count += 1;
}

/* sum_j a_j b_j over n terms (b == NULL: sum_j a_j) as four partial sums,
 * over j = 0, 1, 2, 3 mod 4, added pairwise at the end: four independent
 * chains instead of one, so the sum is not bound by the latency of one
 * addition per term.  The rounding bound is that of any order,
 * n u sum_j |a_j b_j| to first order. */
/*@
  requires valid_a: \valid_read(a + (0 .. n - 1));
  requires valid_b: b == \null || \valid_read(b + (0 .. n - 1));
  assigns  \nothing;
  ensures  mass:    b == \null ==> SlNonnegs(a, n) ==>
                      (\exists integer k; 0 <= k < n && a[k] == 1) ==>
                      1 <= \result;
*/
static double dot4(size_t n, const double *a, const double *b)
{
    double p0 = 0.0, p1 = 0.0, p2 = 0.0, p3 = 0.0;
    size_t j = 0;

    if (b == NULL) {
        /* A sum of nonnegative terms, one of them 1, is at least 1. */
        /*@
          loop invariant bound: 0 <= j <= n;
          loop invariant pos:   SlNonnegs(a, n) ==>
                                  0 <= p0 && 0 <= p1 && 0 <= p2 && 0 <= p3;
          loop invariant one:   SlNonnegs(a, n) ==>
                                  (\exists integer k; 0 <= k < j && a[k] == 1)
                                  ==> 1 <= p0 + p1 + p2 + p3;
          loop assigns j, p0, p1, p2, p3;
          loop variant n - j;
        */
        for (; n - j >= 4; j += 4) {
            p0 += a[j];
            p1 += a[j + 1];
            p2 += a[j + 2];
            p3 += a[j + 3];
        }
        /*@
          loop invariant bound: 0 <= j <= n;
          loop invariant pos:   SlNonnegs(a, n) ==>
                                  0 <= p0 && 0 <= p1 && 0 <= p2 && 0 <= p3;
          loop invariant one:   SlNonnegs(a, n) ==>
                                  (\exists integer k; 0 <= k < j && a[k] == 1)
                                  ==> 1 <= p0 + p1 + p2 + p3;
          loop assigns j, p0;
          loop variant n - j;
        */
        for (; j < n; j++)
            p0 += a[j];
    } else {
        /*@
          loop invariant bound: 0 <= j <= n;
          loop assigns j, p0, p1, p2, p3;
          loop variant n - j;
        */
        for (; n - j >= 4; j += 4) {
            p0 += a[j] * b[j];
            p1 += a[j + 1] * b[j + 1];
            p2 += a[j + 2] * b[j + 2];
            p3 += a[j + 3] * b[j + 3];
        }
        /*@
          loop invariant bound: 0 <= j <= n;
          loop assigns j, p0;
          loop variant n - j;
        */
        for (; j < n; j++)
            p0 += a[j] * b[j];
    }
    return (p0 + p1) + (p2 + p3);
}

void sl_stream_push_weighted(sl_stream *st, size_t nb, double smax,
                             const double *e, const double *Z, double *work)
{
    size_t D = st->dim;
    const double *h = st->h;
    double *restrict bmean = work, *restrict bcomom = work + D;
    double *restrict t = work + 2 * D;

    /* 1. The block's mass: sum e_j >= 1 (one e_j is 1) and sum e_j^2. */
    double w = dot4(nb, e, NULL), wsq = dot4(nb, e, e);
    //@ assert mass: 1 <= w;

    /* 2. First pass: bmean = sum_j e_j z_j / w, the tokens taken four at
     *    a time (the sum of a group, then the group into bmean), which
     *    keeps the running sums' chain short; the rounding is that of
     *    any summation order, O(nb u) relative to sum_j e_j |z_j|. */
    /*@
      loop invariant bound: 0 <= k <= D;
      loop assigns k, bmean[0 .. D - 1];
      loop variant D - k;
    */
    for (size_t k = 0; k < D; k++)
        bmean[k] = 0.0;
    size_t j = 0;
    /*@
      loop invariant bound: 0 <= j <= nb;
      loop assigns j, bmean[0 .. D - 1];
      loop variant nb - j;
    */
    for (; nb - j >= 4; j += 4) {
        const double *z0 = Z + j * D, *z1 = z0 + D, *z2 = z1 + D;
        const double *z3 = z2 + D;
        double e0 = e[j], e1 = e[j + 1], e2 = e[j + 2], e3 = e[j + 3];
        /*@
          loop invariant bound: 0 <= k <= D;
          loop assigns k, bmean[0 .. D - 1];
          loop variant D - k;
        */
        for (size_t k = 0; k < D; k++)
            bmean[k] += (e0 * z0[k] + e1 * z1[k]) + (e2 * z2[k] + e3 * z3[k]);
    }
    /*@
      loop invariant bound: 0 <= j <= nb;
      loop assigns j, bmean[0 .. D - 1];
      loop variant nb - j;
    */
    for (; j < nb; j++) {
        /*@
          loop invariant bound: 0 <= k <= D;
          loop assigns k, bmean[0 .. D - 1];
          loop variant D - k;
        */
        for (size_t k = 0; k < D; k++)
            bmean[k] += e[j] * Z[j * D + k];
    }
    /*@
      loop invariant bound: 0 <= k <= D;
      loop assigns k, bmean[0 .. D - 1];
      loop variant D - k;
    */
    for (size_t k = 0; k < D; k++)
        bmean[k] /= w;

    /* 3. With h: t_j = <h, z_j>, tmean = sum_j e_j t_j / w and, in a
     *    second pass, bcomom = sum_j e_j (z_j - bmean)(t_j - tmean): about
     *    the block's own means, so no cancellation between large terms.
     *    Four tokens at a time again. */
    double tmean = 0.0;
    if (h != NULL) {
        j = 0;
        /*@
          loop invariant bound: 0 <= j <= nb;
          loop assigns j, t[0 .. nb - 1];
          loop variant nb - j;
        */
        for (; nb - j >= 4; j += 4) {
            const double *z0 = Z + j * D, *z1 = z0 + D, *z2 = z1 + D;
            const double *z3 = z2 + D;
            double t0 = 0.0, t1 = 0.0, t2 = 0.0, t3 = 0.0;
            /*@
              loop invariant bound: 0 <= k <= D;
              loop assigns k, t0, t1, t2, t3;
              loop variant D - k;
            */
            for (size_t k = 0; k < D; k++) {
                t0 += h[k] * z0[k];
                t1 += h[k] * z1[k];
                t2 += h[k] * z2[k];
                t3 += h[k] * z3[k];
            }
            t[j] = t0;
            t[j + 1] = t1;
            t[j + 2] = t2;
            t[j + 3] = t3;
        }
        /*@
          loop invariant bound: 0 <= j <= nb;
          loop assigns j, t[0 .. nb - 1];
          loop variant nb - j;
        */
        for (; j < nb; j++)
            t[j] = sl_dot(D, h, Z + j * D);
        tmean = dot4(nb, e, t) / w;
        /*@
          loop invariant bound: 0 <= i <= nb;
          loop assigns i, t[0 .. nb - 1];
          loop variant nb - i;
        */
        for (size_t i = 0; i < nb; i++)
            t[i] = e[i] * (t[i] - tmean);

        /*@
          loop invariant bound: 0 <= k <= D;
          loop assigns k, bcomom[0 .. D - 1];
          loop variant D - k;
        */
        for (size_t k = 0; k < D; k++)
            bcomom[k] = 0.0;
        j = 0;
        /*@
          loop invariant bound: 0 <= j <= nb;
          loop assigns j, bcomom[0 .. D - 1];
          loop variant nb - j;
        */
        for (; nb - j >= 4; j += 4) {
            const double *z0 = Z + j * D, *z1 = z0 + D, *z2 = z1 + D;
            const double *z3 = z2 + D;
            double d0 = t[j], d1 = t[j + 1], d2 = t[j + 2], d3 = t[j + 3];
            /*@
              loop invariant bound: 0 <= k <= D;
              loop assigns k, bcomom[0 .. D - 1];
              loop variant D - k;
            */
            for (size_t k = 0; k < D; k++) {
                double m = bmean[k];
                bcomom[k] += ((z0[k] - m) * d0 + (z1[k] - m) * d1) +
                             ((z2[k] - m) * d2 + (z3[k] - m) * d3);
            }
        }
        /*@
          loop invariant bound: 0 <= j <= nb;
          loop assigns j, bcomom[0 .. D - 1];
          loop variant nb - j;
        */
        for (; j < nb; j++) {
            /*@
              loop invariant bound: 0 <= k <= D;
              loop assigns k, bcomom[0 .. D - 1];
              loop variant D - k;
            */
            for (size_t k = 0; k < D; k++)
                bcomom[k] += (Z[j * D + k] - bmean[k]) * t[j];
        }
    }

    /* 4. The block as a state of its own (maximum smax, mass w >= 1),
     *    folded in by Chan's update: one rescale for the whole block. */
    sl_stream blk;
    blk.dim = D;
    blk.count = nb;
    blk.max = smax;
    blk.wsum = w;
    blk.wsq = wsq;
    blk.mean = bmean;
    blk.h = h;
    blk.tmean = tmean;
    blk.comom = h != NULL ? bcomom : NULL;
    sl_stream_merge(st, &blk);
}

void sl_stream_push_block(sl_stream *st, size_t nb, const double *s,
                          const double *Z, double *work)
{
    /* work holds the weights e (nb), then push_weighted's own work. */
    double *e = work;

    /* 1. Weights relative to the block's maximum: in [0, 1], 1 at it. */
    double smax = sl_rel_weights(nb, s, e);
    //@ ghost Weighted:;

    /* 2. The block, folded in; the scores s are read-only throughout, so
     *    their maximum is still smax. */
    sl_stream_push_weighted(st, nb, smax, e, Z, work + nb);
    //@ assert kept_s: SlEqual{Weighted, Here}(s, s, nb);
    //@ assert smax_s: smax == SlMax(s, nb);
}

void sl_stream_merge(sl_stream *dst, const sl_stream *src)
{
    size_t D = dst->dim;

    /* 1. Nothing to add, or nothing yet: a copy. */
    if (src->count == 0)
        return;
    if (dst->count == 0) {
        dst->max = src->max;
        dst->wsum = src->wsum;
        dst->wsq = src->wsq;
        dst->tmean = src->tmean;
        /*@
          loop invariant bound: 0 <= k <= D;
          loop assigns k, dst->mean[0 .. D - 1], dst->comom[0 .. D - 1];
          loop variant D - k;
        */
        for (size_t k = 0; k < D; k++) {
            dst->mean[k] = src->mean[k];
            if (dst->comom != NULL)
                dst->comom[k] = src->comom[k];
        }
        dst->count = src->count;
        return;
    }

    /* 2. Both sides relative to the larger maximum: r1, r2 in [0, 1] and
     *    one of them is 1, so the merged mass is >= 1. */
    double m = dst->max > src->max ? dst->max : src->max;
    double r1 = sl_exp(dst->max - m), r2 = sl_exp(src->max - m);
    double w1 = dst->wsum * r1, w2 = src->wsum * r2;
    double wsum = w1 + w2;
    double share = w2 / wsum;

    /* 3. Chan's pairwise update: means move by the share of src, the
     *    co-moments add with the cross term w1 w2 / wsum dz dt. */
    double dt = src->tmean - dst->tmean;
    /*@
      loop invariant bound: 0 <= k <= D;
      loop assigns k, dst->mean[0 .. D - 1], dst->comom[0 .. D - 1];
      loop variant D - k;
    */
    for (size_t k = 0; k < D; k++) {
        double dz = src->mean[k] - dst->mean[k];
        if (dst->comom != NULL)
            dst->comom[k] =
                dst->comom[k] * r1 + src->comom[k] * r2 + w1 * share * dz * dt;
        dst->mean[k] += share * dz;
    }
    dst->tmean += share * dt;
    dst->wsq = dst->wsq * r1 * r1 + src->wsq * r2 * r2;
    dst->wsum = wsum;
    dst->max = m;
    dst->count += src->count;
}

void sl_stream_finish(const sl_stream *st, size_t p, const double *V, double *F,
                      double *lognorm, double *ess)
{
    /* 1. F = V zbar. */
    sl_matvec(p, st->dim, V, st->mean, F);

    /* 2. log((1/n) sum_i e^{s_i}) = M + log(wsum) - log(n). */
    *lognorm = st->max + sl_log(st->wsum) - sl_log((double)st->count);

    /* 3. 1 / sum_i w_i^2 with w_i = e_i / wsum. */
    if (ess != NULL)
        *ess = st->wsum * st->wsum / st->wsq;

    /* The kernel wrote F, lognorm and ess only: the frame of the proof. */
    //@ assert kept_V: SlSameMat{Pre, Here}(V, p, st->dim);
    //@ assert kept_mean: SlSame{Pre, Here}(st->mean, st->dim);
    /*@ assert output: \forall integer r; 0 <= r < p ==>
                         F[r] == \at(SlRowDot(V, st->mean, st->dim, r), Pre);
    */
}

void sl_stream_backward(const sl_stream *st, size_t p, size_t Dq,
                        const double *g, const double *x, double *dV,
                        double *dW)
{
    size_t D = st->dim;

    /* 1. dl/dV = g zbar^T. */
    sl_outer(p, D, g, st->mean, dV);
    //@ ghost OuterV:;

    /* 2. dl/dW = (C_w h) x^T with C_w h = comom / wsum: row k of dW is
     *    x scaled by ck. */
    /*@
      loop invariant bound: 0 <= k <= D;
      loop invariant done:  \forall integer q, j; 0 <= q < k && 0 <= j < Dq
                              ==> SlAt(dW, Dq, q, j)
                                  == \at((st->comom[q] / st->wsum) * x[j],
                                         Pre);
      loop assigns k, dW[0 .. D * Dq - 1];
      loop variant D - k;
    */
    for (size_t k = 0; k != D; k++) {
        double ck = st->comom[k] / st->wsum;
        //@ assert row: SlRowFits(k, D, Dq);
        sl_scale(Dq, ck, x, dW + k * Dq);
        /*@ assert kept: \forall integer q, j; 0 <= q < k && 0 <= j < Dq ==>
                           SlAt(dW, Dq, q, j)
                           == \at(SlAt(dW, Dq, q, j), LoopCurrent); */
        /*@ assert cur: \forall integer q, j; q == k && 0 <= j < Dq ==>
                          SlAt(dW, Dq, q, j)
                          == \at((st->comom[q] / st->wsum) * x[j], Pre); */
    }

    /* Step 2 wrote dW only: the frame of the proof. */
    //@ assert kept_dV: SlSameMat{OuterV, Here}(dV, p, D);
    //@ assert in_g: SlSame{OuterV, Pre}(g, p);
    //@ assert in_mean: SlSame{OuterV, Pre}(st->mean, D);
}
