/* callback.h - the OAuth redirect's query string (code, state, error), parsed by a pure function the redirect listener and fuzz/ share. */
#ifndef GUSTO_CLI_CALLBACK_H
#define GUSTO_CLI_CALLBACK_H

#include <stdbool.h>
#include <stddef.h>

/* What one redirect carried. */
struct callback_result {
    char code[512];          /* "" when absent or longer than 511 bytes */
    char error[128];         /* "" when absent; cut to 127 bytes; any byte outside
                                RFC 6749's error charset (0x20-0x7E but '"' and
                                '\\') shows as '?' */
    bool state_ok;           /* state was present and equals the one we sent */
};

/* Parse a raw query string (no leading '?'): '&'-separated name=value,
 * '+' as a space and %XX as a byte, as libmicrohttpd decodes them.  The
 * first occurrence of a name wins; a name without '=' has no value.
 * state_want is compared in constant time.  Never fails: a malformed query
 * just yields empty fields and state_ok false. */
void callback_parse(const char *query, const char *state_want, struct callback_result *out);

/* A query string rebuilt from decoded name/value pairs (for listeners that
 * only hand out decoded values): each pair percent-encoded, '&'-joined. */
struct callback_query {
    char *text;              /* malloc'd, NUL-terminated; NULL until the first add */
    size_t len, cap;
    bool oom;
};
void callback_query_add(struct callback_query *q, const char *name, const char *value);
void callback_query_free(struct callback_query *q);

#endif
