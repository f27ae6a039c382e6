/* schema.c - gusto-connect serve's one JSON Schema validator: checks an action's body against the very input_schema that GET /actions publishes, and lists every mismatch with the field's path and what was expected. */
#include "serve/serve.h"
#include "shared/uuidtext.h"
#include "shared/ymd.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The keywords handled: type (a name or a list), properties, required,
 * additionalProperties (false or a schema), enum, const, minimum, maximum,
 * minLength, maxLength, pattern (POSIX extended), format (date, uuid,
 * email), items, minItems, maxItems.  Annotations (description, writeOnly)
 * are ignored, and an empty schema accepts anything. */

static const char *type_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

static bool type_is(const json_t *v, const char *t)
{
    const char *have = type_of(v);
    return strcmp(have, t) == 0 || (strcmp(t, "number") == 0 && json_is_integer(v));
}

static void add(json_t *errors, const char *path, const char *expected, const char *message)
{
    json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "field", *path ? path : "(body)",
                                            "expected", expected, "message", message));
}

/* A mismatch: "FIELD: MESSAGE" with what was expected. */
static void addf(json_t *errors, const char *path, const char *expected, const char *fmt,
                 const char *arg)
{
    char m[320];
    snprintf(m, sizeof m, fmt, *path ? path : "the body", arg ? arg : "");
    add(errors, path, expected, m);
}

static bool is_email(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at > s && !strchr(at + 1, '@') && strchr(at + 1, '.') && !strchr(s, ' ') &&
           at[1] != '.' && s[strlen(s) - 1] != '.';
}

static void check(const json_t *schema, const json_t *v, const char *path, json_t *errors);

static void check_type(const json_t *schema, const json_t *v, const char *path, json_t *errors,
                       bool *ok)
{
    const json_t *t = json_object_get(schema, "type");
    if (!t)
        return;
    char want[96] = "";
    bool match = false;
    if (json_is_string(t)) {
        match = type_is(v, json_string_value(t));
        snprintf(want, sizeof want, "%s", json_string_value(t));
    } else if (json_is_array(t)) {
        size_t i;
        const json_t *one;
        size_t n = 0;
        json_array_foreach(t, i, one) {
            const char *s = json_string_value(one);
            if (!s)
                continue;
            match = match || type_is(v, s);
            n += (size_t)snprintf(want + n, n < sizeof want ? sizeof want - n : 0, "%s%s",
                                  i ? " or " : "", s);
            if (n >= sizeof want)
                n = sizeof want - 1;
        }
    }
    if (!match) {
        char m[320];
        snprintf(m, sizeof m, "%s must be %s %s, not %s", *path ? path : "the body",
                 strchr("aeiou", want[0]) ? "an" : "a", want, type_of(v));
        add(errors, path, want, m);
        *ok = false;
    }
}

static void check_enum(const json_t *schema, const json_t *v, const char *path, json_t *errors)
{
    const json_t *en = json_object_get(schema, "enum");
    const json_t *cn = json_object_get(schema, "const");
    if (cn && !json_equal(cn, v)) {
        char *want = json_dumps(cn, JSON_ENCODE_ANY | JSON_COMPACT);
        addf(errors, path, want ? want : "?", "%s must be %s", want);
        free(want);
    }
    if (!json_is_array(en))
        return;
    size_t i;
    const json_t *one;
    json_array_foreach(en, i, one)
        if (json_equal(one, v))
            return;
    char *want = json_dumps(en, JSON_COMPACT);
    char m[400];
    snprintf(m, sizeof m, "one of %s", want ? want : "?");
    addf(errors, path, m, "%s must be %s", m);
    free(want);
}

static void check_string(const json_t *schema, const json_t *v, const char *path,
                         json_t *errors)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    char want[160];
    const json_t *k;
    if (json_is_integer(k = json_object_get(schema, "maxLength")) &&
        len > (size_t)json_integer_value(k)) {
        snprintf(want, sizeof want, "at most %" JSON_INTEGER_FORMAT " characters",
                 json_integer_value(k));
        addf(errors, path, want, "%s is too long: %s", want);
    }
    if (json_is_integer(k = json_object_get(schema, "minLength")) &&
        len < (size_t)json_integer_value(k)) {
        snprintf(want, sizeof want, "at least %" JSON_INTEGER_FORMAT " characters",
                 json_integer_value(k));
        addf(errors, path, want, "%s is too short: %s", want);
    }
    const char *pat = json_string_value(json_object_get(schema, "pattern"));
    if (pat) {
        regex_t re;
        if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) == 0) {
            if (strlen(s) != len || regexec(&re, s, 0, NULL, 0) != 0) {
                snprintf(want, sizeof want, "a string matching %.120s", pat);
                addf(errors, path, want, "%s must be %s", want);
            }
            regfree(&re);
        }
    }
    const char *fmt = json_string_value(json_object_get(schema, "format"));
    if (!fmt)
        return;
    bool bad = (strcmp(fmt, "date") == 0 && !ymd_valid(s)) ||
               (strcmp(fmt, "uuid") == 0 && !uuid_text_ok(s)) ||
               (strcmp(fmt, "email") == 0 && !is_email(s));
    if (bad) {
        const char *w = strcmp(fmt, "date") == 0   ? "a date YYYY-MM-DD"
                        : strcmp(fmt, "uuid") == 0 ? "a UUID"
                                                   : "an email address";
        addf(errors, path, w, "%s must be %s", w);
    }
}

