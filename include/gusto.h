/* gusto.h - libgusto, a C client for Gusto's REST API (versions 2025-11-15 to
 * 2026-12-01; see "API versions" below).
 *
 * One opaque handle, gusto_client, holds a connection (libcurl, kept alive),
 * the access token, the company UUID, the retry policy and a client-side rate
 * limiter.  Every call returns a gusto_code (0 = GUSTO_OK) and, when the
 * caller passes one, fills a gusto_error with the details.
 *
 * Data goes in and out as JSON text in Gusto's own field names, so callers
 * can use any JSON library.  Strings the library returns through `char **`
 * are allocated by it and must be released with gusto_free().
 *
 * The library never prints and never exits.  A client handle must not be
 * used by two threads at once; separate handles are independent.
 * Secrets (the token, SSNs, bank account numbers) never appear in error
 * messages or trace output.
 */
#ifndef GUSTO_H
#define GUSTO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden symbols; only this header's are public. */
#if defined(GUSTO_BUILDING) && defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* libgusto's own version, the one source the Makefile (soname, pkg-config),
 * the CLI and the User-Agent read.  GUSTO_VERSION_NUM is 0xMMmmpp, for
 * `#if GUSTO_VERSION_NUM >= 0x000200`; gusto_version() is the version of the
 * library actually loaded, which may be newer than the header a program was
 * compiled with (docs/api-stability.md says what may change between them). */
#define GUSTO_VERSION_MAJOR 0
#define GUSTO_VERSION_MINOR 1
#define GUSTO_VERSION_PATCH 0
#define GUSTO_VERSION "0.1.0"
#define GUSTO_VERSION_NUM                                                       \
    ((GUSTO_VERSION_MAJOR << 16) | (GUSTO_VERSION_MINOR << 8) | GUSTO_VERSION_PATCH)

/* "MAJOR.MINOR.PATCH" of the loaded library; static, never NULL. */
const char *gusto_version(void);

/* The X-Gusto-API-Version sent by default: the newest version whose changes
 * to the endpoints libgusto uses are documented (data/api-versions.json). */
#define GUSTO_API_VERSION "2026-12-01"
#define GUSTO_DEMO_URL "https://api.gusto-demo.com"
#define GUSTO_PRODUCTION_URL "https://api.gusto.com"

/* Return codes: the constant, its name for programs (stable, snake_case:
 * JSON envelopes, logs) and its text for people.  New codes are only ever
 * added at the end. */
#define GUSTO_CODES(X)                                                          \
    X(GUSTO_OK, "ok", "success")                                                \
    X(GUSTO_EINVAL, "invalid_input", "invalid input")                           \
    X(GUSTO_ENOMEM, "out_of_memory", "out of memory")                           \
    X(GUSTO_ENETWORK, "network_error", "network error")                         \
    X(GUSTO_EAUTH, "authentication_failed", "authentication failed")            \
    X(GUSTO_EFORBIDDEN, "permission_denied", "permission denied")               \
    X(GUSTO_ENOTFOUND, "not_found", "not found")                                \
    X(GUSTO_ECONFLICT, "version_conflict", "version conflict")                  \
    X(GUSTO_EINVALID_DATA, "invalid_data", "invalid data")                      \
    X(GUSTO_ERATELIMIT, "rate_limited", "rate limited")                         \
    X(GUSTO_ESERVER, "server_error", "server error")                            \
    X(GUSTO_EHTTP, "unexpected_http_status", "unexpected HTTP status")          \
    X(GUSTO_EPROTOCOL, "malformed_response", "malformed response")              \
    X(GUSTO_EPARTIAL, "partially_completed", "partially completed")             \
    X(GUSTO_ECANCELED, "canceled", "stopped by callback")                       \
    X(GUSTO_EDUPLICATE, "duplicate_employee", "the person already exists")

typedef enum {
#define GUSTO_ENUM_(code, name, text) code,
    GUSTO_CODES(GUSTO_ENUM_)
#undef GUSTO_ENUM_
} gusto_code;

/* A static English description of a code; never NULL. */
const char *gusto_strerror(gusto_code code);

/* The code's stable machine name ("invalid_input", "not_found", ...; "error"
 * for a code this library does not know); static, never NULL. */
const char *gusto_code_name(gusto_code code);

/* Details of a failure.  Every field is a NUL-terminated string, "" when
 * unknown; http_status is 0 when no response was received. */
typedef struct gusto_error {
    gusto_code code;
    long http_status;
    char error_key[64];   /* Gusto's error_key, e.g. "ssn" or "base" */
    char category[64];    /* Gusto's category, e.g. "invalid_attribute_value" */
    char message[512];    /* what went wrong, readable by a person */
    char field[128];      /* the input field at fault, as a path: "home_address.zip" */
    char request_id[96];  /* x-request-id of the failing response */
    char hint[256];       /* what to do about it */
    char scope[64];       /* a 403's missing OAuth scope, from Gusto's
                             metadata.missing_scope_name; "" otherwise */
    char reason[32];      /* why, for advice in the caller's own words (a
                             CLI names its flags, a service its fields); ""
                             when code and field say it all.  See below. */
} gusto_error;

/* gusto_error.reason (new reasons may be added):
 *   "base_url"             base_url is not a URL libgusto will send to
 *   "company_unknown"      no company UUID given, and the token names none
 *   "no_credentials"       no access token, and no stored connection
 *   "connection_unknown"   no stored connection has that name
 *   "connection_ambiguous" several connections are stored and none was named
 *   "environment_mismatch" base_url is not the stored connection's (nothing
 *                          was sent: its token goes only to its own)
 *   "store_key"            a stored connection cannot be opened with this key
 *   "reconnect"            the grant is gone (refresh token expired or revoked)
 *   "token_rejected"       Gusto refused the access token (401)
 *   "network"              no answer from the base URL
 *   "timeout"              the request got no answer within timeout_ms (code
 *                          GUSTO_ENETWORK); for a POST, as with
 *                          "outcome_unknown", it may have been done
 *   "outcome_unknown"      a write whose answer was lost may have been done
 *   "employee_unknown"     not a UUID, or not an employee of this company
 *   "batch_unknown"        not a people batch UUID
 *   "no_job"               the employee has no job to change
 *   "version_conflict"     someone else changed the same field meanwhile */

