/* sandbox_test.c - integration tests for gusto-sandbox, all over real HTTP
 * on 127.0.0.1.  Each test starts its own sandbox (so counts and versions
 * are known), stops it with SIGTERM and checks it exited cleanly.
 *
 * Run from the repository root: ./build/tests/sandbox_test [TEST...]
 * GUSTO_SANDBOX overrides the binary (default build/gusto-sandbox). */
#include "testutil.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Tokens registered on every standard sandbox. */
#define T "T"            /* every scope, demo company */
#define RO "ro"          /* employees:read only */
#define OTH "oth"        /* every scope, the other company (Globex) */
#define NOCOMP "nocomp"  /* employees and jobs, but no compensations:read */

static const char *const STD_ARGS[] = {
    "--seed", "demo", "--rate-limit", "0",
    "--token", T,
    "--token", RO ":employees:read",
    "--token", OTH "@other",
    "--token", NOCOMP ":employees:read,employees:write,jobs:read,jobs:write",
    NULL};

static const char *const NIL_UUID = "00000000-0000-4000-8000-000000000000";

static struct sandbox SB;
static struct resp R; /* reused by the tests; freed in down() */

static void set_var_json(const char *name, const json_t *j, const char *path)
{
    const char *s = jstr(j, path);
    tu_var(name, s ? s : "missing");
}

/* Learn the ids the tables refer to: {C} {E0}.. {J0} {L0} {OC} {OE0} {OL0}. */
static bool load_ids(void)
{
    tu_var("C", SB.company);
    req(&R, "GET", T, NULL, "/v1/companies/%s/employees", SB.company);
    if (!CHECK(R.status == 200 && jlen(R.json, "") == 50,
               "seed: demo company lists 50 employees (status %ld, %ld)", R.status,
               jlen(R.json, "")))
        return false;
    static const int idx[] = {0, 1, 2, 3, 25, 40, 43, 45, 47, 48, 49};
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        char name[8], path[32];
        snprintf(name, sizeof name, "E%d", idx[i]);
        snprintf(path, sizeof path, "[%d].uuid", idx[i]);
        set_var_json(name, R.json, path);
    }
    set_var_json("J0", R.json, "[0].jobs[0].uuid");
    set_var_json("J1", R.json, "[1].jobs[0].uuid");
    set_var_json("K0", R.json, "[0].jobs[0].compensations[0].uuid");
    req(&R, "GET", T, NULL, "/v1/companies/%s/locations", SB.company);
    set_var_json("L0", R.json, "[0].uuid");
    set_var_json("L1", R.json, "[1].uuid");
    req(&R, "GET", OTH, NULL, "/v1/token_info");
    set_var_json("OC", R.json, "resource.uuid");
    req(&R, "GET", OTH, NULL, "/v1/companies/%s/employees", tu_getvar("OC"));
    set_var_json("OE0", R.json, "[0].uuid");
    req(&R, "GET", OTH, NULL, "/v1/companies/%s/locations", tu_getvar("OC"));
    set_var_json("OL0", R.json, "[0].uuid");
    req(&R, "GET", T, NULL, "/v1/employees/%s/home_addresses", tu_getvar("E0"));
    set_var_json("H0", R.json, "[0].uuid");
    req(&R, "GET", T, NULL, "/v1/employees/%s/work_addresses", tu_getvar("E0"));
    set_var_json("W0", R.json, "[0].uuid");
    return true;
}

static bool up(void)
{
    memset(&R, 0, sizeof R);
    return sb_startv(&SB, STD_ARGS) && load_ids();
}

static void down(void)
{
    resp_free(&R);
    sb_stop(&SB);
}

/* GET path and copy its "version" into out (empty when missing). */
static const char *version_at(char out[64], const char *path)
{
    struct resp r = {0};
    req(&r, "GET", T, NULL, "%s", path);
    const char *v = jstr(r.json, "version");
    snprintf(out, 64, "%s", v ? v : "");
    resp_free(&r);
    return out;
}

/* Expand a {VAR} template; four rotating buffers, so two may be used in one call. */
static const char *P(const char *tmpl)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    return tu_expand(tmpl, b, sizeof bufs[0]);
}

static void today(char out[11])
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- auth, headers, company ------------------------------------------------ */

static const struct http_case AUTH_CASES[] = {
    {"token_info", "GET", "/v1/token_info", T, NULL, 200,
     {"resource.type=Company", "resource.uuid={C}", "resource_owner.type=CompanyAdmin",
      "scope?", "@X-Gusto-API-Version=2026-12-01", "@x-request-id?", "!@X-RateLimit-Limit"}},
    {"token_info, other company", "GET", "/v1/token_info", OTH, NULL, 200,
     {"resource.uuid={OC}"}},
    {"token_info, limited scopes", "GET", "/v1/token_info", RO, NULL, 200,
     {"scope=employees:read public"}},
    {"no token", "GET", "/v1/token_info", NULL, NULL, 401,
     {"errors[0].error_key=base", "errors[0].category=invalid_token", "errors[0].message?",
      "@WWW-Authenticate?", "@x-request-id?", "@X-Gusto-API-Version=2026-12-01"}},
    {"unknown token", "GET", "/v1/companies/{C}/employees", "not-a-token", NULL, 401,
     {"errors[0].category=invalid_token"}},
    {"company", "GET", "/v1/companies/{C}", T, NULL, 200,
     {"uuid={C}", "name=Acme Demo Co", "locations#=2", "locations[1].city=Denver"}},
    {"other company's company", "GET", "/v1/companies/{OC}", T, NULL, 404,
     {"errors[0].error_key=request", "errors[0].category=not_found", "@x-request-id?"}},
    {"unknown company", "GET", "/v1/companies/00000000-0000-4000-8000-000000000000", T, NULL,
     404, {"errors[0].category=not_found"}},
    /* The body Gusto's CLI parses (src/lib/handle-api-error.ts), field by field. */
    {"company, token lacks companies:read", "GET", "/v1/companies/{C}", RO, NULL, 403,
     {"errors#=1", "errors[0].error_key=request", "errors[0].category=missing_oauth_scopes",
      "errors[0].metadata.missing_scope_name=companies:read",
      "errors[0].message=You do not have the 'companies:read' OAuth scope required for this "
      "request.",
      "errors[0].metadata#=1"}},
    {"unknown route", "GET", "/v1/no_such_thing", T, NULL, 404,
     {"errors[0].category=not_found"}},
    {"trailing slash", "GET", "/v1/token_info/", T, NULL, 200, {"resource.uuid={C}"}},
};

static void test_auth_and_headers(void)
{
    if (!up())
        { down(); return; }
    run_cases(AUTH_CASES, NELEM(AUTH_CASES));

    /* X-Gusto-API-Version: a version Gusto serves today is echoed; a
     * malformed, retired (2025-06-15: sunset 2026-11-17) or unknown one is
     * 406, even unauthenticated, and the 406 names no version. */
    static const struct {
        const char *header, *token;
        long status;
    } vers[] = {
        {"X-Gusto-API-Version: 2026-12-01", T, 200},
        {"X-Gusto-API-Version: 2025-11-15", T, 200},
        {"X-Gusto-API-Version: 2023", T, 406},
        {"X-Gusto-API-Version: 2024-04-01", T, 406},
        {"X-Gusto-API-Version: 2025-06-15", T, 406},
        {"X-Gusto-API-Version: 2026-03-01", T, 406},
        {"X-Gusto-API-Version: 2025-06-15", NULL, 406},
    };
    for (size_t i = 0; i < NELEM(vers); i++) {
        const char *h[] = {vers[i].header, NULL};
        http_req(&SB.cl, "GET", "/v1/token_info", vers[i].token, NULL, 0, h, &R);
        CHECK_LONG(R.status, vers[i].status, vers[i].header);
        if (vers[i].status == 406) {
            CHECK_STR(jstr(R.json, "errors[0].category"), "invalid_api_version",
                      "406 category");
            CHECK_EXPECT(&R, "!@X-Gusto-API-Version");
        } else {
            char want[64];
            snprintf(want, sizeof want, "@X-Gusto-API-Version=%s",
                     vers[i].header + strlen("X-Gusto-API-Version: "));
            CHECK_EXPECT(&R, want);
        }
    }

    /* x-request-id is fresh on every response. */
    char a[128] = "", b[128] = "";
    req(&R, "GET", T, NULL, "/v1/token_info");
    hget(R.headers, "x-request-id", a, sizeof a);
    req(&R, "GET", T, NULL, "/v1/token_info");
    hget(R.headers, "x-request-id", b, sizeof b);
    CHECK(*a && *b && strcmp(a, b) != 0, "x-request-id differs between requests ('%s', '%s')",
          a, b);

    /* The lead's http() form. */
    long status = 0;
    char *headers = NULL;
    json_t *json = NULL;
    int rc = http("GET", "/v1/token_info", T, NULL, &status, &headers, &json);
    CHECK(rc == 0 && status == 200 && hhas(headers, "x-request-id") &&
              jstr(json, "resource.uuid") && strcmp(jstr(json, "resource.uuid"), SB.company) == 0,
          "http() helper: status %ld", status);
    free(headers);
    json_decref(json);
    down();
}

/* ---- locations -------------------------------------------------------------- */

#define LOC_OK "\"street_1\":\"1 Main St\",\"city\":\"Austin\",\"state\":\"TX\",\"zip\":\"78701\""
static const struct http_case LOCATION_CASES[] = {
    {"list", "GET", "/v1/companies/{C}/locations", T, NULL, 200,
     {"#=2", "[0].uuid={L0}", "[0].version?", "[0].company_uuid={C}", "[1].city=Denver",
      "!@X-Page"}},
    {"create", "POST", "/v1/companies/{C}/locations", T,
     "{" LOC_OK ",\"phone_number\":\"5125550100\"}", 201,
     {"street_1=1 Main St", "country=USA", "active=true", "mailing_address=false",
      "company_uuid={C}", "version?", "uuid?"}},
    {"create, no phone", "POST", "/v1/companies/{C}/locations", T, "{" LOC_OK "}", 422,
     {"errors#=1", "errors[0].error_key=phone_number",
      "errors[0].category=invalid_attribute_value"}},
    {"create, bad state", "POST", "/v1/companies/{C}/locations", T,
     "{\"street_1\":\"x\",\"city\":\"y\",\"state\":\"Texas\",\"zip\":\"78701\","
     "\"phone_number\":\"5125550100\"}",
     422, {"errors[0].error_key=state"}},
    {"create, bad zip", "POST", "/v1/companies/{C}/locations", T,
     "{\"street_1\":\"x\",\"city\":\"y\",\"state\":\"TX\",\"zip\":\"7870\","
     "\"phone_number\":\"5125550100\"}",
     422, {"errors[0].error_key=zip"}},
    {"create, dashed phone", "POST", "/v1/companies/{C}/locations", T,
     "{" LOC_OK ",\"phone_number\":\"512-555-0100\"}", 422, {"errors[0].error_key=phone_number"}},
    {"create, wrong type", "POST", "/v1/companies/{C}/locations", T,
     "{" LOC_OK ",\"phone_number\":\"5125550100\",\"mailing_address\":\"yes\"}", 422,
     {"errors[0].error_key=mailing_address"}},
    {"create, empty object: every required field", "POST", "/v1/companies/{C}/locations", T,
     "{}", 422, {"errors#=5"}},
    {"create, scope", "POST", "/v1/companies/{C}/locations", RO,
     "{" LOC_OK ",\"phone_number\":\"5125550100\"}", 403,
     {"errors[0].category=missing_oauth_scopes"}},
    {"create, other company", "POST", "/v1/companies/{OC}/locations", T,
     "{" LOC_OK ",\"phone_number\":\"5125550100\"}", 404, {"errors[0].category=not_found"}},
    {"list after create", "GET", "/v1/companies/{C}/locations", T, NULL, 200,
     {"#=3", "[2].city=Austin"}},
    {"get", "GET", "/v1/locations/{L0}", T, NULL, 200,
     {"uuid={L0}", "zip=94107", "city=San Francisco"}},
    {"get unknown", "GET", "/v1/locations/00000000-0000-4000-8000-000000000000", T, NULL, 404,
     {"errors[0].category=not_found"}},
    {"get other company's", "GET", "/v1/locations/{OL0}", T, NULL, 404, {NULL}},
    {"update, no version", "PUT", "/v1/locations/{L0}", T, "{\"city\":\"Oakland\"}", 422,
     {"errors[0].error_key=version"}},
    {"update unknown", "PUT", "/v1/locations/00000000-0000-4000-8000-000000000000", T,
     "{\"version\":\"x\"}", 404, {NULL}},
};

