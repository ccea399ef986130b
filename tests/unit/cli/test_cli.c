/*
 * test_cli.c - the client's pure parts: argument parsing, K=V and integer parsing, paths and
 * queries, content types, error messages, header lines, tags and attrs, temp names, progress.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/input.h"
#include "cli/opts.h"
#include "cli/progress.h"
#include "cli/transfer.h"
#include "unit/test.h"
#include "util/buf.h"
#include "util/err.h"

/* Parses a NULL-terminated argument vector (argv[0] is the command's name). */
static int parse(const cli_spec_t *spec, cli_args_t *a, err_t *e, const char *const *argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    err_clear(e);
    return cli_args_parse(spec, argc, (char **)(uintptr_t)argv, a, e);
}

struct put_opts {
    cli_list_t tags;
    const char *attr, *output;
    cli_int_t copies;
    bool flag;
};

/* A spec shaped like put's: two positionals and one option of each kind. */
static void put_spec(struct put_opts *o, cli_opt_t opts[6], cli_spec_t *spec)
{
    memset(o, 0, sizeof(*o));
    opts[0] = (cli_opt_t){.name = "--tag", .kind = CLI_OPT_LIST, .metavar = "K=V", .help = "tag", .dest = &o->tags};
    opts[1] = (cli_opt_t){.name = "--attr", .kind = CLI_OPT_STR, .metavar = "JSON", .help = "attrs", .dest = &o->attr};
    opts[2] =
        (cli_opt_t){.name = "--copies", .kind = CLI_OPT_INT, .metavar = "N", .help = "n", .min = 1, .max = 8, .dest = &o->copies};
    opts[3] = (cli_opt_t){.name = "--if-none-match", .kind = CLI_OPT_FLAG, .help = "f", .dest = &o->flag};
    opts[4] =
        (cli_opt_t){.name = "--output", .short_name = 'o', .kind = CLI_OPT_STR, .metavar = "F", .help = "o", .dest = &o->output};
    opts[5] = (cli_opt_t){.name = NULL};
    *spec = (cli_spec_t){.usage = "loci put FILE KEY", .min_args = 2, .max_args = 2, .token_env = CLI_ENV_TOKEN, .opts = opts};
}

TEST(cli_opts_parse)
{
    struct put_opts o;
    cli_opt_t opts[6];
    cli_spec_t spec;
    cli_args_t a;
    err_t e;

    unsetenv(CLI_ENV_URL);
    unsetenv(CLI_ENV_TOKEN);
    put_spec(&o, opts, &spec);
    cli_args_init(&a);
    const char *v1[] = {"put", "--tag", "a=1", "f.txt", "--copies=3", "--tag=b=2", "--if-none-match", "k/ey", "-oout", NULL};
    CHECK_INT(parse(&spec, &a, &e, v1), 0);
    CHECK_INT(a.npos, 2);
    CHECK_STR(a.pos[0], "f.txt");
    CHECK_STR(a.pos[1], "k/ey");
    CHECK_INT(o.tags.n, 2);
    CHECK_STR(o.tags.v[0], "a=1");
    CHECK_STR(o.tags.v[1], "b=2");
    CHECK(o.copies.set);
    CHECK_INT(o.copies.v, 3);
    CHECK(o.flag);
    CHECK_STR(o.output, "out");
    CHECK(o.attr == NULL);
    CHECK_STR(a.url, CLI_DEFAULT_URL);
    CHECK(a.token == NULL);
    cli_args_release(&a);

    /* values that look like options, "--" and "-" as positionals, globals */
    put_spec(&o, opts, &spec);
    cli_args_init(&a);
    const char *v2[] = {"put", "--attr", "-1", "-o", "-", "--url", "http://h:1", "--token=t0k", "--", "--x", "-", NULL};
    CHECK_INT(parse(&spec, &a, &e, v2), 0);
    CHECK_STR(o.attr, "-1");
    CHECK_STR(o.output, "-");
    CHECK_STR(a.url, "http://h:1");
    CHECK_STR(a.token, "t0k");
    CHECK_INT(a.npos, 2);
    CHECK_STR(a.pos[0], "--x");
    CHECK_STR(a.pos[1], "-");
    cli_args_release(&a);

    /* environment */
    setenv(CLI_ENV_URL, "http://env:2", 1);
    setenv(CLI_ENV_TOKEN, "envtok", 1);
    put_spec(&o, opts, &spec);
    cli_args_init(&a);
    const char *v3[] = {"put", "f", "k", NULL};
    CHECK_INT(parse(&spec, &a, &e, v3), 0);
    CHECK_STR(a.url, "http://env:2");
    CHECK_STR(a.token, "envtok");
    cli_args_release(&a);
    spec.token_env = CLI_ENV_ADMIN_TOKEN; /* admin commands do not take the tenant token */
    cli_args_init(&a);
    CHECK_INT(parse(&spec, &a, &e, v3), 0);
    CHECK(a.token == NULL);
    cli_args_release(&a);
    unsetenv(CLI_ENV_URL);
    unsetenv(CLI_ENV_TOKEN);
}