typedef struct gusto_client gusto_client;

/* Called with one line of trace output (request line, status, headers with
 * the Authorization value and other secrets redacted).  `line` lives until
 * the callback returns. */
typedef void (*gusto_trace_fn)(void *userdata, const char *line);

/* ---- Credentials ------------------------------------------------------------
 * Where a client's access token comes from, when it is not a fixed
 * options.access_token: a pair of callbacks, as libgit2's credential
 * callback is (git_credential_acquire_cb).  The client calls `get` before a
 * request when it holds no token, or one that expires within a minute, and
 * `refused` when Gusto answered 401 to the token it sent; after a
 * successful `refused` it calls `get` again and sends the request once
 * more.  A stored connection (gusto_client_new_stored) is one provider; a
 * program can bring its own (a secrets manager, a token broker), and
 * refresh through gusto_client_oauth_refresh() so that the request goes
 * through the client's own handle, trace and rate limiter.
 *
 * The callbacks run on the thread using the client, never concurrently for
 * one client; an error they return (with err filled in) is what the call
 * that needed the token returns, so say what to do in err's hint. */
typedef struct gusto_credentials {
    /* Write the access token to send into buf (cap bytes, NUL-terminated)
     * and its expiry (unix time; 0: unknown, never refreshed ahead). */
    gusto_code (*get)(void *userdata, gusto_client *client, char *buf, size_t cap,
                      long long *expires_at, gusto_error *err);
    /* The token was refused (401): get a new one, or fail.  NULL: a 401 is
     * final. */
    gusto_code (*refused)(void *userdata, gusto_client *client, gusto_error *err);
    /* Called once by gusto_client_free() (and by gusto_client_new() when it
     * fails): the client owns userdata from gusto_client_new() on.  NULL:
     * nothing to free. */
    void (*free)(void *userdata);
    void *userdata;
} gusto_credentials;

/* Options for gusto_client_new().  All-zero is a valid configuration: Gusto
 * Demo, no token, defaults below.  Strings are copied. */
/* Structs the caller fills in (gusto_options, gusto_list_options) start
 * with `version`: the layout the caller was compiled against.  0 means the
 * first layout, so a zeroed struct stays valid; GUSTO_OPTIONS_INIT and
 * GUSTO_LIST_OPTIONS_INIT set the current one.  A library older than the
 * caller's header refuses a version it does not know (GUSTO_EINVAL, field
 * "version") instead of reading past the end of a smaller struct; a newer
 * library reads only the fields of the version given.  Fields are only
 * ever appended, each raising the version (docs/api-stability.md). */
#define GUSTO_OPTIONS_VERSION 2
#define GUSTO_OPTIONS_INIT {.version = GUSTO_OPTIONS_VERSION}
#define GUSTO_LIST_OPTIONS_VERSION 2
#define GUSTO_LIST_OPTIONS_INIT {.version = GUSTO_LIST_OPTIONS_VERSION}

typedef struct gusto_options {
    unsigned version;          /* 0 or GUSTO_OPTIONS_VERSION */
    const char *base_url;      /* NULL: GUSTO_DEMO_URL.  http:// only for loopback */
    const char *access_token;  /* bearer token; NULL: calls fail with GUSTO_EAUTH */
    const char *company_uuid;  /* NULL: read from GET /v1/token_info on first use */
    const char *api_version;   /* NULL: GUSTO_API_VERSION; see "API versions" */
    long timeout_ms;           /* per request; 0: 30000 */
    int max_retries;           /* 0: 4; negative: never retry */
    int rate_limit;            /* requests per minute; 0: 200; negative: unlimited */
    long retry_base_ms;        /* first backoff; 0: 250 */
    gusto_trace_fn trace;      /* NULL: no trace */
    void *trace_userdata;
    /* Were `connection` and `store_path` (0.1.0); must be NULL.  A stored
     * connection is opened with gusto_client_new_stored() instead, so that a
     * program using only a token links neither SQLite nor the store. */
    const char *removed_connection;
    const char *removed_store_path;
    /* Called each time the client is about to sleep for a rate limit: its
     * own limiter (server 0) or a 429's Retry-After (server 1), wait_ms
     * being the pause.  NULL: not called. */
    void (*on_wait)(void *userdata, long wait_ms, int server);
    void *wait_userdata;
    /* The date the API version checks take as today, "YYYY-MM-DD" (for
     * tests, so they do not depend on the calendar); NULL: the system
     * clock.  Only these checks use it. */
    const char *today;
    /* Version 2.  Where the token comes from when access_token is NULL (see
     * "Credentials"); copied, and its userdata owned by the client from
     * gusto_client_new() on.  NULL: access_token alone. */
    const gusto_credentials *credentials;
} gusto_options;

/* Create a client.  Returns NULL on failure and fills err (a bad base_url
 * as gusto_url_check() judges it, userinfo or a query in it included,
 * plain http:// to a host that is not loopback, or an api_version Gusto
 * does not accept today: err->field "api_version", err->message listing the
 * versions it accepts).  Nothing is sent before these checks pass.  Free
 * with gusto_client_free(). */
gusto_client *gusto_client_new(const gusto_options *opts, gusto_error *err);

/* Release a client; NULL is a harmless no-op. */
void gusto_client_free(gusto_client *client);

/* Release memory returned by the library; NULL is a harmless no-op. */
void gusto_free(void *ptr);

/* The base URL in use, e.g. "https://api.gusto-demo.com".  Owned by the
 * client. */
