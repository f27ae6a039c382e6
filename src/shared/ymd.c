/* ymd.c - calendar dates as "YYYY-MM-DD" text (see ymd.h): days are counted
 * with Howard Hinnant's days_from_civil, so no time zone or libc table is
 * involved except in ymd_today(). */
#include "shared/ymd.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

bool ymd_valid(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return false;
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

/* Days since 1970-01-01 of a valid date. */
static long days_of(const char *s)
{
    long y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    long m = (s[5] - '0') * 10 + (s[6] - '0');
    long d = (s[8] - '0') * 10 + (s[9] - '0');
    y -= m <= 2;
    long era = y / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

long ymd_days_between(const char *a, const char *b)
{
    return days_of(b) - days_of(a);
}

/* The civil date of a day count (Hinnant's civil_from_days). */
static void of_days(long z, char out[11])
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long d = doy - (153 * mp + 2) / 5 + 1;
    long m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    char buf[64];
    snprintf(buf, sizeof buf, "%04ld-%02ld-%02ld", y, m, d);
    memcpy(out, buf, 10);
    out[10] = 0;
}

void ymd_add_days(const char *ymd, int days, char out[11])
{
    of_days(days_of(ymd) + days, out);
}

void ymd_today(char out[11])
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}
