/* seed.c - the sandbox's starting data: two companies (the demo company and
 * "other", for isolation tests) with locations, departments and time-off
 * policies; the demo company's ~50 employees with history (--seed demo); and
 * N synthetic employees for scale tests (--seed-employees).
 *
 * Every seeded id comes from a fixed pseudo-random stream, so the same flags
 * give the same UUIDs on every run, and re-seeding a --data file is a no-op. */
#include "sandbox/sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char SB_DEMO_COMPANY[SB_UUID_LEN + 1];
char SB_OTHER_COMPANY[SB_UUID_LEN + 1];

struct company_seed {
    int nlocations;
    char locations[2][37];
    char departments[5][37];
    char vacation[37], sick[37];
};
static struct company_seed demo_seed, other_seed;

static const char *const DEPARTMENTS[] = {"Engineering", "Sales", "Operations", "People",
                                          "Finance"};
static const char *const TITLES[][3] = {
    {"Software Engineer", "Senior Software Engineer", "Engineering Manager"},
    {"Account Executive", "Sales Development Representative", "Sales Manager"},
    {"Operations Specialist", "Office Manager", "Operations Manager"},
    {"People Partner", "Recruiter", "Head of People"},
    {"Accountant", "Financial Analyst", "Controller"},
};
static const char *const FIRST[] = {
    "Alice", "Bruno", "Chloe", "Dmitri", "Elena", "Farah", "Gabriel", "Hana", "Isaac",
    "Jasmine", "Kenji", "Leila", "Marcus", "Nadia", "Oscar", "Priya", "Quentin", "Rosa",
    "Samuel", "Tara", "Umar", "Valeria", "Wesley", "Ximena", "Yusuf", "Zoe", "Aaron",
    "Beatriz", "Caleb", "Daniela", "Elijah", "Fatima", "George", "Helena", "Ivan", "Julia",
    "Kwame", "Lucia", "Mateo", "Nora", "Omar", "Paula", "Rafael", "Sofia", "Theo", "Uma",
    "Victor", "Wendy", "Xavier", "Yara"};
static const char *const LAST[] = {
    "Anderson", "Becker", "Castillo", "Dubois", "Edwards", "Fischer", "Garcia", "Hughes",
    "Ito", "Johnson", "Kowalski", "Lopez", "Morales", "Nguyen", "Okafor", "Patel", "Quinn",
    "Rossi", "Schmidt", "Tanaka", "Usman", "Vargas", "Walker", "Xu", "Young", "Zimmerman",
    "Abbott", "Brennan", "Chen", "Diaz", "Ellis", "Flores", "Grant", "Hoffman", "Ibrahim",
    "Jensen", "Kim", "Larsen", "Mendez", "Novak", "Olsen", "Park", "Reyes", "Silva",
    "Torres", "Ueda", "Vasquez", "Wright", "Yamamoto", "Zhang"};
static const struct { const char *street, *city, *state, *zip; } HOMES[] = {
    {"3121 Milky Way", "San Francisco", "CA", "94107"},
    {"88 Harbor Lane", "Oakland", "CA", "94607"},
    {"1450 Pine Street", "Denver", "CO", "80202"},
    {"27 Aspen Court", "Boulder", "CO", "80302"},
    {"510 Maple Avenue", "Austin", "TX", "78701"},
    {"903 Lakeview Drive", "Seattle", "WA", "98109"},
    {"61 Elm Row", "Portland", "OR", "97205"},
    {"742 Evergreen Terrace", "Springfield", "IL", "62704"},
};

static void fmt_hours(long hundredths, char out[24])
{
    if (hundredths % 100 == 0)
        snprintf(out, 24, "%ld.0", hundredths / 100);
    else
        snprintf(out, 24, "%ld.%02ld", hundredths / 100, labs(hundredths % 100));
}

