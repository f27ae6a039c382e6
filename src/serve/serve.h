/* serve.h - `gusto-connect serve`: shared state and entry points of the HTTP service (server.c), its actions (actions.c), its database (SQLite or a shared PostgreSQL) of API keys, grants, webhook events, tokens, idempotency keys and the sync queue (db.c), the JSON Schema validator of action bodies (schema.c), the webhook receiver and sync worker (webhook.c).  The MCP server (mcp.h, mcp_http.h, mcp_jwt.h) has headers of its own. */
#ifndef GUSTO_SERVE_H
#define GUSTO_SERVE_H

#include "gusto.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Configuration: the JSON file (--config), then environment variables. */
struct serve_config {
    char bind[64];               /* "bind"; GUSTO_SERVE_BIND; default 127.0.0.1 */
    unsigned port;               /* "port"; GUSTO_SERVE_PORT; default 8091; 0 any */
    char db[512];                /* "db": keys, grants, webhook events, the queue: a SQLite
                                    file or a postgres:// URL that replicas share;
                                    GUSTO_SERVE_DB; --db; default serve.db beside
                                    the connection store */
    char store[512];             /* "store": connections; "" = the library's default */
    char audit_log[512];         /* "audit_log": JSONL path; "" = <db>.audit.jsonl */
    char webhook_token[256];     /* GUSTO_SERVE_WEBHOOK_TOKEN (or "webhook_token") */
    char webhook_connection[64]; /* "webhook_connection": verifies handshakes, syncs */
    char mirror[512];            /* "mirror": sync store for webhook-started syncs */
    bool auto_verify;            /* "auto_verify" (default true): after a handshake, find
                                    the subscription and PUT .../verify (webhook.c) */
    char webhook_url[512];       /* "webhook_url"; GUSTO_SERVE_WEBHOOK_URL: this receiver's
                                    URL as subscribed; "" = any unverified subscription */
    char client_id[256];         /* "client_id"; GUSTO_SERVE_CLIENT_ID: the app whose system
                                    access token manages the subscriptions */
    char client_secret[256];     /* GUSTO_SERVE_CLIENT_SECRET (or "client_secret") */
    char gusto_base_url[256];    /* "gusto_base_url": where to get the system token; ""
                                    = webhook_connection's, else Gusto Demo */
    char api_version[16];        /* "api_version"; GUSTO_API_VERSION; --api-version: the
                                    X-Gusto-API-Version of every call; "" = the library's
                                    default (GUSTO_API_VERSION) */
    char today[11];              /* GUSTO_TODAY (a testing aid): the version checks' date */
    long grace_ms;               /* "shutdown_grace_ms" (default 20000) */
    long queue_lease_ms;         /* "queue_lease_ms"; GUSTO_SERVE_QUEUE_LEASE_MS: how long a
                                    taken sync-queue entry is held before another
                                    worker may take it (default 300000, as the
                                    mirror's company lease) */
    long timeout_ms;             /* "gusto_timeout_ms" per Gusto request (default 8000) */
    bool quiet;                  /* no request-log lines */
    /* "mcp": {"max_age_s", "allow_pay"} (docs/mcp.md): the MCP tools' mirror
     * freshness before they read Gusto (default 3600), and whether
     * self-service answers carry pay (default false). */
    long mcp_max_age_s;
    bool mcp_allow_pay;
    /* "oidc": {"issuer", "audience", "jwks"}: ID tokens of this identity
     * provider are callers of /mcp bound to their email claim (mcp_jwt.c);
     * jwks is a file or an http(s) URL.  "" = no tokens accepted. */
    char oidc_issuer[256];
    char oidc_audience[256];
    char oidc_jwks[512];
};

/* Load defaults, the file (path may be NULL) and the environment.  0, or -1
 * with a message in err. */
/* The options every Gusto client of serve shares (API version, its date,
 * timeout), set into o; the rest of o is left as it is. */
void serve_client_options(const struct serve_config *c, gusto_options *o);
int serve_config_load(struct serve_config *c, const char *path, char *err, size_t errlen);
/* Fill an empty audit_log from db: "<db>.audit.jsonl" for a SQLite file,
 * serve.audit.jsonl beside the connection store for a postgres:// URL.  0. */
int serve_config_audit_default(struct serve_config *c);

