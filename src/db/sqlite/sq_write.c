/*
 * sq_write.c - the write operations of the SQLite backend, applied by write_batch on the
 * writer thread. A batch is one IMMEDIATE transaction and one fsync at COMMIT (group commit);
 * each op runs inside a savepoint so a refused op (not found, precondition failed, ...)
 * leaves no trace while the others in the batch still commit.
 */
#include <jansson.h>
#include <string.h>

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
        if ((rc = run(x, s, "insert tag")) != 0)
            break;
    }
    json_decref(tags);
    return rc;
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
        if ((rc = run(x, s, "insert location")) != 0)
            return rc;
    }
    w->obj = *o;
    w->obj.version = cur + 1;
    w->obj.pending = true;
    w->obj.created_at = w->obj.updated_at = w->now;
    return 0;
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
    if ((rc = obj_cond_check(&up.cond, cur, &w->err)) != 0)
        return rc;
    if (cur) {
        if ((rc = erase_locations(x, w->tenant, old_id, "replaced")) != 0)
            return rc;
        if ((s = stmt(x, SQ_OBJECT_REPLACE)) == NULL)
            return x->fatal;
        sq_bind_text(s, 1, w->tenant);
        sq_bind_text(s, 2, o->key);
        sq_bind_text(s, 3, o->id);
        sqlite3_bind_int64(s, 4, cur + 1);
        sqlite3_bind_int64(s, 5, o->size);
        sq_bind_text(s, 6, o->content_type);
        sq_bind_text(s, 7, o->sha256);
        sq_bind_text(s, 8, o->tags_json);
        sq_bind_text(s, 9, o->attrs_json);
        sqlite3_bind_int64(s, 10, w->now);
    } else {
        if ((s = stmt(x, SQ_OBJECT_INSERT)) == NULL)
            return x->fatal;
        sq_bind_text(s, 1, w->tenant);
        sq_bind_text(s, 2, o->key);
        sq_bind_text(s, 3, o->id);
        sqlite3_bind_int64(s, 4, 1);
        sqlite3_bind_int64(s, 5, o->size);
        sq_bind_text(s, 6, o->content_type);
        sq_bind_text(s, 7, o->sha256);
        sq_bind_text(s, 8, o->tags_json);
        sq_bind_text(s, 9, o->attrs_json);
        sqlite3_bind_int64(s, 10, w->now);
        sqlite3_bind_int64(s, 11, w->now);
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
    int rc = abort_upload(x, w->tenant, w->in.upload_abort.upload_id, "aborted");
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
    jw_t jw;
    jw_init(&jw, &jur);
    jw_arr_open(&jw);
    for (size_t i = 0; i < t->njurisdictions; i++)
        jw_str(&jw, t->jurisdictions[i]);
    jw_arr_close(&jw);
    jw_finish(&jw);
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
    sqlite3_stmt *s = stmt(x, w->in.erasure_done.ok ? SQ_ERASURE_DELETE : SQ_ERASURE_FAILED);
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
    const char **pairs = arena_alloc(w->arena, 2 * cap * sizeof(char *));
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            const char **np = arena_alloc(w->arena, 4 * cap * sizeof(char *));
            memcpy(np, pairs, 2 * cap * sizeof(char *));
            pairs = np;
            cap *= 2;
        }
        pairs[2 * n] = sq_text(s, 0, w->arena);
        pairs[2 * n + 1] = sq_text(s, 1, w->arena);
        n++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return fail(x, rc, "expired uploads");
    for (size_t i = 0; i < n; i++)
        if ((rc = abort_upload(x, pairs[2 * i], pairs[2 * i + 1], "expired")) != 0 && rc != ERR_NOT_FOUND)
            return rc;
    w->affected = (int64_t)n;
    return 0;
}

typedef int (*op_fn)(wctx_t *x);

static const op_fn OPS[] = {
    [DB_OP_UPLOAD_BEGIN] = op_upload_begin,   [DB_OP_UPLOAD_COMPLETE] = op_upload_complete,
    [DB_OP_UPLOAD_ABORT] = op_upload_abort,   [DB_OP_OBJECT_UPDATE] = op_object_update,
    [DB_OP_OBJECT_DELETE] = op_object_delete, [DB_OP_STORE_PUT] = op_store_put,
    [DB_OP_STORE_DELETE] = op_store_delete,   [DB_OP_TENANT_PUT] = op_tenant_put,
    [DB_OP_KEY_CREATE] = op_key_create,       [DB_OP_KEY_REVOKE] = op_key_revoke,
    [DB_OP_ERASURE_DONE] = op_erasure_done,   [DB_OP_UPLOADS_EXPIRE] = op_uploads_expire,
};

/* Runs a control statement (BEGIN, SAVEPOINT, ...); returns the SQLite result code. */
static int control(sq_conn_t *c, sq_stmt_id_t id)
{
    sqlite3_stmt *s = sq_stmt(c, id);
    if (s == NULL)
        return SQLITE_ERROR;
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int sq_write_batch(db_t *base, db_write_t *const *ops, size_t n)
{
    sq_db_t *db = (sq_db_t *)base;
    sq_conn_t *c = db->writer;
    err_t e;
    int rc;

    if ((rc = control(c, SQ_TX_BEGIN)) != SQLITE_OK)
        return sq_error(c, rc, "begin", &e);
    for (size_t i = 0; i < n; i++) {
        db_write_t *w = ops[i];
        wctx_t x = {c, w, 0};
        err_clear(&w->err);
        w->created = false;
        w->affected = 0;
        if ((rc = control(c, SQ_SP_BEGIN)) != SQLITE_OK)
            goto rollback;
        size_t nops = sizeof(OPS) / sizeof(OPS[0]);
        w->rc = (size_t)w->op < nops && OPS[w->op] ? OPS[w->op](&x) : err_set(&w->err, ERR_INTERNAL, "unknown write op");
        if (x.fatal) {
            rc = SQLITE_IOERR;
            goto rollback;
        }
        if (w->rc != 0 && w->err.code == 0)
            err_set(&w->err, w->rc, NULL);
        if (w->rc != 0 && (rc = control(c, SQ_SP_ROLLBACK)) != SQLITE_OK)
            goto rollback;
        if ((rc = control(c, SQ_SP_RELEASE)) != SQLITE_OK)
            goto rollback;
    }
    if ((rc = control(c, SQ_TX_COMMIT)) != SQLITE_OK)
        goto rollback;
    return 0;
rollback:
    control(c, SQ_TX_ROLLBACK);
    return sq_error(c, rc, "write transaction", &e);
}
