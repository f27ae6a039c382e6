/* internal.h - libgusto's private interfaces: the client struct, the HTTP
 * transport (http.c), error filling (errors.c) and input checks (input.c). */
#ifndef GUSTO_INTERNAL_H
#define GUSTO_INTERNAL_H

#include "gusto.h"
#include "shared/textbuf.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>

#define RL_SLOTS 60

struct gusto_client {
    CURL *curl;
    struct curl_slist *headers_base;
    char *base_url;          /* no trailing slash */
    char *token;
    char *company;           /* cached company UUID, or NULL */
    char api_version[16];
    char today[11];          /* the date the version checks use (versions.c) */
    const char *env_name;
    long timeout_ms;
    int max_retries;
    long retry_base_ms;
    int rate_limit;          /* <= 0: unlimited */
    long rl_sec[RL_SLOTS];   /* sliding window in one-second buckets */
    int rl_count[RL_SLOTS];
    long server_reset_wait;  /* seconds to wait from X-RateLimit-Remaining: 0 */
    gusto_trace_fn trace;
    void *trace_ud;
    void (*on_wait)(void *userdata, long wait_ms, int server);
    void *wait_ud;
    unsigned long requests;
    unsigned long long rng;  /* jitter */
    bool loopback;
    /* where the token comes from (gusto.h "Credentials"); get NULL: none */
    gusto_credentials cred;
    long long expires_at;    /* of c->token, from cred.get; 0: unknown */
};

/* client.c: a token from the provider into c->token (wiping the old one).
 * refused: tell the provider the last one was refused first. */
gusto_code cred_fetch(gusto_client *c, bool refused, gusto_error *err);

/* Set c->api_version and c->today from the options (versions.c): the
 * default version, or `requested` when Gusto accepts it on `today` (NULL:
 * the clock).  GUSTO_EINVAL with err->field "api_version" (or "today")
 * otherwise. */
gusto_code version_choose(gusto_client *c, const char *requested, const char *today,
                          gusto_error *err);

/* A response: status, body (NUL-terminated) and a few headers. */
struct http_resp {
    long status;
    struct textbuf body;     /* body.p: the body, NUL-terminated (NULL when empty); body.n */
    char request_id[96];
    long retry_after;        /* seconds, -1 when absent */
    long rl_remaining;       /* -1 when absent */
    int total_pages;         /* X-Total-Pages, -1 when absent */
    bool too_big;
    bool no_memory;          /* the body could not be stored: out of memory */
};

void http_resp_free(struct http_resp *r);

/* Test hook for fuzz/ (never set by the library): when http_fake is set,
 * http_send() takes each response from it instead of the network, and
 * feeds it through the same header and body parsing.  It fills *out and
 * returns true, or returns false for "no response" (a network error). */
struct http_canned {
    long status;
    const char *headers;     /* "Name: value\r\n" lines, as received */
    size_t headers_len;
    const char *body;
    size_t body_len;
};
typedef bool (*http_fake_fn)(void *ud, const char *method, const char *url,
                             const char *body, struct http_canned *out);
extern http_fake_fn http_fake;
extern void *http_fake_ud;

/* Route libcurl's debug output through the client's trace callback, with
 * secrets redacted. */
void http_trace_setup(gusto_client *c);

/* Send one request with retries.  Returns GUSTO_OK when an HTTP response
 * arrived (any status) and GUSTO_ENETWORK (err filled) when none did.
 * POSTs are retried only on 429 or when the connection was refused.  The
 * token comes from the credential provider when the client has one (and a
 * 401 asks it for a new one, once); a failure of the provider is the
 * call's error. */
gusto_code http_send(gusto_client *c, const char *method, const char *url_or_path,
                     const char *body, struct http_resp *resp, gusto_error *err);

/* http_send() without a bearer token and without the provider: the token
 * endpoint (oauth.c). */
gusto_code http_send_noauth(gusto_client *c, const char *method, const char *url_or_path,
                            const char *body, struct http_resp *resp, gusto_error *err);

/* Map a finished response to a code, filling err from Gusto's error body.
 * 2xx: GUSTO_OK. */
gusto_code http_status_code(gusto_client *c, const struct http_resp *resp,
                            gusto_error *err);

/* JSON convenience: send and parse.  *out receives the parsed body (a new
 * reference, NULL for an empty body).  Non-2xx returns the error code. */
/* json_loadb(), telling an allocation failure from a syntax error and
 * never handing out a tree an allocation failure cut short: the text is
 * parsed twice and the trees compared (see http.c).  On an allocation
 * failure it returns NULL with json_error_code(je) ==
 * json_error_out_of_memory. */
json_t *json_load_text(const char *text, size_t len, size_t flags, json_error_t *je);
gusto_code api_json(gusto_client *c, const char *method, const char *path,
                    const json_t *body, json_t **out, gusto_error *err);


/* errors.c */
void err_clear(gusto_error *err);
gusto_code err_set(gusto_error *err, gusto_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void err_reason(gusto_error *err, const char *reason); /* gusto_error.reason */
void err_field(gusto_error *err, const char *field);
void err_hint(gusto_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* input.c: validate caller JSON against Gusto's field rules.  prefix is the
 * path of the object ("" or "home_address").  Every problem is counted; the
 * first is set in err (GUSTO_EINVAL, err->field its path), and each is
 * appended to list, when not NULL, as {"field", "message"}. */
enum part { PART_EMPLOYEE, PART_EMPLOYEE_UPDATE, PART_HOME, PART_WORK, PART_JOB, PART_COMP };
struct input_problems {
    gusto_error *err;
    json_t *list;
    size_t count;
    bool oom; /* a problem could not be appended to list */
};
void input_check(const json_t *obj, enum part part, const char *prefix, bool creating,
                 struct input_problems *p);
/* A problem found outside the field rules; message already names field. */
void input_problem(struct input_problems *p, const char *field, const char *message);

/* Strict formats shared by every input check: a real YYYY-MM-DD date, an
 * 8-4-4-4-12 hex UUID, a decimal money string such as "70000.00", a US
 * state code. */
bool input_is_date(const char *s);
bool input_is_uuid(const char *s);
bool input_is_state(const char *s); /* a state, DC or territory: "CA" */
bool input_is_money(const char *s);

/* batch_check.c: check a people batch's entries (a JSON array) against
 * Gusto's rules; append every problem to `errors` as {"row", "index",
 * "field", "message"}.  Returns the number of problems added. */
size_t batch_check(const json_t *entries, json_t *errors);

/* Percent-encode s for a query string into a malloc'd string. */
char *url_escape(gusto_client *c, const char *s);

/* A malloc'd printf. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Return JSON text for `j` (malloc'd, compact, keys in insertion order). */
char *json_text(const json_t *j);

#endif
