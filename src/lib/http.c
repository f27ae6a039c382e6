/* http.c - libgusto's transport: one kept-alive libcurl handle per client,
 * Gusto's headers, retries with exponential backoff and jitter, a
 * client-side rate limiter, and redacted tracing.
 *
 * Retry policy: GET, PUT and DELETE are retried on network errors, 429 and
 * 500/502/503/504.  POST and PATCH are retried only when the server surely
 * did not act: a 429 or a connection that never opened.  Anything else is
 * returned, and callers that created something resolve it by re-reading. */
#include "lib/internal.h"
#include "shared/jsonerr.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_BODY (64L * 1024 * 1024)
#define MAX_WAIT_S 60

void http_resp_free(struct http_resp *r)
{
    textbuf_free(&r->body);
    memset(r, 0, sizeof *r);
}

/* The body into resp->body, never past MAX_BODY: a hostile or broken
 * server cannot make the client hold more, whatever it announces. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct http_resp *r = ud;
    size_t len = size * n;
    if (len >= (size_t)MAX_BODY || r->body.n + len + 1 > (size_t)MAX_BODY) {
        r->too_big = true;
        return 0; /* aborts the transfer */
    }
    if (!textbuf_add(&r->body, p, len)) {
        r->no_memory = true;
        return 0; /* aborts the transfer */
    }
    return len;
}

static long header_long(const char *v, size_t n)
{
    char buf[32];
    while (n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, v, n);
    buf[n] = 0;
    char *end = NULL;
    errno = 0;
    long x = strtol(buf, &end, 10);
    if (errno || *end || x < 0)
        return -1;
    return x;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct http_resp *r = ud;
    size_t len = size * n;
    const char *colon = memchr(p, ':', len);
    if (!colon)
        return len;
    size_t klen = (size_t)(colon - p);
    const char *v = colon + 1;
    size_t vlen = len - klen - 1;
#define IS(name) (klen == sizeof(name) - 1 && strncasecmp(p, name, klen) == 0)
    if (IS("x-request-id")) {
        while (vlen && *v == ' ') {
            v++;
            vlen--;
        }
        while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
            vlen--;
        size_t k = 0;
        for (size_t i = 0; i < vlen && k < sizeof r->request_id - 1; i++)
            if (isprint((unsigned char)v[i]))
                r->request_id[k++] = v[i];
        r->request_id[k] = 0;
    } else if (IS("retry-after")) {
        r->retry_after = header_long(v, vlen);
    } else if (IS("x-ratelimit-remaining")) {
        r->rl_remaining = header_long(v, vlen);
    } else if (IS("x-total-pages")) {
        long t = header_long(v, vlen);
        r->total_pages = t > 0x7fffffff ? 0x7fffffff : (int)t;
    }
#undef IS
    return len;
}

/* Trace one header block with secrets blanked. */
static void trace_block(gusto_client *c, char dir, const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t m = n;
        while (m && (p[m - 1] == '\r'))
            m--;
        if (m) {
            char line[512];
            static const char *secret[] = {"authorization:", "cookie:", "set-cookie:",
                                           "proxy-authorization:"};
            bool hide = false;
            for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
                if (m >= strlen(secret[i]) && strncasecmp(p, secret[i], strlen(secret[i])) == 0)
                    hide = true;
            if (hide) {
                const char *colon = memchr(p, ':', m);
                snprintf(line, sizeof line, "%c %.*s: [REDACTED]", dir, (int)(colon - p), p);
            } else {
                snprintf(line, sizeof line, "%c %.*s", dir, (int)(m > 400 ? 400 : m), p);
            }
            c->trace(c->trace_ud, line);
        }
        p += n + 1;
    }
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)h;
    gusto_client *c = ud;
    if (!c->trace)
        return 0;
    if (type == CURLINFO_HEADER_OUT)
        trace_block(c, '>', data, size);
    else if (type == CURLINFO_HEADER_IN)
        trace_block(c, '<', data, size);
    return 0;
}

void http_trace_setup(gusto_client *c)
{
    curl_easy_setopt(c->curl, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(c->curl, CURLOPT_DEBUGDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_VERBOSE, c->trace ? 1L : 0L);
}

http_fake_fn http_fake;
void *http_fake_ud;

/* The test hook's response, fed through the callbacks libcurl would call. */
static CURLcode fake_perform(gusto_client *c, const char *method, const char *url,
                             const char *body, struct http_resp *resp)
{
    struct http_canned k = {0};
    if (!http_fake(http_fake_ud, method, url, body, &k))
        return CURLE_RECV_ERROR;
    const char *p = k.headers, *end = p ? p + k.headers_len : NULL;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        if (c->trace)
            trace_block(c, '<', p, n);
        on_header((char *)p, 1, n, resp);
        p += n;
    }
    for (size_t off = 0; off < k.body_len; off += 16384) {
        size_t n = k.body_len - off < 16384 ? k.body_len - off : 16384;
        if (on_body((char *)k.body + off, 1, n, resp) != n)
            return CURLE_WRITE_ERROR;
    }
    resp->status = k.status;
    return CURLE_OK;
}

