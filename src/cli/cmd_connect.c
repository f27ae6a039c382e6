/* cmd_connect.c - `gusto-connect connect`, `status`, `disconnect` and `use`:
 * the OAuth authorization-code flow through a loopback redirect listener,
 * the stored connections it produces, and which of them is the default. */
#include "cli/callback.h"
#include "cli/cli.h"
#include "cli/output.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define SECRET_MAX 512
#define DEFAULT_REDIRECT "http://127.0.0.1:8765/callback"

/* What the redirect listener received. */
struct callback {
    pthread_mutex_t lock;
    int wake[2];              /* pipe: the listener writes one byte when done */
    bool done;
    bool woken;
    char path[64];            /* the path the listener answers on */
    char state_want[65];
    char code[512];
    char error[128];
    bool state_ok;
    unsigned forged;          /* redirects ignored: their state did not match */
};

static const char PAGE_OK[] =
    "<!doctype html><html><head><meta charset=utf-8><title>gusto-connect connect</title></head>"
    "<body style=\"font-family:sans-serif;margin:3em\"><h1>Connected</h1>"
    "<p>gusto-connect received the authorization. You can close this window and return "
    "to the terminal.</p></body></html>";
static const char PAGE_FAIL[] =
    "<!doctype html><html><head><meta charset=utf-8><title>gusto-connect connect</title></head>"
    "<body style=\"font-family:sans-serif;margin:3em\"><h1>Not connected</h1>"
    "<p>The authorization did not complete; see the terminal for details.</p>"
    "</body></html>";

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    callback_query_add(cls, key, value);
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **ctx)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    struct callback *cb = cls;
    if (!*ctx) { /* answer on the second call: keeps MHD's keep-alive sane */
        *ctx = cb;
        return MHD_YES;
    }
    bool ours = strcmp(method, "GET") == 0 && strcmp(url, cb->path) == 0;
    bool ok = false;
    pthread_mutex_lock(&cb->lock);
    if (ours && !cb->done) {
        /* MHD hands out decoded arguments only: rebuild the query and parse
         * it with callback_parse() (callback.c, fuzzed by fuzz/). */
        struct callback_query q = {0};
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, &q);
        struct callback_result res;
        callback_parse(q.oom ? "" : q.text, cb->state_want, &res);
        callback_query_free(&q);
        if (!res.state_ok) {
            /* Forged (any local process or web page can send one) or from
             * an older attempt: answered, counted, and otherwise ignored,
             * so it cannot end the flow; the real redirect may still come. */
            cb->forged++;
        } else {
            cb->state_ok = true;
            snprintf(cb->code, sizeof cb->code, "%s", res.code);
            snprintf(cb->error, sizeof cb->error, "%s", res.error);
            ok = cb->code[0] && !cb->error[0];
            cb->done = true;
            /* The waiter is woken once this page has been sent
             * (on_completed): stopping the listener earlier would cut the
             * browser off. */
        }
        OPENSSL_cleanse(&res, sizeof res);
    }
    pthread_mutex_unlock(&cb->lock);
    const char *page = !ours ? "not found" : ok ? PAGE_OK : PAGE_FAIL;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(page), (void *)page,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ours ? "text/html; charset=utf-8" : "text/plain");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, !ours ? 404 : ok ? 200 : 400, r);
    MHD_destroy_response(r);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)ctx;
    (void)toe;
    struct callback *cb = cls;
    pthread_mutex_lock(&cb->lock);
    bool wake = cb->done && !cb->woken;
    cb->woken |= wake;
    pthread_mutex_unlock(&cb->lock);
    if (wake && write(cb->wake[1], "x", 1) < 0) {
        /* the waiter also times out; nothing else to do */
    }
}

/* The redirect URI must be http to an IPv4 loopback literal with a port and
 * no query, checked by gusto_url_check() (the host libcurl and so Gusto's
 * redirect would use, not the text before the first ':').  "localhost" is
 * refused: it may resolve to ::1 as well, where another local user could
 * listen on the same port and receive the code (RFC 8252 section 8.3 also
 * recommends the IP literal).  Fills the address to bind, port and path;
 * on false *why says what is wrong. */
