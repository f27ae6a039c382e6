/* sandbox.h - internal interfaces shared by the gusto-sandbox source files.
 *
 * The sandbox is split by job: server.c speaks HTTP (libmicrohttpd), router.c
 * maps a method and path to a handler, db.c owns SQLite, auth.c checks bearer
 * tokens and scopes, limits.c holds the rate limiter and fault injection,
 * reply.c builds Gusto-shaped responses and errors, render.c turns rows into
 * Gusto's JSON objects, and the h_*.c files are the endpoint handlers.
 *
 * Ownership rule for the whole sandbox: a handler fills req->status and
 * req->body (a json_t it owns a reference to); server.c serialises and frees
 * it.  Everything attached to a struct request is released by request_free().
 */
#ifndef GUSTO_SANDBOX_H
#define GUSTO_SANDBOX_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/ymd.h" /* ymd_add_days(), ymd_valid() */

#define SB_MAX_BODY (1024 * 1024)  /* request bodies above this get 413 */
#define SB_MAX_BATCH_BODY (16 * 1024 * 1024) /* ... except a people batch */
/* A too-large body up to this size is read and discarded before the 413,
 * so clients that send without "Expect: 100-continue" see the answer
 * instead of a reset; above it the sandbox answers at once and closes. */
#define SB_DRAIN_MAX (64ull * 1024 * 1024)
#define SB_MAX_PARAMS 8
#define SB_UUID_LEN 36

/* ---- configuration (main.c) ------------------------------------------ */

/* --as: which Gusto environment the sandbox poses as (main.c, auth.c). */
enum sb_env { SB_ENV_DEMO, SB_ENV_PRODUCTION };

struct sb_config {
    const char *bind;        /* address to bind, default 127.0.0.1 */
    unsigned port;           /* 0 picks a free port */
    const char *data_path;   /* NULL: in-memory database */
    bool seed_demo;
    long seed_employees;
    int rate_limit;          /* requests per rolling 60 s per grant; 0 = off */
    bool log;                /* one line per request on stderr */
    const char *faults;      /* fault spec, see limits.c */
    uint64_t fault_seed;
    long code_ttl;           /* OAuth authorization code lifetime, s (600) */
    long access_ttl;         /* OAuth access token lifetime, s (7200) */
    char today[11];          /* --today: the sandbox's date; "" = the clock */
    const char *default_version; /* --default-version; NULL: newest served */
    long webhook_backoff_ms; /* first webhook retry wait (--webhook-backoff-ms); -1: the
                                GUSTO_SANDBOX_WEBHOOK_RETRY_MS variable, else 1000 */
    enum sb_env environment; /* --as demo|production (default demo) */
};

extern struct sb_config sb_cfg;

/* "demo" or "production": sb_cfg.environment's name (auth.c). */
const char *sb_env_name(void);

/* ---- database (db.c) ------------------------------------------------- */

/* Open the shared database and create the schema.  Returns 0 or -1. */
int db_init(const char *data_path, char *err, size_t errlen);
void db_shutdown(void);

/* A pooled connection: handlers get one per request, never share it. */
sqlite3 *db_acquire(void);
void db_release(sqlite3 *db);

/* Prepared-statement cache per connection, keyed by the SQL text pointer.
 * The statement is reset and its bindings cleared before it is returned. */
sqlite3_stmt *db_stmt(sqlite3 *db, const char *sql);

int db_exec(sqlite3 *db, const char *sql);      /* 0 or -1 */
/* The triggers that tag each stored token and refresh token with the
 * sandbox's --as environment (token_env); see db.c. */
void db_env_triggers(sqlite3 *db);
int db_begin_write(sqlite3 *db);                /* BEGIN IMMEDIATE */
int db_commit(sqlite3 *db);
void db_rollback(sqlite3 *db);
/* The database generation: moves on every committed write (any table, any
 * connection).  db_settle() finishes the move for a connection whose last
 * write committed; every commit path here calls it, and the server calls it
 * before it answers. */
uint64_t db_generation(void);
void db_settle(sqlite3 *db);
/* A read transaction (BEGIN ... COMMIT) whose failures are not logged. */
int db_begin_read(sqlite3 *db);
int db_commit_read(sqlite3 *db);

