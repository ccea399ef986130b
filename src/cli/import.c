/*
 * import.c - `loci import`: register objects that already exist in a store.
 *
 *   loci import --tenant T [--data DIR] [--config FILE] [--database URL] FILE|-
 *
 * Reads an NDJSON inventory (one object per line: key, store, name, size, sha256,
 * content_type, tags, attrs), checks every line with the API's rules, and writes all of it
 * through the metadata-store interface as ONE DB_OP_OBJECT_IMPORT: one transaction, one audit
 * entry per object, so either every line is imported or none is. It works on the data
 * directory directly, like `loci audit verify --data` (and pg_restore): no HTTP, no per-object
 * commit. Run it with the server stopped; see docs/operations.md "Importing objects".
 */
#include "cli/import.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "core/ids.h"
#include "core/juris.h"
#include "db/db.h"
#include "server/config.h"
#include "server/secrets.h"
#include "util/crypto.h"
#include "util/timeutil.h"

#define BAD_LINES_MAX 20 /* bad lines reported before giving up on the rest */
/* the line and key of the last objects handed to the backend: a backend that inserts in chunks
 * (PostgreSQL) finds a conflict after reading on, and names it by its index */
#define RECENT 4096

static const char *const FIELDS[] = {"key", "store", "name", "size", "sha256", "content_type", "tags", "attrs", NULL};

/* A string member of o (NULL if absent); a present non-string, or one holding NUL, is an error. */
static int str_field(json_t *o, const char *name, const char **out, size_t *len, err_t *e)
{
    json_t *v = json_object_get(o, name);
    *out = NULL;
    *len = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return err_set(e, ERR_BAD_REQUEST, "'%s' must be a string", name);
    *out = json_string_value(v);
    *len = json_string_length(v);
    if (strlen(*out) != *len)
        return err_set(e, ERR_BAD_REQUEST, "'%s' contains a NUL character", name);
    return 0;
}

static int parse_tags(json_t *val, const obj_limits_t *l, import_line_t *out, arena_t *a, err_t *e)
{
    out->tags.items = NULL;
    out->tags.n = 0;
    out->tags_json = "{}";
    if (val == NULL || json_is_null(val))
        return 0;
    if (!json_is_object(val))
        return err_set(e, ERR_BAD_REQUEST, "'tags' must be an object of string values");
    size_t cnt = json_object_size(val);
    if (cnt > l->tags_max)
        return err_set(e, ERR_BAD_REQUEST, "%zu tags, more than %zu", cnt, l->tags_max);
    out->tags.items = arena_alloc(a, (cnt + 1) * sizeof(tag_t));
    const char *k;
    json_t *v;
    json_object_foreach(val, k, v)
    {
        if (!json_is_string(v))
            return err_set(e, ERR_BAD_REQUEST, "tag values in 'tags' must be strings");
        size_t vl = json_string_length(v);
        const char *vs = json_string_value(v);
        if (strlen(vs) != vl)
            return err_set(e, ERR_BAD_REQUEST, "tag contains a control character");
        int rc = obj_tag_check(slice_cstr(k), slice_make(vs, vl), l, e);
        if (rc != 0)
            return rc;
        out->tags.items[out->tags.n].k = arena_strdup(a, k);
        out->tags.items[out->tags.n].v = arena_strndup(a, vs, vl);
        out->tags.n++;
    }
    int rc = tagset_normalize(&out->tags, l, e);
    if (rc != 0)
        return rc;
    buf_t tj = BUF_INIT;
    tagset_to_json(&out->tags, &tj);
    out->tags_json = arena_strndup(a, tj.base, tj.len);
    buf_release(&tj);
    return 0;
}

