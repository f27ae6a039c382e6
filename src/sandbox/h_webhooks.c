/* h_webhooks.c - Gusto's webhook subscriptions (create, list, get, update, delete, the verification-token handshake), the events a request raises (held until its transaction commits), the sandbox-only endpoint that fires the events no endpoint can, and the delivery thread that POSTs signed events (libcurl), retried up to 16 times with exponential backoff, to loopback URLs only. */
#include "sandbox/sandbox.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Subscriptions live in memory: a restart (even with --data) forgets them. */
#define MAX_SUBS 32
/* "Gusto will retry the request up to 16 times with an exponential
 * backoff" (app-integrations/docs/webhooks): the first try and 16 more. */
#define MAX_RETRIES 16

struct sub {
    bool used;
    char uuid[SB_UUID_LEN + 1];
    char company[SB_UUID_LEN + 1];   /* the creating token's company: events of it only;
                                        "" when a system token made it: every company's */
    char owner[80];                  /* who sees it: the company, or "system:CLIENT_ID" */
    char url[512];
    char token[65];                  /* the verification token, also the signing key */
    char status[16];                 /* pending, verified */
    unsigned types;                  /* bit per SUB_TYPES entry */
};

static const char *const SUB_TYPES[] = {
    "BankAccount", "Company", "CompanyBenefit", "Contractor", "ContractorPayment", "Employee",
    "EmployeeBenefit", "EmployeeJobCompensation", "ExternalPayroll", "Form", "Location",
    "Notification", "Payroll", "PayrollSync", "PaySchedule", "PeopleBatch", "Signatory", NULL};