/* Bind helpers: index is 1-based as in SQLite.  NULL text binds SQL NULL. */
void db_bind_text(sqlite3_stmt *st, int i, const char *s);

/* Store a JSON document as text. */
char *db_json_text(const json_t *doc);          /* malloc'd compact JSON */
/* True while some connection is retrying a locked database (within the last
 * 2 ms): the people-batch worker keeps its gap between chunks open. */
bool db_someone_waiting(void);
json_t *db_col_json(sqlite3_stmt *st, int col); /* new reference or NULL */
const char *db_col_text(sqlite3_stmt *st, int col); /* "" for NULL */

/* ---- ids, versions and time (util.c) -------------------------------- */

void uuid_random(char out[SB_UUID_LEN + 1]);
/* A random UUID for x-request-id: a per-thread PRNG seeded once from
 * RAND_bytes, so not for anything a client could guess to its advantage. */
void uuid_request_id(char out[SB_UUID_LEN + 1]);
/* Deterministic UUIDs for seed data: same seed, same ids. */
void uuid_seeded(uint64_t *state, char out[SB_UUID_LEN + 1]);
/* Opaque 32-hex version for (uuid, revision). */
void version_of(const char *uuid, long rev, char out[33]);
/* The sandbox's date, "YYYY-MM-DD": --today when given, else the clock.
 * now_iso8601() is a timestamp on that date at the clock's time of day. */
void today_ymd(char out[11]);
void now_iso8601(char out[40]);
bool valid_date(const char *s);                 /* strict YYYY-MM-DD */
bool valid_uuid(const char *s);
bool all_digits(const char *s, size_t n);
uint64_t splitmix64(uint64_t *state);
/* SHA-256 of a NUL-terminated secret, as 64 hex digits: how tokens, codes
 * and client secrets are stored. */
void sha256_hex(const char *s, char out[65]);

/* ---- requests (server.c) -------------------------------------------- */

struct auth {
    char token_hash[65];
    char company_uuid[SB_UUID_LEN + 1];
    char owner_uuid[SB_UUID_LEN + 1];
    char grant_id[65];
    char scopes[512];        /* space separated */
};

struct request {
    const char *method;
    const char *path;
    char pathbuf[1024];      /* router's copy; params point into it */
    void *conn;              /* struct MHD_Connection *, for query lookups */
    /* A request driven without libmicrohttpd (conn NULL: fuzz/, tests):
     * the raw query string and a NULL-terminated name, value, ... list. */
    const char *query;
    const char *const *headers;
    char *qbuf;              /* req_query()'s decoded copy of query */
    const char *qkeys[32], *qvals[32];
    int nq;
    char *body_text;         /* raw body, NUL-terminated */
    size_t body_len;
    json_t *json;            /* parsed body, NULL when none */
    struct auth auth;
    /* The API version this request is served at (YYYY-MM-DD): the
     * X-Gusto-API-Version header once accepted, else the default. */
    char api_version[11];
    /* The resource a 422 is about (req_entity()): its errors carry
     * metadata {entity_type, entity_uuid}.  entity_type is a literal. */
    const char *entity_type;
    char entity_uuid[SB_UUID_LEN + 1];
    const char *params[SB_MAX_PARAMS];  /* path parameters, in order */
    int nparams;
    sqlite3 *db;
    /* response */
    int status;
    json_t *reply;           /* owned reference; NULL means empty body */
    struct {
        char name[32];
        char value[64];
    } extra_headers[12];
    int nextra;
    char *raw_reply;         /* malloc'd non-JSON body; wins over reply */
    const char *content_type;  /* of raw_reply (a literal) */
    char *location;          /* malloc'd Location header value, or NULL */
};

/* Start serving on sb_cfg.bind:sb_cfg.port; returns an opaque daemon and
 * the bound port, or NULL with a message in err. */
void *server_start(unsigned *port_out, char *err, size_t errlen);
void server_stop(void *daemon);

/* Query string value or NULL. */
const char *req_query(struct request *r, const char *name);
/* How many times the query holds `name`. */
int req_query_count(struct request *r, const char *name);
/* Request header value (case-insensitive name) or NULL. */
const char *req_header(struct request *r, const char *name);
/* The pipeline after faults: API version, routing, auth, rate limit, scope,
 * body size, JSON, transaction, handler.  The outcome is r->status and
 * r->reply.  body (len bytes, NUL-terminated) stays the caller's. */
