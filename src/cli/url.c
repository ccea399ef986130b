/*
 * url.c - `loci url KEY`: print a signed GET URL for an object, for curl, a browser or
 * another program that should read the bytes straight from the store.
 */
#include <stdio.h>
#include <strings.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/opts.h"

int cmd_url(int argc, char **argv)
{
    const char *region = NULL, *method = "GET";
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
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci url KEY [options]",
        .about = "Prints a signed URL that reads object KEY straight from its nearest store.",
        .min_args = 1,
        .max_args = 1,
        .token_env = CLI_ENV_TOKEN,
        .opts = opts,
    };
    cli_args_t args;
    cli_client_t client = {0};
    cli_response_t resp;
    err_t e;
    buf_t path = BUF_INIT;
    int exit_code = CLI_EXIT_FAIL;

    cli_args_init(&args);
    cli_response_init(&resp);
    err_clear(&e);
    if (!cli_args_run(&spec, argc, argv, &args, &exit_code))
        goto out;
    const char *key = args.pos[0];
    if (strcasecmp(method, "GET") != 0) {
        exit_code =
            cli_usage_error(&spec, "unsupported method '%s': loci signs GET URLs for reading (use 'loci put' to write)", method);
        goto out;
    }
    if (cli_check_key(key, &e) != 0 || cli_client_init(&client, args.url, args.token, &e) != 0) {
        exit_code = cli_usage_error(&spec, "%s", e.msg);
        goto out;
    }
    cli_path_object(&path, key);
    if (expires.set) {
        char secs[24];
        snprintf(secs, sizeof(secs), "%lld", (long long)expires.v);
        cli_query_add(&path, "expires", secs);
    }
    if (region)
        cli_query_add(&path, "region", region);
    cli_request_t req = {.method = "GET", .path = path.base};
    if (cli_call(&client, &req, &resp, &e) != 0) {
        cli_fail(&e);
        goto out;
    }
    const char *href = cli_jstr(json_object_get(resp.json, "url"), "url");
    if (href == NULL) {
        fprintf(stderr, "loci: object '%s' has no readable copy\n", key);
        goto out;
    }
    if (printf("%s\n", href) < 0 || fflush(stdout) != 0)
        goto out;
    exit_code = CLI_EXIT_OK;
out:
    buf_release(&path);
    cli_response_release(&resp);
    cli_client_release(&client);
    cli_args_release(&args);
    return exit_code;
}
