/*
 * object.h - objects, uploads, locations and tags, and the rules for them (DESIGN.md
 * "Concepts"): key and tag validation, tag-set changes, list queries. Pure functions.
 *
 * Strings in these values are NUL-terminated and owned by whoever filled the value
 * (normally a request arena); keys never contain NUL (control characters are refused).
 */
#ifndef LOCI_CORE_OBJECT_H
#define LOCI_CORE_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/slice.h"

/* Limits (DESIGN.md defaults; configurable). */
typedef struct obj_limits {
    size_t key_max;          /* 1024 bytes */
    size_t tags_max;         /* 50 per object */
    size_t tag_key_max;      /* 128 bytes */
    size_t tag_value_max;    /* 256 bytes */
    size_t attrs_max;        /* 4096 bytes of encoded JSON */
    size_t body_max;         /* 65536 bytes of request body */
    int64_t expires_default; /* 900 s default URL lifetime for new tenants */
    int64_t expires_max;     /* 604800 s (7 days) ceiling */
} obj_limits_t;

/* Fills l with DESIGN.md's defaults. */
void obj_limits_default(obj_limits_t *l);

typedef struct tag {
    const char *k;
    const char *v;
} tag_t;

/* A set of tags sorted by key (byte order), keys unique. */
typedef struct tagset {
    tag_t *items;
    size_t n;
} tagset_t;

typedef enum loc_state {
    LOC_PENDING = 0, /* target handed out, bytes not yet verified */
    LOC_PRESENT = 1, /* verified at complete */
} loc_state_t;

typedef struct location {
    const char *store;
    const char *name; /* the object's name inside the store: "<tenant>/<object id>" */
    loc_state_t state;
    const char *mp_id; /* a multipart upload in progress at the store (s3, gcs), or NULL */
} location_t;

typedef struct object {
    const char *tenant;
    const char *key;
    const char *id;
    int64_t version;
    bool pending; /* true for an upload not yet committed */
    int64_t size;
    const char *content_type;
    const char *sha256;             /* lowercase hex or NULL */
    const char *tags_json;          /* canonical JSON object ("{}" when none) */
    const char *attrs_json;         /* JSON object or NULL */
    int64_t created_at, updated_at; /* ms */
    location_t *locs;
    size_t nlocs;
} object_t;

/* A condition on the committed object, from If-Match / If-None-Match. */
typedef enum cond_kind {
    COND_NONE = 0,
    COND_IF_NONE_MATCH = 1, /* If-None-Match: * : no committed object may exist */
    COND_IF_MATCH = 2,      /* If-Match: <version> : the committed object has this version */
} cond_kind_t;

typedef struct cond {
    cond_kind_t kind;
    int64_t version;
} cond_t;

/* A pending upload: the object it will become, plus its condition and expiry. */
typedef struct upload {
    object_t obj; /* obj.id is the upload id; obj.version the provisional version */
    cond_t cond;
    int64_t expires_at; /* ms */
    int64_t part_size;  /* multipart: the size of every part but the last; 0 for a single PUT */
    int parts;          /* multipart: how many parts; 0 for a single PUT */
} upload_t;

/* Checks a condition against the committed object's version (0 = no object).
 * Returns 0 or ERR_PRECONDITION_FAILED with a message. */
int obj_cond_check(const cond_t *c, int64_t current_version, err_t *e);

/* Parses an If-Match value: a version number, optionally quoted ("3" or 3), or "*"
 * (meaning "any committed version": kind COND_IF_MATCH with version -1).
 * Returns 0 or ERR_BAD_REQUEST. */
int obj_parse_if_match(slice_t v, cond_t *out, err_t *e);

/* Validates an object key: 1..key_max bytes of UTF-8 without control characters.
 * Returns 0 or ERR_BAD_REQUEST with the reason. */
int obj_key_check(slice_t key, const obj_limits_t *l, err_t *e);

/* Validates one tag key/value pair. */
int obj_tag_check(slice_t k, slice_t v, const obj_limits_t *l, err_t *e);

