/*
 * config.c - the settings table, the YAML reader (libyaml) and environment overrides.
 */
#include "server/config.h"

#include "core/ids.h"
#include "util/buf.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

typedef enum setting_type {
    T_STR,
    T_INT,  /* int, with bounds */
    T_I64,  /* int64_t, with bounds */
    T_SIZE, /* size_t, with bounds */
    T_BOOL,
    T_GROUPS, /* jurisdiction groups */
} setting_type_t;

typedef struct setting {
    const char *name; /* YAML path */
    const char *env;  /* environment variable */
    setting_type_t type;
    size_t offset;
    int64_t min, max;
    const char *help;
} setting_t;

#define OFF(f) offsetof(config_t, f)

static const setting_t SETTINGS[] = {
    {"data_dir", "LOCI_DATA_DIR", T_STR, OFF(data_dir), 0, 0, "data directory (database, local stores, keys)"},
    {"listen", "LOCI_LISTEN", T_STR, OFF(listen), 0, 0, "address:port to listen on"},
    {"threads", "LOCI_THREADS", T_INT, OFF(threads), 0, 256, "event-loop threads (0 = one per core)"},
    {"loop_spin_us", "LOCI_LOOP_SPIN_US", T_INT, OFF(loop_spin_us), 0, 10000,
     "after a busy turn, a loop polls up to this long for more before it sleeps (0 = never)"},
    {"public_url", "LOCI_PUBLIC_URL", T_STR, OFF(public_url), 0, 0, "URL clients use to reach loci (default http://<listen>)"},
    {"cell", "LOCI_CELL", T_STR, OFF(cell), 0, 0, "cell name carried in ids and tokens"},
    {"database", "LOCI_DATABASE", T_STR, OFF(database), 0, 0,
     "database URL: sqlite:PATH or postgres://... (default: SQLite in <data_dir>/loci.db)"},
    {"database_replicas", "LOCI_DATABASE_REPLICAS", T_STR, OFF(database_replicas), 0, 0,
     "PostgreSQL read replicas for list and search (YAML list; env: comma-separated URLs)"},
    {"database_replica_max_lag_ms", "LOCI_DATABASE_REPLICA_MAX_LAG_MS", T_INT, OFF(database_replica_max_lag_ms), 1, 3600000,
     "a replica further behind the primary than this is not used"},
    {"database_timeout_ms", "LOCI_DATABASE_TIMEOUT_MS", T_INT, OFF(database_timeout_ms), 100, 600000,
     "bound on connecting to the database server and on each round trip (then 503)"},
    {"database_readers", "LOCI_DATABASE_READERS", T_INT, OFF(database_readers), 0, 256,
     "threads that read a database server (0 = eight per event loop, at least 8)"},
    {"stores_refresh_ms", "LOCI_STORES_REFRESH_MS", T_INT, OFF(stores_refresh_ms), 0, 86400000,
     "how often store changes made through another server are picked up (0 = never)"},
    {"local_country", "LOCI_LOCAL_COUNTRY", T_STR, OFF(local_country), 0, 0, "country of the default local store"},
    {"local_region", "LOCI_LOCAL_REGION", T_STR, OFF(local_region), 0, 0, "region name of the default local store"},
    {"local_max_object_size", "LOCI_LOCAL_MAX_OBJECT_SIZE", T_I64, OFF(local_max_object_size), 1, INT64_C(1) << 40,
     "largest object a local store accepts, bytes"},
    {"max_object_size", "LOCI_MAX_OBJECT_SIZE", T_I64, OFF(max_object_size), 1, INT64_C(5) << 40, "largest object size, bytes"},
    {"log_requests", "LOCI_LOG_REQUESTS", T_BOOL, OFF(log_requests), 0, 1, "log one JSON line per request"},
    {"request_timeout_ms", "LOCI_REQUEST_TIMEOUT_MS", T_INT, OFF(request_timeout_ms), 100, 3600000,
     "time to receive a request; keep-alive idle time"},
    {"shutdown_timeout_ms", "LOCI_SHUTDOWN_TIMEOUT_MS", T_INT, OFF(shutdown_timeout_ms), 0, 3600000,
     "graceful shutdown waits this long for in-flight requests"},
    {"header_max", "LOCI_HEADER_MAX", T_INT, OFF(header_max), 1024, 400000, "request line and headers, bytes"},
    {"io_threads", "LOCI_IO_THREADS", T_INT, OFF(io_threads), 1, 256, "threads for blocking I/O"},
    {"write_batch_max", "LOCI_WRITE_BATCH_MAX", T_INT, OFF(write_batch_max), 1, 100000, "most writes per transaction"},
    {"upload_grace_s", "LOCI_UPLOAD_GRACE_S", T_INT, OFF(upload_grace_s), 0, 30 * 86400,
     "an unfinished upload is aborted this long after its URLs expire"},
    {"expire_interval_ms", "LOCI_EXPIRE_INTERVAL_MS", T_INT, OFF(expire_interval_ms), 100, 86400000,
     "how often abandoned uploads are looked for"},
    {"audit.checkpoint_every", "LOCI_AUDIT_CHECKPOINT_EVERY", T_INT, OFF(audit_checkpoint_every), 1, 100000000,
     "sign a checkpoint after this many new audit entries"},
    {"audit.checkpoint_interval_ms", "LOCI_AUDIT_CHECKPOINT_INTERVAL_MS", T_INT, OFF(audit_checkpoint_interval_ms), 100, 86400000,
     "or this long after the last checkpoint"},
    {"audit.read_flush_ms", "LOCI_AUDIT_READ_FLUSH_MS", T_INT, OFF(audit_read_flush_ms), 1, 60000,
     "longest a read-audit entry waits in memory"},
    {"audit.read_queue_max", "LOCI_AUDIT_READ_QUEUE_MAX", T_INT, OFF(audit_read_queue_max), 16, 10000000,
     "read-audit entries held before audited reads get 503"},
    {"limits.body_max", "LOCI_LIMITS_BODY_MAX", T_SIZE, OFF(limits.body_max), 1024, 16 << 20, "request body, bytes"},
    {"limits.key_max", "LOCI_LIMITS_KEY_MAX", T_SIZE, OFF(limits.key_max), 1, 4096, "object key, bytes"},
    {"limits.tags_max", "LOCI_LIMITS_TAGS_MAX", T_SIZE, OFF(limits.tags_max), 0, 1000, "tags per object"},
    {"limits.tag_key_max", "LOCI_LIMITS_TAG_KEY_MAX", T_SIZE, OFF(limits.tag_key_max), 1, 4096, "tag key, bytes"},
    {"limits.tag_value_max", "LOCI_LIMITS_TAG_VALUE_MAX", T_SIZE, OFF(limits.tag_value_max), 0, 65536, "tag value, bytes"},
    {"limits.attrs_max", "LOCI_LIMITS_ATTRS_MAX", T_SIZE, OFF(limits.attrs_max), 2, 1 << 20, "attrs JSON, bytes"},
    {"limits.url_expires_default", "LOCI_LIMITS_URL_EXPIRES_DEFAULT", T_I64, OFF(limits.expires_default), 1, 604800,
     "default URL lifetime for new tenants, seconds"},
    {"limits.url_expires_max", "LOCI_LIMITS_URL_EXPIRES_MAX", T_I64, OFF(limits.expires_max), 1, 604800,
     "maximum URL lifetime for new tenants, seconds"},
    {"jurisdiction_groups", "LOCI_JURISDICTION_GROUPS", T_GROUPS, OFF(groups), 0, 0,
     "named groups of countries (env: NAME=CC,CC;NAME2=...)"},
};

