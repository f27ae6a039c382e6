/* sync.c - the sync engine (see sync.h): lease, list, per-employee fetches
 * for what the list lacks, change detection by hashes, the termination
 * safeguard, one transaction per company snapshot, and event delivery. */
#include "sync/sync.h"

#include "sync/profile.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the previous snapshot, by employee uuid ------------------------------ */

struct prev {
    char uuid[40];
    long long rev;           /* 0: not stored before (seen first in this run) */
    char status[16];
    char content_hash[65];
    char entry_hash[65];
    char *extra;
    bool seen;
    const char *final;       /* status after this sync (NULL: as before) */
};

struct map {
    struct prev **slots;
    size_t cap, n;
};

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int map_grow(struct map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    struct prev **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        struct prev *p = m->slots[i];
        if (!p)
            continue;
        size_t k = hash_str(p->uuid) & (cap - 1);
        while (slots[k])
            k = (k + 1) & (cap - 1);
        slots[k] = p;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

static struct prev *map_get(const struct map *m, const char *uuid)
{
    if (!m->cap)
        return NULL;
    for (size_t k = hash_str(uuid) & (m->cap - 1); m->slots[k]; k = (k + 1) & (m->cap - 1))
        if (strcmp(m->slots[k]->uuid, uuid) == 0)
            return m->slots[k];
    return NULL;
}

static struct prev *map_add(struct map *m, const char *uuid)
{
    if ((m->n + 1) * 2 > m->cap && map_grow(m) != 0)
        return NULL;
    struct prev *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->uuid, sizeof p->uuid, "%s", uuid);
    size_t k = hash_str(uuid) & (m->cap - 1);
    while (m->slots[k])
        k = (k + 1) & (m->cap - 1);
    m->slots[k] = p;
    m->n++;
    return p;
}

static void map_free(struct map *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i]) {
            free(m->slots[i]->extra);
            free(m->slots[i]);
        }
    }
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* ---- entries whose raw text changed ---------------------------------------- */

struct pend {
    struct prev *prev;       /* rev 0 when new */
    char entry_hash[65];
    char *profile;           /* canonical JSON */
    char *extra;             /* JSON or NULL */
    bool fetch;              /* needs GET .../work_addresses */
    bool removed;            /* gone from Gusto */
    bool skip;
    const char *status;      /* active, onboarding, terminated or removed (static) */
    char *work_email;        /* lower case, or NULL */
    char *personal_email;
    /* decided in classify() */
    const char *type;        /* event type, NULL for a row-only write */
    char content_hash[65];
    long long new_rev;
    char *old_profile;
};

struct ctx {
    struct mstore *st;
    gusto_client *client;
    const char *company;
    const struct sync_opts *o;
    sync_progress_fn progress;
    void *ud;
    struct sync_status status;
    struct sync_result *res;
    struct map map;
    struct pend *pend;
    size_t npend, cappend;
    char token[33];
    bool leased;
    long long last_renew_ms;
    unsigned long req0;
    long long prev_generation;
    bool stop_lease;
    long long started_wall_ms;
};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void now_iso(char out[40])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100, (int)(ts.tv_nsec / 1000000) % 1000);
}

static void report(struct ctx *c, const char *phase)
{
    c->status.phase = phase;
    c->status.requests = gusto_request_count(c->client) - c->req0;
    if (c->progress)
        c->progress(c->ud, &c->status);
}

static void skip(struct ctx *c, const char *uuid, const char *fmt, const char *detail)
{
    char reason[800];
    snprintf(reason, sizeof reason, fmt, detail ? detail : "");
    json_array_append_new(c->res->skipped, json_pack("{s:s?, s:s}", "employee_uuid",
                                                     uuid, "reason", reason));
}

static struct pend *pend_add(struct ctx *c)
{
    if (c->npend == c->cappend) {
        size_t cap = c->cappend ? c->cappend * 2 : 256;
        struct pend *p = realloc(c->pend, cap * sizeof *p);
        if (!p)
            return NULL;
        c->pend = p;
        c->cappend = cap;
    }
    struct pend *p = &c->pend[c->npend++];
    memset(p, 0, sizeof *p);
    return p;
}

static int load_prev(void *ud, const struct mrow *r)
{
    struct ctx *c = ud;
    struct prev *p = map_add(&c->map, r->uuid);
    if (!p)
        return 1;
    p->rev = r->rev;
    snprintf(p->status, sizeof p->status, "%s", r->status ? r->status : "");
    snprintf(p->content_hash, sizeof p->content_hash, "%s", r->content_hash ? r->content_hash : "");
    snprintf(p->entry_hash, sizeof p->entry_hash, "%s", r->entry_hash ? r->entry_hash : "");
    p->extra = r->extra ? strdup(r->extra) : NULL;
    return 0;
}

static bool is_in(const char *status)
{
    return strcmp(status, "active") == 0 || strcmp(status, "onboarding") == 0;
}

