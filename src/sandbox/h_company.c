/* h_company.c - handlers for token introspection, the company and its
 * locations. */
#include "sandbox/sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct field LOCATION_FIELDS[] = {
    {"street_1", F_STRING, true, NULL, NULL},
    {"street_2", F_STRING_NULL, false, NULL, NULL},
    {"city", F_STRING, true, NULL, NULL},
    {"state", F_STRING, true, NULL, check_state},
    {"zip", F_STRING, true, NULL, check_zip},
    {"country", F_STRING, false, NULL, NULL},
    {"phone_number", F_STRING, true, NULL, check_phone},
    {"mailing_address", F_BOOL, false, NULL, NULL},
    {"filing_address", F_BOOL, false, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

int h_token_info(struct request *r)
{
    if (AUTH_IS_SYSTEM(r))
        return reply_json(r, 200,
                          json_pack("{s:s, s:{s:s, s:s}, s:n}", "scope", r->auth.scopes,
                                    "resource", "type", "Oauth::Application", "uuid",
                                    r->auth.owner_uuid, "resource_owner"));
    return reply_json(r, 200,
                      json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:s}}", "scope", r->auth.scopes,
                                "resource", "type", "Company", "uuid", r->auth.company_uuid,
                                "resource_owner", "type", "CompanyAdmin", "uuid",
                                r->auth.owner_uuid));
}

int h_company_get(struct request *r)
{
    static const char *sql = "SELECT doc FROM companies WHERE uuid=?";
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return reply_error(r, 500, "request", "internal_error", "database error");
    db_bind_text(st, 1, r->params[0]);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return reply_not_found(r);
    }
    json_t *c = db_col_json(st, 0);
    sqlite3_reset(st);
    if (!c)
        return reply_error(r, 500, "request", "internal_error", "corrupt company row");
    /* locations: Company-Address objects of the company's locations */
    static const char *lsql =
        "SELECT doc FROM locations WHERE company_uuid=? ORDER BY seq";
    json_t *locs = json_array();
    st = db_stmt(r->db, lsql);
    if (st) {
        db_bind_text(st, 1, r->params[0]);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *d = db_col_json(st, 0);
            if (!d)
                continue;
            json_t *a = json_object();
            static const char *keys[] = {"street_1", "street_2", "city", "state", "zip",
                                         "country"};
            for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                json_t *v = json_object_get(d, keys[i]);
                json_object_set_new(a, keys[i], v ? json_incref(v) : json_null());
            }
            json_t *act = json_object_get(d, "active");
            bool on = !act || json_is_true(act);
            json_object_set_new(a, "inactive", json_boolean(!on));
            json_object_set_new(a, "active", json_boolean(on));
            json_array_append_new(locs, a);
            json_decref(d);
        }
        sqlite3_reset(st);
    }
    json_object_set_new(c, "locations", locs);
    if (!auth_has_scope(r, "company_admin:read"))
        json_object_del(c, "primary_payroll_admin");
    if (!auth_has_scope(r, "signatories:read"))
        json_object_set_new(c, "primary_signatory", json_null());
    return reply_json(r, 200, c);
}

bool parse_paging(struct request *r, long *page, long *per, bool *paginate)
{
    const char *p = req_query(r, "page"), *q = req_query(r, "per");
    *paginate = p || q;
    *page = 1;
    *per = 25;
    const char *names[2] = {"page", "per"};
    const char *vals[2] = {p, q};
    long *outs[2] = {page, per};
    for (int i = 0; i < 2; i++) {
        if (!vals[i])
            continue;
        char *end = NULL;
        long n = strtol(vals[i], &end, 10);
        if (!*vals[i] || !end || *end || n < 1 || n > 1000000) {
            reply_error(r, 422, names[i], "invalid_parameter",
                        "%s must be a positive whole number, got \"%.20s\"", names[i],
                        vals[i]);
            return false;
        }
        *outs[i] = n;
    }
    if (*per > 100)
        *per = 100; /* the sandbox's page size cap; see docs/sandbox.md */
    return true;
}

