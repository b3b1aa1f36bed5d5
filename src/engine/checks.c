/* checks.c -- from deviations to verdicts.
 *
 * A "setting" is one query with everything its bounds need: the exact
 * limit, the moments of the measure tilted by a and by 2a (measure.h),
 * the rigorous bounds' T and the asymptotic reference quantiles.  Each
 * Monte Carlo job gives, per trial, the deviations of the tilted mean and
 * of C_w h; the three targets follow:
 *
 *   output  |V (zbar - mu_a)|     dV  |g| |zbar - mu_a|
 *   dW      |x| |c_n - C_a h|
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "engine/checks.h"
#include "engine/stats.h"
#include "kernels/linalg.h"

/* Stream numbers of the jobs (engine.h): fixed per check and index. */
#define JOB_BASE      0u    /* + index of n: concentration, gradient, rate */
#define JOB_LINEARITY 1000u /* + index of the query scale */
#define JOB_KAPPA     2000u /* + index of the kappa target */
#define REF_STREAM    0x5eedu

/* Smallest standard error given to a log quantile in the rate fit: keeps
 * a degenerate interval (all trials equal) from taking all the weight. */
#define SL_RATE_SE_FLOOR 1e-3

static const double linearity_scales[] = {-1.0, -0.5, 0.0, 0.5, 1.0};
static const double kappa_quads[] = {0.25, 0.5, 1.0, 2.0, 3.0};
#define NSCALES (sizeof linearity_scales / sizeof linearity_scales[0])
#define NQUADS  (sizeof kappa_quads / sizeof kappa_quads[0])

/* One query and what its bounds need. */
typedef struct setting {
    double *xq, *a, *h, *mu_a, *cov_a, *F_inf, *aff, *work;
    double *sig_mean, *sig_cov, *sig_out;
    double quad, kappa, T_out, T_mean, T_cov, T_r;
    double ref_out, ref_mean, ref_cov; /* reference quantiles at n = 1 */
    double gnorm, hnorm, xnorm;
} setting;

/* Per-job scratch: deviations of every trial. */
typedef struct devs {
    double *dmean, *dcov;  /* T x D */
    double *out, *dv, *dw; /* T each */
    double *sorted;        /* T */
    double *raw;           /* p */
} devs;

typedef struct run {
    const sl_check_cfg *cfg;
    sl_table *table;
    uint64_t done, total;
} run;

static double norm2(size_t n, const double *v)
{
    return sqrt(sl_dot(n, v, v));
}

static void *alloc_doubles(size_t n)
{
    return malloc((n > 0 ? n : 1) * sizeof(double));
}

/* A = (A + A^T) / 2: the moment matrices are symmetric in exact
 * arithmetic, and rounding must not make them look otherwise. */
static void symmetrize(size_t n, double *A)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            A[i * n + j] = A[j * n + i] = 0.5 * (A[i * n + j] + A[j * n + i]);
}

static void setting_free(setting *s)
{
    free(s->xq);
    s->xq = NULL;
}

static sl_status setting_alloc(setting *s, size_t D, size_t Dq, size_t p)
{
    size_t total = Dq + 6 * D + 2 * p + 3 * D * D + p * p;
    double *b = alloc_doubles(total);
    if (b == NULL)
        return SL_ENOMEM;
    s->xq = b;
    s->a = s->xq + Dq;
    s->h = s->a + D;
    s->mu_a = s->h + D;
    s->work = s->mu_a + D; /* 3 D */
    s->F_inf = s->work + 3 * D;
    s->aff = s->F_inf + p;
    s->cov_a = s->aff + p;
    s->sig_mean = s->cov_a + D * D;
    s->sig_cov = s->sig_mean + D * D;
    s->sig_out = s->sig_cov + D * D;
    return SL_OK;
}

