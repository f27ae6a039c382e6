/* dryrun.h - for --dry-run: the requests `employees create` and `employees
 * update` would send, shown with secrets masked, nothing sent. */
#ifndef GUSTO_CLI_DRYRUN_H
#define GUSTO_CLI_DRYRUN_H

#include "cli/cli.h"

#include <jansson.h>
#include <stdbool.h>

/* The requests gusto_employee_create() would send for input_text, from the
 * library's own plan (gusto_employee_create_plan(), with cli->company), as
 * an array of {"method","path","body"}, secrets masked.  NULL after the
 * problem was reported (every one, for an input that fails the checks),
 * with *exit_code its exit status. */
json_t *dryrun_create_plan(struct cli *cli, const char *input_text, int *exit_code);

/* The same for gusto_employee_update() of `employee_uuid`; correct: the
 * pay is corrected in place (gusto_employee_update_ex's
 * GUSTO_UPDATE_CORRECT_PAY) rather than changed by a new compensation.
 * employee (a gusto_employee_get() result, or NULL when not read) fills in
 * the primary job, the current compensation and the fields it carries. */
json_t *dryrun_update_plan(const json_t *input, const char *employee_uuid, bool correct,
                           const json_t *employee);

/* The pay before and after the input's "compensation", from `employee` (a
 * gusto_employee_get() result): {"old": {rate, payment_unit, flsa_status,
 * effective_date} or null, "new": {...}, "how": "..."}.  New reference. */
json_t *dryrun_pay(const json_t *input, const json_t *employee, bool correct);

/* Print a plan: {"ok":true,"data":{"dry_run":true,"requests":[...]}} in JSON
 * mode, else one request per paragraph.  Secrets are masked.  Consumes
 * `plan`.  Returns 0. */
int dryrun_print(struct cli *cli, json_t *plan);
/* dryrun_print() with the pay change first (`pay` from dryrun_pay(), or
 * NULL; consumed): "pay" beside "requests" in JSON mode. */
int dryrun_print_pay(struct cli *cli, json_t *plan, json_t *pay);

#endif
