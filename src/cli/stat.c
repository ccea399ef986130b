/*
 * stat.c - `loci stat KEY`: print an object's JSON (metadata, locations and a signed URL)
 * as loci returns it, indented by two spaces.
 */
#include <stdio.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/opts.h"

int cmd_stat(int argc, char **argv)
{
    const char *region = NULL;
    const cli_opt_t opts[] = {
        {.name = "--region",
         .kind = CLI_OPT_STR,
         .metavar = "R",
         .help = "your region, for the url's nearest copy",
         .dest = &region},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci stat KEY [options]",
        .about = "Prints the JSON of object KEY: metadata, tags, attributes, locations, url.",
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
    if (cli_check_key(key, &e) != 0 || cli_client_init(&client, args.url, args.token, &e) != 0) {
        exit_code = cli_usage_error(&spec, "%s", e.msg);
        goto out;
    }
    cli_path_object(&path, key);
    if (region)
        cli_query_add(&path, "region", region);
    cli_request_t req = {.method = "GET", .path = path.base};
    if (cli_call(&client, &req, &resp, &e) != 0) {
        cli_fail(&e);
        goto out;
    }
    if (cli_print_json(resp.json, true) != 0)
        goto out;
    exit_code = CLI_EXIT_OK;
out:
    buf_release(&path);
    cli_response_release(&resp);
    cli_client_release(&client);
    cli_args_release(&args);
    return exit_code;
}
