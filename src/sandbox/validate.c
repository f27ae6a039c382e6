/* validate.c - checks request bodies against per-endpoint field tables, the
 * way Gusto's API does: every problem is reported at once, keyed by the
 * attribute name, with category invalid_attribute_value. */
#include "sandbox/sandbox.h"

#include <ctype.h>
#include <string.h>

const char *const PAYMENT_UNITS[] = {"Hour", "Week", "Month", "Year", "Paycheck", NULL};
const char *const FLSA_STATUSES[] = {"Exempt", "Salaried Nonexempt", "Nonexempt", "Owner",
                                     "Commission Only Exempt", "Commission Only Nonexempt",
                                     NULL};

static const char *const US_STATES[] = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL",
    "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE",
    "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD",
    "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI", NULL};

const char *check_ssn(const char *v)
{
    return all_digits(v, 9) ? NULL : "must be 9 digits with no dashes";
}

const char *check_state(const char *v)
{
    for (int i = 0; US_STATES[i]; i++)
        if (strcmp(v, US_STATES[i]) == 0)
            return NULL;
    return "must be a valid two-letter state code, e.g. CA";
}

const char *check_zip(const char *v)
{
    size_t n = strlen(v);
    if (n == 5 && all_digits(v, 5))
        return NULL;
    if (n == 10 && v[5] == '-') {
        char a[6], b[5];
        memcpy(a, v, 5);
        a[5] = 0;
        memcpy(b, v + 6, 4);
        b[4] = 0;
        if (all_digits(a, 5) && all_digits(b, 4))
            return NULL;
    }
    return "must be a valid US zip, 12345 or 12345-6789";
}

const char *check_phone(const char *v)
{
    return all_digits(v, 10) ? NULL : "must be 10 digits";
}

const char *check_email(const char *v)
{
    const char *at = strchr(v, '@');
    if (!at || at == v || !strchr(at, '.') || strchr(v, ' ') || at[1] == '.' ||
        v[strlen(v) - 1] == '.')
        return "is not a valid email address";
    return NULL;
}

const char *check_month_day(const char *v)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool shape = strlen(v) == 5 && v[2] == '-';
    for (int i = 0; shape && i < 5; i++)
        shape = i == 2 || isdigit((unsigned char)v[i]);
    if (!shape)
        return "must be a month and day as MM-DD, such as 01-01";
    int m = (v[0] - '0') * 10 + (v[1] - '0'), d = (v[3] - '0') * 10 + (v[4] - '0');
    if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return "must be a month and day that exist, such as 01-01";
    return NULL;
}

const char *check_initial(const char *v)
{
    return strlen(v) <= 1 ? NULL : "must be at most 1 character";
}

bool valid_decimal(const char *s)
{
    /* Gusto sends and accepts decimal strings such as "70000.00". */
    if (!*s)
        return false;
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
    return *p == 0 && (p - s) <= 20;
}

const char *ftype_name(enum ftype t)
{
    switch (t) {
    case F_STRING: case F_STRING_NULL: case F_ENUM: return "a string";
    case F_BOOL: case F_BOOL_NULL: return "true or false";
    case F_DATE: case F_DATE_NULL: return "a date as YYYY-MM-DD";
    case F_MONEY: return "a decimal string such as \"70000.00\"";
    case F_ARRAY: return "an array";
    case F_UUID: return "a UUID string";
    case F_DECIMAL_NULL: return "a decimal string such as \"40.0\", or null";
    case F_INT_NULL: return "a whole number, or null";
    }
    return "a value";
}

static bool nullable(enum ftype t)
{
    return t == F_STRING_NULL || t == F_BOOL_NULL || t == F_DATE_NULL ||
           t == F_DECIMAL_NULL || t == F_INT_NULL;
}

bool validate_body(struct request *r, const struct field *fields, bool creating,
                   struct errlist *e)
{
    const json_t *body = r->json;
    if (!json_is_object(body)) {
        errlist_add(e, "base", "invalid_attribute_value",
                    "Request body must be a JSON object");
        return false;
    }
    for (const struct field *f = fields; f->name; f++) {
        json_t *v = json_object_get(body, f->name);
        if (!v) {
            if (creating && f->required)
                errlist_add(e, f->name, "invalid_attribute_value", "%s is required",
                            f->name);
            continue;
        }
        if (json_is_null(v)) {
            if (!nullable(f->type) || (creating && f->required))
                errlist_add(e, f->name, "invalid_attribute_value",
                            "%s cannot be null; expected %s", f->name,
                            ftype_name(f->type));
            continue;
        }
        bool ok = true;
        const char *s = NULL;
        switch (f->type) {
        case F_BOOL: case F_BOOL_NULL:
            ok = json_is_boolean(v);
            break;
        case F_ARRAY:
            ok = json_is_array(v);
            break;
        case F_INT_NULL:
            ok = json_is_integer(v) && json_integer_value(v) >= 0;
            break;
        default:
            ok = json_is_string(v);
            if (ok)
                s = json_string_value(v);
        }
        if (!ok) {
            errlist_add(e, f->name, "invalid_attribute_value", "%s must be %s", f->name,
                        ftype_name(f->type));
            continue;
        }
        if (!s)
            continue;
        if ((f->type == F_DATE || f->type == F_DATE_NULL) && !valid_date(s)) {
            errlist_add(e, f->name, "invalid_attribute_value",
                        "%s must be a valid date as YYYY-MM-DD, got \"%.40s\"", f->name, s);
        } else if ((f->type == F_MONEY || f->type == F_DECIMAL_NULL) && !valid_decimal(s)) {
            errlist_add(e, f->name, "invalid_attribute_value",
                        "%s must be a decimal string such as \"70000.00\", got \"%.40s\"",
                        f->name, s);
        } else if (f->type == F_UUID && !valid_uuid(s)) {
            errlist_add(e, f->name, "invalid_attribute_value",
                        "%s must be a UUID, got \"%.40s\"", f->name, s);
        } else if (f->type == F_ENUM) {
            bool found = false;
            for (int i = 0; f->enum_values[i]; i++)
                found |= strcmp(s, f->enum_values[i]) == 0;
            if (!found) {
                char allowed[256] = "";
                size_t n = 0;
                for (int i = 0; f->enum_values[i] && n < sizeof allowed - 40; i++)
                    n += (size_t)snprintf(allowed + n, sizeof allowed - n, "%s%s",
                                          i ? ", " : "", f->enum_values[i]);
                errlist_add(e, f->name, "invalid_attribute_value",
                            "%s must be one of: %s; got \"%.40s\"", f->name, allowed, s);
            }
        } else if (f->check) {
            const char *why = f->check(s);
            if (why)
                errlist_add(e, f->name, "invalid_attribute_value", "%s %s", f->name, why);
        }
        if ((f->type == F_STRING || f->type == F_ENUM) && f->required && !*s)
            errlist_add(e, f->name, "invalid_attribute_value", "%s cannot be blank",
                        f->name);
    }
    return true;
}

bool apply_fields(json_t *doc, const json_t *body, const struct field *fields)
{
    bool changed = false;
    for (const struct field *f = fields; f->name; f++) {
        json_t *v = json_object_get(body, f->name);
        if (!v)
            continue;
        json_t *old = json_object_get(doc, f->name);
        if (!old || !json_equal(old, v)) {
            changed = true;
            json_object_set(doc, f->name, v);
        }
    }
    return changed;
}
