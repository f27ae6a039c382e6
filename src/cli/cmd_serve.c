/* cmd_serve.c - `gusto-connect serve` (the HTTP service, src/serve/), `gusto-connect serve keys add|list|remove` (API keys, stored hashed) and `gusto-connect serve connections add|list|remove` (stored connections: added from an access token, listed without a token, forgotten with their grants). */
#include "cli/cli.h"
#include "cli/output.h"
#include "serve/serve.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* The configuration: --config FILE, the environment, then --db (db may be
 * NULL): a SQLite path or a postgres:// URL. */
static int load(struct cli *cli, const char *config, const char *db, struct serve_config *c)
{
    char err[600];
    if (serve_config_load(c, config, err, sizeof err) != 0)
        return out_fail(cli, EXIT_USAGE, "usage", err, "config", NULL);
    if (db && (!*db || strlen(db) >= sizeof c->db))
        return out_usage(cli, "--db takes a SQLite file or a postgres:// URL");
    if (db) {
        /* The audit log's default follows the database it was made from. */
        bool derived = strncmp(c->audit_log, c->db, strlen(c->db)) == 0;
        snprintf(c->db, sizeof c->db, "%s", db);
        if (derived)
            c->audit_log[0] = 0;
        if (derived && serve_config_audit_default(c) != 0)
            return out_usage(cli, "--db: no room for the audit log's path");
    }
    if (cli->store)
        snprintf(c->store, sizeof c->store, "%s", cli->store);
    if (cli->api_version) /* --api-version, else GUSTO_API_VERSION: over the file */
        snprintf(c->api_version, sizeof c->api_version, "%s", cli->api_version);
    return 0;
}

/* The API version serve's clients will send, checked before serve listens:
 * an unknown or retired one is refused (exit 2), a deprecated one warned. */
static int check_version(struct cli *cli, const struct serve_config *c)
{
    gusto_options o = {0};
    serve_client_options(c, &o);
    gusto_error err;
    gusto_client *gc = gusto_client_new(&o, &err);
    if (!gc)
        return cli_client_failed(cli, &err, false, true);
    cli_version_warning(cli, gc);
    gusto_client_free(gc);
    return 0;
}

static int keys(struct cli *cli, int argc, char **argv)
{
    const char *config = NULL, *grant = NULL, *employee = NULL, *actions = NULL, *db = NULL;
    bool help, read_only = false, writes = false;
    const struct cli_opt opts[] = {
        {"--config", "FILE", &config, NULL},
        {"--db", "PATH|URL", &db, NULL},
        {"--grant", "CONNECTIONS", &grant, NULL},
        {"--employee", "EMAIL", &employee, NULL},
        {"--actions", "NAMES", &actions, NULL},
        {"--read-only", NULL, NULL, &read_only},
        {"--allow-writes", NULL, NULL, &writes},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[2];
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 2, &npos, &help);
    if (rc || help) {
        if (help)
            cli_help(cli, "serve keys");
        return rc;
    }
    if (npos < 1)
        return out_usage(cli, "'gusto-connect serve keys' needs add, list or remove");
    struct serve_config c;
    if ((rc = load(cli, config, db, &c)) != 0)
        return rc;
    char err[600];
    if (serve_db_open(c.db, err, sizeof err) != 0)
        return out_fail(cli, EXIT_GENERAL, "store_error", err, "db", NULL);
    if (strcmp(pos[0], "list") == 0) {
        json_t *l = serve_key_list();
        out_ok_json(l);
        json_decref(l);
    } else if (strcmp(pos[0], "add") == 0 || strcmp(pos[0], "remove") == 0) {
        if (npos < 2 || strlen(pos[1]) > 100)
            rc = out_usage(cli, "missing the key's NAME: gusto-connect serve keys %s NAME", pos[0]);
        else if (pos[0][0] == 'r')
            rc = serve_key_remove(pos[1]) == 0
                     ? (out_ok_text("{\"removed\":true}", 16), EXIT_OK)
                     : out_fail(cli, EXIT_API_CLIENT, "not_found", "no key by that name",
                                NULL, NULL);
        else if (!grant && !employee)
            rc = out_usage(cli, "--grant CONNECTION[,CONNECTION] is required ('*' grants all), "
                                "or --employee EMAIL for a key of one employee");
        else if (employee && (!strchr(employee, '@') || strlen(employee) > 320))
            rc = out_usage(cli, "--employee takes an email address");
        else if (writes && (read_only || employee))
            rc = out_usage(cli, "--allow-writes cannot go with --read-only or --employee");
        else if (actions && strlen(actions) > 500)
            rc = out_usage(cli, "--actions: the list is over 500 characters");
        else {
            char key[80];
            struct serve_key_limits lim = {.read_only = read_only, .mcp_writes = writes};
            size_t i = 0;
            for (; employee && employee[i] && i < sizeof lim.employee - 1; i++)
                lim.employee[i] = (char)(employee[i] >= 'A' && employee[i] <= 'Z'
                                             ? employee[i] - 'A' + 'a'
                                             : employee[i]);
            snprintf(lim.actions, sizeof lim.actions, "%s", actions ? actions : "");
            if (serve_key_add_limited(pos[1], grant ? grant : "", &lim, key, sizeof key, err,
                                      sizeof err) != 0) {
                rc = out_fail(cli, EXIT_GENERAL, "store_error", err, NULL, NULL);
            } else {
                json_t *d = json_pack("{s:s, s:s, s:o, s:o, s:o, s:b, s:b, s:s}", "name", pos[1],
                                      "key", key, "grants", serve_key_grants(pos[1]),
                                      "employee",
                                      lim.employee[0] ? json_string(lim.employee) : json_null(),
                                      "actions",
                                      lim.actions[0] ? json_string(lim.actions) : json_null(),
                                      "read_only", lim.read_only, "mcp_writes",
                                      lim.mcp_writes, "note",
                                      "shown once; only its SHA-256 is stored");
                out_ok_json(d);
                json_decref(d);
                OPENSSL_cleanse(key, sizeof key);
            }
        }
    } else {
        rc = out_usage(cli, "unknown 'gusto-connect serve keys %.40s' (expected add, list or remove)",
                       pos[0]);
    }
    serve_db_close();
    return rc;
}

