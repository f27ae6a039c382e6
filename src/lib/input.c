/* input.c - checks the JSON a caller hands to create or update an employee,
 * before anything is sent: unknown fields, wrong types, malformed dates,
 * SSNs, states, zips, enums and money strings.  Each failure names the field
 * by its path, e.g. "home_address.zip". */
#include "lib/internal.h"
#include "shared/comprules.h"
#include "shared/ssn.h"
#include "shared/ymd.h"
#include "shared/uuidtext.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum kind { K_STR, K_STR_NULL, K_BOOL, K_BOOL_NULL, K_DATE, K_DATE_NULL, K_MONEY,
            K_ENUM, K_SSN, K_EMAIL, K_STATE, K_ZIP, K_INITIAL, K_UUID, K_OBJECT, K_ARRAY };

struct rule {
    const char *name;
    enum kind kind;
    bool required;           /* on create */
    const char *const *values;
};

static const char *const PAYMENT_UNITS[] = {"Hour", "Week", "Month", "Year", "Paycheck", NULL};
static const char *const FLSA[] = {"Exempt", "Salaried Nonexempt", "Nonexempt", "Owner",
                                   "Commission Only Exempt", "Commission Only Nonexempt",
                                   NULL};

static const struct rule EMPLOYEE[] = {
    {"first_name", K_STR, true, NULL},       {"last_name", K_STR, true, NULL},
    {"middle_initial", K_INITIAL, false, NULL},
    {"preferred_first_name", K_STR_NULL, false, NULL},
    {"email", K_EMAIL, false, NULL},         {"work_email", K_EMAIL, false, NULL},
    {"date_of_birth", K_DATE, false, NULL},  {"ssn", K_SSN, false, NULL},
    {"self_onboarding", K_BOOL, false, NULL},
    {"home_address", K_OBJECT, false, NULL}, {"work_address", K_OBJECT, false, NULL},
    {"job", K_OBJECT, false, NULL},          {"compensation", K_OBJECT, false, NULL},
    {NULL, 0, false, NULL},
};
static const struct rule EMPLOYEE_UPDATE[] = {
    {"first_name", K_STR, false, NULL},      {"last_name", K_STR, false, NULL},
    {"middle_initial", K_INITIAL, false, NULL},
    {"preferred_first_name", K_STR_NULL, false, NULL},
    {"email", K_EMAIL, false, NULL},         {"work_email", K_EMAIL, false, NULL},
    {"date_of_birth", K_DATE, false, NULL},  {"ssn", K_SSN, false, NULL},
    {"two_percent_shareholder", K_BOOL, false, NULL},
    {"home_address", K_OBJECT, false, NULL}, {"work_address", K_OBJECT, false, NULL},
    {"job", K_OBJECT, false, NULL},          {"compensation", K_OBJECT, false, NULL},
    {NULL, 0, false, NULL},
};
static const struct rule HOME[] = {
    {"street_1", K_STR, true, NULL},          {"street_2", K_STR_NULL, false, NULL},
    {"city", K_STR, true, NULL},              {"state", K_STATE, true, NULL},
    {"zip", K_ZIP, true, NULL},               {"effective_date", K_DATE_NULL, false, NULL},
    {"courtesy_withholding", K_BOOL, false, NULL},
    {NULL, 0, false, NULL},
};
static const struct rule WORK[] = {
    {"location_uuid", K_UUID, false, NULL},   {"location", K_STR, false, NULL},
    {"effective_date", K_DATE, false, NULL},
    {NULL, 0, false, NULL},
};
static const struct rule JOB[] = {
    {"title", K_STR_NULL, true, NULL},        {"hire_date", K_DATE, true, NULL},
    {"two_percent_shareholder", K_BOOL, false, NULL},
    {"state_wc_covered", K_BOOL_NULL, false, NULL},
    {"state_wc_class_code", K_STR_NULL, false, NULL},
    {NULL, 0, false, NULL},
};
static const struct rule COMP[] = {
    {"rate", K_MONEY, true, NULL},            {"payment_unit", K_ENUM, true, PAYMENT_UNITS},
    {"flsa_status", K_ENUM, true, FLSA},      {"effective_date", K_DATE, false, NULL},
    {"title", K_STR, false, NULL},            {"adjust_for_minimum_wage", K_BOOL, false, NULL},
    {NULL, 0, false, NULL},
};

/* The states, DC and the territories Gusto takes in an address. */
static const char *const US_STATES[] = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL",
    "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE",
    "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD",
    "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI", NULL};

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

bool input_is_date(const char *s)
{
    return ymd_valid(s);
}

bool input_is_money(const char *s)
{
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == 0 && p - s <= 20;
}

bool input_is_state(const char *s)
{
    for (int i = 0; US_STATES[i]; i++)
        if (strcmp(US_STATES[i], s) == 0)
            return true;
    return false;
}

bool input_is_uuid(const char *s)
{
    return uuid_text_ok(s);
}