static void sleep_ms(long ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static long now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec;
}

/* Block until one more request fits in the rolling 60-second window. */
static void limiter_take(gusto_client *c)
{
    if (c->rate_limit <= 0)
        return;
    for (;;) {
        long now = now_s();
        int used = 0;
        long oldest = now;
        for (int i = 0; i < RL_SLOTS; i++) {
            if (c->rl_sec[i] > now - RL_SLOTS && c->rl_count[i] > 0) {
                used += c->rl_count[i];
                if (c->rl_sec[i] < oldest)
                    oldest = c->rl_sec[i];
            }
        }
        if (used < c->rate_limit) {
            int slot = (int)(now % RL_SLOTS);
            if (c->rl_sec[slot] != now) {
                c->rl_sec[slot] = now;
                c->rl_count[slot] = 0;
            }
            c->rl_count[slot]++;
            return;
        }
        long wait = oldest + RL_SLOTS - now;
        if (c->trace) {
            char line[96];
            snprintf(line, sizeof line, "* client rate limit (%d/min): waiting %lds",
                     c->rate_limit, wait);
            c->trace(c->trace_ud, line);
        }
        if (c->on_wait)
            c->on_wait(c->wait_ud, (wait > 0 ? wait : 1) * 1000, 0);
        sleep_ms((wait > 0 ? wait : 1) * 1000);
    }
}

static unsigned long long next_rand(gusto_client *c)
{
    unsigned long long z = (c->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Exponential backoff with jitter: a random wait in [d/2, d] where
 * d = base * 2^attempt, capped at 8 s. */
static long backoff_ms(gusto_client *c, int attempt)
{
    long d = c->retry_base_ms;
    for (int i = 0; i < attempt && d < 8000; i++)
        d *= 2;
    if (d > 8000)
        d = 8000;
    return d / 2 + (long)(next_rand(c) % (unsigned long long)(d / 2 + 1));
}

/* Free the request's header list, wiping the one that holds the token. */
static void drop_headers(struct curl_slist **hdrs, char **auth)
{
    curl_slist_free_all(*hdrs);
    *hdrs = NULL;
    if (*auth) {
        volatile char *p = *auth;
        while (*p)
            *p++ = 0;
        free(*auth);
        *auth = NULL;
    }
}

static bool idempotent(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "DELETE") == 0 || strcmp(method, "HEAD") == 0;
}

/* The body of a POST goes to libcurl through this read callback, with no
 * seek callback, so libcurl cannot rewind it.  Otherwise, when a reused
 * keep-alive connection dies before the first byte of the answer, libcurl
 * sends the same POST again on a fresh connection by itself ("Connection
 * died, retrying a fresh connect"): a request the server carried out (its
 * answer lost) would be carried out twice.  With no rewind the transfer
 * fails instead (CURLE_SEND_FAIL_REWIND), and the caller decides, after
 * looking (post_once() in employees.c). */
struct body_reader {
    const char *p;
    size_t left;
};

static size_t read_body(char *buf, size_t size, size_t n, void *ud)
{
    struct body_reader *b = ud;
    size_t k = size * n < b->left ? size * n : b->left;
    memcpy(buf, b->p, k);
    b->p += k;
    b->left -= k;
    return k;
}

/* Append a header; false (the list unchanged) when memory ran out. */
static bool add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *n = curl_slist_append(*list, line);
    if (n)
        *list = n;
    return n != NULL;
}

static gusto_code send_request(gusto_client *c, const char *method, const char *url_or_path,
                               const char *body, bool auth_ok, struct http_resp *resp,
                               gusto_error *err);

gusto_code http_send(gusto_client *c, const char *method, const char *url_or_path,
                     const char *body, struct http_resp *resp, gusto_error *err)
{
    return send_request(c, method, url_or_path, body, true, resp, err);
}

gusto_code http_send_noauth(gusto_client *c, const char *method, const char *url_or_path,
                            const char *body, struct http_resp *resp, gusto_error *err)
{
    return send_request(c, method, url_or_path, body, false, resp, err);
}