json_t *page_slice(struct request *r, json_t *all, long page, long per, bool paginate)
{
    if (!paginate)
        return all;
    long total = (long)json_array_size(all);
    json_t *out = json_array();
    for (long k = (page - 1) * per; k < total && k < page * per; k++)
        json_array_append(out, json_array_get(all, (size_t)k));
    json_decref(all);
    paging_headers(r, page, per, total);
    return out;
}

void paging_headers(struct request *r, long page, long per, long total)
{
    char v[32];
    snprintf(v, sizeof v, "%ld", page);
    req_add_header(r, "X-Page", v);
    snprintf(v, sizeof v, "%ld", per);
    req_add_header(r, "X-Per-Page", v);
    snprintf(v, sizeof v, "%ld", total);
    req_add_header(r, "X-Total-Count", v);
    snprintf(v, sizeof v, "%ld", (total + per - 1) / per);
    req_add_header(r, "X-Total-Pages", v);
}

/* Step st (prepared and bound; its first column a uuid), reset it, then
 * render each uuid: the uuids are read first, so render may use the
 * statement cache itself.  A uuid that renders to NULL is left out. */
json_t *render_each(sqlite3 *db, sqlite3_stmt *st, json_t *(*render)(sqlite3 *, const char *))
{
    json_t *uuids = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(uuids, json_string(db_col_text(st, 0)));
    sqlite3_reset(st);
    json_t *out = json_array();
    size_t i;
    json_t *u;
    json_array_foreach(uuids, i, u) {
        json_t *one = render(db, json_string_value(u));
        if (one)
            json_array_append_new(out, one);
    }
    json_decref(uuids);
    return out;
}

int h_locations_list(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    long page, per;
    bool paginate;
    if (!parse_paging(r, &page, &per, &paginate))
        return 0;
    static const char *csql = "SELECT count(*) FROM locations WHERE company_uuid=?";
    static const char *sql =
        "SELECT uuid FROM locations WHERE company_uuid=? ORDER BY seq LIMIT ? OFFSET ?";
    sqlite3_stmt *st = db_stmt(r->db, csql);
    if (!st)
        return reply_error(r, 500, "request", "internal_error", "database error");
    db_bind_text(st, 1, r->params[0]);
    long total = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    st = db_stmt(r->db, sql);
    if (!st)
        return reply_error(r, 500, "request", "internal_error", "database error");
    db_bind_text(st, 1, r->params[0]);
    sqlite3_bind_int64(st, 2, paginate ? per : -1);
    sqlite3_bind_int64(st, 3, paginate ? (page - 1) * per : 0);
    json_t *out = render_each(r->db, st, render_location);
    if (paginate)
        paging_headers(r, page, per, total);
    return reply_json(r, 200, out);
}

