/* unit tests of src/sign/azure.c */
/* clang-format off */
#define SIGN_AZURE_TESTS(X)            \
    X(sign_azure_vectors)              \
    X(sign_azure_sdk_urls)             \
    X(sign_azure_permissions)          \
    X(sign_azure_overrides)            \
    X(sign_azure_blocks)               \
    X(sign_azure_public_host)          \
    X(sign_azure_create_refuses)       \
    X(sign_azure_names)                \
    X(sign_azure_concurrent_signing)
/* clang-format on */
