/*
 * pg_ops.c - the write operations of the PostgreSQL backend, with the semantics of SQLite's
 * (src/db/sqlite/sq_write.c), made safe for several servers writing at once:
 *
 *   - an op that refuses (not found, precondition failed, conflict) does so before its first
 *     change, so it needs no savepoint (DB_OP_OBJECT_IMPORT, all or nothing, has one);
 *   - rows an op decides on are locked (SELECT ... FOR UPDATE, UPDATE ... WHERE version = ...),
 *     so conditions (If-Match, If-None-Match) hold across servers; a new key cannot be
 *     inserted by two servers at once either, since batches of one tenant are ordered by its
 *     chain head (below), and should one be anyway, the second INSERT fails with a unique
 *     violation and its batch runs again, to find the object and replace it;
 *   - queues are taken with FOR UPDATE SKIP LOCKED, so two servers never take the same entry.
 * Each tenant's chain head is locked by the batch before any op runs (pg_batch.c), which also
 * orders every batch touching that tenant, on whichever server.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "db/audit.h"
#include "db/pg/pg.h"
#include "util/jsonw.h"

#define STMT(r, id, p, what)                                                                                                       \
    do {                                                                                                                           \
        if (((r) = pg_batch_stmt(b, (id), (p), (what))) == NULL)                                                                   \
            return b->fatal ? b->fatal : ERR_UNAVAILABLE;                                                                          \
    } while (0)

/* Runs a statement whose result is not needed, but for the rows it changed if changes is not
 * NULL; without, it is put off to the batch's next round trip (pg_batch_later). */
static int exec(pg_batch_t *b, pg_stmt_id_t id, const pg_params_t *p, const char *what, int64_t *changes)
{
    PGresult *r;
    if (changes == NULL)
        return pg_batch_later(b, id, p, what);
    *changes = 0;
    STMT(r, id, p, what);
    *changes = pg_changes(r);
    PQclear(r);
    return 0;
}

/* The version (0 if none), id and created_at of an OBJECT_VERSION/OBJECT_LOCK result (cleared). */
static void version_from(PGresult *r, db_write_t *w, int64_t *version, const char **id, int64_t *created)
{
    *version = PQntuples(r) ? pg_i64(r, 0, 0) : 0;
    if (id)
        *id = PQntuples(r) ? pg_text(r, 0, 1, w->arena) : NULL;
    if (created)
        *created = PQntuples(r) ? pg_i64(r, 0, 2) : 0;
    PQclear(r);
}

/* The committed version (0 if none), id and created_at of (tenant, key), locked if lock. */
static int current(pg_batch_t *b, db_write_t *w, const char *key, bool lock, int64_t *version, const char **id, int64_t *created)
{
    pg_params_t p;
    PGresult *r;
    pg_params_init(&p);
    pg_param_text(&p, w->tenant);
    pg_param_text(&p, key);
    STMT(r, lock ? PG_OBJECT_LOCK : PG_OBJECT_VERSION, &p, "object version");
    version_from(r, w, version, id, created);
    return 0;
}

/* Moves an object version's (or upload's) locations to the erasure queue. */
static int erase_locations(pg_batch_t *b, const char *tenant, const char *object_id, const char *reason, int64_t now)
{
    pg_params_t p;
    pg_params_init(&p);
    pg_param_text(&p, tenant);
    pg_param_text(&p, object_id);
    pg_param_text(&p, reason);
    pg_param_i64(&p, now);
    return exec(b, PG_ERASE_LOCATIONS, &p, "queue erasure", NULL);
}

/* Binds an object's size, content type, sha256, tags and attrs (in that order). */
static void param_object_meta(pg_params_t *p, const object_t *o)
{
    pg_param_i64(p, o->size);
    pg_param_text(p, o->content_type);
    pg_param_text(p, o->sha256);
    pg_param_text(p, o->tags_json);
    pg_param_text(p, o->attrs_json);
}

/* Inserts the object_tags rows of a tags JSON object (after the old ones were deleted). */
static int insert_tags(pg_batch_t *b, const char *tenant, const char *key, const char *tags_json)
{
    json_t *tags = tags_json ? json_loads(tags_json, 0, NULL) : NULL;
    if (json_object_size(tags) == 0) {
        json_decref(tags);
        return 0;
    }
    buf_t ks = BUF_INIT, vs = BUF_INIT;
    const char *k;
    json_t *v;
    pg_array_begin(&ks);
    pg_array_begin(&vs);
    json_object_foreach(tags, k, v)
    {
        pg_array_text(&ks, k);
        pg_array_text(&vs, json_string_value(v) ? json_string_value(v) : "");
    }
    pg_array_end(&ks);
    pg_array_end(&vs);
    pg_params_t p;
    pg_params_init(&p);
    pg_param_text(&p, tenant);
    pg_param_text(&p, key);
    pg_param_buf(&p, &ks);
    pg_param_buf(&p, &vs);
    pg_param_text(&p, tags_json);
    int rc = exec(b, PG_TAGS_INSERT, &p, "insert tags", NULL);
    buf_release(&ks);
    buf_release(&vs);
    json_decref(tags);
    return rc;
}

