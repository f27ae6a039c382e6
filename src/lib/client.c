/* client.c - the gusto_client handle: options, environments, the company
 * UUID from token_info, and gusto_request() (the "call API" action). */
#include "lib/internal.h"
#include "shared/jsonerr.h"
#include "shared/textbuf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* json_dumps() into a buffer whose first failure sticks: jansson 2.14
 * ignores a failed write of an object's key and carries on, so an
 * allocation failing there turned {"version":"x"} into {":"x"}, sent as
 * the body.  Any failed write now fails the whole text. */
static int dump_cb(const char *b, size_t n, void *ud)
{
    return textbuf_add(ud, b, n) ? 0 : -1;
}

char *json_text(const json_t *j)
{
    struct textbuf d = {0};
    if (!j || json_dump_callback(j, dump_cb, &d, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0) {
        textbuf_free(&d);
        return NULL;
    }
    return textbuf_take(&d);
}

char *url_escape(gusto_client *c, const char *s)
{
    char *e = curl_easy_escape(c->curl, s, 0);
    char *out = e ? xasprintf("%s", e) : NULL;
    curl_free(e);
    return out;
}

void gusto_free(void *ptr) { free(ptr); }

const char *gusto_version(void) { return GUSTO_VERSION; }

/* libcurl's own parse of the URL: the host it reports is the host it will
 * connect to, whatever userinfo, brackets or odd IPv4 spellings ("127.1",
 * which its parser normalises) the text holds. */
gusto_code gusto_url_check(const char *url, const char *field, gusto_url_info *out,
                           gusto_error *err)
{
    gusto_url_info zero = {0};
    *out = zero;
    err_clear(err);
    if (!field)
        field = "url";
    if (!url || !*url) {
        err_set(err, GUSTO_EINVAL, "%s is empty; expected an http(s) URL", field);
        err_field(err, field);
        return GUSTO_EINVAL;
    }
    CURLU *u = curl_url();
    if (!u)
        return err_set(err, GUSTO_ENOMEM, "out of memory");
    gusto_code rc = GUSTO_EINVAL;
    char *scheme = NULL, *user = NULL, *pass = NULL, *opts = NULL, *host = NULL,
         *port = NULL, *path = NULL, *query = NULL, *frag = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
        err_set(err, GUSTO_EINVAL, "%s \"%.200s\" is not an absolute http(s) URL", field, url);
        goto done;
    }
    if (strcasecmp(scheme, "https") != 0 && strcasecmp(scheme, "http") != 0) {
        err_set(err, GUSTO_EINVAL, "%s \"%.200s\" is not http:// or https://", field, url);
        goto done;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_OPTIONS, &opts, 0) == CURLUE_OK) {
        /* Never echo it: userinfo is where a password would be. */
        err_set(err, GUSTO_EINVAL,
                "%s holds userinfo (text ending in '@' before the host); it would hide the "
                "host the request really goes to (%.200s)", field, host);
        err_hint(err, "remove the user:password@ part; give only scheme://host[:port][/path]");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK) {
        err_set(err, GUSTO_EINVAL, "%s \"%.200s\" has a fragment ('#')", field, url);
        goto done;
    }
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
        query = NULL;
    if (strlen(host) >= sizeof out->host || (path && strlen(path) >= sizeof out->path) ||
        (query && strlen(query) >= sizeof out->query)) {
        err_set(err, GUSTO_EINVAL, "%s \"%.200s\" is too long", field, url);
        goto done;
    }
    out->https = strcasecmp(scheme, "https") == 0;
    snprintf(out->host, sizeof out->host, "%s", host);
    snprintf(out->path, sizeof out->path, "%s", path && *path ? path : "/");
    snprintf(out->query, sizeof out->query, "%s", query ? query : "");
    out->explicit_port = curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK;
    out->port = out->explicit_port ? (unsigned)strtoul(port, NULL, 10) : out->https ? 443 : 80;
    /* Loopback is localhost, ::1 or an IPv4 address in 127/8; a name that
     * merely starts with "127." (127.0.0.1.example.com) is a remote host. */
    struct in_addr a4;
    struct in6_addr a6;
    char v6[64];
    size_t hl = strlen(host);
    bool bracket = hl > 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof v6;
    if (bracket) {
        memcpy(v6, host + 1, hl - 2);
        v6[hl - 2] = 0;
    }
    out->loopback = strcasecmp(host, "localhost") == 0 ||
                    (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127) ||
                    (bracket && inet_pton(AF_INET6, v6, &a6) == 1 &&
                     memcmp(&a6, &in6addr_loopback, sizeof a6) == 0);
    rc = GUSTO_OK;
done:
    if (rc != GUSTO_OK) {
        err_field(err, field);
        *out = zero;
    }
    curl_free(scheme);
    curl_free(user);
    curl_free(pass);
    curl_free(opts);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(frag);
    curl_url_cleanup(u);
    return rc;
}