/* Take one employee entry (from the list, or read alone). */
static char *lower_dup(const json_t *v)
{
    const char *s = json_string_value(v);
    char *d = s ? strdup(s) : NULL;
    for (char *p = d; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

/* Cache what the write needs from a profile, so it is parsed once. */
static void note_profile(struct pend *d, const json_t *prof)
{
    const char *ps = profile_status(prof);
    d->status = d->removed                      ? "removed"
                : strcmp(ps, "terminated") == 0 ? "terminated"
                : strcmp(ps, "onboarding") == 0 ? "onboarding"
                                                : "active";
    free(d->work_email);
    free(d->personal_email);
    d->work_email = lower_dup(json_object_get(prof, "work_email"));
    d->personal_email = lower_dup(json_object_get(prof, "personal_email"));
}

/* The uuid of an entry without parsing it, when the text starts with it (as
 * Gusto's employee objects do, and libgusto keeps their key order). */
static bool quick_uuid(const char *text, size_t len, char out[40])
{
    static const char key[] = "{\"uuid\":\"";
    size_t k = sizeof key - 1;
    if (len < k + 37 || memcmp(text, key, k) != 0 || text[k + 36] != '"')
        return false;
    for (size_t i = 0; i < 36; i++) {
        char ch = text[k + i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') ||
              ch == '-'))
            return false;
    }
    memcpy(out, text + k, 36);
    out[36] = 0;
    return true;
}

static int take_entry(struct ctx *c, const char *text, size_t len)
{
    char eh[65], quick[40];
    sha256_hex(text, len, eh);
    if (c->res->name[0] && quick_uuid(text, len, quick)) {
        /* The common case, an unchanged entry, costs a hash and no parse. */
        struct prev *q = map_get(&c->map, quick);
        if (q && !q->seen && q->rev > 0 && strcmp(q->entry_hash, eh) == 0 &&
            strcmp(q->status, "removed") != 0) {
            q->seen = true;
            c->res->unchanged++;
            return 0;
        }
    }
    json_error_t je;
    json_t *e = json_loadb(text, len, 0, &je);
    const char *uuid = json_string_value(json_object_get(e, "uuid"));
    if (!e || !uuid || !*uuid) {
        skip(c, NULL, "an entry of the list is not an employee object%s", "");
        json_decref(e);
        return 0;
    }
    if (!c->res->name[0]) {
        const char *n = json_string_value(json_object_get(e, "company_name"));
        if (n)
            snprintf(c->res->name, sizeof c->res->name, "%s", n);
    }
    struct prev *p = map_get(&c->map, uuid);
    if (p && p->seen) {
        json_decref(e); /* listed twice (pages shifted): the first one counts */
        return 0;
    }
    if (!p && !(p = map_add(&c->map, uuid))) {
        json_decref(e);
        return -1;
    }
    p->seen = true;
    if (p->rev > 0 && strcmp(p->entry_hash, eh) == 0 && strcmp(p->status, "removed") != 0) {
        c->res->unchanged++;
        json_decref(e);
        return 0;
    }
    struct pend *d = pend_add(c);
    json_t *prof = profile_build(e, NULL);
    if (!d || !prof) {
        json_decref(prof);
        json_decref(e);
        return -1;
    }
    d->prev = p;
    snprintf(d->entry_hash, sizeof d->entry_hash, "%s", eh);
    d->fetch = profile_needs_work_address(e);
    d->profile = profile_canonical(prof);
    note_profile(d, prof);
    json_decref(prof);
    json_decref(e);
    return d->profile ? 0 : -1;
}

/* Is the lease's holder a process of this host that has died?  Workers
 * name themselves HOST:PID (gusto-connect sync's default) or NAME@HOST:PID (gusto-connect
 * serve's worker); another name, another host, or a live process: no (the
 * lease then ends when it expires). */
static bool holder_dead(const struct mcompany *h)
{
    const char *colon = strrchr(h->lease_owner, ':');
    const char *at = strchr(h->lease_owner, '@');
    const char *hs = at && at < colon ? at + 1 : h->lease_owner;
    if (!colon || colon == hs || !colon[1])
        return false;
    char *end;
    errno = 0;
    long pid = strtol(colon + 1, &end, 10);
    if (*end || errno || pid <= 1 || pid > 0x7fffffffL)
        return false;
    char host[64] = "";
    if (gethostname(host, sizeof host) != 0)
        return false;
    host[sizeof host - 1] = 0;
    if (strlen(host) != (size_t)(colon - hs) || strncmp(host, hs, strlen(host)) != 0)
        return false;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int renew_lease(struct ctx *c)
{
    if (c->o->interrupted && *c->o->interrupted) {
        c->res->status = "interrupted";
        snprintf(c->res->message, sizeof c->res->message,
                 "interrupted; nothing was written for company %s, and its lease was "
                 "released", c->company);
        return -1;
    }
    if (!c->leased)
        return 0;
    long long now = mono_ms();
    if (now - c->last_renew_ms < c->o->lease_ttl_ms / 3)
        return 0;
    c->last_renew_ms = now;
    int rc = mstore_lease_renew(c->st, c->company, c->token, c->o->lease_ttl_ms);
    if (rc != 0) {
        c->stop_lease = true;
        snprintf(c->res->message, sizeof c->res->message,
                 rc > 0 ? "the lease on company %s was lost to another worker; nothing was "
                          "written"
                        : "could not renew the lease on company %s; nothing was written",
                 c->company);
        return -1;
    }
    return 0;
}

static int on_entry(void *ud, const char *json, size_t len)
{
    struct ctx *c = ud;
    c->status.employees++;
    c->status.page = (int)((c->status.employees - 1) / SYNC_PER_PAGE) + 1;
    report(c, "list");
    if (renew_lease(c) != 0)
        return 1;
    if (take_entry(c, json, len) != 0) {
        snprintf(c->res->message, sizeof c->res->message, "out of memory");
        return 1;
    }
    return 0;
}

/* GET one employee alone (it was missing from the list).  1 when Gusto no
 * longer has it, 0 when it was taken as an entry, -1 on error. */
static int read_one(struct ctx *c, const char *uuid)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/employees/%s?include=%s", uuid, SYNC_LIST_INCLUDE);
    long status = 0;
    char *body = NULL;
    gusto_error err;
    gusto_code rc = gusto_request(c->client, "GET", path, NULL, &status, &body, &err);
    if (rc == GUSTO_ENOTFOUND) {
        gusto_free(body);
        return 1;
    }
    if (rc != GUSTO_OK) {
        c->res->err = err;
        gusto_free(body);
        return -1;
    }
    struct prev *p = map_get(&c->map, uuid);
    if (p)
        p->seen = false; /* take_entry marks it */
    int r = take_entry(c, body, strlen(body));
    gusto_free(body);
    return r;
}

/* Say before a per-employee phase how many requests it needs and how long
 * the rate limit makes it take (each request is one GET). */
static void estimate(struct ctx *c, const char *phase, const char *what, size_t requests)
{
    if (requests == 0)
        return;
    int rate = c->o->rate_per_minute > 0 ? c->o->rate_per_minute : SYNC_GUSTO_RATE_PER_MIN;
    json_int_t seconds = (json_int_t)((requests * 60 + (size_t)rate - 1) / (size_t)rate);
    json_t *e = json_pack("{s:s, s:s, s:I, s:i, s:I}", "phase", phase, "what", what,
                          "requests", (json_int_t)requests, "rate_per_minute", rate,
                          "seconds", seconds);
    if (!e)
        return;
    if (c->res->estimates)
        json_array_append(c->res->estimates, e);
    if (c->o->estimate)
        c->o->estimate(c->o->estimate_ud, c->res, e);
    json_decref(e);
}

/* Employees missing from the list: confirm each is gone before calling it
 * removed (an employee deleted while the pages were read shifts the next
 * pages by one, which must not look like a departure). */
static int check_missing(struct ctx *c)
{
    size_t n = 0;
    struct prev **missing = calloc(c->map.n + 1, sizeof *missing);
    if (!missing)
        return -1;
    for (size_t i = 0; i < c->map.cap; i++) {
        struct prev *p = c->map.slots[i];
        if (p && !p->seen && p->rev > 0 && strcmp(p->status, "removed") != 0)
            missing[n++] = p;
    }
    int rc = 0;
    size_t gets = 0;
    for (size_t i = 0; i < n; i++)
        gets += is_in(missing[i]->status);
    estimate(c, "missing", "employees missing from the list, each confirmed gone", gets);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct prev *p = missing[i];
        if (!is_in(p->status))
            continue; /* a departed employee deleted later: keep the record */
        report(c, "fetch");
        int r = read_one(c, p->uuid);
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 1) {
            p->seen = true;
            struct pend *d = pend_add(c);
            if (!d) {
                rc = -1;
                break;
            }
            d->prev = p;
            d->removed = true;
            snprintf(d->entry_hash, sizeof d->entry_hash, "%s", p->entry_hash);
        }
    }
    free(missing);
    return rc;
}

