/* batch_check.c - checks every entry of a people batch against Gusto's rules before anything is sent, collecting every problem by row and field path. */
#include "lib/internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum kind {
    K_STR,          /* string; required ones cannot be blank */
    K_STR_NULL,     /* string or null */
    K_BOOL,
    K_BOOL_NULL,
    K_DATE,         /* YYYY-MM-DD, a real date */
    K_DATE_NULL,
    K_UUID,
    K_ENUM,
    K_EMAIL_NULL,
    K_SSN_NULL,     /* xxx-xx-xxxx (the spec's format) or null */
    K_INITIAL_NULL, /* exactly one character, or null */
    K_STATE,
    K_ZIP,
    K_COUNTRY,
    K_ROUTING,      /* 9 digits */
    K_ACCOUNT,      /* 4 to 17 digits */
    K_SPLIT_NULL,   /* digits as a string, or null */
    K_RATE,         /* a decimal string */
    K_EXTERNAL_ID,  /* non-blank, at most 255 characters */
};

struct rule {
    const char *name;
    enum kind kind;
    bool required;
    const char *const *values;
};

static const char *const ENTITY_TYPES[] = {"employee", NULL};
static const char *const PAYMENT_UNITS[] = {"Hour", "Week", "Month", "Year", "Paycheck", NULL};
static const char *const FLSA[] = {"Exempt", "Salaried Nonexempt", "Nonexempt", "Owner",
                                   "Commission Only Exempt", "Commission Only Nonexempt",
                                   NULL};
static const char *const ACCOUNT_TYPES[] = {"Checking", "Savings", NULL};
static const char *const DEPOSIT_TYPES[] = {"Direct Deposit", NULL};
static const char *const SPLIT_BY[] = {"Amount", "Percentage", NULL};
/* The parts of an entry other than person and bank_accounts. */
static const struct rule PERSON[] = {
    {"external_id", K_EXTERNAL_ID, true, NULL},
    {"first_name", K_STR, true, NULL},
    {"last_name", K_STR, true, NULL},
    {"middle_initial", K_INITIAL_NULL, false, NULL},
    {"preferred_first_name", K_STR_NULL, false, NULL},
    {"email", K_EMAIL_NULL, false, NULL},
    {"work_email", K_EMAIL_NULL, false, NULL},
    {"ssn", K_SSN_NULL, false, NULL},
    {"date_of_birth", K_DATE_NULL, false, NULL},
    {"self_onboarding", K_BOOL_NULL, false, NULL},
    {NULL, 0, false, NULL},
};
static const struct rule HOME[] = {
    {"street_1", K_STR, true, NULL},
    {"street_2", K_STR, false, NULL},
    {"city", K_STR, true, NULL},
    {"state", K_STATE, true, NULL},
    {"zip", K_ZIP, true, NULL},
    {"country", K_COUNTRY, false, NULL},
    {"work_from_home", K_BOOL, false, NULL},
    {NULL, 0, false, NULL},
};
static const struct rule WORK[] = {
    {"location_uuid", K_UUID, true, NULL},
    {NULL, 0, false, NULL},
};
static const struct rule JOB[] = {
    {"title", K_STR, true, NULL},
    {"hire_date", K_DATE, true, NULL},
    {"two_percent_shareholder", K_BOOL, false, NULL},
    {"state_wc_covered", K_BOOL_NULL, false, NULL},
    {"state_wc_class_code", K_STR_NULL, false, NULL},
    {NULL, 0, false, NULL},
};
static const struct rule DEPARTMENT[] = {
    {"department_uuid", K_UUID, true, NULL},
    {NULL, 0, false, NULL},
};
static const struct rule COMP[] = {
    {"rate", K_RATE, true, NULL},
    {"payment_unit", K_ENUM, true, PAYMENT_UNITS},
    {"flsa_status", K_ENUM, true, FLSA},
    {NULL, 0, false, NULL},
};
static const struct rule BANK[] = {
    {"name", K_STR_NULL, false, NULL},
    {"account_type", K_ENUM, true, ACCOUNT_TYPES},
    {"routing_number", K_ROUTING, true, NULL},
    {"account_number", K_ACCOUNT, true, NULL},
    {"type", K_ENUM, true, DEPOSIT_TYPES},
    {"split_by", K_ENUM, true, SPLIT_BY},
    {"split_amount", K_SPLIT_NULL, false, NULL},
    {NULL, 0, false, NULL},
};

