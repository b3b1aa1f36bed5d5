/* exact_limits.c -- tilted means of the non-Gaussian token laws.
 *
 * Double versions: each coordinate mean is one or two libm calls and a
 * few roundings (a few ulps); the Langevin series is a Horner evaluation
 * in x^2 <= 1 whose terms decrease at least 15-fold at the first step and
 * about pi^2-fold after, so its rounding stays near 2 ulps.  MPFR
 * versions: the same formulas at prec bits, with 2 |log2 x| extra bits
 * for the cancellation in coth x - 1/x when x is small.
 */
#include <math.h>
#include <stdlib.h>

#include "oracle/exact_limits.h"
#include "oracle/oracle_mpfr.h"

/* Odd Langevin series L(x) = sum_{k=1}^{17} c_k x^{2k-1}, c_k =
 * 2^{2k} B_{2k} / (2k)!, rounded to nearest (checked from the Bernoulli
 * recurrence in tests/test_exact.c, suite "exact"). */
const double sl_langevin_coef[SL_LANGEVIN_TERMS] = {
    0x1.5555555555555p-2,   /* 1/3 */
    -0x1.6c16c16c16c17p-6,  /* -1/45 */
    0x1.1566abc011567p-9,   /* 2/945 */
    -0x1.bbd779334ef0bp-13, /* -1/4725 */
    0x1.66a8f2bf70ebep-16,  /* 2/93555 */
    -0x1.22805d644267fp-19, /* -1382/638512875 */
    0x1.d6db2c4e09162p-23,  /* 4/18243225 */
    -0x1.7da4e1f79955cp-26, /* c_8 */
    0x1.355871d652e9ep-29,  /* c_9 */
    -0x1.f57d968caacf1p-33, /* c_10 */
    0x1.967e1f09c376fp-36,  /* c_11 */
    -0x1.497d9033a2b5cp-39, /* c_12 */
    0x1.0b132d7c6ad06p-42,  /* c_13 */
    -0x1.b0f72d59f1c16p-46, /* c_14 */
    0x1.5ef2da4cca26dp-49,  /* c_15 */
    -0x1.1c77df96de38bp-52, /* c_16 */
    0x1.cd299de521b62p-56,  /* c_17 */
};

/* Below this |b t| the series is used, above it the closed form. */
#define LANGEVIN_SERIES_MAX 1.0

double sl_exact_rademacher_mean(double c, double t)
{
    return c * tanh(c * t);
}

double sl_exact_uniform_mean(double b, double t)
{
    if (t == 0.0)
        return 0.0;
    double x = b * t;
    if (fabs(x) < LANGEVIN_SERIES_MAX) {
        /* Remainder after 17 terms < 0.1 u relative for |x| < 1. */
        double y = x * x, s = sl_langevin_coef[SL_LANGEVIN_TERMS - 1];
        for (int k = SL_LANGEVIN_TERMS - 2; k >= 0; k--)
            s = s * y + sl_langevin_coef[k];
        return b * (x * s);
    }
    /* |x| >= 1: coth x - 1/x >= L(1) ~ 0.313 against 1/|x| <= 1, a loss
     * of at most a factor 3.2 to cancellation. */
    return b / tanh(x) - 1.0 / t;
}

double sl_exact_coord_mean(sl_coord_law law, double t)
{
    switch (law.kind) {
    case SL_COORD_RADEMACHER:
        return sl_exact_rademacher_mean(law.scale, t);
    case SL_COORD_UNIFORM:
        return sl_exact_uniform_mean(law.scale, t);
    case SL_COORD_GAUSS:
    default:
        return law.scale * law.scale * t;
    }
}

/* Extra bits for a value x whose closed form cancels like 1/x^2. */
static mpfr_prec_t small_x_bits(mpfr_srcptr x)
{
    if (mpfr_zero_p(x))
        return 0;
    mpfr_exp_t e = mpfr_get_exp(x);
    return e < 0 ? (mpfr_prec_t)(-2 * e) : 0;
}

