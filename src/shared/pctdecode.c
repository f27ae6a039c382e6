/* pctdecode.c - see pctdecode.h. */
#include "shared/pctdecode.h"

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t pct_decode(const char *s, size_t n, char *out, size_t cap, unsigned flags)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int h1 = i + 1 < n ? hex_digit(s[i + 1]) : -1;
            int h2 = i + 2 < n ? hex_digit(s[i + 2]) : -1;
            if (h1 >= 0 && h2 >= 0) {
                c = (char)(h1 * 16 + h2);
                i += 2;
            } else if (flags & PCT_STRICT) {
                goto fail;
            }
        }
        if (c == 0 && (flags & PCT_STRICT))
            goto fail;
        if (c == 0 && (flags & PCT_STOP_AT_NUL))
            break;
        if (o + 1 >= cap)
            goto fail;
        out[o++] = c;
    }
    out[o] = 0;
    return o;
fail:
    if (cap)
        out[0] = 0;
    return PCT_ERROR;
}
