/* oracle_mpfr.c -- the kernels' definitions evaluated in MPFR.
 *
 * Every double input is read exactly (mpfr_set_d), every product of two
 * doubles is exact at prec >= 106, and every other operation is one
 * correctly rounded MPFR step at prec bits: relative error <= 2^-prec,
 * written eps below.  The error of each oracle is then bounded step by
 * step next to the code; oracle_mpfr.h states the resulting precision,
 * and oracle_arb.c certifies it independently on the same inputs.
 *
 * Softmax is evaluated as the kernels do, after subtracting the largest
 * score M, not for stability (MPFR's exponent range is 2^30 binades) but
 * so that exp never sees an argument above 0 and the normaliser is >= 1.
 */
#include <stdlib.h>

#include "oracle/oracle_mpfr.h"

/* The working precision: prec, or the default when prec is 0; never
 * below 106 bits so that a product of two doubles is exact. */
static mpfr_prec_t work_prec(mpfr_prec_t prec)
{
    if (prec == 0)
        prec = SL_ORACLE_PREC_BITS;
    return prec < 106 ? 106 : prec;
}

mpfr_t *sl_mpvec_new(size_t n, mpfr_prec_t prec)
{
    mpfr_t *v = malloc((n > 0 ? n : 1) * sizeof *v);
    if (v == NULL)
        return NULL;
    prec = work_prec(prec);
    for (size_t i = 0; i < n; i++) {
        mpfr_init2(v[i], prec);
        mpfr_set_zero(v[i], 1);
    }
    return v;
}

void sl_mpvec_free(size_t n, mpfr_t *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        mpfr_clear(v[i]);
    free(v);
}

void sl_mpvec_get_d(size_t n, mpfr_t *v, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = mpfr_get_d(v[i], MPFR_RNDN);
}

double sl_oracle_abs_err(double got, mpfr_srcptr exact)
{
    mpfr_t d;
    mpfr_init2(d, mpfr_get_prec(exact) + 1100);
    /* Exact: the precision covers both exponent ranges. */
    mpfr_sub_d(d, exact, got, MPFR_RNDN);
    mpfr_abs(d, d, MPFR_RNDN);
    double e = mpfr_get_d(d, MPFR_RNDU);
    mpfr_clear(d);
    return e;
}

