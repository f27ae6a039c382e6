/* db.c - gusto-connect serve's own database through sdb (src/lib/sdb.h): a SQLite file (the default) or a PostgreSQL URL that several replicas share.  It holds API keys (SHA-256 hashes only), their limits and grants, webhook event ids for de-duplication, verification tokens, the employee sync queue (taken under a lease), and the answers kept for Idempotency-Key.  A small pool of connections serves the threads: one handle for SQLite, up to SERVE_DB_POOL for PostgreSQL, each used by one thread at a time; a connection the server dropped is closed and opened again on next use. */
#include "serve/serve.h"
#include "lib/sdb.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the pool --------------------------------------------------------------
 * A PGconn is not for concurrent use and serve runs a thread per HTTP
 * connection: each thread borrows a whole connection for one operation
 * (one statement or one transaction).  SQLite keeps one handle, as before:
 * its writers queue on the file lock anyway, and ":memory:" must be one. */

struct slot {
    struct sdb *db;
    bool busy;
};

static struct slot pool[SERVE_DB_POOL];
static int pool_n;
static bool is_pg;
static char target[512];
static pthread_mutex_t plock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pcond = PTHREAD_COND_INITIALIZER;
static _Thread_local char last_err[1024];

const char *serve_db_error(void)
{
    return last_err;
}

bool serve_db_shared(void)
{
    return is_pg;
}

static void note(const char *what, const char *why)
{
    snprintf(last_err, sizeof last_err, "%s: %s", what, why && *why ? why : "error");
}

/* A free connection, opened when it is not (yet, or any more); NULL with
 * last_err set when the database cannot be reached. */
static struct slot *get(void)
{
    pthread_mutex_lock(&plock);
    struct slot *s = NULL;
    while (pool_n > 0) {
        for (int i = 0; i < pool_n && !s; i++)
            if (!pool[i].busy)
                s = &pool[i];
        if (s)
            break;
        pthread_cond_wait(&pcond, &plock);
    }
    if (s)
        s->busy = true;
    pthread_mutex_unlock(&plock);
    if (!s) {
        note("serve's database", "not open");
        return NULL;
    }
    if (!s->db) {
        char err[400];
        s->db = sdb_open(target, false, err, sizeof err);
        if (!s->db) {
            note("serve's database is unavailable", err);
            pthread_mutex_lock(&plock);
            s->busy = false;
            pthread_cond_signal(&pcond);
            pthread_mutex_unlock(&plock);
            return NULL;
        }
    }
    return s;
}

static int probe_row(void *ud, int ncols, const char *const *vals)
{
    (void)ud, (void)ncols, (void)vals;
    return 1;
}

/* Give the connection back.  After a failure (failed true) on PostgreSQL
 * it is probed: a connection the server dropped is closed, so the next
 * get() connects again; true then (the caller may retry once). */
static bool put(struct slot *s, bool failed)
{
    bool dropped = false;
    if (failed) {
        note("serve's database", sdb_error(s->db));
        sdb_rollback(s->db);
        static const char *ping = "SELECT 1";
        if (is_pg && sdb_exec(s->db, ping, 0, NULL, probe_row, NULL, NULL) != 0) {
            sdb_close(s->db);
            s->db = NULL;
            dropped = true;
        }
    }
    pthread_mutex_lock(&plock);
    s->busy = false;
    pthread_cond_signal(&pcond);
    pthread_mutex_unlock(&plock);
    return dropped;
}

/* ---- schema ----------------------------------------------------------------- */

/* SQLite: the file as it always was; the columns added since come by
 * ALTER TABLE below ("duplicate column" on a file that has them is
 * expected). */
static const char SCHEMA_SQLITE[] =
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
    " detail TEXT, queued_at INTEGER NOT NULL, done_at INTEGER);"
    "CREATE TABLE IF NOT EXISTS idempotency(caller TEXT NOT NULL,"
    " key TEXT NOT NULL, fingerprint TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " done INTEGER NOT NULL DEFAULT 0, status INTEGER, body TEXT,"
    " PRIMARY KEY(caller, key));";