int import_parse_line(const char *line, size_t len, const obj_limits_t *l, int64_t max_size, import_line_t *out, arena_t *a,
                      err_t *e)
{
    json_error_t je;
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    const char *s, *k;
    size_t sl;
    json_t *v;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (j == NULL)
        return err_set(e, ERR_BAD_REQUEST, "invalid JSON: %s", je.text);
    if (!json_is_object(j)) {
        rc = err_set(e, ERR_BAD_REQUEST, "a line must be a JSON object");
        goto out;
    }
    json_object_foreach(j, k, v)
    {
        size_t i = 0;
        while (FIELDS[i] && strcmp(FIELDS[i], k) != 0)
            i++;
        if (FIELDS[i] == NULL) {
            rc = err_set(e, ERR_BAD_REQUEST, "unknown field '%s'", k);
            goto out;
        }
    }
    if ((rc = str_field(j, "key", &s, &sl, e)) != 0)
        goto out;
    if (s == NULL) {
        rc = err_set(e, ERR_BAD_REQUEST, "'key' is required");
        goto out;
    }
    if ((rc = obj_key_check(slice_make(s, sl), l, e)) != 0)
        goto out;
    out->key = arena_strndup(a, s, sl);

    if ((rc = str_field(j, "store", &s, &sl, e)) != 0)
        goto out;
    if (s == NULL || !store_id_valid(s)) {
        rc = err_set(e, ERR_BAD_REQUEST, s ? "invalid store id '%.64s'" : "'store' is required", s);
        goto out;
    }
    out->store = arena_strndup(a, s, sl);

    if ((rc = str_field(j, "name", &s, &sl, e)) != 0)
        goto out;
    if (s == NULL) {
        out->name = out->key;
    } else {
        /* a store name follows the key rules: 1..key_max bytes of UTF-8, no control characters */
        if (obj_key_check(slice_make(s, sl), l, e) != 0) {
            rc = err_set(e, ERR_BAD_REQUEST, "invalid 'name': %s", e->msg);
            goto out;
        }
        out->name = arena_strndup(a, s, sl);
    }

    v = json_object_get(j, "size");
    if (v == NULL || !json_is_integer(v)) {
        rc = err_set(e, ERR_BAD_REQUEST, v ? "'size' must be an integer" : "'size' is required");
        goto out;
    }
    out->size = json_integer_value(v);
    if (out->size < 0 || out->size > max_size) {
        rc = err_set(e, ERR_BAD_REQUEST, "'size' must be 0 to %lld", (long long)max_size);
        goto out;
    }

    if ((rc = str_field(j, "content_type", &s, &sl, e)) != 0)
        goto out;
    out->content_type = s ? arena_strndup(a, s, sl) : "application/octet-stream";
    if ((rc = obj_content_type_check(out->content_type, e)) != 0)
        goto out;

    if ((rc = str_field(j, "sha256", &s, &sl, e)) != 0)
        goto out;
    if (s) {
        char *hex = arena_strndup(a, s, sl);
        if ((rc = obj_sha256_check(hex, e)) != 0)
            goto out;
        out->sha256 = hex;
    }

    if ((rc = parse_tags(json_object_get(j, "tags"), l, out, a, e)) != 0)
        goto out;

    v = json_object_get(j, "attrs");
    if (v && !json_is_null(v)) {
        if (!json_is_object(v)) {
            rc = err_set(e, ERR_BAD_REQUEST, "'attrs' must be a JSON object");
            goto out;
        }
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        size_t n = text ? strlen(text) : 0;
        if (text == NULL || n > l->attrs_max) {
            rc = err_set(e, ERR_BAD_REQUEST, "'attrs' is %zu bytes of JSON, more than %zu", n, l->attrs_max);
            free(text);
            goto out;
        }
        out->attrs_json = arena_strndup(a, text, n);
        free(text);
    }
out:
    json_decref(j);
    return rc;
}

/* --- the command --- */

typedef struct importer {
    FILE *in;
    const char *path;
    char *line;
    size_t cap;
    int64_t lineno;
    int64_t objects;   /* handed to the backend */
    int64_t fail_line; /* the line an error was found on (0: none yet) */
    int64_t bad;       /* bad lines reported */
    arena_t arena;     /* the current object's strings */
    const config_t *cfg;
    const secrets_t *sec;
    const tenant_t *tenant;
    cset_t allowed;
    const db_store_row_t *stores;
    size_t nstores;
    import_line_t cur;
    char id[ID_MAX];
    char subject[65];
    int64_t recent_line[RECENT];
    char *recent_key[RECENT];
} importer_t;