/* Hand the provider's userdata back to it (once). */
static void cred_release(gusto_credentials *cred)
{
    if (cred->free && cred->userdata)
        cred->free(cred->userdata);
    cred->free = NULL;
    cred->userdata = NULL;
}

gusto_client *gusto_client_new(const gusto_options *o, gusto_error *err)
{
    static const gusto_options zero;
    if (!o)
        o = &zero;
    err_clear(err);
    if (o->version > GUSTO_OPTIONS_VERSION) {
        err_set(err, GUSTO_EINVAL, "gusto_options version %u is newer than this libgusto "
                "(%s) knows (%d): the program was built against a newer gusto.h",
                o->version, GUSTO_VERSION, GUSTO_OPTIONS_VERSION);
        err_field(err, "version");
        return NULL;
    }
    /* The client owns the provider's userdata from here on, whatever happens. */
    gusto_credentials cred = {0};
    if (o->version >= 2 && o->credentials)
        cred = *o->credentials;
    if (o->removed_connection || o->removed_store_path) {
        err_set(err, GUSTO_EINVAL, "gusto_options.connection and .store_path were removed in "
                                   "libgusto 0.2: open a stored connection with "
                                   "gusto_client_new_stored()");
        err_field(err, "connection");
        cred_release(&cred);
        return NULL;
    }
    if (cred.userdata && !cred.get) {
        err_set(err, GUSTO_EINVAL, "gusto_options.credentials has no get callback");
        err_field(err, "credentials");
        cred_release(&cred);
        return NULL;
    }
    const char *base = o->base_url && *o->base_url ? o->base_url : GUSTO_DEMO_URL;
    gusto_url_info bu;
    if (gusto_url_check(base, "base_url", &bu, err) != GUSTO_OK) {
        if (!err || !err->hint[0])
            err_hint(err, "use " GUSTO_DEMO_URL ", " GUSTO_PRODUCTION_URL ", or a loopback "
                          "URL such as http://127.0.0.1:8080");
        err_reason(err, "base_url");
        cred_release(&cred);
        return NULL;
    }
    if (bu.query[0]) {
        err_set(err, GUSTO_EINVAL, "base_url \"%.200s\" has a query ('?')", base);
        err_field(err, "base_url");
        cred_release(&cred);
        return NULL;
    }
    bool https = bu.https, loopback = bu.loopback;
    if (!https && !loopback) {
        err_set(err, GUSTO_EINVAL,
                "refusing plain http:// to %.200s: the token would travel unencrypted", base);
        err_field(err, "base_url");
        err_hint(err, "use https://, or http:// only for a local sandbox on 127.0.0.1");
        cred_release(&cred);
        return NULL;
    }
    gusto_client *c = calloc(1, sizeof *c);
    if (!c) {
        err_set(err, GUSTO_ENOMEM, "out of memory");
        cred_release(&cred);
        return NULL;
    }
    c->cred = cred; /* gusto_client_free() releases it from here on */
    /* Before anything is sent or a stored connection is read. */
    if (version_choose(c, o->api_version, o->today, err) != GUSTO_OK) {
        gusto_client_free(c);
        return NULL;
    }
    c->base_url = xasprintf("%s", base);
    if (c->base_url) {
        size_t n = strlen(c->base_url);
        while (n > 0 && c->base_url[n - 1] == '/')
            c->base_url[--n] = 0;
    }
    c->token = o->access_token ? xasprintf("%s", o->access_token) : NULL;
    c->company = o->company_uuid && *o->company_uuid ? xasprintf("%s", o->company_uuid) : NULL;
    c->env_name = strcasecmp(c->base_url ? c->base_url : "", GUSTO_DEMO_URL) == 0 ? "demo"
                  : strcasecmp(c->base_url ? c->base_url : "", GUSTO_PRODUCTION_URL) == 0
                      ? "production"
                      : "custom";
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    c->max_retries = o->max_retries == 0 ? 4 : o->max_retries < 0 ? 0 : o->max_retries;
    c->retry_base_ms = o->retry_base_ms > 0 ? o->retry_base_ms : 250;
    c->rate_limit = o->rate_limit == 0 ? 200 : o->rate_limit;
    c->trace = o->trace;
    c->trace_ud = o->trace_userdata;
    c->on_wait = o->on_wait;
    c->wait_ud = o->wait_userdata;
    c->loopback = loopback;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    c->rng = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 20) ^
             (unsigned long long)(uintptr_t)c;
    c->curl = curl_easy_init();
    if (!c->base_url || (o->access_token && !c->token) || !c->curl) {
        gusto_client_free(c);
        err_set(err, GUSTO_ENOMEM, "out of memory");
        return NULL;
    }
    char ua[128], ver[64];
    snprintf(ua, sizeof ua, "User-Agent: gusto-connect/" GUSTO_VERSION " libcurl/%s",
             curl_version_info(CURLVERSION_NOW)->version);
    snprintf(ver, sizeof ver, "X-Gusto-API-Version: %s", c->api_version);
    c->headers_base = curl_slist_append(NULL, "Accept: application/json");
    c->headers_base = curl_slist_append(c->headers_base, ver);
    c->headers_base = curl_slist_append(c->headers_base, ua);
    c->headers_base = curl_slist_append(c->headers_base, "Expect:");

    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* never carry the token elsewhere */
    /* Plain http is allowed only because it stays on this machine: never
     * hand it (and the token in clear) to an http_proxy from the environment. */
    if (loopback)
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    /* curl 7.88 breaks multiplexed HTTP/2 over cleartext; TLS negotiates. */
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                     https ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
    http_trace_setup(c);
    return c;
}

