/*
 * audit.c - the audit entry of each change.
 */
#include "db/audit.h"

#include <string.h>

#include "core/token.h"
#include "util/jsonw.h"

static const char *finish(jw_t *w, buf_t *b, arena_t *a)
{
    jw_obj_close(w);
    jw_finish(w);
    const char *s = arena_strndup(a, b->base ? b->base : "{}", b->len);
    buf_release(b);
    return s;
}

static void stores_of(jw_t *j, const object_t *o)
{
    jw_key(j, "stores");
    jw_arr_open(j);
    for (size_t i = 0; i < o->nlocs; i++)
        jw_str(j, o->locs[i].store);
    jw_arr_close(j);
}

bool db_audit_describe(const db_write_t *w, db_audit_input_t *out, arena_t *a)
{
    buf_t b = BUF_INIT;
    jw_t j;
    jw_init(&j, &b);
    jw_obj_open(&j);
    memset(out, 0, sizeof(*out));
    out->tenant = w->tenant ? w->tenant : AUDIT_ADMIN_CHAIN;
    out->actor = w->audit.actor ? w->audit.actor : "system";
    out->subject = w->audit.subject ? w->audit.subject : "";

    switch (w->op) {
    case DB_OP_UPLOAD_BEGIN:
        out->action = "upload_started";
        jw_kv_str(&j, "upload_id", w->obj.id);
        jw_kv_int(&j, "version", w->obj.version);
        jw_kv_int(&j, "size", w->obj.size);
        stores_of(&j, &w->obj);
        break;
    case DB_OP_UPLOAD_COMPLETE:
        out->action = "upload_committed";
        jw_kv_str(&j, "object_id", w->obj.id);
        jw_kv_int(&j, "version", w->obj.version);
        jw_kv_int(&j, "size", w->obj.size);
        jw_kv_str(&j, "sha256", w->obj.sha256);
        jw_kv_str(&j, "replaced", w->replaced_id);
        stores_of(&j, &w->obj);
        break;
    case DB_OP_UPLOAD_ABORT:
        out->action = "upload_aborted";
        jw_kv_str(&j, "upload_id", w->in.upload_abort.upload_id);
        break;
    case DB_OP_OBJECT_UPDATE:
        out->action = "object_patched";
        jw_kv_str(&j, "object_id", w->obj.id);
        jw_kv_int(&j, "version", w->obj.version);
        jw_kv_int(&j, "tags", w->in.object_update.tags ? (int64_t)w->in.object_update.tags->n : 0);
        jw_kv_bool(&j, "attrs", w->in.object_update.attrs_json != NULL);
        break;
    case DB_OP_OBJECT_DELETE:
        out->action = "object_deleted";
        jw_kv_str(&j, "object_id", w->replaced_id);
        break;
    case DB_OP_STORE_PUT: {
        const store_t *st = &w->in.store_put.row->store;
        out->tenant = AUDIT_ADMIN_CHAIN;
        out->action = w->created ? "store_created" : "store_updated";
        out->subject = st->id;
        jw_kv_str(&j, "provider", st->provider);
        jw_kv_str(&j, "country", st->country);
        jw_kv_str(&j, "region", st->region);
        jw_kv_str(&j, "status", store_status_name(st->status));
        jw_kv_int(&j, "weight", st->weight);
        jw_kv_str(&j, "credentials", w->in.store_put.row->sealed ? "set" : w->in.store_put.keep_creds ? "kept" : "none");
        break;
    }
    case DB_OP_STORE_DELETE:
        out->tenant = AUDIT_ADMIN_CHAIN;
        out->action = "store_deleted";
        out->subject = w->in.store_delete.id;
        break;
    case DB_OP_TENANT_PUT: {
        const tenant_t *t = w->in.tenant_put.t;
        out->tenant = AUDIT_ADMIN_CHAIN;
        out->action = w->created ? "tenant_created" : "tenant_updated";
        out->subject = t->id;
        jw_key(&j, "jurisdictions");
        jw_arr_open(&j);
        for (size_t i = 0; i < t->njurisdictions; i++)
            jw_str(&j, t->jurisdictions[i]);
        jw_arr_close(&j);
        jw_kv_int(&j, "copies", t->copies);
        jw_kv_bool(&j, "audit_reads", t->audit_reads);
        break;
    }
    case DB_OP_TENANT_DELETE:
        out->tenant = AUDIT_ADMIN_CHAIN;
        out->action = "tenant_deleted";
        out->subject = w->in.tenant_delete.id;
        jw_kv_int(&j, "objects", w->affected);
        break;
    case DB_OP_KEY_CREATE: {
        const db_key_t *k = w->in.key_create.key;
        out->tenant = k->tenant;
        out->action = "token_issued";
        out->subject = k->key_id;
        jw_key(&j, "scopes");
        jw_arr_open(&j);
        if (k->scopes & SCOPE_READ)
            jw_str(&j, "read");
        if (k->scopes & SCOPE_WRITE)
            jw_str(&j, "write");
        jw_arr_close(&j);
        break;
    }
    case DB_OP_KEY_REVOKE:
        out->action = "token_revoked";
        out->subject = w->in.key_revoke.key_id;
        break;
    case DB_OP_ERASURE_DONE:
        if (!w->in.erasure_done.ok || w->erased.name == NULL) {
            buf_release(&b);
            return false;
        }
        out->tenant = w->erased.tenant;
        out->action = "copy_erased";
        out->subject = w->erased.name;
        jw_kv_str(&j, "store", w->erased.store);
        break;
    default:
        buf_release(&b);
        return false;
    }
    out->detail = finish(&j, &b, a);
    return true;
}

void db_audit_import_entry(const db_write_t *w, const db_import_object_t *o, db_audit_input_t *out, buf_t *detail)
{
    jw_t j;
    buf_reset(detail);
    jw_init(&j, detail);
    jw_obj_open(&j);
    jw_kv_str(&j, "object_id", o->id);
    jw_kv_int(&j, "version", 1);
    jw_kv_int(&j, "size", o->size);
    jw_kv_str(&j, "sha256", o->sha256);
    jw_key(&j, "stores");
    jw_arr_open(&j);
    jw_str(&j, o->store);
    jw_arr_close(&j);
    jw_obj_close(&j);
    jw_finish(&j);
    out->tenant = w->tenant;
    out->actor = w->audit.actor ? w->audit.actor : "system";
    out->action = "object_imported";
    out->subject = o->subject ? o->subject : "";
    out->detail = detail->base;
}
