/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- checks ------------------------------------------------------------ */

static pthread_mutex_t check_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile long n_pass, n_fail;
static const char *current_test = "";

bool tu_check(bool cond, const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&check_lock);
    if (cond) {
        n_pass++;
    } else {
        n_fail++;
        fprintf(stderr, "FAIL %s:%d [%s] %s\n", file, line, current_test, msg);
    }
    pthread_mutex_unlock(&check_lock);
    return cond;
}

bool tu_check_str(const char *got, const char *want, const char *file, int line,
                  const char *what)
{
    bool ok = got && want && strcmp(got, want) == 0;
    return tu_check(ok, file, line, "%s: got \"%.200s\", want \"%.200s\"", what,
                    got ? got : "(null)", want ? want : "(null)");
}

bool tu_check_long(long got, long want, const char *file, int line, const char *what)
{
    return tu_check(got == want, file, line, "%s: got %ld, want %ld", what, got, want);
}

/* ---- child process bookkeeping and crash safety ------------------------ */

#define MAX_LIVE 16
static volatile pid_t live[MAX_LIVE];
static struct sandbox *cur;

static void live_add(pid_t p)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] == 0) {
            live[i] = p;
            return;
        }
}

static void live_del(pid_t p)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] == p)
            live[i] = 0;
}

void sb_kill_all(void)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] > 0) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
            live[i] = 0;
        }
}

static void write_str(const char *s)
{
    ssize_t r = write(2, s, strlen(s));
    (void)r;
}

/* Decimal text of n into buf (async-signal-safe). */
static const char *ltoa_safe(long n, char buf[24])
{
    char *p = buf + 23;
    *p = 0;
    bool neg = n < 0;
    unsigned long u = neg ? 0UL - (unsigned long)n : (unsigned long)n;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg)
        *--p = '-';
    return p;
}

/* Signal handler: async-signal-safe calls only. */
static void on_fatal(int sig)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] > 0)
            kill(live[i], SIGKILL);
    if (sig == SIGALRM) {
        write_str("FAIL: the test binary timed out; sandboxes killed\n");
        char a[24], b[24];
        const char *parts[] = {ltoa_safe(n_pass, a), " passed, ", ltoa_safe(n_fail + 1, b),
                               " failed\n"};
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
            ssize_t r = write(1, parts[i], strlen(parts[i]));
            (void)r;
        }
        _exit(1);
    }
    write_str("FAIL: the test binary got a fatal signal; sandboxes killed\n");
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM,
                               SIGSEGV, SIGBUS, SIGFPE, SIGABRT, SIGILL};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);
    atexit(sb_kill_all);
}

int tu_run(const struct test *tests, size_t n, int argc, char **argv)
{
    install_handlers();
    alarm(180); /* a hung test must not hang CI */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "curl_global_init failed\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        bool wanted = argc <= 1;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], tests[i].name) == 0)
                wanted = true;
        if (!wanted)
            continue;
        current_test = tests[i].name;
        long f0 = n_fail;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        tests[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        sb_kill_all(); /* a test that forgot to stop its sandbox */
        cur = NULL;
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        fprintf(stderr, "%s %s (%.0f ms)\n", n_fail == f0 ? "ok  " : "FAIL", tests[i].name,
                ms);
    }
    curl_global_cleanup();
    alarm(0);
    printf("%ld passed, %ld failed\n", n_pass, n_fail);
    fflush(stdout);
    return n_fail ? 1 : 0;
}

/* ---- growable buffer ----------------------------------------------------- */

