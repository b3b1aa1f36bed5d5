/* oracle_arb.c -- ball-arithmetic enclosures of every softlin kernel.
 *
 * Every double input is set exactly (arb_set_d); every operation returns
 * a ball that contains the exact result of the operation on every point
 * of its input balls, so the outputs are certified whatever rounding
 * happens inside.  Nothing here needs an error analysis: that is the
 * point of the module.
 */
#include <math.h>

#include "oracle/oracle_arb.h"

static slong arb_prec(slong prec)
{
    return prec > 0 ? prec : SL_ARB_PREC_BITS;
}

/* z = x y, z += x y and z = x + y for a double y (set exactly). */
static void mul_d(arb_t z, const arb_t x, double y, slong prec)
{
    arb_t t;
    arb_init(t);
    arb_set_d(t, y);
    arb_mul(z, x, t, prec);
    arb_clear(t);
}

static void addmul_d(arb_t z, const arb_t x, double y, slong prec)
{
    arb_t t;
    arb_init(t);
    arb_set_d(t, y);
    arb_addmul(z, x, t, prec);
    arb_clear(t);
}

static void add_d(arb_t z, const arb_t x, double y, slong prec)
{
    arb_t t;
    arb_init(t);
    arb_set_d(t, y);
    arb_add(z, x, t, prec);
    arb_clear(t);
}

/* r = sum_{i < n} u[i su] v[i sv], doubles. */
static void dot_dd(arb_t r, size_t n, const double *u, size_t su,
                   const double *v, size_t sv, slong prec)
{
    arb_t t, y;
    arb_init(t);
    arb_init(y);
    arb_zero(r);
    for (size_t i = 0; i < n; i++) {
        arb_set_d(t, u[i * su]);
        arb_set_d(y, v[i * sv]);
        arb_addmul(r, t, y, prec);
    }
    arb_clear(t);
    arb_clear(y);
}

/* r = sum_{i < n} u[i] v[i sv], u balls, v doubles. */
static void dot_bd(arb_t r, size_t n, arb_srcptr u, const double *v, size_t sv,
                   slong prec)
{
    arb_t y;
    arb_init(y);
    arb_zero(r);
    for (size_t i = 0; i < n; i++) {
        arb_set_d(y, v[i * sv]);
        arb_addmul(r, u + i, y, prec);
    }
    arb_clear(y);
}

/* In place: scores e (n) become softmax weights; lse, when wanted, gets
 * log sum_i exp(e_i).  The shift C is the midpoint of the score with the
 * largest midpoint (index top), an exact number.  The sum is kept as
 * 1 + R with R = expm1(e_top - C) + sum_{i != top} exp(e_i - C), and
 * lse = C + log1p(R): R keeps its relative accuracy when it is far below
 * 2^-prec (weights that underflow every format), so lse does too. */
static void softmax_ball(size_t n, arb_ptr e, arb_t lse, slong prec)
{
    arb_t cb, rest, sum;
    size_t top = 0;
    arb_init(cb);
    arb_init(rest);
    arb_init(sum);

    for (size_t i = 1; i < n; i++) {
        if (arf_cmp(arb_midref(e + i), arb_midref(e + top)) > 0)
            top = i;
    }
    arb_set_arf(cb, arb_midref(e + top));
    arb_zero(rest);
    for (size_t i = 0; i < n; i++) {
        arb_sub(e + i, e + i, cb, prec);
        if (i == top) {
            arb_expm1(sum, e + i, prec);
            arb_add(rest, rest, sum, prec);
            arb_exp(e + i, e + i, prec);
        } else {
            arb_exp(e + i, e + i, prec);
            arb_add(rest, rest, e + i, prec);
        }
    }
    arb_add_ui(sum, rest, 1, prec);
    for (size_t i = 0; i < n; i++)
        arb_div(e + i, e + i, sum, prec);
    if (lse != NULL) {
        arb_log1p(lse, rest, prec);
        arb_add(lse, lse, cb, prec);
    }
    arb_clear(cb);
    arb_clear(rest);
    arb_clear(sum);
}

void sl_arb_softmax(size_t n, const double *s, arb_ptr w, slong prec)
{
    prec = arb_prec(prec);
    for (size_t i = 0; i < n; i++)
        arb_set_d(w + i, s[i]);
    softmax_ball(n, w, NULL, prec);
}

