/* session.c - turns the global options into a gusto_client: environment,
 * access token (environment or stdin, never argv), trace to stderr. */
#include "cli/cli.h"
#include "cli/output.h"
#include "shared/uuidtext.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#define TOKEN_MAX 8192

const char *cli_env_url(const char *env)
{
    if (!env)
        return NULL;
    if (strcasecmp(env, "demo") == 0 || strcasecmp(env, "sandbox") == 0)
        return GUSTO_DEMO_URL;
    if (strcasecmp(env, "production") == 0 || strcasecmp(env, "prod") == 0)
        return GUSTO_PRODUCTION_URL;
    if ((strncasecmp(env, "https://", 8) == 0 && env[8]) ||
        (strncasecmp(env, "http://", 7) == 0 && env[7]))
        return env;
    return NULL;
}

bool cli_is_uuid(const char *s)
{
    return uuid_text_ok(s);
}

static void wipe(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
}

/* One line from stdin, without echo when stdin is a terminal. */
static char *read_token_line(void)
{
    struct termios saved, quiet;
    bool tty = isatty(0) == 1 && tcgetattr(0, &saved) == 0;
    if (tty) {
        fputs("gusto-connect: access token: ", stderr);
        fflush(stderr);
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(0, TCSAFLUSH, &quiet);
    }
    char *buf = malloc(TOKEN_MAX + 2);
    size_t n = 0;
    int ch = 0;
    if (buf) {
        /* With --token-stdin, stdin carries the token and nothing else. */
        while ((ch = getchar()) != EOF && ch != '\n' && n <= TOKEN_MAX)
            buf[n++] = (char)ch;
        buf[n] = 0;
    }
    if (tty) {
        tcsetattr(0, TCSAFLUSH, &saved);
        fputc('\n', stderr);
    }
    if (buf && n > TOKEN_MAX) {
        explicit_bzero(buf, n);
        free(buf);
        return NULL;
    }
    return buf;
}

int cli_read_token(struct cli *cli)
{
    if (cli->token)
        return 0;
    if (cli->token_stdin) {
        cli->token = read_token_line();
        if (!cli->token)
            return out_fail(cli, EXIT_AUTH, "authentication_failed",
                            "--token-stdin: the token on stdin is longer than 8192 bytes",
                            NULL, "pipe just the access token, on one line");
    } else {
        const char *env = getenv("GUSTO_ACCESS_TOKEN");
        if (env && (cli->token = strdup(env)) == NULL)
            return out_fail(cli, EXIT_GENERAL, "out_of_memory", "out of memory", NULL, NULL);
    }
    if (!cli->token)
        return 0;
    /* Trim the white space a file or `echo` leaves around a token. */
    size_t n = strlen(cli->token);
    while (n > 0 && isspace((unsigned char)cli->token[n - 1]))
        cli->token[--n] = 0;
    size_t lead = strspn(cli->token, " \t");
    if (lead)
        memmove(cli->token, cli->token + lead, n - lead + 1);
    for (const char *p = cli->token; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return out_fail(cli, EXIT_AUTH, "authentication_failed",
                            "the access token contains a space or a control character",
                            NULL, "check GUSTO_ACCESS_TOKEN or what is piped to --token-stdin");
    return 0;
}

static void trace_line(void *userdata, const char *line)
{
    (void)userdata;
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    char buf[2048];
    snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf - 1 ? n : sizeof buf - 1), line);
    fputs("gusto-connect: ", stderr);
    out_text(stderr, buf);
    fputc('\n', stderr);
}

