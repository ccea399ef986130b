/*
 * pg_read.c - read queries of the PostgreSQL backend. They run on database reader threads
 * (never on a loop thread), each with its own connection; lists and searches may go to a
 * read replica that is close enough behind (pg_replica.c).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pg/pg.h"
#include "util/timeutil.h"

#define PG_CONN(c) ((pg_conn_t *)(c))

/* Runs a statement; on failure returns its error code (e filled). */
#define RUN(r, link, id, params, what)                                                                                             \
    do {                                                                                                                           \
        if (((r) = pg_stmt((link), (id), (params), (what), e)) == NULL)                                                            \
            return e->code ? e->code : ERR_UNAVAILABLE;                                                                            \
    } while (0)

static void read_key(const PGresult *r, int row, int first, db_key_t *k)
{
    pg_fixed(r, row, first, k->secret_hash, 32);
    k->scopes = (int)pg_i64(r, row, first + 1);
    k->created_at = pg_i64(r, row, first + 2);
    k->revoked_at = pg_i64(r, row, first + 3);
}

int pg_read_key_get(db_conn_t *conn, const char *key_id, db_key_t *out, arena_t *a, err_t *e)
{
    pg_params_t p;
    PGresult *r;
    pg_params_init(&p);
    pg_param_text(&p, key_id);
    RUN(r, &PG_CONN(conn)->link, PG_KEY_GET, &p, "key lookup");
    if (PQntuples(r) == 0) {
        PQclear(r);
        return ERR_NOT_FOUND;
    }
    out->key_id = arena_strdup(a, key_id);
    out->tenant = pg_text(r, 0, 0, a);
    read_key(r, 0, 1, out);
    PQclear(r);
    return 0;
}

int pg_read_key_list(db_conn_t *conn, const char *tenant, db_key_t **out, size_t *n, arena_t *a, err_t *e)
{
    pg_params_t p;
    PGresult *r;
    pg_params_init(&p);
    pg_param_text(&p, tenant);
    RUN(r, &PG_CONN(conn)->link, PG_KEY_LIST, &p, "key list");
    int rows = PQntuples(r);
    db_key_t *keys = arena_calloc(a, rows ? (size_t)rows : 1, sizeof(*keys));
    for (int i = 0; i < rows; i++) {
        keys[i].key_id = pg_text(r, i, 0, a);
        keys[i].tenant = tenant;
        read_key(r, i, 1, &keys[i]);
    }
    PQclear(r);
    *out = keys;
    *n = (size_t)rows;
    return 0;
}

static void read_tenant(const PGresult *r, int row, tenant_t *t, arena_t *a)
{
    memset(t, 0, sizeof(*t));
    t->id = pg_text(r, row, 0, a);
    db_tenant_jurisdictions(pg_null(r, row, 1) ? NULL : PQgetvalue(r, row, 1), (size_t)PQgetlength(r, row, 1), t, a);
    t->copies = (int)pg_i64(r, row, 2);
    t->url_expires = pg_i64(r, row, 3);
    t->url_expires_max = pg_i64(r, row, 4);
    t->created_at = pg_i64(r, row, 5);
    t->updated_at = pg_i64(r, row, 6);
    t->audit_reads = pg_i64(r, row, 7) != 0;
    t->audit_key_sealed = pg_bytes(r, row, 8, &t->audit_key_sealed_len, a);
}

int pg_read_tenant_get(db_conn_t *conn, const char *id, tenant_t *out, arena_t *a, err_t *e)
{
    pg_params_t p;
    PGresult *r;
    pg_params_init(&p);
    pg_param_text(&p, id);
    RUN(r, &PG_CONN(conn)->link, PG_TENANT_GET, &p, "tenant lookup");
    if (PQntuples(r) == 0) {
        PQclear(r);
        return ERR_NOT_FOUND;
    }
    read_tenant(r, 0, out, a);
    PQclear(r);
    return 0;
}

int pg_read_tenant_list(db_conn_t *conn, tenant_t **out, size_t *n, arena_t *a, err_t *e)
{
    PGresult *r;
    RUN(r, &PG_CONN(conn)->link, PG_TENANT_LIST, NULL, "tenant list");
    int rows = PQntuples(r);
    tenant_t *ts = arena_calloc(a, rows ? (size_t)rows : 1, sizeof(*ts));
    for (int i = 0; i < rows; i++)
        read_tenant(r, i, &ts[i], a);
    PQclear(r);
    *out = ts;
    *n = (size_t)rows;
    return 0;
}

