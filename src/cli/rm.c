/*
 * rm.c - `loci rm KEY`: delete an object (DELETE /v1/objects/{key}); its stored copies are
 * queued for erasure by the server. Prints nothing on success.
 */
#include <stdio.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/opts.h"

int cmd_rm(int argc, char **argv)
{
    cli_int_t if_match = {0};
    const cli_opt_t opts[] = {
        {.name = "--if-match",
         .kind = CLI_OPT_INT,
         .metavar = "VERSION",
         .help = "delete only if the object has this version",
         .min = 0,
         .max = INT64_MAX,
         .dest = &if_match},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci rm KEY [options]",
        .about = "Deletes object KEY; its stored copies are erased by the server.",
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
    char match[24];
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
    if (if_match.set)
        snprintf(match, sizeof(match), "%lld", (long long)if_match.v);
    cli_request_t req = {.method = "DELETE", .path = path.base, .if_match = if_match.set ? match : NULL};
    if (cli_call(&client, &req, &resp, &e) != 0) {
        cli_fail(&e);
        goto out;
    }
    exit_code = CLI_EXIT_OK;
out:
    buf_release(&path);
    cli_response_release(&resp);
    cli_client_release(&client);
    cli_args_release(&args);
    return exit_code;
}