void sl_arb_logsumexp(size_t n, const double *s, arb_t lse, slong prec)
{
    prec = arb_prec(prec);
    arb_ptr e = _arb_vec_init((slong)n);
    for (size_t i = 0; i < n; i++)
        arb_set_d(e + i, s[i]);
    softmax_ball(n, e, lse, prec);
    _arb_vec_clear(e, (slong)n);
}

/* y = A x (rows x cols), A doubles, x balls. */
static void matvec_db(size_t rows, size_t cols, const double *A, arb_srcptr x,
                      arb_ptr y, slong prec)
{
    for (size_t r = 0; r < rows; r++)
        dot_bd(y + r, cols, x, A + r * cols, 1, prec);
}

/* a = W x (D x Dq), doubles in, balls out. */
static void query_dir(size_t D, size_t Dq, const double *W, const double *x,
                      arb_ptr a, slong prec)
{
    for (size_t k = 0; k < D; k++)
        dot_dd(a + k, Dq, W + k * Dq, 1, x, 1, prec);
}

/* A = u v^T (rows x cols), u balls, v doubles. */
static void outer_bd(size_t rows, size_t cols, arb_srcptr u, const double *v,
                     arb_ptr A, slong prec)
{
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < cols; c++)
            mul_d(A + r * cols + c, u + r, v[c], prec);
    }
}

/* zbar (D) = sum_i w_i z_i for weights w (n) of sum 1. */
static void tilted_mean(size_t n, size_t D, const double *Z, arb_srcptr w,
                        arb_ptr zbar, slong prec)
{
    for (size_t k = 0; k < D; k++)
        dot_bd(zbar + k, n, w, Z + k, D, prec);
}

/* c (D) = sum_i w_i <h, z_i - zbar> (z_i - zbar), centred as in the
 * kernels; w (n), zbar and h (D) balls. */
static void centred_comoment(size_t n, size_t D, const double *Z, arb_srcptr w,
                             arb_srcptr zbar, arb_srcptr h, arb_ptr c,
                             slong prec)
{
    arb_ptr d = _arb_vec_init((slong)D);
    arb_t t;
    arb_init(t);
    _arb_vec_zero(c, (slong)D);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < D; k++) {
            arb_set_d(d + k, Z[i * D + k]);
            arb_sub(d + k, d + k, zbar + k, prec);
        }
        arb_dot(t, NULL, 0, h, 1, d, 1, (slong)D, prec);
        arb_mul(t, t, w + i, prec);
        for (size_t k = 0; k < D; k++)
            arb_addmul(c + k, t, d + k, prec);
    }
    arb_clear(t);
    _arb_vec_clear(d, (slong)D);
}

/* Copy src (k balls) to dst unless dst is NULL. */
static void vec_out(arb_ptr dst, arb_srcptr src, size_t k)
{
    if (dst != NULL)
        _arb_vec_set(dst, src, (slong)k);
}

/* Weights (n) and log sum_i exp(s_i) of the attention scores
 * <W x, z_i> + log pi_i. */
static void attn_weights(size_t n, size_t D, size_t Dq, const double *Z,
                         const double *W, const double *x, const double *pi,
                         arb_ptr w, arb_t lse, slong prec)
{
    arb_ptr a = _arb_vec_init((slong)D);
    arb_t t;
    arb_init(t);
    query_dir(D, Dq, W, x, a, prec);
    for (size_t i = 0; i < n; i++) {
        dot_bd(w + i, D, a, Z + i * D, 1, prec);
        if (pi != NULL) {
            arb_set_d(t, pi[i]);
            arb_log(t, t, prec);
            arb_add(w + i, w + i, t, prec);
        }
    }
    softmax_ball(n, w, lse, prec);
    arb_clear(t);
    _arb_vec_clear(a, (slong)D);
}

/* lse - log n. */
static void sub_log_n(arb_t lse, size_t n, slong prec)
{
    arb_t t;
    arb_init(t);
    arb_set_d(t, (double)n);
    arb_log(t, t, prec);
    arb_sub(lse, lse, t, prec);
    arb_clear(t);
}

