/* records.c - company records kept as Gusto's JSON in one table
 * (company_records: pay schedules, earning types, signatories, federal tax
 * details, contractors, time-off requests), their reads, and their seed.
 *
 * These resources are read by clients around the employee record but not
 * written by any endpoint the sandbox emulates, so each is stored as the
 * object Gusto returns, with a revision for its version. */
#include "sandbox/sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rec_put(sqlite3 *db, const char *kind, const char *uuid, const char *company,
            const json_t *doc)
{
    static const char *sql =
        "INSERT OR IGNORE INTO company_records(kind, uuid, company_uuid, seq, doc)"
        " VALUES(?1, ?2, ?3, (SELECT count(*) FROM company_records WHERE kind=?1"
        " AND company_uuid=?3), ?4)";
    char *text = db_json_text(doc);
    sqlite3_stmt *st = text ? db_stmt(db, sql) : NULL;
    int rc = -1;
    if (st) {
        db_bind_text(st, 1, kind);
        db_bind_text(st, 2, uuid);
        db_bind_text(st, 3, company);
        db_bind_text(st, 4, text);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset(st);
    }
    free(text);
    return rc;
}

/* The stored doc with its "version" (after "uuid" when the doc has none). */
static json_t *with_version(json_t *doc, const char *uuid, long rev)
{
    if (!doc)
        return NULL;
    if (json_object_get(doc, "version")) {
        char v[33];
        version_of(uuid, rev, v);
        json_object_set_new(doc, "version", json_string(v));
    }
    return doc;
}

json_t *rec_get(sqlite3 *db, const char *kind, const char *uuid, char company[SB_UUID_LEN + 1])
{
    static const char *sql =
        "SELECT company_uuid, rev, doc FROM company_records WHERE kind=? AND uuid=?";
    company[0] = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, kind);
    db_bind_text(st, 2, uuid);
    json_t *doc = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(company, SB_UUID_LEN + 1, "%s", db_col_text(st, 0));
        long rev = (long)sqlite3_column_int64(st, 1);
        doc = with_version(db_col_json(st, 2), uuid, rev);
    }
    sqlite3_reset(st);
    return doc;
}

json_t *rec_list(sqlite3 *db, const char *kind, const char *company)
{
    static const char *sql = "SELECT uuid, rev, doc FROM company_records"
                             " WHERE kind=? AND company_uuid=? ORDER BY seq";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return NULL;
    db_bind_text(st, 1, kind);
    db_bind_text(st, 2, company);
    json_t *out = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        char uuid[SB_UUID_LEN + 1];
        snprintf(uuid, sizeof uuid, "%s", db_col_text(st, 0));
        json_t *d = with_version(db_col_json(st, 2), uuid, (long)sqlite3_column_int64(st, 1));
        if (d)
            json_array_append_new(out, d);
    }
    sqlite3_reset(st);
    return out;
}

/* ---- seed -------------------------------------------------------------- */

/* Gusto's default earning types, by name (Earning-Type-List example). */
static const char *const DEFAULT_EARNINGS[] = {
    "Bonus", "Cash Tips", "Commission", "Correction Payment", "Minimum Wage Adjustment",
    "Paycheck Tips", "Severance"};

static int put_doc(sqlite3 *db, const char *kind, const char *uuid, const char *company,
                   json_t *doc)
{
    if (!doc)
        return -1;
    int rc = rec_put(db, kind, uuid, company, doc);
    json_decref(doc);
    return rc;
}

