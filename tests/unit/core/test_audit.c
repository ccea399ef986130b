/*
 * test_audit.c - the audit trail's canonical encoding, hashing, Merkle roots and verifier,
 * with expected values computed independently (Python, from docs/audit.md).
 */
#include <string.h>

#include "core/audit.h"
#include "unit/test.h"
#include "util/crypto.h"
#include "util/enc.h"

static audit_entry_t sample(void)
{
    static const char subject[] = "abababababababababababababababababababababababababababababababab";
    audit_entry_t e = {.tenant = "acme",
                       .seq = 7,
                       .time = 1700000000123,
                       .actor = "k1",
                       .action = "object_deleted",
                       .subject = subject,
                       .detail = "{\"object_id\":\"eu1.X\"}"};
    for (int i = 0; i < 32; i++)
        e.prev_hash[i] = (uint8_t)i;
    return e;
}

TEST(core_audit_canonical)
{
    audit_entry_t e = sample();
    buf_t b = BUF_INIT;
    CHECK_INT(audit_canonical(&e, &b), 0);
    CHECK_STR(b.base, "loci-audit-v14:acme,1:7,13:1700000000123,2:k1,14:object_deleted,"
                      "64:abababababababababababababababababababababababababababababababab,21:{\"object_id\":\"eu1.X\"},");
    buf_release(&b);
    uint8_t h[32];
    char hex[65];
    audit_entry_hash(&e, h);
    hex_encode(h, 32, hex);
    CHECK_STR(hex, "749202f9e5d5b0a4a1f4ca3d62b19b99e71616336c6f93521cce9b614fc94f94");
    /* lengths are bytes, so multibyte text cannot shift a field boundary */
    audit_entry_t u = e;
    u.tenant = "\xc3\xa9";
    buf_init(&b, 0);
    audit_canonical(&u, &b);
    CHECK(strncmp(b.base, "loci-audit-v12:\xc3\xa9,", 18) == 0);
    buf_release(&b);
}