static const store_t *find_store(const importer_t *im, const char *id)
{
    for (size_t i = 0; i < im->nstores; i++)
        if (strcmp(im->stores[i].store.id, id) == 0)
            return &im->stores[i].store;
    return NULL;
}

/* Reads the next non-blank line and validates it into im->cur. Returns 1, 0 at the end of the
 * input, or an error (e says why, im->fail_line where). */
static int read_next(importer_t *im, err_t *e)
{
    ssize_t n;
    for (;;) {
        errno = 0;
        if ((n = getline(&im->line, &im->cap, im->in)) < 0) {
            if (ferror(im->in))
                return err_set(e, ERR_IO, "cannot read '%s': %s", im->path, strerror(errno));
            return 0;
        }
        im->lineno++;
        while (n > 0 && (im->line[n - 1] == '\n' || im->line[n - 1] == '\r' || im->line[n - 1] == ' '))
            n--;
        if (n > 0)
            break;
    }
    arena_release(&im->arena);
    int rc = import_parse_line(im->line, (size_t)n, &im->cfg->limits, im->cfg->max_object_size, &im->cur, &im->arena, e);
    if (rc == 0) {
        const store_t *st = find_store(im, im->cur.store);
        if (st == NULL) {
            rc = err_set(e, ERR_NOT_FOUND, "unknown store '%s'", im->cur.store);
        } else if (!cset_has(&im->allowed, st->country)) {
            char have[512];
            cset_format(&im->allowed, have, sizeof(have));
            rc = err_set(e, ERR_RESIDENCY_VIOLATION, "store '%s' (%s) is outside tenant '%s' jurisdictions [%s]", st->id,
                         st->country, im->tenant->id, have);
        }
    }
    if (rc != 0) {
        im->fail_line = im->lineno;
        return rc;
    }
    return 1;
}

/* The iterator DB_OP_OBJECT_IMPORT pulls from. */
static int next_object(void *ctx, db_import_object_t *out, err_t *e)
{
    importer_t *im = ctx;
    int rc = read_next(im, e);
    if (rc <= 0)
        return rc;
    const tenant_t *t = im->tenant;
    uint8_t rnd[ID_RANDOM_LEN];
    crypto_random(rnd, sizeof(rnd));
    id_make(im->id, im->cfg->cell, time_now_ms(), rnd);
    if (secrets_audit_subject(im->sec, t->id, t->audit_key_sealed, t->audit_key_sealed_len, im->cur.key, im->subject) != 0) {
        im->fail_line = im->lineno;
        return err_set(e, ERR_UNAVAILABLE, "tenant '%s' has no readable audit key", t->id);
    }
    *out = (db_import_object_t){
        .key = im->cur.key,
        .id = im->id,
        .store = im->cur.store,
        .name = im->cur.name,
        .size = im->cur.size,
        .content_type = im->cur.content_type,
        .sha256 = im->cur.sha256,
        .tags = &im->cur.tags,
        .tags_json = im->cur.tags_json,
        .attrs_json = im->cur.attrs_json,
        .subject = im->subject,
    };
    size_t slot = (size_t)(im->objects % RECENT);
    free(im->recent_key[slot]);
    im->recent_key[slot] = strdup(im->cur.key);
    im->recent_line[slot] = im->lineno;
    im->objects++;
    if (im->objects % 1000000 == 0)
        fprintf(stderr, "loci import: %lld objects...\n", (long long)im->objects);
    return 1;
}

static void report_bad(importer_t *im, int64_t line, const char *msg)
{
    im->bad++;
    if (im->bad <= BAD_LINES_MAX)
        fprintf(stderr, "loci import: %s:%lld: %s\n", im->path, (long long)line, msg);
}