/* Fill s for the query scale * x. */
static sl_status setting_compute(const sl_check_cfg *cfg, double scale,
                                 setting *s)
{
    const sl_measure *mu = cfg->mu;
    size_t D = mu->dim, p = cfg->p, Dq = cfg->Dq;
    double lognorm;
    sl_status st;

    /* 1. Query, tilt a = W x, direction h = V^T g. */
    for (size_t j = 0; j < Dq; j++)
        s->xq[j] = scale * cfg->x[j];
    sl_matvec(D, Dq, cfg->W, s->xq, s->a);
    sl_matvec_t(p, D, cfg->V, cfg->g, s->h);

    /* 2. Exact limit F_inf = V mu_a, and the affine (Gaussian) prediction
     *    V (m + S a). */
    sl_measure_tilt(mu, s->a, &lognorm, s->mu_a, s->cov_a, s->work);
    sl_matvec(p, D, cfg->V, s->mu_a, s->F_inf);
    sl_matvec(D, D, mu->cov, s->a, s->work);
    s->quad = sl_dot(D, s->a, s->work);
    for (size_t k = 0; k < D; k++)
        s->work[k] += mu->mean[k];
    sl_matvec(p, D, cfg->V, s->work, s->aff);

    /* 3. Moments: kappa, E[e^2 y y^T], E[e^2 (y r - C_a h)(...)^T]. */
    sl_moments mo = {0.0, s->sig_mean, s->sig_cov};
    st = sl_measure_moments(mu, s->a, s->h, &mo);
    if (st != SL_OK)
        return st;
    s->kappa = mo.kappa;

    /* 4. sig_out = V sig_mean V^T and the traces T. */
    s->T_mean = s->T_cov = 0.0;
    for (size_t k = 0; k < D; k++) {
        s->T_mean += s->sig_mean[k * D + k];
        s->T_cov += s->sig_cov[k * D + k];
    }
    for (size_t r = 0; r < p; r++) {
        for (size_t c = 0; c < p; c++) {
            double acc = 0.0;
            for (size_t i = 0; i < D; i++)
                for (size_t j = 0; j < D; j++)
                    acc += cfg->V[r * D + i] * s->sig_mean[i * D + j] *
                           cfg->V[c * D + j];
            s->sig_out[r * p + c] = acc;
        }
    }
    s->T_out = 0.0;
    for (size_t r = 0; r < p; r++)
        s->T_out += s->sig_out[r * p + r];
    s->T_r = 0.0; /* h^T sig_mean h */
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++)
            s->T_r += s->h[i] * s->sig_mean[i * D + j] * s->h[j];

    /* 5. Norms, and the reference quantiles of |N(0, Sigma)|. */
    symmetrize(D, s->sig_mean);
    symmetrize(D, s->sig_cov);
    symmetrize(p, s->sig_out);
    s->gnorm = norm2(p, cfg->g);
    s->hnorm = norm2(D, s->h);
    s->xnorm = norm2(Dq, s->xq);
    double prob = 1.0 - cfg->delta;
    uint64_t rs = cfg->seed ^ REF_STREAM;
    st = sl_normnorm_quantile(p, s->sig_out, prob, rs, cfg->ref_draws,
                              &s->ref_out);
    if (st == SL_OK)
        st = sl_normnorm_quantile(D, s->sig_mean, prob, rs, cfg->ref_draws,
                                  &s->ref_mean);
    if (st == SL_OK)
        st = sl_normnorm_quantile(D, s->sig_cov, prob, rs, cfg->ref_draws,
                                  &s->ref_cov);
    s->ref_mean *= s->gnorm;
    s->ref_cov *= s->xnorm;
    return st;
}

static void devs_free(devs *d)
{
    free(d->dmean);
    d->dmean = NULL;
}

static sl_status devs_alloc(devs *d, uint64_t T, size_t D, size_t p)
{
    double *b = alloc_doubles((size_t)T * (2 * D + 4) + p);
    if (b == NULL)
        return SL_ENOMEM;
    d->dmean = b;
    d->dcov = d->dmean + T * D;
    d->out = d->dcov + T * D;
    d->dv = d->out + T;
    d->dw = d->dv + T;
    d->sorted = d->dw + T;
    d->raw = d->sorted + T;
    return SL_OK;
}

static void job_progress(void *ctx, uint64_t tokens)
{
    run *r = ctx;
    if (r->cfg->progress != NULL)
        r->cfg->progress(r->cfg->progress_ctx, r->done + tokens, r->total);
}

