/* cmd_employees.c - `gusto-connect employees list|create|get|update`: arguments in,
 * one libgusto call, the result out as an envelope or for a terminal. */
#include "cli/cli.h"
#include "cli/dryrun.h"
#include "cli/input.h"
#include "cli/output.h"
#include "cli/table.h"
#include "cli/term.h"
#include "cli/views.h"
#include "shared/listcursor.h"
#include "sync/progress.h"

#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- list ----------------------------------------------------------- */

struct list_ctx {
    struct cli *cli;
    int mode;                 /* OUTPUT_JSON (the envelope), OUTPUT_NDJSON or a table */
    const struct table_col *cols[TABLE_MAX_COLS];
    size_t ncols;
    bool pick;                /* --fields: JSON objects hold only the chosen keys */
    struct table table;
    bool started;             /* the envelope's opening is out */
    size_t count;
    struct progress *bar;     /* NULL: none */
    size_t expect;            /* the count to expect, for the bar (0: unknown) */
};

/* Each employee goes out as it arrives: memory stays flat for any count
 * (a table holds its first TABLE_SAMPLE_ROWS rows to size its columns). */
static int on_employee(void *userdata, const char *json, size_t len)
{
    struct list_ctx *x = userdata;
    x->count++;
    if (x->mode != OUTPUT_JSON && x->mode != OUTPUT_NDJSON) {
        json_t *e = json_loadb(json, len, 0, NULL);
        if (e) {
            const char *cells[TABLE_MAX_COLS];
            char bufs[TABLE_MAX_COLS][256];
            for (size_t i = 0; i < x->ncols; i++)
                cells[i] = view_employee_field(e, x->cols[i]->key, bufs[i], sizeof bufs[i]);
            /* The row is about to be written (or the held ones): no bar under it. */
            if (x->bar && (x->table.fixed || x->table.nheld + 1 >= TABLE_SAMPLE_ROWS))
                progress_clear(x->bar);
            table_row(&x->table, cells);
        }
        json_decref(e);
        if (x->bar)
            progress_set(x->bar, x->count, x->expect, NULL);
        return ferror(stdout) ? 1 : 0;
    }
    if (x->bar)
        progress_clear(x->bar);
    if (x->mode == OUTPUT_JSON)
        fputs(x->started ? "," : "{\"data\":[", stdout);
    x->started = true;
    if (x->pick) {
        json_t *e = json_loadb(json, len, 0, NULL);
        json_t *o = e ? view_employee_pick(e, x->cols, x->ncols) : NULL;
        if (o)
            json_dumpf(o, stdout, OUT_JSON_FLAGS);
        json_decref(o);
        json_decref(e);
    } else {
        fwrite(json, 1, len, stdout);
    }
    if (x->mode == OUTPUT_NDJSON)
        fputc('\n', stdout);
    if (x->bar)
        progress_set(x->bar, x->count, x->expect, NULL);
    return ferror(stdout) ? 1 : 0;
}

/* The cursor hash of this list's filters, as serve's list-employees makes
 * it (each filter's JSON text), so that one cursor means one list. */
static unsigned long list_hash(const char *search, bool terminated, bool active,
                               const char *include)
{
    const char *vals[] = {search, terminated ? "" : NULL, active ? "" : NULL, include};
    unsigned long h = LISTCURSOR_HASH_INIT;
    for (int i = 0; i < 4; i++) {
        char *t = NULL;
        if (vals[i] && (i == 1 || i == 2)) {
            t = strdup("true");
        } else if (vals[i]) {
            json_t *j = json_string(vals[i]);
            t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
            json_decref(j);
        }
        h = listcursor_hash(h, t);
        free(t);
    }
    return h;
}

