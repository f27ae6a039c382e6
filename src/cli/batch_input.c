/* batch_input.c - reads the input of `gusto-connect batch create` (JSON entries, a whole request body, or CSV whose header names API fields as dotted paths) into batch entries with their input rows, and keeps the idempotency key file beside the input. */
#include "cli/batch_input.h"
#include "shared/jsonerr.h"
#include "cli/csv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- problems ------------------------------------------------------------ */

static void problem(json_t *errors, size_t row, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(json_t *errors, size_t row, const char *field, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *m = json_string(msg);
    json_t *f = json_string(field ? field : "");
    json_array_append_new(errors,
                          json_pack("{s:o, s:o, s:o}", "row",
                                    row ? json_integer((json_int_t)row) : json_null(), "field",
                                    f ? f : json_string("?"), "message",
                                    m ? m : json_string("is not valid UTF-8 text")));
}

/* ---- CSV columns ------------------------------------------------------------ */

enum ctype { C_STR, C_BOOL };

static const struct {
    const char *path;
    enum ctype type;
} COLUMNS[] = {
    {"entity_type", C_STR},
    {"person.external_id", C_STR},
    {"person.first_name", C_STR},
    {"person.last_name", C_STR},
    {"person.middle_initial", C_STR},
    {"person.preferred_first_name", C_STR},
    {"person.email", C_STR},
    {"person.work_email", C_STR},
    {"person.ssn", C_STR},
    {"person.date_of_birth", C_STR},
    {"person.self_onboarding", C_BOOL},
    {"home_address.street_1", C_STR},
    {"home_address.street_2", C_STR},
    {"home_address.city", C_STR},
    {"home_address.state", C_STR},
    {"home_address.zip", C_STR},
    {"home_address.country", C_STR},
    {"home_address.work_from_home", C_BOOL},
    {"work_address.location_uuid", C_STR},
    {"department.department_uuid", C_STR},
    {"job.title", C_STR},
    {"job.hire_date", C_STR},
    {"job.two_percent_shareholder", C_BOOL},
    {"job.state_wc_covered", C_BOOL},
    {"job.state_wc_class_code", C_STR},
    {"compensation.rate", C_STR},
    {"compensation.payment_unit", C_STR},
    {"compensation.flsa_status", C_STR},
};

static const char *const BANK_FIELDS[] = {"name", "account_type", "routing_number",
                                          "account_number", "type", "split_by",
                                          "split_amount", NULL};
#define MAX_BANKS 10

struct column {
    char name[80];           /* the header cell */
    char part[32];           /* "person", ..., "" for entity_type, "bank" */
    char leaf[32];
    int bank;                /* bank_accounts index, -1 otherwise */
    enum ctype type;
};

/* Match a header cell to a column.  False when it names no API field. */
static bool parse_column(const char *name, struct column *c)
{
    c->bank = -1;
    c->type = C_STR;
    for (size_t i = 0; i < sizeof COLUMNS / sizeof COLUMNS[0]; i++) {
        if (strcmp(name, COLUMNS[i].path) == 0) {
            const char *dot = strchr(name, '.');
            if (dot) {
                snprintf(c->part, sizeof c->part, "%.*s", (int)(dot - name), name);
                snprintf(c->leaf, sizeof c->leaf, "%s", dot + 1);
            } else {
                c->part[0] = 0;
                snprintf(c->leaf, sizeof c->leaf, "%s", name);
            }
            c->type = COLUMNS[i].type;
            return true;
        }
    }
    static const char prefix[] = "bank_accounts.";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *p = name + sizeof prefix - 1;
    if (!isdigit((unsigned char)p[0]))
        return false;
    int n = p[0] - '0';
    p++;
    if (isdigit((unsigned char)p[0]) && n != 0) {
        n = n * 10 + (p[0] - '0');
        p++;
    }
    if (*p != '.' || n >= MAX_BANKS)
        return false;
    p++;
    for (int i = 0; BANK_FIELDS[i]; i++) {
        if (strcmp(p, BANK_FIELDS[i]) == 0) {
            snprintf(c->part, sizeof c->part, "bank");
            snprintf(c->leaf, sizeof c->leaf, "%s", p);
            c->bank = n;
            return true;
        }
    }
    return false;
}

struct conv {
    struct batch_input *in;
    json_t *errors;
    struct column *cols;
    size_t ncols;
    bool header_done;
    bool header_bad;
    size_t cap;
};

static bool empty_record(char **fields, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fields[i][0])
            return false;
    return true;
}

