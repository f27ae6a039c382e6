/* table.h - a table for a terminal or a pipe that fits a width: each column
 * has a minimum and a priority; flexible columns shrink to their minimum,
 * then the least important columns are left out, so that no row is wider
 * than the width.  A cut cell ends in "…".  Rows are held until
 * TABLE_SAMPLE_ROWS have come (to size the columns from them), then
 * streamed with those widths, so memory stays flat for any count. */
#ifndef GUSTO_CLI_TABLE_H
#define GUSTO_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TABLE_SAMPLE_ROWS 200
#define TABLE_MAX_COLS 24

/* How a column's cells are coloured (on a colour terminal). */
enum table_tint { TINT_NONE, TINT_STATUS /* active green, terminated red, else yellow */ };

struct table_col {
    const char *key;       /* its --fields name: "uuid", "name" */
    const char *head;      /* its header: "UUID" */
    int min;               /* a flexible column shrinks down to this */
    int prio;              /* 0 most important; the highest is left out first */
    bool flex;             /* may shrink (and cut its cells) */
    bool wide_only;        /* shown with --output wide or --fields only */
    enum table_tint tint;
};

struct table {
    FILE *out;
    const struct table_col *cols[TABLE_MAX_COLS];
    size_t ncols;
    int width;             /* 0: no limit, nothing cut */
    bool color;
    int w[TABLE_MAX_COLS]; /* the widths, once fixed; 0: the column is left out */
    bool fixed;
    char **held;           /* held rows: ncols strings each (owned) */
    size_t nheld;
    size_t rows;           /* rows written or held */
};

/* Start a table of the columns cols[0..n) on out (not owned), at most
 * TABLE_MAX_COLS.  width 0: no limit. */
void table_init(struct table *t, FILE *out, const struct table_col *const *cols, size_t n,
                int width, bool color);

/* Add a row: cells[i] is the text of column i (NULL: empty), copied.
 * Returns 0, or -1 out of memory. */
int table_row(struct table *t, const char *const *cells);

/* Write what is held (the header first, even with no rows) and free it. */
void table_end(struct table *t);

#endif
