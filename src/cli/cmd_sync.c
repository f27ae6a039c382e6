/* cmd_sync.c - `gusto-connect sync`: mirror one or more companies into the
 * directory store (src/sync) and report what changed; a thin layer that
 * parses options, makes a client per company and prints the summary. */
#include "cli/cli.h"
#include "cli/output.h"
#include "sync/profile.h"
#include "cli/term.h"
#include "sync/progress.h"
#include "sync/sink.h"
#include "sync/store.h"
#include "sync/sync.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TARGETS 256

struct target {
    char connection[64];     /* "" for the token or the only connection */
    char company[40];
};

struct collect {
    struct target *t;
    int n;
};

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_signal = 1;
}

static int add_connection(void *ud, const gusto_connection *conn)
{
    struct collect *c = ud;
    if (c->n >= MAX_TARGETS)
        return 1;
    snprintf(c->t[c->n].connection, sizeof c->t[c->n].connection, "%s", conn->name);
    snprintf(c->t[c->n].company, sizeof c->t[c->n].company, "%s", conn->company_uuid);
    c->n++;
    return 0;
}

static void trace_line(void *userdata, const char *line)
{
    struct progress *p = userdata;
    progress_clear(p);
    fputs("gusto-connect: ", stderr);
    out_text(stderr, line);
    size_t n = strlen(line);
    if (!n || line[n - 1] != '\n')
        fputc('\n', stderr);
}

/* A client for one target, with the progress bar's wait hook. */
static gusto_client *make_client(struct cli *cli, const struct target *t, struct progress *p,
                                 int *exit_code)
{
    *exit_code = 0;
    bool stored = t->connection[0] != 0;
    if (!stored) {
        if ((*exit_code = cli_read_token(cli)) != 0)
            return NULL;
        stored = !cli->token || !*cli->token;
    }
    gusto_options o = {
        .base_url = cli_env_url(cli->env),
        .access_token = stored ? NULL : cli->token,
        .company_uuid = t->connection[0] ? t->company : cli->company,
        .timeout_ms = cli->timeout_ms,
        .max_retries = cli->max_retries,
        .rate_limit = cli->rate_limit,
        .trace = cli->verbose ? trace_line : NULL,
        .trace_userdata = p,
        .on_wait = progress_wait,
        .wait_userdata = p,
    };
    cli_client_options(cli, &o);
    gusto_error err;
    const char *name = t->connection[0] ? t->connection : cli->connection;
    gusto_client *c = stored ? gusto_client_new_stored(&o, cli->store, name, &err)
                             : gusto_client_new(&o, &err);
    if (!c)
        *exit_code = cli_client_failed(cli, &err, stored, false);
    else
        cli_version_warning(cli, c);
    return c;
}

static bool parse_number(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= min && v <= max))
        return false;
    *out = v;
    return true;
}

/* ---- the up-front estimate ----------------------------------------------------- */

