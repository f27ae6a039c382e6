/* cmd_batch.c - `gusto-connect batch create|status`: bulk onboarding through Gusto's People Batches, with every input problem listed by row, an idempotency key kept beside the input so a re-run never creates anyone twice, and polling with progress. */
#include "cli/batch_input.h"
#include "cli/cli.h"
#include "cli/input.h"
#include "cli/output.h"
#include "cli/term.h"
#include "shared/secretkeys.h"
#include "sync/progress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- reporting problems ------------------------------------------------------ */

/* Every problem in `errors` ({"row","field","message"}): the envelope with
 * details.errors in JSON mode, and a readable list on stderr.  Consumes
 * errors.  Returns exit_code. */
static int report_problems(struct cli *cli, json_t *errors, bool csv, const char *what,
                           int exit_code, const char *code, long http_status,
                           const char *intro)
{
    size_t n = json_array_size(errors);
    /* distinct rows, for the summary */
    size_t rows = 0;
    long last = -2;
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e) {
        json_t *r = json_object_get(e, "row");
        long row = json_is_integer(r) ? (long)json_integer_value(r) : -1;
        if (row != last && row >= 0)
            rows++;
        last = row;
    }
    char msg[400];
    if (rows)
        snprintf(msg, sizeof msg, "%s%zu problem%s in %zu %s%s of %s; nothing was sent",
                 intro ? intro : "", n, n == 1 ? "" : "s", rows, csv ? "line" : "row",
                 rows == 1 ? "" : "s", what);
    else
        snprintf(msg, sizeof msg, "%s%zu problem%s in %s; nothing was sent", intro ? intro : "",
                 n, n == 1 ? "" : "s", what);
    const char *hint = csv ? "fix every listed line (line 1 is the header) and run the command "
                             "again"
                           : "fix every listed row (row N is the N-th entry) and run the "
                             "command again";
    json_t *first = json_array_get(errors, 0);
    const char *ffield = json_string_value(json_object_get(first, "field"));
    if (cli->json_out) {
        json_t *details = json_object();
        json_object_set_new(details, "http_status",
                            http_status ? json_integer(http_status) : json_null());
        json_object_set_new(details, "error_key", json_null());
        json_object_set_new(details, "category", json_null());
        json_object_set_new(details, "field", ffield && *ffield ? json_string(ffield)
                                                                : json_null());
        json_object_set(details, "errors", errors);
        json_t *env = json_pack("{s:b, s:{s:s, s:s, s:o, s:n, s:s}}", "ok", 0, "error",
                                "code", code, "message", msg, "details", details,
                                "request_id", "hint", hint);
        json_dumpf(env, stdout, OUT_JSON_FLAGS);
        fputc('\n', stdout);
        fflush(stdout);
        json_decref(env);
    }
    if (!cli->json_out || !cli->quiet) {
        fputs("gusto-connect: error: ", stderr);
        out_text(stderr, msg);
        fputc('\n', stderr);
        json_array_foreach(errors, i, e) {
            json_t *r = json_object_get(e, "row");
            const char *f = json_string_value(json_object_get(e, "field"));
            const char *m = json_string_value(json_object_get(e, "message"));
            fputs("  ", stderr);
            if (json_is_integer(r))
                fprintf(stderr, "%s %" JSON_INTEGER_FORMAT, csv ? "line" : "row",
                        json_integer_value(r));
            if (f && *f) {
                fputs(json_is_integer(r) ? ", " : "", stderr);
                out_text(stderr, f);
            }
            fputs(": ", stderr);
            out_text(stderr, m ? m : "");
            fputc('\n', stderr);
        }
        fputs("  hint: ", stderr);
        out_text(stderr, hint);
        fputc('\n', stderr);
    }
    json_decref(errors);
    return exit_code;
}

/* ---- showing a batch ------------------------------------------------------------ */

static json_t *str_or_null(const char *s)
{
    json_t *j = s && *s ? json_string(s) : NULL;
    return j ? j : json_null();
}

/* 0 when nothing went wrong (so far), 8 when the batch finished and some
 * people were not (fully) created. */
static int batch_exit(const gusto_batch *b)
{
    if (!b->finished)
        return EXIT_OK;
    bool bad = strcmp(b->status, "completed") != 0 || b->failed > 0 || b->partial > 0;
    return bad ? EXIT_PARTIAL : EXIT_OK;
}

struct show {
    const struct batch_input *in;   /* the input, for rows; NULL for status */
    const char *key_file;           /* where the key was saved, or NULL */
    const char *key_source;         /* "new", "saved", "option", "input", or NULL */
    const json_t *already;          /* people earlier batches of this input created:
                                       [{row, external_id, employee_uuid, batch_uuid}] */
    const char *ids_file;           /* the copy with the made external_ids, or NULL */
};

/* ---- what was made of a CSV: columns, normalised values, made ids ---------- */