void sl_exact_coord_mean_mpfr(sl_coord_law law, mpfr_srcptr t, mpfr_ptr mean,
                              mpfr_prec_t prec)
{
    if (prec == 0)
        prec = SL_ORACLE_PREC_BITS;
    mpfr_t x, y;
    mpfr_init2(x, prec + 64);
    mpfr_mul_d(x, t, law.scale, MPFR_RNDN);
    switch (law.kind) {
    case SL_COORD_RADEMACHER:
        mpfr_tanh(x, x, MPFR_RNDN);
        mpfr_mul_d(mean, x, law.scale, MPFR_RNDN);
        break;
    case SL_COORD_UNIFORM:
        if (mpfr_zero_p(x)) {
            mpfr_set_zero(mean, 1);
            break;
        }
        /* b (coth x - 1/x), at the precision the cancellation needs. */
        mpfr_prec_round(x, prec + 64 + small_x_bits(x), MPFR_RNDN);
        mpfr_init2(y, mpfr_get_prec(x));
        mpfr_coth(y, x, MPFR_RNDN);
        mpfr_ui_div(x, 1, x, MPFR_RNDN);
        mpfr_sub(y, y, x, MPFR_RNDN);
        mpfr_mul_d(mean, y, law.scale, MPFR_RNDN);
        mpfr_clear(y);
        break;
    case SL_COORD_GAUSS:
    default:
        mpfr_mul_d(mean, x, law.scale, MPFR_RNDN);
        break;
    }
    mpfr_clear(x);
}

void sl_exact_coord_logmgf_mpfr(sl_coord_law law, mpfr_srcptr t, mpfr_ptr out,
                                mpfr_prec_t prec)
{
    if (prec == 0)
        prec = SL_ORACLE_PREC_BITS;
    mpfr_t x, y;
    mpfr_init2(x, prec + 64);
    mpfr_mul_d(x, t, law.scale, MPFR_RNDN);
    switch (law.kind) {
    case SL_COORD_RADEMACHER:
        mpfr_cosh(x, x, MPFR_RNDN);
        mpfr_log(out, x, MPFR_RNDN);
        break;
    case SL_COORD_UNIFORM:
        if (mpfr_zero_p(x)) {
            mpfr_set_zero(out, 1);
            break;
        }
        mpfr_prec_round(x, prec + 64 + small_x_bits(x), MPFR_RNDN);
        mpfr_init2(y, mpfr_get_prec(x));
        mpfr_sinh(y, x, MPFR_RNDN);
        mpfr_div(y, y, x, MPFR_RNDN);
        mpfr_log(out, y, MPFR_RNDN);
        mpfr_clear(y);
        break;
    case SL_COORD_GAUSS:
    default:
        mpfr_sqr(x, x, MPFR_RNDN);
        mpfr_div_2ui(out, x, 1, MPFR_RNDN);
        break;
    }
    mpfr_clear(x);
}

sl_status sl_exact_linmap_mean(size_t D, size_t Dxi, const double *A,
                               const sl_coord_law *laws, const double *a,
                               double *mean)
{
    double *mu = calloc(Dxi > 0 ? Dxi : 1, sizeof *mu);
    if (mu == NULL)
        return SL_ENOMEM;

    /* 1. Tilt of xi: t = A^T a, then each coordinate's tilted mean. */
    for (size_t j = 0; j < Dxi; j++) {
        double t = 0.0;
        for (size_t k = 0; k < D; k++)
            t += A[k * Dxi + j] * a[k];
        mu[j] = sl_exact_coord_mean(laws[j], t);
    }

    /* 2. Map back: mean = A mu. */
    for (size_t k = 0; k < D; k++) {
        double acc = 0.0;
        for (size_t j = 0; j < Dxi; j++)
            acc += A[k * Dxi + j] * mu[j];
        mean[k] = acc;
    }
    free(mu);
    return SL_OK;
}