struct buf {
    char *p;
    size_t n, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        while (nc < b->n + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np)
            return -1;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

/* ---- the sandbox process ------------------------------------------------- */

static void dump_stderr(const struct sandbox *sb)
{
    if (sb->err_fd < 0)
        return;
    char tmp[4096];
    off_t off = 0;
    ssize_t r;
    while ((r = pread(sb->err_fd, tmp, sizeof tmp, off)) > 0) {
        fwrite(tmp, 1, (size_t)r, stderr);
        off += r;
    }
}

/* True when the child's stderr holds a sanitizer or UBSan report. */
static bool stderr_has_report(const struct sandbox *sb)
{
    if (sb->err_fd < 0)
        return false;
    struct buf b = {0};
    char tmp[4096];
    off_t off = 0;
    ssize_t r;
    while ((r = pread(sb->err_fd, tmp, sizeof tmp, off)) > 0) {
        buf_add(&b, tmp, (size_t)r);
        off += r;
    }
    bool bad = b.p && (strstr(b.p, "Sanitizer") || strstr(b.p, "runtime error:"));
    free(b.p);
    return bad;
}

static void sb_close_fds(struct sandbox *sb)
{
    if (sb->out_fd >= 0)
        close(sb->out_fd);
    if (sb->err_fd >= 0)
        close(sb->err_fd);
    sb->out_fd = sb->err_fd = -1;
}

bool sb_startv(struct sandbox *sb, const char *const *args)
{
    memset(sb, 0, sizeof *sb);
    sb->out_fd = sb->err_fd = -1;
    const char *bin = getenv("GUSTO_SANDBOX");
    if (!bin || !*bin)
        bin = "build/gusto-sandbox";

    const char *argv[64];
    size_t na = 0;
    argv[na++] = bin;
    argv[na++] = "--port";
    argv[na++] = "0";
    for (size_t i = 0; args && args[i] && na < sizeof argv / sizeof argv[0] - 1; i++)
        argv[na++] = args[i];
    argv[na] = NULL;

    int outp[2];
    if (pipe2(outp, O_CLOEXEC) != 0)
        return CHECK(false, "pipe: %s", strerror(errno));
    char errpath[] = "/tmp/gusto-sbtest-err-XXXXXX";
    int errfd = mkostemp(errpath, O_CLOEXEC);
    if (errfd < 0) {
        close(outp[0]);
        close(outp[1]);
        return CHECK(false, "mkstemp: %s", strerror(errno));
    }
    unlink(errpath);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(outp[0]);
        close(outp[1]);
        close(errfd);
        return CHECK(false, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* Die with the test binary, whatever happens to it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(outp[1], 1);
        dup2(errfd, 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        execv(bin, (char *const *)argv);
        dprintf(2, "exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(outp[1]);
    sb->pid = pid;
    sb->out_fd = outp[0];
    sb->err_fd = errfd;
    live_add(pid);

    /* Read "listening on http://127.0.0.1:PORT" then "company: UUID". */
    struct buf b = {0};
    bool have_port = false, have_company = false;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!(have_port && have_company)) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = 20000 - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0)
            break;
        struct pollfd pfd = {.fd = sb->out_fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            break;
        char tmp[512];
        ssize_t r = read(sb->out_fd, tmp, sizeof tmp);
        if (r <= 0)
            break; /* the child exited */
        buf_add(&b, tmp, (size_t)r);
        char *nl;
        while (b.p && (nl = memchr(b.p, '\n', b.n)) != NULL) {
            *nl = 0;
            static const char lp[] = "listening on http://127.0.0.1:";
            if (strncmp(b.p, lp, sizeof lp - 1) == 0) {
                char *end = NULL;
                long port = strtol(b.p + sizeof lp - 1, &end, 10);
                if (end && *end == 0 && port > 0 && port < 65536) {
                    sb->port = (unsigned)port;
                    have_port = true;
                }
            } else if (strncmp(b.p, "company: ", 9) == 0) {
                snprintf(sb->company, sizeof sb->company, "%s", b.p + 9);
                have_company = strlen(sb->company) == 36;
            }
            size_t used = (size_t)(nl - b.p) + 1;
            memmove(b.p, nl + 1, b.n - used + 1);
            b.n -= used;
        }
    }
    free(b.p);
    if (!(have_port && have_company)) {
        CHECK(false, "sandbox %s did not start (port %s, company %s); its stderr follows",
              bin, have_port ? "ok" : "missing", have_company ? "ok" : "missing");
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        live_del(pid);
        dump_stderr(sb);
        sb_close_fds(sb);
        sb->pid = 0;
        return false;
    }
    snprintf(sb->base, sizeof sb->base, "http://127.0.0.1:%u", sb->port);
    if (client_init(&sb->cl, sb->base) != 0) {
        sb_kill(sb);
        return CHECK(false, "curl_easy_init failed");
    }
    cur = sb;
    return true;
}

bool sb_start(struct sandbox *sb, ...)
{
    const char *args[48];
    size_t n = 0;
    va_list ap;
    va_start(ap, sb);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < sizeof args / sizeof args[0] - 1)
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    return sb_startv(sb, args);
}

void sb_use(struct sandbox *sb)
{
    cur = sb;
}

static void sb_forget(struct sandbox *sb)
{
    client_free(&sb->cl);
    if (cur == sb)
        cur = NULL;
}

void sb_stop(struct sandbox *sb)
{
    if (!sb->pid)
        return;
    sb_forget(sb);
    kill(sb->pid, SIGTERM);
    int status = 0;
    pid_t w = 0;
    for (int i = 0; i < 1500; i++) { /* up to 15 s */
        w = waitpid(sb->pid, &status, WNOHANG);
        if (w != 0)
            break;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (w == 0) {
        kill(sb->pid, SIGKILL);
        waitpid(sb->pid, &status, 0);
        CHECK(false, "sandbox pid %d did not stop within 15 s of SIGTERM", (int)sb->pid);
    } else {
        bool clean = w == sb->pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        CHECK(clean, "sandbox should exit 0 on SIGTERM; wait status 0x%x", status);
        if (!clean)
            dump_stderr(sb);
    }
    if (stderr_has_report(sb)) {
        CHECK(false, "sandbox stderr has a sanitizer report; it follows");
        dump_stderr(sb);
    }
    live_del(sb->pid);
    sb->pid = 0;
    sb_close_fds(sb);
}

void sb_kill(struct sandbox *sb)
{
    if (!sb->pid)
        return;
    sb_forget(sb);
    kill(sb->pid, SIGKILL);
    waitpid(sb->pid, NULL, 0);
    if (stderr_has_report(sb)) {
        CHECK(false, "sandbox stderr has a sanitizer report; it follows");
        dump_stderr(sb);
    }
    live_del(sb->pid);
    sb->pid = 0;
    sb_close_fds(sb);
}

/* ---- HTTP ---------------------------------------------------------------- */

int client_init(struct client *c, const char *base)
{
    c->curl = curl_easy_init();
    snprintf(c->base, sizeof c->base, "%s", base);
    return c->curl ? 0 : -1;
}

void client_free(struct client *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

void resp_free(struct resp *r)
{
    free(r->headers);
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    return buf_add(ud, p, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct buf *b = ud;
    /* A new status line starts a new header block (after 100 Continue). */
    if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
        b->n = 0;
    return buf_add(b, p, size * n) == 0 ? size * n : 0;
}

static const char LOCAL_PREFIX[] = "http://127.0.0.1:";

long http_req(struct client *c, const char *method, const char *url_or_path,
              const char *token, const char *body, size_t body_len,
              const char *const *extra_headers, struct resp *out)
{
    resp_free(out);
    char url[2048];
    if (url_or_path[0] == '/') {
        snprintf(url, sizeof url, "%s%s", c->base, url_or_path);
    } else if (strncmp(url_or_path, LOCAL_PREFIX, sizeof LOCAL_PREFIX - 1) == 0) {
        snprintf(url, sizeof url, "%s", url_or_path);
    } else {
        CHECK(false, "refusing to contact %.100s: only 127.0.0.1 is allowed", url_or_path);
        return 0;
    }
    if (!c->curl) {
        CHECK(false, "no HTTP client (sandbox not running?) for %s %s", method, url);
        return 0;
    }
    CURL *h = c->curl;
    curl_easy_reset(h); /* keeps the connection cache: keep-alive continues */
    struct buf bb = {0}, hb = {0};
    struct curl_slist *hl = NULL;
    char auth[600];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hl = curl_slist_append(hl, auth);
    }
    hl = curl_slist_append(hl, "Accept: application/json");
    hl = curl_slist_append(hl, "Expect:");
    if (body)
        hl = curl_slist_append(hl, "Content-Type: application/json");
    for (size_t i = 0; extra_headers && extra_headers[i]; i++)
        hl = curl_slist_append(hl, extra_headers[i]);

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http");
#endif
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &bb);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hb);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(body ? body_len : 0));
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        }
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hl);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    out->status = status;
    out->headers = hb.p ? hb.p : calloc(1, 1);
    out->body = bb.p ? bb.p : calloc(1, 1);
    out->body_len = bb.n;
    if (rc == CURLE_OK && bb.n > 0)
        out->json = json_loadb(bb.p, bb.n, 0, NULL);
    return status;
}

