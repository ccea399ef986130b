/*
 * sq_open.c - opening the SQLite database, schema migrations and connections.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/sqlite/sq.h"

/*
 * Versioned migrations: migration i (1-based) brings the schema from version i-1 to i.
 * PRAGMA user_version records the version; each migration runs in its own transaction.
 * Append new migrations; never edit one that has shipped.
 */
static const char *const MIGRATIONS[] = {
    /* 1: the initial schema */
    "CREATE TABLE stores(id TEXT PRIMARY KEY, provider TEXT NOT NULL, endpoint TEXT, bucket TEXT, region TEXT,"
    " country TEXT NOT NULL, status TEXT NOT NULL, weight INTEGER NOT NULL, path_style INTEGER NOT NULL,"
    " public_host TEXT, account TEXT, creds BLOB, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE tenants(id TEXT PRIMARY KEY, jurisdictions TEXT NOT NULL, copies INTEGER NOT NULL,"
    " url_expires INTEGER NOT NULL, url_expires_max INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE api_keys(key_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, secret_hash BLOB NOT NULL,"
    " scopes INTEGER NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER);"
    "CREATE INDEX api_keys_tenant ON api_keys(tenant, key_id);"
    "CREATE TABLE objects(tenant TEXT NOT NULL, key TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,"
    " size INTEGER NOT NULL, content_type TEXT NOT NULL, sha256 TEXT, tags TEXT NOT NULL, attrs TEXT,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY(tenant, key)) WITHOUT ROWID;"
    "CREATE TABLE object_tags(tenant TEXT NOT NULL, key TEXT NOT NULL, k TEXT NOT NULL, v TEXT NOT NULL,"
    " PRIMARY KEY(tenant, key, k)) WITHOUT ROWID;"
    "CREATE INDEX object_tags_kv ON object_tags(tenant, k, v, key);"
    "CREATE TABLE uploads(tenant TEXT NOT NULL, id TEXT NOT NULL, key TEXT NOT NULL, cond INTEGER NOT NULL,"
    " cond_version INTEGER NOT NULL, version INTEGER NOT NULL, size INTEGER NOT NULL, content_type TEXT NOT NULL,"
    " sha256 TEXT, tags TEXT NOT NULL, attrs TEXT, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " PRIMARY KEY(tenant, id)) WITHOUT ROWID;"
    "CREATE INDEX uploads_expiry ON uploads(expires_at);"
    "CREATE TABLE locations(tenant TEXT NOT NULL, object_id TEXT NOT NULL, store TEXT NOT NULL, name TEXT NOT NULL,"
    " state INTEGER NOT NULL, PRIMARY KEY(tenant, object_id, store)) WITHOUT ROWID;"
    "CREATE INDEX locations_store ON locations(store);"
    "CREATE TABLE erasures(seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, store TEXT NOT NULL,"
    " name TEXT NOT NULL, reason TEXT NOT NULL, queued_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT);"
    "CREATE INDEX erasures_store ON erasures(store);",
    /* 2: the audit trail - one hash chain per tenant ('' for administration), chain heads,
     * signed checkpoints; per-tenant audit keys and read auditing; upload subjects */
    "ALTER TABLE tenants ADD COLUMN audit_key BLOB;"
    "ALTER TABLE tenants ADD COLUMN audit_reads INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE uploads ADD COLUMN subject TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE audit_entries(tenant TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, actor TEXT NOT NULL,"
    " action TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL,"
    " PRIMARY KEY(tenant, seq)) WITHOUT ROWID;"
    "CREATE TABLE audit_heads(tenant TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE audit_checkpoints(seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, root BLOB NOT NULL, heads TEXT NOT NULL,"
    " signature BLOB NOT NULL);",
    /* 3: multipart uploads - the part layout of an upload, the store's multipart upload id of
     * a location, and of a copy to erase (an unfinished multipart upload is aborted) */
    "ALTER TABLE uploads ADD COLUMN part_size INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE uploads ADD COLUMN parts INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE locations ADD COLUMN mp_id TEXT;"
    "ALTER TABLE erasures ADD COLUMN mp_id TEXT;",
    /* 4: every tag row carries its object's whole tag set (the canonical JSON of objects.tags),
     * and the (tenant, k, v, key) index covers it: a search with several tag filters checks the
     * further filters on the index entry of the first instead of one index seek each */
    "ALTER TABLE object_tags ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';"
    "UPDATE object_tags SET tags = (SELECT o.tags FROM objects o WHERE o.tenant = object_tags.tenant"
    " AND o.key = object_tags.key);"
    "DROP INDEX object_tags_kv;"
    "CREATE INDEX object_tags_kv ON object_tags(tenant, k, v, key, tags);",
};

