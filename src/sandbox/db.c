/* db.c - the sandbox's SQLite store: schema, a connection pool and a
 * prepared-statement cache.
 *
 * Each request borrows its own connection from the pool, so no lock is held
 * across SQLite I/O; SQLite's own locking (WAL for a file, the memdb VFS for
 * the in-memory default) orders writers.  Writes run inside BEGIN IMMEDIATE
 * so a read-then-write (the version check) cannot interleave with another.
 */
#include "sandbox/sandbox.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct conn {
    sqlite3 *db;
    atomic_bool busy;        /* held by a request (or the batch worker) */
    bool dirty;              /* committed a write not yet settled */
    struct cached { const char *sql; sqlite3_stmt *st; } *cache;
    int ncache, capcache;
};

/* pool_lock guards pool_all/pool_count (which only grow until
 * db_shutdown); a connection is taken by setting its busy flag. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
/* The connection this thread holds: db_stmt() finds its cache without
 * taking pool_lock (a request runs on one thread). */
static _Thread_local struct conn *tl_conn;
/* The one it held last, tried first: a keep-alive connection's thread
 * then never takes pool_lock (it was the sandbox's busiest lock).  Valid
 * only while pool_epoch is unchanged (db_shutdown frees connections). */
static _Thread_local struct conn *tl_last;
static _Thread_local unsigned tl_last_epoch;
static atomic_uint pool_epoch = 1;
static struct conn *pool_all[256];
static int pool_count;
static char db_uri[512];
static bool db_is_file;

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS companies("
    "  uuid TEXT PRIMARY KEY, rev INTEGER NOT NULL DEFAULT 1, doc TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tokens("
    "  token_hash TEXT PRIMARY KEY, company_uuid TEXT NOT NULL, scopes TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL, grant_id TEXT NOT NULL, owner_uuid TEXT NOT NULL,"
    "  revoked INTEGER NOT NULL DEFAULT 0, revokes TEXT);"
    "CREATE TABLE IF NOT EXISTS locations("
    "  uuid TEXT PRIMARY KEY, company_uuid TEXT NOT NULL, rev INTEGER NOT NULL DEFAULT 1,"
    "  seq INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
    "  doc TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS locations_company ON locations(company_uuid, seq);"
    "CREATE TABLE IF NOT EXISTS departments("
    "  uuid TEXT PRIMARY KEY, company_uuid TEXT NOT NULL, title TEXT NOT NULL,"
    "  rev INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE IF NOT EXISTS employees("
    "  uuid TEXT PRIMARY KEY, company_uuid TEXT NOT NULL, rev INTEGER NOT NULL DEFAULT 1,"
    "  seq INTEGER NOT NULL, created_at TEXT NOT NULL, sort_name TEXT NOT NULL,"
    "  search TEXT NOT NULL, onboarded INTEGER NOT NULL, onboarding_status TEXT NOT NULL,"
    "  terminated INTEGER NOT NULL DEFAULT 0, doc TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS employees_company ON employees(company_uuid, seq);"
    "CREATE TABLE IF NOT EXISTS terminations("
    "  uuid TEXT PRIMARY KEY, employee_uuid TEXT NOT NULL, rev INTEGER NOT NULL DEFAULT 1,"
    "  effective_date TEXT NOT NULL, run_termination_payroll INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS terminations_emp ON terminations(employee_uuid);"
    "CREATE TABLE IF NOT EXISTS rehires("
    "  employee_uuid TEXT PRIMARY KEY, rev INTEGER NOT NULL DEFAULT 1,"
    "  effective_date TEXT NOT NULL, doc TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS home_addresses("
    "  uuid TEXT PRIMARY KEY, employee_uuid TEXT NOT NULL, rev INTEGER NOT NULL DEFAULT 1,"
    "  seq INTEGER NOT NULL, effective_date TEXT NOT NULL, doc TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS home_emp ON home_addresses(employee_uuid, effective_date);"
    "CREATE TABLE IF NOT EXISTS work_addresses("
    "  uuid TEXT PRIMARY KEY, employee_uuid TEXT NOT NULL, rev INTEGER NOT NULL DEFAULT 1,"
    "  seq INTEGER NOT NULL, effective_date TEXT NOT NULL, location_uuid TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS work_emp ON work_addresses(employee_uuid, effective_date);"
    "CREATE TABLE IF NOT EXISTS jobs("
    "  uuid TEXT PRIMARY KEY, employee_uuid TEXT NOT NULL, rev INTEGER NOT NULL DEFAULT 1,"
    "  seq INTEGER NOT NULL, doc TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS jobs_emp ON jobs(employee_uuid, seq);"
    "CREATE TABLE IF NOT EXISTS compensations("
    "  uuid TEXT PRIMARY KEY, job_uuid TEXT NOT NULL, employee_uuid TEXT NOT NULL,"
    "  rev INTEGER NOT NULL DEFAULT 1, seq INTEGER NOT NULL, effective_date TEXT NOT NULL,"
    "  doc TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS comps_job ON compensations(job_uuid, effective_date);"
    "CREATE TABLE IF NOT EXISTS time_off_policies("
    "  uuid TEXT PRIMARY KEY, company_uuid TEXT NOT NULL, name TEXT NOT NULL,"
    "  policy_type TEXT NOT NULL, accrual_rate TEXT NOT NULL, paid_out INTEGER NOT NULL,"
    "  rev INTEGER NOT NULL DEFAULT 1, active INTEGER NOT NULL DEFAULT 1,"
    "  doc TEXT NOT NULL DEFAULT '{}');"
    "CREATE TABLE IF NOT EXISTS time_off_activities("
    "  id INTEGER PRIMARY KEY, employee_uuid TEXT NOT NULL, policy_uuid TEXT NOT NULL,"
    "  time_off_type TEXT NOT NULL, event_type TEXT NOT NULL, event_description TEXT,"
    "  effective_time TEXT NOT NULL, balance TEXT NOT NULL, balance_change TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS tao_emp ON time_off_activities(employee_uuid, time_off_type, id);"
    "CREATE INDEX IF NOT EXISTS tao_policy ON time_off_activities(policy_uuid, employee_uuid, id);"
    "CREATE TABLE IF NOT EXISTS people_batches("
    "  uuid TEXT PRIMARY KEY, company_uuid TEXT NOT NULL,"
    "  idempotency_key TEXT NOT NULL COLLATE NOCASE, batch_action TEXT NOT NULL,"
    "  status TEXT NOT NULL, submitted_at TEXT NOT NULL, completed_at TEXT,"
    "  item_count INTEGER NOT NULL, external_ids TEXT NOT NULL, submitted_items INTEGER,"
    "  processed_items INTEGER NOT NULL DEFAULT 0, excluded_items INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE(company_uuid, idempotency_key));"
    "CREATE TABLE IF NOT EXISTS people_batch_results("
    "  batch_uuid TEXT NOT NULL, idx INTEGER NOT NULL, external_id TEXT NOT NULL,"
    "  status TEXT NOT NULL, employee_uuid TEXT, errors TEXT, attributes TEXT,"
    "  PRIMARY KEY(batch_uuid, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS bank_accounts("
    "  uuid TEXT PRIMARY KEY, employee_uuid TEXT NOT NULL, priority INTEGER NOT NULL,"
    "  name TEXT, account_type TEXT NOT NULL, routing_number TEXT NOT NULL,"
    "  hidden_account_number TEXT NOT NULL, split_by TEXT NOT NULL, split_amount INTEGER);"
    "CREATE INDEX IF NOT EXISTS bank_accounts_emp ON bank_accounts(employee_uuid, priority);"
    "CREATE TRIGGER IF NOT EXISTS bank_accounts_gone AFTER DELETE ON employees BEGIN"
    "  DELETE FROM bank_accounts WHERE employee_uuid=old.uuid; END;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    /* payrolls.c: how far each company's payrolls have run, and the
     * compensations they were paid at. */
    "CREATE TABLE IF NOT EXISTS payroll_runs("
    "  company_uuid TEXT PRIMARY KEY, processed_through TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS processed_compensations(uuid TEXT PRIMARY KEY);"
    /* records.c: read-mostly company records kept as Gusto's JSON (pay
     * schedules, earning types, signatories, federal tax details,
     * contractors, time-off requests), one kind per resource. */
    "CREATE TABLE IF NOT EXISTS company_records("
    "  kind TEXT NOT NULL, uuid TEXT NOT NULL, company_uuid TEXT NOT NULL,"
    "  seq INTEGER NOT NULL, rev INTEGER NOT NULL DEFAULT 1, doc TEXT NOT NULL,"
    "  PRIMARY KEY(kind, uuid));"
    "CREATE INDEX IF NOT EXISTS company_records_company ON company_records(kind,"
    "  company_uuid, seq);"
    /* auth.c: the environment (--as) a token was issued in. */
    "CREATE TABLE IF NOT EXISTS token_env("
    "  token_hash TEXT PRIMARY KEY, env TEXT NOT NULL);";

/* The database generation: it moves twice for every committed write, once
 * in SQLite's commit hook (before the commit) and once when the connection
 * settles (after it).  A reader that read generation g before its snapshot
 * began, and finds it unchanged, saw every write acknowledged before g;
 * rcache.c keys rendered text on it. */
static atomic_uint_fast64_t generation = 1;

uint64_t db_generation(void) { return (uint64_t)atomic_load(&generation); }

static int on_commit(void *arg)
{
    struct conn *c = arg;
    c->dirty = true;
    atomic_fetch_add(&generation, 1);
    return 0;
}

static void settle(struct conn *c)
{
    if (c && c->dirty && sqlite3_get_autocommit(c->db)) {
        c->dirty = false;
        atomic_fetch_add(&generation, 1);
    }
}

/* Waiting for the database.  SQLite's own busy timeout sleeps longer and
 * longer between tries (25, 50, then 100 ms), so a request blocked by the
 * people-batch worker could sleep through every gap the worker leaves
 * between its chunks and wait for the whole batch.  This handler tries
 * again every millisecond, for at least BUSY_LIMIT_MS in all, and stamps
 * each try, so the worker holds its gap open while anyone is waiting
 * (db_someone_waiting). */
#define BUSY_LIMIT_MS 10000
static _Atomic long long last_wait_ms;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int busy_retry(void *ud, int tries)
{
    (void)ud;
    if (tries >= BUSY_LIMIT_MS)
        return 0; /* each try slept at least 1 ms: the limit has passed */
    atomic_store(&last_wait_ms, mono_ms());
    struct timespec ms = {0, 1000000L};
    nanosleep(&ms, NULL);
    return 1;
}

bool db_someone_waiting(void)
{
    return mono_ms() - atomic_load(&last_wait_ms) <= 2;
}

/* Tag every token and refresh token this process stores with its --as
 * environment: temp triggers per connection, so the tag is this process's
 * whatever code wrote the row (auth.c, h_oauth_token.c), and a --data file shared
 * by two sandboxes keeps each token's own.  A trigger whose table does not
 * exist yet fails quietly (db_init and main.c call this again once the
 * schema and the OAuth tables exist).  The body names token_env without
 * "main.": SQLite allows no qualified names there, and finds it in main. */
void db_env_triggers(sqlite3 *db)
{
    static const char *const TABLES[] = {"tokens", "oauth_refresh"};
    for (size_t i = 0; i < sizeof TABLES / sizeof TABLES[0]; i++) {
        char sql[400];
        snprintf(sql, sizeof sql,
                 "CREATE TEMP TRIGGER IF NOT EXISTS %s_env_tag AFTER INSERT ON main.%s"
                 " BEGIN INSERT OR REPLACE INTO token_env(token_hash, env)"
                 " VALUES(new.token_hash, '%s'); END;",
                 TABLES[i], TABLES[i], sb_env_name());
        sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
}

static struct conn *conn_open(void)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI |
                SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(db_uri, &c->db, flags, NULL) != SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    sqlite3_busy_handler(c->db, busy_retry, NULL);
    sqlite3_commit_hook(c->db, on_commit, c);
    if (db_is_file) {
        db_exec(c->db, "PRAGMA journal_mode=WAL");
        /* NORMAL in WAL mode: a commit is in the OS before we answer, so a
         * kill -9 of this process loses nothing acknowledged. */
        db_exec(c->db, "PRAGMA synchronous=NORMAL");
    }
    db_exec(c->db, "PRAGMA foreign_keys=OFF");
    db_env_triggers(c->db);
    return c;
}


/* Columns added to tables after a release: a --data file written by an
 * older sandbox gets them here (SQLite has no ADD COLUMN IF NOT EXISTS, so
 * each is added only when PRAGMA table_info does not list it). */
static int add_columns(sqlite3 *db)
{
    static const struct { const char *table, *column, *decl; } ADDED[] = {
        {"departments", "rev", "INTEGER NOT NULL DEFAULT 1"},
        {"time_off_policies", "rev", "INTEGER NOT NULL DEFAULT 1"},
        {"time_off_policies", "active", "INTEGER NOT NULL DEFAULT 1"},
        {"time_off_policies", "doc", "TEXT NOT NULL DEFAULT '{}'"},
        {"people_batch_results", "attributes", "TEXT"},
    };
    for (size_t i = 0; i < sizeof ADDED / sizeof ADDED[0]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT 1 FROM pragma_table_info('%s') WHERE name='%s'",
                 ADDED[i].table, ADDED[i].column);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            return -1;
        bool present = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        if (present)
            continue;
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", ADDED[i].table,
                 ADDED[i].column, ADDED[i].decl);
        if (db_exec(db, sql) != 0)
            return -1;
    }
    return 0;
}

