/* unit tests of src/cli/ */
#define CLI_TESTS(X)                                                                                                               \
    X(cli_opts_parse)                                                                                                              \
    X(cli_opts_errors)                                                                                                             \
    X(cli_parse_numbers_and_kv)                                                                                                    \
    X(cli_paths)                                                                                                                   \
    X(cli_content_type)                                                                                                            \
    X(cli_error_format)                                                                                                            \
    X(cli_header_lines)                                                                                                            \
    X(cli_tags_attrs)                                                                                                              \
    X(cli_temp_names)                                                                                                              \
    X(cli_progress_text)                                                                                                           \
    X(cli_client_setup)                                                                                                            \
    X(cli_import_line_ok)                                                                                                          \
    X(cli_import_line_refused)
