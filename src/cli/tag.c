/*
 * tag.c - `loci tag KEY K=V... [--remove K]...`: change an object's tags with
 * PATCH /v1/objects/{key} {"tags":{"set":{…},"remove":[…]}} and print its new version.
 */
#include <stdio.h>
#include <string.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/input.h"
#include "cli/opts.h"
#include "cli/session.h"

int cmd_tag(int argc, char **argv)
{
    cli_list_t removes = {0};
    cli_int_t if_match = {0};
    bool json_out = false;
    const cli_opt_t opts[] = {
        {.name = "--remove", .kind = CLI_OPT_LIST, .metavar = "K", .help = "remove tag K (repeatable)", .dest = &removes},
        {.name = "--if-match",
         .kind = CLI_OPT_INT,
         .metavar = "VERSION",
         .help = "change only if the object has this version",
         .min = 0,
         .max = INT64_MAX,
         .dest = &if_match},
        {.name = "--json", .kind = CLI_OPT_FLAG, .help = "print the changed object as JSON", .dest = &json_out},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci tag KEY [K=V]... [--remove K]... [options]",
        .about = "Sets tags K=V and removes tags K on object KEY; prints its new version.",
        .min_args = 1,
        .max_args = -1,
        .token_env = CLI_ENV_TOKEN,
        .opts = opts,
    };
    cli_session_t s;
    json_t *set = NULL, *rm = NULL, *body = NULL;
    char match[24];

    if (!cli_session_begin(&s, &spec, argc, argv, 0))
        goto out;
    const char *key = s.args.pos[0];
    cli_list_t sets = {s.args.pos + 1, s.args.npos - 1};
    if (cli_tags_object(&sets, &set, &s.e) != 0 || cli_strings_array(&removes, "tag name for --remove", &rm, &s.e) != 0) {
        cli_session_usage(&s, s.e.msg);
        goto out;
    }
    if (set == NULL && removes.n == 0) {
        cli_session_usage(&s, "nothing to change: give K=V or --remove K");
        goto out;
    }
    for (size_t i = 0; i < removes.n; i++) {
        if (json_object_get(set, removes.v[i]) != NULL) {
            s.exit_code = cli_usage_error(&spec, "tag '%s' is both set and removed", removes.v[i]);
            goto out;
        }
    }
    json_t *tags = json_object();
    if (set)
        json_object_set(tags, "set", set);
    if (removes.n > 0)
        json_object_set(tags, "remove", rm);
    body = json_object();
    json_object_set_new(body, "tags", tags);

    cli_path_object(&s.path, key);
    if (if_match.set)
        snprintf(match, sizeof(match), "%lld", (long long)if_match.v);
    cli_request_t req = {.method = "PATCH", .path = s.path.base, .body = body, .if_match = if_match.set ? match : NULL};
    if (!cli_session_call(&s, &req))
        goto out;
    json_t *obj = json_object_get(s.resp.json, "object");
    if (!json_is_object(obj)) {
        fputs("loci: malformed answer from server: no object\n", stderr);
        goto out;
    }
    if (json_out ? cli_print_json(obj, true) == 0 : printf("%lld\n", (long long)cli_jint(obj, "version", 0)) >= 0)
        s.exit_code = CLI_EXIT_OK;
out:
    json_decref(set);
    json_decref(rm);
    json_decref(body);
    return cli_session_end(&s);
}
