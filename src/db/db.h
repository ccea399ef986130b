/*
 * db.h - the metadata-store interface. Core and HTTP code use only this header; nothing
 * backend-specific (sqlite3.h, libpq-fe.h) leaks past src/db/.
 *
 * A backend is a const table of functions (db_vt_t) plus an instance whose first member is
 * the base (db_t). It provides:
 *   - read connections (db_conn_t), one per loop thread, for locate/list/auth lookups;
 *   - write_batch(), called only by the writer thread (db/writer.h): it applies a batch of
 *     write operations in ONE transaction, each op isolated by a savepoint so one failing op
 *     does not undo the others, and commits durably (group commit). An op's result is valid
 *     only if write_batch returned 0 (the commit succeeded).
 * Writes are data (db_write_t), not callbacks into SQL, so each backend implements the same
 * operations with its own SQL, and batching needs no cooperation from callers.
 *
 * Every tenant-owned row is keyed by tenant first and every request-path query names the
 * tenant (DESIGN.md "Scaling out"). API keys are looked up by key id (a directory keyed by
 * key id, which a distributed database shards by that id).
 */
#ifndef LOCI_DB_DB_H
#define LOCI_DB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/audit.h"
#include "core/object.h"
#include "core/store.h"
#include "core/tenant.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct db db_t;
typedef struct db_conn db_conn_t;
typedef struct db_write db_write_t;

/* An API key row. */
typedef struct db_key {
    const char *key_id;
    const char *tenant;
    uint8_t secret_hash[32];
    int scopes;
    int64_t created_at;
    int64_t revoked_at; /* 0 if active */
} db_key_t;

/* A store row as kept: the store plus its sealed (encrypted) credentials. */
typedef struct db_store_row {
    store_t store;         /* creds/ncreds unset */
    const uint8_t *sealed; /* AES-GCM output of util/crypto.h aead_seal, or NULL */
    size_t sealed_len;
} db_store_row_t;

/* A queued erasure: a stored copy loci must delete. */
typedef struct db_erasure {
    int64_t seq;
    const char *tenant;
    const char *store;
    const char *name;
    int attempts;
    const char *mp_id; /* an unfinished multipart upload to abort at the store, or NULL */
} db_erasure_t;

typedef enum db_op {
    DB_OP_UPLOAD_BEGIN = 1, /* insert an upload + pending locations; checks its condition */
    DB_OP_UPLOAD_COMPLETE,  /* commit an upload into the object; queue replaced copies */
    DB_OP_UPLOAD_ABORT,     /* drop an upload; queue its copies */
    DB_OP_OBJECT_UPDATE,    /* replace tags/attrs if the version still matches */
    DB_OP_OBJECT_DELETE,    /* delete an object; queue its copies */
    DB_OP_STORE_PUT,        /* insert or replace a store */
    DB_OP_STORE_DELETE,     /* delete an unused store */
    DB_OP_TENANT_PUT,       /* insert or replace a tenant */
    DB_OP_KEY_CREATE,       /* insert an API key for an existing tenant */
    DB_OP_KEY_REVOKE,       /* revoke an API key */
    DB_OP_ERASURE_DONE,     /* an erasure succeeded (delete it) or failed (count the attempt) */
    DB_OP_UPLOADS_EXPIRE,   /* abort every upload whose expires_at has passed */
    DB_OP_TENANT_DELETE,    /* delete a tenant: objects, uploads, tokens, audit key; queue its copies */
    DB_OP_AUDIT_APPEND,     /* append given entries (read auditing, in batches) */
    DB_OP_CHECKPOINT_ADD,   /* store a signed checkpoint */
    DB_OP_UPLOAD_TOUCH,     /* keep a (multipart) upload alive until at least expires_at */
    DB_OP_OBJECT_IMPORT,    /* register objects that already exist in a store (bulk; see db_import_object_t) */
} db_op_t;

/*
 * One object of DB_OP_OBJECT_IMPORT: an object whose bytes already sit in a store (a bucket
 * being migrated under loci), validated by the caller with the API's rules (core/object.h:
 * key, tags, content type, sha256, attrs size; the store exists and lies inside the tenant's
 * jurisdictions). It becomes a committed object, version 1, with one location (store, name)
 * in state present, and one audit entry.
 */
