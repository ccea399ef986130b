/*
 * pg.h - internals of the PostgreSQL backend (private to src/db/pg/).
 *
 * A pg_link_t is one libpq connection whose every call is bounded in time: connecting
 * (PQconnectStartParams + PQconnectPoll) and each round trip (PQsend* in non-blocking mode,
 * then poll() on the socket until a deadline). A lost or timed-out connection is closed and
 * opened again on its next use, at most once per backoff interval, so a stopped PostgreSQL
 * gives ERR_UNAVAILABLE at once instead of a hang. Statements are prepared once per connection.
 *
 * Threads: every read connection (pg_conn_t) belongs to one thread at a time (a database
 * reader thread of the server's reader pool, the maintenance thread, ...); the writer thread
 * owns the writer link. Loop threads never call into this backend (db_vt_t.reads_inline is false).
 */
#ifndef LOCI_DB_PG_PG_H
#define LOCI_DB_PG_PG_H

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "db/db.h"
#include "util/buf.h"

/* X(name, sql): statements prepared on first use on each connection. */
#define PG_STATEMENTS(X)                                                                                                           \
    X(PING, "SELECT 1")                                                                                                            \
    X(KEY_GET, "SELECT tenant, secret_hash, scopes, created_at, COALESCE(revoked_at, 0) FROM api_keys WHERE key_id = $1")          \
    X(KEY_LIST, "SELECT key_id, secret_hash, scopes, created_at, COALESCE(revoked_at, 0) FROM api_keys WHERE tenant = $1 "         \
                "ORDER BY key_id")                                                                                                 \
    X(TENANT_GET, "SELECT id, jurisdictions, copies, url_expires, url_expires_max, created_at, updated_at, audit_reads, "          \
                  "audit_key FROM tenants WHERE id = $1")                                                                          \
    X(TENANT_LIST, "SELECT id, jurisdictions, copies, url_expires, url_expires_max, created_at, updated_at, audit_reads, "         \
                   "audit_key FROM tenants ORDER BY id")                                                                           \
    X(STORE_LIST, "SELECT id, provider, endpoint, bucket, region, country, status, weight, path_style, public_host, account, "     \
                  "creds, created_at, updated_at FROM stores ORDER BY id")                                                         \
    X(OBJECT_GET, "SELECT o.id, o.version, o.size, o.content_type, o.sha256, o.tags, o.attrs, o.created_at, o.updated_at, "        \
                  "l.store, l.name, l.state, l.mp_id FROM objects o LEFT JOIN locations l ON l.tenant = o.tenant "                 \
                  "AND l.object_id = o.id WHERE o.tenant = $1 AND o.key = $2 ORDER BY l.store")                                    \
    /* many lookups in one statement: $1 tenants, $2 keys; rows say which lookup (1-based) they answer */                          \
    X(OBJECT_GET_MANY, "SELECT x.i, o.id, o.version, o.size, o.content_type, o.sha256, o.tags, o.attrs, o.created_at, "            \
                       "o.updated_at, l.store, l.name, l.state, l.mp_id "                                                          \
                       "FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(tenant, key, i) "                                 \
                       "JOIN objects o ON o.tenant = x.tenant AND o.key = x.key "                                                  \
                       "LEFT JOIN locations l ON l.tenant = o.tenant AND l.object_id = o.id ORDER BY x.i, l.store")                \
    X(UPLOAD_GET, "SELECT u.key, u.cond, u.cond_version, u.version, u.size, u.content_type, u.sha256, u.tags, u.attrs, "           \
                  "u.created_at, u.expires_at, u.part_size, u.parts, u.subject, l.store, l.name, l.state, l.mp_id "                \
                  "FROM uploads u LEFT JOIN locations l ON l.tenant = u.tenant AND l.object_id = u.id "                            \
                  "WHERE u.tenant = $1 AND u.id = $2 ORDER BY l.store")                                                            \
    X(UPLOAD_LOCK, "SELECT u.key, u.cond, u.cond_version, u.version, u.size, u.content_type, u.sha256, u.tags, u.attrs, "          \
                   "u.created_at, u.expires_at, u.part_size, u.parts, u.subject, l.store, l.name, l.state, l.mp_id "               \
                   "FROM uploads u LEFT JOIN locations l ON l.tenant = u.tenant AND l.object_id = u.id "                           \
                   "WHERE u.tenant = $1 AND u.id = $2 ORDER BY l.store FOR UPDATE OF u")                                           \
    X(LOCATIONS_GET, "SELECT store, name, state, mp_id FROM locations WHERE tenant = $1 AND object_id = $2 ORDER BY store")        \
    /* the erasure queue: claim up to $3 entries for $2 ms (a lease), skipping what another server holds */                        \
    X(ERASURE_CLAIM,                                                                                                               \
      "UPDATE erasures SET lease_until = $1::bigint + $2::bigint WHERE seq IN (SELECT seq FROM erasures WHERE lease_until <= $1 "  \
      "ORDER BY attempts, seq LIMIT $3 FOR UPDATE SKIP LOCKED) "                                                                   \
      "RETURNING seq, tenant, store, name, attempts, mp_id")                                                                       \
    X(AUDIT_HEADS, "SELECT tenant, seq, hash FROM audit_heads WHERE seq > 0 ORDER BY tenant")                                      \
    X(AUDIT_LIST_ALL, "SELECT tenant, seq, time, actor, action, subject, detail, prev_hash, hash FROM audit_entries "              \
                      "WHERE (tenant, seq) > ($1, $2) ORDER BY tenant, seq LIMIT $3")                                              \
    X(AUDIT_LIST_ONE, "SELECT tenant, seq, time, actor, action, subject, detail, prev_hash, hash FROM audit_entries "              \
                      "WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3")                                                      \
    X(CHECKPOINT_LIST, "SELECT seq, time, root, heads, signature FROM audit_checkpoints WHERE seq > $1 ORDER BY seq LIMIT $2")     \
    /* writes */                                                                                                                   \
    X(TX_BEGIN, "BEGIN ISOLATION LEVEL READ COMMITTED")                                                                            \
    X(TX_COMMIT, "COMMIT")                                                                                                         \
    X(TX_ROLLBACK, "ROLLBACK")                                                                                                     \
    X(SP_BEGIN, "SAVEPOINT op")                                                                                                    \
    X(SP_RELEASE, "RELEASE SAVEPOINT op")                                                                                          \
    X(SP_ROLLBACK, "ROLLBACK TO SAVEPOINT op")                                                                                     \
    /* chain heads: make sure each exists (seq 0 = no entry yet), lock them in tenant order, read them */                          \
    X(HEADS_LOCK, "INSERT INTO audit_heads(tenant, seq, hash) SELECT t, 0, '\\x'::bytea FROM unnest($1::text[]) AS t "             \
                  "ORDER BY t COLLATE \"C\" ON CONFLICT (tenant) DO UPDATE SET seq = audit_heads.seq "                             \
                  "RETURNING tenant, seq, hash")                                                                                   \
    X(AUDIT_INSERT, "INSERT INTO audit_entries(tenant, seq, time, actor, action, subject, detail, prev_hash, hash) "               \
                    "SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], "            \
                    "$7::text[], $8::bytea[], $9::bytea[])")                                                                       \
    /* the batch's end: chain heads move, heads it made for chains that got no entry go ($6: a refused op leaves no row), and a    \
     * marker tells a writer whose COMMIT was cut off what happened */                                                             \
    X(BATCH_END, "WITH m AS (INSERT INTO loci_commits(id, at) VALUES($4, $5)), "                                                   \
                 "d AS (DELETE FROM audit_heads WHERE tenant = ANY($6::text[]) AND seq = 0) UPDATE audit_heads h SET seq = "       \
                 "x.seq, hash = x.hash "                                                                                           \
                 "FROM unnest($1::text[], $2::bigint[], $3::bytea[]) AS x(tenant, seq, hash) WHERE h.tenant = x.tenant")           \
    X(COMMIT_KNOWN, "SELECT 1 FROM loci_commits WHERE id = $1")                                                                    \
    X(COMMITS_TRIM, "DELETE FROM loci_commits WHERE at < $1")                                                                      \
    X(WAL_LSN, "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")                                                            \
    X(OBJECT_VERSION, "SELECT version, id, created_at FROM objects WHERE tenant = $1 AND key = $2")                                \
    X(OBJECT_LOCK, "SELECT version, id, created_at FROM objects WHERE tenant = $1 AND key = $2 FOR UPDATE")                        \
    /* OBJECT_LOCK of the key upload $2 is for, sent with UPLOAD_LOCK (which locked the upload first) */                        \
    X(OBJECT_LOCK_OF_UPLOAD, "SELECT version, id, created_at FROM objects WHERE tenant = $1 AND key = "                             \
                             "(SELECT key FROM uploads WHERE tenant = $1 AND id = $2) FOR UPDATE")                                 \
    X(UPLOAD_BEGIN, "WITH u AS (INSERT INTO uploads(tenant, id, key, cond, cond_version, version, size, content_type, sha256, "    \
                    "tags, attrs, created_at, expires_at, subject, part_size, parts) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, "  \
                    "$10, $11, $12, $13, $14, $15, $16)) INSERT INTO locations(tenant, object_id, store, name, state, mp_id) "     \
                    "SELECT $1::text, $2::text, s, n, 0, m FROM unnest($17::text[], $18::text[], $19::text[]) AS x(s, n, m)")      \
    X(ERASE_LOCATIONS, "WITH d AS (DELETE FROM locations WHERE tenant = $1 AND object_id = $2 RETURNING tenant, store, name, "     \
                       "mp_id) INSERT INTO erasures(tenant, store, name, reason, queued_at, mp_id) "                               \
                       "SELECT tenant, store, name, $3::text, $4::bigint, mp_id FROM d")                                           \
    X(OBJECT_INSERT, "INSERT INTO objects(tenant, key, id, version, size, content_type, sha256, tags, attrs, created_at, "         \
                     "updated_at) VALUES($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $9)")                                              \
    X(OBJECT_REPLACE, "UPDATE objects SET id = $3, version = $4, size = $5, content_type = $6, sha256 = $7, tags = $8, "           \
                      "attrs = $9, updated_at = $10 WHERE tenant = $1 AND key = $2")                                               \
    X(OBJECT_UPDATE_META, "UPDATE objects SET tags = $4, attrs = $5, version = version + 1, updated_at = $6 "                      \
                          "WHERE tenant = $1 AND key = $2 AND version = $3 "                                                       \
                          "RETURNING id, version, size, content_type, sha256, tags, attrs, created_at, updated_at")                \
    X(OBJECT_DELETE, "WITH t AS (DELETE FROM object_tags WHERE tenant = $1 AND key = $2) "                                         \
                     "DELETE FROM objects WHERE tenant = $1 AND key = $2")                                                         \
    X(TAGS_DELETE, "DELETE FROM object_tags WHERE tenant = $1 AND key = $2")                                                       \
    X(TAGS_INSERT, "INSERT INTO object_tags(tenant, key, k, v, tags) SELECT $1::text, $2::text, k, v, $5::text "                   \
                   "FROM unnest($3::text[], $4::text[]) AS x(k, v)")                                                               \
    X(UPLOAD_FINISH, "WITH p AS (UPDATE locations SET state = 1, mp_id = NULL WHERE tenant = $1 AND object_id = $2) "              \
                     "DELETE FROM uploads WHERE tenant = $1 AND id = $2")                                                          \
    X(UPLOAD_DELETE, "DELETE FROM uploads WHERE tenant = $1 AND id = $2 RETURNING subject")                                        \
    X(STORE_INSERT, "INSERT INTO stores(id, provider, endpoint, bucket, region, country, status, weight, path_style, "             \
                    "public_host, account, creds, created_at, updated_at) "                                                        \
                    "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) ON CONFLICT (id) DO NOTHING")             \
    X(STORE_UPDATE, "UPDATE stores SET provider = $2, endpoint = $3, bucket = $4, region = $5, country = $6, status = $7, "        \
                    "weight = $8, path_style = $9, public_host = $10, account = $11, "                                             \
                    "creds = CASE WHEN $14::boolean THEN creds ELSE $12 END, updated_at = $13 WHERE id = $1")                      \
    X(STORE_IN_USE, "SELECT 1 FROM locations WHERE store = $1 UNION ALL SELECT 1 FROM erasures WHERE store = $1 LIMIT 1")          \
    X(STORE_DELETE, "DELETE FROM stores WHERE id = $1")                                                                            \
    X(TENANT_SHARE, "SELECT 1 FROM tenants WHERE id = $1 FOR SHARE")                                                               \
    X(TENANT_LOCK, "SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE")                                                               \
    X(TENANT_INSERT, "INSERT INTO tenants(id, jurisdictions, copies, url_expires, url_expires_max, created_at, updated_at, "       \
                     "audit_reads, audit_key) VALUES($1, $2, $3, $4, $5, $6, $6, $7, $8) ON CONFLICT (id) DO NOTHING")             \
    X(TENANT_UPDATE, "UPDATE tenants SET jurisdictions = $2, copies = $3, url_expires = $4, url_expires_max = $5, "                \
                     "updated_at = $6, audit_reads = $7, audit_key = COALESCE(audit_key, $8) WHERE id = $1")                       \
    X(KEY_INSERT, "INSERT INTO api_keys(key_id, tenant, secret_hash, scopes, created_at) VALUES($1, $2, $3, $4, $5)")              \
    X(KEY_REVOKE, "UPDATE api_keys SET revoked_at = $3 WHERE tenant = $1 AND key_id = $2 AND revoked_at IS NULL")                  \
    X(ERASURE_DONE, "DELETE FROM erasures WHERE seq = $1 RETURNING tenant, store, name")                                           \
    X(ERASURE_FAILED, "UPDATE erasures SET attempts = attempts + 1, last_error = $2, lease_until = 0 WHERE seq = $1")              \
    X(UPLOADS_EXPIRED, "SELECT tenant, id FROM uploads WHERE expires_at < $1 LIMIT 1000 FOR UPDATE SKIP LOCKED")                   \
    X(UPLOAD_TOUCH, "UPDATE uploads SET expires_at = GREATEST(expires_at, $3) WHERE tenant = $1 AND id = $2")                      \
    X(CHECKPOINT_INSERT, "INSERT INTO audit_checkpoints(seq, time, root, heads, signature) VALUES($1, $2, $3, $4, $5) "            \
                         "ON CONFLICT (seq) DO NOTHING")                                                                           \
    X(TD_ERASE, "INSERT INTO erasures(tenant, store, name, reason, queued_at, mp_id) "                                             \
                "SELECT tenant, store, name, 'tenant deleted', $2::bigint, mp_id FROM locations WHERE tenant = $1")                \
    X(TD_LOCATIONS, "DELETE FROM locations WHERE tenant = $1")                                                                     \
    X(TD_TAGS, "DELETE FROM object_tags WHERE tenant = $1")                                                                        \
    X(TD_OBJECTS, "DELETE FROM objects WHERE tenant = $1")                                                                         \
    X(TD_UPLOADS, "DELETE FROM uploads WHERE tenant = $1")                                                                         \
    X(TD_KEYS, "DELETE FROM api_keys WHERE tenant = $1")                                                                           \
    X(TD_TENANT, "DELETE FROM tenants WHERE id = $1")                                                                              \
    X(IMPORT_OBJECTS, "INSERT INTO objects(tenant, key, id, version, size, content_type, sha256, tags, attrs, created_at, "        \
                      "updated_at) SELECT $1::text, k, i, 1, s, c, h, t, a, $2::bigint, $2::bigint FROM unnest($3::text[], "       \
                      "$4::text[], $5::bigint[], "                                                                                 \
                      "$6::text[], $7::text[], $8::text[], $9::text[]) AS x(k, i, s, c, h, t, a) "                                 \
                      "ON CONFLICT (tenant, key) DO NOTHING RETURNING key")                                                        \
    X(IMPORT_TAGS, "INSERT INTO object_tags(tenant, key, k, v, tags) SELECT $1::text, key, k, v, t FROM unnest($2::text[], "       \
                   "$3::text[], $4::text[], $5::text[]) AS x(key, k, v, t)")                                                       \
    X(IMPORT_LOCATIONS,                                                                                                            \
      "INSERT INTO locations(tenant, object_id, store, name, state, mp_id) SELECT $1::text, i, s, n, 1, NULL::text "               \
      "FROM unnest($2::text[], $3::text[], $4::text[]) AS x(i, s, n)")

