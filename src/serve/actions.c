/* actions.c - gusto-connect serve's actions: the table of names, their JSON Schemas, running each on libgusto with the caller's connection, the CLI's envelopes, HTTP statuses a workflow engine can branch on, and masking for the audit log. */
#include "serve/serve.h"
#include "shared/listcursor.h"
#include "shared/secretkeys.h"
#include "sync/profile.h"
#include "sync/store.h"


#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- results ---------------------------------------------------------- */

/* The HTTP status for a library outcome.  4xx: the input or the employee
 * is at fault (do not retry as is); 502/503/504: Gusto or the network
 * (retry later); 207: done with warnings. */
static int http_of(gusto_code code, long upstream)
{
    switch (code) {
    case GUSTO_OK: return 200;
    case GUSTO_EPARTIAL: return 207;
    case GUSTO_EINVAL: return 400;
    case GUSTO_EINVALID_DATA: return 422;
    case GUSTO_ENOTFOUND: return 404;
    case GUSTO_ECONFLICT:
    case GUSTO_EDUPLICATE: return 409;
    case GUSTO_ERATELIMIT: return 429;
    case GUSTO_EAUTH: return 424;        /* reauth_required (fail_lib) */
    case GUSTO_EFORBIDDEN: return 502;   /* the stored connection was refused by Gusto */
    case GUSTO_EHTTP: return upstream >= 400 && upstream < 500 ? (int)upstream : 502;
    case GUSTO_ENETWORK: return 504;
    case GUSTO_ESERVER:
    case GUSTO_EPROTOCOL: return 502;
    case GUSTO_ENOMEM:
    case GUSTO_ECANCELED: break;
    }
    return 500;
}

/* What an engine or its operator can do, in serve's words (actions, fields,
 * `serve connections ...`): the library's hints name CLI commands and flags,
 * which mean nothing to a caller of serve. */
static const char *serve_hint(gusto_code code)
{
    switch (code) {
    case GUSTO_EINVAL: return "fix the field named in details.field and send the request again";
    case GUSTO_EINVALID_DATA:
        return "Gusto refused these values (details.error_key, details.response): correct "
               "them before sending again";
    case GUSTO_ENOTFOUND:
        return "check the uuid: list-employees finds employees, and the connection decides the "
               "company";
    case GUSTO_ECONFLICT:
    case GUSTO_EDUPLICATE:
        return "read the record again (get-employee) and send the change once more";
    case GUSTO_ERATELIMIT: return "Gusto's rate limit: retry after a pause";
    case GUSTO_ENETWORK:
    case GUSTO_ESERVER:
    case GUSTO_EPROTOCOL:
    case GUSTO_EHTTP: return "Gusto or the network failed: retry later";
    case GUSTO_EFORBIDDEN:
        return "the connection's grant does not allow this; an operator must connect it again "
               "with the scopes needed (serve connections list shows its scopes)";
    case GUSTO_EAUTH:
        return "Gusto no longer accepts this connection's grant: an operator must authorize it "
               "again (serve connections list shows it); retrying will not help";
    default: return NULL;
    }
}

/* A refused grant: the access token was rejected, or the refresh token
 * expired or was revoked (OAuth invalid_grant).  Only an operator can fix
 * it, so it is a 4xx that engines do not retry (docs/serve.md). */