int pg_read_store_list(db_conn_t *conn, db_store_row_t **out, size_t *n, arena_t *a, err_t *e)
{
    PGresult *r;
    RUN(r, &PG_CONN(conn)->link, PG_STORE_LIST, NULL, "store list");
    int rows = PQntuples(r);
    db_store_row_t *list = arena_calloc(a, rows ? (size_t)rows : 1, sizeof(*list));
    for (int i = 0; i < rows; i++) {
        store_t *st = &list[i].store;
        st->id = pg_text(r, i, 0, a);
        st->provider = pg_text(r, i, 1, a);
        st->endpoint = pg_text(r, i, 2, a);
        st->bucket = pg_text(r, i, 3, a);
        st->region = pg_text(r, i, 4, a);
        const char *country = pg_text(r, i, 5, a);
        snprintf(st->country, sizeof(st->country), "%s", country ? country : "");
        const char *status = pg_text(r, i, 6, a);
        if (status == NULL || store_status_parse(status, &st->status) != 0)
            st->status = STORE_OFFLINE;
        st->weight = (int)pg_i64(r, i, 7);
        st->path_style = pg_i64(r, i, 8) != 0;
        st->public_host = pg_text(r, i, 9, a);
        st->account = pg_text(r, i, 10, a);
        list[i].sealed = pg_bytes(r, i, 11, &list[i].sealed_len, a);
        st->created_at = pg_i64(r, i, 12);
        st->updated_at = pg_i64(r, i, 13);
    }
    PQclear(r);
    *out = list;
    *n = (size_t)rows;
    return 0;
}

/* Locations from rows [from, to) of r, columns first..first+3 (store, name, state, mp_id). */
static void locations_rows(const PGresult *r, int first, int from, int to, object_t *o, arena_t *a)
{
    o->locs = arena_calloc(a, to > from ? (size_t)(to - from) : 1, sizeof(location_t));
    o->nlocs = 0;
    for (int i = from; i < to; i++) {
        if (pg_null(r, i, first))
            continue;
        location_t *l = &o->locs[o->nlocs++];
        l->store = pg_text(r, i, first, a);
        l->name = pg_text(r, i, first + 1, a);
        l->state = pg_i64(r, i, first + 2) == 1 ? LOC_PRESENT : LOC_PENDING;
        l->mp_id = pg_text(r, i, first + 3, a);
    }
}

void pg_locations_from(const PGresult *r, int first, object_t *o, arena_t *a)
{
    locations_rows(r, first, 0, PQntuples(r), o, a);
}

/* The object columns id, version, size, content_type, sha256, tags, attrs, created_at,
 * updated_at starting at column first of a row. */
static void read_object_cols(const PGresult *r, int row, int first, object_t *o, arena_t *a)
{
    o->id = pg_text(r, row, first, a);
    o->version = pg_i64(r, row, first + 1);
    o->size = pg_i64(r, row, first + 2);
    o->content_type = pg_text(r, row, first + 3, a);
    o->sha256 = pg_text(r, row, first + 4, a);
    o->tags_json = pg_text(r, row, first + 5, a);
    o->attrs_json = pg_text(r, row, first + 6, a);
    o->created_at = pg_i64(r, row, first + 7);
    o->updated_at = pg_i64(r, row, first + 8);
    o->pending = false;
}

/* An object from rows [from, to) of an OBJECT_GET-shaped result whose object columns start at
 * column first (its locations follow them, one per row). */
static void object_from_rows(const PGresult *r, int first, int from, int to, const char *tenant, const char *key, object_t *out,
                             arena_t *a)
{
    memset(out, 0, sizeof(*out));
    out->tenant = tenant;
    out->key = key;
    read_object_cols(r, from, first, out, a);
    locations_rows(r, first + 9, from, to, out, a);
}

