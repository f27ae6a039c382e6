/* rcache.c - a cache of rendered employee JSON: the compact text of one
 * employee, keyed by its uuid and the render options, valid for one database
 * generation (db_generation(): it moves on every committed write to any
 * table) and one calendar day (the "current" rules depend on today), per
 * API version (the options key holds it: shapes differ by version).
 *
 * Rendering an employee takes about 20 SQLite statements and a JSON parse
 * of every stored document; a hit is a copy of the text.  Invalidation is
 * global on purpose: a write to a job, a compensation, an address, a
 * location, a time-off balance or the company changes what an employee
 * renders to, and a generation per database catches all of them without a
 * dependency map.  The table is 4-way set associative (a put into a full
 * set replaces an entry of an older generation, else the least recently
 * used) and its text is capped in total, so memory stays bounded whatever
 * the number of employees. */
#include "sandbox/sandbox.h"
#include "shared/apiver.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SETS 8192                       /* power of two */
#define WAYS 4
#define LOCKS 256                       /* set i is guarded by lock i % LOCKS */
/* The locks are read-write: a get (every GET employee, all of them on the
 * same set when a benchmark asks for one employee) only reads, so gets
 * never wait for each other. */
#define MAX_BYTES (64u * 1024 * 1024)   /* all cached text together */
#define MAX_TEXT (256u * 1024)          /* larger renders are not kept */

struct slot {
    char uuid[SB_UUID_LEN + 1];
    char company[SB_UUID_LEN + 1];
    char day[11];
    unsigned opts;
    uint64_t gen;
    char *text;                         /* malloc'd, len bytes, no NUL */
    size_t len;
    atomic_uint_fast64_t used;          /* tick of the last get or put */
};

static struct slot slots[SETS][WAYS];
static atomic_uint_fast64_t tick;
static pthread_rwlock_t locks[LOCKS];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_size_t total_bytes;

static void init_locks(void)
{
    /* Writer-preferring: a steady stream of gets must not keep a put out. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    for (int i = 0; i < LOCKS; i++)
        pthread_rwlock_init(&locks[i], &attr);
    pthread_rwlockattr_destroy(&attr);
}

unsigned rcache_opts_key(const struct render_opts *o)
{
    /* The version's place in the table (0: none given), so each version's
     * rendering is its own entry. */
    size_t n;
    const struct apiver *t = apiver_table(&n);
    const struct apiver *v = apiver_find(o->api_version);
    unsigned ver = v && t ? (unsigned)(v - t) + 1 : 0;
    return (unsigned)o->comp_scope | (unsigned)o->all_compensations << 1 |
           (unsigned)o->all_home_addresses << 2 | (unsigned)o->current_home_address << 3 |
           (unsigned)o->company_name << 4 | (unsigned)o->custom_fields << 5 |
           (unsigned)o->portal_invitations << 6 | ver << 8;
}

static size_t set_of(const char *uuid, unsigned opts)
{
    uint32_t h = 2166136261u;
    for (const char *p = uuid; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ opts) * 16777619u;
    return h & (SETS - 1);
}

static bool slot_matches(const struct slot *s, const char *uuid, unsigned opts, uint64_t gen,
                         const char *day)
{
    return s->text && s->gen == gen && s->opts == opts && strcmp(s->uuid, uuid) == 0 &&
           strcmp(s->day, day) == 0;
}

bool rcache_get(const char *uuid, unsigned opts, uint64_t gen, const char *day,
                struct sbuf *out, char company[SB_UUID_LEN + 1])
{
    pthread_once(&once, init_locks);
    size_t i = set_of(uuid, opts);
    pthread_rwlock_t *l = &locks[i % LOCKS];
    bool hit = false;
    pthread_rwlock_rdlock(l);
    for (int w = 0; w < WAYS && !hit; w++) {
        struct slot *s = &slots[i][w];
        if (!slot_matches(s, uuid, opts, gen, day))
            continue;
        hit = true;
        atomic_store(&s->used, atomic_fetch_add(&tick, 1));
        if (company)
            memcpy(company, s->company, sizeof s->company);
        if (out)
            sbuf_add(out, s->text, s->len);
    }
    pthread_rwlock_unlock(l);
    return hit;
}

void rcache_put(const char *uuid, unsigned opts, uint64_t gen, const char *day,
                const char *company, const char *text, size_t len)
{
    if (strlen(uuid) > SB_UUID_LEN || strlen(company) > SB_UUID_LEN || strlen(day) > 10 ||
        len > MAX_TEXT)
        return;
    pthread_once(&once, init_locks);
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return;
    memcpy(copy, text, len);
    size_t i = set_of(uuid, opts);
    pthread_rwlock_t *l = &locks[i % LOCKS];
    pthread_rwlock_wrlock(l);
    /* The way to use: this key's own, else an empty one, else the oldest
     * generation's, else the least recently used. */
    struct slot *s = NULL;
    for (int w = 0; w < WAYS && !s; w++) {
        struct slot *c = &slots[i][w];
        if (c->text && c->opts == opts && strcmp(c->uuid, uuid) == 0)
            s = c;
    }
    for (int w = 0; w < WAYS && !s; w++)
        if (!slots[i][w].text)
            s = &slots[i][w];
    if (!s) {
        s = &slots[i][0];
        for (int w = 1; w < WAYS; w++) {
            struct slot *c = &slots[i][w];
            if (c->gen < s->gen ||
                (c->gen == s->gen && atomic_load(&c->used) < atomic_load(&s->used)))
                s = c;
        }
    }
    char *old = s->text;
    size_t old_len = old ? s->len : 0;
    /* Never replace a newer generation's text with an older one, and stay
     * under the cap (replacing a slot frees its text first). */
    if ((old && s->gen > gen) || atomic_load(&total_bytes) - old_len + len > MAX_BYTES) {
        pthread_rwlock_unlock(l);
        free(copy);
        return;
    }
    memcpy(s->uuid, uuid, strlen(uuid) + 1);
    memcpy(s->company, company, strlen(company) + 1);
    memcpy(s->day, day, strlen(day) + 1);
    s->opts = opts;
    s->gen = gen;
    s->text = copy;
    s->len = len;
    atomic_store(&s->used, atomic_fetch_add(&tick, 1));
    atomic_fetch_add(&total_bytes, len);
    atomic_fetch_sub(&total_bytes, old_len);
    pthread_rwlock_unlock(l);
    free(old);
}

void rcache_clear(void)
{
    pthread_once(&once, init_locks);
    for (size_t i = 0; i < SETS; i++) {
        pthread_rwlock_t *l = &locks[i % LOCKS];
        pthread_rwlock_wrlock(l);
        for (int w = 0; w < WAYS; w++) {
            free(slots[i][w].text);
            slots[i][w].text = NULL;
            slots[i][w].len = 0;
        }
        pthread_rwlock_unlock(l);
    }
    atomic_store(&total_bytes, 0);
}

/* ---- growable text buffer ------------------------------------------------ */

void sbuf_reserve(struct sbuf *b, size_t n)
{
    if (b->oom || n <= b->cap)
        return;
    char *p = realloc(b->p, n);
    if (!p) {
        b->oom = true;
        return;
    }
    if (!b->p)
        p[0] = 0;
    b->p = p;
    b->cap = n;
}

void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) {
            if (cap > SIZE_MAX / 2) {
                b->oom = true;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