/* "2-4, 7 and 9" for a sorted list of rows, at most 12 items shown. */
static void rows_text(const json_t *rows, char *out, size_t n)
{
    size_t len = 0, count = json_array_size(rows), items = 0;
    out[0] = 0;
    for (size_t i = 0; i < count && len + 1 < n;) {
        json_int_t a = json_integer_value(json_array_get(rows, i)), b = a;
        size_t j = i + 1;
        while (j < count && json_integer_value(json_array_get(rows, j)) == b + 1)
            b = json_integer_value(json_array_get(rows, j++));
        if (b == a + 1) { /* "2 and 3", not "2-3" */
            b = a;
            j = i + 1;
        }
        if (items == 12) {
            snprintf(out + len, n - len, " and %zu more lines", count - i);
            return;
        }
        const char *joint = items == 0 ? "" : j >= count ? " and " : ", ";
        int w = a == b ? snprintf(out + len, n - len, "%s%" JSON_INTEGER_FORMAT, joint, a)
                       : snprintf(out + len, n - len, "%s%" JSON_INTEGER_FORMAT
                                                     "-%" JSON_INTEGER_FORMAT, joint, a, b);
        if (w < 0 || (size_t)w >= n - len)
            return;
        len += (size_t)w;
        items++;
        i = j;
    }
}

/* One warning per kind of value rewritten, and one for the made ids. */
static void csv_notes(struct cli *cli, const struct batch_input *in, const char *ids_file,
                      bool written)
{
    size_t i;
    json_t *r;
    json_array_foreach(in->normalised, i, r) {
        char rows[300], changes[300] = "";
        rows_text(json_object_get(r, "rows"), rows, sizeof rows);
        size_t len = 0, k;
        json_t *ch;
        json_array_foreach(json_object_get(r, "changes"), k, ch) {
            if (k == 4) {
                snprintf(changes + len, sizeof changes - len, ", ...");
                break;
            }
            int w = snprintf(changes + len, sizeof changes - len, "%s\"%.40s\" -> \"%s\"",
                             k ? ", " : ": ", json_string_value(json_object_get(ch, "from")),
                             json_string_value(json_object_get(ch, "to")));
            if (w < 0 || (size_t)w >= sizeof changes - len)
                break;
            len += (size_t)w;
        }
        const char *col = json_string_value(json_object_get(r, "column"));
        const char *field = json_string_value(json_object_get(r, "field"));
        bool same = strcmp(col, field) == 0;
        const char *kind = json_string_value(json_object_get(r, "kind"));
        out_warn(cli, "normalised %s%s%s%s on line%s %s%s%s", col, same ? "" : " (",
                 same ? "" : field, same ? "" : ")",
                 json_array_size(json_object_get(r, "rows")) == 1 ? "" : "s", rows,
                 strcmp(kind, "ssn") == 0 ? " to xxx-xx-xxxx" : "", changes);
    }
    if (in->ngen) {
        json_t *rows = json_array();
        for (size_t g = 0; g < in->ngen; g++)
            json_array_append_new(rows, json_integer((json_int_t)in->gen[g].line));
        char rt[300];
        rows_text(rows, rt, sizeof rt);
        json_decref(rows);
        char where[600];
        if (ids_file && written)
            snprintf(where, sizeof where, "; the file with them is %.400s (use it from now on)",
                     ids_file);
        else if (ids_file)
            snprintf(where, sizeof where, "; a real run writes them to %.400s", ids_file);
        else
            snprintf(where, sizeof where, "; the input came from stdin, so they are only in "
                                          "this output");
        out_warn(cli, "made an external_id for %zu %s without one (line%s %s), from the "
                      "email, else the work email, else the names and date of birth: the "
                      "same ids on every run of this file%s", in->ngen,
                 in->ngen == 1 ? "person" : "people", in->ngen == 1 ? "" : "s", rt, where);
    }
}

/* The members a CSV adds to the output: columns, normalised, generated_external_ids. */
static void csv_json(json_t *d, const struct batch_input *in, const char *ids_file,
                     bool written)
{
    if (!in || !in->csv)
        return;
    json_object_set(d, "columns", in->columns);
    json_object_set(d, "normalised", in->normalised);
    json_t *ids = json_array();
    for (size_t g = 0; g < in->ngen; g++)
        json_array_append_new(ids, json_pack("{s:I, s:s}", "row", (json_int_t)in->gen[g].line,
                                             "external_id", in->gen[g].id));
    json_t *file = ids_file && in->ngen ? json_string(ids_file) : NULL;
    json_object_set_new(d, "generated_external_ids",
                        json_pack("{s:I, s:o, s:o, s:b}", "count", (json_int_t)in->ngen,
                                  "ids", ids, "file", file ? file : json_null(), "written",
                                  written && file));
}