static int seed_company_records(sqlite3 *db, uint64_t *rng, const char *company,
                                const char *legal_name, bool demo)
{
    char u[SB_UUID_LEN + 1];
    int rc = 0;
    /* One semimonthly pay schedule (the company's pay_schedule_type is single). */
    uuid_seeded(rng, u);
    rc |= put_doc(db, RK_PAY_SCHEDULE, u, company,
                  json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:b, s:b, s:b,"
                            " s:[]}",
                            "uuid", u, "version", "", "frequency", "Twice per month",
                            "anchor_pay_date", "2026-01-15", "anchor_end_of_pay_period",
                            "2026-01-15", "day_1", 15, "day_2", 31, "name", "Twice per month",
                            "custom_name", "Semimonthly", "auto_pilot", 0, "auto_payroll", 0,
                            "active", 1, "auto_payroll_enablement_blockers"));
    for (size_t i = 0; i < sizeof DEFAULT_EARNINGS / sizeof DEFAULT_EARNINGS[0]; i++) {
        uuid_seeded(rng, u);
        rc |= put_doc(db, RK_EARNING_DEFAULT, u, company,
                      json_pack("{s:s, s:s, s:b}", "name", DEFAULT_EARNINGS[i], "uuid", u,
                                "active", 1));
    }
    uuid_seeded(rng, u);
    if (demo)
        rc |= put_doc(db, RK_EARNING_CUSTOM, u, company,
                      json_pack("{s:s, s:s, s:b}", "name", "Gym Membership Stipend", "uuid",
                                u, "active", 1));
    uuid_seeded(rng, u);
    rc |= put_doc(db, RK_SIGNATORY, u, company,
                  json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:s,"
                            " s:{s:s, s:s, s:s, s:s, s:s, s:s}}",
                            "uuid", u, "first_name", "Morgan", "last_name", "Reyes", "title",
                            "CEO", "phone", "4155550100", "email", "morgan.reyes@example.com",
                            "birthday", "1980-08-04", "is_admin", 1, "has_ssn", 1, "version",
                            "", "identity_verification_status", "Pass", "home_address",
                            "street_1", "12 Market Street", "street_2", "", "city",
                            "San Francisco", "state", "CA", "zip", "94105", "country", "USA"));
    rc |= put_doc(db, RK_FEDERAL_TAX, company, company,
                  json_pack("{s:s, s:s, s:b, s:s, s:b, s:b, s:{s:s}, s:s, s:s, s:s}",
                            "version", "", "tax_payer_type", "C-Corporation",
                            "taxable_as_scorp", 0, "filing_form", "941", "has_ein", 1,
                            "ein_verified", 1, "ein_verification", "status", "verified",
                            "legal_name", legal_name, "effective_date", "2019-03-01",
                            "deposit_schedule", "Semiweekly"));
    return rc;
}

/* Contractors (Individual and Business) for the demo company. */
static int seed_contractors(sqlite3 *db, uint64_t *rng, const char *company)
{
    char u[SB_UUID_LEN + 1];
    uuid_seeded(rng, u);
    int rc = put_doc(
        db, RK_CONTRACTOR, u, company,
        json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:n, s:n, s:n, s:b, s:s, s:s,"
                  " s:{s:s, s:n, s:s, s:s, s:s, s:s}, s:s, s:b, s:s, s:b, s:s, s:s, s:b,"
                  " s:n, s:n, s:n, s:n, s:n, s:b, s:b, s:n, s:b}",
                  "uuid", u, "company_uuid", company, "wage_type", "Hourly", "is_active", 1,
                  "version", "", "type", "Individual", "first_name", "Kai", "last_name",
                  "Lindqvist", "middle_initial", "business_name", "ein", "has_ein", 0,
                  "email", "kai.lindqvist@example.com", "start_date", "2024-02-01",
                  "address", "street_1", "40 Ocean Avenue", "street_2", "city",
                  "San Francisco", "state", "CA", "zip", "94112", "country", "USA",
                  "hourly_rate", "85.00", "file_new_hire_report", 0, "work_state", "CA",
                  "onboarded", 1, "onboarding_status", "onboarding_completed",
                  "payment_method", "Direct Deposit", "has_ssn", 1, "department_uuid",
                  "department", "department_title", "dismissal_date",
                  "upcoming_employment", "dismissal_cancellation_eligible", 0,
                  "rehire_cancellation_eligible", 0, "member_portal_invitation_status",
                  "partner_portal_invitation_sent", 0));
    uuid_seeded(rng, u);
    rc |= put_doc(
        db, RK_CONTRACTOR, u, company,
        json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:n, s:n, s:n, s:s, s:s, s:b, s:s, s:s,"
                  " s:n, s:s, s:b, s:s, s:b, s:s, s:s, s:b, s:n, s:n, s:n, s:n, s:n, s:b,"
                  " s:b, s:n, s:b}",
                  "uuid", u, "company_uuid", company, "wage_type", "Fixed", "is_active", 1,
                  "version", "", "type", "Business", "first_name", "last_name",
                  "middle_initial", "business_name", "Northwind Design LLC", "ein",
                  "XX-XXX6789", "has_ein", 1, "email", "billing@northwind.example.com",
                  "start_date", "2025-05-12", "address", "hourly_rate", "0.00",
                  "file_new_hire_report", 0, "work_state", "CO", "onboarded", 0,
                  "onboarding_status", "admin_onboarding_incomplete", "payment_method",
                  "Check", "has_ssn", 0, "department_uuid", "department", "department_title",
                  "dismissal_date", "upcoming_employment", "dismissal_cancellation_eligible",
                  0, "rehire_cancellation_eligible", 0, "member_portal_invitation_status",
                  "partner_portal_invitation_sent", 0));
    return rc;
}