struct delivery {
    struct delivery *next;
    char sub_uuid[SB_UUID_LEN + 1];
    char *body;
    bool signed_;                    /* an event (signed); else the handshake POST */
    int attempt;
    long long due_ms;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct sub subs[MAX_SUBS];
static struct delivery *queue;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static uint64_t fault_rng = 0x9e3779b97f4a7c15ULL;

static long long last_ok_ms, last_fail_ms; /* deliveries, for the health check */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first retry's wait: --webhook-backoff-ms (0: retry at once), else the older
 * GUSTO_SANDBOX_WEBHOOK_RETRY_MS variable, else 1 s. */
static long retry_base_ms(void)
{
    if (sb_cfg.webhook_backoff_ms >= 0)
        return sb_cfg.webhook_backoff_ms;
    const char *v = getenv("GUSTO_SANDBOX_WEBHOOK_RETRY_MS");
    char *end = NULL;
    long n = v ? strtol(v, &end, 10) : 0;
    return v && end && !*end && n > 0 && n <= 3600000 ? n : 1000;
}

/* ---- one POST to a loopback URL, through libcurl ------------------------ */

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* Returns the response status, or -1 when the URL is not loopback http or
 * the delivery failed (refused, or no answer within Gusto's 10 s). */
static int post_loopback(const char *url, const char *body, const char *signature)
{
    const char *p = NULL;
    if (strncmp(url, "http://127.0.0.1:", 17) == 0 || strncmp(url, "http://localhost:", 17) == 0)
        p = url + 17;
    if (!p)
        return -1;
    char *end;
    long port = strtol(p, &end, 10);
    if (port <= 0 || port > 65535 || (*end && *end != '/'))
        return -1;
    CURL *h = curl_easy_init();
    if (!h)
        return -1;
    /* "localhost" goes to 127.0.0.1 too, never through a resolver or proxy. */
    char pin[64], sighdr[100];
    snprintf(pin, sizeof pin, "localhost:%ld:127.0.0.1", port);
    struct curl_slist *resolve = curl_slist_append(NULL, pin);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    if (signature) {
        snprintf(sighdr, sizeof sighdr, "X-Gusto-Signature: %s", signature);
        hdrs = curl_slist_append(hdrs, sighdr);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "gusto-sandbox-webhooks");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    long status = -1;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    curl_slist_free_all(resolve);
    return status > 0 ? (int)status : -1;
}

static void sign_hex(const char *key, const char *body, char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, strlen(body),
         mac, &len);
    for (unsigned i = 0; i < len && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    out[64] = 0;
}

/* ---- the queue and the delivery thread ----------------------------------- */

static void enqueue_locked(const char *sub_uuid, const char *body, bool signed_, long delay)
{
    struct delivery *d = calloc(1, sizeof *d);
    if (!d)
        return;
    d->body = strdup(body);
    if (!d->body) {
        free(d);
        return;
    }
    snprintf(d->sub_uuid, sizeof d->sub_uuid, "%s", sub_uuid);
    d->signed_ = signed_;
    d->due_ms = now_ms() + delay;
    d->next = queue;
    queue = d;
    pthread_cond_signal(&cond);
}

static struct sub *find_locked(const char *uuid)
{
    for (int i = 0; i < MAX_SUBS; i++)
        if (subs[i].used && strcmp(subs[i].uuid, uuid) == 0)
            return &subs[i];
    return NULL;
}

static void *deliver_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        struct delivery **best = NULL;
        for (struct delivery **pp = &queue; *pp; pp = &(*pp)->next)
            if (!best || (*pp)->due_ms < (*best)->due_ms)
                best = pp;
        if (!best) {
            pthread_cond_wait(&cond, &lock);
            continue;
        }
        long long wait = (*best)->due_ms - now_ms();
        if (wait > 0) {
            struct timespec ts;
            long long due = (*best)->due_ms;
            ts.tv_sec = (time_t)(due / 1000);
            ts.tv_nsec = (long)(due % 1000) * 1000000;
            pthread_cond_timedwait(&cond, &lock, &ts);
            continue;
        }
        struct delivery *d = *best;
        *best = d->next;
        struct sub *s = find_locked(d->sub_uuid);
        if (!s || (d->signed_ && strcmp(s->status, "verified") != 0)) {
            free(d->body);
            free(d);
            continue;
        }
        char url[512], sig[65];
        snprintf(url, sizeof url, "%s", s->url);
        if (d->signed_)
            sign_hex(s->token, d->body, sig);
        pthread_mutex_unlock(&lock);
        int status = post_loopback(url, d->body, d->signed_ ? sig : NULL);
        if (sb_cfg.log)
            fprintf(stderr, "webhook POST %s %d attempt %d\n", url, status, d->attempt + 1);
        pthread_mutex_lock(&lock);
        *(status >= 200 && status <= 299 ? &last_ok_ms : &last_fail_ms) = now_ms();
        if ((status < 200 || status > 299) && ++d->attempt <= MAX_RETRIES) {
            /* Backoff: base, 2 x base, 4 x base, ... (retry n waits
             * base x 2^(n-1)); Gusto documents no schedule. */
            d->due_ms = now_ms() + (long long)retry_base_ms() * (1LL << (d->attempt - 1));
            d->next = queue;
            queue = d;
        } else {
            free(d->body);
            free(d);
        }
    }
    return NULL;
}

static void start_thread(void)
{
    pthread_t t;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (pthread_create(&t, NULL, deliver_main, NULL) == 0)
        pthread_detach(t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static unsigned type_bit(const char *type)
{
    for (unsigned i = 0; SUB_TYPES[i]; i++)
        if (strcmp(SUB_TYPES[i], type) == 0)
            return 1u << i;
    return 0;
}

/* Queue body for every verified subscription of this type that sees the
 * company's events.  Takes the lock. */
static void deliver_event(unsigned bit, const char *company, const char *body)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_SUBS; i++) {
        struct sub *s = &subs[i];
        if (!s->used || !(s->types & bit) || strcmp(s->status, "verified") != 0 ||
            (s->company[0] && strcmp(s->company, company) != 0))
            continue;
        long delay = 0;
        if (sb_cfg.faults && *sb_cfg.faults) {
            /* As Gusto warns: an event may come twice, or after a later one. */
            uint64_t roll = splitmix64(&fault_rng) % 100;
            if (roll < 15)
                enqueue_locked(s->uuid, body, true, 150);
            else if (roll < 30)
                delay = 400;
        }
        enqueue_locked(s->uuid, body, true, delay);
    }
    pthread_mutex_unlock(&lock);
}

/* Events a write request raised, held until its transaction commits
 * (webhook_hold / webhook_release, called by request_run): a receiver that
 * reads the entity back on an event must find the change. */
