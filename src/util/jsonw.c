/*
 * jsonw.c - streaming JSON writer.
 */
#include "util/jsonw.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/enc.h"
#include "util/err.h"

void jw_init(jw_t *w, buf_t *b)
{
    memset(w, 0, sizeof(*w));
    w->b = b;
}

int jw_finish(jw_t *w)
{
    if (w->err == 0 && w->depth != 0)
        w->err = ERR_INTERNAL;
    return w->err;
}

static void put(jw_t *w, const char *s, size_t n)
{
    if (w->err == 0)
        w->err = buf_append(w->b, s, n);
}

/* Emits the separator a new value needs at the current position. */
static void before_value(jw_t *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        put(w, ",", 1);
    w->need_comma[w->depth] = true;
}

/* True if none of the 8 bytes in x needs attention: none below 0x20, none of '"', '\\', 0x7f,
 * none from 0x80 (the classic "has a byte less than n / equal to n" word tricks, exact for
 * whether any byte does). */
static inline bool plain8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\'), del = x ^ (ones * 0x7f);
    uint64_t hit = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs) | ((del - ones) & ~del) | x;
    return (hit & highs) == 0;
}

/* Whether the n bytes at s need no escaping. */
static bool plain(const char *s, size_t n)
{
    size_t i = 0;
    for (uint64_t word; i + 8 <= n; i += 8)
        if (memcpy(&word, s + i, 8), !plain8(word))
            return false;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            return false;
    }
    return true;
}

int jw_escape(buf_t *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    int rc = buf_reserve(b, len + 2);
    if (rc != 0)
        return rc;
    b->base[b->len++] = '"';
    size_t run = 0; /* start of the pending unescaped run */
    for (size_t i = 0; i < len; i++) {
        /* eight plain bytes at a time (URLs, keys, ids: nearly everything written) */
        uint64_t word;
        while (i + 8 <= len && (memcpy(&word, s + i, 8), plain8(word)))
            i += 8;
        if (i >= len)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            /* a well-formed character goes out as it is; any other byte as U+FFFD, so the
             * output is valid JSON even when a message quotes raw request bytes */
            size_t n = utf8_char_len(s + i, len - i);
            if (n > 0) {
                i += n - 1;
                continue;
            }
            if ((rc = buf_append(b, s + run, i - run)) != 0 || (rc = buf_append(b, "\xef\xbf\xbd", 3)) != 0)
                return rc;
            run = i + 1;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        if ((rc = buf_append(b, s + run, i - run)) != 0)
            return rc;
        run = i + 1;
        char esc[6] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if ((rc = buf_append(b, esc, n)) != 0)
            return rc;
    }
    if ((rc = buf_append(b, s + run, len - run)) != 0)
        return rc;
    return buf_putc(b, '"');
}

static void open_(jw_t *w, char c)
{
    before_value(w);
    if (w->depth >= JW_MAX_DEPTH) {
        if (w->err == 0)
            w->err = ERR_INTERNAL;
        return;
    }
    put(w, &c, 1);
    w->depth++;
    w->need_comma[w->depth] = false;
}

static void close_(jw_t *w, char c)
{
    if (w->depth == 0) {
        if (w->err == 0)
            w->err = ERR_INTERNAL;
        return;
    }
    put(w, &c, 1);
    w->depth--;
}

void jw_obj_open(jw_t *w)
{
    open_(w, '{');
}

void jw_obj_close(jw_t *w)
{
    close_(w, '}');
}

void jw_arr_open(jw_t *w)
{
    open_(w, '[');
}

void jw_arr_close(jw_t *w)
{
    close_(w, ']');
}

void jw_key(jw_t *w, const char *key)
{
    size_t n = strlen(key);
    if (w->err != 0 || w->after_key || !plain(key, n)) { /* (a key right after a key: let before_value see it) */
        before_value(w);
        if (w->err == 0)
            w->err = jw_escape(w->b, key, n);
        put(w, ":", 1);
        w->after_key = true;
        return;
    }
    /* keys are nearly always short plain names: separator, quotes and colon in one go */
    bool comma = w->need_comma[w->depth];
    w->need_comma[w->depth] = true;
    w->after_key = true;
    if ((w->err = buf_reserve(w->b, n + 4)) != 0)
        return;
    char *p = w->b->base + w->b->len;
    if (comma)
        *p++ = ',';
    *p++ = '"';
    memcpy(p, key, n);
    p += n;
    *p++ = '"';
    *p++ = ':';
    *p = '\0';
    w->b->len = (size_t)(p - w->b->base);
}

void jw_str_n(jw_t *w, const char *s, size_t len)
{
    before_value(w);
    if (w->err == 0)
        w->err = jw_escape(w->b, s, len);
}

void jw_str(jw_t *w, const char *s)
{
    if (s == NULL)
        jw_null(w);
    else
        jw_str_n(w, s, strlen(s));
}

void jw_int(jw_t *w, int64_t v)
{
    before_value(w);
    if (w->err == 0)
        w->err = buf_put_i64(w->b, v);
}

void jw_bool(jw_t *w, bool v)
{
    before_value(w);
    if (v)
        put(w, "true", 4);
    else
        put(w, "false", 5);
}

void jw_null(jw_t *w)
{
    before_value(w);
    put(w, "null", 4);
}

void jw_raw(jw_t *w, const char *json, size_t len)
{
    if (json == NULL || len == 0) {
        jw_null(w);
        return;
    }
    before_value(w);
    put(w, json, len);
}

void jw_kv_str(jw_t *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_str(w, s);
}

void jw_kv_int(jw_t *w, const char *key, int64_t v)
{
    jw_key(w, key);
    jw_int(w, v);
}

void jw_kv_bool(jw_t *w, const char *key, bool v)
{
    jw_key(w, key);
    jw_bool(w, v);
}

void jw_kv_raw(jw_t *w, const char *key, const char *json, size_t len)
{
    jw_key(w, key);
    jw_raw(w, json, len);
}
