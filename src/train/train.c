/* train.c -- the training runs, their statistics and their verdicts.
 *
 * Five phases: (1) the exact run, alone, so that a step size that makes
 * gradient descent on L_inf diverge is caught before any Monte Carlo;
 * (2) min L_inf; (3) the Monte Carlo runs in lockstep, one parallel pass
 * over the prompts per step; (4) the stability checks at the checkpoints;
 * (5) rows and fits.
 *
 * Phase 3's hot loop draws each prompt's tokens once, in blocks, and
 * pushes token i into the stream state of every run of that prompt group
 * whose n exceeds i: the runs see the same tokens (common random numbers),
 * and drawing costs O(n_max) per prompt however many runs there are.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "catalogue.h"
#include "engine/checks.h"
#include "engine/engine.h"
#include "engine/stats.h"
#include "kernels/linalg.h"
#include "kernels/stream.h"
#include "train/train.h"

/* Stream ids under the run's seed (rng.h): prompt b of step t in group g
 * (0: the finite and control runs, 1: the replicate); the checkpoints'
 * (beta, x_q); the initial point. */
#define STREAM_PROMPT(g, t, b)                                                 \
    (((uint64_t)(g) << 62) | ((uint64_t)(t) << 32) | (uint64_t)(b))
#define STREAM_CKPT(c) ((UINT64_C(2) << 62) | (uint64_t)(c))
#define STREAM_INIT    (UINT64_C(3) << 62)

/* Smallest standard deviation of a log sup-gap given to the fits: with
 * one to three residual degrees of freedom three points can lie on a line
 * by chance, while the relative noise of a sup gap measured between
 * independent replicates is 0.1 to 0.7 (spec/TRAINING.md section 7). */
#define GAP_SE_FLOOR 0.1

/* Per (Monte Carlo run, prompt): grad l_n (P), grad l_inf (P), l_n,
 * l_inf, |yhat_n - yhat_inf|. */
#define OUT_STRIDE(P) (2 * (P) + 3)

const char *sl_train_kind_str(sl_train_kind k)
{
    switch (k) {
    case SL_TRAIN_EXACT:
        return "exact";
    case SL_TRAIN_FINITE:
        return "finite";
    case SL_TRAIN_REPLICATE:
        return "replicate";
    case SL_TRAIN_CONTROL:
        return "control";
    }
    return "unknown";
}

/* splitmix64: independent seeds for the stability checks. */
static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static double norm2(size_t n, const double *v)
{
    return sqrt(sl_dot(n, v, v));
}

static double dist2(size_t n, const double *u, const double *v)
{
    double acc = 0.0;
    for (size_t i = 0; i < n; i++)
        acc += (u[i] - v[i]) * (u[i] - v[i]);
    return sqrt(acc);
}

void sl_train_init_theta(const sl_icl *m, uint64_t seed, double init_scale,
                         double balance, double *theta0)
{
    size_t d = m->d, D = d + 1;
    sl_rng r;
    sl_rng_init(&r, seed, STREAM_INIT);
    if (m->param == SL_ICL_REDUCED) {
        double *G = theta0 + 1;
        sl_rng_normal(&r, d * d, G);
        for (size_t i = 0; i < d * d; i++)
            G[i] *= init_scale / sqrt((double)d);
        double vy2 = sl_dot(d * d, G, G) + balance;
        theta0[0] = vy2 > 0.0 ? sqrt(vy2) : 0.0;
        return;
    }
    double *v = theta0, *B = theta0 + D;
    sl_rng_normal(&r, D * d, B);
    for (size_t i = 0; i < D * d; i++)
        B[i] *= init_scale / sqrt((double)d);
    sl_rng_normal(&r, d, v);
    for (size_t i = 0; i < d; i++)
        v[i] *= init_scale / sqrt((double)D);
    double vy2 = sl_dot(D * d, B, B) - sl_dot(d, v, v) + balance;
    v[d] = vy2 > 0.0 ? sqrt(vy2) : 0.0;
}

/* ---- Results ------------------------------------------------------------- */

void sl_train_result_free(sl_train_result *res)
{
    if (res->runs != NULL)
        for (size_t r = 0; r < res->nruns; r++) {
            free(res->runs[r].traj);
            free(res->runs[r].theta);
        }
    free(res->runs);
    free(res->theta0);
    res->runs = NULL;
    res->theta0 = NULL;
    res->nruns = 0;
}