static bool needs_reauth(const gusto_error *e)
{
    return e->code == GUSTO_EAUTH;
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *ok_env(json_t *data)
{
    return json_pack("{s:b, s:o}", "ok", 1, "data", data ? data : json_null());
}

/* The CLI's error envelope for a library failure. */
static void fail_lib(struct action_ctx *x, const gusto_error *e, json_t *response)
{
    bool reauth = needs_reauth(e);
    const char *code = reauth ? "reauth_required"
                       : *e->category ? e->category : gusto_code_name(e->code);
    /* The hint of a duplicate is actions.c's own (a_create); others by code. */
    const char *hint = e->code == GUSTO_EDUPLICATE && *e->hint ? e->hint : serve_hint(e->code);
    json_t *details = json_pack("{s:o, s:o, s:o, s:o}", "http_status",
                                e->http_status > 0 ? json_integer(e->http_status) : json_null(),
                                "error_key", str_or_null(e->error_key), "category",
                                str_or_null(e->category), "field", str_or_null(e->field));
    if (response)
        json_object_set_new(details, "response", response);
    json_t *msg = json_string(*e->message ? e->message : gusto_strerror(e->code));
    x->envelope = json_pack("{s:b, s:{s:s, s:o, s:o, s:o, s:o}}", "ok", 0, "error", "code",
                            code, "message", msg ? msg : json_string("(not UTF-8)"), "details",
                            details, "request_id", str_or_null(e->request_id), "hint",
                            str_or_null(hint));
    x->http_status = reauth ? 424 : http_of(e->code, e->http_status);
    if (reauth)
        json_object_set_new(json_object_get(x->envelope, "error"), "retryable", json_false());
    snprintf(x->error_code, sizeof x->error_code, "%s", reauth ? "reauth_required" : gusto_code_name(e->code));
    snprintf(x->gusto_request_id, sizeof x->gusto_request_id, "%s", e->request_id);
    metrics_error(reauth ? "reauth_required" : gusto_code_name(e->code));
}

static void fail(struct action_ctx *x, int status, const char *code, const char *message,
                 const char *field)
{
    x->envelope = json_pack("{s:b, s:{s:s, s:s, s:{s:n, s:n, s:n, s:o}, s:n, s:n}}", "ok", 0,
                            "error", "code", code, "message", message, "details",
                            "http_status", "error_key", "category", "field", str_or_null(field),
                            "request_id", "hint");
    x->http_status = status;
    snprintf(x->error_code, sizeof x->error_code, "%s", code);
    metrics_error(code);
}

static void on_wait(void *ud, long wait_ms, int server)
{
    (void)server;
    struct action_ctx *x = ud;
    x->waits++;
    x->wait_ms += wait_ms;
    metrics_wait(wait_ms);
}

static gusto_client *client_for(struct action_ctx *x)
{
    gusto_options o = {
        .on_wait = on_wait,
        .wait_userdata = x,
    };
    serve_client_options(x->cfg, &o);
    gusto_error e;
    gusto_client *c =
        x->connection
            ? gusto_client_new_stored(&o, x->cfg->store[0] ? x->cfg->store : NULL,
                                      x->connection, &e)
            : gusto_client_new(&o, &e);
    if (!c)
        fail_lib(x, &e, NULL);
    return c;
}

static const char *str_in(const struct action_ctx *x, const char *k)
{
    return json_string_value(json_object_get(x->input, k));
}

static bool need_str(struct action_ctx *x, const char *k, const char **out)
{
    *out = str_in(x, k);
    if (*out && **out)
        return true;
    char msg[160];
    snprintf(msg, sizeof msg, "\"%s\" is required (a string)", k);
    fail(x, 400, "invalid_input", msg, k);
    return false;
}

static json_t *parse_result(char *text)
{
    json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (text)
        explicit_bzero(text, strlen(text));
    gusto_free(text);
    return j;
}

/* "a\nb\nc", malloc'd, or NULL. */
static char *xcat3(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 3;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s\n%s\n%s", a, b, c);
    return s;
}

/* ---- the actions ------------------------------------------------------ */

/* list-employees pages: limit (default LIST_DEFAULT, at most LIST_MAX) and
 * an opaque cursor, "v1.<offset hex>.<filters hash hex>": the employees
 * before offset in Gusto's order are skipped, so each comes once, and a
 * cursor is refused with filters other than its own. */
#define LIST_DEFAULT 100
#define LIST_MAX 1000
#define LIST_DEFAULT_S "100"
#define LIST_MAX_S "1000"

struct page {
    json_t *arr;
};

static int collect(void *ud, const char *json, size_t len)
{
    struct page *p = ud;
    json_t *e = json_loadb(json, len, 0, NULL);
    if (e)
        json_array_append_new(p->arr, e);
    return 0;
}

/* The filters' hash (src/shared/listcursor.h), so that a cursor only
 * continues its own list. */
static unsigned long filters_hash(const struct action_ctx *x)
{
    static const char *const keys[] = {"search", "terminated", "active", "include"};
    unsigned long h = LISTCURSOR_HASH_INIT;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char *t = json_dumps(json_object_get(x->input, keys[i]), JSON_ENCODE_ANY);
        h = listcursor_hash(h, t);
        free(t);
    }
    return h;
}

static void a_list(struct action_ctx *x, gusto_client *c)
{
    bool term = json_is_true(json_object_get(x->input, "terminated"));
    bool act = json_is_true(json_object_get(x->input, "active"));
    if (term && act) {
        fail(x, 400, "invalid_input", "\"terminated\" and \"active\" exclude each other",
             "terminated");
        return;
    }
    long long want = LIST_DEFAULT;
    json_t *lim = json_object_get(x->input, "limit");
    if (json_is_integer(lim))
        want = json_integer_value(lim); /* 1..LIST_MAX: the schema checked it */
    const char *cur = str_in(x, "cursor");
    unsigned long fh = filters_hash(x);
    unsigned long long off = 0;
    if (cur) {
        unsigned long h = 0;
        bool ok = listcursor_decode(cur, GUSTO_LIST_MAX_EMPLOYEES, &off, &h) == 0;
        if (!ok || h != fh) {
            fail(x, 400, "invalid_input",
                 ok ? "\"cursor\" belongs to a list with other filters (search, terminated, "
                      "active, include): send the same filters, or no cursor to start again"
                    : "\"cursor\" is not a next_cursor of list-employees",
                 "cursor");
            return;
        }
    }
    int more = 0;
    gusto_list_options lo = {.version = GUSTO_LIST_OPTIONS_VERSION,
                             .search_term = str_in(x, "search"),
                             .terminated = term ? 1 : act ? 2 : 0,
                             .include = str_in(x, "include"),
                             .offset = (size_t)off,
                             .limit = (size_t)want,
                             .more = &more};
    struct page p = {.arr = json_array()};
    gusto_error e;
    size_t got = 0;
    gusto_code code = GUSTO_OK;
    /* A cursor at the list's last possible place: nothing after it. */
    if (off < GUSTO_LIST_MAX_EMPLOYEES)
        code = gusto_employees_list(c, &lo, collect, &p, &got, &e);
    if (code != GUSTO_OK) {
        json_decref(p.arr);
        fail_lib(x, &e, NULL);
        return;
    }
    x->envelope = ok_env(p.arr);
    if (more) {
        char next[48];
        json_object_set_new(x->envelope, "next_cursor",
                            json_string(listcursor_encode(next, sizeof next,
                                                          off + (unsigned long long)got, fh)));
    } else {
        json_object_set_new(x->envelope, "next_cursor", json_null());
    }
    x->http_status = 200;
}

/* The input minus the service's own fields, as JSON text. */
static char *payload_text(struct action_ctx *x, const char *inner)
{
    json_t *src = inner ? json_object_get(x->input, inner) : NULL;
    json_t *copy = json_is_object(src) ? json_deep_copy(src) : json_deep_copy(x->input);
    json_object_del(copy, "connection");
    json_object_del(copy, "employee_uuid");
    json_object_del(copy, "correct_compensation"); /* update-employee's option */
    json_object_del(copy, "allow_duplicate");      /* create-employee's option */
    char *t = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    return t;
}

