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
static void stream_first(sl_stream *st, double s, double t, const double *z)
{
    st->max = s;
    st->wsum = 1.0;
    st->wsq = 1.0;
    st->tmean = t;
    /*@
      loop invariant bound: 0 <= k <= st->dim;
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
        double r = exp(st->max - s);
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
        e = exp(s - st->max);
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
    double r1 = exp(dst->max - m), r2 = exp(src->max - m);
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
    *lognorm = st->max + log(st->wsum) - log((double)st->count);

    /* 3. 1 / sum_i w_i^2 with w_i = e_i / wsum. */
    if (ess != NULL)
        *ess = st->wsum * st->wsum / st->wsq;
}

void sl_stream_backward(const sl_stream *st, size_t p, size_t Dq,
                        const double *g, const double *x, double *dV,
                        double *dW)
{
    size_t D = st->dim;

    /* 1. dl/dV = g zbar^T. */
    sl_outer(p, D, g, st->mean, dV);

    /* 2. dl/dW = (C_w h) x^T with C_w h = comom / wsum. */
    /*@
      loop invariant bound: 0 <= k <= D;
      loop assigns k, dW[0 .. D * Dq - 1];
      loop variant D - k;
    */
    for (size_t k = 0; k < D; k++) {
        double ck = st->comom[k] / st->wsum;
        /*@
          loop invariant bound: 0 <= j <= Dq;
          loop assigns j, dW[k * Dq .. k * Dq + Dq - 1];
          loop variant Dq - j;
        */
        for (size_t j = 0; j < Dq; j++)
            dW[k * Dq + j] = ck * x[j];
    }
}
