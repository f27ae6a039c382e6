/* main.c - the gusto-connect command: global options (anywhere on the line),
 * environment variables, and dispatch to the commands and help. */
#include "cli/cli.h"
#include "cli/output.h"
#include "cli/term.h"
#include "sync/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A global option.  `value` options take an argument. */
enum gopt { G_ENV, G_COMPANY, G_API_VERSION, G_TIMEOUT, G_RETRIES, G_RATE_LIMIT,
            G_JSON, G_VERBOSE, G_QUIET, G_TOKEN_STDIN, G_VERSION, G_TOKEN, G_CONNECTION,
            G_STORE, G_OUTPUT, G_FIELDS, G_NO_COLOR };

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
    {"--output", "-o", G_OUTPUT, true},
    {"--fields", NULL, G_FIELDS, true},
    {"--no-color", "--no-colour", G_NO_COLOR, false},
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
        cli->output = OUTPUT_JSON;
        break;
    case G_OUTPUT: {
        static const char *const names[] = {"json", "table", "ndjson", "wide"};
        static const int modes[] = {OUTPUT_JSON, OUTPUT_TABLE, OUTPUT_NDJSON, OUTPUT_WIDE};
        int m = -1;
        for (int k = 0; k < 4; k++)
            if (strcmp(v, names[k]) == 0)
                m = modes[k];
        if (m < 0)
            set_usage(g, "%s '%.40s' is not json, table, ndjson or wide", name, v);
        else
            cli->output = m;
        cli->json = m == OUTPUT_JSON;
        break;
    }
    case G_FIELDS:
        cli->fields = v;
        break;
    case G_NO_COLOR:
        cli->no_color = true;
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
    /* GUSTO_ENVIRONMENT is Gusto's own CLI's name (sandbox|production),
     * GUSTO_ENV ours; GUSTO_API_BASE_URL wins over both, as in Gusto's CLI.
     * Two of them naming different Gusto environments is a mistake to show,
     * not to settle by precedence (a loopback base URL is not one). */
    static const char *const names[] = {"GUSTO_API_BASE_URL", "GUSTO_ENV", "GUSTO_ENVIRONMENT"};
    const char *vals[3];
    for (size_t i = 0; i < 3; i++) {
        vals[i] = getenv(names[i]);
        if (vals[i] && !*vals[i])
            vals[i] = NULL;
        if (!cli->env && vals[i] && !cli_env_url(vals[i]))
            set_usage(g, "%s '%.100s' is not demo, production, sandbox or an http(s) URL",
                      names[i], vals[i]);
    }
    for (size_t i = 0; i < 3 && !cli->env; i++)
        for (size_t j = i + 1; j < 3; j++) {
            const char *u = cli_env_url(vals[i]), *w = cli_env_url(vals[j]);
            bool gusto = u && (strcmp(u, GUSTO_DEMO_URL) == 0 ||
                               strcmp(u, GUSTO_PRODUCTION_URL) == 0);
            if (u && w && (i > 0 || gusto) && strcmp(u, w) != 0)
                set_usage(g, "%s=%.100s and %s=%.100s name different environments; unset "
                             "one, or choose with --env", names[i], vals[i], names[j],
                          vals[j]);
        }
    for (size_t i = 0; i < 3 && !cli->env; i++)
        if (vals[i]) {
            cli->env = vals[i];
            cli->env_source = names[i];
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
    return cli_unknown_subcommand(cli, "employees", argv[0]);
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

static void print_version(void)
{
    printf("gusto-connect %s (libgusto %s, Gusto API %s by default)\n", GUSTO_CLI_VERSION,
           gusto_version(), GUSTO_API_VERSION);
}

/* `gusto-connect version`: the line of --version, or an envelope on a pipe. */
static int version(struct cli *cli, int argc, char **argv)
{
    bool h;
    const char *pos[1];
    int npos, rc = cli_args(cli, argc, argv, NULL, pos, 0, &npos, &h);
    if (rc || h)
        return rc ? rc : cli_help(cli, "version");
    if (!cli->json_out) {
        print_version();
        return EXIT_OK;
    }
    json_t *d = json_pack("{s:s, s:s, s:s}", "version", GUSTO_CLI_VERSION, "libgusto",
                          gusto_version(), "api_version", GUSTO_API_VERSION);
    out_ok_json(d);
    json_decref(d);
    return EXIT_OK;
}

/* `gusto-connect exit-codes`: the table of exit statuses (help.c). */
static int exit_codes(struct cli *cli, int argc, char **argv)
{
    bool h;
    const char *pos[1];
    int npos, rc = cli_args(cli, argc, argv, NULL, pos, 0, &npos, &h);
    return rc ? rc : cli_help(cli, "exit-codes");
}

/* Every command: the first word, the function, and cli->command for
 * messages (NULL: the function sets it). */
static const struct {
    const char *name;
    int (*fn)(struct cli *, int, char **);
} COMMANDS[] = {
    {"employees", employees},   {"batch", cmd_batch},     {"time-off", cmd_time_off},
    {"api", cmd_api},           {"connect", cmd_connect}, {"status", cmd_status},
    {"disconnect", cmd_disconnect}, {"use", cmd_use},     {"sync", cmd_sync},
    {"profile", cmd_profile},     {"mcp", cmd_mcp},
    {"serve", cmd_serve},       {"version", version},     {"exit-codes", exit_codes},
    {"help", help},
};

static int dispatch(struct cli *cli, int argc, char **argv)
{
    cli->command = "";
    if (argc == 0)
        return cli_help(cli, "");
    const char *c = argv[0];
    if (strcmp(c, "-h") == 0 || strcmp(c, "--help") == 0)
        return help(cli, argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (strcmp(c, COMMANDS[i].name) == 0) {
            cli->command = COMMANDS[i].name;
            return COMMANDS[i].fn(cli, argc - 1, argv + 1);
        }
    if (c[0] == '-') {
        const char *names[sizeof GLOBALS / sizeof GLOBALS[0]];
        size_t n = 0;
        for (size_t i = 0; i < sizeof GLOBALS / sizeof GLOBALS[0]; i++)
            if (GLOBALS[i].id != G_TOKEN)
                names[n++] = GLOBALS[i].name;
        char near[80];
        cli_suggest(c, names, n, near, sizeof near);
        return out_usage(cli, "unknown option '%.60s' (global options: --env, --company, "
                              "--api-version, --timeout, --retries, --rate-limit, "
                              "--token-stdin, --connection, --store, --json, --output, "
                              "--fields, --no-color, --verbose, --quiet, --version%s)", c, near);
    }
    return cli_unknown_subcommand(cli, "", c);
}

/* `gusto-connect __complete WORD... CURRENT`: the global options are taken out of
 * the words as for a real run, then complete.c finds the candidates. */
static int complete(struct cli *cli, int argc, char **argv)
{
    struct globals g = {0};
    struct cli_global globals[sizeof GLOBALS / sizeof GLOBALS[0] + 1];
    size_t n = 0;
    for (size_t i = 0; i < sizeof GLOBALS / sizeof GLOBALS[0]; i++)
        if (GLOBALS[i].id != G_TOKEN)
            globals[n++] = (struct cli_global){GLOBALS[i].name, GLOBALS[i].value};
    globals[n] = (struct cli_global){NULL, false};
    const char *cur = argc > 2 ? argv[argc - 1] : "";
    int nwords = argc > 2 ? argc - 3 : 0;
    /* parse_globals skips argv[0]: hand it "__complete" and the words. */
    parse_globals(cli, &g, nwords + 1, argv + 1);
    apply_environment(cli, &g);
    int rc = cli_complete(cli, globals, nwords, argv + 2, g.argc, g.argv, cur, dispatch);
    free(g.argv);
    return rc;
}

static void store_migrate(struct cli *cli)
{
    /* Both stores used to live in Gusto's own CLI's directories (~/.config/
     * gusto, ~/.local/share/gusto); the libraries move them on first use,
     * and this says so once, when it happens. */
    char from[1024];
    int moved = 0;
    gusto_error err;
    if (!cli->store) {
        if (gusto_store_migrate(from, sizeof from, &moved, &err) != GUSTO_OK)
            fprintf(stderr, "gusto-connect: warning: %s\n", err.message);
        else if (moved && !cli->quiet)
            fprintf(stderr, "gusto-connect: note: moved the connection store from %s to %s "
                            "(Gusto's own CLI keeps its settings in the old directory)\n",
                    from, gusto_store_default_path());
    }
    char why[512] = "";
    int m = mstore_migrate(from, sizeof from, why, sizeof why);
    if (m < 0)
        fprintf(stderr, "gusto-connect: warning: %s\n", why);
    else if (m == 1 && !cli->quiet)
        fprintf(stderr, "gusto-connect: note: moved the sync mirror from %s to its new default "
                        "place (see gusto-connect help sync)\n", from);
}

int main(int argc, char **argv)
{
    struct cli cli = {0};
    struct globals g = {0};
    if (argc > 1 && strcmp(argv[1], "__complete") == 0) {
        int rc = complete(&cli, argc, argv);
        cli_cleanup(&cli);
        return rc;
    }
    parse_globals(&cli, &g, argc, argv);
    apply_environment(&cli, &g);
    term_init_locale();
    /* ndjson reports errors as an envelope line too. */
    cli.json_out = cli.output == OUTPUT_JSON || cli.output == OUTPUT_NDJSON ||
                   (cli.output == OUTPUT_DEFAULT && !out_is_tty(1));
    cli.color = term_color(1, cli.no_color);
    cli.err_color = term_color(2, cli.no_color);
    cli.width = cli.output == OUTPUT_WIDE ? 0 : term_width(1);
    cli.command = "";
    int rc;
    if (g.usage[0])
        rc = out_usage(&cli, "%s", g.usage);
    else if (g.version) {
        print_version();
        rc = EXIT_OK;
    } else {
        if (g.argc > 0 && strcmp(g.argv[0], "help") != 0 && strcmp(g.argv[0], "version") != 0 &&
            strcmp(g.argv[0], "__complete") != 0)
            store_migrate(&cli);
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
