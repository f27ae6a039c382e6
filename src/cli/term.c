/* term.c - terminal width, the colour decision and display-width-aware,
 * sanitising output of text (see term.h). */
#include "cli/term.h"

#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

void term_init_locale(void)
{
    const char *set = setlocale(LC_CTYPE, "");
    const char *cs = set ? nl_langinfo(CODESET) : NULL;
    if (!cs || strcmp(cs, "UTF-8") != 0)
        setlocale(LC_CTYPE, "C.UTF-8");
}

int term_width(int fd)
{
    const char *c = getenv("COLUMNS");
    if (c && *c) {
        char *end;
        long v = strtol(c, &end, 10);
        if (*end == 0 && v > 0 && v < 100000)
            return (int)v;
    }
    if (isatty(fd) != 1)
        return 0;
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

bool term_color(int fd, bool no_color)
{
    const char *nc = getenv("NO_COLOR");
    if (no_color || (nc && *nc))
        return false;
    return isatty(fd) == 1;
}

/* One character of s: its byte length (at least 1), its columns, and
 * whether it is shown as '?' (a control character or not valid UTF-8). */
static size_t next_char(const char *s, int *cols, bool *bad)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    wchar_t wc;
    size_t n = mbrtowc(&wc, s, strlen(s), &st);
    *bad = false;
    if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
        *bad = true;
        *cols = 1;
        return 1;
    }
    if (wc < 0x20 || wc == 0x7F || (wc >= 0x80 && wc < 0xA0)) {
        *bad = true;
        *cols = 1;
        return n;
    }
    int w = wcwidth(wc);
    *cols = w < 0 ? 1 : w;
    return n;
}

int term_text_width(const char *s)
{
    int total = 0;
    while (s && *s) {
        int w;
        bool bad;
        s += next_char(s, &w, &bad);
        total += w;
    }
    return total;
}

/* Write s up to `cols` columns; returns the columns written and sets *rest
 * to what did not fit. */
static int put(FILE *f, const char *s, int cols, const char **rest)
{
    int used = 0;
    while (*s) {
        int w;
        bool bad;
        size_t n = next_char(s, &w, &bad);
        if (cols >= 0 && used + w > cols)
            break;
        if (bad)
            fputc('?', f);
        else
            fwrite(s, 1, n, f);
        used += w;
        s += n;
    }
    *rest = s;
    return used;
}

int term_write(FILE *f, const char *s, int max_cols)
{
    if (!s)
        return 0;
    if (max_cols < 0 || term_text_width(s) <= max_cols) {
        const char *rest;
        return put(f, s, -1, &rest);
    }
    if (max_cols == 0)
        return 0;
    const char *rest;
    int used = put(f, s, max_cols - 1, &rest);
    fputs("\xe2\x80\xa6", f); /* U+2026 HORIZONTAL ELLIPSIS, one column */
    return used + 1;
}

void term_cell(FILE *f, const char *s, int width)
{
    for (int used = term_write(f, s ? s : "", width); used < width; used++)
        fputc(' ', f);
}