/* After a refused import: checks the rest of the input, to report more bad lines at once. */
static void scan_rest(importer_t *im)
{
    err_t e;
    int rc;
    while ((rc = read_next(im, &e)) != 0) {
        if (rc < 0) {
            if (rc == ERR_IO)
                break;
            report_bad(im, im->fail_line, e.msg);
        }
    }
    if (im->bad > BAD_LINES_MAX)
        fprintf(stderr, "loci import: ... %lld bad lines in all\n", (long long)im->bad);
}

static void usage(FILE *f)
{
    fputs("usage: loci import --tenant T [--data DIR] [--config FILE] [--database URL] FILE|-\n"
          "\n"
          "Registers objects that already exist in a store (a bucket migrating under loci), from an\n"
          "NDJSON inventory, one object per line:\n"
          "  {\"key\":\"calls/1.opus\",\"store\":\"aws-eu\",\"name\":\"old/prefix/1.opus\",\"size\":48213,\n"
          "   \"sha256\":\"...\",\"content_type\":\"audio/opus\",\"tags\":{\"kind\":\"call\"},\"attrs\":{...}}\n"
          "key, store and size are required; name defaults to the key. Every line is checked with the\n"
          "API's rules and the tenant's jurisdictions; the import is one transaction with one audit\n"
          "entry per object, so a bad line (reported with its number) imports nothing.\n"
          "Works on the data directory (like `loci audit verify --data`); stop the server first.\n",
          f);
}

