/* csv.h - a small RFC 4180 CSV parser: records with quoted fields holding separators, quotes and newlines, reported with the line each record starts on; and the detection of the separator (comma, semicolon, tab) from the header. */
#ifndef GUSTO_CLI_CSV_H
#define GUSTO_CLI_CSV_H

#include <stddef.h>

/* Where and why the text is not CSV. */
struct csv_error {
    size_t line;             /* 1-based line of the problem */
    char message[160];
};

/* Called once per record.  `line` is the 1-based line the record starts
 * on; fields[0..nfields) are NUL-terminated and live until the callback
 * returns.  Return 0 to go on, anything else to stop csv_parse() with that
 * value. */
typedef int (*csv_record_fn)(void *userdata, size_t line, char **fields, size_t nfields);

/* Parse text[0..len) (a UTF-8 byte-order mark at the start is skipped).
 * Fields are separated by commas and records by CRLF, LF or CR; a field
 * that starts with a double quote runs to the matching quote, with "" for
 * one quote, and may hold commas and line breaks.  A line break at the very
 * end does not start another record; an empty line is a record of one empty
 * field.  Returns 0 after every record, -1 with *err filled when the text
 * is not CSV (a NUL byte, a quote inside an unquoted field, text after a
 * closing quote, a quote never closed, more than CSV_MAX_FIELDS fields), or
 * the callback's non-zero value. */
#define CSV_MAX_FIELDS 4096
int csv_parse(const char *text, size_t len, csv_record_fn each, void *userdata,
              struct csv_error *err);

/* csv_parse() with `sep` (',', ';' or '\t') between fields instead of the
 * comma; everything else is the same. */
int csv_parse_sep(const char *text, size_t len, char sep, csv_record_fn each,
                  void *userdata, struct csv_error *err);

/* The separator of text[0..len): whichever of tab, semicolon and comma the
 * header record (the first, up to a line break outside quotes; a leading
 * UTF-8 BOM skipped) holds most often outside quotes; a comma on a tie with
 * it or when there is none. */
char csv_detect_separator(const char *text, size_t len);

#endif
