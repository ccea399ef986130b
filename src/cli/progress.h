/*
 * progress.h - a one-line transfer progress display on stderr: bytes done of total,
 * percent and rate, redrawn at most ten times a second. It is drawn only when enabled,
 * which commands decide with isatty(stderr), so scripts and logs never see it.
 */
#ifndef LOCI_CLI_PROGRESS_H
#define LOCI_CLI_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cli_progress {
    bool enabled;
    bool drawn;        /* something is on the line (finish ends it) */
    const char *label; /* borrowed: "sha256", a store id, "download" */
    int64_t total;     /* expected bytes, or -1 if unknown */
    int64_t done;
    int64_t start_ns;   /* monotonic */
    int64_t last_ns;    /* last redraw */
    pthread_mutex_t mu; /* updates may come from several threads (parts uploaded in parallel) */
} cli_progress_t;

/* Starts a display for total bytes (-1 unknown) under label (borrowed, may be NULL). */
void cli_progress_init(cli_progress_t *p, const char *label, int64_t total, bool enabled);
/* Records that done bytes are transferred so far; redraws if enough time has passed. */
void cli_progress_update(cli_progress_t *p, int64_t done);
/* Adds delta bytes (negative when a transfer restarts); safe from several threads at once. */
void cli_progress_add(cli_progress_t *p, int64_t delta);
/* Draws the final state and ends the line (when ok), or clears it (when not); p may then be
 * initialised again. Every cli_progress_init is paired with one finish. */
void cli_progress_finish(cli_progress_t *p, bool ok);

/* True when progress should be shown: stderr is a terminal. */
bool cli_progress_wanted(void);

/* Formats a byte count for people: "512 B", "1.5 KiB", "12.3 MiB". Returns out. */
char *cli_format_bytes(int64_t n, char *out, size_t cap);
/* Formats the progress line without label: "12.3 MiB / 40.0 MiB  30%  5.1 MiB/s" (total < 0
 * leaves out the total and percent). secs is the time spent so far. Returns out. Pure. */
char *cli_progress_format(int64_t done, int64_t total, double secs, char *out, size_t cap);

#endif