#define NSETTINGS (sizeof(SETTINGS) / sizeof(SETTINGS[0]))

static char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (p == NULL)
        abort();
    return p;
}

void config_init(config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->data_dir = xstrdup("./var");
    c->listen = xstrdup("127.0.0.1:7700");
    c->threads = 0;
    c->public_url = xstrdup("");
    c->cell = xstrdup("eu1");
    c->database = xstrdup("");
    c->database_replicas = xstrdup("");
    c->database_replica_max_lag_ms = 1000;
    c->database_timeout_ms = 5000;
    c->database_readers = 0;
    c->stores_refresh_ms = 5000;
    c->local_country = xstrdup("DE");
    c->local_region = xstrdup("local");
    c->local_max_object_size = INT64_C(1) << 30;
    c->max_object_size = INT64_C(5) << 40; /* S3's and GCS's largest object, in parts */
    c->log_requests = true;
    c->request_timeout_ms = 30000;
    c->shutdown_timeout_ms = 30000;
    c->header_max = 16384;
    c->io_threads = 4;
    c->loop_spin_us = 50;
    c->write_batch_max = 512;
    c->upload_grace_s = 3600;
    c->expire_interval_ms = 60000;
    c->audit_checkpoint_every = 1000;
    c->audit_checkpoint_interval_ms = 60000;
    c->audit_read_flush_ms = 200;
    c->audit_read_queue_max = 100000;
    obj_limits_default(&c->limits);
    juris_groups_init(&c->groups);
}

