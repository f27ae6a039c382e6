/* employees.c - the employee actions: list (every page, streamed), create
 * with nested parts and warnings, get as one composed result, and update
 * with automatic versions and conflict-aware retries. */
#include "lib/internal.h"
#include "shared/jsonerr.h"
#include "shared/secretkeys.h"
#include "shared/ssn.h"
#include "shared/uuidtext.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <yajl/yajl_parse.h>

/* ---- list ------------------------------------------------------------- */

/* Where each element of a list page lies.  yajl, an event parser, checks
 * the whole page (syntax, UTF-8, nothing after the array) without building
 * a tree, and its callbacks report each top-level object's first and last
 * byte (yajl_get_bytes_consumed() is just past the current token).  The
 * callback is then handed the element's own bytes, with no second
 * serialisation.  jansson, which builds a tree per element, took ten times
 * as long for a page of 100 employees (docs/performance.md). */
struct span {
    size_t off, len;
};

struct spans {
    yajl_handle h;
    int depth; /* 1 inside the page's array */
    bool array; /* the page opened with '[' */
    bool bad;   /* an element that is not an object */
    size_t start;
    struct span *v;
    size_t n, cap;
    size_t max;        /* more elements than this: too_many (a hostile page) */
    bool too_many;
    bool key_uuid;     /* the last key of the current element was "uuid" */
    bool has_uuid;     /* the current element has a non-empty string uuid */
    bool no_uuid;      /* element n (0-based) has none */
    char first_uuid[64]; /* the page's first element's uuid, cut to fit */
};

static int span_open_map(void *ud)
{
    struct spans *s = ud;
    if (s->depth == 0) {
        s->bad = true; /* the page is an object, not an array */
        return 0;
    }
    if (s->depth == 1) {
        s->start = yajl_get_bytes_consumed(s->h) - 1;
        s->has_uuid = s->key_uuid = false;
    }
    s->depth++;
    return 1;
}

static int span_key(void *ud, const unsigned char *key, size_t len)
{
    struct spans *s = ud;
    if (s->depth == 2)
        s->key_uuid = len == 4 && memcmp(key, "uuid", 4) == 0;
    return 1;
}

static int span_string(void *ud, const unsigned char *v, size_t len)
{
    struct spans *s = ud;
    if (s->depth == 2 && s->key_uuid && len > 0) {
        s->has_uuid = true;
        if (s->n == 0 && !s->first_uuid[0]) {
            size_t k = len < sizeof s->first_uuid ? len : sizeof s->first_uuid - 1;
            memcpy(s->first_uuid, v, k);
            s->first_uuid[k] = 0;
        }
    }
    s->key_uuid = false;
    return 1;
}

static int span_close_map(void *ud)
{
    struct spans *s = ud;
    if (--s->depth != 1)
        return 1;
    if (!s->has_uuid) {
        s->no_uuid = true; /* every employee has one: not an employee */
        return 0;
    }
    if (s->n >= s->max) {
        s->too_many = true;
        return 0;
    }
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 128;
        struct span *grown = realloc(s->v, ncap * sizeof *grown);
        if (!grown)
            return 0;
        s->v = grown;
        s->cap = ncap;
    }
    s->v[s->n++] = (struct span){s->start, yajl_get_bytes_consumed(s->h) - s->start};
    return 1;
}

static int span_open_array(void *ud)
{
    struct spans *s = ud;
    if (s->depth == 0)
        s->array = true;
    else if (s->depth == 1)
        s->bad = true; /* an array inside the page's array */
    s->depth++;
    return !s->bad;
}

static int span_close_array(void *ud)
{
    ((struct spans *)ud)->depth--;
    return 1;
}

static bool only_ws(const char *b, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r')
            return false;
    return true;
}

/* 0, or -1 when the page is not a JSON array of objects with a uuid each,
 * or holds more than max of them (*items is then NULL, *why says which).
 * Scalars at the top of the array fire no callback, so the bytes between
 * elements must be exactly one comma and whitespace.  first_uuid (64
 * bytes) receives the first element's uuid. */
static int page_spans(const char *b, size_t len, size_t max, struct span **items, size_t *n,
                      char *first_uuid, const char **why)
{
    static const yajl_callbacks cb = {
        .yajl_start_map = span_open_map,
        .yajl_map_key = span_key,
        .yajl_string = span_string,
        .yajl_end_map = span_close_map,
        .yajl_start_array = span_open_array,
        .yajl_end_array = span_close_array,
    };
    struct spans s = {.max = max};
    *items = NULL;
    *n = 0;
    *why = "is not a JSON array of objects";
    first_uuid[0] = 0;
    s.h = yajl_alloc(&cb, NULL, &s);
    if (!s.h)
        return -1;
    /* yajl also takes \v and \f for whitespace; JSON does not.  Neither
     * byte can be inside a string (yajl rejects raw control characters). */
    bool ok = !memchr(b, '\v', len) && !memchr(b, '\f', len) &&
              yajl_parse(s.h, (const unsigned char *)b, len) == yajl_status_ok &&
              yajl_complete_parse(s.h) == yajl_status_ok && s.array && !s.bad;
    yajl_free(s.h);
    /* '[' then the gaps: before the first, between, after the last. */
    size_t open = ok ? (size_t)((const char *)memchr(b, '[', len) - b) : 0;
    for (size_t i = 0; ok && i <= s.n; i++) {
        size_t from = i == 0 ? open + 1 : s.v[i - 1].off + s.v[i - 1].len;
        size_t to = i == s.n ? len : s.v[i].off;
        if (i == s.n) { /* the closing bracket, then only whitespace */
            const char *close = memchr(b + from, ']', to - from);
            ok = close && only_ws(b, from, (size_t)(close - b)) &&
                 only_ws(b, (size_t)(close - b) + 1, to);
        } else if (i > 0) {
            const char *comma = memchr(b + from, ',', to - from);
            ok = comma && only_ws(b, from, (size_t)(comma - b)) &&
                 only_ws(b, (size_t)(comma - b) + 1, to);
        } else {
            ok = only_ws(b, from, to);
        }
    }
    if (!ok) {
        if (s.too_many)
            *why = "holds more employees than the per= asked for";
        else if (s.no_uuid)
            *why = "holds an element that is not an employee (no uuid)";
        free(s.v);
        return -1;
    }
    *items = s.v;
    *n = s.n;
    memcpy(first_uuid, s.first_uuid, sizeof s.first_uuid);
    return 0;
}

