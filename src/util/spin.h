/*
 * spin.h - how long an event loop polls after a busy turn before it sleeps (loop_spin_us).
 *
 * After a turn that did work the loop polls for events (without waiting) for a while before it
 * sleeps, giving the CPU to anything else runnable on it between polls: on a busy server the
 * next request usually comes within that and finds the loop running, instead of paying a
 * wake-up (a futex or an interrupt; on a virtual machine whose idle CPU halts, an exit to the
 * hypervisor) and the scheduler's delay. A quiet server does no busy turns, so it never polls.
 *
 * How long adapts, as the kernel's halt polling does, to the gaps between work: each time the
 * loop slept and work woke it, the gap since the last busy turn says what polling would have
 * done. A gap within the setting would have been caught by polling that long: the window grows
 * to cover it (at least doubling). A longer gap would have been polled for in vain: the window
 * halves, down to nothing below SPIN_MIN_NS. Work a poll catches leaves the window as it is.
 * So a lone client's next request (tens of microseconds after its answer) keeps the loop
 * polling, while answers that wait on something slow (a durable commit, a store's HEAD) turn
 * polling off; and it comes back by itself when the gaps shrink, since the sleeps measure them.
 * A measured gap includes the loop's own wake-up (it is taken when the first work of the turn
 * begins), so where wake-ups are slow the window errs towards polling less, never more.
 * No I/O here: the loop passes the times in.
 */
#ifndef LOCI_UTIL_SPIN_H
#define LOCI_UTIL_SPIN_H

#include <stdbool.h>
#include <stdint.h>

#define SPIN_MIN_NS 10000

typedef struct spin {
    int64_t max_ns;   /* the setting (0: never poll) */
    int64_t cur_ns;   /* the window now (0: not polling) */
    int64_t until_ns; /* polling until then (0: not polling) */
    int64_t last_ns;  /* when the last busy turn ended (0: none yet) */
} spin_t;

/* Starts with the whole window. */
void spin_init(spin_t *sp, int64_t max_ns);

/* Whether the next turn polls (waits for nothing) rather than sleeps. */
static inline bool spin_polling(const spin_t *sp)
{
    return sp->until_ns != 0;
}

/* After a turn of the loop: `busy` if it did work, woke_ns when its first work began (used
 * when the turn slept), now at its end. */
void spin_after_turn(spin_t *sp, bool busy, int64_t woke_ns, int64_t now);

#endif
