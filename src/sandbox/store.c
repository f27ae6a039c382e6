/* store.c - row-level writes shared by the handlers and the seeders, so the
 * indexed columns (names for search and sort, effective dates, sequence
 * numbers) are always derived from a document the same way. */
#include "sandbox/sandbox.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Creation order for every table; writes are serialised by SQLite, and a
 * gap left by a rolled-back transaction is harmless. */
static atomic_llong next_seq = 1;

void store_init_seq(sqlite3 *db)
{
    static const char *sql =
        "SELECT max(coalesce((SELECT max(seq) FROM employees),0),"
        " coalesce((SELECT max(seq) FROM jobs),0),"
        " coalesce((SELECT max(seq) FROM compensations),0),"
        " coalesce((SELECT max(seq) FROM home_addresses),0),"
        " coalesce((SELECT max(seq) FROM work_addresses),0),"
        " coalesce((SELECT max(seq) FROM locations),0))";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (st && sqlite3_step(st) == SQLITE_ROW)
        atomic_store(&next_seq, sqlite3_column_int64(st, 0) + 1);
    if (st)
        sqlite3_reset(st);
}

static long long seq(void) { return atomic_fetch_add(&next_seq, 1); }

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        fprintf(stderr, "gusto-sandbox: write failed: %s\n",
                sqlite3_errmsg(sqlite3_db_handle(st)));
    return rc == SQLITE_DONE ? 0 : -1;
}

static const char *jstr(const json_t *doc, const char *key)
{
    const char *s = json_string_value(json_object_get(doc, key));
    return s ? s : "";
}

/* Lower-cased "first preferred last" for search_term, "last first" for
 * sort_by=name. */
static void name_keys(const json_t *doc, char *search, size_t slen, char *sort,
                      size_t sortlen)
{
    snprintf(search, slen, "%s %s %s", jstr(doc, "first_name"),
             jstr(doc, "preferred_first_name"), jstr(doc, "last_name"));
    for (char *p = search; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    snprintf(sort, sortlen, "%s %s", jstr(doc, "last_name"), jstr(doc, "first_name"));
    for (char *p = sort; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

int store_employee(sqlite3 *db, const char *uuid, const char *company, const json_t *doc,
                   bool onboarded, const char *status, const char *created_at)
{
    static const char *sql =
        "INSERT OR IGNORE INTO employees(uuid, company_uuid, seq, created_at, sort_name,"
        " search, onboarded, onboarding_status, doc) VALUES(?,?,?,?,?,?,?,?,?)";
    char search[512], sort[512], now[40];
    name_keys(doc, search, sizeof search, sort, sizeof sort);
    if (!created_at) {
        now_iso8601(now);
        created_at = now;
    }
    char *text = db_json_text(doc);
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st || !text) {
        free(text);
        return -1;
    }
    db_bind_text(st, 1, uuid);
    db_bind_text(st, 2, company);
    sqlite3_bind_int64(st, 3, seq());
    db_bind_text(st, 4, created_at);
    db_bind_text(st, 5, sort);
    db_bind_text(st, 6, search);
    sqlite3_bind_int(st, 7, onboarded);
    db_bind_text(st, 8, status);
    db_bind_text(st, 9, text);
    int rc = step_done(st);
    free(text);
    return rc;
}

int store_employee_doc(sqlite3 *db, const char *uuid, const json_t *doc)
{
    static const char *sql =
        "UPDATE employees SET rev=rev+1, doc=?, sort_name=?, search=? WHERE uuid=?";
    char search[512], sort[512];
    name_keys(doc, search, sizeof search, sort, sizeof sort);
    char *text = db_json_text(doc);
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st || !text) {
        free(text);
        return -1;
    }
    db_bind_text(st, 1, text);
    db_bind_text(st, 2, sort);
    db_bind_text(st, 3, search);
    db_bind_text(st, 4, uuid);
    int rc = step_done(st);
    free(text);
    return rc;
}

int store_home_address(sqlite3 *db, const char *uuid, const char *emp,
                       const char *effective_date, const json_t *doc)
{
    static const char *sql =
        "INSERT OR IGNORE INTO home_addresses(uuid, employee_uuid, seq, effective_date, doc)"
        " VALUES(?,?,?,?,?)";
    char *text = db_json_text(doc);
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st || !text) {
        free(text);
        return -1;
    }
    db_bind_text(st, 1, uuid);
    db_bind_text(st, 2, emp);
    sqlite3_bind_int64(st, 3, seq());
    db_bind_text(st, 4, effective_date);
    db_bind_text(st, 5, text);
    int rc = step_done(st);
    free(text);
    return rc;
}