static int on_header(struct conv *x, size_t line, char **fields, size_t n)
{
    x->cols = calloc(n, sizeof *x->cols);
    if (!x->cols) {
        problem(x->errors, line, "", "out of memory");
        return 1;
    }
    x->ncols = n;
    for (size_t i = 0; i < n; i++) {
        const char *name = fields[i];
        char shown[80];
        snprintf(shown, sizeof shown, "%.60s", name);
        snprintf(x->cols[i].name, sizeof x->cols[i].name, "%s", shown);
        if (!*name) {
            problem(x->errors, line, "", "column %zu of the header is empty; every column "
                                         "needs an API field name such as person.first_name",
                    i + 1);
            x->header_bad = true;
        } else if (!parse_column(name, &x->cols[i])) {
            problem(x->errors, line, shown,
                    "is not a batch field; columns are API field names as dotted paths, "
                    "e.g. person.external_id, home_address.zip, job.hire_date, "
                    "bank_accounts.0.routing_number (see gusto-connect help batch create)");
            x->header_bad = true;
        } else {
            for (size_t k = 0; k < i; k++) {
                if (strcmp(fields[k], name) == 0) {
                    problem(x->errors, line, shown, "appears twice in the header");
                    x->header_bad = true;
                    break;
                }
            }
        }
    }
    x->header_done = true;
    return 0;
}

static json_t *cell_value(const struct column *c, const char *v)
{
    if (c->type == C_BOOL) {
        if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0)
            return json_true();
        if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0)
            return json_false();
    }
    return json_string(v); /* the checks say what is wrong with it */
}

static int on_row(struct conv *x, size_t line, char **fields, size_t n)
{
    if (n != x->ncols) {
        problem(x->errors, line, "", "has %zu field%s, but the header has %zu columns; a "
                                     "value holding a comma must be in double quotes",
                n, n == 1 ? "" : "s", x->ncols);
        return 0;
    }
    json_t *entry = json_object();
    json_t *banks[MAX_BANKS] = {0};
    bool bad = false;
    for (size_t i = 0; i < n; i++) {
        const struct column *c = &x->cols[i];
        if (!fields[i][0])
            continue; /* empty: the field is left out */
        json_t *v = cell_value(c, fields[i]);
        if (!v) {
            problem(x->errors, line, c->name, "is not valid UTF-8 text");
            bad = true;
            continue;
        }
        json_t *target = entry;
        if (c->bank >= 0) {
            if (!banks[c->bank])
                banks[c->bank] = json_object();
            target = banks[c->bank];
        } else if (c->part[0]) {
            target = json_object_get(entry, c->part);
            if (!target) {
                target = json_object();
                json_object_set_new(entry, c->part, target);
            }
        }
        json_object_set_new(target, c->leaf, v);
    }
    int last = -1;
    for (int b = 0; b < MAX_BANKS; b++)
        if (banks[b])
            last = b;
    if (last >= 0) {
        json_t *arr = json_array();
        for (int b = 0; b <= last; b++) {
            if (!banks[b]) {
                char f[40];
                snprintf(f, sizeof f, "bank_accounts.%d", b);
                problem(x->errors, line, f, "is empty, but bank_accounts.%d is not: fill the "
                                            "accounts from bank_accounts.0 up", last);
                bad = true;
                continue;
            }
            /* Only one value is allowed; an empty split_amount is the remainder. */
            if (!json_object_get(banks[b], "type"))
                json_object_set_new(banks[b], "type", json_string("Direct Deposit"));
            if (!json_object_get(banks[b], "split_amount"))
                json_object_set_new(banks[b], "split_amount", json_null());
            json_array_append_new(arr, banks[b]);
        }
        json_object_set_new(entry, "bank_accounts", arr);
    }
    if (bad) {
        json_decref(entry);
        return 0;
    }
    if (x->in->count == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 256;
        size_t *nr = realloc(x->in->rows, nc * sizeof *nr);
        if (!nr) {
            json_decref(entry);
            problem(x->errors, line, "", "out of memory");
            return 1;
        }
        x->in->rows = nr;
        x->cap = nc;
    }
    x->in->rows[x->in->count++] = line;
    json_array_append_new(x->in->entries, entry);
    return 0;
}

static int on_record(void *ud, size_t line, char **fields, size_t n)
{
    struct conv *x = ud;
    if (!x->header_done)
        return on_header(x, line, fields, n);
    if (x->header_bad || empty_record(fields, n))
        return 0;
    return on_row(x, line, fields, n);
}

static bool parse_csv(const char *text, size_t len, struct batch_input *in, json_t *errors)
{
    struct conv x = {.in = in, .errors = errors};
    struct csv_error ce = {0};
    size_t before = json_array_size(errors);
    int rc = csv_parse(text, len, on_record, &x, &ce);
    if (rc == -1)
        problem(errors, ce.line, "", "is not CSV: %s", ce.message);
    else if (!x.header_done)
        problem(errors, 1, "", "the CSV file is empty; it needs a header row of API field "
                               "names and one row per person");
    else if (!x.header_bad && in->count == 0 && json_array_size(errors) == before)
        problem(errors, 1, "", "the CSV file has a header but no people");
    free(x.cols);
    return json_array_size(errors) == before;
}