static bool loopback_redirect(const char *uri, struct in_addr *addr, unsigned *port,
                              char *path, size_t cap, const char **why)
{
    gusto_url_info u;
    gusto_error err;
    *why = "it is not an http:// URL";
    if (gusto_url_check(uri, "redirect_uri", &u, &err) != GUSTO_OK) {
        if (strstr(err.message, "userinfo"))
            *why = "it holds userinfo (user:password@ before the host), which hides the "
                   "host the code would go to";
        return false;
    }
    if (u.https || !u.loopback || inet_pton(AF_INET, u.host, addr) != 1) {
        *why = strcasecmp(u.host, "localhost") == 0
                   ? "localhost may also mean [::1], where another user could take the "
                     "code; register and use http://127.0.0.1:PORT/PATH"
                   : "its host is not an IPv4 loopback address such as 127.0.0.1";
        return false;
    }
    if (!u.explicit_port || u.port < 1 || u.port > 65535) {
        *why = "it names no port";
        return false;
    }
    if (u.query[0] || strlen(u.path) >= cap) {
        *why = u.query[0] ? "it has a query ('?')" : "its path is too long";
        return false;
    }
    *port = u.port;
    snprintf(path, cap, "%s", u.path);
    return true;
}

/* The client secret: GUSTO_CLIENT_SECRET, one line of stdin with
 * --client-secret-stdin, or a prompt without echo.  Never argv. */
static char *read_secret(bool from_stdin)
{
    const char *env = getenv("GUSTO_CLIENT_SECRET");
    if (env && *env && !from_stdin)
        return strdup(env);
    struct termios saved, quiet;
    bool tty = isatty(0) == 1 && tcgetattr(0, &saved) == 0;
    if (!from_stdin && !tty)
        return NULL;
    if (tty) {
        fputs("gusto-connect: client secret: ", stderr);
        fflush(stderr);
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(0, TCSAFLUSH, &quiet);
    }
    char *buf = calloc(1, SECRET_MAX + 2);
    size_t n = 0;
    int ch;
    while (buf && (ch = getchar()) != EOF && ch != '\n' && n <= SECRET_MAX)
        buf[n++] = (char)ch;
    if (tty) {
        tcsetattr(0, TCSAFLUSH, &saved);
        fputc('\n', stderr);
    }
    if (buf && (n == 0 || n > SECRET_MAX)) {
        OPENSSL_cleanse(buf, SECRET_MAX + 2);
        free(buf);
        return NULL;
    }
    return buf;
}

static void free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

/* Whether the browser may see this environment variable: what a desktop
 * browser needs to reach the display, the session bus, the user's profile
 * and locale.  Everything else, GUSTO_CLIENT_SECRET and GUSTO_STORE_KEY
 * first, stays with gusto-connect. */
static bool browser_env_ok(const char *kv)
{
    static const char *const keep[] = {
        "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY", "HOME", "PATH", "USER", "LOGNAME",
        "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "DBUS_SESSION_BUS_ADDRESS", "BROWSER",
    };
    if (strncmp(kv, "XDG_", 4) == 0 || strncmp(kv, "LC_", 3) == 0)
        return true;
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        size_t n = strlen(keep[i]);
        if (strncmp(kv, keep[i], n) == 0 && kv[n] == '=')
            return true;
    }
    return false;
}

/* Try to open the URL in a browser; the URL is always printed as well.
 * The browser starts with only browser_env_ok()'s environment. */
static void open_browser(const char *url)
{
    if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY") && !getenv("BROWSER"))
        return;
    /* Built before fork(): the listener's thread runs, so the child only
     * calls async-signal-safe functions (and exec). */
    extern char **environ;
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 1, sizeof *env);
    if (!env)
        return;
    for (size_t i = 0; i < n; i++)
        if (browser_env_ok(environ[i]))
            env[k++] = environ[i];
    const char *b = getenv("BROWSER");
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        if (b && *b) {
            char *const args[] = {(char *)b, (char *)url, NULL};
            execvpe(b, args, env);
        }
        char *const args[] = {"xdg-open", (char *)url, NULL};
        execvpe("xdg-open", args, env);
        _exit(127);
    }
    free(env);
}

