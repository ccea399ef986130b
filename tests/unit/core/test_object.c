/*
 * test_object.c - ids, tokens, key/tag validation, tag-set changes, conditions and cursors.
 */
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/object.h"
#include "core/store.h"
#include "core/token.h"
#include "unit/test.h"
#include "util/arena.h"

TEST(core_ids)
{
    uint8_t rnd[ID_RANDOM_LEN] = {0};
    char a[ID_MAX], b[ID_MAX];
    id_make(a, "eu1", 1700000000000, rnd);
    CHECK_INT(strlen(a), 3 + 1 + 26);
    CHECK(strncmp(a, "eu1.", 4) == 0);
    slice_t cell;
    CHECK(id_parse(slice_cstr(a), &cell));
    CHECK(slice_eq_cstr(cell, "eu1"));
    CHECK_INT(id_time_ms(slice_cstr(a)), 1700000000000);
    /* later ids sort after earlier ones */
    id_make(b, "eu1", 1700000000001, rnd);
    CHECK(strcmp(a, b) < 0);
    memset(rnd, 0xff, sizeof(rnd));
    id_make(b, "eu1", 1700000000000, rnd);
    CHECK(strcmp(a, b) < 0);
    CHECK(id_parse(slice_cstr(b), NULL));
    /* malformed */
    CHECK(!id_parse(slice_cstr("eu1"), NULL));
    CHECK(!id_parse(slice_cstr("EU1.01JD3Q5ZC8Y8K0Q4N6D2T7W9XB"), NULL));
    CHECK(!id_parse(slice_cstr("eu1.01JD3Q5ZC8Y8K0Q4N6D2T7W9XU"), NULL)); /* U is not Crockford */
    CHECK(!id_parse(slice_cstr("eu1-01JD3Q5ZC8Y8K0Q4N6D2T7W9XB"), NULL));
    CHECK(!id_parse(slice_cstr("eu1.81JD3Q5ZC8Y8K0Q4N6D2T7W9XB"), NULL)); /* overflows 128 bits */
    CHECK(id_parse(slice_cstr("eu1.01JD3Q5ZC8Y8K0Q4N6D2T7W9XB"), NULL));
    CHECK(!id_parse(slice_cstr(".01JD3Q5ZC8Y8K0Q4N6D2T7W9XB"), NULL));
}

