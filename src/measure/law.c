/* law.c -- the one-dimensional token laws: tilts, moments, samplers.
 *
 * Closed forms throughout, written to avoid overflow for any finite t:
 * log cosh t = |t| + log1p(e^{-2|t|}) - log 2, and the uniform law's
 * functions switch to their Taylor series where b|t| < SL_LAW_SERIES_X,
 * since coth x - 1/x cancels catastrophically near 0 (the series and the
 * tilted mean itself are shared with oracle/exact_limits.c).  The tilted
 * uniform law's moments come from Gauss-Legendre quadrature on panels of
 * its support (GSL), with the exponential scaled to be <= 1.  The
 * samplers take their normals and uniforms from the vectorised generators
 * of random/normal_fast.h.
 */
#include <math.h>
#include <string.h>

#include <gsl/gsl_integration.h>

#include "measure/law.h"
#include "oracle/exact_limits.h"
#include "random/normal_fast.h"

/* sqrt(3): the half-width of the unit-variance uniform law. */
#define SL_UNIFORM_B 1.7320508075688772935274463415059

/* Below this |b t| the uniform law's functions use the Langevin series
 * of oracle/exact_limits.h (17 terms, remainder < 0.1 u relative); above
 * it the closed forms lose at most a factor of about 3 to cancellation. */
#define SL_LAW_SERIES_X 1.0

/* Quadrature of tilted uniform moments: panels x nodes per panel. */
#define SL_UNIFORM_PANELS 16
#define SL_UNIFORM_NODES  32

static const char *const law_names[] = {"gaussian", "rademacher", "uniform",
                                        "mixture"};

int sl_law_parse(const char *name, sl_law *l)
{
    for (int k = 0; k < 4; k++) {
        if (name != NULL && strcmp(name, law_names[k]) == 0) {
            l->kind = (sl_law_kind)k;
            l->r = SL_LAW_MIXTURE_R;
            return 0;
        }
    }
    return -1;
}

const char *sl_law_name(const sl_law *l)
{
    return law_names[l->kind];
}

/* log cosh t without overflow. */
static double log_cosh(double t)
{
    double u = fabs(t);
    return u + log1p(exp(-2.0 * u)) - M_LN2;
}

/* sum_k c_k w_k x^{2k-2}, with the Langevin coefficients c_k: the series
 * of L(x)/x (w_k = 1), of L'(x) (w_k = 2k - 1) and of log(sinh x / x) / x^2
 * (w_k = 1 / (2k)), by Horner's rule in x^2. */
static double langevin_series(double x, int which)
{
    double y = x * x, s = 0.0;
    for (int k = SL_LANGEVIN_TERMS; k >= 1; k--) {
        double w = which == 0 ? 1.0 : which == 1 ? 2.0 * k - 1.0 : 0.5 / k;
        s = s * y + w * sl_langevin_coef[k - 1];
    }
    return s;
}

/* Uniform[-b, b]: Lambda(t) = log(sinh x / x), x = b t. */
static double uniform_lmgf(double t)
{
    double x = fabs(SL_UNIFORM_B * t);
    if (x < SL_LAW_SERIES_X)
        return x * x * langevin_series(x, 2);
    /* log sinh x = x + log1p(-e^{-2x}) - log 2 */
    return x + log1p(-exp(-2.0 * x)) - M_LN2 - log(x);
}

/* Uniform: Lambda'(t) = b L(b t), L(x) = coth x - 1/x (Langevin). */
static double uniform_tmean(double t)
{
    return sl_exact_uniform_mean(SL_UNIFORM_B, t);
}

/* Uniform: Lambda''(t) = b^2 L'(x) = b^2 (1/x^2 - 1/sinh^2 x). */
static double uniform_tvar(double t)
{
    double b = SL_UNIFORM_B, x = b * t;
    if (fabs(x) < SL_LAW_SERIES_X)
        return b * b * langevin_series(x, 1);
    double sh = sinh(fabs(x));
    double inv_sh2 = isinf(sh) ? 0.0 : 1.0 / (sh * sh);
    return b * b * (1.0 / (x * x) - inv_sh2);
}

double sl_law_lmgf(const sl_law *l, double t)
{
    switch (l->kind) {
    case SL_LAW_GAUSSIAN:
        return 0.5 * t * t;
    case SL_LAW_RADEMACHER:
        return log_cosh(t);
    case SL_LAW_UNIFORM:
        return uniform_lmgf(t);
    case SL_LAW_MIXTURE:
        return log_cosh(l->r * t) + 0.5 * (1.0 - l->r * l->r) * t * t;
    }
    return NAN;
}

double sl_law_tmean(const sl_law *l, double t)
{
    switch (l->kind) {
    case SL_LAW_GAUSSIAN:
        return t;
    case SL_LAW_RADEMACHER:
        return tanh(t);
    case SL_LAW_UNIFORM:
        return uniform_tmean(t);
    case SL_LAW_MIXTURE:
        return l->r * tanh(l->r * t) + (1.0 - l->r * l->r) * t;
    }
    return NAN;
}

