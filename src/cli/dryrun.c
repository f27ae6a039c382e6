/* dryrun.c - the requests `employees create|update --dry-run` would send,
 * printed masked: a create's from libgusto's own plan
 * (gusto_employee_create_plan()), an update's built here from the input
 * and the employee read. */
#include "cli/dryrun.h"
#include "cli/input.h"
#include "cli/output.h"
#include "shared/secretkeys.h"
#include "shared/ssn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const PARTS[] = {"home_address", "work_address", "job", "compensation",
                                    NULL};

static void add(json_t *plan, const char *method, const char *path, json_t *body)
{
    json_t *r = json_object();
    json_object_set_new(r, "method", json_string(method));
    json_object_set_new(r, "path", json_string(path));
    json_object_set_new(r, "body", body ? body : json_null());
    json_array_append_new(plan, r);
}

/* The employee's own fields, the SSN as the nine digits the library sends
 * (shared/ssn.h, the library's own normaliser). */
static json_t *own_fields(const json_t *input)
{
    json_t *o = json_deep_copy(input);
    for (int i = 0; PARTS[i]; i++)
        json_object_del(o, PARTS[i]);
    char d[10];
    if (ssn_digits(json_string_value(json_object_get(o, "ssn")), d))
        json_object_set_new(o, "ssn", json_string(d));
    explicit_bzero(d, sizeof d);
    return o;
}

/* A work address body: "location" becomes the location_uuid it matches. */
static json_t *work_body(const json_t *work, json_t *plan, const char *company_path)
{
    json_t *wb = json_deep_copy(work);
    const char *loc = json_string_value(json_object_get(work, "location"));
    if (loc) {
        char note[200];
        snprintf(note, sizeof note, "{location matching \"%.80s\"}", loc);
        add(plan, "GET", company_path, NULL);
        json_object_del(wb, "location");
        json_object_set_new(wb, "location_uuid", json_string(note));
    }
    return wb;
}

/* A PUT body as the library sends it: the changes plus the version it
 * reads just before. */
static json_t *versioned(const json_t *fields)
{
    json_t *b = json_deep_copy(fields);
    json_object_set_new(b, "version", json_string("{current version}"));
    return b;
}

json_t *dryrun_create_plan(struct cli *cli, const char *input_text, int *exit_code)
{
    char *text = NULL;
    gusto_error err;
    gusto_code rc = gusto_employee_create_plan(input_text, cli->company, &text, &err);
    json_t *got = text ? json_loads(text, 0, NULL) : NULL;
    gusto_free(text);
    *exit_code = 0;
    if (rc == GUSTO_OK && json_is_array(got))
        return got;
    if (rc == GUSTO_OK) { /* the plan's text was made, but not read back */
        *exit_code = out_fail(cli, out_exit_code(GUSTO_ENOMEM, 0), "out_of_memory",
                              "out of memory", NULL, NULL);
        json_decref(got);
        return NULL;
    }
    /* An input that fails the checks: every problem, as create gives them. */
    json_t *problems = json_object_get(got, "errors");
    char *list = rc == GUSTO_EINVAL && problems ? json_dumps(problems, JSON_COMPACT) : NULL;
    *exit_code = list ? out_problems(cli, &err, list) : out_error(cli, &err, NULL);
    free(list);
    json_decref(got);
    return NULL;
}

/* The primary job of a gusto_employee_get() result, or NULL. */
static const json_t *primary_job(const json_t *employee)
{
    size_t i;
    json_t *j;
    json_array_foreach(json_object_get(employee, "jobs"), i, j)
        if (json_is_true(json_object_get(j, "primary")))
            return j;
    return NULL;
}

static json_t *comp_with(const json_t *job, const char *uuid)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(job, "compensations"), i, c) {
        const char *u = json_string_value(json_object_get(c, "uuid"));
        if (u && uuid && strcmp(u, uuid) == 0)
            return c;
    }
    return NULL;
}

static json_t *pay_of(const json_t *comp)
{
    json_t *o = json_object();
    static const char *const keys[] = {"rate", "payment_unit", "flsa_status", "effective_date",
                                       NULL};
    for (int i = 0; keys[i]; i++) {
        json_t *v = json_object_get(comp, keys[i]);
        if (v)
            json_object_set(o, keys[i], v);
    }
    return o;
}

json_t *dryrun_pay(const json_t *input, const json_t *employee, bool correct)
{
    const json_t *change = json_object_get(input, "compensation");
    const json_t *job = primary_job(employee);
    const char *cu = json_string_value(json_object_get(job, "current_compensation_uuid"));
    json_t *cur = comp_with(job, cu);
    json_t *old = cur ? pay_of(cur) : json_null();
    json_t *now = cur ? pay_of(cur) : json_object();
    json_object_update(now, (json_t *)change);
    if (!correct && !json_object_get(change, "effective_date"))
        json_object_set_new(now, "effective_date",
                            json_string("{Gusto's default: the first pay period no payroll "
                                        "has run for}"));
    return json_pack("{s:o, s:o, s:s}", "old", old, "new", now, "how",
                     correct ? "the current compensation corrected in place"
                             : "a new compensation; the current one stays as it is");
}

