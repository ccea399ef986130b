/*
 * sq_write.c - the write operations of the SQLite backend, applied by write_batch on the
 * writer thread. A batch is one IMMEDIATE transaction and one fsync at COMMIT (group commit);
 * each op runs inside a savepoint so a refused op (not found, precondition failed, ...)
 * leaves no trace while the others in the batch still commit.
 */
#include <jansson.h>
#include <string.h>

#include "db/audit.h"
#include "db/sqlite/sq.h"
#include "util/jsonw.h"

/* State of one op: the connection, the op, and whether an SQLite failure (not a refusal)
 * happened, which fails the whole batch. */
typedef struct wctx {
    sq_conn_t *c;
    db_write_t *w;
    int fatal;
} wctx_t;

/* Records an SQLite failure as fatal for the batch. */
static int fail(wctx_t *x, int rc, const char *what)
{
    int code = sq_error(x->c, rc, what, &x->w->err);
    x->fatal = code;
    return code;
}

static sqlite3_stmt *stmt(wctx_t *x, sq_stmt_id_t id)
{
    sqlite3_stmt *s = sq_stmt(x->c, id);
    if (s == NULL)
        fail(x, SQLITE_ERROR, "prepare");
    return s;
}

/* Steps a statement that returns no rows. */
static int run(wctx_t *x, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return fail(x, rc, what);
    return 0;
}

/* The committed version (0 if none) and, optionally, id of (tenant, key). */
static int current_version(wctx_t *x, const char *tenant, const char *key, int64_t *version, const char **id)
{
    sqlite3_stmt *s = stmt(x, SQ_OBJECT_VERSION);
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, tenant);
    sq_bind_text(s, 2, key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int64(s, 0);
        if (id)
            *id = sq_text(s, 1, x->w->arena);
        rc = SQLITE_DONE;
    } else {
        *version = 0;
        if (id)
            *id = NULL;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : fail(x, rc, "object version");
}

/* Moves an object version's locations to the erasure queue and deletes them. */
static int erase_locations(wctx_t *x, const char *tenant, const char *object_id, const char *reason)
{
    sqlite3_stmt *s;
    int rc;
    if ((s = stmt(x, SQ_LOCATIONS_TO_ERASE)) == NULL)
        return x->fatal;
    sq_bind_text(s, 1, tenant);
    sq_bind_text(s, 2, object_id);
    sq_bind_text(s, 3, reason);
    sqlite3_bind_int64(s, 4, x->w->now);
    if ((rc = run(x, s, "queue erasure")) != 0)
        return rc;
    if ((s = stmt(x, SQ_LOCATIONS_DELETE)) == NULL)
        return x->fatal;
    sq_bind_text(s, 1, tenant);
    sq_bind_text(s, 2, object_id);
    return run(x, s, "delete locations");
}

/* Replaces the object_tags rows of (tenant, key) with the members of a tags JSON object. */
static int replace_tags(wctx_t *x, const char *tenant, const char *key, const char *tags_json)
{
    sqlite3_stmt *s;
    int rc;
    if ((s = stmt(x, SQ_TAGS_DELETE)) == NULL)
        return x->fatal;
    sq_bind_text(s, 1, tenant);
    sq_bind_text(s, 2, key);
    if ((rc = run(x, s, "delete tags")) != 0)
        return rc;
    json_t *tags = tags_json ? json_loads(tags_json, 0, NULL) : NULL;
    const char *k;
    json_t *v;
    rc = 0;
    json_object_foreach(tags, k, v)
    {
        if ((s = stmt(x, SQ_TAG_INSERT)) == NULL) {
            rc = x->fatal;
            break;
        }
        sq_bind_text(s, 1, tenant);
        sq_bind_text(s, 2, key);
        sq_bind_text(s, 3, k);
        sq_bind_text(s, 4, json_string_value(v) ? json_string_value(v) : "");
        sq_bind_text(s, 5, tags_json);
        if ((rc = run(x, s, "insert tag")) != 0)
            break;
    }
    json_decref(tags);
    return rc;
}

/* Reads the head of a tenant's chain into head (seq and hash; seq 0 and a zero hash for a
 * chain without entries). */
static int audit_head_get(wctx_t *x, const char *tenant, audit_entry_t *head)
{
    sqlite3_stmt *s = stmt(x, SQ_AUDIT_HEAD_GET);
    int rc;
    if (s == NULL)
        return x->fatal;
    head->seq = 0;
    memset(head->hash, 0, AUDIT_HASH_LEN);
    sq_bind_text(s, 1, tenant);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        head->seq = sqlite3_column_int64(s, 0);
        if (sqlite3_column_bytes(s, 1) == AUDIT_HASH_LEN)
            memcpy(head->hash, sqlite3_column_blob(s, 1), AUDIT_HASH_LEN);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : fail(x, rc, "audit head");
}