static sl_status result_alloc(const sl_train_cfg *cfg, size_t P,
                              sl_train_result *res)
{
    size_t nruns =
        1 + cfg->nn + (cfg->replicate ? 1 : 0) + (cfg->control ? cfg->nn : 0);
    res->P = P;
    res->runs = calloc(nruns, sizeof *res->runs);
    res->theta0 = malloc(P * sizeof(double));
    if (res->runs == NULL || res->theta0 == NULL)
        return SL_ENOMEM;
    res->nruns = nruns;
    for (size_t r = 0; r < nruns; r++) {
        sl_train_run *run = &res->runs[r];
        if (r == 0) {
            run->kind = SL_TRAIN_EXACT;
        } else if (r <= cfg->nn) {
            run->kind = SL_TRAIN_FINITE;
            run->n = cfg->ns[r - 1];
        } else if (cfg->replicate && r == cfg->nn + 1) {
            run->kind = SL_TRAIN_REPLICATE;
            run->n = cfg->ns[cfg->nn - 1];
        } else {
            run->kind = SL_TRAIN_CONTROL;
            run->n = cfg->ns[r - 1 - cfg->nn - (cfg->replicate ? 1 : 0)];
        }
        run->traj = malloc((cfg->steps + 1) * sizeof *run->traj);
        run->steps_done = cfg->steps;
        run->theta = malloc(P * sizeof(double));
        run->sup_kappa = NAN;
        if (run->traj == NULL || run->theta == NULL)
            return SL_ENOMEM;
    }
    return SL_OK;
}

/* Record theta(t) of one run at step t; 1 when the run has diverged. */
static int record(const sl_icl *m, const double *theta, double loss,
                  const double *theta_inf, double loss0, sl_train_point *pt)
{
    size_t P = sl_icl_nparams(m);
    pt->loss_inf = loss;
    pt->gap = dist2(P, theta, theta_inf);
    pt->quad = sl_icl_quad(m, theta);
    pt->conserved = sl_icl_conserved(m, theta);
    pt->loss_batch = pt->out_dev = pt->grad_dev = NAN;
    pt->grad_se = pt->grad_norm = NAN;
    int finite = isfinite(loss) && isfinite(pt->gap) && isfinite(pt->quad);
    return !finite || loss > SL_TRAIN_DIVERGE_RATIO * fmax(1.0, loss0) ||
           pt->quad > SL_TRAIN_MAX_QUAD;
}

static void diverged(sl_train_result *res, const sl_train_run *run, uint64_t t,
                     double loss)
{
    res->diverged = 1;
    res->div_kind = run->kind;
    res->div_n = run->n;
    res->div_step = t;
    res->div_loss = loss;
    res->div_loss0 = run->traj[0].loss_inf;
}

/* ---- Phase 3: one step's prompts, in parallel ---------------------------- */

typedef struct mc_step {
    const sl_train_cfg *cfg;
    const sl_icl *m;
    size_t P, D, d;
    size_t nmc;               /* Monte Carlo runs: res->runs[1 .. nmc] */
    const sl_train_run *runs; /* res->runs + 1 */
    const double *vB;         /* per run: v (D), then B (D x d) */
    double *out;              /* per (run, prompt): OUT_STRIDE(P) */
    uint64_t nmax[2];         /* longest prompt of each group */
    uint64_t t;
} mc_step;

/* Per-thread scratch. */
typedef struct mc_work {
    double *Z, *beta, *xq, *dv, *dB, *work;
    double *a, *mean, *comom; /* per run: D each */
    sl_stream *st;            /* per run */
} mc_work;

/* The prompt group of a run, or -1 once it has stopped. */
static int run_group(const sl_train_run *run, uint64_t t)
{
    if (run->steps_done < t)
        return -1;
    return run->kind == SL_TRAIN_REPLICATE ? 1 : 0;
}

static int run_fault(const mc_step *s, const sl_train_run *run)
{
    return run->kind == SL_TRAIN_CONTROL ? SL_FAULT_SCORES : s->cfg->fault;
}

/* Prompt b of group g: every run of the group on the same tokens.
 * SL_ENOMEM when the prompt's measure cannot be set up. */