typedef struct db_import_object {
    const char *key;
    const char *id;    /* a fresh object id (core/ids.h), made by the caller */
    const char *store; /* the store holding the bytes */
    const char *name;  /* the object's existing name inside that store (kept as is) */
    int64_t size;
    const char *content_type; /* never NULL */
    const char *sha256;       /* lowercase hex or NULL */
    const tagset_t *tags;     /* normalized (sorted, unique); n may be 0 */
    const char *tags_json;    /* canonical JSON of tags (tagset_to_json), "{}" when none */
    const char *attrs_json;   /* JSON object text or NULL */
    const char *subject;      /* audit subject: the HMAC of the key (secrets_audit_subject) */
} db_import_object_t;

/* An audit entry to append, as the caller knows it (seq, time and hashes come from the chain). */
typedef struct db_audit_input {
    const char *tenant; /* chain */
    const char *actor;
    const char *action;
    const char *subject;
    const char *detail; /* JSON object text */
} db_audit_input_t;

/* A stored checkpoint. */
typedef struct db_checkpoint {
    int64_t seq;
    int64_t time;
    uint8_t root[AUDIT_HASH_LEN];
    const char *heads; /* JSON array of {"tenant","seq","hash"} */
    const uint8_t *signature;
    size_t signature_len;
} db_checkpoint_t;

/*
 * One write. The caller fills op, tenant and the op's input, and `done`; the writer fills rc,
 * err and the outputs, then calls done(w) on the writer thread after the batch's commit.
 * Outputs are allocated from w->arena, which the caller owns.
 */
struct db_write {
    db_op_t op;
    const char *tenant;
    int64_t now; /* ms; the time the change happens */
    union {
        struct {
            const upload_t *up; /* its locations are inserted as pending */
        } upload_begin;
        struct {
            const char *upload_id;
        } upload_complete, upload_abort;
        struct {
            const char *upload_id;
            int64_t expires_at; /* ms */
        } upload_touch;
        /*
         * OBJECT_IMPORT: the backend pulls the objects one by one from next(), inside this
         * op's transaction, until next() returns 0 (end) or a negative error code. next()
         * fills *out with values valid until its following call (or the op's end).
         * For each object, in order, the backend:
         *   - refuses it with ERR_CONFLICT if (tenant, key) already exists (committed, or
         *     twice in this import); an open upload of the same key does not conflict;
         *   - inserts the object (version 1, created_at = updated_at = now), its tag rows,
         *     and its one location (store, name, present);
         *   - appends one entry to the tenant's audit chain: actor = w->audit.actor,
         *     action "object_imported", subject = out->subject, detail
         *     {"object_id":..,"version":1,"size":..,"sha256":..|null,"stores":[store]}
         *     (the keys in that order, written with util/jsonw.h, exactly like
         *     db_audit_describe's entries).
         * All or nothing: the first refused object, or an error from next(), fails the op
         * (its rc and err say why) and none of its objects stays. w->affected is the number
         * of objects imported (on failure: the 0-based index of the object that failed, or
         * the count pulled when next() failed). The audit_entries output counts the entries.
         * One op can hold millions of objects in one transaction: a backend streams them
         * (SQLite: prepared inserts; PostgreSQL: COPY or multi-row INSERT in pipeline mode)
         * rather than holding them in memory. db_audit_describe() adds no entry for it.
         */
        struct {
            int (*next)(void *ctx, db_import_object_t *out, err_t *e);
            void *ctx;
        } object_import;
        struct {
            const char *key;
            int64_t expected_version; /* the version the change was computed from */
            const char *tags_json;    /* canonical JSON of the new tag set */
            const tagset_t *tags;
            const char *attrs_json; /* new attrs (NULL clears) */
        } object_update;
        struct {
            const char *key;
            int64_t expected_version; /* -1: any */
        } object_delete;
        struct {
            const db_store_row_t *row;
            bool keep_creds; /* keep the stored credentials (the request did not send any) */
        } store_put;
        struct {
            const char *id;
        } store_delete;
        struct {
            const tenant_t *t; /* t->audit_key_sealed is stored only when the tenant is created */
        } tenant_put;
        struct {
            const char *id;
        } tenant_delete;
        struct {
            const db_audit_input_t *entries;
            size_t n;
        } audit_append;
        struct {
            const db_checkpoint_t *cp;
        } checkpoint_add;
        struct {
            const db_key_t *key;
        } key_create;
        struct {
            const char *key_id;
        } key_revoke;
        struct {
            int64_t seq;
            bool ok;
            const char *error; /* when !ok */
        } erasure_done;
    } in;

