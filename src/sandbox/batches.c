/* batches.c - the people-batch worker: one thread, fed by a queue, that
 * turns each entry of a batch into an employee with its home address, work
 * address, job, compensation, department and bank accounts.
 *
 * Entries are processed in order.  Each one runs inside a SAVEPOINT, so a
 * person who fails leaves nothing behind; people are committed in chunks
 * (about 33 ms per transaction, then a 15 ms pause) so a large batch is
 * fast and other requests still get the database between chunks.  Each entry's
 * result row is written in the same transaction as the person, so a poll
 * never sees an employee without its result or the reverse.
 *
 * Batches are queued in memory only.  A batch still pending or processing
 * when the worker stops (SIGTERM), or found so at start-up (after a crash
 * with --data), is finished at once: its unprocessed entries fail with
 * category internal_error. */
#include "sandbox/sandbox.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A chunk holds the write lock for about CHUNK_MS, then the worker sleeps
 * GAP_MS, longer while a request is still waiting for the database (up to
 * GAP_MAX_MS).  A blocked request tries again every millisecond (db.c), so
 * it gets the database in the gap that follows the chunk it met, even on a
 * loaded machine: a large batch never starves polls or other writes (the
 * in-memory database blocks readers while a write transaction is open). */
#define CHUNK_PEOPLE 2000
#define CHUNK_MS 33
#define GAP_MS 15
#define GAP_MAX_MS 250

struct job {
    struct job *next;
    char uuid[SB_UUID_LEN + 1];
    char company[SB_UUID_LEN + 1];
    json_t *items;           /* the request's batch array, owned */
};

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static struct job *qhead, *qtail;
static bool stop_requested;          /* under qlock */
static atomic_bool stopping;         /* read between people without the lock */
static bool running;
static pthread_t worker;

struct company_info {
    char entity_type[64];
    char phone[32];          /* copied onto work-from-home locations */
};

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "gusto-sandbox: batch write failed: %s\n",
                sqlite3_errmsg(sqlite3_db_handle(st)));
        return -1;
    }
    return 0;
}

static int exec_cached(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    return st ? step_done(st) : -1;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- finishing batches that can no longer run -------------------------- */

/* Give batches their final status from their result rows, first adding a
 * failed result (category internal_error) for every entry not reached.  batch NULL means
 * every batch that is pending or processing: only done when no batch is
 * being processed, at start-up and when the worker exits. */
static void finish_batches(sqlite3 *db, const char *batch)
{
    /* An excluded entry (a repeated external_id) never gets a result. */
    static const char *items =
        "INSERT OR IGNORE INTO people_batch_results(batch_uuid, idx, external_id, status,"
        " errors) SELECT bu, k, v, 'failed', json_array(json_object("
        "'error_key','batch['||k||']','category','internal_error','message',"
        "'The sandbox stopped before this entry was processed; submit it again in a new"
        " batch with a new idempotency_key.'))"
        " FROM (SELECT b.uuid AS bu, j.key AS k, j.value AS v,"
        "  count(*) OVER (PARTITION BY b.uuid, j.value) AS uses"
        "  FROM people_batches b, json_each(b.external_ids) j"
        "  WHERE b.status IN ('pending','processing') AND (?1 IS NULL OR b.uuid=?1))"
        " WHERE uses = 1";
    /* completed: everyone created whole (and nobody excluded); failed:
     * nobody created; partial_success otherwise (Gusto's status guide). */
    static const char *batches =
        "UPDATE people_batches SET submitted_items=item_count, completed_at=?2,"
        " processed_items=(SELECT count(*) FROM people_batch_results r"
        "  WHERE r.batch_uuid=people_batches.uuid"
        "  AND r.status IN ('success','partial_success')),"
        " status=CASE"
        "  WHEN (SELECT count(*) FROM people_batch_results r"
        "   WHERE r.batch_uuid=people_batches.uuid AND r.status='success') = item_count"
        "   THEN 'completed'"
        "  WHEN (SELECT count(*) FROM people_batch_results r"
        "   WHERE r.batch_uuid=people_batches.uuid"
        "   AND r.status IN ('success','partial_success')) = 0 THEN 'failed'"
        "  ELSE 'partial_success' END"
        " WHERE status IN ('pending','processing') AND (?1 IS NULL OR uuid=?1)";
    if (db_begin_write(db) != 0)
        return;
    char now[40];
    now_iso8601(now);
    int rc = -1;
    sqlite3_stmt *st = db_stmt(db, items);
    if (st) {
        db_bind_text(st, 1, batch);
        rc = step_done(st);
    }
    st = rc == 0 ? db_stmt(db, batches) : NULL;
    if (st) {
        db_bind_text(st, 1, batch);
        db_bind_text(st, 2, now);
        rc = step_done(st);
    } else {
        rc = -1;
    }
    if (rc == 0 && db_commit(db) == 0)
        return;
    db_rollback(db);
}

/* ---- one person -------------------------------------------------------- */

static bool row_exists(sqlite3 *db, const char *sql, const char *a, const char *b,
                       char *first_col, size_t len)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, a);
    db_bind_text(st, 2, b);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found && first_col)
        snprintf(first_col, len, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
    return found;
}

