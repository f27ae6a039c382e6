/* comprules.h - Gusto's compensation rules that need only the
 * compensation's own fields (flsa_status, payment_unit, rate,
 * adjust_for_minimum_wage), shared by libgusto's local checks and
 * gusto-sandbox (compiled into each), so both apply one rule.  Sources:
 * docs/sandbox.md, "Jobs and compensations".  Pure functions: no state. */
#ifndef GUSTO_COMPRULES_H
#define GUSTO_COMPRULES_H

#include <stdbool.h>

/* The exempt salary floor: an Exempt rate, made yearly, must reach it. */
#define COMP_EXEMPT_FLOOR_PER_YEAR 35568

/* A broken rule: the field at fault (a literal) and why, as a phrase that
 * follows the field's name ("must be Paycheck when flsa_status is Owner"). */
struct comp_violation {
    const char *field;
    const char *why;
};

/* Check the rules on the fields given: flsa, unit and rate may be NULL (not
 * known), and a rule that needs one of them is then skipped; rate, when
 * given, is a valid decimal string ("62000.00").  Fills out[] and returns
 * how many rules are broken (at most 4). */
int comp_rules_check(const char *flsa, const char *unit, const char *rate, bool adjust,
                     struct comp_violation out[4]);

#endif
