/*
 * config.c - fuzzes the configuration readers (src/server/config.c): the YAML file
 * (config_load_buffer, the same reader config_load_file uses), settings given by name as the
 * environment and flags give them (config_set, including "NAME=CC,CC;..." jurisdiction groups),
 * then config_finish.
 *
 * Input: a mode byte; even: the rest is a YAML file; odd: the rest is lines "name=value", each
 * applied with config_set. Properties: a refusal carries a message; an accepted configuration
 * that config_finish accepts has a valid cell and local country, expiry defaults within their
 * maximum, limits within the bounds the settings table gives, and no trailing '/' on public_url.
 */
#include "core/ids.h"
#include "fuzz.h"
#include "server/config.h"

static void check_finished(const config_t *c)
{
    FZ_CHECK(id_cell_valid(c->cell, strlen(c->cell)), "cell '%s'", c->cell);
    FZ_CHECK(juris_is_country(c->local_country), "local_country '%s'", c->local_country);
    FZ_CHECK(c->limits.expires_default <= c->limits.expires_max && c->limits.expires_default >= 1, "expiry %lld > %lld",
             (long long)c->limits.expires_default, (long long)c->limits.expires_max);
    FZ_CHECK(c->limits.body_max >= 1024 && c->limits.body_max <= 16 << 20, "body_max %zu", c->limits.body_max);
    FZ_CHECK(c->limits.key_max >= 1 && c->limits.key_max <= 4096, "key_max %zu", c->limits.key_max);
    FZ_CHECK(c->threads >= 1 && c->threads <= 256, "threads %d", c->threads);
    FZ_CHECK(c->header_max >= 1024 && c->request_timeout_ms >= 100, "header_max %d", c->header_max);
    size_t pl = strlen(c->public_url);
    FZ_CHECK(pl == 0 || c->public_url[pl - 1] != '/', "public_url '%s'", c->public_url);
    FZ_CHECK(strchr(c->listen, ':') != NULL, "listen '%s'", c->listen);
    FZ_CHECK(c->groups.n >= 2 && c->groups.n <= JURIS_MAX_GROUPS, "%zu groups", c->groups.n);
    for (size_t i = 0; i < c->groups.n; i++)
        FZ_CHECK(!cset_is_empty(&c->groups.g[i].members), "group '%s' is empty", c->groups.g[i].name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f = fz_init(data, size);
    uint8_t mode = fz_byte(&f);
    slice_t rest = fz_rest(&f);
    config_t c;
    err_t e;
    int rc = 0;
    config_init(&c);
    if ((mode & 1) == 0) {
        rc = config_load_buffer(&c, "fuzz.yaml", rest.base, rest.len, &e);
    } else {
        char *text = fz_cstr(rest), *line = text;
        while (rc == 0 && line && *line) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            char *eq = strchr(line, '=');
            if (eq) {
                *eq = '\0';
                rc = config_set(&c, line, eq + 1, &e);
            }
            line = nl ? nl + 1 : NULL;
        }
        free(text);
    }
    if (rc != 0) {
        FZ_CHECK(rc == ERR_BAD_REQUEST && e.msg[0], "rc %d without a message", rc);
    } else if (config_finish(&c, &e) == 0) {
        check_finished(&c);
    }
    config_release(&c);
    return 0;
}
