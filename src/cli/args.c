/* args.c -- strict parsing of softlin's command line, and its messages.
 *
 * Numbers are read whole or not at all: no sign, no surrounding space, no
 * silent wrap-around.  An integer may be written with an exponent
 * ("1e6") when its value is exactly an integer; this is decided in
 * decimal, digit by digit, never through a double.  Every message names
 * the flag and repeats the offending text.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* Longest exponent considered; larger ones can only overflow (or, with a
 * zero mantissa, give 0). */
#define CLI_EXP_CAP 100000

void cli_error(const char *cmd, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *c = line; *c != '\0'; c++)
        if (iscntrl((unsigned char)*c))
            *c = '?';
    if (cmd != NULL)
        fprintf(stderr, "softlin %s: %s\n", cmd, line);
    else
        fprintf(stderr, "softlin: %s\n", line);
}

/* ---- Options ---------------------------------------------------------- */

int cli_parse_opts(const char *cmd, int argc, char **argv, cli_opt *opts,
                   size_t nopts)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        size_t flen = 0, k;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return CLI_HELP;
        if (arg[0] != '-' || arg[1] == '\0') {
            cli_error(cmd,
                      "unexpected argument \"%s\" (try \"softlin %s --help\")",
                      arg, cmd);
            return CLI_BAD;
        }

        /* 1. Which flag: "--flag" or "--flag=value". */
        for (k = 0; k < nopts; k++) {
            flen = strlen(opts[k].flag);
            if (strncmp(arg, opts[k].flag, flen) == 0 &&
                (arg[flen] == '\0' || arg[flen] == '='))
                break;
        }
        if (k == nopts) {
            cli_error(cmd, "unknown option \"%s\" (try \"softlin %s --help\")",
                      arg, cmd);
            return CLI_BAD;
        }
        if (opts[k].value != NULL) {
            cli_error(cmd, "%s: given more than once", opts[k].flag);
            return CLI_BAD;
        }

        /* 2. Its value: after '=', or the next argument unless that is
         *    another long option. */
        if (arg[flen] == '=')
            value = arg + flen + 1;
        else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
            value = argv[++i];
        if (value == NULL) {
            cli_error(cmd, "%s: missing value", opts[k].flag);
            return CLI_BAD;
        }
        opts[k].value = value;
    }
    return CLI_PARSED;
}

/* ---- Numbers ---------------------------------------------------------- */

/* Digit i of the mantissa: the integer digits, then the fraction's. */
static char digit_at(const char *int_part, size_t int_len,
                     const char *frac_part, size_t i)
{
    return i < int_len ? int_part[i] : frac_part[i - int_len];
}