/* Wipe and free a NUL-terminated secret. */
static void free_secret(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = 0;
    free(s);
}

gusto_code cred_fetch(gusto_client *c, bool refused, gusto_error *err)
{
    if (!c->cred.get)
        return err_set(err, GUSTO_EINVAL, "this client has no credential provider");
    gusto_code rc;
    if (refused) {
        if (!c->cred.refused)
            return err_set(err, GUSTO_EAUTH, "the token was refused and its provider cannot "
                                             "make a new one");
        if ((rc = c->cred.refused(c->cred.userdata, c, err)) != GUSTO_OK)
            return rc;
    }
    char buf[1024] = "";
    long long exp = 0;
    err_clear(err);
    rc = c->cred.get(c->cred.userdata, c, buf, sizeof buf, &exp, err);
    if (rc == GUSTO_OK && !buf[0])
        rc = err_set(err, GUSTO_EAUTH, "the credential provider gave no token");
    if (rc == GUSTO_OK) {
        char *t = xasprintf("%s", buf);
        if (!t) {
            rc = err_set(err, GUSTO_ENOMEM, "out of memory");
        } else {
            free_secret(c->token);
            c->token = t;
            c->expires_at = exp;
        }
    } else if (err && err->code == GUSTO_OK) {
        err_set(err, rc, "the credential provider failed");
    }
    volatile char *p = buf;
    for (size_t i = 0; i < sizeof buf; i++)
        p[i] = 0;
    return rc;
}

