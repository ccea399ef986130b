/*
 * parts.h - how an upload is cut into parts: whether a multipart upload is needed and a part
 * size every chosen store accepts. Pure.
 *
 * Stores that can take parts (part_min > 0) all use the same layout, so a client cuts the file
 * once: parts 1..part_count of part_size bytes, the last one shorter (or empty for an empty
 * object). Stores that cannot (local, swift) take the object in one PUT.
 */
#ifndef LOCI_CORE_PARTS_H
#define LOCI_CORE_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* What a store accepts. */
typedef struct part_limits {
    int64_t single_put_max; /* the largest object one PUT may carry */
    int64_t part_min;       /* the smallest part but the last (0: no multipart) */
    int64_t part_max;       /* the largest part */
    int parts_max;          /* the most parts */
} part_limits_t;

/* The most parts an upload may ask for (S3 and GCS take 10,000). */
#define PARTS_MAX 10000
/* The part size chosen when a large object needs parts and the client asked for no count. */
#define PARTS_DEFAULT_SIZE ((int64_t)64 << 20)

typedef struct part_plan {
    bool multipart;    /* the stores that can take parts get them */
    int64_t part_size; /* every part but the last (multipart only) */
    int part_count;    /* 1..PARTS_MAX (multipart only) */
} part_plan_t;

/* Plans an upload of size bytes to the n stores described by lims (names used in messages),
 * when the client asked for want_parts parts (0: only if the size needs them). Multipart is
 * used when parts were asked for or size exceeds a store's single PUT, and some store can take
 * parts. The part size is ceil(size / want_parts) (or PARTS_DEFAULT_SIZE), raised to every
 * store's minimum and to what keeps the count within every store's maximum.
 * Returns 0, ERR_PAYLOAD_TOO_LARGE (a store can take neither the object nor its parts) or
 * ERR_BAD_REQUEST (want_parts out of range), with the reason in e. */
int parts_plan(int64_t size, int want_parts, const part_limits_t *lims, const char *const *names, size_t n, part_plan_t *out,
               err_t *e);

/* The size of part part_number (1-based) of an upload of size bytes cut as plan says. */
int64_t parts_size_of(const part_plan_t *plan, int64_t size, int part_number);

/* True when a store with these limits takes its copy in parts under plan. */
bool parts_store_uses(const part_plan_t *plan, const part_limits_t *lim);

#endif