/* The per-employee requests: only for changed entries that lack the work
 * location. */
static int fetch_parts(struct ctx *c)
{
    for (size_t i = 0; i < c->npend; i++)
        c->status.to_fetch += c->pend[i].fetch;
    estimate(c, "work_addresses", "employees' work addresses", c->status.to_fetch);
    for (size_t i = 0; i < c->npend; i++) {
        struct pend *d = &c->pend[i];
        if (!d->fetch)
            continue;
        if (renew_lease(c) != 0)
            return -1;
        char path[128];
        snprintf(path, sizeof path, "/v1/employees/%s/work_addresses", d->prev->uuid);
        long status = 0;
        char *body = NULL;
        gusto_error err;
        gusto_code rc = gusto_request(c->client, "GET", path, NULL, &status, &body, &err);
        c->status.fetched++;
        report(c, "fetch");
        if (rc == GUSTO_ENOTFOUND || rc == GUSTO_EFORBIDDEN) {
            skip(c, d->prev->uuid, "its work address could not be read: %s", err.message);
            d->skip = true;
            gusto_free(body);
            continue;
        }
        if (rc != GUSTO_OK) {
            c->res->err = err;
            gusto_free(body);
            return -1;
        }
        json_t *list = json_loads(body, 0, NULL);
        gusto_free(body);
        json_t *extra = json_is_array(list) ? profile_extra_from_work_addresses(list) : NULL;
        json_decref(list);
        json_t *prof = json_loads(d->profile, 0, NULL);
        if (!extra || !prof) {
            json_decref(extra);
            json_decref(prof);
            skip(c, d->prev->uuid, "its work addresses were not a JSON array%s", "");
            d->skip = true;
            continue;
        }
        json_object_set(prof, "work_location", json_object_get(extra, "work_address"));
        free(d->profile);
        d->profile = profile_canonical(prof);
        d->extra = json_dumps(extra, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(prof);
        json_decref(extra);
        if (!d->profile)
            return -1;
    }
    return 0;
}

/* Decide each changed entry's event.  Returns the number of departures. */
static long classify(struct ctx *c)
{
    long departures = 0;
    for (size_t i = 0; i < c->npend; i++) {
        struct pend *d = &c->pend[i];
        if (d->skip)
            continue;
        struct prev *p = d->prev;
        if (d->removed) {
            d->old_profile = mstore_profile(c->st, c->company, p->uuid);
            json_t *prof = d->old_profile ? json_loads(d->old_profile, 0, NULL) : NULL;
            if (!prof)
                prof = json_pack("{s:s}", "employee_uuid", p->uuid);
            json_object_set_new(prof, "employment_status", json_string("removed"));
            d->profile = profile_canonical(prof);
            note_profile(d, prof);
            json_decref(prof);
            d->extra = p->extra ? strdup(p->extra) : NULL;
        }
        if (!d->profile)
            continue;
        sha256_hex(d->profile, strlen(d->profile), d->content_hash);
        if (p->rev == 0) {
            d->type = "employee.created";
            d->new_rev = 1;
            c->res->created++;
            continue;
        }
        if (strcmp(p->content_hash, d->content_hash) == 0) {
            d->type = NULL; /* the raw entry moved, the profile did not */
            d->new_rev = p->rev;
            c->res->unchanged++;
            continue;
        }
        d->new_rev = p->rev + 1;
        if (!d->old_profile)
            d->old_profile = mstore_profile(c->st, c->company, p->uuid);
        bool was_in = is_in(p->status), now_in = is_in(d->status);
        if (was_in && !now_in) {
            d->type = "employee.terminated";
            c->res->terminated++;
            departures++;
        } else if (!was_in && now_in) {
            d->type = "employee.rehired";
            c->res->rehired++;
        } else {
            d->type = "employee.updated";
            c->res->updated++;
        }
    }
    return departures;
}

/* Every departure classify() found, for the person deciding on --confirm. */
static json_t *departures_json(struct ctx *c)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < c->npend; i++) {
        struct pend *d = &c->pend[i];
        if (d->skip || !d->type || strcmp(d->type, "employee.terminated") != 0)
            continue;
        json_t *prof = d->profile ? json_loads(d->profile, 0, NULL) : NULL;
        json_t *old = d->old_profile ? json_loads(d->old_profile, 0, NULL) : NULL;
        const json_t *who = d->removed && old ? old : prof;
        char name[200] = "";
        if (who)
            profile_display_name(who, name, sizeof name);
        json_t *o = json_pack("{s:s, s:s, s:O?, s:O?, s:s, s:O?}", "employee_uuid",
                              d->prev->uuid, "name", name, "work_email",
                              json_object_get(who, "work_email"), "personal_email",
                              json_object_get(who, "personal_email"), "reason",
                              d->removed ? "removed" : "terminated", "termination_date",
                              json_object_get(who, "termination_date"));
        if (o)
            json_array_append_new(list, o);
        json_decref(prof);
        json_decref(old);
    }
    return list;
}