/* Drop trailing slashes when comparing base URLs. */
static bool same_url(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    while (na > 0 && a[na - 1] == '/')
        na--;
    while (nb > 0 && b[nb - 1] == '/')
        nb--;
    return na == nb && strncasecmp(a, b, na) == 0;
}

/* A stored connection called `name` that points at another environment
 * than base is not replaced: 0, or EXIT_USAGE after saying both. */
static int refuse_other_env(struct cli *cli, const char *name, const char *base)
{
    gusto_connection old;
    if (gusto_connection_get(cli->store, name, &old, NULL) != GUSTO_OK ||
        same_url(old.base_url, base))
        return 0;
    char msg[512], hint[256];
    snprintf(msg, sizeof msg, "a connection named \"%s\" already exists for Gusto %s (%s); "
             "this one would be for %s", old.name, old.environment, old.base_url, base);
    snprintf(hint, sizeof hint, "choose another --name, or remove the old one first: "
             "gusto-connect disconnect --connection %s", old.name);
    return out_fail(cli, EXIT_USAGE, "connection_exists", msg, "name", hint);
}

/* The company's name (GET /v1/companies/{uuid}, field name) into out; ""
 * when it cannot be read (no companies:read scope, say): only shown. */
static void company_name(gusto_client *c, const char *uuid, char *out, size_t cap)
{
    out[0] = 0;
    char path[96];
    snprintf(path, sizeof path, "/v1/companies/%s", uuid);
    long status = 0;
    char *body = NULL;
    gusto_error err;
    if (gusto_request(c, "GET", path, NULL, &status, &body, &err) == GUSTO_OK && body) {
        json_t *j = json_loads(body, 0, NULL);
        const char *n = json_string_value(json_object_get(j, "name"));
        if (n)
            snprintf(out, cap, "%s", n);
        json_decref(j);
    }
    gusto_free(body);
}

