/*
 * client.c - the CLI's HTTP client for loci's API (see client.h).
 */
#include "cli/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/opts.h"
#include "util/enc.h"
#include "util/version.h"

#define USER_AGENT "loci/" LOCI_VERSION

static const struct {
    int code;
    int status;
    const char *api;
} api_codes[] = {
#define API_ROW(name, num, status, api, msg) {ERR_##name, status, api},
    ERR_MAP(API_ROW)
#undef API_ROW
};

int cli_err_from_api_code(const char *code)
{
    for (size_t i = 0; code && i < sizeof(api_codes) / sizeof(api_codes[0]); i++)
        if (strcmp(api_codes[i].api, code) == 0)
            return api_codes[i].code;
    return ERR_INTERNAL;
}

/* The first ERR_* with this HTTP status (404 → ERR_NOT_FOUND), for answers without an API code. */
static int err_from_status(long status)
{
    for (size_t i = 0; i < sizeof(api_codes) / sizeof(api_codes[0]); i++)
        if (api_codes[i].status == status)
            return api_codes[i].code;
    return status >= 400 && status < 500 ? ERR_BAD_REQUEST : ERR_INTERNAL;
}

int cli_error_from_response(long status, const char *body, size_t len, err_t *e)
{
    json_t *j = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *err = json_object_get(j, "error");
    const char *code = cli_jstr(err, "code");
    const char *msg = cli_jstr(err, "message");
    int rc;

    if (code != NULL) {
        int num = cli_err_from_api_code(code);
        if (num == ERR_INTERNAL && strcmp(code, "internal") != 0)
            num = err_from_status(status);
        rc = err_set(e, num, "%s (%s)", msg && *msg ? msg : err_default_message(num), code);
    } else {
        rc = err_set(e, err_from_status(status), "unexpected answer from server (http %ld)", status);
    }
    json_decref(j);
    return rc;
}

int cli_path_object(buf_t *b, const char *key)
{
    int rc = buf_puts(b, "/v1/objects/");
    if (rc == 0)
        rc = pct_encode(b, key, strlen(key), true);
    return rc;
}

int cli_path_segment(buf_t *b, const char *segment)
{
    int rc = buf_putc(b, '/');
    if (rc == 0)
        rc = pct_encode(b, segment, strlen(segment), false);
    return rc;
}

int cli_query_add(buf_t *b, const char *name, const char *value)
{
    bool has_query = b->base != NULL && memchr(b->base, '?', b->len) != NULL;
    int rc = buf_putc(b, has_query ? '&' : '?');
    if (rc == 0)
        rc = pct_encode(b, name, strlen(name), false);
    if (rc == 0)
        rc = buf_putc(b, '=');
    if (rc == 0)
        rc = pct_encode(b, value, strlen(value), false);
    return rc;
}

int cli_check_key(const char *key, err_t *e)
{
    if (*key == '\0')
        return err_set(e, ERR_BAD_REQUEST, "empty object key");
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return err_set(e, ERR_BAD_REQUEST, "object key '%s' has a control character", key);
    return 0;
}

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int cli_header_line(buf_t *b, const char *name, const char *value, err_t *e)
{
    int rc = 0;
    if (*name == '\0')
        return err_set(e, ERR_BAD_REQUEST, "empty header name");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (!is_tchar(*p))
            return err_set(e, ERR_BAD_REQUEST, "invalid header name '%s'", name);
    if (strpbrk(value, "\r\n") != NULL)
        return err_set(e, ERR_BAD_REQUEST, "invalid value for header '%s'", name);
    if (*value == '\0')
        rc = buf_printf(b, "%s;", name);
    else
        rc = buf_printf(b, "%s: %s", name, value);
    return rc ? err_set(e, rc, "header '%s' too long", name) : 0;
}

const char *cli_jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

int64_t cli_jint(const json_t *obj, const char *key, int64_t def)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

