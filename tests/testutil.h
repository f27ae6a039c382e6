/* testutil.h - helpers for the gusto-sandbox integration tests: start and
 * stop a sandbox process, talk to it over HTTP/1.1 on 127.0.0.1 with
 * libcurl, read headers and JSON paths, and a tiny CHECK/test registry.
 *
 * Nothing here ever contacts a host other than 127.0.0.1: http() refuses
 * any other URL, proxies are disabled and only plain http is allowed. */
#ifndef GUSTO_TESTUTIL_H
#define GUSTO_TESTUTIL_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- checks and the test registry ------------------------------------ */

/* Record a pass or a failure (with file:line and the message).  Never
 * aborts the test: later checks still run and the sandbox is still
 * stopped.  Thread safe.  Returns cond. */
bool tu_check(bool cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define CHECK(cond, ...) tu_check((cond) ? true : false, __FILE__, __LINE__, __VA_ARGS__)

/* Compare strings (NULL-safe); the message names both values. */
bool tu_check_str(const char *got, const char *want, const char *file, int line,
                  const char *what);
#define CHECK_STR(got, want, what) tu_check_str((got), (want), __FILE__, __LINE__, (what))
bool tu_check_long(long got, long want, const char *file, int line, const char *what);
#define CHECK_LONG(got, want, what) tu_check_long((got), (want), __FILE__, __LINE__, (what))

struct test {
    const char *name;
    void (*fn)(void);
};

/* Run the tests (all, or those named on the command line), print exactly
 * one line "N passed, N failed" on stdout and return the exit status. */
int tu_run(const struct test *tests, size_t n, int argc, char **argv);

/* ---- the sandbox process --------------------------------------------- */

struct client {
    CURL *curl;
    char base[64];           /* http://127.0.0.1:PORT */
};

struct sandbox {
    pid_t pid;               /* 0 when not running */
    unsigned port;
    char base[64];           /* http://127.0.0.1:PORT */
    char company[40];        /* demo company UUID from the start-up line */
    int out_fd;              /* read end of the child's stdout */
    int err_fd;              /* temp file holding the child's stderr */
    struct client cl;        /* the keep-alive client http() uses */
};

/* Start $GUSTO_SANDBOX (default build/gusto-sandbox) with "--port 0" and the
 * NULL-terminated arguments; wait for the "listening on" and "company:"
 * lines.  The sandbox becomes the current one for http().  Returns true
 * when it is up (and records a failed CHECK when not). */
bool sb_start(struct sandbox *sb, ...) __attribute__((sentinel));
bool sb_startv(struct sandbox *sb, const char *const *args);
/* SIGTERM, wait, CHECK that it exited 0 without sanitizer reports. */
void sb_stop(struct sandbox *sb);
/* SIGKILL and reap: a crash, as far as the sandbox can tell. */
void sb_kill(struct sandbox *sb);
/* Make sb the target of http()/req() paths. */
void sb_use(struct sandbox *sb);
/* Kill every sandbox still running (also done at exit and on a crash). */
void sb_kill_all(void);

/* ---- HTTP ------------------------------------------------------------ */

int client_init(struct client *c, const char *base);
void client_free(struct client *c);

struct resp {
    long status;             /* 0 on a transport error (e.g. dropped) */
    char *headers;           /* raw header block of the final response */
    char *body;              /* NUL-terminated */
    size_t body_len;
    json_t *json;            /* parsed body, NULL if not JSON */
};
/* Free what a resp holds and zero it; safe on a zeroed resp. */
void resp_free(struct resp *r);

/* The lead's helper: one request on the current sandbox's keep-alive
 * client.  url_or_path is "/v1/..." or "http://127.0.0.1:PORT/...".
 * token NULL sends no Authorization; body NULL sends none.  Outputs may be
 * NULL; *headers (free()) and *json (json_decref()) belong to the caller.
 * Returns 0, or -1 on a transport error (*status is then 0). */
int http(const char *method, const char *url_or_path, const char *token, const char *body,
         long *status, char **headers, json_t **json);

/* Full form: explicit client, body length (body may hold NULs), extra
 * request headers ("Name: value", NULL-terminated list or NULL).  The
 * previous contents of *out are freed first, so a zeroed resp can be
 * reused for many requests and freed once.  Returns out->status. */
long http_req(struct client *c, const char *method, const char *url_or_path,
              const char *token, const char *body, size_t body_len,
              const char *const *extra_headers, struct resp *out);

/* Convenience on the current sandbox: path is a printf format. */
long req(struct resp *r, const char *method, const char *token, const char *body,
         const char *pathfmt, ...) __attribute__((format(printf, 5, 6)));

/* Case-insensitive header lookup in a raw header block; copies the value
 * (trimmed) into buf and returns buf, or NULL when absent. */
const char *hget(const char *headers, const char *name, char *buf, size_t len);
bool hhas(const char *headers, const char *name);

/* ---- JSON paths ------------------------------------------------------ */

/* "errors[0].category", "jobs[0].compensations", "[3].uuid", "" = root.
 * Returns a borrowed reference or NULL. */
json_t *jget(const json_t *root, const char *path);
const char *jstr(const json_t *root, const char *path);    /* NULL unless a string */
long long jint(const json_t *root, const char *path, long long dflt);
long jlen(const json_t *root, const char *path);           /* -1 unless array/object */
/* The value as text: strings raw, numbers, true/false/null; "" if absent.
 * Writes into buf. */
const char *jtext(const json_t *root, const char *path, char *buf, size_t len);

/* ---- table-driven cases --------------------------------------------- */

/* Variables for case templates: "{E}" in a path or body is replaced by the
 * value set with tu_var("E", ...). */
void tu_var(const char *name, const char *value);
const char *tu_getvar(const char *name);
/* Expand {NAME} references into out. */
const char *tu_expand(const char *tmpl, char *out, size_t len);

#define TU_MAX_EXPECT 8

/* One request and what must come back.  Expectations:
 *   "path=value"   the JSON value at path, as text, equals value
 *   "path#=N"      the array/object at path has N members ("#=N": root)
 *   "path?"        path is present;  "!path"  path is absent
 *   "@Name=value"  response header equals value;  "@Name?" present;
 *   "!@Name"       header absent */
struct http_case {
    const char *name;
    const char *method;
    const char *path;        /* template */
    const char *token;       /* template; NULL = none */
    const char *body;        /* template; NULL = none */
    long status;
    const char *expect[TU_MAX_EXPECT];
};

/* Run the cases against the current sandbox: one CHECK per case, covering
 * the status and every expectation (a failure lists each one that missed).
 * Expectations are {VAR}-expanded too. */
void run_cases(const struct http_case *cases, size_t n);
/* One CHECK for one expectation (expanded) against a response. */
bool check_expect(const struct resp *r, const char *expect, const char *casename,
                  const char *file, int line);
#define CHECK_EXPECT(r, e) check_expect((r), (e), "", __FILE__, __LINE__)

#endif
