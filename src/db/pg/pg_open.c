/*
 * pg_open.c - opening a PostgreSQL database: versioned migrations (safe when several servers
 * start at once), read connections, the function table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/pg/pg.h"

/*
 * Versioned migrations: migration i (1-based) brings the schema from version i-1 to i; the
 * table loci_schema records each one applied. They run under a session advisory lock, so of
 * several servers starting at once one migrates and the others wait, then find nothing to do.
 * Append new migrations; never edit one that has shipped.
 *
 * The tables are SQLite's (src/db/sqlite/sq_open.c, its migrations 1-3), with PostgreSQL
 * types. Text that is sorted or compared (tenants, keys, tags) uses the "C" collation: byte
 * order, as SQLite and the cursors expect, whatever the database's locale.
 */
static const char *const MIGRATIONS[] = {
    /* 1: the schema of SQLite's migrations 1 to 3, plus a lease on queued erasures (several
     * servers drain one queue) and loci_commits (a writer whose COMMIT was cut off looks up
     * whether it happened) */
    "CREATE TABLE stores(id TEXT COLLATE \"C\" PRIMARY KEY, provider TEXT NOT NULL, endpoint TEXT, bucket TEXT,"
    " region TEXT, country TEXT NOT NULL, status TEXT NOT NULL, weight INTEGER NOT NULL, path_style INTEGER NOT NULL,"
    " public_host TEXT, account TEXT, creds BYTEA, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
    "CREATE TABLE tenants(id TEXT COLLATE \"C\" PRIMARY KEY, jurisdictions TEXT NOT NULL, copies INTEGER NOT NULL,"
    " url_expires BIGINT NOT NULL, url_expires_max BIGINT NOT NULL, created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL, audit_key BYTEA, audit_reads INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE api_keys(key_id TEXT COLLATE \"C\" PRIMARY KEY, tenant TEXT COLLATE \"C\" NOT NULL,"
    " secret_hash BYTEA NOT NULL, scopes INTEGER NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT);"
    "CREATE INDEX api_keys_tenant ON api_keys(tenant, key_id);"
    "CREATE TABLE objects(tenant TEXT COLLATE \"C\" NOT NULL, key TEXT COLLATE \"C\" NOT NULL, id TEXT NOT NULL,"
    " version BIGINT NOT NULL, size BIGINT NOT NULL, content_type TEXT NOT NULL, sha256 TEXT, tags TEXT NOT NULL,"
    " attrs TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY(tenant, key));"
    "CREATE TABLE object_tags(tenant TEXT COLLATE \"C\" NOT NULL, key TEXT COLLATE \"C\" NOT NULL,"
    " k TEXT COLLATE \"C\" NOT NULL, v TEXT COLLATE \"C\" NOT NULL, PRIMARY KEY(tenant, key, k));"
    "CREATE INDEX object_tags_kv ON object_tags(tenant, k, v, key);"
    "CREATE TABLE uploads(tenant TEXT COLLATE \"C\" NOT NULL, id TEXT COLLATE \"C\" NOT NULL, key TEXT NOT NULL,"
    " cond INTEGER NOT NULL, cond_version BIGINT NOT NULL, version BIGINT NOT NULL, size BIGINT NOT NULL,"
    " content_type TEXT NOT NULL, sha256 TEXT, tags TEXT NOT NULL, attrs TEXT, created_at BIGINT NOT NULL,"
    " expires_at BIGINT NOT NULL, subject TEXT NOT NULL DEFAULT '', part_size BIGINT NOT NULL DEFAULT 0,"
    " parts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(tenant, id));"
    "CREATE INDEX uploads_expiry ON uploads(expires_at);"
    "CREATE TABLE locations(tenant TEXT COLLATE \"C\" NOT NULL, object_id TEXT COLLATE \"C\" NOT NULL,"
    " store TEXT COLLATE \"C\" NOT NULL REFERENCES stores(id), name TEXT NOT NULL, state INTEGER NOT NULL, mp_id TEXT,"
    " PRIMARY KEY(tenant, object_id, store));"
    "CREATE INDEX locations_store ON locations(store);"
    "CREATE TABLE erasures(seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant TEXT NOT NULL,"
    " store TEXT COLLATE \"C\" NOT NULL REFERENCES stores(id), name TEXT NOT NULL, reason TEXT NOT NULL,"
    " queued_at BIGINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, mp_id TEXT,"
    " lease_until BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX erasures_store ON erasures(store);"
    "CREATE INDEX erasures_order ON erasures(attempts, seq);"
    "CREATE TABLE audit_entries(tenant TEXT COLLATE \"C\" NOT NULL, seq BIGINT NOT NULL, time BIGINT NOT NULL,"
    " actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL, prev_hash BYTEA NOT NULL,"
    " hash BYTEA NOT NULL, PRIMARY KEY(tenant, seq));"
    "CREATE TABLE audit_heads(tenant TEXT COLLATE \"C\" PRIMARY KEY, seq BIGINT NOT NULL, hash BYTEA NOT NULL);"
    "CREATE TABLE audit_checkpoints(seq BIGINT PRIMARY KEY, time BIGINT NOT NULL, root BYTEA NOT NULL, heads TEXT NOT NULL,"
    " signature BYTEA NOT NULL);"
    "CREATE TABLE loci_commits(id BIGINT PRIMARY KEY, at BIGINT NOT NULL);"
    "CREATE INDEX loci_commits_at ON loci_commits(at);",
    /* 2: each tag index entry carries the object's tag set (canonical JSON, as objects.tags),
     * so a search checks its further tag filters on the driving index entry instead of one
     * primary-key lookup per candidate (the SQLite schema's version 4) */
    "ALTER TABLE object_tags ADD COLUMN tags TEXT COLLATE \"C\";"
    "UPDATE object_tags t SET tags = o.tags FROM objects o WHERE o.tenant = t.tenant AND o.key = t.key;"
    "ALTER TABLE object_tags ALTER COLUMN tags SET NOT NULL;"
    "DROP INDEX object_tags_kv;"
    "CREATE INDEX object_tags_kv ON object_tags(tenant, k, v, key) INCLUDE (tags);",
};

