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
    cli_args_t args;
    cli_client_t client = {0};
    cli_response_t resp;
    err_t e;
    buf_t path = BUF_INIT;
    json_t *set = NULL, *rm = NULL, *body = NULL;
    char match[24];
    int exit_code = CLI_EXIT_FAIL;

    cli_args_init(&args);
    cli_response_init(&resp);
    err_clear(&e);
    if (!cli_args_run(&spec, argc, argv, &args, &exit_code))
        goto out;
    const char *key = args.pos[0];
    cli_list_t sets = {args.pos + 1, args.npos - 1};
    if (cli_check_key(key, &e) != 0 || cli_tags_object(&sets, &set, &e) != 0 ||
        cli_strings_array(&removes, "tag name for --remove", &rm, &e) != 0) {
        exit_code = cli_usage_error(&spec, "%s", e.msg);
        goto out;
    }
    if (set == NULL && removes.n == 0) {
        exit_code = cli_usage_error(&spec, "nothing to change: give K=V or --remove K");
        goto out;
    }
    for (size_t i = 0; i < removes.n; i++) {
        if (json_object_get(set, removes.v[i]) != NULL) {
            exit_code = cli_usage_error(&spec, "tag '%s' is both set and removed", removes.v[i]);
            goto out;
        }
    }
    if (cli_client_init(&client, args.url, args.token, &e) != 0) {
        exit_code = cli_usage_error(&spec, "%s", e.msg);
        goto out;
    }

    json_t *tags = json_object();
    if (set)
        json_object_set(tags, "set", set);
    if (removes.n > 0)
        json_object_set(tags, "remove", rm);
    body = json_object();
    json_object_set_new(body, "tags", tags);

    cli_path_object(&path, key);
    if (if_match.set)
        snprintf(match, sizeof(match), "%lld", (long long)if_match.v);
    cli_request_t req = {.method = "PATCH", .path = path.base, .body = body, .if_match = if_match.set ? match : NULL};
    if (cli_call(&client, &req, &resp, &e) != 0) {
        cli_fail(&e);
        goto out;
    }
    json_t *obj = json_object_get(resp.json, "object");
    if (!json_is_object(obj)) {
        fputs("loci: malformed answer from server: no object\n", stderr);
        goto out;
    }
    if (json_out ? cli_print_json(obj, true) != 0 : printf("%lld\n", (long long)cli_jint(obj, "version", 0)) < 0)
        goto out;
    exit_code = CLI_EXIT_OK;
out:
    json_decref(set);
    json_decref(rm);
    json_decref(body);
    buf_release(&path);
    cli_response_release(&resp);
    cli_client_release(&client);
    cli_args_release(&args);
    return exit_code;
}