const char *gusto_client_base_url(const gusto_client *client);

/* Name of the environment: "demo", "production" or "custom". */
const char *gusto_client_environment(const gusto_client *client);

/* The company UUID: the one given in the options, or the token's company
 * from GET /v1/token_info (fetched once, then cached).  *out is owned by the
 * client and lives as long as it does. */
gusto_code gusto_company_uuid(gusto_client *client, const char **out, gusto_error *err);

/* Number of HTTP requests sent so far, retries included. */
unsigned long gusto_request_count(const gusto_client *client);

/* ---- API versions ----------------------------------------------------------
 * Gusto versions its API by date (X-Gusto-API-Version).  A version is
 * released, later deprecated (6 months of full support, then 6 of limited
 * support) and retired after its final sunset date; Gusto answers 406 to a
 * retired version or one released after today.  libgusto carries Gusto's
 * table of versions (data/api-versions.json in the source) and refuses, in
 * gusto_client_new(), a version that is not in it, retired, or released
 * after today (options.today, else the system clock). */

typedef enum {
    GUSTO_API_UNKNOWN = 0,     /* not a version libgusto knows */
    GUSTO_API_FUTURE,          /* released after today */
    GUSTO_API_STABLE,          /* released and not deprecated */
    GUSTO_API_DEPRECATED,      /* deprecated, full support */
    GUSTO_API_LIMITED,         /* deprecated, limited support */
    GUSTO_API_RETIRED          /* past its final sunset: Gusto answers 406 */
} gusto_api_status;

typedef struct gusto_api_version_info {
    char version[11];          /* "2026-12-01" */
    gusto_api_status status;   /* on the day asked about */
    char status_name[24];      /* "stable", "deprecated", "limited support", ... */
    char released[11];         /* dates "YYYY-MM-DD"; "" when Gusto says TBD */
    char deprecation_start[11];
    char limited_support[11];
    char sunset[11];           /* the last day Gusto serves it */
    long days_to_sunset;       /* sunset - today in days; -1 when no sunset is set */
} gusto_api_version_info;

/* What libgusto knows of `version` on `today` ("YYYY-MM-DD"; NULL: the
 * system clock).  Fills *out and returns GUSTO_OK, or GUSTO_EINVAL (err
 * field "version" or "today") for a version libgusto does not know (out
 * then holds the version with status GUSTO_API_UNKNOWN) or a bad date. */
gusto_code gusto_api_version_lookup(const char *version, const char *today,
                                    gusto_api_version_info *out, gusto_error *err);

/* The versions Gusto accepts on `today` (NULL: the system clock), oldest
 * first, joined by ", " into buf (always NUL-terminated when len > 0).
 * Returns how many there are. */
size_t gusto_api_versions_accepted(const char *today, char *buf, size_t len);

/* The version the client sends ("2026-12-01"), owned by the client. */
const char *gusto_client_api_version(const gusto_client *client);

/* The client's version and its status on the client's today (see
 * gusto_options.today), so a caller can warn before Gusto retires it. */
void gusto_client_api_version_info(const gusto_client *client,
                                   gusto_api_version_info *out);

/* ---- 6. Call API ---------------------------------------------------------
 * Send any request.  `path` starts with "/" and may contain "{company_uuid}"
 * (also "{company_id}"), which is replaced by the company UUID.  An absolute
 * URL is accepted only when it points at the client's own base URL: the
 * same scheme, host and port as gusto_url_check() parses them (userinfo
 * refused) and a path under the base URL's path.  body_json may be NULL.  On any HTTP response *status is set and *out_json
 * receives the body ("" for none); 2xx returns GUSTO_OK, other statuses
 * return the matching error code with err filled from Gusto's error body.
 * GET, PUT and DELETE are retried on network errors, 429 and 5xx; POST and
 * PATCH only when the request surely was not processed (429, or a refused
 * connection). */
gusto_code gusto_request(gusto_client *client, const char *method, const char *path,
                         const char *body_json, long *status, char **out_json,
                         gusto_error *err);

/* ---- 1. List employees --------------------------------------------------- */

typedef struct gusto_list_options {
    unsigned version;          /* 0 or GUSTO_LIST_OPTIONS_VERSION (see gusto_options) */
    const char *search_term;   /* NULL: no search */
    int terminated;            /* 0: everyone, 1: terminated only, 2: not terminated */
    const char *include;       /* comma-separated Gusto include values, or NULL */
    int per_page;              /* 0: 100 */
    /* Since version 2: one page of the list.  The library fetches only the
     * Gusto pages (page/per) that hold employees offset .. offset+limit-1. */
    size_t offset;             /* skip the first `offset` employees (Gusto's order) */
    size_t limit;              /* deliver at most `limit`; 0: all from offset on */
    int *more;                 /* not NULL: receives 1 when limit ended the list and
                                  Gusto has more after it (by X-Total-Pages, or by a
                                  full last page when Gusto sends none), else 0 */
} gusto_list_options;
/* Called once per employee with its JSON object (borrowed, valid until the
 * callback returns).  Return non-zero to stop: the list call then returns
 * GUSTO_ECANCELED. */
typedef int (*gusto_item_fn)(void *userdata, const char *json, size_t len);

/* Follow every page (page/per) and call `each` for every employee, one page
 * in memory at a time (from opts->offset, at most opts->limit of them, from
 * version 2).  opts may be NULL.  *total, when not NULL, receives the
 * number of employees delivered.
 *
 * Bounds against a broken or hostile upstream, each GUSTO_EPROTOCOL with
 * the page named: a page must be a JSON array of at most per objects, each
 * with a string "uuid"; X-Total-Pages may not exceed the pages that
 * GUSTO_LIST_MAX_EMPLOYEES fill; a page starting with the same employee as
 * the one before is not paging; and no more than GUSTO_LIST_MAX_EMPLOYEES
 * are delivered.  A response body is capped at 64 MiB (every call). */
