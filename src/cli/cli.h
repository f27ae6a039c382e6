/* cli.h - the state of one `gusto-connect` run (global options, the client) and the
 * entry points shared by the CLI's files: option matching, help, commands. */
#ifndef GUSTO_CLI_H
#define GUSTO_CLI_H

#include "gusto.h"

#include <stdbool.h>

#define GUSTO_CLI_VERSION GUSTO_VERSION /* one version for the CLI and libgusto */

/* Exit statuses, as Gusto's own CLI numbers them. */
enum {
    EXIT_OK = 0,
    EXIT_GENERAL = 1,
    EXIT_USAGE = 2,
    EXIT_AUTH = 3,
    EXIT_API_CLIENT = 4,
    EXIT_API_SERVER = 5,
    EXIT_NETWORK = 6,
    EXIT_VALIDATION = 7,
    EXIT_PARTIAL = 8,
    EXIT_CONFIRM = 9,        /* gusto-connect sync: needs --confirm (mass termination) */
    EXIT_LEASED = 10,        /* gusto-connect sync: a company was skipped, another live worker
                                holds its lease */
    EXIT_INTERRUPTED = 130,  /* gusto-connect sync: stopped by SIGINT/SIGTERM, leases released */
    EXIT_DUPLICATE = 11,     /* employees create: the person exists; --allow-duplicate */
};

/* One run of the program.  Strings point into argv or the environment,
 * except `token`, which the run owns and wipes. */
struct cli {
    const char *env;          /* --env, GUSTO_API_BASE_URL or GUSTO_ENV; NULL: demo */
    const char *env_source;   /* which of those set it, for messages */
    const char *company;      /* --company or GUSTO_COMPANY_UUID */
    const char *api_version;  /* --api-version or GUSTO_API_VERSION */
    const char *today;        /* GUSTO_TODAY (a testing aid): the version checks' date */
    bool version_warned;      /* the deprecation warning was printed */
    long timeout_ms;          /* 0: the library's default */
    int max_retries;          /* as gusto_options wants it: 0 default, <0 never */
    int rate_limit;           /* as gusto_options wants it: 0 default, <0 unlimited */
    bool token_stdin;         /* the token was (or is to be) read from stdin */
    bool json;                /* --json */
    bool verbose;             /* --verbose */
    bool quiet;               /* --quiet */
    bool json_out;            /* print envelopes: --json or stdout is not a tty */
    char *token;              /* owned; from --token-stdin or GUSTO_ACCESS_TOKEN */
    const char *connection;   /* --connection or GUSTO_CONNECTION; NULL: the only one */
    const char *store;        /* --store; NULL: the library's default path */
    const char *command;      /* "employees list", for messages and help */
    gusto_client *client;     /* made on first use by cli_client() */
};

/* ---- session.c ---- */

/* The client for this run, created on first call from the global options.
 * Returns NULL after printing the error; *exit_code receives the status. */
gusto_client *cli_client(struct cli *cli, int *exit_code);

/* Options every client of this run shares: the API version and the date
 * its checks use.  Call before gusto_client_new(). */
void cli_client_options(const struct cli *cli, gusto_options *o);

/* After gusto_client_new() failed: prints err and returns the exit status
 * (EXIT_USAGE for a refused API version, and for any GUSTO_EINVAL when
 * einval_usage), with a hint when the version was refused or, for a stored
 * connection, the token is missing. */
int cli_client_failed(struct cli *cli, gusto_error *err, bool stored, bool einval_usage);

/* Check the API version options alone (nothing is sent): 0, or the exit
 * status after printing why the version is refused. */
int cli_check_version(struct cli *cli);

/* One line on stderr, once a run, when the client's API version is
 * deprecated or within 90 days of its retirement (not with --quiet). */
void cli_version_warning(struct cli *cli, const gusto_client *client);

/* Read the access token: one line from stdin when --token-stdin was given,
 * else GUSTO_ACCESS_TOKEN.  Returns 0, or an exit status after printing. */
int cli_read_token(struct cli *cli);

/* The base URL for an --env value: "demo" and "sandbox" are Gusto Demo,
 * "production" is Gusto; an http(s):// URL is itself.  NULL otherwise. */
const char *cli_env_url(const char *env);

/* Is s a UUID (8-4-4-4-12 hex digits)? */
bool cli_is_uuid(const char *s);

/* Release the client and wipe the token. */
void cli_cleanup(struct cli *cli);

/* ---- args.c ---- */

/* One option of a command.  Exactly one of `value` (the option takes an
 * argument) and `flag` is set. */
struct cli_opt {
    const char *name;         /* "--search" */
    const char *metavar;      /* "TERM" for usage messages; NULL for flags */
    const char **value;
    bool *flag;
};

/* Match argv against opts.  Positional arguments go to pos[] (at most
 * max_pos, *npos receives the count); "--" ends options; "--name=value" and
 * "--name value" both work.  -h/--help sets *help and stops.  Returns 0, or
 * EXIT_USAGE after printing a message that names the bad argument. */
int cli_args(struct cli *cli, int argc, char **argv, const struct cli_opt *opts,
             const char **pos, int max_pos, int *npos, bool *help);

/* Does `arg` name an option of any command that takes a value?  Used by
 * the global pass so that "--search --json" keeps --json as the term. */
bool cli_command_option_takes_value(const char *arg);

/* ---- help.c ---- */

/* Print the usage of `command` ("" or NULL: the whole program; "employees",
 * "employees list", ...) to stdout.  Returns 0, or EXIT_USAGE for an unknown
 * command (after printing the error). */
int cli_help(struct cli *cli, const char *command);

/* True when `command` has a help text. */
bool cli_help_known(const char *command);

/* ---- commands ---- */

int cmd_employees_list(struct cli *cli, int argc, char **argv);
int cmd_employees_create(struct cli *cli, int argc, char **argv);
int cmd_employees_get(struct cli *cli, int argc, char **argv);
int cmd_employees_update(struct cli *cli, int argc, char **argv);
int cmd_time_off(struct cli *cli, int argc, char **argv);
int cmd_api(struct cli *cli, int argc, char **argv);
int cmd_connect(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_disconnect(struct cli *cli, int argc, char **argv);
int cmd_sync(struct cli *cli, int argc, char **argv);
int cmd_profile(struct cli *cli, int argc, char **argv);
/* `gusto-connect mcp --employee EMAIL` (cmd_mcp.c, src/serve/mcp.c): MCP over stdio. */
int cmd_mcp(struct cli *cli, int argc, char **argv);
/* `gusto-connect batch create|status` (cmd_batch.c): the subcommand is argv[0]. */
int cmd_batch(struct cli *cli, int argc, char **argv);
/* `gusto-connect serve`, `gusto-connect serve keys ...` (cmd_serve.c, src/serve/). */
int cmd_serve(struct cli *cli, int argc, char **argv);

#endif
