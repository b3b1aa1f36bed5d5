/* law.h -- one-dimensional token laws of mean 0 and variance 1.
 *
 * softlin's token measures are z = m + L eta with eta of independent
 * coordinates from one of these laws (measure.h).  For each law we need its
 * log-moment generating function Lambda(t) = log E e^{t eta}, whose first
 * two derivatives are the mean and variance of the law tilted by t, the
 * moments of the tilted law (for the rigorous bounds), and a sampler.
 *
 *   gaussian    N(0, 1):             Lambda = t^2 / 2
 *   rademacher  +-1:                 Lambda = log cosh t
 *   uniform     U[-sqrt 3, sqrt 3]:  Lambda = log(sinh(b t) / (b t))
 *   mixture     r eps + sqrt(1 - r^2) xi, eps = +-1, xi ~ N(0, 1):
 *               Lambda = log cosh(r t) + (1 - r^2) t^2 / 2
 *
 * The mixture is the two-component Gaussian mixture
 * (N(r, 1 - r^2) + N(-r, 1 - r^2)) / 2; a product of D of them is a
 * Gaussian mixture with 2^D components.  All four are sub-Gaussian; only
 * the first has a tilted mean linear in t.
 */
#ifndef SOFTLIN_LAW_H
#define SOFTLIN_LAW_H

#include <stddef.h>

#include "random/rng.h"

typedef enum sl_law_kind {
    SL_LAW_GAUSSIAN,
    SL_LAW_RADEMACHER,
    SL_LAW_UNIFORM,
    SL_LAW_MIXTURE
} sl_law_kind;

/* Component separation of the mixture law (in (0, 1)). */
#define SL_LAW_MIXTURE_R 0.9

typedef struct sl_law {
    sl_law_kind kind;
    double r; /* mixture separation; unused by the other laws */
} sl_law;

/* Set l from a name ("gaussian", "rademacher", "uniform", "mixture");
 * 0 on success, -1 for an unknown name. */
int sl_law_parse(const char *name, sl_law *l);
const char *sl_law_name(const sl_law *l);

/* Lambda(t), Lambda'(t) (tilted mean), Lambda''(t) (tilted variance). */
double sl_law_lmgf(const sl_law *l, double t);
double sl_law_tmean(const sl_law *l, double t);
double sl_law_tvar(const sl_law *l, double t);

/* mom[j] = E[(eta - c)^j], j = 0..4, under the law tilted by t. */
void sl_law_tmoments(const sl_law *l, double t, double c, double mom[5]);

/* k independent draws from r's position on: Gaussian values from
 * sl_rng_normal_fast (normal_fast.h), uniform ones from
 * sl_rng_uniform_fast (one Philox block each), signs from the 128 bits of
 * whole blocks, the mixture from normals then signs.  The values depend
 * only on (seed, stream, position, k); for the Gaussian and uniform laws
 * k draws then m draws equal k + m draws, while the sign laws start a
 * fresh block at each call. */
void sl_law_draw(const sl_law *l, sl_rng *r, size_t k, double *out);

#endif
