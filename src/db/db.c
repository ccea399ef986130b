/*
 * db.c - choosing a backend from the database URL.
 */
#include "db/db.h"

#include <string.h>

int db_sqlite_open(const char *path, db_t **out, err_t *e);
int db_sqlite_open_readonly(const char *path, db_t **out, err_t *e);

int db_open_readonly(const char *url, db_t **out, err_t *e)
{
    if (strncmp(url, "sqlite:", 7) == 0)
        return db_sqlite_open_readonly(url + 7, out, e);
    if (strstr(url, "://") != NULL)
        return err_set(e, ERR_BAD_REQUEST, "unsupported database URL '%s'", url);
    return db_sqlite_open_readonly(url, out, e);
}

typedef struct db_backend {
    const char *scheme; /* URL prefix */
    int (*open)(const char *rest, db_t **out, err_t *e);
} db_backend_t;

static const db_backend_t BACKENDS[] = {
    {"sqlite:", db_sqlite_open},
};

int db_open(const char *url, db_t **out, err_t *e)
{
    for (size_t i = 0; i < sizeof(BACKENDS) / sizeof(BACKENDS[0]); i++) {
        size_t n = strlen(BACKENDS[i].scheme);
        if (strncmp(url, BACKENDS[i].scheme, n) == 0)
            return BACKENDS[i].open(url + n, out, e);
    }
    if (strstr(url, "://") != NULL)
        return err_set(e, ERR_BAD_REQUEST, "unsupported database URL '%s'", url);
    return db_sqlite_open(url, out, e); /* a bare path */
}