    /* Who made the change and what it is about, for its audit entry: actor is a key id,
     * "admin" or "system"; subject is the HMAC of the object key for object changes (the
     * backend fills it for store, tenant and token changes). */
    struct {
        const char *actor;
        const char *subject;
    } audit;

    /* outputs */
    int rc;
    err_t err;
    bool created;            /* *_PUT: a new row was inserted */
    object_t obj;            /* UPLOAD_BEGIN (pending), UPLOAD_COMPLETE, OBJECT_UPDATE: the resulting object */
    int64_t affected;        /* UPLOADS_EXPIRE: uploads aborted; TENANT_DELETE: objects deleted; OBJECT_IMPORT: see there */
    const char *replaced_id; /* UPLOAD_COMPLETE: the version it replaced (or NULL); OBJECT_DELETE: the deleted id */
    int64_t audit_entries;   /* entries this op appended */
    struct {
        const char *tenant, *store, *name; /* ERASURE_DONE: the copy that was erased */
    } erased;
    arena_t *arena;

    void (*done)(db_write_t *w);
    void *ctx;
    db_write_t *next; /* writer queue link */
};

/* One lookup of db_vt_t.object_get_many. */
typedef struct db_object_get {
    const char *tenant, *key;
    object_t *out;
    arena_t *arena; /* the object's strings */
    err_t *err;
    int rc; /* set by object_get_many: as object_get would return */
} db_object_get_t;

typedef struct db_vt {
    const char *name; /* "sqlite", "postgres" */
    /* True if read calls never block on the network, so they may run on a loop thread. */
    bool reads_inline;

    /* Opens a read connection for one thread. */
    int (*conn_open)(db_t *db, db_conn_t **out, err_t *e);
    void (*conn_close)(db_conn_t *c);
    /* Checks that the database answers (readiness). */
    int (*ping)(db_conn_t *c, err_t *e);
    /* Optional (NULL: reads never share anything). conn_share lets c's reads share one
     * snapshot of the database, taken at the first read and kept until a write of this
     * process commits or conn_idle is called, whichever comes first: a loop thread calls it
     * once, and conn_idle before each wait for events. A request read after a write was
     * acknowledged always sees that write. */
    void (*conn_share)(db_conn_t *c);
    void (*conn_idle)(db_conn_t *c);

    /* Reads. Results are allocated from a. A missing row is ERR_NOT_FOUND. */
    int (*key_get)(db_conn_t *c, const char *key_id, db_key_t *out, arena_t *a, err_t *e);
    int (*key_list)(db_conn_t *c, const char *tenant, db_key_t **out, size_t *n, arena_t *a, err_t *e);
    int (*tenant_get)(db_conn_t *c, const char *id, tenant_t *out, arena_t *a, err_t *e);
    int (*tenant_list)(db_conn_t *c, tenant_t **out, size_t *n, arena_t *a, err_t *e);
    int (*store_list)(db_conn_t *c, db_store_row_t **out, size_t *n, arena_t *a, err_t *e);
    /* The committed object with its locations. */
    int (*object_get)(db_conn_t *c, const char *tenant, const char *key, object_t *out, arena_t *a, err_t *e);
    /* n object_get calls in one round trip (NULL when the backend has no use for it: SQLite
     * reads in process). Each lookup gets its own rc and error, exactly as object_get's. */
    void (*object_get_many)(db_conn_t *c, db_object_get_t *gets, size_t n);
    /* A pending upload with its locations (out->obj.pending is true). */
    int (*upload_get)(db_conn_t *c, const char *tenant, const char *upload_id, upload_t *out, arena_t *a, err_t *e);
    /* Committed objects matching q (prefix, tags, start_after), in key order, at most `limit`
     * (q->delimiter is ignored here; the caller rolls up common prefixes). Locations are not
     * filled. */
    int (*object_list)(db_conn_t *c, const char *tenant, const obj_query_t *q, int limit, object_t **out, size_t *n, arena_t *a,
                       err_t *e);
    /* Up to max queued erasures, oldest first. */
    int (*erasure_list)(db_conn_t *c, size_t max, db_erasure_t **out, size_t *n, arena_t *a, err_t *e);

    /* The audit trail (administration and verification, not the request path). */
    /* Every chain's head, ordered by tenant. */
    int (*audit_heads)(db_conn_t *c, audit_head_t **out, size_t *n, arena_t *a, err_t *e);
    /* Entries in (tenant, seq) order after (tenant, seq) = (after_tenant, after_seq), at most
     * limit; with only_tenant set, that chain only. */
    int (*audit_list)(db_conn_t *c, const char *only_tenant, const char *after_tenant, int64_t after_seq, size_t limit,
                      audit_entry_t **out, size_t *n, arena_t *a, err_t *e);
    /* Checkpoints with seq > after, oldest first, at most limit. */
    int (*checkpoint_list)(db_conn_t *c, int64_t after, size_t limit, db_checkpoint_t **out, size_t *n, arena_t *a, err_t *e);

    /* Applies ops in one durable transaction (writer thread only). Returns 0 if committed
     * (each op's rc then says whether that op applied), or an error for the whole batch. */
    int (*write_batch)(db_t *db, db_write_t *const *ops, size_t n);

    /* Optional: appends the backend's own counters to out, in Prometheus' text format
     * (GET /metrics). Returns 0, or -1 if out could not grow. */
    int (*metrics)(db_t *db, buf_t *out);

    /* Closes the database (after every connection is closed and the writer stopped). */
    void (*close)(db_t *db);
} db_vt_t;