static json_t *batch_json(const gusto_batch *b, const struct show *s)
{
    json_t *results = json_array();
    for (size_t i = 0; i < b->count; i++) {
        const gusto_batch_person *p = &b->people[i];
        size_t row = s->in ? batch_input_row(s->in, p->idx) : (size_t)(p->idx + 1);
        json_t *errs = p->errors_json ? json_loads(p->errors_json, 0, NULL) : NULL;
        json_t *attrs = p->attributes_json ? json_loads(p->attributes_json, 0, NULL) : NULL;
        json_array_append_new(
            results, json_pack("{s:o, s:o, s:s, s:o, s:o, s:o}", "row",
                               row ? json_integer((json_int_t)row) : json_null(),
                               "external_id", str_or_null(p->external_id), "status",
                               p->status, "employee_uuid", str_or_null(p->employee_uuid),
                               "attributes", attrs ? attrs : json_null(),
                               "errors", errs ? errs : json_null()));
    }
    json_t *d = json_object();
    json_object_set_new(d, "uuid", json_string(b->uuid));
    json_object_set_new(d, "idempotency_key", str_or_null(b->idempotency_key));
    json_object_set_new(d, "status", json_string(b->status));
    json_object_set_new(d, "finished", json_boolean(b->finished));
    json_object_set_new(d, "existing", json_boolean(b->existing));
    json_object_set_new(d, "submitted_items",
                        b->submitted >= 0 ? json_integer(b->submitted) : json_null());
    json_object_set_new(d, "processed_items", json_integer(b->processed));
    json_object_set_new(d, "excluded_items", json_integer(b->excluded));
    json_object_set_new(d, "failed_items", json_integer(b->failed + b->partial));
    json_object_set_new(d, "submitted_at", str_or_null(b->submitted_at));
    json_object_set_new(d, "completed_at", str_or_null(b->completed_at));
    if (s->key_source) {
        json_object_set_new(d, "idempotency_key_source", json_string(s->key_source));
        json_object_set_new(d, "idempotency_key_file", str_or_null(s->key_file));
    }
    json_t *ex = b->exclusions_json ? json_loads(b->exclusions_json, 0, NULL) : NULL;
    json_object_set_new(d, "exclusions", ex ? ex : json_array());
    json_object_set_new(d, "results", results);
    if (s->already)
        json_object_set(d, "already_created", (json_t *)s->already);
    csv_json(d, s->in, s->ids_file, true);
    return d;
}

/* Gusto's errors, one per line: "field: message", the field relative to
 * the entry; nested errors are indented below their parent. */