struct held {
    struct held *next;
    unsigned bit;
    char company[SB_UUID_LEN + 1];
    char *body;
};
static _Thread_local struct held *held_events;
static _Thread_local bool holding;

void webhook_hold(void)
{
    holding = true;
}

void webhook_release(bool deliver)
{
    struct held *h = held_events, *prev = NULL;
    held_events = NULL;
    holding = false;
    /* Held newest first: deliver in the order they were raised. */
    while (h) {
        struct held *next = h->next;
        h->next = prev;
        prev = h;
        h = next;
    }
    for (h = prev; h; h = prev) {
        prev = h->next;
        if (deliver)
            deliver_event(h->bit, h->company, h->body);
        free(h->body);
        free(h);
    }
}

/* The event as Gusto's event pages show it: uuid, event_type,
 * resource_type "Company", resource_uuid, entity_type, entity_uuid,
 * timestamp (unix seconds); a people batch adds references.batch_uuid. */
static char *event_body(const char *entity_type, const char *event_type, const char *company,
                        const char *entity_uuid)
{
    char uuid[SB_UUID_LEN + 1];
    uuid_random(uuid);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "uuid", uuid, "event_type",
                           event_type, "resource_type", "Company", "resource_uuid", company,
                           "entity_type", entity_type, "entity_uuid", entity_uuid,
                           "timestamp", (json_int_t)time(NULL));
    if (!ev)
        return NULL;
    if (strcmp(entity_type, "PeopleBatch") == 0)
        json_object_set_new(ev, "references", json_pack("{s:s}", "batch_uuid", entity_uuid));
    char *body = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ev);
    return body;
}

void webhook_emit(const char *entity_type, const char *event_type, const char *company,
                  const char *entity_uuid)
{
    unsigned bit = type_bit(entity_type);
    char *body = bit ? event_body(entity_type, event_type, company, entity_uuid) : NULL;
    if (!body)
        return;
    if (holding) {
        struct held *h = calloc(1, sizeof *h);
        if (h) {
            h->bit = bit;
            h->body = body;
            snprintf(h->company, sizeof h->company, "%s", company);
            h->next = held_events;
            held_events = h;
            return;
        }
        /* No memory to hold it: send it now rather than lose it. */
    }
    deliver_event(bit, company, body);
    free(body);
}

