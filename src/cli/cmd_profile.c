/* cmd_profile.c - `gusto-connect profile --email ADDRESS`: an employee's profile
 * from the sync mirror, without calling Gusto: job and employment, the
 * manager, the work location, time-off balances and how fresh it is; JSON,
 * or a card on a terminal. */
#include "cli/cli.h"
#include "cli/output.h"
#include "sync/profile.h"
#include "sync/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STALE_AFTER_S (24 * 3600)

struct found {
    json_t *matches;         /* array of {company, company_name, ...} */
};

static int on_found(void *ud, const struct mfound *f)
{
    struct found *x = ud;
    json_t *prof = f->profile ? json_loads(f->profile, 0, NULL) : NULL;
    if (!prof)
        return 0;
    json_array_append_new(
        x->matches,
        json_pack("{s:s, s:s?, s:s, s:s, s:o, s:s?, s:s?, s:I, s:I}", "company_uuid",
                  f->company, "company_name", f->company_name, "employee_uuid", f->employee,
                  "status", f->status ? f->status : "", "profile", prof, "updated_at",
                  f->updated_at, "checked_at", f->checked_at, "checked_at_ms",
                  (json_int_t)f->checked_at_ms, "generation", (json_int_t)f->generation));
    return 0;
}

static json_t *get(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return v ? json_incref(v) : json_null();
}

/* The manager's name, work email and title from the mirror. */
static json_t *manager_of(struct mstore *st, const char *company, const json_t *prof)
{
    const char *m = json_string_value(json_object_get(prof, "manager_uuid"));
    if (!m)
        return json_null();
    char *text = mstore_profile(st, company, m);
    json_t *mp = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!mp)
        return json_pack("{s:s, s:n, s:n, s:n}", "employee_uuid", m, "name", "work_email",
                         "job_title");
    char name[200];
    profile_display_name(mp, name, sizeof name);
    json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "employee_uuid", m, "name", name,
                          "work_email", get(mp, "work_email"), "job_title",
                          get(mp, "job_title"));
    json_decref(mp);
    return o;
}

static json_t *view(struct mstore *st, const json_t *match, long long now_ms)
{
    const json_t *prof = json_object_get(match, "profile");
    const char *company = json_string_value(json_object_get(match, "company_uuid"));
    char name[200];
    profile_display_name(prof, name, sizeof name);
    json_t *o = json_object();
    json_object_set(o, "employee_uuid", json_object_get(match, "employee_uuid"));
    json_object_set(o, "company_uuid", json_object_get(match, "company_uuid"));
    json_object_set(o, "company_name", json_object_get(match, "company_name"));
    json_object_set_new(o, "name", json_string(name));
    static const char *keys[] = {"first_name", "preferred_first_name", "last_name",
                                 "work_email", "personal_email", "phone", "employee_code"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        json_object_set_new(o, keys[i], get(prof, keys[i]));
    json_object_set_new(o, "job",
                        json_pack("{s:o, s:o, s:o, s:o}", "title", get(prof, "job_title"),
                                  "department", get(prof, "department"), "hire_date",
                                  get(prof, "hire_date"), "employment_type",
                                  get(prof, "employment_type")));
    const char *status = json_string_value(json_object_get(match, "status"));
    json_object_set_new(o, "employment",
                        json_pack("{s:s, s:o, s:o}", "status", status ? status : "",
                                  "termination_date", get(prof, "termination_date"),
                                  "onboarding_status", get(prof, "onboarding_status")));
    json_object_set_new(o, "manager", manager_of(st, company, prof));
    json_object_set_new(o, "work_location", get(prof, "work_location"));
    json_t *pto = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(prof, "time_off"), k, v) {
        json_array_append_new(pto, json_pack("{s:s, s:o, s:o, s:o}", "policy_uuid", k,
                                             "policy_name", get(v, "policy_name"), "kind",
                                             get(v, "name"), "balance_hours",
                                             get(v, "balance_hours")));
    }
    json_object_set_new(o, "time_off", pto);
    json_object_set_new(o, "custom_fields", get(prof, "custom_fields"));
    long long checked = json_integer_value(json_object_get(match, "checked_at_ms"));
    long long age = checked > 0 ? (now_ms - checked) / 1000 : -1;
    json_object_set_new(
        o, "freshness",
        json_pack("{s:O, s:O, s:o, s:O, s:b}", "synced_at", json_object_get(match, "checked_at"),
                  "changed_at", json_object_get(match, "updated_at"), "age_seconds",
                  age >= 0 ? json_integer(age) : json_null(), "generation",
                  json_object_get(match, "generation"), "stale",
                  age < 0 || age > STALE_AFTER_S));
    return o;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* "  key             value", sanitized; nothing when value is NULL or "". */
static void kv(const char *key, const char *value)
{
    if (!value || !*value)
        return;
    printf("  %-16s ", key);
    out_text(stdout, value);
    fputc('\n', stdout);
}

static void card(const json_t *p)
{
    out_text(stdout, str(p, "name"));
    fputc('\n', stdout);
    kv("work email", str(p, "work_email"));
    kv("personal email", str(p, "personal_email"));
    kv("phone", str(p, "phone"));
    const json_t *job = json_object_get(p, "job");
    kv("title", str(job, "title"));
    kv("department", str(job, "department"));
    const json_t *emp = json_object_get(p, "employment");
    char line[400];
    snprintf(line, sizeof line, "%s%s%s%s%s%s%s", str(emp, "status"),
             str(job, "employment_type") ? " (" : "",
             str(job, "employment_type") ? str(job, "employment_type") : "",
             str(job, "employment_type") ? ")" : "",
             str(job, "hire_date") ? ", hired " : "",
             str(job, "hire_date") ? str(job, "hire_date") : "",
             str(emp, "termination_date") ? ", last day " : "");
    if (str(emp, "termination_date"))
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s",
                 str(emp, "termination_date"));
    kv("status", line);
    const json_t *m = json_object_get(p, "manager");
    if (json_is_object(m)) {
        snprintf(line, sizeof line, "%s%s%s%s", str(m, "name") ? str(m, "name") : str(m, "employee_uuid"),
                 str(m, "work_email") ? " <" : "",
                 str(m, "work_email") ? str(m, "work_email") : "",
                 str(m, "work_email") ? ">" : "");
        kv("manager", line);
    }
    const json_t *wl = json_object_get(p, "work_location");
    if (json_is_object(wl)) {
        snprintf(line, sizeof line, "%s%s%s, %s, %s %s", str(wl, "street_1") ? str(wl, "street_1") : "",
                 str(wl, "street_2") ? ", " : "", str(wl, "street_2") ? str(wl, "street_2") : "",
                 str(wl, "city") ? str(wl, "city") : "", str(wl, "state") ? str(wl, "state") : "",
                 str(wl, "zip") ? str(wl, "zip") : "");
        kv("location", line);
    }
    kv("company", str(p, "company_name") ? str(p, "company_name") : str(p, "company_uuid"));
    const json_t *pto = json_object_get(p, "time_off");
    if (json_array_size(pto)) {
        puts("Time off");
        size_t i;
        json_t *t;
        json_array_foreach(pto, i, t) {
            char val[64];
            snprintf(val, sizeof val, "%s hours",
                     str(t, "balance_hours") ? str(t, "balance_hours") : "?");
            kv(str(t, "policy_name") ? str(t, "policy_name") : str(t, "policy_uuid"), val);
        }
    }
    const json_t *f = json_object_get(p, "freshness");
    json_int_t age = json_integer_value(json_object_get(f, "age_seconds"));
    char ago[64];
    if (age < 120)
        snprintf(ago, sizeof ago, "%lld s ago", (long long)age);
    else if (age < 7200)
        snprintf(ago, sizeof ago, "%lld min ago", (long long)age / 60);
    else if (age < 172800)
        snprintf(ago, sizeof ago, "%lld h ago", (long long)age / 3600);
    else
        snprintf(ago, sizeof ago, "%lld days ago", (long long)age / 86400);
    printf("From the mirror, synced %s (%s)%s\n",
           str(f, "synced_at") ? str(f, "synced_at") : "never", ago,
           json_is_true(json_object_get(f, "stale")) ? " - stale: run gusto-connect sync" : "");
}

