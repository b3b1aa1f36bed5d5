/* main.c -- softlin's entry point: global flags and subcommand dispatch.
 *
 *   softlin --help | --version | help [CMD] | CMD [ARGS...]
 *
 * Help and version go to stdout with status 0; a bad command line is one
 * line on stderr and status 2.  A failed write to stdout is reported and
 * turns the status into 1, so a full disk cannot pass for success.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    void (*usage)(FILE *out);
    const char *summary;
} command;

static const command commands[] = {
    {"eval", cmd_eval, cmd_eval_usage,
     "one Gaussian prompt: F_n against its infinite-prompt limit"},
    {"check", cmd_check, cmd_check_usage,
     "Monte Carlo checks of the theorems, with verdicts and reports"},
    {"oracle", cmd_oracle, cmd_oracle_usage,
     "every kernel against its MPFR oracle and its error budget"},
    {"gate", cmd_gate, cmd_gate_usage,
     "CI's verdict on check reports: fails on rigorous or control errors"},
    {"train", cmd_train, cmd_train_usage,
     "in-context regression trained at finite and infinite prompts"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fputs("Usage: softlin COMMAND [OPTIONS]\n"
          "       softlin help COMMAND\n"
          "       softlin --help | --version\n"
          "\n"
          "Checks that softmax attention over Gaussian tokens converges to\n"
          "a linear operator as the prompt grows.\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("\nExit status: 0 success, 1 failure of the run, 2 bad usage or "
          "bad input.\n",
          out);
}

static const command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Flush stdout; a write error turns success into failure. */
static int finish(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error(NULL, "cannot write to standard output");
        return status == CLI_EXIT_OK ? CLI_EXIT_FAIL : status;
    }
    return status;
}

/* softlin help [CMD] */
static int help(int argc, char **argv)
{
    const command *c;

    if (argc == 2) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 3) {
        cli_error("help", "expected one command name, got %d arguments",
                  argc - 2);
        return CLI_EXIT_USAGE;
    }
    c = find(argv[2]);
    if (c == NULL) {
        cli_error("help", "unknown command \"%s\" (try \"softlin --help\")",
                  argv[2]);
        return CLI_EXIT_USAGE;
    }
    c->usage(stdout);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    const command *c;
    const char *arg;

    if (argc < 2) {
        cli_error(NULL, "missing command (try \"softlin --help\")");
        return CLI_EXIT_USAGE;
    }
    arg = argv[1];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        usage(stdout);
        return finish(CLI_EXIT_OK);
    }
    if (strcmp(arg, "--version") == 0) {
        printf("softlin %s\n", SOFTLIN_VERSION);
        return finish(CLI_EXIT_OK);
    }
    if (strcmp(arg, "help") == 0)
        return finish(help(argc, argv));
    if (arg[0] == '-') {
        cli_error(NULL, "unknown option \"%s\" (try \"softlin --help\")", arg);
        return CLI_EXIT_USAGE;
    }
    c = find(arg);
    if (c == NULL) {
        cli_error(NULL, "unknown command \"%s\" (try \"softlin --help\")", arg);
        return CLI_EXIT_USAGE;
    }
    return finish(c->run(argc - 1, argv + 1));
}
