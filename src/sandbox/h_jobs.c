/* h_jobs.c - handlers for jobs and their effective-dated compensations,
 * with Gusto's documented compensation rules (docs/sandbox.md).
 * Compensation fields are only visible with the compensations:read scope;
 * a write to a compensation moves the version of its job and employee. */
#include "sandbox/sandbox.h"
#include "shared/comprules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct field JOB_FIELDS[] = {
    {"title", F_STRING_NULL, true, NULL, NULL},
    {"hire_date", F_DATE, true, NULL, NULL},
    {"two_percent_shareholder", F_BOOL, false, NULL, NULL},
    {"state_wc_covered", F_BOOL_NULL, false, NULL, NULL},
    {"state_wc_class_code", F_STRING_NULL, false, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

static const struct field COMP_FIELDS[] = {
    {"rate", F_MONEY, true, NULL, NULL},
    {"payment_unit", F_ENUM, true, PAYMENT_UNITS, NULL},
    {"flsa_status", F_ENUM, true, FLSA_STATUSES, NULL},
    {"effective_date", F_DATE, false, NULL, NULL},
    {"title", F_STRING, false, NULL, NULL},
    {"adjust_for_minimum_wage", F_BOOL, false, NULL, NULL},
    {"minimum_wages", F_ARRAY, false, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

static struct render_opts opts_for(struct request *r)
{
    struct render_opts o = {0};
    o.comp_scope = auth_has_scope(r, "compensations:read");
    const char *inc = req_query(r, "include");
    o.all_compensations = o.comp_scope && inc && strcmp(inc, "all_compensations") == 0;
    return o;
}

static bool include_ok(struct request *r)
{
    const char *inc = req_query(r, "include");
    if (inc && strcmp(inc, "all_compensations") != 0) {
        reply_error(r, 422, "include", "invalid_parameter",
                    "include must be all_compensations, got \"%.40s\"", inc);
        return false;
    }
    return true;
}

/* Owner employee of a job (and its company check). */
static bool job_owner(struct request *r, const char *job, char emp[37])
{
    static const char *sql = "SELECT employee_uuid FROM jobs WHERE uuid=?";
    emp[0] = 0;
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, job);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(emp, 37, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
    return *emp && own_employee(r, emp);
}

static bool comp_owner(struct request *r, const char *comp, char job[37], char emp[37])
{
    static const char *sql = "SELECT job_uuid, employee_uuid FROM compensations WHERE uuid=?";
    job[0] = emp[0] = 0;
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, comp);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(job, 37, "%s", db_col_text(st, 0));
        snprintf(emp, 37, "%s", db_col_text(st, 1));
    }
    sqlite3_reset(st);
    return *emp && own_employee(r, emp);
}

/* ---- jobs ------------------------------------------------------------- */

int h_jobs_list(struct request *r)
{
    const char *emp = r->params[0];
    if (!own_employee(r, emp))
        return reply_not_found(r);
    if (!include_ok(r))
        return 0;
    long page, per;
    bool paginate;
    if (!parse_paging(r, &page, &per, &paginate))
        return 0;
    static const char *csql = "SELECT count(*) FROM jobs WHERE employee_uuid=?";
    static const char *sql =
        "SELECT uuid FROM jobs WHERE employee_uuid=? ORDER BY seq LIMIT ? OFFSET ?";
    sqlite3_stmt *st = db_stmt(r->db, csql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, emp);
    long total = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, emp);
    sqlite3_bind_int64(st, 2, paginate ? per : -1);
    sqlite3_bind_int64(st, 3, paginate ? (page - 1) * per : 0);
    json_t *ids = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(ids, json_string(db_col_text(st, 0)));
    sqlite3_reset(st);
    struct render_opts o = opts_for(r);
    json_t *out = json_array();
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        json_t *j = render_job(r->db, json_string_value(id), &o);
        if (j)
            json_array_append_new(out, j);
    }
    json_decref(ids);
    if (paginate)
        paging_headers(r, page, per, total);
    return reply_json(r, 200, out);
}

