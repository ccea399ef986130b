/*
 * enc.c - fuzzes the encodings every parser of outside input sits on (src/util/enc.c):
 * percent-decoding (paths, query strings, SigV4 parameters), base64 (cursors, keys),
 * hex (sha256 digests) and UTF-8 validation (keys, tags, prefixes).
 *
 * Also the JSON writer's string escaping (src/util/jsonw.c), which quotes such bytes in messages.
 *
 * Properties: decoders stay inside their documented output sizes (ASan), what decodes
 * re-encodes and decodes to the same bytes, utf8_valid agrees with an independent
 * table-driven validator written from RFC 3629 section 4, and any bytes escaped by the JSON
 * writer make a JSON string jansson reads back (the same bytes when they were valid UTF-8).
 */
#include <jansson.h>
#include <stdbool.h>

#include "fuzz.h"
#include "util/buf.h"
#include "util/enc.h"
#include "util/jsonw.h"

/* RFC 3629's well-formed byte sequences, as a table of allowed ranges per position. */
static bool utf8_reference(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint8_t lo = 0x80, hi = 0xbf;
        size_t more;
        if (c <= 0x7f) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
        } else if (c == 0xe0) {
            more = 2, lo = 0xa0;
        } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
            more = 2;
        } else if (c == 0xed) {
            more = 2, hi = 0x9f;
        } else if (c == 0xf0) {
            more = 3, lo = 0x90;
        } else if (c >= 0xf1 && c <= 0xf3) {
            more = 3;
        } else if (c == 0xf4) {
            more = 3, hi = 0x8f;
        } else {
            return false;
        }
        if (n - i - 1 < more)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= more; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
        i += more + 1;
    }
    return true;
}

static void check_pct(slice_t in, bool plus)
{
    char *out = malloc(in.len + 1);
    size_t outlen;
    if (pct_decode(in.base, in.len, out, &outlen, plus) == 0) {
        FZ_CHECK(outlen <= in.len, "decoded %zu bytes from %zu", outlen, in.len);
        FZ_CHECK(out[outlen] == '\0', "not NUL-terminated");
        for (int keep = 0; keep < 2; keep++) {
            buf_t b = BUF_INIT;
            FZ_CHECK(pct_encode(&b, out, outlen, keep) == 0, "encode failed");
            for (size_t i = 0; i < b.len; i++)
                FZ_CHECK(b.base[i] > 0x20 && b.base[i] < 0x7f && b.base[i] != '+' && (keep || b.base[i] != '/'),
                         "byte 0x%02x left unencoded", (unsigned char)b.base[i]);
            char *again = malloc(b.len + 1);
            size_t againlen;
            FZ_CHECK(pct_decode(b.base ? b.base : "", b.len, again, &againlen, false) == 0, "re-encoding does not decode");
            FZ_CHECK(againlen == outlen && memcmp(again, out, outlen) == 0, "round trip changed the bytes");
            free(again);
            buf_release(&b);
        }
    }
    free(out);
}

static void check_base64(slice_t in)
{
    uint8_t *out = malloc(3 * (in.len / 4) + 3);
    size_t outlen;
    if (base64_decode(in.base, in.len, out, &outlen) == 0) {
        size_t stripped = in.len;
        while (stripped > 0 && in.base[stripped - 1] == '=')
            stripped--;
        FZ_CHECK(outlen == stripped * 6 / 8, "%zu characters decoded to %zu bytes", stripped, outlen);
        char *enc = malloc(4 * ((outlen + 2) / 3) + 1);
        for (int url = 0; url < 2; url++) {
            size_t el = url ? base64url_encode(out, outlen, enc) : base64_encode(out, outlen, enc);
            FZ_CHECK(el <= 4 * ((outlen + 2) / 3) && enc[el] == '\0', "encoded length %zu", el);
            uint8_t *again = malloc(3 * (el / 4) + 3);
            size_t againlen;
            FZ_CHECK(base64_decode(enc, el, again, &againlen) == 0, "own encoding '%s' does not decode", enc);
            FZ_CHECK(againlen == outlen && memcmp(again, out, outlen) == 0, "round trip changed the bytes");
            free(again);
        }
        free(enc);
    }
    free(out);
}

static void check_hex(slice_t in)
{
    size_t n = in.len / 2;
    uint8_t *out = malloc(n + 1);
    if (hex_decode(in.base, in.len, out, n) == 0) {
        FZ_CHECK(in.len % 2 == 0, "odd length %zu accepted", in.len);
        char *enc = malloc(2 * n + 1);
        hex_encode(out, n, enc);
        for (size_t i = 0; i < in.len; i++) {
            char c = in.base[i];
            if (c >= 'A' && c <= 'F')
                c = (char)(c - 'A' + 'a');
            FZ_CHECK(c == enc[i], "hex round trip differs at %zu", i);
        }
        free(enc);
    }
    free(out);
}

static void check_json(slice_t in, bool valid)
{
    buf_t b = BUF_INIT;
    FZ_CHECK(jw_escape(&b, in.base, in.len) == 0, "escape failed");
    json_error_t je;
    json_t *v = json_loadb(b.base, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    FZ_CHECK(v && json_is_string(v), "escaped string is not JSON (%s): %s", je.text, b.base);
    if (valid)
        FZ_CHECK(json_string_length(v) == in.len && memcmp(json_string_value(v), in.base, in.len) == 0, "JSON changed the bytes");
    json_decref(v);
    buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slice_t in = slice_make((const char *)data, size);
    bool mine = utf8_valid(in.base, in.len), ref = utf8_reference(data, size);
    FZ_CHECK(mine == ref, "utf8_valid says %d, RFC 3629 says %d", mine, ref);
    check_json(in, mine);
    check_pct(in, false);
    check_pct(in, true);
    check_base64(in);
    check_hex(in);
    char *b32 = malloc((8 * size + 4) / 5 + 1);
    size_t bl = base32_encode(data, size, b32);
    FZ_CHECK(bl == (8 * size + 4) / 5 && b32[bl] == '\0', "base32 wrote %zu for %zu bytes", bl, size);
    free(b32);
    return 0;
}
