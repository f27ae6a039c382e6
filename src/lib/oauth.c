/* oauth.c - Gusto's OAuth 2.0 endpoints from the client side: the authorize
 * URL, the authorization-code exchange, the refresh-token grant and the
 * system access token (grant_type=system_access), with
 * errors that say what to do (expired code, redirect URI mismatch, revoked
 * refresh token, wrong environment). */
#include "lib/internal.h"
#include "shared/pkce.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

gusto_code gusto_pkce_new(gusto_pkce *out, gusto_error *err)
{
    unsigned char raw[32];
    memset(out, 0, sizeof *out);
    if (RAND_bytes(raw, sizeof raw) != 1)
        return err_set(err, GUSTO_EINVAL, "cannot draw random bytes for the PKCE verifier");
    pkce_b64url32(raw, out->verifier);
    OPENSSL_cleanse(raw, sizeof raw);
    if (pkce_s256(out->verifier, strlen(out->verifier), out->challenge) != 0) {
        OPENSSL_cleanse(out, sizeof *out);
        return err_set(err, GUSTO_EINVAL, "cannot hash the PKCE verifier");
    }
    return GUSTO_OK;
}

char *gusto_authorize_url_pkce(const char *base_url, const char *client_id,
                               const char *redirect_uri, const char *state,
                               const char *code_challenge)
{
    gusto_options o = {.base_url = base_url};
    gusto_error err;
    gusto_client *c = gusto_client_new(&o, &err);
    if (!c || !client_id || !redirect_uri) {
        gusto_client_free(c);
        return NULL;
    }
    char *id = url_escape(c, client_id);
    char *ru = url_escape(c, redirect_uri);
    char *st = url_escape(c, state ? state : "");
    char *ch = code_challenge && *code_challenge ? url_escape(c, code_challenge) : NULL;
    char *url = id && ru && st && (ch || !code_challenge || !*code_challenge)
                    ? xasprintf("%s/oauth/authorize?client_id=%s&redirect_uri=%s"
                                "&response_type=code&state=%s%s%s%s",
                                c->base_url, id, ru, st, ch ? "&code_challenge=" : "",
                                ch ? ch : "", ch ? "&code_challenge_method=S256" : "")
                    : NULL;
    free(id);
    free(ru);
    free(st);
    free(ch);
    gusto_client_free(c);
    return url;
}