static sl_status one_prompt(const mc_step *s, uint64_t b, int g, mc_work *w)
{
    const sl_icl *m = s->m;
    size_t D = s->D, d = s->d, P = s->P, B = (size_t)s->cfg->prompts;
    sl_rng rng;
    sl_measure mu;
    double yq;

    /* 1. The prompt's beta, query and target, and its token measure. */
    sl_rng_init(&rng, s->cfg->seed, STREAM_PROMPT(g, s->t, b));
    sl_icl_draw_prompt(m, &rng, w->beta, w->xq, &yq);
    if (sl_icl_measure(m, w->beta, &mu) != SL_OK)
        return SL_ENOMEM;

    /* 2. Each run's tilt a = B x_q and an empty stream with h = v. */
    for (size_t r = 0; r < s->nmc; r++) {
        if (run_group(&s->runs[r], s->t) != g)
            continue;
        const double *v = s->vB + r * (D + D * d), *Bm = v + D;
        sl_matvec(D, d, Bm, w->xq, w->a + r * D);
        sl_stream_init(&w->st[r], D, w->mean + r * D, v, w->comom + r * D);
    }

    /* 3. Tokens in blocks, each pushed into every run that is still
     *    reading its prompt. */
    for (uint64_t i0 = 0; i0 < s->nmax[g]; i0 += SL_ICL_BLOCK) {
        sl_icl_draw_tokens(m, &rng, w->beta, w->Z);
        for (size_t r = 0; r < s->nmc; r++) {
            const sl_train_run *run = &s->runs[r];
            if (run_group(run, s->t) != g || run->n <= i0)
                continue;
            uint64_t left = run->n - i0;
            size_t cnt = left < SL_ICL_BLOCK ? (size_t)left : SL_ICL_BLOCK;
            const double *a = w->a + r * D;
            int zero = run_fault(s, run) == SL_FAULT_SCORES;
            for (size_t j = 0; j < cnt; j++) {
                const double *z = w->Z + j * D;
                sl_stream_push(&w->st[r], zero ? 0.0 : sl_dot(D, a, z), z);
            }
        }
    }

    /* 4. Finite and infinite losses and gradients of every run. */
    for (size_t r = 0; r < s->nmc; r++) {
        if (run_group(&s->runs[r], s->t) != g)
            continue;
        const double *v = s->vB + r * (D + D * d);
        double *o = s->out + (r * B + (size_t)b) * OUT_STRIDE(P);
        double yn, yi;
        o[2 * P] =
            sl_icl_prompt_finish(m, &w->st[r], v, w->xq, yq, &yn, w->dv, w->dB);
        sl_icl_project(m, w->dv, w->dB, o);
        o[2 * P + 1] = sl_icl_prompt_inf(m, &mu, v, w->a + r * D, w->xq, yq,
                                         &yi, w->dv, w->dB, w->work);
        sl_icl_project(m, w->dv, w->dB, o + P);
        o[2 * P + 2] = fabs(yn - yi);
    }
    sl_measure_free(&mu);
    return SL_OK;
}

static sl_status mc_prompts(const mc_step *s, int groups)
{
    size_t D = s->D, d = s->d, nmc = s->nmc;
    size_t len = SL_ICL_BLOCK * D + 2 * d + D + D * d + sl_icl_work_len(s->m) +
                 3 * nmc * D;
    int failed = 0;
    int nt = s->cfg->threads >= 1 ? (int)s->cfg->threads : 1;
#pragma omp parallel num_threads(nt) reduction(| : failed)
    {
        mc_work w;
        memset(&w, 0, sizeof w);
        double *buf = malloc(len * sizeof(double));
        w.st = malloc(nmc * sizeof(sl_stream));
        if (buf == NULL || w.st == NULL)
            failed = 1;
        if (buf != NULL) {
            w.Z = buf;
            w.beta = w.Z + SL_ICL_BLOCK * D;
            w.xq = w.beta + d;
            w.dv = w.xq + d;
            w.dB = w.dv + D;
            w.work = w.dB + D * d;
            w.a = w.work + sl_icl_work_len(s->m);
            w.mean = w.a + nmc * D;
            w.comom = w.mean + nmc * D;
        }
#pragma omp for schedule(dynamic, 1)
        for (uint64_t b = 0; b < s->cfg->prompts; b++) {
            if (buf == NULL || w.st == NULL)
                continue;
            for (int g = 0; g < groups; g++)
                if (one_prompt(s, b, g, &w) != SL_OK)
                    failed = 1;
        }
        free(w.st);
        free(buf);
    }
    return failed ? SL_ENOMEM : SL_OK;
}

/* The gradient estimate of one run from its prompts, in prompt order, and
 * the batch statistics of its point.  grad_inf is grad L_inf(theta). */
