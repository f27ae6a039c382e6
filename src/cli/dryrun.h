/* dryrun.h - for --dry-run: the requests `employees create` and `employees
 * update` would send, shown with secrets masked, nothing sent. */
#ifndef GUSTO_CLI_DRYRUN_H
#define GUSTO_CLI_DRYRUN_H

#include "cli/cli.h"

#include <jansson.h>

/* The writes gusto_employee_create() makes for `input` (already valid), as
 * an array of {"method","path","body"}.  Ids not known before sending
 * appear as {employee_uuid}, {job_uuid}, ...; `company` may be NULL. */
json_t *dryrun_create_plan(const json_t *input, const char *company);

/* The same for gusto_employee_update() of `employee_uuid`. */
json_t *dryrun_update_plan(const json_t *input, const char *employee_uuid);

/* Print a plan: {"ok":true,"data":{"dry_run":true,"requests":[...]}} in JSON
 * mode, else one request per paragraph.  Secrets are masked.  Consumes
 * `plan`.  Returns 0. */
int dryrun_print(struct cli *cli, json_t *plan);

#endif