/* ---- JSON ------------------------------------------------------------------ */

static bool parse_json(const char *text, size_t len, struct batch_input *in, json_t *errors)
{
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        char where[200];
        json_error_describe(&je, where, sizeof where);
        problem(errors, (size_t)(je.line > 0 ? je.line : 1), "input", "is not valid JSON: %s",
                where);
        return false;
    }
    json_t *entries = j;
    if (json_is_object(j)) {
        /* a whole request body: {"idempotency_key", "batch_action", "batch"} */
        entries = json_object_get(j, "batch");
        const char *key;
        json_t *v;
        bool ok = true;
        json_object_foreach(j, key, v) {
            if (strcmp(key, "batch") && strcmp(key, "idempotency_key") &&
                strcmp(key, "batch_action")) {
                char f[80];
                snprintf(f, sizeof f, "%.60s", key);
                problem(errors, 0, f, "unknown field; a request body has idempotency_key, "
                                      "batch_action and batch");
                ok = false;
            }
        }
        json_t *action = json_object_get(j, "batch_action");
        if (action && !(json_is_string(action) &&
                        strcmp(json_string_value(action), "create") == 0)) {
            problem(errors, 0, "batch_action", "must be \"create\"");
            ok = false;
        }
        json_t *k = json_object_get(j, "idempotency_key");
        if (k) {
            const char *ks = json_string_value(k);
            if (!ks || !cli_is_uuid(ks)) {
                problem(errors, 0, "idempotency_key", "must be a UUID");
                ok = false;
            } else {
                snprintf(in->body_key, sizeof in->body_key, "%s", ks);
            }
        }
        if (!json_is_array(entries)) {
            problem(errors, 0, "batch", "is required: the array of entries");
            ok = false;
        }
        if (!ok) {
            json_decref(j);
            return false;
        }
    } else if (!json_is_array(j)) {
        problem(errors, 1, "input", "must be a JSON array of batch entries (or a request "
                                    "body with \"batch\")");
        json_decref(j);
        return false;
    }
    in->entries = json_incref(entries);
    json_decref(j);
    in->count = json_array_size(in->entries);
    in->rows = calloc(in->count ? in->count : 1, sizeof *in->rows);
    if (!in->rows) {
        problem(errors, 0, "input", "out of memory");
        return false;
    }
    for (size_t i = 0; i < in->count; i++)
        in->rows[i] = i + 1;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

bool batch_input_parse(const char *path, const char *text, size_t len,
                       struct batch_input *in, json_t *errors)
{
    memset(in, 0, sizeof *in);
    bool csv;
    if (path && ends_with(path, ".csv")) {
        csv = true;
    } else if (path && ends_with(path, ".json")) {
        csv = false;
    } else {
        size_t i = 0;
        if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB)
            i = 3;
        while (i < len && isspace((unsigned char)text[i]))
            i++;
        csv = !(i < len && (text[i] == '[' || text[i] == '{'));
    }
    in->csv = csv;
    if (!csv)
        return parse_json(text, len, in, errors);
    in->entries = json_array();
    if (!in->entries) {
        problem(errors, 0, "input", "out of memory");
        return false;
    }
    return parse_csv(text, len, in, errors);
}

size_t batch_input_row(const struct batch_input *in, long idx)
{
    return idx >= 0 && (size_t)idx < in->count ? in->rows[idx] : 0;
}

