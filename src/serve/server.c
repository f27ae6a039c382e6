/* server.c - gusto-connect serve's HTTP side on libmicrohttpd: routing, API-key auth and grants decided from the headers before any body, bounded and idle-limited connections, the audit log (JSONL, masked), one escaped request-log line per call, /healthz and /metrics, configuration and a graceful shutdown that finishes the calls in flight. */
#include "serve/mcp_http.h"
#include "serve/mcp_jwt.h"
#include "serve/serve.h"
#include "shared/configdir.h"
#include "shared/jsonerr.h"
#include "sync/store.h"
#include "lib/sdb.h"

#include <errno.h>
#include <microhttpd.h>
#include <openssl/rand.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (1024 * 1024)
/* Connections: at most MAX_CONNS at once (fewer when RLIMIT_NOFILE is
 * lower).  A connection with no request in progress (headers still coming,
 * or kept alive between requests) is idle: at most MAX_IDLE of them, the
 * oldest is closed to make room for a new one, so idle sockets can never
 * lock callers out (/healthz included), and none stays idle for more than
 * IDLE_MAX_S whatever it trickles.  A request's body must arrive within
 * REQUEST_MAX_S. */
#define MAX_CONNS 2048
#define MAX_IDLE 1024
#define IDLE_MAX_S 30
#define REQUEST_MAX_S 60
/* The audit log: an action name is kept to 64 characters, and requests
 * without a valid API key are written at most AUDIT_ANON_PER_S a second
 * (the ones left out are counted in the next line written). */
#define AUDIT_NAME_MAX 64
#define AUDIT_ANON_PER_S 20

/* ---- configuration ---------------------------------------------------- */

static void copy_str(char *dst, size_t cap, const json_t *v)
{
    if (json_is_string(v))
        snprintf(dst, cap, "%s", json_string_value(v));
}

int serve_config_load(struct serve_config *c, const char *path, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    snprintf(c->bind, sizeof c->bind, "127.0.0.1");
    c->port = 8091;
    c->auto_verify = true;
    c->grace_ms = 20000;
    c->timeout_ms = 8000;
    c->mcp_max_age_s = 3600;
    c->queue_lease_ms = 300000;
    if (path) {
        json_error_t je;
        json_t *j = json_load_file(path, 0, &je);
        if (!json_is_object(j)) {
            /* jansson's text quotes the file, which may hold secrets. */
            char what[160];
            if (j)
                snprintf(what, sizeof what, "not a JSON object");
            else
                json_error_describe(&je, what, sizeof what);
            snprintf(err, errlen, "%s: %s", path, what);
            json_decref(j);
            return -1;
        }
        copy_str(c->bind, sizeof c->bind, json_object_get(j, "bind"));
        if (json_is_integer(json_object_get(j, "port")))
            c->port = (unsigned)json_integer_value(json_object_get(j, "port"));
        copy_str(c->db, sizeof c->db, json_object_get(j, "db"));
        copy_str(c->store, sizeof c->store, json_object_get(j, "store"));
        copy_str(c->audit_log, sizeof c->audit_log, json_object_get(j, "audit_log"));
        copy_str(c->webhook_token, sizeof c->webhook_token, json_object_get(j, "webhook_token"));
        copy_str(c->webhook_connection, sizeof c->webhook_connection,
                 json_object_get(j, "webhook_connection"));
        copy_str(c->mirror, sizeof c->mirror, json_object_get(j, "mirror"));
        copy_str(c->webhook_url, sizeof c->webhook_url, json_object_get(j, "webhook_url"));
        copy_str(c->client_id, sizeof c->client_id, json_object_get(j, "client_id"));
        copy_str(c->client_secret, sizeof c->client_secret,
                 json_object_get(j, "client_secret"));
        copy_str(c->gusto_base_url, sizeof c->gusto_base_url,
                 json_object_get(j, "gusto_base_url"));
        copy_str(c->api_version, sizeof c->api_version, json_object_get(j, "api_version"));
        if (json_is_boolean(json_object_get(j, "auto_verify")))
            c->auto_verify = json_is_true(json_object_get(j, "auto_verify"));
        if (json_is_integer(json_object_get(j, "shutdown_grace_ms")))
            c->grace_ms = (long)json_integer_value(json_object_get(j, "shutdown_grace_ms"));
        if (json_is_integer(json_object_get(j, "queue_lease_ms")))
            c->queue_lease_ms = (long)json_integer_value(json_object_get(j, "queue_lease_ms"));
        if (json_is_integer(json_object_get(j, "gusto_timeout_ms")))
            c->timeout_ms = (long)json_integer_value(json_object_get(j, "gusto_timeout_ms"));
        if (json_is_true(json_object_get(j, "quiet")))
            c->quiet = true;
        const json_t *mcp = json_object_get(j, "mcp");
        if (json_is_integer(json_object_get(mcp, "max_age_s")))
            c->mcp_max_age_s = (long)json_integer_value(json_object_get(mcp, "max_age_s"));
        c->mcp_allow_pay = json_is_true(json_object_get(mcp, "allow_pay"));
        const json_t *oidc = json_object_get(j, "oidc");
        copy_str(c->oidc_issuer, sizeof c->oidc_issuer, json_object_get(oidc, "issuer"));
        copy_str(c->oidc_audience, sizeof c->oidc_audience, json_object_get(oidc, "audience"));
        copy_str(c->oidc_jwks, sizeof c->oidc_jwks, json_object_get(oidc, "jwks"));
        json_decref(j);
    }
    const char *v;
    if ((v = getenv("GUSTO_SERVE_BIND")) && *v)
        snprintf(c->bind, sizeof c->bind, "%s", v);
    if ((v = getenv("GUSTO_SERVE_PORT")) && *v) {
        char *end;
        long p = strtol(v, &end, 10);
        if (*end || p < 0 || p > 65535) {
            snprintf(err, errlen, "GUSTO_SERVE_PORT '%.20s' is not a port", v);
            return -1;
        }
        c->port = (unsigned)p;
    }
    if ((v = getenv("GUSTO_SERVE_DB")) && *v)
        snprintf(c->db, sizeof c->db, "%s", v);
    if ((v = getenv("GUSTO_SERVE_QUEUE_LEASE_MS")) && *v) {
        char *end;
        errno = 0;
        long ms = strtol(v, &end, 10);
        if (*end || errno || ms < 100) {
            snprintf(err, errlen, "GUSTO_SERVE_QUEUE_LEASE_MS '%.20s' is not a number of "
                                  "milliseconds (100 or more)", v);
            return -1;
        }
        c->queue_lease_ms = ms;
    }
    if (c->queue_lease_ms < 100) {
        snprintf(err, errlen, "queue_lease_ms is under 100");
        return -1;
    }
    if ((v = getenv("GUSTO_SERVE_WEBHOOK_TOKEN")) && *v)
        snprintf(c->webhook_token, sizeof c->webhook_token, "%s", v);
    if ((v = getenv("GUSTO_SERVE_WEBHOOK_URL")) && *v)
        snprintf(c->webhook_url, sizeof c->webhook_url, "%s", v);
    if ((v = getenv("GUSTO_SERVE_CLIENT_ID")) && *v)
        snprintf(c->client_id, sizeof c->client_id, "%s", v);
    if ((v = getenv("GUSTO_SERVE_CLIENT_SECRET")) && *v)
        snprintf(c->client_secret, sizeof c->client_secret, "%s", v);
    if ((v = getenv("GUSTO_API_VERSION")) && *v)
        snprintf(c->api_version, sizeof c->api_version, "%s", v);
    if ((v = getenv("GUSTO_TODAY")) && *v)
        snprintf(c->today, sizeof c->today, "%s", v);
    if ((v = getenv("GUSTO_SERVE_MIRROR")) && *v)
        snprintf(c->mirror, sizeof c->mirror, "%s", v);
    if (!c->store[0] && (v = getenv("GUSTO_STORE")) && *v)
        snprintf(c->store, sizeof c->store, "%s", v);
    if (!c->db[0]) {
        const char *store = c->store[0] ? c->store : gusto_store_default_path();
        const char *slash = strrchr(store, '/');
        /* A store on PostgreSQL: serve's tables go into the same database
         * (one PostgreSQL for everything shared); a file: serve.db beside. */
        if (sdb_is_postgres(store))
            snprintf(c->db, sizeof c->db, "%s", store);
        else
            snprintf(c->db, sizeof c->db, "%.*sserve.db",
                     slash ? (int)(slash - store + 1) : 0, store);
    }
    if (serve_config_audit_default(c) != 0) {
        snprintf(err, errlen, "no room for the audit log's path");
        return -1;
    }
    return 0;
}