int db_init(const char *data_path, char *err, size_t errlen)
{
    /* SQLite's memory statistics take one process-wide mutex on every
     * sqlite3_malloc/free: with a connection per request thread that mutex
     * was the busiest lock in the sandbox (+65% GET throughput without it).
     * Only possible before SQLite initialises; a second db_init (the fuzz
     * harness resets) gets SQLITE_MISUSE, which is harmless. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (data_path) {
        db_is_file = true;
        /* A URI needs '?', '#' and '%' escaped; refuse them rather than
         * guess. */
        if (strpbrk(data_path, "?#%")) {
            snprintf(err, errlen, "--data: path may not contain ?, # or %%");
            return -1;
        }
        snprintf(db_uri, sizeof db_uri, "file:%s", data_path);
    } else {
        snprintf(db_uri, sizeof db_uri, "file:/gusto-sandbox-%ld?vfs=memdb",
                 (long)getpid());
    }
    struct conn *c = conn_open();
    if (!c) {
        snprintf(err, errlen, "cannot open database %s",
                 data_path ? data_path : "(memory)");
        return -1;
    }
    if (db_exec(c->db, SCHEMA) != 0 || add_columns(c->db) != 0) {
        snprintf(err, errlen, "cannot create schema: %s", sqlite3_errmsg(c->db));
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    db_env_triggers(c->db);
    pool_all[pool_count++] = c;
    return 0;
}