static int delete_tags(pg_batch_t *b, const char *tenant, const char *key)
{
    pg_params_t p;
    pg_params_init(&p);
    pg_param_text(&p, tenant);
    pg_param_text(&p, key);
    return exec(b, PG_TAGS_DELETE, &p, "delete tags", NULL);
}

static int op_upload_begin(pg_batch_t *b, db_write_t *w)
{
    const upload_t *up = w->in.upload_begin.up;
    const object_t *o = &up->obj;
    int64_t cur;
    int rc;
    /* advisory here (nothing is locked): the condition is checked again, under lock, at complete */
    if ((rc = current(b, w, o->key, false, &cur, NULL, NULL)) != 0)
        return rc;
    if ((rc = obj_cond_check(&up->cond, cur, &w->err)) != 0)
        return rc;
    buf_t stores = BUF_INIT, names = BUF_INIT, mps = BUF_INIT;
    pg_array_begin(&stores);
    pg_array_begin(&names);
    pg_array_begin(&mps);
    for (size_t i = 0; i < o->nlocs; i++) {
        pg_array_text(&stores, o->locs[i].store);
        pg_array_text(&names, o->locs[i].name);
        pg_array_text(&mps, o->locs[i].mp_id);
    }
    pg_array_end(&stores);
    pg_array_end(&names);
    pg_array_end(&mps);
    pg_params_t p;
    pg_params_init(&p);
    pg_param_text(&p, w->tenant);
    pg_param_text(&p, o->id);
    pg_param_text(&p, o->key);
    pg_param_i64(&p, (int64_t)up->cond.kind);
    pg_param_i64(&p, up->cond.version);
    pg_param_i64(&p, cur + 1);
    param_object_meta(&p, o);
    pg_param_i64(&p, w->now);
    pg_param_i64(&p, up->expires_at);
    pg_param_text(&p, w->audit.subject ? w->audit.subject : "");
    pg_param_i64(&p, up->part_size);
    pg_param_i64(&p, up->parts);
    pg_param_buf(&p, &stores);
    pg_param_buf(&p, &names);
    pg_param_buf(&p, &mps);
    rc = exec(b, PG_UPLOAD_BEGIN, &p, "insert upload", NULL);
    buf_release(&stores);
    buf_release(&names);
    buf_release(&mps);
    if (rc != 0)
        return rc;
    db_upload_begun(w, o, cur);
    return 0;
}

/* Writes the committed object of upload up over version cur (0: a new key). A key inserted
 * meanwhile (see the top of this file) makes the put-off INSERT fail with a unique violation,
 * and the batch runs again (pg_batch.c), when this op finds that object locked and replaces it. */
static int commit_object(pg_batch_t *b, db_write_t *w, const object_t *o, int64_t cur, const char *old_id)
{
    pg_params_t p;
    int rc;
    pg_params_init(&p);
    pg_param_text(&p, w->tenant);
    pg_param_text(&p, o->key);
    pg_param_text(&p, o->id);
    if (cur) {
        if ((rc = erase_locations(b, w->tenant, old_id, "replaced", w->now)) != 0)
            return rc;
        pg_param_i64(&p, cur + 1);
    }
    param_object_meta(&p, o);
    pg_param_i64(&p, w->now);
    if (cur) {
        if ((rc = exec(b, PG_OBJECT_REPLACE, &p, "write object", NULL)) != 0)
            return rc;
        return delete_tags(b, w->tenant, o->key);
    }
    return exec(b, PG_OBJECT_INSERT, &p, "write object", NULL);
}