static const struct {
    const char *name;
    const struct rule *rules;
} PARTS[] = {
    {"home_address", HOME}, {"work_address", WORK}, {"job", JOB},
    {"department", DEPARTMENT}, {"compensation", COMP},
};

/* Keys an entry may have, for the "unknown field" message. */
static const char *const ENTRY_KEYS[] = {"entity_type", "person", "home_address",
                                         "work_address", "job", "department",
                                         "compensation", "bank_accounts", NULL};

struct ctx {
    json_t *errors;
    size_t added;
    long index;        /* the entry, -1 for the whole input */
    char today[11];
};

/* Append one problem; returns it (borrowed) for extra keys. */
static json_t *add(struct ctx *x, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *add(struct ctx *x, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *m = json_string(msg);
    if (!m) /* a value quoted from the input was not UTF-8 */
        m = json_string("is not valid UTF-8 text");
    json_t *e = json_object();
    json_object_set_new(e, "row", x->index >= 0 ? json_integer(x->index + 1) : json_null());
    json_object_set_new(e, "index", x->index >= 0 ? json_integer(x->index) : json_null());
    json_t *f = json_string(field);
    json_object_set_new(e, "field", f ? f : json_string("?"));
    json_object_set_new(e, "message", m);
    json_array_append_new(x->errors, e);
    x->added++;
    return e;
}

static bool all_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static bool is_email(const char *s)
{
    const char *at = strchr(s, '@');
    size_t n = strlen(s);
    return at && at != s && strchr(at, '.') && !strchr(s, ' ') && at[1] != '.' &&
           s[n - 1] != '.' && !strchr(at + 1, '@');
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xc0) != 0x80)
            n++;
    return n;
}

