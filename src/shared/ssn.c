/* ssn.c - the SSN normaliser of ssn.h. */
#include "shared/ssn.h"

#include <ctype.h>
#include <string.h>

bool ssn_digits(const char *s, char out[10])
{
    if (!s)
        return false;
    size_t n = 0;
    size_t len = strlen(s);
    if (len == 11 && (s[3] != '-' || s[6] != '-'))
        return false;
    if (len != 9 && len != 11)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p == '-')
            continue;
        if (!isdigit((unsigned char)*p) || n == 9)
            return false;
        out[n++] = *p;
    }
    out[n] = 0;
    return n == 9;
}
