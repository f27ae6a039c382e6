/* batch_input.c - reads the input of `gusto-connect batch create` (JSON entries, a whole request body, or CSV whose header names fields as dotted paths or as people write them, any of three separators) into batch entries with their input rows, normalising values and making missing external_ids; writes the copy with those ids; and keeps the idempotency key file beside the input. */
#include "cli/batch_input.h"
#include "shared/textbuf.h"
#include "shared/jsonerr.h"
#include "cli/csv.h"
#include "cli/normalise.h"
#include "shared/didyoumean.h"

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
#define NCOLUMNS (sizeof COLUMNS / sizeof COLUMNS[0])

/* Spreadsheet headers people write, beside each field's own leaf name
 * ("first_name", "First Name") which is matched anyway.  Compared folded:
 * lower case, letters and digits only. */
static const struct {
    const char *header;
    const char *path;
} ALIASES[] = {
    {"External ID", "person.external_id"},
    {"Employee ID", "person.external_id"},
    {"Employee Number", "person.external_id"},
    {"First", "person.first_name"},
    {"Given Name", "person.first_name"},
    {"Legal First Name", "person.first_name"},
    {"Last", "person.last_name"},
    {"Surname", "person.last_name"},
    {"Family Name", "person.last_name"},
    {"Legal Last Name", "person.last_name"},
    {"MI", "person.middle_initial"},
    {"Middle Name Initial", "person.middle_initial"},
    {"Preferred Name", "person.preferred_first_name"},
    {"Personal Email", "person.email"},
    {"Email Address", "person.email"},
    {"Home Email", "person.email"},
    {"Work Email Address", "person.work_email"},
    {"Business Email", "person.work_email"},
    {"Company Email", "person.work_email"},
    {"Social Security Number", "person.ssn"},
    {"DOB", "person.date_of_birth"},
    {"Birth Date", "person.date_of_birth"},
    {"Birthday", "person.date_of_birth"},
    {"Street", "home_address.street_1"},
    {"Street Address", "home_address.street_1"},
    {"Address", "home_address.street_1"},
    {"Address 1", "home_address.street_1"},
    {"Address Line 1", "home_address.street_1"},
    {"Home Address", "home_address.street_1"},
    {"Address 2", "home_address.street_2"},
    {"Address Line 2", "home_address.street_2"},
    {"Town", "home_address.city"},
    {"Zip Code", "home_address.zip"},
    {"Postal Code", "home_address.zip"},
    {"Postcode", "home_address.zip"},
    {"Remote", "home_address.work_from_home"},
    {"Work Location", "work_address.location_uuid"},
    {"Work Location UUID", "work_address.location_uuid"},
    {"Department ID", "department.department_uuid"},
    {"Job Title", "job.title"},
    {"Position", "job.title"},
    {"Start Date", "job.hire_date"},
    {"Date Hired", "job.hire_date"},
    {"Date of Hire", "job.hire_date"},
    {"Pay Rate", "compensation.rate"},
    {"Hourly Rate", "compensation.rate"},
    {"Salary", "compensation.rate"},
    {"Annual Salary", "compensation.rate"},
    {"Wage", "compensation.rate"},
    {"Pay Unit", "compensation.payment_unit"},
    {"Pay Basis", "compensation.payment_unit"},
    {"Per", "compensation.payment_unit"},
    {"FLSA", "compensation.flsa_status"},
    {"Exempt Status", "compensation.flsa_status"},
    {"Exemption Status", "compensation.flsa_status"},
    {"FLSA Classification", "compensation.flsa_status"},
    {"Routing Number", "bank_accounts.0.routing_number"},
    {"Account Number", "bank_accounts.0.account_number"},
    {"Account Type", "bank_accounts.0.account_type"},
    {"Bank Name", "bank_accounts.0.name"},
};
#define NALIASES (sizeof ALIASES / sizeof ALIASES[0])

