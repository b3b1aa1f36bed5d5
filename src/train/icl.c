/* icl.c -- in-context linear regression: exact risks, prompts, gradients.
 *
 * Gaussian tokens (spec/TRAINING.md section 2).  With v = (v_x, v_y),
 * B = [B_x; b^T], the prediction is linear in x_q with coefficient vector
 *
 *   B^T S_beta v = c0 + M beta + v_y |beta|^2 b,
 *   c0 = B_x^T v_x + v_y s^2 b,   M = v_y B_x^T + b v_x^T,
 *
 * and, since E x_q x_q^T = I and odd moments of beta vanish, E|beta|^2 =
 * d tau^2 and E|beta|^4 = (d^2 + 2 d) tau^4,
 *
 *   L_inf = tau^2 |R|_F^2 + |c|^2 + 2 d tau^4 v_y^2 |b|^2 + s^2,
 *   R = M - I,   c = B_x^T v_x + v_y (s^2 + d tau^2) b.
 *
 * Reduced model, any law of product form (section 3): the tilt of the
 * white coordinates is t = A^T a = (Gamma x_q, 0), so mu_a = (phi, <beta,
 * phi>), phi = Lambda'(Gamma x_q) coordinatewise, and
 *
 *   L_inf = tau^2 E_x |v_y phi(Gamma x) - x|^2 + s^2,
 *
 * an expectation over x alone, summed exactly over the 2^d sign vectors
 * (rademacher) or by Gauss-Legendre quadrature (uniform: phi is analytic
 * in a strip, so the error falls geometrically with the nodes).
 *
 * Accuracy: sums of O(d^2) terms of the size of L_inf, a few ulps times
 * d^2 relative; the quadrature error dominates for the uniform law.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_integration.h>

#include "kernels/linalg.h"
#include "train/icl.h"

/* sqrt(3): the half-width of the unit-variance uniform law (law.h). */
#define ICL_UNIFORM_B 1.7320508075688772935274463415059

static size_t dim_tokens(const sl_icl *m)
{
    return m->d + 1;
}

/* The 2^d sign vectors, each of weight 2^-d. */
static void sign_points(sl_icl *m)
{
    size_t d = m->d;
    for (size_t k = 0; k < m->npts; k++) {
        for (size_t j = 0; j < d; j++)
            m->pts[k * d + j] = (k >> j) & 1u ? 1.0 : -1.0;
        m->wts[k] = 1.0 / (double)m->npts;
    }
}

/* The tensor product of m Gauss-Legendre nodes on [-b, b] per axis, with
 * weights normalised to the uniform density 1 / (2 b). */
static sl_status legendre_points(sl_icl *m)
{
    size_t d = m->d, q = m->nodes;
    double x1[SL_ICL_MAX_NODES], w1[SL_ICL_MAX_NODES];
    size_t idx[SL_ICL_MAX_DIM];
    gsl_integration_glfixed_table *tab = gsl_integration_glfixed_table_alloc(q);
    if (tab == NULL)
        return SL_ENOMEM;
    for (size_t i = 0; i < q; i++) {
        gsl_integration_glfixed_point(-ICL_UNIFORM_B, ICL_UNIFORM_B, i, &x1[i],
                                      &w1[i], tab);
        w1[i] /= 2.0 * ICL_UNIFORM_B;
    }
    gsl_integration_glfixed_table_free(tab);

    memset(idx, 0, sizeof idx);
    for (size_t k = 0; k < m->npts; k++) {
        double w = 1.0;
        for (size_t j = 0; j < d; j++) {
            m->pts[k * d + j] = x1[idx[j]];
            w *= w1[idx[j]];
        }
        m->wts[k] = w;
        for (size_t j = 0; j < d && ++idx[j] == q; j++)
            idx[j] = 0;
    }
    return SL_OK;
}

/* q^d, or SIZE_MAX when it exceeds limit. */
static size_t power_capped(size_t q, size_t d, size_t limit)
{
    size_t p = 1;
    for (size_t j = 0; j < d; j++) {
        if (p > limit / q)
            return SIZE_MAX;
        p *= q;
    }
    return p;
}

