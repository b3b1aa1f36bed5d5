/* accuracy.h -- a seeded sweep of every kernel against its MPFR oracle and
 * its proven error budget, with an Arb cross-check of the oracle.
 *
 * For one kernel, case i (i = 0, 1, ...) of seed S draws everything from
 * the random stream (S, i) of random/rng.h: the sizes (n, D, Dq, p), then
 * the inputs.  Every SL_ACC_ADVERSARIAL_EVERY-th case (i % K == K - 1) is
 * adversarial: one of the kernel's hard families (huge logits, ties one
 * ulp apart, cancelling far tokens, underflowing weights, scores rising
 * at every push, ...), taken in turn, still with drawn sizes.  The case
 * then runs the double kernel, the MPFR oracle (oracle_mpfr.h, at
 * prec_bits) and the budget (budget.h, spec/ACCURACY.md), and for each
 * output keeps the entry with the largest error over budget.
 *
 * Arb (oracle_arb.h) encloses every output of every kernel.  For each
 * oracle value x it checks that |x - exact| <= 2^SL_ARB_REL_RAD_EXP
 * max(|exact|, budget) (sl_arb_check_mpfr with the entry's budget as the
 * scale): the oracle's own error is then below 2^-60 of what the verdict
 * compares it with, so it cannot move the verdict.  The balls start at
 * max(prec + SL_ACC_ARB_EXTRA_BITS, SL_ARB_PREC_BITS) bits and are
 * recomputed at twice the bits, up to 4096, while one of them is wider
 * than 2^-64 of that scale (a co-moment that cancels far below its
 * terms), so that a disagreement speaks about MPFR, not about Arb.  The
 * end-to-end gradient outputs have no MPFR oracle: their reference is
 * the midpoint of the Arb enclosure, read at prec bits, and the column
 * certifies it the same way.
 *
 * A sweep over cases 0 .. cases - 1 gives one row per kernel output: the
 * largest absolute error seen and the budget of that same entry, the
 * tightness max(error / budget) and its case, the number of cases with
 * an entry over budget (verdict FAIL when there is one) and the first
 * few of them, and the Arb agreement.  Any case replays alone from
 * (kernel, seed, index) with sl_acc_replay, with the same numbers.
 *
 * The library is silent and allocates per case (SL_ENOMEM when that
 * fails).  Two test hooks in the options exist for negative controls
 * only: a replacement softmax and an error injected into every output.
 *
 * Limits: the sweep checks what budget.h bounds and nothing else.  The
 * stream is pushed token by token (sl_stream_push), never by blocks
 * (sl_stream_push_weighted), and sl_stream_backward's dV is not an
 * output.  The end-to-end gradient is that of sl_attn_forward followed
 * by sl_attn_backward; the Gaussian limit's backward pass is judged from
 * the kernel's own mu.  Sizes stay small (n up to 2e4, D up to 32); the
 * n = 1e6 cases are in the oracle suite.
 */
#ifndef SOFTLIN_ACCURACY_H
#define SOFTLIN_ACCURACY_H

#include <stddef.h>
#include <stdint.h>

#include <mpfr.h>

#include "status.h"

/* Case i is adversarial when i % SL_ACC_ADVERSARIAL_EVERY equals
 * SL_ACC_ADVERSARIAL_EVERY - 1. */
#define SL_ACC_ADVERSARIAL_EVERY 4

/* The most outputs a kernel has (the Gaussian limit: mu, F, quad, h, c,
 * dV, dW; the gradient: h, C_w_h, dV, dW and e2e_c, e2e_dV, e2e_dW). */
#define SL_ACC_MAX_OUTPUTS 7

/* Failing cases kept per row, for printing and replay. */
#define SL_ACC_MAX_FAILS 4

/* Range of the oracle precision, in bits: below 64 the oracle is no
 * better than the doubles it judges. */
#define SL_ACC_PREC_MIN_BITS 64
#define SL_ACC_PREC_MAX_BITS 100000

/* Arb starts this many bits above the MPFR oracle (and at least at
 * SL_ARB_PREC_BITS), so that its balls are narrower than MPFR's error. */
#define SL_ACC_ARB_EXTRA_BITS 64

typedef enum sl_acc_kernel {
    SL_ACC_SOFTMAX,      /* sl_softmax: w */
    SL_ACC_LOGSUMEXP,    /* sl_logsumexp: lse */
    SL_ACC_ATTENTION,    /* sl_attn_forward: w, zbar, F, lognorm */
    SL_ACC_STREAM,       /* sl_stream_push/finish/backward: mean, F,
                          * lognorm, comom (C_w h), ess */
    SL_ACC_LINEAR,       /* sl_linear_forward: u, L */
    SL_ACC_LINEAR_LIMIT, /* sl_linear_limit_gauss: u, L */
    SL_ACC_LIMIT,        /* sl_limit_gauss_*: mu, F, quad, h, c, dV, dW */
    SL_ACC_GRADIENT,     /* sl_attn_backward: h, C_w_h, dV, dW; then
                          * end to end: e2e_c, e2e_dV, e2e_dW */
    SL_ACC_NKERNELS
} sl_acc_kernel;

