/*
 * stat.c - `loci stat KEY`: print an object's JSON (metadata, locations and a signed URL)
 * as loci returns it, indented by two spaces.
 */
#include <stdio.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/session.h"

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
    cli_session_t s;

    if (!cli_session_begin(&s, &spec, argc, argv, 0))
        return cli_session_end(&s);
    cli_path_object(&s.path, s.args.pos[0]);
    if (region)
        cli_query_add(&s.path, "region", region);
    cli_request_t req = {.method = "GET", .path = s.path.base};
    if (cli_session_call(&s, &req) && cli_print_json(s.resp.json, true) == 0)
        s.exit_code = CLI_EXIT_OK;
    return cli_session_end(&s);
}
