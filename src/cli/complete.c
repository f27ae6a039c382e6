/* complete.c - `gusto-connect __complete`: the candidates for the word being
 * typed, for the bash, zsh and fish scripts in completions/.  Commands and
 * subcommands come from the help table, each command's options from its own
 * option table (the command is run in "described" mode: cli_args() hands
 * back the table and nothing else happens), connection names from the
 * store.  So the scripts never list a command or option themselves and
 * cannot drift from the program. */
#include "cli/cli.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Options that exist only to be refused with a reason: never offered. */
static const char *const REFUSED[] = {"--client-secret", NULL};

static void offer(const char *cand, const char *cur)
{
    if (strncmp(cand, cur, strlen(cur)) == 0)
        printf("%s\n", cand);
}

/* "vacation|sick|all": offer each part when every part is a plain word. */
static bool offer_choices(const char *metavar, const char *cur)
{
    for (const char *c = metavar; *c; c++)
        if (!(*c == '|' || *c == '-' || (*c >= 'a' && *c <= 'z')))
            return false;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", metavar);
    for (char *save = NULL, *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save))
        offer(t, cur);
    return true;
}

struct names {
    const char *cur;
};

static int offer_connection(void *ud, const gusto_connection *c)
{
    offer(c->name, ((struct names *)ud)->cur);
    return 0;
}

/* The stored connections' names (no secret is read to list them). */
static void offer_connections(const struct cli *cli, const char *cur)
{
    struct names n = {cur};
    gusto_error e;
    (void)gusto_connection_list(cli->store, offer_connection, &n, &e);
}

static void offer_api_versions(const char *cur, const char *today)
{
    char buf[512];
    gusto_api_versions_accepted(today, buf, sizeof buf);
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        offer(t, cur);
}

/* The value of a global option. */
static void global_value(const struct cli *cli, const char *opt, const char *cur)
{
    if (strcmp(opt, "--env") == 0) {
        static const char *const envs[] = {"demo", "production", "sandbox", NULL};
        for (int i = 0; envs[i]; i++)
            offer(envs[i], cur);
    } else if (strcmp(opt, "--connection") == 0) {
        offer_connections(cli, cur);
    } else if (strcmp(opt, "--api-version") == 0) {
        offer_api_versions(cur, cli->today);
    } else if (strcmp(opt, "--output") == 0 || strcmp(opt, "-o") == 0) {
        static const char *const outs[] = {"json", "table", "ndjson", "wide", NULL};
        for (int i = 0; outs[i]; i++)
            offer(outs[i], cur);
    } else if (strcmp(opt, "--store") == 0) {
        printf(":file\n");
    }
}

/* The value of a command's option, from its metavar. */
static void option_value(const struct cli *cli, const char *name, const char *m,
                         const char *cur)
{
    if (strcmp(name, "--grant") == 0 || strcmp(name, "--connections") == 0) {
        offer_connections(cli, cur);
        if (strcmp(name, "--grant") == 0)
            offer("*", cur);
    } else if (strstr(m, "FILE") || strstr(m, "PATH")) {
        if (strstr(m, "|-"))
            offer("-", cur);
        printf(":file\n");
    } else {
        offer_choices(m, cur);
    }
}

static const struct cli_global *find_global(const struct cli_global *g, const char *name)
{
    for (; g->name; g++)
        if (strcmp(g->name, name) == 0)
            return g;
    return NULL;
}

/* The longest run of leading non-option words of cmd that names a help
 * topic, written to path; returns how many words it took. */
static int command_path(int ncmd, char **cmd, char *path, size_t cap)
{
    int used = 0;
    char trial[128] = "";
    for (int i = 0; i < ncmd && cmd[i][0] != '-'; i++) {
        size_t n = strlen(trial);
        snprintf(trial + n, sizeof trial - n, "%s%s", n ? " " : "", cmd[i]);
        if (!cli_help_known(trial))
            break;
        snprintf(path, cap, "%s", trial);
        used = i + 1;
    }
    return used;
}

int cli_complete(struct cli *cli, const struct cli_global *globals, int nwords, char **words,
                 int ncmd, char **cmd, const char *cur, int (*dispatch)(struct cli *, int, char **))
{
    const char *prev = nwords > 0 ? words[nwords - 1] : "";
    const struct cli_global *pg = find_global(globals, prev);
    if (pg && pg->value) {
        global_value(cli, prev, cur);
        return 0;
    }
    char path[128] = "";
    int used = command_path(ncmd, cmd, path, sizeof path);

    /* `help WORDS`: the topics under WORDS. */
    if (strcmp(path, "help") == 0) {
        char topic[128] = "";
        int n = command_path(ncmd - 1, cmd + 1, topic, sizeof topic);
        if (n == ncmd - 1) {
            const char *kids[64];
            size_t k = cli_help_children(topic, kids, 64);
            for (size_t i = 0; i < k && i < 64; i++)
                offer(kids[i], cur);
        }
        return 0;
    }

    /* The command's own options, asked of the command itself. */
    struct cli_described d = {0};
    if (*path && strcmp(path, "version") != 0) {
        cli->described = &d;
        cli->json_out = false;
        /* A command that needs a subcommand says so on stderr: not here. */
        fflush(stderr);
        int keep = dup(2), null = open("/dev/null", O_WRONLY);
        if (keep >= 0 && null >= 0)
            dup2(null, 2);
        (void)dispatch(cli, used, cmd);
        fflush(stderr);
        if (keep >= 0 && null >= 0)
            dup2(keep, 2);
        if (keep >= 0)
            close(keep);
        if (null >= 0)
            close(null);
        cli->described = NULL;
    }
    for (int i = 0; i < d.n; i++)
        if (d.opts[i].metavar && strcmp(d.opts[i].name, prev) == 0) {
            option_value(cli, prev, d.opts[i].metavar, cur);
            return 0;
        }

    if (cur[0] == '-') {
        for (int i = 0; i < d.n; i++) {
            bool refused = false;
            for (int k = 0; REFUSED[k]; k++)
                refused |= strcmp(REFUSED[k], d.opts[i].name) == 0;
            if (!refused)
                offer(d.opts[i].name, cur);
        }
        offer("--help", cur);
        for (const struct cli_global *g = globals; g->name; g++)
            if (strcmp(g->name, "--help") != 0)
                offer(g->name, cur);
        return 0;
    }

    /* A subcommand, when nothing but options follows the command's words. */
    bool positional = false;
    for (int i = used; i < ncmd; i++)
        if (cmd[i][0] != '-')
            positional = true;
    if (!positional) {
        const char *kids[64];
        size_t k = cli_help_children(path, kids, 64);
        for (size_t i = 0; i < k && i < 64; i++)
            offer(kids[i], cur);
        if (k)
            return 0;
    }
    /* Positional values the tool knows. */
    if ((strcmp(path, "serve connections remove") == 0 || strcmp(path, "use") == 0) &&
        !positional)
        offer_connections(cli, cur);
    else if (strcmp(path, "api") == 0 && !positional) {
        static const char *const m[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
        for (int i = 0; m[i]; i++)
            offer(m[i], cur);
    }
    return 0;
}