static const char *const ADD_SQLITE[] = {
    /* Keys' limits (issue 16): an employee the key is bound to, the
     * actions it may run (comma separated, NULL = all), whether it may
     * write, and whether MCP offers it the operator write tools. */
    "ALTER TABLE api_keys ADD COLUMN employee TEXT",
    "ALTER TABLE api_keys ADD COLUMN actions TEXT",
    "ALTER TABLE api_keys ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE api_keys ADD COLUMN mcp_writes INTEGER NOT NULL DEFAULT 0",
    /* The queue's lease (issue 18): when (ms) and by whom an entry was
     * taken; a pending entry taken longer ago than the lease is free. */
    "ALTER TABLE sync_queue ADD COLUMN taken_at INTEGER",
    "ALTER TABLE sync_queue ADD COLUMN taken_by TEXT",
};

/* PostgreSQL: every column at once; later columns come as ADD COLUMN IF
 * NOT EXISTS.  webhook_tokens' seq stands in for SQLite's rowid. */
static const char SCHEMA_PG[] =
    "CREATE TABLE IF NOT EXISTS api_keys(name TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
    " created_at BIGINT NOT NULL, employee TEXT, actions TEXT,"
    " read_only INTEGER NOT NULL DEFAULT 0, mcp_writes INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS grants(key_name TEXT NOT NULL, connection TEXT NOT NULL,"
    " PRIMARY KEY(key_name, connection));"
    "CREATE TABLE IF NOT EXISTS webhook_events(uuid TEXT PRIMARY KEY, event_type TEXT,"
    " company TEXT, entity_uuid TEXT, received_at BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS webhook_tokens(seq BIGINT GENERATED BY DEFAULT AS IDENTITY,"
    " subscription TEXT NOT NULL, token TEXT NOT NULL, received_at BIGINT NOT NULL,"
    " verified INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(subscription, token));"
    "CREATE TABLE IF NOT EXISTS sync_queue(id BIGINT GENERATED BY DEFAULT AS IDENTITY"
    " PRIMARY KEY, event_uuid TEXT, company TEXT, employee_uuid TEXT,"
    " status TEXT NOT NULL DEFAULT 'pending', detail TEXT, queued_at BIGINT NOT NULL,"
    " done_at BIGINT, taken_at BIGINT, taken_by TEXT);"
    "CREATE INDEX IF NOT EXISTS sync_queue_pending ON sync_queue(id)"
    " WHERE status = 'pending';"
    "CREATE TABLE IF NOT EXISTS idempotency(caller TEXT NOT NULL,"
    " key TEXT NOT NULL, fingerprint TEXT NOT NULL, created_at BIGINT NOT NULL,"
    " done INTEGER NOT NULL DEFAULT 0, status INTEGER, body TEXT,"
    " PRIMARY KEY(caller, key));";

static int setup(struct sdb *d)
{
    if (!is_pg) {
        if (sdb_script(d, "PRAGMA journal_mode=WAL") != 0 || sdb_script(d, SCHEMA_SQLITE) != 0)
            return -1;
        for (size_t i = 0; i < sizeof ADD_SQLITE / sizeof ADD_SQLITE[0]; i++)
            sdb_script(d, ADD_SQLITE[i]);
        /* One serve per file: a claim still in flight, or a queue entry
         * still taken, belongs to a run that died, so nothing holds them. */
        return sdb_script(d, "DELETE FROM idempotency WHERE done=0;"
                             "UPDATE sync_queue SET taken_at=NULL, taken_by=NULL"
                             " WHERE status='pending' AND taken_at IS NOT NULL;");
    }
    /* Replicas starting together: one creates, the others wait for it.
     * Nothing is cleared here: other replicas' claims and entries are live
     * (abandoned ones expire: IDEM_INFLIGHT_S, the queue lease). */
    int rc = sdb_begin(d);
    if (rc == 0)
        rc = sdb_script(d, "SELECT pg_advisory_xact_lock(727100618)");
    if (rc == 0)
        rc = sdb_script(d, SCHEMA_PG);
    if (rc == 0)
        rc = sdb_commit(d);
    if (rc)
        sdb_rollback(d);
    return rc;
}

