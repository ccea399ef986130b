/*
 * buf.h - a growable byte buffer (git's strbuf, curl's dynbuf).
 *
 * Invariant: base[0..len) holds the data and base[len] == '\0' whenever base != NULL,
 * so the content can always be used as a C string. `max` is a hard cap (0 = none):
 * a buffer fed from the network must have one; appending past it fails with
 * ERR_PAYLOAD_TOO_LARGE and leaves the buffer unchanged.
 * Memory is malloc'ed; buf_release frees it. Out of memory aborts.
 */
#ifndef LOCI_UTIL_BUF_H
#define LOCI_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "util/slice.h"

typedef struct buf {
    char *base;
    size_t len;
    size_t cap;
    size_t max;
} buf_t;

#define BUF_INIT                                                                                                                   \
    {                                                                                                                              \
        NULL, 0, 0, 0                                                                                                              \
    }

/* Sets up an empty buffer with the given cap (0 = unlimited). */
void buf_init(buf_t *b, size_t max);
/* Frees the buffer's memory; the buffer is empty (and reusable) afterwards. */
void buf_release(buf_t *b);
/* Empties the buffer but keeps its memory. */
void buf_reset(buf_t *b);
/* Makes room for n more bytes. Returns 0 or ERR_PAYLOAD_TOO_LARGE. */
int buf_reserve(buf_t *b, size_t n);
/* Append bytes / a C string / a slice / a formatted string / one byte. */
int buf_append(buf_t *b, const void *p, size_t n);
int buf_puts(buf_t *b, const char *s);
int buf_put_slice(buf_t *b, slice_t s);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_put_i64(buf_t *b, int64_t v);
int buf_put_u64(buf_t *b, uint64_t v);
/* Hands the buffer's memory to the caller (free() it); the buffer is empty afterwards.
 * Never returns NULL: an empty buffer gives an allocated "". */
char *buf_detach(buf_t *b, size_t *len);

int buf_putc_slow(buf_t *b, char c);

/* One byte; inline because encoders call it per character. */
static inline int buf_putc(buf_t *b, char c)
{
    if (b->len + 1 < b->cap && (b->max == 0 || b->len < b->max)) {
        b->base[b->len++] = c;
        b->base[b->len] = '\0';
        return 0;
    }
    return buf_putc_slow(b, c);
}

static inline slice_t buf_slice(const buf_t *b)
{
    return (slice_t){b->base ? b->base : "", b->len};
}

#endif