/* Copy body[key] into doc when present (null included). */
static void copy_present(json_t *doc, const json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);
    if (v)
        json_object_set(doc, key, v);
}

static json_t *opt_string(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? json_string(s) : json_null();
}

static int store_bank_accounts(sqlite3 *db, const char *emp, const json_t *accts)
{
    static const char *sql =
        "INSERT INTO bank_accounts(uuid, employee_uuid, priority, name, account_type,"
        " routing_number, hidden_account_number, split_by, split_amount)"
        " VALUES(?,?,?,?,?,?,?,?,?)";
    size_t j;
    const json_t *a;
    json_array_foreach(accts, j, a) {
        sqlite3_stmt *st = db_stmt(db, sql);
        if (!st)
            return -1;
        char uuid[37], hidden[24];
        uuid_random(uuid);
        const char *number = json_string_value(json_object_get(a, "account_number"));
        size_t n = strlen(number);
        /* Only the masked number is kept: the full one never reaches disk. */
        snprintf(hidden, sizeof hidden, "XXXX%s", number + (n > 4 ? n - 4 : 0));
        db_bind_text(st, 1, uuid);
        db_bind_text(st, 2, emp);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)j + 1);
        db_bind_text(st, 4, json_string_value(json_object_get(a, "name")));
        db_bind_text(st, 5, json_string_value(json_object_get(a, "account_type")));
        db_bind_text(st, 6, json_string_value(json_object_get(a, "routing_number")));
        db_bind_text(st, 7, hidden);
        db_bind_text(st, 8, json_string_value(json_object_get(a, "split_by")));
        const char *amt = json_string_value(json_object_get(a, "split_amount"));
        if (amt)
            sqlite3_bind_int64(st, 9, strtoll(amt, NULL, 10));
        else
            sqlite3_bind_null(st, 9);
        if (step_done(st))
            return -1;
    }
    return 0;
}

/* The parts of an entry that failed a rule of the company's stored data:
 * the person is created without them (partial_success). */
struct skipped {
    bool work_address, department, job;
};

/* Every write for one validated, checked entry, without the skipped parts.
 * Returns 0 or -1. */