gusto_code gusto_employees_list(gusto_client *c, const gusto_list_options *opts,
                                gusto_item_fn each, void *ud, size_t *total,
                                gusto_error *err)
{
    static const gusto_list_options none;
    err_clear(err);
    if (!opts)
        opts = &none;
    if (total)
        *total = 0;
    if (!each)
        return err_set(err, GUSTO_EINVAL, "gusto_employees_list needs a callback");
    if (opts->version > GUSTO_LIST_OPTIONS_VERSION) {
        err_set(err, GUSTO_EINVAL, "gusto_list_options version %u is newer than this libgusto "
                "(%s) knows (%d)", opts->version, GUSTO_VERSION, GUSTO_LIST_OPTIONS_VERSION);
        err_field(err, "version");
        return GUSTO_EINVAL;
    }
    if (opts->terminated < 0 || opts->terminated > 2) {
        err_set(err, GUSTO_EINVAL, "terminated must be 0 (everyone), 1 or 2");
        err_field(err, "terminated");
        return GUSTO_EINVAL;
    }
    const char *company;
    gusto_code rc = gusto_company_uuid(c, &company, err);
    if (rc != GUSTO_OK)
        return rc;
    int per = opts->per_page > 0 ? opts->per_page : 100;
    /* Version 2's fields; an older layout ends before them. */
    size_t offset = opts->version >= 2 ? opts->offset : 0;
    size_t limit = opts->version >= 2 ? opts->limit : 0;
    int *more = opts->version >= 2 ? opts->more : NULL;
    if (more)
        *more = 0;
    if (offset >= GUSTO_LIST_MAX_EMPLOYEES) {
        err_set(err, GUSTO_EINVAL, "offset %zu is past the %d employees a list can hold",
                offset, GUSTO_LIST_MAX_EMPLOYEES);
        err_field(err, "offset");
        return GUSTO_EINVAL;
    }
    char *search = opts->search_term && *opts->search_term
                       ? url_escape(c, opts->search_term) : NULL;
    char *include = opts->include && *opts->include ? url_escape(c, opts->include) : NULL;
    size_t n = 0;
    /* A hostile or broken upstream (X-Total-Pages: 2147483647 with full
     * pages, or one page of millions of "{}") must not run for ever or
     * exhaust memory: see GUSTO_LIST_MAX_EMPLOYEES. */
    long max_pages = (GUSTO_LIST_MAX_EMPLOYEES + per - 1) / per;
    char prev_first[64] = "";
    /* The first Gusto page that holds employee `offset`, and where in it. */
    int first_page = (int)(offset / (size_t)per) + 1;
    size_t skip = offset % (size_t)per;
    bool done = false;
    for (int page = first_page;; page++) {
        char *path = xasprintf(
            "/v1/companies/%s/employees?page=%d&per=%d%s%s%s%s%s", company, page, per,
            search ? "&search_term=" : "", search ? search : "",
            opts->terminated == 1 ? "&terminated=true"
                                  : opts->terminated == 2 ? "&terminated=false" : "",
            include ? "&include=" : "", include ? include : "");
        if (!path) {
            rc = err_set(err, GUSTO_ENOMEM, "out of memory");
            break;
        }
        struct http_resp resp = {0};
        rc = http_send(c, "GET", path, NULL, &resp, err);
        free(path);
        if (rc == GUSTO_OK)
            rc = http_status_code(c, &resp, err);
        struct span *items = NULL;
        size_t count = 0;
        char first[64] = "";
        const char *why = NULL;
        if (rc == GUSTO_OK && page_spans(resp.body.p ? resp.body.p : "", resp.body.n, (size_t)per,
                                         &items, &count, first, &why) != 0)
            rc = err_set(err, GUSTO_EPROTOCOL, "employee list page %d %s", page, why);
        int total_pages = resp.total_pages;
        if (rc == GUSTO_OK && total_pages > max_pages)
            rc = err_set(err, GUSTO_EPROTOCOL,
                         "employee list: X-Total-Pages %d is more than %ld pages of %d (over "
                         "%d employees); refusing to follow it", total_pages, max_pages, per,
                         GUSTO_LIST_MAX_EMPLOYEES);
        if (rc == GUSTO_OK && count > 0 && prev_first[0] && strcmp(first, prev_first) == 0)
            rc = err_set(err, GUSTO_EPROTOCOL,
                         "employee list page %d starts with the same employee as page %d: "
                         "the server is not paging; stopping", page, page - 1);
        if (rc == GUSTO_OK && (size_t)(page - 1) * (size_t)per + count > GUSTO_LIST_MAX_EMPLOYEES)
            rc = err_set(err, GUSTO_EPROTOCOL, "employee list: more than %d employees; "
                         "refusing the rest", GUSTO_LIST_MAX_EMPLOYEES);
        memcpy(prev_first, first, sizeof prev_first);
        size_t i = page == first_page ? skip : 0;
        for (; rc == GUSTO_OK && i < count; i++) {
            if (limit && n == limit) {
                done = true;
                break;
            }
            char *at = resp.body.p + items[i].off;
            size_t len = items[i].len;
            int stop;
            if (!memchr(at, '\n', len)) {
                char saved = at[len]; /* ',' ']' or whitespace: the body goes on */
                at[len] = 0;
                stop = each(ud, at, len);
                at[len] = saved;
            } else {
                /* Pretty-printed: hand out one line, as jansson prints it.
                 * jansson refuses a little that yajl takes (an unpaired
                 * surrogate escape, an integer beyond 64 bits). */
                json_t *e = json_loadb(at, len, JSON_DECODE_ANY, NULL);
                char *text = e ? json_text(e) : NULL;
                json_decref(e);
                if (!text) {
                    rc = e ? err_set(err, GUSTO_ENOMEM, "out of memory")
                           : err_set(err, GUSTO_EPROTOCOL,
                                     "employee list page %d: element %zu cannot be decoded",
                                     page, i + 1);
                    break;
                }
                stop = each(ud, text, strlen(text));
                free(text);
            }
            n++;
            if (stop)
                rc = err_set(err, GUSTO_ECANCELED, "listing stopped by the callback");
        }
        free(items);
        http_resp_free(&resp);
        if (rc != GUSTO_OK)
            break;
        /* Trust X-Total-Pages when sent; otherwise a short page is the last. */
        bool last = total_pages >= 0 ? page >= total_pages : count < (size_t)per;
        if (!done && limit && n == limit)
            done = true; /* the page ended exactly at the limit */
        if (done) {
            if (more)
                *more = i < count || (!last && count > 0);
            break;
        }
        if (last)
            break;
        if (count == 0)
            break;
    }
    free(search);
    free(include);
    if (total)
        *total = n;
    return rc;
}

/* ---- shared helpers --------------------------------------------------- */

static gusto_code not_found_employee(gusto_error *err, const char *uuid)
{
    if (err && err->code == GUSTO_ENOTFOUND) {
        snprintf(err->message, sizeof err->message,
                 "employee %.40s was not found in this company", uuid);
        err_hint(err, "find the employee's UUID in the company's employee list");
        err_reason(err, "employee_unknown");
    }
    return GUSTO_ENOTFOUND;
}

static gusto_code check_uuid_arg(const char *uuid, gusto_error *err)
{
    if (uuid && input_is_uuid(uuid))
        return GUSTO_OK;
    err_set(err, GUSTO_EINVAL, "employee UUID \"%.60s\" is not a UUID",
            uuid ? uuid : "(null)");
    err_field(err, "employee_uuid");
    err_hint(err, "find the employee's UUID in the company's employee list");
    err_reason(err, "employee_unknown");
    return GUSTO_EINVAL;
}

static gusto_code parse_input(const char *text, json_t **out, gusto_error *err)
{
    json_error_t je;
    *out = text ? json_load_text(text, strlen(text), JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!*out && text && json_error_code(&je) == json_error_out_of_memory)
        return err_set(err, GUSTO_ENOMEM, "out of memory reading the input");
    if (!*out) {
        char where[200] = "no input";
        if (text)
            json_error_describe(&je, where, sizeof where);
        err_set(err, GUSTO_EINVAL, "input is not valid JSON: %s", where);
        err_field(err, "input");
        return GUSTO_EINVAL;
    }
    return GUSTO_OK;
}

static char *path_fmt(const char *fmt, const char *a)
{
    return xasprintf(fmt, a);
}

/* GET a JSON path built from fmt and one id. */
static gusto_code get1(gusto_client *c, const char *fmt, const char *id, json_t **out,
                       gusto_error *err)
{
    char *p = path_fmt(fmt, id);
    if (!p)
        return err_set(err, GUSTO_ENOMEM, "out of memory");
    gusto_code rc = api_json(c, "GET", p, NULL, out, err);
    free(p);
    return rc;
}

/* The element of arr whose `key` is true (the active address), else NULL. */
static json_t *find_true(json_t *arr, const char *key)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) if (json_is_true(json_object_get(e, key))) return e;
    return NULL;
}

/* Fields of `changes` other than the nested objects. */
static json_t *own_fields(const json_t *changes)
{
    json_t *o = json_deep_copy(changes);
    json_object_del(o, "home_address");
    json_object_del(o, "work_address");
    json_object_del(o, "job");
    json_object_del(o, "compensation");
    return o;
}

/* The employee's own body, as create and update send it and the create
 * plan shows it: the input without its nested parts, the SSN as the nine
 * digits Gusto takes (shared/ssn.h).  NULL when memory runs out. */
static json_t *employee_body(const json_t *in)
{
    json_t *body = own_fields(in);
    const char *ssn = json_string_value(json_object_get(body, "ssn"));
    char digits[10];
    bool ok = body != NULL;
    if (ok && ssn_digits(ssn, digits))
        ok = json_object_set_new(body, "ssn", json_string(digits)) == 0;
    explicit_bzero(digits, sizeof digits);
    if (!ok) {
        json_decref(body);
        return NULL;
    }
    return body;
}

/* A work address body: the input's fields with "location" (the text to
 * match) replaced by location_uuid when one is given.  NULL when memory
 * runs out. */
static json_t *work_body(const json_t *work, const char *location_uuid)
{
    json_t *wb = json_deep_copy(work);
    if (wb && location_uuid) {
        json_object_del(wb, "location");
        if (json_object_set_new(wb, "location_uuid", json_string(location_uuid)) != 0) {
            json_decref(wb);
            return NULL;
        }
    }
    return wb;
}