TEST(core_token)
{
    uint8_t kr[TOKEN_KEYID_RANDOM] = {1, 2, 3}, sr[TOKEN_SECRET_RANDOM] = {9, 8, 7};
    char tok[TOKEN_MAX], kid[TOKEN_KEYID_LEN + 1];
    token_make("eu1", kr, sr, tok, kid);
    CHECK(strncmp(tok, "lk_eu1_", 7) == 0);
    CHECK_INT(strlen(kid), TOKEN_KEYID_LEN);
    token_parts_t p;
    CHECK_INT(token_parse(slice_cstr(tok), &p), 0);
    CHECK(slice_eq_cstr(p.cell, "eu1"));
    CHECK(slice_eq_cstr(p.key_id, kid));
    CHECK_INT(p.secret.len, TOKEN_SECRET_LEN);
    /* malformed tokens */
    CHECK_INT(token_parse(slice_cstr("lk_eu1_abc_def"), &p), ERR_UNAUTHORIZED);
    CHECK_INT(token_parse(slice_cstr("xx_eu1_aaaaaaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), &p), ERR_UNAUTHORIZED);
    CHECK_INT(token_parse(slice_cstr("lk_eu1_aaaaaaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), &p), 0);
    CHECK_INT(token_parse(slice_cstr("lk_eu1_aaaaaaaaaaaaaaa1_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), &p), ERR_UNAUTHORIZED);
    CHECK_INT(token_parse(slice_cstr("lk_EU1_aaaaaaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), &p), ERR_UNAUTHORIZED);
    CHECK_INT(token_parse(slice_cstr("lk__aaaaaaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), &p), ERR_UNAUTHORIZED);
    CHECK_INT(token_parse(slice_cstr("lk_eu1_aaaaaaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_x"), &p), ERR_UNAUTHORIZED);
    CHECK_INT(token_parse(slice_cstr(""), &p), ERR_UNAUTHORIZED);
    CHECK_INT(token_scope_bit("read"), SCOPE_READ);
    CHECK_INT(token_scope_bit("write"), SCOPE_WRITE);
    CHECK_INT(token_scope_bit("admin"), 0);
}

TEST(core_key_rules)
{
    obj_limits_t l;
    err_t e;
    obj_limits_default(&l);
    CHECK_INT(obj_key_check(slice_cstr("calls/2026/11/rec-1.opus"), &l, &e), 0);
    CHECK_INT(obj_key_check(slice_cstr("a//b/../c/./d ü €"), &l, &e), 0);
    CHECK_INT(obj_key_check(slice_cstr(""), &l, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_key_check(slice_make("a\0b", 3), &l, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_key_check(slice_cstr("a\nb"), &l, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_key_check(slice_cstr("a\x7f"), &l, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_key_check(slice_cstr("\xc3\x28"), &l, &e), ERR_BAD_REQUEST);
    char big[1026];
    memset(big, 'k', sizeof(big));
    CHECK_INT(obj_key_check(slice_make(big, 1024), &l, &e), 0);
    CHECK_INT(obj_key_check(slice_make(big, 1025), &l, &e), ERR_BAD_REQUEST);
    CHECK(strstr(e.msg, "1025") != NULL);

    CHECK_INT(obj_tag_check(slice_cstr("kind"), slice_cstr("voicemail"), &l, &e), 0);
    CHECK_INT(obj_tag_check(slice_cstr("kind"), slice_cstr(""), &l, &e), 0);
    CHECK_INT(obj_tag_check(slice_cstr(""), slice_cstr("x"), &l, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_tag_check(slice_make(big, 129), slice_cstr("x"), &l, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_tag_check(slice_make(big, 128), slice_make(big, 256), &l, &e), 0);
    CHECK_INT(obj_tag_check(slice_cstr("k"), slice_make(big, 257), &l, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_tag_check(slice_cstr("k"), slice_cstr("a\tb"), &l, &e), ERR_BAD_REQUEST);

    CHECK_INT(obj_content_type_check("audio/opus", &e), 0);
    CHECK_INT(obj_content_type_check("", &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_content_type_check("text/\xc3\xa9", &e), ERR_BAD_REQUEST);
    char sha[] = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
    CHECK_INT(obj_sha256_check(sha, &e), 0);
    CHECK_STR(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char bad[] = "ba7816bf";
    CHECK_INT(obj_sha256_check(bad, &e), ERR_BAD_REQUEST);
}

TEST(core_tags)
{
    obj_limits_t l;
    err_t e;
    arena_t a;
    obj_limits_default(&l);
    arena_init(&a);
    tag_t base_items[] = {{"kind", "voicemail"}, {"customer", "acme"}, {"draft", "1"}};
    tagset_t base = {base_items, 3};
    CHECK_INT(tagset_normalize(&base, &l, &e), 0);
    CHECK_STR(base.items[0].k, "customer");
    tag_t set_items[] = {{"kind", "recording"}, {"lang", "de"}};
    tagset_t set = {set_items, 2};
    const char *remove[] = {"draft", "absent"};
    tagset_t out;
    CHECK_INT(tagset_apply(&base, &set, remove, 2, &l, &out, &a, &e), 0);
    buf_t b = BUF_INIT;
    tagset_to_json(&out, &b);
    CHECK_STR(b.base, "{\"customer\":\"acme\",\"kind\":\"recording\",\"lang\":\"de\"}");
    buf_release(&b);
    const char *both[] = {"lang"};
    CHECK_INT(tagset_apply(&base, &set, both, 1, &l, &out, &a, &e), ERR_BAD_REQUEST);
    /* duplicates and the limit */
    tag_t dup_items[] = {{"a", "1"}, {"a", "2"}};
    tagset_t dup = {dup_items, 2};
    CHECK_INT(tagset_normalize(&dup, &l, &e), ERR_BAD_REQUEST);
    l.tags_max = 3;
    CHECK_INT(tagset_apply(&base, &set, NULL, 0, &l, &out, &a, &e), ERR_BAD_REQUEST); /* 4 tags */
    arena_release(&a);
}

TEST(core_conditions)
{
    err_t e;
    cond_t c = {COND_NONE, 0};
    CHECK_INT(obj_cond_check(&c, 0, &e), 0);
    CHECK_INT(obj_cond_check(&c, 5, &e), 0);
    c.kind = COND_IF_NONE_MATCH;
    CHECK_INT(obj_cond_check(&c, 0, &e), 0);
    CHECK_INT(obj_cond_check(&c, 1, &e), ERR_PRECONDITION_FAILED);
    CHECK_INT(obj_parse_if_match(slice_cstr("\"3\""), &c, &e), 0);
    CHECK_INT(c.version, 3);
    CHECK_INT(obj_cond_check(&c, 3, &e), 0);
    CHECK_INT(obj_cond_check(&c, 4, &e), ERR_PRECONDITION_FAILED);
    CHECK_INT(obj_cond_check(&c, 0, &e), ERR_PRECONDITION_FAILED);
    CHECK_INT(obj_parse_if_match(slice_cstr(" 12 "), &c, &e), 0);
    CHECK_INT(c.version, 12);
    CHECK_INT(obj_parse_if_match(slice_cstr("*"), &c, &e), 0);
    CHECK_INT(obj_cond_check(&c, 7, &e), 0);
    CHECK_INT(obj_cond_check(&c, 0, &e), ERR_PRECONDITION_FAILED);
    CHECK_INT(obj_parse_if_match(slice_cstr("abc"), &c, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_parse_if_match(slice_cstr("0"), &c, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_parse_if_match(slice_cstr("99999999999999999999"), &c, &e), ERR_BAD_REQUEST);
}

TEST(core_list_helpers)
{
    size_t n;
    CHECK(obj_common_prefix("calls/2026/a", "calls/", "/", &n));
    CHECK_INT(n, strlen("calls/2026/"));
    CHECK(!obj_common_prefix("calls/a", "calls/", "/", &n));
    CHECK(!obj_common_prefix("calls/2026/a", "calls/", NULL, &n));
    CHECK(obj_common_prefix("a--b--c", "", "--", &n));
    CHECK_INT(n, 3);
    arena_t a;
    arena_init(&a);
    char *s = obj_prefix_successor("ab", 2, &a);
    CHECK(strcmp("ab", s) < 0);
    CHECK(strcmp("abzzz\xf4\x8f\xbf\xbf", s) < 0);
    CHECK(strcmp("ac", s) > 0);
    arena_release(&a);
}

TEST(core_cursor)
{
    uint8_t key[32] = {7}, q1[32], q2[32];
    arena_t a;
    err_t e;
    arena_init(&a);
    obj_query_t q = {.prefix = "calls/", .delimiter = NULL, .limit = 10};
    obj_query_hash(&q, q1);
    q.prefix = "calls/x";
    obj_query_hash(&q, q2);
    CHECK(memcmp(q1, q2, 32) != 0);
    char *c = obj_cursor_seal(key, "acme", q1, "calls/2026/\xff", &a);
    CHECK(c != NULL);
    const char *after;
    CHECK_INT(obj_cursor_open(key, "acme", q1, slice_cstr(c), &after, &a, &e), 0);
    CHECK_STR(after, "calls/2026/\xff");
    /* another tenant, another query, a tampered or garbage cursor: all refused */
    CHECK_INT(obj_cursor_open(key, "other", q1, slice_cstr(c), &after, &a, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_cursor_open(key, "acme", q2, slice_cstr(c), &after, &a, &e), ERR_BAD_REQUEST);
    char *t = arena_strdup(&a, c);
    t[strlen(t) / 2] = t[strlen(t) / 2] == 'A' ? 'B' : 'A';
    CHECK_INT(obj_cursor_open(key, "acme", q1, slice_cstr(t), &after, &a, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_cursor_open(key, "acme", q1, slice_cstr("!!!"), &after, &a, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_cursor_open(key, "acme", q1, slice_cstr(""), &after, &a, &e), ERR_BAD_REQUEST);
    uint8_t other[32] = {8};
    CHECK_INT(obj_cursor_open(other, "acme", q1, slice_cstr(c), &after, &a, &e), ERR_BAD_REQUEST);
    arena_release(&a);
}

TEST(core_tenant_and_store_ids)
{
    CHECK(tenant_id_valid("acme"));
    CHECK(tenant_id_valid("a_b-c9"));
    CHECK(!tenant_id_valid(""));
    CHECK(!tenant_id_valid("Acme"));
    CHECK(!tenant_id_valid("-acme"));
    CHECK(!tenant_id_valid("a/b"));
    CHECK(!tenant_id_valid("a.b"));
    CHECK(store_id_valid("aws-eu-west-1"));
    CHECK(store_id_valid("s3.eu_1"));
    CHECK(!store_id_valid(".x"));
    CHECK(!store_id_valid("X"));
    CHECK(!store_id_valid("a/b"));
}

TEST(core_disposition)
{
    buf_t b = BUF_INIT;
    err_t e;
    CHECK_INT(obj_disposition(NULL, NULL, &b, &e), 0);
    CHECK_STR(b.base, "attachment");
    buf_reset(&b);
    CHECK_INT(obj_disposition("inline", "report.pdf", &b, &e), 0);
    CHECK_STR(b.base, "inline; filename=\"report.pdf\"");
    buf_reset(&b);
    /* non-ASCII: a fallback with '_' per character, then the exact name (RFC 8187) */
    CHECK_INT(obj_disposition(NULL, "Grüße 2026.txt", &b, &e), 0);
    CHECK_STR(b.base, "attachment; filename=\"Gr__e 2026.txt\"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%202026.txt");
    buf_reset(&b);
    /* quotes and backslashes never reach the quoted form */
    CHECK_INT(obj_disposition(NULL, "a\"b\\c", &b, &e), 0);
    CHECK_STR(b.base, "attachment; filename=\"a_b_c\"; filename*=UTF-8''a%22b%5Cc");
    buf_reset(&b);
    CHECK_INT(obj_disposition("download", NULL, &b, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_disposition(NULL, "", &b, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_disposition(NULL, "a\r\nSet-Cookie: x", &b, &e), ERR_BAD_REQUEST);
    CHECK_INT(obj_disposition(NULL, "\xff\xfe", &b, &e), ERR_BAD_REQUEST);
    char long_name[OBJ_FILENAME_MAX + 2];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    CHECK_INT(obj_disposition(NULL, long_name, &b, &e), ERR_BAD_REQUEST);
    buf_release(&b);
}