int cmd_employees_list(struct cli *cli, int argc, char **argv)
{
    const char *search = NULL, *include = NULL, *limit_s = NULL, *cursor = NULL;
    bool terminated = false, active = false, all = false, help;
    const struct cli_opt opts[] = {
        {"--search", "TERM", &search, NULL},
        {"--terminated", NULL, NULL, &terminated},
        {"--active", NULL, NULL, &active},
        {"--include", "LIST", &include, NULL},
        {"--limit", "N", &limit_s, NULL},
        {"--cursor", "CURSOR", &cursor, NULL},
        {"--all", NULL, NULL, &all},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 0, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, cli->command);
    if (terminated && active)
        return out_usage(cli, "--terminated and --active exclude each other; give one");
    if (all && (limit_s || cursor))
        return out_usage(cli, "--all lists everyone; it excludes --limit and --cursor");
    size_t limit = 0;
    if (limit_s) {
        char *end;
        errno = 0;
        long v = strtol(limit_s, &end, 10);
        if (errno || end == limit_s || *end || v < 1 || v > GUSTO_LIST_MAX_EMPLOYEES)
            return out_usage(cli, "--limit '%.40s' is not a whole number from 1 to %d", limit_s,
                             GUSTO_LIST_MAX_EMPLOYEES);
        limit = (size_t)v;
    }
    unsigned long hash = list_hash(search, terminated, active, include);
    unsigned long long offset = 0;
    if (cursor) {
        unsigned long h;
        if (listcursor_decode(cursor, GUSTO_LIST_MAX_EMPLOYEES, &offset, &h) != 0)
            return out_usage(cli, "--cursor '%.60s' is not a next cursor of employees list",
                             cursor);
        if (h != hash)
            return out_usage(cli, "--cursor belongs to a list with other filters (--search, "
                                  "--terminated, --active, --include): give the same ones");
    }
    struct list_ctx x = {.cli = cli, .mode = cli->json_out ? cli->output : OUTPUT_TABLE};
    if (x.mode != OUTPUT_NDJSON && cli->json_out)
        x.mode = OUTPUT_JSON;
    size_t nall;
    const struct table_col *allc = view_employee_columns(&nall);
    if ((rc = out_columns(cli, allc, nall, x.cols, &x.ncols)) != 0)
        return rc;
    x.pick = cli->fields != NULL;
    gusto_client *client = cli_client(cli, &rc);
    if (!client)
        return rc;
    struct progress bar;
    progress_init(&bar, "employees", !cli->quiet && out_is_tty(2), term_width(2));
    bar.delay_ms = 1000; /* a list of a page or two needs no bar */
    if (bar.on) {
        x.bar = &bar;
        x.expect = limit;
        cli_progress(cli, &bar);
    }
    if (x.mode == OUTPUT_TABLE)
        table_init(&x.table, stdout, x.cols, x.ncols, cli->width, cli->color);
    int more = 0;
    gusto_list_options lo = {
        .version = GUSTO_LIST_OPTIONS_VERSION,
        .search_term = search,
        .terminated = terminated ? 1 : active ? 2 : 0,
        .include = include,
        .offset = (size_t)offset,
        .limit = limit,
        .more = &more,
    };
    size_t total = 0;
    gusto_error err;
    gusto_code code = gusto_employees_list(client, &lo, on_employee, &x, &total, &err);
    progress_clear(&bar);
    cli_progress(cli, NULL);
    if (x.mode == OUTPUT_TABLE && x.count > 0)
        table_end(&x.table);
    if (code == GUSTO_ECANCELED && ferror(stdout))
        return EXIT_GENERAL; /* main() reports the failed write */
    if (code != GUSTO_OK)
        return x.started && x.mode == OUTPUT_JSON ? out_stream_error(cli, &err)
                                                   : out_error(cli, &err, NULL);
    char next[48] = "";
    if (more)
        listcursor_encode(next, sizeof next, offset + total, hash);
    bool paged = limit_s || cursor;
    if (x.mode == OUTPUT_JSON) {
        fputs(x.started ? "]" : "{\"data\":[]", stdout);
        if (paged) {
            fputs(",\"next_cursor\":", stdout);
            if (more)
                printf("\"%s\"", next);
            else
                fputs("null", stdout);
        }
        fputs(",\"ok\":true}\n", stdout);
    } else if (x.mode == OUTPUT_TABLE) {
        if (x.count == 0)
            puts("No employees found.");
        else if (!cli->quiet)
            printf("\n%zu employee%s\n", total, total == 1 ? "" : "s");
    }
    if (more && x.mode != OUTPUT_JSON && !cli->quiet)
        fprintf(stderr, "more employees: run the same command with --cursor %s\n", next);
    return EXIT_OK;
}

/* ---- get ------------------------------------------------------------ */

/* The manager's name for a terminal: Gusto's Employee carries only
 * manager_uuid, so the manager is read too (a failure leaves the uuid
 * alone on show). */
static void manager_name(struct cli *cli, const json_t *e, char *buf, size_t size)
{
    buf[0] = 0;
    const char *m = json_string_value(json_object_get(e, "manager_uuid"));
    int rc;
    gusto_client *client = m && cli_is_uuid(m) ? cli_client(cli, &rc) : NULL;
    if (!client)
        return;
    char *got = NULL;
    gusto_error err;
    if (gusto_employee_get(client, m, &got, &err) == GUSTO_OK) {
        json_t *me = json_loads(got, 0, NULL);
        if (me)
            view_employee_field(me, "name", buf, size);
        json_decref(me);
    }
    gusto_free(got);
}