/* The paths of a create, one format each, so the requests sent and the
 * plan shown cannot drift apart.  Each takes one id. */
#define PATH_EMPLOYEES "/v1/companies/%s/employees"
#define PATH_LOCATIONS "/v1/companies/%s/locations"
#define PATH_HOME "/v1/employees/%s/home_addresses"
#define PATH_WORK "/v1/employees/%s/work_addresses"
#define PATH_JOBS "/v1/employees/%s/jobs"
#define PATH_COMP "/v1/compensations/%s"

/* Company location matching "location": a UUID, or text found in its
 * street, city, state or zip (case-insensitive).  NULL with *why set when
 * none or several match. */
static char *match_location(gusto_client *c, const char *want, const char **why,
                            gusto_error *err)
{
    const char *company;
    *why = NULL;
    if (gusto_company_uuid(c, &company, err) != GUSTO_OK) {
        *why = "the company's locations could not be read";
        return NULL;
    }
    json_t *locs = NULL;
    if (get1(c, PATH_LOCATIONS, company, &locs, err) != GUSTO_OK) {
        *why = "the company's locations could not be read";
        return NULL;
    }
    char *found = NULL;
    int hits = 0;
    size_t i;
    json_t *l;
    json_array_foreach(locs, i, l) {
        const char *uuid = json_string_value(json_object_get(l, "uuid"));
        char hay[512];
        snprintf(hay, sizeof hay, "%s %s %s %s %s",
                 json_string_value(json_object_get(l, "street_1")) ?: "",
                 json_string_value(json_object_get(l, "street_2")) ?: "",
                 json_string_value(json_object_get(l, "city")) ?: "",
                 json_string_value(json_object_get(l, "state")) ?: "",
                 json_string_value(json_object_get(l, "zip")) ?: "");
        if (uuid && (strcasecmp(uuid, want) == 0 || strcasestr(hay, want))) {
            hits++;
            free(found);
            found = xasprintf("%s", uuid);
        }
    }
    json_decref(locs);
    if (hits == 1)
        return found;
    free(found);
    *why = hits ? "several company locations match it; give location_uuid instead"
                : "no company location matches it";
    return NULL;
}

/* The failed parts of a create: n counts them even when memory ran out
 * for a warning's text, so a failed part is never reported as done. */
struct warns {
    json_t *list;
    size_t n;
};

static void add_warning(struct warns *w, const char *entity, const gusto_error *e,
                        const char *hint)
{
    w->n++;
    json_array_append_new(
        w->list, json_pack("{s:s, s:I, s:s, s:s}", "entity", entity, "status",
                            (json_int_t)(e ? e->http_status : 0), "message",
                            e && e->message[0] ? e->message : "not created", "hint",
                            hint ? hint : ""));
}

/* A part that failed: its warning, with a hint that gives the request
 * which adds it. */
static void warn_part(struct warns *w, const char *entity, const gusto_error *e,
                      const char *method, const char *path, const json_t *body)
{
    char *b = body ? json_text(body) : NULL;
    char *h = xasprintf("add it with: %s %s %s", method, path ? path : "PATH", b ? b : "{}");
    free(b);
    add_warning(w, entity, e, h);
    free(h);
}

/* Does `have` carry every field of `want` with the same value? */
static bool same_fields(const json_t *want, const json_t *have, const char *const *keys)
{
    for (int i = 0; keys[i]; i++) {
        json_t *w = json_object_get(want, keys[i]);
        if (w && !json_equal(w, json_object_get(have, keys[i])))
            return false;
    }
    return true;
}

/* A look for the object a POST may have made: the object (new reference),
 * or NULL with *unsure set when the look itself failed (so "not there" is
 * not known). */
typedef json_t *(*find_fn)(gusto_client *c, const char *parent, const json_t *body,
                           bool *unsure);

/* Looks before a POST is sent again: up to this many, while looking fails. */
#define POST_LOOKS 5

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* POST that never blindly repeats.  When the outcome is unknown (no
 * response, or a 5xx), it looks with `find`, again while looking fails, and
 * sends once more only when the object is surely not there (3 sends at
 * most).  It also looks after the last send, and after a re-send refused
 * (a 409 or 422 "already exists"): an earlier send may have been carried
 * out.  So a failure it returns means the object is not there, unless the
 * looks kept failing too. */
static gusto_code post_once(gusto_client *c, const char *path, const json_t *body,
                            find_fn find, const char *parent, json_t **out,
                            gusto_error *err)
{
    bool sent_unknown = false;
    for (int attempt = 0;; attempt++) {
        gusto_code rc = api_json(c, "POST", path, body, out, err);
        /* Not known to have failed: no answer, a 5xx, or an answer that
         * could not be read (malformed, or memory ran out reading it). */
        bool unknown = rc == GUSTO_ENETWORK || rc == GUSTO_ESERVER ||
                       rc == GUSTO_EPROTOCOL || rc == GUSTO_ENOMEM;
        if (!find || rc == GUSTO_OK || (!unknown && !sent_unknown))
            return rc;
        sent_unknown = true;
        bool unsure = true;
        for (int look = 0; look < POST_LOOKS && unsure; look++) {
            if (look)
                pause_ms(c->retry_base_ms * look);
            unsure = false;
            json_t *existing = find(c, parent, body, &unsure);
            if (existing) {
                *out = existing;
                err_clear(err);
                return GUSTO_OK;
            }
        }
        if (unsure || !unknown || attempt >= 2)
            return rc;
    }
}

static json_t *find_in_list(gusto_client *c, char *path, const json_t *body,
                            const char *const *keys, bool *unsure)
{
    json_t *list = NULL;
    gusto_error e;
    gusto_code rc = path ? api_json(c, "GET", path, NULL, &list, &e) : GUSTO_ENOMEM;
    free(path);
    if (rc != GUSTO_OK) {
        *unsure = true;
        return NULL;
    }
    json_t *hit = NULL;
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        if (same_fields(body, x, keys)) {
            hit = json_incref(x);
            break;
        }
    }
    json_decref(list);
    return hit;
}

static json_t *find_employee(gusto_client *c, const char *company, const json_t *body,
                             bool *unsure)
{
    static const char *const keys[] = {"first_name", "last_name", "email", "work_email",
                                       "date_of_birth", NULL};
    const char *last = json_string_value(json_object_get(body, "last_name"));
    char *q = last ? url_escape(c, last) : NULL;
    json_t *hit = q ? find_in_list(c, xasprintf("/v1/companies/%s/employees?search_term=%s",
                                                company, q), body, keys, unsure)
                    : NULL;
    if (last && !q)
        *unsure = true;
    free(q);
    return hit;
}

static json_t *find_home(gusto_client *c, const char *emp, const json_t *body, bool *unsure)
{
    static const char *const keys[] = {"street_1", "city", "zip", "effective_date", NULL};
    return find_in_list(c, xasprintf(PATH_HOME, emp), body, keys,
                        unsure);
}

static json_t *find_work(gusto_client *c, const char *emp, const json_t *body, bool *unsure)
{
    static const char *const keys[] = {"location_uuid", "effective_date", NULL};
    return find_in_list(c, xasprintf(PATH_WORK, emp), body, keys,
                        unsure);
}

static json_t *find_job(gusto_client *c, const char *emp, const json_t *body, bool *unsure)
{
    static const char *const keys[] = {"title", "hire_date", NULL};
    return find_in_list(c, xasprintf(PATH_JOBS, emp), body, keys, unsure);
}

static json_t *find_comp(gusto_client *c, const char *job, const json_t *body, bool *unsure)
{
    static const char *const keys[] = {"rate", "payment_unit", "flsa_status",
                                       "effective_date", NULL};
    return find_in_list(c, xasprintf("/v1/jobs/%s/compensations?include=all_compensations",
                                     job), body, keys, unsure);
}

/* The version of compensation `uuid` in a job's "compensations", or NULL. */
static const char *comp_version(const json_t *job, const char *uuid)
{
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(job, "compensations"), i, x) {
        const char *u = json_string_value(json_object_get(x, "uuid"));
        if (u && strcmp(u, uuid) == 0)
            return json_string_value(json_object_get(x, "version"));
    }
    return NULL;
}

static gusto_code put_versioned(gusto_client *c, const char *path, const json_t *want,
                                const char *what, gusto_error *err);