typedef enum pg_stmt_id {
#define PG_ENUM(name, sql) PG_##name,
    PG_STATEMENTS(PG_ENUM)
#undef PG_ENUM
        PG_NSTMT
} pg_stmt_id_t;

/* List statements (by number of tag filters, upper bound or not, inclusive lower bound or not)
 * are prepared too, up to this many tag filters; more are sent unprepared (and a search with
 * more filters picks its driving filter with a round trip of its own first). */
#define PG_LIST_CACHED 8
#define PG_LIST_NSTMT  ((PG_LIST_CACHED + 1) * 4)

/* Most parameters one statement takes (list queries with many tag filters). */
#define PG_MAX_PARAMS 128

/* Parameters of one call: text (format 0) or binary bytes (format 1). */
typedef struct pg_params {
    int n;
    const char *v[PG_MAX_PARAMS];
    int len[PG_MAX_PARAMS];
    int fmt[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][24]; /* text of integer parameters */
} pg_params_t;

void pg_params_init(pg_params_t *p);
void pg_param_text(pg_params_t *p, const char *v); /* NULL is SQL NULL */
void pg_param_i64(pg_params_t *p, int64_t v);
void pg_param_bool(pg_params_t *p, bool v);
void pg_param_bytes(pg_params_t *p, const void *v, size_t n); /* NULL is SQL NULL */
/* A buffer's contents as a text parameter (the buffer must outlive the call). */
void pg_param_buf(pg_params_t *p, const buf_t *b);

