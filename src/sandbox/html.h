/* html.h - a small growable string buffer for the sandbox's few non-JSON
 * responses: HTML pages (with escaping) and redirect URLs (with
 * percent-encoding).  Allocation failure is sticky: every later call is a
 * no-op and hbuf_take() returns NULL. */
#ifndef GUSTO_SANDBOX_HTML_H
#define GUSTO_SANDBOX_HTML_H

#include "shared/textbuf.h"

#include <stdbool.h>
#include <stddef.h>

/* An HTML text being built, on shared/textbuf.h's buffer. */
struct hbuf {
    struct textbuf t;
};

void hbuf_raw(struct hbuf *b, const char *s);        /* append as is */
void hbuf_esc(struct hbuf *b, const char *s);        /* HTML-escape & < > " ' */
void hbuf_url(struct hbuf *b, const char *s);        /* percent-encode all but unreserved */
void hbuf_fmt(struct hbuf *b, const char *fmt, ...)  /* append printf output as is */
    __attribute__((format(printf, 2, 3)));
char *hbuf_take(struct hbuf *b);                     /* malloc'd text (or NULL); resets b */
void hbuf_free(struct hbuf *b);

#endif
