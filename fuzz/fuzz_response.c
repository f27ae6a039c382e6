/* fuzz_response.c - libFuzzer harness: libgusto's handling of whatever a hostile or broken server answers (statuses, headers, bodies) for every client call, fed through the http_fake test hook with no network. */
#include "lib/internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN "fuzz-secret-token-5b1e"
#define SECRET "fuzz-client-secret-77c2"
#define EMP "11111111-2222-4333-8444-555555555555"
#define COMPANY "99999999-8888-4777-8666-555555555555"

static void die(const char *what)
{
    fprintf(stderr, "fuzz_response: %s\n", what);
    abort();
}

/* The canned responses of one input, in order. */
struct script {
    const char *p, *end;
    int served;
};

/* A response is "STATUS\n", header lines, an empty line, then the body up
 * to the next "\n====\n" (or the end).  A status that is not a number is
 * "no response": a dropped connection. */
static bool serve(void *ud, const char *method, const char *url, const char *body,
                  struct http_canned *out)
{
    (void)method;
    (void)body;
    struct script *s = ud;
    if (strstr(url, "127.0.0.1:9") == NULL)
        die("a request left the fake server's base URL");
    if (s->p >= s->end || ++s->served > 64)
        return false;
    const char *start = s->p;
    const char *stop = s->end;
    for (const char *x = start; x + 6 <= s->end; x++)
        if (memcmp(x, "\n====\n", 6) == 0) {
            stop = x;
            break;
        }
    s->p = stop < s->end ? stop + 6 : s->end;
    const char *nl = memchr(start, '\n', (size_t)(stop - start));
    const char *head_end = nl ? nl + 1 : stop;
    char num[8];
    size_t n = (size_t)(head_end - start);
    if (n >= sizeof num)
        n = sizeof num - 1;
    memcpy(num, start, n);
    num[n] = 0;
    char *e = NULL;
    long status = strtol(num, &e, 10);
    if (e == num)
        return false;
    /* Headers run to the first empty line. */
    const char *h = head_end, *hb = head_end;
    while (h < stop) {
        const char *eol = memchr(h, '\n', (size_t)(stop - h));
        if (!eol) {
            h = stop;
            break;
        }
        if (eol == h || (eol == h + 1 && *h == '\r')) {
            hb = h;
            h = eol + 1;
            break;
        }
        h = eol + 1;
        hb = h;
    }
    out->status = status;
    out->headers = head_end;
    out->headers_len = (size_t)(hb - head_end);
    out->body = h;
    out->body_len = (size_t)(stop - h);
    return true;
}

/* Secrets are not checked here: a hostile server can echo any text into
 * messages, so only structure is.  tests/security_test.sh checks secrets. */
/* ---- seed recording: FUZZ_RECORD=OUTFILE FUZZ_URL=http://127.0.0.1:PORT
 * FUZZ_TOKEN=T FUZZ_EMP=UUID FUZZ_COMPANY=UUID FUZZ_BATCH=UUID run the call
 * against a real sandbox and write its responses as a seed. ---- */

struct rec {
    char *buf;
    size_t len, cap;
};

static void rec_put(struct rec *r, const char *p, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 65536;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *nb = realloc(r->buf, cap);
        if (!nb)
            die("out of memory");
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
    r->buf[r->len] = 0;
}

static size_t rec_body(char *p, size_t size, size_t n, void *ud)
{
    rec_put(ud, p, size * n);
    return size * n;
}

static size_t rec_header(char *p, size_t size, size_t n, void *ud)
{
    size_t len = size * n;
    /* Keep the headers a client reads; drop the status line and the end. */
    if (len > 5 && memcmp(p, "HTTP/", 5) != 0 && memchr(p, ':', len))
        rec_put(ud, p, len);
    return len;
}

static struct rec recorded;
static int recorded_n;
static const char *rec_strip = "http://127.0.0.1:9";

static bool record(void *ud, const char *method, const char *url, const char *body,
                   struct http_canned *out)
{
    (void)ud;
    static struct rec hb, bb;
    hb.len = bb.len = 0;
    char full[2048];
    snprintf(full, sizeof full, "%s%s", getenv("FUZZ_URL"), url + strlen(rec_strip));
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", getenv("FUZZ_TOKEN"));
    CURL *h = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, auth);
    hd = curl_slist_append(hd, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, full);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, rec_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &bb);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, rec_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hb);
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    char line[32];
    snprintf(line, sizeof line, "%s%ld\n", recorded_n++ ? "\n====\n" : "", status);
    rec_put(&recorded, line, strlen(line));
    rec_put(&recorded, hb.buf ? hb.buf : "", hb.len);
    rec_put(&recorded, "\n", 1);
    rec_put(&recorded, bb.buf ? bb.buf : "", bb.len);
    out->status = status;
    out->headers = hb.buf;
    out->headers_len = hb.len;
    out->body = bb.buf;
    out->body_len = bb.len;
    return status != 0;
}

static void on_trace(void *ud, const char *line)
{
    (void)ud;
    if (strlen(line) > 4096)
        die("a trace line too long");
}

static void check_err(const gusto_error *e)
{
    const char *fields[] = {e->error_key, e->category, e->message, e->field, e->request_id,
                            e->hint};
    size_t caps[] = {sizeof e->error_key, sizeof e->category, sizeof e->message,
                     sizeof e->field, sizeof e->request_id, sizeof e->hint};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        if (!memchr(fields[i], 0, caps[i]))
            die("an error field without its NUL");
    }
}

