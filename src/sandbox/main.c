/* main.c - gusto-sandbox's command line: options, seeding, tokens, start-up
 * line and clean shutdown on SIGINT/SIGTERM. */
#include "sandbox/sandbox.h"
#include "shared/apiver.h"

#include <curl/curl.h>

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sb_config sb_cfg = {
    .bind = "127.0.0.1",
    .rate_limit = 200,
    .code_ttl = 600,
    .access_ttl = 7200,
};

static void usage(FILE *f)
{
    fputs(
        "usage: gusto-sandbox [options]\n"
        "\n"
        "A local server that behaves like Gusto's API, at every API version Gusto\n"
        "serves on the sandbox's date (X-Gusto-API-Version; see docs/sandbox.md).\n"
        "\n"
        "  --port N             port to listen on; 0 picks a free one (default 8080)\n"
        "  --bind ADDR          IPv4 address to bind (default 127.0.0.1)\n"
        "  --data FILE          keep state in this SQLite file (default: in memory)\n"
        "  --seed demo          add the demo company's ~50 employees and their history\n"
        "  --seed-employees N   add N synthetic employees to the demo company\n"
        "  --token T[:S,S][@C]  accept access token T, optionally only with scopes S,\n"
        "                       for company C (demo, other, or a company UUID);\n"
        "                       repeatable.  Without --token a full-scope token for\n"
        "                       the demo company is generated and printed.\n"
        "  --token-ttl SECONDS  lifetime of --token tokens (default: no expiry)\n"
        "  --app ID:SECRET:URI[,URI...]\n"
        "                       register an OAuth app (client id, client secret,\n"
        "                       exact redirect URIs); repeatable\n"
        "  --apps FILE          register the OAuth apps in FILE, a JSON array of\n"
        "                       {client_id, client_secret, redirect_uris, scopes?, name?}\n"
        "  --code-ttl SECONDS   lifetime of OAuth authorization codes (default 600)\n"
        "  --access-ttl SECONDS lifetime of OAuth access tokens (default 7200)\n"
        "  --rate-limit N       requests per rolling 60 s per grant (default 200; 0 = off)\n"
        "  --faults SPEC        inject faults, e.g. 500:0.05,429:0.05,drop:0.02,delay:0.05@2000\n"
        "                       (lost:P carries a request out, then drops the answer)\n"
        "  --fault-seed N       seed for --faults, so a run repeats exactly (default 1)\n"
        "  --log                one line per request on stderr: method path status ms\n"
        "  --today DATE         the sandbox's date (YYYY-MM-DD) for everything that asks\n"
        "                       for today: which API versions are served, \"current\"\n"
        "                       addresses and pay, date checks (default: the clock)\n"
        "  --default-version V  the API version of a request without\n"
        "                       X-Gusto-API-Version, as an app's default version in\n"
        "                       Gusto's Developer Portal (default: the newest version\n"
        "                       served on the sandbox's date)\n"
        "  --webhook-backoff-ms N\n"
        "                       first wait before a failed webhook delivery is retried\n"
        "                       (doubled each time, up to 16 retries; default 1000;\n"
        "                       0 retries at once, for tests)\n"
        "  --as demo|production pose as Gusto Demo or Production: a token issued by a\n"
        "                       sandbox posing as one is refused by one posing as the\n"
        "                       other, with Gusto's 401 invalid_token (default demo)\n"
        "  -h, --help           this help\n"
        "\n"
        "The first line on stdout is 'listening on http://ADDR:PORT'; then 'token: T'\n"
        "(when generated), 'environment: demo|production' and 'company: UUID'.\n"
        "Exit status: 0 after a clean shutdown, 1 on a start-up error, 2 on bad usage.\n",
        f);
}

static long parse_long(const char *opt, const char *v, long lo, long hi)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || !end || *end || end == v || n < lo || n > hi) {
        fprintf(stderr, "gusto-sandbox: %s expects a whole number from %ld to %ld, got '%s'\n",
                opt, lo, hi, v);
        exit(2);
    }
    return n;
}

