/* h_oauth_revoke.c - POST /oauth/revoke: an app revokes an access token,
 * and with it the token's whole grant (its access and refresh tokens),
 * as Gusto documents (docs/sandbox.md, OAuth). */
#include "sandbox/oauth_common.h"
#include "sandbox/oauth_apps.h"

#include <stdio.h>
#include <string.h>

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
    json_t *p = oauth_body_params(r, false, &why);
    if (!p)
        return oauth_error(r, 400, "invalid_request", "%s", why);
    bool bad = false;
    const char *client_id = oauth_param(p, "client_id", &bad);
    const char *secret = oauth_param(p, "client_secret", &bad);
    const char *token = oauth_param(p, "token", &bad);
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
            ret = oauth_db_failed(r);
            goto out;
        }
        sqlite3_stmt *st = db_stmt(r->db, sel);
        if (!st) {
            ret = oauth_db_failed(r);
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
        if (grant[0] && owner[0] && oauth_revoke_grant(r->db, grant) != 0) {
            ret = oauth_db_failed(r);
            goto out;
        }
        if (db_commit(r->db) != 0) {
            ret = oauth_db_failed(r);
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

