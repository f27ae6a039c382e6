/* normalise.c - rewrites what people write in a spreadsheet (yearly, exempt,
 * texas, 3/1/2025, $52,000) to Gusto's values, refusing what is ambiguous. */
#include "cli/normalise.h"
#include "shared/ymd.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum norm_kind norm_kind_for(const char *path)
{
    static const struct {
        const char *path;
        enum norm_kind kind;
    } T[] = {
        {"compensation.payment_unit", NORM_UNIT}, {"compensation.flsa_status", NORM_FLSA},
        {"home_address.state", NORM_STATE},      {"person.date_of_birth", NORM_DATE},
        {"job.hire_date", NORM_DATE},            {"compensation.rate", NORM_RATE},
        {"person.ssn", NORM_SSN},
    };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
        if (strcmp(T[i].path, path) == 0)
            return T[i].kind;
    return NORM_NONE;
}

const char *norm_kind_name(enum norm_kind kind)
{
    switch (kind) {
    case NORM_UNIT: return "payment_unit";
    case NORM_FLSA: return "flsa_status";
    case NORM_STATE: return "state";
    case NORM_DATE: return "date";
    case NORM_RATE: return "rate";
    case NORM_SSN: return "ssn";
    case NORM_NONE: break;
    }
    return "none";
}

void norm_fold(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; *s && k + 1 < n; s++)
        if (isalnum((unsigned char)*s))
            out[k++] = (char)tolower((unsigned char)*s);
    out[k] = 0;
}

/* Look `value` up (folded) in a table of {spelling, value}; the canonical
 * spellings are in the table as themselves. */
struct word {
    const char *folded;
    const char *value;
};

static int by_table(const struct word *t, const char *value, char *out, size_t outlen,
                    char *why, size_t whylen, const char *expected)
{
    char f[64];
    norm_fold(value, f, sizeof f);
    for (size_t i = 0; t[i].folded; i++) {
        if (strcmp(t[i].folded, f) == 0) {
            if (strcmp(t[i].value, value) == 0)
                return 0;
            snprintf(out, outlen, "%s", t[i].value);
            return 1;
        }
    }
    snprintf(why, whylen, "\"%.60s\" is not %s", value, expected);
    return -1;
}

/* The units of the spec's compensation.payment_unit enum and their common
 * spellings. */
static const struct word UNITS[] = {
    {"hour", "Hour"},         {"hourly", "Hour"},     {"hours", "Hour"},
    {"hr", "Hour"},           {"hrs", "Hour"},        {"perhour", "Hour"},
    {"week", "Week"},         {"weekly", "Week"},     {"weeks", "Week"},
    {"wk", "Week"},           {"perweek", "Week"},    {"month", "Month"},
    {"monthly", "Month"},     {"months", "Month"},    {"mo", "Month"},
    {"permonth", "Month"},    {"year", "Year"},       {"yearly", "Year"},
    {"years", "Year"},        {"yr", "Year"},         {"annual", "Year"},
    {"annually", "Year"},     {"annum", "Year"},      {"perannum", "Year"},
    {"peryear", "Year"},      {"paycheck", "Paycheck"}, {"perpaycheck", "Paycheck"},
    {"paycheque", "Paycheck"}, {NULL, NULL},
};

/* The spec's flsa_status enum; its description names each one's plain
 * word too: Salaried (Exempt), Salaried with overtime (Salaried
 * Nonexempt), Hourly (Nonexempt), Commissioned (Commission Only Exempt),
 * Commissioned with overtime (Commission Only Nonexempt), Owner. */
static const struct word FLSA[] = {
    {"exempt", "Exempt"},
    {"salaried", "Exempt"},
    {"salariedexempt", "Exempt"},
    {"salariednonexempt", "Salaried Nonexempt"},
    {"salariedwithovertime", "Salaried Nonexempt"},
    {"nonexempt", "Nonexempt"},
    {"hourly", "Nonexempt"},
    {"hourlynonexempt", "Nonexempt"},
    {"owner", "Owner"},
    {"commissiononlyexempt", "Commission Only Exempt"},
    {"commissioned", "Commission Only Exempt"},
    {"commissiononlynonexempt", "Commission Only Nonexempt"},
    {"commissionedwithovertime", "Commission Only Nonexempt"},
    {NULL, NULL},
};