static int write_person(sqlite3 *db, const char *company, const struct company_info *ci,
                        const json_t *it, const struct skipped *skip, const char *dept_title,
                        const char *today, const char *now, char emp[37])
{
    const json_t *p = json_object_get(it, "person");
    const json_t *home = json_object_get(it, "home_address");
    const json_t *work = skip->work_address ? NULL : json_object_get(it, "work_address");
    const json_t *job = skip->job ? NULL : json_object_get(it, "job");
    const json_t *dept = skip->department ? NULL : json_object_get(it, "department");
    const json_t *comp = skip->job ? NULL : json_object_get(it, "compensation");
    const json_t *accts = json_object_get(it, "bank_accounts");
    bool direct_deposit = json_array_size(accts) > 0;

    /* The employee: the same document POST /employees stores.  The
     * external_id is the caller's and is never stored on the employee. */
    json_t *doc = json_pack("{s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:s, s:n, s:n, s:n, s:n}",
                            "middle_initial", "email", "work_email", "date_of_birth",
                            "preferred_first_name", "two_percent_shareholder", "phone",
                            "payment_method", direct_deposit ? "Direct Deposit" : "Check",
                            "current_employment_status", "department", "department_uuid",
                            "manager_uuid");
    if (!doc)
        return -1;
    static const char *const copied[] = {"first_name", "last_name", "middle_initial",
                                         "email", "work_email", "date_of_birth",
                                         "preferred_first_name"};
    for (size_t k = 0; k < sizeof copied / sizeof copied[0]; k++)
        copy_present(doc, p, copied[k]);
    const char *ssn = json_string_value(json_object_get(p, "ssn"));
    if (ssn) {
        /* Stored as the 9 digits the employee endpoints use. */
        char digits[10];
        snprintf(digits, sizeof digits, "%.3s%.2s%.4s", ssn, ssn + 4, ssn + 7);
        json_object_set_new(doc, "ssn", json_string(digits));
    }
    json_t *tps = json_object_get(job, "two_percent_shareholder");
    if (json_is_boolean(tps))
        json_object_set(doc, "two_percent_shareholder", tps);
    if (dept) {
        json_object_set_new(doc, "department", json_string(dept_title));
        json_object_set(doc, "department_uuid", json_object_get(dept, "department_uuid"));
    }
    uuid_random(emp);
    char code[7];
    snprintf(code, sizeof code, "%.6s", emp);
    json_object_set_new(doc, "employee_code", json_string(code));
    json_object_set_new(doc, "custom_fields", json_array());
    bool self = json_is_true(json_object_get(p, "self_onboarding"));
    int rc = store_employee(db, emp, company, doc, false,
                            self ? "self_onboarding_pending_invite"
                                 : "admin_onboarding_incomplete",
                            now);
    json_decref(doc);
    if (rc)
        return -1;
    /* No time-off enrolment, as for POST /employees: Gusto adds people to a
     * policy only through add_employees (docs/sandbox.md, "Time off"). */

    /* Addresses start on the hire date when there is a job, else today. */
    const char *hire = json_string_value(json_object_get(job, "hire_date"));
    const char *date = hire ? hire : today;
    char uuid[37];
    if (home) {
        json_t *hd = json_pack("{s:O, s:o, s:O, s:O, s:O, s:s, s:b}",
                               "street_1", json_object_get(home, "street_1"),
                               "street_2", opt_string(home, "street_2"),
                               "city", json_object_get(home, "city"),
                               "state", json_object_get(home, "state"),
                               "zip", json_object_get(home, "zip"),
                               "country", "USA", "courtesy_withholding", 0);
        uuid_random(uuid);
        rc = hd ? store_home_address(db, uuid, emp, date, hd) : -1;
        json_decref(hd);
        if (rc)
            return -1;
    }
    char loc[37] = "";
    if (json_is_true(json_object_get(home, "work_from_home"))) {
        /* A company location at the home address, as Gusto does. */
        json_t *ld = json_pack("{s:o, s:O, s:o, s:O, s:O, s:O, s:s, s:b, s:b, s:b}",
                               "phone_number", *ci->phone ? json_string(ci->phone) : json_null(),
                               "street_1", json_object_get(home, "street_1"),
                               "street_2", opt_string(home, "street_2"),
                               "city", json_object_get(home, "city"),
                               "state", json_object_get(home, "state"),
                               "zip", json_object_get(home, "zip"),
                               "country", "USA", "mailing_address", 0, "filing_address", 0,
                               "active", 1);
        uuid_random(loc);
        rc = ld ? store_location(db, loc, company, ld) : -1;
        json_decref(ld);
        if (rc)
            return -1;
    } else if (work) {
        snprintf(loc, sizeof loc, "%s",
                 json_string_value(json_object_get(work, "location_uuid")));
    }
    if (*loc) {
        uuid_random(uuid);
        if (store_work_address(db, uuid, emp, date, loc))
            return -1;
    }

    if (job) {
        json_t *jd = json_pack("{s:O, s:O, s:b, s:O, s:O}",
                               "title", json_object_get(job, "title"),
                               "hire_date", json_object_get(job, "hire_date"),
                               "two_percent_shareholder", json_is_true(tps),
                               "state_wc_covered",
                               json_object_get(job, "state_wc_covered")
                                   ? json_object_get(job, "state_wc_covered") : json_null(),
                               "state_wc_class_code",
                               json_object_get(job, "state_wc_class_code")
                                   ? json_object_get(job, "state_wc_class_code") : json_null());
        char job_uuid[37];
        uuid_random(job_uuid);
        rc = jd ? store_job(db, job_uuid, emp, jd) : -1;
        if (!rc && !comp) {
            /* As POST /v1/employees/{id}/jobs: the $0 hourly compensation. */
            uuid_random(uuid);
            rc = store_stub_compensation(db, uuid, job_uuid, emp, jd);
        }
        json_decref(jd);
        if (rc)
            return -1;
        if (comp) {
            /* One compensation carrying the entry's pay from the hire date:
             * the job's own compensation, set as onboarding does. */
            json_t *cd = json_pack("{s:O, s:O, s:O, s:b, s:[]}",
                                   "rate", json_object_get(comp, "rate"),
                                   "payment_unit", json_object_get(comp, "payment_unit"),
                                   "flsa_status", json_object_get(comp, "flsa_status"),
                                   "adjust_for_minimum_wage", 0, "minimum_wages");
            uuid_random(uuid);
            rc = cd ? store_compensation(db, uuid, job_uuid, emp, hire, cd) : -1;
            json_decref(cd);
            if (rc)
                return -1;
        }
    }
    return direct_deposit ? store_bank_accounts(db, emp, accts) : 0;
}

