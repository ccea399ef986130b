/*
 * session.c - common setup and teardown of client subcommands.
 */
#include "cli/session.h"

#include <string.h>

#include "cli/commands.h"

bool cli_session_begin(cli_session_t *s, const cli_spec_t *spec, int argc, char **argv, int key_arg)
{
    memset(s, 0, sizeof(*s));
    s->spec = spec;
    s->exit_code = CLI_EXIT_FAIL;
    cli_args_init(&s->args);
    cli_response_init(&s->resp);
    buf_init(&s->path, 0);
    err_clear(&s->e);
    if (!cli_args_run(spec, argc, argv, &s->args, &s->exit_code))
        return false;
    if (key_arg >= 0 && (size_t)key_arg < s->args.npos && cli_check_key(s->args.pos[key_arg], &s->e) != 0)
        return cli_session_usage(s, s->e.msg);
    if (cli_client_init(&s->client, s->args.url, s->args.token, &s->e) != 0)
        return cli_session_usage(s, s->e.msg);
    return true;
}

bool cli_session_call(cli_session_t *s, const cli_request_t *req)
{
    if (cli_call(&s->client, req, &s->resp, &s->e) != 0) {
        cli_fail(&s->e);
        return false;
    }
    return true;
}

bool cli_session_usage(cli_session_t *s, const char *msg)
{
    s->exit_code = cli_usage_error(s->spec, "%s", msg);
    return false;
}

int cli_session_end(cli_session_t *s)
{
    buf_release(&s->path);
    cli_response_release(&s->resp);
    cli_client_release(&s->client);
    cli_args_release(&s->args);
    return s->exit_code;
}
