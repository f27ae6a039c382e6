/* cli.h - the state of one `gusto-connect` run (global options, the client) and the
 * entry points shared by the CLI's files: option matching, help, commands. */
#ifndef GUSTO_CLI_H
#define GUSTO_CLI_H

#include "gusto.h"

#include <stdbool.h>
#include <stddef.h>

#define GUSTO_CLI_VERSION GUSTO_VERSION /* one version for the CLI and libgusto */

/* Exit statuses.  0-9 are Gusto's own CLI's (src/lib/exit-codes.ts in
 * github.com/Gusto/gusto-cli), with the same meaning; 10 and up are this
 * tool's and stay clear of Gusto's.  The one table a user reads is EXIT
 * STATUS in man/gusto-connect.1 (also `gusto-connect help exit-codes`). */
enum {
    EXIT_OK = 0,
    EXIT_GENERAL = 1,
    EXIT_USAGE = 2,
    EXIT_AUTH = 3,
    EXIT_API_CLIENT = 4,
    EXIT_API_SERVER = 5,
    EXIT_NETWORK = 6,
    EXIT_VALIDATION = 7,
    EXIT_CONFIRM = 8,        /* Gusto's "blocked": gusto-connect sync needs --confirm
                                (mass termination) */
    EXIT_TIMEOUT = 9,        /* Gusto's "timeout": a request got no answer in --timeout */
    EXIT_LEASED = 10,        /* gusto-connect sync: a company was skipped, another live worker
                                holds its lease */
    EXIT_DUPLICATE = 11,     /* employees create: the person exists; --allow-duplicate */
    EXIT_PARTIAL = 12,       /* partial success: created, but some part was not; a batch or a
                                sync that did some and failed some */
    EXIT_INTERRUPTED = 130,  /* gusto-connect sync: stopped by SIGINT/SIGTERM, leases released */
};

/* --output: the default is a table on a terminal, the JSON envelope on a
 * pipe; ndjson streams lists one object a line; wide is a table of every
 * column, nothing cut. */
enum { OUTPUT_DEFAULT, OUTPUT_JSON, OUTPUT_TABLE, OUTPUT_NDJSON, OUTPUT_WIDE };

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
    int output;               /* --output: OUTPUT_DEFAULT, OUTPUT_JSON, ... (below) */
    const char *fields;       /* --fields a,b,c; NULL: the default columns */
    bool no_color;            /* --no-color */
    bool color;               /* colour on stdout: a tty, no NO_COLOR, no --no-color */
    bool err_color;           /* the same for stderr */
    int width;                /* the width tables fit on stdout; 0: no limit (a pipe) */
    struct progress *bar;     /* the progress bar on screen, for rate-limit waits; or NULL */
    char *token;              /* owned; from --token-stdin or GUSTO_ACCESS_TOKEN */
    const char *connection;   /* --connection or GUSTO_CONNECTION; NULL: the only one */
    const char *store;        /* --store; NULL: the library's default path */
    const char *command;      /* "employees list", for messages and help */
    gusto_client *client;     /* made on first use by cli_client() */
    struct cli_described *described; /* `__complete`: collect options, run nothing */
};

/* cli_args() in completion mode (cli->described set) records the command's
 * option table here and returns CLI_DESCRIBED without reading argv, so the
 * command returns before doing anything. */
#define CLI_DESCRIBED_MAX 32
struct cli_described {
    struct {
        const char *name;       /* string literals, so they outlive the command */
        const char *metavar;    /* NULL for flags */
    } opts[CLI_DESCRIBED_MAX];
    int n;
    bool reached;               /* a command's cli_args() was called */
};
#define CLI_DESCRIBED (-1)

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

/* gusto_options.on_wait for the run's client (ud: the struct cli): shows
 * the wait on cli->bar when one is up (output.c). */
void cli_on_wait(void *ud, long wait_ms, int server);

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

/* The i-th help topic ("", "employees", "employees list", ...), NULL past
 * the last: the table of every command path, for completion and tests. */
const char *cli_help_name(size_t i);

/* The last words of the direct subcommands of `parent` ("" for the
 * top-level commands) in out[0..max); returns how many there are. */
size_t cli_help_children(const char *parent, const char **out, size_t max);

/* "; did you mean 'X'?" in buf when one of words is close to word, else "". */
void cli_suggest(const char *word, const char *const *words, size_t n, char *buf, size_t cap);

/* The usage error for an unknown subcommand of parent ("" for an unknown
 * command): names the expected ones and the closest.  Returns EXIT_USAGE. */
int cli_unknown_subcommand(struct cli *cli, const char *parent, const char *word);

/* ---- complete.c ---- */

/* `gusto-connect __complete WORD... CURRENT`: print the candidates for
 * CURRENT that start with it, one a line, for the bash, zsh and fish scripts in completions/.
 * A last line ":file" asks the shell for file names.  Nothing is sent and
 * no secret is read. */
struct cli_global {
    const char *name; /* "--env" */
    bool value;       /* takes a value */
};
/* words[0..nwords): the words typed before CURRENT, as typed; cmd[0..ncmd):
 * the same without the global options.  globals ends with a NULL name.
 * dispatch runs a command line: with cli->described set, to read the
 * command's options.  Returns 0. */
int cli_complete(struct cli *cli, const struct cli_global *globals, int nwords, char **words,
                 int ncmd, char **cmd, const char *cur,
                 int (*dispatch)(struct cli *, int, char **));

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
/* `gusto-connect use [NAME | --clear]`: show or set the default connection. */
int cmd_use(struct cli *cli, int argc, char **argv);
int cmd_sync(struct cli *cli, int argc, char **argv);
int cmd_profile(struct cli *cli, int argc, char **argv);
/* `gusto-connect mcp --employee EMAIL` (cmd_mcp.c, src/serve/mcp.c): MCP over stdio. */
int cmd_mcp(struct cli *cli, int argc, char **argv);
/* `gusto-connect batch create|status` (cmd_batch.c): the subcommand is argv[0]. */
int cmd_batch(struct cli *cli, int argc, char **argv);
/* `gusto-connect serve`, `gusto-connect serve keys ...` (cmd_serve.c, src/serve/). */
int cmd_serve(struct cli *cli, int argc, char **argv);

#endif
