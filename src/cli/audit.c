/*
 * audit.c - `loci audit verify`: check the audit trail end to end and report the first
 * problem (the chain, the sequence number and why).
 *
 *   --data DIR   read DIR/loci.db directly (read-only; the server may be running), or the
 *                database --database URL (or LOCI_DATABASE) names, with DIR's audit.pub
 *   --url URL    fetch the export and checkpoints through the admin API and verify them here,
 *                independently of the server's own /v1/admin/audit/verify
 * Checkpoint signatures are checked against --pubkey FILE (PEM, or base64 of the raw key),
 * else DIR/audit.pub, else the key the server publishes. Keep a copy of the public key away
 * from the server: a key read from the place being audited proves little.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/session.h"
#include "db/audit_verify.h"
#include "util/crypto.h"
#include "util/enc.h"

#define PAGE 5000

static int read_text(const char *path, char *buf, size_t cap, err_t *e)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return err_set(e, ERR_NOT_FOUND, "cannot open '%s'", path);
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return 0;
}

static int load_pubkey(const char *path, uint8_t pub[32], err_t *e)
{
    char text[1024];
    int rc = read_text(path, text, sizeof(text), e);
    if (rc == 0 && ed25519_public_parse(text, pub) != 0)
        rc = err_set(e, ERR_BAD_REQUEST, "'%s' is not an Ed25519 public key", path);
    return rc;
}

static int report(const audit_report_t *r)
{
    if (!r->ok) {
        fprintf(stderr, "loci: audit trail broken: %s%s%s seq %lld: %s\n",
                strcmp(r->problem.tenant, AUDIT_CHECKPOINTS) == 0 ? "" : "chain ",
                r->problem.tenant[0] ? r->problem.tenant : "(admin)", "", (long long)r->problem.seq, r->problem.reason);
        return CLI_EXIT_FAIL;
    }
    printf("audit trail intact: %lld chains, %lld entries, %lld checkpoints\n", (long long)r->chains, (long long)r->entries,
           (long long)r->checkpoints);
    return CLI_EXIT_OK;
}

static int verify_data(const char *dir, const char *database, const char *pubkey, audit_report_t *r, err_t *e)
{
    char path[4096];
    uint8_t pub[32];
    snprintf(path, sizeof(path), "%s/audit.pub", dir);
    int rc = load_pubkey(pubkey ? pubkey : path, pub, e);
    if (rc != 0)
        return rc;
    db_t *db;
    db_conn_t *c;
    if (database && database[0])
        snprintf(path, sizeof(path), "%s", database);
    else
        snprintf(path, sizeof(path), "%s/loci.db", dir);
    if ((rc = db_open_readonly(path, &db, e)) != 0)
        return rc;
    if ((rc = db_conn_open(db, &c, e)) == 0) {
        rc = db_audit_verify(c, pub, r, e);
        db->vt->conn_close(c);
    }
    db_close(db);
    return rc;
}

static int hex32(const char *s, uint8_t out[32])
{
    return s && hex_decode(s, strlen(s), out, 32) == 0 ? 0 : -1;
}

/* GET path into s->resp. */
static int get(cli_session_t *s, const char *path)
{
    cli_request_t req = {.method = "GET", .path = path};
    return cli_call(&s->client, &req, &s->resp, &s->e);
}