/* One Monte Carlo job at (setting, n): fills the three deviations. */
static sl_status mc_job(run *r, const setting *s, uint64_t n, unsigned job,
                        int dump, devs *d)
{
    const sl_check_cfg *cfg = r->cfg;
    size_t D = cfg->mu->dim, p = cfg->p;
    sl_mc_job mj = {cfg->mu,      s->a,      s->h,      n,
                    cfg->trials,  cfg->seed, job,       cfg->threads,
                    job_progress, r,         cfg->fault};
    sl_status st = sl_mc_run(&mj, d->dmean, d->dcov);
    if (st != SL_OK)
        return st;
    r->done += n * cfg->trials;

    for (uint64_t k = 0; k < cfg->trials; k++) {
        const double *dm = d->dmean + k * D;
        sl_matvec(p, D, cfg->V, dm, d->raw); /* F_n - F_inf */
        if (dump && cfg->dump != NULL)
            cfg->dump(cfg->dump_ctx, n, k, p, d->raw);
        d->out[k] = norm2(p, d->raw);
        d->dv[k] = s->gnorm * norm2(D, dm);
        d->dw[k] = s->xnorm * norm2(D, d->dcov + k * D);
    }
    return SL_OK;
}

/* Count, interval and verdict of dev against bound b. */
static void judge(const sl_check_cfg *cfg, const double *dev, double b,
                  int applies, sl_row *row)
{
    uint64_t k = 0, T = cfg->trials;
    for (uint64_t i = 0; i < T; i++)
        k += dev[i] > b;
    row->bound = b;
    row->violations = k;
    row->rate = (double)k / (double)T;
    sl_cp_interval(k, T, cfg->alpha, &row->cp_low, &row->cp_high);
    row->tightness = b / row->quantile;
    if (!applies)
        row->verdict = SL_NA;
    else
        row->verdict = row->cp_low > cfg->delta ? SL_FAIL : SL_PASS;
}

/* A template row for (check, target, sweep, n) with quantile, reference
 * and empirical paper constant; dev is sorted into d->sorted. */
static sl_row row_base(const sl_check_cfg *cfg, const char *check,
                       const char *target, double sweep, uint64_t n,
                       double quad, const double *dev, double ref, devs *d)
{
    sl_row row;
    memset(&row, 0, sizeof row);
    memcpy(d->sorted, dev, cfg->trials * sizeof(double));
    sl_sort(cfg->trials, d->sorted);
    row.check = check;
    row.target = target;
    row.sweep = sweep;
    row.n = n;
    row.trials = cfg->trials;
    row.delta = cfg->delta;
    row.quantile = sl_quantile_sorted(cfg->trials, d->sorted, 1.0 - cfg->delta);
    row.reference = ref / sqrt((double)n);
    row.constant =
        row.quantile / sl_bound_paper(1.0, cfg->paper_c, quad, n, cfg->delta);
    return row;
}

/* Rigorous row, its control, and (with_paper) the paper-form row. */
static sl_status add_bound_rows(run *r, const char *check, const char *target,
                                double sweep, uint64_t n, double quad,
                                const double *dev, double ref, double bound,
                                int applies, int with_paper, devs *d)
{
    const sl_check_cfg *cfg = r->cfg;
    sl_row row = row_base(cfg, check, target, sweep, n, quad, dev, ref, d);

    row.bound = bound;
    row.cls = SL_CLASS_RIGOROUS;
    row.bound_name = "chebyshev";
    judge(cfg, dev, bound, applies, &row);
    if (sl_table_add_row(r->table, &row) != 0)
        return SL_ENOMEM;

    row.control = 1;
    row.bound_name = "chebyshev/20";
    judge(cfg, dev, bound / SL_CONTROL_DIVISOR, applies, &row);
    if (sl_table_add_row(r->table, &row) != 0)
        return SL_ENOMEM;

    if (with_paper) {
        row.control = 0;
        row.cls = SL_CLASS_PAPER;
        row.bound_name = "paper";
        judge(cfg, dev,
              sl_bound_paper(cfg->paper_C, cfg->paper_c, quad, n, cfg->delta),
              1, &row);
        if (sl_table_add_row(r->table, &row) != 0)
            return SL_ENOMEM;
    }
    return SL_OK;
}