static int each(void *ud, const char *json, size_t len)
{
    (void)ud;
    if (strlen(json) != len)
        die("an item whose length is wrong");
    return 0;
}

static const char CREATE[] =
    "{\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"ada@example.com\","
    "\"ssn\":\"123-45-6789\",\"date_of_birth\":\"1985-12-10\","
    "\"home_address\":{\"street_1\":\"1 Main St\",\"city\":\"Austin\",\"state\":\"TX\","
    "\"zip\":\"78701\"},\"work_address\":{\"location\":\"Denver\"},"
    "\"job\":{\"title\":\"Analyst\",\"hire_date\":\"2025-03-01\"},"
    "\"compensation\":{\"rate\":\"98000.00\",\"payment_unit\":\"Year\","
    "\"flsa_status\":\"Exempt\"}}";
static const char UPDATE[] =
    "{\"preferred_first_name\":\"Countess\",\"home_address\":{\"zip\":\"78702\"},"
    "\"work_address\":{\"effective_date\":\"2025-04-01\"},\"job\":{\"title\":\"Lead\"},"
    "\"compensation\":{\"rate\":\"105000.00\"}}";
static const char BATCH[] =
    "[{\"person\":{\"external_id\":\"e1\",\"first_name\":\"A\",\"last_name\":\"B\",\"ssn\":\"123-45-6789\"},"
    "\"job\":{\"title\":\"T\",\"hire_date\":\"2025-01-01\"},"
    "\"compensation\":{\"rate\":\"1.00\",\"payment_unit\":\"Hour\","
    "\"flsa_status\":\"Nonexempt\"},\"bank_accounts\":[{\"name\":\"C\","
    "\"account_type\":\"Checking\",\"routing_number\":\"123456789\","
    "\"account_number\":\"987654321\",\"type\":\"Direct Deposit\","
    "\"split_by\":\"Percentage\",\"split_amount\":\"100\"}]}]";

/* Byte 0 picks the call, byte 1 its options; the rest is the script. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int op = data[0] % 11;
    int flags = data[1];
    struct script s = {(const char *)data + 2, (const char *)data + size, 0};
    const char *rec_out = getenv("FUZZ_RECORD");
    http_fake = rec_out ? record : serve;
    http_fake_ud = &s;
    const char *emp = rec_out ? getenv("FUZZ_EMP") : EMP;
    const char *batch_id = rec_out ? getenv("FUZZ_BATCH") : EMP;
    gusto_options o = {
        .base_url = "http://127.0.0.1:9",
        .access_token = TOKEN,
        .company_uuid = (flags & 1) ? NULL : rec_out ? getenv("FUZZ_COMPANY") : COMPANY,
        .max_retries = -1,
        .rate_limit = -1,
        .retry_base_ms = 1,
        .trace = (flags & 2) ? on_trace : NULL,
    };
    gusto_error err;
    memset(&err, 0, sizeof err);
    gusto_client *c = gusto_client_new(&o, &err);
    if (!c)
        die("no client");
    char *out = NULL;
    long status = 0;
    gusto_batch b;
    memset(&b, 0, sizeof b);
    gusto_tokens t;
    gusto_list_options lo = {.per_page = 2, .include = "current_home_address"};
    const char *company = NULL;
    switch (op) {
    case 0: gusto_employees_list(c, &lo, each, NULL, NULL, &err); break;
    case 1: gusto_employee_get(c, emp, &out, &err); break;
    case 2: gusto_employee_create(c, CREATE, &out, &err); break;
    case 3: gusto_employee_update(c, emp, UPDATE, &out, &err); break;
    case 4: gusto_time_off(c, emp, (flags & 4) ? "vacation" : NULL, &out, &err); break;
    case 5:
        gusto_request(c, (flags & 4) ? "PUT" : "GET", "/v1/companies/{company_uuid}/locations",
                      (flags & 4) ? "{\"version\":\"x\"}" : NULL, &status, &out, &err);
        break;
    case 6: gusto_batch_status(c, batch_id, &b, &err); break;
    case 7: gusto_batch_create(c, BATCH, NULL, &b, &err); break;
    case 8:
        gusto_oauth_exchange("http://127.0.0.1:9", "app", SECRET, "code",
                             "http://127.0.0.1:8765/callback", &t, &err);
        break;
    case 9: gusto_oauth_refresh("http://127.0.0.1:9", "app", SECRET, "rt", &t, &err); break;
    default: gusto_company_uuid(c, &company, &err); break;
    }
    check_err(&err);
    /* Results are JSON text: they must parse (gusto_request's is the raw
     * body). */
    if (out && *out && op != 5) {
        json_t *j = json_loads(out, JSON_DECODE_ANY, NULL);
        if (!j)
            die("a result that is not JSON");
        json_decref(j);
    }
    for (size_t i = 0; i < b.count; i++)
        if (!b.people[i].external_id)
            die("a batch person without external_id");
    gusto_batch_free(&b);
    gusto_free(out);
    gusto_client_free(c);
    http_fake = NULL;
    if (rec_out) {
        FILE *f = fopen(rec_out, "wb");
        if (!f || fwrite(data, 1, 2, f) != 2 ||
            fwrite(recorded.buf ? recorded.buf : "", 1, recorded.len, f) != recorded.len)
            die("cannot write the recording");
        fclose(f);
        recorded.len = 0;
        recorded_n = 0;
    }
    return 0;
}