/* The states libgusto's checks take (src/lib/input.c): the 50, DC, PR, GU
 * and VI, with their names. */
static const struct word STATES[] = {
    {"alabama", "AL"}, {"alaska", "AK"}, {"arizona", "AZ"}, {"arkansas", "AR"},
    {"california", "CA"}, {"colorado", "CO"}, {"connecticut", "CT"}, {"delaware", "DE"},
    {"districtofcolumbia", "DC"}, {"washingtondc", "DC"}, {"florida", "FL"},
    {"georgia", "GA"}, {"hawaii", "HI"}, {"idaho", "ID"}, {"illinois", "IL"},
    {"indiana", "IN"}, {"iowa", "IA"}, {"kansas", "KS"}, {"kentucky", "KY"},
    {"louisiana", "LA"}, {"maine", "ME"}, {"maryland", "MD"}, {"massachusetts", "MA"},
    {"michigan", "MI"}, {"minnesota", "MN"}, {"mississippi", "MS"}, {"missouri", "MO"},
    {"montana", "MT"}, {"nebraska", "NE"}, {"nevada", "NV"}, {"newhampshire", "NH"},
    {"newjersey", "NJ"}, {"newmexico", "NM"}, {"newyork", "NY"}, {"northcarolina", "NC"},
    {"northdakota", "ND"}, {"ohio", "OH"}, {"oklahoma", "OK"}, {"oregon", "OR"},
    {"pennsylvania", "PA"}, {"rhodeisland", "RI"}, {"southcarolina", "SC"},
    {"southdakota", "SD"}, {"tennessee", "TN"}, {"texas", "TX"}, {"utah", "UT"},
    {"vermont", "VT"}, {"virginia", "VA"}, {"washington", "WA"}, {"westvirginia", "WV"},
    {"wisconsin", "WI"}, {"wyoming", "WY"}, {"puertorico", "PR"}, {"guam", "GU"},
    {"usvirginislands", "VI"}, {"virginislands", "VI"}, {NULL, NULL},
};

static int state(const char *value, char *out, size_t outlen, char *why, size_t whylen)
{
    char f[64];
    norm_fold(value, f, sizeof f);
    if (strlen(f) == 2 && isalpha((unsigned char)f[0]) && isalpha((unsigned char)f[1])) {
        char up[3] = {(char)toupper((unsigned char)f[0]), (char)toupper((unsigned char)f[1]),
                      0};
        for (size_t i = 0; STATES[i].folded; i++) {
            if (strcmp(STATES[i].value, up) == 0) {
                if (strcmp(value, up) == 0)
                    return 0;
                snprintf(out, outlen, "%s", up);
                return 1;
            }
        }
    }
    return by_table(STATES, value, out, outlen, why, whylen,
                    "a US state; expected a two-letter code such as TX or a state's name "
                    "such as Texas");
}

/* ---- dates ---------------------------------------------------------------- */

static const char *const MONTHS[] = {"january", "february", "march",     "april",
                                     "may",     "june",     "july",      "august",
                                     "september", "october", "november", "december"};

/* 1..12 for a month's name or its first three letters (and "sept"), else 0. */
static int month_named(const char *w)
{
    size_t n = strlen(w);
    if (n < 3)
        return 0;
    if (strcmp(w, "sept") == 0)
        return 9;
    for (int m = 0; m < 12; m++)
        if (strcmp(w, MONTHS[m]) == 0 || (n == 3 && strncmp(w, MONTHS[m], 3) == 0))
            return m + 1;
    return 0;
}

