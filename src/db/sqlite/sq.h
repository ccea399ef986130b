/*
 * sq.h - internals of the SQLite backend (private to src/db/sqlite/).
 *
 * One database file in WAL mode with synchronous=FULL. Each loop thread has its own read
 * connection (sq_conn_t); the writer thread has one more, used only by write_batch.
 * Statements are prepared once per connection (SQLITE_PREPARE_PERSISTENT) and reset after use.
 */
#ifndef LOCI_DB_SQLITE_SQ_H
#define LOCI_DB_SQLITE_SQ_H

#include <sqlite3.h>
#include <stdatomic.h>

#include "db/db.h"

/* X(name, sql) */
#define SQ_STATEMENTS(X)                                                                                                           \
    X(KEY_GET, "SELECT tenant, secret_hash, scopes, created_at, revoked_at FROM api_keys WHERE key_id = ?1")                       \
    X(KEY_LIST, "SELECT key_id, secret_hash, scopes, created_at, revoked_at FROM api_keys WHERE tenant = ?1 ORDER BY key_id")      \
    X(TENANT_GET,                                                                                                                  \
      "SELECT id, jurisdictions, copies, url_expires, url_expires_max, created_at, updated_at, audit_reads, audit_key "            \
      "FROM tenants WHERE id = ?1")                                                                                                \
    X(TENANT_LIST,                                                                                                                 \
      "SELECT id, jurisdictions, copies, url_expires, url_expires_max, created_at, updated_at, audit_reads, audit_key "            \
      "FROM tenants ORDER BY id")                                                                                                  \
    X(STORE_LIST, "SELECT id, provider, endpoint, bucket, region, country, status, weight, path_style, public_host, account, "     \
                  "creds, created_at, updated_at FROM stores ORDER BY id")                                                         \
    X(LOCATIONS_GET, "SELECT store, name, state, mp_id FROM locations WHERE tenant = ?1 AND object_id = ?2 ORDER BY store")        \
    /* an object and its locations in one statement: one read snapshot, one WAL read lock */                                     \
    X(OBJECT_GET_LOCS, "SELECT o.id, o.version, o.size, o.content_type, o.sha256, o.tags, o.attrs, o.created_at, o.updated_at, "     \
                       "l.store, l.name, l.state, l.mp_id FROM objects o LEFT JOIN locations l ON l.tenant = o.tenant "             \
                       "AND l.object_id = o.id WHERE o.tenant = ?1 AND o.key = ?2 ORDER BY l.store")                               \
    X(UPLOAD_GET, "SELECT key, cond, cond_version, version, size, content_type, sha256, tags, attrs, created_at, expires_at, "     \
                  "part_size, parts FROM uploads WHERE tenant = ?1 AND id = ?2")                                                   \
    X(ERASURE_LIST, "SELECT seq, tenant, store, name, attempts, mp_id FROM erasures ORDER BY attempts, seq LIMIT ?1")              \
    X(PING, "SELECT 1")                                                                                                            \
    /* the 16th key of one tag filter from a start point: how sparse that filter is there */                                       \
    X(TAG_PROBE, "SELECT key FROM object_tags WHERE tenant = ?1 AND k = ?2 AND v = ?3 AND key > ?4 AND key >= ?5 AND key < ?6 "    \
                 "ORDER BY key LIMIT 1 OFFSET 15")                                                                                 \
    /* writes */                                                                                                                   \
    X(OBJECT_VERSION, "SELECT version, id FROM objects WHERE tenant = ?1 AND key = ?2")                                            \
    X(UPLOAD_INSERT, "INSERT INTO uploads(tenant, id, key, cond, cond_version, version, size, content_type, sha256, tags, attrs, " \
                     "created_at, expires_at, subject, part_size, parts) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "    \
                     "?12, ?13, ?14, ?15, ?16)")                                                                                   \
    X(LOCATION_INSERT, "INSERT INTO locations(tenant, object_id, store, name, state, mp_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6)")       \
    X(LOCATIONS_PRESENT, "UPDATE locations SET state = 1, mp_id = NULL WHERE tenant = ?1 AND object_id = ?2")                      \
    X(LOCATIONS_TO_ERASE, "INSERT INTO erasures(tenant, store, name, reason, queued_at, mp_id) "                                   \
                          "SELECT tenant, store, name, ?3, ?4, mp_id FROM locations WHERE tenant = ?1 AND object_id = ?2")         \
    X(LOCATIONS_DELETE, "DELETE FROM locations WHERE tenant = ?1 AND object_id = ?2")                                              \
    X(UPLOAD_DELETE, "DELETE FROM uploads WHERE tenant = ?1 AND id = ?2")                                                          \
    X(OBJECT_INSERT, "INSERT INTO objects(tenant, key, id, version, size, content_type, sha256, tags, attrs, created_at, "         \
                     "updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")                                           \
    X(OBJECT_REPLACE, "UPDATE objects SET id = ?3, version = ?4, size = ?5, content_type = ?6, sha256 = ?7, tags = ?8, "           \
                      "attrs = ?9, updated_at = ?10 WHERE tenant = ?1 AND key = ?2")                                               \
    X(OBJECT_UPDATE_META, "UPDATE objects SET tags = ?4, attrs = ?5, version = version + 1, updated_at = ?6 "                      \
                          "WHERE tenant = ?1 AND key = ?2 AND version = ?3")                                                       \
    X(OBJECT_DELETE, "DELETE FROM objects WHERE tenant = ?1 AND key = ?2")                                                         \
    X(TAGS_DELETE, "DELETE FROM object_tags WHERE tenant = ?1 AND key = ?2")                                                       \
    X(TAG_INSERT, "INSERT INTO object_tags(tenant, key, k, v, tags) VALUES(?1, ?2, ?3, ?4, ?5)")                                   \
    X(STORE_EXISTS, "SELECT creds FROM stores WHERE id = ?1")                                                                      \
    X(STORE_UPSERT, "INSERT INTO stores(id, provider, endpoint, bucket, region, country, status, weight, path_style, "             \
                    "public_host, account, creds, created_at, updated_at) "                                                        \
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13) "                                         \
                    "ON CONFLICT(id) DO UPDATE SET provider = excluded.provider, endpoint = excluded.endpoint, "                   \
                    "bucket = excluded.bucket, region = excluded.region, country = excluded.country, status = excluded.status, "   \
                    "weight = excluded.weight, path_style = excluded.path_style, public_host = excluded.public_host, "             \
                    "account = excluded.account, creds = excluded.creds, updated_at = excluded.updated_at")                        \
    X(STORE_IN_USE, "SELECT 1 FROM locations WHERE store = ?1 UNION ALL SELECT 1 FROM erasures WHERE store = ?1 LIMIT 1")          \
    X(STORE_DELETE, "DELETE FROM stores WHERE id = ?1")                                                                            \
    X(TENANT_EXISTS, "SELECT 1 FROM tenants WHERE id = ?1")                                                                        \
    X(TENANT_UPSERT, "INSERT INTO tenants(id, jurisdictions, copies, url_expires, url_expires_max, created_at, updated_at, "       \
                     "audit_reads, audit_key) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8) ON CONFLICT(id) DO UPDATE SET "           \
                     "jurisdictions = excluded.jurisdictions, copies = excluded.copies, url_expires = excluded.url_expires, "      \
                     "url_expires_max = excluded.url_expires_max, audit_reads = excluded.audit_reads, "                            \
                     "audit_key = COALESCE(tenants.audit_key, excluded.audit_key), "                                               \
                     "updated_at = excluded.updated_at")                                                                           \
    X(KEY_INSERT, "INSERT INTO api_keys(key_id, tenant, secret_hash, scopes, created_at) VALUES(?1, ?2, ?3, ?4, ?5)")              \
    X(KEY_REVOKE, "UPDATE api_keys SET revoked_at = ?3 WHERE tenant = ?1 AND key_id = ?2 AND revoked_at IS NULL")                  \
    X(ERASURE_DELETE, "DELETE FROM erasures WHERE seq = ?1")                                                                       \
    X(ERASURE_FAILED, "UPDATE erasures SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1")                               \
    X(UPLOADS_EXPIRED, "SELECT tenant, id, subject FROM uploads WHERE expires_at < ?1 LIMIT 1000")                                 \
    X(UPLOAD_TOUCH, "UPDATE uploads SET expires_at = MAX(expires_at, ?3) WHERE tenant = ?1 AND id = ?2")                           \
    X(UPLOAD_SUBJECT, "SELECT subject FROM uploads WHERE tenant = ?1 AND id = ?2")                                                 \
    X(ERASURE_GET, "SELECT tenant, store, name FROM erasures WHERE seq = ?1")                                                      \
    X(AUDIT_HEAD_GET, "SELECT seq, hash FROM audit_heads WHERE tenant = ?1")                                                       \
    X(AUDIT_INSERT, "INSERT INTO audit_entries(tenant, seq, time, actor, action, subject, detail, prev_hash, hash) "               \
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")                                                                  \
    X(AUDIT_HEAD_PUT, "INSERT INTO audit_heads(tenant, seq, hash) VALUES(?1, ?2, ?3) "                                             \
                      "ON CONFLICT(tenant) DO UPDATE SET seq = excluded.seq, hash = excluded.hash")                                \
    X(AUDIT_HEADS, "SELECT tenant, seq, hash FROM audit_heads ORDER BY tenant")                                                    \
    X(AUDIT_LIST_ALL, "SELECT tenant, seq, time, actor, action, subject, detail, prev_hash, hash FROM audit_entries "              \
                      "WHERE (tenant, seq) > (?1, ?2) ORDER BY tenant, seq LIMIT ?3")                                              \
    X(AUDIT_LIST_ONE, "SELECT tenant, seq, time, actor, action, subject, detail, prev_hash, hash FROM audit_entries "              \
                      "WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")                                                      \
    X(CHECKPOINT_LIST, "SELECT seq, time, root, heads, signature FROM audit_checkpoints WHERE seq > ?1 ORDER BY seq LIMIT ?2")     \
    X(CHECKPOINT_INSERT, "INSERT INTO audit_checkpoints(seq, time, root, heads, signature) VALUES(?1, ?2, ?3, ?4, ?5)")            \
    X(TD_ERASE, "INSERT INTO erasures(tenant, store, name, reason, queued_at, mp_id) "                                             \
                "SELECT tenant, store, name, 'tenant deleted', ?2, mp_id FROM locations WHERE tenant = ?1")                        \
    X(TD_LOCATIONS, "DELETE FROM locations WHERE tenant = ?1")                                                                     \
    X(TD_TAGS, "DELETE FROM object_tags WHERE tenant = ?1")                                                                        \
    X(TD_OBJECTS, "DELETE FROM objects WHERE tenant = ?1")                                                                         \
    X(TD_UPLOADS, "DELETE FROM uploads WHERE tenant = ?1")                                                                         \
    X(TD_KEYS, "DELETE FROM api_keys WHERE tenant = ?1")                                                                           \
    X(TD_TENANT, "DELETE FROM tenants WHERE id = ?1")                                                                              \
    X(TX_BEGIN, "BEGIN IMMEDIATE")                                                                                                 \
    /* a read transaction spanning several statements (one snapshot, one page-cache refresh) */                                   \
    X(RD_BEGIN, "BEGIN DEFERRED")                                                                                                  \
    X(TX_COMMIT, "COMMIT")                                                                                                         \
    X(TX_ROLLBACK, "ROLLBACK")                                                                                                     \
    X(SP_BEGIN, "SAVEPOINT op")                                                                                                    \
    X(SP_RELEASE, "RELEASE op")                                                                                                    \
    X(SP_ROLLBACK, "ROLLBACK TO op")

