/* h_onboarding.c - an employee's onboarding status (GET and the documented
 * PUT transitions) and employment history, derived from the employee's
 * rows: the steps from what has been entered, the history from the jobs'
 * hire dates, terminations and rehire. */
#include "sandbox/sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool has_row(sqlite3 *db, const char *sql, const char *emp)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, emp);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return yes;
}

static bool nonempty(const json_t *doc, const char *key)
{
    const char *s = json_string_value(json_object_get(doc, key));
    return s && *s;
}

/* What the sandbox knows of an employee's onboarding. */
struct onb {
    char company[SB_UUID_LEN + 1];
    char status[64];
    bool onboarded, personal, job, work, home, deposit, email;
};

static bool load_onb(sqlite3 *db, const char *emp, struct onb *o)
{
    static const char *sql =
        "SELECT company_uuid, onboarding_status, onboarded, doc FROM employees WHERE uuid=?";
    memset(o, 0, sizeof *o);
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, emp);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return false;
    }
    snprintf(o->company, sizeof o->company, "%s", db_col_text(st, 0));
    snprintf(o->status, sizeof o->status, "%s", db_col_text(st, 1));
    o->onboarded = sqlite3_column_int(st, 2) != 0;
    json_t *doc = db_col_json(st, 3);
    sqlite3_reset(st);
    o->personal = nonempty(doc, "first_name") && nonempty(doc, "last_name") &&
                  nonempty(doc, "date_of_birth") && nonempty(doc, "ssn");
    o->email = nonempty(doc, "email");
    const char *pm = json_string_value(json_object_get(doc, "payment_method"));
    o->deposit = (pm && strcmp(pm, "Direct Deposit") == 0) ||
                 has_row(db, "SELECT 1 FROM bank_accounts WHERE employee_uuid=?", emp);
    json_decref(doc); /* pm pointed into it */
    o->job = has_row(db, "SELECT 1 FROM jobs WHERE employee_uuid=?", emp);
    o->work = has_row(db, "SELECT 1 FROM work_addresses WHERE employee_uuid=?", emp);
    o->home = has_row(db, "SELECT 1 FROM home_addresses WHERE employee_uuid=?", emp);
    return true;
}

static json_t *step(const char *id, const char *title, bool required, bool completed,
                    const char *req1, const char *req2)
{
    json_t *reqs = json_array();
    if (req1 && !completed)
        json_array_append_new(reqs, json_string(req1));
    if (req2 && !completed)
        json_array_append_new(reqs, json_string(req2));
    return json_pack("{s:s, s:s, s:b, s:b, s:o}", "title", title, "id", id, "required",
                     required, "completed", completed, "requirements", reqs);
}

/* Employee-Onboarding-Status, with the steps in the order of Gusto's example.
 * The tax, form and new-hire-report steps are done once onboarding is
 * finished: the sandbox does not emulate them (docs/sandbox.md). */
static json_t *render_onb(const char *emp, const struct onb *o)
{
    bool done = o->onboarded;
    json_t *steps = json_array();
    json_array_append_new(steps, step("personal_details", "Personal details", true,
                                      o->personal || done, NULL, NULL));
    json_array_append_new(steps, step("compensation_details", "Enter compensation details",
                                      true, o->job, NULL, NULL));
    json_array_append_new(steps, step("add_work_address", "Add work address", true, o->work,
                                      NULL, NULL));
    json_array_append_new(steps, step("add_home_address", "Add home address", true,
                                      o->home || done, NULL, NULL));
    json_array_append_new(steps, step("federal_tax_setup", "Enter federal tax withholdings",
                                      true, done, NULL, NULL));
    json_array_append_new(steps, step("state_tax_setup", "Enter state tax information", true,
                                      done, "add_work_address", "add_home_address"));
    json_array_append_new(steps, step("direct_deposit_setup", "Direct deposit setup", false,
                                      o->deposit, NULL, NULL));
    json_array_append_new(steps, step("employee_form_signing", "Employee form signing", true,
                                      done, "federal_tax_setup", "state_tax_setup"));
    json_array_append_new(steps, step("file_new_hire_report", "File new hire report", true,
                                      done, "add_work_address", NULL));
    if (strncmp(o->status, "self_onboarding", 15) == 0)
        json_array_append_new(steps, step("admin_review", "Admin review", true, done,
                                          NULL, NULL));
    return json_pack("{s:s, s:s, s:o}", "uuid", emp, "onboarding_status", o->status,
                     "onboarding_steps", steps);
}

int h_onboarding_status_get(struct request *r)
{
    struct onb o;
    if (!load_onb(r->db, r->params[0], &o) || !own_company(r, o.company))
        return reply_not_found(r);
    return reply_json(r, 200, render_onb(r->params[0], &o));
}

/* The documented changes: (from, from, to).  NULL: no second source. */
static const struct {
    const char *from1, *from2, *to;
} MOVES[] = {
    {"admin_onboarding_incomplete", NULL, "self_onboarding_pending_invite"},
    {"admin_onboarding_incomplete", "self_onboarding_pending_invite", "self_onboarding_invited"},
    {"self_onboarding_invited", "self_onboarding_pending_invite", "admin_onboarding_incomplete"},
    {"self_onboarding_completed_by_employee", NULL, "self_onboarding_awaiting_admin_review"},
    {"admin_onboarding_incomplete", "self_onboarding_awaiting_admin_review",
     "onboarding_completed"},
};

static const char *const STATUSES[] = {
    "admin_onboarding_incomplete", "self_onboarding_pending_invite", "self_onboarding_invited",
    "self_onboarding_invited_started", "self_onboarding_invited_overdue",
    "self_onboarding_completed_by_employee", "self_onboarding_awaiting_admin_review",
    "onboarding_completed"};