json_t *dryrun_update_plan(const json_t *input, const char *uuid, bool correct,
                           const json_t *employee)
{
    json_t *plan = json_array();
    char path[256], locs[256];
    snprintf(locs, sizeof locs, "/v1/companies/{company_uuid}/locations");
    json_t *mine = own_fields(input);
    if (json_object_size(mine)) {
        snprintf(path, sizeof path, "/v1/employees/%s", uuid);
        add(plan, "PUT", path, versioned(mine));
    }
    json_decref(mine);
    const json_t *home = json_object_get(input, "home_address");
    if (json_object_size(home))
        add(plan, "PUT", "/v1/home_addresses/{current home address}", versioned(home));
    const json_t *work = json_object_get(input, "work_address");
    if (json_object_size(work)) {
        json_t *wb = work_body(work, plan, locs);
        add(plan, "PUT", "/v1/work_addresses/{current work address}", versioned(wb));
        json_decref(wb);
    }
    const json_t *job = json_object_get(input, "job");
    if (json_object_size(job))
        add(plan, "PUT", "/v1/jobs/{primary job}", versioned(job));
    const json_t *comp = json_object_get(input, "compensation");
    const json_t *pj = primary_job(employee);
    const char *ju = json_string_value(json_object_get(pj, "uuid"));
    const char *cu = json_string_value(json_object_get(pj, "current_compensation_uuid"));
    if (json_object_size(comp) && correct) {
        snprintf(path, sizeof path, "/v1/compensations/%s", cu ? cu : "{current compensation}");
        add(plan, "PUT", path, versioned(comp));
    } else if (json_object_size(comp)) {
        /* The library sends the current compensation's fields with the
         * changes; without a date Gusto picks it. */
        json_t *cur = comp_with(pj, cu), *body = json_object();
        static const char *const carried[] = {"rate", "payment_unit", "flsa_status", "title",
                                              NULL};
        for (int i = 0; cur && carried[i]; i++)
            if (json_is_string(json_object_get(cur, carried[i])))
                json_object_set(body, carried[i], json_object_get(cur, carried[i]));
        json_object_update(body, (json_t *)comp);
        snprintf(path, sizeof path, "/v1/jobs/%s/compensations", ju ? ju : "{primary job}");
        add(plan, "POST", path, body);
    }
    return plan;
}

/* Print text line by line, each indented, sanitized. */
static void indented(const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line - 1 ? n : sizeof line - 1),
                 p);
        fputs("    ", stdout);
        out_text(stdout, line);
        fputc('\n', stdout);
        p += n + (nl ? 1 : 0);
    }
}

static void pay_line(const char *label, const json_t *pay)
{
    fputs(label, stdout);
    if (!json_is_object(pay)) {
        fputs("none\n", stdout);
        return;
    }
    char line[512];
    snprintf(line, sizeof line, "%s per %s, %s, from %s",
             json_string_value(json_object_get(pay, "rate")) ?: "?",
             json_string_value(json_object_get(pay, "payment_unit")) ?: "?",
             json_string_value(json_object_get(pay, "flsa_status")) ?: "?",
             json_string_value(json_object_get(pay, "effective_date")) ?: "?");
    out_text(stdout, line);
    fputc('\n', stdout);
}

int dryrun_print(struct cli *cli, json_t *plan)
{
    return dryrun_print_pay(cli, plan, NULL);
}

int dryrun_print_pay(struct cli *cli, json_t *plan, json_t *pay)
{
    secret_mask_json(plan);
    if (cli->json_out) {
        json_t *data = json_pack("{s:b, s:O}", "dry_run", 1, "requests", plan);
        if (pay)
            json_object_set(data, "pay", pay);
        out_ok_json(data);
        json_decref(data);
        json_decref(plan);
        json_decref(pay);
        return EXIT_OK;
    }
    bool read = pay != NULL;
    if (pay) {
        puts("Pay (from a read of the employee):");
        pay_line("  old: ", json_object_get(pay, "old"));
        pay_line("  new: ", json_object_get(pay, "new"));
        fputs("  as:  ", stdout);
        out_text(stdout, json_string_value(json_object_get(pay, "how")));
        fputs("\n\n", stdout);
    }
    size_t n = json_array_size(plan);
    printf("Dry run: nothing was %s. %s %zu request%s would be:\n",
           read ? "written (the employee was read)" : "sent", n == 1 ? "This" : "These", n,
           n == 1 ? "" : "s");
    size_t i;
    json_t *r;
    json_array_foreach(plan, i, r) {
        fputs("\n  ", stdout);
        out_text(stdout, json_string_value(json_object_get(r, "method")));
        fputc(' ', stdout);
        out_text(stdout, json_string_value(json_object_get(r, "path")));
        fputc('\n', stdout);
        json_t *body = json_object_get(r, "body");
        if (!json_is_null(body)) {
            char *text = json_dumps(body, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            if (text)
                indented(text);
            free(text);
        }
    }
    json_decref(plan);
    json_decref(pay);
    return EXIT_OK;
}
