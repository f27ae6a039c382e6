/* h_oauth.c - the sandbox side of Gusto's OAuth 2.0 authorization-code
 * grant (NOTES.md section 1; RFC 6749):
 *
 *   GET  /oauth/authorize   the consent page (HTML), or a 400 error page
 *   POST /oauth/authorize   Allow / Deny: 302 back to the app's redirect_uri
 *   POST /oauth/token       authorization_code and refresh_token grants
 *   POST /oauth/revoke      revoke an access token's grant (docs/sandbox.md)
 *
 * The same handlers serve /v1/mcp/oauth/authorize and /v1/mcp/oauth/token,
 * where Gusto's CLI signs in (its clients register at /v1/mcp/oauth/register,
 * h_oauth_register.c).
 *
 * PKCE (RFC 7636): a code_challenge (S256 only) on the authorize request is
 * kept with the code, and the exchange must then send its code_verifier.
 * Clients authenticate at the token endpoint with client_secret in the body
 * or with HTTP Basic (RFC 6749 section 2.3.1), as they registered.
 *
 * Apps (oauth_apps.c) come from --app / --apps at start-up and from dynamic
 * registration while the server runs.  Client secrets, form tokens, codes,
 * access and refresh tokens are kept only as SHA-256 hashes.  Access tokens go into the
 * tokens table that auth.c checks, so they work on every endpoint.
 *
 * The routes are SB_PUBLIC and not `write`: each handler runs its own
 * BEGIN IMMEDIATE, because some outcomes that must stick (a consumed form,
 * a code reuse that revokes its grant) are answered with a 302 or a 400.
 *
 * Nothing secret ever reaches an error message: descriptions name the
 * parameter that is wrong, never its value. */
#include "sandbox/sandbox.h"
#include "sandbox/html.h"
#include "sandbox/oauth_apps.h"
#include "shared/pctdecode.h"
#include "shared/pkce.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char SB_PUBLIC[] = "(public)";

#define MAX_STATE 1024
#define FORM_TTL 1800            /* a consent page may sit open for 30 minutes */

/* The sandbox's one signed-in admin, Jordan Blake: the primary payroll
 * admin of both seeded companies and the resource_owner of OAuth tokens. */
static const char ADMIN_UUID[] = "5a1d0c8e-3b7f-4e2a-9c61-0d4f2b8a7e13";
static const char ADMIN_NAME[] = "Jordan Blake";

/* Columns added after a --data file may have been made: PKCE's challenge. */
static int add_column(sqlite3 *db, const char *table, const char *col, const char *type)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s LIMIT 0", col, table);
    sqlite3_stmt *st = NULL;
    int have = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK;
    sqlite3_finalize(st);
    if (have)
        return 0;
    snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", table, col, type);
    return db_exec(db, sql);
}

int oauth_init(sqlite3 *db)
{
    int rc = db_exec(
        db,
        "CREATE TABLE IF NOT EXISTS oauth_forms("
        "  form_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,"
        "  state TEXT, scope TEXT NOT NULL, expires_at INTEGER NOT NULL,"
        "  used INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE IF NOT EXISTS oauth_codes("
        "  code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,"
        "  company_uuid TEXT NOT NULL, scope TEXT NOT NULL, grant_id TEXT NOT NULL,"
        "  expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE IF NOT EXISTS oauth_refresh("
        "  token_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, company_uuid TEXT NOT NULL,"
        "  scope TEXT NOT NULL, grant_id TEXT NOT NULL, created_at INTEGER NOT NULL,"
        "  revoked INTEGER NOT NULL DEFAULT 0);"
        "CREATE INDEX IF NOT EXISTS oauth_refresh_grant ON oauth_refresh(grant_id);"
        "CREATE INDEX IF NOT EXISTS tokens_grant ON tokens(grant_id);");
    if (rc == 0)
        rc = add_column(db, "oauth_forms", "code_challenge", "TEXT");
    if (rc == 0)
        rc = add_column(db, "oauth_codes", "code_challenge", "TEXT");
    if (rc == 0)
        rc = oauth_clients_load(db);
    return rc;
}

/* ---- responses ------------------------------------------------------------ */

static int reply_raw(struct request *r, int status, char *text, const char *type)
{
    json_decref(r->reply);
    r->reply = NULL;
    free(r->raw_reply);
    r->status = status;
    r->raw_reply = text;
    r->content_type = type;
    if (!text)
        return reply_error(r, 500, "request", "internal_error",
                           "An unexpected error has occurred.");
    return 0;
}

static const char STYLE[] =
    "<style>"
    "body{margin:0;background:#f3f4f6;color:#1f2937;"
    "font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif}"
    "main{max-width:30rem;margin:3rem auto;background:#fff;border-radius:10px;"
    "padding:2rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}"
    "h1{font-size:1.3rem;margin:.25rem 0 1rem}"
    ".who{color:#6b7280;font-size:.85rem;margin:0}"
    ".muted{color:#6b7280;font-size:.85rem}"
    "code{font-size:.85rem;background:#f3f4f6;padding:0 .25rem;border-radius:3px;"
    "word-break:break-all}"
    "ul{padding-left:1.25rem}"
    "label{display:block;font-weight:600;margin:1.25rem 0 .35rem}"
    "select{width:100%;padding:.45rem;font-size:1rem}"
    ".actions{display:flex;gap:.75rem;margin-top:1.5rem}"
    "button{flex:1;padding:.65rem;font-size:1rem;border-radius:6px;cursor:pointer;"
    "border:1px solid #d1d5db;background:#fff}"
    "button.allow{background:#0f766e;border-color:#0f766e;color:#fff}"
    "</style>";

static void page_head(struct hbuf *b, const char *title)
{
    hbuf_raw(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
                "<title>");
    hbuf_esc(b, title);
    hbuf_raw(b, " - Gusto sandbox</title>\n");
    hbuf_raw(b, STYLE);
    hbuf_raw(b, "\n</head>\n<body>\n<main>\n");
}