gusto_code gusto_client_refresh(gusto_client *c, gusto_error *err)
{
    err_clear(err);
    if (!c || !c->cred.get || !c->cred.refused)
        return err_set(err, GUSTO_EINVAL, "this client has no credential provider that can "
                                          "refresh (it was made with a plain token)");
    return cred_fetch(c, true, err);
}

void gusto_client_free(gusto_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers_base);
    free_secret(c->token);
    free(c->base_url);
    free(c->company);
    cred_release(&c->cred);
    free(c);
}

const char *gusto_client_base_url(const gusto_client *c) { return c->base_url; }
const char *gusto_client_environment(const gusto_client *c) { return c->env_name; }
unsigned long gusto_request_count(const gusto_client *c) { return c->requests; }

gusto_code gusto_company_uuid(gusto_client *c, const char **out, gusto_error *err)
{
    if (c->company) {
        *out = c->company;
        return GUSTO_OK;
    }
    json_t *ti = NULL;
    gusto_code rc = api_json(c, "GET", "/v1/token_info", NULL, &ti, err);
    if (rc != GUSTO_OK)
        return rc;
    json_t *res = json_object_get(ti, "resource");
    const char *type = json_string_value(json_object_get(res, "type"));
    const char *uuid = json_string_value(json_object_get(res, "uuid"));
    if (!type || strcmp(type, "Company") != 0 || !uuid) {
        /* type points into ti: free it only after the message is made. */
        rc = err_set(err, GUSTO_EINVAL,
                     "this token is not bound to a company (token_info resource type %s)",
                     type ? type : "missing");
        json_decref(ti);
        err_hint(err, "give the company UUID (gusto_options.company_uuid)");
        err_reason(err, "company_unknown");
        return rc;
    }
    c->company = xasprintf("%s", uuid);
    json_decref(ti);
    if (!c->company)
        return err_set(err, GUSTO_ENOMEM, "out of memory");
    *out = c->company;
    return GUSTO_OK;
}

/* Replace {company_uuid} / {company_id} in path.  Returns malloc'd text. */
static char *fill_path(gusto_client *c, const char *path, gusto_error *err, gusto_code *rc)
{
    static const char *const holes[] = {"{company_uuid}", "{company_id}"};
    *rc = GUSTO_OK;
    bool need = strstr(path, holes[0]) || strstr(path, holes[1]);
    const char *company = NULL;
    if (need && (*rc = gusto_company_uuid(c, &company, err)) != GUSTO_OK)
        return NULL;
    size_t cap = strlen(path) + 1 + (need ? 4 * 40 : 0);
    char *out = malloc(cap);
    if (!out) {
        *rc = err_set(err, GUSTO_ENOMEM, "out of memory");
        return NULL;
    }
    size_t n = 0;
    for (const char *p = path; *p;) {
        bool hit = false;
        for (int i = 0; i < 2 && need; i++) {
            size_t hl = strlen(holes[i]);
            if (strncmp(p, holes[i], hl) == 0) {
                size_t cl = strlen(company);
                if (n + cl + 1 > cap) {
                    cap = (n + cl + 1) * 2 + strlen(p);
                    char *nb = realloc(out, cap);
                    if (!nb) {
                        free(out);
                        *rc = err_set(err, GUSTO_ENOMEM, "out of memory");
                        return NULL;
                    }
                    out = nb;
                }
                memcpy(out + n, company, cl);
                n += cl;
                p += hl;
                hit = true;
            }
        }
        if (!hit) {
            if (n + 2 > cap) {
                cap *= 2;
                char *nb = realloc(out, cap);
                if (!nb) {
                    free(out);
                    *rc = err_set(err, GUSTO_ENOMEM, "out of memory");
                    return NULL;
                }
                out = nb;
            }
            out[n++] = *p++;
        }
    }
    out[n] = 0;
    return out;
}