static void check_number(const json_t *schema, const json_t *v, const char *path,
                         json_t *errors)
{
    double n = json_number_value(v);
    char want[96];
    const json_t *k;
    if (json_is_number(k = json_object_get(schema, "minimum")) && n < json_number_value(k)) {
        snprintf(want, sizeof want, "at least %g", json_number_value(k));
        addf(errors, path, want, "%s must be %s", want);
    }
    if (json_is_number(k = json_object_get(schema, "maximum")) && n > json_number_value(k)) {
        snprintf(want, sizeof want, "at most %g", json_number_value(k));
        addf(errors, path, want, "%s must be %s", want);
    }
}

static void join(char *out, size_t cap, const char *path, const char *key)
{
    snprintf(out, cap, "%s%s%s", path, *path ? "." : "", key);
}

static void check_object(const json_t *schema, const json_t *v, const char *path,
                         json_t *errors)
{
    const json_t *props = json_object_get(schema, "properties");
    const json_t *extra = json_object_get(schema, "additionalProperties");
    char sub[256];
    const json_t *req = json_object_get(schema, "required");
    size_t i;
    const json_t *r;
    json_array_foreach(req, i, r) {
        const char *k = json_string_value(r);
        if (k && !json_object_get(v, k)) {
            join(sub, sizeof sub, path, k);
            add(errors, sub, "present", "");
            char m[320];
            snprintf(m, sizeof m, "%s is required", sub);
            json_object_set_new(json_array_get(errors, json_array_size(errors) - 1), "message",
                                json_string(m));
        }
    }
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)v, k, val) {
        join(sub, sizeof sub, path, k);
        const json_t *ps = json_object_get(props, k);
        if (ps) {
            check(ps, val, sub, errors);
        } else if (json_is_false(extra)) {
            /* The known fields, so a typo can be seen at once. */
            char known[400] = "";
            size_t n = 0;
            const char *pk;
            const json_t *pv;
            json_object_foreach((json_t *)props, pk, pv) {
                n += (size_t)snprintf(known + n, n < sizeof known ? sizeof known - n : 0,
                                      "%s%s", n ? ", " : "", pk);
                if (n >= sizeof known)
                    n = sizeof known - 1;
            }
            char m[720], want[420];
            if (n)
                snprintf(want, sizeof want, "one of: %s", known);
            else
                snprintf(want, sizeof want, "no fields");
            snprintf(m, sizeof m, "%s is not a field here (expected %s)", sub, want);
            add(errors, sub, want, m);
        } else if (json_is_object(extra)) {
            check(extra, val, sub, errors);
        }
    }
}

static void check_array(const json_t *schema, const json_t *v, const char *path,
                        json_t *errors)
{
    const json_t *items = json_object_get(schema, "items"), *k;
    char want[96];
    if (json_is_integer(k = json_object_get(schema, "minItems")) &&
        json_array_size(v) < (size_t)json_integer_value(k)) {
        snprintf(want, sizeof want, "at least %" JSON_INTEGER_FORMAT " items",
                 json_integer_value(k));
        addf(errors, path, want, "%s must have %s", want);
    }
    if (json_is_integer(k = json_object_get(schema, "maxItems")) &&
        json_array_size(v) > (size_t)json_integer_value(k)) {
        snprintf(want, sizeof want, "at most %" JSON_INTEGER_FORMAT " items",
                 json_integer_value(k));
        addf(errors, path, want, "%s must have %s", want);
    }
    if (!json_is_object(items))
        return;
    size_t i;
    const json_t *one;
    json_array_foreach(v, i, one) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        check(items, one, sub, errors);
    }
}

static void check(const json_t *schema, const json_t *v, const char *path, json_t *errors)
{
    if (!json_is_object(schema))
        return;
    bool ok = true;
    check_type(schema, v, path, errors, &ok);
    if (!ok)
        return; /* the rest would only repeat it */
    check_enum(schema, v, path, errors);
    if (json_is_string(v))
        check_string(schema, v, path, errors);
    else if (json_is_number(v))
        check_number(schema, v, path, errors);
    else if (json_is_object(v))
        check_object(schema, v, path, errors);
    else if (json_is_array(v))
        check_array(schema, v, path, errors);
}

json_t *schema_validate(const json_t *schema, const json_t *value)
{
    json_t *errors = json_array();
    if (errors)
        check(schema, value, "", errors);
    return errors;
}