static void employee_uuid_of(struct action_ctx *x, const json_t *emp)
{
    const char *u = json_string_value(json_object_get(emp, "uuid"));
    if (u)
        snprintf(x->employee, sizeof x->employee, "%s", u);
}

/* Every problem of a create (update = 0) or update input, before anything
 * is sent: true when there is none, else the envelope names the first and
 * lists them all under details.errors, as the CLI does. */
static bool input_ok(struct action_ctx *x, const char *text, int update)
{
    gusto_error e;
    char *problems = NULL;
    gusto_code code = gusto_employee_check(text, update, &problems, &e);
    if (code != GUSTO_OK) {
        fail_lib(x, &e, NULL);
        json_t *list = problems ? json_loads(problems, 0, NULL) : NULL;
        json_t *details = json_object_get(json_object_get(x->envelope, "error"), "details");
        if (list && details)
            json_object_set(details, "errors", list);
        json_decref(list);
    }
    gusto_free(problems);
    return code == GUSTO_OK;
}

/* Creates through one connection (one company) run one at a time, so two
 * workflow runs racing for the same person cannot both pass the duplicate
 * look before either has written: the second then finds the first's
 * employee.  Connections hash onto a few locks. */
#define CREATE_LOCKS 16
static pthread_mutex_t create_locks[CREATE_LOCKS] = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER};

static pthread_mutex_t *create_lock(const char *connection)
{
    unsigned h = 5381;
    for (const char *p = connection ? connection : ""; *p; p++)
        h = h * 33u + (unsigned char)*p;
    return &create_locks[h % CREATE_LOCKS];
}

static void a_create(struct action_ctx *x, gusto_client *c)
{
    char *text = payload_text(x, "employee");
    char *result = NULL;
    gusto_error e;
    /* allow_duplicate: true creates a second record of a person who exists. */
    unsigned flags = json_is_true(json_object_get(x->input, "allow_duplicate"))
                         ? GUSTO_CREATE_ALLOW_DUPLICATE : 0;
    gusto_code code = GUSTO_EINVAL;
    if (!text) {
        code = GUSTO_ENOMEM;
    } else if (input_ok(x, text, 0)) {
        pthread_mutex_t *m = create_lock(x->connection);
        pthread_mutex_lock(m);
        code = gusto_employee_create_ex(c, text, flags, &result, &e);
        pthread_mutex_unlock(m);
    }
    if (text) {
        explicit_bzero(text, strlen(text));
        free(text);
    }
    if (code == GUSTO_EDUPLICATE) {
        json_t *res = parse_result(result);
        json_t *dup = json_object_get(res, "duplicate_of");
        employee_uuid_of(x, dup);
        snprintf(e.hint, sizeof e.hint, "update employee %.40s instead; send "
                 "\"allow_duplicate\": true to create a second record for the same person",
                 x->employee);
        fail_lib(x, &e, NULL);
        json_t *details = json_object_get(json_object_get(x->envelope, "error"), "details");
        if (details && dup)
            json_object_set(details, "duplicate_of", dup);
        json_decref(res);
        return;
    }
    if (code != GUSTO_OK && code != GUSTO_EPARTIAL) {
        gusto_free(result);
        if (!text)
            fail(x, 500, "out_of_memory", "out of memory", NULL);
        else if (!x->envelope) /* input_ok() reported the input's problems */
            fail_lib(x, &e, NULL);
        return;
    }
    json_t *res = parse_result(result);
    employee_uuid_of(x, json_object_get(res, "employee"));
    /* A failed part's hint in serve's words: the part, sent again. */
    size_t wi;
    json_t *w;
    json_array_foreach(json_object_get(res, "warnings"), wi, w) {
        const char *ent = json_string_value(json_object_get(w, "entity"));
        char h[200];
        snprintf(h, sizeof h, "send %.60s again with update-employee for this employee_uuid",
                 ent ? ent : "the part");
        json_object_set_new(w, "hint", json_string(h));
    }
    x->envelope = ok_env(res);
    x->http_status = code == GUSTO_OK ? 201 : 207;
    if (code == GUSTO_EPARTIAL) {
        json_object_set_new(x->envelope, "partial", json_true());
        snprintf(x->error_code, sizeof x->error_code, "partially_completed");
    }
}

static void a_get(struct action_ctx *x, gusto_client *c)
{
    const char *uuid;
    if (!need_str(x, "employee_uuid", &uuid))
        return;
    snprintf(x->employee, sizeof x->employee, "%.39s", uuid);
    char *result = NULL;
    gusto_error e;
    if (gusto_employee_get(c, uuid, &result, &e) != GUSTO_OK) {
        gusto_free(result);
        fail_lib(x, &e, NULL);
        return;
    }
    x->envelope = ok_env(parse_result(result));
    x->http_status = 200;
}

