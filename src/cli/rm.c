/*
 * rm.c - `loci rm KEY`: delete an object (DELETE /v1/objects/{key}); its stored copies are
 * queued for erasure by the server. Prints nothing on success.
 */
#include <stdio.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/session.h"

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
    cli_session_t s;
    char match[24];

    if (!cli_session_begin(&s, &spec, argc, argv, 0))
        return cli_session_end(&s);
    cli_path_object(&s.path, s.args.pos[0]);
    if (if_match.set)
        snprintf(match, sizeof(match), "%lld", (long long)if_match.v);
    cli_request_t req = {.method = "DELETE", .path = s.path.base, .if_match = if_match.set ? match : NULL};
    if (cli_session_call(&s, &req))
        s.exit_code = CLI_EXIT_OK;
    return cli_session_end(&s);
}
