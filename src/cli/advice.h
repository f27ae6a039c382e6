/* advice.h - what a gusto-connect user should do about a libgusto error,
 * in the CLI's own commands and flags. */
#ifndef GUSTO_CLI_ADVICE_H
#define GUSTO_CLI_ADVICE_H

#include "gusto.h"

#include <stddef.h>

/* The CLI's advice for err->reason, written into buf (cap bytes), or NULL
 * when the library's own hint says it well enough. */
const char *cli_advice(const gusto_error *err, char *buf, size_t cap);

#endif