static void reduce_run(const mc_step *s, size_t r, const double *grad_inf,
                       double *G, double *acc, sl_train_point *pt)
{
    size_t P = s->P, B = (size_t)s->cfg->prompts;
    int cv = s->cfg->estimator == SL_TRAIN_CV;
    const double *base = s->out + r * B * OUT_STRIDE(P);
    double loss = 0.0, odev = 0.0, gdev = 0.0, var = 0.0;

    /* 1. Means: the estimate's per-prompt terms, losses, deviations. */
    memset(acc, 0, P * sizeof(double));
    for (size_t b = 0; b < B; b++) {
        const double *o = base + b * OUT_STRIDE(P);
        for (size_t j = 0; j < P; j++)
            acc[j] += cv ? o[j] - o[P + j] : o[j];
        loss += o[2 * P];
        odev += o[2 * P + 2];
        gdev += dist2(P, o, o + P);
    }
    for (size_t j = 0; j < P; j++)
        acc[j] /= (double)B;

    /* 2. The standard error of the estimate, sqrt(sum_j var_j / B). */
    for (size_t b = 0; b < B; b++) {
        const double *o = base + b * OUT_STRIDE(P);
        for (size_t j = 0; j < P; j++) {
            double c = (cv ? o[j] - o[P + j] : o[j]) - acc[j];
            var += c * c;
        }
    }

    /* 3. G = grad L_inf + mean correction (cv), or the mean. */
    for (size_t j = 0; j < P; j++)
        G[j] = acc[j] + (cv ? grad_inf[j] : 0.0);
    pt->loss_batch = loss / (double)B;
    pt->out_dev = odev / (double)B;
    pt->grad_dev = gdev / (double)B;
    pt->grad_se = B > 1 ? sqrt(var / (double)(B - 1) / (double)B) : (double)NAN;
    pt->grad_norm = norm2(P, G);
}

/* ---- Phases 1 to 3 ------------------------------------------------------- */

/* Phase 1: the exact run; its thetas (K + 1) x P into path. */
static sl_status exact_run(const sl_train_cfg *cfg, sl_train_result *res,
                           double *path, double *grad, double *work)
{
    const sl_icl *m = cfg->model;
    size_t P = res->P;
    sl_train_run *run = &res->runs[0];
    double loss0 = NAN;

    memcpy(path, res->theta0, P * sizeof(double));
    for (uint64_t t = 0; t <= cfg->steps; t++) {
        double *th = path + t * P;
        double loss = sl_icl_risk(m, th, grad, work);
        if (t == 0)
            loss0 = loss;
        int bad = record(m, th, loss, th, loss0, &run->traj[t]);
        for (size_t j = 0; j < P && !bad; j++)
            bad = !isfinite(grad[j]);
        if (bad) {
            diverged(res, run, t, loss);
            return SL_EINVAL;
        }
        if (t == cfg->steps)
            break;
        for (size_t j = 0; j < P; j++)
            th[P + j] = th[j] - cfg->lr * grad[j];
    }
    memcpy(run->theta, path + cfg->steps * P, P * sizeof(double));
    return SL_OK;
}

/* Phase 2: min L_inf, closed or reached by continuing the exact run. */
static void risk_min(const sl_train_cfg *cfg, sl_train_result *res,
                     double *theta, double *grad, double *work)
{
    const sl_icl *m = cfg->model;
    size_t P = res->P;
    res->risk_min = sl_icl_risk_min(m);
    res->risk_min_closed = isfinite(res->risk_min);
    if (res->risk_min_closed)
        return;
    memcpy(theta, res->runs[0].theta, P * sizeof(double));
    double best = INFINITY;
    for (int k = 0; k < SL_TRAIN_MIN_STEPS; k++) {
        double loss = sl_icl_risk(m, theta, grad, work);
        if (!isfinite(loss))
            break;
        best = fmin(best, loss);
        if (norm2(P, grad) < SL_TRAIN_MIN_GRAD_NORM)
            break;
        for (size_t j = 0; j < P; j++)
            theta[j] -= cfg->lr * grad[j];
    }
    res->risk_min = best;
}

static int is_checkpoint(const sl_train_cfg *cfg, uint64_t t, size_t *c)
{
    for (size_t k = 0; k <= cfg->checkpoints; k++) {
        if (t == (uint64_t)k * cfg->steps / cfg->checkpoints) {
            *c = k;
            return 1;
        }
    }
    return 0;
}

