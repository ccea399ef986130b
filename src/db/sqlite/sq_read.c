/*
 * sq_read.c - read queries of the SQLite backend (run on loop threads, one connection each).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/sqlite/sq.h"
#include "util/buf.h"
#include "util/timeutil.h"

/* The connection of a read, its shared snapshot (if it shares one) brought up to date. */
static sq_conn_t *reader(db_conn_t *conn)
{
    sq_conn_t *c = (sq_conn_t *)conn;
    sq_snapshot(c);
    return c;
}

/* Runs a statement expected to produce one row; returns 0 with the row ready, ERR_NOT_FOUND, or an error. */
static int step_one(sq_conn_t *c, sqlite3_stmt *s, const char *what, err_t *e)
{
    if (s == NULL)
        return sq_error(c, SQLITE_ERROR, what, e);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        return 0;
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return ERR_NOT_FOUND;
    return sq_error(c, rc, what, e);
}

static void read_key(sqlite3_stmt *s, int first, db_key_t *k)
{
    const void *h = sqlite3_column_blob(s, first);
    if (h && sqlite3_column_bytes(s, first) == 32)
        memcpy(k->secret_hash, h, 32);
    else
        memset(k->secret_hash, 0, 32);
    k->scopes = sqlite3_column_int(s, first + 1);
    k->created_at = sqlite3_column_int64(s, first + 2);
    k->revoked_at = sqlite3_column_int64(s, first + 3);
}

int sq_read_key_get(db_conn_t *conn, const char *key_id, db_key_t *out, arena_t *a, err_t *e)
{
    sq_conn_t *c = reader(conn);
    sqlite3_stmt *s = sq_stmt(c, SQ_KEY_GET);
    int rc;
    if (s)
        sq_bind_text(s, 1, key_id);
    if ((rc = step_one(c, s, "key lookup", e)) != 0)
        return rc;
    out->key_id = arena_strdup(a, key_id);
    out->tenant = sq_text(s, 0, a);
    read_key(s, 1, out);
    sqlite3_reset(s);
    return 0;
}

int sq_read_key_list(db_conn_t *conn, const char *tenant, db_key_t **out, size_t *n, arena_t *a, err_t *e)
{
    sq_conn_t *c = reader(conn);
    sqlite3_stmt *s = sq_stmt(c, SQ_KEY_LIST);
    if (s == NULL)
        return sq_error(c, SQLITE_ERROR, "key list", e);
    sq_bind_text(s, 1, tenant);
    size_t cap = 16, cnt = 0;
    db_key_t *keys = arena_alloc(a, cap * sizeof(*keys));
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (cnt == cap) {
            db_key_t *nk = arena_alloc(a, 2 * cap * sizeof(*keys));
            memcpy(nk, keys, cap * sizeof(*keys));
            keys = nk;
            cap *= 2;
        }
        keys[cnt].key_id = sq_text(s, 0, a);
        keys[cnt].tenant = tenant;
        read_key(s, 1, &keys[cnt]);
        cnt++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return sq_error(c, rc, "key list", e);
    *out = keys;
    *n = cnt;
    return 0;
}

static void read_tenant(sqlite3_stmt *s, tenant_t *t, arena_t *a)
{
    t->id = sq_text(s, 0, a);
    db_tenant_jurisdictions((const char *)sqlite3_column_text(s, 1), (size_t)sqlite3_column_bytes(s, 1), t, a);
    t->copies = sqlite3_column_int(s, 2);
    t->url_expires = sqlite3_column_int64(s, 3);
    t->url_expires_max = sqlite3_column_int64(s, 4);
    t->created_at = sqlite3_column_int64(s, 5);
    t->updated_at = sqlite3_column_int64(s, 6);
    t->audit_reads = sqlite3_column_int(s, 7) != 0;
    t->audit_key_sealed = NULL;
    t->audit_key_sealed_len = 0;
    int n = sqlite3_column_bytes(s, 8);
    const void *key = sqlite3_column_blob(s, 8);
    if (key && n > 0) {
        uint8_t *copy = arena_alloc(a, (size_t)n);
        memcpy(copy, key, (size_t)n);
        t->audit_key_sealed = copy;
        t->audit_key_sealed_len = (size_t)n;
    }
}

