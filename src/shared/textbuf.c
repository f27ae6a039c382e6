/* textbuf.c - see textbuf.h. */
#include "shared/textbuf.h"

#include <stdlib.h>
#include <string.h>

bool textbuf_add(struct textbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return false;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return false;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return true;
}

char *textbuf_take(struct textbuf *b)
{
    char *p = b->oom ? NULL : b->p;
    if (!p)
        free(b->p);
    memset(b, 0, sizeof *b);
    return p;
}

void textbuf_free(struct textbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}