/* 1200 -> "1,200" */
static void thousands(unsigned long long v, char *out, size_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%llu", v);
    size_t k = 0;
    for (int i = 0; i < len && k + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = 0;
}

/* 20 -> "20 s", 360 -> "6 min", 5400 -> "1 h 30 min" */
static void duration_text(long long seconds, char *out, size_t n)
{
    if (seconds < 60)
        snprintf(out, n, "%lld s", seconds);
    else if (seconds < 3600)
        snprintf(out, n, "%lld min", (seconds + 30) / 60);
    else
        snprintf(out, n, "%lld h %lld min", seconds / 3600, (seconds % 3600 + 30) / 60);
}

struct estimate_ctx {
    struct cli *cli;
    struct progress *prog;
    bool unlimited;          /* --rate-limit 0: the estimate uses Gusto's own limit */
};

/* Shown before a per-employee phase of SYNC_ESTIMATE_SHOWN requests or more
 * (the JSON result has every estimate): "fetching 1,200 employees' work
 * addresses: 1,200 requests, about 6 min at 200 requests/min". */
#define SYNC_ESTIMATE_SHOWN 20

static void on_estimate(void *ud, const struct sync_result *res, const json_t *e)
{
    struct estimate_ctx *x = ud;
    (void)res;
    json_int_t requests = json_integer_value(json_object_get(e, "requests"));
    if (x->cli->quiet || requests < SYNC_ESTIMATE_SHOWN)
        return;
    char n[32], t[32];
    thousands((unsigned long long)requests, n, sizeof n);
    duration_text(json_integer_value(json_object_get(e, "seconds")), t, sizeof t);
    progress_clear(x->prog);
    fprintf(stderr, "gusto-connect: %s %s %s: %s request%s, about %s at %d requests/min%s\n",
            strcmp(json_string_value(json_object_get(e, "phase")), "missing") == 0
                ? "checking"
                : "fetching",
            n, json_string_value(json_object_get(e, "what")), n, requests == 1 ? "" : "s", t,
            (int)json_integer_value(json_object_get(e, "rate_per_minute")),
            x->unlimited ? " (Gusto's limit; --rate-limit 0 sets none here)" : "");
}

/* ---- the readable report --------------------------------------------------- */

/* Who a sync would terminate: the first SYNC_LIST_SHOWN, then "and N more". */
#define SYNC_LIST_SHOWN 10

static void show_departures(const json_t *list, FILE *f)
{
    size_t n = json_array_size(list), i;
    const json_t *d;
    fprintf(f, "  would terminate %zu:\n", n);
    json_array_foreach(list, i, d) {
        if (i == SYNC_LIST_SHOWN) {
            fprintf(f, "    ... and %zu more (all of them with --json)\n", n - i);
            break;
        }
        const char *name = json_string_value(json_object_get(d, "name"));
        const char *email = json_string_value(json_object_get(d, "work_email"));
        if (!email)
            email = json_string_value(json_object_get(d, "personal_email"));
        fputs("    ", f);
        out_text(f, name && *name ? name : "(no name)");
        if (email) {
            fputs(" <", f);
            out_text(f, email);
            fputc('>', f);
        }
        fprintf(f, " %s", json_string_value(json_object_get(d, "employee_uuid")));
        if (strcmp(json_string_value(json_object_get(d, "reason")), "removed") == 0)
            fputs(" (removed from Gusto)", f);
        fputc('\n', f);
    }
}

static void show_value(const json_t *v)
{
    char buf[64];
    const char *s = out_scalar(v, buf, sizeof buf);
    if (json_is_string(v)) {
        fputc('"', stdout);
        out_text(stdout, s);
        fputc('"', stdout);
    } else {
        fputs(s ? s : "null", stdout);
    }
}

static void show_event(const json_t *ev)
{
    const char *type = json_string_value(json_object_get(ev, "type"));
    const json_t *who = json_object_get(ev, "employee");
    const char *mark = strcmp(type, "employee.created") == 0      ? "+ created   "
                       : strcmp(type, "employee.terminated") == 0 ? "- terminated"
                       : strcmp(type, "employee.rehired") == 0    ? "* rehired   "
                                                                  : "~ updated   ";
    printf("  %s ", mark);
    out_text(stdout, json_string_value(json_object_get(who, "name")));
    const char *we = json_string_value(json_object_get(who, "work_email"));
    if (we) {
        fputs(" <", stdout);
        out_text(stdout, we);
        fputc('>', stdout);
    }
    fputc('\n', stdout);
    size_t i;
    json_t *ch;
    json_array_foreach(json_object_get(ev, "changes"), i, ch) {
        if (i >= 12) {
            printf("      ... and %zu more\n", json_array_size(json_object_get(ev, "changes")) - i);
            break;
        }
        fputs("      ", stdout);
        out_text(stdout, json_string_value(json_object_get(ch, "field")));
        fputs(": ", stdout);
        show_value(json_object_get(ch, "old"));
        fputs(" -> ", stdout);
        show_value(json_object_get(ch, "new"));
        fputc('\n', stdout);
    }
}

static void show_result(const struct sync_result *r, bool dry_run, FILE *f)
{
    if (r->name[0]) {
        out_text(f, r->name);
        fprintf(f, " (%s)", r->company);
    } else {
        fprintf(f, "company %s", r->company[0] ? r->company : "(unknown)");
    }
    fprintf(f, ": %s", strcmp(r->status, "dry_run") == 0 ? "dry run, nothing written"
                                                          : r->status);
    if (strcmp(r->status, "synced") == 0 || strcmp(r->status, "unchanged") == 0)
        fprintf(f, ", generation %lld", r->generation);
    fputc('\n', f);
    if (r->message[0]) {
        fputs("  ", f);
        out_text(f, r->message);
        fputc('\n', f);
    }
    if (r->would_terminate && (r->needs_confirm || strcmp(r->status, "refused") == 0))
        show_departures(r->would_terminate, f);
    if (strcmp(r->status, "leased") == 0 || (!r->employees && !r->requests))
        return;
    fprintf(f, "  created %ld, updated %ld, terminated %ld, rehired %ld, unchanged %ld, "
               "skipped %zu\n", r->created, r->updated, r->terminated, r->rehired,
            r->unchanged, json_array_size(r->skipped));
    size_t i;
    json_t *s;
    json_array_foreach(r->skipped, i, s) {
        fputs("    skipped ", f);
        const char *who = json_string_value(json_object_get(s, "employee_uuid"));
        out_text(f, who ? who : "an entry");
        fputs(": ", f);
        out_text(f, json_string_value(json_object_get(s, "reason")));
        fputc('\n', f);
    }
    fprintf(f, "  requests %lu (%lu for list pages, %lu per employee), %.3f per employee, "
               "%zu employees in %.1f s", r->requests, r->list_requests,
            r->employee_requests,
            r->employees ? (double)r->requests / (double)r->employees : 0.0, r->employees,
            (double)r->duration_ms / 1000.0);
    if (r->waits)
        fprintf(f, ", %u rate-limit waits (%.1f s)", r->waits, (double)r->wait_ms / 1000.0);
    fputc('\n', f);
    if (dry_run && f == stdout) {
        json_t *ev;
        json_array_foreach(r->events, i, ev)
            show_event(ev);
    }
}

/* ---- the command -------------------------------------------------------------- */

/* ---- one run --------------------------------------------------------------- */

/* What a run keeps between its steps. */
struct run {
    struct cli *cli;
    struct sync_opts so;
    bool dry_run;
    const char *events, *webhook, *secret, *worker;
    char worker_buf[128];
    char target[1024], redacted[1024];  /* the mirror's address, and as shown */
    struct mstore *st;
    struct target targets[MAX_TARGETS];
    struct collect col;
    struct sink *sinks[2];
    int nsinks;
    bool events_on_stdout, stdout_closed;
    long unwritten, delivered;
    struct sync_result *results;
    /* the tally */
    int failed, done, refused, exit_fail, deliver_failed, leased, interrupted;
    unsigned long all_requests;
    size_t all_employees;
    char delivery_error[600];
};

/* The companies to sync: every stored connection, the named ones, or the
 * token's company (one target, its company read later).  0, or the exit
 * status after reporting. */
static int collect_targets(struct run *r, bool all, const char *connections)
{
    struct cli *cli = r->cli;
    r->col = (struct collect){r->targets, 0};
    memset(r->targets, 0, sizeof r->targets);
    if (all) {
        gusto_error gerr;
        if (gusto_connection_list(cli->store, add_connection, &r->col, &gerr) != GUSTO_OK)
            return out_error(cli, &gerr, NULL);
        if (r->col.n == 0)
            return out_fail(cli, EXIT_USAGE, "usage", "--all-connections: the connection "
                            "store has no connections", NULL, "add one with gusto-connect connect");
    } else if (connections) {
        const char *p = connections;
        while (*p && r->col.n < MAX_TARGETS) {
            size_t n = strcspn(p, ",");
            if (n) {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), p);
                gusto_connection conn;
                gusto_error gerr;
                if (gusto_connection_get(cli->store, name, &conn, &gerr) != GUSTO_OK)
                    return out_error(cli, &gerr, NULL);
                add_connection(&r->col, &conn);
            }
            p += n + (p[n] == ',');
        }
    } else {
        r->col.n = 1; /* the token's company, or the only connection */
    }
    return 0;
}

