/*
 * import.h - `loci import`: registering objects that already exist in a store, from an
 * NDJSON inventory, offline and in one transaction (docs/operations.md "Importing objects").
 */
#ifndef LOCI_CLI_IMPORT_H
#define LOCI_CLI_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/object.h"
#include "util/arena.h"
#include "util/err.h"

/* One inventory line, validated. Strings are NUL-terminated and allocated from the arena. */
typedef struct import_line {
    const char *key;
    const char *store;
    const char *name; /* the name inside the store; the key when the line has none */
    int64_t size;
    const char *content_type; /* application/octet-stream when the line has none */
    const char *sha256;       /* lowercase hex, or NULL */
    tagset_t tags;            /* normalized */
    const char *tags_json;    /* canonical, "{}" when none */
    const char *attrs_json;   /* compact JSON object, or NULL */
} import_line_t;

/*
 * Parses one NDJSON line {"key","store","name"?,"size","sha256"?,"content_type"?,"tags"?,
 * "attrs"?} and applies the API's rules to it (core/object.h: key, tags, content type,
 * sha256, attrs size; size 0..max_size; no other fields). The store's existence and
 * residency are the caller's to check. Returns 0, or ERR_BAD_REQUEST with the reason in e.
 */
int import_parse_line(const char *line, size_t len, const obj_limits_t *l, int64_t max_size, import_line_t *out, arena_t *a,
                      err_t *e);

#endif