static json_t *make_event(struct ctx *c, const struct pend *d, long long generation,
                          const char *when)
{
    json_t *prof = json_loads(d->profile, 0, NULL);
    json_t *old = d->old_profile ? json_loads(d->old_profile, 0, NULL) : NULL;
    if (!prof) {
        json_decref(old);
        return NULL;
    }
    char key[200], id[65], name[200];
    snprintf(key, sizeof key, "%s/%s/%lld", c->company, d->prev->uuid, d->new_rev);
    sha256_hex(key, strlen(key), id);
    id[32] = 0;
    profile_display_name(d->removed && old ? old : prof, name, sizeof name);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "id", id, "type", d->type,
                           "company_uuid", c->company, "employee_uuid", d->prev->uuid,
                           "sequence", (json_int_t)d->new_rev, "generation",
                           (json_int_t)generation, "detected_at", when);
    json_t *who = json_object();
    json_object_set_new(who, "name", json_string(name));
    json_object_set(who, "work_email", json_object_get(d->removed && old ? old : prof,
                                                      "work_email"));
    json_object_set_new(who, "employment_status",
                        json_string(d->removed ? "removed" : profile_status(prof)));
    json_object_set_new(ev, "employee", who);
    if (strcmp(d->type, "employee.created") == 0) {
        json_object_set_new(ev, "profile", profile_masked(prof));
    } else {
        json_object_set_new(ev, "changes", profile_diff(old, prof));
        if (strcmp(d->type, "employee.terminated") == 0) {
            json_object_set(ev, "termination_date",
                            json_object_get(d->removed && old ? old : prof, "termination_date"));
            json_object_set_new(ev, "reason", json_string(d->removed ? "removed"
                                                                     : "terminated"));
        }
    }
    json_decref(prof);
    json_decref(old);
    return ev;
}

