/*
 * h_list.c - GET /v1/objects: list and search one tenant's objects.
 *
 * Filters: prefix, tag.<k>=<v> (all must match), delimiter (S3-style roll-up of keys into
 * common prefixes). Results are in key order; a page holds at most `limit` entries (objects and
 * common prefixes together). The cursor is the key to resume after, sealed with AES-GCM and
 * bound to the tenant and to the query, so it is opaque and cannot be replayed elsewhere.
 */
#include <stdlib.h>
#include <string.h>

#include "http/handlers.h"
#include "http/render.h"
#include "util/enc.h"

typedef struct list_state {
    obj_query_t q;
    uint8_t qhash[32];
    object_t **objs;
    const char **prefixes;
    size_t nobjs, nprefixes;
    const char *next; /* resume point when more results exist */
} list_state_t;

static int list_read(rq_t *rq, db_conn_t *c)
{
    list_state_t *ls = rq->state;
    obj_query_t q = ls->q;
    size_t limit = (size_t)q.limit, count = 0;
    const char *resume = q.start_after;
    ls->objs = arena_alloc(&rq->arena, limit * sizeof(object_t *));
    ls->prefixes = arena_alloc(&rq->arena, limit * sizeof(char *));
    bool exhausted = false, more = false; /* more: a row past the page's last is known */
    int rc;

    while (count < limit && !exhausted) {
        object_t *batch;
        size_t n, want = limit - count + 1;
        q.start_after = resume;
        if ((rc = c->db->vt->object_list(c, rq->auth.tenant.id, &q, (int)want, &batch, &n, &rq->arena, &rq->err)) != 0)
            return rc;
        exhausted = n < want;
        for (size_t i = 0; i < n && count < limit; i++) {
            size_t cpl;
            if (obj_common_prefix(batch[i].key, q.prefix, q.delimiter, &cpl)) {
                char *cp = arena_strndup(&rq->arena, batch[i].key, cpl);
                ls->prefixes[ls->nprefixes++] = cp;
                count++;
                /* skip every key under this common prefix and ask again */
                resume = obj_prefix_successor(cp, cpl, &rq->arena);
                exhausted = more = false;
                break;
            }
            ls->objs[ls->nobjs++] = &batch[i];
            count++;
            resume = batch[i].key;
            more = i + 1 < n; /* (asked for one more row than the page holds) */
        }
    }
    if (count == limit && more) {
        ls->next = resume;
    } else if (count == limit && !exhausted) {
        /* the page ended on a common prefix: is there anything after it? */
        object_t *peek;
        size_t n;
        q.start_after = resume;
        if ((rc = c->db->vt->object_list(c, rq->auth.tenant.id, &q, 1, &peek, &n, &rq->arena, &rq->err)) != 0)
            return rc;
        if (n > 0)
            ls->next = resume;
    }
    return 0;
}

static void list_after_read(rq_t *rq, int rc)
{
    list_state_t *ls = rq->state;
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    buf_t b = BUF_INIT;
    jw_t w;
    jw_init(&w, &b);
    jw_obj_open(&w);
    jw_key(&w, "objects");
    jw_arr_open(&w);
    for (size_t i = 0; i < ls->nobjs; i++) {
        render_object_open(&w, ls->objs[i], NULL, false);
        render_object_close(&w);
    }
    jw_arr_close(&w);
    jw_key(&w, "common_prefixes");
    jw_arr_open(&w);
    for (size_t i = 0; i < ls->nprefixes; i++)
        jw_str(&w, ls->prefixes[i]);
    jw_arr_close(&w);
    const char *cursor =
        ls->next ? obj_cursor_seal(rq->app->sec->cursor_key, rq->auth.tenant.id, ls->qhash, ls->next, &rq->arena) : NULL;
    jw_kv_str(&w, "next_cursor", cursor);
    jw_obj_close(&w);
    if (jw_finish(&w) != 0) {
        buf_release(&b);
        rq_send_error(rq, err_set(&rq->err, ERR_INTERNAL, "cannot encode the answer"));
        return;
    }
    rq_send_json(rq, 200, &b);
}

/* Validates a prefix or delimiter: UTF-8 without control characters. */
static int check_text(rq_t *rq, const char *what, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        return err_set(&rq->err, ERR_BAD_REQUEST, "%s is longer than %zu bytes", what, max);
    if (!utf8_valid(s, n))
        return err_set(&rq->err, ERR_BAD_REQUEST, "%s is not valid UTF-8", what);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return err_set(&rq->err, ERR_BAD_REQUEST, "%s contains a control character", what);
    return 0;
}

void h_object_list(rq_t *rq)
{
    const obj_limits_t *l = &rq->app->cfg->limits;
    list_state_t *ls = arena_calloc(&rq->arena, 1, sizeof(*ls));
    obj_query_t *q = &ls->q;
    const char *cursor = NULL, *k, *v;
    size_t pos = 0, cap = 8;
    int rc = 0;

    rq->state = ls;
    q->prefix = "";
    q->limit = OBJ_LIST_DEFAULT;
    q->tags.items = arena_alloc(&rq->arena, cap * sizeof(tag_t));
    while (rc == 0 && rq_query_next(rq, &pos, &k, &v)) {
        if (v == NULL) {
            rc = err_set(&rq->err, ERR_BAD_REQUEST, "malformed query string");
        } else if (strcmp(k, "prefix") == 0) {
            q->prefix = v;
            rc = check_text(rq, "prefix", v, l->key_max);
        } else if (strcmp(k, "delimiter") == 0) {
            q->delimiter = *v ? v : NULL;
            rc = check_text(rq, "delimiter", v, 64);
        } else if (strcmp(k, "limit") == 0) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || n < 1 || n > OBJ_LIST_MAX)
                rc = err_set(&rq->err, ERR_BAD_REQUEST, "limit must be 1 to %d", OBJ_LIST_MAX);
            q->limit = (int)n;
        } else if (strcmp(k, "cursor") == 0) {
            cursor = v;
        } else if (strncmp(k, "tag.", 4) == 0) {
            if ((rc = obj_tag_check(slice_cstr(k + 4), slice_cstr(v), l, &rq->err)) != 0)
                break;
            if (q->tags.n == cap) {
                tag_t *nt = arena_alloc(&rq->arena, 2 * cap * sizeof(tag_t));
                memcpy(nt, q->tags.items, cap * sizeof(tag_t));
                q->tags.items = nt;
                cap *= 2;
            }
            q->tags.items[q->tags.n++] = (tag_t){k + 4, v};
        } else {
            rc = err_set(&rq->err, ERR_BAD_REQUEST, "unknown query parameter '%.64s'", k);
        }
    }
    if (rc == 0 && (rc = tagset_normalize(&q->tags, l, &rq->err)) != 0)
        err_set(&rq->err, ERR_BAD_REQUEST, "tag filters: %s", rq->err.msg);
    if (rc == 0) {
        obj_query_hash(q, ls->qhash);
        if (cursor)
            rc = obj_cursor_open(rq->app->sec->cursor_key, rq->auth.tenant.id, ls->qhash, slice_cstr(cursor), &q->start_after,
                                 &rq->arena, &rq->err);
    }
    if (rc != 0) {
        rq_send_error(rq, rc);
        return;
    }
    rq_read(rq, list_read, list_after_read);
}
