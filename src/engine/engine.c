/* engine.c -- Monte Carlo over prompts, streamed, parallel over trials.
 *
 * Each trial owns its random stream, its token block and its stream
 * state, and writes only its own rows of the outputs, so the schedule
 * cannot change a single bit of the results.
 */
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/engine.h"
#include "kernels/linalg.h"
#include "kernels/stream.h"

/* Per-thread scratch: a block of white tokens and the stream buffers. */
typedef struct trial_work {
    double *eta;   /* SL_ENGINE_BLOCK x D */
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

    /* 2. Tokens in blocks: draw, score, push, forget. */
    for (uint64_t i = 0; i < job->n; i += SL_ENGINE_BLOCK) {
        size_t nb = job->n - i < SL_ENGINE_BLOCK ? (size_t)(job->n - i)
                                                 : SL_ENGINE_BLOCK;
        sl_measure_draw_white(mu, &rng, nb, w->eta);
        for (size_t j = 0; j < nb; j++) {
            const double *eta = w->eta + j * D;
            double s =
                job->fault == SL_FAULT_SCORES ? 0.0 : sl_dot(D, wt->t, eta);
            sl_stream_push(&st, s, eta);
        }
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
        double *buf = malloc((SL_ENGINE_BLOCK + 4) * D * sizeof(double));
        if (buf == NULL)
            failed = 1;
        w.eta = buf;
        w.mean = buf + SL_ENGINE_BLOCK * D;
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