static void test_locations(void)
{
    if (!up())
        { down(); return; }
    run_cases(LOCATION_CASES, NELEM(LOCATION_CASES));

    char v0[64], wv0[64], wv1[64], body[256];
    version_at(v0, P("/v1/locations/{L0}"));
    version_at(wv0, P("/v1/work_addresses/{W0}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"street_1\":\"600 Market St\"}", v0);
    req(&R, "PUT", T, body, "%s", P("/v1/locations/{L0}"));
    CHECK_LONG(R.status, 200, "location update");
    CHECK_STR(jstr(R.json, "street_1"), "600 Market St", "updated street_1");
    CHECK(jstr(R.json, "version") && strcmp(jstr(R.json, "version"), v0) != 0,
          "location version changes on update");
    req(&R, "PUT", T, body, "%s", P("/v1/locations/{L0}"));
    CHECK_LONG(R.status, 409, "location update with the old version");
    CHECK_STR(jstr(R.json, "errors[0].category"), "invalid_resource_version", "409 category");

    /* A bad field with the current version: 422 and nothing changes. */
    version_at(v0, P("/v1/locations/{L0}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"zip\":\"abcde\"}", v0);
    req(&R, "PUT", T, body, "%s", P("/v1/locations/{L0}"));
    CHECK_LONG(R.status, 422, "location update with a bad zip");
    CHECK_STR(jstr(R.json, "errors[0].error_key"), "zip", "422 names zip");
    char v1[64];
    CHECK_STR(version_at(v1, P("/v1/locations/{L0}")), v0,
              "a rejected update leaves the version alone");

    /* Work addresses copy the location's address: they follow it. */
    req(&R, "GET", T, NULL, "%s", P("/v1/work_addresses/{W0}"));
    CHECK_STR(jstr(R.json, "street_1"), "600 Market St", "work address shows the new street");
    version_at(wv1, P("/v1/work_addresses/{W0}"));
    CHECK(strcmp(wv0, wv1) != 0, "work address version moves with its location");
    down();
}

/* ---- employees --------------------------------------------------------------- */

#define NEW_EMP "{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"ssn\":\"123456789\"}"
static const struct http_case EMPLOYEE_CASES[] = {
    {"list", "GET", "/v1/companies/{C}/employees", T, NULL, 200,
     {"#=50", "[0].uuid={E0}", "[0].first_name=Alice", "!@X-Page", "!@X-Total-Count"}},
    {"terminated=true", "GET", "/v1/companies/{C}/employees?terminated=true", T, NULL, 200,
     {"#=3"}},
    {"terminated=false", "GET", "/v1/companies/{C}/employees?terminated=false", T, NULL, 200,
     {"#=47"}},
    {"onboarded=false", "GET", "/v1/companies/{C}/employees?onboarded=false", T, NULL, 200,
     {"#=3", "[0].onboarded=false", "[0].uuid={E47}"}},
    {"terminated=maybe", "GET", "/v1/companies/{C}/employees?terminated=maybe", T, NULL, 422,
     {"errors[0].error_key=terminated", "errors[0].category=invalid_parameter"}},
    {"uuids filter", "GET", "/v1/companies/{C}/employees?uuids={E0},{E1}", T, NULL, 200,
     {"#=2", "[1].uuid={E1}"}},
    {"location filter", "GET", "/v1/companies/{C}/employees?location_uuid={L1}", T, NULL, 200,
     {"#=16", "[0].uuid={E2}"}},
    {"list, other company", "GET", "/v1/companies/{OC}/employees", T, NULL, 404, {NULL}},
    {"get", "GET", "/v1/employees/{E0}", T, NULL, 200,
     {"uuid={E0}", "first_name=Alice", "last_name=Anderson", "company_uuid={C}",
      "onboarded=true", "terminated=false", "jobs#=1", "version?"}},
    {"get, terminated in the past", "GET", "/v1/employees/{E43}", T, NULL, 200,
     {"terminated=true", "terminations#=1", "terminations[0].active=true"}},
    {"get, termination scheduled", "GET", "/v1/employees/{E45}", T, NULL, 200,
     {"terminated=false", "terminations[0].active=false"}},
    {"get unknown", "GET", "/v1/employees/00000000-0000-4000-8000-000000000000", T, NULL, 404,
     {"errors[0].category=not_found"}},
    {"get, not a uuid", "GET", "/v1/employees/abc", T, NULL, 404, {NULL}},
    {"create", "POST", "/v1/companies/{C}/employees", T, NEW_EMP, 201,
     {"first_name=Ada", "onboarded=false", "onboarding_status=admin_onboarding_incomplete",
      "company_uuid={C}", "jobs#=0", "version?", "has_ssn=true", "ssn="}},
    {"create, self onboarding", "POST", "/v1/companies/{C}/employees", T,
     "{\"first_name\":\"Bo\",\"last_name\":\"Ek\",\"email\":\"bo@example.com\","
     "\"self_onboarding\":true}",
     201, {"onboarding_status=self_onboarding_pending_invite", "email=bo@example.com"}},
    {"create, self onboarding without email", "POST", "/v1/companies/{C}/employees", T,
     "{\"first_name\":\"Bo\",\"last_name\":\"Ek\",\"self_onboarding\":true}", 422,
     {"errors[0].error_key=email"}},
    {"create, no first_name", "POST", "/v1/companies/{C}/employees", T,
     "{\"last_name\":\"Lovelace\"}", 422,
     {"errors#=1", "errors[0].error_key=first_name",
      "errors[0].category=invalid_attribute_value"}},
    {"create, blank first_name", "POST", "/v1/companies/{C}/employees", T,
     "{\"first_name\":\"\",\"last_name\":\"L\"}", 422, {"errors[0].error_key=first_name"}},
    {"create, ssn with dashes", "POST", "/v1/companies/{C}/employees", T,
     "{\"first_name\":\"A\",\"last_name\":\"L\",\"ssn\":\"123-45-6789\"}", 422,
     {"errors[0].error_key=ssn"}},
    {"create, bad email", "POST", "/v1/companies/{C}/employees", T,
     "{\"first_name\":\"A\",\"last_name\":\"L\",\"email\":\"not-an-email\"}", 422,
     {"errors[0].error_key=email"}},
    {"create, birth in the future", "POST", "/v1/companies/{C}/employees", T,
     "{\"first_name\":\"A\",\"last_name\":\"L\",\"date_of_birth\":\"2999-01-01\"}", 422,
     {"errors[0].error_key=date_of_birth"}},
    {"create, impossible date", "POST", "/v1/companies/{C}/employees", T,
     "{\"first_name\":\"A\",\"last_name\":\"L\",\"date_of_birth\":\"1990-02-30\"}", 422,
     {"errors[0].error_key=date_of_birth"}},
    {"create, long middle initial", "POST", "/v1/companies/{C}/employees", T,
     "{\"first_name\":\"A\",\"last_name\":\"L\",\"middle_initial\":\"AB\"}", 422,
     {"errors[0].error_key=middle_initial"}},
    {"create, all errors at once", "POST", "/v1/companies/{C}/employees", T,
     "{\"first_name\":5,\"ssn\":\"1\"}", 422,
     {"errors#=3", "errors[0].error_key=first_name", "errors[1].error_key=last_name",
      "errors[2].error_key=ssn"}},
    {"create, other company", "POST", "/v1/companies/{OC}/employees", T, NEW_EMP, 404, {NULL}},
    {"create, read-only token", "POST", "/v1/companies/{C}/employees", RO, NEW_EMP, 403,
     {"errors[0].category=missing_oauth_scopes"}},
    {"delete onboarded", "DELETE", "/v1/employees/{E0}", T, NULL, 422,
     {"errors[0].error_key=base", "errors[0].category=invalid_operation"}},
    {"delete onboarding (seed)", "DELETE", "/v1/employees/{E47}", T, NULL, 204, {NULL}},
    {"get deleted", "GET", "/v1/employees/{E47}", T, NULL, 404, {NULL}},
    {"delete again", "DELETE", "/v1/employees/{E47}", T, NULL, 404, {NULL}},
    {"onboarding list after", "GET", "/v1/companies/{C}/employees?onboarded=false", T, NULL,
     200, {"#=4"}},
};

static void test_employees(void)
{
    if (!up())
        { down(); return; }
    run_cases(EMPLOYEE_CASES, NELEM(EMPLOYEE_CASES));

    /* Create, update (versioned), search, delete one employee end to end. */
    req(&R, "POST", T, NEW_EMP, "/v1/companies/%s/employees", SB.company);
    CHECK_LONG(R.status, 201, "create employee");
    set_var_json("NEW", R.json, "uuid");
    char v0[64], v1[64], body[512];
    snprintf(v0, sizeof v0, "%s", jstr(R.json, "version") ? jstr(R.json, "version") : "");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{NEW}"));
    CHECK(R.status == 200 && jstr(R.json, "last_name") &&
              strcmp(jstr(R.json, "last_name"), "Lovelace") == 0,
          "the new employee reads back (%ld)", R.status);

    snprintf(body, sizeof body, "{\"version\":\"%s\",\"first_name\":\"Adeline\"}", v0);
    req(&R, "PUT", T, body, "%s", P("/v1/employees/{NEW}"));
    CHECK_LONG(R.status, 200, "update employee");
    CHECK_STR(jstr(R.json, "first_name"), "Adeline", "updated first_name");
    snprintf(v1, sizeof v1, "%s", jstr(R.json, "version") ? jstr(R.json, "version") : "");
    CHECK(*v1 && strcmp(v0, v1) != 0, "employee version changes on update");
    req(&R, "PUT", T, body, "%s", P("/v1/employees/{NEW}"));
    CHECK_LONG(R.status, 409, "update with the old version");
    CHECK_STR(jstr(R.json, "errors[0].category"), "invalid_resource_version", "409 category");
    req(&R, "PUT", T, "{\"first_name\":\"X\"}", "%s", P("/v1/employees/{NEW}"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].error_key") &&
              strcmp(jstr(R.json, "errors[0].error_key"), "version") == 0,
          "update without version: 422 version (got %ld)", R.status);

    static const struct {
        const char *field, *json;
    } bad_updates[] = {
        {"first_name", "\"first_name\":\"\""},
        {"ssn", "\"ssn\":\"12345\""},
        {"two_percent_shareholder", "\"two_percent_shareholder\":\"no\""},
        {"date_of_birth", "\"date_of_birth\":\"yesterday\""},
    };
    for (size_t i = 0; i < NELEM(bad_updates); i++) {
        snprintf(body, sizeof body, "{\"version\":\"%s\",%s}", v1, bad_updates[i].json);
        req(&R, "PUT", T, body, "%s", P("/v1/employees/{NEW}"));
        CHECK(R.status == 422 && jstr(R.json, "errors[0].error_key") &&
                  strcmp(jstr(R.json, "errors[0].error_key"), bad_updates[i].field) == 0,
              "bad update of %s: 422 naming it (got %ld %.200s)", bad_updates[i].field,
              R.status, R.body);
    }
    char v2[64];
    CHECK_STR(version_at(v2, P("/v1/employees/{NEW}")), v1,
              "rejected updates leave the version alone");

    req(&R, "GET", T, NULL, "/v1/companies/%s/employees?search_term=adeline", SB.company);
    CHECK(R.status == 200 && jlen(R.json, "") == 1 && jstr(R.json, "[0].uuid") &&
              strcmp(jstr(R.json, "[0].uuid"), tu_getvar("NEW")) == 0,
          "search finds the renamed employee (%ld members)", jlen(R.json, ""));
    /* Gusto enrols nobody by itself: a new employee is on no policy (the
     * seeded E0, enrolled explicitly, is the positive control). */
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{NEW}/time_off_activities?time_off_type=vacation"));
    CHECK(R.status == 200 && jlen(R.json, "") == 0,
          "a new employee is enrolled in nothing (%ld, %.200s)", R.status, R.body);
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{NEW}"));
    CHECK_LONG(jlen(R.json, "eligible_paid_time_off"), 0, "...and shows no policy");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{E0}/time_off_activities?time_off_type=vacation"));
    CHECK(R.status == 200 && jlen(R.json, "") > 0, "...while a seeded employee is on one");

    req(&R, "DELETE", T, NULL, "%s", P("/v1/employees/{NEW}"));
    CHECK_LONG(R.status, 204, "delete the new (onboarding) employee");
    CHECK(R.body_len == 0, "204 has no body (%zu bytes)", R.body_len);
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{NEW}"));
    CHECK_LONG(R.status, 404, "deleted employee is gone");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{NEW}/time_off_activities?time_off_type=vacation"));
    CHECK_LONG(R.status, 404, "deleted employee's time off is gone");
    down();
}

/* ---- home and work addresses ---------------------------------------------- */

#define HOME_OK "\"street_1\":\"1 Elm St\",\"city\":\"Reno\",\"state\":\"NV\",\"zip\":\"89501\""
static const struct http_case HOME_CASES[] = {
    {"list, with history", "GET", "/v1/employees/{E1}/home_addresses", T, NULL, 200,
     {"#=2", "[0].active=false", "[1].active=true", "[1].employee_uuid={E1}", "[0].version?"}},
    {"list, unknown employee", "GET",
     "/v1/employees/00000000-0000-4000-8000-000000000000/home_addresses", T, NULL, 404, {NULL}},
    {"get", "GET", "/v1/home_addresses/{H0}", T, NULL, 200,
     {"uuid={H0}", "employee_uuid={E0}", "active=true", "country=USA"}},
    {"get unknown", "GET", "/v1/home_addresses/00000000-0000-4000-8000-000000000000", T, NULL,
     404, {NULL}},
    {"create, no street", "POST", "/v1/employees/{E0}/home_addresses", T,
     "{\"city\":\"Reno\",\"state\":\"NV\",\"zip\":\"89501\"}", 422,
     {"errors#=1", "errors[0].error_key=street_1"}},
    {"create, bad state", "POST", "/v1/employees/{E0}/home_addresses", T,
     "{\"street_1\":\"1 Elm St\",\"city\":\"Reno\",\"state\":\"ZZ\",\"zip\":\"89501\"}", 422,
     {"errors[0].error_key=state"}},
    {"create, bad zip", "POST", "/v1/employees/{E0}/home_addresses", T,
     "{\"street_1\":\"1 Elm St\",\"city\":\"Reno\",\"state\":\"NV\",\"zip\":\"8950\"}", 422,
     {"errors[0].error_key=zip"}},
    {"create, bad date", "POST", "/v1/employees/{E0}/home_addresses", T,
     "{" HOME_OK ",\"effective_date\":\"2024-1-1\"}", 422,
     {"errors[0].error_key=effective_date"}},
    {"create, date taken", "POST", "/v1/employees/{E0}/home_addresses", T,
     "{" HOME_OK ",\"effective_date\":\"2018-01-15\"}", 422,
     {"errors[0].error_key=effective_date"}},
    {"create, unknown employee", "POST",
     "/v1/employees/00000000-0000-4000-8000-000000000000/home_addresses", T, "{" HOME_OK "}",
     404, {NULL}},
};

#define WORK_CASES_LOC "\"location_uuid\":\"{L1}\""
static const struct http_case WORK_CASES[] = {
    {"list", "GET", "/v1/employees/{E0}/work_addresses", T, NULL, 200,
     {"#=1", "[0].uuid={W0}", "[0].active=true", "[0].location_uuid={L0}",
      "[0].city=San Francisco", "[0].version?"}},
    {"get", "GET", "/v1/work_addresses/{W0}", T, NULL, 200,
     {"uuid={W0}", "employee_uuid={E0}", "effective_date=2018-01-15"}},
    {"get unknown", "GET", "/v1/work_addresses/00000000-0000-4000-8000-000000000000", T, NULL,
     404, {NULL}},
    {"create, no location", "POST", "/v1/employees/{E0}/work_addresses", T,
     "{\"effective_date\":\"2099-01-01\"}", 422, {"errors[0].error_key=location_uuid"}},
    {"create, unknown location", "POST", "/v1/employees/{E0}/work_addresses", T,
     "{\"location_uuid\":\"00000000-0000-4000-8000-000000000000\"}", 422,
     {"errors#=1", "errors[0].error_key=location_uuid",
      "errors[0].category=invalid_attribute_value"}},
    {"create, other company's location", "POST", "/v1/employees/{E0}/work_addresses", T,
     "{\"location_uuid\":\"{OL0}\"}", 422, {"errors[0].error_key=location_uuid"}},
    {"create, date taken", "POST", "/v1/employees/{E0}/work_addresses", T,
     "{" WORK_CASES_LOC ",\"effective_date\":\"2018-01-15\"}", 422,
     {"errors[0].error_key=effective_date"}},
    {"create, scope", "POST", "/v1/employees/{E0}/work_addresses", NOCOMP,
     "{" WORK_CASES_LOC "}", 403, {"errors[0].category=missing_oauth_scopes"}},
    {"delete the active one", "DELETE", "/v1/work_addresses/{W0}", T, NULL, 422,
     {"errors[0].error_key=base", "errors[0].category=invalid_operation"}},
    {"delete unknown", "DELETE", "/v1/work_addresses/00000000-0000-4000-8000-000000000000", T,
     NULL, 404, {NULL}},
};

static void test_home_addresses(void)
{
    if (!up())
        { down(); return; }
    run_cases(HOME_CASES, NELEM(HOME_CASES));

    char ev0[64], ev1[64], hv[64], body[512], d[11];
    today(d);
    version_at(ev0, P("/v1/employees/{E0}"));
    req(&R, "POST", T, "{" HOME_OK "}", "%s", P("/v1/employees/{E0}/home_addresses"));
    CHECK_LONG(R.status, 201, "create home address (effective today)");
    CHECK_STR(jstr(R.json, "effective_date"), d, "effective_date defaults to today");
    CHECK_STR(jtext(R.json, "active", hv, sizeof hv), "true", "the new address is active");
    set_var_json("HN", R.json, "uuid");
    CHECK(strcmp(ev0, version_at(ev1, P("/v1/employees/{E0}"))) != 0,
          "creating a home address changes the employee's version");
    req(&R, "GET", T, NULL, "%s", P("/v1/home_addresses/{H0}"));
    CHECK_STR(jtext(R.json, "active", hv, sizeof hv), "false", "the old address is inactive");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{E0}?include=current_home_address"));
    CHECK_STR(jstr(R.json, "current_home_address.uuid"), tu_getvar("HN"),
              "current_home_address is the new one");

    req(&R, "DELETE", T, NULL, "%s", P("/v1/home_addresses/{HN}"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].category") &&
              strcmp(jstr(R.json, "errors[0].category"), "invalid_operation") == 0,
          "deleting the active home address: 422 invalid_operation (got %ld)", R.status);

    /* Update (versioned) */
    version_at(hv, P("/v1/home_addresses/{HN}"));
    version_at(ev0, P("/v1/employees/{E0}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"city\":\"Sparks\"}", hv);
    req(&R, "PUT", T, body, "%s", P("/v1/home_addresses/{HN}"));
    CHECK_LONG(R.status, 200, "update home address");
    CHECK_STR(jstr(R.json, "city"), "Sparks", "updated city");
    CHECK(strcmp(ev0, version_at(ev1, P("/v1/employees/{E0}"))) != 0,
          "updating a home address changes the employee's version");
    req(&R, "PUT", T, body, "%s", P("/v1/home_addresses/{HN}"));
    /* docs/sandbox.md "Stale versions": 422 on addresses, jobs, compensations. */
    CHECK_LONG(R.status, 422, "update home address with the old version");
    CHECK_STR(jstr(R.json, "errors[0].category"), "invalid_resource_version",
              "a stale home address version: category invalid_resource_version");
    req(&R, "PUT", T, "{\"city\":\"Sparks\"}", "%s", P("/v1/home_addresses/{HN}"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].error_key") &&
              strcmp(jstr(R.json, "errors[0].error_key"), "version") == 0,
          "update home address without version: 422 version (got %ld)", R.status);
    version_at(hv, P("/v1/home_addresses/{HN}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"zip\":\"ABCDE\"}", hv);
    req(&R, "PUT", T, body, "%s", P("/v1/home_addresses/{HN}"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].error_key") &&
              strcmp(jstr(R.json, "errors[0].error_key"), "zip") == 0,
          "update home address with a bad zip: 422 zip (got %ld)", R.status);

    /* Deleting an inactive one works. */
    req(&R, "DELETE", T, NULL, "%s", P("/v1/home_addresses/{H0}"));
    CHECK_LONG(R.status, 204, "delete an inactive home address");
    req(&R, "GET", T, NULL, "%s", P("/v1/home_addresses/{H0}"));
    CHECK_LONG(R.status, 404, "deleted home address is gone");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{E0}/home_addresses"));
    CHECK_LONG(jlen(R.json, ""), 1, "one home address left");
    down();
}

static void test_work_addresses(void)
{
    if (!up())
        { down(); return; }
    run_cases(WORK_CASES, NELEM(WORK_CASES));

    char ev0[64], ev1[64], wv[64], body[512];
    version_at(ev0, P("/v1/employees/{E0}"));
    req(&R, "POST", T, P("{\"location_uuid\":\"{L1}\",\"effective_date\":\"2099-01-01\"}"),
        "%s", P("/v1/employees/{E0}/work_addresses"));
    CHECK_LONG(R.status, 201, "create a future work address");
    CHECK_STR(jstr(R.json, "city"), "Denver", "work address copies the location");
    CHECK_STR(jtext(R.json, "active", wv, sizeof wv), "false",
              "a future work address is not active");
    set_var_json("WN", R.json, "uuid");
    CHECK(strcmp(ev0, version_at(ev1, P("/v1/employees/{E0}"))) != 0,
          "creating a work address changes the employee's version");

    version_at(wv, P("/v1/work_addresses/{WN}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"effective_date\":\"2098-06-01\"}", wv);
    req(&R, "PUT", T, body, "%s", P("/v1/work_addresses/{WN}"));
    CHECK_LONG(R.status, 200, "update work address");
    CHECK_STR(jstr(R.json, "effective_date"), "2098-06-01", "updated effective_date");
    req(&R, "PUT", T, body, "%s", P("/v1/work_addresses/{WN}"));
    CHECK_LONG(R.status, 422, "update work address with the old version");
    CHECK_STR(jstr(R.json, "errors[0].category"), "invalid_resource_version",
              "a stale work address version: category invalid_resource_version");
    req(&R, "PUT", T, "{\"effective_date\":\"2098-07-01\"}", "%s", P("/v1/work_addresses/{WN}"));
    CHECK_LONG(R.status, 422, "update work address without version");
    version_at(wv, P("/v1/work_addresses/{WN}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"location_uuid\":\"%s\"}", wv, NIL_UUID);
    req(&R, "PUT", T, body, "%s", P("/v1/work_addresses/{WN}"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].error_key") &&
              strcmp(jstr(R.json, "errors[0].error_key"), "location_uuid") == 0,
          "update work address to an unknown location: 422 location_uuid (got %ld)",
          R.status);

    req(&R, "DELETE", T, NULL, "%s", P("/v1/work_addresses/{WN}"));
    CHECK_LONG(R.status, 204, "delete the future work address");
    req(&R, "GET", T, NULL, "%s", P("/v1/work_addresses/{WN}"));
    CHECK_LONG(R.status, 404, "deleted work address is gone");
    down();
}

/* ---- jobs and compensations ---------------------------------------------- */

#define COMP_OK "\"rate\":\"50.00\",\"payment_unit\":\"Hour\",\"flsa_status\":\"Nonexempt\""
static const struct http_case JOB_CASES[] = {
    {"list", "GET", "/v1/employees/{E0}/jobs", T, NULL, 200,
     {"#=1", "[0].uuid={J0}", "[0].primary=true", "[0].rate=62000.00", "[0].payment_unit=Year",
      "[0].compensations#=1", "[0].version?", "!@X-Page"}},
    {"list, all compensations", "GET", "/v1/employees/{E1}/jobs?include=all_compensations", T,
     NULL, 200, {"[0].compensations#=2"}},
    {"list, current compensation only", "GET", "/v1/employees/{E1}/jobs", T, NULL, 200,
     {"[0].compensations#=1"}},
    {"list, bad include", "GET", "/v1/employees/{E0}/jobs?include=everything", T, NULL, 422,
     {"errors[0].error_key=include"}},
    {"list, unknown employee", "GET",
     "/v1/employees/00000000-0000-4000-8000-000000000000/jobs", T, NULL, 404, {NULL}},
    {"get", "GET", "/v1/jobs/{J0}", T, NULL, 200,
     {"uuid={J0}", "employee_uuid={E0}", "hire_date=2018-01-15", "title=Software Engineer"}},
    {"get unknown", "GET", "/v1/jobs/00000000-0000-4000-8000-000000000000", T, NULL, 404,
     {NULL}},
    {"create, no hire_date", "POST", "/v1/employees/{E0}/jobs", T, "{\"title\":\"Consultant\"}",
     422, {"errors#=1", "errors[0].error_key=hire_date"}},
    {"create, bad hire_date", "POST", "/v1/employees/{E0}/jobs", T,
     "{\"title\":\"Consultant\",\"hire_date\":\"03/01/2024\"}", 422,
     {"errors[0].error_key=hire_date"}},
    {"create, title not a string", "POST", "/v1/employees/{E0}/jobs", T,
     "{\"title\":5,\"hire_date\":\"2024-03-01\"}", 422, {"errors[0].error_key=title"}},
    {"create, read-only token", "POST", "/v1/employees/{E0}/jobs", RO,
     "{\"title\":\"Consultant\",\"hire_date\":\"2024-03-01\"}", 403, {NULL}},
    {"comps list", "GET", "/v1/jobs/{J0}/compensations", T, NULL, 200,
     {"#=1", "[0].uuid={K0}", "[0].job_uuid={J0}", "[0].flsa_status=Exempt"}},
    {"comps list, current only", "GET", "/v1/jobs/{J1}/compensations", T, NULL, 200, {"#=1"}},
    {"comps list, all", "GET", "/v1/jobs/{J1}/compensations?include=all_compensations", T, NULL,
     200, {"#=2"}},
    {"comps list, unknown job", "GET",
     "/v1/jobs/00000000-0000-4000-8000-000000000000/compensations", T, NULL, 404, {NULL}},
    {"comp get", "GET", "/v1/compensations/{K0}", T, NULL, 200,
     {"uuid={K0}", "rate=62000.00", "payment_unit=Year", "effective_date=2018-01-15"}},
    {"comp get unknown", "GET", "/v1/compensations/00000000-0000-4000-8000-000000000000", T,
     NULL, 404, {NULL}},
    {"comp delete, the only one", "DELETE", "/v1/compensations/{K0}", T, NULL, 422,
     {"errors[0].error_key=base", "errors[0].category=invalid_operation"}},
    {"job delete unknown", "DELETE", "/v1/jobs/00000000-0000-4000-8000-000000000000", T, NULL,
     404, {NULL}},
};

static const struct http_case COMP_BAD_CASES[] = {
    {"comp create, unit", "POST", "/v1/jobs/{NJ}/compensations", T,
     "{\"rate\":\"50.00\",\"payment_unit\":\"Fortnight\",\"flsa_status\":\"Nonexempt\"}", 422,
     {"errors#=1", "errors[0].error_key=payment_unit",
      "errors[0].category=invalid_attribute_value"}},
    {"comp create, rate not money", "POST", "/v1/jobs/{NJ}/compensations", T,
     "{\"rate\":\"fifty\",\"payment_unit\":\"Hour\",\"flsa_status\":\"Nonexempt\"}", 422,
     {"errors[0].error_key=rate"}},
    {"comp create, rate a number", "POST", "/v1/jobs/{NJ}/compensations", T,
     "{\"rate\":50,\"payment_unit\":\"Hour\",\"flsa_status\":\"Nonexempt\"}", 422,
     {"errors[0].error_key=rate"}},
    {"comp create, no flsa_status", "POST", "/v1/jobs/{NJ}/compensations", T,
     "{\"rate\":\"50.00\",\"payment_unit\":\"Hour\"}", 422,
     {"errors[0].error_key=flsa_status"}},
    {"comp create, unknown job", "POST",
     "/v1/jobs/00000000-0000-4000-8000-000000000000/compensations", T, "{" COMP_OK "}", 404,
     {NULL}},
};

/* Gusto's compensation rules (docs/sandbox.md), each a 422 naming the
 * field, with the job as the entity.  The sandbox's today is 2026-12-03
 * and the seed's payrolls ran through 2026-11-30. */
static const struct http_case COMP_RULE_CASES[] = {
    {"rule: Owner is paid per Paycheck", "POST", "/v1/jobs/{NJ}/compensations", T,
     "{\"rate\":\"50.00\",\"payment_unit\":\"Hour\",\"flsa_status\":\"Owner\"}", 422,
     {"errors#=1", "errors[0].error_key=payment_unit", "errors[0].metadata.entity_type=Job",
      "errors[0].metadata.entity_uuid={NJ}"}},
    {"rule: Paycheck is for Owners only", "POST", "/v1/jobs/{NJ}/compensations", T,
     "{\"rate\":\"500.00\",\"payment_unit\":\"Paycheck\",\"flsa_status\":\"Nonexempt\"}", 422,
     {"errors#=1", "errors[0].error_key=payment_unit"}},
    {"rule: Commission Only per Year", "POST", "/v1/jobs/{NJ}/compensations", T,
     "{\"rate\":\"0.00\",\"payment_unit\":\"Hour\",\"flsa_status\":\"Commission Only Exempt\"}",
     422, {"errors#=1", "errors[0].error_key=flsa_status"}},
    {"rule: Commission Only at rate 0", "POST", "/v1/jobs/{NJ}/compensations", T,
     "{\"rate\":\"10.00\",\"payment_unit\":\"Year\",\"flsa_status\":\"Commission Only Nonexempt\"}",
     422, {"errors#=1", "errors[0].error_key=flsa_status"}},
    {"rule: minimum wage adjustment only for Nonexempt", "POST", "/v1/jobs/{NJ}/compensations",
     T, "{\"rate\":\"50000.00\",\"payment_unit\":\"Year\",\"flsa_status\":\"Salaried Nonexempt\","
     "\"adjust_for_minimum_wage\":true,\"minimum_wages\":[{\"uuid\":\"{NJ}\"}]}", 422,
     {"errors#=1", "errors[0].error_key=adjust_for_minimum_wage"}},
    {"rule: minimum wage adjustment names a minimum wage", "POST",
     "/v1/jobs/{NJ}/compensations", T,
     "{" COMP_OK ",\"adjust_for_minimum_wage\":true}", 422,
     {"errors#=1", "errors[0].error_key=minimum_wages"}},
    {"rule: Exempt salary floor, per hour", "POST", "/v1/jobs/{NJ}/compensations", T,
     "{\"rate\":\"17.00\",\"payment_unit\":\"Hour\",\"flsa_status\":\"Exempt\"}", 422,
     {"errors#=1", "errors[0].error_key=rate"}},
    {"rule: Exempt salary floor, per year", "POST", "/v1/jobs/{NJ}/compensations", T,
     "{\"rate\":\"35567.99\",\"payment_unit\":\"Year\",\"flsa_status\":\"Exempt\"}", 422,
     {"errors#=1", "errors[0].error_key=rate"}},
    {"rule: effective_date on a payroll already run", "POST", "/v1/jobs/{NJ}/compensations", T,
     "{" COMP_OK ",\"effective_date\":\"2026-11-30\"}", 422,
     {"errors#=1", "errors[0].error_key=effective_date"}},
    {"rule: effective_date more than a year ahead", "POST", "/v1/jobs/{NJ}/compensations", T,
     "{" COMP_OK ",\"effective_date\":\"2027-12-04\"}", 422,
     {"errors#=1", "errors[0].error_key=effective_date"}},
    {"rule: the primary job cannot be deleted", "DELETE", "/v1/jobs/{J0}", T, NULL, 422,
     {"errors#=1", "errors[0].error_key=base", "errors[0].category=invalid_operation",
      "errors[0].metadata.entity_uuid={J0}"}},
};

static const char *const TODAY_ARGS[] = {
    "--seed", "demo", "--rate-limit", "0", "--today", "2026-12-03",
    "--token", T,
    "--token", RO ":employees:read",
    "--token", OTH "@other",
    "--token", NOCOMP ":employees:read,employees:write,jobs:read,jobs:write",
    NULL};

/* A request at an API version (the header sent explicitly). */
static long req_at(const char *version, const char *method, const char *body, const char *path)
{
    char h[64];
    snprintf(h, sizeof h, "X-Gusto-API-Version: %s", version);
    const char *const hdrs[] = {h, "Content-Type: application/json", NULL};
    return http_req(&SB.cl, method, path, T, body, body ? strlen(body) : 0, hdrs, &R);
}

static void test_jobs_and_compensations(void)
{
    memset(&R, 0, sizeof R);
    if (!sb_startv(&SB, TODAY_ARGS) || !load_ids())
        { down(); return; }
    run_cases(JOB_CASES, NELEM(JOB_CASES));

    char ev0[64], ev1[64], jv0[64], jv1[64], kv[64], body[512];
    version_at(ev0, P("/v1/employees/{E0}"));
    req(&R, "POST", T, "{\"title\":\"Consultant\",\"hire_date\":\"2024-03-01\"}", "%s",
        P("/v1/employees/{E0}/jobs"));
    CHECK_LONG(R.status, 201, "create job");
    CHECK_STR(jtext(R.json, "primary", kv, sizeof kv), "false", "a second job is not primary");
    /* Gusto's "Manage jobs and compensation": the job comes with a $0
     * hourly, non-exempt compensation from the hire date. */
    CHECK_LONG(jlen(R.json, "compensations"), 1, "a new job has its one compensation");
    CHECK_STR(jstr(R.json, "compensations[0].rate"), "0.00", "at $0");
    CHECK_STR(jstr(R.json, "compensations[0].payment_unit"), "Hour", "per hour");
    CHECK_STR(jstr(R.json, "compensations[0].flsa_status"), "Nonexempt", "non-exempt");
    CHECK_STR(jstr(R.json, "compensations[0].effective_date"), "2024-03-01",
              "effective on the hire date");
    CHECK_STR(jstr(R.json, "current_compensation_uuid"), jstr(R.json, "compensations[0].uuid"),
              "current_compensation_uuid points at it");
    set_var_json("NJ", R.json, "uuid");
    set_var_json("NK", R.json, "compensations[0].uuid");
    CHECK(strcmp(ev0, version_at(ev1, P("/v1/employees/{E0}"))) != 0,
          "creating a job changes the employee's version");

    run_cases(COMP_BAD_CASES, NELEM(COMP_BAD_CASES));
    run_cases(COMP_RULE_CASES, NELEM(COMP_RULE_CASES));

    /* Set the pay of the job's compensation, as onboarding does. */
    version_at(kv, P("/v1/compensations/{NK}"));
    version_at(jv0, P("/v1/jobs/{NJ}"));
    version_at(ev0, P("/v1/employees/{E0}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"rate\":\"55.25\"}", kv);
    req(&R, "PUT", T, body, "%s", P("/v1/compensations/{NK}"));
    CHECK_LONG(R.status, 200, "update compensation");
    CHECK_STR(jstr(R.json, "rate"), "55.25", "updated rate");
    CHECK_STR(jstr(R.json, "effective_date"), "2024-03-01", "still from the hire date");
    CHECK(strcmp(jv0, version_at(jv1, P("/v1/jobs/{NJ}"))) != 0,
          "updating a compensation changes the job's version");
    CHECK(strcmp(ev0, version_at(ev1, P("/v1/employees/{E0}"))) != 0,
          "updating a compensation changes the employee's version");
    /* docs/sandbox.md "Stale versions": 422 on a compensation. */
    req(&R, "PUT", T, body, "%s", P("/v1/compensations/{NK}"));
    CHECK_LONG(R.status, 422, "update compensation with the old version");
    CHECK_STR(jstr(R.json, "errors[0].category"), "invalid_resource_version",
              "stale: category invalid_resource_version");
    CHECK_STR(jstr(R.json, "errors[0].message"),
              "You are attempting to update a resource using an out-of-date version.",
              "stale: Gusto's message");
    CHECK_STR(jstr(R.json, "errors[0].metadata.entity_type"), "Compensation",
              "stale: the compensation is the entity");
    req(&R, "PUT", T, "{\"rate\":\"1.00\"}", "%s", P("/v1/compensations/{NK}"));
    CHECK_LONG(R.status, 422, "update compensation without version");
    version_at(kv, P("/v1/compensations/{NK}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"payment_unit\":\"Day\"}", kv);
    req(&R, "PUT", T, body, "%s", P("/v1/compensations/{NK}"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].error_key") &&
              strcmp(jstr(R.json, "errors[0].error_key"), "payment_unit") == 0,
          "update compensation with a bad unit: 422 payment_unit (got %ld)", R.status);
    /* The rules hold on the merged compensation: Exempt needs the floor. */
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"rate\":\"17.00\",\"flsa_status\":"
             "\"Exempt\"}", kv);
    req(&R, "PUT", T, body, "%s", P("/v1/compensations/{NK}"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].error_key") &&
              strcmp(jstr(R.json, "errors[0].error_key"), "rate") == 0,
          "Exempt at $17 an hour (the stored unit) is under the floor: 422 rate (got %ld %s)",
          R.status, R.body);
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"rate\":\"35568.00\",\"payment_unit\":"
             "\"Year\",\"flsa_status\":\"Exempt\"}", kv);
    req(&R, "PUT", T, body, "%s", P("/v1/compensations/{NK}"));
    CHECK_LONG(R.status, 200, "Exempt at exactly the floor ($35,568 a year) is accepted");
    version_at(kv, P("/v1/compensations/{NK}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"rate\":\"55.25\",\"payment_unit\":"
             "\"Hour\",\"flsa_status\":\"Nonexempt\"}", kv);
    req(&R, "PUT", T, body, "%s", P("/v1/compensations/{NK}"));
    CHECK_LONG(R.status, 200, "back to hourly");

    /* A raise: a new compensation.  Without a date it starts on the first
     * day no payroll has run for (the seed's ran through 2026-11-30). */
    req(&R, "POST", T, "{" COMP_OK "}", "%s", P("/v1/jobs/{NJ}/compensations"));
    CHECK_LONG(R.status, 201, "create compensation");
    CHECK_STR(jstr(R.json, "effective_date"), "2026-12-01",
              "without a date: the first unprocessed day");
    set_var_json("NK1", R.json, "uuid");
    req(&R, "GET", T, NULL, "%s", P("/v1/jobs/{NJ}"));
    CHECK_STR(jstr(R.json, "rate"), "50.00", "the job shows its current rate");
    CHECK_STR(jstr(R.json, "current_compensation_uuid"), tu_getvar("NK1"), "the new one");
    req(&R, "POST", T, "{" COMP_OK "}", "%s", P("/v1/jobs/{NJ}/compensations"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].error_key") &&
              strcmp(jstr(R.json, "errors[0].error_key"), "effective_date") == 0,
          "a second compensation on the same date: 422 effective_date (got %ld)", R.status);

    /* One pending (future) compensation per job. */
    req(&R, "POST", T, "{" COMP_OK ",\"effective_date\":\"2027-12-03\"}", "%s",
        P("/v1/jobs/{NJ}/compensations"));
    CHECK_LONG(R.status, 201, "a future compensation, a year ahead at most");
    set_var_json("NK2", R.json, "uuid");
    req(&R, "POST", T, "{" COMP_OK ",\"effective_date\":\"2027-01-01\"}", "%s",
        P("/v1/jobs/{NJ}/compensations"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].error_key") &&
              strcmp(jstr(R.json, "errors[0].error_key"), "job_id") == 0 &&
              strstr(jstr(R.json, "errors[0].message") ?: "", tu_getvar("NK2")),
          "a second pending compensation: 422 job_id naming the pending one (%ld %s)",
          R.status, R.body);
    req(&R, "GET", T, NULL, "%s", P("/v1/jobs/{NJ}/compensations?include=all_compensations"));
    CHECK_LONG(jlen(R.json, ""), 3, "the job has three compensations: the history is kept");
    CHECK_STR(jstr(R.json, "[0].rate"), "55.25", "the first one as it was");

    /* Deletes: the only one, the current one and processed ones are refused. */
    req(&R, "DELETE", T, NULL, "%s", P("/v1/compensations/{NK2}"));
    CHECK_LONG(R.status, 204, "delete the pending compensation");
    req(&R, "DELETE", T, NULL, "%s", P("/v1/compensations/{NK1}"));
    CHECK(R.status == 422, "deleting the current compensation: 422 as docs/sandbox.md says "
                           "(got %ld)", R.status);
    req(&R, "DELETE", T, NULL, "%s", P("/v1/compensations/{K0}"));
    CHECK(R.status == 422 && strstr(jstr(R.json, "errors[0].message") ?: "", "processed"),
          "deleting a compensation processed on a payroll: 422 (got %ld)", R.status);

    /* Job update and delete. */
    version_at(jv0, P("/v1/jobs/{NJ}"));
    version_at(ev0, P("/v1/employees/{E0}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"title\":\"Lead Consultant\"}", jv0);
    req(&R, "PUT", T, body, "%s", P("/v1/jobs/{NJ}"));
    CHECK_LONG(R.status, 200, "update job");
    CHECK_STR(jstr(R.json, "title"), "Lead Consultant", "updated title");
    CHECK(strcmp(ev0, version_at(ev1, P("/v1/employees/{E0}"))) != 0,
          "updating a job changes the employee's version");
    req(&R, "PUT", T, body, "%s", P("/v1/jobs/{NJ}"));
    CHECK_LONG(R.status, 422, "update job with the old version (docs/sandbox.md: 422)");
    CHECK_STR(jstr(R.json, "errors[0].category"), "invalid_resource_version",
              "stale job: category invalid_resource_version");
    CHECK_STR(jstr(R.json, "errors[0].metadata.entity_type"), "Job", "stale job: the entity");
    req(&R, "PUT", T, "{\"title\":\"X\"}", "%s", P("/v1/jobs/{NJ}"));
    CHECK_LONG(R.status, 422, "update job without version");
    req(&R, "DELETE", T, NULL, "%s", P("/v1/jobs/{NJ}"));
    CHECK_LONG(R.status, 204, "delete a job that is not primary");
    req(&R, "GET", T, NULL, "%s", P("/v1/jobs/{NJ}"));
    CHECK_LONG(R.status, 404, "deleted job is gone");
    req(&R, "GET", T, NULL, "%s", P("/v1/compensations/{NK}"));
    CHECK_LONG(R.status, 404, "a deleted job's compensations are gone");
    req(&R, "GET", T, NULL, "%s", P("/v1/jobs/{J0}"));
    CHECK_LONG(R.status, 200, "the primary job is still there");
    down();
}

/* 2026-12-01 (changelog v2026-12-01): a compensation processed on a
 * payroll cannot be changed, and no effective date may move onto a payroll
 * already run; at 2026-06-15 both are accepted.  The version header is
 * sent explicitly.  K0 was in effect when the seed's payrolls ran
 * (through 2026-11-30); a new hire's $0 compensation was not. */
static void test_processed_compensations(void)
{
    memset(&R, 0, sizeof R);
    if (!sb_startv(&SB, TODAY_ARGS) || !load_ids())
        { down(); return; }
    char kv[64], body[256];
    req(&R, "GET", T, NULL, "%s", P("/sandbox/companies/{C}/payrolls"));
    CHECK_STR(jstr(R.json, "processed_through"), "2026-11-30",
              "the seed's payrolls ran through the end of last month");
    version_at(kv, P("/v1/compensations/{K0}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"rate\":\"62000.00\"}", kv);
    req_at("2026-12-01", "PUT", body, P("/v1/compensations/{K0}"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].error_key") &&
              strcmp(jstr(R.json, "errors[0].error_key"), "base") == 0 &&
              strstr(jstr(R.json, "errors[0].message") ?: "", "processed"),
          "2026-12-01: any PUT of a processed compensation, even unchanged values: 422 "
          "(%ld %s)", R.status, R.body);
    CHECK_STR(jstr(R.json, "errors[0].metadata.entity_uuid"), tu_getvar("K0"),
              "naming the compensation");
    req_at("2026-06-15", "PUT", body, P("/v1/compensations/{K0}"));
    CHECK_LONG(R.status, 200, "2026-06-15: the same PUT is accepted");
    version_at(kv, P("/v1/compensations/{K0}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"rate\":\"62500.00\"}", kv);
    req_at("2026-06-15", "PUT", body, P("/v1/compensations/{K0}"));
    CHECK_STR(jstr(R.json, "rate"), "62500.00", "2026-06-15: a change is written");

    /* A new hire: their $0 compensation is not processed, so the PUT of
     * onboarding works at 2026-12-01; moving its date onto a payroll run
     * does not, while a date after it does. */
    req(&R, "POST", T, "{\"first_name\":\"New\",\"last_name\":\"Hire\"}", "%s",
        P("/v1/companies/{C}/employees"));
    set_var_json("NE", R.json, "uuid");
    req(&R, "POST", T, "{\"title\":\"Analyst\",\"hire_date\":\"2026-11-02\"}", "%s",
        P("/v1/employees/{NE}/jobs"));
    set_var_json("NEK", R.json, "compensations[0].uuid");
    version_at(kv, P("/v1/compensations/{NEK}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"rate\":\"31.00\"}", kv);
    req_at("2026-12-01", "PUT", body, P("/v1/compensations/{NEK}"));
    CHECK_LONG(R.status, 200, "2026-12-01: a new hire's compensation is not processed");
    CHECK_STR(jstr(R.json, "effective_date"), "2026-11-02", "its date unchanged");
    version_at(kv, P("/v1/compensations/{NEK}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"effective_date\":\"2026-11-15\"}", kv);
    req_at("2026-12-01", "PUT", body, P("/v1/compensations/{NEK}"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].error_key") &&
              strcmp(jstr(R.json, "errors[0].error_key"), "effective_date") == 0,
          "2026-12-01: effective_date moved onto a payroll already run: 422 effective_date "
          "(%ld)", R.status);
    req_at("2026-06-15", "PUT", body, P("/v1/compensations/{NEK}"));
    CHECK_LONG(R.status, 200, "2026-06-15: the same move is accepted");
    version_at(kv, P("/v1/compensations/{NEK}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"effective_date\":\"2026-12-02\"}", kv);
    req_at("2026-12-01", "PUT", body, P("/v1/compensations/{NEK}"));
    CHECK_LONG(R.status, 200, "2026-12-01: a date after the last payroll run is accepted");

    /* The sandbox-only control: a payroll run through 2026-12-02 makes the
     * new hire's compensation processed too. */
    req(&R, "POST", T, "{\"processed_through\":\"2026-12-04\"}", "%s",
        P("/sandbox/companies/{C}/payrolls"));
    CHECK_LONG(R.status, 422, "a payroll cannot run through a day after today");
    req(&R, "POST", T, "{\"processed_through\":\"2026-12-02\"}", "%s",
        P("/sandbox/companies/{C}/payrolls"));
    CHECK(R.status == 201 && jint(R.json, "compensations_processed", 0) >= 1,
          "record a payroll run (%ld %s)", R.status, R.body);
    version_at(kv, P("/v1/compensations/{NEK}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"rate\":\"32.00\"}", kv);
    req_at("2026-12-01", "PUT", body, P("/v1/compensations/{NEK}"));
    CHECK_LONG(R.status, 422, "2026-12-01: now processed, the PUT is refused");
    req(&R, "POST", OTH, "{\"processed_through\":\"2026-12-02\"}", "%s",
        P("/sandbox/companies/{C}/payrolls"));
    CHECK_LONG(R.status, 404, "another company's token cannot run this company's payroll");
    down();
}

/* ---- time off -------------------------------------------------------------- */

static const struct http_case TIME_OFF_CASES[] = {
    {"vacation", "GET", "/v1/employees/{E0}/time_off_activities?time_off_type=vacation", T,
     NULL, 200,
     {"#=8", "[0].time_off_type=vacation", "[0].event_type=TimeOffEvent::AddToPolicy",
      "[0].policy_name=Paid Time Off", "[1].event_type=TimeOffEvent::Accrual",
      "[7].time_off_type=vacation", "[0].balance?", "[0].effective_time?"}},
    {"sick", "GET", "/v1/employees/{E0}/time_off_activities?time_off_type=sick", T, NULL, 200,
     {"#=7", "[0].time_off_type=sick", "[0].policy_name=Sick Leave", "[6].balance=24.0"}},
    {"missing type", "GET", "/v1/employees/{E0}/time_off_activities", T, NULL, 422,
     {"errors[0].error_key=time_off_type", "errors[0].category=invalid_parameter"}},
    {"bad type", "GET", "/v1/employees/{E0}/time_off_activities?time_off_type=holiday", T, NULL,
     422, {"errors[0].error_key=time_off_type"}},
    {"unknown employee", "GET",
     "/v1/employees/00000000-0000-4000-8000-000000000000/time_off_activities"
     "?time_off_type=sick",
     T, NULL, 404, {NULL}},
    {"scope", "GET", "/v1/employees/{E0}/time_off_activities?time_off_type=sick", RO, NULL, 403,
     {"errors[0].category=missing_oauth_scopes"}},
    {"other company", "GET", "/v1/employees/{E0}/time_off_activities?time_off_type=sick", OTH,
     NULL, 404, {NULL}},
};

static void test_time_off(void)
{
    if (!up())
        { down(); return; }
    run_cases(TIME_OFF_CASES, NELEM(TIME_OFF_CASES));
    /* The employee's vacation balance is the last activity's balance. */
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{E0}/time_off_activities?time_off_type=vacation"));
    char last[64];
    snprintf(last, sizeof last, "%s", jstr(R.json, "[7].balance") ? jstr(R.json, "[7].balance") : "");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{E0}"));
    CHECK_STR(jstr(R.json, "eligible_paid_time_off[0].accrual_balance"), last,
              "vacation accrual_balance equals the last activity's balance");
    down();
}

/* ---- time off policies ------------------------------------------------------ */

static const struct http_case POLICY_CASES[] = {
    {"list", "GET", "/v1/companies/{C}/time_off_policies", T, NULL, 200,
     {"#=2", "[0].name=Paid Time Off", "[0].policy_type=vacation", "[0].is_active=true",
      "[0].employees#=50", "[1].policy_type=sick", "[0].version?", "[0].policy_reset_date=01-01"}},
    {"list, other company", "GET", "/v1/companies/{C}/time_off_policies", OTH, NULL, 404,
     {NULL}},
    {"list, no time_off_policies:read", "GET", "/v1/companies/{C}/time_off_policies", RO, NULL,
     403, {"errors[0].category=missing_oauth_scopes"}},
    {"get", "GET", "/v1/time_off_policies/{P0}", T, NULL, 200,
     {"uuid={P0}", "company_uuid={C}", "accrual_method=per_hour_worked", "accrual_rate=6.67",
      "paid_out_on_termination=true", "complete=true", "employees#=50", "employees[0].balance?"}},
    {"get, unknown", "GET", "/v1/time_off_policies/00000000-0000-4000-8000-000000000000", T,
     NULL, 404, {NULL}},
    {"get, other company", "GET", "/v1/time_off_policies/{P0}", OTH, NULL, 404, {NULL}},
    {"create, nothing", "POST", "/v1/companies/{C}/time_off_policies", T, "{}", 422,
     {"errors#=3", "errors[0].error_key=name", "errors[1].error_key=policy_type",
      "errors[2].error_key=accrual_method"}},
    {"create, bad values", "POST", "/v1/companies/{C}/time_off_policies", T,
     "{\"name\":\"X\",\"policy_type\":\"holiday\",\"accrual_method\":\"per_week\","
     "\"accrual_rate\":40,\"accrual_waiting_period_days\":-1,\"policy_reset_date\":\"13-01\"}",
     422,
     {"errors#=5", "errors[0].error_key=policy_type", "errors[1].error_key=accrual_method",
      "errors[2].error_key=accrual_rate", "errors[3].error_key=accrual_waiting_period_days",
      "errors[4].error_key=policy_reset_date"}},
    {"create, unlimited with a rate", "POST", "/v1/companies/{C}/time_off_policies", T,
     "{\"name\":\"X\",\"policy_type\":\"vacation\",\"accrual_method\":\"unlimited\","
     "\"accrual_rate\":\"8.0\"}",
     422, {"errors[0].error_key=accrual_rate"}},
    {"create, other company", "POST", "/v1/companies/{C}/time_off_policies", OTH,
     "{\"name\":\"X\",\"policy_type\":\"vacation\",\"accrual_method\":\"unlimited\"}", 404,
     {NULL}},
};

/* The policy in R, as a Time-Off-Policy: how many employees, and the
 * balance of the first. */
static void policy_has(long employees, const char *balance0, const char *what)
{
    CHECK(R.status == 200, "%s: status %ld", what, R.status);
    CHECK_LONG(jlen(R.json, "employees"), employees, what);
    if (balance0)
        CHECK_STR(jstr(R.json, "employees[0].balance"), balance0, what);
}

static void test_time_off_policies(void)
{
    if (!up())
        { down(); return; }
    req(&R, "GET", T, NULL, "%s", P("/v1/companies/{C}/time_off_policies"));
    set_var_json("P0", R.json, "[0].uuid");
    set_var_json("P1", R.json, "[1].uuid");
    run_cases(POLICY_CASES, NELEM(POLICY_CASES));

    /* Create, then update with versions. */
    req(&R, "POST", T,
        "{\"name\":\"Floating\",\"policy_type\":\"vacation\","
        "\"accrual_method\":\"per_calendar_year\",\"accrual_rate\":\"40.0\"}",
        "%s", P("/v1/companies/{C}/time_off_policies"));
    CHECK_LONG(R.status, 201, "create: 201");
    CHECK_STR(jtext(R.json, "complete", (char[16]){0}, 16), "true", "a rate makes it complete");
    CHECK_LONG(jlen(R.json, "employees"), 0, "a new policy has nobody");
    set_var_json("NP", R.json, "uuid");
    char v1[64];
    snprintf(v1, sizeof v1, "%s", jstr(R.json, "version") ? jstr(R.json, "version") : "");
    req(&R, "GET", T, NULL, "%s", P("/v1/companies/{C}/time_off_policies"));
    CHECK_LONG(jlen(R.json, ""), 3, "the list has the new policy");
    req(&R, "PUT", T, "{\"name\":\"x\"}", "%s", P("/v1/time_off_policies/{NP}"));
    CHECK_LONG(R.status, 422, "update without a version: 422");
    req(&R, "PUT", T, "{\"version\":\"0123456789abcdef0123456789abcdef\",\"name\":\"x\"}", "%s",
        P("/v1/time_off_policies/{NP}"));
    CHECK_LONG(R.status, 409, "update with a stale version: 409");
    char body[256];
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"name\":\"Floating Holiday\","
             "\"max_hours\":\"16.0\"}", v1);
    req(&R, "PUT", T, body, "%s", P("/v1/time_off_policies/{NP}"));
    CHECK_LONG(R.status, 200, "update: 200");
    CHECK_STR(jstr(R.json, "name"), "Floating Holiday", "the name changed");
    CHECK_STR(jstr(R.json, "max_hours"), "16.0", "max_hours changed");
    CHECK(jstr(R.json, "version") && strcmp(jstr(R.json, "version"), v1) != 0,
          "the version moved");
    req(&R, "PUT", OTH, body, "%s", P("/v1/time_off_policies/{NP}"));
    CHECK_LONG(R.status, 404, "another company's update: 404");

    /* Employees: add, balance, remove. */
    req(&R, "PUT", T, "{\"employees\":[]}", "%s", P("/v1/time_off_policies/{NP}/add_employees"));
    CHECK_LONG(R.status, 422, "add nobody: 422");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{E0}\",\"balance\":\"8\"},"
                        "{\"uuid\":\"00000000-0000-4000-8000-000000000000\"}]}"),
        "%s", P("/v1/time_off_policies/{NP}/add_employees"));
    CHECK_LONG(R.status, 422, "an unknown employee: 422, and nobody is added");
    CHECK_STR(jstr(R.json, "errors[0].error_key"), "employees", "the error names employees");
    req(&R, "GET", T, NULL, "%s", P("/v1/time_off_policies/{NP}"));
    policy_has(0, NULL, "after the refused add, nobody is on it");
    /* One policy of each type: E0 is on the seeded vacation policy P0. */
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{E0}\",\"balance\":\"8\"}]}"), "%s",
        P("/v1/time_off_policies/{NP}/add_employees"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].message") &&
              strstr(jstr(R.json, "errors[0].message"), "only one policy of each type") &&
              strstr(jstr(R.json, "errors[0].message"), "Paid Time Off"),
          "a second vacation policy: 422 naming the first (%ld %.200s)", R.status, R.body);
    CHECK_STR(jstr(R.json, "errors[0].error_key"), "employees", "...on employees");
    req(&R, "GET", T, NULL, "%s", P("/v1/time_off_policies/{NP}"));
    policy_has(0, NULL, "...and nobody is added");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{E0}\"}]}"), "%s",
        P("/v1/time_off_policies/{P0}/remove_employees"));
    CHECK_LONG(R.status, 200, "take E0 off the seeded vacation policy");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{E0}\",\"balance\":\"8\"}]}"), "%s",
        P("/v1/time_off_policies/{NP}/add_employees"));
    policy_has(1, "8.0", "add with a starting balance");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{E0}"));
    CHECK_LONG(jlen(R.json, "eligible_paid_time_off"), 2, "the employee shows two policies");
    CHECK(strstr(R.body, "\"Floating Holiday\"") != NULL, "...one of them the new one");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{E0}\",\"balance\":\"12.5\"}]}"), "%s",
        P("/v1/time_off_policies/{NP}/balance"));
    policy_has(1, "12.5", "balance update");
    req(&R, "GET", T, NULL, "%s",
        P("/v1/employees/{E0}/time_off_activities?time_off_type=vacation"));
    long last = jlen(R.json, "") - 1;
    char path[64];
    snprintf(path, sizeof path, "[%ld].balance_change", last);
    CHECK_STR(jstr(R.json, path), "4.5", "the activity records the change");
    snprintf(path, sizeof path, "[%ld].policy_name", last);
    CHECK_STR(jstr(R.json, path), "Floating Holiday", "the activity names the policy");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{E1}\",\"balance\":\"1.0\"}]}"), "%s",
        P("/v1/time_off_policies/{NP}/balance"));
    CHECK_LONG(R.status, 422, "balance of someone not on the policy: 422");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{E0}\"}]}"), "%s",
        P("/v1/time_off_policies/{NP}/remove_employees"));
    policy_has(0, NULL, "remove");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{E0}\"}]}"), "%s",
        P("/v1/time_off_policies/{P0}/add_employees"));
    CHECK_LONG(R.status, 200, "off the new vacation policy, E0 may rejoin the seeded one");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{E0}"));
    CHECK_LONG(jlen(R.json, "eligible_paid_time_off"), 2, "the employee is off it again");
    CHECK(strstr(R.body, "\"Floating Holiday\"") == NULL, "...the new one is gone");

    /* Employees need a job. */
    req(&R, "POST", T, "{\"first_name\":\"Nojob\",\"last_name\":\"Person\"}", "%s",
        P("/v1/companies/{C}/employees"));
    set_var_json("NJ", R.json, "uuid");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{NJ}\"}]}"), "%s",
        P("/v1/time_off_policies/{NP}/add_employees"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].message") &&
              strstr(jstr(R.json, "errors[0].message"), "job"),
          "an employee without a job: 422 that says so (status %ld)", R.status);

    /* A terminated employee cannot be added (ET: a seeded terminated one). */
    req(&R, "GET", T, NULL, "/v1/companies/%s/employees?terminated=true&per=1", SB.company);
    set_var_json("ET", R.json, "[0].uuid");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{ET}\"}]}"), "%s",
        P("/v1/time_off_policies/{P1}/remove_employees"));
    CHECK_LONG(R.status, 200, "a terminated employee can be taken off a policy");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{ET}\"}]}"), "%s",
        P("/v1/time_off_policies/{P1}/add_employees"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].message") &&
              strstr(jstr(R.json, "errors[0].message"), "terminated"),
          "a terminated employee: 422 that says so (%ld %.200s)", R.status, R.body);

    /* Unlimited policies have no balances. */
    req(&R, "POST", T,
        "{\"name\":\"Unlimited PTO\",\"policy_type\":\"vacation\",\"accrual_method\":"
        "\"unlimited\"}",
        "%s", P("/v1/companies/{C}/time_off_policies"));
    CHECK_LONG(R.status, 201, "create unlimited: 201");
    CHECK(json_is_null(jget(R.json, "accrual_rate")), "unlimited: accrual_rate is null");
    set_var_json("UP", R.json, "uuid");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{E1}\"}]}"), "%s",
        P("/v1/time_off_policies/{P0}/remove_employees"));
    CHECK_LONG(R.status, 200, "take E1 off the seeded vacation policy first");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{E1}\",\"balance\":\"5.0\"}]}"), "%s",
        P("/v1/time_off_policies/{UP}/add_employees"));
    CHECK_LONG(R.status, 422, "unlimited: no starting balance");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{E1}\"}]}"), "%s",
        P("/v1/time_off_policies/{UP}/add_employees"));
    policy_has(1, "0.0", "unlimited: add without a balance");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{E1}\",\"balance\":\"5.0\"}]}"), "%s",
        P("/v1/time_off_policies/{UP}/balance"));
    CHECK_LONG(R.status, 422, "unlimited: no balance update");

    /* Deactivate: everyone off, version null, no more changes. */
    req(&R, "PUT", T, NULL, "%s", P("/v1/time_off_policies/{P0}/deactivate"));
    CHECK_LONG(R.status, 200, "deactivate with no body: 200");
    CHECK_STR(jtext(R.json, "is_active", (char[16]){0}, 16), "false", "is_active false");
    CHECK(json_is_null(jget(R.json, "version")), "a deactivated policy's version is null");
    CHECK_LONG(jlen(R.json, "employees"), 0, "nobody is on a deactivated policy");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{E0}"));
    CHECK_STR(jstr(R.json, "eligible_paid_time_off[0].policy_name"), "Sick Leave",
              "the employee keeps only the sick policy");
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"name\":\"x\"}", v1);
    req(&R, "PUT", T, body, "%s", P("/v1/time_off_policies/{P0}"));
    CHECK_LONG(R.status, 422, "update a deactivated policy: 422");
    req(&R, "PUT", T, P("{\"employees\":[{\"uuid\":\"{E0}\"}]}"), "%s",
        P("/v1/time_off_policies/{P0}/add_employees"));
    CHECK_LONG(R.status, 422, "add to a deactivated policy: 422");
    req(&R, "PUT", RO, NULL, "%s", P("/v1/time_off_policies/{P1}/deactivate"));
    CHECK_LONG(R.status, 403, "deactivate needs time_off_policies:write");
    down();
}