static json_t *iso_or_null(long long t)
{
    if (t <= 0)
        return json_null();
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return json_null();
    return json_string(buf);
}

/* One connection as `serve connections list` shows it: never a token. */
static int list_one(void *ud, const gusto_connection *c)
{
    json_t *scopes = json_array();
    const char *p = c->scope;
    while (*p) {
        size_t n = strcspn(p, " ");
        if (n)
            json_array_append_new(scopes, json_stringn(p, n));
        p += n + (p[n] ? 1 : 0);
    }
    json_array_append_new(
        ud, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:o}", "name", c->name, "company_uuid",
                      c->company_uuid, "environment", c->environment, "base_url", c->base_url,
                      "scopes", scopes, "expires_at", iso_or_null(c->expires_at), "expired",
                      c->expires_at > 0 && c->expires_at <= (long long)time(NULL),
                      "refreshed_at", iso_or_null(c->refreshed_at)));
    return 0;
}

static int connections_list(struct cli *cli)
{
    json_t *arr = json_array();
    gusto_error e;
    if (gusto_connection_list(cli->store, list_one, arr, &e) != GUSTO_OK) {
        json_decref(arr);
        return out_error(cli, &e, NULL);
    }
    out_ok_json(arr);
    json_decref(arr);
    return EXIT_OK;
}

/* Forget a connection, and the API keys' grants that named it (a new
 * connection of the same name is not granted to them by accident). */
static int connections_remove(struct cli *cli, const char *config, const char *name)
{
    struct serve_config c;
    int rc = load(cli, config, NULL, &c);
    if (rc)
        return rc;
    gusto_error e;
    if (gusto_connection_remove(cli->store, name, &e) != GUSTO_OK)
        return out_error(cli, &e, NULL);
    char err[600];
    long dropped = -1;
    if (serve_db_open(c.db, err, sizeof err) == 0) {
        dropped = serve_grants_drop(name);
        serve_db_close();
    }
    json_t *d = json_pack("{s:s, s:b, s:o, s:s}", "name", name, "removed", 1, "grants_removed",
                          dropped >= 0 ? json_integer(dropped) : json_null(), "note",
                          "forgotten here only; the grant at Gusto is not revoked");
    out_ok_json(d);
    json_decref(d);
    return EXIT_OK;
}