/* Run until SIGINT/SIGTERM, then finish the calls in flight.  Prints a
 * banner with every path on stderr (one line per item on a terminal, else
 * one JSON line), then "listening on http://ADDR:PORT" on stdout.  Returns
 * an exit status. */
int serve_run(const struct serve_config *c);

/* ---- db.c ---------------------------------------------------------------- */

/* Open serve's database: a SQLite file path, or a postgres:// URL (several
 * replicas may share one).  Creates or migrates the schema.  Every function
 * below is safe from any thread: each borrows one of at most SERVE_DB_POOL
 * connections (one for SQLite) for its statement or transaction, waiting
 * for one to be free.  A PostgreSQL connection the server dropped is opened
 * again on next use.  0, or -1 with a message in err (the URL's password
 * redacted). */
#define SERVE_DB_POOL 8
int serve_db_open(const char *path, char *err, size_t errlen);
void serve_db_close(void);
/* The calling thread's last database error ("" when none): for a log line
 * or a 503, never holding a password. */
const char *serve_db_error(void);
/* Is the database PostgreSQL (shared between replicas)? */
bool serve_db_shared(void);
/* A new key for `name` granted `grants` (comma separated connection names,
 * "*" = all); the key text in key_out (shown once).  0 or -1. */
int serve_key_add(const char *name, const char *grants, char *key_out, size_t cap,
                  char *err, size_t errlen);
/* What a key may do besides its grants (issue 16; docs/mcp.md). */
struct serve_key_limits {
    char name[128];              /* out of serve_key_check_limited(): the caller */
    char employee[330];          /* bound to this employee (email, lower case): it sees
                                    that employee only, through MCP's self-service
                                    tools; "" = not bound */
    char actions[512];           /* comma-separated actions (and MCP tools) it may run;
                                    "" = every one */
    bool read_only;              /* no write action or tool */
    bool mcp_writes;             /* MCP's operator write tools are offered (each a
                                    preview, then a confirmed call); off: MCP reads */
};
/* serve_key_add() with limits (NULL = none). */
int serve_key_add_limited(const char *name, const char *grants,
                          const struct serve_key_limits *lim, char *key_out, size_t cap,
                          char *err, size_t errlen);
/* The caller of an API key and its limits: 0, -1 when unknown, -2 when
 * the database cannot answer (out zeroed on both). */
int serve_key_check_limited(const char *key, struct serve_key_limits *out);
/* May a key of these limits run `action`?  (The named list, and writes.) */
bool serve_key_allows(const struct serve_key_limits *lim, const char *action, bool write);
int serve_key_remove(const char *name);
/* Every key (name, created, grants) as a JSON array (new reference). */
json_t *serve_key_list(void);
/* The caller of an API key: 0 with its name, -1 when unknown. */
int serve_key_check(const char *key, char *name, size_t cap);
bool serve_key_granted(const char *name, const char *connection);
/* Drop every key's grant of `connection` (it was removed): the number of
 * grants dropped, or -1. */
long serve_grants_drop(const char *connection);
/* The caller's granted connections (JSON array of names; "*" possible). */
json_t *serve_key_grants(const char *name);
/* Record a webhook event uuid: 1 new, 0 duplicate, -1 error. */
int serve_event_record(const char *uuid, const char *type, const char *company,
                       const char *entity);
/* A verification token from a handshake, kept pending (it authenticates
 * nothing); only the newest 64 pending tokens are kept.  subscription may be "" when the handshake named none, as
 * Gusto's does.  0 or -1. */
int serve_token_save(const char *subscription, const char *token);
/* Gusto confirmed the token (PUT .../verify succeeded) for subscription:
 * from now on it signs events.  0 or -1. */
int serve_token_verified(const char *subscription, const char *token);
json_t *serve_tokens(void);          /* array of verified token strings */
/* Sync queue. */
int serve_queue_add(const char *event, const char *company, const char *employee);
/* Take the oldest free entry for worker (a name for the taken_by column):
 * pending and not taken, or taken more than lease_ms ago (by a replica
 * that died).  Atomic across threads and replicas: each entry is taken by
 * one worker per lease.  1 with id/company/employee set, 0 none, -1 error. */
int serve_queue_take(const char *worker, long lease_ms, long long *id, char company[40],
                     char employee[40]);
