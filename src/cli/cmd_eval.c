/* cmd_eval.c -- "softlin eval": one Gaussian prompt against its limit.
 *
 * Draws n tokens z_i ~ N(m, S) from stream (seed, 0), pushes each through
 * the one-pass kernel with score s_i = <a, z_i>, a = W x, and forgets it,
 * so memory is O(D + p) whatever n.  The result F_n is set beside the
 * infinite-prompt limit F_inf = V (m + S a) (limit.h), with
 *   kappa       = exp(a^T S a),
 *   ess         = (sum_i w_i^2)^-1, the prompt's effective size,
 *   lognorm     = log((1/n) sum_i exp(s_i)),
 *   lognorm_inf = <a, m> + a^T S a / 2 = log E exp(<a, z>).
 * Output is one "name value..." line per item, numbers as %.17g, which
 * read back to the same doubles.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "kernels/limit.h"
#include "kernels/linalg.h"
#include "kernels/stream.h"
#include "measure/gauss.h"
#include "params/params.h"
#include "random/rng.h"

/* Largest prompt accepted: at ~1e8 tokens a second, a few minutes. */
#define EVAL_MAX_N UINT64_C(10000000000)

/* The stream of the seed that eval draws its prompt from. */
#define EVAL_STREAM 0

void cmd_eval_usage(FILE *out)
{
    fprintf(out,
            "Usage: softlin eval --params FILE --n N --seed S\n"
            "\n"
            "Draws one prompt of N tokens from N(mean, cov), with random\n"
            "stream (S, %d), runs one-pass softmax attention over it and\n"
            "compares the output F_n with the infinite-prompt limit F_inf.\n"
            "\n"
            "Options:\n"
            "  --params FILE  parameters, JSON: mean, cov, W, V, query\n"
            "  --n N          prompt length, 1 to %" PRIu64 " (1e6 allowed)\n"
            "  --seed S       seed, an unsigned 64-bit integer\n"
            "  --help         this text\n"
            "\n"
            "Output, one item a line, numbers as %%.17g:\n"
            "  seed S, n N, D, Dq, p, F_n (p values), F_inf (p values),\n"
            "  distance |F_n - F_inf|_2, kappa exp(a^T S a), ess,\n"
            "  lognorm log((1/n) sum exp(s_i)),\n"
            "  lognorm_inf <a, m> + a^T S a / 2.\n"
            "\n"
            "Exit status: 0 success, 1 failure of the run, 2 bad usage or\n"
            "bad input.\n",
            EVAL_STREAM, EVAL_MAX_N);
}

/* Scratch of one run: D- and p-vectors, one block. */
typedef struct eval_work {
    double *a, *z, *xi, *zbar, *a_lim, *mu, *sa, *F_n, *F_inf;
    double *block;
} eval_work;

static int work_alloc(eval_work *w, size_t D, size_t p)
{
    w->block = malloc((7 * D + 2 * p) * sizeof(double));
    if (w->block == NULL)
        return 0;
    w->a = w->block;
    w->z = w->a + D;
    w->xi = w->z + D;
    w->zbar = w->xi + D;
    w->a_lim = w->zbar + D;
    w->mu = w->a_lim + D;
    w->sa = w->mu + D;
    w->F_n = w->sa + D;
    w->F_inf = w->F_n + p;
    return 1;
}

static void print_vector(const char *name, size_t n, const double *v)
{
    printf("%s", name);
    for (size_t i = 0; i < n; i++)
        printf(" %.17g", v[i]);
    printf("\n");
}

