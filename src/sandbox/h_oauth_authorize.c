/* h_oauth_authorize.c - the sandbox's OAuth 2.0 consent (RFC 6749 section
 * 4.1.1-4.1.2; NOTES.md section 1):
 *
 *   GET  /oauth/authorize   the consent page (HTML), or a 400 error page
 *   POST /oauth/authorize   Allow / Deny: 302 back to the app's redirect_uri
 *                           with a code, or with access_denied
 *
 * The same handlers serve /v1/mcp/oauth/authorize, where Gusto's CLI signs
 * in.  PKCE (RFC 7636): a code_challenge (S256 only) is kept with the form
 * and then with the code, for the token endpoint (h_oauth_token.c) to
 * check.  The form is single use, bound to what the page showed, and
 * expires after FORM_TTL. */
#include "sandbox/oauth_common.h"
#include "sandbox/oauth_apps.h"
#include "shared/pkce.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_STATE 1024
#define FORM_TTL 1800            /* a consent page may sit open for 30 minutes */

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
                          const struct oauth_company *cs, int nc)
{
    struct hbuf b = {0};
    char title[300];
    snprintf(title, sizeof title, "Authorize %s", a->name);
    oauth_page_head(&b, title);
    hbuf_fmt(&b, "<p class=\"who\">Gusto sandbox &middot; signed in as %s</p>\n",
             OAUTH_ADMIN_NAME);
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
    const char *client_id = oauth_query1(r, "client_id", &dup);
    const char *redirect_uri = oauth_query1(r, "redirect_uri", &dup);
    if (dup)
        return oauth_html_error(r, 400, "Invalid authorization request",
                          "client_id or redirect_uri was sent more than once.");
    if (!client_id || !*client_id)
        return oauth_html_error(r, 400, "Invalid authorization request",
                          "The request has no client_id.");
    const struct app *a = oauth_find_app(client_id);
    if (!a)
        return oauth_html_error(r, 400, "Unknown application",
                          "No application is registered with this client_id.");
    if (!redirect_uri || !*redirect_uri)
        return oauth_html_error(r, 400, "Invalid authorization request",
                          "The request has no redirect_uri.");
    if (!oauth_app_has_uri(a, redirect_uri))
        return oauth_html_error(r, 400, "Invalid redirect_uri",
                          "The redirect_uri does not exactly match one registered for this "
                          "application, so the sandbox will not send you there.");

    /* From here on errors go back to the (registered) redirect_uri. */
    const char *response_type = oauth_query1(r, "response_type", &dup);
    const char *state = oauth_query1(r, "state", &dup);
    const char *scope = oauth_query1(r, "scope", &dup);
    const char *challenge = oauth_query1(r, "code_challenge", &dup);
    const char *method = oauth_query1(r, "code_challenge_method", &dup);
    if (dup)
        return oauth_redirect_error(r, redirect_uri, "invalid_request",
                              "A parameter was sent more than once.", NULL);
    if (state && strlen(state) > MAX_STATE)
        return oauth_redirect_error(r, redirect_uri, "invalid_request",
                              "state is longer than 1024 characters.", NULL);
    if (state && !*state)
        state = NULL;
    if (!response_type || !*response_type)
        return oauth_redirect_error(r, redirect_uri, "invalid_request",
                              "response_type is missing; use response_type=code.", state);
    if (strcmp(response_type, "code") != 0)
        return oauth_redirect_error(r, redirect_uri, "unsupported_response_type",
                              "Only response_type=code is supported.", state);
    /* PKCE (RFC 7636 section 4.4): S256 only; "plain" (the default when no
     * method is named) would send the verifier itself in this URL. */
    if (challenge && !*challenge)
        challenge = NULL;
    if (!challenge && method && *method)
        return oauth_redirect_error(r, redirect_uri, "invalid_request",
                              "code_challenge_method was sent without code_challenge.", state);
    if (challenge && (!method || strcmp(method, "S256") != 0))
        return oauth_redirect_error(r, redirect_uri, "invalid_request",
                              "code_challenge_method must be S256.", state);
    if (challenge && !pkce_valid(challenge))
        return oauth_redirect_error(r, redirect_uri, "invalid_request",
                              "code_challenge must be 43 to 128 characters of A-Z, a-z, 0-9, "
                              "'-', '.', '_' or '~'.", state);
    if (!challenge && a->pkce)
        return oauth_redirect_error(r, redirect_uri, "invalid_request",
                              "code_challenge is required: this client registered dynamically "
                              "and must use PKCE (code_challenge_method=S256).", state);
    char granted[512], why[160];
    if (scope && *scope) {
        if (oauth_norm_scopes(scope, a->scopes, granted, why, sizeof why) != 0)
            return oauth_redirect_error(r, redirect_uri, "invalid_scope", why, state);
    } else {
        snprintf(granted, sizeof granted, "%s", a->scopes);
    }

    struct oauth_company cs[2];
    int nc = oauth_admin_companies(r->db, cs);
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
        return oauth_db_failed(r);
    sqlite3_stmt *st = db_stmt(r->db, purge);
    if (!st)
        return oauth_db_failed(r);
    sqlite3_bind_int64(st, 1, now);
    sqlite3_step(st);
    sqlite3_reset(st);
    st = db_stmt(r->db, ins);
    if (!st)
        return oauth_db_failed(r);
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
        return oauth_db_failed(r);

    oauth_html_headers(r);
    return oauth_reply_raw(r, 200, consent_page(a, redirect_uri, state, granted, form, cs, nc),
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
    json_t *p = oauth_body_params(r, true, &why);
    if (!p)
        return oauth_html_error(r, 400, "Invalid consent form", why);
    bool bad = false;
    const char *form = oauth_param(p, "form_token", &bad);
    const char *decision = oauth_param(p, "decision", &bad);
    const char *company = oauth_param(p, "company", &bad);
    int ret;
    if (!form) {
        ret = oauth_html_error(r, 400, "Invalid consent form", "The form has no form_token.");
        goto out;
    }
    char hash[65];
    sha256_hex(form, hash);
    static const char *sel =
        "SELECT client_id, redirect_uri, state, scope, expires_at, used, code_challenge"
        " FROM oauth_forms WHERE form_hash=?";
    static const char *use = "UPDATE oauth_forms SET used=1 WHERE form_hash=?";
    if (db_begin_write(r->db) != 0) {
        ret = oauth_db_failed(r);
        goto out;
    }
    sqlite3_stmt *st = db_stmt(r->db, sel);
    if (!st) {
        ret = oauth_db_failed(r);
        goto out;
    }
    db_bind_text(st, 1, hash);
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 5) ||
        sqlite3_column_int64(st, 4) < (sqlite3_int64)time(NULL)) {
        sqlite3_reset(st);
        db_rollback(r->db);
        ret = oauth_html_error(r, 400, "Consent form expired",
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
    if (!same(client_id, oauth_param(p, "client_id", &fp_bad)) ||
        !same(redirect_uri, oauth_param(p, "redirect_uri", &fp_bad)) ||
        !same(has_state ? state : NULL, oauth_param(p, "state", &fp_bad)) ||
        !same(scope, oauth_param(p, "scope", &fp_bad)) || fp_bad) {
        db_rollback(r->db);
        ret = oauth_html_error(r, 400, "Invalid consent form",
                         "The form's fields do not match the authorization request.");
        goto out;
    }
    const struct app *a = oauth_find_app(client_id);
    if (!a || !oauth_app_has_uri(a, redirect_uri)) {
        db_rollback(r->db);
        ret = oauth_html_error(r, 400, "Unknown application",
                         "The application is no longer registered.");
        goto out;
    }
    bool allow = decision && strcmp(decision, "allow") == 0;
    bool deny = decision && strcmp(decision, "deny") == 0;
    if (!allow && !deny) {
        db_rollback(r->db);
        ret = oauth_html_error(r, 400, "Invalid consent form",
                         "decision must be allow or deny.");
        goto out;
    }
    char cuuid[SB_UUID_LEN + 1] = "";
    if (allow) {
        struct oauth_company cs[2];
        int nc = oauth_admin_companies(r->db, cs);
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
            ret = oauth_html_error(r, 400, "Choose a company",
                             "company must be one of your companies.");
            goto out;
        }
    }
    /* The form is spent whatever the decision. */
    st = db_stmt(r->db, use);
    if (!st) {
        ret = oauth_db_failed(r);
        goto out;
    }
    db_bind_text(st, 1, hash);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        ret = oauth_db_failed(r);
        goto out;
    }
    if (deny) {
        if (db_commit(r->db) != 0) {
            ret = oauth_db_failed(r);
            goto out;
        }
        ret = oauth_redirect_error(r, redirect_uri, "access_denied",
                             "The user denied the authorization request.",
                             has_state ? state : NULL);
        goto out;
    }
    char code[44], chash[65], grant[SB_UUID_LEN + 1];
    if (oauth_random_token(code) != 0) {
        ret = oauth_db_failed(r);
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
        ret = oauth_db_failed(r);
        goto out;
    }
    /* Keep spent and expired codes a day, so a late reuse is still caught. */
    sqlite3_bind_int64(st, 1, now - 86400);
    sqlite3_step(st);
    sqlite3_reset(st);
    st = db_stmt(r->db, ins);
    if (!st) {
        ret = oauth_db_failed(r);
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
        ret = oauth_db_failed(r);
        goto out;
    }
    ret = oauth_redirect_to(r, redirect_uri, "code", code, "state", has_state ? state : NULL, NULL,
                      NULL);
    OPENSSL_cleanse(code, sizeof code);
out:
    json_decref(p);
    return ret;
}

