/* db.c - gusto-connect serve's own SQLite file: API keys (SHA-256 hashes only) and their grants, webhook event ids for de-duplication, verification tokens, the employee sync queue, and the answers kept for Idempotency-Key. */
#include "serve/serve.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static sqlite3 *db;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int idem_setup(char *err, size_t errlen);

static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS api_keys(name TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS grants(key_name TEXT NOT NULL, connection TEXT NOT NULL,"
    " PRIMARY KEY(key_name, connection));"
    "CREATE TABLE IF NOT EXISTS webhook_events(uuid TEXT PRIMARY KEY, event_type TEXT,"
    " company TEXT, entity_uuid TEXT, received_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS webhook_tokens(subscription TEXT NOT NULL,"
    " token TEXT NOT NULL, received_at INTEGER NOT NULL, verified INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(subscription, token));"
    "CREATE TABLE IF NOT EXISTS sync_queue(id INTEGER PRIMARY KEY, event_uuid TEXT,"
    " company TEXT, employee_uuid TEXT, status TEXT NOT NULL DEFAULT 'pending',"
    " detail TEXT, queued_at INTEGER NOT NULL, done_at INTEGER);";

int serve_db_open(const char *path, char *err, size_t errlen)
{
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        db = NULL;
        return -1;
    }
    chmod(path, 0600);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        db = NULL;
        return -1;
    }
    if (idem_setup(err, errlen) != 0) {
        sqlite3_close(db);
        db = NULL;
        return -1;
    }
    /* Keys' limits (issue 16), added to files made before them: an
     * employee the key is bound to, the actions it may run (comma
     * separated, NULL = all), and whether it may write.  "duplicate
     * column" on a file that has them already is expected. */
    static const char *const ADD[] = {
        "ALTER TABLE api_keys ADD COLUMN employee TEXT",
        "ALTER TABLE api_keys ADD COLUMN actions TEXT",
        "ALTER TABLE api_keys ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE api_keys ADD COLUMN mcp_writes INTEGER NOT NULL DEFAULT 0",
    };
    for (size_t i = 0; i < sizeof ADD / sizeof ADD[0]; i++)
        sqlite3_exec(db, ADD[i], NULL, NULL, NULL);
    return 0;
}

void serve_db_close(void)
{
    sqlite3_close(db);
    db = NULL;
}

