/* render.c - turns stored rows into the JSON objects of Gusto's schemas
 * (Employee, Job, Compensation, Location, Employee-Address,
 * Employee-Work-Address), with versions, the "current" rules for effective
 * dated children, and scope-dependent fields.  Also bumps versions. */
#include "sandbox/sandbox.h"

#include <string.h>

/* Copy doc[key] into out, or null when absent. */
static void put(json_t *out, const json_t *doc, const char *key)
{
    json_t *v = json_object_get(doc, key);
    json_object_set_new(out, key, v ? json_incref(v) : json_null());
}

/* Copy doc[key] into out only when present and not null. */
static void put_opt(json_t *out, const json_t *doc, const char *key)
{
    json_t *v = json_object_get(doc, key);
    if (v && !json_is_null(v))
        json_object_set(out, key, v);
}

static void put_str(json_t *out, const char *key, const char *s)
{
    json_object_set_new(out, key, json_string(s));
}

static void put_version(json_t *out, const char *uuid, long rev)
{
    char v[33];
    version_of(uuid, rev, v);
    put_str(out, "version", v);
}

/* ---- current-by-effective-date rules ---------------------------------- */

static const char *pick_current(sqlite3 *db, const char *sql_now,
                                const char *sql_first, const char *key,
                                char out[37])
{
    char today[11];
    today_ymd(today);
    sqlite3_stmt *st = db_stmt(db, sql_now);
    if (!st)
        return NULL;
    db_bind_text(st, 1, key);
    db_bind_text(st, 2, today);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, 37, "%s", db_col_text(st, 0));
        sqlite3_reset(st);
        return out;
    }
    sqlite3_reset(st);
    st = db_stmt(db, sql_first);
    if (!st)
        return NULL;
    db_bind_text(st, 1, key);
    const char *res = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, 37, "%s", db_col_text(st, 0));
        res = out;
    }
    sqlite3_reset(st);
    return res;
}

const char *current_home_address_uuid(sqlite3 *db, const char *emp, char out[37])
{
    static const char *now =
        "SELECT uuid FROM home_addresses WHERE employee_uuid=? AND effective_date<=?"
        " ORDER BY effective_date DESC, seq DESC LIMIT 1";
    static const char *first =
        "SELECT uuid FROM home_addresses WHERE employee_uuid=?"
        " ORDER BY effective_date ASC, seq ASC LIMIT 1";
    return pick_current(db, now, first, emp, out);
}

const char *current_work_address_uuid(sqlite3 *db, const char *emp, char out[37])
{
    static const char *now =
        "SELECT uuid FROM work_addresses WHERE employee_uuid=? AND effective_date<=?"
        " ORDER BY effective_date DESC, seq DESC LIMIT 1";
    static const char *first =
        "SELECT uuid FROM work_addresses WHERE employee_uuid=?"
        " ORDER BY effective_date ASC, seq ASC LIMIT 1";
    return pick_current(db, now, first, emp, out);
}

const char *current_compensation_uuid(sqlite3 *db, const char *job, char out[37])
{
    static const char *now =
        "SELECT uuid FROM compensations WHERE job_uuid=? AND effective_date<=?"
        " ORDER BY effective_date DESC, seq DESC LIMIT 1";
    static const char *first =
        "SELECT uuid FROM compensations WHERE job_uuid=?"
        " ORDER BY effective_date ASC, seq ASC LIMIT 1";
    return pick_current(db, now, first, job, out);
}

/* ---- versions --------------------------------------------------------- */

void touch_employee(sqlite3 *db, const char *employee_uuid)
{
    static const char *sql = "UPDATE employees SET rev=rev+1 WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, 1, employee_uuid);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
}

