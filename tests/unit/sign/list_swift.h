/* unit tests of src/sign/swift.c */
/* clang-format off */
#define SIGN_SWIFT_TESTS(X)            \
    X(sign_swift_doc_vector)           \
    X(sign_swift_methods)              \
    X(sign_swift_names)                \
    X(sign_swift_public_host)          \
    X(sign_swift_overrides)            \
    X(sign_swift_refuses)              \
    X(sign_swift_concurrent)
/* clang-format on */