sl_status sl_exact_linmap_mean_mpfr(size_t D, size_t Dxi, const double *A,
                                    const sl_coord_law *laws, const double *a,
                                    mpfr_t *mean, mpfr_prec_t prec)
{
    if (prec == 0)
        prec = SL_ORACLE_PREC_BITS;
    mpfr_t *mu = sl_mpvec_new(Dxi, prec);
    if (mu == NULL)
        return SL_ENOMEM;
    mpfr_t t, p;
    mpfr_inits2(prec, t, p, (mpfr_ptr)0);
    for (size_t j = 0; j < Dxi; j++) {
        mpfr_set_zero(t, 1);
        for (size_t k = 0; k < D; k++) {
            mpfr_set_d(p, A[k * Dxi + j], MPFR_RNDN);
            mpfr_mul_d(p, p, a[k], MPFR_RNDN);
            mpfr_add(t, t, p, MPFR_RNDN);
        }
        sl_exact_coord_mean_mpfr(laws[j], t, mu[j], prec);
    }
    for (size_t k = 0; k < D; k++) {
        mpfr_set_zero(t, 1);
        for (size_t j = 0; j < Dxi; j++) {
            mpfr_mul_d(p, mu[j], A[k * Dxi + j], MPFR_RNDN);
            mpfr_add(t, t, p, MPFR_RNDN);
        }
        mpfr_set(mean[k], t, MPFR_RNDN);
    }
    mpfr_clears(t, p, (mpfr_ptr)0);
    sl_mpvec_free(Dxi, mu);
    return SL_OK;
}

sl_status sl_exact_mixture_mean(size_t K, size_t D, const double *pi,
                                const double *m, const double *S,
                                const double *a, double *mean)
{
    double *lw = calloc(K + D, sizeof *lw);
    if (lw == NULL)
        return SL_ENOMEM;
    double *sa = lw + K;

    /* 1. Log-weights log pi_k + <a, m_k> + a^T S_k a / 2 and their max. */
    double top = -INFINITY;
    for (size_t c = 0; c < K; c++) {
        const double *Sk = S + c * D * D, *mk = m + c * D;
        double lin = 0.0, quad = 0.0;
        for (size_t k = 0; k < D; k++) {
            double row = 0.0;
            for (size_t j = 0; j < D; j++)
                row += Sk[k * D + j] * a[j];
            lin += a[k] * mk[k];
            quad += a[k] * row;
        }
        lw[c] = log(pi[c]) + lin + 0.5 * quad;
        top = lw[c] > top ? lw[c] : top;
    }

    /* 2. Normalised weights exp(lw - top) / sum, then the mean of the
     *    tilted components m_k + S_k a. */
    double sum = 0.0;
    for (size_t c = 0; c < K; c++) {
        lw[c] = exp(lw[c] - top);
        sum += lw[c];
    }
    for (size_t k = 0; k < D; k++)
        mean[k] = 0.0;
    for (size_t c = 0; c < K; c++) {
        const double *Sk = S + c * D * D, *mk = m + c * D;
        double wc = lw[c] / sum;
        for (size_t k = 0; k < D; k++) {
            double row = 0.0;
            for (size_t j = 0; j < D; j++)
                row += Sk[k * D + j] * a[j];
            sa[k] = mk[k] + row;
        }
        for (size_t k = 0; k < D; k++)
            mean[k] += wc * sa[k];
    }
    free(lw);
    return SL_OK;
}

/* Log-weights of the tilted mixture, in MPFR, for an MPFR tilt; lw (K)
 * and the tilted means tm (K x D) when tm is not NULL. */
static void mixture_logw_mp(size_t K, size_t D, const double *pi,
                            const double *m, const double *S, mpfr_t *a,
                            mpfr_t *lw, mpfr_t *tm, mpfr_prec_t prec)
{
    mpfr_t row, lin, quad, p;
    mpfr_inits2(prec, row, lin, quad, p, (mpfr_ptr)0);
    for (size_t c = 0; c < K; c++) {
        const double *Sk = S + c * D * D, *mk = m + c * D;
        mpfr_set_zero(lin, 1);
        mpfr_set_zero(quad, 1);
        for (size_t k = 0; k < D; k++) {
            mpfr_set_zero(row, 1);
            for (size_t j = 0; j < D; j++) {
                mpfr_mul_d(p, a[j], Sk[k * D + j], MPFR_RNDN);
                mpfr_add(row, row, p, MPFR_RNDN);
            }
            mpfr_mul_d(p, a[k], mk[k], MPFR_RNDN);
            mpfr_add(lin, lin, p, MPFR_RNDN);
            mpfr_mul(p, a[k], row, MPFR_RNDN);
            mpfr_add(quad, quad, p, MPFR_RNDN);
            if (tm != NULL)
                mpfr_add_d(tm[c * D + k], row, mk[k], MPFR_RNDN);
        }
        mpfr_set_d(p, pi[c], MPFR_RNDN);
        mpfr_log(p, p, MPFR_RNDN);
        mpfr_div_2ui(quad, quad, 1, MPFR_RNDN);
        mpfr_add(lw[c], p, lin, MPFR_RNDN);
        mpfr_add(lw[c], lw[c], quad, MPFR_RNDN);
    }
    mpfr_clears(row, lin, quad, p, (mpfr_ptr)0);
}

