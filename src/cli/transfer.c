/*
 * transfer.c - uploads to and downloads from signed store URLs (see transfer.h).
 */
#include "cli/transfer.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/version.h"

#define ERROR_BODY_MAX 65536 /* bytes of a store's error answer kept for the message */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

void cli_interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second ^C kills as usual */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool cli_interrupted(void)
{
    return interrupted != 0;
}

/* Copies the text between <tag> and </tag> in body into out, if there is one. */
static bool xml_field(const char *body, size_t len, const char *tag, char *out, size_t cap)
{
    char open[32], close[34];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *s = memmem(body, len, open, strlen(open));
    if (s == NULL)
        return false;
    s += strlen(open);
    const char *end = memmem(s, len - (size_t)(s - body), close, strlen(close));
    if (end == NULL)
        return false;
    snprintf(out, cap, "%.*s", (int)(end - s), s);
    return true;
}

void cli_store_error(long status, const char *body, size_t len, char *out, size_t cap)
{
    char code[64], msg[160];
    err_t e;
    if (body != NULL && len > 0 && xml_field(body, len, "Code", code, sizeof(code))) {
        if (xml_field(body, len, "Message", msg, sizeof(msg)))
            snprintf(out, cap, "http %ld (%s: %s)", status, code, msg);
        else
            snprintf(out, cap, "http %ld (%s)", status, code);
        return;
    }
    if (body != NULL && len > 0 && body[0] == '{') {
        cli_error_from_response(status, body, len, &e);
        if (strncmp(e.msg, "unexpected answer", 17) != 0) {
            snprintf(out, cap, "http %ld (%s)", status, e.msg);
            return;
        }
    }
    snprintf(out, cap, "http %ld", status);
}

/* Options shared by uploads and downloads: a clean handle (no Authorization, no API headers),
 * generous timeouts that still catch a stalled transfer, and an interrupt check. */
static int xferinfo(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)userp;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return cli_interrupted() ? 1 : 0;
}

static void setup_transfer(cli_client_t *c, const char *url)
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    c->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "loci/" LOCI_VERSION);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo);
}

static int transport_error(cli_client_t *c, CURLcode res, const char *verb, const char *what, err_t *e)
{
    if (res == CURLE_ABORTED_BY_CALLBACK || cli_interrupted())
        return err_set(e, ERR_UNAVAILABLE, "interrupted");
    return err_set(e, ERR_UNAVAILABLE, "%s %s failed: %s", verb, what, c->errbuf[0] ? c->errbuf : curl_easy_strerror(res));
}

/* Collects a small response body (a store's error answer), silently dropping the rest. */
static size_t collect_some(char *data, size_t size, size_t nmemb, void *userp)
{
    buf_t *b = userp;
    size_t n = size * nmemb;
    if (b->len < ERROR_BODY_MAX)
        buf_append(b, data, n < ERROR_BODY_MAX - b->len ? n : ERROR_BODY_MAX - b->len);
    return n;
}

struct upload {
    cli_upload_t *rq;
    int64_t sent;
    sha256_stream_t *sha;
    int read_errno; /* errno of a failed read, or -1 when the file ended early */
};

/* libcurl read callback: the next bytes of the range, never past its end. */
static size_t upload_read(char *out, size_t size, size_t nitems, void *userp)
{
    struct upload *u = userp;
    size_t want = size * nitems;
    if (cli_interrupted())
        return CURL_READFUNC_ABORT;
    if ((int64_t)want > u->rq->size - u->sent)
        want = (size_t)(u->rq->size - u->sent);
    if (want == 0)
        return 0;
    ssize_t n;
    do
        n = pread(u->rq->fd, out, want, (off_t)(u->rq->offset + u->sent));
    while (n < 0 && errno == EINTR && !cli_interrupted());
    if (n <= 0) {
        u->read_errno = n < 0 ? errno : -1;
        return CURL_READFUNC_ABORT;
    }
    sha256_stream_update(u->sha, out, (size_t)n);
    u->sent += n;
    cli_progress_add(u->rq->prog, n);
    return (size_t)n;
}

