/* fuzz_jscan.c - libFuzzer harness: libgusto's JSON-array scanner (src/lib/jscan.c) against jansson, differentially: the same inputs accepted, every element's bytes parse to the element jansson built, and an element marked canonical is byte-for-byte what json_dumps prints (duplicate keys excepted). */
#include "lib/jscan.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const uint8_t *d, size_t n)
{
    fprintf(stderr, "fuzz_jscan: %s; input (%zu bytes): %.*s\n", what, n, (int)(n > 300 ? 300 : n),
            (const char *)d);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    const char *buf = (const char *)d;
    struct jscan_item *items = NULL;
    size_t count = 0;
    char err[80];
    int rc = jscan_array(buf, n, &items, &count, err, sizeof err);
    json_t *j = json_loadb(buf, n, 0, NULL);
    bool ok = j && json_is_array(j);
    if ((rc == 0) != ok)
        die(rc == 0 ? "jscan accepts what jansson refuses" : "jscan refuses what jansson accepts",
            d, n);
    if (ok && count != json_array_size(j))
        die("element counts differ", d, n);
    for (size_t i = 0; ok && i < count; i++) {
        json_t *e = json_array_get(j, i);
        json_t *x = json_loadb(buf + items[i].off, items[i].len, JSON_DECODE_ANY, NULL);
        if (!x || !json_equal(x, e))
            die("an element's bytes do not parse to the element", d, n);
        if (items[i].canonical) {
            char *t = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
            bool same = t && strlen(t) == items[i].len &&
                        memcmp(t, buf + items[i].off, items[i].len) == 0;
            free(t);
            if (!same) {
                /* Duplicate keys: the one difference jscan does not see. */
                json_t *strict = json_loadb(buf + items[i].off, items[i].len,
                                            JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
                if (strict)
                    die("a canonical element is not what json_dumps prints", d, n);
            }
        }
        json_decref(x);
    }
    json_decref(j);
    free(items);
    return 0;
}