sl_status sl_icl_init(sl_icl *m, sl_icl_param param, const sl_law *law,
                      size_t d, double tau, double noise)
{
    memset(m, 0, sizeof *m);
    if (d == 0 || d > SL_ICL_MAX_DIM || !(tau > 0.0) || !isfinite(tau) ||
        !(noise > 0.0) || !isfinite(noise) || law->kind == SL_LAW_MIXTURE)
        return SL_EINVAL;
    if (param != SL_ICL_REDUCED && param != SL_ICL_FULL)
        return SL_EINVAL;
    if (param == SL_ICL_FULL && law->kind != SL_LAW_GAUSSIAN)
        return SL_EINVAL;
    m->param = param;
    m->law = *law;
    m->d = d;
    m->tau = tau;
    m->noise = noise;

    /* 1. How many points the expectation over x needs. */
    if (law->kind == SL_LAW_RADEMACHER) {
        if (d > SL_ICL_MAX_SIGN_DIM)
            return SL_EINVAL;
        m->npts = (size_t)1 << d;
    } else if (law->kind == SL_LAW_UNIFORM) {
        size_t q = (size_t)floor(pow(SL_ICL_QUAD_TARGET, 1.0 / (double)d));
        q = q < SL_ICL_MIN_NODES ? SL_ICL_MIN_NODES : q;
        q = q > SL_ICL_MAX_NODES ? SL_ICL_MAX_NODES : q;
        m->nodes = q;
        m->npts = power_capped(q, d, SL_ICL_MAX_POINTS);
        if (m->npts == SIZE_MAX)
            return SL_EINVAL;
    }
    if (m->npts == 0)
        return SL_OK;

    /* 2. The points and weights. */
    m->pts = malloc(m->npts * (d + 1) * sizeof(double));
    if (m->pts == NULL)
        return SL_ENOMEM;
    m->wts = m->pts + m->npts * d;
    if (law->kind == SL_LAW_RADEMACHER) {
        sign_points(m);
    } else if (legendre_points(m) != SL_OK) {
        sl_icl_free(m);
        return SL_ENOMEM;
    }
    return SL_OK;
}

sl_status sl_icl_set_nodes(sl_icl *m, size_t q)
{
    if (m->law.kind != SL_LAW_UNIFORM || q == 0 || q > SL_ICL_MAX_NODES)
        return SL_EINVAL;
    size_t npts = power_capped(q, m->d, SL_ICL_MAX_POINTS);
    if (npts == SIZE_MAX)
        return SL_EINVAL;
    sl_icl_free(m);
    m->pts = malloc(npts * (m->d + 1) * sizeof(double));
    if (m->pts == NULL)
        return SL_ENOMEM;
    m->npts = npts;
    m->nodes = q;
    m->wts = m->pts + npts * m->d;
    if (legendre_points(m) != SL_OK) {
        sl_icl_free(m);
        return SL_ENOMEM;
    }
    return SL_OK;
}

void sl_icl_free(sl_icl *m)
{
    free(m->pts);
    m->pts = m->wts = NULL;
    m->npts = 0;
}

size_t sl_icl_nparams(const sl_icl *m)
{
    size_t D = dim_tokens(m);
    return m->param == SL_ICL_FULL ? D + D * m->d : 1 + m->d * m->d;
}

size_t sl_icl_work_len(const sl_icl *m)
{
    size_t d = m->d, D = dim_tokens(m);
    return d * d + 4 * d + 6 * D + 2 * D * d + D * D;
}

void sl_icl_embed(const sl_icl *m, const double *theta, double *v, double *B)
{
    size_t d = m->d, D = dim_tokens(m);
    if (m->param == SL_ICL_FULL) {
        memcpy(v, theta, D * sizeof(double));
        memcpy(B, theta + D, D * d * sizeof(double));
        return;
    }
    memset(v, 0, D * sizeof(double));
    v[d] = theta[0];
    memcpy(B, theta + 1, d * d * sizeof(double));
    memset(B + d * d, 0, d * sizeof(double));
}

void sl_icl_project(const sl_icl *m, const double *dv, const double *dB,
                    double *dtheta)
{
    size_t d = m->d, D = dim_tokens(m);
    if (m->param == SL_ICL_FULL) {
        memcpy(dtheta, dv, D * sizeof(double));
        memcpy(dtheta + D, dB, D * d * sizeof(double));
        return;
    }
    dtheta[0] = dv[d];
    memcpy(dtheta + 1, dB, d * d * sizeof(double));
}

/* Gaussian tokens, both parametrisations: the closed form of the file
 * header and its gradient with respect to (v, B), then projected. */