TEST(cli_opts_errors)
{
    struct put_opts o;
    cli_opt_t opts[6];
    cli_spec_t spec;
    cli_args_t a;
    err_t e;
    static const struct {
        const char *argv[6];
        int rc;
        const char *msg;
    } cases[] = {
        {{"put", "f", NULL}, ERR_BAD_REQUEST, "missing arguments"},
        {{"put", "f", "k", "x", NULL}, ERR_BAD_REQUEST, "unexpected argument 'x'"},
        {{"put", "f", "k", "--bogus", NULL}, ERR_BAD_REQUEST, "unknown option '--bogus'"},
        {{"put", "f", "k", "-z", NULL}, ERR_BAD_REQUEST, "unknown option '-z'"},
        {{"put", "f", "k", "--copies", NULL}, ERR_BAD_REQUEST, "option '--copies' needs a value"},
        {{"put", "f", "k", "--copies", "9", NULL}, ERR_BAD_REQUEST, "invalid --copies '9': expected an integer from 1 to 8"},
        {{"put", "f", "k", "--copies=2x", NULL}, ERR_BAD_REQUEST, "invalid --copies '2x': expected an integer from 1 to 8"},
        {{"put", "f", "k", "--if-none-match=1", NULL}, ERR_BAD_REQUEST, "option '--if-none-match' takes no value"},
        {{"put", "--tag", NULL}, ERR_BAD_REQUEST, "option '--tag' needs a value"},
        {{"put", "--tagx", "f", "k", NULL}, ERR_BAD_REQUEST, "unknown option '--tagx'"},
        {{"put", "--help", NULL}, CLI_PARSE_HELP, ""},
        {{"put", "f", "-h", "--bogus", NULL}, CLI_PARSE_HELP, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        put_spec(&o, opts, &spec);
        cli_args_init(&a);
        CHECK_INT(parse(&spec, &a, &e, cases[i].argv), cases[i].rc);
        if (cases[i].rc == ERR_BAD_REQUEST)
            CHECK_STR(e.msg, cases[i].msg);
        cli_args_release(&a);
    }

    /* no arity limit */
    cli_spec_t any = {.usage = "loci tag KEY [K=V]...", .min_args = 1, .max_args = -1};
    cli_args_init(&a);
    const char *v[] = {"tag", "k", "a=1", "b=2", "c=3", NULL};
    CHECK_INT(parse(&any, &a, &e, v), 0);
    CHECK_INT(a.npos, 4);
    cli_args_release(&a);
}

TEST(cli_parse_numbers_and_kv)
{
    int64_t v = 0;
    CHECK_INT(cli_parse_i64("42", 0, 100, &v), 0);
    CHECK_INT(v, 42);
    CHECK_INT(cli_parse_i64("-5", -10, 10, &v), 0);
    CHECK_INT(v, -5);
    CHECK_INT(cli_parse_i64("9223372036854775807", 0, INT64_MAX, &v), 0);
    CHECK(v == INT64_MAX);
    CHECK_INT(cli_parse_i64("9223372036854775808", 0, INT64_MAX, &v), -1);
    CHECK_INT(cli_parse_i64("", 0, 10, &v), -1);
    CHECK_INT(cli_parse_i64(" 1", 0, 10, &v), -1);
    CHECK_INT(cli_parse_i64("+1", 0, 10, &v), -1);
    CHECK_INT(cli_parse_i64("1 ", 0, 10, &v), -1);
    CHECK_INT(cli_parse_i64("0x10", 0, 100, &v), -1);
    CHECK_INT(cli_parse_i64("11", 0, 10, &v), -1);
    CHECK_INT(cli_parse_i64("0", 1, 10, &v), -1);

    const char *k, *val;
    size_t klen;
    CHECK_INT(cli_parse_kv("kind=voice=mail", &k, &klen, &val), 0);
    CHECK_INT(klen, 4);
    CHECK(strncmp(k, "kind", klen) == 0);
    CHECK_STR(val, "voice=mail");
    CHECK_INT(cli_parse_kv("k=", &k, &klen, &val), 0);
    CHECK_STR(val, "");
    CHECK_INT(cli_parse_kv("=v", &k, &klen, &val), -1);
    CHECK_INT(cli_parse_kv("novalue", &k, &klen, &val), -1);
}

TEST(cli_paths)
{
    buf_t b = BUF_INIT;
    cli_path_object(&b, "calls/2026/rec 1+x.opus");
    CHECK_STR(b.base, "/v1/objects/calls/2026/rec%201%2Bx.opus");
    buf_reset(&b);
    cli_path_object(&b, "a?b#c%d");
    CHECK_STR(b.base, "/v1/objects/a%3Fb%23c%25d");
    buf_reset(&b);
    /* dot segments and empty segments are kept as they are (PATH_AS_IS sends them) */
    cli_path_object(&b, "/../x/./y//z");
    CHECK_STR(b.base, "/v1/objects//../x/./y//z");
    buf_reset(&b);
    cli_path_object(&b, "caf\xc3\xa9~_-.");
    CHECK_STR(b.base, "/v1/objects/caf%C3%A9~_-.");
    buf_reset(&b);

    buf_puts(&b, "/v1/admin/tenants");
    cli_path_segment(&b, "a/b c");
    buf_puts(&b, "/keys");
    cli_path_segment(&b, "k1");
    CHECK_STR(b.base, "/v1/admin/tenants/a%2Fb%20c/keys/k1");
    buf_reset(&b);

    buf_puts(&b, "/v1/objects");
    cli_query_add(&b, "prefix", "a b+c/");
    cli_query_add(&b, "tag.k y", "v&w=x");
    cli_query_add(&b, "limit", "1000");
    CHECK_STR(b.base, "/v1/objects?prefix=a%20b%2Bc%2F&tag.k%20y=v%26w%3Dx&limit=1000");
    buf_release(&b);

    err_t e;
    CHECK_INT(cli_check_key("a/b.txt", &e), 0);
    CHECK_INT(cli_check_key("", &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "empty object key");
    CHECK_INT(cli_check_key("a\nb", &e), ERR_BAD_REQUEST);
    CHECK_INT(cli_check_key("a\x7f", &e), ERR_BAD_REQUEST);
}

TEST(cli_content_type)
{
    CHECK_STR(cli_guess_content_type("rec-1.opus"), "audio/opus");
    CHECK_STR(cli_guess_content_type("/tmp/x/Photo.JPG"), "image/jpeg");
    CHECK_STR(cli_guess_content_type("a.tar.gz"), "application/gzip");
    CHECK_STR(cli_guess_content_type("notes.txt"), "text/plain");
    CHECK_STR(cli_guess_content_type("data.json"), "application/json");
    CHECK(cli_guess_content_type("README") == NULL);
    CHECK(cli_guess_content_type(".bashrc") == NULL);
    CHECK(cli_guess_content_type("dir.txt/file") == NULL);
    CHECK(cli_guess_content_type("x.") == NULL);
    CHECK(cli_guess_content_type("x.unknownext") == NULL);
}

TEST(cli_error_format)
{
    err_t e;
    const char *body = "{\"error\":{\"code\":\"not_found\",\"message\":\"object 'a/b.txt' not found\",\"request_id\":\"8f3c\"}}";
    CHECK_INT(cli_error_from_response(404, body, strlen(body), &e), ERR_NOT_FOUND);
    CHECK_STR(e.msg, "object 'a/b.txt' not found (not_found)");

    body = "{\"error\":{\"code\":\"residency_violation\",\"message\":\"store 'x' (US) is outside [EU]\"}}";
    CHECK_INT(cli_error_from_response(403, body, strlen(body), &e), ERR_RESIDENCY_VIOLATION);
    CHECK_STR(e.msg, "store 'x' (US) is outside [EU] (residency_violation)");

    body = "{\"error\":{\"code\":\"precondition_failed\"}}";
    CHECK_INT(cli_error_from_response(412, body, strlen(body), &e), ERR_PRECONDITION_FAILED);
    CHECK_STR(e.msg, "precondition failed (precondition_failed)");

    /* a code this client does not know keeps its name; the number follows the status */
    body = "{\"error\":{\"code\":\"too_many_requests\",\"message\":\"slow down\"}}";
    CHECK_INT(cli_error_from_response(429, body, strlen(body), &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "slow down (too_many_requests)");

    body = "<html>bad gateway</html>";
    CHECK_INT(cli_error_from_response(502, body, strlen(body), &e), ERR_INTERNAL);
    CHECK_STR(e.msg, "unexpected answer from server (http 502)");
    CHECK_INT(cli_error_from_response(503, NULL, 0, &e), ERR_UNAVAILABLE);
    CHECK_STR(e.msg, "unexpected answer from server (http 503)");

    CHECK_INT(cli_err_from_api_code("wrong_cell"), ERR_WRONG_CELL);
    CHECK_INT(cli_err_from_api_code("nope"), ERR_INTERNAL);

    char out[256];
    body = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The signature is wrong</Message></Error>";
    cli_store_error(403, body, strlen(body), out, sizeof(out));
    CHECK_STR(out, "http 403 (SignatureDoesNotMatch: The signature is wrong)");
    body = "<Error><Code>AccessDenied</Code></Error>";
    cli_store_error(403, body, strlen(body), out, sizeof(out));
    CHECK_STR(out, "http 403 (AccessDenied)");
    body = "{\"error\":{\"code\":\"forbidden\",\"message\":\"signature expired\"}}";
    cli_store_error(403, body, strlen(body), out, sizeof(out));
    CHECK_STR(out, "http 403 (signature expired (forbidden))");
    cli_store_error(500, "oops", 4, out, sizeof(out));
    CHECK_STR(out, "http 500");
}

TEST(cli_header_lines)
{
    buf_t b = BUF_INIT;
    err_t e;
    CHECK_INT(cli_header_line(&b, "content-type", "audio/opus", &e), 0);
    CHECK_STR(b.base, "content-type: audio/opus");
    buf_reset(&b);
    CHECK_INT(cli_header_line(&b, "x-amz-meta-empty", "", &e), 0);
    CHECK_STR(b.base, "x-amz-meta-empty;");
    buf_reset(&b);
    CHECK_INT(cli_header_line(&b, "x-evil", "a\r\nHost: other", &e), ERR_BAD_REQUEST);
    CHECK_INT(cli_header_line(&b, "bad name", "v", &e), ERR_BAD_REQUEST);
    CHECK_INT(cli_header_line(&b, "bad:name", "v", &e), ERR_BAD_REQUEST);
    CHECK_INT(cli_header_line(&b, "", "v", &e), ERR_BAD_REQUEST);
    buf_release(&b);
}

TEST(cli_tags_attrs)
{
    const char *kv[] = {"customer=acme", "kind=voice=mail", "empty="};
    cli_list_t l = {kv, 3};
    json_t *o = NULL;
    err_t e;
    CHECK_INT(cli_tags_object(&l, &o, &e), 0);
    CHECK_STR(cli_jstr(o, "customer"), "acme");
    CHECK_STR(cli_jstr(o, "kind"), "voice=mail");
    CHECK_STR(cli_jstr(o, "empty"), "");
    CHECK_INT(json_object_size(o), 3);
    json_decref(o);

    cli_list_t none = {NULL, 0};
    CHECK_INT(cli_tags_object(&none, &o, &e), 0);
    CHECK(o == NULL);

    const char *dup[] = {"a=1", "a=2"};
    l = (cli_list_t){dup, 2};
    CHECK_INT(cli_tags_object(&l, &o, &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "tag 'a' given twice");
    CHECK(o == NULL);
    const char *bad[] = {"noequals"};
    l = (cli_list_t){bad, 1};
    CHECK_INT(cli_tags_object(&l, &o, &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "invalid tag 'noequals': expected KEY=VALUE");
    const char *utf[] = {"k=\xff"};
    l = (cli_list_t){utf, 1};
    CHECK_INT(cli_tags_object(&l, &o, &e), ERR_BAD_REQUEST);

    CHECK_INT(cli_attrs_parse("{\"duration_ms\":31200}", &o, &e), 0);
    CHECK_INT(cli_jint(o, "duration_ms", 0), 31200);
    json_decref(o);
    CHECK_INT(cli_attrs_parse("[1]", &o, &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "--attr must be a json object");
    CHECK_INT(cli_attrs_parse("{\"a\":", &o, &e), ERR_BAD_REQUEST);
    CHECK_INT(cli_attrs_parse("{\"a\":1,\"a\":2}", &o, &e), ERR_BAD_REQUEST);

    const char *js[] = {"EU", "CH"};
    l = (cli_list_t){js, 2};
    CHECK_INT(cli_strings_array(&l, "jurisdiction", &o, &e), 0);
    CHECK_INT(json_array_size(o), 2);
    CHECK_STR(json_string_value(json_array_get(o, 1)), "CH");
    json_decref(o);
    const char *empty[] = {""};
    l = (cli_list_t){empty, 1};
    CHECK_INT(cli_strings_array(&l, "scope", &o, &e), ERR_BAD_REQUEST);
    CHECK_STR(e.msg, "invalid scope ''");

    o = json_object();
    CHECK_INT(cli_set_str(o, "region", "eu-west-1", &e), 0);
    CHECK_INT(cli_set_str(o, "bucket", "\xc3", &e), ERR_BAD_REQUEST);
    CHECK_STR(cli_jstr(o, "region"), "eu-west-1");
    CHECK(json_object_get(o, "bucket") == NULL);
    json_decref(o);
}

TEST(cli_temp_names)
{
    buf_t b = BUF_INIT;
    CHECK_INT(cli_temp_template(&b, "out.bin"), 0);
    CHECK_STR(b.base, ".out.bin.loci-XXXXXX");
    buf_reset(&b);
    CHECK_INT(cli_temp_template(&b, "/data/dl/out.bin"), 0);
    CHECK_STR(b.base, "/data/dl/.out.bin.loci-XXXXXX");
    buf_reset(&b);
    CHECK_INT(cli_temp_template(&b, "/data/dl/"), ERR_BAD_REQUEST);
    CHECK_INT(cli_temp_template(&b, ""), ERR_BAD_REQUEST);
    buf_release(&b);
}

TEST(cli_progress_text)
{
    char out[128];
    CHECK_STR(cli_format_bytes(0, out, sizeof(out)), "0 B");
    CHECK_STR(cli_format_bytes(1023, out, sizeof(out)), "1023 B");
    CHECK_STR(cli_format_bytes(1536, out, sizeof(out)), "1.5 KiB");
    CHECK_STR(cli_format_bytes(10 * 1024 * 1024, out, sizeof(out)), "10.0 MiB");
    CHECK_STR(cli_progress_format(512, 1024, 2.0, out, sizeof(out)), "512 B / 1.0 KiB   50%  256 B/s");
    CHECK_STR(cli_progress_format(0, 0, 0.0, out, sizeof(out)), "0 B / 0 B  100%  0 B/s");
    CHECK_STR(cli_progress_format(3 * 1024 * 1024, -1, 1.0, out, sizeof(out)), "3.0 MiB  3.0 MiB/s");
}

TEST(cli_client_setup)
{
    cli_client_t c;
    err_t e;
    CHECK_INT(cli_client_init(&c, "http://127.0.0.1:7700/", "lk_eu1_k_s", &e), 0);
    CHECK_STR(c.base, "http://127.0.0.1:7700");
    CHECK_STR(c.auth, "Authorization: Bearer lk_eu1_k_s");
    CHECK(!c.https);
    cli_client_release(&c);
    CHECK_INT(cli_client_init(&c, "HTTPS://loci.example/prefix//", NULL, &e), 0);
    CHECK_STR(c.base, "HTTPS://loci.example/prefix");
    CHECK(c.auth == NULL);
    CHECK(c.https);
    cli_client_release(&c);
    CHECK_INT(cli_client_init(&c, "ftp://x", NULL, &e), ERR_BAD_REQUEST);
    cli_client_release(&c);
    CHECK_INT(cli_client_init(&c, "http://", NULL, &e), ERR_BAD_REQUEST);
    cli_client_release(&c);
    CHECK_INT(cli_client_init(&c, "http://h/?q", NULL, &e), ERR_BAD_REQUEST);
    cli_client_release(&c);
    CHECK_INT(cli_client_init(&c, "http://h", "bad token", &e), ERR_BAD_REQUEST);
    cli_client_release(&c);
}
