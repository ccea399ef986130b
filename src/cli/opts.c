/*
 * opts.c - the client commands' argument parser (see opts.h).
 */
#include "cli/opts.h"
#include "cli/progress.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The options every client command accepts, handled by the parser itself. */
enum { GLOBAL_URL, GLOBAL_TOKEN, GLOBAL_HELP, GLOBAL_COUNT };

static const struct {
    const char *name;
    char short_name;
    cli_opt_kind_t kind;
    const char *metavar;
} globals[GLOBAL_COUNT] = {
    [GLOBAL_URL] = {"--url", 0, CLI_OPT_STR, "URL"},
    [GLOBAL_TOKEN] = {"--token", 0, CLI_OPT_STR, "TOKEN"},
    [GLOBAL_HELP] = {"--help", 'h', CLI_OPT_FLAG, NULL},
};

void cli_args_init(cli_args_t *a)
{
    arena_init(&a->arena);
    a->pos = NULL;
    a->npos = 0;
    a->url = NULL;
    a->token = NULL;
}

void cli_args_release(cli_args_t *a)
{
    arena_release(&a->arena);
    a->pos = NULL;
    a->npos = 0;
}

int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (s == NULL || *s == '\0' || !(*s == '-' || (*s >= '0' && *s <= '9')))
        return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int cli_parse_size(const char *s, int64_t min, int64_t max, int64_t *out)
{
    static const struct {
        const char *suffix;
        int shift;
    } UNITS[] = {{"", 0}, {"K", 10}, {"KiB", 10}, {"M", 20}, {"MiB", 20}, {"G", 30}, {"GiB", 30}, {"T", 40}, {"TiB", 40}};
    if (s == NULL || !(*s >= '0' && *s <= '9'))
        return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s)
        return -1;
    for (size_t i = 0; i < sizeof(UNITS) / sizeof(UNITS[0]); i++) {
        if (strcmp(end, UNITS[i].suffix) != 0)
            continue;
        if (v > (INT64_MAX >> UNITS[i].shift))
            return -1;
        int64_t n = (int64_t)v << UNITS[i].shift;
        if (n < min || n > max)
            return -1;
        *out = n;
        return 0;
    }
    return -1;
}

int cli_parse_kv(const char *s, const char **k, size_t *klen, const char **v)
{
    const char *eq = strchr(s, '=');
    if (eq == NULL || eq == s)
        return -1;
    *k = s;
    *klen = (size_t)(eq - s);
    *v = eq + 1;
    return 0;
}

/* Finds the option named by s[0..len) ("--tag") or the short option c (when len is 0) among
 * the command's options. Returns its index, or -1. */
static int find_opt(const cli_opt_t *opts, const char *s, size_t len, char c)
{
    for (int i = 0; opts && opts[i].name; i++) {
        if (len == 0 ? (c != 0 && opts[i].short_name == c) : (strlen(opts[i].name) == len && memcmp(opts[i].name, s, len) == 0))
            return i;
    }
    return -1;
}

static int find_global(const char *s, size_t len, char c)
{
    for (int i = 0; i < GLOBAL_COUNT; i++) {
        if (len == 0 ? (c != 0 && globals[i].short_name == c)
                     : (strlen(globals[i].name) == len && memcmp(globals[i].name, s, len) == 0))
            return i;
    }
    return -1;
}

/* Stores one option value through its dest pointer. argc bounds how many values a list can
 * collect, so a list's array is allocated once at that size. */
static int apply(const cli_opt_t *o, const char *value, int argc, cli_args_t *a, err_t *e)
{
    switch (o->kind) {
    case CLI_OPT_FLAG:
        *(bool *)o->dest = true;
        return 0;
    case CLI_OPT_STR:
        *(const char **)o->dest = value;
        return 0;
    case CLI_OPT_INT: {
        cli_int_t *iv = o->dest;
        if (cli_parse_i64(value, o->min, o->max, &iv->v) != 0) {
            if (o->max == INT64_MAX)
                return err_set(e, ERR_BAD_REQUEST, "invalid %s '%s': expected an integer >= %lld", o->name, value,
                               (long long)o->min);
            return err_set(e, ERR_BAD_REQUEST, "invalid %s '%s': expected an integer from %lld to %lld", o->name, value,
                           (long long)o->min, (long long)o->max);
        }
        iv->set = true;
        return 0;
    }
    case CLI_OPT_SIZE: {
        cli_int_t *iv = o->dest;
        if (cli_parse_size(value, o->min, o->max, &iv->v) != 0) {
            char lo[32], hi[32];
            return err_set(e, ERR_BAD_REQUEST, "invalid %s '%s': expected a size from %s to %s (bytes, or with K, M, G, T)",
                           o->name, value, cli_format_bytes(o->min, lo, sizeof(lo)), cli_format_bytes(o->max, hi, sizeof(hi)));
        }
        iv->set = true;
        return 0;
    }
    case CLI_OPT_LIST: {
        cli_list_t *l = o->dest;
        if (l->v == NULL) {
            l->v = arena_calloc(&a->arena, (size_t)argc, sizeof(*l->v));
            l->n = 0;
        }
        l->v[l->n++] = value;
        return 0;
    }
    }
    return err_set(e, ERR_BAD_REQUEST, "bad option table for '%s'", o->name);
}

/*
 * One pass over argv. Long options match exactly (no abbreviations: a script that works
 * today must not break when an option is added); a value is the rest after '=' or the next
 * argument, whatever it looks like, so `--attr -1` or `--tag -x=y` work.
 */
