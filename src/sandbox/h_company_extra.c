/* h_company_extra.c - a company's earning types and signatories, as
 * records.c keeps them. */
#include "sandbox/sandbox.h"

int h_earning_types(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    json_t *def = rec_list(r->db, RK_EARNING_DEFAULT, r->params[0]);
    json_t *custom = rec_list(r->db, RK_EARNING_CUSTOM, r->params[0]);
    if (!def || !custom) {
        json_decref(def);
        json_decref(custom);
        return db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o, s:o}", "default", def, "custom", custom));
}

int h_signatories(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    json_t *all = rec_list(r->db, RK_SIGNATORY, r->params[0]);
    return all ? reply_json(r, 200, all) : db_error(r);
}