gusto_code gusto_request(gusto_client *c, const char *method, const char *path,
                         const char *body_json, long *status, char **out_json,
                         gusto_error *err)
{
    err_clear(err);
    if (status)
        *status = 0;
    if (out_json)
        *out_json = NULL;
    if (!method || !*method || strlen(method) > 10) {
        err_set(err, GUSTO_EINVAL, "method must be GET, POST, PUT, PATCH or DELETE");
        err_field(err, "method");
        return GUSTO_EINVAL;
    }
    char m[12];
    size_t ml = strlen(method);
    for (size_t i = 0; i <= ml; i++)
        m[i] = (char)toupper((unsigned char)method[i]);
    if (strcmp(m, "GET") && strcmp(m, "POST") && strcmp(m, "PUT") && strcmp(m, "PATCH") &&
        strcmp(m, "DELETE")) {
        err_set(err, GUSTO_EINVAL, "method \"%s\" is not GET, POST, PUT, PATCH or DELETE", method);
        err_field(err, "method");
        return GUSTO_EINVAL;
    }
    if (!path || !*path) {
        err_set(err, GUSTO_EINVAL, "path is empty; expected e.g. /v1/companies/{company_uuid}");
        err_field(err, "path");
        return GUSTO_EINVAL;
    }
    const char *rel = path;
    char *rel_own = NULL;
    if (path[0] != '/') {
        /* Compared as libcurl parses both: scheme, host and port equal, and
         * the path under the base URL's path (userinfo is refused). */
        gusto_url_info pu, bu;
        gusto_error perr;
        bool same = gusto_url_check(path, "path", &pu, &perr) == GUSTO_OK &&
                    gusto_url_check(c->base_url, "base_url", &bu, NULL) == GUSTO_OK &&
                    pu.https == bu.https && pu.port == bu.port &&
                    strcasecmp(pu.host, bu.host) == 0;
        size_t bl = same ? strlen(bu.path) : 0;
        while (bl > 0 && bu.path[bl - 1] == '/')
            bl--;
        same = same && strncmp(pu.path, bu.path, bl) == 0 &&
               (pu.path[bl] == '/' || pu.path[bl] == 0);
        if (!same) {
            err_set(err, GUSTO_EINVAL,
                    "refusing %.200s: absolute URLs must point at %s, where the token "
                    "belongs", pu.host[0] ? pu.host : "that URL", c->base_url);
            err_field(err, "path");
            err_hint(err, "pass a path such as /v1/companies/{company_uuid}/employees");
            return GUSTO_EINVAL;
        }
        rel_own = xasprintf("%s%s%s", pu.path[bl] ? pu.path + bl : "/",
                            pu.query[0] ? "?" : "", pu.query);
        if (!rel_own)
            return err_set(err, GUSTO_ENOMEM, "out of memory");
        rel = rel_own;
    }
    for (const char *p = rel; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '#') {
            err_set(err, GUSTO_EINVAL, "path contains a space, control character or '#'");
            err_field(err, "path");
            free(rel_own);
            return GUSTO_EINVAL;
        }
    if (body_json && *body_json) {
        json_error_t je;
        json_t *b = json_loads(body_json, JSON_DECODE_ANY, &je);
        if (!b) {
            char where[200];
            json_error_describe(&je, where, sizeof where);
            err_set(err, GUSTO_EINVAL, "body is not valid JSON: %s", where);
            err_field(err, "body");
            free(rel_own);
            return GUSTO_EINVAL;
        }
        json_decref(b);
    }
    gusto_code rc;
    char *full = fill_path(c, rel, err, &rc);
    free(rel_own);
    if (!full)
        return rc;
    struct http_resp resp = {0};
    rc = http_send(c, m, full, body_json && *body_json ? body_json : NULL, &resp, err);
    free(full);
    if (rc != GUSTO_OK) {
        http_resp_free(&resp);
        return rc;
    }
    if (status)
        *status = resp.status;
    rc = http_status_code(c, &resp, err);
    if (out_json) {
        *out_json = resp.body.p ? textbuf_take(&resp.body) : xasprintf("%s", "");
    }
    http_resp_free(&resp);
    return rc;
}