void sl_arb_attn_forward(size_t n, size_t D, size_t Dq, size_t p,
                         const double *Z, const double *W, const double *V,
                         const double *x, const double *pi, arb_ptr w,
                         arb_ptr zbar, arb_ptr F, arb_t lognorm, slong prec)
{
    prec = arb_prec(prec);
    arb_ptr wt = _arb_vec_init((slong)n), zb = _arb_vec_init((slong)D);
    arb_t ln;
    arb_init(ln);

    /* a = W x; s_i = <a, z_i> + log pi_i; softmax; zbar; F; lognorm. */
    attn_weights(n, D, Dq, Z, W, x, pi, wt, ln, prec);
    tilted_mean(n, D, Z, wt, zb, prec);
    vec_out(w, wt, n);
    vec_out(zbar, zb, D);
    if (F != NULL)
        matvec_db(p, D, V, zb, F, prec);
    if (lognorm != NULL) {
        if (pi == NULL)
            sub_log_n(ln, n, prec);
        arb_set(lognorm, ln);
    }

    arb_clear(ln);
    _arb_vec_clear(wt, (slong)n);
    _arb_vec_clear(zb, (slong)D);
}

void sl_arb_stream(size_t n, size_t D, size_t p, const double *s,
                   const double *Z, const double *V, const double *h,
                   arb_ptr mean, arb_ptr F, arb_t lognorm, arb_t ess,
                   arb_ptr cw, slong prec)
{
    prec = arb_prec(prec);
    arb_ptr w = _arb_vec_init((slong)n), zb = _arb_vec_init((slong)D);
    arb_ptr hb = _arb_vec_init((slong)D);
    arb_t ln;
    arb_init(ln);

    /* 1. Weights of the scores, the tilted mean, F, lognorm. */
    for (size_t i = 0; i < n; i++)
        arb_set_d(w + i, s[i]);
    softmax_ball(n, w, ln, prec);
    tilted_mean(n, D, Z, w, zb, prec);
    vec_out(mean, zb, D);
    if (F != NULL)
        matvec_db(p, D, V, zb, F, prec);
    if (lognorm != NULL) {
        sub_log_n(ln, n, prec);
        arb_set(lognorm, ln);
    }

    /* 2. ess = 1 / sum_i w_i^2. */
    if (ess != NULL) {
        arb_dot(ln, NULL, 0, w, 1, w, 1, (slong)n, prec);
        arb_inv(ess, ln, prec);
    }

    /* 3. C_w h about the exact mean. */
    if (h != NULL && cw != NULL) {
        for (size_t k = 0; k < D; k++)
            arb_set_d(hb + k, h[k]);
        centred_comoment(n, D, Z, w, zb, hb, cw, prec);
    }

    arb_clear(ln);
    _arb_vec_clear(w, (slong)n);
    _arb_vec_clear(zb, (slong)D);
    _arb_vec_clear(hb, (slong)D);
}

void sl_arb_linear_forward(size_t n, size_t D, size_t Dq, size_t p,
                           const double *Z, const double *W, const double *V,
                           const double *x, arb_ptr u, arb_ptr L, slong prec)
{
    prec = arb_prec(prec);
    arb_ptr a = _arb_vec_init((slong)D), ub = _arb_vec_init((slong)D);
    arb_t s;
    arb_init(s);

    /* a = W x; u = (1/n) sum_i <a, z_i> z_i; L = V u. */
    query_dir(D, Dq, W, x, a, prec);
    for (size_t i = 0; i < n; i++) {
        dot_bd(s, D, a, Z + i * D, 1, prec);
        for (size_t k = 0; k < D; k++)
            addmul_d(ub + k, s, Z[i * D + k], prec);
    }
    for (size_t k = 0; k < D; k++)
        arb_div_ui(ub + k, ub + k, (ulong)n, prec);
    vec_out(u, ub, D);
    if (L != NULL)
        matvec_db(p, D, V, ub, L, prec);

    arb_clear(s);
    _arb_vec_clear(a, (slong)D);
    _arb_vec_clear(ub, (slong)D);
}

