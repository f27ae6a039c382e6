/* oauth_apps.c - the sandbox's registry of OAuth clients: the apps of
 * --app / --apps (read at start-up) and the clients that register
 * themselves while it runs (h_oauth_register.c), with the checks a client,
 * its redirect URIs and its scopes must pass, and how a redirect URI and a
 * secret are matched.
 *
 * The table only grows: each entry is complete before the count that
 * publishes it, so readers need no lock; additions take apps_lock. */
#include "sandbox/sandbox.h"
#include "sandbox/oauth_apps.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct app apps[MAX_APPS];
static atomic_int napps;         /* entries below it are complete and never change */
static pthread_mutex_t apps_lock = PTHREAD_MUTEX_INITIALIZER;



/* 32 random bytes as 43 base64url characters. */
int oauth_random_token(char out[44])
{
    static const char A[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char b[33] = {0};
    if (RAND_bytes(b, 32) != 1)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < 33; i += 3) {
        unsigned v = (unsigned)b[i] << 16 | (unsigned)b[i + 1] << 8 | b[i + 2];
        for (int k = 3; k >= 0 && o < 43; k--)
            out[o++] = A[(v >> (6 * k)) & 63];
    }
    out[43] = 0;
    return 0;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void sb_app_uuid(const char *client_id, char out[SB_UUID_LEN + 1])
{
    /* Stable per app: a version-4-shaped UUID from the SHA-256 of its id. */
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(client_id, strlen(client_id), md, &n, EVP_sha256(), NULL);
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x40);
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        snprintf(o, 3, "%02x", md[i]);
        o += 2;
    }
}

const struct app *oauth_find_app(const char *client_id)
{
    int n = atomic_load_explicit(&napps, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (strcmp(apps[i].client_id, client_id) == 0)
            return &apps[i];
    return NULL;
}

/* RFC 8252 section 7.3: a loopback redirect URI registered without a port
 * (http://127.0.0.1/callback, as Gusto's CLI registers) matches the same
 * URI with any port, the one the native app listens on this time. */
static bool loopback_match(const char *reg, const char *uri)
{
    static const char *const hosts[] = {"http://127.0.0.1", "http://[::1]", NULL};
    for (int i = 0; hosts[i]; i++) {
        size_t h = strlen(hosts[i]);
        if (strncmp(reg, hosts[i], h) != 0 || reg[h] != '/')
            continue;
        if (strncmp(uri, hosts[i], h) != 0)
            return false;
        const char *p = uri + h;
        if (*p == ':') {
            const char *d = ++p;
            long port = 0;
            while (*p >= '0' && *p <= '9' && p - d < 6)
                port = port * 10 + (*p++ - '0');
            if (p == d || port < 1 || port > 65535)
                return false;
        }
        return strcmp(p, reg + h) == 0;
    }
    return false;
}

bool oauth_app_has_uri(const struct app *a, const char *uri)
{
    for (int i = 0; i < a->nuris; i++)
        if (strcmp(a->uris[i], uri) == 0 || loopback_match(a->uris[i], uri))
            return true;
    return false;
}

bool oauth_secret_ok(const struct app *a, const char *secret)
{
    char h[65];
    sha256_hex(secret, h);
    return CRYPTO_memcmp(h, a->secret_hash, 64) == 0;
}

static bool scope_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == ':' || c == '.' || c == '-';
}

/* Is the n-byte word w one of the space-separated words of list? */
static bool has_word(const char *list, const char *w, size_t n)
{
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, w, n) == 0)
            return true;
        p += len;
        while (*p == ' ')
            p++;
    }
    return false;
}

/* Split a scope list on spaces, commas or '+', check each scope, drop
 * repeats and join with single spaces.  When allowed is not NULL each scope
 * must be in it.  Returns 0, -1 (bad scope, named in err) or -2 (too long). */
int oauth_norm_scopes(const char *in, const char *allowed, char out[512], char *err,
                       size_t errlen)
{
    size_t o = 0;
    out[0] = 0;
    const char *p = in;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '+')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, " ,+");
        for (size_t i = 0; i < n; i++)
            if (!scope_char(p[i])) {
                snprintf(err, errlen, "a scope may hold only letters, digits and _ : . -");
                return -1;
            }
        if (allowed && !has_word(allowed, p, n)) {
            snprintf(err, errlen, "the scope %.*s is not available to this application",
                     (int)(n > 80 ? 80 : n), p);
            return -1;
        }
        if (!has_word(out, p, n)) {
            if (o + n + 2 > 512) {
                snprintf(err, errlen, "the scope list is longer than 511 characters");
                return -2;
            }
            if (o)
                out[o++] = ' ';
            memcpy(out + o, p, n);
            o += n;
            out[o] = 0;
        }
        p += n;
    }
    if (!o) {
        snprintf(err, errlen, "the scope list is empty");
        return -1;
    }
    return 0;
}

