/* testing_run.c -- run the softlin binary as a user would, for the CLI
 * suites (testing.h).
 *
 * fork and execv, with stdout and stderr captured in temporary files and
 * read back whole once the child has exited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testing.h"

/* The whole content of f, from the start, as a new string. */
static char *slurp(FILE *f)
{
    long len;
    char *s;

    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0)
        return NULL;
    rewind(f);
    s = malloc((size_t)len + 1);
    if (s == NULL)
        return NULL;
    s[fread(s, 1, (size_t)len, f)] = '\0';
    return s;
}

void testing_run_softlin(testing_run *res, const char *const *args)
{
    char *argv[TESTING_RUN_MAX_ARGS + 2];
    FILE *out = tmpfile(), *err = tmpfile();
    int n = 0, wstatus;
    pid_t pid;

    res->status = -1;
    res->out = res->err = NULL;
    if (out == NULL || err == NULL)
        goto done;
    argv[n++] = (char *)testing_softlin_path;
    while (args[n - 1] != NULL && n <= TESTING_RUN_MAX_ARGS) {
        argv[n] = (char *)args[n - 1];
        n++;
    }
    argv[n] = NULL;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        goto done;
    if (pid == 0) {
        if (dup2(fileno(out), 1) < 0 || dup2(fileno(err), 2) < 0)
            _exit(126);
        execv(testing_softlin_path, argv);
        _exit(127);
    }
    if (waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus))
        res->status = WEXITSTATUS(wstatus);
    if (res->status == 127)
        fprintf(stderr, "\n  cannot run %s\n", testing_softlin_path);
    res->out = slurp(out);
    res->err = slurp(err);
done:
    if (out != NULL)
        fclose(out);
    if (err != NULL)
        fclose(err);
    if (res->out == NULL)
        res->out = calloc(1, 1);
    if (res->err == NULL)
        res->err = calloc(1, 1);
}

void testing_run_free(testing_run *res)
{
    free(res->out);
    free(res->err);
}

int testing_one_line(const char *s)
{
    const char *nl = strchr(s, '\n');

    return nl != NULL && nl != s && nl[1] == '\0';
}