void webhook_batch_finished(sqlite3 *db, const char *batch_uuid, const char *company)
{
    static const char *q = "SELECT status FROM people_batches WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, q);
    if (!st)
        return;
    db_bind_text(st, 1, batch_uuid);
    char status[24] = "";
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(status, sizeof status, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
    if (*status)
        webhook_emit("PeopleBatch",
                     strcmp(status, "failed") == 0 ? "people_batch.failed"
                                                   : "people_batch.completed",
                     company, batch_uuid);
}

/* ---- handlers ------------------------------------------------------------ */

/* Who owns what the caller creates and sees: its company, or for a system
 * token its app.  System tokens need the webhook_subscriptions scopes; a
 * company token is let through (a sandbox convenience, docs/sandbox.md). */
static const char *caller(const struct request *r)
{
    return AUTH_IS_SYSTEM(r) ? r->auth.grant_id : r->auth.company_uuid;
}

static bool allowed(struct request *r, bool write)
{
    const char *scope = write ? "webhook_subscriptions:write" : "webhook_subscriptions:read";
    if (!AUTH_IS_SYSTEM(r) || auth_has_scope(r, scope))
        return true;
    reply_missing_scope(r, scope);
    return false;
}

static json_t *sub_json(const struct sub *s)
{
    json_t *types = json_array();
    for (unsigned i = 0; SUB_TYPES[i]; i++)
        if (s->types & (1u << i))
            json_array_append_new(types, json_string(SUB_TYPES[i]));
    return json_pack("{s:s, s:s, s:s, s:o}", "uuid", s->uuid, "url", s->url, "status",
                     s->status, "subscription_types", types);
}

/* Parse subscription_types; replies 422 and returns false when bad. */
static bool parse_types(struct request *r, unsigned *out)
{
    json_t *t = json_object_get(r->json, "subscription_types");
    *out = 0;
    if (!json_is_array(t) || json_array_size(t) == 0) {
        reply_error(r, 422, "subscription_types", "invalid_attribute_value",
                    "subscription_types must be a non-empty array");
        return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(t, i, v) {
        unsigned bit = json_is_string(v) ? type_bit(json_string_value(v)) : 0;
        if (!bit) {
            reply_error(r, 422, "subscription_types", "invalid_attribute_value",
                        "subscription_types[%zu] is not a known subscription type", i);
            return false;
        }
        *out |= bit;
    }
    return true;
}

/* The handshake: {"verification_token": ...} and nothing else, as both
 * webhooks guides show it; unsigned (the guides sign events only). */
static void send_token_locked(const struct sub *s)
{
    json_t *b = json_pack("{s:s}", "verification_token", s->token);
    char *text = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    if (text)
        enqueue_locked(s->uuid, text, false, 0);
    free(text);
}

int h_webhook_subs_list(struct request *r)
{
    if (!allowed(r, false))
        return 0;
    json_t *arr = json_array();
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_SUBS; i++)
        if (subs[i].used && strcmp(subs[i].owner, caller(r)) == 0)
            json_array_append_new(arr, sub_json(&subs[i]));
    pthread_mutex_unlock(&lock);
    return reply_json(r, 200, arr);
}

int h_webhook_sub_create(struct request *r)
{
    if (!allowed(r, true))
        return 0;
    const char *url = json_string_value(json_object_get(r->json, "url"));
    if (!url || strlen(url) >= sizeof subs[0].url ||
        (strncmp(url, "http://127.0.0.1:", 17) != 0 && strncmp(url, "http://localhost:", 17) != 0))
        return reply_error(r, 422, "url", "invalid_attribute_value",
                           "url must be an http://127.0.0.1:PORT/ URL (the sandbox delivers "
                           "to loopback only)");
    unsigned types;
    if (!parse_types(r, &types))
        return 0;
    pthread_once(&once, start_thread);
    pthread_mutex_lock(&lock);
    struct sub *s = NULL;
    for (int i = 0; i < MAX_SUBS && !s; i++)
        if (!subs[i].used)
            s = &subs[i];
    if (!s) {
        pthread_mutex_unlock(&lock);
        return reply_error(r, 422, "base", "invalid_operation", "too many subscriptions");
    }
    memset(s, 0, sizeof *s);
    s->used = true;
    uuid_random(s->uuid);
    snprintf(s->company, sizeof s->company, "%s", r->auth.company_uuid);
    snprintf(s->owner, sizeof s->owner, "%s", caller(r));
    snprintf(s->url, sizeof s->url, "%s", url);
    unsigned char rnd[32];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        s->used = false;
        pthread_mutex_unlock(&lock);
        return reply_error(r, 500, "request", "internal_error", "no randomness");
    }
    for (int i = 0; i < 32; i++)
        snprintf(s->token + 2 * i, 3, "%02x", rnd[i]);
    snprintf(s->status, sizeof s->status, "pending");
    s->types = types;
    send_token_locked(s);
    json_t *out = sub_json(s);
    pthread_mutex_unlock(&lock);
    return reply_json(r, 201, out);
}

/* The subscription in params[0] visible to the caller, with the lock held;
 * NULL (lock released, 404 sent) otherwise. */
static struct sub *lookup(struct request *r, bool write)
{
    if (!allowed(r, write))
        return NULL;
    pthread_mutex_lock(&lock);
    struct sub *s = find_locked(r->params[0]);
    if (!s || strcmp(s->owner, caller(r)) != 0) {
        pthread_mutex_unlock(&lock);
        reply_not_found(r);
        return NULL;
    }
    return s;
}

int h_webhook_sub_get(struct request *r)
{
    struct sub *s = lookup(r, false);
    if (!s)
        return 0;
    json_t *out = sub_json(s);
    pthread_mutex_unlock(&lock);
    return reply_json(r, 200, out);
}

int h_webhook_sub_update(struct request *r)
{
    unsigned types;
    if (!parse_types(r, &types))
        return 0;
    struct sub *s = lookup(r, true);
    if (!s)
        return 0;
    s->types = types;
    json_t *out = sub_json(s);
    pthread_mutex_unlock(&lock);
    return reply_json(r, 200, out);
}

int h_webhook_sub_delete(struct request *r)
{
    struct sub *s = lookup(r, true);
    if (!s)
        return 0;
    s->used = false;
    pthread_mutex_unlock(&lock);
    return reply_empty(r, 204);
}