static double risk_gauss(const sl_icl *m, const double *theta, double *grad,
                         double *work)
{
    size_t d = m->d, D = dim_tokens(m);
    double tau2 = m->tau * m->tau, s2 = m->noise * m->noise;
    double k2 = s2 + (double)d * tau2, e = 2.0 * (double)d * tau2 * tau2;
    double *v = work, *B = v + D, *R = B + D * d, *c = R + d * d;
    double *gv = c + d, *gB = gv + D;

    /* 1. v = (v_x, v_y), B = [B_x; b^T]. */
    sl_icl_embed(m, theta, v, B);
    const double *vx = v, *b = B + d * d;
    double vy = v[d];

    /* 2. R[i][j] = v_y B_x[j][i] + b_i v_x[j] - delta_ij. */
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++)
            R[i * d + j] = vy * B[j * d + i] + b[i] * vx[j] - (i == j);

    /* 3. c = B_x^T v_x + v_y k2 b. */
    sl_matvec_t(d, d, B, vx, c);
    for (size_t i = 0; i < d; i++)
        c[i] += vy * k2 * b[i];

    /* 4. L_inf = tau^2 |R|^2 + |c|^2 + e v_y^2 |b|^2 + s^2. */
    double bb = sl_dot(d, b, b);
    double L =
        tau2 * sl_dot(d * d, R, R) + sl_dot(d, c, c) + e * vy * vy * bb + s2;
    if (grad == NULL)
        return L;

    /* 5. Gradient, each line the derivative of step 4 through steps 2-3:
     *    dB_x[k][i] = 2 tau^2 v_y R[i][k] + 2 v_x[k] c_i
     *    db_i       = 2 tau^2 (R v_x)_i + 2 v_y k2 c_i + 2 e v_y^2 b_i
     *    dv_x[j]    = 2 tau^2 (R^T b)_j + 2 (B_x c)_j
     *    dv_y       = 2 tau^2 <R, B_x^T> + 2 k2 <c, b> + 2 e v_y |b|^2 */
    double *gb = gB + d * d;
    for (size_t k = 0; k < d; k++)
        for (size_t i = 0; i < d; i++)
            gB[k * d + i] = 2.0 * tau2 * vy * R[i * d + k] + 2.0 * vx[k] * c[i];
    for (size_t i = 0; i < d; i++)
        gb[i] = 2.0 * tau2 * sl_dot(d, R + i * d, vx) + 2.0 * vy * k2 * c[i] +
                2.0 * e * vy * vy * b[i];
    for (size_t j = 0; j < d; j++) {
        double acc = 0.0;
        for (size_t i = 0; i < d; i++)
            acc += R[i * d + j] * b[i];
        gv[j] = 2.0 * tau2 * acc + 2.0 * sl_dot(d, B + j * d, c);
    }
    double rb = 0.0;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++)
            rb += R[i * d + j] * B[j * d + i];
    gv[d] = 2.0 * tau2 * rb + 2.0 * k2 * sl_dot(d, c, b) + 2.0 * e * vy * bb;
    sl_icl_project(m, gv, gB, grad);
    return L;
}

/* Reduced model, product law: the sum over the points x of
 * w_x |v_y phi(Gamma x) - x|^2, and its gradient
 *   d/dv_y    = 2 <r, phi>,
 *   d/dGamma  = 2 v_y (r o phi'(Gamma x)) x^T,   r = v_y phi - x. */
static double risk_points(const sl_icl *m, const double *theta, double *grad,
                          double *work)
{
    size_t d = m->d;
    double tau2 = m->tau * m->tau, s2 = m->noise * m->noise;
    double vy = theta[0], acc = 0.0, gvy = 0.0;
    const double *G = theta + 1;
    double *u = work, *p = u + d, *r = p + d, *gG = r + d;

    if (grad != NULL)
        memset(gG, 0, d * d * sizeof(double));
    for (size_t k = 0; k < m->npts; k++) {
        const double *x = m->pts + k * d;
        double w = m->wts[k];

        /* 1. u = Gamma x, phi = Lambda'(u), r = v_y phi - x. */
        sl_matvec(d, d, G, x, u);
        for (size_t i = 0; i < d; i++) {
            p[i] = sl_law_tmean(&m->law, u[i]);
            r[i] = vy * p[i] - x[i];
        }
        acc += w * sl_dot(d, r, r);
        if (grad == NULL)
            continue;

        /* 2. The gradient of step 1's |r|^2. */
        gvy += w * 2.0 * sl_dot(d, r, p);
        for (size_t i = 0; i < d; i++) {
            double ri = w * 2.0 * vy * r[i] * sl_law_tvar(&m->law, u[i]);
            for (size_t j = 0; j < d; j++)
                gG[i * d + j] += ri * x[j];
        }
    }
    if (grad != NULL) {
        grad[0] = tau2 * gvy;
        for (size_t i = 0; i < d * d; i++)
            grad[1 + i] = tau2 * gG[i];
    }
    return tau2 * acc + s2;
}

double sl_icl_risk(const sl_icl *m, const double *theta, double *grad,
                   double *work)
{
    if (m->law.kind == SL_LAW_GAUSSIAN)
        return risk_gauss(m, theta, grad, work);
    return risk_points(m, theta, grad, work);
}

double sl_icl_risk_min(const sl_icl *m)
{
    return m->law.kind == SL_LAW_GAUSSIAN ? m->noise * m->noise : NAN;
}