char *gusto_authorize_url(const char *base_url, const char *client_id,
                          const char *redirect_uri, const char *state)
{
    return gusto_authorize_url_pkce(base_url, client_id, redirect_uri, state, NULL);
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* POST /oauth/token with a JSON body; fill *out on 200.  Through `shared`
 * (a caller's client: its handle, trace and limiter) when given, else a
 * client of its own for base_url. */
static gusto_code token_call(gusto_client *shared, const char *base_url, json_t *body,
                             bool is_refresh, const char *redirect_uri, gusto_tokens *out,
                             gusto_error *err)
{
    err_clear(err);
    memset(out, 0, sizeof *out);
    /* A refresh is safe to repeat: Gusto revokes the old refresh token only
     * once the new access token is used, which cannot have happened if the
     * answer never arrived.  A code exchange is not repeated. */
    gusto_client *c = shared;
    if (!c) {
        gusto_options o = {.base_url = base_url, .max_retries = -1, .rate_limit = -1};
        if (!(c = gusto_client_new(&o, err)))
            return err ? err->code : GUSTO_EINVAL;
    }
    char *text = json_text(body);
    gusto_code rc = GUSTO_ENOMEM;
    struct http_resp resp = {0};
    for (int attempt = 0; text && attempt < (is_refresh ? 3 : 1); attempt++) {
        rc = http_send_noauth(c, "POST", "/oauth/token", text, &resp, err);
        if (rc != GUSTO_ENETWORK)
            break;
    }
    if (text) {
        volatile char *p = text; /* it holds the client secret */
        while (*p)
            *p++ = 0;
        free(text);
    }
    if (rc != GUSTO_OK) {
        http_resp_free(&resp);
        if (c != shared)
            gusto_client_free(c);
        return rc;
    }
    json_t *j = resp.body.p ? json_loads(resp.body.p, 0, NULL) : NULL;
    if (resp.status == 200) {
        const char *at = json_string_value(json_object_get(j, "access_token"));
        json_t *exp = json_object_get(j, "expires_in");
        const char *rt = json_string_value(json_object_get(j, "refresh_token"));
        const char *sc = json_string_value(json_object_get(j, "scope"));
        /* A value that does not fit is refused, never cut: a truncated
         * refresh token would be a corrupted credential written to disk. */
        const char *big = NULL;
        size_t cap = 0;
        if (rt && strlen(rt) >= sizeof out->refresh_token)
            big = "refresh_token", cap = sizeof out->refresh_token;
        else if (sc && strlen(sc) >= sizeof out->scope)
            big = "scope", cap = sizeof out->scope;
        if (!at || strlen(at) >= sizeof out->access_token) {
            rc = err_set(err, GUSTO_EPROTOCOL, "the token response has no usable access_token");
            err_field(err, "access_token");
        } else if (big) {
            rc = err_set(err, GUSTO_EPROTOCOL, "the token response's %s is longer than the "
                         "%zu bytes libgusto holds; nothing was stored", big, cap - 1);
            err_field(err, big);
        } else {
            copy(out->access_token, sizeof out->access_token, at);
            copy(out->refresh_token, sizeof out->refresh_token, rt);
            copy(out->scope, sizeof out->scope, sc);
            long long ttl = json_is_number(exp) ? (long long)json_number_value(exp) : 7200;
            out->expires_at = (long long)time(NULL) + (ttl > 0 ? ttl : 7200);
            rc = GUSTO_OK;
        }
    } else {
        rc = http_status_code(c, &resp, err);
        if (rc == GUSTO_OK)
            rc = err_set(err, GUSTO_EPROTOCOL, "unexpected status %ld from /oauth/token",
                         resp.status);
        const char *oerr = json_string_value(json_object_get(j, "error"));
        const char *desc = json_string_value(json_object_get(j, "error_description"));
        if (err) {
            err->code = rc = (resp.status == 400 || resp.status == 401) ? GUSTO_EAUTH : rc;
            copy(err->category, sizeof err->category, oerr);
            err->reason[0] = 0; /* the token endpoint's own errors, not an API call's 401 */
            if (oerr)
                snprintf(err->message, sizeof err->message, "%s%s%s", oerr, desc ? ": " : "",
                         desc ? desc : "");
            if (is_refresh && oerr && strcmp(oerr, "invalid_grant") == 0) {
                err_hint(err, "the refresh token expired or was revoked; connect the company "
                              "again");
                err_reason(err, "reconnect");
            } else if (!is_refresh && oerr && strcmp(oerr, "invalid_grant") == 0)
                err_hint(err, "the code expired (codes last 10 minutes and work once) or the "
                              "redirect URI differs from the app's; the redirect URI used was "
                              "%.150s", redirect_uri ? redirect_uri : "(none)");
            else if (oerr && strcmp(oerr, "invalid_client") == 0)
                err_hint(err, "check the client id and secret; Demo and Production apps have "
                              "different credentials (this was %s)", c->base_url);
        }
    }
    json_decref(j);
    http_resp_free(&resp);
    if (c != shared)
        gusto_client_free(c);
    return rc;
}

gusto_code gusto_oauth_exchange(const char *base_url, const char *client_id,
                                const char *client_secret, const char *code,
                                const char *redirect_uri, gusto_tokens *out,
                                gusto_error *err)
{
    return gusto_oauth_exchange_pkce(base_url, client_id, client_secret, code, redirect_uri,
                                     NULL, out, err);
}

gusto_code gusto_oauth_exchange_pkce(const char *base_url, const char *client_id,
                                     const char *client_secret, const char *code,
                                     const char *redirect_uri, const char *code_verifier,
                                     gusto_tokens *out, gusto_error *err)
{
    if (!client_id || !client_secret || !code || !redirect_uri) {
        err_set(err, GUSTO_EINVAL, "client_id, client_secret, code and redirect_uri are all "
                                   "required");
        return GUSTO_EINVAL;
    }
    json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s}", "client_id", client_id,
                          "client_secret", client_secret, "code", code, "grant_type",
                          "authorization_code", "redirect_uri", redirect_uri);
    if (b && code_verifier && *code_verifier &&
        json_object_set_new(b, "code_verifier", json_string(code_verifier)) != 0) {
        json_decref(b);
        b = NULL;
    }
    gusto_code rc = b ? token_call(NULL, base_url, b, false, redirect_uri, out, err)
                      : err_set(err, GUSTO_ENOMEM, "out of memory");
    json_decref(b);
    return rc;
}