int pg_read_object_get(db_conn_t *conn, const char *tenant, const char *key, object_t *out, arena_t *a, err_t *e)
{
    pg_params_t p;
    PGresult *r;
    pg_params_init(&p);
    pg_param_text(&p, tenant);
    pg_param_text(&p, key);
    /* locate always reads the primary: read-your-writes */
    RUN(r, &PG_CONN(conn)->link, PG_OBJECT_GET, &p, "object lookup");
    if (PQntuples(r) == 0) {
        PQclear(r);
        return ERR_NOT_FOUND;
    }
    object_from_rows(r, 0, 0, PQntuples(r), tenant, key, out, a);
    PQclear(r);
    return 0;
}

void pg_read_object_get_many(db_conn_t *conn, db_object_get_t *gets, size_t n)
{
    buf_t tenants = BUF_INIT, keys = BUF_INIT;
    pg_params_t p;
    err_t e = {0};
    pg_array_begin(&tenants);
    pg_array_begin(&keys);
    for (size_t i = 0; i < n; i++) {
        pg_array_text(&tenants, gets[i].tenant);
        pg_array_text(&keys, gets[i].key);
    }
    pg_array_end(&tenants);
    pg_array_end(&keys);
    pg_params_init(&p);
    pg_param_buf(&p, &tenants);
    pg_param_buf(&p, &keys);
    PGresult *r = pg_stmt(&PG_CONN(conn)->link, PG_OBJECT_GET_MANY, &p, "object lookup", &e);
    buf_release(&tenants);
    buf_release(&keys);
    if (r == NULL) {
        if (e.code == 0)
            err_set(&e, ERR_UNAVAILABLE, "object lookup failed");
        for (size_t i = 0; i < n; i++) {
            if (e.code == ERR_UNAVAILABLE) {
                /* the database is out of reach: that is every lookup's answer */
                *gets[i].err = e;
                gets[i].rc = ERR_UNAVAILABLE;
            } else {
                /* something in one lookup was refused: each on its own, so only that one fails */
                gets[i].rc = pg_read_object_get(conn, gets[i].tenant, gets[i].key, gets[i].out, gets[i].arena, gets[i].err);
            }
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        gets[i].rc = ERR_NOT_FOUND;
    int rows = PQntuples(r);
    for (int row = 0; row < rows;) {
        int64_t i = pg_i64(r, row, 0) - 1, end = row + 1;
        while (end < rows && pg_i64(r, (int)end, 0) - 1 == i)
            end++;
        if (i >= 0 && (size_t)i < n && gets[i].rc == ERR_NOT_FOUND) {
            object_from_rows(r, 1, row, (int)end, gets[i].tenant, gets[i].key, gets[i].out, gets[i].arena);
            gets[i].rc = 0;
        }
        row = (int)end;
    }
    PQclear(r);
}

void pg_upload_from(const PGresult *r, const char *tenant, const char *upload_id, upload_t *out, arena_t *a)
{
    memset(out, 0, sizeof(*out));
    object_t *o = &out->obj;
    o->tenant = tenant;
    o->id = arena_strdup(a, upload_id);
    o->key = pg_text(r, 0, 0, a);
    out->cond.kind = (cond_kind_t)pg_i64(r, 0, 1);
    out->cond.version = pg_i64(r, 0, 2);
    o->version = pg_i64(r, 0, 3);
    o->size = pg_i64(r, 0, 4);
    o->content_type = pg_text(r, 0, 5, a);
    o->sha256 = pg_text(r, 0, 6, a);
    o->tags_json = pg_text(r, 0, 7, a);
    o->attrs_json = pg_text(r, 0, 8, a);
    o->created_at = o->updated_at = pg_i64(r, 0, 9);
    out->expires_at = pg_i64(r, 0, 10);
    out->part_size = pg_i64(r, 0, 11);
    out->parts = (int)pg_i64(r, 0, 12);
    o->pending = true;
    pg_locations_from(r, 14, o, a);
}

int pg_read_upload_get(db_conn_t *conn, const char *tenant, const char *upload_id, upload_t *out, arena_t *a, err_t *e)
{
    pg_params_t p;
    PGresult *r;
    pg_params_init(&p);
    pg_param_text(&p, tenant);
    pg_param_text(&p, upload_id);
    RUN(r, &PG_CONN(conn)->link, PG_UPLOAD_GET, &p, "upload lookup");
    if (PQntuples(r) == 0) {
        PQclear(r);
        return ERR_NOT_FOUND;
    }
    pg_upload_from(r, tenant, upload_id, out, a);
    PQclear(r);
    return 0;
}

/*
 * Listing. Keys compare in byte order (the "C" collation). The scan starts at a lower bound
 * (exclusive: the cursor's key; inclusive: the prefix or a successor) and stops below an upper
 * bound (the successor of the prefix); with tag filters the (tenant, k, v, key) index of the
 * first filter drives it and every further filter is a probe of object_tags.
 */

/* The smallest string above every string that starts with p[0..n), in code point order (which
 * is byte order for UTF-8): p with its last code point incremented (dropping trailing
 * U+10FFFF). Unlike obj_prefix_successor this is valid UTF-8, which PostgreSQL requires of
 * text. NULL when there is none (no upper bound). */
static char *key_successor(const char *p, size_t n, arena_t *a)
{
    while (n > 0) {
        size_t start = n - 1; /* the last code point's first byte */
        while (start > 0 && ((unsigned char)p[start] & 0xC0) == 0x80)
            start--;
        const unsigned char *s = (const unsigned char *)p + start;
        size_t len = n - start;
        uint32_t cp;
        if (len == 1)
            cp = s[0];
        else if (len == 2)
            cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
        else if (len == 3)
            cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        else
            cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 | (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
        if (cp >= 0x10FFFF) {
            n = start;
            continue;
        }
        cp = cp == 0xD7FF ? 0xE000 : cp + 1;
        char *out = arena_alloc(a, start + 5);
        memcpy(out, p, start);
        char *q = out + start;
        if (cp < 0x80) {
            *q++ = (char)cp;
        } else if (cp < 0x800) {
            *q++ = (char)(0xC0 | cp >> 6);
            *q++ = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            *q++ = (char)(0xE0 | cp >> 12);
            *q++ = (char)(0x80 | (cp >> 6 & 0x3F));
            *q++ = (char)(0x80 | (cp & 0x3F));
        } else {
            *q++ = (char)(0xF0 | cp >> 18);
            *q++ = (char)(0x80 | (cp >> 12 & 0x3F));
            *q++ = (char)(0x80 | (cp >> 6 & 0x3F));
            *q++ = (char)(0x80 | (cp & 0x3F));
        }
        *q = '\0';
        return out;
    }
    return NULL;
}

/*
 * Parameters: $1 tenant, $2 lower bound, $3 limit, then $4 the upper bound if any, then the
 * driving tag filter's key and value, then for each further filter its member as it appears
 * first and after another member of a canonical tag set (tagset_member). The driving filter's
 * index entries (tenant, k, v, key) carry the object's tag set (INCLUDE (tags), schema 2), so
 * the further filters are checked on the entry itself: no lookup per candidate.
 */
static void build_list_sql(size_t ntags, bool upper, bool inclusive, buf_t *b)
{
    const char *lower = inclusive ? ">=" : ">";
    const char *col = ntags ? "t0.key" : "o.key";
    size_t next = upper ? 5 : 4;
    buf_puts(b, "SELECT o.key, o.id, o.version, o.size, o.content_type, o.sha256, o.tags, o.attrs, o.created_at, o.updated_at");
    if (ntags == 0) {
        buf_puts(b, " FROM objects o WHERE o.tenant = $1");
    } else {
        buf_printf(b,
                   " FROM object_tags t0 JOIN objects o ON o.tenant = t0.tenant AND o.key = t0.key"
                   " WHERE t0.tenant = $1 AND t0.k = $%zu AND t0.v = $%zu",
                   next, next + 1);
        next += 2;
    }
    buf_printf(b, " AND %s %s $2", col, lower);
    if (upper)
        buf_printf(b, " AND %s < $4", col);
    for (size_t i = 1; i < ntags; i++, next += 2)
        buf_printf(b, " AND (strpos(t0.tags, $%zu) > 0 OR strpos(t0.tags, $%zu) > 0)", next, next + 1);
    buf_printf(b, " ORDER BY %s LIMIT $3", col);
}

/*
 * With several tag filters the first one drives the scan, so the sparsest should come first:
 * driving kind=3 (1 object in 7) to find objects that also have shard=5 (1 in 100) reads 100
 * times more index entries than the other way round, and a tag most objects have against one
 * a handful have is the difference between reading the whole tag and a few entries. A prepared
 * statement's plan cannot know, so ask the index, as the SQLite backend does: in one round
 * trip, the 16th matching key of each filter from the lower bound on; the filter whose 16th
 * lies furthest along is the sparsest there, and one with fewer than 16 matches (NULL) wins
 * at once. At most 16 index entries per filter. Parameters: $1 tenant, $2 lower bound, $3 the
 * upper bound if any, then each filter's key and value.
 */
#define PROBE_SKIP 15

static size_t sparsest_tag(pg_link_t *l, const char *tenant, const obj_query_t *q, const char *lower, const char *upper, err_t *e,
                           int *rc)
{
    buf_t sql = BUF_INIT;
    buf_puts(&sql, "SELECT ");
    size_t next = upper ? 4 : 3;
    for (size_t i = 0; i < q->tags.n; i++, next += 2)
        buf_printf(&sql,
                   "%s(SELECT key FROM object_tags WHERE tenant = $1 AND k = $%zu AND v = $%zu AND key >= $2%s "
                   "ORDER BY key OFFSET %d LIMIT 1)",
                   i ? ", " : "", next, next + 1, upper ? " AND key < $3" : "", PROBE_SKIP);
    pg_params_t p;
    pg_params_init(&p);
    pg_param_text(&p, tenant);
    pg_param_text(&p, lower);
    if (upper)
        pg_param_text(&p, upper);
    for (size_t i = 0; i < q->tags.n; i++) {
        pg_param_text(&p, q->tags.items[i].k);
        pg_param_text(&p, q->tags.items[i].v);
    }
    PGresult *r = pg_exec(l, -1, sql.base, &p, "search probe", e);
    buf_release(&sql);
    *rc = 0;
    if (r == NULL) {
        *rc = e->code ? e->code : ERR_UNAVAILABLE;
        return 0;
    }
    size_t best = 0;
    int best_len = -1;
    const char *best_key = NULL;
    for (size_t i = 0; i < q->tags.n; i++) {
        if (pg_null(r, 0, (int)i)) { /* fewer matches than the probe skips: nothing is sparser */
            best = i;
            break;
        }
        const char *k = PQgetvalue(r, 0, (int)i);
        int len = PQgetlength(r, 0, (int)i);
        /* byte order, as the "C" collation sorts */
        int c = best_key ? memcmp(k, best_key, (size_t)(len < best_len ? len : best_len)) : 1;
        if (best_key == NULL || c > 0 || (c == 0 && len > best_len)) {
            best = i;
            best_key = k;
            best_len = len;
        }
    }
    PQclear(r);
    return best;
}

/*
 * A search with 2..PG_LIST_CACHED tag filters as one statement, one round trip instead of two:
 * the probes of sparsest_tag (p) and the same choice made in SQL (c, materialized: the first
 * filter with fewer matches than the probe skips, else the first whose probe key lies furthest
 * along, in byte order as the "C" collation compares), then one branch of build_list_sql per
 * filter that could drive, each gated on that choice. A gate refers to the outer row only, so
 * PostgreSQL checks it once before running its branch (a one-time filter): the branches not
 * chosen read nothing (EXPLAIN ANALYZE: "never executed").
 * Parameters: $1 tenant, $2 lower bound, $3 limit, $4 the upper bound if any, then for each
 * filter its key, value, and its member as it appears first and after another member of a
 * canonical tag set (tagset_member).
 */
static void build_search_sql(size_t ntags, bool upper, bool inclusive, buf_t *b)
{
    size_t first = upper ? 5 : 4; /* filter i's parameters: first + 4i .. first + 4i + 3 */
    buf_puts(b, "WITH c AS MATERIALIZED (SELECT CASE");
    for (size_t i = 0; i < ntags; i++)
        buf_printf(b, " WHEN k%zu IS NULL THEN %zu", i, i);
    for (size_t i = 0; i + 1 < ntags; i++) {
        buf_puts(b, " WHEN ");
        for (size_t j = i + 1; j < ntags; j++)
            buf_printf(b, "%sk%zu >= k%zu", j > i + 1 ? " AND " : "", i, j);
        buf_printf(b, " THEN %zu", i);
    }
    buf_printf(b, " ELSE %zu END AS lead FROM (SELECT ", ntags - 1);
    for (size_t i = 0; i < ntags; i++)
        buf_printf(b,
                   "%s(SELECT key FROM object_tags WHERE tenant = $1 AND k = $%zu AND v = $%zu AND key >= $2%s "
                   "ORDER BY key OFFSET %d LIMIT 1) AS k%zu",
                   i ? ", " : "", first + 4 * i, first + 4 * i + 1, upper ? " AND key < $4" : "", PROBE_SKIP, i);
    buf_puts(b, " OFFSET 0) p) "); /* OFFSET 0: each probe runs once, not once per mention */
    buf_puts(b, "SELECT o.key, o.id, o.version, o.size, o.content_type, o.sha256, o.tags, o.attrs, o.created_at, o.updated_at "
                "FROM c, LATERAL (");
    for (size_t i = 0; i < ntags; i++) {
        buf_printf(b,
                   "%s(SELECT t0.key FROM object_tags t0 WHERE c.lead = %zu AND t0.tenant = $1 AND t0.k = $%zu AND t0.v = $%zu "
                   "AND t0.key %s $2",
                   i ? " UNION ALL " : "", i, first + 4 * i, first + 4 * i + 1, inclusive ? ">=" : ">");
        if (upper)
            buf_puts(b, " AND t0.key < $4");
        for (size_t j = 0; j < ntags; j++)
            if (j != i)
                buf_printf(b, " AND (strpos(t0.tags, $%zu) > 0 OR strpos(t0.tags, $%zu) > 0)", first + 4 * j + 2,
                           first + 4 * j + 3);
        buf_puts(b, " ORDER BY t0.key LIMIT $3)");
    }
    buf_puts(b, ") t JOIN objects o ON o.tenant = $1 AND o.key = t.key ORDER BY t.key LIMIT $3");
}

/* The parameters every list statement starts with: $1 tenant, $2 lower bound, $3 limit, and
 * $4 the upper bound if any. */
static void list_params(pg_params_t *p, const char *tenant, const char *lower, int limit, const char *upper)
{
    pg_params_init(p);
    pg_param_text(p, tenant);
    pg_param_text(p, lower);
    pg_param_i64(p, limit);
    if (upper)
        pg_param_text(p, upper);
}

static PGresult *search_on(pg_link_t *l, const char *tenant, const obj_query_t *q, int limit, const char *lower, bool inclusive,
                           const char *upper, arena_t *a, err_t *e)
{
    pg_params_t p;
    list_params(&p, tenant, lower, limit, upper);
    for (size_t i = 0; i < q->tags.n; i++) {
        const char *open, *comma;
        tagset_member(&q->tags.items[i], &open, &comma, a);
        pg_param_text(&p, q->tags.items[i].k);
        pg_param_text(&p, q->tags.items[i].v);
        pg_param_text(&p, open);
        pg_param_text(&p, comma);
    }
    buf_t sql = BUF_INIT;
    build_search_sql(q->tags.n, upper != NULL, inclusive, &sql);
    int id = PG_NSTMT + (int)q->tags.n * 4 + (upper ? 2 : 0) + (inclusive ? 1 : 0);
    PGresult *r = pg_exec(l, id, sql.base, &p, "search", e);
    buf_release(&sql);
    return r;
}

/* Runs the list query on one link, driven by the tag filter lead (the others checked on its
 * index entries); searches with a few filters in one statement (search_on). */
static PGresult *list_on(pg_link_t *l, const char *tenant, const obj_query_t *q, int limit, const char *lower, bool inclusive,
                         const char *upper, arena_t *a, err_t *e)
{
    if (q->tags.n > 1 && q->tags.n <= PG_LIST_CACHED)
        return search_on(l, tenant, q, limit, lower, inclusive, upper, a, e);
    int rc;
    size_t lead = q->tags.n > 1 ? sparsest_tag(l, tenant, q, lower, upper, e, &rc) : 0;
    if (q->tags.n > 1 && rc != 0)
        return NULL;
    pg_params_t p;
    list_params(&p, tenant, lower, limit, upper);
    if (q->tags.n) {
        pg_param_text(&p, q->tags.items[lead].k);
        pg_param_text(&p, q->tags.items[lead].v);
    }
    for (size_t i = 0; i < q->tags.n; i++) {
        if (i == lead)
            continue;
        const char *open, *comma;
        tagset_member(&q->tags.items[i], &open, &comma, a);
        pg_param_text(&p, open);
        pg_param_text(&p, comma);
    }
    buf_t sql = BUF_INIT;
    build_list_sql(q->tags.n, upper != NULL, inclusive, &sql);
    int id = -1;
    if (q->tags.n <= PG_LIST_CACHED)
        id = PG_NSTMT + (int)q->tags.n * 4 + (upper ? 2 : 0) + (inclusive ? 1 : 0);
    PGresult *r = pg_exec(l, id, sql.base, &p, "list", e);
    buf_release(&sql);
    return r;
}

int pg_read_object_list(db_conn_t *conn, const char *tenant, const obj_query_t *q, int limit, object_t **out, size_t *n, arena_t *a,
                        err_t *e)
{
    pg_conn_t *c = PG_CONN(conn);
    if (2 * q->tags.n + 6 > PG_MAX_PARAMS)
        return err_set(e, ERR_BAD_REQUEST, "too many tag filters");

    /* the lower bound: after the cursor's key, and at or after the prefix. A resume point made
     * by obj_prefix_successor (a common prefix followed by 0xFF, which is not UTF-8) means
     * "after every key starting with that prefix": at or after the prefix's successor. */
    const char *lower = q->prefix;
    bool inclusive = true;
    if (q->start_after) {
        const char *ff = strchr(q->start_after, '\xff');
        const char *after = q->start_after;
        bool incl = false;
        if (ff) {
            after = key_successor(q->start_after, (size_t)(ff - q->start_after), a);
            incl = true;
            if (after == NULL) { /* nothing sorts after it */
                *out = arena_alloc(a, sizeof(object_t));
                *n = 0;
                return 0;
            }
        }
        if (strcmp(after, lower) > 0 || (strcmp(after, lower) == 0 && !incl)) {
            lower = after;
            inclusive = incl;
        }
    }
    const char *upper = q->prefix[0] ? key_successor(q->prefix, strlen(q->prefix), a) : NULL;

    /* a replica if one is close enough behind, else (or if it fails) the primary */
    PGresult *r = NULL;
    int ri = c->nreplicas ? pg_replicas_pick(((pg_db_t *)conn->db)->replicas, tenant) : -1;
    if (ri >= 0) {
        err_t re;
        r = list_on(&c->replicas[ri], tenant, q, limit, lower, inclusive, upper, a, &re);
    }
    if (r == NULL && (r = list_on(&c->link, tenant, q, limit, lower, inclusive, upper, a, e)) == NULL)
        return e->code ? e->code : ERR_UNAVAILABLE;

    int rows = PQntuples(r);
    if (rows > limit)
        rows = limit;
    object_t *objs = arena_calloc(a, rows > 0 ? (size_t)rows : 1, sizeof(object_t));
    for (int i = 0; i < rows; i++) {
        object_t *o = &objs[i];
        o->tenant = tenant;
        o->key = pg_text(r, i, 0, a);
        o->id = pg_text(r, i, 1, a);
        o->version = pg_i64(r, i, 2);
        o->size = pg_i64(r, i, 3);
        o->content_type = pg_text(r, i, 4, a);
        o->sha256 = pg_text(r, i, 5, a);
        o->tags_json = pg_text(r, i, 6, a);
        o->attrs_json = pg_text(r, i, 7, a);
        o->created_at = pg_i64(r, i, 8);
        o->updated_at = pg_i64(r, i, 9);
    }
    PQclear(r);
    *out = objs;
    *n = (size_t)rows;
    return 0;
}

static int cmp_erasure(const void *x, const void *y)
{
    const db_erasure_t *a = x, *b = y;
    if (a->attempts != b->attempts)
        return a->attempts < b->attempts ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* How long a server owns the erasures it took (if it dies, another takes them after this). */
#define ERASURE_LEASE_MS 120000

int pg_read_erasure_list(db_conn_t *conn, size_t max, db_erasure_t **out, size_t *n, arena_t *a, err_t *e)
{
    pg_params_t p;
    PGresult *r;
    pg_params_init(&p);
    pg_param_i64(&p, time_now_ms());
    pg_param_i64(&p, ERASURE_LEASE_MS);
    pg_param_i64(&p, (int64_t)max);
    /* several servers drain one queue: each claims entries (a lease) no other server holds */
    RUN(r, &PG_CONN(conn)->link, PG_ERASURE_CLAIM, &p, "erasure list");
    int rows = PQntuples(r);
    db_erasure_t *list = arena_calloc(a, rows ? (size_t)rows : 1, sizeof(*list));
    for (int i = 0; i < rows; i++) {
        list[i].seq = pg_i64(r, i, 0);
        list[i].tenant = pg_text(r, i, 1, a);
        list[i].store = pg_text(r, i, 2, a);
        list[i].name = pg_text(r, i, 3, a);
        list[i].attempts = (int)pg_i64(r, i, 4);
        list[i].mp_id = pg_text(r, i, 5, a);
    }
    PQclear(r);
    qsort(list, (size_t)rows, sizeof(*list), cmp_erasure);
    *out = list;
    *n = (size_t)rows;
    return 0;
}

int pg_read_audit_heads(db_conn_t *conn, audit_head_t **out, size_t *n, arena_t *a, err_t *e)
{
    PGresult *r;
    RUN(r, &PG_CONN(conn)->link, PG_AUDIT_HEADS, NULL, "audit heads");
    int rows = PQntuples(r);
    audit_head_t *heads = arena_calloc(a, rows ? (size_t)rows : 1, sizeof(*heads));
    for (int i = 0; i < rows; i++) {
        heads[i].tenant = pg_text(r, i, 0, a);
        heads[i].seq = pg_i64(r, i, 1);
        pg_fixed(r, i, 2, heads[i].hash, AUDIT_HASH_LEN);
    }
    PQclear(r);
    *out = heads;
    *n = (size_t)rows;
    return 0;
}

int pg_read_audit_list(db_conn_t *conn, const char *only_tenant, const char *after_tenant, int64_t after_seq, size_t limit,
                       audit_entry_t **out, size_t *n, arena_t *a, err_t *e)
{
    pg_params_t p;
    PGresult *r;
    pg_params_init(&p);
    pg_param_text(&p, only_tenant ? only_tenant : after_tenant ? after_tenant : "");
    pg_param_i64(&p, after_seq);
    pg_param_i64(&p, (int64_t)limit);
    RUN(r, &PG_CONN(conn)->link, only_tenant ? PG_AUDIT_LIST_ONE : PG_AUDIT_LIST_ALL, &p, "audit list");
    int rows = PQntuples(r);
    audit_entry_t *list = arena_calloc(a, rows ? (size_t)rows : 1, sizeof(*list));
    for (int i = 0; i < rows; i++) {
        audit_entry_t *x = &list[i];
        x->tenant = pg_text(r, i, 0, a);
        x->seq = pg_i64(r, i, 1);
        x->time = pg_i64(r, i, 2);
        x->actor = pg_text(r, i, 3, a);
        x->action = pg_text(r, i, 4, a);
        x->subject = pg_text(r, i, 5, a);
        x->detail = pg_text(r, i, 6, a);
        pg_fixed(r, i, 7, x->prev_hash, AUDIT_HASH_LEN);
        pg_fixed(r, i, 8, x->hash, AUDIT_HASH_LEN);
    }
    PQclear(r);
    *out = list;
    *n = (size_t)rows;
    return 0;
}

int pg_read_checkpoint_list(db_conn_t *conn, int64_t after, size_t limit, db_checkpoint_t **out, size_t *n, arena_t *a, err_t *e)
{
    pg_params_t p;
    PGresult *r;
    pg_params_init(&p);
    pg_param_i64(&p, after);
    pg_param_i64(&p, (int64_t)limit);
    RUN(r, &PG_CONN(conn)->link, PG_CHECKPOINT_LIST, &p, "checkpoint list");
    int rows = PQntuples(r);
    db_checkpoint_t *list = arena_calloc(a, rows ? (size_t)rows : 1, sizeof(*list));
    for (int i = 0; i < rows; i++) {
        db_checkpoint_t *x = &list[i];
        x->seq = pg_i64(r, i, 0);
        x->time = pg_i64(r, i, 1);
        pg_fixed(r, i, 2, x->root, AUDIT_HASH_LEN);
        x->heads = pg_text(r, i, 3, a);
        x->signature = pg_bytes(r, i, 4, &x->signature_len, a);
        if (x->signature == NULL)
            x->signature = (const uint8_t *)"";
    }
    PQclear(r);
    *out = list;
    *n = (size_t)rows;
    return 0;
}