/* The mirror: opened read-only for a dry run (in memory when there is none
 * yet).  0, or the exit status after reporting. */
static int open_mirror(struct run *r, const char *db)
{
    struct cli *cli = r->cli;
    char err[700];
    if (mstore_target(db, !r->dry_run, r->target, sizeof r->target, err, sizeof err) != 0)
        return out_fail(cli, EXIT_USAGE, "usage", err, "db", NULL);
    sdb_redact(r->target, r->redacted, sizeof r->redacted);
    if (db && strcmp(r->redacted, r->target) != 0)
        out_warn(cli, "the --db URL carries a password, which other users can read in the "
                      "process list; use PGPASSWORD or ~/.pgpass instead");
    if (r->dry_run && !sdb_is_postgres(r->target) && access(r->target, F_OK) != 0)
        r->st = mstore_open(":memory:", false, err, sizeof err); /* nothing mirrored yet */
    else
        r->st = mstore_open(r->target, r->dry_run, err, sizeof err);
    if (!r->st)
        return out_fail(cli, EXIT_GENERAL, "store_error", err, "db",
                        "check --db (a SQLite path or postgres://user@host/db)");
    return 0;
}

/* The event sinks (none for a dry run), each ready to deliver what the
 * mirror's log holds for it.  0, or the exit status after reporting. */