struct db {
    const db_vt_t *vt;
};

/* How to reach a database over the network; zero values mean the defaults. SQLite ignores them. */
typedef struct db_options {
    int timeout_ms;              /* bound on connecting and on every round trip (5000) */
    const char *const *replicas; /* read replicas (PostgreSQL) that may serve list and search */
    size_t nreplicas;
    int replica_max_lag_ms; /* a replica further behind the primary than this is not used (1000) */
} db_options_t;

/* Opens the database named by url: "sqlite:PATH" (or a bare path) for SQLite,
 * "postgres://..." or "postgresql://..." (a libpq connection URI) for PostgreSQL. Creates or
 * migrates the schema (several servers may do so at once). Returns 0 or an error with the
 * reason in e. opts may be NULL. */
int db_open_opts(const char *url, const db_options_t *opts, db_t **out, err_t *e);
/* db_open_opts with the default options. */
int db_open(const char *url, db_t **out, err_t *e);
/* Opens an existing database for reading only (tools such as `loci audit verify --data`):
 * no writer, no migration; the schema must be this loci's. */
int db_open_readonly(const char *url, db_t **out, err_t *e);

/* For backends: sets t's jurisdictions from the JSON array the tenants table keeps (len bytes
 * of json; none if NULL or not an array). */
void db_tenant_jurisdictions(const char *json, size_t len, tenant_t *t, arena_t *a);
/* ...and the JSON array of t's jurisdictions, as the tenants table keeps it, into out. */
void db_tenant_jurisdictions_json(const tenant_t *t, buf_t *out);
/* For backends: sets w->obj to what an UPLOAD_BEGIN of o over version cur (0: a new key) made:
 * the pending object at version cur + 1, created and updated at w->now. */
void db_upload_begun(db_write_t *w, const object_t *o, int64_t cur);

/* Shorthands for calls through the table. */
static inline int db_conn_open(db_t *db, db_conn_t **out, err_t *e)
{
    return db->vt->conn_open(db, out, e);
}

static inline void db_close(db_t *db)
{
    if (db)
        db->vt->close(db);
}

/* Every read connection starts with this base so the table can be found from it. */
struct db_conn {
    db_t *db;
};

static inline void db_conn_share(db_conn_t *c)
{
    if (c->db->vt->conn_share)
        c->db->vt->conn_share(c);
}

static inline void db_conn_idle(db_conn_t *c)
{
    if (c->db->vt->conn_idle)
        c->db->vt->conn_idle(c);
}

#define DB_CALL(conn, fn, ...) ((conn)->db->vt->fn((conn), __VA_ARGS__))

#endif