#define NMIGRATIONS ((int)(sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0])))

/* pg_advisory_lock key of the migration lock ("loci-mig") */
#define MIGRATION_LOCK "7813585120880044391"
/* bound on one migration's round trip (a migration rewrites tables: minutes on a large one) */
#define MIGRATION_STMT_MS 3600000
/* how long a starting server waits for another one's migration */
#define MIGRATION_WAIT_MS 300000

/* The schema version (0 for an empty database), or -1 with e set. */
static int schema_version(pg_link_t *l, err_t *e)
{
    PGresult *r = pg_exec(l, -1, "SELECT to_regclass('loci_schema') IS NOT NULL", NULL, "schema version", e);
    if (r == NULL)
        return -1;
    bool exists = pg_i64(r, 0, 0) != 0;
    PQclear(r);
    if (!exists)
        return 0;
    if ((r = pg_exec(l, -1, "SELECT COALESCE(max(version), 0) FROM loci_schema", NULL, "schema version", e)) == NULL)
        return -1;
    int v = (int)pg_i64(r, 0, 0);
    PQclear(r);
    return v;
}

/* Brings the schema up to date, one migration per transaction, under the migration lock. */
static int migrate(const char *url, err_t *e)
{
    pg_link_t l;
    pg_link_init(&l, url, MIGRATION_STMT_MS);
    int rc = 0, version;
    int64_t deadline = pg_mono_ms() + MIGRATION_WAIT_MS;
    for (;;) {
        PGresult *r = pg_exec(&l, -1, "SELECT pg_try_advisory_lock(" MIGRATION_LOCK ")", NULL, "migration lock", e);
        if (r == NULL) {
            rc = e->code;
            goto out;
        }
        bool got = pg_i64(r, 0, 0) != 0;
        PQclear(r);
        if (got)
            break;
        if (pg_mono_ms() > deadline) {
            rc =
                err_set(e, ERR_UNAVAILABLE, "another server has held the schema migration lock for %d s", MIGRATION_WAIT_MS / 1000);
            goto out;
        }
        usleep(100000);
    }
    if ((version = schema_version(&l, e)) < 0) {
        rc = e->code;
        goto unlock;
    }
    if (version > NMIGRATIONS) {
        rc = err_set(e, ERR_INTERNAL, "database schema version %d is newer than this loci (%d)", version, NMIGRATIONS);
        goto unlock;
    }
    for (; version < NMIGRATIONS; version++) {
        buf_t sql = BUF_INIT;
        buf_printf(&sql,
                   "BEGIN; SET LOCAL statement_timeout = 0;"
                   "CREATE TABLE IF NOT EXISTS loci_schema(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL);"
                   "%s; INSERT INTO loci_schema(version, applied_at) VALUES(%d, now()); COMMIT",
                   MIGRATIONS[version], version + 1);
        rc = pg_simple(&l, sql.base, "schema migration", e);
        buf_release(&sql);
        if (rc != 0) {
            pg_simple(&l, "ROLLBACK", "rollback", NULL);
            goto unlock;
        }
    }
unlock:
    pg_simple(&l, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")", "migration unlock", NULL);
out:
    pg_link_close(&l);
    return rc;
}

