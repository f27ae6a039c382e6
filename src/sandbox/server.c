/* server.c - the HTTP side of the sandbox: libmicrohttpd callbacks, body
 * collection with a size cap, the request pipeline (faults, API version,
 * routing, auth, rate limit, scope, JSON, transaction, handler) and the
 * headers every Gusto response carries. */
#include "sandbox/sandbox.h"
#include "shared/jsonerr.h"
#include "shared/apiver.h"
#include "shared/pctdecode.h"

#include <microhttpd.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct ctx {
    struct request req;
    char *buf;
    size_t len, cap;
    size_t max_body;
    bool too_large;
    bool started;
    struct timespec t0;
};

/* Decode s in place as libmicrohttpd does a query argument: '+' is a space,
 * %XX a byte, a '%' without two hex digits stays as it is. */
static void unescape(char *s)
{
    pct_decode(s, strlen(s), s, strlen(s) + 1, 0);
}

/* Without a connection: split r->query once into qkeys/qvals (a key
 * without '=' has a NULL value, as with libmicrohttpd). */
static void parse_query(struct request *r)
{
    if (r->qbuf || !r->query)
        return;
    r->qbuf = strdup(r->query);
    for (char *p = r->qbuf; p && *p && r->nq < (int)(sizeof r->qkeys / sizeof r->qkeys[0]);) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = 0;
        char *eq = strchr(p, '=');
        if (eq)
            *eq = 0;
        unescape(p);
        if (eq)
            unescape(eq + 1);
        r->qkeys[r->nq] = p;
        r->qvals[r->nq++] = eq ? eq + 1 : NULL;
        p = amp ? amp + 1 : NULL;
    }
}

const char *req_query(struct request *r, const char *name)
{
    if (r->conn)
        return MHD_lookup_connection_value((struct MHD_Connection *)r->conn,
                                           MHD_GET_ARGUMENT_KIND, name);
    parse_query(r);
    for (int i = 0; i < r->nq; i++)
        if (strcmp(r->qkeys[i], name) == 0)
            return r->qvals[i];
    return NULL;
}

struct qcount {
    const char *key;
    int n;
};

static enum MHD_Result count_key(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    (void)value;
    struct qcount *q = cls;
    if (key && strcmp(key, q->key) == 0)
        q->n++;
    return MHD_YES;
}

int req_query_count(struct request *r, const char *name)
{
    struct qcount q = {name, 0};
    if (r->conn) {
        MHD_get_connection_values((struct MHD_Connection *)r->conn, MHD_GET_ARGUMENT_KIND,
                                  count_key, &q);
        return q.n;
    }
    parse_query(r);
    for (int i = 0; i < r->nq; i++)
        q.n += strcmp(r->qkeys[i], name) == 0;
    return q.n;
}

const char *req_header(struct request *r, const char *name)
{
    if (r->conn)
        return MHD_lookup_connection_value((struct MHD_Connection *)r->conn,
                                           MHD_HEADER_KIND, name);
    for (const char *const *h = r->headers; h && h[0] && h[1]; h += 2)
        if (strcasecmp(h[0], name) == 0)
            return h[1];
    return NULL;
}

void req_add_header(struct request *r, const char *name, const char *value)
{
    if (r->nextra >= (int)(sizeof r->extra_headers / sizeof r->extra_headers[0]))
        return;
    snprintf(r->extra_headers[r->nextra].name, sizeof r->extra_headers[0].name, "%s",
             name);
    snprintf(r->extra_headers[r->nextra].value, sizeof r->extra_headers[0].value, "%s",
             value);
    r->nextra++;
}

void request_release(struct request *r)
{
    db_release(r->db);
    json_decref(r->json);
    json_decref(r->reply);
    free(r->raw_reply);
    free(r->location);
    free(r->qbuf);
    r->db = NULL;
    r->json = r->reply = NULL;
    r->raw_reply = r->location = r->qbuf = NULL;
}

static void ctx_free(struct ctx *c)
{
    if (!c)
        return;
    request_release(&c->req);
    free(c->buf);
    free(c);
}

static bool body_allowed(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0;
}

bool req_version_ge(const struct request *r, const char *v)
{
    return strcmp(r->api_version, v) >= 0;
}