int serve_config_audit_default(struct serve_config *c)
{
    if (c->audit_log[0])
        return 0;
    if (sdb_is_postgres(c->db)) {
        /* The database is a URL: the audit log stays on this machine,
         * beside the connection store, or in our configuration directory
         * when the store is a URL too. */
        const char *store = c->store[0] ? c->store : gusto_store_default_path();
        const char *slash = store ? strrchr(store, '/') : NULL;
        if (sdb_is_postgres(store))
            config_file("gusto-connect", "serve.audit.jsonl", c->audit_log,
                        sizeof c->audit_log);
        else
            snprintf(c->audit_log, sizeof c->audit_log, "%.*sserve.audit.jsonl",
                     slash ? (int)(slash - store + 1) : 0, store ? store : "");
    } else {
        snprintf(c->audit_log, sizeof c->audit_log, "%.490s.audit.jsonl", c->db);
    }
    return 0;
}

void serve_client_options(const struct serve_config *c, gusto_options *o)
{
    o->api_version = c->api_version[0] ? c->api_version : NULL;
    o->today = c->today[0] ? c->today : NULL;
    o->timeout_ms = c->timeout_ms;
}

/* ---- metrics ---------------------------------------------------------- */

#define NBUCKETS 8
static const double BUCKETS[NBUCKETS] = {0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};

struct series {
    char route[48];
    int status;
    unsigned long count;
    double sum;
    unsigned long bucket[NBUCKETS];
};

static pthread_mutex_t mlock = PTHREAD_MUTEX_INITIALIZER;
static struct series series[96];
static int nseries;
static struct { char name[48]; unsigned long n; } errors_by[32];
static int nerrors;
static unsigned long waits, wait_ms_total, webhooks[4];
static long in_flight;
static time_t started;

void metrics_wait(long wait_ms)
{
    pthread_mutex_lock(&mlock);
    waits++;
    wait_ms_total += (unsigned long)(wait_ms > 0 ? wait_ms : 0);
    pthread_mutex_unlock(&mlock);
}

void metrics_error(const char *category)
{
    pthread_mutex_lock(&mlock);
    int i;
    for (i = 0; i < nerrors; i++)
        if (strcmp(errors_by[i].name, category) == 0)
            break;
    if (i == nerrors && nerrors < 32)
        snprintf(errors_by[nerrors++].name, sizeof errors_by[0].name, "%s", category);
    if (i < 32)
        errors_by[i].n++;
    pthread_mutex_unlock(&mlock);
}

static void metrics_request(const char *route, int status, double secs)
{
    pthread_mutex_lock(&mlock);
    int i;
    for (i = 0; i < nseries; i++)
        if (series[i].status == status && strcmp(series[i].route, route) == 0)
            break;
    if (i == nseries && nseries < 96) {
        snprintf(series[i].route, sizeof series[i].route, "%s", route);
        series[i].status = status;
        nseries++;
    }
    if (i < 96) {
        series[i].count++;
        series[i].sum += secs;
        for (int b = 0; b < NBUCKETS; b++)
            if (secs <= BUCKETS[b])
                series[i].bucket[b]++;
    }
    pthread_mutex_unlock(&mlock);
}

static char *metrics_text(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    pthread_mutex_lock(&mlock);
    fputs("# TYPE gusto_serve_requests_total counter\n", f);
    for (int i = 0; i < nseries; i++)
        fprintf(f, "gusto_serve_requests_total{route=\"%s\",status=\"%d\"} %lu\n",
                series[i].route, series[i].status, series[i].count);
    fputs("# TYPE gusto_serve_request_seconds histogram\n", f);
    for (int i = 0; i < nseries; i++) {
        for (int b = 0; b < NBUCKETS; b++)
            fprintf(f, "gusto_serve_request_seconds_bucket{route=\"%s\",status=\"%d\",le=\"%g\"} %lu\n",
                    series[i].route, series[i].status, BUCKETS[b], series[i].bucket[b]);
        fprintf(f, "gusto_serve_request_seconds_bucket{route=\"%s\",status=\"%d\",le=\"+Inf\"} %lu\n",
                series[i].route, series[i].status, series[i].count);
        fprintf(f, "gusto_serve_request_seconds_sum{route=\"%s\",status=\"%d\"} %.6f\n",
                series[i].route, series[i].status, series[i].sum);
        fprintf(f, "gusto_serve_request_seconds_count{route=\"%s\",status=\"%d\"} %lu\n",
                series[i].route, series[i].status, series[i].count);
    }
    fputs("# TYPE gusto_serve_errors_total counter\n", f);
    for (int i = 0; i < nerrors; i++)
        fprintf(f, "gusto_serve_errors_total{category=\"%s\"} %lu\n", errors_by[i].name,
                errors_by[i].n);
    fprintf(f, "# TYPE gusto_serve_rate_limit_waits_total counter\n"
               "gusto_serve_rate_limit_waits_total %lu\n"
               "# TYPE gusto_serve_rate_limit_wait_seconds_total counter\n"
               "gusto_serve_rate_limit_wait_seconds_total %.3f\n",
            waits, wait_ms_total / 1000.0);
    static const char *const WH[] = {"accepted", "duplicate", "bad_signature", "handshake"};
    fputs("# TYPE gusto_serve_webhooks_total counter\n", f);
    for (int i = 0; i < 4; i++)
        fprintf(f, "gusto_serve_webhooks_total{result=\"%s\"} %lu\n", WH[i], webhooks[i]);
    fprintf(f, "# TYPE gusto_serve_in_flight gauge\ngusto_serve_in_flight %ld\n", in_flight);
    pthread_mutex_unlock(&mlock);
    fclose(f);
    return buf;
}

