/* catalogue.h -- the theorems softlin checks, as data and as formulas.
 *
 * Each entry names a check, states what it claims, under which
 * assumptions, with which bound, and how much a failure means (its
 * class).  spec/THEOREMS.md gives the derivations; the bound functions
 * below are the formulas of its sections 5 to 8, with every constant
 * explicit.  `softlin check list` prints this table.
 */
#ifndef SOFTLIN_CATALOGUE_H
#define SOFTLIN_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_theorem {
    const char *id;          /* the check's NAME */
    const char *statement;   /* what is claimed */
    const char *assumptions; /* when the claim applies */
    const char *bound;       /* the bound, as a formula */
    const char *classes;     /* which classes of rows it produces */
} sl_theorem;

extern const sl_theorem sl_catalogue[];
extern const size_t sl_catalogue_len;

/* Find an entry by id; NULL when unknown. */
const sl_theorem *sl_catalogue_find(const char *id);

/* Rigorous bound on |zbar - mu_a| (or |V (zbar - mu_a)| with T mapped by
 * V): 2 sqrt(2 T / (n delta)), valid for n >= 8 (kappa - 1) / delta. */
double sl_bound_mean(double T, uint64_t n, double delta);
int sl_bound_mean_applies(double kappa, uint64_t n, double delta);

/* Rigorous bound on |c_n - C_a h|:
 * 2 sqrt(3 Tc / (n delta)) + 12 sqrt(Tm Tr) / (n delta), valid for
 * n >= 12 (kappa - 1) / delta, Tr = E e^2 <h, y>^2 (THEOREMS.md 8). */
double sl_bound_cov(double Tc, double Tm, double Tr, uint64_t n, double delta);
int sl_bound_cov_applies(double kappa, uint64_t n, double delta);

/* The paper's form: C exp(c quad) sqrt(log(1/delta) / n). */
double sl_bound_paper(double C, double c, double quad, uint64_t n,
                      double delta);

/* The divisor applied to the rigorous bound by the negative control. */
#define SL_CONTROL_DIVISOR 20.0

/* The rate claims: the (1 - delta) quantile decays at least like
 * n^SL_RATE_CLAIM; the control claims n^SL_RATE_CONTROL. */
#define SL_RATE_CLAIM   (-0.5)
#define SL_RATE_CONTROL (-1.0)

#endif