/* Record one attribute's status; failed when any error names its path. */
static void attribute_status(json_t *attrs, const json_t *it, const char *name, bool failed)
{
    if (json_object_get(it, name))
        json_object_set_new(attrs, name, json_string(failed ? "failed" : "success"));
}

/* Check, write and record entry i.  Returns true when the person was
 * created (whole or in part).  Runs inside the chunk's transaction. */
static bool process_person(sqlite3 *db, const struct job *j, size_t i,
                           const struct company_info *ci, const char *today, const char *now)
{
    static const char *loc_sql = "SELECT 1 FROM locations WHERE uuid=? AND company_uuid=?";
    static const char *dept_sql =
        "SELECT title FROM departments WHERE uuid=? AND company_uuid=?";
    static const char *result_sql =
        "INSERT INTO people_batch_results(status, employee_uuid, errors, batch_uuid, idx,"
        " external_id, attributes) VALUES(?,?,?,?,?,?,?)";
    const json_t *it = json_array_get(j->items, i);
    struct errlist e = {0};
    struct skipped skip = {false, false, false};
    char key[96];

    /* Rules that depend on the company's stored data fail that attribute
     * only: the person is created without it (Gusto's partial_success). */
    const char *loc = json_string_value(
        json_object_get(json_object_get(it, "work_address"), "location_uuid"));
    if (loc && !row_exists(db, loc_sql, loc, j->company, NULL, 0)) {
        snprintf(key, sizeof key, "batch[%zu].work_address.location_uuid", i);
        errlist_add(&e, key, "invalid_attribute_value",
                    "%s %s is not a location of this company", key, loc);
        skip.work_address = true;
    }
    char dept_title[256] = "";
    const char *dept = json_string_value(
        json_object_get(json_object_get(it, "department"), "department_uuid"));
    if (dept && !row_exists(db, dept_sql, dept, j->company, dept_title, sizeof dept_title)) {
        snprintf(key, sizeof key, "batch[%zu].department.department_uuid", i);
        errlist_add(&e, key, "invalid_attribute_value",
                    "%s %s is not a department of this company", key, dept);
        skip.department = true;
    }
    if (json_is_true(json_object_get(json_object_get(it, "job"), "two_percent_shareholder")) &&
        strcmp(ci->entity_type, "S-Corporation") != 0) {
        snprintf(key, sizeof key, "batch[%zu].job.two_percent_shareholder", i);
        errlist_add(&e, key, "invalid_attribute_value",
                    "%s can only be true for an S-Corporation; this company is a %s", key,
                    *ci->entity_type ? ci->entity_type : "company of another type");
        skip.job = true;
        if (json_object_get(it, "compensation")) {
            snprintf(key, sizeof key, "batch[%zu].compensation", i);
            errlist_add(&e, key, "invalid_attribute_value",
                        "%s was not created: it belongs to the job, which was not created",
                        key);
        }
    }
    bool parts_failed = e.errors != NULL;

    char emp[37] = "";
    bool written = false;
    if (exec_cached(db, "SAVEPOINT person") == 0) {
        written = write_person(db, j->company, ci, it, &skip, dept_title, today, now, emp) == 0;
        if (!written)
            exec_cached(db, "ROLLBACK TO person");
        exec_cached(db, "RELEASE person");
    }
    if (!written) {
        /* Nothing of the person is left: their errors are this one. */
        emp[0] = 0;
        json_decref(e.errors);
        e.errors = NULL;
        snprintf(key, sizeof key, "batch[%zu]", i);
        errlist_add(&e, key, "internal_error", "An unexpected error has occurred.");
    }

    json_t *attrs = NULL;
    if (written) {
        attrs = json_pack("{s:s}", "person", "success");
        attribute_status(attrs, it, "home_address", false);
        attribute_status(attrs, it, "work_address", skip.work_address);
        attribute_status(attrs, it, "job", skip.job);
        attribute_status(attrs, it, "compensation", skip.job);
        attribute_status(attrs, it, "department", skip.department);
        attribute_status(attrs, it, "bank_accounts", false);
    }
    char *errtext = e.errors ? db_json_text(e.errors) : NULL;
    char *attrtext = attrs ? db_json_text(attrs) : NULL;
    json_decref(e.errors);
    json_decref(attrs);
    sqlite3_stmt *st = db_stmt(db, result_sql);
    if (st) {
        db_bind_text(st, 1, !written ? "failed" : parts_failed ? "partial_success" : "success");
        db_bind_text(st, 2, written ? emp : NULL);
        db_bind_text(st, 3, errtext);
        db_bind_text(st, 4, j->uuid);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)i);
        db_bind_text(st, 6, json_string_value(
                                json_object_get(json_object_get(it, "person"), "external_id")));
        db_bind_text(st, 7, attrtext);
        step_done(st);
    }
    free(errtext);
    free(attrtext);
    return written;
}

