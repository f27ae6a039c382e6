/* webhook.c - gusto-connect serve's Gusto webhook receiver: the verification-token handshake (token kept pending, the subscription found and verified through Gusto's webhook-subscription endpoints on a worker thread, one PUT .../verify per handshake at most), X-Gusto-Signature checked in constant time against the tokens Gusto confirmed, duplicates dropped by event uuid, and the worker that syncs the employee into the mirror with its company's own connection when an employee event arrives: it takes queue entries under a lease (any replica's, on a shared database) and gives back what it has not written when serve stops. */
#include "serve/serve.h"
#include "shared/uuidtext.h"
#include "sync/store.h"
#include "sync/sync.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct serve_config *wcfg;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static bool stopping, running;
static pthread_t worker;
/* Set when serve stops: a sync under way stops before it writes. */
static volatile sig_atomic_t interrupted;
/* This process's name in sync_queue.taken_by and on mirror leases:
 * NAME@HOST:PID lets a later sync take a dead process's lease at once. */
static char worker_name[128];

static json_t *reply_of(bool ok, const char *result, const char *message)
{
    json_t *j = json_pack("{s:b, s:s}", "ok", ok, "result", result);
    if (message)
        json_object_set_new(j, "message", json_string(message));
    return j;
}

static void hmac_hex(const char *key, const char *body, size_t len, char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, len, mac, &n);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", i < n ? mac[i] : 0);
    out[64] = 0;
}

/* Does sig match the HMAC under any known verification token?  Every
 * candidate is compared in full, in constant time. */
static bool signature_ok(const struct serve_config *c, const char *body, size_t len,
                         const char *sig)
{
    if (!sig || strlen(sig) != 64)
        return false;
    char given[65];
    for (int i = 0; i < 64; i++)
        given[i] = (char)((sig[i] >= 'A' && sig[i] <= 'F') ? sig[i] - 'A' + 'a' : sig[i]);
    given[64] = 0;
    bool ok = false;
    char want[65];
    if (c->webhook_token[0]) {
        hmac_hex(c->webhook_token, body, len, want);
        ok |= CRYPTO_memcmp(want, given, 64) == 0;
    }
    json_t *toks = serve_tokens();
    size_t i;
    json_t *t;
    json_array_foreach(toks, i, t) {
        hmac_hex(json_string_value(t), body, len, want);
        ok |= CRYPTO_memcmp(want, given, 64) == 0;
    }
    json_decref(toks);
    OPENSSL_cleanse(want, sizeof want);
    return ok;
}

/* ---- the verification handshake ---------------------------------------
 *
 * Gusto POSTs {"verification_token": "..."} and nothing else (both webhooks
 * guides).  The token is kept pending and the answer goes out at once;
 * the verify worker then finds the subscription through Gusto's
 * webhook-subscription endpoints and confirms it with PUT .../verify.  Only
 * then does the token sign events: anyone can send a handshake. */

#define MAX_VERIFY_JOBS 8

struct verify_job {
    struct verify_job *next;
    char subscription[64];       /* "" unless the handshake named one */
    char token[256];
};

static pthread_mutex_t vlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t vcond = PTHREAD_COND_INITIALIZER;
static struct verify_job *vqueue;
static int vqueued;
static bool vstopping, vrunning;
static pthread_t vworker;

static void job_free(struct verify_job *j)
{
    OPENSSL_cleanse(j, sizeof *j);
    free(j);
}

/* A client for the subscription endpoints.  conn NULL: a system access
 * token of client_id/client_secret, as Gusto documents for them; else the
 * stored connection `conn`, whose company token the sandbox accepts (Gusto
 * refuses it).  NULL with why in `why`. */
static gusto_client *subs_client(const char *conn, char *why, size_t cap)
{
    gusto_error e;
    const char *store = wcfg->store[0] ? wcfg->store : NULL;
    if (!conn) {
        char base[256];
        gusto_connection info;
        if (wcfg->gusto_base_url[0])
            snprintf(base, sizeof base, "%s", wcfg->gusto_base_url);
        else if (wcfg->webhook_connection[0] &&
                 gusto_connection_get(store, wcfg->webhook_connection, &info, &e) == GUSTO_OK)
            snprintf(base, sizeof base, "%s", info.base_url);
        else
            snprintf(base, sizeof base, "%s", GUSTO_DEMO_URL);
        gusto_tokens t;
        if (gusto_oauth_system_token(base, wcfg->client_id, wcfg->client_secret, &t, &e) !=
            GUSTO_OK) {
            snprintf(why, cap, "no system access token from %.200s: %.300s", base, e.message);
            return NULL;
        }
        gusto_options o = {.base_url = base, .access_token = t.access_token};
        serve_client_options(wcfg, &o);
        gusto_client *c = gusto_client_new(&o, &e);
        OPENSSL_cleanse(&t, sizeof t);
        if (!c)
            snprintf(why, cap, "%.300s", e.message);
        return c;
    }
    gusto_options o = GUSTO_OPTIONS_INIT;
    serve_client_options(wcfg, &o);
    gusto_client *c = gusto_client_new_stored(&o, store, conn, &e);
    if (!c)
        snprintf(why, cap, "connection %.60s: %.300s", conn, e.message);
    return c;
}