/* Phase 3: the Monte Carlo runs in lockstep.  ckpt receives theta at
 * each checkpoint of the finite run at the largest n: (C + 1) x P. */
static sl_status mc_runs(const sl_train_cfg *cfg, sl_train_result *res,
                         const double *path, double *ckpt, uint64_t total)
{
    const sl_icl *m = cfg->model;
    size_t P = res->P, d = m->d, D = d + 1, nmc = res->nruns - 1;
    size_t B = (size_t)cfg->prompts, C = cfg->checkpoints;
    sl_status st = SL_OK;

    /* 1. Scratch: thetas, embeddings, per-prompt outputs. */
    double *theta = malloc(nmc * P * sizeof(double));
    double *vB = malloc(nmc * (D + D * d) * sizeof(double));
    double *out = malloc(nmc * B * OUT_STRIDE(P) * sizeof(double));
    double *gi = malloc((3 * P + sl_icl_work_len(m)) * sizeof(double));
    if (theta == NULL || vB == NULL || out == NULL || gi == NULL) {
        free(theta);
        free(vB);
        free(out);
        free(gi);
        return SL_ENOMEM;
    }
    double *G = gi + P, *acc = G + P, *work = acc + P;
    mc_step s = {cfg, m, P, D, d, nmc, res->runs + 1, vB, out, {0, 0}, 0};
    uint64_t per_step = 0;
    for (size_t r = 0; r < nmc; r++) {
        const sl_train_run *run = &res->runs[1 + r];
        int g = run_group(run, 0);
        s.nmax[g] = run->n > s.nmax[g] ? run->n : s.nmax[g];
        per_step += run->n * B;
        memcpy(theta + r * P, res->theta0, P * sizeof(double));
    }
    int groups = cfg->replicate ? 2 : 1;
    double loss0 = res->runs[0].traj[0].loss_inf;
    size_t top = cfg->nn - 1, rep = cfg->nn; /* indices among the nmc */
    if (cfg->replicate)
        res->noise_theta = 0.0;

    for (uint64_t t = 0; t <= cfg->steps && st == SL_OK; t++) {
        /* 2. Record theta(t); checkpoints; embeddings for the prompts. */
        size_t c = 0;
        int ck = C > 0 && is_checkpoint(cfg, t, &c);
        for (size_t r = 0; r < nmc; r++) {
            sl_train_run *run = &res->runs[1 + r];
            double *th = theta + r * P;
            if (run->steps_done < t)
                continue;
            double loss = sl_icl_risk(m, th, NULL, work);
            if (record(m, th, loss, path + t * P, loss0, &run->traj[t])) {
                if (run->kind == SL_TRAIN_CONTROL) {
                    run->steps_done = t - 1;
                    continue;
                }
                diverged(res, run, t, loss);
                st = SL_EINVAL;
                break;
            }
            if (ck && r == top)
                memcpy(ckpt + c * P, th, P * sizeof(double));
            sl_icl_embed(m, th, vB + r * (D + D * d), vB + r * (D + D * d) + D);
        }
        if (st == SL_OK && cfg->replicate)
            res->noise_theta =
                fmax(res->noise_theta,
                     dist2(P, theta + top * P, theta + rep * P) / sqrt(2.0));
        if (st != SL_OK || t == cfg->steps)
            break;

        /* 3. The prompts of step t, then each run's step. */
        s.t = t;
        st = mc_prompts(&s, groups);
        for (size_t r = 0; r < nmc && st == SL_OK; r++) {
            double *th = theta + r * P;
            if (res->runs[1 + r].steps_done < t)
                continue;
            sl_icl_risk(m, th, gi, work);
            reduce_run(&s, r, gi, G, acc, &res->runs[1 + r].traj[t]);
            for (size_t j = 0; j < P; j++)
                th[j] -= cfg->lr * G[j];
        }
        if (cfg->progress != NULL)
            cfg->progress(cfg->progress_ctx, (t + 1) * per_step, total);
    }
    for (size_t r = 0; r < nmc && st == SL_OK; r++)
        memcpy(res->runs[1 + r].theta, theta + r * P, P * sizeof(double));
    free(theta);
    free(vB);
    free(out);
    free(gi);
    return st;
}

/* ---- Phase 4: stability checks ------------------------------------------- */

typedef struct check_progress {
    const sl_train_cfg *cfg;
    uint64_t offset, total;
} check_progress;

static void on_check_progress(void *ctx, uint64_t done, uint64_t total)
{
    check_progress *cp = ctx;
    (void)total;
    cp->cfg->progress(cp->cfg->progress_ctx, cp->offset + done, cp->total);
}

