/* sdb.h - one small SQL interface over two backends, SQLite (sdb_sqlite.c)
 * and PostgreSQL through libpq (sdb_pg.c), so the mirror store (store.c)
 * is written once: same statements, same schema, same behaviour.
 *
 * Statements use PostgreSQL's $1..$N placeholders, which SQLite also
 * accepts (bound by name here).  Parameters and results travel as text;
 * NULL is a NULL pointer.  Write statements in the dialect both share:
 * INSERT ... ON CONFLICT, RETURNING, CAST(x AS BIGINT).  Binary values
 * go through sdb_exec_bin(). */
#ifndef GUSTO_LIB_SDB_H
#define GUSTO_LIB_SDB_H

#include <stdbool.h>
#include <stddef.h>

struct sdb;

/* Called once per result row; vals[i] is NULL for SQL NULL.  Return
 * non-zero to stop reading rows (the statement still succeeds). */
typedef int (*sdb_row_fn)(void *ud, int ncols, const char *const *vals);

enum sdb_kind { SDB_SQLITE, SDB_POSTGRES };

/* Open `target`: "postgres://..." or "postgresql://..." (libpq), anything
 * else is a SQLite file path.  readonly: SQLite opens the file read-only
 * and fails when it does not exist; a PostgreSQL session is made read-only
 * (default_transaction_read_only).  Returns NULL with a message in err. */
struct sdb *sdb_open(const char *target, bool readonly, char *err, size_t errlen);
void sdb_close(struct sdb *db);
enum sdb_kind sdb_kind(const struct sdb *db);

/* Run one statement with n parameters.  each may be NULL.  Returns 0, or
 * -1 with the message in sdb_error().  *changes, when not NULL, receives
 * the number of rows the statement inserted, updated or deleted. */
int sdb_exec(struct sdb *db, const char *sql, int n, const char *const *params,
             sdb_row_fn each, void *ud, long *changes);

/* sdb_exec() with binary values.  lens[i] >= 0 binds params[i] as that
 * many bytes (a BLOB in SQLite, a bytea in PostgreSQL); -1 binds it as
 * text.  each receives every value's length as well, and a BLOB or bytea
 * column as its bytes (PostgreSQL's hex text is decoded). */
typedef int (*sdb_brow_fn)(void *ud, int ncols, const char *const *vals, const int *lens);
int sdb_exec_bin(struct sdb *db, const char *sql, int n, const char *const *params,
                 const int *lens, sdb_brow_fn each, void *ud, long *changes);

/* Several statements without parameters or results (schema). */
int sdb_script(struct sdb *db, const char *sql);

/* Transactions: BEGIN (IMMEDIATE for SQLite, so writers queue at once),
 * COMMIT and ROLLBACK.  0 or -1. */
int sdb_begin(struct sdb *db);
int sdb_commit(struct sdb *db);
void sdb_rollback(struct sdb *db);

/* The last error, "" when none. */
const char *sdb_error(const struct sdb *db);

/* The current time in ms since the epoch, from the database server for
 * PostgreSQL (so workers on several machines agree on lease expiry) and
 * from this machine's clock for SQLite.  -1 on error. */
long long sdb_now_ms(struct sdb *db);

/* The target for messages, with any password replaced by "***". */
void sdb_redact(const char *target, char *out, size_t cap);

/* Is target a PostgreSQL URL? */
bool sdb_is_postgres(const char *target);

#endif
