/* views.c - terminal renderings: the streamed employee table, an employee's
 * key-value block, time-off balances and activities, create warnings.
 * Everything from the server goes through out_text()/out_cell(). */
#include "cli/views.h"
#include "cli/output.h"

#include <stdio.h>
#include <string.h>

enum { W_UUID = 36, W_NAME = 26, W_TITLE = 22, W_DEPT = 16 };

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static const char *status_of(const json_t *e)
{
    if (json_is_true(json_object_get(e, "terminated")))
        return "terminated";
    if (json_is_false(json_object_get(e, "onboarded")))
        return "onboarding";
    return "active";
}

static void full_name(const json_t *e, char *buf, size_t size)
{
    const char *mi = str(e, "middle_initial");
    const char *pref = str(e, "preferred_first_name");
    const char *first = str(e, "first_name");
    int n = snprintf(buf, size, "%s%s%s%s %s", first, *mi ? " " : "", mi,
                     *mi && strlen(mi) == 1 ? "." : "", str(e, "last_name"));
    if (n >= 0 && (size_t)n < size && *pref && strcmp(pref, first) != 0)
        snprintf(buf + n, size - (size_t)n, " (%s)", pref);
}

void view_employee_header(void)
{
    out_cell(stdout, "UUID", W_UUID);
    fputs("  ", stdout);
    out_cell(stdout, "NAME", W_NAME);
    fputs("  ", stdout);
    out_cell(stdout, "TITLE", W_TITLE);
    fputs("  ", stdout);
    out_cell(stdout, "DEPARTMENT", W_DEPT);
    fputs("  STATUS\n", stdout);
}

void view_employee_row(const json_t *e)
{
    char name[256];
    full_name(e, name, sizeof name);
    out_cell(stdout, str(e, "uuid"), W_UUID);
    fputs("  ", stdout);
    out_cell(stdout, name, W_NAME);
    fputs("  ", stdout);
    out_cell(stdout, str(e, "title"), W_TITLE);
    fputs("  ", stdout);
    out_cell(stdout, str(e, "department"), W_DEPT);
    fputs("  ", stdout);
    fputs(status_of(e), stdout);
    fputc('\n', stdout);
}

static void address(const json_t *a, char *buf, size_t size)
{
    buf[0] = 0;
    if (!json_is_object(a))
        return;
    const char *s2 = str(a, "street_2");
    snprintf(buf, size, "%s%s%s, %s, %s %s", str(a, "street_1"), *s2 ? ", " : "", s2,
             str(a, "city"), str(a, "state"), str(a, "zip"));
}

/* "Engineer, hired 2021-03-01: 120000.00 per Year (Exempt)" */
static void job_line(const json_t *job, char *buf, size_t size)
{
    const char *title = str(job, "title");
    int n = snprintf(buf, size, "%s%s%s", *title ? title : "(no title)",
                     *str(job, "hire_date") ? ", hired " : "", str(job, "hire_date"));
    if (n < 0 || (size_t)n >= size)
        return;
    const char *cur = str(job, "current_compensation_uuid");
    const json_t *comp = NULL, *c;
    size_t i;
    json_array_foreach(json_object_get(job, "compensations"), i, c) {
        if (*cur && strcmp(str(c, "uuid"), cur) == 0)
            comp = c;
    }
    const char *rate = comp ? str(comp, "rate") : str(job, "rate");
    const char *unit = comp ? str(comp, "payment_unit") : str(job, "payment_unit");
    if (*rate)
        n += snprintf(buf + n, size - (size_t)n, ": %s per %s", rate, *unit ? unit : "?");
    if (comp && *str(comp, "flsa_status") && n >= 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, " (%s)", str(comp, "flsa_status"));
}

void view_employee(const json_t *e)
{
    char buf[512];
    char num[64];
    out_kv("uuid", str(e, "uuid"));
    full_name(e, buf, sizeof buf);
    out_kv("name", buf);
    const char *status = status_of(e);
    if (strcmp(status, "onboarding") == 0 && *str(e, "onboarding_status")) {
        snprintf(buf, sizeof buf, "onboarding (%s)", str(e, "onboarding_status"));
        out_kv("status", buf);
    } else {
        out_kv("status", status);
    }
    out_kv("email", str(e, "email"));
    out_kv("work email", str(e, "work_email"));
    out_kv("phone", str(e, "phone"));
    out_kv("date of birth", str(e, "date_of_birth"));
    out_kv("department", str(e, "department"));
    out_kv("title", str(e, "title"));
    out_kv("hired", str(e, "hired_at"));
    out_kv("manager", str(e, "manager_uuid"));
    out_kv("payment method", str(e, "payment_method"));
    out_kv("has ssn", out_scalar(json_object_get(e, "has_ssn"), num, sizeof num));
    address(json_object_get(e, "current_home_address"), buf, sizeof buf);
    out_kv("home address", buf);
    address(json_object_get(e, "current_work_address"), buf, sizeof buf);
    out_kv("work address", buf);
    size_t i;
    const json_t *job;
    json_array_foreach(json_object_get(e, "jobs"), i, job) {
        job_line(job, buf, sizeof buf);
        out_kv(json_is_true(json_object_get(job, "primary")) ? "job" : "other job", buf);
    }
    out_kv("version", str(e, "version"));
}

