/* h_time_off_requests.c - a company's time-off requests (records.c; seeded
 * with --seed demo) with the list's filters, one request, and the
 * employees' balances per policy from their time-off activities. */
#include "sandbox/sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* True when item is one of the comma-separated values of list. */
static bool in_list(const char *list, const char *item)
{
    size_t n = item ? strlen(item) : 0;
    for (const char *p = list; item && p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, item, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

/* The first and last day of a request's days, into a and b. */
static void span(const json_t *req, char a[11], char b[11])
{
    a[0] = b[0] = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(req, "days"), k, v) {
        (void)v;
        if (!a[0] || strcmp(k, a) < 0)
            snprintf(a, 11, "%s", k);
        if (!b[0] || strcmp(k, b) > 0)
            snprintf(b, 11, "%s", k);
    }
}

static int by_start_desc(const void *x, const void *y)
{
    char a1[11], b1[11], a2[11], b2[11];
    span(*(json_t *const *)x, a1, b1);
    span(*(json_t *const *)y, a2, b2);
    return strcmp(a2, a1);
}

static void page_of(struct request *r, json_t **list, long page, long per, bool paginate)
{
    *list = page_slice(r, *list, page, per, paginate);
}

int h_time_off_requests_list(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    long page, per;
    bool paginate;
    if (!parse_paging(r, &page, &per, &paginate))
        return 0;
    const char *emps = req_query(r, "employee_uuids"), *status = req_query(r, "status");
    const char *from = req_query(r, "start_date"), *to = req_query(r, "end_date");
    const char *order = req_query(r, "sort_order");
    static const char *const ST[] = {"pending", "approved", "declined", "consumed"};
    for (const char *p = status; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        bool ok = false;
        for (size_t i = 0; i < 4; i++)
            ok |= strlen(ST[i]) == len && strncmp(ST[i], p, len) == 0;
        if (!ok)
            return reply_error(r, 422, "status", "invalid_parameter",
                               "status must be pending, approved, declined or consumed "
                               "(comma-separated), got \"%.40s\"", status);
        p = comma ? comma + 1 : NULL;
    }
    if ((from && !valid_date(from)) || (to && !valid_date(to)))
        return reply_error(r, 422, from && !valid_date(from) ? "start_date" : "end_date",
                           "invalid_parameter", "dates must be YYYY-MM-DD");
    if (order && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
        return reply_error(r, 422, "sort_order", "invalid_parameter",
                           "sort_order must be asc or desc, got \"%.20s\"", order);
    json_t *all = rec_list(r->db, RK_TIME_OFF_REQUEST, r->params[0]);
    if (!all)
        return db_error(r);
    size_t n = json_array_size(all), m = 0;
    json_t **v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        json_decref(all);
        return db_error(r);
    }
    size_t i;
    json_t *q;
    json_array_foreach(all, i, q) {
        char a[11], b[11];
        span(q, a, b);
        const char *eu = json_string_value(json_object_get(json_object_get(q, "employee"),
                                                           "uuid"));
        if ((emps && !in_list(emps, eu)) ||
            (status && !in_list(status, json_string_value(json_object_get(q, "status")))) ||
            (from && strcmp(b, from) < 0) || (to && strcmp(a, to) > 0))
            continue;
        v[m++] = q;
    }
    qsort(v, m, sizeof *v, by_start_desc);
    json_t *out = json_array();
    for (size_t k = 0; k < m; k++)
        json_array_append(out, v[order && strcmp(order, "asc") == 0 ? m - 1 - k : k]);
    free(v);
    json_decref(all);
    page_of(r, &out, page, per, paginate);
    return reply_json(r, 200, out);
}

int h_time_off_request_get(struct request *r)
{
    char company[SB_UUID_LEN + 1];
    json_t *d = rec_get(r->db, RK_TIME_OFF_REQUEST, r->params[0], company);
    if (!d || !own_company(r, company)) {
        json_decref(d);
        return reply_not_found(r);
    }
    return reply_json(r, 200, d);
}

/* Pending hours of an employee on a policy: the pending requests' days. */
static double pending_hours(const json_t *requests, const char *emp, const char *policy)
{
    double h = 0;
    size_t i;
    json_t *q;
    json_array_foreach(requests, i, q) {
        const char *eu = json_string_value(json_object_get(json_object_get(q, "employee"),
                                                           "uuid"));
        const char *pu = json_string_value(json_object_get(q, "policy_uuid"));
        const char *st = json_string_value(json_object_get(q, "status"));
        if (!eu || !pu || !st || strcmp(eu, emp) || strcmp(pu, policy) ||
            strcmp(st, "pending"))
            continue;
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(q, "days"), k, v)
            h += strtod(json_string_value(v) ? json_string_value(v) : "0", NULL);
    }
    return h;
}

