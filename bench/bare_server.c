/* bare_server.c - the machine's ceiling for make bench: libmicrohttpd answering fixed JSON bodies, threaded as the sandbox is. */
#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* By default the same threading as src/sandbox/server.c
 * (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION), so the
 * two differ only in the work done per request; that is the ceiling make
 * bench uses.  --pool N (an epoll thread pool) exists only to measure what
 * the threading mode itself costs (docs/performance.md). */

static const char usage[] =
    "usage: bare_server [--port N] [--get FILE] [--list FILE] [--pool THREADS]\n"
    "Listens on 127.0.0.1.  A URL ending in /employees gets the --list body,\n"
    "any other URL the --get body (default {\"ok\":true}).  Prints\n"
    "'listening on http://127.0.0.1:PORT' and runs until SIGINT or SIGTERM.\n"
    "Threads: one per connection, as gusto-sandbox; --pool: an epoll pool.\n";

struct body {
    char *data;
    size_t len;
};

static struct body get_body = {"{\"ok\":true}", 11}, list_body = {"[]", 2};

static int load(const char *path, struct body *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bare_server: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (!buf)
        return -1;
    b->data = buf;
    b->len = len;
    return 0;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_size, void **con_cls)
{
    static int first_call_marker;
    (void)cls;
    (void)method;
    (void)version;
    (void)upload_data;
    /* Queue on the second call: queuing on the first makes MHD close the
     * connection after every response (no keep-alive). */
    if (*con_cls == NULL) {
        *con_cls = &first_call_marker;
        return MHD_YES;
    }
    *upload_size = 0;
    size_t ul = strlen(url);
    const struct body *b =
        ul >= 10 && strcmp(url + ul - 10, "/employees") == 0 ? &list_body : &get_body;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(b->len, b->data, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    long port = 0, pool = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            port = strtol(argv[++i], &end, 10);
            if (errno || *end || port < 0 || port > 65535) {
                fputs(usage, stderr);
                return 2;
            }
        } else if (strcmp(argv[i], "--pool") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            pool = strtol(argv[++i], &end, 10);
            if (errno || *end || pool < 1 || pool > 64) {
                fputs(usage, stderr);
                return 2;
            }
        } else if (strcmp(argv[i], "--get") == 0 && i + 1 < argc) {
            if (load(argv[++i], &get_body))
                return 1;
        } else if (strcmp(argv[i], "--list") == 0 && i + 1 < argc) {
            if (load(argv[++i], &list_body))
                return 1;
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d;
    if (pool)
        d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY |
                                 MHD_USE_ERROR_LOG,
                             0, NULL, NULL, answer, NULL, MHD_OPTION_SOCK_ADDR,
                             (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
                             (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)2000,
                             MHD_OPTION_THREAD_POOL_SIZE, (unsigned)pool, MHD_OPTION_END);
    else
        d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                 MHD_USE_ERROR_LOG,
                             0, NULL, NULL, answer, NULL, MHD_OPTION_SOCK_ADDR,
                             (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
                             (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)2000,
                             MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bare_server: cannot listen on 127.0.0.1:%ld\n", port);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on http://127.0.0.1:%u\n", info ? (unsigned)info->port : 0u);
    fflush(stdout);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    return 0;
}
