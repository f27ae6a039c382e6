/* views.c - terminal renderings: the streamed employee table, an employee's
 * key-value block, time-off balances and activities, create warnings.
 * Everything from the server goes through out_text()/out_cell(). */
#include "cli/views.h"
#include "cli/output.h"
#include "cli/table.h"
#include "cli/term.h"

#include <stdio.h>
#include <string.h>

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* The termination that applies: the latest dated one ("" when none), and
 * whether its date has come (Gusto's Termination.active). */
static const char *termination_date(const json_t *e, bool *started)
{
    const char *best = "";
    *started = false;
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(e, "terminations"), i, t) {
        const char *d = str(t, "effective_date");
        if (*d && strcmp(d, best) >= 0) {
            best = d;
            *started = json_is_true(json_object_get(t, "active"));
        }
    }
    return best;
}

/* "terminated", "active, terminating on DATE" (long) or "terminating"
 * (short), "onboarding", "active". */
static void status_text(const json_t *e, bool lng, char *buf, size_t size)
{
    bool started;
    const char *td = termination_date(e, &started);
    if (json_is_true(json_object_get(e, "terminated"))) {
        snprintf(buf, size, "terminated");
    } else if (*td && !started) {
        snprintf(buf, size, lng ? "active, terminating on %s" : "terminating", td);
    } else if (json_is_false(json_object_get(e, "onboarded"))) {
        if (lng && *str(e, "onboarding_status"))
            snprintf(buf, size, "onboarding (%s)", str(e, "onboarding_status"));
        else
            snprintf(buf, size, "onboarding");
    } else {
        snprintf(buf, size, "active");
    }
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

/* The employee table's columns: the first five by default, all with
 * --output wide.  "name" and "status" are made here; the rest are
 * Employee fields. */
static const struct table_col EMPLOYEE_COLS[] = {
    {"uuid", "UUID", 36, 2, false, false, TINT_NONE},
    {"name", "NAME", 12, 0, true, false, TINT_NONE},
    {"title", "TITLE", 8, 3, true, false, TINT_NONE},
    {"department", "DEPARTMENT", 8, 4, true, false, TINT_NONE},
    {"status", "STATUS", 6, 1, false, false, TINT_STATUS},
    {"email", "EMAIL", 10, 5, true, true, TINT_NONE},
    {"work_email", "WORK EMAIL", 10, 6, true, true, TINT_NONE},
    {"hired_at", "HIRED", 10, 7, false, true, TINT_NONE},
    {"manager_uuid", "MANAGER", 36, 8, false, true, TINT_NONE},
    {"employee_code", "CODE", 4, 9, false, true, TINT_NONE},
    {"first_name", "FIRST NAME", 8, 10, true, true, TINT_NONE},
    {"last_name", "LAST NAME", 8, 10, true, true, TINT_NONE},
};

const struct table_col *view_employee_columns(size_t *n)
{
    *n = sizeof EMPLOYEE_COLS / sizeof EMPLOYEE_COLS[0];
    return EMPLOYEE_COLS;
}

const char *view_employee_field(const json_t *e, const char *key, char *buf, size_t size)
{
    if (strcmp(key, "name") == 0) {
        full_name(e, buf, size);
        return buf;
    }
    if (strcmp(key, "status") == 0) {
        status_text(e, false, buf, size);
        return buf;
    }
    const char *v = out_scalar(json_object_get(e, key), buf, size);
    return v ? v : "";
}

json_t *view_employee_pick(const json_t *e, const struct table_col *const *cols, size_t n)
{
    json_t *o = json_object();
    char buf[512];
    for (size_t i = 0; i < n; i++) {
        const char *k = cols[i]->key;
        if (strcmp(k, "name") == 0 || strcmp(k, "status") == 0) {
            json_object_set_new(o, k, json_string(view_employee_field(e, k, buf, sizeof buf)));
        } else {
            json_t *v = json_object_get(e, k);
            json_object_set(o, k, v ? v : json_null());
        }
    }
    return o;
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

void view_employee(const json_t *e, const char *manager)
{
    char buf[512];
    char num[64];
    out_kv("uuid", str(e, "uuid"));
    full_name(e, buf, sizeof buf);
    out_kv("name", buf);
    status_text(e, true, buf, sizeof buf);
    out_kv("status", buf);
    bool started;
    const char *td = termination_date(e, &started);
    if (*td && (started || json_is_true(json_object_get(e, "terminated"))))
        out_kv("terminated on", td);
    out_kv("email", str(e, "email"));
    out_kv("work email", str(e, "work_email"));
    out_kv("phone", str(e, "phone"));
    out_kv("date of birth", str(e, "date_of_birth"));
    out_kv("department", str(e, "department"));
    out_kv("title", str(e, "title"));
    out_kv("hired", str(e, "hired_at"));
    if (*str(e, "manager_uuid")) {
        if (manager && *manager)
            snprintf(buf, sizeof buf, "%s (%s)", manager, str(e, "manager_uuid"));
        else
            snprintf(buf, sizeof buf, "%s", str(e, "manager_uuid"));
        out_kv("manager", buf);
    }
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

static const struct table_col BALANCE_COLS[] = {
    {"policy", "POLICY", 10, 0, true, false, TINT_NONE},
    {"type", "TYPE", 4, 2, true, false, TINT_NONE},
    {"balance", "BALANCE (HOURS)", 7, 1, false, false, TINT_NONE},
};

static const struct table_col ACTIVITY_COLS[] = {
    {"date", "DATE", 10, 0, false, false, TINT_NONE},
    {"policy", "POLICY", 8, 2, true, false, TINT_NONE},
    {"event", "EVENT", 8, 3, true, false, TINT_NONE},
    {"change", "CHANGE", 6, 1, false, false, TINT_NONE},
    {"balance", "BALANCE", 7, 4, false, false, TINT_NONE},
};

void view_time_off(struct cli *cli, const json_t *t)
{
    const json_t *balances = json_object_get(t, "balances");
    const json_t *acts = json_object_get(t, "activities");
    char num[64];
    out_kv("employee", str(t, "employee_uuid"));
    fputc('\n', stdout);
    const struct table_col *cols[5];
    struct table tb;
    for (size_t k = 0; k < 3; k++)
        cols[k] = &BALANCE_COLS[k];
    table_init(&tb, stdout, cols, 3, cli->width, cli->color);
    size_t i;
    const json_t *b;
    json_array_foreach(balances, i, b) {
        const char *v = out_scalar(json_object_get(b, "balance"), num, sizeof num);
        const char *cells[] = {str(b, "policy_name"), str(b, "time_off_type"), v ? v : "-"};
        table_row(&tb, cells);
    }
    table_end(&tb);
    if (json_array_size(balances) == 0)
        fputs("(no time-off policies)\n", stdout);
    if (json_array_size(acts) == 0)
        return;
    fputc('\n', stdout);
    for (size_t k = 0; k < 5; k++)
        cols[k] = &ACTIVITY_COLS[k];
    table_init(&tb, stdout, cols, 5, cli->width, cli->color);
    const json_t *a;
    json_array_foreach(acts, i, a) {
        char date[11];
        snprintf(date, sizeof date, "%s", str(a, "effective_time"));
        const char *ev = str(a, "event_type");
        if (strncmp(ev, "TimeOffEvent::", 14) == 0)
            ev += 14;
        const char *cells[] = {date, str(a, "policy_name"), ev, str(a, "balance_change"),
                               str(a, "balance")};
        table_row(&tb, cells);
    }
    table_end(&tb);
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
