/*
 * test_sqlite.c - the SQLite backend through the db interface and the writer thread.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db/audit_verify.h"
#include "db/db.h"
#include "db/sqlite/sq.h"
#include "db/writer.h"
#include "unit/test.h"

typedef struct fixture {
    char dir[64];
    char url[128];
    db_t *db;
    db_writer_t *wr;
    db_conn_t *c;
    arena_t a;
} fixture_t;

static void setup(fixture_t *f)
{
    err_t e;
    snprintf(f->dir, sizeof(f->dir), "/tmp/loci-dbtest.XXXXXX");
    CHECK(mkdtemp(f->dir) != NULL);
    snprintf(f->url, sizeof(f->url), "sqlite:%s/t.db", f->dir);
    CHECK_INT(db_open(f->url, &f->db, &e), 0);
    CHECK_INT(db_writer_start(f->db, 64, &f->wr, &e), 0);
    CHECK_INT(db_conn_open(f->db, &f->c, &e), 0);
    arena_init(&f->a);
}

static void teardown(fixture_t *f)
{
    char cmd[128];
    f->db->vt->conn_close(f->c);
    db_writer_stop(f->wr);
    db_close(f->db);
    arena_release(&f->a);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    CHECK_INT(system(cmd), 0);
}

static int run(fixture_t *f, db_write_t *w)
{
    w->arena = &f->a;
    if (w->now == 0)
        w->now = 1700000000000;
    return db_write_sync(f->wr, w);
}

static int put_tenant(fixture_t *f, const char *id)
{
    const char *jur[] = {"EU"};
    tenant_t t = {.id = id, .jurisdictions = jur, .njurisdictions = 1, .copies = 1, .url_expires = 900, .url_expires_max = 3600};
    db_write_t w = {.op = DB_OP_TENANT_PUT};
    w.in.tenant_put.t = &t;
    return run(f, &w);
}

/* Starts and completes an upload of key with id and tags; returns the completion's rc. */
/* A plain connection to the fixture's database, beside loci's own (another process would do
 * the same): its changes are ones the writer does not know of. */