static int write_snapshot(struct ctx *c, long long employees, long long active,
                          bool changed, const char *when)
{
    struct sync_result *res = c->res;
    struct mstore *st = c->st;
    if (mstore_begin(st) != 0)
        goto db_fail;
    long long gen = 0;
    int rc = mstore_fence(st, c->company, c->token, res->name[0] ? res->name : NULL,
                          changed ? 1 : 0, employees, active, when, wall_ms(), &gen);
    if (rc != 0) {
        if (rc > 0) {
            c->stop_lease = true;
            snprintf(res->message, sizeof res->message,
                     "the lease on company %s was lost to another worker before the write; "
                     "nothing was written", c->company);
            mstore_rollback(st);
            return -1;
        }
        goto db_fail;
    }
    res->generation = gen;
    for (size_t i = 0; i < c->npend; i++) {
        struct pend *d = &c->pend[i];
        if (d->skip || !d->profile)
            continue;
        struct mput row = {d->prev->uuid, d->prev->rev, d->new_rev, d->status, d->content_hash,
                           d->entry_hash, d->work_email, d->personal_email, d->profile,
                           d->extra, gen, when};
        rc = mstore_put(st, c->company, &row);
        if (rc < 0)
            goto db_fail;
        if (rc > 0) {
            snprintf(res->message, sizeof res->message,
                     "employee %s changed in the mirror during this sync (another writer); "
                     "nothing was written", d->prev->uuid);
            mstore_rollback(st);
            return -1;
        }
        res->rows_written++;
        if (!d->type)
            continue;
        json_t *ev = make_event(c, d, gen, when);
        char *payload = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
        long long id = 0;
        rc = payload ? mstore_add_event(st, json_string_value(json_object_get(ev, "id")),
                                        c->company, d->prev->uuid, d->new_rev, d->type, gen,
                                        when, payload, &id)
                     : -1;
        free(payload);
        if (rc < 0) {
            json_decref(ev);
            goto db_fail;
        }
        if (rc == 0) {
            res->rows_written++;
            res->events_written++;
            if (c->o->keep_events)
                json_array_append(res->events, ev);
        }
        json_decref(ev);
    }
    json_t *sum = sync_result_json(res, false);
    char *text = json_dumps(sum, JSON_COMPACT);
    json_decref(sum);
    rc = mstore_add_run(st, c->company, c->o->worker ? c->o->worker : "",
                        c->started_wall_ms, wall_ms(), gen,
                        changed ? "synced" : "unchanged", text ? text : "{}");
    free(text);
    if (rc != 0 || mstore_commit(st) != 0)
        goto db_fail;
    c->leased = false; /* the fence released it */
    return 0;
db_fail:
    snprintf(res->message, sizeof res->message, "the mirror %s refused the write: %s; "
             "nothing was written", st->target, mstore_error(st));
    mstore_rollback(st);
    return -1;
}

void sync_result_init(struct sync_result *r)
{
    memset(r, 0, sizeof *r);
    r->skipped = json_array();
    r->events = json_array();
    r->estimates = json_array();
    r->status = "failed";
}

void sync_result_free(struct sync_result *r)
{
    json_decref(r->skipped);
    json_decref(r->events);
    json_decref(r->would_terminate);
    json_decref(r->estimates);
    r->skipped = r->events = r->would_terminate = r->estimates = NULL;
}

static void ctx_free(struct ctx *c)
{
    for (size_t i = 0; i < c->npend; i++) {
        free(c->pend[i].profile);
        free(c->pend[i].extra);
        free(c->pend[i].old_profile);
        free(c->pend[i].work_email);
        free(c->pend[i].personal_email);
    }
    free(c->pend);
    map_free(&c->map);
}

/* The one body of sync_company() and sync_employee(): `only` NULL reads the
 * list pages, else just that employee (every other row stays as stored). */