static int op_upload_complete(pg_batch_t *b, db_write_t *w)
{
    const char *upload_id = w->in.upload_complete.upload_id;
    upload_t up;
    int64_t cur = 0, created = 0;
    const char *old_id = NULL;
    pg_params_t p;
    PGresult *r;
    int rc;

    /* the upload, locked, and the object it is for, locked, in one round trip */
    static const pg_stmt_id_t ids[2] = {PG_UPLOAD_LOCK, PG_OBJECT_LOCK_OF_UPLOAD};
    static const char *const what[2] = {"upload lookup", "object version"};
    const pg_params_t *ps[2] = {&p, &p};
    PGresult *res[2];
    pg_params_init(&p);
    pg_param_text(&p, w->tenant);
    pg_param_text(&p, upload_id);
    if ((rc = pg_batch_stmts(b, 2, ids, ps, what, res)) != 0)
        return rc;
    r = res[0];
    if (PQntuples(r) == 0) {
        PQclear(r);
        PQclear(res[1]);
        return err_set(&w->err, ERR_NOT_FOUND, "upload not found");
    }
    pg_upload_from(r, w->tenant, upload_id, &up, w->arena);
    if (w->audit.subject == NULL)
        w->audit.subject = pg_text(r, 0, 13, w->arena);
    PQclear(r);
    version_from(res[1], w, &cur, &old_id, &created);
    const object_t *o = &up.obj;
    w->replaced_id = cur ? old_id : NULL;
    if ((rc = obj_cond_check(&up.cond, cur, &w->err)) != 0)
        return rc;
    if ((rc = commit_object(b, w, o, cur, old_id)) != 0)
        return rc;
    if ((rc = insert_tags(b, w->tenant, o->key, o->tags_json)) != 0)
        return rc;
    pg_params_init(&p);
    pg_param_text(&p, w->tenant);
    pg_param_text(&p, upload_id);
    if ((rc = exec(b, PG_UPLOAD_FINISH, &p, "finish upload", NULL)) != 0)
        return rc;
    /* the committed object, as a read would now return it */
    w->obj = up.obj;
    w->obj.version = cur + 1;
    w->obj.pending = false;
    w->obj.created_at = cur ? created : w->now;
    w->obj.updated_at = w->now;
    for (size_t i = 0; i < w->obj.nlocs; i++) {
        w->obj.locs[i].state = LOC_PRESENT;
        w->obj.locs[i].mp_id = NULL;
    }
    return 0;
}

/* Deletes an upload and queues its copies; ERR_NOT_FOUND (nothing written) if there is none. */
static int abort_upload(pg_batch_t *b, db_write_t *w, const char *tenant, const char *upload_id, const char *reason,
                        const char **subject)
{
    pg_params_t p;
    PGresult *r;
    pg_params_init(&p);
    pg_param_text(&p, tenant);
    pg_param_text(&p, upload_id);
    STMT(r, PG_UPLOAD_DELETE, &p, "delete upload");
    int found = PQntuples(r);
    if (found && subject)
        *subject = pg_text(r, 0, 0, w->arena);
    PQclear(r);
    if (!found)
        return ERR_NOT_FOUND;
    return erase_locations(b, tenant, upload_id, reason, w->now);
}

static int op_upload_abort(pg_batch_t *b, db_write_t *w)
{
    const char *subject = NULL;
    int rc = abort_upload(b, w, w->tenant, w->in.upload_abort.upload_id, "aborted", &subject);
    if (rc == ERR_NOT_FOUND)
        return err_set(&w->err, ERR_NOT_FOUND, "upload not found");
    if (rc == 0 && w->audit.subject == NULL)
        w->audit.subject = subject;
    return rc;
}

/* Fills o's locations with the current rows. */
static int read_locations(pg_batch_t *b, db_write_t *w, object_t *o)
{
    pg_params_t p;
    PGresult *r;
    pg_params_init(&p);
    pg_param_text(&p, w->tenant);
    pg_param_text(&p, o->id);
    STMT(r, PG_LOCATIONS_GET, &p, "locations");
    pg_locations_from(r, 0, o, w->arena);
    PQclear(r);
    return 0;
}

static int op_object_update(pg_batch_t *b, db_write_t *w)
{
    const char *key = w->in.object_update.key;
    int64_t expected = w->in.object_update.expected_version;
    pg_params_t p;
    PGresult *r;
    int rc;
    /* the row lock taken by UPDATE makes a concurrent patch wait and then see the new version */
    pg_params_init(&p);
    pg_param_text(&p, w->tenant);
    pg_param_text(&p, key);
    pg_param_i64(&p, expected);
    pg_param_text(&p, w->in.object_update.tags_json);
    pg_param_text(&p, w->in.object_update.attrs_json);
    pg_param_i64(&p, w->now);
    STMT(r, PG_OBJECT_UPDATE_META, &p, "update object");
    if (PQntuples(r) == 0) {
        PQclear(r);
        int64_t cur;
        if ((rc = current(b, w, key, false, &cur, NULL, NULL)) != 0)
            return rc;
        if (cur == 0)
            return err_set(&w->err, ERR_NOT_FOUND, "object not found");
        return err_set(&w->err, ERR_PRECONDITION_FAILED, "object is at version %lld, not %lld", (long long)cur,
                       (long long)expected);
    }
    object_t *o = &w->obj;
    memset(o, 0, sizeof(*o));
    o->tenant = w->tenant;
    o->key = key;
    o->id = pg_text(r, 0, 0, w->arena);
    o->version = pg_i64(r, 0, 1);
    o->size = pg_i64(r, 0, 2);
    o->content_type = pg_text(r, 0, 3, w->arena);
    o->sha256 = pg_text(r, 0, 4, w->arena);
    o->tags_json = pg_text(r, 0, 5, w->arena);
    o->attrs_json = pg_text(r, 0, 6, w->arena);
    o->created_at = pg_i64(r, 0, 7);
    o->updated_at = pg_i64(r, 0, 8);
    PQclear(r);
    if ((rc = delete_tags(b, w->tenant, key)) != 0 || (rc = insert_tags(b, w->tenant, key, w->in.object_update.tags_json)) != 0)
        return rc;
    return read_locations(b, w, o);
}