static void html_headers(struct request *r)
{
    req_add_header(r, "Cache-Control", "no-store");
    req_add_header(r, "X-Frame-Options", "DENY");
    req_add_header(r, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    req_add_header(r, "Referrer-Policy", "no-referrer");
    req_add_header(r, "X-Content-Type-Options", "nosniff");
}

/* An HTML error page; never a redirect (the redirect_uri is not trusted). */
static int html_error(struct request *r, int status, const char *title, const char *msg)
{
    struct hbuf b = {0};
    page_head(&b, title);
    hbuf_raw(&b, "<p class=\"who\">Gusto sandbox</p>\n<h1>");
    hbuf_esc(&b, title);
    hbuf_raw(&b, "</h1>\n<p>");
    hbuf_esc(&b, msg);
    hbuf_raw(&b, "</p>\n<p class=\"muted\">OAuth error; see docs/sandbox.md, section "
                 "OAuth.</p>\n</main>\n</body>\n</html>\n");
    html_headers(r);
    return reply_raw(r, status, hbuf_take(&b), "text/html; charset=utf-8");
}

/* 302 to redirect_uri with the given parameters (NULL values skipped). */
static int redirect_to(struct request *r, const char *uri, const char *k1, const char *v1,
                       const char *k2, const char *v2, const char *k3, const char *v3)
{
    struct hbuf b = {0};
    hbuf_raw(&b, uri);
    const char *sep = strchr(uri, '?') ? "&" : "?";
    size_t n = strlen(uri);
    if (n && (uri[n - 1] == '?' || uri[n - 1] == '&'))
        sep = "";
    const char *kv[6] = {k1, v1, k2, v2, k3, v3};
    for (int i = 0; i < 6; i += 2) {
        if (!kv[i] || !kv[i + 1])
            continue;
        hbuf_raw(&b, sep);
        hbuf_raw(&b, kv[i]);
        hbuf_raw(&b, "=");
        hbuf_url(&b, kv[i + 1]);
        sep = "&";
    }
    char *loc = hbuf_take(&b);
    if (!loc)
        return reply_error(r, 500, "request", "internal_error",
                           "An unexpected error has occurred.");
    free(r->location);
    r->location = loc;
    req_add_header(r, "Cache-Control", "no-store");
    req_add_header(r, "Referrer-Policy", "no-referrer");
    return reply_empty(r, 302);
}

static int redirect_error(struct request *r, const char *uri, const char *error,
                          const char *desc, const char *state)
{
    return redirect_to(r, uri, "error", error, "error_description", desc, "state", state);
}

/* RFC 6749 section 5.2 JSON error. */
static int oauth_error(struct request *r, int status, const char *error, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));
static int oauth_error(struct request *r, int status, const char *error, const char *fmt,
                       ...)
{
    char desc[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    req_add_header(r, "Cache-Control", "no-store");
    req_add_header(r, "Pragma", "no-cache");
    return reply_json(r, status, json_pack("{s:s, s:s}", "error", error,
                                           "error_description", desc));
}

static int db_failed(struct request *r)
{
    db_rollback(r->db);
    return reply_error(r, 500, "request", "internal_error",
                       "An unexpected error has occurred.");
}

/* ---- request parameters --------------------------------------------------- */

/* The query parameter, NULL when absent; *dup when it was sent twice. */
static const char *query1(struct request *r, const char *name, bool *dup)
{
    if (req_query_count(r, name) > 1)
        *dup = true;
    return req_query(r, name);
}

/* Decode n bytes of x-www-form-urlencoded text; NULL when malformed. */
static char *form_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (out && pct_decode(s, n, out, n + 1, PCT_STRICT) == PCT_ERROR) {
        free(out);
        return NULL;
    }
    return out;
}

/* application/x-www-form-urlencoded into a JSON object of strings.  NULL
 * when malformed or a parameter repeats (RFC 6749 section 3.2). */
static json_t *form_parse(const char *s, size_t n, const char **why)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    size_t i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && s[e] != '&')
            e++;
        if (e > i) {
            size_t eq = i;
            while (eq < e && s[eq] != '=')
                eq++;
            char *k = form_decode(s + i, eq - i);
            char *v = form_decode(eq < e ? s + eq + 1 : "", eq < e ? e - eq - 1 : 0);
            bool ok = k && v && *k;
            if (!ok)
                *why = "The request body is not valid application/x-www-form-urlencoded.";
            else if (json_object_get(o, k)) {
                *why = "A parameter was sent more than once.";
                ok = false;
            } else {
                json_t *js = json_string(v);
                ok = js && json_object_set_new(o, k, js) == 0;
                if (!ok)
                    *why = "A parameter is not valid UTF-8.";
            }
            free(k);
            free(v);
            if (!ok) {
                json_decref(o);
                return NULL;
            }
        }
        i = e + 1;
    }
    return o;
}

/* The request body as a JSON object (form or JSON).  NULL with *why. */
static json_t *body_params(struct request *r, bool form_only, const char **why)
{
    const char *ct = req_header(r, "Content-Type");
    const char *s = r->body_text ? r->body_text : "";
    size_t n = r->body_text ? r->body_len : 0;
    if (n == 0) {
        *why = "The request body is empty.";
        return NULL;
    }
    if (memchr(s, 0, n)) {
        *why = "The request body holds a NUL byte.";
        return NULL;
    }
    bool json;
    if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
        json = false;
    else if (ct && strncasecmp(ct, "application/json", 16) == 0)
        json = true;
    else if (ct && *ct) {
        *why = form_only ? "Send the form as application/x-www-form-urlencoded."
                         : "Send the parameters as application/json or "
                           "application/x-www-form-urlencoded.";
        return NULL;
    } else {
        size_t k = 0;
        while (k < n && (s[k] == ' ' || s[k] == '\n' || s[k] == '\r' || s[k] == '\t'))
            k++;
        json = k < n && s[k] == '{';
    }
    if (json && form_only) {
        *why = "Send the form as application/x-www-form-urlencoded.";
        return NULL;
    }
    if (!json)
        return form_parse(s, n, why);
    json_error_t je;
    json_t *o = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        *why = "The request body is not a JSON object.";
        return NULL;
    }
    return o;
}

/* A string parameter; NULL when absent.  *bad when present but not a
 * non-empty string. */
static const char *param(json_t *p, const char *name, bool *bad)
{
    json_t *v = json_object_get(p, name);
    if (!v || json_is_null(v))
        return NULL;
    const char *s = json_string_value(v);
    if (!s || !*s) {
        *bad = true;
        return NULL;
    }
    return s;
}