static int verify_url(cli_session_t *s, const char *pubkey, audit_report_t *r)
{
    uint8_t pub[32];
    int rc;
    if (pubkey) {
        if ((rc = load_pubkey(pubkey, pub, &s->e)) != 0)
            return rc;
    } else {
        if ((rc = get(s, "/v1/admin/audit/pubkey")) != 0)
            return rc;
        const char *k = cli_jstr(s->resp.json, "public_key");
        if (k == NULL || ed25519_public_parse(k, pub) != 0)
            return err_set(&s->e, ERR_INTERNAL, "the server's public key is unreadable");
    }
    audit_verifier_t *v = audit_verifier_new();
    memset(r, 0, sizeof(*r));
    r->ok = true;

    /* checkpoints */
    int64_t after = 0;
    for (bool more = true; rc == 0 && more && r->ok;) {
        char path[128];
        snprintf(path, sizeof(path), "/v1/admin/audit/checkpoints?after=%lld&limit=1000", (long long)after);
        if ((rc = get(s, path)) != 0)
            break;
        json_t *list = json_object_get(s->resp.json, "checkpoints");
        size_t i, n = json_array_size(list);
        json_t *j;
        json_array_foreach(list, i, j)
        {
            db_checkpoint_t cp = {.seq = cli_jint(j, "seq", 0), .time = cli_jint(j, "time", 0)};
            uint8_t sig[96];
            size_t siglen = 0;
            const char *sigb64 = cli_jstr(j, "signature");
            char *heads = json_dumps(json_object_get(j, "heads"), JSON_COMPACT);
            cp.heads = heads;
            if (hex32(cli_jstr(j, "root"), cp.root) != 0 || sigb64 == NULL || strlen(sigb64) > 100 ||
                base64_decode(sigb64, strlen(sigb64), sig, &siglen) != 0)
                siglen = 0;
            cp.signature = sig;
            cp.signature_len = siglen;
            if (cp.seq != after + 1) {
                snprintf(r->problem.tenant, sizeof(r->problem.tenant), "%s", AUDIT_CHECKPOINTS);
                r->problem.seq = after + 1;
                snprintf(r->problem.reason, sizeof(r->problem.reason), "checkpoint missing");
                r->ok = false;
            } else if (audit_checkpoint_check(&cp, pub, v, &r->problem) != 0) {
                r->ok = false;
            }
            free(heads);
            after = cp.seq;
            r->checkpoints++;
            if (!r->ok)
                break;
        }
        more = n == 1000;
    }

    /* every chain, page by page */
    char *next = strdup(":0");
    for (bool more = true; rc == 0 && more && r->ok;) {
        buf_reset(&s->path);
        buf_puts(&s->path, "/v1/admin/audit");
        cli_query_add(&s->path, "after", next);
        char limit[16];
        snprintf(limit, sizeof(limit), "%d", PAGE);
        cli_query_add(&s->path, "limit", limit);
        if ((rc = get(s, s->path.base)) != 0)
            break;
        json_t *list = json_object_get(s->resp.json, "entries");
        size_t i;
        json_t *j;
        json_array_foreach(list, i, j)
        {
            audit_entry_t en = {.tenant = cli_jstr(j, "tenant"),
                                .seq = cli_jint(j, "seq", 0),
                                .time = cli_jint(j, "time", 0),
                                .actor = cli_jstr(j, "actor"),
                                .action = cli_jstr(j, "action"),
                                .subject = cli_jstr(j, "subject"),
                                .detail = cli_jstr(j, "detail")};
            if (en.tenant == NULL || hex32(cli_jstr(j, "prev_hash"), en.prev_hash) != 0 ||
                hex32(cli_jstr(j, "hash"), en.hash) != 0) {
                rc = err_set(&s->e, ERR_INTERNAL, "malformed audit entry in the export");
                break;
            }
            if (audit_verifier_entry(v, &en, &r->problem) != 0) {
                r->ok = false;
                break;
            }
        }
        const char *n = cli_jstr(s->resp.json, "next_after");
        free(next);
        next = n ? strdup(n) : NULL;
        more = next != NULL;
    }
    free(next);
    if (rc == 0 && r->ok && audit_verifier_finish(v, &r->problem) != 0)
        r->ok = false;
    audit_verifier_counts(v, &r->chains, &r->entries);
    audit_verifier_free(v);
    return rc;
}

int cmd_audit(int argc, char **argv)
{
    const char *data = NULL, *pubkey = NULL, *database = getenv("LOCI_DATABASE");
    const cli_opt_t opts[] = {
        {.name = "--data", .kind = CLI_OPT_STR, .metavar = "DIR", .help = "verify DIR/loci.db directly", .dest = &data},
        {.name = "--database",
         .kind = CLI_OPT_STR,
         .metavar = "URL",
         .help = "with --data: verify this database instead (postgres://...; default LOCI_DATABASE)",
         .dest = &database},
        {.name = "--pubkey",
         .kind = CLI_OPT_STR,
         .metavar = "FILE",
         .help = "checkpoint public key (PEM or base64; default DIR/audit.pub or the server's)",
         .dest = &pubkey},
        {.name = NULL},
    };
    const cli_spec_t spec = {
        .usage = "loci audit verify [--data DIR [--database URL] | --url URL] [--pubkey FILE]",
        .about = "Verifies the audit trail: every chain entry by entry, every checkpoint's signature and root,\n"
                 "and that no attested entry is missing. Reports the first problem and exits 1.",
        .min_args = 1,
        .max_args = 1,
        .token_env = CLI_ENV_ADMIN_TOKEN,
        .opts = opts,
    };
    cli_session_t s;
    audit_report_t r;
    int rc;
    if (!cli_session_begin(&s, &spec, argc, argv, -1))
        return cli_session_end(&s);
    if (strcmp(s.args.pos[0], "verify") != 0) {
        cli_session_usage(&s, "the audit command is 'verify'");
        return cli_session_end(&s);
    }
    rc = data ? verify_data(data, database, pubkey, &r, &s.e) : verify_url(&s, pubkey, &r);
    if (rc != 0)
        cli_fail(&s.e);
    else
        s.exit_code = report(&r);
    return cli_session_end(&s);
}