static int audit_head_put(wctx_t *x, const char *tenant, const audit_entry_t *head)
{
    sqlite3_stmt *s = stmt(x, SQ_AUDIT_HEAD_PUT);
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, tenant);
    sqlite3_bind_int64(s, 2, head->seq);
    sqlite3_bind_blob(s, 3, head->hash, AUDIT_HASH_LEN, SQLITE_STATIC);
    return run(x, s, "audit head");
}

/* Chains the entry in onto *head (seq, prev_hash, hash), inserts it and moves *head to it; the
 * caller stores the head (audit_head_put) once it has appended all it appends. */
static int audit_chain(wctx_t *x, const db_audit_input_t *in, audit_entry_t *head)
{
    audit_entry_t e = {.tenant = in->tenant,
                       .seq = head->seq + 1,
                       .time = x->w->now,
                       .actor = in->actor,
                       .action = in->action,
                       .subject = in->subject ? in->subject : "",
                       .detail = in->detail ? in->detail : "{}"};
    memcpy(e.prev_hash, head->hash, AUDIT_HASH_LEN);
    audit_entry_hash(&e, e.hash);
    sqlite3_stmt *s = stmt(x, SQ_AUDIT_INSERT);
    int rc;
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, e.tenant);
    sqlite3_bind_int64(s, 2, e.seq);
    sqlite3_bind_int64(s, 3, e.time);
    sq_bind_text(s, 4, e.actor);
    sq_bind_text(s, 5, e.action);
    sq_bind_text(s, 6, e.subject);
    sq_bind_text(s, 7, e.detail);
    sqlite3_bind_blob(s, 8, e.prev_hash, AUDIT_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(s, 9, e.hash, AUDIT_HASH_LEN, SQLITE_STATIC);
    if ((rc = run(x, s, "audit entry")) != 0)
        return rc;
    head->seq = e.seq;
    memcpy(head->hash, e.hash, AUDIT_HASH_LEN);
    x->w->audit_entries++;
    return 0;
}

/* Appends one entry to its chain: the chain's head gives seq and prev_hash, the entry's hash
 * covers both, and the head moves, all in the current transaction. */
static int audit_append(wctx_t *x, const db_audit_input_t *in)
{
    audit_entry_t head;
    int rc;
    if ((rc = audit_head_get(x, in->tenant, &head)) != 0 || (rc = audit_chain(x, in, &head)) != 0)
        return rc;
    return audit_head_put(x, in->tenant, &head);
}

/* The subject recorded for an upload when it started (the HMAC of its key). */
static int upload_subject(wctx_t *x, const char *tenant, const char *upload_id, const char **out)
{
    sqlite3_stmt *s = stmt(x, SQ_UPLOAD_SUBJECT);
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, tenant);
    sq_bind_text(s, 2, upload_id);
    int rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW ? sq_text(s, 0, x->w->arena) : NULL;
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(x, rc, "upload subject");
    return 0;
}

static int op_upload_begin(wctx_t *x)
{
    db_write_t *w = x->w;
    const upload_t *up = w->in.upload_begin.up;
    const object_t *o = &up->obj;
    int64_t cur;
    int rc;
    if ((rc = current_version(x, w->tenant, o->key, &cur, NULL)) != 0)
        return rc;
    if ((rc = obj_cond_check(&up->cond, cur, &w->err)) != 0)
        return rc;
    sqlite3_stmt *s = stmt(x, SQ_UPLOAD_INSERT);
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, w->tenant);
    sq_bind_text(s, 2, o->id);
    sq_bind_text(s, 3, o->key);
    sqlite3_bind_int(s, 4, (int)up->cond.kind);
    sqlite3_bind_int64(s, 5, up->cond.version);
    sqlite3_bind_int64(s, 6, cur + 1);
    sqlite3_bind_int64(s, 7, o->size);
    sq_bind_text(s, 8, o->content_type);
    sq_bind_text(s, 9, o->sha256);
    sq_bind_text(s, 10, o->tags_json);
    sq_bind_text(s, 11, o->attrs_json);
    sqlite3_bind_int64(s, 12, w->now);
    sqlite3_bind_int64(s, 13, up->expires_at);
    sq_bind_text(s, 14, w->audit.subject ? w->audit.subject : "");
    sqlite3_bind_int64(s, 15, up->part_size);
    sqlite3_bind_int(s, 16, up->parts);
    if ((rc = run(x, s, "insert upload")) != 0)
        return rc;
    for (size_t i = 0; i < o->nlocs; i++) {
        if ((s = stmt(x, SQ_LOCATION_INSERT)) == NULL)
            return x->fatal;
        sq_bind_text(s, 1, w->tenant);
        sq_bind_text(s, 2, o->id);
        sq_bind_text(s, 3, o->locs[i].store);
        sq_bind_text(s, 4, o->locs[i].name);
        sqlite3_bind_int(s, 5, LOC_PENDING);
        sq_bind_text(s, 6, o->locs[i].mp_id);
        if ((rc = run(x, s, "insert location")) != 0)
            return rc;
    }
    db_upload_begun(w, o, cur);
    return 0;
}