/* ---- departments ------------------------------------------------------------ */

static const struct http_case DEPARTMENT_CASES[] = {
    {"list", "GET", "/v1/companies/{C}/departments", T, NULL, 200,
     {"#=5", "[0].title=Engineering", "[0].employees#=10", "[0].contractors#=0",
      "[0].version?", "[0].company_uuid={C}"}},
    {"list, other company", "GET", "/v1/companies/{C}/departments", OTH, NULL, 404, {NULL}},
    {"list, no departments:read", "GET", "/v1/companies/{C}/departments", RO, NULL, 403,
     {"errors[0].category=missing_oauth_scopes"}},
    {"get", "GET", "/v1/departments/{D0}", T, NULL, 200, {"uuid={D0}", "employees#=10"}},
    {"get, unknown", "GET", "/v1/departments/00000000-0000-4000-8000-000000000000", T, NULL,
     404, {NULL}},
    {"get, other company", "GET", "/v1/departments/{D0}", OTH, NULL, 404, {NULL}},
    {"create without a title", "POST", "/v1/companies/{C}/departments", T, "{}", 422,
     {"errors[0].error_key=title"}},
    {"delete with people", "DELETE", "/v1/departments/{D0}", T, NULL, 422,
     {"errors[0].category=invalid_operation"}},
    {"company custom fields", "GET", "/v1/companies/{C}/custom_fields", T, NULL, 200,
     {"custom_fields#=1", "custom_fields[0].name=employee_level",
      "custom_fields[0].type=text", "custom_fields[0].uuid?", "!custom_fields[0].value"}},
    {"company custom fields, other company", "GET", "/v1/companies/{C}/custom_fields", OTH,
     NULL, 404, {NULL}},
    {"employee custom fields", "GET", "/v1/employees/{E0}/custom_fields", T, NULL, 200,
     {"custom_fields#=1", "custom_fields[0].name=employee_level", "custom_fields[0].value=3",
      "custom_fields[0].company_custom_field_id?"}},
    {"employee custom fields, page 2", "GET", "/v1/employees/{E0}/custom_fields?page=2&per=1",
     T, NULL, 200, {"custom_fields#=0", "@X-Total-Count=1"}},
    {"employee custom fields, bad per", "GET", "/v1/employees/{E0}/custom_fields?per=x", T,
     NULL, 422, {"errors[0].error_key=per"}},
    {"employee custom fields, other company", "GET", "/v1/employees/{E0}/custom_fields", OTH,
     NULL, 404, {NULL}},
};

