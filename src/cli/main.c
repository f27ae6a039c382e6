/* main.c - the gusto-connect command: global options (anywhere on the line),
 * environment variables, and dispatch to the commands and help. */
#include "cli/cli.h"
#include "cli/output.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A global option.  `value` options take an argument. */
enum gopt { G_ENV, G_COMPANY, G_API_VERSION, G_TIMEOUT, G_RETRIES, G_RATE_LIMIT,
            G_JSON, G_VERBOSE, G_QUIET, G_TOKEN_STDIN, G_VERSION, G_TOKEN, G_CONNECTION,
            G_STORE };

static const struct {
    const char *name, *alias;
    enum gopt id;
    bool value;
} GLOBALS[] = {
    {"--env", NULL, G_ENV, true},
    {"--company", NULL, G_COMPANY, true},
    {"--connection", NULL, G_CONNECTION, true},
    {"--store", NULL, G_STORE, true},
    {"--api-version", NULL, G_API_VERSION, true},
    {"--timeout", NULL, G_TIMEOUT, true},
    {"--retries", NULL, G_RETRIES, true},
    {"--rate-limit", NULL, G_RATE_LIMIT, true},
    {"--json", NULL, G_JSON, false},
    {"--verbose", "-v", G_VERBOSE, false},
    {"--quiet", "-q", G_QUIET, false},
    {"--token-stdin", NULL, G_TOKEN_STDIN, false},
    {"--version", NULL, G_VERSION, false},
    /* Refused: a token on argv shows up in ps, shell history and logs. */
    {"--token", "--access-token", G_TOKEN, false},
};

/* What the global pass found: the first usage error, and the arguments left
 * for the command. */
struct globals {
    char usage[400];
    bool version;
    int argc;
    char **argv;
};

static bool parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

__attribute__((format(printf, 2, 3)))
static void set_usage(struct globals *g, const char *fmt, ...)
{
    if (g->usage[0])
        return; /* the first problem is the one to report */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->usage, sizeof g->usage, fmt, ap);
    va_end(ap);
}

static void apply(struct cli *cli, struct globals *g, enum gopt id, const char *name,
                  const char *v)
{
    long n;
    switch (id) {
    case G_ENV:
        if (!cli_env_url(v))
            set_usage(g, "%s '%.100s' is not demo, production, sandbox or an http(s) URL",
                      name, v);
        cli->env = v;
        cli->env_source = "--env";
        break;
    case G_COMPANY:
        cli->company = v;
        break;
    case G_CONNECTION:
        cli->connection = v;
        break;
    case G_STORE:
        cli->store = v;
        break;
    case G_API_VERSION:
        cli->api_version = v;
        break;
    case G_TIMEOUT: {
        char *end;
        errno = 0;
        double s = strtod(v, &end);
        if (errno || end == v || *end || !(s > 0 && s <= 86400))
            set_usage(g, "%s '%.40s' is not a number of seconds between 0 and 86400", name, v);
        else
            cli->timeout_ms = (long)(s * 1000 + 0.5) > 0 ? (long)(s * 1000 + 0.5) : 1;
        break;
    }
    case G_RETRIES:
        if (!parse_long(v, 0, 100, &n))
            set_usage(g, "%s '%.40s' is not a whole number from 0 to 100", name, v);
        else
            cli->max_retries = n == 0 ? -1 : (int)n;
        break;
    case G_RATE_LIMIT:
        if (!parse_long(v, 0, 1000000, &n))
            set_usage(g, "%s '%.40s' is not a whole number of requests per minute (0: no "
                         "limit)", name, v);
        else
            cli->rate_limit = n == 0 ? -1 : (int)n;
        break;
    case G_JSON:
        cli->json = true;
        break;
    case G_VERBOSE:
        cli->verbose = true;
        break;
    case G_QUIET:
        cli->quiet = true;
        break;
    case G_TOKEN_STDIN:
        cli->token_stdin = true;
        break;
    case G_VERSION:
        g->version = true;
        break;
    case G_TOKEN:
        set_usage(g, "%s is refused: a token on the command line leaks into shell history and "
                     "the process list; set GUSTO_ACCESS_TOKEN or pipe it with "
                     "--token-stdin", name);
        break;
    }
}

/* Take the global options out of argv, wherever they are; keep the rest,
 * in order, for the command.  After "--" everything belongs to the command. */
