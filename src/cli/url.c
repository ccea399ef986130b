/*
 * url.c - `loci url KEY`: print a signed GET URL for an object, for curl, a browser or
 * another program that should read the bytes straight from the store.
 */
#include <stdbool.h>
#include <stdio.h>
#include <strings.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/session.h"

int cmd_url(int argc, char **argv)
{
    const char *region = NULL, *method = "GET", *filename = NULL, *ctype = NULL;
    bool inline_ = false;
    cli_int_t expires = {0};
    const cli_opt_t opts[] = {
        {.name = "--expires",
         .kind = CLI_OPT_INT,
         .metavar = "SECONDS",
         .help = "lifetime (default: the tenant's; at most the tenant's maximum)",
         .min = 1,
         .max = INT64_MAX,
         .dest = &expires},
        {.name = "--region", .kind = CLI_OPT_STR, .metavar = "R", .help = "your region, to pick the nearest copy", .dest = &region},
        {.name = "--method", .kind = CLI_OPT_STR, .metavar = "GET", .help = "the signed method (only GET)", .dest = &method},
        {.name = "--filename",
         .kind = CLI_OPT_STR,
         .metavar = "NAME",
         .help = "the store answers as a download saved as NAME",
         .dest = &filename},
        {.name = "--inline", .kind = CLI_OPT_FLAG, .help = "the store answers for display in the browser", .dest = &inline_},
        {.name = "--content-type",
         .kind = CLI_OPT_STR,
         .metavar = "TYPE",
         .help = "the store answers with this content type",
         .dest = &ctype},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci url KEY [options]",
        .about = "Prints a signed URL that reads object KEY straight from its nearest store.\n"
                 "--filename, --inline and --content-type make the store answer with those\n"
                 "(so a browser saves the download under the user's name).",
        .min_args = 1,
        .max_args = 1,
        .token_env = CLI_ENV_TOKEN,
        .opts = opts,
    };
    cli_session_t s;

    if (!cli_session_begin(&s, &spec, argc, argv, 0))
        return cli_session_end(&s);
    const char *key = s.args.pos[0];
    if (strcasecmp(method, "GET") != 0) {
        s.exit_code =
            cli_usage_error(&spec, "unsupported method '%s': loci signs GET URLs for reading (use 'loci put' to write)", method);
        return cli_session_end(&s);
    }
    cli_path_object(&s.path, key);
    if (expires.set) {
        char secs[24];
        snprintf(secs, sizeof(secs), "%lld", (long long)expires.v);
        cli_query_add(&s.path, "expires", secs);
    }
    if (region)
        cli_query_add(&s.path, "region", region);
    if (filename)
        cli_query_add(&s.path, "filename", filename);
    if (inline_)
        cli_query_add(&s.path, "disposition", "inline");
    if (ctype)
        cli_query_add(&s.path, "content_type", ctype);
    cli_request_t req = {.method = "GET", .path = s.path.base};
    if (!cli_session_call(&s, &req))
        return cli_session_end(&s);
    const char *href = cli_jstr(json_object_get(s.resp.json, "url"), "url");
    if (href == NULL)
        fprintf(stderr, "loci: object '%s' has no readable copy\n", key);
    else if (printf("%s\n", href) >= 0 && fflush(stdout) == 0)
        s.exit_code = CLI_EXIT_OK;
    return cli_session_end(&s);
}