typedef enum sq_stmt_id {
#define SQ_ENUM(name, sql) SQ_##name,
    SQ_STATEMENTS(SQ_ENUM)
#undef SQ_ENUM
        SQ_NSTMT
} sq_stmt_id_t;

/* Number of tag filters whose list statements are cached per connection. */
#define SQ_LIST_CACHED 8

/* A tag filter's probe from the start of a tenant's keys (sq_read.c, sparsest_tag), kept a
 * short while: which filter drives a search only decides its speed, never its answer. */
#define SQ_PROBE_SLOTS  256 /* per connection */
#define SQ_PROBE_WAYS   4   /* a tag hashes to a set of this many slots (with one slot, 48 of the
                             * benchmark's 107 tags shared theirs and evicted each other) */
#define SQ_PROBE_TTL_MS 2000
typedef struct sq_probe {
    uint64_t id;   /* hash of tenant, key and value; 0 = empty */
    int64_t at_ms; /* when it was probed (monotonic) */
    char *key;     /* the probe's answer: the 16th matching key, or NULL for fewer matches */
} sq_probe_t;

typedef struct sq_conn {
    db_conn_t base;
    sqlite3 *h;
    sqlite3_stmt *st[SQ_NSTMT];
    sqlite3_stmt *list_st[SQ_LIST_CACHED + 1]; /* by number of tag filters */
    bool share;                        /* reads share a snapshot (db_vt_t.conn_share) */
    bool snap;                         /* a shared read transaction is open... */
    uint64_t snap_commits;             /* ...begun when the writer had made this many commits */
    sq_probe_t probes[SQ_PROBE_SLOTS]; /* tag probes from the start of a tenant's keys (sq_read.c) */
    uint64_t probes_run;               /* probe statements stepped (tests) */
} sq_conn_t;