/* Copy the first n entries of src into dst, when dst is wanted. */
static void copy_out(size_t n, mpfr_t *dst, mpfr_t *src)
{
    if (dst == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        mpfr_set(dst[i], src[i], MPFR_RNDN);
}

/* Round the first n entries of src to double, when out is wanted. */
static void get_out(size_t n, double *out, mpfr_t *src)
{
    if (out != NULL)
        sl_mpvec_get_d(n, src, out);
}

/* r = sum_{i < n} u[i su] v[i sv]: exact products, n roundings of the
 * running sum, so |err| <= n eps sum_i |u_i v_i| (to first order). */
static void dot_dd(mpfr_ptr r, size_t n, const double *u, size_t su,
                   const double *v, size_t sv, mpfr_ptr tmp)
{
    mpfr_set_zero(r, 1);
    for (size_t i = 0; i < n; i++) {
        mpfr_set_d(tmp, u[i * su], MPFR_RNDN);
        mpfr_mul_d(tmp, tmp, v[i * sv], MPFR_RNDN); /* exact */
        mpfr_add(r, r, tmp, MPFR_RNDN);             /* eps |r| */
    }
}

/* r = sum_{i < n} u[i] v[i sv] with u in MPFR: 2 n eps sum |u_i v_i|. */
static void dot_md(mpfr_ptr r, size_t n, mpfr_t *u, const double *v, size_t sv,
                   mpfr_ptr tmp)
{
    mpfr_set_zero(r, 1);
    for (size_t i = 0; i < n; i++) {
        mpfr_mul_d(tmp, u[i], v[i * sv], MPFR_RNDN); /* eps |u_i v_i| */
        mpfr_add(r, r, tmp, MPFR_RNDN);              /* eps |r| */
    }
}

/* y = A x, A (rows x cols) in double, x in MPFR. */
static void matvec_dm(size_t rows, size_t cols, const double *A, mpfr_t *x,
                      mpfr_t *y, mpfr_ptr tmp)
{
    for (size_t r = 0; r < rows; r++)
        dot_md(y[r], cols, x, A + r * cols, 1, tmp);
}

/* y = A x, both in double. */
static void matvec_dd(size_t rows, size_t cols, const double *A,
                      const double *x, mpfr_t *y, mpfr_ptr tmp)
{
    for (size_t r = 0; r < rows; r++)
        dot_dd(y[r], cols, A + r * cols, 1, x, 1, tmp);
}

/* In place: scores s (n) become softmax weights.  *logsum, when wanted,
 * gets log sum_i exp(s_i); *sq, when wanted, sum_i w_i^2.
 *
 * Error: M is exact.  Each s_i - M carries eps |s_i - M| absolute, so
 * exp(s_i - M) is within (|s_i - M| + 1) eps relative; the sum adds n eps,
 * the division eps: every weight within (|s_i - M| + n + 3) eps relative,
 * and |s_i - M| < 2^30 for every weight that MPFR does not flush to 0. */
static void softmax_mp(size_t n, mpfr_t *s, mpfr_ptr logsum, mpfr_ptr sq,
                       mpfr_prec_t prec)
{
    mpfr_t m, sum, rest, t;
    mpfr_inits2(prec, m, sum, rest, t, (mpfr_ptr)0);

    /* 1. M = max_i s_i (exact), first attained at top. */
    size_t top = 0;
    for (size_t i = 1; i < n; i++) {
        if (mpfr_cmp(s[i], s[top]) > 0)
            top = i;
    }
    mpfr_set(m, s[top], MPFR_RNDN);

    /* 2. e_i = exp(s_i - M) in (0, 1]; rest = sum over i != top, so that
     *    the log-normaliser is M + log1p(rest), exact to the precision
     *    even when rest is far below 2^-prec. */
    mpfr_set_zero(rest, 1);
    for (size_t i = 0; i < n; i++) {
        mpfr_sub(s[i], s[i], m, MPFR_RNDN); /* eps |s_i - M| */
        mpfr_exp(s[i], s[i], MPFR_RNDN);    /* eps relative */
        if (i != top)
            mpfr_add(rest, rest, s[i], MPFR_RNDN); /* eps |rest| */
    }
    mpfr_add_ui(sum, rest, 1, MPFR_RNDN); /* eps |sum|, sum in [1, n] */

    /* 3. Normalise (eps relative each), and the optional statistics. */
    if (sq != NULL)
        mpfr_set_zero(sq, 1);
    for (size_t i = 0; i < n; i++) {
        mpfr_div(s[i], s[i], sum, MPFR_RNDN);
        if (sq != NULL) {
            mpfr_sqr(t, s[i], MPFR_RNDN);
            mpfr_add(sq, sq, t, MPFR_RNDN);
        }
    }
    if (logsum != NULL) {
        mpfr_log1p(t, rest, MPFR_RNDN); /* eps |log1p rest| */
        mpfr_add(logsum, m, t, MPFR_RNDN);
    }
    mpfr_clears(m, sum, rest, t, (mpfr_ptr)0);
}

/* ---- softmax.h -------------------------------------------------------- */

sl_status sl_oracle_softmax_mpfr(size_t n, const double *s, mpfr_t *w,
                                 mpfr_prec_t prec)
{
    prec = work_prec(prec);
    mpfr_t *e = sl_mpvec_new(n, prec);
    if (e == NULL)
        return SL_ENOMEM;
    for (size_t i = 0; i < n; i++)
        mpfr_set_d(e[i], s[i], MPFR_RNDN);
    softmax_mp(n, e, NULL, NULL, prec);
    copy_out(n, w, e);
    sl_mpvec_free(n, e);
    return SL_OK;
}

sl_status sl_oracle_softmax(size_t n, const double *s, double *w)
{
    mpfr_t *e = sl_mpvec_new(n, 0);
    if (e == NULL)
        return SL_ENOMEM;
    sl_status st = sl_oracle_softmax_mpfr(n, s, e, 0);
    if (st == SL_OK)
        sl_mpvec_get_d(n, e, w);
    sl_mpvec_free(n, e);
    return st;
}

sl_status sl_oracle_logsumexp_mpfr(size_t n, const double *s, mpfr_ptr lse,
                                   mpfr_prec_t prec)
{
    prec = work_prec(prec);
    mpfr_t *e = sl_mpvec_new(n, prec);
    if (e == NULL)
        return SL_ENOMEM;
    for (size_t i = 0; i < n; i++)
        mpfr_set_d(e[i], s[i], MPFR_RNDN);
    mpfr_t r;
    mpfr_init2(r, prec);
    softmax_mp(n, e, r, NULL, prec);
    mpfr_set(lse, r, MPFR_RNDN);
    mpfr_clear(r);
    sl_mpvec_free(n, e);
    return SL_OK;
}

sl_status sl_oracle_logsumexp(size_t n, const double *s, double *lse)
{
    mpfr_t r;
    mpfr_init2(r, work_prec(0));
    sl_status st = sl_oracle_logsumexp_mpfr(n, s, r, 0);
    *lse = mpfr_get_d(r, MPFR_RNDN);
    mpfr_clear(r);
    return st;
}

/* ---- attention.h ------------------------------------------------------ */

sl_status sl_oracle_attn_forward_mpfr(size_t n, size_t D, size_t Dq, size_t p,
                                      const double *Z, const double *W,
                                      const double *V, const double *x,
                                      const double *pi, mpfr_t *a, mpfr_t *w,
                                      mpfr_t *zbar, mpfr_t *F, mpfr_ptr lognorm,
                                      mpfr_prec_t prec)
{
    prec = work_prec(prec);
    sl_status st = SL_ENOMEM;
    mpfr_t *ta = sl_mpvec_new(D, prec), *tw = sl_mpvec_new(n, prec);
    mpfr_t *tz = sl_mpvec_new(D, prec), *tf = sl_mpvec_new(p, prec);
    mpfr_t tmp, ln;
    mpfr_inits2(prec, tmp, ln, (mpfr_ptr)0);
    if (ta == NULL || tw == NULL || tz == NULL || tf == NULL)
        goto out;

    /* 1. a = W x: Dq eps relative to sum_j |W_kj x_j|. */
    matvec_dd(D, Dq, W, x, ta, tmp);

    /* 2. s_i = <a, z_i> + log pi_i: 2 D eps relative to sum |a_k z_ik|
     *    on top of a's error, plus 2 eps |log pi_i|. */
    for (size_t i = 0; i < n; i++) {
        dot_md(tw[i], D, ta, Z + i * D, 1, tmp);
        if (pi != NULL) {
            mpfr_set_d(tmp, pi[i], MPFR_RNDN);
            mpfr_log(tmp, tmp, MPFR_RNDN);
            mpfr_add(tw[i], tw[i], tmp, MPFR_RNDN);
        }
    }

    /* 3. Weights and log-normaliser (softmax_mp's bound). */
    softmax_mp(n, tw, ln, NULL, prec);
    if (pi == NULL) {
        mpfr_set_d(tmp, (double)n, MPFR_RNDN); /* exact, n < 2^53 */
        mpfr_log(tmp, tmp, MPFR_RNDN);
        mpfr_sub(ln, ln, tmp, MPFR_RNDN);
    }

    /* 4. zbar = Z^T w: 2 n eps relative to sum_i w_i |z_ik|. */
    for (size_t k = 0; k < D; k++)
        dot_md(tz[k], n, tw, Z + k, D, tmp);

    /* 5. F = V zbar: 2 D eps relative to sum_k |V_rk zbar_k|. */
    matvec_dm(p, D, V, tz, tf, tmp);

    copy_out(D, a, ta);
    copy_out(n, w, tw);
    copy_out(D, zbar, tz);
    copy_out(p, F, tf);
    if (lognorm != NULL)
        mpfr_set(lognorm, ln, MPFR_RNDN);
    st = SL_OK;
out:
    mpfr_clears(tmp, ln, (mpfr_ptr)0);
    sl_mpvec_free(D, ta);
    sl_mpvec_free(n, tw);
    sl_mpvec_free(D, tz);
    sl_mpvec_free(p, tf);
    return st;
}

sl_status sl_oracle_attn_forward(size_t n, size_t D, size_t Dq, size_t p,
                                 const double *Z, const double *W,
                                 const double *V, const double *x,
                                 const double *pi, double *a, double *w,
                                 double *zbar, double *F, double *lognorm)
{
    sl_status st = SL_ENOMEM;
    mpfr_t *ta = sl_mpvec_new(D, 0), *tw = sl_mpvec_new(n, 0);
    mpfr_t *tz = sl_mpvec_new(D, 0), *tf = sl_mpvec_new(p, 0);
    mpfr_t ln;
    mpfr_init2(ln, work_prec(0));
    if (ta == NULL || tw == NULL || tz == NULL || tf == NULL)
        goto out;
    st = sl_oracle_attn_forward_mpfr(n, D, Dq, p, Z, W, V, x, pi, ta, tw, tz,
                                     tf, ln, 0);
    if (st != SL_OK)
        goto out;
    get_out(D, a, ta);
    get_out(n, w, tw);
    get_out(D, zbar, tz);
    get_out(p, F, tf);
    if (lognorm != NULL)
        *lognorm = mpfr_get_d(ln, MPFR_RNDN);
out:
    mpfr_clear(ln);
    sl_mpvec_free(D, ta);
    sl_mpvec_free(n, tw);
    sl_mpvec_free(D, tz);
    sl_mpvec_free(p, tf);
    return st;
}

/* ---- stream.h --------------------------------------------------------- */

sl_status sl_oracle_stream_mpfr(size_t n, size_t D, size_t p, const double *s,
                                const double *Z, const double *V,
                                const double *h, mpfr_t *mean, mpfr_t *F,
                                mpfr_ptr lognorm, mpfr_ptr ess, mpfr_t *cw,
                                mpfr_prec_t prec)
{
    prec = work_prec(prec);
    sl_status st = SL_ENOMEM;
    mpfr_t *tw = sl_mpvec_new(n, prec), *tz = sl_mpvec_new(D, prec);
    mpfr_t *tf = sl_mpvec_new(p, prec), *tc = sl_mpvec_new(D, prec);
    mpfr_t tmp, ln, sq, t, d;
    mpfr_inits2(prec, tmp, ln, sq, t, d, (mpfr_ptr)0);
    if (tw == NULL || tz == NULL || tf == NULL || tc == NULL)
        goto out;

    /* 1. Weights from the given scores, and the two-pass moments. */
    for (size_t i = 0; i < n; i++)
        mpfr_set_d(tw[i], s[i], MPFR_RNDN);
    softmax_mp(n, tw, ln, sq, prec);
    for (size_t k = 0; k < D; k++)
        dot_md(tz[k], n, tw, Z + k, D, tmp);
    matvec_dm(p, D, V, tz, tf, tmp);

    /* 2. log((1/n) sum e^{s_i}) and ess = 1 / sum w_i^2. */
    mpfr_set_d(tmp, (double)n, MPFR_RNDN);
    mpfr_log(tmp, tmp, MPFR_RNDN);
    mpfr_sub(ln, ln, tmp, MPFR_RNDN);
    mpfr_ui_div(sq, 1, sq, MPFR_RNDN);

    /* 3. C_w h = sum_i w_i (z_i - zbar) <h, z_i - zbar>, centred. */
    if (h != NULL && cw != NULL) {
        for (size_t i = 0; i < n; i++) {
            mpfr_set_zero(t, 1);
            for (size_t k = 0; k < D; k++) {
                mpfr_sub_d(d, tz[k], Z[i * D + k], MPFR_RNDN);
                mpfr_neg(d, d, MPFR_RNDN);
                mpfr_mul_d(d, d, h[k], MPFR_RNDN);
                mpfr_add(t, t, d, MPFR_RNDN);
            }
            mpfr_mul(t, t, tw[i], MPFR_RNDN);
            for (size_t k = 0; k < D; k++) {
                mpfr_sub_d(d, tz[k], Z[i * D + k], MPFR_RNDN);
                mpfr_mul(d, d, t, MPFR_RNDN);
                mpfr_sub(tc[k], tc[k], d, MPFR_RNDN);
            }
        }
        copy_out(D, cw, tc);
    }

    copy_out(D, mean, tz);
    copy_out(p, F, tf);
    if (lognorm != NULL)
        mpfr_set(lognorm, ln, MPFR_RNDN);
    if (ess != NULL)
        mpfr_set(ess, sq, MPFR_RNDN);
    st = SL_OK;
out:
    mpfr_clears(tmp, ln, sq, t, d, (mpfr_ptr)0);
    sl_mpvec_free(n, tw);
    sl_mpvec_free(D, tz);
    sl_mpvec_free(p, tf);
    sl_mpvec_free(D, tc);
    return st;
}

sl_status sl_oracle_stream(size_t n, size_t D, size_t p, const double *s,
                           const double *Z, const double *V, const double *h,
                           double *mean, double *F, double *lognorm,
                           double *ess, double *cw)
{
    sl_status st = SL_ENOMEM;
    mpfr_t *tz = sl_mpvec_new(D, 0), *tf = sl_mpvec_new(p, 0);
    mpfr_t *tc = sl_mpvec_new(D, 0);
    mpfr_t ln, es;
    mpfr_inits2(work_prec(0), ln, es, (mpfr_ptr)0);
    if (tz == NULL || tf == NULL || tc == NULL)
        goto out;
    st = sl_oracle_stream_mpfr(n, D, p, s, Z, V, h, tz, tf, ln, es,
                               h != NULL ? tc : NULL, 0);
    if (st != SL_OK)
        goto out;
    get_out(D, mean, tz);
    get_out(p, F, tf);
    if (h != NULL)
        get_out(D, cw, tc);
    if (lognorm != NULL)
        *lognorm = mpfr_get_d(ln, MPFR_RNDN);
    if (ess != NULL)
        *ess = mpfr_get_d(es, MPFR_RNDN);
out:
    mpfr_clears(ln, es, (mpfr_ptr)0);
    sl_mpvec_free(D, tz);
    sl_mpvec_free(p, tf);
    sl_mpvec_free(D, tc);
    return st;
}

/* ---- linear.h --------------------------------------------------------- */

sl_status sl_oracle_linear_forward_mpfr(size_t n, size_t D, size_t Dq, size_t p,
                                        const double *Z, const double *W,
                                        const double *V, const double *x,
                                        mpfr_t *a, mpfr_t *u, mpfr_t *L,
                                        mpfr_prec_t prec)
{
    prec = work_prec(prec);
    sl_status st = SL_ENOMEM;
    mpfr_t *ta = sl_mpvec_new(D, prec), *tu = sl_mpvec_new(D, prec);
    mpfr_t *tl = sl_mpvec_new(p, prec);
    mpfr_t tmp, s;
    mpfr_inits2(prec, tmp, s, (mpfr_ptr)0);
    if (ta == NULL || tu == NULL || tl == NULL)
        goto out;

    /* 1. a = W x; 2. u = (1/n) sum_i <a, z_i> z_i; 3. L = V u.  Each sum
     *    of k terms is within 2 k eps of its sum of absolute values. */
    matvec_dd(D, Dq, W, x, ta, tmp);
    for (size_t i = 0; i < n; i++) {
        dot_md(s, D, ta, Z + i * D, 1, tmp);
        for (size_t k = 0; k < D; k++) {
            mpfr_mul_d(tmp, s, Z[i * D + k], MPFR_RNDN);
            mpfr_add(tu[k], tu[k], tmp, MPFR_RNDN);
        }
    }
    for (size_t k = 0; k < D; k++)
        mpfr_div_d(tu[k], tu[k], (double)n, MPFR_RNDN);
    matvec_dm(p, D, V, tu, tl, tmp);

    copy_out(D, a, ta);
    copy_out(D, u, tu);
    copy_out(p, L, tl);
    st = SL_OK;
out:
    mpfr_clears(tmp, s, (mpfr_ptr)0);
    sl_mpvec_free(D, ta);
    sl_mpvec_free(D, tu);
    sl_mpvec_free(p, tl);
    return st;
}

/* Round three optional MPFR vectors (sizes n1, n2, n3) to double. */
static void get3(size_t n1, mpfr_t *v1, double *o1, size_t n2, mpfr_t *v2,
                 double *o2, size_t n3, mpfr_t *v3, double *o3)
{
    get_out(n1, o1, v1);
    get_out(n2, o2, v2);
    get_out(n3, o3, v3);
}

sl_status sl_oracle_linear_forward(size_t n, size_t D, size_t Dq, size_t p,
                                   const double *Z, const double *W,
                                   const double *V, const double *x, double *a,
                                   double *u, double *L)
{
    sl_status st = SL_ENOMEM;
    mpfr_t *ta = sl_mpvec_new(D, 0), *tu = sl_mpvec_new(D, 0);
    mpfr_t *tl = sl_mpvec_new(p, 0);
    if (ta != NULL && tu != NULL && tl != NULL)
        st = sl_oracle_linear_forward_mpfr(n, D, Dq, p, Z, W, V, x, ta, tu, tl,
                                           0);
    if (st == SL_OK)
        get3(D, ta, a, D, tu, u, p, tl, L);
    sl_mpvec_free(D, ta);
    sl_mpvec_free(D, tu);
    sl_mpvec_free(p, tl);
    return st;
}

sl_status sl_oracle_linear_limit_gauss_mpfr(size_t D, size_t Dq, size_t p,
                                            const double *m, const double *S,
                                            const double *W, const double *V,
                                            const double *x, mpfr_t *a,
                                            mpfr_t *u, mpfr_t *L,
                                            mpfr_prec_t prec)
{
    prec = work_prec(prec);
    sl_status st = SL_ENOMEM;
    mpfr_t *ta = sl_mpvec_new(D, prec), *tu = sl_mpvec_new(D, prec);
    mpfr_t *tl = sl_mpvec_new(p, prec);
    mpfr_t tmp, ma;
    mpfr_inits2(prec, tmp, ma, (mpfr_ptr)0);
    if (ta == NULL || tu == NULL || tl == NULL)
        goto out;

    /* a = W x, u = S a + m <m, a>, L = V u. */
    matvec_dd(D, Dq, W, x, ta, tmp);
    matvec_dm(D, D, S, ta, tu, tmp);
    dot_md(ma, D, ta, m, 1, tmp);
    for (size_t k = 0; k < D; k++) {
        mpfr_mul_d(tmp, ma, m[k], MPFR_RNDN);
        mpfr_add(tu[k], tu[k], tmp, MPFR_RNDN);
    }
    matvec_dm(p, D, V, tu, tl, tmp);

    copy_out(D, a, ta);
    copy_out(D, u, tu);
    copy_out(p, L, tl);
    st = SL_OK;
out:
    mpfr_clears(tmp, ma, (mpfr_ptr)0);
    sl_mpvec_free(D, ta);
    sl_mpvec_free(D, tu);
    sl_mpvec_free(p, tl);
    return st;
}

sl_status sl_oracle_linear_limit_gauss(size_t D, size_t Dq, size_t p,
                                       const double *m, const double *S,
                                       const double *W, const double *V,
                                       const double *x, double *a, double *u,
                                       double *L)
{
    sl_status st = SL_ENOMEM;
    mpfr_t *ta = sl_mpvec_new(D, 0), *tu = sl_mpvec_new(D, 0);
    mpfr_t *tl = sl_mpvec_new(p, 0);
    if (ta != NULL && tu != NULL && tl != NULL)
        st = sl_oracle_linear_limit_gauss_mpfr(D, Dq, p, m, S, W, V, x, ta, tu,
                                               tl, 0);
    if (st == SL_OK)
        get3(D, ta, a, D, tu, u, p, tl, L);
    sl_mpvec_free(D, ta);
    sl_mpvec_free(D, tu);
    sl_mpvec_free(p, tl);
    return st;
}

/* ---- limit.h ---------------------------------------------------------- */

sl_status sl_oracle_limit_gauss_forward_mpfr(size_t D, size_t Dq, size_t p,
                                             const double *m, const double *S,
                                             const double *W, const double *V,
                                             const double *x, mpfr_t *a,
                                             mpfr_t *mu, mpfr_t *F,
                                             mpfr_prec_t prec)
{
    prec = work_prec(prec);
    sl_status st = SL_ENOMEM;
    mpfr_t *ta = sl_mpvec_new(D, prec), *tm = sl_mpvec_new(D, prec);
    mpfr_t *tf = sl_mpvec_new(p, prec);
    mpfr_t tmp;
    mpfr_init2(tmp, prec);
    if (ta == NULL || tm == NULL || tf == NULL)
        goto out;

    /* a = W x, mu = m + S a, F = V mu. */
    matvec_dd(D, Dq, W, x, ta, tmp);
    matvec_dm(D, D, S, ta, tm, tmp);
    for (size_t k = 0; k < D; k++)
        mpfr_add_d(tm[k], tm[k], m[k], MPFR_RNDN);
    matvec_dm(p, D, V, tm, tf, tmp);

    copy_out(D, a, ta);
    copy_out(D, mu, tm);
    copy_out(p, F, tf);
    st = SL_OK;
out:
    mpfr_clear(tmp);
    sl_mpvec_free(D, ta);
    sl_mpvec_free(D, tm);
    sl_mpvec_free(p, tf);
    return st;
}

sl_status sl_oracle_limit_gauss_forward(size_t D, size_t Dq, size_t p,
                                        const double *m, const double *S,
                                        const double *W, const double *V,
                                        const double *x, double *a, double *mu,
                                        double *F)
{
    sl_status st = SL_ENOMEM;
    mpfr_t *ta = sl_mpvec_new(D, 0), *tm = sl_mpvec_new(D, 0);
    mpfr_t *tf = sl_mpvec_new(p, 0);
    if (ta != NULL && tm != NULL && tf != NULL)
        st = sl_oracle_limit_gauss_forward_mpfr(D, Dq, p, m, S, W, V, x, ta, tm,
                                                tf, 0);
    if (st == SL_OK)
        get3(D, ta, a, D, tm, mu, p, tf, F);
    sl_mpvec_free(D, ta);
    sl_mpvec_free(D, tm);
    sl_mpvec_free(p, tf);
    return st;
}

sl_status sl_oracle_limit_gauss_quad_mpfr(size_t D, const double *S,
                                          const double *a, mpfr_ptr q,
                                          mpfr_prec_t prec)
{
    prec = work_prec(prec);
    mpfr_t *w = sl_mpvec_new(D, prec);
    if (w == NULL)
        return SL_ENOMEM;
    mpfr_t tmp, r;
    mpfr_inits2(prec, tmp, r, (mpfr_ptr)0);
    matvec_dd(D, D, S, a, w, tmp);
    dot_md(r, D, w, a, 1, tmp);
    mpfr_set(q, r, MPFR_RNDN);
    mpfr_clears(tmp, r, (mpfr_ptr)0);
    sl_mpvec_free(D, w);
    return SL_OK;
}

sl_status sl_oracle_limit_gauss_quad(size_t D, const double *S, const double *a,
                                     double *q)
{
    mpfr_t r;
    mpfr_init2(r, work_prec(0));
    sl_status st = sl_oracle_limit_gauss_quad_mpfr(D, S, a, r, 0);
    *q = mpfr_get_d(r, MPFR_RNDN);
    mpfr_clear(r);
    return st;
}

/* dV = g u^T (p x D), dW = c x^T (D x Dq), u in double, c in MPFR. */
static void outer_grads(size_t D, size_t Dq, size_t p, const double *g,
                        const double *u, mpfr_t *c, const double *x, mpfr_t *dV,
                        mpfr_t *dW)
{
    if (dV != NULL) {
        for (size_t r = 0; r < p; r++) {
            for (size_t k = 0; k < D; k++) {
                mpfr_set_d(dV[r * D + k], g[r], MPFR_RNDN);
                mpfr_mul_d(dV[r * D + k], dV[r * D + k], u[k], MPFR_RNDN);
            }
        }
    }
    if (dW != NULL) {
        for (size_t k = 0; k < D; k++) {
            for (size_t j = 0; j < Dq; j++)
                mpfr_mul_d(dW[k * Dq + j], c[k], x[j], MPFR_RNDN);
        }
    }
}

sl_status sl_oracle_limit_gauss_backward_mpfr(size_t D, size_t Dq, size_t p,
                                              const double *S, const double *V,
                                              const double *x, const double *mu,
                                              const double *g, mpfr_t *h,
                                              mpfr_t *c, mpfr_t *dV, mpfr_t *dW,
                                              mpfr_prec_t prec)
{
    prec = work_prec(prec);
    sl_status st = SL_ENOMEM;
    mpfr_t *th = sl_mpvec_new(D, prec), *tc = sl_mpvec_new(D, prec);
    mpfr_t tmp;
    mpfr_init2(tmp, prec);
    if (th == NULL || tc == NULL)
        goto out;

    /* h = V^T g, c = S h, dV = g mu^T, dW = c x^T. */
    for (size_t k = 0; k < D; k++)
        dot_dd(th[k], p, V + k, D, g, 1, tmp);
    matvec_dm(D, D, S, th, tc, tmp);
    outer_grads(D, Dq, p, g, mu, tc, x, dV, dW);
    copy_out(D, h, th);
    copy_out(D, c, tc);
    st = SL_OK;
out:
    mpfr_clear(tmp);
    sl_mpvec_free(D, th);
    sl_mpvec_free(D, tc);
    return st;
}

/* Round the four backward outputs to double. */
static void get_grads(size_t D, size_t Dq, size_t p, mpfr_t *th, mpfr_t *tc,
                      mpfr_t *tv, mpfr_t *tw, double *h, double *c, double *dV,
                      double *dW)
{
    get_out(D, h, th);
    get_out(D, c, tc);
    get_out(p * D, dV, tv);
    get_out(D * Dq, dW, tw);
}

sl_status sl_oracle_limit_gauss_backward(size_t D, size_t Dq, size_t p,
                                         const double *S, const double *V,
                                         const double *x, const double *mu,
                                         const double *g, double *h, double *c,
                                         double *dV, double *dW)
{
    sl_status st = SL_ENOMEM;
    mpfr_t *th = sl_mpvec_new(D, 0), *tc = sl_mpvec_new(D, 0);
    mpfr_t *tv = sl_mpvec_new(p * D, 0), *tw = sl_mpvec_new(D * Dq, 0);
    if (th != NULL && tc != NULL && tv != NULL && tw != NULL)
        st = sl_oracle_limit_gauss_backward_mpfr(D, Dq, p, S, V, x, mu, g, th,
                                                 tc, tv, tw, 0);
    if (st == SL_OK)
        get_grads(D, Dq, p, th, tc, tv, tw, h, c, dV, dW);
    sl_mpvec_free(D, th);
    sl_mpvec_free(D, tc);
    sl_mpvec_free(p * D, tv);
    sl_mpvec_free(D * Dq, tw);
    return st;
}

/* ---- gradient.h ------------------------------------------------------- */

sl_status sl_oracle_attn_backward_mpfr(size_t n, size_t D, size_t Dq, size_t p,
                                       const double *Z, const double *V,
                                       const double *x, const double *w,
                                       const double *zbar, const double *g,
                                       mpfr_t *h, mpfr_t *c, mpfr_t *dV,
                                       mpfr_t *dW, mpfr_prec_t prec)
{
    prec = work_prec(prec);
    sl_status st = SL_ENOMEM;
    mpfr_t *th = sl_mpvec_new(D, prec), *tc = sl_mpvec_new(D, prec);
    mpfr_t *dz = sl_mpvec_new(D, prec);
    mpfr_t tmp, t;
    mpfr_inits2(prec, tmp, t, (mpfr_ptr)0);
    if (th == NULL || tc == NULL || dz == NULL)
        goto out;

    /* 1. h = V^T g. */
    for (size_t k = 0; k < D; k++)
        dot_dd(th[k], p, V + k, D, g, 1, tmp);

    /* 2. c = sum_i w_i <h, z_i - zbar> (z_i - zbar); the differences of
     *    two doubles are exact at prec >= 2100 only, so each carries eps
     *    relative, and c is within (2 D + n + 4) eps of
     *    sum_i w_i |<h, z_i - zbar>| |z_ik - zbar_k| plus the same
     *    relative error in the inner products. */
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < D; k++) {
            mpfr_set_d(dz[k], Z[i * D + k], MPFR_RNDN);
            mpfr_sub_d(dz[k], dz[k], zbar[k], MPFR_RNDN);
        }
        mpfr_set_zero(t, 1);
        for (size_t k = 0; k < D; k++) {
            mpfr_mul(tmp, dz[k], th[k], MPFR_RNDN);
            mpfr_add(t, t, tmp, MPFR_RNDN);
        }
        mpfr_mul_d(t, t, w[i], MPFR_RNDN);
        for (size_t k = 0; k < D; k++) {
            mpfr_mul(tmp, dz[k], t, MPFR_RNDN);
            mpfr_add(tc[k], tc[k], tmp, MPFR_RNDN);
        }
    }

    /* 3. dV = g zbar^T, dW = c x^T. */
    outer_grads(D, Dq, p, g, zbar, tc, x, dV, dW);
    copy_out(D, h, th);
    copy_out(D, c, tc);
    st = SL_OK;