/* Array literals for unnest() parameters: call pg_array_begin, add elements, pg_array_end. */
void pg_array_begin(buf_t *b);
void pg_array_text(buf_t *b, const char *v); /* NULL is a NULL element */
void pg_array_i64(buf_t *b, int64_t v);
void pg_array_bytes(buf_t *b, const uint8_t *v, size_t n);
void pg_array_end(buf_t *b);

typedef struct pg_link {
    PGconn *pg;
    const char *url;   /* conninfo, borrowed */
    int timeout_ms;    /* bound on connecting and on every round trip */
    bool in_tx;        /* between BEGIN and COMMIT/ROLLBACK: a lost connection is not retried */
    int64_t retry_at;  /* monotonic ms: no connection attempt before this after a failure... */
    int64_t failed_at; /* ...unless another link connected since this one failed (pg_link.c) */
    int backoff_ms;
    uint8_t prepared[PG_NSTMT + PG_LIST_NSTMT];
    char sqlstate[6]; /* of the last failed statement ("" for a lost connection) */
    bool lost;        /* the last failure lost the connection */
} pg_link_t;

/* Sets up a link (no connection yet: it opens on first use). */
void pg_link_init(pg_link_t *l, const char *url, int timeout_ms);
void pg_link_close(pg_link_t *l);
/* Connects now if not connected. Returns 0 or ERR_UNAVAILABLE. */
int pg_link_connect(pg_link_t *l, err_t *e);