int sq_read_tenant_get(db_conn_t *conn, const char *id, tenant_t *out, arena_t *a, err_t *e)
{
    sq_conn_t *c = reader(conn);
    sqlite3_stmt *s = sq_stmt(c, SQ_TENANT_GET);
    int rc;
    if (s)
        sq_bind_text(s, 1, id);
    if ((rc = step_one(c, s, "tenant lookup", e)) != 0)
        return rc;
    read_tenant(s, out, a);
    sqlite3_reset(s);
    return 0;
}

int sq_read_tenant_list(db_conn_t *conn, tenant_t **out, size_t *n, arena_t *a, err_t *e)
{
    sq_conn_t *c = reader(conn);
    sqlite3_stmt *s = sq_stmt(c, SQ_TENANT_LIST);
    if (s == NULL)
        return sq_error(c, SQLITE_ERROR, "tenant list", e);
    size_t cap = 16, cnt = 0;
    tenant_t *ts = arena_alloc(a, cap * sizeof(*ts));
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (cnt == cap) {
            tenant_t *nt = arena_alloc(a, 2 * cap * sizeof(*ts));
            memcpy(nt, ts, cap * sizeof(*ts));
            ts = nt;
            cap *= 2;
        }
        read_tenant(s, &ts[cnt++], a);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return sq_error(c, rc, "tenant list", e);
    *out = ts;
    *n = cnt;
    return 0;
}

int sq_read_store_list(db_conn_t *conn, db_store_row_t **out, size_t *n, arena_t *a, err_t *e)
{
    sq_conn_t *c = reader(conn);
    sqlite3_stmt *s = sq_stmt(c, SQ_STORE_LIST);
    if (s == NULL)
        return sq_error(c, SQLITE_ERROR, "store list", e);
    size_t cap = 16, cnt = 0;
    db_store_row_t *rows = arena_alloc(a, cap * sizeof(*rows));
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (cnt == cap) {
            db_store_row_t *nr = arena_alloc(a, 2 * cap * sizeof(*rows));
            memcpy(nr, rows, cap * sizeof(*rows));
            rows = nr;
            cap *= 2;
        }
        db_store_row_t *r = &rows[cnt++];
        memset(r, 0, sizeof(*r));
        store_t *st = &r->store;
        st->id = sq_text(s, 0, a);
        st->provider = sq_text(s, 1, a);
        st->endpoint = sq_text(s, 2, a);
        st->bucket = sq_text(s, 3, a);
        st->region = sq_text(s, 4, a);
        const char *country = (const char *)sqlite3_column_text(s, 5);
        snprintf(st->country, sizeof(st->country), "%s", country ? country : "");
        const char *status = (const char *)sqlite3_column_text(s, 6);
        if (status == NULL || store_status_parse(status, &st->status) != 0)
            st->status = STORE_OFFLINE;
        st->weight = sqlite3_column_int(s, 7);
        st->path_style = sqlite3_column_int(s, 8) != 0;
        st->public_host = sq_text(s, 9, a);
        st->account = sq_text(s, 10, a);
        int blen = sqlite3_column_bytes(s, 11);
        const void *blob = sqlite3_column_blob(s, 11);
        if (blob && blen > 0) {
            uint8_t *copy = arena_alloc(a, (size_t)blen);
            memcpy(copy, blob, (size_t)blen);
            r->sealed = copy;
            r->sealed_len = (size_t)blen;
        }
        st->created_at = sqlite3_column_int64(s, 12);
        st->updated_at = sqlite3_column_int64(s, 13);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return sq_error(c, rc, "store list", e);
    *out = rows;
    *n = cnt;
    return 0;
}

/* Appends the location in columns first..first+3 (store, name, state, mp_id) to o->locs,
 * which holds *cap entries. */