static gusto_code refresh_on(gusto_client *shared, const char *base_url,
                             const char *client_id, const char *client_secret,
                             const char *refresh_token, gusto_tokens *out, gusto_error *err)
{
    if (!client_id || !client_secret || !refresh_token || !*refresh_token) {
        memset(out, 0, sizeof *out);
        return err_set(err, GUSTO_EINVAL, "client_id, client_secret and refresh_token are "
                                          "required");
    }
    json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "client_id", client_id, "client_secret",
                          client_secret, "grant_type", "refresh_token", "refresh_token",
                          refresh_token);
    gusto_code rc = b ? token_call(shared, base_url, b, true, NULL, out, err)
                      : err_set(err, GUSTO_ENOMEM, "out of memory");
    json_decref(b);
    return rc;
}

gusto_code gusto_oauth_refresh(const char *base_url, const char *client_id,
                               const char *client_secret, const char *refresh_token,
                               gusto_tokens *out, gusto_error *err)
{
    return refresh_on(NULL, base_url, client_id, client_secret, refresh_token, out, err);
}

gusto_code gusto_client_oauth_refresh(gusto_client *client, const char *client_id,
                                      const char *client_secret, const char *refresh_token,
                                      gusto_tokens *out, gusto_error *err)
{
    if (!client) {
        memset(out, 0, sizeof *out);
        return err_set(err, GUSTO_EINVAL, "no client");
    }
    return refresh_on(client, NULL, client_id, client_secret, refresh_token, out, err);
}

gusto_code gusto_oauth_system_token(const char *base_url, const char *client_id,
                                    const char *client_secret, gusto_tokens *out,
                                    gusto_error *err)
{
    if (!client_id || !*client_id || !client_secret || !*client_secret) {
        memset(out, 0, sizeof *out);
        return err_set(err, GUSTO_EINVAL, "client_id and client_secret are required");
    }
    json_t *b = json_pack("{s:s, s:s, s:s}", "client_id", client_id, "client_secret",
                          client_secret, "grant_type", "system_access");
    gusto_code rc = b ? token_call(NULL, base_url, b, false, NULL, out, err)
                      : err_set(err, GUSTO_ENOMEM, "out of memory");
    json_decref(b);
    return rc;
}

gusto_code gusto_oauth_revoke(const char *base_url, const char *client_id,
                              const char *client_secret, const char *access_token,
                              gusto_error *err)
{
    err_clear(err);
    if (!client_id || !*client_id || !client_secret || !*client_secret || !access_token ||
        !*access_token)
        return err_set(err, GUSTO_EINVAL,
                       "client_id, client_secret and the access token are required");
    json_t *b = json_pack("{s:s, s:s, s:s}", "client_id", client_id, "client_secret",
                          client_secret, "token", access_token);
    char *text = b ? json_text(b) : NULL;
    json_decref(b); /* jansson frees its strings without wiping: text is wiped below */
    if (!text)
        return err_set(err, GUSTO_ENOMEM, "out of memory");
    /* Not retried: a revocation that got lost is seen on the next call,
     * and the local copy is removed whatever happens. */
    gusto_options o = {.base_url = base_url, .max_retries = -1, .rate_limit = -1};
    gusto_client *c = gusto_client_new(&o, err);
    gusto_code rc = c ? GUSTO_OK : (err ? err->code : GUSTO_EINVAL);
    struct http_resp resp = {0};
    if (c)
        rc = http_send(c, "POST", "/oauth/revoke", text, &resp, err);
    volatile char *p = text; /* it holds the client secret and the token */
    while (*p)
        *p++ = 0;
    free(text);
    if (rc == GUSTO_OK && (resp.status < 200 || resp.status > 299)) {
        json_t *j = resp.body.p ? json_loads(resp.body.p, 0, NULL) : NULL;
        rc = http_status_code(c, &resp, err);
        if (rc == GUSTO_OK)
            rc = err_set(err, GUSTO_EPROTOCOL, "unexpected status %ld from /oauth/revoke",
                         resp.status);
        const char *oerr = json_string_value(json_object_get(j, "error"));
        const char *desc = json_string_value(json_object_get(j, "error_description"));
        if (err) {
            if (resp.status == 400 || resp.status == 401)
                err->code = rc = GUSTO_EAUTH;
            copy(err->category, sizeof err->category, oerr);
            err->reason[0] = 0;
            if (oerr)
                snprintf(err->message, sizeof err->message, "/oauth/revoke: %s%s%s", oerr,
                         desc ? ": " : "", desc ? desc : "");
            if (oerr && strcmp(oerr, "invalid_client") == 0)
                err_hint(err, "check the client id and secret; Demo and Production apps have "
                              "different credentials (this was %s)", c->base_url);
        }
        json_decref(j);
    }
    http_resp_free(&resp);
    gusto_client_free(c);
    return rc;
}