/* OBJECT_INSERT or OBJECT_REPLACE with o's columns bound: ?1-?9 tenant, key, id, version, size,
 * content type, sha256, tags, attrs, and ?10 now (REPLACE's updated_at, INSERT's created_at);
 * INSERT's ?11 (updated_at) is the caller's to bind. NULL if the statement cannot be had. */
static sqlite3_stmt *bind_object_row(wctx_t *x, sq_stmt_id_t id, const object_t *o, int64_t version)
{
    sqlite3_stmt *s = stmt(x, id);
    if (s == NULL)
        return NULL;
    sq_bind_text(s, 1, x->w->tenant);
    sq_bind_text(s, 2, o->key);
    sq_bind_text(s, 3, o->id);
    sqlite3_bind_int64(s, 4, version);
    sqlite3_bind_int64(s, 5, o->size);
    sq_bind_text(s, 6, o->content_type);
    sq_bind_text(s, 7, o->sha256);
    sq_bind_text(s, 8, o->tags_json);
    sq_bind_text(s, 9, o->attrs_json);
    sqlite3_bind_int64(s, 10, x->w->now);
    return s;
}

static int op_upload_complete(wctx_t *x)
{
    db_write_t *w = x->w;
    upload_t up;
    int64_t cur;
    const char *old_id;
    sqlite3_stmt *s;
    int rc;

    rc = sq_read_upload_get(&x->c->base, w->tenant, w->in.upload_complete.upload_id, &up, w->arena, &w->err);
    if (rc == ERR_NOT_FOUND)
        return err_set(&w->err, ERR_NOT_FOUND, "upload not found");
    if (rc != 0)
        return x->fatal = rc;
    const object_t *o = &up.obj;
    if ((rc = current_version(x, w->tenant, o->key, &cur, &old_id)) != 0)
        return rc;
    if (w->audit.subject == NULL && (rc = upload_subject(x, w->tenant, o->id, &w->audit.subject)) != 0)
        return rc;
    w->replaced_id = cur ? old_id : NULL;
    if ((rc = obj_cond_check(&up.cond, cur, &w->err)) != 0)
        return rc;
    if (cur) {
        if ((rc = erase_locations(x, w->tenant, old_id, "replaced")) != 0)
            return rc;
        if ((s = bind_object_row(x, SQ_OBJECT_REPLACE, o, cur + 1)) == NULL)
            return x->fatal;
    } else {
        if ((s = bind_object_row(x, SQ_OBJECT_INSERT, o, 1)) == NULL)
            return x->fatal;
        sqlite3_bind_int64(s, 11, w->now); /* updated_at */
    }
    if ((rc = run(x, s, "write object")) != 0)
        return rc;
    if ((rc = replace_tags(x, w->tenant, o->key, o->tags_json)) != 0)
        return rc;
    if ((s = stmt(x, SQ_LOCATIONS_PRESENT)) == NULL)
        return x->fatal;
    sq_bind_text(s, 1, w->tenant);
    sq_bind_text(s, 2, o->id);
    if ((rc = run(x, s, "mark locations")) != 0)
        return rc;
    if ((s = stmt(x, SQ_UPLOAD_DELETE)) == NULL)
        return x->fatal;
    sq_bind_text(s, 1, w->tenant);
    sq_bind_text(s, 2, o->id);
    if ((rc = run(x, s, "delete upload")) != 0)
        return rc;
    const char *key = o->key;
    if ((rc = sq_read_object_get(&x->c->base, w->tenant, key, &w->obj, w->arena, &w->err)) != 0)
        return x->fatal = rc;
    return 0;
}

/* Aborts one upload: its locations go to the erasure queue. */
static int abort_upload(wctx_t *x, const char *tenant, const char *upload_id, const char *reason)
{
    int rc;
    if ((rc = erase_locations(x, tenant, upload_id, reason)) != 0)
        return rc;
    sqlite3_stmt *s = stmt(x, SQ_UPLOAD_DELETE);
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, tenant);
    sq_bind_text(s, 2, upload_id);
    if ((rc = run(x, s, "delete upload")) != 0)
        return rc;
    return sqlite3_changes(x->c->h) == 1 ? 0 : ERR_NOT_FOUND;
}