static int run_sync(struct mstore *st, gusto_client *client, const char *company,
                    const char *only, const struct sync_opts *o, sync_progress_fn progress,
                    void *ud, struct sync_result *res)
{
    struct ctx c = {.st = st, .client = client, .company = company, .o = o,
                    .progress = progress, .ud = ud, .res = res};
    long long t0 = mono_ms();
    snprintf(res->company, sizeof res->company, "%s", company);
    c.req0 = gusto_request_count(client);
    c.status.company = company;
    c.status.name = res->name;
    int ret = -1;

    struct mcompany prevc;
    if (mstore_company_get(st, company, &prevc) != 0) {
        snprintf(res->message, sizeof res->message, "cannot read the mirror %s: %s",
                 st->target, mstore_error(st));
        goto out;
    }
    if (prevc.name[0])
        snprintf(res->name, sizeof res->name, "%s", prevc.name);
    c.prev_generation = prevc.generation;
    res->generation = prevc.generation;
    c.status.expected = (size_t)prevc.employees;

    if (!o->dry_run) {
        report(&c, "lease");
        struct mcompany holder;
        int lr = mstore_lease_acquire(st, company, o->worker ? o->worker : "", o->lease_ttl_ms,
                                      c.token, &holder);
        if (lr < 0) {
            snprintf(res->message, sizeof res->message, "cannot take the lease in %s: %s",
                     st->target, mstore_error(st));
            goto out;
        }
        if (lr > 0 && holder_dead(&holder)) {
            lr = mstore_lease_takeover(st, company, &holder, o->worker ? o->worker : "",
                                       o->lease_ttl_ms, c.token);
            if (lr < 0) {
                snprintf(res->message, sizeof res->message, "cannot take the lease in %s: %s",
                         st->target, mstore_error(st));
                goto out;
            }
        }
        if (lr > 0) {
            res->status = "leased";
            long long left = holder.lease_expires_ms - sdb_now_ms(st->db);
            snprintf(res->message, sizeof res->message,
                     "company %s is being synced by worker %s (lease ends in %llds); skipped",
                     company, holder.lease_owner[0] ? holder.lease_owner : "?",
                     left > 0 ? (left + 999) / 1000 : 0);
            goto out;
        }
        c.leased = true;
        c.last_renew_ms = mono_ms();
        c.started_wall_ms = wall_ms();
    }

    if (mstore_load_rows(st, company, load_prev, &c) != 0) {
        snprintf(res->message, sizeof res->message, "cannot read the mirror %s: %s",
                 st->target, mstore_error(st));
        goto out;
    }
    long long active_before = 0;
    for (size_t i = 0; i < c.map.cap; i++)
        if (c.map.slots[i] && is_in(c.map.slots[i]->status))
            active_before++;
    res->active_before = active_before;

    if (only) {
        /* One employee (a webhook said it changed): the others keep their
         * stored rows, so they count as seen. */
        for (size_t i = 0; i < c.map.cap; i++)
            if (c.map.slots[i])
                c.map.slots[i]->seen = true;
        report(&c, "fetch");
        int r = read_one(&c, only);
        res->employees = 1;
        if (r < 0) {
            if (!res->message[0])
                snprintf(res->message, sizeof res->message,
                         "reading employee %s failed: %s; nothing was written", only,
                         res->err.message[0] ? res->err.message : "out of memory");
            goto out;
        }
        struct prev *p = map_get(&c.map, only);
        if (r == 1 && p && p->rev > 0 && strcmp(p->status, "removed") != 0) {
            struct pend *d = pend_add(&c);
            if (!d)
                goto out;
            d->prev = p;
            d->removed = true;
            snprintf(d->entry_hash, sizeof d->entry_hash, "%s", p->entry_hash);
        }
    } else {
        /* 1. The list pages: the only requests an unchanged company costs. */
        report(&c, "list");
        gusto_list_options lo = {.include = SYNC_LIST_INCLUDE, .per_page = SYNC_PER_PAGE};
        gusto_error err;
        size_t total = 0;
        gusto_code rc = gusto_employees_list(client, &lo, on_entry, &c, &total, &err);
        res->list_requests = gusto_request_count(client) - c.req0;
        res->employees = c.status.employees;
        if (rc != GUSTO_OK) {
            if (!res->message[0]) {
                res->err = err;
                snprintf(res->message, sizeof res->message,
                         "reading the employee list failed: %s; nothing was written",
                         err.message);
            }
            goto out;
        }
    }
    /* 2. Per employee: departures to confirm, parts the list lacks. */
    if ((!only && check_missing(&c) != 0) || fetch_parts(&c) != 0) {
        if (!res->message[0])
            snprintf(res->message, sizeof res->message,
                     "reading an employee failed: %s; nothing was written",
                     res->err.message[0] ? res->err.message : "out of memory");
        goto out;
    }
    res->employee_requests = gusto_request_count(client) - c.req0 - res->list_requests;
    long departures = classify(&c);

    bool changed = false;
    for (size_t i = 0; i < c.npend; i++) {
        struct pend *d = &c.pend[i];
        if (d->skip || !d->profile)
            continue;
        d->prev->final = d->status;
        changed |= d->type != NULL;
    }
    long long active_after = 0, employees = 0;
    for (size_t i = 0; i < c.map.cap; i++) {
        struct prev *p = c.map.slots[i];
        if (!p || !p->seen)
            continue;
        const char *fin = p->final ? p->final : p->rev > 0 ? p->status : "";
        if (strcmp(fin, "removed") != 0 && *fin)
            employees++;
        if (is_in(fin))
            active_after++;
    }
    res->active_after = active_after;

    /* A departure seen by one employee's GET (a webhook) is not trusted on
     * its own: a 404 may come from the wrong token or a faulty upstream.
     * The caller confirms it with a company sync, which reads the list. */
    if (only && departures > 0 && !o->confirm) {
        res->status = "confirm";
        ret = 1;
        goto out;
    }

    /* 3. The safeguard against a mass departure that is really a mistake:
     * this run's departures plus those the mirror recorded for the company
     * in the last SYNC_DEPARTURE_WINDOW_S, against the active employees at
     * the window's start, so that departures one run at a time add up. */
    long long window = 0;
    if (departures > 0) {
        char since[40];
        time_t w = (time_t)(wall_ms() / 1000) - SYNC_DEPARTURE_WINDOW_S;
        struct tm tm;
        gmtime_r(&w, &tm);
        strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
        char confirmed[40];
        if (mstore_confirmed_get(st, company, confirmed) == 0 && strcmp(confirmed, since) > 0)
            snprintf(since, sizeof since, "%s", confirmed);
        window = mstore_departures_since(st, company, since);
        if (window < 0) {
            snprintf(res->message, sizeof res->message, "cannot read the mirror %s: %s",
                     st->target, mstore_error(st));
            goto out;
        }
    }
    long long base = active_before + window;
    bool over = !o->confirm && departures > 0 && base > 0 &&
                (double)(departures + window) * 100.0 > o->max_terminated_pct * (double)base;
    if (departures > 0 && (over || o->dry_run)) {
        json_decref(res->would_terminate);
        res->would_terminate = departures_json(&c);
    }
    if (over && o->dry_run) {
        /* A dry run writes nothing anyway: it shows who, and says a real
         * run would stop. */
        res->needs_confirm = true;
        snprintf(res->message, sizeof res->message,
                 "a real run would stop here: it would mark %ld of %lld active employees "
                 "terminated, %lld more in the last 24 hours (%.0f%%, over the %.0f%% "
                 "threshold), and needs --confirm to accept it", departures, active_before,
                 window, (double)(departures + window) * 100.0 / (double)base,
                 o->max_terminated_pct);
    } else if (over) {
        res->status = "refused";
        snprintf(res->message, sizeof res->message,
                 "this sync would mark %ld of %lld active employees terminated, %lld more "
                 "in the last 24 hours (%.0f%%, over the %.0f%% threshold); nothing was "
                 "written. Check the company in Gusto, then run again with --confirm to "
                 "accept it", departures, active_before, window,
                 (double)(departures + window) * 100.0 / (double)base, o->max_terminated_pct);
        goto out;
    }

    char when[40];
    now_iso(when);
    if (o->dry_run) {
        for (size_t i = 0; i < c.npend; i++) {
            struct pend *d = &c.pend[i];
            if (d->skip || !d->type || !d->profile)
                continue;
            json_t *ev = make_event(&c, d, c.prev_generation + 1, when);
            if (ev)
                json_array_append_new(res->events, ev);
        }
        res->generation = c.prev_generation + (changed ? 1 : 0);
        res->status = "dry_run";
        ret = 0;
        goto out;
    }
    /* The last point to stop (sync_opts.interrupted: "stop before the
     * write"): a signal during the reads of a single employee, which has
     * no per-employee fetch to notice it, stops here. */
    if (renew_lease(&c) != 0)
        goto out;
    report(&c, "write");
    if (write_snapshot(&c, employees, active_after, changed, when) != 0)
        goto out;
    /* Departures a person confirmed are not counted again by the window.
     * Just after the events' own created_at, so they fall before it. */
    if (o->confirm && departures > 0) {
        char after[48];
        snprintf(after, sizeof after, "%.23s~", when);
        mstore_confirmed_set(st, company, after);
    }
    res->status = changed ? "synced" : "unchanged";
    ret = 0;
out:
    if (c.leased && !c.stop_lease)
        mstore_lease_release(st, company, c.token);
    res->requests = gusto_request_count(client) - c.req0;
    res->duration_ms = mono_ms() - t0;
    ctx_free(&c);
    return ret;
}

