/* oom_test.c - libgusto when memory runs out: every allocation of an
 * employee create and of an update is made to fail in turn (the Nth one,
 * for N = 1, 2, ... until a run makes fewer than N), against a real
 * gusto-sandbox.  Each run must return a code (GUSTO_ENOMEM or one that
 * says how far it got), never crash, never leak (ASan and valgrind run it
 * too), and never create a second person.
 *
 * Allocations are counted where libgusto makes them: its own malloc,
 * calloc, realloc and strdup calls (this program is linked with
 * -Wl,--wrap for those, which reaches every object of libgusto.a) and
 * jansson's (json_set_alloc_funcs).  libcurl's and libc's own are left
 * alone: their failures reach libgusto as errors it already handles. */
#include "gusto.h"
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN "oom-test-token-7c1f"

static struct sandbox sb;
static void up(void);

/* The allocation counter: while armed, allocation number fail_at fails
 * (once), and seen counts them all. */
static long fail_at = -1, seen, failed;

static bool fail_now(void)
{
    if (fail_at < 0)
        return false;
    if (++seen == fail_at) {
        failed++;
        return true;
    }
    return false;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t m, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t m, size_t n) { return fail_now() ? NULL : __real_calloc(m, n); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return fail_now() ? NULL : __real_strdup(s); }

static void *json_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }

static void arm(long n)
{
    seen = 0;
    failed = 0;
    fail_at = n;
}

static void disarm(void) { fail_at = -1; }

static gusto_client *client(void)
{
    gusto_options o = GUSTO_OPTIONS_INIT;
    o.base_url = sb.base;
    o.access_token = TOKEN;
    o.company_uuid = sb.company;
    o.rate_limit = -1;
    o.max_retries = -1;
    gusto_error err;
    gusto_client *c = gusto_client_new(&o, &err);
    CHECK(c != NULL, "client: %s", c ? "" : err.message);
    return c;
}

/* How many employees of the demo company have this last name (Gusto's
 * search_term matches names, not emails). */
static int count_last_name(const char *last)
{
    struct resp r = {0};
    long st = req(&r, "GET", TOKEN, NULL, "/v1/companies/%s/employees?search_term=%s&per=100",
                  sb.company, last);
    int n = -1;
    if (st == 200 && json_is_array(r.json)) {
        n = 0;
        size_t i;
        json_t *e;
        json_array_foreach(r.json, i, e) {
            const char *l = json_string_value(json_object_get(e, "last_name"));
            n += l && strcmp(l, last) == 0;
        }
    }
    resp_free(&r);
    return n;
}

/* The codes a create or update may end with when an allocation fails.
 * GUSTO_EINVAL too, with nothing sent: jansson's parser reports some of
 * its own allocation failures as a syntax error of the input. */
static bool expected_code(gusto_code rc, const gusto_error *err)
{
    return rc == GUSTO_OK || rc == GUSTO_EPARTIAL || rc == GUSTO_ENOMEM ||
           (rc == GUSTO_EINVAL && strstr(err->message, "not valid JSON"));
}

