/* h_departments.c - Departments: a company's, one, create, rename
 * (versioned), delete once empty, and add or remove employees (versioned).
 * An employee's department lives in their stored document (department_uuid
 * and the title), which is what the Employee object shows.  The sandbox has
 * no contractors, so `contractors` is always empty. */
#include "sandbox/sandbox.h"

#include <stdio.h>
#include <string.h>

static const struct field DEPARTMENT_FIELDS[] = {
    {"title", F_STRING, true, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

struct department {
    char company[SB_UUID_LEN + 1];
    long rev;
};

static bool load_department(sqlite3 *db, const char *uuid, struct department *d)
{
    static const char *sql = "SELECT company_uuid, rev FROM departments WHERE uuid=?";
    memset(d, 0, sizeof *d);
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, uuid);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        snprintf(d->company, sizeof d->company, "%s", db_col_text(st, 0));
        d->rev = (long)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return found;
}

/* The department in the path, when it is the token's company's; else a 404
 * has been sent. */
static bool own_department(struct request *r, struct department *d)
{
    if (load_department(r->db, r->params[0], d) && own_company(r, d->company))
        return true;
    reply_not_found(r);
    return false;
}

/* [{"uuid"}] of the department's employees, in the company's order. */
static json_t *department_employees(sqlite3 *db, const char *company, const char *uuid)
{
    static const char *sql =
        "SELECT uuid FROM employees WHERE company_uuid=? AND"
        " json_extract(doc, '$.department_uuid')=? ORDER BY seq";
    json_t *arr = json_array();
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return arr;
    db_bind_text(st, 1, company);
    db_bind_text(st, 2, uuid);
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:s}", "uuid", db_col_text(st, 0)));
    sqlite3_reset(st);
    return arr;
}

/* A Department, or NULL when there is none. */
static json_t *render_department(sqlite3 *db, const char *uuid)
{
    static const char *sql = "SELECT company_uuid, title, rev FROM departments WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, uuid);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return NULL;
    }
    char company[SB_UUID_LEN + 1], version[33];
    snprintf(company, sizeof company, "%s", db_col_text(st, 0));
    version_of(uuid, (long)sqlite3_column_int64(st, 2), version);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "uuid", uuid, "company_uuid", company,
                          "title", db_col_text(st, 1), "version", version);
    sqlite3_reset(st);
    json_object_set_new(o, "employees", department_employees(db, company, uuid));
    json_object_set_new(o, "contractors", json_array());
    return o;
}

static int bump_department(sqlite3 *db, const char *uuid)
{
    static const char *sql = "UPDATE departments SET rev=rev+1 WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    db_bind_text(st, 1, uuid);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int h_departments_list(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    static const char *sql = "SELECT uuid FROM departments WHERE company_uuid=? ORDER BY rowid";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, r->params[0]);
    return reply_json(r, 200, render_each(r->db, st, render_department));
}

int h_department_create(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    req_entity(r, "Company", r->params[0]);
    struct errlist e = {0};
    validate_body(r, DEPARTMENT_FIELDS, true, &e);
    if (e.errors)
        return reply_errlist(r, &e);
    static const char *sql =
        "INSERT INTO departments(uuid, company_uuid, title) VALUES(?,?,?)";
    char uuid[SB_UUID_LEN + 1];
    uuid_random(uuid);
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, uuid);
    db_bind_text(st, 2, r->params[0]);
    db_bind_text(st, 3, json_string_value(json_object_get(r->json, "title")));
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_error(r);
    return reply_json(r, 201, render_department(r->db, uuid));
}

int h_department_get(struct request *r)
{
    struct department d;
    if (!own_department(r, &d))
        return 0;
    return reply_json(r, 200, render_department(r->db, r->params[0]));
}

/* A rename: the title, and the copy in each member's document (an
 * employee's version does not move: their own record did not change). */
int h_department_update(struct request *r)
{
    struct department d;
    if (!own_department(r, &d))
        return 0;
    req_entity(r, "Department", r->params[0]);
    const char *uuid = r->params[0];
    if (check_version(r, uuid, d.rev) != 0)
        return 0;
    struct errlist e = {0};
    validate_body(r, DEPARTMENT_FIELDS, false, &e);
    if (e.errors)
        return reply_errlist(r, &e);
    const char *title = json_string_value(json_object_get(r->json, "title"));
    if (title) {
        static const char *dsql =
            "UPDATE departments SET title=?1, rev=rev+1 WHERE uuid=?2 AND title<>?1";
        static const char *esql =
            "UPDATE employees SET doc=json_set(doc, '$.department', ?1) WHERE company_uuid=?2"
            " AND json_extract(doc, '$.department_uuid')=?3";
        sqlite3_stmt *st = db_stmt(r->db, dsql);
        if (!st)
            return db_error(r);
        db_bind_text(st, 1, title);
        db_bind_text(st, 2, uuid);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE && sqlite3_changes(r->db) > 0) { /* renamed */
            st = db_stmt(r->db, esql);
            if (!st)
                return db_error(r);
            db_bind_text(st, 1, title);
            db_bind_text(st, 2, d.company);
            db_bind_text(st, 3, uuid);
            rc = sqlite3_step(st);
            sqlite3_reset(st);
        }
        if (rc != SQLITE_DONE)
            return db_error(r);
    }
    return reply_json(r, 200, render_department(r->db, uuid));
}

