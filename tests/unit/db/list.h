/* unit tests of src/db/ */
#define DB_TESTS(X)                                                                                                                \
    X(db_upload_lifecycle)                                                                                                         \
    X(db_update_and_delete)                                                                                                        \
    X(db_list_order_and_filters) X(db_admin_rows) X(db_batch_isolation) X(db_expire_and_reopen) X(db_audit_same_transaction) X(db_shared_snapshot) X(db_reader_map) X(db_tag_probe_cache) X(db_wal_restart)
