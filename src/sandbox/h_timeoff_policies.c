/* h_timeoff_policies.c - Time Off Policies: a company's policies, one
 * policy, create, update (versioned), add and remove employees, set their
 * balances, deactivate.  Who is on a policy, and with what balance, is kept
 * in time_off_activities (the history GET time_off_activities shows): an
 * employee is on a policy while their latest activity for it is not a
 * removal, and the balance is that activity's. */
#include "sandbox/sandbox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EV_ADD "TimeOffEvent::AddToPolicy"
#define EV_BALANCE "TimeOffEvent::BalanceUpdate"

static const char *const POLICY_TYPES[] = {"vacation", "sick", NULL};
static const char *const ACCRUAL_METHODS[] = {
    "unlimited", "per_pay_period", "per_calendar_year", "per_anniversary_year",
    "per_hour_worked", "per_hour_worked_no_overtime", "per_hour_paid",
    "per_hour_paid_no_overtime", NULL};

/* Time-Off-Policy-Request-Base.  name, policy_type and accrual_method are
 * required on create (Time-Off-Policy-Request). */
static const struct field POLICY_FIELDS[] = {
    {"name", F_STRING, true, NULL, NULL},
    {"policy_type", F_ENUM, true, POLICY_TYPES, NULL},
    {"accrual_method", F_ENUM, true, ACCRUAL_METHODS, NULL},
    {"accrual_rate", F_DECIMAL_NULL, false, NULL, NULL},
    {"accrual_rate_unit", F_DECIMAL_NULL, false, NULL, NULL},
    {"paid_out_on_termination", F_BOOL, false, NULL, NULL},
    {"accrual_waiting_period_days", F_INT_NULL, false, NULL, NULL},
    {"carryover_limit_hours", F_DECIMAL_NULL, false, NULL, NULL},
    {"max_accrual_hours_per_year", F_DECIMAL_NULL, false, NULL, NULL},
    {"max_hours", F_DECIMAL_NULL, false, NULL, NULL},
    {"policy_reset_date", F_STRING_NULL, false, NULL, check_month_day},
    {"complete", F_BOOL, false, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

/* ---- reading ------------------------------------------------------------ */

struct policy {
    char company[SB_UUID_LEN + 1];
    char type[16];
    long rev;
    bool active;
    bool unlimited;
    json_t *doc; /* every Time-Off-Policy-Request-Base field, as stored */
};

/* The policy's row, with its columns folded into doc.  Seeded policies and
 * those of an older --data file keep part of their settings in columns
 * only.  false when there is no such policy. */
static bool load_policy(sqlite3 *db, const char *uuid, struct policy *p)
{
    static const char *sql =
        "SELECT company_uuid, name, policy_type, accrual_rate, paid_out, rev, active, doc"
        " FROM time_off_policies WHERE uuid=?";
    memset(p, 0, sizeof *p);
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, uuid);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return false;
    }
    snprintf(p->company, sizeof p->company, "%s", db_col_text(st, 0));
    snprintf(p->type, sizeof p->type, "%s", db_col_text(st, 2));
    p->rev = (long)sqlite3_column_int64(st, 5);
    p->active = sqlite3_column_int(st, 6) != 0;
    p->doc = db_col_json(st, 7);
    if (!json_is_object(p->doc)) {
        json_decref(p->doc);
        p->doc = json_object();
    }
    json_object_set_new(p->doc, "name", json_string(db_col_text(st, 1)));
    json_object_set_new(p->doc, "policy_type", json_string(p->type));
    const char *rate = db_col_text(st, 3);
    json_object_set_new(p->doc, "accrual_rate", *rate ? json_string(rate) : json_null());
    json_object_set_new(p->doc, "paid_out_on_termination",
                        json_boolean(sqlite3_column_int(st, 4) != 0));
    sqlite3_reset(st);
    if (!json_object_get(p->doc, "accrual_method"))
        json_object_set_new(p->doc, "accrual_method", json_string("per_hour_worked"));
    p->unlimited =
        strcmp(json_string_value(json_object_get(p->doc, "accrual_method")) ?: "",
               "unlimited") == 0;
    return true;
}

/* The policy's employees: each one whose latest activity is not a removal. */
static json_t *policy_employees(sqlite3 *db, const char *uuid)
{
    static const char *sql =
        "SELECT a.employee_uuid, a.balance FROM time_off_activities a"
        " WHERE a.policy_uuid=?1 AND a.event_type <> '" SB_EV_REMOVE "' AND a.id ="
        " (SELECT max(b.id) FROM time_off_activities b"
        "  WHERE b.policy_uuid=?1 AND b.employee_uuid=a.employee_uuid)"
        " ORDER BY a.employee_uuid";
    json_t *arr = json_array();
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return arr;
    db_bind_text(st, 1, uuid);
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "uuid", db_col_text(st, 0),
                                             "balance", db_col_text(st, 1)));
    sqlite3_reset(st);
    return arr;
}