static gusto_code put_known_version(gusto_client *c, const char *path, const json_t *want,
                                    const char *version, const char *what, gusto_error *err);

/* The uuid of the compensation Gusto created with a job (its
 * current_compensation_uuid, else its only compensation), or NULL. */
static const char *job_comp_uuid(const json_t *job)
{
    const char *cu = json_string_value(json_object_get(job, "current_compensation_uuid"));
    json_t *comps = json_object_get(job, "compensations");
    if (!cu && json_array_size(comps) == 1)
        cu = json_string_value(json_object_get(json_array_get(comps, 0), "uuid"));
    return cu;
}

/* Onboarding: set the pay of a new job.  Gusto creates the job with a $0
 * hourly compensation effective on the hire date, and the pay is set by
 * updating that one (PUT, with its version), so the employee has one
 * compensation carrying the pay from the hire date; a second one is never
 * POSTed, except for a job that came with none (current_compensation_uuid
 * null, Gusto's September 2026 changelog).  A PUT of the same values is
 * harmless, so running again never duplicates.  A failure becomes one
 * warning. */
static void set_job_pay(gusto_client *c, const char *job_uuid, const json_t *job,
                        const json_t *comp, struct warns *warnings)
{
    gusto_error e;
    err_clear(&e);
    json_t *read = NULL;
    const char *cu = job_comp_uuid(job);
    if (!cu) { /* not in the answer (a recovered POST, a scope): read the job back */
        char *jp = xasprintf("/v1/jobs/%s", job_uuid);
        gusto_code rc = jp ? api_json(c, "GET", jp, NULL, &read, &e)
                           : err_set(&e, GUSTO_ENOMEM, "out of memory");
        free(jp);
        if (rc != GUSTO_OK) {
            add_warning(warnings, "compensation", &e,
                        "read the job (GET /v1/jobs/JOB_UUID), then set the pay of its "
                        "compensation: PUT /v1/compensations/COMPENSATION_UUID");
            json_decref(read);
            return;
        }
        cu = job_comp_uuid(read);
    }
    char *p;
    if (cu) {
        /* The job's answer carries its compensation, version included:
         * the PUT needs no read first. */
        const char *ver = comp_version(read ? read : job, cu);
        p = xasprintf(PATH_COMP, cu);
        if ((p ? put_known_version(c, p, comp, ver, "compensation", &e)
               : err_set(&e, GUSTO_ENOMEM, "out of memory")) != GUSTO_OK) {
            json_t *b = json_deep_copy(comp);
            json_object_set_new(b, "version", json_string("CURRENT_VERSION"));
            warn_part(warnings, "compensation", &e, "PUT", p, b);
            json_decref(b);
        }
    } else {
        p = xasprintf("/v1/jobs/%s/compensations", job_uuid);
        json_t *out = NULL;
        if ((p ? post_once(c, p, comp, find_comp, job_uuid, &out, &e)
               : err_set(&e, GUSTO_ENOMEM, "out of memory")) != GUSTO_OK) {
            warn_part(warnings, "compensation", &e, "POST", p, comp);
        }
        json_decref(out);
    }
    free(p);
    json_decref(read);
}

/* ---- validate / create ------------------------------------------------ */

/* Every problem of a create input (creating) or an update input (types and
 * formats only: an update is partial) into p. */
static void check_input(const json_t *in, bool creating, struct input_problems *p)
{
    static const struct { const char *key; enum part part; } parts[] = {
        {"home_address", PART_HOME}, {"work_address", PART_WORK},
        {"job", PART_JOB}, {"compensation", PART_COMP}};
    input_check(in, creating ? PART_EMPLOYEE : PART_EMPLOYEE_UPDATE, "", creating, p);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        json_t *part = json_object_get(in, parts[i].key);
        if (part)
            input_check(part, parts[i].part, parts[i].key, creating, p);
    }
    if (creating && json_object_get(in, "compensation") && !json_object_get(in, "job"))
        input_problem(p, "compensation",
                      "compensation needs a job: add \"job\" with title and hire_date");
}

/* GUSTO_OK, or GUSTO_EINVAL with err naming the first problem and, in its
 * message, how many others there are. */
static gusto_code input_verdict(const struct input_problems *p, gusto_error *err)
{
    if (p->count == 0)
        return GUSTO_OK;
    if (p->count > 1) {
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof err->message - n, " (and %zu more problem%s)",
                 p->count - 1, p->count > 2 ? "s" : "");
    }
    return GUSTO_EINVAL;
}

/* The input's checks for a create or an update call: GUSTO_OK, or
 * GUSTO_EINVAL with err naming the first problem and *result set to
 * {"errors": [{"field", "message"}, ...]}, every problem, so a caller never
 * has to check first and create after. */
static gusto_code check_for_call(const json_t *in, bool creating, char **result,
                                 gusto_error *err)
{
    struct input_problems p = {.err = err, .list = json_array()};
    check_input(in, creating, &p);
    gusto_code rc = input_verdict(&p, err);
    if (rc != GUSTO_OK && p.list && !p.oom) {
        json_t *r = json_pack("{s:O}", "errors", p.list);
        *result = r ? json_text(r) : NULL;
        json_decref(r);
    }
    json_decref(p.list);
    return rc;
}

static gusto_code validate_all(const json_t *in, gusto_error *err)
{
    struct input_problems p = {.err = err};
    check_input(in, true, &p);
    return input_verdict(&p, err);
}

gusto_code gusto_employee_check(const char *input_json, int update, char **problems_json,
                                gusto_error *err)
{
    err_clear(err);
    if (problems_json)
        *problems_json = NULL;
    json_t *in;
    struct input_problems p = {.err = err, .list = problems_json ? json_array() : NULL};
    gusto_code rc = parse_input(input_json, &in, err);
    if (rc == GUSTO_OK) {
        check_input(in, !update, &p);
        rc = input_verdict(&p, err);
    } else if (p.list) { /* not JSON: the one problem */
        json_t *one = json_pack("{s:s, s:s}", "field", err->field, "message", err->message);
        if (!one || json_array_append_new(p.list, one) != 0)
            p.oom = true;
    }
    json_decref(in);
    if (problems_json) {
        *problems_json = p.list && !p.oom ? json_text(p.list) : NULL;
        if (!*problems_json)
            rc = err_set(err, GUSTO_ENOMEM, "out of memory");
    }
    json_decref(p.list);
    return rc;
}

gusto_code gusto_employee_validate(const char *input_json, gusto_error *err)
{
    err_clear(err);
    json_t *in;
    gusto_code rc = parse_input(input_json, &in, err);
    if (rc == GUSTO_OK)
        rc = validate_all(in, err);
    json_decref(in);
    return rc;
}

/* ---- the duplicate check ---------------------------------------------- */

struct dup_look {
    const json_t *in;       /* the create input */
    json_t *hit;            /* the matching employee (new reference), or NULL */
    const char *matched;    /* which field matched */
};

static bool same_text(const json_t *a, const json_t *b)
{
    const char *x = json_string_value(a), *y = json_string_value(b);
    return x && y && *x && strcasecmp(x, y) == 0;
}

/* Is employee e surely the person of the input?  The same email (either
 * address against either), or the same full name and date of birth. */
static const char *dup_match(const json_t *in, const json_t *e)
{
    static const char *const mail[] = {"email", "work_email"};
    for (int i = 0; i < 2; i++) {
        json_t *want = json_object_get(in, mail[i]);
        for (int j = 0; j < 2; j++)
            if (same_text(want, json_object_get(e, mail[j])))
                return mail[i];
    }
    const char *dob = json_string_value(json_object_get(in, "date_of_birth"));
    if (same_text(json_object_get(in, "first_name"), json_object_get(e, "first_name")) &&
        same_text(json_object_get(in, "last_name"), json_object_get(e, "last_name")) && dob &&
        *dob && same_text(json_object_get(e, "date_of_birth"), json_object_get(in,
                                                                              "date_of_birth")))
        return "first_name,last_name,date_of_birth";
    return NULL;
}

static int dup_each(void *ud, const char *json, size_t len)
{
    struct dup_look *d = ud;
    json_t *e = json_loadb(json, len, 0, NULL);
    const char *m = e && !json_is_true(json_object_get(e, "terminated")) ? dup_match(d->in, e)
                                                                        : NULL;
    if (m) {
        d->hit = e;
        d->matched = m;
        return 1;
    }
    json_decref(e);
    return 0;
}