/* The version a request is served at, into r->api_version: its
 * X-Gusto-API-Version when Gusto serves that version on the sandbox's
 * today, the default without the header.  Otherwise a 406 with Gusto's
 * errors[] body (docs/sandbox.md, "API versions") and false. */
static bool choose_version(struct request *r)
{
    char today[11];
    today_ymd(today);
    const char *ver = req_header(r, "X-Gusto-API-Version");
    if (!ver) {
        const struct apiver *d = sb_cfg.default_version ? apiver_find(sb_cfg.default_version)
                                                        : apiver_newest_served(today);
        if (d && apiver_served(apiver_state(d, today))) {
            memcpy(r->api_version, d->version, sizeof r->api_version);
            return true;
        }
        /* --default-version named a version no longer served (or none is). */
        const struct apiver *o = apiver_oldest_served(today);
        reply_error(r, 406, "request", "invalid_api_version",
                    "Invalid API Version `%s`. Version must be >= your application's "
                    "minimum API version `%s` and not in the future.",
                    d ? d->version : "none", o ? o->version : "none");
        return false;
    }
    if (!valid_date(ver)) {
        reply_error(r, 406, "request", "invalid_api_version",
                    "Invalid API Version `%.40s`. Expected format: YYYY-MM-DD", ver);
        return false;
    }
    const struct apiver *v = apiver_find(ver);
    enum apiver_state st = apiver_state(v, today);
    if (apiver_served(st)) {
        memcpy(r->api_version, v->version, sizeof r->api_version);
        return true;
    }
    char accepted[256];
    apiver_accepted(today, accepted, sizeof accepted);
    const struct apiver *o = apiver_oldest_served(today);
    reply_error(r, 406, "request", "invalid_api_version",
                "Invalid API Version `%s`. Version must be >= your application's minimum "
                "API version `%s` and not in the future (%s; versions served on %s: %s).",
                ver, o ? o->version : "none",
                st == APIVER_RETIRED  ? "this version is retired"
                : st == APIVER_FUTURE ? "this version is in the future"
                                      : "no such version",
                today, accepted[0] ? accepted : "none");
    return false;
}

/* Run the request through the pipeline; the outcome is r->status/r->reply. */
void request_run(struct request *r, char *body, size_t len, bool too_large, size_t max_body)
{
    if (!choose_version(r))
        return;

    bool path_matched;
    const struct route *rt = route_find(r, &path_matched);
    /* An operation of Gusto's spec the sandbox does not serve: 501, before
     * the token (unemulated.c).  Anything else unrouted stays 404. */
    const struct spec_op *op = spec_unemulated(r->method, r->path, rt != NULL);
    if (op) {
        reply_unemulated(r, op);
        return;
    }
    if (!rt) {
        if (path_matched)
            reply_error(r, 404, "request", "not_found",
                        "No route matches %s %.200s", r->method, r->path);
        else
            reply_error(r, 404, "request", "not_found",
                        "No route matches %.200s", r->path);
        return;
    }

    r->db = db_acquire();
    if (!r->db) {
        reply_error(r, 500, "request", "internal_error", "An unexpected error has occurred.");
        return;
    }
    /* SB_PUBLIC routes (OAuth) take no bearer token and are not rate limited. */
    bool pub = rt->scope == SB_PUBLIC;
    const char *authz = req_header(r, "Authorization");
    if (!pub && auth_check(r, authz) != 0)
        return;
    if (!pub && !ratelimit_take(r)) {
        reply_error(r, 429, "base", "rate_limit_exceeded",
                    "Rate limit exceeded: %d requests per 60 seconds for this grant. "
                    "Retry after the time in Retry-After.", sb_cfg.rate_limit);
        return;
    }
    if (rt->scope && !pub && !auth_has_scope(r, rt->scope)) {
        reply_missing_scope(r, rt->scope);
        return;
    }
    if (too_large) {
        reply_error(r, 413, "request", "invalid_request",
                    "Request body is larger than %zu bytes.", max_body);
        return;
    }
    if (pub) {
        /* The handler parses its own body (form or JSON). */
        r->body_text = body;
        r->body_len = len;
    } else if (body_allowed(r->method) && !((rt->flags & RT_BODYLESS) && len == 0)) {
        if (len == 0) {
            reply_error(r, 400, "request", "invalid_request",
                        "Request body is empty; expected a JSON object.");
            return;
        }
        json_error_t jerr;
        r->json = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!r->json) {
            char where[200];
            json_error_describe(&jerr, where, sizeof where);
            reply_error(r, 400, "request", "invalid_request",
                        "Request body is not valid JSON: %s.", where);
            return;
        }
    }
    if ((rt->flags & RT_WRITE) && db_begin_write(r->db) != 0) {
        reply_error(r, 500, "request", "internal_error", "An unexpected error has occurred.");
        return;
    }
    /* A read runs in one transaction: one consistent snapshot, and one lock
     * round trip instead of one per statement. */
    bool read_tx = !(rt->flags & RT_WRITE) && !pub && db_begin_read(r->db) == 0;
    /* A write's webhook events leave once it has committed (h_webhooks.c). */
    if (rt->flags & RT_WRITE)
        webhook_hold();
    rt->fn(r);
    if (read_tx && db_commit_read(r->db) != 0)
        db_rollback(r->db);
    if (rt->flags & RT_WRITE) {
        bool committed = false;
        if (r->status >= 200 && r->status < 300) {
            if (db_commit(r->db) != 0) {
                db_rollback(r->db);
                reply_error(r, 500, "request", "internal_error",
                            "An unexpected error has occurred.");
            } else {
                committed = true;
            }
        } else {
            db_rollback(r->db);
        }
        webhook_release(committed);
    }
    /* A write the handler committed itself (OAuth) moves the database
     * generation before the answer leaves, so no cache outlives it. */
    db_settle(r->db);
}