void db_shutdown(void)
{
    pthread_mutex_lock(&pool_lock);
    for (int i = 0; i < pool_count; i++) {
        struct conn *c = pool_all[i];
        for (int j = 0; j < c->ncache; j++)
            sqlite3_finalize(c->cache[j].st);
        free(c->cache);
        sqlite3_close(c->db);
        free(c);
    }
    pool_count = 0;
    atomic_fetch_add(&pool_epoch, 1);
    pthread_mutex_unlock(&pool_lock);
    rcache_clear();
}

static struct conn *conn_of(sqlite3 *db)
{
    /* pool_all only grows; entries never move. */
    for (int i = 0; i < pool_count; i++)
        if (pool_all[i]->db == db)
            return pool_all[i];
    return NULL;
}

static struct conn *conn_find(sqlite3 *db);

static bool claim(struct conn *c)
{
    bool expected = false;
    return atomic_compare_exchange_strong(&c->busy, &expected, true);
}

sqlite3 *db_acquire(void)
{
    struct conn *c = tl_last;
    if (!c || tl_last_epoch != atomic_load(&pool_epoch) || !claim(c)) {
        c = NULL;
        pthread_mutex_lock(&pool_lock);
        for (int i = 0; i < pool_count && !c; i++)
            if (claim(pool_all[i]))
                c = pool_all[i];
        if (!c && pool_count < (int)(sizeof pool_all / sizeof pool_all[0])) {
            c = conn_open();
            if (c) {
                atomic_store(&c->busy, true);
                pool_all[pool_count++] = c;
            }
        }
        tl_last_epoch = atomic_load(&pool_epoch);
        pthread_mutex_unlock(&pool_lock);
    }
    tl_conn = c;
    tl_last = c;
    return c ? c->db : NULL;
}

