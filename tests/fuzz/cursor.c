/*
 * cursor.c - fuzzes list cursors (obj_cursor_open/seal in src/core/object.c): the opaque
 * `cursor=` a client sends back, base64url of AES-GCM over the resume key, bound to the tenant
 * and to the query (prefix, delimiter, tag filters).
 *
 * Input: a cursor, then (fields) a tenant, a prefix, a delimiter, a resume key. Properties: a
 * cursor that opens was sealed by loci under this key, tenant and query (the fuzzer cannot
 * forge one: any that opens here is a finding); a sealed cursor opens to the same key for the
 * same tenant and query, and for no other tenant or query.
 */
#include "core/object.h"
#include "fuzz.h"

static const uint8_t KEY[32] = "loci-fuzz-cursor-key-0123456789";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f = fz_init(data, size);
    arena_t a;
    err_t e;
    const char *start = NULL;
    slice_t cursor = fz_field(&f);
    char *tenant = fz_cstr(fz_field(&f)), *prefix = fz_cstr(fz_field(&f)), *delim = fz_cstr(fz_field(&f));
    char *resume = fz_cstr(fz_rest(&f));
    obj_query_t q = {.prefix = prefix, .delimiter = delim, .limit = 10};
    uint8_t qh[32];
    arena_init(&a);
    obj_query_hash(&q, qh);

    int rc = obj_cursor_open(KEY, tenant, qh, cursor, &start, &a, &e);
    FZ_CHECK(rc == ERR_BAD_REQUEST, "a cursor loci never sealed opened (rc %d) to '%s'", rc, rc == 0 ? start : "");
    FZ_CHECK(strcmp(e.msg, "invalid cursor") == 0, "refusal says '%s'", e.msg);

    /* seal and open again: the same tenant and query give the key back, anything else nothing */
    char *sealed = obj_cursor_seal(KEY, tenant, qh, resume, &a);
    FZ_CHECK(sealed != NULL, "seal failed");
    rc = obj_cursor_open(KEY, tenant, qh, slice_cstr(sealed), &start, &a, &e);
    if (strlen(sealed) <= 4096) {
        FZ_CHECK(rc == 0 && strcmp(start, resume) == 0, "sealed cursor did not open (rc %d)", rc);
    } else {
        FZ_CHECK(rc == ERR_BAD_REQUEST, "cursor longer than 4096 opened");
    }
    char *other = arena_printf(&a, "%s-", tenant);
    FZ_CHECK(obj_cursor_open(KEY, other, qh, slice_cstr(sealed), &start, &a, &e) != 0, "cursor opened for another tenant");
    uint8_t qh2[32];
    obj_query_t q2 = {.prefix = resume, .delimiter = delim, .limit = 10};
    obj_query_hash(&q2, qh2);
    if (memcmp(qh, qh2, 32) != 0)
        FZ_CHECK(obj_cursor_open(KEY, tenant, qh2, slice_cstr(sealed), &start, &a, &e) != 0, "cursor opened for another query");
    /* flipping one character of a sealed cursor must not open */
    size_t sl = strlen(sealed);
    if (sl && cursor.len) {
        size_t at = (unsigned char)cursor.base[0] % sl;
        sealed[at] = sealed[at] == 'A' ? 'B' : 'A';
        rc = obj_cursor_open(KEY, tenant, qh, slice_cstr(sealed), &start, &a, &e);
        FZ_CHECK(rc != 0, "tampered cursor opened");
    }
    arena_release(&a);
    free(tenant);
    free(prefix);
    free(delim);
    free(resume);
    return 0;
}
