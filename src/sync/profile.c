/* profile.c - turns Gusto's employee list entry into the normalized profile
 * described in profile.h, hashes it, diffs two of them and masks the
 * sensitive parts. */
#include "sync/profile.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *scalar(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v) || json_is_number(v) || json_is_boolean(v))
        return json_incref(v);
    return json_null();
}

static void set(json_t *o, const char *key, json_t *v)
{
    json_object_set_new(o, key, v ? v : json_null());
}

/* The primary job, else the first one. */
static const json_t *primary_job(const json_t *entry)
{
    const json_t *jobs = json_object_get(entry, "jobs");
    size_t i;
    json_t *j;
    json_array_foreach(jobs, i, j) {
        if (json_is_true(json_object_get(j, "primary")))
            return j;
    }
    return json_array_get(jobs, 0);
}

static json_t *address(const json_t *src, const char *uuid_key, const json_t *uuid)
{
    static const char *keys[] = {"street_1", "street_2", "city", "state", "zip", "country"};
    json_t *a = json_object();
    if (uuid_key)
        set(a, uuid_key, json_is_string(uuid) ? json_incref((json_t *)uuid) : json_null());
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        set(a, keys[i], scalar(src, keys[i]));
    return a;
}

static json_t *job_location(const json_t *job)
{
    const json_t *loc = json_object_get(job, "location");
    if (!json_is_object(loc))
        return NULL;
    const json_t *id = json_object_get(job, "location_uuid");
    if (!json_is_string(id))
        id = json_object_get(loc, "uuid");
    return address(loc, "location_uuid", id);
}

bool profile_needs_work_address(const json_t *entry)
{
    json_t *loc = job_location(primary_job(entry));
    json_decref(loc);
    return loc == NULL;
}

json_t *profile_extra_from_work_addresses(const json_t *list)
{
    const json_t *pick = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a) {
        if (json_is_true(json_object_get(a, "active")))
            pick = a;
    }
    if (!pick)
        pick = json_array_get(list, json_array_size(list) ? json_array_size(list) - 1 : 0);
    json_t *wa = pick ? address(pick, "location_uuid", json_object_get(pick, "location_uuid"))
                      : json_null();
    return json_pack("{s:o}", "work_address", wa);
}

static json_t *compensation(const json_t *job, const json_t *entry)
{
    if (!job || (!json_object_get(job, "rate") && !json_object_get(job, "compensations")))
        return json_null(); /* no compensations:read, or no job */
    const char *cur = json_string_value(json_object_get(job, "current_compensation_uuid"));
    const json_t *comp = NULL;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(job, "compensations"), i, c) {
        const char *u = json_string_value(json_object_get(c, "uuid"));
        if (cur && u && strcmp(u, cur) == 0)
            comp = c;
    }
    json_t *o = json_object();
    set(o, "rate", scalar(comp ? comp : job, "rate"));
    set(o, "payment_unit", scalar(comp ? comp : job, "payment_unit"));
    set(o, "flsa_status", comp ? scalar(comp, "flsa_status") : scalar(entry, "flsa_status"));
    set(o, "effective_date", comp ? scalar(comp, "effective_date") : json_null());
    return o;
}

/* The termination in effect (terminated) or the scheduled one. */
static json_t *termination_date(const json_t *entry, bool terminated)
{
    const char *best = NULL;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(entry, "terminations"), i, t) {
        const char *d = json_string_value(json_object_get(t, "effective_date"));
        bool active = json_is_true(json_object_get(t, "active"));
        if (!d || active != terminated)
            continue;
        if (!best || strcmp(d, best) > 0)
            best = d;
    }
    return best ? json_string(best) : json_null();
}

