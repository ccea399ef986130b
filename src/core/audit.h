/*
 * audit.h - the tamper-evident audit trail's pure parts: entry hashing, checkpoint Merkle
 * roots and messages, and a streaming verifier (docs/audit.md defines the formats precisely).
 *
 * There is one hash chain per tenant and one for administrative events (tenant ""): one chain
 * head would serialise every write of every tenant. Each entry's
 *   hash = SHA-256(prev_hash || canonical(entry))
 * with prev_hash = 32 zero bytes for a chain's first entry, and
 *   canonical(entry) = "loci-audit-v1" F(tenant) F(seq) F(time) F(actor) F(action) F(subject) F(detail)
 *   F(x) = <decimal byte length of x> ":" x ","   (integers in decimal)
 * A checkpoint signs (seq, time, Merkle root over every chain's head) with Ed25519.
 */
#ifndef LOCI_CORE_AUDIT_H
#define LOCI_CORE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define AUDIT_HASH_LEN    32
#define AUDIT_ADMIN_CHAIN "" /* the tenant value of administrative entries */

typedef struct audit_entry {
    const char *tenant;  /* chain: a tenant id, or "" for administrative events */
    int64_t seq;         /* 1, 2, ... within the chain */
    int64_t time;        /* ms since the epoch */
    const char *actor;   /* a token's key id, "admin" or "system" */
    const char *action;  /* e.g. "upload_committed" */
    const char *subject; /* HMAC of an object key (hex), or a store/tenant/key id */
    const char *detail;  /* a JSON object, kept as the exact text that was hashed */
    uint8_t prev_hash[AUDIT_HASH_LEN];
    uint8_t hash[AUDIT_HASH_LEN];
} audit_entry_t;

/* Appends canonical(e) to b. */
int audit_canonical(const audit_entry_t *e, buf_t *b);
/* Computes SHA-256(e->prev_hash || canonical(e)) into out. */
void audit_entry_hash(const audit_entry_t *e, uint8_t out[AUDIT_HASH_LEN]);

/* A chain head as checkpoints see it. */
typedef struct audit_head {
    const char *tenant;
    int64_t seq;
    uint8_t hash[AUDIT_HASH_LEN];
} audit_head_t;

/* The Merkle root over heads (sorted here by tenant, in place): leaves
 * SHA-256(0x00 || F(tenant) || F(seq) || hash), inner nodes SHA-256(0x01 || left || right),
 * an odd last node carried up unchanged; no heads gives SHA-256(""). */
void audit_merkle_root(audit_head_t *heads, size_t n, uint8_t out[AUDIT_HASH_LEN]);

/* The message a checkpoint signs: "loci-checkpoint-v1" F(seq) F(time) F(root in lowercase hex). */
int audit_checkpoint_message(int64_t seq, int64_t time, const uint8_t root[AUDIT_HASH_LEN], buf_t *b);

/* The first problem found, for reports ("chain 'acme' seq 42: hash does not match its content"). */
typedef struct audit_problem {
    char tenant[72];
    int64_t seq;
    char reason[200];
} audit_problem_t;

/*
 * Streaming verification: feed each chain's entries in seq order (chains one after another),
 * after registering what the checkpoints attest. Detects edited entries (hash mismatch),
 * removed or inserted ones (seq gaps, prev_hash breaks), reordering, and truncation below the
 * last checkpoint (an attested entry never seen). Entries after the newest checkpoint can be
 * truncated undetectably: publish checkpoints outside loci to bound that window.
 */
typedef struct audit_verifier audit_verifier_t;

audit_verifier_t *audit_verifier_new(void);
void audit_verifier_free(audit_verifier_t *v);
/* Registers that a checkpoint attests entry (tenant, seq) with this hash. */
void audit_verifier_expect(audit_verifier_t *v, const char *tenant, int64_t seq, const uint8_t hash[AUDIT_HASH_LEN],
                           int64_t checkpoint_seq);
/* Checks one entry. Returns 0, or -1 with *p describing the first problem. */
int audit_verifier_entry(audit_verifier_t *v, const audit_entry_t *e, audit_problem_t *p);
/* After every entry: checks that every attested entry was seen. Returns 0 or -1 with *p. */
int audit_verifier_finish(audit_verifier_t *v, audit_problem_t *p);
/* Counts for reports. */
void audit_verifier_counts(const audit_verifier_t *v, int64_t *chains, int64_t *entries);

#endif