static void add_location(sqlite3_stmt *s, int first, object_t *o, size_t *cap, arena_t *a)
{
    if (o->nlocs == *cap) {
        location_t *nl = arena_alloc(a, 2 * *cap * sizeof(location_t));
        memcpy(nl, o->locs, *cap * sizeof(location_t));
        o->locs = nl;
        *cap *= 2;
    }
    location_t *l = &o->locs[o->nlocs++];
    l->store = sq_text(s, first, a);
    l->name = sq_text(s, first + 1, a);
    l->state = sqlite3_column_int(s, first + 2) == 1 ? LOC_PRESENT : LOC_PENDING;
    l->mp_id = sq_text(s, first + 3, a);
}

int sq_read_locations(sq_conn_t *c, const char *tenant, const char *object_id, object_t *o, arena_t *a, err_t *e)
{
    sqlite3_stmt *s = sq_stmt(c, SQ_LOCATIONS_GET);
    if (s == NULL)
        return sq_error(c, SQLITE_ERROR, "locations", e);
    sq_bind_text(s, 1, tenant);
    sq_bind_text(s, 2, object_id);
    size_t cap = 4;
    o->locs = arena_alloc(a, cap * sizeof(location_t));
    o->nlocs = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        add_location(s, 0, o, &cap, a);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : sq_error(c, rc, "locations", e);
}

/* Fills the object columns in the order of OBJECT_GET_LOCS (id first) starting at column `first`. */
static void read_object_cols(sqlite3_stmt *s, int first, object_t *o, arena_t *a)
{
    o->id = sq_text(s, first, a);
    o->version = sqlite3_column_int64(s, first + 1);
    o->size = sqlite3_column_int64(s, first + 2);
    o->content_type = sq_text(s, first + 3, a);
    o->sha256 = sq_text(s, first + 4, a);
    o->tags_json = sq_text(s, first + 5, a);
    o->attrs_json = sq_text(s, first + 6, a);
    o->created_at = sqlite3_column_int64(s, first + 7);
    o->updated_at = sqlite3_column_int64(s, first + 8);
    o->pending = false;
}

int sq_read_object_get(db_conn_t *conn, const char *tenant, const char *key, object_t *out, arena_t *a, err_t *e)
{
    sq_conn_t *c = reader(conn);
    sqlite3_stmt *s = sq_stmt(c, SQ_OBJECT_GET_LOCS);
    int rc;
    if (s) {
        sq_bind_text(s, 1, tenant);
        sq_bind_text(s, 2, key);
    }
    if ((rc = step_one(c, s, "object lookup", e)) != 0)
        return rc;
    memset(out, 0, sizeof(*out));
    out->tenant = tenant;
    out->key = key;
    read_object_cols(s, 0, out, a);
    /* one row per location (a row of NULLs for none), in store order */
    size_t cap = 4;
    out->locs = arena_alloc(a, cap * sizeof(location_t));
    do {
        if (sqlite3_column_type(s, 9) != SQLITE_NULL)
            add_location(s, 9, out, &cap, a);
    } while ((rc = sqlite3_step(s)) == SQLITE_ROW);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : sq_error(c, rc, "object lookup", e);
}

int sq_read_upload_get(db_conn_t *conn, const char *tenant, const char *upload_id, upload_t *out, arena_t *a, err_t *e)
{
    sq_conn_t *c = reader(conn);
    sqlite3_stmt *s = sq_stmt(c, SQ_UPLOAD_GET);
    int rc;
    if (s) {
        sq_bind_text(s, 1, tenant);
        sq_bind_text(s, 2, upload_id);
    }
    if ((rc = step_one(c, s, "upload lookup", e)) != 0)
        return rc;
    memset(out, 0, sizeof(*out));
    object_t *o = &out->obj;
    o->tenant = tenant;
    o->id = arena_strdup(a, upload_id);
    o->key = sq_text(s, 0, a);
    out->cond.kind = (cond_kind_t)sqlite3_column_int(s, 1);
    out->cond.version = sqlite3_column_int64(s, 2);
    o->version = sqlite3_column_int64(s, 3);
    o->size = sqlite3_column_int64(s, 4);
    o->content_type = sq_text(s, 5, a);
    o->sha256 = sq_text(s, 6, a);
    o->tags_json = sq_text(s, 7, a);
    o->attrs_json = sq_text(s, 8, a);
    o->created_at = o->updated_at = sqlite3_column_int64(s, 9);
    out->expires_at = sqlite3_column_int64(s, 10);
    out->part_size = sqlite3_column_int64(s, 11);
    out->parts = sqlite3_column_int(s, 12);
    o->pending = true;
    sqlite3_reset(s);
    return sq_read_locations(c, tenant, o->id, o, a, e);
}