static void test_departments(void)
{
    if (!up())
        { down(); return; }
    req(&R, "GET", T, NULL, "%s", P("/v1/companies/{C}/departments"));
    set_var_json("D0", R.json, "[0].uuid");
    run_cases(DEPARTMENT_CASES, NELEM(DEPARTMENT_CASES));

    /* A rename shows on the members, without moving their versions. */
    req(&R, "GET", T, NULL, "%s", P("/v1/departments/{D0}"));
    set_var_json("DE", R.json, "employees[0].uuid");
    char v[64], ev[64], body[256];
    snprintf(v, sizeof v, "%s", jstr(R.json, "version") ? jstr(R.json, "version") : "");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{DE}"));
    snprintf(ev, sizeof ev, "%s", jstr(R.json, "version") ? jstr(R.json, "version") : "");
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"title\":\"R&D\"}", v);
    req(&R, "PUT", T, body, "%s", P("/v1/departments/{D0}"));
    CHECK_STR(jstr(R.json, "title"), "R&D", "rename");
    req(&R, "PUT", T, body, "%s", P("/v1/departments/{D0}"));
    CHECK_LONG(R.status, 409, "rename with the old version: 409");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{DE}"));
    CHECK_STR(jstr(R.json, "department"), "R&D", "the member shows the new title");
    CHECK_STR(jstr(R.json, "version"), ev, "the member's version did not move");

    /* Move someone to a new department, then out of it, then delete it. */
    req(&R, "POST", T, "{\"title\":\"Field Ops\"}", "%s", P("/v1/companies/{C}/departments"));
    CHECK_LONG(R.status, 201, "create: 201");
    CHECK_LONG(jlen(R.json, "employees"), 0, "a new department is empty");
    set_var_json("DN", R.json, "uuid");
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"employees\":[{\"uuid\":\"%s\"}]}",
             jstr(R.json, "version") ? jstr(R.json, "version") : "", tu_getvar("DE"));
    req(&R, "PUT", T, "{\"employees\":[]}", "%s", P("/v1/departments/{DN}/add"));
    CHECK_LONG(R.status, 422, "add without a version: 422");
    req(&R, "PUT", T, body, "%s", P("/v1/departments/{DN}/add"));
    CHECK_LONG(jlen(R.json, "employees"), 1, "add: the employee is in it");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{DE}"));
    CHECK_STR(jstr(R.json, "department_uuid"), tu_getvar("DN"), "the employee's department");
    CHECK_STR(jstr(R.json, "department"), "Field Ops", "and its title");
    CHECK(jstr(R.json, "version") && strcmp(jstr(R.json, "version"), ev) != 0,
          "moving an employee moves their version");
    req(&R, "GET", T, NULL, "%s", P("/v1/departments/{D0}"));
    CHECK_LONG(jlen(R.json, "employees"), 9, "the old department lost them");
    req(&R, "GET", T, NULL, "%s", P("/v1/departments/{DN}"));
    snprintf(body, sizeof body,
             "{\"version\":\"%s\",\"employees\":[{\"uuid\":\"%s\"}],"
             "\"contractors\":[{\"uuid\":\"%s\"}]}",
             jstr(R.json, "version") ? jstr(R.json, "version") : "", tu_getvar("DE"), NIL_UUID);
    req(&R, "PUT", T, body, "%s", P("/v1/departments/{DN}/remove"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].error_key") &&
              strcmp(jstr(R.json, "errors[0].error_key"), "contractors") == 0,
          "an unknown contractor: 422 naming contractors (status %ld)", R.status);
    req(&R, "GET", T, NULL, "%s", P("/v1/departments/{DN}"));
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"employees\":[{\"uuid\":\"%s\"}]}",
             jstr(R.json, "version") ? jstr(R.json, "version") : "", tu_getvar("DE"));
    req(&R, "PUT", T, body, "%s", P("/v1/departments/{DN}/remove"));
    CHECK_LONG(jlen(R.json, "employees"), 0, "remove");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{DE}"));
    CHECK(json_is_null(jget(R.json, "department_uuid")) && json_is_null(jget(R.json, "department")),
          "the employee has no department");
    req(&R, "DELETE", T, NULL, "%s", P("/v1/departments/{DN}"));
    CHECK_LONG(R.status, 204, "delete an empty department: 204");
    req(&R, "GET", T, NULL, "%s", P("/v1/departments/{DN}"));
    CHECK_LONG(R.status, 404, "and it is gone");
    down();
}

/* ---- versions and the 409 race ---------------------------------------------- */

struct racer {
    struct client cl;
    pthread_barrier_t *bar;
    char path[128];
    char body[256];
    long status;
};

static void *race_put(void *arg)
{
    struct racer *r = arg;
    struct resp out = {0};
    pthread_barrier_wait(r->bar);
    http_req(&r->cl, "PUT", r->path, T, r->body, strlen(r->body), NULL, &out);
    r->status = out.status;
    resp_free(&out);
    return NULL;
}

/* Two threads PUT with the same version at once: one 200, one stale
 * (409, or 422 where docs/sandbox.md says so). */
static void race_once(const char *path, const char *field, int round, long stale)
{
    char v[64];
    version_at(v, path);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    struct racer rs[2];
    for (int i = 0; i < 2; i++) {
        memset(&rs[i], 0, sizeof rs[i]);
        client_init(&rs[i].cl, SB.base);
        rs[i].bar = &bar;
        snprintf(rs[i].path, sizeof rs[i].path, "%s", path);
        snprintf(rs[i].body, sizeof rs[i].body, "{\"version\":\"%s\",\"%s\":\"Racer%c%d\"}", v,
                 field, 'A' + i, round);
    }
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, race_put, &rs[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
    for (int i = 0; i < 2; i++)
        client_free(&rs[i].cl);
    long a = rs[0].status, b = rs[1].status;
    CHECK((a == 200 && b == stale) || (a == stale && b == 200),
          "race %d on %s: want one 200 and one %ld, got %ld and %ld", round, path, stale, a,
          b);
    int winner = a == 200 ? 0 : 1;
    char want[32];
    snprintf(want, sizeof want, "Racer%c%d", 'A' + winner, round);
    req(&R, "GET", T, NULL, "%s", path);
    CHECK_STR(jstr(R.json, field), want, "the winner's write is what reads back");
}

static void test_versions(void)
{
    if (!up())
        { down(); return; }
    char path[128], jpath[128];
    snprintf(path, sizeof path, "%s", P("/v1/employees/{E0}"));
    snprintf(jpath, sizeof jpath, "%s", P("/v1/jobs/{J0}"));
    for (int round = 0; round < 4; round++)
        race_once(path, "first_name", round, 409);
    race_once(jpath, "title", 9, 422);

    /* Sequential: two writers that read the same version. */
    char v[64], body[256];
    version_at(v, path);
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"last_name\":\"First\"}", v);
    long s1 = req(&R, "PUT", T, body, "%s", path);
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"last_name\":\"Second\"}", v);
    long s2 = req(&R, "PUT", T, body, "%s", path);
    CHECK(s1 == 200 && s2 == 409, "same version twice: 200 then 409 (got %ld, %ld)", s1, s2);
    CHECK_STR(jstr(R.json, "errors[0].error_key"), "base", "409 error_key");

    /* A child write moves the parent employee's version: a stale PUT then fails. */
    char ev[64], ev2[64], jv[64];
    version_at(ev, path);
    version_at(jv, jpath);
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"title\":\"Staff Engineer\"}", jv);
    CHECK_LONG(req(&R, "PUT", T, body, "%s", jpath), 200, "PUT job");
    version_at(ev2, path);
    CHECK(*ev && *ev2 && strcmp(ev, ev2) != 0, "PUT job changes the employee's version");
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"first_name\":\"Stale\"}", ev);
    CHECK_LONG(req(&R, "PUT", T, body, "%s", path), 409,
               "employee PUT with the version read before the job write");
    snprintf(body, sizeof body, "{\"version\":5,\"first_name\":\"Stale\"}");
    CHECK_LONG(req(&R, "PUT", T, body, "%s", path), 422, "version that is not a string");
    down();
}

/* ---- pagination -------------------------------------------------------------- */

#define EMPS "/v1/companies/{C}/employees"
static const struct http_case PAGE_CASES[] = {
    {"per=1", "GET", EMPS "?per=1", T, NULL, 200,
     {"#=1", "[0].uuid={E0}", "@X-Page=1", "@X-Per-Page=1", "@X-Total-Count=50",
      "@X-Total-Pages=50"}},
    {"per=1, last page", "GET", EMPS "?per=1&page=50", T, NULL, 200,
     {"#=1", "[0].uuid={E49}", "@X-Page=50"}},
    {"per=1, past the end", "GET", EMPS "?per=1&page=51", T, NULL, 200,
     {"#=0", "@X-Total-Count=50"}},
    {"per=100", "GET", EMPS "?per=100", T, NULL, 200,
     {"#=50", "@X-Per-Page=100", "@X-Total-Pages=1"}},
    {"per=101 is capped", "GET", EMPS "?per=101", T, NULL, 200, {"#=50", "@X-Per-Page=100"}},
    {"per=1000 is capped", "GET", EMPS "?per=1000&page=1", T, NULL, 200,
     {"#=50", "@X-Per-Page=100", "@X-Total-Pages=1"}},
    {"last page partial", "GET", EMPS "?per=20&page=3", T, NULL, 200,
     {"#=10", "[0].uuid={E40}", "@X-Page=3", "@X-Total-Pages=3"}},
    {"page beyond end", "GET", EMPS "?per=20&page=4", T, NULL, 200,
     {"#=0", "@X-Total-Pages=3"}},
    {"page only: per defaults to 25", "GET", EMPS "?page=2", T, NULL, 200,
     {"#=25", "[0].uuid={E25}", "@X-Per-Page=25", "@X-Page=2"}},
    {"no page or per: no headers", "GET", EMPS, T, NULL, 200,
     {"#=50", "!@X-Page", "!@X-Per-Page", "!@X-Total-Count", "!@X-Total-Pages"}},
    {"filter and pages", "GET", EMPS "?terminated=true&per=2&page=2", T, NULL, 200,
     {"#=1", "@X-Total-Count=3", "@X-Total-Pages=2"}},
    {"page=0", "GET", EMPS "?page=0", T, NULL, 422,
     {"errors[0].error_key=page", "errors[0].category=invalid_parameter"}},
    {"page=abc", "GET", EMPS "?page=abc", T, NULL, 422, {"errors[0].error_key=page"}},
    {"page=-1", "GET", EMPS "?page=-1", T, NULL, 422, {"errors[0].error_key=page"}},
    {"page empty", "GET", EMPS "?page=", T, NULL, 422, {"errors[0].error_key=page"}},
    {"per=0", "GET", EMPS "?per=0", T, NULL, 422, {"errors[0].error_key=per"}},
    {"per=5x", "GET", EMPS "?per=5x", T, NULL, 422, {"errors[0].error_key=per"}},
    {"locations per=1", "GET", "/v1/companies/{C}/locations?per=1", T, NULL, 200,
     {"#=1", "[0].uuid={L0}", "@X-Total-Count=2", "@X-Total-Pages=2"}},
    {"locations page 2", "GET", "/v1/companies/{C}/locations?per=1&page=2", T, NULL, 200,
     {"#=1", "[0].uuid={L1}"}},
    {"locations past the end", "GET", "/v1/companies/{C}/locations?per=1&page=3", T, NULL, 200,
     {"#=0"}},
    {"locations page=0", "GET", "/v1/companies/{C}/locations?page=0", T, NULL, 422,
     {"errors[0].error_key=page"}},
    {"jobs per=1", "GET", "/v1/employees/{E0}/jobs?per=1", T, NULL, 200,
     {"#=1", "@X-Total-Count=1", "@X-Total-Pages=1"}},
    {"jobs past the end", "GET", "/v1/employees/{E0}/jobs?page=2", T, NULL, 200, {"#=0"}},
    {"jobs per=abc", "GET", "/v1/employees/{E0}/jobs?per=abc", T, NULL, 422,
     {"errors[0].error_key=per"}},
};

