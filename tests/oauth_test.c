/* oauth_test.c - integration tests for gusto-sandbox's OAuth 2.0
 * authorization-code grant: the consent page, Allow/Deny redirects, the
 * token endpoint's two grants and its RFC 6749 errors, refresh-token
 * rotation, expiry, and that no secret reaches the log or the database.
 *
 * Each test starts its own sandbox.  Nothing but 127.0.0.1 is contacted,
 * and redirects are never followed: the redirect URIs below point nowhere.
 *
 * Run from the repository root: ./build/tests/oauth_test [TEST...]
 * GUSTO_SANDBOX overrides the binary (default build/gusto-sandbox). */
#include "testutil.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define CID "sandbox-app"
#define SECRET "s3cret-Zq8vKw1pLm"
#define CB "http://127.0.0.1:9/callback"
#define CB_ENC "http%3A%2F%2F127.0.0.1%3A9%2Fcallback"
#define CB2 "https://app.example.com/cb?tenant=1"
#define APP CID ":" SECRET ":" CB "," CB2
#define CID2 "second-app"
#define SECRET2 "another-Secret-77"
#define APP2 CID2 ":" SECRET2 ":" CB

static struct sandbox SB;

/* ---- helpers ------------------------------------------------------------------ */

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    char **b = ud;
    size_t old = *b ? strlen(*b) : 0, add = size * n;
    char *nb = realloc(*b, old + add + 1);
    if (!nb)
        return 0;
    memcpy(nb + old, p, add);
    nb[old + add] = 0;
    *b = nb;
    return add;
}

/* POST an application/x-www-form-urlencoded body to the current sandbox
 * (testutil's http_req always labels bodies as JSON). */
static long post_form(const char *path, const char *body, struct resp *out)
{
    resp_free(out);
    char url[512];
    snprintf(url, sizeof url, "%s%s", SB.base, path);
    CURL *h = curl_easy_init();
    if (!h)
        return 0;
    char *hb = NULL, *bb = NULL;
    struct curl_slist *hl = curl_slist_append(NULL,
                                              "Content-Type: application/x-www-form-urlencoded");
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &bb);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hb);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    out->status = status;
    out->headers = hb ? hb : calloc(1, 1);
    out->body = bb ? bb : calloc(1, 1);
    out->body_len = strlen(out->body);
    out->json = json_loads(out->body, 0, NULL);
    return status;
}

/* The value="..." of the input named name in an HTML page (entities left
 * alone: the values used here have none). */
static const char *input_value(const char *html, const char *name, char *out, size_t len)
{
    char pat[96];
    snprintf(pat, sizeof pat, "name=\"%s\" value=\"", name);
    const char *p = html ? strstr(html, pat) : NULL;
    out[0] = 0;
    if (!p)
        return NULL;
    p += strlen(pat);
    size_t n = strcspn(p, "\"");
    if (n >= len)
        n = len - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return out;
}

/* The raw (still percent-encoded) value of a query parameter of a URL. */
static const char *url_param(const char *url, const char *name, char *out, size_t len)
{
    out[0] = 0;
    const char *q = url ? strchr(url, '?') : NULL;
    size_t nl = strlen(name);
    for (const char *p = q; p && *p; p = strchr(p + 1, '&')) {
        p++;
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t n = strcspn(p + nl + 1, "&#");
            if (n >= len)
                n = len - 1;
            memcpy(out, p + nl + 1, n);
            out[n] = 0;
            return out;
        }
        p--;
    }
    return NULL;
}

static char *esc(const char *s)
{
    return curl_easy_escape(NULL, s, 0);
}

/* GET the consent page for (client, redirect_uri, state, scope); the form
 * token lands in form (empty when the page did not render). */
static long consent(struct resp *r, const char *client, const char *uri, const char *state,
                    const char *scope, char form[128])
{
    char *u = esc(uri), *s = esc(state ? state : ""), *sc = esc(scope ? scope : "");
    long st = req(r, "GET", NULL, NULL,
                  "/oauth/authorize?client_id=%s&redirect_uri=%s&response_type=code%s%s%s%s",
                  client, u, state ? "&state=" : "", state ? s : "", scope ? "&scope=" : "",
                  scope ? sc : "");
    curl_free(u);
    curl_free(s);
    curl_free(sc);
    if (form)
        input_value(r->body, "form_token", form, 128);
    return st;
}

/* Submit the consent form the page r carries; decision allow or deny. */
static long decide(const struct resp *page, const char *decision, const char *company,
                   struct resp *out)
{
    static const char *const names[] = {"client_id", "redirect_uri", "response_type",
                                        "state",     "scope",        "form_token"};
    char body[4096] = "";
    size_t n = 0;
    for (size_t i = 0; i < NELEM(names); i++) {
        char v[1200];
        if (!input_value(page->body, names[i], v, sizeof v))
            continue;
        /* Undo the page's HTML escaping of the values used here. */
        char raw[1200];
        size_t o = 0;
        for (const char *p = v; *p && o < sizeof raw - 1;) {
            if (strncmp(p, "&amp;", 5) == 0) {
                raw[o++] = '&';
                p += 5;
            } else if (strncmp(p, "&lt;", 4) == 0) {
                raw[o++] = '<';
                p += 4;
            } else if (strncmp(p, "&gt;", 4) == 0) {
                raw[o++] = '>';
                p += 4;
            } else if (strncmp(p, "&quot;", 6) == 0) {
                raw[o++] = '"';
                p += 6;
            } else {
                raw[o++] = *p++;
            }
        }
        raw[o] = 0;
        char *e = esc(raw);
        n += (size_t)snprintf(body + n, sizeof body - n, "%s=%s&", names[i], e);
        curl_free(e);
    }
    snprintf(body + n, sizeof body - n, "decision=%s%s%s", decision,
             company ? "&company=" : "", company ? company : "");
    return post_form("/oauth/authorize", body, out);
}

/* The whole browser part: consent page, Allow, code out of Location. */
static bool get_code(const char *client, const char *uri, const char *company,
                     const char *scope, char code[128])
{
    struct resp page = {0}, r = {0};
    code[0] = 0;
    char form[128];
    consent(&page, client, uri, "st", scope, form);
    decide(&page, "allow", company, &r);
    char loc[2048];
    const char *l = hget(r.headers, "Location", loc, sizeof loc);
    bool ok = CHECK(r.status == 302 && l && url_param(l, "code", code, 128) && *code,
                    "Allow should redirect with a code (status %ld, Location %s)", r.status,
                    l ? l : "(none)");
    resp_free(&page);
    resp_free(&r);
    return ok;
}