static void show_errors(const json_t *errs, int depth)
{
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e) {
        const char *key = json_string_value(json_object_get(e, "error_key"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (!msg)
            msg = json_string_value(json_object_get(e, "category"));
        if (key && msg && strncmp(msg, key, strlen(key)) == 0 && msg[strlen(key)] == ' ')
            msg += strlen(key) + 1;
        if (key && strncmp(key, "batch[", 6) == 0 && strstr(key, "]."))
            key = strstr(key, "].") + 2;
        printf("%*s- ", 8 + 2 * depth, "");
        if (key) {
            out_text(stdout, key);
            fputs(": ", stdout);
        }
        out_text(stdout, msg ? msg : "error");
        fputc('\n', stdout);
        const json_t *nested = json_object_get(e, "errors");
        if (json_is_array(nested) && depth < 4)
            show_errors(nested, depth + 1);
    }
}

static void show_person_errors(const gusto_batch_person *p)
{
    json_t *errs = p->errors_json ? json_loads(p->errors_json, 0, NULL) : NULL;
    if (json_is_array(errs)) {
        show_errors(errs, 0);
    } else if (p->errors) {
        fputs("        - ", stdout);
        out_text(stdout, p->errors);
        fputc('\n', stdout);
    }
    json_decref(errs);
}

/* A partly created person: which parts were created and which were not,
 * from Gusto's per-attribute statuses. */
static void show_person_parts(const gusto_batch_person *p)
{
    json_t *attrs = p->attributes_json ? json_loads(p->attributes_json, 0, NULL) : NULL;
    for (int failed = 0; failed < 2 && json_is_object(attrs); failed++) {
        const char *key;
        json_t *v;
        int n = 0;
        json_object_foreach(attrs, key, v) {
            const char *st = json_string_value(v);
            if (!st || (strcmp(st, "success") == 0) == (failed == 1))
                continue;
            fputs(n++ ? ", " : (failed ? "        not created: " : "        created: "),
                  stdout);
            out_text(stdout, key);
        }
        if (n)
            fputc('\n', stdout);
    }
    json_decref(attrs);
}

/* Gusto's exclusions, one per line: the external_id, how many entries, why. */
static void show_exclusions(const gusto_batch *b)
{
    json_t *ex = b->exclusions_json ? json_loads(b->exclusions_json, 0, NULL) : NULL;
    if (!json_is_array(ex)) {
        if (b->exclusions_json) {
            fputs("Excluded by Gusto: ", stdout);
            out_text(stdout, b->exclusions_json);
            fputc('\n', stdout);
        }
        json_decref(ex);
        return;
    }
    printf("\nExcluded by Gusto (not processed, %ld %s):\n", b->excluded,
           b->excluded == 1 ? "entry" : "entries");
    size_t i;
    json_t *e;
    json_array_foreach(ex, i, e) {
        json_int_t n = json_integer_value(json_object_get(e, "item_count"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        const char *cat = json_string_value(json_object_get(e, "category"));
        fputs("  - external_id ", stdout);
        out_text(stdout, json_string_value(json_object_get(e, "external_id")) ?: "?");
        printf(" (%" JSON_INTEGER_FORMAT " %s", n, n == 1 ? "entry" : "entries");
        if (cat) {
            fputs(", ", stdout);
            out_text(stdout, cat);
        }
        fputs(")", stdout);
        if (msg) {
            fputs(": ", stdout);
            out_text(stdout, msg);
        }
        fputc('\n', stdout);
    }
    json_decref(ex);
}

/* The people earlier batches of this input created, not sent again. */
static void show_already(const struct show *s)
{
    if (json_array_size(s->already) == 0)
        return;
    printf("\nAlready created by earlier batches of this input (not sent again):\n");
    out_cell(stdout, s->in && s->in->csv ? "LINE" : "ROW", 6);
    out_cell(stdout, "EXTERNAL_ID", 26);
    out_cell(stdout, "EMPLOYEE_UUID", 38);
    puts("BATCH");
    size_t i;
    const json_t *a;
    json_array_foreach(s->already, i, a) {
        char r[24];
        snprintf(r, sizeof r, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(a, "row")));
        out_cell(stdout, r, 6);
        out_cell(stdout, json_string_value(json_object_get(a, "external_id")) ?: "", 26);
        out_cell(stdout, json_string_value(json_object_get(a, "employee_uuid")) ?: "", 38);
        out_text(stdout, json_string_value(json_object_get(a, "batch_uuid")) ?: "");
        fputc('\n', stdout);
    }
}

static int show_batch(struct cli *cli, const gusto_batch *b, const struct show *s)
{
    int rc = batch_exit(b);
    if (cli->json_out) {
        json_t *d = batch_json(b, s);
        out_ok_json(d);
        json_decref(d);
        return rc;
    }
    printf("Batch %s: %s", b->uuid, b->status);
    if (b->finished || b->count)
        printf(", %ld of %ld %s created", b->processed,
               b->submitted >= 0 ? b->submitted : (long)b->count,
               b->submitted == 1 ? "person" : "people");
    if (b->failed + b->partial)
        printf(", %ld not (fully) created", b->failed + b->partial);
    if (b->excluded > 0)
        printf(", %ld excluded", b->excluded);
    fputs(".\n", stdout);
    if (b->existing)
        printf("The idempotency key was already used: this is the batch it created, so "
               "nobody was created twice.\n");
    if (b->idempotency_key[0]) {
        printf("Idempotency key: %s", b->idempotency_key);
        if (s->key_file)
            printf(" (saved in %s)", s->key_file);
        fputc('\n', stdout);
    }
    if (b->count) {
        fputc('\n', stdout);
        out_cell(stdout, s->in && s->in->csv ? "LINE" : "ROW", 6);
        out_cell(stdout, "EXTERNAL_ID", 26);
        out_cell(stdout, "STATUS", 17);
        puts("EMPLOYEE_UUID");
        for (size_t i = 0; i < b->count; i++) {
            const gusto_batch_person *p = &b->people[i];
            size_t row = s->in ? batch_input_row(s->in, p->idx) : (size_t)(p->idx + 1);
            char r[24];
            snprintf(r, sizeof r, "%zu", row);
            out_cell(stdout, row ? r : "-", 6);
            out_cell(stdout, p->external_id, 26);
            out_cell(stdout, p->status, 17);
            out_text(stdout, p->employee_uuid[0] ? p->employee_uuid : "-");
            fputc('\n', stdout);
            if (strcmp(p->status, "partial_success") == 0)
                show_person_parts(p);
            if (p->errors || p->errors_json)
                show_person_errors(p);
        }
    }
    show_exclusions(b);
    show_already(s);
    if (!b->finished)
        printf("\nFollow it with: gusto-connect batch status %s --wait\n", b->uuid);
    return rc;
}

/* ---- waiting ---------------------------------------------------------------- */

/* The bar counts people processed of those submitted; the label is the
 * batch, the detail its status. */
static int on_progress(void *ud, const gusto_batch *b)
{
    struct progress *p = ud;
    char detail[48];
    snprintf(detail, sizeof detail, "%.20s", b->status);
    progress_set(p, b->count, b->submitted > 0 ? (size_t)b->submitted : 0, detail);
    return 0;
}

static gusto_code wait_for(struct cli *cli, gusto_client *client, const char *uuid,
                           gusto_batch *b, gusto_error *err)
{
    struct progress p;
    progress_init(&p, "batch", out_is_tty(2) && !cli->quiet, term_width(2));
    cli_progress(cli, &p);
    gusto_batch_free(b);
    gusto_code rc = gusto_batch_wait(client, uuid, 0, on_progress, &p, b, err);
    progress_clear(&p);
    cli_progress(cli, NULL);
    return rc;
}

/* ---- create ------------------------------------------------------------------ */

static int dry_run(struct cli *cli, const struct batch_input *in, const char *key,
                   const char *source, const char *key_file, const char *ids_file)
{
    json_t *entries = in->entries;
    char path[128];
    snprintf(path, sizeof path, "/v1/companies/%s/people_batches",
             cli->company ? cli->company : "{company_uuid}");
    json_t *body = json_pack("{s:s, s:s, s:O}", "idempotency_key", key, "batch_action",
                             "create", "batch", entries);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(body, "batch"), i, e) {
        if (!json_object_get(e, "entity_type")) {
            json_t *c = json_pack("{s:s}", "entity_type", "employee");
            json_object_update(c, e);
            json_array_set_new(json_object_get(body, "batch"), i, c);
        }
    }
    secret_mask_json(body);
    size_t n = json_array_size(entries);
    if (cli->json_out) {
        json_t *data = json_pack("{s:b, s:I, s:s, s:s, s:o, s:[{s:s, s:s, s:o}]}", "dry_run", 1,
                                 "people", (json_int_t)n, "idempotency_key", key,
                                 "idempotency_key_source", source, "idempotency_key_file",
                                 str_or_null(key_file), "requests", "method", "POST", "path",
                                 path, "body", body);
        csv_json(data, in, ids_file, false);
        out_ok_json(data);
        json_decref(data);
        return EXIT_OK;
    }
    printf("Dry run: every entry is valid and nothing was sent.  This request would be:\n\n"
           "  POST %s\n  %zu %s, idempotency key %s (%s)\n", path, n,
           n == 1 ? "person" : "people", key,
           strcmp(source, "saved") == 0 ? "reused from the key file"
           : strcmp(source, "option") == 0 ? "from --idempotency-key"
           : strcmp(source, "input") == 0 ? "from the input"
                                          : "new");
    if (n <= 20) {
        char *text = json_dumps(body, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text) {
            fputc('\n', stdout);
            for (char *line = text; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                    *nl = 0;
                fputs("    ", stdout);
                out_text(stdout, line);
                fputc('\n', stdout);
                line = nl ? nl + 1 : NULL;
            }
        }
        free(text);
    } else {
        printf("  (the body is not shown for more than 20 people; add --json to see it)\n");
    }
    json_decref(body);
    return EXIT_OK;
}

/* Choose the idempotency key: --idempotency-key, then the input's own,
 * then the key file's when it was written for this very input, or when
 * whether its send made a batch is not known (a run cut short: *resolve is
 * then set, and a 409 names that batch), else new. */
static int choose_key(struct cli *cli, const char *opt, const struct batch_input *in,
                      const char *key_file, const struct batch_state *st, const char *hash,
                      char key[40], const char **source, bool *resolve)
{
    bool have = st->key[0] != 0;
    *resolve = false;
    if (opt) {
        snprintf(key, 40, "%s", opt);
        *source = "option";
    } else if (in->body_key[0]) {
        snprintf(key, 40, "%s", in->body_key);
        *source = "input";
    } else if (have && strcmp(st->hash, hash) == 0) {
        snprintf(key, 40, "%s", st->key);
        *source = "saved";
        out_warn(cli, "this input was sent before (or tried): reusing idempotency key %s "
                      "from %s, so nobody is created twice", key, key_file);
    } else if (have && !batch_state_knows(st, st->key)) {
        snprintf(key, 40, "%s", st->key);
        *source = "saved";
        *resolve = true;
        out_warn(cli, "the input changed since %s was written, and whether its key %s made "
                      "a batch is not known (the last run was cut short): sending with that "
                      "key first, so an earlier batch is found rather than repeated",
                 key_file, key);
    } else {
        gusto_error err;
        if (gusto_batch_new_key(key, &err) != GUSTO_OK)
            return out_error(cli, &err, NULL);
        *source = "new";
        if (have)
            out_warn(cli, "the input changed since %s was written: it gets a new idempotency "
                          "key %s (the old key %s belongs to the earlier input)", key_file,
                     key, st->key);
    }
    return 0;
}

/* The entries of `cur` whose person.external_id a finished batch `b`
 * created (an employee uuid in its results) move to `already`; the others
 * are copied into *next, with their rows.  0, or -1 out of memory. */
static int leave_out(const struct batch_input *cur, const gusto_batch *b, json_t *already,
                     struct batch_input *next)
{
    memset(next, 0, sizeof *next);
    next->csv = cur->csv;
    memcpy(next->body_key, cur->body_key, sizeof next->body_key);
    next->entries = json_array();
    next->rows = malloc((cur->count ? cur->count : 1) * sizeof *next->rows);
    if (!next->entries || !next->rows)
        return -1;
    for (size_t i = 0; i < cur->count; i++) {
        json_t *e = json_array_get(cur->entries, i);
        const char *ext = json_string_value(
            json_object_get(json_object_get(e, "person"), "external_id"));
        const gusto_batch_person *made = NULL;
        for (size_t k = 0; ext && k < b->count && !made; k++)
            if (b->people[k].external_id && strcmp(b->people[k].external_id, ext) == 0 &&
                b->people[k].employee_uuid[0])
                made = &b->people[k];
        if (made) {
            json_array_append_new(already,
                                  json_pack("{s:I, s:s, s:s, s:s}", "row",
                                            (json_int_t)cur->rows[i], "external_id", ext,
                                            "employee_uuid", made->employee_uuid,
                                            "batch_uuid", b->uuid));
        } else {
            json_array_append(next->entries, e);
            next->rows[next->count++] = cur->rows[i];
        }
    }
    return 0;
}

/* Wait for an earlier batch and leave out of *in the people it created
 * (*in is replaced).  0, or the exit status after reporting. */
static int recall(struct cli *cli, gusto_client *client, const char *uuid, json_t *already,
                  struct batch_input *in)
{
    gusto_batch b;
    memset(&b, 0, sizeof b);
    gusto_error err;
    gusto_code code = wait_for(cli, client, uuid, &b, &err);
    if (code != GUSTO_OK) {
        gusto_batch_free(&b);
        snprintf(err.hint, sizeof err.hint,
                 "an earlier batch of this input (%.40s) could not be read; nothing was "
                 "sent: run the command again", uuid);
        return out_error(cli, &err, NULL);
    }
    struct batch_input next;
    int rc = leave_out(in, &b, already, &next);
    gusto_batch_free(&b);
    if (rc != 0) {
        batch_input_free(&next);
        return out_fail(cli, EXIT_GENERAL, "out_of_memory", "out of memory", NULL, NULL);
    }
    /* what the CSV made stays with the input */
    next.sep = in->sep;
    next.ext_col = in->ext_col;
    next.columns = in->columns;
    next.normalised = in->normalised;
    next.gen = in->gen;
    next.ngen = in->ngen;
    in->columns = in->normalised = NULL;
    in->gen = NULL;
    batch_input_free(in);
    *in = next;
    return 0;
}

/* Save the key file: the key of the next send (before it), or a batch
 * made (after).  Without it, a re-run after a crash could create people
 * twice.  0, or the exit status. */
struct ids_copy {
    const char *file;        /* the copy with the made ids, or NULL */
    char *key_file;          /* its key file */
    char hash[65];           /* the copy's SHA-256 */
};

/* The copy with the made ids gets the same key and batches in its own key
 * file (with its own hash), so that running the copy later finds the same
 * batch instead of making people twice.  Its batches so far are kept. */
static void save_copy_state(struct cli *cli, const struct ids_copy *ic,
                            const struct batch_state *st)
{
    if (!ic || !ic->file || !ic->key_file)
        return;
    struct batch_state cs;
    batch_state_read(ic->key_file, &cs);
    snprintf(cs.key, sizeof cs.key, "%s", st->key);
    snprintf(cs.hash, sizeof cs.hash, "%s", ic->hash);
    int rc = 0;
    for (size_t i = 0; i < st->count && rc == 0; i++)
        if (!batch_state_knows(&cs, st->made[i].key))
            rc = batch_state_write(ic->key_file, &cs, st->made[i].key, st->made[i].uuid);
    if (rc == 0)
        rc = batch_state_write(ic->key_file, &cs, NULL, NULL);
    if (rc != 0)
        out_warn(cli, "cannot save the idempotency key in %s: %s; run %s again rather "
                      "than its copy", ic->key_file, strerror(errno), "the input");
    batch_state_free(&cs);
}

static int save_state(struct cli *cli, const char *key_file, struct batch_state *st,
                      const char *key, const char *made_uuid, bool required,
                      const struct ids_copy *ic)
{
    if (!key_file)
        return 0;
    if (batch_state_write(key_file, st, made_uuid ? key : NULL, made_uuid) == 0) {
        save_copy_state(cli, ic, st);
        return 0;
    }
    char msg[600], hint[300];
    snprintf(msg, sizeof msg, "cannot save the idempotency key in %.400s: %s", key_file,
             strerror(errno));
    if (!required) {
        out_warn(cli, "%s; going on with idempotency key %s", msg, key);
        return 0;
    }
    snprintf(hint, sizeof hint, "make the input's directory writable, or pass "
                                "--idempotency-key %s and keep it for a re-run", key);
    return out_fail(cli, EXIT_GENERAL, "key_file", msg, "idempotency_key", hint);
}

/* --separator: comma, semicolon or tab (or the character itself) into
 * *sep.  0, or the usage error's exit status. */
static int parse_separator(struct cli *cli, const char *opt, char *sep)
{
    *sep = 0;
    if (!opt)
        return 0;
    if (strcmp(opt, ",") == 0 || strcasecmp(opt, "comma") == 0)
        *sep = ',';
    else if (strcmp(opt, ";") == 0 || strcasecmp(opt, "semicolon") == 0)
        *sep = ';';
    else if (strcmp(opt, "\t") == 0 || strcmp(opt, "\\t") == 0 || strcasecmp(opt, "tab") == 0)
        *sep = '\t';
    else
        return out_usage(cli, "--separator '%.20s' is not one of comma (,), semicolon "
                              "(;) or tab", opt);
    return 0;
}

/* The input's rows checked by libgusto (gusto_batch_validate).  When they
 * pass and external_ids were made for rows without one, the copy with the
 * made ids is written first (unless dry), so a run cut short still leaves
 * it: *ids_file (the caller frees it) names it, and *ic and *ids_written
 * say whether it was written.  0, or the exit status after every problem
 * was reported (in and problems are then released). */
static int check_rows(struct cli *cli, struct batch_input *in, const char *text, size_t len,
                      const char *path, bool dry, json_t *problems, char **ids_file,
                      struct ids_copy *ic, bool *ids_written)
{
    const char *what = path ? path : "stdin";
    char *entries = json_dumps(in->entries, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *lib_errors = NULL;
    gusto_error err;
    gusto_code code = entries ? gusto_batch_validate(entries, &lib_errors, &err) : GUSTO_ENOMEM;
    if (entries)
        explicit_bzero(entries, strlen(entries));
    free(entries);
    *ids_file = path && in->ngen ? batch_ids_path(path) : NULL;
    *ids_written = false;
    if (code == GUSTO_OK && *ids_file && !dry) {
        if (batch_input_write_ids(in, text, len, *ids_file, ic->hash) == 0) {
            *ids_written = true;
            ic->file = *ids_file;
            ic->key_file = batch_key_path(*ids_file);
        } else {
            out_warn(cli, "cannot write %s: %s; the made external_ids are the same on every "
                          "run of %s, so nothing is lost", *ids_file, strerror(errno), path);
        }
    }
    if (code == GUSTO_OK) {
        gusto_free(lib_errors);
        return 0;
    }
    free(*ids_file);
    *ids_file = NULL;
    json_t *le = lib_errors ? json_loads(lib_errors, 0, NULL) : NULL;
    gusto_free(lib_errors);
    bool csv = in->csv;
    if (code == GUSTO_EINVAL && le) {
        batch_input_map_errors(in, le, problems);
        batch_input_free(in);
        return report_problems(cli, problems, csv, what, EXIT_VALIDATION, "invalid_input", 0,
                               NULL);
    }
    json_decref(le);
    json_decref(problems);
    batch_input_free(in);
    if (code == GUSTO_ENOMEM)
        return out_fail(cli, EXIT_GENERAL, "out_of_memory", "out of memory", NULL, NULL);
    return out_error(cli, &err, NULL);
}

/* Every person of the input exists already (earlier batches made them):
 * say who, and that nothing was sent. */
static int nothing_to_send(struct cli *cli, const struct batch_input *in, json_t *already,
                           const char *ids_file)
{
    size_t n = json_array_size(already);
    if (cli->json_out) {
        json_t *d = json_pack("{s:n, s:s, s:b, s:I, s:O}", "uuid", "status", "completed",
                              "finished", 1, "submitted_items", (json_int_t)0,
                              "already_created", already);
        csv_json(d, in, ids_file, true);
        out_ok_json(d);
        json_decref(d);
    } else {
        printf("Nothing to send: earlier batches of this input already created all %zu "
               "%s.\n", n, n == 1 ? "person" : "people");
        struct show sh = {in, NULL, NULL, already, NULL};
        show_already(&sh);
    }
    return EXIT_OK;
}

/* The outcome of gusto_batch_create() (code, b, err) for the input `in`
 * read from `what`: Gusto's refusal row by row (problems consumed), a
 * failure with what to do, or the batch, waited for with --wait and shown
 * as sh says.  Returns the exit status. */
static int report_sent(struct cli *cli, gusto_client *client, gusto_code code, gusto_batch *b,
                       gusto_error *err, json_t *problems, bool wait, struct batch_input *in,
                       const char *what, const struct show *sh)
{
    if ((code == GUSTO_EINVAL || code == GUSTO_EINVALID_DATA) && b->errors_json) {
        json_t *le = json_loads(b->errors_json, 0, NULL);
        batch_input_map_errors(in, le, problems);
        return report_problems(cli, problems, in->csv, what,
                               out_exit_code(code, err->http_status),
                               code == GUSTO_EINVAL ? "invalid_input"
                                                    : "invalid_attribute_value",
                               code == GUSTO_EINVAL ? 0 : err->http_status,
                               code == GUSTO_EINVAL ? NULL : "Gusto refused the batch: ");
    }
    json_decref(problems);
    if (code != GUSTO_OK) {
        if ((code == GUSTO_ENETWORK || code == GUSTO_ESERVER) && sh->key_file)
            snprintf(err->hint, sizeof err->hint,
                     "the batch may exist: run the same command again; it reuses the key in "
                     "%.150s, so nobody is created twice", sh->key_file);
        return out_error(cli, err, NULL);
    }
    if (wait && !b->finished) {
        char uuid[40];
        snprintf(uuid, sizeof uuid, "%s", b->uuid);
        int existing = b->existing;
        code = wait_for(cli, client, uuid, b, err);
        b->existing = existing;
    }
    if (code != GUSTO_OK)
        return out_error(cli, err, NULL);
    return show_batch(cli, b, sh);
}

static int batch_create(struct cli *cli, int argc, char **argv)
{
    const char *input = NULL, *key_opt = NULL, *sep_opt = NULL;
    bool wait = false, dry = false, help;
    const struct cli_opt opts[] = {
        {"--input", "FILE|-", &input, NULL},
        {"--separator", "comma|semicolon|tab", &sep_opt, NULL},
        {"--idempotency-key", "UUID", &key_opt, NULL},
        {"--wait", NULL, NULL, &wait},
        {"--dry-run", NULL, NULL, &dry},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 0, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, cli->command);
    if (key_opt && !cli_is_uuid(key_opt)) {
        char msg[160];
        snprintf(msg, sizeof msg, "--idempotency-key \"%.60s\" is not a UUID", key_opt);
        return out_fail(cli, EXIT_VALIDATION, "invalid_input", msg, "idempotency_key",
                        "leave it out to get one (saved beside the input), or give a UUID");
    }
    char sep;
    if ((rc = parse_separator(cli, sep_opt, &sep)) != 0)
        return rc;
    char *text = NULL;
    size_t len = 0;
    if ((rc = in_read(cli, input, &text, &len)) != 0)
        return rc;
    const char *path = input && strcmp(input, "-") != 0 ? input : NULL;
    const char *what = path ? path : "stdin";
    json_t *problems = json_array();
    struct batch_input in;
    if (!batch_input_parse_sep(path, text, len, sep, &in, problems)) {
        explicit_bzero(text, len);
        free(text);
        bool csv = in.csv;
        batch_input_free(&in);
        return report_problems(cli, problems, csv, what, EXIT_VALIDATION, "invalid_input", 0,
                               NULL);
    }
    char hash[65];
    batch_input_hash(text, len, hash);
    struct ids_copy ic = {NULL, NULL, {0}};
    char *ids_file;
    bool ids_written;
    rc = check_rows(cli, &in, text, len, path, dry, problems, &ids_file, &ic, &ids_written);
    explicit_bzero(text, len); /* SSNs and account numbers */
    free(text);
    text = NULL;
    if (rc != 0)
        return rc;
    if (in.csv)
        csv_notes(cli, &in, ids_file, ids_written);

    char *entries = NULL;
    gusto_code code = GUSTO_OK;
    gusto_error err;
    char key[40];
    const char *source = NULL;
    bool resolve = false;
    char *key_file = path ? batch_key_path(path) : NULL;
    struct batch_state st;
    memset(&st, 0, sizeof st);
    if (key_file)
        batch_state_read(key_file, &st);
    json_t *already = json_array();
    gusto_batch b;
    memset(&b, 0, sizeof b);
    if ((rc = choose_key(cli, key_opt, &in, key_file, &st, hash, key, &source, &resolve)) != 0)
        goto done;
    if (dry) {
        rc = dry_run(cli, &in, key, source, key_file, ids_file);
        goto done;
    }
    bool keep_key = key_file && strcmp(source, "input") != 0;
    if (!key_file && strcmp(source, "new") == 0)
        out_warn(cli, "the input came from stdin, so its idempotency key %s is not saved; if "
                      "this run is cut short, run it again with --idempotency-key %s", key,
                 key);
    gusto_client *client = cli_client(cli, &rc);
    if (!client)
        goto done;
    /* The people earlier batches of this input created are left out, so a
     * re-run after rows were fixed creates only those still missing.  The
     * batch of the key about to be sent is not: Gusto answers it itself. */
    for (size_t i = 0; i < st.count; i++)
        if (strcasecmp(st.made[i].key, key) != 0 &&
            (rc = recall(cli, client, st.made[i].uuid, already, &in)) != 0)
            goto done;
    for (int round = 0;; round++) {
        if (in.count == 0)
            break; /* everyone is there already */
        entries = json_dumps(in.entries, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!entries) {
            rc = out_fail(cli, EXIT_GENERAL, "out_of_memory", "out of memory", NULL, NULL);
            goto done;
        }
        if (keep_key) {
            snprintf(st.key, sizeof st.key, "%s", key);
            snprintf(st.hash, sizeof st.hash, "%s", hash);
            if ((rc = save_state(cli, key_file, &st, key, NULL, !key_opt, &ic)) != 0)
                goto done;
        }
        gusto_batch_free(&b);
        code = gusto_batch_create(client, entries, key, &b, &err);
        explicit_bzero(entries, strlen(entries));
        free(entries);
        entries = NULL;
        if (code == GUSTO_OK && keep_key)
            save_state(cli, key_file, &st, key, b.uuid, false, &ic);
        if (code != GUSTO_OK || !(resolve && b.existing) || round > 0)
            break;
        /* The key of a run cut short made a batch for the earlier input:
         * leave out whom it created, and send the rest under a new key. */
        char uuid[40];
        snprintf(uuid, sizeof uuid, "%s", b.uuid);
        if ((rc = recall(cli, client, uuid, already, &in)) != 0)
            goto done;
        if (gusto_batch_new_key(key, &err) != GUSTO_OK) {
            rc = out_error(cli, &err, NULL);
            goto done;
        }
        source = "new";
        resolve = false;
    }
    if (in.count == 0 && !b.uuid[0]) {
        rc = nothing_to_send(cli, &in, already, ids_written ? ids_file : NULL);
        goto done;
    }
    struct show sh = {&in, strcmp(source, "input") ? key_file : NULL, source, already,
                      ids_written ? ids_file : NULL};
    rc = report_sent(cli, client, code, &b, &err, problems, wait, &in, what, &sh);
    problems = NULL;
done:
    free(ids_file);
    free(ic.key_file);
    gusto_batch_free(&b);
    if (entries)
        explicit_bzero(entries, strlen(entries));
    free(entries);
    json_decref(problems);
    json_decref(already);
    batch_state_free(&st);
    free(key_file);
    batch_input_free(&in);
    return rc;
}

/* ---- status ------------------------------------------------------------------ */

static int batch_status(struct cli *cli, int argc, char **argv)
{
    bool wait = false, help;
    const struct cli_opt opts[] = {
        {"--wait", NULL, NULL, &wait},
        {NULL, NULL, NULL, NULL},
    };
    const char *pos[1];
    int npos, rc = cli_args(cli, argc, argv, opts, pos, 1, &npos, &help);
    if (rc || help)
        return rc ? rc : cli_help(cli, cli->command);
    if (npos == 0)
        return out_usage(cli, "missing the batch's UUID: gusto-connect batch status UUID [--wait]");
    gusto_client *client = cli_client(cli, &rc);
    if (!client)
        return rc;
    gusto_batch b;
    memset(&b, 0, sizeof b);
    gusto_error err;
    gusto_code code = wait ? wait_for(cli, client, pos[0], &b, &err)
                           : gusto_batch_status(client, pos[0], &b, &err);
    if (code != GUSTO_OK)
        rc = out_error(cli, &err, NULL);
    else {
        struct show s = {NULL, NULL, NULL, NULL, NULL};
        rc = show_batch(cli, &b, &s);
    }
    gusto_batch_free(&b);
    return rc;
}

int cmd_batch(struct cli *cli, int argc, char **argv)
{
    cli->command = "batch";
    if (argc == 0)
        return out_usage(cli, "'gusto-connect batch' needs a subcommand: create or status");
    if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0)
        return cli_help(cli, "batch");
    if (strcmp(argv[0], "create") == 0) {
        cli->command = "batch create";
        return batch_create(cli, argc - 1, argv + 1);
    }
    if (strcmp(argv[0], "status") == 0) {
        cli->command = "batch status";
        return batch_status(cli, argc - 1, argv + 1);
    }
    return cli_unknown_subcommand(cli, "batch", argv[0]);
}