static void test_pagination(void)
{
    if (!up())
        { down(); return; }
    run_cases(PAGE_CASES, NELEM(PAGE_CASES));

    /* Walking per=7 pages gives every employee once, in list order. */
    struct resp all = {0};
    req(&all, "GET", T, NULL, "/v1/companies/%s/employees", SB.company);
    long seen = 0, mismatches = 0, pages = 0;
    for (int page = 1; page <= 9; page++) {
        req(&R, "GET", T, NULL, "/v1/companies/%s/employees?per=7&page=%d", SB.company, page);
        long n = jlen(R.json, "");
        if (n > 0)
            pages++;
        for (long i = 0; i < n; i++) {
            char p1[32], p2[32];
            snprintf(p1, sizeof p1, "[%ld].uuid", i);
            snprintf(p2, sizeof p2, "[%ld].uuid", seen);
            const char *a = jstr(R.json, p1), *b = jstr(all.json, p2);
            if (!a || !b || strcmp(a, b) != 0)
                mismatches++;
            seen++;
        }
    }
    CHECK(seen == 50 && mismatches == 0 && pages == 8,
          "per=7 pages: %ld employees over %ld pages, %ld out of order", seen, pages,
          mismatches);
    resp_free(&all);
    down();
}

/* ---- search, sort, include ---------------------------------------------------- */

static const struct http_case QUERY_CASES[] = {
    {"search, no match", "GET", EMPS "?search_term=zzqqxx", T, NULL, 200, {"#=0"}},
    {"sort by created_at desc", "GET", EMPS "?sort_by=created_at:desc", T, NULL, 200,
     {"#=50", "[0].uuid={E49}", "[49].uuid={E0}"}},
    {"sort by unknown field", "GET", EMPS "?sort_by=salary", T, NULL, 422,
     {"errors[0].error_key=sort_by", "errors[0].category=invalid_parameter"}},
    {"sort by name:up", "GET", EMPS "?sort_by=name:up", T, NULL, 422,
     {"errors[0].error_key=sort_by"}},
    {"sort_by with search_term", "GET", EMPS "?sort_by=name&search_term=al", T, NULL, 422,
     {"errors[0].error_key=sort_by"}},
    {"no include", "GET", "/v1/employees/{E1}", T, NULL, 200,
     {"!current_home_address", "!all_home_addresses", "!custom_fields",
      "jobs[0].compensations#=1"}},
    {"include current_home_address", "GET", "/v1/employees/{E1}?include=current_home_address",
     T, NULL, 200,
     {"current_home_address.uuid?", "current_home_address.active=true", "!all_home_addresses",
      "!custom_fields"}},
    {"include all_home_addresses", "GET", "/v1/employees/{E1}?include=all_home_addresses", T,
     NULL, 200, {"all_home_addresses#=2", "!current_home_address"}},
    {"include all_compensations", "GET", "/v1/employees/{E1}?include=all_compensations", T,
     NULL, 200, {"jobs[0].compensations#=2", "!custom_fields"}},
    {"include custom_fields", "GET", "/v1/employees/{E1}?include=custom_fields", T, NULL, 200,
     {"custom_fields#=1", "custom_fields[0].name=employee_level", "!current_home_address"}},
    {"include two", "GET", "/v1/employees/{E1}?include=current_home_address,custom_fields", T,
     NULL, 200, {"current_home_address?", "custom_fields?", "!all_home_addresses"}},
    {"include unknown", "GET", "/v1/employees/{E1}?include=salary", T, NULL, 422,
     {"errors[0].error_key=include"}},
    {"list include custom_fields", "GET", EMPS "?include=custom_fields&per=2", T, NULL, 200,
     {"[0].custom_fields#=1", "[1].custom_fields?"}},
    {"list without include", "GET", EMPS "?per=2", T, NULL, 200, {"![0].custom_fields"}},
};

/* Is the list sorted by "last first" (lower case), the way sort_by=name is? */
static long unsorted_pairs(const json_t *list, bool desc)
{
    long bad = 0;
    char prev[256] = "";
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *e = json_array_get(list, i);
        char key[256];
        snprintf(key, sizeof key, "%s %s", jstr(e, "last_name") ? jstr(e, "last_name") : "",
                 jstr(e, "first_name") ? jstr(e, "first_name") : "");
        for (char *p = key; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (i > 0) {
            int c = strcmp(prev, key);
            if (desc ? c < 0 : c > 0)
                bad++;
        }
        snprintf(prev, sizeof prev, "%s", key);
    }
    return bad;
}

static bool contains_ci(const char *hay, const char *needle)
{
    return hay && strcasestr(hay, needle) != NULL;
}

static void test_search_sort_include(void)
{
    if (!up())
        { down(); return; }
    run_cases(QUERY_CASES, NELEM(QUERY_CASES));

    req(&R, "GET", T, NULL, "/v1/companies/%s/employees?search_term=ALI", SB.company);
    long n = jlen(R.json, ""), misses = 0;
    bool has_e0 = false;
    for (long i = 0; i < n; i++) {
        const json_t *e = json_array_get(R.json, (size_t)i);
        if (!contains_ci(jstr(e, "first_name"), "ali") && !contains_ci(jstr(e, "last_name"), "ali") &&
            !contains_ci(jstr(e, "preferred_first_name"), "ali"))
            misses++;
        if (jstr(e, "uuid") && strcmp(jstr(e, "uuid"), tu_getvar("E0")) == 0)
            has_e0 = true;
    }
    CHECK(R.status == 200 && n >= 1 && misses == 0 && has_e0,
          "search_term=ALI: %ld results, %ld without 'ali', Alice %s", n, misses,
          has_e0 ? "found" : "missing");

    req(&R, "GET", T, NULL, "/v1/companies/%s/employees?sort_by=name:desc", SB.company);
    CHECK(R.status == 200 && jlen(R.json, "") == 50 && unsorted_pairs(R.json, true) == 0,
          "sort_by=name:desc is sorted descending (%ld, %ld pairs out of order)", R.status,
          unsorted_pairs(R.json, true));
    CHECK(unsorted_pairs(R.json, false) > 0, "name:desc is not simply ascending");
    req(&R, "GET", T, NULL, "/v1/companies/%s/employees?sort_by=name:asc", SB.company);
    CHECK(R.status == 200 && unsorted_pairs(R.json, false) == 0,
          "sort_by=name:asc is sorted ascending (%ld pairs out of order)",
          unsorted_pairs(R.json, false));
    down();
}

/* ---- scopes and company isolation ------------------------------------------------ */

static const struct http_case ISOLATION_CASES[] = {
    {"ro: list employees", "GET", EMPS, RO, NULL, 200, {"#=50"}},
    {"ro: POST employee", "POST", EMPS, RO, NEW_EMP, 403,
     {"errors[0].error_key=request", "errors[0].category=missing_oauth_scopes",
      "errors[0].metadata.missing_scope_name=employees:manage"}},
    {"ro: PUT employee", "PUT", "/v1/employees/{E0}", RO, "{\"version\":\"x\"}", 403, {NULL}},
    {"ro: DELETE employee", "DELETE", "/v1/employees/{E48}", RO, NULL, 403, {NULL}},
    {"ro: locations", "GET", "/v1/companies/{C}/locations", RO, NULL, 403, {NULL}},
    {"ro: jobs", "GET", "/v1/employees/{E0}/jobs", RO, NULL, 403, {NULL}},
    {"other: demo employee", "GET", "/v1/employees/{E0}", OTH, NULL, 404,
     {"errors[0].category=not_found"}},
    {"other: demo company", "GET", "/v1/companies/{C}", OTH, NULL, 404, {NULL}},
    {"other: demo employee list", "GET", EMPS, OTH, NULL, 404, {NULL}},
    {"other: PUT demo employee", "PUT", "/v1/employees/{E0}", OTH, "{\"version\":\"x\"}", 404,
     {NULL}},
    {"other: DELETE demo onboarding employee", "DELETE", "/v1/employees/{E48}", OTH, NULL, 404,
     {NULL}},
    {"demo onboarding employee survives", "GET", "/v1/employees/{E48}", T, NULL, 200, {NULL}},
    {"other: demo jobs", "GET", "/v1/employees/{E0}/jobs", OTH, NULL, 404, {NULL}},
    {"other: demo job", "GET", "/v1/jobs/{J0}", OTH, NULL, 404, {NULL}},
    {"other: demo compensation", "GET", "/v1/compensations/{K0}", OTH, NULL, 404, {NULL}},
    {"other: demo home address", "GET", "/v1/home_addresses/{H0}", OTH, NULL, 404, {NULL}},
    {"other: demo work address", "GET", "/v1/work_addresses/{W0}", OTH, NULL, 404, {NULL}},
    {"other: demo location", "GET", "/v1/locations/{L0}", OTH, NULL, 404, {NULL}},
    {"other: its own employees", "GET", "/v1/companies/{OC}/employees", OTH, NULL, 200,
     {"#=5", "[0].company_uuid={OC}"}},
    {"other: its own employee", "GET", "/v1/employees/{OE0}", OTH, NULL, 200,
     {"company_uuid={OC}"}},
    {"other: a demo location for its employee", "POST", "/v1/employees/{OE0}/work_addresses",
     OTH, "{\"location_uuid\":\"{L0}\",\"effective_date\":\"2099-01-01\"}", 422,
     {"errors[0].error_key=location_uuid"}},
    {"demo: other company's employee", "GET", "/v1/employees/{OE0}", T, NULL, 404, {NULL}},
    {"no compensations:read: jobs", "GET", "/v1/employees/{E0}/jobs", NOCOMP, NULL, 200,
     {"#=1", "[0].uuid={J0}", "![0].rate", "![0].payment_unit", "![0].compensations",
      "![0].current_compensation_uuid"}},
    {"no compensations:read: job", "GET", "/v1/jobs/{J0}", NOCOMP, NULL, 200,
     {"!rate", "!compensations"}},
    {"no compensations:read: employee", "GET", "/v1/employees/{E0}?include=all_compensations",
     NOCOMP, NULL, 200, {"jobs#=1", "!jobs[0].rate", "!jobs[0].compensations"}},
    {"no compensations:read: compensations", "GET", "/v1/jobs/{J0}/compensations", NOCOMP,
     NULL, 403, {"errors[0].category=missing_oauth_scopes"}},
    {"with compensations:read: job", "GET", "/v1/jobs/{J0}", T, NULL, 200,
     {"rate?", "compensations#=1"}},
};

static void test_isolation(void)
{
    if (!up())
        { down(); return; }
    run_cases(ISOLATION_CASES, NELEM(ISOLATION_CASES));

    /* None of Globex's employees shows up for the demo token, and every
     * Globex work address points at a Globex location. */
    struct resp locs = {0};
    req(&R, "GET", OTH, NULL, "/v1/companies/%s/employees", tu_getvar("OC"));
    req(&locs, "GET", OTH, NULL, "/v1/companies/%s/locations", tu_getvar("OC"));
    long n = jlen(R.json, ""), leaked = 0, foreign = 0;
    for (long i = 0; i < n; i++) {
        char p[32];
        snprintf(p, sizeof p, "[%ld].uuid", i);
        const char *emp = jstr(R.json, p);
        struct resp w = {0};
        if (req(&w, "GET", T, NULL, "/v1/employees/%s", emp ? emp : "x") != 404)
            leaked++;
        req(&w, "GET", OTH, NULL, "/v1/employees/%s/work_addresses", emp ? emp : "x");
        const char *loc = jstr(w.json, "[0].location_uuid");
        bool mine = false;
        for (long k = 0; k < jlen(locs.json, ""); k++) {
            const char *l = jstr(json_array_get(locs.json, (size_t)k), "uuid");
            if (loc && l && strcmp(loc, l) == 0)
                mine = true;
        }
        if (!mine) {
            foreign++;
            fprintf(stderr, "  Globex employee %s: work address location %s is not a Globex "
                            "location (street_1 %s)\n",
                    emp ? emp : "?", loc ? loc : "(none)",
                    jstr(w.json, "[0].street_1") ? jstr(w.json, "[0].street_1") : "absent");
        }
        resp_free(&w);
    }
    CHECK(n == 5 && leaked == 0, "Globex's %ld employees are invisible to the demo token "
                                 "(%ld visible)", n, leaked);
    CHECK(foreign == 0, "every Globex work address is at a Globex location (%ld are not)",
          foreign);
    resp_free(&locs);
    down();
}

/* ---- malformed and oversized bodies ------------------------------------------------ */

static const struct http_case BODY_CASES[] = {
    {"truncated JSON", "POST", EMPS, T, "{\"first_name\":", 400,
     {"errors[0].error_key=request", "errors[0].category=invalid_request"}},
    {"not JSON", "POST", EMPS, T, "first_name=Ada", 400, {"errors[0].category=invalid_request"}},
    {"empty body", "POST", EMPS, T, "", 400, {"errors[0].category=invalid_request"}},
    {"duplicate keys", "POST", EMPS, T,
     "{\"first_name\":\"A\",\"first_name\":\"B\",\"last_name\":\"C\"}", 400, {NULL}},
    {"array body", "POST", EMPS, T, "[1,2]", 422, {"errors[0].error_key=base"}},
    {"first_name a number", "POST", EMPS, T, "{\"first_name\":5,\"last_name\":\"X\"}", 422,
     {"errors#=1", "errors[0].error_key=first_name",
      "errors[0].category=invalid_attribute_value"}},
    {"boolean as a string", "POST", EMPS, T,
     "{\"first_name\":\"A\",\"last_name\":\"B\",\"self_onboarding\":\"yes\"}", 422,
     {"errors[0].error_key=self_onboarding"}},
    {"null first_name", "POST", EMPS, T, "{\"first_name\":null,\"last_name\":\"B\"}", 422,
     {"errors[0].error_key=first_name"}},
    {"PUT truncated JSON", "PUT", "/v1/employees/{E0}", T, "{\"version\":", 400, {NULL}},
    {"PUT array", "PUT", "/v1/employees/{E0}", T, "[]", 422, {"errors[0].error_key=base"}},
    {"PUT empty", "PUT", "/v1/employees/{E0}", T, "", 400, {NULL}},
};

static void test_bad_bodies(void)
{
    if (!up())
        { down(); return; }
    run_cases(BODY_CASES, NELEM(BODY_CASES));
    char path[128];
    snprintf(path, sizeof path, "%s", P(EMPS));

    /* A raw NUL inside a JSON string. */
    static const char nul_body[] = "{\"first_name\":\"A\0B\",\"last_name\":\"C\"}";
    http_req(&SB.cl, "POST", path, T, nul_body, sizeof nul_body - 1, NULL, &R);
    CHECK_LONG(R.status, 400, "raw NUL in the body");

    /* Size limit: exactly 1 MiB is read (and judged), 1 MiB + 1 and 2 MiB are 413. */
    size_t mib = 1024 * 1024;
    char *big = malloc(2 * mib + 1);
    if (!CHECK(big != NULL, "malloc"))
        { down(); return; }
    static const char head[] = "{\"first_name\":\"";
    static const char tail[] = "\"}";
    size_t sizes[] = {mib, mib + 1, 2 * mib};
    long want[] = {422, 413, 413};
    for (int i = 0; i < 3; i++) {
        size_t len = sizes[i];
        memcpy(big, head, sizeof head - 1);
        memset(big + sizeof head - 1, 'a', len - (sizeof head - 1) - (sizeof tail - 1));
        memcpy(big + len - (sizeof tail - 1), tail, sizeof tail - 1);
        big[len] = 0;
        http_req(&SB.cl, "POST", path, T, big, len, NULL, &R);
        CHECK(R.status == want[i], "a %zu-byte body: want %ld, got %ld (%.120s)", len,
              want[i], R.status, R.body ? R.body : "");
        if (want[i] == 413)
            CHECK_STR(jstr(R.json, "errors[0].category"), "invalid_request", "413 category");
    }
    free(big);

    /* After all that the server still answers correctly. */
    run_cases((const struct http_case[]){
                  {"still serving: employee", "GET", "/v1/employees/{E0}", T, NULL, 200,
                   {"first_name=Alice", "last_name=Anderson"}},
                  {"still serving: list", "GET", EMPS, T, NULL, 200, {"#=50"}},
              },
              2);
    down();
}

/* ---- rate limit ---------------------------------------------------------------------- */

static void test_rate_limit(void)
{
    struct resp r = {0};
    if (!sb_start(&SB, "--seed", "demo", "--token", T, "--token", "T2", "--rate-limit", "5",
                  NULL))
        return;
    char v[64], want[8];
    for (int i = 0; i < 5; i++) {
        req(&r, "GET", T, NULL, "/v1/token_info");
        CHECK(r.status == 200, "request %d of 5: 200 (got %ld)", i + 1, r.status);
        snprintf(want, sizeof want, "%d", 4 - i);
        CHECK_STR(hget(r.headers, "X-RateLimit-Remaining", v, sizeof v), want,
                  "X-RateLimit-Remaining counts down");
    }
    CHECK_STR(hget(r.headers, "X-RateLimit-Limit", v, sizeof v), "5", "X-RateLimit-Limit");
    req(&r, "GET", T, NULL, "/v1/token_info");
    CHECK_LONG(r.status, 429, "the 6th request within 60 s");
    CHECK_STR(hget(r.headers, "X-RateLimit-Remaining", v, sizeof v), "0",
              "429: X-RateLimit-Remaining");
    CHECK(hhas(r.headers, "X-RateLimit-Reset"), "429: X-RateLimit-Reset present");
    const char *ra = hget(r.headers, "Retry-After", v, sizeof v);
    char *end = NULL;
    long secs = ra ? strtol(ra, &end, 10) : -1;
    CHECK(ra && end && *end == 0 && secs >= 1 && secs <= 60,
          "429: Retry-After is 1..60 seconds (got '%s')", ra ? ra : "(absent)");
    CHECK_STR(jstr(r.json, "errors[0].category"), "rate_limit_exceeded", "429 category");
    req(&r, "GET", "T2", NULL, "/v1/token_info");
    CHECK_LONG(r.status, 200, "another grant has its own budget");
    req(&r, "GET", NULL, NULL, "/v1/token_info");
    CHECK_LONG(r.status, 401, "no token is still 401, not 429");
    resp_free(&r);
    sb_stop(&SB);
}

/* ---- fault injection -------------------------------------------------------------------- */

#define FAULT_N 40

static bool fault_run(const char *seed, long out[FAULT_N])
{
    struct resp r = {0};
    if (!sb_start(&SB, "--seed", "demo", "--token", T, "--rate-limit", "0", "--faults",
                  "500:0.3,429:0.2", "--fault-seed", seed, NULL))
        return false;
    for (int i = 0; i < FAULT_N; i++) {
        req(&r, "GET", T, NULL, "/v1/token_info");
        out[i] = r.status;
    }
    resp_free(&r);
    sb_stop(&SB);
    return true;
}

static void test_faults(void)
{
    long a[FAULT_N], b[FAULT_N], c[FAULT_N];
    if (!fault_run("42", a) || !fault_run("42", b) || !fault_run("43", c))
        return;
    int n200 = 0, n500 = 0, n429 = 0, other = 0;
    for (int i = 0; i < FAULT_N; i++) {
        n200 += a[i] == 200;
        n500 += a[i] == 500;
        n429 += a[i] == 429;
        other += a[i] != 200 && a[i] != 500 && a[i] != 429;
    }
    CHECK(memcmp(a, b, sizeof a) == 0, "same seed, same statuses");
    CHECK(n200 > 0 && n500 > 0 && n429 > 0 && other == 0,
          "seed 42: %d x 200, %d x 500, %d x 429, %d other", n200, n500, n429, other);
    CHECK(memcmp(a, c, sizeof a) != 0, "a different seed gives a different sequence");
}

/* ---- persistence ------------------------------------------------------------------------ */

/* Remove a --data file, its WAL companions and its directory. */
static void remove_data_file(const char *db, const char *dir)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < NELEM(suffixes); i++) {
        char f[160];
        snprintf(f, sizeof f, "%s%s", db, suffixes[i]);
        unlink(f);
    }
    rmdir(dir);
}

/* A --data file written before time_off_policies had rev, active and doc:
 * the sandbox adds the columns, and the policies work. */
static void test_old_data_file(void)
{
    char dir[] = "/tmp/gusto-sbtest-old-XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp"))
        return;
    char db[128];
    snprintf(db, sizeof db, "%s/old.db", dir);
    sqlite3 *h = NULL;
    bool made = sqlite3_open(db, &h) == SQLITE_OK &&
                sqlite3_exec(h, "CREATE TABLE time_off_policies(uuid TEXT PRIMARY KEY,"
                                " company_uuid TEXT NOT NULL, name TEXT NOT NULL,"
                                " policy_type TEXT NOT NULL, accrual_rate TEXT NOT NULL,"
                                " paid_out INTEGER NOT NULL)", NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(h);
    CHECK(made, "an old-shaped time_off_policies table");
    const char *args[] = {"--seed", "demo", "--token", T, "--rate-limit", "0", "--data", db,
                          NULL};
    memset(&R, 0, sizeof R);
    bool started = made && sb_startv(&SB, args);
    CHECK(started, "the sandbox starts on the old file");
    if (started) {
        req(&R, "GET", T, NULL, "/v1/companies/%s/time_off_policies", SB.company);
        CHECK(R.status == 200 && jlen(R.json, "") == 2 && jstr(R.json, "[0].version"),
              "the old file's policies list, with versions (status %ld)", R.status);
        char path[128], body[160];
        snprintf(path, sizeof path, "/v1/time_off_policies/%s",
                 jstr(R.json, "[0].uuid") ? jstr(R.json, "[0].uuid") : "none");
        snprintf(body, sizeof body, "{\"version\":\"%s\",\"max_hours\":\"99.0\"}",
                 jstr(R.json, "[0].version") ? jstr(R.json, "[0].version") : "");
        req(&R, "PUT", T, body, "%s", path);
        CHECK_STR(jstr(R.json, "max_hours"), "99.0", "an update is stored in the added column");
        sb_stop(&SB);
    }
    resp_free(&R);
    remove_data_file(db, dir);
}

