/* cmd_misc.c - `gusto-connect time-off UUID` (balances and activities) and
 * `gusto-connect api METHOD PATH` (any request, raw body out). */
#include "cli/cli.h"
#include "cli/input.h"
#include "cli/output.h"
#include "cli/views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_time_off(struct cli *cli, int argc, char **argv)
{
    const char *type = NULL;
    bool help;
    const struct cli_opt opts[] = {
        {"--type", "vacation|sick|all", &type, NULL},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 1, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, cli->command);
    if (npos == 0)
        return out_usage(cli, "missing the employee's UUID: gusto-connect time-off UUID "
                              "[--type vacation|sick|all]");
    if (type && strcmp(type, "vacation") && strcmp(type, "sick") && strcmp(type, "all"))
        return out_usage(cli, "--type '%.40s' is not vacation, sick or all", type);
    if (type && strcmp(type, "all") == 0)
        type = NULL;
    gusto_client *client = cli_client(cli, &rc);
    if (!client)
        return rc;
    char *result = NULL;
    gusto_error err;
    if (gusto_time_off(client, pos[0], type, &result, &err) != GUSTO_OK) {
        gusto_free(result);
        return out_error(cli, &err, NULL);
    }
    if (cli->json_out) {
        out_ok_text(result, strlen(result));
    } else {
        json_t *t = json_loads(result, 0, NULL);
        if (t)
            view_time_off(cli, t);
        else
            puts(result);
        json_decref(t);
    }
    gusto_free(result);
    return EXIT_OK;
}

/* Print a successful `gusto-connect api` body: in the envelope as parsed JSON
 * (text that is not JSON becomes a string), or as it came on a terminal. */
static void show_body(struct cli *cli, const char *body)
{
    size_t len = body ? strlen(body) : 0;
    if (!cli->json_out) {
        if (len) {
            fwrite(body, 1, len, stdout);
            if (body[len - 1] != '\n')
                fputc('\n', stdout);
        }
        return;
    }
    json_t *j = len ? json_loads(body, JSON_DECODE_ANY, NULL) : NULL;
    if (j || !len) {
        /* Valid JSON goes out as sent: no re-encoding of numbers. */
        out_ok_text(body, len);
    } else {
        json_t *s = json_stringn(body, len);
        out_ok_json(s);
        json_decref(s);
    }
    json_decref(j);
}

int cmd_api(struct cli *cli, int argc, char **argv)
{
    const char *data = NULL, *input = NULL;
    bool help;
    const struct cli_opt opts[] = {
        {"--data", "JSON", &data, NULL},
        {"--input", "FILE|-", &input, NULL},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[2];
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 2, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, cli->command);
    if (npos < 2)
        return out_usage(cli, "missing %s: gusto-connect api METHOD PATH [--data JSON | --input "
                              "FILE|-]", npos == 0 ? "the METHOD and PATH" : "the PATH");
    if (data && input)
        return out_usage(cli, "--data and --input both give the body; give one");
    char *body = NULL;
    size_t len = 0;
    const char *what = "--data";
    if (input) {
        if ((rc = in_read(cli, input, &body, &len)) != 0)
            return rc;
        what = "input";
    } else if (data) {
        body = strdup(data);
        len = strlen(data);
        if (!body)
            return out_fail(cli, EXIT_GENERAL, "out_of_memory", "out of memory", NULL, NULL);
    }
    if (body) {
        json_t *j = in_parse(cli, body, len, what, false, &rc);
        if (!j) {
            free(body);
            return rc;
        }
        json_decref(j);
    }
    gusto_client *client = cli_client(cli, &rc);
    if (!client) {
        free(body);
        return rc;
    }
    long status = 0;
    char *out = NULL;
    gusto_error err;
    gusto_code code = gusto_request(client, pos[0], pos[1], body, &status, &out, &err);
    if (body)
        explicit_bzero(body, len);
    free(body);
    if (code != GUSTO_OK)
        rc = out_error(cli, &err, out);
    else
        show_body(cli, out);
    gusto_free(out);
    return rc;
}