void sl_arb_linear_limit_gauss(size_t D, size_t Dq, size_t p, const double *m,
                               const double *S, const double *W,
                               const double *V, const double *x, arb_ptr u,
                               arb_ptr L, slong prec)
{
    prec = arb_prec(prec);
    arb_ptr a = _arb_vec_init((slong)D), ub = _arb_vec_init((slong)D);
    arb_t ma;
    arb_init(ma);

    /* a = W x; u = S a + m <m, a>; L = V u. */
    query_dir(D, Dq, W, x, a, prec);
    matvec_db(D, D, S, a, ub, prec);
    dot_bd(ma, D, a, m, 1, prec);
    for (size_t k = 0; k < D; k++)
        addmul_d(ub + k, ma, m[k], prec);
    vec_out(u, ub, D);
    if (L != NULL)
        matvec_db(p, D, V, ub, L, prec);

    arb_clear(ma);
    _arb_vec_clear(a, (slong)D);
    _arb_vec_clear(ub, (slong)D);
}

void sl_arb_limit_gauss_forward(size_t D, size_t Dq, size_t p, const double *m,
                                const double *S, const double *W,
                                const double *V, const double *x, arb_ptr mu,
                                arb_ptr F, slong prec)
{
    prec = arb_prec(prec);
    arb_ptr a = _arb_vec_init((slong)D), t = _arb_vec_init((slong)D);

    /* a = W x; mu = m + S a; F = V mu. */
    query_dir(D, Dq, W, x, a, prec);
    matvec_db(D, D, S, a, t, prec);
    for (size_t k = 0; k < D; k++)
        add_d(t + k, t + k, m[k], prec);
    vec_out(mu, t, D);
    if (F != NULL)
        matvec_db(p, D, V, t, F, prec);

    _arb_vec_clear(a, (slong)D);
    _arb_vec_clear(t, (slong)D);
}

void sl_arb_limit_gauss_quad(size_t D, const double *S, const double *a,
                             arb_t q, slong prec)
{
    prec = arb_prec(prec);
    arb_ptr ab = _arb_vec_init((slong)D), t = _arb_vec_init((slong)D);
    for (size_t k = 0; k < D; k++)
        arb_set_d(ab + k, a[k]);
    matvec_db(D, D, S, ab, t, prec);
    dot_bd(q, D, t, a, 1, prec);
    _arb_vec_clear(ab, (slong)D);
    _arb_vec_clear(t, (slong)D);
}

/* h = V^T g (p x D): column k of V against g. */
static void pullback(size_t D, size_t p, const double *V, const double *g,
                     arb_ptr h, slong prec)
{
    for (size_t k = 0; k < D; k++)
        dot_dd(h + k, p, V + k, D, g, 1, prec);
}

/* dV = g u^T (p x D) for u doubles: each entry one exact product. */
static void outer_dd(size_t p, size_t D, const double *g, const double *u,
                     arb_ptr dV, slong prec)
{
    for (size_t r = 0; r < p; r++) {
        for (size_t k = 0; k < D; k++) {
            arb_set_d(dV + r * D + k, g[r]);
            mul_d(dV + r * D + k, dV + r * D + k, u[k], prec);
        }
    }
}

void sl_arb_limit_gauss_backward(size_t D, size_t Dq, size_t p, const double *S,
                                 const double *V, const double *x,
                                 const double *mu, const double *g, arb_ptr h,
                                 arb_ptr c, arb_ptr dV, arb_ptr dW, slong prec)
{
    prec = arb_prec(prec);
    arb_ptr hb = _arb_vec_init((slong)D), cb = _arb_vec_init((slong)D);

    /* h = V^T g; c = S h; dV = g mu^T; dW = c x^T. */
    pullback(D, p, V, g, hb, prec);
    matvec_db(D, D, S, hb, cb, prec);
    vec_out(h, hb, D);
    vec_out(c, cb, D);
    if (dV != NULL)
        outer_dd(p, D, g, mu, dV, prec);
    if (dW != NULL)
        outer_bd(D, Dq, cb, x, dW, prec);

    _arb_vec_clear(hb, (slong)D);
    _arb_vec_clear(cb, (slong)D);
}