static int open_sinks(struct run *r)
{
    if (r->dry_run)
        return 0;
    char err[700];
    const char *errs = NULL;
    if (r->events && !(r->sinks[r->nsinks] = sink_file_open(r->events, err, sizeof err)))
        errs = err;
    else if (r->events)
        r->nsinks++;
    if (!errs && r->webhook &&
        !(r->sinks[r->nsinks] = sink_webhook_open(r->webhook, r->secret, err, sizeof err)))
        errs = err;
    else if (!errs && r->webhook)
        r->nsinks++;
    for (int i = 0; i < r->nsinks && !errs; i++)
        if (sync_deliver_prepare(r->st, r->sinks[i], err, sizeof err) != 0)
            errs = err;
    if (!errs)
        return 0;
    for (int i = 0; i < r->nsinks; i++)
        sink_close(r->sinks[i]);
    r->nsinks = 0;
    return out_fail(r->cli, EXIT_GENERAL, "sink_error", errs, NULL, NULL);
}

/* Hand one company's new events to every sink.  A closed stdout (| head)
 * does not stop the run: its events are counted as not written. */
static void deliver(struct run *r, const struct sync_result *res)
{
    for (int k = 0; k < r->nsinks; k++) {
        long sent = 0;
        char derr[500];
        bool to_stdout = sink_key(r->sinks[k]) == NULL;
        if (to_stdout && r->stdout_closed) {
            r->unwritten += (long)json_array_size(res->events);
            continue;
        }
        if (sync_deliver(r->st, r->sinks[k], res->events, &sent, derr, sizeof derr) != 0) {
            r->deliver_failed++;
            if (to_stdout) {
                r->stdout_closed = true;
                r->unwritten += (long)json_array_size(res->events) - sent;
            } else {
                snprintf(r->delivery_error, sizeof r->delivery_error,
                         "%s; the events stay in the mirror's log and are sent on "
                         "the next run", derr);
            }
        }
        r->delivered += sent;
    }
}

/* Sync target i into results[i], with *first (the token's client, taken
 * and set to NULL when used) or a client of its own, and tally the
 * outcome. */
static void sync_target(struct run *r, int i, gusto_client **first, struct progress *prog)
{
    struct sync_result *res = &r->results[i];
    const struct target *t = &r->targets[i];
    sync_result_init(res);
    if (stop_signal) {
        snprintf(res->company, sizeof res->company, "%s", t->company);
        res->status = "interrupted";
        snprintf(res->message, sizeof res->message, "interrupted before this company");
        r->interrupted++;
        return;
    }
    for (int k = 0; k < i && t->company[0]; k++) {
        if (strcmp(r->targets[k].company, t->company) == 0) {
            snprintf(res->company, sizeof res->company, "%s", t->company);
            res->status = "duplicate";
            return;
        }
    }
    int crc = 0;
    gusto_client *client = *first ? *first : make_client(r->cli, t, prog, &crc);
    *first = NULL;
    if (!client) {
        r->failed++;
        r->exit_fail = crc;
        snprintf(res->company, sizeof res->company, "%s", t->company);
        snprintf(res->message, sizeof res->message, "could not make a client for %s",
                 t->connection[0] ? t->connection : "the token");
        return;
    }
    const char *company = t->company;
    if (!company[0]) {
        gusto_error gerr;
        if (gusto_company_uuid(client, &company, &gerr) != GUSTO_OK) {
            res->err = gerr;
            snprintf(res->message, sizeof res->message, "cannot tell the token's company: %s",
                     gerr.message);
            r->failed++;
            r->exit_fail = out_error_exit(&gerr);
            r->all_requests += gusto_request_count(client);
            gusto_client_free(client);
            return;
        }
    }
    prog->label = NULL;
    prog->have_last = false;
    prog->waits = 0;
    prog->wait_ms = 0;
    prog->start_ms = 0;
    prog->wait_end_ms = 0;
    int src = sync_company(r->st, client, company, &r->so, progress_update, prog, res);
    progress_clear(prog);
    res->waits = prog->waits;
    res->wait_ms = prog->wait_ms;
    r->all_requests += gusto_request_count(client);
    if (src == 0) {
        r->done++;
        r->all_employees += res->employees;
    } else if (strcmp(res->status, "refused") == 0) {
        r->refused++;
    } else if (strcmp(res->status, "leased") == 0) {
        r->leased++;
    } else if (strcmp(res->status, "interrupted") == 0) {
        r->interrupted++;
    } else {
        r->failed++;
        r->exit_fail = res->err.code != GUSTO_OK ? out_error_exit(&res->err) : EXIT_GENERAL;
    }
    gusto_client_free(client);
    if (src == 0 && !r->dry_run)
        deliver(r, res);
}

