/* unit tests of src/core/ other than placement and jurisdictions (see list.h) */
#define CORE_OTHER_TESTS(X)                                                                                                        \
    X(core_ids)                                                                                                                    \
    X(core_token)                                                                                                                  \
    X(core_key_rules)                                                                                                              \
    X(core_tags) X(core_conditions) X(core_list_helpers) X(core_cursor) X(core_tenant_and_store_ids) X(core_disposition)           \
        X(core_parts_plan) X(core_parts_property) X(core_audit_canonical) X(core_audit_merkle) X(core_audit_verifier)              \
            X(util_ed25519)