int http(const char *method, const char *url_or_path, const char *token, const char *body,
         long *status, char **headers, json_t **json)
{
    struct resp r = {0};
    struct client none = {0};
    http_req(cur ? &cur->cl : &none, method, url_or_path, token, body,
             body ? strlen(body) : 0, NULL, &r);
    if (status)
        *status = r.status;
    if (headers) {
        *headers = r.headers;
        r.headers = NULL;
    }
    if (json) {
        *json = r.json;
        r.json = NULL;
    }
    int ok = r.status ? 0 : -1;
    resp_free(&r);
    return ok;
}

long req(struct resp *r, const char *method, const char *token, const char *body,
         const char *pathfmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, pathfmt);
    vsnprintf(path, sizeof path, pathfmt, ap);
    va_end(ap);
    struct client none = {0};
    return http_req(cur ? &cur->cl : &none, method, path, token, body,
                    body ? strlen(body) : 0, NULL, r);
}

const char *hget(const char *headers, const char *name, char *buf, size_t len)
{
    if (!headers || !len)
        return NULL;
    size_t nl = strlen(name);
    const char *p = headers;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);
        if (ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            const char *e = p + ll;
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
                e--;
            size_t vl = (size_t)(e - v);
            if (vl >= len)
                vl = len - 1;
            memcpy(buf, v, vl);
            buf[vl] = 0;
            return buf;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return NULL;
}