#define GUSTO_LIST_MAX_EMPLOYEES 100000
gusto_code gusto_employees_list(gusto_client *client, const gusto_list_options *opts,
                                gusto_item_fn each, void *userdata, size_t *total,
                                gusto_error *err);

/* ---- 2. Create employee ---------------------------------------------------
 * input_json: an employee object in Gusto's fields (first_name, last_name,
 * middle_initial, preferred_first_name, email, work_email, date_of_birth,
 * ssn, self_onboarding) plus optional nested parts:
 *   "home_address": {street_1, street_2, city, state, zip, effective_date,
 *                    courtesy_withholding}
 *   "work_address": {location_uuid, effective_date} or
 *                   {location: "name or street/city to match", effective_date}
 *   "job":          {title, hire_date, two_percent_shareholder, ...}
 *   "compensation": {rate, payment_unit, flsa_status, effective_date, ...}:
 *                   the pay of the compensation Gusto creates with the job
 *                   ($0 hourly from the hire date), set with PUT and its
 *                   version, so the employee has one compensation; without
 *                   an effective_date it starts on the hire date.
 * The whole input is validated before anything is sent: GUSTO_EINVAL, with
 * err->field naming the first problem's path and *result_json
 * {"errors": [{"field", "message"}, ...]} listing every one.  The employee is created first, then each
 * part; a part that fails does not undo the employee.
 * *result_json receives {"employee": {...}, "warnings": [{"entity",
 * "status", "message", "hint"}]}.  Returns GUSTO_OK when every part was
 * created, GUSTO_EPARTIAL when the employee exists but a part failed, and an
 * error code when the employee itself was not created (*result_json NULL,
 * except for GUSTO_EDUPLICATE: see gusto_employee_create_ex()). */
gusto_code gusto_employee_create(gusto_client *client, const char *input_json,
                                 char **result_json, gusto_error *err);

/* gusto_employee_create() with flags.  Before anything is written, both
 * look for an active (not terminated) employee of the company who is
 * surely the same person: the same email or work_email (compared without
 * regard to case, each against both), or the same first name, last name
 * and date of birth, Gusto's own reconciliation rule of two matching
 * criteria (https://gusto.com/about/bd/employee-sync).  An SSN cannot be
 * compared: Gusto never returns one (the employee's "ssn" is always "",
 * only "has_ssn" says whether one is set), so two records that share only
 * an SSN are not caught.  Two calls racing for the same person are not
 * caught either: each looks before the other has written.  The look reads
 * the company's whole employee list (one request per 100 employees): an
 * email can match someone of another name, and Gusto searches names only.
 * On a match nothing is sent and the call returns GUSTO_EDUPLICATE: err
 * names that employee (uuid and name, never an SSN) with err->field the
 * matching field ("email", "work_email" or "first_name,last_name,
 * date_of_birth"), and *result_json receives {"duplicate_of": {"uuid",
 * "first_name", "last_name", "matched": FIELD}} (release it with
 * gusto_free()).  A POST whose answer was lost is still recognised as this
 * call's own employee (the look happens once, before the first send).
 * GUSTO_CREATE_ALLOW_DUPLICATE skips the look, for a true second record. */
#define GUSTO_CREATE_ALLOW_DUPLICATE 1u
gusto_code gusto_employee_create_ex(gusto_client *client, const char *input_json,
                                    unsigned flags, char **result_json, gusto_error *err);

/* The requests gusto_employee_create() would send for input_json, sending
 * nothing and needing no client: what a dry run shows.  The input is
 * checked as create checks it (GUSTO_EINVAL, *plan_json then
 * {"errors": [...]} as create gives them).  On GUSTO_OK *plan_json
 * receives a JSON array, in the order they are sent, of {"method", "path",
 * "body"} (body null for a GET): the employee's POST (the SSN as its nine
 * digits), then each part's: the home address POST, the GET of the
 * company's locations when the work address names a "location" to match,
 * the work address POST, the job POST and the PUT of the pay of the
 * compensation Gusto creates with the job.  Bodies come from the code
 * create sends them with, with secrets masked (the SSN as "***-**-6789",
 * the date of birth as "***").  Ids not known before sending appear in
 * braces: {employee_uuid}, {the job's compensation}, {current version},
 * and {company_uuid} when company_uuid is NULL or "" (otherwise it must be
 * a UUID: GUSTO_EINVAL, err->field "company_uuid").  Not in the plan,
 * because they only read: gusto_employee_create_ex()'s look for a
 * duplicate before (one GET per 100 employees, unless
 * GUSTO_CREATE_ALLOW_DUPLICATE), a GET of the company when the client
 * does not know it, and the one GET of the employee that composes the
 * result after.  Release *plan_json with gusto_free(). */
gusto_code gusto_employee_create_plan(const char *input_json, const char *company_uuid,
                                      char **plan_json, gusto_error *err);

/* Validate a create input without sending anything.  GUSTO_OK or
 * GUSTO_EINVAL with err->field naming the first problem; when there are
 * more, err->message ends with their count: "(and 2 more problems)". */
gusto_code gusto_employee_validate(const char *input_json, gusto_error *err);

/* Every problem of an input, not only the first: a create input
 * (update = 0) or an update input (update = 1), checked as
 * gusto_employee_validate() or gusto_employee_validate_update() do.
 * *problems_json, when problems_json is not NULL, receives a JSON array of
 * {"field", "message"}, one per problem ("[]" when there is none); release
 * it with gusto_free(). */
gusto_code gusto_employee_check(const char *input_json, int update, char **problems_json,
                                gusto_error *err);

/* ---- 3. Get employee ------------------------------------------------------
 * *result_json receives the employee with its current home address
 * ("current_home_address"), current work address ("current_work_address"),
 * and jobs with all compensations. */
gusto_code gusto_employee_get(gusto_client *client, const char *employee_uuid,
                              char **result_json, gusto_error *err);