/* One --log line: method, path, status (or what became of the request),
 * milliseconds.  The path only: queries may carry search terms, and no
 * header or body is ever logged, so tokens cannot leak here. */
static void log_line(struct ctx *c, const char *fate)
{
    if (!sb_cfg.log)
        return;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - c->t0.tv_sec) * 1e3 +
                (double)(t1.tv_nsec - c->t0.tv_nsec) / 1e6;
    if (fate)
        fprintf(stderr, "%s %s %d %s %.1fms\n", c->req.method, c->req.path, c->req.status,
                fate, ms);
    else
        fprintf(stderr, "%s %s %d %.1fms\n", c->req.method, c->req.path, c->req.status, ms);
}

static enum MHD_Result send_reply(struct ctx *c, struct MHD_Connection *conn)
{
    struct request *r = &c->req;
    char *text = NULL;
    size_t len = 0;
    if (r->raw_reply) {
        text = r->raw_reply;
        r->raw_reply = NULL;
        len = strlen(text);
    } else if (r->reply) {
        text = json_dumps(r->reply, JSON_COMPACT | JSON_PRESERVE_ORDER);
        len = text ? strlen(text) : 0;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, text ? text : (void *)"", text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    char rid[SB_UUID_LEN + 1];
    uuid_request_id(rid);
    MHD_add_response_header(resp, "x-request-id", rid);
    /* The version the request was served at; none on a 406 (or a fault
     * injected before the version was chosen): no version was respected. */
    if (r->api_version[0])
        MHD_add_response_header(resp, "X-Gusto-API-Version", r->api_version);
    if (text)
        MHD_add_response_header(resp, "Content-Type",
                                r->content_type ? r->content_type
                                                : "application/json; charset=utf-8");
    if (r->location)
        MHD_add_response_header(resp, "Location", r->location);
    for (int i = 0; i < r->nextra; i++)
        MHD_add_response_header(resp, r->extra_headers[i].name, r->extra_headers[i].value);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);