/* GUSTO_OK when no active employee is the input's person; GUSTO_EDUPLICATE
 * with err naming the one that is and *result set; or the error of the
 * list (then nothing is known, and nothing is created). */
static gusto_code refuse_duplicate(gusto_client *c, const json_t *in, char **result,
                                   gusto_error *err)
{
    /* Everyone, then "terminated": false kept: Gusto's terminated=false
     * filter also drops an employee whose termination is only scheduled,
     * who is still active (spec: "have been or are scheduled to be
     * terminated"). */
    struct dup_look d = {.in = in};
    gusto_list_options lo = {.terminated = 0};
    gusto_code rc = gusto_employees_list(c, &lo, dup_each, &d, NULL, err);
    if (!d.hit)
        return rc;
    const char *uuid = json_string_value(json_object_get(d.hit, "uuid")) ?: "?";
    const char *first = json_string_value(json_object_get(d.hit, "first_name")) ?: "";
    const char *last = json_string_value(json_object_get(d.hit, "last_name")) ?: "";
    err_set(err, GUSTO_EDUPLICATE,
            "an active employee with the same %s already exists: %.60s %.60s (%s); nothing "
            "was created",
            strcmp(d.matched, "first_name,last_name,date_of_birth") == 0
                ? "name and date of birth" : d.matched,
            first, last, uuid);
    err_field(err, d.matched);
    err_hint(err, "update employee %s instead; to create a second record for the same "
                  "person anyway, allow the duplicate (GUSTO_CREATE_ALLOW_DUPLICATE)", uuid);
    json_t *r = json_pack("{s:{s:s, s:s, s:s, s:s}}", "duplicate_of", "uuid", uuid,
                          "first_name", first, "last_name", last, "matched", d.matched);
    *result = r ? json_text(r) : NULL;
    json_decref(r);
    json_decref(d.hit);
    return GUSTO_EDUPLICATE;
}

/* Onboarding's nested parts, each after the employee exists: a part that
 * fails becomes one warning, and the employee stays. */

static void add_home(gusto_client *c, const char *emp_uuid, const json_t *home,
                     struct warns *warnings)
{
    if (!home)
        return;
    gusto_error e;
    char *p = xasprintf(PATH_HOME, emp_uuid);
    json_t *out = NULL;
    if ((p ? post_once(c, p, home, find_home, emp_uuid, &out, &e)
           : err_set(&e, GUSTO_ENOMEM, "out of memory")) != GUSTO_OK)
        warn_part(warnings, "home_address", &e, "POST", p, home);
    json_decref(out);
    free(p);
}

/* The work address, "location" matched to a company location's uuid.
 * Returns Gusto's answer for the address made (new reference), or NULL. */
static json_t *add_work(gusto_client *c, const char *emp_uuid, const json_t *work,
                        struct warns *warnings)
{
    if (!work)
        return NULL;
    gusto_error e;
    err_clear(&e);
    json_t *work_out = NULL, *wb = NULL;
    const char *loc = json_string_value(json_object_get(work, "location"));
    char *p = xasprintf(PATH_WORK, emp_uuid);
    if (p && loc) {
        const char *why;
        char *lu = match_location(c, loc, &why, &e);
        if (!lu && why) {
            snprintf(e.message, sizeof e.message, "location \"%.80s\": %s", loc, why);
            e.http_status = 0;
            wb = work_body(work, "LOCATION_UUID");
            warn_part(warnings, "work_address", &e, "POST", p, wb ? wb : work);
            json_decref(wb);
            free(p);
            return NULL;
        }
        wb = lu ? work_body(work, lu) : NULL;
        free(lu);
    } else if (p) {
        wb = work_body(work, NULL);
    }
    if (!wb) {
        err_set(&e, GUSTO_ENOMEM, "out of memory");
        warn_part(warnings, "work_address", &e, "POST", p, work);
    } else if (post_once(c, p, wb, find_work, emp_uuid, &work_out, &e) != GUSTO_OK) {
        warn_part(warnings, "work_address", &e, "POST", p, wb);
    }
    json_decref(wb);
    free(p);
    return work_out;
}

/* The job, then the pay of the compensation it comes with. */
static void add_job(gusto_client *c, const char *emp_uuid, const json_t *job,
                    const json_t *comp, struct warns *warnings)
{
    gusto_error e;
    char job_uuid[40] = "";
    json_t *job_out = NULL;
    if (job) {
        char *p = xasprintf(PATH_JOBS, emp_uuid);
        if ((p ? post_once(c, p, job, find_job, emp_uuid, &job_out, &e)
               : err_set(&e, GUSTO_ENOMEM, "out of memory")) != GUSTO_OK)
            warn_part(warnings, "job", &e, "POST", p, job);
        else
            snprintf(job_uuid, sizeof job_uuid, "%s",
                     json_string_value(json_object_get(job_out, "uuid")) ?: "");
        free(p);
    }
    if (comp && !*job_uuid) {
        err_clear(&e);
        snprintf(e.message, sizeof e.message, "not set because the job was not created");
        add_warning(warnings, "compensation", &e,
                    "create the job first, then set the pay of the compensation it "
                    "comes with: PUT /v1/compensations/COMPENSATION_UUID");
    } else if (comp) {
        set_job_pay(c, job_uuid, job_out, comp, warnings);
    }
    json_decref(job_out);
}

static gusto_code read_employee(gusto_client *c, const char *uuid, bool known_work,
                                const json_t *work, char **result, gusto_error *err);

gusto_code gusto_employee_create(gusto_client *c, const char *input_json, char **result,
                                 gusto_error *err)
{
    return gusto_employee_create_ex(c, input_json, 0, result, err);
}

gusto_code gusto_employee_create_ex(gusto_client *c, const char *input_json, unsigned flags,
                                    char **result, gusto_error *err)
{
    err_clear(err);
    *result = NULL;
    json_t *in;
    gusto_code rc = parse_input(input_json, &in, err);
    if (rc != GUSTO_OK)
        return rc;
    if ((rc = check_for_call(in, true, result, err)) != GUSTO_OK) {
        json_decref(in);
        return rc;
    }
    const char *company;
    if ((rc = gusto_company_uuid(c, &company, err)) != GUSTO_OK) {
        json_decref(in);
        return rc;
    }
    /* Looked for once, before the first POST: post_once()'s own look after
     * a lost answer then finds this call's employee, not a duplicate. */
    if (!(flags & GUSTO_CREATE_ALLOW_DUPLICATE) &&
        (rc = refuse_duplicate(c, in, result, err)) != GUSTO_OK) {
        json_decref(in);
        return rc;
    }
    json_t *body = employee_body(in);
    char *path = xasprintf(PATH_EMPLOYEES, company);
    json_t *emp = NULL;
    rc = path && body ? post_once(c, path, body, find_employee, company, &emp, err)
                      : err_set(err, GUSTO_ENOMEM, "out of memory; nothing was sent");
    free(path);
    json_decref(body);
    const char *uuid = json_string_value(json_object_get(emp, "uuid"));
    if (rc == GUSTO_OK && !uuid)
        rc = err_set(err, GUSTO_EPROTOCOL, "the created employee has no uuid");
    if (rc != GUSTO_OK) {
        json_decref(emp);
        json_decref(in);
        return rc;
    }
    char emp_uuid[40];
    snprintf(emp_uuid, sizeof emp_uuid, "%s", uuid);
    json_decref(emp);

    struct warns warns = {.list = json_array()}, *warnings = &warns;
    add_home(c, emp_uuid, json_object_get(in, "home_address"), warnings);
    json_t *work_out = add_work(c, emp_uuid, json_object_get(in, "work_address"), warnings);
    add_job(c, emp_uuid, json_object_get(in, "job"), json_object_get(in, "compensation"),
            warnings);
    json_decref(in);

    /* One read for the result: the work address is the one just made when
     * it is already in effect (a new employee has no other), and the rest is Gusto's to compose
     * (hired_at, title, the jobs' compensations). */
    char *full = NULL;
    gusto_error ge;
    json_t *employee = NULL;
    const json_t *work_now = json_is_true(json_object_get(work_out, "active")) ? work_out
                                                                              : NULL;
    if (read_employee(c, emp_uuid, true, work_now, &full, &ge) == GUSTO_OK)
        employee = json_loads(full, 0, NULL);
    gusto_free(full);
    json_decref(work_out);
    if (!employee)
        employee = json_pack("{s:s}", "uuid", emp_uuid);
    json_t *res = json_pack("{s:o, s:o}", "employee", employee, "warnings", warns.list);
    *result = json_text(res);
    size_t nw = warns.n;
    json_decref(res);
    if (!*result)
        return err_set(err, GUSTO_ENOMEM, "employee %s was created%s, but memory ran out "
                       "composing the result", emp_uuid,
                       nw ? " with parts missing" : "");
    if (nw) {
        err_set(err, GUSTO_EPARTIAL, "employee %s was created, but %zu part(s) were not",
                emp_uuid, nw);
        err_hint(err, "each warning gives the request that adds the missing part");
        return GUSTO_EPARTIAL;
    }
    return GUSTO_OK;
}