int sync_company(struct mstore *st, gusto_client *client, const char *company,
                 const struct sync_opts *o, sync_progress_fn progress, void *ud,
                 struct sync_result *res)
{
    return run_sync(st, client, company, NULL, o, progress, ud, res);
}

int sync_employee(struct mstore *st, gusto_client *client, const char *company,
                  const char *employee, const struct sync_opts *o, struct sync_result *res)
{
    int rc = run_sync(st, client, company, employee, o, NULL, NULL, res);
    if (rc != 1)
        return rc;
    /* A departure: confirmed against the company's list (and the window's
     * safeguard) by a company sync, which replaces this result. */
    unsigned long requests = res->requests;
    sync_result_free(res);
    sync_result_init(res);
    rc = run_sync(st, client, company, NULL, o, NULL, NULL, res);
    res->requests += requests;
    res->employee_requests += requests;
    return rc;
}

json_t *sync_result_json(const struct sync_result *r, bool with_events)
{
    json_t *o = json_object();
    json_object_set_new(o, "company_uuid", json_string(r->company));
    json_object_set_new(o, "company_name", r->name[0] ? json_string(r->name) : json_null());
    json_object_set_new(o, "status", json_string(r->status));
    json_object_set_new(o, "generation", json_integer(r->generation));
    json_object_set_new(o, "employees", json_integer((json_int_t)r->employees));
    json_object_set_new(o, "created", json_integer(r->created));
    json_object_set_new(o, "updated", json_integer(r->updated));
    json_object_set_new(o, "terminated", json_integer(r->terminated));
    json_object_set_new(o, "rehired", json_integer(r->rehired));
    json_object_set_new(o, "unchanged", json_integer(r->unchanged));
    json_object_set_new(o, "skipped", json_deep_copy(r->skipped));
    json_object_set_new(o, "active_before", json_integer(r->active_before));
    json_object_set_new(o, "active_after", json_integer(r->active_after));
    json_object_set_new(o, "requests",
                        json_pack("{s:I, s:I, s:I}", "total", (json_int_t)r->requests,
                                  "list_pages", (json_int_t)r->list_requests, "per_employee",
                                  (json_int_t)r->employee_requests));
    json_object_set_new(o, "requests_per_employee",
                        json_real(r->employees ? (double)r->requests / (double)r->employees
                                               : 0.0));
    json_object_set_new(o, "rows_written", json_integer(r->rows_written));
    json_object_set_new(o, "events_written", json_integer(r->events_written));
    json_object_set_new(o, "duration_ms", json_integer(r->duration_ms));
    json_object_set_new(o, "rate_limit_waits", json_pack("{s:i, s:I}", "count", (int)r->waits,
                                                         "ms", (json_int_t)r->wait_ms));
    if (r->message[0])
        json_object_set_new(o, "message", json_string(r->message));
    if (r->would_terminate) {
        json_object_set_new(o, "would_terminate", json_deep_copy(r->would_terminate));
        json_object_set_new(o, "needs_confirm",
                            json_boolean(r->needs_confirm || strcmp(r->status, "refused") == 0));
    }
    if (json_array_size(r->estimates))
        json_object_set_new(o, "estimates", json_deep_copy(r->estimates));
    if (r->err.code != GUSTO_OK)
        json_object_set_new(o, "error", json_pack("{s:s, s:I, s:s, s:s}", "code",
                                                  gusto_strerror(r->err.code), "http_status",
                                                  (json_int_t)r->err.http_status, "message",
                                                  r->err.message, "request_id",
                                                  r->err.request_id));
    if (with_events)
        json_object_set_new(o, "events", json_deep_copy(r->events));
    return o;
}