void touch_job(sqlite3 *db, const char *job_uuid)
{
    static const char *sql =
        "UPDATE jobs SET rev=rev+1 WHERE uuid=? RETURNING employee_uuid";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return;
    db_bind_text(st, 1, job_uuid);
    char emp[37] = "";
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(emp, sizeof emp, "%s", db_col_text(st, 0));
    while (sqlite3_step(st) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    if (*emp)
        touch_employee(db, emp);
}

/* ---- objects ---------------------------------------------------------- */

json_t *render_location(sqlite3 *db, const char *uuid)
{
    static const char *sql =
        "SELECT company_uuid, rev, created_at, updated_at, doc FROM locations WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, uuid);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return NULL;
    }
    json_t *doc = db_col_json(st, 4);
    json_t *o = json_object();
    put_str(o, "uuid", uuid);
    put_version(o, uuid, sqlite3_column_int64(st, 1));
    put_str(o, "company_uuid", db_col_text(st, 0));
    static const char *keys[] = {"phone_number", "street_1", "street_2", "city", "state",
                                 "zip", "country", "mailing_address", "filing_address"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        put(o, doc, keys[i]);
    put_str(o, "created_at", db_col_text(st, 2));
    put_str(o, "updated_at", db_col_text(st, 3));
    json_t *active = json_object_get(doc, "active");
    bool is_active = !active || json_is_true(active);
    json_object_set_new(o, "active", json_boolean(is_active));
    json_object_set_new(o, "inactive", json_boolean(!is_active));
    sqlite3_reset(st);
    json_decref(doc);
    return o;
}

void render_memo_free(struct render_memo *m)
{
    for (int i = 0; m && i < m->n; i++)
        json_decref(m->loc[i].location);
    if (m)
        m->n = 0;
}

/* render_location through the request's memo: a new reference or NULL. */
static json_t *memo_location(struct render_memo *m, sqlite3 *db, const char *uuid)
{
    if (!m || strlen(uuid) > SB_UUID_LEN)
        return render_location(db, uuid);
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->loc[i].uuid, uuid) == 0)
            return json_incref(m->loc[i].location);
    json_t *l = render_location(db, uuid);
    if (l && m->n < (int)(sizeof m->loc / sizeof m->loc[0])) {
        memcpy(m->loc[m->n].uuid, uuid, strlen(uuid) + 1);
        m->loc[m->n].location = json_incref(l);
        m->n++;
    }
    return l;
}

static json_t *address_fields(const json_t *doc, json_t *o)
{
    static const char *keys[] = {"street_1", "street_2", "city", "state", "zip", "country"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        put(o, doc, keys[i]);
    return o;
}

json_t *render_home_address(sqlite3 *db, const char *uuid)
{
    static const char *sql =
        "SELECT employee_uuid, rev, effective_date, doc FROM home_addresses WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, uuid);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return NULL;
    }
    char emp[37], cur[37];
    snprintf(emp, sizeof emp, "%s", db_col_text(st, 0));
    json_t *doc = db_col_json(st, 3);
    json_t *o = json_object();
    put_str(o, "uuid", uuid);
    put_version(o, uuid, sqlite3_column_int64(st, 1));
    put_str(o, "employee_uuid", emp);
    address_fields(doc, o);
    put_str(o, "effective_date", db_col_text(st, 2));
    json_t *cw = json_object_get(doc, "courtesy_withholding");
    json_object_set_new(o, "courtesy_withholding", json_boolean(json_is_true(cw)));
    sqlite3_reset(st);
    const char *c = current_home_address_uuid(db, emp, cur);
    json_object_set_new(o, "active", json_boolean(c && strcmp(c, uuid) == 0));
    json_decref(doc);
    return o;
}

json_t *render_work_address(sqlite3 *db, const char *uuid)
{
    static const char *sql =
        "SELECT employee_uuid, rev, effective_date, location_uuid FROM work_addresses"
        " WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, uuid);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return NULL;
    }
    char emp[37], loc[37], cur[37];
    snprintf(emp, sizeof emp, "%s", db_col_text(st, 0));
    snprintf(loc, sizeof loc, "%s", db_col_text(st, 3));
    json_t *o = json_object();
    put_str(o, "uuid", uuid);
    put_str(o, "employee_uuid", emp);
    put_str(o, "location_uuid", loc);
    put_str(o, "effective_date", db_col_text(st, 2));
    long rev = (long)sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    const char *c = current_work_address_uuid(db, emp, cur);
    json_object_set_new(o, "active", json_boolean(c && strcmp(c, uuid) == 0));
    put_version(o, uuid, rev);
    json_t *l = render_location(db, loc);
    if (l) {
        static const char *keys[] = {"street_1", "street_2", "city", "state", "zip",
                                     "country"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            put(o, l, keys[i]);
        json_decref(l);
    }
    return o;
}

