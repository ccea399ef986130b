/*
 * endpoint.c - "scheme://host[:port][/path]" into the parts signing needs.
 */
#include "sign/endpoint.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* True if c may appear as it is in a URL's host (RFC 3986: unreserved, sub-delims, ':' and the
 * brackets of an IPv6 literal). */
static bool host_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=:[]", c);
}

bool sign_endpoint_path_ok(const char *p)
{
    static const char hex[] = "0123456789abcdefABCDEF";
    for (; *p; p++) {
        char c = *p;
        if (c == '%') {
            if (!p[1] || !strchr(hex, p[1]) || !p[2] || !strchr(hex, p[2]))
                return false;
            p += 2;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     strchr("-._~!$&'()*+,;=:@/", c))) {
            return false;
        }
    }
    return true;
}

int sign_endpoint_parse(const char *url, sign_endpoint_t *out, err_t *e)
{
    const char *rest;
    memset(out, 0, sizeof(*out));
    if (url == NULL)
        return err_set(e, ERR_BAD_REQUEST, "no endpoint");
    if (strncmp(url, "https://", 8) == 0) {
        snprintf(out->scheme, sizeof(out->scheme), "https");
        rest = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        snprintf(out->scheme, sizeof(out->scheme), "http");
        rest = url + 7;
    } else {
        return err_set(e, ERR_BAD_REQUEST, "endpoint '%.100s' must start with http:// or https://", url);
    }
    const char *slash = strchr(rest, '/');
    size_t hl = slash ? (size_t)(slash - rest) : strlen(rest);
    if (hl == 0 || hl >= sizeof(out->host))
        return err_set(e, ERR_BAD_REQUEST, "endpoint '%.100s' has no usable host", url);
    memcpy(out->host, rest, hl);
    out->host[hl] = '\0';
    for (size_t i = 0; i < hl; i++)
        if (!host_char_ok(out->host[i]))
            return err_set(e, ERR_BAD_REQUEST, "endpoint '%.100s' has an invalid host", url);
    memcpy(out->url_host, out->host, hl + 1);
    /* the default port is not part of the signed host (botocore and the AWS SDKs drop it) */
    char *colon = strrchr(out->host, ':');
    if (colon && strchr(colon, ']') == NULL) {
        if ((strcmp(out->scheme, "http") == 0 && strcmp(colon, ":80") == 0) ||
            (strcmp(out->scheme, "https") == 0 && strcmp(colon, ":443") == 0))
            *colon = '\0';
    }
    if (slash) {
        size_t pl = strlen(slash);
        while (pl > 0 && slash[pl - 1] == '/')
            pl--;
        if (pl >= sizeof(out->path))
            return err_set(e, ERR_BAD_REQUEST, "endpoint path too long");
        memcpy(out->path, slash, pl);
        out->path[pl] = '\0';
        if (strchr(out->path, '?') || strchr(out->path, '#'))
            return err_set(e, ERR_BAD_REQUEST, "endpoint '%.100s' must not have a query", url);
    }
    return 0;
}
