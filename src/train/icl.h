/* icl.h -- in-context linear regression read by one softmax attention head.
 *
 * Task (spec/TRAINING.md section 1).  beta ~ N(0, tau^2 I_d).  A prompt
 * holds tokens z_i = (x_i, y_i) in R^D, D = d + 1, y_i = <beta, x_i> +
 * s eps_i, where (x_i, eps_i) has i.i.d. coordinates of one unit law
 * (law.h); the query token is z_q = (x_q, 0), its target y_q = <beta, x_q>
 * + s eps_q.  Given beta, z = A eta with eta of i.i.d. unit coordinates and
 * A = [[I, 0], [beta^T, s]], the lower Cholesky factor of
 *
 *   S_beta = [[I, beta], [beta^T, |beta|^2 + s^2]],
 *
 * so the tokens are exactly the measure (0, S_beta, law) of measure.h; eps
 * has the same law as the coordinates of x.
 *
 * Model.  A value vector v (D) and the first d columns B (D x d) of the
 * key-query matrix (only they meet z_q): tilt a = B x_q, weights w_i
 * proportional to exp(<a, z_i>), prediction yhat = v^T sum_i w_i z_i, loss
 * (yhat - y_q)^2.  Two parametrisations, theta stored flat:
 *
 *   full     theta = (v, B row-major),        P = D + D d
 *   reduced  theta = (v_y, Gamma row-major),  P = 1 + d^2,
 *            v = (0, ..., 0, v_y), B = [Gamma; 0]
 *
 * Infinite prompt.  yhat_inf = v^T mu_a, mu_a the tilted mean of
 * (0, S_beta, law) at a.  The risk L_inf = E (yhat_inf - y_q)^2 is exact:
 * in closed form for Gaussian tokens (Isserlis, both parametrisations),
 * and for the reduced model under Rademacher or uniform tokens as
 * tau^2 E_x |v_y Lambda'(Gamma x) - x|^2 + s^2, summed over the 2^d sign
 * vectors or by tensor Gauss-Legendre quadrature (relative error below
 * about 1e-8 at the tilts training reaches; tests/test_train_icl.c).  The
 * full parametrisation under a non-Gaussian law has no such form and is
 * refused.
 *
 * The library is silent and allocates only in sl_icl_init and
 * sl_icl_measure.
 */
#ifndef SOFTLIN_ICL_H
#define SOFTLIN_ICL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/stream.h"
#include "measure/law.h"
#include "measure/measure.h"
#include "random/rng.h"
#include "status.h"

/* Largest d accepted. */
#define SL_ICL_MAX_DIM 64

/* Tokens drawn per block: prompts are always drawn in whole blocks, so the
 * first n tokens of a prompt are the same whatever its length (common
 * random numbers across n). */
#define SL_ICL_BLOCK 256

/* Points of the non-Gaussian expectation over x: 2^d sign vectors
 * (rademacher, d <= SL_ICL_MAX_SIGN_DIM) or m^d Gauss-Legendre nodes
 * (uniform), m = max(SL_ICL_MIN_NODES, floor(SL_ICL_QUAD_TARGET^(1/d)))
 * capped at SL_ICL_MAX_NODES, and m^d <= SL_ICL_MAX_POINTS. */
#define SL_ICL_MAX_SIGN_DIM 16
#define SL_ICL_QUAD_TARGET  4096
#define SL_ICL_MIN_NODES    6
#define SL_ICL_MAX_NODES    32
#define SL_ICL_MAX_POINTS   65536

typedef enum sl_icl_param { SL_ICL_REDUCED, SL_ICL_FULL } sl_icl_param;

typedef struct sl_icl {
    sl_icl_param param;
    sl_law law;
    size_t d;     /* dimension of x; tokens have D = d + 1 */
    double tau;   /* beta ~ N(0, tau^2 I_d) */
    double noise; /* s > 0 */
    size_t npts;  /* points of the expectation over x (0: Gaussian) */
    double *pts;  /* npts x d, owned */
    double *wts;  /* npts, owned, summing to 1 */
    size_t nodes; /* Gauss-Legendre nodes per axis (uniform law) */
} sl_icl;

