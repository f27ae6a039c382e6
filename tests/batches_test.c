/* batches_test.c - integration tests for the sandbox's People Batches API
 * (POST /v1/companies/{id}/people_batches, GET /v1/people_batches/{uuid}),
 * all over real HTTP on 127.0.0.1.  Each test starts its own sandbox and
 * stops it with SIGTERM, checking it exits cleanly.
 *
 * Run from the repository root: ./build/tests/batches_test [TEST...]
 * GUSTO_SANDBOX overrides the binary (default build/gusto-sandbox);
 * GUSTO_BATCH_LIMIT_MS overrides the 10,000-person time limit (2000 ms, or
 * 10000 ms when this test is built with AddressSanitizer). */
#include "testutil.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define T "T"            /* every scope, demo company */
#define OTH "oth"        /* every scope, the other company */
#define RO "bro"         /* people_batches:read only */
#define NOPB "nopb"      /* employees only: no people_batches scope */

static const char *const STD_ARGS[] = {
    "--seed", "demo", "--rate-limit", "0",
    "--token", T,
    "--token", OTH "@other",
    "--token", RO ":people_batches:read",
    "--token", NOPB ":employees:read,employees:write",
    NULL};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct sandbox SB;

/* ---- helpers ------------------------------------------------------------------------------ */

struct sbuf {
    char *p;
    size_t n, cap;
};

static void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0)
        return;
    if (b->n + (size_t)need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + (size_t)need + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)need;
}

/* A fresh idempotency key per call. */
static const char *new_key(char out[37])
{
    static unsigned long counter;
    snprintf(out, 37, "%08lx-0ab3-4ef3-ab0d-%012lx", (unsigned long)getpid(), ++counter);
    return out;
}

/* {"idempotency_key":<fresh>,"batch_action":"create","batch":[entries]}; malloc'd. */
static char *batch_body(const char *entries)
{
    char key[37];
    struct sbuf b = {0};
    sbuf_printf(&b, "{\"idempotency_key\":\"%s\",\"batch_action\":\"create\",\"batch\":[%s]}",
                new_key(key), entries);
    return b.p;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool final_status(const char *s)
{
    return s && (strcmp(s, "completed") == 0 || strcmp(s, "partial_success") == 0 ||
                 strcmp(s, "failed") == 0);
}

/* Poll the batch every interval_ms until it reaches a final status;
 * returns the last body (the caller decrefs) and the statuses seen, space
 * separated. */
/* What the last poll_every() saw: the slowest poll, and whether a poll
 * caught the batch processing with some results already readable. */
static double g_slowest_poll_ms;
static bool g_saw_partial;

static json_t *poll_every(const char *uuid, long interval_ms, double timeout_ms, char *seen,
                          size_t seenlen)
{
    struct resp r = {0};
    json_t *last = NULL;
    double t0 = now_ms();
    if (seen)
        seen[0] = 0;
    long prev_processed = 0;
    g_slowest_poll_ms = 0;
    g_saw_partial = false;
    for (;;) {
        double tp = now_ms();
        req(&r, "GET", T, NULL, "/v1/people_batches/%s", uuid);
        if (now_ms() - tp > g_slowest_poll_ms)
            g_slowest_poll_ms = now_ms() - tp;
        if (!CHECK(r.status == 200, "poll GET people_batches/%s: status %ld", uuid, r.status))
            break;
        const char *st = jstr(r.json, "status");
        long processed = (long)jint(r.json, "processed_items", -1);
        CHECK(processed >= prev_processed, "processed_items never goes down (%ld then %ld)",
              prev_processed, processed);
        prev_processed = processed;
        long nres = jlen(r.json, "results");
        if (st && strcmp(st, "processing") == 0 && nres > 0 &&
            nres < (long)jint(r.json, "submitted_items", 0)) {
            g_saw_partial = true;
            CHECK(processed <= nres, "processed_items (%ld) <= results so far (%ld)",
                  processed, nres);
        }
        if (seen && st && !strstr(seen, st)) {
            size_t used = strlen(seen);
            snprintf(seen + used, seenlen - used, "%s ", st);
        }
        if (final_status(st)) {
            last = r.json;
            r.json = NULL;
            break;
        }
        if (now_ms() - t0 > timeout_ms) {
            CHECK(false, "batch %s still %s after %.0f ms", uuid, st ? st : "?", timeout_ms);
            break;
        }
        sleep_ms(interval_ms);
    }
    resp_free(&r);
    return last;
}

static json_t *poll_batch(const char *uuid, double timeout_ms, char *seen, size_t seenlen)
{
    return poll_every(uuid, 10, timeout_ms, seen, seenlen);
}

/* POST a batch with token T to the demo company; returns the new batch
 * uuid in out (or "" with a failed CHECK). */
static const char *post_batch(const char *body, char out[64])
{
    struct resp r = {0};
    out[0] = 0;
    req(&r, "POST", T, body, "/v1/companies/%s/people_batches", SB.company);
    if (CHECK(r.status == 201, "POST people_batches: 201, got %ld %.300s", r.status, r.body))
        snprintf(out, 64, "%s", jstr(r.json, "uuid") ? jstr(r.json, "uuid") : "");
    resp_free(&r);
    return out;
}

/* Does some errors[] entry carry this error_key? */
static bool has_error_key(const json_t *body, const char *key)
{
    json_t *errs = json_object_get(body, "errors");
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e) {
        const char *k = json_string_value(json_object_get(e, "error_key"));
        if (k && strcmp(k, key) == 0)
            return true;
    }
    return false;
}

static long count_employees(const char *token, const char *company)
{
    struct resp r = {0};
    req(&r, "GET", token, NULL, "/v1/companies/%s/employees?page=1&per=1", company);
    char v[32];
    long n = hget(r.headers, "X-Total-Count", v, sizeof v) ? strtol(v, NULL, 10) : -1;
    resp_free(&r);
    return n;
}

/* ---- the guide's minimal example ---------------------------------------------------------- */

static void test_minimal_example(void)
{
    if (!sb_startv(&SB, STD_ARGS))
        return;
    static const char *body =
        "{\"idempotency_key\":\"bcfc9744-0ab3-4ef3-ab0d-e728255d659c\",\"batch_action\":"
        "\"create\",\"batch\":[{\"entity_type\":\"employee\",\"person\":{\"external_id\":"
        "\"employee-abc-123\",\"first_name\":\"Alice\",\"last_name\":\"Smith\"}}]}";
    struct resp r = {0};
    req(&r, "POST", T, body, "/v1/companies/%s/people_batches", SB.company);
    CHECK_LONG(r.status, 201, "minimal example: 201");
    char uuid[64];
    snprintf(uuid, sizeof uuid, "%s", jstr(r.json, "uuid") ? jstr(r.json, "uuid") : "");
    CHECK(strlen(uuid) == 36, "201 body has the batch uuid (%s)", r.body);
    CHECK_STR(jstr(r.json, "idempotency_key"), "bcfc9744-0ab3-4ef3-ab0d-e728255d659c",
              "201 echoes idempotency_key");
    CHECK_STR(jstr(r.json, "status"), "pending", "201 status is pending");
    CHECK_STR(jstr(r.json, "batch_action"), "create", "201 batch_action");
    CHECK_LONG(jlen(r.json, ""), 4, "People-Batch has exactly uuid, idempotency_key, status, "
                                    "batch_action");

    json_t *b = poll_batch(uuid, 5000, NULL, 0);
    CHECK_STR(jstr(b, "status"), "completed", "the batch completes");
    CHECK_STR(jstr(b, "uuid"), uuid, "GET uuid");
    CHECK_STR(jstr(b, "idempotency_key"), "bcfc9744-0ab3-4ef3-ab0d-e728255d659c", "GET key");
    CHECK(jstr(b, "submitted_at") != NULL, "submitted_at is set");
    CHECK(jstr(b, "completed_at") != NULL, "completed_at is set once completed");
    CHECK_LONG((long)jint(b, "submitted_items", -1), 1, "submitted_items");
    CHECK_LONG((long)jint(b, "processed_items", -1), 1, "processed_items");
    CHECK_LONG((long)jint(b, "excluded_items", -1), 0, "excluded_items");
    CHECK_LONG(jlen(b, "exclusions"), 0, "exclusions is []");
    CHECK_LONG(jlen(b, "results"), 1, "one result");
    CHECK_STR(jstr(b, "results[0].external_id"), "employee-abc-123", "result external_id");
    CHECK_STR(jstr(b, "results[0].role"), "employee", "result role");
    CHECK_STR(jstr(b, "results[0].status"), "success", "result status");
    CHECK_LONG((long)jint(b, "results[0].idx", -1), 0, "result idx");
    CHECK(jget(b, "results[0].errors") && json_is_null(jget(b, "results[0].errors")),
          "a successful result has errors null");
    char emp[64];
    snprintf(emp, sizeof emp, "%s", jstr(b, "results[0].employee_uuid") ?
             jstr(b, "results[0].employee_uuid") : "");
    CHECK_STR(jstr(b, "results[0].uuid"), emp, "result uuid is the employee's");

    req(&r, "GET", T, NULL, "/v1/employees/%s", emp);
    CHECK_LONG(r.status, 200, "the created employee is readable");
    CHECK_STR(jstr(r.json, "first_name"), "Alice", "first_name");
    CHECK_STR(jstr(r.json, "last_name"), "Smith", "last_name");
    CHECK_STR(jstr(r.json, "company_uuid"), SB.company, "company_uuid");
    CHECK_STR(jstr(r.json, "onboarding_status"), "admin_onboarding_incomplete",
              "a batch employee starts onboarding");
    CHECK_STR(jstr(r.json, "payment_method"), "Check", "no bank account: Check");
    CHECK(r.body && !strstr(r.body, "employee-abc-123"),
          "external_id is not stored on the employee");
    req(&r, "GET", T, NULL, "/v1/employees/%s?include=custom_fields", emp);
    CHECK(r.body && !strstr(r.body, "employee-abc-123"), "nor in its custom fields");
    CHECK_LONG(count_employees(T, SB.company), 51, "the demo company now has 51 employees");
    json_decref(b);
    resp_free(&r);
    sb_stop(&SB);
}

