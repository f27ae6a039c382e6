/* progress.h - a one-line progress bar for `gusto-connect sync` on stderr: the
 * company, list pages, employees read (against the last snapshot's count
 * when known), per-employee fetches, requests and rate-limit waits. */
#ifndef GUSTO_SYNC_PROGRESS_H
#define GUSTO_SYNC_PROGRESS_H

#include "sync/sync.h"

#include <stdbool.h>

struct progress {
    bool on;                 /* draw at all (stderr is a terminal) */
    const char *label;       /* the company's name or uuid */
    struct sync_status last;
    bool have_last;
    unsigned waits;          /* rate-limit pauses so far */
    long wait_ms;            /* their total length */
    long long drawn_ms;
    bool dirty;              /* a line is on screen */
};

/* sync_progress_fn: redraw at most ten times a second. */
void progress_update(void *ud, const struct sync_status *st);
/* gusto_options.on_wait: count the pause and say so at once. */
void progress_wait(void *ud, long wait_ms, int server);
/* Erase the line (before printing anything else to the terminal). */
void progress_clear(struct progress *p);

#endif
