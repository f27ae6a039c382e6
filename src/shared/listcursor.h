/* listcursor.h - the opaque cursor of a paged employee list, shared by
 * `gusto-connect employees list --cursor` and serve's list-employees:
 * "v1.<offset, hex>.<filters hash, hex>".  The hash (32-bit FNV-1a over each
 * filter's text and a '|') ties a cursor to the filters of its list, so a
 * cursor given with other filters is refused instead of skipping the wrong
 * employees.  No allocation, no state; safe from any thread. */
#ifndef GUSTO_SHARED_LISTCURSOR_H
#define GUSTO_SHARED_LISTCURSOR_H

#include <stddef.h>

/* The hash of no filters yet. */
#define LISTCURSOR_HASH_INIT 2166136261ul

/* h extended with one filter's text (NULL: the filter is absent, hashed as
 * "-").  serve hashes each filter's JSON text (json_dumps with
 * JSON_ENCODE_ANY): "\"ali\"", "true"; the CLI does the same, so one
 * cursor works in both. */
unsigned long listcursor_hash(unsigned long h, const char *text);

/* Write the cursor for offset and hash into buf (at least 40 bytes).
 * Returns buf. */
char *listcursor_encode(char *buf, size_t size, unsigned long long offset, unsigned long hash);

/* Read a cursor: 0 with *offset and *hash set, or -1 when s is not one
 * (or its offset is above max_offset). */
int listcursor_decode(const char *s, unsigned long long max_offset, unsigned long long *offset,
                      unsigned long *hash);

#endif