/* The last message of the first company whose status is `status`. */
static void first_message(const struct run *r, const char *status, const char *prefix,
                          char *out, size_t cap)
{
    for (int i = 0; i < r->col.n; i++)
        if (strcmp(r->results[i].status, status) == 0 && r->results[i].message[0]) {
            snprintf(out, cap, "%s%s", prefix, r->results[i].message);
            return;
        }
}

/* The run's exit status, with the error code, message and hint to report
 * when it is not 0. */
static int verdict(const struct run *r, const char **code, char *message, size_t cap,
                   const char **hint)
{
    *code = NULL;
    *hint = NULL;
    message[0] = 0;
    if (r->interrupted) {
        *code = "interrupted";
        first_message(r, "interrupted", "", message, cap);
        *hint = "the mirror keeps the previous snapshot of what was not written; run "
                "gusto-connect sync again";
        return EXIT_INTERRUPTED;
    }
    if (r->refused) {
        *code = "confirmation_required";
        first_message(r, "refused", "", message, cap);
        *hint = "if the departures are real, run again with --confirm";
        return EXIT_CONFIRM;
    }
    if (r->failed) {
        *code = r->done ? "partial" : "sync_failed";
        first_message(r, "failed", r->done ? "some companies failed: " : "", message, cap);
        *hint = "the mirror keeps each failed company's previous snapshot; run gusto-connect "
                "sync again";
        return r->done ? EXIT_PARTIAL : r->exit_fail;
    }
    if (r->deliver_failed) {
        *code = "delivery_failed";
        snprintf(message, cap, "%s", r->delivery_error);
        return EXIT_PARTIAL;
    }
    if (r->leased) { /* skipped is not done: cron must not read it as success */
        *code = "leased";
        first_message(r, "leased", "", message, cap);
        *hint = "another live worker holds the lease; a dead one's is taken over at once on "
                "this host, or ends after --lease-ttl";
        return EXIT_LEASED;
    }
    return EXIT_OK;
}

/* The run's data: every company's result and the totals. */
static json_t *run_json(const struct run *r)
{
    json_t *companies = json_array();
    for (int i = 0; i < r->col.n; i++) {
        json_t *o = sync_result_json(&r->results[i], r->dry_run);
        json_t *e = json_object_get(o, "error");
        if (e) /* the CLI's code names, as in every other envelope */
            json_object_set_new(e, "code", json_string(out_code_name(r->results[i].err.code)));
        json_array_append_new(companies, o);
    }
    json_t *data = json_object();
    json_object_set_new(data, "db", json_string(r->dry_run && !sdb_is_postgres(r->target) &&
                                                        access(r->target, F_OK) != 0
                                                    ? "(none yet)" : r->redacted));
    json_object_set_new(data, "dry_run", json_boolean(r->dry_run));
    json_object_set_new(data, "worker", json_string(r->worker));
    json_object_set_new(data, "companies", companies);
    json_object_set_new(data, "requests", json_integer((json_int_t)r->all_requests));
    json_object_set_new(data, "employees", json_integer((json_int_t)r->all_employees));
    json_object_set_new(data, "requests_per_employee",
                        json_real(r->all_employees ? (double)r->all_requests /
                                                         (double)r->all_employees
                                                   : 0.0));
    if (!r->dry_run)
        json_object_set_new(data, "events_delivered", json_integer(r->delivered));
    if (r->delivery_error[0])
        json_object_set_new(data, "delivery_error", json_string(r->delivery_error));
    return data;
}