int h_job_create(struct request *r)
{
    const char *emp = r->params[0];
    if (!own_employee(r, emp))
        return reply_not_found(r);
    struct errlist e = {0};
    validate_body(r, JOB_FIELDS, true, &e);
    if (e.errors)
        return reply_errlist(r, &e);
    json_t *doc = json_pack("{s:b, s:n, s:n}", "two_percent_shareholder", 0,
                            "state_wc_covered", "state_wc_class_code");
    apply_fields(doc, r->json, JOB_FIELDS);
    char uuid[37], comp[37];
    uuid_random(uuid);
    int rc = store_job(r->db, uuid, emp, doc);
    /* Gusto creates the job's first compensation with it: non-exempt,
     * hourly, $0, effective on the hire date; the pay is then set with
     * PUT /v1/compensations/{uuid}. */
    uuid_random(comp);
    rc |= store_stub_compensation(r->db, comp, uuid, emp, doc);
    json_decref(doc);
    if (rc)
        return db_error(r);
    touch_employee(r->db, emp);
    struct render_opts o = opts_for(r);
    return reply_json(r, 201, render_job(r->db, uuid, &o));
}

int h_job_get(struct request *r)
{
    char emp[37];
    if (!job_owner(r, r->params[0], emp))
        return reply_not_found(r);
    if (!include_ok(r))
        return 0;
    struct render_opts o = opts_for(r);
    return reply_json(r, 200, render_job(r->db, r->params[0], &o));
}

int h_job_update(struct request *r)
{
    const char *uuid = r->params[0];
    char emp[37];
    if (!job_owner(r, uuid, emp))
        return reply_not_found(r);
    long rev = 0;
    json_t *doc = store_load(r->db, "jobs", uuid, &rev);
    if (!doc)
        return reply_not_found(r);
    req_entity(r, "Job", uuid);
    /* A stale version is a 422 here (docs/sandbox.md, "Stale versions"). */
    if (check_version_as(r, uuid, rev, 422) != 0) {
        json_decref(doc);
        return 0;
    }
    struct errlist e = {0};
    validate_body(r, JOB_FIELDS, false, &e);
    if (e.errors) {
        json_decref(doc);
        return reply_errlist(r, &e);
    }
    struct render_opts o = opts_for(r);
    if (!apply_fields(doc, r->json, JOB_FIELDS)) {
        json_decref(doc);
        return reply_json(r, 200, render_job(r->db, uuid, &o));
    }
    char *text = db_json_text(doc);
    json_decref(doc);
    static const char *sql = "UPDATE jobs SET rev=rev+1, doc=? WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    int rc = SQLITE_ERROR;
    if (st && text) {
        db_bind_text(st, 1, text);
        db_bind_text(st, 2, uuid);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    free(text);
    if (rc != SQLITE_DONE)
        return db_error(r);
    touch_employee(r->db, emp);
    return reply_json(r, 200, render_job(r->db, uuid, &o));
}

int h_job_delete(struct request *r)
{
    const char *uuid = r->params[0];
    char emp[37];
    if (!job_owner(r, uuid, emp))
        return reply_not_found(r);
    static const char *first = "SELECT uuid FROM jobs WHERE employee_uuid=? ORDER BY seq LIMIT 1";
    sqlite3_stmt *q = db_stmt(r->db, first);
    if (!q)
        return db_error(r);
    db_bind_text(q, 1, emp);
    bool primary = sqlite3_step(q) == SQLITE_ROW && strcmp(db_col_text(q, 0), uuid) == 0;
    sqlite3_reset(q);
    if (primary) {
        req_entity(r, "Job", uuid);
        struct errlist e = {0};
        errlist_add(&e, "base", "invalid_operation",
                    "Cannot delete the employee's primary job; update its title and "
                    "compensation instead");
        return reply_errlist(r, &e);
    }
    static const char *dels[] = {"DELETE FROM compensations WHERE job_uuid=?",
                                 "DELETE FROM jobs WHERE uuid=?"};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = db_stmt(r->db, dels[i]);
        if (!st)
            return db_error(r);
        db_bind_text(st, 1, uuid);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return db_error(r);
    }
    touch_employee(r->db, emp);
    return reply_empty(r, 204);
}

