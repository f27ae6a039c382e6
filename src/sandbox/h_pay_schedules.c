/* h_pay_schedules.c - a company's pay schedules (records.c), their
 * assignment, and the pay periods they make (computed from the schedule:
 * Twice per month, day_1 and day_2). */
#include "sandbox/sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int h_pay_schedules_list(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    long page, per;
    bool paginate;
    if (!parse_paging(r, &page, &per, &paginate))
        return 0;
    json_t *all = rec_list(r->db, RK_PAY_SCHEDULE, r->params[0]);
    if (!all)
        return db_error(r);
    return reply_json(r, 200, page_slice(r, all, page, per, paginate));
}

int h_pay_schedule_get(struct request *r)
{
    char company[SB_UUID_LEN + 1];
    json_t *d = rec_get(r->db, RK_PAY_SCHEDULE, r->params[1], company);
    if (!d || !own_company(r, r->params[0]) || strcmp(company, r->params[0]) != 0) {
        json_decref(d);
        return reply_not_found(r);
    }
    return reply_json(r, 200, d);
}

int h_pay_schedule_assignments(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    json_t *all = rec_list(r->db, RK_PAY_SCHEDULE, r->params[0]);
    if (!all)
        return db_error(r);
    const char *first = json_string_value(json_object_get(json_array_get(all, 0), "uuid"));
    json_t *out = json_pack("{s:s?, s:n, s:n, s:s?, s:n, s:n}", "type",
                            first ? "single" : NULL, "hourly_pay_schedule_uuid",
                            "salaried_pay_schedule_uuid", "default_pay_schedule_uuid", first,
                            "employees", "departments");
    json_decref(all);
    return reply_json(r, 200, out);
}

static int days_in_month(int y, int m)
{
    static const int D[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : D[m - 1];
}

/* A payroll's uuid for (schedule, period start): stable, so a client sees
 * the same payroll on every read. */
static void payroll_uuid(const char *schedule, const char *start, char out[SB_UUID_LEN + 1])
{
    char key[64], h[65];
    snprintf(key, sizeof key, "%.36s/%.10s", schedule, start);
    sha256_hex(key, h);
    snprintf(out, SB_UUID_LEN + 1, "%.8s-%.4s-4%.3s-8%.3s-%.12s", h, h + 8, h + 13, h + 17,
             h + 20);
}

int h_pay_periods(struct request *r)
{
    const char *company = r->params[0];
    if (!own_company(r, company))
        return reply_not_found(r);
    char today[11], start[11], end[11], latest[11];
    today_ymd(today);
    ymd_add_days(today, -182, start);
    memcpy(end, today, sizeof end);
    ymd_add_days(today, 92, latest);
    const char *qs = req_query(r, "start_date"), *qe = req_query(r, "end_date");
    const char *names[2] = {"start_date", "end_date"};
    const char *vals[2] = {qs, qe};
    char *outs[2] = {start, end};
    for (int i = 0; i < 2; i++) {
        if (!vals[i])
            continue;
        if (!valid_date(vals[i]))
            return reply_error(r, 422, names[i], "invalid_parameter",
                               "%s must be a date YYYY-MM-DD, got \"%.20s\"", names[i],
                               vals[i]);
        memcpy(outs[i], vals[i], 11);
    }
    if (strcmp(end, latest) > 0)
        return reply_error(r, 422, "end_date", "invalid_parameter",
                           "end_date cannot be more than 3 months in the future (%s).",
                           latest);
    const char *types = req_query(r, "payroll_types");
    if (types && strcmp(types, "regular") != 0 && strcmp(types, "transition") != 0 &&
        strcmp(types, "regular,transition") != 0)
        return reply_error(r, 422, "payroll_types", "invalid_parameter",
                           "payroll_types must be regular, transition or regular,transition");
    json_t *out = json_array();
    /* The sandbox's schedules make no transition payrolls. */
    bool regular = !types || strstr(types, "regular");
    json_t *all = rec_list(r->db, RK_PAY_SCHEDULE, company);
    char through[11] = "";
    payroll_through(r->db, company, through);
    size_t k;
    json_t *ps;
    json_array_foreach(regular ? all : NULL, k, ps) {
        const char *su = json_string_value(json_object_get(ps, "uuid"));
        int d1 = (int)json_integer_value(json_object_get(ps, "day_1"));
        if (!su || d1 < 1 || d1 > 27 || !json_is_true(json_object_get(ps, "active")))
            continue;
        int y = (int)strtol(start, NULL, 10), m = (int)strtol(start + 5, NULL, 10);
        if (y < 1 || y > 9998 || m < 1 || m > 12)
            continue;
        char first[32];
        snprintf(first, sizeof first, "%04d-%02d-01", y, m);
        while (strcmp(first, end) <= 0) {
            int last = days_in_month(y, m);
            for (int half = 0; half < 2; half++) {
                char a[32], b[32];
                snprintf(a, sizeof a, "%04d-%02d-%02d", y, m, half ? d1 + 1 : 1);
                snprintf(b, sizeof b, "%04d-%02d-%02d", y, m, half ? last : d1);
                if (strcmp(b, start) < 0 || strcmp(a, end) > 0)
                    continue;
                char pu[SB_UUID_LEN + 1], deadline[11], dl[48];
                payroll_uuid(su, a, pu);
                ymd_add_days(b, -2, deadline);
                snprintf(dl, sizeof dl, "%sT16:00:00-07:00", deadline);
                json_array_append_new(
                    out, json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:b, s:s, s:s}}",
                                   "start_date", a, "end_date", b, "pay_schedule_uuid", su,
                                   "payroll", "payroll_uuid", pu, "check_date", b,
                                   "processed", *through && strcmp(b, through) <= 0,
                                   "payroll_deadline", dl, "payroll_type", "regular"));
            }
            if (++m > 12) {
                m = 1;
                y++;
            }
            snprintf(first, sizeof first, "%04d-%02d-01", y, m);
        }
    }
    json_decref(all);
    return reply_json(r, 200, out);
}
