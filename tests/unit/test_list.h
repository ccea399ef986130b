/*
 * test_list.h - every unit test, by layer. Each layer keeps its own list header so
 * adding a test touches only that layer's files.
 */
#include "unit/util/list.h"
#include "unit/core/other_list.h"
#include "unit/core/list.h"
#include "unit/sign/list.h"
#include "unit/db/list.h"

/* core/list.h folds CORE_OTHER_TESTS into CORE_TESTS once it defines CORE_TESTS_INCLUDE_OTHER */
#ifdef CORE_TESTS_INCLUDE_OTHER
#define CORE_OTHER_TESTS_IF_UNLISTED(X)
#else
#define CORE_OTHER_TESTS_IF_UNLISTED(X) CORE_OTHER_TESTS(X)
#endif
#include "unit/cli/list.h"

#define TEST_LIST(X) UTIL_TESTS(X) CORE_TESTS(X) CORE_OTHER_TESTS_IF_UNLISTED(X) SIGN_TESTS(X) DB_TESTS(X) CLI_TESTS(X)
