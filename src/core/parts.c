/*
 * parts.c - choosing between one PUT and a multipart upload, and the part size.
 */
#include "core/parts.h"

static int64_t ceil_div(int64_t a, int64_t b)
{
    return a / b + (a % b != 0);
}

bool parts_store_uses(const part_plan_t *plan, const part_limits_t *lim)
{
    return plan->multipart && lim->part_min > 0;
}

int parts_plan(int64_t size, int want_parts, const part_limits_t *lims, const char *const *names, size_t n, part_plan_t *out,
               err_t *e)
{
    bool need = want_parts > 0, any = false;
    *out = (part_plan_t){0};
    if (want_parts < 0 || want_parts > PARTS_MAX)
        return err_set(e, ERR_BAD_REQUEST, "parts must be 1 to %d", PARTS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (size > lims[i].single_put_max) {
            if (lims[i].part_min <= 0)
                return err_set(e, ERR_PAYLOAD_TOO_LARGE, "store '%s' takes objects up to %lld bytes", names[i],
                               (long long)lims[i].single_put_max);
            need = true;
        }
        any |= lims[i].part_min > 0;
    }
    if (!need || !any)
        return 0;

    /* the bounds every part-taking store puts on the part size */
    int64_t lo = 1, hi = INT64_MAX;
    const char *lo_by = NULL, *hi_by = NULL;
    for (size_t i = 0; i < n; i++) {
        const part_limits_t *l = &lims[i];
        if (l->part_min <= 0)
            continue;
        int64_t need_lo = l->part_min > ceil_div(size, l->parts_max) ? l->part_min : ceil_div(size, l->parts_max);
        if (need_lo > lo) {
            lo = need_lo;
            lo_by = names[i];
        }
        if (l->part_max < hi) {
            hi = l->part_max;
            hi_by = names[i];
        }
    }
    if (lo > hi)
        return err_set(e, ERR_PAYLOAD_TOO_LARGE, "store '%s' cannot take %lld bytes in parts of at most %lld bytes",
                       lo_by ? lo_by : hi_by, (long long)size, (long long)hi);
    int64_t ps = want_parts > 0 ? ceil_div(size > 0 ? size : 1, want_parts) : PARTS_DEFAULT_SIZE;
    if (ps < lo)
        ps = lo;
    if (ps > hi)
        ps = hi;
    out->multipart = true;
    out->part_size = ps;
    out->part_count = size == 0 ? 1 : (int)ceil_div(size, ps);
    return 0;
}

int64_t parts_size_of(const part_plan_t *plan, int64_t size, int part_number)
{
    int64_t off = (int64_t)(part_number - 1) * plan->part_size;
    if (off >= size)
        return 0;
    return size - off < plan->part_size ? size - off : plan->part_size;
}