/*
 * Runs a prepared statement (0 <= id < PG_NSTMT + PG_LIST_NSTMT; sql is its text, needed the
 * first time on a connection), or with id -1 sql unprepared, with binary results. Returns the result (PQclear it) with status
 * TUPLES_OK or COMMAND_OK, or NULL with e set: ERR_UNAVAILABLE when the database cannot be
 * reached, timed out or the connection was lost (l->lost), ERR_CONFLICT for a unique
 * violation, ERR_BAD_REQUEST for data PostgreSQL refuses, ERR_INTERNAL otherwise; l->sqlstate
 * says which. Outside a transaction a connection found dead is reopened and the call sent again.
 */
PGresult *pg_exec(pg_link_t *l, int id, const char *sql, const pg_params_t *p, const char *what, err_t *e);
/* pg_exec of one of PG_STATEMENTS. */
PGresult *pg_stmt(pg_link_t *l, pg_stmt_id_t id, const pg_params_t *p, const char *what, err_t *e);
/*
 * Runs n of PG_STATEMENTS in one round trip (libpq's pipeline mode, one sync): ps[i] are the
 * parameters of ids[i] (NULL: none), what[i] names it in errors (a lost connection is named
 * after the last). Inside a transaction, a statement that fails makes the
 * server skip the ones after it, and the transaction is then aborted as with pg_stmt. Returns
 * 0 with every result in out[] (PQclear each), or the error of the first statement that failed
 * (*failed is its index, 0 when a statement could not be prepared and nothing ran, or n when the
 * connection broke or timed out: l->lost), out[] all NULL.
 * Like pg_exec, a connection found dead outside a transaction is reopened and the whole
 * pipeline sent again once; the deadline (timeout_ms) covers the whole call.
 */