/* ---- the plan of a create -------------------------------------------- */

/* One {"method","path","body"} at the end of plan: path is fmt with one
 * id; body (consumed) is NULL for a GET, and for any other method a NULL
 * body is memory that ran out.  False when memory runs out. */
static bool plan_add(json_t *plan, const char *method, const char *fmt, const char *id,
                     json_t *body)
{
    bool get = strcmp(method, "GET") == 0;
    char *path = xasprintf(fmt, id);
    json_t *r = path && (get || body)
                    ? json_pack("{s:s, s:s, s:o}", "method", method, "path", path, "body",
                                body ? body : json_null())
                    : (json_decref(body), NULL);
    free(path);
    return r && json_array_append_new(plan, r) == 0;
}

/* The requests of gusto_employee_create() for a valid input, in order,
 * from the same bodies and paths create sends (employee_body(),
 * work_body(), PATH_*). */
static json_t *create_plan(const json_t *in, const char *company)
{
    const char *emp = "{employee_uuid}";
    json_t *plan = json_array();
    bool ok = plan && plan_add(plan, "POST", PATH_EMPLOYEES, company, employee_body(in));
    const json_t *home = json_object_get(in, "home_address");
    if (ok && home)
        ok = plan_add(plan, "POST", PATH_HOME, emp, json_deep_copy(home));
    const json_t *work = json_object_get(in, "work_address");
    const char *loc = json_string_value(json_object_get(work, "location"));
    if (ok && work && loc) { /* matched against the company's locations first */
        char *note = xasprintf("{location matching \"%.80s\"}", loc);
        ok = note && plan_add(plan, "GET", PATH_LOCATIONS, company, NULL) &&
             plan_add(plan, "POST", PATH_WORK, emp, work_body(work, note));
        free(note);
    } else if (ok && work) {
        ok = plan_add(plan, "POST", PATH_WORK, emp, work_body(work, NULL));
    }
    const json_t *job = json_object_get(in, "job");
    if (ok && job)
        ok = plan_add(plan, "POST", PATH_JOBS, emp, json_deep_copy(job));
    const json_t *comp = json_object_get(in, "compensation");
    if (ok && comp) { /* the pay of the compensation Gusto creates with the job */
        json_t *b = json_deep_copy(comp);
        if (!b || json_object_set_new(b, "version", json_string("{current version}")) != 0) {
            json_decref(b);
            ok = false;
        } else { /* plan_add() consumes b, even when it fails */
            ok = plan_add(plan, "PUT", PATH_COMP, "{the job's compensation}", b);
        }
    }
    if (!ok) {
        json_decref(plan);
        return NULL;
    }
    secret_mask_json(plan);
    return plan;
}

gusto_code gusto_employee_create_plan(const char *input_json, const char *company_uuid,
                                      char **plan_json, gusto_error *err)
{
    err_clear(err);
    *plan_json = NULL;
    if (company_uuid && *company_uuid && !uuid_text_ok(company_uuid)) {
        err_set(err, GUSTO_EINVAL, "company UUID \"%.60s\" is not a UUID", company_uuid);
        err_field(err, "company_uuid");
        return GUSTO_EINVAL;
    }
    json_t *in;
    gusto_code rc = parse_input(input_json, &in, err);
    if (rc != GUSTO_OK)
        return rc;
    if ((rc = check_for_call(in, true, plan_json, err)) != GUSTO_OK) {
        json_decref(in);
        return rc;
    }
    json_t *plan = create_plan(in, company_uuid && *company_uuid ? company_uuid
                                                                  : "{company_uuid}");
    json_decref(in);
    *plan_json = plan ? json_text(plan) : NULL;
    json_decref(plan);
    return *plan_json ? GUSTO_OK : err_set(err, GUSTO_ENOMEM, "out of memory");
}

/* ---- get -------------------------------------------------------------- */

/* The employee as gusto_employee_get() gives it.  The work address is read
 * (a second GET) unless the caller already has it: `work` is the active
 * one, or NULL for none (known_work true). */
static gusto_code read_employee(gusto_client *c, const char *uuid, bool known_work,
                                const json_t *work, char **result, gusto_error *err)
{
    json_t *emp = NULL, *works = NULL;
    gusto_code rc = get1(c, "/v1/employees/%s?include=all_compensations,current_home_address",
                         uuid, &emp, err);
    if (rc == GUSTO_ENOTFOUND)
        return not_found_employee(err, uuid);
    if (rc != GUSTO_OK)
        return rc;
    if (!json_is_object(emp)) {
        json_decref(emp);
        return err_set(err, GUSTO_EPROTOCOL, "employee %s: response is not an object", uuid);
    }
    if (!known_work) {
        rc = get1(c, "/v1/employees/%s/work_addresses", uuid, &works, err);
        if (rc != GUSTO_OK) {
            json_decref(emp);
            return rc;
        }
        work = find_true(works, "active");
    }
    bool built = json_object_set(emp, "current_work_address",
                                 work ? (json_t *)work : json_null()) == 0;
    if (!json_object_get(emp, "current_home_address"))
        built = built && json_object_set_new(emp, "current_home_address", json_null()) == 0;
    json_decref(works);
    *result = built ? json_text(emp) : NULL;
    json_decref(emp);
    return *result ? GUSTO_OK : err_set(err, GUSTO_ENOMEM, "out of memory");
}

gusto_code gusto_employee_get(gusto_client *c, const char *uuid, char **result,
                              gusto_error *err)
{
    err_clear(err);
    *result = NULL;
    gusto_code rc = check_uuid_arg(uuid, err);
    if (rc != GUSTO_OK)
        return rc;
    return read_employee(c, uuid, false, NULL, result, err);
}

/* ---- update ----------------------------------------------------------- */

/* A stale version: Gusto answers 409, or on some endpoints 422 with the
 * category invalid_resource_version (docs/sandbox.md, "Stale versions").
 * Either becomes GUSTO_ECONFLICT. */
static bool stale_version(gusto_code *rc, gusto_error *err)
{
    if (*rc == GUSTO_EINVALID_DATA && err &&
        strcmp(err->category, "invalid_resource_version") == 0) {
        *rc = err->code = GUSTO_ECONFLICT;
        return true;
    }
    return *rc == GUSTO_ECONFLICT;
}

/* PUT `want` with a version already in hand, from an answer just
 * received: one request.  When Gusto finds it stale, put_versioned()
 * re-reads and applies it as any update.  No version: put_versioned(). */
static gusto_code put_known_version(gusto_client *c, const char *path, const json_t *want,
                                    const char *version, const char *what, gusto_error *err)
{
    if (!version)
        return put_versioned(c, path, want, what, err);
    json_t *body = json_deep_copy(want);
    if (!body || json_object_set_new(body, "version", json_string(version)) != 0) {
        json_decref(body);
        return err_set(err, GUSTO_ENOMEM, "out of memory; the %s was not changed", what);
    }
    json_t *out = NULL;
    gusto_code rc = api_json(c, "PUT", path, body, &out, err);
    json_decref(body);
    json_decref(out);
    if (stale_version(&rc, err))
        rc = put_versioned(c, path, want, what, err);
    return rc;
}

/* Apply `want` (fields) to the object at get_path/put_path with its version.
 * On a stale version (409 or 422, stale_version()), re-read: fields nobody
 * else touched are sent again; a field that someone else changed to
 * another value is a real conflict. */
/* Re-applies after 409s caused by changes to other fields.  Each such 409
 * means another writer got through, so the writers as a whole progress;
 * the budget only has to outlast a burst of them (8 processes on one
 * employee lose 5 in a row now and then).  With --retries 0: 2. */
#define CONFLICT_REAPPLY 24