static sqlite3 *raw_open(fixture_t *f)
{
    sqlite3 *h = NULL;
    char path[160];
    snprintf(path, sizeof(path), "%s/t.db", f->dir);
    CHECK_INT(sqlite3_open(path, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    return h;
}

/* Starts an upload of key (id, tags, attributes, one location in "local"); returns its rc. */
static int begin_upload(fixture_t *f, const char *tenant, const char *key, const char *id, const char *tags_json,
                        const char *attrs_json, cond_t cond)
{
    upload_t up;
    memset(&up, 0, sizeof(up));
    location_t loc = {"local", arena_printf(&f->a, "%s/%s", tenant, id), LOC_PENDING, NULL};
    up.obj = (object_t){.tenant = tenant, .key = key, .id = id, .size = 5, .content_type = "text/plain", .tags_json = tags_json,
                        .attrs_json = attrs_json};
    up.obj.locs = &loc;
    up.obj.nlocs = 1;
    up.cond = cond;
    up.expires_at = 1700000900000;
    db_write_t w = {.op = DB_OP_UPLOAD_BEGIN, .tenant = tenant};
    w.in.upload_begin.up = &up;
    return run(f, &w);
}

static int store_object(fixture_t *f, const char *tenant, const char *key, const char *id, const char *tags_json, cond_t cond)
{
    int rc = begin_upload(f, tenant, key, id, tags_json, NULL, cond);
    if (rc != 0)
        return rc;
    db_write_t c = {.op = DB_OP_UPLOAD_COMPLETE, .tenant = tenant};
    c.in.upload_complete.upload_id = id;
    return run(f, &c);
}

static const cond_t NOCOND = {COND_NONE, 0};

TEST(db_upload_lifecycle)
{
    fixture_t f;
    setup(&f);
    err_t e;
    CHECK_INT(put_tenant(&f, "acme"), 0);
    CHECK_INT(store_object(&f, "acme", "a/b.txt", "eu1.00000000000000000000000001", "{\"kind\":\"x\"}", NOCOND), 0);
    object_t o;
    CHECK_INT(f.db->vt->object_get(f.c, "acme", "a/b.txt", &o, &f.a, &e), 0);
    CHECK_INT(o.version, 1);
    CHECK_STR(o.id, "eu1.00000000000000000000000001");
    CHECK_INT(o.nlocs, 1);
    CHECK_INT(o.locs[0].state, LOC_PRESENT);
    /* another tenant sees nothing */
    CHECK_INT(f.db->vt->object_get(f.c, "other", "a/b.txt", &o, &f.a, &e), ERR_NOT_FOUND);
    /* overwrite: version 2, old copy queued for erasure */
    CHECK_INT(store_object(&f, "acme", "a/b.txt", "eu1.00000000000000000000000002", "{}", NOCOND), 0);
    CHECK_INT(f.db->vt->object_get(f.c, "acme", "a/b.txt", &o, &f.a, &e), 0);
    CHECK_INT(o.version, 2);
    db_erasure_t *er;
    size_t n;
    CHECK_INT(f.db->vt->erasure_list(f.c, 10, &er, &n, &f.a, &e), 0);
    CHECK_INT(n, 1);
    CHECK_STR(er[0].name, "acme/eu1.00000000000000000000000001");
    /* If-None-Match on an existing object */
    cond_t inm = {COND_IF_NONE_MATCH, 0};
    CHECK_INT(store_object(&f, "acme", "a/b.txt", "eu1.00000000000000000000000003", "{}", inm), ERR_PRECONDITION_FAILED);
    /* If-Match with a stale version */
    cond_t im = {COND_IF_MATCH, 1};
    CHECK_INT(store_object(&f, "acme", "a/b.txt", "eu1.00000000000000000000000004", "{}", im), ERR_PRECONDITION_FAILED);
    im.version = 2;
    CHECK_INT(store_object(&f, "acme", "a/b.txt", "eu1.00000000000000000000000005", "{}", im), 0);
    /* complete of an unknown upload */
    db_write_t c = {.op = DB_OP_UPLOAD_COMPLETE, .tenant = "acme"};
    c.in.upload_complete.upload_id = "eu1.0000000000000000000000000Z";
    CHECK_INT(run(&f, &c), ERR_NOT_FOUND);
    /* another tenant cannot complete acme's upload */
    upload_t up;
    CHECK_INT(f.db->vt->upload_get(f.c, "acme", "eu1.00000000000000000000000005", &up, &f.a, &e), ERR_NOT_FOUND);
    teardown(&f);
}

TEST(db_update_and_delete)
{
    fixture_t f;
    setup(&f);
    err_t e;
    CHECK_INT(put_tenant(&f, "acme"), 0);
    CHECK_INT(store_object(&f, "acme", "k", "eu1.00000000000000000000000001", "{\"a\":\"1\"}", NOCOND), 0);
    tag_t items[] = {{"b", "2"}};
    tagset_t tags = {items, 1};
    db_write_t w = {.op = DB_OP_OBJECT_UPDATE, .tenant = "acme"};
    w.in.object_update.key = "k";
    w.in.object_update.expected_version = 1;
    w.in.object_update.tags_json = "{\"b\":\"2\"}";
    w.in.object_update.tags = &tags;
    w.in.object_update.attrs_json = "{\"x\":1}";
    CHECK_INT(run(&f, &w), 0);
    CHECK_INT(w.obj.version, 2);
    CHECK_STR(w.obj.attrs_json, "{\"x\":1}");
    /* the same expected version again is stale now */
    CHECK_INT(run(&f, &w), ERR_PRECONDITION_FAILED);
    w.in.object_update.key = "nope";
    CHECK_INT(run(&f, &w), ERR_NOT_FOUND);
    /* the tag index follows the update */
    obj_query_t q = {.prefix = "", .limit = 10};
    tag_t qi[] = {{"b", "2"}};
    q.tags = (tagset_t){qi, 1};
    object_t *objs;
    size_t n;
    CHECK_INT(f.db->vt->object_list(f.c, "acme", &q, 10, &objs, &n, &f.a, &e), 0);
    CHECK_INT(n, 1);
    tag_t qa[] = {{"a", "1"}};
    q.tags = (tagset_t){qa, 1};
    CHECK_INT(f.db->vt->object_list(f.c, "acme", &q, 10, &objs, &n, &f.a, &e), 0);
    CHECK_INT(n, 0);
    /* delete with a wrong version, then right */
    db_write_t d = {.op = DB_OP_OBJECT_DELETE, .tenant = "acme"};
    d.in.object_delete.key = "k";
    d.in.object_delete.expected_version = 1;
    CHECK_INT(run(&f, &d), ERR_PRECONDITION_FAILED);
    d.in.object_delete.expected_version = -1;
    CHECK_INT(run(&f, &d), 0);
    CHECK_INT(run(&f, &d), ERR_NOT_FOUND);
    object_t o;
    CHECK_INT(f.db->vt->object_get(f.c, "acme", "k", &o, &f.a, &e), ERR_NOT_FOUND);
    q.tags = (tagset_t){qi, 1};
    CHECK_INT(f.db->vt->object_list(f.c, "acme", &q, 10, &objs, &n, &f.a, &e), 0);
    CHECK_INT(n, 0);
    teardown(&f);
}

TEST(db_list_order_and_filters)
{
    fixture_t f;
    setup(&f);
    err_t e;
    CHECK_INT(put_tenant(&f, "acme"), 0);
    const char *keys[] = {"b/2", "a/1", "b/1", "c", "b/3/x"};
    for (int i = 0; i < 5; i++) {
        char id[40];
        snprintf(id, sizeof(id), "eu1.0000000000000000000000001%d", i);
        const char *tags = i % 2 ? "{\"odd\":\"y\",\"t\":\"1\"}" : "{\"t\":\"1\"}";
        CHECK_INT(store_object(&f, "acme", keys[i], id, tags, NOCOND), 0);
    }
    CHECK_INT(store_object(&f, "other", "b/9", "eu1.00000000000000000000000099", "{\"t\":\"1\"}", NOCOND), 0);
    obj_query_t q = {.prefix = "b/", .limit = 10};
    object_t *objs;
    size_t n;
    CHECK_INT(f.db->vt->object_list(f.c, "acme", &q, 10, &objs, &n, &f.a, &e), 0);
    CHECK_INT(n, 3);
    CHECK_STR(objs[0].key, "b/1");
    CHECK_STR(objs[1].key, "b/2");
    CHECK_STR(objs[2].key, "b/3/x");
    q.start_after = "b/1";
    CHECK_INT(f.db->vt->object_list(f.c, "acme", &q, 1, &objs, &n, &f.a, &e), 0);
    CHECK_INT(n, 1);
    CHECK_STR(objs[0].key, "b/2");
    tag_t qi[] = {{"odd", "y"}, {"t", "1"}};
    q = (obj_query_t){.prefix = "", .limit = 10, .tags = {qi, 2}};
    CHECK_INT(f.db->vt->object_list(f.c, "acme", &q, 10, &objs, &n, &f.a, &e), 0);
    CHECK_INT(n, 2); /* a/1 and c */
    CHECK_STR(objs[0].key, "a/1");
    CHECK_STR(objs[1].key, "c");
    teardown(&f);
}

TEST(db_admin_rows)
{
    fixture_t f;
    setup(&f);
    err_t e;
    db_store_row_t row = {0};
    row.store = (store_t){.id = "s1", .provider = "s3", .endpoint = "http://x", .bucket = "b", .country = "DE", .weight = 100};
    uint8_t sealed[] = {1, 2, 3};
    row.sealed = sealed;
    row.sealed_len = 3;
    db_write_t w = {.op = DB_OP_STORE_PUT};
    w.in.store_put.row = &row;
    CHECK_INT(run(&f, &w), 0);
    CHECK(w.created);
    /* replace without credentials keeps them */
    row.sealed = NULL;
    row.sealed_len = 0;
    row.store.weight = 5;
    w.in.store_put.keep_creds = true;
    CHECK_INT(run(&f, &w), 0);
    CHECK(!w.created);
    db_store_row_t *rows;
    size_t n;
    CHECK_INT(f.db->vt->store_list(f.c, &rows, &n, &f.a, &e), 0);
    CHECK_INT(n, 1);
    CHECK_INT(rows[0].store.weight, 5);
    CHECK_INT(rows[0].sealed_len, 3);
    /* keys need a tenant; revocation */
    db_key_t k = {.key_id = "aaaaaaaaaaaaaaaa", .tenant = "acme", .scopes = 3};
    db_write_t kc = {.op = DB_OP_KEY_CREATE, .tenant = "acme"};
    kc.in.key_create.key = &k;
    CHECK_INT(run(&f, &kc), ERR_NOT_FOUND);
    CHECK_INT(put_tenant(&f, "acme"), 0);
    CHECK_INT(run(&f, &kc), 0);
    db_key_t got;
    CHECK_INT(f.db->vt->key_get(f.c, "aaaaaaaaaaaaaaaa", &got, &f.a, &e), 0);
    CHECK_STR(got.tenant, "acme");
    CHECK_INT(got.revoked_at, 0);
    db_write_t kr = {.op = DB_OP_KEY_REVOKE, .tenant = "other"};
    kr.in.key_revoke.key_id = "aaaaaaaaaaaaaaaa";
    CHECK_INT(run(&f, &kr), ERR_NOT_FOUND); /* another tenant's key */
    kr.tenant = "acme";
    CHECK_INT(run(&f, &kr), 0);
    CHECK_INT(f.db->vt->key_get(f.c, "aaaaaaaaaaaaaaaa", &got, &f.a, &e), 0);
    CHECK(got.revoked_at != 0);
    /* a store in use cannot be deleted */
    CHECK_INT(store_object(&f, "acme", "k", "eu1.00000000000000000000000001", "{}", NOCOND), 0);
    db_write_t sd = {.op = DB_OP_STORE_DELETE};
    sd.in.store_delete.id = "local";
    CHECK_INT(run(&f, &sd), ERR_CONFLICT);
    sd.in.store_delete.id = "s1";
    CHECK_INT(run(&f, &sd), 0);
    CHECK_INT(run(&f, &sd), ERR_NOT_FOUND);
    teardown(&f);
}

/* Submits a batch concurrently: a failing op must not undo the others. */
static void batch_done(db_write_t *w)
{
    (void)w;
}

TEST(db_batch_isolation)
{
    fixture_t f;
    setup(&f);
    err_t e;
    CHECK_INT(put_tenant(&f, "acme"), 0);
    db_write_t ops[3];
    memset(ops, 0, sizeof(ops));
    const char *jur[] = {"DE"};
    tenant_t t1 = {.id = "t1", .jurisdictions = jur, .njurisdictions = 1, .copies = 1, .url_expires = 1, .url_expires_max = 1};
    tenant_t t2 = t1;
    t2.id = "t2";
    ops[0].op = DB_OP_TENANT_PUT;
    ops[0].in.tenant_put.t = &t1;
    ops[1].op = DB_OP_OBJECT_DELETE; /* fails: no such object */
    ops[1].tenant = "acme";
    ops[1].in.object_delete.key = "missing";
    ops[1].in.object_delete.expected_version = -1;
    ops[2].op = DB_OP_TENANT_PUT;
    ops[2].in.tenant_put.t = &t2;
    db_write_t *batch[3] = {&ops[0], &ops[1], &ops[2]};
    for (int i = 0; i < 3; i++) {
        ops[i].arena = &f.a;
        ops[i].now = 1;
        ops[i].done = batch_done;
    }
    /* apply as one batch directly, the way the writer does */
    CHECK_INT(f.db->vt->write_batch(f.db, batch, 3), 0);
    CHECK_INT(ops[0].rc, 0);
    CHECK_INT(ops[1].rc, ERR_NOT_FOUND);
    CHECK_INT(ops[2].rc, 0);
    tenant_t got;
    CHECK_INT(f.db->vt->tenant_get(f.c, "t1", &got, &f.a, &e), 0);
    CHECK_INT(f.db->vt->tenant_get(f.c, "t2", &got, &f.a, &e), 0);
    CHECK_STR(got.jurisdictions[0], "DE");
    teardown(&f);
}

TEST(db_expire_and_reopen)
{
    fixture_t f;
    setup(&f);
    err_t e;
    CHECK_INT(put_tenant(&f, "acme"), 0);
    upload_t up;
    memset(&up, 0, sizeof(up));
    location_t loc = {"local", "acme/eu1.00000000000000000000000001", LOC_PENDING, NULL};
    up.obj =
        (object_t){.tenant = "acme", .key = "k", .id = "eu1.00000000000000000000000001", .content_type = "x", .tags_json = "{}"};
    up.obj.locs = &loc;
    up.obj.nlocs = 1;
    up.expires_at = 1000;
    db_write_t w = {.op = DB_OP_UPLOAD_BEGIN, .tenant = "acme"};
    w.in.upload_begin.up = &up;
    CHECK_INT(run(&f, &w), 0);
    db_write_t x = {.op = DB_OP_UPLOADS_EXPIRE, .now = 2000};
    CHECK_INT(run(&f, &x), 0);
    CHECK_INT(x.affected, 1);
    upload_t got;
    CHECK_INT(f.db->vt->upload_get(f.c, "acme", "eu1.00000000000000000000000001", &got, &f.a, &e), ERR_NOT_FOUND);
    db_erasure_t *er;
    size_t n;
    CHECK_INT(f.db->vt->erasure_list(f.c, 10, &er, &n, &f.a, &e), 0);
    CHECK_INT(n, 1);
    /* reopening runs no migration twice and keeps the data */
    f.db->vt->conn_close(f.c);
    db_writer_stop(f.wr);
    db_close(f.db);
    CHECK_INT(db_open(f.url, &f.db, &e), 0);
    CHECK_INT(db_writer_start(f.db, 8, &f.wr, &e), 0);
    CHECK_INT(db_conn_open(f.db, &f.c, &e), 0);
    tenant_t t;
    CHECK_INT(f.db->vt->tenant_get(f.c, "acme", &t, &f.a, &e), 0);
    CHECK_INT(db_open("postgres://nope", &f.db, &e) != 0, 1); /* not a backend yet: a clear refusal */
    teardown(&f);
}

/* Every applied op appends exactly one entry in its transaction; a refused op appends none. */
TEST(db_audit_same_transaction)
{
    fixture_t f;
    setup(&f);
    err_t e;
    CHECK_INT(put_tenant(&f, "acme"), 0); /* admin chain: tenant_created */
    CHECK_INT(store_object(&f, "acme", "k", "eu1.00000000000000000000000001", "{}", NOCOND), 0);
    cond_t inm = {COND_IF_NONE_MATCH, 0};
    CHECK_INT(store_object(&f, "acme", "k", "eu1.00000000000000000000000002", "{}", inm), ERR_PRECONDITION_FAILED);
    db_write_t d = {.op = DB_OP_OBJECT_DELETE, .tenant = "acme"};
    d.in.object_delete.key = "missing";
    d.in.object_delete.expected_version = -1;
    CHECK_INT(run(&f, &d), ERR_NOT_FOUND);
    CHECK_INT(d.audit_entries, 0);
    audit_entry_t *es;
    size_t n;
    CHECK_INT(f.db->vt->audit_list(f.c, "acme", NULL, 0, 100, &es, &n, &f.a, &e), 0);
    CHECK_INT(n, 2); /* upload_started, upload_committed: nothing from the refused ones */
    CHECK_STR(es[0].action, "upload_started");
    CHECK_STR(es[1].action, "upload_committed");
    CHECK_INT(es[1].seq, 2);
    CHECK(memcmp(es[1].prev_hash, es[0].hash, 32) == 0);
    CHECK_INT(f.db->vt->audit_list(f.c, "", NULL, 0, 100, &es, &n, &f.a, &e), 0);
    CHECK_INT(n, 1);
    CHECK_STR(es[0].action, "tenant_created");
    audit_head_t *heads;
    CHECK_INT(f.db->vt->audit_heads(f.c, &heads, &n, &f.a, &e), 0);
    CHECK_INT(n, 2);
    CHECK_STR(heads[1].tenant, "acme");
    CHECK_INT(heads[1].seq, 2);
    /* the chain verifies; editing a row is found */
    uint8_t pub[32] = {0};
    audit_report_t r;
    CHECK_INT(db_audit_verify(f.c, pub, &r, &e), 0);
    CHECK(r.ok);
    CHECK_INT(r.entries, 3);
    sqlite3 *h = raw_open(&f);
    CHECK_INT(sqlite3_exec(h, "UPDATE audit_entries SET actor='x' WHERE tenant='acme' AND seq=2", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    CHECK_INT(db_audit_verify(f.c, pub, &r, &e), 0);
    CHECK(!r.ok);
    CHECK_STR(r.problem.tenant, "acme");
    CHECK_INT(r.problem.seq, 2);
    /* deleting the tenant: rows and key gone, chain kept, one admin entry */
    db_write_t td = {.op = DB_OP_TENANT_DELETE};
    td.in.tenant_delete.id = "acme";
    CHECK_INT(run(&f, &td), 0);
    CHECK_INT(td.affected, 1);
    tenant_t t;
    CHECK_INT(f.db->vt->tenant_get(f.c, "acme", &t, &f.a, &e), ERR_NOT_FOUND);
    CHECK_INT(f.db->vt->audit_list(f.c, "", NULL, 0, 100, &es, &n, &f.a, &e), 0);
    CHECK_INT(n, 2);
    CHECK_STR(es[1].action, "tenant_deleted");
    CHECK_INT(run(&f, &td), ERR_NOT_FOUND);
    teardown(&f);
}

/* A sharing connection (a loop thread's) keeps one snapshot across reads until a write of
 * this process commits (then the next read sees it) or conn_idle; a write from elsewhere (a
 * raw connection here, another process in life) is seen after conn_idle. */
TEST(db_shared_snapshot)
{
    fixture_t f;
    setup(&f);
    err_t e;
    object_t o;
    CHECK_INT(put_tenant(&f, "acme"), 0);
    db_conn_share(f.c);
    CHECK_INT(f.db->vt->object_get(f.c, "acme", "s/1", &o, &f.a, &e), ERR_NOT_FOUND); /* snapshot taken */
    /* this process's write: counted, so the very next read is on a new snapshot */
    CHECK_INT(store_object(&f, "acme", "s/1", "eu1.00000000000000000000000011", "{}", NOCOND), 0);
    CHECK_INT(f.db->vt->object_get(f.c, "acme", "s/1", &o, &f.a, &e), 0);
    CHECK_INT(o.version, 1);
    /* a change the writer does not know of: the shared snapshot does not see it... */
    sqlite3 *raw = raw_open(&f);
    CHECK_INT(sqlite3_exec(raw, "UPDATE objects SET version = 7 WHERE tenant = 'acme' AND key = 's/1'", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(f.db->vt->object_get(f.c, "acme", "s/1", &o, &f.a, &e), 0);
    CHECK_INT(o.version, 1);
    /* ...until the loop goes idle */
    db_conn_idle(f.c);
    CHECK_INT(f.db->vt->object_get(f.c, "acme", "s/1", &o, &f.a, &e), 0);
    CHECK_INT(o.version, 7);
    /* without sharing, every read is its own snapshot */
    db_conn_t *plain;
    CHECK_INT(db_conn_open(f.db, &plain, &e), 0);
    CHECK_INT(f.db->vt->object_get(plain, "acme", "s/1", &o, &f.a, &e), 0);
    CHECK_INT(sqlite3_exec(raw, "UPDATE objects SET version = 8 WHERE tenant = 'acme' AND key = 's/1'", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(f.db->vt->object_get(plain, "acme", "s/1", &o, &f.a, &e), 0);
    CHECK_INT(o.version, 8);
    f.db->vt->conn_close(plain);
    CHECK_INT(sqlite3_close(raw), SQLITE_OK);
    /* a sharing connection's open snapshot does not keep the writer from committing */
    CHECK_INT(f.db->vt->object_get(f.c, "acme", "s/1", &o, &f.a, &e), 0);
    CHECK_INT(store_object(&f, "acme", "s/2", "eu1.00000000000000000000000012", "{}", NOCOND), 0);
    CHECK_INT(f.db->vt->object_get(f.c, "acme", "s/2", &o, &f.a, &e), 0);
    db_conn_idle(f.c);
    teardown(&f);
}

/* A tag filter's probe (which filter drives a search) from the start of the tenant's keys is
 * kept a while per connection; a later page probes afresh; the answers are the same. */
TEST(db_tag_probe_cache)
{
    fixture_t f;
    setup(&f);
    err_t e;
    CHECK_INT(put_tenant(&f, "acme"), 0);
    for (int i = 0; i < 40; i++) {
        char key[16], id[40];
        snprintf(key, sizeof(key), "p/%02d", i);
        snprintf(id, sizeof(id), "eu1.000000000000000000000001%02d", i);
        CHECK_INT(store_object(&f, "acme", key, id, i % 2 ? "{\"a\":\"1\",\"b\":\"y\"}" : "{\"a\":\"1\",\"b\":\"x\"}", NOCOND), 0);
    }
    sq_conn_t *sc = (sq_conn_t *)f.c;
    obj_query_t q = {.prefix = "", .limit = 100};
    tag_t qt[] = {{"a", "1"}, {"b", "x"}};
    q.tags = (tagset_t){qt, 2};
    object_t *objs;
    size_t n;
    for (int round = 0; round < 2; round++) {
        uint64_t before = sc->probes_run;
        CHECK_INT(f.db->vt->object_list(f.c, "acme", &q, 100, &objs, &n, &f.a, &e), 0);
        CHECK_INT(n, 20);
        for (size_t i = 0; i < n; i++) {
            char key[16];
            snprintf(key, sizeof(key), "p/%02zu", 2 * i);
            CHECK_STR(objs[i].key, key);
        }
        CHECK_INT(sc->probes_run - before, round == 0 ? 2 : 0); /* probed once, then kept */
    }
    /* a later page: probed from its own start point, not cached */
    q.start_after = "p/20";
    uint64_t before = sc->probes_run;
    CHECK_INT(f.db->vt->object_list(f.c, "acme", &q, 100, &objs, &n, &f.a, &e), 0);
    CHECK_INT(n, 9);
    CHECK_STR(objs[0].key, "p/22");
    CHECK_INT(sc->probes_run - before, 2);
    /* the cache keeps a benchmark's worth of tags at once (shard=0..99 with a=1): probed once
     * each, then all kept (one slot per tag lost about a seventh of them to collisions) */
    q.start_after = NULL;
    for (int round = 0; round < 2; round++) {
        before = sc->probes_run;
        for (int i = 0; i < 100; i++) {
            char v[8];
            snprintf(v, sizeof(v), "%d", i);
            tag_t st[] = {{"a", "1"}, {"shard", v}};
            q.tags = (tagset_t){st, 2};
            CHECK_INT(f.db->vt->object_list(f.c, "acme", &q, 100, &objs, &n, &f.a, &e), 0);
            CHECK_INT(n, 0);
        }
        CHECK_INT(sc->probes_run - before, round == 0 ? 100 : 0);
    }
    teardown(&f);
}

/* Runs sql on a plain connection, then moves everything into the database file itself. */
static void exec_checkpointed(sqlite3 *raw, const char *sql)
{
    CHECK_INT(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), SQLITE_OK);
}

/* Rows g/first, g/first+step, ... below g/4000 of db_reader_map read through the reader, each
 * with its own number as version. */
static void check_grown(fixture_t *f, int first, int step)
{
    err_t e;
    object_t o;
    for (int i = first; i < 4000; i += step) {
        char key[16];
        snprintf(key, sizeof(key), "g/%d", i);
        CHECK_INT(f->db->vt->object_get(f->c, "acme", key, &o, &f->a, &e), 0);
        CHECK_INT(o.version, i);
    }
}

/* A read connection's memory map (sq_vfs.c): kept over another connection's commit, redone
 * once the file has grown past it, and reading the current bytes all along. */
TEST(db_reader_map)
{
    fixture_t f;
    setup(&f);
    err_t e;
    object_t o;
    uint64_t kept0, redone0, kept1, redone1;
    CHECK_INT(put_tenant(&f, "acme"), 0);
    CHECK_INT(store_object(&f, "acme", "m/0", "eu1.00000000000000000000000021", "{}", NOCOND), 0);
    sqlite3 *raw = raw_open(&f);
    /* the object in the database file itself, so the reader takes it from its map */
    CHECK_INT(sqlite3_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(f.db->vt->object_get(f.c, "acme", "m/0", &o, &f.a, &e), 0);
    CHECK_INT(o.version, 1);

    /* a change elsewhere: the next read transaction keeps the map and sees the change */
    sq_map_stats(&kept0, &redone0);
    exec_checkpointed(raw, "UPDATE objects SET version = 2 WHERE key = 'm/0'");
    CHECK_INT(f.db->vt->object_get(f.c, "acme", "m/0", &o, &f.a, &e), 0);
    CHECK_INT(o.version, 2);
    sq_map_stats(&kept1, &redone1);
    CHECK(kept1 > kept0);
    CHECK(redone1 == redone0);

    /* the file grows by 8 MB, past the map: pages beyond it are read, and the next change
     * redoes the map over the whole file */
    exec_checkpointed(raw, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000) "
                           "INSERT INTO objects(tenant, key, id, version, size, content_type, tags, attrs, created_at, updated_at) "
                           "SELECT 'acme', 'g/' || i, 'eu1.g' || i, i, 1, 'x', '{}', hex(randomblob(1000)), 0, 0 FROM n");
    check_grown(&f, 1, 333);
    exec_checkpointed(raw, "UPDATE objects SET version = 5000 WHERE key = 'g/4000'");
    CHECK_INT(f.db->vt->object_get(f.c, "acme", "g/4000", &o, &f.a, &e), 0);
    CHECK_INT(o.version, 5000);
    sq_map_stats(&kept0, &redone0);
    CHECK(redone0 > redone1);
    check_grown(&f, 2, 397);
    CHECK_INT(sqlite3_close(raw), SQLITE_OK);
    teardown(&f);
}

/* A reader as a loop thread under load: a shared snapshot held across a short turn, then
 * idle for a moment, over and over, until told to stop. Counts the reads that failed. */
typedef struct busy_reader {
    db_t *db;
    atomic_int stop;
    int reads, failed;
} busy_reader_t;

static void *busy_reader_run(void *arg)
{
    busy_reader_t *r = arg;
    db_conn_t *c;
    err_t e;
    arena_t a;
    arena_init(&a);
    if (db_conn_open(r->db, &c, &e) != 0) {
        r->failed++;
        return NULL;
    }
    db_conn_share(c);
    while (!atomic_load(&r->stop)) {
        object_t o;
        if (r->db->vt->object_get(c, "acme", "w/0", &o, &a, &e) != 0 || o.version != 1)
            r->failed++;
        r->reads++;
        usleep(300); /* the rest of the turn, in the snapshot */
        db_conn_idle(c);
        usleep(50);
        arena_release(&a);
        arena_init(&a);
    }
    r->db->vt->conn_close(c);
    arena_release(&a);
    return NULL;
}

/* Under a steady stream of commits with a reader always in some snapshot, SQLite never starts
 * the WAL over by itself: the checkpointer copies back only the pages not yet copied (not the
 * whole WAL after every commit) and, once the WAL is long and wholly copied, restarts it. The
 * WAL file stays near that length (a far longer one is cut back), and every write is there
 * afterwards. */
TEST(db_wal_restart)
{
    fixture_t f;
    setup(&f);
    err_t e;
    CHECK_INT(put_tenant(&f, "acme"), 0);
    CHECK_INT(store_object(&f, "acme", "w/0", "eu1.00000000000000000000000030", "{}", NOCOND), 0);
    sq_db_t *sdb = (sq_db_t *)f.db;
    sq_ckpt_limits(sdb, 20, 200);
    busy_reader_t r = {.db = f.db};
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, busy_reader_run, &r), 0);
    enum { N = 600 };
    for (int i = 1; i <= N; i++) {
        char key[16], id[40];
        snprintf(key, sizeof(key), "w/%d", i);
        snprintf(id, sizeof(id), "eu1.00000000000000000000%06d", 100000 + i);
        CHECK_INT(store_object(&f, "acme", key, id, "{\"a\":\"1\"}", NOCOND), 0);
    }
    atomic_store(&r.stop, 1);
    CHECK_INT(pthread_join(t, NULL), 0);
    CHECK(r.reads > 0);
    CHECK_INT(r.failed, 0);
    uint64_t runs, restarts;
    int pages, copied;
    sq_ckpt_stats(sdb, &runs, &restarts, &pages, &copied);
    /* 1,200 commits of several pages each: thousands of WAL pages without restarts, and a
     * checkpoint per commit when they were counted in full */
    CHECK(restarts >= 2);
    CHECK(runs < 600);
    char wal[160];
    snprintf(wal, sizeof(wal), "%s/t.db-wal", f.dir);
    struct stat st;
    CHECK_INT(stat(wal, &st), 0);
    CHECK(st.st_size < 800 * (4096 + 24)); /* 200 pages to restart at, and those of the commits meanwhile */
    /* one transaction far longer than the restart length (4 MB of attributes): once copied
     * back, the WAL file is cut back to nothing instead of keeping that length */
    size_t big = 4 << 20;
    char *attrs = malloc(big + 16);
    CHECK(attrs != NULL);
    memcpy(attrs, "{\"x\":\"", 6);
    memset(attrs + 6, 'a', big);
    memcpy(attrs + 6 + big, "\"}", 3);
    uint64_t restarts_before = restarts;
    CHECK_INT(begin_upload(&f, "acme", "w/big", "eu1.00000000000000000000999999", "{}", attrs, NOCOND), 0);
    free(attrs);
    /* (the file is cut inside the checkpoint, the restart counted after it returns) */
    for (int i = 0; i < 500; i++) {
        CHECK_INT(stat(wal, &st), 0);
        sq_ckpt_stats(sdb, &runs, &restarts, &pages, &copied);
        if (st.st_size == 0 && restarts > restarts_before)
            break;
        usleep(10000);
    }
    CHECK_INT(st.st_size, 0);
    CHECK(restarts > restarts_before);
    object_t o;
    for (int i = 1; i <= N; i++) {
        char key[16];
        snprintf(key, sizeof(key), "w/%d", i);
        CHECK_INT(f.db->vt->object_get(f.c, "acme", key, &o, &f.a, &e), 0);
        CHECK_INT(o.version, 1);
    }
    teardown(&f);
}