static bool in_list(const char *s, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static void join(const char *const *list, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; list[i] && n < cap; i++) {
        int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", list[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

static bool nullable(enum kind k)
{
    return k == K_STR_NULL || k == K_BOOL_NULL || k == K_DATE_NULL || k == K_EMAIL_NULL ||
           k == K_SSN_NULL || k == K_INITIAL_NULL || k == K_SPLIT_NULL;
}

/* One value against its rule.  `path` is the field's path in the entry. */
static void check_value(struct ctx *x, const char *path, const struct rule *r, const json_t *v)
{
    if (json_is_null(v)) {
        if (!nullable(r->kind) || r->required)
            add(x, path, "cannot be null");
        return;
    }
    if (r->kind == K_BOOL || r->kind == K_BOOL_NULL) {
        if (!json_is_boolean(v))
            add(x, path, "must be true or false");
        return;
    }
    if (!json_is_string(v)) {
        if (r->kind == K_RATE || r->kind == K_SPLIT_NULL || r->kind == K_ROUTING ||
            r->kind == K_ACCOUNT || r->kind == K_ZIP)
            add(x, path, "must be a string of digits in quotes, not a number");
        else
            add(x, path, "must be a string");
        return;
    }
    const char *s = json_string_value(v);
    char allowed[200];
    switch (r->kind) {
    case K_STR:
        if (r->required && !*s)
            add(x, path, "cannot be blank");
        break;
    case K_EXTERNAL_ID:
        if (!*s)
            add(x, path, "cannot be blank");
        else if (strlen(s) > 255)
            add(x, path, "must be at most 255 characters");
        break;
    case K_DATE:
    case K_DATE_NULL:
        if (!input_is_date(s))
            add(x, path, "must be a real date as YYYY-MM-DD, got \"%.40s\"", s);
        break;
    case K_UUID:
        if (!input_is_uuid(s))
            add(x, path, "must be a UUID, got \"%.60s\"", s);
        break;
    case K_ENUM:
        if (!in_list(s, r->values)) {
            join(r->values, allowed, sizeof allowed);
            add(x, path, "must be one of: %s; got \"%.40s\"", allowed, s);
        }
        break;
    case K_EMAIL_NULL:
        if (!is_email(s))
            add(x, path, "must be an email address, got \"%.60s\"", s);
        break;
    case K_SSN_NULL: {
        /* Never echo the value: it is a secret. */
        bool ok = strlen(s) == 11 && s[3] == '-' && s[6] == '-';
        for (int i = 0; ok && i < 11; i++)
            ok = i == 3 || i == 6 || isdigit((unsigned char)s[i]);
        if (!ok)
            add(x, path, "must be formatted as xxx-xx-xxxx, e.g. 123-45-6789");
        break;
    }
    case K_INITIAL_NULL:
        if (utf8_chars(s) != 1)
            add(x, path, "must be exactly 1 character, got \"%.20s\"", s);
        break;
    case K_STATE:
        if (!input_is_state(s))
            add(x, path, "must be a two-letter US state code such as CA, got \"%.20s\"", s);
        break;
    case K_ZIP: {
        size_t n = strlen(s);
        bool ok = (n == 5 && all_digits(s, 5)) ||
                  (n == 10 && s[5] == '-' && isdigit((unsigned char)s[0]) &&
                   strspn(s, "0123456789") == 5 && strspn(s + 6, "0123456789") == 4);
        if (!ok)
            add(x, path, "must be a US zip code, 12345 or 12345-6789, got \"%.20s\"", s);
        break;
    }
    case K_COUNTRY:
        if (strcmp(s, "USA") != 0)
            add(x, path, "must be USA (the only country Gusto supports), got \"%.20s\"", s);
        break;
    case K_ROUTING:
        if (!all_digits(s, 9))
            add(x, path, "must be 9 digits, got \"%.20s\"", s);
        break;
    case K_ACCOUNT: {
        size_t n = strlen(s);
        if (n < 4 || n > 17 || !all_digits(s, n))
            add(x, path, "must be 4 to 17 digits"); /* a secret: not echoed */
        break;
    }
    case K_SPLIT_NULL: {
        size_t n = strlen(s);
        if (n < 1 || n > 9 || !all_digits(s, n))
            add(x, path, "must be a whole number as a string (cents for Amount, percent "
                         "for Percentage) or null, got \"%.20s\"", s);
        break;
    }
    case K_RATE:
        if (!input_is_money(s))
            add(x, path, "must be a decimal string such as \"70000.00\", got \"%.30s\"", s);
        break;
    default:
        break;
    }
}

/* obj (the value at `at`) against a rule table: unknown keys, missing
 * required fields, each value. */
static void check_object(struct ctx *x, const char *at, const json_t *obj,
                         const struct rule *rules)
{
    char path[256];
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        bool known = false;
        for (const struct rule *r = rules; r->name; r++)
            known |= strcmp(r->name, key) == 0;
        if (!known) {
            char names[400];
            size_t n = 0;
            names[0] = 0;
            for (const struct rule *r = rules; r->name && n < sizeof names - 40; r++)
                n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "",
                                      r->name);
            snprintf(path, sizeof path, "%s.%.120s", at, key);
            add(x, path, "unknown field; %s has: %s", at, names);
        }
    }
    for (const struct rule *r = rules; r->name; r++) {
        snprintf(path, sizeof path, "%s.%s", at, r->name);
        v = json_object_get(obj, r->name);
        if (!v) {
            if (r->required)
                add(x, path, "is required");
            continue;
        }
        check_value(x, path, r, v);
    }
}