static int op_object_delete(pg_batch_t *b, db_write_t *w)
{
    const char *key = w->in.object_delete.key, *id;
    int64_t cur, expected = w->in.object_delete.expected_version;
    int rc;
    if ((rc = current(b, w, key, true, &cur, &id, NULL)) != 0)
        return rc;
    if (cur == 0)
        return err_set(&w->err, ERR_NOT_FOUND, "object not found");
    if (expected >= 0 && expected != cur)
        return err_set(&w->err, ERR_PRECONDITION_FAILED, "object is at version %lld, not %lld", (long long)cur,
                       (long long)expected);
    w->replaced_id = id;
    if ((rc = erase_locations(b, w->tenant, id, "deleted", w->now)) != 0)
        return rc;
    pg_params_t p;
    pg_params_init(&p);
    pg_param_text(&p, w->tenant);
    pg_param_text(&p, key);
    return exec(b, PG_OBJECT_DELETE, &p, "delete object", NULL);
}

/* Inserts a row unless it exists, else updates it (the portable upsert that tells which). */
static int upsert(pg_batch_t *b, db_write_t *w, pg_stmt_id_t insert, const pg_params_t *ip, pg_stmt_id_t update,
                  const pg_params_t *up, const char *what)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        int64_t changed;
        int rc;
        if ((rc = exec(b, insert, ip, what, &changed)) != 0)
            return rc;
        if (changed == 1) {
            w->created = true;
            return 0;
        }
        if ((rc = exec(b, update, up, what, &changed)) != 0)
            return rc;
        if (changed == 1) {
            w->created = false;
            return 0;
        }
        /* deleted between the two: insert again */
    }
    return err_set(&w->err, ERR_CONFLICT, "%s changed concurrently; retry", what);
}

static int op_store_put(pg_batch_t *b, db_write_t *w)
{
    const db_store_row_t *row = w->in.store_put.row;
    const store_t *st = &row->store;
    pg_params_t p;
    pg_params_init(&p);
    pg_param_text(&p, st->id);
    pg_param_text(&p, st->provider);
    pg_param_text(&p, st->endpoint);
    pg_param_text(&p, st->bucket);
    pg_param_text(&p, st->region);
    pg_param_text(&p, st->country);
    pg_param_text(&p, store_status_name(st->status));
    pg_param_i64(&p, st->weight);
    pg_param_i64(&p, st->path_style);
    pg_param_text(&p, st->public_host);
    pg_param_text(&p, st->account);
    pg_param_bytes(&p, row->sealed, row->sealed_len);
    pg_param_i64(&p, w->now);
    pg_params_t u = p;
    for (int i = 0; i < u.n; i++) /* integer texts live inside the struct: repoint them */
        if (u.v[i] == p.num[i])
            u.v[i] = u.num[i];
    pg_param_bool(&u, w->in.store_put.keep_creds);
    return upsert(b, w, PG_STORE_INSERT, &p, PG_STORE_UPDATE, &u, "store");
}

static int op_store_delete(pg_batch_t *b, db_write_t *w)
{
    const char *id = w->in.store_delete.id;
    pg_params_t p;
    PGresult *r;
    int64_t changed;
    int rc;
    pg_params_init(&p);
    pg_param_text(&p, id);
    STMT(r, PG_STORE_IN_USE, &p, "store use");
    int used = PQntuples(r);
    PQclear(r);
    /* a copy placed there by another server meanwhile: the foreign keys refuse the delete
     * (the batch then runs again without this op, which fails with conflict) */
    if (used)
        return err_set(&w->err, ERR_CONFLICT, "store '%s' still holds objects or copies waiting for erasure", id);
    if ((rc = exec(b, PG_STORE_DELETE, &p, "delete store", &changed)) != 0)
        return rc;
    if (changed == 0)
        return err_set(&w->err, ERR_NOT_FOUND, "store '%s' not found", id);
    return 0;
}

