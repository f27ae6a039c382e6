/* webhook.c - gusto serve's Gusto webhook receiver (the verification-token handshake, X-Gusto-Signature checked in constant time, duplicates dropped by event uuid) and the worker that syncs the employee into the mirror when an employee event arrives. */
#include "serve/serve.h"
#include "sync/store.h"
#include "sync/sync.h"

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

struct verify_job {
    char subscription[64];
    char token[128];
};

/* Confirm a handshake: PUT /v1/webhook_subscriptions/{uuid}/verify, after
 * the handshake's answer has gone out, through webhook_connection, else
 * through each stored connection in turn until one knows the subscription. */
static bool verify_with(const char *conn, const struct verify_job *j)
{
    gusto_options o = {.connection = conn,
                       .store_path = wcfg->store[0] ? wcfg->store : NULL,
                       .timeout_ms = wcfg->timeout_ms};
    gusto_error e;
    gusto_client *c = gusto_client_new(&o, &e);
    if (!c)
        return false;
    char path[160], body[256];
    snprintf(path, sizeof path, "/v1/webhook_subscriptions/%s/verify", j->subscription);
    snprintf(body, sizeof body, "{\"verification_token\":\"%s\"}", j->token);
    long status = 0;
    char *out = NULL;
    gusto_code rc = gusto_request(c, "PUT", path, body, &status, &out, &e);
    gusto_free(out);
    gusto_client_free(c);
    OPENSSL_cleanse(body, sizeof body);
    return rc == GUSTO_OK;
}

struct names {
    char name[16][64];
    int n;
};

static int add_name(void *ud, const gusto_connection *conn)
{
    struct names *n = ud;
    if (n->n < 16)
        snprintf(n->name[n->n++], sizeof n->name[0], "%s", conn->name);
    return 0;
}

static void *verify_main(void *arg)
{
    struct verify_job *j = arg;
    usleep(100000);
    struct names n = {.n = 0};
    if (wcfg->webhook_connection[0])
        snprintf(n.name[n.n++], sizeof n.name[0], "%s", wcfg->webhook_connection);
    gusto_error e;
    gusto_connection_list(wcfg->store[0] ? wcfg->store : NULL, add_name, &n, &e);
    const char *done = NULL;
    for (int i = 0; i < n.n && !done; i++)
        if (verify_with(n.name[i], j))
            done = n.name[i];
    if (done)
        serve_token_verified(j->subscription, j->token);
    fprintf(stderr, "gusto serve: webhook subscription %s: %s%s\n", j->subscription,
            done ? "verified through connection " : "could not verify through any connection",
            done ? done : "");
    OPENSSL_cleanse(j, sizeof *j);
    free(j);
    return NULL;
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
        const char *sub = json_string_value(json_object_get(ev, "webhook_subscription_uuid"));
        if (!sub || strlen(sub) > 63 || strlen(vt) > 127 || strchr(vt, '"') ||
            strchr(sub, '/')) {
            json_decref(ev);
            *reply = reply_of(false, "invalid_handshake", "webhook_subscription_uuid missing");
            return 400;
        }
        serve_token_save(sub, vt);
        fprintf(stderr, "gusto serve: webhook subscription %s: verification token received\n",
                sub);
        if (c->auto_verify) {
            struct verify_job *j = calloc(1, sizeof *j);
            pthread_t t;
            if (j) {
                snprintf(j->subscription, sizeof j->subscription, "%s", sub);
                snprintf(j->token, sizeof j->token, "%s", vt);
                if (pthread_create(&t, NULL, verify_main, j) == 0)
                    pthread_detach(t);
                else
                    free(j);
            }
        }
        json_decref(ev);
        *reply = reply_of(true, "handshake", NULL);
        return 200;
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

/* ---- the sync worker ------------------------------------------------- */

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
    if (!f.name[0] && wcfg->webhook_connection[0])
        snprintf(f.name, sizeof f.name, "%s", wcfg->webhook_connection);
    if (!f.name[0]) {
        serve_queue_done(id, "failed", "no stored connection for this company");
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
    gusto_options o = {.connection = f.name, .store_path = store,
                       .timeout_ms = wcfg->timeout_ms};
    gusto_client *c = gusto_client_new(&o, &e);
    if (!c) {
        mstore_close(st);
        serve_queue_done(id, "failed", e.message);
        return;
    }
    /* An employee event syncs that employee alone (one or two requests);
     * an event without one syncs the company. */
    struct sync_opts so = {.max_terminated_pct = 20, .lease_ttl_ms = 300000,
                           .worker = "gusto-serve"};
    struct sync_result res;
    sync_result_init(&res);
    int rc = employee && *employee ? sync_employee(st, c, company, employee, &so, &res)
                                   : sync_company(st, c, company, &so, NULL, NULL, &res);
    char detail[700];
    snprintf(detail, sizeof detail,
             "%s: created %ld, updated %ld, terminated %ld, employees read %zu, requests %lu%s%s",
             res.status ? res.status : "?", res.created, res.updated, res.terminated,
             res.employees, res.requests, res.message[0] ? "; " : "", res.message);
    serve_queue_done(id, rc == 0 ? "synced" : "failed", detail);
    sync_result_free(&res);
    gusto_client_free(c);
    mstore_close(st);
}

static void *worker_main(void *arg)
{
    (void)arg;
    for (;;) {
        long long id;
        char company[40], employee[40];
        while (serve_queue_take(&id, company, employee) == 1) {
            sync_one(id, company, employee);
            pthread_mutex_lock(&qlock);
            bool s = stopping;
            pthread_mutex_unlock(&qlock);
            if (s)
                return NULL;
        }
        pthread_mutex_lock(&qlock);
        if (stopping) {
            pthread_mutex_unlock(&qlock);
            return NULL;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 5;
        pthread_cond_timedwait(&qcond, &qlock, &ts);
        pthread_mutex_unlock(&qlock);
    }
}

int webhook_worker_start(const struct serve_config *c)
{
    wcfg = c;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&worker, NULL, worker_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    running = rc == 0;
    return rc == 0 ? 0 : -1;
}

void webhook_worker_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&qlock);
    stopping = true;
    pthread_cond_signal(&qcond);
    pthread_mutex_unlock(&qlock);
    pthread_join(worker, NULL);
    running = false;
}