/* ---- a full two-person batch -------------------------------------------------------------- */

static void check_bank_rows(const char *db_path, const char *emp1, const char *emp2)
{
    sqlite3 *db = NULL;
    if (!CHECK(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK,
               "open %s", db_path)) {
        sqlite3_close(db);
        return;
    }
    sqlite3_stmt *st = NULL;
    const char *sql =
        "SELECT employee_uuid, priority, name, account_type, routing_number,"
        " hidden_account_number, split_by, coalesce(split_amount, 'null')"
        " FROM bank_accounts ORDER BY employee_uuid=?1 DESC, priority";
    if (CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "prepare: %s",
              sqlite3_errmsg(db))) {
        sqlite3_bind_text(st, 1, emp1, -1, SQLITE_TRANSIENT);
        char got[1024] = "";
        size_t n = 0;
        while (sqlite3_step(st) == SQLITE_ROW && n < sizeof got - 200) {
            const char *who = strcmp((const char *)sqlite3_column_text(st, 0), emp1) == 0
                                  ? "p1"
                                  : strcmp((const char *)sqlite3_column_text(st, 0), emp2) == 0
                                        ? "p2" : "??";
            n += (size_t)snprintf(got + n, sizeof got - n, "%s %d %s %s %s %s %s %s|", who,
                                  sqlite3_column_int(st, 1),
                                  sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "-",
                                  sqlite3_column_text(st, 3), sqlite3_column_text(st, 4),
                                  sqlite3_column_text(st, 5), sqlite3_column_text(st, 6),
                                  sqlite3_column_text(st, 7));
        }
        CHECK_STR(got,
                  "p1 1 Main Checking Checking 266905059 XXXX1207 Amount 50000|"
                  "p1 2 Rainy Day Savings 021000021 XXXX8890 Amount null|"
                  "p2 1 - Checking 266905059 XXXX4321 Percentage 60|"
                  "p2 2 Brokerage Savings 021000021 XXXX0009 Percentage 40|",
                  "bank_accounts rows: in array order, masked, with their splits");
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
}

/* True when the file holds the bytes of needle. */
static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t nl = strlen(needle), n = 0;
    char *buf = NULL;
    size_t cap = 0;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (n + got > cap) {
            cap = (n + got) * 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                abort();
            buf = nb;
        }
        memcpy(buf + n, chunk, got);
        n += got;
    }
    fclose(f);
    bool found = false;
    for (size_t i = 0; nl && i + nl <= n && !found; i++)
        found = memcmp(buf + i, needle, nl) == 0;
    free(buf);
    return found;
}