int cmd_connect(struct cli *cli, int argc, char **argv)
{
    const char *client_id = NULL, *name = NULL, *redirect = NULL, *wait_s = NULL;
    bool help = false, secret_stdin = false, no_browser = false;
    const char *secret_argv = NULL;
    struct cli_opt opts[] = {
        {"--client-id", "ID", &client_id, NULL},
        {"--name", "NAME", &name, NULL},
        {"--redirect-uri", "URI", &redirect, NULL},
        {"--wait", "SECONDS", &wait_s, NULL},
        {"--client-secret-stdin", NULL, NULL, &secret_stdin},
        {"--no-browser", NULL, NULL, &no_browser},
        {"--client-secret", "SECRET", &secret_argv, NULL},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int npos = 0;
    int rc = cli_args(cli, argc, argv, opts, pos, 0, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, "connect");
    if ((rc = cli_check_version(cli)) != 0) /* before the OAuth exchange is sent */
        return rc;
    if (secret_argv)
        return out_usage(cli, "--client-secret would put the secret on the command line, "
                              "where other users can see it; set GUSTO_CLIENT_SECRET or use "
                              "--client-secret-stdin");
    if (!client_id || !*client_id)
        client_id = getenv("GUSTO_CLIENT_ID");
    if (!client_id || !*client_id)
        return out_usage(cli, "connect needs --client-id ID (your Gusto app's client id)");
    const char *base = cli_env_url(cli->env ? cli->env : "demo");
    if (!base)
        return out_usage(cli, "--env must be demo, production or an http(s) URL, got \"%s\"",
                         cli->env);
    if (!redirect)
        redirect = getenv("GUSTO_REDIRECT_URI");
    if (!redirect || !*redirect)
        redirect = DEFAULT_REDIRECT;
    unsigned port = 0;
    char path[64];
    struct in_addr listen_on;
    const char *why = NULL;
    if (!loopback_redirect(redirect, &listen_on, &port, path, sizeof path, &why))
        return out_usage(cli, "--redirect-uri must be http://127.0.0.1:PORT/PATH (a loopback "
                              "address this command listens on), got \"%s\": %s", redirect,
                         why);
    long wait = 600;
    if (wait_s) {
        char *end = NULL;
        wait = strtol(wait_s, &end, 10);
        if (!end || *end || wait < 1 || wait > 3600)
            return out_usage(cli, "--wait expects seconds from 1 to 3600, got \"%s\"", wait_s);
    }
    if (name && *name && (rc = refuse_other_env(cli, name, base)) != 0)
        return rc; /* before the admin is sent to the consent page */
    /* The code Gusto sends back is single use: a store that cannot take
     * the connection (no key for PostgreSQL, another key, unreachable)
     * says so now, not after the exchange. */
    gusto_error serr;
    if (gusto_store_check(cli->store, &serr) != GUSTO_OK)
        return out_error(cli, &serr, NULL);
    char *secret = read_secret(secret_stdin);
    if (!secret)
        return out_fail(cli, EXIT_USAGE, "usage", "no client secret was given",
                        "client_secret",
                        "set GUSTO_CLIENT_SECRET, pipe it with --client-secret-stdin, or run "
                        "on a terminal to be prompted");

    struct callback cb;
    memset(&cb, 0, sizeof cb);
    pthread_mutex_init(&cb.lock, NULL);
    snprintf(cb.path, sizeof cb.path, "%s", path);
    unsigned char raw[24];
    gusto_pkce pkce;
    gusto_error perr;
    if (RAND_bytes(raw, sizeof raw) != 1 || gusto_pkce_new(&pkce, &perr) != GUSTO_OK ||
        pipe2(cb.wake, O_CLOEXEC) != 0) {
        free_secret(secret);
        return out_fail(cli, EXIT_GENERAL, "internal", "cannot set up the listener", NULL, NULL);
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(cb.state_want + 2 * i, 3, "%02x", raw[i]);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr = listen_on;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, &cb,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)30, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &cb, MHD_OPTION_END);
    if (!d) {
        close(cb.wake[0]);
        close(cb.wake[1]);
        free_secret(secret);
        OPENSSL_cleanse(&pkce, sizeof pkce);
        char msg[160];
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &listen_on, ip, sizeof ip);
        snprintf(msg, sizeof msg, "cannot listen on %s:%u for the redirect", ip, port);
        return out_fail(cli, EXIT_GENERAL, "listener", msg, "redirect_uri",
                        "free that port, or register another loopback redirect URI with your "
                        "app and pass --redirect-uri");
    }
    char *url = gusto_authorize_url_pkce(base, client_id, redirect, cb.state_want,
                                         pkce.challenge);
    fprintf(stderr, "gusto-connect: open this URL to authorize %s (%s):\n  %s\n"
                    "gusto-connect: waiting for the redirect to %s ...\n",
            client_id, base, url ? url : "?", redirect);
    if (url && !no_browser)
        open_browser(url);
    gusto_free(url);

    struct pollfd pfd = {.fd = cb.wake[0], .events = POLLIN};
    int pr = poll(&pfd, 1, (int)(wait * 1000));
    MHD_stop_daemon(d);
    close(cb.wake[0]);
    close(cb.wake[1]);
    pthread_mutex_destroy(&cb.lock);
    if (pr <= 0 || !cb.done) {
        free_secret(secret);
        OPENSSL_cleanse(&pkce, sizeof pkce);
        char hint[400], msg[200];
        snprintf(hint, sizeof hint,
                 "nothing came back to %s: that redirect URI must be registered with the "
                 "app exactly (scheme, host, port and path); if it is, run gusto-connect connect "
                 "again and finish the consent page within --wait", redirect);
        if (cb.forged)
            snprintf(msg, sizeof msg, "no authorization arrived in time (%u redirect%s "
                                      "whose state did not match this request were ignored: "
                                      "forged, or from an older attempt)",
                     cb.forged, cb.forged == 1 ? "" : "s");
        else
            snprintf(msg, sizeof msg, "no authorization arrived in time");
        return out_fail(cli, EXIT_AUTH, "timeout", msg, "redirect_uri", hint);
    }
    if (cb.error[0]) {
        free_secret(secret);
        OPENSSL_cleanse(&pkce, sizeof pkce);
        char msg[200];
        snprintf(msg, sizeof msg, "authorization was refused: %s", cb.error);
        return out_fail(cli, EXIT_AUTH, cb.error, msg, NULL,
                        strcmp(cb.error, "access_denied") == 0
                            ? "the admin chose Deny; run gusto-connect connect again to retry"
                            : NULL);
    }

    gusto_tokens tokens;
    gusto_error err;
    gusto_code gc = gusto_oauth_exchange_pkce(base, client_id, secret, cb.code, redirect,
                                              pkce.verifier, &tokens, &err);
    OPENSSL_cleanse(cb.code, sizeof cb.code);
    OPENSSL_cleanse(&pkce, sizeof pkce);
    if (gc != GUSTO_OK) {
        free_secret(secret);
        return out_error(cli, &err, NULL);
    }
    gusto_options o = {.base_url = base, .access_token = tokens.access_token};
    cli_client_options(cli, &o);
    gusto_client *c = gusto_client_new(&o, &err);
    const char *company = NULL;
    gc = c ? gusto_company_uuid(c, &company, &err) : err.code;
    gusto_connection conn;
    memset(&conn, 0, sizeof conn);
    char cname[256] = "";
    bool replaced = false;
    if (gc == GUSTO_OK) {
        snprintf(conn.environment, sizeof conn.environment, "%s", gusto_client_environment(c));
        snprintf(conn.base_url, sizeof conn.base_url, "%s", gusto_client_base_url(c));
        snprintf(conn.company_uuid, sizeof conn.company_uuid, "%s", company);
        snprintf(conn.client_id, sizeof conn.client_id, "%s", client_id);
        if (name && *name)
            snprintf(conn.name, sizeof conn.name, "%s", name);
        else
            snprintf(conn.name, sizeof conn.name, "%s-%.8s", conn.environment, company);
        company_name(c, company, cname, sizeof cname);
        gusto_connection old;
        replaced = gusto_connection_get(cli->store, conn.name, &old, NULL) == GUSTO_OK;
        if ((rc = refuse_other_env(cli, conn.name, conn.base_url)) != 0)
            gc = GUSTO_ECANCELED; /* already said */
        else
            gc = gusto_connection_save(cli->store, &conn, secret, &tokens, &err);
    }
    gusto_client_free(c);
    free_secret(secret);
    OPENSSL_cleanse(&tokens, sizeof tokens);
    if (gc == GUSTO_ECANCELED && rc)
        return rc;
    if (gc != GUSTO_OK)
        return out_error(cli, &err, NULL);
    gusto_connection saved;
    if (gusto_connection_get(cli->store, conn.name, &saved, &err) != GUSTO_OK)
        return out_error(cli, &err, NULL);
    json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "name", saved.name,
                             "environment", saved.environment, "base_url", saved.base_url,
                             "company_uuid", saved.company_uuid, "scope", saved.scope,
                             "expires_at", (json_int_t)saved.expires_at);
    json_object_set_new(data, "company_name", cname[0] ? json_string(cname) : json_null());
    json_object_set_new(data, "replaced", json_boolean(replaced));
    if (cli->json_out) {
        out_ok_json(data);
    } else {
        printf("Connected to Gusto %s as connection \"%s\"%s.\n", saved.environment, saved.name,
               replaced ? " (replaced the one of that name, same environment)" : "");
        out_kv("company", cname[0] ? cname : saved.company_uuid);
        if (cname[0])
            out_kv("company uuid", saved.company_uuid);
        out_kv("base url", saved.base_url);
        out_kv("scope", saved.scope);
    }
    json_decref(data);
    return EXIT_OK;
}