static int op_upload_abort(wctx_t *x)
{
    db_write_t *w = x->w;
    int rc;
    if (w->audit.subject == NULL && (rc = upload_subject(x, w->tenant, w->in.upload_abort.upload_id, &w->audit.subject)) != 0)
        return rc;
    rc = abort_upload(x, w->tenant, w->in.upload_abort.upload_id, "aborted");
    if (rc == ERR_NOT_FOUND)
        return err_set(&w->err, ERR_NOT_FOUND, "upload not found");
    return rc;
}

static int op_object_update(wctx_t *x)
{
    db_write_t *w = x->w;
    sqlite3_stmt *s = stmt(x, SQ_OBJECT_UPDATE_META);
    int rc;
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, w->tenant);
    sq_bind_text(s, 2, w->in.object_update.key);
    sqlite3_bind_int64(s, 3, w->in.object_update.expected_version);
    sq_bind_text(s, 4, w->in.object_update.tags_json);
    sq_bind_text(s, 5, w->in.object_update.attrs_json);
    sqlite3_bind_int64(s, 6, w->now);
    if ((rc = run(x, s, "update object")) != 0)
        return rc;
    if (sqlite3_changes(x->c->h) == 0) {
        int64_t cur;
        if ((rc = current_version(x, w->tenant, w->in.object_update.key, &cur, NULL)) != 0)
            return rc;
        if (cur == 0)
            return err_set(&w->err, ERR_NOT_FOUND, "object not found");
        return err_set(&w->err, ERR_PRECONDITION_FAILED, "object is at version %lld, not %lld", (long long)cur,
                       (long long)w->in.object_update.expected_version);
    }
    if ((rc = replace_tags(x, w->tenant, w->in.object_update.key, w->in.object_update.tags_json)) != 0)
        return rc;
    if ((rc = sq_read_object_get(&x->c->base, w->tenant, w->in.object_update.key, &w->obj, w->arena, &w->err)) != 0)
        return x->fatal = rc;
    return 0;
}

static int op_object_delete(wctx_t *x)
{
    db_write_t *w = x->w;
    const char *key = w->in.object_delete.key, *id;
    int64_t cur;
    sqlite3_stmt *s;
    int rc;
    if ((rc = current_version(x, w->tenant, key, &cur, &id)) != 0)
        return rc;
    if (cur == 0)
        return err_set(&w->err, ERR_NOT_FOUND, "object not found");
    if (w->in.object_delete.expected_version >= 0 && w->in.object_delete.expected_version != cur)
        return err_set(&w->err, ERR_PRECONDITION_FAILED, "object is at version %lld, not %lld", (long long)cur,
                       (long long)w->in.object_delete.expected_version);
    w->replaced_id = id;
    if ((rc = erase_locations(x, w->tenant, id, "deleted")) != 0)
        return rc;
    if ((s = stmt(x, SQ_TAGS_DELETE)) == NULL)
        return x->fatal;
    sq_bind_text(s, 1, w->tenant);
    sq_bind_text(s, 2, key);
    if ((rc = run(x, s, "delete tags")) != 0)
        return rc;
    if ((s = stmt(x, SQ_OBJECT_DELETE)) == NULL)
        return x->fatal;
    sq_bind_text(s, 1, w->tenant);
    sq_bind_text(s, 2, key);
    return run(x, s, "delete object");
}

static int op_store_put(wctx_t *x)
{
    db_write_t *w = x->w;
    const db_store_row_t *r = w->in.store_put.row;
    const store_t *st = &r->store;
    const void *creds = r->sealed;
    size_t creds_len = r->sealed_len;
    sqlite3_stmt *s = stmt(x, SQ_STORE_EXISTS);
    int rc;
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, st->id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        w->created = false;
        if (w->in.store_put.keep_creds && sqlite3_column_bytes(s, 0) > 0) {
            size_t n = (size_t)sqlite3_column_bytes(s, 0);
            void *copy = arena_alloc(w->arena, n);
            memcpy(copy, sqlite3_column_blob(s, 0), n);
            creds = copy;
            creds_len = n;
        }
    } else if (rc == SQLITE_DONE) {
        w->created = true;
    } else {
        sqlite3_reset(s);
        return fail(x, rc, "store lookup");
    }
    sqlite3_reset(s);
    if ((s = stmt(x, SQ_STORE_UPSERT)) == NULL)
        return x->fatal;
    sq_bind_text(s, 1, st->id);
    sq_bind_text(s, 2, st->provider);
    sq_bind_text(s, 3, st->endpoint);
    sq_bind_text(s, 4, st->bucket);
    sq_bind_text(s, 5, st->region);
    sq_bind_text(s, 6, st->country);
    sq_bind_text(s, 7, store_status_name(st->status));
    sqlite3_bind_int(s, 8, st->weight);
    sqlite3_bind_int(s, 9, st->path_style);
    sq_bind_text(s, 10, st->public_host);
    sq_bind_text(s, 11, st->account);
    if (creds)
        sqlite3_bind_blob(s, 12, creds, (int)creds_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 12);
    sqlite3_bind_int64(s, 13, w->now);
    return run(x, s, "write store");
}