int pg_pipeline(pg_link_t *l, size_t n, const pg_stmt_id_t *ids, const pg_params_t *const *ps, PGresult **out,
                const char *const *what, size_t *failed, err_t *e);
/* Runs SQL text without parameters through the simple query protocol (several statements
 * allowed: schema changes, session settings). Returns 0 or an error. */
int pg_simple(pg_link_t *l, const char *sql, const char *what, err_t *e);
/* True if l->sqlstate is a serialization failure or a deadlock (the transaction may be retried). */
bool pg_retryable(const pg_link_t *l);

/* Result accessors (binary format). Text and bytes are copied into a; NULL stays NULL. */
bool pg_null(const PGresult *r, int row, int col);
int64_t pg_i64(const PGresult *r, int row, int col);
const char *pg_text(const PGresult *r, int row, int col, arena_t *a);
/* Copies a bytea of exactly n bytes into out (zeros otherwise). */
void pg_fixed(const PGresult *r, int row, int col, uint8_t *out, size_t n);
/* A bytea copied into a (NULL with *n = 0 if NULL or empty). */
const uint8_t *pg_bytes(const PGresult *r, int row, int col, size_t *n, arena_t *a);
/* Rows a command changed. */
int64_t pg_changes(PGresult *r);

/* Monotonic milliseconds. */
int64_t pg_mono_ms(void);

