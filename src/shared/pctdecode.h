/* pctdecode.h - hex digits and application/x-www-form-urlencoded decoding
 * ('+' a space, %XX a byte), one copy for libgusto, the CLI's OAuth
 * callback and the sandbox's query strings and form bodies. */
#ifndef GUSTO_PCTDECODE_H
#define GUSTO_PCTDECODE_H

#include <stddef.h>

/* The value of one hex digit, or -1. */
int hex_digit(char c);

/* Decoding rules, or-ed. */
#define PCT_STRICT 1u      /* a '%' without two hex digits, or %00, is an error;
                            * without it such a '%' stays as it is (libmicrohttpd) */
#define PCT_STOP_AT_NUL 2u /* a decoded NUL ends the value, as it ends a C string */

#define PCT_ERROR ((size_t)-1)

/* Decode s[0..n) into out (cap bytes, the NUL included; out may be s: the
 * text never grows).  Returns the decoded length, or PCT_ERROR when it does
 * not fit or (PCT_STRICT) is malformed; out is then "" when cap > 0. */
size_t pct_decode(const char *s, size_t n, char *out, size_t cap, unsigned flags);

#endif