static void a_update(struct action_ctx *x, gusto_client *c)
{
    const char *uuid;
    if (!need_str(x, "employee_uuid", &uuid))
        return;
    snprintf(x->employee, sizeof x->employee, "%.39s", uuid);
    char *text = payload_text(x, "changes");
    char *result = NULL;
    gusto_error e;
    /* A pay change is a new compensation; correct_compensation: true
     * corrects the current one in place instead. */
    unsigned flags = GUSTO_UPDATE_REPORT |
                     (json_is_true(json_object_get(x->input, "correct_compensation"))
                          ? GUSTO_UPDATE_CORRECT_PAY : 0);
    gusto_code code = !text ? GUSTO_ENOMEM
                      : input_ok(x, text, 1)
                          ? gusto_employee_update_ex(c, uuid, text, flags, &result, &e)
                          : GUSTO_EINVAL;
    if (text) {
        explicit_bzero(text, strlen(text));
        free(text);
    }
    if (code != GUSTO_OK) {
        json_t *report = parse_result(result);
        if (!text)
            fail(x, 500, "out_of_memory", "out of memory", NULL);
        else if (!x->envelope) /* input_ok() reported the input's problems */
            fail_lib(x, &e, NULL);
        /* A partial update said in full: what was applied and what not. */
        json_t *details = json_object_get(json_object_get(x->envelope, "error"), "details");
        if (details && report)
            json_object_set(details, "update", report);
        json_decref(report);
        return;
    }
    x->envelope = ok_env(parse_result(result));
    x->http_status = 200;
}

static void a_time_off(struct action_ctx *x, gusto_client *c)
{
    const char *uuid, *type = str_in(x, "type");
    if (!need_str(x, "employee_uuid", &uuid))
        return;
    snprintf(x->employee, sizeof x->employee, "%.39s", uuid);
    if (type && strcmp(type, "vacation") && strcmp(type, "sick") && strcmp(type, "all")) {
        fail(x, 400, "invalid_input", "\"type\" is not vacation, sick or all", "type");
        return;
    }
    if (type && strcmp(type, "all") == 0)
        type = NULL;
    char *result = NULL;
    gusto_error e;
    if (gusto_time_off(c, uuid, type, &result, &e) != GUSTO_OK) {
        gusto_free(result);
        fail_lib(x, &e, NULL);
        return;
    }
    x->envelope = ok_env(parse_result(result));
    x->http_status = 200;
}

static void a_call_api(struct action_ctx *x, gusto_client *c)
{
    const char *method, *path;
    if (!need_str(x, "method", &method) || !need_str(x, "path", &path))
        return;
    json_t *b = json_object_get(x->input, "body");
    char *body = b && !json_is_null(b) ? json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    long status = 0;
    char *out = NULL;
    gusto_error e;
    gusto_code code = gusto_request(c, method, path, body, &status, &out, &e);
    if (body) {
        explicit_bzero(body, strlen(body));
        free(body);
    }
    json_t *j = out && *out ? json_loads(out, JSON_DECODE_ANY, NULL) : NULL;
    if (!j && out && *out)
        j = json_string(out);
    gusto_free(out);
    if (code != GUSTO_OK) {
        fail_lib(x, &e, j);
        return;
    }
    x->envelope = ok_env(j);
    json_object_set_new(x->envelope, "http_status", json_integer(status));
    x->http_status = 200;
}

static json_t *batch_json(const gusto_batch *b)
{
    json_t *results = json_array();
    for (size_t i = 0; i < b->count; i++) {
        const gusto_batch_person *p = &b->people[i];
        json_t *errs = p->errors_json ? json_loads(p->errors_json, 0, NULL) : NULL;
        json_array_append_new(
            results, json_pack("{s:o, s:o, s:s, s:o, s:o}", "row",
                               p->idx >= 0 ? json_integer(p->idx + 1) : json_null(),
                               "external_id", str_or_null(p->external_id), "status",
                               p->status, "employee_uuid", str_or_null(p->employee_uuid),
                               "errors", errs ? errs : json_null()));
    }
    json_t *ex = b->exclusions_json ? json_loads(b->exclusions_json, 0, NULL) : NULL;
    return json_pack(
        "{s:s, s:o, s:s, s:b, s:b, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "uuid", b->uuid,
        "idempotency_key", str_or_null(b->idempotency_key), "status", b->status, "finished",
        b->finished, "existing", b->existing, "submitted_items",
        b->submitted >= 0 ? json_integer(b->submitted) : json_null(), "processed_items",
        (json_int_t)b->processed, "excluded_items", (json_int_t)b->excluded, "failed_items",
        (json_int_t)(b->failed + b->partial), "submitted_at", str_or_null(b->submitted_at),
        "completed_at", str_or_null(b->completed_at), "exclusions", ex ? ex : json_array(),
        "results", results);
}

static void a_batch_create(struct action_ctx *x, gusto_client *c)
{
    json_t *entries = json_object_get(x->input, "entries");
    if (!json_is_array(entries)) {
        fail(x, 400, "invalid_input", "\"entries\" is required (an array of batch entries)",
             "entries");
        return;
    }
    char *text = json_dumps(entries, JSON_COMPACT);
    gusto_batch b;
    gusto_error e;
    gusto_code code = gusto_batch_create(c, text ? text : "[]", str_in(x, "idempotency_key"),
                                         &b, &e);
    if (text) {
        explicit_bzero(text, strlen(text));
        free(text);
    }
    if (code != GUSTO_OK) {
        json_t *errs = b.errors_json ? json_loads(b.errors_json, 0, NULL) : NULL;
        fail_lib(x, &e, NULL);
        json_t *details = json_object_get(json_object_get(x->envelope, "error"), "details");
        if (errs)
            json_object_set_new(details, "errors", errs);
        /* The key used (a new one when none was given), so that a retry
         * after a lost answer sends the same key and creates nobody twice. */
        if (b.idempotency_key[0])
            json_object_set_new(details, "idempotency_key", json_string(b.idempotency_key));
        if (code == GUSTO_EINVAL)
            x->http_status = 400; /* local validation: one status (docs/serve.md) */
    } else {
        x->envelope = ok_env(batch_json(&b));
        x->http_status = b.existing ? 200 : 202;
    }
    gusto_batch_free(&b);
}