static void test_full_two_people(void)
{
    char dir[] = "/tmp/gusto-batch-XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp"))
        return;
    char dbp[128];
    snprintf(dbp, sizeof dbp, "%s/sandbox.db", dir);
    const char *args[NELEM(STD_ARGS) + 2];
    size_t na = 0;
    args[na++] = "--data";
    args[na++] = dbp;
    for (size_t i = 0; STD_ARGS[i]; i++)
        args[na++] = STD_ARGS[i];
    args[na] = NULL;
    if (!sb_startv(&SB, args))
        goto out;

    struct resp r = {0};
    req(&r, "GET", T, NULL, "/v1/companies/%s/employees?page=1&per=1", SB.company);
    char dept[64] = "", dept_title[64] = "", loc[64] = "";
    snprintf(dept, sizeof dept, "%s", jstr(r.json, "[0].department_uuid") ?
             jstr(r.json, "[0].department_uuid") : "");
    snprintf(dept_title, sizeof dept_title, "%s", jstr(r.json, "[0].department") ?
             jstr(r.json, "[0].department") : "");
    req(&r, "GET", T, NULL, "/v1/companies/%s/locations", SB.company);
    snprintf(loc, sizeof loc, "%s", jstr(r.json, "[0].uuid") ? jstr(r.json, "[0].uuid") : "");
    long nlocs = jlen(r.json, "");
    CHECK(*dept && *dept_title && *loc, "seed gives a department (%s) and a location (%s)",
          dept, loc);

    struct sbuf e = {0};
    sbuf_printf(&e,
        "{\"entity_type\":\"employee\","
        "\"person\":{\"external_id\":\"hr-1001\",\"first_name\":\"Grace\",\"last_name\":\"Hopper\","
        " \"email\":\"grace@example.com\",\"work_email\":\"grace@acme.test\"},"
        "\"home_address\":{\"street_1\":\"1 Navy Way\",\"street_2\":\"Apt 4\",\"city\":\"Arlington\","
        " \"state\":\"VA\",\"zip\":\"22202\",\"country\":\"USA\"},"
        "\"work_address\":{\"location_uuid\":\"%s\"},"
        "\"department\":{\"department_uuid\":\"%s\"},"
        "\"job\":{\"title\":\"Rear Admiral\",\"hire_date\":\"2024-03-01\",\"state_wc_covered\":null},"
        "\"compensation\":{\"rate\":\"185000.00\",\"payment_unit\":\"Year\",\"flsa_status\":\"Exempt\"},"
        "\"bank_accounts\":["
        " {\"name\":\"Main Checking\",\"account_type\":\"Checking\",\"routing_number\":\"266905059\","
        "  \"account_number\":\"5550001207\",\"type\":\"Direct Deposit\",\"split_by\":\"Amount\","
        "  \"split_amount\":\"50000\"},"
        " {\"name\":\"Rainy Day\",\"account_type\":\"Savings\",\"routing_number\":\"021000021\","
        "  \"account_number\":\"7770008890\",\"type\":\"Direct Deposit\",\"split_by\":\"Amount\","
        "  \"split_amount\":null}]},"
        "{\"entity_type\":\"employee\","
        "\"person\":{\"external_id\":\"hr-1002\",\"first_name\":\"Katherine\",\"last_name\":\"Johnson\","
        " \"middle_initial\":\"C\",\"preferred_first_name\":\"Kat\",\"ssn\":\"123-45-6789\","
        " \"date_of_birth\":\"1990-08-26\",\"email\":\"kat@example.com\",\"self_onboarding\":true},"
        "\"home_address\":{\"street_1\":\"44 Orbit Road\",\"city\":\"Hampton\",\"state\":\"VA\","
        " \"zip\":\"23666-1234\",\"work_from_home\":true},"
        "\"department\":{\"department_uuid\":\"%s\"},"
        "\"job\":{\"title\":\"Mathematician\",\"hire_date\":\"2025-01-06\",\"two_percent_shareholder\":false,"
        " \"state_wc_covered\":false,\"state_wc_class_code\":null},"
        "\"compensation\":{\"rate\":\"48.50\",\"payment_unit\":\"Hour\",\"flsa_status\":\"Nonexempt\"},"
        "\"bank_accounts\":["
        " {\"account_type\":\"Checking\",\"routing_number\":\"266905059\",\"account_number\":\"99994321\","
        "  \"type\":\"Direct Deposit\",\"split_by\":\"Percentage\",\"split_amount\":\"60\"},"
        " {\"name\":\"Brokerage\",\"account_type\":\"Savings\",\"routing_number\":\"021000021\","
        "  \"account_number\":\"123450009\",\"type\":\"Direct Deposit\",\"split_by\":\"Percentage\","
        "  \"split_amount\":\"40\"}]}",
        loc, dept, dept);
    char *body = batch_body(e.p);
    free(e.p);
    char uuid[64];
    post_batch(body, uuid);
    free(body);
    json_t *b = poll_batch(uuid, 5000, NULL, 0);
    CHECK_STR(jstr(b, "status"), "completed", "the two-person batch completes");
    CHECK_LONG((long)jint(b, "processed_items", -1), 2, "processed_items 2");
    CHECK_STR(jstr(b, "results[0].external_id"), "hr-1001", "result 0 external_id");
    CHECK_STR(jstr(b, "results[1].external_id"), "hr-1002", "result 1 external_id");
    CHECK_LONG((long)jint(b, "results[1].idx", -1), 1, "result 1 idx");
    char e1[64] = "", e2[64] = "";
    snprintf(e1, sizeof e1, "%s", jstr(b, "results[0].employee_uuid") ?
             jstr(b, "results[0].employee_uuid") : "");
    snprintf(e2, sizeof e2, "%s", jstr(b, "results[1].employee_uuid") ?
             jstr(b, "results[1].employee_uuid") : "");
    char *bt = b ? json_dumps(b, 0) : NULL;
    static const char *const numbers[] = {"5550001207", "7770008890", "99994321", "123450009"};
    for (size_t i = 0; i < NELEM(numbers); i++)
        CHECK(bt && !strstr(bt, numbers[i]), "batch results never show account %s", numbers[i]);
    free(bt);
    json_decref(b);

    /* Person 1: every part, work address at an existing location. */
    req(&r, "GET", T, NULL, "/v1/employees/%s?include=all_home_addresses", e1);
    CHECK_LONG(r.status, 200, "person 1 readable");
    CHECK_STR(jstr(r.json, "first_name"), "Grace", "p1 first_name");
    CHECK_STR(jstr(r.json, "email"), "grace@example.com", "p1 email");
    CHECK_STR(jstr(r.json, "work_email"), "grace@acme.test", "p1 work_email");
    CHECK_STR(jstr(r.json, "department"), dept_title, "p1 department title");
    CHECK_STR(jstr(r.json, "department_uuid"), dept, "p1 department_uuid");
    CHECK_STR(jstr(r.json, "payment_method"), "Direct Deposit", "p1 paid by direct deposit");
    CHECK_STR(jstr(r.json, "onboarding_status"), "admin_onboarding_incomplete", "p1 status");
    CHECK_STR(jstr(r.json, "jobs[0].title"), "Rear Admiral", "p1 job title");
    CHECK_STR(jstr(r.json, "jobs[0].hire_date"), "2024-03-01", "p1 hire_date");
    CHECK_STR(jstr(r.json, "jobs[0].rate"), "185000.00", "p1 rate");
    CHECK_STR(jstr(r.json, "jobs[0].payment_unit"), "Year", "p1 payment_unit");
    CHECK_STR(jstr(r.json, "jobs[0].compensations[0].flsa_status"), "Exempt", "p1 flsa");
    CHECK_STR(jstr(r.json, "jobs[0].compensations[0].effective_date"), "2024-03-01",
              "p1 compensation starts on the hire date");
    CHECK_STR(jstr(r.json, "jobs[0].location_uuid"), loc, "p1 job location");
    char p1job[64];
    snprintf(p1job, sizeof p1job, "%s", jstr(r.json, "jobs[0].uuid") ?: "none");
    CHECK_STR(jstr(r.json, "all_home_addresses[0].street_1"), "1 Navy Way", "p1 home street");
    CHECK_STR(jstr(r.json, "all_home_addresses[0].street_2"), "Apt 4", "p1 home street_2");
    CHECK_STR(jstr(r.json, "all_home_addresses[0].zip"), "22202", "p1 home zip");
    CHECK_STR(jstr(r.json, "all_home_addresses[0].effective_date"), "2024-03-01",
              "p1 home address from the hire date");
    CHECK(r.body && !strstr(r.body, "hr-1001"), "p1 has no external_id");
    req(&r, "GET", T, NULL, "/v1/employees/%s/work_addresses", e1);
    CHECK(jlen(r.json, "") == 1 && jstr(r.json, "[0].location_uuid") &&
          strcmp(jstr(r.json, "[0].location_uuid"), loc) == 0,
          "p1 has one work address at the given location: %.200s", r.body);
    req(&r, "GET", T, NULL, "/v1/employees/%s/home_addresses", e1);
    CHECK_LONG(jlen(r.json, ""), 1, "p1 has one home address");
    req(&r, "GET", T, NULL, "/v1/jobs/%s/compensations?include=all_compensations", p1job);
    CHECK(jlen(r.json, "") == 1 && jstr(r.json, "[0].rate") &&
              strcmp(jstr(r.json, "[0].rate"), "185000.00") == 0,
          "p1's job has one compensation, carrying the entry's pay: %.300s", r.body);

    /* Person 2: work from home, self-onboarding, SSN, percentage split. */
    req(&r, "GET", T, NULL, "/v1/employees/%s", e2);
    CHECK_LONG(r.status, 200, "person 2 readable");
    CHECK_STR(jstr(r.json, "middle_initial"), "C", "p2 middle_initial");
    CHECK_STR(jstr(r.json, "preferred_first_name"), "Kat", "p2 preferred_first_name");
    CHECK_STR(jstr(r.json, "date_of_birth"), "1990-08-26", "p2 date_of_birth");
    CHECK(json_is_true(jget(r.json, "has_ssn")), "p2 has_ssn");
    CHECK_STR(jstr(r.json, "onboarding_status"), "self_onboarding_pending_invite",
              "p2 self-onboarding");
    CHECK_STR(jstr(r.json, "payment_method"), "Direct Deposit", "p2 direct deposit");
    CHECK_STR(jstr(r.json, "jobs[0].rate"), "48.50", "p2 rate");
    CHECK_STR(jstr(r.json, "jobs[0].payment_unit"), "Hour", "p2 payment_unit");
    CHECK_STR(jstr(r.json, "flsa_status"), "Nonexempt", "p2 flsa_status");
    CHECK_STR(jstr(r.json, "department"), dept_title, "p2 department");
    req(&r, "GET", T, NULL, "/v1/employees/%s/work_addresses", e2);
    char wloc[64] = "";
    snprintf(wloc, sizeof wloc, "%s", jstr(r.json, "[0].location_uuid") ?
             jstr(r.json, "[0].location_uuid") : "");
    CHECK(jlen(r.json, "") == 1 && strcmp(wloc, loc) != 0 && *wloc,
          "p2 works from home: a work address at a new location: %.200s", r.body);
    CHECK_STR(jstr(r.json, "[0].street_1"), "44 Orbit Road", "p2 work address is the home");
    CHECK_STR(jstr(r.json, "[0].zip"), "23666-1234", "p2 work zip");
    req(&r, "GET", T, NULL, "/v1/locations/%s", wloc);
    CHECK_LONG(r.status, 200, "the work-from-home location is a company location");
    CHECK_STR(jstr(r.json, "company_uuid"), SB.company, "of the demo company");
    CHECK_STR(jstr(r.json, "city"), "Hampton", "at the home's city");
    CHECK(jstr(r.json, "phone_number") && strlen(jstr(r.json, "phone_number")) == 10,
          "with the company's phone number");
    req(&r, "GET", T, NULL, "/v1/companies/%s/locations", SB.company);
    CHECK_LONG(jlen(r.json, ""), nlocs + 1, "the company has one more location");
    req(&r, "GET", T, NULL, "/v1/employees/%s/home_addresses", e2);
    CHECK_STR(jstr(r.json, "[0].street_1"), "44 Orbit Road", "p2 home address");
    CHECK_STR(jstr(r.json, "[0].country"), "USA", "country defaults to USA");
    CHECK(json_is_null(jget(r.json, "[0].street_2")), "absent street_2 is null");
    req(&r, "GET", T, NULL, "/v1/companies/%s/employees?include=all_home_addresses", SB.company);
    for (size_t i = 0; i < NELEM(numbers); i++)
        CHECK(r.body && !strstr(r.body, numbers[i]), "no employee shows account %s",
              numbers[i]);
    resp_free(&r);
    sb_stop(&SB);

    check_bank_rows(dbp, e1, e2);
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < NELEM(numbers); i++) {
        bool found = false;
        for (size_t k = 0; k < NELEM(sfx); k++) {
            char f[160];
            snprintf(f, sizeof f, "%s%s", dbp, sfx[k]);
            found |= file_has(f, numbers[i]);
        }
        CHECK(!found, "account number %s is not stored anywhere in the database", numbers[i]);
    }
out:
    for (size_t k = 0; k < 4; k++) {
        static const char *const s2[] = {"", "-wal", "-shm", "-journal"};
        char f[160];
        snprintf(f, sizeof f, "%s%s", dbp, s2[k]);
        unlink(f);
    }
    rmdir(dir);
}

/* ---- validation: each rule is a 422 naming the entry and field ---------------------------- */

#define GOOD_PERSON "\"person\":{\"external_id\":\"x-%d\",\"first_name\":\"A\",\"last_name\":\"B\"}"
#define ACCT(type_, by, amt) \
    "{\"account_type\":\"" type_ "\",\"routing_number\":\"266905059\",\"account_number\":" \
    "\"12345678\",\"type\":\"Direct Deposit\",\"split_by\":\"" by "\",\"split_amount\":" amt "}"

struct vcase {
    const char *name;
    const char *body;        /* whole body; {KEY} = a fresh key, {LOC} = a location */
    const char *entry;       /* or one entry placed at batch[1] of three good ones */
    const char *key;         /* error_key that must be reported */
};