int cmd_profile(struct cli *cli, int argc, char **argv)
{
    const char *email = NULL, *db = NULL;
    bool help;
    const struct cli_opt opts[] = {
        {"--email", "ADDRESS", &email, NULL},
        {"--db", "PATH|postgres://...", &db, NULL},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 0, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, "profile");
    if (!email || !*email)
        return out_usage(cli, "missing --email ADDRESS (a work or personal email)");
    if (!strchr(email, '@') || strlen(email) > 320)
        return out_usage(cli, "--email '%.80s' is not an email address", email);
    char target[1024], err[700];
    if (mstore_target(db, false, target, sizeof target, err, sizeof err) != 0)
        return out_fail(cli, EXIT_USAGE, "usage", err, "db", NULL);
    struct mstore *st = mstore_open(target, true, err, sizeof err);
    if (!st)
        return out_fail(cli, EXIT_GENERAL, "store_error", err, "db",
                        "run gusto-connect sync first, or point --db at the mirror");
    char lower[330];
    snprintf(lower, sizeof lower, "%s", email);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    struct found x = {json_array()};
    if (mstore_find_email(st, lower, on_found, &x) != 0) {
        snprintf(err, sizeof err, "cannot read the mirror %s: %s", st->target, mstore_error(st));
        json_decref(x.matches);
        mstore_close(st);
        return out_fail(cli, EXIT_GENERAL, "store_error", err, "db", NULL);
    }
    if (json_array_size(x.matches) == 0) {
        char msg[500];
        snprintf(msg, sizeof msg, "no employee in the mirror has the work or personal email "
                                  "%.320s", email);
        json_decref(x.matches);
        mstore_close(st);
        return out_fail(cli, EXIT_API_CLIENT, "not_found", msg, "email",
                        "check the address, or run gusto-connect sync to refresh the mirror");
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long now_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    json_t *p = view(st, json_array_get(x.matches, 0), now_ms);
    if (json_array_size(x.matches) > 1) {
        json_t *others = json_array();
        for (size_t i = 1; i < json_array_size(x.matches); i++) {
            const json_t *m = json_array_get(x.matches, i);
            json_array_append_new(others, json_pack("{s:O, s:O, s:O}", "company_uuid",
                                                    json_object_get(m, "company_uuid"),
                                                    "employee_uuid",
                                                    json_object_get(m, "employee_uuid"),
                                                    "status", json_object_get(m, "status")));
        }
        json_object_set_new(p, "other_matches", others);
    }
    if (cli->json_out)
        out_ok_json(p);
    else
        card(p);
    json_decref(p);
    json_decref(x.matches);
    mstore_close(st);
    return EXIT_OK;
}