/* Validates a content type: 1..255 bytes of printable ASCII. */
int obj_content_type_check(const char *ct, err_t *e);

/* The longest download file name (bytes of UTF-8). */
#define OBJ_FILENAME_MAX 255

/* Builds a Content-Disposition value (RFC 6266) for a download: type is "attachment" or
 * "inline" (NULL: attachment), filename (NULL: none) 1..OBJ_FILENAME_MAX bytes of UTF-8
 * without control characters. A name that is not plain ASCII gets an ASCII fallback and the
 * exact name as filename*=UTF-8''... (RFC 8187). Appends to out; returns 0 or ERR_BAD_REQUEST
 * with the reason in e. */
int obj_disposition(const char *type, const char *filename, buf_t *out, err_t *e);

/* Validates and lowercases a 64-hex-digit SHA-256 in place. */
int obj_sha256_check(char *hex, err_t *e);

/* Sorts a tag array by key and refuses duplicates and more than tags_max entries. */
int tagset_normalize(tagset_t *t, const obj_limits_t *l, err_t *e);

/* Computes base + set - remove into *out (arena). Keys in both set and remove, or a result with
 * more than tags_max tags, are ERR_BAD_REQUEST. */
int tagset_apply(const tagset_t *base, const tagset_t *set, const char *const *remove, size_t nremove, const obj_limits_t *l,
                 tagset_t *out, arena_t *a, err_t *e);

/* Writes the canonical JSON object of a normalized tag set into b. */
int tagset_to_json(const tagset_t *t, buf_t *b);

/*
 * The member "k":"v" of tag t as it appears in a canonical tag set (tagset_to_json): first in
 * the set ({"k":"v", into *open) or after another member (,"k":"v", into *comma), both in a.
 * A stored set contains one of the two exactly when it has that tag: inside a JSON string every
 * '"' is escaped, so the text {"k":"v" or ,"k":"v" with bare quotes can only be the structure
 * itself. The backends check further tag filters of a search this way (docs/architecture.md).
 */
void tagset_member(const tag_t *t, const char **open, const char **comma, arena_t *a);

/* A list/search query over one tenant's objects. */
typedef struct obj_query {
    const char *prefix;      /* "" for none */
    const char *delimiter;   /* NULL or "" for none */
    tagset_t tags;           /* all must match */
    int limit;               /* 1..1000 */
    const char *start_after; /* resume strictly after this key; NULL from the start */
} obj_query_t;

#define OBJ_LIST_MAX     1000
#define OBJ_LIST_DEFAULT 100

/* For delimiter listing: if key (which starts with prefix) has delimiter after the prefix,
 * returns true and the length of the common prefix (up to and including the delimiter). */
bool obj_common_prefix(const char *key, const char *prefix, const char *delimiter, size_t *len);

/* The smallest string greater than every key that starts with p (length n): p followed by 0xFF,
 * which no UTF-8 key contains. Returns an arena string. */
char *obj_prefix_successor(const char *p, size_t n, arena_t *a);

/* The SHA-256 that binds a cursor to its query: prefix, delimiter and tag filters. */
void obj_query_hash(const obj_query_t *q, uint8_t out[32]);

/* Seals a cursor: AES-GCM over start_after, bound to the tenant and query hash, base64url.
 * Returns an arena string. */
char *obj_cursor_seal(const uint8_t key[32], const char *tenant, const uint8_t qhash[32], const char *start_after, arena_t *a);
/* Opens a cursor sealed for the same tenant and query. Returns 0 and *start_after (arena),
 * or ERR_BAD_REQUEST "invalid cursor" for anything else. */
int obj_cursor_open(const uint8_t key[32], const char *tenant, const uint8_t qhash[32], slice_t cursor, const char **start_after,
                    arena_t *a, err_t *e);

/* True if id is a valid tenant id: 1-64 of [a-z0-9_-], starting with a letter or digit. */
bool tenant_id_valid(const char *id);

#endif