struct status_ctx {
    struct cli *cli;
    const char *only;
    json_t *list;
    int failures;
    gusto_error last;
};

/* The API version a client sends, with its status and dates, so a
 * retirement is seen coming: {"version", "status", "deprecation_start",
 * "limited_support", "sunset", "days_to_sunset"}, dates null when unset. */
static json_t *api_version_json(const gusto_client *c)
{
    gusto_api_version_info v;
    gusto_client_api_version_info(c, &v);
    json_t *jv = json_pack("{s:s, s:s, s:s, s:s, s:s}", "version", v.version, "status",
                           v.status_name, "deprecation_start", v.deprecation_start,
                           "limited_support", v.limited_support, "sunset", v.sunset);
    static const char *const dates[] = {"deprecation_start", "limited_support", "sunset"};
    for (size_t k = 0; k < 3; k++)
        if (!*json_string_value(json_object_get(jv, dates[k])))
            json_object_set_new(jv, dates[k], json_null());
    json_object_set_new(jv, "days_to_sunset",
                        v.days_to_sunset >= 0 ? json_integer(v.days_to_sunset) : json_null());
    return jv;
}

/* The access token given in the environment (or --token-stdin), which every
 * command uses before any stored connection: checked with GET
 * /v1/token_info.  Returns 0, or the exit code of a client refused for its
 * settings (a retired --api-version, say). */
