/*
 * enc.h - byte encodings: hex, base64 (standard and URL-safe), base32, percent-encoding, UTF-8 checks.
 * All functions are pure; output buffers are caller-owned and sized as documented.
 */
#ifndef LOCI_UTIL_ENC_H
#define LOCI_UTIL_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Writes 2*n lowercase hex digits and a NUL to out (size >= 2*n+1). */
void hex_encode(const uint8_t *in, size_t n, char *out);
/* Decodes exactly 2*n hex digits (either case) from in into out[n]. Returns 0 or -1. */
int hex_decode(const char *in, size_t inlen, uint8_t *out, size_t n);

/* Standard base64 with padding; out needs 4*((n+2)/3)+1 bytes. Returns the length written. */
size_t base64_encode(const uint8_t *in, size_t n, char *out);
/* URL-safe base64 without padding; out needs 4*((n+2)/3)+1 bytes. Returns the length written. */
size_t base64url_encode(const uint8_t *in, size_t n, char *out);
/* Decodes standard (padded) or URL-safe (unpadded or padded) base64. out needs 3*(inlen/4)+3 bytes.
 * Returns 0 and sets *outlen, or -1 on malformed input. */
int base64_decode(const char *in, size_t inlen, uint8_t *out, size_t *outlen);

/* Lowercase RFC 4648 base32 ("a-z2-7") without padding; out needs (8*n+4)/5+1 bytes. Returns length. */
size_t base32_encode(const uint8_t *in, size_t n, char *out);

/* Percent-encodes per RFC 3986: unreserved characters (A-Z a-z 0-9 - _ . ~) stay, everything
 * else becomes %XX with uppercase hex; '/' stays too when keep_slash. This is the encoding
 * SigV4 canonical URIs and query strings use. */
int pct_encode(buf_t *b, const char *s, size_t len, bool keep_slash);
/* Decodes %XX escapes (and '+' as space when plus_is_space) into out, which needs len+1 bytes;
 * NUL-terminates. Returns 0 and sets *outlen, or -1 on a malformed escape. */
int pct_decode(const char *s, size_t len, char *out, size_t *outlen, bool plus_is_space);

/* True if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, max U+10FFFF). */
bool utf8_valid(const char *s, size_t len);
/* The length (1-4) of the well-formed UTF-8 character s starts with, or 0 if s[0..len) does not
 * start with one (or len is 0). */
size_t utf8_char_len(const char *s, size_t len);

#endif