/*
 * Listing. Without tag filters the objects primary key is scanned in key order. With tag
 * filters the (tenant, k, v, key, tags) index of the first filter drives the scan, in key
 * order, and every further filter is checked on that index entry: its tags column is the
 * object's tag set as canonical JSON (tagset_to_json: keys sorted, compact), which holds the
 * member "k":"v" exactly when the object has that tag. The member is looked for with what
 * must precede it ('{' or ','): inside a JSON string every '"' is escaped, so the text
 * {"k":"v" or ,"k":"v" with bare quotes can only be the structure itself.
 */
static int build_list_sql(size_t ntags, buf_t *b)
{
    int rc = 0;
    if (ntags == 0) {
        rc |= buf_puts(b, "SELECT o.key, o.id, o.version, o.size, o.content_type, o.sha256, o.tags, o.attrs, o.created_at,"
                          " o.updated_at FROM objects o WHERE o.tenant = ?1 AND o.key > ?2 AND o.key >= ?3 AND o.key < ?4");
    } else {
        rc |= buf_puts(b, "SELECT o.key, o.id, o.version, o.size, o.content_type, o.sha256, o.tags, o.attrs, o.created_at,"
                          " o.updated_at FROM object_tags t0 JOIN objects o ON o.tenant = t0.tenant AND o.key = t0.key"
                          " WHERE t0.tenant = ?1 AND t0.k = ?6 AND t0.v = ?7 AND t0.key > ?2 AND t0.key >= ?3 AND t0.key < ?4");
        for (size_t i = 1; i < ntags; i++)
            rc |= buf_printf(b, " AND (instr(t0.tags, ?%zu) > 0 OR instr(t0.tags, ?%zu) > 0)", 6 + 2 * i, 7 + 2 * i);
    }
    rc |= buf_puts(b, ntags ? " ORDER BY t0.key LIMIT ?5" : " ORDER BY o.key LIMIT ?5");
    return rc;
}

/*
 * With several tag filters, the first one drives the scan and the others are probes, so the
 * sparsest filter should come first: driving `kind=3` (1 object in 7) to find objects that
 * also have `shard=5` (1 in 100) reads 100 times more index entries than the other way round.
 * SQLite has no statistics per tag value, so ask the index itself: the filter whose 16th
 * matching key after the start point lies furthest along is the sparsest there (one with
 * fewer than 16 matches wins at once). It costs at most 16 index steps per filter, an eighth
 * of a first page's search: a probe from the start of the tenant's keys (a first page without
 * a prefix, most searches) is kept for SQ_PROBE_TTL_MS per connection. A stale one can only
 * pick a slower filter to drive with for that long; the answer is the same either way.
 * Returns the index of the filter to drive with.
 */
#define PROBE_SKIP 15