static void a_batch_get(struct action_ctx *x, gusto_client *c)
{
    const char *uuid;
    if (!need_str(x, "batch_uuid", &uuid))
        return;
    gusto_batch b;
    gusto_error e;
    if (gusto_batch_status(c, uuid, &b, &e) != GUSTO_OK)
        fail_lib(x, &e, NULL);
    else {
        x->envelope = ok_env(batch_json(&b));
        x->http_status = 200;
    }
    gusto_batch_free(&b);
}

/* ---- the table -------------------------------------------------------- */

#define S_UUID "{\"type\":\"string\",\"pattern\":\"^[0-9a-f-]{36}$\"}"
#define S_CONN "\"connection\":{\"type\":\"string\",\"description\":\"stored connection; or the X-Gusto-Connection header\"}"
#define S_ADDR "{\"type\":\"object\",\"properties\":{\"street_1\":{\"type\":\"string\"},\"street_2\":{\"type\":\"string\"},\"city\":{\"type\":\"string\"},\"state\":{\"type\":\"string\"},\"zip\":{\"type\":\"string\"},\"effective_date\":{\"type\":\"string\",\"format\":\"date\"},\"courtesy_withholding\":{\"type\":\"boolean\"}},\"additionalProperties\":false}"
#define S_EMPFIELDS "\"first_name\":{\"type\":\"string\"},\"last_name\":{\"type\":\"string\"},\"middle_initial\":{\"type\":\"string\"},\"preferred_first_name\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"},\"work_email\":{\"type\":\"string\"},\"date_of_birth\":{\"type\":\"string\",\"format\":\"date\"},\"ssn\":{\"type\":\"string\",\"writeOnly\":true},\"home_address\":" S_ADDR ",\"work_address\":{\"type\":\"object\",\"properties\":{\"location_uuid\":{\"type\":\"string\"},\"location\":{\"type\":\"string\"},\"effective_date\":{\"type\":\"string\"}},\"additionalProperties\":false},\"job\":{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\"},\"hire_date\":{\"type\":\"string\",\"format\":\"date\"}},\"additionalProperties\":false},\"compensation\":{\"type\":\"object\",\"properties\":{\"rate\":{\"type\":\"string\"},\"payment_unit\":{\"type\":\"string\"},\"flsa_status\":{\"type\":\"string\"},\"effective_date\":{\"type\":\"string\",\"format\":\"date\"}},\"additionalProperties\":false}"
#define S_ERR "{\"type\":\"object\",\"required\":[\"ok\",\"error\"],\"properties\":{\"ok\":{\"const\":false},\"error\":{\"type\":\"object\",\"required\":[\"code\",\"message\"],\"properties\":{\"code\":{\"type\":\"string\"},\"message\":{\"type\":\"string\"},\"details\":{\"type\":\"object\"},\"request_id\":{\"type\":[\"string\",\"null\"]},\"hint\":{\"type\":[\"string\",\"null\"]},\"retryable\":{\"type\":\"boolean\",\"description\":\"false: sending the same request again cannot succeed (4xx); true: retry later (5xx, 429)\"}}}}}"
#define S_OK(data) "{\"type\":\"object\",\"required\":[\"ok\",\"data\"],\"properties\":{\"ok\":{\"const\":true},\"data\":" data "}}"
#define S_EMP "{\"type\":\"object\",\"properties\":{\"uuid\":" S_UUID ",\"first_name\":{\"type\":\"string\"},\"last_name\":{\"type\":\"string\"},\"version\":{\"type\":\"string\"},\"current_home_address\":{\"type\":[\"object\",\"null\"]},\"current_work_address\":{\"type\":[\"object\",\"null\"]},\"jobs\":{\"type\":\"array\"}}}"
#define S_WARN "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"entity\":{\"type\":\"string\"},\"status\":{\"type\":\"integer\"},\"message\":{\"type\":\"string\"},\"hint\":{\"type\":\"string\"}}}}"
#define S_BATCH "{\"type\":\"object\",\"required\":[\"uuid\",\"status\",\"finished\"],\"properties\":{\"uuid\":" S_UUID ",\"idempotency_key\":{\"type\":[\"string\",\"null\"]},\"status\":{\"enum\":[\"pending\",\"processing\",\"completed\",\"partial_success\",\"failed\"]},\"finished\":{\"type\":\"boolean\"},\"existing\":{\"type\":\"boolean\"},\"submitted_items\":{\"type\":[\"integer\",\"null\"]},\"processed_items\":{\"type\":\"integer\"},\"failed_items\":{\"type\":\"integer\"},\"results\":{\"type\":\"array\"}}}"

struct action {
    const char *name;
    const char *description;
    void (*fn)(struct action_ctx *, gusto_client *);
    const char *input;
    const char *output;
    const char *statuses;
};

/* ---- profile: one employee of the connection's company, from the mirror --- */

/* The fields a caller may choose; never home_address or compensation. */
static const char *const PROFILE_FIELDS[] = {
    "name", "first_name", "preferred_first_name", "last_name", "work_email",
    "personal_email", "phone", "employee_code", "job_title", "department", "manager_uuid",
    "hire_date", "employment_status", "employment_type", "termination_date",
    "work_location", "time_off", "custom_fields",
};
#define NPROFILE_FIELDS (sizeof PROFILE_FIELDS / sizeof PROFILE_FIELDS[0])

struct prof_find {
    const char *company;
    json_t *profile;             /* the first match of that company */
    char checked_at[40];
    long long checked_at_ms;
};

