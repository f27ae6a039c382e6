/* apiver.h - Gusto's API versions, as data/api-versions.json lists them:
 * the table built into libgusto and gusto-sandbox (the Makefile turns the
 * JSON into build/gen/api_versions_data.c), parsed once, and the calendar
 * rules that say which versions Gusto accepts on a given day.
 *
 * Shared by the library and the sandbox (compiled into each), so both read
 * one file and apply one rule.  Thread-safe: the table is parsed on first
 * use under pthread_once and never changes afterwards. */
#ifndef GUSTO_APIVER_H
#define GUSTO_APIVER_H

#include <stdbool.h>
#include <stddef.h>

/* The embedded file (generated; not NUL-terminated in meaning, len bytes). */
extern const unsigned char apiver_json[];
extern const unsigned long apiver_json_len;

struct apiver {
    char version[11];       /* "2026-12-01" */
    char released[11];      /* the version's date; Gusto refuses it before */
    char deprecation[11];   /* deprecation start, "" when Gusto says TBD */
    char limited[11];       /* limited support from, "" when TBD */
    char sunset[11];        /* final sunset (last usable day), "" when TBD */
    bool documented;        /* its changes to our endpoints were read */
};

enum apiver_state {
    APIVER_UNKNOWN,         /* not in the table */
    APIVER_FUTURE,          /* released after today */
    APIVER_STABLE,          /* released, not deprecated */
    APIVER_DEPRECATED,      /* deprecated, full support */
    APIVER_LIMITED,         /* deprecated, limited support */
    APIVER_RETIRED          /* past its final sunset */
};

/* The table, oldest version first; *n receives its length.  NULL (and
 * *n = 0) only if the embedded file does not parse, which a test catches. */
const struct apiver *apiver_table(size_t *n);

/* The entry for a version string, or NULL. */
const struct apiver *apiver_find(const char *version);

/* The newest version whose changes are documented: the default. */
const char *apiver_newest_documented(void);

/* The state of v on `today` ("YYYY-MM-DD"); v NULL: APIVER_UNKNOWN.  A
 * version is usable through its sunset day and retired the day after. */
enum apiver_state apiver_state(const struct apiver *v, const char *today);

/* True for STABLE, DEPRECATED and LIMITED: Gusto serves it on that day. */
bool apiver_served(enum apiver_state s);

/* "stable", "deprecated", "limited support", "retired", "future", "unknown". */
const char *apiver_state_name(enum apiver_state s);

/* Every version served on `today`, oldest first, joined by ", " into buf
 * (always NUL-terminated); returns how many. */
size_t apiver_accepted(const char *today, char *buf, size_t len);

/* The oldest / newest version served on `today`, or NULL when none is. */
const struct apiver *apiver_oldest_served(const char *today);
const struct apiver *apiver_newest_served(const char *today);

#endif
