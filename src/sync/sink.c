/* sink.c - event sinks: JSON lines appended to a file (or stdout), and a
 * webhook that POSTs each event with an HMAC-SHA256 signature, retrying
 * transient failures with exponential backoff. */
#include "sync/sink.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct sink {
    char key[PATH_MAX + 16];
    bool has_key;
    FILE *f;                 /* file sinks */
    bool own_file;
    CURL *curl;              /* webhook */
    char *url;
    char *secret;
};

struct sink *sink_file_open(const char *path, char *err, size_t errlen)
{
    struct sink *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (strcmp(path, "-") == 0) {
        s->f = stdout;
        return s;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0 || !(s->f = fdopen(fd, "a"))) {
        snprintf(err, errlen, "--events %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(s);
        return NULL;
    }
    s->own_file = true;
    char abs[PATH_MAX];
    snprintf(s->key, sizeof s->key, "file:%s", realpath(path, abs) ? abs : path);
    s->has_key = true;
    return s;
}

/* localhost, ::1 or an IPv4 address in 127/8 (not a name that merely starts
 * with "127.", such as 127.0.0.1.example.com). */
static bool loopback_host(const char *host)
{
    struct in_addr a4;
    return strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
           strcmp(host, "::1") == 0 ||
           (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127);
}

bool sink_url_allowed(const char *url, char *why, size_t cap)
{
    bool https = strncasecmp(url, "https://", 8) == 0;
    bool http = strncasecmp(url, "http://", 7) == 0;
    if (!https && !http) {
        snprintf(why, cap, "the webhook URL must start with https:// (or http:// to loopback)");
        return false;
    }
    const char *h = url + (https ? 8 : 7);
    char host[256];
    size_t n = strcspn(h, "/?#");
    const char *at = memchr(h, '@', n);
    if (at) {
        snprintf(why, cap, "the webhook URL must not carry credentials");
        return false;
    }
    snprintf(host, sizeof host, "%.*s", (int)(n < 255 ? n : 255), h);
    /* strip the port (not inside [v6]) */
    char *colon = strrchr(host, ':');
    if (colon && !strchr(colon, ']') && host[0] != '[')
        *colon = 0;
    else if (host[0] == '[' && (colon = strstr(host, "]:")) != NULL)
        colon[1] = 0;
    if (!host[0]) {
        snprintf(why, cap, "the webhook URL has no host");
        return false;
    }
    if (http && !loopback_host(host)) {
        snprintf(why, cap, "plain http:// is allowed only to loopback (127.0.0.1, ::1, "
                           "localhost); use https://");
        return false;
    }
    return true;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

struct sink *sink_webhook_open(const char *url, const char *secret, char *err, size_t errlen)
{
    char why[200];
    if (!sink_url_allowed(url, why, sizeof why)) {
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    struct sink *s = calloc(1, sizeof *s);
    if (!s || !(s->url = strdup(url)) || !(s->secret = strdup(secret)) ||
        !(s->curl = curl_easy_init())) {
        snprintf(err, errlen, "out of memory");
        sink_close(s);
        return NULL;
    }
    snprintf(s->key, sizeof s->key, "webhook:%s", url);
    s->has_key = true;
    curl_easy_setopt(s->curl, CURLOPT_URL, s->url);
    curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, 15L);
    curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, discard);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    if (strncasecmp(url, "http://", 7) == 0)
        curl_easy_setopt(s->curl, CURLOPT_NOPROXY, "*"); /* loopback stays local */
    return s;
}

const char *sink_key(const struct sink *s)
{
    return s && s->has_key ? s->key : NULL;
}

void sink_signature(const char *key, const char *timestamp, const char *body, char out[65])
{
    size_t tl = strlen(timestamp), bl = strlen(body);
    char *msg = malloc(tl + 1 + bl + 1);
    out[0] = 0;
    if (!msg)
        return;
    memcpy(msg, timestamp, tl);
    msg[tl] = '.';
    memcpy(msg + tl + 1, body, bl + 1);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, tl + 1 + bl, md, &n);
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[64] = 0;
    free(msg);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static int webhook_send(struct sink *s, const char *event_id, const char *type,
                        const char *payload, char *err, size_t errlen)
{
    char ts[24], sig[65], h[5][160];
    long delay = 250;
    for (int attempt = 1;; attempt++) {
        snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
        sink_signature(s->secret, ts, payload, sig);
        snprintf(h[0], sizeof h[0], "X-Gusto-Connect-Event-Id: %s", event_id);
        snprintf(h[1], sizeof h[1], "X-Gusto-Connect-Event-Type: %s", type);
        snprintf(h[2], sizeof h[2], "X-Gusto-Connect-Timestamp: %s", ts);
        snprintf(h[3], sizeof h[3], "X-Gusto-Connect-Signature: sha256=%s", sig);
        snprintf(h[4], sizeof h[4], "Content-Type: application/json");
        struct curl_slist *hdrs = NULL;
        for (int i = 0; i < 5; i++)
            hdrs = curl_slist_append(hdrs, h[i]);
        hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
        CURLcode cc = curl_easy_perform(s->curl);
        long status = 0;
        if (cc == CURLE_OK)
            curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(hdrs);
        if (cc == CURLE_OK && status >= 200 && status < 300)
            return 0;
        bool transient = cc != CURLE_OK || status == 408 || status == 429 || status >= 500;
        if (cc != CURLE_OK)
            snprintf(err, errlen, "webhook %s: %s", s->url, curl_easy_strerror(cc));
        else
            snprintf(err, errlen, "webhook %s answered %ld", s->url, status);
        if (!transient || attempt >= 5)
            return -1;
        sleep_ms(delay);
        delay *= 2;
    }
}

int sink_send(struct sink *s, const char *event_id, const char *type, const char *payload,
              char *err, size_t errlen)
{
    if (s->curl)
        return webhook_send(s, event_id, type, payload, err, errlen);
    if (fputs(payload, s->f) == EOF || fputc('\n', s->f) == EOF) {
        snprintf(err, errlen, "writing events: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int sink_flush(struct sink *s, char *err, size_t errlen)
{
    if (!s->f)
        return 0;
    if (fflush(s->f) != 0 || (s->own_file && fsync(fileno(s->f)) != 0)) {
        snprintf(err, errlen, "writing events: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void sink_close(struct sink *s)
{
    if (!s)
        return;
    if (s->own_file && s->f)
        fclose(s->f);
    else if (s->f)
        fflush(s->f);
    if (s->curl)
        curl_easy_cleanup(s->curl);
    if (s->secret) {
        explicit_bzero(s->secret, strlen(s->secret));
        free(s->secret);
    }
    free(s->url);
    free(s);
}