static int op_tenant_put(pg_batch_t *b, db_write_t *w)
{
    const tenant_t *t = w->in.tenant_put.t;
    buf_t jur = BUF_INIT;
    db_tenant_jurisdictions_json(t, &jur);
    pg_params_t p;
    pg_params_init(&p);
    pg_param_text(&p, t->id);
    pg_param_buf(&p, &jur);
    pg_param_i64(&p, t->copies);
    pg_param_i64(&p, t->url_expires);
    pg_param_i64(&p, t->url_expires_max);
    pg_param_i64(&p, w->now);
    pg_param_i64(&p, t->audit_reads);
    pg_param_bytes(&p, t->audit_key_sealed, t->audit_key_sealed_len);
    pg_params_t u = p;
    for (int i = 0; i < u.n; i++)
        if (u.v[i] == p.num[i])
            u.v[i] = u.num[i];
    int rc = upsert(b, w, PG_TENANT_INSERT, &p, PG_TENANT_UPDATE, &u, "tenant");
    buf_release(&jur);
    return rc;
}

/* Locks tenant id (shared or exclusive); *exists tells whether there is one. */
static int tenant_lock(pg_batch_t *b, const char *id, bool exclusive, bool *exists)
{
    pg_params_t p;
    PGresult *r;
    *exists = false;
    pg_params_init(&p);
    pg_param_text(&p, id);
    STMT(r, exclusive ? PG_TENANT_LOCK : PG_TENANT_SHARE, &p, "tenant lookup");
    *exists = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

static int op_key_create(pg_batch_t *b, db_write_t *w)
{
    const db_key_t *k = w->in.key_create.key;
    bool exists;
    int rc;
    /* a shared lock: a concurrent tenant delete waits for this key, then deletes it too */
    if ((rc = tenant_lock(b, k->tenant, false, &exists)) != 0)
        return rc;
    if (!exists)
        return err_set(&w->err, ERR_NOT_FOUND, "tenant '%s' not found", k->tenant);
    pg_params_t p;
    pg_params_init(&p);
    pg_param_text(&p, k->key_id);
    pg_param_text(&p, k->tenant);
    pg_param_bytes(&p, k->secret_hash, 32);
    pg_param_i64(&p, k->scopes);
    pg_param_i64(&p, w->now);
    return exec(b, PG_KEY_INSERT, &p, "insert key", NULL);
}

static int op_key_revoke(pg_batch_t *b, db_write_t *w)
{
    pg_params_t p;
    int64_t changed;
    int rc;
    pg_params_init(&p);
    pg_param_text(&p, w->tenant);
    pg_param_text(&p, w->in.key_revoke.key_id);
    pg_param_i64(&p, w->now);
    if ((rc = exec(b, PG_KEY_REVOKE, &p, "revoke key", &changed)) != 0)
        return rc;
    if (changed == 0)
        return err_set(&w->err, ERR_NOT_FOUND, "key '%s' not found", w->in.key_revoke.key_id);
    return 0;
}

static int op_erasure_done(pg_batch_t *b, db_write_t *w)
{
    pg_params_t p;
    PGresult *r;
    pg_params_init(&p);
    pg_param_i64(&p, w->in.erasure_done.seq);
    if (!w->in.erasure_done.ok) {
        pg_param_text(&p, w->in.erasure_done.error);
        return exec(b, PG_ERASURE_FAILED, &p, "erasure", NULL);
    }
    STMT(r, PG_ERASURE_DONE, &p, "erasure");
    if (PQntuples(r) == 0) { /* another server finished it */
        PQclear(r);
        return err_set(&w->err, ERR_NOT_FOUND, "no such erasure");
    }
    w->erased.tenant = pg_text(r, 0, 0, w->arena);
    w->erased.store = pg_text(r, 0, 1, w->arena);
    w->erased.name = pg_text(r, 0, 2, w->arena);
    PQclear(r);
    return 0;
}

static int op_uploads_expire(pg_batch_t *b, db_write_t *w)
{
    pg_params_t p;
    PGresult *r;
    int rc;
    pg_params_init(&p);
    pg_param_i64(&p, w->now);
    /* SKIP LOCKED: uploads another server is expiring, completing or aborting are left to it */
    STMT(r, PG_UPLOADS_EXPIRED, &p, "expired uploads");
    int n = PQntuples(r);
    const char **rows = arena_alloc(w->arena, (size_t)(2 * n + 1) * sizeof(char *));
    for (int i = 0; i < n; i++) {
        rows[2 * i] = pg_text(r, i, 0, w->arena);
        rows[2 * i + 1] = pg_text(r, i, 1, w->arena);
    }
    PQclear(r);
    int64_t done = 0;
    for (int i = 0; i < n; i++) {
        const char *tenant = rows[2 * i], *id = rows[2 * i + 1], *subject = NULL;
        if ((rc = abort_upload(b, w, tenant, id, "expired", &subject)) != 0) {
            if (rc == ERR_NOT_FOUND)
                continue;
            return rc;
        }
        char *detail = arena_printf(w->arena, "{\"upload_id\":\"%s\"}", id);
        db_audit_input_t in = {tenant, "system", "upload_expired", subject ? subject : "", detail};
        if ((rc = pg_batch_audit(b, w, &in)) != 0)
            return rc;
        done++;
    }
    w->affected = done;
    return 0;
}

static int op_tenant_delete(pg_batch_t *b, db_write_t *w)
{
    const char *id = w->in.tenant_delete.id;
    bool exists;
    int rc;
    if ((rc = tenant_lock(b, id, true, &exists)) != 0)
        return rc;
    if (!exists)
        return err_set(&w->err, ERR_NOT_FOUND, "tenant '%s' not found", id);
    /* every copy it had goes to the erasure queue; then its rows, tokens and audit key go */
    static const pg_stmt_id_t steps[] = {PG_TD_ERASE,   PG_TD_LOCATIONS, PG_TD_TAGS,  PG_TD_OBJECTS,
                                         PG_TD_UPLOADS, PG_TD_KEYS,      PG_TD_TENANT};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        pg_params_t p;
        pg_params_init(&p);
        pg_param_text(&p, id);
        if (steps[i] == PG_TD_ERASE)
            pg_param_i64(&p, w->now);
        if ((rc = exec(b, steps[i], &p, "delete tenant", steps[i] == PG_TD_OBJECTS ? &w->affected : NULL)) != 0)
            return rc;
    }
    return 0;
}