static gusto_code send_request(gusto_client *c, const char *method, const char *url_or_path,
                               const char *body, bool auth_ok, struct http_resp *resp,
                               gusto_error *err)
{
    if (!url_or_path) /* a path whose allocation failed */
        return err_set(err, GUSTO_ENOMEM, "out of memory");
    char *url = url_or_path[0] == '/' ? xasprintf("%s%s", c->base_url, url_or_path)
                                      : xasprintf("%s", url_or_path);
    if (!url)
        return err_set(err, GUSTO_ENOMEM, "out of memory");
    CURL *h = c->curl;
    gusto_code rc = GUSTO_ENETWORK;
    struct curl_slist *hdrs = NULL;
    char *auth = NULL;
    bool refreshed = false;
    bool provided = auth_ok && c->cred.get;
    for (int attempt = 0;; attempt++) {
        /* A provider's token: fetched when there is none, and a minute
         * ahead of its expiry. */
        if (provided && (!c->token || (c->expires_at > 0 &&
                                        c->expires_at - 60 <= (long long)time(NULL))) &&
            (rc = cred_fetch(c, false, err)) != GUSTO_OK) {
            http_resp_free(resp); /* the call fails: no answer to hand back */
            break;
        }
        drop_headers(&hdrs, &auth);
        bool built = true;
        for (struct curl_slist *x = c->headers_base; x; x = x->next)
            built = built && add_header(&hdrs, x->data);
        if (body)
            built = built && add_header(&hdrs, "Content-Type: application/json");
        const char *token = auth_ok ? c->token : NULL;
        auth = token ? xasprintf("Authorization: Bearer %s", token) : NULL;
        built = built && (!token || (auth && add_header(&hdrs, auth)));
        if (!built) { /* a request without its headers is never sent */
            rc = err_set(err, GUSTO_ENOMEM, "out of memory building the request to %s; it "
                         "was not sent", url_or_path);
            break;
        }
        http_resp_free(resp);
        resp->retry_after = -1;
        resp->rl_remaining = -1;
        resp->total_pages = -1;
        limiter_take(c);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
        struct body_reader rd = {body ? body : "", body ? strlen(body) : 0};
        /* A POST without a body has nothing to rewind: only a connection
         * of its own keeps libcurl from sending it twice (see read_body). */
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT,
                         !idempotent(method) && rd.left == 0 ? 1L : 0L);
        if (strcmp(method, "GET") == 0) {
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
        } else if (!idempotent(method)) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
            curl_easy_setopt(h, CURLOPT_POST, 1L);
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, read_body);
            curl_easy_setopt(h, CURLOPT_READDATA, &rd);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rd.left);
        } else {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
        }
        if (c->trace) {
            char line[600];
            snprintf(line, sizeof line, "* %s %.500s%s", method, url,
                     attempt ? " (retry)" : "");
            c->trace(c->trace_ud, line);
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CURLcode cc = http_fake ? fake_perform(c, method, url, body, resp)
                                : curl_easy_perform(h);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        c->requests++;
        bool last = attempt >= c->max_retries;
        if (cc != CURLE_OK) {
            bool never_sent = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST;
            if (resp->too_big) {
                rc = err_set(err, GUSTO_EPROTOCOL,
                             "the response from %s was larger than %ld MiB; refusing it",
                             c->base_url, MAX_BODY >> 20);
                break;
            }
            if (resp->no_memory) { /* sent, and answered: not to be sent again */
                rc = err_set(err, GUSTO_ENOMEM, "%s %s: out of memory reading the answer",
                             method, url_or_path);
                break;
            }
            if (c->trace) {
                char line[256];
                snprintf(line, sizeof line, "* network error: %s", curl_easy_strerror(cc));
                c->trace(c->trace_ud, line);
            }
            if (!last && (never_sent || idempotent(method))) {
                sleep_ms(backoff_ms(c, attempt));
                continue;
            }
            rc = err_set(err, GUSTO_ENETWORK, "%s %s: %s", method, url_or_path,
                         curl_easy_strerror(cc));
            bool timed_out = cc == CURLE_OPERATION_TIMEDOUT;
            if (!idempotent(method) && !never_sent) {
                err_hint(err, "the request may have reached Gusto; read the resource back "
                              "before sending it again");
                err_reason(err, timed_out ? "timeout" : "outcome_unknown");
            } else {
                err_hint(err, timed_out ? "no answer from %s in time; try again, or allow "
                                          "more time"
                                        : "check the network and the base URL (%s)",
                         c->base_url);
                err_reason(err, timed_out ? "timeout" : "network");
            }
            break;
        }
        if (!http_fake)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        if (c->trace) {
            char line[160];
            long ms = (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
            snprintf(line, sizeof line, "* %ld in %ld ms, %zu bytes, request id %s",
                     resp->status, ms, resp->body.n,
                     resp->request_id[0] ? resp->request_id : "-");
            c->trace(c->trace_ud, line);
        }
        long s = resp->status;
        if (s == 401 && provided && c->cred.refused && !refreshed) {
            /* Revoked or expired early: a new token, once, and the request
             * again.  When none can be had, that is the error: "the refresh
             * token was revoked" says more than the 401 it answers. */
            refreshed = true;
            if ((rc = cred_fetch(c, true, err)) != GUSTO_OK) {
                http_resp_free(resp);
                break;
            }
            attempt--;
            continue;
        }
        bool retryable = s == 429 || ((s == 500 || s == 502 || s == 503 || s == 504) &&
                                      idempotent(method));
        if (retryable && !last) {
            long wait = backoff_ms(c, attempt);
            if (s == 429 && resp->retry_after >= 0)
                wait = (resp->retry_after > MAX_WAIT_S ? MAX_WAIT_S : resp->retry_after) *
                           1000L + (long)(next_rand(c) % 250);
            if (s == 429 && c->on_wait)
                c->on_wait(c->wait_ud, wait, 1);
            sleep_ms(wait);
            continue;
        }
        rc = GUSTO_OK;
        break;
    }
    drop_headers(&hdrs, &auth);
    free(url);
    return rc;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

gusto_code http_status_code(gusto_client *c, const struct http_resp *resp, gusto_error *err)
{
    long s = resp->status;
    if (s >= 200 && s < 300)
        return GUSTO_OK;
    gusto_code code;
    switch (s) {
    case 401: code = GUSTO_EAUTH; break;
    case 403: code = GUSTO_EFORBIDDEN; break;
    case 404: code = GUSTO_ENOTFOUND; break;
    case 409: code = GUSTO_ECONFLICT; break;
    case 422: code = GUSTO_EINVALID_DATA; break;
    case 429: code = GUSTO_ERATELIMIT; break;
    default: code = s >= 500 ? GUSTO_ESERVER : GUSTO_EHTTP;
    }
    if (!err)
        return code;
    err_clear(err);
    err->code = code;
    err->http_status = s;
    copy_str(err->request_id, sizeof err->request_id, resp->request_id);
    /* Gusto's body: {"errors":[{"error_key","category","message", "errors":[...]}]};
     * OAuth endpoints use {"error","error_description"}. */
    json_t *j = resp->body.p ? json_loads(resp->body.p, 0, NULL) : NULL;
    json_t *first = json_array_get(json_object_get(j, "errors"), 0);
    if (json_is_object(first)) {
        json_t *nested = json_array_get(json_object_get(first, "errors"), 0);
        json_t *e = json_is_object(nested) ? nested : first;
        copy_str(err->error_key, sizeof err->error_key,
                 json_string_value(json_object_get(e, "error_key")));
        copy_str(err->category, sizeof err->category,
                 json_string_value(json_object_get(e, "category")));
        const char *m = json_string_value(json_object_get(e, "message"));
        size_t n = json_array_size(json_object_get(j, "errors"));
        if (n > 1)
            snprintf(err->message, sizeof err->message, "%s (and %zu more)",
                     m ? m : "error", n - 1);
        else
            copy_str(err->message, sizeof err->message, m);
        if (err->error_key[0] && strcmp(err->error_key, "base") != 0 &&
            strcmp(err->error_key, "request") != 0)
            copy_str(err->field, sizeof err->field, err->error_key);
    } else if (json_is_string(json_object_get(j, "error"))) {
        copy_str(err->category, sizeof err->category,
                 json_string_value(json_object_get(j, "error")));
        copy_str(err->message, sizeof err->message,
                 json_string_value(json_object_get(j, "error_description")));
    }
    /* A missing scope: the entry of category missing_oauth_scopes, wherever
     * it stands, names it in metadata.missing_scope_name (the body Gusto's
     * CLI parses, src/lib/handle-api-error.ts; older answers lack it). */
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(j, "errors"), i, it) {
        const char *cat = json_string_value(json_object_get(it, "category"));
        if (!cat || strcmp(cat, "missing_oauth_scopes") != 0)
            continue;
        copy_str(err->category, sizeof err->category, cat);
        const char *name = json_string_value(
            json_object_get(json_object_get(it, "metadata"), "missing_scope_name"));
        const char *m = json_string_value(json_object_get(it, "message"));
        if (name && *name && strlen(name) < sizeof err->scope) {
            copy_str(err->scope, sizeof err->scope, name);
            snprintf(err->message, sizeof err->message, "the access token lacks the OAuth "
                     "scope %s%s%.400s", name, m ? ": " : "", m ? m : "");
        } else if (m) {
            copy_str(err->message, sizeof err->message, m);
        }
        break;
    }
    if (!err->message[0])
        snprintf(err->message, sizeof err->message, "HTTP %ld from %s", s, c->base_url);
    json_decref(j);

    switch (code) {
    case GUSTO_EAUTH:
        if (strcmp(c->env_name, "custom") == 0)
            err_hint(err, "the token was rejected by %s; check the token, or connect the "
                          "company again", c->base_url);
        else
            err_hint(err, "authentication failed against Gusto %s (%s). If this token was "
                          "issued for %s, use %s; otherwise refresh it or connect the company "
                          "again",
                     strcmp(c->env_name, "demo") == 0 ? "Demo" : "Production", c->base_url,
                     strcmp(c->env_name, "demo") == 0 ? "Production" : "Demo",
                     strcmp(c->env_name, "demo") == 0 ? GUSTO_PRODUCTION_URL : GUSTO_DEMO_URL);
        err_reason(err, "token_rejected");
        break;
    case GUSTO_EFORBIDDEN:
        if (err->scope[0])
            err_hint(err, "the token lacks the %s scope; reconnect with an app granted it",
                     err->scope);
        else
            err_hint(err, "the token lacks a scope this call needs; reconnect with an app "
                          "that has it");
        break;
    case GUSTO_ECONFLICT:
        err_hint(err, "someone changed this object since it was read (version conflict); "
                      "read it again and reapply your change");
        break;
    case GUSTO_ERATELIMIT:
        err_hint(err, "Gusto allows 200 requests per minute per grant; wait %lds and retry",
                 resp->retry_after >= 0 ? resp->retry_after : 60);
        break;
    case GUSTO_ESERVER:
        err_hint(err, "Gusto had a server error; retry later and quote request id %s",
                 resp->request_id[0] ? resp->request_id : "(none)");
        break;
    default:
        break;
    }
    return code;
}