static int pg_conn_open(db_t *base, db_conn_t **out, err_t *e)
{
    pg_db_t *db = (pg_db_t *)base;
    pg_conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return err_set(e, ERR_NOMEM, NULL);
    c->base.db = base;
    pg_link_init(&c->link, db->url, db->timeout_ms);
    if (db->replicas) {
        c->nreplicas = pg_replicas_count(db->replicas);
        c->replicas = calloc(c->nreplicas, sizeof(*c->replicas));
        if (c->replicas == NULL) {
            free(c);
            return err_set(e, ERR_NOMEM, NULL);
        }
        for (size_t i = 0; i < c->nreplicas; i++)
            pg_link_init(&c->replicas[i], pg_replicas_url(db->replicas, i), db->timeout_ms);
    }
    /* the connection opens on first use: a loop thread's idle connection costs nothing */
    *out = &c->base;
    return 0;
}

static void pg_conn_close(db_conn_t *conn)
{
    pg_conn_t *c = (pg_conn_t *)conn;
    if (c == NULL)
        return;
    pg_link_close(&c->link);
    for (size_t i = 0; i < c->nreplicas; i++)
        pg_link_close(&c->replicas[i]);
    free(c->replicas);
    free(c);
}

static int pg_ping(db_conn_t *conn, err_t *e)
{
    pg_conn_t *c = (pg_conn_t *)conn;
    PGresult *r = pg_stmt(&c->link, PG_PING, NULL, "ping", e);
    if (r == NULL)
        return e->code ? e->code : ERR_UNAVAILABLE;
    PQclear(r);
    return 0;
}

static void pg_close(db_t *base)
{
    pg_db_t *db = (pg_db_t *)base;
    pg_replicas_stop(db->replicas);
    pg_link_close(&db->writer);
    free(db->url);
    free(db);
}

const db_vt_t pg_vt = {
    .name = "postgres",
    .reads_inline = false,
    .conn_open = pg_conn_open,
    .conn_close = pg_conn_close,
    .ping = pg_ping,
    .key_get = pg_read_key_get,
    .key_list = pg_read_key_list,
    .tenant_get = pg_read_tenant_get,
    .tenant_list = pg_read_tenant_list,
    .store_list = pg_read_store_list,
    .object_get = pg_read_object_get,
    .object_get_many = pg_read_object_get_many,
    .upload_get = pg_read_upload_get,
    .object_list = pg_read_object_list,
    .erasure_list = pg_read_erasure_list,
    .audit_heads = pg_read_audit_heads,
    .audit_list = pg_read_audit_list,
    .checkpoint_list = pg_read_checkpoint_list,
    .write_batch = pg_write_batch,
    .close = pg_close,
};

/* Opens the database at url (postgres://...), migrating it unless readonly. */
int db_pg_open(const char *url, const db_options_t *opts, bool readonly, db_t **out, err_t *e);

int db_pg_open(const char *url, const db_options_t *opts, bool readonly, db_t **out, err_t *e)
{
    int rc;
    pg_db_t *db = calloc(1, sizeof(*db));
    if (db == NULL || (db->url = strdup(url)) == NULL) {
        free(db);
        return err_set(e, ERR_NOMEM, NULL);
    }
    db->base.vt = &pg_vt;
    db->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : 5000;
    pg_link_init(&db->writer, db->url, db->timeout_ms);
    if (readonly) {
        pg_link_t l;
        pg_link_init(&l, db->url, db->timeout_ms);
        int version = schema_version(&l, e);
        pg_link_close(&l);
        if (version < 0) {
            rc = e->code;
            goto fail;
        }
        if (version != NMIGRATIONS) {
            rc = err_set(e, ERR_UNAVAILABLE, "database has schema version %d, this loci reads %d", version, NMIGRATIONS);
            goto fail;
        }
    } else if ((rc = migrate(db->url, e)) != 0) {
        goto fail;
    }
    if (!readonly && opts && opts->nreplicas > 0 &&
        (rc = pg_replicas_start(db->url, opts->replicas, opts->nreplicas, opts->replica_max_lag_ms, db->timeout_ms, &db->replicas,
                                e)) != 0)
        goto fail;
    *out = &db->base;
    return 0;
fail:
    pg_close(&db->base);
    return rc;
}
