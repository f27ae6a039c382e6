/* auth.c - bearer tokens: registration, lookup and scope checks.
 *
 * Tokens are stored as SHA-256 hashes, so the database file never holds a
 * usable credential.  Each token belongs to one company and one grant (the
 * rate limiter counts per grant). */
#include "sandbox/sandbox.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *const SB_ALL_SCOPES =
    "public companies:read companies:write employees:read employees:write "
    "employees:manage jobs:read jobs:write compensations:read compensations:write "
    "employee_time_off_activities:read time_off_policies:read time_off_policies:write "
    "time_off_requests:read departments:read departments:write "
    "people_batches:read people_batches:write company_admin:read signatories:read "
    "employments:read employments:write pay_schedules:read payrolls:read "
    "contractors:read company_federal_taxes:read company_tax_requirements:read";

int auth_add_token(sqlite3 *db, const char *token, const char *company_uuid,
                   const char *scopes, long ttl_seconds)
{
    static const char *sql =
        "INSERT OR REPLACE INTO tokens(token_hash, company_uuid, scopes, expires_at,"
        " grant_id, owner_uuid) VALUES(?,?,?,?,?,?)";
    char hash[65], owner[SB_UUID_LEN + 1];
    sha256_hex(token, hash);
    uuid_random(owner);
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    db_bind_text(st, 1, hash);
    db_bind_text(st, 2, company_uuid);
    db_bind_text(st, 3, scopes ? scopes : SB_ALL_SCOPES);
    sqlite3_bind_int64(st, 4, ttl_seconds > 0 ? (sqlite3_int64)time(NULL) + ttl_seconds
                                              : (sqlite3_int64)1 << 62);
    db_bind_text(st, 5, hash);
    db_bind_text(st, 6, owner);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

const char *sb_env_name(void)
{
    return sb_cfg.environment == SB_ENV_PRODUCTION ? "production" : "demo";
}

bool auth_env_of(sqlite3 *db, const char *hash, char out[16])
{
    static const char *sql = "SELECT env FROM token_env WHERE token_hash=?";
    out[0] = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return false;
    db_bind_text(st, 1, hash);
    int rc = sqlite3_step(st);
    snprintf(out, 16, "%s", rc == SQLITE_ROW ? db_col_text(st, 0) : "demo");
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

void auth_env_message(const char *what, const char *env, char *buf, size_t len)
{
    bool prod = strcmp(env, "production") == 0;
    snprintf(buf, len,
             "The %s was issued by Gusto %s (%s); this is Gusto %s (%s), which does not "
             "accept it. Use a token issued by this environment.",
             what, prod ? "Production" : "Demo", prod ? "api.gusto.com" : "api.gusto-demo.com",
             prod ? "Demo" : "Production", prod ? "api.gusto-demo.com" : "api.gusto.com");
}

static int unauthorized(struct request *r, const char *msg)
{
    req_add_header(r, "WWW-Authenticate",
                   "Bearer realm=\"Gusto\", error=\"invalid_token\"");
    return reply_error(r, 401, "base", "invalid_token", "%s", msg), -1;
}

int auth_check(struct request *r, const char *authorization)
{
    if (!authorization || !*authorization)
        return unauthorized(r, "The access token is missing. Send Authorization: "
                               "Bearer <access_token>.");
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return unauthorized(r, "The Authorization header must use the Bearer scheme.");
    const char *tok = authorization + 7;
    while (*tok == ' ')
        tok++;
    if (!*tok || strlen(tok) > 512)
        return unauthorized(r, "The access token is invalid.");

    static const char *sql =
        "SELECT company_uuid, scopes, expires_at, grant_id, owner_uuid, revoked, revokes"
        " FROM tokens WHERE token_hash = ?";
    /* A connection sends the same token again and again: keep this
     * thread's last token and its hash (a pure function of the token). */
    static _Thread_local char last_tok[513], last_hash[65];
    char hash[65];
    if (*last_hash && strcmp(tok, last_tok) == 0) {
        memcpy(hash, last_hash, sizeof hash);
    } else {
        sha256_hex(tok, hash);
        snprintf(last_tok, sizeof last_tok, "%s", tok);
        memcpy(last_hash, hash, sizeof hash);
    }
    /* And the row it found, while the database generation (which moves on
     * every committed write, revocations included) is unchanged: a cached
     * GET then reads nothing from SQLite.  Expiry is checked each time. */
    static _Thread_local struct {
        char hash[65];
        uint64_t gen;
        long long expires_at;
        struct auth auth;
    } last_ok;
    uint64_t gen = db_generation(); /* before the SELECT below */
    if (last_ok.gen == gen && strcmp(last_ok.hash, hash) == 0) {
        if (last_ok.expires_at < (long long)time(NULL))
            return unauthorized(r, "The access token expired. Refresh it with the "
                                   "refresh token.");
        r->auth = last_ok.auth;
        return 0;
    }
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return reply_error(r, 500, "request", "internal_error",
                           "An unexpected error has occurred."), -1;
    db_bind_text(st, 1, hash);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return unauthorized(r, "The access token is invalid.");
    }
    /* Reset before every early return: a statement left on a row keeps a
     * read transaction open on the pooled connection and stalls writers. */
    bool revoked = sqlite3_column_int(st, 5) != 0;
    bool expired = sqlite3_column_int64(st, 2) < (sqlite3_int64)time(NULL);
    /* A token of the other environment (--as) is refused as Gusto refuses
     * it: 401 invalid_token (docs/sandbox.md, "Demo or Production"). */
    char env[16];
    if (!auth_env_of(r->db, hash, env)) {
        sqlite3_reset(st);
        return reply_error(r, 500, "request", "internal_error",
                           "An unexpected error has occurred."), -1;
    }
    if (strcmp(env, sb_env_name()) != 0) {
        sqlite3_reset(st);
        char msg[300];
        auth_env_message("access token", env, msg, sizeof msg);
        return unauthorized(r, msg);
    }
    if (revoked || expired) {
        sqlite3_reset(st);
        return unauthorized(r, revoked ? "The access token was revoked."
                                       : "The access token expired. Refresh it with the "
                                         "refresh token.");
    }
    snprintf(r->auth.token_hash, sizeof r->auth.token_hash, "%s", hash);
    snprintf(r->auth.company_uuid, sizeof r->auth.company_uuid, "%s",
             db_col_text(st, 0));
    snprintf(r->auth.scopes, sizeof r->auth.scopes, "%s", db_col_text(st, 1));
    snprintf(r->auth.grant_id, sizeof r->auth.grant_id, "%s", db_col_text(st, 3));
    snprintf(r->auth.owner_uuid, sizeof r->auth.owner_uuid, "%s", db_col_text(st, 4));
    char replaced[65];
    snprintf(replaced, sizeof replaced, "%s", db_col_text(st, 6));
    long long expires_at = (long long)sqlite3_column_int64(st, 2);
    sqlite3_reset(st);
    if (!*replaced) {
        memcpy(last_ok.hash, hash, sizeof hash);
        last_ok.gen = gen;
        last_ok.expires_at = expires_at;
        last_ok.auth = r->auth;
    }
    if (*replaced) {
        /* First use of a refreshed access token: now the refresh token it
         * replaced is revoked, as Gusto documents. */
        static const char *rev = "UPDATE oauth_refresh SET revoked=1 WHERE token_hash=?";
        static const char *done = "UPDATE tokens SET revokes=NULL WHERE token_hash=?";
        const char *sqls[2] = {rev, done};
        const char *args[2] = {replaced, hash};
        for (int i = 0; i < 2; i++) {
            sqlite3_stmt *u = db_stmt(r->db, sqls[i]);
            if (u) {
                db_bind_text(u, 1, args[i]);
                sqlite3_step(u);
                sqlite3_reset(u);
            }
        }
    }
    return 0;
}

bool auth_has_scope(const struct request *r, const char *scope)
{
    size_t n = strlen(scope);
    const char *p = r->auth.scopes;
    while ((p = strstr(p, scope)) != NULL) {
        bool start = p == r->auth.scopes || p[-1] == ' ';
        bool end = p[n] == 0 || p[n] == ' ';
        if (start && end)
            return true;
        p += n;
    }
    return false;
}

bool own_company(struct request *r, const char *company_uuid)
{
    return strcmp(company_uuid, r->auth.company_uuid) == 0;
}

bool own_employee(struct request *r, const char *employee_uuid)
{
    char company[SB_UUID_LEN + 1];
    store_employee_company(r->db, employee_uuid, company);
    return company[0] && own_company(r, company);
}