#define NMIGRATIONS ((int)(sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0])))

static const char *const SQL_TEXT[] = {
#define SQ_TEXT(name, sql) sql,
    SQ_STATEMENTS(SQ_TEXT)
#undef SQ_TEXT
};

int sq_control(sq_conn_t *c, sq_stmt_id_t id)
{
    sqlite3_stmt *s = sq_stmt(c, id);
    if (s == NULL)
        return SQLITE_ERROR;
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Ends c's shared read transaction (a read transaction: ending it cannot lose anything, and
 * should COMMIT be refused, ROLLBACK ends it all the same). */
static void snapshot_end(sq_conn_t *c)
{
    if (c->snap && !sqlite3_get_autocommit(c->h) && sq_control(c, SQ_TX_COMMIT) != SQLITE_OK)
        sq_control(c, SQ_TX_ROLLBACK);
    c->snap = false;
}

void sq_snapshot(sq_conn_t *c)
{
    if (!c->share)
        return;
    /* the writer counts a commit before it answers any of its requests: a request read after
     * one was answered finds the count moved, and a snapshot begun after this load has it */
    uint64_t commits = atomic_load_explicit(&((sq_db_t *)c->base.db)->commits, memory_order_acquire);
    if (c->snap && c->snap_commits == commits && !sqlite3_get_autocommit(c->h))
        return;
    snapshot_end(c);
    if (sq_control(c, SQ_RD_BEGIN) == SQLITE_OK) { /* (the snapshot itself is taken by the first read) */
        c->snap = true;
        c->snap_commits = commits;
    }
}

static void sq_conn_share(db_conn_t *conn)
{
    ((sq_conn_t *)conn)->share = true;
}

static void sq_conn_idle(db_conn_t *conn)
{
    snapshot_end((sq_conn_t *)conn);
}

int sq_error(sq_conn_t *c, int rc, const char *what, err_t *e)
{
    int code;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
        code = ERR_UNAVAILABLE;
        break;
    case SQLITE_CONSTRAINT:
        code = ERR_CONFLICT;
        break;
    case SQLITE_NOMEM:
        code = ERR_NOMEM;
        break;
    default:
        code = ERR_INTERNAL;
    }
    return err_set(e, code, "database: %s: %s", what, c && c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(rc));
}

sqlite3_stmt *sq_stmt(sq_conn_t *c, sq_stmt_id_t id)
{
    if (c->st[id] == NULL) {
        if (sqlite3_prepare_v3(c->h, SQL_TEXT[id], -1, SQLITE_PREPARE_PERSISTENT, &c->st[id], NULL) != SQLITE_OK) {
            fprintf(stderr, "loci: cannot prepare statement %d: %s\n", (int)id, sqlite3_errmsg(c->h));
            return NULL;
        }
    } else {
        sqlite3_reset(c->st[id]);
        sqlite3_clear_bindings(c->st[id]);
    }
    return c->st[id];
}

const char *sq_text(sqlite3_stmt *s, int i, arena_t *a)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    if (t == NULL)
        return NULL;
    return arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(s, i));
}

void sq_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v == NULL)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static int exec(sq_conn_t *c, const char *sql, err_t *e)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        err_set(e, ERR_INTERNAL, "database: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return e ? e->code : ERR_INTERNAL;
    }
    return 0;
}

/* Before SQLite's first use: no memory statistics (loci reads none), so an allocation inside
 * SQLite does not take the library's global mutex, which every thread's statements share. */
static void library_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* (refused, harmlessly, if SQLite already started) */
}