/* Print an employee result (JSON text from the library). */
static void show_employee(struct cli *cli, const char *text)
{
    if (cli->json_out) {
        out_ok_text(text, strlen(text));
        return;
    }
    json_t *e = json_loads(text, 0, NULL);
    if (e) {
        char mgr[256];
        manager_name(cli, e, mgr, sizeof mgr);
        view_employee(e, mgr);
    } else {
        puts(text);
    }
    json_decref(e);
}

static int one_uuid(struct cli *cli, int npos, const char **pos, const char **uuid)
{
    if (npos == 0)
        return out_usage(cli, "missing the employee's UUID: gusto-connect %s UUID", cli->command);
    *uuid = pos[0];
    return 0;
}

int cmd_employees_get(struct cli *cli, int argc, char **argv)
{
    bool help;
    const char *pos[1], *uuid = NULL;
    int npos, rc = cli_args(cli, argc, argv, NULL, pos, 1, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, cli->command);
    if ((rc = one_uuid(cli, npos, pos, &uuid)) != 0)
        return rc;
    gusto_client *client = cli_client(cli, &rc);
    if (!client)
        return rc;
    char *result = NULL;
    gusto_error err;
    if (gusto_employee_get(client, uuid, &result, &err) != GUSTO_OK) {
        gusto_free(result);
        return out_error(cli, &err, NULL);
    }
    show_employee(cli, result);
    gusto_free(result);
    return EXIT_OK;
}

/* ---- create and update ------------------------------------------------ */

/* Read and parse the input of create/update.  Returns 0 with *text and
 * *obj set, or an exit status. */
