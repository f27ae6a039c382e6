/* h_timeoff.c - GET /v1/employees/{employee_uuid}/time_off_activities: the
 * employee's time-off events for one type, oldest first, each carrying the
 * policy balance after it. */
#include "sandbox/sandbox.h"

#include <string.h>

int h_time_off_activities(struct request *r)
{
    const char *emp = r->params[0];
    if (!own_employee(r, emp))
        return reply_not_found(r);
    const char *type = req_query(r, "time_off_type");
    if (!type || !*type)
        return reply_error(r, 422, "time_off_type", "invalid_parameter",
                           "time_off_type is required: vacation or sick");
    if (strcmp(type, "vacation") != 0 && strcmp(type, "sick") != 0)
        return reply_error(r, 422, "time_off_type", "invalid_parameter",
                           "time_off_type must be vacation or sick, got \"%.40s\"", type);
    static const char *sql =
        "SELECT a.policy_uuid, a.time_off_type, p.name, a.event_type, a.event_description,"
        " a.effective_time, a.balance, a.balance_change FROM time_off_activities a"
        " LEFT JOIN time_off_policies p ON p.uuid = a.policy_uuid"
        " WHERE a.employee_uuid=? AND a.time_off_type=? ORDER BY a.id";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return reply_error(r, 500, "request", "internal_error", "database error");
    db_bind_text(st, 1, emp);
    db_bind_text(st, 2, type);
    json_t *out = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *a = json_object();
        json_object_set_new(a, "policy_uuid", json_string(db_col_text(st, 0)));
        json_object_set_new(a, "time_off_type", json_string(db_col_text(st, 1)));
        json_object_set_new(a, "policy_name", sqlite3_column_type(st, 2) == SQLITE_NULL
                                                  ? json_null()
                                                  : json_string(db_col_text(st, 2)));
        json_object_set_new(a, "event_type", json_string(db_col_text(st, 3)));
        json_object_set_new(a, "event_description",
                            sqlite3_column_type(st, 4) == SQLITE_NULL
                                ? json_null()
                                : json_string(db_col_text(st, 4)));
        json_object_set_new(a, "effective_time", json_string(db_col_text(st, 5)));
        json_object_set_new(a, "balance", json_string(db_col_text(st, 6)));
        json_object_set_new(a, "balance_change", json_string(db_col_text(st, 7)));
        json_array_append_new(out, a);
    }
    sqlite3_reset(st);
    return reply_json(r, 200, out);
}
