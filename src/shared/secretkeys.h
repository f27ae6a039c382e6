/* secretkeys.h - the one masking policy for JSON keys that hold secrets or
 * personal identifiers, shared by the CLI's masked output (dry runs, echoes)
 * and gusto-connect serve's audit log, so both hide the same keys the same way.
 * Pure functions: no state. */
#ifndef GUSTO_SECRETKEYS_H
#define GUSTO_SECRETKEYS_H

#include <jansson.h>
#include <stddef.h>

enum secret_kind {
    SECRET_NONE,     /* not a secret */
    SECRET_SSN,      /* an SSN or ITIN: "***-**-" and the last 4 digits */
    SECRET_NUMBER,   /* a bank account, routing number or EIN: "****" and the last 4 */
    SECRET_WHOLE,    /* a birthday, token, password, key: "***" */
};

/* How the value of `key` is masked.  The key is compared without case,
 * '_', '-' or spaces, so ssn, SSN, social_security_number, socialSecurityNumber,
 * employee_ssn, accountNumber, routing-number, dateOfBirth and birthday
 * are all caught. */
enum secret_kind secret_key_kind(const char *key);

/* The masked text of a value of that kind into out (cap >= 16).  digits is
 * the value's text (NULL for a value that is not a string or number). */
void secret_mask(enum secret_kind kind, const char *value, char *out, size_t cap);

/* Mask, in place, every value of j (any depth, objects in arrays too)
 * whose key is a secret_key_kind(): strings and integers by their kind,
 * other values as "***".  An empty string stays empty (Gusto's "ssn": ""
 * says there is none and reveals nothing); null stays null.  A value that
 * memory runs out for is replaced by null, never left in clear. */
void secret_mask_json(json_t *j);

#endif
