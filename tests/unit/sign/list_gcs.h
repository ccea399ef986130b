/* unit tests of src/sign/gcs.c */
/* clang-format off */
#define SIGN_GCS_TESTS(X)              \
    X(sign_gcs_conformance)            \
    X(sign_gcs_conformance_stores)     \
    X(sign_gcs_hmac_pin)               \
    X(sign_gcs_sdk_urls)               \
    X(sign_gcs_multipart)              \
    X(sign_gcs_put_binds)              \
    X(sign_gcs_store_options)          \
    X(sign_gcs_bad_credentials)        \
    X(sign_gcs_concurrent_signing)
/* clang-format on */