int store_work_address(sqlite3 *db, const char *uuid, const char *emp,
                       const char *effective_date, const char *location)
{
    static const char *sql =
        "INSERT OR IGNORE INTO work_addresses(uuid, employee_uuid, seq, effective_date,"
        " location_uuid) VALUES(?,?,?,?,?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    db_bind_text(st, 1, uuid);
    db_bind_text(st, 2, emp);
    sqlite3_bind_int64(st, 3, seq());
    db_bind_text(st, 4, effective_date);
    db_bind_text(st, 5, location);
    return step_done(st);
}

int store_job(sqlite3 *db, const char *uuid, const char *emp, const json_t *doc)
{
    static const char *sql =
        "INSERT OR IGNORE INTO jobs(uuid, employee_uuid, seq, doc) VALUES(?,?,?,?)";
    char *text = db_json_text(doc);
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st || !text) {
        free(text);
        return -1;
    }
    db_bind_text(st, 1, uuid);
    db_bind_text(st, 2, emp);
    sqlite3_bind_int64(st, 3, seq());
    db_bind_text(st, 4, text);
    int rc = step_done(st);
    free(text);
    return rc;
}

int store_compensation(sqlite3 *db, const char *uuid, const char *job, const char *emp,
                       const char *effective_date, const json_t *doc)
{
    static const char *sql =
        "INSERT OR IGNORE INTO compensations(uuid, job_uuid, employee_uuid, seq,"
        " effective_date, doc) VALUES(?,?,?,?,?,?)";
    char *text = db_json_text(doc);
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st || !text) {
        free(text);
        return -1;
    }
    db_bind_text(st, 1, uuid);
    db_bind_text(st, 2, job);
    db_bind_text(st, 3, emp);
    sqlite3_bind_int64(st, 4, seq());
    db_bind_text(st, 5, effective_date);
    db_bind_text(st, 6, text);
    int rc = step_done(st);
    free(text);
    return rc;
}

int store_time_off(sqlite3 *db, const char *emp, const char *policy, const char *type,
                   const char *event_type, const char *desc, const char *when,
                   const char *balance, const char *change)
{
    static const char *sql =
        "INSERT INTO time_off_activities(employee_uuid, policy_uuid, time_off_type,"
        " event_type, event_description, effective_time, balance, balance_change)"
        " VALUES(?,?,?,?,?,?,?,?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    db_bind_text(st, 1, emp);
    db_bind_text(st, 2, policy);
    db_bind_text(st, 3, type);
    db_bind_text(st, 4, event_type);
    db_bind_text(st, 5, desc);
    db_bind_text(st, 6, when);
    db_bind_text(st, 7, balance);
    db_bind_text(st, 8, change);
    return step_done(st);
}

int store_termination(sqlite3 *db, const char *uuid, const char *emp,
                      const char *effective_date)
{
    static const char *sql =
        "INSERT OR IGNORE INTO terminations(uuid, employee_uuid, effective_date)"
        " VALUES(?,?,?)";
    static const char *flag = "UPDATE employees SET terminated=1, rev=rev+1 WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    db_bind_text(st, 1, uuid);
    db_bind_text(st, 2, emp);
    db_bind_text(st, 3, effective_date);
    if (step_done(st))
        return -1;
    st = db_stmt(db, flag);
    if (!st)
        return -1;
    db_bind_text(st, 1, emp);
    return step_done(st);
}

int store_location(sqlite3 *db, const char *uuid, const char *company, const json_t *doc)
{
    static const char *sql =
        "INSERT OR IGNORE INTO locations(uuid, company_uuid, seq, created_at, updated_at, doc)"
        " VALUES(?,?,?,?,?,?)";
    char now[40];
    now_iso8601(now);
    char *text = db_json_text(doc);
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st || !text) {
        free(text);
        return -1;
    }
    db_bind_text(st, 1, uuid);
    db_bind_text(st, 2, company);
    sqlite3_bind_int64(st, 3, seq());
    db_bind_text(st, 4, now);
    db_bind_text(st, 5, now);
    db_bind_text(st, 6, text);
    int rc = step_done(st);
    free(text);
    return rc;
}