json_t *json_load_text(const char *text, size_t len, size_t flags, json_error_t *je)
{
    json_t *j = json_loadb(text, len, flags, je);
    if (!j && !je->text[0]) { /* no message: only an allocation fails that way */
        je->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)json_error_out_of_memory;
        return NULL;
    }
    /* Parsed again, and compared: jansson 2.14's lexer drops a character
     * when an allocation fails (load.c: lex_save ignores the failure), so
     * a parse can succeed with a key or a value cut ("30.00" as "3.00"),
     * or fail as if the text were not JSON.  Two parses that agree did not
     * lose anything: the allocations that fail are never the same two. */
    json_error_t again;
    json_t *k = json_loadb(text, len, flags, &again);
    if (j && k && json_equal(j, k)) {
        json_decref(k);
        return j;
    }
    if (!j && !k && again.text[0] && strcmp(je->text, again.text) == 0 &&
        je->position == again.position)
        return NULL; /* the same syntax error twice: the text's own */
    json_decref(j);
    json_decref(k);
    memset(je, 0, sizeof *je);
    snprintf(je->text, sizeof je->text - 1, "out of memory");
    je->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)json_error_out_of_memory;
    return NULL;
}

gusto_code api_json(gusto_client *c, const char *method, const char *path,
                    const json_t *body, json_t **out, gusto_error *err)
{
    *out = NULL;
    char *text = body ? json_text(body) : NULL;
    if (body && !text)
        return err_set(err, GUSTO_ENOMEM, "out of memory");
    struct http_resp resp = {0};
    gusto_code rc = http_send(c, method, path, text, &resp, err);
    free(text);
    if (rc != GUSTO_OK) {
        http_resp_free(&resp);
        return rc;
    }
    rc = http_status_code(c, &resp, err);
    if (rc == GUSTO_OK && resp.body.n) {
        json_error_t je;
        *out = json_load_text(resp.body.p, resp.body.n, 0, &je);
        if (!*out && json_error_code(&je) == json_error_out_of_memory) {
            rc = err_set(err, GUSTO_ENOMEM, "out of memory reading the answer to %s %s",
                         method, path);
        } else if (!*out) {
            char where[200];
            json_error_describe(&je, where, sizeof where);
            rc = err_set(err, GUSTO_EPROTOCOL, "%s %s: the response is not valid JSON (%s)",
                         method, path, where);
            if (err)
                copy_str(err->request_id, sizeof err->request_id, resp.request_id);
        }
    }
    http_resp_free(&resp);
    return rc;
}