static int op_store_delete(wctx_t *x)
{
    db_write_t *w = x->w;
    sqlite3_stmt *s = stmt(x, SQ_STORE_IN_USE);
    int rc;
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, w->in.store_delete.id);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return err_set(&w->err, ERR_CONFLICT, "store '%s' still holds objects or copies waiting for erasure",
                       w->in.store_delete.id);
    if (rc != SQLITE_DONE)
        return fail(x, rc, "store use");
    if ((s = stmt(x, SQ_STORE_DELETE)) == NULL)
        return x->fatal;
    sq_bind_text(s, 1, w->in.store_delete.id);
    if ((rc = run(x, s, "delete store")) != 0)
        return rc;
    if (sqlite3_changes(x->c->h) == 0)
        return err_set(&w->err, ERR_NOT_FOUND, "store '%s' not found", w->in.store_delete.id);
    return 0;
}

static int tenant_exists(wctx_t *x, const char *id, bool *exists)
{
    sqlite3_stmt *s = stmt(x, SQ_TENANT_EXISTS);
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, id);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(x, rc, "tenant lookup");
    *exists = rc == SQLITE_ROW;
    return 0;
}

static int op_tenant_put(wctx_t *x)
{
    db_write_t *w = x->w;
    const tenant_t *t = w->in.tenant_put.t;
    bool exists;
    int rc;
    if ((rc = tenant_exists(x, t->id, &exists)) != 0)
        return rc;
    w->created = !exists;
    buf_t jur = BUF_INIT;
    db_tenant_jurisdictions_json(t, &jur);
    sqlite3_stmt *s = stmt(x, SQ_TENANT_UPSERT);
    if (s == NULL) {
        buf_release(&jur);
        return x->fatal;
    }
    sq_bind_text(s, 1, t->id);
    sq_bind_text(s, 2, jur.base);
    sqlite3_bind_int(s, 3, t->copies);
    sqlite3_bind_int64(s, 4, t->url_expires);
    sqlite3_bind_int64(s, 5, t->url_expires_max);
    sqlite3_bind_int64(s, 6, w->now);
    sqlite3_bind_int(s, 7, t->audit_reads);
    if (t->audit_key_sealed)
        sqlite3_bind_blob(s, 8, t->audit_key_sealed, (int)t->audit_key_sealed_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 8);
    rc = run(x, s, "write tenant");
    buf_release(&jur);
    return rc;
}

static int op_key_create(wctx_t *x)
{
    db_write_t *w = x->w;
    const db_key_t *k = w->in.key_create.key;
    bool exists;
    int rc;
    if ((rc = tenant_exists(x, k->tenant, &exists)) != 0)
        return rc;
    if (!exists)
        return err_set(&w->err, ERR_NOT_FOUND, "tenant '%s' not found", k->tenant);
    sqlite3_stmt *s = stmt(x, SQ_KEY_INSERT);
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, k->key_id);
    sq_bind_text(s, 2, k->tenant);
    sqlite3_bind_blob(s, 3, k->secret_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, k->scopes);
    sqlite3_bind_int64(s, 5, w->now);
    return run(x, s, "insert key");
}

static int op_key_revoke(wctx_t *x)
{
    db_write_t *w = x->w;
    sqlite3_stmt *s = stmt(x, SQ_KEY_REVOKE);
    int rc;
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, w->tenant);
    sq_bind_text(s, 2, w->in.key_revoke.key_id);
    sqlite3_bind_int64(s, 3, w->now);
    if ((rc = run(x, s, "revoke key")) != 0)
        return rc;
    if (sqlite3_changes(x->c->h) == 0)
        return err_set(&w->err, ERR_NOT_FOUND, "key '%s' not found", w->in.key_revoke.key_id);
    return 0;
}

