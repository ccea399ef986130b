/*
 * parts.c - parallel part uploads for `loci put` (see parts.h).
 */
#include "cli/parts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/transfer.h"
#include "util/buf.h"

typedef struct job {
    const cli_parts_req_t *rq;
    const char *store;
    int64_t part_size;
    int count;
    pthread_mutex_t mu; /* guards everything below */
    int next;           /* the next part to claim, 1-based */
    json_t **urls;      /* [count + 1]: a part's {"url", "headers"} once known */
    char **etags;       /* [count + 1] */
    int rc;             /* the first failure: stops every worker */
    err_t err;
} job_t;

static void fail(job_t *j, int rc, const err_t *e)
{
    pthread_mutex_lock(&j->mu);
    if (j->rc == 0) {
        j->rc = rc;
        j->err = *e;
    }
    pthread_mutex_unlock(&j->mu);
}

/* Keeps the part URLs in a "parts" array of a target or of a POST .../parts answer. */
static int remember_urls(job_t *j, json_t *parts, err_t *e)
{
    size_t i;
    json_t *p;
    if (!json_is_array(parts))
        return err_set(e, ERR_INTERNAL, "malformed answer from server: no parts");
    pthread_mutex_lock(&j->mu);
    json_array_foreach(parts, i, p)
    {
        int64_t n = cli_jint(p, "part_number", 0);
        if (n < 1 || n > j->count || cli_jstr(p, "url") == NULL)
            continue;
        json_decref(j->urls[n]);
        j->urls[n] = json_incref(p);
    }
    pthread_mutex_unlock(&j->mu);
    return 0;
}

/* Asks loci for fresh URLs of parts first.. (a batch), through client c. */
static int fetch_urls(job_t *j, cli_client_t *c, int first, err_t *e)
{
    buf_t path = BUF_INIT;
    cli_response_t r;
    json_t *body = json_object(), *nums = json_array();
    int rc;
    cli_response_init(&r);
    for (int n = first; n < first + CLI_PART_BATCH && n <= j->count; n++)
        json_array_append_new(nums, json_integer(n));
    json_object_set_new(body, "store", json_string(j->store));
    json_object_set_new(body, "part_numbers", nums);
    buf_puts(&path, "/v1/uploads");
    cli_path_segment(&path, j->rq->upload_id);
    buf_puts(&path, "/parts");
    if (j->rq->expires)
        cli_query_add(&path, "expires", j->rq->expires);
    cli_request_t req = {.method = "POST", .path = path.base, .body = body};
    rc = cli_call(c, &req, &r, e);
    if (rc == 0)
        rc = remember_urls(j, json_object_get(r.json, "parts"), e);
    cli_response_release(&r);
    json_decref(body);
    buf_release(&path);
    return rc;
}

/* Uploads part n, trying again with a fresh URL when the store refuses or cannot be reached. */
static int put_part(job_t *j, cli_client_t *c, int n, err_t *e)
{
    int rc = 0;
    for (int attempt = 0; attempt < CLI_PART_TRIES; attempt++) {
        pthread_mutex_lock(&j->mu);
        json_t *u = attempt == 0 ? json_incref(j->urls[n]) : NULL;
        pthread_mutex_unlock(&j->mu);
        if (u == NULL) {
            if ((rc = fetch_urls(j, c, n, e)) != 0)
                return rc;
            pthread_mutex_lock(&j->mu);
            u = json_incref(j->urls[n]);
            pthread_mutex_unlock(&j->mu);
            if (u == NULL)
                return err_set(e, ERR_INTERNAL, "the server gave no URL for part %d", n);
        }
        char what[128];
        snprintf(what, sizeof(what), "part %d at store '%s'", n, j->store);
        int64_t off = (int64_t)(n - 1) * j->part_size;
        cli_upload_t up = {
            .fd = j->rq->fd,
            .offset = off,
            .size = j->rq->size - off < j->part_size ? j->rq->size - off : j->part_size,
            .url = cli_jstr(u, "url"),
            .headers = json_object_get(u, "headers"),
            .what = what,
            .prog = j->rq->prog,
        };
        rc = cli_upload(c, &up, e);
        json_decref(u);
        if (rc == 0) {
            pthread_mutex_lock(&j->mu);
            j->etags[n] = up.etag[0] ? strdup(up.etag) : NULL;
            pthread_mutex_unlock(&j->mu);
            return 0;
        }
        if (rc != ERR_CONFLICT && rc != ERR_UNAVAILABLE)
            return rc; /* the file, not the network */
        if (strcmp(e->msg, "interrupted") == 0)
            return rc;
    }
    return rc;
}

static void *worker(void *arg)
{
    job_t *j = arg;
    cli_client_t c;
    err_t e;
    err_clear(&e);
    int rc = cli_client_init(&c, j->rq->url, j->rq->token, &e);
    if (rc != 0) {
        fail(j, rc, &e);
        goto out;
    }
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int n = j->rc == 0 && j->next <= j->count ? j->next++ : 0;
        pthread_mutex_unlock(&j->mu);
        if (n == 0)
            break;
        if ((rc = put_part(j, &c, n, &e)) != 0) {
            fail(j, rc, &e);
            break;
        }
    }
out:
    cli_client_release(&c);
    return NULL;
}

int cli_put_parts(const cli_parts_req_t *rq, json_t *out, err_t *e)
{
    json_t *mp = json_object_get(rq->target, "multipart");
    job_t j = {.rq = rq, .store = cli_jstr(rq->target, "store"), .next = 1};
    pthread_t threads[64];
    int nthreads = 0, rc = 0;

    j.part_size = cli_jint(mp, "part_size", 0);
    j.count = (int)cli_jint(mp, "part_count", 0);
    if (j.store == NULL || j.part_size <= 0 || j.count < 1 || j.count > 10000 ||
        (int64_t)(j.count - 1) * j.part_size >= rq->size + (rq->size == 0) || (int64_t)j.count * j.part_size < rq->size)
        return err_set(e, ERR_INTERNAL, "malformed multipart target from server");
    pthread_mutex_init(&j.mu, NULL);
    j.urls = calloc((size_t)j.count + 1, sizeof(*j.urls));
    j.etags = calloc((size_t)j.count + 1, sizeof(*j.etags));
    if (j.urls == NULL || j.etags == NULL) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = remember_urls(&j, json_object_get(mp, "parts"), e)) != 0)
        goto out;
    int want = rq->parallel < j.count ? rq->parallel : j.count;
    for (int i = 0; i < want && i < 64; i++) {
        if (pthread_create(&threads[nthreads], NULL, worker, &j) != 0)
            break;
        nthreads++;
    }
    if (nthreads == 0) {
        rc = err_set(e, ERR_INTERNAL, "cannot start upload threads");
        goto out;
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    if (j.rc != 0) {
        rc = j.rc;
        *e = j.err;
        goto out;
    }
    for (int n = 1; n <= j.count; n++) {
        json_t *p = json_object();
        json_object_set_new(p, "store", json_string(j.store));
        json_object_set_new(p, "part_number", json_integer(n));
        if (j.etags[n])
            json_object_set_new(p, "etag", json_string(j.etags[n]));
        json_array_append_new(out, p);
    }
out:
    for (int n = 0; j.urls && n <= j.count; n++)
        json_decref(j.urls[n]);
    for (int n = 0; j.etags && n <= j.count; n++)
        free(j.etags[n]);
    free(j.urls);
    free(j.etags);
    pthread_mutex_destroy(&j.mu);
    return rc;
}
