/* cli.h -- what the softlin command-line tool's files share.
 *
 * The CLI is the only part of softlin that prints or exits.  Results go to
 * stdout; every error is one line on stderr, "softlin CMD: ...", naming
 * the flag or file at fault.  Exit status: CLI_EXIT_OK, CLI_EXIT_FAIL for
 * a failure of the run itself (memory, output), CLI_EXIT_USAGE for bad
 * usage or bad input.
 */
#ifndef SOFTLIN_CLI_H
#define SOFTLIN_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef SOFTLIN_VERSION
#define SOFTLIN_VERSION "unknown"
#endif

#if defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* ---- Subcommands (cmd_*.c) --------------------------------------------
 * run gets argv[0] == the subcommand's name and returns an exit status;
 * usage prints the subcommand's help. */

int cmd_eval(int argc, char **argv);
void cmd_eval_usage(FILE *out);

int cmd_check(int argc, char **argv);
void cmd_check_usage(FILE *out);

int cmd_oracle(int argc, char **argv);
void cmd_oracle_usage(FILE *out);

int cmd_gate(int argc, char **argv);
void cmd_gate_usage(FILE *out);

int cmd_train(int argc, char **argv);
void cmd_train_usage(FILE *out);

/* ---- Messages (args.c) ------------------------------------------------ */

/* Print "softlin CMD: <formatted>\n" on stderr (just "softlin: " when cmd
 * is NULL), control characters replaced so that it stays one line. */
void cli_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);

/* ---- Options (args.c) ------------------------------------------------- */

/* A flag that takes a value, "--flag VALUE" or "--flag=VALUE". */
typedef struct cli_opt {
    const char *flag;  /* e.g. "--n" */
    const char *value; /* set by cli_parse_opts, NULL if absent */
} cli_opt;

enum { CLI_PARSED = 0, CLI_HELP = 1, CLI_BAD = 2 };

/* Parse argv[1 .. argc) against opts.  Returns CLI_PARSED, CLI_HELP on
 * --help or -h, or CLI_BAD after printing the error: an unknown option, a
 * stray argument, a flag given twice or without its value (a value may
 * start with '-' but not with "--"). */
int cli_parse_opts(const char *cmd, int argc, char **argv, cli_opt *opts,
                   size_t nopts);

/* ---- Numbers (args.c) ------------------------------------------------- */

enum { CLI_NUM_OK = 0, CLI_NUM_SYNTAX, CLI_NUM_RANGE };

/* An unsigned integer, the whole string: decimal digits, or a decimal
 * with exponent whose value is exactly an integer ("1e6", "2.5e3").  No
 * sign, no space.  CLI_NUM_SYNTAX if not such an integer, CLI_NUM_RANGE
 * if above UINT64_MAX. */
int cli_parse_u64(const char *text, uint64_t *out);

/* A finite double, the whole string (strtod syntax, no leading space).
 * CLI_NUM_RANGE if it overflows. */
int cli_parse_double(const char *text, double *out);

/* The value of flag as an integer in [min, max], min >= 1; on failure
 * prints "softlin CMD: FLAG: ..." and returns 0, else 1. */
int cli_count_arg(const char *cmd, const char *flag, const char *text,
                  uint64_t min, uint64_t max, uint64_t *out);

/* The value of flag as any uint64_t; same convention. */
int cli_u64_arg(const char *cmd, const char *flag, const char *text,
                uint64_t *out);

/* The value of flag as a finite double; same convention. */
int cli_double_arg(const char *cmd, const char *flag, const char *text,
                   double *out);

/* ---- Progress and machine (progress.c) -------------------------------- */

typedef struct cli_progress {
    const char *cmd; /* named in the line: "softlin CMD: ..." */
    int tty;         /* stderr is a terminal */
    double start, last;
    int shown; /* a line was printed */
} cli_progress;

/* Start the clock of a run of subcommand cmd. */
void cli_progress_start(cli_progress *pr, const char *cmd);

/* The engines' progress callback (ctx is a cli_progress): rewrites one
 * line on stderr with the share of tokens done. */
void cli_progress_show(void *ctx, uint64_t done, uint64_t total);

/* End the line if one was printed; returns the seconds since the start. */
double cli_progress_end(cli_progress *pr);

/* The number of online cores (the default --threads), at least 1. */
uint64_t cli_cores(void);

#endif
