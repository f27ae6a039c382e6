/* h_oauth_token.c - the sandbox's OAuth 2.0 token endpoint (RFC 6749
 * section 3.2), POST /oauth/token and /v1/mcp/oauth/token: the
 * authorization_code grant (with PKCE's code_verifier when the code has a
 * challenge; a code used twice revokes its grant), the refresh_token grant
 * (refresh tokens are single use: each refresh returns a new pair) and the
 * system-access grant of an app.  Clients authenticate with client_secret
 * in the body or with HTTP Basic (RFC 6749 section 2.3.1), as they
 * registered. */
#include "sandbox/oauth_common.h"
#include "sandbox/oauth_apps.h"
#include "shared/pctdecode.h"
#include "shared/pkce.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- POST /oauth/token ----------------------------------------------------------- */

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

/* New access + refresh token for the grant, inside the caller's transaction;
 * fills the 200 body. */
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
    if (store_access(r, ah, company, scope, now + sb_cfg.access_ttl, grant,
                     OAUTH_ADMIN_UUID, revokes) != 0)
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
        return oauth_db_failed(r);
    req_add_header(r, "Cache-Control", "no-store");
    req_add_header(r, "Pragma", "no-cache");
    reply_json(r, 200,
               json_pack("{s:s, s:s, s:I, s:I}", "access_token", access, "token_type",
                         "Bearer", "created_at", (json_int_t)now, "expires_in",
                         (json_int_t)sb_cfg.access_ttl));
    OPENSSL_cleanse(access, sizeof access);
    return r->reply ? 0 : -1;
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
        return oauth_db_failed(r);
    sqlite3_stmt *st = db_stmt(r->db, sel);
    if (!st)
        return oauth_db_failed(r);
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
        if (oauth_revoke_grant(r->db, grant) != 0 || db_commit(r->db) != 0)
            return oauth_db_failed(r);
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
        return oauth_db_failed(r);
    db_bind_text(st, 1, hash);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || mint(r, a->client_id, company, scope, grant, NULL) != 0 ||
        db_commit(r->db) != 0)
        return oauth_db_failed(r);
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
        return oauth_db_failed(r);
    sqlite3_stmt *st = db_stmt(r->db, sel);
    if (!st)
        return oauth_db_failed(r);
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
        return oauth_db_failed(r);
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
        return oauth_db_failed(r);
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
    *id = oauth_form_decode((const char *)raw, (size_t)(colon - (char *)raw));
    *secret = oauth_form_decode(colon + 1, (size_t)((char *)raw + len - colon - 1));
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
    json_t *p = oauth_body_params(r, false, &why);
    if (!p) {
        free(basic_id);
        free(basic_secret);
        return oauth_error(r, 400, "invalid_request", "%s", why);
    }
    bool bad = false;
    const char *grant_type = oauth_param(p, "grant_type", &bad);
    const char *client_id = oauth_param(p, "client_id", &bad);
    const char *secret = oauth_param(p, "client_secret", &bad);
    const char *code = oauth_param(p, "code", &bad);
    const char *redirect_uri = oauth_param(p, "redirect_uri", &bad);
    const char *refresh = oauth_param(p, "refresh_token", &bad);
    const char *verifier = oauth_param(p, "code_verifier", &bad);
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

