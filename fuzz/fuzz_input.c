/* fuzz_input.c - libFuzzer harness: the JSON the gusto-connect CLI reads (employees create/update input, --data, people batch entries) through parsing, validation, dry-run plans and secret masking. */
#include "cli/dryrun.h"
#include "cli/input.h"
#include "gusto.h"
#include "shared/secretkeys.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void die(const char *what)
{
    fprintf(stderr, "fuzz_input: %s\n", what);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* The CLI's envelopes and dry-run plans go to stdout. */
    if (!freopen("/dev/null", "w", stdout))
        die("cannot silence stdout");
    return 0;
}

static void check_err(const gusto_error *e)
{
    if (!memchr(e->message, 0, sizeof e->message) || !memchr(e->field, 0, sizeof e->field) ||
        !memchr(e->hint, 0, sizeof e->hint))
        die("an error field without its NUL");
}

/* After secret_mask_json(), every ssn and account_number (any depth) is
 * null, "" or text with at most four digits. */
static void check_masked(const json_t *j)
{
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) check_masked(v);
        return;
    }
    if (!json_is_object(j))
        return;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) {
        if (strcasecmp(k, "ssn") == 0 || strcasecmp(k, "account_number") == 0) {
            if (json_is_null(v))
                continue;
            const char *s = json_string_value(v);
            if (!s)
                die("a secret left unmasked (not a string)");
            int digits = 0;
            for (; *s; s++)
                digits += isdigit((unsigned char)*s) != 0;
            if (digits > 4)
                die("a secret left unmasked");
        } else {
            check_masked(v);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;

    gusto_error err;
    memset(&err, 0, sizeof err);
    gusto_code vc = gusto_employee_validate(text, &err);
    check_err(&err);
    gusto_code vu = gusto_employee_validate_update(text, &err);
    check_err(&err);
    /* gusto_employee_check agrees with the validate calls, and lists the
     * first problem first. */
    for (int update = 0; update <= 1; update++) {
        char *problems = NULL;
        gusto_error first;
        gusto_code cc = gusto_employee_check(text, update, &problems, &first);
        check_err(&first);
        if (cc == GUSTO_ENOMEM)
            continue;
        if (cc != (update ? vu : vc))
            die("gusto_employee_check disagrees with the validate call");
        json_t *list = problems ? json_loads(problems, 0, NULL) : NULL;
        if (!json_is_array(list) || (json_array_size(list) == 0) != (cc == GUSTO_OK))
            die("problems that are not an array, or do not match the verdict");
        const char *f0 = json_string_value(json_object_get(json_array_get(list, 0), "field"));
        if (cc != GUSTO_OK && (!f0 || strcmp(f0, first.field) != 0))
            die("the first problem is not the one err names");
        json_decref(list);
        gusto_free(problems);
    }
    char *errors = NULL;
    gusto_batch_validate(text, &errors, &err);
    check_err(&err);
    if (errors) {
        json_t *e = json_loads(errors, 0, NULL);
        if (!json_is_array(e))
            die("batch errors that are not a JSON array");
        json_decref(e);
    }
    gusto_free(errors);

    struct cli cli;
    memset(&cli, 0, sizeof cli);
    cli.json_out = true;
    cli.quiet = true;
    int ec = 0;
    json_t *j = in_parse(&cli, text, size, "input", false, &ec);
    if (j && json_is_object(j)) {
        if (vc == GUSTO_OK) {
            json_t *plan = dryrun_create_plan(&cli, text, &ec);
            if (plan)
                dryrun_print(&cli, plan);
        }
        if (vu == GUSTO_OK) {
            json_t *plan = dryrun_update_plan(j, "11111111-2222-4333-8444-555555555555", false,
                                              NULL);
            if (plan)
                dryrun_print(&cli, plan);
            /* A pay change against an employee read back: old and new pay. */
            json_t *emp = json_loads(
                "{\"jobs\":[{\"uuid\":\"j\",\"primary\":true,\"current_compensation_uuid\":"
                "\"k\",\"compensations\":[{\"uuid\":\"k\",\"rate\":\"1.00\","
                "\"payment_unit\":\"Hour\",\"flsa_status\":\"Nonexempt\","
                "\"effective_date\":\"2025-01-01\"}]}]}", 0, NULL);
            for (int correct = 0; correct < 2; correct++) {
                plan = dryrun_update_plan(j, "11111111-2222-4333-8444-555555555555", correct,
                                          emp);
                if (plan)
                    dryrun_print_pay(&cli, plan, dryrun_pay(j, emp, correct));
            }
            json_decref(emp);
        }
        cli.json_out = false; /* the terminal form too */
        cli.company = "99999999-8888-4777-8666-555555555555";
        json_t *plan = dryrun_create_plan(&cli, text, &ec); /* invalid input: its problems */
        if (plan)
            dryrun_print(&cli, plan);
    }
    if (j) {
        secret_mask_json(j);
        check_masked(j);
    }
    json_decref(j);
    free(text);
    return 0;
}
