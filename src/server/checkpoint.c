/*
 * checkpoint.c - making and publishing signed checkpoints.
 */
#include "server/checkpoint.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/crypto.h"
#include "util/enc.h"
#include "util/jsonw.h"
#include "util/timeutil.h"

static int64_t heads_total(const audit_head_t *h, size_t n)
{
    int64_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += h[i].seq;
    return t;
}

int checkpointer_init(checkpointer_t *cp, const config_t *cfg, const secrets_t *sec, db_t *db, db_conn_t *conn, db_writer_t *wr,
                      err_t *e)
{
    memset(cp, 0, sizeof(*cp));
    cp->cfg = cfg;
    cp->sec = sec;
    cp->db = db;
    cp->conn = conn;
    cp->wr = wr;
    /* the newest checkpoint: page through (there are few) */
    int64_t after = 0;
    for (;;) {
        arena_t a;
        arena_init(&a);
        db_checkpoint_t *list;
        size_t n;
        int rc = db->vt->checkpoint_list(conn, after, 1000, &list, &n, &a, e);
        if (rc != 0) {
            arena_release(&a);
            return rc;
        }
        if (n > 0) {
            const db_checkpoint_t *last = &list[n - 1];
            cp->last_seq = last->seq;
            cp->last_time = last->time;
            /* the total of the seqs it attests */
            cp->last_total = 0;
            json_t *hs = json_loads(last->heads ? last->heads : "[]", 0, NULL);
            size_t i;
            json_t *h;
            json_array_foreach(hs, i, h) cp->last_total += json_integer_value(json_object_get(h, "seq"));
            json_decref(hs);
            after = last->seq;
        }
        arena_release(&a);
        if (n < 1000)
            break;
    }
    if (cp->last_time == 0)
        cp->last_time = time_now_ms();
    return 0;
}

/* Appends the checkpoint as one JSON line to <data>/audit-checkpoints.ndjson and fsyncs it. */
static void publish(const checkpointer_t *cp, const buf_t *line)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/audit-checkpoints.ndjson", cp->cfg->data_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, line->base, line->len) != (ssize_t)line->len || fsync(fd) != 0)
        fprintf(stderr, "loci: cannot append to '%s'\n", path);
    if (fd >= 0)
        close(fd);
}

int checkpointer_tick(checkpointer_t *cp, bool force, err_t *e)
{
    arena_t a;
    arena_init(&a);
    audit_head_t *heads;
    size_t n;
    int rc = cp->db->vt->audit_heads(cp->conn, &heads, &n, &a, e);
    if (rc != 0)
        goto out;
    int64_t total = heads_total(heads, n), now = time_now_ms();
    bool changed = total != cp->last_total;
    bool due =
        total - cp->last_total >= cp->cfg->audit_checkpoint_every || now - cp->last_time >= cp->cfg->audit_checkpoint_interval_ms;
    if (!changed || (!due && !force))
        goto out;

    db_checkpoint_t c = {.seq = cp->last_seq + 1, .time = now};
    audit_merkle_root(heads, n, c.root); /* sorts heads by tenant */
    buf_t hj = BUF_INIT, msg = BUF_INIT, line = BUF_INIT;
    jw_t w;
    jw_init(&w, &hj);
    jw_arr_open(&w);
    for (size_t i = 0; i < n; i++) {
        char hex[65];
        hex_encode(heads[i].hash, 32, hex);
        jw_obj_open(&w);
        jw_kv_str(&w, "tenant", heads[i].tenant);
        jw_kv_int(&w, "seq", heads[i].seq);
        jw_kv_str(&w, "hash", hex);
        jw_obj_close(&w);
    }
    jw_arr_close(&w);
    jw_finish(&w);
    c.heads = hj.base;
    uint8_t sig[ED25519_SIG_LEN];
    audit_checkpoint_message(c.seq, c.time, c.root, &msg);
    if (ed25519_sign(cp->sec->audit_priv, msg.base, msg.len, sig) != 0) {
        rc = err_set(e, ERR_INTERNAL, "cannot sign a checkpoint");
        goto done;
    }
    c.signature = sig;
    c.signature_len = sizeof(sig);
    db_write_t op = {0};
    op.op = DB_OP_CHECKPOINT_ADD;
    op.arena = &a;
    op.now = now;
    op.in.checkpoint_add.cp = &c;
    if ((rc = db_write_sync(cp->wr, &op)) != 0) {
        *e = op.err;
        goto done;
    }
    cp->last_seq = c.seq;
    cp->last_time = now;
    cp->last_total = total;

    char root[65], sigb64[96];
    hex_encode(c.root, 32, root);
    base64_encode(sig, sizeof(sig), sigb64);
    jw_init(&w, &line);
    jw_obj_open(&w);
    jw_kv_int(&w, "seq", c.seq);
    jw_kv_int(&w, "time", c.time);
    jw_kv_str(&w, "root", root);
    jw_kv_raw(&w, "heads", hj.base, hj.len);
    jw_kv_str(&w, "signature", sigb64);
    jw_obj_close(&w);
    jw_finish(&w);
    buf_putc(&line, '\n');
    publish(cp, &line);
done:
    buf_release(&hj);
    buf_release(&msg);
    buf_release(&line);
out:
    arena_release(&a);
    return rc;
}
