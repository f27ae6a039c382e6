/* timeoff.c - an employee's time-off activities by type, and the balance
 * per policy after its latest activity. */
#include "lib/internal.h"

#include <stdlib.h>
#include <string.h>

gusto_code gusto_time_off(gusto_client *c, const char *uuid, const char *type,
                          char **result, gusto_error *err)
{
    err_clear(err);
    *result = NULL;
    if (!uuid || !input_is_uuid(uuid)) {
        err_set(err, GUSTO_EINVAL, "employee UUID \"%.60s\" is not a UUID", uuid ? uuid : "");
        err_field(err, "employee_uuid");
        return GUSTO_EINVAL;
    }
    const char *types[2] = {"vacation", "sick"};
    int ntypes = 2;
    if (type && *type && strcmp(type, "all") != 0) {
        if (strcmp(type, "vacation") != 0 && strcmp(type, "sick") != 0) {
            err_set(err, GUSTO_EINVAL, "time-off type \"%.40s\" must be vacation, sick or all",
                    type);
            err_field(err, "type");
            return GUSTO_EINVAL;
        }
        types[0] = type;
        ntypes = 1;
    }
    json_t *all = json_array(), *balances = json_array();
    gusto_code rc = GUSTO_OK;
    for (int t = 0; t < ntypes && rc == GUSTO_OK; t++) {
        char *p = xasprintf("/v1/employees/%s/time_off_activities?time_off_type=%s", uuid,
                            types[t]);
        json_t *list = NULL;
        rc = p ? api_json(c, "GET", p, NULL, &list, err) : GUSTO_ENOMEM;
        free(p);
        if (rc == GUSTO_ENOTFOUND && err) {
            snprintf(err->message, sizeof err->message,
                     "employee %.40s was not found in this company", uuid);
            err_hint(err, "find the employee's UUID in the company's employee list");
            err_reason(err, "employee_unknown");
        }
        if (rc != GUSTO_OK)
            break;
        if (!json_is_array(list)) {
            json_decref(list);
            rc = err_set(err, GUSTO_EPROTOCOL, "time_off_activities is not a JSON array");
            break;
        }
        size_t i;
        json_t *a;
        json_array_foreach(list, i, a) {
            json_array_append(all, a);
            const char *pol = json_string_value(json_object_get(a, "policy_uuid"));
            if (!pol)
                continue;
            /* Activities come oldest first: the last one per policy wins. */
            json_t *b = NULL;
            size_t k;
            json_t *x;
            json_array_foreach(balances, k, x) {
                const char *xp = json_string_value(json_object_get(x, "policy_uuid"));
                if (xp && strcmp(xp, pol) == 0)
                    b = x;
            }
            if (!b) {
                b = json_object();
                json_object_set_new(b, "policy_uuid", json_string(pol));
                json_array_append_new(balances, b);
            }
            json_t *name = json_object_get(a, "policy_name");
            json_object_set(b, "policy_name", name ? name : json_null());
            json_object_set(b, "time_off_type", json_object_get(a, "time_off_type"));
            json_t *bal = json_object_get(a, "balance");
            json_object_set(b, "balance", bal ? bal : json_null());
            json_t *when = json_object_get(a, "effective_time");
            json_object_set(b, "as_of", when ? when : json_null());
        }
        json_decref(list);
    }
    if (rc != GUSTO_OK) {
        json_decref(all);
        json_decref(balances);
        return rc;
    }
    json_t *res = json_pack("{s:s, s:o, s:o}", "employee_uuid", uuid, "activities", all,
                            "balances", balances);
    *result = json_text(res);
    json_decref(res);
    return *result ? GUSTO_OK : err_set(err, GUSTO_ENOMEM, "out of memory");
}