static void parse_globals(struct cli *cli, struct globals *g, int argc, char **argv)
{
    g->argv = calloc((size_t)argc + 1, sizeof *g->argv);
    g->argc = 0;
    if (!g->argv) {
        set_usage(g, "out of memory");
        return;
    }
    bool rest = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (rest || a[0] != '-' || strcmp(a, "-") == 0) {
            g->argv[g->argc++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            rest = true;
            g->argv[g->argc++] = argv[i];
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        int hit = -1;
        for (size_t k = 0; k < sizeof GLOBALS / sizeof GLOBALS[0]; k++) {
            const char *al = GLOBALS[k].alias;
            if ((strlen(GLOBALS[k].name) == nl && strncmp(a, GLOBALS[k].name, nl) == 0) ||
                (al && strlen(al) == nl && strncmp(a, al, nl) == 0))
                hit = (int)k;
        }
        if (hit < 0) {
            /* A command's option: keep it with its value, unread. */
            g->argv[g->argc++] = argv[i];
            if (!eq && cli_command_option_takes_value(a) && i + 1 < argc)
                g->argv[g->argc++] = argv[++i];
            continue;
        }
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(nl < 31 ? nl : 31), a);
        if (GLOBALS[hit].id == G_TOKEN) {
            /* Step over the value so it is never echoed or taken for a command. */
            if (!eq && i + 1 < argc && argv[i + 1][0] != '-')
                i++;
            apply(cli, g, G_TOKEN, name, NULL);
        } else if (!GLOBALS[hit].value) {
            if (eq)
                set_usage(g, "option %s takes no value", name);
            else
                apply(cli, g, GLOBALS[hit].id, name, NULL);
        } else if (eq) {
            apply(cli, g, GLOBALS[hit].id, name, eq + 1);
        } else if (i + 1 < argc) {
            apply(cli, g, GLOBALS[hit].id, name, argv[++i]);
        } else {
            set_usage(g, "option %s needs a value (%s)", name,
                      GLOBALS[hit].id == G_ENV ? "demo, production, sandbox or a URL"
                      : GLOBALS[hit].id == G_COMPANY ? "a company UUID"
                      : GLOBALS[hit].id == G_API_VERSION ? "e.g. " GUSTO_API_VERSION
                      : GLOBALS[hit].id == G_TIMEOUT ? "seconds"
                                                     : "a number");
        }
    }
    g->argv[g->argc] = NULL;
}

/* Settings from the environment, where no option gave them. */
static void apply_environment(struct cli *cli, struct globals *g)
{
    const char *v;
    if (!cli->env && (v = getenv("GUSTO_API_BASE_URL")) && *v) {
        cli->env = v;
        cli->env_source = "GUSTO_API_BASE_URL";
    }
    if (!cli->env && (v = getenv("GUSTO_ENV")) && *v) {
        cli->env = v;
        cli->env_source = "GUSTO_ENV";
    }
    if (cli->env && !cli_env_url(cli->env))
        set_usage(g, "%s '%.100s' is not demo, production, sandbox or an http(s) URL",
                  cli->env_source, cli->env);
    if (!cli->api_version && (v = getenv("GUSTO_API_VERSION")) && *v)
        cli->api_version = v;
    if ((v = getenv("GUSTO_TODAY")) && *v)
        cli->today = v;
    if (!cli->connection && (v = getenv("GUSTO_CONNECTION")) && *v)
        cli->connection = v;
    const char *source = "--company";
    if (!cli->company && (v = getenv("GUSTO_COMPANY_UUID")) && *v) {
        cli->company = v;
        source = "GUSTO_COMPANY_UUID";
    }
    if (cli->company && !cli_is_uuid(cli->company))
        set_usage(g, "%s '%.60s' is not a company UUID", source, cli->company);
}

static const char *const EMPLOYEE_SUBS[] = {"list", "create", "get", "update", NULL};

static int employees(struct cli *cli, int argc, char **argv)
{
    static int (*const fns[])(struct cli *, int, char **) = {
        cmd_employees_list, cmd_employees_create, cmd_employees_get, cmd_employees_update};
    cli->command = "employees";
    if (argc == 0)
        return out_usage(cli, "'gusto-connect employees' needs a subcommand: list, create, get or "
                              "update");
    if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0)
        return cli_help(cli, "employees");
    for (int i = 0; EMPLOYEE_SUBS[i]; i++) {
        if (strcmp(argv[0], EMPLOYEE_SUBS[i]) == 0) {
            static char name[32];
            snprintf(name, sizeof name, "employees %s", EMPLOYEE_SUBS[i]);
            cli->command = name;
            return fns[i](cli, argc - 1, argv + 1);
        }
    }
    return out_usage(cli, "unknown subcommand 'employees %.60s' (expected list, create, get "
                          "or update)", argv[0]);
}