/* ---- audit log -------------------------------------------------------- */

static pthread_mutex_t alock = PTHREAD_MUTEX_INITIALIZER;
static FILE *audit;

void audit_time(char *out, size_t cap)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char ymdhms[24];
    strftime(ymdhms, sizeof ymdhms, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%03ldZ", ymdhms, now.tv_nsec / 1000000);
}

static void audit_write(const char *rid, const char *caller, const char *action,
                        const char *connection, const struct action_ctx *x, int status,
                        const char *outcome, const json_t *input, double secs)
{
    char when[40];
    audit_time(when, sizeof when);
    json_t *line = json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:i, s:o, s:o, s:I}", "time", when,
        "request_id", rid,
        "caller", caller && *caller ? json_string(caller) : json_null(),
        "action", action ? json_stringn(action, strnlen(action, AUDIT_NAME_MAX))
                         : json_null(),
        "connection", connection ? json_string(connection) : json_null(),
        "employee_uuid", x && x->employee[0] ? json_string(x->employee) : json_null(),
        "outcome", outcome, "http_status", status,
        "error_code", x && x->error_code[0] ? json_string(x->error_code) : json_null(),
        "gusto_request_id", x && x->gusto_request_id[0] ? json_string(x->gusto_request_id)
                                                        : json_null(),
        "duration_ms", (json_int_t)(secs * 1000));
    if (input)
        json_object_set_new(line, "input", mask_json(input));
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    pthread_mutex_lock(&alock);
    if (audit && text) {
        fputs(text, audit);
        fputc('\n', audit);
        fflush(audit);
    }
    pthread_mutex_unlock(&alock);
    free(text);
}

/* Is there room in this second for an audit line of a request without a
 * valid API key?  *suppressed gets the ones left out since the last one. */
static bool audit_anon_slot(unsigned long *suppressed)
{
    static time_t second;
    static unsigned n;
    static unsigned long dropped;
    time_t now = time(NULL);
    bool ok;
    pthread_mutex_lock(&alock);
    if (now != second) {
        second = now;
        n = 0;
    }
    ok = n < AUDIT_ANON_PER_S;
    if (ok) {
        n++;
        *suppressed = dropped;
        dropped = 0;
    } else {
        dropped++;
    }
    pthread_mutex_unlock(&alock);
    return ok;
}

/* ---- connections: the idle ones are bounded ------------------------------ */

struct track {
    struct track *prev, *next;
    int fd;
    bool busy;                   /* a request is in progress */
    bool closing;                /* shut down by us */
    time_t idle_since;
};

static pthread_mutex_t tlock = PTHREAD_MUTEX_INITIALIZER;
static struct track *tracks;
static unsigned nidle;

/* Shut down the oldest idle connection (its thread then sees EOF and MHD
 * closes it).  The caller holds tlock; MHD tells us a connection closed
 * (on_connection) before it closes the fd, so fd is still this one's. */
static bool evict_oldest_idle(void)
{
    struct track *old = NULL;
    for (struct track *t = tracks; t; t = t->next)
        if (!t->busy && !t->closing && (!old || t->idle_since < old->idle_since))
            old = t;
    if (!old)
        return false;
    old->closing = true;
    nidle--;
    shutdown(old->fd, SHUT_RDWR);
    return true;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    pthread_mutex_lock(&tlock);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct track *t = ci ? calloc(1, sizeof *t) : NULL;
        if (t) {
            while (nidle >= MAX_IDLE && evict_oldest_idle())
                ;
            t->fd = ci->connect_fd;
            t->idle_since = time(NULL);
            t->next = tracks;
            if (tracks)
                tracks->prev = t;
            tracks = t;
            nidle++;
        }
        *socket_context = t;
    } else if (*socket_context) {
        struct track *t = *socket_context;
        if (!t->busy && !t->closing)
            nidle--;
        if (t->prev)
            t->prev->next = t->next;
        else
            tracks = t->next;
        if (t->next)
            t->next->prev = t->prev;
        free(t);
        *socket_context = NULL;
    }
    pthread_mutex_unlock(&tlock);
}

/* A request starts (busy) or ends (idle again, kept alive). */
static void track_busy(struct MHD_Connection *conn, bool busy)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    pthread_mutex_lock(&tlock);
    struct track *t = ci ? ci->socket_context : NULL;
    if (t && !t->closing && t->busy != busy) {
        t->busy = busy;
        t->idle_since = time(NULL);
        if (busy)
            nidle--;
        else
            nidle++;
    }
    pthread_mutex_unlock(&tlock);
}

/* Close every connection idle for more than IDLE_MAX_S (a slow trickle of
 * header bytes does not keep one for ever). */
static void reap_idle(void)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&tlock);
    for (struct track *t = tracks; t; t = t->next)
        if (!t->busy && !t->closing && now - t->idle_since > IDLE_MAX_S) {
            t->closing = true;
            nidle--;
            shutdown(t->fd, SHUT_RDWR);
        }
    pthread_mutex_unlock(&tlock);
}

/* ---- requests --------------------------------------------------------- */

static const struct serve_config *cfg;

