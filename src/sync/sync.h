/* sync.h - the sync engine: mirror one company's employees into the store
 * and record what changed, with the fewest requests.
 *
 * One company sync: take the company's lease; read every list page (per=100)
 * with the richest include; skip each entry whose raw text hashes as
 * before; normalize the others (profile.h), fetching per employee only what
 * the entry lacks; compare content hashes; check the termination safeguard;
 * then write the changed rows, their events, the company's new generation
 * and the run log in one transaction that first checks the lease is still
 * ours.  Nothing is written until every page has been read, so a failure or
 * a kill leaves the previous snapshot whole, and a re-run makes the same
 * events with the same ids (they are keyed by company, employee and the
 * employee's revision, so never twice).
 *
 * The termination safeguard (max_terminated_pct) counts this run's
 * departures plus the company's employee.terminated events of the last
 * SYNC_DEPARTURE_WINDOW_S, so departures one run at a time add up. */
#ifndef GUSTO_SYNC_SYNC_H
#define GUSTO_SYNC_SYNC_H

#include "gusto.h"
#include "sync/sink.h"
#include "sync/store.h"

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

#define SYNC_LIST_INCLUDE "all_compensations,current_home_address,custom_fields,company_name"
#define SYNC_PER_PAGE 100
/* The termination safeguard counts the departures the mirror recorded for
 * the company over this window too, not only the run's own. */
#define SYNC_DEPARTURE_WINDOW_S (24 * 3600)

/* Before a per-employee phase starts: its estimate (one member of
 * sync_result.estimates: {"phase","what","requests","rate_per_minute",
 * "seconds"}), for the caller to show. */
struct sync_result;
typedef void (*sync_estimate_fn)(void *ud, const struct sync_result *res,
                                 const json_t *estimate);

/* Gusto's rate limit: 200 requests per minute per grant
 * (docs.gusto.com/app-integrations/docs/rate-limits). */
#define SYNC_GUSTO_RATE_PER_MIN 200

struct sync_opts {
    bool dry_run;            /* compute and report, write nothing; over the termination
                                threshold it reports who would go (needs_confirm)
                                instead of refusing */
    bool confirm;            /* accept a sync over the termination threshold */
    double max_terminated_pct; /* share of active employees; default 20 */
    long lease_ttl_ms;       /* default 300000 */
    const char *worker;      /* lease owner name; HOST:PID or NAME@HOST:PID lets a
                                later run take the lease over at once when that
                                process has died */
    bool keep_events;        /* keep the written events in the result (for stdout);
                                a dry run always keeps them */
    volatile sig_atomic_t *interrupted; /* set (by a signal handler): stop before the
                                write, status "interrupted", the lease released */
    int rate_per_minute;     /* the client's rate limit, for estimates; 0 or less:
                                Gusto's SYNC_GUSTO_RATE_PER_MIN */
    sync_estimate_fn estimate; /* or NULL */
    void *estimate_ud;
};

/* What a progress display needs; updated as the sync goes. */
struct sync_status {
    const char *company;
    const char *name;        /* the company's name once known, else "" */
    const char *phase;       /* "lease", "list", "fetch", "write", "deliver" */
    size_t employees;        /* list entries read */
    size_t expected;         /* employees in the previous snapshot (0: unknown) */
    int page;
    size_t fetched, to_fetch;
    unsigned long requests;  /* sent for this company so far */
};

typedef void (*sync_progress_fn)(void *ud, const struct sync_status *st);

/* The outcome for one company. */
struct sync_result {
    char company[40];
    char name[256];
    const char *status;      /* synced, unchanged, dry_run, leased, refused, failed,
                                interrupted */
    long created, updated, terminated, rehired, unchanged;
    json_t *skipped;         /* [{"employee_uuid", "reason"}] */
    json_t *events;          /* the events written when keep_events (or, dry run, that
                                would be) */
    long events_written;
    size_t employees;        /* list entries read */
    long long active_before, active_after;
    unsigned long requests, list_requests, employee_requests;
    long rows_written;
    long long generation;
    long long duration_ms;
    unsigned waits;          /* rate-limit pauses (filled by the caller's wait hook) */
    long wait_ms;
    char message[600];       /* why it failed, was refused or was leased */
    json_t *would_terminate; /* refused, or a dry run with departures: every one,
                                [{"employee_uuid","name","work_email","personal_email",
                                "reason","termination_date"}]; else NULL */
    bool needs_confirm;      /* a dry run over the threshold: a real run needs confirm */
    json_t *estimates;       /* the per-employee phases' estimates, in order */
    gusto_error err;         /* when an API call failed */
    int lease_lost;
};

void sync_result_init(struct sync_result *r);
void sync_result_free(struct sync_result *r);

/* Sync one company.  Returns 0 when the sync finished (synced, unchanged,
 * dry_run) and -1 otherwise (status says why). */
int sync_company(struct mstore *st, gusto_client *client, const char *company,
                 const struct sync_opts *o, sync_progress_fn progress, void *ud,
                 struct sync_result *res);

/* Sync one employee of a company (a webhook said it changed): one GET of
 * the employee (plus its work addresses when it changed), the same change
 * detection, events and one-transaction write as a company sync; the other
 * employees' rows are left as stored.  A departure (a 404, or a status that
 * is no longer active) is never taken from that one GET: without confirm,
 * the company is synced instead, so the list confirms it and the safeguard
 * sees it; res then holds that company sync's result.  Returns as
 * sync_company(). */
int sync_employee(struct mstore *st, gusto_client *client, const char *company,
                  const char *employee, const struct sync_opts *o, struct sync_result *res);

/* The result as JSON (for the envelope).  New reference. */
json_t *sync_result_json(const struct sync_result *r, bool with_events);

/* Deliver events to a sink.  A sink with a cursor gets every event after
 * its cursor (set to the newest event the first time the sink is used, so
 * it starts with this run); stdout gets `fresh` (this run's events).
 * *sent receives the count.  0, or -1 with a message (the cursor then stays
 * at the last event delivered, so the next run resumes there). */
int sync_deliver_prepare(struct mstore *st, struct sink *sink, char *err, size_t errlen);
int sync_deliver(struct mstore *st, struct sink *sink, const json_t *fresh, long *sent,
                 char *err, size_t errlen);

#endif