/* Rate fits of one target over the n grid: the claim and its control. */
static sl_status add_rate_fits(run *r, const char *target, const double *q,
                               const double *se)
{
    const sl_check_cfg *cfg = r->cfg;
    size_t k = cfg->nn;
    double *lx = alloc_doubles(2 * k);
    if (lx == NULL)
        return SL_ENOMEM;
    double *ly = lx + k;
    for (size_t i = 0; i < k; i++) {
        lx[i] = log((double)cfg->ns[i]);
        ly[i] = log(q[i]);
    }
    sl_fit f;
    memset(&f, 0, sizeof f);
    f.check = "rate";
    f.target = target;
    f.z = sl_normal_upper(2.0 * cfg->alpha); /* one-sided */
    double icpt;
    sl_status st = sl_wls_slope(k, lx, ly, se, &f.slope, &f.slope_se, &icpt);
    free(lx);
    if (st != SL_OK)
        return st;

    f.claim = SL_RATE_CLAIM;
    f.tol = cfg->rate_tol;
    f.verdict =
        f.slope - f.z * f.slope_se > f.claim + f.tol ? SL_FAIL : SL_PASS;
    if (sl_table_add_fit(r->table, &f) != 0)
        return SL_ENOMEM;
    f.control = 1;
    f.claim = SL_RATE_CONTROL;
    f.verdict =
        f.slope - f.z * f.slope_se > f.claim + f.tol ? SL_FAIL : SL_PASS;
    return sl_table_add_fit(r->table, &f) != 0 ? SL_ENOMEM : SL_OK;
}

/* Quantile and the standard error of its log, from the order-statistic
 * interval at 95%, for the rate fit. */
static void quantile_se(const sl_check_cfg *cfg, const double *dev, devs *d,
                        double *q, double *se)
{
    double lo, hi, prob = 1.0 - cfg->delta;
    memcpy(d->sorted, dev, cfg->trials * sizeof(double));
    sl_sort(cfg->trials, d->sorted);
    *q = sl_quantile_sorted(cfg->trials, d->sorted, prob);
    sl_quantile_ci(cfg->trials, d->sorted, prob, 0.05, &lo, &hi);
    *se = (log(hi) - log(lo)) / (2.0 * sl_normal_upper(0.05));
    if (!(*se > SL_RATE_SE_FLOOR))
        *se = SL_RATE_SE_FLOOR;
}

/* The asymptotic reference as a row of its own (rate check). */
static sl_status add_reference_row(run *r, const char *target, uint64_t n,
                                   double quad, const double *dev, double ref,
                                   devs *d)
{
    sl_row row = row_base(r->cfg, "rate", target, NAN, n, quad, dev, ref, d);
    row.cls = SL_CLASS_REFERENCE;
    row.bound_name = "reference";
    judge(r->cfg, dev, row.reference, 1, &row);
    return sl_table_add_row(r->table, &row) != 0 ? SL_ENOMEM : SL_OK;
}

/* Does name ("all", an id, or ids separated by commas) ask for id? */
static int wants(const char *name, const char *id)
{
    size_t len = strlen(id);
    if (strcmp(name, "all") == 0)
        return 1;
    for (const char *p = name; *p != '\0'; p += strcspn(p, ",")) {
        if (*p == ',')
            p++;
        if (strncmp(p, id, len) == 0 && (p[len] == ',' || p[len] == '\0'))
            return 1;
    }
    return 0;
}

int sl_check_name_valid(const char *name)
{
    if (strcmp(name, "all") == 0)
        return 1;
    const char *p = name;
    while (1) {
        char item[32];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item)
            return 0;
        memcpy(item, p, len);
        item[len] = '\0';
        if (sl_catalogue_find(item) == NULL)
            return 0;
        if (p[len] == '\0')
            return 1;
        p += len + 1;
    }
}