struct req {
    char *body;
    size_t len;
    bool too_large;
    bool counted;
    bool answered;               /* a response was queued on the first call */
    struct timespec t0;
    char caller[128];            /* the API key's caller, checked on the first call */
    struct serve_key_limits lim; /* and its limits */
    bool authed;
};

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, int status, const char *ctype,
                                 char *text, const char *rid)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text,
                                                             MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", ctype);
    if (rid)
        MHD_add_response_header(r, "X-Request-Id", rid);
    if (status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"gusto-connect serve\"");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, int status, json_t *body,
                                 const char *rid)
{
    /* Whether sending the same request again may succeed: engines retry
     * 5xx and 429; every other error says false (docs/serve.md). */
    json_t *eo = json_object_get(body, "error");
    if (json_is_object(eo) && !json_object_get(eo, "retryable")) {
        const char *ec = json_string_value(json_object_get(eo, "code"));
        bool again = status >= 500 || status == 429 || status == 408 ||
                     (ec && strcmp(ec, "idempotency_key_in_progress") == 0);
        json_object_set_new(eo, "retryable", json_boolean(again));
    }
    if (rid && json_is_object(body))
        json_object_set_new(body, "request_id", json_string(rid));
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (!text)
        text = strdup("{\"ok\":false,\"error\":{\"code\":\"internal\"}}");
    size_t n = strlen(text);
    char *t2 = realloc(text, n + 2);
    if (t2) {
        t2[n] = '\n';
        t2[n + 1] = 0;
        text = t2;
    }
    return send_text(conn, status, "application/json", text, rid);
}

static json_t *err_env(const char *code, const char *message)
{
    return json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code", code, "message",
                     message);
}

/* in with every control byte, backslash and byte over 0x7e as \xHH (cut to
 * fit cap). */
static void log_escape(char *out, size_t cap, const char *in)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 5 < cap; p++) {
        if (*p < 0x20 || *p > 0x7e || *p == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p);
        else
            out[o++] = (char)*p;
    }
    out[o] = 0;
}

static void log_line(const char *rid, const char *method, const char *path, int status,
                     double secs, const char *caller, const char *extra)
{
    if (cfg->quiet)
        return;
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* Paths carry no secrets; headers, keys and bodies are never logged.
     * What a caller sent is escaped: it cannot start a line of its own. */
    char m[24], pa[810], ex[650];
    log_escape(m, sizeof m, method);
    log_escape(pa, sizeof pa, path);
    log_escape(ex, sizeof ex, extra ? extra : "");
    fprintf(stderr, "%s %s %s %.200s %d %.1fms caller=%s%s%s\n", ts, rid, m, pa, status,
            secs * 1000, caller && *caller ? caller : "-", extra ? " " : "", ex);
}

static bool oidc_on(void)
{
    return cfg->oidc_issuer[0] && cfg->oidc_audience[0] && cfg->oidc_jwks[0];
}

/* The caller of the request's API key, with its limits; at /mcp also an
 * ID token of the configured identity provider (bound to its email).  why
 * gets the reason a token was refused, for the audit log. */
static int authenticate(struct MHD_Connection *conn, struct req *q, const char *url,
                        char *why, size_t whycap)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    const char *key = NULL;
    if (h && strncasecmp(h, "Bearer ", 7) == 0)
        key = h + 7;
    if (!key)
        key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-API-Key");
    if (key && strcmp(url, "/mcp") == 0 && oidc_on() && mcp_jwt_looks_like(key)) {
        struct mcp_jwt_config jc = {cfg->oidc_issuer, cfg->oidc_audience, cfg->oidc_jwks};
        char email[330];
        if (mcp_jwt_verify(&jc, key, email, sizeof email, why, whycap) != 0)
            return false;
        memset(&q->lim, 0, sizeof q->lim);
        snprintf(q->lim.name, sizeof q->lim.name, "jwt:%.120s", email);
        snprintf(q->lim.employee, sizeof q->lim.employee, "%s", email);
        snprintf(q->caller, sizeof q->caller, "%s", q->lim.name);
        return true;
    }
    if (!key || !*key || strlen(key) > 200)
        return false;
    int rc = serve_key_check_limited(key, &q->lim);
    if (rc == -2)
        return -1;
    if (rc != 0)
        return false;
    snprintf(q->caller, sizeof q->caller, "%s", q->lim.name);
    return true;
}

struct conn_pick {
    char name[64];
    int n;
};

/* One action for a caller, from its parsed body on: the key's limits, the
 * body against the action's schema, the connection (the body's
 * "connection", else conn_hdr, else the key's one grant), its grant and
 * store entry, then the action.  Shared by POST /actions/{name} and MCP's
 * operator tools.  Returns the HTTP status with *reply (owned) and x's out
 * fields set; input loses its "connection". */
static int action_core(const char *name, json_t *input, const char *caller,
                       const struct serve_key_limits *lim, const char *conn_hdr,
                       const char *idem, struct action_ctx *x, char conn_name[64],
                       json_t **reply)
{
    x->cfg = cfg;
    x->caller = caller;
    /* A key bound to one employee runs no action: the actions answer for
     * the whole company (docs/mcp.md).  A key limited to named actions, or
     * to reading, runs only those. */
    if (lim->employee[0] || !serve_key_allows(lim, name, action_is_write(name, input))) {
        *reply = err_env("forbidden_action", lim->employee[0]
                                                 ? "this API key is bound to one employee: "
                                                   "use POST /mcp"
                                                 : "this API key may not run that action");
        snprintf(x->error_code, sizeof x->error_code, "forbidden_action");
        return 403;
    }
    /* The body against the action's published input_schema, before any
     * other decision: a refusal changes nothing and calls nobody. */
    json_t *refusal = NULL;
    if (!action_validate(name, input, &refusal)) {
        *reply = refusal;
        snprintf(x->error_code, sizeof x->error_code, "invalid_input");
        metrics_error("invalid_input");
        return 400;
    }
    const char *cn = json_string_value(json_object_get(input, "connection"));
    if (!cn)
        cn = conn_hdr;
    if (!cn || !*cn) {
        json_t *g = serve_key_grants(caller);
        if (json_array_size(g) == 1 &&
            strcmp(json_string_value(json_array_get(g, 0)), "*") != 0)
            snprintf(conn_name, 64, "%s", json_string_value(json_array_get(g, 0)));
        json_decref(g);
        if (!conn_name[0]) {
            *reply = err_env("connection_required",
                             "name the connection: a \"connection\" field or an "
                             "X-Gusto-Connection header");
            return 400;
        }
    } else {
        snprintf(conn_name, 64, "%.63s", cn);
    }
    if (!serve_key_granted(caller, conn_name)) {
        *reply = err_env("forbidden_connection", "this API key has no grant for that connection");
        return 403;
    }
    gusto_connection info;
    gusto_error ge;
    gusto_code gc = gusto_connection_get(cfg->store[0] ? cfg->store : NULL, conn_name, &info,
                                         &ge);
    if (gc == GUSTO_ENOTFOUND) {
        *reply = err_env("unknown_connection", "no stored connection by that name");
        return 404;
    }
    if (gc != GUSTO_OK) {
        *reply = err_env("store_unavailable", "the connection store cannot be read now; retry");
        return 503;
    }
    json_object_del(input, "connection");
    x->connection = conn_name;
    x->input = input;
    x->idempotency_key = idem;
    action_run(name, x);
    /* x->envelope stays set (the same reference, owned by *reply): it says
     * the action itself answered. */
    *reply = x->envelope ? x->envelope : err_env("internal", "no result");
    return x->http_status ? x->http_status : 500;
}

