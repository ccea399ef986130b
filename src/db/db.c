/*
 * db.c - choosing a backend from the database URL, and what the backends share.
 */
#include "db/db.h"

#include <jansson.h>
#include <string.h>

#include "util/jsonw.h"

int db_sqlite_open(const char *path, db_t **out, err_t *e);
int db_sqlite_open_readonly(const char *path, db_t **out, err_t *e);
int db_pg_open(const char *url, const db_options_t *opts, bool readonly, db_t **out, err_t *e);

typedef struct db_backend {
    const char *scheme; /* URL prefix */
    bool strip;         /* the backend takes what follows the prefix (a path), not the whole URL */
    int (*open)(const char *url, const db_options_t *opts, bool readonly, db_t **out, err_t *e);
} db_backend_t;

static int sqlite_open(const char *path, const db_options_t *opts, bool readonly, db_t **out, err_t *e)
{
    (void)opts;
    return readonly ? db_sqlite_open_readonly(path, out, e) : db_sqlite_open(path, out, e);
}

static const db_backend_t BACKENDS[] = {
    {"sqlite:", true, sqlite_open},
    {"postgres://", false, db_pg_open},
    {"postgresql://", false, db_pg_open},
};

static int open_url(const char *url, const db_options_t *opts, bool readonly, db_t **out, err_t *e)
{
    for (size_t i = 0; i < sizeof(BACKENDS) / sizeof(BACKENDS[0]); i++) {
        size_t n = strlen(BACKENDS[i].scheme);
        if (strncmp(url, BACKENDS[i].scheme, n) == 0)
            return BACKENDS[i].open(BACKENDS[i].strip ? url + n : url, opts, readonly, out, e);
    }
    if (strstr(url, "://") != NULL)
        return err_set(e, ERR_BAD_REQUEST, "unsupported database URL '%.64s'", url);
    return sqlite_open(url, opts, readonly, out, e); /* a bare path */
}

int db_open_opts(const char *url, const db_options_t *opts, db_t **out, err_t *e)
{
    return open_url(url, opts, false, out, e);
}

int db_open(const char *url, db_t **out, err_t *e)
{
    return open_url(url, NULL, false, out, e);
}

int db_open_readonly(const char *url, db_t **out, err_t *e)
{
    return open_url(url, NULL, true, out, e);
}

void db_tenant_jurisdictions(const char *json, size_t len, tenant_t *t, arena_t *a)
{
    t->jurisdictions = NULL;
    t->njurisdictions = 0;
    json_t *arr = json ? json_loadb(json, len, 0, NULL) : NULL;
    if (json_is_array(arr)) {
        size_t n = json_array_size(arr);
        t->jurisdictions = arena_alloc(a, (n + 1) * sizeof(char *));
        for (size_t i = 0; i < n; i++) {
            const char *v = json_string_value(json_array_get(arr, i));
            if (v)
                t->jurisdictions[t->njurisdictions++] = arena_strdup(a, v);
        }
    }
    json_decref(arr);
}

void db_tenant_jurisdictions_json(const tenant_t *t, buf_t *out)
{
    jw_t jw;
    jw_init(&jw, out);
    jw_arr_open(&jw);
    for (size_t i = 0; i < t->njurisdictions; i++)
        jw_str(&jw, t->jurisdictions[i]);
    jw_arr_close(&jw);
    jw_finish(&jw);
}

void db_upload_begun(db_write_t *w, const object_t *o, int64_t cur)
{
    w->obj = *o;
    w->obj.version = cur + 1;
    w->obj.pending = true;
    w->obj.created_at = w->obj.updated_at = w->now;
}