out:
    mpfr_clears(tmp, t, (mpfr_ptr)0);
    sl_mpvec_free(D, th);
    sl_mpvec_free(D, tc);
    sl_mpvec_free(D, dz);
    return st;
}

sl_status sl_oracle_attn_backward(size_t n, size_t D, size_t Dq, size_t p,
                                  const double *Z, const double *V,
                                  const double *x, const double *w,
                                  const double *zbar, const double *g,
                                  double *h, double *c, double *dV, double *dW)
{
    sl_status st = SL_ENOMEM;
    mpfr_t *th = sl_mpvec_new(D, 0), *tc = sl_mpvec_new(D, 0);
    mpfr_t *tv = sl_mpvec_new(p * D, 0), *tw = sl_mpvec_new(D * Dq, 0);
    if (th != NULL && tc != NULL && tv != NULL && tw != NULL)
        st = sl_oracle_attn_backward_mpfr(n, D, Dq, p, Z, V, x, w, zbar, g, th,
                                          tc, tv, tw, 0);
    if (st == SL_OK)
        get_grads(D, Dq, p, th, tc, tv, tw, h, c, dV, dW);
    sl_mpvec_free(D, th);
    sl_mpvec_free(D, tc);
    sl_mpvec_free(p * D, tv);
    sl_mpvec_free(D * Dq, tw);
    return st;
}