/* ---- 4. Update employee ---------------------------------------------------
 * changes_json: the employee fields to change, plus optional nested objects
 * "home_address", "work_address" and "job" with the fields to change in the
 * current home address, current work address and primary job, and
 * "compensation": a pay change (see "Pay changes and corrections" below).
 * Versions are read and sent automatically.  On a stale version (Gusto's
 * 409, or its 422 with category invalid_resource_version) the object is
 * re-read: when nobody else changed the fields being set, they are applied
 * again (up to max_retries times); otherwise the call returns
 * GUSTO_ECONFLICT and err->field lists the colliding fields.
 * *result_json receives the updated employee as gusto_employee_get() does;
 * for an input that fails the checks (GUSTO_EINVAL, nothing sent), every
 * problem, as gusto_employee_create() gives them. */
gusto_code gusto_employee_update(gusto_client *client, const char *employee_uuid,
                                 const char *changes_json, char **result_json,
                                 gusto_error *err);

/* Validate update input without sending anything: GUSTO_OK or GUSTO_EINVAL
 * with err->field naming the first problem ("home_address.zip") and the
 * count of the others at the end of err->message. */
gusto_code gusto_employee_validate_update(const char *changes_json, gusto_error *err);

/* ---- 5. Time off -----------------------------------------------------------
 * type: "vacation", "sick" or NULL for both.  *result_json receives
 * {"employee_uuid", "activities": [...], "balances": [{"policy_uuid",
 * "policy_name", "time_off_type", "balance"}]}, the balance being the one
 * after the policy's latest activity. */
gusto_code gusto_time_off(gusto_client *client, const char *employee_uuid,
                          const char *type, char **result_json, gusto_error *err);

/* ---- OAuth 2.0 and stored connections -------------------------------------
 * Gusto apps sign in with the authorization code grant.  Refresh tokens are
 * single use: each refresh returns a new pair.  Connections are kept in a
 * store, a SQLite file (mode 0600) or, when the store path is a
 * postgres:// URL, PostgreSQL tables (connections, meta) that many
 * machines share.  The tokens and client secret are encrypted (AES-256-GCM)
 * under a key from GUSTO_STORE_KEY (64 hex digits), else the file named by
 * GUSTO_STORE_KEY_FILE (32 bytes, or 64 hex digits and a newline; never
 * created), else, for a SQLite store only, a key file beside it (created,
 * mode 0600, on first use); a store on PostgreSQL without either variable
 * is refused (GUSTO_EINVAL, field "store_key").  A client uses one through
 * gusto_client_new_stored(), a credential provider: a refresh holds the
 * connection's row (the SQLite file's write lock; SELECT ... FOR UPDATE on
 * PostgreSQL), so N processes on M machines sharing a store refresh once.
 * Messages name a PostgreSQL store without its password.
 *
 * Every field the client trusts (name, environment, base URL, company,
 * client id, and the tokens' scope and expiry) is in the authenticated data:
 * a row edited without the key fails to load with GUSTO_EAUTH, err->field
 * "store" and a message saying the store was modified (a wrong key says
 * so instead), and nothing is sent.  Rows sealed by older builds, before
 * every field was bound, are refused too, asking to connect again.  The
 * store and key files are refused (GUSTO_EINVAL, err->field "store", a hint
 * saying what to do) when they are symbolic links, not owned by the
 * effective user, or group/world-writable; the key file also when
 * group/world-readable, not a regular file, or not exactly 32 bytes. */

typedef struct gusto_tokens {
    char access_token[512];
    char refresh_token[512];
    char scope[1024];
    long long expires_at;      /* unix time */
} gusto_tokens;

/* The URL to send the admin to.  Returns a malloc'd string (gusto_free()),
 * or NULL for a bad base_url.  All arguments are percent-encoded. */
char *gusto_authorize_url(const char *base_url, const char *client_id,
                          const char *redirect_uri, const char *state);

/* Exchange an authorization code (POST /oauth/token).  Errors carry
 * Gusto's OAuth error and a hint naming the redirect URI used. */
gusto_code gusto_oauth_exchange(const char *base_url, const char *client_id,
                                const char *client_secret, const char *code,
                                const char *redirect_uri, gusto_tokens *out,
                                gusto_error *err);

/* PKCE (RFC 7636) for the authorization-code flow: a one-time verifier
 * and its S256 challenge.  The challenge goes on the authorize URL, the
 * verifier only into the exchange, so a code taken on its way back to the
 * redirect URI is worth nothing without it.  An OAuth server without PKCE
 * ignores both parameters (RFC 6749 section 3.1). */
typedef struct gusto_pkce {
    char verifier[44];         /* 43 base64url characters from 32 random bytes */
    char challenge[44];        /* BASE64URL(SHA-256(verifier)) */
} gusto_pkce;

/* Fill *out with a fresh verifier and challenge.  GUSTO_OK, or GUSTO_EINVAL
 * when no random bytes could be drawn (*out is then zeroed).  Wipe it with
 * the tokens once the exchange is done. */
gusto_code gusto_pkce_new(gusto_pkce *out, gusto_error *err);

/* gusto_authorize_url() plus code_challenge=CHALLENGE and
 * code_challenge_method=S256 (none when code_challenge is NULL or ""). */
char *gusto_authorize_url_pkce(const char *base_url, const char *client_id,
                               const char *redirect_uri, const char *state,
                               const char *code_challenge);

/* gusto_oauth_exchange() plus code_verifier (not sent when NULL or ""). */
gusto_code gusto_oauth_exchange_pkce(const char *base_url, const char *client_id,
                                     const char *client_secret, const char *code,
                                     const char *redirect_uri, const char *code_verifier,
                                     gusto_tokens *out, gusto_error *err);

/* Use a refresh token once (POST /oauth/token).  On success *out holds the
 * new pair; the old refresh token must no longer be used. */