static enum MHD_Result do_action(struct MHD_Connection *conn, struct req *q, const char *name,
                                 const char *rid, const char *caller)
{
    struct action_ctx x = {.cfg = cfg, .caller = caller};
    json_t *input = NULL;
    const char *outcome = "error";
    char conn_name[64] = "";
    int status;
    json_t *reply;
    if (!action_known(name)) {
        status = 404;
        reply = err_env("unknown_action", "no such action; GET /actions lists them");
        goto done;
    }
    if (q->too_large) {
        status = 413;
        reply = err_env("too_large", "the request body is over 1 MB");
        goto done;
    }
    json_error_t je;
    input = q->len ? json_loadb(q->body, q->len, 0, &je) : json_object();
    if (!json_is_object(input)) {
        status = 400;
        reply = err_env("invalid_json", "the body must be a JSON object");
        goto done;
    }
    status = action_core(name, input, caller, &q->lim,
                         MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "X-Gusto-Connection"),
                         MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key"),
                         &x, conn_name, &reply);
    if (x.connection)
        outcome = status < 300 ? "ok" : status == 207 ? "partial" : "error";
done:
    {
        double secs = since(&q->t0);
        if (!x.error_code[0] && status >= 300) {
            const char *ec = json_string_value(
                json_object_get(json_object_get(reply, "error"), "code"));
            snprintf(x.error_code, sizeof x.error_code, "%s", ec ? ec : "error");
            if (!x.envelope)
                metrics_error(x.error_code);
        }
        char route[64];
        snprintf(route, sizeof route, "action:%s", action_known(name) ? name : "unknown");
        metrics_request(route, status, secs);
        audit_write(rid, caller, name, conn_name[0] ? conn_name : NULL, &x, status, outcome,
                    input, secs);
        char extra[160];
        snprintf(extra, sizeof extra, "action=%.60s connection=%.60s", name,
                 conn_name[0] ? conn_name : "-");
        log_line(rid, "POST", "/actions", status, secs, caller, extra);
    }
    json_decref(input);
    return send_json(conn, status, reply, rid);
}

/* ---- POST /mcp ----------------------------------------------------------- */

struct mcp_host {
    const char *rid;
    const struct serve_key_limits *lim;
};

/* A client of a stored connection of company: the first the caller's
 * grants name, else any ("*", or a key bound to an employee of it). */
struct pick_conn {
    const char *company;
    const struct serve_key_limits *lim;
    char name[64];
};

static int pick_each(void *ud, const gusto_connection *c)
{
    struct pick_conn *p = ud;
    if (strcmp(c->company_uuid, p->company) != 0)
        return 0;
    if (!p->lim->employee[0] && !serve_key_granted(p->lim->name, c->name))
        return 0;
    snprintf(p->name, sizeof p->name, "%s", c->name);
    return 1;
}

static gusto_client *mcp_client_for(void *ud, const char *company)
{
    const struct mcp_host *h = ud;
    struct pick_conn p = {.company = company, .lim = h->lim};
    gusto_error e;
    const char *store = cfg->store[0] ? cfg->store : NULL;
    gusto_connection_list(store, pick_each, &p, &e);
    if (!p.name[0])
        return NULL;
    gusto_options o = GUSTO_OPTIONS_INIT;
    serve_client_options(cfg, &o);
    return gusto_client_new_stored(&o, store, p.name, &e);
}

/* An operator tool: the action, as POST /actions/{name} would run it for
 * this key (its grants and limits), without the HTTP around it. */
static json_t *mcp_run_action(void *ud, const char *action, json_t *input, int *status)
{
    const struct mcp_host *h = ud;
    struct action_ctx x;
    memset(&x, 0, sizeof x);
    char conn_name[64] = "";
    json_t *reply = NULL;
    *status = action_core(action, input, h->lim->name, h->lim, NULL, NULL, &x, conn_name,
                          &reply);
    return reply;
}

