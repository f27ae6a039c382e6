/* jsonerr.c - jansson's parse errors told by position and kind, never by
 * the input text they quote (see jsonerr.h). */
#include "shared/jsonerr.h"

#include <stdio.h>
#include <string.h>

void json_error_describe(const json_error_t *je, char *out, size_t cap)
{
    /* jansson's texts are "WHAT near 'INPUT'" or "WHAT near end of file";
     * a few others quote input too ("invalid Unicode escape '\u12'"), so
     * WHAT is kept only up to " near " and up to its first quote that is
     * not part of an expected token such as "'}' expected". */
    char what[160];
    snprintf(what, sizeof what, "%s", je->text);
    char *near = strstr(what, " near ");
    if (near)
        *near = 0;
    if (strncmp(what, "invalid Unicode", 15) == 0)
        snprintf(what, sizeof what, "invalid Unicode escape");
    else if (strncmp(what, "control character", 17) == 0)
        snprintf(what, sizeof what, "control character in a string");
    /* Anything else still holding a quote other than around one
     * punctuation character ("'}'") is dropped to its kind. */
    for (const char *q = strchr(what, '\''); q; q = strchr(q + 3, '\'')) {
        if (!(q[1] && q[2] == '\'' && strchr("{}[]:,", q[1]))) {
            snprintf(what, sizeof what, "%s", json_error_code(je) == json_error_duplicate_key
                                                  ? "duplicate object key"
                                                  : "invalid JSON");
            break;
        }
    }
    if (!what[0])
        snprintf(what, sizeof what, "invalid JSON");
    snprintf(out, cap, "line %d, column %d (byte %d): %s", je->line, je->column, je->position,
             what);
}
