/* unit tests of src/sign/ */
/* clang-format off */
#include "unit/sign/list_gcs.h"
#include "unit/sign/list_azure.h"
#include "unit/sign/list_swift.h"

#define SIGN_TESTS(X)                  \
    SIGN_GCS_TESTS(X)                  \
    SIGN_AZURE_TESTS(X)                \
    SIGN_SWIFT_TESTS(X)                \
    X(sign_signing_key)                \
    X(sign_case_a)                     \
    X(sign_case_b)                     \
    X(sign_case_c_d_e)                 \
    X(sign_case_f)                     \
    X(sign_put_binds_headers)          \
    X(sign_residency_recheck)          \
    X(sign_aws_suite_query)            \
    X(sign_s3_store_options)           \
    X(sign_s3_refuses)                 \
    X(sign_concurrent_signing)         \
    X(sign_local_urls)                 \
    X(sign_local_verify_accepts)       \
    X(sign_local_verify_refuses)       \
    X(sign_s3_multipart_and_overrides)
/* clang-format on */
