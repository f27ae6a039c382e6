/* progress.c - draws the `gusto-connect sync` progress bar on stderr (see
 * progress.h), throttled, and erases it when the sync is done. */
#include "sync/progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void draw(struct progress *p, const char *note)
{
    const struct sync_status *s = &p->last;
    char bar[24];
    int width = 20;
    double frac = -1;
    if (s->phase && strcmp(s->phase, "fetch") == 0 && s->to_fetch)
        frac = (double)s->fetched / (double)s->to_fetch;
    else if (s->expected)
        frac = (double)s->employees / (double)s->expected;
    if (frac > 1)
        frac = 1;
    for (int i = 0; i < width; i++)
        bar[i] = frac < 0 ? (i == (int)(s->employees / 100 % (size_t)width) ? '#' : '.')
                          : i < (int)(frac * width + 0.5) ? '#' : '.';
    bar[width] = 0;
    char label[40];
    snprintf(label, sizeof label, "%.36s", p->label ? p->label
                                           : s->name && *s->name ? s->name
                                           : s->company ? s->company : "");
    char fetch[48] = "";
    if (s->to_fetch)
        snprintf(fetch, sizeof fetch, ", fetched %zu/%zu", s->fetched, s->to_fetch);
    char waits[64] = "";
    if (p->waits)
        snprintf(waits, sizeof waits, ", waits %u (%lds)", p->waits, p->wait_ms / 1000);
    fprintf(stderr, "\r\033[Ksync %s [%s] %s page %d, %zu employees%s, %lu requests%s%s%s",
            label, bar, s->phase ? s->phase : "", s->page, s->employees, fetch, s->requests,
            waits, note ? " - " : "", note ? note : "");
    fflush(stderr);
    p->dirty = true;
}

void progress_update(void *ud, const struct sync_status *st)
{
    struct progress *p = ud;
    bool phase_changed = !p->have_last || p->last.phase != st->phase;
    p->last = *st;
    p->have_last = true;
    if (!p->on)
        return;
    long long now = mono_ms();
    if (!phase_changed && now - p->drawn_ms < 100)
        return;
    p->drawn_ms = now;
    draw(p, NULL);
}

void progress_wait(void *ud, long wait_ms, int server)
{
    struct progress *p = ud;
    p->waits++;
    p->wait_ms += wait_ms;
    if (!p->on || !p->have_last)
        return;
    char note[96];
    snprintf(note, sizeof note, "waiting %.1fs for the %s rate limit", (double)wait_ms / 1000.0,
             server ? "server's" : "client's");
    draw(p, note);
}

void progress_clear(struct progress *p)
{
    if (p->on && p->dirty) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->dirty = false;
}
