/* oracle_arb.c -- ball-arithmetic enclosures of softmax, log-sum-exp,
 * attention and the Gaussian limit.
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
 * largest midpoint, an exact number. */
static void softmax_ball(size_t n, arb_ptr e, arb_t lse, slong prec)
{
    arf_t c;
    arb_t cb, sum;
    arf_init(c);
    arb_init(cb);
    arb_init(sum);

    arf_set(c, arb_midref(e));
    for (size_t i = 1; i < n; i++) {
        if (arf_cmp(arb_midref(e + i), c) > 0)
            arf_set(c, arb_midref(e + i));
    }
    arb_set_arf(cb, c);
    arb_zero(sum);
    for (size_t i = 0; i < n; i++) {
        arb_sub(e + i, e + i, cb, prec);
        arb_exp(e + i, e + i, prec);
        arb_add(sum, sum, e + i, prec);
    }
    for (size_t i = 0; i < n; i++)
        arb_div(e + i, e + i, sum, prec);
    if (lse != NULL) {
        arb_log(lse, sum, prec);
        arb_add(lse, lse, cb, prec);
    }
    arf_clear(c);
    arb_clear(cb);
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

void sl_arb_attn_forward(size_t n, size_t D, size_t Dq, size_t p,
                         const double *Z, const double *W, const double *V,
                         const double *x, const double *pi, arb_ptr zbar,
                         arb_ptr F, arb_t lognorm, slong prec)
{
    prec = arb_prec(prec);
    arb_ptr a = _arb_vec_init((slong)D), w = _arb_vec_init((slong)n);
    arb_ptr zb = _arb_vec_init((slong)D);
    arb_t t, ln;
    arb_init(t);
    arb_init(ln);

    /* a = W x; s_i = <a, z_i> + log pi_i; softmax; zbar; F; lognorm. */
    for (size_t k = 0; k < D; k++)
        dot_dd(a + k, Dq, W + k * Dq, 1, x, 1, prec);
    for (size_t i = 0; i < n; i++) {
        dot_bd(w + i, D, a, Z + i * D, 1, prec);
        if (pi != NULL) {
            arb_set_d(t, pi[i]);
            arb_log(t, t, prec);
            arb_add(w + i, w + i, t, prec);
        }
    }
    softmax_ball(n, w, ln, prec);
    for (size_t k = 0; k < D; k++)
        dot_bd(zb + k, n, w, Z + k, D, prec);
    if (zbar != NULL)
        _arb_vec_set(zbar, zb, (slong)D);
    if (F != NULL) {
        for (size_t r = 0; r < p; r++)
            dot_bd(F + r, D, zb, V + r * D, 1, prec);
    }
    if (lognorm != NULL) {
        if (pi == NULL) {
            arb_set_d(t, (double)n);
            arb_log(t, t, prec);
            arb_sub(ln, ln, t, prec);
        }
        arb_set(lognorm, ln);
    }

    arb_clear(t);
    arb_clear(ln);
    _arb_vec_clear(a, (slong)D);
    _arb_vec_clear(w, (slong)n);
    _arb_vec_clear(zb, (slong)D);
}

void sl_arb_limit_gauss_forward(size_t D, size_t Dq, size_t p, const double *m,
                                const double *S, const double *W,
                                const double *V, const double *x, arb_ptr mu,
                                arb_ptr F, slong prec)
{
    prec = arb_prec(prec);
    arb_ptr a = _arb_vec_init((slong)D), t = _arb_vec_init((slong)D);
    arb_t y;
    arb_init(y);
    for (size_t k = 0; k < D; k++)
        dot_dd(a + k, Dq, W + k * Dq, 1, x, 1, prec);
    for (size_t k = 0; k < D; k++) {
        dot_bd(t + k, D, a, S + k * D, 1, prec);
        arb_set_d(y, m[k]);
        arb_add(t + k, t + k, y, prec);
    }
    if (mu != NULL)
        _arb_vec_set(mu, t, (slong)D);
    if (F != NULL) {
        for (size_t r = 0; r < p; r++)
            dot_bd(F + r, D, t, V + r * D, 1, prec);
    }
    arb_clear(y);
    _arb_vec_clear(a, (slong)D);
    _arb_vec_clear(t, (slong)D);
}

double sl_arb_mpfr_err(const arb_t ball, mpfr_srcptr x, double scale)
{
    arf_t d, lim, r;
    arf_init(d);
    arf_init(lim);
    arf_init(r);

    /* 1. |x - mid| + rad, rounded up: the distance from x to the farthest
     *    point of the ball, so an upper bound on |x - exact|. */
    arf_set_mpfr(d, x);
    arf_sub(d, d, arb_midref(ball), ARF_PREC_EXACT, ARF_RND_UP);
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