/* --- replicas (pg_replica.c) --- */

typedef struct pg_replicas pg_replicas_t;

/* Starts watching the replicas (their replay position against the primary's). */
int pg_replicas_start(const char *primary, const char *const *urls, size_t n, int max_lag_ms, int timeout_ms, pg_replicas_t **out,
                      err_t *e);
void pg_replicas_stop(pg_replicas_t *r);
/* Records that tenant's latest committed write is at WAL position lsn (writer thread). */
void pg_replicas_wrote(pg_replicas_t *r, const char *tenant, uint64_t lsn);
/* A replica (index) that has replayed every write of tenant this server made and is at most
 * max_lag behind the primary, or -1 for the primary. */
int pg_replicas_pick(pg_replicas_t *r, const char *tenant);
size_t pg_replicas_count(const pg_replicas_t *r);
const char *pg_replicas_url(const pg_replicas_t *r, size_t i);

/* --- the backend --- */

typedef struct pg_conn {
    db_conn_t base;
    pg_link_t link;
    pg_link_t *replicas; /* one per configured replica, opened on first use */
    size_t nreplicas;
} pg_conn_t;

typedef struct pg_db {
    db_t base;
    char *url;
    int timeout_ms;
    pg_link_t writer; /* the writer thread's */
    uint64_t batches; /* committed (for trimming loci_commits now and then) */
    pg_replicas_t *replicas;
} pg_db_t;

extern const db_vt_t pg_vt;

int pg_read_key_get(db_conn_t *c, const char *key_id, db_key_t *out, arena_t *a, err_t *e);
int pg_read_key_list(db_conn_t *c, const char *tenant, db_key_t **out, size_t *n, arena_t *a, err_t *e);
int pg_read_tenant_get(db_conn_t *c, const char *id, tenant_t *out, arena_t *a, err_t *e);
int pg_read_tenant_list(db_conn_t *c, tenant_t **out, size_t *n, arena_t *a, err_t *e);
int pg_read_store_list(db_conn_t *c, db_store_row_t **out, size_t *n, arena_t *a, err_t *e);
int pg_read_object_get(db_conn_t *c, const char *tenant, const char *key, object_t *out, arena_t *a, err_t *e);
void pg_read_object_get_many(db_conn_t *c, db_object_get_t *gets, size_t n);
int pg_read_upload_get(db_conn_t *c, const char *tenant, const char *upload_id, upload_t *out, arena_t *a, err_t *e);
int pg_read_object_list(db_conn_t *c, const char *tenant, const obj_query_t *q, int limit, object_t **out, size_t *n, arena_t *a,
                        err_t *e);
int pg_read_erasure_list(db_conn_t *c, size_t max, db_erasure_t **out, size_t *n, arena_t *a, err_t *e);
int pg_read_audit_heads(db_conn_t *c, audit_head_t **out, size_t *n, arena_t *a, err_t *e);
int pg_read_audit_list(db_conn_t *c, const char *only_tenant, const char *after_tenant, int64_t after_seq, size_t limit,
                       audit_entry_t **out, size_t *n, arena_t *a, err_t *e);