json_t *profile_build(const json_t *entry, const json_t *extra)
{
    const char *uuid = json_string_value(json_object_get(entry, "uuid"));
    if (!uuid || !*uuid)
        return NULL;
    json_t *p = json_object();
    set(p, "employee_uuid", json_string(uuid));
    static const char *plain[] = {"first_name", "middle_initial", "last_name",
                                  "preferred_first_name", "work_email", "phone",
                                  "employee_code", "department", "department_uuid",
                                  "manager_uuid", "onboarding_status"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        set(p, plain[i], scalar(entry, plain[i]));
    set(p, "personal_email", scalar(entry, "email"));
    const json_t *job = primary_job(entry);
    json_t *title = job ? scalar(job, "title") : json_null();
    if (json_is_null(title)) {
        json_decref(title);
        title = scalar(entry, "title");
    }
    set(p, "job_title", title);
    json_t *hired = job ? scalar(job, "hire_date") : json_null();
    if (json_is_null(hired)) {
        json_decref(hired);
        hired = scalar(entry, "hired_at");
    }
    set(p, "hire_date", hired);
    bool terminated = json_is_true(json_object_get(entry, "terminated"));
    bool onboarded = json_is_true(json_object_get(entry, "onboarded"));
    set(p, "employment_status",
        json_string(terminated ? "terminated" : onboarded ? "active" : "onboarding"));
    set(p, "employment_type", scalar(entry, "current_employment_status"));
    set(p, "termination_date", termination_date(entry, terminated));

    json_t *wl = job_location(job);
    if (!wl) {
        json_t *wa = json_object_get(extra, "work_address");
        wl = json_is_object(wa) ? json_deep_copy(wa) : json_null();
    }
    set(p, "work_location", wl);
    const json_t *home = json_object_get(entry, "current_home_address");
    set(p, "home_address", json_is_object(home) ? address(home, NULL, NULL) : json_null());
    set(p, "compensation", compensation(job, entry));

    json_t *pto = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(entry, "eligible_paid_time_off"), i, t) {
        const char *pu = json_string_value(json_object_get(t, "policy_uuid"));
        const char *key = pu ? pu : json_string_value(json_object_get(t, "name"));
        if (!key)
            continue;
        json_object_set_new(pto, key,
                            json_pack("{s:o, s:o, s:o}", "policy_name",
                                      scalar(t, "policy_name"), "name", scalar(t, "name"),
                                      "balance_hours", scalar(t, "accrual_balance")));
    }
    set(p, "time_off", pto);
    json_t *cf = json_object();
    json_array_foreach(json_object_get(entry, "custom_fields"), i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        if (name)
            json_object_set_new(cf, name, scalar(t, "value"));
    }
    set(p, "custom_fields", cf);
    return p;
}

char *profile_canonical(const json_t *profile)
{
    return json_dumps(profile, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
}

void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[64] = 0;
}

const char *profile_status(const json_t *profile)
{
    const char *s = json_string_value(json_object_get(profile, "employment_status"));
    return s ? s : "active";
}

static bool sensitive(const char *path)
{
    return strncmp(path, "home_address", 12) == 0 || strncmp(path, "compensation", 12) == 0;
}

static json_t *mask(const json_t *v)
{
    return json_is_null(v) || !v ? json_null() : json_string("***");
}

/* Collect leaves of a and b (either may be NULL/null) that differ. */
static void diff_into(json_t *out, const char *path, const json_t *a, const json_t *b)
{
    if (json_is_object(a) || json_is_object(b)) {
        const char *k;
        json_t *v;
        char sub[512];
        if (json_is_object(a)) {
            json_object_foreach((json_t *)a, k, v) {
                snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
                diff_into(out, sub, v, json_is_object(b) ? json_object_get(b, k) : NULL);
            }
        } else if (a && !json_is_null(a)) {
            diff_into(out, path, a, NULL);
        }
        if (json_is_object(b)) {
            json_object_foreach((json_t *)b, k, v) {
                if (json_is_object(a) && json_object_get(a, k))
                    continue;
                snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
                diff_into(out, sub, NULL, v);
            }
        }
        return;
    }
    json_t *na = (json_t *)(a ? a : json_null());
    json_t *nb = (json_t *)(b ? b : json_null());
    bool same = json_equal(na, nb);
    if (!a)
        json_decref(na);
    if (!b)
        json_decref(nb);
    if (same)
        return;
    bool s = sensitive(path);
    json_t *c = json_object();
    json_object_set_new(c, "field", json_string(path));
    json_object_set_new(c, "old", s ? mask(a) : a ? json_incref((json_t *)a) : json_null());
    json_object_set_new(c, "new", s ? mask(b) : b ? json_incref((json_t *)b) : json_null());
    if (s)
        json_object_set_new(c, "masked", json_true());
    json_array_append_new(out, c);
}

static int by_field(const void *x, const void *y)
{
    const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    return strcmp(json_string_value(json_object_get(a, "field")),
                  json_string_value(json_object_get(b, "field")));
}

json_t *profile_diff(const json_t *old, const json_t *new_profile)
{
    json_t *raw = json_array();
    diff_into(raw, "", old, new_profile);
    size_t n = json_array_size(raw);
    json_t **items = calloc(n ? n : 1, sizeof *items);
    if (!items)
        return raw;
    for (size_t i = 0; i < n; i++)
        items[i] = json_array_get(raw, i);
    qsort(items, n, sizeof *items, by_field);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(out, items[i]);
    free(items);
    json_decref(raw);
    return out;
}

static void mask_into(json_t *o, const char *path)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(o, tmp, k, v) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
        if (json_is_object(v))
            mask_into(v, sub);
        else if (sensitive(sub))
            json_object_set_new(o, k, mask(v));
    }
}

json_t *profile_masked(const json_t *profile)
{
    json_t *c = json_deep_copy(profile);
    if (c)
        mask_into(c, "");
    return c;
}

void profile_display_name(const json_t *profile, char *out, size_t cap)
{
    const char *pref = json_string_value(json_object_get(profile, "preferred_first_name"));
    const char *first = json_string_value(json_object_get(profile, "first_name"));
    const char *last = json_string_value(json_object_get(profile, "last_name"));
    snprintf(out, cap, "%s%s%s", pref && *pref ? pref : first ? first : "",
             last && *last ? " " : "", last ? last : "");
}