static void test_persistence(void)
{
    char dir[] = "/tmp/gusto-sbtest-data-XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp"))
        return;
    char db[128];
    snprintf(db, sizeof db, "%s/sandbox.db", dir);
    const char *args[] = {"--seed", "demo", "--token", T, "--rate-limit", "0", "--data", db,
                          NULL};
    char uuid[64] = "", ver[64] = "", e0[64] = "", e43[64] = "", e43v[64] = "";
    long vac_before = -1;
    memset(&R, 0, sizeof R);
    if (sb_startv(&SB, args)) {
        req(&R, "POST", T, "{\"first_name\":\"Persist\",\"last_name\":\"Ence\"}",
            "/v1/companies/%s/employees", SB.company);
        CHECK_LONG(R.status, 201, "create before the crash");
        snprintf(uuid, sizeof uuid, "%s", jstr(R.json, "uuid") ? jstr(R.json, "uuid") : "");
        snprintf(ver, sizeof ver, "%s", jstr(R.json, "version") ? jstr(R.json, "version") : "");
        req(&R, "GET", T, NULL, "/v1/companies/%s/employees?per=1", SB.company);
        snprintf(e0, sizeof e0, "%s", jstr(R.json, "[0].uuid") ? jstr(R.json, "[0].uuid") : "");
        req(&R, "GET", T, NULL, "/v1/companies/%s/employees?per=1&page=44", SB.company);
        snprintf(e43, sizeof e43, "%s", jstr(R.json, "[0].uuid") ? jstr(R.json, "[0].uuid") : "");
        snprintf(e43v, sizeof e43v, "%s",
                 jstr(R.json, "[0].version") ? jstr(R.json, "[0].version") : "");
        req(&R, "GET", T, NULL, "/v1/employees/%s/time_off_activities?time_off_type=vacation",
            e0);
        vac_before = jlen(R.json, "");
        sb_kill(&SB); /* SIGKILL: no clean shutdown */
    }
    if (sb_startv(&SB, args)) {
        req(&R, "GET", T, NULL, "/v1/employees/%s", uuid);
        CHECK_LONG(R.status, 200, "the employee survives SIGKILL and restart");
        CHECK_STR(jstr(R.json, "first_name"), "Persist", "its first_name");
        CHECK_STR(jstr(R.json, "version"), ver, "its version");
        req(&R, "GET", T, NULL, "/v1/companies/%s/employees", SB.company);
        CHECK_LONG(jlen(R.json, ""), 51, "re-seeding the file adds no employees");
        req(&R, "GET", T, NULL, "/v1/employees/%s/time_off_activities?time_off_type=vacation",
            e0);
        CHECK(vac_before > 0 && jlen(R.json, "") == vac_before,
              "re-seeding the file adds no time-off activities (%ld before, %ld after)",
              vac_before, jlen(R.json, ""));
        req(&R, "GET", T, NULL, "/v1/employees/%s", e43);
        CHECK(*e43v && jstr(R.json, "version") && strcmp(jstr(R.json, "version"), e43v) == 0,
              "re-seeding leaves a terminated seed employee's version alone ('%s' before, "
              "'%s' after)", e43v, jstr(R.json, "version") ? jstr(R.json, "version") : "");
        resp_free(&R);
        sb_stop(&SB);
    }
    resp_free(&R);
    remove_data_file(db, dir);
}

/* ---- main ---------------------------------------------------------------------------------- */


/* ---- the rendered-employee cache ---------------------------------------------- */

/* PUT body {"version": <current version of path>, extra...}; returns the status. */
static long put_versioned(const char *path, const char *fields)
{
    char v[64], body[512];
    version_at(v, path);
    snprintf(body, sizeof body, "{\"version\":\"%s\",%s}", v, fields);
    return req(&R, "PUT", T, body, "%s", path);
}

/* GET the employee and the first list page (both cached after the first
 * time) and check one value in each. */
static void check_both(const char *epath, const char *lpath, const char *expect_e,
                       const char *expect_l, const char *what)
{
    struct resp e = {0}, l = {0};
    req(&e, "GET", T, NULL, "%s", epath);
    req(&l, "GET", T, NULL, "%s", lpath);
    char name[160];
    snprintf(name, sizeof name, "%s (GET employee)", what);
    check_expect(&e, expect_e, name, __FILE__, __LINE__);
    snprintf(name, sizeof name, "%s (list)", what);
    check_expect(&l, expect_l, name, __FILE__, __LINE__);
    resp_free(&e);
    resp_free(&l);
}

static void test_render_cache(void)
{
    if (!up())
        { down(); return; }
    char epath[128], lpath[128];
    snprintf(epath, sizeof epath, "%s", P("/v1/employees/{E0}"));
    snprintf(lpath, sizeof lpath, "%s", P("/v1/companies/{C}/employees?page=1&per=5"));

    /* The same bytes every time, from the cache or not. */
    struct resp a = {0}, b = {0};
    req(&a, "GET", T, NULL, "%s", epath);
    req(&b, "GET", T, NULL, "%s", epath);
    CHECK(a.status == 200 && a.body && b.body && strcmp(a.body, b.body) == 0,
          "a second GET employee returns the same body");
    req(&b, "GET", T, NULL, "%s", lpath);
    CHECK(b.status == 200 && jget(b.json, "[0]") && json_equal(jget(b.json, "[0]"), a.json),
          "the list renders the employee as GET does");
    resp_free(&b);
    resp_free(&a);

    /* Every kind of child write shows at once in both. */
    check_both(epath, lpath, "jobs[0].title?", "[0].jobs[0].title?", "warm up");
    CHECK_LONG(put_versioned(P("/v1/jobs/{J0}"), "\"title\":\"Cache Checker\""), 200, "PUT job");
    check_both(epath, lpath, "jobs[0].title=Cache Checker", "[0].jobs[0].title=Cache Checker",
               "job title");
    /* K0 was processed on the seed's payrolls: a pay change is a new
     * compensation (effective on the first unprocessed day, so current). */
    req(&R, "POST", T, "{\"rate\":\"123456.00\",\"payment_unit\":\"Year\","
        "\"flsa_status\":\"Exempt\"}", "%s", P("/v1/jobs/{J0}/compensations"));
    CHECK_LONG(R.status, 201, "POST compensation");
    check_both(epath, lpath, "jobs[0].rate=123456.00", "[0].jobs[0].rate=123456.00",
               "compensation rate");
    req(&R, "GET", T, NULL, "%s", epath);
    char loc[64], lp[128];
    snprintf(loc, sizeof loc, "%s", jstr(R.json, "jobs[0].location_uuid") ?
             jstr(R.json, "jobs[0].location_uuid") : "none");
    snprintf(lp, sizeof lp, "/v1/locations/%s", loc);
    CHECK_LONG(put_versioned(lp, "\"street_1\":\"9 Cache Way\""), 200, "PUT location");
    check_both(epath, lpath, "jobs[0].location.street_1=9 Cache Way",
               "[0].jobs[0].location.street_1=9 Cache Way", "location street");
    CHECK_LONG(put_versioned(epath, "\"first_name\":\"Cachet\""), 200, "PUT employee");
    check_both(epath, lpath, "first_name=Cachet", "[0].first_name=Cachet", "first name");

    char inc[160];
    snprintf(inc, sizeof inc, "%s?include=all_home_addresses", epath);
    req(&R, "GET", T, NULL, "%s", inc);
    long homes = jlen(R.json, "all_home_addresses");
    req(&R, "POST", T, "{" HOME_OK ",\"effective_date\":\"2099-03-01\"}", "%s",
        P("/v1/employees/{E0}/home_addresses"));
    CHECK_LONG(R.status, 201, "POST home address");
    req(&R, "GET", T, NULL, "%s", inc);
    CHECK_LONG(jlen(R.json, "all_home_addresses"), homes + 1,
               "a new home address shows in all_home_addresses");

    /* Options and tokens are part of the key. */
    req(&R, "GET", NOCOMP, NULL, "%s", epath);
    CHECK(R.status == 200 && !jget(R.json, "jobs[0].compensations"),
          "without compensations:read there are no compensations, after a cached GET");
    req(&R, "GET", T, NULL, "%s", epath);
    CHECK(jget(R.json, "jobs[0].compensations") != NULL, "and with it they are back");
    req(&R, "GET", OTH, NULL, "%s", epath);
    CHECK_LONG(R.status, 404, "another company's token: 404 after a cached GET");
    req(&R, "GET", OTH, NULL, "%s?include=nonsense", epath);
    CHECK_LONG(R.status, 404, "another company's token and a bad include: 404");
    req(&R, "GET", T, NULL, "%s?include=nonsense", epath);
    CHECK_LONG(R.status, 422, "a bad include: 422");

    /* Terminating (a write on another table) shows too. */
    req(&R, "POST", T, "{\"effective_date\":\"2020-01-01\"}", "%s",
        P("/v1/employees/{E0}/terminations"));
    CHECK_LONG(R.status, 201, "POST termination");
    check_both(epath, lpath, "terminated=true", "[0].terminated=true", "termination");
    down();
}


/* ---- API versions (data/api-versions.json) --------------------------------- */

/* A standard sandbox on date `today`, with --default-version `defver`
 * (NULL: none). */
static bool up_at(const char *today, const char *defver)
{
    static const char *args[NELEM(STD_ARGS) + 4];
    size_t n = 0;
    for (; STD_ARGS[n]; n++)
        args[n] = STD_ARGS[n];
    args[n++] = "--today";
    args[n++] = today;
    if (defver) {
        args[n++] = "--default-version";
        args[n++] = defver;
    }
    args[n] = NULL;
    memset(&R, 0, sizeof R);
    return sb_startv(&SB, args) && load_ids();
}

/* One request with token T at API version ver (NULL: no header). */
static long vreq(const char *ver, const char *method, const char *path, const char *body)
{
    char h[64];
    snprintf(h, sizeof h, "X-Gusto-API-Version: %s", ver ? ver : "");
    const char *hs[] = {h, NULL};
    return http_req(&SB.cl, method, P(path), T, body, body ? strlen(body) : 0,
                    ver ? hs : NULL, &R);
}

/* The response was served at version want (its X-Gusto-API-Version). */
static void served_at(const char *want, const char *what)
{
    char got[32] = "";
    hget(R.headers, "X-Gusto-API-Version", got, sizeof got);
    CHECK(R.status / 100 == 2 && strcmp(got, want) == 0, "%s: status %ld, served at '%s', want %s",
          what, R.status, got, want);
}

/* The response is Gusto's 406 for a version, naming no version served. */
static void refused(const char *what)
{
    CHECK(R.status == 406 && strcmp(jstr(R.json, "errors[0].category") ?: "",
                                    "invalid_api_version") == 0 &&
              !hhas(R.headers, "X-Gusto-API-Version"),
          "%s: status %ld, body %.200s", what, R.status, R.body ? R.body : "");
}

/* Each home address object at `path` (an array, or one object when
 * `one`) has the pre-2025-11-15 fields (legacy) or none of them. */
static void home_shape(const char *path, bool one, bool legacy, const char *what)
{
    json_t *a = jget(R.json, path);
    size_t n = one ? (a ? 1 : 0) : json_array_size(a);
    CHECK(n > 0, "%s: %s present", what, path);
    for (size_t i = 0; i < n; i++) {
        json_t *h = one ? a : json_array_get(a, i);
        json_t *id = json_object_get(h, "id"), *from = json_object_get(h, "effective_from");
        json_t *to = json_object_get(h, "effective_to");
        if (!legacy) {
            CHECK(!id && !from && !to, "%s: [%zu] has no id/effective_from/effective_to",
                  what, i);
            continue;
        }
        const char *next = !one && i + 1 < n ? json_string_value(json_object_get(
                                                   json_array_get(a, i + 1), "effective_date"))
                                             : NULL;
        CHECK(json_is_integer(id) && json_integer_value(id) > 0 &&
                  json_equal(from, json_object_get(h, "effective_date")) &&
                  (one || (next ? json_is_string(to) && strcmp(json_string_value(to), next) == 0
                                : json_is_null(to))),
              "%s: [%zu] has id, effective_from = effective_date, effective_to", what, i);
    }
}

static int run_sandbox_status(const char *a1, const char *a2, const char *a3, const char *a4)
{
    const char *bin = getenv("GUSTO_SANDBOX");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --port 0 %s %s %s %s </dev/null >/dev/null 2>&1",
             bin && *bin ? bin : "build/gusto-sandbox", a1, a2, a3, a4);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_api_versions(void)
{
    /* 2026-11-16: 2025-06-15 (sunset 2026-11-17) is still served, 2026-12-01
     * is not released: the newest served, 2026-06-15, is the default. */
    if (!up_at("2026-11-16", NULL))
        { down(); return; }
    vreq(NULL, "GET", "/v1/token_info", NULL);
    served_at("2026-06-15", "11-16, no header: the newest version served that day");
    vreq("2025-06-15", "GET", "/v1/token_info", NULL);
    served_at("2025-06-15", "11-16: 2025-06-15 served the day before its sunset");
    vreq("2026-12-01", "GET", "/v1/token_info", NULL);
    refused("11-16: 2026-12-01 is in the future");
    CHECK(R.body && strstr(R.body, "in the future") &&
              strstr(R.body, "2025-06-15, 2025-11-15, 2026-02-01, 2026-06-15"),
          "11-16: the 406 says why and lists the versions served: %s", R.body ? R.body : "");

    /* 2025-11-15 removed id/effective_from/effective_to from the employee's
     * home addresses; each version's rendering is cached on its own. */
    const char *emp = "/v1/employees/{E1}?include=all_home_addresses,current_home_address";
    vreq("2025-06-15", "GET", emp, NULL);
    served_at("2025-06-15", "employee at 2025-06-15");
    home_shape("all_home_addresses", false, true, "2025-06-15 all_home_addresses");
    home_shape("current_home_address", true, true, "2025-06-15 current_home_address");
    CHECK(jlen(R.json, "all_home_addresses") >= 2, "E1 has an address history (%ld)",
          jlen(R.json, "all_home_addresses"));
    vreq("2025-11-15", "GET", emp, NULL);
    home_shape("all_home_addresses", false, false, "2025-11-15 all_home_addresses");
    home_shape("current_home_address", true, false, "2025-11-15 current_home_address");
    vreq("2025-06-15", "GET", emp, NULL); /* cached now: still its own shape */
    home_shape("all_home_addresses", false, true, "2025-06-15 again (cache)");
    vreq("2026-06-15", "GET", "/v1/companies/{C}/employees?include=current_home_address", NULL);
    home_shape("[0].current_home_address", true, false, "list at 2026-06-15");
    vreq("2025-06-15", "GET", "/v1/companies/{C}/employees?include=current_home_address", NULL);
    home_shape("[0].current_home_address", true, true, "list at 2025-06-15");

    /* 2026-02-01: email is required with self_onboarding. */
    const char *self = "{\"first_name\":\"Vi\",\"last_name\":\"Self\",\"self_onboarding\":true}";
    vreq("2026-02-01", "POST", "/v1/companies/{C}/employees", self);
    CHECK(R.status == 422 && strcmp(jstr(R.json, "errors[0].error_key") ?: "", "email") == 0,
          "2026-02-01: self_onboarding without email is 422 naming email (%ld)", R.status);
    vreq("2025-11-15", "POST", "/v1/companies/{C}/employees", self);
    CHECK_LONG(R.status, 201, "2025-11-15: self_onboarding without email is accepted");

    /* Before 2025-11-15 a per_anniversary_year policy refused a carryover limit. */
    const char *anniv = "{\"name\":\"Anniversary\",\"policy_type\":\"vacation\","
                        "\"accrual_method\":\"per_anniversary_year\",\"accrual_rate\":\"40.0\","
                        "\"carryover_limit_hours\":\"8.0\"}";
    vreq("2025-06-15", "POST", "/v1/companies/{C}/time_off_policies", anniv);
    CHECK(R.status == 422 &&
              strcmp(jstr(R.json, "errors[0].error_key") ?: "", "carryover_limit_hours") == 0,
          "2025-06-15: carryover_limit_hours on per_anniversary_year is 422 (%ld)", R.status);
    vreq("2025-11-15", "POST", "/v1/companies/{C}/time_off_policies", anniv);
    CHECK_LONG(R.status, 201, "2025-11-15: carryover_limit_hours on per_anniversary_year");

    /* --today is the handlers' today too: a birth date after it is refused. */
    vreq(NULL, "POST", "/v1/companies/{C}/employees",
         "{\"first_name\":\"Al\",\"last_name\":\"Late\",\"date_of_birth\":\"2026-11-17\"}");
    CHECK(R.status == 422 &&
              strcmp(jstr(R.json, "errors[0].error_key") ?: "", "date_of_birth") == 0,
          "born the day after --today: 422 (%ld)", R.status);
    vreq(NULL, "POST", "/v1/companies/{C}/employees",
         "{\"first_name\":\"Al\",\"last_name\":\"Now\",\"date_of_birth\":\"2026-11-16\"}");
    CHECK_LONG(R.status, 201, "born on --today: accepted");
    CHECK(strncmp(jstr(R.json, "created_at") ?: "?", "2026-11-16", 10) == 0 ||
              !jget(R.json, "created_at"),
          "timestamps fall on --today (%s)", jstr(R.json, "created_at") ?: "none");
    down();

    /* 2026-11-17 is 2025-06-15's final sunset: still served that day. */
    if (!up_at("2026-11-17", NULL))
        { down(); return; }
    vreq("2025-06-15", "GET", "/v1/token_info", NULL);
    served_at("2025-06-15", "11-17: served on its final sunset day");
    down();

    /* 2026-11-18: retired. */
    if (!up_at("2026-11-18", NULL))
        { down(); return; }
    vreq("2025-06-15", "GET", "/v1/token_info", NULL);
    refused("11-18: 2025-06-15 is retired");
    CHECK(R.body && strstr(R.body, "retired") &&
              strstr(R.body, "versions served on 2026-11-18: 2025-11-15, 2026-02-01, 2026-06-15)"),
          "11-18: the 406 lists the versions served: %s", R.body ? R.body : "");
    vreq("2025-11-15", "GET", "/v1/token_info", NULL);
    served_at("2025-11-15", "11-18: 2025-11-15 served (positive control)");
    down();

    /* --default-version: the app's default, used without a header. */
    if (!up_at("2026-12-03", "2025-11-15"))
        { down(); return; }
    vreq(NULL, "GET", "/v1/token_info", NULL);
    served_at("2025-11-15", "no header: --default-version");
    vreq(NULL, "POST", "/v1/companies/{C}/employees", self);
    CHECK_LONG(R.status, 201, "no header at default 2025-11-15: its rules (email optional)");
    vreq("2026-12-01", "GET", "/v1/token_info", NULL);
    served_at("2026-12-01", "12-03: 2026-12-01 served");
    down();

    CHECK_LONG(run_sandbox_status("--today", "2026-12-03", "--default-version", "2025-06-15"),
               2, "--default-version of a retired version: exit 2");
    CHECK_LONG(run_sandbox_status("--today", "2026-13-01", "", ""), 2, "--today not a date: exit 2");
    CHECK_LONG(run_sandbox_status("--help", "", "", ""), 0, "--help: exit 0 (control)");
}

/* ---- webhooks: the handshake, every Employee event, retries ------------------------ */

/* A webhook receiver on 127.0.0.1 (libmicrohttpd): records every POST it
 * receives (body and X-Gusto-Signature) and answers 500 to the first
 * `fail_first` POSTs whose body holds `fail_match` (every one of them with
 * fail_first < 0), 200 otherwise. */
#define RX_MAX 512
struct rx {
    struct MHD_Daemon *d;
    unsigned port;
    char url[64];
    pthread_mutex_t lock;
    int n;
    char *body[RX_MAX];
    char sig[RX_MAX][80];
    bool had_sig[RX_MAX];
    char fail_match[64];
    int fail_first;
    int failed;
};

struct rx_conn {
    char *buf;
    size_t len;
};

static enum MHD_Result rx_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)url;
    (void)method;
    (void)version;
    struct rx *x = cls;
    struct rx_conn *c = *con_cls;
    if (!c) {
        *con_cls = calloc(1, sizeof *c);
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        char *nb = realloc(c->buf, c->len + *upload_size + 1);
        if (!nb)
            return MHD_NO;
        memcpy(nb + c->len, upload, *upload_size);
        c->buf = nb;
        c->len += *upload_size;
        c->buf[c->len] = 0;
        *upload_size = 0;
        return MHD_YES;
    }
    const char *sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Gusto-Signature");
    unsigned status = 200;
    pthread_mutex_lock(&x->lock);
    if (x->n < RX_MAX) {
        x->body[x->n] = c->buf ? c->buf : strdup("");
        c->buf = NULL;
        x->had_sig[x->n] = sig != NULL;
        snprintf(x->sig[x->n], sizeof x->sig[0], "%s", sig ? sig : "");
        if (x->fail_match[0] && strstr(x->body[x->n], x->fail_match) &&
            (x->fail_first < 0 || x->failed < x->fail_first)) {
            x->failed++;
            status = 500;
        }
        x->n++;
    }
    pthread_mutex_unlock(&x->lock);
    struct MHD_Response *r = MHD_create_response_from_buffer(2, (void *)"{}",
                                                             MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void rx_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct rx_conn *c = *con_cls;
    if (c) {
        free(c->buf);
        free(c);
    }
    *con_cls = NULL;
}

static bool rx_start(struct rx *x)
{
    memset(x, 0, sizeof *x);
    pthread_mutex_init(&x->lock, NULL);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    x->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                            NULL, NULL, rx_handle, x, MHD_OPTION_SOCK_ADDR, &addr,
                            MHD_OPTION_NOTIFY_COMPLETED, rx_done, NULL, MHD_OPTION_END);
    const union MHD_DaemonInfo *di = x->d ? MHD_get_daemon_info(x->d, MHD_DAEMON_INFO_BIND_PORT)
                                          : NULL;
    x->port = di ? di->port : 0;
    snprintf(x->url, sizeof x->url, "http://127.0.0.1:%u/hook", x->port);
    return CHECK(x->d && x->port, "webhook receiver listens on 127.0.0.1:%u", x->port);
}

static void rx_stop(struct rx *x)
{
    if (x->d)
        MHD_stop_daemon(x->d);
    for (int i = 0; i < x->n; i++)
        free(x->body[i]);
    pthread_mutex_destroy(&x->lock);
    memset(x, 0, sizeof *x);
}

/* How many recorded POSTs hold `needle` ("" = all). */
static int rx_count(struct rx *x, const char *needle)
{
    pthread_mutex_lock(&x->lock);
    int k = 0;
    for (int i = 0; i < x->n; i++)
        k += strstr(x->body[i], needle) != NULL;
    pthread_mutex_unlock(&x->lock);
    return k;
}

/* Wait (up to 10 s) until at least `want` POSTs hold needle; the count. */
static int rx_wait(struct rx *x, const char *needle, int want)
{
    int k = 0;
    for (int i = 0; i < 1000 && (k = rx_count(x, needle)) < want; i++)
        usleep(10000);
    return k;
}