struct ext {
    const char *id;
    size_t idx;
};

static int ext_cmp(const void *a, const void *b)
{
    const struct ext *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

long batch_exclusions(const json_t *items, bool *excluded)
{
    size_t n = json_array_size(items), nids = 0;
    struct ext *ids = n ? malloc(n * sizeof *ids) : NULL;
    if (n && !ids)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(
            json_object_get(json_object_get(json_array_get(items, i), "person"), "external_id"));
        if (id)
            ids[nids++] = (struct ext){id, i};
    }
    if (nids)
        qsort(ids, nids, sizeof *ids, ext_cmp);
    long count = 0;
    for (size_t k = 0; k < nids;) {
        size_t end = k + 1;
        while (end < nids && strcmp(ids[end].id, ids[k].id) == 0)
            end++;
        if (end - k > 1)
            for (size_t m = k; m < end; m++, count++)
                excluded[ids[m].idx] = true;
        k = end;
    }
    free(ids);
    return count;
}

/* ---- one batch --------------------------------------------------------- */

static void load_company(sqlite3 *db, const char *company, struct company_info *ci)
{
    static const char *type_sql =
        "SELECT json_extract(doc,'$.entity_type') FROM companies WHERE uuid=?";
    static const char *phone_sql =
        "SELECT json_extract(doc,'$.phone_number') FROM locations WHERE company_uuid=?"
        " AND json_extract(doc,'$.phone_number') IS NOT NULL"
        " ORDER BY json_extract(doc,'$.mailing_address') DESC, seq LIMIT 1";
    memset(ci, 0, sizeof *ci);
    sqlite3_stmt *st = db_stmt(db, type_sql);
    if (st) {
        db_bind_text(st, 1, company);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(ci->entity_type, sizeof ci->entity_type, "%s", db_col_text(st, 0));
        sqlite3_reset(st);
    }
    st = db_stmt(db, phone_sql);
    if (st) {
        db_bind_text(st, 1, company);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(ci->phone, sizeof ci->phone, "%s", db_col_text(st, 0));
        sqlite3_reset(st);
    }
}

