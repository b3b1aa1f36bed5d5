/* params.h -- attention parameter files (JSON), read and validated.
 *
 * {"mean": [D], "cov": [[D x D]], "W": [[D x Dq]], "V": [[p x D]],
 *  "query": [Dq]}
 *
 * Every field is required and no other is accepted.  D is the length of
 * mean, Dq that of query and p the number of rows of V; each is at least 1
 * and at most SL_PARAMS_MAX_DIM.  Shapes must agree, every entry must be a
 * JSON number (integer or real) and finite, and cov must be symmetric
 * positive definite (gauss.h).  Errors come back as one line naming the
 * field, with rows, columns and entries counted from 1, e.g.
 *   params.json: "W" row 2 has 3 entries, expected 4
 * JSON itself has no NaN or Infinity, and a number too large for a double
 * (1e400) is a parse error; those messages also name the field and give
 * the line and column.
 */
#ifndef SOFTLIN_PARAMS_H
#define SOFTLIN_PARAMS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "status.h"

/* Largest D, Dq and p accepted. */
#define SL_PARAMS_MAX_DIM 4096

/* Largest parameter file read, in bytes. */
#define SL_PARAMS_MAX_BYTES ((size_t)1 << 30)

typedef struct sl_params {
    size_t D, Dq, p; /* token, query and output dimensions */
    double *mean;    /* D */
    double *cov;     /* D x D, row-major */
    double *W;       /* D x Dq */
    double *V;       /* p x D */
    double *query;   /* Dq */
} sl_params;

/* Parse JSON text.  name labels messages (a file name).  On failure,
 * writes a one-line message (no newline) to err and leaves out empty. */
sl_status sl_params_parse(const char *text, size_t len, const char *name,
                          sl_params *out, char *err, size_t errlen);

/* Read and parse a file; the path labels messages.  SL_EIO when it cannot
 * be opened or read. */
sl_status sl_params_load(const char *path, sl_params *out, char *err,
                         size_t errlen);

/* Free what a successful parse allocated and empty p. */
/* Draw parameters from (seed, stream 2^63) of rng.h, for runs without a
 * file: D = Dq = dim, p = 2; mean ~ 0.3 N(0, I); cov = A A^T / D + I / 2
 * with A standard Gaussian; W and V Gaussian with variance 1/D; the query
 * Gaussian, rescaled so that a^T S a = quad (a = W x; quad > 0).
 * SL_EINVAL for dim == 0 or dim > SL_PARAMS_MAX_DIM, SL_ENOMEM. */
sl_status sl_params_draw(uint64_t seed, size_t dim, double quad,
                         sl_params *out);

/* Write p as one line of JSON in the file format (numbers as %.17g). */
void sl_params_print(FILE *f, const sl_params *p);

void sl_params_free(sl_params *p);

#endif