/* `gusto-connect help employees list` and `gusto-connect --help employees`: the words up to
 * the first option name the command. */
static int help(struct cli *cli, int argc, char **argv)
{
    char name[64] = "";
    size_t n = 0;
    for (int i = 0; i < argc && argv[i][0] != '-'; i++) {
        int w = snprintf(name + n, sizeof name - n, "%s%s", n ? " " : "", argv[i]);
        if (w < 0 || (size_t)w >= sizeof name - n)
            break;
        n += (size_t)w;
    }
    return cli_help(cli, name);
}

static int dispatch(struct cli *cli, int argc, char **argv)
{
    cli->command = "";
    if (argc == 0)
        return out_usage(cli, "no command given (expected employees, batch, time-off, api, "
                              "connect, status, disconnect, sync, profile or help)");
    const char *c = argv[0];
    if (strcmp(c, "help") == 0)
        return help(cli, argc - 1, argv + 1);
    if (strcmp(c, "-h") == 0 || strcmp(c, "--help") == 0)
        return help(cli, argc - 1, argv + 1);
    if (strcmp(c, "employees") == 0)
        return employees(cli, argc - 1, argv + 1);
    if (strcmp(c, "batch") == 0)
        return cmd_batch(cli, argc - 1, argv + 1);
    if (strcmp(c, "time-off") == 0) {
        cli->command = "time-off";
        return cmd_time_off(cli, argc - 1, argv + 1);
    }
    if (strcmp(c, "api") == 0) {
        cli->command = "api";
        return cmd_api(cli, argc - 1, argv + 1);
    }
    if (strcmp(c, "connect") == 0) {
        cli->command = "connect";
        return cmd_connect(cli, argc - 1, argv + 1);
    }
    if (strcmp(c, "status") == 0) {
        cli->command = "status";
        return cmd_status(cli, argc - 1, argv + 1);
    }
    if (strcmp(c, "disconnect") == 0) {
        cli->command = "disconnect";
        return cmd_disconnect(cli, argc - 1, argv + 1);
    }
    if (strcmp(c, "sync") == 0) {
        cli->command = "sync";
        return cmd_sync(cli, argc - 1, argv + 1);
    }
    if (strcmp(c, "serve") == 0) {
        cli->command = "serve";
        return cmd_serve(cli, argc - 1, argv + 1);
    }
    if (strcmp(c, "profile") == 0) {
        cli->command = "profile";
        return cmd_profile(cli, argc - 1, argv + 1);
    }
    if (strcmp(c, "mcp") == 0) {
        cli->command = "mcp";
        return cmd_mcp(cli, argc - 1, argv + 1);
    }
    if (c[0] == '-')
        return out_usage(cli, "unknown option '%.60s' (global options: --env, --company, "
                              "--api-version, --timeout, --retries, --rate-limit, "
                              "--token-stdin, --connection, --store, --json, --verbose, "
                              "--quiet, --version)", c);
    const char *near = strcmp(c, "employee") == 0 ? " (did you mean 'employees'?)"
                       : strcmp(c, "timeoff") == 0 || strcmp(c, "time_off") == 0
                           ? " (did you mean 'time-off'?)"
                           : "";
    return out_usage(cli, "unknown command '%.60s'%s (expected employees, batch, time-off, "
                          "api, connect, status, disconnect, sync, profile or help)", c, near);
}

int main(int argc, char **argv)
{
    struct cli cli = {0};
    struct globals g = {0};
    parse_globals(&cli, &g, argc, argv);
    apply_environment(&cli, &g);
    cli.json_out = cli.json || !out_is_tty(1);
    cli.command = "";
    int rc;
    if (g.usage[0])
        rc = out_usage(&cli, "%s", g.usage);
    else if (g.version) {
        printf("gusto-connect %s (libgusto, Gusto API %s by default)\n", GUSTO_CLI_VERSION,
               GUSTO_API_VERSION);
        rc = EXIT_OK;
    } else {
        rc = dispatch(&cli, g.argc, g.argv);
    }
    cli_cleanup(&cli);
    free(g.argv);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "gusto-connect: error: could not write the output: %s\n", strerror(errno));
        if (rc == EXIT_OK)
            rc = EXIT_GENERAL;
    }
    return rc;
}