/* Record one problem: the first goes into p->err, every one into p->list. */
void input_problem(struct input_problems *p, const char *field, const char *message)
{
    if (p->count++ == 0) {
        err_set(p->err, GUSTO_EINVAL, "%s", message);
        err_field(p->err, field);
    }
    if (p->list) {
        json_t *one = json_pack("{s:s, s:s}", "field", field, "message", message);
        if (!one || json_array_append_new(p->list, one) != 0)
            p->oom = true;
    }
}

/* A problem of the field prefix.name; fmt gets the path, then detail.
 * Returns false, for "return fail(...)" in a check. */
static bool fail(struct input_problems *p, const char *prefix, const char *name,
                 const char *fmt, const char *detail)
{
    char path[128], msg[512];
    snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", name);
    snprintf(msg, sizeof msg, fmt, path, detail ? detail : "");
    input_problem(p, path, msg);
    return false;
}

/* The start of a value for a message: at most CLIP_MAX bytes, cut on a
 * UTF-8 character boundary (s is valid UTF-8: jansson decoded it), with
 * "..." when cut. */
enum { CLIP_MAX = 40 };
static const char *clip(const char *s, char out[CLIP_MAX + 4])
{
    size_t n = strlen(s);
    if (n <= CLIP_MAX)
        return s;
    n = CLIP_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* s[n] continues a character: cut before that character */
    memcpy(out, s, n);
    memcpy(out + n, "...", 4);
    return out;
}

/* One field against its rule: true when it passes (at most one problem
 * is recorded per field). */
static bool check_field(const json_t *obj, const struct rule *r, bool creating,
                        const char *prefix, struct input_problems *p)
{
    const json_t *v = json_object_get(obj, r->name);
    if (!v) {
        if (creating && r->required)
            return fail(p, prefix, r->name, "%s is required%s", NULL);
        return true;
    }
    bool nullable = r->kind == K_STR_NULL || r->kind == K_BOOL_NULL ||
                    r->kind == K_DATE_NULL || r->kind == K_EMAIL;
    if (json_is_null(v)) {
        if (!nullable)
            return fail(p, prefix, r->name, "%s cannot be null%s", NULL);
        return true;
    }
    switch (r->kind) {
    case K_BOOL: case K_BOOL_NULL:
        if (!json_is_boolean(v))
            return fail(p, prefix, r->name, "%s must be true or false%s", NULL);
        return true;
    case K_OBJECT:
        if (!json_is_object(v))
            return fail(p, prefix, r->name, "%s must be a JSON object%s", NULL);
        return true;
    case K_ARRAY:
        if (!json_is_array(v))
            return fail(p, prefix, r->name, "%s must be an array%s", NULL);
        return true;
    case K_MONEY:
        if (json_is_number(v))
            return fail(p, prefix, r->name,
                        "%s must be a decimal string such as \"70000.00\", not a "
                        "number%s", NULL);
        break;
    default:
        break;
    }
    if (!json_is_string(v))
        return fail(p, prefix, r->name, "%s must be a string%s", NULL);
    const char *s = json_string_value(v);
    char tmp[10], shown[CLIP_MAX + 4];
    switch (r->kind) {
    case K_STR:
        if (r->required && !*s)
            return fail(p, prefix, r->name, "%s cannot be blank%s", NULL);
        break;
    case K_DATE: case K_DATE_NULL:
        if (!input_is_date(s))
            return fail(p, prefix, r->name,
                        "%s must be a real date as YYYY-MM-DD, got \"%s\"", clip(s, shown));
        break;
    case K_MONEY:
        if (!input_is_money(s))
            return fail(p, prefix, r->name,
                        "%s must be a decimal string such as \"70000.00\", got \"%s\"",
                        clip(s, shown));
        break;
    case K_ENUM: {
        bool ok = false;
        for (int i = 0; r->values[i]; i++)
            ok |= strcmp(r->values[i], s) == 0;
        if (!ok) {
            char allowed[256] = "";
            size_t n = 0;
            for (int i = 0; r->values[i]; i++)
                n += (size_t)snprintf(allowed + n, sizeof allowed - n, "%s%s",
                                      i ? ", " : "", r->values[i]);
            return fail(p, prefix, r->name, "%s must be one of: %s", allowed);
        }
        break;
    }
    case K_SSN:
        /* Never echo the value: it is a secret. */
        if (!ssn_digits(s, tmp))
            return fail(p, prefix, r->name,
                        "%s must be 9 digits (123456789 or 123-45-6789)%s", NULL);
        break;
    case K_EMAIL: {
        const char *at = strchr(s, '@');
        if (!at || at == s || !strchr(at, '.') || strchr(s, ' '))
            return fail(p, prefix, r->name,
                        "%s must be an email address, got \"%s\"", clip(s, shown));
        break;
    }
    case K_STATE:
        if (!input_is_state(s))
            return fail(p, prefix, r->name,
                        "%s must be a two-letter US state code such as CA, got \"%s\"",
                        clip(s, shown));
        break;
    case K_ZIP: {
        size_t n = strlen(s);
        if (!((n == 5 && digits(s, 5)) ||
              (n == 10 && digits(s, 5) && s[5] == '-' && digits(s + 6, 4))))
            return fail(p, prefix, r->name,
                        "%s must be a US zip code, 12345 or 12345-6789, got \"%s\"",
                        clip(s, shown));
        break;
    }
    case K_INITIAL:
        if (strlen(s) > 1)
            return fail(p, prefix, r->name, "%s must be a single letter, got \"%s\"",
                        clip(s, shown));
        break;
    case K_UUID:
        if (!input_is_uuid(s))
            return fail(p, prefix, r->name, "%s must be a UUID, got \"%s\"", clip(s, shown));
        break;
    default:
        break;
    }
    return true;
}

