/* h_tax.c - a company's federal tax details (records.c) and its tax
 * requirements for one state (the registration and deposit-schedule
 * questions Gusto asks of every state, unanswered). */
#include "sandbox/sandbox.h"

#include <stdio.h>
#include <string.h>

int h_federal_tax_details(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    char company[SB_UUID_LEN + 1];
    json_t *d = rec_get(r->db, RK_FEDERAL_TAX, r->params[0], company);
    return d ? reply_json(r, 200, d) : reply_not_found(r);
}

/* A requirement key: stable per (state, name), uuid-shaped as Gusto's. */
static void req_key(const char *state, const char *name, char out[SB_UUID_LEN + 1])
{
    char key[64], h[65];
    snprintf(key, sizeof key, "%.2s/%.40s", state, name);
    sha256_hex(key, h);
    snprintf(out, SB_UUID_LEN + 1, "%.8s-%.4s-4%.3s-8%.3s-%.12s", h, h + 8, h + 13, h + 17,
             h + 20);
}

int h_tax_requirements_state(struct request *r)
{
    const char *state = r->params[1];
    if (!own_company(r, r->params[0]) || check_state(state) != NULL)
        return reply_not_found(r);
    char k1[SB_UUID_LEN + 1], k2[SB_UUID_LEN + 1];
    req_key(state, "withholding_number", k1);
    req_key(state, "deposit_schedule", k2);
    json_t *reg = json_pack(
        "{s:s, s:s, s:s, s:n, s:[{s:s, s:[], s:s, s:s, s:n, s:{s:s, s:n, s:n}, s:b}]}",
        "state", state, "key", "registrations", "label", "Registrations", "effective_from",
        "requirements", "key", k1, "applicable_if", "label", "Withholding Number",
        "description", "Your state withholding account number.", "value", "metadata", "type",
        "account_number", "mask", "prefix", "editable", 1);
    json_t *dep = json_pack(
        "{s:s, s:s, s:s, s:n, s:[{s:s, s:[], s:s, s:s, s:n, s:{s:s, s:[{s:s, s:s},"
        " {s:s, s:s}, {s:s, s:s}]}, s:b}]}",
        "state", state, "key", "depositschedules", "label", "Deposit Schedules",
        "effective_from", "requirements", "key", k2, "applicable_if", "label",
        "Deposit Schedule", "description", "The deposit schedule assigned by the state agency.",
        "value", "metadata", "type", "select", "options", "label", "Semiweekly", "value",
        "Semi-weekly", "label", "Monthly", "value", "Monthly", "label", "Quarterly", "value",
        "Quarterly", "editable", 1);
    if (!reg || !dep) {
        json_decref(reg);
        json_decref(dep);
        return db_error(r);
    }
    return reply_json(r, 200,
                      json_pack("{s:s, s:s, s:[o, o]}", "company_uuid", r->params[0], "state",
                                state, "requirement_sets", reg, dep));
}