static const struct vcase VCASES[] = {
    {"body not an object", "[1,2]", NULL, "base"},
    {"idempotency_key missing", "{\"batch_action\":\"create\",\"batch\":[{\"entity_type\":"
     "\"employee\"," GOOD_PERSON "}]}", NULL, "idempotency_key"},
    {"idempotency_key not a uuid", "{\"idempotency_key\":\"abc\",\"batch_action\":\"create\","
     "\"batch\":[]}", NULL, "idempotency_key"},
    {"idempotency_key a number", "{\"idempotency_key\":7,\"batch_action\":\"create\","
     "\"batch\":[]}", NULL, "idempotency_key"},
    {"batch_action missing", "{\"idempotency_key\":\"{KEY}\",\"batch\":[]}", NULL,
     "batch_action"},
    {"batch_action update", "{\"idempotency_key\":\"{KEY}\",\"batch_action\":\"update\","
     "\"batch\":[]}", NULL, "batch_action"},
    {"batch missing", "{\"idempotency_key\":\"{KEY}\",\"batch_action\":\"create\"}", NULL,
     "batch"},
    {"batch an object", "{\"idempotency_key\":\"{KEY}\",\"batch_action\":\"create\","
     "\"batch\":{}}", NULL, "batch"},
    {"batch empty", "{\"idempotency_key\":\"{KEY}\",\"batch_action\":\"create\","
     "\"batch\":[]}", NULL, "batch"},
    {"entry not an object", NULL, "42", "batch[1]"},
    {"entity_type missing", NULL, "{" GOOD_PERSON "}", "batch[1].entity_type"},
    {"entity_type contractor", NULL, "{\"entity_type\":\"contractor\"," GOOD_PERSON "}",
     "batch[1].entity_type"},
    {"person missing", NULL, "{\"entity_type\":\"employee\"}", "batch[1].person"},
    {"person not an object", NULL, "{\"entity_type\":\"employee\",\"person\":\"x\"}",
     "batch[1].person"},
    {"external_id missing", NULL, "{\"entity_type\":\"employee\",\"person\":{\"first_name\":"
     "\"A\",\"last_name\":\"B\"}}", "batch[1].person.external_id"},
    {"first_name missing", NULL, "{\"entity_type\":\"employee\",\"person\":{\"external_id\":"
     "\"q\",\"last_name\":\"B\"}}", "batch[1].person.first_name"},
    {"last_name blank", NULL, "{\"entity_type\":\"employee\",\"person\":{\"external_id\":"
     "\"q\",\"first_name\":\"A\",\"last_name\":\"\"}}", "batch[1].person.last_name"},
    {"ssn without dashes", NULL, "{\"entity_type\":\"employee\",\"person\":{\"external_id\":"
     "\"q\",\"first_name\":\"A\",\"last_name\":\"B\",\"ssn\":\"123456789\"}}",
     "batch[1].person.ssn"},
    {"ssn short", NULL, "{\"entity_type\":\"employee\",\"person\":{\"external_id\":"
     "\"q\",\"first_name\":\"A\",\"last_name\":\"B\",\"ssn\":\"123-45-678\"}}",
     "batch[1].person.ssn"},
    {"middle_initial two chars", NULL, "{\"entity_type\":\"employee\",\"person\":{"
     "\"external_id\":\"q\",\"first_name\":\"A\",\"last_name\":\"B\",\"middle_initial\":"
     "\"AB\"}}", "batch[1].person.middle_initial"},
    {"middle_initial empty", NULL, "{\"entity_type\":\"employee\",\"person\":{"
     "\"external_id\":\"q\",\"first_name\":\"A\",\"last_name\":\"B\",\"middle_initial\":"
     "\"\"}}", "batch[1].person.middle_initial"},
    {"email invalid", NULL, "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"q\","
     "\"first_name\":\"A\",\"last_name\":\"B\",\"email\":\"nope\"}}", "batch[1].person.email"},
    {"date_of_birth invalid", NULL, "{\"entity_type\":\"employee\",\"person\":{"
     "\"external_id\":\"q\",\"first_name\":\"A\",\"last_name\":\"B\",\"date_of_birth\":"
     "\"1990-02-30\"}}", "batch[1].person.date_of_birth"},
    {"date_of_birth future", NULL, "{\"entity_type\":\"employee\",\"person\":{"
     "\"external_id\":\"q\",\"first_name\":\"A\",\"last_name\":\"B\",\"date_of_birth\":"
     "\"2999-01-01\"}}", "batch[1].person.date_of_birth"},
    {"self_onboarding a string", NULL, "{\"entity_type\":\"employee\",\"person\":{"
     "\"external_id\":\"q\",\"first_name\":\"A\",\"last_name\":\"B\",\"self_onboarding\":"
     "\"yes\"}}", "batch[1].person.self_onboarding"},
    {"self_onboarding without email", NULL, "{\"entity_type\":\"employee\",\"person\":{"
     "\"external_id\":\"q\",\"first_name\":\"A\",\"last_name\":\"B\",\"self_onboarding\":"
     "true}}", "batch[1].person.email"},
    {"home_address not an object", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"home_address\":[]}", "batch[1].home_address"},
    {"home_address city missing", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"home_address\":{\"street_1\":\"1 A St\",\"state\":\"CA\",\"zip\":\"94107\"}}",
     "batch[1].home_address.city"},
    {"home_address bad state", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"home_address\":{\"street_1\":\"1 A St\",\"city\":\"X\",\"state\":\"XX\",\"zip\":"
     "\"94107\"}}", "batch[1].home_address.state"},
    {"home_address bad zip", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"home_address\":{\"street_1\":\"1 A St\",\"city\":\"X\",\"state\":\"CA\",\"zip\":"
     "\"9410\"}}", "batch[1].home_address.zip"},
    {"home_address work_from_home a string", NULL, "{\"entity_type\":\"employee\","
     GOOD_PERSON ",\"home_address\":{\"street_1\":\"1 A St\",\"city\":\"X\",\"state\":\"CA\","
     "\"zip\":\"94107\",\"work_from_home\":\"yes\"}}", "batch[1].home_address.work_from_home"},
    {"work_address location_uuid missing", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"work_address\":{}}", "batch[1].work_address.location_uuid"},
    {"work_address location_uuid not a uuid", NULL, "{\"entity_type\":\"employee\","
     GOOD_PERSON ",\"work_address\":{\"location_uuid\":\"hq\"}}",
     "batch[1].work_address.location_uuid"},
    {"work_from_home with work_address", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"home_address\":{\"street_1\":\"1 A St\",\"city\":\"X\",\"state\":\"CA\",\"zip\":"
     "\"94107\",\"work_from_home\":true},\"work_address\":{\"location_uuid\":\"{LOC}\"}}",
     "batch[1].work_address"},
    {"job hire_date missing", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"job\":{\"title\":\"T\"}}", "batch[1].job.hire_date"},
    {"job title missing", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"job\":{\"hire_date\":\"2024-01-01\"}}", "batch[1].job.title"},
    {"job hire_date invalid", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"job\":{\"title\":\"T\",\"hire_date\":\"01/02/2024\"}}", "batch[1].job.hire_date"},
    {"department_uuid missing", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"department\":{}}", "batch[1].department.department_uuid"},
    {"compensation without job", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"compensation\":{\"rate\":\"10.00\",\"payment_unit\":\"Hour\",\"flsa_status\":"
     "\"Nonexempt\"}}", "batch[1].job"},
    {"compensation bad payment_unit", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"job\":{\"title\":\"T\",\"hire_date\":\"2024-01-01\"},\"compensation\":{\"rate\":"
     "\"10.00\",\"payment_unit\":\"Day\",\"flsa_status\":\"Nonexempt\"}}",
     "batch[1].compensation.payment_unit"},
    {"compensation rate a number", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"job\":{\"title\":\"T\",\"hire_date\":\"2024-01-01\"},\"compensation\":{\"rate\":"
     "10,\"payment_unit\":\"Hour\",\"flsa_status\":\"Nonexempt\"}}",
     "batch[1].compensation.rate"},
    {"Owner paid hourly", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"job\":{\"title\":\"T\",\"hire_date\":\"2024-01-01\"},\"compensation\":{\"rate\":"
     "\"10.00\",\"payment_unit\":\"Hour\",\"flsa_status\":\"Owner\"}}",
     "batch[1].compensation.payment_unit"},
    {"bank_accounts not an array", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"bank_accounts\":{}}", "batch[1].bank_accounts"},
    {"routing_number short", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"bank_accounts\":[{\"account_type\":\"Checking\",\"routing_number\":\"12345\","
     "\"account_number\":\"12345678\",\"type\":\"Direct Deposit\",\"split_by\":\"Amount\","
     "\"split_amount\":null}]}", "batch[1].bank_accounts[0].routing_number"},
    {"account_type Brokerage", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"bank_accounts\":[" ACCT("Brokerage", "Amount", "null") "]}",
     "batch[1].bank_accounts[0].account_type"},
    {"account_number missing", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"bank_accounts\":[{\"account_type\":\"Checking\",\"routing_number\":\"266905059\","
     "\"type\":\"Direct Deposit\",\"split_by\":\"Amount\",\"split_amount\":null}]}",
     "batch[1].bank_accounts[0].account_number"},
    {"type Check", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"bank_accounts\":[{\"account_type\":\"Checking\",\"routing_number\":\"266905059\","
     "\"account_number\":\"12345678\",\"type\":\"Check\",\"split_by\":\"Amount\","
     "\"split_amount\":null}]}", "batch[1].bank_accounts[0].type"},
    {"Percentage not adding to 100", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"bank_accounts\":[" ACCT("Checking", "Percentage", "\"60\"") ","
     ACCT("Savings", "Percentage", "\"30\"") "]}", "batch[1].bank_accounts"},
    {"Percentage with a null split", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"bank_accounts\":[" ACCT("Checking", "Percentage", "\"100\"") ","
     ACCT("Savings", "Percentage", "null") "]}", "batch[1].bank_accounts[1].split_amount"},
    {"Percentage split not a number", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"bank_accounts\":[" ACCT("Checking", "Percentage", "\"fifty\"") "]}",
     "batch[1].bank_accounts[0].split_amount"},
    {"Amount without a remainder", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"bank_accounts\":[" ACCT("Checking", "Amount", "\"5000\"") ","
     ACCT("Savings", "Amount", "\"100\"") "]}", "batch[1].bank_accounts"},
    {"Amount with two remainders", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"bank_accounts\":[" ACCT("Checking", "Amount", "null") ","
     ACCT("Savings", "Amount", "null") "]}", "batch[1].bank_accounts"},
    {"Amount remainder not last", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"bank_accounts\":[" ACCT("Checking", "Amount", "null") ","
     ACCT("Savings", "Amount", "\"100\"") "]}", "batch[1].bank_accounts[0].split_amount"},
    {"mixed split_by", NULL, "{\"entity_type\":\"employee\"," GOOD_PERSON
     ",\"bank_accounts\":[" ACCT("Checking", "Percentage", "\"100\"") ","
     ACCT("Savings", "Amount", "null") "]}", "batch[1].bank_accounts[1].split_by"},
};