/* Copy src's rows into dst as "stability" rows of step t. */
static sl_status relabel(const sl_table *src, uint64_t t, sl_table *dst)
{
    for (size_t i = 0; i < src->nrows; i++) {
        sl_row row = src->rows[i];
        row.check = "stability";
        row.sweep = (double)t;
        if (sl_table_add_row(dst, &row) != 0)
            return SL_ENOMEM;
    }
    return SL_OK;
}

/* One run at one checkpoint: concentration and gradient checks at theta
 * on the checkpoint's (beta, x_q). */
static sl_status check_point(const sl_train_cfg *cfg, const double *theta,
                             size_t c, sl_train_run *run, check_progress *cp,
                             sl_train_result *res, sl_table *table)
{
    static const char *const names[2] = {"concentration", "gradient"};
    const sl_icl *m = cfg->model;
    size_t d = m->d, D = d + 1;
    double beta[SL_ICL_MAX_DIM], xq[SL_ICL_MAX_DIM], yq, g = 1.0;
    double *v = malloc((D + D * d) * sizeof(double)), *B = v + D;
    sl_measure mu;
    sl_rng rng;
    sl_status st;

    if (v == NULL)
        return SL_ENOMEM;
    sl_rng_init(&rng, cfg->seed, STREAM_CKPT(c));
    sl_icl_draw_prompt(m, &rng, beta, xq, &yq);
    sl_icl_embed(m, theta, v, B);
    st = sl_icl_measure(m, beta, &mu);
    if (st != SL_OK) {
        free(v);
        return st;
    }
    uint64_t step = (uint64_t)c * cfg->steps / cfg->checkpoints;
    for (int k = 0; k < 2 && st == SL_OK; k++) {
        sl_check_cfg cc = {
            .name = names[k],
            .mu = &mu,
            .Dq = d,
            .p = 1,
            .W = B,
            .V = v,
            .x = xq,
            .g = &g,
            .ns = &run->n,
            .nn = 1,
            .trials = cfg->trials,
            .seed = mix64(cfg->seed ^ mix64(((uint64_t)c << 1) | (uint64_t)k)),
            .delta = cfg->delta,
            .alpha = cfg->alpha,
            .paper_C = cfg->paper_C,
            .paper_c = cfg->paper_c,
            .rate_tol = cfg->rate_tol,
            .ref_draws = SL_TRAIN_REF_DRAWS,
            .threads = cfg->threads,
            .dump = NULL,
            .dump_ctx = NULL,
            .progress = cfg->progress != NULL ? on_check_progress : NULL,
            .progress_ctx = cp,
            .fault = cfg->fault};
        sl_table tmp;
        sl_check_info info;
        sl_table_init(&tmp);
        st = sl_check_run(&cc, &tmp, &info);
        if (st == SL_OK)
            st = relabel(&tmp, step, table);
        sl_table_free(&tmp);
        cp->offset += run->n * cfg->trials;
        if (st == SL_OK && !(info.kappa <= run->sup_kappa))
            run->sup_kappa = info.kappa;
        if (st == SL_OK && !(info.kappa <= res->sup_kappa)) {
            res->sup_kappa = info.kappa;
            res->sup_quad = info.quad;
        }
    }
    sl_measure_free(&mu);
    free(v);
    return st;
}

/* ---- Phase 5: rows and fits ---------------------------------------------- */

/* A row that carries a measured value and no bound (verdict N/A). */
static sl_status info_row(sl_table *t, const char *check, const char *target,
                          const char *bound_name, sl_class cls, uint64_t n,
                          uint64_t trials, double value, double reference)
{
    sl_row row;
    memset(&row, 0, sizeof row);
    row.check = check;
    row.target = target;
    row.bound_name = bound_name;
    row.cls = cls;
    row.sweep = NAN;
    row.n = n;
    row.trials = trials;
    row.delta = NAN;
    row.quantile = value;
    row.bound = NAN;
    row.rate = row.cp_low = row.cp_high = NAN;
    row.tightness = NAN;
    row.reference = reference;
    row.constant = NAN;
    row.verdict = SL_NA;
    return sl_table_add_row(t, &row) != 0 ? SL_ENOMEM : SL_OK;
}

