/* unit tests of src/sign/gcs.c */
/* clang-format off */
#define SIGN_GCS_TESTS(X)
/* clang-format on */