/* PUT .../verify for one subscription.  0 when Gusto confirmed it. */
static int verify_one(gusto_client *c, const char *sub, const char *token, char *why,
                      size_t cap)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/webhook_subscriptions/%s/verify", sub);
    json_t *b = json_pack("{s:s}", "verification_token", token);
    char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (!body) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    long status = 0;
    char *out = NULL;
    gusto_error e;
    gusto_code rc = gusto_request(c, "PUT", path, body, &status, &out, &e);
    OPENSSL_cleanse(body, strlen(body));
    free(body);
    gusto_free(out);
    if (rc == GUSTO_OK)
        return 0;
    /* Gusto's message, never the token (the body is not echoed here). */
    snprintf(why, cap, "PUT /v1/webhook_subscriptions/%.40s/verify: HTTP %ld %.300s", sub,
             e.http_status, e.message);
    return -1;
}

/* The subscriptions this token may belong to: the one the handshake named,
 * else every one Gusto lists as not verified whose url is webhook_url (any
 * url when webhook_url is unset).  A JSON array of uuids, or NULL. */
static json_t *candidates(gusto_client *c, const struct verify_job *j, char *why, size_t cap)
{
    json_t *out = json_array();
    if (j->subscription[0]) {
        json_array_append_new(out, json_string(j->subscription));
        return out;
    }
    long status = 0;
    char *text = NULL;
    gusto_error e;
    if (gusto_request(c, "GET", "/v1/webhook_subscriptions", NULL, &status, &text, &e) !=
        GUSTO_OK) {
        snprintf(why, cap, "GET /v1/webhook_subscriptions: HTTP %ld %.300s", e.http_status,
                 e.message);
        json_decref(out);
        return NULL;
    }
    json_t *list = text ? json_loads(text, 0, NULL) : NULL;
    gusto_free(text);
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s) {
        const char *uuid = json_string_value(json_object_get(s, "uuid"));
        const char *st = json_string_value(json_object_get(s, "status"));
        const char *url = json_string_value(json_object_get(s, "url"));
        if (!uuid_text_ok(uuid) || (st && !strcmp(st, "verified")))
            continue;
        if (wcfg->webhook_url[0] && (!url || strcmp(url, wcfg->webhook_url) != 0))
            continue;
        json_array_append_new(out, json_string(uuid));
    }
    json_decref(list);
    if (json_array_size(out) == 0)
        snprintf(why, cap, "no unverified subscription%s%s", wcfg->webhook_url[0] ? " for " : "",
                 wcfg->webhook_url);
    return out;
}

/* Try one client: 0 with the verified subscription in sub_out.  *tried is
 * set once a PUT .../verify was sent: a handshake gets one verify attempt
 * at most, whatever the number of candidates or stored connections (anyone
 * can send a handshake; each must not turn into many calls to Gusto). */
static int verify_with(gusto_client *c, const struct verify_job *j, char sub_out[64],
                       bool *tried, char *why, size_t cap)
{
    json_t *cands = candidates(c, j, why, cap);
    int rc = -1;
    const char *u = json_string_value(json_array_get(cands, 0));
    if (u) {
        *tried = true;
        if (json_array_size(cands) > 1)
            fprintf(stderr, "gusto-connect serve: %zu unverified webhook subscriptions; trying the "
                            "first (set webhook_url to pick this receiver's)\n",
                    json_array_size(cands));
        if (verify_one(c, u, j->token, why, cap) == 0) {
            snprintf(sub_out, 64, "%s", u);
            rc = 0;
        }
    }
    json_decref(cands);
    return rc;
}

struct names {
    char name[16][64];
    int n;
};

static int add_name(void *ud, const gusto_connection *conn)
{
    struct names *n = ud;
    if (n->n < 16 && strcmp(conn->name, wcfg->webhook_connection) != 0)
        snprintf(n->name[n->n++], sizeof n->name[0], "%s", conn->name);
    return 0;
}

