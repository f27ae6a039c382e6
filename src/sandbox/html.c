/* html.c - see html.h. */
#include "sandbox/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(struct hbuf *b, const char *s, size_t n)
{
    textbuf_add(&b->t, s, n);
}

void hbuf_raw(struct hbuf *b, const char *s)
{
    add(b, s, strlen(s));
}

void hbuf_esc(struct hbuf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        }
        if (rep)
            hbuf_raw(b, rep);
        else
            add(b, p, 1);
    }
}

void hbuf_url(struct hbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            add(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            add(b, e, 3);
        }
    }
}

void hbuf_fmt(struct hbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->t.oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    add(b, big, (size_t)n);
    free(big);
}

char *hbuf_take(struct hbuf *b)
{
    bool empty = !b->t.oom && !b->t.p;
    char *p = textbuf_take(&b->t);
    return p || !empty ? p : calloc(1, 1); /* nothing added: "" */
}

void hbuf_free(struct hbuf *b)
{
    textbuf_free(&b->t);
}
