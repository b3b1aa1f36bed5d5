/* engine.c -- Monte Carlo over prompts, streamed, parallel over trials.
 *
 * Each trial owns its random stream, its token block and its stream
 * state, and writes only its own rows of the outputs, so the schedule
 * cannot change a single bit of the results.
 *
 * Per block of SL_ENGINE_BLOCK tokens the work is: the white tokens
 * (vectorised normals, normal_fast.h), their scores as one matrix-vector
 * product, their weights against the block's maximum by one vector exp
 * (vexp.h), and one sl_stream_push_weighted, which summarises the block
 * and merges it into the state with a single rescale.
 */
#include <math.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/engine.h"
#include "engine/vexp.h"
#include "kernels/linalg.h"
#include "kernels/stream.h"

/* Per-thread scratch: a block of white tokens and the stream buffers. */
typedef struct trial_work {
    double *eta;   /* SL_ENGINE_BLOCK x D */
    double *s;     /* SL_ENGINE_BLOCK: the block's scores */
    double *e;     /* SL_ENGINE_BLOCK: their weights exp(s - max) */
    double *push;  /* 2 D + SL_ENGINE_BLOCK: sl_stream_push_weighted's */
    double *mean;  /* D: stream's tilted mean */
    double *comom; /* D: stream's co-moment */
    double *wm;    /* D: white deviation of the mean */
    double *wc;    /* D: white deviation of C_w h */
} trial_work;

/* What every trial of a job shares, in white coordinates. */
typedef struct white_tilt {
    double *t;    /* L^T a */
    double *kdir; /* L^T h */
    double *lam1; /* Lambda'(t): the tilted mean of eta */
    double *q;    /* diag(Lambda''(t)) L^T h: L q = C_a h */
} white_tilt;

double sl_engine_scores(size_t nb, size_t D, const double *eta, const double *t,
                        double *s)
{
    double m0 = -INFINITY, m1 = -INFINITY, m2 = -INFINITY, m3 = -INFINITY;
    size_t j = 0;
    for (; j + 4 <= nb; j += 4) {
        const double *z = eta + j * D;
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        for (size_t k = 0; k < D; k++) {
            s0 += t[k] * z[k];
            s1 += t[k] * z[D + k];
            s2 += t[k] * z[2 * D + k];
            s3 += t[k] * z[3 * D + k];
        }
        s[j] = s0;
        s[j + 1] = s1;
        s[j + 2] = s2;
        s[j + 3] = s3;
        m0 = s0 > m0 ? s0 : m0;
        m1 = s1 > m1 ? s1 : m1;
        m2 = s2 > m2 ? s2 : m2;
        m3 = s3 > m3 ? s3 : m3;
    }
    for (; j < nb; j++) {
        s[j] = sl_dot(D, t, eta + j * D);
        m0 = s[j] > m0 ? s[j] : m0;
    }
    m0 = m1 > m0 ? m1 : m0;
    m2 = m3 > m2 ? m3 : m2;
    return m2 > m0 ? m2 : m0;
}

/* One trial: push n tokens; leave etabar - Lambda'(t) in w->wm and
 * comom / wsum - q in w->wc. */
static void run_trial(const sl_mc_job *job, const white_tilt *wt,
                      uint64_t trial, trial_work *w)
{
    const sl_measure *mu = job->mu;
    size_t D = mu->dim;
    sl_rng rng;
    sl_stream st;

    /* 1. This trial's stream and an empty state. */
    sl_rng_init(&rng, job->seed, (job->job << 32) | trial);
    sl_stream_init(&st, D, w->mean, wt->kdir, w->comom);

    /* 2. Tokens in blocks: draw, score, weigh, push, forget. */
    for (uint64_t i = 0; i < job->n; i += SL_ENGINE_BLOCK) {
        size_t nb = job->n - i < SL_ENGINE_BLOCK ? (size_t)(job->n - i)
                                                 : SL_ENGINE_BLOCK;
        sl_measure_draw_white(mu, &rng, nb, w->eta);
        double smax = 0.0;
        if (job->fault == SL_FAULT_SCORES) {
            for (size_t j = 0; j < nb; j++)
                w->s[j] = 0.0;
        } else {
            smax = sl_engine_scores(nb, D, w->eta, wt->t, w->s);
        }
        sl_vexp_shift(nb, w->s, smax, w->e);
        sl_stream_push_weighted(&st, nb, smax, w->e, w->eta, w->push);
    }

    /* 3. Deviations in white coordinates. */
    for (size_t k = 0; k < D; k++) {
        w->wm[k] = w->mean[k] - wt->lam1[k];
        w->wc[k] = w->comom[k] / st.wsum - wt->q[k];
    }
}

sl_status sl_mc_run(const sl_mc_job *job, double *dmean, double *dcov)
{
    const sl_measure *mu = job->mu;
    size_t D = mu->dim;
    if (job->n == 0 || job->trials == 0 || job->trials > (UINT64_C(1) << 32))
        return SL_EINVAL;

    /* 1. The tilt in white coordinates. */
    double *shared = malloc(4 * D * sizeof(double));
    if (shared == NULL)
        return SL_ENOMEM;
    white_tilt wt = {shared, shared + D, shared + 2 * D, shared + 3 * D};
    sl_matvec_t(D, D, mu->chol, job->a, wt.t);
    sl_matvec_t(D, D, mu->chol, job->h, wt.kdir);
    for (size_t k = 0; k < D; k++) {
        wt.lam1[k] = sl_law_tmean(&mu->law, wt.t[k]);
        wt.q[k] = sl_law_tvar(&mu->law, wt.t[k]) * wt.kdir[k];
    }

    /* 2. Trials in parallel, each writing only its own rows, mapped back
     *    to token coordinates by L. */
    int failed = 0;
    uint64_t done = 0;
    int nt = job->threads >= 1 ? (int)job->threads : 1;
#pragma omp parallel num_threads(nt) reduction(| : failed)
    {
        trial_work w;
        size_t B = SL_ENGINE_BLOCK;
        double *buf = malloc(((B + 6) * D + 3 * B) * sizeof(double));
        if (buf == NULL)
            failed = 1;
        w.eta = buf;
        w.s = w.eta + B * D;
        w.e = w.s + B;
        w.push = w.e + B;
        w.mean = w.push + 2 * D + B;
        w.comom = w.mean + D;
        w.wm = w.comom + D;
        w.wc = w.wm + D;
#pragma omp for schedule(dynamic, 1)
        for (uint64_t k = 0; k < job->trials; k++) {
            if (buf == NULL)
                continue;
            run_trial(job, &wt, k, &w);
            sl_matvec(D, D, mu->chol, w.wm, dmean + k * D);
            sl_matvec(D, D, mu->chol, w.wc, dcov + k * D);
            if (job->progress != NULL) {
#pragma omp critical(sl_engine_progress)
                {
                    done += job->n;
                    job->progress(job->progress_ctx, done);
                }
            }
        }
        free(buf);
    }
    free(shared);
    return failed ? SL_ENOMEM : SL_OK;
}
