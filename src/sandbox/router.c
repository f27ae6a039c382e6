/* router.c - the table of every endpoint the sandbox serves, and matching a
 * request path against it.  Paths and scopes are Gusto's, from the spec. */
#include "sandbox/sandbox.h"

#include <string.h>

static const struct route ROUTES[] = {
    {"GET", "/v1/token_info", NULL, h_token_info, 0},
    /* OAuth: no bearer token; the handlers run their own transactions. */
    {"GET", "/oauth/authorize", SB_PUBLIC, h_oauth_authorize_get, 0},
    {"POST", "/oauth/authorize", SB_PUBLIC, h_oauth_authorize_post, 0},
    {"POST", "/oauth/token", SB_PUBLIC, h_oauth_token, 0},
    /* Where Gusto's CLI signs in: RFC 7591 registration, then the same flow. */
    {"POST", "/v1/mcp/oauth/register", SB_PUBLIC, h_oauth_register, 0},
    {"GET", "/v1/mcp/oauth/authorize", SB_PUBLIC, h_oauth_authorize_get, 0},
    {"POST", "/v1/mcp/oauth/authorize", SB_PUBLIC, h_oauth_authorize_post, 0},
    {"POST", "/v1/mcp/oauth/token", SB_PUBLIC, h_oauth_token, 0},
    {"POST", "/oauth/revoke", SB_PUBLIC, h_oauth_revoke, 0},
    {"GET", "/v1/companies/:", "companies:read", h_company_get, 0},
    {"GET", "/v1/companies/:/locations", "companies:read", h_locations_list, 0},
    {"POST", "/v1/companies/:/locations", "companies:write", h_location_create, RT_WRITE},
    {"GET", "/v1/locations/:", "companies:read", h_location_get, 0},
    {"PUT", "/v1/locations/:", "companies:write", h_location_update, RT_WRITE},

    {"GET", "/v1/companies/:/custom_fields", "companies:read", h_company_custom_fields, 0},
    {"GET", "/v1/employees/:/custom_fields", "employees:read", h_employee_custom_fields, 0},
    {"GET", "/v1/companies/:/departments", "departments:read", h_departments_list, 0},
    {"POST", "/v1/companies/:/departments", "departments:write", h_department_create,
     RT_WRITE},
    {"GET", "/v1/departments/:", "departments:read", h_department_get, 0},
    {"PUT", "/v1/departments/:", "departments:write", h_department_update, RT_WRITE},
    {"DELETE", "/v1/departments/:", "departments:write", h_department_delete, RT_WRITE},
    {"PUT", "/v1/departments/:/add", "departments:write", h_department_add, RT_WRITE},
    {"PUT", "/v1/departments/:/remove", "departments:write", h_department_remove, RT_WRITE},

    {"GET", "/v1/companies/:/employees", "employees:read", h_employees_list, 0},
    {"POST", "/v1/companies/:/employees", "employees:manage", h_employee_create, RT_WRITE},
    {"GET", "/v1/employees/:", "employees:read", h_employee_get, 0},
    {"PUT", "/v1/employees/:", "employees:write", h_employee_update, RT_WRITE},
    {"DELETE", "/v1/employees/:", "employees:manage", h_employee_delete, RT_WRITE},

    {"GET", "/v1/employees/:/home_addresses", "employees:read", h_home_list, 0},
    {"POST", "/v1/employees/:/home_addresses", "employees:write", h_home_create, RT_WRITE},
    {"GET", "/v1/home_addresses/:", "employees:read", h_home_get, 0},
    {"PUT", "/v1/home_addresses/:", "employees:write", h_home_update, RT_WRITE},
    {"DELETE", "/v1/home_addresses/:", "employees:write", h_home_delete, RT_WRITE},

    {"GET", "/v1/employees/:/work_addresses", "employees:read", h_work_list, 0},
    {"POST", "/v1/employees/:/work_addresses", "employees:manage", h_work_create, RT_WRITE},
    {"GET", "/v1/work_addresses/:", "employees:read", h_work_get, 0},
    {"PUT", "/v1/work_addresses/:", "employees:manage", h_work_update, RT_WRITE},
    {"DELETE", "/v1/work_addresses/:", "employees:manage", h_work_delete, RT_WRITE},

    {"GET", "/v1/employees/:/jobs", "jobs:read", h_jobs_list, 0},
    {"POST", "/v1/employees/:/jobs", "jobs:write", h_job_create, RT_WRITE},
    {"GET", "/v1/jobs/:", "jobs:read", h_job_get, 0},
    {"PUT", "/v1/jobs/:", "jobs:write", h_job_update, RT_WRITE},
    {"DELETE", "/v1/jobs/:", "jobs:write", h_job_delete, RT_WRITE},
    {"GET", "/v1/jobs/:/compensations", "compensations:read", h_comps_list, 0},
    {"POST", "/v1/jobs/:/compensations", "compensations:write", h_comp_create, RT_WRITE},
    {"GET", "/v1/compensations/:", "compensations:read", h_comp_get, 0},
    {"PUT", "/v1/compensations/:", "compensations:write", h_comp_update, RT_WRITE},
    {"DELETE", "/v1/compensations/:", "compensations:write", h_comp_delete, RT_WRITE},

    {"GET", "/v1/employees/:/time_off_activities", "employee_time_off_activities:read",
     h_time_off_activities, 0},
    {"GET", "/v1/companies/:/time_off_policies", "time_off_policies:read",
     h_time_off_policies_list, 0},
    {"POST", "/v1/companies/:/time_off_policies", "time_off_policies:write",
     h_time_off_policy_create, RT_WRITE},
    {"GET", "/v1/time_off_policies/:", "time_off_policies:read", h_time_off_policy_get, 0},
    {"PUT", "/v1/time_off_policies/:", "time_off_policies:write", h_time_off_policy_update,
     RT_WRITE},
    {"PUT", "/v1/time_off_policies/:/add_employees", "time_off_policies:write",
     h_time_off_policy_add_employees, RT_WRITE},
    {"PUT", "/v1/time_off_policies/:/remove_employees", "time_off_policies:write",
     h_time_off_policy_remove_employees, RT_WRITE},
    {"PUT", "/v1/time_off_policies/:/balance", "time_off_policies:write",
     h_time_off_policy_balance, RT_WRITE},
    {"PUT", "/v1/time_off_policies/:/deactivate", "time_off_policies:write",
     h_time_off_policy_deactivate, RT_WRITE | RT_BODYLESS},
    {"GET", "/v1/employees/:/terminations", "employments:read", h_terminations_list, 0},
    {"POST", "/v1/employees/:/terminations", "employments:write", h_termination_create, RT_WRITE},
    {"DELETE", "/v1/employees/:/terminations", "employments:write", h_termination_delete,
     RT_WRITE},
    {"GET", "/v1/employees/:/rehire", "employments:read", h_rehire_get, 0},
    {"POST", "/v1/employees/:/rehire", "employments:write", h_rehire_create, RT_WRITE},
    /* Around the employee record (records.c and the handlers it names). */
    {"GET", "/v1/employees/:/onboarding_status", "employees:read", h_onboarding_status_get, 0},
    {"PUT", "/v1/employees/:/onboarding_status", "employees:manage", h_onboarding_status_put,
     RT_WRITE},
    {"GET", "/v1/employees/:/employment_history", "employments:read", h_employment_history, 0},
    /* assignments before /pay_schedules/: (which would take it as a uuid). */
    {"GET", "/v1/companies/:/pay_schedules/assignments", "pay_schedules:read",
     h_pay_schedule_assignments, 0},
    {"GET", "/v1/companies/:/pay_schedules", "pay_schedules:read", h_pay_schedules_list, 0},
    {"GET", "/v1/companies/:/pay_schedules/:", "pay_schedules:read", h_pay_schedule_get, 0},
    {"GET", "/v1/companies/:/pay_periods", "payrolls:read", h_pay_periods, 0},
    {"GET", "/v1/companies/:/earning_types", "payrolls:read", h_earning_types, 0},
    {"GET", "/v1/companies/:/contractors", "contractors:read", h_contractors_list, 0},
    {"GET", "/v1/contractors/:", "contractors:read", h_contractor_get, 0},
    {"GET", "/v1/companies/:/signatories", "signatories:read", h_signatories, 0},
    {"GET", "/v1/companies/:/federal_tax_details", "company_federal_taxes:read",
     h_federal_tax_details, 0},
    {"GET", "/v1/companies/:/tax_requirements/:", "company_tax_requirements:read",
     h_tax_requirements_state, 0},
    {"GET", "/v1/companies/:/time_off/requests", "time_off_requests:read",
     h_time_off_requests_list, 0},
    {"GET", "/v1/time_off/requests/:", "time_off_requests:read", h_time_off_request_get, 0},
    {"GET", "/v1/companies/:/time_off/balances", "time_off_requests:read", h_time_off_balances,
     0},
    /* Sandbox-only: the payrolls a company has run (payrolls.c). */
    {"GET", "/sandbox/companies/:/payrolls", "companies:read", h_sandbox_payrolls_get, 0},
    {"POST", "/sandbox/companies/:/payrolls", "companies:write", h_sandbox_payroll_run,
     RT_WRITE},
    {"POST", "/v1/companies/:/people_batches", "people_batches:write", h_batch_create, RT_WRITE},
    {"GET", "/v1/people_batches/:", "people_batches:read", h_batch_get, 0},
    /* Webhooks: a system access token with the webhook_subscriptions scopes
     * or, as a sandbox convenience, a company token (h_webhooks.c). */
    {"GET", "/v1/webhook_subscriptions", NULL, h_webhook_subs_list, 0},
    {"POST", "/v1/webhook_subscriptions", NULL, h_webhook_sub_create, 0},
    {"GET", "/v1/webhook_subscriptions/:", NULL, h_webhook_sub_get, 0},
    {"PUT", "/v1/webhook_subscriptions/:", NULL, h_webhook_sub_update, 0},
    {"DELETE", "/v1/webhook_subscriptions/:", NULL, h_webhook_sub_delete, 0},
    {"PUT", "/v1/webhook_subscriptions/:/verify", NULL, h_webhook_sub_verify, 0},
    {"GET", "/v1/webhook_subscriptions/:/request_verification_token", NULL,
     h_webhook_sub_request_token, 0},
    {"GET", "/v1/webhooks/health_check", NULL, h_webhooks_health, 0},
    /* Not Gusto's: raises an Employee event no endpoint here can (h_webhooks.c). */
    {"POST", "/sandbox/webhook_events", NULL, h_webhook_fire, RT_WRITE},
};

