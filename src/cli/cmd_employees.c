/* cmd_employees.c - `gusto-connect employees list|create|get|update`: arguments in,
 * one libgusto call, the result out as an envelope or for a terminal. */
#include "cli/cli.h"
#include "cli/dryrun.h"
#include "cli/input.h"
#include "cli/output.h"
#include "cli/views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- list ----------------------------------------------------------- */

struct list_ctx {
    bool table;
    bool started;   /* the envelope's opening or the table header is out */
};

/* Each employee goes out as it arrives: memory stays flat for any count. */
static int on_employee(void *userdata, const char *json, size_t len)
{
    struct list_ctx *x = userdata;
    if (x->table) {
        if (!x->started)
            view_employee_header();
        json_t *e = json_loadb(json, len, 0, NULL);
        if (e)
            view_employee_row(e);
        json_decref(e);
    } else {
        fputs(x->started ? "," : "{\"ok\":true,\"data\":[", stdout);
        fwrite(json, 1, len, stdout);
    }
    x->started = true;
    return ferror(stdout) ? 1 : 0;
}

int cmd_employees_list(struct cli *cli, int argc, char **argv)
{
    const char *search = NULL, *include = NULL;
    bool terminated = false, active = false, help;
    const struct cli_opt opts[] = {
        {"--search", "TERM", &search, NULL},
        {"--terminated", NULL, NULL, &terminated},
        {"--active", NULL, NULL, &active},
        {"--include", "LIST", &include, NULL},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 0, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, cli->command);
    if (terminated && active)
        return out_usage(cli, "--terminated and --active exclude each other; give one");
    gusto_client *client = cli_client(cli, &rc);
    if (!client)
        return rc;
    gusto_list_options lo = {
        .search_term = search,
        .terminated = terminated ? 1 : active ? 2 : 0,
        .include = include,
    };
    struct list_ctx x = {.table = !cli->json_out};
    size_t total = 0;
    gusto_error err;
    gusto_code code = gusto_employees_list(client, &lo, on_employee, &x, &total, &err);
    if (code == GUSTO_ECANCELED && ferror(stdout))
        return EXIT_GENERAL; /* main() reports the failed write */
    if (code != GUSTO_OK)
        return x.started && !x.table ? out_stream_error(cli, &err) : out_error(cli, &err, NULL);
    if (x.table) {
        if (!x.started)
            puts("No employees found.");
        else if (!cli->quiet)
            printf("\n%zu employee%s\n", total, total == 1 ? "" : "s");
    } else {
        fputs(x.started ? "]}\n" : "{\"ok\":true,\"data\":[]}\n", stdout);
    }
    return EXIT_OK;
}

/* ---- get ------------------------------------------------------------ */

/* Print an employee result (JSON text from the library). */
static void show_employee(struct cli *cli, const char *text)
{
    if (cli->json_out) {
        out_ok_text(text, strlen(text));
        return;
    }
    json_t *e = json_loads(text, 0, NULL);
    if (e)
        view_employee(e);
    else
        puts(text);
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
    if ((rc = check_input(cli, text, 0)) != 0 || dry_run) {
        if (rc == 0)
            rc = dryrun_print(cli, dryrun_create_plan(obj, cli->company));
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
        view_employee(json_object_get(res, "employee"));
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
