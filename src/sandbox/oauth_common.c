/* oauth_common.c - what the sandbox's OAuth 2.0 handlers share (see
 * oauth_common.h): the OAuth tables (oauth_init), pages, redirects and
 * RFC 6749 errors, request parameters, the signed-in admin's companies
 * and revoking a grant.
 *
 * The handlers are split by job: the consent page and its answer
 * (h_oauth_authorize.c), the token endpoint's grants (h_oauth_token.c),
 * revocation (h_oauth_revoke.c) and dynamic client registration
 * (h_oauth_register.c); apps and clients are oauth_apps.c's.  Client
 * secrets, form tokens, codes, access and refresh tokens are kept only as
 * SHA-256 hashes.  Access tokens go into the tokens table that auth.c
 * checks, so they work on every endpoint.
 *
 * The routes are SB_PUBLIC and not `write`: each handler runs its own
 * BEGIN IMMEDIATE, because some outcomes that must stick (a consumed form,
 * a code reuse that revokes its grant) are answered with a 302 or a 400.
 *
 * Nothing secret ever reaches an error message: descriptions name the
 * parameter that is wrong, never its value. */
#include "sandbox/oauth_common.h"
#include "sandbox/oauth_apps.h"
#include "shared/pctdecode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char SB_PUBLIC[] = "(public)";

const char OAUTH_ADMIN_UUID[] = "5a1d0c8e-3b7f-4e2a-9c61-0d4f2b8a7e13";
const char OAUTH_ADMIN_NAME[] = "Jordan Blake";

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

int oauth_reply_raw(struct request *r, int status, char *text, const char *type)
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

void oauth_page_head(struct hbuf *b, const char *title)
{
    hbuf_raw(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
                "<title>");
    hbuf_esc(b, title);
    hbuf_raw(b, " - Gusto sandbox</title>\n");
    hbuf_raw(b, STYLE);
    hbuf_raw(b, "\n</head>\n<body>\n<main>\n");
}

void oauth_html_headers(struct request *r)
{
    req_add_header(r, "Cache-Control", "no-store");
    req_add_header(r, "X-Frame-Options", "DENY");
    req_add_header(r, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    req_add_header(r, "Referrer-Policy", "no-referrer");
    req_add_header(r, "X-Content-Type-Options", "nosniff");
}

/* An HTML error page; never a redirect (the redirect_uri is not trusted). */
int oauth_html_error(struct request *r, int status, const char *title, const char *msg)
{
    struct hbuf b = {0};
    oauth_page_head(&b, title);
    hbuf_raw(&b, "<p class=\"who\">Gusto sandbox</p>\n<h1>");
    hbuf_esc(&b, title);
    hbuf_raw(&b, "</h1>\n<p>");
    hbuf_esc(&b, msg);
    hbuf_raw(&b, "</p>\n<p class=\"muted\">OAuth error; see docs/sandbox.md, section "
                 "OAuth.</p>\n</main>\n</body>\n</html>\n");
    oauth_html_headers(r);
    return oauth_reply_raw(r, status, hbuf_take(&b), "text/html; charset=utf-8");
}

/* 302 to redirect_uri with the given parameters (NULL values skipped). */
int oauth_redirect_to(struct request *r, const char *uri, const char *k1, const char *v1,
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

int oauth_redirect_error(struct request *r, const char *uri, const char *error,
                         const char *desc, const char *state)
{
    return oauth_redirect_to(r, uri, "error", error, "error_description", desc, "state", state);
}

/* RFC 6749 section 5.2 JSON error. */
int oauth_error(struct request *r, int status, const char *error, const char *fmt, ...)
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

int oauth_db_failed(struct request *r)
{
    db_rollback(r->db);
    return reply_error(r, 500, "request", "internal_error",
                       "An unexpected error has occurred.");
}

/* ---- request parameters --------------------------------------------------- */

/* The query parameter, NULL when absent; *dup when it was sent twice. */
const char *oauth_query1(struct request *r, const char *name, bool *dup)
{
    if (req_query_count(r, name) > 1)
        *dup = true;
    return req_query(r, name);
}

/* Decode n bytes of x-www-form-urlencoded text; NULL when malformed. */
char *oauth_form_decode(const char *s, size_t n)
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
            char *k = oauth_form_decode(s + i, eq - i);
            char *v = oauth_form_decode(eq < e ? s + eq + 1 : "", eq < e ? e - eq - 1 : 0);
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
json_t *oauth_body_params(struct request *r, bool form_only, const char **why)
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
const char *oauth_param(json_t *p, const char *name, bool *bad)
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

/* The companies the sandbox admin may grant: demo first, then other. */
int oauth_admin_companies(sqlite3 *db, struct oauth_company out[2])
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

int oauth_revoke_grant(sqlite3 *db, const char *grant)
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