static void sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static sqlite3_stmt *prep(const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (!db || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}

static int exec1(const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st = prep(sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int serve_key_add(const char *name, const char *grants, char *key_out, size_t cap,
                  char *err, size_t errlen)
{
    return serve_key_add_limited(name, grants, NULL, key_out, cap, err, errlen);
}

int serve_key_add_limited(const char *name, const char *grants,
                          const struct serve_key_limits *lim, char *key_out, size_t cap,
                          char *err, size_t errlen)
{
    unsigned char rnd[24];
    if (cap < 53 || RAND_bytes(rnd, sizeof rnd) != 1) {
        snprintf(err, errlen, "no randomness for a key");
        return -1;
    }
    memcpy(key_out, "gsk_", 4);
    for (int i = 0; i < 24; i++)
        snprintf(key_out + 4 + 2 * i, 3, "%02x", rnd[i]);
    char hash[65];
    sha256_hex(key_out, hash);
    pthread_mutex_lock(&lock);
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    int rc = exec1("DELETE FROM grants WHERE key_name=?", name, NULL);
    sqlite3_stmt *st = rc ? NULL
                          : prep("INSERT OR REPLACE INTO api_keys(name, hash, created_at,"
                                 " employee, actions, read_only, mcp_writes) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
        if (lim && lim->employee[0])
            sqlite3_bind_text(st, 4, lim->employee, -1, SQLITE_TRANSIENT);
        if (lim && lim->actions[0])
            sqlite3_bind_text(st, 5, lim->actions, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 6, lim && lim->read_only ? 1 : 0);
        sqlite3_bind_int(st, 7, lim && lim->mcp_writes ? 1 : 0);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        sqlite3_finalize(st);
    } else {
        rc = -1;
    }
    const char *p = grants ? grants : "";
    while (rc == 0 && *p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n > 0 && n < 64) {
            char one[64];
            snprintf(one, sizeof one, "%.*s", (int)n, p);
            rc = exec1("INSERT OR IGNORE INTO grants(key_name, connection) VALUES (?, ?)",
                       name, one);
        }
        p += n + (comma ? 1 : 0);
    }
    sqlite3_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&lock);
    if (rc)
        snprintf(err, errlen, "cannot store the key: %s", sqlite3_errmsg(db));
    return rc;
}

int serve_key_remove(const char *name)
{
    exec1("DELETE FROM grants WHERE key_name=?", name, NULL);
    sqlite3_stmt *st = prep("DELETE FROM api_keys WHERE name=?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_finalize(st);
    return sqlite3_changes(db) > 0 ? 0 : -1;
}

long serve_grants_drop(const char *connection)
{
    sqlite3_stmt *st = prep("DELETE FROM grants WHERE connection=? RETURNING 1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, connection, -1, SQLITE_TRANSIENT);
    long n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        n++;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -1;
}

json_t *serve_key_grants(const char *name)
{
    json_t *arr = json_array();
    sqlite3_stmt *st = prep("SELECT connection FROM grants WHERE key_name=? ORDER BY 1");
    if (!st)
        return arr;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    return arr;
}

json_t *serve_key_list(void)
{
    json_t *arr = json_array();
    sqlite3_stmt *st = prep("SELECT name, created_at, employee, actions, read_only,"
                            " mcp_writes FROM api_keys ORDER BY name");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(st, 0);
        const char *emp = (const char *)sqlite3_column_text(st, 2);
        const char *acts = (const char *)sqlite3_column_text(st, 3);
        json_array_append_new(
            arr, json_pack("{s:s, s:I, s:o, s:o, s:o, s:b, s:b}", "name", n, "created_at",
                           (json_int_t)sqlite3_column_int64(st, 1), "grants",
                           serve_key_grants(n), "employee",
                           emp ? json_string(emp) : json_null(), "actions",
                           acts ? json_string(acts) : json_null(), "read_only",
                           sqlite3_column_int(st, 4) != 0));
    }
    sqlite3_finalize(st);
    return arr;
}

int serve_key_check(const char *key, char *name, size_t cap)
{
    struct serve_key_limits lim;
    int rc = serve_key_check_limited(key, &lim);
    if (rc == 0)
        snprintf(name, cap, "%s", lim.name);
    return rc;
}

int serve_key_check_limited(const char *key, struct serve_key_limits *out)
{
    memset(out, 0, sizeof *out);
    char hash[65];
    sha256_hex(key, hash);
    /* The lookup is by hash: the key itself is never stored or compared. */
    sqlite3_stmt *st = prep("SELECT name, employee, actions, read_only, mcp_writes"
                            " FROM api_keys WHERE hash=?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *emp = (const char *)sqlite3_column_text(st, 1);
        const char *acts = (const char *)sqlite3_column_text(st, 2);
        snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(out->employee, sizeof out->employee, "%s", emp ? emp : "");
        snprintf(out->actions, sizeof out->actions, "%s", acts ? acts : "");
        out->read_only = sqlite3_column_int(st, 3) != 0;
        out->mcp_writes = sqlite3_column_int(st, 4) != 0;
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

bool serve_key_granted(const char *name, const char *connection)
{
    sqlite3_stmt *st = prep("SELECT 1 FROM grants WHERE key_name=? AND"
                            " (connection=? OR connection='*')");
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, connection, -1, SQLITE_TRANSIENT);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return ok;
}

int serve_event_record(const char *uuid, const char *type, const char *company,
                       const char *entity)
{
    /* The answer is the statement's own row (RETURNING), not
     * sqlite3_changes() of the shared connection, which another thread's
     * statement may have changed in between: the decision is atomic. */
    sqlite3_stmt *st = prep("INSERT INTO webhook_events(uuid, event_type, company,"
                            " entity_uuid, received_at) VALUES (?, ?, ?, ?, ?)"
                            " ON CONFLICT(uuid) DO NOTHING RETURNING 1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, company, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, entity, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
    int rc = sqlite3_step(st);
    int fresh = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
    if (rc == SQLITE_ROW && sqlite3_step(st) != SQLITE_DONE)
        fresh = -1;
    sqlite3_finalize(st);
    return fresh;
}

int serve_token_save(const char *subscription, const char *token)
{
    /* Keyed by (subscription, token): a forged handshake cannot replace a
     * verified token, and stays unverified, so it never signs anything. */
    sqlite3_stmt *st = prep("INSERT OR IGNORE INTO webhook_tokens(subscription, token,"
                            " received_at) VALUES (?, ?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, subscription, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, token, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    /* Anyone can send a handshake: only the newest SERVE_PENDING_TOKENS
     * pending tokens are kept (a verified one is never dropped). */
    if (rc == SQLITE_DONE)
        sqlite3_exec(db,
                     "DELETE FROM webhook_tokens WHERE verified=0 AND rowid NOT IN"
                     " (SELECT rowid FROM webhook_tokens WHERE verified=0"
                     " ORDER BY received_at DESC, rowid DESC LIMIT 64)",
                     NULL, NULL, NULL);
    return rc == SQLITE_DONE ? 0 : -1;
}

json_t *serve_tokens(void)
{
    json_t *arr = json_array();
    sqlite3_stmt *st = prep("SELECT token FROM webhook_tokens WHERE verified=1"
                            " ORDER BY received_at DESC");
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    return arr;
}

int serve_token_verified(const char *subscription, const char *token)
{
    /* The pending row may have no subscription yet (Gusto's handshake names
     * none): the token's rows become one verified row for subscription. */
    pthread_mutex_lock(&lock);
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    int rc = exec1("DELETE FROM webhook_tokens WHERE token=?", token, NULL);
    sqlite3_stmt *st = rc ? NULL
                          : prep("INSERT INTO webhook_tokens(subscription, token, received_at,"
                                 " verified) VALUES (?, ?, ?, 1)");
    if (st) {
        sqlite3_bind_text(st, 1, subscription, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, token, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        sqlite3_finalize(st);
    } else {
        rc = -1;
    }
    sqlite3_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&lock);
    return rc;
}

int serve_queue_add(const char *event, const char *company, const char *employee)
{
    sqlite3_stmt *st = prep("INSERT INTO sync_queue(event_uuid, company, employee_uuid,"
                            " queued_at) VALUES (?, ?, ?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, event, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, company, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, employee, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int serve_queue_take(long long *id, char company[40], char employee[40])
{
    sqlite3_stmt *st = prep("SELECT id, company, employee_uuid FROM sync_queue"
                            " WHERE status='pending' ORDER BY id LIMIT 1");
    int found = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        snprintf(company, 40, "%s", (const char *)(sqlite3_column_text(st, 1) ?: (const unsigned char *)""));
        snprintf(employee, 40, "%s", (const char *)(sqlite3_column_text(st, 2) ?: (const unsigned char *)""));
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

void serve_queue_done(long long id, const char *status, const char *detail)
{
    sqlite3_stmt *st = prep("UPDATE sync_queue SET status=?, detail=?, done_at=? WHERE id=?");
    if (!st)
        return;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, detail, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
    sqlite3_bind_int64(st, 4, id);
    sqlite3_step(st);
    sqlite3_finalize(st);
}

json_t *serve_queue_list(const json_t *companies)
{
    json_t *arr = json_array();
    char *list = companies ? json_dumps(companies, JSON_COMPACT) : NULL;
    sqlite3_stmt *st = companies && !list
                           ? NULL
                           : prep("SELECT id, event_uuid, company, employee_uuid, status,"
                                  " detail FROM sync_queue WHERE ?1 IS NULL OR company IN"
                                  " (SELECT value FROM json_each(?1))"
                                  " ORDER BY id DESC LIMIT 200");
    if (st && list)
        sqlite3_bind_text(st, 1, list, -1, SQLITE_TRANSIENT);
    free(list);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        static const char *cols[] = {"id", "event_uuid", "company", "employee_uuid", "status",
                                     "detail"};
        json_object_set_new(o, cols[0], json_integer(sqlite3_column_int64(st, 0)));
        for (int i = 1; i < 6; i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            json_object_set_new(o, cols[i], t ? json_string((const char *)t) : json_null());
        }
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(st);
    return arr;
}

/* ---- Idempotency-Key -------------------------------------------------------
 * One row per (caller, key): the request's fingerprint, and the answer once
 * there is one (done = 1).  Rows are kept 24 hours from the first request. */

#define IDEM_KEEP_SECONDS 86400

static int idem_setup(char *err, size_t errlen)
{
    /* A row still in flight when serve starts belongs to a run that died:
     * nothing is in flight now, so its key may be used again. */
    char *msg = NULL;
    if (sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS idempotency(caller TEXT NOT NULL,"
                     " key TEXT NOT NULL, fingerprint TEXT NOT NULL, created_at INTEGER NOT NULL,"
                     " done INTEGER NOT NULL DEFAULT 0, status INTEGER, body TEXT,"
                     " PRIMARY KEY(caller, key));"
                     "DELETE FROM idempotency WHERE done=0;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up the idempotency table: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int serve_idem_claim(const char *caller, const char *key, const char *request,
                     int *status, char **body)
{
    char fingerprint[65];
    sha256_hex(request, fingerprint);
    *status = 0;
    *body = NULL;
    long long now = (long long)time(NULL);
    int out = -1;
    pthread_mutex_lock(&lock);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    sqlite3_stmt *st = prep("DELETE FROM idempotency WHERE created_at < ?");
    if (st) {
        sqlite3_bind_int64(st, 1, now - IDEM_KEEP_SECONDS);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    /* One statement claims the key or finds it: RETURNING answers only for
     * a row this INSERT made, whatever other threads do meanwhile. */
    st = prep("INSERT INTO idempotency(caller, key, fingerprint, created_at) VALUES (?, ?, ?, ?)"
              " ON CONFLICT(caller, key) DO NOTHING RETURNING 1");
    if (st) {
        sqlite3_bind_text(st, 1, caller, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, fingerprint, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, now);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            out = SERVE_IDEM_NEW;
        else if (rc == SQLITE_DONE)
            out = 0; /* there already: look */
        sqlite3_finalize(st);
    }
    if (out == 0) {
        out = -1;
        st = prep("SELECT fingerprint, done, status, body FROM idempotency"
                  " WHERE caller=? AND key=?");
        if (st) {
            sqlite3_bind_text(st, 1, caller, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_ROW) {
                const char *fp = (const char *)sqlite3_column_text(st, 0);
                const char *b = (const char *)sqlite3_column_text(st, 3);
                if (!fp || strcmp(fp, fingerprint) != 0) {
                    out = SERVE_IDEM_MISMATCH;
                } else if (!sqlite3_column_int(st, 1)) {
                    out = SERVE_IDEM_BUSY;
                } else {
                    *status = sqlite3_column_int(st, 2);
                    *body = b ? strdup(b) : NULL;
                    out = *body ? SERVE_IDEM_REPLAY : -1;
                }
            }
            sqlite3_finalize(st);
        }
    }
    sqlite3_exec(db, out < 0 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    pthread_mutex_unlock(&lock);
    return out;
}

int serve_idem_finish(const char *caller, const char *key, int status, const char *body)
{
    pthread_mutex_lock(&lock);
    sqlite3_stmt *st = body ? prep("UPDATE idempotency SET done=1, status=?, body=?"
                                   " WHERE caller=? AND key=? AND done=0")
                            : prep("DELETE FROM idempotency WHERE caller=? AND key=? AND done=0");
    int rc = -1;
    if (st) {
        int i = 1;
        if (body) {
            sqlite3_bind_int(st, i++, status);
            sqlite3_bind_text(st, i++, body, -1, SQLITE_TRANSIENT);
        }
        sqlite3_bind_text(st, i++, caller, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, i, key, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

bool serve_key_allows(const struct serve_key_limits *lim, const char *action, bool write)
{
    if (write && lim->read_only)
        return false;
    if (!lim->actions[0])
        return true;
    size_t n = strlen(action);
    for (const char *p = lim->actions; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, action, n) == 0)
            return true;
        p += len + (comma ? 1 : 0);
    }
    return false;
}