int cli_print_json(const json_t *j, bool pretty)
{
    size_t flags = pretty ? JSON_INDENT(2) : JSON_COMPACT;
    if (json_dumpf(j, stdout, flags | JSON_ENCODE_ANY) != 0 || putchar('\n') == EOF || ferror(stdout))
        return ERR_IO;
    return 0;
}

int cli_fail(const err_t *e)
{
    fprintf(stderr, "loci: %s\n", e->msg);
    return CLI_EXIT_FAIL;
}

/*
 * The base URL must be an absolute http(s) URL without query or fragment; a path prefix is
 * kept (a loci behind a reverse proxy at https://host/loci).
 */
static int check_base_url(const char *url, err_t *e)
{
    const char *rest = NULL;
    if (strncasecmp(url, "http://", 7) == 0)
        rest = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        rest = url + 8;
    if (rest == NULL || *rest == '\0' || *rest == '/')
        return err_set(e, ERR_BAD_REQUEST, "invalid server url '%s': expected http://host[:port]", url);
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '?' || *p == '#')
            return err_set(e, ERR_BAD_REQUEST, "invalid server url '%s'", url);
    return 0;
}

int cli_client_init(cli_client_t *c, const char *url, const char *token, err_t *e)
{
    int rc = 0;
    size_t len;

    c->curl = NULL;
    c->base = NULL;
    c->auth = NULL;
    c->errbuf[0] = '\0';
    rc = check_base_url(url, e);
    if (rc != 0)
        goto out;
    len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    c->base = strndup(url, len);
    c->https = strncasecmp(url, "https://", 8) == 0;
    if (token && *token) {
        for (const unsigned char *p = (const unsigned char *)token; *p; p++) {
            if (*p <= 0x20 || *p >= 0x7f) {
                rc = err_set(e, ERR_BAD_REQUEST, "invalid token: it has spaces or control characters");
                goto out;
            }
        }
        size_t n = strlen("Authorization: Bearer ") + strlen(token) + 1;
        c->auth = malloc(n);
        if (c->auth)
            snprintf(c->auth, n, "Authorization: Bearer %s", token);
    }
    if (c->base == NULL || (token && *token && c->auth == NULL)) {
        rc = err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (c->curl = curl_easy_init()) == NULL) {
        rc = err_set(e, ERR_INTERNAL, "cannot initialise libcurl");
        goto out;
    }
out:
    return rc;
}

void cli_client_release(cli_client_t *c)
{
    if (c->curl) {
        curl_easy_cleanup(c->curl);
        curl_global_cleanup();
    }
    free(c->base);
    free(c->auth);
    c->curl = NULL;
    c->base = NULL;
    c->auth = NULL;
}

void cli_response_init(cli_response_t *r)
{
    r->status = 0;
    buf_init(&r->body, CLI_BODY_MAX);
    r->json = NULL;
}

void cli_response_release(cli_response_t *r)
{
    buf_release(&r->body);
    json_decref(r->json);
    r->json = NULL;
    r->status = 0;
}

struct sink {
    buf_t *b;
    bool too_big;
};

/* libcurl write callback: collects the body into a capped buffer (returning less than asked
 * makes libcurl stop with CURLE_WRITE_ERROR once the cap is reached). */
static size_t collect(char *data, size_t size, size_t nmemb, void *userp)
{
    struct sink *s = userp;
    size_t n = size * nmemb;
    if (buf_append(s->b, data, n) == 0)
        return n;
    s->too_big = true;
    return 0;
}

static int add_header(struct curl_slist **list, const char *name, const char *value, err_t *e)
{
    buf_t line = BUF_INIT;
    int rc = cli_header_line(&line, name, value, e);
    if (rc == 0) {
        struct curl_slist *l = curl_slist_append(*list, line.base);
        if (l == NULL)
            rc = err_set(e, ERR_NOMEM, "out of memory");
        else
            *list = l;
    }
    buf_release(&line);
    return rc;
}