static int prof_each(void *ud, const struct mfound *f)
{
    struct prof_find *p = ud;
    if (p->profile || !f->profile || strcmp(f->company, p->company) != 0)
        return 0;
    p->profile = json_loads(f->profile, 0, NULL);
    snprintf(p->checked_at, sizeof p->checked_at, "%s", f->checked_at ? f->checked_at : "");
    p->checked_at_ms = f->checked_at_ms;
    return 0;
}

static void a_profile(struct action_ctx *x, gusto_client *c)
{
    (void)c;
    const char *email;
    if (!need_str(x, "email", &email))
        return;
    gusto_connection info;
    gusto_error e;
    if (gusto_connection_get(x->cfg->store[0] ? x->cfg->store : NULL, x->connection, &info,
                             &e) != GUSTO_OK) {
        fail(x, 503, "store_unavailable", "the connection store cannot be read now; retry",
             NULL);
        return;
    }
    char target[1024], err[600], lower[330];
    size_t n = 0;
    for (; email[n] && n < sizeof lower - 1; n++)
        lower[n] = (char)(email[n] >= 'A' && email[n] <= 'Z' ? email[n] - 'A' + 'a' : email[n]);
    lower[n] = 0;
    struct mstore *st = NULL;
    if (mstore_target(x->cfg->mirror[0] ? x->cfg->mirror : NULL, false, target, sizeof target,
                      err, sizeof err) == 0)
        st = mstore_open(target, true, err, sizeof err);
    struct prof_find pf = {.company = info.company_uuid};
    int rc = st ? mstore_find_email(st, lower, prof_each, &pf) : -1;
    mstore_close(st);
    if (rc != 0) {
        json_decref(pf.profile);
        fail(x, 503, "mirror_unavailable", "the sync mirror cannot be read now", NULL);
        return;
    }
    if (!pf.profile) {
        fail(x, 404, "not_found",
             "no employee of this connection's company has that work or personal email in "
             "the mirror", "email");
        return;
    }
    const json_t *want = json_object_get(x->input, "fields");
    json_t *out = json_object();
    for (size_t i = 0; i < NPROFILE_FIELDS; i++) {
        const char *f = PROFILE_FIELDS[i];
        bool chosen = !json_array_size(want);
        size_t k;
        json_t *w;
        json_array_foreach(want, k, w)
            if (json_is_string(w) && strcmp(json_string_value(w), f) == 0)
                chosen = true;
        if (!chosen)
            continue;
        if (strcmp(f, "name") == 0) {
            char name[300];
            profile_display_name(pf.profile, name, sizeof name);
            json_object_set_new(out, f, json_string(name));
        } else {
            json_t *v = json_object_get(pf.profile, f);
            json_object_set_new(out, f, v ? json_incref(v) : json_null());
        }
    }
    const char *uuid = json_string_value(json_object_get(pf.profile, "employee_uuid"));
    snprintf(x->employee, sizeof x->employee, "%.39s", uuid ? uuid : "");
    json_object_set_new(out, "employee_uuid", uuid ? json_string(uuid) : json_null());
    json_object_set_new(out, "synced_at",
                        pf.checked_at[0] ? json_string(pf.checked_at) : json_null());
    json_decref(pf.profile);
    x->envelope = ok_env(out);
    x->http_status = 200;
}