/* Print the outcome: the JSON envelope, or the readable report (on stderr
 * when stdout carries the events), then the error line. */
static void report(const struct run *r, int exit_code, const char *code, const char *message,
                   const char *hint)
{
    struct cli *cli = r->cli;
    json_t *data = run_json(r);
    bool envelope = cli->json_out && !r->events_on_stdout;
    if (envelope && exit_code == EXIT_OK) {
        out_ok_json(data);
    } else if (envelope) {
        json_t *env = json_pack("{s:b, s:{s:s, s:s, s:O, s:n, s:s?}}", "ok", 0, "error", "code",
                                code, "message", message, "details", data, "request_id",
                                "hint", hint);
        json_dumpf(env, stdout, OUT_JSON_FLAGS);
        fputc('\n', stdout);
        json_decref(env);
    } else if (!(r->events_on_stdout && cli->quiet)) {
        FILE *f = r->events_on_stdout ? stderr : stdout;
        for (int i = 0; i < r->col.n; i++)
            if (strcmp(r->results[i].status, "duplicate") != 0)
                show_result(&r->results[i], r->dry_run, f);
        if (r->col.n > 1)
            fprintf(f, "total: %lu requests for %zu employees (%.3f per employee)\n",
                    r->all_requests, r->all_employees,
                    r->all_employees ? (double)r->all_requests / (double)r->all_employees
                                     : 0.0);
        if (!r->dry_run && r->nsinks)
            fprintf(f, "events delivered: %ld\n", r->delivered);
    }
    if (exit_code != EXIT_OK && message[0] && !(cli->json_out && cli->quiet)) {
        fputs("gusto-connect: error: ", stderr);
        out_text(stderr, message);
        fputc('\n', stderr);
        if (hint)
            fprintf(stderr, "hint: %s\n", hint);
    }
    json_decref(data);
}

/* The options' checks and defaults into r.  0, or the exit status after
 * reporting. */
static int setup(struct run *r, const char *max_term, const char *lease_ttl, bool all,
                 const char *connections)
{
    struct cli *cli = r->cli;
    double v;
    if (max_term && !parse_number(max_term, 0, 100, &r->so.max_terminated_pct))
        return out_usage(cli, "--max-terminations '%.40s' is not a percentage from 0 to 100",
                         max_term);
    if (lease_ttl) {
        if (!parse_number(lease_ttl, 1, 86400, &v))
            return out_usage(cli, "--lease-ttl '%.40s' is not a number of seconds from 1 to "
                                  "86400", lease_ttl);
        r->so.lease_ttl_ms = (long)(v * 1000);
    }
    if (all && connections)
        return out_usage(cli, "--all-connections and --connections are exclusive");
    if (!r->worker) {
        char host[64] = "host";
        gethostname(host, sizeof host);
        host[sizeof host - 1] = 0;
        snprintf(r->worker_buf, sizeof r->worker_buf, "%s:%ld", host, (long)getpid());
        r->worker = r->worker_buf;
    }
    r->so.worker = r->worker;
    r->secret = getenv("GUSTO_WEBHOOK_SECRET");
    if (r->webhook && (!r->secret || !*r->secret))
        return out_fail(cli, EXIT_USAGE, "usage",
                        "--webhook needs the signing key in GUSTO_WEBHOOK_SECRET", NULL,
                        "export GUSTO_WEBHOOK_SECRET=... (never pass it as an argument)");
    char why[200];
    if (r->webhook && !sink_url_allowed(r->webhook, why, sizeof why))
        return out_usage(cli, "--webhook: %s", why);
    if (r->events && r->dry_run)
        out_warn(cli, "--dry-run delivers no events; --events is ignored");
    if (r->webhook && r->dry_run)
        out_warn(cli, "--dry-run delivers no events; --webhook is ignored");
    return 0;
}

