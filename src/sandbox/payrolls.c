/* payrolls.c - the smallest model of payrolls that have run, which the
 * sandbox otherwise has none of: per company the last day its payrolls have
 * run through, and the compensations those payrolls were paid at (those of
 * the company in effect on or before that day when the run was recorded).
 * Compensations created later are not processed, even when dated earlier.
 * The seed records a run through the end of last month; the sandbox-only
 * POST /sandbox/companies/{id}/payrolls records one (docs/sandbox.md). */
#include "sandbox/sandbox.h"

#include <stdio.h>
#include <string.h>

bool payroll_through(sqlite3 *db, const char *company, char out[11])
{
    static const char *sql = "SELECT processed_through FROM payroll_runs WHERE company_uuid=?";
    out[0] = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, company);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, 11, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
    return out[0] != 0;
}

bool comp_processed(sqlite3 *db, const char *comp)
{
    static const char *sql = "SELECT 1 FROM processed_compensations WHERE uuid=?";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, comp);
    bool hit = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return hit;
}

long payroll_run(sqlite3 *db, const char *company, const char *through)
{
    static const char *mark =
        "INSERT OR IGNORE INTO processed_compensations(uuid)"
        " SELECT c.uuid FROM compensations c JOIN employees e ON e.uuid=c.employee_uuid"
        " WHERE e.company_uuid=? AND c.effective_date<=?";
    static const char *upsert =
        "INSERT INTO payroll_runs(company_uuid, processed_through) VALUES(?,?)"
        " ON CONFLICT(company_uuid) DO UPDATE SET processed_through="
        " max(processed_through, excluded.processed_through)";
    sqlite3_stmt *st = db_stmt(db, mark);
    if (!st)
        return -1;
    db_bind_text(st, 1, company);
    db_bind_text(st, 2, through);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return -1;
    long marked = (long)sqlite3_changes(db);
    st = db_stmt(db, upsert);
    if (!st)
        return -1;
    db_bind_text(st, 1, company);
    db_bind_text(st, 2, through);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? marked : -1;
}

void payroll_seed_through(char out[11])
{
    char first[11];
    today_ymd(first);
    memcpy(first + 8, "01", 2); /* the first of this month, then the day before */
    ymd_add_days(first, -1, out);
}

static json_t *run_json(sqlite3 *db, const char *company)
{
    char through[11];
    json_t *o = json_pack("{s:s}", "company_uuid", company);
    json_object_set_new(o, "processed_through", payroll_through(db, company, through)
                                                    ? json_string(through) : json_null());
    return o;
}

int h_sandbox_payrolls_get(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    return reply_json(r, 200, run_json(r->db, r->params[0]));
}

int h_sandbox_payroll_run(struct request *r)
{
    const char *company = r->params[0];
    if (!own_company(r, company))
        return reply_not_found(r);
    const char *d = json_string_value(json_object_get(r->json, "processed_through"));
    char today[11];
    today_ymd(today);
    if (!d || !valid_date(d))
        return reply_error(r, 422, "processed_through", "invalid_attribute_value",
                           "processed_through is required: the last day (YYYY-MM-DD) the "
                           "company's payrolls have run through");
    if (strcmp(d, today) > 0)
        return reply_error(r, 422, "processed_through", "invalid_attribute_value",
                           "processed_through %s is after today (%s): a payroll pays for "
                           "days already worked", d, today);
    long n = payroll_run(r->db, company, d);
    if (n < 0)
        return db_error(r);
    json_t *o = run_json(r->db, company);
    json_object_set_new(o, "compensations_processed", json_integer(n));
    return reply_json(r, 201, o);
}