void db_release(sqlite3 *db)
{
    if (!db)
        return;
    db_rollback(db);
    struct conn *c = conn_find(db);
    settle(c);
    if (tl_conn == c)
        tl_conn = NULL;
    if (c)
        atomic_store(&c->busy, false);
}

static struct conn *conn_find(sqlite3 *db)
{
    struct conn *c = tl_conn;
    if (!c || c->db != db) {
        pthread_mutex_lock(&pool_lock);
        c = conn_of(db);
        pthread_mutex_unlock(&pool_lock);
    }
    return c;
}

void db_settle(sqlite3 *db)
{
    if (db)
        settle(conn_find(db));
}

sqlite3_stmt *db_stmt(sqlite3 *db, const char *sql)
{
    struct conn *c = conn_find(db);
    /* An autocommit write committed inside its sqlite3_step(). */
    settle(c);
    if (c) {
        for (int i = 0; i < c->ncache; i++) {
            if (c->cache[i].sql == sql) {
                sqlite3_stmt *st = c->cache[i].st;
                sqlite3_reset(st);
                sqlite3_clear_bindings(st);
                return st;
            }
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "gusto-sandbox: SQL error: %s\n  in: %s\n",
                sqlite3_errmsg(db), sql);
        return NULL;
    }
    if (c && c->ncache == c->capcache) {
        int cap = c->capcache ? c->capcache * 2 : 64;
        struct cached *nc = realloc(c->cache, (size_t)cap * sizeof *nc);
        if (!nc) {
            sqlite3_finalize(st);
            return NULL;
        }
        c->cache = nc;
        c->capcache = cap;
    }
    if (c) {
        c->cache[c->ncache].sql = sql;
        c->cache[c->ncache].st = st;
        c->ncache++;
    }
    /* Every SQL string is a literal with a fixed address, so the cache
     * holds one statement per call site and never grows past that. */
    return st;
}