void config_release(config_t *c)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (SETTINGS[i].type == T_STR) {
            char **p = (char **)((char *)c + SETTINGS[i].offset);
            free(*p);
            *p = NULL;
        }
}

static const setting_t *find(const char *name)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strcmp(SETTINGS[i].name, name) == 0)
            return &SETTINGS[i];
    return NULL;
}

static int parse_int(const char *v, int64_t *out)
{
    if (v == NULL || *v == '\0')
        return -1;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || end == v)
        return -1;
    /* size suffixes for convenience: 64K, 1M, 5G */
    long long unit = 1;
    if (*end == 'K' || *end == 'k')
        unit = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        unit = 1024 * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        unit = 1024LL * 1024 * 1024, end++;
    if (*end != '\0' || n > LLONG_MAX / unit || n < LLONG_MIN / unit)
        return -1;
    n *= unit;
    *out = n;
    return 0;
}

/* Splits s at sep into at most max pieces (in place); returns the count. */
static size_t split(char *s, char sep, char **out, size_t max)
{
    size_t n = 0;
    while (s && n < max) {
        char *end = strchr(s, sep);
        if (end)
            *end = '\0';
        if (*s)
            out[n++] = s;
        s = end ? end + 1 : NULL;
    }
    return n;
}

/* "NAME=CC,CC;NAME2=CC" */
static int set_groups_env(config_t *c, const char *v, err_t *e)
{
    char *copy = xstrdup(v), *groups[JURIS_MAX_GROUPS];
    int rc = 0;
    size_t ng = split(copy, ';', groups, JURIS_MAX_GROUPS);
    for (size_t i = 0; i < ng && rc == 0; i++) {
        char *eq = strchr(groups[i], '=');
        if (eq == NULL) {
            rc = err_set(e, ERR_BAD_REQUEST, "jurisdiction group '%s' needs NAME=CC,CC", groups[i]);
            break;
        }
        *eq = '\0';
        char *members[256];
        size_t n = split(eq + 1, ',', members, 256);
        rc = juris_groups_add(&c->groups, groups[i], (const char *const *)members, n, e);
    }
    free(copy);
    return rc;
}

int config_set(config_t *c, const char *name, const char *value, err_t *e)
{
    const setting_t *s = find(name);
    if (s == NULL)
        return err_set(e, ERR_BAD_REQUEST, "unknown setting '%s'", name);
    void *p = (char *)c + s->offset;
    int64_t n;
    switch (s->type) {
    case T_STR:
        free(*(char **)p);
        *(char **)p = xstrdup(value);
        return 0;
    case T_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "on") == 0)
            *(bool *)p = true;
        else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0 || strcmp(value, "no") == 0 || strcmp(value, "off") == 0)
            *(bool *)p = false;
        else
            return err_set(e, ERR_BAD_REQUEST, "setting '%s' must be true or false, not '%s'", name, value);
        return 0;
    case T_INT:
    case T_I64:
    case T_SIZE:
        if (parse_int(value, &n) != 0 || n < s->min || n > s->max)
            return err_set(e, ERR_BAD_REQUEST, "setting '%s' must be a number from %lld to %lld, not '%s'", name, (long long)s->min,
                           (long long)s->max, value);
        if (s->type == T_INT)
            *(int *)p = (int)n;
        else if (s->type == T_I64)
            *(int64_t *)p = n;
        else
            *(size_t *)p = (size_t)n;
        return 0;
    case T_GROUPS:
        return set_groups_env(c, value, e);
    }
    return 0;
}

/*
 * YAML: a mapping whose scalar values are settings; `limits` is a nested mapping;
 * `jurisdiction_groups` maps names to sequences of codes.
 */
typedef struct yreader {
    yaml_parser_t p;
    yaml_event_t ev;
    const char *file;
} yreader_t;