static bool valid_uuid_text(const char *u)
{
    if (strlen(u) != 36)
        return false;
    for (int i = 0; i < 36; i++)
        if ((i == 8 || i == 13 || i == 18 || i == 23) ? u[i] != '-' : !isxdigit((unsigned char)u[i]))
            return false;
    return true;
}

static void hmac_hex(const char *key, const char *body, char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, strlen(body), mac,
         &n);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", i < n ? mac[i] : 0);
    out[64] = 0;
}

/* Subscribe the receiver to Employee events with token T and verify it the
 * way Gusto documents: read the token from the handshake, PUT .../verify.
 * The verification token in tok. */
static bool subscribe_to(struct rx *x, char tok[128], const char *types)
{
    char body[256];
    snprintf(body, sizeof body, "{\"url\":\"%s\",\"subscription_types\":[%s]}", x->url,
             types);
    req(&R, "POST", T, body, "/v1/webhook_subscriptions");
    if (!CHECK(R.status == 201 && jstr(R.json, "uuid"), "subscription created (%ld)", R.status))
        return false;
    CHECK_STR(jstr(R.json, "status"), "pending", "a new subscription is pending");
    char sub[64];
    snprintf(sub, sizeof sub, "%s", jstr(R.json, "uuid"));
    if (!CHECK(rx_wait(x, "verification_token", 1) == 1, "the handshake arrives"))
        return false;
    pthread_mutex_lock(&x->lock);
    json_t *hs = json_loads(x->body[0], 0, NULL);
    bool sig = x->had_sig[0];
    pthread_mutex_unlock(&x->lock);
    /* Both webhooks guides: {"verification_token": "..."} and nothing else. */
    CHECK(json_object_size(hs) == 1 && jstr(hs, "verification_token"),
          "the handshake carries verification_token alone");
    CHECK(!sig, "the handshake is not signed");
    snprintf(tok, 128, "%s", jstr(hs, "verification_token") ? jstr(hs, "verification_token")
                                                             : "");
    json_decref(hs);
    req(&R, "PUT", T, "{\"verification_token\":\"wrong\"}", "/v1/webhook_subscriptions/%s/verify",
        sub);
    CHECK_LONG(R.status, 422, "verify with a wrong token: 422");
    snprintf(body, sizeof body, "{\"verification_token\":\"%s\"}", tok);
    req(&R, "PUT", T, body, "/v1/webhook_subscriptions/%s/verify", sub);
    return CHECK(R.status == 200 && jstr(R.json, "status") &&
                     strcmp(jstr(R.json, "status"), "verified") == 0,
                 "verified with the handshake's token (%ld)", R.status);
}

static bool subscribe(struct rx *x, char tok[128])
{
    return subscribe_to(x, tok, "\"Employee\"");
}

static long fire(const char *type, const char *emp)
{
    char body[200];
    snprintf(body, sizeof body, "{\"event_type\":\"%s\",\"entity_uuid\":\"%s\"}", type, emp);
    return req(&R, "POST", T, body, "/sandbox/webhook_events");
}

/* Every Employee event of Gusto's list reaches the receiver once, with the
 * documented fields, signed with the verification token. */
static void test_webhook_events(void)
{
    if (!up())
        return down();
    struct rx x;
    char tok[128];
    if (!rx_start(&x) || !subscribe(&x, tok)) {
        rx_stop(&x);
        return down();
    }
    /* Raised by the endpoints themselves. */
    req(&R, "POST", T,
        "{\"first_name\":\"Hook\",\"last_name\":\"Self\",\"email\":\"hook.self@example.com\","
        "\"self_onboarding\":true}", "/v1/companies/%s/employees", SB.company);
    CHECK_LONG(R.status, 201, "create a self-onboarding employee");
    char nu[40], ver[40];
    snprintf(nu, sizeof nu, "%s", jstr(R.json, "uuid") ? jstr(R.json, "uuid") : "");
    snprintf(ver, sizeof ver, "%s", jstr(R.json, "version") ? jstr(R.json, "version") : "");
    char body[200];
    snprintf(body, sizeof body, "{\"version\":\"%s\",\"preferred_first_name\":\"Hooky\"}", ver);
    req(&R, "PUT", T, body, "/v1/employees/%s", nu);
    CHECK_LONG(R.status, 200, "update it");
    req(&R, "DELETE", T, NULL, "/v1/employees/%s", nu);
    CHECK_LONG(R.status, 204, "delete it (still onboarding)");
    req(&R, "POST", T, "{\"effective_date\":\"2026-11-30\"}", "%s",
        P("/v1/employees/{E0}/terminations"));
    CHECK_LONG(R.status, 201, "terminate E0 on a past date");
    req(&R, "POST", T, P("{\"effective_date\":\"2026-12-01\",\"file_new_hire_report\":false,"
                         "\"work_location_uuid\":\"{L0}\"}"), "%s",
        P("/v1/employees/{E0}/rehire"));
    CHECK_LONG(R.status, 201, "rehire E0 on a past date");
    req(&R, "POST", T, "{\"effective_date\":\"2099-01-01\"}", "%s",
        P("/v1/employees/{E1}/terminations"));
    CHECK_LONG(R.status, 201, "terminate E1 in the future");
    req(&R, "DELETE", T, NULL, "%s", P("/v1/employees/{E1}/terminations"));
    CHECK_LONG(R.status, 204, "cancel that termination");
    /* Fired by hand: what no sandbox endpoint raises. */
    static const char *const by_hand[] = {
        "employee.onboarded", "employee.self_onboarding_completed", "employee.rehire_cancelled",
        "employee.payment_method_type_updated", "employee.payment_method.deleted",
        "employee.invited_to_partner_portal"};
    for (size_t i = 0; i < NELEM(by_hand); i++)
        CHECK_LONG(fire(by_hand[i], tu_getvar("E2")), 202, by_hand[i]);
    CHECK_LONG(fire("employee.exploded", tu_getvar("E2")), 422, "an unknown event type: 422");
    CHECK_STR(jstr(R.json, "errors[0].error_key"), "event_type", "naming event_type");
    CHECK_LONG(fire("employee.onboarded", tu_getvar("OE0")), 404,
               "another company's employee: 404");

    struct {
        const char *type;
        const char *emp;
    } want[] = {
        {"employee.created", nu},
        {"employee.marked_for_self_onboarding", nu},
        {"employee.updated", nu},
        {"employee.deleted", nu},
        {"employee.terminated", tu_getvar("E0")},
        {"employee.termination_effective", tu_getvar("E0")},
        {"employee.rehired", tu_getvar("E0")},
        {"employee.rehire_effective", tu_getvar("E0")},
        {"employee.terminated", tu_getvar("E1")},
        {"employee.termination_cancelled", tu_getvar("E1")},
        {"employee.onboarded", tu_getvar("E2")},
        {"employee.self_onboarding_completed", tu_getvar("E2")},
        {"employee.rehire_cancelled", tu_getvar("E2")},
        {"employee.payment_method_type_updated", tu_getvar("E2")},
        {"employee.payment_method.deleted", tu_getvar("E2")},
        {"employee.invited_to_partner_portal", tu_getvar("E2")},
    };
    int n = rx_wait(&x, "\"event_type\"", (int)NELEM(want));
    CHECK_LONG(n, (long)NELEM(want), "one delivery per event, no more");
    /* The last delivery came after the failed fires: none of those leaked. */
    CHECK_LONG(rx_count(&x, "employee.exploded"), 0, "the refused event was not delivered");
    CHECK_LONG(rx_count(&x, tu_getvar("OE0")), 0, "nor the other company's");
    for (size_t w = 0; w < NELEM(want); w++) {
        bool found = false;
        pthread_mutex_lock(&x.lock);
        for (int i = 1; i < x.n && !found; i++) {
            json_t *ev = json_loads(x.body[i], 0, NULL);
            const char *et = jstr(ev, "event_type"), *eu = jstr(ev, "entity_uuid");
            if (et && eu && strcmp(et, want[w].type) == 0 && strcmp(eu, want[w].emp) == 0) {
                found = true;
                char mac[65];
                hmac_hex(tok, x.body[i], mac);
                const char *uuid = jstr(ev, "uuid");
                CHECK(json_object_size(ev) == 7 && uuid && valid_uuid_text(uuid) &&
                          jstr(ev, "resource_type") &&
                          strcmp(jstr(ev, "resource_type"), "Company") == 0 &&
                          jstr(ev, "resource_uuid") &&
                          strcmp(jstr(ev, "resource_uuid"), SB.company) == 0 &&
                          jstr(ev, "entity_type") &&
                          strcmp(jstr(ev, "entity_type"), "Employee") == 0 &&
                          json_is_integer(jget(ev, "timestamp")) &&
                          jint(ev, "timestamp", 0) > 1700000000,
                      "%s: uuid, event_type, resource_type, resource_uuid, entity_type, "
                      "entity_uuid, timestamp: %s", want[w].type, x.body[i]);
                CHECK(strcmp(x.sig[i], mac) == 0,
                      "%s: X-Gusto-Signature is the hex HMAC-SHA256 of the body", want[w].type);
            }
            json_decref(ev);
        }
        pthread_mutex_unlock(&x.lock);
        CHECK(found, "%s for %s delivered", want[w].type, want[w].emp);
    }
    rx_stop(&x);
    down();
}

/* The people_batch.* events of Gusto's "People batch webhooks" page:
 * completed for a full or partial success, failed when nothing was
 * processed; entity_type PeopleBatch and references.batch_uuid. */
static void test_webhook_people_batch(void)
{
    if (!up())
        return down();
    struct rx x;
    char tok[128];
    if (!rx_start(&x) || !subscribe_to(&x, tok, "\"PeopleBatch\"")) {
        rx_stop(&x);
        return down();
    }
    static const char *const bodies[] = {
        /* one person: completed */
        "{\"idempotency_key\":\"6c0b8f0e-4f7a-4a57-9a55-7d0c1b9e0a01\",\"batch_action\":"
        "\"create\",\"batch\":[{\"entity_type\":\"employee\",\"person\":{\"external_id\":"
        "\"w-1\",\"first_name\":\"Web\",\"last_name\":\"Hook\"}}]}",
        /* both entries excluded, nobody processed: failed */
        "{\"idempotency_key\":\"6c0b8f0e-4f7a-4a57-9a55-7d0c1b9e0a02\",\"batch_action\":"
        "\"create\",\"batch\":[{\"entity_type\":\"employee\",\"person\":{\"external_id\":"
        "\"w-2\",\"first_name\":\"A\",\"last_name\":\"B\"}},{\"entity_type\":\"employee\","
        "\"person\":{\"external_id\":\"w-2\",\"first_name\":\"C\",\"last_name\":\"D\"}}]}",
    };
    static const char *const want[] = {"people_batch.completed", "people_batch.failed"};
    char uuid[2][40];
    for (size_t i = 0; i < NELEM(bodies); i++) {
        req(&R, "POST", T, bodies[i], "/v1/companies/%s/people_batches", SB.company);
        CHECK_LONG(R.status, 201, "batch accepted");
        snprintf(uuid[i], sizeof uuid[i], "%s", jstr(R.json, "uuid") ? jstr(R.json, "uuid") : "");
        /* Wait for this one's event before the next, so the order is known. */
        CHECK_LONG(rx_wait(&x, "people_batch.", (int)i + 1), (long)i + 1, want[i]);
    }
    CHECK_LONG(rx_count(&x, "people_batch."), 2, "one event per batch");
    CHECK_LONG(rx_count(&x, "employee.created"), 0,
               "no Employee event: the subscription is to PeopleBatch only");
    for (size_t i = 0; i < NELEM(want); i++) {
        bool found = false;
        pthread_mutex_lock(&x.lock);
        for (int k = 1; k < x.n && !found; k++) {
            json_t *ev = json_loads(x.body[k], 0, NULL);
            const char *et = jstr(ev, "event_type");
            if (et && strcmp(et, want[i]) == 0) {
                found = true;
                char mac[65];
                hmac_hex(tok, x.body[k], mac);
                CHECK(jstr(ev, "entity_type") && strcmp(jstr(ev, "entity_type"), "PeopleBatch") == 0 &&
                          jstr(ev, "entity_uuid") && strcmp(jstr(ev, "entity_uuid"), uuid[i]) == 0 &&
                          jstr(ev, "references.batch_uuid") &&
                          strcmp(jstr(ev, "references.batch_uuid"), uuid[i]) == 0 &&
                          jstr(ev, "resource_uuid") &&
                          strcmp(jstr(ev, "resource_uuid"), SB.company) == 0,
                      "%s: entity PeopleBatch, references.batch_uuid: %s", want[i], x.body[k]);
                CHECK(strcmp(x.sig[k], mac) == 0, "%s is signed like the others", want[i]);
            }
            json_decref(ev);
        }
        pthread_mutex_unlock(&x.lock);
        CHECK(found, "%s delivered", want[i]);
    }
    rx_stop(&x);
    down();
}

/* Backoff (--webhook-backoff-ms): a delivery that fails 3 times is retried
 * until it succeeds, then never again; one that always fails is tried
 * 1 + 16 times, Gusto's count, then given up.  Attempts are counted, not
 * timed: the next event, queued after the last attempt, arrives after any
 * further attempt would have. */
static void retries_case(const char *backoff, int fail_first, int want_attempts,
                         const char *what)
{
    memset(&R, 0, sizeof R);
    const char *args[] = {"--seed", "demo", "--rate-limit", "0", "--token", T,
                          "--webhook-backoff-ms", backoff, NULL};
    if (!sb_startv(&SB, args) || !load_ids())
        return down();
    struct rx x;
    char tok[128];
    if (!rx_start(&x) || !subscribe(&x, tok)) {
        rx_stop(&x);
        return down();
    }
    snprintf(x.fail_match, sizeof x.fail_match, "%s", tu_getvar("E0"));
    x.fail_first = fail_first;
    CHECK_LONG(fire("employee.onboarded", tu_getvar("E0")), 202, "event A");
    int a = rx_wait(&x, tu_getvar("E0"), want_attempts);
    CHECK_LONG(a, want_attempts, what);
    CHECK_LONG(fire("employee.onboarded", tu_getvar("E1")), 202, "event B");
    CHECK_LONG(rx_wait(&x, tu_getvar("E1"), 1), 1, "event B delivered once");
    CHECK_LONG(rx_count(&x, tu_getvar("E0")), want_attempts,
               "no attempt of A after its last one");
    pthread_mutex_lock(&x.lock);
    int same = 0;
    const char *first = NULL;
    for (int i = 0; i < x.n; i++)
        if (strstr(x.body[i], tu_getvar("E0"))) {
            first = first ? first : x.body[i];
            same += strcmp(first, x.body[i]) == 0;
        }
    pthread_mutex_unlock(&x.lock);
    CHECK_LONG(same, want_attempts, "every attempt is the same event (same uuid, same body)");
    rx_stop(&x);
    down();
}

static void test_webhook_retries(void)
{
    retries_case("1", 3, 4, "3 failures, then success: 4 attempts");
    retries_case("0", -1, 17, "always failing: the first try and 16 retries");
}

/* 422s name the resource in the path: metadata {entity_type, entity_uuid}. */
static const struct http_case METADATA_CASES[] = {
    {"employee update, blank first_name", "PUT", "/v1/employees/{E0}", T,
     "{\"version\":\"{V}\",\"first_name\":\"\"}", 422,
     {"errors[0].error_key=first_name", "errors[0].metadata.entity_type=Employee",
      "errors[0].metadata.entity_uuid={E0}"}},
    {"employee create, no last_name", "POST", "/v1/companies/{C}/employees", T,
     "{\"first_name\":\"X\"}", 422,
     {"errors[0].metadata.entity_type=Company", "errors[0].metadata.entity_uuid={C}"}},
    {"location create, bad state", "POST", "/v1/companies/{C}/locations", T,
     "{\"street_1\":\"1 A St\",\"city\":\"Austin\",\"state\":\"ZZ\",\"zip\":\"78701\","
     "\"phone_number\":\"5125550100\"}", 422,
     {"errors[0].metadata.entity_type=Company", "errors[0].metadata.entity_uuid={C}"}},
    {"termination, bad date", "POST", "/v1/employees/{E0}/terminations", T,
     "{\"effective_date\":\"soon\"}", 422,
     {"errors[0].error_key=effective_date", "errors[0].metadata.entity_type=Employee",
      "errors[0].metadata.entity_uuid={E0}"}},
    {"a 422 from reply_error: deleting an onboarded employee", "DELETE", "/v1/employees/{E0}",
     T, NULL, 422,
     {"errors[0].category=invalid_operation", "errors[0].metadata.entity_type=Employee",
      "errors[0].metadata.entity_uuid={E0}"}},
    {"a 404 carries no metadata", "GET", "/v1/employees/{NIL}", T, NULL, 404,
     {"!errors[0].metadata"}},
};

static void test_error_metadata(void)
{
    if (!up())
        return down();
    char v[64];
    tu_var("V", version_at(v, P("/v1/employees/{E0}")));
    tu_var("NIL", NIL_UUID);
    run_cases(METADATA_CASES, NELEM(METADATA_CASES));
    down();
}

/* ---- around the employee record ------------------------------------------- */

#define CR "cr" /* companies:read only: every endpoint below refuses it */

