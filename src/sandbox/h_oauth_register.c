/* h_oauth_register.c - OAuth 2.0 dynamic client registration (RFC 7591) at
 * POST /v1/mcp/oauth/register, the path Gusto's CLI (Gusto/gusto-cli,
 * src/lib/oauth/dcr.ts) registers itself at before `gusto auth login`.
 *
 * A registration gets a new client_id and client_secret (201, RFC 7591
 * section 3.2.1).  The client is then a registered app like one from --app:
 * it signs in at /v1/mcp/oauth/authorize (or /oauth/authorize), always with
 * PKCE, and authenticates at the token endpoint the way it registered
 * (client_secret_basic by default).  Clients are kept in the oauth_clients
 * table, the secret as its SHA-256 only, so with --data they outlive a
 * restart as the CLI expects (it registers once and keeps its credentials).
 *
 * Errors are RFC 7591 section 3.2.2 JSON: invalid_redirect_uri or
 * invalid_client_metadata, with a description naming the field. */
#include "sandbox/sandbox.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REG_URIS 16

static int reg_error(struct request *r, const char *error, const char *desc)
{
    req_add_header(r, "Cache-Control", "no-store");
    req_add_header(r, "Pragma", "no-cache");
    return reply_json(r, 400, json_pack("{s:s, s:s}", "error", error, "error_description",
                                        desc));
}

/* A JSON array of distinct strings from allowed; NULL when v is fine, else
 * why not.  Absent (v NULL) is fine. */
static const char *check_list(const json_t *v, const char *const *allowed, const char *name,
                              char *why, size_t n)
{
    if (!v)
        return NULL;
    if (!json_is_array(v) || json_array_size(v) == 0) {
        snprintf(why, n, "%s must be a non-empty array of strings.", name);
        return why;
    }
    size_t i;
    const json_t *x;
    json_array_foreach(v, i, x) {
        const char *s = json_string_value(x);
        bool known = false;
        for (int k = 0; s && allowed[k]; k++)
            known |= strcmp(s, allowed[k]) == 0;
        if (!known) {
            snprintf(why, n, "%s[%zu] is not supported; the sandbox allows:", name, i);
            for (int k = 0; allowed[k]; k++) {
                size_t l = strlen(why);
                snprintf(why + l, n - l, "%s %s", k ? "," : "", allowed[k]);
            }
            size_t l = strlen(why);
            snprintf(why + l, n - l, ".");
            return why;
        }
    }
    return NULL;
}

static bool list_has(const json_t *v, const char *s)
{
    size_t i;
    const json_t *x;
    json_array_foreach(v, i, x) {
        if (json_is_string(x) && strcmp(json_string_value(x), s) == 0)
            return true;
    }
    return false;
}