static void process_batch(sqlite3 *db, const struct job *j)
{
    static const char *claim =
        "UPDATE people_batches SET status='processing', submitted_items=item_count"
        " WHERE uuid=? AND status='pending'";
    static const char *progress = "UPDATE people_batches SET processed_items=? WHERE uuid=?";

    /* Waits for the creating request's transaction; a batch whose request
     * rolled back has no row and is dropped. */
    if (db_begin_write(db) != 0)
        return;
    sqlite3_stmt *st = db_stmt(db, claim);
    bool claimed = false;
    if (st) {
        db_bind_text(st, 1, j->uuid);
        claimed = step_done(st) == 0 && sqlite3_changes(db) == 1;
    }
    if (!claimed || db_commit(db) != 0) {
        db_rollback(db);
        return;
    }
    struct company_info ci;
    load_company(db, j->company, &ci);

    size_t n = json_array_size(j->items), i = 0;
    /* Excluded entries (a repeated external_id) are not processed at all:
     * they are the batch's exclusions, not results (h_batches.c). */
    bool *excluded = n ? calloc(n, sizeof *excluded) : NULL;
    if (n && (!excluded || batch_exclusions(j->items, excluded) < 0)) {
        free(excluded);
        finish_batches(db, j->uuid);
        webhook_batch_finished(db, j->uuid, j->company);
        return;
    }
    long ok = 0;
    char today[11], now[40];
    while (i < n && !atomic_load(&stopping)) {
        if (i > 0) {
            struct timespec gap = {0, GAP_MS * 1000000L}, ms = {0, 1000000L};
            nanosleep(&gap, NULL);
            for (int waited = GAP_MS; waited < GAP_MAX_MS && db_someone_waiting(); waited++)
                nanosleep(&ms, NULL);
        }
        if (db_begin_write(db) != 0)
            break;
        today_ymd(today);
        now_iso8601(now);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        size_t start = i;
        long chunk_ok = 0;
        do {
            if (!excluded[i])
                chunk_ok += process_person(db, j, i, &ci, today, now);
            i++;
        } while (i < n && i - start < CHUNK_PEOPLE && ms_since(&t0) < CHUNK_MS &&
                 !atomic_load(&stopping));
        st = db_stmt(db, progress);
        if (st) {
            sqlite3_bind_int64(st, 1, ok + chunk_ok);
            db_bind_text(st, 2, j->uuid);
            step_done(st);
        }
        if (db_commit(db) != 0) {
            db_rollback(db);
            i = start; /* those people were not written: finish_batches fails them */
            break;
        }
        ok += chunk_ok;
    }
    free(excluded);
    /* The status, processed_items and completed_at follow from the result
     * rows; entries not reached (a stop, a database failure) fail. */
    finish_batches(db, j->uuid);
    webhook_batch_finished(db, j->uuid, j->company);
}

/* ---- the worker and its queue ----------------------------------------- */

static void job_free(struct job *j)
{
    json_decref(j->items);
    free(j);
}

static void *worker_main(void *arg)
{
    (void)arg;
    sqlite3 *db = db_acquire();
    for (;;) {
        pthread_mutex_lock(&qlock);
        while (!qhead && !stop_requested)
            pthread_cond_wait(&qcond, &qlock);
        struct job *j = NULL;
        if (!stop_requested) {
            j = qhead;
            qhead = j->next;
            if (!qhead)
                qtail = NULL;
        }
        pthread_mutex_unlock(&qlock);
        if (!j)
            break;
        if (db)
            process_batch(db, j);
        job_free(j);
        if (!db)
            break;
    }
    pthread_mutex_lock(&qlock);
    struct job *rest = qhead;
    qhead = qtail = NULL;
    pthread_mutex_unlock(&qlock);
    while (rest) {
        struct job *next = rest->next;
        job_free(rest);
        rest = next;
    }
    if (db) {
        finish_batches(db, NULL);
        db_release(db);
    }
    return NULL;
}

int batches_enqueue(const char *batch_uuid, const char *company, json_t *items)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(items);
        return -1;
    }
    snprintf(j->uuid, sizeof j->uuid, "%s", batch_uuid);
    snprintf(j->company, sizeof j->company, "%s", company);
    j->items = items;
    pthread_mutex_lock(&qlock);
    bool accept = running && !stop_requested;
    if (accept) {
        if (qtail)
            qtail->next = j;
        else
            qhead = j;
        qtail = j;
        pthread_cond_signal(&qcond);
    }
    pthread_mutex_unlock(&qlock);
    if (!accept) {
        job_free(j);
        return -1;
    }
    return 0;
}

int batches_start(char *err, size_t errlen)
{
    sqlite3 *db = db_acquire();
    if (!db) {
        snprintf(err, errlen, "people batches: no database connection");
        return -1;
    }
    finish_batches(db, NULL);
    db_release(db);

    /* The worker must never take SIGINT/SIGTERM: main() sigwait()s them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_mutex_lock(&qlock);
    stop_requested = false;
    atomic_store(&stopping, false);
    int rc = pthread_create(&worker, NULL, worker_main, NULL);
    running = rc == 0;
    pthread_mutex_unlock(&qlock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "people batches: cannot start the worker thread");
        return -1;
    }
    return 0;
}

void batches_shutdown(void)
{
    pthread_mutex_lock(&qlock);
    bool was_running = running;
    stop_requested = true;
    atomic_store(&stopping, true);
    pthread_cond_broadcast(&qcond);
    pthread_mutex_unlock(&qlock);
    if (was_running)
        pthread_join(worker, NULL);
    pthread_mutex_lock(&qlock);
    running = false;
    pthread_mutex_unlock(&qlock);
}
