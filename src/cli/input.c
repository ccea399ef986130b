/*
 * input.c - user input into API shapes (see input.h).
 */
#include "cli/input.h"

#include <string.h>
#include <strings.h>

#include "util/enc.h"

int cli_tags_object(const cli_list_t *kv, json_t **out, err_t *e)
{
    json_t *obj = NULL;
    int rc = 0;

    *out = NULL;
    if (kv->n == 0)
        goto out;
    obj = json_object();
    for (size_t i = 0; i < kv->n; i++) {
        const char *k, *v;
        size_t klen;
        if (cli_parse_kv(kv->v[i], &k, &klen, &v) != 0) {
            rc = err_set(e, ERR_BAD_REQUEST, "invalid tag '%s': expected KEY=VALUE", kv->v[i]);
            goto out;
        }
        if (!utf8_valid(k, klen) || !utf8_valid(v, strlen(v))) {
            rc = err_set(e, ERR_BAD_REQUEST, "tag '%s' is not valid utf-8", kv->v[i]);
            goto out;
        }
        if (json_object_getn(obj, k, klen) != NULL) {
            rc = err_set(e, ERR_BAD_REQUEST, "tag '%.*s' given twice", (int)klen, k);
            goto out;
        }
        if (json_object_setn_new(obj, k, klen, json_string(v)) != 0) {
            rc = err_set(e, ERR_BAD_REQUEST, "invalid tag '%s'", kv->v[i]);
            goto out;
        }
    }
    *out = obj;
    obj = NULL;
out:
    json_decref(obj);
    return rc;
}

int cli_strings_array(const cli_list_t *l, const char *what, json_t **out, err_t *e)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++) {
        json_t *s = *l->v[i] ? json_string(l->v[i]) : NULL;
        if (s == NULL) {
            json_decref(a);
            *out = NULL;
            return err_set(e, ERR_BAD_REQUEST, "invalid %s '%s'", what, l->v[i]);
        }
        json_array_append_new(a, s);
    }
    *out = a;
    return 0;
}

int cli_set_str(json_t *obj, const char *key, const char *value, err_t *e)
{
    json_t *s = json_string(value);
    if (s == NULL)
        return err_set(e, ERR_BAD_REQUEST, "%s '%s' is not valid utf-8", key, value);
    json_object_set_new(obj, key, s);
    return 0;
}

int cli_attrs_parse(const char *text, json_t **out, err_t *e)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    *out = NULL;
    if (j == NULL)
        return err_set(e, ERR_BAD_REQUEST, "invalid --attr json at column %d: %s", jerr.column, jerr.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return err_set(e, ERR_BAD_REQUEST, "--attr must be a json object");
    }
    *out = j;
    return 0;
}

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {"txt", "text/plain"},        {"log", "text/plain"},        {"md", "text/markdown"},    {"csv", "text/csv"},
    {"html", "text/html"},        {"htm", "text/html"},         {"css", "text/css"},        {"js", "text/javascript"},
    {"json", "application/json"}, {"xml", "application/xml"},   {"pdf", "application/pdf"}, {"zip", "application/zip"},
    {"gz", "application/gzip"},   {"tar", "application/x-tar"}, {"png", "image/png"},       {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},       {"gif", "image/gif"},         {"webp", "image/webp"},     {"svg", "image/svg+xml"},
    {"heic", "image/heic"},       {"mp3", "audio/mpeg"},        {"m4a", "audio/mp4"},       {"opus", "audio/opus"},
    {"ogg", "audio/ogg"},         {"wav", "audio/wav"},         {"mp4", "video/mp4"},       {"webm", "video/webm"},
    {"mov", "video/quicktime"},
};

const char *cli_guess_content_type(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (dot == NULL || dot == base || dot[1] == '\0')
        return NULL;
    for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++)
        if (strcasecmp(dot + 1, content_types[i].ext) == 0)
            return content_types[i].type;
    return NULL;
}

int cli_temp_template(buf_t *b, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int rc = 0;
    if (*base == '\0')
        return ERR_BAD_REQUEST;
    if (slash)
        rc = buf_append(b, path, (size_t)(base - path));
    if (rc == 0)
        rc = buf_printf(b, ".%s.loci-XXXXXX", base);
    return rc;
}