static int op_erasure_done(wctx_t *x)
{
    db_write_t *w = x->w;
    sqlite3_stmt *s;
    if (w->in.erasure_done.ok) {
        /* what was erased, for the audit entry */
        if ((s = stmt(x, SQ_ERASURE_GET)) == NULL)
            return x->fatal;
        sqlite3_bind_int64(s, 1, w->in.erasure_done.seq);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            w->erased.tenant = sq_text(s, 0, w->arena);
            w->erased.store = sq_text(s, 1, w->arena);
            w->erased.name = sq_text(s, 2, w->arena);
        }
        sqlite3_reset(s);
        if (rc == SQLITE_DONE)
            return err_set(&w->err, ERR_NOT_FOUND, "no such erasure");
        if (rc != SQLITE_ROW)
            return fail(x, rc, "erasure");
    }
    s = stmt(x, w->in.erasure_done.ok ? SQ_ERASURE_DELETE : SQ_ERASURE_FAILED);
    if (s == NULL)
        return x->fatal;
    sqlite3_bind_int64(s, 1, w->in.erasure_done.seq);
    if (!w->in.erasure_done.ok)
        sq_bind_text(s, 2, w->in.erasure_done.error);
    return run(x, s, "erasure");
}

static int op_uploads_expire(wctx_t *x)
{
    db_write_t *w = x->w;
    sqlite3_stmt *s = stmt(x, SQ_UPLOADS_EXPIRED);
    int rc;
    if (s == NULL)
        return x->fatal;
    sqlite3_bind_int64(s, 1, w->now);
    size_t cap = 64, n = 0;
    const char **rows = arena_alloc(w->arena, 3 * cap * sizeof(char *));
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            const char **nr = arena_alloc(w->arena, 6 * cap * sizeof(char *));
            memcpy(nr, rows, 3 * cap * sizeof(char *));
            rows = nr;
            cap *= 2;
        }
        for (int k = 0; k < 3; k++)
            rows[3 * n + k] = sq_text(s, k, w->arena);
        n++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return fail(x, rc, "expired uploads");
    for (size_t i = 0; i < n; i++) {
        const char *tenant = rows[3 * i], *id = rows[3 * i + 1];
        if ((rc = abort_upload(x, tenant, id, "expired")) != 0) {
            if (rc == ERR_NOT_FOUND)
                continue;
            return rc;
        }
        char *detail = arena_printf(w->arena, "{\"upload_id\":\"%s\"}", id);
        db_audit_input_t in = {tenant, "system", "upload_expired", rows[3 * i + 2], detail};
        if ((rc = audit_append(x, &in)) != 0)
            return rc;
    }
    w->affected = (int64_t)n;
    return 0;
}

/* Runs a statement bound to one tenant id (and, for ?2, the time); returns the rows changed. */
static int run_tenant(wctx_t *x, sq_stmt_id_t id, const char *tenant, int64_t *changed)
{
    sqlite3_stmt *s = stmt(x, id);
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, tenant);
    if (sqlite3_bind_parameter_count(s) >= 2)
        sqlite3_bind_int64(s, 2, x->w->now);
    int rc = run(x, s, "delete tenant");
    if (rc == 0 && changed)
        *changed = sqlite3_changes(x->c->h);
    return rc;
}

static int op_tenant_delete(wctx_t *x)
{
    db_write_t *w = x->w;
    const char *id = w->in.tenant_delete.id;
    bool exists;
    int rc;
    if ((rc = tenant_exists(x, id, &exists)) != 0)
        return rc;
    if (!exists)
        return err_set(&w->err, ERR_NOT_FOUND, "tenant '%s' not found", id);
    /* every copy it had goes to the erasure queue; then its rows, tokens and audit key go */
    static const sq_stmt_id_t steps[] = {SQ_TD_ERASE,   SQ_TD_LOCATIONS, SQ_TD_TAGS,  SQ_TD_OBJECTS,
                                         SQ_TD_UPLOADS, SQ_TD_KEYS,      SQ_TD_TENANT};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if ((rc = run_tenant(x, steps[i], id, steps[i] == SQ_TD_OBJECTS ? &w->affected : NULL)) != 0)
            return rc;
    return 0;
}

