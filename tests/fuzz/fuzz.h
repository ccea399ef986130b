/*
 * fuzz.h - helpers shared by the libFuzzer harnesses in tests/fuzz/ (one .c file each, built by
 * `make fuzz-build` with clang -fsanitize=fuzzer,address,undefined; see docs/testing.md).
 *
 * A harness splits its input into fields with fz_field() (0x00 separates fields, the last one
 * takes the rest) or takes single bytes with fz_byte(), so a mutation of one field leaves the
 * others alone. FZ_CHECK states a property the code under test must keep: when it does not
 * hold, the harness prints what it saw and aborts, and libFuzzer saves the input as a crash.
 */
#ifndef LOCI_TESTS_FUZZ_H
#define LOCI_TESTS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/slice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The unread rest of an input. */
typedef struct fz {
    const uint8_t *p;
    size_t n;
} fz_t;

static inline fz_t fz_init(const uint8_t *data, size_t size)
{
    return (fz_t){data, size};
}

/* The next byte (0 once the input is used up). */
static inline uint8_t fz_byte(fz_t *f)
{
    if (f->n == 0)
        return 0;
    f->n--;
    return *f->p++;
}

/* The bytes up to the next 0x00 (which is consumed), or the rest of the input. */
static inline slice_t fz_field(fz_t *f)
{
    const uint8_t *z = memchr(f->p, 0, f->n);
    size_t len = z ? (size_t)(z - f->p) : f->n;
    slice_t s = slice_make((const char *)f->p, len);
    f->p += len + (z ? 1 : 0);
    f->n -= len + (z ? 1 : 0);
    return s;
}

/* The rest of the input, whatever it holds. */
static inline slice_t fz_rest(fz_t *f)
{
    slice_t s = slice_make((const char *)f->p, f->n);
    f->p += f->n;
    f->n = 0;
    return s;
}

/* A malloc'ed NUL-terminated copy of a slice (the slice may hold NULs: the copy stops there,
 * as a C string would). Free it with free(). */
static inline char *fz_cstr(slice_t s)
{
    char *c = malloc(s.len + 1);
    if (c == NULL)
        abort();
    if (s.len)
        memcpy(c, s.base, s.len);
    c[s.len] = '\0';
    return c;
}

/* Aborts with a message when a property does not hold. */
#define FZ_CHECK(cond, ...)                                                                                                        \
    do {                                                                                                                           \
        if (!(cond)) {                                                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__, __LINE__, #cond);                                            \
            fprintf(stderr, __VA_ARGS__);                                                                                          \
            fputc('\n', stderr);                                                                                                   \
            abort();                                                                                                               \
        }                                                                                                                          \
    } while (0)

#endif
