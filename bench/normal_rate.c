/* normal_rate.c -- how fast softlin makes normals, and where a token goes.
 *
 *   bench_normal_rate [--dim D] [--seconds S]
 *
 * 1. The raw Gaussian rate: ns per normal of sl_rng_normal_fast on every
 *    path this CPU runs (1 thread) and on the default path with 1 and 2
 *    threads (OpenMP, one stream per thread, aggregate rate), and of the
 *    reference sl_rng_normal.  Calls draw SL_ENGINE_BLOCK x D normals, as
 *    the engine does.
 * 2. The pieces of one engine block of D-dimensional tokens, in ns per
 *    token on 1 thread: the normals, the scores and their maximum
 *    (sl_engine_scores), the weights (sl_vexp_shift), the fold
 *    (sl_stream_push_weighted), and for comparison the libm route
 *    (sl_stream_push_block) and the one-token route (sl_stream_push).
 *
 * Each figure is the best of repeated timings of about S / 20 seconds
 * (default S = 0.5), to stay clear of the noise of a shared machine; the
 * last lines "rate_1 X" and "rate_2 X" (ns per normal on the default
 * path) are what bench/run.sh reads.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/engine.h"
#include "engine/vexp.h"
#include "kernels/stream.h"
#include "random/normal_fast.h"
#include "random/rng.h"

/* Timings per figure; the best one is kept. */
#define RATE_REPEATS 20
#define RATE_SEED    UINT64_C(20260101)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef void (*step_fn)(void *ctx);

/* Best ns per item of step (items per call), each timing ~slice s. */
static double best_ns(step_fn step, void *ctx, double items, double slice)
{
    double best = INFINITY;
    long calls = 1;

    /* 1. Calls per timing: enough to fill the slice. */
    for (;;) {
        double t0 = now_s();
        for (long i = 0; i < calls; i++)
            step(ctx);
        double dt = now_s() - t0;
        if (dt >= 0.25 * slice || calls > (1L << 30))
            break;
        calls *= 2;
    }

    /* 2. The best of RATE_REPEATS timings. */
    for (int r = 0; r < RATE_REPEATS; r++) {
        double t0 = now_s();
        for (long i = 0; i < calls; i++)
            step(ctx);
        best = fmin(best, (now_s() - t0) / ((double)calls * items));
    }
    return 1e9 * best;
}

/* ---- Raw normals -------------------------------------------------------- */

typedef struct normals {
    sl_rng rng;
    size_t k;
    double *out;
    int reference; /* sl_rng_normal instead of the fast one */
} normals;

static void draw_normals(void *ctx)
{
    normals *nm = ctx;
    if (nm->reference)
        sl_rng_normal(&nm->rng, nm->k, nm->out);
    else
        sl_rng_normal_fast(&nm->rng, nm->k, nm->out);
}

/* Aggregate ns per normal with threads threads, each its own stream and
 * buffer, each timing about slice seconds (at an assumed 2 ns per normal),
 * between barriers, after a warm-up call. */
static double threaded_rate(int threads, size_t k, double slice)
{
    double best = INFINITY, t0 = 0.0;
    long calls = (long)(slice / (2e-9 * (double)k)) + 1;
    int failed = 0;
#pragma omp parallel num_threads(threads) reduction(| : failed)
    {
        int id = 0;
#ifdef _OPENMP
        id = omp_get_thread_num();
#endif
        normals nm;
        nm.k = k;
        nm.reference = 0;
        nm.out = malloc(k * sizeof(double));
        failed = nm.out == NULL;
        sl_rng_init(&nm.rng, RATE_SEED, (uint64_t)id);
        if (nm.out != NULL)
            draw_normals(&nm);
        for (int r = 0; r < RATE_REPEATS; r++) {
#pragma omp barrier
#pragma omp master
            t0 = now_s();
#pragma omp barrier
            if (nm.out != NULL)
                for (long i = 0; i < calls; i++)
                    draw_normals(&nm);
#pragma omp barrier
#pragma omp master
            {
                double dt = now_s() - t0;
                best = fmin(best, dt / ((double)calls * (double)k * threads));
            }
        }
        free(nm.out);
    }
    return failed ? NAN : 1e9 * best;
}

/* ---- Pieces of an engine block ----------------------------------------- */

typedef struct block {
    size_t D, nb;
    sl_rng rng;
    double *eta, *t, *h, *s, *e, *work, *mean, *comom;
    double smax; /* max of s */
    sl_stream st;
} block;

static void piece_normals(void *ctx)
{
    block *b = ctx;
    sl_rng_normal_fast(&b->rng, b->nb * b->D, b->eta);
}

static void piece_scores(void *ctx)
{
    block *b = ctx;
    b->smax = sl_engine_scores(b->nb, b->D, b->eta, b->t, b->s);
}

static void piece_weights(void *ctx)
{
    block *b = ctx;
    sl_vexp_shift(b->nb, b->s, b->smax, b->e);
}