static const char *const BANK_FIELDS[] = {"name", "account_type", "routing_number",
                                          "account_number", "type", "split_by",
                                          "split_amount", NULL};
#define MAX_BANKS 10

struct column {
    char name[80];           /* the header cell */
    char path[48];           /* the field it names: "person.first_name" */
    char part[32];           /* "person", ..., "" for entity_type, "bank" */
    char leaf[32];
    int bank;                /* bank_accounts index, -1 otherwise */
    enum ctype type;
    enum norm_kind kind;     /* how its values are normalised */
    json_t *report;          /* this column's entry of in->normalised once made
                                (borrowed: in->normalised owns it) */
};

/* Match a dotted API path to a column.  False when it names no field. */
static bool parse_path(const char *name, struct column *c)
{
    c->bank = -1;
    c->type = C_STR;
    for (size_t i = 0; i < NCOLUMNS; i++) {
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
            snprintf(c->path, sizeof c->path, "%s", name);
            c->kind = norm_kind_for(name);
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
            snprintf(c->path, sizeof c->path, "bank_accounts.%d.%s", n, p);
            c->bank = n;
            c->kind = NORM_NONE;
            return true;
        }
    }
    return false;
}

/* Match a header cell to a column: a dotted path as it is, else folded
 * against every path, leaf name and alias.  False when it names none. */
static bool parse_column(const char *name, struct column *c)
{
    if (parse_path(name, c))
        return true;
    char f[96], g[96];
    norm_fold(name, f, sizeof f);
    if (!*f)
        return false;
    for (size_t i = 0; i < NCOLUMNS; i++) {
        const char *dot = strchr(COLUMNS[i].path, '.');
        norm_fold(COLUMNS[i].path, g, sizeof g);
        if (strcmp(f, g) == 0)
            return parse_path(COLUMNS[i].path, c);
        norm_fold(dot ? dot + 1 : COLUMNS[i].path, g, sizeof g);
        if (strcmp(f, g) == 0)
            return parse_path(COLUMNS[i].path, c);
    }
    for (size_t i = 0; i < NALIASES; i++) {
        norm_fold(ALIASES[i].header, g, sizeof g);
        if (strcmp(f, g) == 0)
            return parse_path(ALIASES[i].path, c);
    }
    for (int b = 0; b < MAX_BANKS; b++) {
        for (int i = 0; BANK_FIELDS[i]; i++) {
            char path[48];
            snprintf(path, sizeof path, "bank_accounts.%d.%s", b, BANK_FIELDS[i]);
            norm_fold(path, g, sizeof g);
            if (strcmp(f, g) == 0)
                return parse_path(path, c);
        }
    }
    return false;
}

/* "did you mean": the closest path, leaf name or alias to an unknown header
 * (folded), as "'First Name' (person.first_name)" or "'person.zip'".  False
 * when none is close. */
