/*
 * jsonw.h - a streaming JSON writer into a buf_t.
 *
 * Responses are built with this writer rather than a DOM: no allocation per value,
 * commas handled by the writer. Strings should be valid UTF-8 (loci validates everything
 * it stores); a byte that is not part of a well-formed character is written as U+FFFD, so the
 * output is valid JSON whatever a message quotes. Control characters, '"' and '\\' are
 * escaped. Errors (buffer cap reached, nesting too deep) are sticky and reported by jw_finish().
 */
#ifndef LOCI_UTIL_JSONW_H
#define LOCI_UTIL_JSONW_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/slice.h"

#define JW_MAX_DEPTH 32

typedef struct jw {
    buf_t *b;
    int depth;
    int err;
    bool need_comma[JW_MAX_DEPTH + 1];
    bool after_key;
} jw_t;

/* Starts writing into b (appending to what is there). */
void jw_init(jw_t *w, buf_t *b);
/* Returns 0 if everything was written, otherwise the first error. */
int jw_finish(jw_t *w);

void jw_obj_open(jw_t *w);
void jw_obj_close(jw_t *w);
void jw_arr_open(jw_t *w);
void jw_arr_close(jw_t *w);
/* Writes an object key; the next value call writes its value. */
void jw_key(jw_t *w, const char *key);
void jw_str(jw_t *w, const char *s); /* NULL writes null */
void jw_str_n(jw_t *w, const char *s, size_t len);
void jw_int(jw_t *w, int64_t v);
void jw_bool(jw_t *w, bool v);
void jw_null(jw_t *w);
/* Writes an already-encoded JSON value verbatim (NULL or empty writes null). */
void jw_raw(jw_t *w, const char *json, size_t len);

/* Shorthands for key + value. */
void jw_kv_str(jw_t *w, const char *key, const char *s);
void jw_kv_int(jw_t *w, const char *key, int64_t v);
void jw_kv_bool(jw_t *w, const char *key, bool v);
void jw_kv_raw(jw_t *w, const char *key, const char *json, size_t len);

/* Appends s as a quoted, escaped JSON string to b. */
int jw_escape(buf_t *b, const char *s, size_t len);

#endif
