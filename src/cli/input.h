/* input.h - the JSON a command reads (--input FILE, stdin, --data): reading
 * it and refusing what is not JSON before anything is sent. */
#ifndef GUSTO_CLI_INPUT_H
#define GUSTO_CLI_INPUT_H

#include "cli/cli.h"

#include <jansson.h>
#include <stddef.h>

/* Read a command's input: the file `path`, stdin for "-", or stdin when
 * path is NULL and stdin is not a terminal.  With --token-stdin, stdin is
 * taken by the token, so only a file will do.  On success *out receives
 * malloc'd NUL-terminated text (free()) and *len its length, and 0 is
 * returned; otherwise the exit status after the error was printed. */
int in_read(struct cli *cli, const char *path, char **out, size_t *len);

/* Parse `text` as JSON.  `object`: it must be an object.  Returns a new
 * reference, or NULL after printing an error that gives the line, column
 * and byte of the problem (*exit_code = EXIT_VALIDATION).  `what` names the
 * text in messages: "input", "--data". */
json_t *in_parse(struct cli *cli, const char *text, size_t len, const char *what,
                 bool object, int *exit_code);

/* Masking secrets in what a command shows is src/shared/secretkeys.h's
 * secret_mask_json(), the policy serve's audit log uses too. */

#endif