static bool suggest_column(const char *name, char *out, size_t outlen)
{
    enum { N = NCOLUMNS * 2 + NALIASES + 7 };
    char folded[N][64];
    const char *words[N], *shown[N], *paths[N];
    size_t n = 0;
    for (size_t i = 0; i < NCOLUMNS; i++) {
        const char *dot = strchr(COLUMNS[i].path, '.');
        shown[n] = paths[n] = COLUMNS[i].path;
        norm_fold(COLUMNS[i].path, folded[n], sizeof folded[n]);
        n++;
        if (dot) {
            shown[n] = dot + 1;
            paths[n] = COLUMNS[i].path;
            norm_fold(dot + 1, folded[n], sizeof folded[n]);
            n++;
        }
    }
    for (size_t i = 0; i < NALIASES; i++) {
        shown[n] = ALIASES[i].header;
        paths[n] = ALIASES[i].path;
        norm_fold(ALIASES[i].header, folded[n], sizeof folded[n]);
        n++;
    }
    static const char *const BANK0[] = {
        "bank_accounts.0.name", "bank_accounts.0.account_type", "bank_accounts.0.routing_number",
        "bank_accounts.0.account_number", "bank_accounts.0.type", "bank_accounts.0.split_by",
        "bank_accounts.0.split_amount"};
    for (size_t i = 0; i < 7 && n < N; i++) {
        shown[n] = paths[n] = BANK0[i];
        norm_fold(BANK0[i], folded[n], sizeof folded[n]);
        n++;
    }
    for (size_t i = 0; i < n; i++)
        words[i] = folded[i];
    char f[96];
    norm_fold(name, f, sizeof f);
    long best = dym_closest(f, words, n);
    const char *dot = strrchr(name, '.');
    if (best < 0 && dot) { /* "persn.zip": the leaf alone */
        norm_fold(dot + 1, f, sizeof f);
        best = dym_closest(f, words, n);
    }
    if (best < 0)
        return false;
    /* A spreadsheet heading ("Frist Name") gets one back ("First Name"). */
    char titled[64];
    bool heading = strchr(name, ' ') != NULL;
    if (heading && !strchr(shown[best], '.')) {
        size_t k = 0;
        bool start = true;
        for (const char *q = shown[best]; *q && k + 1 < sizeof titled; q++) {
            char ch = *q == '_' ? ' ' : *q;
            titled[k++] = start ? (char)toupper((unsigned char)ch) : ch;
            start = ch == ' ';
        }
        titled[k] = 0;
        shown[best] = titled;
    }
    if (strcmp(shown[best], paths[best]) == 0)
        snprintf(out, outlen, "'%s'", shown[best]);
    else
        snprintf(out, outlen, "'%s' (%s)", shown[best], paths[best]);
    return true;
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
                                         "needs a field name such as first_name or "
                                         "person.first_name", i + 1);
            x->header_bad = true;
        } else if (!parse_column(name, &x->cols[i])) {
            char dym[160];
            bool have = suggest_column(name, dym, sizeof dym);
            problem(x->errors, line, shown,
                    "is not a batch field%s%s%s columns are field names (first_name, "
                    "First Name, person.first_name, External ID, Start Date, Pay Rate, "
                    "bank_accounts.0.routing_number: see gusto-connect help batch create)",
                    have ? ": did you mean " : "", have ? dym : "", have ? "? The" : "; the");
            x->header_bad = true;
        } else {
            if (strcmp(x->cols[i].path, "person.external_id") == 0)
                x->in->ext_col = (long)i;
            if (strcmp(x->cols[i].path, name) != 0)
                json_array_append_new(x->in->columns,
                                      json_pack("{s:s, s:s}", "header", shown, "field",
                                                x->cols[i].path));
            for (size_t k = 0; k < i; k++) {
                if (x->cols[k].path[0] && strcmp(x->cols[k].path, x->cols[i].path) == 0) {
                    if (strcmp(fields[k], name) == 0)
                        problem(x->errors, line, shown, "appears twice in the header");
                    else
                        problem(x->errors, line, shown, "and '%s' both mean %s; keep one "
                                                        "of them", x->cols[k].name,
                                x->cols[i].path);
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

/* Note a rewritten value in the column's report (made on first use). */
static void noted(struct conv *x, struct column *c, size_t line, const char *from,
                  const char *to)
{
    if (!c->report) {
        c->report = json_pack("{s:s, s:s, s:s, s:[], s:[]}", "kind", norm_kind_name(c->kind),
                              "field", c->path, "column", c->name, "rows", "changes");
        if (!c->report || json_array_append_new(x->in->normalised, c->report) != 0) {
            c->report = NULL;
            return;
        }
        /* c->report is borrowed from in->normalised from here on */
    }
    json_array_append_new(json_object_get(c->report, "rows"), json_integer((json_int_t)line));
    if (c->kind == NORM_SSN)
        return; /* never shown */
    json_t *changes = json_object_get(c->report, "changes");
    size_t i;
    json_t *ch;
    json_array_foreach(changes, i, ch) {
        if (strcmp(json_string_value(json_object_get(ch, "from")), from) == 0)
            return;
    }
    json_t *pair = json_pack("{s:s, s:s}", "from", from, "to", to);
    if (pair)
        json_array_append_new(changes, pair);
}

static int on_row(struct conv *x, size_t line, char **fields, size_t n)
{
    if (n != x->ncols) {
        problem(x->errors, line, "", "has %zu field%s, but the header has %zu columns; a "
                                     "value holding the separator ('%s') must be in double "
                                     "quotes",
                n, n == 1 ? "" : "s", x->ncols,
                x->in->sep == '\t' ? "\\t" : x->in->sep == ';' ? ";" : ",");
        return 0;
    }
    json_t *entry = json_object();
    json_t *banks[MAX_BANKS] = {0};
    bool bad = false;
    for (size_t i = 0; i < n; i++) {
        struct column *c = &x->cols[i];
        if (!fields[i][0])
            continue; /* empty: the field is left out */
        const char *text = fields[i];
        char fixed[64], why[300];
        int nr = 0;
        if (c->kind != NORM_NONE) { /* valid UTF-8 first: it is quoted in messages */
            json_t *probe = json_string(text);
            if (probe) {
                nr = norm_value(c->kind, text, fixed, sizeof fixed, why, sizeof why);
                json_decref(probe);
            }
        }
        if (nr < 0) {
            problem(x->errors, line, c->name, "%s", why);
            bad = true;
            continue;
        }
        if (nr > 0) {
            noted(x, c, line, text, fixed);
            text = fixed;
        }
        json_t *v = cell_value(c, text);
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
        size_t *nrows = realloc(x->in->rows, nc * sizeof *nrows);
        if (!nrows) {
            json_decref(entry);
            problem(x->errors, line, "", "out of memory");
            return 1;
        }
        x->in->rows = nrows;
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

/* ---- made external_ids ---------------------------------------------------------- */

static void lower_into(char *dst, size_t n, const char *s)
{
    size_t k = 0;
    for (; s && *s && k + 1 < n; s++)
        dst[k++] = (char)tolower((unsigned char)*s);
    dst[k] = 0;
}

/* What a row's id is made from: the person's email, else work email, else
 * names and date of birth (lower case, trimmed by the CSV as written).
 * False when the row has none of these. */
static bool id_basis(const json_t *person, char *out, size_t n)
{
    const char *email = json_string_value(json_object_get(person, "email"));
    const char *work = json_string_value(json_object_get(person, "work_email"));
    const char *first = json_string_value(json_object_get(person, "first_name"));
    const char *last = json_string_value(json_object_get(person, "last_name"));
    const char *dob = json_string_value(json_object_get(person, "date_of_birth"));
    char a[256], b[256];
    if (email || work) {
        lower_into(a, sizeof a, email ? email : work);
        snprintf(out, n, "%s:%s", email ? "email" : "work_email", a);
        return true;
    }
    if (!first && !last)
        return false;
    lower_into(a, sizeof a, first ? first : "");
    lower_into(b, sizeof b, last ? last : "");
    snprintf(out, n, "name:%s\n%s\n%s", a, b, dob ? dob : "");
    return true;
}

static bool make_ids(struct batch_input *in, json_t *errors)
{
    json_t *used = json_object();
    if (!used) {
        problem(errors, 0, "input", "out of memory");
        return false;
    }
    size_t i;
    json_t *e;
    json_array_foreach(in->entries, i, e) {
        const char *id = json_string_value(
            json_object_get(json_object_get(e, "person"), "external_id"));
        if (id)
            json_object_set_new(used, id, json_true());
    }
    json_array_foreach(in->entries, i, e) {
        json_t *person = json_object_get(e, "person");
        char basis[800];
        if (!json_is_object(person) || json_object_get(person, "external_id") ||
            !id_basis(person, basis, sizeof basis))
            continue;
        char hex[65], id[24];
        batch_input_hash(basis, strlen(basis), hex);
        snprintf(id, sizeof id, "gc-%.12s", hex);
        for (int k = 2; json_object_get(used, id) && k < 100000; k++)
            snprintf(id, sizeof id, "gc-%.12s-%d", hex, k);
        struct batch_gen_id *g = realloc(in->gen, (in->ngen + 1) * sizeof *g);
        if (!g || json_object_set_new(person, "external_id", json_string(id)) != 0) {
            if (g)
                in->gen = g;
            json_decref(used);
            problem(errors, 0, "input", "out of memory");
            return false;
        }
        in->gen = g;
        in->gen[in->ngen].line = in->rows[i];
        snprintf(in->gen[in->ngen].id, sizeof in->gen[in->ngen].id, "%s", id);
        in->ngen++;
        json_object_set_new(used, id, json_true());
    }
    json_decref(used);
    return true;
}

static bool parse_csv(const char *text, size_t len, char sep, struct batch_input *in,
                      json_t *errors)
{
    struct conv x = {.in = in, .errors = errors};
    struct csv_error ce = {0};
    size_t before = json_array_size(errors);
    in->sep = sep ? sep : csv_detect_separator(text, len);
    in->ext_col = -1;
    int rc = csv_parse_sep(text, len, in->sep, on_record, &x, &ce);
    if (rc == -1)
        problem(errors, ce.line, "", "is not CSV: %s", ce.message);
    else if (!x.header_done)
        problem(errors, 1, "", "the CSV file is empty; it needs a header row of field "
                               "names and one row per person");
    else if (!x.header_bad && in->count == 0 && json_array_size(errors) == before)
        problem(errors, 1, "", "the CSV file has a header but no people");
    free(x.cols);
    if (json_array_size(errors) != before)
        return false;
    return make_ids(in, errors);
}

/* ---- the copy with the made ids ----------------------------------------------------- */

static void ofield(struct textbuf *b, const char *s, char sep)
{
    if (!strchr(s, sep) && !strpbrk(s, "\"\r\n")) {
        textbuf_add(b, s, strlen(s));
        return;
    }
    textbuf_add(b, "\"", 1);
    for (const char *q = s; *q; q++) {
        textbuf_add(b, q, 1);
        if (*q == '"')
            textbuf_add(b, "\"", 1); /* "" is one quote */
    }
    textbuf_add(b, "\"", 1);
}

struct writer {
    const struct batch_input *in;
    struct textbuf *b;
    const char *eol;
    size_t next;             /* the next in->gen to place */
    bool header;
};

static int on_write(void *ud, size_t line, char **fields, size_t n)
{
    struct writer *w = ud;
    const struct batch_input *in = w->in;
    char sepstr[2] = {in->sep, 0};
    const char *id = NULL;
    if (!w->header) {
        while (w->next < in->ngen && in->gen[w->next].line < line)
            w->next++;
        if (w->next < in->ngen && in->gen[w->next].line == line)
            id = in->gen[w->next].id;
    }
    bool blank = n == 1 && !fields[0][0];
    for (size_t i = 0; i < n; i++) {
        if (i)
            textbuf_add(w->b, sepstr, 1);
        ofield(w->b, id && (long)i == in->ext_col ? id : fields[i], in->sep);
    }
    if (in->ext_col < 0 && !(blank && !w->header)) {
        const char *add = "";
        if (w->header) {
            bool dotted = false, spaced = false;
            for (size_t i = 0; i < n; i++) {
                dotted |= strchr(fields[i], '.') != NULL;
                spaced |= strchr(fields[i], ' ') != NULL;
            }
            add = dotted ? "person.external_id" : spaced ? "External ID" : "external_id";
        } else if (id) {
            add = id;
        }
        textbuf_add(w->b, sepstr, 1);
        ofield(w->b, add, in->sep);
    }
    textbuf_add(w->b, w->eol, strlen(w->eol));
    w->header = false;
    return 0;
}

char *batch_ids_path(const char *input_path)
{
    size_t n = strlen(input_path);
    size_t cut = n >= 4 && strcasecmp(input_path + n - 4, ".csv") == 0 ? n - 4 : n;
    size_t m = cut + sizeof ".with-ids.csv";
    char *p = malloc(m);
    if (p)
        snprintf(p, m, "%.*s.with-ids.csv", (int)cut, input_path);
    return p;
}

static int write_atomic(const char *path, const char *data, size_t len);

int batch_input_write_ids(const struct batch_input *in, const char *text, size_t len,
                          const char *out_path, char hash[65])
{
    struct textbuf b = {0};
    const char *nl = memchr(text, '\n', len);
    struct writer w = {.in = in, .b = &b,
                       .eol = nl && nl > text && nl[-1] == '\r' ? "\r\n" : "\n",
                       .header = true};
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        textbuf_add(&b, text, 3); /* kept; csv_parse_sep skips it */
    struct csv_error ce;
    if (csv_parse_sep(text, len, in->sep, on_write, &w, &ce) != 0 || b.oom) {
        free(b.p);
        errno = b.oom ? ENOMEM : EINVAL;
        return -1;
    }
    batch_input_hash(b.p ? b.p : "", b.n, hash);
    int rc = write_atomic(out_path, b.p ? b.p : "", b.n);
    int e = errno;
    if (b.p)
        explicit_bzero(b.p, b.n); /* SSNs and account numbers */
    free(b.p);
    errno = e;
    return rc;
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
    return batch_input_parse_sep(path, text, len, 0, in, errors);
}

bool batch_input_parse_sep(const char *path, const char *text, size_t len, char sep,
                           struct batch_input *in, json_t *errors)
{
    memset(in, 0, sizeof *in);
    in->ext_col = -1;
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
    in->columns = json_array();
    in->normalised = json_array();
    if (!in->entries || !in->columns || !in->normalised) {
        problem(errors, 0, "input", "out of memory");
        return false;
    }
    return parse_csv(text, len, sep, in, errors);
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
        /* the column as the header wrote it: "Last Name", not person.last_name */
        size_t k;
        json_t *col;
        json_array_foreach(in->columns, k, col) {
            if (strcmp(json_string_value(json_object_get(col, "field")), f) == 0) {
                snprintf(f, sizeof f, "%s",
                         json_string_value(json_object_get(col, "header")));
                break;
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
    json_decref(in->columns);
    json_decref(in->normalised);
    free(in->gen);
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

/* Write data to path atomically: a temporary file beside it (mode 0600,
 * never following a link), fsync, rename.  0, or -1 with errno (the
 * temporary file removed). */
static int write_atomic(const char *path, const char *data, size_t len)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(tmp, n, "%s.tmp%05d", path, (int)(getpid() % 100000));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        errno = e;
        return -1;
    }
    bool ok = true;
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        if (ok)
            off += (size_t)w;
    }
    ok = ok && fsync(fd) == 0;
    int e = errno;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp, path) != 0) {
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

static int key_file_write(const char *key_path, const char *key, const char *hash,
                          const struct batch_state *st)
{
    struct textbuf b = {0};
    char buf[256];
    int len = snprintf(buf, sizeof buf,
                       "# gusto-connect batch create: the people batch idempotency key for this input\n"
                       "key %s\nsha256 %s\n", key, hash);
    if (len > 0)
        textbuf_add(&b, buf, (size_t)len);
    for (size_t i = 0; st && i < st->count; i++) {
        len = snprintf(buf, sizeof buf, "batch %s %s\n", st->made[i].key, st->made[i].uuid);
        if (len > 0)
            textbuf_add(&b, buf, (size_t)len);
    }
    if (b.oom || !b.p) {
        free(b.p);
        errno = ENOMEM;
        return -1;
    }
    int rc = write_atomic(key_path, b.p, b.n);
    int e = errno;
    free(b.p);
    errno = e;
    return rc;
}
