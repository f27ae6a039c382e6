/* versions.c - which Gusto API version a client sends: the default, the
 * checks gusto_client_new() makes on a pinned one (known, not retired, not
 * in the future), and the version queries of gusto.h ("API versions"),
 * over the built-in table of src/shared/apiver.c. */
#include "lib/internal.h"
#include "shared/apiver.h"
#include "shared/ymd.h"

#include <stdio.h>
#include <string.h>

static gusto_api_status status_of(enum apiver_state s)
{
    switch (s) {
    case APIVER_FUTURE: return GUSTO_API_FUTURE;
    case APIVER_STABLE: return GUSTO_API_STABLE;
    case APIVER_DEPRECATED: return GUSTO_API_DEPRECATED;
    case APIVER_LIMITED: return GUSTO_API_LIMITED;
    case APIVER_RETIRED: return GUSTO_API_RETIRED;
    case APIVER_UNKNOWN: break;
    }
    return GUSTO_API_UNKNOWN;
}

static void fill_info(const char *version, const char *today, gusto_api_version_info *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->version, sizeof out->version, "%s", version ? version : "");
    const struct apiver *v = apiver_find(version);
    enum apiver_state st = apiver_state(v, today);
    out->status = status_of(st);
    snprintf(out->status_name, sizeof out->status_name, "%s", apiver_state_name(st));
    out->days_to_sunset = -1;
    if (!v)
        return;
    memcpy(out->released, v->released, sizeof out->released);
    memcpy(out->deprecation_start, v->deprecation, sizeof out->deprecation_start);
    memcpy(out->limited_support, v->limited, sizeof out->limited_support);
    memcpy(out->sunset, v->sunset, sizeof out->sunset);
    if (v->sunset[0])
        out->days_to_sunset = ymd_days_between(today, v->sunset);
}

gusto_code gusto_api_version_lookup(const char *version, const char *today,
                                    gusto_api_version_info *out, gusto_error *err)
{
    err_clear(err);
    char now[11];
    if (!today) {
        ymd_today(now);
        today = now;
    } else if (!ymd_valid(today)) {
        err_set(err, GUSTO_EINVAL, "today \"%.40s\" is not a date YYYY-MM-DD", today);
        err_field(err, "today");
        return GUSTO_EINVAL;
    }
    fill_info(version, today, out);
    if (out->status == GUSTO_API_UNKNOWN) {
        err_set(err, GUSTO_EINVAL, "\"%.40s\" is not a Gusto API version libgusto knows",
                version ? version : "");
        err_field(err, "version");
        return GUSTO_EINVAL;
    }
    return GUSTO_OK;
}

size_t gusto_api_versions_accepted(const char *today, char *buf, size_t len)
{
    char now[11];
    if (!today || !ymd_valid(today)) {
        ymd_today(now);
        today = now;
    }
    return apiver_accepted(today, buf, len);
}

const char *gusto_client_api_version(const gusto_client *c) { return c->api_version; }

void gusto_client_api_version_info(const gusto_client *c, gusto_api_version_info *out)
{
    fill_info(c->api_version, c->today, out);
}

gusto_code version_choose(gusto_client *c, const char *requested, const char *today,
                          gusto_error *err)
{
    if (today && !ymd_valid(today)) {
        err_set(err, GUSTO_EINVAL, "today \"%.40s\" is not a date YYYY-MM-DD", today);
        err_field(err, "today");
        return GUSTO_EINVAL;
    }
    if (today)
        memcpy(c->today, today, sizeof c->today);
    else
        ymd_today(c->today);
    char accepted[256];
    apiver_accepted(c->today, accepted, sizeof accepted);
    if (!requested) {
        /* GUSTO_API_VERSION, or on a pinned earlier day the newest
         * documented version Gusto served then. */
        const char *pick = NULL;
        size_t n;
        const struct apiver *t = apiver_table(&n);
        for (size_t i = 0; i < n; i++)
            if (t[i].documented && apiver_served(apiver_state(&t[i], c->today)) &&
                strcmp(t[i].version, GUSTO_API_VERSION) <= 0)
                pick = t[i].version;
        if (!pick) {
            err_set(err, GUSTO_EINVAL, "no Gusto API version libgusto knows is accepted on %s",
                    c->today);
            err_field(err, "api_version");
            return GUSTO_EINVAL;
        }
        snprintf(c->api_version, sizeof c->api_version, "%s", pick);
        return GUSTO_OK;
    }
    enum apiver_state st = apiver_state(apiver_find(requested), c->today);
    if (apiver_served(st)) {
        snprintf(c->api_version, sizeof c->api_version, "%s", requested);
        return GUSTO_OK;
    }
    const char *why = st == APIVER_RETIRED  ? "was retired by Gusto"
                      : st == APIVER_FUTURE ? "is not released yet"
                      : ymd_valid(requested) ? "is not a Gusto API version"
                                                  : "is not a version (YYYY-MM-DD)";
    err_set(err, GUSTO_EINVAL, "API version \"%.40s\" %s; Gusto accepts %s (on %s)", requested,
            why, accepted[0] ? accepted : "none", c->today);
    err_field(err, "api_version");
    return GUSTO_EINVAL;
}
