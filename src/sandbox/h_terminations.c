/* h_terminations.c - employee terminations (list, create, cancel a scheduled
 * one) and rehires (create, get), with Gusto's Termination and Rehire shapes.
 * An employee is terminated once a termination's date has passed, unless a
 * rehire dated after it has started (render.c applies the same rule). */
#include "sandbox/sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct field TERMINATION_FIELDS[] = {
    {"effective_date", F_DATE, true, NULL, NULL},
    {"run_termination_payroll", F_BOOL, false, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

static const char *const EMPLOYMENT_STATUSES[] = {
    "part_time", "full_time", "part_time_eligible", "variable", "seasonal", "not_set", NULL};

static const struct field REHIRE_FIELDS[] = {
    {"effective_date", F_DATE, true, NULL, NULL},
    {"file_new_hire_report", F_BOOL, true, NULL, NULL},
    {"work_location_uuid", F_STRING, true, NULL, NULL},
    {"two_percent_shareholder", F_BOOL, false, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

static json_t *termination_json(sqlite3_stmt *st, const char *today)
{
    const char *uuid = db_col_text(st, 0);
    const char *eff = db_col_text(st, 2);
    bool active = strcmp(eff, today) <= 0;
    bool run = sqlite3_column_int(st, 3) != 0;
    char v[33];
    version_of(uuid, (long)sqlite3_column_int64(st, 1), v);
    return json_pack("{s:s, s:s, s:s, s:b, s:b, s:s, s:b}", "uuid", uuid, "version", v,
                     "employee_uuid", db_col_text(st, 4), "active", active, "cancelable",
                     !active && !run, "effective_date", eff, "run_termination_payroll", run);
}

static const char *TERM_COLS =
    "SELECT uuid, rev, effective_date, run_termination_payroll, employee_uuid"
    " FROM terminations WHERE employee_uuid=? ORDER BY effective_date";

/* The latest termination's date ("" when none) and the rehire's date ("" when
 * none).  The employee is "out" (terminated or scheduled to be) when the
 * termination is not followed by a later rehire. */
static void employment_dates(sqlite3 *db, const char *emp, char term[11], char rehire[11])
{
    stored_date(db, "SELECT max(effective_date) FROM terminations WHERE employee_uuid=?", emp,
                term);
    stored_date(db, "SELECT effective_date FROM rehires WHERE employee_uuid=?", emp, rehire);
}

static bool is_out(const char *term, const char *rehire)
{
    return term[0] && !(rehire[0] && strcmp(rehire, term) > 0);
}

int h_terminations_list(struct request *r)
{
    const char *emp = r->params[0];
    if (!own_employee(r, emp))
        return reply_not_found(r);
    char today[11];
    today_ymd(today);
    sqlite3_stmt *st = db_stmt(r->db, TERM_COLS);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, emp);
    json_t *out = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(out, termination_json(st, today));
    sqlite3_reset(st);
    return reply_json(r, 200, out);
}

int h_termination_create(struct request *r)
{
    const char *emp = r->params[0];
    if (!own_employee(r, emp))
        return reply_not_found(r);
    req_entity(r, "Employee", emp);
    struct errlist e = {0};
    validate_body(r, TERMINATION_FIELDS, true, &e);
    if (e.errors)
        return reply_errlist(r, &e);
    /* Gusto's terminate guide: "Hire date is required in order to terminate
     * an employee. If an employee does not yet have a hire date, use the
     * Delete an onboarding employee API."  Onboarding or not does not
     * matter; a job's hire_date does. */
    static const char *q =
        "SELECT min(json_extract(doc,'$.hire_date')) FROM jobs WHERE employee_uuid=?";
    sqlite3_stmt *st = db_stmt(r->db, q);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, emp);
    bool hired = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    sqlite3_reset(st);
    if (!hired)
        return reply_error(r, 422, "base", "invalid_operation",
                           "Hire date is required in order to terminate an employee. This "
                           "employee has no job with a hire date: give them one, or delete "
                           "the onboarding employee instead.");
    char term[11], rehire[11];
    employment_dates(r->db, emp, term, rehire);
    if (is_out(term, rehire))
        return reply_error(r, 422, "base", "invalid_operation",
                           "This employee already has a termination effective %s.", term);
    const char *date = json_string_value(json_object_get(r->json, "effective_date"));
    if (rehire[0] && strcmp(date, rehire) < 0)
        return reply_error(r, 422, "effective_date", "invalid_attribute_value",
                           "effective_date cannot be before the rehire on %s", rehire);
    char uuid[37];
    uuid_random(uuid);
    if (store_termination(r->db, uuid, emp, date))
        return db_error(r);
    bool run = json_is_true(json_object_get(r->json, "run_termination_payroll"));
    static const char *upd = "UPDATE terminations SET run_termination_payroll=? WHERE uuid=?";
    st = db_stmt(r->db, upd);
    if (!st)
        return db_error(r);
    sqlite3_bind_int(st, 1, run);
    db_bind_text(st, 2, uuid);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_error(r);
    static const char *one =
        "SELECT uuid, rev, effective_date, run_termination_payroll, employee_uuid"
        " FROM terminations WHERE uuid=?";
    st = db_stmt(r->db, one);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, uuid);
    json_t *t = NULL;
    char today[11];
    today_ymd(today);
    if (sqlite3_step(st) == SQLITE_ROW)
        t = termination_json(st, today);
    sqlite3_reset(st);
    if (t) {
        webhook_emit("Employee", "employee.terminated", r->auth.company_uuid, emp);
        /* A termination dated in the past is effective at once; one dated
         * today or later would be at 12:00 AM PT after the last day, which
         * the sandbox does not schedule (POST /sandbox/webhook_events). */
        if (strcmp(date, today) < 0)
            webhook_emit("Employee", "employee.termination_effective", r->auth.company_uuid,
                         emp);
    }
    return t ? reply_json(r, 201, t) : db_error(r);
}

