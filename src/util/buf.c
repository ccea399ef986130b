/*
 * buf.c - growable buffer with a hard cap.
 */
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

void buf_init(buf_t *b, size_t max)
{
    b->base = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void buf_release(buf_t *b)
{
    free(b->base);
    b->base = NULL;
    b->len = b->cap = 0;
}

void buf_reset(buf_t *b)
{
    b->len = 0;
    if (b->base)
        b->base[0] = '\0';
}

int buf_reserve(buf_t *b, size_t n)
{
    if (n > SIZE_MAX - b->len - 1)
        return ERR_PAYLOAD_TOO_LARGE;
    size_t need = b->len + n + 1;
    if (b->max && b->len + n > b->max)
        return ERR_PAYLOAD_TOO_LARGE;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->base, cap);
    if (p == NULL) {
        fputs("loci: out of memory\n", stderr);
        abort();
    }
    b->base = p;
    b->cap = cap;
    b->base[b->len] = '\0'; /* the invariant holds from the first allocation on */
    return 0;
}

int buf_append(buf_t *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc != 0)
        return rc;
    if (n)
        memcpy(b->base + b->len, p, n);
    b->len += n;
    b->base[b->len] = '\0';
    return 0;
}

int buf_puts(buf_t *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_put_slice(buf_t *b, slice_t s)
{
    return buf_append(b, s.base, s.len);
}

int buf_putc_slow(buf_t *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    /* format straight into the free space; only when it does not fit, grow and format again */
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    va_start(ap, fmt);
    int n = vsnprintf(room ? b->base + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (room)
            b->base[b->len] = '\0';
        return ERR_INTERNAL;
    }
    if ((size_t)n < room && (b->max == 0 || b->len + (size_t)n <= b->max)) {
        b->len += (size_t)n;
        return 0;
    }
    if (room)
        b->base[b->len] = '\0'; /* the cut-off attempt must not show */
    int rc = buf_reserve(b, (size_t)n);
    if (rc != 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->base + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int buf_put_u64(buf_t *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return buf_append(b, tmp + i, sizeof(tmp) - i);
}

int buf_put_i64(buf_t *b, int64_t v)
{
    if (v < 0) {
        int rc = buf_putc(b, '-');
        if (rc != 0)
            return rc;
        return buf_put_u64(b, (uint64_t)0 - (uint64_t)v);
    }
    return buf_put_u64(b, (uint64_t)v);
}

char *buf_detach(buf_t *b, size_t *len)
{
    if (b->base == NULL)
        buf_reserve(b, 0);
    char *p = b->base;
    if (len)
        *len = b->len;
    b->base = NULL;
    b->len = b->cap = 0;
    return p;
}
