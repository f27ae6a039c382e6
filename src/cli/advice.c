/* advice.c - the library says why a call failed (gusto_error.reason) in the
 * terms of its API; this says what to do in gusto-connect's: its commands,
 * flags and environment variables.  serve gives its callers its own. */
#include "cli/advice.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *reason, *advice;
} ADVICE[] = {
    {"base_url", "use --env demo, --env production, or a URL such as http://127.0.0.1:8080"},
    {"company_unknown", "pass --company UUID or set GUSTO_COMPANY_UUID"},
    {"no_credentials", "run gusto-connect connect, or set GUSTO_ACCESS_TOKEN"},
    {"connection_unknown", "run gusto-connect connect, or gusto-connect status to list "
                           "connections"},
    {"connection_ambiguous", "make one the default with gusto-connect use NAME, or pass "
                             "--connection NAME or set GUSTO_CONNECTION"},
    {"store_key", "use the GUSTO_STORE_KEY or key file it was saved with, or run "
                  "gusto-connect connect again"},
    {"reconnect", "the refresh token expired or was revoked; run gusto-connect connect again"},
    {"network", "check the network, and the environment: --env, GUSTO_API_BASE_URL or the "
                "connection's"},
    {"timeout", "no answer in time: try again, or allow more with --timeout SECONDS "
                "(default 30); a write may have been done, so read it back before sending "
                "it again"},
    {"employee_unknown", "find the UUID with: gusto-connect employees list --search NAME"},
    {"batch_unknown", "give the uuid that gusto-connect batch create printed"},
    {"no_job", "create one with: gusto-connect api POST /v1/employees/EMPLOYEE_UUID/jobs "
               "--data '{\"title\":\"...\",\"hire_date\":\"YYYY-MM-DD\"}'"},
    {"version_conflict", "read it again (gusto-connect employees get UUID), decide which value "
                         "wins, and update again"},
};

/* A 401: the library's hint names the other environment's URL; the CLI
 * names the flag that picks it. */
static const char *token_rejected(const gusto_error *err, char *buf, size_t cap)
{
    const char *other = strstr(err->hint, GUSTO_PRODUCTION_URL) ? "production"
                        : strstr(err->hint, GUSTO_DEMO_URL)     ? "demo"
                                                                : NULL;
    const char *end = strstr(err->hint, ". If");
    if (other && end)
        snprintf(buf, cap, "%.*s. If the token was issued for the other environment, use "
                 "--env %s; otherwise refresh it or run gusto-connect connect",
                 (int)(end - err->hint), err->hint, other);
    else
        snprintf(buf, cap, "the token was rejected: check GUSTO_ACCESS_TOKEN or run "
                 "gusto-connect connect");
    return buf;
}

const char *cli_advice(const gusto_error *err, char *buf, size_t cap)
{
    if (!err || !err->reason[0])
        return NULL;
    if (strcmp(err->reason, "token_rejected") == 0)
        return token_rejected(err, buf, cap);
    for (size_t i = 0; i < sizeof ADVICE / sizeof ADVICE[0]; i++)
        if (strcmp(err->reason, ADVICE[i].reason) == 0)
            return ADVICE[i].advice;
    return NULL;
}