/* ---- app registration ---------------------------------------------------- */

static bool valid_client_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200)
        return false;
    for (const char *p = s; *p; p++)
        if (!(scope_char(*p) || *p == '~') || *p == ':')
            return false;
    return true;
}

/* An absolute URI with a scheme, no fragment, no spaces or controls. */
static const char *check_uri(const char *u)
{
    size_t n = strlen(u);
    if (n == 0)
        return "a redirect URI is empty";
    if (n > MAX_URI_LEN)
        return "a redirect URI is longer than 1000 characters";
    const char *c = strchr(u, ':');
    if (!c || c == u || !((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z')))
        return "a redirect URI must be absolute, e.g. http://127.0.0.1:8000/callback";
    for (const char *p = u; p < c; p++)
        if (!(scope_char(*p) || *p == '+') || *p == '_' || *p == ':')
            return "a redirect URI has a malformed scheme";
    if (!c[1])
        return "a redirect URI has nothing after its scheme";
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return "a redirect URI may not hold spaces or control characters";
    if (strchr(u, '#'))
        return "a redirect URI may not have a #fragment (RFC 6749 3.1.2)";
    return NULL;
}

static void app_free(struct app *a)
{
    free(a->client_id);
    free(a->name);
    for (int i = 0; i < a->nuris; i++)
        free(a->uris[i]);
    memset(a, 0, sizeof *a);
}

void oauth_shutdown(void)
{
    int n = atomic_load(&napps);
    for (int i = 0; i < n; i++)
        app_free(&apps[i]);
    atomic_store(&napps, 0);
}

static int add_app_locked(const struct oauth_client *c, char *err, size_t errlen);

int oauth_client_add(const struct oauth_client *c, char *err, size_t errlen)
{
    pthread_mutex_lock(&apps_lock);
    int rc = add_app_locked(c, err, errlen);
    pthread_mutex_unlock(&apps_lock);
    return rc;
}

/* uris: an array of n strings.  scopes NULL: every scope. */
static int add_app(const char *client_id, const char *secret, const char *const *uris,
                   int n, const char *scopes, const char *name, char *err, size_t errlen)
{
    if (!*secret || strlen(secret) > 512)
        return snprintf(err, errlen, "the client secret of %s is empty or too long",
                        client_id),
               -1;
    char hash[65];
    sha256_hex(secret, hash);
    struct oauth_client c = {client_id, hash, uris, n, scopes, name, OAUTH_AUTH_ANY, false};
    return oauth_client_add(&c, err, errlen);
}

static int add_app_locked(const struct oauth_client *c, char *err, size_t errlen)
{
    const char *client_id = c->client_id, *scopes = c->scopes, *name = c->name;
    const char *const *uris = c->uris;
    int n = c->nuris;
    int count = atomic_load_explicit(&napps, memory_order_relaxed);
    if (count == MAX_APPS)
        return snprintf(err, errlen, "at most %d apps", MAX_APPS), -1;
    if (!valid_client_id(client_id))
        return snprintf(err, errlen,
                        "client_id must be 1-200 characters of letters, digits and _ . - ~"),
               -1;
    if (oauth_find_app(client_id))
        return snprintf(err, errlen, "client_id %s is registered twice", client_id), -1;
    if (n <= 0 || n > MAX_URIS)
        return snprintf(err, errlen, "%s needs 1 to %d redirect URIs", client_id, MAX_URIS),
               -1;
    for (int i = 0; i < n; i++) {
        const char *why = check_uri(uris[i]);
        if (why)
            return snprintf(err, errlen, "%s: %s", client_id, why), -1;
    }
    if (name && (!*name || strlen(name) > 200))
        return snprintf(err, errlen, "the name of %s is empty or too long", client_id), -1;
    struct app a;
    memset(&a, 0, sizeof a);
    char why[160];
    if (oauth_norm_scopes(scopes ? scopes : SB_ALL_SCOPES, NULL, a.scopes, why, sizeof why) != 0)
        return snprintf(err, errlen, "scopes of %s: %s", client_id, why), -1;
    a.client_id = xstrdup(client_id);
    a.name = xstrdup(name ? name : client_id);
    bool oom = !a.client_id || !a.name;
    for (int i = 0; i < n && !oom; i++) {
        a.uris[a.nuris] = xstrdup(uris[i]);
        oom = !a.uris[a.nuris++];
    }
    if (oom) {
        app_free(&a);
        return snprintf(err, errlen, "out of memory"), -1;
    }
    snprintf(a.secret_hash, sizeof a.secret_hash, "%s", c->secret_hash);
    a.auth = c->auth;
    a.pkce = c->pkce;
    apps[count] = a;
    atomic_store_explicit(&napps, count + 1, memory_order_release);
    return 0;
}

const char *oauth_check_uri(const char *uri)
{
    return check_uri(uri);
}

int oauth_app_arg(char *spec, char *err, size_t errlen)
{
    char *c1 = strchr(spec, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2) {
        snprintf(err, errlen, "expected CLIENT_ID:CLIENT_SECRET:REDIRECT_URI[,URI...]");
        return -1;
    }
    size_t len = strlen(spec);
    char *buf = malloc(len + 1);
    if (!buf)
        return snprintf(err, errlen, "out of memory"), -1;
    memcpy(buf, spec, len + 1);
    char *id = buf, *secret = buf + (c1 - spec) + 1, *rest = buf + (c2 - spec) + 1;
    secret[-1] = 0;
    rest[-1] = 0;
    const char *uris[MAX_URIS + 1];
    int n = 0;
    for (char *p = rest;; ) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = 0;
        if (n <= MAX_URIS)
            uris[n++] = p;
        if (!comma)
            break;
        p = comma + 1;
    }
    int rc = add_app(id, secret, uris, n, NULL, NULL, err, errlen);
    /* Keep the secret out of /proc/PID/cmdline from here on. */
    OPENSSL_cleanse(buf, len);
    free(buf);
    for (char *p = spec + (c1 - spec) + 1; p < c2; p++)
        *p = 'x';
    return rc;
}

/* A JSON string or array of strings joined by spaces into out. */
static int scopes_of(const json_t *v, char *out, size_t outlen)
{
    if (json_is_string(v)) {
        snprintf(out, outlen, "%s", json_string_value(v));
        return 0;
    }
    if (!json_is_array(v))
        return -1;
    size_t i, o = 0;
    json_t *e;
    out[0] = 0;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e))
            return -1;
        int w = snprintf(out + o, outlen - o, "%s%s", o ? " " : "", json_string_value(e));
        if (w < 0 || (size_t)w >= outlen - o)
            return -1;
        o += (size_t)w;
    }
    return 0;
}