/* Recompute the employees.terminated column the list's terminated= filter
 * reads: set while a termination is not superseded by a rehire. */
static int flag_terminated(sqlite3 *db, const char *emp)
{
    char term[11], rehire[11];
    employment_dates(db, emp, term, rehire);
    static const char *sql = "UPDATE employees SET terminated=?, rev=rev+1 WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, is_out(term, rehire));
    db_bind_text(st, 2, emp);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int h_termination_delete(struct request *r)
{
    const char *emp = r->params[0];
    if (!own_employee(r, emp))
        return reply_not_found(r);
    req_entity(r, "Employee", emp);
    char today[11], rehire[11];
    today_ymd(today);
    stored_date(r->db, "SELECT effective_date FROM rehires WHERE employee_uuid=?", emp, rehire);
    /* The termination that counts: the latest one. */
    static const char *sql =
        "SELECT uuid, effective_date, run_termination_payroll FROM terminations"
        " WHERE employee_uuid=? ORDER BY effective_date DESC LIMIT 1";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, emp);
    char uuid[37] = "", eff[11] = "";
    int run = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(uuid, sizeof uuid, "%s", db_col_text(st, 0));
        snprintf(eff, sizeof eff, "%s", db_col_text(st, 1));
        run = sqlite3_column_int(st, 2);
    }
    sqlite3_reset(st);
    if (!uuid[0] || !is_out(eff, rehire))
        return reply_error(r, 422, "base", "invalid_operation",
                           "This employee has no termination to delete.");
    if (strcmp(eff, today) <= 0 || run)
        return reply_error(r, 422, "base", "invalid_operation",
                           "The termination effective %s is not cancelable: it %s. Rehire "
                           "the employee instead.", eff,
                           run ? "runs a termination payroll" : "has gone into effect");
    st = db_stmt(r->db, "DELETE FROM terminations WHERE uuid=?");
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, uuid);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || flag_terminated(r->db, emp))
        return db_error(r);
    webhook_emit("Employee", "employee.termination_cancelled", r->auth.company_uuid, emp);
    return reply_empty(r, 204);
}

static json_t *rehire_json(sqlite3 *db, const char *emp)
{
    static const char *sql = "SELECT rev, effective_date, doc FROM rehires WHERE employee_uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, emp);
    json_t *o = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        char today[11], v[33], key[64];
        today_ymd(today);
        snprintf(key, sizeof key, "rehire-%s", emp);
        version_of(key, (long)sqlite3_column_int64(st, 0), v);
        const char *eff = db_col_text(st, 1);
        json_t *doc = db_col_json(st, 2);
        o = json_pack("{s:s, s:s, s:b, s:s}", "version", v, "employee_uuid", emp, "active",
                      strcmp(eff, today) <= 0, "effective_date", eff);
        static const char *keys[] = {"file_new_hire_report", "work_location_uuid",
                                     "employment_status", "two_percent_shareholder"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            json_t *x = json_object_get(doc, keys[i]);
            if (x)
                json_object_set(o, keys[i], x);
        }
        json_decref(doc);
    }
    sqlite3_reset(st);
    return o;
}

int h_rehire_get(struct request *r)
{
    if (!own_employee(r, r->params[0]))
        return reply_not_found(r);
    json_t *o = rehire_json(r->db, r->params[0]);
    return o ? reply_json(r, 200, o) : reply_empty(r, 204);
}

