/*
 * timeutil.h - clocks and the timestamp formats loci speaks.
 */
#ifndef LOCI_UTIL_TIMEUTIL_H
#define LOCI_UTIL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock in milliseconds since the Unix epoch. */
int64_t time_now_ms(void);
/* Monotonic clock in nanoseconds (for durations). */
int64_t time_mono_ns(void);

/* "2026-11-22T10:00:00Z" for a Unix time in seconds; out needs 21 bytes. */
void time_fmt_iso8601(int64_t secs, char out[21]);
/* "2026-11-22T10:00:00.123Z" for milliseconds; out needs 25 bytes. */
void time_fmt_iso8601_ms(int64_t ms, char out[25]);
/* "20130524T000000Z" (SigV4 X-Amz-Date); out needs 17 bytes. */
void time_fmt_amz(int64_t secs, char out[17]);
/* "Sun, 22 Nov 2026 10:00:00 GMT" (HTTP-date); out needs 30 bytes. */
void time_fmt_http(int64_t secs, char out[30]);
/* Parses "YYYY-MM-DDTHH:MM:SSZ" (optionally with .fff). Returns 0 and the seconds, or -1. */
int time_parse_iso8601(const char *s, size_t len, int64_t *secs);

#endif