int cmd_sync(struct cli *cli, int argc, char **argv)
{
    const char *db = NULL, *events = NULL, *webhook = NULL, *max_term = NULL,
               *lease_ttl = NULL, *worker = NULL, *connections = NULL;
    bool dry_run = false, confirm = false, all = false, no_progress = false, help;
    const struct cli_opt opts[] = {
        {"--db", "PATH|postgres://...", &db, NULL},
        {"--events", "FILE|-", &events, NULL},
        {"--webhook", "URL", &webhook, NULL},
        {"--dry-run", NULL, NULL, &dry_run},
        {"--confirm", NULL, NULL, &confirm},
        {"--max-terminations", "PERCENT", &max_term, NULL},
        {"--lease-ttl", "SECONDS", &lease_ttl, NULL},
        {"--worker", "NAME", &worker, NULL},
        {"--connections", "NAME,NAME", &connections, NULL},
        {"--all-connections", NULL, NULL, &all},
        {"--no-progress", NULL, NULL, &no_progress},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 0, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, "sync");

    /* SIGINT/SIGTERM: the company in progress stops before its write and
     * releases its lease (a killed run would hold it until it expires). */
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct run *r = calloc(1, sizeof *r);
    if (!r)
        return out_fail(cli, EXIT_GENERAL, "out_of_memory", "out of memory", NULL, NULL);
    *r = (struct run){.cli = cli, .dry_run = dry_run, .events = events, .webhook = webhook,
                      .worker = worker, .exit_fail = EXIT_GENERAL,
                      .so = {.interrupted = &stop_signal, .dry_run = dry_run,
                             .confirm = confirm, .max_terminated_pct = 20,
                             .lease_ttl_ms = 300000}};
    if ((rc = setup(r, max_term, lease_ttl, all, connections)) != 0) {
        free(r);
        return rc;
    }

    /* The token's company: its client first, so a missing token touches no store. */
    struct progress prog;
    progress_init(&prog, NULL, !no_progress && !cli->quiet && out_is_tty(2), term_width(2));
    struct estimate_ctx ectx = {cli, &prog, cli->rate_limit < 0};
    r->so.rate_per_minute = cli->rate_limit > 0 ? cli->rate_limit : SYNC_GUSTO_RATE_PER_MIN;
    r->so.estimate = on_estimate;
    r->so.estimate_ud = &ectx;
    gusto_client *first = NULL;
    if (!all && !connections) {
        struct target t0 = {{0}, {0}};
        if (!(first = make_client(cli, &t0, &prog, &rc))) {
            free(r);
            return rc;
        }
    }
    if ((rc = open_mirror(r, db)) != 0 || (rc = collect_targets(r, all, connections)) != 0 ||
        (rc = open_sinks(r)) != 0 ||
        !(r->results = calloc((size_t)r->col.n, sizeof *r->results))) {
        if (!rc)
            rc = out_fail(cli, EXIT_GENERAL, "out_of_memory", "out of memory", NULL, NULL);
        mstore_close(r->st);
        gusto_client_free(first);
        free(r);
        return rc;
    }
    r->events_on_stdout = events && strcmp(events, "-") == 0 && !dry_run;
    r->so.keep_events = r->events_on_stdout;
    /* A reader that closes stdout (| head) must not kill the run: the
     * companies still to sync are synced and their events recorded in the
     * mirror; the run then fails loudly, naming how many events stdout
     * did not get. */
    if (r->events_on_stdout)
        signal(SIGPIPE, SIG_IGN);

    for (int i = 0; i < r->col.n; i++)
        sync_target(r, i, &first, &prog);
    gusto_client_free(first); /* when no target took it (interrupted first) */
    for (int i = 0; i < r->nsinks; i++)
        sink_close(r->sinks[i]);
    if (r->stdout_closed)
        snprintf(r->delivery_error, sizeof r->delivery_error,
                 "stdout was closed: %ld events were not written to it; every company was "
                 "still synced and every event is in the mirror's event log (a file sink, "
                 "--events FILE, keeps a cursor and gets them all)", r->unwritten);

    const char *code, *hint;
    char message[700];
    int exit_code = verdict(r, &code, message, sizeof message, &hint);
    report(r, exit_code, code, message, hint);
    for (int i = 0; i < r->col.n; i++)
        sync_result_free(&r->results[i]);
    free(r->results);
    mstore_close(r->st);
    free(r);
    return exit_code;
}