/* 1 - tanh^2 t = 1 / cosh^2 t = 4 e^{-2|t|} / (1 + e^{-2|t|})^2, without
 * the cancellation of 1 - tanh^2 for large |t|. */
static double sech2(double t)
{
    double e = exp(-2.0 * fabs(t));
    return 4.0 * e / ((1.0 + e) * (1.0 + e));
}

double sl_law_tvar(const sl_law *l, double t)
{
    switch (l->kind) {
    case SL_LAW_GAUSSIAN:
        return 1.0;
    case SL_LAW_RADEMACHER:
        return sech2(t);
    case SL_LAW_UNIFORM:
        return uniform_tvar(t);
    case SL_LAW_MIXTURE:
        return l->r * l->r * sech2(l->r * t) + 1.0 - l->r * l->r;
    }
    return NAN;
}

/* E[(X - c)^j], j = 0..4, X ~ N(mu, v), added with weight w into mom. */
static void gauss_moments(double w, double mu, double v, double c,
                          double mom[5])
{
    double d = mu - c, d2 = d * d;
    mom[0] += w;
    mom[1] += w * d;
    mom[2] += w * (d2 + v);
    mom[3] += w * d * (d2 + 3.0 * v);
    mom[4] += w * (d2 * d2 + 6.0 * d2 * v + 3.0 * v * v);
}

/* Point mass at x with weight w. */
static void atom_moments(double w, double x, double c, double mom[5])
{
    double d = x - c, p = w;
    for (int j = 0; j < 5; j++) {
        mom[j] += p;
        p *= d;
    }
}

/* Tilted uniform on [-b, b]: density prop. to e^{t x}, by quadrature of
 * e^{t (x - x_top)} (<= 1) over panels. */
static void uniform_moments(double t, double c, double mom[5])
{
    double b = SL_UNIFORM_B, top = t >= 0 ? b : -b;
    double acc[5] = {0, 0, 0, 0, 0};
    gsl_integration_glfixed_table *tab =
        gsl_integration_glfixed_table_alloc(SL_UNIFORM_NODES);

    for (int k = 0; k < SL_UNIFORM_PANELS; k++) {
        double lo = -b + 2.0 * b * k / SL_UNIFORM_PANELS;
        double hi = -b + 2.0 * b * (k + 1) / SL_UNIFORM_PANELS;
        for (size_t i = 0; i < SL_UNIFORM_NODES; i++) {
            double x, wq;
            gsl_integration_glfixed_point(lo, hi, i, &x, &wq, tab);
            atom_moments(wq * exp(t * (x - top)), x, c, acc);
        }
    }
    gsl_integration_glfixed_table_free(tab);
    for (int j = 0; j < 5; j++)
        mom[j] = acc[j] / acc[0];
}

void sl_law_tmoments(const sl_law *l, double t, double c, double mom[5])
{
    double th, r = l->r;
    for (int j = 0; j < 5; j++)
        mom[j] = 0.0;
    switch (l->kind) {
    case SL_LAW_GAUSSIAN:
        gauss_moments(1.0, t, 1.0, c, mom);
        return;
    case SL_LAW_RADEMACHER:
        th = tanh(t);
        atom_moments(0.5 * (1.0 + th), 1.0, c, mom);
        atom_moments(0.5 * (1.0 - th), -1.0, c, mom);
        return;
    case SL_LAW_UNIFORM:
        uniform_moments(t, c, mom);
        return;
    case SL_LAW_MIXTURE:
        /* Tilting keeps each component Gaussian, moves its mean by
         * (1 - r^2) t and reweights it by e^{+-r t}. */
        th = tanh(r * t);
        gauss_moments(0.5 * (1.0 + th), r + (1.0 - r * r) * t, 1.0 - r * r, c,
                      mom);
        gauss_moments(0.5 * (1.0 - th), -r + (1.0 - r * r) * t, 1.0 - r * r, c,
                      mom);
        return;
    }
}

void sl_law_draw(const sl_law *l, sl_rng *r, size_t k, double *out)
{
    uint32_t w[4];
    switch (l->kind) {
    case SL_LAW_GAUSSIAN:
        sl_rng_normal_fast(r, k, out);
        return;
    case SL_LAW_RADEMACHER:
        for (size_t i = 0; i < k; i += 128) {
            sl_rng_block(r, w);
            for (size_t j = 0; j < 128 && i + j < k; j++)
                out[i + j] = (w[j / 32] >> (j % 32)) & 1u ? 1.0 : -1.0;
        }
        return;
    case SL_LAW_UNIFORM:
        sl_rng_uniform_fast(r, k, out);
        for (size_t i = 0; i < k; i++)
            out[i] = SL_UNIFORM_B * (2.0 * out[i] - 1.0);
        return;
    case SL_LAW_MIXTURE:
        sl_rng_normal_fast(r, k, out);
        for (size_t i = 0; i < k; i += 128) {
            sl_rng_block(r, w);
            for (size_t j = 0; j < 128 && i + j < k; j++) {
                double sign = (w[j / 32] >> (j % 32)) & 1u ? 1.0 : -1.0;
                out[i + j] = l->r * sign + sqrt(1.0 - l->r * l->r) * out[i + j];
            }
        }
        return;
    }
}