/* "TOKEN[:scope,scope][@company]" */
static int add_token_arg(sqlite3 *db, const char *arg, long ttl)
{
    char buf[1024];
    if (strlen(arg) >= sizeof buf || !*arg) {
        fprintf(stderr, "gusto-sandbox: --token: value is empty or too long\n");
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", arg);
    const char *company = SB_DEMO_COMPANY;
    char *at = strrchr(buf, '@');
    if (at) {
        *at = 0;
        if (strcmp(at + 1, "demo") == 0)
            company = SB_DEMO_COMPANY;
        else if (strcmp(at + 1, "other") == 0)
            company = SB_OTHER_COMPANY;
        else if (valid_uuid(at + 1))
            company = at + 1;
        else {
            fprintf(stderr, "gusto-sandbox: --token: company must be demo, other or a "
                            "UUID, got '%s'\n", at + 1);
            return -1;
        }
    }
    char scopes[768] = "";
    char *colon = strchr(buf, ':');
    if (colon) {
        *colon = 0;
        size_t n = 0;
        for (const char *p = colon + 1; *p && n < sizeof scopes - 1; p++)
            scopes[n++] = *p == ',' ? ' ' : *p;
        scopes[n] = 0;
        n = strlen(scopes);
        if (n + sizeof " public" < sizeof scopes)
            memcpy(scopes + n, " public", sizeof " public");
    }
    if (!*buf) {
        fprintf(stderr, "gusto-sandbox: --token: the token itself is empty\n");
        return -1;
    }
    return auth_add_token(db, buf, company, colon ? scopes : NULL, ttl);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"data", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 's'},
        {"seed-employees", required_argument, NULL, 'n'},
        {"token", required_argument, NULL, 't'},
        {"token-ttl", required_argument, NULL, 'T'},
        {"app", required_argument, NULL, 0xA01},
        {"apps", required_argument, NULL, 0xA02},
        {"code-ttl", required_argument, NULL, 0xA03},
        {"access-ttl", required_argument, NULL, 0xA04},
        {"rate-limit", required_argument, NULL, 'r'},
        {"faults", required_argument, NULL, 'f'},
        {"fault-seed", required_argument, NULL, 'F'},
        {"log", no_argument, NULL, 'l'},
        {"today", required_argument, NULL, 0xA05},
        {"default-version", required_argument, NULL, 0xA06},
        {"webhook-backoff-ms", required_argument, NULL, 0xB01},
        {"as", required_argument, NULL, 0xB02},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *tokens[64];
    int ntokens = 0;
    long ttl = 0;
    sb_cfg.port = 8080;
    sb_cfg.fault_seed = 1;
    sb_cfg.webhook_backoff_ms = -1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'p': sb_cfg.port = (unsigned)parse_long("--port", optarg, 0, 65535); break;
        case 'b': sb_cfg.bind = optarg; break;
        case 'd': sb_cfg.data_path = optarg; break;
        case 's':
            if (strcmp(optarg, "demo") != 0) {
                fprintf(stderr, "gusto-sandbox: --seed: only 'demo' is known, got '%s'\n",
                        optarg);
                return 2;
            }
            sb_cfg.seed_demo = true;
            break;
        case 'n':
            sb_cfg.seed_employees = parse_long("--seed-employees", optarg, 0, 10000000);
            break;
        case 't':
            if (ntokens == (int)(sizeof tokens / sizeof tokens[0])) {
                fprintf(stderr, "gusto-sandbox: --token: at most 64\n");
                return 2;
            }
            tokens[ntokens++] = optarg;
            break;
        case 'T': ttl = parse_long("--token-ttl", optarg, 1, 100L * 365 * 86400); break;
        case 0xA01:
        case 0xA02: {
            char aerr[300];
            if ((ch == 0xA01 ? oauth_app_arg(optarg, aerr, sizeof aerr)
                             : oauth_apps_file(optarg, aerr, sizeof aerr)) != 0) {
                fprintf(stderr, "gusto-sandbox: %s: %s\n", ch == 0xA01 ? "--app" : "--apps",
                        aerr);
                return 2;
            }
            break;
        }
        case 0xA03: sb_cfg.code_ttl = parse_long("--code-ttl", optarg, 1, 86400); break;
        case 0xA04:
            sb_cfg.access_ttl = parse_long("--access-ttl", optarg, 1, 100L * 365 * 86400);
            break;
        case 'r': sb_cfg.rate_limit = (int)parse_long("--rate-limit", optarg, 0, 100000000); break;
        case 'f': sb_cfg.faults = optarg; break;
        case 'F':
            sb_cfg.fault_seed = (uint64_t)parse_long("--fault-seed", optarg, 0, 0x7fffffffffffffffL);
            break;
        case 'l': sb_cfg.log = true; break;
        case 0xA05:
            if (!valid_date(optarg)) {
                fprintf(stderr, "gusto-sandbox: --today expects a date YYYY-MM-DD, got '%.40s'\n",
                        optarg);
                return 2;
            }
            memcpy(sb_cfg.today, optarg, sizeof sb_cfg.today);
            break;
        case 0xA06: sb_cfg.default_version = optarg; break;
        case 0xB01:
            sb_cfg.webhook_backoff_ms = parse_long("--webhook-backoff-ms", optarg, 0, 3600000);
            break;
        case 0xB02:
            if (strcmp(optarg, "demo") == 0)
                sb_cfg.environment = SB_ENV_DEMO;
            else if (strcmp(optarg, "production") == 0)
                sb_cfg.environment = SB_ENV_PRODUCTION;
            else {
                fprintf(stderr, "gusto-sandbox: --as expects demo or production, got '%.40s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gusto-sandbox: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    if (sb_cfg.default_version) {
        char today[11], served[256];
        today_ymd(today);
        apiver_accepted(today, served, sizeof served);
        if (!apiver_served(apiver_state(apiver_find(sb_cfg.default_version), today))) {
            fprintf(stderr, "gusto-sandbox: --default-version '%.40s' is not an API version "
                            "Gusto serves on %s (served: %s)\n",
                    sb_cfg.default_version, today, served[0] ? served : "none");
            return 2;
        }
    }

    char err[256];
    if (limits_init(sb_cfg.rate_limit, sb_cfg.faults, sb_cfg.fault_seed, err, sizeof err)) {
        fprintf(stderr, "gusto-sandbox: %s\n", err);
        return 2;
    }
    if (db_init(sb_cfg.data_path, err, sizeof err)) {
        fprintf(stderr, "gusto-sandbox: %s\n", err);
        return 1;
    }
    sqlite3 *db = db_acquire();
    int rc = db_begin_write(db);
    rc |= seed_base(db);
    rc |= oauth_init(db);
    db_env_triggers(db); /* now that oauth_refresh exists */
    if (sb_cfg.seed_demo)
        rc |= seed_demo(db);
    if (sb_cfg.seed_employees)
        rc |= seed_employees(db, sb_cfg.seed_employees);
    rc |= seed_records(db, sb_cfg.seed_demo);
    char generated[64] = "";
    for (int i = 0; i < ntokens && rc == 0; i++)
        if (add_token_arg(db, tokens[i], ttl) != 0) {
            db_rollback(db);
            db_release(db);
            db_shutdown();
            return 2;
        }
    if (ntokens == 0 && rc == 0) {
        char u[SB_UUID_LEN + 1];
        uuid_random(u);
        snprintf(generated, sizeof generated, "sbx_%.8s%.4s%.4s%.4s%.12s", u, u + 9,
                 u + 14, u + 19, u + 24);
        rc |= auth_add_token(db, generated, SB_DEMO_COMPANY, NULL, 0);
    }
    rc |= rc ? 0 : db_commit(db);
    if (rc) {
        db_rollback(db);
        fprintf(stderr, "gusto-sandbox: seeding failed\n");
        db_release(db);
        db_shutdown();
        return 1;
    }
    db_release(db);

    /* Block the stop signals before MHD starts its threads, so only
     * sigwait() below sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (batches_start(err, sizeof err) != 0) {
        fprintf(stderr, "gusto-sandbox: %s\n", err);
        db_shutdown();
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread: webhook deliveries */
    unsigned port = 0;
    void *d = server_start(&port, err, sizeof err);
    if (!d) {
        fprintf(stderr, "gusto-sandbox: %s\n", err);
        batches_shutdown();
        db_shutdown();
        return 1;
    }
    printf("listening on http://%s:%u\n", sb_cfg.bind, port);
    if (*generated)
        printf("token: %s\n", generated);
    printf("environment: %s\n", sb_env_name());
    printf("company: %s\n", SB_DEMO_COMPANY);
    fflush(stdout);

    int sig = 0;
    sigwait(&set, &sig);
    server_stop(d);
    batches_shutdown();
    limits_shutdown();
    oauth_shutdown();
    db_shutdown();
    fprintf(stderr, "gusto-sandbox: stopped by signal %d\n", sig);
    return 0;
}
