/* h_custom_fields.c - custom fields, read only: the company's fields (the
 * ones its employees carry) and one employee's values, each as
 * {"custom_fields": [...]}, all of them or one page with page/per. */
#include "sandbox/sandbox.h"

#include <string.h>

/* {"custom_fields": the page of `all` that page/per ask for} (takes all),
 * with the paging headers when the request pages; 0 after a 422 reply. */
static int reply_fields(struct request *r, json_t *all)
{
    long page, per;
    bool paginate;
    if (!parse_paging(r, &page, &per, &paginate)) {
        json_decref(all);
        return 0;
    }
    return reply_json(r, 200,
                      json_pack("{s:o}", "custom_fields", page_slice(r, all, page, per, paginate)));
}

int h_company_custom_fields(struct request *r)
{
    if (!own_company(r, r->params[0]))
        return reply_not_found(r);
    /* One entry per company field, as the first employee who has it shows it. */
    static const char *sql =
        "SELECT json_extract(f.value, '$.company_custom_field_id'),"
        " json_extract(f.value, '$.name'), json_extract(f.value, '$.type'),"
        " json_extract(f.value, '$.description'), json_extract(f.value, '$.selection_options')"
        " FROM employees e, json_each(e.doc, '$.custom_fields') f"
        " WHERE e.company_uuid=? AND json_type(e.doc, '$.custom_fields')='array'"
        " GROUP BY 1 ORDER BY min(e.seq)";
    sqlite3_stmt *st = db_stmt(r->db, sql);
    if (!st)
        return db_error(r);
    db_bind_text(st, 1, r->params[0]);
    json_t *all = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL)
            continue;
        json_t *opts = sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : db_col_json(st, 4);
        json_t *f = json_pack("{s:s, s:s, s:s}", "uuid", db_col_text(st, 0), "name",
                              db_col_text(st, 1), "type", db_col_text(st, 2));
        if (!f) {
            json_decref(opts);
            continue;
        }
        json_object_set_new(f, "description", sqlite3_column_type(st, 3) == SQLITE_NULL
                                                  ? json_null()
                                                  : json_string(db_col_text(st, 3)));
        json_object_set_new(f, "selection_options", json_is_array(opts) ? opts : json_null());
        if (!json_is_array(opts))
            json_decref(opts);
        json_array_append_new(all, f);
    }
    sqlite3_reset(st);
    return reply_fields(r, all);
}

int h_employee_custom_fields(struct request *r)
{
    const char *emp = r->params[0];
    if (!own_employee(r, emp))
        return reply_not_found(r);
    long rev = 0;
    json_t *doc = store_load(r->db, "employees", emp, &rev);
    json_t *cf = json_object_get(doc, "custom_fields");
    json_t *all = json_is_array(cf) ? json_incref(cf) : json_array();
    json_decref(doc);
    return reply_fields(r, all);
}