void sl_arb_attn_backward(size_t n, size_t D, size_t Dq, size_t p,
                          const double *Z, const double *V, const double *x,
                          const double *w, const double *zbar, const double *g,
                          arb_ptr h, arb_ptr c, arb_ptr dV, arb_ptr dW,
                          slong prec)
{
    prec = arb_prec(prec);
    arb_ptr hb = _arb_vec_init((slong)D), cb = _arb_vec_init((slong)D);
    arb_ptr wb = _arb_vec_init((slong)n), zb = _arb_vec_init((slong)D);

    /* h = V^T g; c about the given zbar, with the given w; dV; dW. */
    for (size_t i = 0; i < n; i++)
        arb_set_d(wb + i, w[i]);
    for (size_t k = 0; k < D; k++)
        arb_set_d(zb + k, zbar[k]);
    pullback(D, p, V, g, hb, prec);
    centred_comoment(n, D, Z, wb, zb, hb, cb, prec);
    vec_out(h, hb, D);
    vec_out(c, cb, D);
    if (dV != NULL)
        outer_dd(p, D, g, zbar, dV, prec);
    if (dW != NULL)
        outer_bd(D, Dq, cb, x, dW, prec);

    _arb_vec_clear(hb, (slong)D);
    _arb_vec_clear(cb, (slong)D);
    _arb_vec_clear(wb, (slong)n);
    _arb_vec_clear(zb, (slong)D);
}

void sl_arb_attn_grad(size_t n, size_t D, size_t Dq, size_t p, const double *Z,
                      const double *W, const double *V, const double *x,
                      const double *pi, const double *g, arb_ptr c, arb_ptr dV,
                      arb_ptr dW, slong prec)
{
    prec = arb_prec(prec);
    arb_ptr hb = _arb_vec_init((slong)D), cb = _arb_vec_init((slong)D);
    arb_ptr wb = _arb_vec_init((slong)n), zb = _arb_vec_init((slong)D);

    /* 1. The exact forward pass: weights and tilted mean. */
    attn_weights(n, D, Dq, Z, W, x, pi, wb, NULL, prec);
    tilted_mean(n, D, Z, wb, zb, prec);

    /* 2. The backward pass from them: c = C_w h, dV = g zbar^T,
     *    dW = c x^T. */
    pullback(D, p, V, g, hb, prec);
    centred_comoment(n, D, Z, wb, zb, hb, cb, prec);
    vec_out(c, cb, D);
    if (dV != NULL) {
        for (size_t r = 0; r < p; r++) {
            for (size_t k = 0; k < D; k++)
                mul_d(dV + r * D + k, zb + k, g[r], prec);
        }
    }
    if (dW != NULL)
        outer_bd(D, Dq, cb, x, dW, prec);

    _arb_vec_clear(hb, (slong)D);
    _arb_vec_clear(cb, (slong)D);
    _arb_vec_clear(wb, (slong)n);
    _arb_vec_clear(zb, (slong)D);
}

double sl_arb_mpfr_err(const arb_t ball, mpfr_srcptr x, double scale)
{
    arf_t d, lim, r;
    arf_init(d);
    arf_init(lim);
    arf_init(r);

    /* 1. |x - mid| + rad, rounded up: the distance from x to the farthest
     *    point of the ball, so an upper bound on |x - exact|.  The
     *    difference is rounded away from 0 at 64 bits, not formed exactly:
     *    x and mid may be 2^(10^300) apart in scale (MPFR's 2^-1130
     *    against Arb's exp(-2e300)), which no exact difference fits. */
    arf_set_mpfr(d, x);
    arf_sub(d, d, arb_midref(ball), 64, ARF_RND_UP);
    arf_abs(d, d);
    arf_set_mag(r, arb_radref(ball));
    arf_add(d, d, r, 64, ARF_RND_UP);

    /* 2. Relative to max(|mid|, scale), rounded up. */
    arf_abs(lim, arb_midref(ball));
    arf_set_d(r, scale);
    if (arf_cmp(r, lim) > 0)
        arf_set(lim, r);
    double e;
    if (arf_is_zero(lim)) {
        e = arf_is_zero(d) ? 0.0 : INFINITY;
    } else {
        arf_div(d, d, lim, 64, ARF_RND_UP);
        e = arf_get_d(d, ARF_RND_UP);
    }
    arf_clear(d);
    arf_clear(lim);
    arf_clear(r);
    return e;
}

int sl_arb_check_mpfr(const arb_t ball, mpfr_srcptr x, double scale)
{
    return sl_arb_mpfr_err(ball, x, scale) <= ldexp(1.0, SL_ARB_REL_RAD_EXP);
}