json_t *render_compensation(sqlite3 *db, const char *uuid)
{
    static const char *sql =
        "SELECT job_uuid, employee_uuid, rev, effective_date, doc FROM compensations"
        " WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, uuid);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return NULL;
    }
    json_t *doc = db_col_json(st, 4);
    json_t *o = json_object();
    put_str(o, "uuid", uuid);
    put_version(o, uuid, sqlite3_column_int64(st, 2));
    put_str(o, "job_uuid", db_col_text(st, 0));
    put_str(o, "employee_uuid", db_col_text(st, 1));
    put(o, doc, "rate");
    put(o, doc, "payment_unit");
    put(o, doc, "flsa_status");
    put_opt(o, doc, "title");
    put_str(o, "effective_date", db_col_text(st, 3));
    json_t *adj = json_object_get(doc, "adjust_for_minimum_wage");
    json_object_set_new(o, "adjust_for_minimum_wage", json_boolean(json_is_true(adj)));
    json_t *mw = json_object_get(doc, "minimum_wages");
    json_object_set_new(o, "minimum_wages", json_is_array(mw) ? json_incref(mw) : json_array());
    sqlite3_reset(st);
    json_decref(doc);
    return o;
}

static json_t *job_compensations(sqlite3 *db, const char *job, bool all, const char *cur)
{
    static const char *sql =
        "SELECT uuid FROM compensations WHERE job_uuid=? ORDER BY effective_date, seq";
    json_t *arr = json_array();
    if (!all) {
        if (cur) {
            json_t *c = render_compensation(db, cur);
            if (c)
                json_array_append_new(arr, c);
        }
        return arr;
    }
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return arr;
    db_bind_text(st, 1, job);
    /* Collect ids first: render_compensation reuses cached statements. */
    json_t *ids = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(ids, json_string(db_col_text(st, 0)));
    sqlite3_reset(st);
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        json_t *c = render_compensation(db, json_string_value(id));
        if (c)
            json_array_append_new(arr, c);
    }
    json_decref(ids);
    return arr;
}

json_t *render_job(sqlite3 *db, const char *uuid, const struct render_opts *o)
{
    static const char *sql =
        "SELECT employee_uuid, rev, doc,"
        " (SELECT uuid FROM jobs j2 WHERE j2.employee_uuid=jobs.employee_uuid"
        "  ORDER BY seq LIMIT 1) FROM jobs WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, uuid);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return NULL;
    }
    char emp[37], cur[37], wa[37];
    snprintf(emp, sizeof emp, "%s", db_col_text(st, 0));
    long rev = (long)sqlite3_column_int64(st, 1);
    json_t *doc = db_col_json(st, 2);
    bool primary = strcmp(db_col_text(st, 3), uuid) == 0;
    sqlite3_reset(st);

    json_t *j = json_object();
    put_str(j, "uuid", uuid);
    put_version(j, uuid, rev);
    put_str(j, "employee_uuid", emp);
    put(j, doc, "hire_date");
    put(j, doc, "title");
    json_object_set_new(j, "primary", json_boolean(primary));
    const char *cc = current_compensation_uuid(db, uuid, cur);
    if (o->comp_scope && cc) {
        json_t *c = render_compensation(db, cc);
        if (c) {
            json_object_set(j, "rate", json_object_get(c, "rate"));
            json_object_set(j, "payment_unit", json_object_get(c, "payment_unit"));
            put_str(j, "current_compensation_uuid", cc);
            json_decref(c);
        }
    } else if (o->comp_scope) {
        /* A job with no compensation (changelog, September 2026). */
        json_object_set_new(j, "current_compensation_uuid", json_null());
    }
    json_t *tps = json_object_get(doc, "two_percent_shareholder");
    json_object_set_new(j, "two_percent_shareholder", json_boolean(json_is_true(tps)));
    put(j, doc, "state_wc_covered");
    put(j, doc, "state_wc_class_code");
    if (o->comp_scope)
        json_object_set_new(j, "compensations",
                            job_compensations(db, uuid, o->all_compensations, cc));
    if (current_work_address_uuid(db, emp, wa)) {
        static const char *lsql = "SELECT location_uuid FROM work_addresses WHERE uuid=?";
        sqlite3_stmt *ls = db_stmt(db, lsql);
        if (ls) {
            db_bind_text(ls, 1, wa);
            if (sqlite3_step(ls) == SQLITE_ROW) {
                char loc[37];
                snprintf(loc, sizeof loc, "%s", db_col_text(ls, 0));
                sqlite3_reset(ls);
                put_str(j, "location_uuid", loc);
                json_t *l = memo_location(o->memo, db, loc);
                if (l)
                    json_object_set_new(j, "location", l);
            } else {
                sqlite3_reset(ls);
            }
        }
    }
    json_decref(doc);
    return j;
}

