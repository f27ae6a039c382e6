/* sdb.c - picks the backend for a target (PostgreSQL URL or SQLite path)
 * and forwards every call to it; also redacts passwords from targets. */
#include "lib/sdb_impl.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

bool sdb_is_postgres(const char *target)
{
    return target && (strncasecmp(target, "postgres://", 11) == 0 ||
                      strncasecmp(target, "postgresql://", 13) == 0);
}

struct sdb *sdb_open(const char *target, bool readonly, char *err, size_t errlen)
{
    if (!target || !*target) {
        snprintf(err, errlen, "no database given");
        return NULL;
    }
    if (sdb_is_postgres(target))
        return sdb_pg_open(target, readonly, err, errlen);
    return sdb_sqlite_open(target, readonly, err, errlen);
}

void sdb_close(struct sdb *db)
{
    if (db)
        db->ops->close(db);
}

enum sdb_kind sdb_kind(const struct sdb *db)
{
    return db->kind;
}

/* sdb_exec()'s callback behind the backends' length-aware one. */
struct text_rows {
    sdb_row_fn each;
    void *ud;
};

static int text_row(void *ud, int ncols, const char *const *vals, const int *lens)
{
    (void)lens;
    const struct text_rows *t = ud;
    return t->each(t->ud, ncols, vals);
}

int sdb_exec(struct sdb *db, const char *sql, int n, const char *const *params,
             sdb_row_fn each, void *ud, long *changes)
{
    struct text_rows t = {each, ud};
    return sdb_exec_bin(db, sql, n, params, NULL, each ? text_row : NULL, &t, changes);
}

int sdb_exec_bin(struct sdb *db, const char *sql, int n, const char *const *params,
                 const int *lens, sdb_brow_fn each, void *ud, long *changes)
{
    if (changes)
        *changes = 0;
    db->error[0] = 0;
    return db->ops->exec(db, sql, n, params, lens, each, ud, changes);
}

int sdb_script(struct sdb *db, const char *sql)
{
    db->error[0] = 0;
    return db->ops->script(db, sql);
}

int sdb_begin(struct sdb *db)
{
    db->error[0] = 0;
    return db->ops->begin(db);
}

int sdb_commit(struct sdb *db)
{
    return db->ops->commit(db);
}

void sdb_rollback(struct sdb *db)
{
    db->ops->rollback(db);
}

const char *sdb_error(const struct sdb *db)
{
    return db ? db->error : "";
}

long long sdb_now_ms(struct sdb *db)
{
    return db->ops->now_ms(db);
}

void sdb_redact(const char *target, char *out, size_t cap)
{
    snprintf(out, cap, "%s", target ? target : "");
    if (!sdb_is_postgres(out))
        return;
    /* postgres://user:password@host/... -> postgres://user:***@host/... */
    char *scheme = strstr(out, "://");
    char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    if (!at)
        return;
    char *colon = memchr(scheme + 3, ':', (size_t)(at - (scheme + 3)));
    if (!colon)
        return;
    char rest[1024];
    snprintf(rest, sizeof rest, "%s", at);
    snprintf(colon, cap - (size_t)(colon - out), ":***%s", rest);
}
