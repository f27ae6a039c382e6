/* secretkeys.c - the one masking policy for secret JSON keys (see secretkeys.h). */
#include "shared/secretkeys.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

enum secret_kind secret_key_kind(const char *key)
{
    char k[64];
    size_t n = 0;
    for (const char *p = key; *p && n + 1 < sizeof k; p++)
        if (*p != '_' && *p != '-' && *p != ' ')
            k[n++] = (char)tolower((unsigned char)*p);
    k[n] = 0;
    if (strncmp(k, "has", 3) == 0)
        return SECRET_NONE; /* has_ssn and the like say only whether there is one */
    if (strstr(k, "ssn") || strstr(k, "socialsecurity") || strcmp(k, "itin") == 0 ||
        strstr(k, "taxpayerid"))
        return SECRET_SSN;
    if (strstr(k, "accountnumber") || strstr(k, "routingnumber") || strcmp(k, "ein") == 0 ||
        strstr(k, "employeridentificationnumber") || strcmp(k, "iban") == 0)
        return SECRET_NUMBER;
    static const char *const WHOLE[] = {"birthday", "dateofbirth", "dob", "birthdate",
                                        "password", "apikey", "authorization", NULL};
    for (int i = 0; WHOLE[i]; i++)
        if (strcmp(k, WHOLE[i]) == 0)
            return SECRET_WHOLE;
    if (strstr(k, "token") || strstr(k, "secret"))
        return SECRET_WHOLE;
    return SECRET_NONE;
}

void secret_mask(enum secret_kind kind, const char *value, char *out, size_t cap)
{
    char four[5] = "";
    int n = 0;
    for (const char *p = value ? value : ""; *p; p++)
        if (isdigit((unsigned char)*p)) {
            memmove(four, four + 1, 3);
            four[3] = *p;
            four[4] = 0;
            n++;
        }
    const char *last = n >= 4 ? four : "";
    if (kind == SECRET_SSN)
        snprintf(out, cap, "***-**-%s", *last ? last : "****");
    else if (kind == SECRET_NUMBER)
        snprintf(out, cap, "****%s", last);
    else
        snprintf(out, cap, "***");
}

/* The text of a string or an integer, or NULL. */
static const char *scalar_text(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    return NULL;
}

void secret_mask_json(json_t *j)
{
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
            secret_mask_json(v);
        return;
    }
    if (!json_is_object(j))
        return;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        enum secret_kind kind = secret_key_kind(key);
        if (kind == SECRET_NONE) {
            secret_mask_json(v);
            continue;
        }
        if (json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))
            continue;
        char num[32], masked[32];
        secret_mask(kind, scalar_text(v, num, sizeof num), masked, sizeof masked);
        if (json_object_set_new(j, key, json_string(masked)) != 0)
            json_object_set_new(j, key, json_null());
    }
}
