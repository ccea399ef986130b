/*
 * body.c - strict parsing of JSON request bodies.
 */
#include "http/body.h"

#include <stdlib.h>
#include <string.h>

int body_object(rq_t *rq, bool allow_empty, json_t **out)
{
    slice_t b = rq_body(rq);
    *out = NULL;
    if (b.len == 0) {
        if (!allow_empty)
            return err_set(&rq->err, ERR_BAD_REQUEST, "request body required");
        *out = json_object();
        return 0;
    }
    json_error_t je;
    json_t *v = json_loadb(b.base, b.len, JSON_REJECT_DUPLICATES, &je);
    if (v == NULL)
        return err_set(&rq->err, ERR_BAD_REQUEST, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
    if (!json_is_object(v)) {
        json_decref(v);
        return err_set(&rq->err, ERR_BAD_REQUEST, "request body must be a JSON object");
    }
    *out = v;
    return 0;
}

int body_fields(rq_t *rq, json_t *obj, const char *const *allowed, const char *where)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, k) == 0;
        if (!ok)
            return err_set(&rq->err, ERR_BAD_REQUEST, "unknown field '%.64s'%s%s", k, where ? " in " : "", where ? where : "");
    }
    return 0;
}

int body_int(rq_t *rq, json_t *obj, const char *name, int64_t min, int64_t max, int64_t *out, bool *present)
{
    json_t *v = json_object_get(obj, name);
    if (present)
        *present = v != NULL;
    if (v == NULL)
        return 0;
    if (!json_is_integer(v))
        return err_set(&rq->err, ERR_BAD_REQUEST, "'%s' must be an integer", name);
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return err_set(&rq->err, ERR_BAD_REQUEST, "'%s' must be from %lld to %lld", name, (long long)min, (long long)max);
    *out = (int64_t)n;
    return 0;
}

int body_str(rq_t *rq, json_t *obj, const char *name, size_t maxlen, const char **out)
{
    json_t *v = json_object_get(obj, name);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return err_set(&rq->err, ERR_BAD_REQUEST, "'%s' must be a string", name);
    size_t n = json_string_length(v);
    if (n > maxlen)
        return err_set(&rq->err, ERR_BAD_REQUEST, "'%s' is longer than %zu bytes", name, maxlen);
    const char *s = json_string_value(v);
    if (strlen(s) != n)
        return err_set(&rq->err, ERR_BAD_REQUEST, "'%s' contains a NUL character", name);
    *out = arena_strndup(&rq->arena, s, n);
    return 0;
}

int body_bool(rq_t *rq, json_t *obj, const char *name, bool *out, bool *present)
{
    json_t *v = json_object_get(obj, name);
    if (present)
        *present = v != NULL;
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v))
        return err_set(&rq->err, ERR_BAD_REQUEST, "'%s' must be true or false", name);
    *out = json_is_true(v);
    return 0;
}

int body_strings(rq_t *rq, json_t *obj, const char *name, bool one_ok, size_t max, const char ***out, size_t *n)
{
    json_t *v = json_object_get(obj, name);
    *out = NULL;
    *n = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (one_ok && json_is_string(v)) {
        *out = arena_alloc(&rq->arena, sizeof(char *));
        (*out)[0] = arena_strdup(&rq->arena, json_string_value(v));
        *n = 1;
        return 0;
    }
    if (!json_is_array(v))
        return err_set(&rq->err, ERR_BAD_REQUEST, "'%s' must be an array of strings", name);
    size_t cnt = json_array_size(v);
    if (cnt > max)
        return err_set(&rq->err, ERR_BAD_REQUEST, "'%s' has more than %zu entries", name, max);
    const char **arr = arena_alloc(&rq->arena, (cnt + 1) * sizeof(char *));
    for (size_t i = 0; i < cnt; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s) || json_string_length(s) > 256 || strlen(json_string_value(s)) != json_string_length(s))
            return err_set(&rq->err, ERR_BAD_REQUEST, "'%s' must be an array of strings", name);
        arr[i] = arena_strdup(&rq->arena, json_string_value(s));
    }
    *out = arr;
    *n = cnt;
    return 0;
}

int body_tags(rq_t *rq, json_t *val, const char *where, tagset_t *out)
{
    const obj_limits_t *l = &rq->app->cfg->limits;
    out->items = NULL;
    out->n = 0;
    if (val == NULL || json_is_null(val))
        return 0;
    if (!json_is_object(val))
        return err_set(&rq->err, ERR_BAD_REQUEST, "'%s' must be an object of string values", where);
    size_t cnt = json_object_size(val);
    if (cnt > l->tags_max)
        return err_set(&rq->err, ERR_BAD_REQUEST, "%zu tags, more than %zu", cnt, l->tags_max);
    out->items = arena_alloc(&rq->arena, (cnt + 1) * sizeof(tag_t));
    const char *k;
    json_t *v;
    json_object_foreach(val, k, v)
    {
        if (!json_is_string(v))
            return err_set(&rq->err, ERR_BAD_REQUEST, "tag values in '%s' must be strings", where);
        size_t vl = json_string_length(v);
        const char *vs = json_string_value(v);
        if (strlen(vs) != vl)
            return err_set(&rq->err, ERR_BAD_REQUEST, "tag contains a control character");
        int rc = obj_tag_check(slice_cstr(k), slice_make(vs, vl), l, &rq->err);
        if (rc != 0)
            return rc;
        out->items[out->n].k = arena_strdup(&rq->arena, k);
        out->items[out->n].v = arena_strndup(&rq->arena, vs, vl);
        out->n++;
    }
    return tagset_normalize(out, l, &rq->err);
}

/* Nesting depth of a JSON value (0 for a scalar, 1 for a flat object or array), counted no
 * further than limit + 1 so that a hostile value costs at most limit levels of recursion. */
static size_t json_depth(json_t *v, size_t limit)
{
    size_t max = 0, d, i;
    const char *k;
    json_t *x;
    if (!json_is_object(v) && !json_is_array(v))
        return 0;
    if (limit == 0)
        return 1;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            if ((d = json_depth(x, limit - 1)) > max)
                max = d;
        }
    } else {
        json_object_foreach(v, k, x)
        {
            if ((d = json_depth(x, limit - 1)) > max)
                max = d;
        }
    }
    return max + 1;
}

int body_attrs(rq_t *rq, json_t *val, const char **json_out)
{
    *json_out = NULL;
    if (val == NULL || json_is_null(val))
        return 0;
    if (!json_is_object(val))
        return err_set(&rq->err, ERR_BAD_REQUEST, "'attrs' must be a JSON object");
    /* within 4 KiB, attrs could still nest ~2,000 deep: deep enough to break clients that
     * parse answers recursively (Python's json stops at 1,000) */
    if (json_depth(val, BODY_ATTRS_DEPTH_MAX) > BODY_ATTRS_DEPTH_MAX)
        return err_set(&rq->err, ERR_BAD_REQUEST, "'attrs' is nested more than %d levels deep", BODY_ATTRS_DEPTH_MAX);
    char *s = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL)
        return err_set(&rq->err, ERR_BAD_REQUEST, "'attrs' cannot be encoded");
    size_t n = strlen(s);
    if (n > rq->app->cfg->limits.attrs_max) {
        free(s);
        return err_set(&rq->err, ERR_BAD_REQUEST, "'attrs' is %zu bytes of JSON, more than %zu", n, rq->app->cfg->limits.attrs_max);
    }
    *json_out = arena_strndup(&rq->arena, s, n);
    free(s);
    return 0;
}