/* libcurl seek callback: only a rewind to the start (a retry on a reused connection that
 * died), which also restarts the hash and takes the bytes back from the progress. */
static int upload_seek(void *userp, curl_off_t offset, int origin)
{
    struct upload *u = userp;
    uint8_t discard[SHA256_LEN];
    if (origin != SEEK_SET || offset != 0)
        return CURL_SEEKFUNC_CANTSEEK;
    sha256_stream_final(u->sha, discard);
    u->sha = sha256_stream_new();
    cli_progress_add(u->rq->prog, -u->sent);
    u->sent = 0;
    return CURL_SEEKFUNC_OK;
}

/* libcurl header callback: keeps the answer's ETag (a part's, which completing needs). */
static size_t upload_header(char *data, size_t size, size_t nmemb, void *userp)
{
    cli_upload_t *rq = userp;
    size_t n = size * nmemb;
    if (n > 5 && strncasecmp(data, "etag:", 5) == 0) {
        size_t i = 5, end = n;
        while (i < end && (data[i] == ' ' || data[i] == '\t'))
            i++;
        while (end > i && (data[end - 1] == '\r' || data[end - 1] == '\n' || data[end - 1] == ' '))
            end--;
        if (end - i < sizeof(rq->etag)) {
            memcpy(rq->etag, data + i, end - i);
            rq->etag[end - i] = '\0';
        }
    }
    return n;
}

/* True if the headers object has name, compared case-insensitively as HTTP does. */
static bool has_header(json_t *headers, const char *name)
{
    const char *k;
    json_t *v;
    json_object_foreach(headers, k, v)
    {
        if (strcasecmp(k, name) == 0)
            return true;
    }
    return false;
}

/* Builds the header list from the target's headers object, plus removals ("Name:" with no
 * value) of the headers libcurl would add on its own, so the store sees only what was signed. */
static int target_headers(json_t *headers, struct curl_slist **list, err_t *e)
{
    static const char *const removals[][2] = {
        {"Expect", "Expect:"},
        {"Accept", "Accept:"},
        {"Content-Type", "Content-Type:"},
        {"Transfer-Encoding", "Transfer-Encoding:"},
    };
    const char *name;
    json_t *val;
    buf_t line = BUF_INIT;
    int rc = 0;
    char num[32];

    if (headers != NULL && !json_is_object(headers)) {
        rc = err_set(e, ERR_BAD_REQUEST, "malformed upload target: headers is not an object");
        goto out;
    }
    json_object_foreach(headers, name, val)
    {
        const char *v = json_string_value(val);
        if (json_is_integer(val)) {
            snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(val));
            v = num;
        }
        if (v == NULL) {
            rc = err_set(e, ERR_BAD_REQUEST, "malformed upload target: header '%s' is not a string", name);
            goto out;
        }
        buf_reset(&line);
        rc = cli_header_line(&line, name, v, e);
        if (rc != 0)
            goto out;
        struct curl_slist *l = curl_slist_append(*list, line.base);
        if (l == NULL) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            goto out;
        }
        *list = l;
    }
    for (size_t i = 0; i < sizeof(removals) / sizeof(removals[0]); i++) {
        if (has_header(headers, removals[i][0]))
            continue;
        struct curl_slist *l = curl_slist_append(*list, removals[i][1]);
        if (l == NULL) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            goto out;
        }
        *list = l;
    }
out:
    buf_release(&line);
    return rc;
}