static int status_token(struct status_ctx *s)
{
    int rc = 0;
    gusto_client *c = cli_client(s->cli, &rc);
    if (!c)
        return rc;
    long status = 0;
    char *body = NULL;
    gusto_error err;
    gusto_code code = gusto_request(c, "GET", "/v1/token_info", NULL, &status, &body, &err);
    json_t *ti = code == GUSTO_OK && body ? json_loads(body, 0, NULL) : NULL;
    gusto_free(body);
    const char *company = json_string_value(json_object_get(json_object_get(ti, "resource"),
                                                            "uuid"));
    const char *scope = json_string_value(json_object_get(ti, "scope"));
    bool valid = code == GUSTO_OK && company;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:b}", "name",
                          s->cli->token_stdin ? "--token-stdin" : "GUSTO_ACCESS_TOKEN",
                          "environment", gusto_client_environment(c), "base_url",
                          gusto_client_base_url(c), "company_uuid", company, "scope", scope,
                          "valid", valid);
    /* Not a stored connection: say where the token came from, so nobody
     * looks for it in the store (the token itself is never shown). */
    json_object_set_new(o, "source", json_string(s->cli->token_stdin ? "stdin" : "environment"));
    json_object_set_new(o, "stored", json_false());
    json_object_set_new(o, "api_version", api_version_json(c));
    if (!valid) {
        s->failures++;
        s->last = err;
        json_object_set_new(o, "error", json_string(code == GUSTO_OK
                                                        ? "token_info names no company"
                                                        : err.message));
        char hb[384];
        const char *h = out_hint(&err, hb, sizeof hb);
        if (h[0])
            json_object_set_new(o, "hint", json_string(h));
    }
    json_array_append_new(s->list, o);
    json_decref(ti);
    return 0;
}