double sl_icl_quad(const sl_icl *m, const double *theta)
{
    size_t d = m->d;
    double k2 = m->noise * m->noise + (double)d * m->tau * m->tau;
    if (m->param == SL_ICL_REDUCED)
        return sl_dot(d * d, theta + 1, theta + 1);
    const double *B = theta + d + 1, *b = B + d * d;
    return sl_dot(d * d, B, B) + k2 * sl_dot(d, b, b);
}

double sl_icl_conserved(const sl_icl *m, const double *theta)
{
    size_t d = m->d, D = dim_tokens(m);
    if (m->param == SL_ICL_REDUCED)
        return theta[0] * theta[0] - sl_dot(d * d, theta + 1, theta + 1);
    return sl_dot(D, theta, theta) - sl_dot(D * d, theta + D, theta + D);
}

void sl_icl_draw_prompt(const sl_icl *m, sl_rng *r, double *beta, double *xq,
                        double *yq)
{
    size_t d = m->d;
    double eps;
    sl_rng_normal(r, d, beta);
    for (size_t j = 0; j < d; j++)
        beta[j] *= m->tau;
    sl_law_draw(&m->law, r, d, xq);
    sl_law_draw(&m->law, r, 1, &eps);
    *yq = sl_dot(d, beta, xq) + m->noise * eps;
}

void sl_icl_draw_tokens(const sl_icl *m, sl_rng *r, const double *beta,
                        double *Z)
{
    size_t d = m->d, D = dim_tokens(m);

    /* 1. White tokens eta: i.i.d. unit coordinates. */
    sl_law_draw(&m->law, r, SL_ICL_BLOCK * D, Z);

    /* 2. z = A eta: x unchanged, y = <beta, x> + s eps. */
    for (size_t i = 0; i < SL_ICL_BLOCK; i++) {
        double *z = Z + i * D;
        z[d] = sl_dot(d, beta, z) + m->noise * z[d];
    }
}

sl_status sl_icl_measure(const sl_icl *m, const double *beta, sl_measure *mu)
{
    size_t d = m->d, D = dim_tokens(m);
    double mean[SL_ICL_MAX_DIM + 1];
    double *S = malloc(D * D * sizeof(double));
    if (S == NULL)
        return SL_ENOMEM;
    memset(mean, 0, D * sizeof(double));
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++)
            S[i * D + j] = i == j ? 1.0 : 0.0;
    for (size_t j = 0; j < d; j++)
        S[j * D + d] = S[d * D + j] = beta[j];
    S[d * D + d] = sl_dot(d, beta, beta) + m->noise * m->noise;
    sl_status st = sl_measure_init(mu, &m->law, D, mean, S);
    free(S);
    return st;
}

double sl_icl_prompt_inf(const sl_icl *m, const sl_measure *mu, const double *v,
                         const double *a, const double *xq, double yq,
                         double *yhat, double *dv, double *dB, double *work)
{
    size_t d = m->d, D = dim_tokens(m);
    double *mu_a = work, *cov_a = mu_a + D, *Cv = cov_a + D * D;
    double *tw = Cv + D, lognorm;

    /* 1. The exact tilt of the prompt's measure: mu_a and C_a. */
    sl_measure_tilt(mu, a, &lognorm, mu_a, cov_a, tw);

    /* 2. yhat_inf = v^T mu_a, g = dl/dyhat. */
    *yhat = sl_dot(D, v, mu_a);
    double g = 2.0 * (*yhat - yq);

    /* 3. dv = g mu_a, dB = g (C_a v) x_q^T: the limits of stream.h's
     *    g zbar and g C_w v x_q^T. */
    sl_matvec(D, D, cov_a, v, Cv);
    for (size_t k = 0; k < D; k++) {
        dv[k] = g * mu_a[k];
        for (size_t j = 0; j < d; j++)
            dB[k * d + j] = g * Cv[k] * xq[j];
    }
    return (*yhat - yq) * (*yhat - yq);
}

double sl_icl_prompt_finish(const sl_icl *m, const sl_stream *st,
                            const double *v, const double *xq, double yq,
                            double *yhat, double *dv, double *dB)
{
    size_t d = m->d;
    double lognorm, gx[SL_ICL_MAX_DIM];

    /* 1. yhat = v^T zbar, g = dl/dyhat. */
    sl_stream_finish(st, 1, v, yhat, &lognorm, NULL);
    double g = 2.0 * (*yhat - yq);

    /* 2. The stream's co-moment is C_w v (h = v), so the backward pass
     *    with query g x_q gives dB = g C_w v x_q^T, and dv = g zbar. */
    for (size_t j = 0; j < d; j++)
        gx[j] = g * xq[j];
    sl_stream_backward(st, 1, d, &g, gx, dv, dB);
    return (*yhat - yq) * (*yhat - yq);
}