/* The app's system token first (when client_id and client_secret are
 * set), then webhook_connection, then every other stored connection (at most
 * 16), until one of them lists a candidate subscription; that one gets the
 * handshake's single PUT .../verify. */
static void verify_run(const struct verify_job *j)
{
    struct names n = {.n = 0};
    if (wcfg->webhook_connection[0])
        snprintf(n.name[n.n++], sizeof n.name[0], "%s", wcfg->webhook_connection);
    gusto_error e;
    gusto_connection_list(wcfg->store[0] ? wcfg->store : NULL, add_name, &n, &e);
    bool system = wcfg->client_id[0] && wcfg->client_secret[0];
    char sub[64] = "", why[600] = "no client_id/client_secret and no stored connection";
    const char *via = NULL;
    bool tried = false;
    for (int i = system ? -1 : 0; i < n.n && !tried; i++) {
        gusto_client *c = subs_client(i < 0 ? NULL : n.name[i], why, sizeof why);
        if (c && verify_with(c, j, sub, &tried, why, sizeof why) == 0)
            via = i < 0 ? NULL : n.name[i];
        gusto_client_free(c);
    }
    bool ok = sub[0] != 0;
    if (ok && serve_token_verified(sub, j->token) != 0) {
        snprintf(why, sizeof why, "verified, but the token could not be stored");
        ok = false;
    }
    if (ok)
        fprintf(stderr, "gusto-connect serve: webhook subscription %s verified through %s%s\n", sub,
                via ? "connection " : "the app's system access token", via ? via : "");
    else
        fprintf(stderr, "gusto-connect serve: webhook handshake not verified (the token stays "
                        "pending and signs nothing): %s\n", why);
}

static void *verify_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&vlock);
    for (;;) {
        while (!vqueue && !vstopping)
            pthread_cond_wait(&vcond, &vlock);
        if (vstopping)
            break;
        struct verify_job *j = vqueue;
        vqueue = j->next;
        vqueued--;
        pthread_mutex_unlock(&vlock);
        /* Let the handshake's answer reach Gusto before it is confirmed. */
        usleep(100000);
        verify_run(j);
        job_free(j);
        pthread_mutex_lock(&vlock);
    }
    while (vqueue) {
        struct verify_job *j = vqueue;
        vqueue = j->next;
        job_free(j);
    }
    vqueued = 0;
    pthread_mutex_unlock(&vlock);
    return NULL;
}

/* Queue a verification; false when the queue is full (a flood of forged
 * handshakes must not turn into a flood of calls to Gusto). */
static bool verify_enqueue(const char *sub, const char *token)
{
    struct verify_job *j = calloc(1, sizeof *j);
    if (!j)
        return false;
    snprintf(j->subscription, sizeof j->subscription, "%s", sub ? sub : "");
    snprintf(j->token, sizeof j->token, "%s", token);
    pthread_mutex_lock(&vlock);
    bool ok = vrunning && vqueued < MAX_VERIFY_JOBS;
    for (struct verify_job *q = vqueue; ok && q; q = q->next)
        if (strcmp(q->token, j->token) == 0 && strcmp(q->subscription, j->subscription) == 0)
            ok = false; /* already queued */
    if (ok) {
        struct verify_job **pp = &vqueue;
        while (*pp)
            pp = &(*pp)->next;
        *pp = j;
        vqueued++;
        pthread_cond_signal(&vcond);
    }
    pthread_mutex_unlock(&vlock);
    if (!ok)
        job_free(j);
    return ok;
}

/* A token Gusto could have made: 1 to 255 printable ASCII characters. */
static bool token_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++)
        if (t[i] < 0x21 || t[i] > 0x7e)
            return false;
    return true;
}