int cli_args_parse(const cli_spec_t *spec, int argc, char **argv, cli_args_t *a, err_t *e)
{
    const char *gval[GLOBAL_COUNT] = {NULL};
    bool only_pos = false;
    int rc = 0;

    a->pos = arena_calloc(&a->arena, argc > 0 ? (size_t)argc : 1, sizeof(*a->pos));
    a->npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (only_pos || s[0] != '-' || s[1] == '\0') {
            a->pos[a->npos++] = s;
            continue;
        }
        if (strcmp(s, "--") == 0) {
            only_pos = true;
            continue;
        }
        const char *name, *inline_val = NULL;
        size_t len;
        char c = 0;
        if (s[1] == '-') {
            const char *eq = strchr(s, '=');
            name = s;
            len = eq ? (size_t)(eq - s) : strlen(s);
            inline_val = eq ? eq + 1 : NULL;
        } else {
            name = s;
            len = 0;
            c = s[1];
            inline_val = s[2] ? s + 2 : NULL;
        }
        int oi = find_opt(spec->opts, name, len, c);
        int gi = oi < 0 ? find_global(name, len, c) : -1;
        if (oi < 0 && gi < 0) {
            if (len)
                rc = err_set(e, ERR_BAD_REQUEST, "unknown option '%.*s'", (int)len, name);
            else
                rc = err_set(e, ERR_BAD_REQUEST, "unknown option '-%c'", c);
            goto out;
        }
        cli_opt_kind_t kind = oi >= 0 ? spec->opts[oi].kind : globals[gi].kind;
        const char *oname = oi >= 0 ? spec->opts[oi].name : globals[gi].name;
        const char *value = NULL;
        if (kind == CLI_OPT_FLAG) {
            if (inline_val) {
                rc = err_set(e, ERR_BAD_REQUEST, "option '%s' takes no value", oname);
                goto out;
            }
        } else if (inline_val) {
            value = inline_val;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            rc = err_set(e, ERR_BAD_REQUEST, "option '%s' needs a value", oname);
            goto out;
        }
        if (gi == GLOBAL_HELP) {
            rc = CLI_PARSE_HELP;
            goto out;
        }
        if (gi >= 0) {
            gval[gi] = value;
            continue;
        }
        rc = apply(&spec->opts[oi], value, argc, a, e);
        if (rc != 0)
            goto out;
    }

    if (a->npos < (size_t)spec->min_args) {
        rc = err_set(e, ERR_BAD_REQUEST, "missing arguments");
        goto out;
    }
    if (spec->max_args >= 0 && a->npos > (size_t)spec->max_args) {
        rc = err_set(e, ERR_BAD_REQUEST, "unexpected argument '%s'", a->pos[spec->max_args]);
        goto out;
    }

    a->url = gval[GLOBAL_URL];
    if (a->url == NULL || *a->url == '\0')
        a->url = getenv(CLI_ENV_URL);
    if (a->url == NULL || *a->url == '\0')
        a->url = CLI_DEFAULT_URL;
    a->token = gval[GLOBAL_TOKEN];
    if (a->token == NULL && spec->token_env)
        a->token = getenv(spec->token_env);
    if (a->token != NULL && *a->token == '\0')
        a->token = NULL;
out:
    return rc;
}

/* Prints one option line of --help, the left column padded to a fixed width. */
static void help_line(FILE *f, char short_name, const char *name, const char *metavar, const char *help)
{
    char left[64];
    int n;
    if (short_name)
        n = snprintf(left, sizeof(left), "-%c, %s%s%s", short_name, name, metavar ? " " : "", metavar ? metavar : "");
    else
        n = snprintf(left, sizeof(left), "    %s%s%s", name, metavar ? " " : "", metavar ? metavar : "");
    if (n >= 26)
        fprintf(f, "  %s\n  %-26s  %s\n", left, "", help);
    else
        fprintf(f, "  %-26s  %s\n", left, help);
}

void cli_print_help(const cli_spec_t *spec, void *fp)
{
    FILE *f = fp;
    fprintf(f, "usage: %s\n", spec->usage);
    if (spec->about)
        fprintf(f, "\n%s\n", spec->about);
    if (spec->opts && spec->opts[0].name) {
        fputs("\noptions:\n", f);
        for (const cli_opt_t *o = spec->opts; o->name; o++)
            help_line(f, o->short_name, o->name, o->kind == CLI_OPT_FLAG ? NULL : o->metavar, o->help);
    }
    fputs("\nglobal options:\n", f);
    help_line(f, 0, "--url", "URL", "server URL (default $" CLI_ENV_URL ", else " CLI_DEFAULT_URL ")");
    if (spec->token_env) {
        char help[96];
        snprintf(help, sizeof(help), "bearer token (default $%s)", spec->token_env);
        help_line(f, 0, "--token", "TOKEN", help);
    } else {
        help_line(f, 0, "--token", "TOKEN", "bearer token");
    }
    help_line(f, 'h', "--help", NULL, "show this help");
}

bool cli_args_run(const cli_spec_t *spec, int argc, char **argv, cli_args_t *a, int *exit_code)
{
    err_t e;
    err_clear(&e);
    int rc = cli_args_parse(spec, argc, argv, a, &e);
    if (rc == 0)
        return true;
    if (rc == CLI_PARSE_HELP) {
        cli_print_help(spec, stdout);
        *exit_code = CLI_EXIT_OK;
        return false;
    }
    fprintf(stderr, "loci: %s\nusage: %s\n", e.msg, spec->usage);
    *exit_code = CLI_EXIT_USAGE;
    return false;
}

int cli_usage_error(const cli_spec_t *spec, const char *fmt, ...)
{
    va_list ap;
    fputs("loci: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\n", spec->usage);
    return CLI_EXIT_USAGE;
}