TEST(core_audit_merkle)
{
    audit_head_t heads[3] = {{"zeta", 1, {0}}, {"", 2, {0}}, {"acme", 5, {0}}};
    memset(heads[0].hash, 0x33, 32);
    memset(heads[1].hash, 0x11, 32);
    memset(heads[2].hash, 0x22, 32);
    uint8_t root[32];
    char hex[65];
    audit_merkle_root(heads, 3, root);
    hex_encode(root, 32, hex);
    CHECK_STR(hex, "2d8e6661751a77fec6ff3f22c9a3a762719674e731c929b61d4721427f61c74f");
    CHECK_STR(heads[0].tenant, ""); /* sorted by tenant */
    audit_merkle_root(NULL, 0, root);
    hex_encode(root, 32, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    buf_t m = BUF_INIT;
    audit_checkpoint_message(3, 99, root, &m);
    CHECK_STR(m.base, "loci-checkpoint-v11:3,2:99,64:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855,");
    buf_release(&m);
}

/* A chain of n entries in out. */
static void chain(audit_entry_t *out, int n, const char *tenant)
{
    uint8_t prev[32] = {0};
    for (int i = 0; i < n; i++) {
        audit_entry_t *e = &out[i];
        *e = (audit_entry_t){
            .tenant = tenant, .seq = i + 1, .time = 1000 + i, .actor = "a", .action = "x", .subject = "s", .detail = "{}"};
        memcpy(e->prev_hash, prev, 32);
        audit_entry_hash(e, e->hash);
        memcpy(prev, e->hash, 32);
    }
}

static int run(audit_entry_t *es, int n, audit_problem_t *p, const audit_head_t *expect)
{
    audit_verifier_t *v = audit_verifier_new();
    if (expect)
        audit_verifier_expect(v, expect->tenant, expect->seq, expect->hash, 1);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = audit_verifier_entry(v, &es[i], p);
    if (rc == 0)
        rc = audit_verifier_finish(v, p);
    audit_verifier_free(v);
    return rc;
}

TEST(core_audit_verifier)
{
    audit_entry_t es[8], t[8];
    audit_problem_t p;
    chain(es, 5, "acme");
    chain(es + 5, 3, "beta");
    CHECK_INT(run(es, 8, &p, NULL), 0);
    /* an edited entry */
    memcpy(t, es, sizeof(es));
    t[2].detail = "{\"x\":1}";
    CHECK_INT(run(t, 8, &p, NULL), -1);
    CHECK_STR(p.tenant, "acme");
    CHECK_INT(p.seq, 3);
    CHECK(strstr(p.reason, "hash") != NULL);
    /* a removed entry */
    memcpy(t, es, sizeof(es));
    memmove(&t[1], &t[2], 6 * sizeof(t[0]));
    CHECK_INT(run(t, 7, &p, NULL), -1);
    CHECK_INT(p.seq, 2);
    /* two entries swapped */
    memcpy(t, es, sizeof(es));
    t[1] = es[2];
    t[2] = es[1];
    CHECK_INT(run(t, 8, &p, NULL), -1);
    CHECK_INT(p.seq, 2);
    /* an entry rewritten with a consistent hash still breaks the next link */
    memcpy(t, es, sizeof(es));
    t[1].detail = "{\"forged\":true}";
    audit_entry_hash(&t[1], t[1].hash);
    CHECK_INT(run(t, 8, &p, NULL), -1);
    CHECK_INT(p.seq, 3);
    CHECK(strstr(p.reason, "prev_hash") != NULL);
    /* ... and a rewrite of the whole tail is caught by a checkpoint */
    audit_entry_t f[5];
    memcpy(f, es, sizeof(f));
    f[3].detail = "{\"forged\":true}";
    uint8_t prev[32];
    memcpy(prev, f[2].hash, 32);
    for (int i = 3; i < 5; i++) {
        memcpy(f[i].prev_hash, prev, 32);
        audit_entry_hash(&f[i], f[i].hash);
        memcpy(prev, f[i].hash, 32);
    }
    CHECK_INT(run(f, 5, &p, NULL), 0);
    audit_head_t attested = {"acme", 5, {0}};
    memcpy(attested.hash, es[4].hash, 32);
    CHECK_INT(run(f, 5, &p, &attested), -1);
    CHECK_INT(p.seq, 5);
    /* truncation below a checkpoint */
    CHECK_INT(run(es, 4, &p, &attested), -1);
    CHECK_INT(p.seq, 5);
    CHECK(strstr(p.reason, "truncated") != NULL);
    CHECK_INT(run(es, 5, &p, &attested), 0);
}

TEST(util_ed25519)
{
    /* RFC 8032 section 7.1, test 1 */
    uint8_t priv[32], pub[32], want_pub[32], sig[64], want_sig[64];
    hex_decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", 64, priv, 32);
    hex_decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", 64, want_pub, 32);
    hex_decode("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe"
               "24655141438e7a100b",
               128, want_sig, 64);
    CHECK_INT(ed25519_public(priv, pub), 0);
    CHECK(memcmp(pub, want_pub, 32) == 0);
    CHECK_INT(ed25519_sign(priv, "", 0, sig), 0);
    CHECK(memcmp(sig, want_sig, 64) == 0);
    CHECK(ed25519_verify(pub, "", 0, sig, 64));
    CHECK(!ed25519_verify(pub, "x", 1, sig, 64));
    sig[0] ^= 1;
    CHECK(!ed25519_verify(pub, "", 0, sig, 64));
    CHECK(!ed25519_verify(pub, "", 0, sig, 63));
    char pem[256];
    uint8_t back[32];
    CHECK_INT(ed25519_public_pem(pub, pem, sizeof(pem)), 0);
    CHECK(strstr(pem, "BEGIN PUBLIC KEY") != NULL);
    CHECK_INT(ed25519_public_parse(pem, back), 0);
    CHECK(memcmp(back, pub, 32) == 0);
    CHECK_INT(ed25519_public_parse("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", back), 0);
    CHECK(memcmp(back, pub, 32) == 0);
    CHECK_INT(ed25519_public_parse("not a key", back), ERR_BAD_REQUEST);
}