gusto_code gusto_oauth_refresh(const char *base_url, const char *client_id,
                               const char *client_secret, const char *refresh_token,
                               gusto_tokens *out, gusto_error *err);

/* Revoke a grant (POST /oauth/revoke with client_id, client_secret and
 * token, as Gusto documents it: the token "can no longer be used to make
 * requests nor can it be refreshed").  access_token is the connection's
 * current access token.  GUSTO_OK when Gusto accepted it; otherwise err
 * says why (GUSTO_EAUTH for a wrong client id or secret, GUSTO_ENETWORK
 * when no answer came).  Not retried.  Nothing secret is copied into err. */
gusto_code gusto_oauth_revoke(const char *base_url, const char *client_id,
                              const char *client_secret, const char *access_token,
                              gusto_error *err);

/* A system access token for the app itself (POST /oauth/token with
 * grant_type=system_access), which Gusto requires for its partner-level
 * endpoints such as /v1/webhook_subscriptions.  On success out->access_token
 * and out->expires_at are set; such a token has no refresh token.  On
 * failure *out is zeroed and err says why (GUSTO_EAUTH for a wrong client
 * id or secret).  The secret is never copied into err. */
gusto_code gusto_oauth_system_token(const char *base_url, const char *client_id,
                                    const char *client_secret, gusto_tokens *out,
                                    gusto_error *err);

/* A stored connection, without its secrets. */
typedef struct gusto_connection {
    char name[64];
    char environment[16];      /* demo, production or custom */
    char base_url[256];
    char company_uuid[40];
    char client_id[256];
    char scope[1024];
    long long expires_at;      /* access token expiry, unix time */
    long long refreshed_at;    /* last refresh, unix time; 0 if never */
    unsigned long refreshes;   /* how many refreshes this connection has had */
} gusto_connection;

/* $GUSTO_STORE, else $XDG_CONFIG_HOME/gusto-connect/connections.db, else
 * ~/.config/gusto-connect/connections.db (not Gusto's own CLI's directory,
 * ~/.config/gusto).  Storage of the calling thread, rewritten by its next
 * call.  GUSTO_STORE may be a postgres:// URL (then it may hold a
 * password: do not print it as it is). */
const char *gusto_store_default_path(void);

/* Move a store left at the old default ($XDG_CONFIG_HOME/gusto/ or
 * ~/.config/gusto/connections.db, with its .key, -wal and -shm files) to
 * gusto_store_default_path(), once: only when GUSTO_STORE is unset, the new
 * path does not exist and the old one does; nothing is ever replaced.
 * Opening the default store does this too; call it first to learn about
 * it.  *migrated (may be NULL) becomes 1 when the store was moved, and
 * old_path[cap] (may be NULL) then receives where it was.  GUSTO_OK also
 * when there was nothing to move; GUSTO_EINVAL (field "store") when a move
 * failed, what moved staying moved. */
gusto_code gusto_store_migrate(char *old_path, size_t cap, int *migrated, gusto_error *err);

/* Can connections be saved in this store (store_path NULL: the default)?
 * Loads its key and opens it (creating a SQLite file and its key file, or
 * PostgreSQL's tables, as a save would) and checks that the key opens the
 * connections already there.  Call it before an OAuth exchange, whose
 * single-use code is lost when the save then fails.  GUSTO_OK, or the
 * error a save would give: GUSTO_EINVAL with field "store_key" (a store on
 * PostgreSQL with neither GUSTO_STORE_KEY nor GUSTO_STORE_KEY_FILE),
 * GUSTO_EAUTH with field "store_key" (another key than the store's),
 * GUSTO_ENETWORK with field "store" (PostgreSQL unreachable). */
gusto_code gusto_store_check(const char *store_path, gusto_error *err);

/* Save (insert or replace) a connection with its secrets.  Refused
 * (GUSTO_EAUTH, field "store_key"), writing nothing, when the key is not
 * the one the store's other connections were sealed with. */
gusto_code gusto_connection_save(const char *store_path, const gusto_connection *conn,
                                 const char *client_secret, const gusto_tokens *tokens,
                                 gusto_error *err);

/* Read a connection's public part.  name NULL: the default connection
 * (gusto_connstore_set_default) when one is set, else the only one;
 * GUSTO_EAUTH (reason "no_credentials") when there are none, GUSTO_EINVAL
 * (reason "connection_ambiguous", the message listing their names) when
 * there are several and no default.  gusto_client_new_stored() with name
 * NULL picks its connection the same way. */
gusto_code gusto_connection_get(const char *store_path, const char *name,
                                gusto_connection *out, gusto_error *err);

/* Call `each` for every stored connection; return non-zero to stop. */
gusto_code gusto_connection_list(const char *store_path,
                                 int (*each)(void *ud, const gusto_connection *conn),
                                 void *ud, gusto_error *err);

/* Forget a connection (GUSTO_ENOTFOUND when unknown).  When it was the
 * default, no connection is the default afterwards. */
gusto_code gusto_connection_remove(const char *store_path, const char *name,
                                   gusto_error *err);

/* Revoke the stored connection's grant at Gusto (gusto_oauth_revoke with
 * its client id, secret and access token), sent to the connection's own
 * base URL.  The connection stays stored: remove it with
 * gusto_connection_remove(), whatever this returns.  name NULL: as
 * gusto_connection_get(). */
gusto_code gusto_connection_revoke(const char *store_path, const char *name,
                                   gusto_error *err);

/* Make the stored connection `name` the default: the one used when none is
 * named.  name NULL or "": no default.  GUSTO_ENOTFOUND (reason
 * "connection_unknown") when no connection has that name; the store is
 * unchanged then.  The store must exist (GUSTO_EAUTH otherwise). */
gusto_code gusto_connstore_set_default(const char *store_path, const char *name,
                                       gusto_error *err);