static const struct action ACTIONS[] = {
    {"list-employees", "Employees of the company, a page at a time: limit, then next_cursor until it is null.", a_list,
     "{\"type\":\"object\",\"properties\":{" S_CONN ",\"search\":{\"type\":\"string\"},\"terminated\":{\"type\":\"boolean\"},\"active\":{\"type\":\"boolean\"},\"include\":{\"type\":\"string\"},\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":" LIST_MAX_S ",\"description\":\"employees in this answer (default " LIST_DEFAULT_S ")\"},\"cursor\":{\"type\":\"string\",\"maxLength\":200,\"description\":\"the next_cursor of the answer before, with the same filters\"}},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"required\":[\"ok\",\"data\",\"next_cursor\"],\"properties\":{\"ok\":{\"const\":true},\"data\":{\"type\":\"array\",\"items\":" S_EMP "},\"next_cursor\":{\"type\":[\"string\",\"null\"]}}}", "200 400 403 424(reauth_required) 502 504"},
    {"create-employee", "Onboard an employee with its nested parts; warnings name parts that failed.",
     a_create,
     "{\"type\":\"object\",\"required\":[\"first_name\",\"last_name\"],\"properties\":{" S_CONN ",\"allow_duplicate\":{\"type\":\"boolean\",\"description\":\"true: create even when an active employee has the same email, or the same name and date of birth (default: refused with 409 duplicate_employee)\"}," S_EMPFIELDS "},\"additionalProperties\":false}",
     S_OK("{\"type\":\"object\",\"required\":[\"employee\",\"warnings\"],\"properties\":{\"employee\":" S_EMP ",\"warnings\":" S_WARN "}}"),
     "201 207(partial: warnings) 400 409(duplicate_employee) 422 502 504 424(reauth_required)"},
    {"get-employee", "An employee with current addresses, jobs and compensations.", a_get,
     "{\"type\":\"object\",\"required\":[\"employee_uuid\"],\"properties\":{" S_CONN ",\"employee_uuid\":" S_UUID "},\"additionalProperties\":false}",
     S_OK(S_EMP), "200 400 404 502 504 424(reauth_required)"},
    {"update-employee", "Change an employee and its nested parts (versions handled).", a_update,
     "{\"type\":\"object\",\"required\":[\"employee_uuid\"],\"properties\":{" S_CONN ",\"employee_uuid\":" S_UUID ",\"correct_compensation\":{\"type\":\"boolean\",\"description\":\"true: correct the current compensation in place; default: a pay change is a new compensation from its effective_date\"},\"changes\":{\"type\":\"object\",\"properties\":{" S_EMPFIELDS "},\"additionalProperties\":false}," S_EMPFIELDS "},\"additionalProperties\":false}",
     S_OK(S_EMP), "200 400 404 409 422 502 504 424(reauth_required)"},
    {"get-time-off-activities", "Time-off activities and balances of an employee.", a_time_off,
     "{\"type\":\"object\",\"required\":[\"employee_uuid\"],\"properties\":{" S_CONN ",\"employee_uuid\":" S_UUID ",\"type\":{\"enum\":[\"vacation\",\"sick\",\"all\"]}},\"additionalProperties\":false}",
     S_OK("{\"type\":\"object\",\"properties\":{\"employee_uuid\":" S_UUID ",\"activities\":{\"type\":\"array\"},\"balances\":{\"type\":\"array\"}}}"),
     "200 400 404 502 504 424(reauth_required)"},
    {"call-api", "Any Gusto API request; {company_uuid} in the path is filled in.", a_call_api,
     "{\"type\":\"object\",\"required\":[\"method\",\"path\"],\"properties\":{" S_CONN ",\"method\":{\"enum\":[\"GET\",\"POST\",\"PUT\",\"PATCH\",\"DELETE\"]},\"path\":{\"type\":\"string\",\"pattern\":\"^/\"},\"body\":{}},\"additionalProperties\":false}",
     "{\"type\":\"object\",\"required\":[\"ok\"],\"properties\":{\"ok\":{\"const\":true},\"http_status\":{\"type\":\"integer\"},\"data\":{}}}",
     "200 400 404 409 422 429 502 504 (Gusto's 4xx passed through) 424(reauth_required)"},
    {"create-people-batch", "Submit a people batch (bulk onboarding); idempotent by key.",
     a_batch_create,
     "{\"type\":\"object\",\"required\":[\"entries\"],\"properties\":{" S_CONN ",\"idempotency_key\":" S_UUID ",\"entries\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"person\":{\"type\":\"object\"},\"home_address\":{\"type\":\"object\"},\"work_address\":{\"type\":\"object\"},\"job\":{\"type\":\"object\"},\"compensation\":{\"type\":\"object\"},\"bank_accounts\":{\"type\":\"array\"}},\"additionalProperties\":false}}},\"additionalProperties\":false}",
     S_OK(S_BATCH), "202 200(existing key) 400 422 502 504 424(reauth_required)"},
    {"get-people-batch", "A people batch's status and per-person results.", a_batch_get,
     "{\"type\":\"object\",\"required\":[\"batch_uuid\"],\"properties\":{" S_CONN ",\"batch_uuid\":" S_UUID "},\"additionalProperties\":false}",
     S_OK(S_BATCH), "200 400 404 502 504 424(reauth_required)"},
    {"profile", "One employee of the connection's company by work or personal email, from the sync mirror (no request to Gusto): the chosen fields, never home address or pay.", a_profile,
     "{\"type\":\"object\",\"required\":[\"email\"],\"properties\":{" S_CONN ",\"email\":{\"type\":\"string\",\"format\":\"email\",\"maxLength\":320},\"fields\":{\"type\":\"array\",\"items\":{\"enum\":[\"name\",\"first_name\",\"preferred_first_name\",\"last_name\",\"work_email\",\"personal_email\",\"phone\",\"employee_code\",\"job_title\",\"department\",\"manager_uuid\",\"hire_date\",\"employment_status\",\"employment_type\",\"termination_date\",\"work_location\",\"time_off\",\"custom_fields\"]},\"description\":\"the fields to answer (default: all of them)\"}},\"additionalProperties\":false}",
     S_OK("{\"type\":\"object\",\"required\":[\"employee_uuid\"],\"properties\":{\"employee_uuid\":" S_UUID ",\"synced_at\":{\"type\":[\"string\",\"null\"]}}}"),
     "200 400 404 503"},
};
#define NACTIONS (sizeof ACTIONS / sizeof ACTIONS[0])

bool action_known(const char *name)
{
    for (size_t i = 0; i < NACTIONS; i++)
        if (strcmp(ACTIONS[i].name, name) == 0)
            return true;
    return false;
}

/* ---- Idempotency-Key ----------------------------------------------------
 * A write sent again with the same Idempotency-Key gets the first answer
 * back instead of running twice (docs/serve.md, "Idempotency-Key"). */

/* Does the action write?  call-api only with a method other than GET. */
static bool action_writes(const char *name, const struct action_ctx *x)
{
    if (strcmp(name, "call-api") == 0) {
        const char *m = str_in(x, "method");
        return !m || strcasecmp(m, "GET") != 0;
    }
    return strcmp(name, "create-employee") == 0 || strcmp(name, "update-employee") == 0 ||
           strcmp(name, "create-people-batch") == 0;
}

bool action_is_write(const char *name, const json_t *input)
{
    struct action_ctx x = {.input = (json_t *)input};
    return action_writes(name, &x);
}

/* 1 to 255 visible ASCII characters (a UUID, as Stripe and Gusto use). */
static bool idem_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            return false;
    return true;
}

/* Answers worth keeping: final ones.  A 5xx (Gusto or the network failed:
 * the outcome may be unknown), a 429 and a 409 (retry later) let the key go,
 * so a retry runs again. */
static bool idem_keep(int status)
{
    return status < 500 && status != 429 && status != 409 && status != 408;
}

