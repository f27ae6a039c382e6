/* listcursor.c - encodes and decodes list cursors and hashes their filters
 * (see listcursor.h). */
#include "shared/listcursor.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned long listcursor_hash(unsigned long h, const char *text)
{
    for (const char *c = text ? text : "-"; *c; c++)
        h = ((h ^ (unsigned char)*c) * 16777619u) & 0xffffffffu;
    return ((h ^ '|') * 16777619u) & 0xffffffffu;
}

char *listcursor_encode(char *buf, size_t size, unsigned long long offset, unsigned long hash)
{
    snprintf(buf, size, "v1.%llx.%lx", offset, hash);
    return buf;
}

int listcursor_decode(const char *s, unsigned long long max_offset, unsigned long long *offset,
                      unsigned long *hash)
{
    if (!s || strncmp(s, "v1.", 3) != 0)
        return -1;
    const char *p = s + 3;
    if (!isxdigit((unsigned char)*p))
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long off = strtoull(p, &end, 16);
    if (errno || end == p || *end != '.' || off > max_offset)
        return -1;
    const char *hs = end + 1;
    if (!isxdigit((unsigned char)*hs))
        return -1;
    errno = 0;
    unsigned long long h = strtoull(hs, &end, 16);
    if (errno || end == hs || *end != 0 || h > 0xffffffffull)
        return -1;
    *offset = off;
    *hash = (unsigned long)h;
    return 0;
}