int cli_parse_u64(const char *text, uint64_t *out)
{
    const char *s = text, *int_start, *frac_start = NULL;
    size_t int_len, frac_len = 0;
    long exp10 = 0;
    size_t total, lo, hi;
    uint64_t v = 0;

    /* 1. Syntax: DIGITS [. DIGITS] [(e|E) [+|-] DIGITS], nothing else. */
    int_start = s;
    while (isdigit((unsigned char)*s))
        s++;
    int_len = (size_t)(s - int_start);
    if (int_len == 0)
        return CLI_NUM_SYNTAX;
    if (*s == '.') {
        frac_start = ++s;
        while (isdigit((unsigned char)*s))
            s++;
        frac_len = (size_t)(s - frac_start);
        if (frac_len == 0)
            return CLI_NUM_SYNTAX;
    }
    if (*s == 'e' || *s == 'E') {
        int neg = 0;

        s++;
        if (*s == '+' || *s == '-')
            neg = *s++ == '-';
        if (!isdigit((unsigned char)*s))
            return CLI_NUM_SYNTAX;
        for (; isdigit((unsigned char)*s); s++)
            if (exp10 < CLI_EXP_CAP)
                exp10 = 10 * exp10 + (*s - '0');
        if (neg)
            exp10 = -exp10;
    }
    if (*s != '\0')
        return CLI_NUM_SYNTAX;

    /* 2. Value = (integer digits, fraction digits) * 10^(exp10 -
     *    frac_len).  Only the digits from the first to the last non-zero
     *    one matter; trailing zeros move into the exponent, after which a
     *    negative exponent means a fraction. */
    total = int_len + frac_len;
    lo = 0;
    while (lo < total && digit_at(int_start, int_len, frac_start, lo) == '0')
        lo++;
    if (lo == total) {
        *out = 0;
        return CLI_NUM_OK;
    }
    hi = total;
    while (digit_at(int_start, int_len, frac_start, hi - 1) == '0')
        hi--;
    exp10 += (long)(total - hi) - (long)frac_len;
    if (exp10 < 0)
        return CLI_NUM_SYNTAX;
    if ((long)(hi - lo) + exp10 > 20)
        return CLI_NUM_RANGE;

    /* 3. Accumulate with overflow checks. */
    for (size_t i = lo; i < hi; i++) {
        unsigned d =
            (unsigned)(digit_at(int_start, int_len, frac_start, i) - '0');

        if (v > (UINT64_MAX - d) / 10)
            return CLI_NUM_RANGE;
        v = 10 * v + d;
    }
    for (long e = 0; e < exp10; e++) {
        if (v > UINT64_MAX / 10)
            return CLI_NUM_RANGE;
        v *= 10;
    }
    *out = v;
    return CLI_NUM_OK;
}

int cli_parse_double(const char *text, double *out)
{
    char *end;
    double v;

    if (*text == '\0' || isspace((unsigned char)*text))
        return CLI_NUM_SYNTAX;
    errno = 0;
    v = strtod(text, &end);
    if (*end != '\0' || isnan(v))
        return CLI_NUM_SYNTAX;
    if (isinf(v)) {
        /* "inf" spelled out is not a number here; 1e400 is too large. */
        return errno == ERANGE ? CLI_NUM_RANGE : CLI_NUM_SYNTAX;
    }
    *out = v;
    return CLI_NUM_OK;
}

int cli_count_arg(const char *cmd, const char *flag, const char *text,
                  uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;
    int rc = cli_parse_u64(text, &v);

    if (rc == CLI_NUM_SYNTAX) {
        cli_error(cmd, "%s: expected a positive integer, got \"%s\"", flag,
                  text);
        return 0;
    }
    if (rc == CLI_NUM_OK && v < min) {
        cli_error(cmd, "%s: must be at least %" PRIu64 ", got \"%s\"", flag,
                  min, text);
        return 0;
    }
    if (rc == CLI_NUM_RANGE || v > max) {
        cli_error(cmd, "%s: must be at most %" PRIu64 ", got \"%s\"", flag, max,
                  text);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_u64_arg(const char *cmd, const char *flag, const char *text,
                uint64_t *out)
{
    int rc = cli_parse_u64(text, out);

    if (rc == CLI_NUM_SYNTAX) {
        cli_error(cmd, "%s: expected an unsigned integer, got \"%s\"", flag,
                  text);
        return 0;
    }
    if (rc == CLI_NUM_RANGE) {
        cli_error(cmd, "%s: must be at most %" PRIu64 ", got \"%s\"", flag,
                  UINT64_MAX, text);
        return 0;
    }
    return 1;
}

int cli_double_arg(const char *cmd, const char *flag, const char *text,
                   double *out)
{
    int rc = cli_parse_double(text, out);

    if (rc == CLI_NUM_SYNTAX) {
        cli_error(cmd, "%s: expected a finite number, got \"%s\"", flag, text);
        return 0;
    }
    if (rc == CLI_NUM_RANGE) {
        cli_error(cmd, "%s: out of the range of a double, got \"%s\"", flag,
                  text);
        return 0;
    }
    return 1;
}