/* ---- the admin's companies --------------------------------------------- */

struct company {
    char uuid[SB_UUID_LEN + 1];
    char name[128];
};

/* The companies the sandbox admin may grant: demo first, then other. */
static int admin_companies(sqlite3 *db, struct company out[2])
{
    static const char *sql = "SELECT doc FROM companies WHERE uuid=?";
    const char *ids[2] = {SB_DEMO_COMPANY, SB_OTHER_COMPANY};
    int n = 0;
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = db_stmt(db, sql);
        if (!st)
            return -1;
        db_bind_text(st, 1, ids[i]);
        if (sqlite3_step(st) == SQLITE_ROW) {
            json_t *d = db_col_json(st, 0);
            const char *nm = json_string_value(json_object_get(d, "name"));
            snprintf(out[n].uuid, sizeof out[n].uuid, "%s", ids[i]);
            snprintf(out[n].name, sizeof out[n].name, "%s", nm ? nm : ids[i]);
            json_decref(d);
            n++;
        }
        sqlite3_reset(st);
    }
    return n;
}

/* ---- GET /oauth/authorize --------------------------------------------------- */

static void hidden(struct hbuf *b, const char *name, const char *value)
{
    hbuf_raw(b, "<input type=\"hidden\" name=\"");
    hbuf_raw(b, name);
    hbuf_raw(b, "\" value=\"");
    hbuf_esc(b, value);
    hbuf_raw(b, "\">\n");
}

static char *consent_page(const struct app *a, const char *redirect_uri, const char *state,
                          const char *scope, const char *form_token,
                          const struct company *cs, int nc)
{
    struct hbuf b = {0};
    char title[300];
    snprintf(title, sizeof title, "Authorize %s", a->name);
    page_head(&b, title);
    hbuf_fmt(&b, "<p class=\"who\">Gusto sandbox &middot; signed in as %s</p>\n", ADMIN_NAME);
    hbuf_raw(&b, "<h1><strong>");
    hbuf_esc(&b, a->name);
    hbuf_raw(&b, "</strong> wants to access your Gusto account</h1>\n"
                 "<p class=\"muted\">Client ID <code>");
    hbuf_esc(&b, a->client_id);
    hbuf_raw(&b, "</code></p>\n<p>It asks for these permissions:</p>\n<ul>\n");
    for (const char *p = scope; *p;) {
        size_t n = strcspn(p, " ");
        char one[128];
        snprintf(one, sizeof one, "%.*s", (int)(n < 127 ? n : 127), p);
        hbuf_raw(&b, "<li><code>");
        hbuf_esc(&b, one);
        hbuf_raw(&b, "</code></li>\n");
        p += n;
        while (*p == ' ')
            p++;
    }
    hbuf_raw(&b, "</ul>\n<form method=\"post\" action=\"/oauth/authorize\">\n");
    hidden(&b, "client_id", a->client_id);
    hidden(&b, "redirect_uri", redirect_uri);
    hidden(&b, "response_type", "code");
    if (state)
        hidden(&b, "state", state);
    hidden(&b, "scope", scope);
    hidden(&b, "form_token", form_token);
    if (nc > 1) {
        hbuf_raw(&b, "<label for=\"company\">Company</label>\n"
                     "<select id=\"company\" name=\"company\">\n");
        for (int i = 0; i < nc; i++) {
            hbuf_raw(&b, "<option value=\"");
            hbuf_esc(&b, cs[i].uuid);
            hbuf_raw(&b, i == 0 ? "\" selected>" : "\">");
            hbuf_esc(&b, cs[i].name);
            hbuf_raw(&b, "</option>\n");
        }
        hbuf_raw(&b, "</select>\n");
    } else if (nc == 1) {
        hidden(&b, "company", cs[0].uuid);
        hbuf_raw(&b, "<p>Company: <strong>");
        hbuf_esc(&b, cs[0].name);
        hbuf_raw(&b, "</strong></p>\n");
    }
    hbuf_raw(&b, "<div class=\"actions\">\n"
                 "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n"
                 "<button type=\"submit\" name=\"decision\" value=\"allow\" "
                 "class=\"allow\">Allow</button>\n</div>\n</form>\n"
                 "<p class=\"muted\">Either way you return to <code>");
    hbuf_esc(&b, redirect_uri);
    hbuf_raw(&b, "</code></p>\n</main>\n</body>\n</html>\n");
    return hbuf_take(&b);
}