static int handshake(const struct serve_config *c, json_t *ev, const char *vt, json_t **reply)
{
    /* Older copies of the handshake also carry the subscription's uuid. */
    json_t *subj = json_object_get(ev, "webhook_subscription_uuid");
    const char *sub = json_string_value(subj);
    if (!token_ok(vt) || (subj && !uuid_text_ok(sub))) {
        *reply = reply_of(false, "invalid_handshake",
                          !token_ok(vt) ? "verification_token must be 1 to 255 printable "
                                          "characters"
                                        : "webhook_subscription_uuid must be a UUID string");
        return 400;
    }
    /* Gusto sends the same token again on request_verification_token:
     * one it already confirmed needs no second verify. */
    json_t *known = serve_tokens();
    bool confirmed = false;
    size_t i;
    json_t *t;
    json_array_foreach(known, i, t) {
        const char *k = json_string_value(t);
        confirmed |= strlen(k) == strlen(vt) && CRYPTO_memcmp(k, vt, strlen(vt)) == 0;
    }
    json_decref(known);
    if (confirmed) {
        *reply = reply_of(true, "handshake", NULL);
        json_object_set_new(*reply, "verification", json_string("verified"));
        return 200;
    }
    if (serve_token_save(sub ? sub : "", vt) != 0) {
        *reply = reply_of(false, "error", "could not store the verification token");
        return 500; /* Gusto can send it again (request_verification_token) */
    }
    fprintf(stderr, "gusto-connect serve: webhook verification token received%s%s (pending)\n",
            sub ? " for subscription " : "", sub ? sub : "");
    bool queued = c->auto_verify && verify_enqueue(sub, vt);
    if (c->auto_verify && !queued)
        fprintf(stderr, "gusto-connect serve: webhook handshake not verified: too many handshakes "
                        "waiting\n");
    *reply = reply_of(true, "handshake", NULL);
    json_object_set_new(*reply, "verification", json_string(queued ? "queued" : "pending"));
    return 200;
}

int webhook_receive(const struct serve_config *c, const char *body, size_t len,
                    const char *signature, json_t **reply)
{
    json_error_t je;
    json_t *ev = json_loadb(body, len, 0, &je);
    if (!json_is_object(ev)) {
        json_decref(ev);
        *reply = reply_of(false, "invalid_json", "the body is not a JSON object");
        return 400;
    }
    const char *vt = json_string_value(json_object_get(ev, "verification_token"));
    const char *type = json_string_value(json_object_get(ev, "event_type"));
    if (vt && !type) {
        int st = handshake(c, ev, vt, reply);
        json_decref(ev);
        return st;
    }
    if (!signature_ok(c, body, len, signature)) {
        json_decref(ev);
        metrics_error("bad_signature");
        *reply = reply_of(false, "bad_signature", "X-Gusto-Signature does not match");
        return 401;
    }
    const char *uuid = json_string_value(json_object_get(ev, "uuid"));
    const char *company = json_string_value(json_object_get(ev, "resource_uuid"));
    const char *entity = json_string_value(json_object_get(ev, "entity_uuid"));
    if (!uuid || !type) {
        json_decref(ev);
        *reply = reply_of(false, "invalid_event", "uuid and event_type are required");
        return 400;
    }
    int fresh = serve_event_record(uuid, type, company, entity);
    if (fresh < 0) {
        json_decref(ev);
        *reply = reply_of(false, "error", "could not record the event");
        return 500;   /* Gusto retries */
    }
    if (fresh == 0) {
        json_decref(ev);
        *reply = reply_of(true, "duplicate", NULL);
        return 200;
    }
    bool queued = false;
    if (strncmp(type, "employee.", 9) == 0 && company && entity) {
        queued = serve_queue_add(uuid, company, entity) == 0;
        pthread_mutex_lock(&qlock);
        pthread_cond_signal(&qcond);
        pthread_mutex_unlock(&qlock);
    }
    *reply = reply_of(true, "accepted", NULL);
    json_object_set_new(*reply, "sync_queued", json_boolean(queued));
    json_decref(ev);
    return 200;
}

/* ---- the sync worker -------------------------------------------------
 *
 * Each event syncs with its company's own stored connection only (never
 * webhook_connection: another company's token answers 404 for this
 * company's employees, which is no departure).  A departure one GET sees
 * is confirmed by a company sync under the termination safeguard
 * (sync_employee()); the queue row says synced, refused, failed,
 * not_handled or skipped, and why. */

struct find {
    const char *company;
    char name[64];
};

static int find_conn(void *ud, const gusto_connection *conn)
{
    struct find *f = ud;
    if (strcmp(conn->company_uuid, f->company) == 0) {
        snprintf(f->name, sizeof f->name, "%s", conn->name);
        return 1;
    }
    return 0;
}