/* Describes a failed transfer to the server: connection problems say where we tried. */
static int transport_error(cli_client_t *c, CURLcode res, err_t *e)
{
    const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(res);
    if (res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST || res == CURLE_COULDNT_RESOLVE_PROXY)
        return err_set(e, ERR_UNAVAILABLE, "cannot connect to '%s': %s", c->base, why);
    return err_set(e, ERR_UNAVAILABLE, "request to '%s' failed: %s", c->base, why);
}

/*
 * One API request. The handle is reset first so nothing leaks from a previous request (or a
 * transfer) except the connection cache. A method with a body slot (PUT/POST/PATCH) but no
 * body still sends "Content-Length: 0" and no Content-Type (libcurl would otherwise add a form
 * content type).
 */
int cli_call(cli_client_t *c, const cli_request_t *req, cli_response_t *r, err_t *e)
{
    buf_t url = BUF_INIT;
    struct curl_slist *hdrs = NULL;
    char *body = NULL;
    CURLcode res;
    CURL *h = c->curl;
    struct sink sink = {&r->body, false};
    int rc = 0;
    bool head = strcmp(req->method, "HEAD") == 0;
    bool wants_body = strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PATCH") == 0;

    cli_response_release(r);
    cli_response_init(r);
    c->errbuf[0] = '\0';
    if (buf_puts(&url, c->base) != 0 || buf_puts(&url, req->path) != 0) {
        rc = err_set(e, ERR_BAD_REQUEST, "request url too long");
        goto out;
    }
    if (req->body) {
        body = json_dumps(req->body, JSON_COMPACT);
        if (body == NULL) {
            rc = err_set(e, ERR_BAD_REQUEST, "cannot encode the request body");
            goto out;
        }
    }

    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url.base);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    /* A cell may answer 307 to the cell that owns the token or object; the token goes along
     * (it only works at its own cell), but never from https down to http. */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, c->https ? "https" : "http,https");
    curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 1L);

    if (head)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (strcmp(req->method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        rc = add_header(&hdrs, "Content-Type", "application/json", e);
    } else if (wants_body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        hdrs = curl_slist_append(hdrs, "Content-Type:");
    }
    if (rc == 0)
        rc = add_header(&hdrs, "Accept", "application/json", e);
    if (rc == 0 && body)
        hdrs = curl_slist_append(hdrs, "Expect:");
    if (rc == 0 && req->if_match)
        rc = add_header(&hdrs, "If-Match", req->if_match, e);
    if (rc == 0 && req->if_none_match)
        rc = add_header(&hdrs, "If-None-Match", req->if_none_match, e);
    if (rc != 0)
        goto out;
    if (c->auth) {
        struct curl_slist *l = curl_slist_append(hdrs, c->auth);
        if (l == NULL) {
            rc = err_set(e, ERR_NOMEM, "out of memory");
            goto out;
        }
        hdrs = l;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

    res = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    if (sink.too_big) {
        rc = err_set(e, ERR_PAYLOAD_TOO_LARGE, "answer from '%s' is larger than %zu bytes", c->base, (size_t)CLI_BODY_MAX);
        goto out;
    }
    if (res != CURLE_OK) {
        rc = transport_error(c, res, e);
        goto out;
    }
    if (r->status < 200 || r->status > 299) {
        r->json = r->body.len ? json_loadb(r->body.base, r->body.len, 0, NULL) : NULL;
        rc = cli_error_from_response(r->status, r->body.base, r->body.len, e);
        goto out;
    }
    if (!head && r->status != 204 && r->body.len > 0) {
        json_error_t jerr;
        r->json = json_loadb(r->body.base, r->body.len, JSON_DECODE_ANY, &jerr);
        if (r->json == NULL) {
            rc = err_set(e, ERR_INTERNAL, "malformed json from server (http %ld): %s", r->status, jerr.text);
            goto out;
        }
    }
out:
    if (h)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    free(body);
    buf_release(&url);
    return rc;
}