int h_oauth_authorize_get(struct request *r)
{
    bool dup = false;
    const char *client_id = query1(r, "client_id", &dup);
    const char *redirect_uri = query1(r, "redirect_uri", &dup);
    if (dup)
        return html_error(r, 400, "Invalid authorization request",
                          "client_id or redirect_uri was sent more than once.");
    if (!client_id || !*client_id)
        return html_error(r, 400, "Invalid authorization request",
                          "The request has no client_id.");
    const struct app *a = oauth_find_app(client_id);
    if (!a)
        return html_error(r, 400, "Unknown application",
                          "No application is registered with this client_id.");
    if (!redirect_uri || !*redirect_uri)
        return html_error(r, 400, "Invalid authorization request",
                          "The request has no redirect_uri.");
    if (!oauth_app_has_uri(a, redirect_uri))
        return html_error(r, 400, "Invalid redirect_uri",
                          "The redirect_uri does not exactly match one registered for this "
                          "application, so the sandbox will not send you there.");

    /* From here on errors go back to the (registered) redirect_uri. */
    const char *response_type = query1(r, "response_type", &dup);
    const char *state = query1(r, "state", &dup);
    const char *scope = query1(r, "scope", &dup);
    const char *challenge = query1(r, "code_challenge", &dup);
    const char *method = query1(r, "code_challenge_method", &dup);
    if (dup)
        return redirect_error(r, redirect_uri, "invalid_request",
                              "A parameter was sent more than once.", NULL);
    if (state && strlen(state) > MAX_STATE)
        return redirect_error(r, redirect_uri, "invalid_request",
                              "state is longer than 1024 characters.", NULL);
    if (state && !*state)
        state = NULL;
    if (!response_type || !*response_type)
        return redirect_error(r, redirect_uri, "invalid_request",
                              "response_type is missing; use response_type=code.", state);
    if (strcmp(response_type, "code") != 0)
        return redirect_error(r, redirect_uri, "unsupported_response_type",
                              "Only response_type=code is supported.", state);
    /* PKCE (RFC 7636 section 4.4): S256 only; "plain" (the default when no
     * method is named) would send the verifier itself in this URL. */
    if (challenge && !*challenge)
        challenge = NULL;
    if (!challenge && method && *method)
        return redirect_error(r, redirect_uri, "invalid_request",
                              "code_challenge_method was sent without code_challenge.", state);
    if (challenge && (!method || strcmp(method, "S256") != 0))
        return redirect_error(r, redirect_uri, "invalid_request",
                              "code_challenge_method must be S256.", state);
    if (challenge && !pkce_valid(challenge))
        return redirect_error(r, redirect_uri, "invalid_request",
                              "code_challenge must be 43 to 128 characters of A-Z, a-z, 0-9, "
                              "'-', '.', '_' or '~'.", state);
    if (!challenge && a->pkce)
        return redirect_error(r, redirect_uri, "invalid_request",
                              "code_challenge is required: this client registered dynamically "
                              "and must use PKCE (code_challenge_method=S256).", state);
    char granted[512], why[160];
    if (scope && *scope) {
        if (oauth_norm_scopes(scope, a->scopes, granted, why, sizeof why) != 0)
            return redirect_error(r, redirect_uri, "invalid_scope", why, state);
    } else {
        snprintf(granted, sizeof granted, "%s", a->scopes);
    }

    struct company cs[2];
    int nc = admin_companies(r->db, cs);
    if (nc <= 0)
        return reply_error(r, 500, "request", "internal_error",
                           "An unexpected error has occurred.");
    char form[44], hash[65];
    if (oauth_random_token(form) != 0)
        return reply_error(r, 500, "request", "internal_error",
                           "An unexpected error has occurred.");
    sha256_hex(form, hash);
    static const char *purge = "DELETE FROM oauth_forms WHERE expires_at < ?";
    static const char *ins =
        "INSERT INTO oauth_forms(form_hash, client_id, redirect_uri, state, scope,"
        " expires_at, code_challenge) VALUES(?,?,?,?,?,?,?)";
    sqlite3_int64 now = (sqlite3_int64)time(NULL);
    if (db_begin_write(r->db) != 0)
        return db_failed(r);
    sqlite3_stmt *st = db_stmt(r->db, purge);
    if (!st)
        return db_failed(r);
    sqlite3_bind_int64(st, 1, now);
    sqlite3_step(st);
    sqlite3_reset(st);
    st = db_stmt(r->db, ins);
    if (!st)
        return db_failed(r);
    db_bind_text(st, 1, hash);
    db_bind_text(st, 2, a->client_id);
    db_bind_text(st, 3, redirect_uri);
    db_bind_text(st, 4, state);
    db_bind_text(st, 5, granted);
    sqlite3_bind_int64(st, 6, now + FORM_TTL);
    db_bind_text(st, 7, challenge);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || db_commit(r->db) != 0)
        return db_failed(r);

    html_headers(r);
    return reply_raw(r, 200, consent_page(a, redirect_uri, state, granted, form, cs, nc),
                     "text/html; charset=utf-8");
}

/* ---- POST /oauth/authorize --------------------------------------------------- */

static bool same(const char *a, const char *b)
{
    if (!a || !*a)
        return !b || !*b;
    return b && strcmp(a, b) == 0;
}