static void sync_one(long long id, const char *company, const char *employee)
{
    const char *store = wcfg->store[0] ? wcfg->store : NULL;
    struct find f = {.company = company};
    gusto_error e;
    gusto_connection_list(store, find_conn, &f, &e);
    /* Only the company's own connection: another company's token would
     * answer 404 for this company's employees, which is no departure. */
    if (!f.name[0]) {
        serve_queue_done(id, "not_handled",
                         "no stored connection for this company (webhook_connection is not "
                         "used for other companies); nothing was synced");
        return;
    }
    if (!wcfg->mirror[0]) {
        serve_queue_done(id, "skipped", "no mirror configured (\"mirror\" or GUSTO_SERVE_MIRROR)");
        return;
    }
    char target[1024], err[700];
    if (mstore_target(wcfg->mirror, true, target, sizeof target, err, sizeof err) != 0) {
        serve_queue_done(id, "failed", err);
        return;
    }
    struct mstore *st = mstore_open(target, false, err, sizeof err);
    if (!st) {
        serve_queue_done(id, "failed", err);
        return;
    }
    gusto_options o = GUSTO_OPTIONS_INIT;
    serve_client_options(wcfg, &o);
    gusto_client *c = gusto_client_new_stored(&o, store, f.name, &e);
    if (!c) {
        mstore_close(st);
        serve_queue_done(id, "failed", e.message);
        return;
    }
    /* An employee event syncs that employee alone (one or two requests);
     * an event without one syncs the company. */
    struct sync_opts so = {.max_terminated_pct = 20, .lease_ttl_ms = 300000,
                           .worker = worker_name, .interrupted = &interrupted};
    if (interrupted) {
        /* serve is stopping: taken but not started, so given back. */
        serve_queue_release(id);
        gusto_client_free(c);
        mstore_close(st);
        return;
    }
    struct sync_result res;
    sync_result_init(&res);
    int rc = employee && *employee ? sync_employee(st, c, company, employee, &so, &res)
                                   : sync_company(st, c, company, &so, NULL, NULL, &res);
    char detail[700];
    snprintf(detail, sizeof detail,
             "%s: created %ld, updated %ld, terminated %ld, employees read %zu, requests %lu%s%s",
             res.status ? res.status : "?", res.created, res.updated, res.terminated,
             res.employees, res.requests, res.message[0] ? "; " : "", res.message);
    if (rc != 0 && res.status && strcmp(res.status, "interrupted") == 0)
        serve_queue_release(id); /* serve is stopping: nothing written, another takes it */
    else
        serve_queue_done(id, rc == 0                                         ? "synced"
                             : res.status && strcmp(res.status, "refused") == 0 ? "refused"
                                                                                : "failed",
                         detail);
    sync_result_free(&res);
    gusto_client_free(c);
    mstore_close(st);
}

static bool worker_stopping(void)
{
    pthread_mutex_lock(&qlock);
    bool s = stopping;
    pthread_mutex_unlock(&qlock);
    return s;
}

static void *worker_main(void *arg)
{
    (void)arg;
    for (;;) {
        long long id;
        char company[40], employee[40];
        while (!worker_stopping() &&
               serve_queue_take(worker_name, wcfg->queue_lease_ms, &id, company, employee) == 1) {
            if (worker_stopping()) {
                /* Taken but not started: give it back for another replica. */
                serve_queue_release(id);
                return NULL;
            }
            sync_one(id, company, employee);
        }
        pthread_mutex_lock(&qlock);
        if (stopping) {
            pthread_mutex_unlock(&qlock);
            return NULL;
        }
        /* Our own webhooks wake the worker at once; on a shared database
         * other replicas' entries are found by looking every second. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += serve_db_shared() ? 1 : 5;
        pthread_cond_timedwait(&qcond, &qlock, &ts);
        pthread_mutex_unlock(&qlock);
    }
}

int webhook_worker_start(const struct serve_config *c)
{
    wcfg = c;
    char host[64] = "host";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = 0;
    snprintf(worker_name, sizeof worker_name, "gusto-serve@%s:%ld", host, (long)getpid());
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&worker, NULL, worker_main, NULL);
    running = rc == 0;
    int vrc = pthread_create(&vworker, NULL, verify_main, NULL);
    pthread_mutex_lock(&vlock);
    vrunning = vrc == 0;
    pthread_mutex_unlock(&vlock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 && vrc == 0 ? 0 : -1;
}

void webhook_worker_interrupt(void)
{
    interrupted = 1;
    pthread_mutex_lock(&qlock);
    stopping = true;
    pthread_cond_signal(&qcond);
    pthread_mutex_unlock(&qlock);
}

void webhook_worker_stop(void)
{
    pthread_mutex_lock(&vlock);
    bool v = vrunning;
    vstopping = true;
    vrunning = false;
    pthread_cond_signal(&vcond);
    pthread_mutex_unlock(&vlock);
    if (v)
        pthread_join(vworker, NULL);
    if (!running)
        return;
    pthread_mutex_lock(&qlock);
    stopping = true;
    pthread_cond_signal(&qcond);
    pthread_mutex_unlock(&qlock);
    pthread_join(worker, NULL);
    running = false;
}