/* ---- delivery -------------------------------------------------------------- */

int sync_deliver_prepare(struct mstore *st, struct sink *sink, char *err, size_t errlen)
{
    const char *key = sink_key(sink);
    if (!key)
        return 0;
    long long cur;
    int rc = mstore_cursor_get(st, key, &cur);
    if (rc == 0)
        return 0;
    long long max = rc > 0 ? mstore_max_event_id(st) : -1;
    if (rc < 0 || max < 0 || mstore_cursor_init(st, key, max) != 0) {
        snprintf(err, errlen, "cannot set up the event cursor in %s: %s", st->target,
                 mstore_error(st));
        return -1;
    }
    return 0;
}

struct batch {
    long long ids[500];
    char *payloads[500];
    int n;
};

static int collect(void *ud, long long id, const char *payload)
{
    struct batch *b = ud;
    if (b->n >= 500)
        return 1;
    b->ids[b->n] = id;
    b->payloads[b->n++] = strdup(payload);
    return 0;
}

static int send_payload(struct sink *sink, const char *payload, char *err, size_t errlen)
{
    json_t *ev = json_loads(payload, 0, NULL);
    const char *id = json_string_value(json_object_get(ev, "id"));
    const char *type = json_string_value(json_object_get(ev, "type"));
    int rc = sink_send(sink, id ? id : "", type ? type : "", payload, err, errlen);
    json_decref(ev);
    return rc;
}

int sync_deliver(struct mstore *st, struct sink *sink, const json_t *fresh, long *sent,
                 char *err, size_t errlen)
{
    *sent = 0;
    const char *key = sink_key(sink);
    if (!key) {
        size_t i;
        json_t *ev;
        json_array_foreach(fresh, i, ev) {
            char *p = json_dumps(ev, JSON_COMPACT);
            int rc = p ? send_payload(sink, p, err, errlen) : -1;
            free(p);
            if (rc)
                return -1;
            (*sent)++;
        }
        return sink_flush(sink, err, errlen);
    }
    for (;;) {
        long long cur;
        if (mstore_cursor_get(st, key, &cur) != 0) {
            snprintf(err, errlen, "cannot read the event cursor: %s", mstore_error(st));
            return -1;
        }
        struct batch *b = calloc(1, sizeof *b);
        if (!b)
            return -1;
        if (mstore_events_after(st, cur, 500, collect, b) != 0) {
            snprintf(err, errlen, "cannot read events: %s", mstore_error(st));
            free(b);
            return -1;
        }
        /* A webhook's receiver has each event once it answered: the cursor
         * moves after every event, so a kill re-sends one event at most, not
         * the batch.  A file's are durable only after the fsync of the batch. */
        bool each = strncmp(key, "webhook:", 8) == 0;
        int n = b->n, done = 0, rc = 0, moved = 0;
        long long at = cur;
        for (int i = 0; i < n && rc == 0 && moved == 0; i++) {
            rc = send_payload(sink, b->payloads[i], err, errlen);
            if (rc == 0) {
                done++;
                if (each) {
                    moved = mstore_cursor_move(st, key, at, b->ids[i]);
                    at = b->ids[i];
                }
            }
        }
        if (!each && done && sink_flush(sink, err, errlen) != 0)
            rc = -1;
        if (!each && done)
            moved = mstore_cursor_move(st, key, cur, b->ids[done - 1]);
        for (int i = 0; i < n; i++)
            free(b->payloads[i]);
        free(b);
        *sent += done;
        if (rc != 0)
            return -1;
        if (moved != 0 || n == 0)
            return 0; /* done, or another worker is delivering */
    }
}