/* ---- compensations ---------------------------------------------------- */

static const char *COMP_DATE =
    "SELECT 1 FROM compensations WHERE job_uuid=? AND effective_date=? AND uuid<>?";

static bool comp_date_taken(sqlite3 *db, const char *job, const char *date,
                            const char *except)
{
    sqlite3_stmt *st = db_stmt(db, COMP_DATE);
    if (!st)
        return false;
    db_bind_text(st, 1, job);
    db_bind_text(st, 2, date);
    db_bind_text(st, 3, except ? except : "");
    bool taken = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return taken;
}

/* ---- Gusto's compensation rules (docs/sandbox.md) ------------------------
 * From the "Jobs & Compensations" behaviour reference in Gusto's
 * embedded-react-sdk (docs/appendix/jobs-and-compensations.md, written
 * against v2026-06-15), the spec's field descriptions and the 2026-12-01
 * changelog. */

/* The FLSA and payment-unit rules on a compensation as it would be
 * (`merged`: the stored fields with the request's applied): those of
 * shared/comprules.c, and minimum_wages named with the adjustment. */
static void flsa_rules(const json_t *merged, struct errlist *e)
{
    const char *flsa = json_string_value(json_object_get(merged, "flsa_status"));
    const char *unit = json_string_value(json_object_get(merged, "payment_unit"));
    const char *rate = json_string_value(json_object_get(merged, "rate"));
    bool adjust = json_is_true(json_object_get(merged, "adjust_for_minimum_wage"));
    if (rate && !valid_decimal(rate))
        rate = NULL;
    struct comp_violation v[4];
    int n = comp_rules_check(flsa, unit, rate, adjust, v);
    for (int i = 0; i < n; i++)
        errlist_add(e, v[i].field, "invalid_attribute_value", "%s %s (flsa_status %s, %s "
                    "per %s)", v[i].field, v[i].why, flsa ? flsa : "?", rate ? rate : "?",
                    unit ? unit : "?");
    if (adjust && flsa && strcmp(flsa, "Nonexempt") == 0 &&
        json_array_size(json_object_get(merged, "minimum_wages")) == 0)
        errlist_add(e, "minimum_wages", "invalid_attribute_value",
                    "minimum_wages must name at least one minimum wage when "
                    "adjust_for_minimum_wage is true");
}

/* The same month and day a year on (28 February for the 29th). */
static void one_year_after(const char *ymd, char out[11])
{
    int y = (ymd[0] - '0') * 1000 + (ymd[1] - '0') * 100 + (ymd[2] - '0') * 10 + (ymd[3] - '0');
    bool leap_day = strcmp(ymd + 4, "-02-29") == 0;
    snprintf(out, 11, "%04u-%.2s-%.2s", (unsigned)(y + 1) % 10000u, leap_day ? "02" : ymd + 5,
             leap_day ? "28" : ymd + 8);
}

/* The earliest effective date a new compensation may have: the day after
 * the last payroll run, or "" when the company has run none. */
static void min_effective_date(sqlite3 *db, const char *emp, char out[11])
{
    char company[37], through[11];
    out[0] = 0;
    store_employee_company(db, emp, company);
    if (payroll_through(db, company, through))
        ymd_add_days(through, 1, out);
}

/* A compensation of the job dated after today (pending), into out. */
static bool pending_comp(sqlite3 *db, const char *job, char uuid[37], char date[11])
{
    static const char *sql = "SELECT uuid, effective_date FROM compensations"
                             " WHERE job_uuid=? AND effective_date>? ORDER BY effective_date"
                             " LIMIT 1";
    char today[11];
    today_ymd(today);
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, job);
    db_bind_text(st, 2, today);
    bool hit = sqlite3_step(st) == SQLITE_ROW;
    if (hit) {
        snprintf(uuid, 37, "%s", db_col_text(st, 0));
        snprintf(date, 11, "%s", db_col_text(st, 1));
    }
    sqlite3_reset(st);
    return hit;
}

