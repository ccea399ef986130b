/* unit tests of src/db/ */
#define DB_TESTS(X)
