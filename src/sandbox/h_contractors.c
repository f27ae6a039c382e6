/* h_contractors.c - a company's contractors (records.c; none unless
 * seeded) with the list's filters and paging, and one contractor. */
#include "sandbox/sandbox.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* "true" 1, "false" 0, absent -1; anything else -2 after a 422. */
static int flag(struct request *r, const char *name)
{
    const char *v = req_query(r, name);
    if (!v)
        return -1;
    if (strcmp(v, "true") == 0)
        return 1;
    if (strcmp(v, "false") == 0)
        return 0;
    reply_error(r, 422, name, "invalid_parameter", "%s must be true or false, got \"%.20s\"",
                name, v);
    return -2;
}

static bool name_has(const json_t *c, const char *term)
{
    static const char *const keys[] = {"first_name", "last_name", "business_name", "email"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *s = json_string_value(json_object_get(c, keys[i]));
        size_t n = strlen(term);
        for (; s && *s; s++)
            if (strncasecmp(s, term, n) == 0)
                return true;
    }
    return false;
}

int h_contractors_list(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    long page, per;
    bool paginate;
    if (!parse_paging(r, &page, &per, &paginate))
        return 0;
    int onboarded = flag(r, "onboarded"), terminated = flag(r, "terminated");
    if (onboarded == -2 || terminated == -2)
        return 0;
    const char *term = req_query(r, "search_term");
    json_t *all = rec_list(r->db, RK_CONTRACTOR, r->params[0]);
    if (!all)
        return db_error(r);
    json_t *hits = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(all, i, c) {
        bool ob = json_is_true(json_object_get(c, "onboarded"));
        bool gone = json_is_string(json_object_get(c, "dismissal_date"));
        if ((onboarded >= 0 && ob != (onboarded == 1)) ||
            (terminated >= 0 && gone != (terminated == 1)) ||
            (term && *term && !name_has(c, term)))
            continue;
        json_array_append(hits, c);
    }
    json_decref(all);
    return reply_json(r, 200, page_slice(r, hits, page, per, paginate));
}

int h_contractor_get(struct request *r)
{
    char company[SB_UUID_LEN + 1];
    json_t *d = rec_get(r->db, RK_CONTRACTOR, r->params[0], company);
    if (!d || !own_company(r, company)) {
        json_decref(d);
        return reply_not_found(r);
    }
    return reply_json(r, 200, d);
}