int h_oauth_authorize_post(struct request *r)
{
    const char *why = NULL;
    json_t *p = body_params(r, true, &why);
    if (!p)
        return html_error(r, 400, "Invalid consent form", why);
    bool bad = false;
    const char *form = param(p, "form_token", &bad);
    const char *decision = param(p, "decision", &bad);
    const char *company = param(p, "company", &bad);
    int ret;
    if (!form) {
        ret = html_error(r, 400, "Invalid consent form", "The form has no form_token.");
        goto out;
    }
    char hash[65];
    sha256_hex(form, hash);
    static const char *sel =
        "SELECT client_id, redirect_uri, state, scope, expires_at, used, code_challenge"
        " FROM oauth_forms WHERE form_hash=?";
    static const char *use = "UPDATE oauth_forms SET used=1 WHERE form_hash=?";
    if (db_begin_write(r->db) != 0) {
        ret = db_failed(r);
        goto out;
    }
    sqlite3_stmt *st = db_stmt(r->db, sel);
    if (!st) {
        ret = db_failed(r);
        goto out;
    }
    db_bind_text(st, 1, hash);
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 5) ||
        sqlite3_column_int64(st, 4) < (sqlite3_int64)time(NULL)) {
        sqlite3_reset(st);
        db_rollback(r->db);
        ret = html_error(r, 400, "Consent form expired",
                         "This consent form is unknown, expired or was already used. "
                         "Start the authorization again from the application.");
        goto out;
    }
    char client_id[256], redirect_uri[MAX_URI_LEN + 1], state[MAX_STATE + 1], scope[512];
    bool has_state = sqlite3_column_type(st, 2) != SQLITE_NULL;
    snprintf(client_id, sizeof client_id, "%s", db_col_text(st, 0));
    snprintf(redirect_uri, sizeof redirect_uri, "%s", db_col_text(st, 1));
    snprintf(state, sizeof state, "%s", db_col_text(st, 2));
    snprintf(scope, sizeof scope, "%s", db_col_text(st, 3));
    char challenge[129];
    bool has_challenge = sqlite3_column_type(st, 6) != SQLITE_NULL;
    snprintf(challenge, sizeof challenge, "%s", db_col_text(st, 6));
    sqlite3_reset(st);
    bool fp_bad = false;
    if (!same(client_id, param(p, "client_id", &fp_bad)) ||
        !same(redirect_uri, param(p, "redirect_uri", &fp_bad)) ||
        !same(has_state ? state : NULL, param(p, "state", &fp_bad)) ||
        !same(scope, param(p, "scope", &fp_bad)) || fp_bad) {
        db_rollback(r->db);
        ret = html_error(r, 400, "Invalid consent form",
                         "The form's fields do not match the authorization request.");
        goto out;
    }
    const struct app *a = oauth_find_app(client_id);
    if (!a || !oauth_app_has_uri(a, redirect_uri)) {
        db_rollback(r->db);
        ret = html_error(r, 400, "Unknown application",
                         "The application is no longer registered.");
        goto out;
    }
    bool allow = decision && strcmp(decision, "allow") == 0;
    bool deny = decision && strcmp(decision, "deny") == 0;
    if (!allow && !deny) {
        db_rollback(r->db);
        ret = html_error(r, 400, "Invalid consent form",
                         "decision must be allow or deny.");
        goto out;
    }
    char cuuid[SB_UUID_LEN + 1] = "";
    if (allow) {
        struct company cs[2];
        int nc = admin_companies(r->db, cs);
        if (company && strcmp(company, "demo") == 0)
            company = SB_DEMO_COMPANY;
        else if (company && strcmp(company, "other") == 0)
            company = SB_OTHER_COMPANY;
        if (!company && nc == 1)
            company = cs[0].uuid;
        for (int i = 0; i < nc; i++)
            if (company && strcmp(company, cs[i].uuid) == 0)
                snprintf(cuuid, sizeof cuuid, "%.36s", cs[i].uuid);
        if (!*cuuid) {
            db_rollback(r->db);
            ret = html_error(r, 400, "Choose a company",
                             "company must be one of your companies.");
            goto out;
        }
    }
    /* The form is spent whatever the decision. */
    st = db_stmt(r->db, use);
    if (!st) {
        ret = db_failed(r);
        goto out;
    }
    db_bind_text(st, 1, hash);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        ret = db_failed(r);
        goto out;
    }
    if (deny) {
        if (db_commit(r->db) != 0) {
            ret = db_failed(r);
            goto out;
        }
        ret = redirect_error(r, redirect_uri, "access_denied",
                             "The user denied the authorization request.",
                             has_state ? state : NULL);
        goto out;
    }
    char code[44], chash[65], grant[SB_UUID_LEN + 1];
    if (oauth_random_token(code) != 0) {
        ret = db_failed(r);
        goto out;
    }
    sha256_hex(code, chash);
    uuid_random(grant);
    static const char *purge = "DELETE FROM oauth_codes WHERE expires_at < ?";
    static const char *ins =
        "INSERT INTO oauth_codes(code_hash, client_id, redirect_uri, company_uuid, scope,"
        " grant_id, expires_at, code_challenge) VALUES(?,?,?,?,?,?,?,?)";
    sqlite3_int64 now = (sqlite3_int64)time(NULL);
    st = db_stmt(r->db, purge);
    if (!st) {
        ret = db_failed(r);
        goto out;
    }
    /* Keep spent and expired codes a day, so a late reuse is still caught. */
    sqlite3_bind_int64(st, 1, now - 86400);
    sqlite3_step(st);
    sqlite3_reset(st);
    st = db_stmt(r->db, ins);
    if (!st) {
        ret = db_failed(r);
        goto out;
    }
    db_bind_text(st, 1, chash);
    db_bind_text(st, 2, client_id);
    db_bind_text(st, 3, redirect_uri);
    db_bind_text(st, 4, cuuid);
    db_bind_text(st, 5, scope);
    db_bind_text(st, 6, grant);
    sqlite3_bind_int64(st, 7, now + sb_cfg.code_ttl);
    db_bind_text(st, 8, has_challenge ? challenge : NULL);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || db_commit(r->db) != 0) {
        ret = db_failed(r);
        goto out;
    }
    ret = redirect_to(r, redirect_uri, "code", code, "state", has_state ? state : NULL, NULL,
                      NULL);
    OPENSSL_cleanse(code, sizeof code);
out:
    json_decref(p);
    return ret;
}

/* ---- POST /oauth/token ----------------------------------------------------------- */

/* New access + refresh token for the grant, inside the caller's transaction;
 * fills the 200 body. */
/* Store a new access token (its hash) for the tokens table auth.c checks.
 * 0, or -1 on a database error. */
