/* h_jobs.c - handlers for jobs and their effective-dated compensations.
 * Compensation fields are only visible with the compensations:read scope;
 * a write to a compensation moves the version of its job and employee. */
#include "sandbox/sandbox.h"

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
    char uuid[37];
    uuid_random(uuid);
    int rc = store_job(r->db, uuid, emp, doc);
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
    if (check_version(r, uuid, rev) != 0) {
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

/* Owners are paid per paycheck (spec: "If the employee is an owner, rate
 * should be 'Paycheck'"). */
static void owner_rule(const json_t *merged, struct errlist *e)
{
    const char *flsa = json_string_value(json_object_get(merged, "flsa_status"));
    const char *unit = json_string_value(json_object_get(merged, "payment_unit"));
    if (flsa && unit && strcmp(flsa, "Owner") == 0 && strcmp(unit, "Paycheck") != 0)
        errlist_add(e, "payment_unit", "invalid_attribute_value",
                    "payment_unit must be Paycheck when flsa_status is Owner");
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
    struct errlist e = {0};
    validate_body(r, COMP_FIELDS, true, &e);
    if (!e.errors)
        owner_rule(r->json, &e);
    /* The first compensation starts on the job's hire date; later ones today. */
    char date[11] = "";
    const char *d = json_string_value(json_object_get(r->json, "effective_date"));
    if (d) {
        snprintf(date, sizeof date, "%s", d);
    } else {
        static const char *q =
            "SELECT json_extract(doc,'$.hire_date'),"
            " (SELECT count(*) FROM compensations WHERE job_uuid=jobs.uuid)"
            " FROM jobs WHERE uuid=?";
        sqlite3_stmt *st = db_stmt(r->db, q);
        if (st) {
            db_bind_text(st, 1, job);
            if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 1) == 0)
                snprintf(date, sizeof date, "%s", db_col_text(st, 0));
            sqlite3_reset(st);
        }
        if (!valid_date(date))
            today_ymd(date);
    }
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
    if (check_version(r, uuid, rev) != 0) {
        json_decref(doc);
        return 0;
    }
    struct errlist e = {0};
    validate_body(r, COMP_FIELDS, false, &e);
    const char *d = json_string_value(json_object_get(r->json, "effective_date"));
    if (!e.errors) {
        json_t *merged = json_deep_copy(doc);
        apply_fields(merged, r->json, COMP_FIELDS);
        owner_rule(merged, &e);
        json_decref(merged);
    }
    if (!e.errors && d && comp_date_taken(r->db, job, d, uuid))
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