/* The default connection's name into name[cap] ("" when none is set, or
 * when its connection was removed); GUSTO_OK, or the store's error. */
gusto_code gusto_connstore_get_default(const char *store_path, char *name, size_t cap,
                                       gusto_error *err);

/* A client on a stored connection: the connection (name NULL: the default
 * (gusto_connstore_set_default), else the only one) supplies base_url and company_uuid where opts leaves them NULL, and
 * its tokens through a credential provider that refreshes them a minute
 * before expiry and on a 401, once across the threads, processes and
 * machines that share the store (the row's lock), committing the new pair
 * before it is used; the refresh goes through the client's own handle.  A refresh
 * Gusto refuses fails the call with GUSTO_EAUTH and reason "reconnect".
 * opts may be NULL; opts->credentials must be NULL.  store_path NULL:
 * gusto_store_default_path().  An opts->base_url that is not the
 * connection's own is refused (GUSTO_EINVAL, field "base_url", reason
 * "environment_mismatch") before anything is read or sent. */
gusto_client *gusto_client_new_stored(const gusto_options *opts, const char *store_path,
                                      const char *name, gusto_error *err);

/* Ask the client's credential provider for a new token now (its `refused`,
 * then `get`): for a stored connection, a refresh unless another thread or
 * process refreshed since this client read it.  GUSTO_EINVAL when the
 * client has no provider that can refresh. */
gusto_code gusto_client_refresh(gusto_client *client, gusto_error *err);

/* Use a refresh token once (POST /oauth/token) through `client`'s own
 * handle, trace and rate limiter, against its base URL: for credential
 * providers.  The request carries no bearer token and never calls the
 * provider.  As gusto_oauth_refresh() otherwise. */
gusto_code gusto_client_oauth_refresh(gusto_client *client, const char *client_id,
                                      const char *client_secret, const char *refresh_token,
                                      gusto_tokens *out, gusto_error *err);

/* ---- People batches (bulk onboarding) --------------------------------------
 * POST /v1/companies/{company_id}/people_batches creates up to thousands of
 * employees asynchronously; GET /v1/people_batches/{uuid} reports progress.
 *
 * entries_json is a JSON array of Gusto batch entries, in Gusto's fields:
 *   {"entity_type": "employee" (may be left out: it is filled in),
 *    "person": {external_id, first_name, last_name, middle_initial,
 *               preferred_first_name, email, work_email,
 *               ssn ("123-45-6789"), date_of_birth, self_onboarding},
 *    "home_address": {street_1, street_2, city, state, zip, country,
 *                     work_from_home},
 *    "work_address": {location_uuid}, "department": {department_uuid},
 *    "job": {title, hire_date, two_percent_shareholder, state_wc_covered,
 *            state_wc_class_code},
 *    "compensation": {rate, payment_unit, flsa_status},
 *    "bank_accounts": [{name, account_type, routing_number, account_number,
 *                       type: "Direct Deposit", split_by, split_amount}]}
 *
 * Every entry is checked before anything is sent, and every problem is
 * reported, as JSON text: [{"row": N, "index": I, "field": "person.ssn",
 * "message": "..."}], where index is the 0-based position in the array (or
 * null for the request as a whole), row is index + 1, and field is the path
 * inside the entry ("bank_accounts[1].split_amount"); a repeated
 * external_id also carries "first_index".  Messages never repeat an SSN or
 * account number. */

/* One person of a batch's results. */
typedef struct gusto_batch_person {
    char *external_id;       /* as submitted; "" when Gusto gave none */
    char status[24];         /* success, partial_success or failed */
    long idx;                /* position in the submitted array; -1 when unknown */
    char employee_uuid[40];  /* "" when no employee was created */
    char *errors;            /* "error_key: message; ..." readable text, NULL if none */
    char *errors_json;       /* Gusto's errors array as JSON text, NULL if none */
    char *attributes_json;   /* for a person created whole or in part, the status of
                                each part sent, as a JSON object such as
                                {"person":"success","job":"failed"}; NULL when Gusto
                                gave none */
} gusto_batch_person;

/* A batch and its results so far.  Every pointer in it is owned by the
 * struct: release with gusto_batch_free().  The calls below always leave
 * *out initialised, so gusto_batch_free() is always safe after them (on
 * failure it holds at most idempotency_key and errors_json); they overwrite
 * *out without freeing it, so free a previous result before reusing it. */
typedef struct gusto_batch {
    char uuid[40];
    char idempotency_key[40];
    char status[24];         /* pending, processing, completed, partial_success or
                                failed; Gusto's "success" is reported as completed */
    char submitted_at[40];   /* "" when unknown */
    char completed_at[40];   /* "" until final */
    long submitted;          /* submitted_items; -1 while Gusto reports null */
    long processed;          /* processed_items: people created */
    long excluded;           /* excluded_items */
    long failed;             /* results whose status is failed */
    long partial;            /* results whose status is partial_success */
    int finished;            /* 1 when status is completed, partial_success or failed */
    int existing;            /* 1 when the key had been used already (409): this is
                                the batch made with it, by an earlier call or an
                                earlier attempt whose answer was lost */
    size_t count;            /* entries in people: the results so far */
    gusto_batch_person *people;
    char *exclusions_json;   /* Gusto's exclusions array as JSON text, NULL if none:
                                [{"external_id","category","message","item_count"}],
                                the entries Gusto did not process (a repeated
                                external_id); they have no entry in people */
    char *errors_json;       /* on GUSTO_EINVAL (local checks) or GUSTO_EINVALID_DATA
                                (Gusto's 422): every error as described above */
} gusto_batch;

/* Called by gusto_batch_wait() after each poll that did not find the batch
 * finished; return non-zero to stop waiting (GUSTO_ECANCELED). */
typedef int (*gusto_batch_progress_fn)(void *userdata, const gusto_batch *batch);

