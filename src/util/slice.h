/*
 * slice.h - a borrowed, non-NUL-terminated byte range (the shape of h2o's h2o_iovec_t).
 */
#ifndef LOCI_UTIL_SLICE_H
#define LOCI_UTIL_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct slice {
    const char *base;
    size_t len;
} slice_t;

#define SLICE_LIT(s) ((slice_t){(s), sizeof(s) - 1})

static inline slice_t slice_make(const char *base, size_t len)
{
    return (slice_t){base, len};
}

/* A slice over a NUL-terminated string; NULL gives the empty slice. */
static inline slice_t slice_cstr(const char *s)
{
    return (slice_t){s, s ? strlen(s) : 0};
}

static inline bool slice_eq(slice_t a, slice_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.base, b.base, a.len) == 0);
}

static inline bool slice_eq_cstr(slice_t a, const char *s)
{
    return slice_eq(a, slice_cstr(s));
}

static inline bool slice_starts_with(slice_t a, slice_t prefix)
{
    return a.len >= prefix.len && memcmp(a.base, prefix.base, prefix.len) == 0;
}

#endif