static int read_object(struct cli *cli, const char *path, char **text, json_t **obj)
{
    size_t len;
    int rc = in_read(cli, path, text, &len);
    if (rc)
        return rc;
    *obj = in_parse(cli, *text, len, "input", true, &rc);
    if (!*obj) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

/* Every problem of a create (update = 0) or update input, before anything
 * is sent: 0, or the exit status after reporting them all. */
static int check_input(struct cli *cli, const char *text, int update)
{
    gusto_error err;
    char *problems = NULL;
    int rc = 0;
    if (gusto_employee_check(text, update, &problems, &err) != GUSTO_OK)
        rc = out_problems(cli, &err, problems);
    gusto_free(problems);
    return rc;
}

int cmd_employees_create(struct cli *cli, int argc, char **argv)
{
    const char *input = NULL;
    bool dry_run = false, allow_dup = false, help;
    const struct cli_opt opts[] = {
        {"--input", "FILE|-", &input, NULL},
        {"--dry-run", NULL, NULL, &dry_run},
        {"--allow-duplicate", NULL, NULL, &allow_dup},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 0, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, cli->command);
    char *text;
    json_t *obj;
    if ((rc = read_object(cli, input, &text, &obj)) != 0)
        return rc;
    gusto_error err;
    if (dry_run) { /* the library checks the input and makes the plan */
        json_t *plan = dryrun_create_plan(cli, text, &rc);
        if (plan)
            rc = dryrun_print(cli, plan);
    } else {
        rc = check_input(cli, text, 0);
    }
    if (rc != 0 || dry_run) {
        json_decref(obj);
        explicit_bzero(text, strlen(text));
        free(text);
        return rc;
    }
    json_decref(obj);
    gusto_client *client = cli_client(cli, &rc);
    if (!client) {
        free(text);
        return rc;
    }
    char *result = NULL;
    gusto_code code = gusto_employee_create_ex(
        client, text, allow_dup ? GUSTO_CREATE_ALLOW_DUPLICATE : 0, &result, &err);
    explicit_bzero(text, strlen(text)); /* it may hold an SSN */
    free(text);
    if (code == GUSTO_EDUPLICATE) {
        json_t *res = result ? json_loads(result, 0, NULL) : NULL;
        const char *u = json_string_value(
            json_object_get(json_object_get(res, "duplicate_of"), "uuid"));
        snprintf(err.hint, sizeof err.hint,
                 "see it with: gusto-connect employees get %.40s; to create a second record for "
                 "the same person anyway, add --allow-duplicate", u ? u : "UUID");
        rc = out_error_extra(cli, &err, NULL, "duplicate_of",
                             json_object_get(res, "duplicate_of"));
        json_decref(res);
        gusto_free(result);
        return rc;
    }
    if (code != GUSTO_OK && code != GUSTO_EPARTIAL) {
        gusto_free(result);
        return out_error(cli, &err, NULL);
    }
    if (!result)
        return out_fail(cli, EXIT_GENERAL, "malformed_response",
                        "the library returned no result for a created employee", NULL, NULL);
    json_t *res = json_loads(result, 0, NULL);
    if (cli->json_out) {
        out_ok_text(result, strlen(result));
    } else {
        printf("Created employee %s.\n\n",
               json_string_value(json_object_get(json_object_get(res, "employee"), "uuid"))
                   ?: "(uuid unknown)");
        view_employee(json_object_get(res, "employee"), NULL);
    }
    if (code == GUSTO_EPARTIAL) {
        view_warnings(cli, json_object_get(res, "warnings"));
        if (!cli->quiet) {
            fputs("gusto-connect: ", stderr);
            out_text(stderr, err.message);
            fputc('\n', stderr);
        }
    }
    json_decref(res);
    gusto_free(result);
    return code == GUSTO_OK ? EXIT_OK : EXIT_PARTIAL;
}

/* For --dry-run of a pay change: read the employee (nothing is written)
 * and put the old and new pay in *pay.  0 or the exit code of a failed
 * read. */
static int read_pay(struct cli *cli, const char *uuid, const json_t *input, bool correct,
                    json_t **pay, json_t **employee)
{
    int rc;
    *pay = *employee = NULL;
    gusto_client *client = cli_client(cli, &rc);
    if (!client)
        return rc;
    char *got = NULL;
    gusto_error err;
    if (gusto_employee_get(client, uuid, &got, &err) != GUSTO_OK) {
        gusto_free(got);
        return out_error(cli, &err, NULL);
    }
    *employee = json_loads(got, 0, NULL);
    gusto_free(got);
    *pay = dryrun_pay(input, *employee, correct);
    return 0;
}

int cmd_employees_update(struct cli *cli, int argc, char **argv)
{
    const char *input = NULL;
    bool dry_run = false, correct = false, help;
    const struct cli_opt opts[] = {
        {"--input", "FILE|-", &input, NULL},
        {"--dry-run", NULL, NULL, &dry_run},
        {"--correct", NULL, NULL, &correct},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1], *uuid = NULL;
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 1, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, cli->command);
    if ((rc = one_uuid(cli, npos, pos, &uuid)) != 0)
        return rc;
    char *text;
    json_t *obj;
    if ((rc = read_object(cli, input, &text, &obj)) != 0)
        return rc;
    gusto_error err;
    if ((rc = check_input(cli, text, 1)) != 0 || dry_run) {
        if (rc == 0 && !cli_is_uuid(uuid)) {
            char msg[200];
            snprintf(msg, sizeof msg, "employee UUID \"%.60s\" is not a UUID", uuid);
            rc = out_fail(cli, EXIT_VALIDATION, "invalid_input", msg, "employee_uuid",
                          "find the UUID with: gusto-connect employees list --search NAME");
        } else if (rc == 0) {
            json_t *pay = NULL, *emp = NULL;
            if (json_object_size(json_object_get(obj, "compensation")) &&
                (rc = read_pay(cli, uuid, obj, correct, &pay, &emp)) != 0) {
                json_decref(obj);
                explicit_bzero(text, strlen(text));
                free(text);
                return rc;
            }
            rc = dryrun_print_pay(cli, dryrun_update_plan(obj, uuid, correct, emp), pay);
            json_decref(emp);
        }
        json_decref(obj);
        explicit_bzero(text, strlen(text));
        free(text);
        return rc;
    }
    json_decref(obj);
    gusto_client *client = cli_client(cli, &rc);
    if (!client) {
        free(text);
        return rc;
    }
    char *result = NULL;
    unsigned flags = GUSTO_UPDATE_REPORT | (correct ? GUSTO_UPDATE_CORRECT_PAY : 0);
    gusto_code code = gusto_employee_update_ex(client, uuid, text, flags, &result, &err);
    explicit_bzero(text, strlen(text));
    free(text);
    if (code != GUSTO_OK) {
        json_t *report = result ? json_loads(result, 0, NULL) : NULL;
        gusto_free(result);
        rc = out_error_extra(cli, &err, NULL, "update", report);
        if (report && (!cli->json_out || !cli->quiet))
            view_update_report(report);
        json_decref(report);
        return rc;
    }
    if (!result)
        return out_fail(cli, EXIT_GENERAL, "malformed_response",
                        "the library returned no result for the update", NULL, NULL);
    show_employee(cli, result);
    gusto_free(result);
    return EXIT_OK;
}
