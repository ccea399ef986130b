/*
 * test_import.c - `loci import`'s line parser: the API's rules applied to inventory lines.
 */
#include <stdio.h>
#include <string.h>

#include "cli/import.h"
#include "unit/test.h"

static int parse(const char *line, import_line_t *out, arena_t *a, err_t *e)
{
    obj_limits_t l;
    obj_limits_default(&l);
    err_clear(e);
    return import_parse_line(line, strlen(line), &l, 1000000, out, a, e);
}

TEST(cli_import_line_ok)
{
    arena_t a;
    err_t e;
    import_line_t o;
    arena_init(&a);
    CHECK_INT(parse("{\"key\":\"calls/1.opus\",\"store\":\"aws-eu\",\"name\":\"old/1.opus\",\"size\":48213,"
                    "\"sha256\":\""
                    "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789"
                    "\","
                    "\"content_type\":\"audio/opus\",\"tags\":{\"kind\":\"call\",\"customer\":\"acme\"},\"attrs\":{\"d\":[1,2]}}",
                    &o, &a, &e),
              0);
    CHECK_STR(o.key, "calls/1.opus");
    CHECK_STR(o.store, "aws-eu");
    CHECK_STR(o.name, "old/1.opus");
    CHECK_INT(o.size, 48213);
    CHECK_STR(o.content_type, "audio/opus");
    CHECK_STR(o.sha256, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    CHECK_INT(o.tags.n, 2);
    CHECK_STR(o.tags.items[0].k, "customer"); /* sorted */
    CHECK_STR(o.tags_json, "{\"customer\":\"acme\",\"kind\":\"call\"}");
    CHECK_STR(o.attrs_json, "{\"d\":[1,2]}");

    /* defaults: name is the key, a generic content type, no tags */
    CHECK_INT(parse("{\"key\":\"a b/é\",\"store\":\"s1\",\"size\":0}", &o, &a, &e), 0);
    CHECK_STR(o.name, "a b/é");
    CHECK_STR(o.content_type, "application/octet-stream");
    CHECK(o.sha256 == NULL && o.attrs_json == NULL);
    CHECK_STR(o.tags_json, "{}");
    CHECK_INT(o.tags.n, 0);
    arena_release(&a);
}

TEST(cli_import_line_refused)
{
    static const struct {
        const char *line, *why;
    } bad[] = {
        {"", "invalid JSON"},
        {"[1]", "must be a JSON object"},
        {"{\"key\":\"k\",\"store\":\"s\",\"size\":1,\"colour\":\"red\"}", "unknown field 'colour'"},
        {"{\"key\":\"k\",\"key\":\"j\",\"store\":\"s\",\"size\":1}", "invalid JSON"},
        {"{\"store\":\"s\",\"size\":1}", "'key' is required"},
        {"{\"key\":\"\",\"store\":\"s\",\"size\":1}", "key"},
        {"{\"key\":\"a\\u0001b\",\"store\":\"s\",\"size\":1}", "control"},
        {"{\"key\":\"a\\u0000b\",\"store\":\"s\",\"size\":1}", "NUL"},
        {"{\"key\":\"k\",\"size\":1}", "'store' is required"},
        {"{\"key\":\"k\",\"store\":\"Bad Store\",\"size\":1}", "invalid store id"},
        {"{\"key\":\"k\",\"store\":\"s\"}", "'size' is required"},
        {"{\"key\":\"k\",\"store\":\"s\",\"size\":\"1\"}", "'size' must be an integer"},
        {"{\"key\":\"k\",\"store\":\"s\",\"size\":-1}", "'size' must be 0 to 1000000"},
        {"{\"key\":\"k\",\"store\":\"s\",\"size\":1000001}", "'size' must be 0 to 1000000"},
        {"{\"key\":\"k\",\"store\":\"s\",\"size\":1,\"sha256\":\"abc\"}", "sha256"},
        {"{\"key\":\"k\",\"store\":\"s\",\"size\":1,\"content_type\":\"\"}", "content"},
        {"{\"key\":\"k\",\"store\":\"s\",\"size\":1,\"tags\":[]}", "'tags' must be an object"},
        {"{\"key\":\"k\",\"store\":\"s\",\"size\":1,\"tags\":{\"a\":1}}", "must be strings"},
        {"{\"key\":\"k\",\"store\":\"s\",\"size\":1,\"tags\":{\"\":\"v\"}}", "tag"},
        {"{\"key\":\"k\",\"store\":\"s\",\"size\":1,\"attrs\":[1]}", "'attrs' must be a JSON object"},
        {"{\"key\":\"k\",\"store\":\"s\",\"size\":1,\"name\":\"\"}", "invalid 'name'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        arena_t a;
        err_t e;
        import_line_t o;
        arena_init(&a);
        int rc = parse(bad[i].line, &o, &a, &e);
        if (rc != ERR_BAD_REQUEST || strstr(e.msg, bad[i].why) == NULL)
            test_fail(__FILE__, __LINE__, "line %zu '%s': rc %d, message '%s', expected '%s'", i, bad[i].line, rc, e.msg,
                      bad[i].why);
        arena_release(&a);
    }

    /* attrs over the limit */
    obj_limits_t l;
    obj_limits_default(&l);
    char line[8192];
    int n = snprintf(line, sizeof(line), "{\"key\":\"k\",\"store\":\"s\",\"size\":1,\"attrs\":{\"a\":\"");
    memset(line + n, 'x', l.attrs_max);
    snprintf(line + n + l.attrs_max, sizeof(line) - (size_t)n - l.attrs_max, "\"}}");
    arena_t a;
    err_t e;
    import_line_t o;
    arena_init(&a);
    CHECK_INT(import_parse_line(line, strlen(line), &l, 10, &o, &a, &e), ERR_BAD_REQUEST);
    CHECK(strstr(e.msg, "'attrs' is") != NULL);
    arena_release(&a);
}
