/* unit tests of src/sign/ */
#define SIGN_TESTS(X)
