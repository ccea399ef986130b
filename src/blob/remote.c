/*
 * remote.c - signed HEAD/DELETE requests with libcurl.
 */
#include "blob/remote.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

void blob_remote_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

int blob_remote_request(const char *method, const sign_result_t *su, int64_t *size, err_t *e)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    int rc = 0;
    if (h == NULL)
        return err_set(e, ERR_INTERNAL, "cannot start an HTTP request");
    for (size_t i = 0; i < su->nheaders; i++) {
        char line[1024];
        /* a PUT's content headers are not part of HEAD/DELETE requests */
        if (strcmp(method, "PUT") != 0)
            break;
        snprintf(line, sizeof(line), "%s: %s", su->headers[i].name, su->headers[i].value);
        hdrs = curl_slist_append(hdrs, line);
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, su->url);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = err_set(e, ERR_UNAVAILABLE, "store unreachable: %s", curl_easy_strerror(cc));
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status == 404) {
        rc = err_set(e, ERR_NOT_FOUND, "object not at the store");
        goto out;
    }
    if (status < 200 || status > 299) {
        rc = err_set(e, ERR_CONFLICT, "store answered %ld", status);
        goto out;
    }
    if (size) {
        curl_off_t cl = -1;
        curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        *size = (int64_t)cl;
    }
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}
