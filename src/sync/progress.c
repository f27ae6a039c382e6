/* progress.c - draws the CLI's progress bar on stderr (see progress.h):
 * composes the line, cuts it to the width, throttles redraws, and erases
 * it. */
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

void progress_init(struct progress *p, const char *label, bool on, int width)
{
    memset(p, 0, sizeof *p);
    p->on = on;
    p->label = label;
    p->width = width > 0 ? width : 80;
    p->made_ms = mono_ms();
}

/* "1m05s", "42s", "2h03m". */
static void span(char *buf, size_t size, double s)
{
    long v = (long)(s + 0.5);
    if (v >= 3600)
        snprintf(buf, size, "%ldh%02ldm", v / 3600, v / 60 % 60);
    else if (v >= 60)
        snprintf(buf, size, "%ldm%02lds", v / 60, v % 60);
    else
        snprintf(buf, size, "%lds", v);
}

/* Append to buf while it fits in `room` bytes of ASCII (one column each). */
static void add(char *buf, size_t size, int room, const char *piece)
{
    size_t n = strlen(buf), m = strlen(piece);
    if ((int)(n + m) <= room && n + m < size)
        memcpy(buf + n, piece, m + 1);
}

char *progress_line(const struct progress *p, long long now, char *buf, size_t size)
{
    /* One column short of the width: a line that fills the last column
     * wraps on some terminals. */
    int room = p->width - 1;
    if (room < 10)
        room = 10;
    char label[40], counts[64], rate[32] = "", eta[80] = "", wait[160] = "", wait_short[64] = "";
    /* The label is the only text from outside (a company's name): ASCII
     * printable only, so that columns are bytes and nothing drives the tty. */
    size_t li = 0;
    const char *lb = p->label                             ? p->label
                     : p->have_last && p->last.name && *p->last.name ? p->last.name
                     : p->have_last && p->last.company ? p->last.company
                                                       : "";
    for (const char *c = lb; *c && li < 28; c++)
        label[li++] = (*c >= 0x20 && *c < 0x7f) ? *c : '?';
    label[li] = 0;
    if (p->total)
        snprintf(counts, sizeof counts, " %zu/%zu", p->done, p->total);
    else
        snprintf(counts, sizeof counts, " %zu", p->done);
    double secs = p->start_ms ? (double)(now - p->start_ms) / 1000.0 : 0;
    if (secs >= 1 && p->done > 0) {
        double r = (double)p->done / secs;
        snprintf(rate, sizeof rate, r >= 10 ? " %.0f/s" : " %.1f/s", r);
        if (p->total > p->done) {
            char s[48];
            span(s, sizeof s, (double)(p->total - p->done) / r);
            snprintf(eta, sizeof eta, " ETA %s", s);
        }
    }
    if (p->wait_end_ms > now) {
        char s[48];
        span(s, sizeof s, (double)(p->wait_end_ms - now) / 1000.0);
        snprintf(wait, sizeof wait, " - waiting %s for %s rate limit", s,
                 p->wait_server ? "Gusto's" : "the client's");
        snprintf(wait_short, sizeof wait_short, " - waiting %s", s);
    }
    /* The bar takes what the text leaves, from 10 to 30 columns. */
    int text = (int)(strlen(label) + strlen(counts) + strlen(rate) + strlen(eta) +
                     (p->detail[0] ? strlen(p->detail) + 1 : 0) + strlen(wait)) + 3;
    int bw = room - text;
    if (bw > 30)
        bw = 30;
    buf[0] = 0;
    add(buf, size, room, label);
    if (bw >= 10) {
        char bar[40];
        bar[0] = ' ';
        bar[1] = '[';
        for (int i = 0; i < bw; i++) {
            if (p->total) {
                double f = (double)p->done / (double)p->total;
                bar[2 + i] = i < (int)(f * bw + 0.5) ? '#' : '-';
            } else {
                /* Unknown total: a three-column mark moving with the count. */
                int at = (int)(p->done / 10 % (size_t)bw);
                bar[2 + i] = (i >= at && i < at + 3) ? '#' : '-';
            }
        }
        bar[2 + bw] = ']';
        bar[3 + bw] = 0;
        add(buf, size, room, bar);
    }
    add(buf, size, room, counts);
    /* What does not fit is left out, least useful first. */
    add(buf, size, room, rate);
    add(buf, size, room, eta);
    if (p->detail[0]) {
        char d[72];
        snprintf(d, sizeof d, " %s", p->detail);
        add(buf, size, room, d);
    }
    if (wait[0] && strlen(buf) + strlen(wait) > (size_t)room) {
        /* The wait matters most: it replaces the rate, ETA and detail when
         * tight, and is said shortly when even that does not fit. */
        char *cut = strstr(buf, counts);
        if (cut)
            cut[strlen(counts)] = 0;
        if (strlen(buf) + strlen(wait) <= (size_t)room)
            add(buf, size, room, wait);
        else
            add(buf, size, room, wait_short);
    } else {
        add(buf, size, room, wait);
    }
    return buf;
}

static void draw(struct progress *p, long long now)
{
    if (p->delay_ms && now - p->made_ms < p->delay_ms)
        return;
    char line[512];
    progress_line(p, now, line, sizeof line);
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    p->drawn_ms = now;
    p->dirty = true;
}

static void set(struct progress *p, size_t done, size_t total, const char *detail,
                bool changed)
{
    long long now = mono_ms();
    if (!p->start_ms)
        p->start_ms = now;
    p->done = done;
    p->total = total;
    if (detail)
        snprintf(p->detail, sizeof p->detail, "%s", detail);
    if (!p->on)
        return;
    if (!changed && now - p->drawn_ms < 100)
        return;
    draw(p, now);
}

void progress_set(struct progress *p, size_t done, size_t total, const char *detail)
{
    set(p, done, total, detail, detail && strcmp(detail, p->detail) != 0);
}

void progress_wait(void *ud, long wait_ms, int server)
{
    struct progress *p = ud;
    p->waits++;
    p->wait_ms += wait_ms;
    long long now = mono_ms();
    p->wait_end_ms = now + wait_ms;
    p->wait_server = server;
    p->delay_ms = 0; /* a wait is worth showing however early */
    if (p->on)
        draw(p, now);
}

void progress_update(void *ud, const struct sync_status *st)
{
    struct progress *p = ud;
    char detail[64];
    const char *phase = st->phase ? st->phase : "";
    /* A new phase draws at once; counts within one wait for the throttle. */
    bool changed = !p->have_last || p->last.phase != st->phase;
    p->last = *st;
    p->have_last = true;
    if (strcmp(phase, "fetch") == 0 && st->to_fetch) {
        snprintf(detail, sizeof detail, "fetch, %lu requests", st->requests);
        set(p, st->fetched, st->to_fetch, detail, changed);
    } else {
        snprintf(detail, sizeof detail, "%s page %d, %lu requests", phase, st->page, st->requests);
        set(p, st->employees, st->expected > st->employees ? st->expected : 0, detail,
            changed);
    }
}

void progress_clear(struct progress *p)
{
    if (p && p->on && p->dirty) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    if (p)
        p->dirty = false;
}
