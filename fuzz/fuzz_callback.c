/* fuzz_callback.c - libFuzzer harness: the query string `gusto-connect connect`'s redirect listener parses (code, state, error), with its invariants and an encode/parse round trip. */
#include "cli/callback.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char WANT[] = "00112233445566778899aabbccddeeff0011223344556677";

static void die(const char *what)
{
    fprintf(stderr, "fuzz_callback: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *q = malloc(size + 1);
    if (!q)
        return 0;
    memcpy(q, data, size);
    q[size] = 0;
    struct callback_result r;
    callback_parse(q, WANT, &r);
    if (!memchr(r.code, 0, sizeof r.code) || !memchr(r.error, 0, sizeof r.error))
        die("a field without its NUL");
    for (const char *p = r.error; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            die("an error character outside RFC 6749's set");
    }
    if (r.state_ok && !strstr(q, "state"))
        die("state accepted without a state parameter");

    /* Whatever was decoded survives encoding and parsing again. */
    struct callback_query b = {0};
    callback_query_add(&b, "code", r.code);
    callback_query_add(&b, "state", WANT);
    callback_query_add(&b, "error", r.error);
    if (b.oom) {
        callback_query_free(&b);
        free(q);
        return 0;
    }
    struct callback_result r2;
    callback_parse(b.text, WANT, &r2);
    if (strcmp(r.code, r2.code) != 0 || strcmp(r.error, r2.error) != 0 || !r2.state_ok)
        die("the round trip changed the result");
    callback_query_free(&b);
    free(q);
    return 0;
}
