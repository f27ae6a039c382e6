/* table.c - sizes a table's columns to a width and writes its rows (see
 * table.h).  Everything goes through term_write(): sanitised, measured in
 * display columns. */
#include "cli/table.h"
#include "cli/term.h"

#include <stdlib.h>
#include <string.h>

void table_init(struct table *t, FILE *out, const struct table_col *const *cols, size_t n,
                int width, bool color)
{
    memset(t, 0, sizeof *t);
    t->out = out;
    t->ncols = n < TABLE_MAX_COLS ? n : TABLE_MAX_COLS;
    for (size_t i = 0; i < t->ncols; i++)
        t->cols[i] = cols[i];
    t->width = width;
    t->color = color;
}

static int total_width(const struct table *t, const int *w)
{
    int sum = 0, shown = 0;
    for (size_t i = 0; i < t->ncols; i++) {
        if (w[i] > 0) {
            sum += w[i];
            shown++;
        }
    }
    return sum + (shown > 1 ? 2 * (shown - 1) : 0);
}

/* The widths: each column's widest cell (or header); then, to fit, the
 * widest flexible column loses a column at a time down to its minimum; and
 * when that is not enough, the least important column is left out and the
 * rest start again from their natural widths. */
static void fix_widths(struct table *t)
{
    int nat[TABLE_MAX_COLS];
    bool out[TABLE_MAX_COLS] = {false};
    for (size_t i = 0; i < t->ncols; i++) {
        nat[i] = term_text_width(t->cols[i]->head);
        for (size_t r = 0; r < t->nheld; r++) {
            int cw = term_text_width(t->held[r * t->ncols + i]);
            if (cw > nat[i])
                nat[i] = cw;
        }
        if (nat[i] < 1)
            nat[i] = 1;
    }
    for (;;) {
        for (size_t i = 0; i < t->ncols; i++)
            t->w[i] = out[i] ? 0 : nat[i];
        if (t->width <= 0)
            break;
        while (total_width(t, t->w) > t->width) {
            int best = -1;
            for (size_t i = 0; i < t->ncols; i++) {
                /* A header is never cut. */
                int floor = t->cols[i]->min > 0 ? t->cols[i]->min : 1;
                if (floor < term_text_width(t->cols[i]->head))
                    floor = term_text_width(t->cols[i]->head);
                if (t->w[i] > floor && t->cols[i]->flex && (best < 0 || t->w[i] > t->w[best]))
                    best = (int)i;
            }
            if (best < 0)
                break;
            t->w[best]--;
        }
        if (total_width(t, t->w) <= t->width)
            break;
        int drop = -1, shown = 0;
        for (size_t i = 0; i < t->ncols; i++) {
            if (out[i])
                continue;
            shown++;
            if (drop < 0 || t->cols[i]->prio >= t->cols[drop]->prio)
                drop = (int)i;
        }
        if (shown <= 1) {
            /* One column left, still too wide: cut it to the width. */
            for (size_t i = 0; i < t->ncols; i++)
                if (!out[i])
                    t->w[i] = t->width;
            break;
        }
        out[drop] = true;
    }
    t->fixed = true;
}

static const char *tint_of(const struct table *t, const struct table_col *c, const char *s)
{
    if (!t->color || c->tint != TINT_STATUS || !s || !*s)
        return NULL;
    if (strncmp(s, "active", 6) == 0)
        return strstr(s, "terminating") ? TERM_YELLOW : TERM_GREEN;
    if (strncmp(s, "terminated", 10) == 0)
        return TERM_RED;
    return TERM_YELLOW;
}

/* One line: the shown columns, two spaces apart, the last one unpadded. */
static void write_line(struct table *t, const char *const *cells, bool header)
{
    size_t last = 0;
    for (size_t i = 0; i < t->ncols; i++)
        if (t->w[i] > 0)
            last = i;
    bool first = true;
    if (header && t->color)
        fputs(TERM_BOLD, t->out);
    for (size_t i = 0; i < t->ncols; i++) {
        if (t->w[i] == 0)
            continue;
        if (!first)
            fputs("  ", t->out);
        first = false;
        const char *s = cells[i] ? cells[i] : "";
        const char *tint = header ? NULL : tint_of(t, t->cols[i], s);
        if (tint)
            fputs(tint, t->out);
        /* No limit: a cell wider than the sampled rows' pushes the rest on. */
        int used = term_write(t->out, s, t->width > 0 ? t->w[i] : -1);
        if (tint)
            fputs(TERM_RESET, t->out);
        if (i != last)
            for (; used < t->w[i]; used++)
                fputc(' ', t->out);
    }
    if (header && t->color)
        fputs(TERM_RESET, t->out);
    fputc('\n', t->out);
}

static void flush_held(struct table *t)
{
    const char *heads[TABLE_MAX_COLS];
    for (size_t i = 0; i < t->ncols; i++)
        heads[i] = t->cols[i]->head;
    fix_widths(t);
    write_line(t, heads, true);
    for (size_t r = 0; r < t->nheld; r++) {
        write_line(t, (const char *const *)&t->held[r * t->ncols], false);
        for (size_t i = 0; i < t->ncols; i++)
            free(t->held[r * t->ncols + i]);
    }
    free(t->held);
    t->held = NULL;
    t->nheld = 0;
}

int table_row(struct table *t, const char *const *cells)
{
    t->rows++;
    if (t->fixed) {
        write_line(t, cells, false);
        return 0;
    }
    if (!t->held) {
        t->held = calloc(TABLE_SAMPLE_ROWS * t->ncols, sizeof *t->held);
        if (!t->held)
            return -1;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        t->held[t->nheld * t->ncols + i] = strdup(cells[i] ? cells[i] : "");
        if (!t->held[t->nheld * t->ncols + i])
            return -1;
    }
    if (++t->nheld == TABLE_SAMPLE_ROWS)
        flush_held(t);
    return 0;
}

void table_end(struct table *t)
{
    if (!t->fixed)
        flush_held(t);
}
