/*
 * test_list.h - every unit test, by layer. Each layer keeps its own list header so
 * adding a test touches only that layer's files.
 */
#include "unit/util/list.h"
#include "unit/core/other_list.h"
#include "unit/core/list.h"
#include "unit/sign/list.h"
#include "unit/db/list.h"

#include "unit/cli/list.h"

#define TEST_LIST(X) UTIL_TESTS(X) CORE_TESTS(X) SIGN_TESTS(X) DB_TESTS(X) CLI_TESTS(X)