void store_employee_company(sqlite3 *db, const char *emp, char out[SB_UUID_LEN + 1])
{
    static const char *sql = "SELECT company_uuid FROM employees WHERE uuid=?";
    out[0] = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return;
    db_bind_text(st, 1, emp);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, SB_UUID_LEN + 1, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
}

json_t *store_load(sqlite3 *db, const char *table, const char *uuid, long *rev)
{
    /* One statement per table: the cache is keyed by the SQL pointer. */
    static const char *const sqls[][2] = {
        {"employees", "SELECT rev, doc FROM employees WHERE uuid=?"},
        {"home_addresses", "SELECT rev, doc FROM home_addresses WHERE uuid=?"},
        {"jobs", "SELECT rev, doc FROM jobs WHERE uuid=?"},
        {"compensations", "SELECT rev, doc FROM compensations WHERE uuid=?"},
        {"locations", "SELECT rev, doc FROM locations WHERE uuid=?"},
    };
    const char *sql = NULL;
    for (size_t i = 0; i < sizeof sqls / sizeof sqls[0]; i++)
        if (strcmp(sqls[i][0], table) == 0)
            sql = sqls[i][1];
    if (!sql)
        return NULL;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, uuid);
    json_t *doc = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (rev)
            *rev = (long)sqlite3_column_int64(st, 0);
        doc = db_col_json(st, 1);
    }
    sqlite3_reset(st);
    return doc;
}

void stored_date(sqlite3 *db, const char *sql, const char *uuid, char out[11])
{
    out[0] = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return;
    db_bind_text(st, 1, uuid);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, 11, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
}

int store_update_dated(sqlite3 *db, enum dated_table t, const char *uuid, json_t *doc,
                       const json_t *body, const struct field *fields, const char *new_date)
{
    static const struct {
        const char *date, *update;
    } sql[] = {
        [DATED_HOME] = {"SELECT effective_date FROM home_addresses WHERE uuid=?",
                        "UPDATE home_addresses SET rev=rev+1, doc=?,"
                        " effective_date=coalesce(?,effective_date) WHERE uuid=?"},
        [DATED_COMPENSATION] = {"SELECT effective_date FROM compensations WHERE uuid=?",
                                "UPDATE compensations SET rev=rev+1, doc=?,"
                                " effective_date=coalesce(?,effective_date) WHERE uuid=?"},
    };
    /* The stored date goes into the document only for the comparison. */
    char old_date[11];
    stored_date(db, sql[t].date, uuid, old_date);
    json_object_set_new(doc, "effective_date", json_string(old_date));
    bool changed = apply_fields(doc, body, fields);
    json_object_del(doc, "effective_date");
    if (!changed) {
        json_decref(doc);
        return 0;
    }
    char *text = db_json_text(doc);
    json_decref(doc);
    sqlite3_stmt *st = db_stmt(db, sql[t].update);
    int rc = SQLITE_ERROR;
    if (st && text) {
        db_bind_text(st, 1, text);
        db_bind_text(st, 2, new_date);
        db_bind_text(st, 3, uuid);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    free(text);
    return rc == SQLITE_DONE ? 1 : -1;
}

int store_stub_compensation(sqlite3 *db, const char *uuid, const char *job, const char *emp,
                            const json_t *job_doc)
{
    const char *hire = json_string_value(json_object_get(job_doc, "hire_date"));
    json_t *title = json_object_get(job_doc, "title");
    json_t *cd = json_pack("{s:s, s:s, s:s, s:b, s:[]}", "rate", "0.00", "payment_unit", "Hour",
                           "flsa_status", "Nonexempt", "adjust_for_minimum_wage", 0,
                           "minimum_wages");
    if (!cd || !hire)
        return json_decref(cd), -1;
    if (json_is_string(title))
        json_object_set(cd, "title", title);
    int rc = store_compensation(db, uuid, job, emp, hire, cd);
    json_decref(cd);
    return rc;
}