/* Least-squares slope of log y on log n over the runs of one kind, y the
 * sup gap or the excess risk, with the classical standard error
 * sigma / sqrt(S_xx).  sigma^2 pools the residual variance (k - 2 degrees
 * of freedom: noise and any bend away from a power law) with, when given,
 * the replicate's (log y_rep - log y_top)^2 / 2 (one more: a direct
 * measure of the noise at the largest n); sigma is floored at
 * GAP_SE_FLOOR.  SL_EINVAL (outputs NaN) with fewer than three lengths or
 * a y that is not positive. */
static sl_status loglog_fit(const sl_train_result *res, sl_train_kind kind,
                            int excess, const sl_train_run *rep, double *slope,
                            double *se)
{
    double lx[64], ly[64], one[64], se1, icpt, top = NAN;
    size_t k = 0;
    *slope = *se = NAN;
    for (size_t r = 0; r < res->nruns && k < 64; r++) {
        const sl_train_run *run = &res->runs[r];
        double y = excess ? run->excess : run->sup_gap;
        if (run->kind != kind)
            continue;
        if (!(y > 0.0) || !isfinite(y))
            return SL_EINVAL;
        lx[k] = log((double)run->n);
        ly[k] = log(y);
        one[k] = 1.0;
        top = ly[k];
        k++;
    }
    if (k < 3 || sl_wls_slope(k, lx, ly, one, slope, &se1, &icpt) != SL_OK)
        return SL_EINVAL;
    double ss = 0.0, dof = (double)(k - 2);
    for (size_t i = 0; i < k; i++) {
        double e = ly[i] - icpt - *slope * lx[i];
        ss += e * e;
    }
    if (rep != NULL && rep->sup_gap > 0.0 && isfinite(rep->sup_gap)) {
        double e = log(rep->sup_gap) - top;
        ss += 0.5 * e * e;
        dof += 1.0;
    }
    *se = se1 * fmax(sqrt(ss / dof), GAP_SE_FLOOR);
    return SL_OK;
}

/* The gap's rate claim over the runs of one kind (none when no fit). */
static sl_status gap_fit(const sl_train_cfg *cfg, const sl_train_result *res,
                         sl_train_kind kind, const sl_train_run *rep,
                         sl_table *t)
{
    sl_fit f;
    memset(&f, 0, sizeof f);
    if (loglog_fit(res, kind, 0, rep, &f.slope, &f.slope_se) != SL_OK)
        return SL_OK;
    f.check = "gap";
    f.target = "theta";
    f.control = kind == SL_TRAIN_CONTROL;
    f.claim = SL_RATE_CLAIM;
    f.tol = cfg->rate_tol;
    f.z = sl_normal_upper(2.0 * cfg->alpha);
    f.verdict =
        f.slope - f.z * f.slope_se > f.claim + f.tol ? SL_FAIL : SL_PASS;
    return sl_table_add_fit(t, &f) != 0 ? SL_ENOMEM : SL_OK;
}

static sl_status add_rows(const sl_train_cfg *cfg, sl_train_result *res,
                          sl_table *t)
{
    sl_status st = SL_OK;
    const sl_train_run *exact = &res->runs[0];
    for (size_t r = 1; r < res->nruns && st == SL_OK; r++) {
        const sl_train_run *run = &res->runs[r];
        if (run->kind != SL_TRAIN_FINITE)
            continue;
        int last = run->n == cfg->ns[cfg->nn - 1];
        st = info_row(t, "gap", "theta", "sup-t", SL_CLASS_RATE, run->n,
                      cfg->prompts, run->sup_gap,
                      last ? res->noise_theta : (double)NAN);
        if (st == SL_OK)
            st = info_row(t, "excess", "risk", "min-risk", SL_CLASS_REFERENCE,
                          run->n, cfg->prompts, run->excess, exact->excess);
    }
    const sl_train_run *rep =
        cfg->replicate ? &res->runs[cfg->nn + 1] : (const sl_train_run *)NULL;
    loglog_fit(res, SL_TRAIN_FINITE, 1, NULL, &res->excess_slope,
               &res->excess_se);
    if (st == SL_OK)
        st = gap_fit(cfg, res, SL_TRAIN_FINITE, rep, t);
    if (st == SL_OK && cfg->control)
        st = gap_fit(cfg, res, SL_TRAIN_CONTROL, NULL, t);
    return st;
}

