/*
 * timeutil.c - clocks and UTC formatting without locale or timezone state.
 */
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The day of a Unix time (floored, so before 1970 too) and the seconds into it. */
static int64_t day_of(int64_t secs, int64_t *rem)
{
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    *rem = secs - days * 86400;
    return days;
}

static void split(int64_t secs, int *y, int *mo, int *d, int *h, int *mi, int *s)
{
    int64_t rem, days = day_of(secs, &rem);
    civil_from_days(days, y, mo, d);
    *h = (int)(rem / 3600);
    *mi = (int)(rem / 60 % 60);
    *s = (int)(rem % 60);
}

/* Writes v (0 <= v < 10^n) as n digits. */
static char *put_num(char *p, int v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

/* Formats a time as digits and separators: fmt holds 'Y' (4 digits), 'M', 'D', 'h', 'm', 's'
 * (2 digits each) and literal characters. Times formatted here are read on every request
 * (signing, answers), so no printf. Years outside 0..9999 never reach this (see callers). */
static void fmt_time(char *out, const char *fmt, int y, int mo, int d, int h, int mi, int s)
{
    char *p = out;
    for (; *fmt; fmt++) {
        switch (*fmt) {
        case 'Y': p = put_num(p, y, 4); break;
        case 'M': p = put_num(p, mo, 2); break;
        case 'D': p = put_num(p, d, 2); break;
        case 'h': p = put_num(p, h, 2); break;
        case 'm': p = put_num(p, mi, 2); break;
        case 's': p = put_num(p, s, 2); break;
        default: *p++ = *fmt;
        }
    }
    *p = '\0';
}

/* split() for formatting: the year kept in 0..9999 as the formats have always written it. */
static void split_fmt(int64_t secs, int *y, int *mo, int *d, int *h, int *mi, int *s)
{
    split(secs, y, mo, d, h, mi, s);
    *y %= 10000;
    if (*y < 0)
        *y += 10000;
}

void time_fmt_iso8601(int64_t secs, char out[21])
{
    int y, mo, d, h, mi, s;
    split_fmt(secs, &y, &mo, &d, &h, &mi, &s);
    fmt_time(out, "Y-M-DTh:m:sZ", y, mo, d, h, mi, s);
}

void time_fmt_iso8601_ms(int64_t ms, char out[25])
{
    /* (every object in an answer has two of these, mostly of a few days: the date is kept) */
    static __thread int64_t last_day = INT64_MIN;
    static __thread char date[11];
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t rem, day = day_of(secs, &rem);
    if (day != last_day) {
        int y, mo, d, h, mi, s;
        split_fmt(secs, &y, &mo, &d, &h, &mi, &s);
        fmt_time(date, "Y-M-D", y, mo, d, h, mi, s);
        last_day = day;
    }
    memcpy(out, date, 10);
    fmt_time(out + 10, "Th:m:s.", 0, 0, 0, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    put_num(out + 20, (int)(ms - secs * 1000), 3);
    out[23] = 'Z';
    out[24] = '\0';
}

void time_fmt_amz(int64_t secs, char out[17])
{
    int y, mo, d, h, mi, s;
    split_fmt(secs, &y, &mo, &d, &h, &mi, &s);
    fmt_time(out, "YMDThmsZ", y, mo, d, h, mi, s);
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int time_parse_iso8601(const char *s, size_t len, int64_t *secs)
{
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return -1;
    size_t i = 19;
    if (s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i != len - 1 || s[i] != 'Z')
        return -1;
    *secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return 0;
}

void time_fmt_http(int64_t secs, char out[30])
{
    static const char *const days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y, mo, d, h, mi, s;
    split(secs, &y, &mo, &d, &h, &mi, &s);
    int64_t days_since = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int wd = (int)(((days_since % 7) + 7) % 7);
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[wd], d, months[mo - 1], y % 10000, h, mi, s);
    memcpy(out, tmp, 30);
}
