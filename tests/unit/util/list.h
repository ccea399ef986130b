/* unit tests of src/util/ */
#define UTIL_TESTS(X)                                                                                                              \
    X(util_hex)                                                                                                                    \
    X(util_base64)                                                                                                                 \
    X(util_pct) X(util_pct_all_bytes) X(util_utf8) X(util_buf_cap) X(util_jsonw) X(util_jsonw_escape_all_bytes) X(util_crypto) X(util_time) X(util_arena) X(util_err_table) X(util_pool_batch) X(util_pool_submit_list) X(util_spin)