/* Concentration, gradient and rate: one job per n at the given query. */
static sl_status run_base(run *r, setting *s, devs *d)
{
    const sl_check_cfg *cfg = r->cfg;
    const char *name = cfg->name;
    int conc = wants(name, "concentration"), grad = wants(name, "gradient");
    int rate = wants(name, "rate") && cfg->nn >= 2;
    size_t nn = cfg->nn;
    double *qs = alloc_doubles(6 * nn);
    sl_status st = qs == NULL ? SL_ENOMEM : SL_OK;

    for (size_t i = 0; i < nn && st == SL_OK; i++) {
        uint64_t n = cfg->ns[i];
        double delta = cfg->delta;
        int am = sl_bound_mean_applies(s->kappa, n, delta);
        int ac = sl_bound_cov_applies(s->kappa, n, delta);
        double b_out = sl_bound_mean(s->T_out, n, delta);
        double b_dv = s->gnorm * sl_bound_mean(s->T_mean, n, delta);
        double b_dw =
            s->xnorm * sl_bound_cov(s->T_cov, s->T_mean, s->T_r, n, delta);

        st = mc_job(r, s, n, JOB_BASE + (unsigned)i, 1, d);
        if (st == SL_OK && conc)
            st = add_bound_rows(r, "concentration", "output", NAN, n, s->quad,
                                d->out, s->ref_out, b_out, am, 1, d);
        if (st == SL_OK && grad)
            st = add_bound_rows(r, "gradient", "dV", NAN, n, s->quad, d->dv,
                                s->ref_mean, b_dv, am, 1, d);
        if (st == SL_OK && grad)
            st = add_bound_rows(r, "gradient", "dW", NAN, n, s->quad, d->dw,
                                s->ref_cov, b_dw, ac, 1, d);
        if (st == SL_OK && rate) {
            quantile_se(cfg, d->out, d, &qs[i], &qs[nn + i]);
            quantile_se(cfg, d->dv, d, &qs[2 * nn + i], &qs[3 * nn + i]);
            quantile_se(cfg, d->dw, d, &qs[4 * nn + i], &qs[5 * nn + i]);
            st = add_reference_row(r, "output", n, s->quad, d->out, s->ref_out,
                                   d);
            if (st == SL_OK)
                st = add_reference_row(r, "dV", n, s->quad, d->dv, s->ref_mean,
                                       d);
            if (st == SL_OK)
                st = add_reference_row(r, "dW", n, s->quad, d->dw, s->ref_cov,
                                       d);
        }
    }
    if (st == SL_OK && rate) {
        st = add_rate_fits(r, "output", qs, qs + nn);
        if (st == SL_OK)
            st = add_rate_fits(r, "dV", qs + 2 * nn, qs + 3 * nn);
        if (st == SL_OK)
            st = add_rate_fits(r, "dW", qs + 4 * nn, qs + 5 * nn);
    }
    free(qs);
    return st;
}

/* Linearity: queries s x along a line, at the largest n. */
static sl_status run_linearity(run *r, setting *s, devs *d)
{
    const sl_check_cfg *cfg = r->cfg;
    uint64_t n = cfg->ns[cfg->nn - 1];
    size_t D = cfg->mu->dim, p = cfg->p;
    sl_status st = SL_OK;

    for (size_t j = 0; j < NSCALES && st == SL_OK; j++) {
        double sc = linearity_scales[j];
        st = setting_compute(cfg, sc, s);
        if (st == SL_OK)
            st = mc_job(r, s, n, JOB_LINEARITY + (unsigned)j, 0, d);
        if (st != SL_OK)
            break;
        double b = sl_bound_mean(s->T_out, n, cfg->delta);
        int am = sl_bound_mean_applies(s->kappa, n, cfg->delta);
        st = add_bound_rows(r, "linearity", "output", sc, n, s->quad, d->out,
                            s->ref_out, b, am, 0, d);
        if (st != SL_OK)
            break;

        /* Deviation from the affine prediction V (m + S a), against the
         * same bound; reference = the limit's distance from it. */
        double gap2 = 0.0;
        for (size_t i = 0; i < p; i++) {
            double e = s->F_inf[i] - s->aff[i];
            gap2 += e * e;
        }
        for (uint64_t k = 0; k < cfg->trials; k++) {
            sl_matvec(p, D, cfg->V, d->dmean + k * D, d->raw);
            for (size_t i = 0; i < p; i++)
                d->raw[i] += s->F_inf[i] - s->aff[i];
            d->dw[k] = norm2(p, d->raw);
        }
        sl_row row =
            row_base(cfg, "linearity", "output", sc, n, s->quad, d->dw, 0.0, d);
        row.cls = SL_CLASS_REFERENCE;
        row.bound_name = "affine";
        judge(cfg, d->dw, b, am, &row);
        row.reference = sqrt(gap2);
        if (sl_table_add_row(r->table, &row) != 0)
            st = SL_ENOMEM;
    }
    return st;
}