static int put_company(sqlite3 *db, const char *uuid, const char *name, const char *slug,
                       const char *ein)
{
    static const char *sql = "INSERT OR IGNORE INTO companies(uuid, doc) VALUES(?,?)";
    json_t *doc = json_pack(
        "{s:s, s:s, s:b, s:s, s:b, s:s, s:s, s:s, s:s, s:n, s:b, s:b, s:b, s:s, s:s, s:s,"
        " s:{s:[{s:n, s:s, s:f}, {s:n, s:s, s:f}], s:[{s:n, s:s}, {s:n, s:s}],"
        " s:[{s:n, s:s}, {s:n, s:s}]},"
        " s:{s:s, s:s, s:n, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s}},"
        " s:{s:s, s:s, s:s, s:s}}",
        "ein", ein, "entity_type", "C-Corporation", "contractor_only", 0, "tier", "complete",
        "is_suspended", 0, "company_status", "Approved", "uuid", uuid, "name", name, "slug",
        slug, "trade_name", "is_partner_managed", 1, "is_high_risk_business", 0,
        "is_marijuana_business", 0, "pay_schedule_type", "single", "join_date", "2019-03-01",
        "funding_type", "ach", "compensations", "hourly", "uuid", "name", "Overtime",
        "multiple", 1.5, "uuid", "name", "Double overtime", "multiple", 2.0, "fixed", "uuid",
        "name", "Bonus", "uuid", "name", "Commission", "paid_time_off", "uuid", "name",
        "Vacation Hours", "uuid", "name", "Sick Hours", "primary_signatory", "uuid", uuid,
        "first_name", "Morgan", "middle_initial", "last_name", "Reyes", "phone", "4155550100",
        "email", "morgan.reyes@example.com", "home_address", "street_1", "12 Market Street",
        "street_2", "", "city", "San Francisco", "state", "CA", "zip", "94105", "country",
        "USA", "primary_payroll_admin", "first_name", "Jordan", "last_name", "Blake", "phone",
        "4155550101", "email", "jordan.blake@example.com");
    if (!doc)
        return -1;
    char *text = db_json_text(doc);
    json_decref(doc);
    sqlite3_stmt *st = db_stmt(db, sql);
    int rc = -1;
    if (st && text) {
        db_bind_text(st, 1, uuid);
        db_bind_text(st, 2, text);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset(st);
    }
    free(text);
    return rc;
}

static int put_location(sqlite3 *db, const char *uuid, const char *company,
                        const char *street, const char *street2, const char *city,
                        const char *state, const char *zip, const char *phone, bool mailing)
{
    json_t *doc = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:b, s:b, s:b}",
                            "phone_number", phone, "street_1", street, "street_2", street2,
                            "city", city, "state", state, "zip", zip, "country", "USA",
                            "mailing_address", mailing, "filing_address", mailing, "active", 1);
    int rc = store_location(db, uuid, company, doc);
    json_decref(doc);
    return rc;
}

/* A policy as Gusto shows one a company set up in its web app: accrual per
 * hour worked, reset on January 1.  doc holds the settings that have no
 * column (h_timeoff_policies.c). */
static int put_policy(sqlite3 *db, const char *uuid, const char *company, const char *name,
                      const char *type, const char *rate, const char *doc)
{
    static const char *sql =
        "INSERT OR IGNORE INTO time_off_policies(uuid, company_uuid, name, policy_type,"
        " accrual_rate, paid_out, doc) VALUES(?,?,?,?,?,?,?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    db_bind_text(st, 1, uuid);
    db_bind_text(st, 2, company);
    db_bind_text(st, 3, name);
    db_bind_text(st, 4, type);
    db_bind_text(st, 5, rate);
    sqlite3_bind_int(st, 6, strcmp(type, "vacation") == 0);
    db_bind_text(st, 7, doc);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_reset(st);
    return rc;
}

static int put_department(sqlite3 *db, const char *uuid, const char *company,
                          const char *title)
{
    static const char *sql =
        "INSERT OR IGNORE INTO departments(uuid, company_uuid, title) VALUES(?,?,?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    db_bind_text(st, 1, uuid);
    db_bind_text(st, 2, company);
    db_bind_text(st, 3, title);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_reset(st);
    return rc;
}