static long token_json(struct resp *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static long token_json(struct resp *r, const char *fmt, ...)
{
    char body[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    return req(r, "POST", NULL, body, "/oauth/token");
}

static long exchange(struct resp *r, const char *code)
{
    return token_json(r,
                      "{\"grant_type\":\"authorization_code\",\"client_id\":\"" CID "\","
                      "\"client_secret\":\"" SECRET "\",\"code\":\"%s\","
                      "\"redirect_uri\":\"" CB "\"}",
                      code);
}

static long refresh(struct resp *r, const char *rt)
{
    return token_json(r,
                      "{\"grant_type\":\"refresh_token\",\"client_id\":\"" CID "\","
                      "\"client_secret\":\"" SECRET "\",\"refresh_token\":\"%s\"}",
                      rt);
}

static void copy(char *dst, size_t len, const char *s)
{
    snprintf(dst, len, "%s", s ? s : "");
}

static bool oauth_err(const struct resp *r, long status, const char *error, const char *what)
{
    return CHECK(r->status == status && r->json && jstr(r->json, "error") &&
                     strcmp(jstr(r->json, "error"), error) == 0 &&
                     jstr(r->json, "error_description"),
                 "%s: want %ld {\"error\":\"%s\"}, got %ld %.300s", what, status, error,
                 r->status, r->body ? r->body : "");
}

/* A sandbox with both apps, two --token tokens and --log, plus an option. */
static bool start(const char *opt, const char *value)
{
    const char *args[] = {"--rate-limit", "0", "--token", "T", "--token", "oth@other",
                          "--app", APP, "--app", APP2, "--log", opt, value, NULL};
    return sb_startv(&SB, args);
}

/* ---- tests --------------------------------------------------------------------- */

static void test_consent_page(void)
{
    if (!start(NULL, NULL))
        return;
    struct resp r = {0};
    char form[128], buf[256], oc[64];
    req(&r, "GET", "oth", NULL, "/v1/token_info");
    copy(oc, sizeof oc, jstr(r.json, "resource.uuid"));

    consent(&r, CID, CB, "xyz<&>\"", NULL, form);
    CHECK_LONG(r.status, 200, "consent page status");
    const char *ct = hget(r.headers, "Content-Type", buf, sizeof buf);
    CHECK(ct && strncmp(ct, "text/html", 9) == 0, "consent page is text/html, got %s",
          ct ? ct : "(none)");
    CHECK(hhas(r.headers, "X-Frame-Options"), "consent page refuses framing");
    const char *b = r.body;
    CHECK(strstr(b, "<!doctype html>") != NULL, "a whole HTML document");
    CHECK(strstr(b, "<form method=\"post\" action=\"/oauth/authorize\">") != NULL,
          "form posts to /oauth/authorize");
    CHECK(strstr(b, "<select id=\"company\" name=\"company\">") != NULL, "company picker");
    char opt[128];
    snprintf(opt, sizeof opt, "<option value=\"%s\" selected>Acme Demo Co</option>",
             SB.company);
    CHECK(strstr(b, opt) != NULL, "demo company is an option (preselected)");
    snprintf(opt, sizeof opt, "<option value=\"%s\">Globex Other Inc</option>", oc);
    CHECK(strstr(b, opt) != NULL, "other company is an option");
    CHECK(strstr(b, "value=\"allow\"") && strstr(b, ">Allow</button>"), "Allow button");
    CHECK(strstr(b, "value=\"deny\"") && strstr(b, ">Deny</button>"), "Deny button");
    CHECK(strstr(b, CID) != NULL, "page names the client");
    CHECK(strstr(b, "employees:read") != NULL, "page lists the scopes");
    CHECK(strlen(form) >= 32, "a form token (got \"%s\")", form);
    CHECK(strstr(b, "name=\"client_id\" value=\"" CID "\"") != NULL, "hidden client_id");
    CHECK(strstr(b, "name=\"redirect_uri\" value=\"" CB "\"") != NULL, "hidden redirect_uri");
    CHECK(strstr(b, "name=\"state\" value=\"xyz&lt;&amp;&gt;&quot;\"") != NULL,
          "state is HTML-escaped in its hidden field");
    CHECK(strstr(b, "xyz<") == NULL, "raw state never appears in the page");
    CHECK(!strstr(b, SECRET), "the client secret is not on the page");

    /* Two pages, two different form tokens. */
    char form2[128];
    consent(&r, CID, CB, "s", NULL, form2);
    CHECK(*form2 && strcmp(form, form2) != 0, "each page has its own form token");

    /* A narrower scope request is what the page shows and what is granted. */
    consent(&r, CID, CB, "s", "companies:read employees:read", NULL);
    CHECK(r.status == 200 && strstr(r.body, "<li><code>companies:read</code></li>") &&
              !strstr(r.body, "<li><code>jobs:read</code></li>"),
          "requested scopes only (status %ld)", r.status);
    resp_free(&r);
    sb_stop(&SB);
}

static void test_authorize_errors(void)
{
    if (!start(NULL, NULL))
        return;
    struct resp r = {0};
    char buf[2048], v[256];
    struct {
        const char *what, *query;
    } bad[] = {
        {"unknown client_id", "client_id=nope&redirect_uri=" CB_ENC "&response_type=code"},
        {"no client_id", "redirect_uri=" CB_ENC "&response_type=code"},
        {"no redirect_uri", "client_id=" CID "&response_type=code"},
        {"redirect_uri with a trailing slash",
         "client_id=" CID "&redirect_uri=" CB_ENC "%2F&response_type=code"},
        {"redirect_uri prefix", "client_id=" CID "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2F"
                                "&response_type=code"},
        {"another app's redirect_uri",
         "client_id=" CID2 "&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Ftenant%3D1"
         "&response_type=code"},
        {"evil redirect_uri", "client_id=" CID "&redirect_uri=https%3A%2F%2Fevil.example%2F"
                              "&response_type=token"},
    };
    for (size_t i = 0; i < NELEM(bad); i++) {
        req(&r, "GET", NULL, NULL, "/oauth/authorize?%s", bad[i].query);
        const char *ct = hget(r.headers, "Content-Type", v, sizeof v);
        CHECK(r.status == 400 && ct && strncmp(ct, "text/html", 9) == 0 &&
                  !hhas(r.headers, "Location") && strstr(r.body, "<html"),
              "%s: want a 400 HTML page and no redirect, got %ld (%s)", bad[i].what, r.status,
              ct ? ct : "no type");
    }

    /* Errors after the redirect_uri is known go back to it. */
    req(&r, "GET", NULL, NULL, "%s",
        "/oauth/authorize?client_id=" CID "&redirect_uri=" CB_ENC "&response_type=token"
        "&state=abc");
    const char *l = hget(r.headers, "Location", buf, sizeof buf);
    CHECK(r.status == 302 && l && strncmp(l, CB "?", strlen(CB) + 1) == 0 &&
              url_param(l, "error", v, sizeof v) &&
              strcmp(v, "unsupported_response_type") == 0 &&
              url_param(l, "state", v, sizeof v) && strcmp(v, "abc") == 0,
          "response_type=token: redirect with unsupported_response_type (%ld, %s)", r.status,
          l ? l : "(none)");
    req(&r, "GET", NULL, NULL, "%s",
        "/oauth/authorize?client_id=" CID "&redirect_uri=" CB_ENC "&response_type=code"
        "&scope=payroll:run");
    l = hget(r.headers, "Location", buf, sizeof buf);
    CHECK(r.status == 302 && l && url_param(l, "error", v, sizeof v) &&
              strcmp(v, "invalid_scope") == 0,
          "an unknown scope: redirect with invalid_scope (%ld, %s)", r.status,
          l ? l : "(none)");

    /* The form token is single use, and the fields are bound to it. */
    struct resp page = {0};
    char form[128];
    consent(&page, CID, CB, "one", NULL, form);
    decide(&page, "deny", NULL, &r);
    CHECK_LONG(r.status, 302, "first submit");
    decide(&page, "allow", SB.company, &r);
    CHECK(r.status == 400 && !hhas(r.headers, "Location"),
          "a spent form token gets a 400 page, got %ld", r.status);

    consent(&page, CID, CB, "two", NULL, form);
    char body[1024];
    snprintf(body, sizeof body,
             "client_id=" CID "&redirect_uri=%s&response_type=code&state=two&scope=public"
             "&form_token=%s&decision=allow&company=%s",
             "https%3A%2F%2Fevil.example%2F", form, SB.company);
    post_form("/oauth/authorize", body, &r);
    CHECK(r.status == 400 && !hhas(r.headers, "Location"),
          "a tampered redirect_uri in the form gets a 400 page, got %ld", r.status);
    snprintf(body, sizeof body, "form_token=forged&decision=allow&company=%s", SB.company);
    post_form("/oauth/authorize", body, &r);
    CHECK(r.status == 400 && !hhas(r.headers, "Location"), "a forged form token: 400, got %ld",
          r.status);

    consent(&page, CID, CB, "three", NULL, form);
    decide(&page, "allow", "00000000-0000-4000-8000-000000000000", &r);
    CHECK(r.status == 400 && !hhas(r.headers, "Location"),
          "a company that is not the admin's: 400 page, got %ld", r.status);
    resp_free(&page);
    resp_free(&r);
    sb_stop(&SB);
}

static void test_allow_deny(void)
{
    if (!start(NULL, NULL))
        return;
    struct resp page = {0}, r = {0};
    char form[128], loc[2048], v[256];

    consent(&page, CID, CB, "st&ate 1", NULL, form);
    decide(&page, "allow", SB.company, &r);
    const char *l = hget(r.headers, "Location", loc, sizeof loc);
    CHECK(r.status == 302 && l && strncmp(l, CB "?code=", strlen(CB) + 6) == 0,
          "Allow: 302 to redirect_uri?code=... (%ld, %s)", r.status, l ? l : "(none)");
    CHECK(url_param(l, "code", v, sizeof v) && strlen(v) >= 32, "a long random code");
    CHECK(url_param(l, "state", v, sizeof v) && strcmp(v, "st%26ate%201") == 0,
          "state comes back percent-encoded: %s", v);
    CHECK(r.body_len == 0, "the redirect has no body");

    consent(&page, CID, CB, "s2", NULL, form);
    decide(&page, "deny", NULL, &r);
    l = hget(r.headers, "Location", loc, sizeof loc);
    CHECK(r.status == 302 && l && strncmp(l, CB "?", strlen(CB) + 1) == 0 &&
              url_param(l, "error", v, sizeof v) && strcmp(v, "access_denied") == 0 &&
              url_param(l, "state", v, sizeof v) && strcmp(v, "s2") == 0 &&
              !url_param(l, "code", v, sizeof v),
          "Deny: 302 with error=access_denied and the state, no code (%ld, %s)", r.status,
          l ? l : "(none)");

    /* A registered redirect_uri that has a query keeps it. */
    consent(&page, CID, CB2, NULL, NULL, form);
    CHECK_LONG(page.status, 200, "consent page for the second redirect_uri");
    decide(&page, "allow", "demo", &r);
    l = hget(r.headers, "Location", loc, sizeof loc);
    CHECK(r.status == 302 && l && strncmp(l, CB2 "&code=", strlen(CB2) + 6) == 0 &&
              !strstr(l, "state="),
          "redirect_uri?tenant=1&code=..., no state when none was sent (%s)",
          l ? l : "(none)");
    resp_free(&page);
    resp_free(&r);
    sb_stop(&SB);
}

static void test_exchange(void)
{
    if (!start(NULL, NULL))
        return;
    struct resp r = {0};
    char code[128], at[128], oc[64];
    req(&r, "GET", "oth", NULL, "/v1/token_info");
    copy(oc, sizeof oc, jstr(r.json, "resource.uuid"));

    /* The demo company, exchanged with a JSON body. */
    if (get_code(CID, CB, SB.company, NULL, code)) {
        time_t t0 = time(NULL);
        exchange(&r, code);
        CHECK_LONG(r.status, 200, "code exchange");
        copy(at, sizeof at, jstr(r.json, "access_token"));
        CHECK(strlen(at) >= 32, "access_token");
        CHECK_STR(jstr(r.json, "token_type"), "Bearer", "token_type");
        CHECK_LONG((long)jint(r.json, "expires_in", -1), 7200, "expires_in");
        CHECK(jstr(r.json, "refresh_token") && strlen(jstr(r.json, "refresh_token")) >= 32 &&
                  strcmp(jstr(r.json, "refresh_token"), at) != 0,
              "refresh_token, distinct from the access token");
        CHECK(jstr(r.json, "scope") && strstr(jstr(r.json, "scope"), "employees:read"),
              "scope is space separated: %s", jstr(r.json, "scope"));
        long long ca = jint(r.json, "created_at", -1);
        CHECK(ca >= (long long)t0 - 2 && ca <= (long long)t0 + 5,
              "created_at is an integer epoch near now (%lld)", ca);
        char buf[64];
        CHECK(hget(r.headers, "Cache-Control", buf, sizeof buf) && strcmp(buf, "no-store") == 0,
              "token response: Cache-Control: no-store");
        CHECK(!hhas(r.headers, "X-RateLimit-Limit"), "the token endpoint is not rate limited");

        req(&r, "GET", at, NULL, "/v1/token_info");
        CHECK(r.status == 200 && jstr(r.json, "resource.uuid") &&
                  strcmp(jstr(r.json, "resource.uuid"), SB.company) == 0,
              "token_info names the chosen (demo) company (%ld)", r.status);
        CHECK_STR(jstr(r.json, "resource_owner.type"), "CompanyAdmin", "resource_owner");
        req(&r, "GET", at, NULL, "/v1/companies/%s", SB.company);
        CHECK_LONG(r.status, 200, "the token works on the company");
        req(&r, "GET", at, NULL, "/v1/companies/%s/locations", SB.company);
        CHECK(r.status == 200 && jlen(r.json, "") == 2, "and on its locations (%ld)",
              r.status);
        req(&r, "GET", at, NULL, "/v1/companies/%s", oc);
        CHECK_LONG(r.status, 404, "but not on the other company");
    }

    /* The other company, exchanged with a form body. */
    if (get_code(CID, CB, oc, NULL, code)) {
        char body[1024];
        snprintf(body, sizeof body,
                 "grant_type=authorization_code&client_id=" CID "&client_secret=" SECRET
                 "&code=%s&redirect_uri=%s",
                 code, CB_ENC);
        post_form("/oauth/token", body, &r);
        CHECK_LONG(r.status, 200, "form-encoded code exchange");
        copy(at, sizeof at, jstr(r.json, "access_token"));
        req(&r, "GET", at, NULL, "/v1/token_info");
        CHECK(r.status == 200 && jstr(r.json, "resource.uuid") &&
                  strcmp(jstr(r.json, "resource.uuid"), oc) == 0,
              "token_info names the chosen (other) company");
        req(&r, "GET", at, NULL, "/v1/companies/%s/locations", oc);
        CHECK_LONG(r.status, 200, "the token works on Globex");
        req(&r, "GET", at, NULL, "/v1/companies/%s", SB.company);
        CHECK_LONG(r.status, 404, "and not on the demo company");
    }

    /* A narrower grant: the scopes limit the token. */
    if (get_code(CID, CB, SB.company, "companies:read", code)) {
        exchange(&r, code);
        CHECK_STR(jstr(r.json, "scope"), "companies:read", "granted scope");
        copy(at, sizeof at, jstr(r.json, "access_token"));
        req(&r, "GET", at, NULL, "/v1/token_info");
        CHECK_STR(jstr(r.json, "scope"), "companies:read", "token_info scope");
        req(&r, "GET", at, NULL, "/v1/companies/%s", SB.company);
        CHECK_LONG(r.status, 200, "companies:read works");
        req(&r, "GET", at, NULL, "/v1/companies/%s/employees", SB.company);
        CHECK_LONG(r.status, 403, "employees:read is missing");
    }
    resp_free(&r);
    sb_stop(&SB);
}

/* PKCE (RFC 7636), checked by the sandbox when the authorize request sent a
 * challenge: the exchange then needs the verifier (RFC 7636 appendix B's
 * pair here), a wrong or missing one is invalid_grant and leaves the code
 * usable; without a challenge nothing changes.  Only S256 is taken. */
#define PKCE_VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define PKCE_CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

static bool pkce_code(const char *extra, char code[128], struct resp *page)
{
    struct resp r = {0};
    code[0] = 0;
    req(page, "GET", NULL, NULL,
        "/oauth/authorize?client_id=" CID "&redirect_uri=%s&response_type=code&state=st%s",
        CB_ENC, extra);
    decide(page, "allow", SB.company, &r);
    char loc[2048];
    const char *l = hget(r.headers, "Location", loc, sizeof loc);
    bool ok = r.status == 302 && l && url_param(l, "code", code, 128) && *code;
    resp_free(&r);
    return ok;
}

static long exchange_v(struct resp *r, const char *code, const char *verifier)
{
    return token_json(r,
                      "{\"grant_type\":\"authorization_code\",\"client_id\":\"" CID "\","
                      "\"client_secret\":\"" SECRET "\",\"code\":\"%s\","
                      "\"redirect_uri\":\"" CB "\"%s%s%s}",
                      code, verifier ? ",\"code_verifier\":\"" : "", verifier ? verifier : "",
                      verifier ? "\"" : "");
}

static void test_pkce(void)
{
    if (!start(NULL, NULL))
        return;
    struct resp r = {0}, page = {0};
    char code[128];
    const char *ch = "&code_challenge=" PKCE_CHALLENGE "&code_challenge_method=S256";
    CHECK(pkce_code(ch, code, &page), "a code for a PKCE request");
    exchange_v(&r, code, NULL);
    oauth_err(&r, 400, "invalid_grant", "no verifier");
    CHECK(jstr(r.json, "error_description") &&
              strstr(jstr(r.json, "error_description"), "code_verifier") != NULL,
          "names code_verifier: %s", jstr(r.json, "error_description"));
    exchange_v(&r, code, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX");
    oauth_err(&r, 400, "invalid_grant", "a wrong verifier");
    CHECK(jstr(r.json, "error_description") &&
              strstr(jstr(r.json, "error_description"), "does not match") != NULL,
          "says it does not match: %s", jstr(r.json, "error_description"));
    exchange_v(&r, code, "short");
    oauth_err(&r, 400, "invalid_grant", "a malformed verifier");
    exchange_v(&r, code, PKCE_VERIFIER);
    CHECK(r.status == 200 && jstr(r.json, "access_token"),
          "the RFC 7636 appendix B verifier works, after the failures (%ld %s)", r.status,
          r.body ? r.body : "");

    /* Positive control: without a challenge a verifier is not needed, and
     * one sent anyway is ignored. */
    CHECK(pkce_code("", code, &page), "a code without PKCE");
    exchange_v(&r, code, NULL);
    CHECK_LONG(r.status, 200, "no challenge: no verifier needed");
    CHECK(pkce_code("", code, &page), "another code without PKCE");
    exchange_v(&r, code, PKCE_VERIFIER);
    CHECK_LONG(r.status, 200, "no challenge: a verifier is ignored");

    /* The authorize request's own errors go back to the redirect URI
     * (the description percent-encoded there). */
    static const struct {
        const char *extra, *says;
    } bad[] = {
        {"&code_challenge=" PKCE_CHALLENGE, "must%20be%20S256"},
        {"&code_challenge=" PKCE_CHALLENGE "&code_challenge_method=plain", "must%20be%20S256"},
        {"&code_challenge=abc&code_challenge_method=S256", "43%20to%20128"},
        {"&code_challenge_method=S256", "without%20code_challenge"},
    };
    for (size_t i = 0; i < NELEM(bad); i++) {
        req(&r, "GET", NULL, NULL,
            "/oauth/authorize?client_id=" CID "&redirect_uri=%s&response_type=code&state=st%s",
            CB_ENC, bad[i].extra);
        char loc[2048], e[64], d[256];
        const char *l = hget(r.headers, "Location", loc, sizeof loc);
        CHECK(r.status == 302 && l && url_param(l, "error", e, sizeof e) &&
                  strcmp(e, "invalid_request") == 0 &&
                  url_param(l, "error_description", d, sizeof d) && strstr(d, bad[i].says),
              "%s: invalid_request saying %s (%ld %s)", bad[i].extra, bad[i].says, r.status,
              l ? l : "");
    }
    resp_free(&r);
    resp_free(&page);
    sb_stop(&SB);
}

static void test_code_errors(void)
{
    if (!start(NULL, NULL))
        return;
    struct resp r = {0};
    char code[128], at[128];

    if (get_code(CID, CB, SB.company, NULL, code)) {
        /* Wrong secret, unknown client, wrong redirect_uri, another client:
         * none of them spends the code. */
        token_json(&r, "{\"grant_type\":\"authorization_code\",\"client_id\":\"" CID "\","
                       "\"client_secret\":\"wrong\",\"code\":\"%s\",\"redirect_uri\":\"" CB
                       "\"}", code);
        oauth_err(&r, 401, "invalid_client", "wrong client secret");
        token_json(&r, "{\"grant_type\":\"authorization_code\",\"client_id\":\"nobody\","
                       "\"client_secret\":\"" SECRET "\",\"code\":\"%s\",\"redirect_uri\":\""
                       CB "\"}", code);
        oauth_err(&r, 401, "invalid_client", "unknown client");
        token_json(&r, "{\"grant_type\":\"authorization_code\",\"client_id\":\"" CID "\","
                       "\"client_secret\":\"" SECRET "\",\"code\":\"%s\",\"redirect_uri\":\""
                       CB2 "\"}", code);
        if (oauth_err(&r, 400, "invalid_grant", "wrong redirect_uri"))
            CHECK(strstr(jstr(r.json, "error_description"), "redirect_uri") != NULL,
                  "the description names redirect_uri: %s", jstr(r.json, "error_description"));
        token_json(&r, "{\"grant_type\":\"authorization_code\",\"client_id\":\"" CID2 "\","
                       "\"client_secret\":\"" SECRET2 "\",\"code\":\"%s\",\"redirect_uri\":\""
                       CB "\"}", code);
        oauth_err(&r, 400, "invalid_grant", "a code of another client");

        exchange(&r, code);
        CHECK_LONG(r.status, 200, "the code still works after the failed attempts");
        copy(at, sizeof at, jstr(r.json, "access_token"));
        req(&r, "GET", at, NULL, "/v1/token_info");
        CHECK_LONG(r.status, 200, "its token works");

        exchange(&r, code);
        oauth_err(&r, 400, "invalid_grant", "reused code");
        req(&r, "GET", at, NULL, "/v1/token_info");
        CHECK(r.status == 401 && jstr(r.json, "errors[0].category") &&
                  strcmp(jstr(r.json, "errors[0].category"), "invalid_token") == 0,
              "a replayed code revokes the tokens it issued (%ld)", r.status);
    }
    exchange(&r, "no-such-code");
    oauth_err(&r, 400, "invalid_grant", "unknown code");

    /* Malformed requests. */
    token_json(&r, "{\"grant_type\":\"authorization_code\",\"client_id\":\"" CID "\"}");
    if (oauth_err(&r, 400, "invalid_request", "missing parameters"))
        CHECK(strstr(jstr(r.json, "error_description"), "client_secret") &&
                  strstr(jstr(r.json, "error_description"), "code") &&
                  strstr(jstr(r.json, "error_description"), "redirect_uri"),
              "the description lists what is missing: %s", jstr(r.json, "error_description"));
    token_json(&r, "{\"client_id\":\"" CID "\"}");
    oauth_err(&r, 400, "invalid_request", "no grant_type");
    token_json(&r, "{\"grant_type\":\"password\",\"client_id\":\"" CID "\"}");
    oauth_err(&r, 400, "unsupported_grant_type", "grant_type=password");
    token_json(&r, "{\"grant_type\":\"system_access\",\"client_id\":\"" CID "\","
                   "\"client_secret\":\"" SECRET "\"}");
    CHECK(r.status == 200 && r.json && jstr(r.json, "access_token") &&
              !jstr(r.json, "refresh_token") && jstr(r.json, "token_type"),
          "grant_type=system_access: a system token without a refresh token, got %ld %.200s",
          r.status, r.body ? r.body : "");
    token_json(&r, "{\"grant_type\":\"system_access\",\"client_id\":\"" CID "\","
                   "\"client_secret\":\"wrong\"}");
    oauth_err(&r, 401, "invalid_client", "grant_type=system_access, wrong secret");
    token_json(&r, "{\"grant_type\":7}");
    oauth_err(&r, 400, "invalid_request", "a number for grant_type");
    token_json(&r, "not json");
    oauth_err(&r, 400, "invalid_request", "a body that is not JSON");
    req(&r, "POST", NULL, NULL, "/oauth/token");
    oauth_err(&r, 400, "invalid_request", "no body");
    post_form("/oauth/token", "grant_type=refresh_token&grant_type=refresh_token", &r);
    oauth_err(&r, 400, "invalid_request", "a repeated form parameter");
    req(&r, "POST", NULL,
        "{\"grant_type\":\"refresh_token\",\"client_id\":\"" CID "\",\"refresh_token\":\"x\"}",
        "/oauth/token?client_secret=" SECRET);
    oauth_err(&r, 400, "invalid_request", "client_secret in the query string");
    resp_free(&r);
    sb_stop(&SB);

    /* An expired code. */
    if (!start("--code-ttl", "1"))
        return;
    if (get_code(CID, CB, SB.company, NULL, code)) {
        struct timespec ts = {2, 200 * 1000000L};
        nanosleep(&ts, NULL);
        exchange(&r, code);
        if (oauth_err(&r, 400, "invalid_grant", "expired code"))
            CHECK(strstr(jstr(r.json, "error_description"), "expired") != NULL,
                  "the description says expired: %s", jstr(r.json, "error_description"));
    }
    resp_free(&r);
    sb_stop(&SB);
}

static void test_refresh(void)
{
    if (!start("--rate-limit", "100"))
        return;
    struct resp r = {0};
    char code[128], at1[128], rt1[128], at2[128], rt2[128], buf[64];
    if (!get_code(CID, CB, "other", NULL, code))
        goto done;
    exchange(&r, code);
    copy(at1, sizeof at1, jstr(r.json, "access_token"));
    copy(rt1, sizeof rt1, jstr(r.json, "refresh_token"));
    req(&r, "GET", at1, NULL, "/v1/token_info");
    long rem1 = strtol(hget(r.headers, "X-RateLimit-Remaining", buf, sizeof buf) ? buf : "-1",
                       NULL, 10);
    char company[64];
    copy(company, sizeof company, jstr(r.json, "resource.uuid"));

    refresh(&r, rt1);
    CHECK_LONG(r.status, 200, "refresh");
    copy(at2, sizeof at2, jstr(r.json, "access_token"));
    copy(rt2, sizeof rt2, jstr(r.json, "refresh_token"));
    CHECK(*at2 && *rt2 && strcmp(at1, at2) != 0 && strcmp(rt1, rt2) != 0,
          "refresh returns a new access token and a new refresh token");
    CHECK_STR(jstr(r.json, "token_type"), "Bearer", "token_type");
    CHECK_LONG((long)jint(r.json, "expires_in", -1), 7200, "expires_in");
    CHECK(jint(r.json, "created_at", -1) > 0, "created_at");
    CHECK(jstr(r.json, "scope") != NULL, "scope");

    /* Gusto revokes the old refresh token on the new access token's first
     * use: a client that died before saving the new pair can retry. */
    char at_b[128], rt_b[128];
    refresh(&r, rt1);
    CHECK_LONG(r.status, 200, "the old refresh token still works before the new access "
                              "token is used");
    copy(at_b, sizeof at_b, jstr(r.json, "access_token"));
    copy(rt_b, sizeof rt_b, jstr(r.json, "refresh_token"));
    (void)at_b;
    (void)rt_b;
    req(&r, "GET", at2, NULL, "/v1/token_info");
    CHECK(r.status == 200 && jstr(r.json, "resource.uuid") &&
              strcmp(jstr(r.json, "resource.uuid"), company) == 0,
          "the new access token works, for the same company");
    long rem2 = strtol(hget(r.headers, "X-RateLimit-Remaining", buf, sizeof buf) ? buf : "-1",
                       NULL, 10);
    CHECK(rem1 > 0 && rem2 == rem1 - 1,
          "the refreshed token counts against the same grant (remaining %ld then %ld)", rem1,
          rem2);
    req(&r, "GET", "T", NULL, "/v1/token_info");
    CHECK(strtol(hget(r.headers, "X-RateLimit-Remaining", buf, sizeof buf) ? buf : "0", NULL,
                 10) == 99,
          "a --token token is its own grant");
    req(&r, "GET", at1, NULL, "/v1/token_info");
    CHECK_LONG(r.status, 200, "the old access token lives until it expires");

    refresh(&r, rt1);
    oauth_err(&r, 400, "invalid_grant", "the old refresh token after rotation");
    refresh(&r, rt2);
    CHECK_LONG(r.status, 200, "the new refresh token still works after the replay");
    char rt3[128];
    copy(rt3, sizeof rt3, jstr(r.json, "refresh_token"));
    refresh(&r, "no-such-refresh-token");
    oauth_err(&r, 400, "invalid_grant", "an unknown refresh token");
    token_json(&r, "{\"grant_type\":\"refresh_token\",\"client_id\":\"" CID "\","
                   "\"client_secret\":\"nope\",\"refresh_token\":\"%s\"}", rt3);
    oauth_err(&r, 401, "invalid_client", "refresh with a wrong secret");
    token_json(&r, "{\"grant_type\":\"refresh_token\",\"client_id\":\"" CID2 "\","
                   "\"client_secret\":\"" SECRET2 "\",\"refresh_token\":\"%s\"}", rt3);
    oauth_err(&r, 400, "invalid_grant", "refresh by another client");
    char body[512];
    snprintf(body, sizeof body,
             "grant_type=refresh_token&client_id=" CID "&client_secret=" SECRET
             "&refresh_token=%s&redirect_uri=%s", rt3, CB_ENC);
    post_form("/oauth/token", body, &r);
    CHECK_LONG(r.status, 200, "form-encoded refresh with the optional redirect_uri");

    /* OAuth endpoints are not rate limited. */
    bool limited = false;
    for (int i = 0; i < 120 && !limited; i++) {
        refresh(&r, "no-such-refresh-token");
        limited = r.status == 429;
    }
    CHECK(!limited, "the token endpoint never answers 429");
done:
    resp_free(&r);
    sb_stop(&SB);
}

static void test_access_expiry(void)
{
    if (!start("--access-ttl", "1"))
        return;
    struct resp r = {0};
    char code[128], at[128], rt[128];
    if (get_code(CID, CB, SB.company, NULL, code)) {
        exchange(&r, code);
        CHECK_LONG((long)jint(r.json, "expires_in", -1), 1, "expires_in follows --access-ttl");
        copy(at, sizeof at, jstr(r.json, "access_token"));
        copy(rt, sizeof rt, jstr(r.json, "refresh_token"));
        req(&r, "GET", at, NULL, "/v1/token_info");
        CHECK_LONG(r.status, 200, "fresh token");
        struct timespec ts = {2, 200 * 1000000L};
        nanosleep(&ts, NULL);
        req(&r, "GET", at, NULL, "/v1/token_info");
        CHECK(r.status == 401 && jstr(r.json, "errors[0].category") &&
                  strcmp(jstr(r.json, "errors[0].category"), "invalid_token") == 0 &&
                  hhas(r.headers, "WWW-Authenticate"),
              "an expired access token: 401 invalid_token (%ld)", r.status);
        req(&r, "GET", at, NULL, "/v1/companies/%s", SB.company);
        CHECK_LONG(r.status, 401, "on every endpoint");
        refresh(&r, rt);
        CHECK_LONG(r.status, 200, "the refresh token outlives the access token");
        copy(at, sizeof at, jstr(r.json, "access_token"));
        req(&r, "GET", at, NULL, "/v1/token_info");
        CHECK_LONG(r.status, 200, "the refreshed token works");
    }
    resp_free(&r);
    sb_stop(&SB);
}

/* Run the sandbox binary with args, expecting it to refuse them: exit 2
 * without the secret in its output. */
static void expect_refusal(const char *const *args, const char *secret, const char *what)
{
    const char *bin = getenv("GUSTO_SANDBOX");
    if (!bin || !*bin)
        bin = "build/gusto-sandbox";
    char path[] = "/tmp/gusto-oauth-out-XXXXXX";
    int fd = mkstemp(path);
    if (!CHECK(fd >= 0, "mkstemp"))
        return;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        const char *argv[16] = {bin, "--port", "0"};
        int n = 3;
        for (int i = 0; args[i] && n < 15; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    char out[4096] = "";
    ssize_t k = pread(fd, out, sizeof out - 1, 0);
    out[k > 0 ? k : 0] = 0;
    close(fd);
    unlink(path);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s: exit 2, got status 0x%x (%s)", what, st,
          out);
    CHECK(!secret || !strstr(out, secret), "%s: the secret is not in the message", what);
}

static void test_apps_file(void)
{
    char path[] = "/tmp/gusto-oauth-apps-XXXXXX";
    int fd = mkstemp(path);
    if (!CHECK(fd >= 0, "mkstemp"))
        return;
    static const char apps[] =
        "[{\"client_id\":\"file-app\",\"client_secret\":\"file-Secret-123\","
        "\"redirect_uris\":[\"http://127.0.0.1:9/a\",\"http://127.0.0.1:9/b\"],"
        "\"scopes\":[\"companies:read\",\"employees:read\"],\"name\":\"Payroll <Sync>\"},"
        " {\"client_id\":\"file-app-2\",\"client_secret\":\"x2\","
        "\"redirect_uris\":[\"http://127.0.0.1:9/c\"],\"scopes\":\"jobs:read public\"}]";
    CHECK(write(fd, apps, sizeof apps - 1) == (ssize_t)(sizeof apps - 1), "write apps file");
    close(fd);
    if (!sb_start(&SB, "--apps", path, NULL)) {
        unlink(path);
        return;
    }
    struct resp page = {0}, r = {0};
    char form[128], loc[2048], code[128];
    consent(&page, "file-app", "http://127.0.0.1:9/b", "s", NULL, form);
    CHECK(page.status == 200 && strstr(page.body, "<strong>Payroll &lt;Sync&gt;</strong>"),
          "the page shows the app's name, escaped (%ld)", page.status);
    CHECK(strstr(page.body, "<li><code>employees:read</code></li>") &&
              !strstr(page.body, "<li><code>jobs:read</code></li>"),
          "the app's scopes only");
    decide(&page, "allow", SB.company, &r);
    const char *l = hget(r.headers, "Location", loc, sizeof loc);
    if (CHECK(l && url_param(l, "code", code, sizeof code), "a code for the file app")) {
        token_json(&r, "{\"grant_type\":\"authorization_code\",\"client_id\":\"file-app\","
                       "\"client_secret\":\"file-Secret-123\",\"code\":\"%s\","
                       "\"redirect_uri\":\"http://127.0.0.1:9/b\"}", code);
        CHECK_LONG(r.status, 200, "file app exchange");
        CHECK_STR(jstr(r.json, "scope"), "companies:read employees:read", "file app scope");
    }
    consent(&r, "file-app", "http://127.0.0.1:9/a", NULL, "jobs:read", NULL);
    CHECK(r.status == 302 && strstr(r.headers, "error=invalid_scope"),
          "a scope beyond the app's: invalid_scope (%ld)", r.status);
    consent(&r, "file-app-2", "http://127.0.0.1:9/c", NULL, NULL, form);
    CHECK(r.status == 200 && strstr(r.body, "<strong>file-app-2</strong>"),
          "no name: the client id is shown");
    resp_free(&page);
    resp_free(&r);
    sb_stop(&SB);
    unlink(path);

    /* Bad registrations stop the sandbox with exit 2, secrets unsaid. */
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    static const char broken[] = "[{\"client_id\":\"a\",\"client_secret\":\"SuperSecret99";
    CHECK(fd >= 0 && write(fd, broken, sizeof broken - 1) > 0, "write broken file");
    close(fd);
    const char *a1[] = {"--apps", path, NULL};
    expect_refusal(a1, "SuperSecret99", "--apps with broken JSON");
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    static const char nouri[] = "[{\"client_id\":\"a\",\"client_secret\":\"SuperSecret99\","
                                "\"redirect_uris\":[\"http://x/cb#frag\"]}]";
    CHECK(fd >= 0 && write(fd, nouri, sizeof nouri - 1) > 0, "write file");
    close(fd);
    expect_refusal(a1, "SuperSecret99", "--apps with a fragment in a redirect URI");
    unlink(path);
    const char *a2[] = {"--app", "only-an-id", NULL};
    expect_refusal(a2, NULL, "--app without secret and URI");
    const char *a3[] = {"--app", "id:SuperSecret99:not a uri", NULL};
    expect_refusal(a3, "SuperSecret99", "--app with a bad URI");
    const char *a4[] = {"--app", "id:SuperSecret99:http://a/cb", "--app",
                        "id:SuperSecret99:http://a/cb", NULL};
    expect_refusal(a4, "SuperSecret99", "--app twice with one client id");
}

/* Bytes of a file (NULL when absent); *n its length. */
static char *slurp(const char *path, size_t *n)
{
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = NULL;
    size_t cap = 0;
    for (;;) {
        if (*n + 65536 > cap) {
            cap = cap ? cap * 2 : 131072;
            char *nb = realloc(b, cap);
            if (!nb)
                break;
            b = nb;
        }
        size_t k = fread(b + *n, 1, cap - *n, f);
        if (k == 0)
            break;
        *n += k;
    }
    fclose(f);
    return b;
}

static bool contains(const char *hay, size_t n, const char *needle)
{
    return hay && n && memmem(hay, n, needle, strlen(needle)) != NULL;
}

static void test_no_secrets_logged(void)
{
    char dir[] = "/tmp/gusto-oauth-db-XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp"))
        return;
    char db[128];
    snprintf(db, sizeof db, "%s/sb.db", dir);
    if (!start("--data", db))
        return;
    struct resp r = {0};
    char code[128], at[128], rt[128], at2[128], rt2[128], form[128];
    char secrets[8][128];
    int ns = 0;
    copy(secrets[ns++], 128, SECRET);
    consent(&r, CID, CB, "state-val", NULL, form);
    copy(secrets[ns++], 128, form);
    if (get_code(CID, CB, SB.company, NULL, code)) {
        copy(secrets[ns++], 128, code);
        exchange(&r, code);
        copy(at, sizeof at, jstr(r.json, "access_token"));
        copy(rt, sizeof rt, jstr(r.json, "refresh_token"));
        copy(secrets[ns++], 128, at);
        copy(secrets[ns++], 128, rt);
        refresh(&r, rt);
        copy(at2, sizeof at2, jstr(r.json, "access_token"));
        copy(rt2, sizeof rt2, jstr(r.json, "refresh_token"));
        copy(secrets[ns++], 128, at2);
        copy(secrets[ns++], 128, rt2);
        refresh(&r, rt); /* the spent one */
        req(&r, "GET", at2, NULL, "/v1/token_info");
        exchange(&r, code); /* a reuse */
    }
    token_json(&r, "{\"grant_type\":\"authorization_code\",\"client_id\":\"" CID "\","
                   "\"client_secret\":\"" SECRET "x\",\"code\":\"c\",\"redirect_uri\":\"" CB
                   "\"}");
    req(&r, "POST", NULL, "{}", "/oauth/token?client_secret=" SECRET);
    CHECK(!strstr(r.body, SECRET), "the query-string refusal does not echo the secret");

    /* --app's secret is wiped from the process's command line. */
    char cpath[64];
    snprintf(cpath, sizeof cpath, "/proc/%d/cmdline", (int)SB.pid);
    size_t cn;
    char *cmd = slurp(cpath, &cn);
    CHECK(cmd && cn > 0 && contains(cmd, cn, CID) && !contains(cmd, cn, SECRET),
          "the client secret is not in %s", cpath);
    free(cmd);

    /* The log: one line per request, none with a secret. */
    char log[65536];
    ssize_t k = pread(SB.err_fd, log, sizeof log - 1, 0);
    log[k > 0 ? k : 0] = 0;
    CHECK(strstr(log, "POST /oauth/token 200") && strstr(log, "GET /oauth/authorize 200") &&
              strstr(log, "POST /oauth/authorize 302") && strstr(log, "POST /oauth/token 400"),
          "the log has the OAuth requests:\n%s", log);
    for (int i = 0; i < ns; i++)
        CHECK(*secrets[i] && !strstr(log, secrets[i]), "secret %d is not in the log", i);
    CHECK(!strstr(log, "state-val") && !strstr(log, "client_id="),
          "no query string is logged");
    resp_free(&r);
    sb_stop(&SB);

    /* The database holds hashes only. */
    const char *suffix[] = {"", "-wal"};
    for (int f = 0; f < 2; f++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", db, suffix[f]);
        size_t n;
        char *bytes = slurp(p, &n);
        if (f == 0)
            CHECK(n > 0, "the database file exists");
        for (int i = 0; i < ns; i++)
            CHECK(!contains(bytes, n, secrets[i]), "secret %d is not stored in %s", i, p);
        free(bytes);
        unlink(p);
    }
    char p[160];
    snprintf(p, sizeof p, "%s-shm", db);
    unlink(p);
    rmdir(dir);
}

/* --as: what one environment issued over OAuth, the other refuses: the
 * access token (401 invalid_token) and the refresh token (400 invalid_grant). */
static bool start_as(const char *env, const char *db)
{
    const char *args[] = {"--rate-limit", "0", "--data", db, "--app", APP, "--as", env, NULL};
    return sb_startv(&SB, args);
}

static void test_environments(void)
{
    char dir[] = "/tmp/gusto-oauthtest-env-XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp"))
        return;
    char db[128];
    snprintf(db, sizeof db, "%s/shared.db", dir);
    struct resp r = {0};
    char code[128], at[128] = "", rt[128] = "";
    if (start_as("demo", db)) {
        if (get_code(CID, CB, SB.company, NULL, code)) {
            exchange(&r, code);
            copy(at, sizeof at, jstr(r.json, "access_token"));
            copy(rt, sizeof rt, jstr(r.json, "refresh_token"));
        }
        CHECK(*at && *rt, "demo issues tokens");
        sb_stop(&SB);
    }
    if (start_as("production", db)) {
        req(&r, "GET", at, NULL, "/v1/token_info");
        CHECK_LONG(r.status, 401, "production refuses demo's access token");
        CHECK_STR(jstr(r.json, "errors[0].category"), "invalid_token", "its category");
        refresh(&r, rt);
        oauth_err(&r, 400, "invalid_grant", "production refuses demo's refresh token");
        const char *d = jstr(r.json, "error_description");
        CHECK(d && strstr(d, "issued by Gusto Demo"), "the description says so (%s)",
              d ? d : "none");
        sb_stop(&SB);
    }
    if (start_as("demo", db)) {
        refresh(&r, rt);
        CHECK_LONG(r.status, 200, "demo still takes its own refresh token");
        sb_stop(&SB);
    }
    resp_free(&r);
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < NELEM(suffixes); i++) {
        char f[160];
        snprintf(f, sizeof f, "%s%s", db, suffixes[i]);
        unlink(f);
    }
    rmdir(dir);
}

static const struct test TESTS[] = {
    {"consent_page", test_consent_page},
    {"authorize_errors", test_authorize_errors},
    {"allow_deny", test_allow_deny},
    {"exchange", test_exchange},
    {"pkce", test_pkce},
    {"code_errors", test_code_errors},
    {"refresh", test_refresh},
    {"access_expiry", test_access_expiry},
    {"apps_file", test_apps_file},
    {"no_secrets_logged", test_no_secrets_logged},
    {"environments", test_environments},
};

int main(int argc, char **argv)
{
    return tu_run(TESTS, NELEM(TESTS), argc, argv);
}