void batch_input_map_errors(const struct batch_input *in, json_t *lib_errors, json_t *errors)
{
    size_t i;
    json_t *e;
    json_array_foreach(lib_errors, i, e) {
        json_t *ix = json_object_get(e, "index");
        long idx = json_is_integer(ix) ? (long)json_integer_value(ix) : -1;
        const char *field = json_string_value(json_object_get(e, "field"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        char f[256];
        snprintf(f, sizeof f, "%s", field ? field : "");
        if (in->csv) {
            /* bank_accounts[1].x is the column bank_accounts.1.x */
            char *b = strchr(f, '[');
            if (b && strncmp(f, "bank_accounts[", 14) == 0) {
                char tmp[256];
                char *close = strchr(b, ']');
                if (close) {
                    snprintf(tmp, sizeof tmp, "bank_accounts.%.*s%s", (int)(close - b - 1),
                             b + 1, close + 1);
                    snprintf(f, sizeof f, "%s", tmp);
                }
            }
        }
        char m[600];
        snprintf(m, sizeof m, "%s", msg ? msg : "");
        json_t *first = json_object_get(e, "first_index");
        if (json_is_integer(first)) {
            size_t r = batch_input_row(in, (long)json_integer_value(first));
            size_t n = strlen(m);
            snprintf(m + n, sizeof m - n, " (first in %s %zu)", in->csv ? "line" : "row", r);
        }
        json_t *row = json_object_get(e, "row");
        size_t r = idx >= 0 ? batch_input_row(in, idx)
                            : (json_is_integer(row) ? (size_t)json_integer_value(row) : 0);
        problem(errors, r, f, "%s", m);
    }
    json_decref(lib_errors);
}

void batch_input_free(struct batch_input *in)
{
    json_decref(in->entries);
    free(in->rows);
    memset(in, 0, sizeof *in);
}

/* ---- the idempotency key file ------------------------------------------------ */

void batch_input_hash(const char *text, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = 0;
    if (EVP_Digest(text, len, md, &n, EVP_sha256(), NULL) != 1)
        return;
    for (unsigned int i = 0; i < n && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

char *batch_key_path(const char *input_path)
{
    size_t n = strlen(input_path) + sizeof ".idempotency-key";
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s.idempotency-key", input_path);
    return p;
}

bool batch_key_read(const char *key_path, char key[40], char hash[65])
{
    key[0] = hash[0] = 0;
    FILE *f = fopen(key_path, "r");
    if (!f)
        return false;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, "key ", 4) == 0 && cli_is_uuid(line + 4))
            snprintf(key, 40, "%.36s", line + 4);
        else if (strncmp(line, "sha256 ", 7) == 0 && strlen(line + 7) == 64)
            snprintf(hash, 65, "%.64s", line + 7);
    }
    fclose(f);
    return key[0] && hash[0];
}

static int key_file_write(const char *key_path, const char *key, const char *hash,
                          const struct batch_state *st);

int batch_key_write(const char *key_path, const char *key, const char *hash)
{
    return key_file_write(key_path, key, hash, NULL);
}

bool batch_state_read(const char *key_path, struct batch_state *st)
{
    memset(st, 0, sizeof *st);
    if (!batch_key_read(key_path, st->key, st->hash))
        return false;
    FILE *f = fopen(key_path, "r");
    if (!f)
        return true;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, "batch ", 6) != 0 || strlen(line) != 6 + 36 + 1 + 36 ||
            line[42] != ' ')
            continue;
        char k[40], u[40];
        snprintf(k, sizeof k, "%.36s", line + 6);
        snprintf(u, sizeof u, "%.36s", line + 43);
        if (!cli_is_uuid(k) || !cli_is_uuid(u) || batch_state_knows(st, k))
            continue;
        struct batch_made *grown = realloc(st->made, (st->count + 1) * sizeof *grown);
        if (!grown)
            break;
        st->made = grown;
        memcpy(st->made[st->count].key, k, sizeof k);
        memcpy(st->made[st->count].uuid, u, sizeof u);
        st->count++;
    }
    fclose(f);
    return true;
}

bool batch_state_knows(const struct batch_state *st, const char *key)
{
    for (size_t i = 0; i < st->count; i++)
        if (strcasecmp(st->made[i].key, key) == 0)
            return true;
    return false;
}

int batch_state_write(const char *key_path, struct batch_state *st, const char *made_key,
                      const char *made_uuid)
{
    if (made_key && made_uuid && *made_uuid && !batch_state_knows(st, made_key)) {
        struct batch_made *grown = realloc(st->made, (st->count + 1) * sizeof *grown);
        if (!grown) {
            errno = ENOMEM;
            return -1;
        }
        st->made = grown;
        snprintf(st->made[st->count].key, 40, "%s", made_key);
        snprintf(st->made[st->count].uuid, 40, "%s", made_uuid);
        st->count++;
    }
    return key_file_write(key_path, st->key, st->hash, st);
}

void batch_state_free(struct batch_state *st)
{
    free(st->made);
    memset(st, 0, sizeof *st);
}

static int key_file_write(const char *key_path, const char *key, const char *hash,
                          const struct batch_state *st)
{
    size_t n = strlen(key_path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(tmp, n, "%s.tmp%05d", key_path, (int)(getpid() % 100000));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        errno = e;
        return -1;
    }
    char buf[256];
    int len = snprintf(buf, sizeof buf,
                       "# gusto-connect batch create: the people batch idempotency key for this input\n"
                       "key %s\nsha256 %s\n", key, hash);
    bool ok = len > 0 && write(fd, buf, (size_t)len) == (ssize_t)len;
    for (size_t i = 0; ok && st && i < st->count; i++) {
        len = snprintf(buf, sizeof buf, "batch %s %s\n", st->made[i].key, st->made[i].uuid);
        ok = len > 0 && write(fd, buf, (size_t)len) == (ssize_t)len;
    }
    ok = ok && fsync(fd) == 0;
    int e = errno;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp, key_path) != 0) {
        e = errno;
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
        free(tmp);
        errno = e ? e : EIO;
        return -1;
    }
    free(tmp);
    return 0;
}