/* The Time-Off-Policy of a loaded policy. */
static json_t *policy_json(sqlite3 *db, const char *uuid, const struct policy *p)
{
    static const char *const nullable[] = {
        "accrual_rate", "accrual_rate_unit", "accrual_waiting_period_days",
        "carryover_limit_hours", "max_accrual_hours_per_year", "max_hours",
        "policy_reset_date"};
    json_t *o = json_pack("{s:s, s:s}", "uuid", uuid, "company_uuid", p->company);
    json_object_set(o, "name", json_object_get(p->doc, "name"));
    json_object_set(o, "policy_type", json_object_get(p->doc, "policy_type"));
    json_object_set(o, "accrual_method", json_object_get(p->doc, "accrual_method"));
    for (size_t i = 0; i < sizeof nullable / sizeof nullable[0]; i++) {
        json_t *v = json_object_get(p->doc, nullable[i]);
        json_object_set(o, nullable[i], v ? v : json_null());
        if (i == 1) /* the spec's order: paid_out_on_termination follows the unit */
            json_object_set(o, "paid_out_on_termination",
                            json_object_get(p->doc, "paid_out_on_termination"));
    }
    json_t *complete = json_object_get(p->doc, "complete");
    json_object_set(o, "complete", complete ? complete : json_true());
    char version[33];
    version_of(uuid, p->rev, version);
    json_object_set_new(o, "version", p->active ? json_string(version) : json_null());
    json_object_set_new(o, "is_active", json_boolean(p->active));
    json_object_set_new(o, "employees", policy_employees(db, uuid));
    return o;
}

/* A Time-Off-Policy, or NULL when there is no such policy. */
static json_t *render_policy(sqlite3 *db, const char *uuid)
{
    struct policy p;
    if (!load_policy(db, uuid, &p))
        return NULL;
    json_t *o = policy_json(db, uuid, &p);
    json_decref(p.doc);
    return o;
}

/* The policy in the path, when it belongs to the token's company.  Replies
 * 404 and returns false otherwise; p->doc must be released on true. */
static bool own_policy(struct request *r, struct policy *p)
{
    if (load_policy(r->db, r->params[0], p) && own_company(r, p->company))
        return true;
    json_decref(p->doc);
    p->doc = NULL;
    reply_not_found(r);
    return false;
}

int h_time_off_policies_list(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    static const char *sql =
        "SELECT uuid FROM time_off_policies WHERE company_uuid=? ORDER BY rowid";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, r->params[0]);
    return reply_json(r, 200, render_each(r->db, st, render_policy));
}

int h_time_off_policy_get(struct request *r)
{
    struct policy p;
    if (!own_policy(r, &p))
        return 0;
    json_t *o = policy_json(r->db, r->params[0], &p);
    json_decref(p.doc);
    return reply_json(r, 200, o);
}

/* ---- writing ------------------------------------------------------------ */

/* Store doc (every request field) in the policy's row, creating it when
 * company is not NULL, and move its version. */