int serve_db_open(const char *path, char *err, size_t errlen)
{
    char shown[512];
    sdb_redact(path, shown, sizeof shown);
    if (pool_n > 0) {
        snprintf(err, errlen, "serve's database is open already");
        return -1;
    }
    if (strlen(path) >= sizeof target) {
        snprintf(err, errlen, "the database name is over %zu characters", sizeof target - 1);
        return -1;
    }
    snprintf(target, sizeof target, "%s", path);
    is_pg = sdb_is_postgres(path);
    char why[400];
    struct sdb *d = sdb_open(path, false, why, sizeof why);
    if (!d) {
        snprintf(err, errlen, "cannot open %s: %s", shown, why);
        return -1;
    }
    if (!is_pg)
        chmod(path, 0600);
    if (setup(d) != 0) {
        snprintf(err, errlen, "cannot set up %s: %s", shown, sdb_error(d));
        sdb_close(d);
        return -1;
    }
    memset(pool, 0, sizeof pool);
    pool[0].db = d;
    pool_n = is_pg ? SERVE_DB_POOL : 1;
    return 0;
}

void serve_db_close(void)
{
    pthread_mutex_lock(&plock);
    for (int i = 0; i < pool_n; i++) {
        sdb_close(pool[i].db);
        pool[i].db = NULL;
    }
    pool_n = 0;
    pthread_mutex_unlock(&plock);
    OPENSSL_cleanse(target, sizeof target);
}

/* ---- helpers ---------------------------------------------------------------- */

static void sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static long long now_s(struct sdb *d)
{
    long long ms = sdb_now_ms(d);
    return ms < 0 ? -1 : ms / 1000;
}

static long long to_ll(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

/* One statement on a borrowed connection: 0 or -1 (last_err set). */
static int run1(const char *sql, int n, const char *const *p, sdb_row_fn each, void *ud,
                long *changes)
{
    struct slot *s = get();
    if (!s)
        return -1;
    int rc = sdb_exec(s->db, sql, n, p, each, ud, changes);
    put(s, rc != 0);
    return rc;
}

static int count_rows(void *ud, int ncols, const char *const *vals)
{
    (void)ncols, (void)vals;
    (*(long *)ud)++;
    return 0;
}

static int text_rows(void *ud, int ncols, const char *const *vals)
{
    if (ncols > 0 && vals[0])
        json_array_append_new(ud, json_string(vals[0]));
    return 0;
}

/* ---- keys and grants -------------------------------------------------------- */

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
    struct slot *s = get();
    if (!s) {
        snprintf(err, errlen, "cannot store the key: %s", last_err);
        return -1;
    }
    struct sdb *d = s->db;
    static const char *del = "DELETE FROM grants WHERE key_name=$1";
    static const char *ins =
        "INSERT INTO api_keys(name, hash, created_at, employee, actions, read_only, mcp_writes)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT(name) DO UPDATE SET"
        " hash=excluded.hash, created_at=excluded.created_at, employee=excluded.employee,"
        " actions=excluded.actions, read_only=excluded.read_only,"
        " mcp_writes=excluded.mcp_writes";
    static const char *grant =
        "INSERT INTO grants(key_name, connection) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    int rc = sdb_begin(d);
    char created[24];
    snprintf(created, sizeof created, "%lld", now_s(d));
    const char *p1[] = {name};
    if (rc == 0)
        rc = sdb_exec(d, del, 1, p1, NULL, NULL, NULL);
    const char *p2[] = {name, hash, created,
                        lim && lim->employee[0] ? lim->employee : NULL,
                        lim && lim->actions[0] ? lim->actions : NULL,
                        lim && lim->read_only ? "1" : "0", lim && lim->mcp_writes ? "1" : "0"};
    if (rc == 0)
        rc = sdb_exec(d, ins, 7, p2, NULL, NULL, NULL);
    const char *p = grants ? grants : "";
    while (rc == 0 && *p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n > 0 && n < 64) {
            char one[64];
            snprintf(one, sizeof one, "%.*s", (int)n, p);
            const char *p3[] = {name, one};
            rc = sdb_exec(d, grant, 2, p3, NULL, NULL, NULL);
        }
        p += n + (comma ? 1 : 0);
    }
    if (rc == 0)
        rc = sdb_commit(d);
    if (rc)
        snprintf(err, errlen, "cannot store the key: %s", sdb_error(d));
    put(s, rc != 0);
    return rc;
}

