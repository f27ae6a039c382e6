/* batches.c - Gusto's People Batches: submit a batch under an idempotency key (re-sent with the same key when the answer is lost, a 409 resolved to the existing batch), read and poll its results into a typed gusto_batch. */
#include "lib/internal.h"
#include "shared/jsonerr.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ---- helpers ------------------------------------------------------------ */

static bool uuid_ok(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char ch = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? ch != '-' : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                                 (ch >= 'A' && ch <= 'F')))
            return false;
    }
    return true;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void sleep_ms(long ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gusto_batch_free(gusto_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->count && b->people; i++) {
        free(b->people[i].external_id);
        free(b->people[i].errors);
        free(b->people[i].errors_json);
        free(b->people[i].attributes_json);
    }
    free(b->people);
    free(b->exclusions_json);
    free(b->errors_json);
    memset(b, 0, sizeof *b);
}

static void batch_init(gusto_batch *b)
{
    memset(b, 0, sizeof *b);
    b->submitted = -1;
}

gusto_code gusto_batch_new_key(char out[37], gusto_error *err)
{
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            out[0] = 0;
            return err_set(err, GUSTO_EINVAL, "no random numbers for an idempotency key: %s",
                           strerror(errno));
        }
        got += (size_t)n;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
             r[13], r[14], r[15]);
    return GUSTO_OK;
}

/* ---- validation ------------------------------------------------------------ */

/* Parse entries and check them.  Returns GUSTO_OK with *entries set, or
 * GUSTO_EINVAL with *errors holding every problem (and err the first). */
static gusto_code check_input(const char *text, json_t **entries, json_t **errors,
                              gusto_error *err)
{
    *entries = NULL;
    *errors = json_array();
    if (!*errors)
        return err_set(err, GUSTO_ENOMEM, "out of memory");
    json_error_t je;
    json_t *in = text ? json_loads(text, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!in) {
        char msg[300], where[200] = "no input";
        if (text)
            json_error_describe(&je, where, sizeof where);
        snprintf(msg, sizeof msg, "not valid JSON: %s", where);
        json_array_append_new(*errors, json_pack("{s:n, s:n, s:s, s:s}", "row", "index",
                                                 "field", "input", "message", msg));
        err_set(err, GUSTO_EINVAL, "the batch input is %s", msg);
        err_field(err, "input");
        return GUSTO_EINVAL;
    }
    size_t n = batch_check(in, *errors);
    if (n == 0) {
        *entries = in;
        return GUSTO_OK;
    }
    json_decref(in);
    json_t *first = json_array_get(*errors, 0);
    json_t *row = json_object_get(first, "row");
    const char *field = json_string_value(json_object_get(first, "field"));
    const char *msg = json_string_value(json_object_get(first, "message"));
    char where[64] = "";
    if (json_is_integer(row))
        snprintf(where, sizeof where, "row %" JSON_INTEGER_FORMAT ", ",
                 json_integer_value(row));
    err_set(err, GUSTO_EINVAL, "%zu problem%s in the batch; nothing was sent. First: %s%s %s",
            n, n == 1 ? "" : "s", where, field ? field : "", msg ? msg : "");
    err_field(err, field);
    err_hint(err, "fix every listed entry and send the whole batch again");
    return GUSTO_EINVAL;
}

gusto_code gusto_batch_validate(const char *entries_json, char **errors_json,
                                gusto_error *err)
{
    err_clear(err);
    if (errors_json)
        *errors_json = NULL;
    json_t *entries, *errors;
    gusto_code rc = check_input(entries_json, &entries, &errors, err);
    json_decref(entries);
    if (errors_json && errors) {
        *errors_json = json_text(errors);
        if (!*errors_json)
            rc = err_set(err, GUSTO_ENOMEM, "out of memory");
    }
    json_decref(errors);
    return rc;
}

/* ---- results ------------------------------------------------------------ */

/* An error key without its "batch[N]." prefix: the field in the entry. */
static const char *entry_field(const char *key)
{
    if (key && strncmp(key, "batch[", 6) == 0) {
        const char *close = strchr(key, ']');
        if (close && close[1] == '.')
            return close + 2;
    }
    return key;
}

/* "field: message; ..." for a person's errors, nested ones included, the
 * field relative to the entry ("work_address.location_uuid").  Gusto's
 * messages that start with the full key are not prefixed twice. */
