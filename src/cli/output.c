/* output.c - JSON envelopes, terminal tables and key-value blocks, error and
 * warning reports, and the map from library codes to exit statuses. */
#include "cli/output.h"
#include "cli/advice.h"
#include "cli/term.h"
#include "shared/didyoumean.h"
#include "sync/progress.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

bool out_is_tty(int fd)
{
    return isatty(fd) == 1;
}

int out_exit_code(gusto_code code, long http_status)
{
    switch (code) {
    case GUSTO_OK:
        return EXIT_OK;
    case GUSTO_EINVAL:
        return EXIT_VALIDATION;
    case GUSTO_EAUTH:
    case GUSTO_EFORBIDDEN:
        return EXIT_AUTH;
    case GUSTO_ENOTFOUND:
    case GUSTO_ECONFLICT:
    case GUSTO_EINVALID_DATA:
    case GUSTO_ERATELIMIT:
        return EXIT_API_CLIENT;
    case GUSTO_EHTTP:
        return http_status >= 500 ? EXIT_API_SERVER : EXIT_API_CLIENT;
    case GUSTO_ESERVER:
        return EXIT_API_SERVER;
    case GUSTO_ENETWORK:
    case GUSTO_EPROTOCOL:
        return EXIT_NETWORK;
    case GUSTO_EPARTIAL:
        return EXIT_PARTIAL;
    case GUSTO_EDUPLICATE:
        return EXIT_DUPLICATE;
    case GUSTO_ENOMEM:
    case GUSTO_ECANCELED:
        break;
    }
    return EXIT_GENERAL;
}

int out_error_exit(const gusto_error *err)
{
    /* A timeout stays GUSTO_ENETWORK in the library (nothing came back);
     * Gusto's CLI gives it a status of its own. */
    if (err->code == GUSTO_ENETWORK && strcmp(err->reason, "timeout") == 0)
        return EXIT_TIMEOUT;
    return out_exit_code(err->code, err->http_status);
}

const char *out_code_name(gusto_code code)
{
    return gusto_code_name(code);
}

void out_ok_text(const char *data, size_t len)
{
    while (len > 0 && strchr(" \t\r\n", data[len - 1]))
        len--;
    fputs("{\"ok\":true,\"data\":", stdout);
    if (data && len > 0)
        fwrite(data, 1, len, stdout);
    else
        fputs("null", stdout);
    fputs("}\n", stdout);
}

void out_ok_json(const json_t *data)
{
    fputs("{\"ok\":true,\"data\":", stdout);
    if (!data || json_dumpf(data, stdout, OUT_JSON_FLAGS | JSON_ENCODE_ANY) != 0)
        fputs("null", stdout);
    fputs("}\n", stdout);
}

/* A JSON string, or null for "" (the library's "unknown"). */
static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *error_object(const char *code, const char *message, long http_status,
                            const char *error_key, const char *category, const char *field,
                            const char *request_id, const char *hint, json_t *response,
                            json_t *problems, const char *extra_key, json_t *extra)
{
    json_t *details = json_object();
    json_object_set_new(details, "http_status",
                        http_status > 0 ? json_integer(http_status) : json_null());
    json_object_set_new(details, "error_key", str_or_null(error_key));
    json_object_set_new(details, "category", str_or_null(category));
    json_object_set_new(details, "field", str_or_null(field));
    if (response)
        json_object_set(details, "response", response);
    if (problems)
        json_object_set(details, "errors", problems);
    if (extra_key && extra)
        json_object_set(details, extra_key, extra);
    json_t *error = json_object();
    json_object_set_new(error, "code", json_string(code));
    /* json_string refuses invalid UTF-8; a message is never worth losing. */
    json_t *msg = json_string(message);
    json_object_set_new(error, "message", msg ? msg : json_string("(message not UTF-8)"));
    json_object_set_new(error, "details", details);
    json_object_set_new(error, "request_id", str_or_null(request_id));
    json_object_set_new(error, "hint", str_or_null(hint));
    return error;
}

static void print_envelope(const char *code, const char *message, long http_status,
                           const char *error_key, const char *category, const char *field,
                           const char *request_id, const char *hint, json_t *response,
                           json_t *problems, const char *extra_key, json_t *extra)
{
    json_t *env = json_object();
    json_object_set_new(env, "ok", json_false());
    json_object_set_new(env, "error", error_object(code, message, http_status, error_key,
                                                   category, field, request_id, hint,
                                                   response, problems, extra_key, extra));
    json_dumpf(env, stdout, OUT_JSON_FLAGS);
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(env);
}

