/* sdb_pg.c - the PostgreSQL backend of sdb, through libpq: statements are
 * prepared once per connection (cached by their SQL text's address) and run
 * with text parameters; server notices are dropped. */
#include "lib/sdb_impl.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MAX 64

struct sdb_pg {
    struct sdb base;
    PGconn *conn;
    struct {
        const char *sql;
        char name[16];
    } cache[CACHE_MAX];
    int ncache;
};

/* libpq's messages span lines; keep them on one, trimmed. */
static void one_line(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        char ch = *p == '\n' || *p == '\t' || *p == '\r' ? ' ' : *p;
        if (ch == ' ' && (o == s || o[-1] == ' '))
            continue;
        *o++ = ch;
    }
    while (o > s && o[-1] == ' ')
        o--;
    *o = 0;
}

static void set_err(struct sdb_pg *p, const char *what, const PGresult *res)
{
    const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(p->conn);
    char msg[400];
    snprintf(msg, sizeof msg, "%s", m && *m ? m : "error");
    one_line(msg);
    snprintf(p->base.error, sizeof p->base.error, "%s: %s", what, msg);
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* The prepared statement's name for sql, preparing it on first use; NULL
 * when the cache is full (the caller then runs it unprepared). */
static const char *prepared(struct sdb_pg *p, const char *sql, int n, bool *failed)
{
    *failed = false;
    for (int i = 0; i < p->ncache; i++)
        if (p->cache[i].sql == sql)
            return p->cache[i].name;
    if (p->ncache >= CACHE_MAX)
        return NULL;
    char name[16];
    snprintf(name, sizeof name, "s%d", p->ncache);
    PGresult *res = PQprepare(p->conn, name, sql, n, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        set_err(p, "PostgreSQL prepare", res);
        PQclear(res);
        *failed = true;
        return NULL;
    }
    PQclear(res);
    p->cache[p->ncache].sql = sql;
    snprintf(p->cache[p->ncache].name, sizeof p->cache[p->ncache].name, "%s", name);
    return p->cache[p->ncache++].name;
}

#define BYTEAOID 17 /* pg_type.oid of bytea, fixed since PostgreSQL 7 */

static int pg_exec(struct sdb *db, const char *sql, int n, const char *const *params,
                   const int *lens, sdb_brow_fn each, void *ud, long *changes)
{
    struct sdb_pg *p = (struct sdb_pg *)db;
    bool failed;
    const char *name = prepared(p, sql, n, &failed);
    if (failed)
        return -1;
    int formats[64] = {0};
    if (lens && n > 64) {
        snprintf(p->base.error, sizeof p->base.error, "over 64 binary parameters");
        return -1;
    }
    for (int i = 0; lens && i < n; i++)
        formats[i] = lens[i] >= 0; /* 1: binary, which for bytea is its bytes */
    const int *plens = lens, *pfmts = lens ? formats : NULL;
    PGresult *res = name ? PQexecPrepared(p->conn, name, n, params, plens, pfmts, 0)
                         : PQexecParams(p->conn, sql, n, NULL, params, plens, pfmts, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        set_err(p, "PostgreSQL", res);
        PQclear(res);
        return -1;
    }
    if (changes) {
        const char *t = PQcmdTuples(res);
        *changes = t && *t ? strtol(t, NULL, 10) : 0;
    }
    if (each && st == PGRES_TUPLES_OK) {
        int rows = PQntuples(res), ncols = PQnfields(res);
        if (ncols > 64)
            ncols = 64;
        const char *vals[64];
        int vlens[64];
        unsigned char *bin[64];
        bool stop = false;
        for (int r = 0; r < rows && !stop; r++) {
            bool ok = true;
            for (int c = 0; c < ncols; c++) {
                bin[c] = NULL;
                vals[c] = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
                vlens[c] = vals[c] ? PQgetlength(res, r, c) : -1;
                if (vals[c] && PQftype(res, c) == BYTEAOID) {
                    size_t len = 0;
                    bin[c] = PQunescapeBytea((const unsigned char *)vals[c], &len);
                    ok = ok && bin[c] && len <= 0x7fffffff;
                    vals[c] = (const char *)bin[c];
                    vlens[c] = (int)len;
                }
            }
            if (!ok)
                snprintf(p->base.error, sizeof p->base.error, "out of memory");
            stop = !ok || each(ud, ncols, vals, vlens);
            for (int c = 0; c < ncols; c++)
                PQfreemem(bin[c]);
            if (!ok) {
                PQclear(res);
                return -1;
            }
        }
    }
    PQclear(res);
    return 0;
}

static int pg_script(struct sdb *db, const char *sql)
{
    struct sdb_pg *p = (struct sdb_pg *)db;
    PGresult *res = PQexec(p->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
    if (rc)
        set_err(p, "PostgreSQL", res);
    PQclear(res);
    return rc;
}

static int pg_begin(struct sdb *db)
{
    return pg_script(db, "BEGIN");
}

static int pg_commit(struct sdb *db)
{
    return pg_script(db, "COMMIT");
}

static void pg_rollback(struct sdb *db)
{
    struct sdb_pg *p = (struct sdb_pg *)db;
    if (PQtransactionStatus(p->conn) != PQTRANS_IDLE)
        PQclear(PQexec(p->conn, "ROLLBACK"));
}

static int one_value(void *ud, int ncols, const char *const *vals, const int *lens)
{
    (void)lens;
    if (ncols > 0 && vals[0])
        *(long long *)ud = strtoll(vals[0], NULL, 10);
    return 1;
}

static long long pg_now_ms(struct sdb *db)
{
    static const char *sql = "SELECT CAST(extract(epoch from clock_timestamp()) * 1000 AS BIGINT)";
    long long v = -1;
    if (pg_exec(db, sql, 0, NULL, NULL, one_value, &v, NULL) != 0)
        return -1;
    return v;
}

static void pg_close(struct sdb *db)
{
    struct sdb_pg *p = (struct sdb_pg *)db;
    PQfinish(p->conn);
    free(p);
}

static const struct sdb_ops OPS = {pg_exec, pg_script, pg_begin, pg_commit,
                                   pg_rollback, pg_now_ms, pg_close};

struct sdb *sdb_pg_open(const char *url, bool readonly, char *err, size_t errlen)
{
    struct sdb_pg *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->base.ops = &OPS;
    p->base.kind = SDB_POSTGRES;
    p->conn = PQconnectdb(url);
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        char msg[400] = "out of memory";
        if (p->conn)
            snprintf(msg, sizeof msg, "%s", PQerrorMessage(p->conn));
        one_line(msg);
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s", msg);
        PQfinish(p->conn);
        free(p);
        return NULL;
    }
    PQsetNoticeProcessor(p->conn, ignore_notice, NULL);
    if (readonly && pg_script(&p->base, "SET default_transaction_read_only = on") != 0) {
        snprintf(err, errlen, "%s", p->base.error);
        PQfinish(p->conn);
        free(p);
        return NULL;
    }
    return &p->base;
}
