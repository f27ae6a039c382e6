/* codenames.h - the one table of libgusto's codes as the words of an error
 * envelope's "code" ("invalid_input", "not_found", ...), shared by the CLI
 * and serve so an engine maps them once. */
#ifndef GUSTO_SHARED_CODENAMES_H
#define GUSTO_SHARED_CODENAMES_H

#include "gusto.h"

/* The name of code (static storage); "error" for a value outside the enum. */
const char *code_name_text(gusto_code code);

#endif