int h_department_delete(struct request *r)
{
    struct department d;
    if (!own_department(r, &d))
        return 0;
    req_entity(r, "Department", r->params[0]);
    json_t *emps = department_employees(r->db, d.company, r->params[0]);
    size_t n = json_array_size(emps);
    json_decref(emps);
    if (n > 0)
        return reply_error(r, 422, "base", "invalid_operation",
                           "Cannot delete a department that has people in it: remove its "
                           "%zu employee%s first", n, n == 1 ? "" : "s");
    static const char *sql = "DELETE FROM departments WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, r->params[0]);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_error(r);
    return reply_empty(r, 204);
}

/* Put an employee in the department (dept NULL: in none), moving the
 * employee's version and that of the department they leave.  With
 * only_from, only an employee now in that department moves.  1 moved,
 * 0 nothing to do, -1 database error. */
static int set_department(struct request *r, const char *emp, const char *dept,
                          const char *title, const char *only_from)
{
    static const char *old_sql = "SELECT json_extract(doc, '$.department_uuid') FROM employees"
                                 " WHERE uuid=?";
    static const char *set_sql =
        "UPDATE employees SET doc=json_set(doc, '$.department', ?1, '$.department_uuid', ?2)"
        " WHERE uuid=?3";
    char old[SB_UUID_LEN + 1] = "";
    sqlite3_stmt *st = db_stmt(r->db, old_sql);
    if (!st)
        return -1;
    db_bind_text(st, 1, emp);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        snprintf(old, sizeof old, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
    if (strcmp(old, dept ? dept : "") == 0 || (only_from && strcmp(old, only_from) != 0))
        return 0; /* already there, or not in the department to leave */
    st = db_stmt(r->db, set_sql);
    if (!st)
        return -1;
    db_bind_text(st, 1, title); /* NULL binds null */
    db_bind_text(st, 2, dept);
    db_bind_text(st, 3, emp);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return -1;
    touch_employee(r->db, emp);
    if (*old && bump_department(r->db, old) != 0)
        return -1;
    return 1;
}

/* PUT .../add and .../remove: {"version", "employees":[{"uuid"}],
 * "contractors":[{"uuid"}]}.  Every entry is checked before anything
 * changes. */
static int people(struct request *r, bool add)
{
    struct department d;
    if (!own_department(r, &d))
        return 0;
    req_entity(r, "Department", r->params[0]);
    const char *uuid = r->params[0];
    if (check_version(r, uuid, d.rev) != 0)
        return 0;
    struct errlist e = {0};
    const json_t *emps = json_object_get(r->json, "employees");
    const json_t *cons = json_object_get(r->json, "contractors");
    if ((emps && !json_is_array(emps)) || (cons && !json_is_array(cons)))
        errlist_add(&e, emps && !json_is_array(emps) ? "employees" : "contractors",
                    "invalid_attribute_value", "must be an array of {\"uuid\"}");
    else if (json_array_size(emps) + json_array_size(cons) == 0)
        errlist_add(&e, "employees", "invalid_attribute_value",
                    "name at least one employee or contractor");
    size_t i;
    const json_t *x;
    json_array_foreach(emps, i, x) {
        const char *emp = json_string_value(json_object_get(x, "uuid"));
        if (!emp || !own_employee(r, emp))
            errlist_add(&e, "employees", "invalid_attribute_value",
                        "employees[%zu].uuid: no employee %.40s in this company", i,
                        emp ? emp : "(missing)");
    }
    json_array_foreach(cons, i, x) {
        const char *con = json_string_value(json_object_get(x, "uuid"));
        errlist_add(&e, "contractors", "invalid_attribute_value",
                    "contractors[%zu].uuid: no contractor %.40s in this company", i,
                    con ? con : "(missing)");
    }
    if (e.errors)
        return reply_errlist(r, &e);
    static const char *title_sql = "SELECT title FROM departments WHERE uuid=?";
    char title[256] = "";
    sqlite3_stmt *st = db_stmt(r->db, title_sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, uuid);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(title, sizeof title, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
    bool changed = false;
    json_array_foreach(emps, i, x) {
        const char *emp = json_string_value(json_object_get(x, "uuid"));
        int w = add ? set_department(r, emp, uuid, title, NULL)
                    : set_department(r, emp, NULL, NULL, uuid);
        if (w < 0)
            return db_error(r);
        changed |= w > 0;
    }
    if (changed && bump_department(r->db, uuid) != 0)
        return db_error(r);
    return reply_json(r, 200, render_department(r->db, uuid));
}

int h_department_add(struct request *r) { return people(r, true); }
int h_department_remove(struct request *r) { return people(r, false); }
