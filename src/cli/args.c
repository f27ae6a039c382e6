/* args.c - matches a command's arguments against its option table, with
 * usage errors that name the argument and what was expected. */
#include "cli/cli.h"
#include "cli/output.h"

#include <stdio.h>
#include <string.h>

/* Every command option that takes a value, so the global pass in main.c
 * can step over the value without reading it as an option. */
static const char *const VALUE_OPTIONS[] = {
    "--search", "--include", "--input", "--type", "--data", "--idempotency-key",
    "--db", "--events", "--webhook", "--max-terminations", "--lease-ttl", "--worker",
    "--connections", "--email", "--employee", "--actions", "--max-age", "--audit-log",
    "--separator", /* batch create */
    "--limit", "--cursor", /* employees list */
    NULL,
};

bool cli_command_option_takes_value(const char *arg)
{
    for (int i = 0; VALUE_OPTIONS[i]; i++)
        if (strcmp(arg, VALUE_OPTIONS[i]) == 0)
            return true;
    return false;
}

/* "--search TERM, --terminated, ..." for a usage message. */
static void expected(const struct cli_opt *opts, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; opts && opts[i].name && n < size; i++) {
        int w = snprintf(buf + n, size - n, "%s%s%s%s", n ? ", " : "", opts[i].name,
                         opts[i].metavar ? " " : "", opts[i].metavar ? opts[i].metavar : "");
        if (w < 0)
            break;
        n += (size_t)w;
    }
    if (n == 0)
        snprintf(buf, size, "no options besides --help");
}

int cli_args(struct cli *cli, int argc, char **argv, const struct cli_opt *opts,
             const char **pos, int max_pos, int *npos, bool *help)
{
    char list[400];
    bool only_pos = false;
    *npos = 0;
    *help = false;
    if (cli->described) {
        struct cli_described *d = cli->described;
        for (int k = 0; opts && opts[k].name && d->n < CLI_DESCRIBED_MAX; k++, d->n++) {
            d->opts[d->n].name = opts[k].name;
            d->opts[d->n].metavar = opts[k].value ? opts[k].metavar : NULL;
        }
        d->reached = true;
        return CLI_DESCRIBED;
    }
    /* Help wins over every other mistake on the line. */
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            *help = true;
            return 0;
        }
        for (int k = 0; opts && opts[k].name; k++) {
            if (opts[k].value && strcmp(argv[i], opts[k].name) == 0) {
                i++; /* its value, whatever it looks like */
                break;
            }
        }
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (only_pos || a[0] != '-' || a[1] == 0) {
            if (*npos >= max_pos)
                return out_usage(cli, "unexpected argument '%.100s' for 'gusto-connect %s'", a,
                                 cli->command);
            pos[(*npos)++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        const struct cli_opt *o = NULL;
        for (int k = 0; opts && opts[k].name; k++)
            if (strlen(opts[k].name) == nl && strncmp(opts[k].name, a, nl) == 0)
                o = &opts[k];
        if (!o) {
            expected(opts, list, sizeof list);
            char word[64], near[80];
            const char *names[32];
            size_t n = 0;
            for (int k = 0; opts && opts[k].name && n < 32; k++)
                names[n++] = opts[k].name;
            snprintf(word, sizeof word, "%.*s", (int)(nl > 60 ? 60 : nl), a);
            cli_suggest(word, names, n, near, sizeof near);
            return out_usage(cli, "unknown option '%s' for 'gusto-connect %s' (expected %s%s)",
                             word, cli->command, list, near);
        }
        if (o->flag) {
            if (eq)
                return out_usage(cli, "option %s takes no value", o->name);
            *o->flag = true;
            continue;
        }
        if (eq) {
            *o->value = eq + 1;
        } else if (i + 1 < argc) {
            *o->value = argv[++i];
        } else {
            return out_usage(cli, "option %s needs a value: %s %s", o->name, o->name,
                             o->metavar);
        }
    }
    return 0;
}
