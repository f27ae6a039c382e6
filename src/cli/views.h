/* views.h - what a person sees on a terminal: the employee table, an
 * employee as a key-value block, time-off balances, create warnings, and
 * what a failed update had done. */
#ifndef GUSTO_CLI_VIEWS_H
#define GUSTO_CLI_VIEWS_H

#include "cli/cli.h"
#include "cli/table.h"

#include <jansson.h>

/* The employee table's columns (static): those not wide_only are the
 * default ones.  *n receives the count. */
const struct table_col *view_employee_columns(size_t *n);

/* The text of column `key` for an employee: "name" and "status" are made
 * here (status: active, onboarding, terminating, terminated), the rest are
 * its fields.  Returns buf or a string of e (borrowed); "" when it has none. */
const char *view_employee_field(const json_t *e, const char *key, char *buf, size_t size);

/* A new object (the caller decrefs) with only the members cols name, in
 * that order: "name" and "status" as in the table, null for a missing one. */
json_t *view_employee_pick(const json_t *e, const struct table_col *const *cols, size_t n);

/* An employee (as gusto_employee_get returns it) as "key: value" lines:
 * its status ("active, terminating on DATE" for a termination still to
 * come), the termination date, and the manager as `manager` (its name,
 * or NULL when unknown) with its uuid. */
void view_employee(const json_t *employee, const char *manager);

/* A gusto_time_off result: balances, then activities, as tables that fit
 * cli->width. */
void view_time_off(struct cli *cli, const json_t *time_off);

/* Create warnings on stderr ("gusto-connect: warning: ENTITY: MESSAGE" and the
 * hint), unless --quiet. */
void view_warnings(struct cli *cli, const json_t *warnings);

/* A failed update's report (GUSTO_UPDATE_REPORT) on stderr: the parts
 * applied and not applied, each with its fields, and the failing call's
 * request id. */
void view_update_report(const json_t *report);

#endif