static void mcp_audit(void *ud, const json_t *line)
{
    const struct mcp_host *h = ud;
    json_t *l = json_deep_copy(line);
    json_object_set_new(l, "request_id", json_string(h->rid));
    char *text = json_dumps(l, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(l);
    pthread_mutex_lock(&alock);
    if (audit && text) {
        fputs(text, audit);
        fputc('\n', audit);
        fflush(audit);
    }
    pthread_mutex_unlock(&alock);
    free(text);
}

/* Streamable HTTP (mcp_http.c): POST a message; GET has no stream here
 * (405, as the transport allows); DELETE ends the session. */
static enum MHD_Result do_mcp(struct MHD_Connection *conn, struct req *q, const char *method,
                              const char *rid)
{
    const char *sid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Mcp-Session-Id");
    struct mcp_caller who;
    memset(&who, 0, sizeof who);
    snprintf(who.name, sizeof who.name, "%s", q->caller);
    snprintf(who.employee, sizeof who.employee, "%s", q->lim.employee);
    who.operator_key = !q->lim.employee[0];
    snprintf(who.actions, sizeof who.actions, "%s", q->lim.actions);
    who.read_only = q->lim.read_only;
    who.writes = q->lim.mcp_writes;
    int status;
    struct MHD_Response *r;
    /* DNS rebinding: a browser page may not reach /mcp from another origin
     * (the transport's security warning); programs send no Origin. */
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    bool local = !origin || strncmp(origin, "http://127.0.0.1", 16) == 0 ||
                 strncmp(origin, "http://localhost", 16) == 0 ||
                 strncmp(origin, "http://[::1]", 12) == 0;
    if (local && origin) {
        const char *rest = origin + (origin[7] == '[' ? 12 : 16);
        local = *rest == 0 || *rest == ':';
    }
    if (!local) {
        status = 403;
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else if (strcmp(method, "POST") != 0) {
        bool del = strcmp(method, "DELETE") == 0;
        status = del ? mcp_http_delete(&who, sid) : 405;
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (status == 405)
            MHD_add_response_header(r, "Allow", "POST, DELETE");
    } else if (q->too_large) {
        status = 413;
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        char target[1024] = "", err[600];
        /* serve's mirror, else where `gusto-connect profile` looks. */
        mstore_target(cfg->mirror[0] ? cfg->mirror : NULL, false, target, sizeof target, err,
                      sizeof err);
        struct mcp_host h = {.rid = rid, .lim = &q->lim};
        struct mcp_config mc = {.mirror = target[0] ? target : NULL,
                                .max_age_s = cfg->mcp_max_age_s,
                                .allow_pay = cfg->mcp_allow_pay,
                                .client_for = mcp_client_for,
                                .run_action = mcp_run_action,
                                .audit = mcp_audit,
                                .ud = &h};
        struct mcp_http_request rq = {
            .body = q->body, .len = q->len,
            .accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept"),
            .session_id = sid,
            .protocol_version =
                MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "MCP-Protocol-Version")};
        struct mcp_http_answer a;
        mcp_http_post(&mc, &who, &rq, &a);
        status = a.status;
        char *text = a.body ? json_dumps(a.body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(a.body);
        if (text && a.sse) {
            size_t n = strlen(text) + 32;
            char *ev = malloc(n);
            if (ev)
                snprintf(ev, n, "event: message\ndata: %s\n\n", text);
            free(text);
            text = ev;
        }
        r = text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE)
                 : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (text)
            MHD_add_response_header(r, "Content-Type",
                                    a.sse ? "text/event-stream" : "application/json");
        if (a.session_id[0])
            MHD_add_response_header(r, "Mcp-Session-Id", a.session_id);
    }
    MHD_add_response_header(r, "X-Request-Id", rid);
    double secs = since(&q->t0);
    metrics_request("mcp", status, secs);
    log_line(rid, method, "/mcp", status, secs, q->caller, NULL);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The company uuids of the caller's granted connections (a JSON array),
 * or NULL for a key granted "*" (every company). */
static json_t *granted_companies(const char *caller)
{
    json_t *grants = serve_key_grants(caller), *out = json_array();
    size_t i;
    json_t *g;
    json_array_foreach(grants, i, g) {
        const char *name = json_string_value(g);
        if (strcmp(name, "*") == 0) {
            json_decref(out);
            out = NULL;
            break;
        }
        gusto_connection info;
        gusto_error e;
        if (gusto_connection_get(cfg->store[0] ? cfg->store : NULL, name, &info, &e) ==
            GUSTO_OK)
            json_array_append_new(out, json_string(info.company_uuid));
    }
    json_decref(grants);
    return out;
}

static void new_rid(char rid[40])
{
    unsigned char rnd[12];
    RAND_bytes(rnd, sizeof rnd);
    memcpy(rid, "req_", 4);
    for (int i = 0; i < 12; i++)
        snprintf(rid + 4 + 2 * i, 3, "%02x", rnd[i]);
}

struct hdr_count {
    int content_length, transfer_encoding;
    char first_cl[32];
    bool cl_differ;
};

static enum MHD_Result count_hdr(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    struct hdr_count *h = cls;
    if (strcasecmp(key, "Content-Length") == 0) {
        if (h->content_length++ == 0)
            snprintf(h->first_cl, sizeof h->first_cl, "%.31s", value ? value : "");
        else if (!value || strcmp(value, h->first_cl) != 0)
            h->cl_differ = true;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        h->transfer_encoding++;
    }
    return MHD_YES;
}

/* Queue an answer on the first call, before the body: the rest of the
 * body is then not read, and the connection closes after the answer. */
static enum MHD_Result answer_now(struct MHD_Connection *conn, struct req *q, int status,
                                  const char *route, json_t *reply, const char *method,
                                  const char *url)
{
    char rid[40];
    new_rid(rid);
    q->answered = true;
    double secs = since(&q->t0);
    metrics_request(route, status, secs);
    log_line(rid, method, url, status, secs, NULL, NULL);
    return send_json(conn, status, reply, rid);
}

/* 401 at /mcp, as MCP's authorization spec has it: WWW-Authenticate names
 * the protected resource's metadata (RFC 9728) when an identity provider is
 * configured.  Nothing else is said. */
static enum MHD_Result mcp_unauthorized(struct MHD_Connection *conn, const char *rid)
{
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    char hdr[700];
    if (oidc_on() && host && strlen(host) < 200 && !strpbrk(host, "\"\r\n\\ "))
        snprintf(hdr, sizeof hdr,
                 "Bearer realm=\"gusto-connect serve\", error=\"invalid_token\", "
                 "resource_metadata=\"http://%s/.well-known/oauth-protected-resource\"",
                 host);
    else
        snprintf(hdr, sizeof hdr, "Bearer realm=\"gusto-connect serve\"");
    char *text = strdup("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32001,"
                        "\"message\":\"Unauthorized\"}}\n");
    struct MHD_Response *r = MHD_create_response_from_buffer(text ? strlen(text) : 0,
                                                             text ? text : (char *)"",
                                                             text ? MHD_RESPMEM_MUST_FREE
                                                                  : MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "WWW-Authenticate", hdr);
    MHD_add_response_header(r, "X-Request-Id", rid);
    enum MHD_Result ret = MHD_queue_response(conn, 401, r);
    MHD_destroy_response(r);
    return ret;
}

/* The first call of a request, with its headers only: framing that
 * could smuggle a second request (two Content-Lengths that disagree,
 * Content-Length with Transfer-Encoding) is 400, an unknown endpoint 404,
 * a body announced over 1 MB 413, and an endpoint that needs an API key
 * without a valid one 401, all before the body is read. */
static enum MHD_Result early_answer(struct MHD_Connection *conn, struct req *q,
                                    const char *url, const char *method)
{
    struct hdr_count h = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_hdr, &h);
    if (h.cl_differ || (h.content_length && h.transfer_encoding) || h.transfer_encoding > 1)
        return answer_now(conn, q, 400, "bad_request",
                          err_env("bad_framing",
                                  "the request's length is ambiguous: send one "
                                  "Content-Length, or Transfer-Encoding alone"),
                          method, url);
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (get && (strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0 ||
                (oidc_on() && strcmp(url, "/.well-known/oauth-protected-resource") == 0)))
        return MHD_YES;
    if (h.content_length && strtoull(h.first_cl, NULL, 10) > MAX_BODY)
        return answer_now(conn, q, 413, "too_large",
                          err_env("too_large", "the request body is over 1 MB"), method, url);
    if (post && strcmp(url, "/webhooks/gusto") == 0)
        return MHD_YES;          /* signed, not keyed: checked once the body is in */
    bool known = (get && (strcmp(url, "/actions") == 0 || strcmp(url, "/webhooks/queue") == 0)) ||
                 (post && strncmp(url, "/actions/", 9) == 0) || strcmp(url, "/mcp") == 0;
    if (!known)
        return answer_now(conn, q, 404, "other", err_env("not_found", "no such endpoint"),
                          method, url);
    char why[200] = "";
    int auth = authenticate(conn, q, url, why, sizeof why);
    q->authed = auth == 1;
    if (q->authed)
        return MHD_YES;
    if (auth < 0) {
        /* The key could not be looked up (PostgreSQL unreachable, say):
         * not the caller's fault, and worth a retry. */
        fprintf(stderr, "gusto-connect serve: %s\n", serve_db_error());
        metrics_error("db_unavailable");
        return answer_now(conn, q, 503, "db_unavailable",
                          err_env("db_unavailable", "serve's database cannot be reached now; "
                                                    "retry"),
                          method, url);
    }
    char rid[40];
    new_rid(rid);
    q->answered = true;
    double secs = since(&q->t0);
    metrics_request("unauthorized", 401, secs);
    metrics_error("unauthorized");
    unsigned long suppressed = 0;
    if (audit_anon_slot(&suppressed)) {
        struct action_ctx x = {.cfg = cfg};
        if (suppressed)
            snprintf(x.error_code, sizeof x.error_code, "unauthorized (+%lu not logged)",
                     suppressed);
        else if (why[0])
            snprintf(x.error_code, sizeof x.error_code, "invalid_token: %.30s", why);
        audit_write(rid, NULL, strncmp(url, "/actions/", 9) == 0 ? url + 9 : NULL, NULL,
                    suppressed || why[0] ? &x : NULL, 401, "unauthorized", NULL, secs);
    }
    log_line(rid, method, url, 401, secs, NULL, NULL);
    if (strcmp(url, "/mcp") == 0)
        return mcp_unauthorized(conn, rid);
    return send_json(conn, 401,
                     err_env("unauthorized", "a valid API key is required: "
                                             "Authorization: Bearer KEY or X-API-Key"),
                     rid);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct req *q = *con_cls;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &q->t0);
        pthread_mutex_lock(&mlock);
        in_flight++;
        pthread_mutex_unlock(&mlock);
        q->counted = true;
        *con_cls = q;
        track_busy(conn, true);
        /* Decided from the headers alone, before any body is read. */
        return early_answer(conn, q, url, method);
    }
    if (q->answered) {
        *upload_size = 0;        /* answered already; the body is not kept */
        return MHD_YES;
    }
    if (*upload_size) {
        if (since(&q->t0) > REQUEST_MAX_S)
            return MHD_NO;       /* a trickled body: close the connection */
        if (q->len + *upload_size > MAX_BODY) {
            q->too_large = true;
        } else {
            char *nb = realloc(q->body, q->len + *upload_size + 1);
            if (!nb)
                return MHD_NO;
            q->body = nb;
            memcpy(q->body + q->len, upload, *upload_size);
            q->len += *upload_size;
            q->body[q->len] = 0;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    char rid[40];
    new_rid(rid);

    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (get && strcmp(url, "/healthz") == 0) {
        pthread_mutex_lock(&mlock);
        long n = in_flight;
        pthread_mutex_unlock(&mlock);
        metrics_request("healthz", 200, since(&q->t0));
        return send_json(conn, 200,
                         json_pack("{s:b, s:s, s:I, s:I}", "ok", 1, "status", "ok", "in_flight",
                                   (json_int_t)n, "uptime_s",
                                   (json_int_t)(time(NULL) - started)),
                         rid);
    }
    if (get && strcmp(url, "/.well-known/oauth-protected-resource") == 0) {
        /* RFC 9728: where MCP clients learn which identity provider signs
         * the tokens /mcp takes. */
        const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
        char res[300];
        snprintf(res, sizeof res, "http://%.200s/mcp", host ? host : "127.0.0.1");
        metrics_request("oauth_metadata", 200, since(&q->t0));
        return send_json(conn, 200,
                         json_pack("{s:s, s:[s], s:[s], s:s}", "resource", res,
                                   "authorization_servers", cfg->oidc_issuer,
                                   "bearer_methods_supported", "header", "resource_name",
                                   "gusto-connect"),
                         rid);
    }
    if (get && strcmp(url, "/metrics") == 0) {
        metrics_request("metrics", 200, since(&q->t0));
        char *m = metrics_text();
        return send_text(conn, 200, "text/plain; version=0.0.4", m ? m : strdup(""), rid);
    }
    if (post && strcmp(url, "/webhooks/gusto") == 0) {
        json_t *reply = NULL;
        /* X-Gusto-Signature (embedded-payroll/docs/webhooks); the
         * app-integrations guide spells it x_gusto_signature. */
        const char *sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                      "X-Gusto-Signature");
        if (!sig)
            sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X_Gusto_Signature");
        int st = q->too_large ? 413 : webhook_receive(cfg, q->body ? q->body : "", q->len, sig,
                                                      &reply);
        if (!reply)
            reply = err_env("too_large", "the request body is over 1 MB");
        pthread_mutex_lock(&mlock);
        const char *res = json_string_value(json_object_get(reply, "result"));
        if (res) {
            int k = strcmp(res, "accepted") == 0        ? 0
                    : strcmp(res, "duplicate") == 0     ? 1
                    : strcmp(res, "bad_signature") == 0 ? 2
                    : strcmp(res, "handshake") == 0     ? 3
                                                         : -1;
            if (k >= 0)
                webhooks[k]++;
        }
        pthread_mutex_unlock(&mlock);
        double secs = since(&q->t0);
        metrics_request("webhook", st, secs);
        char extra[96];
        snprintf(extra, sizeof extra, "webhook=%s", res ? res : "error");
        log_line(rid, method, url, st, secs, "gusto", extra);
        return send_json(conn, st, reply, rid);
    }
    const char *caller = q->caller;
    if (strcmp(url, "/mcp") == 0)
        return do_mcp(conn, q, method, rid);
    if (get && strcmp(url, "/webhooks/queue") == 0 && q->lim.employee[0]) {
        metrics_request("webhook_queue", 403, since(&q->t0));
        log_line(rid, method, url, 403, since(&q->t0), caller, NULL);
        return send_json(conn, 403,
                         err_env("forbidden_action", "this API key is bound to one employee: "
                                                     "use POST /mcp"),
                         rid);
    }
    if (get && strcmp(url, "/actions") == 0) {
        metrics_request("actions", 200, since(&q->t0));
        log_line(rid, method, url, 200, since(&q->t0), caller, NULL);
        return send_json(conn, 200,
                         json_pack("{s:b, s:{s:o, s:o}}", "ok", 1, "data", "actions",
                                   actions_describe(), "connections", serve_key_grants(caller)),
                         rid);
    }
    if (get) {
        json_t *companies = granted_companies(caller);
        metrics_request("webhook_queue", 200, since(&q->t0));
        log_line(rid, method, url, 200, since(&q->t0), caller, NULL);
        json_t *rows = serve_queue_list(companies);
        json_decref(companies);
        return send_json(conn, 200, json_pack("{s:b, s:o}", "ok", 1, "data", rows), rid);
    }
    return do_action(conn, q, url + 9, rid, caller);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    struct req *q = *con_cls;
    if (!q)
        return;
    track_busy(conn, false);
    if (q->counted) {
        pthread_mutex_lock(&mlock);
        in_flight--;
        pthread_mutex_unlock(&mlock);
    }
    free(q->body);
    free(q);
    *con_cls = NULL;
}