/* Match pattern against path; ':' segments capture into r->params.  The
 * captured pointers point into r->pathbuf, a private copy of the path whose
 * '/' separators are overwritten to terminate each parameter. */
static bool match(const char *pat, const char *path, const char **params, int *np)
{
    *np = 0;
    while (*pat && *path) {
        if (*pat == ':') {
            const char *end = strchr(path, '/');
            size_t len = end ? (size_t)(end - path) : strlen(path);
            if (len == 0 || *np == SB_MAX_PARAMS)
                return false;
            params[(*np)++] = path;
            path += len;
            pat++;
        } else if (*pat == *path) {
            pat++;
            path++;
        } else {
            return false;
        }
    }
    return *pat == 0 && *path == 0;
}

const struct route *route_find(struct request *r, bool *path_matched)
{
    *path_matched = false;
    /* Tolerate one trailing slash, as Rails routing does. */
    char *path = r->pathbuf;
    size_t n = strlen(r->path);
    if (n >= sizeof r->pathbuf)
        return NULL;
    memcpy(path, r->path, n + 1);
    if (n > 1 && path[n - 1] == '/')
        path[n - 1] = 0;

    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        const char *params[SB_MAX_PARAMS];
        int np;
        if (!match(ROUTES[i].pattern, path, params, &np))
            continue;
        *path_matched = true;
        if (strcmp(ROUTES[i].method, r->method) != 0)
            continue;
        /* Terminate each captured segment in place. */
        for (int k = 0; k < np; k++) {
            char *p = (char *)params[k];
            char *slash = strchr(p, '/');
            if (slash)
                *slash = 0;
            r->params[k] = p;
        }
        r->nparams = np;
        return &ROUTES[i];
    }
    return NULL;
}
