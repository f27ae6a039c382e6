/* term.h - what the CLI knows about the terminal: its width (COLUMNS, the
 * tty's size, or none on a pipe), whether to colour (NO_COLOR, --no-color,
 * a tty), and the display width of text (wide and combining characters
 * counted with mbrtowc/wcwidth), with a sanitising writer that cuts text to
 * a number of columns and ends a cut with "…". */
#ifndef GUSTO_CLI_TERM_H
#define GUSTO_CLI_TERM_H

#include <stdbool.h>
#include <stdio.h>

/* Set LC_CTYPE from the environment (a UTF-8 one when the environment's is
 * not, so that Gusto's UTF-8 text measures right).  Call once, first. */
void term_init_locale(void);

/* The width to fit output on fd to: COLUMNS when it is a positive number,
 * else the terminal's (TIOCGWINSZ), else 80 on a terminal whose size is
 * unknown; 0 (no limit) when fd is not a terminal and COLUMNS is unset. */
int term_width(int fd);

/* Should output on fd be coloured?  Not when no_color (--no-color), when
 * NO_COLOR is set to anything non-empty (no-color.org), or when fd is not a
 * terminal. */
bool term_color(int fd, bool no_color);

/* The number of terminal columns s takes once sanitised (a control
 * character or invalid UTF-8 byte shows as '?', one column). */
int term_text_width(const char *s);

/* Write s to f sanitised (as out_text) in at most max_cols columns; when it
 * does not fit, as much as fits in max_cols - 1 and "…".  max_cols < 0:
 * all of it.  Returns the columns written. */
int term_write(FILE *f, const char *s, int max_cols);

/* term_write, then spaces up to exactly `width` columns. */
void term_cell(FILE *f, const char *s, int width);

/* ANSI SGR sequences, or "" when colour is off. */
#define TERM_BOLD "\033[1m"
#define TERM_RED "\033[31m"
#define TERM_GREEN "\033[32m"
#define TERM_YELLOW "\033[33m"
#define TERM_RESET "\033[0m"

#endif