static int seed_company(sqlite3 *db, uint64_t *rng, char *uuid, struct company_seed *cs,
                        const char *name, const char *slug, const char *ein, bool two_sites)
{
    uuid_seeded(rng, uuid);
    for (int i = 0; i < 2; i++)
        uuid_seeded(rng, cs->locations[i]);
    for (int i = 0; i < 5; i++)
        uuid_seeded(rng, cs->departments[i]);
    uuid_seeded(rng, cs->vacation);
    uuid_seeded(rng, cs->sick);
    int rc = put_company(db, uuid, name, slug, ein);
    rc |= put_location(db, cs->locations[0], uuid, "525 20th Street", NULL, "San Francisco",
                       "CA", "94107", "4155550123", true);
    cs->nlocations = two_sites ? 2 : 1;
    if (two_sites)
        rc |= put_location(db, cs->locations[1], uuid, "1550 Wewatta Street", "Suite 200",
                           "Denver", "CO", "80202", "3035550188", false);
    for (int i = 0; i < 5; i++)
        rc |= put_department(db, cs->departments[i], uuid, DEPARTMENTS[i]);
    rc |= put_policy(db, cs->vacation, uuid, "Paid Time Off", "vacation", "6.67",
                     "{\"accrual_method\":\"per_hour_worked\",\"accrual_rate_unit\":\"80.0\","
                     "\"accrual_waiting_period_days\":0,\"carryover_limit_hours\":\"40.0\","
                     "\"max_accrual_hours_per_year\":\"80.0\",\"max_hours\":\"120.0\","
                     "\"policy_reset_date\":\"01-01\",\"complete\":true}");
    rc |= put_policy(db, cs->sick, uuid, "Sick Leave", "sick", "4.0",
                     "{\"accrual_method\":\"per_hour_worked\",\"accrual_rate_unit\":\"80.0\","
                     "\"accrual_waiting_period_days\":90,\"carryover_limit_hours\":\"40.0\","
                     "\"max_accrual_hours_per_year\":\"40.0\",\"max_hours\":\"80.0\","
                     "\"policy_reset_date\":\"01-01\",\"complete\":true}");
    return rc;
}

int seed_base(sqlite3 *db)
{
    uint64_t rng = 0x6a7573746f2d3031ULL; /* fixed: the demo ids never change */
    int rc = seed_company(db, &rng, SB_DEMO_COMPANY, &demo_seed, "Acme Demo Co",
                          "acme-demo-co", "12-3456789", true);
    rc |= seed_company(db, &rng, SB_OTHER_COMPANY, &other_seed, "Globex Other Inc",
                       "globex-other-inc", "98-7654321", false);
    store_init_seq(db);
    return rc;
}

struct person {
    const char *company;
    struct company_seed *cs;
    const char *first, *last;
    int idx;
    const char *hire;            /* YYYY-MM-DD */
    int dept;
    const char *manager;         /* may be NULL */
    bool onboarded;
    bool hourly;
    bool history;                /* earlier address, a raise */
    const char *terminate_on;    /* NULL: active */
    bool time_off;
};

