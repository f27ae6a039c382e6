/* uuidtext.c - the UUID text check of uuidtext.h. */
#include "shared/uuidtext.h"

#include <ctype.h>
#include <string.h>

bool uuid_text_ok(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}
