/*
 * remote.c - signed requests with libcurl.
 */
#include "blob/remote.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define RESPONSE_MAX (1 << 20)

/* One libcurl handle per thread (the I/O pool's and maintenance's), reset between calls: its
 * connection cache keeps the TCP (and TLS) connection to a store open from one call to the next,
 * instead of a new handshake for every verification HEAD. Freed when the thread exits. */
static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

static void handle_free(void *h)
{
    curl_easy_cleanup(h);
}

static void handle_key_make(void)
{
    pthread_key_create(&handle_key, handle_free);
}

static CURL *thread_handle(void)
{
    pthread_once(&handle_once, handle_key_make);
    CURL *h = pthread_getspecific(handle_key);
    if (h != NULL) {
        curl_easy_reset(h);
        return h;
    }
    if ((h = curl_easy_init()) != NULL && pthread_setspecific(handle_key, h) != 0) {
        curl_easy_cleanup(h);
        h = NULL;
    }
    return h;
}

void blob_remote_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    buf_t *b = ud;
    if (b && b->len + size * n <= RESPONSE_MAX)
        buf_append(b, p, size * n);
    return size * n;
}

int blob_remote_call(blob_call_t *c, err_t *e)
{
    CURL *h = thread_handle();
    struct curl_slist *hdrs = NULL;
    int rc = 0;
    if (h == NULL)
        return err_set(e, ERR_INTERNAL, "cannot start an HTTP request");
    for (size_t i = 0; i < c->nheaders; i++) {
        char line[2048];
        snprintf(line, sizeof(line), "%s: %s", c->headers[i].name, c->headers[i].value);
        hdrs = curl_slist_append(hdrs, line);
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c->response);
    if (strcmp(c->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
        if (c->body || strcmp(c->method, "POST") == 0 || strcmp(c->method, "PUT") == 0) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body ? (const char *)c->body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
        }
    }
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = err_set(e, ERR_UNAVAILABLE, "store unreachable: %s", curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    curl_off_t cl = -1;
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    c->content_length = (int64_t)cl;
out:
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL); /* hdrs is freed; the handle stays for the next call */
    curl_slist_free_all(hdrs);
    return rc;
}

int blob_remote_request(const char *method, const sign_result_t *su, int64_t *size, err_t *e)
{
    /* a PUT's content headers belong to the PUT, not to HEAD or DELETE */
    blob_call_t c = {.method = method, .url = su->url};
    int rc = blob_remote_call(&c, e);
    if (rc != 0)
        return rc;
    if (c.status == 404)
        return err_set(e, ERR_NOT_FOUND, "object not at the store");
    if (c.status >= 500)
        return err_set(e, ERR_UNAVAILABLE, "store answered %ld", c.status);
    if (c.status < 200 || c.status > 299)
        return err_set(e, ERR_CONFLICT, "store answered %ld", c.status);
    if (size)
        *size = c.content_length;
    return 0;
}
