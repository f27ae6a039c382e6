/* sdb_impl.h - what the two sdb backends (sdb_sqlite.c, sdb_pg.c) provide
 * to the dispatcher in sdb.c: a table of functions and a shared header. */
#ifndef GUSTO_LIB_SDB_IMPL_H
#define GUSTO_LIB_SDB_IMPL_H

#include "lib/sdb.h"

struct sdb_ops {
    /* lens NULL: every parameter is text. */
    int (*exec)(struct sdb *db, const char *sql, int n, const char *const *params,
                const int *lens, sdb_brow_fn each, void *ud, long *changes);
    int (*script)(struct sdb *db, const char *sql);
    int (*begin)(struct sdb *db);
    int (*commit)(struct sdb *db);
    void (*rollback)(struct sdb *db);
    long long (*now_ms)(struct sdb *db);
    void (*close)(struct sdb *db);
};

/* Every backend's handle starts with this. */
struct sdb {
    const struct sdb_ops *ops;
    enum sdb_kind kind;
    char error[512];
};

struct sdb *sdb_sqlite_open(const char *path, bool readonly, char *err, size_t errlen);
struct sdb *sdb_pg_open(const char *url, bool readonly, char *err, size_t errlen);

#endif
