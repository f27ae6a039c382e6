/* h_batches.c - handlers for Gusto's People Batches API.
 *
 * POST /v1/companies/{id}/people_batches checks the whole body at once.  Any
 * problem the body alone shows (a type, a required field, a format, a
 * bank-account split that does not add up) is a 422 whose error_key is the
 * JSON path of the offending value, for example "batch[3].person.first_name".
 * A valid batch is stored as pending and handed to the worker in batches.c.
 * Entries sharing an external_id are excluded, not refused: the batch is
 * accepted and they are listed in its exclusions.
 * Problems that depend on the company's stored data (its locations,
 * departments and entity type) are found by the worker and fail only that
 * attribute of that person (partial_success).
 *
 * GET /v1/people_batches/{uuid} renders People-Batch-Results: the batch and
 * the results of every entry processed so far. */
#include "sandbox/sandbox.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPORTED_ERRORS 500

/* ---- field checks specific to batches ---------------------------------- */

/* Spec: "Social Security Number (format: xxx-xx-xxxx)". */
static const char *check_dashed_ssn(const char *v)
{
    if (strlen(v) == 11 && v[3] == '-' && v[6] == '-') {
        char d[10];
        memcpy(d, v, 3);
        memcpy(d + 3, v + 4, 2);
        memcpy(d + 5, v + 7, 4);
        d[9] = 0;
        if (all_digits(d, 9))
            return NULL;
    }
    return "must be formatted as xxx-xx-xxxx, e.g. 123-45-6789";
}

/* Spec: minLength 1, maxLength 1 - exactly one character (UTF-8). */
static const char *check_one_char(const char *v)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if ((*p & 0xc0) != 0x80)
            chars++;
    return chars == 1 ? NULL : "must be exactly 1 character";
}

static const char *check_external_id(const char *v)
{
    return strlen(v) <= 255 ? NULL : "must be at most 255 characters";
}

static const char *check_country(const char *v)
{
    return strcmp(v, "USA") == 0 ? NULL : "must be USA (the only country Gusto supports)";
}

static const char *check_routing(const char *v)
{
    return all_digits(v, 9) ? NULL : "must be 9 digits";
}

static const char *check_account(const char *v)
{
    size_t n = strlen(v);
    return n >= 4 && n <= 17 && all_digits(v, n) ? NULL : "must be 4 to 17 digits";
}

static const char *check_split_amount(const char *v)
{
    size_t n = strlen(v);
    return n >= 1 && n <= 9 && all_digits(v, n)
               ? NULL
               : "must be a whole number as a string: cents for Amount, percent for Percentage";
}

static const char *check_rate(const char *v)
{
    const char *p = v;
    if (*p < '0' || *p > '9')
        return "must be a decimal string such as \"70000.00\"";
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return "must be a decimal string such as \"70000.00\"";
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == 0 && p - v <= 20 ? NULL : "must be a decimal string such as \"70000.00\"";
}

static const char *const ENTITY_TYPES[] = {"employee", NULL};
static const char *const ACCOUNT_TYPES[] = {"Checking", "Savings", NULL};
static const char *const DEPOSIT_TYPES[] = {"Direct Deposit", NULL};
static const char *const SPLIT_BY[] = {"Amount", "Percentage", NULL};

/* The request schema of post-v1-companies-company_id-people_batches. */
static const struct field ENTRY_FIELDS[] = {
    {"entity_type", F_ENUM, true, ENTITY_TYPES, NULL},
    {NULL, 0, false, NULL, NULL},
};

