/*
 * secrets.c - files holding the master key and admin token.
 */
#include "server/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/crypto.h"
#include "util/enc.h"

/* Reads an existing file, or creates it (O_EXCL, 0600) with content from gen. */
int secrets_file(const char *path, char *buf, size_t cap, void (*gen)(char *buf, size_t cap), bool *created, err_t *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *created = false;
    if (fd < 0 && errno == ENOENT) {
        gen(buf, cap);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return err_set(e, ERR_IO, "cannot create '%s': %s", path, strerror(errno));
        size_t n = strlen(buf);
        int ok = write(fd, buf, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
        close(fd);
        if (!ok)
            return err_set(e, ERR_IO, "cannot write '%s': %s", path, strerror(errno));
        *created = true;
        return 0;
    }
    if (fd < 0)
        return err_set(e, ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
        fprintf(stderr, "loci: warning: '%s' is readable by others; chmod 600 it\n", path);
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return err_set(e, ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (n == 0)
        return err_set(e, ERR_IO, "'%s' is empty", path);
    return 0;
}

static void gen_master(char *buf, size_t cap)
{
    uint8_t k[32];
    if (crypto_random(k, sizeof(k)) != 0)
        abort();
    if (cap >= 65)
        hex_encode(k, 32, buf);
}

static void gen_admin(char *buf, size_t cap)
{
    uint8_t k[24];
    char b32[48];
    if (crypto_random(k, sizeof(k)) != 0)
        abort();
    base32_encode(k, sizeof(k), b32);
    snprintf(buf, cap, "la_%s", b32);
}

int secrets_load(secrets_t *s, const char *data_dir, err_t *e)
{
    char path[4096], buf[256];
    bool created;
    int rc;
    memset(s, 0, sizeof(*s));
    snprintf(path, sizeof(path), "%s/master.key", data_dir);
    if ((rc = secrets_file(path, buf, sizeof(buf), gen_master, &created, e)) != 0)
        return rc;
    if (hex_decode(buf, strlen(buf), s->master, 32) != 0)
        return err_set(e, ERR_IO, "'%s' must hold 64 hex digits", path);
    crypto_derive(s->master, "store-credentials", s->creds_key);
    crypto_derive(s->master, "list-cursor", s->cursor_key);

    crypto_derive(s->master, "audit-keys", s->audit_seal);

    /* the checkpoint signing key: its public half is published at /v1/admin/audit/pubkey */
    snprintf(path, sizeof(path), "%s/audit.key", data_dir);
    if ((rc = secrets_file(path, buf, sizeof(buf), gen_master, &created, e)) != 0)
        return rc;
    if (hex_decode(buf, strlen(buf), s->audit_priv, 32) != 0 || ed25519_public(s->audit_priv, s->audit_pub) != 0)
        return err_set(e, ERR_IO, "'%s' must hold 64 hex digits", path);
    char pem[256];
    snprintf(path, sizeof(path), "%s/audit.pub", data_dir);
    if (ed25519_public_pem(s->audit_pub, pem, sizeof(pem)) == 0) {
        FILE *f = fopen(path, "w");
        if (f) {
            fputs(pem, f);
            fclose(f);
        }
    }

    const char *env = getenv("LOCI_ADMIN_TOKEN");
    if (env && *env) {
        sha256(env, strlen(env), s->admin_hash);
    } else {
        snprintf(path, sizeof(path), "%s/admin.token", data_dir);
        if ((rc = secrets_file(path, buf, sizeof(buf), gen_admin, &s->admin_generated, e)) != 0)
            return rc;
        sha256(buf, strlen(buf), s->admin_hash);
    }
    return 0;
}

bool secrets_admin_ok(const secrets_t *s, slice_t token)
{
    uint8_t h[32];
    sha256(token.base, token.len, h);
    return crypto_equal(h, s->admin_hash, 32);
}

void secrets_local_creds(const secrets_t *s, const char *store_id, char akid[80], char secret[65])
{
    char purpose[128];
    uint8_t k[32];
    snprintf(purpose, sizeof(purpose), "local-store/%s", store_id);
    crypto_derive(s->master, purpose, k);
    hex_encode(k, 32, secret);
    /* the access key id appears in every URL, so it comes from its own derivation */
    char idhex[65];
    snprintf(purpose, sizeof(purpose), "local-store-id/%s", store_id);
    crypto_derive(s->master, purpose, k);
    hex_encode(k, 32, idhex);
    snprintf(akid, 80, "LOCI%.16s", idhex);
    for (char *p = akid; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
}

static void audit_aad(const char *tenant, char *aad, size_t cap)
{
    snprintf(aad, cap, "audit-key/%s", tenant);
}

int secrets_audit_key_new(const secrets_t *s, const char *tenant, uint8_t out[SECRETS_AUDIT_SEALED_LEN])
{
    uint8_t key[32];
    char aad[128];
    if (crypto_random(key, sizeof(key)) != 0)
        return ERR_INTERNAL;
    audit_aad(tenant, aad, sizeof(aad));
    int rc = aead_seal(s->audit_seal, aad, strlen(aad), key, sizeof(key), out);
    memset(key, 0, sizeof(key));
    return rc;
}

int secrets_audit_subject(const secrets_t *s, const char *tenant, const uint8_t *sealed, size_t sealed_len, const char *key,
                          char out[65])
{
    uint8_t k[32 + 16], mac[32];
    size_t n;
    char aad[128];
    audit_aad(tenant, aad, sizeof(aad));
    if (sealed == NULL || sealed_len != SECRETS_AUDIT_SEALED_LEN ||
        aead_open(s->audit_seal, aad, strlen(aad), sealed, sealed_len, k, &n) != 0 || n != 32)
        return ERR_UNAVAILABLE;
    hmac_sha256(k, 32, key, strlen(key), mac);
    memset(k, 0, sizeof(k));
    hex_encode(mac, 32, out);
    return 0;
}