/* Replace each {NAME} in tmpl with the value from vars (pairs). */
static char *fill(const char *tmpl, const char *const *vars)
{
    struct sbuf b = {0};
    sbuf_printf(&b, "%s", "");
    for (const char *p = tmpl; *p;) {
        bool done = false;
        for (size_t i = 0; vars[i] && !done; i += 2) {
            size_t n = strlen(vars[i]);
            if (strncmp(p, vars[i], n) == 0) {
                sbuf_printf(&b, "%s", vars[i + 1]);
                p += n;
                done = true;
            }
        }
        if (!done) {
            sbuf_printf(&b, "%c", *p);
            p++;
        }
    }
    return b.p;
}

/* A job without a compensation comes with Gusto's $0 hourly one, as
 * POST /v1/employees/{id}/jobs makes it (docs/sandbox.md). */
static void test_job_without_compensation(void)
{
    if (!sb_startv(&SB, STD_ARGS))
        return;
    char *body = batch_body(
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"j-1\",\"first_name\":"
        "\"Job\",\"last_name\":\"Only\"},\"job\":{\"title\":\"Clerk\",\"hire_date\":"
        "\"2024-05-06\"}}");
    char uuid[64];
    post_batch(body, uuid);
    free(body);
    json_t *b = poll_batch(uuid, 5000, NULL, 0);
    CHECK_STR(jstr(b, "status"), "completed", "the batch completes");
    char emp[64];
    snprintf(emp, sizeof emp, "%s", jstr(b, "results[0].employee_uuid") ?: "none");
    json_decref(b);
    struct resp r = {0};
    req(&r, "GET", T, NULL, "/v1/employees/%s/jobs?include=all_compensations", emp);
    CHECK_LONG(jlen(r.json, "[0].compensations"), 1, "the job has one compensation");
    CHECK_STR(jstr(r.json, "[0].compensations[0].rate"), "0.00", "at $0");
    CHECK_STR(jstr(r.json, "[0].compensations[0].payment_unit"), "Hour", "per hour");
    CHECK_STR(jstr(r.json, "[0].compensations[0].flsa_status"), "Nonexempt", "non-exempt");
    CHECK_STR(jstr(r.json, "[0].compensations[0].effective_date"), "2024-05-06",
              "from the hire date");
    CHECK_STR(jstr(r.json, "[0].current_compensation_uuid"),
              jstr(r.json, "[0].compensations[0].uuid"), "and current");
    resp_free(&r);
    sb_stop(&SB);
}

static void test_validation(void)
{
    if (!sb_startv(&SB, STD_ARGS))
        return;
    struct resp r = {0};
    req(&r, "GET", T, NULL, "/v1/companies/%s/locations", SB.company);
    char loc[64];
    snprintf(loc, sizeof loc, "%s", jstr(r.json, "[0].uuid") ? jstr(r.json, "[0].uuid") : "");
    long before = count_employees(T, SB.company);

    for (size_t c = 0; c < NELEM(VCASES); c++) {
        const struct vcase *vc = &VCASES[c];
        char key[37];
        new_key(key);
        const char *vars[] = {"{KEY}", key, "{LOC}", loc, NULL};
        char *body;
        if (vc->body) {
            body = fill(vc->body, vars);
        } else {
            char *entry = fill(vc->entry, vars);
            struct sbuf e = {0};
            /* Three good entries around the bad one, which is batch[1]. */
            sbuf_printf(&e, "{\"entity_type\":\"employee\"," GOOD_PERSON "},", 0);
            sbuf_printf(&e, entry, 1);
            sbuf_printf(&e, ",{\"entity_type\":\"employee\"," GOOD_PERSON "}", 2);
            sbuf_printf(&e, ",{\"entity_type\":\"employee\"," GOOD_PERSON "}", 3);
            free(entry);
            struct sbuf full = {0};
            sbuf_printf(&full, "{\"idempotency_key\":\"%s\",\"batch_action\":\"create\","
                        "\"batch\":[%s]}", key, e.p);
            free(e.p);
            body = full.p;
        }
        req(&r, "POST", T, body, "/v1/companies/%s/people_batches", SB.company);
        bool named = has_error_key(r.json, vc->key);
        /* Every error: Gusto's shape, a message starting with its key. */
        bool shaped = jlen(r.json, "errors") > 0;
        size_t i;
        json_t *er;
        json_array_foreach(json_object_get(r.json, "errors"), i, er) {
            const char *k = json_string_value(json_object_get(er, "error_key"));
            const char *cat = json_string_value(json_object_get(er, "category"));
            const char *msg = json_string_value(json_object_get(er, "message"));
            shaped &= k && cat && msg && strcmp(cat, "invalid_attribute_value") == 0 &&
                      (strcmp(k, "base") == 0 || strncmp(msg, k, strlen(k)) == 0);
            if (strcmp(vc->key, "base") != 0)
                shaped &= k && (strncmp(k, "batch", 5) == 0 || strcmp(k, "idempotency_key") == 0 ||
                                strcmp(k, "batch_action") == 0);
        }
        CHECK(r.status == 422 && named && shaped,
              "%s: 422 with error_key %s (got %ld %.400s)", vc->name, vc->key, r.status,
              r.body);
        /* Only the bad entry is blamed. */
        if (!vc->body) {
            bool only = jlen(r.json, "errors") >= 1;
            json_array_foreach(json_object_get(r.json, "errors"), i, er) {
                const char *k = json_string_value(json_object_get(er, "error_key"));
                only &= k && strncmp(k, "batch[1]", 8) == 0;
            }
            CHECK(only, "%s: only batch[1] is named: %.300s", vc->name, r.body);
        }
        free(body);
    }

    /* All problems at once, across entries. */
    char *body = batch_body(
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"a\",\"first_name\":\"A\"}},"
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"b\",\"last_name\":\"B\"}},"
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"a\",\"first_name\":\"C\","
        "\"last_name\":\"D\",\"ssn\":\"1\"}}");
    req(&r, "POST", T, body, "/v1/companies/%s/people_batches", SB.company);
    free(body);
    CHECK(r.status == 422 && has_error_key(r.json, "batch[0].person.last_name") &&
          has_error_key(r.json, "batch[1].person.first_name") &&
          has_error_key(r.json, "batch[2].person.ssn") &&
          !has_error_key(r.json, "batch[2].person.external_id") && jlen(r.json, "errors") == 3,
          "every problem of every entry is reported at once: %.500s", r.body);

    /* Over the cap: SB_BATCH_MAX + 1 entries. */
    struct sbuf e = {0};
    for (int i = 0; i <= 10000; i++)
        sbuf_printf(&e, "%s{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"%d\","
                    "\"first_name\":\"a\",\"last_name\":\"b\"}}", i ? "," : "", i);
    body = batch_body(e.p);
    req(&r, "POST", T, body, "/v1/companies/%s/people_batches", SB.company);
    CHECK(r.status == 422 && has_error_key(r.json, "batch") && jlen(r.json, "errors") == 1 &&
          strstr(r.body, "10000"),
          "10,001 entries: 422 on batch naming the cap (got %ld %.300s)", r.status, r.body);
    free(body);
    free(e.p);

    /* Thousands of bad entries: the error list is capped, with a count. */
    e = (struct sbuf){0};
    for (int i = 0; i < 2000; i++)
        sbuf_printf(&e, "%s{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"%d\"}}",
                    i ? "," : "", i);
    body = batch_body(e.p);
    req(&r, "POST", T, body, "/v1/companies/%s/people_batches", SB.company);
    const char *lastmsg = jstr(r.json, "errors[500].message");
    CHECK(r.status == 422 && jlen(r.json, "errors") == 501 && lastmsg &&
          strstr(lastmsg, "3500 more errors"),
          "4,000 errors: the first 500 and a count of the rest (got %ld, %ld errors, last %s)",
          r.status, jlen(r.json, "errors"), lastmsg ? lastmsg : "?");
    free(body);
    free(e.p);

    /* A 422 stores nothing and does not use up the key. */
    CHECK_LONG(count_employees(T, SB.company), before, "422s create no employees");
    char key[37];
    new_key(key);
    struct sbuf b1 = {0};
    sbuf_printf(&b1, "{\"idempotency_key\":\"%s\",\"batch_action\":\"create\",\"batch\":"
                "[{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"k\"}}]}", key);
    req(&r, "POST", T, b1.p, "/v1/companies/%s/people_batches", SB.company);
    CHECK_LONG(r.status, 422, "an invalid batch");
    free(b1.p);
    b1 = (struct sbuf){0};
    sbuf_printf(&b1, "{\"idempotency_key\":\"%s\",\"batch_action\":\"create\",\"batch\":"
                "[{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"k\","
                "\"first_name\":\"K\",\"last_name\":\"L\"}}]}", key);
    req(&r, "POST", T, b1.p, "/v1/companies/%s/people_batches", SB.company);
    CHECK_LONG(r.status, 201, "the same key, body fixed: accepted (a 422 keeps no key)");
    free(b1.p);
    resp_free(&r);
    sb_stop(&SB);
}

