/* unit tests of src/core/ */
#define CORE_TESTS(X)