static void piece_fold(void *ctx)
{
    block *b = ctx;
    sl_stream_push_weighted(&b->st, b->nb, b->smax, b->e, b->eta, b->work);
}

static void piece_libm_block(void *ctx)
{
    block *b = ctx;
    sl_stream_push_block(&b->st, b->nb, b->s, b->eta, b->work);
}

static void piece_one_by_one(void *ctx)
{
    block *b = ctx;
    for (size_t j = 0; j < b->nb; j++)
        sl_stream_push(&b->st, b->s[j], b->eta + j * b->D);
}

int main(int argc, char **argv)
{
    size_t D = 8;
    double seconds = 0.5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dim") == 0 && i + 1 < argc)
            D = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = strtod(argv[++i], NULL);
        else {
            fprintf(stderr, "usage: bench_normal_rate [--dim D] "
                            "[--seconds S]\n");
            return 2;
        }
    }
    if (D == 0 || D > 4096 || !(seconds > 0.0)) {
        fprintf(stderr, "bench_normal_rate: bad --dim or --seconds\n");
        return 2;
    }
    double slice = seconds / RATE_REPEATS;
    size_t nb = SL_ENGINE_BLOCK, k = nb * D;
    sl_normal_path best_path = sl_normal_path_active();

    /* 1. Raw normals on each path, then threaded on the default one. */
    printf("raw normals, %zu per call (ns per normal)\n", k);
    normals nm;
    nm.k = k;
    nm.out = malloc(k * sizeof(double));
    if (nm.out == NULL)
        return 1;
    nm.reference = 1;
    sl_rng_init(&nm.rng, RATE_SEED, 0);
    printf("  %-30s %8.3f\n", "sl_rng_normal (reference)",
           best_ns(draw_normals, &nm, (double)k, slice));
    nm.reference = 0;
    const sl_normal_path paths[] = {SL_NORMAL_PATH_SCALAR,
                                    SL_NORMAL_PATH_SCALAR_FMA,
                                    SL_NORMAL_PATH_AVX2, SL_NORMAL_PATH_AVX512};
    for (int i = 0; i < 4; i++) {
        char label[64];
        if (sl_normal_path_force(paths[i]) != 0)
            continue;
        snprintf(label, sizeof label, "sl_rng_normal_fast %s",
                 sl_normal_path_name(paths[i]));
        printf("  %-30s %8.3f\n", label,
               best_ns(draw_normals, &nm, (double)k, slice));
    }
    sl_normal_path_force(SL_NORMAL_PATH_AUTO);
    free(nm.out);
    double rate1 = threaded_rate(1, k, slice);
    double rate2 = threaded_rate(2, k, slice);
    printf("  %-30s %8.3f\n", "default path, 1 thread", rate1);
    printf("  %-30s %8.3f\n", "default path, 2 threads (all)", rate2);

    /* 2. One engine block, piece by piece. */
    block b;
    b.D = D;
    b.nb = nb;
    sl_rng_init(&b.rng, RATE_SEED, 99);
    double *buf = malloc(((nb + 6) * D + 4 * nb) * sizeof(double));
    if (buf == NULL)
        return 1;
    b.eta = buf;
    b.s = b.eta + nb * D;
    b.e = b.s + nb;
    b.work = b.e + nb;
    b.t = b.work + 2 * D + 2 * nb;
    b.h = b.t + D;
    b.mean = b.h + D;
    b.comom = b.mean + D;
    sl_rng_normal(&b.rng, D, b.t);
    sl_rng_normal(&b.rng, D, b.h);
    for (size_t j = 0; j < D; j++)
        b.t[j] *= 1.0 / sqrt((double)D);
    sl_rng_normal_fast(&b.rng, k, b.eta);
    b.smax = sl_engine_scores(nb, D, b.eta, b.t, b.s);
    sl_vexp_shift(nb, b.s, b.smax, b.e);
    sl_stream_init(&b.st, D, b.mean, b.h, b.comom);

    struct {
        const char *name;
        step_fn fn;
    } pieces[] = {
        {"normals (D per token)", piece_normals},
        {"scores and max", piece_scores},
        {"weights (vexp)", piece_weights},
        {"fold (push_weighted)", piece_fold},
        {"  vs push_block (libm)", piece_libm_block},
        {"  vs push one by one", piece_one_by_one},
    };
    double engine = 0.0;
    printf("engine block of %zu tokens, D = %zu, 1 thread (ns per token)\n", nb,
           D);
    for (int i = 0; i < 6; i++) {
        double ns = best_ns(pieces[i].fn, &b, (double)nb, slice);
        if (i < 4)
            engine += ns;
        printf("  %-30s %8.3f\n", pieces[i].name, ns);
    }
    printf("  %-30s %8.3f\n", "sum of the engine's pieces", engine);
    free(buf);

    printf("path %s\nrate_1 %.4f\nrate_2 %.4f\n",
           sl_normal_path_name(best_path), rate1, rate2);
    return 0;
}