static void test_create(void)
{
    up();
    long runs = 0, enomem = 0, twice = 0, odd = 0, clean = -1;
    for (long n = 1; n < 100000; n++) {
        char input[1024];
        char email[80], last[40];
        snprintf(email, sizeof email, "oom%ld@example.com", n);
        snprintf(last, sizeof last, "Run%ld", n);
        snprintf(input, sizeof input,
                 "{\"first_name\":\"Oom\",\"last_name\":\"Run%ld\",\"email\":\"%s\","
                 "\"date_of_birth\":\"1990-01-02\",\"ssn\":\"123-45-%04ld\","
                 "\"home_address\":{\"street_1\":\"1 Main St\",\"city\":\"Denver\","
                 "\"state\":\"CO\",\"zip\":\"80202\"},"
                 "\"job\":{\"title\":\"Tester\",\"hire_date\":\"2026-01-05\"},"
                 "\"compensation\":{\"rate\":\"30.00\",\"payment_unit\":\"Hour\","
                 "\"flsa_status\":\"Nonexempt\"}}",
                 n, email, 1000 + n % 9000);
        gusto_client *c = client();
        if (!c)
            return;
        char *result = NULL;
        gusto_error err;
        arm(n);
        gusto_code rc = gusto_employee_create_ex(c, input, GUSTO_CREATE_ALLOW_DUPLICATE,
                                                 &result, &err);
        bool hit = failed > 0;
        disarm();
        runs++;
        unsigned long sent = gusto_request_count(c);
        if (!expected_code(rc, &err)) {
            odd++;
            CHECK(false, "allocation %ld: create returned %s (%s)", n, gusto_strerror(rc),
                  err.message);
        }
        if (rc == GUSTO_ENOMEM) {
            enomem++;
            CHECK(strstr(err.message, "memory") != NULL,
                  "allocation %ld: GUSTO_ENOMEM says so (%s)", n, err.message);
        }
        if ((rc == GUSTO_OK || rc == GUSTO_EPARTIAL) && !result) {
            odd++;
            CHECK(false, "allocation %ld: %s with no result", n, gusto_strerror(rc));
        }
        gusto_free(result);
        gusto_client_free(c);
        int k = count_last_name(last);
        if (k > 1)
            twice++;
        if ((rc == GUSTO_OK || rc == GUSTO_EPARTIAL) && k != 1) {
            odd++;
            CHECK(false, "allocation %ld: %s, but %d people named %s", n, gusto_strerror(rc), k,
                  last);
        }
        if (rc == GUSTO_EINVAL && (sent || k)) {
            odd++;
            CHECK(false, "allocation %ld: an input refused sends nothing (%lu requests, %d "
                  "created)", n, sent, k);
        }
        if (!hit) { /* this run made fewer than n allocations: all were tried */
            clean = n;
            CHECK(rc == GUSTO_OK, "the run with no failure creates (%s: %s)",
                  gusto_strerror(rc), err.message);
            CHECK(k == 1, "and that person exists once (%d)", k);
            break;
        }
    }
    CHECK(clean > 1, "every allocation of a create was failed in turn (%ld runs)", runs);
    CHECK(enomem > 0, "some runs ended in GUSTO_ENOMEM (%ld of %ld)", enomem, runs);
    CHECK(twice == 0, "no run created a person twice (%ld did)", twice);
    CHECK(odd == 0, "every run ended with an expected code and result (%ld did not)", odd);
}

static void test_update(void)
{
    up();
    /* A seeded employee with a job, changed field by field. */
    struct resp r = {0};
    long st = req(&r, "GET", TOKEN, NULL, "/v1/companies/%s/employees?per=1", sb.company);
    const char *uuid = st == 200 ? json_string_value(json_object_get(json_array_get(r.json, 0),
                                                                     "uuid"))
                                 : NULL;
    char emp[40] = "";
    if (uuid)
        snprintf(emp, sizeof emp, "%s", uuid);
    resp_free(&r);
    if (!CHECK(emp[0], "a seeded employee to update"))
        return;
    long runs = 0, enomem = 0, odd = 0, clean = -1;
    for (long n = 1; n < 100000; n++) {
        char changes[512];
        snprintf(changes, sizeof changes,
                 "{\"preferred_first_name\":\"P%ld\",\"home_address\":{\"street_1\":\"%ld "
                 "Elm St\",\"city\":\"Denver\",\"state\":\"CO\",\"zip\":\"80202\"},"
                 "\"job\":{\"title\":\"Title %ld\"}}",
                 n, n, n);
        gusto_client *c = client();
        if (!c)
            return;
        char *result = NULL;
        gusto_error err;
        arm(n);
        gusto_code rc = gusto_employee_update(c, emp, changes, &result, &err);
        bool hit = failed > 0;
        disarm();
        runs++;
        if (!expected_code(rc, &err)) {
            odd++;
            CHECK(false, "allocation %ld: update returned %s (%s)", n, gusto_strerror(rc),
                  err.message);
        }
        if (rc == GUSTO_ENOMEM)
            enomem++;
        if (rc == GUSTO_OK && !result) {
            odd++;
            CHECK(false, "allocation %ld: GUSTO_OK with no result", n);
        }
        if (rc == GUSTO_OK) { /* what was reported done is what Gusto holds */
            char want[40];
            snprintf(want, sizeof want, "P%ld", n);
            struct resp g = {0};
            req(&g, "GET", TOKEN, NULL, "/v1/employees/%s", emp);
            const char *got = json_string_value(json_object_get(g.json,
                                                                "preferred_first_name"));
            if (!got || strcmp(got, want) != 0) {
                odd++;
                CHECK(false, "allocation %ld: GUSTO_OK, but preferred_first_name is %s, not %s",
                      n, got ? got : "(none)", want);
            }
            resp_free(&g);
        }
        gusto_free(result);
        gusto_client_free(c);
        if (!hit) {
            clean = n;
            CHECK(rc == GUSTO_OK, "the run with no failure updates (%s: %s)",
                  gusto_strerror(rc), err.message);
            break;
        }
    }
    CHECK(clean > 1, "every allocation of an update was failed in turn (%ld runs)", runs);
    CHECK(enomem > 0, "some runs ended in GUSTO_ENOMEM (%ld of %ld)", enomem, runs);
    CHECK(odd == 0, "every run ended with an expected code and result (%ld did not)", odd);
}