static int seed_person(sqlite3 *db, uint64_t *rng, const struct person *p, char uuid[37])
{
    char job[37], comp[37], comp2[37], home[37], home2[37], work[37], term[37];
    uuid_seeded(rng, uuid);
    uuid_seeded(rng, job);
    uuid_seeded(rng, comp);
    uuid_seeded(rng, comp2);
    uuid_seeded(rng, home);
    uuid_seeded(rng, home2);
    uuid_seeded(rng, work);
    uuid_seeded(rng, term);

    char email[128], work_email[128], dob[11], phone[16], ssn[16], code[7];
    snprintf(email, sizeof email, "%s.%s%d@example.com", p->first, p->last, p->idx);
    snprintf(work_email, sizeof work_email, "%s.%s%d@acme-demo.test", p->first, p->last,
             p->idx);
    for (char *c = email; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    for (char *c = work_email; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    ymd_add_days("1970-01-01", 365 * 10 + (p->idx * 211) % 9000, dob);
    snprintf(phone, sizeof phone, "415555%04u", (unsigned)p->idx % 10000u);
    snprintf(ssn, sizeof ssn, "9%08d", p->idx);
    snprintf(code, sizeof code, "%.6s", uuid);
    const char *dept = DEPARTMENTS[p->dept];
    const char *title = TITLES[p->dept][p->idx % 3];

    json_t *doc = json_pack(
        "{s:s, s:n, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:b, s:s, s:s, s:s, s:s, s:s, s:s?,"
        " s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:n}]}",
        "first_name", p->first, "middle_initial", "last_name", p->last, "email", email,
        "work_email", work_email, "date_of_birth", dob, "ssn", ssn, "phone", phone,
        "preferred_first_name", "two_percent_shareholder", 0, "payment_method",
        p->idx % 7 == 0 ? "Check" : "Direct Deposit", "current_employment_status",
        p->idx % 9 == 4 ? "part_time_twenty_plus_hours" : "full_time", "department", dept,
        "department_uuid", p->cs->departments[p->dept], "employee_code", code,
        "manager_uuid", p->manager,
        "custom_fields", "id", code, "company_custom_field_id", "5e1b6c7e-9d0a-4f3b-8c2d-1a2b3c4d5e6f",
        "name", "employee_level", "description", "Employee level", "type", "text", "value",
        p->idx % 3 == 0 ? "3" : "2", "selection_options");
    if (!doc)
        return -1;
    int rc = store_employee(db, uuid, p->company, doc, p->onboarded,
                            p->onboarded ? "onboarding_completed"
                                         : "admin_onboarding_incomplete",
                            NULL);
    json_decref(doc);

    json_t *jd = json_pack("{s:s, s:s, s:b, s:n, s:n}", "title", title, "hire_date", p->hire,
                           "two_percent_shareholder", 0, "state_wc_covered",
                           "state_wc_class_code");
    rc |= store_job(db, job, uuid, jd);
    json_decref(jd);

    char rate[24];
    if (p->hourly)
        snprintf(rate, sizeof rate, "%d.50", 22 + p->idx % 15);
    else
        snprintf(rate, sizeof rate, "%d.00", 62000 + (p->idx * 1750) % 90000);
    json_t *cd = json_pack("{s:s, s:s, s:s, s:s, s:b, s:[]}", "rate", rate, "payment_unit",
                           p->hourly ? "Hour" : "Year", "flsa_status",
                           p->hourly ? "Nonexempt" : "Exempt", "title", title,
                           "adjust_for_minimum_wage", 0, "minimum_wages");
    rc |= store_compensation(db, comp, job, uuid, p->hire, cd);
    if (p->history) {
        /* A raise a year after hire. */
        char raise_on[11];
        ymd_add_days(p->hire, 365, raise_on);
        if (p->hourly)
            snprintf(rate, sizeof rate, "%d.00", 25 + p->idx % 15);
        else
            snprintf(rate, sizeof rate, "%d.00", 70000 + (p->idx * 1750) % 90000);
        json_object_set_new(cd, "rate", json_string(rate));
        rc |= store_compensation(db, comp2, job, uuid, raise_on, cd);
    }
    json_decref(cd);

    int h = p->idx % (int)(sizeof HOMES / sizeof HOMES[0]);
    json_t *hd = json_pack("{s:s, s:n, s:s, s:s, s:s, s:s, s:b}", "street_1", HOMES[h].street,
                           "street_2", "city", HOMES[h].city, "state", HOMES[h].state, "zip",
                           HOMES[h].zip, "country", "USA", "courtesy_withholding", 0);
    if (p->history) {
        int h2 = (h + 3) % (int)(sizeof HOMES / sizeof HOMES[0]);
        json_t *old = json_pack("{s:s, s:n, s:s, s:s, s:s, s:s, s:b}", "street_1",
                                HOMES[h2].street, "street_2", "city", HOMES[h2].city,
                                "state", HOMES[h2].state, "zip", HOMES[h2].zip, "country",
                                "USA", "courtesy_withholding", 0);
        rc |= store_home_address(db, home2, uuid, p->hire, old);
        json_decref(old);
        char moved[11];
        ymd_add_days(p->hire, 500, moved);
        rc |= store_home_address(db, home, uuid, moved, hd);
    } else {
        rc |= store_home_address(db, home, uuid, p->hire, hd);
    }
    json_decref(hd);
    const char *loc = p->cs->locations[(p->idx % 3 == 2) ? p->cs->nlocations - 1 : 0];
    rc |= store_work_address(db, work, uuid, p->hire, loc);
    if (p->terminate_on)
        rc |= store_termination(db, term, uuid, p->terminate_on);

    char when[40];
    snprintf(when, sizeof when, "%sT09:00:00.000-08:00", p->hire);
    rc |= store_time_off(db, uuid, p->cs->vacation, "vacation", "TimeOffEvent::AddToPolicy",
                         "Added to policy", when, "0.0", "0.0");
    rc |= store_time_off(db, uuid, p->cs->sick, "sick", "TimeOffEvent::AddToPolicy",
                         "Added to policy", when, "0.0", "0.0");
    if (p->time_off) {
        /* Monthly accruals over the last six months (or since hire). */
        long vac = 0, sick = 0;
        char day[11], bal[24], chg[24], today[11], start[11];
        today_ymd(today);
        ymd_add_days(today, -190, start);
        if (strcmp(p->hire, start) > 0)
            snprintf(start, sizeof start, "%s", p->hire);
        for (int m = 1; m <= 6; m++) {
            ymd_add_days(start, 30 * m, day);
            if (strcmp(day, today) > 0)
                break;
            snprintf(when, sizeof when, "%sT00:00:00.000-08:00", day);
            vac += 667;
            fmt_hours(vac, bal);
            fmt_hours(667, chg);
            rc |= store_time_off(db, uuid, p->cs->vacation, "vacation",
                                 "TimeOffEvent::Accrual", "Accrual", when, bal, chg);
            sick += 400;
            fmt_hours(sick, bal);
            fmt_hours(400, chg);
            rc |= store_time_off(db, uuid, p->cs->sick, "sick", "TimeOffEvent::Accrual",
                                 "Accrual", when, bal, chg);
            if (m == 4 && p->idx % 2 == 0) {
                vac -= 1600;
                fmt_hours(vac, bal);
                fmt_hours(-1600, chg);
                rc |= store_time_off(db, uuid, p->cs->vacation, "vacation",
                                     "TimeOffEvent::Usage", "Time off taken", when, bal, chg);
            }
        }
    }
    return rc;
}

/* True the first time `key` is seen in this database: seeding a --data file
 * again must change nothing, not even a version. */
static bool first_time(sqlite3 *db, const char *key)
{
    static const char *sql = "INSERT OR IGNORE INTO meta(key, value) VALUES(?, 'done')";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, key);
    bool fresh = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1;
    sqlite3_reset(st);
    return fresh;
}

int seed_demo(sqlite3 *db)
{
    if (!first_time(db, "seed:demo"))
        return 0;
    uint64_t rng = 0x64656d6f2d736565ULL;
    char today[11];
    today_ymd(today);
    char managers[5][37] = {{0}};
    int rc = 0;
    for (int i = 0; i < 50; i++) {
        struct person p = {0};
        p.company = SB_DEMO_COMPANY;
        p.cs = &demo_seed;
        p.first = FIRST[i];
        p.last = LAST[(i * 7) % 50];
        p.idx = i;
        char hire[11], term[11];
        ymd_add_days("2018-01-15", i * 37, hire);
        p.hire = hire;
        p.dept = i % 5;
        p.manager = i >= 5 && managers[p.dept][0] ? managers[p.dept] : NULL;
        p.onboarded = i < 47;
        p.hourly = i % 5 == 3;
        p.history = i % 4 == 1;
        p.time_off = true;
        if (i == 43 || i == 44) {
            ymd_add_days(today, -(40 + i), term);
            p.terminate_on = term;
        } else if (i == 45) {
            ymd_add_days(today, 30, term); /* scheduled: not yet terminated */
            p.terminate_on = term;
        }
        char uuid[37];
        rc |= seed_person(db, &rng, &p, uuid);
        if (i < 5)
            snprintf(managers[p.dept], sizeof managers[p.dept], "%s", uuid);
    }
    for (int i = 0; i < 5; i++) {
        struct person p = {0};
        p.company = SB_OTHER_COMPANY;
        p.cs = &other_seed;
        p.first = FIRST[(i * 11 + 3) % 50];
        p.last = LAST[(i * 13 + 5) % 50];
        p.idx = 1000 + i;
        p.hire = "2021-06-01";
        p.dept = i % 5;
        p.onboarded = true;
        char uuid[37];
        rc |= seed_person(db, &rng, &p, uuid);
    }
    /* Both companies have run payroll through the end of last month, at
     * the compensations then in effect (payrolls.c). */
    char through[11];
    payroll_seed_through(through);
    rc |= payroll_run(db, SB_DEMO_COMPANY, through) < 0;
    rc |= payroll_run(db, SB_OTHER_COMPANY, through) < 0;
    return rc;
}

int seed_employees(sqlite3 *db, long n)
{
    char key[64];
    snprintf(key, sizeof key, "seed:employees:%ld", n);
    if (!first_time(db, key))
        return 0;
    uint64_t rng = 0x7379737468657469ULL;
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        struct person p = {0};
        p.company = SB_DEMO_COMPANY;
        p.cs = &demo_seed;
        p.first = FIRST[i % 50];
        p.last = LAST[(i / 50) % 50];
        p.idx = (int)(100000 + i);
        char hire[11];
        ymd_add_days("2015-01-05", (int)(i % 3000), hire);
        p.hire = hire;
        p.dept = (int)(i % 5);
        p.onboarded = true;
        p.hourly = i % 5 == 3;
        char uuid[37];
        rc |= seed_person(db, &rng, &p, uuid);
    }
    char through[11];
    payroll_seed_through(through);
    rc |= payroll_run(db, SB_DEMO_COMPANY, through) < 0;
    return rc;
}