/* Kappa sweep: the query rescaled to a^T S a in kappa_quads. */
static sl_status run_kappa(run *r, setting *s, devs *d, double quad0)
{
    const sl_check_cfg *cfg = r->cfg;
    uint64_t n = cfg->ns[cfg->nn - 1];
    sl_status st = SL_OK;

    for (size_t j = 0; j < NQUADS && st == SL_OK; j++) {
        st = setting_compute(cfg, sqrt(kappa_quads[j] / quad0), s);
        if (st == SL_OK)
            st = mc_job(r, s, n, JOB_KAPPA + (unsigned)j, 0, d);
        if (st == SL_OK)
            st = add_bound_rows(
                r, "kappa", "output", s->kappa, n, s->quad, d->out, s->ref_out,
                sl_bound_mean(s->T_out, n, cfg->delta),
                sl_bound_mean_applies(s->kappa, n, cfg->delta), 1, d);
    }
    return st;
}

sl_status sl_check_run(const sl_check_cfg *cfg, sl_table *out,
                       sl_check_info *info)
{
    const char *name = cfg->name;
    size_t D = cfg->mu->dim;
    setting s;
    devs d;
    sl_status st;

    /* 1. What was asked must make sense. */
    if (!sl_check_name_valid(name))
        return SL_EINVAL;
    if (cfg->nn == 0 || cfg->trials == 0)
        return SL_EINVAL;
    for (size_t i = 0; i < cfg->nn; i++)
        if (cfg->ns[i] == 0 || (i > 0 && cfg->ns[i] <= cfg->ns[i - 1]))
            return SL_EINVAL;
    if (strcmp(name, "all") != 0 && wants(name, "rate") && cfg->nn < 2)
        return SL_EINVAL;

    /* 2. Scratch, and the query as given. */
    if (setting_alloc(&s, D, cfg->Dq, cfg->p) != SL_OK)
        return SL_ENOMEM;
    if (devs_alloc(&d, cfg->trials, D, cfg->p) != SL_OK) {
        setting_free(&s);
        return SL_ENOMEM;
    }
    st = setting_compute(cfg, 1.0, &s);
    info->quad = s.quad;
    info->kappa = s.kappa;
    double quad0 = s.quad;
    if (st == SL_OK && strcmp(name, "all") != 0 && wants(name, "kappa") &&
        !(quad0 > 0.0))
        st = SL_EINVAL;

    /* 3. The work, counted for the progress line. */
    run r = {cfg, out, 0, 0};
    uint64_t nmax = cfg->ns[cfg->nn - 1];
    int base = wants(name, "concentration") || wants(name, "gradient") ||
               wants(name, "rate");
    if (base)
        for (size_t i = 0; i < cfg->nn; i++)
            r.total += cfg->ns[i] * cfg->trials;
    if (wants(name, "linearity"))
        r.total += NSCALES * nmax * cfg->trials;
    if (wants(name, "kappa") && quad0 > 0.0)
        r.total += NQUADS * nmax * cfg->trials;

    /* 4. The checks. */
    if (st == SL_OK && base)
        st = run_base(&r, &s, &d);
    if (st == SL_OK && wants(name, "linearity"))
        st = run_linearity(&r, &s, &d);
    if (st == SL_OK && wants(name, "kappa") && quad0 > 0.0)
        st = run_kappa(&r, &s, &d, quad0);

    devs_free(&d);
    setting_free(&s);
    return st;
}
