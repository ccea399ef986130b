/*
 * ls.c - `loci ls [PREFIX]`: list objects by key, following next_cursor to the end (or to
 * --limit results). One line per object, "SIZE  UPDATED_AT  KEY", and "PRE  PREFIX" for each
 * common prefix when --delimiter rolls keys up; with --json, one JSON object per line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/session.h"

#define PAGE_MAX 1000 /* the API's largest page */

/* Prints one object or one common prefix (prefix != NULL). */
static int print_entry(const json_t *obj, const char *prefix, bool json_out)
{
    int n;
    if (json_out && prefix) {
        json_t *p = json_pack("{s:s}", "prefix", prefix);
        int rc = cli_print_json(p, false);
        json_decref(p);
        return rc;
    }
    if (json_out)
        return cli_print_json(obj, false);
    if (prefix) {
        n = printf("PRE  %s\n", prefix);
    } else {
        const char *key = cli_jstr(obj, "key"), *updated = cli_jstr(obj, "updated_at");
        json_t *size = json_object_get(obj, "size");
        if (json_is_integer(size))
            n = printf("%lld  %s  %s\n", (long long)json_integer_value(size), updated ? updated : "-", key ? key : "?");
        else
            n = printf("-  %s  %s\n", updated ? updated : "-", key ? key : "?");
    }
    return n < 0 ? ERR_IO : 0;
}

/* Prints a page's objects and common prefixes merged in key order (each list is sorted by
 * key, and the page's limit counts both), at most *left entries (-1: all). */
static int print_page(const json_t *objects, const json_t *prefixes, bool json_out, int64_t *left)
{
    size_t io = 0, ip = 0, no = json_array_size(objects), np = json_array_size(prefixes);
    while ((io < no || ip < np) && *left != 0) {
        const json_t *o = io < no ? json_array_get(objects, io) : NULL;
        const char *p = ip < np ? json_string_value(json_array_get(prefixes, ip)) : NULL;
        const char *okey = o ? cli_jstr(o, "key") : NULL;
        int rc;
        if (ip < np && (o == NULL || (p && okey && strcmp(p, okey) < 0))) {
            ip++;
            if (p == NULL)
                continue;
            rc = print_entry(NULL, p, json_out);
        } else {
            io++;
            rc = print_entry(o, NULL, json_out);
        }
        if (rc != 0)
            return rc;
        if (*left > 0)
            (*left)--;
    }
    return 0;
}

int cmd_ls(int argc, char **argv)
{
    cli_list_t tags = {0};
    const char *delimiter = NULL;
    cli_int_t limit = {0};
    bool json_out = false;
    const cli_opt_t opts[] = {
        {.name = "--tag",
         .kind = CLI_OPT_LIST,
         .metavar = "K=V",
         .help = "only objects with tag K=V (repeatable, all must match)",
         .dest = &tags},
        {.name = "--delimiter",
         .kind = CLI_OPT_STR,
         .metavar = "D",
         .help = "roll keys up to D after the prefix (e.g. /)",
         .dest = &delimiter},
        {.name = "--limit",
         .kind = CLI_OPT_INT,
         .metavar = "N",
         .help = "stop after N results",
         .min = 1,
         .max = INT64_MAX,
         .dest = &limit},
        {.name = "--json", .kind = CLI_OPT_FLAG, .help = "one JSON object per line", .dest = &json_out},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci ls [PREFIX] [options]",
        .about = "Lists objects whose key starts with PREFIX, sorted by key:\n"
                 "\"SIZE  UPDATED_AT  KEY\" per object and \"PRE  PREFIX\" per common prefix.",
        .min_args = 0,
        .max_args = 1,
        .token_env = CLI_ENV_TOKEN,
        .opts = opts,
    };
    cli_session_t s;
    buf_t name = BUF_INIT;
    char *cursor = NULL;
    int64_t left = -1;

    if (!cli_session_begin(&s, &spec, argc, argv, -1))
        goto out;
    for (size_t i = 0; i < tags.n; i++) {
        const char *k, *v;
        size_t klen;
        if (cli_parse_kv(tags.v[i], &k, &klen, &v) != 0) {
            s.exit_code = cli_usage_error(&spec, "invalid tag '%s': expected KEY=VALUE", tags.v[i]);
            goto out;
        }
    }
    left = limit.set ? limit.v : -1;
    do {
        char num[24];
        buf_reset(&s.path);
        buf_puts(&s.path, "/v1/objects");
        if (s.args.npos > 0)
            cli_query_add(&s.path, "prefix", s.args.pos[0]);
        if (delimiter)
            cli_query_add(&s.path, "delimiter", delimiter);
        for (size_t i = 0; i < tags.n; i++) {
            const char *k, *v;
            size_t klen;
            cli_parse_kv(tags.v[i], &k, &klen, &v);
            buf_reset(&name);
            buf_printf(&name, "tag.%.*s", (int)klen, k);
            cli_query_add(&s.path, name.base, v);
        }
        snprintf(num, sizeof(num), "%lld", (long long)(left > 0 && left < PAGE_MAX ? left : PAGE_MAX));
        cli_query_add(&s.path, "limit", num);
        if (cursor)
            cli_query_add(&s.path, "cursor", cursor);

        cli_request_t req = {.method = "GET", .path = s.path.base};
        if (!cli_session_call(&s, &req))
            goto out;
        if (print_page(json_object_get(s.resp.json, "objects"), json_object_get(s.resp.json, "common_prefixes"), json_out, &left) !=
            0)
            goto out;
        const char *next = cli_jstr(s.resp.json, "next_cursor");
        if (next && cursor && strcmp(next, cursor) == 0) {
            fputs("loci: the server repeated its list cursor\n", stderr);
            goto out;
        }
        free(cursor);
        cursor = next ? strdup(next) : NULL;
    } while (cursor != NULL && left != 0);
    if (fflush(stdout) == 0)
        s.exit_code = CLI_EXIT_OK;
out:
    free(cursor);
    buf_release(&name);
    return cli_session_end(&s);
}