int h_rehire_create(struct request *r)
{
    const char *emp = r->params[0];
    if (!own_employee(r, emp))
        return reply_not_found(r);
    req_entity(r, "Employee", emp);
    struct errlist e = {0};
    validate_body(r, REHIRE_FIELDS, true, &e);
    if (e.errors)
        return reply_errlist(r, &e);
    const char *date = json_string_value(json_object_get(r->json, "effective_date"));
    const char *loc = json_string_value(json_object_get(r->json, "work_location_uuid"));
    char company[37], owner[37] = "";
    store_employee_company(r->db, emp, company);
    sqlite3_stmt *st = db_stmt(r->db, "SELECT company_uuid FROM locations WHERE uuid=?");
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, loc);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(owner, sizeof owner, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
    if (strcmp(owner, company) != 0)
        errlist_add(&e, "work_location_uuid", "invalid_attribute_value",
                    "work_location_uuid %.40s is not a location of this company", loc);
    char term[11], rehire[11];
    employment_dates(r->db, emp, term, rehire);
    if (!is_out(term, rehire))
        return reply_error(r, 422, "base", "invalid_operation",
                           "This employee is not terminated, so cannot be rehired.");
    if (strcmp(date, term) <= 0)
        errlist_add(&e, "effective_date", "invalid_attribute_value",
                    "effective_date must be after the termination on %s", term);
    if (e.errors)
        return reply_errlist(r, &e);

    json_t *doc = json_object();
    json_object_set(doc, "file_new_hire_report",
                    json_object_get(r->json, "file_new_hire_report"));
    json_object_set_new(doc, "work_location_uuid", json_string(loc));
    /* Gusto: an invalid employment_status becomes not_set. */
    const char *status = json_string_value(json_object_get(r->json, "employment_status"));
    if (status) {
        bool known = false;
        for (int i = 0; EMPLOYMENT_STATUSES[i]; i++)
            known |= strcmp(status, EMPLOYMENT_STATUSES[i]) == 0;
        json_object_set_new(doc, "employment_status", json_string(known ? status : "not_set"));
    }
    json_t *tps = json_object_get(r->json, "two_percent_shareholder");
    json_object_set_new(doc, "two_percent_shareholder", json_boolean(json_is_true(tps)));
    char *text = db_json_text(doc);
    json_decref(doc);
    static const char *ins =
        "INSERT INTO rehires(employee_uuid, rev, effective_date, doc) VALUES(?1, 1, ?2, ?3)"
        " ON CONFLICT(employee_uuid) DO UPDATE SET rev=rev+1, effective_date=?2, doc=?3";
    st = db_stmt(r->db, ins);
    if (!st || !text) {
        free(text);
        return db_error(r);
    }
    db_bind_text(st, 1, emp);
    db_bind_text(st, 2, date);
    db_bind_text(st, 3, text);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    free(text);
    if (rc != SQLITE_DONE)
        return db_error(r);
    if (status) {
        long rev;
        json_t *edoc = store_load(r->db, "employees", emp, &rev);
        if (edoc) {
            bool known = false;
            for (int i = 0; EMPLOYMENT_STATUSES[i]; i++)
                known |= strcmp(status, EMPLOYMENT_STATUSES[i]) == 0;
            json_object_set_new(edoc, "current_employment_status",
                                json_string(known ? status : "not_set"));
            rc = store_employee_doc(r->db, emp, edoc);
            json_decref(edoc);
            if (rc)
                return db_error(r);
        }
    }
    /* The employee returns at the given location, unless already there. */
    char cur[37], curloc[37] = "";
    if (current_work_address_uuid(r->db, emp, cur)) {
        st = db_stmt(r->db, "SELECT location_uuid FROM work_addresses WHERE uuid=?");
        if (st) {
            db_bind_text(st, 1, cur);
            if (sqlite3_step(st) == SQLITE_ROW)
                snprintf(curloc, sizeof curloc, "%s", db_col_text(st, 0));
            sqlite3_reset(st);
        }
    }
    if (strcmp(curloc, loc) != 0) {
        st = db_stmt(r->db,
                     "SELECT 1 FROM work_addresses WHERE employee_uuid=? AND effective_date=?");
        bool taken = false;
        if (st) {
            db_bind_text(st, 1, emp);
            db_bind_text(st, 2, date);
            taken = sqlite3_step(st) == SQLITE_ROW;
            sqlite3_reset(st);
        }
        char wa[37];
        uuid_random(wa);
        if (!taken && store_work_address(r->db, wa, emp, date, loc))
            return db_error(r);
    }
    if (flag_terminated(r->db, emp))
        return db_error(r);
    json_t *o = rehire_json(r->db, emp);
    if (!o)
        return db_error(r);
    webhook_emit("Employee", "employee.rehired", r->auth.company_uuid, emp);
    /* Effective today or earlier: at once; later: on its date at 12:00 AM
     * PT, not scheduled here (POST /sandbox/webhook_events). */
    char today[11];
    today_ymd(today);
    if (strcmp(date, today) <= 0)
        webhook_emit("Employee", "employee.rehire_effective", r->auth.company_uuid, emp);
    return reply_json(r, 201, o);
}
