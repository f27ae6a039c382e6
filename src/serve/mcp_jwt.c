/* mcp_jwt.c - the identity of an MCP caller from an OIDC ID token (a JWT,
 * compact JWS): its signature checked with libjose against the identity
 * provider's JWKS (a file, or an http(s) URL fetched with libcurl and kept
 * five minutes), then the claims: iss, aud, exp (and nbf, iat), and the
 * email that binds the caller to one employee.  No cryptography here. */
#include "serve/mcp_jwt.h"

#include <curl/curl.h>
#include <jose/jose.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JWKS_TTL_S 300           /* a JWKS is kept this long */
#define JWKS_RETRY_S 30          /* an unknown kid refetches at most this often */
#define JWKS_MAX (1024 * 1024)
#define LEEWAY_S 60              /* clock skew allowed on exp, nbf and iat */
#define TOKEN_MAX 16384

/* Asymmetric algorithms only: a JWKS publishes public keys, and "none" or
 * an HMAC "signed" with a public key must never pass. */
static const char *const ALGS[] = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                   "PS512", "ES256", "ES384", "ES512"};

static pthread_mutex_t jlock = PTHREAD_MUTEX_INITIALIZER;
static json_t *jwks;             /* the cached key set */
static char jwks_from[512];
static time_t jwks_at, jwks_tried;

bool mcp_jwt_looks_like(const char *token)
{
    if (!token || strncmp(token, "eyJ", 3) != 0)
        return false;
    const char *a = strchr(token, '.');
    const char *b = a ? strchr(a + 1, '.') : NULL;
    return b && !strchr(b + 1, '.');
}

struct buf {
    char *p;
    size_t n;
    bool over;
};

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct buf *b = ud;
    size_t len = size * n;
    if (b->n + len > JWKS_MAX) {
        b->over = true;
        return 0;
    }
    char *np = realloc(b->p, b->n + len + 1);
    if (!np)
        return 0;
    b->p = np;
    memcpy(b->p + b->n, data, len);
    b->n += len;
    b->p[b->n] = 0;
    return len;
}

/* The key set at src (a path, or an http(s):// URL): new reference, or
 * NULL with why. */
static json_t *fetch_jwks(const char *src, char *why, size_t cap)
{
    json_error_t je;
    if (strncmp(src, "http://", 7) != 0 && strncmp(src, "https://", 8) != 0) {
        json_t *j = json_load_file(src, 0, &je);
        if (!j)
            snprintf(why, cap, "JWKS file unreadable");
        return j;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(why, cap, "JWKS fetch failed");
        return NULL;
    }
    struct buf b = {0};
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, src);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    json_t *j = rc == CURLE_OK && status == 200 && b.p ? json_loadb(b.p, b.n, 0, &je) : NULL;
    free(b.p);
    if (!j)
        snprintf(why, cap, "JWKS URL failed (HTTP %ld)", status);
    return j;
}

/* The keys of kid (every key when kid is NULL) as a JSON array, from the
 * cached set, refetched when old or when kid is unknown. */
static json_t *keys_for(const char *src, const char *kid, char *why, size_t cap)
{
    pthread_mutex_lock(&jlock);
    time_t now = time(NULL);
    for (int round = 0; round < 2; round++) {
        bool stale = !jwks || strcmp(jwks_from, src) != 0 || now - jwks_at > JWKS_TTL_S;
        if (round == 1 && now - jwks_tried < JWKS_RETRY_S)
            break;
        if (stale || round == 1) {
            jwks_tried = now;
            json_t *fresh = fetch_jwks(src, why, cap);
            if (fresh && json_is_array(json_object_get(fresh, "keys"))) {
                json_decref(jwks);
                jwks = fresh;
                snprintf(jwks_from, sizeof jwks_from, "%s", src);
                jwks_at = now;
            } else {
                json_decref(fresh);
                if (!jwks || strcmp(jwks_from, src) != 0)
                    break;
            }
        }
        json_t *out = json_array();
        size_t i;
        json_t *k;
        json_array_foreach(json_object_get(jwks, "keys"), i, k) {
            const char *kk = json_string_value(json_object_get(k, "kid"));
            const char *use = json_string_value(json_object_get(k, "use"));
            if ((!kid || (kk && strcmp(kk, kid) == 0)) && (!use || strcmp(use, "sig") == 0))
                json_array_append(out, k);
        }
        if (json_array_size(out)) {
            pthread_mutex_unlock(&jlock);
            return out;
        }
        json_decref(out);
        snprintf(why, cap, "unknown kid");
    }
    pthread_mutex_unlock(&jlock);
    return NULL;
}