int oauth_apps_file(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        /* Line and column only: jansson's text may quote the file, secrets and all. */
        if (je.line <= 0)
            snprintf(err, errlen, "%s: cannot read it", path);
        else
            snprintf(err, errlen, "%s: not valid JSON near line %d column %d", path, je.line,
                     je.column);
        return -1;
    }
    int rc = 0;
    if (!json_is_array(root)) {
        snprintf(err, errlen, "%s: expected a JSON array of apps", path);
        rc = -1;
    }
    size_t i;
    json_t *o;
    json_array_foreach(root, i, o) {
        if (rc)
            break;
        const char *where = path;
        if (!json_is_object(o)) {
            snprintf(err, errlen, "%s: app %zu is not an object", where, i + 1);
            rc = -1;
            break;
        }
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v) {
            if (strcmp(k, "client_id") && strcmp(k, "client_secret") &&
                strcmp(k, "redirect_uris") && strcmp(k, "scopes") && strcmp(k, "name")) {
                snprintf(err, errlen, "%s: app %zu has an unknown key \"%.40s\"", where, i + 1,
                         k);
                rc = -1;
                break;
            }
        }
        if (rc)
            break;
        const char *id = json_string_value(json_object_get(o, "client_id"));
        const char *secret = json_string_value(json_object_get(o, "client_secret"));
        json_t *ru = json_object_get(o, "redirect_uris");
        json_t *sc = json_object_get(o, "scopes");
        json_t *nm = json_object_get(o, "name");
        if (!id || !secret) {
            snprintf(err, errlen, "%s: app %zu needs string client_id and client_secret",
                     where, i + 1);
            rc = -1;
            break;
        }
        const char *uris[MAX_URIS];
        int n = 0;
        if (json_is_string(ru)) {
            uris[n++] = json_string_value(ru);
        } else if (json_is_array(ru) && json_array_size(ru) <= MAX_URIS) {
            size_t j;
            json_t *u;
            json_array_foreach(ru, j, u) {
                if (!json_is_string(u)) {
                    n = -1;
                    break;
                }
                uris[n++] = json_string_value(u);
            }
        } else {
            n = -1;
        }
        if (n <= 0) {
            snprintf(err, errlen,
                     "%s: app %zu needs redirect_uris, an array of 1 to %d strings", where,
                     i + 1, MAX_URIS);
            rc = -1;
            break;
        }
        char scopes[1024];
        if (sc && scopes_of(sc, scopes, sizeof scopes) != 0) {
            snprintf(err, errlen, "%s: app %zu: scopes must be a string or an array of "
                                  "strings", where, i + 1);
            rc = -1;
            break;
        }
        if (nm && !json_is_string(nm)) {
            snprintf(err, errlen, "%s: app %zu: name must be a string", where, i + 1);
            rc = -1;
            break;
        }
        char why[200];
        if (add_app(id, secret, uris, n, sc ? scopes : NULL, json_string_value(nm), why,
                    sizeof why) != 0) {
            snprintf(err, errlen, "%s: app %zu: %s", where, i + 1, why);
            rc = -1;
        }
    }
    json_decref(root);
    return rc;
}