/* The kernel's name ("softmax", "linear_limit", ...). */
const char *sl_acc_kernel_name(sl_acc_kernel k);

/* The kernel named name; 0 on success, -1 for an unknown name. */
int sl_acc_kernel_parse(const char *name, sl_acc_kernel *k);

/* How many outputs kernel k has, and the name of output j of them. */
size_t sl_acc_output_count(sl_acc_kernel k);
const char *sl_acc_output_name(sl_acc_kernel k, size_t j);

/* A softmax with the signature of sl_softmax (test hook). */
typedef void (*sl_acc_softmax_fn)(size_t n, const double *s, double *w);

typedef struct sl_acc_opts {
    uint64_t seed;  /* the sweep's seed */
    uint64_t cases; /* cases per kernel, >= 1 */
    unsigned prec;  /* MPFR bits, SL_ACC_PREC_MIN_BITS .. _MAX_BITS */
    int arb;        /* 0: skip the Arb cross-check */
    /* Test hooks, for negative controls; leave them NULL and 0. */
    sl_acc_softmax_fn softmax; /* replaces sl_softmax in kernel softmax */
    double inject_rel;         /* every output read as got (1 + inject) */
} sl_acc_opts;

/* Seed 1, 200 cases, 256 bits, Arb on, no hooks. */
void sl_acc_opts_default(sl_acc_opts *o);

/* One entry of one output compared: |got - exact| (computed exactly,
 * rounded up) against its budget. */
typedef struct sl_acc_entry {
    double error;  /* |got - exact|; +inf when got is not finite */
    double budget; /* the a-priori bound for this entry */
    double ratio;  /* error / budget; +inf when error > budget = 0 */
    size_t index;  /* position in the output (row-major) */
    double got;    /* the kernel's value */
    double exact;  /* the oracle's value, rounded to nearest */
} sl_acc_entry;

/* Compare got with exact under budget into e (index set by the caller);
 * 1 when error <= budget, 0 otherwise (NaN included). */
int sl_acc_compare(double got, mpfr_srcptr exact, double budget,
                   sl_acc_entry *e);

typedef enum sl_acc_arb {
    SL_ACC_ARB_NONE,    /* Arb off */
    SL_ACC_ARB_AGREE,   /* every reference value certified */
    SL_ACC_ARB_DISAGREE /* some value not within 2^-60 of its scale */
} sl_acc_arb;

/* One output of one case. */
typedef struct sl_acc_output {
    const char *name;     /* e.g. "zbar" */
    size_t size;          /* entries compared */
    size_t over;          /* entries over budget */
    sl_acc_entry worst;   /* the entry of largest error / budget */
    sl_acc_entry largest; /* the entry of largest error */
    sl_acc_arb arb;       /* Arb verdict on the oracle's entries */
    double arb_err;       /* largest certified relative MPFR error */
} sl_acc_output;

/* One case, as run or replayed. */
typedef struct sl_acc_case {
    sl_acc_kernel kernel;
    uint64_t seed, index;
    const char *family; /* "random" or the adversarial family's name */
    size_t n, D, Dq, p; /* sizes drawn (1 where the kernel has none) */
    size_t nout;
    sl_acc_output out[SL_ACC_MAX_OUTPUTS];
} sl_acc_case;

/* Run case index of kernel k under o (o->cases is not used). */
sl_status sl_acc_case_run(sl_acc_kernel k, const sl_acc_opts *o, uint64_t index,
                          sl_acc_case *c);

/* Replay one case from the command line's words: the kernel's name, the
 * seed and the case index, at prec bits, Arb on.  SL_EINVAL for an
 * unknown kernel or a precision out of range. */
sl_status sl_acc_replay(const char *kernel, uint64_t seed, uint64_t index,
                        unsigned prec, sl_acc_case *c);

/* A failing case, as kept by a row. */
typedef struct sl_acc_fail {
    uint64_t index;     /* the case */
    const char *family; /* its family */
    sl_acc_entry worst; /* its worst entry */
} sl_acc_fail;

/* One kernel output over a sweep. */
typedef struct sl_acc_row {
    sl_acc_kernel kernel;
    const char *output;
    uint64_t cases;      /* cases run */
    uint64_t checks;     /* entries compared, over all cases */
    double max_error;    /* largest error seen */
    double budget;       /* the budget of that entry */
    uint64_t max_case;   /* its case */
    double tightness;    /* largest error / budget seen */
    uint64_t worst_case; /* its case */
    sl_acc_entry worst;  /* its entry */
    uint64_t fails;      /* cases with an entry over budget */
    size_t kept;         /* of which the first `kept` are in fail */
    sl_acc_fail fail[SL_ACC_MAX_FAILS];
    sl_acc_arb arb;    /* NONE, or DISAGREE if any case disagreed */
    double arb_err;    /* largest certified relative MPFR error */
    uint64_t arb_case; /* first case that disagreed */
    int pass;          /* 1 when no case went over budget */
} sl_acc_row;

/* Sweep cases 0 .. o->cases - 1 of kernel k into rows
 * (sl_acc_output_count(k) of them, in output order). */
sl_status sl_acc_sweep(sl_acc_kernel k, const sl_acc_opts *o, sl_acc_row *rows);

#endif