/* Give a taken entry back untouched (pending, free at once).  0 or -1. */
int serve_queue_release(long long id);
void serve_queue_done(long long id, const char *status, const char *detail);
/* Queue rows as JSON (for GET /webhooks/queue): those of the companies in
 * the JSON array `companies` (company uuids), every row when NULL. */
json_t *serve_queue_list(const json_t *companies);

/* Idempotency-Key: claim `key` for `caller`'s request (text that names the
 * action, the connection and the canonical body; its SHA-256 is kept), in
 * one atomic step.  Returns SERVE_IDEM_NEW (claimed: run it, then
 * serve_idem_finish), SERVE_IDEM_REPLAY (*status and *body, malloc'd, hold
 * the first answer), SERVE_IDEM_MISMATCH (the key came with another
 * request), SERVE_IDEM_BUSY (the first request is still running), or -1 on
 * a database error.  Keys are kept 24 hours from their first request. */
enum { SERVE_IDEM_NEW = 1, SERVE_IDEM_REPLAY, SERVE_IDEM_MISMATCH, SERVE_IDEM_BUSY };
int serve_idem_claim(const char *caller, const char *key, const char *request,
                     int *status, char **body);
/* Keep the answer of a claimed key (body JSON text), or, with body NULL,
 * let the key go so that a retry runs again.  0 or -1. */
int serve_idem_finish(const char *caller, const char *key, int status, const char *body);

/* ---- actions.c ------------------------------------------------------------ */

struct action_ctx {
    const struct serve_config *cfg;
    const char *caller;
    const char *connection;      /* chosen and granted */
    json_t *input;               /* body without "connection" (borrowed) */
    /* out */
    int http_status;
    json_t *envelope;            /* {"ok":..., "data" | "error"} (owned) */
    char employee[40];           /* for the audit log */
    char gusto_request_id[96];
    char error_code[48];
    unsigned waits;              /* rate-limit pauses */
    long wait_ms;
    /* in: the Idempotency-Key header, or NULL (actions.c: idem_run) */
    const char *idempotency_key;
    bool replayed;               /* out: the answer is the kept first one */
};

/* Is `name` an action?  */
bool action_known(const char *name);
/* Does the action, with this input, write?  (create-employee,
 * update-employee, create-people-batch, call-api other than GET.) */
bool action_is_write(const char *name, const json_t *input);
/* Run the action; fills ctx's out fields. */
void action_run(const char *name, struct action_ctx *ctx);
/* Check an action's body (the whole JSON object as sent, "connection"
 * included) against its published input_schema, before anything else
 * happens.  true when it matches; false with *envelope set (owned) to a 400
 * invalid_input answer whose details.field names the first mismatch and
 * details.errors lists each ({field, expected, message}).  An unknown action
 * matches (action_run answers it). */
bool action_validate(const char *name, const json_t *input, json_t **envelope);
/* GET /actions: every action with its input and output JSON Schema. */
json_t *actions_describe(void);
/* A copy of v with secrets masked (ssn, account numbers, tokens, ...), as
 * secret_mask_json() masks them.  New reference; NULL when v is NULL or
 * memory runs out. */
json_t *mask_json(const json_t *v);

/* The time of an audit line: ISO 8601 in UTC with milliseconds,
 * "2026-12-03T20:51:06.123Z", into out (cap >= 32). */
void audit_time(char *out, size_t cap);

/* ---- schema.c ------------------------------------------------------------- */

/* Every way value fails schema (a JSON Schema of the keywords listed in
 * schema.c), as a JSON array of {"field", "expected", "message"} (new
 * reference; empty when it matches).  Paths are "a.b[2].c"; "(body)" is the
 * whole value. */
json_t *schema_validate(const json_t *schema, const json_t *value);

/* ---- server.c: metrics -------------------------------------------------- */

void metrics_wait(long wait_ms);
void metrics_error(const char *category);

/* ---- webhook.c ------------------------------------------------------------ */

/* POST /webhooks/gusto.  Returns the HTTP status; *reply set (owned). */
int webhook_receive(const struct serve_config *c, const char *body, size_t len,
                    const char *signature, json_t **reply);
int webhook_worker_start(const struct serve_config *c);
/* Stopping starts: the worker takes no new entry, and a sync under way
 * stops before it writes and gives its entry back.  Returns at once. */
void webhook_worker_interrupt(void);
/* Wait for the worker threads to end. */
void webhook_worker_stop(void);

#endif