static void run_one(const struct action *a, struct action_ctx *x)
{
    gusto_client *c = client_for(x);
    if (!c)
        return;
    a->fn(x, c);
    gusto_client_free(c);
}

static void idem_run(const struct action *a, struct action_ctx *x)
{
    const char *key = x->idempotency_key;
    if (!idem_key_ok(key)) {
        fail(x, 400, "invalid_idempotency_key",
             "the Idempotency-Key header must be 1 to 255 visible ASCII characters (a UUID "
             "is best)", "Idempotency-Key");
        return;
    }
    /* The request: action, connection, and the body with sorted keys. */
    char *canon = json_dumps(x->input, JSON_COMPACT | JSON_SORT_KEYS);
    char *req = canon ? xcat3(a->name, x->connection ? x->connection : "", canon) : NULL;
    if (canon) {
        explicit_bzero(canon, strlen(canon));
        free(canon);
    }
    if (!req) {
        fail(x, 500, "out_of_memory", "out of memory", NULL);
        return;
    }
    int status = 0;
    char *body = NULL;
    int got = serve_idem_claim(x->caller, key, req, &status, &body);
    explicit_bzero(req, strlen(req));
    free(req);
    json_t *kept = got == SERVE_IDEM_REPLAY ? json_loads(body, 0, NULL) : NULL;
    free(body);
    switch (got) {
    case SERVE_IDEM_NEW:
        break;
    case SERVE_IDEM_REPLAY:
        if (kept) {
            x->envelope = kept;
            x->http_status = status;
            x->replayed = true;
            return;
        }
        fail(x, 500, "internal", "the kept answer of this Idempotency-Key cannot be read",
             "Idempotency-Key");
        return;
    case SERVE_IDEM_MISMATCH:
        fail(x, 422, "idempotency_key_reused",
             "this Idempotency-Key was used with a different request (action, connection or "
             "body); send a new key for a new request", "Idempotency-Key");
        return;
    case SERVE_IDEM_BUSY:
        fail(x, 409, "idempotency_key_in_progress",
             "a request with this Idempotency-Key is still running; retry after it ends to "
             "get its answer", "Idempotency-Key");
        return;
    default:
        fail(x, 503, "store_unavailable", "the Idempotency-Key store cannot be used now; retry",
             "Idempotency-Key");
        return;
    }
    run_one(a, x);
    char *text = NULL;
    if (x->envelope && idem_keep(x->http_status))
        text = json_dumps(x->envelope, JSON_COMPACT | JSON_PRESERVE_ORDER);
    serve_idem_finish(x->caller, key, x->http_status, text);
    free(text);
}

void action_run(const char *name, struct action_ctx *x)
{
    for (size_t i = 0; i < NACTIONS; i++) {
        if (strcmp(ACTIONS[i].name, name) != 0)
            continue;
        if (x->idempotency_key && action_writes(name, x))
            idem_run(&ACTIONS[i], x);
        else
            run_one(&ACTIONS[i], x);
        return;
    }
    fail(x, 404, "unknown_action", "no such action (GET /actions lists them)", NULL);
}

/* The input schemas, parsed once from the table GET /actions publishes. */
static json_t *input_schemas[NACTIONS];
static pthread_once_t schemas_once = PTHREAD_ONCE_INIT;

static void parse_schemas(void)
{
    for (size_t i = 0; i < NACTIONS; i++)
        input_schemas[i] = json_loads(ACTIONS[i].input, 0, NULL);
}

bool action_validate(const char *name, const json_t *input, json_t **envelope)
{
    *envelope = NULL;
    pthread_once(&schemas_once, parse_schemas);
    for (size_t i = 0; i < NACTIONS; i++) {
        if (strcmp(ACTIONS[i].name, name) != 0)
            continue;
        json_t *errs = schema_validate(input_schemas[i], input);
        if (!errs || json_array_size(errs) == 0) {
            json_decref(errs);
            return true;
        }
        json_t *first = json_array_get(errs, 0);
        char msg[700];
        size_t n = json_array_size(errs);
        snprintf(msg, sizeof msg, "%s%s", json_string_value(json_object_get(first, "message")),
                 n > 1 ? " (and more: see details.errors)" : "");
        struct action_ctx x = {0};
        fail(&x, 400, "invalid_input", msg, json_string_value(json_object_get(first, "field")));
        json_t *err = json_object_get(x.envelope, "error");
        json_object_set_new(json_object_get(err, "details"), "errors", errs);
        json_object_set_new(err, "hint",
                            json_string("send only the fields of this action's input_schema "
                                        "(GET /actions), with the types it gives"));
        *envelope = x.envelope;
        return false;
    }
    return true;
}

json_t *actions_describe(void)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < NACTIONS; i++) {
        json_error_t je;
        json_t *in = json_loads(ACTIONS[i].input, 0, &je);
        json_t *out = json_loads(ACTIONS[i].output, 0, &je);
        json_t *err = json_loads(S_ERR, 0, &je);
        char path[96];
        snprintf(path, sizeof path, "/actions/%s", ACTIONS[i].name);
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s}", "name", ACTIONS[i].name,
                           "method", "POST", "path", path, "description",
                           ACTIONS[i].description, "input_schema", in ? in : json_null(),
                           "output_schema", out ? out : json_null(), "error_schema",
                           err ? err : json_null(), "statuses", ACTIONS[i].statuses));
    }
    return arr;
}

/* ---- masking ---------------------------------------------------------- */

json_t *mask_json(const json_t *v)
{
    /* The one policy and walk of src/shared/secretkeys.h (the CLI's and
     * libgusto's dry-run plan's too). */
    json_t *m = json_deep_copy(v);
    secret_mask_json(m);
    return m;
}