static int next(yreader_t *y, err_t *e)
{
    yaml_event_delete(&y->ev);
    if (!yaml_parser_parse(&y->p, &y->ev))
        return err_set(e, ERR_BAD_REQUEST, "%s:%zu: %s", y->file, y->p.problem_mark.line + 1,
                       y->p.problem ? y->p.problem : "invalid YAML");
    return 0;
}

static int yaml_error(yreader_t *y, err_t *e, const char *what)
{
    return err_set(e, ERR_BAD_REQUEST, "%s:%zu: %s", y->file, y->ev.start_mark.line + 1, what);
}

static int read_groups(config_t *c, yreader_t *y, err_t *e)
{
    int rc;
    if (y->ev.type != YAML_MAPPING_START_EVENT)
        return yaml_error(y, e, "jurisdiction_groups must be a mapping of names to lists");
    for (;;) {
        if ((rc = next(y, e)) != 0)
            return rc;
        if (y->ev.type == YAML_MAPPING_END_EVENT)
            return 0;
        if (y->ev.type != YAML_SCALAR_EVENT)
            return yaml_error(y, e, "expected a group name");
        char name[64];
        snprintf(name, sizeof(name), "%s", (const char *)y->ev.data.scalar.value);
        if ((rc = next(y, e)) != 0)
            return rc;
        if (y->ev.type != YAML_SEQUENCE_START_EVENT)
            return yaml_error(y, e, "a jurisdiction group must be a list of codes");
        char members[256][40];
        const char *ptrs[256];
        size_t n = 0;
        for (;;) {
            if ((rc = next(y, e)) != 0)
                return rc;
            if (y->ev.type == YAML_SEQUENCE_END_EVENT)
                break;
            if (y->ev.type != YAML_SCALAR_EVENT || n == 256)
                return yaml_error(y, e, "a jurisdiction group must be a list of codes");
            snprintf(members[n], sizeof(members[n]), "%s", (const char *)y->ev.data.scalar.value);
            ptrs[n] = members[n];
            n++;
        }
        if ((rc = juris_groups_add(&c->groups, name, ptrs, n, e)) != 0)
            return rc;
    }
}

/* Reads a sequence of scalars into a string setting, comma-separated (database_replicas). */
static int read_list(config_t *c, yreader_t *y, const char *name, err_t *e)
{
    buf_t joined = BUF_INIT;
    int rc;
    for (;;) {
        if ((rc = next(y, e)) != 0)
            break;
        if (y->ev.type == YAML_SEQUENCE_END_EVENT) {
            err_t se;
            if ((rc = config_set(c, name, joined.base ? joined.base : "", &se)) != 0)
                rc = yaml_error(y, e, se.msg);
            break;
        }
        if (y->ev.type != YAML_SCALAR_EVENT || strchr((const char *)y->ev.data.scalar.value, ',') != NULL) {
            rc = yaml_error(y, e, "expected a list of URLs (without commas)");
            break;
        }
        if (joined.len)
            buf_putc(&joined, ',');
        buf_puts(&joined, (const char *)y->ev.data.scalar.value);
    }
    buf_release(&joined);
    return rc;
}

/* Reads a mapping whose keys are prefixed by `prefix` ("" or "limits."). */
static int read_mapping(config_t *c, yreader_t *y, const char *prefix, err_t *e)
{
    int rc;
    for (;;) {
        if ((rc = next(y, e)) != 0)
            return rc;
        if (y->ev.type == YAML_MAPPING_END_EVENT)
            return 0;
        if (y->ev.type != YAML_SCALAR_EVENT)
            return yaml_error(y, e, "expected a setting name");
        char name[128];
        snprintf(name, sizeof(name), "%s%s", prefix, (const char *)y->ev.data.scalar.value);
        if ((rc = next(y, e)) != 0)
            return rc;
        if (strcmp(name, "jurisdiction_groups") == 0) {
            if ((rc = read_groups(c, y, e)) != 0)
                return rc;
        } else if (strcmp(name, "database_replicas") == 0 && y->ev.type == YAML_SEQUENCE_START_EVENT) {
            if ((rc = read_list(c, y, name, e)) != 0)
                return rc;
        } else if (strcmp(name, "limits") == 0 || strcmp(name, "audit") == 0) {
            if (y->ev.type != YAML_MAPPING_START_EVENT)
                return err_set(e, ERR_BAD_REQUEST, "%s:%zu: %s must be a mapping", y->file, y->ev.start_mark.line + 1, name);
            char sub[160];
            snprintf(sub, sizeof(sub), "%s.", name);
            if ((rc = read_mapping(c, y, sub, e)) != 0)
                return rc;
        } else if (y->ev.type == YAML_SCALAR_EVENT) {
            if (strcmp(name, "admin_token") == 0)
                return yaml_error(y, e, "the admin token is never read from the config file (use LOCI_ADMIN_TOKEN)");
            err_t se;
            if (config_set(c, name, (const char *)y->ev.data.scalar.value, &se) != 0)
                return yaml_error(y, e, se.msg);
        } else {
            return err_set(e, ERR_BAD_REQUEST, "%s:%zu: setting '%s' must be a single value", y->file, y->ev.start_mark.line + 1,
                           name);
        }
    }
}

