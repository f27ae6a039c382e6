/* jsonerr.h - jansson's parse errors told without the input they quote:
 * jansson's error text ends in "near '<input>'", which would print
 * whatever was there (an SSN, a token) in an error message or a log.  One
 * helper for the library, the CLI (linked from libgusto.a) and the
 * sandbox. */
#ifndef GUSTO_JSONERR_H
#define GUSTO_JSONERR_H

#include <jansson.h>
#include <stddef.h>

/* Write "line L, column C (byte P): WHAT" into out (cap > 0; always
 * NUL-terminated, cut to fit), WHAT being what jansson expected or found
 * ("'}' expected", "invalid token", "duplicate object key", ...) without
 * any text of the input.  Thread safe. */
void json_error_describe(const json_error_t *je, char *out, size_t cap);

#endif