static const struct http_case AROUND_CASES[] = {
    {"onboarding status, onboarded", "GET", "/v1/employees/{E0}/onboarding_status", T, NULL,
     200,
     {"uuid={E0}", "onboarding_status=onboarding_completed", "onboarding_steps#=9",
      "onboarding_steps[0].id=personal_details", "onboarding_steps[4].completed=true",
      "onboarding_steps[6].required=false", "onboarding_steps[8].id=file_new_hire_report"}},
    {"onboarding status, onboarding", "GET", "/v1/employees/{E48}/onboarding_status", T, NULL,
     200,
     {"onboarding_status=admin_onboarding_incomplete", "onboarding_steps[2].completed=true",
      "onboarding_steps[4].completed=false", "onboarding_steps[5].requirements#=2",
      "onboarding_steps[5].requirements[0]=add_work_address"}},
    {"onboarding status, scope", "GET", "/v1/employees/{E0}/onboarding_status", CR, NULL, 403,
     {"errors[0].category=missing_oauth_scopes",
      "errors[0].metadata.missing_scope_name=employees:read"}},
    {"onboarding status, unknown", "GET", "/v1/employees/{NIL}/onboarding_status", T, NULL, 404,
     {"errors[0].category=not_found"}},
    {"onboarding status, other company's", "GET", "/v1/employees/{OE0}/onboarding_status", T,
     NULL, 404, {"errors[0].category=not_found"}},
    {"onboarding update, not a documented change", "PUT",
     "/v1/employees/{E48}/onboarding_status", T,
     "{\"onboarding_status\":\"self_onboarding_awaiting_admin_review\"}", 422,
     {"errors#=1", "errors[0].error_key=onboarding_status",
      "errors[0].category=invalid_attribute_value", "errors[0].metadata.entity_uuid={E48}"}},
    {"onboarding update, unknown status", "PUT", "/v1/employees/{E48}/onboarding_status", T,
     "{\"onboarding_status\":\"done\"}", 422, {"errors[0].error_key=onboarding_status"}},
    {"onboarding update, no status", "PUT", "/v1/employees/{E48}/onboarding_status", T, "{}",
     422, {"errors[0].error_key=onboarding_status"}},
    {"onboarding update, scope", "PUT", "/v1/employees/{E48}/onboarding_status", RO,
     "{\"onboarding_status\":\"self_onboarding_pending_invite\"}", 403,
     {"errors[0].metadata.missing_scope_name=employees:manage"}},
    {"onboarding update, unknown", "PUT", "/v1/employees/{NIL}/onboarding_status", T,
     "{\"onboarding_status\":\"self_onboarding_pending_invite\"}", 404, {NULL}},
    {"mark as self-onboarding", "PUT", "/v1/employees/{E48}/onboarding_status", T,
     "{\"onboarding_status\":\"self_onboarding_pending_invite\"}", 200,
     {"onboarding_status=self_onboarding_pending_invite", "onboarding_steps#=10",
      "onboarding_steps[9].id=admin_review", "onboarding_steps[9].completed=false"}},
    {"the employee shows it", "GET", "/v1/employees/{E48}", T, NULL, 200,
     {"onboarding_status=self_onboarding_pending_invite", "onboarded=false"}},
    {"pending invite cannot be finished", "PUT", "/v1/employees/{E48}/onboarding_status", T,
     "{\"onboarding_status\":\"onboarding_completed\"}", 422,
     {"errors[0].error_key=onboarding_status"}},
    {"cancel self-onboarding", "PUT", "/v1/employees/{E48}/onboarding_status", T,
     "{\"onboarding_status\":\"admin_onboarding_incomplete\"}", 200,
     {"onboarding_status=admin_onboarding_incomplete", "onboarding_steps#=9"}},
    {"finish onboarding", "PUT", "/v1/employees/{E48}/onboarding_status", T,
     "{\"onboarding_status\":\"onboarding_completed\"}", 200,
     {"onboarding_status=onboarding_completed", "onboarding_steps[4].completed=true"}},
    {"finished employee is onboarded", "GET", "/v1/employees/{E48}", T, NULL, 200,
     {"onboarded=true", "onboarding_status=onboarding_completed"}},
    {"invite needs an email, a job and a work address", "PUT", "/v1/employees/{NEW}/onboarding_status",
     T, "{\"onboarding_status\":\"self_onboarding_invited\"}", 422,
     {"errors#=3", "errors[0].error_key=email", "errors[1].error_key=compensation_details",
      "errors[2].error_key=add_work_address"}},
    {"finish needs the data steps", "PUT", "/v1/employees/{NEW}/onboarding_status", T,
     "{\"onboarding_status\":\"onboarding_completed\"}", 422,
     {"errors#=4", "errors[0].error_key=personal_details",
      "errors[3].error_key=add_home_address"}},

    {"employment history", "GET", "/v1/employees/{E0}/employment_history", T, NULL, 200,
     {"#=1", "[0].hire_date=2018-01-15", "[0].termination_date=null",
      "[0].employment_status=full_time", "[0].file_new_hire_report=false",
      "[0].two_percent_shareholder=false"}},
    {"employment history, terminated", "GET", "/v1/employees/{E43}/employment_history", T,
     NULL, 200, {"#=1", "[0].termination_date={TERM43}"}},
    {"employment history, scope", "GET", "/v1/employees/{E0}/employment_history", RO, NULL,
     403, {"errors[0].metadata.missing_scope_name=employments:read"}},
    {"employment history, unknown", "GET", "/v1/employees/{NIL}/employment_history", T, NULL,
     404, {"errors[0].category=not_found"}},

    {"pay schedules", "GET", "/v1/companies/{C}/pay_schedules", T, NULL, 200,
     {"#=1", "[0].uuid={PS}", "[0].frequency=Twice per month", "[0].day_1=15",
      "[0].version?", "[0].active=true", "!@X-Page"}},
    {"pay schedules, a page", "GET", "/v1/companies/{C}/pay_schedules?page=2&per=1", T, NULL,
     200, {"#=0", "@X-Total-Count=1"}},
    {"pay schedule", "GET", "/v1/companies/{C}/pay_schedules/{PS}", T, NULL, 200,
     {"uuid={PS}", "custom_name=Semimonthly", "anchor_pay_date=2026-01-15"}},
    {"pay schedule, other company's", "GET", "/v1/companies/{OC}/pay_schedules/{OPS}", T, NULL,
     404, {"errors[0].category=not_found"}},
    {"pay schedule of another company under mine", "GET",
     "/v1/companies/{C}/pay_schedules/{OPS}", T, NULL, 404, {NULL}},
    {"pay schedule, unknown", "GET", "/v1/companies/{C}/pay_schedules/{NIL}", T, NULL, 404,
     {NULL}},
    {"pay schedules, scope", "GET", "/v1/companies/{C}/pay_schedules", CR, NULL, 403,
     {"errors[0].metadata.missing_scope_name=pay_schedules:read"}},
    {"assignments", "GET", "/v1/companies/{C}/pay_schedules/assignments", T, NULL, 200,
     {"type=single", "default_pay_schedule_uuid={PS}", "employees=null"}},
    {"assignments, scope", "GET", "/v1/companies/{C}/pay_schedules/assignments", CR, NULL,
     403, {"errors[0].metadata.missing_scope_name=pay_schedules:read"}},
    {"pay periods", "GET",
     "/v1/companies/{C}/pay_periods?start_date=2026-10-01&end_date=2026-11-30", T, NULL, 200,
     {"#=4", "[0].start_date=2026-10-01", "[0].end_date=2026-10-15", "[1].end_date=2026-10-31",
      "[3].start_date=2026-11-16", "[0].pay_schedule_uuid={PS}", "[0].payroll.check_date=2026-10-15",
      "[0].payroll.payroll_type=regular"}},
    {"pay periods, transition only", "GET",
     "/v1/companies/{C}/pay_periods?start_date=2026-10-01&end_date=2026-11-30&payroll_types="
     "transition", T, NULL, 200, {"#=0"}},
    {"pay periods, bad date", "GET", "/v1/companies/{C}/pay_periods?start_date=10/01/2026", T,
     NULL, 422, {"errors[0].error_key=start_date"}},
    {"pay periods, too far ahead", "GET", "/v1/companies/{C}/pay_periods?end_date=2099-01-01",
     T, NULL, 422, {"errors[0].error_key=end_date"}},
    {"pay periods, scope", "GET", "/v1/companies/{C}/pay_periods", CR, NULL, 403,
     {"errors[0].metadata.missing_scope_name=payrolls:read"}},
    {"pay periods, other company", "GET", "/v1/companies/{OC}/pay_periods", T, NULL, 404,
     {NULL}},

    {"earning types", "GET", "/v1/companies/{C}/earning_types", T, NULL, 200,
     {"default#=7", "default[0].name=Bonus", "default[6].name=Severance",
      "default[0].active=true", "custom#=1", "custom[0].name=Gym Membership Stipend"}},
    {"earning types, other company's own", "GET", "/v1/companies/{OC}/earning_types", OTH,
     NULL, 200, {"default#=7", "custom#=0"}},
    {"earning types, scope", "GET", "/v1/companies/{C}/earning_types", CR, NULL, 403,
     {"errors[0].metadata.missing_scope_name=payrolls:read"}},
    {"earning types, unknown company", "GET", "/v1/companies/{NIL}/earning_types", T, NULL, 404,
     {NULL}},

    {"contractors", "GET", "/v1/companies/{C}/contractors", T, NULL, 200,
     {"#=2", "[0].uuid={K}", "[0].type=Individual", "[0].wage_type=Hourly",
      "[0].hourly_rate=85.00", "[1].type=Business", "[1].business_name=Northwind Design LLC",
      "[0].company_uuid={C}"}},
    {"contractors, onboarded", "GET", "/v1/companies/{C}/contractors?onboarded=false", T, NULL,
     200, {"#=1", "[0].onboarding_status=admin_onboarding_incomplete"}},
    {"contractors, search", "GET", "/v1/companies/{C}/contractors?search_term=northwind", T,
     NULL, 200, {"#=1", "[0].type=Business"}},
    {"contractors, a page", "GET", "/v1/companies/{C}/contractors?page=1&per=1", T, NULL, 200,
     {"#=1", "@X-Total-Count=2", "@X-Total-Pages=2"}},
    {"contractors, bad flag", "GET", "/v1/companies/{C}/contractors?onboarded=yes", T, NULL,
     422, {"errors[0].error_key=onboarded"}},
    {"contractors, none unless seeded", "GET", "/v1/companies/{OC}/contractors", OTH, NULL,
     200, {"#=0"}},
    {"contractors, scope", "GET", "/v1/companies/{C}/contractors", CR, NULL, 403,
     {"errors[0].metadata.missing_scope_name=contractors:read"}},
    {"contractor", "GET", "/v1/contractors/{K}", T, NULL, 200,
     {"uuid={K}", "first_name=Kai", "version?", "address.city=San Francisco"}},
    {"contractor, other company's token", "GET", "/v1/contractors/{K}", OTH, NULL, 404,
     {"errors[0].category=not_found"}},
    {"contractor, unknown", "GET", "/v1/contractors/{NIL}", T, NULL, 404, {NULL}},
    {"contractor, scope", "GET", "/v1/contractors/{K}", CR, NULL, 403,
     {"errors[0].metadata.missing_scope_name=contractors:read"}},

    {"signatories", "GET", "/v1/companies/{C}/signatories", T, NULL, 200,
     {"#=1", "[0].first_name=Morgan", "[0].is_admin=true", "[0].uuid?", "[0].version?",
      "[0].home_address.state=CA"}},
    {"signatories, scope", "GET", "/v1/companies/{C}/signatories", CR, NULL, 403,
     {"errors[0].metadata.missing_scope_name=signatories:read"}},
    {"signatories, other company", "GET", "/v1/companies/{OC}/signatories", T, NULL, 404,
     {NULL}},
    {"federal tax details", "GET", "/v1/companies/{C}/federal_tax_details", T, NULL, 200,
     {"legal_name=Acme Demo Co", "filing_form=941", "tax_payer_type=C-Corporation",
      "ein_verification.status=verified", "version?"}},
    {"federal tax details, scope", "GET", "/v1/companies/{C}/federal_tax_details", CR, NULL,
     403, {"errors[0].metadata.missing_scope_name=company_federal_taxes:read"}},
    {"federal tax details, unknown company", "GET", "/v1/companies/{NIL}/federal_tax_details",
     T, NULL, 404, {NULL}},
    {"tax requirements", "GET", "/v1/companies/{C}/tax_requirements/CO", T, NULL, 200,
     {"company_uuid={C}", "state=CO", "requirement_sets#=2",
      "requirement_sets[0].key=registrations", "requirement_sets[0].requirements[0].value=null",
      "requirement_sets[1].requirements[0].metadata.type=select"}},
    {"tax requirements, not a state", "GET", "/v1/companies/{C}/tax_requirements/ZZ", T, NULL,
     404, {"errors[0].category=not_found"}},
    {"tax requirements, scope", "GET", "/v1/companies/{C}/tax_requirements/CO", CR, NULL, 403,
     {"errors[0].metadata.missing_scope_name=company_tax_requirements:read"}},
    {"tax requirements, other company", "GET", "/v1/companies/{OC}/tax_requirements/CO", T,
     NULL, 404, {NULL}},

    {"time-off requests", "GET", "/v1/companies/{C}/time_off/requests", T, NULL, 200,
     {"#=3", "[0].status=pending", "[0].days.2026-12-21=8.000", "[0].employee.uuid={E0}",
      "[1].status=declined", "[2].status=approved", "[2].approver.uuid?", "[0].approver=null"}},
    {"time-off requests, ascending", "GET", "/v1/companies/{C}/time_off/requests?sort_order=asc",
     T, NULL, 200, {"#=3", "[0].status=approved"}},
    {"time-off requests, status", "GET",
     "/v1/companies/{C}/time_off/requests?status=approved,declined", T, NULL, 200, {"#=2"}},
    {"time-off requests, employee", "GET",
     "/v1/companies/{C}/time_off/requests?employee_uuids={E1}", T, NULL, 200,
     {"#=1", "[0].employee.uuid={E1}"}},
    {"time-off requests, dates", "GET",
     "/v1/companies/{C}/time_off/requests?start_date=2026-12-01&end_date=2026-12-10", T, NULL,
     200, {"#=1", "[0].status=declined"}},
    {"time-off requests, bad status", "GET", "/v1/companies/{C}/time_off/requests?status=ok", T,
     NULL, 422, {"errors[0].error_key=status"}},
    {"time-off requests, scope", "GET", "/v1/companies/{C}/time_off/requests", CR, NULL, 403,
     {"errors[0].metadata.missing_scope_name=time_off_requests:read"}},
    {"time-off request", "GET", "/v1/time_off/requests/{TOR}", T, NULL, 200,
     {"uuid={TOR}", "status=pending", "policy_type=vacation", "employee_note=Family visit",
      "employer_note=null"}},
    {"time-off request, other company's token", "GET", "/v1/time_off/requests/{TOR}", OTH,
     NULL, 404, {NULL}},
    {"time-off request, unknown", "GET", "/v1/time_off/requests/{NIL}", T, NULL, 404, {NULL}},
    {"time-off balances", "GET", "/v1/companies/{C}/time_off/balances?employee_uuids={E0}", T,
     NULL, 200,
     {"#=1", "[0].employee_uuid={E0}", "[0].balances#=2", "[0].balances[0].pending_hours=16.000",
      "[0].balances[0].used_hours=16.000", "[0].balances[1].pending_hours=0.000"}},
    {"time-off balances, a page", "GET", "/v1/companies/{C}/time_off/balances?per=10", T, NULL,
     200, {"#=10", "@X-Page=1"}},
    {"time-off balances, scope", "GET", "/v1/companies/{C}/time_off/balances", CR, NULL, 403,
     {"errors[0].metadata.missing_scope_name=time_off_requests:read"}},
    {"time-off balances, other company", "GET", "/v1/companies/{OC}/time_off/balances", T, NULL,
     404, {NULL}},
};

static void test_around_employee(void)
{
    static const char *const args[] = {
        "--seed", "demo", "--rate-limit", "0", "--token", T, "--token", RO ":employees:read",
        "--token", OTH "@other", "--token", NOCOMP ":employees:read", "--token",
        CR ":companies:read", NULL};
    memset(&R, 0, sizeof R);
    if (!sb_startv(&SB, args) || !load_ids())
        return down();
    tu_var("NIL", NIL_UUID);
    req(&R, "GET", T, NULL, "/v1/employees/%s/terminations", tu_getvar("E43"));
    set_var_json("TERM43", R.json, "[0].effective_date");
    req(&R, "GET", T, NULL, "/v1/companies/%s/pay_schedules", SB.company);
    set_var_json("PS", R.json, "[0].uuid");
    req(&R, "GET", OTH, NULL, "/v1/companies/%s/pay_schedules", tu_getvar("OC"));
    set_var_json("OPS", R.json, "[0].uuid");
    req(&R, "GET", T, NULL, "/v1/companies/%s/contractors", SB.company);
    set_var_json("K", R.json, "[0].uuid");
    req(&R, "GET", T, NULL, "/v1/companies/%s/time_off/requests", SB.company);
    set_var_json("TOR", R.json, "[0].uuid");
    /* An employee with a name only: no job, no addresses. */
    req(&R, "POST", T, "{\"first_name\":\"Nia\",\"last_name\":\"Osei\"}",
        "/v1/companies/%s/employees", SB.company);
    set_var_json("NEW", R.json, "uuid");
    run_cases(AROUND_CASES, NELEM(AROUND_CASES));

    /* A rehire starts a second employment, open-ended. */
    char day[11], body[256];
    today(day);
    snprintf(body, sizeof body,
             "{\"effective_date\":\"%s\",\"file_new_hire_report\":false,"
             "\"work_location_uuid\":\"%s\"}", day, tu_getvar("L0"));
    req(&R, "POST", T, body, "/v1/employees/%s/rehire", tu_getvar("E43"));
    CHECK_LONG(R.status, 201, "rehire E43");
    req(&R, "GET", T, NULL, "/v1/employees/%s/employment_history", tu_getvar("E43"));
    CHECK_LONG(jlen(R.json, ""), 2, "history after a rehire: two employments");
    CHECK_STR(jstr(R.json, "[1].hire_date"), day, "second employment starts at the rehire");
    CHECK_EXPECT(&R, "[1].termination_date=null");
    CHECK_EXPECT(&R, "[0].termination_date={TERM43}");
    down();
}

/* ---- what the sandbox does not emulate ------------------------------------- */

#define NOT_EMULATED(op) \
    "errors[0].message=gusto-sandbox does not emulate " op \
    " (docs/sandbox.md, \"What the sandbox does not emulate\")."

static const struct http_case UNEMULATED_CASES[] = {
    {"payrolls", "GET", "/v1/companies/{C}/payrolls", T, NULL, 501,
     {"errors#=1", "errors[0].error_key=request", "errors[0].category=not_implemented",
      NOT_EMULATED("GET /v1/companies/{company_id}/payrolls"), "@x-request-id?",
      "@X-Gusto-API-Version?"}},
    {"payrolls, no token: still 501", "GET", "/v1/companies/{C}/payrolls", NULL, NULL, 501,
     {"errors[0].category=not_implemented"}},
    {"a write the sandbox lacks on a path it serves", "POST", "/v1/companies/{C}/pay_schedules",
     T, "{}", 501, {NOT_EMULATED("POST /v1/companies/{company_id}/pay_schedules")}},
    {"a literal where a route has a uuid", "GET", "/v1/companies/{C}/pay_schedules/preview", T,
     NULL, 501, {NOT_EMULATED("GET /v1/companies/{company_id}/pay_schedules/preview")}},
    {"positive control: the schedule itself", "GET", "/v1/companies/{C}/pay_schedules/{PS}", T,
     NULL, 200, {"uuid={PS}"}},
    {"a report", "POST", "/v1/companies/{C}/reports", T, "{}", 501,
     {NOT_EMULATED("POST /v1/companies/{company_uuid}/reports")}},
    {"trailing slash", "GET", "/v1/payrolls/{NIL}/receipt/", T, NULL, 501,
     {NOT_EMULATED("GET /v1/payrolls/{payroll_uuid}/receipt")}},
    {"contractor update", "PUT", "/v1/contractors/{NIL}", T, "{}", 501,
     {NOT_EMULATED("PUT /v1/contractors/{contractor_uuid}")}},
    {"outside the spec: 404", "GET", "/v1/payrolls_of_mars", T, NULL, 404,
     {"errors[0].category=not_found", "errors[0].message=No route matches /v1/payrolls_of_mars"}},
    {"a method the spec lacks on a served path: 404", "DELETE",
     "/v1/employees/{E0}/onboarding_status", T, NULL, 404,
     {"errors[0].category=not_found"}},
    {"one segment more than the spec: 404", "GET", "/v1/companies/{C}/payrolls/{NIL}/x/y", T,
     NULL, 404, {"errors[0].category=not_found"}},
};

static void test_unemulated(void)
{
    if (!up())
        return down();
    tu_var("NIL", NIL_UUID);
    req(&R, "GET", T, NULL, "/v1/companies/%s/pay_schedules", SB.company);
    set_var_json("PS", R.json, "[0].uuid");
    run_cases(UNEMULATED_CASES, NELEM(UNEMULATED_CASES));
    down();
}

/* ---- --as demo|production ------------------------------------------------- */

/* Start on the data file db as env (NULL: no --as) with the token tok. */
static bool up_as(const char *env, const char *db, const char *tok)
{
    const char *args[] = {"--rate-limit", "0", "--data", db, "--token", tok,
                          env ? "--as" : NULL, env, NULL};
    resp_free(&R); /* the previous sandbox's last answer */
    return sb_startv(&SB, args);
}

/* The token is refused as one from the other environment, issued in `issued`. */
static void refused_as_other(const char *tok, const char *issued, const char *what)
{
    req(&R, "GET", tok, NULL, "/v1/companies/%s/employees", SB.company);
    CHECK_LONG(R.status, 401, what);
    CHECK_STR(jstr(R.json, "errors[0].category"), "invalid_token", what);
    CHECK_STR(jstr(R.json, "errors[0].error_key"), "base", what);
    const char *m = jstr(R.json, "errors[0].message");
    char want[64];
    snprintf(want, sizeof want, "was issued by Gusto %s", issued);
    CHECK(m && strstr(m, want), "%s: message says where it was issued ('%s')", what,
          m ? m : "none");
    CHECK_EXPECT(&R, "@WWW-Authenticate?");
}

static void accepted(const char *tok, const char *what)
{
    req(&R, "GET", tok, NULL, "/v1/token_info");
    CHECK_LONG(R.status, 200, what);
}

static void test_environments(void)
{
    char dir[] = "/tmp/gusto-sbtest-env-XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp"))
        return;
    char db[128];
    snprintf(db, sizeof db, "%s/shared.db", dir);
    /* One data file, three sandboxes in turn: what one issued, the other
     * refuses; each still takes its own. */
    if (up_as("demo", db, "demo-tok")) {
        accepted("demo-tok", "demo sandbox takes its own token");
        sb_stop(&SB);
    }
    if (up_as("production", db, "prod-tok")) {
        accepted("prod-tok", "production sandbox takes its own token");
        refused_as_other("demo-tok", "Demo", "production sandbox refuses the demo token");
        sb_stop(&SB);
    }
    if (up_as("demo", db, "demo-tok2")) {
        accepted("demo-tok", "demo sandbox takes the demo token again");
        refused_as_other("prod-tok", "Production", "demo sandbox refuses the production token");
        sb_stop(&SB);
    }
    /* Without --as the sandbox is Demo. */
    if (up_as(NULL, db, "plain-tok")) {
        accepted("demo-tok", "default (demo) takes the demo token");
        refused_as_other("prod-tok", "Production", "default (demo) refuses the production token");
        sb_stop(&SB);
    }
    /* A token registered again by the other environment becomes its. */
    if (up_as("production", db, "demo-tok")) {
        accepted("demo-tok", "a token registered by production is production's");
        sb_stop(&SB);
    }
    resp_free(&R);
    remove_data_file(db, dir);
    CHECK_LONG(run_sandbox_status("--as", "staging", "", ""), 2, "--as staging: usage error");
    CHECK_LONG(run_sandbox_status("--as", "", "", ""), 2, "--as '': usage error");
}

/* Gusto's terminate guide: a hire date is required to terminate; an
 * onboarding employee who has one can be terminated. */
static void test_terminate_onboarding(void)
{
    if (!up())
        return down();
    req(&R, "POST", T, "{\"first_name\":\"No\",\"last_name\":\"Hire\"}", "%s",
        P("/v1/companies/{C}/employees"));
    CHECK_LONG(R.status, 201, "an onboarding employee with no job");
    set_var_json("NH", R.json, "uuid");
    req(&R, "POST", T, "{\"effective_date\":\"2026-12-01\"}", "%s",
        P("/v1/employees/{NH}/terminations"));
    CHECK(R.status == 422 && jstr(R.json, "errors[0].message") &&
              strstr(jstr(R.json, "errors[0].message"), "Hire date is required"),
          "no hire date: 422 saying a hire date is required (%ld %.200s)", R.status, R.body);
    CHECK_STR(jstr(R.json, "errors[0].category"), "invalid_operation", "...invalid_operation");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{NH}/terminations"));
    CHECK_LONG(jlen(R.json, ""), 0, "...and nothing was stored");

    /* E47 is still onboarding and has a job with a hire date. */
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{E47}"));
    CHECK(jstr(R.json, "jobs[0].hire_date") && json_is_false(jget(R.json, "onboarded")),
          "E47 is onboarding, with a hire date");
    req(&R, "POST", T, "{\"effective_date\":\"2026-12-01\"}", "%s",
        P("/v1/employees/{E47}/terminations"));
    CHECK_LONG(R.status, 201, "an onboarding employee with a hire date can be terminated");
    req(&R, "GET", T, NULL, "%s", P("/v1/employees/{E47}"));
    CHECK_LONG(jlen(R.json, "terminations"), 1, "...and shows the termination");

    /* Given a job, the first one can be terminated too. */
    req(&R, "POST", T, "{\"title\":\"Temp\",\"hire_date\":\"2026-11-01\"}", "%s",
        P("/v1/employees/{NH}/jobs"));
    CHECK_LONG(R.status, 201, "give NH a job with a hire date");
    req(&R, "POST", T, "{\"effective_date\":\"2026-12-01\"}", "%s",
        P("/v1/employees/{NH}/terminations"));
    CHECK_LONG(R.status, 201, "...then the termination is accepted");
    down();
}

static const struct test TESTS[] = {
    {"auth_and_headers", test_auth_and_headers},
    {"locations", test_locations},
    {"employees", test_employees},
    {"home_addresses", test_home_addresses},
    {"work_addresses", test_work_addresses},
    {"jobs_and_compensations", test_jobs_and_compensations},
    {"processed_compensations", test_processed_compensations},
    {"time_off", test_time_off},
    {"time_off_policies", test_time_off_policies},
    {"departments", test_departments},
    {"old_data_file", test_old_data_file},
    {"versions", test_versions},
    {"api_versions", test_api_versions},
    {"render_cache", test_render_cache},
    {"pagination", test_pagination},
    {"search_sort_include", test_search_sort_include},
    {"isolation", test_isolation},
    {"bad_bodies", test_bad_bodies},
    {"rate_limit", test_rate_limit},
    {"faults", test_faults},
    {"persistence", test_persistence},
    {"terminate_onboarding", test_terminate_onboarding},
    {"webhook_events", test_webhook_events},
    {"webhook_people_batch", test_webhook_people_batch},
    {"webhook_retries", test_webhook_retries},
    {"error_metadata", test_error_metadata},
    {"around_employee", test_around_employee},
    {"unemulated", test_unemulated},
    {"environments", test_environments},
};

int main(int argc, char **argv)
{
    return tu_run(TESTS, NELEM(TESTS), argc, argv);
}