static void errors_text(const json_t *errs, char **buf, size_t *len, size_t *cap)
{
    size_t i;
    const json_t *e;
    json_array_foreach(errs, i, e) {
        const char *key = json_string_value(json_object_get(e, "error_key"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        const char *cat = json_string_value(json_object_get(e, "category"));
        if (!msg)
            msg = cat ? cat : "error";
        if (key && strncmp(msg, key, strlen(key)) == 0 && msg[strlen(key)] == ' ')
            msg += strlen(key) + 1;
        const char *field = entry_field(key);
        char *piece = xasprintf("%s%s%s%s", *len ? "; " : "", field ? field : "",
                                field ? ": " : "", msg);
        if (piece) {
            size_t pl = strlen(piece);
            if (*len + pl + 1 > *cap) {
                size_t nc = (*cap ? *cap * 2 : 128) + pl;
                char *nb = realloc(*buf, nc);
                if (!nb) {
                    free(piece);
                    return;
                }
                *buf = nb;
                *cap = nc;
            }
            memcpy(*buf + *len, piece, pl + 1);
            *len += pl;
            free(piece);
        }
        const json_t *nested = json_object_get(e, "errors");
        if (json_is_array(nested))
            errors_text(nested, buf, len, cap);
    }
}

static long int_or(const json_t *v, long dflt)
{
    return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

/* Fill b from a People-Batch or People-Batch-Results object. */
static gusto_code batch_from_json(const json_t *j, gusto_batch *b, gusto_error *err)
{
    if (!json_is_object(j))
        return err_set(err, GUSTO_EPROTOCOL, "the people batch response is not an object");
    const char *uuid = json_string_value(json_object_get(j, "uuid"));
    if (!uuid) /* an older guide shows {"batch_uuid": ...} */
        uuid = json_string_value(json_object_get(j, "batch_uuid"));
    if (!uuid)
        return err_set(err, GUSTO_EPROTOCOL, "the people batch response has no uuid");
    copy(b->uuid, sizeof b->uuid, uuid);
    copy(b->idempotency_key, sizeof b->idempotency_key,
         json_string_value(json_object_get(j, "idempotency_key")));
    const char *st = json_string_value(json_object_get(j, "status"));
    if (st && strcmp(st, "success") == 0)
        st = "completed"; /* the guide's word for it */
    copy(b->status, sizeof b->status, st ? st : "pending");
    b->finished = strcmp(b->status, "completed") == 0 ||
                  strcmp(b->status, "partial_success") == 0 ||
                  strcmp(b->status, "failed") == 0;
    copy(b->submitted_at, sizeof b->submitted_at,
         json_string_value(json_object_get(j, "submitted_at")));
    copy(b->completed_at, sizeof b->completed_at,
         json_string_value(json_object_get(j, "completed_at")));
    b->submitted = int_or(json_object_get(j, "submitted_items"), -1);
    b->processed = int_or(json_object_get(j, "processed_items"), 0);
    b->excluded = int_or(json_object_get(j, "excluded_items"), 0);
    const json_t *ex = json_object_get(j, "exclusions");
    if (json_is_array(ex) && json_array_size(ex))
        b->exclusions_json = json_text(ex);
    const json_t *results = json_object_get(j, "results");
    size_t n = json_array_size(results);
    if (n) {
        b->people = calloc(n, sizeof *b->people);
        if (!b->people)
            return err_set(err, GUSTO_ENOMEM, "out of memory");
    }
    size_t i;
    const json_t *r;
    json_array_foreach(results, i, r) {
        gusto_batch_person *p = &b->people[b->count++];
        const char *ext = json_string_value(json_object_get(r, "external_id"));
        p->external_id = xasprintf("%s", ext ? ext : "");
        const char *ps = json_string_value(json_object_get(r, "status"));
        copy(p->status, sizeof p->status, ps ? ps : "failed");
        p->idx = int_or(json_object_get(r, "idx"), -1);
        const char *emp = json_string_value(json_object_get(r, "employee_uuid"));
        if (!emp)
            emp = json_string_value(json_object_get(r, "uuid"));
        copy(p->employee_uuid, sizeof p->employee_uuid, emp);
        const json_t *errs = json_object_get(r, "errors");
        if (json_is_array(errs) && json_array_size(errs)) {
            size_t len = 0, cap = 0;
            errors_text(errs, &p->errors, &len, &cap);
            p->errors_json = json_text(errs);
        }
        const json_t *attrs = json_object_get(r, "attributes");
        if (json_is_object(attrs) && json_object_size(attrs)) {
            p->attributes_json = json_text(attrs);
            if (!p->attributes_json)
                return err_set(err, GUSTO_ENOMEM, "out of memory");
        }
        if (strcmp(p->status, "failed") == 0)
            b->failed++;
        else if (strcmp(p->status, "partial_success") == 0)
            b->partial++;
        if (!p->external_id)
            return err_set(err, GUSTO_ENOMEM, "out of memory");
    }
    return GUSTO_OK;
}

/* ---- status and wait ---------------------------------------------------- */

gusto_code gusto_batch_status(gusto_client *c, const char *uuid, gusto_batch *out,
                              gusto_error *err)
{
    err_clear(err);
    batch_init(out);
    if (!uuid_ok(uuid)) {
        err_set(err, GUSTO_EINVAL, "batch UUID \"%.60s\" is not a UUID",
                uuid ? uuid : "(null)");
        err_field(err, "batch_uuid");
        err_reason(err, "batch_unknown");
        err_hint(err, "give the uuid the batch's creation returned");
        return GUSTO_EINVAL;
    }
    char *path = xasprintf("/v1/people_batches/%s", uuid);
    if (!path)
        return err_set(err, GUSTO_ENOMEM, "out of memory");
    json_t *j = NULL;
    gusto_code rc = api_json(c, "GET", path, NULL, &j, err);
    free(path);
    if (rc == GUSTO_ENOTFOUND && err) {
        snprintf(err->message, sizeof err->message,
                 "people batch %.40s was not found in this company", uuid);
        err_hint(err, "check the UUID and that the token is for the company that sent it");
    }
    if (rc == GUSTO_OK)
        rc = batch_from_json(j, out, err);
    json_decref(j);
    if (rc != GUSTO_OK)
        gusto_batch_free(out);
    return rc;
}

gusto_code gusto_batch_wait(gusto_client *c, const char *uuid, long timeout_ms,
                            gusto_batch_progress_fn progress, void *ud, gusto_batch *out,
                            gusto_error *err)
{
    long start = now_ms(), delay = 250;
    for (;;) {
        gusto_code rc = gusto_batch_status(c, uuid, out, err);
        if (rc != GUSTO_OK || out->finished)
            return rc;
        if (progress && progress(ud, out))
            return err_set(err, GUSTO_ECANCELED, "stopped waiting for batch %s (still %s)",
                           uuid, out->status);
        long left = timeout_ms > 0 ? timeout_ms - (now_ms() - start) : delay;
        if (left <= 0)
            return GUSTO_OK;
        sleep_ms(delay < left ? delay : left);
        delay = delay * 2 > 5000 ? 5000 : delay * 2;
        gusto_batch_free(out);
    }
}

/* ---- create ------------------------------------------------------------- */

/* Gusto's 422: turn "batch[3].person.ssn" error keys into rows and fields. */
static json_t *errors_from_422(const char *body)
{
    json_t *out = json_array();
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(j, "errors"), i, e) {
        const char *key = json_string_value(json_object_get(e, "error_key"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        long idx = -1;
        const char *field = key ? key : "";
        if (key && strncmp(key, "batch[", 6) == 0) {
            char *end;
            long v = strtol(key + 6, &end, 10);
            /* LONG_MAX (strtol's overflow) would overflow idx + 1 below. */
            if (end != key + 6 && *end == ']' && v >= 0 && v < LONG_MAX) {
                idx = v;
                field = end[1] == '.' ? end + 2 : end + 1;
            }
        }
        /* Gusto's messages start with the full key; drop it. */
        if (msg && key && strncmp(msg, key, strlen(key)) == 0 && msg[strlen(key)] == ' ')
            msg += strlen(key) + 1;
        json_array_append_new(
            out, json_pack("{s:o, s:o, s:s, s:s}", "row",
                           idx >= 0 ? json_integer(idx + 1) : json_null(), "index",
                           idx >= 0 ? json_integer(idx) : json_null(), "field", field,
                           "message", msg ? msg : "rejected"));
    }
    json_decref(j);
    return out;
}

/* The existing batch named by a 409's metadata.entity_uuid, or "". */
static void conflict_uuid(const char *body, char out[40])
{
    out[0] = 0;
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(j, "errors"), i, e) {
        const char *u = json_string_value(
            json_object_get(json_object_get(e, "metadata"), "entity_uuid"));
        if (uuid_ok(u)) {
            copy(out, 40, u);
            break;
        }
    }
    json_decref(j);
}

/* The request body: every entry gets entity_type "employee" unless it has one. */
static json_t *request_body(json_t *entries, const char *key)
{
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) {
        if (!json_object_get(e, "entity_type")) {
            /* keep entity_type first, as Gusto's examples do */
            json_t *copy_e = json_object();
            json_object_set_new(copy_e, "entity_type", json_string("employee"));
            json_object_update(copy_e, e);
            json_array_set_new(entries, i, copy_e);
        }
    }
    return json_pack("{s:s, s:s, s:O}", "idempotency_key", key, "batch_action", "create",
                     "batch", entries);
}

gusto_code gusto_batch_create(gusto_client *c, const char *entries_json, const char *key,
                              gusto_batch *out, gusto_error *err)
{
    err_clear(err);
    batch_init(out);
    json_t *entries, *errors;
    gusto_code rc = check_input(entries_json, &entries, &errors, err);
    if (rc != GUSTO_OK) {
        out->errors_json = json_text(errors);
        json_decref(errors);
        return rc;
    }
    json_decref(errors);
    char k[40];
    if (key) {
        if (!uuid_ok(key)) {
            json_decref(entries);
            err_set(err, GUSTO_EINVAL, "idempotency key \"%.60s\" is not a UUID", key);
            err_field(err, "idempotency_key");
            err_hint(err, "leave it out to get a new one, or give a UUID such as "
                          "550e8400-e29b-41d4-a716-446655440000");
            return GUSTO_EINVAL;
        }
        copy(k, sizeof k, key);
    } else if ((rc = gusto_batch_new_key(k, err)) != GUSTO_OK) {
        json_decref(entries);
        return rc;
    }
    const char *company;
    if ((rc = gusto_company_uuid(c, &company, err)) != GUSTO_OK) {
        json_decref(entries);
        return rc;
    }
    json_t *body = request_body(entries, k);
    json_decref(entries);
    char *text = body ? json_text(body) : NULL;
    json_decref(body);
    char *path = xasprintf("/v1/companies/%s/people_batches", company);
    if (!text || !path) {
        if (text)
            explicit_bzero(text, strlen(text));
        free(text);
        free(path);
        return err_set(err, GUSTO_ENOMEM, "out of memory");
    }
    /* Re-sending the same body with the same key is safe: it is what the
     * key is for.  So an unknown outcome is retried, and a 409 on a retry
     * means the first attempt went through. */
    int resends = c->max_retries;
    long delay = c->retry_base_ms;
    char existing[40] = "";
    for (int attempt = 0;; attempt++) {
        struct http_resp resp = {0};
        rc = http_send(c, "POST", path, text, &resp, err);
        bool unknown = rc == GUSTO_ENETWORK;
        if (rc == GUSTO_OK) {
            long s = resp.status;
            unknown = s >= 500;
            if (s == 409) {
                conflict_uuid(resp.body.p, existing);
                if (!*existing)
                    rc = http_status_code(c, &resp, err);
            } else if (s == 422) {
                rc = http_status_code(c, &resp, err);
                json_t *list = errors_from_422(resp.body.p);
                out->errors_json = list ? json_text(list) : NULL;
                size_t n = json_array_size(list);
                json_decref(list);
                if (err && n > 1) {
                    snprintf(err->message, sizeof err->message,
                             "Gusto refused the batch with %zu errors; nothing was stored", n);
                    err_hint(err, "fix every listed entry; the same idempotency key may be "
                                  "sent again");
                }
            } else if (s >= 200 && s < 300) {
                json_t *j = json_loadb(resp.body.p ? resp.body.p : "", resp.body.n, 0, NULL);
                rc = batch_from_json(j, out, err);
                json_decref(j);
                if (rc == GUSTO_OK && !out->idempotency_key[0])
                    copy(out->idempotency_key, sizeof out->idempotency_key, k);
            } else if (!unknown) {
                rc = http_status_code(c, &resp, err);
            }
        }
        if (unknown && attempt < resends) {
            http_resp_free(&resp);
            if (c->trace) {
                char line[160];
                snprintf(line, sizeof line, "* people batch: answer lost; sending again with "
                                            "the same idempotency key %s", k);
                c->trace(c->trace_ud, line);
            }
            sleep_ms(delay);
            delay = delay * 2 > 8000 ? 8000 : delay * 2;
            continue;
        }
        if (unknown) {
            if (rc == GUSTO_OK)
                rc = http_status_code(c, &resp, err);
            err_hint(err, "the batch may have been created: send it again with idempotency "
                          "key %s, never with a new key", k);
        }
        http_resp_free(&resp);
        break;
    }
    explicit_bzero(text, strlen(text)); /* SSNs and account numbers */
    free(text);
    free(path);
    if (*existing) {
        rc = gusto_batch_status(c, existing, out, err);
        if (rc == GUSTO_OK) {
            out->existing = 1;
            if (!out->idempotency_key[0])
                copy(out->idempotency_key, sizeof out->idempotency_key, k);
        }
        return rc;
    }
    if (rc != GUSTO_OK) {
        char *keep = out->errors_json;
        out->errors_json = NULL;
        gusto_batch_free(out);
        batch_init(out);
        out->errors_json = keep;
        copy(out->idempotency_key, sizeof out->idempotency_key, k);
    }
    return rc;
}
