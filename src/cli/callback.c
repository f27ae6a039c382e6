/* callback.c - parses the OAuth redirect's query string for `gusto-connect connect` without any HTTP server, so it can be fuzzed. */
#include "cli/callback.h"
#include "shared/pctdecode.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Decode s[0..n) into out (cap bytes with the NUL).  Returns the decoded
 * length, or cap when it does not fit.  A decoded NUL ends the value, as it
 * ends libmicrohttpd's C strings. */
static size_t decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t r = pct_decode(s, n, out, cap, PCT_STOP_AT_NUL);
    return r == PCT_ERROR ? cap : r;
}

void callback_parse(const char *query, const char *state_want, struct callback_result *out)
{
    memset(out, 0, sizeof *out);
    bool seen_code = false, seen_state = false, seen_error = false;
    char state[256] = "";
    bool state_fits = false;
    const char *p = query ? query : "";
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', seg);
        char name[16];
        size_t klen = eq ? (size_t)(eq - p) : seg;
        if (eq && decode(p, klen, name, sizeof name) < sizeof name) {
            const char *v = eq + 1;
            size_t vlen = seg - klen - 1;
            if (!seen_code && strcmp(name, "code") == 0) {
                seen_code = true;
                if (decode(v, vlen, out->code, sizeof out->code) >= sizeof out->code)
                    out->code[0] = 0;
            } else if (!seen_state && strcmp(name, "state") == 0) {
                seen_state = true;
                state_fits = decode(v, vlen, state, sizeof state) < sizeof state;
            } else if (!seen_error && strcmp(name, "error") == 0) {
                seen_error = true;
                char raw[512];
                size_t n = decode(v, vlen, raw, sizeof raw);
                if (n >= sizeof raw)
                    n = sizeof raw - 1; /* cut: raw holds its first bytes */
                if (n > sizeof out->error - 1)
                    n = sizeof out->error - 1;
                for (size_t i = 0; i < n; i++) {
                    unsigned char ch = (unsigned char)raw[i];
                    out->error[i] = ch >= 0x20 && ch <= 0x7e && ch != '"' && ch != '\\'
                                        ? (char)ch : '?';
                }
                out->error[n] = 0;
            }
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    size_t want = state_want ? strlen(state_want) : 0;
    out->state_ok = seen_state && state_fits && want > 0 && strlen(state) == want &&
                    CRYPTO_memcmp(state, state_want, want) == 0;
    OPENSSL_cleanse(state, sizeof state);
}

static void put(struct callback_query *q, const char *s, size_t n)
{
    if (q->oom)
        return;
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 256;
        while (cap < q->len + n + 1)
            cap *= 2;
        char *nt = realloc(q->text, cap);
        if (!nt) {
            q->oom = true;
            return;
        }
        q->text = nt;
        q->cap = cap;
    }
    memcpy(q->text + q->len, s, n);
    q->len += n;
    q->text[q->len] = 0;
}

static void put_encoded(struct callback_query *q, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            put(q, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            put(q, e, 3);
        }
    }
}

void callback_query_add(struct callback_query *q, const char *name, const char *value)
{
    if (q->len)
        put(q, "&", 1);
    put_encoded(q, name ? name : "");
    if (value) {
        put(q, "=", 1);
        put_encoded(q, value);
    }
}

void callback_query_free(struct callback_query *q)
{
    if (q->text)
        OPENSSL_cleanse(q->text, q->cap);
    free(q->text);
    memset(q, 0, sizeof *q);
}