/* The run proper; prints results, or one error. */
static int run(const sl_params *prm, uint64_t n, uint64_t seed)
{
    size_t D = prm->D, p = prm->p;
    double lognorm, ess, quad, kappa, lognorm_inf, dist2 = 0.0;
    eval_work w;
    sl_stream st;
    sl_gauss g;
    sl_rng rng;
    sl_status gs;

    /* 1. The measure (already validated with the parameters). */
    gs = sl_gauss_init(&g, D, prm->mean, prm->cov);
    if (gs != SL_OK) {
        cli_error("eval", "cannot set up N(mean, cov): %s", sl_status_str(gs));
        return gs == SL_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }
    if (!work_alloc(&w, D, p)) {
        sl_gauss_free(&g);
        cli_error("eval", "out of memory");
        return CLI_EXIT_FAIL;
    }

    /* 2. The prompt, token by token: z ~ N(m, S), s = <a, z>, a = W x. */
    sl_matvec(D, prm->Dq, prm->W, prm->query, w.a);
    sl_rng_init(&rng, seed, EVAL_STREAM);
    sl_stream_init(&st, D, w.zbar, NULL, NULL);
    for (uint64_t i = 0; i < n; i++) {
        double s;

        sl_gauss_draw(&g, &rng, w.z, w.xi);
        s = sl_dot(D, w.a, w.z);
        if (!isfinite(s)) {
            cli_error("eval",
                      "score of token %" PRIu64 " is not finite: "
                      "the parameters are too large",
                      i + 1);
            free(w.block);
            sl_gauss_free(&g);
            return CLI_EXIT_USAGE;
        }
        sl_stream_push(&st, s, w.z);
    }
    sl_stream_finish(&st, p, prm->V, w.F_n, &lognorm, &ess);

    /* 3. The limit, from the covariance the tokens were drawn with. */
    sl_limit_gauss_forward(D, prm->Dq, p, g.mean, g.cov, prm->W, prm->V,
                           prm->query, w.a_lim, w.mu, w.F_inf);
    quad = sl_limit_gauss_quad(D, g.cov, w.a, w.sa);
    kappa = exp(quad);
    lognorm_inf = sl_dot(D, w.a, g.mean) + 0.5 * quad;
    for (size_t r = 0; r < p; r++) {
        double d = w.F_n[r] - w.F_inf[r];

        dist2 += d * d;
    }

    /* 4. Report: the run's identity first, then the results. */
    printf("seed %" PRIu64 "\n", seed);
    printf("n %" PRIu64 "\n", n);
    printf("D %zu\n", D);
    printf("Dq %zu\n", prm->Dq);
    printf("p %zu\n", p);
    print_vector("F_n", p, w.F_n);
    print_vector("F_inf", p, w.F_inf);
    printf("distance %.17g\n", sqrt(dist2));
    printf("kappa %.17g\n", kappa);
    printf("ess %.17g\n", ess);
    printf("lognorm %.17g\n", lognorm);
    printf("lognorm_inf %.17g\n", lognorm_inf);

    free(w.block);
    sl_gauss_free(&g);
    return CLI_EXIT_OK;
}

int cmd_eval(int argc, char **argv)
{
    cli_opt opts[] = {{"--params", NULL}, {"--n", NULL}, {"--seed", NULL}};
    uint64_t n = 0, seed = 0;
    sl_params prm;
    sl_status st;
    char err[512];
    int rc;

    /* 1. The command line: each value valid, all three flags given. */
    rc = cli_parse_opts("eval", argc, argv, opts, 3);
    if (rc == CLI_HELP) {
        cmd_eval_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc != CLI_PARSED)
        return CLI_EXIT_USAGE;
    if (opts[1].value != NULL &&
        !cli_count_arg("eval", "--n", opts[1].value, 1, EVAL_MAX_N, &n))
        return CLI_EXIT_USAGE;
    if (opts[2].value != NULL &&
        !cli_u64_arg("eval", "--seed", opts[2].value, &seed))
        return CLI_EXIT_USAGE;
    for (size_t k = 0; k < 3; k++) {
        if (opts[k].value == NULL) {
            cli_error("eval", "%s is required (try \"softlin eval --help\")",
                      opts[k].flag);
            return CLI_EXIT_USAGE;
        }
    }

    /* 2. The parameters; the message names the file and the field. */
    st = sl_params_load(opts[0].value, &prm, err, sizeof err);
    if (st != SL_OK) {
        cli_error("eval", "%s", err);
        return st == SL_ENOMEM ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
    }

    rc = run(&prm, n, seed);
    sl_params_free(&prm);
    return rc;
}