void view_time_off(const json_t *t)
{
    const json_t *balances = json_object_get(t, "balances");
    const json_t *acts = json_object_get(t, "activities");
    char num[64];
    out_kv("employee", str(t, "employee_uuid"));
    fputc('\n', stdout);
    out_cell(stdout, "POLICY", 24);
    fputs("  ", stdout);
    out_cell(stdout, "TYPE", 10);
    fputs("  BALANCE (HOURS)\n", stdout);
    size_t i;
    const json_t *b;
    json_array_foreach(balances, i, b) {
        out_cell(stdout, str(b, "policy_name"), 24);
        fputs("  ", stdout);
        out_cell(stdout, str(b, "time_off_type"), 10);
        fputs("  ", stdout);
        const char *v = out_scalar(json_object_get(b, "balance"), num, sizeof num);
        out_text(stdout, v ? v : "-");
        fputc('\n', stdout);
    }
    if (json_array_size(balances) == 0)
        fputs("(no time-off policies)\n", stdout);
    if (json_array_size(acts) == 0)
        return;
    fputc('\n', stdout);
    out_cell(stdout, "DATE", 10);
    fputs("  ", stdout);
    out_cell(stdout, "POLICY", 24);
    fputs("  ", stdout);
    out_cell(stdout, "EVENT", 22);
    fputs("  ", stdout);
    out_cell(stdout, "CHANGE", 10);
    fputs("  BALANCE\n", stdout);
    const json_t *a;
    json_array_foreach(acts, i, a) {
        char date[11];
        snprintf(date, sizeof date, "%s", str(a, "effective_time"));
        const char *ev = str(a, "event_type");
        if (strncmp(ev, "TimeOffEvent::", 14) == 0)
            ev += 14;
        out_cell(stdout, date, 10);
        fputs("  ", stdout);
        out_cell(stdout, str(a, "policy_name"), 24);
        fputs("  ", stdout);
        out_cell(stdout, ev, 22);
        fputs("  ", stdout);
        out_cell(stdout, str(a, "balance_change"), 10);
        fputs("  ", stdout);
        out_text(stdout, str(a, "balance"));
        fputc('\n', stdout);
    }
}

void view_warnings(struct cli *cli, const json_t *warnings)
{
    if (cli->quiet)
        return;
    size_t i;
    const json_t *w;
    json_array_foreach(warnings, i, w) {
        json_int_t status = json_integer_value(json_object_get(w, "status"));
        fputs("gusto-connect: warning: ", stderr);
        out_text(stderr, str(w, "entity"));
        fputs(" was not created: ", stderr);
        out_text(stderr, str(w, "message"));
        if (status > 0)
            fprintf(stderr, " (HTTP %" JSON_INTEGER_FORMAT ")", status);
        fputc('\n', stderr);
        if (*str(w, "hint")) {
            fputs("  hint: ", stderr);
            out_text(stderr, str(w, "hint"));
            fputc('\n', stderr);
        }
    }
}

/* "  applied: employee (first_name), home_address (zip)" */
static void report_line(const char *label, const json_t *parts)
{
    fputs(label, stderr);
    if (json_array_size(parts) == 0)
        fputs(" nothing", stderr);
    size_t i, j;
    const json_t *p, *f;
    json_array_foreach(parts, i, p) {
        fputs(i ? ", " : " ", stderr);
        out_text(stderr, str(p, "part"));
        fputs(" (", stderr);
        json_array_foreach(json_object_get(p, "fields"), j, f) {
            fputs(j ? ", " : "", stderr);
            out_text(stderr, json_string_value(f) ?: "?");
        }
        fputc(')', stderr);
    }
    fputc('\n', stderr);
}

void view_update_report(const json_t *report)
{
    report_line("  applied:", json_object_get(report, "applied"));
    report_line("  not applied:", json_object_get(report, "not_applied"));
    const json_t *failed = json_object_get(report, "failed");
    fputs("  failed at: ", stderr);
    out_text(stderr, str(failed, "part"));
    if (*str(failed, "request_id")) {
        fputs(" (Gusto request id ", stderr);
        out_text(stderr, str(failed, "request_id"));
        fputc(')', stderr);
    }
    fputc('\n', stderr);
}