int h_onboarding_status_put(struct request *r)
{
    const char *emp = r->params[0];
    struct onb o;
    if (!load_onb(r->db, emp, &o) || !own_company(r, o.company))
        return reply_not_found(r);
    req_entity(r, "Employee", emp);
    json_t *v = json_object_get(r->json, "onboarding_status");
    const char *to = json_string_value(v);
    if (!to)
        return reply_error(r, 422, "onboarding_status", "invalid_attribute_value",
                           "onboarding_status is required (a string)");
    bool known = false;
    for (size_t i = 0; i < sizeof STATUSES / sizeof STATUSES[0]; i++)
        known |= strcmp(to, STATUSES[i]) == 0;
    if (!known)
        return reply_error(r, 422, "onboarding_status", "invalid_attribute_value",
                           "onboarding_status \"%.60s\" is not one of Gusto's onboarding "
                           "statuses", to);
    bool allowed = false;
    for (size_t i = 0; i < sizeof MOVES / sizeof MOVES[0]; i++)
        if (strcmp(MOVES[i].to, to) == 0 &&
            (strcmp(MOVES[i].from1, o.status) == 0 ||
             (MOVES[i].from2 && strcmp(MOVES[i].from2, o.status) == 0)))
            allowed = true;
    if (!allowed)
        return reply_error(r, 422, "onboarding_status", "invalid_attribute_value",
                           "The onboarding status cannot change from %s to %s.", o.status, to);
    /* What the step needs that the sandbox can see: the self-onboarding
     * guide's prerequisites for an invitation, the data steps to finish. */
    struct errlist e = {0};
    if (strcmp(to, "self_onboarding_invited") == 0) {
        if (!o.email)
            errlist_add(&e, "email", "invalid_attribute_value",
                        "An email is required to invite the employee to self-onboard.");
        if (!o.job)
            errlist_add(&e, "compensation_details", "invalid_attribute_value",
                        "A job and compensation are required to invite the employee.");
        if (!o.work)
            errlist_add(&e, "add_work_address", "invalid_attribute_value",
                        "A work address is required to invite the employee.");
    } else if (strcmp(to, "onboarding_completed") == 0) {
        const struct { bool ok; const char *id; } need[] = {
            {o.personal, "personal_details"}, {o.job, "compensation_details"},
            {o.work, "add_work_address"}, {o.home, "add_home_address"}};
        for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
            if (!need[i].ok)
                errlist_add(&e, need[i].id, "invalid_attribute_value",
                            "The onboarding step %s is not complete.", need[i].id);
    }
    if (e.errors)
        return reply_errlist(r, &e);

    static const char *sql =
        "UPDATE employees SET onboarding_status=?, onboarded=? WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    bool finished = strcmp(to, "onboarding_completed") == 0;
    db_bind_text(st, 1, to);
    sqlite3_bind_int(st, 2, finished);
    db_bind_text(st, 3, emp);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_error(r);
    touch_employee(r->db, emp);
    if (finished)
        webhook_emit("Employee", "employee.onboarded", o.company, emp);
    load_onb(r->db, emp, &o);
    return reply_json(r, 200, render_onb(emp, &o));
}

/* ---- employment history --------------------------------------------- */

/* Gusto's employment_status values from the employee's
 * current_employment_status (Employee schema). */
static const char *employment_status(const char *ces)
{
    if (!ces)
        return "not_set";
    if (strcmp(ces, "full_time") == 0)
        return "full_time";
    if (strcmp(ces, "part_time_under_twenty_hours") == 0)
        return "part_time";
    if (strcmp(ces, "part_time_twenty_plus_hours") == 0)
        return "part_time_eligible";
    if (strcmp(ces, "variable") == 0 || strcmp(ces, "seasonal") == 0)
        return ces;
    return "not_set";
}

/* The first date of a query's first column, into out ("" when none). */
static void first_date(sqlite3 *db, const char *sql, const char *emp, const char *after,
                       char out[11])
{
    out[0] = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return;
    db_bind_text(st, 1, emp);
    if (after)
        db_bind_text(st, 2, after);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        snprintf(out, 11, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
}

int h_employment_history(struct request *r)
{
    const char *emp = r->params[0];
    if (!own_employee(r, emp))
        return reply_not_found(r);
    long rev;
    json_t *doc = store_load(r->db, "employees", emp, &rev);
    const char *ces = json_string_value(json_object_get(doc, "current_employment_status"));
    json_t *tps = json_object_get(doc, "two_percent_shareholder");
    bool two = json_is_true(tps);
    char hires[2][11];
    first_date(r->db, "SELECT min(json_extract(doc, '$.hire_date')) FROM jobs"
                      " WHERE employee_uuid=?", emp, NULL, hires[0]);
    first_date(r->db, "SELECT effective_date FROM rehires WHERE employee_uuid=?", emp, NULL,
               hires[1]);
    json_t *out = json_array();
    for (int i = 0; i < 2; i++) {
        if (!hires[i][0])
            continue;
        char term[11];
        first_date(r->db, "SELECT min(effective_date) FROM terminations"
                          " WHERE employee_uuid=? AND effective_date >= ?", emp, hires[i],
                   term);
        json_array_append_new(
            out, json_pack("{s:s, s:s?, s:b, s:b, s:s}", "hire_date", hires[i],
                           "termination_date", term[0] ? term : NULL, "file_new_hire_report",
                           0, "two_percent_shareholder", two, "employment_status",
                           employment_status(ces)));
    }
    json_decref(doc);
    return reply_json(r, 200, out);
}