gusto_client *cli_client(struct cli *cli, int *exit_code)
{
    *exit_code = 0;
    if (cli->client)
        return cli->client;
    if (cli->described) { /* completion: a command never gets this far, and never sends */
        *exit_code = EXIT_USAGE;
        return NULL;
    }
    if ((*exit_code = cli_read_token(cli)) != 0)
        return NULL;
    if (cli->token_stdin && (!cli->token || !*cli->token)) {
        *exit_code = out_fail(cli, EXIT_AUTH, "authentication_failed",
                              "no access token: --token-stdin read an empty line", NULL,
                              "pipe the token with --token-stdin, or use gusto-connect connect");
        return NULL;
    }
    /* No token given: the stored connection (gusto-connect connect) supplies the
     * environment, the company and tokens that refresh themselves. */
    bool stored = !cli->token || !*cli->token;
    gusto_options o = {
        .base_url = cli_env_url(cli->env),
        .access_token = stored ? NULL : cli->token,
        .company_uuid = cli->company,
        .timeout_ms = cli->timeout_ms,
        .max_retries = cli->max_retries,
        .rate_limit = cli->rate_limit,
        .trace = cli->verbose ? trace_line : NULL,
        .on_wait = cli_on_wait,
        .wait_userdata = cli,
    };
    cli_client_options(cli, &o);
    gusto_error err;
    cli->client = stored ? gusto_client_new_stored(&o, cli->store, cli->connection, &err)
                         : gusto_client_new(&o, &err);
    if (!cli->client) {
        *exit_code = cli_client_failed(cli, &err, stored, !stored);
        return NULL;
    }
    cli_version_warning(cli, cli->client);
    return cli->client;
}

void cli_client_options(const struct cli *cli, gusto_options *o)
{
    o->api_version = cli->api_version;
    o->today = cli->today;
}

int cli_client_failed(struct cli *cli, gusto_error *err, bool stored, bool einval_usage)
{
    bool version = strcmp(err->field, "api_version") == 0 || strcmp(err->field, "today") == 0;
    if (version && !err->hint[0])
        snprintf(err->hint, sizeof err->hint,
                 strcmp(err->field, "today") == 0
                     ? "GUSTO_TODAY takes a date YYYY-MM-DD"
                     : "give one of them with --api-version or GUSTO_API_VERSION, or neither "
                       "for the default (%s)", GUSTO_API_VERSION);
    bool mismatch = strcmp(err->reason, "environment_mismatch") == 0;
    if (mismatch) {
        /* Name the setting that chose the other environment. */
        snprintf(err->hint, sizeof err->hint,
                 "the environment came from %s=%.60s; unset it (the connection knows its "
                 "own), or choose a connection made for it (gusto-connect status lists them)",
                 cli->env_source ? cli->env_source : "--env", cli->env ? cli->env : "?");
        err->reason[0] = 0;
    }
    if (stored && err->code == GUSTO_EAUTH && !err->hint[0])
        snprintf(err->hint, sizeof err->hint,
                 "set GUSTO_ACCESS_TOKEN, pipe it with --token-stdin, or run gusto-connect connect");
    int rc = out_error(cli, err, NULL);
    /* A client refused for its settings is a problem with the options. */
    return err->code == GUSTO_EINVAL && (einval_usage || version || mismatch) ? EXIT_USAGE : rc;
}

int cli_check_version(struct cli *cli)
{
    gusto_options o = {0};
    cli_client_options(cli, &o);
    gusto_error err;
    gusto_client *c = gusto_client_new(&o, &err);
    if (!c)
        return cli_client_failed(cli, &err, false, true);
    gusto_client_free(c);
    return 0;
}

void cli_version_warning(struct cli *cli, const gusto_client *client)
{
    if (cli->version_warned || cli->quiet || !client)
        return;
    gusto_api_version_info v;
    gusto_client_api_version_info(client, &v);
    bool soon = v.days_to_sunset >= 0 && v.days_to_sunset <= 90;
    if (v.status != GUSTO_API_DEPRECATED && v.status != GUSTO_API_LIMITED && !soon)
        return;
    cli->version_warned = true;
    char when[64] = "on a date Gusto has not set";
    if (v.sunset[0])
        snprintf(when, sizeof when, "after %s (%ld day%s)", v.sunset, v.days_to_sunset,
                 v.days_to_sunset == 1 ? "" : "s");
    fprintf(stderr, "gusto-connect: warning: Gusto API version %s is %s; Gusto retires it %s; "
                    "use a newer --api-version (default %s)\n",
            v.version, v.status == GUSTO_API_LIMITED      ? "deprecated (limited support)"
                       : v.status == GUSTO_API_DEPRECATED ? "deprecated"
                                                          : "near its final sunset",
            when, GUSTO_API_VERSION);
}

void cli_cleanup(struct cli *cli)
{
    gusto_client_free(cli->client);
    cli->client = NULL;
    wipe(cli->token);
    free(cli->token);
    cli->token = NULL;
}
