/* fuzz_serve.c - libFuzzer harness: the JSON `gusto-connect serve` accepts: a Gusto webhook body (handshake or signed event) through webhook_receive() against an in-memory state database, its --config file through serve_config_load(), and the secret masking of its audit log (mask_json()) on any JSON. */
#include "serve/serve.h"
#include "shared/secretkeys.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#define WEBHOOK_TOKEN "fuzz-webhook-token-3c1d"
/* Inputs between state resets: recorded events and tokens pile up. */
#define RESET_EVERY 5000

static void die(const char *what)
{
    fprintf(stderr, "fuzz_serve: %s\n", what);
    abort();
}

static struct serve_config cfg;

static void open_db(void)
{
    char err[256];
    if (serve_db_open(":memory:", err, sizeof err) != 0)
        die(err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* The configuration comes from the input alone. */
    static const char *const env[] = {"GUSTO_SERVE_BIND", "GUSTO_SERVE_PORT", "GUSTO_SERVE_DB",
                                      "GUSTO_SERVE_WEBHOOK_TOKEN", "GUSTO_SERVE_MIRROR",
                                      "GUSTO_STORE"};
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
        unsetenv(env[i]);
    /* The receiver logs handshakes on stderr: keep libFuzzer's output. */
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.webhook_token, sizeof cfg.webhook_token, "%s", WEBHOOK_TOKEN);
    cfg.auto_verify = false; /* no thread, no network */
    cfg.quiet = true;
    open_db();
    return 0;
}

static void hmac_hex(const char *body, size_t len, char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), WEBHOOK_TOKEN, (int)strlen(WEBHOOK_TOKEN), (const unsigned char *)body,
         len, mac, &n);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", i < n ? mac[i] : 0);
    out[64] = 0;
}

/* Mode 0: a webhook.  Flag bit 0: signed with the configured token; bit 1
 * (when unsigned): a signature of the right length but wrong. */
static void webhook(const char *body, size_t len, int flags)
{
    char sig[65];
    const char *s = NULL;
    if (flags & 1) {
        hmac_hex(body, len, sig);
        s = sig;
    } else if (flags & 2) {
        memset(sig, 'a', 64);
        sig[64] = 0;
        s = sig;
    }
    json_t *reply = NULL;
    int st = webhook_receive(&cfg, body, len, s, &reply);
    if (st != 200 && st != 400 && st != 401 && st != 500)
        die("a webhook status other than 200, 400, 401 or 500");
    if (!json_is_object(reply) || !json_is_boolean(json_object_get(reply, "ok")))
        die("a webhook reply without ok");
    if (st == 200 && s == NULL && !json_is_true(json_object_get(reply, "ok")))
        die("200 for an unsigned body that is not a handshake");
    /* An unsigned or wrongly signed event is never accepted. */
    const char *result = json_string_value(json_object_get(reply, "result"));
    if (!(flags & 1) && result &&
        (strcmp(result, "accepted") == 0 || strcmp(result, "duplicate") == 0))
        die("an event accepted without a valid signature");
    char *text = json_dumps(reply, JSON_COMPACT);
    if (!text)
        die("a reply that does not serialise");
    free(text);
    json_decref(reply);
}

/* Mode 1: a --config file, read through a memfd. */
static void config(const char *data, size_t len)
{
    int fd = memfd_create("fuzz-serve-config", 0);
    if (fd < 0)
        return;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    char path[64], err[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct serve_config c;
    memset(err, 0, sizeof err);
    int rc = serve_config_load(&c, path, err, sizeof err);
    close(fd);
    if (rc != 0 && rc != -1)
        die("serve_config_load returned something else than 0 or -1");
    if (!memchr(err, 0, sizeof err))
        die("an error message without its NUL");
    if (rc == 0) {
        const char *fields[] = {c.bind, c.db, c.store, c.audit_log, c.webhook_token,
                                c.webhook_connection, c.mirror};
        size_t caps[] = {sizeof c.bind, sizeof c.db, sizeof c.store, sizeof c.audit_log,
                         sizeof c.webhook_token, sizeof c.webhook_connection, sizeof c.mirror};
        for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
            if (!memchr(fields[i], 0, caps[i]))
                die("a configuration field without its NUL");
    }
}

/* The one masking policy (src/shared/secretkeys.h). */
static bool is_secret(const char *k)
{
    return secret_key_kind(k) != SECRET_NONE;
}

/* Every secret key of the masked copy holds "***" and at most four digits
 * ("***-**-1234" at most); the copy has the shape of the original. */
static void check_masked(const json_t *orig, const json_t *m)
{
    if (json_typeof(orig) != json_typeof(m))
        die("masking changed a value's type");
    if (json_is_array(orig)) {
        if (json_array_size(orig) != json_array_size(m))
            die("masking changed an array's size");
        for (size_t i = 0; i < json_array_size(orig); i++)
            check_masked(json_array_get(orig, i), json_array_get(m, i));
        return;
    }
    if (!json_is_object(orig))
        return;
    if (json_object_size(orig) != json_object_size(m))
        die("masking changed an object's size");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)orig, k, v) {
        json_t *mv = json_object_get(m, k);
        if (!mv)
            die("masking dropped a key");
        if (is_secret(k) && !json_is_null(v)) {
            const char *s = json_string_value(mv);
            int digits = 0;
            for (const char *p = s ? s : ""; *p; p++)
                digits += *p >= '0' && *p <= '9';
            if (!s || strncmp(s, "***", 3) != 0 || strlen(s) > 11 || digits > 4)
                die("a secret left unmasked");
        } else if (json_is_object(v) || json_is_array(v)) {
            check_masked(v, mv);
        }
    }
}

/* Mode 2: mask_json on any JSON. */
static void mask(const char *data, size_t len)
{
    json_t *j = json_loadb(data, len, JSON_DECODE_ANY, NULL);
    if (!j)
        return;
    json_t *m = mask_json(j);
    if (!m)
        die("mask_json returned NULL");
    if (!json_is_object(j) && !json_is_array(j)) {
        if (!json_equal(j, m))
            die("masking changed a scalar");
    } else {
        check_masked(j, m);
    }
    json_decref(m);
    json_decref(j);
}

/* Byte 0 picks the mode (and byte 1 its flags); the rest is the JSON. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned long runs;
    if (++runs % RESET_EVERY == 0) {
        serve_db_close();
        open_db();
    }
    if (size < 2)
        return 0;
    const char *body = (const char *)data + 2;
    size_t len = size - 2;
    switch (data[0] % 3) {
    case 0: webhook(body, len, data[1]); break;
    case 1: config(body, len); break;
    default: mask(body, len); break;
    }
    return 0;
}