static int status_one(void *ud, const gusto_connection *conn)
{
    struct status_ctx *s = ud;
    if (s->only && strcmp(s->only, conn->name) != 0)
        return 0;
    gusto_options o = {.timeout_ms = s->cli->timeout_ms};
    cli_client_options(s->cli, &o);
    gusto_error err;
    gusto_client *c = gusto_client_new_stored(&o, s->cli->store, conn->name, &err);
    cli_version_warning(s->cli, c);
    long status = 0;
    char *body = NULL;
    gusto_code rc = c ? gusto_request(c, "GET", "/v1/token_info", NULL, &status, &body, &err)
                      : err.code;
    json_t *ti = rc == GUSTO_OK && body ? json_loads(body, 0, NULL) : NULL;
    gusto_free(body);
    const char *company = json_string_value(json_object_get(json_object_get(ti, "resource"),
                                                            "uuid"));
    bool valid = rc == GUSTO_OK && company && strcmp(company, conn->company_uuid) == 0;
    gusto_connection now = *conn;
    gusto_connection_get(s->cli->store, conn->name, &now, NULL);
    json_t *o2 = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I}", "name", now.name,
                           "environment", now.environment, "base_url", now.base_url,
                           "company_uuid", now.company_uuid, "scope", now.scope, "valid",
                           valid, "expires_at", (json_int_t)now.expires_at, "refreshes",
                           (json_int_t)now.refreshes);
    if (c)
        json_object_set_new(o2, "api_version", api_version_json(c));
    if (!valid) {
        s->failures++;
        s->last = err;
        json_object_set_new(o2, "error", json_string(rc == GUSTO_OK
                                                         ? "token_info names another company"
                                                         : err.message));
        char hb[384];
        const char *h = out_hint(&err, hb, sizeof hb);
        if (h[0])
            json_object_set_new(o2, "hint", json_string(h));
    }
    json_array_append_new(s->list, o2);
    json_decref(ti);
    gusto_client_free(c);
    return 0;
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
    bool help = false;
    const char *pos[1];
    int npos = 0;
    struct cli_opt opts[] = {{NULL, NULL, NULL, NULL}};
    int rc = cli_args(cli, argc, argv, opts, pos, 0, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, "status");
    struct status_ctx s = {.cli = cli, .only = cli->connection, .list = json_array()};
    gusto_error err;
    if ((rc = cli_read_token(cli)) != 0) {
        json_decref(s.list);
        return rc;
    }
    /* A token in the environment is what every command uses: it comes first,
     * and the stored connections (if any) after it. */
    if (cli->token && *cli->token && !cli->connection && (rc = status_token(&s)) != 0) {
        json_decref(s.list);
        return rc;
    }
    if (gusto_connection_list(cli->store, status_one, &s, &err) != GUSTO_OK &&
        json_array_size(s.list) == 0) {
        json_decref(s.list);
        return out_error(cli, &err, NULL);
    }
    if (json_array_size(s.list) == 0) {
        json_decref(s.list);
        if (cli->connection) {
            char msg[128];
            snprintf(msg, sizeof msg, "no stored connection named \"%.60s\"", cli->connection);
            return out_fail(cli, EXIT_AUTH, "not_connected", msg, "connection",
                            "run gusto-connect status without --connection to list them");
        }
        return out_fail(cli, EXIT_AUTH, "not_connected", "no Gusto connection is stored",
                        NULL, "run gusto-connect connect --env demo|production --client-id ID");
    }
    if (cli->json_out) {
        out_ok_json(s.list);
    } else {
        size_t i;
        json_t *c;
        json_array_foreach(s.list, i, c) {
            const char *env = json_string_value(json_object_get(c, "environment"));
            const char *co = json_string_value(json_object_get(c, "company_uuid"));
            printf("%s: Gusto %s, company %s — %s\n",
                   json_string_value(json_object_get(c, "name")), env, co ? co : "unknown",
                   json_is_true(json_object_get(c, "valid")) ? "connected" : "NOT valid");
            const char *src = json_string_value(json_object_get(c, "source"));
            if (src)
                out_kv("  token", strcmp(src, "stdin") == 0
                                      ? "read from stdin (--token-stdin), not a stored "
                                        "connection"
                                      : "from the environment (GUSTO_ACCESS_TOKEN), not a "
                                        "stored connection");
            out_kv("  base url", json_string_value(json_object_get(c, "base_url")));
            if (src)
                out_kv("  scopes", json_string_value(json_object_get(c, "scope")));
            const json_t *v = json_object_get(c, "api_version");
            if (v) {
                const char *sunset = json_string_value(json_object_get(v, "sunset"));
                char line[160];
                snprintf(line, sizeof line, "%s (%s; final sunset %s)",
                         json_string_value(json_object_get(v, "version")),
                         json_string_value(json_object_get(v, "status")),
                         sunset ? sunset : "not set by Gusto");
                out_kv("  api version", line);
            }
            out_kv("  error", json_string_value(json_object_get(c, "error")));
            out_kv("  hint", json_string_value(json_object_get(c, "hint")));
        }
    }
    json_decref(s.list);
    return s.failures ? EXIT_AUTH : EXIT_OK;
}

