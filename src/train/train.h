/* train.h -- gradient descent at finite and infinite prompt length.
 *
 * From one initial point theta_0, runs in lockstep (spec/TRAINING.md):
 *
 *   exact     theta_inf(t+1) = theta_inf(t) - lr grad L_inf(theta_inf(t))
 *   finite    one per n of the grid: the same step with a Monte Carlo
 *             estimate of grad L_n on B fresh prompts of n tokens
 *   replicate the largest n again on other prompts: the noise floor
 *   control   one per n: the finite runs with every score set to 0 (a
 *             wrong kernel), which must break the gap's rate claim
 *
 * The estimate of grad L_n uses, by default, the exact infinite-prompt
 * gradient as a control variate:
 *
 *   G_n = grad L_inf(theta) + (1/B) sum_b (grad l_n,b - grad l_inf,b),
 *
 * unbiased for grad L_n, whose noise vanishes with n; every n and every
 * control share the prompts of each step (common random numbers: prompt b
 * of step t is the stream (seed, t 2^32 + b), and the first n tokens of a
 * prompt are the same for every n).  Prompts run in parallel (OpenMP);
 * per-prompt results are summed in prompt order, so runs are bit-identical
 * for any thread count.
 *
 * Then the verdict rows of result.h: at every checkpoint of the finite run
 * at the largest n, the concentration and gradient checks of checks.h at
 * theta_t on fresh prompts of that length (check "stability", sweep = the
 * step; the largest n is where the bounds apply and bite, as in the
 * default grids of `softlin check`); the trajectory gap
 * sup_t |theta_n(t) - theta_inf(t)| per n (check "gap", class rate) with
 * its log-log fit (claim slope <= -1/2 + tol) and the fit of the control
 * runs (which must FAIL); the excess risk L_inf(theta_n(K)) - min L_inf
 * per n (check "excess", class reference).
 */
#ifndef SOFTLIN_TRAIN_H
#define SOFTLIN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "engine/result.h"
#include "status.h"
#include "train/icl.h"

/* Most steps and prompts per step (stream ids: step 2^32 + prompt). */
#define SL_TRAIN_MAX_STEPS   (UINT64_C(1) << 30)
#define SL_TRAIN_MAX_PROMPTS (UINT64_C(1) << 32)

/* A run diverges when L_inf exceeds SL_TRAIN_DIVERGE_RATIO times
 * max(1, L_inf(theta_0)), when E a^T S a exceeds SL_TRAIN_MAX_QUAD (kappa
 * beyond e^200: attention has collapsed onto one token), or when a value
 * stops being finite. */
#define SL_TRAIN_DIVERGE_RATIO 1e6
#define SL_TRAIN_MAX_QUAD      200.0

/* Steps of the exact run continued past K to find min L_inf when it has no
 * closed form (non-Gaussian tokens), and the gradient norm that stops it. */
#define SL_TRAIN_MIN_STEPS     20000
#define SL_TRAIN_MIN_GRAD_NORM 1e-12

/* Monte Carlo draws of each reference quantile in the stability checks. */
#define SL_TRAIN_REF_DRAWS 20000

typedef enum sl_train_estimator {
    SL_TRAIN_CV,   /* control variate: noise O((n B)^-1/2) */
    SL_TRAIN_PLAIN /* (1/B) sum_b grad l_n,b: noise O(B^-1/2) */
} sl_train_estimator;

typedef enum sl_train_kind {
    SL_TRAIN_EXACT,
    SL_TRAIN_FINITE,
    SL_TRAIN_REPLICATE,
    SL_TRAIN_CONTROL
} sl_train_kind;

