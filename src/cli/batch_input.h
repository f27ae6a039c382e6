/* batch_input.h - the input of `gusto-connect batch create`: a JSON array of entries (or a whole request body) or a CSV file with dotted API field names as its header, turned into entries with the input row of each; and the idempotency key file kept beside the input. */
#ifndef GUSTO_CLI_BATCH_INPUT_H
#define GUSTO_CLI_BATCH_INPUT_H

#include "cli/cli.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct batch_input {
    bool csv;                /* the input was CSV */
    json_t *entries;         /* a JSON array of batch entries */
    size_t *rows;            /* rows[i]: the input row of entry i (CSV line or i + 1) */
    size_t count;
    char body_key[40];       /* idempotency_key of a whole request body, or "" */
};

/* Parse `text` (from `path`, NULL for stdin) as CSV when the name ends in
 * .csv or the text does not start with '[' or '{', else as JSON.  Returns
 * true with *in filled; false with every problem appended to `errors`
 * ({"row", "field", "message"}).  Out of memory is reported as a problem. */
bool batch_input_parse(const char *path, const char *text, size_t len,
                       struct batch_input *in, json_t *errors);

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
