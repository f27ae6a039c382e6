/* normalise.h - the values people write in a spreadsheet, rewritten to the
 * ones Gusto takes: units of pay, FLSA status, US states, dates, pay rates
 * and SSNs.  Only what can be read for sure is rewritten; the rest is
 * refused with what was expected.  No allocation, no state. */
#ifndef GUSTO_CLI_NORMALISE_H
#define GUSTO_CLI_NORMALISE_H

#include <stddef.h>

enum norm_kind {
    NORM_NONE,
    NORM_UNIT,   /* compensation.payment_unit: Hour, Week, Month, Year, Paycheck */
    NORM_FLSA,   /* compensation.flsa_status: Exempt, Salaried Nonexempt, ... */
    NORM_STATE,  /* home_address.state: a two-letter code */
    NORM_DATE,   /* person.date_of_birth, job.hire_date: YYYY-MM-DD */
    NORM_RATE,   /* compensation.rate: a decimal string, no $ or thousands commas */
    NORM_SSN,    /* person.ssn: xxx-xx-xxxx */
};

/* The kind of values the batch field `path` ("compensation.payment_unit")
 * holds; NORM_NONE for the others. */
enum norm_kind norm_kind_for(const char *path);

/* A short name for the kind: "payment_unit", "flsa_status", "state",
 * "date", "rate", "ssn". */
const char *norm_kind_name(enum norm_kind kind);

/* Lower-case letters and digits only, into out (n bytes with the NUL):
 * "Date of Birth" -> "dateofbirth", "Non-Exempt" -> "nonexempt". */
void norm_fold(const char *s, char *out, size_t n);

/* Read `value` (NUL-terminated, not empty) as a value of `kind`.
 * Returns 0 when it is already Gusto's spelling (or a kind this does not
 * rewrite: it is then left to the batch checks), 1 with Gusto's spelling in
 * out[0..outlen), -1 with why[0..whylen) saying why it was refused and what
 * was expected ("is ambiguous: ...; expected M/D/YYYY (US) or YYYY-MM-DD"). */
int norm_value(enum norm_kind kind, const char *value, char *out, size_t outlen, char *why,
               size_t whylen);

#endif
