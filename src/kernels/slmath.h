/* slmath.h -- the libm calls of the kernels, with the contracts the proofs
 * use.
 *
 * Frama-C's libc specifies exp, log and log1p in floating-point terms only
 * (finite or not, positive, errno), never their value, so WP could prove
 * nothing about a softmax weight.  These wrappers call libm unchanged and
 * state the model of it the proofs rely on:
 *
 *   - in WP's real model the functions are exact: exp(x) == \exp(x),
 *     log(x) == \log(x), log1p(x) == \log(1 + x), like every other
 *     operation of that model (rounding is the accuracy budget's business);
 *   - the IEEE facts the stable softmax needs, true of glibc's exp
 *     (within 1 ulp, exact at 0): exp is only called on x <= 0, where it
 *     lies in [0, 1] (0 after underflow), and exp(0) == 1 exactly;
 *     log(x) >= 0 for x >= 1 and log1p(x) >= 0 for x >= 0;
 *   - one side effect: glibc's exp sets errno to ERANGE when it
 *     underflows (Frama-C's libc says so too), so sl_exp assigns errno,
 *     and so does every kernel that calls it; softlin never reads errno.
 *
 * WP cannot prove these facts from the libc contracts, so they are
 * "admit ensures" clauses: assumed at every call, never goals.  They are
 * the trusted base of the proofs (proofs/README.md).  What remains a goal
 * is checked: each call's precondition and each wrapper's assigns clause.
 */
#ifndef SOFTLIN_SLMATH_H
#define SOFTLIN_SLMATH_H

#include <errno.h>
#include <math.h>

/*@
  requires below:    x <= 0;
  assigns  errno;
  admit ensures value: \result == \exp(x);
  admit ensures unit:  0 <= \result <= 1;
  admit ensures one:   x == 0 ==> \result == 1;
*/
static inline double sl_exp(double x)
{
    return exp(x);
}

/*@
  requires positive: x > 0;
  assigns  \nothing;
  admit ensures value: \result == \log(x);
  admit ensures sign:  x >= 1 ==> \result >= 0;
*/
static inline double sl_log(double x)
{
    return log(x);
}

/*@
  requires domain:   x >= 0;
  assigns  \nothing;
  admit ensures value: \result == \log(1 + x);
  admit ensures sign:  \result >= 0;
*/
static inline double sl_log1p(double x)
{
    return log1p(x);
}

#endif