static int store_client(sqlite3 *db, const char *id, const char *hash, const char *name,
                        const char *uris, const char *scope, const char *auth,
                        const char *grants, const char *type, long long issued)
{
    static const char *sql =
        "INSERT INTO oauth_clients(client_id, secret_hash, name, redirect_uris, scope,"
        " auth_method, grant_types, client_type, issued_at) VALUES(?,?,?,?,?,?,?,?,?)";
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    db_bind_text(st, 2, hash);
    db_bind_text(st, 3, name);
    db_bind_text(st, 4, uris);
    db_bind_text(st, 5, scope);
    db_bind_text(st, 6, auth);
    db_bind_text(st, 7, grants);
    db_bind_text(st, 8, type);
    sqlite3_bind_int64(st, 9, issued);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int h_oauth_register(struct request *r)
{
    static const char *const AUTH_METHODS[] = {"client_secret_basic", "client_secret_post",
                                               NULL};
    static const char *const GRANTS[] = {"authorization_code", "refresh_token", NULL};
    static const char *const RESPONSES[] = {"code", NULL};
    char why[300];

    json_error_t jerr;
    json_t *body = r->body_text && r->body_len
                       ? json_loadb(r->body_text, r->body_len, JSON_REJECT_DUPLICATES, &jerr)
                       : NULL;
    if (!json_is_object(body)) {
        json_decref(body);
        return reg_error(r, "invalid_client_metadata",
                         "The body must be a JSON object of client metadata (RFC 7591).");
    }
    int ret;
    const json_t *uris = json_object_get(body, "redirect_uris");
    const json_t *auth_v = json_object_get(body, "token_endpoint_auth_method");
    const json_t *grants = json_object_get(body, "grant_types");
    const json_t *responses = json_object_get(body, "response_types");
    const json_t *name_v = json_object_get(body, "client_name");
    const json_t *scope_v = json_object_get(body, "scope");
    const json_t *type_v = json_object_get(body, "client_type");

    /* redirect_uris: required, as the only grant is authorization_code. */
    if (!json_is_array(uris) || json_array_size(uris) == 0 ||
        json_array_size(uris) > MAX_REG_URIS) {
        ret = reg_error(r, "invalid_redirect_uri",
                        "redirect_uris must be an array of 1 to 16 absolute URIs.");
        goto out;
    }
    const char *list[MAX_REG_URIS];
    size_t i;
    const json_t *u;
    json_array_foreach(uris, i, u) {
        const char *s = json_string_value(u);
        const char *bad = s ? oauth_check_uri(s) : "a redirect URI must be a string";
        if (bad) {
            snprintf(why, sizeof why, "redirect_uris[%zu]: %s.", i, bad);
            ret = reg_error(r, "invalid_redirect_uri", why);
            goto out;
        }
        list[i] = s;
    }
    const char *auth = "client_secret_basic"; /* RFC 7591 section 2: the default */
    if (auth_v) {
        const char *s = json_string_value(auth_v);
        bool ok = false;
        for (int k = 0; s && AUTH_METHODS[k]; k++)
            ok |= strcmp(s, AUTH_METHODS[k]) == 0;
        if (!ok) {
            ret = reg_error(r, "invalid_client_metadata",
                            "token_endpoint_auth_method must be client_secret_basic or "
                            "client_secret_post: the sandbox registers confidential clients "
                            "only.");
            goto out;
        }
        auth = s;
    }
    if (check_list(grants, GRANTS, "grant_types", why, sizeof why) ||
        check_list(responses, RESPONSES, "response_types", why, sizeof why)) {
        ret = reg_error(r, "invalid_client_metadata", why);
        goto out;
    }
    if (grants && !list_has(grants, "authorization_code")) {
        ret = reg_error(r, "invalid_client_metadata",
                        "grant_types must include authorization_code.");
        goto out;
    }
    if (name_v && (!json_is_string(name_v) || !*json_string_value(name_v) ||
                   strlen(json_string_value(name_v)) > 200)) {
        ret = reg_error(r, "invalid_client_metadata",
                        "client_name must be a string of 1 to 200 characters.");
        goto out;
    }
    if (scope_v && (!json_is_string(scope_v) || !*json_string_value(scope_v))) {
        ret = reg_error(r, "invalid_client_metadata",
                        "scope must be a non-empty string of space-separated scopes.");
        goto out;
    }
    if (type_v && (!json_is_string(type_v) || strlen(json_string_value(type_v)) > 40)) {
        ret = reg_error(r, "invalid_client_metadata",
                        "client_type must be a string of at most 40 characters.");
        goto out;
    }

    char token[44], secret[44], client_id[32], hash[65];
    if (oauth_random_token(token) != 0 || oauth_random_token(secret) != 0) {
        ret = reply_error(r, 500, "request", "internal_error",
                          "An unexpected error has occurred.");
        goto out;
    }
    snprintf(client_id, sizeof client_id, "dcr-%.24s", token);
    sha256_hex(secret, hash);
    const char *name = name_v ? json_string_value(name_v) : NULL;
    const char *scope = scope_v ? json_string_value(scope_v) : NULL;
    json_t *grant_list = grants ? json_deep_copy(grants) : json_pack("[s]", "authorization_code");
    char *uris_text = json_dumps(uris, JSON_COMPACT);
    char *grants_text = grant_list ? json_dumps(grant_list, JSON_COMPACT) : NULL;
    long long issued = (long long)time(NULL);
    enum oauth_auth how =
        strcmp(auth, "client_secret_post") == 0 ? OAUTH_AUTH_POST : OAUTH_AUTH_BASIC;
    struct oauth_client c = {client_id, hash, list, (int)json_array_size(uris), scope,
                             name, how, true};
    char err[200] = "";
    if (!uris_text || !grants_text || db_begin_write(r->db) != 0) {
        ret = reply_error(r, 500, "request", "internal_error",
                          "An unexpected error has occurred.");
    } else if (store_client(r->db, client_id, hash, name, uris_text, scope, auth,
                            grants_text, json_string_value(type_v), issued) != 0) {
        db_rollback(r->db);
        ret = reply_error(r, 500, "request", "internal_error",
                          "An unexpected error has occurred.");
    } else if (oauth_client_add(&c, err, sizeof err) != 0) {
        /* The checks above passed, so this is a scope or the registry's size. */
        db_rollback(r->db);
        snprintf(why, sizeof why, "The client cannot be registered: %s.", err);
        ret = reg_error(r, "invalid_client_metadata", why);
    } else if (db_commit(r->db) != 0) {
        db_rollback(r->db);
        ret = reply_error(r, 500, "request", "internal_error",
                          "An unexpected error has occurred.");
    } else {
        req_add_header(r, "Cache-Control", "no-store");
        req_add_header(r, "Pragma", "no-cache");
        json_t *o = json_pack("{s:s, s:s, s:I, s:i, s:O, s:O, s:[s], s:s}", "client_id",
                              client_id, "client_secret", secret, "client_id_issued_at",
                              (json_int_t)issued, "client_secret_expires_at", 0,
                              "redirect_uris", uris, "grant_types", grant_list,
                              "response_types", "code", "token_endpoint_auth_method", auth);
        if (o && name)
            json_object_set_new(o, "client_name", json_string(name));
        if (o && scope)
            json_object_set_new(o, "scope", json_string(scope));
        if (o && json_is_string(type_v))
            json_object_set(o, "client_type", (json_t *)type_v);
        ret = reply_json(r, 201, o);
    }
    OPENSSL_cleanse(secret, sizeof secret);
    free(uris_text);
    free(grants_text);
    json_decref(grant_list);
out:
    json_decref(body);
    return ret;
}

int oauth_clients_load(sqlite3 *db)
{
    int rc = db_exec(db, "CREATE TABLE IF NOT EXISTS oauth_clients("
                         "  client_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, name TEXT,"
                         "  redirect_uris TEXT NOT NULL, scope TEXT, auth_method TEXT NOT NULL,"
                         "  grant_types TEXT NOT NULL, client_type TEXT,"
                         "  issued_at INTEGER NOT NULL);");
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT client_id, secret_hash, name, redirect_uris, scope,"
                           " auth_method FROM oauth_clients ORDER BY issued_at, client_id",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *uris = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
        const char *list[MAX_REG_URIS];
        size_t n = 0;
        size_t i;
        const json_t *u;
        json_array_foreach(uris, i, u) {
            if (n < MAX_REG_URIS && json_is_string(u))
                list[n++] = json_string_value(u);
        }
        const char *auth = (const char *)sqlite3_column_text(st, 5);
        struct oauth_client c = {
            (const char *)sqlite3_column_text(st, 0),
            (const char *)sqlite3_column_text(st, 1),
            list,
            (int)n,
            (const char *)sqlite3_column_text(st, 4),
            (const char *)sqlite3_column_text(st, 2),
            auth && strcmp(auth, "client_secret_post") == 0 ? OAUTH_AUTH_POST
                                                           : OAUTH_AUTH_BASIC,
            true};
        char err[200];
        if (oauth_client_add(&c, err, sizeof err) != 0)
            fprintf(stderr, "gusto-sandbox: a registered OAuth client was not restored: %s\n",
                    err);
        json_decref(uris);
    }
    sqlite3_finalize(st);
    return 0;
}
