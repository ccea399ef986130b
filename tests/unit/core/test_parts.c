/*
 * test_parts.c - single PUT or multipart, and the part size, for the providers' real limits.
 */
#include <string.h>

#include "core/parts.h"
#include "unit/test.h"

static const part_limits_t S3 = {INT64_C(5) << 30, INT64_C(5) << 20, INT64_C(5) << 30, 10000};
static const part_limits_t GCS = {INT64_C(5) << 40, INT64_C(5) << 20, INT64_C(5) << 30, 10000};
static const part_limits_t AZURE = {INT64_C(5000) << 20, INT64_C(5) << 20, INT64_C(4000) << 20, 50000};
static const part_limits_t SWIFT = {INT64_C(5) << 30, 0, 0, 0};
static const part_limits_t LOCAL = {INT64_MAX, 0, 0, 0};
#define MiB (INT64_C(1) << 20)
#define GiB (INT64_C(1) << 30)

TEST(core_parts_plan)
{
    const char *names[] = {"a", "b", "c"};
    part_limits_t l[3];
    part_plan_t p;
    err_t e;

    /* small objects: one PUT unless parts are asked for */
    l[0] = S3;
    CHECK_INT(parts_plan(100 * MiB, 0, l, names, 1, &p, &e), 0);
    CHECK(!p.multipart);
    CHECK_INT(parts_plan(100 * MiB, 4, l, names, 1, &p, &e), 0);
    CHECK(p.multipart);
    CHECK_INT(p.part_size, 25 * MiB);
    CHECK_INT(p.part_count, 4);
    /* parts below the store's minimum are raised to it: fewer parts than asked */
    CHECK_INT(parts_plan(12 * MiB, 10, l, names, 1, &p, &e), 0);
    CHECK_INT(p.part_size, 5 * MiB);
    CHECK_INT(p.part_count, 3);
    CHECK_INT(parts_size_of(&p, 12 * MiB, 1), 5 * MiB);
    CHECK_INT(parts_size_of(&p, 12 * MiB, 3), 2 * MiB);
    CHECK_INT(parts_size_of(&p, 12 * MiB, 4), 0);
    /* an empty object asked in parts is one empty part */
    CHECK_INT(parts_plan(0, 3, l, names, 1, &p, &e), 0);
    CHECK(p.multipart);
    CHECK_INT(p.part_count, 1);
    CHECK_INT(parts_size_of(&p, 0, 1), 0);

    /* above the single PUT limit parts are used without being asked, at the default size */
    CHECK_INT(parts_plan(6 * GiB, 0, l, names, 1, &p, &e), 0);
    CHECK(p.multipart);
    CHECK_INT(p.part_size, PARTS_DEFAULT_SIZE);
    CHECK_INT(p.part_count, 96);
    /* 5 TiB needs parts of at least size/10000 */
    CHECK_INT(parts_plan(INT64_C(5) << 40, 0, l, names, 1, &p, &e), 0);
    CHECK_INT(p.part_count, 10000);
    CHECK(p.part_size * 10000 >= (INT64_C(5) << 40));
    /* beyond 10000 parts of the largest size: too large */
    CHECK_INT(parts_plan(INT64_C(50) << 40, 0, l, names, 1, &p, &e), ERR_PAYLOAD_TOO_LARGE);
    CHECK(strstr(e.msg, "store 'a'") != NULL);

    /* stores together: the strictest bounds win; a store without parts takes one PUT */
    l[0] = S3, l[1] = AZURE, l[2] = LOCAL;
    CHECK_INT(parts_plan(20 * GiB, 0, l, names, 3, &p, &e), 0);
    CHECK(p.multipart);
    CHECK(parts_store_uses(&p, &l[0]) && parts_store_uses(&p, &l[1]) && !parts_store_uses(&p, &l[2]));
    /* a single 5 GiB part is too big for azure's 4000 MiB blocks */
    CHECK_INT(parts_plan(10 * GiB, 2, l, names, 2, &p, &e), 0);
    CHECK_INT(p.part_size, 4000 * MiB);
    CHECK_INT(p.part_count, 3);
    /* swift cannot take parts, so an object over its single PUT is refused, naming it */
    l[0] = SWIFT, l[1] = GCS;
    CHECK_INT(parts_plan(6 * GiB, 0, l, names, 2, &p, &e), ERR_PAYLOAD_TOO_LARGE);
    CHECK(strstr(e.msg, "store 'a' takes objects up to 5368709120 bytes") != NULL);
    /* parts asked of stores that cannot take them: one PUT */
    CHECK_INT(parts_plan(10 * MiB, 4, l, names, 1, &p, &e), 0);
    CHECK(!p.multipart);
    /* out of range */
    CHECK_INT(parts_plan(10, 10001, &S3, names, 1, &p, &e), ERR_BAD_REQUEST);
    CHECK_INT(parts_plan(10, -1, &S3, names, 1, &p, &e), ERR_BAD_REQUEST);
}

/* Every plan covers the object exactly, within every store's limits. */
TEST(core_parts_property)
{
    const part_limits_t all[] = {S3, GCS, AZURE, SWIFT, LOCAL};
    const char *names[] = {"a", "b", "c"};
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        part_limits_t l[3];
        size_t n = 1 + i % 3;
        for (size_t k = 0; k < n; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            l[k] = all[x % 5];
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t size = (int64_t)(x % ((INT64_C(6) << 40))) >> (x % 40);
        int want = (int)((x >> 40) % 3 == 0 ? 0 : (x >> 20) % 10001);
        part_plan_t p;
        err_t e;
        int rc = parts_plan(size, want, l, names, n, &p, &e);
        if (rc != 0) {
            CHECK_INT(rc, ERR_PAYLOAD_TOO_LARGE);
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            if (!parts_store_uses(&p, &l[k])) {
                CHECK(size <= l[k].single_put_max);
                continue;
            }
            CHECK(p.part_count >= 1 && p.part_count <= l[k].parts_max);
            CHECK(p.part_size <= l[k].part_max);
            CHECK(p.part_count == 1 || p.part_size >= l[k].part_min);
        }
        if (p.multipart) {
            CHECK((int64_t)(p.part_count - 1) * p.part_size < size || (size == 0 && p.part_count == 1));
            CHECK((int64_t)p.part_count * p.part_size >= size);
            CHECK(parts_size_of(&p, size, p.part_count) > 0 || size == 0);
        }
    }
}