typedef struct sq_ckpt sq_ckpt_t;

typedef struct sq_db {
    db_t base;
    char *path;
    sq_conn_t *writer; /* used only on the writer thread */
    sq_ckpt_t *ckpt;   /* the checkpoint thread (sq_ckpt.c); NULL for read-only databases */
    _Atomic uint64_t commits; /* write batches committed (a shared snapshot older than one ends) */
} sq_db_t;

/* Starts checkpointing db's WAL on a thread of its own instead of inside the writer's commits. */
int sq_ckpt_start(sq_db_t *db, err_t *e);
/* Stops that thread (a no-op if none runs). Call before closing the writer connection. */
void sq_ckpt_stop(sq_db_t *db);
/* Checkpoints run, how many of them started the WAL over, the WAL's pages at the last commit
 * and how many of those the checkpoints have copied back (all 0 without a checkpoint thread). */
void sq_ckpt_stats(sq_db_t *db, uint64_t *runs, uint64_t *restarts, int *wal_pages, int *copied);
/* On the writer thread, before a write transaction: if a WAL restart is waiting for the write
 * lock, waits until it is done (or has given up: at most ~40 ms). */
void sq_ckpt_yield(sq_db_t *db);
/* Sets the pages not yet copied back that start a checkpoint, and the WAL length, wholly copied
 * back, that starts it over (tests: the defaults take tens of megabytes to reach). */
