/* input.c - reads a command's JSON input from a file or stdin, refuses
 * malformed JSON with its position, and masks secrets before echoing. */
#include "cli/input.h"
#include "shared/jsonerr.h"
#include "cli/output.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Far above any employee; Gusto refuses bodies over 1 MiB anyway. */
#define INPUT_MAX (16u << 20)

static int read_all(struct cli *cli, FILE *f, const char *name, char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return out_fail(cli, EXIT_GENERAL, "out_of_memory", "out of memory", NULL, NULL);
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= INPUT_MAX) {
                free(buf);
                char msg[200];
                snprintf(msg, sizeof msg, "%s is larger than %u MiB", name, INPUT_MAX >> 20);
                return out_fail(cli, EXIT_VALIDATION, "invalid_input", msg, "input", NULL);
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return out_fail(cli, EXIT_GENERAL, "out_of_memory", "out of memory", NULL,
                                NULL);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        char msg[300];
        snprintf(msg, sizeof msg, "cannot read %s: %s", name, strerror(e));
        return out_fail(cli, EXIT_GENERAL, "read_error", msg, "input", NULL);
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}

int in_read(struct cli *cli, const char *path, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    bool use_stdin = !path || strcmp(path, "-") == 0;
    if (use_stdin && cli->token_stdin)
        return out_usage(cli, "with --token-stdin, stdin carries the token: give the input "
                              "as --input FILE");
    if (!path && out_is_tty(0))
        return out_usage(cli, "no input: give --input FILE, or pipe JSON on stdin "
                              "(--input -)");
    if (use_stdin)
        return read_all(cli, stdin, "stdin", out, len);
    FILE *f = fopen(path, "rb");
    if (!f)
        return out_usage(cli, "--input %.200s: %s", path, strerror(errno));
    char name[256];
    snprintf(name, sizeof name, "%.240s", path);
    int rc = read_all(cli, f, name, out, len);
    fclose(f);
    return rc;
}

static const char *type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

json_t *in_parse(struct cli *cli, const char *text, size_t len, const char *what,
                 bool object, int *exit_code)
{
    char msg[400];
    *exit_code = 0;
    size_t i = 0;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    if (i == len) {
        snprintf(msg, sizeof msg, "%s is empty; expected a JSON %s", what,
                 object ? "object" : "value");
        *exit_code = out_fail(cli, EXIT_VALIDATION, "invalid_input", msg, what, NULL);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        char where[200];
        json_error_describe(&je, where, sizeof where);
        snprintf(msg, sizeof msg, "%s is not valid JSON: %s", what, where);
        *exit_code = out_fail(cli, EXIT_VALIDATION, "invalid_input", msg, what,
                              "check the JSON, e.g. with: jq . FILE");
        return NULL;
    }
    if (object && !json_is_object(j)) {
        snprintf(msg, sizeof msg, "%s must be a JSON object, not %s", what, type_name(j));
        json_decref(j);
        *exit_code = out_fail(cli, EXIT_VALIDATION, "invalid_input", msg, what,
                              "wrap the fields in { }, e.g. {\"first_name\": \"Ada\"}");
        return NULL;
    }
    return j;
}