int h_comps_list(struct request *r)
{
    const char *job = r->params[0];
    char emp[37], cur[37];
    if (!job_owner(r, job, emp))
        return reply_not_found(r);
    if (!include_ok(r))
        return 0;
    struct render_opts o = opts_for(r);
    json_t *out = json_array();
    if (!o.all_compensations) {
        if (current_compensation_uuid(r->db, job, cur)) {
            json_t *c = render_compensation(r->db, cur);
            if (c)
                json_array_append_new(out, c);
        }
        return reply_json(r, 200, out);
    }
    static const char *sql =
        "SELECT uuid FROM compensations WHERE job_uuid=? ORDER BY effective_date, seq";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st) {
        json_decref(out);
        return db_error(r);
    }
    db_bind_text(st, 1, job);
    json_t *ids = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(ids, json_string(db_col_text(st, 0)));
    sqlite3_reset(st);
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        json_t *c = render_compensation(r->db, json_string_value(id));
        if (c)
            json_array_append_new(out, c);
    }
    json_decref(ids);
    return reply_json(r, 200, out);
}

int h_comp_create(struct request *r)
{
    const char *job = r->params[0];
    char emp[37];
    if (!job_owner(r, job, emp))
        return reply_not_found(r);
    req_entity(r, "Job", job);
    struct errlist e = {0};
    validate_body(r, COMP_FIELDS, true, &e);
    if (!e.errors)
        flsa_rules(r->json, &e);
    /* The window: from the first day no payroll has run for (Gusto's
     * minimum_effective_date) to a year from today; without a date, that
     * first day (not before the hire date), or the hire date for a job
     * with no compensation. */
    char date[11] = "", min[11], today[11], max[11], hire[11] = "";
    today_ymd(today);
    one_year_after(today, max);
    min_effective_date(r->db, emp, min);
    long ncomps = 0;
    static const char *q =
        "SELECT json_extract(doc,'$.hire_date'),"
        " (SELECT count(*) FROM compensations WHERE job_uuid=jobs.uuid)"
        " FROM jobs WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(r->db, q);
    if (st) {
        db_bind_text(st, 1, job);
        if (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(hire, sizeof hire, "%s", db_col_text(st, 0));
            ncomps = (long)sqlite3_column_int64(st, 1);
        }
        sqlite3_reset(st);
    }
    const char *d = json_string_value(json_object_get(r->json, "effective_date"));
    if (d) {
        snprintf(date, sizeof date, "%s", d);
        if (!e.errors && *min && strcmp(d, min) < 0)
            errlist_add(&e, "effective_date", "invalid_attribute_value",
                        "effective_date %s is on or before a payroll already run; the "
                        "earliest allowed is %s", d, min);
        else if (!e.errors && strcmp(d, max) > 0)
            errlist_add(&e, "effective_date", "invalid_attribute_value",
                        "effective_date %s is more than a year ahead; the latest allowed "
                        "is %s", d, max);
    } else if (ncomps == 0 && valid_date(hire)) {
        snprintf(date, sizeof date, "%s", hire);
    } else {
        snprintf(date, sizeof date, "%s", *min ? min : today);
        if (valid_date(hire) && strcmp(hire, date) > 0)
            snprintf(date, sizeof date, "%s", hire);
    }
    char pu[37], pd[11];
    if (!e.errors && pending_comp(r->db, job, pu, pd))
        errlist_add(&e, "job_id", "invalid_operation",
                    "the job already has a pending compensation (%s, effective %s); update "
                    "or delete that one instead", pu, pd);
    if (!e.errors && comp_date_taken(r->db, job, date, NULL))
        errlist_add(&e, "effective_date", "invalid_attribute_value",
                    "effective_date %s already has a compensation for this job; update "
                    "that compensation instead", date);
    if (e.errors)
        return reply_errlist(r, &e);
    json_t *doc = json_pack("{s:b, s:[]}", "adjust_for_minimum_wage", 0, "minimum_wages");
    apply_fields(doc, r->json, COMP_FIELDS);
    json_object_del(doc, "effective_date");
    char uuid[37];
    uuid_random(uuid);
    int rc = store_compensation(r->db, uuid, job, emp, date, doc);
    json_decref(doc);
    if (rc)
        return db_error(r);
    touch_job(r->db, job);
    return reply_json(r, 201, render_compensation(r->db, uuid));
}