static void check_banks(struct ctx *x, const json_t *accts)
{
    if (!json_is_array(accts)) {
        add(x, "bank_accounts", "must be an array of bank accounts");
        return;
    }
    size_t n = json_array_size(accts);
    if (n == 0) {
        add(x, "bank_accounts", "is empty; leave it out, or give at least one account");
        return;
    }
    const char *split_by = NULL;
    bool usable = true;
    long long percent = 0;
    size_t nulls = 0, null_at = 0;
    for (size_t j = 0; j < n; j++) {
        const json_t *a = json_array_get(accts, j);
        char at[64];
        snprintf(at, sizeof at, "bank_accounts[%zu]", j);
        if (!json_is_object(a)) {
            add(x, at, "must be an object");
            usable = false;
            continue;
        }
        size_t before = x->added;
        check_object(x, at, a, BANK);
        if (x->added != before) {
            usable = false;
            continue;
        }
        const char *by = json_string_value(json_object_get(a, "split_by"));
        if (!split_by) {
            split_by = by;
        } else if (strcmp(by, split_by) != 0) {
            char p[96];
            snprintf(p, sizeof p, "%s.split_by", at);
            add(x, p, "must be the same for every bank account: bank_accounts[0] splits by "
                      "%s, this one by %s", split_by, by);
            usable = false;
            continue;
        }
        const char *amt = json_string_value(json_object_get(a, "split_amount"));
        if (!amt) {
            if (nulls++ == 0)
                null_at = j;
        } else {
            percent += strtoll(amt, NULL, 10);
        }
    }
    if (!usable || !split_by)
        return;
    char p[96];
    if (strcmp(split_by, "Percentage") == 0) {
        if (nulls) {
            snprintf(p, sizeof p, "bank_accounts[%zu].split_amount", null_at);
            add(x, p, "is required when splitting by Percentage: every account needs its "
                      "percentage");
        } else if (percent != 100) {
            add(x, "bank_accounts", "Percentage split_amounts must add up to 100, got %lld",
                percent);
        }
    } else if (nulls != 1) {
        add(x, "bank_accounts", "with split_by Amount exactly one account, the last, must "
                                "have split_amount null to take the remainder; %zu do",
            nulls);
    } else if (null_at != n - 1) {
        snprintf(p, sizeof p, "bank_accounts[%zu].split_amount", null_at);
        add(x, p, "is null, but the remainder account must be the last one (accounts are "
                  "paid in array order)");
    }
}

static void check_entry(struct ctx *x, const json_t *e)
{
    if (!json_is_object(e)) {
        add(x, "", "must be an object with \"person\" and the other parts of an entry");
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)e, key, v) {
        if (!in_list(key, ENTRY_KEYS)) {
            char names[300];
            join(ENTRY_KEYS, names, sizeof names);
            char path[160];
            snprintf(path, sizeof path, "%.120s", key);
            add(x, path, "unknown field; an entry has: %s", names);
        }
    }
    const json_t *type = json_object_get(e, "entity_type");
    if (type && !(json_is_string(type) && in_list(json_string_value(type), ENTITY_TYPES)))
        add(x, "entity_type", "must be \"employee\" (or left out)");

    const json_t *person = json_object_get(e, "person");
    if (!person) {
        add(x, "person", "is required (with external_id, first_name and last_name)");
    } else if (!json_is_object(person)) {
        add(x, "person", "must be an object");
    } else {
        check_object(x, "person", person, PERSON);
        const char *dob = json_string_value(json_object_get(person, "date_of_birth"));
        if (dob && input_is_date(dob) && strcmp(dob, x->today) > 0)
            add(x, "person.date_of_birth", "cannot be in the future");
        if (json_is_true(json_object_get(person, "self_onboarding")) &&
            !json_is_string(json_object_get(person, "email")))
            add(x, "person.email", "is required when self_onboarding is true");
    }
    for (size_t i = 0; i < sizeof PARTS / sizeof PARTS[0]; i++) {
        const json_t *p = json_object_get(e, PARTS[i].name);
        if (!p)
            continue;
        if (!json_is_object(p))
            add(x, PARTS[i].name, "must be an object");
        else
            check_object(x, PARTS[i].name, p, PARTS[i].rules);
    }
    const json_t *home = json_object_get(e, "home_address");
    if (json_is_true(json_object_get(home, "work_from_home")) &&
        json_object_get(e, "work_address"))
        add(x, "work_address", "is not allowed when home_address.work_from_home is true: the "
                               "work address is made from the home address");
    if (json_object_get(e, "compensation") && !json_object_get(e, "job"))
        add(x, "job", "is required when compensation is given (title and hire_date)");
    const json_t *comp = json_object_get(e, "compensation");
    const char *flsa = json_string_value(json_object_get(comp, "flsa_status"));
    const char *unit = json_string_value(json_object_get(comp, "payment_unit"));
    if (flsa && unit && strcmp(flsa, "Owner") == 0 && strcmp(unit, "Paycheck") != 0 &&
        in_list(unit, PAYMENT_UNITS))
        add(x, "compensation.payment_unit", "must be Paycheck when flsa_status is Owner");
    const json_t *banks = json_object_get(e, "bank_accounts");
    if (banks)
        check_banks(x, banks);
}