/* Receives (tokens done, tokens in the whole run), from one thread. */
typedef void (*sl_train_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct sl_train_cfg {
    const sl_icl *model;
    const uint64_t *ns; /* prompt lengths, increasing, >= 1 */
    size_t nn;
    uint64_t prompts; /* B per step, 1 .. SL_TRAIN_MAX_PROMPTS */
    uint64_t steps;   /* K, 1 .. SL_TRAIN_MAX_STEPS */
    double lr;        /* step size, > 0 */
    double init_scale;
    double balance; /* |v|^2 - |B|_F^2 at the start (section 5) */
    uint64_t seed;
    unsigned threads;
    sl_train_estimator estimator;
    int fault;     /* SL_FAULT_* (engine.h) for the finite runs and checks */
    int control;   /* 1: run the control runs and their fit */
    int replicate; /* 1: run the replicate at the largest n */
    size_t checkpoints; /* C: stability checks at steps c K / C, c = 0..C;
                           0 for none */
    uint64_t trials;    /* prompts per stability check */
    double delta, alpha, rate_tol, paper_C, paper_c;
    sl_train_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} sl_train_cfg;

/* One run at one step t.  The batch fields describe the gradient estimate
 * that moves theta(t) to theta(t+1): NaN for the exact run and at t = K. */
typedef struct sl_train_point {
    double loss_inf;   /* L_inf(theta(t)), exact */
    double loss_batch; /* mean finite-prompt loss over the B prompts */
    double gap;        /* |theta(t) - theta_inf(t)| */
    double quad;       /* E a^T S_beta a; kappa_t = exp(quad) */
    double conserved;  /* |v|^2 - |B|_F^2 */
    double out_dev;    /* mean |yhat_n - yhat_inf| over the batch */
    double grad_dev;   /* mean |grad l_n - grad l_inf| over the batch */
    double grad_se;    /* standard error of the gradient estimate */
    double grad_norm;  /* |gradient used| */
} sl_train_point;

typedef struct sl_train_run {
    sl_train_kind kind;
    uint64_t n;           /* prompt length; 0 for the exact run */
    sl_train_point *traj; /* K + 1 points; those after steps_done unset */
    uint64_t steps_done;  /* K, or the last step before a control run left
                             the region (its wrong kernel diverged) */
    double *theta;        /* P: theta(K); for a stopped control run, the
                             value that diverged */
    double sup_gap;       /* max_t gap */
    double excess;        /* L_inf(theta(K)) - min L_inf */
    double sup_kappa;     /* max over checkpoints of kappa at the
                             checkpoint's query; NaN without checks
                             (only the run at the largest n has them) */
} sl_train_run;

typedef struct sl_train_result {
    size_t P;            /* parameters */
    size_t nruns;        /* runs[0] is the exact run */
    sl_train_run *runs;  /* exact, finite (nn), replicate, controls (nn) */
    double *theta0;      /* P */
    double risk_min;     /* min L_inf */
    int risk_min_closed; /* 1: closed form; 0: reached by the exact run */
    double noise_theta;  /* sup_t |theta_rep - theta_nmax| / sqrt 2 */
    double noise_grad;   /* mean over steps of grad_se at the largest n */
    double sup_kappa;    /* max over the checkpoints */
    double sup_quad;     /* a^T S a there */
    double excess_slope; /* log-log slope of the finite runs' excess */
    double excess_se;    /* and its standard error (NaN: no fit) */
    /* Divergence (the status is then SL_EINVAL): */
    int diverged;
    sl_train_kind div_kind;
    uint64_t div_n, div_step;
    double div_loss, div_loss0;
} sl_train_result;

/* Run everything; rows and fits are appended to table, trajectories left
 * in res (free with sl_train_result_free, also after a failure).
 * SL_EINVAL for a configuration out of range or a diverging exact, finite
 * or replicate run (res->diverged set); SL_ENOMEM.  A control run that
 * diverges is stopped, and its gap taken up to there. */
sl_status sl_train(const sl_train_cfg *cfg, sl_table *table,
                   sl_train_result *res);
void sl_train_result_free(sl_train_result *res);

/* "exact", "finite", "replicate", "control". */
const char *sl_train_kind_str(sl_train_kind k);

/* The initial point drawn from the seed (spec/TRAINING.md section 5):
 * matrix entries init_scale N(0, 1 / d), v_x entries init_scale
 * N(0, 1 / D), and v_y >= 0 chosen so that the conserved quantity
 * |v|^2 - |B|_F^2 equals balance (v_y = 0 when it cannot).  The exact
 * reduced flow then ends where v_y Gamma = I with v_y^2 =
 * (balance + sqrt(balance^2 + 4 d)) / 2.  theta0: P doubles. */
void sl_train_init_theta(const sl_icl *m, uint64_t seed, double init_scale,
                         double balance, double *theta0);

#endif