static const struct field PERSON_FIELDS[] = {
    {"external_id", F_STRING, true, NULL, check_external_id},
    {"first_name", F_STRING, true, NULL, NULL},
    {"last_name", F_STRING, true, NULL, NULL},
    {"middle_initial", F_STRING_NULL, false, NULL, check_one_char},
    {"preferred_first_name", F_STRING_NULL, false, NULL, NULL},
    {"email", F_STRING_NULL, false, NULL, check_email},
    {"work_email", F_STRING_NULL, false, NULL, check_email},
    {"ssn", F_STRING_NULL, false, NULL, check_dashed_ssn},
    {"date_of_birth", F_DATE_NULL, false, NULL, NULL},
    {"self_onboarding", F_BOOL_NULL, false, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

static const struct field HOME_FIELDS[] = {
    {"street_1", F_STRING, true, NULL, NULL},
    {"street_2", F_STRING, false, NULL, NULL},
    {"city", F_STRING, true, NULL, NULL},
    {"state", F_STRING, true, NULL, check_state},
    {"zip", F_STRING, true, NULL, check_zip},
    {"country", F_STRING, false, NULL, check_country},
    {"work_from_home", F_BOOL, false, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

static const struct field WORK_FIELDS[] = {
    {"location_uuid", F_UUID, true, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

static const struct field JOB_FIELDS[] = {
    {"title", F_STRING, true, NULL, NULL},
    {"hire_date", F_DATE, true, NULL, NULL},
    {"two_percent_shareholder", F_BOOL, false, NULL, NULL},
    {"state_wc_covered", F_BOOL_NULL, false, NULL, NULL},
    {"state_wc_class_code", F_STRING_NULL, false, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

static const struct field DEPARTMENT_FIELDS[] = {
    {"department_uuid", F_UUID, true, NULL, NULL},
    {NULL, 0, false, NULL, NULL},
};

static const struct field COMP_FIELDS[] = {
    {"rate", F_MONEY, true, NULL, check_rate},
    {"payment_unit", F_ENUM, true, PAYMENT_UNITS, NULL},
    {"flsa_status", F_ENUM, true, FLSA_STATUSES, NULL},
    {NULL, 0, false, NULL, NULL},
};

static const struct field BANK_FIELDS[] = {
    {"name", F_STRING_NULL, false, NULL, NULL},
    {"account_type", F_ENUM, true, ACCOUNT_TYPES, NULL},
    {"routing_number", F_STRING, true, NULL, check_routing},
    {"account_number", F_STRING, true, NULL, check_account},
    {"type", F_ENUM, true, DEPOSIT_TYPES, NULL},
    {"split_by", F_ENUM, true, SPLIT_BY, NULL},
    {"split_amount", F_STRING_NULL, false, NULL, check_split_amount},
    {NULL, 0, false, NULL, NULL},
};

/* ---- path-keyed errors ------------------------------------------------- */

/* Add an error keyed "at.name" (or "at" when name is NULL); the message
 * starts with the same path. */
static void ferr(struct errlist *e, const char *at, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void ferr(struct errlist *e, const char *at, const char *name, const char *fmt, ...)
{
    char key[224], msg[400];
    if (name)
        snprintf(key, sizeof key, "%s.%s", at, name);
    else
        snprintf(key, sizeof key, "%s", at);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    errlist_add(e, key, "invalid_attribute_value", "%s %s", key, msg);
}

/* Check obj (the value at path `at`) against a field table; obj must be an
 * object.  Unknown keys are ignored, as elsewhere in the sandbox. */
static void check_fields(const json_t *obj, const char *at, const struct field *fields,
                         struct errlist *e)
{
    for (const struct field *f = fields; f->name; f++) {
        json_t *v = json_object_get(obj, f->name);
        bool nullable = f->type == F_STRING_NULL || f->type == F_BOOL_NULL ||
                        f->type == F_DATE_NULL;
        if (!v) {
            if (f->required)
                ferr(e, at, f->name, "is required");
            continue;
        }
        if (json_is_null(v)) {
            if (!nullable || f->required)
                ferr(e, at, f->name, "cannot be null; expected %s", ftype_name(f->type));
            continue;
        }
        bool is_bool = f->type == F_BOOL || f->type == F_BOOL_NULL;
        if (is_bool ? !json_is_boolean(v) : !json_is_string(v)) {
            ferr(e, at, f->name, "must be %s", ftype_name(f->type));
            continue;
        }
        if (is_bool)
            continue;
        const char *s = json_string_value(v);
        if ((f->type == F_DATE || f->type == F_DATE_NULL) && !valid_date(s)) {
            ferr(e, at, f->name, "must be a valid date as YYYY-MM-DD, got \"%.40s\"", s);
        } else if (f->type == F_UUID && !valid_uuid(s)) {
            ferr(e, at, f->name, "must be a UUID, got \"%.40s\"", s);
        } else if (f->type == F_ENUM) {
            bool found = false;
            for (int i = 0; f->enum_values[i]; i++)
                found |= strcmp(s, f->enum_values[i]) == 0;
            if (!found) {
                char allowed[200] = "";
                size_t n = 0;
                for (int i = 0; f->enum_values[i] && n < sizeof allowed - 40; i++)
                    n += (size_t)snprintf(allowed + n, sizeof allowed - n, "%s%s",
                                          i ? ", " : "", f->enum_values[i]);
                ferr(e, at, f->name, "must be one of: %s; got \"%.40s\"", allowed, s);
            }
        } else if (f->required && f->type == F_STRING && !*s) {
            ferr(e, at, f->name, "cannot be blank");
        } else if (f->check) {
            const char *why = f->check(s);
            if (why)
                ferr(e, at, f->name, "%s", why);
        }
    }
}

/* An optional nested object: absent is fine, anything but an object is not.
 * Returns the object or NULL. */
static const json_t *sub_object(const json_t *entry, const char *at, const char *name,
                                const struct field *fields, struct errlist *e)
{
    json_t *v = json_object_get(entry, name);
    if (!v)
        return NULL;
    char path[128];
    snprintf(path, sizeof path, "%s.%s", at, name);
    if (!json_is_object(v)) {
        ferr(e, path, NULL, "must be an object");
        return NULL;
    }
    check_fields(v, path, fields, e);
    return v;
}

/* Bank accounts: each one's fields, then the split rules of the spec. */
static void check_bank_accounts(const json_t *accts, const char *at, struct errlist *e)
{
    char path[128];
    snprintf(path, sizeof path, "%s.bank_accounts", at);
    if (!json_is_array(accts)) {
        ferr(e, path, NULL, "must be an array");
        return;
    }
    size_t n = json_array_size(accts);
    const char *split_by = NULL;
    bool usable = true;
    long percent = 0;
    size_t nulls = 0, null_at = 0;
    for (size_t j = 0; j < n; j++) {
        const json_t *a = json_array_get(accts, j);
        char ap[160];
        snprintf(ap, sizeof ap, "%s[%zu]", path, j);
        if (!json_is_object(a)) {
            ferr(e, ap, NULL, "must be an object");
            usable = false;
            continue;
        }
        size_t before = e->errors ? json_array_size(e->errors) : 0;
        check_fields(a, ap, BANK_FIELDS, e);
        if ((e->errors ? json_array_size(e->errors) : 0) != before) {
            usable = false;
            continue;
        }
        const char *by = json_string_value(json_object_get(a, "split_by"));
        if (!split_by) {
            split_by = by;
        } else if (strcmp(by, split_by) != 0) {
            ferr(e, ap, "split_by",
                 "must be the same for every bank account of a person: %s.bank_accounts[0] "
                 "splits by %s, this one by %s", at, split_by, by);
            usable = false;
            continue;
        }
        const char *amt = json_string_value(json_object_get(a, "split_amount"));
        if (!amt) {
            if (nulls++ == 0)
                null_at = j;
        } else {
            percent += strtol(amt, NULL, 10);
        }
    }
    if (!usable || !split_by)
        return;
    if (strcmp(split_by, "Percentage") == 0) {
        if (nulls) {
            char ap[160];
            snprintf(ap, sizeof ap, "%s[%zu]", path, null_at);
            ferr(e, ap, "split_amount",
                 "is required when split_by is Percentage: every account needs a percentage");
        } else if (percent != 100) {
            ferr(e, path, NULL, "Percentage split_amounts must add up to 100, got %ld",
                 percent);
        }
    } else if (nulls != 1) {
        ferr(e, path, NULL,
             "with split_by Amount exactly one account, the last, must have split_amount "
             "null to take the remainder; %zu do", nulls);
    } else if (null_at != n - 1) {
        char ap[160];
        snprintf(ap, sizeof ap, "%s[%zu]", path, null_at);
        ferr(e, ap, "split_amount",
             "is null, but the remainder account must be the last bank account (accounts are "
             "paid in array order)");
    }
}

/* One batch entry; returns its external_id when the entry has a usable one. */
static const char *check_entry(const json_t *it, size_t i, struct errlist *e)
{
    char at[32];
    snprintf(at, sizeof at, "batch[%zu]", i);
    if (!json_is_object(it)) {
        ferr(e, at, NULL, "must be an object");
        return NULL;
    }
    check_fields(it, at, ENTRY_FIELDS, e);
    const char *external_id = NULL;
    const json_t *person = json_object_get(it, "person");
    char pp[48];
    snprintf(pp, sizeof pp, "%s.person", at);
    if (!person) {
        ferr(e, at, "person", "is required");
    } else if (!json_is_object(person)) {
        ferr(e, pp, NULL, "must be an object");
    } else {
        check_fields(person, pp, PERSON_FIELDS, e);
        external_id = json_string_value(json_object_get(person, "external_id"));
        if (external_id && (!*external_id || check_external_id(external_id)))
            external_id = NULL;
        const char *dob = json_string_value(json_object_get(person, "date_of_birth"));
        char today[11];
        today_ymd(today);
        if (dob && valid_date(dob) && strcmp(dob, today) > 0)
            ferr(e, pp, "date_of_birth", "cannot be in the future");
        if (json_is_true(json_object_get(person, "self_onboarding")) &&
            !json_is_string(json_object_get(person, "email")))
            ferr(e, pp, "email", "is required when self_onboarding is true");
    }
    const json_t *home = sub_object(it, at, "home_address", HOME_FIELDS, e);
    sub_object(it, at, "work_address", WORK_FIELDS, e);
    sub_object(it, at, "job", JOB_FIELDS, e);
    sub_object(it, at, "department", DEPARTMENT_FIELDS, e);
    const json_t *comp = sub_object(it, at, "compensation", COMP_FIELDS, e);
    if (json_is_true(json_object_get(home, "work_from_home")) && json_object_get(it, "work_address"))
        ferr(e, at, "work_address",
             "is not allowed when home_address.work_from_home is true: the work address is "
             "created from the home address");
    if (json_object_get(it, "compensation") && !json_object_get(it, "job"))
        ferr(e, at, "job", "is required when compensation is given");
    if (comp) {
        const char *flsa = json_string_value(json_object_get(comp, "flsa_status"));
        const char *unit = json_string_value(json_object_get(comp, "payment_unit"));
        if (flsa && unit && strcmp(flsa, "Owner") == 0 && strcmp(unit, "Paycheck") != 0) {
            char cp[48];
            snprintf(cp, sizeof cp, "%s.compensation", at);
            ferr(e, cp, "payment_unit", "must be Paycheck when flsa_status is Owner");
        }
    }
    json_t *accts = json_object_get(it, "bank_accounts");
    if (accts)
        check_bank_accounts(accts, at, e);
    return external_id;
}

/* Keep a 10,000-entry disaster readable: the first MAX_REPORTED_ERRORS
 * errors, then one entry saying how many more there were. */
static void cap_errors(struct errlist *e)
{
    size_t n = e->errors ? json_array_size(e->errors) : 0;
    if (n <= MAX_REPORTED_ERRORS)
        return;
    while (json_array_size(e->errors) > MAX_REPORTED_ERRORS)
        json_array_remove(e->errors, json_array_size(e->errors) - 1);
    errlist_add(e, "batch", "invalid_attribute_value",
                "%zu more errors are not shown; fix the ones above and submit again",
                n - MAX_REPORTED_ERRORS);
}

/* ---- handlers ---------------------------------------------------------- */

/* The batch this company already created with that key, or "". */
static void existing_batch(sqlite3 *db, const char *company, const char *key, char out[37])
{
    static const char *sql =
        "SELECT uuid FROM people_batches WHERE company_uuid=? AND idempotency_key=?";
    out[0] = 0;
    sqlite3_stmt *st = db_stmt(db, sql);
    if (!st)
        return;
    db_bind_text(st, 1, company);
    db_bind_text(st, 2, key);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, 37, "%s", db_col_text(st, 0));
    sqlite3_reset(st);
}

int h_batch_create(struct request *r)
{
    const char *company = r->params[0];
    if (!own_company(r, company))
        return reply_not_found(r);
    struct errlist e = {0};
    const json_t *body = r->json;
    if (!json_is_object(body)) {
        errlist_add(&e, "base", "invalid_attribute_value", "Request body must be a JSON object");
        return reply_errlist(r, &e);
    }

    json_t *key = json_object_get(body, "idempotency_key");
    const char *k = json_string_value(key);
    if (!key)
        ferr(&e, "idempotency_key", NULL, "is required");
    else if (!k)
        ferr(&e, "idempotency_key", NULL, "must be a UUID string");
    else if (!valid_uuid(k))
        ferr(&e, "idempotency_key", NULL, "must be a UUID, got \"%.40s\"", k);
    if (!e.errors) {
        /* A retry of an accepted batch must find it, whatever else the body
         * says: 409 points at the batch to poll. */
        char prior[37];
        existing_batch(r->db, company, k, prior);
        if (*prior)
            return reply_json(r, 409, json_pack(
                "{s:[{s:s, s:s, s:s, s:{s:s, s:s}}]}", "errors", "error_key",
                "idempotency_key", "category", "invalid_attribute_value", "message",
                "Idempotency token already used", "metadata", "entity_uuid", prior,
                "entity_type", "PeopleBatch"));
    }

    json_t *action = json_object_get(body, "batch_action");
    if (!action)
        ferr(&e, "batch_action", NULL, "is required");
    else if (!json_is_string(action) || strcmp(json_string_value(action), "create") != 0)
        ferr(&e, "batch_action", NULL, "must be \"create\"");

    json_t *batch = json_object_get(body, "batch");
    size_t n = json_array_size(batch);
    bool entries_ok = false;
    if (!batch)
        ferr(&e, "batch", NULL, "is required");
    else if (!json_is_array(batch))
        ferr(&e, "batch", NULL, "must be an array of people");
    else if (n == 0)
        ferr(&e, "batch", NULL, "cannot be empty");
    else if (n > SB_BATCH_MAX)
        ferr(&e, "batch", NULL, "has %zu entries; a batch holds at most %d", n,
             SB_BATCH_MAX);
    else
        entries_ok = true;

    if (entries_ok) {
        for (size_t i = 0; i < n; i++)
            check_entry(json_array_get(batch, i), i, &e);
    }
    if (e.errors) {
        cap_errors(&e);
        return reply_errlist(r, &e);
    }

    /* A repeated external_id is not an error: every entry carrying it is
     * excluded and the rest of the batch goes on (Gusto's batch guide). */
    bool *excluded = calloc(n, sizeof *excluded);
    long nexcluded = excluded ? batch_exclusions(batch, excluded) : -1;
    free(excluded);
    if (nexcluded < 0)
        return db_error(r);
    char uuid[37], now[40];
    uuid_random(uuid);
    now_iso8601(now);
    /* One row for the batch; the worker adds a result row per entry.  The
     * external_ids are kept so entries never reached still get a result. */
    static const char *ins =
        "INSERT INTO people_batches(uuid, company_uuid, idempotency_key, batch_action,"
        " status, submitted_at, item_count, external_ids, excluded_items)"
        " VALUES(?,?,?,'create','pending',?,?,?,?)";
    json_t *ext = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(ext, json_object_get(json_object_get(json_array_get(batch, i),
                                                               "person"), "external_id"));
    char *ext_text = db_json_text(ext);
    json_decref(ext);
    sqlite3_stmt *st = db_stmt(r->db, ins);
    int rc = SQLITE_ERROR;
    if (st && ext_text) {
        db_bind_text(st, 1, uuid);
        db_bind_text(st, 2, company);
        db_bind_text(st, 3, k);
        db_bind_text(st, 4, now);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)n);
        db_bind_text(st, 6, ext_text);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)nexcluded);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    free(ext_text);
    if (rc != SQLITE_DONE)
        return db_error(r);
    /* The worker waits for this transaction (BEGIN IMMEDIATE), and drops
     * the job if it rolled back.  It only reads the array, and jansson's
     * reference counts are atomic, so it can share the request's. */
#if JSON_HAVE_ATOMIC_BUILTINS || JSON_HAVE_SYNC_BUILTINS
    json_t *items = json_incref(batch);
#else
    json_t *items = json_deep_copy(batch);
#endif
    if (!items || batches_enqueue(uuid, company, items) != 0)
        return db_error(r);
    return reply_json(r, 201, json_pack("{s:s, s:s, s:s, s:s}", "uuid", uuid,
                                        "idempotency_key", k, "status", "pending",
                                        "batch_action", "create"));
}

int h_batch_get(struct request *r)
{
    static const char *sql =
        "SELECT company_uuid, idempotency_key, status, submitted_at, completed_at,"
        " submitted_items, processed_items, excluded_items FROM people_batches WHERE uuid=?";
    static const char *items_sql =
        "SELECT idx, external_id, status, employee_uuid, errors, attributes"
        " FROM people_batch_results WHERE batch_uuid=? ORDER BY idx";
    /* Exclusions follow from the stored external_ids: one per repeated id,
     * in the order of its first entry. */
    static const char *excl_sql =
        "SELECT j.value, count(*), group_concat(j.key, ', ') FROM people_batches b,"
        " json_each(b.external_ids) j WHERE b.uuid=? GROUP BY j.value HAVING count(*) > 1"
        " ORDER BY min(j.key)";
    const char *uuid = r->params[0];
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, uuid);
    if (sqlite3_step(st) != SQLITE_ROW || !own_company(r, db_col_text(st, 0))) {
        sqlite3_reset(st);
        return reply_not_found(r);
    }
    json_t *o = json_object();
    json_object_set_new(o, "uuid", json_string(uuid));
    json_object_set_new(o, "idempotency_key", json_string(db_col_text(st, 1)));
    json_object_set_new(o, "status", json_string(db_col_text(st, 2)));
    json_object_set_new(o, "submitted_at", json_string(db_col_text(st, 3)));
    json_object_set_new(o, "completed_at", sqlite3_column_type(st, 4) == SQLITE_NULL
                                               ? json_null()
                                               : json_string(db_col_text(st, 4)));
    json_object_set_new(o, "submitted_items",
                        sqlite3_column_type(st, 5) == SQLITE_NULL
                            ? json_null()
                            : json_integer(sqlite3_column_int64(st, 5)));
    json_object_set_new(o, "processed_items", json_integer(sqlite3_column_int64(st, 6)));
    json_object_set_new(o, "excluded_items", json_integer(sqlite3_column_int64(st, 7)));
    sqlite3_reset(st);

    json_t *results = json_array();
    st = db_stmt(r->db, items_sql);
    if (!st) {
        json_decref(o);
        json_decref(results);
        return db_error(r);
    }
    db_bind_text(st, 1, uuid);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *it = json_object();
        json_object_set_new(it, "external_id", json_string(db_col_text(st, 1)));
        json_object_set_new(it, "role", json_string("employee"));
        json_object_set_new(it, "status", json_string(db_col_text(st, 2)));
        json_object_set_new(it, "idx", json_integer(sqlite3_column_int64(st, 0)));
        if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
            json_object_set_new(it, "uuid", json_string(db_col_text(st, 3)));
            json_object_set_new(it, "employee_uuid", json_string(db_col_text(st, 3)));
        }
        json_t *errs = db_col_json(st, 4);
        json_object_set_new(it, "errors", errs ? errs : json_null());
        json_t *attrs = db_col_json(st, 5);
        if (attrs)
            json_object_set_new(it, "attributes", attrs);
        json_array_append_new(results, it);
    }
    sqlite3_reset(st);
    json_object_set_new(o, "results", results);
    json_t *exclusions = json_array();
    st = db_stmt(r->db, excl_sql);
    if (!st) {
        json_decref(o);
        json_decref(exclusions);
        return db_error(r);
    }
    db_bind_text(st, 1, uuid);
    while (sqlite3_step(st) == SQLITE_ROW) {
        long count = (long)sqlite3_column_int64(st, 1);
        char msg[1024];
        snprintf(msg, sizeof msg,
                 "external_id \"%.100s\" is used by %ld entries of this batch (idx %.200s);"
                 " none of them was processed. Send them again, each with its own"
                 " external_id, in a new batch",
                 db_col_text(st, 0), count, db_col_text(st, 2));
        json_array_append_new(exclusions,
                              json_pack("{s:s, s:s, s:s, s:I}", "external_id",
                                        db_col_text(st, 0), "category", "duplicate_external_id",
                                        "message", msg, "item_count", (json_int_t)count));
    }
    sqlite3_reset(st);
    json_object_set_new(o, "exclusions", exclusions);
    return reply_json(r, 200, o);
}