/* ---- run -------------------------------------------------------------- */

/* Where everything is, on stderr: one "name: value" line per item on a
 * terminal, else one JSON line (for a log collector). */
static void banner(const struct serve_config *c, unsigned port)
{
    char url[96];
    snprintf(url, sizeof url, "http://%s:%u", c->bind, port);
    const char *store = c->store[0] ? c->store : gusto_store_default_path();
    const char *ver = c->api_version[0] ? c->api_version : GUSTO_API_VERSION;
    const char *mirror = c->mirror[0] ? c->mirror : NULL;
    char db[600], mirror_shown[600], store_shown[600];
    sdb_redact(c->db, db, sizeof db);   /* a postgres:// URL's password */
    sdb_redact(store, store_shown, sizeof store_shown);
    if (store)
        store = store_shown;
    sdb_redact(mirror, mirror_shown, sizeof mirror_shown);
    if (mirror)
        mirror = mirror_shown;
    if (isatty(2)) {
        fprintf(stderr,
                "gusto-connect serve\n  listening:   %s\n  database:    %s\n"
                "  audit log:   %s\n  mirror:      %s\n  store:       %s\n"
                "  api version: %s\n",
                url, db, c->audit_log, mirror ? mirror : "(none: webhooks sync nothing)",
                store ? store : "(none)", ver);
        return;
    }
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "event", "serve_started",
                          "listening", url, "database", db, "audit_log", c->audit_log,
                          "mirror", mirror ? json_string(mirror) : json_null(), "store",
                          store ? json_string(store) : json_null(), "api_version", ver);
    char *t = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (t)
        fprintf(stderr, "%s\n", t);
    free(t);
    json_decref(j);
}