int h_time_off_balances(struct request *r)
{
    const char *company = r->params[0];
    if (!own_company(r, company))
        return reply_not_found(r);
    long page, per;
    bool paginate;
    if (!parse_paging(r, &page, &per, &paginate))
        return 0;
    const char *emps = req_query(r, "employee_uuids"), *pols = req_query(r, "policy_uuids");
    /* Per employee and policy: the balance after the latest activity, and
     * the hours added and taken (a removal from the policy is neither). */
    static const char *sql =
        "SELECT e.uuid, a.policy_uuid,"
        " (SELECT balance FROM time_off_activities l WHERE l.employee_uuid=e.uuid"
        "  AND l.policy_uuid=a.policy_uuid ORDER BY l.id DESC LIMIT 1),"
        " sum(CASE WHEN a.event_type <> '" SB_EV_REMOVE "' AND"
        "  CAST(a.balance_change AS REAL) > 0 THEN CAST(a.balance_change AS REAL) ELSE 0 END),"
        " sum(CASE WHEN a.event_type <> '" SB_EV_REMOVE "' AND"
        "  CAST(a.balance_change AS REAL) < 0 THEN -CAST(a.balance_change AS REAL) ELSE 0 END)"
        " FROM employees e JOIN time_off_activities a ON a.employee_uuid=e.uuid"
        " JOIN time_off_policies p ON p.uuid=a.policy_uuid AND p.company_uuid=e.company_uuid"
        " WHERE e.company_uuid=? GROUP BY e.uuid, a.policy_uuid ORDER BY e.seq, p.rowid";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    json_t *requests = rec_list(r->db, RK_TIME_OFF_REQUEST, company);
    db_bind_text(st, 1, company);
    json_t *out = json_array(), *cur = NULL;
    char cur_emp[SB_UUID_LEN + 1] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *eu = db_col_text(st, 0), *pu = db_col_text(st, 1);
        if ((emps && !in_list(emps, eu)) || (pols && !in_list(pols, pu)))
            continue;
        if (strcmp(eu, cur_emp) != 0) {
            snprintf(cur_emp, sizeof cur_emp, "%s", eu);
            cur = json_array();
            json_array_append_new(out, json_pack("{s:s, s:o}", "employee_uuid", eu,
                                                 "balances", cur));
        }
        char bal[32], acc[32], used[32], pend[32];
        snprintf(bal, sizeof bal, "%.3f", strtod(db_col_text(st, 2), NULL));
        snprintf(acc, sizeof acc, "%.3f", sqlite3_column_double(st, 3));
        snprintf(used, sizeof used, "%.3f", sqlite3_column_double(st, 4));
        snprintf(pend, sizeof pend, "%.3f", pending_hours(requests, eu, pu));
        json_array_append_new(cur, json_pack("{s:s, s:s, s:s, s:s, s:s}", "policy_uuid", pu,
                                             "balance_hours", bal, "accrued_hours", acc,
                                             "used_hours", used, "pending_hours", pend));
    }
    sqlite3_reset(st);
    json_decref(requests);
    page_of(r, &out, page, per, paginate);
    return reply_json(r, 200, out);
}
