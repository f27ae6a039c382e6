/* limits.c - the per-grant rate limiter and seeded fault injection.
 *
 * Rate limit: Gusto allows 200 requests per rolling 60 s per grant.  Each
 * grant keeps 60 one-second buckets; the window is the last 60 buckets, so
 * memory stays constant whatever the limit.
 *
 * Faults: "--faults 500:0.05,429:0.05,drop:0.02,delay:0.05@2000".  The n-th
 * request's fate is a pure function of (seed, n), so a sequential client sees
 * the same faults at the same requests on every run with the same seed. */
#include "sandbox/sandbox.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW 60
#define GRANT_BUCKETS 1024

struct grant {
    char id[65];
    int64_t sec[WINDOW];     /* which second each bucket counts */
    int count[WINDOW];
    struct grant *next;
};

static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct grant *grants[GRANT_BUCKETS];
static int rl_limit;

static struct {
    enum fault kind;
    double p;
    int delay_ms;
} fault_rules[8];
static int nfault_rules;
static uint64_t fault_seed;
static atomic_ulong fault_counter;

static unsigned hash_str(const char *s)
{
    unsigned h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static int parse_faults(const char *spec, char *err, size_t errlen)
{
    char buf[256];
    if (strlen(spec) >= sizeof buf) {
        snprintf(err, errlen, "--faults: spec too long");
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (nfault_rules == (int)(sizeof fault_rules / sizeof fault_rules[0])) {
            snprintf(err, errlen, "--faults: too many rules");
            return -1;
        }
        char *colon = strchr(tok, ':');
        if (!colon) {
            snprintf(err, errlen, "--faults: '%s' should be KIND:PROBABILITY", tok);
            return -1;
        }
        *colon = 0;
        enum fault k;
        if (strcmp(tok, "500") == 0) k = FAULT_500;
        else if (strcmp(tok, "429") == 0) k = FAULT_429;
        else if (strcmp(tok, "drop") == 0) k = FAULT_DROP;
        else if (strcmp(tok, "delay") == 0) k = FAULT_DELAY;
        else if (strcmp(tok, "lost") == 0) k = FAULT_LOST;
        else {
            snprintf(err, errlen, "--faults: unknown kind '%s' (500, 429, drop, delay, lost)",
                     tok);
            return -1;
        }
        char *end = NULL;
        double p = strtod(colon + 1, &end);
        int delay = 2000;
        if (end && *end == '@') {
            char *e2 = NULL;
            long d = strtol(end + 1, &e2, 10);
            if (k != FAULT_DELAY || !e2 || *e2 || d < 0 || d > 60000) {
                snprintf(err, errlen, "--faults: bad delay in '%s'", colon + 1);
                return -1;
            }
            delay = (int)d;
            end = e2;
        }
        if (end == colon + 1 || *end || p < 0 || p > 1) {
            snprintf(err, errlen, "--faults: probability for %s must be 0..1", tok);
            return -1;
        }
        fault_rules[nfault_rules].kind = k;
        fault_rules[nfault_rules].p = p;
        fault_rules[nfault_rules].delay_ms = delay;
        nfault_rules++;
    }
    return 0;
}

int limits_init(int per_minute, const char *spec, uint64_t seed, char *err,
                size_t errlen)
{
    rl_limit = per_minute;
    fault_seed = seed;
    atomic_store(&fault_counter, 0);
    nfault_rules = 0;
    return spec && *spec ? parse_faults(spec, err, errlen) : 0;
}

void limits_shutdown(void)
{
    pthread_mutex_lock(&rl_lock);
    for (int i = 0; i < GRANT_BUCKETS; i++) {
        struct grant *g = grants[i];
        while (g) {
            struct grant *n = g->next;
            free(g);
            g = n;
        }
        grants[i] = NULL;
    }
    pthread_mutex_unlock(&rl_lock);
}

bool ratelimit_take(struct request *r)
{
    if (rl_limit <= 0)
        return true;
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&rl_lock);
    unsigned b = hash_str(r->auth.grant_id) % GRANT_BUCKETS;
    struct grant *g = grants[b];
    while (g && strcmp(g->id, r->auth.grant_id) != 0)
        g = g->next;
    if (!g) {
        g = calloc(1, sizeof *g);
        if (!g) {
            pthread_mutex_unlock(&rl_lock);
            return true;
        }
        snprintf(g->id, sizeof g->id, "%s", r->auth.grant_id);
        g->next = grants[b];
        grants[b] = g;
    }
    int used = 0;
    int64_t oldest = now;
    for (int i = 0; i < WINDOW; i++) {
        if (g->sec[i] > now - WINDOW && g->count[i] > 0) {
            used += g->count[i];
            if (g->sec[i] < oldest)
                oldest = g->sec[i];
        }
    }
    bool allowed = used < rl_limit;
    if (allowed) {
        int slot = (int)(now % WINDOW);
        if (g->sec[slot] != now) {
            g->sec[slot] = now;
            g->count[slot] = 0;
        }
        g->count[slot]++;
        used++;
    }
    pthread_mutex_unlock(&rl_lock);

    /* The window frees its oldest requests 60 s after they were made. */
    int64_t reset = (used > 0 ? oldest : now) + WINDOW;
    char v[64];
    snprintf(v, sizeof v, "%d", rl_limit);
    req_add_header(r, "X-RateLimit-Limit", v);
    snprintf(v, sizeof v, "%d", allowed ? rl_limit - used : 0);
    req_add_header(r, "X-RateLimit-Remaining", v);
    time_t rt = (time_t)reset;
    struct tm tm;
    localtime_r(&rt, &tm);
    strftime(v, sizeof v, "%Y-%m-%d %H:%M:%S %z", &tm);
    req_add_header(r, "X-RateLimit-Reset", v);
    if (!allowed) {
        long wait = (long)(reset - now);
        snprintf(v, sizeof v, "%ld", wait > 0 ? wait : 1);
        req_add_header(r, "Retry-After", v);
    }
    return allowed;
}

enum fault fault_next(int *delay_ms)
{
    if (nfault_rules == 0)
        return FAULT_NONE;
    uint64_t n = atomic_fetch_add(&fault_counter, 1);
    uint64_t s = fault_seed ^ (n * 0x9e3779b97f4a7c15ULL);
    double u = (double)(splitmix64(&s) >> 11) / (double)(1ULL << 53);
    double acc = 0;
    for (int i = 0; i < nfault_rules; i++) {
        acc += fault_rules[i].p;
        if (u < acc) {
            *delay_ms = fault_rules[i].delay_ms;
            return fault_rules[i].kind;
        }
    }
    return FAULT_NONE;
}