static int store_policy(sqlite3 *db, const char *uuid, const char *company, const json_t *doc)
{
    static const char *ins =
        "INSERT INTO time_off_policies(uuid, company_uuid, name, policy_type, accrual_rate,"
        " paid_out, doc) VALUES(?6,?7,?1,?2,?3,?4,?5)";
    static const char *upd =
        "UPDATE time_off_policies SET name=?1, policy_type=?2, accrual_rate=?3, paid_out=?4,"
        " doc=?5, rev=rev+1 WHERE uuid=?6";
    const char *rate = json_string_value(json_object_get(doc, "accrual_rate"));
    char *text = db_json_text(doc);
    sqlite3_stmt *st = db_stmt(db, company ? ins : upd);
    int rc = SQLITE_ERROR;
    if (st && text) {
        db_bind_text(st, 1, json_string_value(json_object_get(doc, "name")));
        db_bind_text(st, 2, json_string_value(json_object_get(doc, "policy_type")));
        db_bind_text(st, 3, rate ? rate : "");
        sqlite3_bind_int(st, 4, json_is_true(json_object_get(doc, "paid_out_on_termination")));
        db_bind_text(st, 5, text);
        db_bind_text(st, 6, uuid);
        if (company)
            db_bind_text(st, 7, company);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    free(text);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int bump_policy(sqlite3 *db, const char *uuid, int active)
{
    static const char *sql = "UPDATE time_off_policies SET rev=rev+1, active=? WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, active);
    db_bind_text(st, 2, uuid);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Gusto refuses an accrual rate on an unlimited policy. */
static void unlimited_rule(const json_t *doc, struct errlist *e)
{
    const char *method = json_string_value(json_object_get(doc, "accrual_method"));
    const json_t *rate = json_object_get(doc, "accrual_rate");
    if (method && strcmp(method, "unlimited") == 0 && rate && !json_is_null(rate))
        errlist_add(e, "accrual_rate", "invalid_attribute_value",
                    "accrual_rate cannot be set on an unlimited policy");
}

/* Before API version 2025-11-15 a per_anniversary_year policy refused
 * carryover_limit_hours (Gusto's v2025-11-15 changelog: "Previously this
 * was an unsupported field and an error was thrown"); `doc` is the policy
 * as it would be stored, the request's own fields are checked. */
static void carryover_rule(const struct request *r, const json_t *doc, struct errlist *e)
{
    const char *method = json_string_value(json_object_get(doc, "accrual_method"));
    const json_t *limit = json_object_get(r->json, "carryover_limit_hours");
    if (!req_version_ge(r, "2025-11-15") && method &&
        strcmp(method, "per_anniversary_year") == 0 && limit && !json_is_null(limit))
        errlist_add(e, "carryover_limit_hours", "invalid_attribute_value",
                    "carryover_limit_hours is not supported on a per_anniversary_year policy");
}

int h_time_off_policy_create(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    req_entity(r, "Company", r->params[0]);
    struct errlist e = {0};
    validate_body(r, POLICY_FIELDS, true, &e);
    if (!e.errors) {
        unlimited_rule(r->json, &e);
        carryover_rule(r, r->json, &e);
    }
    if (e.errors)
        return reply_errlist(r, &e);
    json_t *doc = json_object();
    apply_fields(doc, r->json, POLICY_FIELDS);
    if (!json_object_get(doc, "paid_out_on_termination"))
        json_object_set_new(doc, "paid_out_on_termination", json_false());
    if (!json_object_get(doc, "complete")) {
        /* Configured when it says how time accrues. */
        const json_t *rate = json_object_get(doc, "accrual_rate");
        bool unlimited = strcmp(json_string_value(json_object_get(doc, "accrual_method")),
                                "unlimited") == 0;
        json_object_set_new(doc, "complete", json_boolean(unlimited ||
                                                          (rate && !json_is_null(rate))));
    }
    char uuid[SB_UUID_LEN + 1];
    uuid_random(uuid);
    int rc = store_policy(r->db, uuid, r->params[0], doc);
    json_decref(doc);
    if (rc != 0)
        return db_error(r);
    return reply_json(r, 201, render_policy(r->db, uuid));
}

static int refuse_inactive(struct request *r)
{
    return reply_error(r, 422, "base", "invalid_operation",
                       "This time off policy has been deactivated");
}

int h_time_off_policy_update(struct request *r)
{
    struct policy p;
    if (!own_policy(r, &p))
        return 0;
    req_entity(r, "TimeOffPolicy", r->params[0]);
    const char *uuid = r->params[0];
    int rc = 0;
    struct errlist e = {0};
    if (!p.active) {
        rc = refuse_inactive(r);
        goto out;
    }
    if (check_version(r, uuid, p.rev) != 0)
        goto out;
    validate_body(r, POLICY_FIELDS, false, &e);
    if (!e.errors) {
        json_t *merged = json_deep_copy(p.doc);
        apply_fields(merged, r->json, POLICY_FIELDS);
        unlimited_rule(merged, &e);
        carryover_rule(r, merged, &e);
        json_decref(merged);
    }
    if (e.errors) {
        rc = reply_errlist(r, &e);
        goto out;
    }
    if (apply_fields(p.doc, r->json, POLICY_FIELDS) && store_policy(r->db, uuid, NULL, p.doc)) {
        rc = db_error(r);
        goto out;
    }
    rc = reply_json(r, 200, render_policy(r->db, uuid));
out:
    json_decref(p.doc);
    return rc;
}

/* ---- employees and balances --------------------------------------------- */

/* An employee's standing on a policy: on it or not, and the balance. */
static bool on_policy(sqlite3 *db, const char *policy, const char *emp, char balance[32])
{
    static const char *sql =
        "SELECT event_type, balance FROM time_off_activities WHERE policy_uuid=? AND"
        " employee_uuid=? ORDER BY id DESC LIMIT 1";
    snprintf(balance, 32, "0.0");
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, policy);
    db_bind_text(st, 2, emp);
    bool on = sqlite3_step(st) == SQLITE_ROW && strcmp(db_col_text(st, 0), SB_EV_REMOVE) != 0;
    if (on)
        snprintf(balance, 32, "%s", db_col_text(st, 1));
    sqlite3_reset(st);
    return on;
}

/* Hours as Gusto writes them: at least one decimal, at most three. */
static void hours(double h, char out[32])
{
    if (fabs(h) < 0.0005)
        h = 0;
    snprintf(out, 32, "%.3f", h);
    char *end = out + strlen(out) - 1;
    while (end[0] == '0' && end[-1] != '.')
        *end-- = 0;
}

/* Write one activity: the new balance and the change from the old one. */
static int record(struct request *r, const struct policy *p, const char *emp,
                  const char *event, const char *desc, const char *old_balance,
                  const char *new_balance)
{
    char now[40], bal[32], change[32];
    now_iso8601(now);
    double to = strtod(new_balance, NULL);
    hours(to, bal);
    hours(to - strtod(old_balance, NULL), change);
    return store_time_off(r->db, emp, r->params[0], p->type, event, desc, now, bal, change);
}

enum roster_op { ROSTER_ADD, ROSTER_REMOVE, ROSTER_BALANCE };

static bool has_job(sqlite3 *db, const char *emp)
{
    static const char *sql = "SELECT 1 FROM jobs WHERE employee_uuid=? LIMIT 1";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, emp);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return yes;
}

static bool is_terminated(sqlite3 *db, const char *emp)
{
    static const char *sql = "SELECT terminated FROM employees WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, emp);
    bool yes = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    sqlite3_reset(st);
    return yes;
}

/* The name of another active policy of the same type the employee is on
 * ("" when none): Gusto allows one policy of each type per employee. */
static void other_of_type(sqlite3 *db, const struct policy *p, const char *policy,
                          const char *emp, char name[96])
{
    static const char *sql =
        "SELECT p.name FROM time_off_policies p"
        " WHERE p.company_uuid=?4 AND p.active AND p.policy_type=?2 AND p.uuid<>?1"
        " AND (SELECT event_type FROM time_off_activities a WHERE a.policy_uuid=p.uuid"
        "  AND a.employee_uuid=?3 ORDER BY a.id DESC LIMIT 1) <> '" SB_EV_REMOVE "'"
        " ORDER BY p.rowid LIMIT 1";
    name[0] = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return;
    db_bind_text(st, 1, policy);
    db_bind_text(st, 2, p->type);
    db_bind_text(st, 3, emp);
    db_bind_text(st, 4, p->company);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(name, 96, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
}

/* Check the body's {"employees":[{"uuid", "balance"}]}: every problem of
 * every entry, before anything is written. */
static void check_roster(struct request *r, const struct policy *p, enum roster_op op,
                         struct errlist *e)
{
    const json_t *list = json_object_get(r->json, "employees");
    if (op == ROSTER_BALANCE && p->unlimited) {
        errlist_add(e, "base", "invalid_operation",
                    "An unlimited time off policy has no balances to update");
        return;
    }
    if (!json_is_array(list) || json_array_size(list) == 0) {
        errlist_add(e, "employees", "invalid_attribute_value",
                    "employees must be a non-empty array of {\"uuid\"%s}",
                    op == ROSTER_REMOVE ? "" : ", \"balance\"");
        return;
    }
    size_t i;
    const json_t *x;
    json_array_foreach(list, i, x) {
        const char *emp = json_string_value(json_object_get(x, "uuid"));
        const json_t *bal = json_object_get(x, "balance");
        char now[32], other[96] = "";
        if (op == ROSTER_ADD && emp && own_employee(r, emp) &&
            !on_policy(r->db, r->params[0], emp, now))
            other_of_type(r->db, p, r->params[0], emp, other);
        if (!emp)
            errlist_add(e, "employees", "invalid_attribute_value",
                        "employees[%zu].uuid is required", i);
        else if (!own_employee(r, emp))
            errlist_add(e, "employees", "invalid_attribute_value",
                        "employees[%zu].uuid: no employee %.40s in this company", i, emp);
        else if (op == ROSTER_ADD && !has_job(r->db, emp))
            errlist_add(e, "employees", "invalid_attribute_value",
                        "employees[%zu]: employee %.40s has no job; employees need at least"
                        " one job to be added to a time off policy", i, emp);
        else if (op == ROSTER_ADD && is_terminated(r->db, emp))
            errlist_add(e, "employees", "invalid_attribute_value",
                        "employees[%zu]: employee %.40s is terminated; a terminated employee"
                        " cannot be added to a time off policy", i, emp);
        else if (op == ROSTER_ADD && other[0])
            errlist_add(e, "employees", "invalid_attribute_value",
                        "employees[%zu]: employee %.40s is already on the %s policy \"%.60s\";"
                        " an employee can be on only one policy of each type", i, emp, p->type,
                        other);
        else if (op == ROSTER_BALANCE && !on_policy(r->db, r->params[0], emp, now))
            errlist_add(e, "employees", "invalid_attribute_value",
                        "employees[%zu]: employee %.40s is not on this policy", i, emp);
        if (op == ROSTER_REMOVE)
            continue;
        if (!bal || json_is_null(bal)) {
            if (op == ROSTER_BALANCE)
                errlist_add(e, "employees", "invalid_attribute_value",
                            "employees[%zu].balance is required", i);
        } else if (p->unlimited) {
            errlist_add(e, "employees", "invalid_attribute_value",
                        "employees[%zu].balance: an unlimited policy has no balances", i);
        } else if (!json_is_string(bal) || !valid_decimal(json_string_value(bal))) {
            errlist_add(e, "employees", "invalid_attribute_value",
                        "employees[%zu].balance must be a decimal string such as \"40.0\"",
                        i);
        }
    }
}

static int roster(struct request *r, enum roster_op op)
{
    struct policy p;
    if (!own_policy(r, &p))
        return 0;
    req_entity(r, "TimeOffPolicy", r->params[0]);
    int rc;
    struct errlist e = {0};
    if (!p.active) {
        rc = refuse_inactive(r);
        goto out;
    }
    check_roster(r, &p, op, &e);
    if (e.errors) {
        rc = reply_errlist(r, &e);
        goto out;
    }
    bool changed = false;
    const json_t *list = json_object_get(r->json, "employees");
    size_t i;
    const json_t *x;
    json_array_foreach(list, i, x) {
        const char *emp = json_string_value(json_object_get(x, "uuid"));
        const char *bal = json_string_value(json_object_get(x, "balance"));
        char old[32];
        bool on = on_policy(r->db, r->params[0], emp, old);
        int w;
        if (op == ROSTER_ADD && !on)
            w = record(r, &p, emp, EV_ADD, "Added to policy", "0.0", bal ? bal : "0.0");
        else if (op == ROSTER_REMOVE && on)
            w = record(r, &p, emp, SB_EV_REMOVE, "Removed from policy", old, "0.0");
        else if (op == ROSTER_BALANCE)
            w = record(r, &p, emp, EV_BALANCE, "Balance updated", old, bal);
        else
            continue; /* already on (add) or already off (remove): nothing to do */
        if (w != 0) {
            rc = db_error(r);
            goto out;
        }
        changed = true;
    }
    if (changed && bump_policy(r->db, r->params[0], 1) != 0) {
        rc = db_error(r);
        goto out;
    }
    rc = reply_json(r, 200, render_policy(r->db, r->params[0]));
out:
    json_decref(p.doc);
    return rc;
}

int h_time_off_policy_add_employees(struct request *r) { return roster(r, ROSTER_ADD); }
int h_time_off_policy_remove_employees(struct request *r) { return roster(r, ROSTER_REMOVE); }
int h_time_off_policy_balance(struct request *r) { return roster(r, ROSTER_BALANCE); }

/* Deactivating takes everyone off the policy; its version becomes null.
 * Deactivating it again changes nothing. */
int h_time_off_policy_deactivate(struct request *r)
{
    struct policy p;
    if (!own_policy(r, &p))
        return 0;
    req_entity(r, "TimeOffPolicy", r->params[0]);
    int rc = 0;
    if (p.active) {
        json_t *emps = policy_employees(r->db, r->params[0]);
        size_t i;
        json_t *x;
        json_array_foreach(emps, i, x) {
            if (rc == 0)
                rc = record(r, &p, json_string_value(json_object_get(x, "uuid")), SB_EV_REMOVE,
                            "Policy deactivated",
                            json_string_value(json_object_get(x, "balance")), "0.0");
        }
        json_decref(emps);
        if (rc == 0)
            rc = bump_policy(r->db, r->params[0], 0);
    }
    json_decref(p.doc);
    if (rc != 0)
        return db_error(r);
    return reply_json(r, 200, render_policy(r->db, r->params[0]));
}