bool hhas(const char *headers, const char *name)
{
    char tmp[8];
    return hget(headers, name, tmp, sizeof tmp) != NULL;
}

/* ---- JSON paths ------------------------------------------------------------ */

json_t *jget(const json_t *root, const char *path)
{
    const json_t *j = root;
    const char *p = path;
    while (j && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end = NULL;
            long i = strtol(p + 1, &end, 10);
            if (!end || *end != ']' || i < 0 || !json_is_array(j))
                return NULL;
            j = json_array_get(j, (size_t)i);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        if (!json_is_object(j))
            return NULL;
        j = json_object_getn(j, p, n);
        p += n;
    }
    return (json_t *)j;
}

const char *jstr(const json_t *root, const char *path)
{
    return json_string_value(jget(root, path));
}

long long jint(const json_t *root, const char *path, long long dflt)
{
    json_t *v = jget(root, path);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

long jlen(const json_t *root, const char *path)
{
    json_t *v = jget(root, path);
    if (json_is_array(v))
        return (long)json_array_size(v);
    if (json_is_object(v))
        return (long)json_object_size(v);
    return -1;
}

const char *jtext(const json_t *root, const char *path, char *buf, size_t len)
{
    json_t *v = jget(root, path);
    buf[0] = 0;
    if (!v)
        return buf;
    switch (json_typeof(v)) {
    case JSON_STRING: snprintf(buf, len, "%s", json_string_value(v)); break;
    case JSON_INTEGER: snprintf(buf, len, "%lld", (long long)json_integer_value(v)); break;
    case JSON_REAL: snprintf(buf, len, "%g", json_real_value(v)); break;
    case JSON_TRUE: snprintf(buf, len, "true"); break;
    case JSON_FALSE: snprintf(buf, len, "false"); break;
    case JSON_NULL: snprintf(buf, len, "null"); break;
    default: {
        char *s = json_dumps(v, JSON_COMPACT);
        snprintf(buf, len, "%s", s ? s : "");
        free(s);
    }
    }
    return buf;
}

/* ---- table-driven cases ------------------------------------------------------ */

static struct {
    char name[24];
    char value[256];
} vars[48];

void tu_var(const char *name, const char *value)
{
    int free_slot = -1;
    for (int i = 0; i < (int)(sizeof vars / sizeof vars[0]); i++) {
        if (vars[i].name[0] && strcmp(vars[i].name, name) == 0) {
            snprintf(vars[i].value, sizeof vars[i].value, "%s", value ? value : "");
            return;
        }
        if (!vars[i].name[0] && free_slot < 0)
            free_slot = i;
    }
    if (free_slot >= 0) {
        snprintf(vars[free_slot].name, sizeof vars[free_slot].name, "%s", name);
        snprintf(vars[free_slot].value, sizeof vars[free_slot].value, "%s",
                 value ? value : "");
    }
}

const char *tu_getvar(const char *name)
{
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (vars[i].name[0] && strcmp(vars[i].name, name) == 0)
            return vars[i].value;
    return NULL;
}

const char *tu_expand(const char *tmpl, char *out, size_t len)
{
    size_t n = 0;
    out[0] = 0;
    for (const char *p = tmpl; *p && n + 1 < len;) {
        if (*p == '{') {
            size_t k = 1;
            while (p[k] == '_' || (p[k] >= 'A' && p[k] <= 'Z') || (p[k] >= 'a' && p[k] <= 'z') ||
                   (p[k] >= '0' && p[k] <= '9'))
                k++;
            if (k > 1 && p[k] == '}' && k - 1 < sizeof vars[0].name) {
                char name[sizeof vars[0].name];
                memcpy(name, p + 1, k - 1);
                name[k - 1] = 0;
                const char *v = tu_getvar(name);
                if (v) {
                    int w = snprintf(out + n, len - n, "%s", v);
                    n += (size_t)w < len - n ? (size_t)w : len - n - 1;
                    p += k + 1;
                    continue;
                }
            }
        }
        out[n++] = *p++;
        out[n] = 0;
    }
    return out;
}

/* Evaluate one expectation; on failure write why into why. */
static bool expect_ok(const struct resp *r, const char *e, char *why, size_t wl)
{
    char tmp[512], got[512];
    const char *eq;
    size_t el = strlen(e);
    bool ok;
    if (strncmp(e, "!@", 2) == 0) {
        ok = !hhas(r->headers, e + 2);
        snprintf(why, wl, "header %s should be absent", e + 2);
        return ok;
    }
    if (e[0] == '@') {
        eq = strchr(e, '=');
        if (!eq && el > 1 && e[el - 1] == '?') {
            snprintf(tmp, sizeof tmp, "%.*s", (int)(el - 2), e + 1);
            snprintf(why, wl, "header %s should be present", tmp);
            return hhas(r->headers, tmp);
        }
        if (!eq) {
            snprintf(why, wl, "bad expectation '%s'", e);
            return false;
        }
        snprintf(tmp, sizeof tmp, "%.*s", (int)(eq - e - 1), e + 1);
        const char *v = hget(r->headers, tmp, got, sizeof got);
        snprintf(why, wl, "header %s: got '%s', want '%s'", tmp, v ? v : "(absent)", eq + 1);
        return v && strcmp(v, eq + 1) == 0;
    }
    if (e[0] == '!') {
        snprintf(why, wl, "JSON %s should be absent, got %s", e + 1,
                 jtext(r->json, e + 1, got, sizeof got));
        return jget(r->json, e + 1) == NULL;
    }
    const char *hash = strstr(e, "#=");
    if (hash) {
        snprintf(tmp, sizeof tmp, "%.*s", (int)(hash - e), e);
        long want = strtol(hash + 2, NULL, 10);
        long have = jlen(r->json, tmp);
        snprintf(why, wl, "JSON %s has %ld members, want %ld", tmp[0] ? tmp : "(root)", have,
                 want);
        return have == want;
    }
    eq = strchr(e, '=');
    if (!eq && el > 0 && e[el - 1] == '?') {
        snprintf(tmp, sizeof tmp, "%.*s", (int)(el - 1), e);
        snprintf(why, wl, "JSON %s should be present", tmp);
        return jget(r->json, tmp) != NULL;
    }
    if (!eq) {
        snprintf(why, wl, "bad expectation '%s'", e);
        return false;
    }
    snprintf(tmp, sizeof tmp, "%.*s", (int)(eq - e), e);
    bool present = jget(r->json, tmp) != NULL;
    jtext(r->json, tmp, got, sizeof got);
    ok = present && strcmp(got, eq + 1) == 0;
    snprintf(why, wl, "JSON %s: got '%s', want '%s'", tmp, present ? got : "(absent)", eq + 1);
    return ok;
}

bool check_expect(const struct resp *r, const char *e, const char *casename,
                  const char *file, int line)
{
    char expanded[512], why[1200];
    tu_expand(e, expanded, sizeof expanded);
    bool ok = expect_ok(r, expanded, why, sizeof why);
    return tu_check(ok, file, line, "%s%s%s", casename, *casename ? ": " : "", why);
}

void run_cases(const struct http_case *cases, size_t n)
{
    struct resp r = {0};
    struct client none = {0};
    for (size_t i = 0; i < n; i++) {
        const struct http_case *c = &cases[i];
        char path[1024], tok[256], body[4096];
        tu_expand(c->path, path, sizeof path);
        if (c->token)
            tu_expand(c->token, tok, sizeof tok);
        if (c->body)
            tu_expand(c->body, body, sizeof body);
        http_req(cur ? &cur->cl : &none, c->method, path, c->token ? tok : NULL,
                 c->body ? body : NULL, c->body ? strlen(body) : 0, NULL, &r);
        /* One CHECK per case: the status and every expectation. */
        char msg[2048];
        size_t m = 0;
        bool ok = r.status == c->status;
        if (!ok)
            m += (size_t)snprintf(msg + m, sizeof msg - m, "; status %ld, want %ld; body: %.300s",
                                  r.status, c->status, r.body ? r.body : "");
        for (int k = 0; k < TU_MAX_EXPECT && c->expect[k]; k++) {
            char e[512], why[1200];
            tu_expand(c->expect[k], e, sizeof e);
            if (!expect_ok(&r, e, why, sizeof why)) {
                ok = false;
                if (m < sizeof msg)
                    m += (size_t)snprintf(msg + m, sizeof msg - m, "; %s", why);
            }
        }
        if (m >= sizeof msg)
            m = sizeof msg - 1;
        msg[m] = 0;
        tu_check(ok, __FILE__, __LINE__, "case '%s' (%s %s)%s", c->name, c->method, path,
                 ok ? "" : msg);
    }
    resp_free(&r);
}
