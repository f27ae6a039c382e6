/* h_addresses.c - handlers for employee home addresses and work addresses,
 * both effective dated: the current one is the latest effective_date on or
 * before today, and it cannot be deleted. */
#include "sandbox/sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct field HOME_FIELDS[] = {
    {"street_1", F_STRING, true, NULL, NULL},
    {"street_2", F_STRING_NULL, false, NULL, NULL},
    {"city", F_STRING, true, NULL, NULL},
    {"state", F_STRING, true, NULL, check_state},
    {"zip", F_STRING, true, NULL, check_zip},
    {"effective_date", F_DATE_NULL, false, NULL, NULL},
    {"courtesy_withholding", F_BOOL, false, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

static const struct field WORK_FIELDS[] = {
    {"location_uuid", F_STRING, true, NULL, NULL},
    {"effective_date", F_DATE, false, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

/* The employee that owns a child row, or "" when there is none. */
static void owner_of(sqlite3 *db, const char *sql, const char *uuid, char out[37])
{
    out[0] = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return;
    db_bind_text(st, 1, uuid);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, 37, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
}

static const char *HOME_OWNER = "SELECT employee_uuid FROM home_addresses WHERE uuid=?";
static const char *WORK_OWNER = "SELECT employee_uuid FROM work_addresses WHERE uuid=?";

/* Another row of this employee already starts on that date? */
static bool date_taken(sqlite3 *db, const char *sql, const char *parent, const char *date,
                       const char *except)
{
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, parent);
    db_bind_text(st, 2, date);
    db_bind_text(st, 3, except ? except : "");
    bool taken = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return taken;
}

static const char *HOME_DATE =
    "SELECT 1 FROM home_addresses WHERE employee_uuid=? AND effective_date=? AND uuid<>?";
static const char *WORK_DATE =
    "SELECT 1 FROM work_addresses WHERE employee_uuid=? AND effective_date=? AND uuid<>?";

static json_t *list_of(sqlite3 *db, const char *sql, const char *emp,
                       json_t *(*render)(sqlite3 *, const char *))
{
    json_t *ids = json_array(), *out = json_array();
    sqlite3_stmt *st = db_stmt(db, sql);
    if (st) {
        db_bind_text(st, 1, emp);
        while (sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(ids, json_string(db_col_text(st, 0)));
        sqlite3_reset(st);
    }
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        json_t *o = render(db, json_string_value(id));
        if (o)
            json_array_append_new(out, o);
    }
    json_decref(ids);
    return out;
}

/* ---- home addresses --------------------------------------------------- */

int h_home_list(struct request *r)
{
    if (!own_employee(r, r->params[0]))
        return reply_not_found(r);
    return reply_json(r, 200, list_of(r->db,
                                      "SELECT uuid FROM home_addresses WHERE employee_uuid=?"
                                      " ORDER BY effective_date, seq",
                                      r->params[0], render_home_address));
}

int h_home_create(struct request *r)
{
    const char *emp = r->params[0];
    if (!own_employee(r, emp))
        return reply_not_found(r);
    req_entity(r, "Employee", emp);
    struct errlist e = {0};
    validate_body(r, HOME_FIELDS, true, &e);
    char date[11];
    const char *d = json_string_value(json_object_get(r->json, "effective_date"));
    if (d)
        snprintf(date, sizeof date, "%s", d);
    else
        today_ymd(date);
    if (!e.errors && date_taken(r->db, HOME_DATE, emp, date, NULL))
        errlist_add(&e, "effective_date", "invalid_attribute_value",
                    "effective_date %s already has a home address for this employee; "
                    "update that address instead", date);
    if (e.errors)
        return reply_errlist(r, &e);
    json_t *doc = json_pack("{s:n, s:s, s:b}", "street_2", "country", "USA",
                            "courtesy_withholding", 0);
    apply_fields(doc, r->json, HOME_FIELDS);
    json_object_del(doc, "effective_date");
    char uuid[37];
    uuid_random(uuid);
    int rc = store_home_address(r->db, uuid, emp, date, doc);
    json_decref(doc);
    if (rc)
        return db_error(r);
    touch_employee(r->db, emp);
    return reply_json(r, 201, render_home_address(r->db, uuid));
}

int h_home_get(struct request *r)
{
    char emp[37];
    owner_of(r->db, HOME_OWNER, r->params[0], emp);
    if (!*emp || !own_employee(r, emp))
        return reply_not_found(r);
    return reply_json(r, 200, render_home_address(r->db, r->params[0]));
}

int h_home_update(struct request *r)
{
    const char *uuid = r->params[0];
    char emp[37];
    owner_of(r->db, HOME_OWNER, uuid, emp);
    if (!*emp || !own_employee(r, emp))
        return reply_not_found(r);
    req_entity(r, "HomeAddress", uuid);
    long rev = 0;
    json_t *doc = store_load(r->db, "home_addresses", uuid, &rev);
    if (!doc)
        return reply_not_found(r);
    /* A stale version is a 422 here (docs/sandbox.md, "Stale versions"). */
    if (check_version_as(r, uuid, rev, 422) != 0) {
        json_decref(doc);
        return 0;
    }
    struct errlist e = {0};
    validate_body(r, HOME_FIELDS, false, &e);
    const char *d = json_string_value(json_object_get(r->json, "effective_date"));
    if (!e.errors && d && date_taken(r->db, HOME_DATE, emp, d, uuid))
        errlist_add(&e, "effective_date", "invalid_attribute_value",
                    "effective_date %s already has another home address for this employee",
                    d);
    if (e.errors) {
        json_decref(doc);
        return reply_errlist(r, &e);
    }
    int w = store_update_dated(r->db, DATED_HOME, uuid, doc, r->json, HOME_FIELDS, d);
    if (w < 0)
        return db_error(r);
    if (w > 0)
        touch_employee(r->db, emp);
    return reply_json(r, 200, render_home_address(r->db, uuid));
}

int h_home_delete(struct request *r)
{
    const char *uuid = r->params[0];
    char emp[37], cur[37];
    owner_of(r->db, HOME_OWNER, uuid, emp);
    if (!*emp || !own_employee(r, emp))
        return reply_not_found(r);
    req_entity(r, "HomeAddress", uuid);
    const char *c = current_home_address_uuid(r->db, emp, cur);
    if (c && strcmp(c, uuid) == 0)
        return reply_error(r, 422, "base", "invalid_operation",
                           "Cannot delete the employee's active home address");
    static const char *sql = "DELETE FROM home_addresses WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, uuid);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_error(r);
    touch_employee(r->db, emp);
    return reply_empty(r, 204);
}

/* ---- work addresses --------------------------------------------------- */

/* A location of the caller's company? */
static bool company_location(struct request *r, const char *loc)
{
    static const char *sql = "SELECT company_uuid FROM locations WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, loc);
    bool ok = sqlite3_step(st) == SQLITE_ROW && own_company(r, db_col_text(st, 0));
    sqlite3_reset(st);
    return ok;
}

int h_work_list(struct request *r)
{
    if (!own_employee(r, r->params[0]))
        return reply_not_found(r);
    return reply_json(r, 200, list_of(r->db,
                                      "SELECT uuid FROM work_addresses WHERE employee_uuid=?"
                                      " ORDER BY effective_date, seq",
                                      r->params[0], render_work_address));
}

int h_work_create(struct request *r)
{
    const char *emp = r->params[0];
    if (!own_employee(r, emp))
        return reply_not_found(r);
    req_entity(r, "Employee", emp);
    struct errlist e = {0};
    validate_body(r, WORK_FIELDS, true, &e);
    const char *loc = json_string_value(json_object_get(r->json, "location_uuid"));
    if (!e.errors && loc && !company_location(r, loc))
        errlist_add(&e, "location_uuid", "invalid_attribute_value",
                    "location_uuid %.40s is not a location of this company", loc);
    char date[11];
    const char *d = json_string_value(json_object_get(r->json, "effective_date"));
    if (d)
        snprintf(date, sizeof date, "%s", d);
    else
        today_ymd(date);
    if (!e.errors && date_taken(r->db, WORK_DATE, emp, date, NULL))
        errlist_add(&e, "effective_date", "invalid_attribute_value",
                    "effective_date %s already has a work address for this employee; "
                    "update that work address instead", date);
    if (e.errors)
        return reply_errlist(r, &e);
    char uuid[37];
    uuid_random(uuid);
    if (store_work_address(r->db, uuid, emp, date, loc))
        return db_error(r);
    touch_employee(r->db, emp);
    return reply_json(r, 201, render_work_address(r->db, uuid));
}

int h_work_get(struct request *r)
{
    char emp[37];
    owner_of(r->db, WORK_OWNER, r->params[0], emp);
    if (!*emp || !own_employee(r, emp))
        return reply_not_found(r);
    return reply_json(r, 200, render_work_address(r->db, r->params[0]));
}

int h_work_update(struct request *r)
{
    const char *uuid = r->params[0];
    char emp[37];
    owner_of(r->db, WORK_OWNER, uuid, emp);
    if (!*emp || !own_employee(r, emp))
        return reply_not_found(r);
    req_entity(r, "WorkAddress", uuid);
    static const char *q = "SELECT rev FROM work_addresses WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(r->db, q);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, uuid);
    long rev = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (check_version_as(r, uuid, rev, 422) != 0) /* as the home address's */
        return 0;
    struct errlist e = {0};
    validate_body(r, WORK_FIELDS, false, &e);
    const char *loc = json_string_value(json_object_get(r->json, "location_uuid"));
    const char *d = json_string_value(json_object_get(r->json, "effective_date"));
    if (!e.errors && loc && !company_location(r, loc))
        errlist_add(&e, "location_uuid", "invalid_attribute_value",
                    "location_uuid %.40s is not a location of this company", loc);
    if (!e.errors && d && date_taken(r->db, WORK_DATE, emp, d, uuid))
        errlist_add(&e, "effective_date", "invalid_attribute_value",
                    "effective_date %s already has another work address for this employee",
                    d);
    if (e.errors)
        return reply_errlist(r, &e);
    static const char *cur_sql =
        "SELECT location_uuid, effective_date FROM work_addresses WHERE uuid=?";
    st = db_stmt(r->db, cur_sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, uuid);
    bool same = sqlite3_step(st) == SQLITE_ROW &&
                (!loc || strcmp(loc, db_col_text(st, 0)) == 0) &&
                (!d || strcmp(d, db_col_text(st, 1)) == 0);
    sqlite3_reset(st);
    if (same)
        return reply_json(r, 200, render_work_address(r->db, uuid));
    static const char *sql =
        "UPDATE work_addresses SET rev=rev+1, location_uuid=coalesce(?,location_uuid),"
        " effective_date=coalesce(?,effective_date) WHERE uuid=?";
    st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, loc);
    db_bind_text(st, 2, d);
    db_bind_text(st, 3, uuid);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_error(r);
    touch_employee(r->db, emp);
    return reply_json(r, 200, render_work_address(r->db, uuid));
}

int h_work_delete(struct request *r)
{
    const char *uuid = r->params[0];
    char emp[37], cur[37];
    owner_of(r->db, WORK_OWNER, uuid, emp);
    if (!*emp || !own_employee(r, emp))
        return reply_not_found(r);
    req_entity(r, "WorkAddress", uuid);
    const char *c = current_work_address_uuid(r->db, emp, cur);
    if (c && strcmp(c, uuid) == 0)
        return reply_error(r, 422, "base", "invalid_operation",
                           "Cannot delete the employee's active work address");
    static const char *sql = "DELETE FROM work_addresses WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, uuid);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_error(r);
    touch_employee(r->db, emp);
    return reply_empty(r, 204);
}
