/* unit tests of src/sign/ */
#define SIGN_TESTS(X)                                                                                                              \
    X(sign_signing_key) X(sign_case_a) X(sign_case_b) X(sign_case_c_d_e) X(sign_case_f) X(sign_put_binds_headers)                 \
        X(sign_residency_recheck) X(sign_aws_suite_query) X(sign_local_verify)