int h_comp_get(struct request *r)
{
    char job[37], emp[37];
    if (!comp_owner(r, r->params[0], job, emp))
        return reply_not_found(r);
    return reply_json(r, 200, render_compensation(r->db, r->params[0]));
}

int h_comp_update(struct request *r)
{
    const char *uuid = r->params[0];
    char job[37], emp[37];
    if (!comp_owner(r, uuid, job, emp))
        return reply_not_found(r);
    long rev = 0;
    json_t *doc = store_load(r->db, "compensations", uuid, &rev);
    if (!doc)
        return reply_not_found(r);
    req_entity(r, "Compensation", uuid);
    /* A stale version is a 422 here (docs/sandbox.md, "Stale versions"). */
    if (check_version_as(r, uuid, rev, 422) != 0) {
        json_decref(doc);
        return 0;
    }
    struct errlist e = {0};
    /* 2026-12-01: a compensation a payroll was paid at is history. */
    if (req_version_ge(r, "2026-12-01") && comp_processed(r->db, uuid)) {
        json_decref(doc);
        errlist_add(&e, "base", "invalid_operation",
                    "compensation %s has been processed on a payroll and cannot be "
                    "changed; create a new compensation for the job (POST "
                    "/v1/jobs/%s/compensations) with the date the change starts",
                    uuid, job);
        return reply_errlist(r, &e);
    }
    validate_body(r, COMP_FIELDS, false, &e);
    const char *d = json_string_value(json_object_get(r->json, "effective_date"));
    if (!e.errors) {
        json_t *merged = json_deep_copy(doc);
        apply_fields(merged, r->json, COMP_FIELDS);
        flsa_rules(merged, &e);
        json_decref(merged);
    }
    char was[11] = "";
    if (d)
        stored_date(r->db, "SELECT effective_date FROM compensations WHERE uuid=?", uuid, was);
    bool moved = d && strcmp(d, was) != 0;
    char min[11];
    /* 2026-12-01: the effective-date window holds for updates too. */
    if (!e.errors && moved && req_version_ge(r, "2026-12-01")) {
        min_effective_date(r->db, emp, min);
        if (*min && strcmp(d, min) < 0)
            errlist_add(&e, "effective_date", "invalid_attribute_value",
                        "effective_date %s is on or before a payroll already run; the "
                        "earliest allowed is %s", d, min);
    }
    if (!e.errors && moved && comp_date_taken(r->db, job, d, uuid))
        errlist_add(&e, "effective_date", "invalid_attribute_value",
                    "effective_date %s already has another compensation for this job", d);
    if (e.errors) {
        json_decref(doc);
        return reply_errlist(r, &e);
    }
    int w = store_update_dated(r->db, DATED_COMPENSATION, uuid, doc, r->json, COMP_FIELDS, d);
    if (w < 0)
        return db_error(r);
    if (w > 0)
        touch_job(r->db, job);
    return reply_json(r, 200, render_compensation(r->db, uuid));
}

int h_comp_delete(struct request *r)
{
    const char *uuid = r->params[0];
    char job[37], emp[37];
    if (!comp_owner(r, uuid, job, emp))
        return reply_not_found(r);
    if (comp_processed(r->db, uuid))
        return reply_error(r, 422, "base", "invalid_operation",
                           "Cannot delete a compensation that has been processed on a "
                           "payroll");
    static const char *q = "SELECT count(*) FROM compensations WHERE job_uuid=?";
    sqlite3_stmt *st = db_stmt(r->db, q);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, job);
    long n = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (n <= 1)
        return reply_error(r, 422, "base", "invalid_operation",
                           "Cannot delete the only compensation of a job; update it instead");
    char cur[37];
    const char *cc = current_compensation_uuid(r->db, job, cur);
    if (cc && strcmp(cc, uuid) == 0)
        return reply_error(r, 422, "base", "invalid_operation",
                           "Cannot delete the job's current compensation");
    static const char *sql = "DELETE FROM compensations WHERE uuid=?";
    st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, uuid);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_error(r);
    touch_job(r->db, job);
    return reply_empty(r, 204);
}