static json_t *uuid_list(sqlite3 *db, const char *sql, const char *key)
{
    json_t *ids = json_array();
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return ids;
    db_bind_text(st, 1, key);
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(ids, json_string(db_col_text(st, 0)));
    sqlite3_reset(st);
    return ids;
}

/* Employee-Home-Address, the shape used inside employee objects.  Before
 * API version 2025-11-15 it also carries id, effective_from and
 * effective_to (Gusto's v2025-11-15 changelog removed them); effective_to
 * is the day the next address took over (`next`, NULL: none). */
/* The effective_date of the home address whose uuid is the string `id`,
 * into out; NULL when there is none. */
static const char *home_effective_date(sqlite3 *db, const json_t *id, char out[11])
{
    static const char *sql = "SELECT effective_date FROM home_addresses WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, json_string_value(id));
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok)
        snprintf(out, 11, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
    return ok ? out : NULL;
}

static json_t *embedded_home_address(sqlite3 *db, const char *uuid, bool legacy,
                                     const char *next)
{
    json_t *a = render_home_address(db, uuid);
    if (!a)
        return NULL;
    json_t *o = json_object();
    static const char *keys[] = {"street_1", "street_2", "city", "state", "zip",
                                 "country", "active", "uuid", "effective_date"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_object_set(o, keys[i], json_object_get(a, keys[i]));
        if (legacy && i == 7) {
            static const char *sql = "SELECT rowid FROM home_addresses WHERE uuid=?";
            sqlite3_stmt *st = db_stmt(db, sql);
            json_int_t id = 0;
            if (st) {
                db_bind_text(st, 1, uuid);
                if (sqlite3_step(st) == SQLITE_ROW)
                    id = (json_int_t)sqlite3_column_int64(st, 0);
                sqlite3_reset(st);
            }
            json_object_set_new(o, "id", json_integer(id));
            json_object_set(o, "effective_from", json_object_get(a, "effective_date"));
            json_object_set_new(o, "effective_to", next ? json_string(next) : json_null());
        }
    }
    json_decref(a);
    return o;
}

static json_t *paid_time_off(sqlite3 *db, const char *company, const char *emp)
{
    /* The active policies the employee is on: the latest activity is not a
     * removal (h_timeoff_policies.c). */
    static const char *sql =
        "SELECT p.uuid, p.name, p.policy_type, p.accrual_rate, p.paid_out, a.balance,"
        " coalesce(json_extract(p.doc, '$.accrual_method'), 'per_hour_worked')"
        " FROM time_off_policies p JOIN time_off_activities a ON a.id ="
        "  (SELECT max(b.id) FROM time_off_activities b"
        "   WHERE b.policy_uuid=p.uuid AND b.employee_uuid=?1)"
        " WHERE p.company_uuid=?2 AND p.active"
        "  AND a.event_type <> '" SB_EV_REMOVE "'"
        " ORDER BY p.policy_type DESC, p.rowid";
    json_t *arr = json_array();
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return arr;
    db_bind_text(st, 1, emp);
    db_bind_text(st, 2, company);
    while (sqlite3_step(st) == SQLITE_ROW) {
        bool vacation = strcmp(db_col_text(st, 2), "vacation") == 0;
        const char *rate = db_col_text(st, 3);
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:n, s:b}", "name",
                           vacation ? "Vacation Hours" : "Sick Hours", "policy_name",
                           db_col_text(st, 1), "policy_uuid", db_col_text(st, 0),
                           "accrual_unit", "Hour", "accrual_rate",
                           *rate ? json_string(rate) : json_null(), "accrual_method",
                           db_col_text(st, 6), "accrual_period", "Year", "accrual_balance",
                           db_col_text(st, 5), "maximum_accrual_balance",
                           "paid_at_termination", sqlite3_column_int(st, 4)));
    }
    sqlite3_reset(st);
    return arr;
}