sl_status sl_exact_mixture_mean_mpfr(size_t K, size_t D, const double *pi,
                                     const double *m, const double *S,
                                     const double *a, mpfr_t *mean,
                                     mpfr_prec_t prec)
{
    if (prec == 0)
        prec = SL_ORACLE_PREC_BITS;
    mpfr_t *am = sl_mpvec_new(D, prec), *lw = sl_mpvec_new(K, prec);
    mpfr_t *tm = sl_mpvec_new(K * D, prec);
    sl_status st = SL_ENOMEM;
    if (am == NULL || lw == NULL || tm == NULL)
        goto out;
    for (size_t k = 0; k < D; k++)
        mpfr_set_d(am[k], a[k], MPFR_RNDN);
    mixture_logw_mp(K, D, pi, m, S, am, lw, tm, prec);

    /* Weights: exp(lw_c - max) / sum, then sum_c omega_c tm_c. */
    mpfr_t top, sum, p;
    mpfr_inits2(prec, top, sum, p, (mpfr_ptr)0);
    mpfr_set(top, lw[0], MPFR_RNDN);
    for (size_t c = 1; c < K; c++)
        mpfr_max(top, top, lw[c], MPFR_RNDN);
    mpfr_set_zero(sum, 1);
    for (size_t c = 0; c < K; c++) {
        mpfr_sub(lw[c], lw[c], top, MPFR_RNDN);
        mpfr_exp(lw[c], lw[c], MPFR_RNDN);
        mpfr_add(sum, sum, lw[c], MPFR_RNDN);
    }
    for (size_t k = 0; k < D; k++) {
        mpfr_set_zero(mean[k], 1);
        for (size_t c = 0; c < K; c++) {
            mpfr_mul(p, lw[c], tm[c * D + k], MPFR_RNDN);
            mpfr_div(p, p, sum, MPFR_RNDN);
            mpfr_add(mean[k], mean[k], p, MPFR_RNDN);
        }
    }
    mpfr_clears(top, sum, p, (mpfr_ptr)0);
    st = SL_OK;
out:
    sl_mpvec_free(D, am);
    sl_mpvec_free(K, lw);
    sl_mpvec_free(K * D, tm);
    return st;
}

sl_status sl_exact_mixture_logmgf_mpfr(size_t K, size_t D, const double *pi,
                                       const double *m, const double *S,
                                       mpfr_t *a, mpfr_ptr out,
                                       mpfr_prec_t prec)
{
    if (prec == 0)
        prec = SL_ORACLE_PREC_BITS;
    mpfr_t *lw = sl_mpvec_new(K, prec);
    if (lw == NULL)
        return SL_ENOMEM;
    mixture_logw_mp(K, D, pi, m, S, a, lw, NULL, prec);
    mpfr_t top, sum;
    mpfr_inits2(prec, top, sum, (mpfr_ptr)0);
    mpfr_set(top, lw[0], MPFR_RNDN);
    for (size_t c = 1; c < K; c++)
        mpfr_max(top, top, lw[c], MPFR_RNDN);
    mpfr_set_zero(sum, 1);
    for (size_t c = 0; c < K; c++) {
        mpfr_sub(lw[c], lw[c], top, MPFR_RNDN);
        mpfr_exp(lw[c], lw[c], MPFR_RNDN);
        mpfr_add(sum, sum, lw[c], MPFR_RNDN);
    }
    mpfr_log(sum, sum, MPFR_RNDN);
    mpfr_add(out, top, sum, MPFR_RNDN);
    mpfr_clears(top, sum, (mpfr_ptr)0);
    sl_mpvec_free(K, lw);
    return SL_OK;
}