static int store_access(struct request *r, const char *hash, const char *company,
                        const char *scope, sqlite3_int64 expires_at, const char *grant,
                        const char *owner, const char *revokes)
{
    static const char *tok =
        "INSERT INTO tokens(token_hash, company_uuid, scopes, expires_at, grant_id,"
        " owner_uuid, revokes) VALUES(?,?,?,?,?,?,?)";
    sqlite3_stmt *st = db_stmt(r->db, tok);
    if (!st)
        return -1;
    db_bind_text(st, 1, hash);
    db_bind_text(st, 2, company);
    db_bind_text(st, 3, scope);
    sqlite3_bind_int64(st, 4, expires_at);
    db_bind_text(st, 5, grant);
    db_bind_text(st, 6, owner);
    db_bind_text(st, 7, revokes);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int mint(struct request *r, const char *client_id, const char *company,
                const char *scope, const char *grant, const char *revokes)
{
    /* `revokes`: the refresh token (hash) this pair replaces.  As Gusto
     * documents, it is revoked on the first use of the new access token
     * (auth.c), not now: a client that dies before storing the new pair can
     * still refresh with the old one. */
    static const char *ref =
        "INSERT INTO oauth_refresh(token_hash, client_id, company_uuid, scope, grant_id,"
        " created_at) VALUES(?,?,?,?,?,?)";
    char access[44], refresh[44], ah[65], rh[65];
    if (oauth_random_token(access) != 0 || oauth_random_token(refresh) != 0)
        return -1;
    sha256_hex(access, ah);
    sha256_hex(refresh, rh);
    sqlite3_int64 now = (sqlite3_int64)time(NULL);
    if (store_access(r, ah, company, scope, now + sb_cfg.access_ttl, grant, ADMIN_UUID,
                     revokes) != 0)
        return -1;
    sqlite3_stmt *st = db_stmt(r->db, ref);
    if (!st)
        return -1;
    db_bind_text(st, 1, rh);
    db_bind_text(st, 2, client_id);
    db_bind_text(st, 3, company);
    db_bind_text(st, 4, scope);
    db_bind_text(st, 5, grant);
    sqlite3_bind_int64(st, 6, now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return -1;
    req_add_header(r, "Cache-Control", "no-store");
    req_add_header(r, "Pragma", "no-cache");
    reply_json(r, 200,
               json_pack("{s:s, s:s, s:I, s:s, s:s, s:I}", "access_token", access,
                         "token_type", "Bearer", "expires_in", (json_int_t)sb_cfg.access_ttl,
                         "refresh_token", refresh, "scope", scope, "created_at",
                         (json_int_t)now));
    OPENSSL_cleanse(access, sizeof access);
    OPENSSL_cleanse(refresh, sizeof refresh);
    return r->reply ? 0 : -1;
}

/* grant_type=system_access: a system-level token for the app itself (no
 * company, no refresh token), for the partner endpoints such as webhook
 * subscriptions.  Its grant id is "system:CLIENT_ID" and its owner column
 * holds the app's uuid (token_info's Oauth::Application resource). */
static int grant_system(struct request *r, const struct app *a)
{
    char access[44], ah[65], grant[80], app_uuid[SB_UUID_LEN + 1];
    if (oauth_random_token(access) != 0)
        return reply_error(r, 500, "request", "internal_error", "no randomness");
    sha256_hex(access, ah);
    sb_app_uuid(a->client_id, app_uuid);
    snprintf(grant, sizeof grant, "system:%.60s", a->client_id);
    sqlite3_int64 now = (sqlite3_int64)time(NULL);
    if (db_begin_write(r->db) != 0 ||
        store_access(r, ah, "", SB_SYSTEM_SCOPES, now + sb_cfg.access_ttl, grant, app_uuid,
                     NULL) != 0 ||
        db_commit(r->db) != 0)
        return db_failed(r);
    req_add_header(r, "Cache-Control", "no-store");
    req_add_header(r, "Pragma", "no-cache");
    reply_json(r, 200,
               json_pack("{s:s, s:s, s:I, s:I}", "access_token", access, "token_type",
                         "Bearer", "created_at", (json_int_t)now, "expires_in",
                         (json_int_t)sb_cfg.access_ttl));
    OPENSSL_cleanse(access, sizeof access);
    return r->reply ? 0 : -1;
}

static int revoke_grant(sqlite3 *db, const char *grant)
{
    static const char *t = "UPDATE tokens SET revoked=1 WHERE grant_id=?";
    static const char *f = "UPDATE oauth_refresh SET revoked=1 WHERE grant_id=?";
    const char *sqls[2] = {t, f};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = db_stmt(db, sqls[i]);
        if (!st)
            return -1;
        db_bind_text(st, 1, grant);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return -1;
    }
    return 0;
}

static int grant_code(struct request *r, const struct app *a, const char *code,
                      const char *redirect_uri, const char *verifier)
{
    static const char *sel =
        "SELECT client_id, redirect_uri, company_uuid, scope, grant_id, expires_at, used,"
        " code_challenge FROM oauth_codes WHERE code_hash=?";
    static const char *use = "UPDATE oauth_codes SET used=1 WHERE code_hash=?";
    char hash[65];
    sha256_hex(code, hash);
    if (db_begin_write(r->db) != 0)
        return db_failed(r);
    sqlite3_stmt *st = db_stmt(r->db, sel);
    if (!st)
        return db_failed(r);
    db_bind_text(st, 1, hash);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        db_rollback(r->db);
        return oauth_error(r, 400, "invalid_grant", "The authorization code is invalid.");
    }
    char client_id[256], uri[MAX_URI_LEN + 1], company[SB_UUID_LEN + 1], scope[512],
        grant[SB_UUID_LEN + 1];
    snprintf(client_id, sizeof client_id, "%s", db_col_text(st, 0));
    snprintf(uri, sizeof uri, "%s", db_col_text(st, 1));
    snprintf(company, sizeof company, "%s", db_col_text(st, 2));
    snprintf(scope, sizeof scope, "%s", db_col_text(st, 3));
    snprintf(grant, sizeof grant, "%s", db_col_text(st, 4));
    sqlite3_int64 expires = sqlite3_column_int64(st, 5);
    int used = sqlite3_column_int(st, 6);
    char challenge[129];
    bool has_challenge = sqlite3_column_type(st, 7) != SQLITE_NULL;
    snprintf(challenge, sizeof challenge, "%s", db_col_text(st, 7));
    sqlite3_reset(st);
    if (strcmp(client_id, a->client_id) != 0) {
        db_rollback(r->db);
        return oauth_error(r, 400, "invalid_grant",
                           "The authorization code was issued to another client.");
    }
    if (used) {
        /* RFC 6749 section 4.1.2: a replayed code revokes what it issued. */
        if (revoke_grant(r->db, grant) != 0 || db_commit(r->db) != 0)
            return db_failed(r);
        return oauth_error(r, 400, "invalid_grant",
                           "The authorization code was already used; the tokens issued "
                           "for it are now revoked.");
    }
    if (expires < (sqlite3_int64)time(NULL)) {
        db_rollback(r->db);
        return oauth_error(r, 400, "invalid_grant",
                           "The authorization code expired (codes live %ld seconds).",
                           sb_cfg.code_ttl);
    }
    if (strcmp(uri, redirect_uri) != 0) {
        db_rollback(r->db);
        return oauth_error(r, 400, "invalid_grant",
                           "redirect_uri does not match the redirect_uri of the "
                           "authorization request.");
    }
    /* RFC 7636 section 4.6: a code issued with a challenge needs the
     * verifier whose S256 it is.  Without a challenge a verifier is
     * ignored, as any unrecognised parameter (RFC 6749 section 3.2). */
    if (has_challenge) {
        char want[44];
        if (!verifier || !pkce_valid(verifier)) {
            db_rollback(r->db);
            return oauth_error(r, 400, "invalid_grant",
                               verifier ? "code_verifier must be 43 to 128 characters of "
                                          "A-Z, a-z, 0-9, '-', '.', '_' or '~'."
                                        : "This code was issued with a code_challenge: "
                                          "send its code_verifier.");
        }
        if (pkce_s256(verifier, strlen(verifier), want) != 0 ||
            CRYPTO_memcmp(want, challenge, 44) != 0 || strlen(challenge) != 43) {
            db_rollback(r->db);
            return oauth_error(r, 400, "invalid_grant",
                               "code_verifier does not match the code_challenge of the "
                               "authorization request.");
        }
    }
    st = db_stmt(r->db, use);
    if (!st)
        return db_failed(r);
    db_bind_text(st, 1, hash);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || mint(r, a->client_id, company, scope, grant, NULL) != 0 ||
        db_commit(r->db) != 0)
        return db_failed(r);
    return 0;
}

