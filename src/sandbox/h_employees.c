/* h_employees.c - handlers for employees: list (filters, sort, include,
 * pagination), create, get, update (versioned) and delete (onboarding only). */
#include "sandbox/sandbox.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct field CREATE_FIELDS[] = {
    {"first_name", F_STRING, true, NULL, NULL},
    {"middle_initial", F_STRING_NULL, false, NULL, check_initial},
    {"last_name", F_STRING, true, NULL, NULL},
    {"email", F_STRING_NULL, false, NULL, check_email},
    {"work_email", F_STRING_NULL, false, NULL, check_email},
    {"date_of_birth", F_DATE_NULL, false, NULL, NULL},
    {"ssn", F_STRING, false, NULL, check_ssn},
    {"preferred_first_name", F_STRING_NULL, false, NULL, NULL},
    {"self_onboarding", F_BOOL, false, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

static const struct field UPDATE_FIELDS[] = {
    {"first_name", F_STRING, false, NULL, NULL},
    {"middle_initial", F_STRING_NULL, false, NULL, check_initial},
    {"last_name", F_STRING, false, NULL, NULL},
    {"email", F_STRING_NULL, false, NULL, check_email},
    {"work_email", F_STRING_NULL, false, NULL, check_email},
    {"date_of_birth", F_DATE_NULL, false, NULL, NULL},
    {"ssn", F_STRING, false, NULL, check_ssn},
    {"preferred_first_name", F_STRING_NULL, false, NULL, NULL},
    {"two_percent_shareholder", F_BOOL, false, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

static const char *const INCLUDES[] = {"all_compensations", "all_home_addresses",
                                       "company_name", "current_home_address",
                                       "custom_fields", "portal_invitations", NULL};

/* Parse include=a,b into opts; replies 422 and returns false on an unknown
 * value. */
static bool parse_include(struct request *r, struct render_opts *o)
{
    memset(o, 0, sizeof *o);
    o->comp_scope = auth_has_scope(r, "compensations:read");
    o->api_version = r->api_version;
    const char *inc = req_query(r, "include");
    if (!inc || !*inc)
        return true;
    const char *p = inc;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        int hit = -1;
        for (int i = 0; INCLUDES[i]; i++)
            if (strlen(INCLUDES[i]) == n && strncmp(INCLUDES[i], p, n) == 0)
                hit = i;
        switch (hit) {
        case 0: o->all_compensations = o->comp_scope; break;
        case 1: o->all_home_addresses = true; break;
        case 2: o->company_name = true; break;
        case 3: o->current_home_address = true; break;
        case 4: o->custom_fields = true; break;
        case 5: o->portal_invitations = true; break;
        default:
            reply_error(r, 422, "include", "invalid_parameter",
                        "include has an unknown value \"%.*s\"; expected a comma-separated "
                        "list of all_compensations, all_home_addresses, company_name, "
                        "current_home_address, custom_fields, portal_invitations",
                        (int)(n > 40 ? 40 : n), p);
            return false;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return true;
}

/* true/false query flags; -1 when absent, -2 after replying 422. */
static int bool_param(struct request *r, const char *name)
{
    const char *v = req_query(r, name);
    if (!v)
        return -1;
    if (strcmp(v, "true") == 0)
        return 1;
    if (strcmp(v, "false") == 0)
        return 0;
    reply_error(r, 422, name, "invalid_parameter", "%s must be true or false, got \"%.20s\"",
                name, v);
    return -2;
}

/* Validate sort_by against Gusto's pattern and turn it into ORDER BY. */
static bool sort_clause(struct request *r, const char *sort_by, char *out, size_t len)
{
    size_t n = 0;
    out[0] = 0;
    const char *p = sort_by;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t tl = end ? (size_t)(end - p) : strlen(p);
        char term[64];
        if (tl == 0 || tl >= sizeof term)
            goto bad;
        memcpy(term, p, tl);
        term[tl] = 0;
        const char *dir = "ASC";
        char *colon = strchr(term, ':');
        if (colon) {
            *colon = 0;
            if (strcmp(colon + 1, "asc") == 0)
                dir = "ASC";
            else if (strcmp(colon + 1, "desc") == 0)
                dir = "DESC";
            else
                goto bad;
        }
        const char *col;
        if (strcmp(term, "created_at") == 0)
            col = "seq";
        else if (strcmp(term, "name") == 0)
            col = "sort_name";
        else if (strcmp(term, "onboarding_status") == 0)
            col = "onboarding_status";
        else
            goto bad;
        n += (size_t)snprintf(out + n, len - n, "%s %s, ", col, dir);
        if (n >= len - 16)
            goto bad;
        if (!end)
            break;
        p = end + 1;
        if (!*p)
            goto bad;
    }
    snprintf(out + n, len - n, "seq ASC");
    return true;
bad:
    reply_error(r, 422, "sort_by", "invalid_parameter",
                "sort_by must be created_at, name or onboarding_status, each optionally "
                "followed by :asc or :desc, comma separated; got \"%.60s\"", sort_by);
    return false;
}

#define BASE_WHERE "company_uuid = ?1"
static const char PLAIN_COUNT_SQL[] = "SELECT count(*) FROM employees WHERE " BASE_WHERE;
static const char PLAIN_PAGE_SQL[] =
    "SELECT uuid FROM employees WHERE " BASE_WHERE " ORDER BY seq ASC LIMIT ?6 OFFSET ?7";

/* A company's employee count, valid for one database generation. */
static struct {
    char company[SB_UUID_LEN + 1];
    uint64_t gen;
    long total;
} counts[8];
static unsigned counts_next;
static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;

static bool count_cache_get(const char *company, uint64_t gen, long *total)
{
    bool hit = false;
    pthread_mutex_lock(&counts_lock);
    for (size_t i = 0; i < sizeof counts / sizeof counts[0] && !hit; i++)
        if (counts[i].gen == gen && strcmp(counts[i].company, company) == 0) {
            *total = counts[i].total;
            hit = true;
        }
    pthread_mutex_unlock(&counts_lock);
    return hit;
}

static void count_cache_put(const char *company, uint64_t gen, long total)
{
    if (strlen(company) > SB_UUID_LEN)
        return;
    pthread_mutex_lock(&counts_lock);
    size_t i = counts_next++ % (sizeof counts / sizeof counts[0]);
    snprintf(counts[i].company, sizeof counts[i].company, "%s", company);
    counts[i].gen = gen;
    counts[i].total = total;
    pthread_mutex_unlock(&counts_lock);
}

int h_employees_list(struct request *r)
{
    /* Read before the first statement of this read transaction: see
     * db_generation(). */
    uint64_t gen = db_generation();
    const char *company = r->params[0];
    if (!own_company(r, company))
        return reply_not_found(r);
    struct render_opts o;
    if (!parse_include(r, &o))
        return 0;
    long page, per;
    bool paginate;
    if (!parse_paging(r, &page, &per, &paginate))
        return 0;
    int terminated = bool_param(r, "terminated");
    int terminated_today = bool_param(r, "terminated_today");
    int onboarded = bool_param(r, "onboarded");
    int onboarded_active = bool_param(r, "onboarded_active");
    if (terminated == -2 || terminated_today == -2 || onboarded == -2 ||
        onboarded_active == -2)
        return 0;
    const char *search = req_query(r, "search_term");
    const char *sort_by = req_query(r, "sort_by");
    const char *location = req_query(r, "location_uuid");
    const char *uuids = req_query(r, "uuids");
    if (search && *search && sort_by)
        return reply_error(r, 422, "sort_by", "invalid_parameter",
                           "sort_by cannot be combined with search_term");
    char order[256] = "seq ASC";
    if (sort_by && !sort_clause(r, sort_by, order, sizeof order))
        return 0;

    char where[1024];
    int n = snprintf(where, sizeof where, "%s", BASE_WHERE);
    if (terminated >= 0)
        n += snprintf(where + n, sizeof where - (size_t)n, " AND terminated = %d", terminated);
    if (terminated_today >= 0)
        n += snprintf(where + n, sizeof where - (size_t)n,
                      " AND %s EXISTS(SELECT 1 FROM terminations t WHERE"
                      " t.employee_uuid = employees.uuid AND t.effective_date <= ?2)",
                      terminated_today ? "" : "NOT");
    if (onboarded >= 0)
        n += snprintf(where + n, sizeof where - (size_t)n, " AND onboarded = %d", onboarded);
    if (onboarded_active >= 0)
        n += snprintf(where + n, sizeof where - (size_t)n,
                      " AND %s(onboarded = 1 AND NOT EXISTS(SELECT 1 FROM terminations t"
                      " WHERE t.employee_uuid = employees.uuid AND t.effective_date <= ?2))",
                      onboarded_active ? "" : "NOT ");
    if (search && *search)
        n += snprintf(where + n, sizeof where - (size_t)n, " AND instr(search, lower(?3)) > 0");
    if (location)
        n += snprintf(where + n, sizeof where - (size_t)n,
                      " AND EXISTS(SELECT 1 FROM work_addresses w WHERE"
                      " w.employee_uuid = employees.uuid AND w.location_uuid = ?4)");
    if (uuids)
        n += snprintf(where + n, sizeof where - (size_t)n,
                      " AND instr(',' || ?5 || ',', ',' || uuid || ',') > 0");
    if (n >= (int)sizeof where)
        return reply_error(r, 500, "request", "internal_error", "query too long");

    char today[11];
    today_ymd(today);
    /* The unfiltered list (what clients page through) uses cached
     * statements and a count cached per generation: counting 100,000 rows
     * took most of a page's time. */
    bool plain = n == (int)strlen(BASE_WHERE) && strcmp(order, "seq ASC") == 0;
    long total = 0;
    bool have_total = plain && count_cache_get(company, gen, &total);
    char sql[1600];
    sqlite3_stmt *cst = NULL, *st = NULL;
    if (plain) {
        st = db_stmt(r->db, PLAIN_PAGE_SQL);
        if (!have_total)
            cst = db_stmt(r->db, PLAIN_COUNT_SQL);
        if (!st || (!have_total && !cst))
            return reply_error(r, 500, "request", "internal_error", "database error");
    } else {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM employees WHERE %s", where);
        if (sqlite3_prepare_v2(r->db, sql, -1, &cst, NULL) != SQLITE_OK)
            return reply_error(r, 500, "request", "internal_error", "database error");
        snprintf(sql, sizeof sql,
                 "SELECT uuid FROM employees WHERE %s ORDER BY %s LIMIT ?6 OFFSET ?7", where,
                 order);
        if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
            sqlite3_finalize(cst);
            return reply_error(r, 500, "request", "internal_error", "database error");
        }
    }
    sqlite3_stmt *both[2] = {cst, st};
    for (int i = 0; i < 2; i++) {
        if (!both[i] || (plain && i == 0))
            continue;
        db_bind_text(both[i], 1, company);
        db_bind_text(both[i], 2, today);
        db_bind_text(both[i], 3, search);
        db_bind_text(both[i], 4, location);
        db_bind_text(both[i], 5, uuids);
    }
    if (plain) {
        db_bind_text(st, 1, company);
        if (cst)
            db_bind_text(cst, 1, company);
    }
    if (cst) {
        if (sqlite3_step(cst) == SQLITE_ROW)
            total = (long)sqlite3_column_int64(cst, 0);
        if (plain) {
            sqlite3_reset(cst);
            count_cache_put(company, gen, total);
        } else {
            sqlite3_finalize(cst);
        }
    }
    sqlite3_bind_int64(st, 6, paginate ? per : -1);
    sqlite3_bind_int64(st, 7, paginate ? (page - 1) * per : 0);
    json_t *ids = json_array();
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(ids, json_string(db_col_text(st, 0)));
    if (plain)
        sqlite3_reset(st);
    else
        sqlite3_finalize(st);

    /* The page is spliced from each employee's compact text, cached or
     * rendered now: the same bytes json_dumps would make of the array. */
    struct sbuf out = {0};
    /* About 3 KB an employee; an unpaginated list of a large company grows
     * past the 8 MB reserved, as any sbuf does. */
    size_t guess = json_array_size(ids) * 3072 + 2;
    sbuf_reserve(&out, guess < 8u * 1024 * 1024 ? guess : 8u * 1024 * 1024);
    sbuf_add(&out, "[", 1);
    unsigned key = rcache_opts_key(&o);
    /* A list is a read: locations can be rendered once for the page. */
    struct render_memo memo = {0};
    o.memo = &memo;
    size_t i;
    json_t *id;
    bool first = true;
    json_array_foreach(ids, i, id) {
        const char *uuid = json_string_value(id);
        size_t mark = out.len;
        if (!first)
            sbuf_add(&out, ",", 1);
        if (rcache_get(uuid, key, gen, today, &out, NULL)) {
            first = false;
            continue;
        }
        json_t *e = render_employee(r->db, uuid, &o);
        char *text = e ? json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(e);
        if (!text) {
            out.len = mark; /* a row that vanished, as before: left out */
            continue;
        }
        size_t len = strlen(text);
        sbuf_add(&out, text, len);
        rcache_put(uuid, key, gen, today, company, text, len);
        free(text);
        first = false;
    }
    json_decref(ids);
    render_memo_free(&memo);
    sbuf_add(&out, "]", 1);
    if (out.oom) {
        free(out.p);
        return reply_error(r, 500, "request", "internal_error", "out of memory");
    }
    if (paginate)
        paging_headers(r, page, per, total);
    return reply_text(r, 200, out.p);
}

int h_employee_create(struct request *r)
{
    const char *company = r->params[0];
    if (!own_company(r, company))
        return reply_not_found(r);
    req_entity(r, "Company", company);
    struct errlist e = {0};
    if (validate_body(r, CREATE_FIELDS, true, &e)) {
        bool self = json_is_true(json_object_get(r->json, "self_onboarding"));
        json_t *email = json_object_get(r->json, "email");
        /* From v2026-02-01 (its changelog: "Require email field for
         * employee self-onboarding"); earlier versions accept it. */
        if (self && !json_is_string(email) && req_version_ge(r, "2026-02-01"))
            errlist_add(&e, "email", "invalid_attribute_value",
                        "email is required when self_onboarding is true");
        const char *dob = json_string_value(json_object_get(r->json, "date_of_birth"));
        char today[11];
        today_ymd(today);
        if (dob && valid_date(dob) && strcmp(dob, today) > 0)
            errlist_add(&e, "date_of_birth", "invalid_attribute_value",
                        "date_of_birth cannot be in the future");
    }
    if (e.errors)
        return reply_errlist(r, &e);

    json_t *doc = json_pack("{s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:s, s:n, s:n, s:n, s:n}",
                            "middle_initial", "email", "work_email", "date_of_birth",
                            "preferred_first_name", "two_percent_shareholder", "phone",
                            "payment_method", "Check", "current_employment_status",
                            "department", "department_uuid", "manager_uuid");
    apply_fields(doc, r->json, CREATE_FIELDS);
    json_object_del(doc, "self_onboarding");
    char uuid[37];
    uuid_random(uuid);
    char code[7];
    snprintf(code, sizeof code, "%.6s", uuid);
    json_object_set_new(doc, "employee_code", json_string(code));
    json_object_set_new(doc, "custom_fields", json_array());
    bool self = json_is_true(json_object_get(r->json, "self_onboarding"));
    int rc = store_employee(r->db, uuid, company, doc, false,
                            self ? "self_onboarding_pending_invite"
                                 : "admin_onboarding_incomplete",
                            NULL);
    json_decref(doc);
    if (rc)
        return reply_error(r, 500, "request", "internal_error", "database error");
    /* No time-off enrolment: Gusto enrols nobody by itself (docs/sandbox.md). */
    webhook_emit("Employee", "employee.created", company, uuid);
    if (self)
        webhook_emit("Employee", "employee.marked_for_self_onboarding", company, uuid);
    struct render_opts o = {.comp_scope = auth_has_scope(r, "compensations:read"),
                            .api_version = r->api_version};
    return reply_json(r, 201, render_employee(r->db, uuid, &o));
}

int h_employee_get(struct request *r)
{
    uint64_t gen = db_generation(); /* before this transaction's first read */
    const char *uuid = r->params[0];
    struct render_opts o;
    /* A bad include is a 422, unless the employee is not the caller's (404):
     * the 404 below replaces the 422 reply. */
    bool include_ok = parse_include(r, &o);
    char today[11], company[SB_UUID_LEN + 1];
    today_ymd(today);
    unsigned key = rcache_opts_key(&o);
    struct sbuf out = {0};
    if (include_ok && rcache_get(uuid, key, gen, today, &out, company)) {
        if (out.oom || !own_company(r, company)) {
            free(out.p);
            return reply_not_found(r);
        }
        return reply_text(r, 200, out.p);
    }
    if (!own_employee(r, uuid))
        return reply_not_found(r);
    if (!include_ok)
        return 0;
    json_t *e = render_employee(r->db, uuid, &o);
    if (!e)
        return reply_not_found(r);
    char *text = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(e);
    if (!text)
        return reply_error(r, 500, "request", "internal_error", "out of memory");
    rcache_put(uuid, key, gen, today, r->auth.company_uuid, text, strlen(text));
    return reply_text(r, 200, text);
}

int h_employee_update(struct request *r)
{
    const char *uuid = r->params[0];
    if (!own_employee(r, uuid))
        return reply_not_found(r);
    req_entity(r, "Employee", uuid);
    long rev = 0;
    json_t *doc = store_load(r->db, "employees", uuid, &rev);
    if (!doc)
        return reply_not_found(r);
    if (check_version(r, uuid, rev) != 0) {
        json_decref(doc);
        return 0;
    }
    struct errlist e = {0};
    validate_body(r, UPDATE_FIELDS, false, &e);
    if (!e.errors) {
        static const char *names[] = {"first_name", "last_name"};
        for (int i = 0; i < 2; i++) {
            const char *s = json_string_value(json_object_get(r->json, names[i]));
            if (s && !*s)
                errlist_add(&e, names[i], "invalid_attribute_value", "%s cannot be blank",
                            names[i]);
        }
    }
    if (e.errors) {
        json_decref(doc);
        return reply_errlist(r, &e);
    }
    struct render_opts o = {.comp_scope = auth_has_scope(r, "compensations:read"),
                            .api_version = r->api_version};
    if (!apply_fields(doc, r->json, UPDATE_FIELDS)) {
        json_decref(doc);
        return reply_json(r, 200, render_employee(r->db, uuid, &o));
    }
    int rc = store_employee_doc(r->db, uuid, doc);
    json_decref(doc);
    if (rc)
        return reply_error(r, 500, "request", "internal_error", "database error");
    webhook_emit("Employee", "employee.updated", r->auth.company_uuid, uuid);
    return reply_json(r, 200, render_employee(r->db, uuid, &o));
}

int h_employee_delete(struct request *r)
{
    const char *uuid = r->params[0];
    if (!own_employee(r, uuid))
        return reply_not_found(r);
    req_entity(r, "Employee", uuid);
    static const char *q = "SELECT onboarded FROM employees WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(r->db, q);
    if (!st)
        return reply_error(r, 500, "request", "internal_error", "database error");
    db_bind_text(st, 1, uuid);
    int onboarded = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 1;
    sqlite3_reset(st);
    if (onboarded)
        return reply_error(r, 422, "base", "invalid_operation",
                           "Only employees who are still onboarding can be deleted; this "
                           "employee has completed onboarding. Terminate them instead.");
    static const char *dels[] = {
        "DELETE FROM compensations WHERE employee_uuid=?1",
        "DELETE FROM jobs WHERE employee_uuid=?1",
        "DELETE FROM home_addresses WHERE employee_uuid=?1",
        "DELETE FROM work_addresses WHERE employee_uuid=?1",
        "DELETE FROM time_off_activities WHERE employee_uuid=?1",
        "DELETE FROM terminations WHERE employee_uuid=?1",
        "DELETE FROM employees WHERE uuid=?1",
    };
    for (size_t i = 0; i < sizeof dels / sizeof dels[0]; i++) {
        st = db_stmt(r->db, dels[i]);
        if (!st)
            return reply_error(r, 500, "request", "internal_error", "database error");
        db_bind_text(st, 1, uuid);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return reply_error(r, 500, "request", "internal_error", "database error");
    }
    webhook_emit("Employee", "employee.deleted", r->auth.company_uuid, uuid);
    return reply_empty(r, 204);
}