int cli_upload(cli_client_t *c, cli_upload_t *rq, err_t *e)
{
    struct upload u = {rq, 0, sha256_stream_new(), 0};
    struct curl_slist *hdrs = NULL;
    buf_t answer = BUF_INIT;
    CURL *h = c->curl;
    const char *what = rq->what;
    long status = 0;
    int rc = 0;

    rq->etag[0] = '\0';
    rc = target_headers(rq->headers, &hdrs, e);
    if (rc != 0)
        goto out;
    setup_transfer(c, rq->url);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    if (rq->method && strcmp(rq->method, "PUT") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->size);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &u);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, upload_seek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &u);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, upload_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, rq);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_some);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

    CURLcode res = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    if (u.read_errno > 0) {
        rc = err_set(e, ERR_IO, "cannot read the file: %s", strerror(u.read_errno));
        goto out;
    }
    if (u.read_errno < 0) {
        rc = err_set(e, ERR_IO, "the file got shorter while uploading to %s", what);
        goto out;
    }
    if (res != CURLE_OK) {
        rc = transport_error(c, res, "upload to", what, e);
        goto out;
    }
    if (status < 200 || status > 299) {
        char why[200];
        cli_store_error(status, answer.base, answer.len, why, sizeof(why));
        rc = err_set(e, ERR_CONFLICT, "upload to %s failed: %s", what, why);
        goto out;
    }
    if (u.sent != rq->size) {
        rc = err_set(e, ERR_IO, "upload to %s sent %lld of %lld bytes", what, (long long)u.sent, (long long)rq->size);
        goto out;
    }
out:
    sha256_stream_final(u.sha, rq->sha);
    if (rc != 0)
        cli_progress_add(rq->prog, -u.sent); /* a retry sends them again */
    curl_slist_free_all(hdrs);
    buf_release(&answer);
    return rc;
}

struct download {
    CURL *h;
    int fd;
    int64_t max, got;
    sha256_stream_t *sha;
    cli_progress_t *prog;
    bool status_known, ok;
    bool too_big;
    int write_errno;
    buf_t answer; /* the body of a non-2xx answer */
};

/* libcurl write callback: a 2xx body goes to the file (hashed and counted), anything else into
 * a small buffer for the error message, so an error page never lands in the user's file. */
static size_t download_write(char *data, size_t size, size_t nmemb, void *userp)
{
    struct download *d = userp;
    size_t n = size * nmemb;
    if (!d->status_known) {
        long status = 0;
        curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, &status);
        d->ok = status >= 200 && status <= 299;
        d->status_known = true;
    }
    if (!d->ok)
        return collect_some(data, 1, n, &d->answer);
    if (d->max >= 0 && (int64_t)n > d->max - d->got) {
        d->too_big = true;
        return 0;
    }
    for (size_t off = 0; off < n;) {
        ssize_t w = write(d->fd, data + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            d->write_errno = w < 0 ? errno : EIO;
            return 0;
        }
        off += (size_t)w;
    }
    sha256_stream_update(d->sha, data, n);
    d->got += (int64_t)n;
    cli_progress_update(d->prog, d->got);
    return n;
}

int cli_download(cli_client_t *c, const char *url, int fd, int64_t max, const char *what, cli_progress_t *prog,
                 uint8_t sha[SHA256_LEN], int64_t *got, err_t *e)
{
    struct download d = {c->curl, fd, max, 0, sha256_stream_new(), prog, false, false, false, 0, BUF_INIT};
    CURL *h = c->curl;
    long status = 0;
    int rc = 0;

    setup_transfer(c, url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, download_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &d);

    cli_progress_update(prog, 0);
    CURLcode res = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (d.write_errno) {
        rc = err_set(e, ERR_IO, "cannot write the download: %s", strerror(d.write_errno));
        goto out;
    }
    if (d.too_big) {
        rc = err_set(e, ERR_CONFLICT, "download from %s is larger than the object's %lld bytes", what, (long long)max);
        goto out;
    }
    if (res != CURLE_OK) {
        rc = transport_error(c, res, "download from", what, e);
        goto out;
    }
    if (status < 200 || status > 299) {
        char why[200];
        cli_store_error(status, d.answer.base, d.answer.len, why, sizeof(why));
        rc = err_set(e, ERR_CONFLICT, "download from %s failed: %s", what, why);
        goto out;
    }
out:
    sha256_stream_final(d.sha, sha);
    *got = d.got;
    buf_release(&d.answer);
    return rc;
}
