/* ssn.h - the one SSN normaliser: the nine digits Gusto takes from an SSN
 * written 123456789 or 123-45-6789.  Shared by libgusto (input checks, the
 * create and update bodies, the create plan) and the CLI's update dry run.
 * The sandbox keeps its own check, an independent oracle. */
#ifndef GUSTO_SHARED_SSN_H
#define GUSTO_SHARED_SSN_H

#include <stdbool.h>

/* Fill out with the nine digits of s, given as 123456789 or 123-45-6789,
 * and return true; false (out unspecified) when it is neither or s is
 * NULL.  The caller clears out when done: it is a secret. */
bool ssn_digits(const char *s, char out[10]);

#endif
