/* textbuf.h - a growable, NUL-terminated text buffer whose first allocation
 * failure sticks (every later append is dropped and `oom` stays set), so a
 * writer checks once at the end instead of after every append.  One copy
 * for libgusto's JSON writer, the CLI's CSV writer and the sandbox's HTML. */
#ifndef GUSTO_TEXTBUF_H
#define GUSTO_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

struct textbuf {
    char *p;      /* the text, NUL-terminated once anything was added; NULL before */
    size_t n, cap;
    bool oom;     /* an append failed: the text is incomplete */
};

/* Append n bytes of s.  Returns false once the buffer is out of memory. */
bool textbuf_add(struct textbuf *b, const char *s, size_t n);

/* The text (malloc'd, the caller frees it), or NULL when an append failed
 * or nothing was added; either way b is empty again. */
char *textbuf_take(struct textbuf *b);

/* Release b's text; b is empty again. */
void textbuf_free(struct textbuf *b);

#endif