int serve_key_remove(const char *name)
{
    struct slot *s = get();
    if (!s)
        return -1;
    static const char *dg = "DELETE FROM grants WHERE key_name=$1";
    static const char *dk = "DELETE FROM api_keys WHERE name=$1";
    const char *p[] = {name};
    long n = 0;
    int rc = sdb_begin(s->db);
    if (rc == 0)
        rc = sdb_exec(s->db, dg, 1, p, NULL, NULL, NULL);
    if (rc == 0)
        rc = sdb_exec(s->db, dk, 1, p, NULL, NULL, &n);
    if (rc == 0)
        rc = sdb_commit(s->db);
    put(s, rc != 0);
    return rc == 0 && n > 0 ? 0 : -1;
}

long serve_grants_drop(const char *connection)
{
    static const char *sql = "DELETE FROM grants WHERE connection=$1";
    const char *p[] = {connection};
    long n = 0;
    return run1(sql, 1, p, NULL, NULL, &n) == 0 ? n : -1;
}

static const char *const GRANTS_OF = "SELECT connection FROM grants WHERE key_name=$1 ORDER BY 1";

json_t *serve_key_grants(const char *name)
{
    json_t *arr = json_array();
    const char *p[] = {name};
    run1(GRANTS_OF, 1, p, text_rows, arr, NULL);
    return arr;
}

static int key_row(void *ud, int ncols, const char *const *v)
{
    if (ncols < 6 || !v[0])
        return 0;
    json_array_append_new(
        ud, json_pack("{s:s, s:I, s:o, s:o, s:b, s:b}", "name", v[0], "created_at",
                      (json_int_t)to_ll(v[1]), "employee", v[2] ? json_string(v[2]) : json_null(),
                      "actions", v[3] ? json_string(v[3]) : json_null(), "read_only",
                      to_ll(v[4]) != 0, "mcp_writes", to_ll(v[5]) != 0));
    return 0;
}

