/* store.h - the directory mirror: companies with their sync leases,
 * employees' current profiles with content hashes, the event log, event
 * sink cursors and the sync run log.  One schema and one set of statements
 * for SQLite and PostgreSQL (through sdb.h).
 *
 * Tables (prefixed gusto_ so a shared PostgreSQL database stays tidy):
 *   gusto_companies    company_uuid, name, generation (bumped by every
 *                      snapshot that changed something), synced_at,
 *                      checked_at, counts, lease_owner/token/expires_ms
 *   gusto_employees    (company_uuid, employee_uuid), rev (bumped on every
 *                      content change), status, content_hash, entry_hash
 *                      (of the raw list entry), emails (lower case),
 *                      profile (JSON), extra (JSON fetched per employee)
 *   gusto_events       id, event_id (stable), company, employee, rev, type,
 *                      generation, payload; UNIQUE(company, employee, rev)
 *   gusto_sink_cursors sink, last_event_id delivered
 *   gusto_sync_runs    one row per company sync: worker, start, end, status
 *   gusto_meta         schema_version; confirmed:COMPANY, when a --confirm
 *                      sync last wrote departures
 */
#ifndef GUSTO_SYNC_STORE_H
#define GUSTO_SYNC_STORE_H

#include "lib/sdb.h"

#include <stdbool.h>
#include <stddef.h>

struct mstore {
    struct sdb *db;
    bool empty;              /* read-only and no schema yet: nothing stored */
    char target[512];        /* redacted, for messages */
};

struct mstore *mstore_open(const char *target, bool readonly, char *err, size_t errlen);
void mstore_close(struct mstore *st);
const char *mstore_error(const struct mstore *st);

struct mcompany {
    bool exists;
    char name[256];
    long long generation;
    long long employees, active;
    char synced_at[40];      /* last snapshot that changed something */
    char checked_at[40];     /* last successful sync */
    long long checked_at_ms;
    char lease_owner[128];
    long long lease_expires_ms;
};
int mstore_company_get(struct mstore *st, const char *company, struct mcompany *out);

/* Leases: one worker per company.  acquire: 0 got it (token filled), 1 held
 * by someone else (holder filled), -1 error.  renew: 0, 1 lost, -1 error. */
int mstore_lease_acquire(struct mstore *st, const char *company, const char *owner,
                         long ttl_ms, char token[33], struct mcompany *holder);
int mstore_lease_renew(struct mstore *st, const char *company, const char *token,
                       long ttl_ms);
void mstore_lease_release(struct mstore *st, const char *company, const char *token);
/* Take over a lease whose holder is known to be dead (dead: the holder as
 * mstore_lease_acquire() filled it).  0 taken (token filled), 1 it changed
 * meanwhile (renewed or taken by another), -1 error. */
int mstore_lease_takeover(struct mstore *st, const char *company, const struct mcompany *dead,
                          const char *owner, long ttl_ms, char token[33]);

/* The stored state of one employee, for change detection. */
struct mrow {
    const char *uuid;
    long long rev;
    const char *status;
    const char *content_hash;
    const char *entry_hash;
    const char *extra;       /* JSON text or NULL */
};
typedef int (*mrow_fn)(void *ud, const struct mrow *row);
int mstore_load_rows(struct mstore *st, const char *company, mrow_fn each, void *ud);

/* The stored profile JSON (malloc'd) of one employee, NULL when none. */
char *mstore_profile(struct mstore *st, const char *company, const char *employee);

/* ---- writing one snapshot, inside mstore_begin()/mstore_commit() ---- */

int mstore_begin(struct mstore *st);
int mstore_commit(struct mstore *st);
void mstore_rollback(struct mstore *st);

/* Check the lease is still ours, record the snapshot's company facts and
 * release the lease, all in the open transaction.  gen_delta 1 when the
 * snapshot changed something.  0 (generation_out filled), 1 lease lost,
 * -1 error. */