static void print_readable(const char *message, const char *field, const char *hint,
                           const char *request_id)
{
    fputs("gusto-connect: error: ", stderr);
    out_text(stderr, message);
    fputc('\n', stderr);
    if (field && *field) {
        fputs("  field: ", stderr);
        out_text(stderr, field);
        fputc('\n', stderr);
    }
    if (hint && *hint) {
        fputs("  hint: ", stderr);
        out_text(stderr, hint);
        fputc('\n', stderr);
    }
    if (request_id && *request_id) {
        fputs("  request id: ", stderr);
        out_text(stderr, request_id);
        fputc('\n', stderr);
    }
}

/* On a terminal, list every error of a Gusto error body: a 422 reports each
 * bad field, and gusto_error holds only the first. */
static void print_response_errors(const json_t *body)
{
    const json_t *errors = json_object_get(body, "errors");
    if (!json_is_array(errors) || json_array_size(errors) < 2)
        return;
    size_t i;
    const json_t *e;
    json_array_foreach(errors, i, e) {
        const char *key = json_string_value(json_object_get(e, "error_key"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        fputs("  - ", stderr);
        if (key) {
            out_text(stderr, key);
            fputs(": ", stderr);
        }
        out_text(stderr, msg ? msg : "(no message)");
        fputc('\n', stderr);
    }
}

/* The hint to print: the CLI's advice for the library's reason (advice.c), or the
 * library's own hint; for a missing OAuth scope, the command that grants it. */
const char *out_hint(const gusto_error *err, char *buf, size_t cap)
{
    if (err->code != GUSTO_EFORBIDDEN || !err->scope[0]) {
        const char *a = cli_advice(err, buf, cap);
        return a ? a : err->hint;
    }
    snprintf(buf, cap, "the token lacks the OAuth scope %s: run gusto-connect connect again with an "
                       "app granted %s (gusto-connect status shows the scopes you have)",
             err->scope, err->scope);
    return buf;
}

int out_error(struct cli *cli, const gusto_error *err, const char *response)
{
    return out_error_extra(cli, err, response, NULL, NULL);
}

int out_error_extra(struct cli *cli, const gusto_error *err, const char *response,
                    const char *extra_key, json_t *extra)
{
    int rc = out_error_exit(err);
    const char *message = *err->message ? err->message : gusto_strerror(err->code);
    char hbuf[384];
    const char *hint = out_hint(err, hbuf, sizeof hbuf);
    json_t *body = NULL;
    if (response && *response)
        body = json_loads(response, JSON_DECODE_ANY, NULL);
    if (!body && response && *response)
        body = json_string(response);
    if (cli->json_out)
        print_envelope(*err->category ? err->category : out_code_name(err->code), message,
                       err->http_status, err->error_key, err->category, err->field,
                       err->request_id, hint, body, NULL, extra_key, extra);
    if (!cli->json_out || !cli->quiet) {
        print_readable(message, err->field, hint, err->request_id);
        if (json_is_object(body))
            print_response_errors(body);
    }
    json_decref(body);
    return rc;
}

int out_problems(struct cli *cli, const gusto_error *err, const char *problems_json)
{
    json_t *list = problems_json ? json_loads(problems_json, 0, NULL) : NULL;
    if (!json_is_array(list) || json_array_size(list) < 2) {
        json_decref(list);
        return out_error(cli, err, NULL);
    }
    if (cli->json_out)
        print_envelope(out_code_name(err->code), err->message, 0, NULL, NULL, err->field,
                       NULL, err->hint, NULL, list, NULL, NULL);
    if (!cli->json_out || !cli->quiet) {
        print_readable(err->message, err->field, err->hint, NULL);
        size_t i;
        const json_t *e;
        json_array_foreach(list, i, e) {
            fputs("  - ", stderr);
            out_text(stderr, json_string_value(json_object_get(e, "message")) ?: "?");
            fputc('\n', stderr);
        }
    }
    json_decref(list);
    return out_exit_code(err->code, 0);
}

int out_fail(struct cli *cli, int exit_code, const char *code, const char *message,
             const char *field, const char *hint)
{
    if (cli->json_out)
        print_envelope(code, message, 0, NULL, NULL, field, NULL, hint, NULL, NULL, NULL,
                       NULL);
    if (!cli->json_out || !cli->quiet)
        print_readable(message, field, hint, NULL);
    return exit_code;
}

int out_usage(struct cli *cli, const char *fmt, ...)
{
    char msg[512], hint[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(hint, sizeof hint, "run 'gusto-connect help%s%s' for usage",
             cli->command && *cli->command ? " " : "", cli->command ? cli->command : "");
    if (cli->json_out)
        print_envelope("usage", msg, 0, NULL, NULL, NULL, NULL, hint, NULL, NULL, NULL, NULL);
    /* A usage error is for a person even when stdout is piped. */
    fputs("gusto-connect: error: ", stderr);
    out_text(stderr, msg);
    fprintf(stderr, "\n%s\n", hint);
    return EXIT_USAGE;
}

void out_warn(struct cli *cli, const char *fmt, ...)
{
    if (cli->quiet)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs("gusto-connect: warning: ", stderr);
    out_text(stderr, msg);
    fputc('\n', stderr);
}

/* Decode one UTF-8 character at s.  Returns its length, or 0 when the bytes
 * are not valid UTF-8; *cp receives the code point. */
static size_t utf8_char(const unsigned char *s, unsigned long *cp)
{
    size_t n;
    unsigned long c = s[0], min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2, c &= 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, c &= 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, c &= 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

/* Write up to `max` characters of s (all when max < 0), sanitized.
 * Returns the number of characters written. */
static int write_clean(FILE *f, const char *s, int max)
{
    const unsigned char *p = (const unsigned char *)s;
    int cols = 0;
    while (*p && (max < 0 || cols < max)) {
        unsigned long cp;
        size_t n = utf8_char(p, &cp);
        if (n == 0 || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
            fputc('?', f);
            p += n ? n : 1;
        } else {
            fwrite(p, 1, n, f);
            p += n;
        }
        cols++;
    }
    return cols;
}

void out_text(FILE *f, const char *s)
{
    if (s)
        write_clean(f, s, -1);
}

void out_cell(FILE *f, const char *s, int width)
{
    term_cell(f, s, width);
}

void out_kv(const char *key, const char *value)
{
    if (!value || !*value)
        return;
    char label[32];
    snprintf(label, sizeof label, "%s:", key);
    out_cell(stdout, label, 16);
    out_text(stdout, value);
    fputc('\n', stdout);
}

const char *out_scalar(const json_t *v, char *buf, size_t size)
{
    if (!v)
        return NULL;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_INTEGER:
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    case JSON_REAL:
        snprintf(buf, size, "%.15g", json_real_value(v));
        return buf;
    case JSON_TRUE:
        return "yes";
    case JSON_FALSE:
        return "no";
    default:
        return NULL;
    }
}

int out_stream_error(struct cli *cli, const gusto_error *err)
{
    const char *message = *err->message ? err->message : gusto_strerror(err->code);
    char hbuf[384];
    const char *hint = out_hint(err, hbuf, sizeof hbuf);
    json_t *e = error_object(*err->category ? err->category : out_code_name(err->code),
                             message, err->http_status, err->error_key, err->category,
                             err->field, err->request_id, hint, NULL, NULL, NULL, NULL);
    /* The stream opened with {"data":[ and has no "ok" yet: one, last. */
    fputs("],\"ok\":false,\"error\":", stdout);
    json_dumpf(e, stdout, OUT_JSON_FLAGS);
    fputs("}\n", stdout);
    fflush(stdout);
    json_decref(e);
    if (!cli->quiet)
        print_readable(message, err->field, hint, err->request_id);
    return out_error_exit(err);
}

int out_columns(struct cli *cli, const struct table_col *all, size_t n,
                const struct table_col **sel, size_t *nsel)
{
    *nsel = 0;
    if (!cli->fields) {
        for (size_t i = 0; i < n && *nsel < TABLE_MAX_COLS; i++)
            if (!all[i].wide_only || cli->output == OUTPUT_WIDE)
                sel[(*nsel)++] = &all[i];
        return 0;
    }
    const char *p = cli->fields;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char word[64];
        snprintf(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), p);
        const struct table_col *hit = NULL;
        const char *keys[TABLE_MAX_COLS];
        for (size_t i = 0; i < n && i < TABLE_MAX_COLS; i++) {
            keys[i] = all[i].key;
            if (strcmp(all[i].key, word) == 0)
                hit = &all[i];
        }
        if (!hit || *nsel == TABLE_MAX_COLS) {
            char valid[512] = "";
            size_t vl = 0;
            for (size_t i = 0; i < n && vl < sizeof valid; i++) {
                int w = snprintf(valid + vl, sizeof valid - vl, "%s%s", i ? ", " : "",
                                 all[i].key);
                if (w < 0)
                    break;
                vl += (size_t)w;
            }
            long near = dym_closest(word, keys, n < TABLE_MAX_COLS ? n : TABLE_MAX_COLS);
            char dym[96] = "";
            if (near >= 0)
                snprintf(dym, sizeof dym, " (did you mean '%s'?)", keys[near]);
            return out_usage(cli, "--fields: unknown field '%.60s'%s; valid fields: %s", word,
                             dym, valid);
        }
        sel[(*nsel)++] = hit;
        if (!end)
            break;
        p = end + 1;
    }
    if (*nsel == 0)
        return out_usage(cli, "--fields is empty: give field names, comma-separated");
    return 0;
}

void cli_progress(struct cli *cli, struct progress *bar)
{
    cli->bar = bar;
}

void cli_on_wait(void *ud, long wait_ms, int server)
{
    struct cli *cli = ud;
    if (cli->bar)
        progress_wait(cli->bar, wait_ms, server);
}