int cmd_disconnect(struct cli *cli, int argc, char **argv)
{
    bool help = false, no_revoke = false;
    const char *pos[1];
    int npos = 0;
    struct cli_opt opts[] = {
        {"--no-revoke", NULL, NULL, &no_revoke},
        {NULL, NULL, NULL, NULL},
    };
    int rc = cli_args(cli, argc, argv, opts, pos, 0, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, "disconnect");
    gusto_connection conn;
    gusto_error err;
    if (gusto_connection_get(cli->store, cli->connection, &conn, &err) != GUSTO_OK)
        return out_error(cli, &err, NULL);
    /* Revoke at Gusto first (POST /oauth/revoke, to the connection's own
     * environment), then forget it here whatever Gusto said: a grant that
     * could not be revoked is reported, never kept locally because of it. */
    gusto_error rerr;
    memset(&rerr, 0, sizeof rerr);
    bool revoked = !no_revoke &&
                   gusto_connection_revoke(cli->store, conn.name, &rerr) == GUSTO_OK;
    if (gusto_connection_remove(cli->store, conn.name, &err) != GUSTO_OK)
        return out_error(cli, &err, NULL);
    json_t *data = json_pack("{s:s, s:b, s:b}", "name", conn.name, "removed", 1, "revoked",
                             revoked);
    if (!revoked && !no_revoke)
        json_object_set_new(data, "revoke_error", json_string(rerr.message));
    if (cli->json_out) {
        out_ok_json(data);
    } else {
        printf("Forgot connection \"%s\" (Gusto %s, company %s).\n", conn.name,
               conn.environment, conn.company_uuid);
        if (revoked)
            printf("Revoked its grant at Gusto: its tokens no longer work.\n");
        else if (no_revoke)
            printf("Not revoked at Gusto (--no-revoke): its tokens still work until they "
                   "expire or the admin removes the app in Gusto.\n");
    }
    if (!revoked && !no_revoke && !cli->quiet)
        fprintf(stderr, "gusto-connect: warning: removed locally, but Gusto did not revoke the "
                        "grant (%s); remove the app in Gusto's settings if its tokens must "
                        "stop working now\n", rerr.message[0] ? rerr.message : "no answer");
    json_decref(data);
    return EXIT_OK;
}

/* Names of the stored connections, for `use`'s answers. */
static int collect_name(void *ud, const gusto_connection *conn)
{
    json_array_append_new(ud, json_string(conn->name));
    return 0;
}

int cmd_use(struct cli *cli, int argc, char **argv)
{
    bool help = false, clear = false;
    const char *pos[1];
    int npos = 0;
    struct cli_opt opts[] = {
        {"--clear", NULL, NULL, &clear},
        {NULL, NULL, NULL, NULL},
    };
    int rc = cli_args(cli, argc, argv, opts, pos, 1, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, "use");
    if (clear && npos)
        return out_usage(cli, "use takes a NAME or --clear, not both");
    gusto_error err;
    json_t *names = json_array();
    if (gusto_connection_list(cli->store, collect_name, names, &err) != GUSTO_OK) {
        json_decref(names);
        return out_error(cli, &err, NULL);
    }
    if (npos || clear) {
        if (gusto_connstore_set_default(cli->store, clear ? NULL : pos[0], &err) != GUSTO_OK) {
            if (strcmp(err.reason, "connection_unknown") == 0) {
                char *list = json_dumps(names, JSON_COMPACT);
                snprintf(err.hint, sizeof err.hint, "stored: %.200s", list ? list : "?");
                free(list);
                err.reason[0] = 0;
            }
            json_decref(names);
            return out_error(cli, &err, NULL);
        }
    }
    char dflt[64] = "";
    if (gusto_connstore_get_default(cli->store, dflt, sizeof dflt, &err) != GUSTO_OK) {
        json_decref(names);
        return out_error(cli, &err, NULL);
    }
    gusto_connection conn;
    bool have = dflt[0] && gusto_connection_get(cli->store, dflt, &conn, NULL) == GUSTO_OK;
    json_t *data = json_pack("{s:o, s:O}", "default", have ? json_string(dflt) : json_null(),
                             "connections", names);
    if (have) {
        json_object_set_new(data, "environment", json_string(conn.environment));
        json_object_set_new(data, "company_uuid", json_string(conn.company_uuid));
    }
    if (cli->json_out) {
        out_ok_json(data);
    } else if (have) {
        printf("%s \"%s\" (Gusto %s, company %s).\n",
               npos ? "The default connection is now" : "The default connection is", dflt,
               conn.environment, conn.company_uuid);
    } else {
        char *list = json_dumps(names, JSON_COMPACT);
        printf("No default connection%s; stored: %s.  Choose one: gusto-connect use NAME\n",
               clear ? " any more" : "", list ? list : "?");
        free(list);
    }
    json_decref(data);
    json_decref(names);
    return EXIT_OK;
}