int mstore_fence(struct mstore *st, const char *company, const char *token,
                 const char *name, int gen_delta, long long employees, long long active,
                 const char *now_iso, long long now_ms, long long *generation_out);

struct mput {
    const char *uuid;
    long long old_rev;       /* 0: a new row */
    long long new_rev;       /* == old_rev: only entry_hash/extra change */
    const char *status;
    const char *content_hash;
    const char *entry_hash;
    const char *work_email;  /* lower case or NULL */
    const char *personal_email;
    const char *profile;
    const char *extra;
    long long generation;
    const char *updated_at;
};
/* 0 written, 1 the row changed under us (another writer), -1 error. */
int mstore_put(struct mstore *st, const char *company, const struct mput *row);

/* Append an event; 0 inserted (*id set), 1 already there, -1 error. */
int mstore_add_event(struct mstore *st, const char *event_id, const char *company,
                     const char *employee, long long rev, const char *type,
                     long long generation, const char *created_at, const char *payload,
                     long long *id);

int mstore_add_run(struct mstore *st, const char *company, const char *worker,
                   long long started_ms, long long finished_ms, long long generation,
                   const char *status, const char *summary);

/* ---- events and sinks ---- */

long long mstore_max_event_id(struct mstore *st);
/* 0 found, 1 no cursor yet, -1 error. */
int mstore_cursor_get(struct mstore *st, const char *sink, long long *out);
int mstore_cursor_init(struct mstore *st, const char *sink, long long value);
/* Move the cursor from old to new: 0 moved, 1 someone else moved it, -1. */
int mstore_cursor_move(struct mstore *st, const char *sink, long long old, long long next);
typedef int (*mevent_fn)(void *ud, long long id, const char *payload);
int mstore_events_after(struct mstore *st, long long after, int limit, mevent_fn each,
                        void *ud);
long long mstore_count(struct mstore *st, const char *what);

/* employee.terminated events of company created at or after since_iso (the
 * events' own ISO-8601 UTC text, so it compares as text): the departures a
 * window already holds.  The count, or -1 on error. */
long long mstore_departures_since(struct mstore *st, const char *company,
                                  const char *since_iso);

/* When a sync with --confirm last wrote departures for company (ISO-8601
 * UTC, "" when never): the safeguard's window starts there at the
 * earliest, so departures a person accepted are not counted again.  get: 0
 * or -1; set: 0 or -1. */
int mstore_confirmed_get(struct mstore *st, const char *company, char out[40]);
int mstore_confirmed_set(struct mstore *st, const char *company, const char *when_iso);

/* ---- lookups for gusto-connect profile ---- */

struct mfound {
    const char *company;
    const char *company_name;
    const char *employee;
    const char *status;
    const char *profile;
    const char *updated_at;  /* when this employee's row last changed */
    const char *checked_at;  /* the company's last successful sync */
    long long checked_at_ms;
    long long generation;
};
typedef int (*mfound_fn)(void *ud, const struct mfound *f);
/* Employees whose work or personal email is `email` (any case). */
int mstore_find_email(struct mstore *st, const char *email, mfound_fn each, void *ud);

/* The mirror to use: `given` (--db), else $GUSTO_SYNC_DB, else
 * $XDG_DATA_HOME/gusto-connect/mirror.db or
 * ~/.local/share/gusto-connect/mirror.db (moved there first, once, from the
 * old .../gusto/mirror.db: mstore_migrate()).
 * create_dir: make a SQLite file's directory (mode 0700).  0 or -1. */
int mstore_target(const char *given, bool create_dir, char *out, size_t cap, char *err,
                  size_t errlen);

/* Move the default mirror from its old place ($XDG_DATA_HOME/gusto/ or
 * ~/.local/share/gusto/mirror.db, with -wal and -shm) to the new default,
 * once, never replacing anything; not when GUSTO_SYNC_DB is set.  1 when
 * it moved (from[cap], may be NULL, receives the old path), 0 when there
 * was nothing to move, -1 with err filled. */
int mstore_migrate(char *from, size_t cap, char *err, size_t errlen);

#endif
