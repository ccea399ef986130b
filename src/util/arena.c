/*
 * arena.c - chunked bump allocation. Small requests share 4 KiB-and-growing chunks;
 * a request larger than a quarter chunk gets a chunk of its own so little is wasted.
 */
#include "util/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
    arena_chunk_t *next;
    size_t size;
    _Alignas(max_align_t) char data[];
};

#define ARENA_MIN_CHUNK 4096
#define ARENA_ALIGN     (sizeof(max_align_t))

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL) {
        fputs("loci: out of memory\n", stderr);
        abort();
    }
    return p;
}

void arena_init(arena_t *a)
{
    a->chunks = NULL;
    a->cur = NULL;
    a->left = 0;
}

void arena_release(arena_t *a)
{
    arena_chunk_t *c = a->chunks;
    while (c != NULL) {
        arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    arena_init(a);
}

static arena_chunk_t *new_chunk(size_t size)
{
    arena_chunk_t *c = xmalloc(sizeof(*c) + size);
    c->size = size;
    c->next = NULL;
    return c;
}

void *arena_alloc(arena_t *a, size_t n)
{
    if (n == 0)
        n = 1;
    size_t need = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (need < n) {
        fputs("loci: arena allocation overflow\n", stderr);
        abort();
    }
    if (need <= a->left) {
        void *p = a->cur;
        a->cur += need;
        a->left -= need;
        return p;
    }
    size_t last = a->chunks ? a->chunks->size : 0;
    size_t size = last ? last * 2 : ARENA_MIN_CHUNK;
    if (size > 1 << 20)
        size = 1 << 20;
    if (need > size / 4) {
        /* a large block: its own chunk, linked behind the current one so the current stays usable */
        arena_chunk_t *c = new_chunk(need);
        if (a->chunks) {
            c->next = a->chunks->next;
            a->chunks->next = c;
        } else {
            a->chunks = c;
        }
        return c->data;
    }
    arena_chunk_t *c = new_chunk(size);
    c->next = a->chunks;
    a->chunks = c;
    a->cur = c->data + need;
    a->left = size - need;
    return c->data;
}

void *arena_calloc(arena_t *a, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) {
        fputs("loci: arena allocation overflow\n", stderr);
        abort();
    }
    void *p = arena_alloc(a, count * size);
    memset(p, 0, count * size);
    return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arena_strdup(arena_t *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_slice_dup(arena_t *a, slice_t s)
{
    return arena_strndup(a, s.base, s.len);
}

char *arena_vprintf(arena_t *a, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return arena_strdup(a, "");
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_printf(arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}