#define DATE_EXPECTED "expected YYYY-MM-DD, M/D/YYYY (US order) or a month's name with a " \
                      "four-digit year (March 1, 2025)"

static int ymd_out(const char *value, int y, int m, int d, char *out, size_t outlen,
                   char *why, size_t whylen)
{
    char s[16];
    if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31) {
        snprintf(why, whylen, "\"%.60s\" is not a date; " DATE_EXPECTED, value);
        return -1;
    }
    snprintf(s, sizeof s, "%04d-%02d-%02d", y, m, d);
    if (!ymd_valid(s)) {
        snprintf(why, whylen, "\"%.60s\" is not a real date (%s); " DATE_EXPECTED, value, s);
        return -1;
    }
    if (strcmp(s, value) == 0)
        return 0;
    snprintf(out, outlen, "%s", s);
    return 1;
}

static int date(const char *value, char *out, size_t outlen, char *why, size_t whylen)
{
    /* Split into at most 3 parts: numbers and words. */
    long num[3];
    int digits[3];
    char word[3][16];
    int np = 0, nwords = 0, widx = -1;
    char seps[3] = {0};
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        if (np == 3)
            goto bad;
        word[np][0] = 0;
        if (isdigit((unsigned char)*p)) {
            long v = 0;
            int k = 0;
            while (isdigit((unsigned char)*p) && k < 9) {
                v = v * 10 + (*p - '0');
                p++;
                k++;
            }
            if (isdigit((unsigned char)*p))
                goto bad;
            num[np] = v;
            digits[np] = k;
        } else if (isalpha((unsigned char)*p)) {
            int k = 0;
            while (isalpha((unsigned char)*p)) {
                if (k < 15)
                    word[np][k++] = (char)tolower((unsigned char)*p);
                p++;
            }
            word[np][k] = 0;
            if (*p == '.')
                p++; /* "Mar. 1" */
            num[np] = month_named(word[np]);
            digits[np] = 0;
            if (!num[np])
                goto bad;
            nwords++;
            widx = np;
        } else {
            goto bad;
        }
        np++;
        if (*p == '-' || *p == '/' || *p == '.') {
            if (np <= 2)
                seps[np - 1] = *p;
            p++;
        }
    }
    if (np != 3 || nwords > 1)
        goto bad;
    if (nwords == 1) {
        /* March 1, 2025 / 1 March 2025 / 1-Mar-2025: the year has four digits. */
        int y = -1, d = -1;
        for (int i = 0; i < 3; i++) {
            if (i == widx)
                continue;
            if (digits[i] == 4)
                y = i;
            else if (digits[i] <= 2)
                d = i;
        }
        if (y < 0 || d < 0) {
            snprintf(why, whylen, "\"%.60s\" is ambiguous: the year must have four digits; "
                                  DATE_EXPECTED, value);
            return -1;
        }
        return ymd_out(value, (int)num[y], (int)num[widx], (int)num[d], out, outlen, why,
                       whylen);
    }
    if (seps[0] != seps[1] || !seps[0])
        goto bad;
    if (digits[0] == 4 && digits[1] <= 2 && digits[2] <= 2 && seps[0] != '.')
        return ymd_out(value, (int)num[0], (int)num[1], (int)num[2], out, outlen, why,
                       whylen);
    if (digits[0] <= 2 && digits[1] <= 2 && digits[2] == 4) {
        if (seps[0] == '.') {
            snprintf(why, whylen, "\"%.60s\" is ambiguous: dots usually mean day.month.year; "
                                  DATE_EXPECTED, value);
            return -1;
        }
        if (num[0] > 12 && num[1] <= 12) {
            snprintf(why, whylen, "\"%.60s\" reads as day/month/year, not the US "
                                  "month/day/year; " DATE_EXPECTED, value);
            return -1;
        }
        return ymd_out(value, (int)num[2], (int)num[0], (int)num[1], out, outlen, why,
                       whylen);
    }
    if (digits[0] <= 2 && digits[1] <= 2 && digits[2] == 2) {
        snprintf(why, whylen, "\"%.60s\" is ambiguous: a two-digit year; " DATE_EXPECTED,
                 value);
        return -1;
    }