static int op_audit_append(wctx_t *x)
{
    db_write_t *w = x->w;
    for (size_t i = 0; i < w->in.audit_append.n; i++) {
        int rc = audit_append(x, &w->in.audit_append.entries[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int op_checkpoint_add(wctx_t *x)
{
    const db_checkpoint_t *cp = x->w->in.checkpoint_add.cp;
    sqlite3_stmt *s = stmt(x, SQ_CHECKPOINT_INSERT);
    if (s == NULL)
        return x->fatal;
    sqlite3_bind_int64(s, 1, cp->seq);
    sqlite3_bind_int64(s, 2, cp->time);
    sqlite3_bind_blob(s, 3, cp->root, AUDIT_HASH_LEN, SQLITE_STATIC);
    sq_bind_text(s, 4, cp->heads);
    sqlite3_bind_blob(s, 5, cp->signature, (int)cp->signature_len, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return err_set(&x->w->err, ERR_CONFLICT, "checkpoint %lld exists", (long long)cp->seq);
    return rc == SQLITE_DONE ? 0 : fail(x, rc, "checkpoint");
}

static int op_upload_touch(wctx_t *x)
{
    db_write_t *w = x->w;
    sqlite3_stmt *s = stmt(x, SQ_UPLOAD_TOUCH);
    if (s == NULL)
        return x->fatal;
    sq_bind_text(s, 1, w->tenant);
    sq_bind_text(s, 2, w->in.upload_touch.upload_id);
    sqlite3_bind_int64(s, 3, w->in.upload_touch.expires_at);
    int rc = run(x, s, "touch upload");
    if (rc == 0 && sqlite3_changes(x->c->h) == 0)
        return err_set(&w->err, ERR_NOT_FOUND, "upload not found");
    return rc;
}

/*
 * DB_OP_OBJECT_IMPORT: objects pulled from the op's iterator, each inserted with its tags, its
 * one present location and its audit entry. The tenant's chain head is read once and kept
 * here while the entries are appended, then written once: the same chain audit_append would
 * build entry by entry, without a head update per object.
 */
static int import_refused(wctx_t *x, int64_t index, int rc, const char *what)
{
    db_write_t *w = x->w;
    w->affected = index;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return err_set(&w->err, ERR_CONFLICT, "object %lld already exists", (long long)index + 1);
    return fail(x, rc, what);
}

static int import_one(wctx_t *x, const db_import_object_t *o, int64_t index, audit_entry_t *head, buf_t *detail)
{
    db_write_t *w = x->w;
    sqlite3_stmt *s;
    int rc;
    object_t row = {.key = o->key,
                    .id = o->id,
                    .size = o->size,
                    .content_type = o->content_type,
                    .sha256 = o->sha256,
                    .tags_json = o->tags_json ? o->tags_json : "{}",
                    .attrs_json = o->attrs_json};
    if ((s = bind_object_row(x, SQ_OBJECT_INSERT, &row, 1)) == NULL)
        return x->fatal;
    sqlite3_bind_int64(s, 11, w->now); /* updated_at */
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return import_refused(x, index, rc, "import object");
    for (size_t i = 0; o->tags && i < o->tags->n; i++) {
        if ((s = stmt(x, SQ_TAG_INSERT)) == NULL)
            return x->fatal;
        sq_bind_text(s, 1, w->tenant);
        sq_bind_text(s, 2, o->key);
        sq_bind_text(s, 3, o->tags->items[i].k);
        sq_bind_text(s, 4, o->tags->items[i].v);
        sq_bind_text(s, 5, o->tags_json ? o->tags_json : "{}");
        if ((rc = run(x, s, "import tag")) != 0)
            return rc;
    }
    if ((s = stmt(x, SQ_LOCATION_INSERT)) == NULL)
        return x->fatal;
    sq_bind_text(s, 1, w->tenant);
    sq_bind_text(s, 2, o->id);
    sq_bind_text(s, 3, o->store);
    sq_bind_text(s, 4, o->name);
    sqlite3_bind_int(s, 5, LOC_PRESENT);
    sqlite3_bind_null(s, 6);
    if ((rc = run(x, s, "import location")) != 0)
        return rc;

    /* the audit entry, chained on the head kept in memory */
    db_audit_input_t in;
    db_audit_import_entry(w, o, &in, detail);
    return audit_chain(x, &in, head);
}

static int op_object_import(wctx_t *x)
{
    db_write_t *w = x->w;
    audit_entry_t head;
    buf_t detail = BUF_INIT;
    int rc;
    if ((rc = audit_head_get(x, w->tenant, &head)) != 0)
        return rc;
    /* a large import touches far more pages than the 32 MB cache holds: spilling them to the
     * WAL mid-transaction writes many twice, so give this transaction a bigger cache */
    sqlite3_exec(x->c->h, "PRAGMA cache_size=-262144;", NULL, NULL, NULL);
    int64_t n = 0;
    for (;;) {
        db_import_object_t o;
        memset(&o, 0, sizeof(o));
        rc = w->in.object_import.next(w->in.object_import.ctx, &o, &w->err);
        if (rc == 0)
            break;
        if (rc < 0) {
            w->affected = n;
            if (w->err.code == 0)
                err_set(&w->err, rc, NULL);
            goto out;
        }
        if ((rc = import_one(x, &o, n, &head, &detail)) != 0) {
            w->affected = n; /* the index of the object refused */
            goto out;
        }
        n++;
    }
    w->affected = n;
    rc = 0;
    if (n > 0)
        rc = audit_head_put(x, w->tenant, &head);
out:
    sqlite3_exec(x->c->h, "PRAGMA cache_size=-32000;", NULL, NULL, NULL);
    buf_release(&detail);
    return rc;
}

typedef int (*op_fn)(wctx_t *x);

static const op_fn OPS[] = {
    [DB_OP_UPLOAD_BEGIN] = op_upload_begin,     [DB_OP_UPLOAD_COMPLETE] = op_upload_complete,
    [DB_OP_UPLOAD_ABORT] = op_upload_abort,     [DB_OP_OBJECT_UPDATE] = op_object_update,
    [DB_OP_OBJECT_DELETE] = op_object_delete,   [DB_OP_STORE_PUT] = op_store_put,
    [DB_OP_STORE_DELETE] = op_store_delete,     [DB_OP_TENANT_PUT] = op_tenant_put,
    [DB_OP_KEY_CREATE] = op_key_create,         [DB_OP_KEY_REVOKE] = op_key_revoke,
    [DB_OP_ERASURE_DONE] = op_erasure_done,     [DB_OP_UPLOADS_EXPIRE] = op_uploads_expire,
    [DB_OP_TENANT_DELETE] = op_tenant_delete,   [DB_OP_AUDIT_APPEND] = op_audit_append,
    [DB_OP_CHECKPOINT_ADD] = op_checkpoint_add, [DB_OP_UPLOAD_TOUCH] = op_upload_touch,
    [DB_OP_OBJECT_IMPORT] = op_object_import,
};


int sq_write_batch(db_t *base, db_write_t *const *ops, size_t n)
{
    sq_db_t *db = (sq_db_t *)base;
    sq_conn_t *c = db->writer;
    err_t e;
    int rc;

    sq_ckpt_yield(db);
    if ((rc = sq_control(c, SQ_TX_BEGIN)) != SQLITE_OK)
        return sq_error(c, rc, "begin", &e);
    for (size_t i = 0; i < n; i++) {
        db_write_t *w = ops[i];
        wctx_t x = {c, w, 0};
        err_clear(&w->err);
        w->created = false;
        w->affected = 0;
        w->audit_entries = 0;
        w->replaced_id = NULL;
        memset(&w->erased, 0, sizeof(w->erased));
        if ((rc = sq_control(c, SQ_SP_BEGIN)) != SQLITE_OK)
            goto rollback;
        size_t nops = sizeof(OPS) / sizeof(OPS[0]);
        w->rc = (size_t)w->op < nops && OPS[w->op] ? OPS[w->op](&x) : err_set(&w->err, ERR_INTERNAL, "unknown write op");
        if (x.fatal) {
            rc = SQLITE_IOERR;
            goto rollback;
        }
        if (w->rc != 0 && w->err.code == 0)
            err_set(&w->err, w->rc, NULL);
        /* the change's audit entry, in the same transaction: both are there, or neither */
        db_audit_input_t entry;
        if (w->rc == 0 && db_audit_describe(w, &entry, w->arena)) {
            audit_append(&x, &entry);
            if (x.fatal) {
                rc = SQLITE_IOERR;
                goto rollback;
            }
        }
        if (w->rc != 0 && (rc = sq_control(c, SQ_SP_ROLLBACK)) != SQLITE_OK)
            goto rollback;
        if ((rc = sq_control(c, SQ_SP_RELEASE)) != SQLITE_OK)
            goto rollback;
    }
    if ((rc = sq_control(c, SQ_TX_COMMIT)) != SQLITE_OK)
        goto rollback;
    /* counted before any of the batch's requests is answered: shared read snapshots older
     * than this commit are not used again (sq_snapshot) */
    atomic_fetch_add_explicit(&db->commits, 1, memory_order_release);
    /* crypto-shredding: a deleted tenant's audit key must not survive in old WAL frames */
    for (size_t i = 0; i < n; i++) {
        if (ops[i]->op == DB_OP_TENANT_DELETE && ops[i]->rc == 0) {
            sqlite3_exec(c->h, "PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL, NULL);
            break;
        }
    }
    return 0;
rollback:
    sq_control(c, SQ_TX_ROLLBACK);
    return sq_error(c, rc, "write transaction", &e);
}
