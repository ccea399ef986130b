/*
 * spin.c - the polling window of an event loop (see spin.h).
 */
#include "util/spin.h"

void spin_init(spin_t *sp, int64_t max_ns)
{
    *sp = (spin_t){.max_ns = max_ns > 0 ? max_ns : 0, .cur_ns = max_ns > 0 ? max_ns : 0};
}

void spin_after_turn(spin_t *sp, bool busy, int64_t woke_ns, int64_t now)
{
    bool polled = sp->until_ns != 0;
    if (!busy) {
        if (polled && now >= sp->until_ns)
            sp->until_ns = 0; /* the window passed with nothing to do: sleep */
        return;
    }
    if (!polled && sp->last_ns != 0 && woke_ns > sp->last_ns) {
        int64_t gap = woke_ns - sp->last_ns;
        if (gap <= sp->max_ns) { /* polling this long would have caught it */
            int64_t want = gap + gap / 4, twice = sp->cur_ns > 0 ? 2 * sp->cur_ns : SPIN_MIN_NS;
            sp->cur_ns = want > twice ? want : twice;
            if (sp->cur_ns > sp->max_ns)
                sp->cur_ns = sp->max_ns;
        } else { /* any window would have been polled in vain */
            sp->cur_ns = sp->cur_ns / 2 < SPIN_MIN_NS ? 0 : sp->cur_ns / 2;
        }
    }
    sp->last_ns = now;
    sp->until_ns = sp->cur_ns > 0 ? now + sp->cur_ns : 0;
}
