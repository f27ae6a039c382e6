/* ymd.h - calendar dates as "YYYY-MM-DD" text, shared by libgusto and
 * gusto-sandbox: the one check of a date, the days between two, a date
 * moved by days, and today by the system clock.  No allocation, no state. */
#ifndef GUSTO_SHARED_YMD_H
#define GUSTO_SHARED_YMD_H

#include <stdbool.h>

/* A real calendar date "YYYY-MM-DD" (1900 and later, leap years known);
 * NULL is not one. */
bool ymd_valid(const char *s);

/* Days from a to b (b - a), both valid dates. */
long ymd_days_between(const char *a, const char *b);

/* out = ymd moved by `days` (negative: back); ymd must be valid. */
void ymd_add_days(const char *ymd, int days, char out[11]);

/* Today by the system clock, in local time. */
void ymd_today(char out[11]);

#endif
