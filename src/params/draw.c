/* draw.c -- parameters drawn from a seed, and printed as a parameter file.
 *
 * A run without --params must still be reproducible and inspectable: the
 * parameters come from a fixed stream of the seed, and are printed in the
 * file format so that they can be saved and passed back with --params.
 */
#include <math.h>
#include <stdlib.h>

#include "kernels/linalg.h"
#include "params/params.h"
#include "random/rng.h"

#define DRAW_STREAM     (UINT64_C(1) << 63)
#define DRAW_MEAN_SCALE 0.3

sl_status sl_params_draw(uint64_t seed, size_t dim, double quad, sl_params *out)
{
    size_t D = dim, p = 2;
    if (D == 0 || D > SL_PARAMS_MAX_DIM || !(quad > 0.0))
        return SL_EINVAL;
    out->D = out->Dq = D;
    out->p = p;
    out->mean = malloc(D * sizeof(double));
    out->cov = malloc(D * D * sizeof(double));
    out->W = malloc(D * D * sizeof(double));
    out->V = malloc(p * D * sizeof(double));
    out->query = malloc(D * sizeof(double));
    double *A = malloc((D * D + D) * sizeof(double)); /* then a, S a */
    if (out->mean == NULL || out->cov == NULL || out->W == NULL ||
        out->V == NULL || out->query == NULL || A == NULL) {
        free(A);
        sl_params_free(out);
        return SL_ENOMEM;
    }

    sl_rng r;
    sl_rng_init(&r, seed, DRAW_STREAM);

    /* 1. Mean, and a well-conditioned covariance A A^T / D + I / 2. */
    sl_rng_normal(&r, D, out->mean);
    for (size_t k = 0; k < D; k++)
        out->mean[k] *= DRAW_MEAN_SCALE;
    sl_rng_normal(&r, D * D, A);
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++)
            out->cov[i * D + j] = sl_dot(D, A + i * D, A + j * D) / (double)D +
                                  (i == j ? 0.5 : 0.0);

    /* 2. W, V with variance 1/D; a Gaussian query. */
    double sd = 1.0 / sqrt((double)D);
    sl_rng_normal(&r, D * D, out->W);
    sl_rng_normal(&r, p * D, out->V);
    for (size_t k = 0; k < D * D; k++)
        out->W[k] *= sd;
    for (size_t k = 0; k < p * D; k++)
        out->V[k] *= sd;
    sl_rng_normal(&r, D, out->query);

    /* 3. Rescale the query: a^T S a = quad. */
    double *a = A, *Sa = A + D;
    sl_matvec(D, D, out->W, out->query, a);
    sl_matvec(D, D, out->cov, a, Sa);
    double q0 = sl_dot(D, a, Sa);
    double scale = q0 > 0.0 ? sqrt(quad / q0) : 1.0;
    for (size_t k = 0; k < D; k++)
        out->query[k] *= scale;
    free(A);
    return SL_OK;
}

static void print_vec(FILE *f, size_t n, const double *v)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%.17g", i ? ", " : "", v[i]);
    fputc(']', f);
}

static void print_mat(FILE *f, size_t rows, size_t cols, const double *A)
{
    fputc('[', f);
    for (size_t r = 0; r < rows; r++) {
        if (r)
            fputs(", ", f);
        print_vec(f, cols, A + r * cols);
    }
    fputc(']', f);
}

void sl_params_print(FILE *f, const sl_params *p)
{
    fputs("{\"mean\": ", f);
    print_vec(f, p->D, p->mean);
    fputs(", \"cov\": ", f);
    print_mat(f, p->D, p->D, p->cov);
    fputs(", \"W\": ", f);
    print_mat(f, p->D, p->Dq, p->W);
    fputs(", \"V\": ", f);
    print_mat(f, p->p, p->D, p->V);
    fputs(", \"query\": ", f);
    print_vec(f, p->Dq, p->query);
    fputs("}", f);
}