/* ---- idempotency -------------------------------------------------------------------------- */

struct racer {
    const char *base, *company, *body;
    long status;
    char uuid[64];
};

static void *race(void *arg)
{
    struct racer *rc = arg;
    struct client c = {0};
    struct resp r = {0};
    client_init(&c, rc->base);
    char path[160];
    snprintf(path, sizeof path, "/v1/companies/%s/people_batches", rc->company);
    rc->status = http_req(&c, "POST", path, T, rc->body, strlen(rc->body), NULL, &r);
    const char *u = jstr(r.json, "uuid");
    if (!u)
        u = jstr(r.json, "errors[0].metadata.entity_uuid");
    snprintf(rc->uuid, sizeof rc->uuid, "%s", u ? u : "");
    resp_free(&r);
    client_free(&c);
    return NULL;
}

static void test_idempotency(void)
{
    if (!sb_startv(&SB, STD_ARGS))
        return;
    struct resp r = {0};
    static const char *body =
        "{\"idempotency_key\":\"80a74f8b-2c16-45e5-9038-aa108849c6e6\",\"batch_action\":"
        "\"create\",\"batch\":[{\"entity_type\":\"employee\",\"person\":{\"external_id\":"
        "\"i-1\",\"first_name\":\"Ida\",\"last_name\":\"One\"}}]}";
    char first[64];
    post_batch(body, first);
    req(&r, "POST", T, body, "/v1/companies/%s/people_batches", SB.company);
    CHECK_LONG(r.status, 409, "the same key again: 409");
    CHECK_LONG(jlen(r.json, "errors"), 1, "one error");
    CHECK_STR(jstr(r.json, "errors[0].error_key"), "idempotency_key", "409 error_key");
    CHECK_STR(jstr(r.json, "errors[0].category"), "invalid_attribute_value", "409 category");
    CHECK_STR(jstr(r.json, "errors[0].message"), "Idempotency token already used",
              "409 message");
    CHECK_STR(jstr(r.json, "errors[0].metadata.entity_uuid"), first,
              "409 metadata.entity_uuid is the existing batch");
    CHECK_STR(jstr(r.json, "errors[0].metadata.entity_type"), "PeopleBatch",
              "409 metadata.entity_type");

    /* A different body, an uppercase key, even an invalid body: still 409. */
    static const char *other =
        "{\"idempotency_key\":\"80A74F8B-2C16-45E5-9038-AA108849C6E6\",\"batch_action\":"
        "\"create\",\"batch\":[{\"entity_type\":\"employee\",\"person\":{\"external_id\":"
        "\"i-2\",\"first_name\":\"Ida\",\"last_name\":\"Two\"}}]}";
    req(&r, "POST", T, other, "/v1/companies/%s/people_batches", SB.company);
    CHECK(r.status == 409 && jstr(r.json, "errors[0].metadata.entity_uuid") &&
          strcmp(jstr(r.json, "errors[0].metadata.entity_uuid"), first) == 0,
          "the key in upper case with another body: 409 to the same batch (%ld)", r.status);
    static const char *invalid =
        "{\"idempotency_key\":\"80a74f8b-2c16-45e5-9038-aa108849c6e6\",\"batch\":7}";
    req(&r, "POST", T, invalid, "/v1/companies/%s/people_batches", SB.company);
    CHECK_LONG(r.status, 409, "a used key wins over other errors: a retry finds its batch");

    /* Keys are per company. */
    req(&r, "GET", OTH, NULL, "/v1/token_info");
    char oc[64];
    snprintf(oc, sizeof oc, "%s", jstr(r.json, "resource.uuid") ? jstr(r.json, "resource.uuid") : "");
    req(&r, "POST", OTH, body, "/v1/companies/%s/people_batches", oc);
    CHECK_LONG(r.status, 201, "another company may use the same key");
    json_t *b = poll_batch(first, 5000, NULL, 0);
    CHECK_STR(jstr(b, "status"), "completed", "the first batch completes once");
    json_decref(b);
    CHECK_LONG(count_employees(T, SB.company), 51, "the retries created nobody");

    /* Two clients racing with one key: one 201, one 409 naming it. */
    char key[37], race_body[512];
    snprintf(race_body, sizeof race_body,
             "{\"idempotency_key\":\"%s\",\"batch_action\":\"create\",\"batch\":[{\"entity_type\":"
             "\"employee\",\"person\":{\"external_id\":\"r\",\"first_name\":\"R\",\"last_name\":"
             "\"S\"}}]}", new_key(key));
    struct racer rc[2] = {{SB.base, SB.company, race_body, 0, ""},
                          {SB.base, SB.company, race_body, 0, ""}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, race, &rc[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK((rc[0].status == 201 && rc[1].status == 409) ||
          (rc[0].status == 409 && rc[1].status == 201),
          "racing POSTs with one key: one 201 and one 409 (got %ld, %ld)", rc[0].status,
          rc[1].status);
    CHECK(*rc[0].uuid && strcmp(rc[0].uuid, rc[1].uuid) == 0,
          "both name the same batch (%s, %s)", rc[0].uuid, rc[1].uuid);
    resp_free(&r);
    sb_stop(&SB);
}

/* ---- per-person failures ------------------------------------------------------------------ */

static void test_partial_success(void)
{
    if (!sb_startv(&SB, STD_ARGS))
        return;
    struct resp r = {0};
    req(&r, "GET", OTH, NULL, "/v1/token_info");
    char oc[64], oloc[64], loc[64], dept[64];
    snprintf(oc, sizeof oc, "%s", jstr(r.json, "resource.uuid") ? jstr(r.json, "resource.uuid") : "");
    req(&r, "GET", OTH, NULL, "/v1/companies/%s/locations", oc);
    snprintf(oloc, sizeof oloc, "%s", jstr(r.json, "[0].uuid") ? jstr(r.json, "[0].uuid") : "");
    req(&r, "GET", T, NULL, "/v1/companies/%s/locations", SB.company);
    snprintf(loc, sizeof loc, "%s", jstr(r.json, "[0].uuid") ? jstr(r.json, "[0].uuid") : "");
    req(&r, "GET", T, NULL, "/v1/companies/%s/employees?page=1&per=1", SB.company);
    snprintf(dept, sizeof dept, "%s", jstr(r.json, "[0].department_uuid") ?
             jstr(r.json, "[0].department_uuid") : "");
    long before = count_employees(T, SB.company);
    long before_locs = 0;
    req(&r, "GET", T, NULL, "/v1/companies/%s/locations", SB.company);
    before_locs = jlen(r.json, "");

    struct sbuf e = {0};
    sbuf_printf(&e,
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"ok-0\",\"first_name\":\"Ok\","
        "\"last_name\":\"Zero\"},\"work_address\":{\"location_uuid\":\"%s\"},\"department\":"
        "{\"department_uuid\":\"%s\"}},"
        /* 1: a department uuid no company has */
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"bad-dept\",\"first_name\":"
        "\"No\",\"last_name\":\"Dept\"},\"home_address\":{\"street_1\":\"1 A St\",\"city\":\"X\","
        "\"state\":\"CA\",\"zip\":\"94107\",\"work_from_home\":true},\"job\":{\"title\":\"T\","
        "\"hire_date\":\"2024-01-01\"},\"department\":{\"department_uuid\":"
        "\"00000000-0000-4000-8000-000000000000\"}},"
        /* 2: another company's location */
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"bad-loc\",\"first_name\":"
        "\"Other\",\"last_name\":\"Loc\"},\"work_address\":{\"location_uuid\":\"%s\"}},"
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"ok-3\",\"first_name\":\"Ok\","
        "\"last_name\":\"Three\"}},"
        /* 4: two_percent_shareholder in a C-Corporation */
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"bad-2pct\",\"first_name\":"
        "\"Two\",\"last_name\":\"Pct\"},\"job\":{\"title\":\"T\",\"hire_date\":\"2024-01-01\","
        "\"two_percent_shareholder\":true}}",
        loc, dept, oloc);
    char *body = batch_body(e.p);
    free(e.p);
    char uuid[64];
    post_batch(body, uuid);
    free(body);
    json_t *b = poll_batch(uuid, 5000, NULL, 0);
    /* Gusto's status guide: a person is partial_success, "and we provide the
     * status for each attribute"; the batch is partial_success. */
    CHECK_STR(jstr(b, "status"), "partial_success", "some attributes failed: partial_success");
    CHECK_LONG((long)jint(b, "submitted_items", -1), 5, "submitted_items 5");
    CHECK_LONG((long)jint(b, "processed_items", -1), 5, "processed_items counts everyone created");
    CHECK_LONG(jlen(b, "results"), 5, "a result per person");
    static const struct { const char *status, *key, *attr, *also_ok; } want[] = {
        {"success", NULL, NULL, "work_address"},
        {"partial_success", "batch[1].department.department_uuid", "department", "job"},
        {"partial_success", "batch[2].work_address.location_uuid", "work_address", NULL},
        {"success", NULL, NULL, NULL},
        {"partial_success", "batch[4].job.two_percent_shareholder", "job", NULL},
    };
    for (size_t i = 0; i < NELEM(want); i++) {
        char p[80];
        snprintf(p, sizeof p, "results[%zu].status", i);
        CHECK_STR(jstr(b, p), want[i].status, p);
        snprintf(p, sizeof p, "results[%zu].idx", i);
        CHECK_LONG((long)jint(b, p, -1), (long)i, p);
        snprintf(p, sizeof p, "results[%zu].employee_uuid", i);
        CHECK(jstr(b, p) != NULL, "a person created whole or in part has an employee_uuid (%zu)",
              i);
        snprintf(p, sizeof p, "results[%zu].attributes.person", i);
        CHECK_STR(jstr(b, p), "success", "the person itself was created");
        if (want[i].key) {
            snprintf(p, sizeof p, "results[%zu].errors[0].error_key", i);
            CHECK_STR(jstr(b, p), want[i].key, "the failure names the entry and field");
            snprintf(p, sizeof p, "results[%zu].errors[0].category", i);
            CHECK_STR(jstr(b, p), "invalid_attribute_value", "failure category");
            snprintf(p, sizeof p, "results[%zu].attributes.%s", i, want[i].attr);
            CHECK_STR(jstr(b, p), "failed", "the failed attribute says so");
        } else {
            snprintf(p, sizeof p, "results[%zu].errors", i);
            CHECK(json_is_null(jget(b, p)), "a success has errors: null (%zu)", i);
        }
        if (want[i].also_ok) {
            snprintf(p, sizeof p, "results[%zu].attributes.%s", i, want[i].also_ok);
            CHECK_STR(jstr(b, p), "success", "the attributes that worked say success");
        }
    }
    CHECK(jget(b, "results[3].attributes.job") == NULL,
          "an attribute not sent has no status (the positive control: results[1])");
    CHECK_STR(jstr(b, "results[1].external_id"), "bad-dept", "partial result keeps external_id");
    /* What exists: the employee without the failed part. */
    char emp4[64], emp1[64];
    snprintf(emp4, sizeof emp4, "%s", jstr(b, "results[4].employee_uuid") ?: "");
    snprintf(emp1, sizeof emp1, "%s", jstr(b, "results[1].employee_uuid") ?: "");
    json_decref(b);
    CHECK_LONG(count_employees(T, SB.company), before + 5, "every person was created");
    req(&r, "GET", T, NULL, "/v1/employees/%s/jobs", emp4);
    CHECK(r.status == 200 && jlen(r.json, "") == 0, "the refused job was not created (%ld %.200s)",
          r.status, r.body);
    req(&r, "GET", T, NULL, "/v1/employees/%s/jobs", emp1);
    CHECK(r.status == 200 && jlen(r.json, "") == 1, "...while another person's job was");
    req(&r, "GET", T, NULL, "/v1/employees/%s", emp1);
    CHECK(json_is_null(jget(r.json, "department_uuid")) || !jget(r.json, "department_uuid"),
          "the refused department was not set (%.200s)", r.body);
    req(&r, "GET", T, NULL, "/v1/companies/%s/locations", SB.company);
    CHECK_LONG(jlen(r.json, ""), before_locs + 1,
               "the work-from-home person's location was created");

    /* Every entry excluded: nobody processed, the batch is failed. */
    e = (struct sbuf){0};
    sbuf_printf(&e, "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"f1\","
                "\"first_name\":\"F\",\"last_name\":\"One\"}},"
                "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"f1\","
                "\"first_name\":\"F\",\"last_name\":\"Two\"}}");
    body = batch_body(e.p);
    free(e.p);
    post_batch(body, uuid);
    free(body);
    b = poll_batch(uuid, 5000, NULL, 0);
    CHECK_STR(jstr(b, "status"), "failed", "every entry excluded: failed");
    CHECK_LONG((long)jint(b, "processed_items", -1), 0, "processed_items 0");
    CHECK_LONG(jlen(b, "results"), 0, "excluded entries have no result");
    CHECK_LONG((long)jint(b, "excluded_items", -1), 2, "both are excluded");
    CHECK(jstr(b, "completed_at") != NULL, "a failed batch is complete too");
    json_decref(b);
    resp_free(&r);
    sb_stop(&SB);
}

/* ---- exclusions ------------------------------------------------------------------------- */

/* Gusto's batch guide: a repeated external_id goes into the batch's
 * exclusions ({external_id, category, message, item_count}) and the batch
 * is accepted; the other entries are processed. */
static void test_exclusions(void)
{
    if (!sb_startv(&SB, STD_ARGS))
        return;
    long before = count_employees(T, SB.company);
    char *body = batch_body(
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"dup\",\"first_name\":"
        "\"A\",\"last_name\":\"One\"}},"
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"solo\",\"first_name\":"
        "\"B\",\"last_name\":\"Two\"}},"
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"dup\",\"first_name\":"
        "\"C\",\"last_name\":\"Three\"}},"
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"dup\",\"first_name\":"
        "\"D\",\"last_name\":\"Four\"}},"
        "{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"other\",\"first_name\":"
        "\"E\",\"last_name\":\"Five\"}}");
    struct resp r = {0};
    req(&r, "POST", T, body, "/v1/companies/%s/people_batches", SB.company);
    free(body);
    CHECK_LONG(r.status, 201, "a batch with a repeated external_id is accepted");
    char uuid[64];
    snprintf(uuid, sizeof uuid, "%s", jstr(r.json, "uuid") ?: "");
    json_t *b = poll_batch(uuid, 5000, NULL, 0);
    CHECK_STR(jstr(b, "status"), "partial_success", "exclusions make it partial_success");
    CHECK_LONG((long)jint(b, "excluded_items", -1), 3, "excluded_items counts every repeat");
    CHECK_LONG((long)jint(b, "submitted_items", -1), 5, "submitted_items counts every entry");
    CHECK_LONG((long)jint(b, "processed_items", -1), 2, "processed_items: the other two");
    CHECK_LONG(jlen(b, "exclusions"), 1, "one exclusion per repeated external_id");
    CHECK_STR(jstr(b, "exclusions[0].external_id"), "dup", "the exclusion names the id");
    CHECK_STR(jstr(b, "exclusions[0].category"), "duplicate_external_id", "its category");
    CHECK_LONG((long)jint(b, "exclusions[0].item_count", -1), 3, "item_count 3");
    const char *msg = jstr(b, "exclusions[0].message");
    CHECK(msg && strstr(msg, "\"dup\"") && strstr(msg, "0, 2, 3"),
          "the message names the id and the entries: %s", msg ? msg : "(none)");
    CHECK_LONG(jlen(b, "results"), 2, "only the other entries have results");
    CHECK_STR(jstr(b, "results[0].external_id"), "solo", "results[0] is solo");
    CHECK_LONG((long)jint(b, "results[0].idx", -1), 1, "...at idx 1");
    CHECK_STR(jstr(b, "results[1].external_id"), "other", "results[1] is other");
    CHECK_STR(jstr(b, "results[1].status"), "success", "...a success");
    json_decref(b);
    CHECK_LONG(count_employees(T, SB.company), before + 2, "nobody excluded was created");

    /* The positive control: no repeats, no exclusions, completed. */
    body = batch_body("{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"dup\","
                      "\"first_name\":\"A\",\"last_name\":\"One\"}}");
    post_batch(body, uuid);
    free(body);
    b = poll_batch(uuid, 5000, NULL, 0);
    CHECK(jstr(b, "status") && strcmp(jstr(b, "status"), "completed") == 0 &&
              jlen(b, "exclusions") == 0 && jint(b, "excluded_items", -1) == 0,
          "a batch without repeats: completed, exclusions [] and excluded_items 0");
    json_decref(b);
    resp_free(&r);
    sb_stop(&SB);
}

/* ---- polling, scopes and isolation -------------------------------------------------------- */

static void test_polling_and_access(void)
{
    if (!sb_startv(&SB, STD_ARGS))
        return;
    struct resp r = {0};
    char *body = batch_body("{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"p\","
                            "\"first_name\":\"P\",\"last_name\":\"Q\"}}");
    char uuid[64];
    post_batch(body, uuid);
    json_t *b = poll_batch(uuid, 5000, NULL, 0);
    char *once = b ? json_dumps(b, JSON_SORT_KEYS) : NULL;
    json_decref(b);
    for (int i = 0; i < 3; i++) {
        req(&r, "GET", T, NULL, "/v1/people_batches/%s", uuid);
        char *again = r.json ? json_dumps(r.json, JSON_SORT_KEYS) : NULL;
        CHECK(once && again && strcmp(once, again) == 0,
              "a finished batch reads the same on every poll");
        free(again);
    }
    free(once);
    req(&r, "GET", RO, NULL, "/v1/people_batches/%s", uuid);
    CHECK_LONG(r.status, 200, "people_batches:read may GET");
    req(&r, "POST", RO, body, "/v1/companies/%s/people_batches", SB.company);
    CHECK(r.status == 403 && strstr(r.body, "people_batches:write"),
          "POST needs people_batches:write (got %ld)", r.status);
    req(&r, "GET", NOPB, NULL, "/v1/people_batches/%s", uuid);
    CHECK(r.status == 403 && strstr(r.body, "people_batches:read"),
          "GET needs people_batches:read (got %ld)", r.status);
    req(&r, "GET", OTH, NULL, "/v1/people_batches/%s", uuid);
    CHECK_LONG(r.status, 404, "another company's batch: 404");
    CHECK_STR(jstr(r.json, "errors[0].category"), "not_found", "404 category");
    req(&r, "GET", T, NULL, "/v1/people_batches/00000000-0000-4000-8000-000000000000");
    CHECK_LONG(r.status, 404, "unknown batch: 404");
    req(&r, "GET", T, NULL, "/v1/people_batches/not-a-uuid");
    CHECK_LONG(r.status, 404, "malformed batch id: 404");
    req(&r, "POST", OTH, body, "/v1/companies/%s/people_batches", SB.company);
    CHECK_LONG(r.status, 404, "POST to another company: 404");
    req(&r, "POST", T, body, "/v1/companies/00000000-0000-4000-8000-000000000000/people_batches");
    CHECK_LONG(r.status, 404, "POST to an unknown company: 404");
    req(&r, "POST", T, "{nope", "/v1/companies/%s/people_batches", SB.company);
    CHECK_LONG(r.status, 400, "malformed JSON: 400");
    free(body);
    resp_free(&r);
    sb_stop(&SB);
}

/* ---- 10,000 people ------------------------------------------------------------------------ */

static char *big_batch(int n)
{
    struct sbuf e = {0};
    for (int i = 0; i < n; i++)
        sbuf_printf(&e, "%s{\"entity_type\":\"employee\",\"person\":{\"external_id\":\"e%05d\","
                    "\"first_name\":\"F%d\",\"last_name\":\"L%d\"}}", i ? "," : "", i, i, i);
    char *body = batch_body(e.p);
    free(e.p);
    return body;
}

static void test_ten_thousand(void)
{
    if (!sb_startv(&SB, STD_ARGS))
        return;
    const char *lim = getenv("GUSTO_BATCH_LIMIT_MS");
#ifdef __SANITIZE_ADDRESS__
    double limit = 10000; /* a sanitizer build runs about 5 times slower */
#else
    double limit = 2000;
#endif
    if (lim && *lim)
        limit = strtod(lim, NULL);
    char *body = big_batch(10000);
    CHECK(strlen(body) < 1024 * 1024, "10,000 minimal people fit the 1 MiB body limit (%zu)",
          strlen(body));
    long before = count_employees(T, SB.company);
    double t0 = now_ms();
    char uuid[64], seen[128];
    post_batch(body, uuid);
    double t_post = now_ms() - t0;
    /* A poll reads up to 10,000 results; every 50 ms is plenty. */
    json_t *b = poll_every(uuid, 50, 30000, seen, sizeof seen);
    double elapsed = now_ms() - t0;
    fprintf(stderr, "  10,000-person batch: POST answered in %.0f ms, completed in %.0f ms "
            "(limit %.0f ms); statuses seen: %s; slowest poll %.0f ms\n", t_post, elapsed,
            limit, seen, g_slowest_poll_ms);
    CHECK(g_saw_partial, "a poll during processing already shows the first results");
    CHECK(g_slowest_poll_ms < limit / 2, "polls are answered while the batch runs (slowest "
          "%.0f ms)", g_slowest_poll_ms);
    CHECK_STR(jstr(b, "status"), "completed", "10,000 people: completed");
    CHECK_LONG((long)jint(b, "processed_items", -1), 10000, "processed_items 10000");
    CHECK_LONG((long)jint(b, "submitted_items", -1), 10000, "submitted_items 10000");
    CHECK_LONG(jlen(b, "results"), 10000, "10000 results");
    CHECK_STR(jstr(b, "results[9999].external_id"), "e09999", "results in batch order");
    CHECK_LONG((long)jint(b, "results[9999].idx", -1), 9999, "last idx");
    CHECK(elapsed < limit, "10,000 people complete in under %.0f ms (took %.0f ms)", limit,
          elapsed);
    json_decref(b);
    CHECK_LONG(count_employees(T, SB.company), before + 10000, "10,000 employees created");
    free(body);
    sb_stop(&SB);
}

/* ---- stopping mid-batch ------------------------------------------------------------------- */

static void check_finished_after_stop(const char *uuid, const char *how)
{
    struct resp r = {0};
    req(&r, "GET", T, NULL, "/v1/people_batches/%s", uuid);
    const char *st = jstr(r.json, "status");
    CHECK(r.status == 200 && final_status(st), "%s: the batch is finished (status %s)", how,
          st ? st : "?");
    CHECK_LONG(jlen(r.json, "results"), 10000, "every entry has a result");
    long ok = 0, internal = 0;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(r.json, "results"), i, it) {
        const char *s = json_string_value(json_object_get(it, "status"));
        if (s && strcmp(s, "success") == 0)
            ok++;
        else if (s && strcmp(s, "failed") == 0 &&
                 strcmp(jstr(it, "errors[0].category") ? jstr(it, "errors[0].category") : "",
                        "internal_error") == 0)
            internal++;
    }
    CHECK(ok + internal == 10000 && ok == jint(r.json, "processed_items", -1),
          "%s: %ld succeeded, %ld failed with internal_error, processed_items %lld", how, ok,
          internal, jint(r.json, "processed_items", -1));
    CHECK(jstr(r.json, "completed_at") != NULL, "%s: completed_at is set", how);
    fprintf(stderr, "  %s: %ld of 10000 done before the stop\n", how, ok);
    resp_free(&r);
}

static void test_interrupted(void)
{
    char dir[] = "/tmp/gusto-batch-XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp"))
        return;
    char dbp[128];
    snprintf(dbp, sizeof dbp, "%s/sandbox.db", dir);
    const char *args[NELEM(STD_ARGS) + 2];
    size_t na = 0;
    args[na++] = "--data";
    args[na++] = dbp;
    for (size_t i = 0; STD_ARGS[i]; i++)
        args[na++] = STD_ARGS[i];
    args[na] = NULL;

    /* SIGTERM while a 10,000-person batch runs, another queued behind it:
     * a clean exit, and both finished when the sandbox comes back. */
    char u1[64] = "", u2[64] = "";
    if (sb_startv(&SB, args)) {
        char *b1 = big_batch(10000), *b2 = big_batch(10000);
        post_batch(b1, u1);
        post_batch(b2, u2);
        free(b1);
        free(b2);
        sb_stop(&SB);
    }
    if (*u1 && sb_startv(&SB, args)) {
        check_finished_after_stop(u1, "SIGTERM, running batch");
        check_finished_after_stop(u2, "SIGTERM, queued batch");
        /* SIGKILL mid-batch: the restart finishes it. */
        char *b3 = big_batch(10000);
        char u3[64];
        post_batch(b3, u3);
        free(b3);
        struct resp r = {0};
        for (int i = 0; i < 500; i++) {
            req(&r, "GET", T, NULL, "/v1/people_batches/%s", u3);
            if (jlen(r.json, "results") > 0)
                break;
            sleep_ms(5);
        }
        CHECK(jlen(r.json, "results") > 0, "the third batch started before the SIGKILL");
        resp_free(&r);
        sb_kill(&SB);
        if (*u3 && sb_startv(&SB, args)) {
            check_finished_after_stop(u3, "SIGKILL and restart");
            sb_stop(&SB);
        }
    }
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    for (size_t k = 0; k < NELEM(sfx); k++) {
        char f[160];
        snprintf(f, sizeof f, "%s%s", dbp, sfx[k]);
        unlink(f);
    }
    rmdir(dir);
}

/* ---- main --------------------------------------------------------------------------------- */

static const struct test TESTS[] = {
    {"minimal_example", test_minimal_example},
    {"full_two_people", test_full_two_people},
    {"job_without_compensation", test_job_without_compensation},
    {"validation", test_validation},
    {"idempotency", test_idempotency},
    {"partial_success", test_partial_success},
    {"exclusions", test_exclusions},
    {"polling_and_access", test_polling_and_access},
    {"ten_thousand", test_ten_thousand},
    {"interrupted", test_interrupted},
};

int main(int argc, char **argv)
{
    return tu_run(TESTS, NELEM(TESTS), argc, argv);
}