void request_run(struct request *r, char *body, size_t len, bool too_large,
                 size_t max_body);
/* True when the request is served at API version `v` (YYYY-MM-DD) or a
 * later one: how a handler switches on a version's documented change. */
bool req_version_ge(const struct request *r, const char *v);
/* Release what request_run() attached to r (not r itself). */
void request_release(struct request *r);
void req_add_header(struct request *r, const char *name, const char *value);

/* ---- replies and errors (reply.c) ----------------------------------- */

/* Each sets r->status and r->reply and returns 0, so a handler can
 * `return reply_error(...)`. */
int reply_json(struct request *r, int status, json_t *body);  /* steals body */
int reply_empty(struct request *r, int status);
/* A JSON body already serialised (malloc'd, NUL-terminated; stolen). */
int reply_text(struct request *r, int status, char *json_text);
int reply_error(struct request *r, int status, const char *key,
                const char *category, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int reply_not_found(struct request *r);
/* 403 for a token without `scope`, in the body Gusto sends (Gusto's CLI,
 * src/lib/handle-api-error.ts): {"errors":[{"error_key":"request",
 * "category":"missing_oauth_scopes", "message", "metadata":
 * {"missing_scope_name": scope}}]}. */
int reply_missing_scope(struct request *r, const char *scope);
int db_error(struct request *r); /* 500, for a failed statement */
int reply_conflict(struct request *r);
/* A stale `version`: 409 as reply_conflict(), or status 422 with the same
 * error (Gusto's spec shows both; docs/sandbox.md says which endpoint
 * answers which). */
int reply_stale(struct request *r, int status);

/* A list of field errors collected before replying with 422. */
struct errlist {
    json_t *errors;          /* array; NULL until the first error */
};
void errlist_add(struct errlist *e, const char *key, const char *category,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* 422, frees e.  Each error gets metadata {entity_type, entity_uuid} of the
 * request's entity (req_entity()) when it has none of its own. */
int reply_errlist(struct request *r, struct errlist *e);
/* Name the resource a 422 of this request is about: type as Gusto spells
 * it ("Employee", "Job", "Compensation", ...; a literal), uuid or NULL. */
void req_entity(struct request *r, const char *type, const char *uuid);

/* ---- body validation (validate.c) ----------------------------------- */

enum ftype {
    F_STRING, F_STRING_NULL, F_BOOL, F_BOOL_NULL, F_DATE, F_DATE_NULL,
    F_ENUM, F_MONEY, F_ARRAY, F_UUID,
    F_DECIMAL_NULL,          /* a decimal string such as "40.0", or null */
    F_INT_NULL               /* a whole number >= 0, or null */
};

struct field {
    const char *name;
    enum ftype type;
    bool required;           /* on create */
    const char *const *enum_values;  /* F_ENUM: NULL-terminated */
    /* extra check: returns NULL when fine, else a message */
    const char *(*check)(const char *value);
};

/* What a field of type t must be, for messages: "a string". */
const char *ftype_name(enum ftype t);

/* Check r->json against a field table.  Unknown fields are ignored, as
 * Gusto's Rails API ignores unpermitted parameters.  creating=true enforces
 * `required`.  Appends problems to e. Returns true when the body is an object. */
bool validate_body(struct request *r, const struct field *fields, bool creating,
                   struct errlist *e);
/* Copy the fields present in body into doc (overwrite).  Returns true when
 * a value actually changed: Gusto moves a version only on a real change. */
bool apply_fields(json_t *doc, const json_t *body, const struct field *fields);
/* The stored effective_date of a row in `table` (a fixed table name). */
void stored_date(sqlite3 *db, const char *sql, const char *uuid, char out[11]);
/* The PUT of an effective-dated document: `body`'s FIELDS applied to doc
 * (which it takes), and the row written back only when a value or the
 * effective date (new_date, NULL: unchanged) really changed.  1 written,
 * 0 nothing changed, -1 database error. */
enum dated_table { DATED_HOME, DATED_COMPENSATION };
int store_update_dated(sqlite3 *db, enum dated_table t, const char *uuid, json_t *doc,
                       const json_t *body, const struct field *fields, const char *new_date);

const char *check_month_day(const char *v);  /* "MM-DD", a day that exists */
bool valid_decimal(const char *s);          /* "40", "6.67": what F_MONEY takes */
const char *check_ssn(const char *v);
const char *check_state(const char *v);
const char *check_zip(const char *v);
const char *check_phone(const char *v);
const char *check_email(const char *v);
const char *check_initial(const char *v);

extern const char *const PAYMENT_UNITS[];
extern const char *const FLSA_STATUSES[];

/* ---- auth, rate limit, faults (auth.c, limits.c) -------------------- */

/* Fill r->auth from the Authorization header; on failure reply 401 and
 * return -1. */
int auth_check(struct request *r, const char *authorization);
bool auth_has_scope(const struct request *r, const char *scope);
/* The environment ("demo", "production") a stored token or refresh token
 * (by its hash) was issued in: its token_env tag, "demo" for one stored
 * before --as existed.  False (and out "") on a database error. */
bool auth_env_of(sqlite3 *db, const char *hash, char out[16]);
/* The 401 or OAuth message for a credential from the other environment
 * (issued in `env`), into buf. */
void auth_env_message(const char *what, const char *env, char *buf, size_t len);
/* Register a token for a company.  scopes NULL = every scope. */
int auth_add_token(sqlite3 *db, const char *token, const char *company_uuid,
                   const char *scopes, long ttl_seconds);
extern const char *const SB_ALL_SCOPES;

int limits_init(int per_minute, const char *fault_spec, uint64_t seed,
                char *err, size_t errlen);
void limits_shutdown(void);
/* Count a request for the grant; fills the X-RateLimit-* headers.
 * Returns false when the request must get 429. */
bool ratelimit_take(struct request *r);

/* FAULT_LOST: the request is processed, then the connection closes with no
 * response: the client cannot tell whether it took effect. */
enum fault { FAULT_NONE, FAULT_500, FAULT_429, FAULT_DROP, FAULT_DELAY, FAULT_LOST };
enum fault fault_next(int *delay_ms);

/* ---- routing and handlers (router.c, h_*.c) ------------------------- */

typedef int (*handler_fn)(struct request *r);

struct route {
    const char *method;
    const char *pattern;     /* "/v1/employees/:/jobs" - ':' is a parameter */
    const char *scope;       /* required scope, NULL = any valid token */
    handler_fn fn;
    unsigned flags;          /* RT_WRITE, RT_BODYLESS */
};
#define RT_WRITE 1u          /* runs inside BEGIN IMMEDIATE */
#define RT_BODYLESS 2u       /* a PUT or POST that takes no body: none is fine */

/* Find the route; fills r->params.  Returns NULL and sets *method_ok=false
 * when no path matched, or *method_ok=false/true to tell 404 from 405. */
const struct route *route_find(struct request *r, bool *path_matched);

/* Ownership checks used by many handlers: load the row's company and
 * compare with the token's.  Return true when visible to the caller. */
bool own_company(struct request *r, const char *company_uuid);
bool own_employee(struct request *r, const char *employee_uuid);

int h_token_info(struct request *r);
int h_company_get(struct request *r);
int h_locations_list(struct request *r);
int h_location_create(struct request *r);
int h_location_get(struct request *r);
int h_location_update(struct request *r);

int h_employees_list(struct request *r);
int h_employee_create(struct request *r);
int h_employee_get(struct request *r);
int h_employee_update(struct request *r);
int h_employee_delete(struct request *r);

int h_home_list(struct request *r);
int h_home_create(struct request *r);
int h_home_get(struct request *r);
int h_home_update(struct request *r);
int h_home_delete(struct request *r);
int h_work_list(struct request *r);
int h_work_create(struct request *r);
int h_work_get(struct request *r);
int h_work_update(struct request *r);
int h_work_delete(struct request *r);

int h_jobs_list(struct request *r);
int h_job_create(struct request *r);
int h_job_get(struct request *r);
int h_job_update(struct request *r);
int h_job_delete(struct request *r);
int h_comps_list(struct request *r);
int h_comp_create(struct request *r);
int h_comp_get(struct request *r);
int h_comp_update(struct request *r);
int h_comp_delete(struct request *r);

int h_time_off_activities(struct request *r);
int h_company_custom_fields(struct request *r);    /* h_custom_fields.c */
int h_employee_custom_fields(struct request *r);
int h_departments_list(struct request *r);         /* h_departments.c */
int h_department_create(struct request *r);
int h_department_get(struct request *r);
int h_department_update(struct request *r);
int h_department_delete(struct request *r);
int h_department_add(struct request *r);
int h_department_remove(struct request *r);
/* The time-off activity that takes an employee off a policy: their latest
 * activity for a policy being this one means they are not on it. */
#define SB_EV_REMOVE "TimeOffEvent::RemoveFromPolicy"
int h_time_off_policies_list(struct request *r);   /* h_timeoff_policies.c */
int h_time_off_policy_create(struct request *r);
int h_time_off_policy_get(struct request *r);
int h_time_off_policy_update(struct request *r);
int h_time_off_policy_add_employees(struct request *r);
int h_time_off_policy_remove_employees(struct request *r);
int h_time_off_policy_balance(struct request *r);
int h_time_off_policy_deactivate(struct request *r);

int h_terminations_list(struct request *r);
int h_termination_create(struct request *r);
int h_termination_delete(struct request *r);
int h_rehire_get(struct request *r);
int h_rehire_create(struct request *r);

/* ---- OAuth 2.0 (h_oauth_*.c, oauth_common.c; clients: oauth_apps.c) ---- */

/* A system access token's scopes (grant_type=system_access). */
#define SB_SYSTEM_SCOPES "webhook_subscriptions:read webhook_subscriptions:write"
/* The app's stable uuid (token_info of a system token). */
void sb_app_uuid(const char *client_id, char out[SB_UUID_LEN + 1]);
/* True for a system-level token (no company). */
#define AUTH_IS_SYSTEM(r) ((r)->auth.company_uuid[0] == 0)

/* Route scope sentinel (compared by address): no bearer token, no rate
 * limit, and the body is handed to the handler raw in body_text. */
extern const char SB_PUBLIC[];
/* --app CLIENT_ID:SECRET:URI[,URI...]; wipes the secret in spec.  And
 * --apps FILE (JSON array).  Both return 0 or -1 with a message in err. */
int oauth_app_arg(char *spec, char *err, size_t errlen);
int oauth_apps_file(const char *path, char *err, size_t errlen);
int oauth_init(sqlite3 *db);                /* create the OAuth tables */
void oauth_shutdown(void);                  /* free the registered apps */
int h_oauth_authorize_get(struct request *r);
int h_oauth_authorize_post(struct request *r);
int h_oauth_token(struct request *r);
int h_oauth_revoke(struct request *r);

/* How a client authenticates at the token endpoint: either way (--app), or
 * only as it registered (RFC 7591 token_endpoint_auth_method). */
enum oauth_auth { OAUTH_AUTH_ANY, OAUTH_AUTH_BASIC, OAUTH_AUTH_POST };
struct oauth_client {
    const char *client_id;
    const char *secret_hash;     /* sha256_hex() of the secret */
    const char *const *uris;     /* nuris redirect URIs, each checked */
    int nuris;
    const char *scopes;          /* space separated; NULL: every scope */
    const char *name;            /* NULL: the client id */
    enum oauth_auth auth;
    bool pkce;                   /* authorize requests must carry a code_challenge */
};
/* Add a client to the running registry (thread-safe; copies everything).
 * Returns 0, or -1 with a message in err (never the secret). */
int oauth_client_add(const struct oauth_client *c, char *err, size_t errlen);
/* NULL when uri is acceptable as a redirect URI, else why not. */
const char *oauth_check_uri(const char *uri);
/* 32 random bytes as 43 base64url characters; 0 or -1. */
int oauth_random_token(char out[44]);
/* POST /v1/mcp/oauth/register: RFC 7591 dynamic client registration
 * (h_oauth_register.c); oauth_clients_load() re-adds the clients a --data
 * file holds, at start-up. */
int h_oauth_register(struct request *r);
int oauth_clients_load(sqlite3 *db);

/* Shared handler helpers (h_company.c).  parse_paging returns false after
 * replying 422; *paginate is true when page or per was sent.
 * check_version returns -1 after replying 422 (no version) or 409 (stale);
 * check_version_as answers a stale version with stale_status (409 or 422). */
bool parse_paging(struct request *r, long *page, long *per, bool *paginate);
void paging_headers(struct request *r, long page, long per, long total);
/* The page of `all` (consumed) that page/per ask for, with the paging
 * headers; `all` itself when !paginate. */
json_t *page_slice(struct request *r, json_t *all, long page, long per, bool paginate);
int check_version(struct request *r, const char *uuid, long rev);
int check_version_as(struct request *r, const char *uuid, long rev, int stale_status);
/* The rendering of each uuid a bound statement returns (first column). */
json_t *render_each(sqlite3 *db, sqlite3_stmt *st, json_t *(*render)(sqlite3 *, const char *));

/* ---- row writes shared by handlers and seeding (store.c) ------------- */

/* Each returns 0 or -1; doc is borrowed.  created_at NULL means now. */
void store_init_seq(sqlite3 *db);
int store_employee(sqlite3 *db, const char *uuid, const char *company, const json_t *doc,
                   bool onboarded, const char *status, const char *created_at);
int store_employee_doc(sqlite3 *db, const char *uuid, const json_t *doc);
int store_home_address(sqlite3 *db, const char *uuid, const char *emp,
                       const char *effective_date, const json_t *doc);
int store_work_address(sqlite3 *db, const char *uuid, const char *emp,
                       const char *effective_date, const char *location);
int store_job(sqlite3 *db, const char *uuid, const char *emp, const json_t *doc);
int store_compensation(sqlite3 *db, const char *uuid, const char *job, const char *emp,
                       const char *effective_date, const json_t *doc);
/* The compensation Gusto creates with a job: Nonexempt, Hour, "0.00",
 * effective on the job's hire_date (job_doc), with its title. */
int store_stub_compensation(sqlite3 *db, const char *uuid, const char *job, const char *emp,
                            const json_t *job_doc);
int store_time_off(sqlite3 *db, const char *emp, const char *policy, const char *type,
                   const char *event_type, const char *desc, const char *when,
                   const char *balance, const char *change);
int store_termination(sqlite3 *db, const char *uuid, const char *emp,
                      const char *effective_date);
int store_location(sqlite3 *db, const char *uuid, const char *company, const json_t *doc);
/* The company of employee `emp` into out; "" when there is no such employee
 * (or the statement failed). */
void store_employee_company(sqlite3 *db, const char *emp, char out[SB_UUID_LEN + 1]);
/* Fetch a row's doc and revision: returns a new reference or NULL. */
json_t *store_load(sqlite3 *db, const char *table, const char *uuid, long *rev);

/* ---- rendering (render.c) ------------------------------------------- */

/* Locations rendered once per read request: every employee's job embeds
 * its work location, and a company has few.  Only for a request that
 * writes nothing (a write could change a location between two uses). */
struct render_memo {
    int n;
    struct {
        char uuid[SB_UUID_LEN + 1];
        json_t *location;    /* owned */
    } loc[8];
};
void render_memo_free(struct render_memo *m);

struct render_opts {
    struct render_memo *memo;  /* NULL: none */
    bool comp_scope;         /* token has compensations:read */
    bool all_compensations;
    bool all_home_addresses;
    bool current_home_address;
    bool company_name;
    bool custom_fields;
    bool portal_invitations;
    /* The request's API version (r->api_version), for a version's
     * documented difference in shape; NULL renders the newest shape.  Part
     * of the cache key: a rendering is kept per version. */
    const char *api_version;
};

json_t *render_location(sqlite3 *db, const char *uuid);
json_t *render_employee(sqlite3 *db, const char *uuid,
                        const struct render_opts *o);
json_t *render_home_address(sqlite3 *db, const char *uuid);
json_t *render_work_address(sqlite3 *db, const char *uuid);
json_t *render_job(sqlite3 *db, const char *uuid, const struct render_opts *o);
json_t *render_compensation(sqlite3 *db, const char *uuid);

/* Bump the revision (and so the version) of a row and its ancestors. */
void touch_employee(sqlite3 *db, const char *employee_uuid);
void touch_job(sqlite3 *db, const char *job_uuid);

/* Current = latest effective_date <= today, else the earliest one. */
const char *current_home_address_uuid(sqlite3 *db, const char *emp, char out[37]);
const char *current_work_address_uuid(sqlite3 *db, const char *emp, char out[37]);
const char *current_compensation_uuid(sqlite3 *db, const char *job, char out[37]);

/* ---- rendered-employee cache (rcache.c) ------------------------------ */

/* A growable text buffer; oom is set (and further adds ignored) when an
 * allocation fails.  p is malloc'd and NUL-terminated once anything was
 * added; the owner frees it. */
struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
};
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_reserve(struct sbuf *b, size_t n);  /* capacity for n bytes */

unsigned rcache_opts_key(const struct render_opts *o);
/* On a hit (same uuid, options, generation and day) append the text to out
 * (when not NULL), copy the employee's company uuid to company (when not
 * NULL) and return true.  Thread-safe. */
bool rcache_get(const char *uuid, unsigned opts, uint64_t gen, const char *day,
                struct sbuf *out, char company[SB_UUID_LEN + 1]);
/* Keep len bytes of text for (uuid, opts), rendered from a snapshot taken
 * at generation gen or later on day `day`.  Thread-safe; may keep nothing. */
void rcache_put(const char *uuid, unsigned opts, uint64_t gen, const char *day,
                const char *company, const char *text, size_t len);
void rcache_clear(void);

/* ---- people batches (h_batches.c, batches.c) ------------------------ */

#define SB_BATCH_MAX 10000   /* entries per people batch; more is a 422 */

int h_batch_create(struct request *r);
int h_batch_get(struct request *r);
/* Finish batches a previous run left unfinished, then start the worker
 * thread (with every signal blocked).  0, or -1 with a message in err. */
int batches_start(char *err, size_t errlen);
/* Stop and join the worker; batches it had not finished get their final
 * status, their unprocessed entries failing with internal_error. */
void batches_shutdown(void);
/* Hand a batch, stored as pending in the caller's open transaction, to the
 * worker; takes ownership of items (the request's batch array).  0 or -1. */
int batches_enqueue(const char *batch_uuid, const char *company, json_t *items);
/* Mark in excluded[i] (n entries, zeroed by the caller) every entry of a
 * batch array whose person.external_id is also another entry's: Gusto puts
 * those in the batch's exclusions and processes the rest.  Returns how many
 * entries are excluded, or -1 when out of memory. */
long batch_exclusions(const json_t *items, bool *excluded);

/* ---- webhook subscriptions and delivery (h_webhooks.c) --------------- */

int h_webhook_subs_list(struct request *r);
int h_webhook_sub_create(struct request *r);
int h_webhook_sub_get(struct request *r);
int h_webhook_sub_update(struct request *r);
int h_webhook_sub_delete(struct request *r);
int h_webhook_sub_verify(struct request *r);
int h_webhook_sub_request_token(struct request *r);
int h_webhooks_health(struct request *r);
/* POST /sandbox/webhook_events: raise an Employee event by hand. */
int h_webhook_fire(struct request *r);
/* Hold the events this thread raises until webhook_release(): delivered
 * then when deliver is true (the request's transaction committed), else
 * dropped.  request_run() brackets every write handler with them. */
void webhook_hold(void);
void webhook_release(bool deliver);
/* Queue a signed event for every verified subscription of `company` that
 * takes entity_type ("Employee", "PeopleBatch"): now, or when held, once
 * the request commits. */
void webhook_emit(const char *entity_type, const char *event_type, const char *company,
                  const char *entity_uuid);
/* people_batch.completed or .failed for a finished batch. */
void webhook_batch_finished(sqlite3 *db, const char *batch_uuid, const char *company);

/* ---- payrolls that have run (payrolls.c) ----------------------------- */

/* The last day the company's payrolls have run through, into out: false
 * (out "") when none has run. */
bool payroll_through(sqlite3 *db, const char *company, char out[11]);
/* True when a payroll that has run was paid at this compensation. */
bool comp_processed(sqlite3 *db, const char *comp_uuid);
/* Record that the company's payrolls have run through `through` (a valid
 * date): every compensation of its employees in effect by then is processed.
 * Returns how many were newly marked, or -1 on a database error. */
long payroll_run(sqlite3 *db, const char *company, const char *through);
/* The day the seed's payrolls ran through: the last day of last month. */
void payroll_seed_through(char out[11]);
int h_sandbox_payrolls_get(struct request *r);
int h_sandbox_payroll_run(struct request *r);

/* ---- company records kept as Gusto's JSON (records.c) ---------------- */

/* Kinds of company_records rows. */
#define RK_PAY_SCHEDULE "pay_schedule"
#define RK_EARNING_DEFAULT "earning_type_default"
#define RK_EARNING_CUSTOM "earning_type_custom"
#define RK_SIGNATORY "signatory"
#define RK_FEDERAL_TAX "federal_tax_details" /* uuid: the company's */
#define RK_CONTRACTOR "contractor"
#define RK_TIME_OFF_REQUEST "time_off_request"

/* Store doc (borrowed) as record (kind, uuid) of company; a record that
 * exists is left as it is.  0 or -1. */
int rec_put(sqlite3 *db, const char *kind, const char *uuid, const char *company,
            const json_t *doc);
/* The record's doc (new reference; its "version", when it has one, is the
 * record's) and its company into company, or NULL (company ""). */
json_t *rec_get(sqlite3 *db, const char *kind, const char *uuid,
                char company[SB_UUID_LEN + 1]);
/* Every record of a kind of the company, in seeding order: a new array, or
 * NULL on a database error. */
json_t *rec_list(sqlite3 *db, const char *kind, const char *company);
/* Pay schedules, earning types, signatories and federal tax details of both
 * companies; with demo also the demo company's contractors and time-off
 * requests (after seed_demo: the requests are its employees'). */
int seed_records(sqlite3 *db, bool demo);

/* Handlers of the records and of what is derived from other tables. */
int h_onboarding_status_get(struct request *r);     /* h_onboarding.c */
int h_onboarding_status_put(struct request *r);
int h_employment_history(struct request *r);
int h_pay_schedules_list(struct request *r);        /* h_pay_schedules.c */
int h_pay_schedule_get(struct request *r);
int h_pay_schedule_assignments(struct request *r);
int h_pay_periods(struct request *r);
int h_earning_types(struct request *r);             /* h_company_extra.c */
int h_signatories(struct request *r);
int h_federal_tax_details(struct request *r);       /* h_tax.c */
int h_tax_requirements_state(struct request *r);
int h_contractors_list(struct request *r);          /* h_contractors.c */
int h_contractor_get(struct request *r);
int h_time_off_requests_list(struct request *r);    /* h_time_off_requests.c */
int h_time_off_request_get(struct request *r);
int h_time_off_balances(struct request *r);

/* ---- what the sandbox does not emulate (unemulated.c, spec_paths.c) -- */

/* One operation of Gusto's spec: its method and path template as the spec
 * writes them ("/v1/companies/{company_id}/payrolls").  shadowed: an
 * emulated route would take its path (a literal where the route has a
 * parameter), so it is looked for before routing. */
struct spec_op {
    const char *method, *path;
    bool shadowed;
};
/* Generated by scripts/spec-paths.mjs: every operation no route serves,
 * the SPEC_SHADOWED_N shadowed ones first. */
extern const struct spec_op SPEC_UNEMULATED[];
extern const size_t SPEC_UNEMULATED_N, SPEC_SHADOWED_N;
/* The unemulated operation for the request's method and path, or NULL;
 * routed: only the shadowed ones (the request matched a route). */
const struct spec_op *spec_unemulated(const char *method, const char *path, bool routed);
/* 501 with Gusto's error shape naming the operation.  Returns 0. */
int reply_unemulated(struct request *r, const struct spec_op *op);

/* ---- seed data (seed.c) --------------------------------------------- */

/* The fixed demo company exists in every sandbox. */
extern char SB_DEMO_COMPANY[SB_UUID_LEN + 1];
extern char SB_OTHER_COMPANY[SB_UUID_LEN + 1];
int seed_base(sqlite3 *db);                 /* companies, locations, policies */
int seed_demo(sqlite3 *db);                 /* ~50 employees with history */
int seed_employees(sqlite3 *db, long n);    /* n synthetic employees, fast */

#endif