/* Set up the model.  SL_EINVAL for d outside [1, SL_ICL_MAX_DIM], tau or
 * noise not finite and positive, the mixture law, the full
 * parametrisation with a non-Gaussian law, or a non-Gaussian law whose
 * expectation over x needs too many points; SL_ENOMEM.  Nothing to free
 * on failure. */
sl_status sl_icl_init(sl_icl *m, sl_icl_param param, const sl_law *law,
                      size_t d, double tau, double noise);
void sl_icl_free(sl_icl *m);

/* Rebuild the uniform law's quadrature with q nodes per axis (the tests
 * compare node counts).  SL_EINVAL for another law, q outside
 * [1, SL_ICL_MAX_NODES] or q^d above SL_ICL_MAX_POINTS; SL_ENOMEM (m is
 * then left without points: free it). */
sl_status sl_icl_set_nodes(sl_icl *m, size_t q);

/* P, the length of theta. */
size_t sl_icl_nparams(const sl_icl *m);

/* Doubles of work the functions below ask for. */
size_t sl_icl_work_len(const sl_icl *m);

/* v (D) and B (D x d) from theta. */
void sl_icl_embed(const sl_icl *m, const double *theta, double *v, double *B);

/* The gradient with respect to theta from those with respect to v (D) and
 * B (D x d): the reduced model keeps dv[d] and the first d rows of dB. */
void sl_icl_project(const sl_icl *m, const double *dv, const double *dB,
                    double *dtheta);

/* L_inf(theta), exact; the gradient into grad (P) unless it is NULL.
 * work: sl_icl_work_len doubles. */
double sl_icl_risk(const sl_icl *m, const double *theta, double *grad,
                   double *work);

/* The smallest L_inf over theta when known in closed form (s^2, reached
 * where v_y Gamma = I, for Gaussian tokens); NaN otherwise. */
double sl_icl_risk_min(const sl_icl *m);

/* E a^T S_beta a over beta and x_q = |B_x|_F^2 + (d tau^2 + s^2) |b|^2,
 * B_x the first d rows of B and b its last: the typical log kappa. */
double sl_icl_quad(const sl_icl *m, const double *theta);

/* |v|^2 - |B|_F^2 (v_y^2 - |Gamma|_F^2 for the reduced model), conserved
 * by the gradient flow of L_inf for Gaussian tokens. */
double sl_icl_conserved(const sl_icl *m, const double *theta);

/* One prompt's beta (d), x_q (d) and y_q from r, in this order. */
void sl_icl_draw_prompt(const sl_icl *m, sl_rng *r, double *beta, double *xq,
                        double *yq);

/* The next SL_ICL_BLOCK tokens of a prompt (SL_ICL_BLOCK x D) from r. */
void sl_icl_draw_tokens(const sl_icl *m, sl_rng *r, const double *beta,
                        double *Z);

/* The token measure (0, S_beta, law) of a prompt.  SL_ENOMEM; free with
 * sl_measure_free. */
sl_status sl_icl_measure(const sl_icl *m, const double *beta, sl_measure *mu);

/* Infinite-prompt loss of one prompt, exact, and its gradient with respect
 * to v (dv, D) and B (dB, D x d): with g = 2 (yhat_inf - y_q),
 * dv = g mu_a and dB = g C_a v x_q^T.  mu is the prompt's measure, a its
 * tilt B x_q; *yhat receives yhat_inf.  work: sl_icl_work_len doubles. */
double sl_icl_prompt_inf(const sl_icl *m, const sl_measure *mu, const double *v,
                         const double *a, const double *xq, double yq,
                         double *yhat, double *dv, double *dB, double *work);

/* Finite-prompt loss of one prompt from its stream state, which must have
 * been started with h = v (the co-moment is then C_w v): with
 * g = 2 (yhat - y_q), dv = g zbar and dB = g C_w v x_q^T (stream.h).
 * *yhat receives yhat. */
double sl_icl_prompt_finish(const sl_icl *m, const sl_stream *st,
                            const double *v, const double *xq, double yq,
                            double *yhat, double *dv, double *dB);

#endif
