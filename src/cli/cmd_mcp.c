/* cmd_mcp.c - `gusto-connect mcp --employee EMAIL`: the MCP server over
 * stdio (src/serve/mcp.c), one JSON-RPC message a line on stdin and
 * stdout, the session bound by the operator to one employee; refreshes of
 * a stale mirror use the run's token or stored connection; audit lines go
 * to --audit-log or stderr.  Nothing but protocol messages reaches stdout. */
#include "cli/cli.h"
#include "serve/mcp.h"
#include "serve/serve.h"
#include "sync/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct host {
    struct cli *cli;
    FILE *audit;
};

/* A client of the run's own settings (GUSTO_ACCESS_TOKEN, else the stored
 * connection), made quietly: stdout carries the protocol. */
static gusto_client *client_for(void *ud, const char *company)
{
    struct host *h = ud;
    struct cli *cli = h->cli;
    bool stored = !cli->token || !*cli->token;
    gusto_options o = {
        .base_url = cli_env_url(cli->env),
        .access_token = stored ? NULL : cli->token,
        .company_uuid = company,
        .timeout_ms = cli->timeout_ms,
        .max_retries = cli->max_retries,
        .rate_limit = cli->rate_limit,
    };
    cli_client_options(cli, &o);
    gusto_error err;
    return stored ? gusto_client_new_stored(&o, cli->store, cli->connection, &err)
                  : gusto_client_new(&o, &err);
}

static void audit_line(void *ud, const json_t *line)
{
    struct host *h = ud;
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text && h->audit) {
        fprintf(h->audit, "%s\n", text);
        fflush(h->audit);
    }
    free(text);
}

static int usage(const char *msg)
{
    fprintf(stderr, "gusto-connect mcp: %s\n", msg);
    return EXIT_USAGE;
}

int cmd_mcp(struct cli *cli, int argc, char **argv)
{
    const char *email = NULL, *db = NULL, *config = NULL, *max_age = NULL, *audit = NULL;
    bool help;
    const struct cli_opt opts[] = {
        {"--employee", "EMAIL", &email, NULL},
        {"--db", "PATH|postgres://...", &db, NULL},
        {"--config", "FILE", &config, NULL},
        {"--max-age", "SECONDS", &max_age, NULL},
        {"--audit-log", "FILE", &audit, NULL},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 0, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, "mcp");
    if (!email || !*email)
        return usage("missing --employee EMAIL: the employee this session answers for");
    if (!strchr(email, '@') || strlen(email) > 320)
        return usage("--employee takes an email address");
    if (cli->token_stdin)
        return usage("--token-stdin cannot be used: stdin carries the protocol; set "
                     "GUSTO_ACCESS_TOKEN or use a stored connection");
    struct serve_config sc;
    char err[700];
    if (serve_config_load(&sc, config, err, sizeof err) != 0)
        return usage(err);
    long age = sc.mcp_max_age_s;
    if (max_age) {
        char *end;
        errno = 0;
        age = strtol(max_age, &end, 10);
        if (errno || *end || age < 1)
            return usage("--max-age takes a number of seconds (1 or more)");
    }
    char target[1024];
    if (mstore_target(db ? db : sc.mirror[0] ? sc.mirror : NULL, false, target, sizeof target,
                      err, sizeof err) != 0)
        return usage(err);
    if ((rc = cli_read_token(cli)) != 0)
        return rc;

    struct host h = {.cli = cli, .audit = stderr};
    if (audit) {
        h.audit = fopen(audit, "a");
        if (!h.audit) {
            snprintf(err, sizeof err, "cannot open the audit log %.500s: %s", audit,
                     strerror(errno));
            return usage(err);
        }
    }
    struct mcp_caller who = {.name = "stdio"};
    size_t n = strlen(email);
    for (size_t i = 0; i < n && i < sizeof who.employee - 1; i++)
        who.employee[i] = (char)(email[i] >= 'A' && email[i] <= 'Z' ? email[i] - 'A' + 'a'
                                                                     : email[i]);
    snprintf(who.name, sizeof who.name, "stdio:%.100s", who.employee);
    struct mcp_config mc = {.mirror = target, .max_age_s = age,
                            .allow_pay = sc.mcp_allow_pay, .client_for = client_for,
                            .audit = audit_line, .ud = &h};
    struct mcp_session s;
    memset(&s, 0, sizeof s);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len == 0)
            continue;
        json_error_t je;
        json_t *msg = json_loadb(line, (size_t)len, 0, &je);
        json_t *reply = mcp_handle(&mc, &s, &who, msg);
        json_decref(msg);
        if (!reply)
            continue;
        char *text = json_dumps(reply, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(reply);
        if (text) {
            fputs(text, stdout);
            fputc('\n', stdout);
            fflush(stdout);
        }
        free(text);
    }
    free(line);
    if (audit)
        fclose(h.audit);
    return EXIT_OK;
}
