/* progress.h - the one progress bar of the CLI, on stderr: for `gusto-connect
 * sync`, `batch ... --wait` and long `employees list`s.  One line that fits
 * the terminal's width (it never wraps): a label, a bar (or a moving mark
 * when the total is unknown), done/total, the rate, the ETA, and "waiting Ns
 * for Gusto's rate limit" during a wait.  Redrawn at most ten times a
 * second, drawn only when `on` (the caller decides: stderr is a terminal and
 * not --quiet), and erased by progress_clear() before other output. */
#ifndef GUSTO_SYNC_PROGRESS_H
#define GUSTO_SYNC_PROGRESS_H

#include "sync/sync.h"

#include <stdbool.h>
#include <stddef.h>

struct progress {
    bool on;                 /* draw at all */
    const char *label;       /* "employees", a company's name (borrowed) */
    int width;               /* the line's room: stderr's width (80 when unknown) */
    size_t done, total;      /* total 0: unknown */
    char detail[64];         /* after the counts: "page 3", "fetch" */
    long long start_ms;      /* when the first count came, for the rate */
    long long made_ms;       /* progress_init's time */
    int delay_ms;            /* draw nothing before this long after progress_init
                                (a list that ends at once needs no bar); 0: at once */
    long long drawn_ms;
    long long wait_end_ms;   /* a rate-limit wait shows until then */
    long wait_shown_ms;
    int wait_server;
    unsigned waits;          /* rate-limit pauses so far */
    long wait_ms;            /* their total length */
    bool dirty;              /* a line is on screen */
    /* sync's last status (progress_update) */
    struct sync_status last;
    bool have_last;
};

/* Start a bar.  width: the columns of stderr (0: 80).  label is borrowed. */
void progress_init(struct progress *p, const char *label, bool on, int width);

/* done of total (0: unknown) and an optional detail (copied; NULL keeps
 * the last one).  Redraws at most ten times a second. */
void progress_set(struct progress *p, size_t done, size_t total, const char *detail);

/* gusto_options.on_wait (ud: a struct progress): count the pause and show
 * "waiting Ns for Gusto's rate limit" (or the client's own limit) at once. */
void progress_wait(void *ud, long wait_ms, int server);

/* sync_progress_fn (ud: a struct progress): the sync's phase and counts. */
void progress_update(void *ud, const struct sync_status *st);

/* Erase the line (before printing anything else to the terminal).
 * NULL does nothing. */
void progress_clear(struct progress *p);

/* The line progress_set would draw now, at most `width` columns, into buf
 * (for tests and for the throttle-free final draw).  Returns buf. */
char *progress_line(const struct progress *p, long long now_ms, char *buf, size_t size);

#endif