struct seen { const char *id; size_t idx; };

static int seen_cmp(const void *a, const void *b)
{
    const struct seen *p = a, *q = b;
    int c = strcmp(p->id, q->id);
    return c ? c : (p->idx < q->idx ? -1 : p->idx > q->idx);
}

struct pos { json_int_t index; size_t at; json_t *e; };

static int pos_cmp(const void *a, const void *b)
{
    const struct pos *p = a, *q = b;
    if (p->index != q->index)
        return p->index < q->index ? -1 : 1;
    return p->at < q->at ? -1 : p->at > q->at;
}

/* Order the problems by entry, keeping each entry's in the order found. */
static void sort_by_index(json_t *errors)
{
    size_t n = json_array_size(errors);
    struct pos *v = n ? calloc(n, sizeof *v) : NULL;
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(errors, i);
        json_t *ix = json_object_get(e, "index");
        v[i].index = json_is_integer(ix) ? json_integer_value(ix) : -1;
        v[i].at = i;
        v[i].e = json_incref(e);
    }
    qsort(v, n, sizeof *v, pos_cmp);
    json_array_clear(errors);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(errors, v[i].e);
    free(v);
}

size_t batch_check(const json_t *entries, json_t *errors)
{
    struct ctx x = {.errors = errors, .index = -1};
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(x.today, sizeof x.today, "%Y-%m-%d", &tm);
    if (!json_is_array(entries)) {
        add(&x, "input", "must be a JSON array of batch entries");
        return x.added;
    }
    size_t n = json_array_size(entries);
    if (n == 0) {
        add(&x, "input", "holds no entries; a batch needs at least one person");
        return x.added;
    }
    struct seen *ids = calloc(n, sizeof *ids);
    size_t nids = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(entries, i);
        x.index = (long)i;
        check_entry(&x, e);
        const char *id = json_string_value(json_object_get(json_object_get(e, "person"),
                                                           "external_id"));
        if (ids && id && *id) {
            ids[nids].id = id;
            ids[nids].idx = i;
            nids++;
        }
    }
    /* Each later use of an external_id is an error naming the first. */
    if (ids) {
        qsort(ids, nids, sizeof *ids, seen_cmp);
        for (size_t k = 1; k < nids; k++) {
            size_t first = k - 1;
            while (k < nids && strcmp(ids[k].id, ids[first].id) == 0) {
                x.index = (long)ids[k].idx;
                json_t *e = add(&x, "person.external_id",
                                "\"%.60s\" is already used by an earlier entry; each "
                                "external_id may appear once", ids[k].id);
                json_object_set_new(e, "first_index", json_integer((json_int_t)ids[first].idx));
                k++;
            }
        }
        free(ids);
        sort_by_index(errors);
    }
    return x.added;
}
