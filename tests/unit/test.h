/*
 * test.h - a minimal unit-test harness (in the spirit of libuv's test/task.h).
 *
 * A test is `TEST(name) { ... }` in tests/unit/<layer>/test_*.c and is registered in that
 * layer's list header (tests/unit/<layer>/list.h), which tests/unit/test_list.h includes.
 * CHECK* macros record a failure and continue; a test passes when it records none.
 * The runner prints "PASS unit/<name>" or "FAIL unit/<name>" per test.
 */
#ifndef LOCI_TEST_H
#define LOCI_TEST_H

#include <stdint.h>
#include <string.h>

void test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define TEST(name)                                                                                                                 \
    void test_##name(void);                                                                                                        \
    void test_##name(void)

#define CHECK(cond)                                                                                                                \
    do {                                                                                                                           \
        if (!(cond))                                                                                                               \
            test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                                                     \
    } while (0)

#define CHECK_INT(a, b)                                                                                                            \
    do {                                                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                                                        \
        if (a_ != b_)                                                                                                              \
            test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, a_, #b, b_);                                      \
    } while (0)

#define CHECK_STR(a, b)                                                                                                            \
    do {                                                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                                                           \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                                                                       \
            test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");            \
    } while (0)

#endif