int cmd_import(int argc, char **argv)
{
    const char *tenant_id = NULL, *file = NULL, *config_file = getenv("LOCI_CONFIG");
    config_t cfg;
    secrets_t sec;
    db_t *db = NULL;
    db_conn_t *conn = NULL;
    arena_t a;
    err_t e;
    tenant_t tenant;
    db_store_row_t *stores = NULL;
    size_t nstores = 0;
    importer_t im;
    int rc, exit_code = CLI_EXIT_FAIL;
    char path[4200], dburl[4200];

    config_init(&cfg);
    arena_init(&a);
    memset(&im, 0, sizeof(im));
    arena_init(&im.arena);
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config_file = argv[++i];
    if ((config_file && config_load_file(&cfg, config_file, &e) != 0) || config_load_env(&cfg, &e) != 0)
        goto fail;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit_code = CLI_EXIT_OK;
            goto out;
        }
        bool takes = strcmp(arg, "--tenant") == 0 || strcmp(arg, "--data") == 0 || strcmp(arg, "--config") == 0 ||
                     strcmp(arg, "--database") == 0;
        if (takes && i + 1 >= argc) {
            fprintf(stderr, "loci import: %s needs a value\n", arg);
            exit_code = CLI_EXIT_USAGE;
            goto out;
        }
        if (strcmp(arg, "--tenant") == 0) {
            tenant_id = argv[++i];
        } else if (strcmp(arg, "--data") == 0) {
            if (config_set(&cfg, "data_dir", argv[++i], &e) != 0)
                goto fail;
        } else if (strcmp(arg, "--database") == 0) {
            if (config_set(&cfg, "database", argv[++i], &e) != 0)
                goto fail;
        } else if (strcmp(arg, "--config") == 0) {
            i++;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "loci import: unknown option '%s'\n", arg);
            usage(stderr);
            exit_code = CLI_EXIT_USAGE;
            goto out;
        } else if (file == NULL) {
            file = arg;
        } else {
            fprintf(stderr, "loci import: one input file only\n");
            exit_code = CLI_EXIT_USAGE;
            goto out;
        }
    }
    if (tenant_id == NULL || file == NULL) {
        usage(stderr);
        exit_code = CLI_EXIT_USAGE;
        goto out;
    }
    if (config_finish(&cfg, &e) != 0)
        goto fail;

    /* an existing data directory only: import never creates keys or a database */
    snprintf(path, sizeof(path), "%s/master.key", cfg.data_dir);
    if (access(path, R_OK) != 0) {
        err_set(&e, ERR_NOT_FOUND, "'%s' is not a loci data directory (no master.key)", cfg.data_dir);
        goto fail;
    }
    if (cfg.database[0]) {
        snprintf(dburl, sizeof(dburl), "%s", cfg.database);
    } else {
        snprintf(dburl, sizeof(dburl), "sqlite:%s/loci.db", cfg.data_dir);
        if (access(dburl + 7, R_OK) != 0) {
            err_set(&e, ERR_NOT_FOUND, "no database at '%s'", dburl + 7);
            goto fail;
        }
    }
    if (secrets_load(&sec, cfg.data_dir, &e) != 0 || db_open(dburl, &db, &e) != 0 || db_conn_open(db, &conn, &e) != 0)
        goto fail;
    rc = db->vt->tenant_get(conn, tenant_id, &tenant, &a, &e);
    if (rc == ERR_NOT_FOUND)
        err_set(&e, ERR_NOT_FOUND, "tenant '%s' not found", tenant_id);
    if (rc != 0 || db->vt->store_list(conn, &stores, &nstores, &a, &e) != 0)
        goto fail;
    if (juris_expand(&cfg.groups, (const char *const *)tenant.jurisdictions, tenant.njurisdictions, &im.allowed, &e) != 0)
        goto fail;

    im.in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    im.path = strcmp(file, "-") == 0 ? "stdin" : file;
    if (im.in == NULL) {
        err_set(&e, ERR_NOT_FOUND, "cannot open '%s': %s", file, strerror(errno));
        goto fail;
    }
    im.cfg = &cfg;
    im.sec = &sec;
    im.tenant = &tenant;
    im.stores = stores;
    im.nstores = nstores;

    db_write_t w;
    memset(&w, 0, sizeof(w));
    w.op = DB_OP_OBJECT_IMPORT;
    w.tenant = tenant.id;
    w.now = time_now_ms();
    w.audit.actor = "admin";
    w.arena = &a;
    w.in.object_import.next = next_object;
    w.in.object_import.ctx = &im;
    db_write_t *ops[1] = {&w};
    int64_t t0 = time_mono_ns();
    rc = db->vt->write_batch(db, ops, 1);
    double secs = (double)(time_mono_ns() - t0) / 1e9;
    if (rc != 0) {
        err_set(&e, rc, "the import transaction failed; nothing was imported");
        goto fail;
    }
    if (w.rc != 0) {
        if (im.fail_line) {
            report_bad(&im, im.fail_line, w.err.msg);
        } else if (w.rc == ERR_CONFLICT) {
            /* w.affected: the index of the object refused */
            char msg[1200];
            int64_t line = im.lineno;
            const char *key = im.cur.key;
            if (w.affected >= 0 && w.affected < im.objects && im.objects - w.affected <= RECENT &&
                im.recent_key[w.affected % RECENT]) {
                line = im.recent_line[w.affected % RECENT];
                key = im.recent_key[w.affected % RECENT];
            }
            snprintf(msg, sizeof(msg), "key '%s' already exists (imported before, or earlier in this input)", key);
            report_bad(&im, line, msg);
        } else {
            report_bad(&im, im.lineno, w.err.msg);
        }
        if (w.rc != ERR_IO)
            scan_rest(&im);
        fprintf(stderr, "loci import: nothing was imported\n");
        goto out;
    }
    printf("imported %lld objects for tenant '%s' in %.2f s (%.0f objects/s), %lld audit entries\n", (long long)w.affected,
           tenant.id, secs, secs > 0 ? (double)w.affected / secs : 0.0, (long long)w.audit_entries);
    exit_code = CLI_EXIT_OK;
    goto out;
fail:
    fprintf(stderr, "loci import: %s\n", e.msg);
out:
    if (im.in && im.in != stdin)
        fclose(im.in);
    free(im.line);
    for (size_t i = 0; i < RECENT; i++)
        free(im.recent_key[i]);
    arena_release(&im.arena);
    if (conn)
        db->vt->conn_close(conn);
    db_close(db);
    arena_release(&a);
    config_release(&cfg);
    return exit_code;
}
