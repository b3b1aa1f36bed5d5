/* progress.c -- the progress line of long subcommands (on a terminal
 * only) and the default thread count.
 *
 * Nothing is printed in the first two seconds, nor more than four times a
 * second, nor at all when stderr is not a terminal (logs stay clean).
 */
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_start(cli_progress *pr, const char *cmd)
{
    pr->cmd = cmd;
    pr->tty = isatty(STDERR_FILENO);
    pr->start = now_s();
    pr->last = 0.0;
    pr->shown = 0;
}

void cli_progress_show(void *ctx, uint64_t done, uint64_t total)
{
    cli_progress *pr = ctx;
    double t = now_s();
    if (!pr->tty || t - pr->start < 2.0 || t - pr->last < 0.25)
        return;
    pr->last = t;
    pr->shown = 1;
    fprintf(stderr, "\rsoftlin %s: %5.1f%% of %.3g tokens, %.0f s", pr->cmd,
            100.0 * (double)done / (double)(total ? total : 1), (double)total,
            t - pr->start);
}

double cli_progress_end(cli_progress *pr)
{
    if (pr->shown)
        fputc('\n', stderr);
    return now_s() - pr->start;
}

uint64_t cli_cores(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    return ncpu >= 1 ? (uint64_t)ncpu : 1;
}