int pg_read_checkpoint_list(db_conn_t *c, int64_t after, size_t limit, db_checkpoint_t **out, size_t *n, arena_t *a, err_t *e);

/* Rows of an UPLOAD_GET/UPLOAD_LOCK result as an upload (with its locations). */
void pg_upload_from(const PGresult *r, const char *tenant, const char *upload_id, upload_t *out, arena_t *a);
/* Fills o's locations from rows of r whose columns first..first+3 are store, name, state, mp_id
 * (rows with a NULL store are skipped: an object without locations). */
void pg_locations_from(const PGresult *r, int first, object_t *o, arena_t *a);

/* --- the writer (pg_batch.c: transactions and audit chains; pg_ops.c: the operations) --- */

/* A chain head as a batch holds it: locked (SELECT ... FOR UPDATE semantics) until COMMIT. */
typedef struct pg_head {
    const char *tenant;
    int64_t seq; /* 0: the chain has no entry yet */
    uint8_t hash[AUDIT_HASH_LEN];
    bool dirty; /* moved in this batch: written back before COMMIT */
} pg_head_t;

/* One attempt at a batch: its link, the chain heads it holds, and entries not yet inserted. */
typedef struct pg_batch {
    pg_db_t *db;
    pg_link_t *l;
    arena_t arena; /* heads' tenants */
    pg_head_t *heads;
    size_t nheads, capheads;
    arena_t ents_arena; /* strings of ents */
    audit_entry_t *ents;
    size_t nents, capents;
    int fatal; /* a statement failed: this attempt's transaction is lost */
    err_t fatal_err;
    /* statements put off (pg_batch_later): sent ahead of the batch's next round trip */
    struct pg_later *later;
    size_t nlater, caplater;
    arena_t later_arena; /* their parameters */
    size_t op;           /* index of the op running: the owner of what it puts off */
    bool fatal_later;    /* the statement that failed was put off, by op fatal_op */
    size_t fatal_op;
    pg_stmt_id_t fatal_stmt; /* (which statement) */
} pg_batch_t;

/* Runs a statement in the batch's transaction (with the statements put off before it, in one
 * round trip); NULL (with b->fatal set) on failure. */
PGresult *pg_batch_stmt(pg_batch_t *b, pg_stmt_id_t id, const pg_params_t *p, const char *what);
/* Puts off a statement whose result the op does not need (its parameters are copied): it is
 * sent, in order, ahead of the batch's next statement or with its COMMIT, so it costs no round
 * trip of its own. A put-off statement that fails fails its op alone, as pg_batch_stmt's would
 * (b->fatal_later and b->fatal_op say which op). Returns 0 or b->fatal. */
int pg_batch_later(pg_batch_t *b, pg_stmt_id_t id, const pg_params_t *p, const char *what);
/* Sends the statements put off so far. Returns 0 or b->fatal. */
int pg_batch_sync(pg_batch_t *b);
/* Runs k statements (after those put off) in one round trip: 0 with each result in out[] (PQclear
 * them), or b->fatal. */
int pg_batch_stmts(pg_batch_t *b, size_t k, const pg_stmt_id_t *ids, const pg_params_t *const *ps, const char *const *what,
                   PGresult **out);
/* Appends an entry to its chain (locking the chain's head if the batch does not hold it yet).
 * The entry is inserted with the others before COMMIT. Counts it in w->audit_entries (w may be
 * NULL). Returns 0 or b->fatal. */
int pg_batch_audit(pg_batch_t *b, db_write_t *w, const db_audit_input_t *in);
/* Inserts the entries appended so far. Returns 0 or b->fatal. */
int pg_batch_flush(pg_batch_t *b);

typedef int (*pg_op_fn)(pg_batch_t *b, db_write_t *w);
/* The function applying op, or NULL. *savepoint tells whether it may refuse after writing
 * (so it runs inside a savepoint); every other op refuses before its first change. */
pg_op_fn pg_op(db_op_t op, bool *savepoint);
/* The chains w will append to that are known before it runs (at most max); the batch locks
 * their heads up front, in one order, so writers on several servers never deadlock on them. */
size_t pg_op_chains(const db_write_t *w, const char **out, size_t max);

int pg_write_batch(db_t *db, db_write_t *const *ops, size_t n);

#endif
