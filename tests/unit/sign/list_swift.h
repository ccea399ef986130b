/* unit tests of src/sign/swift.c */
/* clang-format off */
#define SIGN_SWIFT_TESTS(X)
/* clang-format on */
