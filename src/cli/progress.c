/*
 * progress.c - the transfer progress line (see progress.h).
 */
#include "cli/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "util/timeutil.h"

#define REDRAW_NS 100000000LL /* 0.1 s */

bool cli_progress_wanted(void)
{
    return isatty(STDERR_FILENO) == 1;
}

char *cli_format_bytes(int64_t n, char *out, size_t cap)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (n < 1024) {
        snprintf(out, cap, "%lld B", (long long)n);
        return out;
    }
    double v = (double)n / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    snprintf(out, cap, "%.1f %s", v, units[u]);
    return out;
}

char *cli_progress_format(int64_t done, int64_t total, double secs, char *out, size_t cap)
{
    char d[32], t[32], r[32];
    int64_t rate = secs > 0.0 ? (int64_t)((double)done / secs) : 0;
    cli_format_bytes(done, d, sizeof(d));
    cli_format_bytes(rate, r, sizeof(r));
    if (total < 0) {
        snprintf(out, cap, "%s  %s/s", d, r);
    } else {
        int pct = total > 0 ? (int)((double)done * 100.0 / (double)total) : 100;
        if (pct > 100)
            pct = 100;
        snprintf(out, cap, "%s / %s  %3d%%  %s/s", d, cli_format_bytes(total, t, sizeof(t)), pct, r);
    }
    return out;
}

/* Redraws the line in place: carriage return, the text, then clear to the end of line. */
static void draw(cli_progress_t *p, int64_t now)
{
    char line[128];
    cli_progress_format(p->done, p->total, (double)(now - p->start_ns) / 1e9, line, sizeof(line));
    fprintf(stderr, "\r%s%s%s\033[K", p->label ? p->label : "", p->label ? "  " : "", line);
    fflush(stderr);
    p->drawn = true;
    p->last_ns = now;
}

void cli_progress_init(cli_progress_t *p, const char *label, int64_t total, bool enabled)
{
    p->enabled = enabled;
    p->drawn = false;
    p->label = label;
    p->total = total;
    p->done = 0;
    p->start_ns = time_mono_ns();
    p->last_ns = 0;
    pthread_mutex_init(&p->mu, NULL);
}

/* Sets done (under p->mu) and redraws if enough time has passed. */
static void set_done(cli_progress_t *p, int64_t done)
{
    p->done = done;
    if (!p->enabled)
        return;
    int64_t now = time_mono_ns();
    if (now - p->last_ns >= REDRAW_NS)
        draw(p, now);
}

void cli_progress_update(cli_progress_t *p, int64_t done)
{
    pthread_mutex_lock(&p->mu);
    set_done(p, done);
    pthread_mutex_unlock(&p->mu);
}

void cli_progress_add(cli_progress_t *p, int64_t delta)
{
    pthread_mutex_lock(&p->mu);
    set_done(p, p->done + delta);
    pthread_mutex_unlock(&p->mu);
}

void cli_progress_finish(cli_progress_t *p, bool ok)
{
    pthread_mutex_destroy(&p->mu);
    if (!p->enabled)
        return;
    if (ok) {
        draw(p, time_mono_ns());
        fputc('\n', stderr);
    } else if (p->drawn) {
        fputs("\r\033[K", stderr);
    }
    fflush(stderr);
    p->drawn = false;
}