static int op_audit_append(pg_batch_t *b, db_write_t *w)
{
    for (size_t i = 0; i < w->in.audit_append.n; i++) {
        int rc = pg_batch_audit(b, w, &w->in.audit_append.entries[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int op_checkpoint_add(pg_batch_t *b, db_write_t *w)
{
    const db_checkpoint_t *cp = w->in.checkpoint_add.cp;
    pg_params_t p;
    int64_t changed;
    int rc;
    pg_params_init(&p);
    pg_param_i64(&p, cp->seq);
    pg_param_i64(&p, cp->time);
    pg_param_bytes(&p, cp->root, AUDIT_HASH_LEN);
    pg_param_text(&p, cp->heads);
    pg_param_bytes(&p, cp->signature, cp->signature_len);
    if ((rc = exec(b, PG_CHECKPOINT_INSERT, &p, "checkpoint", &changed)) != 0)
        return rc;
    if (changed == 0) /* another server made this one */
        return err_set(&w->err, ERR_CONFLICT, "checkpoint %lld exists", (long long)cp->seq);
    return 0;
}

static int op_upload_touch(pg_batch_t *b, db_write_t *w)
{
    pg_params_t p;
    int64_t changed;
    int rc;
    pg_params_init(&p);
    pg_param_text(&p, w->tenant);
    pg_param_text(&p, w->in.upload_touch.upload_id);
    pg_param_i64(&p, w->in.upload_touch.expires_at);
    if ((rc = exec(b, PG_UPLOAD_TOUCH, &p, "touch upload", &changed)) != 0)
        return rc;
    if (changed == 0)
        return err_set(&w->err, ERR_NOT_FOUND, "upload not found");
    return 0;
}

/*
 * DB_OP_OBJECT_IMPORT: objects pulled from the op's iterator and inserted a chunk at a time
 * (one multi-row INSERT for the objects, one for their tags, one for their locations), each
 * with its audit entry. It runs inside a savepoint: the first object refused (a key that
 * exists) undoes the whole import.
 */
#define IMPORT_CHUNK 500

/* The array parameters of a chunk's INSERTs: objects (IMPORT_OBJECTS $3..$9), their tags
 * (IMPORT_TAGS $2..$5) and their locations (IMPORT_LOCATIONS $2..$4). */
typedef enum ic_col {
    IC_KEY,
    IC_ID,
    IC_SIZE,
    IC_TYPE,
    IC_SHA,
    IC_TAGS,
    IC_ATTRS, /* objects */
    IC_TAG_KEY,
    IC_TAG_K,
    IC_TAG_V,
    IC_TAG_SET, /* object_tags */
    IC_LOC_ID,
    IC_LOC_STORE,
    IC_LOC_NAME, /* locations */
    IC_NCOLS
} ic_col_t;

typedef struct import_chunk {
    arena_t arena; /* copies of the objects (the iterator's values last only until its next call) */
    db_import_object_t *o;
    size_t n;
    buf_t col[IC_NCOLS]; /* array parameters, one per column (ic_col_t) */
} import_chunk_t;

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Inserts a chunk; on a key that exists (or repeats), refuses at its index. */
static int import_chunk(pg_batch_t *b, db_write_t *w, import_chunk_t *c, int64_t base)
{
    buf_t *col = c->col;
    for (int i = 0; i < IC_NCOLS; i++)
        pg_array_begin(&col[i]);
    for (size_t i = 0; i < c->n; i++) {
        const db_import_object_t *o = &c->o[i];
        const char *tags = o->tags_json ? o->tags_json : "{}";
        pg_array_text(&col[IC_KEY], o->key);
        pg_array_text(&col[IC_ID], o->id);
        pg_array_i64(&col[IC_SIZE], o->size);
        pg_array_text(&col[IC_TYPE], o->content_type);
        pg_array_text(&col[IC_SHA], o->sha256);
        pg_array_text(&col[IC_TAGS], tags);
        pg_array_text(&col[IC_ATTRS], o->attrs_json);
        for (size_t t = 0; o->tags && t < o->tags->n; t++) {
            pg_array_text(&col[IC_TAG_KEY], o->key);
            pg_array_text(&col[IC_TAG_K], o->tags->items[t].k);
            pg_array_text(&col[IC_TAG_V], o->tags->items[t].v);
            pg_array_text(&col[IC_TAG_SET], tags);
        }
        pg_array_text(&col[IC_LOC_ID], o->id);
        pg_array_text(&col[IC_LOC_STORE], o->store);
        pg_array_text(&col[IC_LOC_NAME], o->name);
    }
    for (int i = 0; i < IC_NCOLS; i++)
        pg_array_end(&col[i]);

    pg_params_t p;
    PGresult *r;
    pg_params_init(&p);
    pg_param_text(&p, w->tenant);
    pg_param_i64(&p, w->now);
    for (int i = IC_KEY; i <= IC_ATTRS; i++)
        pg_param_buf(&p, &col[i]);
    STMT(r, PG_IMPORT_OBJECTS, &p, "import objects");
    size_t got = (size_t)PQntuples(r);
    if (got != c->n) {
        /* the first object (in order) that was not inserted: its key existed or repeats */
        const char **keys = arena_alloc(&c->arena, (got + 1) * sizeof(char *));
        for (size_t i = 0; i < got; i++)
            keys[i] = pg_text(r, (int)i, 0, &c->arena);
        qsort(keys, got, sizeof(*keys), cmp_str);
        bool *used = arena_calloc(&c->arena, got + 1, sizeof(bool));
        size_t bad = 0;
        for (; bad < c->n; bad++) {
            const char *k = c->o[bad].key;
            const char **hit = bsearch(&k, keys, got, sizeof(*keys), cmp_str);
            if (hit == NULL || used[hit - keys])
                break;
            used[hit - keys] = true;
        }
        PQclear(r);
        w->affected = base + (int64_t)bad;
        return err_set(&w->err, ERR_CONFLICT, "object %lld already exists", (long long)(base + (int64_t)bad + 1));
    }
    PQclear(r);
    int rc;
    pg_params_init(&p);
    pg_param_text(&p, w->tenant);
    for (int i = IC_TAG_KEY; i <= IC_TAG_SET; i++)
        pg_param_buf(&p, &col[i]);
    if (col[IC_TAG_KEY].len > 2 && (rc = exec(b, PG_IMPORT_TAGS, &p, "import tags", NULL)) != 0)
        return rc;
    pg_params_init(&p);
    pg_param_text(&p, w->tenant);
    for (int i = IC_LOC_ID; i <= IC_LOC_NAME; i++)
        pg_param_buf(&p, &col[i]);
    if ((rc = exec(b, PG_IMPORT_LOCATIONS, &p, "import locations", NULL)) != 0)
        return rc;
    buf_t detail = BUF_INIT;
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        db_audit_input_t in;
        db_audit_import_entry(w, &c->o[i], &in, &detail);
        rc = pg_batch_audit(b, w, &in);
    }
    buf_release(&detail);
    return rc;
}

/* Copies an object from the iterator into the chunk's arena. */
static void import_copy(import_chunk_t *c, const db_import_object_t *in)
{
    arena_t *a = &c->arena;
    db_import_object_t *o = &c->o[c->n++];
    *o = *in;
    o->key = arena_strdup(a, in->key);
    o->id = arena_strdup(a, in->id);
    o->store = arena_strdup(a, in->store);
    o->name = arena_strdup(a, in->name);
    o->content_type = arena_strdup(a, in->content_type);
    o->sha256 = arena_strdup(a, in->sha256);
    o->tags_json = arena_strdup(a, in->tags_json);
    o->attrs_json = arena_strdup(a, in->attrs_json);
    o->subject = arena_strdup(a, in->subject);
    if (in->tags) {
        tagset_t *t = arena_alloc(a, sizeof(*t));
        t->n = in->tags->n;
        t->items = arena_alloc(a, (t->n ? t->n : 1) * sizeof(tag_t));
        for (size_t i = 0; i < t->n; i++) {
            t->items[i].k = arena_strdup(a, in->tags->items[i].k);
            t->items[i].v = arena_strdup(a, in->tags->items[i].v);
        }
        o->tags = t;
    }
}

static int op_object_import(pg_batch_t *b, db_write_t *w)
{
    import_chunk_t c;
    memset(&c, 0, sizeof(c));
    arena_init(&c.arena);
    c.o = calloc(IMPORT_CHUNK, sizeof(*c.o));
    if (c.o == NULL)
        abort();
    int64_t n = 0;
    int rc = 0;
    for (bool end = false; !end && rc == 0;) {
        db_import_object_t o;
        memset(&o, 0, sizeof(o));
        int got = w->in.object_import.next(w->in.object_import.ctx, &o, &w->err);
        if (got < 0) {
            w->affected = n + (int64_t)c.n;
            if (w->err.code == 0)
                err_set(&w->err, got, NULL);
            rc = got;
            break;
        }
        if (got == 0)
            end = true;
        else
            import_copy(&c, &o);
        if (c.n == IMPORT_CHUNK || (end && c.n > 0)) {
            if ((rc = import_chunk(b, w, &c, n)) == 0)
                n += (int64_t)c.n;
            c.n = 0;
            arena_release(&c.arena);
        }
    }
    if (rc == 0)
        w->affected = n;
    for (int i = 0; i < IC_NCOLS; i++)
        buf_release(&c.col[i]);
    arena_release(&c.arena);
    free(c.o);
    return rc;
}

typedef struct op_entry {
    pg_op_fn fn;
    bool savepoint;
} op_entry_t;

static const op_entry_t OPS[] = {
    [DB_OP_UPLOAD_BEGIN] = {op_upload_begin, false},     [DB_OP_UPLOAD_COMPLETE] = {op_upload_complete, false},
    [DB_OP_UPLOAD_ABORT] = {op_upload_abort, false},     [DB_OP_OBJECT_UPDATE] = {op_object_update, false},
    [DB_OP_OBJECT_DELETE] = {op_object_delete, false},   [DB_OP_STORE_PUT] = {op_store_put, false},
    [DB_OP_STORE_DELETE] = {op_store_delete, false},     [DB_OP_TENANT_PUT] = {op_tenant_put, false},
    [DB_OP_KEY_CREATE] = {op_key_create, false},         [DB_OP_KEY_REVOKE] = {op_key_revoke, false},
    [DB_OP_ERASURE_DONE] = {op_erasure_done, false},     [DB_OP_UPLOADS_EXPIRE] = {op_uploads_expire, false},
    [DB_OP_TENANT_DELETE] = {op_tenant_delete, false},   [DB_OP_AUDIT_APPEND] = {op_audit_append, false},
    [DB_OP_CHECKPOINT_ADD] = {op_checkpoint_add, false}, [DB_OP_UPLOAD_TOUCH] = {op_upload_touch, false},
    [DB_OP_OBJECT_IMPORT] = {op_object_import, true},
};

pg_op_fn pg_op(db_op_t op, bool *savepoint)
{
    *savepoint = true;
    if ((size_t)op >= sizeof(OPS) / sizeof(OPS[0]) || OPS[op].fn == NULL)
        return NULL;
    *savepoint = OPS[op].savepoint;
    return OPS[op].fn;
}

size_t pg_op_chains(const db_write_t *w, const char **out, size_t max)
{
    size_t n = 0;
    if (max < 2)
        return 0;
    switch (w->op) {
    case DB_OP_STORE_PUT:
    case DB_OP_STORE_DELETE:
    case DB_OP_TENANT_PUT:
        out[n++] = AUDIT_ADMIN_CHAIN;
        break;
    case DB_OP_TENANT_DELETE:
        /* the tenant's own chain too: its writes in flight elsewhere finish first */
        out[n++] = AUDIT_ADMIN_CHAIN;
        out[n++] = w->in.tenant_delete.id;
        break;
    case DB_OP_KEY_CREATE:
        out[n++] = w->in.key_create.key->tenant;
        break;
    case DB_OP_AUDIT_APPEND:
        for (size_t i = 0; i < w->in.audit_append.n && n < max; i++)
            out[n++] = w->in.audit_append.entries[i].tenant;
        break;
    case DB_OP_ERASURE_DONE:   /* the erased copy's tenant: known once the row is read */
    case DB_OP_UPLOADS_EXPIRE: /* the expired uploads' tenants: likewise */
    case DB_OP_CHECKPOINT_ADD: /* not a chain entry */
        break;
    default:
        out[n++] = w->tenant ? w->tenant : AUDIT_ADMIN_CHAIN;
    }
    return n;
}
