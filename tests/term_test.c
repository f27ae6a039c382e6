/* term_test.c - the CLI's terminal layer without a terminal: display widths
 * and cuts (src/cli/term.c), tables fitted to every width from 20 to 200
 * columns (src/cli/table.c), and the progress bar's line at every width
 * (src/sync/progress.c), table-driven.  No server, no pseudo-terminal. */
#include "cli/table.h"
#include "cli/term.h"
#include "sync/progress.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What f wrote, as a string (the caller frees). */
struct mem {
    char *buf;
    size_t len;
    FILE *f;
};

static void mem_open(struct mem *m)
{
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
}

static char *mem_close(struct mem *m)
{
    fclose(m->f);
    return m->buf;
}

static void test_widths(void)
{
    static const struct {
        const char *s;
        int cols;
    } cases[] = {
        {"", 0},
        {"abc", 3},
        {"\xc3\xa9t\xc3\xa9", 3},                  /* été */
        {"e\xcc\x81", 1},                          /* e + combining acute */
        {"\xe8\x8a\xb1\xe5\xad\x90", 4},           /* 花子: double width */
        {"\xff", 1},                               /* not UTF-8: '?' */
        {"a\x1b[31mb", 7},                         /* ESC shows as '?' */
        {"\xe2\x80\xa6", 1},                       /* … */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_LONG(term_text_width(cases[i].s), cases[i].cols, cases[i].s);
}

static void test_cuts(void)
{
    static const struct {
        const char *s;
        int max;
        const char *want;
    } cases[] = {
        {"Maximiliana", 6, "Maxim\xe2\x80\xa6"},
        {"Maximiliana", 11, "Maximiliana"},
        {"Maximiliana", 1, "\xe2\x80\xa6"},
        {"\xe8\x8a\xb1\xe5\xad\x90\xe8\x8a\xb1\xe5\xad\x90", 5, "\xe8\x8a\xb1\xe5\xad\x90\xe2\x80\xa6"},
        /* A double-width character that would cross the edge is left out. */
        {"\xe8\x8a\xb1\xe5\xad\x90\xe8\x8a\xb1\xe5\xad\x90", 4, "\xe8\x8a\xb1\xe2\x80\xa6"},
        {"a\x1b]0;pwned\x07z", -1, "a?]0;pwned?z"},
        {"bad\xff", -1, "bad?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mem m;
        mem_open(&m);
        int used = term_write(m.f, cases[i].s, cases[i].max);
        char *got = mem_close(&m);
        CHECK_STR(got, cases[i].want, cases[i].s);
        CHECK(cases[i].max < 0 || used <= cases[i].max, "%s: %d columns in %d", cases[i].s,
              used, cases[i].max);
        free(got);
    }
}

static const struct table_col COLS[] = {
    {"uuid", "UUID", 36, 2, false, false, TINT_NONE},
    {"name", "NAME", 12, 0, true, false, TINT_NONE},
    {"title", "TITLE", 8, 3, true, false, TINT_NONE},
    {"department", "DEPARTMENT", 8, 4, true, false, TINT_NONE},
    {"status", "STATUS", 6, 1, false, false, TINT_STATUS},
};

/* The widest line of text, in display columns; *lines receives the count. */
static int widest(char *text, int *lines)
{
    int w = 0;
    *lines = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        int lw = term_text_width(line);
        if (lw > w)
            w = lw;
        ++*lines;
        if (!nl)
            break;
        line = nl + 1;
    }
    return w;
}

static void fill(struct table *t)
{
    const char *rows[][5] = {
        {"02dd30e1-a13e-4bd5-8e72-ef5d8deb0f06", "Alice Anderson", "Software Engineer",
         "Engineering", "active"},
        {"9df3c3c7-6ce4-4869-96f6-83c6ebf2fb57",
         "Maximiliana-Josephine-Alexandria Featherstonehaugh-Wolfeschlegelsteinhausen",
         "Senior Vice President of Everything", "Office of the Chief Executive", "terminating"},
        {"bdf2c52c-c10c-4fed-864e-37850d2ba4ef",
         "\xe8\x8a\xb1\xe5\xad\x90\xe8\x8a\xb1\xe5\xad\x90\xe8\x8a\xb1\xe5\xad\x90 "
         "\xe5\xb1\xb1\xe7\x94\xb0\xe5\xb1\xb1\xe7\x94\xb0",
         "", "", "onboarding"},
    };
    for (size_t r = 0; r < 3; r++)
        table_row(t, rows[r]);
}

static void test_table_fits(void)
{
    const struct table_col *cols[5];
    for (int i = 0; i < 5; i++)
        cols[i] = &COLS[i];
    int bad = 0;
    for (int width = 20; width <= 200; width++) {
        struct mem m;
        mem_open(&m);
        struct table t;
        table_init(&t, m.f, cols, 5, width, false);
        fill(&t);
        table_end(&t);
        char *out = mem_close(&m);
        /* The header line is never cut. */
        char *nl = strchr(out, '\n');
        bool header_whole = nl && !memmem(out, (size_t)(nl - out), "\xe2\x80\xa6", 3);
        int lines, w = widest(out, &lines);
        if (w > width || lines != 4 || !header_whole) {
            if (bad++ < 3)
                CHECK(false, "width %d: widest line %d, %d lines", width, w, lines);
        }
        free(out);
    }
    CHECK_LONG(bad, 0, "tables at widths 20..200 that did not fit");
    /* No limit: nothing is cut. */
    struct mem m;
    mem_open(&m);
    struct table t;
    table_init(&t, m.f, cols, 5, 0, false);
    fill(&t);
    table_end(&t);
    char *out = mem_close(&m);
    CHECK(strstr(out, "Featherstonehaugh-Wolfeschlegelsteinhausen") != NULL &&
              !strstr(out, "\xe2\x80\xa6"),
          "width 0 cuts nothing");
    free(out);
    /* 80 columns: name shrinks before the uuid, the department goes first. */
    mem_open(&m);
    table_init(&t, m.f, cols, 5, 80, true);
    fill(&t);
    table_end(&t);
    out = mem_close(&m);
    CHECK(strstr(out, "02dd30e1-a13e-4bd5-8e72-ef5d8deb0f06") != NULL, "the uuid is whole");
    CHECK(strstr(out, "\033[1mUUID") != NULL, "colour: the header is bold");
    CHECK(strstr(out, "\033[32mactive") != NULL, "colour: active is green");
    free(out);
}

static void test_progress_fits(void)
{
    static const struct {
        const char *label;
        size_t done, total;
        const char *detail;
        long wait_ms;
    } cases[] = {
        {"employees", 0, 0, NULL, 0},
        {"employees", 123456, 0, NULL, 0},
        {"employees", 5000, 100000, NULL, 0},
        {"Acme Demo Company With A Very Long Legal Name, Incorporated", 99999, 100000,
         "list page 1000, 1000 requests", 0},
        {"batch", 3, 400, "processing", 65000},
        {"Acme Demo Co", 100000, 100000, "fetch, 123456 requests", 3600000},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int width = 20; width <= 300; width++) {
            struct progress p;
            progress_init(&p, cases[i].label, false, width);
            p.start_ms = 1000;
            p.done = cases[i].done;
            p.total = cases[i].total;
            if (cases[i].detail)
                snprintf(p.detail, sizeof p.detail, "%s", cases[i].detail);
            if (cases[i].wait_ms) {
                p.wait_end_ms = 61000 + cases[i].wait_ms;
                p.wait_server = 1;
            }
            char line[512];
            progress_line(&p, 61000, line, sizeof line);
            int w = term_text_width(line);
            if (w > width - 1 || strchr(line, '\n') || strchr(line, '\r')) {
                if (bad++ < 3)
                    CHECK(false, "case %zu at %d: %d columns: %s", i, width, w, line);
            }
        }
    }
    CHECK_LONG(bad, 0, "progress lines wider than the width less one");
    /* What it shows when there is room. */
    struct progress p;
    progress_init(&p, "employees", false, 160);
    p.start_ms = 1000;
    p.done = 500;
    p.total = 2000;
    p.wait_end_ms = 61000 + 12000;
    p.wait_server = 1;
    char line[512];
    progress_line(&p, 61000, line, sizeof line);
    CHECK(strstr(line, "500/2000") != NULL, "done/total: %s", line);
    CHECK(strstr(line, "8.3/s") != NULL, "the rate: %s", line);
    CHECK(strstr(line, "ETA 3m00s") != NULL, "the ETA: %s", line);
    CHECK(strstr(line, "waiting 12s for Gusto's rate limit") != NULL, "the wait: %s", line);
    /* At 40 columns the wait still shows, in place of the rate. */
    p.width = 40;
    progress_line(&p, 61000, line, sizeof line);
    CHECK(strstr(line, "waiting") != NULL && term_text_width(line) <= 39, "40: %s", line);
}

int main(int argc, char **argv)
{
    term_init_locale();
    static const struct test tests[] = {
        {"widths", test_widths},
        {"cuts", test_cuts},
        {"table_fits", test_table_fits},
        {"progress_fits", test_progress_fits},
    };
    return tu_run(tests, sizeof tests / sizeof tests[0], argc, argv);
}