static json_t *terminations(sqlite3 *db, const char *emp, bool *terminated)
{
    static const char *sql =
        "SELECT uuid, rev, effective_date, run_termination_payroll FROM terminations"
        " WHERE employee_uuid=? ORDER BY effective_date";
    char today[11];
    today_ymd(today);
    json_t *arr = json_array();
    *terminated = false;
    /* A rehire that has started ends the terminations dated before it. */
    char rehire[11];
    stored_date(db, "SELECT effective_date FROM rehires WHERE employee_uuid=?", emp, rehire);
    if (strcmp(rehire, today) > 0)
        rehire[0] = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return arr;
    db_bind_text(st, 1, emp);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *uuid = db_col_text(st, 0);
        const char *eff = db_col_text(st, 2);
        bool active = strcmp(eff, today) <= 0;
        bool run = sqlite3_column_int(st, 3) != 0;
        char v[33];
        version_of(uuid, (long)sqlite3_column_int64(st, 1), v);
        *terminated |= active && !(rehire[0] && strcmp(rehire, eff) > 0);
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:b, s:b, s:s, s:b}", "uuid", uuid, "version",
                           v, "employee_uuid", emp, "active", active, "cancelable",
                           !active && !run, "effective_date", eff,
                           "run_termination_payroll", run));
    }
    sqlite3_reset(st);
    return arr;
}