bad:
    snprintf(why, whylen, "\"%.60s\" is not a date; " DATE_EXPECTED, value);
    return -1;
}

/* ---- money and SSNs ------------------------------------------------------------ */

/* "$52,000.00" -> "52000.00".  Thousands commas must group by three; a
 * value that is not a plain decimal afterwards is left to the checks. */
static int rate(const char *value, char *out, size_t outlen, char *why, size_t whylen)
{
    const char *p = value;
    while (*p == ' ')
        p++;
    bool dollar = *p == '$';
    if (dollar) {
        p++;
        while (*p == ' ')
            p++;
    }
    if (!dollar && !strchr(p, ','))
        return 0;
    char buf[64];
    size_t k = 0;
    int group = -1; /* digits since the last comma, -1 before one */
    size_t lead = 0;
    bool point = false;
    for (; *p && *p != ' '; p++) {
        if (isdigit((unsigned char)*p)) {
            if (!point) {
                if (group >= 0)
                    group++;
                else
                    lead++;
            }
        } else if (*p == ',' && !point) {
            if ((group < 0 && (lead == 0 || lead > 3)) || (group >= 0 && group != 3)) {
                snprintf(why, whylen, "\"%.60s\" is not a pay rate: a comma must separate "
                                      "thousands (52,000.00); the decimal mark is a point",
                         value);
                return -1;
            }
            group = 0;
            continue;
        } else if (*p == '.' && !point) {
            point = true;
        } else {
            return 0; /* not money as we know it: the checks say what is wrong */
        }
        if (k + 1 >= sizeof buf)
            return 0;
        buf[k++] = *p;
    }
    while (*p == ' ')
        p++;
    if (*p || k == 0 || (group >= 0 && group != 3)) {
        if (group >= 0 && group != 3) {
            snprintf(why, whylen, "\"%.60s\" is not a pay rate: a comma must separate "
                                  "thousands (52,000.00); the decimal mark is a point",
                     value);
            return -1;
        }
        return 0;
    }
    buf[k] = 0;
    snprintf(out, outlen, "%s", buf);
    return 1;
}

static int ssn(const char *value, char *out, size_t outlen)
{
    char d[10];
    int n = 0;
    for (const char *p = value; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            if (n == 9)
                return 0;
            d[n++] = *p;
        } else if (*p != ' ' && *p != '-') {
            return 0;
        }
    }
    if (n != 9)
        return 0;
    char s[12];
    snprintf(s, sizeof s, "%.3s-%.2s-%.4s", d, d + 3, d + 5);
    if (strcmp(s, value) == 0)
        return 0;
    snprintf(out, outlen, "%s", s);
    return 1;
}

int norm_value(enum norm_kind kind, const char *value, char *out, size_t outlen, char *why,
               size_t whylen)
{
    out[0] = 0;
    why[0] = 0;
    switch (kind) {
    case NORM_UNIT:
        return by_table(UNITS, value, out, outlen, why, whylen,
                        "a unit of pay; expected Hour, Week, Month, Year or Paycheck (or "
                        "hourly, weekly, monthly, yearly, annual)");
    case NORM_FLSA:
        return by_table(FLSA, value, out, outlen, why, whylen,
                        "an FLSA status; expected Exempt, Salaried Nonexempt, Nonexempt, "
                        "Owner, Commission Only Exempt or Commission Only Nonexempt (or "
                        "exempt, non-exempt, salaried, hourly)");
    case NORM_STATE: return state(value, out, outlen, why, whylen);
    case NORM_DATE: return date(value, out, outlen, why, whylen);
    case NORM_RATE: return rate(value, out, outlen, why, whylen);
    case NORM_SSN: return ssn(value, out, outlen);
    case NORM_NONE: break;
    }
    return 0;
}