static void check_rules(const json_t *obj, const struct rule *rules, bool creating,
                        const char *prefix, struct input_problems *p)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        const struct rule *r = NULL;
        for (const struct rule *x = rules; x->name; x++)
            if (strcmp(x->name, key) == 0)
                r = x;
        if (!r) {
            char known[512] = "";
            size_t n = 0;
            for (const struct rule *x = rules; x->name && n < sizeof known - 40; x++)
                n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", n ? ", " : "",
                                      x->name);
            fail(p, prefix, key, "%s: unknown field; expected one of: %s", known);
        }
    }
    for (const struct rule *r = rules; r->name; r++)
        check_field(obj, r, creating, prefix, p);
}

static bool one_of(const char *s, const char *const *values)
{
    for (int i = 0; values[i]; i++)
        if (strcmp(values[i], s) == 0)
            return true;
    return false;
}

/* Gusto's compensation rules that need no read (docs/sandbox.md lists each
 * with its source): an effective_date at most a year ahead, Paycheck for
 * Owners only, Commission Only paid $0 per Year, adjust_for_minimum_wage
 * only for Nonexempt, and the Exempt salary floor of $35,568 a year.  A
 * rule is checked when the fields it needs are in the input (an update
 * may give one field; then Gusto checks it against the stored ones). */
static void comp_rules(const json_t *obj, const char *prefix, struct input_problems *p)
{
    const char *flsa = json_string_value(json_object_get(obj, "flsa_status"));
    const char *unit = json_string_value(json_object_get(obj, "payment_unit"));
    const char *rate = json_string_value(json_object_get(obj, "rate"));
    const char *date = json_string_value(json_object_get(obj, "effective_date"));
    /* A value already reported as malformed takes part in no rule. */
    if (rate && !input_is_money(rate))
        rate = NULL;
    if (flsa && !one_of(flsa, FLSA))
        flsa = NULL;
    if (unit && !one_of(unit, PAYMENT_UNITS))
        unit = NULL;
    if (date && input_is_date(date)) {
        char max[11];
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        tm.tm_year += 1;
        if (tm.tm_mon == 1 && tm.tm_mday == 29)
            tm.tm_mday = 28;
        strftime(max, sizeof max, "%Y-%m-%d", &tm);
        if (strcmp(date, max) > 0)
            fail(p, prefix, "effective_date",
                 "%s is more than a year ahead: Gusto takes dates up to %s", max);
    }
    struct comp_violation v[4];
    int n = comp_rules_check(flsa, unit, rate,
                             json_is_true(json_object_get(obj, "adjust_for_minimum_wage")), v);
    for (int i = 0; i < n; i++)
        fail(p, prefix, v[i].field, "%s %s", v[i].why);
}

void input_check(const json_t *obj, enum part part, const char *prefix, bool creating,
                 struct input_problems *p)
{
    if (!json_is_object(obj)) {
        fail(p, "", *prefix ? prefix : "input", "%s must be a JSON object%s", NULL);
        return;
    }
    if (part == PART_EMPLOYEE_UPDATE)
        creating = false;
    const struct rule *rules = part == PART_EMPLOYEE ? EMPLOYEE
                               : part == PART_EMPLOYEE_UPDATE ? EMPLOYEE_UPDATE
                               : part == PART_HOME ? HOME
                               : part == PART_WORK ? WORK
                               : part == PART_JOB ? JOB : COMP;
    check_rules(obj, rules, creating, prefix, p);
    if (part == PART_EMPLOYEE) {
        if (json_is_true(json_object_get(obj, "self_onboarding")) &&
            !json_is_string(json_object_get(obj, "email")))
            fail(p, prefix, "email", "%s is required when self_onboarding is true%s", NULL);
        const char *dob = json_string_value(json_object_get(obj, "date_of_birth"));
        if (dob && input_is_date(dob)) {
            char today[11];
            time_t t = time(NULL);
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(today, sizeof today, "%Y-%m-%d", &tm);
            if (strcmp(dob, today) > 0)
                fail(p, prefix, "date_of_birth", "%s cannot be in the future%s", NULL);
        }
    }
    if (part == PART_COMP)
        comp_rules(obj, prefix, p);
    if (part == PART_WORK && creating && !json_object_get(obj, "location_uuid") &&
        !json_object_get(obj, "location"))
        fail(p, prefix, "location_uuid",
             "%s is required (or give \"location\": a street, city or zip to match "
             "one of the company's locations)%s", NULL);
}