json_t *render_employee(sqlite3 *db, const char *uuid, const struct render_opts *o)
{
    static const char *sql =
        "SELECT company_uuid, rev, onboarded, onboarding_status, doc"
        " FROM employees WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, uuid);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return NULL;
    }
    char company[37], status[64];
    snprintf(company, sizeof company, "%s", db_col_text(st, 0));
    snprintf(status, sizeof status, "%s", db_col_text(st, 3));
    long rev = (long)sqlite3_column_int64(st, 1);
    bool onboarded = sqlite3_column_int(st, 2) != 0;
    json_t *doc = db_col_json(st, 4);
    sqlite3_reset(st);
    json_t *cdoc = NULL;
    if (o->company_name) {
        static const char *csql = "SELECT doc FROM companies WHERE uuid=?";
        sqlite3_stmt *cs = db_stmt(db, csql);
        if (cs) {
            db_bind_text(cs, 1, company);
            if (sqlite3_step(cs) == SQLITE_ROW)
                cdoc = db_col_json(cs, 0);
            sqlite3_reset(cs);
        }
    }

    json_t *e = json_object();
    put_str(e, "uuid", uuid);
    put(e, doc, "first_name");
    put(e, doc, "middle_initial");
    put(e, doc, "last_name");
    put(e, doc, "email");
    put_str(e, "company_uuid", company);
    put(e, doc, "manager_uuid");
    put_version(e, uuid, rev);
    put(e, doc, "department");
    bool terminated;
    json_t *terms = terminations(db, uuid, &terminated);
    json_object_set_new(e, "terminated", json_boolean(terminated));
    put(e, doc, "two_percent_shareholder");
    put(e, doc, "work_email");
    json_object_set_new(e, "onboarded", json_boolean(onboarded));
    put_str(e, "onboarding_status", status);
    json_object_set_new(e, "onboarding_documents_config",
                        json_pack("{s:n, s:b}", "uuid", "i9_document", 0));

    json_t *jobs = json_array();
    json_t *ids = uuid_list(db, "SELECT uuid FROM jobs WHERE employee_uuid=? ORDER BY seq",
                            uuid);
    size_t i;
    json_t *id;
    json_t *primary = NULL;
    json_array_foreach(ids, i, id) {
        json_t *j = render_job(db, json_string_value(id), o);
        if (j) {
            json_array_append_new(jobs, j);
            if (json_is_true(json_object_get(j, "primary")))
                primary = j;
        }
    }
    json_decref(ids);
    json_object_set_new(e, "jobs", jobs);
    json_object_set_new(e, "eligible_paid_time_off", paid_time_off(db, company, uuid));
    json_object_set_new(e, "terminations", terms);
    json_object_set_new(e, "garnishments", json_array());
    if (o->custom_fields) {
        json_t *cf = json_object_get(doc, "custom_fields");
        json_object_set_new(e, "custom_fields", json_is_array(cf) ? json_incref(cf)
                                                                  : json_array());
    }
    put(e, doc, "date_of_birth");
    json_t *ssn = json_object_get(doc, "ssn");
    json_object_set_new(e, "has_ssn", json_boolean(json_is_string(ssn) &&
                                                   *json_string_value(ssn)));
    put_str(e, "ssn", ""); /* deprecated: Gusto always sends "" */
    put(e, doc, "phone");
    put(e, doc, "preferred_first_name");
    json_t *pm = json_object_get(doc, "payment_method");
    put_str(e, "payment_method", json_is_string(pm) ? json_string_value(pm) : "Check");
    put(e, doc, "current_employment_status");
    json_object_set_new(e, "historical", json_false());
    put(e, doc, "employee_code");
    put(e, doc, "department_uuid");
    if (primary) {
        json_t *t = json_object_get(primary, "title");
        if (json_is_string(t))
            json_object_set(e, "title", t);
        json_object_set(e, "hired_at", json_object_get(primary, "hire_date"));
        json_t *comps = json_object_get(primary, "compensations");
        const char *cur = json_string_value(json_object_get(primary,
                                                            "current_compensation_uuid"));
        size_t k;
        json_t *c;
        json_array_foreach(comps, k, c) {
            const char *cu = json_string_value(json_object_get(c, "uuid"));
            if (cur && cu && strcmp(cu, cur) == 0)
                json_object_set(e, "flsa_status", json_object_get(c, "flsa_status"));
        }
    }
    json_object_set_new(e, "applicable_tax_ids", json_array());
    bool legacy_home = o->api_version && strcmp(o->api_version, "2025-11-15") < 0;
    json_t *hids = o->current_home_address || o->all_home_addresses
                       ? uuid_list(db,
                                   "SELECT uuid FROM home_addresses WHERE employee_uuid=?"
                                   " ORDER BY effective_date, seq", uuid)
                       : NULL;
    char next[11];
    if (o->current_home_address) {
        char cur[37] = "";
        const char *nx = NULL;
        if (current_home_address_uuid(db, uuid, cur) && legacy_home) {
            json_array_foreach(hids, i, id)
                if (strcmp(json_string_value(id), cur) == 0 && i + 1 < json_array_size(hids))
                    nx = home_effective_date(db, json_array_get(hids, i + 1), next);
        }
        json_t *h = cur[0] ? embedded_home_address(db, cur, legacy_home, nx) : NULL;
        if (h)
            json_object_set_new(e, "current_home_address", h);
    }
    if (o->all_home_addresses) {
        json_t *all = json_array();
        json_array_foreach(hids, i, id) {
            const char *nx = legacy_home && i + 1 < json_array_size(hids)
                                 ? home_effective_date(db, json_array_get(hids, i + 1), next)
                                 : NULL;
            json_t *h = embedded_home_address(db, json_string_value(id), legacy_home, nx);
            if (h)
                json_array_append_new(all, h);
        }
        json_object_set_new(e, "all_home_addresses", all);
    }
    json_decref(hids);
    if (o->company_name && cdoc)
        json_object_set(e, "company_name", json_object_get(cdoc, "name"));
    if (o->portal_invitations) {
        json_object_set_new(e, "member_portal_invitation_status", json_null());
        json_object_set_new(e, "partner_portal_invitation_sent", json_false());
    }
    json_decref(doc);
    json_decref(cdoc);
    return e;
}