int db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    /* Not conn_find(): conn_open() runs this under pool_lock. */
    if (tl_conn && tl_conn->db == db)
        settle(tl_conn);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "gusto-sandbox: SQL error: %s\n", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Transaction control through the statement cache: sqlite3_exec would
 * parse "BEGIN"/"COMMIT" again on every request. */
static const char SQL_BEGIN[] = "BEGIN";
static const char SQL_BEGIN_IMMEDIATE[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";

static int run_cached(sqlite3 *db, const char *sql, bool quiet)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    settle(conn_find(db));
    if (rc != SQLITE_DONE) {
        if (!quiet)
            fprintf(stderr, "gusto-sandbox: SQL error: %s\n", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

int db_begin_write(sqlite3 *db) { return run_cached(db, SQL_BEGIN_IMMEDIATE, false); }
int db_begin_read(sqlite3 *db) { return run_cached(db, SQL_BEGIN, true); }
int db_commit(sqlite3 *db) { return run_cached(db, SQL_COMMIT, false); }
int db_commit_read(sqlite3 *db) { return run_cached(db, SQL_COMMIT, true); }
void db_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        run_cached(db, SQL_ROLLBACK, false);
}

void db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

char *db_json_text(const json_t *doc)
{
    return json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

json_t *db_col_json(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (!t)
        return NULL;
    return json_loads((const char *)t, 0, NULL);
}

const char *db_col_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}