static gusto_code put_versioned(gusto_client *c, const char *path, const json_t *want,
                                const char *what, gusto_error *err)
{
    json_t *base = NULL;
    gusto_code rc = api_json(c, "GET", path, NULL, &base, err);
    if (rc != GUSTO_OK)
        return rc;
    int tries = c->max_retries > 0 ? CONFLICT_REAPPLY : 2;
    json_t *cur = json_incref(base);
    for (int attempt = 0;; attempt++) {
        if (attempt > 1) {
            /* Spread the writers that keep colliding: a random pause up to
             * a tenth of the retry base per attempt (at most 5). */
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long span = c->retry_base_ms / 10 * (attempt < 5 ? attempt : 5) + 1;
            pause_ms((long)((unsigned long)now.tv_nsec % (unsigned long)span));
        }
        json_t *body = json_deep_copy(want);
        json_t *ver = json_object_get(cur, "version");
        if (!body || (ver && json_object_set(body, "version", ver) != 0)) {
            json_decref(body);
            rc = err_set(err, GUSTO_ENOMEM, "out of memory; the %s was not changed", what);
            break;
        }
        json_t *out = NULL;
        rc = api_json(c, "PUT", path, body, &out, err);
        json_decref(body);
        json_decref(out);
        if (!stale_version(&rc, err))
            break;
        /* A stale answer can follow our own PUT: the transport re-sends a
         * PUT whose answer was lost, and the first one may have been
         * carried out.  Look (again while looking fails, as post_once()
         * does) before deciding: when every wanted value is there, the
         * update is done. */
        gusto_error e2;
        gusto_code got = GUSTO_ENETWORK;
        for (int look = 0; look < POST_LOOKS && got != GUSTO_OK; look++) {
            if (look)
                pause_ms(c->retry_base_ms * look);
            json_decref(cur);
            cur = NULL;
            got = api_json(c, "GET", path, NULL, &cur, &e2);
        }
        if (got != GUSTO_OK)
            break;
        bool done = true;
        const char *wk;
        json_t *wv;
        json_object_foreach((json_t *)want, wk, wv) {
            json_t *now = json_object_get(cur, wk);
            done = done && now && json_equal(now, wv);
        }
        if (done) {
            err_clear(err);
            rc = GUSTO_OK;
            break;
        }
        if (attempt >= tries)
            break;
        char clash[256] = "";
        size_t n = 0;
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)want, key, v) {
            json_t *was = json_object_get(base, key), *now = json_object_get(cur, key);
            bool moved = !(was && now ? json_equal(was, now) : was == now);
            if (moved && !(now && json_equal(now, v)) && n < sizeof clash - 70)
                n += (size_t)snprintf(clash + n, sizeof clash - n, "%s%s.%s", n ? ", " : "",
                                      what, key);
        }
        if (n) {
            long status = err ? err->http_status : 0; /* 409, or 422 */
            char rid[sizeof err->request_id] = "";
            if (err)
                memcpy(rid, err->request_id, sizeof rid);
            err_set(err, GUSTO_ECONFLICT,
                    "version conflict: someone else changed %s while this update ran", clash);
            err_field(err, clash);
            err_hint(err, "read the %s again, decide which value wins, and update again", what);
            err_reason(err, "version_conflict");
            if (err) {
                err->http_status = status;
                memcpy(err->request_id, rid, sizeof rid);
            }
            break;
        }
    }
    json_decref(cur);
    json_decref(base);
    return rc;
}

static gusto_code validate_update(const json_t *in, gusto_error *err)
{
    struct input_problems p = {.err = err};
    check_input(in, false, &p);
    return input_verdict(&p, err);
}

gusto_code gusto_employee_validate_update(const char *changes_json, gusto_error *err)
{
    err_clear(err);
    json_t *in;
    gusto_code rc = parse_input(changes_json, &in, err);
    if (rc == GUSTO_OK)
        rc = validate_update(in, err);
    json_decref(in);
    return rc;
}

/* The job's compensation with this uuid in a list, or NULL. */
static json_t *comp_in(json_t *all, const char *uuid)
{
    size_t i;
    json_t *x;
    json_array_foreach(all, i, x) {
        const char *u = json_string_value(json_object_get(x, "uuid"));
        if (uuid && u && strcmp(u, uuid) == 0)
            return x;
    }
    return NULL;
}

/* A pay change: a new compensation for the job (POST), effective on the
 * given effective_date or, without one, on the date Gusto picks (its
 * minimum effective date: the first pay period no payroll has run for).
 * Earlier compensations stay as they are.  Fields not given are the
 * current compensation's.  Gusto allows one pending (future) compensation
 * per job: with one there, the change is refused naming it.  When the
 * latest compensation already carries the change, nothing is sent. */
static gusto_code change_pay(gusto_client *c, const char *job, const char *cur_uuid,
                             const json_t *comp, gusto_error *err)
{
    json_t *all = NULL;
    gusto_code rc = get1(c, "/v1/jobs/%s/compensations?include=all_compensations", job,
                         &all, err);
    if (rc != GUSTO_OK)
        return rc;
    json_t *cur = comp_in(all, cur_uuid), *pending = NULL;
    const char *cur_date = json_string_value(json_object_get(cur, "effective_date"));
    size_t i;
    json_t *x;
    json_array_foreach(all, i, x) {
        const char *d = json_string_value(json_object_get(x, "effective_date"));
        if (cur_date && d && strcmp(d, cur_date) > 0)
            pending = x;
    }
    json_t *body = json_object();
    bool built = body != NULL; /* every step below allocates */
    static const char *const carried[] = {"rate", "payment_unit", "flsa_status", "title", NULL};
    for (int k = 0; cur && carried[k]; k++) {
        json_t *v = json_object_get(cur, carried[k]);
        if (json_is_string(v))
            built = built && json_object_set(body, carried[k], v) == 0;
    }
    if (cur && json_is_true(json_object_get(cur, "adjust_for_minimum_wage"))) {
        json_t *mw = json_array();
        bool ok = built && mw;
        json_array_foreach(json_object_get(cur, "minimum_wages"), i, x)
            ok = ok && json_array_append_new(mw, json_pack("{s:O}", "uuid",
                                             json_object_get(x, "uuid"))) == 0;
        ok = ok && json_object_set_new(body, "adjust_for_minimum_wage", json_true()) == 0;
        if (ok) /* set_new takes mw, failing or not */
            ok = json_object_set_new(body, "minimum_wages", mw) == 0;
        else
            json_decref(mw);
        built = ok;
    }
    built = built && json_object_update(body, (json_t *)comp) == 0;
    if (!built) {
        json_decref(body);
        json_decref(all);
        return err_set(err, GUSTO_ENOMEM, "out of memory; the pay was not changed");
    }
    static const char *const keys[] = {"rate", "payment_unit", "flsa_status", "effective_date",
                                       NULL};
    json_t *latest = pending ? pending : cur;
    if (latest && same_fields(body, latest, keys)) {
        /* Already there (an update run twice): nothing to send. */
    } else if (pending) {
        const char *pu = json_string_value(json_object_get(pending, "uuid"));
        rc = err_set(err, GUSTO_EINVALID_DATA,
                     "the job already has a pending compensation (%s, effective %s), and "
                     "Gusto allows one per job", pu ? pu : "?",
                     json_string_value(json_object_get(pending, "effective_date")) ?: "?");
        err_field(err, "compensation");
        err_hint(err, "change that one (PUT /v1/compensations/%s) or delete it (DELETE "
                      "/v1/compensations/%s), then make this change", pu ? pu : "UUID",
                 pu ? pu : "UUID");
    } else {
        char *p = xasprintf("/v1/jobs/%s/compensations", job);
        json_t *out = NULL;
        rc = p ? post_once(c, p, body, find_comp, job, &out, err)
               : err_set(err, GUSTO_ENOMEM, "out of memory");
        json_decref(out);
        free(p);
    }
    json_decref(body);
    json_decref(all);
    return rc;
}

gusto_code gusto_employee_update(gusto_client *c, const char *uuid, const char *changes_json,
                                 char **result, gusto_error *err)
{
    return gusto_employee_update_ex(c, uuid, changes_json, 0, result, err);
}

/* What an update has done so far, for GUSTO_UPDATE_REPORT: the parts it
 * will write, in order, each with its fields, and how many are done. */
struct update_log {
    json_t *parts;   /* [{"part", "fields"}] */
    size_t done;
};

