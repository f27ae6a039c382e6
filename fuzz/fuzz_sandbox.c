/* fuzz_sandbox.c - libFuzzer harness: gusto-sandbox's request pipeline (method, path, query, headers, body) driven without HTTP against an in-memory seeded database. */
#include "sandbox/sandbox.h"
#include "shared/pctdecode.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* main.c is not linked: the harness owns the configuration. */
struct sb_config sb_cfg = {
    .bind = "127.0.0.1",
    .rate_limit = 0,
    .code_ttl = 600,
    .access_ttl = 7200,
    .fault_seed = 1,
};

/* Inputs between database resets: fuzzed writes pile up, and lists (which
 * return every row when no page is asked for) would slow down. */
#define RESET_EVERY 2000

static void die(const char *what)
{
    fprintf(stderr, "fuzz_sandbox: %s\n", what);
    abort();
}

static void setup_db(void)
{
    char err[256];
    if (db_init(NULL, err, sizeof err) != 0)
        die(err);
    sqlite3 *db = db_acquire();
    int rc = db_begin_write(db);
    rc |= seed_base(db);
    rc |= oauth_init(db);
    rc |= seed_demo(db);
    rc |= seed_records(db, true); /* pay schedules, contractors, time-off requests... */
    /* Seeds use these tokens: full scope, read-only, and another company. */
    rc |= auth_add_token(db, "fuzz-token", SB_DEMO_COMPANY, NULL, 0);
    rc |= auth_add_token(db, "fuzz-ro", SB_DEMO_COMPANY, "public employees:read", 0);
    rc |= auth_add_token(db, "fuzz-other", SB_OTHER_COMPANY, NULL, 0);
    rc |= rc ? 0 : db_commit(db);
    db_release(db);
    if (rc)
        die("seeding failed");
    if (batches_start(err, sizeof err) != 0)
        die(err);
}

static void teardown_db(void)
{
    batches_shutdown();
    db_shutdown();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    if (limits_init(0, NULL, 1, err, sizeof err) != 0)
        die(err);
    char app[] = "fuzz-app:fuzz-secret:http://127.0.0.1:9/cb";
    if (oauth_app_arg(app, err, sizeof err) != 0)
        die(err);
    setup_db();
    return 0;
}

/* libmicrohttpd hands the handler a %XX-decoded path. */
static void unescape_path(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%' && hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0) {
            *o++ = (char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
}

#define MAX_HEADERS 32

/* Input: "METHOD TARGET\n" then "Name: value\n" lines, an empty line, and
 * the body (the rest, NULs and all). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned long runs;
    if (++runs % RESET_EVERY == 0) {
        teardown_db();
        setup_db();
    }
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;

    /* The head ends at the first "\n\n" (or the end); the body follows. */
    char *body = NULL;
    size_t body_len = 0;
    char *sep = NULL;
    for (size_t i = 0; i + 1 < size; i++)
        if (text[i] == '\n' && text[i + 1] == '\n') {
            sep = text + i;
            break;
        }
    if (sep) {
        *sep = 0;
        body = sep + 2;
        body_len = size - (size_t)(body - text);
    }
    /* The head is text: it ends at its first NUL, as an HTTP head would. */
    char *line_end = strchr(text, '\n');
    if (line_end)
        *line_end = 0;
    char *method = text;
    char *target = strchr(text, ' ');
    if (!target || !*method) {
        free(text);
        return 0;
    }
    *target++ = 0;
    char *query = strchr(target, '?');
    if (query)
        *query++ = 0;
    unescape_path(target);

    const char *headers[2 * MAX_HEADERS + 1];
    int nh = 0;
    for (char *p = line_end ? line_end + 1 : NULL; p && *p && nh < MAX_HEADERS;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        char *colon = strchr(p, ':');
        if (colon) {
            *colon = 0;
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            headers[2 * nh] = p;
            headers[2 * nh + 1] = v;
            nh++;
        }
        p = nl ? nl + 1 : NULL;
    }
    headers[2 * nh] = NULL;

    /* A body without a NUL after it would be read past its end. */
    char *b = malloc(body_len + 1);
    if (b) {
        if (body_len)
            memcpy(b, body, body_len);
        b[body_len] = 0;
        struct request r;
        memset(&r, 0, sizeof r);
        r.method = method;
        r.path = target;
        r.query = query;
        r.headers = headers;
        request_run(&r, b, body_len, false, SB_MAX_BODY);
        if (getenv("FUZZ_SANDBOX_TRACE")) {
            char *t = r.reply ? json_dumps(r.reply, JSON_COMPACT) : NULL;
            fprintf(stderr, "%s %s -> %d %.200s\n", method, target, r.status, t ? t : "");
            free(t);
        }
        /* 0 (no status) becomes a 500 in server.c. */
        if (r.status != 0 && (r.status < 100 || r.status > 599))
            die("a status outside 100..599");
        /* Serialise the reply as server.c does. */
        if (r.reply) {
            char *out = json_dumps(r.reply, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (!out)
                die("a reply that does not serialise");
            free(out);
        }
        request_release(&r);
        free(b);
    }
    free(text);
    return 0;
}