static int grant_refresh(struct request *r, const struct app *a, const char *refresh)
{
    static const char *sel =
        "SELECT client_id, company_uuid, scope, grant_id, revoked FROM oauth_refresh"
        " WHERE token_hash=?";
    char hash[65];
    sha256_hex(refresh, hash);
    if (db_begin_write(r->db) != 0)
        return db_failed(r);
    sqlite3_stmt *st = db_stmt(r->db, sel);
    if (!st)
        return db_failed(r);
    db_bind_text(st, 1, hash);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        db_rollback(r->db);
        return oauth_error(r, 400, "invalid_grant", "The refresh token is invalid.");
    }
    char client_id[256], company[SB_UUID_LEN + 1], scope[512], grant[SB_UUID_LEN + 1];
    snprintf(client_id, sizeof client_id, "%s", db_col_text(st, 0));
    snprintf(company, sizeof company, "%s", db_col_text(st, 1));
    snprintf(scope, sizeof scope, "%s", db_col_text(st, 2));
    snprintf(grant, sizeof grant, "%s", db_col_text(st, 3));
    int revoked = sqlite3_column_int(st, 4);
    sqlite3_reset(st);
    /* One from the other environment (--as): Gusto Demo and Production do
     * not know each other's tokens (docs/sandbox.md, "Demo or Production"). */
    char env[16];
    if (!auth_env_of(r->db, hash, env))
        return db_failed(r);
    if (strcmp(env, sb_env_name()) != 0) {
        char msg[300];
        auth_env_message("refresh token", env, msg, sizeof msg);
        db_rollback(r->db);
        return oauth_error(r, 400, "invalid_grant", "%s", msg);
    }
    if (strcmp(client_id, a->client_id) != 0) {
        db_rollback(r->db);
        return oauth_error(r, 400, "invalid_grant",
                           "The refresh token was issued to another client.");
    }
    if (revoked) {
        db_rollback(r->db);
        return oauth_error(r, 400, "invalid_grant",
                           "The refresh token was revoked: refresh tokens are single use, "
                           "and this one was already exchanged or its grant revoked.");
    }
    if (mint(r, a->client_id, company, scope, grant, hash) != 0 ||
        db_commit(r->db) != 0)
        return db_failed(r);
    return 0;
}

/* RFC 6749 section 2.3.1: "Authorization: Basic" with base64 of the
 * form-encoded client_id ":" client_secret.  0 when the header is absent,
 * 1 with *id and *secret (malloc'd) set, -1 when it is malformed. */
static int basic_credentials(struct request *r, char **id, char **secret)
{
    *id = *secret = NULL;
    const char *h = req_header(r, "Authorization");
    if (!h)
        return 0;
    if (strncasecmp(h, "Basic ", 6) != 0)
        return -1;
    h += 6;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    if (n == 0 || n % 4 || n > 4096)
        return -1;
    unsigned char *raw = malloc(n / 4 * 3 + 1);
    if (!raw)
        return -1;
    int len = EVP_DecodeBlock(raw, (const unsigned char *)h, (int)n);
    if (len < 0) {
        free(raw);
        return -1;
    }
    for (size_t k = n; k > 0 && h[k - 1] == '='; k--)
        len--;
    raw[len] = 0;
    char *colon = memchr(raw, ':', (size_t)len);
    if (!colon || memchr(raw, 0, (size_t)len)) {
        free(raw);
        return -1;
    }
    *id = form_decode((const char *)raw, (size_t)(colon - (char *)raw));
    *secret = form_decode(colon + 1, (size_t)((char *)raw + len - colon - 1));
    free(raw);
    if (!*id || !*secret || !**id || !**secret) {
        free(*id);
        free(*secret);
        *id = *secret = NULL;
        return -1;
    }
    return 1;
}

/* 401 invalid_client; with the challenge RFC 6749 section 5.2 asks for
 * when the client tried the Authorization header. */
static int client_failed(struct request *r, bool basic, const char *desc)
{
    if (basic)
        req_add_header(r, "WWW-Authenticate", "Basic realm=\"gusto-sandbox\"");
    return oauth_error(r, 401, "invalid_client", "%s", desc);
}

