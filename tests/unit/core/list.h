/* unit tests of src/core/ */
/* clang-format off */
#define PLACEMENT_TESTS(X)             \
    X(core_juris_countries)            \
    X(core_juris_continents)           \
    X(core_juris_cset)                 \
    X(core_juris_cset_format)          \
    X(core_juris_builtin_groups)       \
    X(core_juris_configured_groups)    \
    X(core_juris_expand)               \
    X(core_juris_regions)              \
    X(core_placement_exclusions)       \
    X(core_placement_copies_range)     \
    X(core_placement_no_eligible)      \
    X(core_placement_tiers)            \
    X(core_placement_score_formula)    \
    X(core_placement_weights)          \
    X(core_placement_stability)        \
    X(core_placement_copies)           \
    X(core_placement_explain)          \
    X(core_placement_read)             \
    X(core_placement_property)         \
    X(core_placement_read_property)
/* clang-format on */
/* CORE_OTHER_TESTS (ids, tokens, keys, cursors) comes from other_list.h */
#define CORE_TESTS(X) PLACEMENT_TESTS(X) CORE_OTHER_TESTS(X)