/* Three time-off requests of the demo company's first employees: pending,
 * approved and declined, on its vacation policy. */
static int seed_time_off_requests(sqlite3 *db, uint64_t *rng, const char *company)
{
    static const char *esql =
        "SELECT uuid, doc FROM employees WHERE company_uuid=? ORDER BY seq LIMIT 3";
    static const char *psql = "SELECT uuid FROM time_off_policies WHERE company_uuid=?"
                              " AND policy_type='vacation' ORDER BY rowid LIMIT 1";
    char policy[SB_UUID_LEN + 1] = "";
    sqlite3_stmt *st = db_stmt(db, psql);
    if (!st)
        return -1;
    db_bind_text(st, 1, company);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(policy, sizeof policy, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
    st = db_stmt(db, esql);
    if (!st || !*policy)
        return -1;
    db_bind_text(st, 1, company);
    struct { char uuid[SB_UUID_LEN + 1]; char name[128]; } emp[3];
    int n = 0;
    while (n < 3 && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(emp[n].uuid, sizeof emp[n].uuid, "%s", db_col_text(st, 0));
        json_t *d = db_col_json(st, 1);
        const char *first = json_string_value(json_object_get(d, "first_name"));
        const char *last = json_string_value(json_object_get(d, "last_name"));
        snprintf(emp[n].name, sizeof emp[n].name, "%s %s", first ? first : "",
                 last ? last : "");
        json_decref(d);
        n++;
    }
    sqlite3_reset(st);
    static const struct {
        const char *status, *day1, *day2, *note, *employer_note;
    } REQ[] = {
        {"pending", "2026-12-21", "2026-12-22", "Family visit", NULL},
        {"approved", "2026-11-26", "2026-11-27", "Thanksgiving", "Enjoy!"},
        {"declined", "2026-12-07", "2026-12-07", "Dentist", "Quarter close; another day?"},
    };
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char u[SB_UUID_LEN + 1];
        uuid_seeded(rng, u);
        json_t *days = json_object();
        json_object_set_new(days, REQ[i].day1, json_string("8.000"));
        json_object_set_new(days, REQ[i].day2, json_string("8.000"));
        json_t *who = json_pack("{s:s, s:s}", "uuid", emp[i].uuid, "full_name", emp[i].name);
        json_t *approver = strcmp(REQ[i].status, "approved") == 0
                               ? json_pack("{s:s, s:s}", "uuid", emp[(i + 1) % n].uuid,
                                           "full_name", emp[(i + 1) % n].name)
                               : json_null();
        rc |= put_doc(db, RK_TIME_OFF_REQUEST, u, company,
                      json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:o, s:O, s:O, s:o}", "uuid",
                                u, "status", REQ[i].status, "employee_note", REQ[i].note,
                                "employer_note", REQ[i].employer_note, "policy_type",
                                "vacation", "policy_uuid", policy, "days", days, "employee",
                                who, "initiator", who, "approver", approver));
        json_decref(who);
    }
    return rc;
}

int seed_records(sqlite3 *db, bool demo)
{
    uint64_t rng = 0x7265636f7264732dULL; /* fixed: the seeded ids never change */
    int rc = seed_company_records(db, &rng, SB_DEMO_COMPANY, "Acme Demo Co", true);
    rc |= seed_company_records(db, &rng, SB_OTHER_COMPANY, "Globex Other Inc", false);
    if (demo) {
        rc |= seed_contractors(db, &rng, SB_DEMO_COMPANY);
        rc |= seed_time_off_requests(db, &rng, SB_DEMO_COMPANY);
    }
    return rc;
}
