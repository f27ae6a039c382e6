/* csv.c - parses RFC 4180 CSV text (comma, semicolon or tab separated) record by record (quoted fields, doubled quotes, embedded line breaks), refusing malformed input with its line number. */
#include "cli/csv.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rec {
    char *buf;               /* the record's fields, each NUL-terminated */
    size_t len, cap;
    size_t *starts;          /* offset of each field in buf */
    size_t nfields, fcap;
    char **ptrs;             /* for the callback */
    size_t pcap;
};

static int put(struct rec *r, char ch)
{
    if (r->len + 1 > r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 256;
        char *nb = realloc(r->buf, nc);
        if (!nb)
            return -1;
        r->buf = nb;
        r->cap = nc;
    }
    r->buf[r->len++] = ch;
    return 0;
}

static int field_start(struct rec *r)
{
    if (r->nfields == r->fcap) {
        size_t nc = r->fcap ? r->fcap * 2 : 16;
        size_t *ns = realloc(r->starts, nc * sizeof *ns);
        if (!ns)
            return -1;
        r->starts = ns;
        r->fcap = nc;
    }
    r->starts[r->nfields++] = r->len;
    return 0;
}

static int fail(struct csv_error *err, size_t line, const char *msg)
{
    if (err) {
        err->line = line;
        snprintf(err->message, sizeof err->message, "%s", msg);
    }
    return -1;
}

int csv_parse(const char *text, size_t len, csv_record_fn each, void *ud,
              struct csv_error *err)
{
    return csv_parse_sep(text, len, ',', each, ud, err);
}

char csv_detect_separator(const char *text, size_t len)
{
    size_t i = 0, comma = 0, semi = 0, tab = 0;
    bool quoted = false;
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        i = 3;
    /* The header record: a quoted cell may hold a separator or a line break. */
    for (; i < len; i++) {
        char ch = text[i];
        if (ch == '"')
            quoted = !quoted; /* "" inside quotes toggles twice: no change */
        else if (!quoted && (ch == '\n' || ch == '\r'))
            break;
        else if (!quoted && ch == ',')
            comma++;
        else if (!quoted && ch == ';')
            semi++;
        else if (!quoted && ch == '\t')
            tab++;
    }
    if (tab > comma && tab >= semi)
        return '\t';
    if (semi > comma)
        return ';';
    return ',';
}

int csv_parse_sep(const char *text, size_t len, char sep, csv_record_fn each, void *ud,
                  struct csv_error *err)
{
    struct rec r = {0};
    size_t i = 0, line = 1;
    int rc = 0;
    if (len >= 3 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB &&
        (unsigned char)text[2] == 0xBF)
        i = 3;
    if (memchr(text + i, 0, len - i)) {
        size_t at = 1;
        for (const char *p = text + i; *p; p++)
            at += *p == '\n';
        free(r.buf);
        return fail(err, at, "the text holds a NUL byte; CSV must be text");
    }
    while (i < len && rc == 0) {
        size_t rec_line = line;
        r.len = 0;
        r.nfields = 0;
        for (;;) { /* one field */
            if (r.nfields >= CSV_MAX_FIELDS) {
                rc = fail(err, rec_line, "a record has more than 4096 fields");
                break;
            }
            if (field_start(&r)) {
                rc = fail(err, line, "out of memory");
                break;
            }
            if (i < len && text[i] == '"') {
                size_t open_line = line;
                i++;
                for (;;) {
                    if (i >= len) {
                        char m[160];
                        snprintf(m, sizeof m, "a quoted field that starts on line %zu is "
                                              "never closed", open_line);
                        rc = fail(err, open_line, m);
                        break;
                    }
                    char ch = text[i++];
                    if (ch == '"') {
                        if (i < len && text[i] == '"') {
                            i++; /* "" is one quote */
                        } else {
                            break;
                        }
                    } else if (ch == '\n' || (ch == '\r' && !(i < len && text[i] == '\n'))) {
                        line++;
                    }
                    if (put(&r, ch)) {
                        rc = fail(err, line, "out of memory");
                        break;
                    }
                }
                if (rc)
                    break;
                if (i < len && text[i] != sep && text[i] != '\r' && text[i] != '\n') {
                    rc = fail(err, line, "text after a closing quote; a quoted field must "
                                         "end at a separator or the end of the line");
                    break;
                }
            } else {
                while (i < len && text[i] != sep && text[i] != '\r' && text[i] != '\n') {
                    if (text[i] == '"') {
                        rc = fail(err, line, "a quote inside an unquoted field; put the "
                                             "whole field in quotes and double the quote "
                                             "(\"\")");
                        break;
                    }
                    if (put(&r, text[i++])) {
                        rc = fail(err, line, "out of memory");
                        break;
                    }
                }
                if (rc)
                    break;
            }
            if (put(&r, 0)) {
                rc = fail(err, line, "out of memory");
                break;
            }
            if (i < len && text[i] == sep) {
                i++;
                continue;
            }
            /* end of the record: a line break or the end of the text */
            if (i < len && text[i] == '\r') {
                i++;
                if (i < len && text[i] == '\n')
                    i++;
            } else if (i < len && text[i] == '\n') {
                i++;
            }
            line++;
            break;
        }
        if (rc)
            break;
        if (r.pcap < r.nfields) {
            char **np = realloc(r.ptrs, r.nfields * sizeof *np);
            if (!np) {
                rc = fail(err, rec_line, "out of memory");
                break;
            }
            r.ptrs = np;
            r.pcap = r.nfields;
        }
        for (size_t f = 0; f < r.nfields; f++)
            r.ptrs[f] = r.buf + r.starts[f];
        rc = each(ud, rec_line, r.ptrs, r.nfields);
    }
    free(r.buf);
    free(r.starts);
    free(r.ptrs);
    return rc;
}