/* Reads the document y's parser is set up on: stream start, document start (or an empty
 * stream), then the mapping of settings. */
static int load_yaml(config_t *c, yreader_t *y, err_t *e)
{
    int rc = 0;
    while ((rc = next(y, e)) == 0) {
        if (y->ev.type == YAML_STREAM_START_EVENT || y->ev.type == YAML_DOCUMENT_START_EVENT)
            continue;
        if (y->ev.type == YAML_STREAM_END_EVENT)
            break;
        if (y->ev.type == YAML_MAPPING_START_EVENT) {
            rc = read_mapping(c, y, "", e);
            break;
        }
        rc = yaml_error(y, e, "the config file must be a mapping of settings");
        break;
    }
    yaml_event_delete(&y->ev);
    yaml_parser_delete(&y->p);
    return rc;
}

int config_load_file(config_t *c, const char *path, err_t *e)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return err_set(e, ERR_BAD_REQUEST, "cannot open config file '%s': %s", path, strerror(errno));
    yreader_t y;
    memset(&y, 0, sizeof(y));
    y.file = path;
    yaml_parser_initialize(&y.p);
    yaml_parser_set_input_file(&y.p, f);
    int rc = load_yaml(c, &y, e);
    fclose(f);
    return rc;
}

int config_load_buffer(config_t *c, const char *name, const char *data, size_t len, err_t *e)
{
    yreader_t y;
    memset(&y, 0, sizeof(y));
    y.file = name;
    yaml_parser_initialize(&y.p);
    yaml_parser_set_input_string(&y.p, (const unsigned char *)data, len);
    return load_yaml(c, &y, e);
}

int config_load_env(config_t *c, err_t *e)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *v = getenv(SETTINGS[i].env);
        if (v == NULL)
            continue;
        err_t se;
        if (config_set(c, SETTINGS[i].name, v, &se) != 0)
            return err_set(e, ERR_BAD_REQUEST, "%s: %s", SETTINGS[i].env, se.msg);
    }
    return 0;
}

int config_finish(config_t *c, err_t *e)
{
    if (c->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->threads = n > 0 ? (int)n : 1;
    }
    if (c->public_url[0] == '\0') {
        size_t n = strlen(c->listen) + 8;
        free(c->public_url);
        c->public_url = malloc(n);
        if (c->public_url == NULL)
            abort();
        snprintf(c->public_url, n, "http://%s", c->listen);
    }
    size_t pl = strlen(c->public_url);
    while (pl > 0 && c->public_url[pl - 1] == '/')
        c->public_url[--pl] = '\0';
    if (!id_cell_valid(c->cell, strlen(c->cell)))
        return err_set(e, ERR_BAD_REQUEST, "cell '%s' must be 1-16 of a-z and 0-9", c->cell);
    if (!juris_is_country(c->local_country))
        return err_set(e, ERR_BAD_REQUEST, "local_country '%s' is not an ISO 3166-1 alpha-2 code", c->local_country);
    if (c->limits.expires_default > c->limits.expires_max)
        return err_set(e, ERR_BAD_REQUEST, "limits.url_expires_default is above limits.url_expires_max");
    if (strchr(c->listen, ':') == NULL)
        return err_set(e, ERR_BAD_REQUEST, "listen '%s' must be ADDRESS:PORT", c->listen);
    return 0;
}

void config_print_help(void *fp)
{
    FILE *f = fp;
    config_t d;
    config_init(&d);
    fputs("settings (config file key / environment variable):\n", f);
    for (size_t i = 0; i < NSETTINGS; i++)
        fprintf(f, "  %-28s %-32s %s\n", SETTINGS[i].name, SETTINGS[i].env, SETTINGS[i].help);
    config_release(&d);
}
