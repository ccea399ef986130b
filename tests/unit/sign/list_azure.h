/* unit tests of src/sign/azure.c */
/* clang-format off */
#define SIGN_AZURE_TESTS(X)
/* clang-format on */