/* Check entries without sending anything.  Returns GUSTO_OK, or
 * GUSTO_EINVAL with err naming the first problem (and the count).
 * *errors_json, when errors_json is not NULL, receives every problem as
 * described above ("[]" when there is none); release it with gusto_free(). */
gusto_code gusto_batch_validate(const char *entries_json, char **errors_json,
                                gusto_error *err);

/* A new random (version 4) UUID for an idempotency key, in out. */
gusto_code gusto_batch_new_key(char out[37], gusto_error *err);

/* Check the entries (GUSTO_EINVAL and out->errors_json when any is wrong:
 * then nothing is sent) and submit them as one batch under idempotency_key
 * (NULL: a new UUIDv4; see out->idempotency_key).  Keep the key until the
 * batch is known: sending the same key again never creates a second batch.
 * When the answer is lost (a network error or a 5xx), the same body with the
 * same key is sent again, up to max_retries times; when the key was already
 * used (409, from an earlier call or a lost answer), the existing batch
 * (metadata.entity_uuid) is read and returned with out->existing = 1 and
 * GUSTO_OK.  On success out holds the batch as Gusto reports it (usually
 * pending, with no results yet).  Gusto's 422 returns GUSTO_EINVALID_DATA
 * with every error in out->errors_json, rows mapped from its
 * "batch[3].person.ssn" keys. */
gusto_code gusto_batch_create(gusto_client *client, const char *entries_json,
                              const char *idempotency_key, gusto_batch *out,
                              gusto_error *err);

/* Read a batch and its results (GET /v1/people_batches/{uuid}). */
gusto_code gusto_batch_status(gusto_client *client, const char *batch_uuid,
                              gusto_batch *out, gusto_error *err);

/* Poll a batch until it is finished, with exponential backoff from 250 ms
 * to 5 s between polls.  timeout_ms 0: no limit.  Returns GUSTO_OK when the
 * batch finished or the time ran out (out->finished tells which), or the
 * error of a failed poll.  progress may be NULL. */
gusto_code gusto_batch_wait(gusto_client *client, const char *batch_uuid, long timeout_ms,
                            gusto_batch_progress_fn progress, void *userdata,
                            gusto_batch *out, gusto_error *err);

/* Release what a gusto_batch holds and zero it; NULL is a harmless no-op. */
void gusto_batch_free(gusto_batch *batch);

/* ---- Pay changes and corrections ---------------------------------------
 * gusto_employee_update() changes pay as Gusto's effective dating intends:
 * a "compensation" in changes_json creates a NEW compensation for the
 * primary job (POST /v1/jobs/{job_uuid}/compensations), effective on its
 * effective_date, or, without one, on the date Gusto picks (its minimum
 * effective date: the first pay period no payroll has run for).  Fields not
 * given are taken from the current compensation, and earlier compensations
 * stay as they were.  When the latest compensation already carries the
 * change, nothing is sent.  Gusto allows one pending (future) compensation
 * per job: with one there the call returns GUSTO_EINVALID_DATA, err->field
 * "compensation", and the message and hint name that compensation.
 *
 * gusto_employee_update_ex() is gusto_employee_update() with flags:
 * GUSTO_UPDATE_CORRECT_PAY corrects the current compensation in place
 * instead (PUT /v1/compensations/{uuid} with its version), for a wrong
 * rate, not a raise.  From API version 2026-12-01 Gusto refuses that (422)
 * for a compensation already processed on a payroll. */
#define GUSTO_UPDATE_CORRECT_PAY 1u
/* GUSTO_UPDATE_REPORT: when the update fails after validation, *result_json
 * still receives what was done, so a partial update is said in full:
 *   {"employee_uuid", "applied": [{"part", "fields": [...]}],
 *    "not_applied": [{"part", "fields": [...]}],
 *    "failed": {"part", "fields", "message", "http_status", "request_id"}}
 * with parts "employee", "home_address", "work_address", "job" and
 * "compensation" in the order they are written (a part already as asked is
 * "applied" too).  "failed" is the part whose call failed, with Gusto's
 * x-request-id of that call ("" when no answer came); it is also listed in
 * not_applied.  Its part is "result" when every part was written and only
 * reading the employee back failed.  Release it with gusto_free().  Without the flag, *result_json
 * is NULL on failure, as before. */
#define GUSTO_UPDATE_REPORT 2u
gusto_code gusto_employee_update_ex(gusto_client *client, const char *employee_uuid,
                                    const char *changes_json, unsigned flags,
                                    char **result_json, gusto_error *err);

/* ---- URLs -------------------------------------------------------------------
 * One check for every URL a token or a code may travel to (base URLs, the
 * absolute URLs gusto_request() accepts, OAuth redirect URIs), made on the
 * host libcurl itself will connect to. */

/* What gusto_url_check() found. */
typedef struct gusto_url_info {
    int https;                 /* 1: https://, 0: http:// */
    int loopback;              /* the host is in 127.0.0.0/8, ::1 or "localhost" */
    char host[256];            /* the host libcurl connects to, as its URL API
                                  reports it ("[::1]" keeps its brackets) */
    unsigned port;             /* the explicit port, else 443 or 80 */
    int explicit_port;         /* 1 when the URL names a port */
    char path[512];            /* the path, "/" when the URL has none */
    char query[512];           /* the query without '?', "" when none */
} gusto_url_info;

/* Parse an absolute http(s) URL with libcurl's URL API (curl_url()) and
 * fill *out.  Refused with GUSTO_EINVAL, err->field set to `field` (NULL:
 * "url"): a URL libcurl cannot parse, another scheme, userinfo ("user@" or
 * "user:password@" before the host, which hides the real host from a
 * reader), a fragment, or a path or query longer than out can hold.  On
 * failure *out is zeroed.  Thread safe. */
gusto_code gusto_url_check(const char *url, const char *field, gusto_url_info *out,
                           gusto_error *err);

#if defined(GUSTO_BUILDING) && defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