int h_location_create(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    req_entity(r, "Company", r->params[0]);
    struct errlist e = {0};
    validate_body(r, LOCATION_FIELDS, true, &e);
    if (e.errors)
        return reply_errlist(r, &e);
    json_t *doc = json_object();
    apply_fields(doc, r->json, LOCATION_FIELDS);
    if (!json_object_get(doc, "country"))
        json_object_set_new(doc, "country", json_string("USA"));
    if (!json_object_get(doc, "street_2"))
        json_object_set_new(doc, "street_2", json_null());
    if (!json_object_get(doc, "mailing_address"))
        json_object_set_new(doc, "mailing_address", json_false());
    if (!json_object_get(doc, "filing_address"))
        json_object_set_new(doc, "filing_address", json_false());
    json_object_set_new(doc, "active", json_true());
    char uuid[37], now[40];
    uuid_random(uuid);
    now_iso8601(now);
    static const char *sql =
        "INSERT INTO locations(uuid, company_uuid, seq, created_at, updated_at, doc)"
        " VALUES(?,?,(SELECT coalesce(max(seq),0)+1 FROM locations),?,?,?)";
    char *text = db_json_text(doc);
    json_decref(doc);
    sqlite3_stmt *st = db_stmt(r->db, sql);
    int rc = SQLITE_ERROR;
    if (st && text) {
        db_bind_text(st, 1, uuid);
        db_bind_text(st, 2, r->params[0]);
        db_bind_text(st, 3, now);
        db_bind_text(st, 4, now);
        db_bind_text(st, 5, text);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    free(text);
    if (rc != SQLITE_DONE)
        return reply_error(r, 500, "request", "internal_error", "database error");
    return reply_json(r, 201, render_location(r->db, uuid));
}

static bool location_visible(struct request *r, const char *uuid)
{
    static const char *sql = "SELECT company_uuid FROM locations WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, uuid);
    bool ok = sqlite3_step(st) == SQLITE_ROW && own_company(r, db_col_text(st, 0));
    sqlite3_reset(st);
    return ok;
}

int h_location_get(struct request *r)
{
    if (!location_visible(r, r->params[0]))
        return reply_not_found(r);
    return reply_json(r, 200, render_location(r->db, r->params[0]));
}

/* Version check shared by every PUT: 422 without a version, 409 when stale. */
int check_version(struct request *r, const char *uuid, long rev)
{
    return check_version_as(r, uuid, rev, 409);
}

int check_version_as(struct request *r, const char *uuid, long rev, int stale_status)
{
    json_t *v = json_object_get(r->json, "version");
    if (!json_is_object(r->json))
        return reply_error(r, 422, "base", "invalid_attribute_value",
                           "Request body must be a JSON object"), -1;
    if (!v || json_is_null(v))
        return reply_error(r, 422, "version", "invalid_attribute_value",
                           "version is required: send the version from your last read "
                           "of this object"), -1;
    if (!json_is_string(v))
        return reply_error(r, 422, "version", "invalid_attribute_value",
                           "version must be a string"), -1;
    char cur[33];
    version_of(uuid, rev, cur);
    if (strcmp(cur, json_string_value(v)) != 0)
        return reply_stale(r, stale_status), -1;
    return 0;
}

int h_location_update(struct request *r)
{
    const char *uuid = r->params[0];
    if (!location_visible(r, uuid))
        return reply_not_found(r);
    req_entity(r, "Location", uuid);
    static const char *sql = "SELECT rev, doc FROM locations WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return reply_error(r, 500, "request", "internal_error", "database error");
    db_bind_text(st, 1, uuid);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return reply_not_found(r);
    }
    long rev = (long)sqlite3_column_int64(st, 0);
    json_t *doc = db_col_json(st, 1);
    sqlite3_reset(st);
    if (check_version(r, uuid, rev) != 0) {
        json_decref(doc);
        return 0;
    }
    struct errlist e = {0};
    validate_body(r, LOCATION_FIELDS, false, &e);
    if (e.errors) {
        json_decref(doc);
        return reply_errlist(r, &e);
    }
    if (!apply_fields(doc, r->json, LOCATION_FIELDS)) {
        json_decref(doc);
        return reply_json(r, 200, render_location(r->db, uuid));
    }
    char *text = db_json_text(doc);
    json_decref(doc);
    char now[40];
    now_iso8601(now);
    static const char *usql = "UPDATE locations SET rev=rev+1, doc=?, updated_at=? WHERE uuid=?";
    st = db_stmt(r->db, usql);
    int rc = SQLITE_ERROR;
    if (st && text) {
        db_bind_text(st, 1, text);
        db_bind_text(st, 2, now);
        db_bind_text(st, 3, uuid);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    free(text);
    if (rc != SQLITE_DONE)
        return reply_error(r, 500, "request", "internal_error", "database error");
    /* Work addresses copy the location's address, so their version moves. */
    static const char *wsql =
        "UPDATE work_addresses SET rev=rev+1 WHERE location_uuid=?";
    st = db_stmt(r->db, wsql);
    if (st) {
        db_bind_text(st, 1, uuid);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    return reply_json(r, 200, render_location(r->db, uuid));
}