void sq_ckpt_limits(sq_db_t *db, int ckpt_pages, int restart_pages);

extern const db_vt_t sq_vt;

/* "loci-map" (sq_vfs.c): the VFS of the read connections, SQLite's unix VFS except that a
 * reader keeps its memory map of the database file from one read transaction to the next.
 * Registered once; returns SQLITE_OK or why not (then readers use the default VFS, unmapped). */
#define SQ_MAP_VFS       "loci-map"
#define SQ_MAP_SIZE      "2147418112" /* mmap_size of a reader: the largest Debian's SQLite allows */
#define SQ_CHUNK         (4 << 20) /* the database file grows by this much at a time */
int sq_map_vfs_register(void);
/* How often, process-wide, a reader kept its map over a change, and redid it after growth. */
void sq_map_stats(uint64_t *kept, uint64_t *redone);

#define SQ_BUSY_MS 10000 /* how long a connection waits for a lock (sqlite3_busy_timeout) */

/* Opens a connection to path; readonly connections set query_only and read through loci-map. */
int sq_conn_connect(sq_db_t *db, bool readonly, sq_conn_t **out, err_t *e);
void sq_conn_free(sq_conn_t *c);
/* Returns the prepared statement id on c (preparing it on first use), reset and unbound. */
sqlite3_stmt *sq_stmt(sq_conn_t *c, sq_stmt_id_t id);
/* Runs a statement without results (BEGIN, COMMIT, SAVEPOINT, ...) on c; returns SQLITE_OK or
 * the SQLite error code. */
int sq_control(sq_conn_t *c, sq_stmt_id_t id);
/* Called by every read before its first statement: on a sharing connection, keeps the open
 * read transaction if no write committed since it began, else begins one (conn_share). */
void sq_snapshot(sq_conn_t *c);
/* Maps an SQLite result code to a loci error, with a message naming what failed. */
int sq_error(sq_conn_t *c, int rc, const char *what, err_t *e);
/* Copies column i as an arena string (NULL stays NULL). */
const char *sq_text(sqlite3_stmt *s, int i, arena_t *a);

/* Bind helpers; text is bound as SQLITE_STATIC (it must outlive the step). */
void sq_bind_text(sqlite3_stmt *s, int i, const char *v);

int sq_read_key_get(db_conn_t *c, const char *key_id, db_key_t *out, arena_t *a, err_t *e);
int sq_read_key_list(db_conn_t *c, const char *tenant, db_key_t **out, size_t *n, arena_t *a, err_t *e);
int sq_read_tenant_get(db_conn_t *c, const char *id, tenant_t *out, arena_t *a, err_t *e);
int sq_read_tenant_list(db_conn_t *c, tenant_t **out, size_t *n, arena_t *a, err_t *e);
int sq_read_store_list(db_conn_t *c, db_store_row_t **out, size_t *n, arena_t *a, err_t *e);
int sq_read_object_get(db_conn_t *c, const char *tenant, const char *key, object_t *out, arena_t *a, err_t *e);
int sq_read_upload_get(db_conn_t *c, const char *tenant, const char *upload_id, upload_t *out, arena_t *a, err_t *e);
int sq_read_object_list(db_conn_t *c, const char *tenant, const obj_query_t *q, int limit, object_t **out, size_t *n, arena_t *a,
                        err_t *e);
int sq_read_erasure_list(db_conn_t *c, size_t max, db_erasure_t **out, size_t *n, arena_t *a, err_t *e);
int sq_read_audit_heads(db_conn_t *c, audit_head_t **out, size_t *n, arena_t *a, err_t *e);
int sq_read_audit_list(db_conn_t *c, const char *only_tenant, const char *after_tenant, int64_t after_seq, size_t limit,
                       audit_entry_t **out, size_t *n, arena_t *a, err_t *e);
int sq_read_checkpoint_list(db_conn_t *c, int64_t after, size_t limit, db_checkpoint_t **out, size_t *n, arena_t *a, err_t *e);
int sq_read_locations(sq_conn_t *c, const char *tenant, const char *object_id, object_t *o, arena_t *a, err_t *e);
int sq_write_batch(db_t *db, db_write_t *const *ops, size_t n);

#endif
