/*
 * main.c - runs the unit tests listed in test_list.h; with arguments, only those named.
 * Prints "PASS unit/<name>" / "FAIL unit/<name>" per test and a summary line; exits 1 on failure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit/test.h"
#include "unit/test_list.h"

#define DECLARE(name) void test_##name(void);
TEST_LIST(DECLARE)
#undef DECLARE

static int failures_in_test;

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "  %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    failures_in_test++;
}

struct test_entry {
    const char *name;
    void (*fn)(void);
};

static const struct test_entry tests[] = {
#define ENTRY(name) {#name, test_##name},
    TEST_LIST(ENTRY)
#undef ENTRY
};

static int selected(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0 || (strchr(argv[i], '*') && strncmp(argv[i], name, strcspn(argv[i], "*")) == 0))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        if (!selected(tests[i].name, argc, argv))
            continue;
        failures_in_test = 0;
        tests[i].fn();
        if (failures_in_test == 0) {
            printf("PASS unit/%s\n", tests[i].name);
            passed++;
        } else {
            printf("FAIL unit/%s\n", tests[i].name);
            failed++;
        }
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