int h_oauth_token(struct request *r)
{
    char *basic_id = NULL, *basic_secret = NULL;
    int basic = basic_credentials(r, &basic_id, &basic_secret);
    if (req_query(r, "client_secret"))
        return oauth_error(r, 400, "invalid_request",
                           "client_secret must be sent in the request body, never in the "
                           "URL query string.");
    if (basic < 0)
        return client_failed(r, true, "The Authorization header is not HTTP Basic client "
                                      "authentication (RFC 6749 section 2.3.1).");
    const char *why = NULL;
    json_t *p = body_params(r, false, &why);
    if (!p) {
        free(basic_id);
        free(basic_secret);
        return oauth_error(r, 400, "invalid_request", "%s", why);
    }
    bool bad = false;
    const char *grant_type = param(p, "grant_type", &bad);
    const char *client_id = param(p, "client_id", &bad);
    const char *secret = param(p, "client_secret", &bad);
    const char *code = param(p, "code", &bad);
    const char *redirect_uri = param(p, "redirect_uri", &bad);
    const char *refresh = param(p, "refresh_token", &bad);
    const char *verifier = param(p, "code_verifier", &bad);
    int ret;
    if (bad) {
        ret = oauth_error(r, 400, "invalid_request",
                          "Every parameter must be a non-empty string.");
        goto out;
    }
    if (basic > 0) {
        /* RFC 6749 section 2.3: one authentication method per request; a
         * client_id in the body too must be the same client. */
        if (secret) {
            ret = oauth_error(r, 400, "invalid_request",
                              "Use one client authentication method: the Authorization "
                              "header or client_secret in the body, not both.");
            goto out;
        }
        if (client_id && strcmp(client_id, basic_id) != 0) {
            ret = oauth_error(r, 400, "invalid_request",
                              "client_id in the body is not the client of the Authorization "
                              "header.");
            goto out;
        }
        client_id = basic_id;
        secret = basic_secret;
    }
    if (!grant_type) {
        ret = oauth_error(r, 400, "invalid_request", "Missing required parameter: grant_type.");
        goto out;
    }
    bool is_code = strcmp(grant_type, "authorization_code") == 0;
    bool is_refresh = strcmp(grant_type, "refresh_token") == 0;
    bool is_system = strcmp(grant_type, "system_access") == 0;
    if (!is_code && !is_refresh && !is_system) {
        ret = oauth_error(r, 400, "unsupported_grant_type",
                          "grant_type must be authorization_code, refresh_token or "
                          "system_access.");
        goto out;
    }
    if (is_system) {
        const struct app *sa = client_id && secret ? oauth_find_app(client_id) : NULL;
        if (!client_id || !secret)
            ret = oauth_error(r, 400, "invalid_request",
                              "Missing required parameter(s): client_id, client_secret.");
        else if (!sa || !oauth_secret_ok(sa, secret))
            ret = client_failed(r, basic > 0,
                                "Client authentication failed: unknown client_id or wrong "
                                "client_secret.");
        else
            ret = grant_system(r, sa);
        goto out;
    }
    char missing[128] = "";
    const char *need[4][2] = {{"client_id", client_id},
                              {"client_secret", secret},
                              {is_code ? "code" : "refresh_token", is_code ? code : refresh},
                              {"redirect_uri", is_code ? redirect_uri : "-"}};
    for (int i = 0; i < 4; i++)
        if (!need[i][1]) {
            size_t n = strlen(missing);
            snprintf(missing + n, sizeof missing - n, "%s%s", n ? ", " : "", need[i][0]);
        }
    if (*missing) {
        ret = oauth_error(r, 400, "invalid_request", "Missing required parameter(s): %s.",
                          missing);
        goto out;
    }
    const struct app *a = oauth_find_app(client_id);
    if (!a || !oauth_secret_ok(a, secret)) {
        ret = client_failed(r, basic > 0,
                            "Client authentication failed: unknown client_id or wrong "
                            "client_secret.");
        goto out;
    }
    /* A registered client authenticates the way it registered (RFC 7591
     * token_endpoint_auth_method). */
    if (a->auth == OAUTH_AUTH_BASIC && basic <= 0) {
        ret = client_failed(r, false,
                            "This client registered token_endpoint_auth_method "
                            "client_secret_basic: send its credentials in an HTTP Basic "
                            "Authorization header.");
        goto out;
    }
    if (a->auth == OAUTH_AUTH_POST && basic > 0) {
        ret = client_failed(r, true,
                            "This client registered token_endpoint_auth_method "
                            "client_secret_post: send client_secret in the body.");
        goto out;
    }
    if (is_refresh && redirect_uri && !oauth_app_has_uri(a, redirect_uri)) {
        ret = oauth_error(r, 400, "invalid_grant",
                          "redirect_uri is not one registered for this client.");
        goto out;
    }
    ret = is_code ? grant_code(r, a, code, redirect_uri, verifier)
                  : grant_refresh(r, a, refresh);
out:
    json_decref(p);
    free(basic_id);
    if (basic_secret) {
        OPENSSL_cleanse(basic_secret, strlen(basic_secret));
        free(basic_secret);
    }
    return ret;
}

/* ---- POST /oauth/revoke ---------------------------------------------------------- */

/* Gusto: "Revokes the given access token. After revoking, this token can
 * no longer be used to make requests nor can it be refreshed" (client_id,
 * client_secret, token).  So the token's whole grant goes: its access
 * tokens (401 afterwards, in auth.c) and its refresh tokens.  An unknown or
 * already revoked token is answered 200 like a revoked one, as RFC 7009
 * section 2.2 asks; a token of another app is refused. */
int h_oauth_revoke(struct request *r)
{
    if (req_query(r, "client_secret") || req_query(r, "token"))
        return oauth_error(r, 400, "invalid_request",
                           "client_secret and token must be sent in the request body, never "
                           "in the URL query string.");
    const char *why = NULL;
    json_t *p = body_params(r, false, &why);
    if (!p)
        return oauth_error(r, 400, "invalid_request", "%s", why);
    bool bad = false;
    const char *client_id = param(p, "client_id", &bad);
    const char *secret = param(p, "client_secret", &bad);
    const char *token = param(p, "token", &bad);
    int ret;
    const struct app *a = client_id ? oauth_find_app(client_id) : NULL;
    if (bad || !client_id || !secret || !token) {
        ret = oauth_error(r, 400, "invalid_request",
                          "client_id, client_secret and token are required, each a non-empty "
                          "string.");
    } else if (!a || !oauth_secret_ok(a, secret)) {
        ret = oauth_error(r, 401, "invalid_client",
                          "Client authentication failed: unknown client_id or wrong "
                          "client_secret.");
    } else {
        static const char *sel =
            "SELECT t.grant_id, f.client_id FROM tokens t LEFT JOIN oauth_refresh f"
            " ON f.grant_id = t.grant_id WHERE t.token_hash=? LIMIT 1";
        char hash[65], grant[SB_UUID_LEN + 1] = "", owner[256] = "";
        sha256_hex(token, hash);
        if (db_begin_write(r->db) != 0) {
            ret = db_failed(r);
            goto out;
        }
        sqlite3_stmt *st = db_stmt(r->db, sel);
        if (!st) {
            ret = db_failed(r);
            goto out;
        }
        db_bind_text(st, 1, hash);
        if (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(grant, sizeof grant, "%s", db_col_text(st, 0));
            snprintf(owner, sizeof owner, "%s", db_col_text(st, 1));
        }
        sqlite3_reset(st);
        if (grant[0] && owner[0] && strcmp(owner, a->client_id) != 0) {
            db_rollback(r->db);
            ret = oauth_error(r, 400, "invalid_grant", "The token was issued to another client.");
            goto out;
        }
        if (grant[0] && owner[0] && revoke_grant(r->db, grant) != 0) {
            ret = db_failed(r);
            goto out;
        }
        if (db_commit(r->db) != 0) {
            ret = db_failed(r);
            goto out;
        }
        req_add_header(r, "Cache-Control", "no-store");
        reply_json(r, 200, json_object());
        ret = r->reply ? 0 : -1;
    }
out:
    json_decref(p);
    return ret;
}
