/* sdb_sqlite.c - the SQLite backend of sdb: a file in WAL mode, private
 * (mode 0600), writers queued by BEGIN IMMEDIATE and a busy timeout, and
 * prepared statements cached by their SQL text's address. */
#include "lib/sdb_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CACHE_MAX 64

struct sdb_sqlite {
    struct sdb base;
    sqlite3 *db;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[CACHE_MAX];
    int ncache;
};

static void set_err(struct sdb_sqlite *s, const char *what)
{
    snprintf(s->base.error, sizeof s->base.error, "%s: %s", what, sqlite3_errmsg(s->db));
}

static sqlite3_stmt *stmt(struct sdb_sqlite *s, const char *sql)
{
    for (int i = 0; i < s->ncache; i++)
        if (s->cache[i].sql == sql)
            return s->cache[i].st;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        set_err(s, "SQLite prepare");
        return NULL;
    }
    if (s->ncache < CACHE_MAX) {
        s->cache[s->ncache].sql = sql;
        s->cache[s->ncache].st = st;
        s->ncache++;
    }
    return st;
}

static bool cached(const struct sdb_sqlite *s, const sqlite3_stmt *st)
{
    for (int i = 0; i < s->ncache; i++)
        if (s->cache[i].st == st)
            return true;
    return false;
}

static int lite_exec(struct sdb *db, const char *sql, int n, const char *const *params,
                     const int *lens, sdb_brow_fn each, void *ud, long *changes)
{
    struct sdb_sqlite *s = (struct sdb_sqlite *)db;
    sqlite3_stmt *st = stmt(s, sql);
    if (!st)
        return -1;
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx == 0)
            continue;
        if (params[i] && lens && lens[i] >= 0)
            sqlite3_bind_blob(st, idx, params[i], lens[i], SQLITE_TRANSIENT);
        else if (params[i])
            sqlite3_bind_text(st, idx, params[i], -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, idx);
    }
    int rc, ncols = sqlite3_column_count(st);
    const char *vals[64];
    int vlens[64];
    if (ncols > 64)
        ncols = 64;
    bool stop = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!each || stop)
            continue;
        for (int c = 0; c < ncols; c++) {
            int type = sqlite3_column_type(st, c);
            /* The pointer first, then its length (SQLite's order rule). */
            vals[c] = type == SQLITE_NULL   ? NULL
                      : type == SQLITE_BLOB ? sqlite3_column_blob(st, c)
                                            : (const char *)sqlite3_column_text(st, c);
            vlens[c] = vals[c] ? sqlite3_column_bytes(st, c) : -1;
            if (type == SQLITE_BLOB && !vals[c]) { /* a zero-length blob */
                vals[c] = "";
                vlens[c] = 0;
            }
        }
        if (each(ud, ncols, vals, vlens))
            stop = true;
    }
    if (rc != SQLITE_DONE)
        set_err(s, "SQLite");
    else if (changes)
        *changes = sqlite3_changes(s->db);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (!cached(s, st))
        sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int lite_script(struct sdb *db, const char *sql)
{
    struct sdb_sqlite *s = (struct sdb_sqlite *)db;
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(s->base.error, sizeof s->base.error, "SQLite: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int lite_begin(struct sdb *db)
{
    return lite_script(db, "BEGIN IMMEDIATE");
}

static int lite_commit(struct sdb *db)
{
    return lite_script(db, "COMMIT");
}

static void lite_rollback(struct sdb *db)
{
    struct sdb_sqlite *s = (struct sdb_sqlite *)db;
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static long long lite_now_ms(struct sdb *db)
{
    (void)db;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void lite_close(struct sdb *db)
{
    struct sdb_sqlite *s = (struct sdb_sqlite *)db;
    for (int i = 0; i < s->ncache; i++)
        sqlite3_finalize(s->cache[i].st);
    sqlite3_close(s->db);
    free(s);
}

static const struct sdb_ops OPS = {lite_exec, lite_script, lite_begin, lite_commit,
                                   lite_rollback, lite_now_ms, lite_close};

struct sdb *sdb_sqlite_open(const char *path, bool readonly, char *err, size_t errlen)
{
    struct stat sb;
    if (readonly && stat(path, &sb) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (!readonly && strcmp(path, ":memory:") != 0 && stat(path, &sb) != 0) {
        /* The mirror holds personal data: create it private. */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return NULL;
        }
        if (fd >= 0)
            close(fd);
    }
    struct sdb_sqlite *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &OPS;
    s->base.kind = SDB_SQLITE;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sqlite3_close(s->db);
        free(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 30000);
    if (!readonly) {
        sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    }
    return &s->base;
}