static int connections(struct cli *cli, int argc, char **argv)
{
    const char *base = NULL, *company = NULL, *config = NULL;
    bool help;
    const struct cli_opt opts[] = {
        {"--base-url", "URL", &base, NULL},
        {"--company", "UUID", &company, NULL},
        {"--config", "FILE", &config, NULL},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[2];
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 2, &npos, &help);
    if (rc || help) {
        if (help)
            cli_help(cli, "serve connections");
        return rc;
    }
    if (npos >= 1 && strcmp(pos[0], "list") == 0)
        return npos == 1 ? connections_list(cli)
                         : out_usage(cli, "'gusto-connect serve connections list' takes no NAME");
    if (npos >= 1 && strcmp(pos[0], "remove") == 0)
        return npos == 2 ? connections_remove(cli, config, pos[1])
                         : out_usage(cli, "missing the connection's NAME: gusto-connect serve "
                                          "connections remove NAME");
    if (npos < 2 || strcmp(pos[0], "add") != 0)
        return out_usage(cli, "expected: gusto-connect serve connections add NAME --base-url "
                              "URL, list, or remove NAME");
    if (!base && cli->env)
        base = cli_env_url(cli->env);
    /* --company before the command is the global option (checked as a
     * UUID there); after it, this command's own. */
    if (!company)
        company = cli->company;
    if (company && !cli_is_uuid(company))
        return out_usage(cli, "--company '%.60s' is not a company UUID", company);
    if (!base)
        return out_usage(cli, "--base-url URL is required");
    if ((rc = cli_read_token(cli)) != 0)
        return rc;
    if (!cli->token || !*cli->token)
        return out_usage(cli, "no token: set GUSTO_ACCESS_TOKEN or use --token-stdin");
    gusto_connection conn = {0};
    snprintf(conn.name, sizeof conn.name, "%s", pos[1]);
    snprintf(conn.environment, sizeof conn.environment, "custom");
    snprintf(conn.base_url, sizeof conn.base_url, "%s", base);
    snprintf(conn.client_id, sizeof conn.client_id, "direct-token");
    conn.expires_at = (long long)time(NULL) + 10LL * 365 * 86400;
    gusto_tokens t = {0};
    snprintf(t.access_token, sizeof t.access_token, "%s", cli->token);
    t.expires_at = conn.expires_at;
    gusto_error e;
    if (!company) {
        gusto_options o = {.base_url = base, .access_token = cli->token};
        cli_client_options(cli, &o);
        gusto_client *c = gusto_client_new(&o, &e);
        const char *cu = NULL;
        if (!c || gusto_company_uuid(c, &cu, &e) != GUSTO_OK) {
            gusto_client_free(c);
            OPENSSL_cleanse(&t, sizeof t);
            return out_error(cli, &e, NULL);
        }
        snprintf(conn.company_uuid, sizeof conn.company_uuid, "%s", cu);
        gusto_client_free(c);
    } else {
        snprintf(conn.company_uuid, sizeof conn.company_uuid, "%s", company);
    }
    gusto_code code = gusto_connection_save(cli->store, &conn, "", &t, &e);
    OPENSSL_cleanse(&t, sizeof t);
    if (code != GUSTO_OK)
        return out_error(cli, &e, NULL);
    json_t *d = json_pack("{s:s, s:s, s:s}", "name", conn.name, "base_url", conn.base_url,
                          "company_uuid", conn.company_uuid);
    out_ok_json(d);
    json_decref(d);
    return EXIT_OK;
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
    if (argc > 0 && strcmp(argv[0], "keys") == 0) {
        cli->command = "serve keys";
        return keys(cli, argc - 1, argv + 1);
    }
    if (argc > 0 && strcmp(argv[0], "connections") == 0) {
        cli->command = "serve connections";
        return connections(cli, argc - 1, argv + 1);
    }
    if (argc > 0 && argv[0][0] != '-')
        return cli_unknown_subcommand(cli, "serve", argv[0]);
    const char *config = NULL, *port = NULL, *bind = NULL, *db = NULL;
    bool help;
    const struct cli_opt opts[] = {
        {"--config", "FILE", &config, NULL},
        {"--db", "PATH|URL", &db, NULL},
        {"--port", "N", &port, NULL},
        {"--bind", "ADDR", &bind, NULL},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 0, &npos, &help);
    if (rc || help) {
        if (help)
            cli_help(cli, "serve");
        return rc;
    }
    static struct serve_config c;
    if ((rc = load(cli, config, db, &c)) != 0)
        return rc;
    if (port) {
        char *end;
        long p = strtol(port, &end, 10);
        if (*end || p < 0 || p > 65535)
            return out_usage(cli, "--port '%.20s' is not a port (0 picks a free one)", port);
        c.port = (unsigned)p;
    }
    if (bind)
        snprintf(c.bind, sizeof c.bind, "%s", bind);
    if (cli->quiet)
        c.quiet = true;
    if ((rc = check_version(cli, &c)) != 0)
        return rc;
    return serve_run(&c);
}