static int stop_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    (void)sig;
    char c = 1;
    if (write(stop_pipe[1], &c, 1) < 0) {
        /* nothing to do in a signal handler */
    }
}

int serve_run(const struct serve_config *c)
{
    cfg = c;
    started = time(NULL);
    char err[512];
    if (serve_db_open(c->db, err, sizeof err) != 0) {
        fprintf(stderr, "gusto-connect serve: %s\n", err);
        return 1;
    }
    make_parent_dirs(c->audit_log); /* the configuration directory may be new */
    audit = fopen(c->audit_log, "a");
    if (!audit) {
        fprintf(stderr, "gusto-connect serve: cannot open the audit log %s: %s\n", c->audit_log,
                strerror(errno));
        serve_db_close();
        return 1;
    }
    chmod(c->audit_log, 0600);
    if (pipe(stop_pipe) != 0) {
        fclose(audit);
        serve_db_close();
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    if (inet_pton(AF_INET, c->bind, &addr.sin_addr) != 1) {
        fprintf(stderr, "gusto-connect serve: bind address '%s' is not an IPv4 address\n", c->bind);
        return 1;
    }
    if ((ntohl(addr.sin_addr.s_addr) >> 24) != 127)
        fprintf(stderr, "gusto-connect serve: warning: listening on %s over plain HTTP: API keys, "
                        "employee data and webhooks cross the network unencrypted; put a TLS "
                        "proxy in front, or bind 127.0.0.1\n", c->bind);
    /* poll(), not select(): no FD_SETSIZE ceiling.  Room for the
     * connections in the file-descriptor limit, raised to its hard limit. */
    unsigned conns = MAX_CONNS;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < (rlim_t)MAX_CONNS + 128) {
            rl.rlim_cur = rl.rlim_max < (rlim_t)MAX_CONNS + 128 ? rl.rlim_max
                                                                 : (rlim_t)MAX_CONNS + 128;
            setrlimit(RLIMIT_NOFILE, &rl);
            getrlimit(RLIMIT_NOFILE, &rl);
        }
        if (rl.rlim_cur < (rlim_t)MAX_CONNS + 128)
            conns = rl.rlim_cur > 160 ? (unsigned)(rl.rlim_cur - 128) : 32;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
            MHD_USE_ITC | MHD_USE_ERROR_LOG,
        (uint16_t)c->port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, NULL, MHD_OPTION_CONNECTION_LIMIT, conns,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_MAX_S, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "gusto-connect serve: cannot listen on %s:%u\n", c->bind, c->port);
        fclose(audit);
        serve_db_close();
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : c->port;
    webhook_worker_start(c);
    banner(c, port);     /* first: "listening" on stdout says it is all out */
    printf("listening on http://%s:%u\n", c->bind, port);
    fflush(stdout);

    struct pollfd pfd = {.fd = stop_pipe[0], .events = POLLIN};
    for (;;) {
        int pr = poll(&pfd, 1, 5000);
        if (pr > 0 || (pr < 0 && errno != EINTR))
            break;
        reap_idle();
    }
    /* Graceful: stop accepting, let the calls in flight finish; the sync
     * worker takes nothing more and gives back what it has not written. */
    webhook_worker_interrupt();
    MHD_socket ls = MHD_quiesce_daemon(d);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    fprintf(stderr, "gusto-connect serve: stopping; finishing calls in flight\n");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        pthread_mutex_lock(&mlock);
        long n = in_flight;
        pthread_mutex_unlock(&mlock);
        if (n <= 0 || since(&t0) * 1000 > c->grace_ms)
            break;
        usleep(20000);
    }
    MHD_stop_daemon(d);
    webhook_worker_stop();
    fclose(audit);
    audit = NULL;
    serve_db_close();
    close(stop_pipe[0]);
    close(stop_pipe[1]);
    fprintf(stderr, "gusto-connect serve: stopped\n");
    return 0;
}