int sq_conn_connect(sq_db_t *db, bool readonly, sq_conn_t **out, err_t *e)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, library_setup);
    sq_conn_t *c = calloc(1, sizeof(*c));
    int rc;
    if (c == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    c->base.db = &db->base;
    bool mapped = readonly && sq_map_vfs_register() == SQLITE_OK;
    rc = sqlite3_open_v2(db->path, &c->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                         mapped ? SQ_MAP_VFS : NULL);
    if (rc != SQLITE_OK) {
        rc = err_set(e, ERR_UNAVAILABLE, "cannot open database '%s': %s", db->path,
                     c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(c->h, SQ_BUSY_MS);
    sqlite3_extended_result_codes(c->h, 1);
    if ((rc = exec(c, "PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32000;", e)) != 0)
        goto fail;
    if (readonly && (rc = exec(c, "PRAGMA query_only=1;", e)) != 0)
        goto fail;
    /* readers take database pages from a map that stays (sq_vfs.c) instead of pread into a page
     * cache that WAL mode empties after every commit; the writer and checkpointer write, so they
     * keep pread/pwrite */
    if (mapped && (rc = exec(c, "PRAGMA mmap_size=" SQ_MAP_SIZE ";", e)) != 0)
        goto fail;
    /* deleted rows (a shredded audit key, a deleted tenant) are overwritten, not left in free pages */
    if (!readonly && (rc = exec(c, "PRAGMA secure_delete=ON;", e)) != 0)
        goto fail;
    /* the connections that write the database file (checkpoints) grow it SQ_CHUNK bytes at a
     * time: the readers' maps (sq_vfs.c) follow the file's size, so they are redone once per
     * chunk instead of at nearly every checkpoint */
    int chunk = SQ_CHUNK;
    if (!readonly && (rc = sqlite3_file_control(c->h, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk)) != SQLITE_OK) {
        rc = err_set(e, ERR_UNAVAILABLE, "cannot set the database's chunk size: %s", sqlite3_errstr(rc));
        goto fail;
    }
    *out = c;
    return 0;
fail:
    sq_conn_free(c);
    return rc;
}

void sq_conn_free(sq_conn_t *c)
{
    if (c == NULL)
        return;
    snapshot_end(c);
    for (int i = 0; i < SQ_NSTMT; i++)
        sqlite3_finalize(c->st[i]);
    for (int i = 0; i <= SQ_LIST_CACHED; i++)
        sqlite3_finalize(c->list_st[i]);
    for (int i = 0; i < SQ_PROBE_SLOTS; i++)
        free(c->probes[i].key);
    if (c->h && sqlite3_close(c->h) != SQLITE_OK)
        fprintf(stderr, "loci: closing database connection: %s\n", sqlite3_errmsg(c->h));
    free(c);
}

/* Brings the schema up to date, one migration per transaction. */
static int migrate(sq_conn_t *c, err_t *e)
{
    int rc;
    if ((rc = exec(c, "PRAGMA journal_mode=WAL;", e)) != 0)
        return rc;
    for (;;) {
        if ((rc = exec(c, "BEGIN IMMEDIATE", e)) != 0)
            return rc;
        sqlite3_stmt *s = NULL;
        int version = -1;
        if (sqlite3_prepare_v2(c->h, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
            version = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
        if (version < 0 || version > NMIGRATIONS) {
            exec(c, "ROLLBACK", NULL);
            return err_set(e, ERR_INTERNAL, "database schema version %d is newer than this loci (%d)", version, NMIGRATIONS);
        }
        if (version == NMIGRATIONS)
            return exec(c, "COMMIT", e);
        char set[64];
        snprintf(set, sizeof(set), "PRAGMA user_version=%d;", version + 1);
        if ((rc = exec(c, MIGRATIONS[version], e)) != 0 || (rc = exec(c, set, e)) != 0 || (rc = exec(c, "COMMIT", e)) != 0) {
            exec(c, "ROLLBACK", NULL);
            return rc;
        }
    }
}

static int sq_conn_open(db_t *db, db_conn_t **out, err_t *e)
{
    sq_conn_t *c;
    int rc = sq_conn_connect((sq_db_t *)db, true, &c, e);
    if (rc == 0)
        *out = &c->base;
    return rc;
}

static void sq_conn_close(db_conn_t *c)
{
    sq_conn_free((sq_conn_t *)c);
}

static int sq_ping(db_conn_t *conn, err_t *e)
{
    sq_conn_t *c = (sq_conn_t *)conn;
    sqlite3_stmt *s = sq_stmt(c, SQ_PING);
    if (s == NULL)
        return sq_error(c, SQLITE_ERROR, "ping", e);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? 0 : sq_error(c, rc, "ping", e);
}

static void sq_close(db_t *base)
{
    sq_db_t *db = (sq_db_t *)base;
    sq_ckpt_stop(db);
    if (db->writer) {
        /* a clean shutdown leaves no WAL behind: checkpoint and truncate it */
        sqlite3_exec(db->writer->h, "PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL, NULL);
        sq_conn_free(db->writer);
    }
    free(db->path);
    free(db);
}

static int sq_metrics(db_t *base, buf_t *out)
{
    uint64_t runs, restarts;
    int pages, copied;
    sq_ckpt_stats((sq_db_t *)base, &runs, &restarts, &pages, &copied);
    return buf_printf(out,
                      "# HELP loci_sqlite_checkpoints_total WAL checkpoints run (pages copied back into the database file).\n"
                      "# TYPE loci_sqlite_checkpoints_total counter\n"
                      "loci_sqlite_checkpoints_total %llu\n"
                      "# HELP loci_sqlite_wal_restarts_total Times a long WAL was started over from its beginning.\n"
                      "# TYPE loci_sqlite_wal_restarts_total counter\n"
                      "loci_sqlite_wal_restarts_total %llu\n"
                      "# HELP loci_sqlite_wal_pages Pages in the WAL at the last commit.\n"
                      "# TYPE loci_sqlite_wal_pages gauge\n"
                      "loci_sqlite_wal_pages %d\n"
                      "# HELP loci_sqlite_wal_pages_pending Of those, pages not yet copied back.\n"
                      "# TYPE loci_sqlite_wal_pages_pending gauge\n"
                      "loci_sqlite_wal_pages_pending %d\n",
                      (unsigned long long)runs, (unsigned long long)restarts, pages, pages - copied) < 0
               ? -1
               : 0;
}

const db_vt_t sq_vt = {
    .name = "sqlite",
    .reads_inline = true,
    .conn_open = sq_conn_open,
    .conn_close = sq_conn_close,
    .conn_share = sq_conn_share,
    .conn_idle = sq_conn_idle,
    .ping = sq_ping,
    .key_get = sq_read_key_get,
    .key_list = sq_read_key_list,
    .tenant_get = sq_read_tenant_get,
    .tenant_list = sq_read_tenant_list,
    .store_list = sq_read_store_list,
    .object_get = sq_read_object_get,
    .upload_get = sq_read_upload_get,
    .object_list = sq_read_object_list,
    .erasure_list = sq_read_erasure_list,
    .audit_heads = sq_read_audit_heads,
    .audit_list = sq_read_audit_list,
    .checkpoint_list = sq_read_checkpoint_list,
    .write_batch = sq_write_batch,
    .metrics = sq_metrics,
    .close = sq_close,
};

/* Opens (creating if needed) the database at path and migrates it. */
int db_sqlite_open(const char *path, db_t **out, err_t *e);
/* Opens an existing database at path for reading only. */
int db_sqlite_open_readonly(const char *path, db_t **out, err_t *e);

int db_sqlite_open_readonly(const char *path, db_t **out, err_t *e)
{
    sq_db_t *db = calloc(1, sizeof(*db));
    sq_conn_t *c = NULL;
    int rc, version = -1;
    if (db == NULL || (db->path = strdup(path)) == NULL) {
        free(db);
        return err_set(e, ERR_NOMEM, NULL);
    }
    db->base.vt = &sq_vt;
    if (access(path, R_OK) != 0) {
        rc = err_set(e, ERR_NOT_FOUND, "no database at '%s'", path);
        goto fail;
    }
    if ((rc = sq_conn_connect(db, true, &c, e)) != 0)
        goto fail;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->h, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sq_conn_free(c);
    if (version != NMIGRATIONS) {
        rc = err_set(e, ERR_UNAVAILABLE, "database '%s' has schema version %d, this loci reads %d", path, version, NMIGRATIONS);
        goto fail;
    }
    *out = &db->base;
    return 0;
fail:
    sq_close(&db->base);
    return rc;
}

int db_sqlite_open(const char *path, db_t **out, err_t *e)
{
    int rc;
    sq_db_t *db = calloc(1, sizeof(*db));
    if (db == NULL || (db->path = strdup(path)) == NULL) {
        free(db);
        return err_set(e, ERR_NOMEM, NULL);
    }
    db->base.vt = &sq_vt;
    if ((rc = sq_conn_connect(db, false, &db->writer, e)) != 0)
        goto fail;
    if ((rc = migrate(db->writer, e)) != 0 || (rc = sq_ckpt_start(db, e)) != 0)
        goto fail;
    *out = &db->base;
    return 0;
fail:
    sq_close(&db->base);
    return rc;
}
