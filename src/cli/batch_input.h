/* batch_input.h - the input of `gusto-connect batch create`: a JSON array of entries (or a whole request body) or a CSV file whose header names API fields (dotted paths or the names people write), turned into entries with the input row of each, its values normalised and missing external_ids made; the copy with those ids; and the idempotency key file kept beside the input. */
#ifndef GUSTO_CLI_BATCH_INPUT_H
#define GUSTO_CLI_BATCH_INPUT_H

#include "cli/cli.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* An external_id made for a CSV row that had none (see below). */
struct batch_gen_id {
    size_t line;             /* the row's CSV line */
    char id[24];             /* "gc-" and 12 hex digits, "-N" on a clash */
};

struct batch_input {
    bool csv;                /* the input was CSV */
    json_t *entries;         /* a JSON array of batch entries */
    size_t *rows;            /* rows[i]: the input row of entry i (CSV line or i + 1) */
    size_t count;
    char body_key[40];       /* idempotency_key of a whole request body, or "" */
    /* CSV only (NULL / 0 otherwise): */
    char sep;                /* the separator read: ',', ';' or '\t' */
    json_t *columns;         /* [{"header","field"}] for each header that is not the
                                field's own dotted path ("First Name" -> person.first_name) */
    json_t *normalised;      /* one {"kind","field","column","rows":[..],"changes":
                                [{"from","to"}..]} per kind of value rewritten (changes
                                left out for SSNs); [] when none */
    struct batch_gen_id *gen;  /* the external_ids made, in line order */
    size_t ngen;
    long ext_col;            /* the external_id column's index, -1 when none */
};

/* Parse `text` (from `path`, NULL for stdin) as CSV when the name ends in
 * .csv or the text does not start with '[' or '{', else as JSON.  Returns
 * true with *in filled; false with every problem appended to `errors`
 * ({"row", "field", "message"}).  Out of memory is reported as a problem.
 *
 * CSV: the separator is `sep` when not 0, else detected from the header
 * (csv_detect_separator).  A header cell is a dotted API path
 * ("person.first_name") or a name people write ("First Name", "first_name",
 * "E-mail", "Start Date", "Pay Rate"...): case, spaces, dashes, underscores
 * and punctuation do not count.  An unknown one is refused with the closest
 * known name ("did you mean").  Values people write are rewritten to
 * Gusto's (units of pay, FLSA status, US states, dates, pay rates with $
 * and thousands separators, SSNs of 9 bare digits), each kind listed in
 * in->normalised; a value that cannot be read for sure (an ambiguous or
 * impossible date, an unknown state or unit) is refused with its row,
 * column, value and what was expected.  A row without an external_id gets
 * one made from its content (its email, else work email, else names and
 * date of birth, hashed), the same on every run of the same file; a clash
 * within the file gets "-2", "-3"... in line order. */
bool batch_input_parse(const char *path, const char *text, size_t len,
                       struct batch_input *in, json_t *errors);
bool batch_input_parse_sep(const char *path, const char *text, size_t len, char sep,
                           struct batch_input *in, json_t *errors);

/* The name of the copy of the input with the made external_ids:
 * "people.csv" -> "people.with-ids.csv", any other name + ".with-ids.csv".
 * malloc'd; NULL out of memory. */
char *batch_ids_path(const char *input_path);

/* Write the CSV `text` (what in was parsed from) to `out_path` with the
 * made external_ids filled in (in an added last column when the header had
 * none, named in the header's style): atomically (a temporary file in the
 * same directory, then rename), mode 0600, the same separator, line breaks
 * and BOM as the input.  `hash` receives the SHA-256 of what was written
 * (for its key file).  0, or -1 with errno set (nothing is left behind). */
int batch_input_write_ids(const struct batch_input *in, const char *text, size_t len,
                          const char *out_path, char hash[65]);

/* Rewrite the library's check results (index-based) for this input: row
 * becomes the input row, and for CSV the field becomes its column name
 * ("bank_accounts.0.split_amount").  Consumes lib_errors and appends the
 * result to errors. */
void batch_input_map_errors(const struct batch_input *in, json_t *lib_errors, json_t *errors);

/* The input row of entry idx; 0 when unknown. */
size_t batch_input_row(const struct batch_input *in, long idx);

void batch_input_free(struct batch_input *in);

/* ---- the idempotency key file: PATH.idempotency-key ---- */

/* SHA-256 of the input as 64 hex digits. */
void batch_input_hash(const char *text, size_t len, char out[65]);

/* The key file's name for an input path (malloc'd). */
char *batch_key_path(const char *input_path);

/* Read a key file: true when it holds a key and a hash. */
bool batch_key_read(const char *key_path, char key[40], char hash[65]);

/* Write a key file atomically with mode 0600.  Returns 0, or -1 with
 * errno set. */
int batch_key_write(const char *key_path, const char *key, const char *hash);

/* The batches this input file has made, remembered in the same key file as
 * "batch KEY UUID" lines, so that a re-run of a changed input can leave out
 * the people they created (cmd_batch.c).  A batch is added once Gusto has
 * answered with its uuid; the "key" line is written before each send. */
struct batch_state {
    char key[40];            /* the key of the latest send ("" when none) */
    char hash[65];           /* the input it was for */
    size_t count;
    struct batch_made {
        char key[40];
        char uuid[40];
    } *made;
};

/* Read the key file into *st (zeroed first); false when there is none or
 * it has no key.  Release with batch_state_free(). */
bool batch_state_read(const char *key_path, struct batch_state *st);

/* Is the batch of `key` known (a "batch" line)? */
bool batch_state_knows(const struct batch_state *st, const char *key);

/* Add a made batch (unless known) and write the whole file atomically,
 * mode 0600, with st->key and st->hash as its key.  0, or -1 with errno. */
int batch_state_write(const char *key_path, struct batch_state *st, const char *made_key,
                      const char *made_uuid);

void batch_state_free(struct batch_state *st);

#endif
