/* list_employees.c - a minimal libgusto program: print every employee's
 * name, one per line.  It shows the library standing on its own; build it
 * against an installed libgusto with:
 *
 *   cc -o list_employees list_employees.c $(pkg-config --cflags --libs gusto)
 *
 * Run: GUSTO_ACCESS_TOKEN=... ./list_employees [BASE_URL]
 */
#include <gusto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pull "first_name" and "last_name" out of the employee JSON without a JSON
 * library: good enough for an example, and keeps its dependencies at one. */
static void field(const char *json, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(json, pat);
    size_t n = 0;
    if (p)
        for (p += strlen(pat); *p && *p != '"' && n + 1 < cap; p++)
            out[n++] = *p;
    out[n] = 0;
}

static int print_one(void *userdata, const char *json, size_t len)
{
    (void)len;
    char first[128], last[128];
    field(json, "first_name", first, sizeof first);
    field(json, "last_name", last, sizeof last);
    printf("%s %s\n", first, last);
    ++*(int *)userdata;
    return 0;
}

int main(int argc, char **argv)
{
    gusto_options opts = GUSTO_OPTIONS_INIT;
    opts.base_url = argc > 1 ? argv[1] : getenv("GUSTO_API_BASE_URL");
    opts.access_token = getenv("GUSTO_ACCESS_TOKEN");
    gusto_error err;
    gusto_client *client = gusto_client_new(&opts, &err);
    if (!client) {
        fprintf(stderr, "list_employees: %s\n", err.message);
        return 1;
    }
    int count = 0;
    gusto_code rc = gusto_employees_list(client, NULL, print_one, &count, NULL, &err);
    if (rc != GUSTO_OK)
        fprintf(stderr, "list_employees: %s: %s\n", gusto_strerror(rc), err.message);
    else
        fprintf(stderr, "%d employees\n", count);
    gusto_client_free(client);
    return rc == GUSTO_OK ? 0 : 1;
}