/* Summaries of every run once the trajectories are complete. */
static void summarise(const sl_train_cfg *cfg, sl_train_result *res)
{
    const sl_train_run *top = NULL;
    for (size_t r = 0; r < res->nruns; r++) {
        sl_train_run *run = &res->runs[r];
        run->sup_gap = 0.0;
        for (uint64_t t = 0; t <= run->steps_done; t++)
            run->sup_gap = fmax(run->sup_gap, run->traj[t].gap);
        run->excess = run->traj[run->steps_done].loss_inf - res->risk_min;
        if (run->kind == SL_TRAIN_FINITE && run->n == cfg->ns[cfg->nn - 1])
            top = run;
    }
    if (top != NULL) {
        double acc = 0.0;
        for (uint64_t t = 0; t < cfg->steps; t++)
            acc += top->traj[t].grad_se;
        res->noise_grad = acc / (double)cfg->steps;
    }
}

/* ---- The whole run ------------------------------------------------------- */

static int valid_cfg(const sl_train_cfg *cfg)
{
    if (cfg->model == NULL || cfg->nn == 0 || cfg->nn > 64 ||
        cfg->prompts == 0 || cfg->prompts > SL_TRAIN_MAX_PROMPTS ||
        cfg->steps == 0 || cfg->steps > SL_TRAIN_MAX_STEPS ||
        !(cfg->lr > 0.0) || !isfinite(cfg->lr) || !(cfg->init_scale >= 0.0) ||
        !isfinite(cfg->init_scale) || !isfinite(cfg->balance) ||
        cfg->checkpoints > cfg->steps)
        return 0;
    if (cfg->checkpoints > 0 &&
        (cfg->trials == 0 || !(cfg->delta > 0.0 && cfg->delta < 1.0) ||
         !(cfg->alpha > 0.0 && cfg->alpha < 1.0)))
        return 0;
    for (size_t i = 0; i < cfg->nn; i++)
        if (cfg->ns[i] == 0 || (i > 0 && cfg->ns[i] <= cfg->ns[i - 1]))
            return 0;
    return 1;
}

sl_status sl_train(const sl_train_cfg *cfg, sl_table *table,
                   sl_train_result *res)
{
    memset(res, 0, sizeof *res);
    res->sup_kappa = res->sup_quad = NAN;
    res->excess_slope = res->excess_se = NAN;
    res->noise_theta = res->noise_grad = NAN;
    if (!valid_cfg(cfg))
        return SL_EINVAL;
    const sl_icl *m = cfg->model;
    size_t P = sl_icl_nparams(m), C = cfg->checkpoints;
    sl_status st = result_alloc(cfg, P, res);
    double *path = malloc((cfg->steps + 1) * P * sizeof(double));
    double *scratch = malloc((2 * P + sl_icl_work_len(m)) * sizeof(double));
    double *ckpt = malloc((C + 1) * P * sizeof(double));
    if (st == SL_OK && (path == NULL || scratch == NULL || ckpt == NULL))
        st = SL_ENOMEM;
    double *grad = scratch, *theta = grad + P, *work = theta + P;

    /* 1-3. The runs. */
    if (st == SL_OK) {
        sl_train_init_theta(m, cfg->seed, cfg->init_scale, cfg->balance,
                            res->theta0);
        st = exact_run(cfg, res, path, grad, work);
    }
    uint64_t per_step = 0, per_check = 2 * cfg->ns[cfg->nn - 1] * cfg->trials;
    for (size_t r = 1; st == SL_OK && r < res->nruns; r++)
        per_step += res->runs[r].n * cfg->prompts;
    uint64_t total = cfg->steps * per_step + (C > 0 ? (C + 1) * per_check : 0);
    if (st == SL_OK)
        st = mc_runs(cfg, res, path, ckpt, total);
    if (st == SL_OK) {
        risk_min(cfg, res, theta, grad, work);
        for (size_t r = 0; r < res->nruns; r++) {
            const sl_train_run *run = &res->runs[r];
            res->risk_min =
                fmin(res->risk_min, run->traj[run->steps_done].loss_inf);
        }
        summarise(cfg, res);
    }

    /* 4. Stability at the checkpoints of the run at the largest n. */
    if (st == SL_OK && C > 0) {
        check_progress cp = {cfg, cfg->steps * per_step, total};
        for (size_t c = 0; c <= C && st == SL_OK; c++)
            st = check_point(cfg, ckpt + c * P, c, &res->runs[cfg->nn], &cp,
                             res, table);
    }

    /* 5. Gap and excess rows, fits. */
    if (st == SL_OK)
        st = add_rows(cfg, res, table);
    free(path);
    free(scratch);
    free(ckpt);
    return st;
}