    log_line(c, NULL);
    return ret;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version,
                              const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct ctx *c = *con_cls;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &c->t0);
        c->req.method = method;
        c->req.path = url;
        c->req.conn = conn;
        *con_cls = c;
        bool refuse_now = false;
        /* People batches carry up to 10,000 persons; everything else is small. */
        size_t ul = strlen(url);
        c->max_body = ul >= 15 && strcmp(url + ul - 15, "/people_batches") == 0
                          ? SB_MAX_BATCH_BODY : SB_MAX_BODY;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "Content-Length");
        if (cl) {
            char *end = NULL;
            unsigned long long n = strtoull(cl, &end, 10);
            if (end && *end == 0 && n > c->max_body) {
                c->too_large = true;
                refuse_now = n > SB_DRAIN_MAX;
            }
        }
        /* Queue nothing on the first call: MHD would drop keep-alive.  A
         * body declared too large is drained (see SB_DRAIN_MAX) and then
         * refused; only an absurd one is refused now, unread (no 100
         * Continue), and MHD then closes the connection. */
        if (!refuse_now)
            return MHD_YES;
        c->started = true;
        request_run(&c->req, NULL, 0, true, c->max_body);
        if (!c->req.status)
            reply_error(&c->req, 500, "request", "internal_error",
                        "An unexpected error has occurred.");
        return send_reply(c, conn);
    }
    if (*upload_size) {
        if (!c->too_large && !c->started) {
            if (c->len + *upload_size > c->max_body) {
                c->too_large = true;
                free(c->buf);
                c->buf = NULL;
                c->len = c->cap = 0;
            } else {
                if (c->len + *upload_size + 1 > c->cap) {
                    size_t ncap = c->cap ? c->cap * 2 : 4096;
                    while (ncap < c->len + *upload_size + 1)
                        ncap *= 2;
                    char *nb = realloc(c->buf, ncap);
                    if (!nb)
                        return MHD_NO;
                    c->buf = nb;
                    c->cap = ncap;
                }
                memcpy(c->buf + c->len, upload, *upload_size);
                c->len += *upload_size;
                c->buf[c->len] = 0;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (c->started)
        return MHD_YES;
    c->started = true;

    int delay = 0;
    switch (fault_next(&delay)) {
    case FAULT_DROP:
        log_line(c, "dropped");
        return MHD_NO; /* MHD closes the connection without a response */
    case FAULT_LOST:
        /* it happened; the answer never arrives */
        request_run(&c->req, c->buf, c->len, c->too_large, c->max_body);
        log_line(c, "lost");
        return MHD_NO;
    case FAULT_DELAY: {
        struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        request_run(&c->req, c->buf, c->len, c->too_large, c->max_body);
        break;
    }
    case FAULT_500:
        reply_error(&c->req, 500, "request", "internal_error",
                    "An unexpected error has occurred.");
        break;
    case FAULT_429:
        req_add_header(&c->req, "Retry-After", "1");
        reply_error(&c->req, 429, "base", "rate_limit_exceeded",
                    "Rate limit exceeded (injected fault). Retry after 1 second.");
        break;
    case FAULT_NONE:
        request_run(&c->req, c->buf, c->len, c->too_large, c->max_body);
        break;
    }
    if (!c->req.status)
        reply_error(&c->req, 500, "request", "internal_error",
                    "An unexpected error has occurred.");
    return send_reply(c, conn);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    ctx_free(*con_cls);
    *con_cls = NULL;
}

/* libmicrohttpd's own messages, marked so they are not mistaken for
 * request lines.  Its note on a connection closed on purpose (a drop or
 * lost fault) is expected, so it is left out. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (!sb_cfg.log)
        return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (strstr(msg, "Application reported internal error"))
        return;
    fprintf(stderr, "mhd: %s%s", msg, strchr(msg, '\n') ? "" : "\n");
}

void *server_start(unsigned *port_out, char *err, size_t errlen)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)sb_cfg.port);
    if (inet_pton(AF_INET, sb_cfg.bind, &addr.sin_addr) != 1) {
        snprintf(err, errlen, "--bind: '%s' is not an IPv4 address", sb_cfg.bind);
        return NULL;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, answer, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, /* first, or MHD warns */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)2000,
        MHD_OPTION_END);
    if (!d) {
        snprintf(err, errlen, "cannot listen on %s:%u (in use, or not allowed)",
                 sb_cfg.bind, sb_cfg.port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port_out = info ? info->port : sb_cfg.port;
    return d;
}

void server_stop(void *daemon)
{
    if (daemon)
        MHD_stop_daemon(daemon);
}