json_t *serve_key_list(void)
{
    json_t *arr = json_array();
    struct slot *s = get();
    if (!s)
        return arr;
    static const char *sql = "SELECT name, created_at, employee, actions, read_only,"
                             " mcp_writes FROM api_keys ORDER BY name";
    int rc = sdb_exec(s->db, sql, 0, NULL, key_row, arr, NULL);
    /* Each key's grants, on the same connection (no second one borrowed). */
    size_t i;
    json_t *k;
    json_array_foreach(arr, i, k) {
        json_t *g = json_array();
        const char *p[] = {json_string_value(json_object_get(k, "name"))};
        if (rc == 0)
            rc = sdb_exec(s->db, GRANTS_OF, 1, p, text_rows, g, NULL);
        json_object_set_new(k, "grants", g);
    }
    put(s, rc != 0);
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

static int limits_row(void *ud, int ncols, const char *const *v)
{
    struct serve_key_limits *out = ud;
    if (ncols < 5 || !v[0])
        return 1;
    snprintf(out->name, sizeof out->name, "%s", v[0]);
    snprintf(out->employee, sizeof out->employee, "%s", v[1] ? v[1] : "");
    snprintf(out->actions, sizeof out->actions, "%s", v[2] ? v[2] : "");
    out->read_only = to_ll(v[3]) != 0;
    out->mcp_writes = to_ll(v[4]) != 0;
    return 1;
}

int serve_key_check_limited(const char *key, struct serve_key_limits *out)
{
    memset(out, 0, sizeof *out);
    char hash[65];
    sha256_hex(key, hash);
    /* The lookup is by hash: the key itself is never stored or compared. */
    static const char *sql = "SELECT name, employee, actions, read_only, mcp_writes"
                             " FROM api_keys WHERE hash=$1";
    const char *p[] = {hash};
    /* The first statement of most requests: when the server dropped this
     * connection (a restart), one retry on a new one hides it. */
    for (int attempt = 0; attempt < 2; attempt++) {
        struct slot *s = get();
        if (!s)
            return -2;
        int rc = sdb_exec(s->db, sql, 1, p, limits_row, out, NULL);
        bool dropped = put(s, rc != 0);
        if (rc == 0)
            return out->name[0] ? 0 : -1;
        memset(out, 0, sizeof *out);
        if (!dropped)
            break;
    }
    return -2;
}

bool serve_key_granted(const char *name, const char *connection)
{
    static const char *sql = "SELECT 1 FROM grants WHERE key_name=$1 AND"
                             " (connection=$2 OR connection='*')";
    const char *p[] = {name, connection};
    long n = 0;
    return run1(sql, 2, p, count_rows, &n, NULL) == 0 && n > 0;
}

/* ---- webhook events and tokens -------------------------------------------- */

int serve_event_record(const char *uuid, const char *type, const char *company,
                       const char *entity)
{
    /* The answer is the statement's own row (RETURNING): of two threads,
     * or two replicas on one PostgreSQL, exactly one inserts the row and
     * acts on the event. */
    static const char *sql = "INSERT INTO webhook_events(uuid, event_type, company,"
                             " entity_uuid, received_at) VALUES ($1, $2, $3, $4, $5)"
                             " ON CONFLICT(uuid) DO NOTHING RETURNING 1";
    struct slot *s = get();
    if (!s)
        return -1;
    char at[24];
    snprintf(at, sizeof at, "%lld", now_s(s->db));
    const char *p[] = {uuid, type, company, entity, at};
    long n = 0;
    int rc = sdb_exec(s->db, sql, 5, p, count_rows, &n, NULL);
    put(s, rc != 0);
    return rc ? -1 : n == 1 ? 1 : 0;
}

int serve_token_save(const char *subscription, const char *token)
{
    /* Keyed by (subscription, token): a forged handshake cannot replace a
     * verified token, and stays unverified, so it never signs anything. */
    static const char *ins = "INSERT INTO webhook_tokens(subscription, token, received_at)"
                             " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
    /* Anyone can send a handshake: only the newest 64 pending tokens are
     * kept (a verified one is never dropped). */
    static const char *prune_sqlite =
        "DELETE FROM webhook_tokens WHERE verified=0 AND rowid NOT IN"
        " (SELECT rowid FROM webhook_tokens WHERE verified=0"
        " ORDER BY received_at DESC, rowid DESC LIMIT 64)";
    static const char *prune_pg =
        "DELETE FROM webhook_tokens WHERE verified=0 AND seq NOT IN"
        " (SELECT seq FROM webhook_tokens WHERE verified=0"
        " ORDER BY received_at DESC, seq DESC LIMIT 64)";
    struct slot *s = get();
    if (!s)
        return -1;
    char at[24];
    snprintf(at, sizeof at, "%lld", now_s(s->db));
    const char *p[] = {subscription, token, at};
    int rc = sdb_exec(s->db, ins, 3, p, NULL, NULL, NULL);
    if (rc == 0)
        sdb_exec(s->db, is_pg ? prune_pg : prune_sqlite, 0, NULL, NULL, NULL, NULL);
    put(s, rc != 0);
    return rc;
}

json_t *serve_tokens(void)
{
    json_t *arr = json_array();
    static const char *sql = "SELECT token FROM webhook_tokens WHERE verified=1"
                             " ORDER BY received_at DESC";
    run1(sql, 0, NULL, text_rows, arr, NULL);
    return arr;
}

int serve_token_verified(const char *subscription, const char *token)
{
    /* The pending row may have no subscription yet (Gusto's handshake names
     * none): the token's rows become one verified row for subscription. */
    static const char *del = "DELETE FROM webhook_tokens WHERE token=$1";
    static const char *ins = "INSERT INTO webhook_tokens(subscription, token, received_at,"
                             " verified) VALUES ($1, $2, $3, 1)";
    struct slot *s = get();
    if (!s)
        return -1;
    int rc = sdb_begin(s->db);
    char at[24];
    snprintf(at, sizeof at, "%lld", now_s(s->db));
    const char *p1[] = {token};
    const char *p2[] = {subscription, token, at};
    if (rc == 0)
        rc = sdb_exec(s->db, del, 1, p1, NULL, NULL, NULL);
    if (rc == 0)
        rc = sdb_exec(s->db, ins, 3, p2, NULL, NULL, NULL);
    if (rc == 0)
        rc = sdb_commit(s->db);
    put(s, rc != 0);
    return rc;
}

/* ---- the sync queue ----------------------------------------------------------
 * An entry stays 'pending' until it is done; taking it sets taken_at (ms,
 * the database's clock) and taken_by.  A pending entry whose taken_at is
 * older than the lease is free again: its replica died holding it. */

int serve_queue_add(const char *event, const char *company, const char *employee)
{
    static const char *sql = "INSERT INTO sync_queue(event_uuid, company, employee_uuid,"
                             " queued_at) VALUES ($1, $2, $3, $4)";
    struct slot *s = get();
    if (!s)
        return -1;
    char at[24];
    snprintf(at, sizeof at, "%lld", now_s(s->db));
    const char *p[] = {event, company, employee, at};
    int rc = sdb_exec(s->db, sql, 4, p, NULL, NULL, NULL);
    put(s, rc != 0);
    return rc;
}

struct taken {
    bool found;
    long long id;
    char *company, *employee;
};

static int taken_row(void *ud, int ncols, const char *const *v)
{
    struct taken *t = ud;
    if (ncols < 3 || !v[0])
        return 1;
    t->found = true;
    t->id = to_ll(v[0]);
    snprintf(t->company, 40, "%s", v[1] ? v[1] : "");
    snprintf(t->employee, 40, "%s", v[2] ? v[2] : "");
    return 1;
}

int serve_queue_take(const char *worker, long lease_ms, long long *id, char company[40],
                     char employee[40])
{
    /* One transaction: find a free entry, mark it taken.  PostgreSQL skips
     * rows another replica is taking right now; SQLite's BEGIN IMMEDIATE
     * lets one writer in at a time. */
    static const char *find_sqlite =
        "SELECT id, company, employee_uuid FROM sync_queue WHERE status='pending'"
        " AND (taken_at IS NULL OR taken_at < $1) ORDER BY id LIMIT 1";
    static const char *find_pg =
        "SELECT id, company, employee_uuid FROM sync_queue WHERE status='pending'"
        " AND (taken_at IS NULL OR taken_at < $1) ORDER BY id LIMIT 1"
        " FOR UPDATE SKIP LOCKED";
    static const char *mark = "UPDATE sync_queue SET taken_at=$1, taken_by=$2 WHERE id=$3";
    struct slot *s = get();
    if (!s)
        return -1;
    struct taken t = {.company = company, .employee = employee};
    int rc = sdb_begin(s->db);
    long long now = rc == 0 ? sdb_now_ms(s->db) : -1;
    if (now < 0)
        rc = -1;
    char before[24], at[24], idt[24];
    snprintf(before, sizeof before, "%lld", now - lease_ms);
    snprintf(at, sizeof at, "%lld", now);
    const char *p1[] = {before};
    if (rc == 0)
        rc = sdb_exec(s->db, is_pg ? find_pg : find_sqlite, 1, p1, taken_row, &t, NULL);
    if (rc == 0 && t.found) {
        snprintf(idt, sizeof idt, "%lld", t.id);
        const char *p2[] = {at, worker, idt};
        rc = sdb_exec(s->db, mark, 3, p2, NULL, NULL, NULL);
    }
    if (rc == 0)
        rc = sdb_commit(s->db);
    put(s, rc != 0);
    if (rc)
        return -1;
    *id = t.id;
    return t.found ? 1 : 0;
}

int serve_queue_release(long long id)
{
    static const char *sql = "UPDATE sync_queue SET taken_at=NULL, taken_by=NULL"
                             " WHERE id=$1 AND status='pending'";
    char idt[24];
    snprintf(idt, sizeof idt, "%lld", id);
    const char *p[] = {idt};
    return run1(sql, 1, p, NULL, NULL, NULL);
}

void serve_queue_done(long long id, const char *status, const char *detail)
{
    static const char *sql = "UPDATE sync_queue SET status=$1, detail=$2, done_at=$3,"
                             " taken_at=NULL WHERE id=$4";
    struct slot *s = get();
    if (!s)
        return;
    char at[24], idt[24];
    snprintf(at, sizeof at, "%lld", now_s(s->db));
    snprintf(idt, sizeof idt, "%lld", id);
    const char *p[] = {status, detail, at, idt};
    int rc = sdb_exec(s->db, sql, 4, p, NULL, NULL, NULL);
    put(s, rc != 0);
}

static int queue_row(void *ud, int ncols, const char *const *v)
{
    static const char *cols[] = {"id", "event_uuid", "company", "employee_uuid", "status",
                                 "detail"};
    if (ncols < 6)
        return 1;
    json_t *o = json_object();
    json_object_set_new(o, cols[0], json_integer(to_ll(v[0])));
    for (int i = 1; i < 6; i++)
        json_object_set_new(o, cols[i], v[i] ? json_string(v[i]) : json_null());
    json_array_append_new(ud, o);
    return 0;
}

json_t *serve_queue_list(const json_t *companies)
{
    static const char *sql_sqlite =
        "SELECT id, event_uuid, company, employee_uuid, status, detail FROM sync_queue"
        " WHERE $1 IS NULL OR company IN (SELECT value FROM json_each($1))"
        " ORDER BY id DESC LIMIT 200";
    static const char *sql_pg =
        "SELECT id, event_uuid, company, employee_uuid, status, detail FROM sync_queue"
        " WHERE CAST($1 AS TEXT) IS NULL OR company IN"
        " (SELECT json_array_elements_text(CAST($1 AS TEXT)::json))"
        " ORDER BY id DESC LIMIT 200";
    json_t *arr = json_array();
    char *list = companies ? json_dumps(companies, JSON_COMPACT) : NULL;
    if (companies && !list)
        return arr;
    const char *p[] = {list};
    run1(is_pg ? sql_pg : sql_sqlite, 1, p, queue_row, arr, NULL);
    free(list);
    return arr;
}

/* ---- Idempotency-Key -------------------------------------------------------
 * One row per (caller, key): the request's fingerprint, and the answer once
 * there is one (done = 1).  Rows are kept 24 hours from the first request;
 * a claim still unanswered after IDEM_INFLIGHT_S belongs to a replica that
 * died mid-request, and the key may be used again. */

#define IDEM_KEEP_SECONDS 86400
#define IDEM_INFLIGHT_S 900

struct idem_row {
    bool found;
    char fp[65];
    bool done;
    int status;
    char *body;
};

static int idem_row(void *ud, int ncols, const char *const *v)
{
    struct idem_row *r = ud;
    if (ncols < 4)
        return 1;
    r->found = true;
    snprintf(r->fp, sizeof r->fp, "%s", v[0] ? v[0] : "");
    r->done = to_ll(v[1]) != 0;
    r->status = (int)to_ll(v[2]);
    r->body = v[3] ? strdup(v[3]) : NULL;
    return 1;
}

int serve_idem_claim(const char *caller, const char *key, const char *request,
                     int *status, char **body)
{
    static const char *expire = "DELETE FROM idempotency WHERE created_at < $1"
                                " OR (done=0 AND created_at < $2)";
    /* One statement claims the key or finds it: RETURNING answers only for
     * a row this INSERT made.  On PostgreSQL a second replica's INSERT of
     * the same key waits for the first one's commit, then finds its row. */
    static const char *claim =
        "INSERT INTO idempotency(caller, key, fingerprint, created_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT(caller, key) DO NOTHING RETURNING 1";
    static const char *look = "SELECT fingerprint, done, status, body FROM idempotency"
                              " WHERE caller=$1 AND key=$2";
    char fingerprint[65];
    sha256_hex(request, fingerprint);
    *status = 0;
    *body = NULL;
    struct slot *s = get();
    if (!s)
        return -1;
    long long now = now_s(s->db);
    char at[24], keep[24], inflight[24];
    snprintf(at, sizeof at, "%lld", now);
    snprintf(keep, sizeof keep, "%lld", now - IDEM_KEEP_SECONDS);
    snprintf(inflight, sizeof inflight, "%lld", now - IDEM_INFLIGHT_S);
    /* Expiry first, in a statement of its own: no row locks held into the
     * claim's transaction. */
    const char *p0[] = {keep, inflight};
    int rc = now < 0 ? -1 : sdb_exec(s->db, expire, 2, p0, NULL, NULL, NULL);
    if (rc == 0)
        rc = sdb_begin(s->db);
    long n = 0;
    const char *p1[] = {caller, key, fingerprint, at};
    if (rc == 0)
        rc = sdb_exec(s->db, claim, 4, p1, count_rows, &n, NULL);
    int out = SERVE_IDEM_NEW;
    struct idem_row r = {0};
    if (rc == 0 && n == 0) {
        const char *p2[] = {caller, key};
        rc = sdb_exec(s->db, look, 2, p2, idem_row, &r, NULL);
        if (rc == 0 && !r.found)
            rc = -1;  /* gone between the two statements: a retry claims it */
        if (rc == 0 && strcmp(r.fp, fingerprint) != 0) {
            out = SERVE_IDEM_MISMATCH;
        } else if (rc == 0 && !r.done) {
            out = SERVE_IDEM_BUSY;
        } else if (rc == 0 && r.body) {
            out = SERVE_IDEM_REPLAY;
            *status = r.status;
            *body = r.body;
            r.body = NULL;
        } else {
            rc = -1;
        }
    }
    free(r.body);
    if (rc == 0)
        rc = sdb_commit(s->db);
    put(s, rc != 0);
    if (rc) {
        free(*body);
        *body = NULL;
        return -1;
    }
    return out;
}

int serve_idem_finish(const char *caller, const char *key, int status, const char *body)
{
    static const char *keep = "UPDATE idempotency SET done=1, status=$1, body=$2"
                              " WHERE caller=$3 AND key=$4 AND done=0";
    static const char *drop = "DELETE FROM idempotency WHERE caller=$1 AND key=$2 AND done=0";
    char st[16];
    snprintf(st, sizeof st, "%d", status);
    if (body) {
        const char *p[] = {st, body, caller, key};
        return run1(keep, 4, p, NULL, NULL, NULL);
    }
    const char *p[] = {caller, key};
    return run1(drop, 2, p, NULL, NULL, NULL);
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
