/* uuidtext.h - the one check that a text is a UUID as Gusto writes them
 * (8-4-4-4-12 hex digits), shared by libgusto, the CLI, serve and the
 * sandbox: what may go into a request path. */
#ifndef GUSTO_SHARED_UUIDTEXT_H
#define GUSTO_SHARED_UUIDTEXT_H

#include <stdbool.h>

/* True for 36 characters of hex digits (any case) with dashes at 8, 13, 18
 * and 23; NULL is not one. */
bool uuid_text_ok(const char *s);

#endif