/* FNV-1a over tenant, key and value (NUL-separated); never 0, which marks an empty slot. */
static uint64_t probe_id(const char *tenant, const tag_t *t)
{
    uint64_t h = 14695981039346656037ull;
    const char *parts[3] = {tenant, t->k, t->v};
    for (int i = 0; i < 3; i++) {
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++)
            h = (h ^ *p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    return h ? h : 1;
}

/* One filter's probe: 1 with its 16th matching key in *key (malloc'ed), 0 if it has fewer
 * matches than that, -1 if the probe could not run. */
static int probe(sq_conn_t *c, const char *tenant, const tag_t *t, const obj_query_t *q, const char *upper, char **key)
{
    sqlite3_stmt *s = sq_stmt(c, SQ_TAG_PROBE);
    if (s == NULL)
        return -1;
    c->probes_run++;
    sq_bind_text(s, 1, tenant);
    sq_bind_text(s, 2, t->k);
    sq_bind_text(s, 3, t->v);
    sq_bind_text(s, 4, q->start_after ? q->start_after : "");
    sq_bind_text(s, 5, q->prefix);
    sq_bind_text(s, 6, upper);
    int rc = sqlite3_step(s), found = 0;
    *key = NULL;
    if (rc == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(s, 0);
        if ((*key = strdup(k ? k : "")) == NULL)
            found = -1;
        else
            found = 1;
    } else if (rc != SQLITE_DONE) {
        found = -1;
    }
    sqlite3_reset(s);
    return found;
}

/* probe() from the start of the tenant's keys, through the connection's cache. *key stays
 * owned by the cache (valid until the next call). */
static int probe_cached(sq_conn_t *c, const char *tenant, const tag_t *t, const obj_query_t *q, const char *upper, const char **key)
{
    uint64_t id = probe_id(tenant, t);
    sq_probe_t *set = &c->probes[id % (SQ_PROBE_SLOTS / SQ_PROBE_WAYS) * SQ_PROBE_WAYS], *slot = NULL;
    int64_t now = time_mono_ns() / 1000000;
    for (int w = 0; w < SQ_PROBE_WAYS && slot == NULL; w++)
        if (set[w].id == id)
            slot = &set[w];
    if (slot == NULL) { /* not kept: an empty slot of the set, else the one probed longest ago */
        slot = &set[0];
        for (int w = 1; w < SQ_PROBE_WAYS; w++)
            if (set[w].at_ms < slot->at_ms)
                slot = &set[w];
    }
    if (slot->id != id || now - slot->at_ms > SQ_PROBE_TTL_MS) {
        char *k;
        int rc = probe(c, tenant, t, q, upper, &k);
        if (rc < 0)
            return rc;
        free(slot->key);
        *slot = (sq_probe_t){.id = id, .at_ms = now, .key = k};
    }
    *key = slot->key;
    return slot->key != NULL;
}

static size_t sparsest_tag(sq_conn_t *c, const char *tenant, const obj_query_t *q, const char *upper)
{
    bool from_start = (q->start_after == NULL || *q->start_after == '\0') && *q->prefix == '\0';
    size_t best = 0;
    char *best_key = NULL;
    for (size_t i = 0; i < q->tags.n; i++) {
        char *own = NULL; /* a probe that is not cached (a later page, a prefix) */
        const char *k;
        int rc = from_start ? probe_cached(c, tenant, &q->tags.items[i], q, upper, &k)
                            : probe(c, tenant, &q->tags.items[i], q, upper, &own);
        if (!from_start)
            k = own;
        if (rc < 0)
            break;
        if (rc == 0) { /* fewer matches than the probe skips: nothing is sparser */
            best = i;
            break;
        }
        if (best_key == NULL || strcmp(k, best_key) > 0) {
            free(best_key);
            best_key = strdup(k);
            best = i;
        }
        free(own);
    }
    free(best_key);
    return best;
}

int sq_read_object_list(db_conn_t *conn, const char *tenant, const obj_query_t *q, int limit, object_t **out, size_t *n, arena_t *a,
                        err_t *e)
{
    sq_conn_t *c = reader(conn);
    sqlite3_stmt *s = NULL;
    bool cached = q->tags.n <= SQ_LIST_CACHED;
    int rc;

    if (cached && c->list_st[q->tags.n]) {
        s = c->list_st[q->tags.n];
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    } else {
        buf_t sql = BUF_INIT;
        build_list_sql(q->tags.n, &sql);
        rc = sqlite3_prepare_v3(c->h, sql.base, -1, cached ? SQLITE_PREPARE_PERSISTENT : 0, &s, NULL);
        buf_release(&sql);
        if (rc != SQLITE_OK)
            return sq_error(c, rc, "list", e);
        if (cached)
            c->list_st[q->tags.n] = s;
    }

    /* the probes and the list in one read transaction: a reader starting a transaction after
     * any commit drops its whole page cache, so separate ones would read the same index pages
     * again; and the list sees the snapshot the probes saw (a shared snapshot is one already) */
    bool txn = q->tags.n > 1 && !c->snap && sq_control(c, SQ_RD_BEGIN) == SQLITE_OK;
    size_t pl = strlen(q->prefix);
    const char *upper = pl ? obj_prefix_successor(q->prefix, pl, a) : "\xff";
    sq_bind_text(s, 1, tenant);
    sq_bind_text(s, 2, q->start_after ? q->start_after : "");
    sq_bind_text(s, 3, q->prefix);
    sq_bind_text(s, 4, upper);
    sqlite3_bind_int(s, 5, limit);
    /* the sparsest filter drives (?6, ?7); the others follow in their order */
    size_t lead = q->tags.n > 1 ? sparsest_tag(c, tenant, q, upper) : 0;
    for (size_t i = 0, slot = 1; i < q->tags.n; i++) {
        if (i == lead) {
            sq_bind_text(s, 6, q->tags.items[i].k);
            sq_bind_text(s, 7, q->tags.items[i].v);
            continue;
        }
        const char *open, *comma;
        tagset_member(&q->tags.items[i], &open, &comma, a);
        sq_bind_text(s, 6 + 2 * (int)slot, open);
        sq_bind_text(s, 7 + 2 * (int)slot, comma);
        slot++;
    }

    object_t *objs = arena_alloc(a, (size_t)(limit > 0 ? limit : 1) * sizeof(object_t));
    size_t cnt = 0;
    while (cnt < (size_t)limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        object_t *o = &objs[cnt++];
        memset(o, 0, sizeof(*o));
        o->tenant = tenant;
        o->key = sq_text(s, 0, a);
        read_object_cols(s, 1, o, a);
    }
    if (cnt == (size_t)limit)
        rc = SQLITE_DONE;
    if (cached)
        sqlite3_reset(s);
    else
        sqlite3_finalize(s);
    if (txn)
        sq_control(c, SQ_TX_COMMIT); /* a read transaction: ending it cannot lose anything */
    if (rc != SQLITE_DONE)
        return sq_error(c, rc, "list", e);
    *out = objs;
    *n = cnt;
    return 0;
}

int sq_read_erasure_list(db_conn_t *conn, size_t max, db_erasure_t **out, size_t *n, arena_t *a, err_t *e)
{
    sq_conn_t *c = reader(conn);
    sqlite3_stmt *s = sq_stmt(c, SQ_ERASURE_LIST);
    if (s == NULL)
        return sq_error(c, SQLITE_ERROR, "erasure list", e);
    sqlite3_bind_int64(s, 1, (sqlite3_int64)max);
    db_erasure_t *list = arena_alloc(a, (max ? max : 1) * sizeof(*list));
    size_t cnt = 0;
    int rc;
    while (cnt < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        db_erasure_t *x = &list[cnt++];
        x->seq = sqlite3_column_int64(s, 0);
        x->tenant = sq_text(s, 1, a);
        x->store = sq_text(s, 2, a);
        x->name = sq_text(s, 3, a);
        x->attempts = sqlite3_column_int(s, 4);
        x->mp_id = sq_text(s, 5, a);
    }
    if (cnt == max)
        rc = SQLITE_DONE;
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return sq_error(c, rc, "erasure list", e);
    *out = list;
    *n = cnt;
    return 0;
}

/* Copies a 32-byte hash column (zeros if it has another size). */
static void read_hash(sqlite3_stmt *s, int i, uint8_t out[AUDIT_HASH_LEN])
{
    const void *p = sqlite3_column_blob(s, i);
    if (p && sqlite3_column_bytes(s, i) == AUDIT_HASH_LEN)
        memcpy(out, p, AUDIT_HASH_LEN);
    else
        memset(out, 0, AUDIT_HASH_LEN);
}

int sq_read_audit_heads(db_conn_t *conn, audit_head_t **out, size_t *n, arena_t *a, err_t *e)
{
    sq_conn_t *c = reader(conn);
    sqlite3_stmt *s = sq_stmt(c, SQ_AUDIT_HEADS);
    if (s == NULL)
        return sq_error(c, SQLITE_ERROR, "audit heads", e);
    size_t cap = 16, cnt = 0;
    audit_head_t *heads = arena_alloc(a, cap * sizeof(*heads));
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (cnt == cap) {
            audit_head_t *nh = arena_alloc(a, 2 * cap * sizeof(*heads));
            memcpy(nh, heads, cap * sizeof(*heads));
            heads = nh;
            cap *= 2;
        }
        heads[cnt].tenant = sq_text(s, 0, a);
        heads[cnt].seq = sqlite3_column_int64(s, 1);
        read_hash(s, 2, heads[cnt].hash);
        cnt++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return sq_error(c, rc, "audit heads", e);
    *out = heads;
    *n = cnt;
    return 0;
}

int sq_read_audit_list(db_conn_t *conn, const char *only_tenant, const char *after_tenant, int64_t after_seq, size_t limit,
                       audit_entry_t **out, size_t *n, arena_t *a, err_t *e)
{
    sq_conn_t *c = reader(conn);
    sqlite3_stmt *s = sq_stmt(c, only_tenant ? SQ_AUDIT_LIST_ONE : SQ_AUDIT_LIST_ALL);
    if (s == NULL)
        return sq_error(c, SQLITE_ERROR, "audit list", e);
    sq_bind_text(s, 1, only_tenant ? only_tenant : after_tenant ? after_tenant : "");
    sqlite3_bind_int64(s, 2, after_seq);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
    audit_entry_t *list = arena_alloc(a, (limit ? limit : 1) * sizeof(*list));
    size_t cnt = 0;
    int rc = SQLITE_DONE;
    while (cnt < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        audit_entry_t *x = &list[cnt++];
        x->tenant = sq_text(s, 0, a);
        x->seq = sqlite3_column_int64(s, 1);
        x->time = sqlite3_column_int64(s, 2);
        x->actor = sq_text(s, 3, a);
        x->action = sq_text(s, 4, a);
        x->subject = sq_text(s, 5, a);
        x->detail = sq_text(s, 6, a);
        read_hash(s, 7, x->prev_hash);
        read_hash(s, 8, x->hash);
    }
    if (cnt == limit)
        rc = SQLITE_DONE;
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return sq_error(c, rc, "audit list", e);
    *out = list;
    *n = cnt;
    return 0;
}

int sq_read_checkpoint_list(db_conn_t *conn, int64_t after, size_t limit, db_checkpoint_t **out, size_t *n, arena_t *a, err_t *e)
{
    sq_conn_t *c = reader(conn);
    sqlite3_stmt *s = sq_stmt(c, SQ_CHECKPOINT_LIST);
    if (s == NULL)
        return sq_error(c, SQLITE_ERROR, "checkpoint list", e);
    sqlite3_bind_int64(s, 1, after);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
    db_checkpoint_t *list = arena_alloc(a, (limit ? limit : 1) * sizeof(*list));
    size_t cnt = 0;
    int rc = SQLITE_DONE;
    while (cnt < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        db_checkpoint_t *x = &list[cnt++];
        x->seq = sqlite3_column_int64(s, 0);
        x->time = sqlite3_column_int64(s, 1);
        read_hash(s, 2, x->root);
        x->heads = sq_text(s, 3, a);
        int sl = sqlite3_column_bytes(s, 4);
        uint8_t *sig = arena_alloc(a, sl > 0 ? (size_t)sl : 1);
        if (sl > 0)
            memcpy(sig, sqlite3_column_blob(s, 4), (size_t)sl);
        x->signature = sig;
        x->signature_len = sl > 0 ? (size_t)sl : 0;
    }
    if (cnt == limit)
        rc = SQLITE_DONE;
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return sq_error(c, rc, "checkpoint list", e);
    *out = list;
    *n = cnt;
    return 0;
}
