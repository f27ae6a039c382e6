/* jscan.h - libgusto's validating JSON-array scanner (jscan.c): the byte
 * span of each top-level element, without a tree. */
#ifndef GUSTO_JSCAN_H
#define GUSTO_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

struct jscan_item {
    size_t off, len;         /* the element is buf[off .. off+len) */
    bool canonical;          /* the bytes json_dumps(COMPACT|PRESERVE_ORDER) prints */
};

/* Scan buf (len bytes) as one JSON array.  Returns 0 with *items (malloc'd;
 * the caller frees it) and *n filled, or -1 with *items NULL and a message
 * in err when jansson's json_loadb(buf, len, 0) would fail or the text is
 * not an array.  Thread-safe; buf is not changed. */
int jscan_array(const char *buf, size_t len, struct jscan_item **items, size_t *n,
                char *err, size_t errlen);

#endif
