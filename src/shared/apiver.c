/* apiver.c - parses the built-in Gusto API version table
 * (data/api-versions.json, embedded as apiver_json) once, and answers which
 * versions Gusto serves on a given day (see apiver.h). */
#include "shared/apiver.h"
#include "shared/ymd.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_VERSIONS 64

static struct apiver table[MAX_VERSIONS];
static size_t count;
static const char *newest_doc;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* obj[key].date as a date, "" for null; false when neither. */
static bool take_date(const json_t *obj, const char *key, char out[11])
{
    const json_t *d = json_object_get(json_object_get(obj, key), "date");
    out[0] = 0;
    if (json_is_null(d))
        return true;
    const char *s = json_string_value(d);
    if (!ymd_valid(s))
        return false;
    memcpy(out, s, 11);
    return true;
}

static void parse(void)
{
    json_t *root = json_loadb((const char *)apiver_json, apiver_json_len, 0, NULL);
    const json_t *vs = json_object_get(root, "versions");
    size_t i;
    const json_t *v;
    json_array_foreach(vs, i, v) {
        if (count == MAX_VERSIONS)
            break;
        struct apiver *a = &table[count];
        const char *name = json_string_value(json_object_get(v, "version"));
        if (!ymd_valid(name) || !take_date(v, "released", a->released) ||
            !a->released[0] || !take_date(v, "deprecation_start", a->deprecation) ||
            !take_date(v, "limited_support", a->limited) || !take_date(v, "sunset", a->sunset))
            continue; /* a malformed entry is left out; the tests read the file too */
        memcpy(a->version, name, 11);
        a->documented = json_is_true(json_object_get(v, "changes_documented"));
        /* keep the table sorted, oldest first */
        size_t k = count++;
        while (k > 0 && strcmp(table[k - 1].version, table[k].version) > 0) {
            struct apiver t = table[k - 1];
            table[k - 1] = table[k];
            table[k] = t;
            k--;
        }
    }
    json_decref(root);
    for (size_t k = 0; k < count; k++)
        if (table[k].documented)
            newest_doc = table[k].version;
}

const struct apiver *apiver_table(size_t *n)
{
    pthread_once(&once, parse);
    *n = count;
    return count ? table : NULL;
}

const struct apiver *apiver_find(const char *version)
{
    size_t n;
    const struct apiver *t = apiver_table(&n);
    for (size_t i = 0; version && i < n; i++)
        if (strcmp(t[i].version, version) == 0)
            return &t[i];
    return NULL;
}

const char *apiver_newest_documented(void)
{
    size_t n;
    apiver_table(&n);
    return newest_doc;
}

enum apiver_state apiver_state(const struct apiver *v, const char *today)
{
    if (!v)
        return APIVER_UNKNOWN;
    if (strcmp(today, v->released) < 0)
        return APIVER_FUTURE;
    if (v->sunset[0] && strcmp(today, v->sunset) > 0)
        return APIVER_RETIRED;
    if (v->limited[0] && strcmp(today, v->limited) >= 0)
        return APIVER_LIMITED;
    if (v->deprecation[0] && strcmp(today, v->deprecation) >= 0)
        return APIVER_DEPRECATED;
    return APIVER_STABLE;
}

bool apiver_served(enum apiver_state s)
{
    return s == APIVER_STABLE || s == APIVER_DEPRECATED || s == APIVER_LIMITED;
}

const char *apiver_state_name(enum apiver_state s)
{
    switch (s) {
    case APIVER_FUTURE: return "future";
    case APIVER_STABLE: return "stable";
    case APIVER_DEPRECATED: return "deprecated";
    case APIVER_LIMITED: return "limited support";
    case APIVER_RETIRED: return "retired";
    case APIVER_UNKNOWN: break;
    }
    return "unknown";
}

size_t apiver_accepted(const char *today, char *buf, size_t len)
{
    size_t n, found = 0, used = 0;
    const struct apiver *t = apiver_table(&n);
    if (len)
        buf[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (!apiver_served(apiver_state(&t[i], today)))
            continue;
        if (len > used) {
            int w = snprintf(buf + used, len - used, "%s%s", found ? ", " : "", t[i].version);
            used += w > 0 ? (size_t)w : 0;
        }
        found++;
    }
    return found;
}

const struct apiver *apiver_oldest_served(const char *today)
{
    size_t n;
    const struct apiver *t = apiver_table(&n);
    for (size_t i = 0; i < n; i++)
        if (apiver_served(apiver_state(&t[i], today)))
            return &t[i];
    return NULL;
}

const struct apiver *apiver_newest_served(const char *today)
{
    size_t n;
    const struct apiver *t = apiver_table(&n);
    for (size_t i = n; i-- > 0;)
        if (apiver_served(apiver_state(&t[i], today)))
            return &t[i];
    return NULL;
}
