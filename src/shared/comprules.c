/* comprules.c - Gusto's compensation rules on a compensation's own fields:
 * Paycheck for Owners only, Commission Only paid $0 per Year, the
 * minimum-wage adjustment for Nonexempt only, and the Exempt salary floor
 * (see comprules.h).  Money is compared as integers, never as a double. */
#include "shared/comprules.h"

#include <string.h>

/* A decimal string in ten-thousandths, or -1 when it has more than 10
 * whole digits (then above any floor here). */
static long long ten_thousandths(const char *s)
{
    long long v = 0;
    int whole = 0, frac = -1;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            frac = 0;
            continue;
        }
        if (frac < 0 && ++whole > 10)
            return -1;
        if (frac >= 4)
            continue; /* beyond a ten-thousandth: too small to matter here */
        v = v * 10 + (*p - '0');
        if (frac >= 0)
            frac++;
    }
    for (int f = frac < 0 ? 0 : frac; f < 4; f++)
        v *= 10;
    return v;
}

/* Pay periods in a year for a payment unit (0: not made yearly). */
static long long per_year(const char *unit)
{
    static const struct { const char *unit; long long n; } units[] = {
        {"Hour", 2080}, {"Week", 52}, {"Month", 12}, {"Year", 1}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(unit, units[i].unit) == 0)
            return units[i].n;
    return 0;
}

int comp_rules_check(const char *flsa, const char *unit, const char *rate, bool adjust,
                     struct comp_violation out[4])
{
    int n = 0;
    if (flsa && unit) {
        bool owner = strcmp(flsa, "Owner") == 0, paycheck = strcmp(unit, "Paycheck") == 0;
        if (owner && !paycheck)
            out[n++] = (struct comp_violation){"payment_unit",
                                               "must be Paycheck when flsa_status is Owner"};
        else if (!owner && paycheck)
            out[n++] = (struct comp_violation){
                "payment_unit", "Paycheck is only for flsa_status Owner; use Hour, Week, "
                                "Month or Year"};
    }
    if (flsa && strncmp(flsa, "Commission Only", 15) == 0 &&
        ((unit && strcmp(unit, "Year") != 0) || (rate && ten_thousandths(rate) != 0)))
        out[n++] = (struct comp_violation){
            "flsa_status", "Commission Only is paid per Year at rate \"0.00\""};
    if (adjust && flsa && strcmp(flsa, "Nonexempt") != 0)
        out[n++] = (struct comp_violation){"adjust_for_minimum_wage",
                                           "is only valid with flsa_status Nonexempt"};
    if (flsa && unit && rate && strcmp(flsa, "Exempt") == 0) {
        long long v = ten_thousandths(rate), k = per_year(unit);
        if (k && v >= 0 && v * k < (long long)COMP_EXEMPT_FLOOR_PER_YEAR * 10000)
            out[n++] = (struct comp_violation){
                "rate", "is below the exempt salary floor of $35,568 a year (flsa_status "
                        "Exempt)"};
    }
    return n;
}
