/* eva_inputs.h -- bounded inputs for the Eva drivers of proofs/eva.
 *
 * Every driver fills the kernels' inputs with Frama_C_double_interval, so
 * that Eva covers every double in the stated box at once, then calls the
 * kernels on them.  The boxes are those of the harness's parameter files
 * with a wide margin: token coordinates and matrix entries of magnitude at
 * most SL_EVA_ENTRY, dimensions of a few units.
 */
#ifndef SOFTLIN_EVA_INPUTS_H
#define SOFTLIN_EVA_INPUTS_H

#include <stddef.h>

#include <math.h>

#include "__fc_builtin.h"

/* Frama-C's libc gives log1p no contract and Eva has no built-in for it,
 * so Eva would let it return anything.  What the kernels rely on, true of
 * glibc's log1p (monotone, log1p(0) = 0, log1p(DBL_MAX) < 710): */
/*@
  requires arg:    0 <= x;
  assigns  \result \from x;
  ensures  range:  \is_finite(\result) && 0 <= \result <= 710;
*/
double log1p(double x);

/* Largest magnitude of a token coordinate or a matrix entry. */
#define SL_EVA_ENTRY 8.0

/* v[0..n-1] = any doubles in [lo, hi]. */
static void eva_fill(double *v, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        v[i] = Frama_C_double_interval(lo, hi);
}

#endif