int h_webhook_sub_verify(struct request *r)
{
    const char *tok = json_string_value(json_object_get(r->json, "verification_token"));
    struct sub *s = lookup(r, true);
    if (!s)
        return 0;
    if (!tok || strlen(tok) != strlen(s->token) ||
        CRYPTO_memcmp(tok, s->token, strlen(s->token)) != 0) {
        pthread_mutex_unlock(&lock);
        return reply_error(r, 422, "verification_token", "invalid_attribute_value",
                           "verification_token does not match");
    }
    snprintf(s->status, sizeof s->status, "verified");
    json_t *out = sub_json(s);
    pthread_mutex_unlock(&lock);
    return reply_json(r, 200, out);
}

int h_webhook_sub_request_token(struct request *r)
{
    struct sub *s = lookup(r, true);
    if (!s)
        return 0;
    send_token_locked(s);
    json_t *out = json_pack("{s:s}", "webhook_subscription_uuid", s->uuid);
    pthread_mutex_unlock(&lock);
    return reply_json(r, 200, out);
}

/* GET /v1/webhooks/health_check: healthy when a delivery succeeded in the
 * last ten minutes and none failed after it, unhealthy when the latest one
 * failed, unknown without deliveries. */
int h_webhooks_health(struct request *r)
{
    if (!allowed(r, false))
        return 0;
    pthread_mutex_lock(&lock);
    long long ok = last_ok_ms, fail = last_fail_ms;
    pthread_mutex_unlock(&lock);
    long long now = now_ms(), recent = now - 10 * 60 * 1000;
    const char *status = ok < recent && fail < recent ? "unknown"
                         : fail > ok                  ? "unhealthy"
                                                      : "healthy";
    char when[40];
    now_iso8601(when);
    return reply_json(r, 200,
                      json_pack("{s:s, s:s}", "status", status, "last_checked_at", when));
}

/* Gusto's Employee events (app-integrations/docs/webhook-events,
 * v2026-02-01).  The sandbox raises the first kind itself; the rest only
 * through POST /sandbox/webhook_events (docs/sandbox.md). */
static const char *const EMPLOYEE_EVENTS[] = {
    "employee.created", "employee.updated", "employee.onboarded",
    "employee.marked_for_self_onboarding", "employee.self_onboarding_completed",
    "employee.terminated", "employee.termination_effective", "employee.termination_cancelled",
    "employee.rehired", "employee.rehire_effective", "employee.rehire_cancelled",
    "employee.deleted", "employee.payment_method_type_updated",
    "employee.payment_method.deleted", "employee.invited_to_partner_portal", NULL};

/* POST /sandbox/webhook_events {"event_type", "entity_uuid"}: a sandbox-only
 * way to raise an Employee event that no sandbox endpoint raises (an
 * onboarding finished in Gusto's UI, a scheduled termination taking effect,
 * a rehire cancelled).  The employee must be the token's company's. */
int h_webhook_fire(struct request *r)
{
    const char *type = json_string_value(json_object_get(r->json, "event_type"));
    const char *emp = json_string_value(json_object_get(r->json, "entity_uuid"));
    bool known = false;
    for (int i = 0; type && EMPLOYEE_EVENTS[i]; i++)
        known |= strcmp(type, EMPLOYEE_EVENTS[i]) == 0;
    struct errlist e = {0};
    if (!known)
        errlist_add(&e, "event_type", "invalid_attribute_value",
                    "event_type must be one of Gusto's Employee events, such as "
                    "employee.onboarded or employee.rehire_cancelled");
    if (!emp || !valid_uuid(emp))
        errlist_add(&e, "entity_uuid", "invalid_attribute_value",
                    "entity_uuid must be an employee's UUID");
    if (e.errors)
        return reply_errlist(r, &e);
    if (AUTH_IS_SYSTEM(r) || !own_employee(r, emp))
        return reply_not_found(r);
    webhook_emit("Employee", type, r->auth.company_uuid, emp);
    return reply_json(r, 202, json_pack("{s:s, s:s, s:s}", "event_type", type, "resource_uuid",
                                        r->auth.company_uuid, "entity_uuid", emp));
}
