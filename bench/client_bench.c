/* client_bench.c - the libgusto side of make bench: list, get, create and one-call runs, timed with getrusage. */
#include "gusto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char usage[] =
    "usage: client_bench MODE BASE_URL TOKEN COMPANY [ARGS]\n"
    "  uuids N FILE    write the uuids of the first N employees to FILE\n"
    "  list            list every employee, page/per=100 (gusto_employees_list)\n"
    "  get N FILE      GET /v1/employees/UUID for the first N uuids of FILE\n"
    "                  (gusto_request: one request each, as the SDK's employees.get)\n"
    "  getfull N FILE  gusto_employee_get for N uuids (two requests each)\n"
    "  create N TAG    gusto_employee_create N times with home address, job and\n"
    "                  compensation; TAG makes the names unique\n"
    "  one UUID        one GET /v1/employees/UUID (a whole process is what is timed)\n"
    "Prints one line: mode=M n=N wall_ms=W cpu_ms=C maxrss_kb=R requests=Q\n";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int parse_count(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

static void die_code(const char *what, gusto_code rc, const gusto_error *e)
{
    fprintf(stderr, "client_bench: %s: %s (HTTP %ld) %s\n", what, gusto_strerror(rc),
            e->http_status, e->message);
    exit(1);
}

/* ---- uuids / list ------------------------------------------------------ */

struct uuid_sink {
    FILE *out;
    long want, got;
};

/* Pull "uuid":"..." out of an employee object without a JSON library: the
 * bench links only libgusto. */
static int find_uuid(const char *json, size_t len, char *buf, size_t cap)
{
    static const char key[] = "\"uuid\":\"";
    const char *p = NULL;
    for (size_t i = 0; i + sizeof key - 1 <= len; i++) {
        if (memcmp(json + i, key, sizeof key - 1) == 0) {
            p = json + i + sizeof key - 1;
            break;
        }
    }
    if (!p)
        return -1;
    size_t n = 0;
    while (p + n < json + len && p[n] != '"' && n + 1 < cap)
        n++;
    memcpy(buf, p, n);
    buf[n] = 0;
    return 0;
}

static int each_uuid(void *ud, const char *json, size_t len)
{
    struct uuid_sink *s = ud;
    char uuid[64];
    if (find_uuid(json, len, uuid, sizeof uuid) == 0) {
        fprintf(s->out, "%s\n", uuid);
        s->got++;
    }
    return s->got >= s->want;
}

static int each_count(void *ud, const char *json, size_t len)
{
    size_t *bytes = ud;
    (void)json;
    *bytes += len;
    return 0;
}

/* ---- uuid files -------------------------------------------------------- */

static char (*read_uuids(const char *path, long n, long *got))[40]
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "client_bench: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    char(*v)[40] = calloc((size_t)(n ? n : 1), sizeof *v);
    char line[128];
    long i = 0;
    while (i < n && v && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        size_t len = strlen(line);
        if (len > 0 && len < sizeof v[0])
            memcpy(v[i++], line, len + 1);
    }
    fclose(f);
    *got = i;
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fputs(usage, stderr);
        return 2;
    }
    const char *mode = argv[1];
    gusto_options o = {0};
    o.base_url = argv[2];
    o.access_token = argv[3];
    o.company_uuid = *argv[4] ? argv[4] : NULL;
    o.rate_limit = -1;   /* the sandbox runs with --rate-limit 0 */
    gusto_error e;

    double w0 = now_ms(), c0 = cpu_ms();
    gusto_client *c = gusto_client_new(&o, &e);
    if (!c)
        die_code("gusto_client_new", e.code, &e);
    long n = 0, done = 0;
    gusto_code rc;

    if (strcmp(mode, "uuids") == 0 && argc == 7 && parse_count(argv[5], &n) == 0) {
        struct uuid_sink s = {fopen(argv[6], "w"), n, 0};
        if (!s.out) {
            fprintf(stderr, "client_bench: %s: %s\n", argv[6], strerror(errno));
            return 1;
        }
        rc = gusto_employees_list(c, NULL, each_uuid, &s, NULL, &e);
        fclose(s.out);
        if (rc != GUSTO_OK && rc != GUSTO_ECANCELED)
            die_code("list", rc, &e);
        done = s.got;
    } else if (strcmp(mode, "list") == 0 && argc == 5) {
        size_t bytes = 0, total = 0;
        gusto_list_options lo = {0};
        lo.per_page = 100;
        rc = gusto_employees_list(c, &lo, each_count, &bytes, &total, &e);
        if (rc != GUSTO_OK)
            die_code("list", rc, &e);
        done = (long)total;
    } else if ((strcmp(mode, "get") == 0 || strcmp(mode, "getfull") == 0) && argc == 7 &&
               parse_count(argv[5], &n) == 0) {
        long have;
        char(*ids)[40] = read_uuids(argv[6], n, &have);
        int full = mode[3] == 'f';
        for (long i = 0; i < have; i++) {
            char *out = NULL;
            if (full) {
                rc = gusto_employee_get(c, ids[i], &out, &e);
            } else {
                char path[96];
                long status;
                snprintf(path, sizeof path, "/v1/employees/%s", ids[i]);
                rc = gusto_request(c, "GET", path, NULL, &status, &out, &e);
            }
            if (rc != GUSTO_OK)
                die_code(ids[i], rc, &e);
            gusto_free(out);
            done++;
        }
        free(ids);
    } else if (strcmp(mode, "create") == 0 && argc == 7 && parse_count(argv[5], &n) == 0) {
        const char *tag = argv[6];
        for (long i = 0; i < n; i++) {
            char in[1024];
            snprintf(in, sizeof in,
                     "{\"first_name\":\"Bench\",\"last_name\":\"C%s%ld\","
                     "\"email\":\"bench.c.%s.%ld@example.com\",\"date_of_birth\":\"1990-01-01\","
                     "\"home_address\":{\"street_1\":\"1 Main St\",\"city\":\"Austin\","
                     "\"state\":\"TX\",\"zip\":\"78701\"},"
                     "\"job\":{\"title\":\"Engineer\",\"hire_date\":\"2025-01-06\"},"
                     "\"compensation\":{\"rate\":\"90000.00\",\"payment_unit\":\"Year\","
                     "\"flsa_status\":\"Exempt\"}}",
                     tag, i, tag, i);
            char *out = NULL;
            /* Without the duplicate look (a read of the whole employee list
             * per create): the SDK it is compared with makes none. */
            rc = gusto_employee_create_ex(c, in, GUSTO_CREATE_ALLOW_DUPLICATE, &out, &e);
            if (rc != GUSTO_OK)
                die_code("create", rc, &e);
            gusto_free(out);
            done++;
        }
    } else if (strcmp(mode, "one") == 0 && argc == 6) {
        char path[96], *out = NULL;
        long status;
        snprintf(path, sizeof path, "/v1/employees/%s", argv[5]);
        rc = gusto_request(c, "GET", path, NULL, &status, &out, &e);
        if (rc != GUSTO_OK)
            die_code("one", rc, &e);
        gusto_free(out);
        done = 1;
    } else {
        fputs(usage, stderr);
        gusto_client_free(c);
        return 2;
    }
    unsigned long requests = gusto_request_count(c);
    gusto_client_free(c);
    double w1 = now_ms(), c1 = cpu_ms();
    printf("mode=%s n=%ld wall_ms=%.1f cpu_ms=%.1f maxrss_kb=%ld requests=%lu\n", mode, done,
           w1 - w0, c1 - c0, maxrss_kb(), requests);
    return 0;
}
