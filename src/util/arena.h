/*
 * arena.h - a per-request bump allocator (like h2o's req->pool or a PostgreSQL memory context).
 *
 * Everything a request parses and builds is allocated here and freed in one go by
 * arena_release(). Allocation never fails silently: on out-of-memory the process aborts,
 * because a half-built request cannot be answered sensibly (the same policy as h2o_mem_alloc).
 */
#ifndef LOCI_UTIL_ARENA_H
#define LOCI_UTIL_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "util/slice.h"

typedef struct arena_chunk arena_chunk_t;

typedef struct arena {
    arena_chunk_t *chunks; /* newest first */
    char *cur;             /* next free byte in chunks */
    size_t left;           /* free bytes after cur */
} arena_t;

/* Sets up an empty arena in caller-owned memory. */
void arena_init(arena_t *a);
/* Frees every allocation made from the arena; it can be used again afterwards. */
void arena_release(arena_t *a);

/* Returns n bytes aligned for any type, valid until arena_release. */
void *arena_alloc(arena_t *a, size_t n);
/* Like arena_alloc but zeroed. */
void *arena_calloc(arena_t *a, size_t count, size_t size);
/* Copies len bytes into the arena and NUL-terminates them. */
char *arena_strndup(arena_t *a, const char *s, size_t len);
/* Copies a NUL-terminated string (NULL gives NULL). */
char *arena_strdup(arena_t *a, const char *s);
/* Copies a slice as a NUL-terminated string. */
char *arena_slice_dup(arena_t *a, slice_t s);
/* printf into the arena. */
char *arena_printf(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(arena_t *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
