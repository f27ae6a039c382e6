/* output.h - how the CLI shows things: JSON envelopes on stdout, tables and
 * key-value blocks for a terminal, errors, warnings and exit statuses. */
#ifndef GUSTO_CLI_OUTPUT_H
#define GUSTO_CLI_OUTPUT_H

#include "cli/cli.h"
#include "cli/table.h"

#include <jansson.h>
#include <stdio.h>

/* How every JSON line on stdout is encoded: compact, keys in the order they
 * were set, and reals with 10 significant digits (0.04, not
 * 0.040000000000000001, which is what jansson's default 17 print). */
#define OUT_JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

/* isatty() that treats errors as "not a terminal". */
bool out_is_tty(int fd);

/* The exit status for a library code (see cli.h); http_status refines
 * GUSTO_EHTTP into 4xx or 5xx. */
int out_exit_code(gusto_code code, long http_status);

/* The exit status for a failure: out_exit_code(), except that a request
 * that timed out (reason "timeout") is EXIT_TIMEOUT. */
int out_error_exit(const gusto_error *err);

/* The snake_case name of a code: "not_found", "invalid_input", ... */
const char *out_code_name(gusto_code code);

/* {"ok":true,"data":DATA} and a newline on stdout.  `data_json` is JSON
 * text printed as it is (trailing white space trimmed); NULL or empty
 * prints null. */
void out_ok_text(const char *data_json, size_t len);

/* The same with a jansson value (not consumed). */
void out_ok_json(const json_t *data);

/* Report a library failure: the envelope on stdout in JSON mode, a
 * readable block on stderr (also in JSON mode, unless --quiet).
 * `response` is the raw error body of `gusto-connect api`, or NULL; in JSON mode it
 * goes under details.response, on a terminal each of its errors is listed.
 * Returns the exit status. */
int out_error(struct cli *cli, const gusto_error *err, const char *response);

/* out_error() with one more member of details: details[extra_key] = extra
 * (not consumed), in JSON mode only; both NULL: out_error(). */
int out_error_extra(struct cli *cli, const gusto_error *err, const char *response,
                    const char *extra_key, json_t *extra);

/* Report a failure in the middle of a streamed list envelope, which opens
 * with {"data":[ and puts "ok" last so that no key is ever repeated: close
 * the array, then "ok":false and the error.  (A list that succeeds ends
 * ],"ok":true}.)  Returns the exit status. */
int out_stream_error(struct cli *cli, const gusto_error *err);

/* Report an input that failed libgusto's checks: err names the first
 * problem; problems_json (from gusto_employee_check) lists every one, under
 * details.errors in JSON mode (as `gusto-connect batch` does) and one per line on a
 * terminal.  Returns the
 * exit status. */
int out_problems(struct cli *cli, const gusto_error *err, const char *problems_json);

/* Report a failure found by the CLI itself.  field and hint may be NULL.
 * Returns exit_code. */
int out_fail(struct cli *cli, int exit_code, const char *code, const char *message,
             const char *field, const char *hint);

/* A usage error: names what was wrong; points at `gusto-connect help COMMAND`.
 * Returns EXIT_USAGE. */
int out_usage(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "gusto-connect: warning: ..." on stderr unless --quiet. */
void out_warn(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write s to f with control characters and invalid UTF-8 replaced by '?',
 * so text from the server cannot drive the terminal. */
void out_text(FILE *f, const char *s);

/* Write s to f, sanitized, cut or padded to exactly `width` display
 * columns; a cut ends in "…" (term_cell). */
void out_cell(FILE *f, const char *s, int width);

/* "key:          value" on stdout, the key padded to 16 columns.  Nothing
 * is printed when value is NULL or empty. */
void out_kv(const char *key, const char *value);

/* The string form of a scalar JSON value for a terminal (numbers and
 * booleans spelled out) in buf; NULL for null, objects and arrays. */
const char *out_scalar(const json_t *v, char *buf, size_t size);

/* The hint to show for err: the CLI's advice for its reason, or the
 * library's hint (buf holds it when made here).  Never NULL. */
const char *out_hint(const gusto_error *err, char *buf, size_t cap);

/* Show rate-limit waits of the run's client on bar (NULL: none again). */
struct progress;
void cli_progress(struct cli *cli, struct progress *bar);

/* The columns to show, from all[0..n): --fields (in its order) or, without
 * it, the default ones (every one with --output wide).  sel holds at least
 * TABLE_MAX_COLS.  Returns 0, or EXIT_USAGE after naming an unknown field,
 * a suggestion and the valid ones. */
int out_columns(struct cli *cli, const struct table_col *all, size_t n,
                const struct table_col **sel, size_t *nsel);

#endif