static bool aud_has(const json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    size_t i;
    json_t *a;
    json_array_foreach(aud, i, a)
        if (json_is_string(a) && strcmp(json_string_value(a), want) == 0)
            return true;
    return false;
}

int mcp_jwt_verify(const struct mcp_jwt_config *c, const char *token, char *email,
                   size_t cap, char *why, size_t whycap)
{
    email[0] = 0;
    if (!c->jwks || !c->jwks[0] || !c->issuer || !c->issuer[0] || !c->audience ||
        !c->audience[0]) {
        snprintf(why, whycap, "no identity provider");
        return -1;
    }
    size_t len = strnlen(token, TOKEN_MAX + 1);
    const char *d1 = strchr(token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (len > TOKEN_MAX || !d1 || !d2 || strchr(d2 + 1, '.')) {
        snprintf(why, whycap, "not a compact JWS");
        return -1;
    }
    json_t *jws = json_pack("{s:s%, s:s%, s:s}", "protected", token, (size_t)(d1 - token),
                            "payload", d1 + 1, (size_t)(d2 - d1 - 1), "signature", d2 + 1);
    json_t *hdr = jws ? jose_b64_dec_load(json_object_get(jws, "protected")) : NULL;
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    bool alg_ok = false;
    for (size_t i = 0; alg && i < sizeof ALGS / sizeof ALGS[0]; i++)
        if (strcmp(alg, ALGS[i]) == 0)
            alg_ok = true;
    int rc = -1;
    json_t *keys = NULL, *claims = NULL;
    if (!alg_ok) {
        snprintf(why, whycap, "alg not allowed");
        goto out;
    }
    keys = keys_for(c->jwks, json_string_value(json_object_get(hdr, "kid")), why, whycap);
    if (!keys)
        goto out;
    bool good = false;
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        const char *kalg = json_string_value(json_object_get(k, "alg"));
        if (kalg && strcmp(kalg, alg) != 0)
            continue;
        if (jose_jws_ver(NULL, jws, NULL, k, false)) {
            good = true;
            break;
        }
    }
    if (!good) {
        snprintf(why, whycap, "bad signature");
        goto out;
    }
    claims = jose_b64_dec_load(json_object_get(jws, "payload"));
    if (!json_is_object(claims)) {
        snprintf(why, whycap, "payload not JSON");
        goto out;
    }
    time_t now = time(NULL);
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    const json_t *exp = json_object_get(claims, "exp");
    const json_t *nbf = json_object_get(claims, "nbf");
    const json_t *iat = json_object_get(claims, "iat");
    const char *mail = json_string_value(json_object_get(claims, "email"));
    if (!iss || strcmp(iss, c->issuer) != 0) {
        snprintf(why, whycap, "wrong issuer");
    } else if (!aud_has(json_object_get(claims, "aud"), c->audience)) {
        snprintf(why, whycap, "wrong audience");
    } else if (!json_is_integer(exp) && !json_is_real(exp)) {
        snprintf(why, whycap, "no exp claim");
    } else if (json_number_value(exp) + LEEWAY_S < (double)now) {
        snprintf(why, whycap, "expired");
    } else if (nbf && json_is_number(nbf) && json_number_value(nbf) - LEEWAY_S > (double)now) {
        snprintf(why, whycap, "not yet valid");
    } else if (iat && json_is_number(iat) && json_number_value(iat) - LEEWAY_S > (double)now) {
        snprintf(why, whycap, "issued in the future");
    } else if (!mail || !strchr(mail, '@') || strlen(mail) >= cap || strlen(mail) > 320) {
        snprintf(why, whycap, "no email claim");
    } else if (json_is_false(json_object_get(claims, "email_verified"))) {
        snprintf(why, whycap, "email not verified");
    } else {
        size_t n = strlen(mail);
        for (size_t j = 0; j < n; j++)
            email[j] = (char)(mail[j] >= 'A' && mail[j] <= 'Z' ? mail[j] - 'A' + 'a' : mail[j]);
        email[n] = 0;
        rc = 0;
    }
out:
    json_decref(claims);
    json_decref(keys);
    json_decref(hdr);
    json_decref(jws);
    return rc;
}
