/* fuzz_csv.c - libFuzzer harness: the input of `gusto-connect batch create`: the CSV parser (csv_parse, and csv_parse_sep with the detected separator) with its record invariants, then the conversion of CSV or JSON into batch entries, their checks, the copy with made ids and the error mapping. */
#include "cli/batch_input.h"
#include "cli/csv.h"
#include "gusto.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "fuzz_csv: %s\n", what);
    abort();
}

struct seen {
    size_t records, last_line, len;
};

static int on_record(void *ud, size_t line, char **fields, size_t nfields)
{
    struct seen *s = ud;
    if (nfields == 0 || nfields > CSV_MAX_FIELDS)
        die("a record with no fields or too many");
    if (line < s->last_line || line == 0)
        die("record lines going backwards");
    size_t total = 0;
    for (size_t i = 0; i < nfields; i++) {
        if (!fields[i])
            die("a NULL field");
        total += strlen(fields[i]);
    }
    if (total > s->len)
        die("fields longer than the input");
    s->last_line = line;
    s->records++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen s = {0, 0, size};
    struct csv_error err;
    memset(&err, 0, sizeof err);
    int rc = csv_parse((const char *)data, size, on_record, &s, &err);
    if (rc == -1 && !memchr(err.message, 0, sizeof err.message))
        die("an error message without its NUL");
    if (rc != 0 && rc != -1)
        die("an unexpected return value");
    /* The same with the separator the header shows (';' or tab too). */
    char sep = csv_detect_separator((const char *)data, size);
    if (sep != ',' && sep != ';' && sep != '\t')
        die("a separator that is not comma, semicolon or tab");
    struct seen s2 = {0, 0, size};
    rc = csv_parse_sep((const char *)data, size, sep, on_record, &s2, &err);
    if (rc != 0 && rc != -1)
        die("an unexpected return value (csv_parse_sep)");

    /* The whole input path: as a .csv file, then as whatever it looks like. */
    for (int pass = 0; pass < 2; pass++) {
        struct batch_input in;
        memset(&in, 0, sizeof in);
        json_t *errors = json_array();
        if (batch_input_parse(pass ? NULL : "people.csv", (const char *)data, size, &in,
                              errors)) {
            if (!json_is_array(in.entries) || json_array_size(in.entries) != in.count)
                die("entries and count disagree");
            for (size_t i = 0; i < in.count; i++)
                if (batch_input_row(&in, (long)i) == 0)
                    die("an entry without its input row");
            /* The copy with made ids is rebuilt from the same text. */
            if (in.csv && in.ngen) {
                char path[] = "/tmp/fuzz_csv_ids_XXXXXX";
                int fd = mkstemp(path);
                if (fd >= 0) {
                    close(fd);
                    char hash[65];
                    if (batch_input_write_ids(&in, (const char *)data, size, path, hash) != 0)
                        die("the copy with made ids could not be written");
                    unlink(path);
                }
            }
            char *text = json_dumps(in.entries, JSON_COMPACT);
            char *lib = NULL;
            gusto_error gerr;
            if (text && gusto_batch_validate(text, &lib, &gerr) != GUSTO_OK && lib) {
                json_t *le = json_loads(lib, 0, NULL);
                if (le)
                    batch_input_map_errors(&in, le, errors); /* consumes le */
            }
            gusto_free(lib);
            free(text);
        } else if (json_array_size(errors) == 0) {
            die("a refused input without a reported problem");
        }
        json_decref(errors);
        batch_input_free(&in);
    }
    return 0;
}
