/* catalogue.c -- the theorem table and the bound formulas. */
#include <math.h>
#include <string.h>

#include "catalogue.h"

const sl_theorem sl_catalogue[] = {
    {"concentration",
     "the output deviation |F_n - F_inf| is at most the bound with "
     "probability >= 1 - delta",
     "tokens i.i.d. z = m + L eta, eta with independent unit coordinates "
     "(gaussian, rademacher, uniform, mixture); n >= 8 (kappa - 1) / delta",
     "2 sqrt(2 T / (n delta)), T = kappa tr(V Sig_2a V^T) with Sig_2a the "
     "second moment of z - mu_a under the tilt by 2a (Gaussian: "
     "kappa (tr(V S V^T) + |V S a|^2))",
     "rigorous, paper, control (bound / 20), reference"},
    {"gradient",
     "the gradient deviations |dV_n - dV_inf| and |dW_n - dW_inf| are at "
     "most their bounds with probability >= 1 - delta",
     "as concentration; n >= 12 (kappa - 1) / delta for dW",
     "dV: |g| 2 sqrt(2 Tm / (n delta)); dW: |x| (2 sqrt(3 Tc / (n delta)) "
     "+ 12 sqrt(Tm Tr) / (n delta)), Tr = E e^2 <V^T g, y>^2",
     "rigorous, paper, control (bound / 20), reference"},
    {"rate",
     "the (1 - delta) quantile of each deviation decays at least like "
     "n^-1/2: fitted log-log slope <= -1/2 + tol",
     "a grid of at least two prompt lengths",
     "weighted least squares of log quantile on log n, weights from the "
     "order-statistic interval; FAIL when slope - z se > -1/2 + tol",
     "rate, control (claimed n^-1)"},
    {"linearity",
     "the limit is V (m + S W x), affine in the query, for Gaussian tokens; "
     "other laws have exact but non-affine limits",
     "queries s x for s in {-1, -1/2, 0, 1/2, 1}",
     "concentration around the exact limit (rigorous); deviation from "
     "the affine prediction V (m + S a) against the same bound (reference: "
     "fails for non-Gaussian laws, by the measured non-linearity)",
     "rigorous, reference, control (bound / 20)"},
    {"kappa",
     "the deviation's scale grows with kappa = E e^2 (Gaussian: "
     "exp(a^T S a)): the large-prompt regime starts when n >> kappa",
     "queries rescaled to a^T S a in {0.25, 0.5, 1, 2, 3}",
     "concentration bound at each kappa; empirical paper constant",
     "rigorous, paper, control (bound / 20), reference"},
};

const size_t sl_catalogue_len = sizeof sl_catalogue / sizeof sl_catalogue[0];

const sl_theorem *sl_catalogue_find(const char *id)
{
    for (size_t k = 0; k < sl_catalogue_len; k++)
        if (strcmp(sl_catalogue[k].id, id) == 0)
            return &sl_catalogue[k];
    return NULL;
}

double sl_bound_mean(double T, uint64_t n, double delta)
{
    return 2.0 * sqrt(2.0 * T / ((double)n * delta));
}

int sl_bound_mean_applies(double kappa, uint64_t n, double delta)
{
    return (double)n >= 8.0 * (kappa - 1.0) / delta;
}

double sl_bound_cov(double Tc, double Tm, double Tr, uint64_t n, double delta)
{
    double nd = (double)n * delta;
    return 2.0 * sqrt(3.0 * Tc / nd) + 12.0 * sqrt(Tm * Tr) / nd;
}

int sl_bound_cov_applies(double kappa, uint64_t n, double delta)
{
    return (double)n >= 12.0 * (kappa - 1.0) / delta;
}

double sl_bound_paper(double C, double c, double quad, uint64_t n, double delta)
{
    return C * exp(c * quad) * sqrt(log(1.0 / delta) / (double)n);
}
