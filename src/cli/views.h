/* views.h - what a person sees on a terminal: the employee table, an
 * employee as a key-value block, time-off balances, create warnings, and
 * what a failed update had done. */
#ifndef GUSTO_CLI_VIEWS_H
#define GUSTO_CLI_VIEWS_H

#include "cli/cli.h"

#include <jansson.h>

/* The header of the employee table, then one row per employee, written
 * to stdout as each arrives. */
void view_employee_header(void);
void view_employee_row(const json_t *employee);

/* An employee (as gusto_employee_get returns it) as "key: value" lines. */
void view_employee(const json_t *employee);

/* A gusto_time_off result: balances, then activities. */
void view_time_off(const json_t *time_off);

/* Create warnings on stderr ("gusto-connect: warning: ENTITY: MESSAGE" and the
 * hint), unless --quiet. */
void view_warnings(struct cli *cli, const json_t *warnings);

/* A failed update's report (GUSTO_UPDATE_REPORT) on stderr: the parts
 * applied and not applied, each with its fields, and the failing call's
 * request id. */
void view_update_report(const json_t *report);

#endif