/* The plan of a create (what a dry run shows) under each allocation
 * failed in turn: a plan, or GUSTO_ENOMEM and none; never half a plan. */
static void test_create_plan(void)
{
    static const char *input =
        "{\"first_name\":\"Oom\",\"last_name\":\"Plan\",\"ssn\":\"123-45-6789\","
        "\"home_address\":{\"street_1\":\"1 Main St\",\"city\":\"Denver\","
        "\"state\":\"CO\",\"zip\":\"80202\"},\"work_address\":{\"location\":\"Denver\"},"
        "\"job\":{\"title\":\"Tester\",\"hire_date\":\"2026-01-05\"},"
        "\"compensation\":{\"rate\":\"30.00\",\"payment_unit\":\"Hour\","
        "\"flsa_status\":\"Nonexempt\"}}";
    long runs = 0, enomem = 0, odd = 0, clean = -1;
    for (long n = 1; n < 100000; n++) {
        char *plan = NULL;
        gusto_error err;
        arm(n);
        gusto_code rc = gusto_employee_create_plan(input, NULL, &plan, &err);
        bool hit = failed > 0;
        disarm();
        runs++;
        enomem += rc == GUSTO_ENOMEM;
        json_t *j = plan ? json_loads(plan, 0, NULL) : NULL;
        bool whole = json_array_size(j) == 6;
        if (rc == GUSTO_OK ? !whole : !expected_code(rc, &err) || (rc != GUSTO_EINVAL && plan)) {
            odd++;
            CHECK(false, "allocation %ld: the plan call returned %s with %s", n,
                  gusto_strerror(rc), plan ? plan : "no plan");
        }
        json_decref(j);
        gusto_free(plan);
        if (!hit) {
            clean = n;
            CHECK(rc == GUSTO_OK && whole, "the run with no failure makes the 6 requests' plan");
            break;
        }
    }
    CHECK(clean > 1, "every allocation of a plan was failed in turn (%ld runs)", runs);
    CHECK(enomem > 0, "some runs ended in GUSTO_ENOMEM (%ld of %ld)", enomem, runs);
    CHECK(odd == 0, "every run ended with a whole plan or none (%ld did not)", odd);
}

/* A positive control: the counter really reaches libgusto's allocations
 * (a run that fails its first one cannot succeed). */
static void test_counter_reaches_library(void)
{
    up();
    gusto_client *c = client();
    if (!c)
        return;
    char *out = NULL;
    long status = 0;
    gusto_error err;
    arm(1);
    gusto_code rc = gusto_request(c, "GET", "/v1/companies/{company_uuid}/locations", NULL,
                                  &status, &out, &err);
    long n = seen;
    disarm();
    CHECK(n > 0, "libgusto's allocations are counted (%ld)", n);
    CHECK(rc == GUSTO_ENOMEM, "failing the first one fails the call with GUSTO_ENOMEM (%s)",
          gusto_strerror(rc));
    gusto_free(out);
    gusto_client_free(c);
}

/* tu_run stops every sandbox after each test, so each test starts its own. */
static void up(void)
{
    client_free(&sb.cl);
    memset(&sb, 0, sizeof sb);
    sb_start(&sb, "--seed", "demo", "--token", TOKEN, "--rate-limit", "0", NULL);
}

int main(int argc, char **argv)
{
    static const struct test tests[] = {
        {"counter_reaches_library", test_counter_reaches_library},
        {"create", test_create},
        {"create_plan", test_create_plan},
        {"update", test_update},
    };
    json_set_alloc_funcs(json_malloc, free);
    int rc = tu_run(tests, sizeof tests / sizeof tests[0], argc, argv);
    client_free(&sb.cl);
    return rc;
}