static void log_part(struct update_log *l, const char *part, const json_t *fields)
{
    json_t *names = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)fields, k, v)
        json_array_append_new(names, json_string(k));
    json_array_append_new(l->parts, json_pack("{s:s, s:o}", "part", part, "fields", names));
}

/* The report of a failed update: applied, not applied, and the failing
 * part with the code, status and request id of its call. */
static char *update_report(const struct update_log *l, const char *uuid, const gusto_error *e)
{
    json_t *applied = json_array(), *rest = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(l->parts, i, p)
        json_array_append(i < l->done ? applied : rest, p);
    json_t *at = json_array_get(l->parts, l->done);
    json_t *failed = json_pack(
        "{s:s, s:o, s:s, s:I, s:s}", "part",
        at ? json_string_value(json_object_get(at, "part")) : "result",
        "fields", at ? json_incref(json_object_get(at, "fields")) : json_array(), "message",
        e->message[0] ? e->message : gusto_strerror(e->code), "http_status",
        (json_int_t)e->http_status, "request_id",
        e->request_id);
    json_t *r = json_pack("{s:s, s:o, s:o, s:o}", "employee_uuid", uuid, "applied", applied,
                          "not_applied", rest, "failed", failed);
    char *t = r ? json_text(r) : NULL;
    json_decref(r);
    return t;
}

/* An update's address: the current (active) one changed with its
 * version, or a first one made.  kind: "home_address" or "work_address". */
static gusto_code set_address(gusto_client *c, const char *uuid, const char *kind,
                              const json_t *body, find_fn find, gusto_error *err)
{
    json_t *list = NULL;
    char fmt[64];
    snprintf(fmt, sizeof fmt, "/v1/employees/%%s/%ses", kind);
    gusto_code rc = get1(c, fmt, uuid, &list, err);
    json_t *act = rc == GUSTO_OK ? find_true(list, "active") : NULL;
    char *p;
    if (act) {
        p = xasprintf("/v1/%ses/%s", kind, json_string_value(json_object_get(act, "uuid")));
        rc = put_versioned(c, p, body, kind, err);
        free(p);
    } else if (rc == GUSTO_OK) {
        json_t *out = NULL;
        p = xasprintf(fmt, uuid);
        rc = post_once(c, p, body, find, uuid, &out, err);
        json_decref(out);
        free(p);
    }
    json_decref(list);
    return rc;
}

/* An update's work address, "location" matched to a location's uuid. */
static gusto_code update_work(gusto_client *c, const char *uuid, const json_t *work,
                              gusto_error *err)
{
    json_t *wb = json_deep_copy(work);
    const char *loc = json_string_value(json_object_get(work, "location"));
    gusto_code rc = GUSTO_OK;
    if (!wb) {
        rc = err_set(err, GUSTO_ENOMEM, "out of memory; the work address was not changed");
    } else if (loc) {
        const char *why;
        char *lu = match_location(c, loc, &why, err);
        json_object_del(wb, "location");
        if (lu) {
            if (json_object_set_new(wb, "location_uuid", json_string(lu)) != 0)
                rc = err_set(err, GUSTO_ENOMEM,
                             "out of memory; the work address was not changed");
            free(lu);
        } else {
            rc = err_set(err, GUSTO_EINVAL, "work_address.location \"%.80s\": %s", loc, why);
            err_field(err, "work_address.location");
        }
    }
    if (rc == GUSTO_OK)
        rc = set_address(c, uuid, "work_address", wb, find_work, err);
    json_decref(wb);
    return rc;
}

/* An update's job and pay: the primary job's fields with its version; the
 * pay corrected in place (GUSTO_UPDATE_CORRECT_PAY) or changed. */
static gusto_code update_job(gusto_client *c, const char *uuid, const json_t *job,
                             const json_t *comp, unsigned flags, struct update_log *log,
                             gusto_error *err)
{
    json_t *jobs = NULL;
    gusto_code rc = get1(c, "/v1/employees/%s/jobs", uuid, &jobs, err);
    json_t *primary = rc == GUSTO_OK ? find_true(jobs, "primary") : NULL;
    if (rc == GUSTO_OK && !primary) {
        rc = err_set(err, GUSTO_EINVAL, "employee %s has no job to update", uuid);
        err_field(err, job ? "job" : "compensation");
        err_hint(err, "create one first: POST /v1/employees/%s/jobs with a title and a "
                      "hire_date", uuid);
        err_reason(err, "no_job");
    }
    char *p;
    if (rc == GUSTO_OK && json_object_size(job)) {
        p = xasprintf("/v1/jobs/%s", json_string_value(json_object_get(primary, "uuid")));
        rc = put_versioned(c, p, job, "job", err);
        free(p);
        if (rc == GUSTO_OK)
            log->done++;
    }
    if (rc == GUSTO_OK && json_object_size(comp)) {
        const char *cu = json_string_value(json_object_get(primary,
                                                           "current_compensation_uuid"));
        const char *ju = json_string_value(json_object_get(primary, "uuid"));
        if (cu && (flags & GUSTO_UPDATE_CORRECT_PAY)) {
            p = xasprintf("/v1/compensations/%s", cu);
            rc = put_versioned(c, p, comp, "compensation", err);
            free(p);
        } else {
            rc = change_pay(c, ju, cu, comp, err);
        }
        if (rc == GUSTO_OK)
            log->done++;
    }
    json_decref(jobs);
    return rc;
}

gusto_code gusto_employee_update_ex(gusto_client *c, const char *uuid,
                                    const char *changes_json, unsigned flags, char **result,
                                    gusto_error *err)
{
    struct update_log log = {0};
    gusto_error mine_err;
    if (!err)
        err = &mine_err; /* the report needs the failing call's details */
    err_clear(err);
    *result = NULL;
    gusto_code rc = check_uuid_arg(uuid, err);
    if (rc != GUSTO_OK)
        return rc;
    json_t *in;
    if ((rc = parse_input(changes_json, &in, err)) != GUSTO_OK)
        return rc;
    rc = check_for_call(in, false, result, err);
    if (rc != GUSTO_OK) {
        json_decref(in);
        return rc;
    }
    char *p = NULL;
    json_t *mine = employee_body(in);
    log.parts = json_array();
    static const char *const nested[] = {"home_address", "work_address", "job",
                                         "compensation"};
    if (json_object_size(mine))
        log_part(&log, "employee", mine);
    for (int k = 0; k < 4; k++) {
        json_t *part = json_object_get(in, nested[k]);
        if (json_object_size(part))
            log_part(&log, nested[k], part);
    }
    if (!mine || !log.parts) {
        json_decref(mine);
        json_decref(log.parts);
        json_decref(in);
        return err_set(err, GUSTO_ENOMEM, "out of memory; nothing was changed");
    }
    if (json_object_size(mine)) {
        p = xasprintf("/v1/employees/%s", uuid);
        rc = put_versioned(c, p, mine, "employee", err);
        free(p);
        if (rc == GUSTO_ENOTFOUND)
            rc = not_found_employee(err, uuid);
        if (rc == GUSTO_OK)
            log.done++;
    } else {
        json_t *probe = NULL;
        rc = get1(c, "/v1/employees/%s", uuid, &probe, err);
        json_decref(probe);
        if (rc == GUSTO_ENOTFOUND)
            rc = not_found_employee(err, uuid);
    }
    json_decref(mine);

    /* Nested parts: the current home and work address, the primary job and
     * its current compensation. */
    json_t *home = json_object_get(in, "home_address");
    if (rc == GUSTO_OK && json_object_size(home) &&
        (rc = set_address(c, uuid, "home_address", home, find_home, err)) == GUSTO_OK)
        log.done++;
    json_t *work = json_object_get(in, "work_address");
    if (rc == GUSTO_OK && json_object_size(work) &&
        (rc = update_work(c, uuid, work, err)) == GUSTO_OK)
        log.done++;
    json_t *job = json_object_get(in, "job");
    json_t *comp = json_object_get(in, "compensation");
    if (rc == GUSTO_OK && (job || comp))
        rc = update_job(c, uuid, job, comp, flags, &log, err);
    json_decref(in);
    if (rc == GUSTO_OK)
        rc = gusto_employee_get(c, uuid, result, err);
    if (rc != GUSTO_OK && (flags & GUSTO_UPDATE_REPORT)) {
        gusto_free(*result);
        *result = update_report(&log, uuid, err);
    }
    json_decref(log.parts);
    return rc;
}
