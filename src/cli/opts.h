/*
 * opts.h - one argument parser for every client subcommand (the place where arity and option
 * values are validated, like Redis' commandCheckArity).
 *
 * A subcommand describes itself with a cli_spec_t: its usage line, how many positional
 * arguments it takes and a table of options, each pointing at the caller's variable that
 * receives the value. Every client command also accepts the global options --url, --token
 * and --help (-h), which the parser handles itself.
 *
 * Accepted forms: `--name VALUE`, `--name=VALUE`, `-x VALUE`, `-xVALUE`; options and
 * positional arguments may be mixed; `--` ends the options. A repeated scalar option keeps
 * its last value; a list option collects every value.
 *
 * The parser never prints: cli_args_parse reports problems in an err_t. cli_args_run is the
 * wrapper commands use: it prints --help to stdout and usage errors to stderr.
 */
#ifndef LOCI_CLI_OPTS_H
#define LOCI_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/err.h"

/* Exit codes of client commands. */
#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1 /* the server refused, a transfer or a verification failed */
#define CLI_EXIT_USAGE 2 /* bad arguments */

/* Returned by cli_args_parse when --help was given. */
#define CLI_PARSE_HELP 1

/* The default server, and the environment variables client commands read. */
#define CLI_DEFAULT_URL     "http://127.0.0.1:7700"
#define CLI_ENV_URL         "LOCI_URL"
#define CLI_ENV_TOKEN       "LOCI_TOKEN"
#define CLI_ENV_ADMIN_TOKEN "LOCI_ADMIN_TOKEN"

typedef enum cli_opt_kind {
    CLI_OPT_FLAG, /* dest is bool *: set to true */
    CLI_OPT_STR,  /* dest is const char **: points into argv */
    CLI_OPT_INT,  /* dest is cli_int_t *: checked against [min, max] */
    CLI_OPT_LIST, /* dest is cli_list_t *: every value, in order */
    CLI_OPT_SIZE, /* dest is cli_int_t *: bytes, with an optional K/M/G/T (binary) suffix, in [min, max] */
} cli_opt_kind_t;

/* An integer option's value; `set` tells whether it was given. */
typedef struct cli_int {
    bool set;
    int64_t v;
} cli_int_t;

/* A repeatable option's values, pointing into argv; the array lives in the cli_args_t arena. */
typedef struct cli_list {
    const char **v;
    size_t n;
} cli_list_t;

typedef struct cli_opt {
    const char *name;    /* long form with dashes, "--tag"; NULL ends a table */
    char short_name;     /* 'o' for -o, or 0 */
    cli_opt_kind_t kind; /* what dest points at */
    const char *metavar; /* the value's name in --help ("K=V"); unused for flags */
    const char *help;    /* one line for --help */
    int64_t min, max;    /* range of a CLI_OPT_INT */
    void *dest;          /* the caller's variable, see cli_opt_kind_t */
} cli_opt_t;

typedef struct cli_spec {
    const char *usage;     /* "loci put FILE KEY [options]" */
    const char *about;     /* a few lines for --help, or NULL */
    int min_args;          /* positional arguments, at least */
    int max_args;          /* at most; -1 for no limit */
    const char *token_env; /* variable read when --token is absent (CLI_ENV_TOKEN / CLI_ENV_ADMIN_TOKEN) */
    const cli_opt_t *opts; /* the command's own options, ending with {.name = NULL}; may be NULL */
} cli_spec_t;

/* The parsed command line. Strings point into argv or the environment (not owned). */
typedef struct cli_args {
    arena_t arena;    /* the lists' arrays */
    const char **pos; /* positional arguments */
    size_t npos;
    const char *url;   /* --url, else $LOCI_URL, else CLI_DEFAULT_URL */
    const char *token; /* --token, else $<token_env>, else NULL */
} cli_args_t;

/* Sets up an empty cli_args_t; cli_args_release frees what parsing allocated (list arrays,
 * positional array). Safe to release an initialised but never parsed value. */
void cli_args_init(cli_args_t *a);
void cli_args_release(cli_args_t *a);

/* Parses argv[1..argc) (argv[0] is the subcommand's name) against spec, storing option values
 * through the table's dest pointers and positional arguments in a. Returns 0, CLI_PARSE_HELP
 * if --help/-h was given (nothing else is checked then), or ERR_BAD_REQUEST with the reason in
 * e (e.g. "unknown option '--x'", "option '--copies' needs a value"). a must be initialised. */
int cli_args_parse(const cli_spec_t *spec, int argc, char **argv, cli_args_t *a, err_t *e);

/* cli_args_parse for a command: returns true when the command should run. Otherwise prints
 * the help (stdout) or the error and a usage hint (stderr) and sets *exit_code to
 * CLI_EXIT_OK or CLI_EXIT_USAGE. */
bool cli_args_run(const cli_spec_t *spec, int argc, char **argv, cli_args_t *a, int *exit_code);

/* Prints spec's help: usage, about, the command's options and the global ones. f is a FILE *. */
void cli_print_help(const cli_spec_t *spec, void *f);

/* Prints "loci: <msg>" to stderr and returns CLI_EXIT_USAGE (for checks commands do after
 * parsing, such as "--access-key-id needs --secret-access-key"). */
int cli_usage_error(const cli_spec_t *spec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a whole decimal integer in [min, max] (no sign other than a leading '-', no spaces,
 * no trailing bytes). Returns 0 and *out, or -1. */
int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Parses a byte count: digits with an optional suffix K, M, G, T (or KiB, MiB, GiB, TiB),
 * powers of 1024, within [min, max]. Returns 0 or -1. Pure. */
int cli_parse_size(const char *s, int64_t min, int64_t max, int64_t *out);

/* Splits "k=v" at the first '='. Returns 0 with the key (non-empty) in *k and *klen and the value
 * (possibly empty, NUL-terminated, pointing into s) in *v; -1 if there is no '=' or the key is
 * empty. */
int cli_parse_kv(const char *s, const char **k, size_t *klen, const char **v);

#endif
